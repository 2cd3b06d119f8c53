//! `ftrace_report`: the kernel footprint of one program from an ftrace trace.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use console_frames::ExtractError;
use ftrace_report::analyze::{Analysis, Error};
use ftrace_report::groundtruth;
use ftrace_report::model::{Context, Phase, Selection, CONTEXTS, PHASES};
use ftrace_report::report::{self, Filter};

const EXIT_DIFFERENT: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_READ: u8 = 3;
const EXIT_INPUT: u8 = 4;
const EXIT_NO_TARGET: u8 = 5;
const EXIT_WRITE: u8 = 6;
const EXIT_DAMAGED: u8 = 7;
const EXIT_INCOMPLETE: u8 = 8;
const EXIT_KERNEL: u8 = 9;
const EXIT_TRACE_DAT: u8 = 10;
const EXIT_LAYOUT: u8 = 11;
const EXIT_OTHER_KERNEL: u8 = 12;
const EXIT_KERNEL_DAMAGED: u8 = 13;

/// The exit status of a kernel build tree that cannot serve a trace.
fn kernel_exit(e: &kernel_index::Error) -> u8 {
    match e.kind() {
        kernel_index::ErrorKind::Tree => EXIT_KERNEL,
        kernel_index::ErrorKind::OtherKernel => EXIT_OTHER_KERNEL,
        kernel_index::ErrorKind::Damaged => EXIT_KERNEL_DAMAGED,
    }
}

const USAGE: &str = "\
usage: ftrace_report COMMAND [OPTIONS] TRACE...

The kernel footprint of one program from an ftrace `function` or
`function_graph` trace (ftrace_it -o files, `cat trace`, `cat trace_pipe`,
serial console captures, `trace-cmd report` text, trace-cmd's trace.dat
files of format 6 and 7). Events are attributed by pid to the target task
and the tasks forked from it (its process tree).

Commands:
  funcs TRACE      sorted unique functions of the target, one per line
  summary TRACE    target, tracer, time span, events and unique functions per
                   phase x context, lost events, skipped lines, top functions
  graph TRACE      caller -> callee graph (DOT or JSON)
  diff A B         functions and edges only in A, only in B, in both
  footprint TRACE  the functions mapped to source files, MAINTAINERS
                   sections and Kconfig symbols through the kernel's build
                   tree (--kernel-build DIR, default: the one `make trace`
                   recorded next to the trace)
  html TRACE [B]   one self-contained HTML page (no network): facts, phases x
                   contexts, timeline, subsystems, call graph, the lists;
                   with B, the diff page of TRACE (A) and B
  perfetto TRACE   Trace Event JSON for Perfetto UI and chrome://tracing
  folded TRACE     folded stacks (`a;b;c N`) for flame graphs
  extract CAPTURE -o DIR
                   files sent over a console (console channel) back to DIR
  groundtruth TRACE GT
                   the emulator's ground truth (gt_plugin's ID.gt) against the
                   trace: exactness, phases, blind spots, the tracer's cost
  help [COMMAND]   this text, or a command's

TRACE `-` reads standard input. `ftrace_report COMMAND --help` lists the
command's options (--pid, --phase, --context, --callers-only, --normalize,
output formats). -h, --help: this text; -V, --version: the version.";

const COMMON: &str = "\
Target and filters:
  --pid N            only this task (default: the ftrace_it header's pid,
                     else the first task to enter execve, and every task
                     forked from it: its process tree)
  --phase LIST       comma-separated: pre-exec, exec, run, exit, all
                     (default: exec,run,exit)
  --context LIST     comma-separated: process, softirq, hardirq, nmi,
                     unknown, all (default: all)
  --callers-only     only functions seen as callers (`<-parent`) and never
                     as callees anywhere in the trace
  --normalize        strip compiler suffixes (.constprop.N, .isra.N,
                     .part.N, .cold, .llvm.N, ...)
  -h, --help         this help";

const RULES: &str = "\
Process tree: without --pid, the target and every task forked from it
(sched_process_fork events; threads too), except what the target forks
before its execve. Phases, per task: pre-exec (before its execve entry),
exec (up to the first return to user mode), run (user mode: only
interrupts and exceptions enter the kernel), exit (from do_exit,
do_group_exit, an exit syscall or signal delivery on). A forked task is in
run from its first event unless it calls execve: then what it did before
is its pre-exec. Contexts: from the flags column (function tracer; no
column: unknown) or from irq markers and nesting (function_graph). The
exact rules are in ftrace_report/README.md.";

