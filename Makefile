# min_prog_trace: build, cross-build, install, test and run the tracing
# experiment. `make help` lists the targets.

HOST_ARCH := $(shell uname -m)

# Buildroot calls `make CROSS_COMPILE=aarch64-buildroot-linux-musl-`: the
# architecture is the first field of the prefix.
ifneq ($(CROSS_COMPILE),)
ARCH ?= $(firstword $(subst -, ,$(notdir $(CROSS_COMPILE))))
else
ARCH ?= $(HOST_ARCH)
endif
ifeq ($(filter $(ARCH),x86_64 aarch64),)
$(error ARCH=$(ARCH) is not supported: use ARCH=aarch64 or ARCH=x86_64)
endif

# The C compiler is only the linker driver of the static target binaries.
ifneq ($(CROSS_COMPILE),)
TARGET_CC := $(CROSS_COMPILE)gcc
else ifeq ($(ARCH),$(HOST_ARCH))
TARGET_CC := cc
else
TARGET_CC := $(ARCH)-linux-gnu-gcc
endif

CARGO ?= cargo
# The project's cache (kernels, private QEMUs, trace-cmd), for every script.
export MPT_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/min_prog_trace
# The guest's QEMU lives there, not in the system (scripts/qemu.sh).
export PATH := $(MPT_CACHE)/qemu-guest/bin:$(PATH)
# Absolute: tests read built files from their own crate directory.
CARGO_TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
TARGET := $(ARCH)-unknown-linux-musl
TARGET_ENV := $(shell echo $(TARGET) | tr a-z- A-Z_)
OUT := out/$(ARCH)
DESTDIR ?=
PREFIX ?= /usr

# Static, not PIE, no C start files: the target crates bring their own entry.
# Flags from the environment would replace these, not add to them.
unexport RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
TARGET_RUSTFLAGS := -C relocation-model=static -C link-self-contained=no -C target-feature=+crt-static
# aarch64: each binary's code reaches its data within the tiny code model's
# +-1 MiB (one adr, not adrp+add: ftrace_it is 900 B smaller); min.large's
# 1 MiB lies between its code and its loop, not its data, and a reference
# out of reach fails the link.
ifeq ($(ARCH),aarch64)
TARGET_RUSTFLAGS += -C code-model=tiny
endif
CARGO_TARGET := CARGO_TARGET_$(TARGET_ENV)_LINKER=$(TARGET_CC) \
	CARGO_TARGET_$(TARGET_ENV)_RUSTFLAGS="$(TARGET_RUSTFLAGS)" \
	$(CARGO) build --profile size --locked --target $(TARGET)

BINS := $(OUT)/ftrace_it $(OUT)/min $(OUT)/min.large

.PHONY: all install deps sizes test check-msrv lint unit-test payload-test trace bench help FORCE
.DEFAULT_GOAL := all

all: $(BINS)

# cargo knows what is up to date; make only copies under the install names.
$(BINS) &: FORCE
	$(CARGO_TARGET) -p ftrace_it -p min -p min_large
	@mkdir -p $(OUT)
	@cp $(CARGO_TARGET_DIR)/$(TARGET)/size/ftrace_it $(OUT)/ftrace_it
	@cp $(CARGO_TARGET_DIR)/$(TARGET)/size/min $(OUT)/min
	@cp $(CARGO_TARGET_DIR)/$(TARGET)/size/min_large $(OUT)/min.large

FORCE:

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/

deps:
	@scripts/deps.sh

sizes: deps
	@$(MAKE) --no-print-directory ARCH=x86_64 all >/dev/null
	@$(MAKE) --no-print-directory ARCH=aarch64 all >/dev/null
	@scripts/sizes.sh

# Host tools and tests; payload_checks needs the binaries of both arches.
unit-test: deps
	$(CARGO) test --workspace --exclude payload_checks --locked

payload-test: deps
	@$(MAKE) --no-print-directory ARCH=x86_64 all
	@$(MAKE) --no-print-directory ARCH=aarch64 all
	PAYLOAD_DIR=$(CURDIR)/out $(CARGO) test --locked -p payload_checks

