# The QEMU guest flow (vmrun/README.md): `make trace`, `make vm-test`,
# `make bench-vm`. Included by the top Makefile.

# The experiment is about the aarch64 guest: `make trace` means aarch64
# unless ARCH is given explicitly (command line or environment).
VM_ARCH := $(if $(filter command line environment environment override,$(origin ARCH)),$(ARCH),aarch64)
VM_INIT := $(CARGO_TARGET_DIR)/$(VM_ARCH)-unknown-linux-musl/release/guest_init
VMRUN := $(CARGO_TARGET_DIR)/release/vmrun
VM_REPORT := $(CARGO_TARGET_DIR)/release/ftrace_report

# Knobs of `make trace`.
TRACER ?= function
DURATION ?= 1
PAYLOADS ?= min min.large
ACCEL ?= tcg
RESULTS ?= results/$(VM_ARCH)
# Empty: semihosting on aarch64, the console elsewhere.
CHANNEL ?=
# Empty: vmrun picks one from the number of runs and DURATION.
TIMEOUT ?=
# A payload with arguments, as one shell-quoted command line (COMMAND),
# and a run file of such lines (RUNS): both add to PAYLOADS. Make exports
# command-line variables, so the recipe passes COMMAND from the environment
# and its quotes reach vmrun untouched.
COMMAND ?=
RUNS ?=
# Where dynamic payloads' libraries come from (default: Debian's cross
# libc), and a root file system under ours (directory or cpio).
SYSROOT ?=
ROOTFS ?=

