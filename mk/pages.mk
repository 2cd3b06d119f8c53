# ftrace_report's HTML pages (`ftrace_report html`, report_pages/).
# `make pages-test`: the pages of the committed guest traces and, when
# `make trace` left them, of its results, opened in headless Chromium
# (scripts/pages-test.py); screenshots in target/pages/.
# `make bench-pages`: their size and the time to write and to show them.
PAGES_DIR ?= $(CARGO_TARGET_DIR)/pages
PAGES_BENCH_RUNS ?= 5

.PHONY: pages-test bench-pages
pages-test: deps
	$(CARGO) build --release --locked -p ftrace_report
	scripts/pages-test.py $(CARGO_TARGET_DIR)/release/ftrace_report $(PAGES_DIR) $(RESULTS)

bench-pages: deps
	$(CARGO) build --release --locked -p ftrace_report
	scripts/pages-bench.sh $(CARGO_TARGET_DIR)/release/ftrace_report $(CARGO_TARGET_DIR)/bench-pages \
		$(PAGES_BENCH_RUNS) $(REPORT_BENCH_DIR)

TEST_TARGETS += pages-test
BENCH_TARGETS += bench-pages
