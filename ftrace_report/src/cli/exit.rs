//! The exit statuses (listed in the help's "Exit status").

pub const DIFFERENT: u8 = 1;
pub const USAGE: u8 = 2;
pub const READ: u8 = 3;
pub const INPUT: u8 = 4;
pub const NO_TARGET: u8 = 5;
pub const WRITE: u8 = 6;
pub const DAMAGED: u8 = 7;
pub const INCOMPLETE: u8 = 8;
pub const KERNEL: u8 = 9;
pub const TRACE_DAT: u8 = 10;
pub const LAYOUT: u8 = 11;
pub const OTHER_KERNEL: u8 = 12;
pub const KERNEL_DAMAGED: u8 = 13;

/// The exit status of a kernel build tree that cannot serve a trace.
pub fn kernel(e: &kernel_index::Error) -> u8 {
    match e.kind() {
        kernel_index::ErrorKind::Tree => KERNEL,
        kernel_index::ErrorKind::OtherKernel => OTHER_KERNEL,
        kernel_index::ErrorKind::Damaged => KERNEL_DAMAGED,
    }
}
