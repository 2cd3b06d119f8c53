//! What the plugin keeps: for each `execve` of a watched path, the ordered
//! kernel function entries of that task from the kernel entry of its
//! `execve` system call to its final context switch. Pure logic, fed with
//! (vCPU, function, [`Current`]) by the plugin's callback.

use crate::arch::Current;
use std::collections::HashMap;

/// Set on an entry from user mode that ran with user state
/// ([`Current::user`]): an exception entry stub. Without a task of its own
/// (arm64) it is attributed to the task that the vCPU last ran in the
/// kernel (the one that went to user mode).
pub const USER: u32 = 1 << 31;

/// In a record's log: the task was switched out (its vCPU ran another task
/// next). Not a function index: those are below `USER`.
pub const SWITCHED: u32 = u32::MAX;

/// Entries kept per vCPU since its last kernel entry from user mode: the
/// syscall path before the execve wrapper is a handful, unless interrupts
/// come in under ftrace (a timer interrupt there is over a thousand
/// entries on x86); a kernel thread, never entered from user mode, stops
/// at the bound.
const PENDING: usize = 1 << 16;

/// Text symbols of System.map: function start address -> index into names.
pub struct Symbols {
    pub names: Vec<String>,
    pub starts: HashMap<u64, u32>,
}

/// Linker markers share addresses with functions: a function's own name wins.
fn marker(name: &str) -> bool {
    name.ends_with("_start") || name.ends_with("_end") || name == "_text" || name == "_stext"
}

impl Symbols {
    pub fn parse(text: &str) -> Result<Symbols, String> {
        let mut s = Symbols {
            names: Vec::new(),
            starts: HashMap::new(),
        };
        for (n, line) in text.lines().enumerate() {
            let mut f = line.split_whitespace();
            let (Some(addr), Some(kind), Some(name), None) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                return Err(format!("line {}: not `ADDRESS TYPE NAME`", n + 1));
            };
            let addr = u64::from_str_radix(addr, 16)
                .map_err(|_| format!("line {}: bad address {addr}", n + 1))?;
            if !matches!(kind, "T" | "t" | "W" | "w") || name.starts_with("$") {
                continue;
            }
            match s.starts.get(&addr) {
                Some(&i) if !marker(&s.names[i as usize]) || marker(name) => {}
                Some(&i) => s.names[i as usize] = name.to_string(),
                None => {
                    s.starts.insert(addr, s.names.len() as u32);
                    s.names.push(name.to_string());
                }
            }
        }
        if s.names.is_empty() {
            return Err("no text symbols".into());
        }
        Ok(s)
    }

    pub fn index(&self, name: &str) -> Option<u32> {
        self.names.iter().position(|n| n == name).map(|i| i as u32)
    }
}

pub struct Record {
    pub task: u64,
    pub path: String,
    /// Function indexes, `USER` for entry stubs.
    pub log: Vec<u32>,
    /// The task entered `do_task_dead`, the end of `do_exit`: its next
    /// switch-out is its last (an exiting task may still sleep and be
    /// switched out before).
    pub exiting: bool,
    /// Its final context switch was seen.
    pub closed: bool,
    /// The syscall path before `execve` was fully held.
    pub prefix_complete: bool,
    last_vcpu: u32,
}

#[derive(Default)]
struct Cpu {
    last_task: u64,
    pending: Vec<(u64, u32)>,
    overflow: bool,
}

pub struct Recorder {
    execve: u32,
    do_task_dead: u32,
    paths: Vec<String>,
    cpus: Vec<Cpu>,
    pub records: Vec<Record>,
    open: Vec<usize>,
}

impl Recorder {
    pub fn new(execve: u32, do_task_dead: u32, paths: Vec<String>) -> Recorder {
        Recorder {
            execve,
            do_task_dead,
            paths,
            cpus: Vec::new(),
            records: Vec::new(),
            open: Vec::new(),
        }
    }

