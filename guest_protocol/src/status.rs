//! Status lines: how `guest_init` tells vmrun what it is doing. They go to
//! the console, where kernel messages may put a timestamp before them; the
//! last one is [`Status::Done`] or [`Status::Failed`].

use core::fmt;

const PREFIX: &str = "mpt: ";
const DONE: &str = "done";
const FAILED: &str = "FAILED: ";

/// The progress message `guest_init` starts with once it runs (after its
/// `[SECONDS] ` stamp): the time the guest took to boot.
pub const INIT_UP: &str = "init up";

/// Whether a progress message is [`INIT_UP`]'s (`[0.02s] init up, 2 run(s)`).
pub fn is_init_up(progress: &str) -> bool {
    let msg = match progress.strip_prefix('[').and_then(|m| m.split_once("] ")) {
        Some((_, rest)) => rest,
        None => progress,
    };
    msg.starts_with(INIT_UP)
}

/// Formats as `mpt: MESSAGE`, `mpt: done DETAIL`, `mpt: FAILED: REASON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// Shown to the user as it comes; must not start with `done` or
    /// `FAILED: `.
    Progress(T),
    /// The plan went through and the results are shipped.
    Done(T),
    /// The plan could not be carried out, and why.
    Failed(T),
}

impl<T: fmt::Display> fmt::Display for Status<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Progress(m) => write!(f, "{PREFIX}{m}"),
            Status::Done(m) => write!(f, "{PREFIX}{DONE} {m}"),
            Status::Failed(m) => write!(f, "{PREFIX}{FAILED}{m}"),
        }
    }
}

impl<'a> Status<&'a str> {
    /// The status line in a line of console output (without its line end),
    /// if there is one.
    pub fn find(line: &'a str) -> Option<Self> {
        let at = line.find(PREFIX)?;
        let msg = &line[at + PREFIX.len()..];
        Some(if let Some(why) = msg.strip_prefix(FAILED) {
            Status::Failed(why)
        } else if msg == DONE {
            Status::Done("")
        } else if let Some(detail) = msg.strip_prefix(DONE).and_then(|m| m.strip_prefix(' ')) {
            Status::Done(detail)
        } else {
            Status::Progress(msg)
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::{is_init_up, Status};
    use std::format;

    #[test]
    fn init_up_with_or_without_its_stamp() {
        assert!(is_init_up("[0.02s] init up, 2 run(s)"));
        assert!(is_init_up("init up, 1 run(s)"));
        assert!(!is_init_up("[0.02s] run min: 137 after 1.00s"));
        assert!(!is_init_up("[0.02s] warning: init up later"));
    }

    #[test]
    fn formatted_lines_are_recognised() {
        for status in [
            Status::Progress("[0.02s] init up, 2 run(s)"),
            Status::Progress("warning: cannot expand the ring buffer"),
            Status::Done("in 2.50s"),
            Status::Failed("/etc/mpt.plan: plan line 2: cannot read 'x'"),
        ] {
            let line = format!("{status}");
            assert!(line.starts_with("mpt: "), "{line}");
            assert_eq!(Status::find(&line), Some(status), "{line}");
            // As a kernel message on the console.
            let kmsg = format!("[   12.345678] {status}");
            assert_eq!(Status::find(&kmsg), Some(status), "{kmsg}");
        }
        assert_eq!(
            format!("{}", Status::Done("in 1.00s")),
            "mpt: done in 1.00s"
        );
        assert_eq!(format!("{}", Status::Failed("x")), "mpt: FAILED: x");
        assert_eq!(Status::find("mpt: done"), Some(Status::Done("")));
    }

    #[test]
    fn other_lines_are_not_status() {
        for line in [
            "",
            "Booting Linux on physical CPU 0x0",
            "[    1.5] mpt-noise 3: a kernel message between frames",
            "mpt:done",
        ] {
            assert_eq!(Status::find(line), None, "{line:?}");
        }
        assert_eq!(
            Status::find("mpt: doneness"),
            Some(Status::Progress("doneness"))
        );
    }
}
