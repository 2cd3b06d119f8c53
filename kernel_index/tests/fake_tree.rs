//! The whole chain on a small made-up build tree: an out-of-tree build
//! directory with its `source` link, maps, `.cmd` files, `.config`, and a
//! source tree with Kbuild files, Kconfig files and MAINTAINERS.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kernel_index::preproc::Definitions;
use kernel_index::{Cache, CacheUse, Cond, ConfigValues, Error, KernelIndex, Linked, Lookup};

struct Fake {
    root: PathBuf,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const SOURCE: &[(&str, &str)] = &[
    (
        "MAINTAINERS",
        "List of maintainers\n\n\tF: *Files* and directories\n\nFOO CORE\nM:\tA <a@example.org>\nS:\tMaintained\nF:\tdrivers/foo/core*.c\n\nFOO DRIVER\nM:\tB <b@example.org>\nL:\tfoo@example.org\nS:\tOdd Fixes\nF:\tdrivers/foo/\nX:\tdrivers/foo/bar.c\n\nTHE REST\nM:\tLinus\nF:\t*\nF:\t*/\n",
    ),
    ("Makefile", "core-y\t\t:=\ndrivers-y\t:=\nlibs-y\t\t:= lib/\n"),
    ("arch/arm64/Makefile", "libs-y\t\t:= arch/arm64/lib/ $(libs-y)\n"),
    (
        "Kbuild",
        "obj-y\t\t\t+= init/\nobj-y\t\t\t+= arch/$(SRCARCH)/\nobj-y\t\t\t+= drivers/\nobj-y\t\t\t+= $(ARCH_LIB)\n",
    ),
    ("init/Makefile", "obj-y := main.o\n"),
    ("drivers/Makefile", "obj-$(CONFIG_FOO)\t+= foo/\n"),
    (
        "drivers/foo/Makefile",
        "obj-y += foo.o\nfoo-y := core.o\nfoo-$(CONFIG_FOO_EXTRA) += extra.o\nobj-$(CONFIG_BAR) += bar.o \\\n\tqux.o\nifdef CONFIG_BAZ\nobj-y += baz.o\nendif\nobj-$(CONFIG_QUX) += false.o\n",
    ),
    ("lib/Makefile", "lib-y := util.o\n"),
    ("arch/arm64/lib/Makefile", "lib-y := memcpy.o\n"),
    (
        "Kconfig",
        "mainmenu \"Linux\"\nsource \"arch/$(SRCARCH)/Kconfig\"\nsource \"drivers/Kconfig\"\n",
    ),
    ("arch/arm64/Kconfig", "config ARM64\n\tdef_bool y\n"),
    (
        "drivers/Kconfig",
        "menuconfig FOO\n\ttristate \"Foo support\"\n\thelp\n\t  config NOT_ME\n\nconfig FOO_EXTRA\n\tbool \"Foo extras\"\n\tdepends on FOO\n\nconfig BAR\n\tbool \"Bar\"\n\nconfig BAZ\n\tbool\n\nconfig QUX\n\tbool \"Qux\"\n",
    ),
    ("init/main.c", ""),
    (
        "drivers/foo/core.c",
        "#ifdef CONFIG_FOO_EXTRA\n#include \"core_init.c\"\n#endif\nstatic int helper(void)\n{\n\treturn IS_ENABLED(CONFIG_BAR);\n}\n",
    ),
    (
        "drivers/foo/core_init.c",
        "#if !IS_ENABLED(CONFIG_QUX)\nint foo_init(void)\n{\n\treturn 0;\n}\n#endif\n",
    ),
    ("drivers/foo/extra.c", ""),
    ("drivers/foo/bar.c", ""),
    ("drivers/foo/qux.c", ""),
    ("drivers/foo/baz.c", ""),
    ("drivers/foo/false.c", ""),
    ("drivers/foo/ghost.c", ""),
    ("lib/util.c", ""),
    ("arch/arm64/lib/memcpy.S", ""),
];

/// Objects: path, source, sections `(name, address, size)`, symbols
/// `(address, type, name)`, config deps, KBUILD_MODNAME.
type ObjectSpec = (
    &'static str,
    &'static str,
    &'static [(&'static str, u64, u64)],
    &'static [(u64, char, &'static str)],
    &'static [&'static str],
    &'static str,
);

