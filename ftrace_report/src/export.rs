//! Exports for the viewers people already use: Trace Event JSON (Perfetto
//! UI, `chrome://tracing`) and folded stacks (flamegraph.pl, inferno,
//! speedscope).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use trace_analysis::analyze::{Analysis, Kind, Logged};
use trace_analysis::model::cell_bit;
use trace_analysis::names::{normalize, NONE};
use trace_analysis::select::Filter;

/// One call of the target's tree placed on a time axis.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// Index of the call in the tree's log.
    pub at: usize,
    pub start: u64,
    /// 0 for a function tracer event (no duration is known).
    pub dur: u64,
}

/// The calls of `log` with their time and duration. function_graph without
/// the abstime column has no time: the axis is then the sum of the
/// durations (a leaf moves it by its duration, a return to its call's
/// end), i.e. kernel time only, user-mode time left out.
pub fn spans(log: &[Logged]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut clock = 0u64;
    // Per task: the open calls as (depth, index in `out`).
    let mut open: BTreeMap<u32, Vec<(u32, usize)>> = BTreeMap::new();
    for (i, e) in log.iter().enumerate() {
        if let Some(ts) = e.ts {
            clock = clock.max(ts);
        }
        let start = e.ts.unwrap_or(clock);
        let stack = open.entry(e.pid).or_default();
        match e.kind {
            Kind::Call => out.push(Span {
                at: i,
                start,
                dur: 0,
            }),
            Kind::Leaf => {
                let dur = e.dur.unwrap_or(0);
                close_deeper(stack, e.depth, &mut out, start);
                out.push(Span { at: i, start, dur });
                if e.ts.is_none() {
                    clock += dur;
                }
            }
            Kind::Entry => {
                close_deeper(stack, e.depth, &mut out, start);
                stack.push((e.depth, out.len()));
                out.push(Span {
                    at: i,
                    start,
                    dur: 0,
                });
            }
            Kind::Exit => {
                close_deeper(stack, e.depth + 1, &mut out, clock);
                if let Some(&(d, j)) = stack.last() {
                    if d == e.depth {
                        stack.pop();
                        let s = &mut out[j];
                        let end = match e.dur {
                            Some(dur) => s.start + dur,
                            None => clock,
                        };
                        s.dur = end.max(clock) - s.start;
                        if e.ts.is_none() {
                            clock = clock.max(end);
                        }
                    }
                }
            }
        }
    }
    for stack in open.values_mut() {
        close_deeper(stack, 0, &mut out, clock);
    }
    out
}

/// Calls at `depth` or deeper whose return was never seen (lost, or the
/// trace ended): they end at `end`.
fn close_deeper(stack: &mut Vec<(u32, usize)>, depth: u32, out: &mut [Span], end: u64) {
    while let Some(&(d, j)) = stack.last() {
        if d < depth {
            break;
        }
        stack.pop();
        out[j].dur = end.saturating_sub(out[j].start);
    }
}

fn selected(e: &Logged, f: &Filter) -> bool {
    f.sel.mask & cell_bit(e.phase, e.ctx) != 0
}

fn name(an: &Analysis, id: u32, f: &Filter) -> String {
    let n = an.names.name(id);
    String::from_utf8_lossy(if f.normalize { normalize(n) } else { n }).into_owned()
}

/// The name of each task of the tree (its last command name).
fn task_names(an: &Analysis) -> BTreeMap<u32, String> {
    an.tree
        .iter()
        .map(|t| {
            let comm = t.comms.last().map_or_else(
                || "?".into(),
                |c| String::from_utf8_lossy(&c.0).into_owned(),
            );
            (t.pid, comm)
        })
        .collect()
}

#[derive(Serialize)]
struct TraceEvent {
    name: String,
    cat: String,
    ph: &'static str,
    /// Microseconds, the format's unit.
    ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    /// Instant events: scoped to their thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    pid: u32,
    tid: u32,
    args: serde_json::Value,
}

/// The process that holds the CPU tracks of a function trace: above
/// Linux's largest pid_max (2^22), so no task of the trace has it.
pub const CPUS_PID: u32 = (1 << 22) + 1;