const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  diff --exit-code: the traces differ; groundtruth: ftrace and the
     ground truth disagree (a traced function missing or with other counts)
  2  usage error
  3  a trace cannot be opened or read
  4  a trace is invalid (bad ftrace_it header line, or no trace event at all,
     also in a trace.dat)
  5  no target: no --pid, no ftrace_it header and no task enters execve,
     or the target pid has no event
  6  standard output or an extracted file cannot be written
  7  extract: a file in the capture is damaged or incomplete (the intact
     ones are written)
  8  a trace is incomplete: its events per CPU are not the ftrace_it
     header's counts (entries=), so it was cut short or damaged; the
     results of what is there are printed (takes precedence over 1)
  9  footprint, groundtruth, html --kernel-build: the kernel build tree
     cannot be used (missing, not a build tree, no System.map or
     vmlinux.map, no objects)
  10 a trace-cmd trace.dat is truncated or damaged (the message names the
     part of the file)
  11 html: Graphviz's dot (Debian package graphviz) cannot be run or fails
  12 the kernel build tree is not the traced kernel: its release, or its
     build (uname -v, which ftrace_it records), differs from the trace's
  13 a file of the kernel build tree is damaged (a MAINTAINERS pattern
     get_maintainer.pl cannot use either, a line of System.map,
     vmlinux.map or a .cmd file)
For groundtruth, 3 and 4 concern the ground truth files too (4: not a
gt_plugin record).";

const EXTRACT_HELP: &str = "\
usage: ftrace_report extract CAPTURE -o DIR

Finds the frames of the console channel in CAPTURE (a serial console log, a
`tmux pipe-pane` capture, a `script` log; kernel messages in between, CRLF
line ends and terminal escapes do not matter), checks every frame's CRC-32
and every file's size and SHA-256, and writes each file to DIR/NAME, byte
for byte as the sender had it. Prints `NAME SIZE SHA256` per file. CAPTURE
`-` reads standard input. The frame format is in console_frames/README.md.

  -o, --output DIR   where to write the files (created if missing)
  -h, --help         this help";

const GROUNDTRUTH_HELP: &str = "\
usage: ftrace_report groundtruth [OPTIONS] TRACE GT

Compares the emulator's ground truth of a run (GT: gt_plugin's ID.gt, every
kernel function entry of the program's task in order) with the ftrace trace
of the same run (TRACE, the target's events from execve on), over the
trace's window (up to ftrace's last event). Prints whether they agree
(`# exact: yes`: every traced function in the ground truth with as many
hits, less the entries ftrace's pid filter drops after the sched_switch
tracepoint of each switch-out of the task, listed as `dropped`), each
function's hits per phase (exec, run, exit) and whether ftrace
shows it, the blind spots (functions ftrace never shows) with their class:
ftrace's own code, assembly, noinstr (.noinstr.text, .entry.text), file
built without the ftrace hook (no -fpatchable-function-entry/-pg in its
.cmd), and, with the guest's available_filter_functions beside TRACE,
notrace/inline (not in that list) or traceable but dropped; a name several
static functions share is classified per candidate. The rules are in
gt_plugin/README.md.

  --notrace GT         the ground truth of the same program run without a
                       tracer: adds the tracer's cost (what the traced run
                       executes more, per function)
  --kernel-build DIR   the traced kernel's build tree, to classify the blind
                       spots (default: the one `make trace` recorded beside
                       the trace; none: the blind spots are unclassified)
  -h, --help           this help";

