//! What a session saves before it changes anything, and the rules for
//! putting a value back, shared by the session's own restore and by
//! `ftrace_it --restore` (from the journal).

use crate::fsutil::{write_file, Path};
use crate::out::{msg, say, with_errno};
use rustix::io::Errno;
use rustix::mount::{unmount, UnmountFlags};

/// How the kernel refuses to route per-CPU, managed and chained IRQs: EPERM
/// (EIO on older kernels), or EINVAL from the irqchip. The routing skips
/// them, and a replay does not count them as failures.
pub fn unroutable(e: Errno) -> bool {
    e == Errno::PERM || e == Errno::IO || e == Errno::INVAL
}

/// What a saved value is, which decides how it is put back; the
/// discriminant is its letter in the journal.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A tracefs control file.
    Setting = b's',
    /// `current_tracer`, which a trace_pipe reader can hold.
    Tracer = b't',
    /// `tracing_on`, left at 0 if the tracer could not be put back.
    TracingOn = b'o',
    /// An IRQ's `smp_affinity_list`.
    Irq = b'i',
    /// A tracefs we mounted: the path is the mount point.
    Mount = b'm',
}

pub const KINDS: [Kind; 5] = [
    Kind::Setting,
    Kind::Tracer,
    Kind::TracingOn,
    Kind::Irq,
    Kind::Mount,
];

/// Called with each saved value: kind, path, value as found, and whether
/// the session changed it.
pub type Each<'f> = &'f mut dyn FnMut(Kind, &mut Path, &[u8], bool);

/// Puts saved values back, in the order given.
pub struct Undo {
    /// Nothing failed so far (each failure is reported).
    pub ok: bool,
    /// A trace_pipe reader holds `current_tracer`.
    tracer_busy: bool,
    /// From a journal: whether the dead run got to route an IRQ is unknown.
    replay: bool,
}

impl Undo {
    pub fn new(replay: bool) -> Undo {
        Undo {
            ok: true,
            tracer_busy: false,
            replay,
        }
    }

    /// Puts one value back; true if it was.
    pub fn put(&mut self, kind: Kind, p: &mut Path, value: &[u8]) -> bool {
        let r = match kind {
            Kind::Mount => unmount(p.c(), UnmountFlags::empty()),
            // Rather tracing off than every task traced without the filter.
            Kind::TracingOn if self.tracer_busy => return false,
            _ => write_file(p.c(), value),
        };
        let e = match r {
            Ok(()) => return true,
            // An IRQ the kernel will not route was not routed.
            Err(e) if kind == Kind::Irq && self.replay && unroutable(e) => return false,
            Err(e) => e,
        };
        let mut m = msg();
        m.s(b"cannot restore ").s(p.bytes());
        if e == Errno::BUSY && kind == Kind::Tracer {
            self.tracer_busy = true;
            m.s(b": a trace_pipe reader holds it (EBUSY) and has the data; \
                  tracing_on stays 0: run 'ftrace_it --restore' when it is done");
        } else {
            with_errno(&mut m, e).s(b": the system is not as it was, fix it by hand");
        }
        say(&mut m);
        self.ok = false;
        false
    }
}
