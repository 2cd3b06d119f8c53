//! Command line: GNU-style options, then PROGRAM and its arguments.

use crate::fsutil::parse_u64;
use crate::out::{fail, msg, Res, E_USAGE};
use core::ffi::CStr;

pub const VERSION: &[u8] = b"0.1.0";

pub const HELP: &[u8] = b"\
Usage: ftrace_it [OPTIONS] [--] PROGRAM [ARGS...]

Runs PROGRAM (a path, not searched in PATH) with an empty environment,
pinned to one CPU, and traces it, and only it, with ftrace. Must run as root.

Without -o: prints 'All set, press enter to start', waits for enter, traces
until PROGRAM ends (or --duration), and leaves the trace in the ring buffer
for a trace_pipe reader. With -o FILE: no prompt, no reader while PROGRAM
runs; the whole buffer is written to FILE afterwards, with a header, and lost
events are reported. Every setting changed is restored on every exit path.

Options:
  -o, --output FILE     record mode: write header + trace to FILE
      --tracer NAME     function (default) or function_graph
      --cpu N           CPU the program runs on (default 1)
      --housekeeping N  CPU that takes the routable IRQs (default 0)
      --no-irq-routing  leave IRQ affinities alone
      --duration SECS   stop after SECS seconds (decimals allowed): the
                        program is killed with SIGKILL
      --buffer-kb N     ring buffer size per CPU in KiB; default in record
                        mode: 4096 + 4096 per second of --duration (16384
                        without), at most a quarter of MemAvailable over
                        all CPUs; without -o the size is left alone
      --env NAME=VALUE  add to the program's environment (repeatable)
      --tracefs DIR     tracefs to use, nothing is mounted (default
                        /sys/kernel/tracing, mounted there if absent, then
                        /sys/kernel/debug/tracing)
      --procfs DIR      procfs for interrupts, irq/N and meminfo (default /proc)
      --sysfs DIR       sysfs for devices/system/cpu/online (default /sys)
  -h, --help            this text
  -V, --version         version

Exit status: the program's, or 128+N if it died from signal N (a --duration
timeout kills it: 137), or 128+N if ftrace_it got SIGINT/SIGTERM/SIGHUP N.
Errors of ftrace_it itself:
  64 usage          65 PROGRAM missing or not executable
  66 not root or permission denied     67 tracefs missing, not mountable
  68 tracer not available              69 CPU out of range, offline, too few
  70 exec of PROGRAM failed            71 events lost (record mode)
  72 a setting could not be restored   73 other I/O error
";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tracer {
    Function,
    Graph,
}

impl Tracer {
    pub fn name(self) -> &'static [u8] {
        match self {
            Tracer::Function => b"function",
            Tracer::Graph => b"function_graph",
        }
    }
}

pub const MAX_ENV: usize = 64;

/// The process's `argv` as the kernel laid it out.
#[derive(Clone, Copy)]
pub struct Argv {
    pub argc: usize,
    pub argv: *const *const u8,
}

impl Argv {
    pub fn get(&self, i: usize) -> &'static CStr {
        // SAFETY: i < argc, and the kernel NUL-terminates every argument.
        unsafe { CStr::from_ptr(*self.argv.add(i) as *const core::ffi::c_char) }
    }
}

pub struct Opts {
    pub tracer: Tracer,
    pub cpu: u64,
    pub cpu_given: bool,
    pub housekeeping: u64,
    pub housekeeping_given: bool,
    pub irq_routing: bool,
    pub duration_ms: Option<u64>,
    pub buffer_kb: Option<u64>,
    pub tracefs: Option<&'static [u8]>,
    pub procfs: &'static [u8],
    pub sysfs: &'static [u8],
    pub output: Option<&'static CStr>,
    /// Index of PROGRAM in argv.
    pub prog: usize,
    /// The program's environment: pointers into argv, NULL-terminated.
    pub env: [*const u8; MAX_ENV + 1],
}

const WITH_VALUE: &[&[u8]] = &[
    b"-o",
    b"--output",
    b"--tracer",
    b"--cpu",
    b"--housekeeping",
    b"--buffer-kb",
    b"--duration",
    b"--env",
    b"--tracefs",
    b"--procfs",
    b"--sysfs",
];

pub enum Parsed {
    Run(Opts),
    Help,
    Version,
}

fn usage(what: &[u8], arg: &[u8]) -> crate::out::Fail {
    fail(msg().s(what).s(arg).s(b" (see --help)"), E_USAGE)
}

/// Seconds with up to three decimals, as milliseconds.
fn parse_secs(s: &[u8]) -> Option<u64> {
    let mut parts = s.splitn(2, |&c| c == b'.');
    let whole = parse_u64(parts.next()?)?;
    let mut ms = 0;
    if let Some(frac) = parts.next() {
        if frac.is_empty() || frac.len() > 3 {
            return None;
        }
        ms = parse_u64(frac)?;
        for _ in frac.len()..3 {
            ms *= 10;
        }
    }
    let total = whole.checked_mul(1000)?.checked_add(ms)?;
    (total > 0).then_some(total)
}

