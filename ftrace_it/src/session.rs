//! One tracing session: check, save, set up, release the program, wait,
//! restore. Record mode's output is in `record.rs`.

use crate::args::{Argv, Opts, Tracer};
use crate::fsutil::{
    exists, field, first_number, has_word, open_read, open_write, read_file, read_or_fail, trim,
    write_file, CpuBits, Path,
};
use crate::irq;
use crate::out::{
    fail, io_fail, msg, say, stdout, with_errno, write_all, Buf, Fail, Res, E_CPU, E_EXEC, E_IO,
    E_PERM, E_PROGRAM, E_RESTORE, E_TRACEFS, E_TRACER,
};
use core::ffi::CStr;
use core::sync::atomic::{AtomicU32, Ordering};
use heapless::Vec;
use rustix::fd::OwnedFd;
use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::{self, Errno};
use rustix::process::{self, CpuSet, Pid, Signal, WaitOptions, WaitStatus};
use rustix::runtime::{self, Fork, How, Sigaction, Sigset};
use rustix::time::{
    timerfd_create, timerfd_gettime, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags,
    TimerfdTimerFlags, Timespec,
};

/// Signals whose default action would end ftrace_it before it restores:
/// HUP, INT, QUIT, USR1, USR2, ALRM, TERM. Waited for, never delivered.
const STOPPERS: [u32; 7] = [1, 2, 3, 10, 12, 14, 15];
const SIGPIPE: u32 = 13;
const SIGCHLD: u32 = 17;

const MAX_IRQS: usize = 1024;

// The tracefs control files the session may change, by index in `ctl`.
pub const ON: usize = 0;
const TRACER: usize = 1;
const PID: usize = 2;
const BUFFER: usize = 3;
const CPU_BUFFER: usize = 4;
const GRAPH: usize = 5;
const CTL_FILES: [&[u8]; 6] = [
    b"tracing_on",
    b"current_tracer",
    b"set_ftrace_pid",
    b"buffer_size_kb",
    b"/buffer_size_kb",
    b"options/funcgraph-proc",
];

/// A control file's content before the session, in the form that writes it
/// back, and whether the session wrote to it.
pub struct Ctl {
    pub saved: Vec<u8, 1024>,
    changed: bool,
}

struct Irq {
    n: u32,
    saved: Vec<u8, 96>,
    moved: bool,
}

/// The page shared with the child: it says when it is pinned and spinning,
/// we say when it may exec, and it reports a failure before exec.
#[repr(C)]
pub struct Shared {
    ready: AtomicU32,
    go: AtomicU32,
    stage: AtomicU32,
    errno: AtomicU32,
}

const STAGE_PIN: u32 = 1;
const STAGE_EXEC: u32 = 2;

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

enum Ev {
    Sig(u32),
    Timeout,
    Again,
}

pub struct Session<'a> {
    pub o: &'a Opts,
    pub a: Argv,
    tracefs: Path,
    mounted: bool,
    pub online: CpuBits,
    pub online_text: Vec<u8, 256>,
    pub ctl: [Ctl; 6],
    /// The target CPU's ring buffer size while tracing, KiB.
    pub buffer_kb: u64,
    /// The buffers were never expanded: `buffer_size_kb` read
    /// `N (expanded: M)`, and M is what any tracer would expand them to.
    unexpanded: bool,
    irqs: Vec<Irq, MAX_IRQS>,
    pub irqs_moved: u32,
    sigset: Sigset,
    oldmask: Option<Sigset>,
    old_chld: Option<Sigaction>,
    shared: *const Shared,
    child: Option<Pid>,
    /// The program's pid, kept after it is reaped.
    pub child_pid: Option<Pid>,
    pub output: Option<OwnedFd>,
    /// FILE holds the header and the whole trace.
    pub recorded: bool,
    /// One of STOPPERS received by ftrace_it.
    interrupted: Option<u32>,
}

const fn ctl() -> Ctl {
    Ctl {
        saved: Vec::new(),
        changed: false,
    }
}

