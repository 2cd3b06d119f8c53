//! The phase rules (README "Phases"): a state machine per task.

use super::{Acc, PhaseStart};
use crate::model::{cell, Context, Phase, CONTEXTS};
use crate::names::class;

/// What the phase rules keep of a pre-exec event that may be on the
/// execve's entry path (`execve::EntryPath`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Held {
    /// The edge (`Acc::edges`).
    pub key: super::Edge,
    pub ctx: Context,
    pub at: PhaseStart,
}

impl Acc {
    /// Moves the task on by one event (before it is recorded): function
    /// and caller classes, whether a function_graph call is at depth 0
    /// (`None`: function tracer), and what to hold of a pre-exec event.
    pub(super) fn step(&mut self, cf: u8, cp: u8, top: Option<bool>, held: impl FnOnce() -> Held) {
        let c = cf | cp;
        self.phase = match self.phase {
            Phase::PreExec => match self.entry.event(cf, cp, top, held()) {
                Some(path) => {
                    self.exec_from(&path);
                    Phase::Exec
                }
                None => Phase::PreExec,
            },
            Phase::Exec | Phase::Run if c & class::EXIT != 0 => Phase::Exit,
            // A forked task's own execve: what it did before is its pre-exec.
            Phase::Run if self.forked => match self.entry.event(cf, cp, top, held()) {
                Some(path) => {
                    self.forked = false;
                    self.run_to_pre_exec();
                    self.pre_exec_before = path.last().map(|h| h.at.line + 1);
                    self.exec_from(&path);
                    Phase::Exec
                }
                None => Phase::Run,
            },
            Phase::Exec
                if c & class::USER_ENTRY != 0
                    || (cf & class::KERNEL_ENTRY != 0 && cp & class::EL0_SYNC != 0) =>
            {
                Phase::Run
            }
            // function_graph: during execve everything nests below the
            // syscall; a call at depth 0 is a new entry unless on the way out.
            Phase::Exec if top == Some(true) && cf & class::RET_USER == 0 => Phase::Run,
            Phase::Exec if self.returned && c & class::KERNEL_ENTRY != 0 => Phase::Run,
            Phase::Exec => {
                if c & class::RET_USER != 0 {
                    self.returned = true;
                }
                Phase::Exec
            }
            p => p,
        };
    }

