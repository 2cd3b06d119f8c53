//! `footprint`'s refusals: a kernel build tree it cannot use is a one-line
//! error with its own exit status (9 unusable, 12 another kernel, 13
//! damaged), never a wrong map. The map itself is checked on the real guest
//! kernel by the guest tests (`make vm-test`).

use std::path::PathBuf;
use std::process::Command;

/// A small trace of a target's execve, in a directory of its own (no
/// `kernel-build` record beside it).
fn trace() -> PathBuf {
    trace_of("6.12.117-min-prog-trace", None)
}

/// The same, recorded on kernel `release` (and build `version`, `uname -v`).
fn trace_of(release: &str, version: Option<&str>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "footprint-trace-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("min-{release}.trace"));
    let version = version.map_or(String::new(), |v| {
        format!("# ftrace_it.kernel_version: {v}\n")
    });
    std::fs::write(
        &path,
        format!("# ftrace_it.kernel: {release}\n{version}")
            + "# ftrace_it.machine: aarch64\n\
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

const FAKE_BUILD: &str = "#1 SMP Wed Dec  2 15:11:12 UTC 2026";

#[test]
fn a_trace_of_another_kernel_is_refused() {
    let tree = kernel_index::fake_tree::FakeTree::new();
    let build = tree.build();
    let build = build.to_str().unwrap();
    let t = trace_of("6.12.0-test", Some(FAKE_BUILD));
    let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(["footprint", t.to_str().unwrap(), "--kernel-build", build])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for (release, version) in [
        ("6.6.37", Some(FAKE_BUILD)),
        ("6.12.0-test", Some("#2 SMP Thu Dec  3 09:00:00 UTC 2026")),
    ] {
        let t = trace_of(release, version);
        let (code, err) = footprint(&[t.to_str().unwrap(), "--kernel-build", build]);
        assert_eq!(code, 12, "{err}");
        one_line(&err);
        assert!(
            err.contains("give the build tree of the traced kernel"),
            "{err}"
        );
    }
}

#[test]
fn a_damaged_maintainers_line_is_refused() {
    let tree = kernel_index::fake_tree::FakeTree::new();
    let m = tree.source().join("MAINTAINERS");
    let text = std::fs::read_to_string(&m).unwrap() + "\nBROKEN\nF:\tdrivers/[foo\n";
    std::fs::write(&m, text).unwrap();
    let t = trace_of("6.12.0-test", Some(FAKE_BUILD));
    let (code, err) = footprint(&[
        t.to_str().unwrap(),
        "--kernel-build",
        tree.build().to_str().unwrap(),
    ]);
    assert_eq!(code, 13, "{err}");
    one_line(&err);
    assert!(
        err.contains("MAINTAINERS:") && err.contains("drivers/[foo"),
        "{err}"
    );
}
