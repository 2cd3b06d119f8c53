use super::*;
use crate::cond::ConfigValues;
use crate::testutil::TempTree;

const FILES: &[(&str, &str)] = &[
        (
            "Makefile",
            "core-y\t:=\ndrivers-y\t:=\nlibs-y\t\t:= lib/\ninclude $(srctree)/arch/$(SRCARCH)/Makefile\n",
        ),
        (
            "arch/arm64/Makefile",
            "libs-y := arch/arm64/lib/ $(libs-y)\nlibs-$(CONFIG_EFI_STUB) += x/lib.a\n",
        ),
        (
            "Kbuild",
            "obj-y += kernel/\nobj-y += arch/$(SRCARCH)/\nobj-$(CONFIG_NET) += net/\nobj-y += $(ARCH_LIB)\n",
        ),
        (
            "kernel/Makefile",
            "obj-y = fork.o \\\n\texit.o # the rest\nobj-$(CONFIG_SMP) += smp.o\nobj-$(CONFIG_A) += shared.o\nobj-$(CONFIG_B) += shared.o\nifdef CONFIG_C\nobj-y += c.o\nelse\nobj-y += notc.o\nendif\nifeq ($(CONFIG_D),)\nobj-y += nod.o\nendif\nobj-$(subst m,y,$(CONFIG_E)) += e.o\nobj-$(if $(CONFIG_F),y) += f.o\nobj-y += sched/\n",
        ),
        (
            "kernel/sched/Kbuild",
            "proc-y := nommu.o\nproc-$(CONFIG_MMU) := mmu.o\nproc-y += base.o\nobj-y += proc.o\nparts := p1.o p2.o\nobj-y += $(addprefix sub/,$(parts))\nobj-y += $(call weird,x)\n",
        ),
        ("kernel/sched/Makefile", "obj-y += ignored.o\n"),
        (
            "arch/arm64/kernel/Makefile",
            "\tobj-y += tabbed.o\n$(obj)/x.o: y.o\n\tobj-y += recipe.o\nobj-y += after.o\ndefine body\nobj-y += defined.o\nendef\n",
        ),
        ("lib/Makefile", "lib-y := ctype.o\nobj-y += sort.o\n"),
        ("arch/arm64/lib/Makefile", "lib-y := memcpy.o\n"),
    ];

