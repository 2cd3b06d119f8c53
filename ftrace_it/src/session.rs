//! One tracing session: check, save, set up, release the program, wait,
//! record, restore.

use crate::args::{Argv, Opts, Tracer, VERSION};
use crate::fsutil::{
    exists, open_read, open_write, parse_u64, read_file, read_into, trim, write_file, CpuBits, Path,
};
use crate::irq;
use crate::out::{
    fail, io_fail, msg, say, stdout, with_errno, write_all, Buf, Fail, Res, E_CPU, E_EXEC, E_IO,
    E_LOST, E_PERM, E_PROGRAM, E_RESTORE, E_TRACEFS, E_TRACER,
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

const SIGHUP: u32 = 1;
const SIGINT: u32 = 2;
const SIGTERM: u32 = 15;
const SIGCHLD: u32 = 17;

const MAX_IRQS: usize = 1024;

/// Saved content of a control file.
type Saved = Vec<u8, 1024>;

struct Irq {
    n: u32,
    saved: Vec<u8, 96>,
    moved: bool,
}

/// A control file the session may change, with what it held before.
struct Ctl {
    rel: &'static [u8],
    saved: Saved,
    changed: bool,
}

impl Ctl {
    const fn new(rel: &'static [u8]) -> Ctl {
        Ctl {
            rel,
            saved: Vec::new(),
            changed: false,
        }
    }
}

/// How `buffer_size_kb` read before we changed it.
enum BufferSize {
    /// One size for all CPUs (the expanded size if never expanded).
    All(u64),
    /// Sizes differ per CPU: restored one by one.
    PerCpu,
}

/// The page shared with the child: it says when it is pinned and spinning,
/// we say when it may exec, and it reports a failure before exec.
#[repr(C)]
struct Shared {
    ready: AtomicU32,
    go: AtomicU32,
    /// 1: pinning failed, 2: execve failed.
    stage: AtomicU32,
    errno: AtomicU32,
}

const STAGE_PIN: u32 = 1;
const STAGE_EXEC: u32 = 2;

/// How the program ended.
#[derive(Clone, Copy)]
enum End {
    Exited(u32),
    Signaled(u32),
}

impl End {
    fn code(self) -> u8 {
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
    o: &'a Opts,
    a: Argv,
    tracefs: Path,
    mounted: bool,
    online: CpuBits,
    online_text: Vec<u8, 256>,
    tracing_on: Ctl,
    tracer: Ctl,
    pid: Ctl,
    graph_proc: Ctl,
    buffer: Ctl,
    buffer_old: BufferSize,
    buffer_per_cpu: Vec<(u16, u64), 1024>,
    buffer_kb: Option<u64>,
    irqs: Vec<Irq, MAX_IRQS>,
    irqs_moved: u32,
    sigset: Sigset,
    oldmask: Option<Sigset>,
    old_chld: Option<Sigaction>,
    shared: *const Shared,
    child: Option<Pid>,
    /// The program's pid, kept after it is reaped.
    child_pid: Option<Pid>,
    output: Option<OwnedFd>,
    /// SIGINT/SIGTERM/SIGHUP received by ftrace_it.
    interrupted: Option<u32>,
}

pub fn run(o: &Opts, a: Argv) -> u8 {
    let mut s = Session {
        o,
        a,
        tracefs: Path::new(&[]),
        mounted: false,
        online: CpuBits::parse(b"").unwrap_or_else(|| unreachable!()),
        online_text: Vec::new(),
        tracing_on: Ctl::new(b"tracing_on"),
        tracer: Ctl::new(b"current_tracer"),
        pid: Ctl::new(b"set_ftrace_pid"),
        graph_proc: Ctl::new(b"options/funcgraph-proc"),
        buffer: Ctl::new(b"buffer_size_kb"),
        buffer_old: BufferSize::All(0),
        buffer_per_cpu: Vec::new(),
        buffer_kb: None,
        irqs: Vec::new(),
        irqs_moved: 0,
        sigset: Sigset { sig: [0] },
        oldmask: None,
        old_chld: None,
        shared: core::ptr::null(),
        child: None,
        child_pid: None,
        output: None,
        interrupted: None,
    };
    let result = s.trace();
    let restored = s.cleanup();
    let code = match result {
        Ok(code) => code,
        Err(Fail(code)) => code,
    };
    if !restored {
        return E_RESTORE;
    }
    match s.interrupted {
        Some(sig) if code < 64 || code > 73 => (128 + sig) as u8,
        _ => code,
    }
}

fn start_timer(ms: u64) -> Res<OwnedFd> {
    let t = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC).and_then(|fd| {
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: timespec(ms),
        };
        timerfd_settime(&fd, TimerfdTimerFlags::empty(), &spec).map(|_| fd)
    });
    t.map_err(|e| io_fail(b"cannot start the --duration timer", b"", e))
}