pub fn run(o: &Opts, a: Argv) -> u8 {
    let mut s = Session {
        o,
        a,
        tracefs: Path::new(&[]),
        mounted: false,
        online: CpuBits::empty(),
        online_text: Vec::new(),
        ctl: [ctl(), ctl(), ctl(), ctl(), ctl(), ctl()],
        buffer_kb: 0,
        unexpanded: false,
        irqs: Vec::new(),
        irqs_moved: 0,
        sigset: Sigset { sig: [0] },
        oldmask: None,
        old_chld: None,
        shared: core::ptr::null(),
        child: None,
        child_pid: None,
        output: None,
        recorded: false,
        interrupted: None,
    };
    let code = match s.trace() {
        Ok(code) | Err(Fail(code)) => code,
    };
    // A FILE we created but could not fill would only mislead.
    if let (Some(out), true, false) = (o.output, s.output.is_some(), s.recorded) {
        let _ = fs::unlink(out);
    }
    if !s.cleanup() {
        return E_RESTORE;
    }
    match s.interrupted {
        Some(sig) if !(64..=73).contains(&code) => (128 + sig) as u8,
        _ => code,
    }
}

fn timespec(ms: u64) -> Timespec {
    Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    }
}

/// A one-shot timer that counts down --duration; no clock reading needed.
fn start_timer(ms: u64) -> Res<OwnedFd> {
    let spec = Itimerspec {
        it_interval: timespec(0),
        it_value: timespec(ms),
    };
    timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC)
        .and_then(|fd| timerfd_settime(&fd, TimerfdTimerFlags::empty(), &spec).map(|_| fd))
        .map_err(|e| io_fail(b"cannot start the --duration timer", b"", e))
}

/// Milliseconds until the timer expires, rounded up; 0 once it has.
fn left_ms(t: &OwnedFd) -> u64 {
    match timerfd_gettime(t) {
        Ok(s) => s.it_value.tv_sec as u64 * 1000 + (s.it_value.tv_nsec as u64).div_ceil(1_000_000),
        Err(_) => 0,
    }
}

/// Waits up to `ms` (None: forever) for one of the blocked signals.
fn wait_sig(set: &Sigset, ms: Option<u64>) -> Ev {
    // SAFETY: the signals in `set` are blocked and have no handler.
    match unsafe { runtime::sigtimedwait(set, ms.map(timespec)) } {
        // SAFETY: every siginfo starts with si_signo.
        Ok(info) => Ev::Sig(unsafe { info.__bindgen_anon_1.__bindgen_anon_1.si_signo } as u32),
        Err(Errno::AGAIN) => Ev::Timeout,
        Err(_) => Ev::Again,
    }
}

fn end_of(st: WaitStatus) -> End {
    match (st.exit_status(), st.terminating_signal()) {
        (Some(c), _) => End::Exited(c),
        (None, Some(s)) => End::Signaled(s),
        _ => End::Exited(0),
    }
}

/// Touches stack pages below the caller so that the child's copy-on-write
/// faults happen now, before tracing starts, not after the release.
#[inline(never)]
fn prefault_stack() {
    let mut a = [0u8; 16384];
    core::hint::black_box(&mut a);
}

