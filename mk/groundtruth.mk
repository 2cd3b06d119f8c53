# Ground truth (issue 11): the payloads under our TCG plugin (gt_plugin) in
# a QEMU with plugin API 4 (scripts/qemu.sh plugin, cached), each traced and
# then run with the same isolation and no tracer; `ftrace_report
# groundtruth` compares. `make groundtruth [ARCH=x86_64]`, `make
# groundtruth-test` (part of `make test`, both guests), `make
# bench-groundtruth`.
GT_RESULTS ?= results/$(VM_ARCH)-groundtruth
GT_PLUGIN := $(CARGO_TARGET_DIR)/release/libgt_plugin.so
GT_TEST_RESULTS := $(CARGO_TARGET_DIR)/groundtruth-test
GT_ARCHS := aarch64 x86_64

.PHONY: groundtruth groundtruth-test bench-groundtruth

groundtruth: vm-tools
	$(CARGO) build --release --locked -p gt_plugin -p ftrace_report
	@qemu=$$(scripts/qemu.sh plugin $(VM_ARCH))/bin/qemu-system-$(VM_ARCH) && \
	kdir=$$(scripts/kernel.sh $(VM_ARCH)) && \
	$(VMRUN) run $(VM_ARGS) --kernel-dir "$$kdir" $(VM_PAYLOAD_ARGS) --tracer function \
		--duration $(DURATION) --results $(GT_RESULTS) --report $(VM_REPORT) \
		--groundtruth $(GT_PLUGIN) --qemu "$$qemu" && \
	for p in $(notdir $(PAYLOADS)); do \
		$(VM_REPORT) groundtruth $(GT_RESULTS)/$$p.trace $(GT_RESULTS)/$$p.gt \
			--notrace $(GT_RESULTS)/$$p.notrace.gt --kernel-build "$$kdir" \
			>$(GT_RESULTS)/$$p.groundtruth || echo "groundtruth: $$p: ftrace and the ground truth disagree" >&2; \
		echo "groundtruth: $$p: $(GT_RESULTS)/$$p.groundtruth"; \
	done

# Each guest boots once (groundtruth-test-one ARCH=...); the checks that
# do not depend on the guest's architecture run on aarch64's results.
groundtruth-test:
	@for arch in $(GT_ARCHS); do \
		$(MAKE) --no-print-directory groundtruth-test-one ARCH=$$arch || exit 1; \
	done

.PHONY: groundtruth-test-one
groundtruth-test-one:
	@$(MAKE) --no-print-directory groundtruth PAYLOADS="min min.large" GT_RESULTS=$(GT_TEST_RESULTS)/$(VM_ARCH)
	scripts/groundtruth-test.sh $(VM_ARCH) $(GT_TEST_RESULTS)/$(VM_ARCH) $(VMRUN) $(GT_PLUGIN) "$(VM_ARGS)" $(VM_REPORT)

TEST_TARGETS += groundtruth-test

# Side by side: a warm `make trace` and a `make groundtruth` (target <= 2x).
bench-groundtruth: vm-tools groundtruth
	@t() { s=$$(date +%s.%N); $(MAKE) --no-print-directory $$1 >$(CARGO_TARGET_DIR)/bench-$$1.log 2>&1 \
		|| { cat $(CARGO_TARGET_DIR)/bench-$$1.log; exit 1; }; echo "$$(date +%s.%N) - $$s" | bc; } && \
	trace=$$(t trace) && gt=$$(t groundtruth) && \
	printf 'bench-groundtruth: warm make trace %.1f s, make groundtruth %.1f s (%.2fx, target <= 2x)\n' \
		"$$trace" "$$gt" "$$(echo "$$gt / $$trace" | bc -l)"

BENCH_TARGETS += bench-groundtruth
