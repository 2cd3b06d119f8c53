//! The phase rules (README "Phases"): a state machine per task.

use super::Acc;
use crate::model::Phase;
use crate::names::class;

impl Acc {
    /// Moves the task on by one event: function and caller classes, and
    /// whether a function_graph call is at depth 0.
    pub(super) fn step(&mut self, cf: u8, cp: u8, top: bool) {
        let c = cf | cp;
        self.phase = match self.phase {
            Phase::PreExec if c & class::EXECVE != 0 => Phase::Exec,
            Phase::Exec | Phase::Run if c & class::EXIT != 0 => Phase::Exit,
            Phase::Exec
                if c & class::USER_ENTRY != 0
                    || (cf & class::KERNEL_ENTRY != 0 && cp & class::EL0_SYNC != 0) =>
            {
                Phase::Run
            }
            // function_graph: during execve everything nests below the
            // syscall; a call at depth 0 is a new entry unless on the way out.
            Phase::Exec if top && cf & class::RET_USER == 0 => Phase::Run,
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
}

#[cfg(test)]
mod tests {
    use super::super::tests::{phase_of, run, X86};
    use super::super::*;

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
        assert_eq!(phase_of(&a, "do_el0_svc"), vec![Phase::PreExec, Phase::Run]);
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
}
