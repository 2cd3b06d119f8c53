//! Command line: GNU-style options, then PROGRAM and its arguments.

use crate::fsutil::{parse_u64, MAX_CPUS};
use crate::out::{fail, msg, Names, Res, E_USAGE};
use core::ffi::CStr;

pub const VERSION: &[u8] = env!("CARGO_PKG_VERSION").as_bytes();

pub const HELP: &[u8] = b"\
Usage: ftrace_it [OPTIONS] [--] PROGRAM [ARGS...]
       ftrace_it --restore [--journal FILE]

Runs PROGRAM (a path; PATH is not searched) with an empty environment on one
CPU and traces it, and only it, with ftrace. Run as root. Every setting it
changes is restored on every exit path.

Without -o: prints 'All set, press enter to start', traces until PROGRAM
ends, for a trace_pipe reader started beforehand (restoring the tracer
empties the ring buffer; -o keeps the trace). With -o FILE: no prompt
and no reader during the run; then FILE gets a header and the whole
buffer, and lost events are reported.

  -o, --output FILE     record mode, into FILE
      --tracer NAME     function (default), function_graph, nop
      --cpu N           CPU of the program (default 1)
      --housekeeping N  CPU for the routable IRQs (default 0)
      --no-irq-routing  leave IRQ affinities alone
      --no-follow       trace PROGRAM's pid only, not its threads and children
      --sym-addr        each symbol's address after it, `<ffff...>`
                        (options/sym-addr; function tracer only)
      --duration SECS   then SIGKILL the program (decimals allowed)
      --buffer-kb N     ring buffer of the program's CPU, KiB; default with
                        -o: 4096 + 4096 per second of --duration (16384
                        without), at most 1/4 of MemAvailable
      --env NAME=VALUE  add to the program's environment (repeatable)
      --stdout FILE, --stderr FILE  the program's, created like -o
      --tracefs DIR     use DIR, mount nothing (default /sys/kernel/tracing,
                        mounted if absent, else /sys/kernel/debug/tracing)
      --procfs DIR      interrupts, irq/N/, meminfo (default /proc)
      --sysfs DIR       devices/system/cpu/online (default /sys)
      --journal FILE    settings as found (default /run/ftrace_it.journal)
      --restore         put back what a killed run's journal holds
  -h, --help            this text
  -V, --version         the version

Exit status: the program's, or 128+N if signal N killed it (137 after
--duration) or if ftrace_it got signal N (INT, TERM, HUP, QUIT...). Own errors:
64 usage, 65 PROGRAM missing or not executable, 66 not root or permission
denied, 67 no tracefs, 68 tracer not available, 69 CPU out of range,
offline or too few, 70 exec failed, 71 events lost, 72 restore failed,
73 other I/O error, 74 journal left (run --restore), 75 journal corrupt.
";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tracer {
    Function,
    Graph,
    /// Same isolation, no tracer and no pid filter: the ground truth's
    /// reference run, free of ftrace's own work.
    Nop,
}

/// In the order of the variants.
const TRACERS: Names<3> = Names::new(b"function|function_graph|nop");
const BY_INDEX: [Tracer; 3] = [Tracer::Function, Tracer::Graph, Tracer::Nop];

impl Tracer {
    pub fn name(self) -> &'static [u8] {
        TRACERS.get(self as usize)
    }
}

pub const MAX_ENV: usize = 64;

/// The process's `argv` as the kernel laid it out.
#[derive(Clone, Copy)]
pub struct Argv {
    argc: usize,
    argv: *const *const u8,
}

impl Argv {
    /// # Safety
    ///
    /// `sp` is the stack pointer the kernel starts the process with: argc,
    /// then argc pointers to NUL-terminated strings, then NULL.
    pub unsafe fn from_stack(sp: *const usize) -> Argv {
        Argv {
            // SAFETY: the kernel put argc at `sp`.
            argc: unsafe { *sp },
            // SAFETY: argv starts right after argc, within the same block.
            argv: unsafe { sp.add(1) } as *const *const u8,
        }
    }

    /// Argument `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: i < argc: the kernel's pointer to a NUL-terminated string
        // that lives as long as the process.
        Some(unsafe { CStr::from_ptr(*self.argv.add(i) as *const core::ffi::c_char) })
    }

    /// The arguments from `i` on, NULL-terminated, as execve takes them.
    pub fn from(&self, i: usize) -> *const *const u8 {
        // Past the end only the NULL that ends argv remains.
        self.argv.wrapping_add(i.min(self.argc))
    }
}

