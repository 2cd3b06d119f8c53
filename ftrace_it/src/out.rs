//! The fixed-capacity buffer, output and one-line errors.

use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::{self, Errno};

/// Tool errors: the message is already on stderr, this is the exit status.
pub struct Fail(pub u8);

impl Fail {
    /// The same failure (already reported) with another exit status.
    pub fn with(self, code: u8) -> Fail {
        Fail(code)
    }
}

pub type Res<T> = Result<T, Fail>;

/// Exit statuses of the tool itself (the program's own status otherwise).
pub const E_USAGE: u8 = 64;
pub const E_PROGRAM: u8 = 65;
pub const E_PERM: u8 = 66;
pub const E_TRACEFS: u8 = 67;
pub const E_TRACER: u8 = 68;
pub const E_CPU: u8 = 69;
pub const E_EXEC: u8 = 70;
pub const E_LOST: u8 = 71;
pub const E_RESTORE: u8 = 72;
pub const E_IO: u8 = 73;
pub const E_STALE: u8 = 74;
pub const E_JOURNAL: u8 = 75;
/// Every status above: the tool's own, not the program's.
pub const OWN_ERRORS: core::ops::RangeInclusive<u8> = E_USAGE..=E_JOURNAL;

/// The one fixed-capacity buffer: bytes that silently truncate at N, so
/// messages never fail to format; also paths (`fsutil::Path`), saved
/// settings and task names.
pub struct Buf<const N: usize> {
    len: usize,
    b: [u8; N],
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf { len: 0, b: [0; N] }
    }

    pub fn s(&mut self, x: &[u8]) -> &mut Self {
        append(&mut self.b, &mut self.len, x);
        self
    }

    pub fn n(&mut self, v: u64) -> &mut Self {
        append_decimal(&mut self.b, &mut self.len, v);
        self
    }

    pub fn bytes(&self) -> &[u8] {
        // `len <= N` always; `min` lets the compiler see it (no panic path).
        &self.b[..self.len.min(N)]
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Replaces the content with `x`, as much as fits.
    pub fn set(&mut self, x: &[u8]) {
        self.clear();
        self.s(x);
    }

    /// The pieces one after the other.
    #[inline(never)]
    pub fn from(parts: &[&[u8]]) -> Self {
        let mut b = Self::new();
        for part in parts {
            b.s(part);
        }
        b
    }

    /// As a C string, NUL-terminated in place: a full buffer gives up its
    /// last byte to the NUL.
    pub fn c(&mut self) -> &CStr {
        self.len = self.len.min(N - 1);
        terminate(&mut self.b, self.len)
    }
}

/// Shared by every buffer size, so it exists once in the binary.
#[inline(never)]
fn terminate(b: &mut [u8], len: usize) -> &CStr {
    let Some(nul) = b.get_mut(len) else {
        return Default::default();
    };
    *nul = 0;
    // SAFETY: NUL-terminated just above, within the buffer.
    unsafe { CStr::from_ptr(b.as_ptr() as *const core::ffi::c_char) }
}

/// Shared by every buffer size, so it exists once in the binary.
#[inline(never)]
pub fn append(b: &mut [u8], len: &mut usize, x: &[u8]) {
    let room = b.get_mut(*len..).unwrap_or_default();
    let n = x.len().min(room.len());
    room[..n].copy_from_slice(&x[..n]);
    *len += n;
}

/// `append` of `v` in decimal, shared by every buffer size.
#[inline(never)]
pub fn append_decimal(b: &mut [u8], len: &mut usize, v: u64) {
    let mut t = [0u8; 20];
    let i = decimal(&mut t, v);
    append(b, len, &t[i..]);
}

/// Writes `v` in decimal at the end of `t`; returns where it starts.
#[inline(never)]
pub fn decimal(t: &mut [u8; 20], mut v: u64) -> usize {
    // u64::MAX has 20 digits: the loop always ends by returning.
    for i in (0..t.len()).rev() {
        t[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
    0
}

/// N names in one string, separated by `|`: a table of slices would take
/// 16 bytes per name on top of its text. Where each ends is worked out at
/// compile time, and a wrong count fails the build.
pub struct Names<const N: usize> {
    text: &'static [u8],
    ends: [u16; N],
}

impl<const N: usize> Names<N> {
    pub const fn new(text: &'static [u8]) -> Self {
        let mut ends = [0u16; N];
        let (mut i, mut n) = (0, 0);
        while i <= text.len() {
            if i == text.len() || text[i] == b'|' {
                assert!(n < N, "more names than N");
                ends[n] = i as u16;
                n += 1;
            }
            i += 1;
        }
        assert!(n == N, "fewer names than N");
        Names { text, ends }
    }

    pub fn get(&self, i: usize) -> &'static [u8] {
        nth(self.text, &self.ends, i)
    }

    /// The index of `name`.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        (0..N).find(|&i| self.get(i) == name)
    }
}

