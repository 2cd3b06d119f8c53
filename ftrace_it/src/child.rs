//! The program's process: the page it shares with us, the fork, its side up
//! to execve, and its end. Dropping a `Child` kills and reaps it if it still
//! runs, so no error path leaves it spinning.

use crate::args::{Argv, Opts};
use crate::fsutil::{CpuBits, MAX_CPUS};
use crate::out::{io_fail, Res};
use crate::signals::Signals;
use core::sync::atomic::{AtomicU32, Ordering};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{self, CpuSet, Pid, Signal, WaitOptions, WaitStatus};
use rustix::runtime::{self, Fork};

// Every CPU that --cpu accepts fits in a CpuSet.
const _: () = assert!(MAX_CPUS <= CpuSet::MAX_CPU);

/// The page shared with the child: it says when it is pinned and spinning,
/// we say when it may exec, and it reports a failure before exec.
#[repr(C)]
struct Shared {
    ready: AtomicU32,
    go: AtomicU32,
    stage: AtomicU32,
    errno: AtomicU32,
}

const STAGE_PIN: u32 = 1;
const STAGE_EXEC: u32 = 2;
const STAGE_OUT: u32 = 3;

/// What the child could not do; the errno says why.
pub enum Failed {
    Pin(Errno),
    Exec(Errno),
    /// `--stdout` or `--stderr` could not be created.
    Out(Errno),
}

/// How the program ended.
#[derive(Clone, Copy)]
pub enum End {
    Exited(u32),
    Signaled(u32),
}

impl End {
    pub fn code(self) -> u8 {
        match self {
            End::Exited(c) => c as u8,
            End::Signaled(s) => (128 + s) as u8,
        }
    }
}

fn end_of(st: WaitStatus) -> End {
    match (st.exit_status(), st.terminating_signal()) {
        (Some(c), _) => End::Exited(c),
        (None, Some(s)) => End::Signaled(s),
        _ => End::Exited(0),
    }
}

/// A forked child that is pinned (or failed to be) and waits for `release`.
pub struct Child {
    pub pid: Pid,
    page: &'static Shared,
    /// Not reaped yet.
    running: bool,
}

/// Maps the shared page, forks, and returns the parent's handle on the child.
pub fn spawn(o: &Opts, a: Argv, online: &CpuBits, sig: &Signals) -> Res<Child> {
    // SAFETY: a null address lets the kernel choose one, so no existing
    // mapping is replaced; the new page is ours alone until the fork.
    let page = unsafe {
        rustix::mm::mmap_anonymous(
            core::ptr::null_mut(),
            4096,
            rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
            rustix::mm::MapFlags::SHARED,
        )
    };
    let page = page.map_err(|e| io_fail(b"cannot map a shared page", b"", e))?;
    // SAFETY: the page is zeroed (all four counters 0), aligned, large enough,
    // and never unmapped: it lives as long as the process.
    let page: &'static Shared = unsafe { &*(page as *const Shared) };
    // Keep ourselves off the target CPU so the child never waits for us.
    let mut others = CpuSet::new();
    let mut cpu = online.next(0);
    while let Some(c) = cpu {
        if c != o.cpu && (c as usize) < CpuSet::MAX_CPU {
            others.set(c as usize);
        }
        cpu = online.next(c + 1);
    }
    let _ = process::sched_setaffinity(None, &others);
    let parent = process::getpid();
    // SAFETY: one thread, no allocator and no locks, so the child's copy of
    // memory is consistent; it only makes raw system calls until execve.
    match unsafe { runtime::fork() } {
        Ok(Fork::Child(_)) => child_main(o, a, sig, page, parent),
        Ok(Fork::Parent(pid)) => Ok(Child {
            pid,
            page,
            running: true,
        }),
        Err(e) => Err(io_fail(b"cannot fork", b"", e)),
    }
}

/// Touches stack pages below the caller so that the child's copy-on-write
/// faults happen now, before tracing starts, not after the release.
#[inline(never)]
fn prefault_stack() {
    let mut a = [0u8; 16384];
    core::hint::black_box(&mut a);
}

