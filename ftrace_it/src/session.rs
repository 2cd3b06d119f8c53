//! One tracing session, in the order things happen: check, save, journal,
//! set up, release the program, wait, restore. Each step's details, and
//! what its undo needs, are in the module of what it touches: `tracefs`,
//! `irq`, `child`, `signals`; the rules for putting a value back are in
//! `saved`, the journal in `journal`, record mode's output in `record`.

use crate::args::{Argv, Opts, Tracer};
use crate::child::{self, Child, End, Failed};
use crate::fsutil::{read_or_fail, trim, CpuBits, Path};
use crate::irq::Irqs;
use crate::journal::Journal;
use crate::out::{
    fail, io_fail, msg, stdout, with_errno, write_all, Buf, Fail, Res, E_CPU, E_EXEC, E_IO, E_PERM,
    E_PROGRAM, E_RESTORE, OWN_ERRORS,
};
use crate::saved::{Each, Undo};
use crate::signals::{Ev, Signals, Timer};
use crate::tracefs::Tracefs;
use rustix::fd::OwnedFd;
use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::{self, Errno};
use rustix::process::{self, Pid, Signal, WaitOptions};

pub struct Session<'a> {
    pub o: &'a Opts,
    pub a: Argv,
    sig: Signals,
    pub online: CpuBits,
    pub online_text: Buf<256>,
    pub tracefs: Tracefs,
    pub irqs: Irqs,
    /// Written once everything is saved, before the first change.
    journal: Option<Journal>,
    /// The program's pid, kept after it is reaped.
    pub child_pid: Option<Pid>,
    pub output: Option<OwnedFd>,
    /// FILE holds the header and the whole trace.
    pub recorded: bool,
    /// One of the stopping signals, received by ftrace_it.
    interrupted: Option<Signal>,
}

pub fn run(o: &Opts, a: Argv) -> u8 {
    let mut s = Session {
        o,
        a,
        sig: Signals::block(),
        online: CpuBits::empty(),
        online_text: Buf::new(),
        tracefs: Tracefs::none(),
        irqs: Irqs::new(o.procfs),
        journal: None,
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
        Some(sig) if !OWN_ERRORS.contains(&code) => 128 + sig as u8,
        _ => code,
    }
}

