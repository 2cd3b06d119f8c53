//! Output of the commands: function lists, graphs, summaries, diffs.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use crate::analyze::{Acc, Analysis, CELLS};
use crate::model::{cell_bit, Context, Phase, Selection, CONTEXTS, PHASES};
use crate::names::{normalize, NONE};
use crate::parse::SKIPS;

/// What to report: phase x context cells, callers only, normalised names.
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub sel: Selection,
    pub callers_only: bool,
    pub normalize: bool,
}

impl Filter {
    pub fn describe(&self) -> String {
        let phases: Vec<_> = PHASES
            .iter()
            .filter(|&&p| {
                CONTEXTS
                    .iter()
                    .any(|&c| self.sel.mask & cell_bit(p, c) != 0)
            })
            .map(|p| p.name())
            .collect();
        let contexts: Vec<_> = CONTEXTS
            .iter()
            .filter(|&&c| PHASES.iter().any(|&p| self.sel.mask & cell_bit(p, c) != 0))
            .map(|c| c.name())
            .collect();
        let ctx = if contexts.len() == CONTEXTS.len() {
            "all contexts".to_string()
        } else {
            contexts.join(",")
        };
        format!("{}; {}", phases.join(","), ctx)
    }
}

pub type Name = Vec<u8>;

/// Functions and edges of the target under a filter, by display name.
#[derive(Clone, Debug, Default)]
pub struct Footprint {
    /// Name -> calls (as callee) in the selection; callers that are never
    /// callees have 0.
    pub funcs: BTreeMap<Name, u64>,
    pub edges: BTreeMap<(Name, Name), u64>,
    /// Names never seen as a callee anywhere in the trace.
    pub callers_only: BTreeSet<Name>,
}

fn display(an: &Analysis, id: u32, norm: bool) -> Name {
    let n = an.names.name(id);
    if norm {
        normalize(n).to_vec()
    } else {
        n.to_vec()
    }
}

pub fn footprint(an: &Analysis, f: &Filter) -> Footprint {
    let mut fp = Footprint::default();
    let Some(acc) = an.acc.as_ref() else {
        return fp;
    };
    let mut callee_names = HashSet::new();
    for id in 0..an.names.len() as u32 {
        if an.names.is_callee(id) {
            callee_names.insert(display(an, id, f.normalize));
        }
    }
    for (key, e) in &acc.edges {
        if e.mask() & f.sel.mask == 0 {
            continue;
        }
        let (caller, callee) = ((key >> 32) as u32, (*key & 0xffff_ffff) as u32);
        let n = e.count(f.sel.mask);
        let callee = display(an, callee, f.normalize);
        *fp.funcs.entry(callee.clone()).or_insert(0) += n;
        if caller != NONE {
            let caller = display(an, caller, f.normalize);
            fp.funcs.entry(caller.clone()).or_insert(0);
            if !callee_names.contains(&caller) {
                fp.callers_only.insert(caller.clone());
            }
            *fp.edges.entry((caller, callee)).or_insert(0) += n;
        }
    }
    if f.callers_only {
        fp.funcs.retain(|n, _| fp.callers_only.contains(n));
        let co = &fp.callers_only;
        fp.edges.retain(|(c, _), _| co.contains(c));
    }
    fp
}

/// `funcs`: one name per line, sorted (byte order).
pub fn funcs_text(fp: &Footprint) -> Vec<u8> {
    let mut out = Vec::new();
    for n in fp.funcs.keys() {
        out.extend_from_slice(n);
        out.push(b'\n');
    }
    out
}

