//! What the traces hold: addresses, ticks, faults, nesting, threads and children.

use super::common::*;
use trace_analysis::{execve, names};

/// The function symbols of the kernel's System.map, by address.
fn system_map_text() -> Vec<(u64, String)> {
    let mut syms: Vec<(u64, String)> = read("System.map")
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (addr, kind, name) = (f.next()?, f.next()?, f.next()?);
            let addr = u64::from_str_radix(addr, 16).ok()?;
            matches!(kind, "t" | "T" | "w" | "W").then(|| (addr, name.to_string()))
        })
        .collect();
    syms.sort();
    syms
}

/// The names of the System.map symbol that holds `addr`: the last address
/// at or below it (several names when symbols alias).
fn holder(syms: &[(u64, String)], addr: u64) -> Vec<&str> {
    let end = syms.partition_point(|(a, _)| *a <= addr);
    let Some(start) = end.checked_sub(1).map(|i| syms[i].0) else {
        return Vec::new();
    };
    syms[..end]
        .iter()
        .rev()
        .take_while(|(a, _)| *a == start)
        .map(|(_, n)| n.as_str())
        .collect()
}

#[test]
fn function_traces_carry_addresses_that_name_the_system_map_symbol() {
    // vmrun runs the function tracer with --sym-addr; function_graph prints
    // names only, and its header says so.
    assert_eq!(Trace::load("fgraph").header["sym_addr"], "off");
    let syms = system_map_text();
    for id in ["min", "min.large"] {
        let t = Trace::load(id);
        assert_eq!(t.header["sym_addr"], "on", "{id}");
        let events = t.events();
        assert!(!events.is_empty(), "{id}");
        // No KASLR: the address the kernel printed after a name lies in the
        // System.map symbol of that name, even where names repeat
        // (gic_handle_irq).
        let mut wrong = Vec::new();
        // Tracepoint lines (`sched_process_fork:`) name no function.
        for e in events.iter().filter(|e| !e.func.ends_with(':')) {
            for (name, addr) in [(&e.func, e.func_addr), (&e.parent, e.parent_addr)] {
                let Some(addr) = addr else {
                    wrong.push(format!("{name}: no address"));
                    continue;
                };
                let names = holder(&syms, addr);
                if !names.contains(&name.as_str()) {
                    wrong.push(format!("{name} <{addr:x}>: System.map has {names:?}"));
                }
            }
        }
        wrong.sort();
        wrong.dedup();
        assert!(
            wrong.is_empty(),
            "{id}: {} wrong, e.g. {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(10)]
        );
    }
}

#[test]
fn before_its_execve_the_target_has_only_timer_ticks() {
    for id in ["min", "min.large"] {
        let t = Trace::load(id);
        let pid = t.pid();
        let mine: Vec<Event> = t.events().into_iter().filter(|e| e.pid == pid).collect();
        // Where the execve begins is ftrace_report's rule: its system call
        // entry path (el0_svc -> do_el0_svc -> invoke_syscall, do_syscall_64
        // -> x64_sys_call), with an interrupt that lands on it, is its.
        let start = execve::start(mine.iter().map(|e| (e.func.as_str(), e.parent.as_str())))
            .unwrap_or_else(|| panic!("{id}: no execve of pid {pid}"));
        let before = &mine[..start];
        // The program spins in user space until released, so timer ticks
        // may land before its execve, with what runs on their way back to
        // user space (softirqs, a reschedule): one as a rule (turning
        // tracing on waits for RCU, which needs a tick on that CPU), more
        // when the host is busy and the emulated clock runs ahead (three
        // seen at a load of 10 on 2 cores), so their number is not held.
        // Nothing else may come: no system call, no page fault. Tracing
        // may also be turned on while a tick is being handled: then the
        // first events are that tick's tail, in interrupt context.
        let count = |names: &[&str]| {
            before
                .iter()
                .filter(|e| names.contains(&e.func.as_str()))
                .count()
        };
        let interrupts = count(&["irq_enter_rcu"]);
        let syscalls = before
            .iter()
            .filter(|e| names::is_syscall_entry(names::normalize(e.func.as_bytes())))
            .count();
        let other = syscalls + count(&["do_mem_abort", "exc_page_fault", "handle_mm_fault"]);
        let only_ticks = before.is_empty()
            || ((before[0].func == "irq_enter_rcu" || before[0].in_interrupt) && other == 0);
        assert!(
            only_ticks,
            "{id}: {} events of pid {pid} before its execve ({interrupts} interrupts), first {:?}",
            before.len(),
            before.first()
        );
    }
}

