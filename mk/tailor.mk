# Tailoring (issue 14, tailor/README.md): `make tailor` runs `tailor run`,
# the loop that derives the smallest config that still runs min, builds it
# (scripts/kernel.sh, cached by its hash), boots it (the vmrun library),
# traces min TAILOR_RUNS times on each kernel and compares footprints;
# `make tailor-test` runs the loop and then the Rust tests of its results
# (tailor/tests/loop_results.rs); `make bench-tailor` times its steps;
# `make tailor-table` adds the kernel's own tinyconfig and defconfig
# (built once, cached; defconfig is a long build) to the table.
TAILOR_RESULTS ?= results/aarch64-tailor
TAILOR_RUNS ?= 3
# The payload the loop traces (a static program; `make` builds min and
# min.large into out/aarch64/).
TAILOR_PAYLOAD ?= out/aarch64/min
# Required symbols taken away on purpose, to see the bisection find them.
TAILOR_DROP ?=
# Results of `make groundtruth` on the starting kernel (ID.gt, ID.trace):
# all the ground truth's symbols count.
TAILOR_GROUNDTRUTH ?=
TAILOR := $(CARGO_TARGET_DIR)/release/tailor
TAILOR_ARGS = $(VM_ARGS) --report $(VM_REPORT) --runs $(TAILOR_RUNS) \
	$(foreach s,$(TAILOR_DROP),--drop $(s)) $(if $(TAILOR_GROUNDTRUTH),--groundtruth $(TAILOR_GROUNDTRUTH))
TAILOR_TEST_RESULTS := $(CARGO_TARGET_DIR)/tailor-test
TAILOR_BENCH_RESULTS := $(CARGO_TARGET_DIR)/tailor-bench

.PHONY: tailor tailor-test bench-tailor tailor-table

tailor: vm-tools
	$(CARGO) build --release --locked -p tailor -p ftrace_report
	$(TAILOR) run $(TAILOR_ARGS) --payload $(TAILOR_PAYLOAD) --results $(TAILOR_RESULTS)

# Not in `make test`: the first run builds defconfig.
tailor-table: tailor
	$(TAILOR) table $(VM_ARGS) --payload out/aarch64/min --results $(TAILOR_RESULTS)

# Fails when `tailor run` does (5: the tailored kernel did not boot, or min
# did not run to its --duration; 6: a function ran on one kernel only in
# every run and no removed option explains it), or a test of its results.
tailor-test: vm-tools
	$(CARGO) build --release --locked -p tailor -p ftrace_report
	rm -rf $(TAILOR_TEST_RESULTS)
	$(TAILOR) run $(TAILOR_ARGS) --payload out/aarch64/min --results $(TAILOR_TEST_RESULTS)
	TAILOR_RESULTS=$(abspath $(TAILOR_TEST_RESULTS)) $(CARGO) test --locked -p tailor --features loop-tests --test loop_results

TEST_TARGETS += tailor-test

# A warm loop (both kernels cached after the first): the seconds of each
# step, from the loop's times.tsv.
bench-tailor: vm-tools
	$(CARGO) build --release --locked -p tailor -p ftrace_report
	rm -rf $(TAILOR_BENCH_RESULTS)
	$(TAILOR) run $(TAILOR_ARGS) --payload out/aarch64/min --results $(TAILOR_BENCH_RESULTS)
	@echo "bench-tailor: seconds per step of a tailoring loop ($(TAILOR_RUNS) runs of min per boot):"; \
	sed 's/^/  /' $(TAILOR_BENCH_RESULTS)/times.tsv

BENCH_TARGETS += bench-tailor