fn dot_quote(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'"');
    for &b in n {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// `graph --format dot`: `"caller" -> "callee";` lines; functions without a
/// known caller or callee appear as `"name" [];`.
pub fn graph_dot(fp: &Footprint) -> Vec<u8> {
    let mut out = b"digraph ftrace_report {\n".to_vec();
    let mut in_edge = BTreeSet::new();
    for (c, f) in fp.edges.keys() {
        in_edge.insert(c);
        in_edge.insert(f);
        dot_quote(&mut out, c);
        out.extend_from_slice(b" -> ");
        dot_quote(&mut out, f);
        out.extend_from_slice(b";\n");
    }
    for n in fp.funcs.keys() {
        if !in_edge.contains(n) {
            // With brackets: ks-nav's graph-tool reads node lines only so.
            dot_quote(&mut out, n);
            out.extend_from_slice(b" [];\n");
        }
    }
    out.extend_from_slice(b"}\n");
    out
}

pub fn json_str(out: &mut String, s: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}

fn json_secs(v: Option<u64>) -> String {
    v.map_or_else(|| "null".into(), secs)
}

fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

fn target_json(an: &Analysis, out: &mut String) {
    match an.target {
        Some((pid, src)) => {
            let _ = write!(out, "{{\"pid\":{pid},\"source\":");
            json_str(out, src.describe().as_bytes());
            out.push('}');
        }
        None => out.push_str("null"),
    }
}

/// `graph --format json`.
pub fn graph_json(an: &Analysis, fp: &Footprint, f: &Filter) -> Vec<u8> {
    let mut o = String::from("{\"target\":");
    target_json(an, &mut o);
    o.push_str(",\"selection\":");
    json_str(&mut o, f.describe().as_bytes());
    o.push_str(",\"nodes\":[");
    for (i, (n, c)) in fp.funcs.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("\n{\"name\":");
        json_str(&mut o, n);
        let _ = write!(
            o,
            ",\"calls\":{c},\"callers_only\":{}}}",
            fp.callers_only.contains(n)
        );
    }
    o.push_str("\n],\"edges\":[");
    for (i, ((a, b), c)) in fp.edges.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("\n{\"caller\":");
        json_str(&mut o, a);
        o.push_str(",\"callee\":");
        json_str(&mut o, b);
        let _ = write!(o, ",\"calls\":{c}}}");
    }
    o.push_str("\n]}\n");
    o.into_bytes()
}

fn cell(p: Phase, c: Context) -> usize {
    p as usize * CONTEXTS.len() + c as usize
}

