# Buildroot drop-in (br_package.patch, br.config, kernel.config), checked
# against the clean Buildroot 2024.02.4 tree named by BUILDROOT_DIR:
#   make check-buildroot BUILDROOT_DIR=/path/to/buildroot-2024.02.4
# Without BUILDROOT_DIR the check says that it is skipped and passes.
.PHONY: check-buildroot
check-buildroot: deps
	@BUILDROOT_DIR="$(BUILDROOT_DIR)" scripts/check-buildroot.sh

TEST_TARGETS += check-buildroot
