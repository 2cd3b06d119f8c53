//! The runs themselves: their files, exit codes, restored settings, lost events.

use super::common::*;
use std::fs;
use trace_analysis::names;

#[test]
fn kernel_config_keeps_the_tracing_options_after_olddefconfig() {
    // `config` is the guest kernel's .config: kernel.config completed by
    // `make olddefconfig` on Debian's 6.12 source.
    let cfg = read("config");
    for opt in [
        "FUNCTION_TRACER",
        "FUNCTION_GRAPH_TRACER",
        "DYNAMIC_FTRACE",
        "BLK_DEV_INITRD",
        "DEVTMPFS",
    ] {
        assert!(
            cfg.lines().any(|l| l == format!("CONFIG_{opt}=y")),
            "CONFIG_{opt}=y is gone from the guest kernel's config"
        );
    }
}

#[test]
fn every_file_matches_the_guests_manifest() {
    let manifest = read("manifest.sha256");
    let mut n = 0;
    for line in manifest.lines() {
        let (sum, name) = line.split_once("  ").expect("sha256sum format");
        let data = fs::read(results().join(name)).unwrap();
        assert_eq!(console_frames::sha256_hex(&data), sum, "{name}");
        n += 1;
    }
    for name in [
        "min.trace",
        "min.large.trace",
        "fgraph.trace",
        "kallsyms",
        "interrupts.before",
        "interrupts.after",
    ] {
        assert!(
            manifest.contains(&format!("  {name}\n")),
            "{name} missing from the manifest"
        );
    }
    assert!(n >= 20, "only {n} files came back");
}

#[test]
fn runs_end_with_the_documented_exit_codes() {
    let runs = runs();
    // --duration kills the never-ending payloads: 128 + SIGKILL.
    for id in ["min", "min.large", "fgraph"] {
        assert_eq!(
            runs[id],
            "137",
            "{id}: {}",
            read(&format!("{id}.ftrace_it.log"))
        );
    }
    assert_eq!(
        runs["missing"],
        "65",
        "missing program: {}",
        read("missing.ftrace_it.log")
    );
    assert_eq!(
        runs["badcpu"],
        "69",
        "bad CPU: {}",
        read("badcpu.ftrace_it.log")
    );
    // The seed's recipe opens trace_pipe first: the kernel then refuses the
    // tracer change, and ftrace_it says so and puts everything back.
    assert_eq!(
        runs["busy"],
        "68",
        "trace_pipe reader open: {}",
        read("busy.ftrace_it.log")
    );
    assert!(
        read("busy.ftrace_it.log").contains("trace_pipe reader is open"),
        "{}",
        read("busy.ftrace_it.log")
    );
    for id in ["missing", "badcpu", "busy"] {
        let log = read(&format!("{id}.ftrace_it.log"));
        assert_eq!(
            log.lines().count(),
            1,
            "{id}: one-line error expected, got {log:?}"
        );
    }
}

#[test]
fn a_run_killed_mid_trace_is_put_back_by_restore() {
    // guest_init killed ftrace_it with SIGKILL while it traced, saved the
    // settings as the kill left them, then ran `ftrace_it --restore`.
    assert_eq!(
        runs()["killed"],
        "signal 9",
        "{}",
        read("killed.ftrace_it.log")
    );
    let before = read("killed.state-before");
    let killed = read("killed.state-killed");
    let changed: Vec<&str> = killed
        .lines()
        .filter(|l| !before.lines().any(|b| b == *l))
        .collect();
    assert!(
        changed.contains(&"tracefs/current_tracer: function"),
        "the kill left no tracer set: {changed:?}"
    );
    assert!(
        changed.iter().any(|l| l.starts_with("irq/")),
        "the kill left no IRQ moved: {changed:?}"
    );
    assert!(
        changed.contains(&"tracefs/options/sym-addr: 1"),
        "the kill left sym-addr off: {changed:?}"
    );
    let log = read("killed.restore.log");
    assert_eq!(read("killed.restore-exit").trim(), "0", "{log}");
    for what in [
        "/current_tracer",
        "/options/sym-addr",
        "/set_ftrace_pid",
        "/smp_affinity_list",
    ] {
        assert!(
            log.lines()
                .any(|l| l.starts_with("ftrace_it: restored /") && l.ends_with(what)),
            "--restore did not say it restored {what}: {log}"
        );
    }
    assert_eq!(
        read("killed.state-after"),
        before,
        "--restore left settings changed"
    );
    // The next run found no stale journal.
    assert_eq!(runs()["fgraph"], "137", "{}", read("fgraph.ftrace_it.log"));
}

#[test]
fn settings_and_irq_affinities_are_restored_after_every_run() {
    for id in runs().keys() {
        let before = read(&format!("{id}.state-before"));
        let after = read(&format!("{id}.state-after"));
        assert!(
            before.contains("tracefs/current_tracer: "),
            "{id}: no tracefs state"
        );
        assert!(
            before.contains("/smp_affinity: "),
            "{id}: no IRQ affinities"
        );
        assert_eq!(before, after, "{id} left settings changed");
    }
}

#[test]
fn no_ring_buffer_reader_artefacts_in_the_targets_trace() {
    let artefacts: Vec<&str> = names::reader_artefacts().collect();
    for id in ["min", "min.large"] {
        let events = Trace::load(id).target_events();
        assert!(
            events.len() > 100,
            "{id}: only {} target events",
            events.len()
        );
        let found: Vec<&Event> = events
            .iter()
            .filter(|e| artefacts.contains(&e.func.as_str()))
            .collect();
        assert!(
            found.is_empty(),
            "{id}: {} tracing artefacts, e.g. {:?}",
            found.len(),
            found[0]
        );
    }
}

#[test]
fn no_events_lost() {
    for id in ["min", "min.large", "fgraph"] {
        let t = Trace::load(id);
        assert_eq!(
            t.header.get("lost_events").map(String::as_str),
            Some("0"),
            "{id}"
        );
        let stats: Vec<(&String, &String)> = t
            .header
            .iter()
            .filter(|(k, _)| {
                k.len() > 3 && k.starts_with("cpu") && k[3..].bytes().all(|b| b.is_ascii_digit())
            })
            .collect();
        assert!(!stats.is_empty(), "{id}: no per-CPU stats in the header");
        for (cpu, v) in stats {
            for field in ["overrun", "commit_overrun", "dropped"] {
                assert!(v.contains(&format!("{field}=0")), "{id} {cpu}: {v}");
            }
        }
        assert!(
            !t.body.iter().any(|l| l.contains("LOST")),
            "{id}: LOST marker in the trace"
        );
    }
}