# Buildroot 2024.02.4 builds the target crates with Rust 1.74.1.
check-msrv: deps
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/msrv $(CARGO) +1.74.1 build --locked -p ftrace_it -p min -p min_large

lint: deps check-test-line
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --features vmrun/guest-tests,kernel_index/real-tree,tailor/loop-tests --locked -- -D warnings

TEST_TARGETS := lint check-msrv unit-test payload-test
BENCH_TARGETS :=

include $(wildcard mk/*.mk)

# check-buildroot passes without checking anything when BUILDROOT_DIR is
# unset: the closing line counts it as skipped, not passed.
comma := ,
TEST_SKIPPED := $(if $(filter check-buildroot,$(TEST_TARGETS)),$(if $(BUILDROOT_DIR),,check-buildroot))
TEST_LINE = make test: $(words $(filter-out $(TEST_SKIPPED),$(TEST_TARGETS))) passed$(if $(TEST_SKIPPED),$(comma) \
	$(words $(TEST_SKIPPED)) skipped (check-buildroot: BUILDROOT_DIR not set))
test: $(TEST_TARGETS)
	@echo "$(TEST_LINE)"

# The closing line with and without a Buildroot tree (part of lint).
.PHONY: print-test-line check-test-line
print-test-line:
	@echo "$(TEST_LINE)"
check-test-line:
	@$(MAKE) -s --no-print-directory print-test-line BUILDROOT_DIR= \
		| grep -qx 'make test: [0-9]* passed, 1 skipped (check-buildroot: BUILDROOT_DIR not set)'
	@$(MAKE) -s --no-print-directory print-test-line BUILDROOT_DIR=/some/tree | grep -qx 'make test: [0-9]* passed'

bench: $(BENCH_TARGETS)

help:
	@echo "make                build ftrace_it, min, min.large for ARCH (default: host) into out/ARCH/"
	@echo "make ARCH=aarch64   cross-build (also: CROSS_COMPILE=aarch64-linux-gnu-)"
	@echo "make install        install into DESTDIR/usr/bin"
	@echo "make trace          boot an aarch64 guest and trace min and min.large into results/ARCH/"
	@echo "                    (with their kernel footprints: files, subsystems, Kconfig, the study's tables,"
	@echo "                    and HTML pages: results/ARCH/index.html)"
	@echo "make groundtruth    the payloads under a QEMU TCG plugin: every kernel function, and ftrace's blind spots"
	@echo "make tailor         the smallest kernel config that still runs min: derived, built, booted, compared"
	@echo "                    (tailor/README.md); tailor-table: beside tinyconfig and defconfig;"
	@echo "                    TAILOR_GROUNDTRUTH=results/aarch64: with make groundtruth's record as an input"
	@echo "make test           every test, including the ones that boot a guest"
	@echo "make vm-test        only the tests on real traces from one guest boot"
	@echo "make pages-test     ftrace_report's HTML pages in headless Chromium; screenshots in target/pages/"
	@echo "make compare        min under ftrace_it and Debian's arm64 trace-cmd in one boot; rewrites"
	@echo "                    the trace-cmd fixtures of ftrace_report/tests/trace_cmd.rs"
	@echo "make sizes          binary sizes against their budgets"
	@echo "make study-readme   ftrace_report/README.md's study table from results/aarch64/min.study.md"
	@echo "                    (STUDY=FILE for another footprint --study output)"
	@echo "make bench          speed figures (bench-report: ftrace_report; bench-trace-dat: a trace.dat"
	@echo "                    against its report text and trace-cmd; bench-vm: make trace;"
	@echo "                    bench-dynamic: make trace with a dynamic payload; bench-footprint;"
	@echo "                    bench-groundtruth; bench-pages: the HTML pages)"
	@echo "make deps           install what a fresh Debian machine lacks"
	@echo "make check-buildroot BUILDROOT_DIR=DIR   check the Buildroot 2024.02.4 drop-in"