/// Name `i` of a `Names` table; shared by every table size.
#[inline(never)]
fn nth(text: &'static [u8], ends: &[u16], i: usize) -> &'static [u8] {
    let start = match i.checked_sub(1).and_then(|p| ends.get(p)) {
        Some(&e) => e as usize + 1,
        None => 0,
    };
    let end = ends.get(i).map_or(0, |&e| e as usize);
    text.get(start..end).unwrap_or_default()
}

pub type Msg = Buf<768>;

pub fn stdout() -> BorrowedFd<'static> {
    // SAFETY: fd 1 stays open for the life of the process.
    unsafe { rustix::stdio::stdout() }
}

pub fn stderr() -> BorrowedFd<'static> {
    // SAFETY: fd 2 stays open for the life of the process.
    unsafe { rustix::stdio::stderr() }
}

pub fn write_all(fd: BorrowedFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match io::write(fd, data) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Buffered writer that remembers the first error.
pub struct Writer<'f> {
    fd: &'f OwnedFd,
    b: Buf<4096>,
    pub err: Option<Errno>,
    /// Bytes written so far.
    pub len: u64,
}

impl<'f> Writer<'f> {
    pub fn new(fd: &'f OwnedFd) -> Self {
        Writer {
            fd,
            b: Buf::new(),
            err: None,
            len: 0,
        }
    }

    pub fn flush(&mut self) {
        if self.err.is_none() {
            self.err = write_all(self.fd.as_fd(), self.b.bytes()).err();
        }
        self.b.clear();
    }

    #[inline(never)]
    pub fn s(&mut self, x: &[u8]) -> &mut Self {
        self.len += x.len() as u64;
        if self.b.bytes().len() + x.len() > 4096 {
            self.flush();
        }
        if x.len() > 4096 {
            if self.err.is_none() {
                self.err = write_all(self.fd.as_fd(), x).err();
            }
        } else {
            self.b.s(x);
        }
        self
    }

    #[inline(never)]
    pub fn n(&mut self, v: u64) -> &mut Self {
        let mut t = [0u8; 20];
        let i = decimal(&mut t, v);
        self.s(&t[i..])
    }
}

/// Starts a message with the tool's name.
#[inline(never)]
pub fn msg() -> Msg {
    let mut m = Msg::new();
    m.s(b"ftrace_it: ");
    m
}

/// Prints `m` as one line on stderr.
pub fn say(m: &mut Msg) {
    line(stderr(), m);
}

/// Prints `m` as one line on stdout.
pub fn tell(m: &mut Msg) {
    line(stdout(), m);
}

#[inline(never)]
fn line(fd: BorrowedFd, m: &mut Msg) {
    m.s(b"\n");
    let _ = write_all(fd, m.bytes());
}

/// `cannot <verb> <name>: <error>`, with the status the error calls for.
#[cold]
#[inline(never)]
pub fn io_fail(verb: &[u8], name: &[u8], e: Errno) -> Fail {
    let mut m = msg();
    m.s(verb).s(name);
    fail(with_errno(&mut m, e), code_of(e))
}

/// Prints `m` and returns the failure with exit status `code`.
#[inline(never)]
pub fn fail(m: &mut Msg, code: u8) -> Fail {
    say(m);
    Fail(code)
}

/// Permission problems get their own status; everything else is I/O.
pub fn code_of(e: Errno) -> u8 {
    if e == Errno::ACCESS || e == Errno::PERM || e == Errno::ROFS {
        E_PERM
    } else {
        E_IO
    }
}

pub fn errtext(e: Errno) -> &'static [u8] {
    const CODES: [Errno; 12] = [
        Errno::NOENT,
        Errno::ACCESS,
        Errno::PERM,
        Errno::BUSY,
        Errno::INVAL,
        Errno::IO,
        Errno::NOEXEC,
        Errno::NODEV,
        Errno::NOSPC,
        Errno::ROFS,
        Errno::TOOBIG,
        Errno::TXTBSY,
    ];
    /// In the order of CODES.
    const TEXTS: Names<12> = Names::new(
        b"no such file or directory|permission denied|operation not permitted|\
        device or resource busy|invalid argument|input/output error|exec format error|\
        no such device|no space left on device|read-only file system|argument list too long|\
        text file busy",
    );
    match CODES.iter().position(|&c| c == e) {
        Some(i) => TEXTS.get(i),
        None => b"system error",
    }
}

/// Appends `: <error text> (errno N)`.
#[inline(never)]
pub fn with_errno(m: &mut Msg, e: Errno) -> &mut Msg {
    m.s(b": ")
        .s(errtext(e))
        .s(b" (errno ")
        .n(e.raw_os_error() as u64)
        .s(b")")
}
