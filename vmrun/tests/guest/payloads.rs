//! Payloads: arguments, dynamic ones, bad ones, a base root file system.

use super::common::*;
use std::fs;

/// The functions `id`'s trace attributes to its target in `phases`.
fn footprint(id: &str, phases: &[trace_analysis::model::Phase]) -> Vec<String> {
    use trace_analysis::model::{Selection, CONTEXTS};
    let mut a = trace_analysis::analyze::Analysis::new(None);
    a.read(read(&format!("{id}.trace")).as_bytes())
        .expect("the trace reads");
    let filter = trace_analysis::select::Filter {
        sel: Selection::new(phases, &CONTEXTS),
        callers_only: false,
        normalize: false,
    };
    trace_analysis::select::footprint(&a, &filter)
        .funcs
        .into_keys()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect()
}

#[test]
fn arguments_reach_the_program_and_its_output_comes_back() {
    // vm-test gives args_static: one 'two words' 'a"b' (shell quoting).
    assert_eq!(runs()["args_static"], "0");
    assert_eq!(
        read("args_static.stdout"),
        "arg 1: one\narg 2: two words\narg 3: a\"b\n"
    );
    assert_eq!(read("args_static.stderr"), "args_static: 3 argument(s)\n");
    assert_eq!(read("hello_dyn.stdout"), "arg 1: x\nsqrt(2) = 1.414\n");
    assert_eq!(read("hello_dyn.stderr"), "hello_dyn: done\n");
    // ftrace_it's own messages stay apart: a clean run has none.
    assert_eq!(read("args_static.ftrace_it.log"), "");
    // Nothing was cut: no ID.cut file.
    for id in ["args_static", "hello_dyn", "threads", "forkexec"] {
        assert!(!results().join(format!("{id}.cut")).exists(), "{id}");
    }
}

#[test]
fn the_dynamic_loader_maps_the_libraries_in_exec_and_run() {
    use trace_analysis::model::Phase;
    assert_eq!(
        runs()["hello_dyn"],
        "0",
        "{}",
        read("hello_dyn.ftrace_it.log")
    );
    let after_execve = footprint("hello_dyn", &[Phase::Exec, Phase::Run]);
    // ld.so opens libm.so.6 and libc.so.6 and maps them: mmap system calls
    // of the program after its execve.
    for f in ["__arm64_sys_mmap", "do_mmap", "__arm64_sys_openat"] {
        assert!(
            after_execve.iter().any(|g| g == f),
            "hello_dyn: no {f} after execve"
        );
    }
    let t = Trace::load("hello_dyn");
    let mmaps = t
        .target_events()
        .iter()
        .filter(|e| e.func == "__arm64_sys_mmap")
        .count();
    // At least two segments each of libc.so.6 and libm.so.6.
    assert!(
        mmaps >= 4,
        "only {mmaps} mmap calls: the libraries were not loaded"
    );
    // The static program maps nothing of the sort: no loader.
    let static_mmaps = Trace::load("args_static")
        .target_events()
        .iter()
        .filter(|e| e.func == "__arm64_sys_mmap")
        .count();
    assert!(
        static_mmaps < mmaps,
        "args_static {static_mmaps} vs hello_dyn {mmaps}"
    );
}

fn make_var(v: &str) -> String {
    std::env::var(v).unwrap_or_else(|_| panic!("{v} (set by make vm-test)"))
}

/// `vmrun run` on the aarch64 guest that `make vm-test` booted, into
/// `results`, with no payload yet.
fn vmrun(results: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(make_var("VMRUN"));
    cmd.args(["run", "--arch", "aarch64"])
        .args(["--kernel-dir", &make_var("KERNEL_DIR")])
        .args(["--init", &make_var("VM_INIT")])
        .args(["--ftrace-it", &make_var("FTRACE_IT")])
        .arg("--results")
        .arg(results);
    cmd
}

/// `vmrun run` with everything but the payloads, which `extra` gives.
fn vmrun_refuses(extra: &[&str]) -> (u8, String) {
    let results = std::env::temp_dir().join(format!("vmrun-refused-{}", std::process::id()));
    let out = vmrun(&results).args(extra).output().expect("vmrun starts");
    assert!(!results.exists(), "{extra:?}: results were made");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().expect("an exit code") as u8, stderr)
}

