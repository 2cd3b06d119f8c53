# The kernel footprint map (kernel_index/README.md): the index of the
# guest kernels' build trees (aarch64 and x86_64) checked against the real
# trees, MAINTAINERS matching against the kernel's own get_maintainer.pl.
.PHONY: kernel-index-test

# On both guest kernels' trees: the index is not tied to one architecture.
kernel-index-test: deps
	@for arch in aarch64 x86_64; do \
		kdir=$$(scripts/kernel.sh $$arch) && \
		echo "kernel-index-test: $$kdir" && \
		KERNEL_BUILD=$$kdir $(CARGO) test --locked -p kernel_index --features real-tree --test real_tree \
			|| exit 1; \
	done

TEST_TARGETS += kernel-index-test

# `make bench-footprint`: `ftrace_report footprint` on the `make vm-test`
# trace of min, cold (index built: its cache in the build tree removed
# first) and warm, side by side with the kernel's own get_maintainer.pl
# over the same source files (sections only, no git).
.PHONY: bench-footprint
bench-footprint: vm-test
	@kdir=$$(scripts/kernel.sh $(VM_ARCH)) && trace=$(VM_TEST_RESULTS)/min.trace && \
	t() { s=$$(date +%s.%N); "$$@" >/dev/null || exit 1; echo "$$(date +%s.%N) - $$s" | bc; } && \
	rm -f "$$kdir/.kernel_index.json" && \
	cold=$$(t $(VM_REPORT) footprint $$trace --kernel-build "$$kdir") && \
	warm=$$(t $(VM_REPORT) footprint $$trace --kernel-build "$$kdir") && \
	files=$$($(VM_REPORT) footprint --json $$trace --kernel-build "$$kdir" | \
		python3 -c 'import json,sys; print(" ".join(f["path"] for f in json.load(sys.stdin)["files"]))') && \
	gm=$$(cd "$$kdir/source" && t perl scripts/get_maintainer.pl --no-git --no-git-fallback --sections -f $$files) && \
	printf 'bench-footprint: footprint of min.trace (%s KB, %s source files): cold %.2f s (target <= 30 s), warm %.2f s (target <= 1 s); get_maintainer.pl --sections on the same files: %.2f s\n' \
		$$(( $$(stat -c %s $$trace) / 1000 )) $$(echo $$files | wc -w) "$$cold" "$$warm" "$$gm"

BENCH_TARGETS += bench-footprint

# `make study-readme`: the study table of ftrace_report/README.md from the
# `footprint --study` output of a `make trace` run (STUDY=FILE for another).
STUDY ?= results/aarch64/min.study.md
.PHONY: study-readme
study-readme:
	scripts/study-readme.sh $(STUDY) ftrace_report/README.md
