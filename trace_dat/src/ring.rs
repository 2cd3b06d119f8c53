//! The per-CPU ring-buffer pages (the kernel's kernel/trace/ring_buffer.c
//! encoding) and their merge into one stream ordered by time.

use crate::bytes::{Endian, Error, Result};

/// `type_len` values with a meaning of their own (1..=28: data of that many
/// 4-byte words; 0: data length in the next word).
const PADDING: u32 = 29;
const TIME_EXTEND: u32 = 30;
const TIME_STAMP: u32 = 31;
/// The time delta's bits in the event header (`TS_SHIFT`).
const TS_SHIFT: u32 = 27;
/// An absolute time stamp lacks these bits: they come from the running
/// time.
const TS_MSB: u64 = 0xf8 << 56;
/// The commit field: data size in the low bits, flags above.
const COMMIT_MASK: u64 = (1 << 27) - 1;
const MISSED_EVENTS: u64 = 1 << 31;
const MISSED_STORED: u64 = 1 << 30;

/// Where the page header's fields are (from `header_page`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLayout {
    pub timestamp_offset: usize,
    pub commit_offset: usize,
    /// The kernel's `long` size (4 or 8).
    pub commit_size: usize,
    pub data_offset: usize,
}

/// One event of one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub cpu: u32,
    /// Nanoseconds (or counter ticks) of the trace clock.
    pub ts: u64,
    /// The event's bytes: its common fields, then its own.
    pub data: &'a [u8],
}

/// What the merged stream yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Event(Record<'a>),
    /// The kernel overwrote or dropped events of this CPU before the page
    /// starting at `ts`: how many, when it had room to store the count.
    Lost {
        cpu: u32,
        ts: u64,
        count: Option<u64>,
    },
}

impl Item<'_> {
    fn ts(&self) -> u64 {
        match self {
            Item::Event(r) => r.ts,
            Item::Lost { ts, .. } => *ts,
        }
    }
}

/// One CPU's pages, read one event ahead.
struct Cpu<'a> {
    cpu: u32,
    data: &'a [u8],
    page_size: usize,
    layout: PageLayout,
    endian: Endian,
    /// Offset of the next page in `data`.
    next_page: usize,
    /// The current page's events, the read position in them, its offset.
    page: &'a [u8],
    pos: usize,
    page_at: usize,
    ts: u64,
    head: Option<Item<'a>>,
}

impl<'a> Cpu<'a> {
    fn err(&self, at: usize, problem: impl Into<String>) -> Error {
        Error {
            section: format!("cpu {} ring buffer", self.cpu),
            offset: at as u64,
            problem: problem.into(),
        }
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        self.endian.uint(self.page, at, 4).map(|v| v as u32)
    }

