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

# Best and median wall time in ms over $runs runs.
measure() {
	local f=$1 t0 t1 times=()
	for _ in $(seq "$runs"); do
		t0=$EPOCHREALTIME
		"$f" >/dev/null
		t1=$EPOCHREALTIME
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%s %s\n", v[1], v[int((NR + 1) / 2)] }'
}

read -r ours_best ours_med < <(measure ours)
read -r one_best one_med < <(measure oneliner)
read -r wc_best wc_med < <(measure wcl)

size=$(stat -c %s "$big")
lines=$(wc -l <"$big")
printf 'input: %s (%.1f MB, %d lines, the fixture x%d); wall time over %d runs\n' \
	"$big" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" "$lines" "$copies" "$runs"
printf '%-28s %10s %10s %12s %18s\n' command best_ms median_ms vs_ours unique_functions
printf '%-28s %10s %10s %12s %18s\n' "ftrace_report funcs" "$ours_best" "$ours_med" "1.0x" "$(ours | wc -l)"
printf '%-28s %10s %10s %12s %18s\n' "seed one-liner" "$one_best" "$one_med" \
	"$(awk -v a="$one_best" -v b="$ours_best" 'BEGIN { printf "%.1fx slower", a / b }')" "$(oneliner | wc -l)"
printf '%-28s %10s %10s %12s %18s\n' "wc -l" "$wc_best" "$wc_med" \
	"$(awk -v a="$ours_best" -v b="$wc_best" 'BEGIN { printf "%.1fx faster", a / b }')" "-"
awk -v o="$ours_best" -v s="$one_best" -v w="$wc_best" 'BEGIN {
	printf "target >= 10x faster than the one-liner: %s (%.1fx)\n", (s / o >= 10 ? "met" : "MISSED"), s / o
	printf "target within 5x of wc -l: %s (%.1fx)\n", (o / w <= 5 ? "met" : "MISSED"), o / w
}'
