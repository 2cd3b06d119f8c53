//! Streaming analysis: attribution by pid, phases, contexts, edges.
//! Memory grows with distinct functions, edges and tasks, not with events.

use std::io;

use crate::execve::EntryPath;
use crate::model::{self, Context, Phase, CONTEXTS, PHASES};
use crate::names::{Interner, NONE};
use rustc_hash::FxHashMap;
use trace_reader::text::{self, TextLine};
use trace_reader::{self as parse, Line, Skip, SKIPS};

mod addr;
mod dat;
mod file;
mod graph;
mod header;
mod log;
mod phase;
#[cfg(test)]
mod read_tests;
mod tree;

use addr::Addresses;
pub use file::{event_counts, EventCounts, ReadError, Source};
use graph::{CpuState, Frame};
use header::RingEvents;
pub use header::{CpuStat, Header, Mismatch};
use log::Now;
pub use log::{graph_duration, Kind, Logged};
use phase::Held;

/// Number of phase x context cells.
pub const CELLS: usize = PHASES.len() * CONTEXTS.len();

#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// A line that must be valid is not (the `ftrace_it` header).
    Input {
        line: u64,
        msg: String,
    },
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetSource {
    Option,
    Header,
    /// First task to enter `execve`, at this line.
    Execve {
        line: u64,
    },
}

impl TargetSource {
    pub fn describe(self) -> String {
        match self {
            TargetSource::Option => "--pid".into(),
            TargetSource::Header => "ftrace_it header".into(),
            TargetSource::Execve { line } => format!("first task to enter execve (line {line})"),
        }
    }
}

/// Where one phase of the target starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseStart {
    pub line: u64,
    pub ts: Option<u64>,
}

/// Event counts of one caller -> callee edge, per phase x context cell.
#[derive(Clone, Debug)]
pub struct EdgeStat {
    pub cells: [u64; CELLS],
}

impl EdgeStat {
    pub fn mask(&self) -> u32 {
        let mut m = 0;
        for (i, &c) in self.cells.iter().enumerate() {
            if c != 0 {
                m |= 1 << i;
            }
        }
        m
    }

    pub fn count(&self, mask: u32) -> u64 {
        self.cells
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, &c)| c)
            .sum()
    }
}

/// A caller -> callee edge of [`Acc::edges`], by name id (caller `NONE`
/// when unknown). Ordered by caller, then callee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub caller: u32,
    pub callee: u32,
}

impl std::hash::Hash for Edge {
    // As the `caller << 32 | callee` key it replaced: the maps keep their
    // order, and so does every output that walks one unsorted.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        ((u64::from(self.caller) << 32) | u64::from(self.callee)).hash(h)
    }
}

/// Everything recorded about one task.
#[derive(Clone, Debug)]
pub struct Acc {
    pub pid: u32,
    /// The task that forked it (`None` for the target).
    pub parent: Option<u32>,
    pub phase: Phase,
    /// Forked from a task of the tree and has not called execve yet: its
    /// events are `run` until an execve makes them its `pre-exec`.
    forked: bool,
    /// pre-exec: the events that may be on the execve's entry path.
    entry: EntryPath<Held>,
    /// exec phase: the way back to user mode has been seen.
    returned: bool,
    /// Key: [`edge_key`].
    pub edges: FxHashMap<Edge, EdgeStat>,
    pub counts: [u64; CELLS],
    pub phase_start: [Option<PhaseStart>; 4],
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
    /// Command names in the order they appear: (name, first line, events).
    pub comms: Vec<(Vec<u8>, u64, u64)>,
    /// The lines of the events moved from pre-exec to exec (the execve's
    /// entry path), and, for a forked task that called execve, the line
    /// before which its `run` events became pre-exec: the event log's
    /// phases are corrected with them.
    pub exec_lines: Vec<u64>,
    pub pre_exec_before: Option<u64>,
}