fn command_help(cmd: &str) -> Option<String> {
    let (synopsis, what, extra) = match cmd {
        "extract" => return Some(format!("{EXTRACT_HELP}\n\n{EXIT_CODES}\n")),
        "groundtruth" => return Some(format!("{GROUNDTRUTH_HELP}\n\n{EXIT_CODES}\n")),
        "funcs" => (
            "ftrace_report funcs [OPTIONS] TRACE",
            "Prints the sorted (byte order) unique functions of the target, callees and\ncallers, one per line.",
            "",
        ),
        "summary" => (
            "ftrace_report summary [OPTIONS] TRACE",
            "Prints the target pid and how it was found, the tracer and input format,\nthe process tree task by task (pid, parent, names, events per phase,\nfunctions, time) when the target forked, the time span, events and unique\nfunctions per phase x context, lost-event information, a trace cut short\n(header mismatch), skipped lines and why, and the top functions by calls.\nThe filters select the functions counted at the end and the top list.",
            "  --json             JSON instead of text\n",
        ),
        "graph" => (
            "ftrace_report graph [OPTIONS] TRACE",
            "Prints the caller -> callee graph of the target: DOT with one\n`\"caller\" -> \"callee\";` line per edge (functions without a known caller\nor callee as `\"name\" [];`), or JSON with nodes, edges and call counts.",
            "  --format dot|json  output format (default: dot)\n",
        ),
        "footprint" => (
            "ftrace_report footprint [OPTIONS] TRACE",
            "Maps every function of the target to the object file it was linked from\n(by System.map address and vmlinux.map; a name that static functions of\nseveral files share is told apart by the addresses the trace printed\n(ftrace_it --sym-addr), else listed as ambiguous with every candidate), its\nsource files (kbuild's .cmd records), their MAINTAINERS sections\n(get_maintainer.pl's semantics, most specific first) and the Kconfig\nsymbols that build the objects or that their sources read. Prints the\nsubsystems, the kernel entry paths (functions reached along the trace's\ncall edges from execve, other system calls, user aborts, interrupts,\nexit), phase x context, source files, each function with its whole chain\n(object and build condition, files, sections), symbols, and the\nconfiguration view (the =y symbols and objects the trace touched, those\nit never touched: a fact about this trace, not a recommendation). Rows\nreached only through ambiguous names are marked \"(ambiguous)\", and kept\nout of what the configuration view calls touched. The index of the build tree is cached in it (.kernel_index.json).",
            "  --kernel-build DIR the traced kernel's build tree (make O=DIR), with its\n                     objects, System.map and vmlinux.map (CONFIG_VMLINUX_MAP)\n  --json             JSON instead of text\n  --study            instead, the ELISA study's tables (sections per root:\n                     execve, el0_ia, interrupts, and their union) next to\n                     ours, as Markdown, each difference with its reason\n                     (`?`: none known)\n  --groundtruth GT   map the functions of the emulator's ground truth of the\n                     same run (gt_plugin's ID.gt, over the trace's window)\n                     instead of ftrace's: blind spots included\n",
        ),
        "html" => (
            "ftrace_report html [OPTIONS] TRACE [B]",
            "Writes one self-contained HTML page (inline CSS, script and SVG; its\nContent-Security-Policy forbids any network access): the facts, phases x\ncontexts as a heat table, a timeline of the target's events, the footprint\nby subsystem and entry path (with the kernel build), the call graph (laid\nout by Graphviz's dot; the 600 most called functions of a larger graph;\nsearch box, execve subtree, page-fault path) and every function list.\nWith B: the diff page of TRACE (A) and B, what only one needs highlighted.",
            "  -o, --output FILE  write the page to FILE (default: standard output)\n  --kernel-build DIR the traced kernel's build tree, for the subsystems and\n                     entry paths (default: the one `make trace` recorded\n                     beside the trace, if any; without one they are left out)\n",
        ),
        "perfetto" => (
            "ftrace_report perfetto [OPTIONS] TRACE",
            "Prints the target's events as Trace Event JSON (open it in ui.perfetto.dev\nor chrome://tracing): one thread per task of the process tree;\nfunction_graph calls as complete events (X) that nest, function tracer\nevents as instant events (i) on their task's track and on their CPU's (a\nprocess \"CPUs\"), with their caller. Without the function_graph abstime\ncolumn the time axis is the calls' durations end to end (kernel time only).",
            "",
        ),
        "folded" => (
            "ftrace_report folded [OPTIONS] TRACE",
            "Prints folded stacks, `caller;...;function COUNT` per distinct stack, for\nflamegraph.pl, inferno-flamegraph or speedscope; the counts add up to the\nselected events. function_graph: the real call stacks; function: the\nchain of callers the trace shows (per task and context, a call whose\ncaller is on the chain cuts it there, any other starts a new chain).",
            "",
        ),
        "diff" => (
            "ftrace_report diff [OPTIONS] A B",
            "Compares the footprints of two traces (each with its own target, found\nas usual; --pid applies to both): functions and edges only in A, only\nin B, and in both.",
            "  --json             JSON instead of text\n  --exit-code        exit with 1 when the traces differ\n",
        ),
        _ => return None,
    };
    Some(format!(
        "usage: {synopsis}\n\n{what}\n\n{COMMON}\n{extra}\n{RULES}\n\n{EXIT_CODES}\n"
    ))
}

struct Args {
    cmd: String,
    files: Vec<String>,
    pid: Option<u32>,
    phases: Option<Vec<Phase>>,
    contexts: Option<Vec<Context>>,
    callers_only: bool,
    normalize: bool,
    json: bool,
    exit_code: bool,
    /// -o: extract's directory, html's file.
    output: Option<PathBuf>,
    kernel_build: Option<PathBuf>,
    study: bool,
    /// groundtruth --notrace; footprint --groundtruth.
    notrace: Option<String>,
    groundtruth: Option<String>,
}

