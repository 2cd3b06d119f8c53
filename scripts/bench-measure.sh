# Sourced by the bench scripts (ftrace_report/bench.sh, bench-trace-dat.sh,
# scripts/pages-bench.sh). measure RUNS REPEAT DECIMALS CMD [ARGS...]
# prints the best and the median wall time and the best CPU time (user +
# system, children included: all processes of a pipeline, dot, chromium's
# processes) in ms per call of CMD, over RUNS runs of REPEAT calls each.
# CPU time shows what a loaded machine does to wall time.
measure() {
	local runs=$1 repeat=$2 decimals=$3 t r u s walls=() cpus=()
	shift 3
	local TIMEFORMAT='%3R %3U %3S'
	for _ in $(seq "$runs"); do
		t=$({ time for _ in $(seq "$repeat"); do "$@" >/dev/null 2>&1; done; } 2>&1)
		read -r r u s <<<"$t"
		walls+=("$(awk -v r="$r" -v n="$repeat" -v d="$decimals" 'BEGIN { printf("%." d "f", r * 1000 / n) }')")
		cpus+=("$(awk -v u="$u" -v s="$s" -v n="$repeat" -v d="$decimals" 'BEGIN { printf("%." d "f", (u + s) * 1000 / n) }')")
	done
	printf '%s %s %s\n' \
		"$(printf '%s\n' "${walls[@]}" | sort -n | head -1)" \
		"$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
		"$(printf '%s\n' "${cpus[@]}" | sort -n | head -1)"
}
