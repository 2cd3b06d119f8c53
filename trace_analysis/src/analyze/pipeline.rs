//! `Analysis::read`: a second thread splits the input into lines and parses
//! them (most of the per-line cost) while the calling thread reads the
//! input and does the order-dependent attribution. How the input is cut
//! into reads does not change the result.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use super::{Analysis, Error};
use trace_reader::{self as parse, FuncLine, Line, Skip};

/// Read size.
const CHUNK: usize = 1 << 20;
/// Lines longer than this are skipped as unparsable without being buffered.
pub(super) const MAX_LINE: usize = 1 << 20;

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
    match parse::parse_line_lazy(line) {
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

impl Analysis {
    /// Streams `r` line by line (see the module comment).
    pub fn read<R: Read>(&mut self, mut r: R) -> Result<(), Error> {
        let (raw_tx, raw_rx) = mpsc::channel();
        let (parsed_tx, parsed_rx) = mpsc::channel();
        let res = thread::scope(|s| {
            s.spawn(move || parse_batches(raw_rx, parsed_tx));
            // Ends the parsing thread by dropping `raw_tx`.
            self.stream(&mut r, raw_tx, &parsed_rx)
        });
        self.finish_tree();
        res
    }

    fn stream<R: Read>(
        &mut self,
        r: &mut R,
        tx: Sender<Batch>,
        rx: &Receiver<Batch>,
    ) -> Result<(), Error> {
        let stopped = || Error::Io(io::Error::other("the line parsing thread stopped"));
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
                return failed.map_or(Ok(()), |e| Err(Error::Io(e)));
            }
            let b = rx.recv().map_err(|_| stopped())?;
            in_flight -= 1;
            self.batch(&b)?;
            spare.push(b);
        }
    }

    fn batch(&mut self, b: &Batch) -> Result<(), Error> {
        let buf = &b.buf[..b.len];
        for &rec in &b.recs {
            match rec {
                Rec::Func(f) => {
                    self.lines += 1;
                    self.func(f.get(buf));
                }
                Rec::Line(l) => self.line(l.get(buf))?,
                Rec::Overlong => {
                    self.lines += 1;
                    self.skip(Skip::Unparsable);
                }
                Rec::Partial => {
                    self.lines += 1;
                    self.skip(Skip::PartialLine);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_reader::chunked::Chunked;

    #[test]
    fn same_lines_for_any_read_size() {
        let mut data = Vec::new();
        for i in 0..300 {
            data.extend_from_slice(
                format!(" min-{} [000] d.h.. 1.{i:06}: f{} <-g\r\n", i % 3, i % 7).as_bytes(),
            );
            if i % 100 == 50 {
                // A valid line (so is any end of it), but too long.
                data.extend(std::iter::repeat(b'x').take(MAX_LINE + i * i * 40));
                data.extend_from_slice(b" min-1 [000] ..... 1.5: f <-g\n# tracer: function\n\n");
            }
        }
        data.extend_from_slice(b" min-1 [000] ..... 2.0: cut");
        let mut whole = Analysis::new(None);
        whole.read(&data[..]).unwrap();
        assert_eq!(whole.lines, 300 + 3 * 3 + 1);
        assert_eq!(whole.events, 300);
        assert_eq!(whole.skipped[Skip::Unparsable as usize], 3);
        assert_eq!(whole.skipped[Skip::PartialLine as usize], 1);
        assert_eq!(whole.skipped[Skip::Blank as usize], 3);
        for sizes in [
            &[1 << 16][..],
            &[4093, 1, 7],
            &[3 * MAX_LINE],
            &[MAX_LINE, 1],
        ] {
            let mut a = Analysis::new(None);
            a.read(Chunked::new(&data, sizes)).unwrap();
            assert_eq!(a.lines, whole.lines, "{sizes:?}");
            assert_eq!(a.events, whole.events);
            assert_eq!(a.skipped, whole.skipped);
            assert_eq!(a.first_skipped_line, whole.first_skipped_line);
            assert_eq!(a.target, whole.target);
            assert_eq!(a.names.len(), whole.names.len());
            assert_eq!(a.tracer_line, whole.tracer_line);
        }
    }

    #[test]
    fn read_error_after_the_lines_before_it() {
        let line = b" a-1 [000] ..... 1.0: foo <-bar\n";
        let data: Vec<u8> = line
            .iter()
            .cycle()
            .take(line.len() * 50_000 + 5)
            .copied()
            .collect();
        let mut a = Analysis::new(None);
        let mut r = Chunked::new(&data, &[1 << 16]);
        r.fail_at_end = true;
        match a.read(r) {
            Err(Error::Io(e)) => assert_eq!(e.to_string(), "device gone"),
            _ => panic!("no error"),
        }
        assert_eq!((a.lines, a.events), (50_000, 50_000));
    }
}