impl Session<'_> {
    fn trace(&mut self) -> Res<u8> {
        let o = self.o;
        if !process::geteuid().is_root() {
            return Err(fail(
                msg().s(b"must run as root (tracefs and IRQ affinities are root-only)"),
                E_PERM,
            ));
        }
        self.check_program()?;
        self.check_cpus()?;
        self.tracefs.find(o)?;
        self.tracefs.check_tracer(o.tracer)?;
        // Every setting that will change is read before any is.
        self.tracefs.save(o)?;
        if o.irq_routing {
            self.irqs.save()?;
        }
        // On disk before the first change, for a restore after our death;
        // refused if another run's is there.
        self.journal = Some(Journal::write(o.journal, |f| self.each_saved(f))?);
        if let Some(out) = o.output {
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
            match fs::open(out, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => self.output = Some(fd),
                Err(e) => return Err(io_fail(b"cannot create ", out.to_bytes(), e)),
            }
        }
        // Dropped on every way out of here: killed and reaped if it runs.
        let mut child = child::spawn(o, self.a, &self.online, &self.sig)?;
        self.child_pid = Some(child.pid);
        self.wait_ready(&mut child)?;
        self.setup(child.pid)?;
        if o.output.is_none() {
            self.prompt(&mut child)?;
        }
        let end = self.release_and_wait(&mut child)?;
        self.tracefs.stop()?;
        if let Some(Failed::Exec(e)) = child.failed() {
            return Err(io_fail(b"cannot execute ", self.o.prog.to_bytes(), e).with(E_EXEC));
        }
        if self.output.is_some() {
            return self.record(end);
        }
        Ok(end.code())
    }

    fn check_program(&self) -> Res<()> {
        let p = self.o.prog;
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
        let mut p = Path::from(&[self.o.sysfs, b"/devices/system/cpu/online"]);
        let mut buf = [0u8; 256];
        let n = read_or_fail(&mut p, &mut buf)?;
        let text = trim(&buf[..n]);
        self.online_text.s(text);
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

    /// Handles a signal that arrives before the release: Err if the session
    /// must stop.
    fn pre_release_signal(&mut self, child: &mut Child, sig: Signal) -> Res<()> {
        if sig != Signal::Child {
            self.interrupted = Some(sig);
            return Err(Fail(0));
        }
        let Some(end) = child.reap(WaitOptions::NOHANG) else {
            return Ok(());
        };
        let mut m = msg();
        match child.failed() {
            Some(Failed::Pin(e)) => {
                m.s(b"cannot pin the program to CPU ").n(self.o.cpu);
                return Err(fail(with_errno(&mut m, e), E_CPU));
            }
            Some(Failed::Out(e)) => {
                m.s(b"cannot create --stdout or --stderr");
                return Err(fail(with_errno(&mut m, e), E_IO));
            }
            _ => {}
        }
        m.s(b"the program's process died before the start (status ")
            .n(end.code() as u64)
            .s(b")");
        Err(fail(&mut m, E_EXEC))
    }

    fn wait_ready(&mut self, child: &mut Child) -> Res<()> {
        while !child.ready() {
            if let Ev::Sig(s) = self.sig.wait(Some(1)) {
                self.pre_release_signal(child, s)?;
            }
        }
        Ok(())
    }

    /// Everything but `tracing_on=1`, in the order that keeps the trace pure:
    /// tracing off, IRQs away, buffer, pid filter, tracer, empty buffer.
    fn setup(&mut self, pid: Pid) -> Res<()> {
        let o = self.o;
        self.tracefs.tracing_off()?;
        if o.irq_routing {
            self.irqs.route(o.housekeeping)?;
        }
        self.tracefs.resize()?;
        // The filter hooks sched_switch: the nop run goes without it.
        if o.tracer != Tracer::Nop {
            self.tracefs.filter_pid(pid)?;
        }
        self.tracefs.set_tracer(o.tracer)?;
        self.tracefs.clear()
    }

    /// Interactive mode: wait for enter, a signal, or the child's death.
    fn prompt(&mut self, child: &mut Child) -> Res<()> {
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
            if let Ev::Sig(s) = self.sig.wait(Some(0)) {
                self.pre_release_signal(child, s)?;
            }
        }
    }

    /// `tracing_on=1`, release, and wait for the end, the timeout or a signal.
    fn release_and_wait(&mut self, child: &mut Child) -> Res<End> {
        // A signal that came during the setup stops before the release.
        if let Ev::Sig(s) = self.sig.wait(Some(0)) {
            self.pre_release_signal(child, s)?;
        }
        let timer = match self.o.duration_ms {
            Some(ms) => Some(Timer::start(ms)?),
            None => None,
        };
        self.tracefs.start(|| child.release())?;
        loop {
            let left = timer.as_ref().map(Timer::left_ms);
            let ev = if left == Some(0) {
                Ev::Timeout
            } else {
                self.sig.wait(left)
            };
            match ev {
                Ev::Sig(Signal::Child) => {
                    if let Some(end) = child.reap(WaitOptions::NOHANG) {
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
        Ok(child.kill().unwrap_or(End::Signaled(Signal::Kill as u32)))
    }

    /// Every setting the session may change, in the order they are put
    /// back: the reverse of the setup, `tracing_on` last.
    fn each_saved(&self, f: Each) {
        self.tracefs.each_saved(f);
        self.irqs.each_saved(f);
        self.tracefs.each_saved_last(f);
    }

    /// Puts back what the session changed. Returns false if anything could
    /// not be restored (each failure is reported): the journal then stays
    /// for `ftrace_it --restore`.
    fn cleanup(&mut self) -> bool {
        let mut undo = Undo::new(false);
        self.each_saved(&mut |kind, p, value, changed| {
            if changed {
                undo.put(kind, p, value);
            }
        });
        if let (true, Some(j)) = (undo.ok, &self.journal) {
            j.remove();
        }
        undo.ok
    }
}
