# Reproducible target binaries (scripts/repro-test.sh): two copies of the
# checkout, two fresh cargo homes (one vendored, as Buildroot builds),
# the same bytes for all six files. Fetches crates from crates.io.
.PHONY: repro-test
repro-test: deps
	scripts/repro-test.sh $(CARGO_TARGET_DIR)/repro-test

TEST_TARGETS += repro-test
