//! Where the execve of a task begins: the one rule, used by the analyser
//! (pre-exec / exec) and by the guest tests (README "Where exec begins").
//!
//! The execve system call is the program's own: it begins where the task
//! enters the kernel for it, not at the system call's function. So the
//! syscall entry path before `__arm64_sys_execve` / `__x64_sys_execve`
//! (arm64 `el0t_64_sync` -> `el0_svc` -> `do_el0_svc` -> `invoke_syscall`,
//! x86_64 `entry_SYSCALL_64` -> `do_syscall_64` -> `x64_sys_call`),
//! together with an interrupt that lands on that path, belongs to exec.
//!
//! The entry code itself is not traced (`noinstr`), so the path is found
//! from the events around it (function and caller classes):
//!
//! - a system call entry from user mode starts a path: arm64 a kernel
//!   entry called from an el0 syscall frame (`do_el0_svc <-el0_svc`);
//!   function_graph any call at depth 0 (the entry code is not traced) that
//!   is not on the way back to user mode;
//! - the way back to user mode (`exit_to_user_mode_prepare`,
//!   `do_notify_resume`, ...) ends the task's kernel work: with the
//!   function tracer the next event starts a path (x86_64 entries do not
//!   say they come from user mode); with function_graph the next depth-0
//!   call does;
//! - a syscall entry frame (`do_el0_svc`, `invoke_syscall`,
//!   `do_syscall_64`, `x64_sys_call`, ...) as function or caller starts a
//!   path when none is open;
//! - another system call's own function (`__arm64_sys_*`, `__x64_sys_*`,
//!   `__do_sys_*`, ...) or an exception or interrupt from user mode (arm64
//!   `el0_*` frames) ends the path: what follows is not execve's;
//! - every other event continues an open path (entry work, interrupts,
//!   faults taken in the kernel);
//! - the execve (function or caller `names::EXECVE_NAMES`) begins exec at the
//!   start of the open path, else at itself.
//!
//! A path longer than `MAX_PATH` events is dropped: no entry path is that
//! long, and it bounds what is held per task.

use crate::names::{class, classify, normalize};

/// Events held at most for one entry path.
pub const MAX_PATH: usize = 1024;

/// The execve system call's function on an architecture (`uname -m`, as
/// in the `ftrace_it.machine` header).
pub fn syscall_function(machine: &str) -> Option<&'static str> {
    match machine {
        "aarch64" | "arm64" => Some("__arm64_sys_execve"),
        "x86_64" => Some("__x64_sys_execve"),
        _ => None,
    }
}

/// The state of one task before its execve: the events since a possible
/// start of the execve's entry path (the module comment's rules). `T` is
/// what the caller needs back of each event.
#[derive(Clone, Debug)]
pub struct EntryPath<T> {
    /// `None`: no path is open.
    held: Option<Vec<T>>,
}

impl<T> Default for EntryPath<T> {
    fn default() -> Self {
        EntryPath { held: None }
    }
}

impl<T> EntryPath<T> {
    /// One event of the task before its execve: the classes
    /// (`names::class`) of its function and caller, and for function_graph
    /// whether the call is at depth 0 (`None`: function tracer). When the
    /// event is the execve, returns the events of its entry path that came
    /// before it, oldest first (maybe none); otherwise `None`, and the
    /// event is held if it may be on the path.
    pub fn event(&mut self, func: u8, caller: u8, top: Option<bool>, item: T) -> Option<Vec<T>> {
        let c = func | caller;
        if c & class::EXECVE != 0 {
            return Some(self.held.take().unwrap_or_default());
        }
        let syscall_from_user = func & class::KERNEL_ENTRY != 0 && caller & class::EL0_SYNC != 0;
        if func & class::SYSCALL_FN != 0 || c & class::USER_ENTRY != 0 {
            self.held = None;
        } else if syscall_from_user || (top == Some(true) && func & class::RET_USER == 0) {
            self.held = Some(vec![item]);
        } else if c & class::RET_USER != 0 {
            self.held = match top {
                None => Some(Vec::new()),
                Some(_) => None,
            };
        } else if let Some(held) = &mut self.held {
            if held.len() < MAX_PATH {
                held.push(item);
            } else {
                self.held = None;
            }
        } else if c & class::SYSCALL_ENTRY != 0 {
            self.held = Some(vec![item]);
        }
        None
    }
}

