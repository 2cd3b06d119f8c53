//! Reading a trace: the line parsers of the text dialects (the `function`
//! and `function_graph` tracers' text as tracefs prints it, and `trace-cmd
//! report` text; total functions: every byte string maps to some `Line`),
//! [`text`], which streams a text trace through them line by line, [`dat`],
//! the events of a trace-cmd `trace.dat`, and [`input`], which tells one
//! from text.

#[cfg(any(test, feature = "fuzzing"))]
pub mod chunked;
pub mod dat;
mod graph;
pub mod input;
pub mod text;

use graph::{parse_graph, trace_cmd_graph};

/// Why a line carries no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    Blank = 0,
    Comment,
    KernelMessage,
    Separator,
    StackTrace,
    OtherEvent,
    BufferStarted,
    Unparsable,
    PartialLine,
}

pub const SKIPS: [Skip; 9] = [
    Skip::Blank,
    Skip::Comment,
    Skip::KernelMessage,
    Skip::Separator,
    Skip::StackTrace,
    Skip::OtherEvent,
    Skip::BufferStarted,
    Skip::Unparsable,
    Skip::PartialLine,
];

impl Skip {
    pub fn name(self) -> &'static str {
        match self {
            Skip::Blank => "blank",
            Skip::Comment => "comment",
            Skip::KernelMessage => "kernel-message",
            Skip::Separator => "separator",
            Skip::StackTrace => "stack-trace",
            Skip::OtherEvent => "other-event",
            Skip::BufferStarted => "buffer-started",
            Skip::Unparsable => "unparsable",
            Skip::PartialLine => "partial-last-line",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Skip::Blank => "empty line",
            Skip::Comment => "`#` comment or column header",
            Skip::KernelMessage => "kernel log message (`[   1.234567] ...`)",
            Skip::Separator => "function_graph separator line",
            Skip::StackTrace => "stack trace (`<stack trace>`, `=> ` lines)",
            Skip::OtherEvent => "event that is not a function call (trace_printk, tracepoint)",
            Skip::BufferStarted => "`##### CPU N buffer started ####`",
            Skip::Unparsable => "not an ftrace line",
            Skip::PartialLine => "last line without a newline (cut off)",
        }
    }
}