enum Parsed {
    Run(Args),
    Print(String),
}

fn usage_err(msg: impl std::fmt::Display) -> (u8, String) {
    (
        EXIT_USAGE,
        format!("{msg}\nTry 'ftrace_report --help' or 'ftrace_report COMMAND --help'."),
    )
}

fn list<T: Copy>(
    v: &str,
    what: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
) -> Result<Vec<T>, (u8, String)> {
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

fn parse_args(args: Vec<OsString>) -> Result<Parsed, (u8, String)> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let cmd = match p.next().map_err(usage_err)? {
        Some(Value(v)) => v.string().map_err(usage_err)?,
        Some(Short('h') | Long("help")) => {
            return Ok(Parsed::Print(format!("{USAGE}\n\n{EXIT_CODES}\n")))
        }
        Some(Short('V') | Long("version")) => {
            return Ok(Parsed::Print(format!(
                "ftrace_report {}\n",
                env!("CARGO_PKG_VERSION")
            )))
        }
        Some(a) => return Err(usage_err(a.unexpected())),
        None => return Err(usage_err("missing command")),
    };
    if cmd == "help" {
        return Ok(Parsed::Print(match p.next().map_err(usage_err)? {
            Some(Value(v)) => {
                let c = v.string().map_err(usage_err)?;
                command_help(&c).ok_or_else(|| usage_err(format!("unknown command '{c}'")))?
            }
            _ => format!("{USAGE}\n\n{EXIT_CODES}\n"),
        }));
    }
    let Some(help) = command_help(&cmd) else {
        return Err(usage_err(format!("unknown command '{cmd}'")));
    };
    let mut a = Args {
        cmd: cmd.clone(),
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
    let filters = !matches!(cmd.as_str(), "extract" | "groundtruth");
    while let Some(arg) = p.next().map_err(usage_err)? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Print(help)),
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
            Long("json") if matches!(cmd.as_str(), "summary" | "diff" | "footprint") => {
                a.json = true
            }
            Long("study") if cmd == "footprint" => a.study = true,
            Long("kernel-build")
                if matches!(cmd.as_str(), "footprint" | "groundtruth" | "html") =>
            {
                a.kernel_build = Some(p.value().map_err(usage_err)?.into());
            }
            Long("notrace") if cmd == "groundtruth" => {
                a.notrace = Some(p.value().map_err(usage_err)?.string().map_err(usage_err)?);
            }
            Long("groundtruth") if cmd == "footprint" => {
                a.groundtruth = Some(p.value().map_err(usage_err)?.string().map_err(usage_err)?);
            }
            Long("exit-code") if cmd == "diff" => a.exit_code = true,
            Long("format") if cmd == "graph" => {
                let v = p.value().map_err(usage_err)?.string().map_err(usage_err)?;
                a.json = match v.as_str() {
                    "dot" => false,
                    "json" => true,
                    _ => return Err(usage_err(format!("--format: '{v}' is not dot or json"))),
                };
            }
            Short('o') | Long("output") if matches!(cmd.as_str(), "extract" | "html") => {
                a.output = Some(p.value().map_err(usage_err)?.into());
            }
            Value(v) => a.files.push(v.string().map_err(usage_err)?),
            other => return Err(usage_err(other.unexpected())),
        }
    }
    let (n, want) = match cmd.as_str() {
        "diff" => (2, "2 trace files"),
        "groundtruth" => (2, "a trace and a ground truth file"),
        "html" => (1, "1 or 2 trace files"),
        _ => (1, "1 trace file"),
    };
    if a.files.len() != n && !(cmd == "html" && a.files.len() == 2) {
        return Err(usage_err(format!(
            "{cmd} takes {want}, got {}",
            a.files.len()
        )));
    }
    if a.groundtruth.is_some() && (a.callers_only || a.normalize) {
        return Err(usage_err(
            "--groundtruth takes the ground truth's names as they are: no --callers-only or --normalize",
        ));
    }
    // System.map names functions as the trace does, suffixes included.
    if cmd == "footprint" && a.normalize {
        return Err(usage_err(
            "footprint looks functions up by their names as traced: no --normalize",
        ));
    }
    if matches!(cmd.as_str(), "perfetto" | "folded") && a.callers_only {
        return Err(usage_err(format!(
            "{cmd} exports every selected event: no --callers-only"
        )));
    }
    if cmd == "extract" && a.output.is_none() {
        return Err(usage_err("extract needs -o DIR"));
    }
    Ok(Parsed::Run(a))
}

