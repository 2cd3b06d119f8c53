//! `html`: the analysis as `report_pages` data, for one trace or the diff
//! of two. The numbers are the ones `summary --json` and `graph --format
//! json` print, under the same filter.

use guest_protocol::header;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use report_pages::{
    Bar, Bars, Edge, Fact, Graph, Heat, List, Node, Page, Row, Series, Side, Timeline,
};

use crate::export::spans;
use crate::report::{self, Summary};
use kernel_footprint::FootprintMap;
use trace_analysis::analyze::Analysis;
use trace_analysis::model::{CONTEXTS, PHASES};
use trace_analysis::names::normalize;
use trace_analysis::select::{self, Diff, Filter, Footprint, Name};

/// Graph nodes drawn: the most called past this (`dot` takes about a second
/// for 600 nodes; a 1-second `min` trace has about 530).
pub const TOP_NODES: usize = 600;
/// Timeline bins: the events are counted per bin, never drawn one by one.
pub const TIMELINE_BINS: usize = 400;

/// Where the page-fault handling starts (arm64, x86_64, generic).
const FAULT_ROOTS: &[&str] = &[
    "do_mem_abort",
    "do_translation_fault",
    "do_page_fault",
    "exc_page_fault",
    "do_user_addr_fault",
    "handle_mm_fault",
];

/// One trace with what the page shows of it.
pub struct Traced<'a> {
    pub an: &'a Analysis,
    pub file: &'a str,
    /// The footprint map, or why there is none.
    pub map: Result<&'a FootprintMap, String>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fact(id: &str, label: &str, value: impl ToString) -> Fact {
    Fact {
        id: id.into(),
        label: label.into(),
        values: vec![value.to_string()],
    }
}

/// The facts table of one trace.
fn facts(t: &Traced, s: &Summary) -> Vec<Fact> {
    let an = t.an;
    let or = |v: Option<&str>| v.unwrap_or("-").to_string();
    let program = an
        .header
        .get(header::COMMAND)
        .map(str::to_string)
        .or_else(|| s.target_names.last().map(|n| n.name.clone()));
    let cpus = match (
        an.header.get(header::CPU),
        an.header.get(header::CPUS_ONLINE),
    ) {
        (Some(cpu), online) => format!("traced on CPU {cpu} (online: {})", or(online)),
        (None, online) => or(online),
    };
    let irq = match (
        an.header.get(header::IRQ_ROUTING),
        an.header.get(header::IRQS_MOVED),
    ) {
        (None, _) => "-".into(),
        (Some(r), moved) => format!("{r} ({} IRQs moved)", or(moved)),
    };
    let duration = match (s.time.target_first, s.time.target_last) {
        (Some(a), Some(b)) => format!("{} s", report::Secs(b.0.saturating_sub(a.0))),
        _ => "-".into(),
    };
    let rows = [
        ("file", "trace file", t.file.to_string()),
        ("program", "program", or(program.as_deref())),
        (
            "target",
            "target pid",
            s.target
                .as_ref()
                .map_or("-".into(), |t| format!("{} ({})", t.pid, t.source)),
        ),
        ("kernel", "kernel", or(an.header.get(header::KERNEL))),
        ("tracer", "tracer", s.tracer.clone()),
        ("cpus", "CPUs", cpus),
        ("irq-routing", "IRQ routing", irq),
        ("duration", "target's time span", duration),
        ("events", "events in the trace", s.events.to_string()),
        (
            "target-events",
            "events of the target",
            s.target_events.to_string(),
        ),
        (
            "unique-functions",
            "unique functions",
            s.unique_functions.to_string(),
        ),
        ("edges", "caller -> callee edges", s.edges.to_string()),
        ("lost", "lost events", s.lost.total.to_string()),
        ("exit", "exit status", or(an.header.get(header::EXIT))),
        ("selection", "selection", s.selection.clone()),
    ];
    rows.into_iter().map(|(id, l, v)| fact(id, l, v)).collect()
}

