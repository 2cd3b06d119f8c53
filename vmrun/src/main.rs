//! vmrun: boots the tracing guest and brings the traces home.
//!
//! ```text
//! vmrun run --arch A --kernel-dir DIR --init FILE --ftrace-it FILE
//!           --payload FILE... --results DIR [options]
//! ```
//!
//! Files sent over a console by hand come back with `ftrace_report extract`.
//!
//! See vmrun/README.md. Exit codes: 0 success, 2 usage, 3 missing or unusable
//! input, 4 QEMU would not start, 5 the guest failed (panic, init failure,
//! timeout), 6 results damaged on the way (checksum, console frames),
//! 7 I/O error writing the results.

mod cpio;
mod elf;
mod guest;
mod manifest;

use guest_protocol::plan::{self, Channel, Plan};
use guest_protocol::{
    parse_duration_ms, valid_id, BIN_DIR, DURATION_RULE, FTRACE_IT, OUT_DIR, PLAN_PATH,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: vmrun run --arch aarch64|x86_64 --kernel-dir DIR --init FILE --ftrace-it FILE \
--payload FILE... --results DIR [--tracer function|function_graph] [--duration SECS] \
[--channel semihosting|console] [--accel tcg|kvm] [--timeout SECS] [--checks] [--report FILE]";

struct Failure {
    code: u8,
    message: String,
}

fn fail<T>(code: u8, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        message: message.into(),
    })
}

const USAGE_ERR: u8 = 2;
const INPUT: u8 = 3;
const QEMU: u8 = 4;
const GUEST: u8 = 5;
const TRANSFER: u8 = 6;
const IO: u8 = 7;

