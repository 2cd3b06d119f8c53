//! Paths in fixed buffers and whole-file reads and writes.

use core::ffi::CStr;
use rustix::fd::OwnedFd;
use rustix::fs::{self, Mode, OFlags};
use rustix::io::{self, Errno};

/// A NUL-terminated path built from byte pieces.
pub struct Path {
    len: usize,
    b: [u8; 512],
}

impl Path {
    #[inline(never)]
    pub fn new(parts: &[&[u8]]) -> Path {
        let mut p = Path {
            len: 0,
            b: [0; 512],
        };
        for part in parts {
            p.push(part);
        }
        p
    }

    pub fn push(&mut self, x: &[u8]) -> &mut Self {
        // Keep room for the NUL; option parsing bounds the user's pieces.
        let end = self.b.len() - 1;
        crate::out::append(&mut self.b[..end], &mut self.len, x);
        self
    }

    pub fn num(&mut self, v: u64) -> &mut Self {
        let mut t = [0u8; 20];
        let i = crate::out::decimal(&mut t, v);
        self.push(&t[i..])
    }

    pub fn bytes(&self) -> &[u8] {
        &self.b[..self.len]
    }

    pub fn c(&mut self) -> &CStr {
        self.b[self.len] = 0;
        CStr::from_bytes_until_nul(&self.b[..=self.len]).unwrap_or_default()
    }
}

pub fn open_read(p: &CStr) -> io::Result<OwnedFd> {
    fs::open(p, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
}

/// Opens for writing the way a shell's `>` does.
pub fn open_write(p: &CStr) -> io::Result<OwnedFd> {
    fs::open(
        p,
        OFlags::WRONLY | OFlags::TRUNC | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Reads until EOF or until `buf` is full; returns the length read.
pub fn read_into(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match io::read(fd, &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads a small file whole; a file larger than `buf` is an error.
pub fn read_file(p: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let fd = open_read(p)?;
    let n = read_into(&fd, buf)?;
    if n == buf.len() {
        let mut more = [0u8; 1];
        if read_into(&fd, &mut more)? != 0 {
            return Err(Errno::FBIG);
        }
    }
    Ok(n)
}

/// Replaces the content of a control file with `data` in one write.
pub fn write_file(p: &CStr, data: &[u8]) -> io::Result<()> {
    let fd = open_write(p)?;
    if data.is_empty() {
        return Ok(());
    }
    crate::out::write_all(&fd, data)
}

pub fn exists(p: &CStr) -> bool {
    fs::access(p, fs::Access::EXISTS).is_ok()
}

/// Strips trailing whitespace.
pub fn trim(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\n' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

/// Parses a decimal number that makes up the whole of `s`.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u64;
    }
    Some(v)
}

pub const MAX_CPUS: usize = 1024;

/// A set of CPUs as in `/sys/devices/system/cpu/online` (`0-3,6`).
#[derive(Clone, Copy)]
pub struct CpuBits([u64; MAX_CPUS / 64]);

impl CpuBits {
    pub fn parse(s: &[u8]) -> Option<CpuBits> {
        let mut bits = CpuBits([0; MAX_CPUS / 64]);
        let s = trim(s);
        if s.is_empty() {
            return Some(bits);
        }
        for item in s.split(|&c| c == b',') {
            let mut ends = item.splitn(2, |&c| c == b'-');
            let lo = parse_u64(ends.next()?)?;
            let hi = match ends.next() {
                Some(h) => parse_u64(h)?,
                None => lo,
            };
            if lo > hi || hi as usize >= MAX_CPUS {
                return None;
            }
            for c in lo..=hi {
                bits.0[c as usize / 64] |= 1 << (c % 64);
            }
        }
        Some(bits)
    }

    pub fn has(&self, cpu: u64) -> bool {
        (cpu as usize) < MAX_CPUS && self.0[cpu as usize / 64] & (1 << (cpu % 64)) != 0
    }

    pub fn count(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..MAX_CPUS as u64).filter(|&c| self.has(c))
    }
}
