//! Output of the commands: function lists, graphs, summaries, diffs.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Serialize;

use trace_analysis::analyze::Analysis;
use trace_analysis::select::{Diff, Filter, Footprint};

mod summary;

pub use summary::{mismatches, Secs, Summary};

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

/// The target as the JSON outputs name it.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub pid: u32,
    pub source: String,
}

fn target(an: &Analysis) -> Option<Target> {
    an.target.map(|(pid, src)| Target {
        pid,
        source: src.describe(),
    })
}

/// Names are bytes; JSON and text get them as UTF-8 (invalid bytes as
/// U+FFFD).
fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One JSON value on one line.
fn json_line<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).expect("string keys and integer values serialise");
    out.push(b'\n');
    out
}

#[derive(Serialize)]
struct GraphJson<'a> {
    target: Option<Target>,
    selection: String,
    nodes: Vec<Node<'a>>,
    edges: Vec<Edge<'a>>,
}

#[derive(Serialize)]
struct Node<'a> {
    name: Cow<'a, str>,
    calls: u64,
    callers_only: bool,
}

#[derive(Serialize)]
struct Edge<'a> {
    caller: Cow<'a, str>,
    callee: Cow<'a, str>,
    calls: u64,
}

/// `graph --format json`.
pub fn graph_json(an: &Analysis, fp: &Footprint, f: &Filter) -> Vec<u8> {
    json_line(&GraphJson {
        target: target(an),
        selection: f.describe(),
        nodes: fp
            .funcs
            .iter()
            .map(|(n, &calls)| Node {
                name: String::from_utf8_lossy(n),
                calls,
                callers_only: fp.callers_only.contains(n),
            })
            .collect(),
        edges: fp
            .edges
            .iter()
            .map(|((a, b), &calls)| Edge {
                caller: String::from_utf8_lossy(a),
                callee: String::from_utf8_lossy(b),
                calls,
            })
            .collect(),
    })
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

/// The three parts of a diff, as `diff --json` names them.
#[derive(Serialize)]
struct Parts<T> {
    only_a: Vec<T>,
    only_b: Vec<T>,
    both: Vec<T>,
}

impl<T> Parts<T> {
    fn of<'u, U>(parts: &'u [Vec<U>; 3], f: impl Fn(&'u U) -> T) -> Parts<T> {
        let part = |i: usize| parts[i].iter().map(&f).collect();
        Parts {
            only_a: part(0),
            only_b: part(1),
            both: part(2),
        }
    }
}

#[derive(Serialize)]
struct DiffJson<'a> {
    a: &'a str,
    b: &'a str,
    functions: Parts<Cow<'a, str>>,
    edges: Parts<(Cow<'a, str>, Cow<'a, str>)>,
}