/// Unique functions (callees and callers) per phase x context cell.
fn unique_per_cell(an: &Analysis, acc: &Acc, norm: bool) -> Vec<usize> {
    let mut sets: Vec<HashSet<Name>> = vec![HashSet::new(); CELLS];
    for (key, e) in &acc.edges {
        let (caller, callee) = ((key >> 32) as u32, (*key & 0xffff_ffff) as u32);
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

const TOP: usize = 20;

fn top_functions(fp: &Footprint) -> Vec<(&Name, u64)> {
    let mut v: Vec<_> = fp.funcs.iter().map(|(n, &c)| (n, c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.truncate(TOP);
    v
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `summary` as text.
pub fn summary_text(an: &Analysis, file: &str, f: &Filter) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "file: {file}");
    let _ = writeln!(o, "tracer: {}", an.tracer());
    let fm = &an.format;
    if fm.function_lines > 0 {
        let _ = writeln!(
            o,
            "function lines: {} ({} with the irq-info flags column)",
            fm.function_lines, fm.function_flags
        );
    }
    if fm.graph_lines > 0 {
        let _ = writeln!(
            o,
            "function_graph lines: {} ({} with the proc column, {} with abstime), irq markers: {}, context switches: {}",
            fm.graph_lines, fm.graph_proc, fm.graph_abstime, fm.graph_irq_markers, fm.graph_switches
        );
    }
    for (k, v) in &an.header.entries {
        let _ = writeln!(o, "header {k}: {v}");
    }
    match an.target {
        Some((pid, src)) => {
            let _ = writeln!(o, "target: pid {pid} ({})", src.describe());
        }
        None => {
            let _ = writeln!(
                o,
                "target: none (no --pid, no ftrace_it header, no task enters execve)"
            );
        }
    }
    if let Some(acc) = an.acc.as_ref() {
        for (comm, line, n) in &acc.comms {
            let _ = writeln!(o, "target name: {} from line {line}, {n} events", s(comm));
        }
    }
    let _ = writeln!(
        o,
        "time: trace {} .. {} s, target {} .. {} s",
        opt_secs(an.first_ts),
        opt_secs(an.last_ts.get()),
        opt_secs(an.acc.as_ref().and_then(|a| a.first_ts)),
        opt_secs(an.acc.as_ref().and_then(|a| a.last_ts.get())),
    );
    if let Some(acc) = an.acc.as_ref() {
        for p in PHASES {
            match acc.phase_start[p as usize] {
                Some(st) => {
                    let _ = writeln!(
                        o,
                        "phase {:<8} starts at line {} ({} s)",
                        p.name(),
                        st.line,
                        opt_secs(st.ts)
                    );
                }
                None => {
                    let _ = writeln!(o, "phase {:<8} not reached", p.name());
                }
            }
        }
    }
    let target_events: u64 = an.acc.as_ref().map_or(0, |a| a.counts.iter().sum());
    let _ = writeln!(
        o,
        "lines: {} (events {}, structure {}, skipped {})",
        an.lines,
        an.events,
        an.markers,
        an.skipped.iter().sum::<u64>()
    );
    let _ = writeln!(
        o,
        "events: {} (target {}, other tasks {}, task unknown {})",
        an.events,
        target_events,
        an.events.saturating_sub(target_events + an.unattributed),
        an.unattributed
    );
    let tasks = an.tasks();
    let _ = writeln!(o, "tasks: {}", tasks.len());
    for t in tasks.iter().take(10) {
        let _ = writeln!(
            o,
            "  {:>7} {:<16} {:>9} events",
            t.pid,
            s(&t.comm),
            t.events
        );
    }
    if let Some(acc) = an.acc.as_ref() {
        let uniq = unique_per_cell(an, acc, f.normalize);
        let _ = writeln!(o, "target events / unique functions per phase x context:");
        let _ = write!(o, "  {:<9}", "");
        for c in CONTEXTS {
            let _ = write!(o, " {:>15}", c.name());
        }
        let _ = writeln!(o, " {:>15}", "all");
        for p in PHASES {
            let _ = write!(o, "  {:<9}", p.name());
            for c in CONTEXTS {
                let i = cell(p, c);
                let _ = write!(o, " {:>15}", format!("{} / {}", acc.counts[i], uniq[i]));
            }
            let ev: u64 = CONTEXTS.iter().map(|&c| acc.counts[cell(p, c)]).sum();
            let _ = writeln!(
                o,
                " {:>15}",
                format!("{ev} / {}", unique_in(an, f.normalize, phase_mask(p)))
            );
        }
        let _ = write!(o, "  {:<9}", "all");
        for c in CONTEXTS {
            let ev: u64 = PHASES.iter().map(|&p| acc.counts[cell(p, c)]).sum();
            let _ = write!(
                o,
                " {:>15}",
                format!("{ev} / {}", unique_in(an, f.normalize, context_mask(c)))
            );
        }
        let _ = writeln!(
            o,
            " {:>15}",
            format!(
                "{target_events} / {}",
                unique_in(an, f.normalize, u32::MAX >> (32 - CELLS))
            )
        );
    }
    let fp = footprint(an, f);
    let _ = writeln!(
        o,
        "unique functions ({}): {}, seen only as callers: {}",
        f.describe(),
        fp.funcs.len(),
        fp.callers_only.len()
    );
    if !fp.callers_only.is_empty() {
        let list: Vec<_> = fp.callers_only.iter().map(|n| s(n)).collect();
        let _ = writeln!(o, "callers only: {}", list.join(" "));
    }
    let _ = writeln!(o, "edges: {}", fp.edges.len());
    let _ = writeln!(o, "lost events: {}", an.lost());
    if let Some(l) = an.header.lost_events {
        let _ = writeln!(o, "  header lost_events: {l}");
    }
    for c in &an.header.cpus {
        let _ = writeln!(
            o,
            "  cpu{}: entries={} overrun={} commit_overrun={} dropped={}",
            c.cpu, c.entries, c.overrun, c.commit_overrun, c.dropped
        );
    }
    if an.lost_markers > 0 {
        let _ = writeln!(
            o,
            "  [LOST] markers: {} ({} events)",
            an.lost_markers, an.lost_marked
        );
    }
    let skipped: u64 = an.skipped.iter().sum();
    let _ = writeln!(o, "skipped lines: {skipped}");
    for sk in SKIPS {
        let n = an.skipped[sk as usize];
        if n > 0 {
            let _ = writeln!(
                o,
                "  {:<17} {:>9} (first at line {}): {}",
                sk.name(),
                n,
                an.first_skipped_line[sk as usize],
                sk.describe()
            );
        }
    }
    if fm.kmsg_spliced > 0 {
        let _ = writeln!(
            o,
            "kernel messages cut out of trace lines: {}",
            fm.kmsg_spliced
        );
    }
    let _ = writeln!(o, "top functions ({}), calls:", f.describe());
    for (n, c) in top_functions(&fp) {
        let _ = writeln!(o, "  {c:>9} {}", s(n));
    }
    o
}

fn opt_secs(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), secs)
}

/// `summary --json`.
pub fn summary_json(an: &Analysis, file: &str, f: &Filter) -> String {
    let mut o = String::from("{\"file\":");
    json_str(&mut o, file.as_bytes());
    o.push_str(",\"tracer\":");
    json_str(&mut o, an.tracer().as_bytes());
    let fm = &an.format;
    let _ = write!(
        o,
        ",\"format\":{{\"function_lines\":{},\"function_flags\":{},\"graph_lines\":{},\"graph_proc\":{},\"graph_abstime\":{},\"graph_irq_markers\":{},\"graph_switches\":{},\"kmsg_spliced\":{}}}",
        fm.function_lines, fm.function_flags, fm.graph_lines, fm.graph_proc, fm.graph_abstime,
        fm.graph_irq_markers, fm.graph_switches, fm.kmsg_spliced
    );
    o.push_str(",\"header\":{");
    for (i, (k, v)) in an.header.entries.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json_str(&mut o, k.as_bytes());
        o.push(':');
        json_str(&mut o, v.as_bytes());
    }
    o.push_str("},\"target\":");
    target_json(an, &mut o);
    let acc = an.acc.as_ref();
    o.push_str(",\"target_names\":[");
    if let Some(acc) = acc {
        for (i, (comm, line, n)) in acc.comms.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str("{\"name\":");
            json_str(&mut o, comm);
            let _ = write!(o, ",\"first_line\":{line},\"events\":{n}}}");
        }
    }
    let _ = write!(
        o,
        "],\"time\":{{\"trace_first\":{},\"trace_last\":{},\"target_first\":{},\"target_last\":{}}}",
        json_secs(an.first_ts),
        json_secs(an.last_ts.get()),
        json_secs(acc.and_then(|a| a.first_ts)),
        json_secs(acc.and_then(|a| a.last_ts.get()))
    );
    let target_events: u64 = acc.map_or(0, |a| a.counts.iter().sum());
    let _ = write!(
        o,
        ",\"lines\":{},\"structure_lines\":{},\"events\":{},\"target_events\":{},\"unattributed_events\":{}",
        an.lines, an.markers, an.events, target_events, an.unattributed
    );
    o.push_str(",\"tasks\":[");
    for (i, t) in an.tasks().iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "{{\"pid\":{},\"name\":", t.pid);
        json_str(&mut o, &t.comm);
        let _ = write!(o, ",\"events\":{}}}", t.events);
    }
    o.push_str("],\"phases\":[");
    if let Some(acc) = acc {
        let uniq = unique_per_cell(an, acc, f.normalize);
        for (pi, p) in PHASES.iter().enumerate() {
            if pi > 0 {
                o.push(',');
            }
            let st = acc.phase_start[*p as usize];
            let _ = write!(
                o,
                "{{\"phase\":\"{}\",\"start_line\":{},\"start_time\":{},\"unique_functions\":{},\"contexts\":{{",
                p.name(),
                json_opt(st.map(|s| s.line)),
                json_secs(st.and_then(|s| s.ts)),
                unique_in(an, f.normalize, phase_mask(*p))
            );
            for (ci, c) in CONTEXTS.iter().enumerate() {
                if ci > 0 {
                    o.push(',');
                }
                let i = cell(*p, *c);
                let _ = write!(
                    o,
                    "\"{}\":{{\"events\":{},\"unique_functions\":{}}}",
                    c.name(),
                    acc.counts[i],
                    uniq[i]
                );
            }
            o.push_str("}}");
        }
    }
    let fp = footprint(an, f);
    o.push_str("],\"selection\":");
    json_str(&mut o, f.describe().as_bytes());
    let _ = write!(
        o,
        ",\"unique_functions\":{},\"edges\":{},\"callers_only\":[",
        fp.funcs.len(),
        fp.edges.len()
    );
    for (i, n) in fp.callers_only.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json_str(&mut o, n);
    }
    let _ = write!(
        o,
        "],\"lost\":{{\"total\":{},\"header_lost_events\":{},\"lost_markers\":{},\"lost_marked_events\":{},\"cpus\":[",
        an.lost(),
        json_opt(an.header.lost_events),
        an.lost_markers,
        an.lost_marked
    );
    for (i, c) in an.header.cpus.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(
            o,
            "{{\"cpu\":{},\"entries\":{},\"overrun\":{},\"commit_overrun\":{},\"dropped\":{}}}",
            c.cpu, c.entries, c.overrun, c.commit_overrun, c.dropped
        );
    }
    o.push_str("]},\"skipped\":{");
    let mut first = true;
    for sk in SKIPS {
        let n = an.skipped[sk as usize];
        if n > 0 {
            if !first {
                o.push(',');
            }
            first = false;
            let _ = write!(
                o,
                "\"{}\":{{\"lines\":{n},\"first_line\":{}}}",
                sk.name(),
                an.first_skipped_line[sk as usize]
            );
        }
    }
    o.push_str("},\"top_functions\":[");
    for (i, (n, c)) in top_functions(&fp).into_iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"name\":");
        json_str(&mut o, n);
        let _ = write!(o, ",\"calls\":{c}}}");
    }
    o.push_str("]}\n");
    o
}

