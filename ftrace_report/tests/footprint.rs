//! `footprint`'s refusals: a kernel build tree it cannot use is a one-line
//! error with its own exit status (9 unusable, 12 another kernel, 13
//! damaged), never a wrong map. Its views on a small made-up build tree;
//! the map itself is checked on the real guest
//! kernel by the guest tests (`make vm-test`).

use std::path::PathBuf;
use std::process::Command;

use kernel_index::fake_tree::{write, ObjectSpec, Spec};

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

/// A small kernel build tree (`kernel_index::fake_tree`) whose `helper` is
/// a static function of two objects: `drivers/foo/core.o` (also reached
/// through `foo_init`) and `drivers/foo/bar.o` (reached only through
/// `helper`); `drivers/foo/qux.o` is built but never run.
struct FakeTree(kernel_index::fake_tree::FakeTree);

/// One object a `.text` section at its address, built with ftrace's hook.
const fn object(
    path: &'static str,
    source: &'static str,
    sections: &'static [(&'static str, u64, u64)],
    symbols: &'static [(u64, char, &'static str)],
    deps: &'static [&'static str],
) -> ObjectSpec {
    (path, source, sections, symbols, deps, "x")
}

const VIEWS: Spec<'static> = Spec {
    source: &[
        (
            "MAINTAINERS",
            "List of maintainers\n\n\tF: *Files* and directories\n\n\
             BAR DRIVER\nS:\tMaintained\nF:\tdrivers/foo/bar.c\n\n\
             EXEC\nS:\tMaintained\nF:\tfs/exec.c\n\n\
             FOO CORE\nS:\tMaintained\nF:\tdrivers/foo/core*.c\n\n\
             FOO DRIVER\nS:\tOdd Fixes\nF:\tdrivers/foo/\nX:\tdrivers/foo/bar.c\n\n\
             THE REST\nM:\tLinus\nF:\t*\nF:\t*/\n",
        ),
        ("Makefile", "core-y\t\t:=\ndrivers-y\t:=\n"),
        ("arch/arm64/Makefile", ""),
        ("Kbuild", "obj-y\t\t\t+= fs/\nobj-y\t\t\t+= drivers/\n"),
        ("fs/Makefile", "obj-y := exec.o\n"),
        ("drivers/Makefile", "obj-y\t+= foo/\n"),
        (
            "drivers/foo/Makefile",
            "obj-$(CONFIG_FOO) += core.o\nobj-$(CONFIG_BAR) += bar.o\nobj-$(CONFIG_QUX) += qux.o\n",
        ),
        ("Kconfig", "mainmenu \"Linux\"\nsource \"drivers/Kconfig\"\n"),
        (
            "drivers/Kconfig",
            "config FOO\n\tbool \"Foo support\"\n\nconfig BAR\n\tbool \"Bar driver\"\n\nconfig QUX\n\tbool \"Qux\"\n",
        ),
        ("fs/exec.c", ""),
        ("drivers/foo/core.c", ""),
        ("drivers/foo/bar.c", ""),
        ("drivers/foo/qux.c", ""),
    ],
    objects: &[
        object(
            "fs/exec.o",
            "fs/exec.c",
            &[(".text", 0x1000, 0x100)],
            &[
                (0x1000, 'T', "__arm64_sys_execve"),
                (0x1040, 't', "do_execveat_common"),
                (0x1080, 'T', "invoke_syscall"),
            ],
            &[],
        ),
        object(
            "drivers/foo/core.o",
            "drivers/foo/core.c",
            &[(".text", 0x1100, 0x100)],
            &[(0x1100, 't', "helper"), (0x1140, 'T', "foo_init")],
            &["FOO"],
        ),
        object(
            "drivers/foo/bar.o",
            "drivers/foo/bar.c",
            &[(".text", 0x1200, 0x100)],
            &[(0x1200, 't', "helper")],
            &["BAR"],
        ),
        object(
            "drivers/foo/qux.o",
            "drivers/foo/qux.c",
            &[(".text", 0x1300, 0x100)],
            &[(0x1300, 'T', "qux_fn")],
            &[],
        ),
    ],
    config: "CONFIG_FOO=y\nCONFIG_BAR=y\nCONFIG_QUX=y\n",
    kconfig_files: &["Kconfig", "drivers/Kconfig"],
};

impl FakeTree {
    fn new() -> FakeTree {
        FakeTree(kernel_index::fake_tree::FakeTree::with(&VIEWS))
    }

