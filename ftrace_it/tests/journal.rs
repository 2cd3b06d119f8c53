//! `ftrace_it` against a fake tracefs (tests/common/mod.rs).
//! The journal: written before the first change, a SIGKILLed run's journal
//! blocking the next run and replayed by --restore, corrupt journals refused.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts ftrace_it with `args`, waits until it traces with `tracer`, and
/// SIGKILLs it: nothing of its own restore runs.
fn kill_while_tracing(t: &Tree, args: &[&str], tracer: &str) {
    let mut child = t
        .cmd(&[], args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let tracer = format!("{tracer}\n");
    while t.read("tr/tracing_on") != "1\n" || t.read("tr/current_tracer") != tracer {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "tracing never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn after_a_sigkill_the_journal_blocks_new_runs_and_restore_puts_everything_back() {
    let t = Tree::new("journal");
    // Unroutable, as in unroutable_irqs_are_skipped_and_not_counted: the
    // replay cannot know it was never moved, and must not fail on it.
    fs::remove_file(t.path("proc/irq/4/smp_affinity_list")).unwrap();
    symlink("/proc/uptime", t.path("proc/irq/4/smp_affinity_list")).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    kill_while_tracing(
        &t,
        &[
            "--tracer",
            "function_graph",
            "--buffer-kb",
            "2048",
            "--duration",
            "60",
            "-o",
            &out_file,
            "/bin/sleep",
            "100",
        ],
        "function_graph",
    );
    // Killed: every setting is as the dead run left it, and so is the journal.
    assert_eq!(t.read("tr/tracing_on"), "1\n");
    assert_eq!(t.read("tr/options/funcgraph-proc"), "1\n");
    assert_eq!(t.read("tr/per_cpu/cpu1/buffer_size_kb"), "2048\n");
    assert_eq!(t.read("proc/irq/1/smp_affinity_list"), "0\n");
    assert_ne!(t.read("tr/set_ftrace_pid"), "no pid\n");
    let journal = fs::read(t.journal()).expect("the journal of the dead run");
    let changed = t.snapshot();

    // A new run refuses, touches nothing, and says what to do.
    let out = t.run(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 74, "stderr: {}", stderr(&out));
    assert_one_line_error(&out, "run 'ftrace_it --restore'");
    assert_eq!(changed, t.snapshot(), "a refused run changed the tree");
    assert_eq!(fs::read(t.journal()).unwrap(), journal);

    // --restore puts back every value as found, then removes the journal.
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "stderr: {}", stderr(&out));
    let root = t.root.display();
    // One line per value put back, in the order of the session's own
    // restore; IRQ 4, which the kernel would not route, is not among them.
    let mut restored = vec![
        "tr/current_tracer".to_string(),
        "tr/options/funcgraph-proc".to_string(),
        "tr/set_ftrace_notrace".to_string(),
        "tr/events/sched/sched_process_fork/enable".to_string(),
        "tr/set_event_pid".to_string(),
        "tr/options/event-fork".to_string(),
        "tr/options/function-fork".to_string(),
        "tr/set_ftrace_pid".to_string(),
        "tr/per_cpu/cpu1/buffer_size_kb".to_string(),
    ];
    restored.extend([1, 8, 12, 24, 25].map(|n| format!("proc/irq/{n}/smp_affinity_list")));
    restored.push("tr/tracing_on".to_string());
    let restored: Vec<String> = restored
        .iter()
        .map(|p| format!("ftrace_it: restored {root}/{p}"))
        .collect();
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), restored);
    assert_restored(&before, &t);
    assert!(!t.journal().exists(), "the journal is removed");

    // Nothing left to do, and the next run goes ahead.
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!(
            "ftrace_it: no journal at {}: nothing to restore\n",
            t.journal().display()
        )
    );
    let out = t.run(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_restored(&before, &t);
}

#[test]
fn a_sigkilled_sym_addr_run_is_journaled_and_restored() {
    let t = Tree::new("symaddr-journal");
    let before = t.snapshot();
    let out_file = t.out_file();
    kill_while_tracing(
        &t,
        &[
            "--sym-addr",
            "--duration",
            "60",
            "-o",
            &out_file,
            "/bin/sleep",
            "100",
        ],
        "function",
    );
    assert_eq!(t.read("tr/options/sym-addr"), "1\n");
    let journal = fs::read(t.journal()).expect("the journal of the dead run");
    // Kind, path, NUL, the value as found, NUL.
    let record = format!("s{}/tr/options/sym-addr\0{}\0", t.root.display(), "0\n");
    assert!(
        journal
            .windows(record.len())
            .any(|w| w == record.as_bytes()),
        "{}",
        String::from_utf8_lossy(&journal)
    );
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let restored: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("ftrace_it: restored "))
        .map(|p| p.rsplit("/tr/").next().unwrap().to_string())
        .take(3)
        .collect();
    assert_eq!(
        restored,
        ["current_tracer", "options/sym-addr", "set_ftrace_notrace"]
    );
    assert_restored(&before, &t);
}

