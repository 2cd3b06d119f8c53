//! `groundtruth` through the common parser: help, usage errors, exit
//! statuses. The classification on the real guest kernel is checked by
//! `make groundtruth-test`.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A trace of two calls and ground truths, in a directory of their own (no
/// `kernel-build` record beside them).
fn files() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "groundtruth-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("min.trace");
    std::fs::write(
        &trace,
        "# ftrace_it.pid: 38\n\
         min-38 [001] ..... 1.000000: __arm64_sys_execve <-invoke_syscall\n\
         min-38 [001] ..... 1.000001: alloc_bprm <-__arm64_sys_execve\n",
    )
    .unwrap();
    let gt = dir.join("min.gt");
    std::fs::write(
        &gt,
        "# gt.version: 1\n# gt.path: /min\nu el0t_64_sync\nk __arm64_sys_execve\nk alloc_bprm\n",
    )
    .unwrap();
    (trace, gt)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(args)
        .output()
        .expect("ftrace_report runs")
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn help_is_the_commands_own() {
    let help = run(&["groundtruth", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    for want in [
        "--notrace GT",
        "--kernel-build DIR",
        "Exit status:",
        "groundtruth:",
    ] {
        assert!(text.contains(want), "{want} missing in {text}");
    }
    assert_eq!(run(&["help", "groundtruth"]).stdout, text.as_bytes());
    let footprint = String::from_utf8(run(&["footprint", "--help"]).stdout).unwrap();
    assert!(footprint.contains("--groundtruth GT"), "{footprint}");
}

#[test]
fn usage_errors_exit_2() {
    let (trace, gt) = files();
    for args in [
        vec!["groundtruth", s(&trace)],
        vec!["groundtruth", s(&trace), s(&gt), "--pid", "38"],
        vec!["groundtruth", s(&trace), s(&gt), "--kernel-dir", "/x"],
        vec![
            "footprint",
            s(&trace),
            "--groundtruth",
            s(&gt),
            "--normalize",
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn agreement_difference_and_bad_input() {
    let (trace, gt) = files();
    let out = run(&["groundtruth", s(&trace), s(&gt)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# exact: yes"), "{text}");
    assert!(text.contains("blind\tel0t_64_sync\t1\tunclassified (no --kernel-build)\n"));
    let short = trace.with_file_name("short.gt");
    std::fs::write(&short, "# gt.version: 1\nk __arm64_sys_execve\n").unwrap();
    assert_eq!(
        run(&["groundtruth", s(&trace), s(&short)]).status.code(),
        Some(1)
    );
    std::fs::write(&short, "not a record\n").unwrap();
    assert_eq!(
        run(&["groundtruth", s(&trace), s(&short)]).status.code(),
        Some(4)
    );
    let missing = trace.with_file_name("missing.gt");
    assert_eq!(
        run(&["groundtruth", s(&trace), s(&missing)]).status.code(),
        Some(3)
    );
    let out = run(&[
        "groundtruth",
        s(&trace),
        s(&gt),
        "--kernel-build",
        "/nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(9), "{out:?}");
}
