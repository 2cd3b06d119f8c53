//! vmrun: boots the tracing guest and brings the traces home; the command
//! line over the library (vmrun/src/lib.rs).
//!
//! ```text
//! vmrun run --arch A --kernel-dir DIR --init FILE --ftrace-it FILE
//!           (--payload FILE | --command LINE | --runs FILE)... --results DIR [options]
//! ```
//!
//! Files sent over a console by hand come back with `ftrace_report extract`.
//!
//! See vmrun/README.md. Exit codes: 0 success, 2 usage, 3 missing or unusable
//! input, 4 QEMU would not start, 5 the guest failed (panic, init failure,
//! timeout), 6 results damaged on the way (checksum, console frames),
//! 7 I/O error writing the results, 8 a dynamic payload's interpreter or
//! libraries missing from the sysroot, 9 the sysroot or root filesystem
//! does not exist or cannot be read.

use guest_protocol::plan::Channel;
use guest_protocol::{parse_duration_ms, DURATION_RULE};
use std::path::PathBuf;
use std::process::ExitCode;
use vmrun::{cmdline, Failure, Options, INPUT, USAGE_ERR};

const USAGE: &str =
    "usage: vmrun run --arch aarch64|x86_64 --kernel-dir DIR --init FILE --ftrace-it FILE \
(--payload FILE | --command 'PROG ARG...' | --runs FILE)... [--direct 'PROG ARG...']... --results DIR \
[--sysroot DIR] [--rootfs DIR|FILE.cpio] [--tracer function|function_graph|none] [--duration SECS] \
[--channel semihosting|console] [--accel tcg|kvm] [--timeout SECS] [--checks] [--report FILE] \
[--groundtruth PLUGIN [--qemu FILE] [--map SYSTEM_MAP]]";

fn fail<T>(code: u8, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        message: message.into(),
    })
}

