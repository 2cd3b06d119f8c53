//! `footprint`'s refusals: a kernel build tree it cannot use is a one-line
//! error with its own exit status (9), never a wrong map. The map itself is
//! checked on the real guest kernel by the guest tests (`make vm-test`).

use std::path::PathBuf;
use std::process::Command;

/// A small trace of a target's execve, in a directory of its own (no
/// `kernel-build` record beside it).
fn trace() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "footprint-trace-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("min.trace");
    std::fs::write(
        &path,
        "# ftrace_it.kernel: 6.12.117-min-prog-trace\n\
         # ftrace_it.machine: aarch64\n\
         # ftrace_it.pid: 38\n\
         min-38 [001] ..... 1.000000: __arm64_sys_execve <-invoke_syscall\n\
         min-38 [001] ..... 1.000001: do_execveat_common.isra.0 <-__arm64_sys_execve\n\
         min-38 [001] ..... 1.000002: alloc_bprm <-do_execveat_common.isra.0\n",
    )
    .unwrap();
    path
}

fn footprint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .arg("footprint")
        .args(args)
        .output()
        .expect("ftrace_report runs");
    assert!(out.stdout.is_empty(), "no map on failure");
    (
        out.status.code().expect("an exit status"),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn one_line(err: &str) {
    assert_eq!(err.lines().count(), 1, "one line expected: {err:?}");
}

#[test]
fn a_missing_tree_is_refused() {
    let t = trace();
    let (code, err) = footprint(&[t.to_str().unwrap(), "--kernel-build", "/nonexistent/build"]);
    assert_eq!(code, 9, "{err}");
    one_line(&err);
    assert!(err.contains("/nonexistent/build"), "{err}");
}

#[test]
fn a_directory_that_is_no_build_tree_is_refused() {
    let dir = std::env::temp_dir().join(format!("footprint-not-a-tree-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = trace();
    let (code, err) = footprint(&[t.to_str().unwrap(), "--kernel-build", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 9, "{err}");
    one_line(&err);
}

#[test]
fn without_a_recorded_build_it_asks_for_one() {
    let t = trace();
    let (code, err) = footprint(&[t.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--kernel-build DIR"), "{err}");
}

#[test]
fn normalized_names_are_refused() {
    let t = trace();
    let (code, err) = footprint(&[t.to_str().unwrap(), "--normalize", "--kernel-build", "/x"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no --normalize"), "{err}");
}
