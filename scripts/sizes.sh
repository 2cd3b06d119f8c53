#!/usr/bin/env bash
# Prints each binary's stripped size next to its budget and the C original's.
set -euo pipefail
cd "$(dirname "$0")/.."

budget() {
	case $1 in
	ftrace_it) echo 32768 ;;
	min) echo 512 ;;
	min.large) echo $((1048576 + 1024)) ;;
	esac
}
# Sizes of the C originals, measured (see ../shared/docs/original.md).
original() {
	case $1/$2 in
	aarch64/ftrace_it) echo 775696 ;;
	aarch64/min) echo 1408 ;;
	x86_64/min) echo 9048 ;;
	aarch64/min.large) echo 1050008 ;;
	*) echo - ;;
	esac
}

status=0
printf '%-8s %-10s %10s %10s %12s  %s\n' arch binary bytes budget original verdict
for arch in aarch64 x86_64; do
	for bin in ftrace_it min min.large; do
		f=out/$arch/$bin
		if [ ! -f "$f" ]; then
			echo "sizes: $f is missing: run make ARCH=$arch" >&2
			exit 2
		fi
		size=$(stat -c %s "$f")
		limit=$(budget $bin)
		verdict=ok
		if [ "$size" -gt "$limit" ]; then verdict=OVER; status=1; fi
		printf '%-8s %-10s %10d %10d %12s  %s\n' "$arch" "$bin" "$size" "$limit" "$(original "$arch" $bin)" "$verdict"
	done
done
exit $status
