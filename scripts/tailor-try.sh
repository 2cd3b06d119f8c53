#!/usr/bin/env bash
# One step of `tailor bisect` (tailor/README.md, Bisection), run by
# scripts/tailor.sh: build the kernel of ALLCONFIG (scripts/kernel.sh,
# cached), boot it, trace the payload's runs and compare with the starting
# kernel's, as the loop does.
#
#   scripts/tailor-try.sh ALLCONFIG DIR
#
# The loop's settings come from the environment: TAILOR_BIN, TAILOR_VMRUN,
# TAILOR_REPORT, TAILOR_VM_ARGS, TAILOR_OUT (its payloads/ and start/),
# TAILOR_KSTART (the starting kernel's build tree), TAILOR_IDS (the run
# ids). Writes DIR/note (one line: why it passed or failed), DIR/run/ (vmrun's
# results), DIR/run.log, DIR/compare.txt.
# Exit codes: 0 the kernel booted, every run reached its --duration and no
# difference is unexplained; 1 it did not (DIR/note says what); 2 usage;
# kernel.sh's and tailor's other failures as 3: the bisection stops.
set -euo pipefail

[ $# -eq 2 ] || {
	echo "usage: scripts/tailor-try.sh ALLCONFIG DIR" >&2
	exit 2
}
allconfig=$1 dir=$2
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/tailor-run.sh
. "$root/scripts/tailor-run.sh"
mkdir -p "$dir"
note() { echo "$*" >"$dir/note"; }

k=$("$root/scripts/kernel.sh" aarch64 "$allconfig") || exit 3
read -ra ids <<<"$TAILOR_IDS"
id_args=()
for id in "${ids[@]}"; do id_args+=(--id "$id"); done
rm -rf "$dir/run"
tailor_run "$TAILOR_VMRUN" "$TAILOR_REPORT" "$TAILOR_VM_ARGS" "$k" "$dir/run" "$TAILOR_OUT/payloads" "${ids[@]}" || {
	if [[ $run_failure == vmrun* ]]; then
		run_failure+=": $(grep -v '^vmrun: \[' "$dir/run.log" | grep '^vmrun: ' | head -1 | cut -c1-150)"
	fi
	note "$run_failure"
	exit 1
}
rc=0
"$TAILOR_BIN" compare --start "$TAILOR_OUT/start" --tailored "$dir/run" "${id_args[@]}" \
	--start-build "$TAILOR_KSTART" --tailored-build "$k" >"$dir/compare.txt" || rc=$?
case $rc in
0) note "booted, runs to --duration, no unexplained difference" ;;
1)
	note "unexplained: $(sed -n 's/^only-\([a-z]*\): \([^ ]*\) .*: unexplained$/\2 (\1)/p' "$dir/compare.txt" |
		head -5 | tr '\n' ' ')"
	exit 1
	;;
*) exit 3 ;;
esac