/// `perfetto`: the Trace Event format's JSON object. One process (the
/// target's pid) with one thread per task of the tree; function_graph
/// calls are complete events (`X`) that nest by time, function tracer
/// events instants (`i`) twice: on their task's track and on their CPU's
/// (process `CPUS_PID`, thread `CPUS_PID + 1 + CPU`), with their CPU,
/// task and caller.
pub fn perfetto(an: &Analysis, f: &Filter) -> Vec<u8> {
    let log = an.tree_log();
    let pid = an.target.map_or(0, |t| t.0);
    let names = task_names(an);
    let mut events = Vec::new();
    let meta = |what: &'static str, pid: u32, tid: u32, value: String| TraceEvent {
        name: what.into(),
        cat: "__metadata".into(),
        ph: "M",
        ts: 0.0,
        dur: None,
        s: None,
        pid,
        tid,
        args: json!({ "name": value }),
    };
    let program = names.get(&pid).cloned().unwrap_or_else(|| "target".into());
    events.push(meta(
        "process_name",
        pid,
        pid,
        format!("{program} (pid {pid})"),
    ));
    for (&tid, comm) in &names {
        events.push(meta("thread_name", pid, tid, format!("{comm}-{tid}")));
    }
    let cpus: BTreeSet<u32> = log
        .iter()
        .filter(|e| e.kind == Kind::Call)
        .map(|e| e.cpu)
        .collect();
    if !cpus.is_empty() {
        events.push(meta("process_name", CPUS_PID, CPUS_PID, "CPUs".into()));
    }
    for &cpu in &cpus {
        events.push(meta(
            "thread_name",
            CPUS_PID,
            CPUS_PID + 1 + cpu,
            format!("CPU {cpu}"),
        ));
    }
    for s in spans(&log) {
        let e = &log[s.at];
        if !selected(e, f) {
            continue;
        }
        let mut args = json!({
            "cpu": e.cpu,
            "task": e.pid,
            "phase": e.phase.name(),
            "context": e.ctx.name(),
        });
        if e.caller != NONE {
            args["caller"] = name(an, e.caller, f).into();
        }
        let call = e.kind == Kind::Call;
        let event = TraceEvent {
            name: name(an, e.callee, f),
            cat: format!("{},{}", e.phase.name(), e.ctx.name()),
            ph: if call { "i" } else { "X" },
            ts: s.start as f64 / 1000.0,
            dur: (!call).then_some(s.dur as f64 / 1000.0),
            s: call.then_some("t"),
            pid,
            tid: e.pid,
            args,
        };
        if call {
            events.push(TraceEvent {
                pid: CPUS_PID,
                tid: CPUS_PID + 1 + e.cpu,
                name: event.name.clone(),
                cat: event.cat.clone(),
                args: event.args.clone(),
                ..event
            });
        }
        events.push(event);
    }
    let mut out = serde_json::to_vec(&json!({
        "traceEvents": events,
        "displayTimeUnit": "ns",
        "otherData": { "tracer": an.tracer(), "selection": f.describe() },
    }))
    .expect("trace events serialise");
    out.push(b'\n');
    out
}

/// `folded`: `frame;frame;function COUNT` lines, sorted, one per distinct
/// stack; the counts add up to the selected events. function_graph gives
/// the real stack of each call; the function tracer the chain of callers
/// the trace shows: per task and context, a call whose caller is on the
/// chain cuts it there, any other starts a new one at its caller.
pub fn folded(an: &Analysis, f: &Filter) -> Vec<u8> {
    let log = an.tree_log();
    let mut stacks: BTreeMap<String, u64> = BTreeMap::new();
    let mut chains: BTreeMap<(u32, u8), Vec<u32>> = BTreeMap::new();
    for e in &log {
        let chain = chains.entry((e.pid, e.ctx as u8)).or_default();
        match e.kind {
            Kind::Exit => {
                chain.truncate(e.depth as usize);
                continue;
            }
            Kind::Entry | Kind::Leaf => {
                chain.truncate(e.depth as usize);
                while chain.len() < e.depth as usize {
                    chain.push(NONE);
                }
            }
            Kind::Call => match chain.iter().rposition(|&c| c == e.caller) {
                Some(i) if e.caller != NONE => chain.truncate(i + 1),
                _ => {
                    chain.clear();
                    if e.caller != NONE {
                        chain.push(e.caller);
                    }
                }
            },
        }
        if selected(e, f) {
            let mut line = String::new();
            for &id in chain.iter() {
                line.push_str(&frame(an, id, f));
                line.push(';');
            }
            line.push_str(&frame(an, e.callee, f));
            *stacks.entry(line).or_insert(0) += 1;
        }
        if e.kind != Kind::Leaf {
            chain.push(e.callee);
        }
    }
    let mut out = String::new();
    for (stack, n) in stacks {
        out.push_str(&format!("{stack} {n}\n"));
    }
    out.into_bytes()
}

