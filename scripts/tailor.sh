#!/usr/bin/env bash
# The tailoring loop (tailor/README.md): trace the payload RUNS times in one
# boot of the starting kernel, derive the required Kconfig symbols, let
# Kconfig make a config from them (allnoconfig + KCONFIG_ALLCONFIG), build
# it (scripts/kernel.sh, cached by the config's hash), boot it, trace the
# payload RUNS times again and compare, separating run-to-run noise from
# differences and attributing each difference to the options removed.
#
#   scripts/tailor.sh OUT TAILOR VMRUN REPORT "VM_ARGS" PAYLOAD [RUNS]
#
# RUNS (default 3): runs of the payload in each boot, as copies named
# PAYLOAD.1 .. PAYLOAD.RUNS (vmrun's run ids are file names).
# Writes OUT/times.tsv: the seconds of each step.
# When a difference stays unexplained, the options that changed which other
# code ran (tailor compare --add-back) are added to the required symbols
# with their evidence (OUT/add-back.tsv) and the loop runs once more (a new
# kernel, cached by its config's hash); OUT/compare.before-add-back.txt
# keeps the first comparison. When the tailored kernel still fails (no
# boot, a run that did not reach its --duration, an unexplained difference),
# `tailor bisect` finds the options of the starting config it needs, one
# kernel per step (scripts/tailor-try.sh; OUT/bisect/, OUT/bisect.tsv), and
# the loop runs once more with them (OUT/compare.before-bisect.txt keeps the
# comparison before, if there was one).
# TAILOR_DROP="SYMBOL..." takes required symbols away on purpose, to check
# that the bisection finds them again.
# TAILOR_GROUNDTRUTH=DIR (results of `make groundtruth` on the starting
# kernel: DIR/ID.trace and DIR/ID.gt) adds the ground truth's footprint,
# ftrace's blind spots included, to the runs' footprints (label
# ID.groundtruth in required.tsv).
# Exit codes: 2 usage, 5 the tailored kernel did not boot or the payload did
# not run to its --duration, 6 the footprints differ by a function nothing
# explains; kernel.sh's own codes pass through.
set -euo pipefail

[ $# -eq 6 ] || [ $# -eq 7 ] || {
	echo "usage: scripts/tailor.sh OUT TAILOR VMRUN REPORT \"VM_ARGS\" PAYLOAD [RUNS]" >&2
	exit 2
}
out=$1 tailor=$2 vmrun=$3 report=$4 vm_args=$5 payload=$6 runs=${7:-3}
[[ $runs =~ ^[1-9][0-9]?$ ]] || {
	echo "tailor.sh: RUNS '$runs' is not a number from 1 to 99" >&2
	exit 2
}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/tailor-run.sh
. "$root/scripts/tailor-run.sh"
id=$(basename "$payload")
mkdir -p "$out/payloads"
start=$SECONDS
say() { echo "tailor: [$((SECONDS - start))s] $*" >&2; }
: >"$out/times.tsv"
step_start=$SECONDS
step() {
	printf '%s\t%s\n' "$1" $((SECONDS - step_start)) >>"$out/times.tsv"
	step_start=$SECONDS
}

gt=
if [ -n "${TAILOR_GROUNDTRUTH:-}" ]; then
	gt=$TAILOR_GROUNDTRUTH/$id
	[ -f "$gt.gt" ] && [ -f "$gt.trace" ] || {
		echo "tailor.sh: TAILOR_GROUNDTRUTH: no $gt.gt and $gt.trace (make groundtruth writes them)" >&2
		exit 2
	}
fi

ids=() footprint_args=() id_args=()
for i in $(seq "$runs"); do
	cp "$payload" "$out/payloads/$id.$i"
	ids+=("$id.$i")
	footprint_args+=(--footprint "$id.$i=$out/start/$id.$i.footprint.json")
	id_args+=(--id "$id.$i")
done

# RUNS traced runs of the payload in one boot of a kernel build tree, into
# DIR; the boot (vmrun's start to the guest's init) and trace times go to
# times.tsv under NAME. Fails when the guest failed or a run did not reach
# its --duration.
trace() {
	local t0=$SECONDS
	tailor_run "$vmrun" "$report" "$vm_args" "$1" "$2" "$out/payloads" "${ids[@]}" || {
		if [[ $run_failure == vmrun* ]]; then
			tail -20 "$2.log" >&2
			# vmrun keeps a failed boot in its staging directory.
			local boot_log
			boot_log=$(dirname "$2")/.$(basename "$2").tmp/boot.log
			[ -f "$boot_log" ] && { echo "--- boot.log tail:" >&2; tail -20 "$boot_log" >&2; }
		fi
		echo "tailor: the run on $1 failed: $run_failure (log: $2.log)" >&2
		return 1
	}
	local boot
	boot=$(sed -n 's/^vmrun: \[ *\([0-9.]*\)s\] guest: .*init up.*/\1/p' "$2.log" | head -1)
	printf '%s boot\t%s\n%s trace\t%s\n' "$3" "${boot:-?}" "$3" \
		"$(awk -v b="${boot:-0}" -v t=$((SECONDS - t0)) 'BEGIN { printf "%.1f", t - b }')" >>"$out/times.tsv"
	step_start=$SECONDS
}

kstart=$("$root/scripts/kernel.sh" aarch64)
step "starting kernel (kernel.sh)"
say "tracing $id $runs times on the starting kernel $kstart"
trace "$kstart" "$out/start" "starting" || exit 5

