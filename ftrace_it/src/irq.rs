//! IRQ affinities: finds the routable IRQs, saves their `smp_affinity_list`,
//! routes them to the housekeeping CPU, and hands what it saved and moved to
//! the restore (`journal::Undo` puts them back, also after a crash).
//!
//! The routable IRQs are the lines of `/proc/interrupts` that start with a
//! number and do not mention `timer` (per-CPU timers stay where they are, as
//! in the original). Lines such as `NMI:`, `LOC:` or `IPI0:` have no number.
//! The text is scanned byte by byte, so lines of any length work.

use crate::fsutil::{open_read, read_file, write_file, Path};
use crate::journal::{Each, Kind};
use crate::out::{fail, io_fail, msg, Buf, Res, E_IO};
use heapless::Vec;
use rustix::io::{self, Errno};

const MAX_IRQS: usize = 1024;

/// How the kernel refuses to route per-CPU, managed and chained IRQs: EPERM
/// (EIO on older kernels), or EINVAL from the irqchip.
pub fn unroutable(e: Errno) -> bool {
    e == Errno::PERM || e == Errno::IO || e == Errno::INVAL
}

struct Irq {
    n: u32,
    saved: Vec<u8, 96>,
    moved: bool,
}

/// The IRQs to route, with their affinities as found.
pub struct Irqs {
    procfs: &'static [u8],
    list: Vec<Irq, MAX_IRQS>,
    /// How many the kernel let us route.
    pub moved: u32,
}

impl Irqs {
    pub const fn new(procfs: &'static [u8]) -> Irqs {
        Irqs {
            procfs,
            list: Vec::new(),
            moved: 0,
        }
    }

    fn path(&self, n: u32) -> Path {
        let mut p = Path::new(&[self.procfs, b"/irq/"]);
        p.num(n as u64).push(b"/smp_affinity_list");
        p
    }

    /// Finds the routable IRQs and reads their affinities, before any change.
    pub fn save(&mut self) -> Res<()> {
        let mut p = Path::new(&[self.procfs, b"/interrupts"]);
        let fd = open_read(p.c()).map_err(|e| io_fail(b"cannot read ", p.bytes(), e))?;
        let mut nums: Vec<u32, MAX_IRQS> = Vec::new();
        let mut overflow = false;
        let mut found = |n: u32| overflow |= nums.push(n).is_err();
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
        for &n in nums.iter() {
            let mut p = self.path(n);
            let mut buf = [0u8; 96];
            match read_file(p.c(), &mut buf) {
                Ok(k) => {
                    let mut saved = Vec::new();
                    let _ = saved.extend_from_slice(&buf[..k]);
                    let _ = self.list.push(Irq {
                        n,
                        saved,
                        moved: false,
                    });
                }
                // No directory: an IRQ without a descriptor to route.
                Err(Errno::NOENT) => {}
                Err(e) => return Err(io_fail(b"cannot read ", p.bytes(), e)),
            }
        }
        Ok(())
    }

    /// Routes every saved IRQ to `cpu`.
    pub fn route(&mut self, cpu: u64) -> Res<()> {
        let mut v = Buf::<24>::new();
        v.n(cpu).s(b"\n");
        for i in 0..self.list.len() {
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
        for irq in self.list.iter() {
            f(Kind::Irq, &mut self.path(irq.n), &irq.saved, irq.moved);
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
