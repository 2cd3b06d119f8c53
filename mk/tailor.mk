# Tailoring (issue 14, tailor/README.md): `make tailor` derives the
# smallest config that still runs min, builds it (cached by its hash),
# boots it, traces min TAILOR_RUNS times on each kernel and compares
# footprints; `make tailor-test` asserts on the loop; `make bench-tailor`
# times its steps; `make tailor-table` adds the kernel's own tinyconfig and
# defconfig (built once, cached; defconfig is a long build) to the table.
TAILOR_RESULTS ?= results/aarch64-tailor
TAILOR_RUNS ?= 3
# The payload the loop traces (a static program; `make` builds min and
# min.large into out/aarch64/).
TAILOR_PAYLOAD ?= out/aarch64/min
TAILOR := $(CARGO_TARGET_DIR)/release/tailor
TAILOR_TEST_RESULTS := $(CARGO_TARGET_DIR)/tailor-test
TAILOR_BENCH_RESULTS := $(CARGO_TARGET_DIR)/tailor-bench

.PHONY: tailor tailor-test bench-tailor tailor-table

tailor: vm-tools
	$(CARGO) build --release --locked -p tailor -p ftrace_report
	scripts/tailor.sh $(TAILOR_RESULTS) $(TAILOR) $(VMRUN) $(VM_REPORT) "$(VM_ARGS)" $(TAILOR_PAYLOAD) $(TAILOR_RUNS)

# Not in `make test`: the first run builds defconfig.
tailor-table: tailor
	scripts/tailor-table.sh $(TAILOR_RESULTS) $(VMRUN) "$(VM_ARGS)" out/aarch64/min

# Fails on any exit of scripts/tailor.sh but 0: 5 (the tailored kernel did
# not boot, or min did not run to its --duration), 6 (a function ran on
# one kernel only in every run and no removed option explains it).
tailor-test: vm-tools
	$(CARGO) build --release --locked -p tailor -p ftrace_report
	@rm -rf $(TAILOR_TEST_RESULTS); \
	scripts/tailor.sh $(TAILOR_TEST_RESULTS) $(TAILOR) $(VMRUN) $(VM_REPORT) "$(VM_ARGS)" out/aarch64/min $(TAILOR_RUNS) || \
		{ echo "tailor-test: scripts/tailor.sh exited $$?" >&2; exit 1; }; \
	t=$(TAILOR_TEST_RESULTS)/table.md; \
	start=$$(awk -F'|' '/^\| starting/ { print $$3 + 0 }' $$t); tailored=$$(awk -F'|' '/^\| tailored/ { print $$3 + 0 }' $$t); \
	[ "$$tailored" -gt 0 ] && [ "$$tailored" -lt "$$start" ] || { echo "tailor-test: tailored =y $$tailored not below $$start" >&2; exit 1; }; \
	grep -q '^check: Kconfig honoured' $(TAILOR_TEST_RESULTS)/kconfig.txt || exit 1; \
	! grep -q ': unexplained$$' $(TAILOR_TEST_RESULTS)/compare.txt || { echo "tailor-test: unexplained differences in compare.txt" >&2; exit 1; }; \
	echo "tailor-test: tailored kernel booted, min ran to --duration $(TAILOR_RUNS) times on each kernel, =y $$start -> $$tailored; $$(head -1 $(TAILOR_TEST_RESULTS)/compare.txt)"

TEST_TARGETS += tailor-test

# A warm loop (both kernels cached after the first): the seconds of each
# step, from scripts/tailor.sh's times.tsv.
bench-tailor: vm-tools
	$(CARGO) build --release --locked -p tailor -p ftrace_report
	@rm -rf $(TAILOR_BENCH_RESULTS); \
	scripts/tailor.sh $(TAILOR_BENCH_RESULTS) $(TAILOR) $(VMRUN) $(VM_REPORT) "$(VM_ARGS)" out/aarch64/min $(TAILOR_RUNS) || \
		{ echo "bench-tailor: scripts/tailor.sh exited $$?" >&2; exit 1; }; \
	echo "bench-tailor: seconds per step of a tailoring loop ($(TAILOR_RUNS) runs of min per boot):"; \
	sed 's/^/  /' $(TAILOR_BENCH_RESULTS)/times.tsv

BENCH_TARGETS += bench-tailor