#[test]
fn a_corrupt_journal_is_75_and_nothing_is_restored() {
    let t = Tree::new("corrupt");
    let out_file = t.out_file();
    kill_while_tracing(
        &t,
        &["--duration", "60", "-o", &out_file, "/bin/sleep", "100"],
        "function",
    );
    let journal = fs::read(t.journal()).unwrap();
    let changed = t.snapshot();
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        ("not a journal", b"hello\n".to_vec()),
        ("cut short", journal[..journal.len() - 5].to_vec()),
        ("a record's NUL lost", {
            let at = journal.iter().position(|&c| c == 0).unwrap();
            [&journal[..at], &journal[at + 1..]].concat()
        }),
        ("unknown kind", {
            let mut j = journal.clone();
            j["ftrace_it journal 1\n".len()] = b'x';
            j
        }),
    ];
    for (name, content) in cases {
        fs::write(t.journal(), &content).unwrap();
        let out = t.run(&["--restore"]);
        assert_eq!(code(&out), 75, "{name}: {}", stderr(&out));
        assert_one_line_error(&out, "is not a whole ftrace_it journal: nothing restored");
        assert_eq!(changed, t.snapshot(), "{name}: the tree changed");
        assert_eq!(fs::read(t.journal()).unwrap(), content, "{name}: journal");
    }
    // The intact journal still restores.
    fs::write(t.journal(), &journal).unwrap();
    assert_eq!(code(&t.run(&["--restore"])), 0);
    assert!(!t.journal().exists());
}

#[test]
fn the_journal_is_on_disk_before_the_first_change_and_gone_after_the_restore() {
    let t = Tree::new("journal-order");
    let out_file = t.out_file();
    let (out, log) = t.strace(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(!t.journal().exists());
    let journal = t.journal().display().to_string();
    let call = |name: &str, arg: &str| {
        log.calls
            .iter()
            .position(|c| c.name.starts_with(name) && c.args.contains(arg))
            .unwrap_or_else(|| panic!("no {name} of {arg}"))
    };
    let rename = call("rename", &format!("\"{journal}.new\""));
    assert!(log.calls[rename].args.contains("RENAME_NOREPLACE"));
    assert_eq!(log.calls[rename].ret, "0");
    let fsync = call("fsync", "");
    assert!(fsync < rename, "the journal is synced, then renamed");
    let tree: Vec<&Write> = log
        .writes
        .iter()
        .filter(|x| x.path.starts_with("tr/") || x.path.starts_with("proc/"))
        .collect();
    assert!(
        rename < tree[0].at,
        "the journal comes before the first change"
    );
    let unlink = call("unlink", &format!("\"{journal}\""));
    assert!(
        tree.last().unwrap().at < unlink,
        "the journal goes after the last restore"
    );
}

#[test]
fn a_failed_restore_keeps_the_journal_for_restore() {
    let t = Tree::new("restorefail-journal");
    let before = t.snapshot();
    let tracer = t.path("tr/current_tracer").display().to_string();
    let out_file = t.out_file();
    let script = format!("rm {tracer} && mkdir {tracer}");
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", &script]);
    assert_eq!(code(&out), 72);
    assert!(t.journal().exists(), "kept: the restore was not complete");
    // Still broken: --restore fails the same way and keeps the journal.
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 72);
    assert_one_line_error(&out, "cannot restore");
    assert!(t.journal().exists());
    fs::remove_dir(&tracer).unwrap();
    fs::write(&tracer, "function\n").unwrap();
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_restored(&before, &t);
    assert!(!t.journal().exists());
}

#[test]
fn help_documents_the_journal_and_its_statuses() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    for needle in [
        "--restore",
        "--journal FILE",
        "/run/ftrace_it.journal",
        "74 journal left (run --restore)",
        "75 journal corrupt",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let out = Command::new(BIN)
        .args(["--restore", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 64);
    assert_one_line_error(&out, "--restore runs no PROGRAM");
}