    /// One function entry on `vcpu`; `exec_path` reads the path an
    /// `execve` is for (called only for the architecture's execve wrapper).
    pub fn entry(
        &mut self,
        vcpu: u32,
        func: u32,
        current: Current,
        exec_path: impl FnOnce() -> Option<String>,
    ) {
        let v = vcpu as usize;
        if self.cpus.len() <= v {
            self.cpus.resize_with(v + 1, Cpu::default);
        }
        let cpu = &mut self.cpus[v];
        let user = current.user;
        let task = current.task.unwrap_or(cpu.last_task);
        let prev = std::mem::replace(&mut cpu.last_task, task);
        let e = func | if user { USER } else { 0 };
        if user {
            cpu.pending.clear();
            cpu.overflow = false;
        }
        if cpu.pending.len() < PENDING {
            cpu.pending.push((task, e));
        } else {
            cpu.overflow = true;
        }
        let records = &mut self.records;
        if prev != task {
            if let Some(&i) = self
                .open
                .iter()
                .find(|&&i| records[i].task == prev && records[i].last_vcpu == vcpu)
            {
                records[i].log.push(SWITCHED);
            }
        }
        // A dead task's record ends when its vCPU runs another task.
        self.open.retain(|&i| {
            let r = &mut records[i];
            r.closed = r.exiting && r.last_vcpu == vcpu && r.task != task;
            !r.closed
        });
        if let Some(&i) = self.open.iter().find(|&&i| records[i].task == task) {
            let r = &mut records[i];
            r.log.push(e);
            r.last_vcpu = vcpu;
            r.exiting |= func == self.do_task_dead;
        } else if func == self.execve && !user {
            let Some(path) = exec_path().filter(|p| self.paths.contains(p)) else {
                return;
            };
            let cpu = &self.cpus[v];
            let mut log: Vec<u32> = cpu
                .pending
                .iter()
                .filter(|(t, _)| *t == task)
                .map(|&(_, e)| e)
                .collect();
            if cpu.overflow {
                log.push(e);
            }
            self.open.push(records.len());
            records.push(Record {
                task,
                path,
                log,
                exiting: false,
                closed: false,
                prefix_complete: !cpu.overflow,
                last_vcpu: vcpu,
            });
        }
    }

