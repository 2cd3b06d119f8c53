#!/usr/bin/env bash
# Fetches a QEMU with the TCG plugin register API (>= 9.0; bookworm's 7.2 has
# API 1) without touching the system: a private apt configuration (own
# sources list, lists, cache) downloads Debian bookworm-backports'
# qemu-system-arm or qemu-system-x86 and the libraries the host lacks or has
# too old, and `dpkg-deb -x` unpacks them into the project's cache.
# Idempotent, one fetch at a time per cache.
#
#   scripts/qemu-plugin.sh [aarch64|x86_64]     (default aarch64)
#
# Prints the directory; its bin/qemu-system-ARCH wraps the real binary with
# LD_LIBRARY_PATH into the extraction.
# Exit: 2 usage, 3 apt or the download failed, 4 the unpacked QEMU does not run.
set -euo pipefail

VERSION=10.0.2
arch=${1:-aarch64}
case "$arch" in
aarch64) package=qemu-system-arm ;;
x86_64) package=qemu-system-x86 ;;
*)
	echo "qemu-plugin: unknown architecture '$arch': use aarch64 or x86_64" >&2
	exit 2
	;;
esac
cache=${MPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/min_prog_trace}
dir=$cache/qemu-$VERSION
wrapper=$dir/bin/qemu-system-$arch
ready() { [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | grep -q "version $VERSION"; }
if ready; then
	echo "$dir"
	exit 0
fi

mkdir -p "$dir/bin"
exec 9>"$dir/.lock"
flock 9
if ready; then
	echo "$dir"
	exit 0
fi
say() { echo "qemu-plugin: $*" >&2; }
say "fetching QEMU $VERSION for $arch (bookworm-backports) into $dir"
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
# The system's dpkg status is read: what installing QEMU would bring or
# upgrade on this host, unpacked, completes the host's libraries.
private_apt "$dir" "bookworm bookworm-updates bookworm-backports"
fetch_debs "$dir" "$dir/root" "$package/bookworm-backports"
libs=$(find "$dir/root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
binary=$dir/root/usr/bin/qemu-system-$arch
cat >"$wrapper" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$binary" -L "$dir/root/usr/share/qemu" "\$@"
WRAP
chmod +x "$wrapper"
if ! "$wrapper" --version | grep -q "version $VERSION"; then
	say "$binary does not run:"
	LD_LIBRARY_PATH=$libs ldd "$binary" | grep 'not found' >&2 || true
	exit 4
fi
say "QEMU $VERSION for $arch ready"
echo "$dir"