/// The child: pin, restore the signal state, say ready, spin without a
/// system call until released, then exec. Its next system call after the
/// release is execve.
fn child_main(o: &Opts, a: Argv, sig: &Signals, sh: &Shared, parent: Pid) -> ! {
    prefault_stack();
    // Die with ftrace_it, even if it is SIGKILLed: never spin forever.
    let _ = process::set_parent_process_death_signal(Some(Signal::Kill));
    if process::getppid() != Some(parent) {
        runtime::exit_group(127);
    }
    let mut set = CpuSet::new();
    // Parsing keeps --cpu below MAX_CPUS; `min` lets the compiler see it.
    set.set((o.cpu as usize).min(MAX_CPUS - 1));
    if let Err(e) = process::sched_setaffinity(None, &set) {
        sh.errno.store(e.raw_os_error() as u32, Ordering::Relaxed);
        sh.stage.store(STAGE_PIN, Ordering::Release);
        runtime::exit_group(127);
    }
    process::sched_yield();
    // The program's stdout and stderr, before the release (untraced).
    for (i, name) in o.stdio.iter().enumerate() {
        if let Some(name) = name {
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
            let r = fs::open(*name, flags, Mode::from_raw_mode(0o644)).and_then(|f| {
                if i == 0 {
                    rustix::stdio::dup2_stdout(f)
                } else {
                    rustix::stdio::dup2_stderr(f)
                }
            });
            if let Err(e) = r {
                sh.errno.store(e.raw_os_error() as u32, Ordering::Relaxed);
                sh.stage.store(STAGE_OUT, Ordering::Release);
                runtime::exit_group(127);
            }
        }
    }
    sig.unblock();
    let argv = a.from(o.prog_at);
    let env = o.env.as_ptr();
    sh.ready.store(1, Ordering::Release);
    while sh.go.load(Ordering::Acquire) == 0 {
        core::hint::spin_loop();
    }
    // SAFETY: argv is the kernel's, from PROGRAM to its NULL; env has
    // MAX_ENV + 1 slots and parsing fills at most MAX_ENV, so it ends with
    // NULL; every entry is a NUL-terminated argument.
    let e = unsafe { runtime::execve(o.prog, argv, env) };
    sh.errno.store(e.raw_os_error() as u32, Ordering::Relaxed);
    sh.stage.store(STAGE_EXEC, Ordering::Release);
    runtime::exit_group(127)
}

impl Child {
    /// Pinned and spinning.
    pub fn ready(&self) -> bool {
        self.page.ready.load(Ordering::Acquire) != 0
    }

    /// Lets it exec.
    pub fn release(&self) {
        self.page.go.store(1, Ordering::Release);
    }

    /// What it reported before dying, if anything.
    pub fn failed(&self) -> Option<Failed> {
        let stage = self.page.stage.load(Ordering::Acquire);
        let e = || Errno::from_raw_os_error(self.page.errno.load(Ordering::Relaxed) as i32);
        match stage {
            STAGE_PIN => Some(Failed::Pin(e())),
            STAGE_EXEC => Some(Failed::Exec(e())),
            STAGE_OUT => Some(Failed::Out(e())),
            _ => None,
        }
    }

    /// Waits for its end (None with NOHANG while it runs, or once reaped).
    pub fn reap(&mut self, opts: WaitOptions) -> Option<End> {
        while self.running {
            match process::waitpid(Some(self.pid), opts) {
                Ok(None) => return None,
                Err(Errno::INTR) => {}
                r => {
                    self.running = false;
                    return r.ok().flatten().map(end_of);
                }
            }
        }
        None
    }

    /// Kills and reaps it if it still runs.
    pub fn kill(&mut self) -> Option<End> {
        if !self.running {
            return None;
        }
        let _ = process::kill_process(self.pid, Signal::Kill);
        self.reap(WaitOptions::empty())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}