/// The analysis of `file`; with `log`, every event kept (exports, html).
fn analyse(file: &str, pid: Option<u32>, log: bool) -> Result<Analysis, (u8, String)> {
    let mut an = Analysis::new(pid);
    if log {
        an = an.logging();
    }
    let mut input: Box<dyn Read> = if file == "-" {
        Box::new(io::stdin())
    } else {
        match File::open(file) {
            Ok(f) => Box::new(f),
            Err(e) => return Err((EXIT_READ, format!("{file}: cannot open: {e}"))),
        }
    };
    let read_err = |e: io::Error| (EXIT_READ, format!("{file}: read error: {e}"));
    // A trace.dat is told by its first bytes; text is streamed after them.
    let mut head = Vec::new();
    (&mut input)
        .take(trace_dat::MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    let dat = head == trace_dat::MAGIC;
    if dat {
        input.read_to_end(&mut head).map_err(read_err)?;
        an.read_trace_dat(&head).map_err(|e| {
            (
                EXIT_TRACE_DAT,
                format!(
                    "{file}: {e}: the file is truncated or damaged; record it again (or see what `trace-cmd report -i {file}` makes of it)"
                ),
            )
        })?;
    } else {
        match an.read(io::Cursor::new(head).chain(input)) {
            Ok(()) => {}
            Err(Error::Io(e)) => {
                return Err((
                    EXIT_READ,
                    format!("{file}: read error after line {}: {e}", an.lines),
                ))
            }
            Err(Error::Input { line, msg }) => {
                return Err((
                    EXIT_INPUT,
                    format!("{file}:{line}: {msg}; fix or remove that line"),
                ))
            }
        }
    }
    if an.events == 0 && dat {
        return Err((
            EXIT_INPUT,
            format!(
                "{file}: no function or function_graph event in the trace.dat's {} events; record with `trace-cmd record -p function` or `-p function_graph`",
                an.lines
            ),
        ));
    }
    if an.events == 0 {
        let skipped: Vec<String> = ftrace_report::parse::SKIPS
            .iter()
            .filter(|s| an.skipped[**s as usize] > 0)
            .map(|s| format!("{} {}", an.skipped[*s as usize], s.name()))
            .collect();
        return Err((
            EXIT_INPUT,
            format!(
                "{file}: no function or function_graph event in {} lines (skipped: {}); is this an ftrace text trace?",
                an.lines,
                if skipped.is_empty() { "none".into() } else { skipped.join(", ") }
            ),
        ));
    }
    Ok(an)
}

/// Checks that footprint commands have a target with events; warns about
/// losses and a target that never reaches execve.
fn require_target(an: &Analysis, file: &str, f: &Filter) -> Result<(), (u8, String)> {
    let Some((pid, _)) = an.target else {
        let tasks: Vec<String> = an
            .tasks()
            .iter()
            .take(5)
            .map(|t| {
                format!(
                    "{} ({}, {} events)",
                    t.pid,
                    String::from_utf8_lossy(&t.comm),
                    t.events
                )
            })
            .collect();
        return Err((
            EXIT_NO_TARGET,
            format!(
                "{file}: no target: no ftrace_it header and no task enters execve; pass --pid N (busiest tasks: {})",
                tasks.join(", ")
            ),
        ));
    };
    let events: u64 = an.acc.as_ref().map_or(0, |a| a.counts.iter().sum());
    if events == 0 {
        return Err((
            EXIT_NO_TARGET,
            format!("{file}: target pid {pid} has no event; check --pid or the header"),
        ));
    }
    let pre_exec = Selection::new(&[Phase::PreExec], &CONTEXTS).mask;
    if f.sel.mask & pre_exec == 0
        && an
            .acc
            .as_ref()
            .is_some_and(|a| a.phase_start[Phase::Exec as usize].is_none())
    {
        eprintln!(
            "ftrace_report: warning: {file}: pid {pid} never enters execve: all its events are pre-exec (use --phase pre-exec)"
        );
    }
    let lost = an.lost();
    if lost > 0 || an.lost_uncounted > 0 {
        let more = if an.lost_uncounted > 0 {
            " or more"
        } else {
            ""
        };
        eprintln!(
            "ftrace_report: warning: {file}: {lost}{more} events were lost: the result may be incomplete"
        );
    }
    Ok(())
}

/// Warns when a trace's events per CPU disagree with its header's counts;
/// true if so.
fn incomplete(an: &Analysis, file: &str) -> bool {
    let m = an.header_mismatch();
    if !m.is_empty() {
        eprintln!(
            "ftrace_report: warning: {file}: {}: the trace is cut short or damaged, the results are incomplete",
            report::mismatches(&m)
        );
    }
    !m.is_empty()
}

/// `extract`: the console channel's receiving end.
fn extract(capture: &str, out_dir: &std::path::Path) -> Result<Vec<u8>, (u8, String)> {
    let data = if capture == "-" {
        let mut data = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut data).map(|_| data)
    } else {
        std::fs::read(capture)
    }
    .map_err(|e| (EXIT_READ, format!("{capture}: cannot read: {e}")))?;
    let listing = |files: &[console_frames::ExtractedFile]| {
        let mut out = String::new();
        for f in files {
            out.push_str(&format!("{} {} {}\n", f.name, f.size, f.sha256));
        }
        out.into_bytes()
    };
    match console_frames::extract(&data, out_dir) {
        Ok(files) => Ok(listing(&files)),
        Err(ExtractError::NoFrames) => {
            Err((EXIT_INPUT, format!("{capture}: {}", ExtractError::NoFrames)))
        }
        Err(ExtractError::Incomplete {
            extracted,
            problems,
        }) => {
            write_out(&listing(&extracted))?;
            Err((
                EXIT_DAMAGED,
                format!(
                    "{capture}: {} damaged or incomplete: {}; capture the console again from before the transfer starts",
                    if problems.len() == 1 { "a file is".to_string() } else { format!("{} files are", problems.len()) },
                    problems.join("; ")
                ),
            ))
        }
        Err(e @ ExtractError::Io { .. }) => Err((EXIT_WRITE, e.to_string())),
    }
}