    fn build(&self) -> PathBuf {
        self.0.build()
    }

    /// `footprint TRACE --kernel-build TREE ARGS...` on a trace of this
    /// kernel that runs `foo_init` and the ambiguous `helper`.
    fn footprint(&self, args: &[&str]) -> String {
        self.footprint_with("helper", args)
    }

    /// The same, `helper` printed as `helper_call` (e.g. with a sym-addr
    /// address).
    fn footprint_with(&self, helper_call: &str, args: &[&str]) -> String {
        let trace = self.0.root.join("min.trace");
        write(
            &trace,
            &format!(
                "# ftrace_it.kernel: 6.12.0-test\n\
                 # ftrace_it.machine: aarch64\n\
                 # ftrace_it.pid: 38\n\
                 min-38 [001] ..... 1.000000: __arm64_sys_execve <-invoke_syscall\n\
                 min-38 [001] ..... 1.000001: do_execveat_common <-__arm64_sys_execve\n\
                 min-38 [001] ..... 1.000002: {helper_call} <-do_execveat_common\n\
                 min-38 [001] ..... 1.000003: foo_init <-do_execveat_common\n"
            ),
        );
        let out = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
            .arg("footprint")
            .arg(&trace)
            .arg("--kernel-build")
            .arg(self.build())
            .args(args)
            .output()
            .expect("ftrace_report runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.footprint(&["--json"])).unwrap()
    }
}

fn row<'a>(map: &'a serde_json::Value, view: &str, key: &str, name: &str) -> &'a serde_json::Value {
    map[view]
        .as_array()
        .unwrap_or_else(|| panic!("no {view}"))
        .iter()
        .find(|r| r[key] == name)
        .unwrap_or_else(|| panic!("no {name} in {view}: {}", map[view]))
}

#[test]
fn the_fake_tree_maps_every_function() {
    let tree = FakeTree::new();
    let map = tree.json();
    assert_eq!(map["unmapped"], serde_json::json!([]));
    assert_eq!(map["ambiguous"], serde_json::json!(["helper"]));
}

#[test]
fn each_function_has_its_whole_chain() {
    let tree = FakeTree::new();
    let map = tree.json();
    let foo = row(&map, "functions", "name", "foo_init");
    assert_eq!(foo["ambiguous"], false);
    assert_eq!(foo["objects"], serde_json::json!(["drivers/foo/core.o"]));
    assert_eq!(foo["files"], serde_json::json!(["drivers/foo/core.c"]));
    assert_eq!(foo["subsystems"], serde_json::json!(["FOO CORE"]));
    assert_eq!(
        foo["all_sections"],
        serde_json::json!(["FOO CORE", "FOO DRIVER"]),
        "most specific first"
    );
    assert_eq!(
        foo["build_conditions"],
        serde_json::json!({"drivers/foo/core.o": "FOO"})
    );
    let helper = row(&map, "functions", "name", "helper");
    assert_eq!(helper["ambiguous"], true);
    assert_eq!(
        helper["build_conditions"],
        serde_json::json!({"drivers/foo/bar.o": "BAR", "drivers/foo/core.o": "FOO"})
    );
    assert_eq!(
        helper["files"],
        serde_json::json!(["drivers/foo/bar.c", "drivers/foo/core.c"])
    );

    let text = tree.footprint(&[]);
    let section = text
        .split_once("\n## functions (the whole chain)\n")
        .unwrap_or_else(|| panic!("no functions section:\n{text}"))
        .1;
    assert!(
        section.contains(
            "\nfoo_init\t1\tdrivers/foo/core.o [FOO]\tdrivers/foo/core.c\tFOO CORE; FOO DRIVER\n"
        ),
        "{text}"
    );
    assert!(
        section.contains(
            "\nhelper\t1\tdrivers/foo/bar.o [BAR] or drivers/foo/core.o [FOO]\tdrivers/foo/bar.c drivers/foo/core.c\tBAR DRIVER; FOO CORE; FOO DRIVER\t(ambiguous)\n"
        ),
        "{text}"
    );
}

