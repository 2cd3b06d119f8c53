#!/usr/bin/env bash
# Fetches a QEMU with the TCG plugin register API (>= 9.0; bookworm's 7.2 has
# API 1) without touching the system: a private apt configuration (own
# sources list, lists, cache) downloads Debian bookworm-backports'
# qemu-system-arm and the libraries the host lacks or has too old, and
# `dpkg-deb -x` unpacks them into the project's cache. Idempotent.
# Prints the directory; its bin/qemu-system-aarch64 wraps the real binary
# with LD_LIBRARY_PATH into the extraction.
# Exit: 3 apt or the download failed, 4 the unpacked QEMU does not run.
set -euo pipefail

VERSION=10.0.2
cache=${MPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/min_prog_trace}
dir=$cache/qemu-$VERSION
wrapper=$dir/bin/qemu-system-aarch64
if [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | grep -q "version $VERSION"; then
	echo "$dir"
	exit 0
fi

apt=$dir/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dir/root" "$dir/bin"
cat >"$apt/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
SRC
# The system's dpkg status is only read: it tells which dependencies the host
# already satisfies.
aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root")
say() { echo "qemu-plugin: $*" >&2; }
say "fetching QEMU $VERSION (bookworm-backports) into $dir"
apt-get "${aptopts[@]}" -qq update >&2 || { say "apt-get update failed"; exit 3; }
# What installing it would bring or upgrade on this host: those packages,
# unpacked, complete the host's libraries.
mapfile -t pkgs < <(apt-get "${aptopts[@]}" -s --no-install-recommends \
	install "qemu-system-arm/bookworm-backports" 2>/dev/null | awk '$1 == "Inst" { print $2 }')
[ ${#pkgs[@]} -gt 0 ] || { say "apt cannot resolve qemu-system-arm/bookworm-backports"; exit 3; }
(cd "$apt/debs" && apt-get "${aptopts[@]}" -qq download "${pkgs[@]/qemu-system-arm/qemu-system-arm/bookworm-backports}" >&2) ||
	{ say "apt-get download failed"; exit 3; }
for deb in "$apt"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir/root"
done
libs=$(find "$dir/root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
cat >"$wrapper" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$dir/root/usr/bin/qemu-system-aarch64" -L "$dir/root/usr/share/qemu" "\$@"
WRAP
chmod +x "$wrapper"
if ! "$wrapper" --version | grep -q "version $VERSION"; then
	say "$dir/root/usr/bin/qemu-system-aarch64 does not run:"
	LD_LIBRARY_PATH=$libs ldd "$dir/root/usr/bin/qemu-system-aarch64" | grep 'not found' >&2 || true
	exit 4
fi
say "QEMU $VERSION ready: ${#pkgs[@]} package(s) unpacked"
echo "$dir"