fn run(a: Args) -> Result<u8, (u8, String)> {
    if let (true, Some(dir)) = (a.cmd == "extract", &a.output) {
        write_out(&extract(&a.files[0], dir)?)?;
        return Ok(0);
    }
    let filter = Filter {
        sel: match (&a.phases, &a.contexts) {
            (None, None) => Selection::default_phases(),
            (p, c) => Selection::new(
                p.as_deref()
                    .unwrap_or(&[Phase::Exec, Phase::Run, Phase::Exit]),
                c.as_deref().unwrap_or(&CONTEXTS),
            ),
        },
        callers_only: a.callers_only,
        normalize: a.normalize,
    };
    let out: Vec<u8>;
    let mut status = 0;
    // A trace cut short: the output is still written.
    let mut cut = false;
    match a.cmd.as_str() {
        "summary" => {
            let an = analyse(&a.files[0], a.pid, false)?;
            cut |= incomplete(&an, &a.files[0]);
            let summary = report::Summary::new(&an, &a.files[0], &filter);
            out = if a.json {
                summary.json()
            } else {
                summary.text().into_bytes()
            };
        }
        "footprint" => {
            let file = &a.files[0];
            let an = analyse(file, a.pid, false)?;
            require_target(&an, file, &filter)?;
            cut |= incomplete(&an, file);
            let dir = match a.kernel_build.clone() {
                Some(d) => d,
                None => recorded_build(file).ok_or_else(|| {
                    usage_err(format!(
                        "{file}: which kernel build? pass --kernel-build DIR (no {} beside the trace)",
                        std::path::Path::new(file)
                            .with_file_name(ftrace_report::footprint::KERNEL_BUILD_FILE)
                            .display()
                    ))
                })?,
            };
            let index = kernel_index(&an, file, &dir)?;
            let map = match &a.groundtruth {
                None => ftrace_report::footprint::map(&an, &filter, &index, file),
                Some(gt) => {
                    let window = groundtruth_window(&an, file, record(gt)?)?;
                    ftrace_report::footprint::map_groundtruth(&an, &filter, &index, file, &window)
                }
            };
            out = if a.study {
                ftrace_report::study::table(&map).0.into_bytes()
            } else if a.json {
                let mut j = serde_json::to_vec(&map).expect("the map serialises");
                j.push(b'\n');
                j
            } else {
                ftrace_report::footprint::text(&map).into_bytes()
            };
        }
        "groundtruth" => {
            let (trace, mut gt) = (&a.files[0], record(&a.files[1])?);
            let notrace = a.notrace.as_deref().map(record).transpose()?;
            let an = analyse(trace, None, false)?;
            let build = match a.kernel_build.clone().or_else(|| recorded_build(trace)) {
                Some(dir) => {
                    let b = groundtruth::Build::new(kernel_index(&an, trace, &dir)?);
                    // The guest's list of what ftrace can trace, beside the trace.
                    let traceable =
                        std::path::Path::new(trace).with_file_name(guest_protocol::TRACEABLE_FILE);
                    Some(match std::fs::read_to_string(traceable) {
                        Ok(text) => b.with_traceable(&text),
                        Err(_) => b,
                    })
                }
                None => None,
            };
            let (ftrace, last) = ftrace_window(&an, trace, &mut gt)?;
            let (text, exact) = groundtruth::report(
                &gt,
                &ftrace,
                last.as_deref(),
                notrace.as_ref(),
                build.as_ref(),
            );
            out = text.into_bytes();
            if !exact {
                status = EXIT_DIFFERENT;
            }
        }
        "perfetto" | "folded" => {
            let an = analyse(&a.files[0], a.pid, true)?;
            require_target(&an, &a.files[0], &filter)?;
            cut |= incomplete(&an, &a.files[0]);
            out = if a.cmd == "perfetto" {
                ftrace_report::export::perfetto(&an, &filter)
            } else {
                ftrace_report::export::folded(&an, &filter)
            };
        }
        "html" => {
            let mut traced = Vec::new();
            for file in &a.files {
                let an = analyse(file, a.pid, a.files.len() == 1)?;
                require_target(&an, file, &filter)?;
                cut |= incomplete(&an, file);
                let map = page_map(&an, file, a.kernel_build.as_deref(), &filter)?;
                traced.push((an, map));
            }
            let t: Vec<ftrace_report::pages::Traced> = traced
                .iter()
                .zip(&a.files)
                .map(|((an, map), file)| ftrace_report::pages::Traced {
                    an,
                    file,
                    map: map.as_ref().map_err(String::clone),
                })
                .collect();
            let page = match &t[..] {
                [one] => ftrace_report::pages::page(one, &filter),
                [x, y] => ftrace_report::pages::diff_page(x, y, &filter),
                _ => unreachable!("html takes 1 or 2 traces"),
            };
            let html = report_pages::render(&page).map_err(|e| (EXIT_LAYOUT, e.to_string()))?;
            match &a.output {
                Some(path) => std::fs::write(path, html)
                    .map_err(|e| (EXIT_WRITE, format!("{}: {e}", path.display())))?,
                None => write_out(html.as_bytes())?,
            }
            return Ok(if cut { EXIT_INCOMPLETE } else { 0 });
        }
        "funcs" | "graph" => {
            let an = analyse(&a.files[0], a.pid, false)?;
            require_target(&an, &a.files[0], &filter)?;
            cut |= incomplete(&an, &a.files[0]);
            let fp = report::footprint(&an, &filter);
            out = match (a.cmd.as_str(), a.json) {
                ("funcs", _) => report::funcs_text(&fp),
                (_, false) => report::graph_dot(&fp),
                (_, true) => report::graph_json(&an, &fp, &filter),
            };
        }
        _ => {
            let (fa, fb) = (&a.files[0], &a.files[1]);
            let an_a = analyse(fa, a.pid, false)?;
            require_target(&an_a, fa, &filter)?;
            cut |= incomplete(&an_a, fa);
            let fp_a = report::footprint(&an_a, &filter);
            drop(an_a);
            let an_b = analyse(fb, a.pid, false)?;
            require_target(&an_b, fb, &filter)?;
            cut |= incomplete(&an_b, fb);
            let fp_b = report::footprint(&an_b, &filter);
            let d = report::diff(&fp_a, &fp_b);
            if a.exit_code
                && !(d.funcs[0].is_empty()
                    && d.funcs[1].is_empty()
                    && d.edges[0].is_empty()
                    && d.edges[1].is_empty())
            {
                status = EXIT_DIFFERENT;
            }
            out = if a.json {
                report::diff_json(&d, fa, fb)
            } else {
                report::diff_text(&d, fa, fb)
            };
        }
    }
    write_out(&out)?;
    Ok(if cut { EXIT_INCOMPLETE } else { status })
}

