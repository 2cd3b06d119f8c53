#!/usr/bin/env bash
# Checks the Buildroot drop-in (br_package.patch, br.config, kernel.config)
# against a clean Buildroot 2024.02.4 tree, in a scratch copy of it:
#   BUILDROOT_DIR=/path/to/buildroot-2024.02.4 scripts/check-buildroot.sh
#  1. br_package.patch applies with `patch -p1`, without fuzz or offset;
#  2. Config.in: the option is offered for aarch64 and x86_64 musl toolchains
#     with C++, and refused, with its comment, for glibc or without C++;
#  3. br.config as .config, with kernel.config, survives `make olddefconfig`
#     line for line, and the system is the expected one (aarch64 cortex-a72,
#     musl, busybox init, Linux 6.6.x with kernel.config, Image, initramfs);
#  4. utils/check-package finds no warning in the package;
#  5. `make min_prog_trace-show-info` and printvars show the package, its
#     dependencies (host-rustc, toolchain), Rust 1.74.1, the musl Rust target,
#     the default source next to the tree, and local.mk's override;
#  6. Buildroot runs the package's own recipe on a snapshot of this checkout
#     placed next to the tree, as the documentation says (sync, vendor,
#     offline build, install), with stand-ins for what it would build from
#     downloads: host-rust -> rustup's cargo 1.74.1 and a rustc with the
#     musl std, the musl cross gcc -> aarch64-linux-gnu-gcc (gcc for
#     x86_64). The installed /usr/bin/{ftrace_it,min,min.large} must be
#     static executables of the target, aarch64 and then x86_64;
#  7. `make min_prog_trace-legal-info` saves the project's LICENSE, checked
#     against the hash in min_prog_trace.hash, with no legal-info warning
#     about the license;
#  8. the documented switch to a release tarball works: a file:// tarball
#     is vendored by Buildroot's download step, built offline, installed, and
#     the vendored tarball's hash, added to min_prog_trace.hash, holds on a
#     new download.
# Exit codes: 0 passed, or skipped because BUILDROOT_DIR is not set;
# 1 a check failed; 2 BUILDROOT_DIR is not a Buildroot 2024.02.4 tree or a
# tool is missing (`make deps` installs them).
set -euo pipefail

BR_VERSION=2024.02.4
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -z "${BUILDROOT_DIR:-}" ]; then
	echo "check-buildroot: skipped: BUILDROOT_DIR is not set (set it to a clean Buildroot $BR_VERSION tree, see README.md, section Buildroot)"
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
for tool in patch make rsync cpio gcc readelf rustup aarch64-linux-gnu-gcc aarch64-linux-gnu-readelf; do
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
for t in aarch64-unknown-linux-musl x86_64-unknown-linux-musl; do
	[ -d "$("$rustc_musl" --print sysroot)/lib/rustlib/$t" ] ||
		unusable "$rustc_musl has no $t std: run 'make deps'"
done

# Physical path: Buildroot's TOPDIR is make's CURDIR.
work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/check-buildroot.XXXXXX")" && pwd -P)
trap 'rm -rf "$work"' EXIT
br=$work/buildroot
mkdir "$br"
# Logs outlive the scratch tree, for the failure messages to point at;
# the download directory keeps the crates.io cache between runs.
logs=$root/target/check-buildroot
dl=$root/target/buildroot-dl
rm -rf "$logs"
mkdir -p "$logs"
tar -C "$BUILDROOT_DIR" --exclude=./output --exclude=./dl --exclude=./.git -cf - . | tar -C "$br" -xf -

# Buildroot must see neither the make variables of a calling `make test`
# nor cargo settings of the caller's shell.
brmake() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEOVERRIDES \
		-u CARGO_TARGET_DIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
		-u CARGO_BUILD_TARGET -u RUSTUP_TOOLCHAIN \
		BR2_DL_DIR="$dl" \
		make -C "$br" "$@"
}

say "1. patch -p1 $root/br_package.patch"
(cd "$br" && patch -p1 --dry-run --fuzz=0 <"$root/br_package.patch") >"$logs/patch.log" 2>&1 ||
	fail "br_package.patch does not apply to Buildroot $BR_VERSION: $(tr '\n' ' ' <"$logs/patch.log")"