/// A C string from a literal that ends with `\0`.
fn cs(b: &'static [u8]) -> &'static CStr {
    // SAFETY: every caller passes a NUL-terminated literal.
    unsafe { CStr::from_ptr(b.as_ptr() as *const core::ffi::c_char) }
}

impl Session<'_> {
    pub fn tf(&self, rel: &[u8]) -> Path {
        Path::new(&[self.tracefs.bytes(), b"/", rel])
    }

    /// The control file `ctl[i]`; the ring buffer size is the target CPU's.
    fn ctl_path(&self, i: usize) -> Path {
        if i == CPU_BUFFER {
            self.per_cpu(self.o.cpu, CTL_FILES[i])
        } else {
            self.tf(CTL_FILES[i])
        }
    }

    /// `<tracefs>/per_cpu/cpu<N>/<file>`
    pub fn per_cpu(&self, cpu: u64, file: &[u8]) -> Path {
        let mut p = self.tf(b"per_cpu/cpu");
        p.num(cpu).push(file);
        p
    }

    fn irq_path(&self, n: u32) -> Path {
        let mut p = Path::new(&[self.o.procfs, b"/irq/"]);
        p.num(n as u64).push(b"/smp_affinity_list");
        p
    }

    pub fn prog(&self) -> &'static CStr {
        self.a.get(self.o.prog)
    }

    fn shared(&self) -> &Shared {
        // SAFETY: the shared page is mapped before this is called and stays
        // mapped until exit.
        unsafe { &*self.shared }
    }

    fn trace(&mut self) -> Res<u8> {
        self.block_signals();
        if !process::geteuid().is_root() {
            return Err(fail(
                msg().s(b"must run as root (tracefs and IRQ affinities are root-only)"),
                E_PERM,
            ));
        }
        self.check_program()?;
        self.check_cpus()?;
        self.find_tracefs()?;
        self.check_tracer()?;
        self.save()?;
        if let Some(out) = self.o.output {
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
            match fs::open(out, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => self.output = Some(fd),
                Err(e) => return Err(io_fail(b"cannot create ", out.to_bytes(), e)),
            }
        }
        self.spawn()?;
        self.wait_ready()?;
        self.setup()?;
        if self.o.output.is_none() {
            self.prompt()?;
        }
        let end = self.release_and_wait()?;
        let mut p = self.ctl_path(ON);
        write_ctl(&mut p, b"0\n")?;
        let sh = self.shared();
        if sh.stage.load(Ordering::Acquire) == STAGE_EXEC {
            let e = Errno::from_raw_os_error(sh.errno.load(Ordering::Acquire) as i32);
            return Err(io_fail(b"cannot execute ", self.prog().to_bytes(), e).with(E_EXEC));
        }
        if self.output.is_some() {
            return self.record(end);
        }
        Ok(end.code())
    }

    fn check_program(&self) -> Res<()> {
        let p = self.prog();
        let what: &[u8] = match fs::stat(p) {
            Err(Errno::NOENT) => b": no such file (PROGRAM is a path, PATH is not searched)",
            Err(e) => return Err(io_fail(b"cannot stat ", p.to_bytes(), e).with(E_PROGRAM)),
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
                b": not a regular file"
            }
            Ok(_) if fs::access(p, fs::Access::EXEC_OK).is_err() => {
                b": not executable (chmod +x it)"
            }
            Ok(_) => return Ok(()),
        };
        Err(fail(msg().s(p.to_bytes()).s(what), E_PROGRAM))
    }

    fn check_cpus(&mut self) -> Res<()> {
        let mut p = Path::new(&[self.o.sysfs, b"/devices/system/cpu/online"]);
        let mut buf = [0u8; 256];
        let n = read_or_fail(&mut p, &mut buf)?;
        let text = trim(&buf[..n]);
        let _ = self.online_text.extend_from_slice(text);
        self.online = match CpuBits::parse(text) {
            Some(b) => b,
            None => {
                return Err(fail(
                    msg().s(p.bytes()).s(b": cannot parse ").s(text),
                    E_CPU,
                ))
            }
        };
        let o = self.o;
        let mut m = msg();
        if self.online.count() < 2 && !(o.cpu_given && (o.housekeeping_given || !o.irq_routing)) {
            m.s(b"only CPU ")
                .s(text)
                .s(b" is online: the program and the IRQs need a CPU each; \
                  pass --cpu N --no-irq-routing to trace anyway");
        } else if !self.online.has(o.cpu) {
            m.s(b"--cpu ")
                .n(o.cpu)
                .s(b" is not online (online: ")
                .s(text)
                .s(b")");
        } else if o.irq_routing && !self.online.has(o.housekeeping) {
            m.s(b"--housekeeping ")
                .n(o.housekeeping)
                .s(b" is not online (online: ")
                .s(text)
                .s(b")");
        } else if o.irq_routing && o.cpu == o.housekeeping && !o.housekeeping_given {
            m.s(b"--cpu ").n(o.cpu).s(
                b" is the housekeeping CPU: pass --housekeeping N (another CPU) or --no-irq-routing",
            );
        } else {
            return Ok(());
        }
        Err(fail(&mut m, E_CPU))
    }

    fn find_tracefs(&mut self) -> Res<()> {
        if let Some(dir) = self.o.tracefs {
            self.tracefs = Path::new(&[dir]);
            if exists(self.tf(CTL_FILES[ON]).c()) {
                return Ok(());
            }
            return Err(fail(
                msg()
                    .s(dir)
                    .s(b" is not a tracefs (no tracing_on): mount one with \
                      'mount -t tracefs nodev DIR' or drop --tracefs"),
                E_TRACEFS,
            ));
        }
        self.tracefs = Path::new(&[b"/sys/kernel/tracing"]);
        if exists(self.tf(CTL_FILES[ON]).c()) {
            return Ok(());
        }
        // Not mounted: mount it there, and unmount it at the end.
        let r = rustix::mount::mount(
            cs(b"nodev\0"),
            self.tracefs.c(),
            cs(b"tracefs\0"),
            rustix::mount::MountFlags::empty(),
            cs(b"\0"),
        );
        if r.is_ok() {
            if exists(self.tf(CTL_FILES[ON]).c()) {
                self.mounted = true;
                return Ok(());
            }
            let _ = rustix::mount::unmount(self.tracefs.c(), rustix::mount::UnmountFlags::empty());
        }
        // Kernels without /sys/kernel/tracing have it under debugfs.
        let mut legacy = Path::new(&[b"/sys/kernel/debug/tracing/tracing_on"]);
        if exists(legacy.c()) {
            self.tracefs = Path::new(&[b"/sys/kernel/debug/tracing"]);
            return Ok(());
        }
        let mut m = msg();
        match r {
            Ok(()) => m.s(
                b"the tracefs mounted on /sys/kernel/tracing has no tracing_on: \
                the kernel lacks CONFIG_FTRACE",
            ),
            Err(e) => {
                m.s(b"no tracefs, and mounting one on /sys/kernel/tracing failed");
                with_errno(&mut m, e).s(b": mount it and pass --tracefs DIR")
            }
        };
        Err(fail(&mut m, E_TRACEFS))
    }

    fn check_tracer(&self) -> Res<()> {
        let mut p = self.tf(b"available_tracers");
        let mut buf = [0u8; 1024];
        let n = read_file(p.c(), &mut buf)
            .map_err(|e| io_fail(b"cannot read ", p.bytes(), e).with(E_TRACER))?;
        let name = self.o.tracer.name();
        let list = trim(&buf[..n]);
        if has_word(list, name) {
            return Ok(());
        }
        Err(fail(
            msg()
                .s(b"tracer ")
                .s(name)
                .s(b" is not available in this kernel (available: ")
                .s(list)
                .s(b"): enable CONFIG_FUNCTION_TRACER and CONFIG_FUNCTION_GRAPH_TRACER"),
            E_TRACER,
        ))
    }

    /// Reads every setting the session will change, before changing any.
    fn save(&mut self) -> Res<()> {
        let n = if self.o.tracer == Tracer::Graph { 6 } else { 5 };
        for i in 0..n {
            let mut p = self.ctl_path(i);
            let mut buf = [0u8; 1024];
            let len = read_or_fail(&mut p, &mut buf)?;
            let _ = self.ctl[i].saved.extend_from_slice(&buf[..len]);
        }
        // An empty pid filter reads "no pid"; opening with O_TRUNC clears it.
        if trim(&self.ctl[PID].saved) == b"no pid" {
            self.ctl[PID].saved.clear();
        }
        // Only the target CPU's buffer is resized: the program's events are
        // all recorded there. Before the first tracer the buffers read
        // "N (expanded: M)": they are expanded to M first, as switching the
        // tracer would do anyway, and left at M.
        let top = &mut self.ctl[BUFFER].saved;
        if let Some(colon) = top.iter().position(|&c| c == b':') {
            let m = first_number(&top[colon + 1..]).unwrap_or(0);
            let mut v = Buf::<24>::new();
            v.n(m).s(b"\n");
            top.clear();
            let _ = top.extend_from_slice(v.bytes());
            self.unexpanded = true;
        }
        self.buffer_kb = match (self.o.buffer_kb, self.o.output) {
            (Some(kb), _) => kb,
            (None, Some(_)) => self.default_buffer_kb(),
            (None, None) => first_number(&self.ctl[CPU_BUFFER].saved).unwrap_or(0),
        };
        if self.o.irq_routing {
            self.save_irqs()?;
        }
        Ok(())
    }

    /// 4096 KiB plus 4096 KiB per second of --duration (16 MiB without),
    /// at most a quarter of MemAvailable.
    fn default_buffer_kb(&self) -> u64 {
        let kb = match self.o.duration_ms {
            Some(ms) => 4096 + 4096 * ms.div_ceil(1000),
            None => 16384,
        };
        let mut p = Path::new(&[self.o.procfs, b"/meminfo"]);
        let mut buf = [0u8; 4096];
        let n = read_file(p.c(), &mut buf).unwrap_or(0);
        match field(&buf[..n], b"MemAvailable") {
            Some(a) => kb.min((a / 4).max(1024)),
            None => kb,
        }
    }

    fn save_irqs(&mut self) -> Res<()> {
        let mut p = Path::new(&[self.o.procfs, b"/interrupts"]);
        let fd = open_read(p.c()).map_err(|e| io_fail(b"cannot read ", p.bytes(), e))?;
        let mut nums: Vec<u32, MAX_IRQS> = Vec::new();
        let mut overflow = false;
        let mut found = |n: u32| overflow |= nums.push(n).is_err();
        let mut scan = irq::Scan::new();
        let mut buf = [0u8; 4096];
        loop {
            match io::read(&fd, &mut buf) {
                Ok(0) => break,
                Ok(k) => scan.feed(&buf[..k], &mut found),
                Err(Errno::INTR) => {}
                Err(e) => return Err(io_fail(b"cannot read ", p.bytes(), e)),
            }
        }
        scan.finish(&mut found);
        if overflow {
            return Err(fail(
                msg()
                    .s(p.bytes())
                    .s(b": more than 1024 IRQs; pass --no-irq-routing"),
                E_IO,
            ));
        }
        for &n in nums.iter() {
            let mut p = self.irq_path(n);
            let mut buf = [0u8; 96];
            match read_file(p.c(), &mut buf) {
                Ok(k) => {
                    let mut saved = Vec::new();
                    let _ = saved.extend_from_slice(&buf[..k]);
                    let _ = self.irqs.push(Irq {
                        n,
                        saved,
                        moved: false,
                    });
                }
                // No directory: an IRQ without a descriptor to route.
                Err(Errno::NOENT) => {}
                Err(e) => return Err(io_fail(b"cannot read ", p.bytes(), e)),
            }
        }
        Ok(())
    }

    /// Blocks the signals we wait for, so none needs a handler, and makes
    /// sure SIGCHLD is generated even if we were started with it ignored.
    /// SIGPIPE is blocked too but not waited for: a closed stdout or stderr
    /// gives EPIPE instead of ending us before the restore.
    fn block_signals(&mut self) {
        for s in STOPPERS.iter().chain(&[SIGCHLD]) {
            self.sigset.sig[0] |= 1 << (s - 1);
        }
        let mut blocked = self.sigset;
        blocked.sig[0] |= 1 << (SIGPIPE - 1);
        // SAFETY: nothing in this process relies on these signals' delivery;
        // SIG_DFL (all zero) needs no handler or restorer.
        unsafe {
            self.oldmask = runtime::sigprocmask(How::BLOCK, Some(&blocked)).ok();
            self.old_chld = runtime::sigaction(Signal::Child, Some(core::mem::zeroed())).ok();
        }
    }

    fn spawn(&mut self) -> Res<()> {
        // SAFETY: a fresh anonymous mapping; nothing else refers to it.
        let page = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                4096,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::SHARED,
            )
        };
        self.shared =
            page.map_err(|e| io_fail(b"cannot map a shared page", b"", e))? as *const Shared;
        // Keep ourselves off the target CPU so the child never waits for us.
        let mut others = CpuSet::new();
        let mut cpu = self.online.next(0);
        while let Some(c) = cpu {
            if c != self.o.cpu && (c as usize) < CpuSet::MAX_CPU {
                others.set(c as usize);
            }
            cpu = self.online.next(c + 1);
        }
        let _ = process::sched_setaffinity(None, &others);
        let parent = process::getpid();
        // SAFETY: single-threaded; the child only makes raw system calls.
        match unsafe { runtime::fork() } {
            Ok(Fork::Child(_)) => self.child_main(parent),
            Ok(Fork::Parent(pid)) => {
                self.child = Some(pid);
                self.child_pid = Some(pid);
                Ok(())
            }
            Err(e) => Err(io_fail(b"cannot fork", b"", e)),
        }
    }

    /// The child: pin, restore the signal state, say ready, spin without a
    /// system call until released, then exec. Its next system call after the
    /// release is execve.
    fn child_main(&self, parent: Pid) -> ! {
        prefault_stack();
        // Die with ftrace_it, even if it is SIGKILLed: never spin forever.
        let _ = process::set_parent_process_death_signal(Some(Signal::Kill));
        if process::getppid() != Some(parent) {
            runtime::exit_group(127);
        }
        let sh = self.shared();
        let mut set = CpuSet::new();
        set.set(self.o.cpu as usize);
        if let Err(e) = process::sched_setaffinity(None, &set) {
            sh.errno.store(e.raw_os_error() as u32, Ordering::Relaxed);
            sh.stage.store(STAGE_PIN, Ordering::Release);
            runtime::exit_group(127);
        }
        process::sched_yield();
        // SAFETY: puts back what the process had at start.
        unsafe {
            if let Some(old) = self.old_chld {
                let _ = runtime::sigaction(Signal::Child, Some(old));
            }
            if let Some(old) = &self.oldmask {
                let _ = runtime::sigprocmask(How::SETMASK, Some(old));
            }
        }
        // SAFETY: PROGRAM's index is within argv.
        let argv = unsafe { self.a.argv.add(self.o.prog) };
        let prog = self.prog();
        let env = self.o.env.as_ptr();
        sh.ready.store(1, Ordering::Release);
        while sh.go.load(Ordering::Acquire) == 0 {
            core::hint::spin_loop();
        }
        // SAFETY: argv and env are NULL-terminated arrays of C strings.
        let e = unsafe { runtime::execve(prog, argv, env) };
        sh.errno.store(e.raw_os_error() as u32, Ordering::Relaxed);
        sh.stage.store(STAGE_EXEC, Ordering::Release);
        runtime::exit_group(127)
    }

    fn reap(&mut self, opts: WaitOptions) -> Option<End> {
        let pid = self.child?;
        loop {
            match process::waitpid(Some(pid), opts) {
                Ok(None) => return None,
                Err(Errno::INTR) => {}
                r => {
                    self.child = None;
                    return r.ok().flatten().map(end_of);
                }
            }
        }
    }

    fn kill_child(&mut self) -> Option<End> {
        let _ = process::kill_process(self.child?, Signal::Kill);
        self.reap(WaitOptions::empty())
    }

    /// Handles a signal that arrives before the release: Err if the session
    /// must stop.
    fn pre_release_signal(&mut self, sig: u32) -> Res<()> {
        if sig != SIGCHLD {
            self.interrupted = Some(sig);
            return Err(Fail(0));
        }
        let Some(end) = self.reap(WaitOptions::NOHANG) else {
            return Ok(());
        };
        let sh = self.shared();
        let mut m = msg();
        if sh.stage.load(Ordering::Acquire) == STAGE_PIN {
            let e = Errno::from_raw_os_error(sh.errno.load(Ordering::Relaxed) as i32);
            m.s(b"cannot pin the program to CPU ").n(self.o.cpu);
            return Err(fail(with_errno(&mut m, e), E_CPU));
        }
        m.s(b"the program's process died before the start (status ")
            .n(end.code() as u64)
            .s(b")");
        Err(fail(&mut m, E_EXEC))
    }

    fn wait_ready(&mut self) -> Res<()> {
        while self.shared().ready.load(Ordering::Acquire) == 0 {
            if let Ev::Sig(s) = wait_sig(&self.sigset, Some(1)) {
                self.pre_release_signal(s)?;
            }
        }
        Ok(())
    }

    /// Writes a control file. Once it is open it counts as changed: opening
    /// with O_TRUNC alone clears some (set_ftrace_pid, trace).
    fn set(&mut self, i: usize, value: &[u8]) -> Res<()> {
        let mut p = self.ctl_path(i);
        let fd = open_write(p.c()).map_err(|e| io_fail(b"cannot open ", p.bytes(), e))?;
        self.ctl[i].changed = true;
        write_all(&fd, value).map_err(|e| {
            if e == Errno::BUSY && i == TRACER {
                // The seed's recipe starts `cat trace_pipe` first; the kernel
                // then refuses any tracer change.
                let mut m = msg();
                m.s(b"cannot set ").s(p.bytes()).s(
                    b": a trace_pipe reader is open (EBUSY): start it at the prompt, or use -o FILE",
                );
                fail(&mut m, E_TRACER)
            } else {
                io_fail(b"cannot write to ", p.bytes(), e)
            }
        })
    }

    /// Everything but `tracing_on=1`, in the order that keeps the trace pure:
    /// tracing off, IRQs away, buffer, pid filter, tracer, empty buffer.
    fn setup(&mut self) -> Res<()> {
        if trim(&self.ctl[ON].saved) != b"0" {
            self.set(ON, b"0\n")?;
        }
        if self.o.irq_routing {
            self.route_irqs()?;
        }
        let mut v = Buf::<24>::new();
        if self.o.buffer_kb.is_some() || self.o.output.is_some() {
            if self.unexpanded {
                v.s(&self.ctl[BUFFER].saved);
                self.set(BUFFER, v.bytes())?;
                v.clear();
            }
            v.n(self.buffer_kb).s(b"\n");
            self.set(CPU_BUFFER, v.bytes())?;
            v.clear();
        }
        v.n(Pid::as_raw(self.child) as u64).s(b"\n");
        self.set(PID, v.bytes())?;
        if self.o.tracer == Tracer::Graph && trim(&self.ctl[GRAPH].saved) != b"1" {
            self.set(GRAPH, b"1\n")?;
        }
        v.clear();
        v.s(self.o.tracer.name()).s(b"\n");
        self.set(TRACER, v.bytes())?;
        // Opening `trace` with O_TRUNC empties the ring buffer.
        let mut p = self.tf(b"trace");
        open_write(p.c()).map_err(|e| io_fail(b"cannot clear ", p.bytes(), e))?;
        Ok(())
    }

    fn route_irqs(&mut self) -> Res<()> {
        let mut v = Buf::<24>::new();
        v.n(self.o.housekeeping).s(b"\n");
        for i in 0..self.irqs.len() {
            let mut p = self.irq_path(self.irqs[i].n);
            match write_file(p.c(), v.bytes()) {
                Ok(()) => {
                    self.irqs[i].moved = true;
                    self.irqs_moved += 1;
                }
                // Per-CPU, managed and chained IRQs cannot be routed: EPERM
                // (EIO on older kernels), or EINVAL from the irqchip.
                Err(Errno::PERM) | Err(Errno::IO) | Err(Errno::INVAL) => {}
                Err(e) => return Err(io_fail(b"cannot write ", p.bytes(), e)),
            }
        }
        Ok(())
    }

    /// Interactive mode: wait for enter, a signal, or the child's death.
    fn prompt(&mut self) -> Res<()> {
        let _ = write_all(stdout(), b"All set, press enter to start\n");
        // SAFETY: fd 0 stays open for the life of the process.
        let stdin = unsafe { rustix::stdio::stdin() };
        loop {
            let mut fds = [rustix::event::PollFd::new(
                &stdin,
                rustix::event::PollFlags::IN,
            )];
            if let Ok(1) = rustix::event::poll(&mut fds, 100) {
                let mut c = [0u8; 1];
                match io::read(stdin, &mut c) {
                    Ok(1) if c[0] != b'\n' => {}
                    Err(Errno::INTR) | Err(Errno::AGAIN) => {}
                    // Enter, end of input or an unreadable stdin all start.
                    _ => return Ok(()),
                }
            }
            if let Ev::Sig(s) = wait_sig(&self.sigset, Some(0)) {
                self.pre_release_signal(s)?;
            }
        }
    }

    /// `tracing_on=1`, release, and wait for the end, the timeout or a signal.
    fn release_and_wait(&mut self) -> Res<End> {
        // A signal that came during the setup stops before the release.
        if let Ev::Sig(s) = wait_sig(&self.sigset, Some(0)) {
            self.pre_release_signal(s)?;
        }
        let timer = match self.o.duration_ms {
            Some(ms) => Some(start_timer(ms)?),
            None => None,
        };
        // Opened beforehand: between tracing_on=1 and the release there is
        // one write and nothing else.
        let mut p = self.ctl_path(ON);
        let fd = open_write(p.c()).map_err(|e| io_fail(b"cannot open ", p.bytes(), e))?;
        self.ctl[ON].changed = true;
        write_all(&fd, b"1\n").map_err(|e| io_fail(b"cannot write to ", p.bytes(), e))?;
        self.shared().go.store(1, Ordering::Release);
        drop(fd);
        loop {
            let left = timer.as_ref().map(left_ms);
            let ev = if left == Some(0) {
                Ev::Timeout
            } else {
                wait_sig(&self.sigset, left)
            };
            match ev {
                Ev::Sig(SIGCHLD) => {
                    if let Some(end) = self.reap(WaitOptions::NOHANG) {
                        return Ok(end);
                    }
                }
                Ev::Sig(s) => {
                    self.interrupted = Some(s);
                    break;
                }
                Ev::Timeout if timer.is_some() => break,
                _ => {}
            }
        }
        Ok(self.kill_child().unwrap_or(End::Signaled(9)))
    }

    /// Restores in reverse order of setup. Returns false if anything could not
    /// be restored (each failure is reported).
    fn cleanup(&mut self) -> bool {
        self.kill_child();
        let mut ok = true;
        let mut tracer_busy = false;
        for i in [TRACER, GRAPH, PID, CPU_BUFFER, BUFFER] {
            let c = &self.ctl[i];
            if !c.changed {
                continue;
            }
            let mut p = self.ctl_path(i);
            match write_file(p.c(), &c.saved) {
                Ok(()) => {}
                // A trace_pipe reader keeps the tracer: leave tracing off
                // rather than trace every task without the pid filter.
                Err(Errno::BUSY) if i == TRACER => {
                    tracer_busy = true;
                    ok = false;
                    say(msg()
                        .s(b"cannot restore ")
                        .s(p.bytes())
                        .s(b" to ")
                        .s(trim(&c.saved))
                        .s(b": a trace_pipe reader holds it (EBUSY) and has the data; \
                            tracing_on stays 0: write both back when it is done"));
                }
                Err(e) => ok = restore_failed(&mut p, e),
            }
        }
        for irq in self.irqs.iter().filter(|i| i.moved) {
            let mut p = self.irq_path(irq.n);
            if let Err(e) = write_file(p.c(), &irq.saved) {
                ok = restore_failed(&mut p, e);
            }
        }
        if self.ctl[ON].changed && !tracer_busy {
            let mut p = self.tf(CTL_FILES[ON]);
            if let Err(e) = write_file(p.c(), &self.ctl[ON].saved) {
                ok = restore_failed(&mut p, e);
            }
        }
        if self.mounted {
            if let Err(e) =
                rustix::mount::unmount(self.tracefs.c(), rustix::mount::UnmountFlags::empty())
            {
                ok = restore_failed(&mut self.tracefs, e);
            }
        }
        ok
    }
}

/// Reports a setting that could not be put back; returns false.
fn restore_failed(p: &mut Path, e: Errno) -> bool {
    let mut m = msg();
    m.s(b"cannot restore ").s(p.bytes());
    say(with_errno(&mut m, e).s(b": the system is not as it was, fix it by hand"));
    false
}

fn write_ctl(p: &mut Path, value: &[u8]) -> Res<()> {
    write_file(p.c(), value).map_err(|e| io_fail(b"cannot write to ", p.bytes(), e))
}
