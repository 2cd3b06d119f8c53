//! The `make compare` recordings (ftrace_report/tests/data): Debian's arm64
//! trace-cmd 3.1.6, file format 7, zstd. The event counts are those of
//! `trace-cmd report -R` of the same files (the `.report-raw.xz` and
//! `.report-graph-raw.xz` fixtures: one line per event after `cpus=2`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use trace_dat::{Compression, Item, TraceDat};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ftrace_report/tests/data")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Events by name, and losses.
fn count(dat: &TraceDat<'_>) -> (BTreeMap<String, u64>, u64) {
    let mut by_name = BTreeMap::new();
    let mut lost = 0;
    let mut last = 0;
    for item in dat.events() {
        match item.unwrap() {
            Item::Event(r) => {
                assert!(r.ts >= last, "events in time order");
                last = r.ts;
                let f = dat.event_format(r.data).unwrap();
                *by_name.entry(f.name.clone()).or_default() += 1;
            }
            Item::Lost { .. } => lost += 1,
        }
    }
    (by_name, lost)
}

#[test]
fn function_recording() {
    let file = fixture("aarch64-6.12-trace-cmd-min.dat");
    let dat = TraceDat::parse(&file).unwrap();
    assert_eq!(dat.version, 7);
    assert_eq!(dat.compression, Compression::Zstd);
    assert_eq!(dat.options.cpu_count, Some(2));
    assert_eq!(dat.options.trace_clock.as_deref(), Some("local"));
    assert_eq!(
        dat.options.uname.as_deref(),
        Some("Linux min 6.12.117-min-prog-trace aarch64")
    );
    assert_eq!(dat.options.cpu_stats.len(), 2);
    assert_eq!(dat.page.commit_size, 8);
    let f = dat.format_named("ftrace", "function").unwrap();
    assert_eq!(f.field("parent_ip").unwrap().offset, 16);
    assert!(dat.kallsyms.len() > 10_000, "{}", dat.kallsyms.len());
    let (by_name, lost) = count(&dat);
    assert_eq!(by_name, BTreeMap::from([("function".to_string(), 16098)]));
    assert_eq!(lost, 0);
}

#[test]
fn function_graph_recording() {
    let file = fixture("aarch64-6.12-trace-cmd-min-graph.dat");
    let dat = TraceDat::parse(&file).unwrap();
    let (by_name, _) = count(&dat);
    let raw = std::process::Command::new("xz")
        .args(["-dc"])
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../ftrace_report/tests/data/aarch64-6.12-trace-cmd-min.report-graph-raw.xz"),
        )
        .output()
        .unwrap();
    let text = String::from_utf8(raw.stdout).unwrap();
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let name = line.split(": ").nth(1).unwrap().trim_end_matches(':');
        *want
            .entry(name.split_whitespace().next().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(want["funcgraph_entry"] > 10_000, "{want:?}");
    assert_eq!(by_name, want);
}

#[test]
fn every_truncation_is_an_error_or_fewer_events() {
    let file = fixture("aarch64-6.12-trace-cmd-min.dat");
    let all = trace_dat::fuzzing::check(&file).unwrap();
    for cut in (0..file.len()).step_by(997) {
        match trace_dat::fuzzing::check(&file[..cut]) {
            Ok(n) => assert!(n <= all, "cut at {cut}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("trace.dat: "), "{msg}");
                assert!(!msg.contains('\n'), "{msg}");
            }
        }
    }
}

/// An item as (CPU, time, event bytes, loss mark's count).
type Owned = (u32, u64, Vec<u8>, Option<Option<u64>>);

/// Every item of a file, with the event bytes.
fn items(file: &[u8]) -> Vec<Owned> {
    let dat = TraceDat::parse(file).unwrap();
    dat.events()
        .map(|i| match i.unwrap() {
            Item::Event(r) => (r.cpu, r.ts, r.data.to_vec(), None),
            Item::Lost { cpu, ts, count } => (cpu, ts, Vec::new(), Some(count)),
        })
        .collect()
}

#[test]
fn format_6_and_zlib_files_give_the_same_events() {
    use trace_dat::fuzzing::{rewrite, Layout};
    for name in [
        "aarch64-6.12-trace-cmd-min.dat",
        "aarch64-6.12-trace-cmd-min-graph.dat",
    ] {
        let file = fixture(name);
        let want = items(&file);
        let v6 = rewrite(&file, Layout::V6, None);
        let dat = TraceDat::parse(&v6).unwrap();
        assert_eq!((dat.version, dat.compression), (6, Compression::None));
        assert_eq!(dat.options.cpu_count, Some(2));
        assert_eq!(dat.options.trace_clock.as_deref(), Some("local"));
        assert_eq!(items(&v6), want, "{name} as format 6");
        let z = rewrite(&file, Layout::V7Zlib, None);
        let dat = TraceDat::parse(&z).unwrap();
        assert_eq!((dat.version, dat.compression), (7, Compression::Zlib));
        assert!(dat.kallsyms.len() > 10_000);
        assert_eq!(items(&z), want, "{name} with zlib");
    }
}

#[test]
fn lost_event_marks() {
    use trace_dat::fuzzing::{rewrite, Layout, LostMark};
    let file = fixture("aarch64-6.12-trace-cmd-min.dat");
    let events: Vec<_> = items(&file);
    for count in [Some(1234), None] {
        let mark = LostMark {
            cpu: 1,
            page: 5,
            count,
        };
        for layout in [Layout::V6, Layout::V7Zlib] {
            let got = items(&rewrite(&file, layout, Some(mark)));
            let lost: Vec<_> = got.iter().filter(|i| i.3.is_some()).collect();
            assert_eq!(lost.len(), 1, "{lost:?}");
            assert_eq!((lost[0].0, lost[0].3), (1, Some(count)));
            let rest: Vec<_> = got.iter().filter(|i| i.3.is_none()).cloned().collect();
            assert_eq!(rest, events, "the events stay as they were");
        }
    }
}
