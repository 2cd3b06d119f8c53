//! Runs the payloads for a moment: x86_64 natively, aarch64 under
//! `qemu-aarch64-static` (user mode). A payload must still be spinning when
//! it is stopped, and `min` makes no system call after `execve`.

use payload_checks::{binary, PAYLOADS};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

const RUN_FOR: Duration = Duration::from_millis(500);

/// Starts `command`, lets it run for `RUN_FOR`, and asserts it is still
/// running (it did not crash or exit), then kills it.
fn assert_keeps_running(mut command: Command, what: &str) {
    let mut child = command
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    sleep(RUN_FOR);
    let status = child.try_wait().unwrap();
    assert!(
        status.is_none(),
        "{what}: stopped by itself with {status:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn x86_64_payloads_spin_natively() {
    for name in PAYLOADS {
        assert_keeps_running(
            Command::new(binary("x86_64", name)),
            &format!("x86_64/{name}"),
        );
    }
}

#[test]
fn aarch64_payloads_spin_under_qemu_user() {
    for name in PAYLOADS {
        let mut qemu = Command::new("qemu-aarch64-static");
        qemu.arg(binary("aarch64", name));
        assert_keeps_running(qemu, &format!("aarch64/{name}"));
    }
}

#[test]
fn min_makes_no_system_call_after_execve() {
    for name in PAYLOADS {
        let log = std::env::temp_dir().join(format!(
            "payload-checks-strace-{name}.{}",
            std::process::id()
        ));
        let mut strace = Command::new("strace");
        strace
            .arg("-f")
            .arg("-o")
            .arg(&log)
            .arg(binary("x86_64", name));
        assert_keeps_running(strace, &format!("strace x86_64/{name}"));
        let text = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        // A killed strace detaches and leaves its tracee spinning, in a
        // process group of its own: kill it by the pid strace logged.
        let tracee = text.split_whitespace().next().unwrap_or_default();
        Command::new("kill")
            .args(["-KILL", tracee])
            .status()
            .unwrap();
        let syscalls: Vec<&str> = text
            .lines()
            .map(|line| {
                line.split_once(' ')
                    .map_or(line, |(_, rest)| rest.trim_start())
            })
            .filter(|call| !call.starts_with("+++") && !call.starts_with("---"))
            .collect();
        assert!(
            syscalls.first().is_some_and(|c| c.starts_with("execve(")),
            "{name}: strace saw no execve: {text}"
        );
        assert_eq!(
            syscalls.len(),
            1,
            "{name}: system calls after execve:\n{text}"
        );
    }
}
