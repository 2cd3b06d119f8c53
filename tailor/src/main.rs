//! `tailor`: the tailoring loop and its steps (see tailor/README.md and
//! `tailor --help`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tailor::evidence::{linked_objects, open_index, read_runs, Trees};
use tailor::lab::Guest;
use tailor::required::{self, Required};
use tailor::tailoring::{self, Settings, Stop};
use tailor::{compare, footprint, table};

const HELP: &str = "\
tailor: a kernel configuration from a program's footprint, built, booted
and traced again (tailor/README.md)

Usage:
  tailor run VM_OPTIONS --report FTRACE_REPORT --payload FILE --results DIR
             [--runs N] [--needs FILE] [--kernel-sh FILE] [--drop SYMBOL]...
             [--groundtruth DIR]
      The loop: trace the payload N times (default 3) in one boot of the
      starting kernel (kernel.config), derive the required symbols, let
      Kconfig make a config of them, build it, boot it, trace and compare;
      add back the options that changed which other code ran, once; then
      bisect over the starting config's options the tailored one lacks,
      confirm each option found by a fresh pair of runs, and derive once
      more. Writes DIR/tailor.json (the summary), table.md, times.tsv,
      required.tsv, allconfig, kconfig.txt, compare.txt, start/, tailored/,
      and after an add-back or a bisection add-back.tsv, bisect.tsv,
      bisect/. --groundtruth DIR: `make groundtruth`'s DIR/ID.gt and
      DIR/ID.trace on the starting kernel, whose symbols all count.
      --drop takes a required symbol away, to see the bisection find it.
  tailor table VM_OPTIONS --payload FILE --results DIR [--needs FILE]
             [--kernel-sh FILE]
      After `tailor run` in DIR: DIR/kernels.md, the starting and tailored
      kernels beside the kernel's own tinyconfig and defconfig (built by
      kernel.sh, booted with the payload alone: vmrun --tracer none).
  tailor required --needs FILE... --footprint LABEL=JSON...
             [--groundtruth LABEL=JSON]... [--drop SYMBOL]... [--added FILE]...
             --allconfig OUT --reasons OUT
      The loop's derivation by hand: the symbols of needs.tsv, those of
      every run's footprint, all of the ground truth's, without --drop,
      with --added (SYMBOL<TAB>reason files).
  tailor check --reasons FILE --config .config [--log KCONFIG_LOG]
      Which required symbols Kconfig did not honour, with its warnings.
  tailor compare --start DIR --tailored DIR --id ID... --start-build DIR
             --tailored-build DIR [--add-back OUT]
      The loop's comparison by hand, of vmrun's results on two kernels.
  tailor objects --kernel-build DIR
      How many objects are linked into that kernel.
  tailor -h | --help
      This text.