/// Where the execve of a task begins in its function tracer events
/// (`(function, caller)`, raw names, in trace order): the index of the
/// first event of the execve system call (its entry path included), or
/// `None` if the task does not enter execve.
pub fn start<'a>(events: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<usize> {
    let class_of = |name: &str| classify(normalize(name.as_bytes()));
    let mut path = EntryPath::default();
    for (i, (func, caller)) in events.into_iter().enumerate() {
        if let Some(before) = path.event(class_of(func), class_of(caller), None, i) {
            return Some(before.first().copied().unwrap_or(i));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{is_execve, is_syscall_function};

    /// `start` over `func <-caller` lines.
    fn start_of(lines: &str) -> Option<usize> {
        start(lines.lines().map(|l| {
            let (f, c) = l.trim().split_once(" <-").unwrap();
            (f, c)
        }))
    }

    #[test]
    fn syscall_functions_per_architecture() {
        assert_eq!(syscall_function("aarch64"), Some("__arm64_sys_execve"));
        assert_eq!(syscall_function("x86_64"), Some("__x64_sys_execve"));
        assert_eq!(syscall_function("riscv64"), None);
        for m in ["aarch64", "x86_64"] {
            let f = syscall_function(m).unwrap();
            assert!(is_execve(f.as_bytes()) && !is_syscall_function(f.as_bytes()));
        }
    }

    #[test]
    fn arm64_entry_path_is_part_of_the_execve() {
        let t = "\
            irq_exit_rcu <-el0_interrupt
            __do_softirq <-____do_softirq
            do_el0_svc <-el0_svc
            invoke_syscall.constprop.0 <-do_el0_svc
            __arm64_sys_execve <-invoke_syscall.constprop.0";
        assert_eq!(start_of(t), Some(2));
    }

    #[test]
    fn arm64_interrupt_on_the_entry_path_is_part_of_the_execve() {
        let t = "\
            do_el0_svc <-el0_svc
            irq_enter_rcu <-el1_interrupt
            gic_handle_irq <-call_on_irq_stack
            irq_exit_rcu <-el1_interrupt
            invoke_syscall <-do_el0_svc
            __arm64_sys_execve <-invoke_syscall";
        assert_eq!(start_of(t), Some(0));
        // A tick from user mode before the system call is not.
        let tick = format!(
            "irq_enter_rcu <-el0_interrupt\nhrtimer_interrupt <-arch_timer_handler_virt\n{t}"
        );
        assert_eq!(start_of(&tick), Some(2));
    }

    #[test]
    fn another_system_call_ends_the_path() {
        // getpid's entry and body, then execve's own entry.
        let t = "\
            do_el0_svc <-el0_svc
            invoke_syscall <-do_el0_svc
            __arm64_sys_getpid <-invoke_syscall
            __task_pid_nr_ns <-__arm64_sys_getpid
            do_el0_svc <-el0_svc
            invoke_syscall <-do_el0_svc
            __arm64_sys_execve <-invoke_syscall";
        assert_eq!(start_of(t), Some(4));
        // Without its own entry, execve begins at itself.
        let bare = "\
            __x64_sys_getpid <-do_syscall_64
            __task_pid_nr_ns <-__x64_sys_getpid
            __x64_sys_execve <-do_syscall_64";
        assert_eq!(start_of(bare), Some(2));
    }

    #[test]
    fn x86_64_entry_path_starts_after_the_way_back() {
        let t = "\
            __do_sys_sched_yield <-do_syscall_64
            schedule <-__do_sys_sched_yield
            syscall_exit_to_user_mode_prepare <-syscall_exit_to_user_mode
            fpregs_assert_state_consistent <-exit_to_user_mode_prepare
            x64_sys_call <-do_syscall_64
            __x64_sys_execve <-do_syscall_64";
        assert_eq!(start_of(t), Some(4));
        // An interrupt between the entry and x64_sys_call (interrupts are on
        // from syscall_enter_from_user_mode) has no way back to user mode.
        let irq = t.replace(
            "            x64_sys_call",
            "            irq_enter_rcu <-sysvec_apic_timer_interrupt
            hrtimer_interrupt <-__sysvec_apic_timer_interrupt
            irq_exit_rcu <-sysvec_apic_timer_interrupt
            x64_sys_call",
        );
        assert_eq!(start_of(&irq), Some(4));
        // One from user mode returns to it, so it is not on the path.
        let user_irq = t.replace(
            "            x64_sys_call",
            "            hrtimer_interrupt <-__sysvec_apic_timer_interrupt
            exit_to_user_mode_prepare <-irqentry_exit_to_user_mode
            x64_sys_call",
        );
        assert_eq!(start_of(&user_irq), Some(6));
    }

    #[test]
    fn x86_64_syscall_entry_starts_a_path_without_a_way_back() {
        // Tracing began while the task was in user mode.
        let t = "\
            x64_sys_call <-do_syscall_64
            __x64_sys_execve <-do_syscall_64";
        assert_eq!(start_of(t), Some(0));
    }

    #[test]
    fn graph_path_is_the_depth_zero_call_around_the_execve() {
        let mut p = EntryPath::default();
        let g = |n: &str| classify(n.as_bytes());
        let none = 0;
        // irq_exit_rcu(); at depth 0, then do_el0_svc() { invoke_syscall() {
        // an interrupt below it, then __arm64_sys_execve() {.
        assert_eq!(p.event(g("irq_exit_rcu"), none, Some(true), 0), None);
        assert_eq!(p.event(g("do_el0_svc"), none, Some(true), 1), None);
        assert_eq!(
            p.event(g("invoke_syscall"), g("do_el0_svc"), Some(false), 2),
            None
        );
        assert_eq!(
            p.event(g("gic_handle_irq"), g("invoke_syscall"), Some(false), 3),
            None
        );
        assert_eq!(
            p.event(g("__arm64_sys_execve"), g("invoke_syscall"), Some(false), 4),
            Some(vec![1, 2, 3])
        );
        // The way back at depth 0 is no entry: what nests below it neither.
        let mut p = EntryPath::default();
        assert_eq!(
            p.event(g("exit_to_user_mode_prepare"), none, Some(true), 0),
            None
        );
        assert_eq!(
            p.event(
                g("schedule"),
                g("exit_to_user_mode_prepare"),
                Some(false),
                1
            ),
            None
        );
        assert_eq!(
            p.event(g("finish_task_switch"), g("schedule"), Some(false), 2),
            None
        );
        assert_eq!(
            p.event(g("__x64_sys_execve"), none, Some(true), 3),
            Some(vec![])
        );
    }

    #[test]
    fn a_path_is_bounded() {
        let mut p = EntryPath::default();
        let g = |n: &str| classify(n.as_bytes());
        assert_eq!(p.event(g("do_el0_svc"), g("el0_svc"), None, 0), None);
        for i in 1..=MAX_PATH {
            assert_eq!(p.event(0, 0, None, i), None);
        }
        assert!(p.held.is_none());
        assert_eq!(
            p.event(g("__arm64_sys_execve"), g("invoke_syscall"), None, 0),
            Some(vec![])
        );
    }
}
