//! `trace-cmd report` text of a real recording: Debian's arm64 trace-cmd
//! 3.1.6 tracing `min` in the aarch64 guest (`trace-cmd record -p function
//! -F /usr/bin/min`, and `-p function_graph` in the same boot), their
//! report variants made from the same trace.dat files by the same trace-cmd
//! (`make compare`, scripts/trace-cmd-fixtures.sh). The reference is
//! `report -R`: the events' own fields (`ip=`, `parent_ip=`; `func=`),
//! printed without the plugins that print the other variants. The trace.dat
//! files themselves (read by the trace_dat crate) must give the same.

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

/// The trace.dat files themselves (`dat`: the function recording,
/// `graph.dat`: the function_graph one).
fn dat(which: &str) -> String {
    let name = match which {
        "dat" => format!("{BASE}.dat"),
        _ => format!("{BASE}-graph.dat"),
    };
    common::manifest()
        .join("tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn funcs_of(path: &str, extra: &[&str]) -> BTreeSet<String> {
    let args: Vec<&str> = ["funcs"]
        .iter()
        .chain(extra)
        .copied()
        .chain([path])
        .collect();
    ftrace_report(&args).lines().map(str::to_string).collect()
}

fn summary_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&ftrace_report(&["summary", "--json", path])).unwrap()
}

/// Lines of a raw report that contain `what`.
fn raw_count(variant: &str, what: &str) -> u64 {
    let text = std::fs::read_to_string(fixture(variant)).unwrap();
    text.lines().filter(|l| l.contains(what)).count() as u64
}

#[test]
fn the_trace_dat_gives_the_raw_events_functions_and_callers() {
    let file = dat("dat");
    let s = summary_json(&file);
    let pid = target_pid("report-parent");
    assert_eq!(s["target"]["pid"].as_u64(), Some(u64::from(pid)));
    assert_eq!(
        s["events"].as_u64(),
        Some(raw_count("report-raw", " function: "))
    );
    let (callees, callers) = raw_sets(pid);
    let all: BTreeSet<String> = callees.union(&callers).cloned().collect();
    assert_eq!(funcs_of(&file, &["--phase", "all"]), all);
    // Phase by phase as the report with parents (same events, same order).
    for phase in ["pre-exec", "exec", "run", "exit"] {
        let p = ["--phase", phase];
        assert_eq!(funcs_of(&file, &p), funcs("report-parent", &p), "{phase}");
    }
}

#[test]
fn the_graph_trace_dat_gives_the_raw_entries_functions() {
    let file = dat("graph.dat");
    let s = summary_json(&file);
    let pid = target_pid("report-graph");
    assert_eq!(s["target"]["pid"].as_u64(), Some(u64::from(pid)));
    // An entry is one event; its return is structure.
    assert_eq!(
        s["events"].as_u64(),
        Some(raw_count("report-graph-raw", " funcgraph_entry: "))
    );
    assert_eq!(
        s["structure_lines"].as_u64(),
        Some(raw_count("report-graph-raw", " funcgraph_exit: "))
    );
    assert_eq!(
        funcs_of(&file, &["--phase", "all"]),
        raw_graph_functions(pid)
    );
    for phase in ["pre-exec", "exec", "run", "exit"] {
        let p = ["--phase", phase];
        assert_eq!(funcs_of(&file, &p), funcs("report-graph", &p), "{phase}");
    }
}

#[test]
fn every_command_reads_a_trace_dat() {
    let file = dat("dat");
    let text = fixture("report-parent");
    let graph = ftrace_report(&["graph", "--format", "json", &file]);
    assert!(graph.contains("__arm64_sys_execve"), "{graph}");
    let same = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(["diff", "--exit-code", &file, &text])
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    let stdin = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(["funcs", "-"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(stdin.status.success(), "{stdin:?}");
    assert_eq!(
        String::from_utf8(stdin.stdout).unwrap(),
        ftrace_report(&["funcs", &file])
    );
    let summary = ftrace_report(&["summary", &file]);
    assert!(
        summary.contains("header trace.dat.file: file format 7, zstd compression"),
        "{summary}"
    );
    assert!(summary.contains("lost events: 0"), "{summary}");
    assert!(
        summary.contains("header kernel: 6.12.117-min-prog-trace\n"),
        "{summary}"
    );
}

#[test]
fn a_damaged_trace_dat_is_refused_in_one_line() {
    let bytes = std::fs::read(dat("dat")).unwrap();
    let dir = common::workdir();
    let cut = dir.join("cut.dat");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let mut flipped = bytes.clone();
    // The offset of the first options section (after the magic, "7\0",
    // endianness, long size, page size, "zstd\0" "1.5.4\0") points to the
    // last 8 bytes: too short for a section header.
    let at = (bytes.len() - 8) as u64;
    flipped[0x1d..0x25].copy_from_slice(&at.to_le_bytes());
    let flip = dir.join("flip.dat");
    std::fs::write(&flip, &flipped).unwrap();
    let mut damaged = bytes.clone();
    damaged[bytes.len() / 2] ^= 0x40;
    let zstd = dir.join("zstd.dat");
    std::fs::write(&zstd, &damaged).unwrap();
    for (path, part) in [
        (
            &cut,
            "options section at offset 150059: beyond the end of the file",
        ),
        (&flip, "options section"),
        (&zstd, "kallsyms section at offset 20457: zstd data damaged"),
    ] {
        for cmd in ["funcs", "summary"] {
            let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
                .args([cmd, path.to_str().unwrap()])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(10), "{cmd} {out:?}");
            let err = String::from_utf8(out.stderr).unwrap();
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(&format!(": trace.dat: {part}")), "{err}");
            assert!(err.contains("truncated or damaged"), "{err}");
        }
    }
}