/// The footprint map for `html`: from `--kernel-build DIR` (an unusable
/// tree is an error), else from the tree `make trace` recorded beside the
/// trace (an unusable one is a warning: the page is made without it), else
/// why there is none.
fn page_map(
    an: &Analysis,
    file: &str,
    dir: Option<&std::path::Path>,
    filter: &Filter,
) -> Result<Result<ftrace_report::footprint::FootprintMap, String>, (u8, String)> {
    let index = match (dir, recorded_build(file)) {
        (Some(d), _) => kernel_index(an, file, d)?,
        (None, Some(d)) => match kernel_index(an, file, &d) {
            Ok(i) => i,
            Err((_, e)) => {
                eprintln!("ftrace_report: warning: {e}: the page has no subsystem view");
                return Ok(Err(format!("the recorded kernel build cannot be used: {e}")));
            }
        },
        (None, None) => {
            return Ok(Err(
                "no kernel build known: pass --kernel-build DIR for the footprint by subsystem and entry path".into(),
            ))
        }
    };
    Ok(Ok(ftrace_report::footprint::map(an, filter, &index, file)))
}

/// The kernel build tree `make trace` recorded beside a trace.
fn recorded_build(file: &str) -> Option<PathBuf> {
    let beside = std::path::Path::new(file)
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(ftrace_report::footprint::KERNEL_BUILD_FILE);
    std::fs::read_to_string(beside)
        .ok()
        .map(|text| PathBuf::from(text.trim_end()))
}

