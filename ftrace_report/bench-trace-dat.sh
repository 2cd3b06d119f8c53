#!/usr/bin/env bash
# Times `ftrace_report funcs` on trace-cmd's trace.dat against the same
# events as `trace-cmd report` text (the fixtures of one `make compare`
# recording, function and function_graph), and `trace-cmd report >
# /dev/null` on the same trace.dat when trace-cmd is installed.
# A recording of `min` reads in milliseconds: each timing is REPEAT reads
# in a row, divided by REPEAT.
# Usage: bench-trace-dat.sh BINARY WORKDIR [RUNS] [REPEAT]
set -euo pipefail

bin=$1
dir=$2
runs=${3:-5}
repeat=${4:-20}
data=$(cd "$(dirname "$0")" && pwd)/tests/data
base=$data/aarch64-6.12-trace-cmd-min

mkdir -p "$dir"
for v in report report-graph; do
	[ -s "$dir/$v" ] && [ "$dir/$v" -nt "$base.$v.xz" ] || xz -dc "$base.$v.xz" >"$dir/$v"
done

# shellcheck source=scripts/bench-measure.sh
. "$(dirname "$0")/../scripts/bench-measure.sh"

row() { printf '%-40s %12s %14s %11s %10s\n' "$@"; }
printf 'inputs: %s.dat and -graph.dat (trace-cmd 3.1.6, format 7, zstd) and their report text; %d runs of %d reads each\n' \
	"$base" "$runs" "$repeat"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
row command wall_best_ms wall_median_ms cpu_best_ms vs_text
verdict=met
for pair in "dat:report" "graph.dat:report-graph"; do
	dat=$base.${pair%%:*}
	[ "${pair%%:*}" = dat ] || dat=$base-graph.dat
	text=$dir/${pair#*:}
	events=$("$bin" summary --json "$dat" | grep -o '"events":[0-9]*' | head -1 | cut -d: -f2)
	read -r tb tm tc < <(measure "$runs" "$repeat" 2 "$bin" funcs "$text")
	read -r db dm dc < <(measure "$runs" "$repeat" 2 "$bin" funcs "$dat")
	ratio=$(awk -v a="$db" -v b="$tb" 'BEGIN { printf "%.2f", a / b }')
	awk -v r="$ratio" 'BEGIN { exit !(r > 2) }' && verdict=MISSED
	echo "${dat##*/} ($events events):"
	row "  ftrace_report funcs <report text>" "$tb" "$tm" "$tc" "1.00x"
	row "  ftrace_report funcs <trace.dat>" "$db" "$dm" "$dc" "${ratio}x"
	if command -v trace-cmd >/dev/null; then
		read -r cb cm cc < <(measure "$runs" "$repeat" 2 trace-cmd report -i "$dat")
		row "  trace-cmd report > /dev/null" "$cb" "$cm" "$cc" \
			"$(awk -v a="$cb" -v b="$tb" 'BEGIN { printf "%.2fx", a / b }')"
	else
		echo "  trace-cmd report: not measured, trace-cmd is not installed (make deps installs Debian's)"
	fi
done
echo "target trace.dat reading <= 2x the text's (best wall time): $verdict"
