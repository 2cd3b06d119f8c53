//! The program's tasks, found while the trace is read: the program, and
//! each task a `sched_process_fork` line of one of them starts; with the
//! comm and timestamp of each one's first and last line.

use crate::fsutil::first_number;
use crate::out::{Buf, Writer};
use guest_protocol::header;

/// Tasks listed at most; the rest are counted (`tasks` in the header).
pub const MAX_TASKS: usize = 64;

struct Task {
    pid: u32,
    parent: u32,
    comm: Buf<16>,
    /// Timestamps of the first and last line; empty: none yet.
    first: Buf<20>,
    last: Buf<20>,
}

impl Task {
    const NONE: Task = Task {
        pid: 0,
        parent: 0,
        comm: Buf::new(),
        first: Buf::new(),
        last: Buf::new(),
    };
}

pub struct Tasks {
    t: [Task; MAX_TASKS],
    n: usize,
    /// Every task found, listed or not.
    pub found: u64,
    /// The line being read, across chunks; longer lines are cut (a fork
    /// line is far shorter).
    line: Buf<256>,
}

/// A timestamp, or `none` if the task had no line.
fn or_none(ts: &Buf<20>) -> &[u8] {
    match ts.bytes() {
        [] => b"none",
        ts => ts,
    }
}

/// The value after `key` in an event's `key=value` fields.
fn value<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = text.windows(key.len()).position(|w| w == key)?;
    let v = &text[at + key.len()..];
    Some(&v[..v.iter().position(|&c| c == b' ').unwrap_or(v.len())])
}

impl Tasks {
    pub fn new(pid: u32, parent: u32) -> Tasks {
        let mut t = Tasks {
            t: [Task::NONE; MAX_TASKS],
            n: 0,
            found: 0,
            line: Buf::new(),
        };
        t.add(pid, parent, b"");
        t
    }

    fn add(&mut self, pid: u32, parent: u32, comm: &[u8]) {
        self.found += 1;
        if let Some(t) = self.t.get_mut(self.n) {
            t.pid = pid;
            t.parent = parent;
            t.comm.set(comm);
            self.n += 1;
        }
    }

    fn index(&self, pid: u32) -> Option<usize> {
        self.t[..self.n.min(MAX_TASKS)]
            .iter()
            .position(|t| t.pid == pid)
    }

    /// Reads a chunk of the trace text.
    // This, `one` and `write` not inlined into the long `record`: measured
    // 290 B smaller on aarch64.
    #[inline(never)]
    pub fn scan(&mut self, chunk: &[u8]) {
        for &c in chunk {
            if c == b'\n' {
                let line = core::mem::replace(&mut self.line, Buf::new());
                self.one(line.bytes());
            } else {
                self.line.s(&[c]);
            }
        }
    }

    /// `   comm-pid   [cpu] flags  secs.usecs: what`
    #[inline(never)]
    fn one(&mut self, line: &[u8]) {
        if line.first() == Some(&b'#') {
            return;
        }
        let Some(open) = line.windows(2).position(|w| w == b" [") else {
            return;
        };
        let task = &line[..open];
        let start = task.iter().position(|&c| c != b' ').unwrap_or(0);
        let task = &task[start..];
        let Some(dash) = task.iter().rposition(|&c| c == b'-') else {
            return;
        };
        let (comm, pid) = (&task[..dash], first_number(&task[dash + 1..]));
        let rest = &line[open..];
        let Some(close) = rest.windows(2).position(|w| w == b"] ") else {
            return;
        };
        let mut words = rest[close + 2..]
            .split(|&c| c == b' ')
            .filter(|w| !w.is_empty());
        let _flags = words.next();
        let Some(ts) = words.next().and_then(|w| w.strip_suffix(b":")) else {
            return;
        };
        let Some(i) = pid.and_then(|p| self.index(p as u32)) else {
            return;
        };
        let t = &mut self.t[i];
        if t.first.bytes().is_empty() {
            t.first.set(ts);
        }
        t.last.set(ts);
        if comm != b"<...>" {
            t.comm.set(comm);
        }
        if words.next() == Some(b"sched_process_fork:") {
            let child = value(line, b"child_pid=").and_then(first_number);
            let parent = value(line, b" pid=").and_then(first_number);
            let ccomm = value(line, b"child_comm=").unwrap_or_default();
            if let (Some(c), Some(p)) = (child, parent) {
                if self.index(c as u32).is_none() {
                    self.add(c as u32, p as u32, ccomm);
                }
            }
        }
    }

    /// `tasks: N`, then one `task:` line per listed task.
    #[inline(never)]
    pub fn write(&self, w: &mut Writer) {
        w.key(header::TASKS.as_bytes()).n(self.found);
        for t in &self.t[..self.n.min(MAX_TASKS)] {
            w.key(header::TASK.as_bytes()).s(b"pid=").n(t.pid as u64);
            w.s(b" parent=").n(t.parent as u64);
            w.s(b" first=").s(or_none(&t.first));
            w.s(b" last=").s(or_none(&t.last));
            w.s(b" comm=").s(t.comm.bytes());
        }
    }
}
