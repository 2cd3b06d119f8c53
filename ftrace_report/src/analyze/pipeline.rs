//! `Analysis::read`: a second thread reads the input, splits it into lines
//! and parses them, so that parsing (most of the per-line cost) overlaps
//! with the order-dependent attribution on the calling thread. The split
//! and the results equal those of `feed`/`finish`.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

use super::{Analysis, Error, MAX_LINE};
use crate::parse::{self, FuncLine, Line, Skip};

/// Read size.
const CHUNK: usize = 1 << 20;

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
    recs: Vec<Rec>,
    /// The last batch of the input.
    end: bool,
}

/// The reading, splitting and parsing thread's state.
#[derive(Default)]
struct Reader {
    /// The unfinished last line of the previous read.
    carry: Vec<u8>,
    /// That line is longer than `MAX_LINE`: dropped up to its `\n`.
    overlong: bool,
}

impl Reader {
    fn run<R: Read>(mut self, mut r: R, tx: SyncSender<io::Result<Batch>>, back: Receiver<Batch>) {
        loop {
            let mut b = back.try_recv().unwrap_or_else(|_| Batch {
                buf: vec![0; MAX_LINE + CHUNK],
                len: 0,
                recs: Vec::new(),
                end: false,
            });
            b.recs.clear();
            let keep = self.carry.len();
            b.buf[..keep].copy_from_slice(&self.carry);
            self.carry.clear();
            let res = loop {
                match r.read(&mut b.buf[keep..keep + CHUNK]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    res => break res,
                }
            };
            let n = match res {
                Ok(n) => n,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            b.end = n == 0;
            if b.end {
                if keep > 0 || self.overlong {
                    b.recs.push(Rec::Partial);
                }
                b.len = 0;
            } else {
                b.len = self.split(&mut b, keep + n);
            }
            // The analysis may have stopped (an input error): then end too.
            if tx.send(Ok(b)).is_err() {
                return;
            }
            if n == 0 {
                return;
            }
        }
    }

    /// Parses the complete lines of `b.buf[..filled]`, keeps the rest in
    /// `carry`; returns where the complete lines end.
    fn split(&mut self, b: &mut Batch, filled: usize) -> usize {
        let data = &b.buf[..filled];
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', data) {
            let rec = if self.overlong {
                self.overlong = false;
                Rec::Overlong
            } else if nl - start > MAX_LINE {
                Rec::Overlong
            } else {
                self.parse(data, &data[start..nl])
            };
            b.recs.push(rec);
            start = nl + 1;
        }
        if !self.overlong {
            let rest = &data[start..];
            if rest.len() > MAX_LINE {
                self.overlong = true;
            } else {
                self.carry.extend_from_slice(rest);
            }
        }
        start
    }

    fn parse(&self, buf: &[u8], line: &[u8]) -> Rec {
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
}

impl Analysis {
    /// Streams `r` line by line (see the module comment).
    pub fn read<R: Read + Send + 'static>(&mut self, r: R) -> Result<(), Error> {
        let (tx, rx) = mpsc::sync_channel::<io::Result<Batch>>(2);
        let (back_tx, back_rx) = mpsc::channel::<Batch>();
        let reader = Reader::default();
        // Not joined: after an error the thread may still be blocked in
        // read(); its next send fails and it ends.
        thread::spawn(move || reader.run(r, tx, back_rx));
        for msg in rx {
            let b = msg?;
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
            if b.end {
                return Ok(());
            }
            // The thread may be gone already; the batch is then dropped.
            let _ = back_tx.send(b);
        }
        Err(Error::Io(io::Error::other(
            "the line splitting thread stopped",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out the input a few bytes per read, with an interruption.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
        interrupted: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn same_lines_as_feed_for_any_read_size() {
        let mut data = Vec::new();
        for i in 0..300 {
            data.extend_from_slice(
                format!(" min-{} [000] d.h.. 1.{i:06}: f{} <-g\r\n", i % 3, i % 7).as_bytes(),
            );
            if i % 100 == 50 {
                // A valid line, but too long.
                data.extend_from_slice(b" min-1 [000] ..... 1.5: ");
                data.extend(std::iter::repeat(b'x').take(MAX_LINE + i));
                data.extend_from_slice(b" <-g\n# tracer: function\n\n");
            }
        }
        data.extend_from_slice(b" min-1 [000] ..... 2.0: cut");
        // In pieces of at most `MAX_LINE`, as a stream is read.
        let mut whole = Analysis::new(None);
        let mut split = super::super::Splitter::default();
        for piece in data.chunks(MAX_LINE) {
            whole.feed(&mut split, piece).unwrap();
        }
        whole.finish(split);
        for step in [1 << 16, CHUNK, 3 * MAX_LINE] {
            let mut a = Analysis::new(None);
            let r = Trickle {
                data: data.clone(),
                at: 0,
                step,
                interrupted: false,
            };
            a.read(r).unwrap();
            assert_eq!(a.lines, whole.lines);
            assert_eq!(a.events, whole.events);
            assert_eq!(a.skipped, whole.skipped);
            assert_eq!(a.first_skipped_line, whole.first_skipped_line);
            assert_eq!(a.target, whole.target);
            assert_eq!(a.names.len(), whole.names.len());
            assert_eq!(a.tracer_line, whole.tracer_line);
        }
        assert_eq!(whole.skipped[Skip::Unparsable as usize], 3);
        assert_eq!(whole.skipped[Skip::PartialLine as usize], 1);
    }
}
