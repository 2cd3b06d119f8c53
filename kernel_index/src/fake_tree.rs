//! A small made-up build tree for tests, here and in the crates that use
//! the index (feature `fake-tree`): an out-of-tree build directory with its
//! `source` link, maps, `.cmd` files, `.config`, and a source tree with
//! Kbuild files, Kconfig files and MAINTAINERS.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::KernelIndex;

/// A made-up build tree in a directory of its own, removed on drop.
pub struct FakeTree {
    pub root: PathBuf,
}

impl Drop for FakeTree {
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
pub type ObjectSpec = (
    &'static str,
    &'static str,
    &'static [(&'static str, u64, u64)],
    &'static [(u64, char, &'static str)],
    &'static [&'static str],
    &'static str,
);

pub const OBJECTS: &[ObjectSpec] = &[
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

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// What a made-up tree holds: its source tree's files (MAINTAINERS,
/// Kbuild, Kconfig, sources), its objects, its `.config`, and the Kconfig
/// files kconfig recorded (`include/config/auto.conf.cmd`).
pub struct Spec<'a> {
    pub source: &'a [(&'a str, &'a str)],
    pub objects: &'a [ObjectSpec],
    pub config: &'a str,
    pub kconfig_files: &'a [&'a str],
}

/// The tree of this crate's tests: a static duplicate (`helper`), aliases,
/// composite and directory conditions, `lib/` without the ftrace hook.
pub const SPEC: Spec<'static> = Spec {
    source: SOURCE,
    objects: OBJECTS,
    config: "CONFIG_ARM64=y\nCONFIG_FOO=y\nCONFIG_FOO_EXTRA=y\nCONFIG_BAR=y\nCONFIG_BAZ=y\n# CONFIG_QUX is not set\nCONFIG_SMP=y\n",
    kconfig_files: &["Kconfig", "arch/arm64/Kconfig", "drivers/Kconfig"],
};

impl FakeTree {
    /// The tree of [`SPEC`].
    #[allow(clippy::new_without_default)]
    pub fn new() -> FakeTree {
        FakeTree::with(&SPEC)
    }

    pub fn with(spec: &Spec) -> FakeTree {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "kernel_index-fake-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        let fake = FakeTree { root };
        let src = fake.source();
        for (path, text) in spec.source {
            write(&src.join(path), text);
        }
        let b = fake.build();
        std::fs::create_dir_all(&b).unwrap();
        std::os::unix::fs::symlink(&src, b.join("source")).unwrap();
        write(&b.join(".config"), spec.config);
        write(&b.join("include/config/kernel.release"), "6.12.0-test\n");
        write(
            &b.join("include/generated/utsversion.h"),
            "#define UTS_VERSION \"#1 SMP Wed Dec  2 15:11:12 UTC 2026\"\n",
        );
        let deps: String = spec
            .kconfig_files
            .iter()
            .map(|k| format!(" \\\n\t{k}"))
            .collect();
        write(
            &b.join("include/config/auto.conf.cmd"),
            &format!("deps_config :={deps}\n\ninclude/config/auto.conf: $(deps_config)\n\nifneq \"$(SRCARCH)\" \"arm64\"\n$(autoconfig): FORCE\nendif\n"),
        );
        let mut sysmap = Vec::new();
        let mut members = String::new();
        let mut memory = String::new();
        for (path, source, sections, symbols, deps, modname) in spec.objects {
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

    /// The source tree (MAINTAINERS, Kbuild and Kconfig files).
    pub fn source(&self) -> PathBuf {
        self.root.join("src")
    }

    /// The out-of-tree build directory.
    pub fn build(&self) -> PathBuf {
        self.root.join("build")
    }

    pub fn index(&self) -> KernelIndex {
        KernelIndex::build(&self.build()).unwrap_or_else(|e| panic!("{e}"))
    }
}
