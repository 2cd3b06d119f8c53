#!/usr/bin/env bash
# Builds (once) the guest kernel of the VM flow and prints its build directory.
#
#   scripts/kernel.sh aarch64|x86_64 [ALLCONFIG|defconfig|tinyconfig]
#
# With ALLCONFIG (a file of CONFIG_X=y lines, e.g. from `make tailor`) the
# config is `make allnoconfig KCONFIG_ALLCONFIG=ALLCONFIG` instead, cached
# as <arch>-<version>-allno-<hash of ALLCONFIG>. With the word defconfig or
# tinyconfig it is the kernel's own `make defconfig`/`make tinyconfig`
# (tailor/README.md's table), cached as <arch>-<version>-defconfig|tinyconfig.
#
# Source: Debian's linux-source-6.12 (/usr/src/linux-source-6.12.tar.xz,
# installed by scripts/deps.sh). Config: kernel.config (aarch64) or
# kernel/x86_64.config, completed with `make olddefconfig`. The build lives
# outside the work tree, keyed by architecture, source package version and
# config hash, so reruns, fresh clones and CI reuse it:
#   ${MPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/min_prog_trace}/kernel/<arch>-<version>-<hash>/
# It keeps the whole build tree: the boot image, vmlinux, System.map, .config,
# and what the build took: build-seconds (wall, from the config step to the
# image) and build-cpu-seconds (user + system of every process of the image's
# make), without the wait for another builder or the source's extraction,
# so that a cached kernel still says how long it took to build.
# Progress goes to stderr, the build directory to stdout (last line).
# Exit codes: 2 usage, 3 missing source or toolchain (run `make deps`),
# 4 build failure (the tail of the build log is shown).
set -euo pipefail

arch=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$arch" in
aarch64)
	karch=arm64 cross=aarch64-linux-gnu- image=arch/arm64/boot/Image
	config=$root/kernel.config
	;;
x86_64)
	karch=x86 cross="" image=arch/x86/boot/bzImage
	config=$root/kernel/x86_64.config
	;;
*)
	echo "kernel.sh: unknown architecture '$arch': use aarch64 or x86_64" >&2
	exit 2
	;;
esac
allconfig=${2:-} own=""
case "$allconfig" in
"") ;;
defconfig | tinyconfig) own=$allconfig allconfig="" ;;
*)
	[ -r "$allconfig" ] || {
		echo "kernel.sh: cannot read $allconfig" >&2
		exit 2
	}
	config=$(realpath "$allconfig")
	;;
esac

tarball=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
if [ ! -r "$tarball" ]; then
	echo "kernel.sh: $tarball is missing: run \`make deps\` (Debian package linux-source-6.12)" >&2
	exit 3
fi
if ! command -v "${cross}gcc" >/dev/null; then
	echo "kernel.sh: ${cross}gcc not found: run \`make deps\`" >&2
	exit 3
fi
version=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
[ -n "$version" ] || version=$(sha256sum "$tarball" | cut -c1-12)
version=${version//[^A-Za-z0-9.+-]/_}

cache=${MPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/min_prog_trace}/kernel
src=$cache/src-$version
if [ -n "$own" ]; then
	build=$cache/$arch-$version-$own
else
	build=$cache/$arch-$version-${allconfig:+allno-}$(sha256sum "$config" | cut -c1-12)
fi
mkdir -p "$cache"

start=$SECONDS
say() { echo "kernel: [$((SECONDS - start))s] $*" >&2; }

# One builder at a time per build directory: a second caller of the same
# kernel waits and then reuses it, while other kernels (a tailored one,
# defconfig) build beside it from the same read-only source tree.
exec 9>"$build.lock"
flock 9

if [ -f "$build/.done" ]; then
	say "cached $build"
	echo "$build"
	exit 0
fi

# The source tree is extracted once, under the cache-wide lock.
if [ ! -f "$src/.done" ]; then
	exec 8>"$cache/.lock"
	flock 8
	if [ ! -f "$src/.done" ]; then
		say "extracting $tarball"
		rm -rf "$src.tmp"
		mkdir -p "$src.tmp"
		tar -xf "$tarball" -C "$src.tmp" --strip-components=1
		touch "$src.tmp/.done"
		rm -rf "$src"
		mv "$src.tmp" "$src"
	fi
	exec 8>&-
fi

mkdir -p "$build"
build_start=$SECONDS
kmake() { make -C "$src" O="$build" ARCH="$karch" CROSS_COMPILE="$cross" "$@"; }
# allnoconfig.log keeps Kconfig's warnings (unmet dependencies) for the
# tailor's report.
if [ -n "$own" ]; then
	confstep=("$own") conflog=$own.log
elif [ -n "$allconfig" ]; then
	confstep=(allnoconfig KCONFIG_ALLCONFIG="$config") conflog=allnoconfig.log
else
	cp "$config" "$build/.config"
	confstep=(olddefconfig) conflog=olddefconfig.log
fi
kmake -s "${confstep[@]}" >"$build/$conflog" 2>&1 || {
	tail -20 "$build/$conflog" >&2
	echo "kernel.sh: ${confstep[0]} failed for $config (log: $build/$conflog)" >&2
	exit 4
}

jobs=$(($(nproc) + 1))
say "building $karch $(basename "$image") in $build (make -j$jobs; about 2 min on 2 idle cores)"
# bash's `time` counts the CPU time of every process make started.
TIMEFORMAT='%U %S'
{ time kmake -j"$jobs" "$(basename "$image")" >"$build/build.log" 2>&1; } 2>"$build/build-cpu.tmp" &
pid=$!
# A line every 30 s so a long build is visibly alive.
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 30); do
		sleep 1
		kill -0 "$pid" 2>/dev/null || break
	done
	kill -0 "$pid" 2>/dev/null && say "still building ($(grep -c '^  CC' "$build/build.log" || true) files compiled)"
done
if ! wait "$pid"; then
	tail -30 "$build/build.log" >&2
	echo "kernel.sh: kernel build failed (full log: $build/build.log)" >&2
	exit 4
fi
for f in "$image" vmlinux System.map .config; do
	[ -f "$build/$f" ] || {
		echo "kernel.sh: build finished without $build/$f (log: $build/build.log)" >&2
		exit 4
	}
done
ln -sf "$image" "$build/boot-image"
# For the tailor's table and `make bench-vm`: what building this kernel took.
echo $((SECONDS - build_start)) >"$build/build-seconds"
awk '{ printf "%.0f\n", $1 + $2 }' "$build/build-cpu.tmp" >"$build/build-cpu-seconds"
rm -f "$build/build-cpu.tmp"
touch "$build/.done"
say "built $build/$image"
echo "$build"