/// Runs `ftrace_report ARGS`: status, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn format_6_and_zlib_files_read_alike() {
    use trace_dat::fuzzing::{rewrite, Layout};
    let dir = common::workdir();
    for which in ["dat", "graph.dat"] {
        let path = dat(which);
        let file = std::fs::read(&path).unwrap();
        let want = ftrace_report(&["funcs", "--phase", "all", &path]);
        for (layout, name) in [(Layout::V6, "v6"), (Layout::V7Zlib, "zlib")] {
            let out = dir.join(format!("{name}-{which}"));
            std::fs::write(&out, rewrite(&file, layout, None)).unwrap();
            let out = out.to_str().unwrap();
            assert_eq!(
                ftrace_report(&["funcs", "--phase", "all", out]),
                want,
                "{name} {which}"
            );
            let s = summary_json(out);
            assert_eq!(s["events"], summary_json(&path)["events"], "{name} {which}");
        }
    }
}

#[test]
fn lost_events_are_reported_as_the_text_markers_are() {
    use trace_dat::fuzzing::{rewrite, Layout, LostMark};
    let file = std::fs::read(dat("dat")).unwrap();
    let dir = common::workdir();
    for (count, total, warning) in [
        (Some(1234), "lost events: 1234", "1234 events were lost"),
        (None, "lost events: 0", "0 or more events were lost"),
    ] {
        let mark = LostMark {
            cpu: 1,
            page: 5,
            count,
        };
        let out = dir.join(format!("lost-{count:?}.dat"));
        std::fs::write(&out, rewrite(&file, Layout::V6, Some(mark))).unwrap();
        let (code, text, err) = run(&["summary", out.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
        assert!(text.contains(total), "{text}");
        assert!(text.contains("  [LOST] markers: 1 ("), "{text}");
        assert_eq!(count.is_none(), text.contains("without a count"), "{text}");
        assert!(err.is_empty(), "{err}");
        let (code, _, err) = run(&["funcs", out.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains(warning), "{err}");
    }
}

/// `groundtruth` cuts the ground truth at the trace's last call: from a
/// trace.dat, that of its last function event, as in the raw report.
#[test]
fn the_last_call_of_a_trace_dat() {
    let file = std::fs::read(dat("dat")).unwrap();
    let mut a = trace_analysis::analyze::Analysis::new(None);
    a.read_trace_dat(&file).unwrap();
    let raw = std::fs::read_to_string(fixture("report-raw")).unwrap();
    let want = raw
        .lines()
        .rev()
        .find_map(|l| l.split_once(" ip=").map(|(_, f)| f))
        .and_then(|f| f.split_whitespace().next())
        .unwrap();
    let got = a.last_call.map(|id| a.names.name(id).to_vec());
    assert_eq!(got.as_deref(), Some(want.as_bytes()));
}

#[test]
fn a_trace_dat_without_function_events_says_how_to_record() {
    use trace_dat::fuzzing::{rewrite, Layout};
    let file = std::fs::read(dat("dat")).unwrap();
    let mut v6 = rewrite(&file, Layout::V6, None);
    // The function format's ID made another one's: its events are unknown.
    let at = v6
        .windows(20)
        .position(|w| w == b"name: function\nID: 1")
        .unwrap();
    v6[at + 19] = b'9';
    let out = common::workdir().join("no-function.dat");
    std::fs::write(&out, &v6).unwrap();
    let (code, _, err) = run(&["funcs", out.to_str().unwrap()]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("no function or function_graph event in the trace.dat's 16098 events; record with `trace-cmd record -p function`"),
        "{err}"
    );
}

#[test]
fn the_trace_dat_gives_every_traced_functions_addresses() {
    let file = std::fs::read(dat("dat")).unwrap();
    let mut an = trace_analysis::analyze::Analysis::new(None);
    an.read_trace_dat(&file).unwrap();
    // Its events hold addresses, not names: each name has one at least, and
    // all are arm64 kernel addresses (no KASLR in the guest).
    for f in funcs_of(&dat("dat"), &["--phase", "all"]) {
        let a = an.addresses(f.as_bytes());
        assert!(!a.is_empty(), "{f}");
        assert!(a.iter().all(|&x| x >= 0xffff_8000_0000_0000), "{f}: {a:x?}");
    }
    assert_eq!(an.addresses(b"no_such_function"), [] as [u64; 0]);
}