#[test]
fn bad_payloads_are_refused_in_one_line_before_the_boot() {
    let progs = std::env::var("TESTPROGS").expect("TESTPROGS (set by make vm-test)");
    let hello = format!("{progs}/hello_dyn");
    // A program of the host's architecture.
    let (code, msg) = vmrun_refuses(&["--payload", "/bin/true"]);
    assert_eq!((code, msg.lines().count()), (3, 1), "{msg}");
    assert!(
        msg.contains("/bin/true: built for ELF machine 62, not aarch64"),
        "{msg}"
    );
    // A sysroot that does not exist.
    let (code, msg) = vmrun_refuses(&["--payload", &hello, "--sysroot", "/no/such/sysroot"]);
    assert_eq!(
        (code, msg.as_str()),
        (9, "vmrun: sysroot /no/such/sysroot: no such directory\n")
    );
    // A sysroot with the loader and libc but without libm.
    let root = std::env::temp_dir().join(format!("vmrun-sysroot-{}", std::process::id()));
    fs::create_dir_all(root.join("lib")).unwrap();
    for lib in ["ld-linux-aarch64.so.1", "libc.so.6"] {
        fs::copy(
            format!("/usr/aarch64-linux-gnu/lib/{lib}"),
            root.join("lib").join(lib),
        )
        .unwrap();
    }
    let (code, msg) = vmrun_refuses(&["--payload", &hello, "--sysroot", root.to_str().unwrap()]);
    fs::remove_dir_all(&root).unwrap();
    assert_eq!((code, msg.lines().count()), (8, 1), "{msg}");
    assert!(
        msg.ends_with(&format!(
            "missing in sysroot {}: libm.so.6 (needed by hello_dyn)\n",
            root.display()
        )),
        "{msg}"
    );
}

/// A base root file system as Buildroot's `output/target` is: a directory
/// with its own init, the loader and the libraries of `hello_dyn`.
fn base_root_file_system(root: &std::path::Path) {
    let lib = root.join("lib");
    fs::create_dir_all(&lib).unwrap();
    for l in ["ld-linux-aarch64.so.1", "libc.so.6", "libm.so.6"] {
        fs::copy(format!("/usr/aarch64-linux-gnu/lib/{l}"), lib.join(l)).unwrap();
    }
    // Would say so on the console if the kernel or anything else ran it.
    let init = "#!/bin/sh\necho base-init-ran\n";
    for f in ["init", "sbin/init"] {
        let path = root.join(f);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, init).unwrap();
    }
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/inittab"), "::sysinit:/bin/sh\n").unwrap();
}

#[test]
fn a_root_file_system_is_the_base_and_our_init_stays_the_only_other_process() {
    if arch() != "aarch64" {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("vmrun-rootfs-{}", std::process::id()));
    let (root, results) = (tmp.join("root"), tmp.join("results"));
    base_root_file_system(&root);
    let out = vmrun(&results)
        .args(["--report", &make_var("FTRACE_REPORT"), "--duration", "1"])
        .arg("--command")
        .arg(format!("{}/hello_dyn from-the-base", make_var("TESTPROGS")))
        .arg("--rootfs")
        .arg(&root)
        .output()
        .expect("vmrun starts");
    let read = |f: &str| fs::read_to_string(results.join(f)).unwrap_or_default();
    assert!(
        out.status.success(),
        "vmrun --rootfs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The loader and libraries are the base's: vmrun added none of its own
    // (the base directory is the default sysroot), and the program ran.
    assert_eq!(
        read("hello_dyn.stdout"),
        "arg 1: from-the-base\nsqrt(2) = 1.414\n"
    );
    let cpio = fs::read(results.join("initramfs.cpio")).unwrap();
    let copies = cpio
        .windows(b"lib/libc.so.6\0".len())
        .filter(|w| w == b"lib/libc.so.6\0")
        .count();
    assert_eq!(copies, 1, "libc.so.6 in the initramfs {copies} times");
    // The base's init never ran, and the trace holds only the program.
    assert!(!read("boot.log").contains("base-init-ran"));
    let trace = read("hello_dyn.trace");
    assert!(trace.contains("\n# ftrace_it.tasks: 1\n"), "{trace:.2000}");
    assert_eq!(
        read("hello_dyn.state-before"),
        read("hello_dyn.state-after")
    );
    fs::remove_dir_all(&tmp).unwrap();
}
