//! `ftrace_it` (the same no_std binary, built for the host) against a fake
//! tracefs, procfs and sysfs made of regular files. strace records what it
//! writes and in which order; the tree is compared byte for byte before and
//! after. Needs root (as ftrace_it does) and strace (scripts/deps.sh).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ftrace_it");

const X86_64: &str = include_str!("fixtures/interrupts.x86_64");
const GICV2: &str = include_str!("fixtures/interrupts.aarch64-gicv2");
const GICV3: &str = include_str!("fixtures/interrupts.aarch64-gicv3");

const STATS_CLEAN: &str = "entries: 10\noverrun: 0\ncommit overrun: 0\nbytes: 480\n\
    oldest event ts:  1.000000\nnow ts:  2.000000\ndropped events: 0\nread events: 0\n";

/// A temporary root with `tr/` (tracefs), `proc/` and `sys/`.
struct Tree {
    root: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn put(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

impl Tree {
    /// A 2-CPU machine with x86_64 interrupts; IRQ 9 has no directory.
    fn new(name: &str) -> Tree {
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

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn put(&self, rel: &str, content: &str) {
        put(&self.path(rel), content);
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Replaces /proc/interrupts and the IRQ directories.
    fn interrupts(&self, text: &str, with_dir: &[u32]) {
        let _ = fs::remove_dir_all(self.path("proc/irq"));
        self.put("proc/interrupts", text);
        for n in with_dir {
            self.put(&format!("proc/irq/{n}/smp_affinity_list"), "0-1\n");
        }
    }

    /// Every file under tr/, proc/ and sys/ (symlinks by target).
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
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

    fn cmd(&self, prefix: &[&str], args: &[&str]) -> Command {
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

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(&[], args).output().unwrap()
    }

    /// Runs under `strace -f`; returns the output and the parsed log.
    fn strace(&self, args: &[&str]) -> (Output, Log) {
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
    fn journal(&self) -> PathBuf {
        self.path("journal")
    }

    fn out_file(&self) -> String {
        self.path("out.txt").display().to_string()
    }
}

/// One system call from the strace log.
#[derive(Debug)]
struct Call {
    pid: u32,
    name: String,
    args: String,
    ret: String,
}

/// A file opened for writing and what was written to it.
#[derive(Debug, Clone, PartialEq)]
struct Write {
    pid: u32,
    /// Relative to the tree when inside it.
    path: String,
    data: String,
    /// Index of the open in `Log::calls`.
    at: usize,
}

struct Log {
    calls: Vec<Call>,
    writes: Vec<Write>,
}

/// Decodes a C-style string as strace prints it; returns it and the rest.
fn unquote(s: &str) -> (String, &str) {
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
    fn parse(text: &str, root: &Path) -> Log {
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
    fn tree_writes(&self) -> Vec<(String, String)> {
        self.writes
            .iter()
            .filter(|w| w.path.starts_with("tr/") || w.path.starts_with("proc/"))
            .map(|w| (w.path.clone(), w.data.clone()))
            .collect()
    }

    fn execve_of_child(&self, leader: u32) -> usize {
        self.calls
            .iter()
            .position(|c| c.pid != leader && c.name == "execve")
            .expect("the child's execve")
    }
}

fn code(out: &Output) -> i32 {
    out.status
        .code()
        .expect("ftrace_it exits, it is not killed")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One line on stderr, starting with the tool's name.
fn assert_one_line_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.starts_with("ftrace_it: "), "stderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

/// The tree after a run equals the one before, except what the kernel
/// itself would show differently: an empty pid filter reads "no pid" and an
/// empty notrace list "#### no functions disabled ####" but both are
/// restored by truncation (or left alone), and `trace` is cleared on purpose.
fn assert_restored(before: &BTreeMap<String, Vec<u8>>, t: &Tree) {
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

fn header(out_file: &str) -> BTreeMap<String, String> {
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

fn w(path: &str, data: &str) -> (String, String) {
    (path.to_string(), data.to_string())
}

#[test]
fn record_mode_writes_in_order_and_restores_everything() {
    let t = Tree::new("record");
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["--buffer-kb", "2048", "-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "stderr: {}", stderr(&out));
    let h = header(&out_file);
    let pid = &h["pid"];
    let leader = log.calls[0].pid;
    let exec = log.execve_of_child(leader);
    let irq = |n: u32, v: &str| w(&format!("proc/irq/{n}/smp_affinity_list"), v);
    let mut expected = vec![w("tr/tracing_on", "0\n")];
    expected.extend(
        [0u32, 1, 4, 8, 12, 24, 25]
            .iter()
            .filter(|&&n| n != 0)
            .map(|&n| irq(n, "0\n")),
    );
    expected.extend([
        w("tr/per_cpu/cpu1/buffer_size_kb", "2048\n"),
        w("tr/set_ftrace_pid", &format!("{pid}\n")),
        // Threads and children are followed by default.
        w("tr/options/function-fork", "1\n"),
        w("tr/options/event-fork", "1\n"),
        w("tr/set_event_pid", &format!("{pid}\n")),
        w("tr/events/sched/sched_process_fork/enable", "1\n"),
        w("tr/set_ftrace_notrace", "__traceiter_sched_process_fork\n"),
        w("tr/current_tracer", "function\n"),
        w("tr/trace", ""),
        w("tr/tracing_on", "1\n"),
    ]);
    let before_exec: Vec<_> = log
        .writes
        .iter()
        .filter(|x| x.at < exec && (x.path.starts_with("tr/") || x.path.starts_with("proc/")))
        .map(|x| (x.path.clone(), x.data.clone()))
        .collect();
    assert_eq!(
        before_exec, expected,
        "setup, in this order, then the release"
    );
    let mut after = vec![w("tr/tracing_on", "0\n"), w("tr/current_tracer", "nop\n")];
    after.extend([
        w("tr/set_ftrace_notrace", ""),
        w("tr/events/sched/sched_process_fork/enable", "0\n"),
        w("tr/set_event_pid", ""),
        w("tr/options/event-fork", "0\n"),
        w("tr/options/function-fork", "0\n"),
    ]);
    after.push(w("tr/set_ftrace_pid", ""));
    after.push(w("tr/per_cpu/cpu1/buffer_size_kb", "1410\n"));
    after.extend([1u32, 4, 8, 12, 24, 25].iter().map(|&n| irq(n, "0-1\n")));
    after.push(w("tr/tracing_on", "1\n"));
    assert_eq!(
        log.tree_writes()[expected.len()..].to_vec(),
        after,
        "stop, then restore"
    );
    // The child pins itself and is ready before anything is written; after
    // the release its next (and first unrestricted) system call is execve.
    let child: Vec<&str> = log
        .calls
        .iter()
        .filter(|c| c.pid.to_string() == *pid)
        .map(|c| c.name.as_str())
        .take_while(|n| *n != "execve")
        .collect();
    assert_eq!(
        child,
        [
            "prctl",
            "getppid",
            "sched_setaffinity",
            "sched_yield",
            "rt_sigaction",
            "rt_sigprocmask"
        ]
    );
    let first_setup = log
        .writes
        .iter()
        .find(|x| x.path == "tr/tracing_on")
        .unwrap()
        .at;
    assert!(
        log.calls[..first_setup]
            .iter()
            .any(|c| c.pid.to_string() == *pid && c.name == "rt_sigprocmask"),
        "the child is ready before the first write"
    );
    let execve = &log.calls[exec];
    assert!(
        execve.args.contains("/bin/true") && execve.args.ends_with("/* 0 vars */"),
        "{execve:?}"
    );
    assert_restored(&before, &t);
}

#[test]
fn a_notrace_list_is_kept_and_no_follow_writes_no_follow_setting() {
    let t = Tree::new("notrace");
    put(&t.path("tr/set_ftrace_notrace"), "foo\nbar\n");
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let notrace: Vec<_> = log
        .tree_writes()
        .into_iter()
        .filter(|x| x.0 == "tr/set_ftrace_notrace")
        .collect();
    assert_eq!(
        notrace,
        [
            w(
                "tr/set_ftrace_notrace",
                "foo\nbar\n__traceiter_sched_process_fork\n"
            ),
            w("tr/set_ftrace_notrace", "foo\nbar\n"),
        ]
    );
    assert_restored(&before, &t);

    let (out, log) = t.strace(&["--no-follow", "-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let follow = [
        "tr/options/function-fork",
        "tr/options/event-fork",
        "tr/set_event_pid",
        "tr/events/sched/sched_process_fork/enable",
        "tr/set_ftrace_notrace",
    ];
    let written: Vec<_> = log
        .tree_writes()
        .into_iter()
        .filter(|x| follow.contains(&x.0.as_str()))
        .collect();
    assert_eq!(written, []);
    assert_restored(&before, &t);
}

#[test]
fn the_header_lists_the_programs_tasks_from_the_fork_lines() {
    let t = Tree::new("tasks");
    let out_file = t.out_file();
    // The program writes its own trace: it runs after `trace` is cleared.
    // Task 5000 forks 69 more: 72 tasks, 64 listed.
    let script = format!(
        r#"tr={tr}; p=$$
l() {{ printf '%16s-%-7s [001] ..... %s: %s\n' "$1" "$2" "$3" "$4" >> $tr; }}
echo '# tracer: function' > $tr
l sh $p 1.000001 '__arm64_sys_getpid <-invoke_syscall'
l sh $p 1.000002 "sched_process_fork: comm=sh pid=$p child_comm=sh child_pid=4242"
l sh 4242 1.000003 'foo <-bar'
l other 999 1.000004 "sched_process_fork: comm=other pid=999 child_comm=x child_pid=998"
l '<...>' 4242 1.000005 'foo <-bar'
l worker 4242 1.000006 "sched_process_fork: comm=worker pid=4242 child_comm=worker child_pid=5000"
i=5001; while [ $i -lt 5070 ]; do
  l worker 5000 1.000007 "sched_process_fork: comm=worker pid=5000 child_comm=w child_pid=$i"
  i=$((i+1))
done
l sh $p 1.000009 'foo <-bar'"#,
        tr = t.path("tr/trace").display()
    );
    let (out, log) = t.strace(&["-o", &out_file, "/bin/sh", "-c", &script]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = fs::read_to_string(&out_file).unwrap();
    let pid = &header(&out_file)["pid"];
    let leader = log.calls[0].pid;
    assert!(text.contains("# ftrace_it.tasks: 72\n"), "{text}");
    let tasks: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# ftrace_it.task: "))
        .collect();
    assert_eq!(tasks.len(), 64);
    assert_eq!(
        tasks[..4],
        [
            format!("pid={pid} parent={leader} first=1.000001 last=1.000009 comm=sh"),
            format!("pid=4242 parent={pid} first=1.000003 last=1.000006 comm=worker"),
            "pid=5000 parent=4242 first=1.000007 last=1.000007 comm=worker".to_string(),
            "pid=5001 parent=5000 first=none last=none comm=w".to_string(),
        ]
    );
    assert_eq!(
        tasks[63],
        "pid=5061 parent=5000 first=none last=none comm=w"
    );
    // The kernel's text follows whole.
    assert!(text.ends_with("1.000009: foo <-bar\n"), "{text}");
}

#[test]
fn record_header_has_every_key_in_order() {
    let t = Tree::new("header");
    let out_file = t.out_file();
    let out = t.run(&[
        "--duration",
        "5",
        "-o",
        &out_file,
        "/bin/sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(code(&out), 3, "stderr: {}", stderr(&out));
    let text = fs::read_to_string(&out_file).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# ftrace_it."))
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        keys,
        [
            "version",
            "kernel",
            "kernel_version",
            "machine",
            "tracer",
            "sym_addr",
            "pid",
            "cpu",
            "housekeeping",
            "cpus_online",
            "irq_routing",
            "irqs_moved",
            "buffer_kb",
            "duration",
            "command",
            "exit",
            "cpu0",
            "cpu1",
            "lost_events",
            "tasks",
            "task"
        ]
    );
    let h = header(&out_file);
    let uname = |flag: &str| {
        let o = Command::new("uname").arg(flag).output().unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["kernel"], uname("-r"));
    assert_eq!(h["kernel_version"], uname("-v"));
    assert_eq!(h["machine"], uname("-m"));
    assert_eq!(h["tracer"], "function");
    assert_eq!(h["sym_addr"], "off");
    assert_eq!(h["cpu"], "1");
    assert_eq!(h["housekeeping"], "0");
    assert_eq!(h["cpus_online"], "0-1");
    assert_eq!(h["irq_routing"], "on");
    assert_eq!(h["irqs_moved"], "6");
    // 4096 + 4096 per second of --duration.
    assert_eq!(h["buffer_kb"], "24576");
    assert_eq!(h["duration"], "5");
    assert_eq!(h["command"], "/bin/sh -c exit 3");
    assert_eq!(h["exit"], "exited 3");
    assert_eq!(h["cpu1"], "entries=10 overrun=0 commit_overrun=0 dropped=0");
    assert_eq!(h["lost_events"], "0");
    assert_eq!(h["tasks"], "1");
    let leader = format!(" parent={} ", std::process::id());
    assert!(
        h["task"].starts_with(&format!("pid={} ", h["pid"])),
        "{text}"
    );
    assert!(
        !h["task"].contains(&leader),
        "ftrace_it is the parent: {text}"
    );
    assert!(text.ends_with(" first=none last=none comm=\n"), "{text}");
}

#[test]
fn default_buffer_is_capped_by_available_memory() {
    let t = Tree::new("memcap");
    t.put(
        "proc/meminfo",
        "MemTotal: 60000 kB\nMemAvailable:   20000 kB\n",
    );
    let out_file = t.out_file();
    let out = t.run(&["--duration", "60", "-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(header(&out_file)["buffer_kb"], "5000");
    let out = t.run(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(header(&out_file)["duration"], "none");
}

#[test]
fn function_graph_turns_on_the_pid_column_and_puts_it_back() {
    let t = Tree::new("graph");
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["--tracer", "function_graph", "-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let writes = log.tree_writes();
    let pos = |p: &str, d: &str| writes.iter().position(|x| *x == w(p, d)).unwrap();
    let pid = pos(
        "tr/set_ftrace_pid",
        &format!("{}\n", header(&out_file)["pid"]),
    );
    let opt = pos("tr/options/funcgraph-proc", "1\n");
    let tracer = pos("tr/current_tracer", "function_graph\n");
    assert!(pid < opt && opt < tracer, "{writes:?}");
    assert!(writes[tracer..].contains(&w("tr/options/funcgraph-proc", "0\n")));
    assert_eq!(header(&out_file)["tracer"], "function_graph");
    assert_restored(&before, &t);
}

#[test]
fn sym_addr_is_set_before_the_tracer_recorded_and_put_back() {
    let t = Tree::new("symaddr");
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["--sym-addr", "-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let writes = log.tree_writes();
    let pos = |p: &str, d: &str| writes.iter().position(|x| *x == w(p, d)).unwrap();
    let notrace = pos("tr/set_ftrace_notrace", "__traceiter_sched_process_fork\n");
    let on = pos("tr/options/sym-addr", "1\n");
    let tracer = pos("tr/current_tracer", "function\n");
    assert!(notrace < on && on + 1 == tracer, "{writes:?}");
    // Put back right after the tracer, the reverse of the setup.
    let nop = pos("tr/current_tracer", "nop\n");
    assert_eq!(
        writes[nop + 1],
        w("tr/options/sym-addr", "0\n"),
        "{writes:?}"
    );
    assert_eq!(header(&out_file)["sym_addr"], "on");
    assert_restored(&before, &t);

    // Found on already: left alone, and the header says so.
    t.put("tr/options/sym-addr", "1\n");
    let (out, log) = t.strace(&["--sym-addr", "-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(
        !log.tree_writes()
            .iter()
            .any(|x| x.0 == "tr/options/sym-addr"),
        "{:?}",
        log.tree_writes()
    );
    assert_eq!(header(&out_file)["sym_addr"], "on");
}

#[test]
fn interactive_mode_prompts_waits_for_enter_and_leaves_the_buffer_size() {
    let t = Tree::new("interactive");
    let before = t.snapshot();
    let mut child = t
        .cmd(&[], &["/bin/true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nothing is released before enter: tracing stays off meanwhile.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(t.read("tr/tracing_on"), "0\n");
    assert_eq!(t.read("tr/current_tracer"), "function\n");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "All set, press enter to start\n"
    );
    assert_restored(&before, &t);
}

#[test]
fn a_closed_stdout_does_not_end_ftrace_it_before_the_restore() {
    let t = Tree::new("sigpipe");
    let before = t.snapshot();
    let mut child = t
        .cmd(&[], &["/bin/true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // No reader: the prompt's write gets EPIPE (and a SIGPIPE, blocked).
    drop(child.stdout.take());
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_restored(&before, &t);
}

#[test]
fn interactive_mode_touches_no_buffer_size() {
    let t = Tree::new("interactive-buffer");
    let (out, log) = t.strace(&["/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(
        !log.tree_writes()
            .iter()
            .any(|(p, _)| p.contains("buffer_size_kb")),
        "{:?}",
        log.tree_writes()
    );
}

#[test]
fn payload_crash_is_128_plus_signal_and_everything_is_restored() {
    let t = Tree::new("crash");
    let before = t.snapshot();
    let out_file = t.out_file();
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", "kill -SEGV $$"]);
    assert_eq!(code(&out), 128 + 11, "stderr: {}", stderr(&out));
    assert_eq!(header(&out_file)["exit"], "signal 11");
    assert_restored(&before, &t);
}

#[test]
fn exec_failure_is_reported_through_the_shared_page() {
    let t = Tree::new("execfail");
    let bogus = t.path("bogus");
    fs::write(&bogus, "not a program\0\x01\x02").unwrap();
    fs::set_permissions(&bogus, fs::Permissions::from_mode(0o755)).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    let out = t.run(&["-o", &out_file, bogus.to_str().unwrap()]);
    assert_eq!(code(&out), 70);
    assert_one_line_error(&out, "cannot execute");
    assert_one_line_error(&out, "exec format error");
    assert_restored(&before, &t);
}

#[test]
fn duration_kills_the_program_and_the_file_says_so() {
    let t = Tree::new("duration");
    let before = t.snapshot();
    let out_file = t.out_file();
    let start = Instant::now();
    let out = t.run(&["--duration", "0.3", "-o", &out_file, "/bin/sleep", "30"]);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(code(&out), 128 + 9, "stderr: {}", stderr(&out));
    let h = header(&out_file);
    assert_eq!(h["exit"], "signal 9");
    assert_eq!(h["duration"], "0.3");
    assert!(
        !Path::new(&format!("/proc/{}", h["pid"])).exists(),
        "the program is reaped"
    );
    assert_restored(&before, &t);
}

#[test]
fn sigint_sigterm_sighup_sigquit_to_ftrace_it_stop_record_and_restore() {
    for (sig, n) in [("INT", 2), ("TERM", 15), ("HUP", 1), ("QUIT", 3)] {
        let t = Tree::new(&format!("sig{sig}"));
        let before = t.snapshot();
        let out_file = t.out_file();
        let child = t
            .cmd(
                &[],
                &["--duration", "60", "-o", &out_file, "/bin/sleep", "100"],
            )
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while t.read("tr/tracing_on") != "1\n" || t.read("tr/current_tracer") != "function\n" {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "tracing never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let kill = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(child.id().to_string())
            .status();
        assert!(kill.unwrap().success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 128 + n, "SIG{sig}, stderr: {}", stderr(&out));
        let h = header(&out_file);
        assert_eq!(h["exit"], "signal 9", "SIG{sig}");
        assert!(
            !Path::new(&format!("/proc/{}", h["pid"])).exists(),
            "the program is reaped"
        );
        assert_restored(&before, &t);
    }
}

#[test]
fn the_spinning_child_dies_with_a_sigkilled_ftrace_it() {
    let t = Tree::new("sigkill");
    let mut child = t
        .cmd(&[], &["/bin/true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Set up and waiting for enter: the child spins on its CPU.
    let start = Instant::now();
    while t.read("tr/current_tracer") != "function\n" {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "setup never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = t.read("tr/set_ftrace_pid").trim().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    let stat = format!("/proc/{pid}/stat");
    let gone = || match fs::read_to_string(&stat) {
        Ok(s) => s.rsplit(')').next().unwrap().trim_start().starts_with('Z'),
        Err(_) => true,
    };
    while !gone() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "pid {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

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

#[test]
fn events_lost_in_the_ring_buffer_are_reported() {
    let t = Tree::new("overrun");
    t.put(
        "tr/per_cpu/cpu1/stats",
        &STATS_CLEAN.replace("\noverrun: 0", "\noverrun: 5"),
    );
    let before = t.snapshot();
    let out_file = t.out_file();
    let out = t.run(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 71);
    assert_one_line_error(&out, "lost 5 events");
    let h = header(&out_file);
    assert_eq!(h["cpu1"], "entries=10 overrun=5 commit_overrun=0 dropped=0");
    assert_eq!(h["lost_events"], "5");
    assert_restored(&before, &t);
}

#[test]
fn overwritten_entries_count_as_lost_and_the_trace_is_copied_whole() {
    let t = Tree::new("written");
    let trace = t.path("tr/trace").display().to_string();
    // The program plays the kernel: it fills the (fake) ring buffer.
    let body: String = (0..3000)
        .map(|i| format!(" min-42 [001] d.h.. {i}.0: f <-g\n"))
        .collect();
    let script = format!(
        "printf '# tracer: function\\n# entries-in-buffer/entries-written: 3000/3002   #P:2\\n' > {trace}; \
         cat {} >> {trace}",
        t.path("body").display()
    );
    fs::write(t.path("body"), &body).unwrap();
    let out_file = t.out_file();
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", &script]);
    assert_eq!(code(&out), 71, "stderr: {}", stderr(&out));
    assert_one_line_error(&out, "lost 2 events");
    let text = fs::read_to_string(&out_file).unwrap();
    let (_, kernel) = text.split_once("# ftrace_it.task: ").unwrap();
    let (_, kernel) = kernel.split_once('\n').unwrap();
    assert_eq!(
        kernel,
        format!(
            "# tracer: function\n# entries-in-buffer/entries-written: 3000/3002   #P:2\n{body}"
        )
    );
}

#[test]
fn a_failing_setup_step_restores_what_was_changed_before_it() {
    let t = Tree::new("setupfail");
    // Readable, but writing it fails (EACCES even for root).
    fs::remove_file(t.path("tr/set_ftrace_pid")).unwrap();
    symlink("/proc/sys/kernel/ostype", t.path("tr/set_ftrace_pid")).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    let (out, log) = t.strace(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 66);
    assert_one_line_error(&out, "set_ftrace_pid");
    let writes = log.tree_writes();
    assert!(
        writes.contains(&w("proc/irq/1/smp_affinity_list", "0\n")),
        "{writes:?}"
    );
    assert!(
        !writes.iter().any(|(p, _)| p == "tr/current_tracer"),
        "{writes:?}"
    );
    assert!(log
        .calls
        .iter()
        .all(|c| c.name != "execve" || c.pid == log.calls[0].pid));
    assert!(!Path::new(&out_file).exists(), "an empty FILE is removed");
    assert_restored(&before, &t);
}

#[test]
fn a_setting_that_cannot_be_restored_is_72_and_the_rest_is_restored() {
    let t = Tree::new("restorefail");
    let before = t.snapshot();
    let tracer = t.path("tr/current_tracer").display().to_string();
    let out_file = t.out_file();
    let script = format!("rm {tracer} && mkdir {tracer}");
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", &script]);
    assert_eq!(code(&out), 72);
    assert_one_line_error(&out, "cannot restore");
    fs::remove_dir(&tracer).unwrap();
    fs::write(&tracer, "nop\n").unwrap();
    assert_restored(&before, &t);
}

#[test]
fn bad_input_changes_nothing_and_has_its_own_status() {
    struct Case {
        name: &'static str,
        prepare: fn(&Tree) -> Vec<String>,
        code: i32,
        needle: &'static str,
    }
    let cases = [
        Case {
            name: "unknown option",
            prepare: |_| vec!["--bogus".into(), "/bin/true".into()],
            code: 64,
            needle: "unknown option --bogus",
        },
        Case {
            name: "no program",
            prepare: |_| vec![],
            code: 64,
            needle: "missing PROGRAM",
        },
        Case {
            name: "bad --tracer",
            prepare: |_| vec!["--tracer=irqsoff".into(), "/bin/true".into()],
            code: 64,
            needle: "irqsoff",
        },
        Case {
            name: "--sym-addr with function_graph",
            prepare: |_| {
                let a = ["--sym-addr", "--tracer", "function_graph", "/bin/true"];
                a.map(String::from).to_vec()
            },
            code: 64,
            needle: "--sym-addr needs --tracer function",
        },
        Case {
            name: "program missing",
            prepare: |t| vec![t.path("nothing").display().to_string()],
            code: 65,
            needle: "no such file",
        },
        Case {
            name: "program not executable",
            prepare: |t| {
                fs::write(t.path("script"), "#!/bin/sh\n").unwrap();
                vec![t.path("script").display().to_string()]
            },
            code: 65,
            needle: "not executable",
        },
        Case {
            name: "program is a directory",
            prepare: |t| vec![t.path("tr").display().to_string()],
            code: 65,
            needle: "not a regular file",
        },
        Case {
            name: "tracefs missing",
            prepare: |t| {
                let mut a = vec!["--tracefs".into(), t.path("none").display().to_string()];
                a.push("/bin/true".into());
                a
            },
            code: 67,
            needle: "is not a tracefs",
        },
        Case {
            name: "tracer not available",
            prepare: |t| {
                t.put("tr/available_tracers", "blk nop\n");
                vec!["/bin/true".into()]
            },
            code: 68,
            needle: "tracer function is not available",
        },
        Case {
            name: "CPU out of range",
            prepare: |_| vec!["--cpu".into(), "7".into(), "/bin/true".into()],
            code: 69,
            needle: "--cpu 7 is not online",
        },
        Case {
            name: "CPU offline",
            prepare: |t| {
                t.put("sys/devices/system/cpu/online", "0,2-3\n");
                vec!["/bin/true".into()]
            },
            code: 69,
            needle: "--cpu 1 is not online (online: 0,2-3)",
        },
        Case {
            name: "housekeeping offline",
            prepare: |_| vec!["--housekeeping".into(), "5".into(), "/bin/true".into()],
            code: 69,
            needle: "--housekeeping 5 is not online",
        },
        Case {
            name: "one CPU online",
            prepare: |t| {
                t.put("sys/devices/system/cpu/online", "0\n");
                vec!["/bin/true".into()]
            },
            code: 69,
            needle: "only CPU 0 is online",
        },
        Case {
            name: "one CPU online is accepted with --cpu 0 --no-irq-routing",
            prepare: |t| {
                t.put("sys/devices/system/cpu/online", "0\n");
                t.put("tr/available_tracers", "nop\n");
                vec![
                    "--cpu".into(),
                    "0".into(),
                    "--no-irq-routing".into(),
                    "/bin/true".into(),
                ]
            },
            code: 68,
            needle: "not available",
        },
    ];
    for c in cases {
        let t = Tree::new("bad");
        let mut args = (c.prepare)(&t);
        let out_file = t.out_file();
        args.splice(0..0, ["-o".to_string(), out_file.clone()]);
        // A file of that name is left alone: FILE is created only once
        // every check has passed.
        fs::write(&out_file, "the user's\n").unwrap();
        let before = t.snapshot();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = t.run(&args);
        assert_eq!(code(&out), c.code, "{}: {}", c.name, stderr(&out));
        assert_one_line_error(&out, c.needle);
        assert_eq!(before, t.snapshot(), "{}: the tree changed", c.name);
        let kept = fs::read_to_string(&out_file).unwrap();
        assert_eq!(kept, "the user's\n", "{}: FILE touched", c.name);
    }
}

#[test]
fn not_root_is_refused_before_anything_happens() {
    let t = Tree::new("notroot");
    let before = t.snapshot();
    let out = t
        .cmd(
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ],
            &["/bin/true"],
        )
        .output()
        .unwrap();
    assert_eq!(code(&out), 66);
    assert_one_line_error(&out, "must run as root");
    assert_eq!(before, t.snapshot());
}

#[test]
fn help_lists_every_option_and_exit_status() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--output FILE",
        "--tracer NAME",
        "--cpu N",
        "--housekeeping N",
        "--no-irq-routing",
        "--sym-addr",
        "--duration SECS",
        "--buffer-kb N",
        "--env NAME=VALUE",
        "--tracefs DIR",
        "--procfs DIR",
        "--sysfs DIR",
        "--help",
        "--version",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    for code in 64..=73 {
        assert!(
            help.contains(&code.to_string()),
            "--help lacks exit status {code}"
        );
    }
    let out = Command::new(BIN).arg("-V").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("ftrace_it {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn options_take_gnu_forms_and_end_at_the_program() {
    let t = Tree::new("gnu");
    let out_file = t.out_file();
    let joined = format!("--output={out_file}");
    let env_file = t.path("env").display().to_string();
    let script = format!("env > {env_file}");
    let out = t.run(&[
        &joined, "--cpu=1", "--env", "A=b c", "--", "/bin/sh", "-c", &script, "-o", "x",
    ]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(
        header(&out_file)["command"],
        format!("/bin/sh -c {script} -o x")
    );
    let env = fs::read_to_string(&env_file).unwrap();
    assert!(env.lines().any(|l| l == "A=b c"), "{env}");
    assert!(
        !env.contains("CARGO"),
        "only --env reaches the program: {env}"
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts ftrace_it with `args`, waits until it traces with `tracer`, and
/// SIGKILLs it: nothing of its own restore runs.
fn kill_while_tracing(t: &Tree, args: &[&str], tracer: &str) {
    let mut child = t
        .cmd(&[], args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let tracer = format!("{tracer}\n");
    while t.read("tr/tracing_on") != "1\n" || t.read("tr/current_tracer") != tracer {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "tracing never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn after_a_sigkill_the_journal_blocks_new_runs_and_restore_puts_everything_back() {
    let t = Tree::new("journal");
    // Unroutable, as in unroutable_irqs_are_skipped_and_not_counted: the
    // replay cannot know it was never moved, and must not fail on it.
    fs::remove_file(t.path("proc/irq/4/smp_affinity_list")).unwrap();
    symlink("/proc/uptime", t.path("proc/irq/4/smp_affinity_list")).unwrap();
    let before = t.snapshot();
    let out_file = t.out_file();
    kill_while_tracing(
        &t,
        &[
            "--tracer",
            "function_graph",
            "--buffer-kb",
            "2048",
            "--duration",
            "60",
            "-o",
            &out_file,
            "/bin/sleep",
            "100",
        ],
        "function_graph",
    );
    // Killed: every setting is as the dead run left it, and so is the journal.
    assert_eq!(t.read("tr/tracing_on"), "1\n");
    assert_eq!(t.read("tr/options/funcgraph-proc"), "1\n");
    assert_eq!(t.read("tr/per_cpu/cpu1/buffer_size_kb"), "2048\n");
    assert_eq!(t.read("proc/irq/1/smp_affinity_list"), "0\n");
    assert_ne!(t.read("tr/set_ftrace_pid"), "no pid\n");
    let journal = fs::read(t.journal()).expect("the journal of the dead run");
    let changed = t.snapshot();

    // A new run refuses, touches nothing, and says what to do.
    let out = t.run(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 74, "stderr: {}", stderr(&out));
    assert_one_line_error(&out, "run 'ftrace_it --restore'");
    assert_eq!(changed, t.snapshot(), "a refused run changed the tree");
    assert_eq!(fs::read(t.journal()).unwrap(), journal);

    // --restore puts back every value as found, then removes the journal.
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "stderr: {}", stderr(&out));
    let root = t.root.display();
    // One line per value put back, in the order of the session's own
    // restore; IRQ 4, which the kernel would not route, is not among them.
    let mut restored = vec![
        "tr/current_tracer".to_string(),
        "tr/options/funcgraph-proc".to_string(),
        "tr/set_ftrace_notrace".to_string(),
        "tr/events/sched/sched_process_fork/enable".to_string(),
        "tr/set_event_pid".to_string(),
        "tr/options/event-fork".to_string(),
        "tr/options/function-fork".to_string(),
        "tr/set_ftrace_pid".to_string(),
        "tr/per_cpu/cpu1/buffer_size_kb".to_string(),
    ];
    restored.extend([1, 8, 12, 24, 25].map(|n| format!("proc/irq/{n}/smp_affinity_list")));
    restored.push("tr/tracing_on".to_string());
    let restored: Vec<String> = restored
        .iter()
        .map(|p| format!("ftrace_it: restored {root}/{p}"))
        .collect();
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), restored);
    assert_restored(&before, &t);
    assert!(!t.journal().exists(), "the journal is removed");

    // Nothing left to do, and the next run goes ahead.
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!(
            "ftrace_it: no journal at {}: nothing to restore\n",
            t.journal().display()
        )
    );
    let out = t.run(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_restored(&before, &t);
}

#[test]
fn a_sigkilled_sym_addr_run_is_journaled_and_restored() {
    let t = Tree::new("symaddr-journal");
    let before = t.snapshot();
    let out_file = t.out_file();
    kill_while_tracing(
        &t,
        &[
            "--sym-addr",
            "--duration",
            "60",
            "-o",
            &out_file,
            "/bin/sleep",
            "100",
        ],
        "function",
    );
    assert_eq!(t.read("tr/options/sym-addr"), "1\n");
    let journal = fs::read(t.journal()).expect("the journal of the dead run");
    // Kind, path, NUL, the value as found, NUL.
    let record = format!("s{}/tr/options/sym-addr\0{}\0", t.root.display(), "0\n");
    assert!(
        journal
            .windows(record.len())
            .any(|w| w == record.as_bytes()),
        "{}",
        String::from_utf8_lossy(&journal)
    );
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let restored: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("ftrace_it: restored "))
        .map(|p| p.rsplit("/tr/").next().unwrap().to_string())
        .take(3)
        .collect();
    assert_eq!(
        restored,
        ["current_tracer", "options/sym-addr", "set_ftrace_notrace"]
    );
    assert_restored(&before, &t);
}

#[test]
fn a_corrupt_journal_is_75_and_nothing_is_restored() {
    let t = Tree::new("corrupt");
    let out_file = t.out_file();
    kill_while_tracing(
        &t,
        &["--duration", "60", "-o", &out_file, "/bin/sleep", "100"],
        "function",
    );
    let journal = fs::read(t.journal()).unwrap();
    let changed = t.snapshot();
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        ("not a journal", b"hello\n".to_vec()),
        ("cut short", journal[..journal.len() - 5].to_vec()),
        ("a record's NUL lost", {
            let at = journal.iter().position(|&c| c == 0).unwrap();
            [&journal[..at], &journal[at + 1..]].concat()
        }),
        ("unknown kind", {
            let mut j = journal.clone();
            j["ftrace_it journal 1\n".len()] = b'x';
            j
        }),
    ];
    for (name, content) in cases {
        fs::write(t.journal(), &content).unwrap();
        let out = t.run(&["--restore"]);
        assert_eq!(code(&out), 75, "{name}: {}", stderr(&out));
        assert_one_line_error(&out, "is not a whole ftrace_it journal: nothing restored");
        assert_eq!(changed, t.snapshot(), "{name}: the tree changed");
        assert_eq!(fs::read(t.journal()).unwrap(), content, "{name}: journal");
    }
    // The intact journal still restores.
    fs::write(t.journal(), &journal).unwrap();
    assert_eq!(code(&t.run(&["--restore"])), 0);
    assert!(!t.journal().exists());
}

#[test]
fn the_journal_is_on_disk_before_the_first_change_and_gone_after_the_restore() {
    let t = Tree::new("journal-order");
    let out_file = t.out_file();
    let (out, log) = t.strace(&["-o", &out_file, "/bin/true"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(!t.journal().exists());
    let journal = t.journal().display().to_string();
    let call = |name: &str, arg: &str| {
        log.calls
            .iter()
            .position(|c| c.name.starts_with(name) && c.args.contains(arg))
            .unwrap_or_else(|| panic!("no {name} of {arg}"))
    };
    let rename = call("rename", &format!("\"{journal}.new\""));
    assert!(log.calls[rename].args.contains("RENAME_NOREPLACE"));
    assert_eq!(log.calls[rename].ret, "0");
    let fsync = call("fsync", "");
    assert!(fsync < rename, "the journal is synced, then renamed");
    let tree: Vec<&Write> = log
        .writes
        .iter()
        .filter(|x| x.path.starts_with("tr/") || x.path.starts_with("proc/"))
        .collect();
    assert!(
        rename < tree[0].at,
        "the journal comes before the first change"
    );
    let unlink = call("unlink", &format!("\"{journal}\""));
    assert!(
        tree.last().unwrap().at < unlink,
        "the journal goes after the last restore"
    );
}

#[test]
fn a_failed_restore_keeps_the_journal_for_restore() {
    let t = Tree::new("restorefail-journal");
    let before = t.snapshot();
    let tracer = t.path("tr/current_tracer").display().to_string();
    let out_file = t.out_file();
    let script = format!("rm {tracer} && mkdir {tracer}");
    let out = t.run(&["-o", &out_file, "/bin/sh", "-c", &script]);
    assert_eq!(code(&out), 72);
    assert!(t.journal().exists(), "kept: the restore was not complete");
    // Still broken: --restore fails the same way and keeps the journal.
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 72);
    assert_one_line_error(&out, "cannot restore");
    assert!(t.journal().exists());
    fs::remove_dir(&tracer).unwrap();
    fs::write(&tracer, "function\n").unwrap();
    let out = t.run(&["--restore"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_restored(&before, &t);
    assert!(!t.journal().exists());
}

#[test]
fn help_documents_the_journal_and_its_statuses() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    for needle in [
        "--restore",
        "--journal FILE",
        "/run/ftrace_it.journal",
        "74 journal left (run --restore)",
        "75 journal corrupt",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let out = Command::new(BIN)
        .args(["--restore", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 64);
    assert_one_line_error(&out, "--restore runs no PROGRAM");
}
