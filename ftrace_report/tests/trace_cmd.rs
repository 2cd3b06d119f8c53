//! `trace-cmd report` text of a real recording: Debian's arm64 trace-cmd
//! 3.1.6 tracing `min` in the aarch64 guest (`trace-cmd record -p function
//! -F /usr/bin/min`, and `-p function_graph` in the same boot), their
//! report variants made from the same trace.dat files by the same trace-cmd
//! (`make compare`, scripts/trace-cmd-fixtures.sh). The reference is
//! `report -R`: the events' own fields (`ip=`, `parent_ip=`; `func=`),
//! printed without the plugins that print the other variants.

// Shared with golden.rs and robustness.rs: their fixtures' names are not
// used here.
#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::process::Command;

const BASE: &str = "aarch64-6.12-trace-cmd-min";

fn fixture(variant: &str) -> String {
    common::trace(&format!("{BASE}.{variant}"))
        .to_string_lossy()
        .into_owned()
}

fn ftrace_report(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn funcs(variant: &str, extra: &[&str]) -> BTreeSet<String> {
    let file = fixture(variant);
    let args: Vec<&str> = ["funcs"]
        .iter()
        .chain(extra)
        .copied()
        .chain([file.as_str()])
        .collect();
    ftrace_report(&args).lines().map(str::to_string).collect()
}

/// The functions and their callers of the raw report's function events of
/// task `pid`: `COMM-PID [CPU] TS: function: ip=FUNC parent_ip=CALLER`.
fn raw_sets(pid: u32) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(fixture("report-raw")).unwrap();
    let (mut callees, mut callers) = (BTreeSet::new(), BTreeSet::new());
    let task = format!("-{pid} ");
    for line in text.lines() {
        let Some((head, fields)) = line.split_once(" function: ") else {
            continue;
        };
        if !head.contains(&task) {
            continue;
        }
        let mut words = fields.split_whitespace();
        let ip = words.next().and_then(|w| w.strip_prefix("ip=")).unwrap();
        let parent = words
            .next()
            .and_then(|w| w.strip_prefix("parent_ip="))
            .unwrap();
        callees.insert(ip.to_string());
        callers.insert(parent.to_string());
    }
    (callees, callers)
}

fn target_pid(variant: &str) -> u32 {
    let json = ftrace_report(&["summary", "--json", &fixture(variant)]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["target"]["pid"].as_u64().unwrap() as u32
}

#[test]
fn every_report_form_gives_the_raw_events_functions() {
    let pid = target_pid("report-parent");
    assert_eq!(target_pid("report"), pid);
    assert_eq!(target_pid("report-l"), pid);
    let (callees, callers) = raw_sets(pid);
    assert!(callees.len() > 400, "{} functions", callees.len());
    let all: BTreeSet<String> = callees.union(&callers).cloned().collect();
    assert!(all.len() > callees.len());
    for with_parents in ["report-parent", "report-l-parent"] {
        assert_eq!(
            funcs(with_parents, &["--phase", "all"]),
            all,
            "{with_parents}"
        );
    }
    for without in ["report", "report-noindent", "report-l"] {
        assert_eq!(funcs(without, &["--phase", "all"]), callees, "{without}");
    }
}

/// The functions of the raw function_graph report's entries of task `pid`:
/// `COMM-PID [CPU] TS: funcgraph_entry: func=FUNC depth=N`.
fn raw_graph_functions(pid: u32) -> BTreeSet<String> {
    let text = std::fs::read_to_string(fixture("report-graph-raw")).unwrap();
    let task = format!("-{pid} ");
    text.lines()
        .filter_map(|line| line.split_once(" funcgraph_entry: "))
        .filter(|(head, _)| head.contains(&task))
        .map(|(_, fields)| {
            let func = fields.split_whitespace().next().unwrap();
            func.strip_prefix("func=").unwrap().to_string()
        })
        .collect()
}

#[test]
fn function_graph_reports_give_the_raw_entries_functions() {
    let pid = target_pid("report-graph");
    assert_eq!(target_pid("report-graph-l"), pid);
    let want = raw_graph_functions(pid);
    assert!(want.len() > 400, "{} functions", want.len());
    for variant in ["report-graph", "report-graph-l"] {
        assert_eq!(funcs(variant, &["--phase", "all"]), want, "{variant}");
    }
    let summary = ftrace_report(&["summary", &fixture("report-graph")]);
    assert!(summary.contains("function_graph lines: "), "{summary}");
    assert!(!summary.contains("unparsable"), "{summary}");
}

#[test]
fn the_layouts_agree_phase_by_phase() {
    for phase in ["pre-exec", "exec", "run", "exit"] {
        let p = ["--phase", phase];
        let parents = funcs("report-parent", &p);
        assert_eq!(funcs("report-l-parent", &p), parents, "{phase}");
        let plain = funcs("report", &p);
        assert!(!plain.is_empty(), "{phase}");
        assert_eq!(funcs("report-noindent", &p), plain, "{phase}");
        assert_eq!(funcs("report-l", &p), plain, "{phase}");
    }
}

#[test]
fn summary_says_when_callers_are_unknown() {
    let events = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("function lines: "))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_string)
            .unwrap()
    };
    let plain = ftrace_report(&["summary", &fixture("report")]);
    let n = events(&plain);
    assert!(
        plain.contains(&format!("callers: unknown for {n} of {n} function events")),
        "{plain}"
    );
    let parents = ftrace_report(&["summary", &fixture("report-l-parent")]);
    assert_eq!(events(&parents), n);
    assert!(!parents.contains("callers: unknown"), "{parents}");
    assert!(parents.contains("comment                   1 (first at line 1)"));
}

#[test]
fn a_trace_dat_is_refused_in_one_line() {
    let dat = common::manifest().join(format!("tests/data/{BASE}.dat"));
    for cmd in ["funcs", "summary"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
            .args([cmd, dat.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{cmd}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("a trace-cmd trace.dat (file format 7), which is not read yet"),
            "{err}"
        );
    }
}
