//! function_graph: the call stack of each task rebuilt from the
//! indentation, contexts from irq markers and nesting.

use super::{flag_context, Analysis, Event, Kind, Logged, Now};
use crate::model::Context;
use crate::names::NONE;
use trace_reader::{self as parse, GraphKind, Skip};

/// function_graph stacks deeper than this are cut (bounded memory on any input).
const MAX_DEPTH: usize = 512;
/// Nested irq markers beyond this are not counted.
const MAX_IRQ_NESTING: u32 = 64;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CpuState {
    pid: Option<u32>,
    irq: u32,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    func: u32,
    ctx: Option<Context>,
}

impl Analysis {
    /// A context-switch line: the CPU's task from now on.
    pub(super) fn switch(&mut self, cpu: u32, pid: u32) {
        self.format.graph_switches += 1;
        self.state.cpus.entry(cpu).or_default().pid = Some(pid);
    }

    /// `==========>` (enter) or `<==========`.
    pub(super) fn irq_marker(&mut self, cpu: u32, enter: bool) {
        self.format.graph_irq_markers += 1;
        let c = self.state.cpus.entry(cpu).or_default();
        c.irq = if enter {
            (c.irq + 1).min(MAX_IRQ_NESTING)
        } else {
            c.irq.saturating_sub(1)
        };
    }

    /// A function_graph event at `ts` (the abstime column's); `raw` is the
    /// whole line (a fork event's text, the duration), empty for a
    /// trace.dat's.
    pub(super) fn graph(&mut self, g: parse::GraphLine<'_>, ts: Option<u64>, raw: &[u8]) {
        // Ring-buffer events: a leaf is a call and its return on one line.
        let (ring, call) = match g.kind {
            GraphKind::Other => {
                self.ring_events.add(g.cpu, 1);
                if self.graph_fork_line(raw) {
                    self.markers += 1;
                    return;
                }
                return self.skip(Skip::OtherEvent);
            }
            GraphKind::Exit => (1, None),
            GraphKind::Entry(n) => (1, Some((n, true))),
            GraphKind::Leaf(n) => (2, Some((n, false))),
        };
        self.ring_events.add(g.cpu, ring);
        self.format.graph_lines += 1;
        if g.pid.is_some() {
            self.format.graph_proc += 1;
        }
        if ts.is_some() {
            self.format.graph_abstime += 1;
        }
        let cpu = self.state.cpus.get(&g.cpu).copied().unwrap_or_default();
        if let Some(p) = g.pid {
            self.state.cpus.entry(g.cpu).or_default().pid = Some(p);
        }
        // Without the proc column the task is known from the last context
        // switch on this CPU, or from the header (ftrace_it filters by pid).
        let pid = g.pid.or(cpu.pid).or(self.header.pid);
        let key = match pid {
            Some(p) => u64::from(p),
            None => (1 << 40) | u64::from(g.cpu),
        };
        let depth = g.depth.min(MAX_DEPTH);
        let stack = self.state.stacks.entry(key).or_default();
        stack.truncate(depth);
        let Some((name, is_entry)) = call else {
            // A return.
            self.markers += 1;
            if let (Some(log), Some(pid)) = (self.log.as_mut(), pid) {
                log.push(Logged {
                    ts,
                    line: self.lines,
                    dur: super::graph_duration(raw),
                    pid,
                    cpu: g.cpu,
                    callee: NONE,
                    caller: NONE,
                    depth: depth as u32,
                    kind: Kind::Exit,
                    phase: crate::model::Phase::Run,
                    ctx: Context::Process,
                });
            }
            return;
        };
        while stack.len() < depth {
            stack.push(Frame {
                func: NONE,
                ctx: None,
            });
        }
        let (caller, caller_ctx) = match depth.checked_sub(1).and_then(|i| stack.get(i)) {
            Some(f) => (f.func, f.ctx),
            None => (NONE, None),
        };
        let callee = self.names.intern(name);
        let ctx = match g.flags {
            Some(_) => flag_context(g.flags),
            None => {
                let mut c = caller_ctx.unwrap_or(Context::Process);
                if cpu.irq > 0 && c < Context::Hardirq {
                    c = Context::Hardirq;
                }
                self.names.root(callee).unwrap_or(c)
            }
        };
        if is_entry {
            stack.push(Frame {
                func: callee,
                ctx: Some(ctx),
            });
        }
        // The proc column names the task only when it gives the pid.
        let comm = if g.pid.is_some() { g.comm } else { b"" };
        if self.log.is_some() {
            self.state.now = Now {
                cpu: g.cpu,
                kind: if is_entry { Kind::Entry } else { Kind::Leaf },
                depth: depth as u32,
                dur: if is_entry {
                    None
                } else {
                    super::graph_duration(raw)
                },
            };
        }
        self.event(Event {
            pid,
            comm,
            callee,
            caller,
            ctx,
            ts,
            top: Some(depth == 0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{phase_of, run};
    use super::super::*;

    #[test]
    fn graph_without_proc_takes_the_header_pid() {
        let t = "\
# ftrace_it.version: 1
# ftrace_it.pid: 12
# ftrace_it.tracer: function_graph
 1)               |  __arm64_sys_execve() {
 1)   0.100 us    |    getname();
 1)   1.000 us    |  }
";
        let a = run(t, None);
        assert_eq!(a.target, Some((12, TargetSource::Header)));
        assert_eq!(a.unattributed, 0);
        assert_eq!(phase_of(&a, "getname"), vec![Phase::Exec]);
        assert_eq!(a.tracer(), "function_graph");
        assert_eq!(a.markers, 4);
    }

    #[test]
    fn graph_nesting_contexts_and_phases() {
        let t = "\
# tracer: function_graph
 1)   min-7    |               |  __arm64_sys_execve() {
 1)   min-7    |               |    do_execveat_common.isra.0() {
 1)   min-7    |   0.100 us    |      alloc_bprm();
 1)   min-7    |   9.000 us    |    }
 1)   min-7    |   9.900 us    |  }
 1)   min-7    |   0.100 us    |  exit_to_user_mode_prepare();
 1)   min-7    |  ==========> |
 1)   min-7    |               |  gic_handle_irq() {
 1)   min-7    |   0.100 us    |    handle_percpu_devid_irq();
 1)   min-7    |   0.100 us    |  }
 1)   min-7    |  <========== |
 1)   min-7    |               |  irq_exit_rcu() {
 1)   min-7    |   0.100 us    |    __do_softirq();
 1)   min-7    |   0.100 us    |  }
