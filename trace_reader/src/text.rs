//! Text input, line by line: a second thread splits the input into lines
//! and parses them (most of the per-line cost) while the calling thread
//! reads the input and hands each line over, in order, to the
//! order-dependent work (the analysis' attribution). How the input is cut
//! into reads does not change the lines.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::{FuncLine, Line};

/// Read size.
const CHUNK: usize = 1 << 20;
/// Lines longer than this are skipped as unparsable without being buffered.
pub const MAX_LINE: usize = 1 << 20;

/// A range of a batch's buffer (buffers are at most `MAX_LINE + CHUNK`).
#[derive(Clone, Copy, Debug)]
struct Span {
    at: u32,
    len: u32,
}

impl Span {
    fn of(buf: &[u8], part: &[u8]) -> Span {
        Span {
            at: (part.as_ptr() as usize - buf.as_ptr() as usize) as u32,
            len: part.len() as u32,
        }
    }

    fn get(self, buf: &[u8]) -> &[u8] {
        &buf[self.at as usize..][..self.len as usize]
    }
}

/// A `function` tracer line (`parse::FuncLine` as ranges of the buffer).
#[derive(Clone, Copy, Debug)]
struct Func {
    pid: u32,
    cpu: u32,
    comm_padded: Span,
    flags: Option<Span>,
    ts: Span,
    text: Span,
}

