#!/usr/bin/env bash
# Times `ftrace_report funcs`, the seed's one-liner and `wc -l` side by side
# on one large function trace (the real fixture concatenated to ~70 MB).
# Usage: bench.sh BINARY WORKDIR [RUNS]
set -euo pipefail

bin=$1
dir=$2
runs=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
fixture=$here/tests/data/x86_64-debian6.1-original-function-min.trace.xz
copies=10
big=$dir/bench-function-x$copies.trace

mkdir -p "$dir"
if [ ! -s "$big" ] || [ "$fixture" -nt "$big" ]; then
	xz -dc "$fixture" >"$dir/one.trace"
	for _ in $(seq $copies); do cat "$dir/one.trace"; done >"$big.tmp"
	mv "$big.tmp" "$big"
	rm "$dir/one.trace"
fi
cat "$big" >/dev/null # page cache

ours() { "$bin" funcs "$big"; }
# The seed README's recipe, verbatim (grep by command name).
oneliner() { cat "$big" | grep min | cut -d: -f2 | sed -r 's/ *<-/\n/' | tr -d $'\r' | sed -e 's/^ //' | sort | uniq; }
wcl() { wc -l "$big"; }

# shellcheck source=scripts/bench-measure.sh
. "$(dirname "$0")/../scripts/bench-measure.sh"

read -r ours_best ours_med ours_cpu < <(measure "$runs" 1 1 ours)
read -r one_best one_med one_cpu < <(measure "$runs" 1 1 oneliner)
read -r wc_best wc_med wc_cpu < <(measure "$runs" 1 1 wcl)

size=$(stat -c %s "$big")
lines=$(wc -l <"$big")
printf 'input: %s (%.1f MB, %d lines, the fixture x%d); %d runs each\n' \
	"$big" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" "$lines" "$copies" "$runs"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
row() { printf '%-22s %12s %14s %11s %13s %17s\n' "$@"; }
row command wall_best_ms wall_median_ms cpu_best_ms vs_ours_wall unique_functions
row "ftrace_report funcs" "$ours_best" "$ours_med" "$ours_cpu" "1.0x" "$(ours | wc -l)"
row "seed one-liner" "$one_best" "$one_med" "$one_cpu" \
	"$(awk -v a="$one_best" -v b="$ours_best" 'BEGIN { printf "%.1fx slower", a / b }')" "$(oneliner | wc -l)"
row "wc -l" "$wc_best" "$wc_med" "$wc_cpu" \
	"$(awk -v a="$ours_best" -v b="$wc_best" 'BEGIN { printf "%.1fx faster", a / b }')" "-"
awk -v o="$ours_best" -v s="$one_best" -v w="$wc_best" -v oc="$ours_cpu" -v sc="$one_cpu" -v wcc="$wc_cpu" 'BEGIN {
	printf "target >= 10x faster than the one-liner: %s (wall %.1fx, cpu %.1fx)\n", (s / o >= 10 ? "met" : "MISSED"), s / o, (oc > 0 ? sc / oc : 0)
	printf "target within 5x of wc -l: %s (wall %.1fx, cpu %.1fx)\n", (o / w <= 5 ? "met" : "MISSED"), o / w, (wcc > 0 ? oc / wcc : 0)
}'
