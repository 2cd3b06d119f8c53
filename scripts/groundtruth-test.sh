#!/usr/bin/env bash
# Checks a `make groundtruth` result directory (issue 11) and that bad input
# is refused before booting. Usage: groundtruth-test.sh DIR VMRUN PLUGIN VM_ARGS REPORT
set -euo pipefail
dir=$1 vmrun=$2 plugin=$3 vm_args=$4 report=$5
fails=0
no() { echo "groundtruth-test: FAIL: $*" >&2; fails=$((fails + 1)); }

for p in min min.large; do
	grep -qx '# exact: yes (every ftrace function in the ground truth, same hit count)' "$dir/$p.groundtruth" ||
		no "$p: ftrace and the ground truth disagree: $(grep -m3 ^mismatch "$dir/$p.groundtruth")"
	# The run without a tracer never enters the ring buffer.
	rb=$(grep -cE '^k (ring_buffer_|rb_reserve|rb_commit|__rb_reserve|trace_function$)' "$dir/$p.notrace.gt" || true)
	[ "$rb" -eq 0 ] || no "$p.notrace.gt: $rb ring buffer entries without a tracer"
	grep -q '^k function_trace_call$' "$dir/$p.gt" || no "$p.gt: the traced run shows no function_trace_call"
done
for want in 'el0t_64_sync_handler	.*	noinstr' 'el0t_64_sync	.*	assembly' 'rb_erase	.*	file built without the ftrace hook \(lib/' \
	"function_trace_call	.*	ftrace's own code"; do
	grep -qP "^blind\t$want" "$dir/min.groundtruth" || no "min: no blind spot matching '$want'"
done

# With the guest's available_filter_functions, the last class is split.
! grep -qP '^blind\t.*\tnotrace, inline or dropped' "$dir/min.groundtruth" ||
	no "min: blind spots left unsplit although $dir/available_filter_functions is there"
grep -qP '^blind\t.*\t(notrace or inline|traceable but not in the trace)' "$dir/min.groundtruth" ||
	no "min: no blind spot classed notrace/inline or dropped"

kdir=$(scripts/kernel.sh aarch64 2>/dev/null)
# The footprint of the ground truth holds ftrace's and its blind spots:
# more functions, lib/ and the tracer's own code among them.
functions() { sed -n 's/^functions: \([0-9]*\) .*/\1/p'; }
ft=$("$report" footprint "$dir/min.trace" --kernel-build "$kdir" | functions)
gt=$("$report" footprint "$dir/min.trace" --kernel-build "$kdir" --groundtruth "$dir/min.gt")
[ "$(functions <<<"$gt")" -gt "$ft" ] || no "footprint --groundtruth: $(functions <<<"$gt") functions, ftrace's $ft"
for s in 'LIBRARY CODE' 'TRACING'; do
	grep -q "^$s	" <<<"$gt" || no "footprint --groundtruth: no $s subsystem"
done
# The study's tables next to the ground truth's: every difference has its
# reason (ftrace_report/src/study.rs), the rows ftrace cannot see included.
for p in min min.large; do
	study=$("$report" footprint "$dir/$p.trace" --kernel-build "$kdir" --groundtruth "$dir/$p.gt" --study)
	! grep -F '| ? |' <<<"$study" || no "$p: footprint --study --groundtruth: a difference without a reason"
done

# Bad input, refused before booting (exit 3, one line).
bad() {
	local what=$1 want=$2; shift 2
	set +e
	# shellcheck disable=SC2086
	err=$("$vmrun" run $vm_args --kernel-dir "$kdir" --payload out/aarch64/min --results "$dir/bad" \
		--groundtruth "$plugin" "$@" 2>&1 >/dev/null)
	rc=$?
	set -e
	[ $rc -eq 3 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "$want" <<<"$err" ||
		no "$what: exit $rc, message: $err"
}
bad "system QEMU 7.2" "plugin needs >= 9.2" --qemu qemu-system-aarch64
other=$(mktemp)
sed 's/^ffff8000805d0000 B _end$/ffff8000805e0000 B _end/; t; s/^\(ffff[0-9a-f]*\) B _end$/ffff800090000000 B _end/' "$kdir/System.map" >"$other"
qemu=$(scripts/qemu-plugin.sh)/bin/qemu-system-aarch64
bad "System.map of another kernel" "not the System.map of" --qemu "$qemu" --map "$other"
rm -f "$other"
[ ! -e "$dir/bad" ] || no "a refused run left $dir/bad"

[ $fails -eq 0 ] || exit 1
echo "groundtruth-test: exact for min and min.large, blind spot classes present, no ring buffer without a tracer, footprint of the ground truth ($(functions <<<"$gt") functions, ftrace's $ft), bad input refused"