impl Func {
    fn get(self, buf: &[u8]) -> FuncLine<'_> {
        FuncLine {
            comm_padded: self.comm_padded.get(buf),
            pid: self.pid,
            cpu: self.cpu,
            flags: self.flags.map(|s| s.get(buf)),
            ts: self.ts.get(buf),
            text: self.text.get(buf),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Rec {
    Func(Func),
    /// Any other line: parsed again on the analysing thread (rare in
    /// `function` traces).
    Line(Span),
    /// A line longer than `MAX_LINE`.
    Overlong,
    /// The input ended inside a line.
    Partial,
}

/// Lines of one read; `buf[..len]` holds complete lines only, starting
/// with what was left of the previous read.
struct Batch {
    buf: Vec<u8>,
    len: usize,
    /// The first line is the end of one longer than `MAX_LINE`.
    overlong_first: bool,
    /// Filled by the parsing thread.
    recs: Vec<Rec>,
    /// The last batch of the input, and whether the input ended inside a
    /// line.
    end: bool,
    partial: bool,
}

/// Batches at the parsing thread at a time: it parses the next while this
/// thread attributes the events of one.
const IN_FLIGHT: usize = 3;

impl Batch {
    fn new() -> Batch {
        Batch {
            buf: vec![0; MAX_LINE + CHUNK],
            len: 0,
            overlong_first: false,
            recs: Vec::new(),
            end: false,
            partial: false,
        }
    }
}

/// Cuts the input into batches of complete lines.
#[derive(Default)]
struct Reader {
    /// The unfinished last line of the previous read.
    carry: Vec<u8>,
    /// That line is longer than `MAX_LINE`: dropped up to its `\n`.
    overlong: bool,
}

impl Reader {
    /// Reads the next batch, cut after its last `\n`.
    fn fill<R: Read>(&mut self, r: &mut R, b: &mut Batch) -> io::Result<()> {
        let keep = self.carry.len();
        b.buf[..keep].copy_from_slice(&self.carry);
        let n = loop {
            match r.read(&mut b.buf[keep..keep + CHUNK]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => break res?,
            }
        };
        self.carry.clear();
        b.end = n == 0;
        b.partial = b.end && (keep > 0 || self.overlong);
        b.overlong_first = false;
        b.len = 0;
        let filled = keep + n;
        // The carried part has no `\n`.
        if let Some(nl) = memchr::memrchr(b'\n', &b.buf[keep..filled]) {
            b.len = keep + nl + 1;
            b.overlong_first = self.overlong;
            self.overlong = false;
        }
        if !self.overlong {
            let rest = &b.buf[b.len..filled];
            if rest.len() > MAX_LINE {
                self.overlong = true;
            } else {
                self.carry.extend_from_slice(rest);
            }
        }
        Ok(())
    }
}

/// The parsing thread: fills in the records of each batch.
fn parse_batches(rx: Receiver<Batch>, tx: Sender<Batch>) {
    for mut b in rx {
        parse_lines(&mut b);
        if tx.send(b).is_err() {
            return;
        }
    }
}

fn parse_lines(b: &mut Batch) {
    b.recs.clear();
    let data = &b.buf[..b.len];
    let mut start = 0;
    let mut overlong = b.overlong_first;
    for nl in memchr::memchr_iter(b'\n', data) {
        let rec = if overlong || nl - start > MAX_LINE {
            overlong = false;
            Rec::Overlong
        } else {
            parse_line(data, &data[start..nl])
        };
        b.recs.push(rec);
        start = nl + 1;
    }
    if b.partial {
        b.recs.push(Rec::Partial);
    }
}

fn parse_line(buf: &[u8], line: &[u8]) -> Rec {
    match crate::parse_line_lazy(line) {
        Line::Func(f) => Rec::Func(Func {
            pid: f.pid,
            cpu: f.cpu,
            comm_padded: Span::of(buf, f.comm_padded),
            flags: f.flags.map(|s| Span::of(buf, s)),
            ts: Span::of(buf, f.ts),
            text: Span::of(buf, f.text),
        }),
        _ => Rec::Line(Span::of(buf, line)),
    }
}

/// One line of the input.
#[derive(Clone, Copy, Debug)]
pub enum TextLine<'a> {
    /// A `function` tracer line.
    Func(FuncLine<'a>),
    /// Any other line, for [`crate::parse_line`] (rare in `function`
    /// traces).
    Other(&'a [u8]),
    /// A line longer than [`MAX_LINE`].
    Overlong,
    /// The input ended inside this line.
    Partial,
}

/// Streams `r` line by line to `each` (see the module comment); a read
/// error is returned after the lines before it.
pub fn read<R: Read, E: From<io::Error>>(
    mut r: R,
    mut each: impl FnMut(TextLine<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let (raw_tx, raw_rx) = mpsc::channel();
    let (parsed_tx, parsed_rx) = mpsc::channel();
    thread::scope(|s| {
        s.spawn(move || parse_batches(raw_rx, parsed_tx));
        // Ends the parsing thread by dropping `raw_tx`.
        stream(&mut r, raw_tx, &parsed_rx, &mut each)
    })
}

fn stream<R: Read, E: From<io::Error>>(
    r: &mut R,
    tx: Sender<Batch>,
    rx: &Receiver<Batch>,
    each: &mut impl FnMut(TextLine<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let stopped = || io::Error::other("the line parsing thread stopped");
    let mut reader = Reader::default();
    let mut spare = Vec::new();
    let (mut in_flight, mut end, mut failed) = (0, false, None);
    loop {
        while !end && failed.is_none() && in_flight < IN_FLIGHT {
            let mut b = spare.pop().unwrap_or_else(Batch::new);
            match reader.fill(r, &mut b) {
                Ok(()) => {
                    end = b.end;
                    tx.send(b).map_err(|_| stopped())?;
                    in_flight += 1;
                }
                // Reported after the lines before it.
                Err(e) => failed = Some(e),
            }
        }
        if in_flight == 0 {
            return failed.map_or(Ok(()), |e| Err(e.into()));
        }
        let b = rx.recv().map_err(|_| stopped())?;
        in_flight -= 1;
        let buf = &b.buf[..b.len];
        for &rec in &b.recs {
            each(match rec {
                Rec::Func(f) => TextLine::Func(f.get(buf)),
                Rec::Line(l) => TextLine::Other(l.get(buf)),
                Rec::Overlong => TextLine::Overlong,
                Rec::Partial => TextLine::Partial,
            })?;
        }
        spare.push(b);
    }
}