/// A frame's name; `;` and spaces would split the folded line.
fn frame(an: &Analysis, id: u32, f: &Filter) -> String {
    if id == NONE {
        return "[unknown]".into();
    }
    name(an, id, f).replace([';', ' '], "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_analysis::model::{Selection, CONTEXTS, PHASES};

    fn analysis(text: &str) -> Analysis {
        let mut a = Analysis::new(None).logging();
        a.read(std::io::Cursor::new(text.as_bytes().to_vec()))
            .unwrap();
        a
    }

    fn all() -> Filter {
        Filter {
            sel: Selection::new(&PHASES, &CONTEXTS),
            callers_only: false,
            normalize: false,
        }
    }

    #[test]
    fn normalize_names_the_frames_without_suffixes() {
        let an = analysis(&GRAPH.replace("do_execveat_common", "do_execveat_common.isra.0"));
        let f = Filter {
            normalize: true,
            ..all()
        };
        let folded = String::from_utf8(folded(&an, &f)).unwrap();
        assert!(folded.contains("__arm64_sys_execve;do_execveat_common;alloc_bprm 1\n"));
        let raw = String::from_utf8(super::folded(&an, &all())).unwrap();
        assert!(raw.contains(";do_execveat_common.isra.0;"));
    }

    const GRAPH: &str = "\
# ftrace_it.pid: 7
 1)   min-7    |               |  __arm64_sys_execve() {
 1)   min-7    |               |    do_execveat_common() {
 1)   min-7    |   0.100 us    |      alloc_bprm();
 1)   min-7    |   2.000 us    |    }
 1)   min-7    |   3.000 us    |  }
 1)   min-7    |   0.500 us    |  exit_to_user_mode_prepare();
";

    #[test]
    fn graph_spans_nest_without_timestamps() {
        let an = analysis(GRAPH);
        let log = an.tree_log();
        let s = spans(&log);
        let got: Vec<(u64, u64)> = s.iter().map(|s| (s.start, s.dur)).collect();
        assert_eq!(got, [(0, 3000), (0, 2000), (0, 100), (3000, 500)]);
        let folded = String::from_utf8(folded(&an, &all())).unwrap();
        assert_eq!(
            folded,
            "__arm64_sys_execve 1\n__arm64_sys_execve;do_execveat_common 1\n\
             __arm64_sys_execve;do_execveat_common;alloc_bprm 1\nexit_to_user_mode_prepare 1\n"
        );
    }

    #[test]
    fn perfetto_events_have_the_required_fields() {
        let an = analysis(GRAPH);
        let j: serde_json::Value = serde_json::from_slice(&perfetto(&an, &all())).unwrap();
        let ev = j["traceEvents"].as_array().unwrap();
        for e in ev {
            for k in ["name", "ph", "ts", "pid", "tid"] {
                assert!(!e[k].is_null(), "{k} missing in {e}");
            }
        }
        let x: Vec<_> = ev.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(x.len(), 4);
        assert_eq!(x[0]["name"], "__arm64_sys_execve");
        assert_eq!(x[0]["dur"], 3.0);
        assert!(ev
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "min-7"));
    }

    #[test]
    fn function_chains_follow_the_callers() {
        let t = "\
# ftrace_it.pid: 3
 m-3 [001] ..... 1.000001: do_el0_svc <-el0_svc
 m-3 [001] ..... 1.000002: invoke_syscall <-do_el0_svc
 m-3 [001] ..... 1.000003: __arm64_sys_execve <-invoke_syscall
 m-3 [001] d.h.. 1.000004: tick <-irq
 m-3 [001] ..... 1.000005: getname <-__arm64_sys_execve
 m-3 [001] ..... 1.000006: other <-do_el0_svc
";
        let an = analysis(t);
        let folded = String::from_utf8(folded(&an, &all())).unwrap();
        assert_eq!(
            folded,
            "el0_svc;do_el0_svc 1\nel0_svc;do_el0_svc;invoke_syscall 1\n\
             el0_svc;do_el0_svc;invoke_syscall;__arm64_sys_execve 1\n\
             el0_svc;do_el0_svc;invoke_syscall;__arm64_sys_execve;getname 1\n\
             el0_svc;do_el0_svc;other 1\nirq;tick 1\n"
        );
        let j: serde_json::Value = serde_json::from_slice(&perfetto(&an, &all())).unwrap();
        let i: Vec<_> = j["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "i" && e["pid"] == 3)
            .collect();
        assert_eq!(i.len(), 6);
        let on_cpu: Vec<_> = j["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "i" && e["pid"] == CPUS_PID)
            .collect();
        assert_eq!(on_cpu.len(), 6);
        assert!(on_cpu.iter().all(|e| e["tid"] == CPUS_PID + 2));
        assert_eq!(on_cpu[3]["name"], "tick");
        assert!(j["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "CPU 1"));
        assert_eq!(i[3]["cat"], "exec,hardirq");
        assert_eq!(i[3]["args"]["caller"], "irq");
        assert_eq!(i[0]["ts"], 1000001.0);
    }
}