! grep -q 'offset\|fuzz' "$logs/patch.log" ||
	fail "br_package.patch applies only with offset or fuzz: $(tr '\n' ' ' <"$logs/patch.log")"
(cd "$br" && patch -p1 --fuzz=0 -s <"$root/br_package.patch")
cp "$root/kernel.config" "$br/kernel.config"

olddefconfig() {
	brmake -s olddefconfig >"$logs/olddefconfig.log" 2>&1 ||
		fail "make olddefconfig failed: $(tail -5 "$logs/olddefconfig.log" | tr '\n' ' ')"
}

say "2. Config.in: who gets the option"
comment="# min_prog_trace needs a musl toolchain w/ C++"
# variant NAME SED-SCRIPT yes|no: br.config edited by SED-SCRIPT must keep
# (yes) or lose (no) the option; losing it must show the comment.
variant() {
	sed -e "$2" "$root/br.config" >"$br/.config"
	olddefconfig
	if [ "$3" = yes ]; then
		grep -qx BR2_PACKAGE_MIN_PROG_TRACE=y "$br/.config" || fail "$1: the option is not offered"
	else
		! grep -q '^BR2_PACKAGE_MIN_PROG_TRACE=' "$br/.config" || fail "$1: the option is offered"
		grep -qxF "$comment" "$br/.config" || fail "$1: menuconfig does not say '${comment#\# }'"
	fi
}
variant "glibc toolchain" 's/^BR2_TOOLCHAIN_BUILDROOT_MUSL=y$/BR2_TOOLCHAIN_BUILDROOT_GLIBC=y/' no
variant "musl without C++" '/^BR2_TOOLCHAIN_BUILDROOT_CXX=y$/d' no
variant "x86_64 musl with C++" 's/^BR2_aarch64=y$/BR2_x86_64=y/; /^BR2_cortex_a72=y$/d' yes
say "   x86_64 musl C++: offered; glibc, musl without C++: refused, with the comment"

say "3. br.config as .config, kernel.config, make olddefconfig"
cp "$root/br.config" "$br/.config"
olddefconfig
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

check_package() {
	if ! (cd "$br" && "$python" utils/check-package "$@") >"$logs/check-package.log" 2>&1 ||
		! grep -qx '0 warnings generated' "$logs/check-package.log"; then
		fail "utils/check-package: $(cat "$logs/check-package.log")"
	fi
}

