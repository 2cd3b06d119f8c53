#!/usr/bin/env bash
# The tailoring loop (README.md, Tailor): trace min on the starting kernel,
# derive the required Kconfig symbols, let Kconfig make a config from them
# (allnoconfig + KCONFIG_ALLCONFIG), build it (scripts/kernel.sh, cached by
# the config's hash), boot it, trace min again and compare.
#
#   scripts/tailor.sh OUT TAILOR VMRUN REPORT "VM_ARGS" PAYLOAD
#
# Exit codes: 2 usage, 5 the tailored kernel did not boot or the payload did
# not run to its --duration, 6 the footprints differ; kernel.sh's own codes
# pass through.
set -euo pipefail

[ $# -eq 6 ] || {
	echo "usage: scripts/tailor.sh OUT TAILOR VMRUN REPORT \"VM_ARGS\" PAYLOAD" >&2
	exit 2
}
out=$1 tailor=$2 vmrun=$3 report=$4 vm_args=$5 payload=$6
root=$(cd "$(dirname "$0")/.." && pwd)
id=$(basename "$payload")
mkdir -p "$out"
start=$SECONDS
say() { echo "tailor: [$((SECONDS - start))s] $*" >&2; }

# One traced run of the payload on a kernel build tree, into DIR.
trace() {
	# shellcheck disable=SC2086 # VM_ARGS is a list of words
	"$vmrun" run $vm_args --kernel-dir "$1" --payload "$payload" --tracer function \
		--duration 1 --results "$2" --report "$report" >"$2.log" 2>&1 || {
		tail -20 "$2.log" >&2
		[ -f "$2/boot.log" ] && { echo "--- boot.log tail:" >&2; tail -20 "$2/boot.log" >&2; }
		echo "tailor: the run on $1 failed (log: $2.log)" >&2
		exit 5
	}
	exit_status=$(cat "$2/$id.exit")
	[ "$exit_status" = 137 ] || {
		echo "tailor: $id exited $exit_status on $1, not 137 (killed by --duration)" >&2
		exit 5
	}
}

kstart=$("$root/scripts/kernel.sh" aarch64)
say "tracing $id on the starting kernel $kstart"
trace "$kstart" "$out/start"

"$tailor" required --needs "$root/tailor/needs.tsv" --footprint "$id=$out/start/$id.footprint.json" \
	--allconfig "$out/allconfig" --reasons "$out/required.tsv" >&2
ktail=$("$root/scripts/kernel.sh" aarch64 "$out/allconfig")
"$tailor" check --reasons "$out/required.tsv" --config "$ktail/.config" \
	--log "$ktail/allnoconfig.log" >"$out/kconfig.txt"
head -1 "$out/kconfig.txt" >&2

say "tracing $id on the tailored kernel $ktail"
trace "$ktail" "$out/tailored"
rc=0
"$tailor" compare --start "$out/start/$id.footprint.json" --tailored "$out/tailored/$id.footprint.json" \
	--kernel-build "$ktail" >"$out/compare.txt" || rc=$?
head -1 "$out/compare.txt" >&2

row() {
	local k=$1
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$2" \
		"$(grep -c '=y$' "$k/.config")" "$("$tailor" objects --kernel-build "$k")" \
		"$(aarch64-linux-gnu-size "$k/vmlinux" | awk 'NR == 2 { print $1 }')" \
		"$(stat -L -c %s "$k/boot-image")" "$(cat "$k/build-seconds" 2>/dev/null || echo '?')" "$3"
}
{
	echo "| kernel | =y symbols | objects linked | vmlinux text | Image bytes | build s | $id runs |"
	echo "|---|---|---|---|---|---|---|"
	row "$kstart" "starting (kernel.config)" "yes (exit 137)"
	row "$ktail" "tailored" "yes (exit 137)"
} >"$out/table.md"
cat "$out/table.md" >&2
case $rc in
0) say "footprints equal apart from removed objects ($out/compare.txt)" ;;
1) echo "tailor: the footprints differ: $out/compare.txt" >&2; exit 6 ;;
*) exit "$rc" ;;
esac