# A bare name is one of ours in out/ARCH/, anything else a path.
VM_PAYLOAD_ARGS = $(foreach p,$(PAYLOADS),--payload $(if $(findstring /,$(p)),$(p),out/$(VM_ARCH)/$(p)))
VM_ARGS = --arch $(VM_ARCH) --init $(VM_INIT) --ftrace-it out/$(VM_ARCH)/ftrace_it \
	--accel $(ACCEL) $(if $(CHANNEL),--channel $(CHANNEL)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	$(if $(SYSROOT),--sysroot $(SYSROOT)) $(if $(ROOTFS),--rootfs $(ROOTFS))

.PHONY: vm-tools vm-test bench-vm bench-dynamic testprogs

# Our C test payloads for the guest (testprogs/), built with the cross gcc
# against Debian's cross glibc: a static one with arguments, a dynamic one
# (libc, libm), one with two threads, one that forks and execs.
TESTPROGS_CC := $(VM_ARCH)-linux-gnu-gcc
TESTPROGS_DIR := out/$(VM_ARCH)/testprogs
TESTPROGS := args_static hello_dyn threads forkexec
TESTPROGS_FLAGS_args_static := -static
TESTPROGS_FLAGS_hello_dyn := -lm
TESTPROGS_FLAGS_threads := -pthread
$(TESTPROGS_DIR)/%: testprogs/%.c
	@mkdir -p $(@D)
	$(TESTPROGS_CC) -O2 -Wall -Werror -o $@ $< $(TESTPROGS_FLAGS_$*)
testprogs: $(addprefix $(TESTPROGS_DIR)/,$(TESTPROGS))

# Everything but the kernel; cargo and kernel.sh skip what is up to date.
vm-tools: deps
	@$(MAKE) --no-print-directory ARCH=$(VM_ARCH) all testprogs
	$(CARGO) build --release --locked --target $(VM_ARCH)-unknown-linux-musl -p guest_init
	$(CARGO) build --release --locked -p vmrun

# Summaries need ftrace_report; a trace without them is still worth having.
trace: vm-tools
	@report=; if $(CARGO) build --release --locked -p ftrace_report; then \
		report="--report $(VM_REPORT)"; \
	else echo "trace: ftrace_report does not build: no summaries this time" >&2; fi; \
	kdir=$$(scripts/kernel.sh $(VM_ARCH)) && \
	$(VMRUN) run $(VM_ARGS) --kernel-dir "$$kdir" $(VM_PAYLOAD_ARGS) \
		$${COMMAND:+--command "$$COMMAND"} $(if $(RUNS),--runs $(RUNS)) \
		--tracer $(TRACER) --duration $(DURATION) --results $(RESULTS) $$report

# One boot runs min and min.large, a run killed mid-trace then restored
# (ftrace_it --restore), a function_graph run, a missing program, a bad CPU
# and a run with a trace_pipe reader open, and sends a console copy with
# kernel messages interleaved;
# the tests then check the real traces and settings it brought back.
VM_TEST_RESULTS := $(CARGO_TARGET_DIR)/vm-test/$(VM_ARCH)
vm-test: vm-tools
	$(CARGO) build --release --locked -p ftrace_report
	@kdir=$$(scripts/kernel.sh $(VM_ARCH)) && \
	mkdir -p $(dir $(VM_TEST_RESULTS)) && printf '%s\n' '# forkexec runs args_static in its child' \
		"$(TESTPROGS_DIR)/forkexec /usr/bin/args_static from-child" >$(VM_TEST_RESULTS).runs && \
	$(VMRUN) run $(VM_ARGS) --kernel-dir "$$kdir" --payload out/$(VM_ARCH)/min \
		--payload out/$(VM_ARCH)/min.large \
		--command "$(TESTPROGS_DIR)/args_static one 'two words' 'a\"b'" \
		--command "$(TESTPROGS_DIR)/hello_dyn x" --command $(TESTPROGS_DIR)/threads \
		--runs $(VM_TEST_RESULTS).runs --tracer function --duration 1 --checks \
		--results $(VM_TEST_RESULTS) --report $(VM_REPORT) && \
	VM_RESULTS=$(VM_TEST_RESULTS) VMRUN=$(abspath $(VMRUN)) KERNEL_DIR="$$kdir" \
		TESTPROGS=$(abspath $(TESTPROGS_DIR)) VM_INIT=$(abspath $(VM_INIT)) \
		FTRACE_IT=$(abspath out/$(VM_ARCH)/ftrace_it) FTRACE_REPORT=$(abspath $(VM_REPORT)) \
		$(CARGO) test --locked -p vmrun --features guest-tests --test guest

TEST_TARGETS += vm-test

# Warm run: everything built and the kernel cached, so this is the time a
# user waits for `make trace` once set up. The cold figure adds the kernel
# build time kernel.sh recorded when it filled the cache.
bench-vm: vm-tools
	@kdir=$$(scripts/kernel.sh $(VM_ARCH) 2>/dev/null) && \
	start=$$(date +%s.%N) && \
	{ $(MAKE) --no-print-directory trace VM_ARCH=$(VM_ARCH) >$(CARGO_TARGET_DIR)/bench-vm.log 2>&1 \
		|| { cat $(CARGO_TARGET_DIR)/bench-vm.log; exit 1; }; } && \
	end=$$(date +%s.%N) && \
	warm=$$(echo "$$end - $$start" | bc) && \
	kbuild=$$(cat "$$kdir/build-seconds" 2>/dev/null || echo unknown) && \
	printf 'bench-vm: warm `make trace` (%s, %s, kernel cached): %.1f s wall (target <= 10 s)\n' \
		$(VM_ARCH) "$(PAYLOADS)" "$$warm" && \
	if [ "$$kbuild" != unknown ]; then \
		printf 'bench-vm: cold run >= kernel build %s s (recorded in %s when the cache was filled) + warm run = %.0f s, plus the first build of the tools (target <= 360 s)\n' \
			"$$kbuild" "$$kdir/build-seconds" "$$(echo "$$kbuild + $$warm" | bc)"; \
	else echo "bench-vm: kernel build time not recorded (cache filled by an older kernel.sh)"; fi
BENCH_TARGETS += bench-vm

# Issue 12: a dynamic payload (hello_dyn, a 2 MB glibc closure from the
# sysroot) must cost a warm `make trace` no more than its own run time
# (runs.tsv) plus 1 s. Both runs warm, one after the other.
bench-dynamic: vm-tools
	$(CARGO) build --release --locked -p ftrace_report
	@scripts/kernel.sh $(VM_ARCH) >/dev/null 2>&1 && \
	closure=$$(du -cbL /usr/$(VM_ARCH)-linux-gnu/lib/ld-linux-*.so.* /usr/$(VM_ARCH)-linux-gnu/lib/libc.so.6 \
		/usr/$(VM_ARCH)-linux-gnu/lib/libm.so.6 | tail -1 | cut -f1) && \
	t() { s=$$(date +%s.%N); $(MAKE) --no-print-directory trace VM_ARCH=$(VM_ARCH) PAYLOADS="$$1" \
		RESULTS=$(CARGO_TARGET_DIR)/bench-dynamic >$(CARGO_TARGET_DIR)/bench-dynamic.log 2>&1 \
		|| { cat $(CARGO_TARGET_DIR)/bench-dynamic.log; exit 1; }; echo "$$(date +%s.%N) - $$s" | bc; } && \
	without=$$(t "$(PAYLOADS)") && with=$$(t "$(PAYLOADS) $(TESTPROGS_DIR)/hello_dyn") && \
	own=$$(awk -F'\t' '$$1 == "hello_dyn" { print $$3 }' $(CARGO_TARGET_DIR)/bench-dynamic/runs.tsv) && \
	printf 'bench-dynamic: warm `make trace` %.1f s without, %.1f s with hello_dyn (%s bytes of loader and libraries): +%.1f s, of which its run %.1f s: %.1f s more than its run (target <= 1 s)\n' \
		"$$without" "$$with" "$$closure" "$$(echo "$$with - $$without" | bc)" "$$own" \
		"$$(echo "$$with - $$without - $$own" | bc)"
BENCH_TARGETS += bench-dynamic