    /// The record as text, in the `.gt` format ([`gt_record`]).
    pub fn text(&self, r: &Record, names: &[String]) -> String {
        let mut file = gt_record::Record {
            path: r.path.clone(),
            task: r.task,
            closed: r.closed,
            prefix_complete: r.prefix_complete,
            ..gt_record::Record::default()
        };
        for &e in &r.log {
            if e == SWITCHED {
                file.switches.push(file.entries.len());
            } else {
                file.entries
                    .push((names[(e & !USER) as usize].clone(), e & USER != 0));
            }
        }
        gt_record::write(&file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn kernel(task: u64) -> Current {
        Current {
            task: Some(task),
            user: false,
        }
    }
    const K1: Current = kernel(0xffff_0000_0100_0000);
    const K2: Current = kernel(0xffff_0000_0200_0000);
    /// arm64's entry stub from user mode: no task of its own.
    const USP: Current = Current {
        task: None,
        user: true,
    };
    // Function indexes.
    const STUB: u32 = 0;
    const SVC: u32 = 1;
    const EXECVE: u32 = 2;
    const WORK: u32 = 3;
    const DEAD: u32 = 4;
    const SWITCH: u32 = 5;
    const DO_EXIT: u32 = 6;

    fn rec() -> Recorder {
        Recorder::new(EXECVE, DEAD, vec!["/usr/bin/min".into()])
    }

    fn path(p: &str) -> impl FnOnce() -> Option<String> + '_ {
        move || Some(p.to_string())
    }

    #[test]
    fn symbols_prefer_functions_over_markers() {
        let s = Symbols::parse(
            "ffff800080010000 T _text\nffff800080010000 T _stext\nffff800080010000 t el1_sync\n\
             ffff800080010800 T do_exit\nffff800080020000 D some_data\n",
        )
        .unwrap();
        assert_eq!(s.names, ["el1_sync", "do_exit"]);
        assert_eq!(s.starts[&0xffff800080010800], 1);
        assert!(Symbols::parse("xyz T a\n").is_err());
        assert!(Symbols::parse("").is_err());
    }

    #[test]
    fn a_record_runs_from_the_syscall_entry_to_the_final_switch() {
        let mut r = rec();
        r.entry(1, WORK, K1, path("x"));
        // Kernel entry from user mode: the stub still sees the user SP.
        r.entry(1, STUB, USP, path("x"));
        r.entry(1, SVC, K1, path("x"));
        r.entry(1, EXECVE, K1, path("/usr/bin/min"));
        r.entry(0, WORK, K2, path("x"));
        r.entry(1, WORK, K1, path("x"));
        r.entry(1, STUB, USP, path("x"));
        r.entry(1, DEAD, K1, path("x"));
        r.entry(1, SWITCH, K1, path("x"));
        r.entry(1, WORK, K2, path("x"));
        // The pointer reused by a new task: not the program.
        r.entry(1, WORK, K1, path("x"));
        assert_eq!(r.records.len(), 1);
        let g = &r.records[0];
        assert!(g.closed && g.prefix_complete);
        assert_eq!(
            g.log,
            [
                STUB | USER,
                SVC,
                EXECVE,
                WORK,
                STUB | USER,
                DEAD,
                SWITCH,
                SWITCHED
            ]
        );
        let names: Vec<String> = ["stub", "svc", "execve", "work", "exit", "switch"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let text = r.text(g, &names);
        assert!(text.contains("# gt.path: /usr/bin/min\n"));
        assert!(text.contains("# gt.entries: 7\n"));
        assert!(text.ends_with("u stub\nk svc\nk execve\nk work\nu stub\nk exit\nk switch\ns\n"));
    }

    #[test]
    fn an_exiting_task_switched_out_before_its_end_keeps_its_record() {
        let mut r = rec();
        r.entry(1, EXECVE, K1, path("/usr/bin/min"));
        r.entry(1, DO_EXIT, K1, path("x"));
        r.entry(1, SWITCH, K1, path("x"));
        // Asleep in do_exit, then resumed on another vCPU.
        r.entry(1, WORK, K2, path("x"));
        r.entry(0, WORK, K1, path("x"));
        r.entry(0, DEAD, K1, path("x"));
        r.entry(0, SWITCH, K1, path("x"));
        r.entry(0, WORK, K2, path("x"));
        r.entry(0, WORK, K1, path("x"));
        let g = &r.records[0];
        assert!(g.closed);
        assert_eq!(
            g.log,
            [EXECVE, DO_EXIT, SWITCH, SWITCHED, WORK, DEAD, SWITCH, SWITCHED]
        );
    }

    #[test]
    fn a_long_syscall_path_still_starts_with_the_execve() {
        let mut r = rec();
        r.entry(1, STUB, USP, path("x"));
        for _ in 0..PENDING {
            r.entry(1, WORK, K1, path("x"));
        }
        r.entry(1, EXECVE, K1, path("/usr/bin/min"));
        let g = &r.records[0];
        assert!(!g.prefix_complete);
        // The stub, of no task, and PENDING - 1 entries were held.
        assert_eq!(g.log.len(), PENDING);
        assert_eq!(g.log.last(), Some(&EXECVE));
    }

    #[test]
    fn other_paths_and_other_tasks_are_not_recorded() {
        let mut r = rec();
        r.entry(1, EXECVE, K1, path("/usr/bin/ftrace_it"));
        r.entry(1, WORK, K1, path("x"));
        assert!(r.records.is_empty());
        r.entry(0, STUB, USP, path("x"));
        r.entry(0, EXECVE, K2, path("/usr/bin/min"));
        r.entry(1, WORK, K1, path("x"));
        r.entry(0, WORK, K2, path("x"));
        assert_eq!(r.records[0].log, [EXECVE, WORK]);
        assert!(!r.records[0].closed);
    }

    #[test]
    fn an_entry_from_user_mode_with_its_own_task_belongs_to_it() {
        // x86: before swapgs the task is still read exactly.
        let mut r = rec();
        let user = |c: Current| Current { user: true, ..c };
        r.entry(1, WORK, K2, path("x"));
        r.entry(1, STUB, user(K1), path("x"));
        r.entry(1, SVC, K1, path("x"));
        r.entry(1, EXECVE, K1, path("/usr/bin/min"));
        r.entry(1, STUB, user(K2), path("x"));
        r.entry(1, STUB, user(K1), path("x"));
        // Switched out for K2 and back.
        assert_eq!(
            r.records[0].log,
            [STUB | USER, SVC, EXECVE, SWITCHED, STUB | USER]
        );
    }
}