impl Acc {
    fn new(pid: u32) -> Acc {
        Acc {
            pid,
            parent: None,
            phase: Phase::PreExec,
            forked: false,
            entry: EntryPath::default(),
            returned: false,
            edges: FxHashMap::default(),
            counts: [0; CELLS],
            phase_start: [None; 4],
            first_ts: None,
            last_ts: None,
            comms: Vec::new(),
            exec_lines: Vec::new(),
            pre_exec_before: None,
        }
    }
}

/// Per task: events and the last command name (every task, target or not).
#[derive(Clone, Debug, Default)]
pub struct TaskInfo {
    pub pid: u32,
    pub events: u64,
    pub comm: Vec<u8>,
    /// `comm` with the column padding it had: compared on every event.
    comm_padded: Vec<u8>,
}

/// Which optional columns and markers the input had.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Format {
    pub function_lines: u64,
    pub function_flags: u64,
    pub graph_lines: u64,
    pub graph_proc: u64,
    pub graph_abstime: u64,
    pub graph_irq_markers: u64,
    pub graph_switches: u64,
    pub kmsg_spliced: u64,
    /// Function events that do not name their caller (`trace-cmd report`
    /// without `-O parent=1`); in JSON only when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub function_no_parent: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One event as the rules see it, whatever the input it was read from.
struct Event<'a> {
    /// `None`: a function_graph event of an unknown task.
    pid: Option<u32>,
    /// The command name with its column padding (empty: not printed).
    comm: &'a [u8],
    callee: u32,
    /// `NONE` when not known.
    caller: u32,
    ctx: Context,
    /// Nanoseconds (or counter ticks); `None` without a timestamp.
    ts: Option<u64>,
    /// function_graph: whether the call is at depth 0.
    top: Option<bool>,
}

pub struct Analysis {
    pub names: Interner,
    /// Per name, the addresses sym-addr printed (`addresses`).
    addresses: Addresses,
    pub header: Header,
    /// `# tracer: NAME`
    pub tracer_line: Option<String>,
    pub format: Format,
    pub lines: u64,
    pub events: u64,
    /// function_graph events whose task is not known.
    pub unattributed: u64,
    pub skipped: [u64; SKIPS.len()],
    pub first_skipped_line: [u64; SKIPS.len()],
    /// Lines with structure but no event: header, `# tracer:`, function_graph
    /// returns, context switches, irq markers, `[LOST]` markers.
    pub markers: u64,
    /// Sum of `[LOST N EVENTS]` markers, and how many there were.
    pub lost_marked: u64,
    pub lost_markers: u64,
    /// trace.dat pages whose events before them were lost, without a
    /// count (the kernel had no room on the page to store it).
    pub lost_uncounted: u64,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
    /// The callee of the last `function` event (any task): where a trace
    /// ends (`groundtruth` cuts the ground truth there).
    pub last_call: Option<u32>,
    pub target: Option<(u32, TargetSource)>,
    /// The attributed record (`None` until the target is known): while
    /// reading the target's, after `read` that of its whole process tree
    /// (README "Attribution").
    pub acc: Option<Acc>,
    /// After `read`: every task of the tree, the target first, then in fork
    /// order.
    pub tree: Vec<Acc>,
    tasks: Vec<TaskInfo>,
    ring_events: RingEvents,
    /// Every event of every task with a record, in order, when asked for
    /// (`logging`); the tree's are `tree_log`'s.
    pub log: Option<Vec<Logged>>,
    /// What reading needs and the results do not.
    state: State,
}

