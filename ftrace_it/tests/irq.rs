//! `ftrace_it` against a fake tracefs (tests/common/mod.rs).
//! IRQ routing on real /proc/interrupts layouts (tests/fixtures/).

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::symlink;

/// The IRQ files ftrace_it routed to the housekeeping CPU.
fn routed(t: &Tree, args: &[&str]) -> Vec<u32> {
    let out_file = t.out_file();
    let mut all = vec!["-o", &out_file];
    all.extend(args);
    all.push("/bin/true");
    let (out, log) = t.strace(&all);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let mut n: Vec<u32> = log
        .tree_writes()
        .iter()
        .filter(|(p, d)| p.starts_with("proc/irq/") && d == "0\n")
        .map(|(p, _)| p.split('/').nth(2).unwrap().parse().unwrap())
        .collect();
    let moved: usize = header(&out_file)["irqs_moved"].parse().unwrap();
    assert!(moved <= n.len());
    n.sort();
    n
}

#[test]
fn irqs_of_real_layouts_except_timers_and_unnumbered_lines() {
    let t = Tree::new("irq");
    // x86_64 IO-APIC and PCI-MSI: IRQ 0 is the timer, 9 has no directory,
    // NMI/LOC/... have no number.
    assert_eq!(routed(&t, &[]), [1, 4, 8, 12, 24, 25]);
    // aarch64 GICv3: 11 is the per-CPU arch_timer; IPIn lines have no number.
    t.interrupts(GICV3, &[11, 13, 14, 15, 16, 18]);
    assert_eq!(routed(&t, &[]), [13, 14, 15, 16, 18]);
    // aarch64 GICv2: also skips the KVM guest timer.
    t.interrupts(GICV2, &[10, 12, 13, 35, 36, 40]);
    let before = t.snapshot();
    assert_eq!(routed(&t, &[]), [12, 13, 35, 36]);
    assert_restored(&before, &t);
    // A last line without a newline, numbers with leading spaces and tabs.
    t.interrupts(
        "   CPU0\n\t7:  1  edge  foo\n 1000:  2  edge  bar",
        &[7, 1000],
    );
    assert_eq!(routed(&t, &[]), [7, 1000]);
}

#[test]
fn unroutable_irqs_are_skipped_and_not_counted() {
    let t = Tree::new("unroutable");
    // Writing /proc/uptime fails with EIO, as a per-CPU IRQ's affinity does.
    fs::remove_file(t.path("proc/irq/4/smp_affinity_list")).unwrap();
    symlink("/proc/uptime", t.path("proc/irq/4/smp_affinity_list")).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(header(&out_file)["irqs_moved"], "5");
    let to_4 = log
        .tree_writes()
        .iter()
        .filter(|(p, _)| p.starts_with("proc/irq/4/"))
        .count();
    assert_eq!(to_4, 1, "tried once, never restored");
    assert_restored(&before, &t);
}

#[test]
fn no_irq_routing_leaves_irqs_alone() {
    let t = Tree::new("noirq");
    assert_eq!(routed(&t, &["--no-irq-routing"]), Vec::<u32>::new());
    let h = header(&t.out_file());
    assert_eq!(h["irq_routing"], "off");
    assert_eq!(h["housekeeping"], "none");
    assert_eq!(h["irqs_moved"], "0");
}
