//! Signals and the --duration timer. The signals that would end ftrace_it
//! before it restores are blocked from the start and waited for: no handler
//! ever runs.

use crate::out::{io_fail, Res};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::process::Signal;
use rustix::runtime::{self, How, Sigaction, Sigset};
use rustix::time::{
    timerfd_create, timerfd_gettime, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags,
    TimerfdTimerFlags, Timespec,
};

/// Signals whose default action would end ftrace_it before it restores.
/// Waited for, never delivered.
const STOPPERS: [Signal; 7] = [
    Signal::Hup,
    Signal::Int,
    Signal::Quit,
    Signal::Usr1,
    Signal::Usr2,
    Signal::Alarm,
    Signal::Term,
];

/// The bit of `s` in a signal set.
const fn bit(s: Signal) -> u64 {
    1 << (s as u32 - 1)
}

pub enum Ev {
    Sig(Signal),
    Timeout,
    Again,
}

/// The blocked signals, and what the process had before, for the program.
pub struct Signals {
    set: Sigset,
    oldmask: Option<Sigset>,
    old_chld: Option<Sigaction>,
}

impl Signals {
    /// Blocks the signals we wait for, so none needs a handler, and makes
    /// sure SIGCHLD is generated even if we were started with it ignored.
    /// SIGPIPE is blocked too but not waited for: a closed stdout or stderr
    /// gives EPIPE instead of ending us before the restore.
    pub fn block() -> Signals {
        let mut set = Sigset { sig: [0] };
        for s in STOPPERS.iter().chain(&[Signal::Child]) {
            set.sig[0] |= bit(*s);
        }
        let mut blocked = set;
        blocked.sig[0] |= bit(Signal::Pipe);
        // SAFETY: nothing in this process relies on these signals' delivery;
        // SIG_DFL (all zero) needs no handler or restorer.
        unsafe {
            Signals {
                set,
                oldmask: runtime::sigprocmask(How::BLOCK, Some(&blocked)).ok(),
                old_chld: runtime::sigaction(Signal::Child, Some(core::mem::zeroed())).ok(),
            }
        }
    }

    /// Puts back what the process had at start (in the child, before exec).
    pub fn unblock(&self) {
        // SAFETY: the mask and the action are the ones the kernel returned
        // in `block`, so they are valid to set again.
        unsafe {
            if let Some(old) = self.old_chld {
                let _ = runtime::sigaction(Signal::Child, Some(old));
            }
            if let Some(old) = &self.oldmask {
                let _ = runtime::sigprocmask(How::SETMASK, Some(old));
            }
        }
    }

    /// Waits up to `ms` (None: forever) for one of the blocked signals.
    pub fn wait(&self, ms: Option<u64>) -> Ev {
        // SAFETY: the signals in `set` are blocked and have no handler, so
        // taking one here steals it from no one.
        let signo = match unsafe { runtime::sigtimedwait(&self.set, ms.map(timespec)) } {
            // SAFETY: si_signo is the first field of every siginfo variant
            // and the kernel always fills it in.
            Ok(info) => unsafe { info.__bindgen_anon_1.__bindgen_anon_1.si_signo },
            Err(Errno::AGAIN) => return Ev::Timeout,
            Err(_) => return Ev::Again,
        };
        Signal::from_raw(signo).map_or(Ev::Again, Ev::Sig)
    }
}

fn timespec(ms: u64) -> Timespec {
    Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    }
}

/// A one-shot timer that counts down --duration; no clock reading needed.
pub struct Timer(OwnedFd);

impl Timer {
    pub fn start(ms: u64) -> Res<Timer> {
        let spec = Itimerspec {
            it_interval: timespec(0),
            it_value: timespec(ms),
        };
        timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC)
            .and_then(|fd| timerfd_settime(&fd, TimerfdTimerFlags::empty(), &spec).map(|_| fd))
            .map(Timer)
            .map_err(|e| io_fail(b"cannot start the --duration timer", b"", e))
    }

    /// Milliseconds until the timer expires, rounded up; 0 once it has.
    pub fn left_ms(&self) -> u64 {
        match timerfd_gettime(&self.0) {
            Ok(s) => {
                s.it_value.tv_sec as u64 * 1000 + (s.it_value.tv_nsec as u64).div_ceil(1_000_000)
            }
            Err(_) => 0,
        }
    }
}
