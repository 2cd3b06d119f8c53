//! What the tests of `ftrace_it` share: the same no_std binary, built for
//! the host, run against a fake tracefs, procfs and sysfs made of regular
//! files. strace records what it writes and in which order; the tree is
//! compared byte for byte before and after. Needs root (as ftrace_it does)
//! and strace (scripts/deps.sh). Each test file uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_ftrace_it");

pub const X86_64: &str = include_str!("../fixtures/interrupts.x86_64");
pub const GICV2: &str = include_str!("../fixtures/interrupts.aarch64-gicv2");
pub const GICV3: &str = include_str!("../fixtures/interrupts.aarch64-gicv3");

pub const STATS_CLEAN: &str = "entries: 10\noverrun: 0\ncommit overrun: 0\nbytes: 480\n\
    oldest event ts:  1.000000\nnow ts:  2.000000\ndropped events: 0\nread events: 0\n";

/// A temporary root with `tr/` (tracefs), `proc/` and `sys/`.
pub struct Tree {
    pub root: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

pub fn put(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

impl Tree {
    /// A 2-CPU machine with x86_64 interrupts; IRQ 9 has no directory.
    pub fn new(name: &str) -> Tree {
        static N: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "ftrace_it-test-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&root);
        let t = Tree { root };
        for (rel, content) in [
            ("tr/tracing_on", "1\n"),
            ("tr/current_tracer", "nop\n"),
            ("tr/set_ftrace_pid", "no pid\n"),
            ("tr/buffer_size_kb", "1410\n"),
            ("tr/per_cpu/cpu0/buffer_size_kb", "1410\n"),
            ("tr/per_cpu/cpu1/buffer_size_kb", "1410\n"),
            ("tr/per_cpu/cpu0/stats", STATS_CLEAN),
            ("tr/per_cpu/cpu1/stats", STATS_CLEAN),
            ("tr/available_tracers", "function_graph function nop\n"),
            ("tr/options/funcgraph-proc", "0\n"),
            ("tr/options/function-fork", "0\n"),
            ("tr/options/event-fork", "0\n"),
            ("tr/options/sym-addr", "0\n"),
            ("tr/set_event_pid", ""),
            ("tr/events/sched/sched_process_fork/enable", "0\n"),
            ("tr/set_ftrace_notrace", "#### no functions disabled ####\n"),
            ("tr/trace", "# tracer: nop\n"),
            (
                "proc/meminfo",
                "MemTotal:  2000000 kB\nMemAvailable:  1000000 kB\n",
            ),
            ("sys/devices/system/cpu/online", "0-1\n"),
        ] {
            put(&t.root.join(rel), content);
        }
        t.interrupts(X86_64, &[0, 1, 4, 8, 12, 24, 25]);
        t
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn put(&self, rel: &str, content: &str) {
        put(&self.path(rel), content);
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Replaces /proc/interrupts and the IRQ directories.
    pub fn interrupts(&self, text: &str, with_dir: &[u32]) {
        let _ = fs::remove_dir_all(self.path("proc/irq"));
        self.put("proc/interrupts", text);
        for n in with_dir {
            self.put(&format!("proc/irq/{n}/smp_affinity_list"), "0-1\n");
        }
    }

    /// Every file under tr/, proc/ and sys/ (symlinks by target).
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        pub fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                let meta = fs::symlink_metadata(&p).unwrap();
                if meta.file_type().is_symlink() {
                    let target = fs::read_link(&p).unwrap();
                    out.insert(rel, format!("-> {}", target.display()).into_bytes());
                } else if meta.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.insert(rel, fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        for d in ["tr", "proc", "sys"] {
            walk(&self.root, &self.path(d), &mut out);
        }
        out
    }

    pub fn cmd(&self, prefix: &[&str], args: &[&str]) -> Command {
        let (program, pre) = match prefix.split_first() {
            Some((p, rest)) => (*p, rest),
            None => (BIN, &[][..]),
        };
        let mut c = Command::new(program);
        c.args(pre);
        if !prefix.is_empty() {
            c.arg(BIN);
        }
        c.arg("--tracefs")
            .arg(self.path("tr"))
            .arg("--procfs")
            .arg(self.path("proc"))
            .arg("--sysfs")
            .arg(self.path("sys"))
            .arg("--journal")
            .arg(self.journal())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(&[], args).output().unwrap()
    }

    /// Runs under `strace -f`; returns the output and the parsed log.
    pub fn strace(&self, args: &[&str]) -> (Output, Log) {
        let log = self.path("strace.log");
        let log_s = log.display().to_string();
        let out = self
            .cmd(&["strace", "-f", "-qq", "-s", "65536", "-o", &log_s], args)
            .output()
            .expect("strace (scripts/deps.sh installs it)");
        (
            out,
            Log::parse(&fs::read_to_string(&log).unwrap(), &self.root),
        )
    }

    /// Outside tr/, proc/ and sys/: snapshots leave it out.
    pub fn journal(&self) -> PathBuf {
        self.path("journal")
    }

    pub fn out_file(&self) -> String {
        self.path("out.txt").display().to_string()
    }
}

/// One system call from the strace log.
#[derive(Debug)]
pub struct Call {
    pub pid: u32,
    pub name: String,
    pub args: String,
    pub ret: String,
}

/// A file opened for writing and what was written to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub pid: u32,
    /// Relative to the tree when inside it.
    pub path: String,
    pub data: String,
    /// Index of the open in `Log::calls`.
    pub at: usize,
}

pub struct Log {
    pub calls: Vec<Call>,
    pub writes: Vec<Write>,
}

/// Decodes a C-style string as strace prints it; returns it and the rest.
pub fn unquote(s: &str) -> (String, &str) {
    let b = s.as_bytes();
    assert_eq!(b[0], b'"', "not a string: {s}");
    let mut out = Vec::new();
    let mut i = 1;
    while b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                b'0'..=b'7' => {
                    let end = (i..i + 3)
                        .take_while(|&j| j < b.len() && (b'0'..=b'7').contains(&b[j]))
                        .last()
                        .unwrap();
                    out.push(u8::from_str_radix(&s[i..=end], 8).unwrap());
                    i = end;
                }
                c => out.push(c),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    (String::from_utf8_lossy(&out).into_owned(), &s[i + 1..])
}

impl Log {
    pub fn parse(text: &str, root: &Path) -> Log {
        let root = format!("{}/", root.display());
        let mut pending: BTreeMap<u32, String> = BTreeMap::new();
        let mut calls = Vec::new();
        for line in text.lines() {
            let (pid, rest) = line.split_once(' ').unwrap();
            let pid: u32 = pid.parse().unwrap();
            let rest = rest.trim_start();
            let full = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
                pending.insert(pid, head.to_string());
                continue;
            } else if rest.starts_with("<...") {
                let tail = rest.split_once("resumed>").unwrap().1;
                format!("{}{}", pending.remove(&pid).unwrap(), tail)
            } else {
                rest.to_string()
            };
            if full.starts_with("+++") || full.starts_with("---") {
                continue;
            }
            let (name, args) = full.split_once('(').unwrap();
            let (args, ret) = match args.rsplit_once(" = ") {
                Some((a, r)) => {
                    let a = a.trim_end();
                    (a.strip_suffix(')').unwrap_or(a).to_string(), r.to_string())
                }
                None => (args.to_string(), String::new()),
            };
            calls.push(Call {
                pid,
                name: name.to_string(),
                args,
                ret,
            });
        }
        // Follow descriptors opened for writing to the writes made through them.
        let mut writes: Vec<Write> = Vec::new();
        let mut fds: BTreeMap<(u32, String), usize> = BTreeMap::new();
        for (at, c) in calls.iter().enumerate() {
            match c.name.as_str() {
                "open" | "openat" => {
                    let quoted = &c.args[c.args.find('"').unwrap()..];
                    let (path, flags) = unquote(quoted);
                    if !(flags.contains("O_WRONLY") || flags.contains("O_RDWR")) {
                        continue;
                    }
                    let fd = c.ret.split_whitespace().next().unwrap().to_string();
                    if fd.starts_with('-') {
                        continue;
                    }
                    let path = path.strip_prefix(&root).unwrap_or(&path).to_string();
                    fds.insert((c.pid, fd), writes.len());
                    writes.push(Write {
                        pid: c.pid,
                        path,
                        data: String::new(),
                        at,
                    });
                }
                "write" => {
                    let (fd, rest) = c.args.split_once(", ").unwrap();
                    if let Some(&w) = fds.get(&(c.pid, fd.to_string())) {
                        writes[w].data.push_str(&unquote(rest).0);
                    }
                }
                _ => {}
            }
        }
        Log { calls, writes }
    }

    /// (path, data) of the writes into the fake tree, in order.
    pub fn tree_writes(&self) -> Vec<(String, String)> {
        self.writes
            .iter()
            .filter(|w| w.path.starts_with("tr/") || w.path.starts_with("proc/"))
            .map(|w| (w.path.clone(), w.data.clone()))
            .collect()
    }

    pub fn execve_of_child(&self, leader: u32) -> usize {
        self.calls
            .iter()
            .position(|c| c.pid != leader && c.name == "execve")
            .expect("the child's execve")
    }
}

pub fn code(out: &Output) -> i32 {
    out.status
        .code()
        .expect("ftrace_it exits, it is not killed")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One line on stderr, starting with the tool's name.
pub fn assert_one_line_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.starts_with("ftrace_it: "), "stderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

/// The tree after a run equals the one before, except what the kernel
/// itself would show differently: an empty pid filter reads "no pid" and an
/// empty notrace list "#### no functions disabled ####" but both are
/// restored by truncation (or left alone), and `trace` is cleared on purpose.
pub fn assert_restored(before: &BTreeMap<String, Vec<u8>>, t: &Tree) {
    let mut expected = before.clone();
    let mut after = t.snapshot();
    for (file, empty) in [
        ("tr/set_ftrace_pid", &b"no pid\n"[..]),
        (
            "tr/set_ftrace_notrace",
            b"#### no functions disabled ####\n",
        ),
    ] {
        for tree in [&mut expected, &mut after] {
            if tree.get(file).map(Vec::as_slice) == Some(empty) {
                tree.insert(file.into(), Vec::new());
            }
        }
    }
    expected.remove("tr/trace");
    after.remove("tr/trace");
    assert_eq!(
        String::from_utf8_lossy(&format!("{expected:?}").into_bytes()),
        String::from_utf8_lossy(&format!("{after:?}").into_bytes())
    );
}

pub fn header(out_file: &str) -> BTreeMap<String, String> {
    fs::read_to_string(out_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# ftrace_it."))
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub fn w(path: &str, data: &str) -> (String, String) {
    (path.to_string(), data.to_string())
}