/// The index of the traced kernel's build tree, checked against the trace
/// header's kernel release and build.
fn kernel_index(
    an: &Analysis,
    file: &str,
    dir: &std::path::Path,
) -> Result<kernel_index::KernelIndex, (u8, String)> {
    let (index, cache) = kernel_index::KernelIndex::open(dir, &kernel_index::Cache::InBuildTree)
        .map_err(|e| (kernel_exit(&e), e.to_string()))?;
    if let kernel_index::CacheUse::NotWritten(e) = cache {
        eprintln!(
            "ftrace_report: warning: the index of {} is not cached: {e}",
            dir.display()
        );
    }
    if let Some(release) = an.header.get("kernel") {
        index
            .check_kernel(release, an.header.get("kernel_version"))
            .map_err(|e| (kernel_exit(&e), format!("{file}: {e}")))?;
    }
    Ok(index)
}

/// A gt_plugin record.
fn record(file: &str) -> Result<groundtruth::Record, (u8, String)> {
    let text = std::fs::read_to_string(file).map_err(|e| (EXIT_READ, format!("{file}: {e}")))?;
    groundtruth::parse(&text).map_err(|e| (EXIT_INPUT, format!("{file}: {e}")))
}

/// ftrace's events of the target per function and the function of the
/// trace's last event, which ends the ground truth's window.
type FtraceWindow = (std::collections::BTreeMap<String, u64>, Option<String>);

/// Also marks the entries of `gt` that ftrace's pid filter drops at the
/// task's switch-outs ([`groundtruth::mark_dropped`]).
fn ftrace_window(
    an: &Analysis,
    trace: &str,
    gt: &mut groundtruth::Record,
) -> Result<FtraceWindow, (u8, String)> {
    let ftrace = groundtruth::ftrace_counts(an);
    if ftrace.is_empty() {
        return Err((EXIT_NO_TARGET, format!("{trace}: no event of the target")));
    }
    let mut head = Vec::new();
    File::open(trace)
        .and_then(|f| f.take(trace_dat::MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|e| (EXIT_READ, format!("{trace}: {e}")))?;
    // A trace.dat has no text: its last call is the analysis'.
    if head == trace_dat::MAGIC {
        let last = an
            .last_call
            .map(|id| String::from_utf8_lossy(an.names.name(id)).into_owned());
        return Ok((ftrace, last));
    }
    let text = std::fs::read_to_string(trace).map_err(|e| (EXIT_READ, format!("{trace}: {e}")))?;
    if let Some((pid, _)) = an.target {
        groundtruth::mark_dropped(gt, &groundtruth::task_events(&text, pid), &ftrace);
    }
    Ok((
        ftrace,
        groundtruth::last_function(&text).map(str::to_string),
    ))
}

/// The ground truth over the trace's window, as `groundtruth` cuts it.
fn groundtruth_window(
    an: &Analysis,
    trace: &str,
    mut gt: groundtruth::Record,
) -> Result<groundtruth::Record, (u8, String)> {
    let (ftrace, last) = ftrace_window(an, trace, &mut gt)?;
    Ok(groundtruth::window(&gt, &ftrace, last.as_deref()))
}

fn write_out(b: &[u8]) -> Result<(), (u8, String)> {
    let mut o = io::stdout().lock();
    match o.write_all(b).and_then(|_| o.flush()) {
        Ok(()) => Ok(()),
        // A reader that has seen enough (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err((EXIT_WRITE, format!("standard output: {e}"))),
    }
}

fn main() -> ExitCode {
    let res = match parse_args(std::env::args_os().skip(1).collect()) {
        Ok(Parsed::Print(s)) => write_out(s.as_bytes()).map(|_| 0),
        Ok(Parsed::Run(a)) => run(a),
        Err(e) => Err(e),
    };
    match res {
        Ok(code) => ExitCode::from(code),
        Err((code, msg)) => {
            eprintln!("ftrace_report: {msg}");
            ExitCode::from(code)
        }
    }
}