const OBJECTS: &[ObjectSpec] = &[
    (
        "init/main.o",
        "init/main.c",
        &[(".text", 0x1000, 0x100), (".init.text", 0x9000, 0x40)],
        &[(0x1000, 'T', "start_kernel"), (0x9000, 't', "do_initcalls")],
        &["SMP"],
        "main",
    ),
    (
        "drivers/foo/core.o",
        "drivers/foo/core.c",
        &[(".text", 0x1100, 0x80)],
        &[(0x1100, 't', "helper"), (0x1140, 'T', "foo_init")],
        &["FOO_EXTRA", "FOO", "drivers/foo/core_init.c"],
        "foo",
    ),
    (
        "drivers/foo/extra.o",
        "drivers/foo/extra.c",
        &[(".text", 0x1180, 0x40)],
        &[(0x1180, 'T', "foo_extra")],
        &[],
        "foo",
    ),
    (
        "drivers/foo/bar.o",
        "drivers/foo/bar.c",
        &[(".text", 0x1200, 0x40)],
        &[(0x1200, 't', "helper")],
        &[],
        "bar",
    ),
    (
        "drivers/foo/qux.o",
        "drivers/foo/qux.c",
        &[(".text", 0x1240, 0x40)],
        &[(0x1240, 'T', "qux_fn")],
        &[],
        "qux",
    ),
    (
        "drivers/foo/baz.o",
        "drivers/foo/baz.c",
        &[(".noinstr.text", 0x2000, 0x40)],
        &[(0x2000, 'T', "baz_entry"), (0x2000, 'T', "baz_alias")],
        &[],
        "baz",
    ),
    (
        "drivers/foo/false.o",
        "drivers/foo/false.c",
        &[(".text", 0x1280, 0x40)],
        &[(0x1280, 'T', "false_fn")],
        &[],
        "false",
    ),
    (
        "drivers/foo/ghost.o",
        "drivers/foo/ghost.c",
        &[(".text", 0x12c0, 0x40)],
        &[(0x12c0, 'T', "ghost_fn")],
        &[],
        "ghost",
    ),
    (
        "lib/util.o",
        "lib/util.c",
        &[(".text", 0x1300, 0x40)],
        &[(0x1300, 'T', "util_fn")],
        &[],
        "util",
    ),
    (
        "arch/arm64/lib/memcpy.o",
        "arch/arm64/lib/memcpy.S",
        &[(".text", 0x1340, 0x40)],
        &[(0x1340, 'W', "memcpy")],
        &[],
        "memcpy",
    ),
];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

