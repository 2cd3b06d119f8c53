//! Paths in fixed buffers and whole-file reads and writes.

use crate::out::Buf;
use core::ffi::CStr;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::{self, Errno};

/// A path built from byte pieces; `c()` gives it NUL-terminated.
pub type Path = Buf<512>;

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

/// `open_read` that reports a failure as `cannot read PATH: ...`.
#[inline(never)]
pub fn open_or_fail(p: &mut Path) -> crate::out::Res<OwnedFd> {
    open_read(p.c()).map_err(|e| crate::out::io_fail(b"cannot read ", p.bytes(), e))
}

/// `read_file` that reports a failure as `cannot read PATH: ...`.
#[inline(never)]
pub fn read_or_fail(p: &mut Path, buf: &mut [u8]) -> crate::out::Res<usize> {
    read_file(p.c(), buf).map_err(|e| crate::out::io_fail(b"cannot read ", p.bytes(), e))
}

/// Replaces the content of a control file with `data` in one write.
pub fn write_file(p: &CStr, data: &[u8]) -> io::Result<()> {
    let fd = open_write(p)?;
    if data.is_empty() {
        return Ok(());
    }
    crate::out::write_all(fd.as_fd(), data)
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
    pub const fn empty() -> CpuBits {
        CpuBits([0; MAX_CPUS / 64])
    }

    #[inline(never)]
    pub fn parse(s: &[u8]) -> Option<CpuBits> {
        let mut bits = CpuBits::empty();
        // Ranges `lo-hi` separated by commas; a lone number is `n-n`.
        let (mut lo, mut cur, mut digits, mut range) = (0u64, 0u64, false, false);
        for &c in trim(s).iter().chain(b",") {
            match c {
                b'0'..=b'9' if cur < MAX_CPUS as u64 => {
                    cur = cur * 10 + (c - b'0') as u64;
                    digits = true;
                }
                b'-' if digits && !range => {
                    lo = cur;
                    range = true;
                    (cur, digits) = (0, false);
                }
                b',' if digits => {
                    if !range {
                        lo = cur;
                    }
                    if lo > cur || cur >= MAX_CPUS as u64 {
                        return None;
                    }
                    for c in lo..=cur {
                        bits.0[c as usize / 64] |= 1 << (c % 64);
                    }
                    (cur, digits, range) = (0, false, false);
                }
                _ => return None,
            }
        }
        Some(bits)
    }

    pub fn has(&self, cpu: u64) -> bool {
        (cpu as usize) < MAX_CPUS && self.0[cpu as usize / 64] & (1 << (cpu % 64)) != 0
    }

    /// The first CPU of the set at or after `from`.
    #[inline(never)]
    pub fn next(&self, from: u64) -> Option<u64> {
        (from..MAX_CPUS as u64).find(|&c| self.has(c))
    }

    pub fn count(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// The number after `key:` on the line that starts with it, as in
/// `/proc/meminfo` (`MemAvailable:  123 kB`) or per-CPU `stats`.
#[inline(never)]
pub fn field(text: &[u8], key: &[u8]) -> Option<u64> {
    for line in text.split(|&c| c == b'\n') {
        if let Some(rest) = line.strip_prefix(key) {
            if let Some(rest) = rest.strip_prefix(b":") {
                return first_number(rest);
            }
        }
    }
    None
}

/// The number at the start of `s`, after blanks.
#[inline(never)]
pub fn first_number(s: &[u8]) -> Option<u64> {
    let s = ltrim(s);
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    parse_u64(&s[..end])
}

/// Strips leading blanks.
pub fn ltrim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

/// Whether the blank-separated `list` contains `word`.
pub fn has_word(list: &[u8], word: &[u8]) -> bool {
    list.split(|c| c.is_ascii_whitespace()).any(|t| t == word)
}