say "4. utils/check-package"
check_package package/min_prog_trace/* package/Config.in

say "5. make min_prog_trace-show-info, printvars"
brmake -s min_prog_trace-show-info >"$logs/show-info.json" 2>"$logs/show-info.log" ||
	fail "make min_prog_trace-show-info failed: $(cat "$logs/show-info.log")"
"$python" - "$logs/show-info.json" <<'PY' || fail "make min_prog_trace-show-info: unexpected output in $logs/show-info.json"
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
PY
printvars() {
	brmake -s printvars VARS="$*" >"$logs/printvars.log" 2>&1 ||
		fail "make printvars failed: $(cat "$logs/printvars.log")"
}
printvar() { sed -n "s/^$1=//p" "$logs/printvars.log"; }
printvars RUSTC_TARGET_NAME HOST_RUST_BIN_VERSION MIN_PROG_TRACE_OVERRIDE_SRCDIR PACKAGES_LINUX_CONFIG_FIXUPS
[ "$(printvar RUSTC_TARGET_NAME)" = aarch64-unknown-linux-musl ] ||
	fail "Buildroot's Rust target is '$(printvar RUSTC_TARGET_NAME)', not aarch64-unknown-linux-musl"
rust_version=$(printvar HOST_RUST_BIN_VERSION)
[ "$rust_version" = 1.74.1 ] || fail "Buildroot's host-rust is '$rust_version', the workspace's MSRV rule assumes 1.74.1"
default_src=$br/../min_prog_trace
[ "$(printvar MIN_PROG_TRACE_OVERRIDE_SRCDIR)" = "$default_src" ] ||
	fail "the default source is '$(printvar MIN_PROG_TRACE_OVERRIDE_SRCDIR)', not the checkout next to the Buildroot tree"
for opt in FTRACE FUNCTION_TRACER FUNCTION_GRAPH_TRACER DYNAMIC_FTRACE; do
	grep -q "echo 'CONFIG_$opt=y'" "$logs/printvars.log" ||
		fail "the package does not make the kernel enable CONFIG_$opt"
done
echo "MIN_PROG_TRACE_OVERRIDE_SRCDIR = $work/elsewhere" >"$br/local.mk"
printvars MIN_PROG_TRACE_OVERRIDE_SRCDIR
[ "$(printvar MIN_PROG_TRACE_OVERRIDE_SRCDIR)" = "$work/elsewhere" ] ||
	fail "local.mk's MIN_PROG_TRACE_OVERRIDE_SRCDIR is not honoured"
rm "$br/local.mk"
say "   Rust $rust_version for aarch64-unknown-linux-musl, kernel fixups for the tracers, local.mk honoured"

say "6. make min_prog_trace, from a checkout next to the tree (stand-ins for host-rust and the musl gcc)"
# A snapshot of the checkout (the files git tracks or would track), so
# that files other tools write meanwhile, build products included, stay out.
src=$work/min_prog_trace
mkdir "$src"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$root" && git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
		tar -C "$src" -xf -
else
	tar -C "$root" --exclude=./target --exclude=./out --exclude=./results -cf - . | tar -C "$src" -xf -
fi
host=$br/output/host/bin
mkdir -p "$host"
ln -s "$cargo_174" "$host/cargo"
ln -s "$rustc_musl" "$host/rustc"
ln -s "$(command -v aarch64-linux-gnu-gcc)" "$host/aarch64-buildroot-linux-musl-gcc"
ln -s "$(command -v aarch64-linux-gnu-readelf)" "$host/aarch64-buildroot-linux-musl-readelf"
ln -s "$(command -v gcc)" "$host/x86_64-buildroot-linux-musl-gcc"
ln -s "$(command -v readelf)" "$host/x86_64-buildroot-linux-musl-readelf"
# build LOG ARCH: make min_prog_trace without its dependencies (host-rustc,
# toolchain, skeletons), which would need downloads: the stand-ins replace
# them. Then the installed files must be static ARCH executables.
build() {
	local machine bin f elf
	case $2 in
	aarch64) machine=AArch64 ;;
	x86_64) machine=X86-64 ;;
	esac
	rm -rf "$br/output/target"
	brmake MIN_PROG_TRACE_FINAL_DEPENDENCIES= MIN_PROG_TRACE_FINAL_DOWNLOAD_DEPENDENCIES= \
		min_prog_trace >"$1" 2>&1 ||
		fail "make min_prog_trace failed (log: $1): $(grep -m3 -E 'undefined reference|ERROR|error|No such|You must install' "$1" | tr -s ' \n' ' ')"
	grep -q "CARGO_NET_OFFLINE=true .*-C .*/min_prog_trace-[^ ]* .*CROSS_COMPILE=.*$2-buildroot-linux-musl-" "$1" ||
		fail "make min_prog_trace did not build offline through the Makefile with CROSS_COMPILE (log: $1)"
	for bin in ftrace_it min min.large; do
		f=$br/output/target/usr/bin/$bin
		[ -x "$f" ] || fail "/usr/bin/$bin is not installed (log: $1)"
		elf=$(readelf -h -l "$f" 2>&1) || fail "/usr/bin/$bin is not an ELF file: $elf"
		grep -q "Machine:.*$machine" <<<"$elf" || fail "/usr/bin/$bin is not an $2 ELF file"
		grep -q 'Type:.*EXEC' <<<"$elf" || fail "/usr/bin/$bin is not a static executable"
		! grep -q INTERP <<<"$elf" || fail "/usr/bin/$bin asks for a dynamic loader"
	done
}
installed() {
	cd "$br/output/target/usr/bin" && stat -c '%n %s B' ftrace_it min min.large | paste -sd, - | sed 's/,/, /g'
}
build "$logs/build-local.log" aarch64
grep -qF "Syncing from source dir $default_src" "$logs/build-local.log" ||
	fail "make min_prog_trace did not take its source from the checkout next to the tree"
grep -q 'cargo vendor --locked VENDOR' "$logs/build-local.log" ||
	fail "make min_prog_trace did not vendor the crates of the local source"