impl Fake {
    fn new() -> Fake {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "kernel_index-fake-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        let fake = Fake { root };
        let src = fake.source();
        for (path, text) in SOURCE {
            write(&src.join(path), text);
        }
        let b = fake.build();
        std::fs::create_dir_all(&b).unwrap();
        std::os::unix::fs::symlink(&src, b.join("source")).unwrap();
        write(
            &b.join(".config"),
            "CONFIG_ARM64=y\nCONFIG_FOO=y\nCONFIG_FOO_EXTRA=y\nCONFIG_BAR=y\nCONFIG_BAZ=y\n# CONFIG_QUX is not set\nCONFIG_SMP=y\n",
        );
        write(&b.join("include/config/kernel.release"), "6.12.0-test\n");
        write(
            &b.join("include/config/auto.conf.cmd"),
            "deps_config := \\\n\tKconfig \\\n\tarch/arm64/Kconfig \\\n\tdrivers/Kconfig\n\ninclude/config/auto.conf: $(deps_config)\n\nifneq \"$(SRCARCH)\" \"arm64\"\n$(autoconfig): FORCE\nendif\n",
        );
        let mut sysmap = Vec::new();
        let mut members = String::new();
        let mut memory = String::new();
        for (path, source, sections, symbols, deps, modname) in OBJECTS {
            let src_abs = src.join(source);
            // As in Linux 6.12: lib/ is built without ftrace's hook.
            let hook = if path.starts_with("lib/") {
                ""
            } else {
                " -fpatchable-function-entry=4,2"
            };
            let mut cmd = format!(
                "savedcmd_{path} := gcc -DKBUILD_BASENAME='\"x\"' -DKBUILD_MODNAME='\"{modname}\"'{hook} -c -o {path} {}\n\nsource_{path} := {}\n\ndeps_{path} := \\\n",
                src_abs.display(),
                src_abs.display()
            );
            for d in *deps {
                if d.ends_with(".c") {
                    cmd.push_str(&format!("  {} \\\n", src.join(d).display()));
                } else {
                    cmd.push_str(&format!("    $(wildcard include/config/{d}) \\\n"));
                }
            }
            cmd.push_str(&format!("\n{path}: $(deps_{path})\n"));
            let (dir, name) = path.rsplit_once('/').unwrap();
            write(&b.join(dir).join(format!(".{name}.cmd")), &cmd);
            for (name, addr, size) in *sections {
                memory.push_str(&format!(" {name:<14} {addr:#018x} {size:#10x} {path}\n"));
            }
            for (addr, kind, name) in *symbols {
                sysmap.push((*addr, format!("{addr:016x} {kind} {name}\n")));
            }
            if path.contains("lib/") {
                members.push_str(&format!("{path:<30}init/main.o (something)\n"));
            } else {
                members.push_str(&format!("{path:<30}(--whole-archive)\n"));
            }
        }
        sysmap.push((0x3000, "0000000000003000 T _etext\n".into()));
        sysmap.push((0x4000, "0000000000004000 D some_data\n".into()));
        sysmap.sort();
        let sysmap: String = sysmap.into_iter().map(|(_, l)| l).collect();
        write(&b.join("System.map"), &sysmap);
        write(
            &b.join("vmlinux.map"),
            &format!(
                "Archive member included to satisfy reference by file (symbol)\n\n{members}\nMemory Configuration\n\nLinker script and memory map\n\n.text 0x1000 0x2000\n{memory}LOAD vmlinux.a\n"
            ),
        );
        fake
    }

    fn source(&self) -> PathBuf {
        self.root.join("src")
    }

    fn build(&self) -> PathBuf {
        self.root.join("build")
    }