/// A `function` tracer event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncLine<'a> {
    /// The command name with the column's padding (see `FuncLine::comm`).
    pub comm_padded: &'a [u8],
    pub pid: u32,
    pub cpu: u32,
    /// irq-info column (`d.h1.`), absent without `options/irq-info`.
    pub flags: Option<&'a [u8]>,
    /// Timestamp as printed (`valid_ts`; `parse_ts` gives nanoseconds).
    pub ts: &'a [u8],
    /// What follows the timestamp: `func <-parent` for a call (see
    /// `parse_call`).
    pub text: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphKind<'a> {
    /// `func() {`
    Entry(&'a [u8]),
    /// `func();`
    Leaf(&'a [u8]),
    /// `}`
    Exit,
    /// `/* ... */`: another event (trace_printk, a tracepoint).
    Other,
}

/// A `function_graph` tracer line with a call or a return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphLine<'a> {
    pub cpu: u32,
    /// From the `funcgraph-proc` column (the command name cut to 7 bytes).
    pub pid: Option<u32>,
    pub comm: &'a [u8],
    /// From the `latency-format` column.
    pub flags: Option<&'a [u8]>,
    /// From the `funcgraph-abstime` column, as printed (`valid_ts`).
    pub ts: Option<&'a [u8]>,
    pub depth: usize,
    pub kind: GraphKind<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Func(FuncLine<'a>),
    Graph(GraphLine<'a>),
    /// function_graph context switch: ` 1)  a-1   =>   b-2  `.
    Switch {
        cpu: u32,
        pid: u32,
    },
    /// function_graph `==========>` (irq entry).
    IrqEnter {
        cpu: u32,
    },
    /// function_graph `<==========` (irq exit).
    IrqExit {
        cpu: u32,
    },
    /// `# ftrace_it.KEY: VALUE`
    Header {
        key: &'a [u8],
        value: &'a [u8],
    },
    /// `# tracer: NAME`
    Tracer(&'a [u8]),
    /// `CPU:N [LOST M EVENTS]`
    Lost {
        cpu: u32,
        count: u64,
    },
    Skip(Skip),
}

pub fn trim_start(s: &[u8]) -> &[u8] {
    // Columns are padded with runs of spaces: skip them eight at a time.
    let mut n = 0;
    while s.len() >= n + 8 && s[n..n + 8] == [b' '; 8] {
        n += 8;
    }
    n += s[n..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    &s[n..]
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    &s[..s.len() - n]
}

fn trim(s: &[u8]) -> &[u8] {
    trim_end(trim_start(s))
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    Some(v)
}

#[inline]
fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return parse_u64(s).and_then(|v| u32::try_from(v).ok());
    }
    let mut v = 0u32;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

/// `SECS.FRACTION` with at most 10 + 9 digits, or a counter of at most 19
/// digits: what `parse_ts` turns into a number without overflow.
pub fn valid_ts(s: &[u8]) -> bool {
    let int = s.iter().take_while(|b| b.is_ascii_digit()).count();
    match s.get(int) {
        None => (1..=19).contains(&int),
        Some(b'.') => {
            let frac = &s[int + 1..];
            (1..=10).contains(&int)
                && (1..=9).contains(&frac.len())
                && frac.iter().all(|b| b.is_ascii_digit())
        }
        Some(_) => false,
    }
}

/// `SECS.FRACTION` (or a plain counter) to nanoseconds.
pub fn parse_ts(s: &[u8]) -> Option<u64> {
    let d = s.iter().position(|&b| b == b'.');
    let (int, frac) = match d {
        Some(d) => (&s[..d], &s[d + 1..]),
        None => (s, &b""[..]),
    };
    let secs = parse_u64(int)?;
    if d.is_none() {
        return Some(secs);
    }
    if frac.len() > 9 {
        return None;
    }
    let mut ns = parse_u64(frac)?;
    for _ in frac.len()..9 {
        ns *= 10;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(ns)
}

/// `[   12.345678]` at the start of `s`.
fn kmsg_stamp(s: &[u8]) -> bool {
    if s.first() != Some(&b'[') {
        return false;
    }
    let Some(end) = memchr::memchr(b']', s) else {
        return false;
    };
    let inner = trim_start(&s[1..end]);
    match memchr::memchr(b'.', inner) {
        Some(d) => parse_u64(&inner[..d]).is_some() && parse_u64(&inner[d + 1..]).is_some(),
        None => false,
    }
}

/// Bytes of a kernel symbol name.
static SYMBOL_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$';
        b += 1;
    }
    t
};

/// A symbol as `%ps` prints it: `name`, `name+0x1c/0x40` (sym-offset),
/// followed by ` [module]` or ` <address>` (sym-addr). Returns the name.
fn symbol(part: &[u8]) -> Option<&[u8]> {
    symbol_at(part).map(|(name, _)| name)
}

/// `symbol`, and the address that `options/sym-addr` printed after it
/// (`<ffff800080010008>`: the traced instruction, not the symbol's start).
fn symbol_at(part: &[u8]) -> Option<(&[u8], Option<u64>)> {
    let n = part.len();
    let mut i = 0;
    while i < n && part[i] == b' ' {
        i += 1;
    }
    let start = i;
    while i < n && SYMBOL_BYTE[part[i] as usize] {
        i += 1;
    }
    let name = &part[start..i];
    if name.is_empty() {
        return None;
    }
    let mut addr = None;
    if i < n && part[i] == b'+' {
        while i < n && part[i] != b' ' {
            i += 1;
        }
    }
    loop {
        if i < n && part[i] != b' ' {
            return None;
        }
        while i < n && part[i] == b' ' {
            i += 1;
        }
        if i == n {
            return Some((name, addr));
        }
        let close = match part[i] {
            b'[' => b']',
            b'<' => b'>',
            _ => return None,
        };
        let j = i + part[i..].iter().position(|&b| b == b' ').unwrap_or(n - i);
        if j - i < 2 || part[j - 1] != close {
            return None;
        }
        if close == b'>' {
            addr = hex_u64(&part[i + 1..j - 1]);
        }
        i = j;
    }
}

/// 1 to 16 hex digits, as `%lx` prints an address.
fn hex_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v = 0u64;
    for &b in s {
        v = v << 4 | u64::from(char::from(b).to_digit(16)?);
    }
    Some(v)
}

/// Parses one line (without its `\n`).
pub fn parse_line(line: &[u8]) -> Line<'_> {
    match parse_line_lazy(line) {
        Line::Func(f) => match parse_call(f.text) {
            Ok(_) => Line::Func(f),
            Err(s) => Line::Skip(s),
        },
        l => l,
    }
}

