#!/usr/bin/env bash
# The issue's table (tailor/README.md): the starting and tailored kernels of
# a `make tailor` run in OUT beside the kernel's own tinyconfig and defconfig
# (built by scripts/kernel.sh, cached like the others), each booted with the
# same initramfs to run the payload. tinyconfig and defconfig have no
# function tracer, so the payload runs there alone (vmrun --tracer none);
# a kernel that cannot run it gets "no" with what its boot showed and which
# of tailor/needs.tsv's symbols its config lacks.
#
#   scripts/tailor-table.sh OUT VMRUN "VM_ARGS" PAYLOAD
#
# Writes OUT/kernels.md (the table and the evidence under it) and
# OUT/tinyconfig/, OUT/defconfig/ (vmrun's results, or its staging
# directory .NAME.tmp/ with boot.log when the guest failed).
# Exit codes: 2 usage, 3 OUT holds no finished `make tailor` run;
# kernel.sh's own codes pass through.
set -euo pipefail

[ $# -eq 4 ] || {
	echo "usage: scripts/tailor-table.sh OUT VMRUN \"VM_ARGS\" PAYLOAD" >&2
	exit 2
}
out=$1 vmrun=$2 vm_args=$3 payload=$4
root=$(cd "$(dirname "$0")/.." && pwd)
id=$(basename "$payload")
for k in start tailored; do
	[ -f "$out/$k/kernel-build" ] || {
		echo "tailor-table: $out/$k/kernel-build missing: run \`make tailor\` first" >&2
		exit 3
	}
done

# The symbols of needs.tsv (what the boot and the measurement need) that
# the .config in $1 does not enable.
lacks() {
	cut -f1 "$root/tailor/needs.tsv" | grep -v '^#' | while read -r s; do
		grep -q "^CONFIG_$s=y$" "$1/.config" || printf '%s ' "$s"
	done
}

# The boot time to init from a vmrun log: its first `init up` line.
boot_time() {
	sed -n 's/^vmrun: \[ *\([0-9.]*\)s\] guest: .*init up.*/\1/p' "$1" | head -1
}

# The tracing runs of `make tailor` in $1: "yes (...)" when every run
# reached its --duration (exit 137, SIGKILL by ftrace_it).
traced_runs() {
	local n=0 e
	for f in "$1"/"$id".*.exit; do
		e=$(cat "$f")
		[ "$e" = 137 ] || {
			echo "no ($(basename "$f"): $e)"
			return
		}
		n=$((n + 1))
	done
	echo "yes (traced, exit 137 at --duration 1, $n runs)"
}

notes=()
# Boots the kernel $2 (a kernel.sh build dir) with the payload alone, into
# OUT/$1; sets cell (the "runs" cell) and boot, adds the evidence to notes.
untraced() {
	local name=$1 k=$2 log=$out/$1.log rc=0 t0
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # VM_ARGS is a list of words
	"$vmrun" run $vm_args --kernel-dir "$k" --payload "$payload" --tracer none \
		--duration 1 --results "$out/$name" >"$log" 2>&1 || rc=$?
	boot=$(boot_time "$log")
	boot=${boot:--}
	if [ "$rc" = 0 ]; then
		local e
		e=$(cat "$out/$name/$id.exit")
		notes+=("$name: booted to init in $boot s; \`$id\` alone: $e; of needs.tsv it lacks (so no trace): $(lacks "$k")")
		if [ "$e" = "signal 9" ]; then
			cell="yes (untraced, still running when killed at --duration 1)"
		else
			cell="no (exit $e)"
		fi
		return
	fi
	local boot_log=$out/.$name.tmp/boot.log ends=""
	[ -s "$boot_log" ] && ends=", ends: $(tail -2 "$boot_log" | tr -d '\r' | tr '\n' ' ' | cut -c1-200)"
	notes+=("$name: vmrun exit $rc after $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.1f') s: $(grep '^vmrun: ' "$log" | grep -v '^vmrun: \[' | head -1 | cut -c1-160); boot.log $(stat -c %s "$boot_log" 2>/dev/null || echo '?') bytes$ends; of needs.tsv it lacks: $(lacks "$k")")
	cell="no (vmrun exit $rc, below)"
}

row() {
	local k=$2 built
	# Every object compiled for the target: not scripts/ and tools/ (host
	# programs), not vmlinux.o (the link of the others).
	built=$(find "$k" \( -path "$k/scripts" -o -path "$k/tools" \) -prune -o -name '*.o' \
		! -name vmlinux.o -print | wc -l)
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
		"$(grep -c '=y$' "$k/.config")" "$built" \
		"$(aarch64-linux-gnu-size "$k/vmlinux" | awk 'NR == 2 { print $1 }')" \
		"$(stat -L -c %s "$k/boot-image")" "$(cat "$k/build-seconds" 2>/dev/null || echo '?')" \
		"$(cat "$k/build-cpu-seconds" 2>/dev/null || echo '?')" "$3" "$4"
}

kstart=$(cat "$out/start/kernel-build") ktail=$(cat "$out/tailored/kernel-build")
ktiny=$("$root/scripts/kernel.sh" aarch64 tinyconfig)
kdef=$("$root/scripts/kernel.sh" aarch64 defconfig)
untraced tinyconfig "$ktiny"
tiny=("$boot" "$cell")
untraced defconfig "$kdef"
def=("$boot" "$cell")
{
	echo "| kernel | =y symbols | objects built | vmlinux text | Image bytes | build s | build CPU s | boot to init s | $id runs |"
	echo "|---|---|---|---|---|---|---|---|---|"
	row "starting (kernel.config)" "$kstart" "$(boot_time "$out/start.log")" "$(traced_runs "$out/start")"
	row "tailored ($(cut -f1 "$out/required.tsv" | sort -u | wc -l) required symbols)" "$ktail" \
		"$(boot_time "$out/tailored.log")" "$(traced_runs "$out/tailored")"
	row "tinyconfig" "$ktiny" "${tiny[@]}"
	row "defconfig" "$kdef" "${def[@]}"
	echo
	for n in "${notes[@]}"; do echo "- $n"; done
} >"$out/kernels.md"
cat "$out/kernels.md"