pub fn diff_json(d: &Diff, a: &str, b: &str) -> Vec<u8> {
    json_line(&DiffJson {
        a,
        b,
        functions: Parts::of(&d.funcs, |n| String::from_utf8_lossy(n)),
        edges: Parts::of(&d.edges, |(c, f)| {
            (String::from_utf8_lossy(c), String::from_utf8_lossy(f))
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_analysis::model::{Context, Phase, Selection, CONTEXTS, PHASES};
    use trace_analysis::select::{diff, footprint};
    use trace_reader::Skip;

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
        fp.funcs.keys().map(|n| lossy(n)).collect()
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

    /// The same calls as `trace-cmd report` prints them, with and without
    /// `-O parent=1`, between events of another kind.
    const TRACE_CMD: &str = "\
cpus=2
       trace-cmd-3     [000]     1.0: sched_switch:         trace-cmd:3 [120] R ==> m:4 [120]
               m-3     [000]     1.1: function:             __x64_sys_execve <-- do_syscall_64
               m-3     [000]     1.2: function:                count.isra.0 <-- do_execveat_common.isra.0
               m-3     [000]     1.3: function:             tick <-- __sysvec_apic_timer_interrupt
";

    #[test]
    fn trace_cmd_report_with_and_without_parents() {
        let sel = filter(Selection::default_phases().mask, false, false);
        let with = analysis(TRACE_CMD);
        assert_eq!(with.skipped[Skip::OtherEvent as usize], 1);
        assert_eq!(with.skipped[Skip::Comment as usize], 1);
        assert_eq!(
            names(&footprint(&with, &sel)),
            [
                "__sysvec_apic_timer_interrupt",
                "__x64_sys_execve",
                "count.isra.0",
                "do_execveat_common.isra.0",
                "do_syscall_64",
                "tick"
            ]
        );
        assert!(!Summary::new(&with, "t", &sel)
            .text()
            .contains("callers: unknown"));
        let without_text: String = TRACE_CMD
            .lines()
            .map(|l| format!("{}\n", l.split(" <-- ").next().unwrap()))
            .collect();
        let without = analysis(&without_text);
        assert_eq!(without.format.function_no_parent, 3);
        assert_eq!(
            names(&footprint(&without, &sel)),
            ["__x64_sys_execve", "count.isra.0", "tick"]
        );
        let text = Summary::new(&without, "t", &sel).text();
        assert!(
            text.contains("callers: unknown for 3 of 3 function events"),
            "{text}"
        );
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
        fp.funcs.insert(b"x\"\\\n\x01\xff".to_vec(), 3);
        let f = filter(0, false, false);
        let json = String::from_utf8(graph_json(&Analysis::new(None), &fp, &f)).unwrap();
        assert!(
            json.contains(
                "{\"name\":\"x\\\"\\\\\\n\\u0001\u{fffd}\",\"calls\":3,\"callers_only\":false}"
            ),
            "{json}"
        );
        assert!(json.ends_with("}\n") && json.lines().count() == 1, "{json}");
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
        let sum = Summary::new(&an, "t", &f);
        let t = sum.text();
        assert!(
            t.contains("target: pid 3 (first task to enter execve (line 2))"),
            "{t}"
        );
        assert!(t.contains("unparsable"), "{t}");
        let j = String::from_utf8(sum.json()).unwrap();
        assert!(j.contains("\"unique_functions\":7"), "{j}");
        // A single task: no process tree section, in the text or the JSON.
        assert!(!t.contains("process tree"), "{t}");
        assert!(!j.contains("\"tree\""), "{j}");
    }

    #[test]
    fn summary_breaks_the_tree_down_per_task() {
        let t = format!(
            "{T} m-3 [000] ..... 1.5: sched_process_fork: comm=m pid=3 child_comm=m child_pid=4
 m-4 [001] ..... 1.6: child_fn <-ret_from_fork
 m-4 [001] ..... 1.7: do_exit <-__x64_sys_exit
"
        );
        let an = analysis(&t);
        let f = filter(Selection::default_phases().mask, false, false);
        let sum = Summary::new(&an, "t", &f);
        let txt = sum.text();
        for line in [
            "events: 7 (process tree 7, other tasks 0, task unknown 0)\n",
            "process tree: 2 tasks (events pre-exec/exec/run/exit; unique functions in exec,run,exit; all contexts)\n",
            "  pid 3 (parent -): 5 events (1/4/0/0), 7 functions, 1.000000 .. 1.400000 s, l -> m\n",
            "  pid 4 (parent 3): 2 events (0/0/1/1), 4 functions, 1.600000 .. 1.700000 s, m\n",
            "process tree events / unique functions per phase x context:\n",
        ] {
            assert!(txt.contains(line), "{line}{txt}");
        }
        let j: serde_json::Value = serde_json::from_slice(&sum.json()).unwrap();
        let child = &j["tree"][1];
        assert_eq!(child["parent"], 3);
        assert_eq!(child["phase_events"]["run"], 1);
        assert_eq!(child["unique_functions"], 4);
        assert_eq!(j["target_events"], 7);
        assert_eq!(j["unique_functions"], 11);
    }
}
