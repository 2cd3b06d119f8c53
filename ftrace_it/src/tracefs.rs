//! tracefs: where it is, whether it has the tracer, and the control files
//! the session changes: read before any change, written in the session's
//! order, put back in reverse.

use crate::args::{Opts, Tracer};
use crate::fsutil::{
    exists, field, first_number, has_word, open_write, read_file, read_or_fail, trim, Path,
};
use crate::out::{fail, io_fail, msg, with_errno, write_all, Buf, Names, Res, E_TRACEFS, E_TRACER};
use crate::saved::{Each, Kind};
use core::ffi::CStr;
use rustix::fd::AsFd;
use rustix::io::Errno;
use rustix::mount::{mount, unmount, MountFlags, UnmountFlags};
use rustix::process::Pid;

/// The control files the session may change.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctl {
    On,
    Tracer,
    Pid,
    /// Every CPU's ring buffer.
    Buffer,
    /// The program's CPU's ring buffer.
    CpuBuffer,
    /// `funcgraph-proc`, read and written for function_graph only.
    Graph,
    /// `sym-addr`, read and written with --sym-addr only.
    SymAddr,
    /// Following the program's threads and children (not with
    /// --no-follow): the pid filters take in each new task
    /// (`function-fork`, `event-fork`), the fork events of the filtered
    /// tasks tell the process tree, and `set_ftrace_notrace` keeps out the
    /// function the enabled fork tracepoint adds to `kernel_clone`.
    FuncFork,
    EventFork,
    EventPid,
    ForkEvent,
    Notrace,
}

/// Every control file, in the order they are read.
const CTLS: [Ctl; 12] = [
    Ctl::On,
    Ctl::Tracer,
    Ctl::Pid,
    Ctl::Buffer,
    Ctl::CpuBuffer,
    Ctl::Graph,
    Ctl::SymAddr,
    Ctl::FuncFork,
    Ctl::EventFork,
    Ctl::EventPid,
    Ctl::ForkEvent,
    Ctl::Notrace,
];

/// All but `tracing_on`, in the order they are put back: the reverse of
/// the setup's.
const RESTORE_ORDER: [Ctl; 11] = [
    Ctl::Tracer,
    Ctl::Graph,
    Ctl::SymAddr,
    Ctl::Notrace,
    Ctl::ForkEvent,
    Ctl::EventPid,
    Ctl::EventFork,
    Ctl::FuncFork,
    Ctl::Pid,
    Ctl::CpuBuffer,
    Ctl::Buffer,
];

/// What the follow setup writes after the pid filter, in this order.
const FOLLOW: [Ctl; 5] = [
    Ctl::FuncFork,
    Ctl::EventFork,
    Ctl::EventPid,
    Ctl::ForkEvent,
    Ctl::Notrace,
];

/// Added to `set_ftrace_notrace` while following: it runs only because the
/// fork event is enabled, and is the tracer's, not the program's.
const FORK_ITER: &[u8] = b"__traceiter_sched_process_fork\n";

impl Ctl {
    /// Relative to tracefs; `CpuBuffer` to the CPU's `per_cpu/cpuN`.
    fn file(self) -> &'static [u8] {
        /// In the order of the variants.
        const FILES: Names<12> = Names::new(
            b"tracing_on|current_tracer|set_ftrace_pid|buffer_size_kb|/buffer_size_kb|\
            options/funcgraph-proc|options/sym-addr|options/function-fork|options/event-fork|\
            set_event_pid|events/sched/sched_process_fork/enable|set_ftrace_notrace",
        );
        FILES.get(self as usize)
    }
}

/// A control file's content before the session, in the form that writes it
/// back, and whether the session wrote to it.
struct Saved {
    value: Buf<1024>,
    changed: bool,
}

impl Saved {
    const NONE: Saved = Saved {
        value: Buf::new(),
        changed: false,
    };
}

