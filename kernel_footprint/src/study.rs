//! The ELISA study's tables next to ours: "Minimum Linux Requirements for
//! Executing a Minimal Application" (github.com/elisa-tech/wg-lfscs,
//! `lfscs-meetings/resources/`), whose `*.data/only_*.subs` list the
//! MAINTAINERS sections ks-nav found under each root of its call graph
//! (Linux 6.6, arm64), and their union. Ours come from a footprint map of
//! `min` (see `footprint`): every section of the files of an entry path but
//! THE REST, as ks-nav lists them. Each section where the two differ has
//! its reason below, found in the study's published graphs (`*.dot`) and
//! our trace. ftrace_report/README.md holds the table of one run, spliced
//! in by scripts/study-readme.sh.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::FootprintMap;

/// One of the study's tables and the entry path of ours it is set against.
pub struct Root {
    /// The study's root functions.
    pub study_root: &'static str,
    /// [`crate::ENTRY_PATHS`]' name.
    pub path: &'static str,
    pub study: &'static [&'static str],
}

pub const ROOTS: [Root; 3] = [
    Root {
        study_root: "__arm64_sys_execve",
        path: "execve system call",
        study: &[
            "AIO",
            "ARM64 PORT (AARCH64 ARCHITECTURE)",
            "CAPABILITIES",
            "CHAR and MISC DRIVERS",
            "CPU HOTPLUG",
            "CRYPTO API",
            "EXEC & BINFMT API",
            "FILESYSTEMS (VFS and infrastructure)",
            "FUTEX SUBSYSTEM",
            "GENERIC INCLUDE/ASM HEADER FILES",
            "LOCKING PRIMITIVES",
            "MEMBARRIER SUPPORT",
            "MEMORY MANAGEMENT",
            "MMU GATHER AND TLB INVALIDATION",
            "PAGE CACHE",
            "PER-CPU MEMORY ALLOCATOR",
            "POSIX CLOCKS and TIMERS",
            "RANDOM NUMBER DRIVER",
            "READ-COPY UPDATE (RCU)",
            "SCHEDULER",
            "SECURITY SUBSYSTEM",
            "SLAB ALLOCATOR",
        ],
    },
    Root {
        study_root: "el0_ia",
        path: "user instruction abort (el0_ia)",
        study: &[
            "ARM64 PORT (AARCH64 ARCHITECTURE)",
            "GENERIC INCLUDE/ASM HEADER FILES",
            "LOCKING PRIMITIVES",
            "MEMORY MANAGEMENT",
            "PAGE CACHE",
            "SLAB ALLOCATOR",
        ],
    },
    Root {
        study_root: "el0_interrupt, el1_interrupt",
        path: "interrupts",
        study: &[
            "AIO",
            "ARM64 PORT (AARCH64 ARCHITECTURE)",
            "ARM ARCHITECTED TIMER DRIVER",
            "ARM GENERIC INTERRUPT CONTROLLER DRIVERS",
            "CLOCKSOURCE, CLOCKEVENT DRIVERS",
            "DRIVER CORE, KOBJECTS, DEBUGFS AND SYSFS",
            "FILESYSTEMS (VFS and infrastructure)",
            "FUTEX SUBSYSTEM",
            "GENERIC ARCHITECTURE TOPOLOGY",
            "HIGH-RESOLUTION TIMERS, CLOCKEVENTS",
            "IRQCHIP DRIVERS",
            "IRQ DOMAINS (IRQ NUMBER MAPPING LIBRARY)",
            "IRQ SUBSYSTEM",
            "LOCKING PRIMITIVES",
            "MEMBARRIER SUPPORT",
            "MEMORY MANAGEMENT",
            "MMU GATHER AND TLB INVALIDATION",
            "NOHZ, DYNTICKS SUPPORT",
            "PER-CPU MEMORY ALLOCATOR",
            "POSIX CLOCKS and TIMERS",
            "READ-COPY UPDATE (RCU)",
            "SCHEDULER",
            "SLAB ALLOCATOR",
            "TIMEKEEPING, CLOCKSOURCE CORE, NTP, ALARMTIMER",
            "WORKQUEUE",
        ],
    },
];

