//! The process tree of the target (README "Attribution"): the tasks it
//! forks (threads too) from `sched_process_fork` lines, each with its own
//! phases, merged into one record at the end.

use super::{Acc, Analysis, TargetSource};
use crate::model::{cell, Phase, CONTEXTS};

/// `sched_process_fork: comm=P pid=N child_comm=C child_pid=M`: the parent
/// and child pids. A comm may hold spaces, so the parent's pid is the one
/// followed by ` child_comm=`.
fn parse_fork(text: &[u8]) -> Option<(u32, u32)> {
    let rest = text.strip_prefix(b"sched_process_fork: comm=")?;
    let num = |s: &[u8]| -> Option<(u32, usize)> {
        let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
        let v = std::str::from_utf8(&s[..n]).ok()?.parse().ok()?;
        Some((v, n))
    };
    let mut parent = None;
    for i in memchr::memmem::find_iter(rest, b" pid=") {
        let after = &rest[i + 5..];
        if let Some((p, n)) = num(after) {
            if after[n..].starts_with(b" child_comm=") {
                parent = Some(p);
                break;
            }
        }
    }
    let at = memchr::memmem::rfind(rest, b" child_pid=")?;
    let (child, n) = num(&rest[at + 11..])?;
    (at + 11 + n == rest.len()).then_some((parent?, child))
}

impl Acc {
    /// A task forked from `parent`: it runs the program's code, so `run`.
    fn forked(pid: u32, parent: u32) -> Acc {
        let mut a = Acc::new(pid);
        a.parent = Some(parent);
        a.phase = Phase::Run;
        a.forked = true;
        a
    }

    /// A forked task calls execve: everything it did so far is `pre-exec`.
    pub(super) fn run_to_pre_exec(&mut self) {
        for c in CONTEXTS {
            let (from, to) = (cell(Phase::Run, c), cell(Phase::PreExec, c));
            self.counts[to] += std::mem::take(&mut self.counts[from]);
            for e in self.edges.values_mut() {
                e.cells[to] += std::mem::take(&mut e.cells[from]);
            }
        }
        self.phase_start[Phase::PreExec as usize] = self.phase_start[Phase::Run as usize].take();
    }

    /// Adds another task's record: counts and edges add up, a phase starts
    /// at its earliest start, the time span covers both. The name history
    /// stays this task's.
    fn merge(&mut self, o: &Acc) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        for (k, e) in &o.edges {
            match self.edges.get_mut(k) {
                Some(mine) => {
                    for (a, b) in mine.cells.iter_mut().zip(e.cells) {
                        *a += b;
                    }
                }
                None => {
                    self.edges.insert(*k, e.clone());
                }
            }
        }
        for (mine, theirs) in self.phase_start.iter_mut().zip(o.phase_start) {
            match (*mine, theirs) {
                (Some(m), Some(t)) if t.line < m.line => *mine = Some(t),
                (None, t) => *mine = t,
                _ => {}
            }
        }
        self.first_ts = match (self.first_ts, o.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if o.last_ts > self.last_ts {
            self.last_ts = o.last_ts;
        }
    }
}

impl Analysis {
    /// A `sched_process_fork` line (true if it is one): a task forked by a
    /// task of the tree joins it, unless the target forks it before its
    /// execve (the launcher's work). `--pid` selects one task: no tree.
    pub(super) fn fork_line(&mut self, text: &[u8]) -> bool {
        let Some((parent, child)) = parse_fork(text) else {
            return false;
        };
        self.fork(parent, child);
        true
    }

    /// `parent` forked `child`: the child joins the tree if its parent is
    /// of it.
    pub(super) fn fork(&mut self, parent: u32, child: u32) {
        let (target, target_acc) = match (self.target, &self.acc) {
            (Some((t, src)), Some(a)) if src != TargetSource::Option => (t, a),
            _ => return,
        };
        let joins = if parent == target {
            target_acc.phase != Phase::PreExec
        } else {
            self.state.child_index.contains_key(&parent)
        };
        if joins && child != target && !self.state.child_index.contains_key(&child) {
            self.state
                .child_index
                .insert(child, self.state.children.len());
            self.state.children.push(Acc::forked(child, parent));
        }
    }

    /// A function_graph event line `/* sched_process_fork: ... */`.
    pub(super) fn graph_fork_line(&mut self, raw: &[u8]) -> bool {
        let Some(at) = memchr::memmem::find(raw, b"/* ") else {
            return false;
        };
        let text = &raw[at + 3..];
        match memchr::memmem::rfind(text, b" */") {
            Some(end) => self.fork_line(&text[..end]),
            None => false,
        }
    }

