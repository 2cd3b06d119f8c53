//! The command line: a command, its options and files.

use std::ffi::OsString;
use std::path::PathBuf;

use trace_analysis::model::{Context, Phase, CONTEXTS, PHASES};

use super::{exit, help, Failure};

/// The commands, as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Funcs,
    Summary,
    Graph,
    Diff,
    Footprint,
    Html,
    Perfetto,
    Folded,
    Extract,
    Groundtruth,
}

impl Command {
    fn parse(s: &str) -> Option<Command> {
        Some(match s {
            "funcs" => Command::Funcs,
            "summary" => Command::Summary,
            "graph" => Command::Graph,
            "diff" => Command::Diff,
            "footprint" => Command::Footprint,
            "html" => Command::Html,
            "perfetto" => Command::Perfetto,
            "folded" => Command::Folded,
            "extract" => Command::Extract,
            "groundtruth" => Command::Groundtruth,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Command::Funcs => "funcs",
            Command::Summary => "summary",
            Command::Graph => "graph",
            Command::Diff => "diff",
            Command::Footprint => "footprint",
            Command::Html => "html",
            Command::Perfetto => "perfetto",
            Command::Folded => "folded",
            Command::Extract => "extract",
            Command::Groundtruth => "groundtruth",
        }
    }
}

pub struct Args {
    pub cmd: Command,
    pub files: Vec<String>,
    pub pid: Option<u32>,
    pub phases: Option<Vec<Phase>>,
    pub contexts: Option<Vec<Context>>,
    pub callers_only: bool,
    pub normalize: bool,
    /// --json; graph --format json.
    pub json: bool,
    pub exit_code: bool,
    /// -o: extract's directory, html's file.
    pub output: Option<PathBuf>,
    pub kernel_build: Option<PathBuf>,
    pub study: bool,
    /// groundtruth --notrace; footprint --groundtruth.
    pub notrace: Option<String>,
    pub groundtruth: Option<String>,
}

pub enum Parsed {
    Run(Args),
    Print(String),
}

pub fn usage_err(msg: impl std::fmt::Display) -> Failure {
    (
        exit::USAGE,
        format!("{msg}\nTry 'ftrace_report --help' or 'ftrace_report COMMAND --help'."),
    )
}

fn list<T: Copy>(
    v: &str,
    what: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
) -> Result<Vec<T>, Failure> {
    let mut out = Vec::new();
    for item in v.split(',') {
        if item == "all" {
            out.extend_from_slice(all);
        } else {
            out.push(parse(item).ok_or_else(|| usage_err(format!("unknown {what} '{item}'")))?);
        }
    }
    Ok(out)
}

fn command(name: &str) -> Result<Command, Failure> {
    Command::parse(name).ok_or_else(|| usage_err(format!("unknown command '{name}'")))
}

pub fn parse(args: Vec<OsString>) -> Result<Parsed, Failure> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let name = match p.next().map_err(usage_err)? {
        Some(Value(v)) => v.string().map_err(usage_err)?,
        Some(Short('h') | Long("help")) => return Ok(Parsed::Print(help::top())),
        Some(Short('V') | Long("version")) => {
            return Ok(Parsed::Print(format!(
                "ftrace_report {}\n",
                env!("CARGO_PKG_VERSION")
            )))
        }
        Some(a) => return Err(usage_err(a.unexpected())),
        None => return Err(usage_err("missing command")),
    };
    if name == "help" {
        return Ok(Parsed::Print(match p.next().map_err(usage_err)? {
            Some(Value(v)) => help::command(command(&v.string().map_err(usage_err)?)?),
            _ => help::top(),
        }));
    }
    let cmd = command(&name)?;
    use Command::*;
    let mut a = Args {
        cmd,
        files: Vec::new(),
        pid: None,
        phases: None,
        contexts: None,
        callers_only: false,
        normalize: false,
        json: false,
        exit_code: false,
        output: None,
        kernel_build: None,
        study: false,
        notrace: None,
        groundtruth: None,
    };
    let filters = !matches!(cmd, Extract | Groundtruth);
    while let Some(arg) = p.next().map_err(usage_err)? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Print(help::command(cmd))),
            Long("pid") if filters => {
                let v = p.value().map_err(usage_err)?.string().map_err(usage_err)?;
                a.pid = Some(
                    v.parse()
                        .map_err(|_| usage_err(format!("--pid: '{v}' is not a pid")))?,
                );
            }
            Long("phase") if filters => {
                let v = p.value().map_err(usage_err)?.string().map_err(usage_err)?;
                a.phases = Some(list(&v, "phase", &PHASES, Phase::parse)?);
            }
            Long("context") if filters => {
                let v = p.value().map_err(usage_err)?.string().map_err(usage_err)?;
                a.contexts = Some(list(&v, "context", &CONTEXTS, Context::parse)?);
            }
            Long("callers-only") if filters => a.callers_only = true,
            Long("normalize") if filters => a.normalize = true,
            Long("json") if matches!(cmd, Summary | Diff | Footprint) => a.json = true,
            Long("study") if cmd == Footprint => a.study = true,
            Long("kernel-build") if matches!(cmd, Footprint | Groundtruth | Html) => {
                a.kernel_build = Some(p.value().map_err(usage_err)?.into());
            }
            Long("notrace") if cmd == Groundtruth => {
                a.notrace = Some(p.value().map_err(usage_err)?.string().map_err(usage_err)?);
            }
            Long("groundtruth") if cmd == Footprint => {
                a.groundtruth = Some(p.value().map_err(usage_err)?.string().map_err(usage_err)?);
            }
            Long("exit-code") if cmd == Diff => a.exit_code = true,
            Long("format") if cmd == Graph => {
                let v = p.value().map_err(usage_err)?.string().map_err(usage_err)?;
                a.json = match v.as_str() {
                    "dot" => false,
                    "json" => true,
                    _ => return Err(usage_err(format!("--format: '{v}' is not dot or json"))),
                };
            }
            Short('o') | Long("output") if matches!(cmd, Extract | Html) => {
                a.output = Some(p.value().map_err(usage_err)?.into());
            }
            Value(v) => a.files.push(v.string().map_err(usage_err)?),
            other => return Err(usage_err(other.unexpected())),
        }
    }
    let (n, want) = match cmd {
        Diff => (2, "2 trace files"),
        Groundtruth => (2, "a trace and a ground truth file"),
        Html => (1, "1 or 2 trace files"),
        _ => (1, "1 trace file"),
    };
    if a.files.len() != n && !(cmd == Html && a.files.len() == 2) {
        return Err(usage_err(format!(
            "{} takes {want}, got {}",
            cmd.name(),
            a.files.len()
        )));
    }
    if a.groundtruth.is_some() && (a.callers_only || a.normalize) {
        return Err(usage_err(
            "--groundtruth takes the ground truth's names as they are: no --callers-only or --normalize",
        ));
    }
    // System.map names functions as the trace does, suffixes included.
    if cmd == Footprint && a.normalize {
        return Err(usage_err(
            "footprint looks functions up by their names as traced: no --normalize",
        ));
    }
    if matches!(cmd, Perfetto | Folded) && a.callers_only {
        return Err(usage_err(format!(
            "{} exports every selected event: no --callers-only",
            cmd.name()
        )));
    }
    if cmd == Extract && a.output.is_none() {
        return Err(usage_err("extract needs -o DIR"));
    }
    Ok(Parsed::Run(a))
}