VM_OPTIONS (as vmrun run's): --arch aarch64 --init FILE --ftrace-it FILE
  [--accel tcg|kvm] [--channel semihosting|console] [--timeout SECS]
  [--sysroot DIR] [--rootfs DIR|FILE.cpio]
Defaults: --needs tailor/needs.tsv, --kernel-sh scripts/kernel.sh.

Exit codes: 0 done (run: the footprints are equal apart from functions of
removed options and noise), 1 compare: a stable difference nothing
explains, 2 usage, 3 unreadable or invalid input or results (a footprint
made on another kernel than the build tree named, objdump failing, a
start/ without a finished run), 4 scripts/kernel.sh failed, 5 run: a
kernel did not boot or a run did not reach its --duration (the starting
one, or the tailored one and the bisection found nothing that helps),
6 run: a stable difference stays unexplained.
";

const USAGE: u8 = 2;

fn usage(message: impl Into<String>) -> Stop {
    Stop {
        code: USAGE,
        message: format!("{}; see tailor --help", message.into()),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let cmd = args.next().and_then(|c| c.into_string().ok());
    let result = match cmd.as_deref() {
        Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            Ok(())
        }
        Some(c) => parse(c, args.collect()).and_then(|o| dispatch(c, &o)),
        None => Err(usage("no command")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(s) if s.message.is_empty() => ExitCode::from(s.code),
        Err(s) => {
            eprintln!("tailor: {}", s.message);
            ExitCode::from(s.code)
        }
    }
}

/// A command's `--key value` options, in order; a key may repeat.
struct Opts(Vec<(&'static str, String)>);

const VM: [&str; 8] = [
    "arch",
    "init",
    "ftrace-it",
    "accel",
    "channel",
    "timeout",
    "sysroot",
    "rootfs",
];

/// The options each command takes (the VM options for `run` and `table`).
fn known(cmd: &str) -> Result<Vec<&'static str>, Stop> {
    let own: &[&'static str] = match cmd {
        "run" => &[
            "report",
            "payload",
            "results",
            "runs",
            "needs",
            "kernel-sh",
            "drop",
            "groundtruth",
        ],
        "table" => &["payload", "results", "needs", "kernel-sh"],
        "required" => &[
            "needs",
            "footprint",
            "groundtruth",
            "drop",
            "added",
            "allconfig",
            "reasons",
        ],
        "check" => &["reasons", "config", "log"],
        "compare" => &[
            "start",
            "tailored",
            "id",
            "start-build",
            "tailored-build",
            "add-back",
        ],
        "objects" => &["kernel-build"],
        other => return Err(usage(format!("unknown command '{other}'"))),
    };
    let vm: &[&'static str] = if matches!(cmd, "run" | "table") {
        &VM
    } else {
        &[]
    };
    Ok([own, vm].concat())
}

fn parse(cmd: &str, args: Vec<OsString>) -> Result<Opts, Stop> {
    use lexopt::prelude::*;
    let keys = known(cmd)?;
    let mut p = lexopt::Parser::from_args(args);
    let mut out = Vec::new();
    while let Some(arg) = p.next().map_err(|e| usage(e.to_string()))? {
        match arg {
            Long(k) => {
                let key = keys
                    .iter()
                    .copied()
                    .find(|x| *x == k)
                    .ok_or_else(|| usage(format!("{cmd}: unknown option '--{k}'")))?;
                let v = p
                    .value()
                    .map_err(|e| usage(e.to_string()))?
                    .into_string()
                    .map_err(|v| usage(format!("--{key} {}: not UTF-8", v.to_string_lossy())))?;
                out.push((key, v));
            }
            other => return Err(usage(other.unexpected().to_string())),
        }
    }
    Ok(Opts(out))
}

impl Opts {
    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn opt(&self, key: &str) -> Result<Option<&str>, Stop> {
        match self.all(key)[..] {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(usage(format!("--{key} given twice"))),
        }
    }

    fn one(&self, key: &str) -> Result<&str, Stop> {
        self.opt(key)?
            .ok_or_else(|| usage(format!("--{key} is required")))
    }

    fn path(&self, key: &str, default: &str) -> Result<PathBuf, Stop> {
        Ok(PathBuf::from(self.opt(key)?.unwrap_or(default)))
    }

    fn some(&self, key: &str) -> Result<Vec<&str>, Stop> {
        let v = self.all(key);
        if v.is_empty() {
            return Err(usage(format!("--{key} is required")));
        }
        Ok(v)
    }
}

fn read(path: &str) -> Result<String, Stop> {
    std::fs::read_to_string(path).map_err(|e| tailoring::input(format!("{path}: {e}")))
}

fn write(path: &Path, text: &str) -> Result<(), Stop> {
    std::fs::write(path, text).map_err(|e| tailoring::input(format!("{}: {e}", path.display())))
}

/// `SYMBOL<TAB>reason` lines of the file `path`.
fn reasons_of(path: &str, prefix: &str) -> Result<Required, Stop> {
    let mut r = Required::new();
    required::parse_reasons(&read(path)?, prefix, &mut r)
        .map_err(|e| tailoring::input(format!("{path}: {e}")))?;
    Ok(r)
}

/// `--KEY LABEL=JSON`: the footprint's symbols, with the label in their
/// reasons.
fn labelled(key: &str, spec: &str) -> Result<Required, Stop> {
    let (label, path) = spec
        .split_once('=')
        .ok_or_else(|| usage(format!("--{key} '{spec}': expected LABEL=JSON")))?;
    let fp = footprint::read(Path::new(path)).map_err(tailoring::input)?;
    let mut r = Required::new();
    required::footprint_symbols(label, &fp, &mut r);
    Ok(r)
}

/// vmrun's options from the VM options (the kernel, payloads and results
/// are the loop's).
fn vm_options(o: &Opts, tracer: &str, report: Option<PathBuf>) -> Result<vmrun::Options, Stop> {
    let arch = o.opt("arch")?.unwrap_or("aarch64");
    if arch != "aarch64" {
        return Err(usage(format!(
            "--arch {arch}: the loop tailors aarch64 kernels only"
        )));
    }
    let timeout = match o.opt("timeout")? {
        Some(t) => Some(
            t.parse()
                .map_err(|_| usage(format!("--timeout {t}: give whole seconds")))?,
        ),
        None => None,
    };
    let channel = match o.opt("channel")?.unwrap_or("semihosting") {
        "semihosting" => vmrun::Channel::Semihosting,
        "console" => vmrun::Channel::Console,
        c => return Err(usage(format!("--channel {c}: use semihosting or console"))),
    };
    let accel = o.opt("accel")?.unwrap_or("tcg");
    if !matches!(accel, "tcg" | "kvm") {
        return Err(usage(format!("--accel {accel}: use tcg or kvm")));
    }
    Ok(vmrun::Options {
        arch: arch.into(),
        init: PathBuf::from(o.one("init")?),
        ftrace_it: PathBuf::from(o.one("ftrace-it")?),
        sysroot: o.opt("sysroot")?.map(PathBuf::from),
        rootfs: o.opt("rootfs")?.map(PathBuf::from),
        tracer: tracer.into(),
        channel,
        accel: accel.into(),
        timeout,
        report,
        ..vmrun::Options::default()
    })
}

fn dispatch(cmd: &str, o: &Opts) -> Result<(), Stop> {
    match cmd {
        "run" => run(o),
        "table" => {
            let payload = PathBuf::from(o.one("payload")?);
            let id = file_name(&payload)?;
            let t = table::TableSettings {
                out: PathBuf::from(o.one("results")?),
                needs: o.path("needs", "tailor/needs.tsv")?,
                kernel_sh: o.path("kernel-sh", "scripts/kernel.sh")?,
                vm: vmrun::Options {
                    payloads: vec![vmrun::cmdline::Payload {
                        path: payload,
                        args: Vec::new(),
                    }],
                    ..vm_options(o, "none", None)?
                },
                id,
            };
            let text = table::kernels(&t)?;
            write(&t.out.join("kernels.md"), &text)?;
            print!("{text}");
            Ok(())
        }
        "required" => {
            let mut i = required::Inputs::default();
            for needs in o.some("needs")? {
                i.needs.extend(reasons_of(needs, "needs: ")?);
            }
            for spec in o.some("footprint")? {
                i.runs.push(labelled("footprint", spec)?);
            }
            for spec in o.all("groundtruth") {
                i.groundtruth.push(labelled("groundtruth", spec)?);
            }
            for added in o.all("added") {
                i.added.push(reasons_of(added, "")?);
            }
            i.drop = o.all("drop").into_iter().map(String::from).collect();
            let (allconfig, reasons) = (o.one("allconfig")?, o.one("reasons")?);
            let (r, some) = required::derive(i).map_err(usage)?;
            if !some.is_empty() {
                eprintln!(
                    "required: not taken, in some runs' footprints only: {}",
                    some.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            write(Path::new(allconfig), &required::allconfig(&r))?;
            write(Path::new(reasons), &required::reasons(&r))?;
            println!("required: {} symbols", r.len());
            Ok(())
        }
        "check" => {
            let r = reasons_of(o.one("reasons")?, "")?;
            let log = match o.opt("log")? {
                Some(p) => read(p)?,
                None => String::new(),
            };
            let u = required::unhonoured(&r, &read(o.one("config")?)?, &log);
            println!(
                "check: Kconfig honoured {} of {} required symbols",
                r.len() - u.len(),
                r.len()
            );
            for x in u {
                println!("not honoured: CONFIG_{} = {}: {}", x.symbol, x.value, x.why);
            }
            Ok(())
        }
        "compare" => {
            let ids: Vec<String> = o.some("id")?.into_iter().map(String::from).collect();
            let input = tailoring::input;
            let a = open_index(Path::new(o.one("start-build")?)).map_err(input)?;
            let b = open_index(Path::new(o.one("tailored-build")?)).map_err(input)?;
            let start = read_runs(Path::new(o.one("start")?), &ids, &a).map_err(input)?;
            let tailored = read_runs(Path::new(o.one("tailored")?), &ids, &b).map_err(input)?;
            let mut trees = Trees::new(&a, &b);
            let c = compare::compare(&start, &tailored, &mut trees);
            if let Some(e) = trees.errors.first() {
                return Err(input(e.clone()));
            }
            print!("{}", compare::report(&c, &start, &tailored));
            if let Some(path) = o.opt("add-back")? {
                write(Path::new(path), &compare::add_back(&c))?;
            }
            if c.equal() {
                Ok(())
            } else {
                Err(Stop {
                    code: 1,
                    message: String::new(),
                })
            }
        }
        "objects" => {
            let index = open_index(Path::new(o.one("kernel-build")?)).map_err(tailoring::input)?;
            println!("{}", linked_objects(&index).len());
            Ok(())
        }
        _ => unreachable!("known() refused it"),
    }
}

fn file_name(path: &Path) -> Result<String, Stop> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(String::from)
        .ok_or_else(|| usage(format!("--payload {}: not a file name", path.display())))
}

/// `tailor run`: copies of the payload named `ID.1` .. `ID.N` (vmrun's
/// run ids are file names), the loop, its table.
fn run(o: &Opts) -> Result<(), Stop> {
    let payload = PathBuf::from(o.one("payload")?);
    let id = file_name(&payload)?;
    let out = PathBuf::from(o.one("results")?);
    let runs: usize = match o.opt("runs")? {
        None => 3,
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| (1..=99).contains(n))
            .ok_or_else(|| usage(format!("--runs {n}: give a number from 1 to 99")))?,
    };
    let groundtruth = match o.opt("groundtruth")? {
        Some(dir) => {
            let (gt, trace) = (
                Path::new(dir).join(format!("{id}.gt")),
                Path::new(dir).join(format!("{id}.trace")),
            );
            if !gt.is_file() || !trace.is_file() {
                return Err(usage(format!(
                    "--groundtruth {dir}: no {id}.gt and {id}.trace there (make groundtruth writes them)"
                )));
            }
            Some((gt, trace))
        }
        None => None,
    };
    let report = PathBuf::from(o.one("report")?);
    let vm = vm_options(o, "function", Some(report.clone()))?;
    let copies = out.join("payloads");
    std::fs::create_dir_all(&copies)
        .map_err(|e| tailoring::input(format!("{}: {e}", copies.display())))?;
    let ids: Vec<String> = (1..=runs).map(|i| format!("{id}.{i}")).collect();
    let mut payloads = Vec::new();
    for i in &ids {
        let copy = copies.join(i);
        std::fs::copy(&payload, &copy)
            .map_err(|e| tailoring::input(format!("{}: {e}", payload.display())))?;
        payloads.push(copy);
    }
    let s = Settings {
        out: out.clone(),
        needs: o.path("needs", "tailor/needs.tsv")?,
        ids: ids.clone(),
        drop: o.all("drop").into_iter().map(String::from).collect(),
        groundtruth,
    };
    let mut lab = Guest {
        kernel_sh: o.path("kernel-sh", "scripts/kernel.sh")?,
        vm,
        payloads,
        ids,
        report,
    };
    let summary = tailoring::run(&s, &mut lab)?;
    if summary.tailored_ran {
        let t = table::loop_table(&summary, &id)?;
        write(&out.join("table.md"), &t)?;
        eprint!("{t}");
    }
    match summary.code() {
        0 => {
            eprintln!(
                "tailor: footprints equal apart from functions of removed options and noise ({})",
                out.join("compare.txt").display()
            );
            Ok(())
        }
        tailoring::NO_RUN => Err(Stop {
            code: tailoring::NO_RUN,
            message: format!(
                "the tailored kernel {} did not boot or {id} did not run to its --duration, and bisection found no option that helps (see {})",
                summary.tailored_kernel.display(),
                out.join("bisect/steps.txt").display()
            ),
        }),
        code => Err(Stop {
            code,
            message: format!(
                "the footprints differ by functions no removed option explains ({}): {}",
                summary.unexplained.join(" "),
                out.join("compare.txt").display()
            ),
        }),
    }
}