/// Why a section is in one table and not in the other.
pub const REASONS: &[(&str, &str)] = &[
    ("EXEC & BINFMT API", "renamed \"EXEC & BINFMT API, ELF\" after 6.6: the same files (fs/exec.c, fs/binfmt_elf.c), the same functions (begin_new_exec, bprm_execve, ...)"),
    ("EXEC & BINFMT API, ELF", "the 6.12 name of \"EXEC & BINFMT API\""),
    ("CHAR and MISC DRIVERS", "drivers/char/random.c (get_random_u16 from arch_align_stack, in both traces) is RANDOM NUMBER DRIVER's and excluded here by `X: drivers/char/random.c`: ks-nav reads only F: lines, get_maintainer.pl and we honour X:"),
    ("GENERIC INCLUDE/ASM HEADER FILES", "the study's DWARF line information puts inlined include/asm-generic/ helpers in their header; we give a function to the object it was compiled into, inlined header code included"),
    ("MEMBARRIER SUPPORT", "execve: kernel/sched/membarrier.c is #included into kernel/sched/build_utility.c, so membarrier_exec_mmap (in both traces) is compiled into build_utility.o, which we give to SCHEDULER; the study's DWARF names the included file. interrupts: see AIO"),
    ("AIO", "interrupts: the study's interrupt graph reaches the exec's and the exit's work through el0_interrupt -> do_notify_resume -> schedule -> finish_task_switch -> mmput -> exit_aio (call edges merged from every context, completed with static ones); ours holds what ran in hardirq and softirq context"),
    ("FILESYSTEMS (VFS and infrastructure)", "interrupts: see AIO"),
    ("FUTEX SUBSYSTEM", "interrupts: see AIO"),
    ("LOCKING PRIMITIVES", "interrupts: in some runs only, a contended spin lock in softirq (queued_spin_lock_slowpath); otherwise see AIO (mutex_lock on the task switch's path: no sleeping lock runs in interrupt context)"),
    ("PER-CPU MEMORY ALLOCATOR", "interrupts: see AIO"),
    ("HIGH-RESOLUTION TIMERS, CLOCKEVENTS", "renamed \"HIGH-RESOLUTION TIMERS, TIMER WHEEL, CLOCKEVENTS\" after 6.6 (kernel/time/hrtimer.c, timer.c, clockevents.c)"),
    ("HIGH-RESOLUTION TIMERS, TIMER WHEEL, CLOCKEVENTS", "the 6.12 name of \"HIGH-RESOLUTION TIMERS, CLOCKEVENTS\""),
    ("FILE LOCKING (flock() and fcntl()/lockf())", "execve closes the close-on-exec descriptors the program inherited from our launcher (do_close_on_exec -> filp_close -> locks_remove_posix); in the study's graph do_close_on_exec calls nothing: its child had none to close"),
    ("FILESYSTEMS [IDMAPPED MOUNTS]", "make_vfsuid and make_vfsgid (permission checks of the path walk) are in both traces; in 6.12 they are defined in fs/mnt_idmapping.c, this section's file; the study's name look-up gave them no file of this section"),
    ("LIBRARY CODE", "lib/percpu_counter.c, lib/maple_tree.c (__percpu_counter_init_many, ma_free_rcu, in the study's graphs too): 6.12's MAINTAINERS gives every lib/* file to LIBRARY CODE, a section 6.6's does not have"),
    ("MAPLE TREE", "lib/maple_tree.c: built without the ftrace hook, so its functions show only as callers (ma_free_rcu, mas_alloc_nodes, mt_free_rcu are nodes of the study's graph too); the study's tables do not carry the section"),
    ("MEMORY MAPPING", "mm/mmap.c (do_mmap, find_vma, ... in the study's graph too): 6.12's MAINTAINERS has this section for it besides MEMORY MANAGEMENT; 6.6's does not. el0_ia: only in runs where the fault falls back from the per-VMA lock to find_vma"),
    ("VMA", "mm/vma.c: split out of mm/mmap.c in 6.12 (vma_link, vma_expand, remove_vma are in the study's graph, then in mmap.c), with its own section"),
    ("TIMEKEEPING, CLOCKSOURCE CORE, NTP, ALARMTIMER", "execve: ktime_get_coarse_real_ts64 (file time stamps through current_time) is in the study's graph but outside the part its execve root reaches; ours puts all of the exec's process-context work under execve"),
    ("TRACING", "interrupts, some runs: kernel/trace/pid_list.c (trace_pid_list_is_set, as a caller of a contended spin lock in softirq): the tracer's own pid filter, checked on scheduler events; an artefact of tracing, not a need of the program"),
    ("ARM ARCHITECTED TIMER DRIVER", "ground truth, execve: arch_counter_get_cntvct (drivers/clocksource/arm_arch_timer.c) is noinstr, so no ftrace log has it; it reads the counter behind sched_clock and ktime_get (the scheduler's clock during the exec, and with ftrace on every event's time stamp); the study lists the section only under the interrupts, where the timer's own handler is traced"),
    ("CLOCKSOURCE, CLOCKEVENT DRIVERS", "ground truth, execve: see ARM ARCHITECTED TIMER DRIVER (the same file)"),
    ("BITMAP API", "ground truth only: __bitmap_set, __bitmap_clear, _find_next_bit, ... (lib/bitmap.c, lib/find_bit.c) are built without the ftrace hook (lib/Makefile removes it), so no ftrace log has them, the study's neither: its static execve graph holds them, but its tables keep the functions of its log"),
    ("ERRSEQ ERROR TRACKING INFRASTRUCTURE", "ground truth only: errseq_sample (lib/errseq.c, as the program's file is opened) are built without the ftrace hook (lib/Makefile removes it), so no ftrace log has them, the study's neither: its static execve graph holds them, but its tables keep the functions of its log"),
    ("GENERIC STRING LIBRARY", "ground truth only: sized_strscpy (the program's new comm), strncpy (lib/string.c) are built without the ftrace hook (lib/Makefile removes it), so no ftrace log has them, the study's neither: its static execve graph holds them, but its tables keep the functions of its log"),
    ("USERSPACE COPYIN/COPYOUT (UIOVEC)", "ground truth only: _copy_to_iter, copy_page_to_iter, iov_iter_kvec (lib/iov_iter.c: kernel_read of the ELF headers) are built without the ftrace hook (lib/Makefile removes it), so no ftrace log has them, the study's neither: its static execve graph holds them, but its tables keep the functions of its log"),
    ("XARRAY", "ground truth only: xas_load, xas_start, xas_find, idr_find (lib/xarray.c, lib/idr.c: page cache and id look-ups) are built without the ftrace hook (lib/Makefile removes it), so no ftrace log has them, the study's neither: its static execve graph holds them, but its tables keep the functions of its log"),
    ("FUNCTION HOOKS (FTRACE)", "ground truth only: ftrace_caller and ftrace_pid_func run on every traced call, ftrace_filter_pid_sched_switch_probe at the task switch: there because ftrace is on, an artefact of tracing, not a need of the program"),
    ("WORKQUEUE", "interrupts, some runs: the study's trace had a delayed work's timer expire in the program's timer softirq (call_timer_fn -> delayed_work_timer_fn -> __queue_work); ours has it only in the runs where such a timer falls due on the program's CPU while it runs"),
    ("TMPFS (SHMEM FILESYSTEM)", "the program is read from our initramfs, which the kernel unpacks into tmpfs (CONFIG_TMPFS=y: shmem_file_read_iter, shmem_mmap, shmem_fault path); the study's graphs have no shmem function: its root file system was not tmpfs"),
];