say "   aarch64: installed $(installed)"
# The other architecture Config.in offers.
sed -e 's/^BR2_aarch64=y$/BR2_x86_64=y/' -e '/^BR2_cortex_a72=y$/d' "$root/br.config" >"$br/.config"
olddefconfig
brmake -s min_prog_trace-dirclean
build "$logs/build-local-x86_64.log" x86_64
say "   x86_64: installed $(installed)"
cp "$root/br.config" "$br/.config"
olddefconfig

say "7. make min_prog_trace-legal-info"
brmake MIN_PROG_TRACE_FINAL_DEPENDENCIES= MIN_PROG_TRACE_FINAL_DOWNLOAD_DEPENDENCIES= \
	min_prog_trace-legal-info >"$logs/legal-info.log" 2>&1 ||
	fail "make min_prog_trace-legal-info failed (log: $logs/legal-info.log)"
saved=$br/output/legal-info/licenses/min_prog_trace-$(sed -n 's/^MIN_PROG_TRACE_VERSION = //p' "$br/package/min_prog_trace/min_prog_trace.mk")/LICENSE
cmp -s "$saved" "$root/LICENSE" || fail "legal-info did not save the project's LICENSE as $saved"
! grep -qi 'warning.*min_prog_trace' "$logs/legal-info.log" "$br/output/legal-info/README" 2>/dev/null ||
	fail "legal-info warns about min_prog_trace: $(grep -hi 'warning.*min_prog_trace' "$logs/legal-info.log" "$br/output/legal-info/README" | head -3 | tr '\n' ' ')"
say "   LICENSE saved, its hash checked against min_prog_trace.hash"

say "8. the switch to a release tarball (file:// site, Buildroot vendors at download, hash file)"
mk=$br/package/min_prog_trace/min_prog_trace.mk
version=$(sed -n 's/^MIN_PROG_TRACE_VERSION = //p' "$mk")
tarball=min_prog_trace-$version.tar.gz
mkdir "$work/release"
tar -C "$work" --transform "s|^min_prog_trace|min_prog_trace-$version|" -czf "$work/release/$tarball" min_prog_trace
sed -i -e "s|^MIN_PROG_TRACE_SITE = .*|MIN_PROG_TRACE_SITE = file://$work/release|" \
	-e '/^MIN_PROG_TRACE_SITE_METHOD = local$/d' "$mk"
! grep -q '^MIN_PROG_TRACE_SITE_METHOD' "$mk" || fail "$mk: the SITE_METHOD line is not where the documentation says"
rm -rf "$dl/min_prog_trace"
brmake -s min_prog_trace-dirclean
# As documented: the first download has no hash to check against, fails,
# and keeps the vendored tarball for its hash to be added.
! brmake MIN_PROG_TRACE_FINAL_DOWNLOAD_DEPENDENCIES= min_prog_trace-source >"$logs/first-source-release.log" 2>&1 ||
	fail "the first download passed without a hash for $tarball (log: $logs/first-source-release.log)"
grep -q "No hash found for $tarball" "$logs/first-source-release.log" ||
	fail "the first download failed, but not for want of a hash (log: $logs/first-source-release.log)"
grep -q 'automatically updated by Buildroot' "$logs/first-source-release.log" ||
	fail "Buildroot's download step did not vendor the crates (log: $logs/first-source-release.log)"
[ -f "$dl/min_prog_trace/$tarball" ] ||
	fail "the first download did not keep $dl/min_prog_trace/$tarball"
printf '# Locally calculated after vendoring\nsha256  %s  %s\n' \
	"$(sha256sum "$dl/min_prog_trace/$tarball" | cut -d' ' -f1)" "$tarball" \
	>>"$br/package/min_prog_trace/min_prog_trace.hash"
build "$logs/build-release.log" aarch64
! grep -q 'cargo vendor' "$logs/build-release.log" ||
	fail "the configure step vendored the crates again (log: $logs/build-release.log)"
check_package package/min_prog_trace/*
rm -rf "$dl/min_prog_trace"
brmake -s min_prog_trace-dirclean
brmake MIN_PROG_TRACE_FINAL_DOWNLOAD_DEPENDENCIES= min_prog_trace-source >"$logs/source-release.log" 2>&1 ||
	fail "a new download does not match min_prog_trace.hash (log: $logs/source-release.log)"
say "   vendored at download, built offline, installed; the vendored tarball's hash holds on a new download"
say "passed (not verified: a full Buildroot build, which downloads gcc, musl, Linux $kversion and Rust 1.74.1)"
