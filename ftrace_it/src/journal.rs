//! The journal: every setting a session may change, as found, on disk while
//! the session runs, so that `ftrace_it --restore` can put them back if
//! ftrace_it dies (SIGKILL, a crash) before its own restore. Written before
//! the first change (temp file, fsync, rename), removed once everything is
//! restored. The default is under /run, which, like the settings it holds,
//! does not outlive a reboot.
//!
//! Format: the line `ftrace_it journal 1`, then per value a one-letter kind,
//! the path, NUL, the value, NUL (neither contains a NUL); then `end\n`. In
//! the order the values are put back.

use crate::fsutil::{open_read, Path};
use crate::out::{fail, io_fail, msg, tell, Res, Writer, E_JOURNAL, E_RESTORE, E_STALE};
use crate::saved::{Each, Kind, Undo, KINDS};
use rustix::fd::OwnedFd;
use rustix::fs::{self, Mode, OFlags, RenameFlags, CWD};
use rustix::io::Errno;
use rustix::mm::{mmap, MapFlags, ProtFlags};

pub const DEFAULT: &[u8] = b"/run/ftrace_it.journal";

const HEAD: &[u8] = b"ftrace_it journal 1\n";
const END: &[u8] = b"end\n";

/// The journal of this session, on disk.
pub struct Journal(&'static [u8]);

impl Journal {
    /// Writes every value `each` gives, durably, at `path`. The rename
    /// does not replace a journal: one there is from a run that is still
    /// going, or that died with settings changed; then this run refuses.
    pub fn write(path: &'static [u8], each: impl FnOnce(Each)) -> Res<Journal> {
        let mut p = Path::from(&[path]);
        let mut tmp = Path::from(&[path, b".new"]);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
        let r = fs::open(tmp.c(), flags, Mode::from_raw_mode(0o600)).and_then(|fd| {
            let mut w = Writer::new(&fd);
            w.s(HEAD);
            each(&mut |kind, path, value, _| {
                w.s(&[kind as u8])
                    .s(path.bytes())
                    .s(b"\0")
                    .s(value)
                    .s(b"\0");
            });
            w.s(END).flush();
            if let Some(e) = w.err {
                return Err(e);
            }
            fs::fsync(&fd)?;
            fs::renameat_with(CWD, tmp.c(), CWD, p.c(), RenameFlags::NOREPLACE)
        });
        match r {
            Ok(()) => Ok(Journal(path)),
            Err(e) => {
                let _ = fs::unlink(tmp.c());
                if e == Errno::EXIST {
                    return Err(stale(&p));
                }
                Err(io_fail(b"cannot write the journal ", p.bytes(), e))
            }
        }
    }

    /// After a complete restore: nothing is left to put back.
    pub fn remove(&self) {
        let _ = fs::unlink(Path::from(&[self.0]).c());
    }
}

fn stale(p: &Path) -> crate::out::Fail {
    fail(
        msg().s(p.bytes()).s(
            b" exists: another ftrace_it runs, or one died before it restored; \
              if none runs, run 'ftrace_it --restore'",
        ),
        E_STALE,
    )
}

/// Calls `f` with each record of `data`, in order; None if `data` is not a
/// whole journal.
fn replay(data: &[u8], f: &mut dyn FnMut(Kind, &mut Path, &[u8])) -> Option<()> {
    let mut rest = data.strip_prefix(HEAD)?;
    while rest != END {
        let (&tag, record) = rest.split_first()?;
        let kind = *KINDS.iter().find(|&&k| k as u8 == tag)?;
        let mut fields = record.splitn(3, |&c| c == 0);
        let (path, value) = (fields.next()?, fields.next()?);
        rest = fields.next()?;
        if path.is_empty() || path.len() > 511 || value.len() > 1024 {
            return None;
        }
        f(kind, &mut Path::from(&[path]), value);
    }
    Some(())
}

/// `ftrace_it --restore`: puts back what the journal at `path` holds, then
/// removes it. Checks the whole journal before it changes anything.
pub fn restore(path: &'static [u8]) -> u8 {
    let mut p = Path::from(&[path]);
    // The mapping outlives the descriptor.
    let data = match open_read(p.c()).and_then(|fd| map(&fd)) {
        Ok(d) => d,
        Err(Errno::NOENT) => {
            tell(
                msg()
                    .s(b"no journal at ")
                    .s(path)
                    .s(b": nothing to restore"),
            );
            return 0;
        }
        Err(e) => return io_fail(b"cannot read ", path, e).0,
    };
    if replay(data, &mut |_, _, _| {}).is_none() {
        let mut m = msg();
        m.s(path)
            .s(b" is not a whole ftrace_it journal: nothing restored; \
              check the settings by hand, then remove it");
        return fail(&mut m, E_JOURNAL).0;
    }
    let mut undo = Undo::new(true);
    replay(data, &mut |kind, p, value| {
        if undo.put(kind, p, value) {
            tell(msg().s(b"restored ").s(p.bytes()));
        }
    });
    if !undo.ok {
        return E_RESTORE;
    }
    match fs::unlink(p.c()) {
        Ok(()) => 0,
        Err(e) => io_fail(b"cannot remove ", path, e).0,
    }
}

/// The whole file, mapped read-only.
fn map(fd: &OwnedFd) -> rustix::io::Result<&'static [u8]> {
    let len = fs::fstat(fd)?.st_size as usize;
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: a private read-only mapping at an address the kernel picks
    // replaces nothing. Journals are never written in place (temp file,
    // then rename), so the file does not shrink under the mapping; it is
    // never unmapped, hence 'static.
    let addr = unsafe {
        mmap(
            core::ptr::null_mut(),
            len,
            ProtFlags::READ,
            MapFlags::PRIVATE,
            fd,
            0,
        )?
    };
    // SAFETY: `len` readable bytes at `addr`, mapped just above.
    Ok(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
}