/// Milliseconds until the timer expires, rounded up; 0 once it has.
fn left_ms(t: &OwnedFd) -> u64 {
    match timerfd_gettime(t) {
        Ok(s) => s.it_value.tv_sec as u64 * 1000 + (s.it_value.tv_nsec as u64).div_ceil(1_000_000),
        Err(_) => 0,
    }
}

fn timespec(ms: u64) -> Timespec {
    Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    }
}

/// Waits up to `ms` (None: forever) for one of the blocked signals.
fn wait_sig(set: &Sigset, ms: Option<u64>) -> Ev {
    let ts = ms.map(timespec);
    // SAFETY: the signals in `set` are blocked and have no handler.
    match unsafe { runtime::sigtimedwait(set, ts) } {
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

impl Session<'_> {
    fn tf(&self, rel: &[u8]) -> Path {
        Path::new(&[self.tracefs.bytes(), b"/", rel])
    }

    /// KiB per CPU during the trace; None if sizes differ per CPU.
    fn buffer_in_use(&self) -> Option<u64> {
        match (self.buffer_kb, &self.buffer_old) {
            (Some(kb), _) | (None, &BufferSize::All(kb)) => Some(kb),
            (None, BufferSize::PerCpu) => None,
        }
    }

    fn prog(&self) -> &'static CStr {
        self.a.get(self.o.prog)
    }

    fn trace(&mut self) -> Res<u8> {
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
            match fs::open(
                out,
                OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            ) {
                Ok(fd) => self.output = Some(fd),
                Err(e) => {
                    return Err(io_fail(b"cannot create ", out.to_bytes(), e));
                }
            }
        }
        self.block_signals()?;
        self.spawn()?;
        self.wait_ready()?;
        self.setup()?;
        if self.o.output.is_none() {
            self.prompt()?;
            if self.interrupted.is_some() {
                return Ok(0);
            }
        }
        let end = self.release_and_wait()?;
        self.stop_tracing()?;
        // SAFETY: the shared page lives until exit.
        let sh = unsafe { &*self.shared };
        if sh.stage.load(Ordering::Acquire) == STAGE_EXEC {
            let e = Errno::from_raw_os_error(sh.errno.load(Ordering::Acquire) as i32);
            let mut m = msg();
            m.s(b"cannot execute ").s(self.prog().to_bytes());
            return Err(fail(with_errno(&mut m, e), E_EXEC));
        }
        if self.output.is_some() {
            return self.record(end);
        }
        Ok(end.code())
    }

    fn check_program(&self) -> Res<()> {
        let p = self.prog();
        let bad = |what: &[u8], e: Option<Errno>| {
            let mut m = msg();
            m.s(p.to_bytes()).s(what);
            if let Some(e) = e {
                with_errno(&mut m, e);
            }
            fail(&mut m, E_PROGRAM)
        };
        match fs::stat(p) {
            Err(Errno::NOENT) => Err(bad(
                b": no such file (PROGRAM is a path, PATH is not searched)",
                None,
            )),
            Err(e) => Err(bad(b"", Some(e))),
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
                Err(bad(b": not a regular file", None))
            }
            Ok(_) => match fs::access(p, fs::Access::EXEC_OK) {
                Ok(()) => Ok(()),
                Err(_) => Err(bad(b": not executable (chmod +x it)", None)),
            },
        }
    }

    fn check_cpus(&mut self) -> Res<()> {
        let mut p = Path::new(&[self.o.sysfs, b"/devices/system/cpu/online"]);
        let mut buf = [0u8; 256];
        let n = match read_file(p.c(), &mut buf) {
            Ok(n) => n,
            Err(e) => {
                return Err(io_fail(b"cannot read ", p.bytes(), e));
            }
        };
        let text = trim(&buf[..n]);
        self.online = match CpuBits::parse(text) {
            Some(b) => b,
            None => {
                return Err(fail(
                    msg().s(p.bytes()).s(b": cannot parse '").s(text).s(b"'"),
                    E_CPU,
                ))
            }
        };
        let _ = self.online_text.extend_from_slice(text);
        let o = self.o;
        if self.online.count() < 2 && !(o.cpu_given && (o.housekeeping_given || !o.irq_routing)) {
            return Err(fail(
                msg()
                    .s(b"only CPU ")
                    .s(text)
                    .s(b" is online: the program and the IRQs need a CPU each; pass --cpu N --no-irq-routing to trace anyway"),
                E_CPU,
            ));
        }
        let check = |what: &[u8], cpu: u64| -> Res<()> {
            if self.online.has(cpu) {
                return Ok(());
            }
            Err(fail(
                msg()
                    .s(what)
                    .n(cpu)
                    .s(b" is not online (online: ")
                    .s(text)
                    .s(b")"),
                E_CPU,
            ))
        };
        check(b"--cpu ", o.cpu)?;
        if o.irq_routing {
            check(b"--housekeeping ", o.housekeeping)?;
            if o.cpu == o.housekeeping && !o.housekeeping_given {
                return Err(fail(
                    msg()
                        .s(b"--cpu ")
                        .n(o.cpu)
                        .s(b" is the housekeeping CPU: pass --housekeeping N (another CPU) or --no-irq-routing"),
                    E_CPU,
                ));
            }
        }
        Ok(())
    }

    fn find_tracefs(&mut self) -> Res<()> {
        if let Some(dir) = self.o.tracefs {
            self.tracefs = Path::new(&[dir]);
            if exists(self.tf(b"tracing_on").c()) {
                return Ok(());
            }
            return Err(fail(
                msg()
                    .s(dir)
                    .s(b" is not a tracefs (no tracing_on): mount one there with 'mount -t tracefs nodev DIR' or drop --tracefs"),
                E_TRACEFS,
            ));
        }
        for dir in [
            b"/sys/kernel/tracing" as &[u8],
            b"/sys/kernel/debug/tracing",
        ] {
            self.tracefs = Path::new(&[dir]);
            if exists(self.tf(b"tracing_on").c()) {
                return Ok(());
            }
        }
        self.tracefs = Path::new(&[b"/sys/kernel/tracing"]);
        let r = rustix::mount::mount(
            cs(b"nodev\0"),
            self.tracefs.c(),
            cs(b"tracefs\0"),
            rustix::mount::MountFlags::empty(),
            cs(b"\0"),
        );
        match r {
            Ok(()) => {
                self.mounted = true;
                if exists(self.tf(b"tracing_on").c()) {
                    return Ok(());
                }
                Err(fail(
                    msg().s(b"tracefs mounted on /sys/kernel/tracing has no tracing_on: the kernel lacks CONFIG_FTRACE"),
                    E_TRACEFS,
                ))
            }
            Err(e) => {
                let mut m = msg();
                m.s(b"tracefs is not mounted and mounting it on /sys/kernel/tracing failed");
                with_errno(&mut m, e);
                m.s(b": mount it and pass --tracefs DIR");
                Err(fail(
                    &mut m,
                    if e == Errno::PERM { E_PERM } else { E_TRACEFS },
                ))
            }
        }
    }

    fn check_tracer(&self) -> Res<()> {
        let mut p = self.tf(b"available_tracers");
        let mut buf = [0u8; 1024];
        let n = match read_file(p.c(), &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let mut m = msg();
                m.s(b"cannot read ").s(p.bytes());
                return Err(fail(with_errno(&mut m, e), E_TRACER));
            }
        };
        let name = self.o.tracer.name();
        let list = trim(&buf[..n]);
        if list.split(|c| c.is_ascii_whitespace()).any(|t| t == name) {
            return Ok(());
        }
        Err(fail(
            msg()
                .s(b"tracer ")
                .s(name)
                .s(b" is not available in this kernel (available: ")
                .s(list)
                .s(b"): enable CONFIG_FUNCTION_TRACER / CONFIG_FUNCTION_GRAPH_TRACER"),
            E_TRACER,
        ))
    }

    fn read_saved(&self, p: &mut Path, into: &mut Saved) -> Res<()> {
        let mut buf = [0u8; 1024];
        match read_file(p.c(), &mut buf) {
            Ok(n) => {
                into.clear();
                let _ = into.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e) => Err(io_fail(b"cannot read ", p.bytes(), e)),
        }
    }

    fn save_ctl(&self, c: &mut Ctl) -> Res<()> {
        let mut p = self.tf(c.rel);
        self.read_saved(&mut p, &mut c.saved)
    }

    /// Reads every setting the session will change, before changing any.
    fn save(&mut self) -> Res<()> {
        let mut ctls = [
            Ctl::new(b"tracing_on"),
            Ctl::new(b"current_tracer"),
            Ctl::new(b"set_ftrace_pid"),
            Ctl::new(b"buffer_size_kb"),
        ];
        for c in ctls.iter_mut() {
            self.save_ctl(c)?;
        }
        let [on, tracer, pid, buffer] = ctls;
        self.tracing_on = on;
        self.tracer = tracer;
        self.pid = pid;
        self.buffer = buffer;
        if self.o.tracer == Tracer::Graph {
            let mut g = Ctl::new(b"options/funcgraph-proc");
            self.save_ctl(&mut g)?;
            self.graph_proc = g;
        }
        self.save_buffer_size()?;
        if self.o.irq_routing {
            self.save_irqs()?;
        }
        Ok(())
    }

    fn save_buffer_size(&mut self) -> Res<()> {
        let text = trim(&self.buffer.saved);
        // "N", "N (expanded: M)" before first use, or "X" if CPUs differ.
        let first = text.split(|&c| c == b' ').next().unwrap_or(b"");
        self.buffer_old = if let Some(pos) = find(text, b"(expanded: ") {
            let rest = &text[pos + 11..];
            let end = rest.iter().position(|&c| c == b')').unwrap_or(rest.len());
            BufferSize::All(parse_u64(&rest[..end]).unwrap_or(0))
        } else if let Some(n) = parse_u64(first) {
            BufferSize::All(n)
        } else {
            BufferSize::PerCpu
        };
        if let BufferSize::PerCpu = self.buffer_old {
            for cpu in self.online.iter() {
                let mut p = self.tf(b"per_cpu/cpu");
                p.num(cpu).push(b"/buffer_size_kb");
                let mut s = Saved::new();
                self.read_saved(&mut p, &mut s)?;
                let n = parse_u64(trim(&s)).unwrap_or(0);
                let _ = self.buffer_per_cpu.push((cpu as u16, n));
            }
        }
        self.buffer_kb = match (self.o.buffer_kb, self.o.output) {
            (Some(kb), _) => Some(kb),
            (None, Some(_)) => Some(self.default_buffer_kb()),
            (None, None) => None,
        };
        if let (Some(kb), BufferSize::All(old)) = (self.buffer_kb, &self.buffer_old) {
            if kb == *old {
                self.buffer_kb = None;
            }
        }
        Ok(())
    }

    /// 4096 KiB plus 4096 KiB per second of --duration (16 MiB without),
    /// capped so that all CPUs' buffers take at most a quarter of
    /// MemAvailable.
    fn default_buffer_kb(&self) -> u64 {
        let kb = match self.o.duration_ms {
            Some(ms) => 4096 + 4096 * ms.div_ceil(1000),
            None => 16384,
        };
        let mut p = Path::new(&[self.o.procfs, b"/meminfo"]);
        let mut buf = [0u8; 4096];
        let n = read_file(p.c(), &mut buf).unwrap_or(0);
        let avail = buf[..n]
            .split(|&c| c == b'\n')
            .find_map(|l| l.strip_prefix(b"MemAvailable:"))
            .and_then(|v| {
                let v = trim(v);
                let v = v.strip_suffix(b" kB").unwrap_or(v);
                parse_u64(ltrim(v))
            });
        match avail {
            Some(a) => kb.min((a / 4 / self.online.count().max(1) as u64).max(1024)),
            None => kb,
        }
    }

    fn save_irqs(&mut self) -> Res<()> {
        let mut p = Path::new(&[self.o.procfs, b"/interrupts"]);
        let fd = match open_read(p.c()) {
            Ok(fd) => fd,
            Err(e) => {
                return Err(io_fail(b"cannot read ", p.bytes(), e));
            }
        };
        let mut nums: Vec<u32, MAX_IRQS> = Vec::new();
        let mut overflow = false;
        let mut scan = irq::Scan::new();
        let mut buf = [0u8; 4096];
        let mut found = |n: u32| {
            if nums.push(n).is_err() {
                overflow = true;
            }
        };
        loop {
            match io::read(&fd, &mut buf) {
                Ok(0) => break,
                Ok(k) => scan.feed(&buf[..k], &mut found),
                Err(Errno::INTR) => {}
                Err(e) => {
                    return Err(io_fail(b"cannot read ", p.bytes(), e));
                }
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
            let mut p = Path::new(&[self.o.procfs, b"/irq/"]);
            p.num(n as u64).push(b"/smp_affinity_list");
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
                Err(e) => {
                    return Err(io_fail(b"cannot read ", p.bytes(), e));
                }
            }
        }
        Ok(())
    }

    /// Blocks the signals we wait for, so none needs a handler, and makes
    /// sure SIGCHLD is generated even if we were started with it ignored.
    fn block_signals(&mut self) -> Res<()> {
        for s in [SIGHUP, SIGINT, SIGTERM, SIGCHLD] {
            self.sigset.sig[0] |= 1 << (s - 1);
        }
        // SAFETY: nothing in this process relies on these signals' delivery.
        let old = unsafe { runtime::sigprocmask(How::BLOCK, Some(&self.sigset)) };
        self.oldmask = old.ok();
        // SAFETY: SIG_DFL (all zero) needs no handler or restorer.
        let old = unsafe { runtime::sigaction(Signal::Child, Some(core::mem::zeroed())) };
        self.old_chld = old.ok();
        Ok(())
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
        self.shared = match page {
            Ok(p) => p as *const Shared,
            Err(e) => return Err(fail(with_errno(msg().s(b"mmap"), e), E_IO)),
        };
        // Keep ourselves off the target CPU so the child never waits for us.
        let mut others = CpuSet::new();
        let mut any = false;
        for c in self.online.iter() {
            if c != self.o.cpu && (c as usize) < CpuSet::MAX_CPU {
                others.set(c as usize);
                any = true;
            }
        }
        if any {
            let _ = process::sched_setaffinity(None, &others);
        }
        // SAFETY: single-threaded; the child only makes raw system calls.
        match unsafe { runtime::fork() } {
            Ok(Fork::Child(_)) => self.child_main(),
            Ok(Fork::Parent(pid)) => {
                self.child = Some(pid);
                self.child_pid = Some(pid);
                Ok(())
            }
            Err(e) => Err(fail(with_errno(msg().s(b"fork"), e), E_IO)),
        }
    }

    /// The child: pin, restore the signal state, say ready, spin without a
    /// system call until released, then exec. Its next system call after the
    /// release is execve.
    fn child_main(&self) -> ! {
        prefault_stack();
        // SAFETY: the shared page lives until exit.
        let sh = unsafe { &*self.shared };
        let mut set = CpuSet::new();
        set.set(self.o.cpu as usize);
        if let Err(e) = process::sched_setaffinity(None, &set) {
            sh.errno.store(e.raw_os_error() as u32, Ordering::Relaxed);
            sh.stage.store(STAGE_PIN, Ordering::Release);
            runtime::exit_group(127);
        }
        process::sched_yield();
        // SAFETY: restores what the process had at start.
        unsafe {
            if let Some(old) = self.old_chld {
                let _ = runtime::sigaction(Signal::Child, Some(old));
            }
            if let Some(old) = &self.oldmask {
                let _ = runtime::sigprocmask(How::SETMASK, Some(old));
            }
        }
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
                Ok(Some(st)) => {
                    self.child = None;
                    return Some(end_of(st));
                }
                Ok(None) => return None,
                Err(Errno::INTR) => {}
                Err(_) => {
                    self.child = None;
                    return None;
                }
            }
        }
    }

    fn kill_child(&mut self) -> Option<End> {
        let pid = self.child?;
        let _ = process::kill_process(pid, Signal::Kill);
        self.reap(WaitOptions::empty())
    }

    /// The child died before the release: say why.
    fn early_death(&mut self, end: End) -> Fail {
        // SAFETY: the shared page lives until exit.
        let sh = unsafe { &*self.shared };
        let mut m = msg();
        if sh.stage.load(Ordering::Acquire) == STAGE_PIN {
            let e = Errno::from_raw_os_error(sh.errno.load(Ordering::Relaxed) as i32);
            m.s(b"cannot pin the program to CPU ").n(self.o.cpu);
            return fail(with_errno(&mut m, e), E_CPU);
        }
        m.s(b"the program's process died before the start (");
        match end {
            End::Exited(c) => m.s(b"exit status ").n(c as u64),
            End::Signaled(s) => m.s(b"signal ").n(s as u64),
        };
        fail(m.s(b")"), E_EXEC)
    }

    /// Handles a signal that arrives while the child has not been released.
    /// Returns true when the session must stop.
    fn pre_release_signal(&mut self, sig: u32) -> Res<bool> {
        if sig == SIGCHLD {
            return match self.reap(WaitOptions::NOHANG) {
                Some(end) => Err(self.early_death(end)),
                None => Ok(false),
            };
        }
        self.interrupted = Some(sig);
        Ok(true)
    }

    fn wait_ready(&mut self) -> Res<()> {
        // SAFETY: the shared page lives until exit.
        let sh = unsafe { &*self.shared };
        while sh.ready.load(Ordering::Acquire) == 0 {
            if let Ev::Sig(s) = wait_sig(&self.sigset, Some(1)) {
                if self.pre_release_signal(s)? {
                    return Err(Fail(0));
                }
            }
        }
        Ok(())
    }

    fn set(&self, c: &mut Ctl, value: &[u8]) -> Res<()> {
        let mut p = self.tf(c.rel);
        c.changed = true;
        write_ctl(&mut p, value)
    }

    /// Everything but `tracing_on=1`, in the order that keeps the trace pure:
    /// tracing off, IRQs away, buffer, pid filter, tracer, empty buffer.
    fn setup(&mut self) -> Res<()> {
        let mut on = core::mem::replace(&mut self.tracing_on, Ctl::new(b""));
        let r = if trim(&on.saved) != b"0" {
            self.set(&mut on, b"0\n")
        } else {
            Ok(())
        };
        self.tracing_on = on;
        r?;
        if self.o.irq_routing {
            self.route_irqs()?;
        }
        if let Some(kb) = self.buffer_kb {
            let mut b = core::mem::replace(&mut self.buffer, Ctl::new(b""));
            let mut v = Buf::<24>::new();
            v.n(kb).s(b"\n");
            let r = self.set(&mut b, v.bytes());
            self.buffer = b;
            r?;
        }
        let mut pid = core::mem::replace(&mut self.pid, Ctl::new(b""));
        let mut v = Buf::<24>::new();
        v.n(Pid::as_raw(self.child) as u64).s(b"\n");
        let r = self.set(&mut pid, v.bytes());
        self.pid = pid;
        r?;
        if self.o.tracer == Tracer::Graph && trim(&self.graph_proc.saved) != b"1" {
            let mut g = core::mem::replace(&mut self.graph_proc, Ctl::new(b""));
            let r = self.set(&mut g, b"1\n");
            self.graph_proc = g;
            r?;
        }
        let mut t = core::mem::replace(&mut self.tracer, Ctl::new(b""));
        let mut v = Buf::<24>::new();
        v.s(self.o.tracer.name()).s(b"\n");
        let r = self.set(&mut t, v.bytes());
        self.tracer = t;
        r?;
        // Opening `trace` with O_TRUNC empties the ring buffer.
        let mut p = self.tf(b"trace");
        if let Err(e) = open_write(p.c()) {
            return Err(io_fail(b"cannot clear ", p.bytes(), e));
        }
        Ok(())
    }

    fn route_irqs(&mut self) -> Res<()> {
        let mut v = Buf::<24>::new();
        v.n(self.o.housekeeping).s(b"\n");
        for i in 0..self.irqs.len() {
            let n = self.irqs[i].n;
            let mut p = Path::new(&[self.o.procfs, b"/irq/"]);
            p.num(n as u64).push(b"/smp_affinity_list");
            match write_file(p.c(), v.bytes()) {
                Ok(()) => {
                    self.irqs[i].moved = true;
                    self.irqs_moved += 1;
                }
                // Per-CPU and chained IRQs cannot be routed: leave them.
                Err(Errno::IO) | Err(Errno::INVAL) => {}
                Err(e) => {
                    return Err(io_fail(b"cannot write ", p.bytes(), e));
                }
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
                if self.pre_release_signal(s)? {
                    return Ok(());
                }
            }
        }
    }

    /// `tracing_on=1`, release, and wait for the end, the timeout or a signal.
    fn release_and_wait(&mut self) -> Res<End> {
        let mut p = self.tf(b"tracing_on");
        let fd = match open_write(p.c()) {
            Ok(fd) => fd,
            Err(e) => {
                return Err(io_fail(b"cannot open ", p.bytes(), e));
            }
        };
        self.tracing_on.changed = true;
        if let Err(e) = write_all(&fd, b"1\n") {
            return Err(io_fail(b"cannot write ", p.bytes(), e));
        }
        // SAFETY: the shared page lives until exit.
        unsafe { &*self.shared }.go.store(1, Ordering::Release);
        drop(fd);
        // A one-shot timerfd counts down --duration; no clock reading needed.
        let timer = match self.o.duration_ms {
            Some(ms) => Some(start_timer(ms)?),
            None => None,
        };
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

    fn stop_tracing(&mut self) -> Res<()> {
        let mut p = self.tf(b"tracing_on");
        write_ctl(&mut p, b"0\n")
    }

    fn record(&mut self, end: End) -> Res<u8> {
        let mut stats: Vec<(u16, [u64; 4]), 1024> = Vec::new();
        let mut lost = 0u64;
        for cpu in self.online.iter() {
            let mut p = self.tf(b"per_cpu/cpu");
            p.num(cpu).push(b"/stats");
            let mut buf = [0u8; 1024];
            let n = match read_file(p.c(), &mut buf) {
                Ok(n) => n,
                Err(e) => {
                    return Err(io_fail(b"cannot read ", p.bytes(), e));
                }
            };
            let mut v = [0u64; 4];
            for line in buf[..n].split(|&c| c == b'\n') {
                let Some(colon) = line.iter().position(|&c| c == b':') else {
                    continue;
                };
                let key = &line[..colon];
                let val = line[colon + 1..]
                    .split(|c| c.is_ascii_whitespace())
                    .find(|t| !t.is_empty())
                    .and_then(parse_u64)
                    .unwrap_or(0);
                match key {
                    b"entries" => v[0] = val,
                    b"overrun" => v[1] = val,
                    b"commit overrun" => v[2] = val,
                    b"dropped events" => v[3] = val,
                    _ => {}
                }
            }
            lost += v[1] + v[2] + v[3];
            let _ = stats.push((cpu as u16, v));
        }
        let mut p = self.tf(b"trace");
        let trace = match open_read(p.c()) {
            Ok(fd) => fd,
            Err(e) => {
                return Err(io_fail(b"cannot read ", p.bytes(), e));
            }
        };
        // The function tracer's header says how many events were written and
        // how many are still in the buffer.
        let mut chunk = [0u8; 32768];
        let first = match read_into(&trace, &mut chunk) {
            Ok(n) => n,
            Err(e) => {
                return Err(io_fail(b"cannot read ", p.bytes(), e));
            }
        };
        if lost == 0 {
            lost = overwritten(&chunk[..first]);
        }
        let out_name = self.o.output.map(|c| c.to_bytes()).unwrap_or(b"");
        let w = |data: &[u8]| -> Res<()> {
            let fd = self.output.as_ref().ok_or(Fail(E_IO))?;
            write_all(fd, data).map_err(|e| io_fail(b"cannot write ", out_name, e))
        };
        let mut h = Buf::<4096>::new();
        let uts = rustix::system::uname();
        h.s(b"# ftrace_it.version: ").s(VERSION);
        h.s(b"\n# ftrace_it.kernel: ").s(uts.release().to_bytes());
        h.s(b"\n# ftrace_it.machine: ").s(uts.machine().to_bytes());
        h.s(b"\n# ftrace_it.tracer: ").s(self.o.tracer.name());
        h.s(b"\n# ftrace_it.pid: ")
            .n(Pid::as_raw(self.child_pid) as u64);
        h.s(b"\n# ftrace_it.cpu: ").n(self.o.cpu);
        h.s(b"\n# ftrace_it.housekeeping: ");
        if self.o.irq_routing {
            h.n(self.o.housekeeping);
        } else {
            h.s(b"none");
        }
        h.s(b"\n# ftrace_it.cpus_online: ").s(&self.online_text);
        h.s(b"\n# ftrace_it.irq_routing: ")
            .s(if self.o.irq_routing { b"on" } else { b"off" });
        h.s(b"\n# ftrace_it.irqs_moved: ").n(self.irqs_moved as u64);
        h.s(b"\n# ftrace_it.buffer_kb: ");
        match self.buffer_in_use() {
            Some(kb) => h.n(kb),
            None => h.s(b"per-cpu"),
        };
        h.s(b"\n# ftrace_it.duration: ");
        match self.o.duration_ms {
            Some(ms) => secs(&mut h, ms),
            None => h.s(b"none"),
        };
        h.s(b"\n# ftrace_it.command:");
        for i in self.o.prog..self.a.argc {
            h.s(b" ").s(self.a.get(i).to_bytes());
        }
        h.s(b"\n# ftrace_it.exit: ");
        match end {
            End::Exited(c) => h.s(b"exited ").n(c as u64),
            End::Signaled(s) => h.s(b"signal ").n(s as u64),
        };
        h.s(b"\n");
        w(h.bytes())?;
        for (cpu, v) in stats.iter() {
            h.clear();
            h.s(b"# ftrace_it.cpu")
                .n(*cpu as u64)
                .s(b": entries=")
                .n(v[0])
                .s(b" overrun=")
                .n(v[1])
                .s(b" commit_overrun=")
                .n(v[2])
                .s(b" dropped=")
                .n(v[3])
                .s(b"\n");
            w(h.bytes())?;
        }
        h.clear();
        h.s(b"# ftrace_it.lost_events: ").n(lost).s(b"\n");
        w(h.bytes())?;
        w(&chunk[..first])?;
        loop {
            match io::read(&trace, &mut chunk) {
                Ok(0) => break,
                Ok(n) => w(&chunk[..n])?,
                Err(Errno::INTR) => {}
                Err(e) => {
                    return Err(io_fail(b"cannot read ", p.bytes(), e));
                }
            }
        }
        if lost > 0 {
            let mut m = msg();
            m.s(b"lost ")
                .n(lost)
                .s(b" events (ring buffer overrun or dropped): ")
                .s(out_name)
                .s(b" is incomplete; rerun with a --buffer-kb larger than ");
            match self.buffer_in_use() {
                Some(kb) => m.n(kb),
                None => m.s(b"now"),
            };
            return Err(fail(&mut m, E_LOST));
        }
        Ok(end.code())
    }

    /// Restores in reverse order of setup. Returns false if anything could not
    /// be restored (each failure is reported).
    fn cleanup(&mut self) -> bool {
        self.kill_child();
        let mut ok = true;
        let mut tracer_busy = false;
        if self.tracer.changed {
            let mut p = self.tf(self.tracer.rel);
            match write_file(p.c(), &self.tracer.saved) {
                Ok(()) => {}
                Err(Errno::BUSY) => {
                    tracer_busy = true;
                    ok = false;
                    let mut m = msg();
                    m.s(b"cannot restore ")
                        .s(p.bytes())
                        .s(b" to '")
                        .s(trim(&self.tracer.saved))
                        .s(b"': a trace_pipe reader holds it (EBUSY) and still has the data; tracing_on stays 0: write both back when the reader is done");
                    say(&mut m);
                }
                Err(e) => ok &= self.restore_failed(&mut p, e),
            }
        }
        if self.graph_proc.changed {
            ok &= self.restore_ctl(&self.graph_proc, &self.graph_proc.saved);
        }
        if self.pid.changed {
            // Reads "no pid" when empty; opening with O_TRUNC clears it.
            let v: &[u8] = if trim(&self.pid.saved) == b"no pid" {
                b""
            } else {
                &self.pid.saved
            };
            ok &= self.restore_ctl(&self.pid, v);
        }
        if self.buffer.changed {
            match self.buffer_old {
                BufferSize::All(kb) => {
                    let mut v = Buf::<24>::new();
                    v.n(kb).s(b"\n");
                    ok &= self.restore_ctl(&self.buffer, v.bytes());
                }
                BufferSize::PerCpu => {
                    for &(cpu, kb) in self.buffer_per_cpu.iter() {
                        let mut p = self.tf(b"per_cpu/cpu");
                        p.num(cpu as u64).push(b"/buffer_size_kb");
                        let mut v = Buf::<24>::new();
                        v.n(kb).s(b"\n");
                        if let Err(e) = write_file(p.c(), v.bytes()) {
                            ok &= self.restore_failed(&mut p, e);
                        }
                    }
                }
            }
        }
        for irq in self.irqs.iter().filter(|i| i.moved) {
            let mut p = Path::new(&[self.o.procfs, b"/irq/"]);
            p.num(irq.n as u64).push(b"/smp_affinity_list");
            if let Err(e) = write_file(p.c(), &irq.saved) {
                ok &= self.restore_failed(&mut p, e);
            }
        }
        if self.tracing_on.changed && !tracer_busy {
            ok &= self.restore_ctl(&self.tracing_on, &self.tracing_on.saved);
        }
        if self.mounted {
            if let Err(e) =
                rustix::mount::unmount(self.tracefs.c(), rustix::mount::UnmountFlags::empty())
            {
                let mut p = Path::new(&[self.tracefs.bytes()]);
                ok &= self.restore_failed(&mut p, e);
            }
        }
        ok
    }

    fn restore_ctl(&self, c: &Ctl, value: &[u8]) -> bool {
        let mut p = self.tf(c.rel);
        match write_file(p.c(), value) {
            Ok(()) => true,
            Err(e) => self.restore_failed(&mut p, e),
        }
    }

    fn restore_failed(&self, p: &mut Path, e: Errno) -> bool {
        let mut m = msg();
        m.s(b"cannot restore ").s(p.bytes());
        with_errno(&mut m, e);
        m.s(b": the system is not as it was, fix it by hand");
        say(&mut m);
        false
    }
}

