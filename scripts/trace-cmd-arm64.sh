#!/usr/bin/env bash
# Fetches Debian bookworm's arm64 trace-cmd and the libraries it needs
# without touching the system: a private apt configuration (own sources
# list, lists, cache, architecture arm64, an empty dpkg status so that every
# dependency is downloaded) and `dpkg-deb -x` into the project's cache, the
# approach of scripts/qemu-plugin.sh. Idempotent. Prints the directory: a
# sysroot for `vmrun --sysroot` with usr/bin/trace-cmd in it.
# Exit: 3 apt or the download failed, 4 the unpacked tree has no trace-cmd.
set -euo pipefail

cache=${MPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/min_prog_trace}
dir=$cache/trace-cmd-arm64
root=$dir/root
if [ -x "$root/usr/bin/trace-cmd" ]; then
	echo "$root"
	exit 0
fi

apt=$dir/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$root"
: >"$apt/status"
cat >"$apt/sources.list" <<SRC
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
SRC
aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status" -o "Dir::Cache=$apt/cache"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "Debug::NoLocking=1"
	-o "APT::Architecture=arm64" -o "APT::Architectures=arm64" -o "APT::Sandbox::User=root")
say() { echo "trace-cmd-arm64: $*" >&2; }
say "fetching Debian bookworm's arm64 trace-cmd into $dir"
apt-get "${aptopts[@]}" -qq update >&2 || { say "apt-get update failed"; exit 3; }
# Against an empty status, installing trace-cmd brings its whole closure.
mapfile -t pkgs < <(apt-get "${aptopts[@]}" -s --no-install-recommends \
	install trace-cmd 2>/dev/null | awk '$1 == "Inst" { print $2 }')
[ ${#pkgs[@]} -gt 0 ] || { say "apt cannot resolve trace-cmd"; exit 3; }
(cd "$apt/debs" && apt-get "${aptopts[@]}" -qq download "${pkgs[@]}" >&2) ||
	{ say "apt-get download failed"; exit 3; }
for deb in "$apt"/debs/*.deb; do
	dpkg-deb -x "$deb" "$root"
done
[ -x "$root/usr/bin/trace-cmd" ] || { say "no usr/bin/trace-cmd in $root"; exit 4; }
say "trace-cmd ready: ${#pkgs[@]} package(s) unpacked"
echo "$root"