    fn index(&self) -> KernelIndex {
        KernelIndex::build(&self.build()).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[test]
fn functions_by_address_and_name() {
    let fake = Fake::new();
    let index = fake.index();
    assert_eq!(index.release(), "6.12.0-test");
    assert_eq!(index.srcarch(), "arm64");
    let Lookup::Ambiguous(helpers) = index.lookup("helper") else {
        panic!("two static functions named helper");
    };
    let objects: Vec<&str> = helpers
        .iter()
        .map(|f| f.object.unwrap().path.as_str())
        .collect();
    assert_eq!(objects, ["drivers/foo/core.o", "drivers/foo/bar.o"]);
    let at = index.functions_at(0x1200);
    assert_eq!(at.len(), 1);
    assert_eq!(at[0].object.unwrap().path, "drivers/foo/bar.o");
    let Lookup::Unique(baz) = index.lookup("baz_entry") else {
        panic!("baz_entry is unique");
    };
    assert_eq!(baz.section.unwrap().name, ".noinstr.text");
    assert_eq!(baz.object.unwrap().ftrace_hook, Some(true));
    assert_eq!(index.object("lib/util.o").unwrap().ftrace_hook, Some(false));
    let aliases: Vec<&str> = index
        .functions_at(0x2000)
        .iter()
        .map(|f| f.symbol.name.as_str())
        .collect();
    assert_eq!(aliases.len(), 2, "{aliases:?}");
    assert!(matches!(index.lookup("some_data"), Lookup::Unknown));
    let Lookup::Unique(etext) = index.lookup("_etext") else {
        panic!("_etext is a text symbol");
    };
    assert!(etext.object.is_none(), "the linker script's, in no object");
    assert_eq!(
        index
            .section_at(0x1150)
            .map(|s| index.object_of(s).path.as_str()),
        Some("drivers/foo/core.o")
    );
    assert!(index.section_at(0x5000).is_none());
    let init = index.lookup("do_initcalls");
    let Lookup::Unique(init) = init else {
        panic!("{init:?}")
    };
    assert_eq!(init.section.unwrap().name, ".init.text");
    let stats = index.stats();
    assert_eq!(stats.text_symbols, 14);
    assert_eq!(stats.symbols_with_object, 13);
    assert_eq!(stats.ambiguous_names, 1);
    assert_eq!(stats.objects, OBJECTS.len());
}

#[test]
fn sources_and_maintainers() {
    let fake = Fake::new();
    let index = fake.index();
    let names = |path: &str| -> Vec<(String, i32)> {
        let o = index.object(path).unwrap();
        o.sources[0]
            .maintainers
            .iter()
            .map(|m| (index.section(*m).name.clone(), m.depth))
            .collect()
    };
    assert_eq!(
        names("drivers/foo/core.o"),
        [
            ("FOO CORE".to_string(), 3),
            ("FOO DRIVER".to_string(), 2),
            ("THE REST".to_string(), -1)
        ]
    );
    // X: takes bar.c out of FOO DRIVER.
    assert_eq!(names("drivers/foo/bar.o"), [("THE REST".to_string(), -1)]);
    let core = index.object("drivers/foo/core.o").unwrap();
    assert_eq!(core.sources[0].path, "drivers/foo/core.c");
    assert!(!core.sources[0].generated);
    let top = core.sources[0].most_specific();
    assert_eq!(top.len(), 1);
    let section = index.section(top[0]);
    assert_eq!(section.name, "FOO CORE");
    assert_eq!(section.status.as_deref(), Some("Maintained"));
    assert_eq!(section.maintainers, ["A <a@example.org>"]);
    let memcpy = index.object("arch/arm64/lib/memcpy.o").unwrap();
    assert_eq!(memcpy.sources[0].path, "arch/arm64/lib/memcpy.S");
}

#[test]
fn build_conditions_with_composites_and_directories() {
    let fake = Fake::new();
    let index = fake.index();
    let cond = |path: &str| {
        index
            .build_condition(index.object(path).unwrap())
            .to_string()
    };
    assert_eq!(cond("init/main.o"), "y");
    assert_eq!(cond("drivers/foo/core.o"), "FOO");
    assert_eq!(cond("drivers/foo/extra.o"), "FOO_EXTRA && FOO");
    assert_eq!(cond("drivers/foo/qux.o"), "BAR && FOO", "continued line");
    assert_eq!(cond("drivers/foo/baz.o"), "BAZ!=n && FOO");
    assert_eq!(cond("lib/util.o"), "y");
    let extra = index.object("drivers/foo/extra.o").unwrap();
    assert_eq!(extra.composite.as_deref(), Some("drivers/foo/foo.o"));
    assert_eq!(extra.build[0].variable, "foo-y");
    assert_eq!(extra.build[0].lines[0].file, "drivers/foo/Makefile");
    assert_eq!(extra.build[0].lines[0].line, 3);
    assert!(extra.doubts.is_empty(), "{:?}", extra.doubts);
    assert_eq!(
        index.dir_inclusions("drivers/foo/")[0].lines[0].file,
        "drivers/Makefile"
    );
    assert_eq!(
        index.composite_inclusions("drivers/foo/foo.o")[0].guard,
        Cond::True
    );
    let util = index.object("lib/util.o").unwrap();
    assert_eq!(util.build[0].variable, "lib-y");
    assert!(matches!(util.linked, Linked::ForSymbol { .. }));
    let lib_lines: Vec<&str> = index.dir_inclusions("lib/")[0]
        .lines
        .iter()
        .map(|l| l.file.as_str())
        .collect();
    assert_eq!(lib_lines, ["Kbuild", "arch/arm64/Makefile", "Makefile"]);

    // Doubts, never guesses: a linked object whose condition reads false,
    // and one that no Kbuild line names.
    let false_o = index.object("drivers/foo/false.o").unwrap();
    assert!(
        false_o
            .doubts
            .iter()
            .any(|d| d.contains("false under .config")),
        "{:?}",
        false_o.doubts
    );
    let ghost = index.object("drivers/foo/ghost.o").unwrap();
    assert!(ghost.build.is_empty());
    assert!(
        ghost.doubts.iter().any(|d| d.starts_with("no Kbuild")),
        "{:?}",
        ghost.doubts
    );
    let stats = index.stats();
    assert_eq!(stats.conditions_doubtful, 2);
    assert_eq!(stats.conditions_parsed, OBJECTS.len() - 2);
}

#[test]
fn kconfig_prompts_values_and_dependencies() {
    let fake = Fake::new();
    let index = fake.index();
    let core = index.object("drivers/foo/core.o").unwrap();
    let deps: Vec<&str> = index.config_deps(core).map(|s| s.name.as_str()).collect();
    assert_eq!(deps, ["FOO", "FOO_EXTRA"]);
    let foo = index.kconfig_symbol("CONFIG_FOO").unwrap();
    assert_eq!(foo.prompt(), Some("Foo support"));
    assert_eq!(foo.value.as_deref(), Some("y"));
    let def = foo.definition.as_ref().unwrap();
    assert_eq!(def.kind.as_deref(), Some("tristate"));
    assert_eq!(def.defined_at, ["drivers/Kconfig:1"]);
    let baz = index.kconfig_symbol("BAZ").unwrap();
    assert_eq!(baz.prompt(), None);
    assert_eq!(
        index.kconfig_symbol("QUX").unwrap().value.as_deref(),
        Some("n")
    );
    let smp = index.kconfig_symbol("SMP").unwrap();
    assert!(smp.definition.is_none(), "no Kconfig file here defines SMP");
    assert!(index.kconfig_symbol("NOT_ME").is_none());
    assert!(index.notes().is_empty(), "{:?}", index.notes());
}

#[test]
fn definitions_with_the_branches_of_their_file_and_its_inclusion() {
    let fake = Fake::new();
    let index = fake.index();
    let core = index.object("drivers/foo/core.o").unwrap();
    assert!(core.sources[1].included);
    let mut defs = Definitions::new(&index);
    let sites = defs.sites(core, "foo_init").unwrap();
    assert_eq!(sites.len(), 1);
    let site = &sites[0];
    assert_eq!(
        (site.file.as_str(), site.line),
        ("drivers/foo/core_init.c", 3)
    );
    let frames: Vec<(&str, usize, &str)> = site
        .frames
        .iter()
        .map(|f| (f.file.as_str(), f.frame.line, f.frame.directive.as_str()))
        .collect();
    assert_eq!(
        frames,
        [
            ("drivers/foo/core.c", 1, "#ifdef CONFIG_FOO_EXTRA"),
            ("drivers/foo/core_init.c", 1, "#if !IS_ENABLED(CONFIG_QUX)")
        ]
    );
    let values = |extra: &str| -> ConfigValues {
        [("FOO_EXTRA", extra), ("QUX", "n")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(site.compiled(&values("y")), Some(true));
    assert_eq!(site.compiled(&values("n")), Some(false));
    let helper = defs.sites(core, "helper").unwrap();
    assert_eq!(helper[0].frames, []);
    assert_eq!(helper[0].body_symbols, ["BAR".to_string()].into());
    assert_eq!(defs.sites(core, "nowhere").unwrap(), []);
    std::fs::remove_file(fake.source().join("drivers/foo/core.c")).unwrap();
    let mut fresh = Definitions::new(&index);
    let err = fresh.sites(core, "helper").unwrap_err();
    assert!(err.to_string().starts_with("cannot read "), "{err}");
}

#[test]
fn cache_is_used_while_current_and_rebuilt_when_stale() {
    let fake = Fake::new();
    let build = fake.build();
    let (first, used) = KernelIndex::open(&build, &Cache::InBuildTree).unwrap();
    assert!(matches!(&used, CacheUse::Written(p) if p == &build.join(".kernel_index.json")));
    let (second, used) = KernelIndex::open(&build, &Cache::InBuildTree).unwrap();
    assert!(matches!(used, CacheUse::Loaded(_)), "{used:?}");
    assert_eq!(first.stats(), second.stats());
    assert!(matches!(second.lookup("helper"), Lookup::Ambiguous(_)));
    assert_eq!(
        second.build_condition(second.object("drivers/foo/extra.o").unwrap()),
        first.build_condition(first.object("drivers/foo/extra.o").unwrap())
    );
    // A rebuilt kernel: System.map changes, the cache is stale.
    let mut sysmap = std::fs::read_to_string(build.join("System.map")).unwrap();
    sysmap.push_str("0000000000001360 T memcpy_tail\n");
    std::fs::write(build.join("System.map"), sysmap).unwrap();
    let (third, used) = KernelIndex::open(&build, &Cache::InBuildTree).unwrap();
    assert!(matches!(used, CacheUse::Written(_)), "{used:?}");
    assert!(matches!(third.lookup("memcpy_tail"), Lookup::Unique(_)));
    // An edited MAINTAINERS makes it stale too.
    let (_, used) = KernelIndex::open(&build, &Cache::InBuildTree).unwrap();
    assert!(matches!(used, CacheUse::Loaded(_)), "{used:?}");
    let m = fake.source().join("MAINTAINERS");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, text.replace("S:\tOdd Fixes", "S:\tOrphan")).unwrap();
    let (fourth, used) = KernelIndex::open(&build, &Cache::InBuildTree).unwrap();
    assert!(matches!(used, CacheUse::Written(_)), "{used:?}");
    let orphan = fourth
        .maintainers()
        .iter()
        .find(|s| s.name == "FOO DRIVER")
        .unwrap();
    assert_eq!(orphan.status.as_deref(), Some("Orphan"));
    // A damaged cache file is not trusted either.
    std::fs::write(build.join(".kernel_index.json"), "{").unwrap();
    let (_, used) = KernelIndex::open(&build, &Cache::InBuildTree).unwrap();
    assert!(matches!(used, CacheUse::Written(_)), "{used:?}");
    // An unwritable cache path still gives the index.
    let (_, used) =
        KernelIndex::open(&build, &Cache::At(fake.root.join("no/such/dir/x.json"))).unwrap();
    let CacheUse::NotWritten(e) = used else {
        panic!("{used:?}")
    };
    assert!(e.to_string().contains("writable"), "{e}");
    let (_, used) = KernelIndex::open(&build, &Cache::Off).unwrap();
    assert!(matches!(used, CacheUse::Off));
}

#[test]
fn release_check() {
    let fake = Fake::new();
    let index = fake.index();
    assert!(index.check_release("6.12.0-test\n").is_ok());
    let e = index.check_release("6.6.37").unwrap_err();
    assert!(matches!(e, Error::ReleaseMismatch { .. }));
    let text = e.to_string();
    assert!(
        text.contains("6.6.37") && text.contains("6.12.0-test"),
        "{text}"
    );
}

fn build_error(fake: &Fake) -> Error {
    KernelIndex::build(&fake.build()).unwrap_err()
}

#[test]
fn errors_say_what_to_do() {
    let fake = Fake::new();
    std::fs::remove_file(fake.build().join("vmlinux.map")).unwrap();
    let e = build_error(&fake);
    assert!(matches!(e, Error::NoLinkMap { .. }), "{e:?}");
    assert!(e.to_string().contains("CONFIG_VMLINUX_MAP=y"), "{e}");

    let fake = Fake::new();
    std::fs::remove_file(fake.build().join("System.map")).unwrap();
    assert!(matches!(build_error(&fake), Error::NoSystemMap { .. }));

    let fake = Fake::new();
    std::fs::remove_file(fake.build().join(".config")).unwrap();
    let e = build_error(&fake);
    assert!(matches!(e, Error::NotABuildTree { .. }), "{e:?}");
    assert!(e.to_string().contains("make O="), "{e}");

    let fake = Fake::new();
    std::fs::remove_file(fake.build().join("source")).unwrap();
    assert!(matches!(build_error(&fake), Error::NotABuildTree { .. }));

    let fake = Fake::new();
    write(
        &fake.build().join("vmlinux.map"),
        "Linker script and memory map\n\n.text 0x1000 0x0\n",
    );
    let e = build_error(&fake);
    assert!(matches!(e, Error::NoObjects { .. }), "{e:?}");

    let fake = Fake::new();
    write(&fake.build().join("System.map"), "0000000000001000 T\n");
    let e = build_error(&fake);
    assert!(matches!(e, Error::Parse { line: 1, .. }), "{e:?}");

    let fake = Fake::new();
    let m = fake.source().join("MAINTAINERS");
    let mut text = std::fs::read_to_string(&m).unwrap();
    text.push_str("\nBROKEN\nF:\tdrivers/[foo\n");
    std::fs::write(&m, text).unwrap();
    let e = build_error(&fake);
    assert!(matches!(e, Error::Maintainers { line: 23, .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("MAINTAINERS:23") && text.contains("drivers/[foo"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);

    let missing = std::env::temp_dir().join("kernel_index-no-such-dir");
    let e = KernelIndex::build(&missing).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
}
