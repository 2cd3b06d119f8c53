#!/usr/bin/env bash
# Checks a `make groundtruth` result directory (issue 11) of one guest and
# that bad input is refused before booting; the footprint of the ground
# truth, which does not depend on the guest, on aarch64 only.
# Usage: groundtruth-test.sh ARCH DIR VMRUN PLUGIN VM_ARGS REPORT
set -euo pipefail
arch=$1 dir=$2 vmrun=$3 plugin=$4 vm_args=$5 report=$6
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
# Known members of each class.
case $arch in
aarch64) members=('el0t_64_sync_handler	.*	noinstr' 'el0t_64_sync	.*	assembly'
	'rb_erase	.*	file built without the ftrace hook \(lib/') ;;
x86_64) members=('do_syscall_64	.*	noinstr' 'entry_SYSCALL_64	.*	assembly'
	'rb_erase	.*	file built without the ftrace hook \(lib/') ;;
esac
for want in "${members[@]}" "function_trace_call	.*	ftrace's own code"; do
	grep -qP "^blind\t$want" "$dir/min.groundtruth" || no "min: no blind spot matching '$want'"
done

# With the guest's available_filter_functions, the last class is split.
! grep -qP '^blind\t.*\tnotrace, inline or dropped' "$dir/min.groundtruth" ||
	no "min: blind spots left unsplit although $dir/available_filter_functions is there"
grep -qP '^blind\t.*\t(notrace or inline|traceable but not in the trace)' "$dir/min.groundtruth" ||
	no "min: no blind spot classed notrace/inline or dropped"

kdir=$(scripts/kernel.sh "$arch" 2>/dev/null)
footprint=
if [ "$arch" = aarch64 ]; then
	# The footprint of the ground truth holds ftrace's and its blind spots:
	# more functions, lib/ and the tracer's own code among them.
	functions() { sed -n 's/^functions: \([0-9]*\) .*/\1/p'; }
	ft=$("$report" footprint "$dir/min.trace" --kernel-build "$kdir" | functions)
	gt=$("$report" footprint "$dir/min.trace" --kernel-build "$kdir" --groundtruth "$dir/min.gt")
	[ "$(functions <<<"$gt")" -gt "$ft" ] || no "footprint --groundtruth: $(functions <<<"$gt") functions, ftrace's $ft"
	for s in 'LIBRARY CODE' 'TRACING'; do
		grep -q "^$s	" <<<"$gt" || no "footprint --groundtruth: no $s subsystem"
	done
	# The study's tables next to the ground truth's: every difference has
	# its reason (kernel_footprint/src/study.rs), the rows ftrace cannot see
	# included.
	for p in min min.large; do
		study=$("$report" footprint "$dir/$p.trace" --kernel-build "$kdir" --groundtruth "$dir/$p.gt" --study)
		! grep -F '| ? |' <<<"$study" || no "$p: footprint --study --groundtruth: a difference without a reason"
	done
	footprint=", footprint of the ground truth ($(functions <<<"$gt") functions, ftrace's $ft)"
fi

# Bad input, refused before booting (one line; exit 2 usage, 3 input).
bad() {
	local what=$1 code=$2 want=$3; shift 3
	set +e
	# shellcheck disable=SC2086
	err=$("$vmrun" run $vm_args --kernel-dir "$kdir" --payload "out/$arch/min" --results "$dir/bad" \
		--groundtruth "$plugin" "$@" 2>&1 >/dev/null)
	rc=$?
	set -e
	[ $rc -eq "$code" ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "$want" <<<"$err" ||
		no "$what: exit $rc, message: $err"
}
bad "system QEMU 7.2" 3 "plugin needs >= 9.2" --qemu "qemu-system-$arch"
qemu=$(scripts/qemu.sh plugin "$arch")/bin/qemu-system-$arch
bad "KVM" 2 "needs --accel tcg" --qemu "$qemu" --accel kvm
# Another kernel: the same one with a larger _end.
other=$(mktemp)
end=$(awk '$3 == "_end" { print $1 }' "$kdir/System.map")
sed "s/^$end B _end\$/$(printf '%016x' $((0x$end + 0x10000))) B _end/" "$kdir/System.map" >"$other"
! cmp -s "$kdir/System.map" "$other" || no "no _end in $kdir/System.map"
bad "System.map of another kernel" 3 "not the System.map of" --qemu "$qemu" --map "$other"
rm -f "$other"
[ ! -e "$dir/bad" ] || no "a refused run left $dir/bad"

[ $fails -eq 0 ] || exit 1
echo "groundtruth-test: $arch: exact for min and min.large, blind spot classes present, no ring buffer without a tracer$footprint, bad input refused"