/// Like `parse_line`, but the text of a `Line::Func` may still fail
/// `parse_call` (the analyser checks it once per distinct text).
pub fn parse_line_lazy(line: &[u8]) -> Line<'_> {
    let mut s = line;
    while let [rest @ .., b'\r'] = s {
        s = rest;
    }
    while let [b'\r', rest @ ..] = s {
        s = rest;
    }
    if let Some(l) = parse_function(s) {
        return l;
    }
    let t = trim_start(s);
    match t.first() {
        None => return Line::Skip(Skip::Blank),
        Some(b'#') => return parse_comment(t),
        Some(b'[') if kmsg_stamp(t) => return Line::Skip(Skip::KernelMessage),
        Some(b'<') if t.len() > 3 && t[2] == b'>' && kmsg_stamp(&t[3..]) => {
            return Line::Skip(Skip::KernelMessage)
        }
        Some(b'=') if t.starts_with(b"=> ") => return Line::Skip(Skip::StackTrace),
        Some(b'-') if trim_end(t).iter().all(|&b| b == b'-') => return Line::Skip(Skip::Separator),
        Some(b'c') if t.strip_prefix(b"cpus=").and_then(parse_u32).is_some() => {
            return Line::Skip(Skip::Comment)
        }
        Some(b'C') if t.starts_with(b"CPU:") => {
            if let Some(l) = parse_lost(t) {
                return l;
            }
        }
        _ => {}
    }
    if let Some(l) = parse_graph(s) {
        return l;
    }
    if let Some(f) = parse_function_latency(s) {
        return trace_cmd_graph(f).unwrap_or(Line::Func(f));
    }
    Line::Skip(Skip::Unparsable)
}

fn parse_comment(t: &[u8]) -> Line<'_> {
    if let Some((key, value)) = guest_protocol::header::split(t) {
        return Line::Header { key, value };
    }
    if let Some(rest) = t.strip_prefix(b"# tracer:") {
        return Line::Tracer(trim(rest));
    }
    if t.starts_with(b"#####") && memchr::memmem::find(t, b"buffer started").is_some() {
        return Line::Skip(Skip::BufferStarted);
    }
    Line::Skip(Skip::Comment)
}

/// `CPU:1 [LOST 1234 EVENTS]`
fn parse_lost(t: &[u8]) -> Option<Line<'_>> {
    let rest = t.strip_prefix(b"CPU:")?;
    let sp = memchr::memchr(b' ', rest)?;
    let cpu = parse_u32(&rest[..sp])?;
    let rest = trim(&rest[sp..]).strip_prefix(b"[LOST ")?;
    let sp = memchr::memchr(b' ', rest)?;
    let count = parse_u64(&rest[..sp])?;
    if !rest[sp..].starts_with(b" EVENTS]") {
        return None;
    }
    Some(Line::Lost { cpu, count })
}