fn config(pairs: &[(&str, &str)]) -> ConfigValues {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn guards(kb: &mut Kbuild, object: &str) -> Vec<String> {
    kb.object_inclusions(object)
        .iter()
        .map(|i| i.guard.to_string())
        .collect()
}

#[test]
fn object_lines_with_their_conditions() {
    let t = TempTree::new(FILES);
    let mut kb = Kbuild::new(t.path(), "arm64");
    assert_eq!(guards(&mut kb, "kernel/fork.o"), ["y"]);
    let exit = kb.object_inclusions("kernel/exit.o");
    assert_eq!(
        exit[0].lines[0].line, 1,
        "continuation keeps the first line"
    );
    assert_eq!(guards(&mut kb, "kernel/smp.o"), ["SMP"]);
    assert_eq!(guards(&mut kb, "kernel/shared.o"), ["A", "B"]);
    assert_eq!(guards(&mut kb, "kernel/c.o"), ["C!=n"]);
    assert_eq!(guards(&mut kb, "kernel/notc.o"), ["C=n"]);
    assert_eq!(guards(&mut kb, "kernel/nod.o"), ["D=n"]);
    assert_eq!(guards(&mut kb, "kernel/e.o"), ["E!=n"]);
    assert_eq!(
        guards(&mut kb, "kernel/f.o"),
        ["<? obj-$(if $(CONFIG_F),y) ?>"]
    );
    assert!(kb.object_inclusions("kernel/missing.o").is_empty());
    // A tab starts a recipe only after a rule; `define` bodies are text.
    let found = |kb: &mut Kbuild, o: &str| !kb.object_inclusions(o).is_empty();
    assert!(found(&mut kb, "arch/arm64/kernel/tabbed.o"));
    assert!(!found(&mut kb, "arch/arm64/kernel/recipe.o"));
    assert!(found(&mut kb, "arch/arm64/kernel/after.o"));
    assert!(!found(&mut kb, "arch/arm64/kernel/defined.o"));
}

#[test]
fn kbuild_file_wins_and_composites_and_set_under_condition() {
    let t = TempTree::new(FILES);
    let mut kb = Kbuild::new(t.path(), "arm64");
    assert!(kb.object_inclusions("kernel/sched/ignored.o").is_empty());
    let mmu = kb.object_inclusions("kernel/sched/mmu.o");
    assert_eq!(mmu.len(), 1);
    assert_eq!(mmu[0].composite().as_deref(), Some("proc.o"));
    assert_eq!(mmu[0].guard.to_string(), "MMU");
    // `proc-$(CONFIG_MMU) :=` drops nommu.o where MMU=y.
    let nommu = kb.object_inclusions("kernel/sched/nommu.o");
    assert_eq!(nommu[0].guard.to_string(), "!MMU");
    let on = config(&[("MMU", "y")]);
    assert_eq!(nommu[0].guard.eval(&on), Some(false));
    assert_eq!(
        kb.composite_inclusions("kernel/sched/", "proc.o")[0]
            .guard
            .to_string(),
        "y"
    );
    // addprefix over a variable of the same file.
    assert_eq!(kb.object_inclusions("kernel/sched/sub/p2.o").len(), 1);
    assert_eq!(
        kb.unexpanded("kernel/sched/"),
        ["kernel/sched/Kbuild:7: $(call weird,x)"]
    );
}

#[test]
fn directories_up_to_the_top_level() {
    let t = TempTree::new(FILES);
    let mut kb = Kbuild::new(t.path(), "arm64");
    let d = kb.dir_inclusions("kernel/sched/");
    assert_eq!(
        (d[0].dir.as_str(), d[0].entry.as_str()),
        ("kernel/", "sched/")
    );
    let d = kb.dir_inclusions("kernel/");
    assert_eq!(
        (d[0].dir.as_str(), d[0].lines[0].file.as_str()),
        ("", "Kbuild")
    );
    assert_eq!(kb.dir_inclusions("net/")[0].guard.to_string(), "NET");
    assert_eq!(kb.dir_inclusions("arch/arm64/").len(), 1);
    // $(ARCH_LIB): libs-y of the arch Makefile, after the root Makefile's.
    let lib = kb.dir_inclusions("arch/arm64/lib/");
    assert_eq!(lib.len(), 1);
    let files: Vec<&str> = lib[0].lines.iter().map(|l| l.file.as_str()).collect();
    assert_eq!(files, ["Kbuild", "arch/arm64/Makefile"]);
    let lib = kb.dir_inclusions("lib/");
    let files: Vec<&str> = lib[0].lines.iter().map(|l| l.file.as_str()).collect();
    assert_eq!(files, ["Kbuild", "arch/arm64/Makefile", "Makefile"]);
    assert_eq!(guards(&mut kb, "lib/ctype.o"), ["y"]);
    assert_eq!(kb.object_inclusions("lib/ctype.o")[0].variable, "lib-y");
}

#[test]
fn conditionals_and_assignments_parse() {
    assert_eq!(conditional("ifeq ($(CONFIG_X),y)").to_string(), "X");
    assert_eq!(
        conditional("ifneq \"$(CONFIG_X)\" \"m\"").to_string(),
        "X!=m"
    );
    assert_eq!(conditional("ifeq (y,$(CONFIG_X))").to_string(), "X");
    assert_eq!(
        conditional("ifeq ($(CONFIG_A)$(CONFIG_B),yy)").to_string(),
        "A && B"
    );
    assert_eq!(
        conditional("ifneq ($(CONFIG_A)$(CONFIG_B),)").to_string(),
        "!(A=n && B=n)"
    );
    assert!(matches!(
        conditional("ifeq ($(CONFIG_A)$(CONFIG_B),y)"),
        Cond::Unparsed(_)
    ));
    assert_eq!(
        conditional("ifneq ($(filter y,$(CONFIG_A) $(CONFIG_B)),)").to_string(),
        "A || B"
    );
    assert_eq!(
        conditional("ifneq ($(or $(CONFIG_A),$(CONFIG_B)),)").to_string(),
        "A!=n || B!=n"
    );
    assert!(matches!(
        conditional("ifeq ($(filter y m,$(CONFIG_A)),)"),
        Cond::Unparsed(_)
    ));
    assert!(matches!(
        conditional("ifeq ($(ARCH),arm64)"),
        Cond::Unparsed(_)
    ));
    assert_eq!(logical_name("obj-${CONFIG_A}").1.to_string(), "A");
    assert_eq!(logical_name("obj-$(CONFIG_A:m=y)").1.to_string(), "A!=n");
    assert!(matches!(
        logical_name("m-$(CONFIG_A)$(CONFIG_B)").1,
        Cond::Unparsed(_)
    ));
    assert!(matches!(conditional("ifdef building"), Cond::Unparsed(_)));
    assert!(parse_assignment("$(obj)/x.o: FLAGS := y").is_none());
    assert!(parse_assignment("$(obj)/x.o: $(src)/x.c").is_none());
    let a = parse_assignment("obj-$(subst m,y,$(CONFIG_H)) += h/").unwrap();
    assert_eq!(
        (a.name.as_str(), &a.op),
        ("obj-$(subst m,y,$(CONFIG_H))", &Op::Append)
    );
    assert_eq!(patsubst("%.o", "%.pi.o", "a.o"), "a.pi.o");
    let st = logical_lines("a := b # c\n\tb\nx \\\n y\n");
    let texts: Vec<(u32, &str, bool)> = st
        .iter()
        .map(|s| (s.line, s.text.as_str(), s.tab))
        .collect();
    assert_eq!(
        texts,
        [(1, "a := b", false), (2, "b", true), (3, "x y", false)]
    );
}