#[test]
fn min_large_faults_in_its_text_more_often_than_min() {
    let arm64 = arch() == "aarch64";
    let count = |id: &str| {
        let events = Trace::load(id).target_events();
        let n = |f: &dyn Fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
        (
            // arm64: a user instruction abort enters the fault handler from
            // el0_ia (x86_64 has one entry for all page faults).
            n(&|e| arm64 && e.func == "do_mem_abort" && e.parent == "el0_ia"),
            // A text page fault maps the file's pages from the page cache.
            n(&|e| e.func == "filemap_map_pages"),
        )
    };
    let (min, large) = (count("min"), count("min.large"));
    assert!(
        (large.0 > min.0 || !arm64) && large.1 > min.1,
        "instruction aborts, filemap_map_pages: min.large {large:?}, min {min:?}"
    );
    if arm64 {
        // The path the issue names, in the order it takes.
        let events = Trace::load("min.large").target_events();
        let funcs: Vec<&str> = events.iter().map(|e| e.func.as_str()).collect();
        let last_abort = funcs.iter().rposition(|f| *f == "do_mem_abort").unwrap();
        let path = ["do_page_fault", "handle_mm_fault", "filemap_map_pages"];
        let mut at = last_abort;
        for f in path {
            at += funcs[at..]
                .iter()
                .position(|g| *g == f)
                .unwrap_or_else(|| panic!("{f} missing after the last instruction abort"));
        }
    }
}

#[test]
fn function_graph_trace_is_nested_with_the_pid_on_every_line() {
    let t = Trace::load("fgraph");
    assert_eq!(t.header["tracer"], "function_graph");
    let pid = t.pid();
    let tag = format!("-{pid} ");
    let lines: Vec<&String> = t
        .body
        .iter()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains("------"))
        .collect();
    assert!(lines.len() > 100, "only {} lines", lines.len());
    let (mut depth, mut max_depth, mut opened) = (0i64, 0i64, 0);
    for l in &lines {
        assert!(
            l.contains(&tag) || l.contains("=>"),
            "no pid {pid} in {l:?}"
        );
        // ` 1)   min-44    |   0.250 us    |      func();`
        let code = l.rsplit('|').next().unwrap_or("").trim_end();
        if code.ends_with('{') {
            depth += 1;
            opened += 1;
            max_depth = max_depth.max(depth);
        } else if code.trim() == "}" || code.trim_start().starts_with("} ") {
            depth -= 1;
        }
    }
    assert!(
        opened > 10 && max_depth >= 3,
        "not nested: {opened} calls opened, depth {max_depth}"
    );
}

/// `sched_process_*` event lines of a trace: (pid of the line, event, rest).
fn process_events(id: &str) -> Vec<(u32, String, String)> {
    Trace::load(id)
        .body
        .iter()
        .filter_map(|l| {
            let (task, rest) = l.split_at(l.find(" [")?);
            let pid = task.trim().rsplit_once('-')?.1.parse().ok()?;
            let at = rest.find(" sched_process_")?;
            let (event, detail) = rest[at + 1..].split_once(": ")?;
            Some((pid, event.to_string(), detail.to_string()))
        })
        .collect()
}

fn pids(id: &str) -> std::collections::BTreeSet<u32> {
    Trace::load(id).events().iter().map(|e| e.pid).collect()
}

#[test]
fn every_thread_is_traced_with_its_system_call() {
    assert_eq!(runs()["threads"], "0", "{}", read("threads.ftrace_it.log"));
    let t = Trace::load("threads");
    let forks: Vec<_> = process_events("threads")
        .into_iter()
        .filter(|e| e.1 == "sched_process_fork")
        .collect();
    assert_eq!(forks.len(), 2, "two threads started: {forks:?}");
    // The thread ids the program printed are the children of those events
    // and each has function events of its own, getppid among them.
    let out = read("threads.stdout");
    for (_, _, detail) in &forks {
        let child: u32 = detail
            .rsplit_once("child_pid=")
            .and_then(|(_, p)| p.split_whitespace().next()?.parse().ok())
            .expect("child_pid=");
        assert!(
            out.contains(&format!("tid {child} ")),
            "{child} not in {out}"
        );
        assert!(
            t.events()
                .iter()
                .any(|e| e.pid == child && e.func == "__arm64_sys_getppid"),
            "thread {child} has no getppid of its own"
        );
    }
    assert_eq!(pids("threads").len(), 3, "main and two threads");
}