fn main() -> ExitCode {
    let result = match std::env::args_os()
        .nth(1)
        .as_deref()
        .and_then(|s| s.to_str())
    {
        Some("run") => parse_run().and_then(|o| run(&o)),
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

#[derive(Debug)]
struct Options {
    arch: String,
    kernel_dir: PathBuf,
    init: PathBuf,
    ftrace_it: PathBuf,
    payloads: Vec<PathBuf>,
    results: PathBuf,
    tracer: String,
    /// As given, for ftrace_it.
    duration: String,
    duration_ms: u64,
    channel: Channel,
    accel: String,
    timeout: Option<u64>,
    checks: bool,
    report: Option<PathBuf>,
}

/// The knobs' defaults; the required paths are checked by `parse_run`.
impl Default for Options {
    fn default() -> Self {
        Options {
            arch: String::new(),
            kernel_dir: PathBuf::new(),
            init: PathBuf::new(),
            ftrace_it: PathBuf::new(),
            payloads: Vec::new(),
            results: PathBuf::new(),
            tracer: "function".into(),
            duration: "1".into(),
            duration_ms: 1000,
            channel: Channel::Console,
            accel: "tcg".into(),
            timeout: None,
            checks: false,
            report: None,
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
            Long("payload") => o.payloads.push(PathBuf::from(value(&mut p)?)),
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
        return fail(USAGE_ERR, "give at least one --payload");
    }
    if !matches!(o.tracer.as_str(), "function" | "function_graph") {
        return fail(
            USAGE_ERR,
            format!("--tracer {}: use function or function_graph", o.tracer),
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

/// One ftrace_it invocation in the guest.
struct GuestRun {
    id: String,
    args: Vec<String>,
    /// guest_init holds `trace_pipe` open during the run.
    reader: bool,
}

/// Runs of the plan: one per payload, plus with `--checks` a function_graph
/// run and the runs that must fail cleanly (missing program, bad CPU, a
/// `trace_pipe` reader already open as in the seed's recipe).
fn runs(o: &Options, names: &[String]) -> Vec<GuestRun> {
    let traced = |id: &str, tracer: &str, extra: &[&str], program: &str| GuestRun {
        id: id.to_string(),
        args: [
            "-o",
            &format!("{OUT_DIR}/{id}.trace"),
            "--duration",
            &o.duration,
            "--tracer",
            tracer,
        ]
        .iter()
        .chain(extra)
        .chain([&program])
        .map(|s| s.to_string())
        .collect(),
        reader: false,
    };
    let mut runs: Vec<GuestRun> = names
        .iter()
        .map(|n| traced(n, &o.tracer, &[], &format!("{BIN_DIR}/{n}")))
        .collect();
    if o.checks {
        let first = format!("{BIN_DIR}/{}", names[0]);
        runs.push(traced("fgraph", "function_graph", &[], &first));
        runs.push(traced(
            "missing",
            &o.tracer,
            &[],
            &format!("{BIN_DIR}/no-such-program"),
        ));
        runs.push(traced("badcpu", &o.tracer, &["--cpu", "99"], &first));
        runs.push(GuestRun {
            reader: true,
            ..traced("busy", &o.tracer, &[], &first)
        });
    }
    runs
}

/// The plan's text, checked as the guest will read it: a payload named
/// like one of the `--checks` runs is refused here rather than in the guest.
fn plan_text(channel: Channel, runs: &[GuestRun], checks: bool) -> Result<String, Failure> {
    let mut plan = plan::Writer::new(String::new());
    plan.comment("written by vmrun").channel(channel);
    for r in runs {
        plan.run(&r.id, &r.args, r.reader);
    }
    if checks {
        // A real console capture with real kernel messages in it, for the
        // console channel's test: when the results come by semihosting, a
        // copy of one trace also goes over the console.
        if channel == Channel::Semihosting {
            plan.console_copy("fgraph.trace");
        }
        plan.console_noise(true);
    }
    let text = plan.finish().expect("a String takes any text");
    if let Err(e) = Plan::parse(&text) {
        return fail(INPUT, format!("the guest would refuse its plan: {e}"));
    }
    Ok(text)
}

fn read_input(path: &Path, what: &str, arch: &str) -> Result<Vec<u8>, Failure> {
    let data = fs::read(path).or_else(|e| {
        fail(
            INPUT,
            format!(
                "{what} {}: {e} (build it with `make trace`)",
                path.display()
            ),
        )
    })?;
    if let Err(why) = elf::check_static(&data, arch) {
        return fail(INPUT, format!("{what} {}: {why}", path.display()));
    }
    Ok(data)
}

fn run(o: &Options) -> Result<(), Failure> {
    let start = Instant::now();
    let say = |msg: &str| eprintln!("vmrun: [{:5.1}s] {msg}", start.elapsed().as_secs_f64());
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e: std::io::Error| Failure {
            code: IO,
            message: format!("{p}: {e}"),
        }
    };

    let image = o.kernel_dir.join("boot-image");
    if !image.exists() {
        return fail(
            INPUT,
            format!(
                "{}: no kernel image (build it with scripts/kernel.sh {})",
                image.display(),
                o.arch
            ),
        );
    }
    let mut names = Vec::new();
    let mut initramfs = cpio::Cpio::new();
    for d in ["dev", "proc", "sys", "tmp", "etc", "usr", "usr/bin"] {
        initramfs.dir(d, 0o755);
    }
    initramfs.char_dev("dev/console", 0o600, 5, 1);
    initramfs.file("init", 0o755, &read_input(&o.init, "guest init", &o.arch)?);
    initramfs.file(
        &format!("{}/{FTRACE_IT}", in_archive(BIN_DIR)),
        0o755,
        &read_input(&o.ftrace_it, "ftrace_it", &o.arch)?,
    );
    for p in &o.payloads {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !valid_id(&name) || name == FTRACE_IT || names.contains(&name) {
            return fail(
                INPUT,
                format!(
                    "payload {}: its file name must be unique, not ftrace_it, and use only [A-Za-z0-9._+-]",
                    p.display()
                ),
            );
        }
        initramfs.file(
            &format!("{}/{name}", in_archive(BIN_DIR)),
            0o755,
            &read_input(p, "payload", &o.arch)?,
        );
        names.push(name);
    }
    let runs = runs(o, &names);
    let channel = o.channel;
    let plan = plan_text(channel, &runs, o.checks)?;
    initramfs.file(in_archive(PLAN_PATH), 0o644, plan.as_bytes());

    // Build the new results next to the old ones; swap at the end.
    let parent = o
        .results
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let leaf = o.results.file_name().unwrap_or_default().to_string_lossy();
    let work = parent.join(format!(".{leaf}.tmp"));
    let guest_dir = work.join("guest");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&guest_dir).map_err(io(&guest_dir))?;
    let work = work.canonicalize().map_err(io(&work))?;
    let guest_dir = work.join("guest");
    let cpio_path = work.join("initramfs.cpio");
    fs::write(&cpio_path, initramfs.finish()).map_err(io(&cpio_path))?;
    fs::write(work.join("mpt.plan"), &plan).map_err(io(&work))?;

    let image = image.canonicalize().map_err(io(&image))?;
    let (program, mut args, console) = match o.arch.as_str() {
        "aarch64" => (
            "qemu-system-aarch64",
            vec!["-M", "virt", "-cpu", "cortex-a72"],
            "ttyAMA0",
        ),
        _ => (
            "qemu-system-x86_64",
            vec!["-M", "pc", "-cpu", "max"],
            "ttyS0",
        ),
    };
    let append = format!("console={console} rdinit=/init panic=-1 printk.devkmsg=on");
    args.extend(["-smp", "2", "-m", "2048M", "-nographic", "-no-reboot"]);
    args.extend(["-accel", &o.accel]);
    let (kernel, initrd) = (image.display().to_string(), cpio_path.display().to_string());
    args.extend(["-kernel", &kernel, "-initrd", &initrd, "-append", &append]);
    if channel == Channel::Semihosting {
        args.extend([
            "-semihosting-config",
            "enable=on,target=native,userspace=on",
        ]);
    }
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let cmdline = std::iter::once(program.to_string())
        .chain(args.iter().map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        }))
        .collect::<Vec<_>>()
        .join(" ");
    fs::write(
        work.join("qemu.cmd"),
        format!("cd {} && {cmdline}\n", guest_dir.display()),
    )
    .map_err(io(&work))?;
    let timeout = o
        .timeout
        .unwrap_or(60 + runs.len() as u64 * (o.duration_ms.div_ceil(1000) + 15));
    say(&format!(
        "booting the {} guest ({program}, {}, {} run(s), results by {})",
        o.arch,
        o.accel.to_uppercase(),
        runs.len(),
        channel.name()
    ));
    let boot = guest::Boot {
        program: program.into(),
        args,
        cwd: guest_dir.clone(),
        log: work.join("boot.log"),
        timeout: Duration::from_secs(timeout),
    };
    guest::run(&boot, &|line| say(&format!("guest: {line}"))).or_else(|e| match e {
        guest::GuestError::Start(m) => fail(QEMU, m),
        guest::GuestError::Guest(m) => fail(
            GUEST,
            format!(
                "{m}\n(everything is in {}; rerun it by hand with qemu.cmd there)",
                work.display()
            ),
        ),
    })?;
    say("guest powered off");

    if channel == Channel::Console {
        let capture = fs::read(&boot.log).map_err(io(&boot.log))?;
        console_frames::extract(&capture, &guest_dir).or_else(|e| {
            fail(
                TRANSFER,
                format!("console frames in {}: {e}", boot.log.display()),
            )
        })?;
    }
    let listed = manifest::verify(&guest_dir).or_else(|e| fail(TRANSFER, e))?;
    say(&format!(
        "{} files arrived intact (SHA-256 manifest checked)",
        listed.len()
    ));
    for name in listed
        .iter()
        .map(String::as_str)
        .chain([guest_protocol::manifest::NAME])
    {
        let (from, to) = (guest_dir.join(name), work.join(name));
        fs::rename(&from, &to).map_err(io(&to))?;
    }
    fs::remove_dir(&guest_dir).map_err(io(&guest_dir))?;
    for (from, to) in [(".config", "config"), ("System.map", "System.map")] {
        let (from, to) = (o.kernel_dir.join(from), work.join(to));
        fs::copy(&from, &to).map_err(io(&from))?;
    }

    if o.results.exists() {
        fs::remove_dir_all(&o.results).map_err(io(&o.results))?;
    }
    fs::rename(&work, &o.results).map_err(io(&o.results))?;
    if let Some(report) = &o.report {
        for r in runs.iter().filter(|r| names.contains(&r.id)) {
            summarize(report, &o.results, &r.id, &say);
        }
    }
    let traces: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            let t = o.results.join(format!("{}.trace", r.id));
            let size = fs::metadata(&t).ok()?.len();
            let exit = fs::read_to_string(o.results.join(format!("{}.exit", r.id))).ok()?;
            Some(format!(
                "{}.trace {} KiB (ftrace_it exit {})",
                r.id,
                size / 1024,
                exit.trim()
            ))
        })
        .collect();
    say(&format!(
        "done: {} in {}/",
        traces.join(", "),
        o.results.display()
    ));
    Ok(())
}