fn dir_arg(v: &'static [u8], name: &[u8]) -> Res<&'static [u8]> {
    if v.is_empty() || v.len() > 255 {
        return Err(usage(name, b" needs a directory of at most 255 bytes"));
    }
    Ok(v)
}

pub fn parse(a: Argv) -> Res<Parsed> {
    let mut o = Opts {
        tracer: Tracer::Function,
        cpu: 1,
        cpu_given: false,
        housekeeping: 0,
        housekeeping_given: false,
        irq_routing: true,
        duration_ms: None,
        buffer_kb: None,
        tracefs: None,
        procfs: b"/proc",
        sysfs: b"/sys",
        output: None,
        prog: 0,
        env: [core::ptr::null(); MAX_ENV + 1],
    };
    let mut nenv = 0;
    let mut i = 1;
    while i < a.argc {
        let arg = a.get(i);
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
        let (name, inline): (&[u8], Option<&'static [u8]>) = if bytes.starts_with(b"--") {
            match bytes.iter().position(|&c| c == b'=') {
                Some(p) => (&bytes[..p], Some(&bytes[p + 1..])),
                None => (bytes, None),
            }
        } else if bytes.starts_with(b"-o") && bytes.len() > 2 {
            (&bytes[..2], Some(&bytes[2..]))
        } else {
            (bytes, None)
        };
        let flag = |o_inline: Option<&[u8]>| -> Res<()> {
            match o_inline {
                Some(_) => Err(usage(name, b" takes no value")),
                None => Ok(()),
            }
        };
        match name {
            b"-h" | b"--help" => {
                flag(inline)?;
                return Ok(Parsed::Help);
            }
            b"-V" | b"--version" => {
                flag(inline)?;
                return Ok(Parsed::Version);
            }
            b"--no-irq-routing" => {
                flag(inline)?;
                o.irq_routing = false;
                continue;
            }
            _ => {}
        }
        if !WITH_VALUE.contains(&name) {
            return Err(usage(b"unknown option ", bytes));
        }
        let value: &'static CStr = match inline {
            Some(_) => arg,
            None if i < a.argc => {
                i += 1;
                a.get(i - 1)
            }
            None => return Err(usage(name, b" needs a value")),
        };
        // For `--x=v` and `-ov` the value is the tail of the same argument.
        let vbytes: &'static [u8] = match inline {
            Some(v) => v,
            None => value.to_bytes(),
        };
        match name {
            b"-o" | b"--output" => {
                if vbytes.is_empty() {
                    return Err(usage(name, b" needs a file name"));
                }
                let with_nul = value.to_bytes_with_nul();
                let start = with_nul.len() - 1 - vbytes.len();
                o.output = CStr::from_bytes_with_nul(&with_nul[start..]).ok();
            }
            b"--tracer" => {
                o.tracer = match vbytes {
                    b"function" => Tracer::Function,
                    b"function_graph" => Tracer::Graph,
                    _ => {
                        return Err(usage(
                            b"--tracer must be function or function_graph, not ",
                            vbytes,
                        ))
                    }
                }
            }
            b"--cpu" | b"--housekeeping" | b"--buffer-kb" => {
                let v = match parse_u64(vbytes) {
                    Some(v) => v,
                    None => return Err(usage(name, b" needs a whole number")),
                };
                match name {
                    b"--cpu" => {
                        o.cpu = v;
                        o.cpu_given = true;
                    }
                    b"--housekeeping" => {
                        o.housekeeping = v;
                        o.housekeeping_given = true;
                    }
                    _ if v == 0 || v > 64 * 1024 * 1024 => {
                        return Err(usage(
                            b"--buffer-kb must be between 1 and 67108864, not ",
                            vbytes,
                        ))
                    }
                    _ => o.buffer_kb = Some(v),
                }
            }
            b"--duration" => match parse_secs(vbytes) {
                Some(ms) => o.duration_ms = Some(ms),
                None => {
                    return Err(usage(
                        b"--duration needs seconds > 0 (up to 3 decimals), not ",
                        vbytes,
                    ))
                }
            },
            b"--env" => {
                if !vbytes.contains(&b'=') {
                    return Err(usage(b"--env needs NAME=VALUE, not ", vbytes));
                }
                if nenv == MAX_ENV {
                    return Err(usage(b"too many --env", b""));
                }
                let with_nul = value.to_bytes_with_nul();
                o.env[nenv] = with_nul[with_nul.len() - 1 - vbytes.len()..].as_ptr();
                nenv += 1;
            }
            b"--tracefs" => o.tracefs = Some(dir_arg(vbytes, name)?),
            b"--procfs" => o.procfs = dir_arg(vbytes, name)?,
            b"--sysfs" => o.sysfs = dir_arg(vbytes, name)?,
            _ => unreachable!(),
        }
    }
    if i >= a.argc {
        return Err(usage(b"missing PROGRAM", b""));
    }
    o.prog = i;
    Ok(Parsed::Run(o))
}
