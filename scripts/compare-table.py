#!/usr/bin/env python3
"""`make compare`'s table: min under ftrace_it and under trace-cmd, one boot.

Usage: compare-table.py REPORT RESULTS

RESULTS is a `make compare` directory: `min.trace` (ftrace_it -o) and
`trace-cmd.dat` (`trace-cmd record -p function -F /usr/bin/min`), each with
the guest's tracefs settings and IRQ affinities before and after its run
(`ID.state-before`, `ID.state-after`). Every figure comes from ftrace_report
(REPORT) reading the two recordings, the trace.dat directly: no trace-cmd on
the host. Prints a Markdown table.
"""

import json
import subprocess
import sys
from pathlib import Path

# What a ring buffer reader's wake-up runs on the traced CPU: ftrace_report's
# list (names::reader_artefacts), which vm-test holds ftrace_it's traces to.
ARTEFACTS = set(
    (Path(__file__).resolve().parent.parent / "trace_analysis/src/reader_artefacts.txt")
    .read_text()
    .split()
)
# Perfetto export: the per-CPU tracks live in this pseudo process.
CPUS_PID = (1 << 22) + 1


def report(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    if out.returncode not in (0, 8):
        sys.exit(f"compare-table: ftrace_report {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def figures(binary, trace, state):
    summary = json.loads(report(binary, "summary", "--json", str(trace)))
    phases = {p["phase"]: p for p in summary["phases"]}

    def events(phase):
        ctx = phases.get(phase, {}).get("contexts", {})
        return sum(c["events"] for c in ctx.values())

    artefacts = 0
    for line in report(binary, "folded", str(trace)).splitlines():
        stack, _, count = line.rpartition(" ")
        if stack.split(";")[-1] in ARTEFACTS:
            artefacts += int(count)
    perfetto = json.loads(report(binary, "perfetto", str(trace)))
    cpus = sorted(
        e["args"]["name"].removeprefix("CPU ")
        for e in perfetto["traceEvents"]
        if e["ph"] == "M" and e["pid"] == CPUS_PID and e["name"] == "thread_name"
    )
    before, after = (Path(f"{state}.state-{w}") for w in ("before", "after"))
    if before.exists() and after.exists():
        restored = "yes" if before.read_bytes() == after.read_bytes() else "no"
    else:
        restored = "not recorded"
    return {
        "events of the program's tree": summary["target_events"],
        "before its execve (pre-exec)": events("pre-exec"),
        "its execve (exec)": events("exec"),
        "run": events("run"),
        "exit": events("exit"),
        "functions": summary["unique_functions"],
        "ring buffer reader artefacts": artefacts,
        "CPU of the program": ", ".join(cpus),
        "lost events": summary["lost"]["total"],
        "settings and IRQ affinities restored": restored,
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    binary, results = sys.argv[1], Path(sys.argv[2])
    columns = {
        "ftrace_it": figures(binary, results / "min.trace", results / "min"),
        "trace-cmd": figures(binary, results / "trace-cmd.dat", results / "trace-cmd"),
    }
    print("| min, function tracer, one boot | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for row in columns["ftrace_it"]:
        print(f"| {row} | " + " | ".join(str(c[row]) for c in columns.values()) + " |")


if __name__ == "__main__":
    main()
