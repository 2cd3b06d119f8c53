//! `ftrace_it` against a fake tracefs (tests/common/mod.rs).
//! The run and its ends: interactive mode, the program's exit, crash and
//! exec failure, --duration, signals to ftrace_it, a failing setup or restore.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn interactive_mode_prompts_waits_for_enter_and_leaves_the_buffer_size() {
    let t = Tree::new("interactive");
    let before = t.snapshot();
    let mut child = t
        .cmd(&[], &["/bin/true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nothing is released before enter: tracing stays off meanwhile.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(t.read("tr/tracing_on"), "0\n");
    assert_eq!(t.read("tr/current_tracer"), "function\n");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "All set, press enter to start\n"
    );
    assert_restored(&before, &t);
}

#[test]
fn a_closed_stdout_does_not_end_ftrace_it_before_the_restore() {
    let t = Tree::new("sigpipe");
    let before = t.snapshot();
    let mut child = t
        .cmd(&[], &["/bin/true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // No reader: the prompt's write gets EPIPE (and a SIGPIPE, blocked).
    drop(child.stdout.take());
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_restored(&before, &t);
}

#[test]
fn interactive_mode_touches_no_buffer_size() {
    let t = Tree::new("interactive-buffer");
    let (out, log) = t.strace(&["/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(
        !log.tree_writes()
            .iter()
            .any(|(p, _)| p.contains("buffer_size_kb")),
        "{:?}",
        log.tree_writes()
    );
}

#[test]
fn payload_crash_is_128_plus_signal_and_everything_is_restored() {
    let t = Tree::new("crash");
    let before = t.snapshot();
    let out_file = t.out_file();
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", "kill -SEGV $$"]);
    assert_eq!(code(&out), 128 + 11, "stderr: {}", stderr(&out));
    assert_eq!(header(&out_file)["exit"], "signal 11");
    assert_restored(&before, &t);
}

#[test]
fn exec_failure_is_reported_through_the_shared_page() {
    let t = Tree::new("execfail");
    let bogus = t.path("bogus");
    fs::write(&bogus, "not a program\0\x01\x02").unwrap();
    fs::set_permissions(&bogus, fs::Permissions::from_mode(0o755)).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    let out = t.run(&["-o", &out_file, bogus.to_str().unwrap()]);
    assert_eq!(code(&out), 70);
    assert_one_line_error(&out, "cannot execute");
    assert_one_line_error(&out, "exec format error");
    assert_restored(&before, &t);
}

#[test]
fn duration_kills_the_program_and_the_file_says_so() {
    let t = Tree::new("duration");
    let before = t.snapshot();
    let out_file = t.out_file();
    let start = Instant::now();
    let out = t.run(&["--duration", "0.3", "-o", &out_file, "/bin/sleep", "30"]);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(code(&out), 128 + 9, "stderr: {}", stderr(&out));
    let h = header(&out_file);
    assert_eq!(h["exit"], "signal 9");
    assert_eq!(h["duration"], "0.3");
    assert!(
        !Path::new(&format!("/proc/{}", h["pid"])).exists(),
        "the program is reaped"
    );
    assert_restored(&before, &t);
}

#[test]
fn sigint_sigterm_sighup_sigquit_to_ftrace_it_stop_record_and_restore() {
    for (sig, n) in [("INT", 2), ("TERM", 15), ("HUP", 1), ("QUIT", 3)] {
        let t = Tree::new(&format!("sig{sig}"));
        let before = t.snapshot();
        let out_file = t.out_file();
        let child = t
            .cmd(
                &[],
                &["--duration", "60", "-o", &out_file, "/bin/sleep", "100"],
            )
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while t.read("tr/tracing_on") != "1\n" || t.read("tr/current_tracer") != "function\n" {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "tracing never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let kill = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(child.id().to_string())
            .status();
        assert!(kill.unwrap().success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 128 + n, "SIG{sig}, stderr: {}", stderr(&out));
        let h = header(&out_file);
        assert_eq!(h["exit"], "signal 9", "SIG{sig}");
        assert!(
            !Path::new(&format!("/proc/{}", h["pid"])).exists(),
            "the program is reaped"
        );
        assert_restored(&before, &t);
    }
}

#[test]
fn the_spinning_child_dies_with_a_sigkilled_ftrace_it() {
    let t = Tree::new("sigkill");
    let mut child = t
        .cmd(&[], &["/bin/true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Set up and waiting for enter: the child spins on its CPU.
    let start = Instant::now();
    while t.read("tr/current_tracer") != "function\n" {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "setup never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = t.read("tr/set_ftrace_pid").trim().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    let stat = format!("/proc/{pid}/stat");
    let gone = || match fs::read_to_string(&stat) {
        Ok(s) => s.rsplit(')').next().unwrap().trim_start().starts_with('Z'),
        Err(_) => true,
    };
    while !gone() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "pid {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_failing_setup_step_restores_what_was_changed_before_it() {
    let t = Tree::new("setupfail");
    // Readable, but writing it fails (EACCES even for root).
    fs::remove_file(t.path("tr/set_ftrace_pid")).unwrap();
    symlink("/proc/sys/kernel/ostype", t.path("tr/set_ftrace_pid")).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 66);
    assert_one_line_error(&out, "set_ftrace_pid");
    let writes = log.tree_writes();
    assert!(
        writes.contains(&w("proc/irq/1/smp_affinity_list", "0\n")),
        "{writes:?}"
    );
    assert!(
        !writes.iter().any(|(p, _)| p == "tr/current_tracer"),
        "{writes:?}"
    );
    assert!(log
        .calls
        .iter()
        .all(|c| c.name != "execve" || c.pid == log.calls[0].pid));
    assert!(!Path::new(&out_file).exists(), "an empty FILE is removed");
    assert_restored(&before, &t);
}

#[test]
fn a_setting_that_cannot_be_restored_is_72_and_the_rest_is_restored() {
    let t = Tree::new("restorefail");
    let before = t.snapshot();
    let tracer = t.path("tr/current_tracer").display().to_string();
    let out_file = t.out_file();
    let script = format!("rm {tracer} && mkdir {tracer}");
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", &script]);
    assert_eq!(code(&out), 72);
    assert_one_line_error(&out, "cannot restore");
    fs::remove_dir(&tracer).unwrap();
    fs::write(&tracer, "nop\n").unwrap();
    assert_restored(&before, &t);
}
