#!/usr/bin/env bash
# Fetches a QEMU into the project's cache without touching the system: a
# private apt configuration (own sources list, lists, cache) downloads
# Debian's qemu-system-arm or qemu-system-x86 and the libraries the host
# lacks or has too old, and `dpkg-deb -x` unpacks them. Idempotent, one
# fetch at a time per cache.
#
#   scripts/qemu.sh guest|plugin [aarch64|x86_64]     (default aarch64)
#
# guest: bookworm's 7.2, the QEMU every trace is made in. It is not
#   installed into the system because its qemu-system-common breaks a newer
#   qemu-utils that a machine may have (bookworm-backports' 10.0.2 does:
#   apt would remove it). The Makefile puts its bin/ first on PATH.
# plugin: bookworm-backports' 10.0.2, for the TCG plugin register API
#   (>= 9.0; 7.2 has API 1), used by the ground truth only.
#
# Prints the directory; its bin/qemu-system-ARCH wraps the real binary with
# LD_LIBRARY_PATH into the extraction.
# Exit: 2 usage, 3 apt or the download failed, 4 the unpacked QEMU does not run.
set -euo pipefail

usage() {
	echo "qemu: usage: scripts/qemu.sh guest|plugin [aarch64|x86_64]" >&2
	exit 2
}
kind=${1:-}
arch=${2:-aarch64}
case "$kind" in
# The directory names are part of the cache: the Makefile's PATH names
# qemu-guest, and machines already hold qemu-10.0.2.
guest) version=7.2 suite=bookworm suites="bookworm bookworm-updates" name=qemu-guest ;;
plugin) version=10.0.2 suite=bookworm-backports suites="bookworm bookworm-updates bookworm-backports" name=qemu-10.0.2 ;;
*) usage ;;
esac
case "$arch" in
aarch64) package=qemu-system-arm ;;
x86_64) package=qemu-system-x86 ;;
*)
	echo "qemu: unknown architecture '$arch': use aarch64 or x86_64" >&2
	exit 2
	;;
esac
cache=${MPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/min_prog_trace}
dir=$cache/$name
wrapper=$dir/bin/qemu-system-$arch
# A wrapper of an extraction without ipxe-qemu's ROMs is an older script's.
ready() {
	[ -x "$wrapper" ] && { [ -L "$wrapper" ] || [ -d "$dir/root/usr/lib/ipxe/qemu" ]; } &&
		"$wrapper" --version 2>/dev/null | grep -q "version $version"
}
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
say() { echo "qemu: $*" >&2; }
# A machine whose own QEMU is that version needs no copy.
system=/usr/bin/qemu-system-$arch
if [ -x "$system" ] && "$system" --version | grep -q "version $version"; then
	ln -sfn "$system" "$wrapper"
	echo "$dir"
	exit 0
fi
say "fetching QEMU $version for $arch ($suite) into $dir"
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
# The system's dpkg status is read: what installing QEMU would bring or
# upgrade on this host, unpacked, completes the host's libraries. The
# guest's suites leave backports out, or apt would keep a backports
# qemu-utils the host has and find 7.2 impossible.
private_apt "$dir" "$suites"
# Whatever the suite has comes from it (apt-get -t): otherwise apt pairs a
# backports QEMU with bookworm's data or firmware and finds no solution.
aptopts+=(-o "APT::Default-Release=$suite")
# ipxe-qemu is only a recommendation, but QEMU 10 will not start the virt
# machine's virtio NIC without its efi-virtio.rom.
fetch_debs "$dir" "$dir/root" "$package/$suite" ipxe-qemu
libs=$(find "$dir/root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
binary=$dir/root/usr/bin/qemu-system-$arch
# Debian's QEMU looks for firmware in these three (its --firmwarepath).
firmware=
for d in usr/share/qemu usr/share/seabios usr/lib/ipxe/qemu; do
	firmware="$firmware -L $dir/root/$d"
done
# Not through a link an older run left to a system QEMU since removed.
rm -f "$wrapper"
cat >"$wrapper" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$binary" $firmware "\$@"
WRAP
chmod +x "$wrapper"
if ! "$wrapper" --version | grep -q "version $version"; then
	say "$binary does not run:"
	LD_LIBRARY_PATH=$libs ldd "$binary" | grep 'not found' >&2 || true
	exit 4
fi
say "QEMU $version for $arch ready"
echo "$dir"
