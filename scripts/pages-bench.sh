#!/usr/bin/env bash
# `make bench-pages`: the size of ftrace_report's HTML pages and the time to
# write them (a 1-second min trace, the function_graph one, the ~70 MB
# bench file of bench-report) and for headless Chromium to load one and run
# its script (browser start included; an empty page for comparison).
# Targets (issue 13): min <= 2 MB and <= 1 s; the 70 MB trace <= 5 s;
# Chromium <= 2 s. Figures only: nothing here fails on a slow machine.
# Usage: pages-bench.sh REPORT WORKDIR RUNS BIG_DIR
set -euo pipefail

bin=$1
dir=$2
runs=$3
big_dir=$4
data=$(cd "$(dirname "$0")/../ftrace_report/tests/data" && pwd)
mkdir -p "$dir" "$big_dir"

# The bench file of bench-report (ftrace_report/bench.sh): the x86_64
# fixture 10 times over.
big=$big_dir/bench-function-x10.trace
if [ ! -s "$big" ]; then
	xz -dc "$data/x86_64-debian6.1-original-function-min.trace.xz" >"$dir/one.trace"
	for _ in $(seq 10); do cat "$dir/one.trace"; done >"$big.tmp"
	mv "$big.tmp" "$big"
	rm "$dir/one.trace"
fi
for t in function-min function_graph-min; do
	xz -dc "$data/aarch64-6.12-$t.trace.xz" >"$dir/$t.trace"
done

# shellcheck source=scripts/bench-measure.sh
. "$(dirname "$0")/bench-measure.sh"

row() { printf '%-44s %9s %13s %15s %12s  %s\n' "$@"; }
printf 'load average: %s; %d runs each (the 70 MB trace: 2, chromium: 3)\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$runs"
row page size_KiB wall_best_ms wall_median_ms cpu_best_ms target
for t in function-min function_graph-min; do
	read -r best med cpu < <(measure "$runs" 1 0 "$bin" html "$dir/$t.trace" -o "$dir/$t.html")
	row "html aarch64 $t (1 s)" "$(($(stat -c %s "$dir/$t.html") / 1024))" "$best" "$med" "$cpu" "<=2048 KiB, <=1000 ms"
done
read -r best med cpu < <(measure 2 1 0 "$bin" html "$big" -o "$dir/big.html")
row "html $(basename "$big") ($(($(stat -c %s "$big") / 1000000)) MB)" \
	"$(($(stat -c %s "$dir/big.html") / 1024))" "$best" "$med" "$cpu" "<=5000 ms"

chromium_load() {
	local profile
	profile=$(mktemp -d)
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --dump-dom "$1"
	rm -rf "$profile"
}
printf '<!DOCTYPE html><html><body></body></html>\n' >"$dir/empty.html"
read -r best med cpu < <(measure 3 1 0 chromium_load "file://$dir/empty.html")
row "chromium: an empty page (browser start)" 0 "$best" "$med" "$cpu" "-"
read -r best med cpu < <(measure 3 1 0 chromium_load "file://$dir/function-min.html")
row "chromium: the min page, script run" "$(($(stat -c %s "$dir/function-min.html") / 1024))" "$best" "$med" "$cpu" "<=2000 ms"