/// The reader's state: caches and the tasks' records before they are
/// attributed.
#[derive(Default)]
struct State {
    /// `func <-parent` text -> (callee, caller): one lookup per line.
    calls: FxHashMap<Box<[u8]>, (u32, u32)>,
    /// The tasks forked from the target, and their index.
    children: Vec<Acc>,
    child_index: FxHashMap<u32, usize>,
    /// Before the target is known: a record per task.
    pending: FxHashMap<u32, Acc>,
    task_index: FxHashMap<u32, usize>,
    last_task: Option<(u32, usize)>,
    cpus: FxHashMap<u32, CpuState>,
    stacks: FxHashMap<u64, Vec<Frame>>,
    now: Now,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn flag_context(flags: Option<&[u8]>) -> Context {
    match flags {
        Some(f) if f.len() >= 3 => Context::from_flag(f[2]),
        _ => Context::Unknown,
    }
}

impl Analysis {
    pub fn new(pid: Option<u32>) -> Analysis {
        Analysis {
            names: Interner::default(),
            addresses: Addresses::default(),
            header: Header::default(),
            tracer_line: None,
            format: Format::default(),
            lines: 0,
            events: 0,
            unattributed: 0,
            skipped: [0; SKIPS.len()],
            first_skipped_line: [0; SKIPS.len()],
            markers: 0,
            lost_marked: 0,
            lost_markers: 0,
            lost_uncounted: 0,
            first_ts: None,
            last_ts: None,
            last_call: None,
            target: pid.map(|p| (p, TargetSource::Option)),
            acc: pid.map(Acc::new),
            tree: Vec::new(),
            tasks: Vec::new(),
            ring_events: RingEvents::default(),
            log: None,
            state: State::default(),
        }
    }

    /// Keeps every event (`log`): memory then grows with the events.
    pub fn logging(mut self) -> Analysis {
        self.log = Some(Vec::new());
        self
    }

    /// The logged events of the target's process tree, in trace order,
    /// with the phases the rules gave them later (an event is logged with
    /// its task's phase at the time; the execve's entry path becomes exec
    /// when the execve is seen).
    pub fn tree_log(&self) -> Vec<Logged> {
        let tasks: Vec<&Acc> = match (self.tree.is_empty(), self.acc.as_ref()) {
            (false, _) => self.tree.iter().collect(),
            (true, Some(acc)) => vec![acc],
            (true, None) => Vec::new(),
        };
        let mut out = Vec::new();
        for e in self.log.iter().flatten() {
            let Some(t) = tasks.iter().find(|t| t.pid == e.pid) else {
                continue;
            };
            let mut e = *e;
            if e.phase == Phase::Run && t.pre_exec_before.is_some_and(|l| e.line < l) {
                e.phase = Phase::PreExec;
            }
            if e.phase == Phase::PreExec && e.kind != Kind::Exit && t.exec_lines.contains(&e.line) {
                e.phase = Phase::Exec;
            }
            out.push(e);
        }
        out
    }

    fn skip(&mut self, s: Skip) {
        let i = s as usize;
        if self.skipped[i] == 0 {
            self.first_skipped_line[i] = self.lines;
        }
        self.skipped[i] += 1;
    }

    /// Streams the text trace `r` line by line ([`trace_reader::text`]).
    pub fn read<R: io::Read>(&mut self, r: R) -> Result<(), Error> {
        let res = text::read(r, |l| self.text_line(l));
        self.finish_tree();
        res
    }

    fn text_line(&mut self, l: TextLine<'_>) -> Result<(), Error> {
        match l {
            TextLine::Func(f) => {
                self.lines += 1;
                self.func(f);
            }
            TextLine::Other(raw) => self.line(raw)?,
            TextLine::Overlong => {
                self.lines += 1;
                self.skip(Skip::Unparsable);
            }
            TextLine::Partial => {
                self.lines += 1;
                self.skip(Skip::PartialLine);
            }
        }
        Ok(())
    }