#[test]
fn a_child_and_its_exec_are_traced() {
    assert_eq!(
        runs()["forkexec"],
        "0",
        "{}",
        read("forkexec.ftrace_it.log")
    );
    let events = process_events("forkexec");
    let parent = Trace::load("forkexec").pid();
    let child = events
        .iter()
        .find(|e| e.0 == parent && e.1 == "sched_process_fork")
        .and_then(|e| {
            e.2.rsplit_once("child_pid=")?
                .1
                .split_whitespace()
                .next()?
                .parse::<u32>()
                .ok()
        })
        .expect("forkexec's fork event");
    // Only fork events are enabled: the exec shows in the child's own
    // lines, its execve and then the new program's name.
    assert!(
        events.iter().all(|e| e.1 == "sched_process_fork"),
        "{events:?}"
    );
    let t = Trace::load("forkexec");
    assert!(
        t.body
            .iter()
            .any(|l| l.trim_start().starts_with(&format!("args_static-{child} "))),
        "no line of args_static as {child}"
    );
    assert!(
        t.events()
            .iter()
            .any(|e| e.pid == child && e.func == execve()),
        "the child's execve is not traced"
    );
    assert_eq!(
        read("forkexec.stdout").lines().next(),
        Some("arg 1: from-child")
    );
}

/// (function, parent, in an interrupt) of each function event of the
/// traced pid: the flags' third column says hardirq `h`, softirq `s`, both
/// `H`, NMI `z`.
fn functions_in_context(id: &str) -> Vec<(String, String, bool)> {
    let t = Trace::load(id);
    let pid = t.pid();
    t.body
        .iter()
        .filter_map(|l| {
            let e = Event::parse(l)?;
            let flags = l[l.find("] ")? + 2..].split_whitespace().next()?;
            let irq = matches!(flags.as_bytes().get(2), Some(b'h' | b's' | b'H' | b'z'));
            (e.pid == pid && !e.func.ends_with(':')).then_some((e.func, e.parent, irq))
        })
        .collect()
}

/// Made by the tracer, not by the program: the iterator of a tracepoint
/// the tracer enabled, or a function called by the pid filters' checks.
fn made_by_the_tracer(func: &str, parent: &str) -> bool {
    func.starts_with("__traceiter_")
        || ["trace_pid_list_is_set", "trace_ignore_this_task"].contains(&parent)
}

#[test]
fn following_leaves_the_trace_of_min_as_without_it() {
    // min never forks: with follow (the default) its trace is that of
    // --no-follow in kind. Precisely: the same single pid, no event line,
    // the same system calls in the same order, and no function made by the
    // tracer. The set of functions itself is not compared: it differs from
    // run to run with the allocators' state (a slab refill, an LRU move, a
    // per-cpu chunk hint), in process context too, and with the interrupts
    // that land on the program's CPU.
    let syscalls = |id: &str| -> Vec<String> {
        functions_in_context(id)
            .into_iter()
            .filter(|f| f.0.starts_with("__arm64_sys_") || f.0.starts_with("__x64_sys_"))
            .map(|f| f.0)
            .collect()
    };
    let without = syscalls("nofollow");
    assert!(without.iter().any(|s| s == execve()), "{without:?}");
    for id in ["min", "min.large", "nofollow"] {
        let pid = Trace::load(id).pid();
        assert_eq!(pids(id), [pid].into(), "{id}");
        assert_eq!(process_events(id), [], "{id}");
        assert_eq!(syscalls(id), without, "{id}");
        let made: Vec<_> = functions_in_context(id)
            .into_iter()
            .filter(|f| !f.2 && made_by_the_tracer(&f.0, &f.1))
            .collect();
        assert_eq!(made, [], "{id}");
    }
}

#[test]
fn the_header_lists_every_task_of_the_program() {
    // `# ftrace_it.task: pid=P parent=Q first=T last=T comm=C` per task.
    for (id, tasks) in [("min", 1), ("threads", 3), ("forkexec", 2)] {
        let t = Trace::load(id);
        let pid = t.pid();
        let text = read(&format!("{id}.trace"));
        let lines: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# ftrace_it.task: "))
            .collect();
        assert_eq!(t.header["tasks"], tasks.to_string(), "{id}");
        assert_eq!(lines.len(), tasks, "{id}: {lines:?}");
        assert!(
            lines[0].starts_with(&format!("pid={pid} ")),
            "{id}: {lines:?}"
        );
        let traced: std::collections::BTreeSet<u32> = t.events().iter().map(|e| e.pid).collect();
        for l in &lines {
            let p: u32 = l["pid=".len()..l.find(' ').unwrap()].parse().unwrap();
            assert!(traced.contains(&p), "{id}: task {p} has no event: {l}");
            assert!(!l.contains("first=none"), "{id}: {l}");
        }
    }
}
