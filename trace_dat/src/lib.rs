//! Reads trace-cmd's `trace.dat` (file formats 6 and 7): the recorded
//! options, the page header and event formats, kallsyms, the saved command
//! lines and the per-CPU ring-buffer pages, merged into one stream of
//! events in time order. See README.md for what is read and what is not.

mod bytes;
mod format;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod ring;
mod symbols;

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Cur;
pub use bytes::{Endian, Error, Result};
pub use format::{EventFormat, Field};
pub use ring::{Events, Item, PageLayout, Record};
pub use symbols::Kallsyms;

/// The file's first bytes: `\x17\x08\x44tracing`.
pub const MAGIC: &[u8] = b"\x17\x08\x44tracing";

/// v7 option (and section) ids (trace-cmd.dat.v7(5)).
const OPT_DONE: u16 = 0;
const OPT_DATE: u16 = 1;
const OPT_CPUSTAT: u16 = 2;
const OPT_BUFFER: u16 = 3;
const OPT_TRACECLOCK: u16 = 4;
const OPT_UNAME: u16 = 5;
const OPT_OFFSET: u16 = 7;
const OPT_CPUCOUNT: u16 = 8;
const OPT_VERSION: u16 = 9;
const OPT_HEADER_INFO: u16 = 16;
const OPT_FTRACE_EVENTS: u16 = 17;
const OPT_EVENT_FORMATS: u16 = 18;
const OPT_KALLSYMS: u16 = 19;
const OPT_CMDLINES: u16 = 21;
const OPT_BUFFER_TEXT: u16 = 22;
/// A v7 section header's flag: its data is compressed.
const SEC_COMPRESSED: u16 = 1;
/// Options sections are chained; more than this is a loop in a damaged file.
const MAX_OPTION_SECTIONS: usize = 1024;

/// A block that decompresses to more than this (256 MiB) is damage:
/// trace-cmd compresses CPU data in chunks of a few pages, and the largest
/// metadata, kallsyms, is tens of MB at most.
const MAX_BLOCK: u32 = 1 << 28;

/// The compression of a v7 file's sections and CPU data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Zstd,
    Zlib,
}

/// What trace-cmd recorded about the tracing session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// CPUs of the traced machine (CPUCOUNT, or the v6 header's count).
    pub cpu_count: Option<u32>,
    /// `uname -a` of the traced machine.
    pub uname: Option<String>,
    /// trace-cmd's version that recorded the file.
    pub version: Option<String>,
    /// The trace clock (`local`, `global`, `counter`, ...).
    pub trace_clock: Option<String>,
    /// `per_cpu/cpuN/stats` at the end of the recording, one per CPU.
    pub cpu_stats: Vec<String>,
    /// Added to every timestamp (the DATE and OFFSET options), nanoseconds.
    pub ts_offset: i64,
}

/// A parsed trace.dat; the CPU data is borrowed from the file unless it
/// was compressed.
pub struct TraceDat<'a> {
    pub version: u32,
    pub endian: Endian,
    /// Size of the recording machine's user-space `long`.
    pub long_size: u8,
    pub page_size: u32,
    pub compression: Compression,
    pub options: Options,
    pub page: PageLayout,
    /// Every event format: the tracers' own (`ftrace` system) and the
    /// tracepoints'.
    pub formats: Vec<EventFormat>,
    by_id: HashMap<u16, usize>,
    pub kallsyms: Kallsyms,
    cmdlines: HashMap<u32, String>,
    /// Ring-buffer pages of each CPU of the top instance, by CPU.
    cpus: Vec<(u32, Cow<'a, [u8]>)>,
    /// v7: the metadata sections' ids and offsets.
    sections: Vec<(u16, u64)>,
}

fn err(section: &str, offset: u64, problem: impl Into<String>) -> Error {
    Error {
        section: section.to_string(),
        offset,
        problem: problem.into(),
    }
}