fn write_ctl(p: &mut Path, value: &[u8]) -> Res<()> {
    write_file(p.c(), value).map_err(|e| io_fail(b"cannot write to ", p.bytes(), e))
}

fn cs(b: &'static [u8]) -> &'static CStr {
    CStr::from_bytes_until_nul(b).unwrap_or_default()
}

fn ltrim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Events written but no longer in the buffer, from the tracer's header line
/// `# entries-in-buffer/entries-written: A/B`.
fn overwritten(head: &[u8]) -> u64 {
    const KEY: &[u8] = b"entries-in-buffer/entries-written: ";
    let Some(pos) = find(head, KEY) else {
        return 0;
    };
    let rest = &head[pos + KEY.len()..];
    let end = rest
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let mut it = rest[..end].splitn(2, |&c| c == b'/');
    match (it.next().and_then(parse_u64), it.next().and_then(parse_u64)) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    }
}

fn secs<const N: usize>(b: &mut Buf<N>, ms: u64) -> &mut Buf<N> {
    b.n(ms / 1000);
    if ms % 1000 != 0 {
        let mut f = ms % 1000;
        let mut digits = [b'0'; 3];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (f % 10) as u8;
            f /= 10;
        }
        let mut len = 3;
        while digits[len - 1] == b'0' {
            len -= 1;
        }
        b.s(b".").s(&digits[..len]);
    }
    b
}