/// The usual layout, at fixed columns: `%16s-%-7d [%03d] FLAGS %12s: text`
/// (a command name has at most 15 bytes, a pid at most 7 digits). Most
/// lines take this path; `None` leaves the line to `parse_function`, which
/// gives the same result for every line this accepts.
pub fn parse_function_fixed(s: &[u8]) -> Option<FuncLine<'_>> {
    const COLON: usize = 49;
    if s.len() <= COLON + 1
        || s[COLON] != b':'
        || s[COLON + 1] != b' '
        || s[16] != b'-'
        || s[24] != b' '
        || s[25] != b'['
        || s[29] != b']'
        || s[30] != b' '
        || s[36] != b' '
        || s[0] == b'#'
        || memchr::memchr(b'[', &s[..16]).is_some()
    {
        return None;
    }
    let pid_field = &s[17..24];
    let digits = pid_field.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || pid_field[digits..].iter().any(|&b| b != b' ') {
        return None;
    }
    let cpu = &s[26..29];
    let flags = &s[31..36];
    if !cpu.iter().all(u8::is_ascii_digit) || flags.contains(&b' ') || flags[4] == b':' {
        return None;
    }
    let ts = trim_start(&s[37..COLON]);
    if !valid_ts(ts) {
        return None;
    }
    Some(FuncLine {
        comm_padded: &s[..16],
        pid: parse_u32(&pid_field[..digits])?,
        cpu: parse_u32(cpu)?,
        flags: Some(flags),
        ts,
        text: trim_end(trim_start(&s[COLON + 2..])),
    })
}

/// `COMM-PID [(TGID)] [CPU] [FLAGS] TS: text`; `None` when the line does not
/// have the task and CPU columns.
fn parse_function(s: &[u8]) -> Option<Line<'_>> {
    let line = match parse_function_fixed(s) {
        Some(f) => Line::Func(f),
        None => parse_function_general(s)?,
    };
    match line {
        Line::Func(f) if f.text.first() == Some(&b'f') => Some(trace_cmd_graph(f).unwrap_or(line)),
        l => Some(l),
    }
}

/// `parse_function` for any layout.
pub fn parse_function_general(s: &[u8]) -> Option<Line<'_>> {
    // ftrace writes its comments from the first column.
    if s.first() == Some(&b'#') {
        return None;
    }
    let mut from = 0;
    let (open, close) = loop {
        let p = from + memchr::memchr(b'[', &s[from..])?;
        from = p + 1;
        if p == 0 || s[p - 1] != b' ' {
            continue;
        }
        let digits = s[p + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let q = p + 1 + digits;
        if digits > 0 && digits <= 6 && s.get(q) == Some(&b']') {
            break (p, q);
        }
    };
    let cpu = parse_u32(&s[open + 1..close])?;
    let mut head = trim_end(&s[..open]);
    if head.last() == Some(&b')') {
        let lp = memchr::memrchr(b'(', head)?;
        head = trim_end(&head[..lp]);
    }
    let digits = head.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let dash = head.len().checked_sub(digits + 1)?;
    if head[dash] != b'-' {
        return None;
    }
    let pid = parse_u32(&head[dash + 1..])?;
    let comm_padded = &head[..dash];

    let rest = trim_start(&s[close + 1..]);
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let (flags, ts_tok, after) = if rest[..end].last() == Some(&b':') {
        (None, &rest[..end - 1], &rest[end..])
    } else {
        let r2 = trim_start(&rest[end..]);
        let e2 = r2.iter().position(|&b| b == b' ').unwrap_or(r2.len());
        if r2[..e2].last() != Some(&b':') {
            return Some(Line::Skip(Skip::Unparsable));
        }
        (Some(&rest[..end]), &r2[..e2 - 1], &r2[e2..])
    };
    if !valid_ts(ts_tok) {
        return Some(Line::Skip(Skip::Unparsable));
    }
    Some(Line::Func(FuncLine {
        comm_padded,
        pid,
        cpu,
        flags,
        ts: ts_tok,
        text: trim_end(trim_start(after)),
    }))
}

