//! What the host runner (`vmrun`) and the guest's PID 1 (`guest_init`)
//! agree on: where things are in the guest, the plan file, the status lines
//! on the console, which names a run or result file may have, the checksum
//! list, the `--duration` rule of `ftrace_it`, and the header of its
//! traces, which ftrace_it writes and every trace reader parses.
//!
//! `no_std` without `alloc`: `ftrace_it` has no allocator, and an `alloc`
//! feature enabled by vmrun would reach it through cargo's feature
//! unification in workspace builds.
#![no_std]
#![forbid(unsafe_code)]

mod duration;
pub mod header;
pub mod manifest;
pub mod plan;
pub mod status;

pub use duration::{parse_duration_ms, reached_duration, DURATION_RULE};

/// The plan vmrun puts into the initramfs (see [`plan`]).
pub const PLAN_PATH: &str = "/etc/mpt.plan";
/// ftrace_it and the payloads: `BIN_DIR/NAME`.
pub const BIN_DIR: &str = "/usr/bin";
/// ftrace_it's name in [`BIN_DIR`]; no payload may take it.
pub const FTRACE_IT: &str = "ftrace_it";
/// Everything here goes to the host when the runs are over.
pub const OUT_DIR: &str = "/tmp/out";
/// A result: the traced kernel's `available_filter_functions`, what ftrace
/// can trace (the ground truth tells notrace code from dropped events).
pub const TRACEABLE_FILE: &str = "available_filter_functions";
/// Beside the traces on the host: the path of the kernel build tree that
/// ran them, which vmrun writes and `ftrace_report footprint` reads as its
/// default `--kernel-build`.
pub const KERNEL_BUILD_FILE: &str = "kernel-build";
/// A payload's `ID.stdout` and `ID.stderr` keep at most this many bytes;
/// `guest_init` cuts them after the run and writes the sizes the program
/// wrote to [`CUT_SUFFIX`] (`ID.cut`: `stdout BYTES` lines).
pub const MAX_OUTPUT: u64 = 1 << 20;
pub const CUT_SUFFIX: &str = "cut";

/// A run id or a result file name: `[A-Za-z0-9._+-]`, not empty, not
/// hidden (so neither `.` nor `..`). Results share one flat directory on
/// both sides, so a name must not leave it.
pub fn valid_id(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::valid_id;

    #[test]
    fn ids_are_plain_file_names() {
        for good in ["min", "min.large", "a+b-c_d.1", "X"] {
            assert!(valid_id(good), "{good}");
        }
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a b", "a\tb", "a\nb", "é", "a%b",
        ] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }
}
