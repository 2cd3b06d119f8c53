//! IRQ affinities: finds the routable IRQs, saves their `smp_affinity_list`,
//! routes them to the housekeeping CPU, and hands what it saved and moved to
//! the restore (`saved::Undo` puts them back, also after a crash).
//!
//! The routable IRQs are the lines of `/proc/interrupts` that start with a
//! number and do not mention `timer` (per-CPU timers stay where they are, as
//! in the original). Lines such as `NMI:`, `LOC:` or `IPI0:` have no number.
//! The text is scanned byte by byte, so lines of any length work.

use crate::fsutil::{open_or_fail, read_file, write_file, Path};
use crate::out::{fail, io_fail, msg, Buf, Res, E_IO};
use crate::saved::{unroutable, Each, Kind};
use rustix::io::{self, Errno};

const MAX_IRQS: usize = 1024;

struct Irq {
    n: u32,
    saved: Buf<96>,
    moved: bool,
}

impl Irq {
    const NONE: Irq = Irq {
        n: 0,
        saved: Buf::new(),
        moved: false,
    };
}

/// The IRQs to route, with their affinities as found.
pub struct Irqs {
    procfs: &'static [u8],
    list: [Irq; MAX_IRQS],
    /// How many of `list` are IRQs.
    len: usize,
    /// How many the kernel let us route.
    pub moved: u32,
}

impl Irqs {
    pub const fn new(procfs: &'static [u8]) -> Irqs {
        Irqs {
            procfs,
            list: [Irq::NONE; MAX_IRQS],
            len: 0,
            moved: 0,
        }
    }

    fn irqs(&self) -> &[Irq] {
        &self.list[..self.len.min(MAX_IRQS)]
    }

    fn path(&self, n: u32) -> Path {
        let mut p = Path::from(&[self.procfs, b"/irq/"]);
        p.n(n as u64).s(b"/smp_affinity_list");
        p
    }

    /// Finds the routable IRQs and reads their affinities, before any change.
    pub fn save(&mut self) -> Res<()> {
        let mut p = Path::from(&[self.procfs, b"/interrupts"]);
        let fd = open_or_fail(&mut p)?;
        let (list, len) = (&mut self.list, &mut self.len);
        let mut overflow = false;
        let mut found = |n: u32| match list.get_mut(*len) {
            Some(irq) => {
                irq.n = n;
                *len += 1;
            }
            None => overflow = true,
        };
        let mut scan = Scan::new();
        let mut buf = [0u8; 4096];
        loop {
            match io::read(&fd, &mut buf) {
                Ok(0) => break,
                Ok(k) => scan.feed(&buf[..k], &mut found),
                Err(Errno::INTR) => {}
                Err(e) => return Err(io_fail(b"cannot read ", p.bytes(), e)),
            }
        }
        scan.finish(&mut found);
        if overflow {
            return Err(fail(
                msg()
                    .s(p.bytes())
                    .s(b": more than 1024 IRQs; pass --no-irq-routing"),
                E_IO,
            ));
        }
        // Those with a descriptor are kept, in their order, with their affinity.
        let mut kept = 0;
        for i in 0..self.irqs().len() {
            let n = self.list[i].n;
            let mut p = self.path(n);
            let mut buf = [0u8; 96];
            match read_file(p.c(), &mut buf) {
                Ok(k) => {
                    let irq = &mut self.list[kept];
                    irq.n = n;
                    irq.saved.s(&buf[..k]);
                    kept += 1;
                }
                // No directory: an IRQ without a descriptor to route.
                Err(Errno::NOENT) => {}
                Err(e) => return Err(io_fail(b"cannot read ", p.bytes(), e)),
            }
        }
        self.len = kept;
        Ok(())
    }

    /// Routes every saved IRQ to `cpu`.
    pub fn route(&mut self, cpu: u64) -> Res<()> {
        let mut v = Buf::<24>::new();
        v.n(cpu).s(b"\n");
        for i in 0..self.irqs().len() {
            let mut p = self.path(self.list[i].n);
            match write_file(p.c(), v.bytes()) {
                Ok(()) => {
                    self.list[i].moved = true;
                    self.moved += 1;
                }
                Err(e) if unroutable(e) => {}
                Err(e) => return Err(io_fail(b"cannot write ", p.bytes(), e)),
            }
        }
        Ok(())
    }

    /// Calls `f` with each IRQ it may route: its path, affinity as found,
    /// and whether it was moved.
    pub fn each_saved(&self, f: Each) {
        for irq in self.irqs() {
            f(
                Kind::Irq,
                &mut self.path(irq.n),
                irq.saved.bytes(),
                irq.moved,
            );
        }
    }
}

struct Scan {
    num: Option<u32>,
    /// Still in the leading number (or the spaces before it).
    lead: bool,
    digits: bool,
    numbered: bool,
    timer_pos: usize,
    timer: bool,
}

const TIMER: &[u8] = b"timer";

impl Scan {
    const fn new() -> Scan {
        Scan {
            num: Some(0),
            lead: true,
            digits: false,
            numbered: false,
            timer_pos: 0,
            timer: false,
        }
    }

    /// Feeds bytes; `found` gets each routable IRQ number at the end of its line.
    fn feed(&mut self, bytes: &[u8], found: &mut impl FnMut(u32)) {
        for &c in bytes {
            if c == b'\n' {
                self.end(found);
                continue;
            }
            if self.lead {
                match c {
                    b' ' | b'\t' if !self.digits => {}
                    b'0'..=b'9' => {
                        self.digits = true;
                        self.num = self
                            .num
                            .and_then(|n| n.checked_mul(10))
                            .and_then(|n| n.checked_add((c - b'0') as u32));
                    }
                    b':' => {
                        self.numbered = self.digits && self.num.is_some();
                        self.lead = false;
                    }
                    _ => self.lead = false,
                }
            }
            self.timer_pos = if c == TIMER[self.timer_pos] {
                self.timer_pos + 1
            } else {
                usize::from(c == TIMER[0])
            };
            if self.timer_pos == TIMER.len() {
                self.timer = true;
                self.timer_pos = 0;
            }
        }
    }

    /// Ends the last line (a file need not end with a newline).
    fn finish(&mut self, found: &mut impl FnMut(u32)) {
        self.end(found);
    }

    fn end(&mut self, found: &mut impl FnMut(u32)) {
        if self.numbered && !self.timer {
            if let Some(n) = self.num {
                found(n);
            }
        }
        *self = Scan::new();
    }
}
