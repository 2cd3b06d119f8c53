//! Finds the target binaries that `make` put in `out/<arch>/`, for the tests
//! in `tests/`. `make payload-test` builds both architectures first.

use std::path::PathBuf;

pub const ARCHES: [&str; 2] = ["x86_64", "aarch64"];
pub const PAYLOADS: [&str; 2] = ["min", "min.large"];

/// Path of an installed binary (`ftrace_it`, `min`, `min.large`) for `arch`.
///
/// Panics with the command to run when it has not been built: a missing
/// binary must fail the test, not skip it.
pub fn binary(arch: &str, name: &str) -> PathBuf {
    let out = std::env::var_os("PAYLOAD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../out")));
    let path = out.join(arch).join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `make ARCH={arch}` (or `make payload-test`)",
        path.display()
    );
    path
}
