//! `summary`: one model computed from the analysis, written as text or as
//! JSON (the same numbers; the text adds totals the JSON leaves to the
//! reader).

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::{json_line, lossy, target, Target};
use trace_analysis::analyze::{Acc, Analysis, CpuStat, Edge, EventCounts, Format, Mismatch, CELLS};
use trace_analysis::model::{cell, cell_bit, Context, Phase, Selection, CONTEXTS, PHASES};
use trace_analysis::names::NONE;
use trace_analysis::select::{display, footprint, footprint_of, Filter, Footprint, Name};
use trace_reader::SKIPS;

/// Functions in the top list.
const TOP: usize = 20;
/// Tasks listed in the text (the JSON lists all).
const TEXT_TASKS: usize = 10;

/// A time in nanoseconds, written in seconds with 6 decimals, as ftrace
/// prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Secs(pub u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        write!(
            f,
            "{}.{:06}",
            ns / 1_000_000_000,
            (ns % 1_000_000_000) / 1000
        )
    }
}

impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A JSON number with the digits as printed (a float would drop
        // trailing zeros).
        RawValue::from_string(self.to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// The CPUs of a header mismatch on one line.
pub fn mismatches(m: &[Mismatch]) -> String {
    let parts: Vec<String> = m.iter().map(Mismatch::to_string).collect();
    parts.join("; ")
}

/// `-` for a time that is not known.
fn opt_secs(v: Option<Secs>) -> String {
    v.map_or_else(|| "-".into(), |s| s.to_string())
}

/// Pairs written as a JSON object, in their order.
fn as_map<K: Serialize, V: Serialize, S: Serializer>(
    v: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, v)| (k, v)))
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetName {
    pub name: String,
    pub first_line: u64,
    pub events: u64,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Time {
    pub trace_first: Option<Secs>,
    pub trace_last: Option<Secs>,
    pub target_first: Option<Secs>,
    pub target_last: Option<Secs>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Task {
    pub pid: u32,
    pub name: String,
    pub events: u64,
}

/// One task of the target's process tree.
#[derive(Clone, Debug, Serialize)]
pub struct TreeTask {
    pub pid: u32,
    pub parent: Option<u32>,
    pub names: Vec<TargetName>,
    pub events: u64,
    /// Events per phase, all contexts.
    #[serde(serialize_with = "as_map")]
    pub phase_events: Vec<(&'static str, u64)>,
    /// In the selection.
    pub unique_functions: usize,
    pub first: Option<Secs>,
    pub last: Option<Secs>,
}

/// Events and unique functions of one phase x context cell (or a sum).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Cell {
    pub events: u64,
    pub unique_functions: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseRow {
    pub phase: &'static str,
    pub start_line: Option<u64>,
    pub start_time: Option<Secs>,
    pub unique_functions: usize,
    #[serde(serialize_with = "as_map")]
    pub contexts: Vec<(&'static str, Cell)>,
    /// All contexts of the phase.
    #[serde(skip)]
    pub events: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Lost {
    pub total: u64,
    pub header_lost_events: Option<u64>,
    pub lost_markers: u64,
    pub lost_marked_events: u64,
    /// Markers without a count (trace.dat pages whose count the kernel
    /// had no room to store); in JSON only when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub uncounted_markers: u64,
    pub cpus: Vec<CpuStat>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Skipped {
    pub lines: u64,
    pub first_line: u64,
    #[serde(skip)]
    pub why: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Calls {
    pub name: String,
    pub calls: u64,
}

/// Everything `summary` reports; the JSON keys are the field names.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub file: String,
    pub tracer: String,
    pub format: Format,
    #[serde(serialize_with = "as_map")]
    pub header: Vec<(String, String)>,
    pub target: Option<Target>,
    pub target_names: Vec<TargetName>,
    pub time: Time,
    pub lines: u64,
    pub structure_lines: u64,
    pub events: u64,
    pub target_events: u64,
    pub unattributed_events: u64,
    /// All tasks, most events first.
    pub tasks: Vec<Task>,
    /// The target's process tree task by task, when it has more than the
    /// target; the other numbers are the whole tree's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tree: Vec<TreeTask>,
    /// Empty without a target record.
    pub phases: Vec<PhaseRow>,
    /// Per context over all phases, and over everything: the text table's
    /// last row.
    #[serde(skip)]
    pub context_totals: Vec<Cell>,
    #[serde(skip)]
    pub total: Cell,
    pub selection: String,
    pub unique_functions: usize,
    pub edges: usize,
    pub callers_only: Vec<String>,
    pub lost: Lost,
    /// CPUs whose events in the file disagree with the header's counts.
    pub header_mismatch: Vec<Mismatch>,
    /// By reason, only the reasons that occurred.
    #[serde(serialize_with = "as_map")]
    pub skipped: Vec<(&'static str, Skipped)>,
    pub top_functions: Vec<Calls>,
}

/// Unique functions (callees and callers) per phase x context cell.
fn unique_per_cell(an: &Analysis, acc: &Acc, norm: bool) -> Vec<usize> {
    let mut sets: Vec<HashSet<Name>> = vec![HashSet::new(); CELLS];
    for (key, e) in &acc.edges {
        let Edge { caller, callee } = *key;
        for (i, &n) in e.cells.iter().enumerate() {
            if n > 0 {
                sets[i].insert(display(an, callee, norm));
                if caller != NONE {
                    sets[i].insert(display(an, caller, norm));
                }
            }
        }
    }
    sets.iter().map(|s| s.len()).collect()
}

fn names(acc: &Acc) -> Vec<TargetName> {
    acc.comms
        .iter()
        .map(|(name, first_line, events)| TargetName {
            name: lossy(name),
            first_line: *first_line,
            events: *events,
        })
        .collect()
}

fn tree(an: &Analysis, f: &Filter) -> Vec<TreeTask> {
    if an.tree.len() < 2 {
        return Vec::new();
    }
    an.tree
        .iter()
        .map(|t| TreeTask {
            pid: t.pid,
            parent: t.parent,
            names: names(t),
            events: t.counts.iter().sum(),
            phase_events: PHASES
                .iter()
                .map(|&p| {
                    (
                        p.name(),
                        CONTEXTS.iter().map(|&c| t.counts[cell(p, c)]).sum(),
                    )
                })
                .collect(),
            unique_functions: footprint_of(an, t, f).funcs.len(),
            first: t.first_ts.map(Secs),
            last: t.last_ts.map(Secs),
        })
        .collect()
}

fn unique_in(an: &Analysis, norm: bool, mask: u32) -> usize {
    let f = Filter {
        sel: Selection { mask },
        callers_only: false,
        normalize: norm,
    };
    footprint(an, &f).funcs.len()
}

fn phase_mask(p: Phase) -> u32 {
    CONTEXTS.iter().map(|&c| cell_bit(p, c)).sum()
}

fn context_mask(c: Context) -> u32 {
    PHASES.iter().map(|&p| cell_bit(p, c)).sum()
}

fn top_functions(fp: &Footprint) -> Vec<Calls> {
    let mut v: Vec<_> = fp.funcs.iter().map(|(n, &c)| (n, c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.truncate(TOP);
    v.into_iter()
        .map(|(n, calls)| Calls {
            name: lossy(n),
            calls,
        })
        .collect()
}

/// The phase x context table of the target.
fn phases(an: &Analysis, acc: &Acc, norm: bool) -> Vec<PhaseRow> {
    let uniq = unique_per_cell(an, acc, norm);
    PHASES
        .iter()
        .map(|&p| {
            let st = acc.phase_start[p as usize];
            PhaseRow {
                phase: p.name(),
                start_line: st.map(|s| s.line),
                start_time: st.and_then(|s| s.ts).map(Secs),
                unique_functions: unique_in(an, norm, phase_mask(p)),
                contexts: CONTEXTS
                    .iter()
                    .map(|&c| {
                        let i = cell(p, c);
                        (
                            c.name(),
                            Cell {
                                events: acc.counts[i],
                                unique_functions: uniq[i],
                            },
                        )
                    })
                    .collect(),
                events: CONTEXTS.iter().map(|&c| acc.counts[cell(p, c)]).sum(),
            }
        })
        .collect()
}

impl Summary {
    pub fn new(an: &Analysis, file: &str, f: &Filter) -> Summary {
        let acc = an.acc.as_ref();
        let target_events = acc.map_or(0, |a| a.counts.iter().sum());
        let fp = footprint(an, f);
        let (context_totals, total) = match acc {
            Some(acc) => (
                CONTEXTS
                    .iter()
                    .map(|&c| Cell {
                        events: PHASES.iter().map(|&p| acc.counts[cell(p, c)]).sum(),
                        unique_functions: unique_in(an, f.normalize, context_mask(c)),
                    })
                    .collect(),
                Cell {
                    events: target_events,
                    unique_functions: unique_in(an, f.normalize, u32::MAX >> (32 - CELLS)),
                },
            ),
            None => (
                Vec::new(),
                Cell {
                    events: 0,
                    unique_functions: 0,
                },
            ),
        };
        Summary {
            file: file.into(),
            tracer: an.tracer(),
            format: an.format,
            header: an.header.entries.clone(),
            target: target(an),
            target_names: acc.map_or_else(Vec::new, names),
            time: Time {
                trace_first: an.first_ts.map(Secs),
                trace_last: an.last_ts.map(Secs),
                target_first: acc.and_then(|a| a.first_ts).map(Secs),
                target_last: acc.and_then(|a| a.last_ts).map(Secs),
            },
            lines: an.lines,
            structure_lines: an.markers,
            events: an.events,
            target_events,
            unattributed_events: an.unattributed,
            tasks: an
                .tasks()
                .into_iter()
                .map(|t| Task {
                    pid: t.pid,
                    name: lossy(&t.comm),
                    events: t.events,
                })
                .collect(),
            tree: tree(an, f),
            phases: acc.map_or_else(Vec::new, |a| phases(an, a, f.normalize)),
            context_totals,
            total,
            selection: f.describe(),
            unique_functions: fp.funcs.len(),
            edges: fp.edges.len(),
            callers_only: fp.callers_only.iter().map(|n| lossy(n)).collect(),
            lost: Lost {
                total: an.lost(),
                header_lost_events: an.header.lost_events,
                lost_markers: an.lost_markers,
                lost_marked_events: an.lost_marked,
                uncounted_markers: an.lost_uncounted,
                cpus: an.header.cpus.clone(),
            },
            header_mismatch: an.header_mismatch(),
            skipped: SKIPS
                .iter()
                .filter(|&&sk| an.skipped[sk as usize] > 0)
                .map(|&sk| {
                    (
                        sk.name(),
                        Skipped {
                            lines: an.skipped[sk as usize],
                            first_line: an.first_skipped_line[sk as usize],
                            why: sk.describe(),
                        },
                    )
                })
                .collect(),
            top_functions: top_functions(&fp),
        }
    }

    /// One JSON object on one line.
    pub fn json(&self) -> Vec<u8> {
        json_line(self)
    }

    pub fn text(&self) -> String {
        let mut o = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_text(&mut o);
        o
    }

    fn write_text(&self, o: &mut String) -> fmt::Result {
        writeln!(o, "file: {}", self.file)?;
        writeln!(o, "tracer: {}", self.tracer)?;
        let fm = &self.format;
        if fm.function_lines > 0 {
            writeln!(
                o,
                "function lines: {} ({} with the irq-info flags column)",
                fm.function_lines, fm.function_flags
            )?;
        }
        if fm.function_no_parent > 0 {
            writeln!(
                o,
                "callers: unknown for {} of {} function events (no `<-parent`, e.g. `trace-cmd report` without `-O parent=1`): the functions only seen as callers are missing",
                fm.function_no_parent, fm.function_lines
            )?;
        }
        if fm.graph_lines > 0 {
            writeln!(
                o,
                "function_graph lines: {} ({} with the proc column, {} with abstime), irq markers: {}, context switches: {}",
                fm.graph_lines, fm.graph_proc, fm.graph_abstime, fm.graph_irq_markers, fm.graph_switches
            )?;
        }
        for (k, v) in &self.header {
            writeln!(o, "header {k}: {v}")?;
        }
        match &self.target {
            Some(t) => writeln!(o, "target: pid {} ({})", t.pid, t.source)?,
            None => writeln!(
                o,
                "target: none (no --pid, no ftrace_it header, no task enters execve)"
            )?,
        }
        for n in &self.target_names {
            writeln!(
                o,
                "target name: {} from line {}, {} events",
                n.name, n.first_line, n.events
            )?;
        }
        let t = &self.time;
        writeln!(
            o,
            "time: trace {} .. {} s, target {} .. {} s",
            opt_secs(t.trace_first),
            opt_secs(t.trace_last),
            opt_secs(t.target_first),
            opt_secs(t.target_last),
        )?;
        for p in &self.phases {
            match p.start_line {
                Some(line) => writeln!(
                    o,
                    "phase {:<8} starts at line {line} ({} s)",
                    p.phase,
                    opt_secs(p.start_time)
                )?,
                None => writeln!(o, "phase {:<8} not reached", p.phase)?,
            }
        }
        let skipped: u64 = self.skipped.iter().map(|(_, s)| s.lines).sum();
        writeln!(
            o,
            "lines: {} (events {}, structure {}, skipped {skipped})",
            self.lines, self.events, self.structure_lines
        )?;
        let counts = EventCounts::new(
            self.events,
            self.target_events,
            self.unattributed_events,
            !self.tree.is_empty(),
        );
        writeln!(o, "{counts}")?;
        let attributed = counts.attributed();
        writeln!(o, "tasks: {}", self.tasks.len())?;
        for t in self.tasks.iter().take(TEXT_TASKS) {
            writeln!(o, "  {:>7} {:<16} {:>9} events", t.pid, t.name, t.events)?;
        }
        if !self.tree.is_empty() {
            writeln!(
                o,
                "process tree: {} tasks (events pre-exec/exec/run/exit; unique functions in {})",
                self.tree.len(),
                self.selection
            )?;
        }
        for t in &self.tree {
            let parent = t.parent.map_or_else(|| "-".into(), |p| p.to_string());
            let phases: Vec<String> = t.phase_events.iter().map(|(_, n)| n.to_string()).collect();
            let names: Vec<&str> = t.names.iter().map(|n| n.name.as_str()).collect();
            writeln!(
                o,
                "  pid {} (parent {parent}): {} events ({}), {} functions, {} .. {} s, {}",
                t.pid,
                t.events,
                phases.join("/"),
                t.unique_functions,
                opt_secs(t.first),
                opt_secs(t.last),
                names.join(" -> ")
            )?;
        }
        if !self.phases.is_empty() {
            let c = |c: &Cell| format!("{} / {}", c.events, c.unique_functions);
            writeln!(
                o,
                "{attributed} events / unique functions per phase x context:"
            )?;
            write!(o, "  {:<9}", "")?;
            for ctx in CONTEXTS {
                write!(o, " {:>15}", ctx.name())?;
            }
            writeln!(o, " {:>15}", "all")?;
            for p in &self.phases {
                write!(o, "  {:<9}", p.phase)?;
                for (_, cell) in &p.contexts {
                    write!(o, " {:>15}", c(cell))?;
                }
                let all = Cell {
                    events: p.events,
                    unique_functions: p.unique_functions,
                };
                writeln!(o, " {:>15}", c(&all))?;
            }
            write!(o, "  {:<9}", "all")?;
            for cell in &self.context_totals {
                write!(o, " {:>15}", c(cell))?;
            }
            writeln!(o, " {:>15}", c(&self.total))?;
        }
        writeln!(
            o,
            "unique functions ({}): {}, seen only as callers: {}",
            self.selection,
            self.unique_functions,
            self.callers_only.len()
        )?;
        if !self.callers_only.is_empty() {
            writeln!(o, "callers only: {}", self.callers_only.join(" "))?;
        }
        writeln!(o, "edges: {}", self.edges)?;
        let l = &self.lost;
        writeln!(o, "lost events: {}", l.total)?;
        if let Some(n) = l.header_lost_events {
            writeln!(o, "  header lost_events: {n}")?;
        }
        for c in &l.cpus {
            writeln!(
                o,
                "  cpu{}: entries={} overrun={} commit_overrun={} dropped={}",
                c.cpu, c.entries, c.overrun, c.commit_overrun, c.dropped
            )?;
        }
        if l.lost_markers > 0 {
            writeln!(
                o,
                "  [LOST] markers: {} ({} events)",
                l.lost_markers, l.lost_marked_events
            )?;
            if l.uncounted_markers > 0 {
                writeln!(
                    o,
                    "  of them without a count (more events lost): {}",
                    l.uncounted_markers
                )?;
            }
        }
        if !self.header_mismatch.is_empty() {
            writeln!(
                o,
                "header mismatch: {}: the trace is cut short or damaged",
                mismatches(&self.header_mismatch)
            )?;
        }
        writeln!(o, "skipped lines: {skipped}")?;
        for (name, s) in &self.skipped {
            writeln!(
                o,
                "  {name:<17} {:>9} (first at line {}): {}",
                s.lines, s.first_line, s.why
            )?;
        }
        if fm.kmsg_spliced > 0 {
            writeln!(
                o,
                "kernel messages cut out of trace lines: {}",
                fm.kmsg_spliced
            )?;
        }
        writeln!(o, "top functions ({}), calls:", self.selection)?;
        for t in &self.top_functions {
            writeln!(o, "  {:>9} {}", t.calls, t.name)?;
        }
        Ok(())
    }
}