/// A path in the guest as the archive names it.
fn in_archive(guest_path: &str) -> &str {
    guest_path.trim_start_matches('/')
}

/// `ftrace_report summary TRACE` into `ID.summary`; a report failure is
/// shown but does not fail the run: the trace is the product.
fn summarize(report: &Path, dir: &Path, id: &str, say: &dyn Fn(&str)) {
    let trace = dir.join(format!("{id}.trace"));
    if !trace.exists() {
        return;
    }
    match Command::new(report).arg("summary").arg(&trace).output() {
        Ok(out) if out.status.success() => {
            let path = dir.join(format!("{id}.summary"));
            if let Err(e) = fs::write(&path, &out.stdout) {
                say(&format!("warning: {}: {e}", path.display()));
            }
        }
        Ok(out) => say(&format!(
            "warning: {} summary {id}.trace failed ({}): {}",
            report.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        )),
        Err(e) => say(&format!("warning: cannot run {}: {e}", report.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(checks: bool) -> Options {
        Options {
            arch: "aarch64".into(),
            duration: "1.5".into(),
            checks,
            ..Options::default()
        }
    }

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

    #[test]
    fn one_run_per_payload_with_the_knobs() {
        let names = ["min".to_string(), "hello".to_string()];
        let runs = runs(&options(false), &names);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].id, "hello");
        assert_eq!(
            runs[1].args,
            [
                "-o",
                "/tmp/out/hello.trace",
                "--duration",
                "1.5",
                "--tracer",
                "function",
                "/usr/bin/hello"
            ]
        );
        let plan = plan_text(Channel::Semihosting, &runs, false)
            .unwrap_or_else(|f| panic!("{}", f.message));
        assert!(plan.contains("channel\tsemihosting\n"));
        assert!(plan.contains("run\tmin\t-o\t/tmp/out/min.trace\t--duration\t1.5\t"));
        assert!(!plan.contains("console"), "{plan}");
    }

    #[test]
    fn checks_add_function_graph_and_the_failing_runs() {
        let names = ["min".to_string()];
        let runs = runs(&options(true), &names);
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["min", "fgraph", "missing", "badcpu", "busy"]);
        assert!(runs[1]
            .args
            .windows(2)
            .any(|w| w == ["--tracer", "function_graph"]));
        assert_eq!(runs[2].args.last().unwrap(), "/usr/bin/no-such-program");
        assert!(runs[3].args.windows(2).any(|w| w == ["--cpu", "99"]));
        assert!(runs[4].reader && !runs[3].reader);
        let text =
            |channel| plan_text(channel, &runs, true).unwrap_or_else(|f| panic!("{}", f.message));
        assert!(text(Channel::Console).contains("\nrun-reader\tbusy\t-o\t"));
        // Results by semihosting: a copy goes over the console too.
        assert!(text(Channel::Semihosting).contains("console-copy\tfgraph.trace\n"));
        let console = text(Channel::Console);
        assert!(!console.contains("console-copy") && console.contains("console-noise\t1\n"));
    }

    #[test]
    fn a_plan_the_guest_would_refuse_fails_before_the_boot() {
        let names = ["fgraph".to_string()];
        let f = plan_text(Channel::Console, &runs(&options(true), &names), true).unwrap_err();
        assert_eq!(f.code, INPUT);
        assert!(
            f.message.contains("two runs share the id 'fgraph'"),
            "{}",
            f.message
        );
    }
}