    /// One complete line (without `\n`).
    fn line(&mut self, raw: &[u8]) -> Result<(), Error> {
        self.lines += 1;
        match parse::parse_line_lazy(raw) {
            Line::Func(f) => self.func(f),
            Line::Graph(g) => self.graph(g, g.ts.and_then(parse::parse_ts), raw),
            Line::Switch { cpu, pid } => {
                self.markers += 1;
                self.switch(cpu, pid);
            }
            Line::IrqEnter { cpu } => {
                self.markers += 1;
                self.irq_marker(cpu, true);
            }
            Line::IrqExit { cpu } => {
                self.markers += 1;
                self.irq_marker(cpu, false);
            }
            Line::Header { key, value } => {
                self.markers += 1;
                self.header_entry(key, value)?;
            }
            Line::Tracer(t) => {
                self.markers += 1;
                self.tracer_line = Some(lossy(t));
            }
            Line::Lost { count, .. } => {
                self.markers += 1;
                self.lost_markers += 1;
                self.lost_marked = self.lost_marked.saturating_add(count);
            }
            Line::Skip(s) => self.skip(s),
        }
        Ok(())
    }

    /// A `function` tracer line (already counted).
    fn func(&mut self, f: parse::FuncLine<'_>) {
        // Any line with the task and CPU columns is one ring-buffer event,
        // a function call or not (trace_printk, `<stack trace>`).
        self.ring_events.add(f.cpu, 1);
        let (callee, caller) = match self.state.calls.get(f.text) {
            Some(&ids) => ids,
            None => match parse::parse_call(f.text) {
                Err(Skip::OtherEvent) if self.fork_line(f.text) => {
                    self.markers += 1;
                    return;
                }
                Err(s) => return self.skip(s),
                Ok(c) => {
                    let caller = match c.parent {
                        Some(p) => self.names.intern(p),
                        None => NONE,
                    };
                    let ids = (self.names.intern(c.func), caller);
                    // Once per distinct text, which holds the addresses.
                    self.addresses.add(ids.0, c.func_addr);
                    self.addresses.add(caller, c.parent_addr);
                    if c.kmsg {
                        // Not cached: each splice is a different text.
                        self.format.kmsg_spliced += 1;
                    } else {
                        self.state.calls.insert(f.text.into(), ids);
                    }
                    ids
                }
            },
        };
        self.call(&f, parse::parse_ts(f.ts), callee, caller);
    }

    /// A function call of a `function` tracer event (a line's or a
    /// trace.dat's), at `ts`.
    fn call(&mut self, f: &parse::FuncLine<'_>, ts: Option<u64>, callee: u32, caller: u32) {
        self.format.function_lines += 1;
        self.last_call = Some(callee);
        if caller == NONE {
            self.format.function_no_parent += 1;
        }
        if f.flags.is_some() {
            self.format.function_flags += 1;
        }
        self.state.now = Now {
            cpu: f.cpu,
            ..Now::default()
        };
        self.event(Event {
            pid: Some(f.pid),
            comm: f.comm_padded,
            callee,
            caller,
            ctx: flag_context(f.flags),
            ts,
            top: None,
        });
    }

    fn event(&mut self, e: Event<'_>) {
        self.events += 1;
        self.names.mark_callee(e.callee);
        if e.ts.is_some() {
            if self.first_ts.is_none() {
                self.first_ts = e.ts;
            }
            self.last_ts = e.ts;
        }
        let Some(pid) = e.pid else {
            self.unattributed += 1;
            return;
        };
        let renamed = self.task(pid, e.comm);
        let cf = self.names.class(e.callee);
        let cp = self.names.class(e.caller);
        let line = self.lines;
        let acc = match self.target {
            Some((t, _)) if t == pid => match self.acc.as_mut() {
                Some(a) => a,
                None => return,
            },
            Some(_) => match self.state.child_index.get(&pid) {
                Some(&i) => &mut self.state.children[i],
                None => return,
            },
            None => self
                .state
                .pending
                .entry(pid)
                .or_insert_with(|| Acc::new(pid)),
        };
        let key = Edge {
            caller: e.caller,
            callee: e.callee,
        };
        acc.step(cf, cp, e.top, || Held {
            key,
            ctx: e.ctx,
            at: PhaseStart { line, ts: e.ts },
        });
        record(acc, &e, renamed, key, line);
        if let Some(log) = self.log.as_mut() {
            log.push(Logged {
                ts: e.ts,
                line,
                dur: self.state.now.dur,
                pid,
                cpu: self.state.now.cpu,
                callee: e.callee,
                caller: e.caller,
                depth: self.state.now.depth,
                kind: self.state.now.kind,
                phase: acc.phase,
                ctx: e.ctx,
            });
        }
        if self.target.is_none() && acc.phase != Phase::PreExec {
            self.target = Some((pid, TargetSource::Execve { line }));
            self.acc = self.state.pending.remove(&pid);
            self.state.pending.clear();
        }
    }