if [ -n "$gt" ]; then
	# footprint refuses a record of another kernel build (exit 12).
	"$report" footprint --json --groundtruth "$gt.gt" "$gt.trace" --kernel-build "$kstart" \
		>"$out/start/$id.groundtruth.footprint.json"
	footprint_args+=(--groundtruth "$id.groundtruth=$out/start/$id.groundtruth.footprint.json")
	say "the ground truth of $gt.gt is an input too"
fi

drop_args=()
for s in ${TAILOR_DROP:-}; do drop_args+=(--drop "$s"); done
# The required symbols from needs.tsv and the footprint of every run (and
# ADDED..., what the loop added back), Kconfig, the build, the runs on the
# tailored kernel, the comparison; rc: 0 equal, 1 an unexplained difference,
# 5 no boot or a run that did not reach its --duration.
tailored_loop() {
	local added_args=()
	for n in "$@"; do added_args+=(--added "$n"); done
	"$tailor" required --needs "$root/tailor/needs.tsv" "${footprint_args[@]}" "${drop_args[@]}" \
		"${added_args[@]}" --allconfig "$out/allconfig" --reasons "$out/required.tsv" >&2
	step "derivation"
	ktail=$("$root/scripts/kernel.sh" aarch64 "$out/allconfig")
	step "Kconfig and build (kernel.sh; 0 when cached)"
	"$tailor" check --reasons "$out/required.tsv" --config "$ktail/.config" \
		--log "$ktail/allnoconfig.log" >"$out/kconfig.txt"
	head -1 "$out/kconfig.txt" >&2
	say "tracing $id $runs times on the tailored kernel $ktail"
	rm -rf "$out/tailored" "$out/compare.txt"
	rc=0
	trace "$ktail" "$out/tailored" "tailored" || {
		rc=5
		return
	}
	"$tailor" compare --start "$out/start" --tailored "$out/tailored" "${id_args[@]}" \
		--start-build "$kstart" --tailored-build "$ktail" --add-back "$out/added-back.tsv" \
		>"$out/compare.txt" || rc=$?
	step "compare"
	head -1 "$out/compare.txt" >&2
}
tailored_loop
added=()
# Unexplained differences: add back the options that changed which other
# code ran, with their evidence, once.
if [ "$rc" = 1 ] && [ -s "$out/added-back.tsv" ]; then
	cp "$out/compare.txt" "$out/compare.before-add-back.txt"
	cp "$out/added-back.tsv" "$out/add-back.tsv"
	added+=("$out/add-back.tsv")
	say "adding back $(cut -f1 "$out/add-back.tsv" | tr '\n' ' ')and deriving again"
	cat "$out/add-back.tsv" >&2
	tailored_loop "${added[@]}"
fi
# Still failing: bisect over the options the starting config has and the
# tailored one lacks, then derive once more with those it needed (the
# kernel of the last passing step, cached: its allconfig is the same).
if [ "$rc" != 0 ]; then
	say "bisecting over the options of the starting config the tailored kernel lacks"
	[ -f "$out/compare.txt" ] && cp "$out/compare.txt" "$out/compare.before-bisect.txt"
	brc=0
	TAILOR_BIN=$tailor TAILOR_VMRUN=$vmrun TAILOR_REPORT=$report TAILOR_VM_ARGS=$vm_args \
		TAILOR_OUT=$out TAILOR_KSTART=$kstart TAILOR_IDS="${ids[*]}" \
		"$tailor" bisect --allconfig "$out/allconfig" --start-config "$kstart/.config" \
		--tailored-config "$ktail/.config" --try "$root/scripts/tailor-try.sh" \
		--dir "$out/bisect" --needs-out "$out/bisect.tsv" || brc=$?
	step "bisect ($(wc -l <"$out/bisect/steps.txt" 2>/dev/null || echo 0) kernels)"
	[ "$brc" = 0 ] || [ "$brc" = 1 ] || exit "$brc"
	if [ -s "$out/bisect.tsv" ]; then
		cat "$out/bisect.tsv" >&2
		added+=("$out/bisect.tsv")
		tailored_loop "${added[@]}"
	fi
fi
if [ "$rc" = 5 ]; then
	echo "tailor: the tailored kernel $ktail did not boot or $id did not run to its --duration, and bisection found no option that helps (see $out/bisect/steps.txt)" >&2
	exit 5
fi

row() {
	local k=$1
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" \
		"$(grep -c '=y$' "$k/.config")" "$("$tailor" objects --kernel-build "$k")" \
		"$(aarch64-linux-gnu-size "$k/vmlinux" | awk 'NR == 2 { print $1 }')" \
		"$(stat -L -c %s "$k/boot-image")" "$(cat "$k/build-seconds" 2>/dev/null || echo '?')" \
		"$(grep "^$3 boot" "$out/times.tsv" | tail -1 | cut -f2)" "yes (exit 137, $runs runs)"
}
{
	echo "| kernel | =y symbols | objects linked | vmlinux text | Image bytes | build s | boot to init s | $id runs |"
	echo "|---|---|---|---|---|---|---|---|"
	row "$kstart" "starting (kernel.config)" starting
	row "$ktail" "tailored" tailored
} >"$out/table.md"
cat "$out/table.md" >&2
case $rc in
0) say "footprints equal apart from functions of removed options and noise ($out/compare.txt)" ;;
1)
	grep '^only-.*: unexplained$' "$out/compare.txt" >&2
	echo "tailor: the footprints differ by functions no removed option explains: $out/compare.txt" >&2
	exit 6
	;;
*) exit "$rc" ;;
esac
