# `make compare`: one aarch64 boot traces `min` with ftrace_it and with
# Debian's arm64 trace-cmd (`trace-cmd record -p function -F /usr/bin/min`,
# its packages unpacked by scripts/trace-cmd-arm64.sh into the cache, put
# into the initramfs by `vmrun --sysroot`, run by `vmrun --direct`; a
# second run, under another name since run ids are unique, with
# `-p function_graph`), then
# writes the trace-cmd fixtures of ftrace_report/tests/trace_cmd.rs
# (scripts/trace-cmd-fixtures.sh; COMPARE_DATA=DIR writes them elsewhere)
# and prints the two recordings side by side (scripts/compare-table.py,
# also into compare.md). Included by the top Makefile.

COMPARE_RESULTS := $(CARGO_TARGET_DIR)/compare/aarch64
COMPARE_DURATION ?= 0.5
COMPARE_DATA := ftrace_report/tests/data

.PHONY: compare
compare:
	@$(MAKE) --no-print-directory vm-tools ARCH=aarch64
	$(CARGO) build --release --locked -p ftrace_report
	@kdir=$$(scripts/kernel.sh aarch64) && tc=$$(scripts/trace-cmd-arm64.sh) && \
	ln -sf trace-cmd "$$tc/usr/bin/trace-cmd-graph" && \
	$(VMRUN) run --arch aarch64 --init $(CARGO_TARGET_DIR)/aarch64-unknown-linux-musl/release/guest_init \
		--ftrace-it out/aarch64/ftrace_it --kernel-dir "$$kdir" --sysroot "$$tc" \
		--payload out/aarch64/min \
		--direct "$$tc/usr/bin/trace-cmd record -q -p function -o /tmp/out/trace-cmd.dat -F /usr/bin/min" \
		--direct "$$tc/usr/bin/trace-cmd-graph record -q -p function_graph -o /tmp/out/trace-cmd-graph.dat -F /usr/bin/min" \
		--tracer function --duration $(COMPARE_DURATION) --results $(COMPARE_RESULTS) \
		--report $(VM_REPORT) && \
	scripts/trace-cmd-fixtures.sh $(COMPARE_RESULTS) "$$tc" $(COMPARE_DATA)
	scripts/compare-table.py $(VM_REPORT) $(COMPARE_RESULTS) | tee $(COMPARE_RESULTS)/compare.md