    /// Counts the event; true when the task's name differs from its last one.
    fn task(&mut self, pid: u32, comm_padded: &[u8]) -> bool {
        let i = match self.state.last_task {
            Some((p, i)) if p == pid => i,
            _ => {
                let n = self.tasks.len();
                let i = *self.state.task_index.entry(pid).or_insert(n);
                if i == n {
                    self.tasks.push(TaskInfo {
                        pid,
                        ..TaskInfo::default()
                    });
                }
                self.state.last_task = Some((pid, i));
                i
            }
        };
        let t = &mut self.tasks[i];
        t.events += 1;
        if !comm_padded.is_empty() && t.comm_padded != comm_padded {
            t.comm_padded = comm_padded.to_vec();
            let comm = parse::trim_start(comm_padded);
            if t.comm != comm {
                t.comm = comm.to_vec();
                return true;
            }
        }
        false
    }

    /// Every task seen, most events first.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        let mut v = self.tasks.clone();
        v.sort_by(|a, b| b.events.cmp(&a.events).then(a.pid.cmp(&b.pid)));
        v
    }

    /// Events lost according to the header and the `[LOST]` markers.
    pub fn lost(&self) -> u64 {
        let hdr = self.header.lost_events.unwrap_or(0);
        let cpus: u64 = self
            .header
            .cpus
            .iter()
            .map(|c| c.overrun.saturating_add(c.dropped))
            .fold(0, u64::saturating_add);
        hdr.max(cpus).saturating_add(self.lost_marked)
    }

    pub fn tracer(&self) -> String {
        if let Some(t) = self.header.tracer.as_ref().or(self.tracer_line.as_ref()) {
            return t.clone();
        }
        if self.format.graph_lines > self.format.function_lines {
            "function_graph".into()
        } else if self.format.function_lines > 0 {
            "function".into()
        } else {
            "unknown".into()
        }
    }
}

