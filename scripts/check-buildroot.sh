#!/usr/bin/env bash
# Checks the Buildroot drop-in (br_package.patch, br.config, kernel.config)
# against a clean Buildroot 2024.02.4 tree, in a scratch copy of it:
#   BUILDROOT_DIR=/path/to/buildroot-2024.02.4 scripts/check-buildroot.sh
#  1. br_package.patch applies with `patch -p1`, without fuzz or offset;
#  2. br.config as .config, with kernel.config, survives `make olddefconfig`
#     line for line, and the system is the expected one (aarch64 cortex-a72,
#     musl, busybox init, Linux 6.6.x with kernel.config, Image, initramfs);
#  3. utils/check-package finds no warning in the package;
#  4. `make min_prog_trace-show-info` and printvars show the package, its
#     dependencies (host-rustc, toolchain), Rust 1.74.1, the musl Rust target;
#  5. Buildroot runs the package's own recipe (sync from local.mk's
#     MIN_PROG_TRACE_OVERRIDE_SRCDIR = a snapshot of this checkout, vendor,
#     offline build, install) with stand-ins for what it would build from downloads:
#     host-rust -> rustup's cargo 1.74.1 and a rustc with the aarch64 musl
#     std, the musl cross gcc -> aarch64-linux-gnu-gcc. The installed
#     /usr/bin/{ftrace_it,min,min.large} must be static aarch64 executables.
# Exit codes: 0 passed, or skipped because BUILDROOT_DIR is not set;
# 1 a check failed; 2 BUILDROOT_DIR is not a Buildroot 2024.02.4 tree or a
# tool is missing (`make deps` installs them).
set -euo pipefail

BR_VERSION=2024.02.4
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -z "${BUILDROOT_DIR:-}" ]; then
	echo "check-buildroot: skipped: BUILDROOT_DIR is not set (set it to a clean Buildroot $BR_VERSION tree, see docs/buildroot.md)"
	exit 0
fi

say() { echo "check-buildroot: $*"; }
fail() {
	echo "check-buildroot: FAIL: $*" >&2
	exit 1
}
unusable() {
	echo "check-buildroot: $*" >&2
	exit 2
}

grep -qx "export BR2_VERSION := $BR_VERSION" "$BUILDROOT_DIR/Makefile" 2>/dev/null ||
	unusable "$BUILDROOT_DIR is not a Buildroot $BR_VERSION tree (its Makefile lacks 'export BR2_VERSION := $BR_VERSION')"
[ ! -e "$BUILDROOT_DIR/package/min_prog_trace" ] ||
	unusable "$BUILDROOT_DIR already has package/min_prog_trace: point BUILDROOT_DIR at an unpatched tree"
for f in br_package.patch br.config kernel.config; do
	[ -f "$root/$f" ] || fail "$root/$f is missing"
done
for tool in patch make rsync cpio rustup aarch64-linux-gnu-gcc aarch64-linux-gnu-readelf; do
	command -v "$tool" >/dev/null || unusable "'$tool' is missing: run 'make deps'"
done
# utils/check-package needs python3 with the magic and flake8 modules
# (Debian python3-magic, python3-flake8); a pyenv python may lack them.
python=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import magic, flake8' 2>/dev/null; then
		python=$p
		break
	fi
done
[ -n "$python" ] || unusable "no python3 with the magic and flake8 modules: run 'make deps'"
cargo_174=$(rustup which --toolchain 1.74.1 cargo 2>/dev/null) ||
	unusable "Rust 1.74.1 (Buildroot $BR_VERSION's cargo) is missing: run 'make deps'"
rustc_musl=$(rustup which rustc)
[ -d "$("$rustc_musl" --print sysroot)/lib/rustlib/aarch64-unknown-linux-musl" ] ||
	unusable "$rustc_musl has no aarch64-unknown-linux-musl std: run 'make deps'"

# Physical path: Buildroot's TOPDIR is make's CURDIR.
work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/check-buildroot.XXXXXX")" && pwd -P)
trap 'rm -rf "$work"' EXIT
br=$work/buildroot
mkdir "$br"
# Logs outlive the scratch tree, for the failure messages to point at.
logs=$root/target/check-buildroot
rm -rf "$logs"
mkdir -p "$logs"
tar -C "$BUILDROOT_DIR" --exclude=./output --exclude=./dl --exclude=./.git -cf - . | tar -C "$br" -xf -

