# ftrace_report (host analyser): `make bench-report` times `ftrace_report
# funcs` against the seed's one-liner and `wc -l` on a ~70 MB trace.
REPORT_BENCH_DIR ?= $(CARGO_TARGET_DIR)/bench-report
REPORT_BENCH_RUNS ?= 5

.PHONY: bench-report
bench-report: deps
	$(CARGO) build --release --locked -p ftrace_report
	ftrace_report/bench.sh $(CARGO_TARGET_DIR)/release/ftrace_report $(REPORT_BENCH_DIR) $(REPORT_BENCH_RUNS)

BENCH_TARGETS += bench-report

# `make bench-trace-dat`: ftrace_report on trace-cmd's trace.dat against the
# same events as `trace-cmd report` text, and `trace-cmd report` itself.
TRACE_DAT_BENCH_RUNS ?= 5
TRACE_DAT_BENCH_REPEAT ?= 20

.PHONY: bench-trace-dat
bench-trace-dat: deps
	$(CARGO) build --release --locked -p ftrace_report
	ftrace_report/bench-trace-dat.sh $(CARGO_TARGET_DIR)/release/ftrace_report $(REPORT_BENCH_DIR) $(TRACE_DAT_BENCH_RUNS) $(TRACE_DAT_BENCH_REPEAT)

BENCH_TARGETS += bench-trace-dat