/// Adds an event to its task's record.
fn record(acc: &mut Acc, e: &Event<'_>, renamed: bool, key: Edge, line: u64) {
    let phase = acc.phase;
    let cell = model::cell(phase, e.ctx);
    acc.counts[cell] += 1;
    if acc.phase_start[phase as usize].is_none() {
        acc.phase_start[phase as usize] = Some(PhaseStart { line, ts: e.ts });
    }
    if e.ts.is_some() {
        if acc.first_ts.is_none() {
            acc.first_ts = e.ts;
        }
        acc.last_ts = e.ts;
    }
    if !e.comm.is_empty() {
        match acc.comms.last_mut() {
            Some((_, _, n)) if !renamed => *n += 1,
            _ => acc
                .comms
                .push((parse::trim_start(e.comm).to_vec(), line, 1)),
        }
    }
    acc.edges
        .entry(key)
        .or_insert_with(|| EdgeStat { cells: [0; CELLS] })
        .cells[cell] += 1;
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub fn run(text: &str, pid: Option<u32>) -> Analysis {
        let mut a = Analysis::new(pid);
        a.read(io::Cursor::new(text.as_bytes().to_vec())).unwrap();
        a
    }

    pub fn phase_of(a: &Analysis, callee: &str) -> Vec<Phase> {
        let acc = a.acc.as_ref().unwrap();
        let mut v = Vec::new();
        for (k, e) in &acc.edges {
            if a.names.name(k.callee) == callee.as_bytes() {
                for p in PHASES {
                    let m: u32 = (0..CONTEXTS.len())
                        .map(|c| 1 << (p as usize * CONTEXTS.len() + c))
                        .sum();
                    if e.mask() & m != 0 {
                        v.push(p);
                    }
                }
            }
        }
        v.sort();
        v.dedup();
        v
    }

    pub const X86: &str = "\
 launcher-10 [001] ..... 1.000001: sched_setaffinity <-__x64_sys_sched_setaffinity
 other-11 [000] ..... 1.000002: __x64_sys_execve <-do_syscall_64
 launcher-10 [001] ..... 1.000003: __x64_sys_execve <-do_syscall_64
 launcher-10 [001] ..... 1.000004: getname <-__x64_sys_execve
 min-10 [001] ..... 1.000005: syscall_exit_to_user_mode_prepare <-syscall_exit_to_user_mode
 min-10 [001] d.... 1.000006: switch_fpu_return <-exit_to_user_mode_prepare
 min-10 [001] ..... 1.000007: lock_mm_and_find_vma <-do_user_addr_fault
 min-10 [001] d.h.. 1.000008: hrtimer_interrupt <-__sysvec_apic_timer_interrupt
 min-10 [001] ..s.. 1.000009: run_timer_softirq <-__do_softirq
 min-10 [001] d.... 1.000010: get_signal <-arch_do_signal_or_restart
 min-10 [001] d.... 1.000011: do_group_exit <-get_signal
";

    #[test]
    fn target_is_first_task_entering_execve() {
        let a = run(X86, None);
        assert_eq!(a.target, Some((11, TargetSource::Execve { line: 2 })));
        let b = run(
            &X86.replace(
                " other-11 [000] ..... 1.000002: __x64_sys_execve <-do_syscall_64\n",
                "",
            ),
            None,
        );
        assert_eq!(b.target.map(|t| t.0), Some(10));
        // The launcher's event before execve is kept as pre-exec.
        assert_eq!(phase_of(&b, "sched_setaffinity"), vec![Phase::PreExec]);
    }

    #[test]
    fn pid_option_and_header_win() {
        let a = run(X86, Some(10));
        assert_eq!(a.target, Some((10, TargetSource::Option)));
        let h = format!("# ftrace_it.version: 1\n# ftrace_it.pid: 10\n{X86}");
        let a = run(&h, None);
        assert_eq!(a.target, Some((10, TargetSource::Header)));
        assert_eq!(a.header.pid, Some(10));
    }

    #[test]
    fn execve_found_from_the_caller_and_function_tracer_without_flags() {
        // Tracing began inside execve: only its callees are seen.
        let t = "\
 launcher-8 [000] 2.0: schedule <-do_nanosleep
 min-9 [001] 2.1: getname <-__x64_sys_execve
";
        let a = run(t, None);
        assert_eq!(a.target, Some((9, TargetSource::Execve { line: 2 })));
        let acc = a.acc.as_ref().unwrap();
        let cell = Phase::Exec as usize * CONTEXTS.len() + Context::Unknown as usize;
        assert_eq!(acc.counts[cell], 1);
    }

    #[test]
    fn partial_last_line_and_overlong_lines() {
        let a = run(
            " a-1 [000] ..... 1.0: foo <-bar\n a-1 [000] ..... 1.1: fo",
            None,
        );
        assert_eq!(a.events, 1);
        assert_eq!(a.skipped[Skip::PartialLine as usize], 1);
        let mut long = vec![b'x'; 3 * trace_reader::text::MAX_LINE];
        long.extend_from_slice(b"\n a-1 [000] ..... 1.0: foo <-bar\n");
        let mut a = Analysis::new(None);
        a.read(io::Cursor::new(long)).unwrap();
        assert_eq!(a.events, 1);
        assert_eq!(a.lines, 2);
        assert_eq!(a.skipped[Skip::Unparsable as usize], 1);
    }
}