/// Names and edges only in A, only in B, in both.
pub struct Diff {
    pub funcs: [Vec<Name>; 3],
    pub edges: [Vec<(Name, Name)>; 3],
}

pub fn diff(a: &Footprint, b: &Footprint) -> Diff {
    fn split<T: Ord + Clone>(a: BTreeSet<&T>, b: BTreeSet<&T>) -> [Vec<T>; 3] {
        [
            a.difference(&b).map(|&x| x.clone()).collect(),
            b.difference(&a).map(|&x| x.clone()).collect(),
            a.intersection(&b).map(|&x| x.clone()).collect(),
        ]
    }
    Diff {
        funcs: split(a.funcs.keys().collect(), b.funcs.keys().collect()),
        edges: split(a.edges.keys().collect(), b.edges.keys().collect()),
    }
}

const DIFF_SECTIONS: [&str; 3] = ["only in A", "only in B", "in both"];

pub fn diff_text(d: &Diff, a: &str, b: &str) -> Vec<u8> {
    let mut o = format!("A: {a}\nB: {b}\n").into_bytes();
    for (i, sec) in DIFF_SECTIONS.iter().enumerate() {
        o.extend_from_slice(format!("## functions {sec} ({})\n", d.funcs[i].len()).as_bytes());
        for n in &d.funcs[i] {
            o.extend_from_slice(n);
            o.push(b'\n');
        }
    }
    for (i, sec) in DIFF_SECTIONS.iter().enumerate() {
        o.extend_from_slice(format!("## edges {sec} ({})\n", d.edges[i].len()).as_bytes());
        for (c, f) in &d.edges[i] {
            dot_quote(&mut o, c);
            o.extend_from_slice(b" -> ");
            dot_quote(&mut o, f);
            o.extend_from_slice(b";\n");
        }
    }
    o
}

