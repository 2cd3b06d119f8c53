//! `html`, `perfetto` and `folded` on the real guest traces, checked
//! against `summary --json`, `graph --format json` and `diff --json`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{trace, workdir, ARM_GRAPH, ARM_MIN, ARM_MIN_LARGE, X86_FIXTURE};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args)).unwrap()
}

fn path(name: &str) -> String {
    trace(name).to_str().unwrap().to_string()
}

/// The value of `attr` on the element with `id`.
fn attr(html: &str, id: &str, attr: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let tag_end = at + html[at..].find('>').unwrap();
    let tag = &html[at..tag_end];
    let key = format!("{attr}=\"");
    let v = &tag[tag
        .find(&key)
        .unwrap_or_else(|| panic!("#{id} has no {attr}"))
        + key.len()..];
    v[..v.find('"').unwrap()].to_string()
}

/// Events of the selected phases (default: exec, run, exit), from
/// `summary --json`.
fn selected_events(summary: &Value, phases: &[&str]) -> u64 {
    summary["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| phases.contains(&p["phase"].as_str().unwrap()))
        .flat_map(|p| p["contexts"].as_object().unwrap().values())
        .map(|c| c["events"].as_u64().unwrap())
        .sum()
}

const DEFAULT: &[&str] = &["exec", "run", "exit"];

#[test]
fn html_numbers_are_summary_and_graph_numbers() {
    for name in [ARM_MIN, ARM_GRAPH] {
        let t = path(name);
        let out = workdir().join(format!("{name}.html"));
        ok(&["html", &t, "-o", out.to_str().unwrap()]);
        let html = std::fs::read_to_string(&out).unwrap();
        let s = json(&["summary", "--json", &t]);
        for (id, key) in [
            ("fact-target-events", "target_events"),
            ("fact-events", "events"),
            ("fact-unique-functions", "unique_functions"),
            ("fact-edges", "edges"),
        ] {
            assert_eq!(
                attr(&html, id, "data-value"),
                s[key].to_string(),
                "{name} {id}"
            );
        }
        assert_eq!(
            attr(&html, "fact-lost", "data-value"),
            s["lost"]["total"].to_string()
        );
        for p in s["phases"].as_array().unwrap() {
            for (ctx, cell) in p["contexts"].as_object().unwrap() {
                let id = format!("heat-{}-{ctx}", p["phase"].as_str().unwrap());
                assert_eq!(attr(&html, &id, "data-events"), cell["events"].to_string());
                assert_eq!(
                    attr(&html, &id, "data-functions"),
                    cell["unique_functions"].to_string()
                );
            }
        }
        // Every event of the target, all phases, is in a timeline bin.
        assert_eq!(
            attr(&html, "timeline-svg", "data-events"),
            s["target_events"].to_string()
        );
        let g = json(&["graph", "--format", "json", &t]);
        let nodes = g["nodes"].as_array().unwrap().len();
        assert!(nodes < ftrace_report::pages::TOP_NODES, "{name}: all drawn");
        assert_eq!(attr(&html, "callgraph", "data-nodes"), nodes.to_string());
        assert_eq!(html.matches("<g class=\"node ").count(), nodes);
        assert_eq!(
            html.matches("<path class=\"edge ").count(),
            g["edges"].as_array().unwrap().len()
        );
        assert!(
            html.contains("data-marks=\"execve"),
            "{name}: execve subtree"
        );
        assert!(html.contains("fault\""), "{name}: page-fault path");
        assert_eq!(
            attr(&html, "list-funcs", "data-rows"),
            s["unique_functions"].to_string()
        );
        assert!(html.contains("default-src 'none'"));
        assert!(!html.contains("https://") && !html.contains("http://"));
        assert!(html.len() < 2 << 20, "{name}: {} bytes", html.len());
    }
}

#[test]
fn diff_page_colours_what_only_one_trace_needs() {
    let (a, b) = (path(ARM_MIN), path(ARM_MIN_LARGE));
    let html = String::from_utf8(ok(&["html", &a, &b])).unwrap();
    let d = json(&["diff", "--json", &a, &b]);
    for (part, id, class) in [
        ("only_a", "functions-only-a", "only-a"),
        ("only_b", "functions-only-b", "only-b"),
    ] {
        let n = d["functions"][part].as_array().unwrap().len();
        assert_eq!(
            attr(&html, &format!("fact-{id}"), "data-value"),
            n.to_string()
        );
        assert_eq!(
            html.matches(&format!("<g class=\"node {class}\"")).count(),
            n,
            "{part}"
        );
        assert_eq!(
            attr(&html, &format!("list-{class}"), "data-rows"),
            n.to_string()
        );
    }
    // Each trace's phase x context table, side by side.
    for (side, t) in [("a", &a), ("b", &b)] {
        let s = json(&["summary", "--json", t]);
        for p in s["phases"].as_array().unwrap() {
            for (ctx, cell) in p["contexts"].as_object().unwrap() {
                let id = format!("heat-{side}-{}-{ctx}", p["phase"].as_str().unwrap());
                assert_eq!(attr(&html, &id, "data-events"), cell["events"].to_string());
            }
        }
    }
    // Two runs of the same kernel: min's has functions min.large's lacks
    // (a slab refill, a dequeue), none the other way round.
    assert!(!d["functions"]["only_a"].as_array().unwrap().is_empty());
    assert!(html.contains("only in A: "));
}

#[test]
fn perfetto_events_parse_back_and_nest() {
    for name in [ARM_MIN, ARM_GRAPH] {
        let t = path(name);
        let j = json(&["perfetto", &t]);
        let s = json(&["summary", "--json", &t]);
        let events = j["traceEvents"].as_array().unwrap();
        for e in events {
            for k in ["name", "ph", "ts", "pid", "tid"] {
                assert!(!e[k].is_null(), "{name}: {k} missing in {e}");
            }
            assert!(e["ts"].as_f64().is_some() && e["pid"].as_u64().is_some());
        }
        let pid = s["target"]["pid"].as_u64().unwrap();
        let calls: Vec<&Value> = events
            .iter()
            .filter(|e| e["ph"] != "M" && e["pid"] == pid)
            .collect();
        assert_eq!(calls.len() as u64, selected_events(&s, DEFAULT), "{name}");
        let graph = name == ARM_GRAPH;
        // function: each event on its CPU's track too.
        let on_cpus = events
            .iter()
            .filter(|e| e["ph"] != "M" && e["pid"] == ftrace_report::export::CPUS_PID)
            .count();
        assert_eq!(on_cpus, if graph { 0 } else { calls.len() }, "{name}");
        assert!(calls
            .iter()
            .all(|e| e["ph"] == if graph { "X" } else { "i" }));
        assert!(events
            .iter()
            .any(|e| e["ph"] == "M" && e["name"] == "thread_name"));
        if graph {
            // Complete events of one thread nest: a call inside another
            // ends before it.
            let mut open: Vec<(f64, f64)> = Vec::new();
            let mut by_start: Vec<(f64, f64)> = calls
                .iter()
                .map(|e| {
                    let ts = e["ts"].as_f64().unwrap();
                    (ts, ts + e["dur"].as_f64().unwrap())
                })
                .collect();
            by_start.sort_by(|x, y| x.0.total_cmp(&y.0).then(y.1.total_cmp(&x.1)));
            for (start, end) in by_start {
                // Microseconds as floats: a call ending where the next starts
                // may be a rounding error past it.
                while open.last().is_some_and(|&(_, e)| e <= start + 1e-6) {
                    open.pop();
                }
                if let Some(&(_, parent_end)) = open.last() {
                    assert!(end <= parent_end + 1e-6, "{name}: {start}..{end} crosses");
                }
                open.push((start, end));
            }
        }
    }
}

fn folded_counts(out: &[u8]) -> BTreeMap<String, u64> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| {
            let (stack, n) = l.rsplit_once(' ').unwrap();
            (stack.to_string(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn folded_counts_add_up_to_the_events() {
    for name in [ARM_MIN, ARM_GRAPH] {
        let t = path(name);
        let s = json(&["summary", "--json", &t]);
        let f = folded_counts(&ok(&["folded", &t]));
        assert_eq!(
            f.values().sum::<u64>(),
            selected_events(&s, DEFAULT),
            "{name}"
        );
        let all = folded_counts(&ok(&["folded", "--phase", "all", &t]));
        assert_eq!(
            all.values().sum::<u64>(),
            s["target_events"].as_u64().unwrap(),
            "{name}"
        );
        // Stacks, not just leaves: execve's callees sit under it.
        assert!(
            f.keys()
                .any(|k| k.contains("__arm64_sys_execve;") && k.split(';').count() > 2),
            "{name}"
        );
    }
}

#[test]
fn html_errors_have_their_exit_codes() {
    let t = path(ARM_MIN);
    let three = run(&["html", &t, &t, &t]);
    assert_eq!(three.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&three.stderr).contains("html takes 1 or 2 trace files"));
    let build = run(&["html", "--kernel-build", "/nonexistent", &t]);
    assert_eq!(build.status.code(), Some(9));
    let no_dot = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(["html", &t])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(no_dot.status.code(), Some(11));
    let err = String::from_utf8_lossy(&no_dot.stderr);
    assert!(
        err.contains("cannot run Graphviz's dot") && err.lines().count() == 1,
        "{err}"
    );
    let unwritable = run(&["html", &t, "-o", "/nonexistent/page.html"]);
    assert_eq!(unwritable.status.code(), Some(6));
    let callers = run(&["folded", "--callers-only", &t]);
    assert_eq!(callers.status.code(), Some(2));
    for (cmd, what) in [
        ("perfetto", "Trace Event JSON"),
        ("folded", "folded stacks"),
    ] {
        let help = String::from_utf8(ok(&[cmd, "--help"])).unwrap();
        assert!(help.contains(what) && help.contains("Exit status"), "{cmd}");
    }
    let help = String::from_utf8(ok(&["html", "--help"])).unwrap();
    assert!(help.contains("11 html: Graphviz's dot"));
}

/// The C original's trace (other tasks mixed in, CRLF line ends) read from
/// standard input: the page is the target's alone.
#[test]
fn html_of_the_original_x86_trace_from_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(["html", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = common::read(X86_FIXTURE);
    let writer = std::thread::spawn(move || stdin.write_all(&text).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let html = String::from_utf8(out.stdout).unwrap();
    let s = json(&["summary", "--json", &path(X86_FIXTURE)]);
    assert_ne!(s["target_events"], s["events"]);
    assert_eq!(
        attr(&html, "fact-target-events", "data-value"),
        s["target_events"].to_string()
    );
    assert_eq!(
        attr(&html, "timeline-svg", "data-events"),
        s["target_events"].to_string()
    );
}