";
        let a = run(t, None);
        assert_eq!(a.target.map(|t| t.0), Some(7));
        assert_eq!(phase_of(&a, "alloc_bprm"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "gic_handle_irq"), vec![Phase::Run]);
        let acc = a.acc.as_ref().unwrap();
        let id = |n: &str| {
            (0..a.names.len() as u32)
                .find(|&i| a.names.name(i) == n.as_bytes())
                .unwrap()
        };
        let edge = |c: &str, f: &str| {
            acc.edges.get(&super::super::Edge {
                caller: id(c),
                callee: id(f),
            })
        };
        assert!(edge("do_execveat_common.isra.0", "alloc_bprm").is_some());
        let h = edge("gic_handle_irq", "handle_percpu_devid_irq").unwrap();
        assert_eq!(
            h.mask(),
            1 << (Phase::Run as usize * CONTEXTS.len() + Context::Hardirq as usize)
        );
        let s = edge("irq_exit_rcu", "__do_softirq").unwrap();
        assert_eq!(
            s.mask(),
            1 << (Phase::Run as usize * CONTEXTS.len() + Context::Softirq as usize)
        );
        assert_eq!(a.tracer(), "function_graph");
    }

    /// arm64 function_graph: the `el0_*` callers are not traced, so the
    /// first page fault after execve is just a call at depth 0.
    #[test]
    fn graph_arm64_run_starts_at_depth_zero() {
        let t = "\
 1)   min-5    |               |  do_el0_svc() {
 1)   min-5    |               |    __arm64_sys_execve() {
 1)   min-5    |   0.100 us    |      do_execveat_common.isra.0();
 1)   min-5    |   0.900 us    |    }
 1)   min-5    |   1.000 us    |  }
 1)   min-5    |               |  do_mem_abort() {
 1)   min-5    |   0.100 us    |    do_translation_fault();
 1)   min-5    |   0.200 us    |  }
";
        let a = run(t, None);
        // The depth-0 call around execve is its system call entry.
        assert_eq!(phase_of(&a, "do_el0_svc"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "do_execveat_common.isra.0"), vec![Phase::Exec]);
        assert_eq!(phase_of(&a, "do_mem_abort"), vec![Phase::Run]);
        assert_eq!(phase_of(&a, "do_translation_fault"), vec![Phase::Run]);
    }

    #[test]
    fn graph_without_proc_uses_switch_lines() {
        let t = "\
 0)               |  foo() {
 ------------------------------------------
 0)  launche-3    =>    min-4   
 ------------------------------------------

 0)               |  __x64_sys_execve() {
 0)   1.000 us    |    getname();
";
        let a = run(t, None);
        assert_eq!(a.unattributed, 1);
        assert_eq!(a.target.map(|t| t.0), Some(4));
        assert_eq!(a.format.graph_switches, 1);
        assert_eq!(a.skipped[Skip::Separator as usize], 2);
        assert_eq!(a.skipped[Skip::Blank as usize], 1);
    }
}