/// bar.o is reached only through the ambiguous `helper`: its file, its
/// section, its build symbol and itself are marked, never claimed.
#[test]
fn rows_reached_only_through_ambiguous_names_are_marked() {
    let tree = FakeTree::new();
    let map = tree.json();
    let marked =
        |view: &str, key: &str, name: &str| row(&map, view, key, name)["only_ambiguous"].clone();
    assert_eq!(marked("files", "path", "drivers/foo/bar.c"), true);
    assert_eq!(marked("files", "path", "drivers/foo/core.c"), false);
    assert_eq!(marked("subsystems", "name", "BAR DRIVER"), true);
    assert_eq!(marked("subsystems", "name", "FOO CORE"), false);
    assert_eq!(marked("build_symbols", "symbol", "CONFIG_BAR"), true);
    assert_eq!(marked("build_symbols", "symbol", "CONFIG_FOO"), false);
    assert_eq!(marked("read_symbols", "symbol", "CONFIG_BAR"), true);
    let config = &map["config"];
    assert_eq!(config["touched"], serde_json::json!(["CONFIG_FOO"]));
    assert_eq!(
        config["symbols_only_if_ambiguous"],
        serde_json::json!(["CONFIG_BAR"])
    );
    assert_eq!(
        config["objects_only_if_ambiguous"],
        serde_json::json!(["drivers/foo/bar.o"])
    );
    assert_eq!(
        config["untouched_objects"],
        serde_json::json!(["drivers/foo/qux.o"])
    );
    assert_eq!(config["touched_objects"], 2);

    let text = tree.footprint(&[]);
    for line in [
        "drivers/foo/bar.c\t1\t1\tBAR DRIVER\t(ambiguous)\n",
        "BAR DRIVER\t1\t1\t1\t(ambiguous)\n",
        "CONFIG_BAR\ty\t1\t1\tBar driver\t(ambiguous)\n",
        "drivers/foo/core.c\t2\t2\tFOO CORE\n",
        "FOO CORE\t1\t2\t2\n",
    ] {
        assert!(text.contains(&format!("\n{line}")), "{line:?} in\n{text}");
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

#[test]
fn the_configuration_view_lists_its_symbols_and_objects_with_its_note() {
    let tree = FakeTree::new();
    let text = tree.footprint(&[]);
    let config = text
        .split_once("\n## configuration\n")
        .unwrap_or_else(|| panic!("no configuration section:\n{text}"))
        .1;
    assert!(
        config.contains("a fact about this trace, not a recommendation"),
        "{config}"
    );
    for block in [
        "=y symbols that build touched objects: 1\nCONFIG_FOO\tFoo support\n",
        "=y symbols touched only if one of the ambiguous candidates ran: 1\nCONFIG_BAR\tBar driver\n",
        "objects touched only if one of the ambiguous candidates ran: 1\ndrivers/foo/bar.o\n",
        "objects never touched: 1 of 4\ndrivers/foo/qux.o\n",
    ] {
        assert!(config.contains(block), "{block:?} in\n{config}");
    }
}

/// With sym-addr (`ftrace_it --sym-addr`) the trace prints where each call
/// ran: an address inside one of the same-named symbols tells which.
#[test]
fn the_traces_addresses_tell_which_same_named_function_ran() {
    let tree = FakeTree::new();
    let json = |call: &str| -> serde_json::Value {
        serde_json::from_str(&tree.footprint_with(call, &["--json"])).unwrap()
    };
    // 0x1204: inside bar.o's helper (0x1200), the patch site after its start.
    let map = json("helper <0000000000001204>");
    assert_eq!(map["ambiguous"], serde_json::json!([]));
    let helper = row(&map, "functions", "name", "helper");
    assert_eq!(helper["by_address"], true);
    assert_eq!(helper["ambiguous"], false);
    assert_eq!(helper["objects"], serde_json::json!(["drivers/foo/bar.o"]));
    assert_eq!(
        row(&map, "subsystems", "name", "BAR DRIVER")["only_ambiguous"],
        false
    );
    let text = tree.footprint_with("helper <0000000000001204>", &[]);
    assert!(
        text.contains("\nby address: helper: drivers/foo/bar.o ("),
        "{text}"
    );

    // An address in a symbol of another name (foo_init at 0x1140) tells
    // nothing: the name stays ambiguous.
    let map = json("helper <0000000000001144>");
    assert_eq!(map["ambiguous"], serde_json::json!(["helper"]));
    let helper = row(&map, "functions", "name", "helper");
    assert_eq!(helper["by_address"], false);
    assert_eq!(helper["objects"].as_array().unwrap().len(), 2);
}

#[test]
fn the_json_reads_back_typed() {
    let tree = FakeTree::new();
    let text = tree.footprint(&["--json"]);
    let map: kernel_footprint::FootprintMap = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&map).unwrap() + "\n", text);
}