/// The version of a trace.dat (`None` when `data` does not start like one).
pub fn file_version(data: &[u8]) -> Option<u32> {
    let rest = data.strip_prefix(MAGIC)?;
    let end = rest.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// Decompresses one block to the end of `out`, checking its size against
/// the recorded one.
fn decompress(
    c: Compression,
    src: &[u8],
    size: u32,
    section: &str,
    at: u64,
    out: &mut Vec<u8>,
) -> Result<()> {
    // A damaged size must not make us reserve gigabytes.
    if size > MAX_BLOCK {
        return Err(err(
            section,
            at,
            format!("implausible uncompressed size {size}"),
        ));
    }
    let size = size as usize;
    let start = out.len();
    match c {
        Compression::None => {
            return Err(err(
                section,
                at,
                "compressed, but the file names no compression",
            ))
        }
        Compression::Zlib => out.extend_from_slice(
            &miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(src, size)
                .map_err(|e| err(section, at, format!("zlib data damaged ({:?})", e.status)))?,
        ),
        Compression::Zstd => {
            out.reserve_exact(size);
            // One decoder per thread: its window buffers are allocated once
            // for all blocks.
            thread_local! {
                static ZSTD: std::cell::RefCell<ruzstd::FrameDecoder> =
                    std::cell::RefCell::new(ruzstd::FrameDecoder::new());
            }
            ZSTD.with(|d| d.borrow_mut().decode_all_to_vec(src, out))
                .map_err(|e| err(section, at, format!("zstd data damaged ({e})")))?;
        }
    }
    let got = out.len() - start;
    if got != size {
        return Err(err(
            section,
            at,
            format!("decompressed to {got} bytes, the file says {size}"),
        ));
    }
    Ok(())
}

/// `[local] global counter` -> `local`; a plain name as it is.
fn selected_clock(s: &str) -> String {
    match (s.find('['), s.find(']')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_string(),
        _ => s.trim().to_string(),
    }
}

fn nul_text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim_end().to_string()
}

/// Where the v7 sections are, from the options.
#[derive(Default)]
struct Sections {
    header_info: Option<u64>,
    ftrace_events: Option<u64>,
    event_formats: Option<u64>,
    kallsyms: Option<u64>,
    cmdlines: Option<u64>,
    buffer: Option<Vec<u8>>,
    latency: bool,
}

