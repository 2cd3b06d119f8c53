//! Finds the routable IRQs in `/proc/interrupts`: every line that starts with
//! a number and does not mention `timer` (per-CPU timers stay where they are,
//! as in the original). Lines such as `NMI:`, `LOC:` or `IPI0:` have no
//! number. The text is scanned byte by byte, so lines of any length work.

pub struct Scan {
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
    pub const fn new() -> Scan {
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
    pub fn feed(&mut self, bytes: &[u8], found: &mut impl FnMut(u32)) {
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
    pub fn finish(&mut self, found: &mut impl FnMut(u32)) {
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