pub struct Tracefs {
    dir: Path,
    /// We mounted it, and unmount it at the end.
    mounted: bool,
    /// The program's CPU, whose ring buffer is resized.
    cpu: u64,
    /// By `Ctl`.
    ctl: [Saved; CTLS.len()],
    /// Record mode or --buffer-kb: the target CPU's ring buffer is resized.
    resize: bool,
    /// The buffers were never expanded: `buffer_size_kb` read
    /// `N (expanded: M)`, and M is what any tracer would expand them to.
    unexpanded: bool,
    /// function_graph, and `funcgraph-proc` is not 1 yet.
    graph_proc: bool,
    /// --sym-addr, and `sym-addr` is not 1 yet.
    sym_addr: bool,
    /// Threads and children are traced too (no --no-follow).
    follow: bool,
    /// The target CPU's ring buffer size while tracing, KiB.
    pub buffer_kb: u64,
}

/// A C string from a literal that ends with `\0`; used in consts, so a bad
/// literal fails the build.
const fn cs(b: &'static [u8]) -> &'static CStr {
    match CStr::from_bytes_with_nul(b) {
        Ok(c) => c,
        Err(_) => panic!("not a NUL-terminated literal"),
    }
}

const NODEV: &CStr = cs(b"nodev\0");
const TRACEFS: &CStr = cs(b"tracefs\0");
const EMPTY: &CStr = cs(b"\0");

impl Tracefs {
    /// Not found yet: nothing to restore.
    pub fn none() -> Tracefs {
        Tracefs {
            dir: Path::new(),
            mounted: false,
            cpu: 0,
            ctl: [Saved::NONE; CTLS.len()],
            resize: false,
            unexpanded: false,
            graph_proc: false,
            sym_addr: false,
            follow: false,
            buffer_kb: 0,
        }
    }

    pub fn path(&self, rel: &[u8]) -> Path {
        Path::from(&[self.dir.bytes(), b"/", rel])
    }

    /// `<tracefs>/per_cpu/cpu<N>/<file>`
    pub fn per_cpu(&self, cpu: u64, file: &[u8]) -> Path {
        let mut p = self.path(b"per_cpu/cpu");
        p.n(cpu).s(file);
        p
    }

    fn ctl_path(&self, c: Ctl) -> Path {
        if c == Ctl::CpuBuffer {
            self.per_cpu(self.cpu, c.file())
        } else {
            self.path(c.file())
        }
    }

    /// Whether the setup writes `c`.
    fn planned(&self, c: Ctl) -> bool {
        match c {
            Ctl::Buffer => self.resize && self.unexpanded,
            Ctl::CpuBuffer => self.resize,
            Ctl::Graph => self.graph_proc,
            Ctl::SymAddr => self.sym_addr,
            Ctl::On | Ctl::Tracer | Ctl::Pid => true,
            _ => self.follow,
        }
    }

    fn saved(&self, c: Ctl) -> &[u8] {
        self.ctl[c as usize].value.bytes()
    }

    /// `--tracefs DIR`, else `/sys/kernel/tracing` (mounted there if need
    /// be), else `/sys/kernel/debug/tracing`.
    pub fn find(&mut self, o: &Opts) -> Res<()> {
        self.cpu = o.cpu;
        if let Some(dir) = o.tracefs {
            self.dir = Path::from(&[dir]);
            if exists(self.path(Ctl::On.file()).c()) {
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
        self.dir = Path::from(&[b"/sys/kernel/tracing"]);
        if exists(self.path(Ctl::On.file()).c()) {
            return Ok(());
        }
        // Not mounted: mount it there, and unmount it at the end.
        let r = mount(NODEV, self.dir.c(), TRACEFS, MountFlags::empty(), EMPTY);
        if r.is_ok() {
            if exists(self.path(Ctl::On.file()).c()) {
                self.mounted = true;
                return Ok(());
            }
            let _ = unmount(self.dir.c(), UnmountFlags::empty());
        }
        // Kernels without /sys/kernel/tracing have it under debugfs.
        let mut legacy = Path::from(&[b"/sys/kernel/debug/tracing/tracing_on"]);
        if exists(legacy.c()) {
            self.dir = Path::from(&[b"/sys/kernel/debug/tracing"]);
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

    pub fn check_tracer(&self, tracer: Tracer) -> Res<()> {
        let mut p = self.path(b"available_tracers");
        let mut buf = [0u8; 1024];
        let n = read_file(p.c(), &mut buf)
            .map_err(|e| io_fail(b"cannot read ", p.bytes(), e).with(E_TRACER))?;
        let name = tracer.name();
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

    /// Reads every control file the session will change, before changing any.
    pub fn save(&mut self, o: &Opts) -> Res<()> {
        self.follow = o.follow;
        for c in CTLS {
            if (c == Ctl::Graph && o.tracer != Tracer::Graph)
                || (c == Ctl::SymAddr && !o.sym_addr)
                || (FOLLOW.contains(&c) && !o.follow)
            {
                continue;
            }
            let mut p = self.ctl_path(c);
            let mut buf = [0u8; 1024];
            let len = read_or_fail(&mut p, &mut buf)?;
            self.ctl[c as usize].value.s(&buf[..len]);
        }
        // An empty pid filter reads "no pid"; opening with O_TRUNC clears it.
        if trim(self.saved(Ctl::Pid)) == b"no pid" {
            self.ctl[Ctl::Pid as usize].value.clear();
        }
        // An empty notrace list reads "#### no functions disabled ####".
        if self.saved(Ctl::Notrace).starts_with(b"#") {
            self.ctl[Ctl::Notrace as usize].value.clear();
        }
        // Only the target CPU's buffer is resized: the program's events are
        // all recorded there. Before the first tracer the buffers read
        // "N (expanded: M)": they are expanded to M first, as switching the
        // tracer would do anyway, and left at M.
        let top = &mut self.ctl[Ctl::Buffer as usize].value;
        let colon = top.bytes().iter().position(|&c| c == b':');
        if let Some(colon) = colon {
            let m = first_number(&top.bytes()[colon + 1..]).unwrap_or(0);
            top.clear();
            top.n(m).s(b"\n");
        }
        // What the setup will write, decided here for the journal.
        self.resize = o.buffer_kb.is_some() || o.output.is_some();
        self.unexpanded = colon.is_some();
        self.graph_proc = o.tracer == Tracer::Graph && trim(self.saved(Ctl::Graph)) != b"1";
        self.sym_addr = o.sym_addr && trim(self.saved(Ctl::SymAddr)) != b"1";
        self.buffer_kb = match (o.buffer_kb, o.output) {
            (Some(kb), _) => kb,
            (None, Some(_)) => default_buffer_kb(o),
            (None, None) => first_number(self.saved(Ctl::CpuBuffer)).unwrap_or(0),
        };
        Ok(())
    }

    /// Writes a control file. Once it is open it counts as changed: opening
    /// with O_TRUNC alone clears some (set_ftrace_pid, trace).
    fn set(&mut self, c: Ctl, value: &[u8]) -> Res<()> {
        let mut p = self.ctl_path(c);
        let fd = open_write(p.c()).map_err(|e| io_fail(b"cannot open ", p.bytes(), e))?;
        self.ctl[c as usize].changed = true;
        write_all(fd.as_fd(), value).map_err(|e| {
            if e == Errno::BUSY && c == Ctl::Tracer {
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

    /// `tracing_on=0` for the setup, unless it is already.
    pub fn tracing_off(&mut self) -> Res<()> {
        if trim(self.saved(Ctl::On)) != b"0" {
            self.set(Ctl::On, b"0\n")?;
        }
        Ok(())
    }

    /// In record mode or with --buffer-kb, the target CPU's ring buffer to
    /// `buffer_kb`, after expanding the buffers if they never were.
    pub fn resize(&mut self) -> Res<()> {
        if !self.resize {
            return Ok(());
        }
        let mut v = Buf::<24>::new();
        if self.unexpanded {
            v.s(self.saved(Ctl::Buffer));
            self.set(Ctl::Buffer, v.bytes())?;
            v.clear();
        }
        v.n(self.buffer_kb).s(b"\n");
        self.set(Ctl::CpuBuffer, v.bytes())
    }

    /// Only `pid` is traced, and with `follow` every task it starts, with
    /// their fork events.
    pub fn filter_pid(&mut self, pid: Pid) -> Res<()> {
        let mut v = Buf::<24>::new();
        v.n(Pid::as_raw(Some(pid)) as u64).s(b"\n");
        self.set(Ctl::Pid, v.bytes())?;
        if self.follow {
            // The notrace list as found, plus the fork tracepoint's iterator.
            let mut notrace = Buf::<1056>::new();
            notrace.s(self.saved(Ctl::Notrace)).s(FORK_ITER);
            for c in FOLLOW {
                let value: &[u8] = match c {
                    Ctl::EventPid => v.bytes(),
                    Ctl::Notrace => notrace.bytes(),
                    _ => b"1\n",
                };
                self.set(c, value)?;
            }
        }
        Ok(())
    }

    /// The tracer, with its output options first: `sym-addr=1` for
    /// --sym-addr, `funcgraph-proc=1` for function_graph.
    pub fn set_tracer(&mut self, tracer: Tracer) -> Res<()> {
        if self.sym_addr {
            self.set(Ctl::SymAddr, b"1\n")?;
        }
        if self.graph_proc {
            self.set(Ctl::Graph, b"1\n")?;
        }
        let mut v = Buf::<24>::new();
        v.s(tracer.name()).s(b"\n");
        self.set(Ctl::Tracer, v.bytes())
    }

    /// Whether the function tracer prints addresses (`sym-addr` reads 1),
    /// set by --sym-addr or found so: for the record header.
    pub fn sym_addr_on(&self) -> bool {
        let mut p = self.path(Ctl::SymAddr.file());
        let mut buf = [0u8; 8];
        let n = read_file(p.c(), &mut buf).unwrap_or(0);
        trim(&buf[..n]) == b"1"
    }

    /// Empties the ring buffer: opening `trace` with O_TRUNC does.
    pub fn clear(&self) -> Res<()> {
        let mut p = self.path(b"trace");
        open_write(p.c()).map_err(|e| io_fail(b"cannot clear ", p.bytes(), e))?;
        Ok(())
    }

    /// `tracing_on=1`, then `release`. The file is opened beforehand: between
    /// the two there is one write and nothing else.
    pub fn start(&mut self, release: impl FnOnce()) -> Res<()> {
        let mut p = self.ctl_path(Ctl::On);
        let fd = open_write(p.c()).map_err(|e| io_fail(b"cannot open ", p.bytes(), e))?;
        self.ctl[Ctl::On as usize].changed = true;
        write_all(fd.as_fd(), b"1\n").map_err(|e| io_fail(b"cannot write to ", p.bytes(), e))?;
        release();
        Ok(())
    }

    /// `tracing_on=0` once the program is done.
    pub fn stop(&mut self) -> Res<()> {
        self.set(Ctl::On, b"0\n")
    }

    /// Calls `f` with each control file the session changes but
    /// `tracing_on`, in the order they are put back (the reverse of the
    /// setup's): its kind, path, value as found, and whether it was written.
    pub fn each_saved(&self, f: Each) {
        for c in RESTORE_ORDER {
            self.give(c, f);
        }
    }

    /// As `each_saved`, for what is put back last: `tracing_on`, so that
    /// nothing is traced while the rest is restored; then the unmount.
    pub fn each_saved_last(&self, f: Each) {
        self.give(Ctl::On, f);
        if self.mounted {
            f(Kind::Mount, &mut Path::from(&[self.dir.bytes()]), b"", true);
        }
    }

    /// Gives `c` to `f` if the setup writes it; one copy for both callers.
    #[inline(never)]
    fn give(&self, c: Ctl, f: Each) {
        let kind = match c {
            Ctl::On => Kind::TracingOn,
            Ctl::Tracer => Kind::Tracer,
            _ => Kind::Setting,
        };
        let s = &self.ctl[c as usize];
        if self.planned(c) {
            f(kind, &mut self.ctl_path(c), s.value.bytes(), s.changed);
        }
    }
}

/// 4096 KiB plus 4096 KiB per second of --duration (16 MiB without),
/// at most a quarter of MemAvailable.
fn default_buffer_kb(o: &Opts) -> u64 {
    let kb = match o.duration_ms {
        Some(ms) => 4096 + 4096 * ms.div_ceil(1000),
        None => 16384,
    };
    let mut p = Path::from(&[o.procfs, b"/meminfo"]);
    let mut buf = [0u8; 4096];
    let n = read_file(p.c(), &mut buf).unwrap_or(0);
    match field(&buf[..n], b"MemAvailable") {
        Some(a) => kb.min((a / 4).max(1024)),
        None => kb,
    }
}
