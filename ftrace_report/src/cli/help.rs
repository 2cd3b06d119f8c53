//! The help texts: `--help`, `help COMMAND` and each command's.

use super::Command;

/// `--help`, `help`.
pub fn top() -> String {
    format!("{USAGE}\n\n{EXIT_CODES}\n")
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

/// A command's help text.
pub fn command(cmd: Command) -> String {
    let (synopsis, what, extra) = match cmd {
        Command::Extract => return format!("{EXTRACT_HELP}\n\n{EXIT_CODES}\n"),
        Command::Groundtruth => return format!("{GROUNDTRUTH_HELP}\n\n{EXIT_CODES}\n"),
        Command::Funcs => (
            "ftrace_report funcs [OPTIONS] TRACE",
            "Prints the sorted (byte order) unique functions of the target, callees and\ncallers, one per line.",
            "",
        ),
        Command::Summary => (
            "ftrace_report summary [OPTIONS] TRACE",
            "Prints the target pid and how it was found, the tracer and input format,\nthe process tree task by task (pid, parent, names, events per phase,\nfunctions, time) when the target forked, the time span, events and unique\nfunctions per phase x context, lost-event information, a trace cut short\n(header mismatch), skipped lines and why, and the top functions by calls.\nThe filters select the functions counted at the end and the top list.",
            "  --json             JSON instead of text\n",
        ),
        Command::Graph => (
            "ftrace_report graph [OPTIONS] TRACE",
            "Prints the caller -> callee graph of the target: DOT with one\n`\"caller\" -> \"callee\";` line per edge (functions without a known caller\nor callee as `\"name\" [];`), or JSON with nodes, edges and call counts.",
            "  --format dot|json  output format (default: dot)\n",
        ),
        Command::Footprint => (
            "ftrace_report footprint [OPTIONS] TRACE",
            "Maps every function of the target to the object file it was linked from\n(by System.map address and vmlinux.map; a name that static functions of\nseveral files share is told apart by the addresses the trace printed\n(ftrace_it --sym-addr), else listed as ambiguous with every candidate), its\nsource files (kbuild's .cmd records), their MAINTAINERS sections\n(get_maintainer.pl's semantics, most specific first) and the Kconfig\nsymbols that build the objects or that their sources read. Prints the\nsubsystems, the kernel entry paths (functions reached along the trace's\ncall edges from execve, other system calls, user aborts, interrupts,\nexit), phase x context, source files, each function with its whole chain\n(object and build condition, files, sections), symbols, and the\nconfiguration view (the =y symbols and objects the trace touched, those\nit never touched: a fact about this trace, not a recommendation). Rows\nreached only through ambiguous names are marked \"(ambiguous)\", and kept\nout of what the configuration view calls touched. The index of the build tree is cached in it (.kernel_index.json).",
            "  --kernel-build DIR the traced kernel's build tree (make O=DIR), with its\n                     objects, System.map and vmlinux.map (CONFIG_VMLINUX_MAP)\n  --json             JSON instead of text\n  --study            instead, the ELISA study's tables (sections per root:\n                     execve, el0_ia, interrupts, and their union) next to\n                     ours, as Markdown, each difference with its reason\n                     (`?`: none known)\n  --groundtruth GT   map the functions of the emulator's ground truth of the\n                     same run (gt_plugin's ID.gt, over the trace's window)\n                     instead of ftrace's: blind spots included\n",
        ),
        Command::Html => (
            "ftrace_report html [OPTIONS] TRACE [B]",
            "Writes one self-contained HTML page (inline CSS, script and SVG; its\nContent-Security-Policy forbids any network access): the facts, phases x\ncontexts as a heat table, a timeline of the target's events, the footprint\nby subsystem and entry path (with the kernel build), the call graph (laid\nout by Graphviz's dot; the 600 most called functions of a larger graph;\nsearch box, execve subtree, page-fault path) and every function list.\nWith B: the diff page of TRACE (A) and B, what only one needs highlighted.",
            "  -o, --output FILE  write the page to FILE (default: standard output)\n  --kernel-build DIR the traced kernel's build tree, for the subsystems and\n                     entry paths (default: the one `make trace` recorded\n                     beside the trace, if any; without one they are left out)\n",
        ),
        Command::Perfetto => (
            "ftrace_report perfetto [OPTIONS] TRACE",
            "Prints the target's events as Trace Event JSON (open it in ui.perfetto.dev\nor chrome://tracing): one thread per task of the process tree;\nfunction_graph calls as complete events (X) that nest, function tracer\nevents as instant events (i) on their task's track and on their CPU's (a\nprocess \"CPUs\"), with their caller. Without the function_graph abstime\ncolumn the time axis is the calls' durations end to end (kernel time only).",
            "",
        ),
        Command::Folded => (
            "ftrace_report folded [OPTIONS] TRACE",
            "Prints folded stacks, `caller;...;function COUNT` per distinct stack, for\nflamegraph.pl, inferno-flamegraph or speedscope; the counts add up to the\nselected events. function_graph: the real call stacks; function: the\nchain of callers the trace shows (per task and context, a call whose\ncaller is on the chain cuts it there, any other starts a new chain).",
            "",
        ),
        Command::Diff => (
            "ftrace_report diff [OPTIONS] A B",
            "Compares the footprints of two traces (each with its own target, found\nas usual; --pid applies to both): functions and edges only in A, only\nin B, and in both.",
            "  --json             JSON instead of text\n  --exit-code        exit with 1 when the traces differ\n",
        ),
    };
    format!("usage: {synopsis}\n\n{what}\n\n{COMMON}\n{extra}\n{RULES}\n\n{EXIT_CODES}\n")
}