/// `trace-cmd report -l`: `COMM-PID CPU[ ]FLAGS TS: text`, the command
/// name cut to 8 bytes, no brackets around the CPU, the latency flags
/// (`d..2.`) glued to it or not.
fn parse_function_latency(s: &[u8]) -> Option<FuncLine<'_>> {
    if s.first() == Some(&b'#') {
        return None;
    }
    let mut from = 0;
    let (ts_start, colon) = loop {
        let c = from + memchr::memmem::find(&s[from..], b": ")?;
        let start = memchr::memrchr(b' ', &s[..c]).map_or(0, |p| p + 1);
        if valid_ts(&s[start..c]) {
            break (start, c);
        }
        from = c + 1;
    };
    let head = trim_end(&s[..ts_start]);
    let sp = memchr::memrchr(b' ', head)?;
    let last = &head[sp + 1..];
    let mut before = trim_end(&head[..sp]);
    let digits = last.iter().take_while(|b| b.is_ascii_digit()).count();
    let (cpu, flags) = if digits > 0 {
        (&last[..digits], &last[digits..])
    } else {
        let sp = memchr::memrchr(b' ', before)?;
        let cpu = &before[sp + 1..];
        before = trim_end(&before[..sp]);
        (cpu, last)
    };
    if flags.is_empty() || flags.len() > 8 || flags.contains(&b':') {
        return None;
    }
    let digits = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let dash = before.len().checked_sub(digits + 1)?;
    if before[dash] != b'-' {
        return None;
    }
    Some(FuncLine {
        comm_padded: &before[..dash],
        pid: parse_u32(&before[dash + 1..])?,
        cpu: parse_u32(cpu)?,
        flags: Some(flags),
        ts: &s[ts_start..colon],
        text: trim_end(trim_start(&s[colon + 2..])),
    })
}

impl<'a> FuncLine<'a> {
    pub fn comm(&self) -> &'a [u8] {
        trim_start(self.comm_padded)
    }
}

/// The call of a function tracer line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    pub func: &'a [u8],
    /// `None`: the line does not name the caller (`trace-cmd report`
    /// without `-O parent=1`).
    pub parent: Option<&'a [u8]>,
    /// The addresses printed after `func` and `parent` (`options/sym-addr`):
    /// the function's patch site and the return address into the parent.
    pub func_addr: Option<u64>,
    pub parent_addr: Option<u64>,
    /// A kernel log message was written into the line and has been cut off.
    pub kmsg: bool,
}

/// `func <-parent` (with optional offsets, modules, addresses, and a kernel
/// log message glued to its end by a console capture), or `trace-cmd
/// report`'s `function: [INDENT]func [<-- parent]`.
pub fn parse_call(text: &[u8]) -> Result<Call<'_>, Skip> {
    if let Some(rest) = text.strip_prefix(TRACE_CMD_FUNCTION) {
        return trace_cmd_call(trim_start(rest));
    }
    let mut text = text;
    let mut kmsg = false;
    if let Some(b) = memchr::memchr(b'[', text) {
        if kmsg_stamp(&text[b..]) {
            text = trim_end(&text[..b]);
            kmsg = true;
        }
    }
    if text == b"<stack trace>" {
        return Err(Skip::StackTrace);
    }
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &text[i..]) {
        let p = i + off;
        if p > 0 && text[p - 1] == b' ' && text.get(p + 1) == Some(&b'-') {
            return match (symbol_at(&text[..p]), symbol_at(&text[p + 2..])) {
                (Some((func, func_addr)), Some((parent, parent_addr))) => Ok(Call {
                    func,
                    parent: Some(parent),
                    func_addr,
                    parent_addr,
                    kmsg,
                }),
                _ => Err(Skip::OtherEvent),
            };
        }
        i = p + 1;
    }
    Err(Skip::OtherEvent)
}

/// The event name `trace-cmd report` prints before a function event.
const TRACE_CMD_FUNCTION: &[u8] = b"function:";

/// `func [<-- parent]` as libtraceevent's function plugin prints it (the
/// indentation already cut off; `offset=1` adds `+0x1c`).
fn trace_cmd_call(text: &[u8]) -> Result<Call<'_>, Skip> {
    let (func, parent) = match memchr::memmem::find(text, b" <-- ") {
        Some(a) => (symbol(&text[..a]), Some(symbol(&text[a + 5..]))),
        None => (symbol(text), None),
    };
    match (func, parent) {
        (Some(func), None) => Ok(Call {
            func,
            parent: None,
            func_addr: None,
            parent_addr: None,
            kmsg: false,
        }),
        (Some(func), Some(Some(parent))) => Ok(Call {
            func,
            parent: Some(parent),
            func_addr: None,
            parent_addr: None,
            kmsg: false,
        }),
        _ => Err(Skip::OtherEvent),
    }
}

#[cfg(test)]
mod tests;
