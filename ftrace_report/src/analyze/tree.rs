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
        if o.last_ts.get() > self.last_ts.get() {
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
        let (target, target_acc) = match (self.target, &self.acc) {
            (Some((t, src)), Some(a)) if src != TargetSource::Option => (t, a),
            _ => return true,
        };
        let joins = if parent == target {
            target_acc.phase != Phase::PreExec
        } else {
            self.child_index.contains_key(&parent)
        };
        if joins && child != target && !self.child_index.contains_key(&child) {
            self.child_index.insert(child, self.children.len());
            self.children.push(Acc::forked(child, parent));
        }
        true
    }

    /// After the last line: `tree` lists every task, `acc` becomes the
    /// whole tree's record.
    pub(super) fn finish_tree(&mut self) {
        let Some(acc) = self.acc.as_mut() else {
            return;
        };
        self.tree.push(acc.clone());
        self.child_index.clear();
        for c in self.children.drain(..) {
            acc.merge(&c);
            self.tree.push(c);
        }
    }
}
