//! `ftrace_it` against a fake tracefs (tests/common/mod.rs).
//! Record mode: the order of the writes, the header, the buffer size, the
//! tracer options, lost events.

mod common;

use common::*;
use std::fs;
use std::process::Command;

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