# Buildroot must see neither the make variables of a calling `make test`
# nor cargo settings of the caller's shell.
brmake() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEOVERRIDES \
		-u CARGO_TARGET_DIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
		-u CARGO_BUILD_TARGET -u RUSTUP_TOOLCHAIN \
		BR2_DL_DIR="$root/target/buildroot-dl" \
		make -C "$br" "$@"
}

say "1. patch -p1 $root/br_package.patch"
(cd "$br" && patch -p1 --dry-run --fuzz=0 <"$root/br_package.patch") >"$logs/patch.log" 2>&1 ||
	fail "br_package.patch does not apply to Buildroot $BR_VERSION: $(tr '\n' ' ' <"$logs/patch.log")"
! grep -q 'offset\|fuzz' "$logs/patch.log" ||
	fail "br_package.patch applies only with offset or fuzz: $(tr '\n' ' ' <"$logs/patch.log")"
(cd "$br" && patch -p1 --fuzz=0 -s <"$root/br_package.patch")

say "2. br.config as .config, kernel.config, make olddefconfig"
cp "$root/br.config" "$br/.config"
cp "$root/kernel.config" "$br/kernel.config"
brmake -s olddefconfig >"$logs/olddefconfig.log" 2>&1 ||
	fail "make olddefconfig failed: $(tail -5 "$logs/olddefconfig.log" | tr '\n' ' ')"
# Every setting of br.config, including its "is not set" lines, must still
# be there: Kconfig silently drops what it does not know or cannot satisfy.
while IFS= read -r line; do
	case $line in
	BR2_* | "# BR2_"*" is not set") ;;
	*) continue ;;
	esac
	grep -qxF "$line" "$br/.config" || fail "br.config's '$line' did not survive make olddefconfig"
done <"$root/br.config"
for line in BR2_PACKAGE_MIN_PROG_TRACE=y BR2_aarch64=y BR2_cortex_a72=y \
	BR2_TOOLCHAIN_USES_MUSL=y BR2_INIT_BUSYBOX=y BR2_LINUX_KERNEL=y \
	BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG=y 'BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE="kernel.config"' \
	BR2_LINUX_KERNEL_IMAGE=y BR2_LINUX_KERNEL_GZIP=y \
	BR2_TARGET_ROOTFS_CPIO=y BR2_TARGET_ROOTFS_INITRAMFS=y \
	BR2_PACKAGE_HOST_RUSTC=y; do
	grep -qxF "$line" "$br/.config" || fail ".config lacks '$line' after make olddefconfig"
done
kversion=$(sed -n 's/^BR2_LINUX_KERNEL_VERSION="\(.*\)"$/\1/p' "$br/.config")
[[ $kversion == 6.6.* ]] || fail "the kernel version is '$kversion', not 6.6.x"
say "   kept every br.config line; Linux $kversion, Image, initramfs, BR2_PACKAGE_MIN_PROG_TRACE=y"

