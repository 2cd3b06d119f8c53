#!/usr/bin/env bash
# From a `make compare` recording (RESULTS/trace-cmd.dat, recorded in the
# guest by Debian's arm64 trace-cmd) writes the fixtures of
# ftrace_report/tests/trace_cmd.rs into DATA: the trace.dat, its
# `trace-cmd report` variants (the same arm64 trace-cmd, run on the host by
# qemu-aarch64-static with the unpacked packages as its root), xz-compressed.
# `-R` (raw) prints the event's own fields: `ip=func parent_ip=caller`,
# named by libtraceevent from the trace.dat's kallsyms, without the function
# plugin that prints the other variants.
# Usage: trace-cmd-fixtures.sh RESULTS SYSROOT DATA
# Exit: 2 usage, 3 a missing input, 4 trace-cmd report failed.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 RESULTS SYSROOT DATA" >&2; exit 2; }
results=$1 root=$2 data=$3
say() { echo "trace-cmd-fixtures: $*" >&2; }
for f in "$results/trace-cmd.dat" "$results/trace-cmd-graph.dat" "$root/usr/bin/trace-cmd"; do
	[ -f "$f" ] || { say "missing $f"; exit 3; }
done
command -v qemu-aarch64-static >/dev/null || { say "qemu-aarch64-static is missing (Debian qemu-user-static)"; exit 3; }

base=$data/aarch64-6.12-trace-cmd-min
cp "$results/trace-cmd.dat" "$base.dat"
cp "$results/trace-cmd-graph.dat" "$base-graph.dat"
# report NAME [-g] ARG...: `trace-cmd report` of the function recording
# (of the function_graph one with -g) into $base.NAME.
report() {
	local name=$1 dat=$base.dat
	shift
	if [ "${1:-}" = -g ]; then dat=$base-graph.dat; shift; fi
	qemu-aarch64-static -L "$root" "$root/usr/bin/trace-cmd" report -i "$dat" "$@" \
		>"$base.$name" 2>"$base.$name.err" || { say "trace-cmd report $* failed:"; cat "$base.$name.err" >&2; exit 4; }
	rm -f "$base.$name.err"
}
report report
report report-parent -O parent=1
report report-noindent -O indent=0
report report-l -l
report report-l-parent -l -O parent=1
report report-raw -R
report report-graph -g
report report-graph-l -g -l
report report-graph-raw -g -R
for f in report report-parent report-noindent report-l report-l-parent report-raw report-graph report-graph-l report-graph-raw; do
	xz -9 -f "$base.$f"
done
say "$(ls -s --block-size=K "$base".* | tr '\n' ' ')"