    /// Loads the next page; `None` after the last. A page with missed
    /// events yields the loss first.
    fn load_page(&mut self) -> Result<Option<Item<'a>>> {
        let start = self.next_page;
        if start >= self.data.len() {
            return Ok(None);
        }
        let l = self.layout;
        let page = &self.data[start..self.data.len().min(start + self.page_size)];
        let (endian, cpu) = (self.endian, self.cpu);
        let num = |at: usize, size: usize| {
            endian.uint(page, at, size).ok_or_else(|| Error {
                section: format!("cpu {cpu} ring buffer"),
                offset: (start + at) as u64,
                problem: "truncated page header".into(),
            })
        };
        let ts = num(l.timestamp_offset, 8)?;
        let commit = num(l.commit_offset, l.commit_size)?;
        let size = (commit & COMMIT_MASK) as usize;
        if l.data_offset + size > self.page_size {
            return Err(self.err(
                start + l.commit_offset,
                format!(
                    "page data size {size} larger than the page ({} bytes)",
                    self.page_size
                ),
            ));
        }
        if l.data_offset + size > page.len() {
            return Err(self.err(start, "truncated page"));
        }
        self.page = &page[l.data_offset..l.data_offset + size];
        self.page_at = start + l.data_offset;
        self.pos = 0;
        self.ts = ts;
        self.next_page = start + self.page_size;
        if commit & MISSED_EVENTS == 0 {
            return self.next_event();
        }
        let count = if commit & MISSED_STORED != 0 {
            Some(num(l.data_offset + size, l.commit_size)?)
        } else {
            None
        };
        Ok(Some(Item::Lost {
            cpu: self.cpu,
            ts,
            count,
        }))
    }

    /// The next event, from this page or the next ones.
    fn next_event(&mut self) -> Result<Option<Item<'a>>> {
        loop {
            if self.pos >= self.page.len() {
                return self.load_page();
            }
            let at = self.pos;
            let short = || self.err(self.page_at + at, "event header overruns its page");
            let hdr = self.u32_at(at).ok_or_else(short)?;
            let (type_len, delta) = if self.endian.big {
                (hdr >> 27, hdr & ((1 << TS_SHIFT) - 1))
            } else {
                (hdr & 31, hdr >> 5)
            };
            let delta = u64::from(delta);
            match type_len {
                PADDING => {
                    // A delta of 0 marks the rest of the page as unused;
                    // otherwise a discarded event, whose time still counts.
                    if delta == 0 {
                        self.pos = self.page.len();
                        continue;
                    }
                    let len = self.u32_at(at + 4).ok_or_else(short)?;
                    self.ts = self.ts.wrapping_add(delta);
                    self.pos = at + 4 + len as usize;
                }
                TIME_EXTEND | TIME_STAMP => {
                    let hi = u64::from(self.u32_at(at + 4).ok_or_else(short)?);
                    let t = (hi << TS_SHIFT) + delta;
                    self.ts = if type_len == TIME_STAMP {
                        t | (self.ts & TS_MSB)
                    } else {
                        self.ts.wrapping_add(t)
                    };
                    self.pos = at + 8;
                }
                _ => {
                    let (start, len, next) = if type_len == 0 {
                        let n = self.u32_at(at + 4).ok_or_else(short)? as usize;
                        let len = n.checked_sub(4).ok_or_else(|| {
                            self.err(self.page_at + at, format!("event length {n} below 4"))
                        })?;
                        (at + 8, len, at + 8 + ((len + 3) & !3))
                    } else {
                        let len = type_len as usize * 4;
                        (at + 4, len, at + 4 + len)
                    };
                    let data = self.page.get(start..start + len).ok_or_else(|| {
                        self.err(self.page_at + at, "event data overruns its page")
                    })?;
                    self.ts = self.ts.wrapping_add(delta);
                    self.pos = next;
                    return Ok(Some(Item::Event(Record {
                        cpu: self.cpu,
                        ts: self.ts,
                        data,
                    })));
                }
            }
        }
    }
}

/// The events of every CPU in time order (ties: the lower CPU first, as
/// `trace-cmd report` orders them).
pub struct Events<'a> {
    cpus: Vec<Cpu<'a>>,
    /// Yielded after the events before it, then the stream ends.
    error: Option<Error>,
}

