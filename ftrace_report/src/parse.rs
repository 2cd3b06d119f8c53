//! Line parsers for the text output of the `function` and `function_graph`
//! tracers. Total functions: every byte string maps to some `Line`.

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
    if let Some(rest) = t.strip_prefix(b"# ftrace_it.") {
        if let Some(colon) = memchr::memchr(b':', rest) {
            let key = trim(&rest[..colon]);
            if !key.is_empty() && key.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_') {
                return Line::Header {
                    key,
                    value: trim(&rest[colon + 1..]),
                };
            }
        }
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

fn is_duration(t: &[u8]) -> bool {
    let t = trim_start(match t.first() {
        Some(b'+' | b'!' | b'#' | b'*' | b'@' | b'$') => &t[1..],
        _ => t,
    });
    t.first().is_some_and(|b| b.is_ascii_digit())
        && (t.ends_with(b" us") || t.ends_with(b" ms") || t.ends_with(b" s"))
}

/// `comm-pid` as print_graph_proc writes it.
fn comm_pid(t: &[u8]) -> Option<u32> {
    let dash = memchr::memrchr(b'-', t)?;
    parse_u32(&t[dash + 1..])
}

/// `[ABSTIME |] CPU) [comm-pid |] [lat |] [DURATION] |  INDENT text`.
fn parse_graph(s: &[u8]) -> Option<Line<'_>> {
    let mut r = trim_start(s);
    let mut ts = None;
    let num = r
        .iter()
        .take_while(|&&b| b.is_ascii_digit() || b == b'.')
        .count();
    if num > 0 && num < r.len() && r[..num].contains(&b'.') {
        let after = trim_start(&r[num..]);
        if after.first() == Some(&b'|') {
            if !valid_ts(&r[..num]) {
                return None;
            }
            ts = Some(&r[..num]);
            r = trim_start(&after[1..]);
        }
    }
    let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || r.get(digits) != Some(&b')') {
        return None;
    }
    let cpu = parse_u32(&r[..digits])?;
    let mut rest = &r[digits + 1..];
    if memchr::memmem::find(rest, b"==========>").is_some() {
        return Some(Line::IrqEnter { cpu });
    }
    if memchr::memmem::find(rest, b"<==========").is_some() {
        return Some(Line::IrqExit { cpu });
    }
    if memchr::memchr(b'|', rest).is_none() {
        if let Some(a) = memchr::memmem::find(rest, b" => ") {
            return Some(match comm_pid(trim(&rest[a + 4..])) {
                Some(pid) => Line::Switch { cpu, pid },
                None => Line::Skip(Skip::Unparsable),
            });
        }
        return Some(Line::Skip(Skip::Unparsable));
    }
    let mut pid = None;
    let mut comm = &b""[..];
    let mut flags = None;
    let text = loop {
        let Some(bar) = memchr::memchr(b'|', rest) else {
            return Some(Line::Skip(Skip::Unparsable));
        };
        let seg = trim(&rest[..bar]);
        let after = &rest[bar + 1..];
        if seg.is_empty() || is_duration(seg) {
            break after;
        }
        if pid.is_none() && flags.is_none() {
            if let Some(p) = comm_pid(seg) {
                pid = Some(p);
                comm = &seg[..memchr::memrchr(b'-', seg).unwrap_or(0)];
                rest = after;
                continue;
            }
        }
        if flags.is_some() || seg.len() > 8 {
            return Some(Line::Skip(Skip::Unparsable));
        }
        flags = Some(seg);
        rest = after;
    };
    let Some((depth, kind)) = graph_call(text) else {
        return Some(Line::Skip(Skip::Unparsable));
    };
    Some(Line::Graph(GraphLine {
        cpu,
        pid,
        comm,
        flags,
        ts,
        depth,
        kind,
    }))
}

/// What follows the last `|` of a function_graph line: `  INDENT func() {`,
/// `func();`, `}` or `/* event */`, as (depth, kind).
fn graph_call(text: &[u8]) -> Option<(usize, GraphKind<'_>)> {
    let indent = text.iter().take_while(|&&b| b == b' ').count();
    let depth = indent.saturating_sub(2) / 2;
    let body = trim_end(&text[indent..]);
    let kind = if body.first() == Some(&b'}') {
        GraphKind::Exit
    } else if body.starts_with(b"/*") {
        GraphKind::Other
    } else {
        let paren = memchr::memchr(b'(', body)?;
        let name = symbol(&body[..paren])?;
        let tail = &body[paren..];
        if tail.starts_with(b"() {") {
            GraphKind::Entry(name)
        } else if tail.starts_with(b"();") {
            GraphKind::Leaf(name)
        } else {
            return None;
        }
    };
    Some((depth, kind))
}

