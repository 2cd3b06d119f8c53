#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for building, tracing and testing.
# Idempotent: every step checks before it installs, so `make test` can call it
# each time at almost no cost. It never removes or downgrades a package the
# machine has: exit 3 names the conflict instead.
set -euo pipefail

debs=(
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-user-static
	linux-source-6.12 flex bison bc libssl-dev libelf-dev
	strace xz-utils
	# make bench-report: `trace-cmd report` side by side with ftrace_report
	# on the same trace.dat.
	trace-cmd
	# Buildroot's host check and utils/check-package (make check-buildroot).
	rsync cpio python3-magic python3-flake8
	# ftrace_report html lays its call graph out with dot; make pages-test
	# opens the pages in headless chromium.
	graphviz chromium
)
missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	# Nothing the machine has may go: apt's plan is read first.
	removed=$($sudo apt-get install -s -qq --no-install-recommends "${missing[@]}" | awk '$1 == "Remv" { print $2 }' | paste -sd' ')
	if [ -n "$removed" ]; then
		echo "deps: installing ${missing[*]} would remove $removed: install them by hand or free the conflict" >&2
		exit 3
	fi
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# The guest's QEMU goes into the cache, not the system (scripts/qemu.sh).
for arch in aarch64 x86_64; do
	"$(dirname "$0")/qemu.sh" guest "$arch" >/dev/null
done

installed_targets=$(rustup target list --installed)
for t in aarch64-unknown-linux-musl x86_64-unknown-linux-musl; do
	grep -qx "$t" <<<"$installed_targets" || rustup target add "$t" >&2
done
# Buildroot 2024.02.4 ships Rust 1.74.1: the target crates must build with it.
rustup toolchain list | grep -q '^1\.74\.1' || rustup toolchain install 1.74.1 --profile minimal >&2