impl<'a> Events<'a> {
    /// `cpus`: each CPU's ring-buffer pages, ordered by CPU.
    pub(crate) fn new(
        cpus: &'a [(u32, std::borrow::Cow<'a, [u8]>)],
        page_size: usize,
        layout: PageLayout,
        endian: Endian,
    ) -> Events<'a> {
        let cpus = cpus
            .iter()
            .map(|(cpu, data)| Cpu {
                cpu: *cpu,
                data,
                page_size,
                layout,
                endian,
                next_page: 0,
                page: &[],
                pos: 0,
                page_at: 0,
                ts: 0,
                head: None,
            })
            .collect();
        let mut ev = Events { cpus, error: None };
        for i in 0..ev.cpus.len() {
            if let Err(e) = ev.refill(i) {
                ev.fail(e);
                break;
            }
        }
        ev
    }

    fn refill(&mut self, i: usize) -> Result<()> {
        let c = &mut self.cpus[i];
        c.head = c.next_event()?;
        Ok(())
    }

    fn fail(&mut self, e: Error) {
        self.cpus.clear();
        self.error = Some(e);
    }
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Item<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        let mut best: Option<(usize, u64)> = None;
        for (i, c) in self.cpus.iter().enumerate() {
            if let Some(h) = &c.head {
                if best.map_or(true, |(_, t)| h.ts() < t) {
                    best = Some((i, h.ts()));
                }
            }
        }
        let (i, _) = best?;
        let item = self.cpus[i].head.take();
        if let Err(e) = self.refill(i) {
            self.fail(e);
        }
        item.map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    const LAYOUT: PageLayout = PageLayout {
        timestamp_offset: 0,
        commit_offset: 8,
        commit_size: 8,
        data_offset: 16,
    };
    const PAGE: usize = 128;

    fn hdr(type_len: u32, delta: u32) -> [u8; 4] {
        (type_len | delta << 5).to_le_bytes()
    }

    /// A page: its time stamp, commit flags and the events' bytes.
    fn page(ts: u64, flags: u64, events: &[&[u8]], after: &[u8]) -> Vec<u8> {
        let data: Vec<u8> = events.concat();
        let mut p = ts.to_le_bytes().to_vec();
        p.extend_from_slice(&(data.len() as u64 | flags).to_le_bytes());
        p.extend_from_slice(&data);
        p.extend_from_slice(after);
        p.resize(PAGE, 0);
        p
    }

    fn read<'a>(cpus: &'a [(u32, Cow<'a, [u8]>)]) -> Vec<Result<Item<'a>>> {
        Events::new(cpus, PAGE, LAYOUT, Endian { big: false }).collect()
    }

    #[test]
    fn event_encodings_and_time() {
        let mut long = vec![0u8; 4];
        long[..4].copy_from_slice(&hdr(0, 3));
        long.extend_from_slice(&10u32.to_le_bytes()); // 6 bytes of data
        long.extend_from_slice(b"abcdef\0\0");
        let p = page(
            1000,
            0,
            &[
                &[hdr(1, 5).as_slice(), b"AAAA"].concat(),
                // Time extend: 1 << 27 + 2.
                &[hdr(TIME_EXTEND, 2).as_slice(), &1u32.to_le_bytes()].concat(),
                // A discarded event: its time counts, its length word and
                // data are skipped.
                &[hdr(PADDING, 1).as_slice(), &8u32.to_le_bytes(), b"xxxx"].concat(),
                &long,
                // An absolute time stamp.
                &[hdr(TIME_STAMP, 7).as_slice(), &0u32.to_le_bytes()].concat(),
                &[hdr(1, 1).as_slice(), b"BBBB"].concat(),
                // The rest of the page is unused.
                &[hdr(PADDING, 0).as_slice(), &0u32.to_le_bytes(), b"CCCC"].concat(),
            ],
            &[],
        );
        let cpus = [(3, Cow::Owned(p))];
        let got: Vec<(u64, Vec<u8>)> = read(&cpus)
            .into_iter()
            .map(|i| match i.unwrap() {
                Item::Event(r) => (r.ts, r.data.to_vec()),
                other => panic!("{other:?}"),
            })
            .collect();
        let t = 1005 + (1 << 27) + 2 + 1 + 3;
        assert_eq!(
            got,
            [
                (1005, b"AAAA".to_vec()),
                (t, b"abcdef".to_vec()),
                (8, b"BBBB".to_vec()),
            ]
        );
    }

    #[test]
    fn merged_by_time_lower_cpu_first_and_losses() {
        let ev = |d: u32| [hdr(1, d).as_slice(), b"EEEE"].concat();
        let a = page(10, 0, &[&ev(0), &ev(10)], &[]);
        let mut b = page(
            10,
            MISSED_EVENTS | MISSED_STORED,
            &[&ev(5)],
            &99u64.to_le_bytes(),
        );
        b.extend(page(30, MISSED_EVENTS, &[&ev(0)], &[]));
        let cpus = [(0, Cow::Owned(a)), (1, Cow::Owned(b))];
        let got: Vec<(u32, u64, Option<Option<u64>>)> = read(&cpus)
            .into_iter()
            .map(|i| match i.unwrap() {
                Item::Event(r) => (r.cpu, r.ts, None),
                Item::Lost { cpu, ts, count } => (cpu, ts, Some(count)),
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, 10, None),
                (1, 10, Some(Some(99))),
                (1, 15, None),
                (0, 20, None),
                (1, 30, Some(None)),
                (1, 30, None),
            ]
        );
    }

    #[test]
    fn damaged_pages_are_errors() {
        let over = page(0, 0, &[&[hdr(3, 0).as_slice(), b"ab"].concat()], &[]);
        let big = page(0, 500, &[], &[]);
        let short = [0u8; 12].to_vec();
        let zero = page(
            0,
            0,
            &[&[hdr(0, 0).as_slice(), &2u32.to_le_bytes()].concat()],
            &[],
        );
        for (p, msg) in [
            (over, "event data overruns its page"),
            (big, "page data size 500 larger than the page (128 bytes)"),
            (short, "truncated page header"),
            (zero, "event length 2 below 4"),
        ] {
            let cpus = [(2, Cow::Owned(p))];
            let got = read(&cpus);
            let e = got.last().unwrap().as_ref().unwrap_err();
            assert_eq!(e.section, "cpu 2 ring buffer");
            assert_eq!(e.problem, msg);
        }
    }
}
