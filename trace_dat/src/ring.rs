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