fn main() -> ExitCode {
    let result = match std::env::args_os()
        .nth(1)
        .as_deref()
        .and_then(|s| s.to_str())
    {
        Some("run") => {
            parse_run().and_then(|o| vmrun::run(&o, &|line| eprintln!("{line}")).map(drop))
        }
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => fail(USAGE_ERR, USAGE),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("vmrun: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn parse_run() -> Result<Options, Failure> {
    use lexopt::prelude::*;
    let usage = |e: lexopt::Error| Failure {
        code: USAGE_ERR,
        message: format!("{e}\n{USAGE}"),
    };
    let mut p = lexopt::Parser::from_args(std::env::args_os().skip(2));
    let (mut arch, mut kernel_dir, mut init, mut ftrace_it, mut results, mut channel) =
        (None, None, None, None, None, None);
    let mut o = Options::default();
    while let Some(arg) = p.next().map_err(usage)? {
        match arg {
            Long("arch") => arch = Some(value(&mut p)?),
            Long("kernel-dir") => kernel_dir = Some(PathBuf::from(value(&mut p)?)),
            Long("init") => init = Some(PathBuf::from(value(&mut p)?)),
            Long("ftrace-it") => ftrace_it = Some(PathBuf::from(value(&mut p)?)),
            Long("payload") => o.payloads.push(cmdline::Payload {
                path: PathBuf::from(value(&mut p)?),
                args: Vec::new(),
            }),
            Long(opt @ ("command" | "direct")) => {
                let opt = if opt == "direct" {
                    o.direct.push(o.payloads.len());
                    "direct"
                } else {
                    "command"
                };
                let line = value(&mut p)?;
                let words = cmdline::split(&line).map_err(|e| Failure {
                    code: USAGE_ERR,
                    message: format!("--{opt} {line}: {e}"),
                })?;
                o.payloads
                    .push(cmdline::Payload::from_words(words).map_err(|e| Failure {
                        code: USAGE_ERR,
                        message: format!("--{opt} {line}: {e}"),
                    })?);
            }
            Long("runs") => {
                let file = PathBuf::from(value(&mut p)?);
                let text = std::fs::read_to_string(&file).map_err(|e| Failure {
                    code: INPUT,
                    message: format!("--runs {}: {e}", file.display()),
                })?;
                o.payloads
                    .extend(cmdline::run_file(&text).map_err(|e| Failure {
                        code: USAGE_ERR,
                        message: format!("--runs {}: {e}", file.display()),
                    })?);
            }
            Long("sysroot") => o.sysroot = Some(PathBuf::from(value(&mut p)?)),
            Long("rootfs") => o.rootfs = Some(PathBuf::from(value(&mut p)?)),
            Long("results") => results = Some(PathBuf::from(value(&mut p)?)),
            Long("tracer") => o.tracer = value(&mut p)?,
            Long("duration") => {
                o.duration = value(&mut p)?;
                o.duration_ms = duration_ms(&o.duration)?;
            }
            Long("channel") => channel = Some(value(&mut p)?),
            Long("accel") => o.accel = value(&mut p)?,
            Long("timeout") => {
                let t = value(&mut p)?;
                o.timeout = Some(t.parse().map_err(|_| Failure {
                    code: USAGE_ERR,
                    message: format!("--timeout {t}: give whole seconds"),
                })?)
            }
            Long("checks") => o.checks = true,
            Long("report") => o.report = Some(PathBuf::from(value(&mut p)?)),
            Long("groundtruth") => o.groundtruth = Some(PathBuf::from(value(&mut p)?)),
            Long("qemu") => o.qemu = Some(value(&mut p)?),
            Long("map") => o.map = Some(PathBuf::from(value(&mut p)?)),
            _ => return Err(usage(arg.unexpected())),
        }
    }
    let need = |v: Option<PathBuf>, name: &str| {
        v.ok_or_else(|| Failure {
            code: USAGE_ERR,
            message: format!("--{name} is required\n{USAGE}"),
        })
    };
    o.arch = arch.unwrap_or_default();
    if !matches!(o.arch.as_str(), "aarch64" | "x86_64") {
        return fail(USAGE_ERR, "--arch must be aarch64 or x86_64");
    }
    o.kernel_dir = need(kernel_dir, "kernel-dir")?;
    o.init = need(init, "init")?;
    o.ftrace_it = need(ftrace_it, "ftrace-it")?;
    o.results = need(results, "results")?;
    if o.payloads.is_empty() {
        return fail(
            USAGE_ERR,
            "give at least one --payload, --command or --runs",
        );
    }
    if !matches!(o.tracer.as_str(), "function" | "function_graph" | "none") {
        return fail(
            USAGE_ERR,
            format!(
                "--tracer {}: use function, function_graph or none",
                o.tracer
            ),
        );
    }
    // --checks and --groundtruth are about tracing runs.
    if o.tracer == "none" && (o.checks || o.groundtruth.is_some()) {
        return fail(
            USAGE_ERR,
            "--tracer none runs the payloads alone: no --checks or --groundtruth",
        );
    }
    if !matches!(o.accel.as_str(), "tcg" | "kvm") {
        return fail(USAGE_ERR, format!("--accel {}: use tcg or kvm", o.accel));
    }
    o.channel = match channel.as_deref() {
        None if o.arch == "aarch64" => Channel::Semihosting,
        None | Some("console") => Channel::Console,
        Some("semihosting") if o.arch == "aarch64" => Channel::Semihosting,
        Some(c) => {
            return fail(
                USAGE_ERR,
                format!(
                    "--channel {c}: use console{}",
                    if o.arch == "aarch64" {
                        " or semihosting"
                    } else {
                        " (semihosting is aarch64 only)"
                    }
                ),
            )
        }
    };
    Ok(o)
}

/// ftrace_it's own rule, so that the guest never boots for a value it
/// refuses; the hour's limit keeps the guest's timeout sensible.
fn duration_ms(text: &str) -> Result<u64, Failure> {
    match parse_duration_ms(text.as_bytes()) {
        Some(ms) if ms <= 3_600_000 => Ok(ms),
        _ => fail(
            USAGE_ERR,
            format!("--duration {text}: give {DURATION_RULE}, at most 3600"),
        ),
    }
}

fn value(p: &mut lexopt::Parser) -> Result<String, Failure> {
    let v = p.value().map_err(|e| Failure {
        code: USAGE_ERR,
        message: format!("{e}\n{USAGE}"),
    })?;
    v.into_string().map_err(|v| Failure {
        code: USAGE_ERR,
        message: format!("{} is not UTF-8", v.to_string_lossy()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_follows_ftrace_it_up_to_an_hour() {
        assert_eq!(duration_ms("1.5").ok(), Some(1500));
        assert_eq!(duration_ms("3600").ok(), Some(3_600_000));
        // Floats ftrace_it would refuse once the guest is up.
        for bad in ["1.2345", "1e1", "0", "-1", "3600.001", ""] {
            let f = duration_ms(bad).unwrap_err();
            assert_eq!(f.code, USAGE_ERR, "{bad}");
            assert_eq!(
                f.message,
                format!("--duration {bad}: give seconds > 0 with up to 3 decimals, at most 3600")
            );
        }
    }
}