/// `trace-cmd report`'s function_graph events: the task columns of a
/// function line, then `funcgraph_entry: [DURATION] |  INDENT func() {` or
/// `funcgraph_exit: DURATION |  }`.
fn trace_cmd_graph(f: FuncLine<'_>) -> Option<Line<'_>> {
    let rest = f
        .text
        .strip_prefix(b"funcgraph_entry:")
        .or_else(|| f.text.strip_prefix(b"funcgraph_exit:"))?;
    let bar = memchr::memchr(b'|', rest)?;
    let duration = trim(&rest[..bar]);
    if !duration.is_empty() && !is_duration(duration) {
        return Some(Line::Skip(Skip::Unparsable));
    }
    Some(match graph_call(&rest[bar + 1..]) {
        Some((depth, kind)) => Line::Graph(GraphLine {
            cpu: f.cpu,
            pid: Some(f.pid),
            comm: f.comm(),
            flags: f.flags,
            ts: Some(f.ts),
            depth,
            kind,
        }),
        None => Line::Skip(Skip::Unparsable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(line: &str) -> FuncLine<'_> {
        match parse_line(line.as_bytes()) {
            Line::Func(f) => f,
            other => panic!("not a function line: {other:?}"),
        }
    }

    fn graph(line: &str) -> GraphLine<'_> {
        match parse_line(line.as_bytes()) {
            Line::Graph(g) => g,
            other => panic!("not a graph line: {other:?}"),
        }
    }

    fn skip(line: &str) -> Skip {
        match parse_line(line.as_bytes()) {
            Line::Skip(s) => s,
            other => panic!("not skipped: {other:?}"),
        }
    }

    #[test]
    fn function_with_irq_info() {
        let f = func("       ftrace_it-92      [001] dN.2.     5.214403: select_task_rq_fair <-try_to_wake_up");
        assert_eq!(f.comm(), b"ftrace_it");
        assert_eq!(f.pid, 92);
        assert_eq!(f.cpu, 1);
        assert_eq!(f.flags, Some(&b"dN.2."[..]));
        assert_eq!(parse_ts(f.ts), Some(5_214_403_000));
        assert_eq!(
            parse_call(f.text),
            Ok(Call {
                func: b"select_task_rq_fair",
                parent: Some(b"try_to_wake_up"),
                func_addr: None,
                parent_addr: None,
                kmsg: false
            })
        );
    }

    #[test]
    fn usual_layout_takes_the_fixed_column_path() {
        let l = b"             min-94      [001] d..2.     7.935526: psi_group_change <-psi_task_switch";
        let f = parse_function_fixed(l).unwrap();
        assert_eq!((f.pid, f.cpu, f.ts), (94, 1, &b"7.935526"[..]));
        assert_eq!(f.text, b"psi_group_change <-psi_task_switch");
        assert_eq!(parse_function_general(l), Some(Line::Func(f)));
        let long_ts = b"             min-94      [001] d..2. 123456.935526: a <-b";
        assert!(parse_function_fixed(long_ts).is_none());
        assert!(matches!(parse_line(long_ts), Line::Func(_)));
    }

    #[test]
    fn function_old_four_column_flags() {
        let f = func("          <idle>-0     [000] d.h1  1234.567890: irq_enter <-do_IRQ");
        assert_eq!(f.comm(), b"<idle>");
        assert_eq!(f.pid, 0);
        assert_eq!(f.flags, Some(&b"d.h1"[..]));
    }

    #[test]
    fn function_without_irq_info() {
        let f = func("             min-94    [001]     5.226242: __x64_sys_execve <-do_syscall_64");
        assert_eq!(f.flags, None);
        assert_eq!(f.pid, 94);
        assert_eq!(parse_call(f.text).unwrap().func, b"__x64_sys_execve");
    }

    #[test]
    fn function_with_tgid() {
        let f =
            func("       ftrace_it-94      (     94) [000] ..... 5.2: getname <-__x64_sys_execve");
        assert_eq!(f.pid, 94);
        assert_eq!(f.comm(), b"ftrace_it");
        let g = func(
            "     kworker/1:2-51      (-------) [001] d.s1. 5.3: run_timer_softirq <-__do_softirq",
        );
        assert_eq!(g.pid, 51);
        assert_eq!(g.comm(), b"kworker/1:2");
        assert_eq!(g.flags, Some(&b"d.s1."[..]));
    }

    #[test]
    fn function_comm_with_spaces_and_dashes() {
        let f = func("  Web Content-x-1234    [003] ..... 10.000001: a <-b");
        assert_eq!(f.comm(), b"Web Content-x");
        assert_eq!(f.pid, 1234);
    }

    #[test]
    fn function_crlf_offsets_and_modules() {
        let f =
            func("min-94 [001] ..... 5.1: do_fault+0x1c/0x40 <-__handle_mm_fault+0x5f0/0x9a0\r");
        let c = parse_call(f.text).unwrap();
        assert_eq!(
            (c.func, c.parent),
            (&b"do_fault"[..], Some(&b"__handle_mm_fault"[..]))
        );
        let m = func("min-94 [001] ..... 5.1: e1000_xmit [e1000] <-dev_hard_start_xmit");
        assert_eq!(parse_call(m.text).unwrap().func, b"e1000_xmit");
        let a = func("min-94 [001] ..... 5.1: foo <ffffffff81000000> <-bar <ffffffff81000100>");
        let c = parse_call(a.text).unwrap();
        assert_eq!((c.func, c.parent), (&b"foo"[..], Some(&b"bar"[..])));
    }

    #[test]
    fn sym_addr_gives_the_name_and_the_address() {
        // As the 6.12 arm64 guest prints it: the patch site (symbol + 4),
        // then the return address into the caller.
        let f = func("             min-94      [001] ..... 5.1: gic_handle_irq <ffff80008001000c> <-call_on_irq_stack <ffff8000800148b0>");
        let c = parse_call(f.text).unwrap();
        assert_eq!(
            (c.func, c.func_addr, c.parent, c.parent_addr),
            (
                &b"gic_handle_irq"[..],
                Some(0xffff_8000_8001_000c),
                Some(&b"call_on_irq_stack"[..]),
                Some(0xffff_8000_8001_48b0)
            )
        );
        // 32-bit kernels print 8 digits; offsets come before the address.
        let o =
            func("a-1 [000] ..... 5.1: do_fault+0x4/0x40 <c0101004> <-handle+0x1c/0x90 <c0200a1c>");
        let c = parse_call(o.text).unwrap();
        assert_eq!(
            (c.func, c.func_addr, c.parent, c.parent_addr),
            (
                &b"do_fault"[..],
                Some(0xc010_1004),
                Some(&b"handle"[..]),
                Some(0xc020_0a1c)
            )
        );
        // Without sym-addr, or with a module instead: no address.
        for text in [
            "gic_handle_irq <-call_on_irq_stack",
            "e1000_xmit [e1000] <-dev_hard_start_xmit",
        ] {
            let c = parse_call(text.as_bytes()).unwrap();
            assert_eq!((c.func_addr, c.parent_addr), (None, None), "{text}");
        }
        // Not an address: the name stays, the address is not made up.
        let c = parse_call(b"foo <xyz> <-bar <12345678901234567>").unwrap();
        assert_eq!(
            (c.func, c.func_addr, c.parent_addr),
            (&b"foo"[..], None, None)
        );
    }

    #[test]
    fn function_with_spliced_kernel_message() {
        let f = func("             min-94      [001] .....     5.234033: unregister_hw_breakpoint <-flush_ptrace_hw_breakpoint[   27.013141] random: crng init done");
        let c = parse_call(f.text).unwrap();
        assert_eq!(c.parent, Some(&b"flush_ptrace_hw_breakpoint"[..]));
        assert!(c.kmsg);
    }

    #[test]
    fn non_function_events() {
        assert_eq!(
            skip("  ftrace_it-94 [000] ..... 5.2: <stack trace>"),
            Skip::StackTrace
        );
        assert_eq!(skip(" => __x64_sys_execve"), Skip::StackTrace);
        assert_eq!(
            skip("  bash-1 [000] ..... 5.2: sched_switch: prev_comm=bash prev_pid=1"),
            Skip::OtherEvent
        );
        assert_eq!(
            skip("  bash-1 [000] ..... 5.2: tracing_mark_write: hello <-world"),
            Skip::OtherEvent
        );
        assert_eq!(
            skip("  bash-1 [000] ..... notatime: a <-b"),
            Skip::Unparsable
        );
    }

    #[test]
    fn headers_and_comments() {
        assert_eq!(
            parse_line(b"# ftrace_it.pid: 44"),
            Line::Header {
                key: b"pid",
                value: b"44"
            }
        );
        assert_eq!(
            parse_line(b"# ftrace_it.cpu1: entries=5 overrun=0 commit_overrun=0 dropped=0\r"),
            Line::Header {
                key: b"cpu1",
                value: b"entries=5 overrun=0 commit_overrun=0 dropped=0"
            }
        );
        assert_eq!(
            parse_line(b"# tracer: function_graph"),
            Line::Tracer(b"function_graph")
        );
        assert_eq!(skip("#"), Skip::Comment);
        assert_eq!(
            skip("# entries-in-buffer/entries-written: 77741/77741   #P:2"),
            Skip::Comment
        );
        assert_eq!(
            skip("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION"),
            Skip::Comment
        );
        assert_eq!(skip("##### CPU 1 buffer started ####"), Skip::BufferStarted);
        assert_eq!(skip("cpus=2"), Skip::Comment);
        assert_eq!(skip("cpus=two"), Skip::Unparsable);
    }

    #[test]
    fn misc_lines() {
        assert_eq!(skip(""), Skip::Blank);
        assert_eq!(skip("  \r"), Skip::Blank);
        assert_eq!(
            skip("[   12.345678] random: crng init done"),
            Skip::KernelMessage
        );
        assert_eq!(
            skip("<6>[   12.345678] random: crng init done"),
            Skip::KernelMessage
        );
        assert_eq!(
            skip(" ------------------------------------------"),
            Skip::Separator
        );
        assert_eq!(skip("hello world"), Skip::Unparsable);
        assert_eq!(
            parse_line(b"CPU:1 [LOST 1234 EVENTS]"),
            Line::Lost {
                cpu: 1,
                count: 1234
            }
        );
    }

    #[test]
    fn graph_plain() {
        let g = graph(" 1)               |  __x64_sys_execve() {");
        assert_eq!(g.cpu, 1);
        assert_eq!(g.depth, 0);
        assert_eq!(g.kind, GraphKind::Entry(b"__x64_sys_execve"));
        assert_eq!(g.pid, None);
        let l = graph(" 1)   0.345 us    |      kmem_cache_alloc();");
        assert_eq!(l.depth, 2);
        assert_eq!(l.kind, GraphKind::Leaf(b"kmem_cache_alloc"));
        let e = graph(" 1) + 12.345 us   |    }");
        assert_eq!(e.depth, 1);
        assert_eq!(e.kind, GraphKind::Exit);
        let t = graph(" 0) ! 123.456 us  |  } /* do_syscall_64 */");
        assert_eq!(t.kind, GraphKind::Exit);
        assert_eq!(t.depth, 0);
        let r = graph(" 0)   1.000 us    |    getname(); /* = 0xffff0000 */");
        assert_eq!(r.kind, GraphKind::Leaf(b"getname"));
    }

    #[test]
    fn graph_proc_abstime_and_latency() {
        let g = graph(" 1)   min-94    |               |  do_execveat_common.isra.0() {");
        assert_eq!(g.pid, Some(94));
        assert_eq!(g.comm, b"min");
        assert_eq!(g.kind, GraphKind::Entry(b"do_execveat_common.isra.0"));
        let a = graph("  123.456789 |   0)  ftrace_-44    |   0.345 us    |      alloc_bprm();");
        assert_eq!(a.ts.and_then(parse_ts), Some(123_456_789_000));
        assert_eq!(a.cpu, 0);
        assert_eq!(a.pid, Some(44));
        assert_eq!(a.depth, 2);
        let l = graph(" 0)   min-94    |  d.h1 |   0.345 us    |  irq_enter_rcu();");
        assert_eq!(l.flags, Some(&b"d.h1"[..]));
        assert_eq!(l.depth, 0);
        let b = graph("  123.456789 |   0)               |  foo() {");
        assert_eq!(b.ts.and_then(parse_ts), Some(123_456_789_000));
        assert_eq!(b.pid, None);
    }

    #[test]
    fn graph_markers_and_switches() {
        assert_eq!(parse_line(b" 1)  ==========> |"), Line::IrqEnter { cpu: 1 });
        assert_eq!(
            parse_line(b" 1)   min-94    |  <========== |"),
            Line::IrqExit { cpu: 1 }
        );
        assert_eq!(
            parse_line(b" 1)  ftrace_-94    =>    min-94   "),
            Line::Switch { cpu: 1, pid: 94 }
        );
        let other = graph(" 0)   min-94    |               |  /* sched_switch: prev_comm=min */");
        assert_eq!((other.cpu, other.kind), (0, GraphKind::Other));
    }

    #[test]
    fn trace_cmd_report_function() {
        let plain = func(
            "             min-94    [001]    52.123456: function:             __arm64_sys_execve",
        );
        assert_eq!((plain.pid, plain.cpu, plain.flags), (94, 1, None));
        let c = parse_call(plain.text).unwrap();
        assert_eq!((c.func, c.parent), (&b"__arm64_sys_execve"[..], None));
        let indented = func("             min-94    [001]    52.123457: function:                   getname_flags.part.0");
        assert_eq!(
            parse_call(indented.text).unwrap().func,
            b"getname_flags.part.0"
        );
        let parent = func("             min-94    [001]    52.123458: function:                getname <-- __arm64_sys_execve");
        let c = parse_call(parent.text).unwrap();
        assert_eq!(
            (c.func, c.parent),
            (&b"getname"[..], Some(&b"__arm64_sys_execve"[..]))
        );
        let offsets =
            func("min-94 [001] 52.1: function: getname+0x4/0x20 <-- do_execveat_common+0x1c/0x200");
        let c = parse_call(offsets.text).unwrap();
        assert_eq!(
            (c.func, c.parent),
            (&b"getname"[..], Some(&b"do_execveat_common"[..]))
        );
        assert_eq!(
            skip("       trace-cmd-93    [000]    52.0: sched_switch:         trace-cmd:93 [120] S ==> swapper/0:0 [120]"),
            Skip::OtherEvent
        );
        assert_eq!(
            skip("min-94 [001] 52.1: function: getname <-- "),
            Skip::OtherEvent
        );
    }

    #[test]
    fn trace_cmd_report_latency_columns() {
        let f = func("     min-94        1d..2.    52.123456: function:             do_el0_svc");
        assert_eq!((f.comm(), f.pid, f.cpu), (&b"min"[..], 94, 1));
        assert_eq!(f.flags, Some(&b"d..2."[..]));
        assert_eq!(parse_ts(f.ts), Some(52_123_456_000));
        assert_eq!(parse_call(f.text).unwrap().func, b"do_el0_svc");
        let spaced =
            func("trace-cm-93       0 d.h1.  52.2: function: irq_enter_rcu <-- el1_interrupt");
        assert_eq!(
            (spaced.comm(), spaced.pid, spaced.cpu),
            (&b"trace-cm"[..], 93, 0)
        );
        assert_eq!(spaced.flags, Some(&b"d.h1."[..]));
        assert_eq!(skip("some text 52.2: function: x"), Skip::Unparsable);
        assert_eq!(skip("min-94 1 52.2: function: x"), Skip::Unparsable);
    }

    #[test]
    fn trace_cmd_report_function_graph() {
        let e = graph("             min-94    [001]    52.123456: funcgraph_entry:                   |  el0_svc() {");
        assert_eq!((e.pid, e.cpu, e.comm), (Some(94), 1, &b"min"[..]));
        assert_eq!(e.ts.and_then(parse_ts), Some(52_123_456_000));
        assert_eq!((e.depth, e.kind), (0, GraphKind::Entry(b"el0_svc")));
        let l = graph("             min-94    [001]    52.123457: funcgraph_entry:        0.345 us   |      getname();");
        assert_eq!((l.depth, l.kind), (2, GraphKind::Leaf(b"getname")));
        let x = graph(
            "             min-94    [001]    52.123458: funcgraph_exit:       + 12.345 us   |    }",
        );
        assert_eq!((x.depth, x.kind), (1, GraphKind::Exit));
        let lat = graph(
            "     min-94        1d..2.    52.2: funcgraph_entry:   0.345 us   |  do_el0_svc();",
        );
        assert_eq!(lat.flags, Some(&b"d..2."[..]));
        assert_eq!(lat.kind, GraphKind::Leaf(b"do_el0_svc"));
        assert_eq!(
            skip("min-94 [001] 52.1: funcgraph_entry: soon |  a();"),
            Skip::Unparsable
        );
        assert_eq!(
            skip("min-94 [001] 52.1: funcgraph_exit: 1.0 us |  what"),
            Skip::Unparsable
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_ts(b"5.214403"), Some(5_214_403_000));
        assert_eq!(parse_ts(b"123"), Some(123));
        assert_eq!(parse_ts(b"1.123456789"), Some(1_123_456_789));
        assert_eq!(parse_ts(b"1.1234567890"), None);
        assert_eq!(parse_ts(b"1."), None);
        assert_eq!(parse_ts(b"x.1"), None);
        assert_eq!(parse_ts(b"99999999999999999.1"), None);
        for ok in [
            "5.214403",
            "0.1",
            "9999999999.999999999",
            "1234567890123456789",
        ] {
            assert!(valid_ts(ok.as_bytes()), "{ok}");
            assert!(parse_ts(ok.as_bytes()).is_some(), "{ok}");
        }
        for bad in [
            "",
            ".1",
            "1.",
            "12345678901.1",
            "1.1234567890",
            "1x",
            "12345678901234567890",
        ] {
            assert!(!valid_ts(bad.as_bytes()), "{bad}");
        }
    }
}