say "3. utils/check-package"
(cd "$br" && "$python" utils/check-package package/min_prog_trace/* package/Config.in) >"$logs/check-package.log" 2>&1 ||
	fail "utils/check-package: $(cat "$logs/check-package.log")"
grep -qx '0 warnings generated' "$logs/check-package.log" ||
	fail "utils/check-package: $(cat "$logs/check-package.log")"

say "4. make min_prog_trace-show-info, printvars"
brmake -s min_prog_trace-show-info >"$logs/show-info.json" 2>"$logs/show-info.log" ||
	fail "make min_prog_trace-show-info failed: $(cat "$logs/show-info.log")"
"$python" - "$logs/show-info.json" <<'EOF' || fail "make min_prog_trace-show-info: unexpected output in $logs/show-info.json"
import json, sys
info = json.load(open(sys.argv[1]))["min_prog_trace"]
problems = []
if info["type"] != "target":
    problems.append("type %s" % info["type"])
if not info["install_target"]:
    problems.append("does not install to target")
for dep in ("host-rustc", "toolchain"):
    if dep not in info["dependencies"]:
        problems.append("no dependency on %s: %s" % (dep, info["dependencies"]))
for p in problems:
    print("check-buildroot: show-info: " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print("check-buildroot:    depends on " + ", ".join(info["dependencies"]))
EOF
brmake -s printvars VARS='RUSTC_TARGET_NAME HOST_RUST_BIN_VERSION MIN_PROG_TRACE_OVERRIDE_SRCDIR PACKAGES_LINUX_CONFIG_FIXUPS' \
	>"$logs/printvars.log" 2>&1 || fail "make printvars failed: $(cat "$logs/printvars.log")"
printvar() { sed -n "s/^$1=//p" "$logs/printvars.log"; }
[ "$(printvar RUSTC_TARGET_NAME)" = aarch64-unknown-linux-musl ] ||
	fail "Buildroot's Rust target is '$(printvar RUSTC_TARGET_NAME)', not aarch64-unknown-linux-musl"
rust_version=$(printvar HOST_RUST_BIN_VERSION)
[ "$rust_version" = 1.74.1 ] || fail "Buildroot's host-rust is '$rust_version', the workspace's MSRV rule assumes 1.74.1"
[ "$(printvar MIN_PROG_TRACE_OVERRIDE_SRCDIR)" = "$br/../min_prog_trace" ] ||
	fail "the default source is '$(printvar MIN_PROG_TRACE_OVERRIDE_SRCDIR)', not the checkout next to the Buildroot tree"
for opt in FTRACE FUNCTION_TRACER FUNCTION_GRAPH_TRACER DYNAMIC_FTRACE; do
	grep -q "echo 'CONFIG_$opt=y'" "$logs/printvars.log" ||
		fail "the package does not make the kernel enable CONFIG_$opt"
done
say "   Rust $rust_version for aarch64-unknown-linux-musl, kernel fixups enable the function tracers"

say "5. make min_prog_trace (stand-ins for host-rust and the musl gcc; vendors from crates.io)"
# A snapshot of the checkout (the files git tracks or would track), so
# that files other tools write meanwhile, build products included, stay out.
src=$work/checkout
mkdir "$src"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$root" && git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
		tar -C "$src" -xf -
else
	tar -C "$root" --exclude=./target --exclude=./out --exclude=./results -cf - . | tar -C "$src" -xf -
fi
echo "MIN_PROG_TRACE_OVERRIDE_SRCDIR = $src" >"$br/local.mk"
host=$br/output/host/bin
mkdir -p "$host"
ln -s "$cargo_174" "$host/cargo"
ln -s "$rustc_musl" "$host/rustc"
ln -s "$(command -v aarch64-linux-gnu-gcc)" "$host/aarch64-buildroot-linux-musl-gcc"
ln -s "$(command -v aarch64-linux-gnu-readelf)" "$host/aarch64-buildroot-linux-musl-readelf"
# The stand-ins replace the package's dependencies (host-rustc, toolchain,
# skeletons), which would need downloads.
brmake MIN_PROG_TRACE_FINAL_DEPENDENCIES= min_prog_trace >"$logs/build.log" 2>&1 ||
	fail "make min_prog_trace failed (log: $logs/build.log): $(grep -m3 -E 'undefined reference|error|No such' "$logs/build.log" | tr -s ' \n' ' ')"
grep -qF "Syncing from source dir $src" "$logs/build.log" ||
	fail "make min_prog_trace did not take its source from local.mk's MIN_PROG_TRACE_OVERRIDE_SRCDIR"
grep -q 'cargo vendor --locked VENDOR' "$logs/build.log" || fail "make min_prog_trace did not vendor the crates"
grep -q 'CARGO_NET_OFFLINE=true .*-C .*/min_prog_trace-custom .*CROSS_COMPILE=.*aarch64-buildroot-linux-musl-' "$logs/build.log" ||
	fail "make min_prog_trace did not build offline through the Makefile with CROSS_COMPILE"
for bin in ftrace_it min min.large; do
	f=$br/output/target/usr/bin/$bin
	[ -x "$f" ] || fail "/usr/bin/$bin is not installed"
	elf=$(aarch64-linux-gnu-readelf -h -l "$f" 2>&1) || fail "/usr/bin/$bin is not an ELF file: $elf"
	grep -q 'Machine:.*AArch64' <<<"$elf" || fail "/usr/bin/$bin is not an aarch64 ELF file"
	grep -q 'Type:.*EXEC' <<<"$elf" || fail "/usr/bin/$bin is not a static executable"
	! grep -q INTERP <<<"$elf" || fail "/usr/bin/$bin asks for a dynamic loader"
done
say "   installed $(cd "$br/output/target/usr/bin" && stat -c '%n %s B' ftrace_it min min.large | paste -sd, - | sed 's/,/, /g')"
say "passed (not verified: a full Buildroot build, which downloads gcc, musl, Linux $kversion and Rust 1.74.1)"