pub struct Opts {
    pub tracer: Tracer,
    pub cpu: u64,
    pub cpu_given: bool,
    pub housekeeping: u64,
    pub housekeeping_given: bool,
    pub irq_routing: bool,
    /// Trace the program's threads and children too (not --no-follow).
    pub follow: bool,
    /// `options/sym-addr=1`: each symbol of the function tracer's lines is
    /// followed by its address.
    pub sym_addr: bool,
    pub duration_ms: Option<u64>,
    /// --duration as given, for the record header.
    pub duration_text: &'static [u8],
    pub buffer_kb: Option<u64>,
    pub tracefs: Option<&'static [u8]>,
    pub procfs: &'static [u8],
    pub sysfs: &'static [u8],
    pub journal: &'static [u8],
    pub output: Option<&'static CStr>,
    /// The program's stdout and stderr (`--stdout`, `--stderr`).
    pub stdio: [Option<&'static CStr>; 2],
    pub prog: &'static CStr,
    /// Index of PROGRAM in argv.
    pub prog_at: usize,
    /// The program's environment: pointers into argv, NULL-terminated.
    pub env: [*const u8; MAX_ENV + 1],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Opt {
    Help,
    Version,
    NoIrqRouting,
    NoFollow,
    SymAddr,
    Restore,
    Output,
    Stdout,
    Stderr,
    Tracer,
    Cpu,
    Housekeeping,
    BufferKb,
    Duration,
    Env,
    Tracefs,
    Procfs,
    Sysfs,
    Journal,
}

impl Opt {
    fn takes_value(self) -> bool {
        !matches!(
            self,
            Opt::Help
                | Opt::Version
                | Opt::NoIrqRouting
                | Opt::NoFollow
                | Opt::SymAddr
                | Opt::Restore
        )
    }
}

/// Every option's name, and what each is (`OPTS`, in the same order).
const NAMES: Names<22> = Names::new(
    b"-h|--help|-V|--version|--no-irq-routing|--no-follow|--sym-addr|-o|--output|--stdout|\
    --stderr|--tracer|--cpu|--housekeeping|--buffer-kb|--duration|--env|--tracefs|--procfs|\
    --sysfs|--journal|--restore",
);
const OPTS: [Opt; 22] = [
    Opt::Help,
    Opt::Help,
    Opt::Version,
    Opt::Version,
    Opt::NoIrqRouting,
    Opt::NoFollow,
    Opt::SymAddr,
    Opt::Output,
    Opt::Output,
    Opt::Stdout,
    Opt::Stderr,
    Opt::Tracer,
    Opt::Cpu,
    Opt::Housekeeping,
    Opt::BufferKb,
    Opt::Duration,
    Opt::Env,
    Opt::Tracefs,
    Opt::Procfs,
    Opt::Sysfs,
    Opt::Journal,
    Opt::Restore,
];

// Built once on the stack; there is no heap to box the options in.
#[allow(clippy::large_enum_variant)]
pub enum Parsed {
    Run(Opts),
    /// `--restore`, from this journal.
    Restore(&'static [u8]),
    Help,
    Version,
}

fn usage(name: &[u8], what: &[u8], arg: &[u8]) -> crate::out::Fail {
    fail(msg().s(name).s(what).s(arg).s(b" (see --help)"), E_USAGE)
}

/// `arg` from byte `at` on (its end if `at` is past it).
fn tail(arg: &'static CStr, at: usize) -> &'static CStr {
    let b = arg.to_bytes_with_nul();
    let b = &b[at.min(b.len() - 1)..];
    // SAFETY: a suffix of a C string's bytes, NUL included, ends with its
    // only NUL.
    unsafe { CStr::from_bytes_with_nul_unchecked(b) }
}

// Not inlined into `run`: measured smaller so (aarch64, 168 B).
#[inline(never)]
pub fn parse(a: Argv) -> Res<Parsed> {
    let mut o = Opts {
        tracer: Tracer::Function,
        cpu: 1,
        cpu_given: false,
        housekeeping: 0,
        housekeeping_given: false,
        irq_routing: true,
        follow: true,
        sym_addr: false,
        duration_ms: None,
        duration_text: b"none",
        buffer_kb: None,
        tracefs: None,
        procfs: b"/proc",
        sysfs: b"/sys",
        journal: crate::journal::DEFAULT,
        output: None,
        stdio: [None; 2],
        prog: Default::default(),
        prog_at: 0,
        env: [core::ptr::null(); MAX_ENV + 1],
    };
    let mut nenv = 0;
    let mut restore = false;
    let mut i = 1;
    while let Some(arg) = a.get(i) {
        let bytes = arg.to_bytes();
        i += 1;
        if bytes == b"--" {
            break;
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            i -= 1;
            break;
        }
        // Split `--name=value`; `-oFILE` is the short form with a value.
        let (name, inline) = if bytes.starts_with(b"--") {
            match bytes.iter().position(|&c| c == b'=') {
                Some(p) => (&bytes[..p], Some(tail(arg, p + 1))),
                None => (bytes, None),
            }
        } else if bytes.starts_with(b"-o") && bytes.len() > 2 {
            (&bytes[..2], Some(tail(arg, 2)))
        } else {
            (bytes, None)
        };
        let Some(&opt) = NAMES.find(name).and_then(|i| OPTS.get(i)) else {
            return Err(usage(b"unknown option ", bytes, b""));
        };
        if !opt.takes_value() {
            if inline.is_some() {
                return Err(usage(name, b" takes no value", b""));
            }
            match opt {
                Opt::Help => return Ok(Parsed::Help),
                Opt::Version => return Ok(Parsed::Version),
                Opt::Restore => restore = true,
                Opt::NoFollow => o.follow = false,
                Opt::SymAddr => o.sym_addr = true,
                _ => o.irq_routing = false,
            }
            continue;
        }
        let value = match inline.or_else(|| a.get(i)) {
            Some(v) => v,
            None => return Err(usage(name, b" needs a value", b"")),
        };
        if inline.is_none() {
            i += 1;
        }
        let v: &'static [u8] = value.to_bytes();
        let num = parse_u64(v).unwrap_or(u64::MAX);
        let dir = !v.is_empty() && v.len() < 256;
        let bad: &[u8] = match opt {
            Opt::Output if !v.is_empty() => {
                o.output = Some(value);
                continue;
            }
            Opt::Stdout | Opt::Stderr if !v.is_empty() => {
                o.stdio[(opt == Opt::Stderr) as usize] = Some(value);
                continue;
            }
            Opt::Tracer => match TRACERS.find(v).and_then(|i| BY_INDEX.get(i)) {
                Some(&t) => {
                    o.tracer = t;
                    continue;
                }
                None => b" must be function, function_graph or nop, not ",
            },
            Opt::Cpu if num < MAX_CPUS as u64 => {
                (o.cpu, o.cpu_given) = (num, true);
                continue;
            }
            Opt::Housekeeping if num < MAX_CPUS as u64 => {
                (o.housekeeping, o.housekeeping_given) = (num, true);
                continue;
            }
            Opt::BufferKb if (1..=64 * 1024 * 1024).contains(&num) => {
                o.buffer_kb = Some(num);
                continue;
            }
            // One rule with vmrun, which checks it before the guest boots.
            Opt::Duration => match guest_protocol::parse_duration_ms(v) {
                Some(ms) => {
                    (o.duration_ms, o.duration_text) = (Some(ms), v);
                    continue;
                }
                None => b" needs seconds > 0 with up to 3 decimals, not ",
            },
            Opt::Env if v.contains(&b'=') && nenv < MAX_ENV => {
                o.env[nenv] = v.as_ptr();
                nenv += 1;
                continue;
            }
            Opt::Tracefs if dir => {
                o.tracefs = Some(v);
                continue;
            }
            Opt::Procfs if dir => {
                o.procfs = v;
                continue;
            }
            Opt::Sysfs if dir => {
                o.sysfs = v;
                continue;
            }
            Opt::Journal if dir => {
                o.journal = v;
                continue;
            }
            Opt::Journal => b" needs a file name (at most 255 bytes), not ",
            Opt::Output | Opt::Stdout | Opt::Stderr => b" needs a file name",
            Opt::Cpu | Opt::Housekeeping => b" needs a CPU number (0-1023), not ",
            Opt::BufferKb => b" needs KiB between 1 and 67108864, not ",
            Opt::Env => b" needs NAME=VALUE (at most 64 of them), not ",
            _ => b" needs a directory (at most 255 bytes), not ",
        };
        return Err(usage(name, bad, v));
    }
    if restore {
        return match a.get(i) {
            None => Ok(Parsed::Restore(o.journal)),
            Some(arg) => Err(usage(b"--restore runs no PROGRAM: ", arg.to_bytes(), b"")),
        };
    }
    // function_graph prints names only; a header saying `sym_addr: on`
    // over a trace without addresses would mislead.
    if o.sym_addr && o.tracer != Tracer::Function {
        return Err(usage(b"--sym-addr", b" needs --tracer function", b""));
    }
    let Some(prog) = a.get(i) else {
        return Err(usage(b"missing PROGRAM", b"", b""));
    };
    (o.prog, o.prog_at) = (prog, i);
    Ok(Parsed::Run(o))
}