/// A trace's name on a page: its file name.
fn short(file: &str) -> String {
    std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The phase x context table of `summary`; `id` and `title` name it on a
/// diff page.
fn heat(s: &Summary, id: &str, title: String) -> Option<Heat> {
    if s.phases.is_empty() {
        return None;
    }
    Some(Heat {
        id: id.into(),
        title,
        rows: s.phases.iter().map(|p| p.phase.to_string()).collect(),
        cols: CONTEXTS.iter().map(|c| c.name().to_string()).collect(),
        events: s
            .phases
            .iter()
            .map(|p| p.contexts.iter().map(|(_, c)| c.events).collect())
            .collect(),
        functions: s
            .phases
            .iter()
            .map(|p| {
                p.contexts
                    .iter()
                    .map(|(_, c)| c.unique_functions as u64)
                    .collect()
            })
            .collect(),
    })
}

/// Every event of the target's tree in time bins, per phase x context.
fn timeline(an: &Analysis) -> Option<Timeline> {
    let log = an.tree_log();
    let sp = spans(&log);
    let start = sp.iter().map(|s| s.start).min()?;
    let end = sp.iter().map(|s| s.start).max()? + 1;
    let width = (end - start).div_ceil(TIMELINE_BINS as u64).max(1);
    let mut series: BTreeMap<(usize, usize), Vec<u64>> = BTreeMap::new();
    for s in &sp {
        let e = &log[s.at];
        let bins = series
            .entry((e.phase as usize, e.ctx as usize))
            .or_insert_with(|| vec![0; TIMELINE_BINS]);
        bins[((s.start - start) / width) as usize] += 1;
    }
    let kernel_time = an.format.graph_lines > 0 && an.format.graph_abstime == 0;
    Some(Timeline {
        axis: if kernel_time {
            "kernel time: function_graph durations end to end, user-mode time left out (no abstime column)".into()
        } else {
            "trace time".into()
        },
        start_ns: start,
        end_ns: start + width * TIMELINE_BINS as u64,
        series: series
            .into_iter()
            .map(|((p, c), bins)| Series {
                phase: PHASES[p].name().into(),
                context: CONTEXTS[c].name().into(),
                bins,
            })
            .collect(),
    })
}

fn subsystems(map: &Result<&FootprintMap, String>) -> Result<Bars, String> {
    let m = map.as_ref().map_err(|e| e.clone())?;
    Ok(Bars {
        unit: "functions".into(),
        bars: m
            .subsystems
            .iter()
            .map(|s| Bar {
                name: s.name.clone(),
                value: s.functions as u64,
                detail: format!("{} files, {} calls", s.files, s.calls),
                side: Side::Both,
            })
            .collect(),
    })
}

fn entry_paths(map: &Result<&FootprintMap, String>) -> Result<Bars, String> {
    let m = map.as_ref().map_err(|e| e.clone())?;
    Ok(Bars {
        unit: "functions".into(),
        bars: m
            .entry_paths
            .iter()
            .map(|p| Bar {
                name: p.name.clone(),
                value: p.functions as u64,
                detail: format!("{} files, {} subsystems", p.files, p.subsystems.len()),
                side: Side::Both,
            })
            .collect(),
    })
}

/// The names reached from `roots` along the edges.
fn reach(edges: &BTreeMap<(Name, Name), u64>, roots: &[&Name]) -> BTreeSet<Name> {
    let mut out: BTreeMap<&Name, Vec<&Name>> = BTreeMap::new();
    for (c, f) in edges.keys() {
        out.entry(c).or_default().push(f);
    }
    let mut seen: BTreeSet<Name> = roots.iter().map(|r| (*r).clone()).collect();
    let mut todo: VecDeque<&Name> = roots.iter().copied().collect();
    while let Some(n) = todo.pop_front() {
        for &m in out.get(n).into_iter().flatten() {
            if seen.insert(m.clone()) {
                todo.push_back(m);
            }
        }
    }
    seen
}

/// The graph of `funcs`/`edges`, cut to the `TOP_NODES` most called (what
/// only one trace needs first), with its marks.
fn graph(
    funcs: &BTreeMap<Name, u64>,
    edges: &BTreeMap<(Name, Name), u64>,
    side: impl Fn(&Name) -> Side,
    edge_side: impl Fn(&(Name, Name)) -> Side,
) -> Graph {
    let execve_roots: BTreeSet<&Name> = funcs
        .keys()
        .filter(|n| trace_analysis::names::is_execve(normalize(n)))
        .collect();
    let execve = reach(edges, &execve_roots.iter().copied().collect::<Vec<_>>());
    let fault_roots: BTreeSet<&Name> = funcs
        .keys()
        .filter(|n| FAULT_ROOTS.iter().any(|r| r.as_bytes() == normalize(n)))
        .collect();
    let fault = reach(edges, &fault_roots.iter().copied().collect::<Vec<_>>());
    // A cut keeps what one trace alone needs, then the roots of the two
    // views (the execve system call runs once: it would be cut first), then
    // the most called.
    let root = |n: &Name| execve_roots.contains(n) || fault_roots.contains(n);
    let mut order: Vec<(&Name, u64)> = funcs.iter().map(|(n, &c)| (n, c)).collect();
    order.sort_by_key(|&(n, c)| (side(n) == Side::Both, !root(n), std::cmp::Reverse(c), n));
    order.truncate(TOP_NODES);
    order.sort_by_key(|&(n, _)| n);
    let index: BTreeMap<&Name, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    Graph {
        nodes: order
            .iter()
            .map(|&(n, calls)| Node {
                name: lossy(n),
                calls,
                side: side(n),
                marks: [("execve", &execve), ("fault", &fault)]
                    .iter()
                    .filter(|(_, set)| set.contains(n))
                    .map(|(m, _)| m.to_string())
                    .collect(),
            })
            .collect(),
        edges: edges
            .iter()
            .filter_map(|(e, &calls)| {
                Some(Edge {
                    from: *index.get(&e.0)?,
                    to: *index.get(&e.1)?,
                    calls,
                    side: edge_side(e),
                })
            })
            .collect(),
        total_nodes: funcs.len(),
        total_edges: edges.len(),
    }
}

fn list(id: &str, title: &str, columns: &[&str], rows: Vec<Row>) -> List {
    List {
        id: id.into(),
        title: title.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn row(cells: Vec<String>) -> Row {
    Row {
        cells,
        side: Side::Both,
    }
}

/// The lists `funcs`, `summary`, `graph` and `footprint` print.
fn lists(fp: &Footprint, s: &Summary, map: &Result<&FootprintMap, String>) -> Vec<List> {
    let mut v = vec![
        list(
            "funcs",
            "functions (funcs), with their calls",
            &["function", "calls"],
            fp.funcs
                .iter()
                .map(|(n, c)| row(vec![lossy(n), c.to_string()]))
                .collect(),
        ),
        list(
            "top",
            "top functions by calls (summary)",
            &["function", "calls"],
            s.top_functions
                .iter()
                .map(|c| row(vec![c.name.clone(), c.calls.to_string()]))
                .collect(),
        ),
        list(
            "callers-only",
            "functions seen only as callers",
            &["function"],
            s.callers_only
                .iter()
                .map(|n| row(vec![n.clone()]))
                .collect(),
        ),
        list(
            "edges",
            "caller -> callee edges (graph)",
            &["caller", "callee", "calls"],
            fp.edges
                .iter()
                .map(|((c, f), n)| row(vec![lossy(c), lossy(f), n.to_string()]))
                .collect(),
        ),
    ];
    if let Ok(m) = map {
        v.push(list(
            "footprint-functions",
            "functions by object and section (footprint)",
            &["function", "calls", "objects", "section", "cells"],
            m.functions
                .iter()
                .map(|f| {
                    row(vec![
                        f.name.clone(),
                        f.calls.to_string(),
                        f.objects.join(" "),
                        f.section.clone().unwrap_or_default(),
                        f.cells.join(" "),
                    ])
                })
                .collect(),
        ));
        v.push(list(
            "files",
            "source files (footprint)",
            &["file", "functions", "calls", "subsystems"],
            m.files
                .iter()
                .map(|f| {
                    row(vec![
                        f.path.clone(),
                        f.functions.to_string(),
                        f.calls.to_string(),
                        f.subsystems.join("; "),
                    ])
                })
                .collect(),
        ));
        v.push(list(
            "symbols",
            "Kconfig symbols that build the touched objects (footprint)",
            &["symbol", "value", "objects", "functions"],
            m.build_symbols
                .iter()
                .map(|s| {
                    row(vec![
                        s.symbol.clone(),
                        s.value.clone().unwrap_or_default(),
                        s.objects.to_string(),
                        s.functions.to_string(),
                    ])
                })
                .collect(),
        ));
        v.push(list(
            "unmapped",
            "functions not mapped to an object (footprint)",
            &["function", "reason"],
            m.unmapped
                .iter()
                .map(|u| row(vec![u.name.clone(), u.reason.clone()]))
                .collect(),
        ));
    }
    v
}

/// The page of one trace.
pub fn page(t: &Traced, f: &Filter) -> Page {
    let s = Summary::new(t.an, t.file, f);
    let fp = select::footprint(t.an, f);
    Page {
        title: format!("ftrace_report: {}", short(t.file)),
        diff: None,
        facts: facts(t, &s),
        heat: heat(&s, "", String::new()).into_iter().collect(),
        timeline: timeline(t.an),
        subsystems: subsystems(&t.map),
        entry_paths: entry_paths(&t.map),
        graph: graph(&fp.funcs, &fp.edges, |_| Side::Both, |_| Side::Both),
        lists: lists(&fp, &s, &t.map),
    }
}

fn side_of<T: Ord>(a: &BTreeMap<T, u64>, b: &BTreeMap<T, u64>, k: &T) -> Side {
    match (a.contains_key(k), b.contains_key(k)) {
        (true, false) => Side::OnlyA,
        (false, true) => Side::OnlyB,
        _ => Side::Both,
    }
}

/// Subsystems of both maps: in one map only, or in both (bar: the larger
/// function count).
fn diff_subsystems(a: &Traced, b: &Traced) -> Result<Bars, String> {
    let (ma, mb) = match (&a.map, &b.map) {
        (Ok(ma), Ok(mb)) => (ma, mb),
        (Err(e), _) | (_, Err(e)) => return Err(e.clone()),
    };
    let count = |m: &FootprintMap| -> BTreeMap<String, u64> {
        m.subsystems
            .iter()
            .map(|s| (s.name.clone(), s.functions as u64))
            .collect()
    };
    let (ca, cb) = (count(ma), count(mb));
    let names: BTreeSet<&String> = ca.keys().chain(cb.keys()).collect();
    let mut bars: Vec<Bar> = names
        .into_iter()
        .map(|n| {
            let (x, y) = (ca.get(n).copied(), cb.get(n).copied());
            Bar {
                name: n.clone(),
                value: x.unwrap_or(0).max(y.unwrap_or(0)),
                detail: format!("A {} / B {} functions", x.unwrap_or(0), y.unwrap_or(0)),
                side: side_of(&ca, &cb, n),
            }
        })
        .collect();
    bars.sort_by_key(|b| (b.side == Side::Both, std::cmp::Reverse(b.value)));
    Ok(Bars {
        unit: "functions (the larger of A and B)".into(),
        bars,
    })
}

/// The diff page of two traces: what only one of them needs is coloured
/// in the graph, the subsystems and the lists.
pub fn diff_page(a: &Traced, b: &Traced, f: &Filter) -> Page {
    let (sa, sb) = (Summary::new(a.an, a.file, f), Summary::new(b.an, b.file, f));
    let (fa, fb) = (select::footprint(a.an, f), select::footprint(b.an, f));
    let d: Diff = select::diff(&fa, &fb);
    let mut funcs = fa.funcs.clone();
    for (n, c) in &fb.funcs {
        *funcs.entry(n.clone()).or_insert(0) += c;
    }
    let mut edges = fa.edges.clone();
    for (e, c) in &fb.edges {
        *edges.entry(e.clone()).or_insert(0) += c;
    }
    let mut facts: Vec<Fact> = facts(a, &sa)
        .into_iter()
        .zip(facts(b, &sb))
        .map(|(mut x, y)| {
            x.values.extend(y.values);
            x
        })
        .collect();
    let parts = [
        ("only-a", "functions only in A"),
        ("only-b", "functions only in B"),
        ("both", "functions in both"),
    ];
    for (i, (id, label)) in parts.iter().enumerate() {
        facts.push(fact(&format!("functions-{id}"), label, d.funcs[i].len()));
    }
    let names = |i: usize, side: Side| -> Vec<Row> {
        d.funcs[i]
            .iter()
            .map(|n| Row {
                cells: vec![lossy(n)],
                side,
            })
            .collect()
    };
    let edge_rows = |i: usize, side: Side| -> Vec<Row> {
        d.edges[i]
            .iter()
            .map(|(c, f)| Row {
                cells: vec![lossy(c), lossy(f)],
                side,
            })
            .collect()
    };
    Page {
        title: format!("ftrace_report diff: {} vs {}", short(a.file), short(b.file)),
        diff: Some([short(a.file), short(b.file)]),
        facts,
        heat: [
            heat(&sa, "a", format!("A: {}", short(a.file))),
            heat(&sb, "b", format!("B: {}", short(b.file))),
        ]
        .into_iter()
        .flatten()
        .collect(),
        timeline: None,
        subsystems: diff_subsystems(a, b),
        entry_paths: Err("entry paths are on each trace's own page".into()),
        graph: graph(
            &funcs,
            &edges,
            |n| side_of(&fa.funcs, &fb.funcs, n),
            |e| side_of(&fa.edges, &fb.edges, e),
        ),
        lists: vec![
            list(
                "only-a",
                "functions only in A",
                &["function"],
                names(0, Side::OnlyA),
            ),
            list(
                "only-b",
                "functions only in B",
                &["function"],
                names(1, Side::OnlyB),
            ),
            list(
                "both",
                "functions in both",
                &["function"],
                names(2, Side::Both),
            ),
            list(
                "edges-only-a",
                "edges only in A",
                &["caller", "callee"],
                edge_rows(0, Side::OnlyA),
            ),
            list(
                "edges-only-b",
                "edges only in B",
                &["caller", "callee"],
                edge_rows(1, Side::OnlyB),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel_footprint::{ConfigView, Part, SubsystemRow};

    fn names(list: &[(&str, u64)]) -> BTreeMap<Name, u64> {
        list.iter()
            .map(|(n, c)| (n.as_bytes().to_vec(), *c))
            .collect()
    }

    fn edge(a: &str, b: &str) -> ((Name, Name), u64) {
        ((a.as_bytes().to_vec(), b.as_bytes().to_vec()), 1)
    }

    #[test]
    fn graph_marks_the_execve_subtree_and_the_fault_path() {
        let funcs = names(&[
            ("__arm64_sys_execve", 1),
            ("getname", 1),
            ("do_mem_abort", 2),
            ("handle_mm_fault", 2),
            ("tick", 9),
        ]);
        let edges: BTreeMap<_, _> = [
            edge("__arm64_sys_execve", "getname"),
            edge("do_mem_abort", "handle_mm_fault"),
        ]
        .into_iter()
        .collect();
        let g = graph(&funcs, &edges, |_| Side::Both, |_| Side::Both);
        let marks: BTreeMap<&str, Vec<String>> = g
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.marks.clone()))
            .collect();
        assert_eq!(marks["getname"], ["execve"]);
        assert_eq!(marks["__arm64_sys_execve"], ["execve"]);
        assert_eq!(marks["handle_mm_fault"], ["fault"]);
        assert!(marks["tick"].is_empty());
        assert_eq!((g.total_nodes, g.total_edges, g.edges.len()), (5, 2, 2));
    }

    #[test]
    fn a_large_graph_keeps_the_most_called_and_what_one_trace_needs() {
        let many: Vec<(String, u64)> = (0..TOP_NODES + 5)
            .map(|i| (format!("f{i:04}"), 10 + i as u64))
            .collect();
        let mut list: Vec<(&str, u64)> = many.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        list.push(("rare", 0));
        list.push(("__arm64_sys_execve", 1));
        let funcs = names(&list);
        let edges: BTreeMap<_, _> = [edge("f0000", "f0604"), edge("rare", "f0604")]
            .into_iter()
            .collect();
        let only = b"rare".to_vec();
        let g = graph(
            &funcs,
            &edges,
            |n| if *n == only { Side::OnlyB } else { Side::Both },
            |_| Side::Both,
        );
        assert_eq!(g.nodes.len(), TOP_NODES);
        assert_eq!(g.total_nodes, TOP_NODES + 7);
        let kept: BTreeSet<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        assert!(kept.contains("rare") && kept.contains("f0604"));
        assert!(kept.contains("__arm64_sys_execve"));
        // The least called are cut, and their edges with them.
        assert!(!kept.contains("f0000") && !kept.contains("f0006"));
        assert!(kept.contains("f0007"));
        assert_eq!(g.edges.len(), 1);
        assert_eq!(g.nodes[g.edges[0].from].name, "rare");
    }

    fn map(subsystems: &[(&str, usize)]) -> FootprintMap {
        FootprintMap {
            trace: "t".into(),
            kernel_build: "k".into(),
            release: "r".into(),
            filter: "f".into(),
            functions: Vec::new(),
            ambiguous: Vec::new(),
            unmapped: Vec::new(),
            files: Vec::new(),
            subsystems: subsystems
                .iter()
                .map(|(n, f)| SubsystemRow {
                    name: n.to_string(),
                    status: None,
                    files: 1,
                    functions: *f,
                    calls: 3,
                    only_ambiguous: false,
                })
                .collect(),
            build_symbols: Vec::new(),
            read_symbols: Vec::new(),
            cells: Vec::new(),
            entry_paths: vec![Part {
                name: "execve".into(),
                functions: 4,
                files: 2,
                subsystems: vec!["EXEC & BINFMT API, ELF".into()],
                all_sections: Vec::new(),
            }],
            config: ConfigView::default(),
        }
    }

    #[test]
    fn subsystem_bars_from_the_maps() {
        let (ma, mb) = (
            map(&[("MM", 5), ("SCHED", 2)]),
            map(&[("MM", 7), ("TMPFS", 1)]),
        );
        let bars = subsystems(&Ok(&ma)).unwrap();
        assert_eq!(bars.bars[0].name, "MM");
        assert_eq!(bars.bars[0].value, 5);
        assert_eq!(entry_paths(&Ok(&ma)).unwrap().bars[0].value, 4);
        assert_eq!(subsystems(&Err("none".into())).unwrap_err(), "none");
        let an = Analysis::new(None);
        let t = |m| Traced {
            an: &an,
            file: "x",
            map: Ok(m),
        };
        let d = diff_subsystems(&t(&ma), &t(&mb)).unwrap();
        let got: Vec<(&str, u64, Side)> = d
            .bars
            .iter()
            .map(|b| (b.name.as_str(), b.value, b.side))
            .collect();
        assert_eq!(
            got,
            [
                ("SCHED", 2, Side::OnlyA),
                ("TMPFS", 1, Side::OnlyB),
                ("MM", 7, Side::Both)
            ]
        );
    }
}