impl<'a> TraceDat<'a> {
    /// Parses the file's metadata and locates (v7: decompresses) its CPU
    /// data; the events are read by `events`.
    pub fn parse(file: &'a [u8]) -> Result<TraceDat<'a>> {
        let mut c = Cur::new(file, 0, "file header", Endian { big: false });
        if c.bytes(MAGIC.len() as u64)? != MAGIC {
            return Err(c.err("not a trace.dat (no \\x17\\x08\\x44tracing magic)"));
        }
        let v = c.cstr()?;
        let version: u32 = std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                c.err(format!(
                    "bad file format version {:?}",
                    String::from_utf8_lossy(v)
                ))
            })?;
        if version != 6 && version != 7 {
            return Err(c.err(format!(
                "file format {version}: only 6 and 7 are read (trace-cmd convert can write them)"
            )));
        }
        let endian = match c.bytes(1)?[0] {
            0 => Endian { big: false },
            1 => Endian { big: true },
            b => return Err(c.err(format!("bad endianness byte {b}"))),
        };
        c.endian = endian;
        let long_size = c.bytes(1)?[0];
        let page_size = c.u32()?;
        if !(64..=1 << 24).contains(&page_size) {
            return Err(c.err(format!("implausible page size {page_size}")));
        }
        let mut dat = TraceDat {
            version,
            endian,
            long_size,
            page_size,
            compression: Compression::None,
            options: Options::default(),
            page: PageLayout {
                timestamp_offset: 0,
                commit_offset: 8,
                commit_size: 8,
                data_offset: 16,
            },
            formats: Vec::new(),
            by_id: HashMap::new(),
            kallsyms: Kallsyms::default(),
            cmdlines: HashMap::new(),
            cpus: Vec::new(),
            sections: Vec::new(),
        };
        if version == 6 {
            dat.parse_v6(file, c)?;
        } else {
            dat.parse_v7(file, c)?;
        }
        dat.cpus.sort_by_key(|(cpu, _)| *cpu);
        dat.by_id = dat
            .formats
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id, i))
            .collect();
        Ok(dat)
    }

    fn parse_v6(&mut self, file: &'a [u8], mut c: Cur<'a, '_>) -> Result<()> {
        self.header_info(&mut c)?;
        self.ftrace_events(&mut c)?;
        self.event_formats(&mut c)?;
        self.kallsyms_data(&mut c)?;
        // trace_printk formats: not read (the print events are not decoded).
        let n = c.u32()?;
        c.bytes(u64::from(n))?;
        self.cmdlines_data(&mut c)?;
        let cpus = c.u32()?;
        self.options.cpu_count = Some(cpus);
        let mut kind = c.bytes(10)?;
        if kind.starts_with(b"options") {
            let mut s = Sections::default();
            loop {
                let id = c.u16()?;
                if id == OPT_DONE {
                    break;
                }
                let size = c.u32()?;
                let at = c.offset();
                let data = c.bytes(u64::from(size))?;
                self.option(id, data, at, &mut s, "options")?;
            }
            kind = c.bytes(10)?;
        }
        if kind.starts_with(b"latency") {
            return Err(c.err("a latency trace (text): record with a ring-buffer tracer (function, function_graph)"));
        }
        if !kind.starts_with(b"flyrecord") {
            return Err(c.err("neither flyrecord nor latency data follows the options"));
        }
        for cpu in 0..cpus {
            let off = c.u64()?;
            let size = c.u64()?;
            let data = slice(file, off, size).ok_or_else(|| {
                err(
                    &format!("cpu {cpu} data"),
                    off,
                    format!("truncated ({size} bytes wanted)"),
                )
            })?;
            self.cpus.push((cpu, Cow::Borrowed(data)));
        }
        Ok(())
    }

    fn parse_v7(&mut self, file: &'a [u8], mut c: Cur<'a, '_>) -> Result<()> {
        let name = c.cstr()?;
        let _version = c.cstr()?;
        self.compression = match name {
            b"none" => Compression::None,
            b"zstd" => Compression::Zstd,
            b"zlib" => Compression::Zlib,
            n => {
                return Err(c.err(format!(
                    "compression {:?}: only zstd and zlib are read",
                    String::from_utf8_lossy(n)
                )))
            }
        };
        let mut next = c.u64()?;
        let mut s = Sections::default();
        let mut seen = 0;
        while next != 0 {
            seen += 1;
            if seen > MAX_OPTION_SECTIONS {
                return Err(err("options section", next, "options sections form a loop"));
            }
            let (id, data, base) = self.section(file, next, "options section")?;
            if id != OPT_DONE {
                return Err(err(
                    "options section",
                    next,
                    format!("section id {id}, not 0 (options)"),
                ));
            }
            let name = uncompressed_name("options section", matches!(data, Cow::Owned(_)));
            let mut o = Cur::new(&data, base, &name, self.endian);
            next = 0;
            while !o.at_end() {
                let id = o.u16()?;
                let size = o.u32()?;
                let at = o.offset();
                let d = o.bytes(u64::from(size))?;
                if id == OPT_DONE {
                    let mut d = Cur::new(d, at, &name, self.endian);
                    next = d.u64()?;
                    break;
                }
                self.option(id, d, at, &mut s, &name)?;
            }
        }
        for (id, off) in [
            (OPT_HEADER_INFO, s.header_info),
            (OPT_FTRACE_EVENTS, s.ftrace_events),
            (OPT_EVENT_FORMATS, s.event_formats),
            (OPT_KALLSYMS, s.kallsyms),
            (OPT_CMDLINES, s.cmdlines),
        ] {
            self.sections.extend(off.map(|o| (id, o)));
        }
        // The largest sections are read on threads of their own while this
        // one reads the others and the CPU data.
        let how = (self.endian, self.compression);
        std::thread::scope(|scope| {
            let kallsyms = s.kallsyms.map(|at| {
                scope.spawn(move || read_section(file, at, "kallsyms section", how, kallsyms))
            });
            let formats = s.event_formats.map(|at| {
                scope.spawn(move || {
                    read_section(file, at, "event formats section", how, event_formats)
                })
            });
            let res = self.v7_sections(file, &s);
            let kallsyms = kallsyms.map(join);
            let formats = formats.map(join);
            res?;
            if let Some(f) = formats {
                self.formats.extend(f?);
            }
            if let Some(k) = kallsyms {
                self.kallsyms = k?;
            }
            Ok(())
        })
    }

    /// The v7 sections other than kallsyms and the event formats.
    fn v7_sections(&mut self, file: &'a [u8], s: &Sections) -> Result<()> {
        let need = |off: Option<u64>, what: &str| {
            off.ok_or_else(|| err("options section", 0, format!("no {what} section")))
        };
        let at = need(s.header_info, "header info")?;
        self.in_section(file, at, "header info section", |d, c| d.header_info(c))?;
        if let Some(at) = s.ftrace_events {
            self.in_section(file, at, "ftrace event formats section", |d, c| {
                d.ftrace_events(c)
            })?;
        }
        if let Some(at) = s.cmdlines {
            self.in_section(file, at, "cmdlines section", |d, c| d.cmdlines_data(c))?;
        }
        if s.latency {
            return Err(err("options section", 0, "a latency trace (text): record with a ring-buffer tracer (function, function_graph)"));
        }
        let buffer = s.buffer.as_deref().ok_or_else(|| {
            err(
                "options section",
                0,
                "no BUFFER option for the top instance: no trace data",
            )
        })?;
        self.buffer(file, buffer)
    }

    fn section(&self, file: &'a [u8], off: u64, what: &str) -> Result<(u16, Cow<'a, [u8]>, u64)> {
        section(file, off, what, self.endian, self.compression)
    }

    fn in_section(
        &mut self,
        file: &'a [u8],
        off: u64,
        what: &str,
        read: impl FnOnce(&mut Self, &mut Cur<'_, '_>) -> Result<()>,
    ) -> Result<()> {
        let (_, data, base) = self.section(file, off, what)?;
        let name = uncompressed_name(what, matches!(data, Cow::Owned(_)));
        let mut c = Cur::new(&data, base, &name, self.endian);
        read(self, &mut c)
    }

    /// One option; `what` names the options' part of the file.
    fn option(&mut self, id: u16, d: &[u8], at: u64, s: &mut Sections, what: &str) -> Result<()> {
        let mut c = Cur::new(d, at, what, self.endian);
        let o = &mut self.options;
        match id {
            OPT_DATE | OPT_OFFSET => {
                let t = nul_text(d);
                let t = t.trim();
                let v = match t.strip_prefix("0x") {
                    Some(h) => i64::from_str_radix(h, 16),
                    None => t.parse(),
                }
                .map_err(|_| c.err(format!("bad time offset {t:?}")))?;
                // DATE is in microseconds, OFFSET in the clock's unit.
                let v = if id == OPT_DATE {
                    v.saturating_mul(1000)
                } else {
                    v
                };
                o.ts_offset = o.ts_offset.saturating_add(v);
            }
            OPT_CPUSTAT => o.cpu_stats.push(nul_text(d)),
            OPT_TRACECLOCK => o.trace_clock = Some(selected_clock(&nul_text(d))),
            OPT_UNAME => o.uname = Some(nul_text(d)),
            OPT_VERSION => o.version = Some(nul_text(d)),
            OPT_CPUCOUNT => o.cpu_count = Some(c.u32()?),
            OPT_HEADER_INFO => s.header_info = Some(c.u64()?),
            OPT_FTRACE_EVENTS => s.ftrace_events = Some(c.u64()?),
            OPT_EVENT_FORMATS => s.event_formats = Some(c.u64()?),
            OPT_KALLSYMS => s.kallsyms = Some(c.u64()?),
            OPT_CMDLINES => s.cmdlines = Some(c.u64()?),
            OPT_BUFFER | OPT_BUFFER_TEXT => {
                // Only the top instance (named ""): the one `-p` traces.
                let _offset = c.u64()?;
                if c.cstr()?.is_empty() && self.version >= 7 {
                    if id == OPT_BUFFER_TEXT {
                        s.latency = true;
                    } else {
                        s.buffer = Some(d.to_vec());
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The v7 BUFFER option of the top instance: its clock, page size and
    /// each CPU's data.
    fn buffer(&mut self, file: &'a [u8], opt: &[u8]) -> Result<()> {
        let what = "options section (BUFFER)";
        let mut c = Cur::new(opt, 0, what, self.endian);
        let sec = c.u64()?;
        c.cstr()?;
        let clock = String::from_utf8_lossy(c.cstr()?).into_owned();
        if self.options.trace_clock.is_none() && !clock.is_empty() {
            self.options.trace_clock = Some(clock);
        }
        let page_size = c.u32()?;
        if page_size != self.page_size {
            return Err(c.err(format!(
                "buffer page size {page_size} is not the file's {}",
                self.page_size
            )));
        }
        let n = c.u32()?;
        let compressed = self.flyrecord_compressed(file, sec)?;
        for _ in 0..n {
            let cpu = c.u32()?;
            let off = c.u64()?;
            let size = c.u64()?;
            let name = format!("cpu {cpu} data");
            if self.cpus.iter().any(|(c, _)| *c == cpu) {
                return Err(err(&name, off, "a second buffer for this CPU"));
            }
            let data =
                if compressed && size > 0 {
                    // The chunks say how long they are; the recorded size of
                    // trace-cmd 3.1 does not count them all.
                    let data = rest(file, off)
                        .ok_or_else(|| err(&name, off, "beyond the end of the file (truncated)"))?;
                    Cow::Owned(self.chunks(data, off, &name)?)
                } else {
                    Cow::Borrowed(slice(file, off, size).ok_or_else(|| {
                        err(&name, off, format!("truncated ({size} bytes wanted)"))
                    })?)
                };
            self.cpus.push((cpu, data));
        }
        Ok(())
    }

    /// Whether the flyrecord section at `off` is compressed (its CPU data
    /// is then in chunks).
    fn flyrecord_compressed(&self, file: &[u8], off: u64) -> Result<bool> {
        let what = "flyrecord section";
        let d = slice(file, off, 16).ok_or_else(|| err(what, off, "truncated section header"))?;
        let mut c = Cur::new(d, off, what, self.endian);
        c.u16()?;
        let flags = c.u16()?;
        Ok(flags & SEC_COMPRESSED != 0)
    }

    /// Compressed CPU data: a count of chunks, each its sizes and data.
    fn chunks(&self, data: &[u8], off: u64, what: &str) -> Result<Vec<u8>> {
        let mut c = Cur::new(data, off, what, self.endian);
        let n = c.u32()?;
        let mut out = Vec::new();
        for _ in 0..n {
            let at = c.offset();
            let csize = c.u32()?;
            let usize = c.u32()?;
            let src = c.bytes(u64::from(csize))?;
            decompress(self.compression, src, usize, what, at, &mut out)?;
        }
        Ok(out)
    }

    /// `header_page` and `header_event`: the page header's layout.
    fn header_info(&mut self, c: &mut Cur<'_, '_>) -> Result<()> {
        let at = c.offset();
        if c.bytes(12)? != b"header_page\0" {
            return Err(err("header info", at, "no header_page"));
        }
        let n = c.u64()?;
        let text = c.text(n)?;
        let fields = format::parse_fields(&text).map_err(|e| err("header info", at, e))?;
        let get = |name: &str| {
            fields.iter().find(|f| f.name == name).ok_or_else(|| {
                err(
                    "header info",
                    at,
                    format!("header_page has no {name} field"),
                )
            })
        };
        let (ts, commit, data) = (get("timestamp")?, get("commit")?, get("data")?);
        if ts.size != 8 || !(commit.size == 4 || commit.size == 8) {
            return Err(err(
                "header info",
                at,
                "header_page timestamp or commit of an unknown size",
            ));
        }
        self.page = PageLayout {
            timestamp_offset: ts.offset,
            commit_offset: commit.offset,
            commit_size: commit.size,
            data_offset: data.offset,
        };
        if data.offset.saturating_add(4) > self.page_size as usize
            || commit.offset.saturating_add(commit.size) > data.offset
            || ts.offset.saturating_add(ts.size) > data.offset
        {
            return Err(err(
                "header info",
                at,
                "header_page fields outside the page",
            ));
        }
        let at = c.offset();
        if c.bytes(13)? != b"header_event\0" {
            return Err(err("header info", at, "no header_event"));
        }
        let n = c.u64()?;
        c.bytes(n)?;
        Ok(())
    }

    fn ftrace_events(&mut self, c: &mut Cur<'_, '_>) -> Result<()> {
        let n = c.u32()?;
        for _ in 0..n {
            self.formats.push(read_format(c, "ftrace")?);
        }
        Ok(())
    }

    fn event_formats(&mut self, c: &mut Cur<'_, '_>) -> Result<()> {
        self.formats.extend(event_formats(c)?);
        Ok(())
    }

    fn kallsyms_data(&mut self, c: &mut Cur<'_, '_>) -> Result<()> {
        let n = c.u32()?;
        self.kallsyms = Kallsyms::parse(c.bytes(u64::from(n))?);
        Ok(())
    }

    fn cmdlines_data(&mut self, c: &mut Cur<'_, '_>) -> Result<()> {
        let n = c.u64()?;
        let text = c.bytes(n)?;
        for line in text.split(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(line);
            if let Some((pid, comm)) = line.trim_start().split_once(' ') {
                if let Ok(pid) = pid.parse() {
                    self.cmdlines.insert(pid, comm.to_string());
                }
            }
        }
        Ok(())
    }

    /// Every event of every CPU in time order; a damaged page ends the
    /// stream with its error.
    pub fn events(&self) -> Events<'_> {
        Events::new(&self.cpus, self.page_size as usize, self.page, self.endian)
    }

    /// The CPUs with data, and the size of each one's pages.
    pub fn cpu_sizes(&self) -> Vec<(u32, usize)> {
        self.cpus.iter().map(|(c, d)| (*c, d.len())).collect()
    }

    /// The format of an event's type (its `common_type`).
    pub fn event_format(&self, data: &[u8]) -> Option<&EventFormat> {
        let id = self.endian.uint(data, 0, 2)? as u16;
        self.by_id.get(&id).map(|&i| &self.formats[i])
    }

    /// A format by system and name.
    pub fn format_named(&self, system: &str, name: &str) -> Option<&EventFormat> {
        self.formats
            .iter()
            .find(|f| f.system == system && f.name == name)
    }

    /// The command name of a pid, from the saved command lines.
    pub fn comm(&self, pid: u32) -> Option<&str> {
        self.cmdlines.get(&pid).map(String::as_str)
    }
}

/// A v7 section header at `off` and its (decompressed) data, with the file
/// offset of that data (0 when decompressed).
fn section<'a>(
    file: &'a [u8],
    off: u64,
    what: &str,
    endian: Endian,
    compression: Compression,
) -> Result<(u16, Cow<'a, [u8]>, u64)> {
    let data =
        rest(file, off).ok_or_else(|| err(what, off, "beyond the end of the file (truncated)"))?;
    let mut c = Cur::new(data, off, what, endian);
    let id = c.u16()?;
    let flags = c.u16()?;
    let _description = c.u32()?;
    let size = c.u64()?;
    let data_at = c.offset();
    let data = c.bytes(size)?;
    if flags & SEC_COMPRESSED == 0 {
        return Ok((id, Cow::Borrowed(data), data_at));
    }
    let mut z = Cur::new(data, data_at, what, endian);
    let csize = z.u32()?;
    let usize = z.u32()?;
    let src = z.bytes(u64::from(csize))?;
    let mut out = Vec::new();
    decompress(compression, src, usize, what, data_at, &mut out)?;
    Ok((id, Cow::Owned(out), 0))
}

/// A thread's result (its panic goes on in this one).
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Reads the v7 section at `off` with `read`.
fn read_section<T>(
    file: &[u8],
    off: u64,
    what: &str,
    (endian, compression): (Endian, Compression),
    read: impl FnOnce(&mut Cur<'_, '_>) -> Result<T>,
) -> Result<T> {
    let (_, data, base) = section(file, off, what, endian, compression)?;
    let name = uncompressed_name(what, matches!(data, Cow::Owned(_)));
    let mut c = Cur::new(&data, base, &name, endian);
    read(&mut c)
}

fn kallsyms(c: &mut Cur<'_, '_>) -> Result<Kallsyms> {
    let n = c.u32()?;
    Ok(Kallsyms::parse(c.bytes(u64::from(n))?))
}

/// One `format` file: its size, then its text.
fn read_format(c: &mut Cur<'_, '_>, system: &str) -> Result<EventFormat> {
    let at = c.offset();
    let n = c.u64()?;
    let text = c.text(n)?;
    format::parse_event(system, &text).map_err(|e| c.err(format!("{e} (format at {at})")))
}

/// The event systems, each with its events' formats.
fn event_formats(c: &mut Cur<'_, '_>) -> Result<Vec<EventFormat>> {
    let systems = c.u32()?;
    let mut v = Vec::new();
    for _ in 0..systems {
        let system = String::from_utf8_lossy(c.cstr()?).into_owned();
        let n = c.u32()?;
        for _ in 0..n {
            v.push(read_format(c, &system)?);
        }
    }
    Ok(v)
}

/// Offsets in decompressed data are not the file's: the name says so.
fn uncompressed_name<'n>(what: &'n str, compressed: bool) -> Cow<'n, str> {
    if compressed {
        Cow::Owned(format!("{what} (uncompressed data)"))
    } else {
        Cow::Borrowed(what)
    }
}

fn slice(file: &[u8], off: u64, size: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    file.get(start..end)
}

/// The file from `off` on.
fn rest(file: &[u8], off: u64) -> Option<&[u8]> {
    file.get(usize::try_from(off).ok()?..)
}