fn reason(section: &str) -> Option<&'static str> {
    REASONS.iter().find(|(s, _)| *s == section).map(|(_, r)| *r)
}

/// Our sections for each root, from the map's entry paths.
fn ours<'a>(map: &'a FootprintMap, root: &Root) -> BTreeSet<&'a str> {
    map.entry_paths
        .iter()
        .find(|p| p.name == root.path)
        .map(|p| p.all_sections.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The column of the union of the three roots' sections.
pub const UNION: &str = "union of the three";

/// The side-by-side table (Markdown): a column per root, then the union of
/// the three (the study's 34 sections), and the sections that differ
/// without a reason in [`REASONS`].
pub fn table(map: &FootprintMap) -> (String, Vec<String>) {
    let mut sets: Vec<(BTreeSet<&str>, BTreeSet<&str>)> = ROOTS
        .iter()
        .map(|r| (r.study.iter().copied().collect(), ours(map, r)))
        .collect();
    let union = sets.iter().fold(
        (BTreeSet::new(), BTreeSet::new()),
        |(mut s, mut o), (study, ours)| {
            s.extend(study);
            o.extend(ours);
            (s, o)
        },
    );
    sets.push(union);
    let all: BTreeSet<&str> = sets.iter().flat_map(|(s, o)| s.union(o).copied()).collect();
    let mut out = String::from("| MAINTAINERS section |");
    for name in ROOTS.iter().map(|r| r.study_root).chain([UNION]) {
        let _ = write!(out, " {name} |");
    }
    out.push_str(" why they differ |\n|---|");
    for _ in &sets {
        out.push_str("---|");
    }
    out.push_str("---|\n");
    let mut unexplained = Vec::new();
    for section in &all {
        let mut differs = false;
        let _ = write!(out, "| {section} |");
        for (study, ours) in &sets {
            let cell = match (study.contains(section), ours.contains(section)) {
                (true, true) => "both",
                (true, false) => "study",
                (false, true) => "ours",
                (false, false) => "",
            };
            differs |= study.contains(section) != ours.contains(section);
            let _ = write!(out, " {cell} |");
        }
        let why = match (differs, reason(section)) {
            (false, _) => "",
            (true, Some(r)) => r,
            (true, None) => {
                unexplained.push(section.to_string());
                "?"
            }
        };
        let _ = writeln!(out, " {why} |");
    }
    let (study_all, ours_all) = &sets[ROOTS.len()];
    let _ = writeln!(
        out,
        "\nSections in all: the study {}, ours {}, both {} (Linux {}).",
        study_all.len(),
        ours_all.len(),
        study_all.intersection(ours_all).count(),
        map.release,
    );
    (out, unexplained)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Part;

    fn map(paths: &[(&str, &[&str])]) -> FootprintMap {
        FootprintMap {
            release: "r".into(),
            entry_paths: paths
                .iter()
                .map(|(name, sections)| Part {
                    name: name.to_string(),
                    functions: 1,
                    files: 1,
                    subsystems: Vec::new(),
                    all_sections: sections.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            ..FootprintMap::default()
        }
    }

    #[test]
    fn the_studys_own_sets_differ_nowhere() {
        let same: Vec<(&str, &[&str])> = ROOTS.iter().map(|r| (r.path, r.study)).collect();
        let (table, unexplained) = table(&map(&same));
        assert!(unexplained.is_empty(), "{unexplained:?}");
        assert!(
            !table.contains("| study |") && !table.contains("| ours |"),
            "{table}"
        );
        assert!(
            table.contains("| SCHEDULER | both |  | both | both |  |"),
            "{table}"
        );
        assert!(table.contains("the study 34, ours 34, both 34"), "{table}");
    }

    #[test]
    fn a_difference_without_a_reason_is_reported() {
        let mut execve: Vec<&str> = ROOTS[0].study.to_vec();
        execve.retain(|s| *s != "CAPABILITIES");
        execve.push("SOMETHING NEW");
        let (table, unexplained) = table(&map(&[
            (ROOTS[0].path, &execve),
            (ROOTS[1].path, ROOTS[1].study),
            (ROOTS[2].path, ROOTS[2].study),
        ]));
        assert_eq!(unexplained, ["CAPABILITIES", "SOMETHING NEW"]);
        assert!(
            table.contains("| SOMETHING NEW | ours |  |  | ours | ? |"),
            "{table}"
        );
        assert!(table.contains("| EXEC & BINFMT API | both |"), "{table}");
    }

    #[test]
    fn the_union_column_holds_a_section_of_any_root() {
        let (empty, _) = table(&map(&[]));
        assert!(
            empty.starts_with(
                "| MAINTAINERS section | __arm64_sys_execve | el0_ia | el0_interrupt, el1_interrupt | union of the three | why they differ |\n|---|---|---|---|---|---|\n"
            ),
            "{empty}"
        );
        assert!(
            empty.contains("| CAPABILITIES | study |  |  | study |"),
            "{empty}"
        );
        // A section both sides have, under different roots: the roots
        // differ, the union does not.
        let mut interrupts: Vec<&str> = ROOTS[2].study.to_vec();
        interrupts.push("CAPABILITIES");
        let mut execve: Vec<&str> = ROOTS[0].study.to_vec();
        execve.retain(|s| *s != "CAPABILITIES");
        let (table, unexplained) = table(&map(&[
            (ROOTS[0].path, &execve),
            (ROOTS[1].path, ROOTS[1].study),
            (ROOTS[2].path, &interrupts),
        ]));
        assert!(
            table.contains("| CAPABILITIES | study |  | ours | both | ? |"),
            "{table}"
        );
        assert_eq!(unexplained, ["CAPABILITIES"]);
    }

    #[test]
    fn one_reason_per_section() {
        let names: BTreeSet<&str> = REASONS.iter().map(|(s, _)| *s).collect();
        assert_eq!(names.len(), REASONS.len());
    }
}
