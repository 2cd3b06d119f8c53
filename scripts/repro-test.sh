#!/usr/bin/env bash
# The target binaries are reproducible: two copies of this checkout in two
# directories of different depth, each with its own fresh CARGO_HOME (the
# second one's crates vendored with `cargo vendor` and built offline, as
# Buildroot builds them), give the same bytes for ftrace_it, min and
# min.large on both architectures.
#
# Usage: scripts/repro-test.sh WORKDIR   (emptied first; needs crates.io)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:?usage: $0 WORKDIR}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

# The checkout as it is (tracked files, edits included), without its build
# products.
copy() {
	mkdir -p "$1"
	git -C "$root" ls-files -z | (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$1"
}

a=$work/a/min_prog_trace
b=$work/second/copy/of/min_prog_trace
copy "$a"
copy "$b"

# Each copy's make on its own: no variable of the calling make (e.g. a
# CARGO_TARGET_DIR=) reaches it, and each uses its own target/.
unset MAKEFLAGS MFLAGS MAKELEVEL CARGO_TARGET_DIR

build() { # DIR CARGO_HOME [offline]
	local dir=$1 home=$2 offline=${3:-}
	for arch in aarch64 x86_64; do
		if ! env CARGO_HOME="$home" ${offline:+CARGO_NET_OFFLINE=true} \
			make -C "$dir" --no-print-directory ARCH=$arch all >"$dir/build-$arch.log" 2>&1; then
			cat "$dir/build-$arch.log" >&2
			echo "repro-test: make ARCH=$arch failed in $dir" >&2
			exit 1
		fi
	done
}

build "$a" "$work/cargo-home-a"
# As br_package.patch does: vendor into VENDOR, drop the project's
# .cargo/config.toml, build offline.
(cd "$b" && rm -f .cargo/config.toml && mkdir -p .cargo &&
	CARGO_HOME=$work/cargo-home-b cargo vendor --locked VENDOR >.cargo/config 2>"$b/vendor.log") || {
	cat "$b/vendor.log" >&2
	echo "repro-test: cargo vendor failed" >&2
	exit 1
}
build "$b" "$work/cargo-home-b" offline

status=0
printf '%-8s %-10s %-64s %s\n' arch binary sha256 verdict
for arch in aarch64 x86_64; do
	for bin in ftrace_it min min.large; do
		ha=$(sha256sum <"$a/out/$arch/$bin" | cut -d' ' -f1)
		hb=$(sha256sum <"$b/out/$arch/$bin" | cut -d' ' -f1)
		verdict=same
		if [ "$ha" != "$hb" ]; then
			verdict="DIFFERS: $hb in $b"
			status=1
		fi
		printf '%-8s %-10s %-64s %s\n' "$arch" "$bin" "$ha" "$verdict"
	done
done
if [ $status -ne 0 ]; then
	echo "repro-test: the two builds differ (cmp -l the files in $a/out and $b/out)" >&2
fi
exit $status