pub fn diff_json(d: &Diff, a: &str, b: &str) -> Vec<u8> {
    const KEYS: [&str; 3] = ["only_a", "only_b", "both"];
    let mut o = String::from("{\"a\":");
    json_str(&mut o, a.as_bytes());
    o.push_str(",\"b\":");
    json_str(&mut o, b.as_bytes());
    o.push_str(",\"functions\":{");
    for (i, k) in KEYS.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "\n\"{k}\":[");
        for (j, n) in d.funcs[i].iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            json_str(&mut o, n);
        }
        o.push(']');
    }
    o.push_str("},\"edges\":{");
    for (i, k) in KEYS.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "\n\"{k}\":[");
        for (j, (c, f)) in d.edges[i].iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            o.push('[');
            json_str(&mut o, c);
            o.push(',');
            json_str(&mut o, f);
            o.push(']');
        }
        o.push(']');
    }
    o.push_str("}}\n");
    o.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(text: &str) -> Analysis {
        let mut a = Analysis::new(None);
        a.read(std::io::Cursor::new(text.as_bytes().to_vec()))
            .unwrap();
        a
    }

    const T: &str = "\
 l-3 [000] ..... 1.0: pre_fn <-pre_parent
 m-3 [000] ..... 1.1: __x64_sys_execve <-do_syscall_64
 m-3 [000] ..... 1.2: count.constprop.0 <-do_execveat_common.isra.0
 m-3 [000] ..... 1.3: count.isra.0 <-do_execveat_common.isra.0
 m-3 [000] d.h.. 1.4: tick <-__sysvec_apic_timer_interrupt