    /// After the last line: `tree` lists every task, `acc` becomes the
    /// whole tree's record.
    pub(super) fn finish_tree(&mut self) {
        let Some(acc) = self.acc.as_mut() else {
            return;
        };
        self.tree.push(acc.clone());
        self.state.child_index.clear();
        for c in self.state.children.drain(..) {
            acc.merge(&c);
            self.tree.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{phase_of, run};
    use super::super::*;
    use super::parse_fork;

    /// arm64, function tracer: pid 10 (the header's) runs, forks 11, which
    /// closes a descriptor, execs and runs; both exit.
    const FORK_EXEC: &str = "\
# ftrace_it.pid: 10
 p-10 [001] ..... 1.00: do_el0_svc <-el0_svc
 p-10 [001] ..... 1.01: __arm64_sys_execve <-invoke_syscall
 p-10 [001] ..... 1.02: do_notify_resume <-el0_svc
 p-10 [001] ..... 1.03: do_mem_abort <-el0_ia
 p-10 [001] ..... 1.04: do_el0_svc <-el0_svc
 p-10 [001] ..... 1.05: copy_process <-kernel_clone
 p-10 [001] ..... 1.06: sched_process_fork: comm=p pid=10 child_comm=p child_pid=11
 p-11 [000] ..... 1.07: schedule_tail <-ret_from_fork
 p-11 [000] ..... 1.08: do_el0_svc <-el0_svc
 p-11 [000] ..... 1.09: __arm64_sys_close <-invoke_syscall
 p-11 [000] d.h.. 1.10: irq_enter_rcu <-el0_interrupt
 p-11 [000] ..... 1.11: do_el0_svc <-el0_svc
 p-11 [000] ..... 1.12: __arm64_sys_execve <-invoke_syscall
 c-11 [000] ..... 1.13: load_elf_binary <-bprm_execve
 c-11 [000] ..... 1.14: do_notify_resume <-el0_svc
 c-11 [000] ..... 1.15: handle_mm_fault <-do_page_fault
 c-11 [000] ..... 1.16: do_mem_abort <-el0_da
 c-11 [000] ..... 1.17: do_group_exit <-__arm64_sys_exit_group
 p-10 [001] ..... 1.18: do_wait <-kernel_wait4
 x-12 [001] ..... 1.19: unrelated <-other
";

    fn pids(a: &Analysis) -> Vec<(u32, Option<u32>)> {
        a.tree.iter().map(|t| (t.pid, t.parent)).collect()
    }

    fn count(acc: &Acc, p: Phase) -> u64 {
        CONTEXTS
            .iter()
            .map(|&c| acc.counts[model::cell(p, c)])
            .sum()
    }

    #[test]
    fn a_forked_child_that_execs_has_its_own_phases() {
        let a = run(FORK_EXEC, None);
        assert_eq!(pids(&a), vec![(10, None), (11, Some(10))]);
        let child = &a.tree[1];
        // Fork return, close and an interrupt: pre-exec; from the execve's
        // syscall entry on: exec.
        assert_eq!(
            [Phase::PreExec, Phase::Exec, Phase::Run, Phase::Exit].map(|p| count(child, p)),
            [4, 4, 2, 1]
        );
        assert_eq!(phase_of(&a, "schedule_tail"), vec![Phase::PreExec]);
        assert_eq!(phase_of(&a, "irq_enter_rcu"), vec![Phase::PreExec]);
        assert_eq!(phase_of(&a, "load_elf_binary"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "handle_mm_fault"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "do_group_exit"), vec![Phase::Exit]);
        // The parent stays in run; both tasks' system call entries merge.
        assert_eq!(phase_of(&a, "do_wait"), vec![Phase::Run]);
        assert_eq!(
            phase_of(&a, "do_el0_svc"),
            vec![Phase::PreExec, Phase::Exec, Phase::Run]
        );
        assert_eq!(
            child.phase_start[Phase::Exec as usize].map(|s| s.line),
            Some(13)
        );
        let acc = a.acc.as_ref().unwrap();
        assert_eq!(acc.counts.iter().sum::<u64>(), 18);
        assert_eq!(acc.comms, a.tree[0].comms);
        assert_eq!(
            acc.phase_start[Phase::PreExec as usize].map(|s| s.line),
            Some(9)
        );
        assert_eq!(acc.last_ts, Some(1_180_000_000));
        // The fork line is structure, not a skipped event.
        assert_eq!(a.skipped[Skip::OtherEvent as usize], 0);
        assert_eq!(a.markers, 2);
    }

    #[test]
    fn pid_option_selects_one_task() {
        let a = run(FORK_EXEC, Some(10));
        assert_eq!(pids(&a), vec![(10, None)]);
        assert_eq!(phase_of(&a, "load_elf_binary"), vec![]);
        let a = run(FORK_EXEC, Some(11));
        assert_eq!(pids(&a), vec![(11, None)]);
        // As before: a single task's events before its execve are pre-exec.
        assert_eq!(phase_of(&a, "schedule_tail"), vec![Phase::PreExec]);
        // An exec'ing child gets the same phases in the tree as alone.
        let tree = run(FORK_EXEC, None);
        assert_eq!(a.acc.as_ref().unwrap().counts, tree.tree[1].counts);
        assert_eq!(
            a.acc.as_ref().unwrap().phase_start,
            tree.tree[1].phase_start
        );
    }

    #[test]
    fn threads_run_and_exit_and_their_threads_join() {
        let t = "\
# ftrace_it.pid: 20
 t-20 [000] ..... 1.0: __arm64_sys_execve <-invoke_syscall
 t-20 [000] ..... 1.1: do_mem_abort <-el0_ia
 t-20 [000] ..... 1.2: sched_process_fork: comm=t pid=20 child_comm=t child_pid=21
 t-20 [000] ..... 1.3: sched_process_fork: comm=t pid=20 child_comm=t child_pid=22
 t-21 [001] ..... 1.4: __arm64_sys_getpid <-invoke_syscall
 t-22 [000] d.h.. 1.5: irq_enter_rcu <-el0_interrupt
 t-22 [000] ..... 1.6: sched_process_fork: comm=t pid=22 child_comm=t child_pid=23
 t-23 [001] ..... 1.7: __arm64_sys_nanosleep <-invoke_syscall
 t-21 [001] ..... 1.8: do_exit <-__arm64_sys_exit
 t-21 [001] ..... 1.9: release_task <-do_exit
";
        let a = run(t, None);
        assert_eq!(
            pids(&a),
            vec![(20, None), (21, Some(20)), (22, Some(20)), (23, Some(22))]
        );
        assert_eq!(phase_of(&a, "__arm64_sys_getpid"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "irq_enter_rcu"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "__arm64_sys_nanosleep"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "release_task"), vec![Phase::Exit]);
        let run_hardirq = model::cell(Phase::Run, Context::Hardirq);
        assert_eq!(a.acc.as_ref().unwrap().counts[run_hardirq], 1);
        assert_eq!(a.tree[3].first_ts, Some(1_700_000_000));
        // Without the header the target is found at its execve: same tree.
        let b = run(t.trim_start_matches("# ftrace_it.pid: 20\n"), None);
        assert_eq!(b.target, Some((20, TargetSource::Execve { line: 1 })));
        assert_eq!(pids(&b), pids(&a));
    }

    #[test]
    fn what_the_target_forks_before_its_execve_is_the_launchers() {
        let t = "\
# ftrace_it.pid: 30
 l-30 [000] ..... 1.0: sched_process_fork: comm=l pid=30 child_comm=l child_pid=31
 l-31 [000] ..... 1.1: schedule_tail <-ret_from_fork
 l-30 [000] ..... 1.2: __arm64_sys_execve <-invoke_syscall
";
        let a = run(t, None);
        assert_eq!(pids(&a), vec![(30, None)]);
        assert_eq!(phase_of(&a, "schedule_tail"), vec![]);
    }

    #[test]
    fn function_graph_fork_events() {
        let t = "\
# ftrace_it.pid: 5
 1)   p-5    |               |  do_el0_svc() {
 1)   p-5    |               |    __arm64_sys_execve() {
 1)   p-5    |   0.100 us    |      do_execveat_common.isra.0();
 1)   p-5    |   0.900 us    |    }
 1)   p-5    |   1.000 us    |  }
 1)   p-5    |               |  do_el0_svc() {
 1)   p-5    |               |    /* sched_process_fork: comm=p pid=5 child_comm=p child_pid=6 */
 1)   p-5    |   1.000 us    |  }
 0)   p-6    |   0.100 us    |  schedule_tail();
";
        let a = run(t, None);
        assert_eq!(pids(&a), vec![(5, None), (6, Some(5))]);
        assert_eq!(phase_of(&a, "schedule_tail"), vec![Phase::Run]);
        assert_eq!(a.skipped[Skip::OtherEvent as usize], 0);
        let other = t.replace("sched_process_fork", "sched_process_exit");
        assert_eq!(run(&other, None).skipped[Skip::OtherEvent as usize], 1);
    }

    #[test]
    fn fork_lines() {
        assert_eq!(
            parse_fork(b"sched_process_fork: comm=a pid=3 child_comm=b child_pid=4"),
            Some((3, 4))
        );
        assert_eq!(
            parse_fork(b"sched_process_fork: comm=x pid=1 y pid=3 child_comm=b pid=9 child_pid=4"),
            Some((3, 4))
        );
        assert_eq!(
            parse_fork(b"sched_process_fork: comm=a pid=3 child_comm=b child_pid=4x"),
            None
        );
        assert_eq!(
            parse_fork(b"sched_process_exit: comm=a pid=3 prio=120"),
            None
        );
    }
}
