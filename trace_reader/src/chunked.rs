//! A reader for the tests and the fuzz checks: how an input is cut into
//! reads must not change what is read from it.

use std::io::{self, Read};

/// A reader that hands out its data in pieces of the given sizes (in
/// turn), after one interrupted read, as a pipe or a slow device would;
/// with `fail_at_end`, the end of the data is an error instead of EOF.
pub struct Chunked<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    turn: usize,
    interrupted: bool,
    pub fail_at_end: bool,
}

impl<'a> Chunked<'a> {
    /// `sizes` must not be empty; a size of 0 is read as 1.
    pub fn new(data: &'a [u8], sizes: &[usize]) -> Chunked<'a> {
        Chunked {
            data,
            sizes: sizes.iter().map(|&n| n.max(1)).collect(),
            turn: 0,
            interrupted: false,
            fail_at_end: false,
        }
    }
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.interrupted {
            self.interrupted = true;
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.data.is_empty() && self.fail_at_end {
            return Err(io::Error::other("device gone"));
        }
        let size = self.sizes[self.turn % self.sizes.len()];
        self.turn += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
