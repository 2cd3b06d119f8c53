#!/usr/bin/env bash
# Fetches Debian bookworm's arm64 trace-cmd and the libraries it needs
# without touching the system: a private apt configuration (own sources
# list, lists, cache, architecture arm64, an empty dpkg status so that every
# dependency is downloaded) and `dpkg-deb -x` into the project's cache, the
# approach of scripts/qemu.sh. Idempotent. Prints the directory: a
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

say() { echo "trace-cmd-arm64: $*" >&2; }
say "fetching Debian bookworm's arm64 trace-cmd into $dir"
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
# Against an empty status, installing trace-cmd brings its whole closure.
private_apt "$dir" bookworm arm64
fetch_debs "$dir" "$root" trace-cmd
[ -x "$root/usr/bin/trace-cmd" ] || { say "no usr/bin/trace-cmd in $root"; exit 4; }
say "trace-cmd ready"
echo "$root"
