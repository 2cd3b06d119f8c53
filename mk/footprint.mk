# The kernel footprint map (kernel_index/README.md): the index of the
# guest kernel's build tree checked against the real tree, MAINTAINERS
# matching against the kernel's own scripts/get_maintainer.pl.
.PHONY: kernel-index-test

kernel-index-test: deps
	@kdir=$$(scripts/kernel.sh $(VM_ARCH)) && \
	KERNEL_BUILD=$$kdir $(CARGO) test --locked -p kernel_index --features real-tree --test real_tree

TEST_TARGETS += kernel-index-test
