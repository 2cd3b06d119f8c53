//! The whole chain on a small made-up build tree (`kernel_index::fake_tree`).

use kernel_index::fake_tree::{write, FakeTree as Fake, OBJECTS};
use kernel_index::preproc::Definitions;
use kernel_index::{
    Cache, CacheUse, Cond, ConfigValues, Error, ErrorKind, KernelIndex, Linked, Lookup,
};

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
    // Inside a symbol (a patch site, a return address): the one it lies in.
    let at = |a: u64| index.symbol_at(a).map(|s| (s.name.as_str(), s.address));
    assert_eq!(at(0x1204), Some(("helper", 0x1200)));
    assert_eq!(at(0x1144), Some(("foo_init", 0x1140)));
    assert_eq!(at(0x2004).map(|s| s.1), Some(0x2000), "aliases: the first");
    assert_eq!(at(0x0fff), None, "below the first symbol");
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
fn kernel_check() {
    let fake = Fake::new();
    let index = fake.index();
    let build = "#1 SMP Wed Dec  2 15:11:12 UTC 2026";
    assert_eq!(index.version(), Some(build));
    assert!(index.check_kernel("6.12.0-test\n", Some(build)).is_ok());
    // A trace without `uname -v` (older ftrace_it, other tools): release only.
    assert!(index.check_kernel("6.12.0-test", None).is_ok());
    let e = index.check_kernel("6.6.37", Some(build)).unwrap_err();
    assert!(matches!(e, Error::ReleaseMismatch { .. }));
    assert_eq!(e.kind(), ErrorKind::OtherKernel);
    let text = e.to_string();
    assert!(
        text.contains("6.6.37") && text.contains("6.12.0-test"),
        "{text}"
    );
    // Rebuilt with the same release (another config): another kernel.
    let e = index
        .check_kernel("6.12.0-test", Some("#2 SMP Thu Dec  3 09:00:00 UTC 2026"))
        .unwrap_err();
    assert!(matches!(e, Error::BuildMismatch { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::OtherKernel);
    assert!(e.to_string().contains("#2 SMP"), "{e}");
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
    assert_eq!(e.kind(), ErrorKind::Tree);
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
    assert_eq!(e.kind(), ErrorKind::Damaged);

    let fake = Fake::new();
    let m = fake.source().join("MAINTAINERS");
    let mut text = std::fs::read_to_string(&m).unwrap();
    text.push_str("\nBROKEN\nF:\tdrivers/[foo\n");
    std::fs::write(&m, text).unwrap();
    let e = build_error(&fake);
    assert!(matches!(e, Error::Maintainers { line: 23, .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Damaged);
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
