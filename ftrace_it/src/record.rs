//! Record mode: after the run, write FILE = header + the whole `trace` file,
//! and check the per-CPU stats for lost events.

use crate::args::{Tracer, VERSION};
use crate::child::End;
use crate::fsutil::{field, first_number, open_or_fail, read_into, read_or_fail, Path};
use crate::out::{fail, io_fail, msg, Buf, Res, Writer, E_LOST};
use crate::session::Session;
use crate::tasks::Tasks;
use guest_protocol::header;
use rustix::fd::OwnedFd;
use rustix::io::{self, Errno};
use rustix::process::Pid;

impl Writer<'_> {
    /// Ends the previous header line, starts `# ftrace_it.<key>: `.
    #[inline(never)]
    pub fn key(&mut self, k: &[u8]) -> &mut Self {
        if self.len > 0 {
            self.s(b"\n");
        }
        self.s(header::PREFIX.as_bytes())
            .s(k)
            .s(header::SEPARATOR.as_bytes())
    }
}

/// Events written but no longer in the buffer, from the function tracer's
/// header line `# entries-in-buffer/entries-written: A/B`.
fn overwritten(head: &[u8]) -> u64 {
    const KEY: &[u8] = b"entries-in-buffer/entries-written: ";
    let Some(pos) = head.windows(KEY.len()).position(|w| w == KEY) else {
        return 0;
    };
    let rest = &head[pos + KEY.len()..];
    let in_buffer = first_number(rest).unwrap_or(0);
    let slash = rest.iter().position(|&c| c == b'/').unwrap_or(0);
    first_number(&rest[slash + 1..]).map_or(0, |w| w.saturating_sub(in_buffer))
}

/// The next chunk of `trace`; 0 at its end.
fn read_more(trace: &OwnedFd, chunk: &mut [u8], p: &mut Path) -> Res<usize> {
    loop {
        match io::read(trace, &mut *chunk) {
            Err(Errno::INTR) => {}
            r => return r.map_err(|e| io_fail(b"cannot read ", p.bytes(), e)),
        }
    }
}

impl Session<'_> {
    pub fn record(&mut self, end: End) -> Res<u8> {
        let o = self.o;
        let out_name = o.output.map_or(&b""[..], |c| c.to_bytes());
        let mut p = self.tracefs.path(b"trace");
        let trace = open_or_fail(&mut p)?;
        let mut chunk = [0u8; 32768];
        let mut len =
            read_into(&trace, &mut chunk).map_err(|e| io_fail(b"cannot read ", p.bytes(), e))?;
        let Some(fd) = self.output.as_ref() else {
            return Ok(end.code());
        };
        let lost_in_buffer = overwritten(&chunk[..len]);
        // A first pass finds the program's tasks for the header.
        let mut tasks = Tasks::new(
            Pid::as_raw(self.child_pid) as u32,
            Pid::as_raw(Some(rustix::process::getpid())) as u32,
        );
        while len > 0 {
            tasks.scan(&chunk[..len]);
            len = read_more(&trace, &mut chunk, &mut p)?;
        }
        let trace = open_or_fail(&mut p)?;
        len = read_into(&trace, &mut chunk).map_err(|e| io_fail(b"cannot read ", p.bytes(), e))?;
        let mut w = Writer::new(fd);
        let uts = rustix::system::uname();
        w.key(header::VERSION.as_bytes()).s(VERSION);
        w.key(header::KERNEL.as_bytes()).s(uts.release().to_bytes());
        // The build, not only the release: a rebuild with another config
        // keeps the release (`uname -v`, the build tree's UTS_VERSION).
        w.key(header::KERNEL_VERSION.as_bytes())
            .s(uts.version().to_bytes());
        w.key(header::MACHINE.as_bytes())
            .s(uts.machine().to_bytes());
        w.key(header::TRACER.as_bytes()).s(o.tracer.name());
        // Whether the lines carry addresses: only the function tracer's do.
        let addr = o.tracer == Tracer::Function && self.tracefs.sym_addr_on();
        w.key(header::SYM_ADDR.as_bytes())
            .s(if addr { b"on" } else { b"off" });
        w.key(header::PID.as_bytes())
            .n(Pid::as_raw(self.child_pid) as u64);
        w.key(header::CPU.as_bytes()).n(o.cpu);
        w.key(header::HOUSEKEEPING.as_bytes());
        if o.irq_routing {
            w.n(o.housekeeping);
        } else {
            w.s(b"none");
        }
        w.key(header::CPUS_ONLINE.as_bytes())
            .s(self.online_text.bytes());
        w.key(header::IRQ_ROUTING.as_bytes())
            .s(if o.irq_routing { b"on" } else { b"off" });
        w.key(header::IRQS_MOVED.as_bytes())
            .n(self.irqs.moved as u64);
        w.key(header::BUFFER_KB.as_bytes())
            .n(self.tracefs.buffer_kb);
        w.key(header::DURATION.as_bytes()).s(o.duration_text);
        w.key(header::COMMAND.as_bytes());
        let mut i = o.prog_at;
        while let Some(arg) = self.a.get(i) {
            if i > o.prog_at {
                w.s(b" ");
            }
            w.s(arg.to_bytes());
            i += 1;
        }
        w.key(header::EXIT.as_bytes());
        match end {
            End::Exited(c) => w.s(b"exited ").n(c as u64),
            End::Signaled(s) => w.s(b"signal ").n(s as u64),
        };
        let mut lost = 0;
        let mut cpu = self.online.next(0);
        while let Some(c) = cpu {
            let mut p = self.tracefs.per_cpu(c, b"/stats");
            let mut buf = [0u8; 1024];
            let n = read_or_fail(&mut p, &mut buf)?;
            let st = &buf[..n];
            let mut k = Buf::<16>::new();
            k.s(header::CPU_STATS.as_bytes()).n(c);
            w.key(k.bytes());
            // The names in the kernel's stats file, in CPU_STAT_FIELDS' order.
            let keys: [&[u8]; 4] = [b"entries", b"overrun", b"commit overrun", b"dropped events"];
            for (i, (k, label)) in keys.iter().zip(header::CPU_STAT_LABELS).enumerate() {
                let v = field(st, k).unwrap_or(0);
                if i > 0 {
                    lost += v;
                }
                w.s(label.as_bytes()).n(v);
            }
            cpu = self.online.next(c + 1);
        }
        if lost == 0 {
            lost = lost_in_buffer;
        }
        w.key(header::LOST_EVENTS.as_bytes()).n(lost);
        tasks.write(&mut w);
        w.s(b"\n");
        // The kernel's text, streamed through the fixed buffer.
        while len > 0 {
            w.s(&chunk[..len]);
            len = read_more(&trace, &mut chunk, &mut p)?;
        }
        w.flush();
        if let Some(e) = w.err {
            return Err(io_fail(b"cannot write ", out_name, e));
        }
        self.recorded = true;
        if lost > 0 {
            let mut m = msg();
            m.s(b"lost ")
                .n(lost)
                .s(b" events (ring buffer overrun or dropped): ")
                .s(out_name)
                .s(b" is incomplete; rerun with a larger --buffer-kb than ")
                .n(self.tracefs.buffer_kb);
            return Err(fail(&mut m, E_LOST));
        }
        Ok(end.code())
    }
}