    /// The events of the execve's entry path, recorded as pre-exec, are
    /// exec's: their counts move, and exec starts at the first.
    fn exec_from(&mut self, path: &[Held]) {
        let Some(first) = path.first() else {
            return;
        };
        self.phase_start[Phase::Exec as usize] = Some(first.at);
        self.exec_lines.extend(path.iter().map(|h| h.at.line));
        for h in path {
            let (from, to) = (cell(Phase::PreExec, h.ctx), cell(Phase::Exec, h.ctx));
            self.counts[from] -= 1;
            self.counts[to] += 1;
            let e = self
                .edges
                .get_mut(&h.key)
                .expect("every held event was recorded");
            e.cells[from] -= 1;
            e.cells[to] += 1;
        }
        if CONTEXTS
            .iter()
            .all(|&c| self.counts[cell(Phase::PreExec, c)] == 0)
        {
            self.phase_start[Phase::PreExec as usize] = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{phase_of, run, X86};
    use super::super::*;
    use crate::model::cell;

    #[test]
    fn phases_x86_function() {
        let a = run(X86, Some(10));
        assert_eq!(phase_of(&a, "sched_setaffinity"), vec![Phase::PreExec]);
        assert_eq!(phase_of(&a, "__x64_sys_execve"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "getname"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "switch_fpu_return"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "lock_mm_and_find_vma"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "hrtimer_interrupt"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "get_signal"), vec![Phase::Exit]);
        assert_eq!(phase_of(&a, "do_group_exit"), vec![Phase::Exit]);
        let acc = a.acc.as_ref().unwrap();
        let run = Phase::Run as usize * CONTEXTS.len();
        assert_eq!(acc.counts[run + Context::Process as usize], 1);
        assert_eq!(acc.counts[run + Context::Hardirq as usize], 1);
        assert_eq!(acc.counts[run + Context::Softirq as usize], 1);
        let names: Vec<_> = acc.comms.iter().map(|c| c.0.clone()).collect();
        assert_eq!(names, vec![b"launcher".to_vec(), b"min".to_vec()]);
    }

    #[test]
    fn kernel_entry_during_exec_does_not_end_it() {
        let t = "\
 a-5 [001] ..... 1.1: __arm64_sys_execve <-invoke_syscall
 a-5 [001] d.h.. 1.2: irq_enter_rcu <-el1_interrupt
 a-5 [001] ..... 1.3: do_mem_abort <-el1_abort
 a-5 [001] ..... 1.4: load_elf_binary <-bprm_execve
 a-5 [001] ..... 1.5: do_mem_abort <-el0_ia
";
        let a = run(t, None);
        assert_eq!(phase_of(&a, "irq_enter_rcu"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "load_elf_binary"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "do_mem_abort"), vec![Phase::Exec, Phase::Run]);
    }

    /// arm64 6.12: `el0_*` handlers are noinstr (never traced, seen as
    /// callers); `execve` returns through `el0_svc`.
    #[test]
    fn phases_arm64_function() {
        let t = "\
   ftrace_it-44  [001] ..... 9.1: do_el0_svc <-el0_svc
   ftrace_it-44  [001] ..... 9.2: __arm64_sys_execve <-invoke_syscall
   ftrace_it-44  [001] ..... 9.3: do_execveat_common.isra.0 <-__arm64_sys_execve
         min-44  [001] ..... 9.4: do_notify_resume <-el0_svc
         min-44  [001] ..... 9.5: schedule <-do_notify_resume
         min-44  [001] ..... 9.6: do_mem_abort <-el0_ia
         min-44  [001] d.h.. 9.7: gic_handle_irq <-call_on_irq_stack
         min-44  [001] ..... 9.8: do_el0_svc <-el0_svc
         min-44  [001] ..... 9.9: do_signal <-do_notify_resume
";
        let a = run(t, None);
        assert_eq!(a.target, Some((44, TargetSource::Execve { line: 2 })));
        // The execve's system call entry is exec's, a later one run's.
        assert_eq!(phase_of(&a, "do_el0_svc"), vec![Phase::Exec, Phase::Run]);
        assert_eq!(phase_of(&a, "do_notify_resume"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "schedule"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "do_mem_abort"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "gic_handle_irq"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "do_signal"), vec![Phase::Exit]);
        // A new syscall straight after execve, from an inlined el0_svc.
        let s = "\
 a-3 [000] ..... 1.0: __arm64_sys_execve <-invoke_syscall
 a-3 [000] ..... 1.1: do_el0_svc <-el0t_64_sync_handler
";
        let a = run(s, None);
        assert_eq!(phase_of(&a, "do_el0_svc"), vec![Phase::Run]);
    }

    fn count(a: &Analysis, p: Phase, c: Context) -> u64 {
        a.acc.as_ref().unwrap().counts[cell(p, c)]
    }

    fn start(a: &Analysis, p: Phase) -> Option<u64> {
        a.acc.as_ref().unwrap().phase_start[p as usize].map(|s| s.line)
    }

    /// arm64: the trace starts in a tick from user mode; the execve's
    /// system call entry has an interrupt of its own.
    const ARM64: &str = "\
 min-7 [001] d.h.. 1.000001: hrtimer_interrupt <-arch_timer_handler_virt
 min-7 [001] d.h.. 1.000002: irq_exit_rcu <-el0_interrupt
 min-7 [001] ..s.. 1.000003: rcu_core <-handle_softirqs
 min-7 [001] ..... 1.000004: do_el0_svc <-el0_svc
 min-7 [001] d.... 1.000005: irq_enter_rcu <-el1_interrupt
 min-7 [001] d.h.. 1.000006: gic_handle_irq <-call_on_irq_stack
 min-7 [001] d.... 1.000007: irq_exit_rcu <-el1_interrupt
 min-7 [001] ..... 1.000008: invoke_syscall.constprop.0 <-do_el0_svc
 min-7 [001] ..... 1.000009: __arm64_sys_execve <-invoke_syscall.constprop.0
 min-7 [001] ..... 1.000010: do_mem_abort <-el0_ia
";

    #[test]
    fn arm64_execve_begins_at_its_system_call_entry() {
        for pid in [None, Some(7)] {
            let a = run(ARM64, pid);
            assert_eq!(start(&a, Phase::PreExec), Some(1));
            assert_eq!(start(&a, Phase::Exec), Some(4));
            assert_eq!(
                a.acc.as_ref().unwrap().phase_start[Phase::Exec as usize]
                    .unwrap()
                    .ts,
                Some(1_000_004_000)
            );
            assert_eq!(count(&a, Phase::PreExec, Context::Hardirq), 2);
            assert_eq!(count(&a, Phase::PreExec, Context::Softirq), 1);
            assert_eq!(count(&a, Phase::PreExec, Context::Process), 0);
            assert_eq!(count(&a, Phase::Exec, Context::Process), 5);
            assert_eq!(count(&a, Phase::Exec, Context::Hardirq), 1);
            assert_eq!(phase_of(&a, "do_el0_svc"), vec![Phase::Exec]);
            assert_eq!(
                phase_of(&a, "invoke_syscall.constprop.0"),
                vec![Phase::Exec]
            );
            assert_eq!(phase_of(&a, "gic_handle_irq"), vec![Phase::Exec]);
            // The tick's exit is pre-exec, the interrupt's on the path exec.
            assert_eq!(
                phase_of(&a, "irq_exit_rcu"),
                vec![Phase::PreExec, Phase::Exec]
            );
            assert_eq!(phase_of(&a, "do_mem_abort"), vec![Phase::Run]);
        }
        // Found by its execve: the target's line is the execve's.
        assert_eq!(
            run(ARM64, None).target,
            Some((7, TargetSource::Execve { line: 9 }))
        );
    }

    #[test]
    fn a_pre_exec_that_was_all_entry_path_is_not_reached() {
        let t = "\
 min-7 [001] ..... 1.1: do_el0_svc <-el0_svc
 min-7 [001] ..... 1.2: invoke_syscall <-do_el0_svc
 min-7 [001] ..... 1.3: __arm64_sys_execve <-invoke_syscall
";
        let a = run(t, None);
        assert_eq!(start(&a, Phase::PreExec), None);
        assert_eq!(start(&a, Phase::Exec), Some(1));
        assert_eq!(count(&a, Phase::Exec, Context::Process), 3);
    }

    /// x86_64: getpid, its way back to user mode, then execve's entry (with
    /// an interrupt before x64_sys_call when `irq`).
    fn x86(irq: bool) -> String {
        let mut t = String::from(
            "\
 launcher-10 [001] ..... 1.000001: __do_sys_getpid <-do_syscall_64
 launcher-10 [001] ..... 1.000002: syscall_exit_to_user_mode_prepare <-syscall_exit_to_user_mode
 launcher-10 [001] d.... 1.000003: exit_to_user_mode_prepare <-syscall_exit_to_user_mode
",
        );
        if irq {
            t.push_str(
                " launcher-10 [001] d.h.. 1.000004: hrtimer_interrupt <-__sysvec_apic_timer_interrupt\n",
            );
        }
        t.push_str(
            "\
 launcher-10 [001] ..... 1.000005: x64_sys_call <-do_syscall_64
 launcher-10 [001] ..... 1.000006: __x64_sys_execve <-do_syscall_64
 min-10 [001] ..... 1.000007: syscall_exit_to_user_mode_prepare <-syscall_exit_to_user_mode
 min-10 [001] ..... 1.000008: lock_mm_and_find_vma <-do_user_addr_fault
",
        );
        t
    }

    #[test]
    fn x86_64_execve_begins_after_the_last_way_back() {
        let a = run(&x86(false), Some(10));
        assert_eq!(start(&a, Phase::PreExec), Some(1));
        assert_eq!(start(&a, Phase::Exec), Some(4));
        assert_eq!(count(&a, Phase::PreExec, Context::Process), 3);
        assert_eq!(count(&a, Phase::Exec, Context::Process), 3);
        assert_eq!(phase_of(&a, "x64_sys_call"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "lock_mm_and_find_vma"), vec![Phase::Run]);

        let a = run(&x86(true), Some(10));
        assert_eq!(start(&a, Phase::Exec), Some(4));
        assert_eq!(count(&a, Phase::PreExec, Context::Process), 3);
        assert_eq!(count(&a, Phase::PreExec, Context::Hardirq), 0);
        assert_eq!(count(&a, Phase::Exec, Context::Hardirq), 1);
        assert_eq!(phase_of(&a, "hrtimer_interrupt"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "__do_sys_getpid"), vec![Phase::PreExec]);
    }
}