";

    fn filter(mask: u32, callers_only: bool, normalize: bool) -> Filter {
        Filter {
            sel: Selection { mask },
            callers_only,
            normalize,
        }
    }

    fn names(fp: &Footprint) -> Vec<String> {
        fp.funcs.keys().map(|n| s(n)).collect()
    }

    #[test]
    fn funcs_default_phases_and_filters() {
        let an = analysis(T);
        let fp = footprint(&an, &filter(Selection::default_phases().mask, false, false));
        assert_eq!(
            names(&fp),
            [
                "__sysvec_apic_timer_interrupt",
                "__x64_sys_execve",
                "count.constprop.0",
                "count.isra.0",
                "do_execveat_common.isra.0",
                "do_syscall_64",
                "tick"
            ]
        );
        let n = footprint(&an, &filter(Selection::default_phases().mask, false, true));
        assert_eq!(names(&n)[2..4], ["count", "do_execveat_common"]);
        let co = footprint(&an, &filter(Selection::default_phases().mask, true, false));
        assert_eq!(
            names(&co),
            [
                "__sysvec_apic_timer_interrupt",
                "do_execveat_common.isra.0",
                "do_syscall_64"
            ]
        );
        let pre = footprint(
            &an,
            &filter(
                Selection::new(&[Phase::PreExec], &CONTEXTS).mask,
                false,
                false,
            ),
        );
        assert_eq!(names(&pre), ["pre_fn", "pre_parent"]);
        let hard = footprint(
            &an,
            &filter(
                Selection::new(&PHASES, &[Context::Hardirq]).mask,
                false,
                false,
            ),
        );
        assert_eq!(names(&hard), ["__sysvec_apic_timer_interrupt", "tick"]);
    }

    #[test]
    fn dot_and_json_quote() {
        let mut fp = Footprint::default();
        fp.edges.insert((b"a".to_vec(), b"b\"c".to_vec()), 2);
        fp.funcs.insert(b"a".to_vec(), 0);
        fp.funcs.insert(b"b\"c".to_vec(), 2);
        fp.funcs.insert(b"lonely".to_vec(), 1);
        let dot = String::from_utf8(graph_dot(&fp)).unwrap();
        assert_eq!(
            dot,
            "digraph ftrace_report {\n\"a\" -> \"b\\\"c\";\n\"lonely\" [];\n}\n"
        );
        let mut j = String::new();
        json_str(&mut j, b"x\"\\\n\x01\xff");
        assert_eq!(j, "\"x\\\"\\\\\\n\\u0001\u{fffd}\"");
    }

    #[test]
    fn diff_splits_three_ways() {
        let a = analysis(T);
        let b = analysis(&T.replace("count.isra.0", "other"));
        let f = filter(Selection::default_phases().mask, false, false);
        let d = diff(&footprint(&a, &f), &footprint(&b, &f));
        assert_eq!(d.funcs[0], vec![b"count.isra.0".to_vec()]);
        assert_eq!(d.funcs[1], vec![b"other".to_vec()]);
        assert_eq!(d.funcs[2].len(), 6);
        assert_eq!(d.edges[0].len(), 1);
        let txt = String::from_utf8(diff_text(&d, "a", "b")).unwrap();
        assert!(
            txt.contains("## functions only in A (1)\ncount.isra.0\n"),
            "{txt}"
        );
    }

    #[test]
    fn summary_mentions_target_and_skips() {
        let an = analysis(&format!("{T}garbage\n"));
        let f = filter(Selection::default_phases().mask, false, false);
        let t = summary_text(&an, "t", &f);
        assert!(
            t.contains("target: pid 3 (first task to enter execve (line 2))"),
            "{t}"
        );
        assert!(t.contains("unparsable"), "{t}");
        let j = summary_json(&an, "t", &f);
        assert!(j.contains("\"unique_functions\":7"), "{j}");
    }
}
