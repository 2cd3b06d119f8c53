//! The line parsers on every dialect and decoration.
use super::*;

fn func(line: &str) -> FuncLine<'_> {
    match parse_line(line.as_bytes()) {
        Line::Func(f) => f,
        other => panic!("not a function line: {other:?}"),
    }
}

fn graph(line: &str) -> GraphLine<'_> {
    match parse_line(line.as_bytes()) {
        Line::Graph(g) => g,
        other => panic!("not a graph line: {other:?}"),
    }
}

fn skip(line: &str) -> Skip {
    match parse_line(line.as_bytes()) {
        Line::Skip(s) => s,
        other => panic!("not skipped: {other:?}"),
    }
}

#[test]
fn function_with_irq_info() {
    let f = func(
        "       ftrace_it-92      [001] dN.2.     5.214403: select_task_rq_fair <-try_to_wake_up",
    );
    assert_eq!(f.comm(), b"ftrace_it");
    assert_eq!(f.pid, 92);
    assert_eq!(f.cpu, 1);
    assert_eq!(f.flags, Some(&b"dN.2."[..]));
    assert_eq!(parse_ts(f.ts), Some(5_214_403_000));
    assert_eq!(
        parse_call(f.text),
        Ok(Call {
            func: b"select_task_rq_fair",
            parent: Some(b"try_to_wake_up"),
            func_addr: None,
            parent_addr: None,
            kmsg: false
        })
    );
}

#[test]
fn usual_layout_takes_the_fixed_column_path() {
    let l =
        b"             min-94      [001] d..2.     7.935526: psi_group_change <-psi_task_switch";
    let f = parse_function_fixed(l).unwrap();
    assert_eq!((f.pid, f.cpu, f.ts), (94, 1, &b"7.935526"[..]));
    assert_eq!(f.text, b"psi_group_change <-psi_task_switch");
    assert_eq!(parse_function_general(l), Some(Line::Func(f)));
    let long_ts = b"             min-94      [001] d..2. 123456.935526: a <-b";
    assert!(parse_function_fixed(long_ts).is_none());
    assert!(matches!(parse_line(long_ts), Line::Func(_)));
}

#[test]
fn function_old_four_column_flags() {
    let f = func("          <idle>-0     [000] d.h1  1234.567890: irq_enter <-do_IRQ");
    assert_eq!(f.comm(), b"<idle>");
    assert_eq!(f.pid, 0);
    assert_eq!(f.flags, Some(&b"d.h1"[..]));
}

#[test]
fn function_without_irq_info() {
    let f = func("             min-94    [001]     5.226242: __x64_sys_execve <-do_syscall_64");
    assert_eq!(f.flags, None);
    assert_eq!(f.pid, 94);
    assert_eq!(parse_call(f.text).unwrap().func, b"__x64_sys_execve");
}

#[test]
fn function_with_tgid() {
    let f = func("       ftrace_it-94      (     94) [000] ..... 5.2: getname <-__x64_sys_execve");
    assert_eq!(f.pid, 94);
    assert_eq!(f.comm(), b"ftrace_it");
    let g = func(
        "     kworker/1:2-51      (-------) [001] d.s1. 5.3: run_timer_softirq <-__do_softirq",
    );
    assert_eq!(g.pid, 51);
    assert_eq!(g.comm(), b"kworker/1:2");
    assert_eq!(g.flags, Some(&b"d.s1."[..]));
}

#[test]
fn function_comm_with_spaces_and_dashes() {
    let f = func("  Web Content-x-1234    [003] ..... 10.000001: a <-b");
    assert_eq!(f.comm(), b"Web Content-x");
    assert_eq!(f.pid, 1234);
}

#[test]
fn function_crlf_offsets_and_modules() {
    let f = func("min-94 [001] ..... 5.1: do_fault+0x1c/0x40 <-__handle_mm_fault+0x5f0/0x9a0\r");
    let c = parse_call(f.text).unwrap();
    assert_eq!(
        (c.func, c.parent),
        (&b"do_fault"[..], Some(&b"__handle_mm_fault"[..]))
    );
    let m = func("min-94 [001] ..... 5.1: e1000_xmit [e1000] <-dev_hard_start_xmit");
    assert_eq!(parse_call(m.text).unwrap().func, b"e1000_xmit");
    let a = func("min-94 [001] ..... 5.1: foo <ffffffff81000000> <-bar <ffffffff81000100>");
    let c = parse_call(a.text).unwrap();
    assert_eq!((c.func, c.parent), (&b"foo"[..], Some(&b"bar"[..])));
}

#[test]
fn sym_addr_gives_the_name_and_the_address() {
    // As the 6.12 arm64 guest prints it: the patch site (symbol + 4),
    // then the return address into the caller.
    let f = func("             min-94      [001] ..... 5.1: gic_handle_irq <ffff80008001000c> <-call_on_irq_stack <ffff8000800148b0>");
    let c = parse_call(f.text).unwrap();
    assert_eq!(
        (c.func, c.func_addr, c.parent, c.parent_addr),
        (
            &b"gic_handle_irq"[..],
            Some(0xffff_8000_8001_000c),
            Some(&b"call_on_irq_stack"[..]),
            Some(0xffff_8000_8001_48b0)
        )
    );
    // 32-bit kernels print 8 digits; offsets come before the address.
    let o = func("a-1 [000] ..... 5.1: do_fault+0x4/0x40 <c0101004> <-handle+0x1c/0x90 <c0200a1c>");
    let c = parse_call(o.text).unwrap();
    assert_eq!(
        (c.func, c.func_addr, c.parent, c.parent_addr),
        (
            &b"do_fault"[..],
            Some(0xc010_1004),
            Some(&b"handle"[..]),
            Some(0xc020_0a1c)
        )
    );
    // Without sym-addr, or with a module instead: no address.
    for text in [
        "gic_handle_irq <-call_on_irq_stack",
        "e1000_xmit [e1000] <-dev_hard_start_xmit",
    ] {
        let c = parse_call(text.as_bytes()).unwrap();
        assert_eq!((c.func_addr, c.parent_addr), (None, None), "{text}");
    }
    // Not an address: the name stays, the address is not made up.
    let c = parse_call(b"foo <xyz> <-bar <12345678901234567>").unwrap();
    assert_eq!(
        (c.func, c.func_addr, c.parent_addr),
        (&b"foo"[..], None, None)
    );
}

#[test]
fn function_with_spliced_kernel_message() {
    let f = func("             min-94      [001] .....     5.234033: unregister_hw_breakpoint <-flush_ptrace_hw_breakpoint[   27.013141] random: crng init done");
    let c = parse_call(f.text).unwrap();
    assert_eq!(c.parent, Some(&b"flush_ptrace_hw_breakpoint"[..]));
    assert!(c.kmsg);
}

#[test]
fn non_function_events() {
    assert_eq!(
        skip("  ftrace_it-94 [000] ..... 5.2: <stack trace>"),
        Skip::StackTrace
    );
    assert_eq!(skip(" => __x64_sys_execve"), Skip::StackTrace);
    assert_eq!(
        skip("  bash-1 [000] ..... 5.2: sched_switch: prev_comm=bash prev_pid=1"),
        Skip::OtherEvent
    );
    assert_eq!(
        skip("  bash-1 [000] ..... 5.2: tracing_mark_write: hello <-world"),
        Skip::OtherEvent
    );
    assert_eq!(
        skip("  bash-1 [000] ..... notatime: a <-b"),
        Skip::Unparsable
    );
}

#[test]
fn headers_and_comments() {
    assert_eq!(
        parse_line(b"# ftrace_it.pid: 44"),
        Line::Header {
            key: b"pid",
            value: b"44"
        }
    );
    assert_eq!(
        parse_line(b"# ftrace_it.cpu1: entries=5 overrun=0 commit_overrun=0 dropped=0\r"),
        Line::Header {
            key: b"cpu1",
            value: b"entries=5 overrun=0 commit_overrun=0 dropped=0"
        }
    );
    assert_eq!(
        parse_line(b"# tracer: function_graph"),
        Line::Tracer(b"function_graph")
    );
    assert_eq!(skip("#"), Skip::Comment);
    assert_eq!(
        skip("# entries-in-buffer/entries-written: 77741/77741   #P:2"),
        Skip::Comment
    );
    assert_eq!(
        skip("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION"),
        Skip::Comment
    );
    assert_eq!(skip("##### CPU 1 buffer started ####"), Skip::BufferStarted);
    assert_eq!(skip("cpus=2"), Skip::Comment);
    assert_eq!(skip("cpus=two"), Skip::Unparsable);
}

#[test]
fn misc_lines() {
    assert_eq!(skip(""), Skip::Blank);
    assert_eq!(skip("  \r"), Skip::Blank);
    assert_eq!(
        skip("[   12.345678] random: crng init done"),
        Skip::KernelMessage
    );
    assert_eq!(
        skip("<6>[   12.345678] random: crng init done"),
        Skip::KernelMessage
    );
    assert_eq!(
        skip(" ------------------------------------------"),
        Skip::Separator
    );
    assert_eq!(skip("hello world"), Skip::Unparsable);
    assert_eq!(
        parse_line(b"CPU:1 [LOST 1234 EVENTS]"),
        Line::Lost {
            cpu: 1,
            count: 1234
        }
    );
}

#[test]
fn graph_plain() {
    let g = graph(" 1)               |  __x64_sys_execve() {");
    assert_eq!(g.cpu, 1);
    assert_eq!(g.depth, 0);
    assert_eq!(g.kind, GraphKind::Entry(b"__x64_sys_execve"));
    assert_eq!(g.pid, None);
    let l = graph(" 1)   0.345 us    |      kmem_cache_alloc();");
    assert_eq!(l.depth, 2);
    assert_eq!(l.kind, GraphKind::Leaf(b"kmem_cache_alloc"));
    let e = graph(" 1) + 12.345 us   |    }");
    assert_eq!(e.depth, 1);
    assert_eq!(e.kind, GraphKind::Exit);
    let t = graph(" 0) ! 123.456 us  |  } /* do_syscall_64 */");
    assert_eq!(t.kind, GraphKind::Exit);
    assert_eq!(t.depth, 0);
    let r = graph(" 0)   1.000 us    |    getname(); /* = 0xffff0000 */");
    assert_eq!(r.kind, GraphKind::Leaf(b"getname"));
}

#[test]
fn graph_proc_abstime_and_latency() {
    let g = graph(" 1)   min-94    |               |  do_execveat_common.isra.0() {");
    assert_eq!(g.pid, Some(94));
    assert_eq!(g.comm, b"min");
    assert_eq!(g.kind, GraphKind::Entry(b"do_execveat_common.isra.0"));
    let a = graph("  123.456789 |   0)  ftrace_-44    |   0.345 us    |      alloc_bprm();");
    assert_eq!(a.ts.and_then(parse_ts), Some(123_456_789_000));
    assert_eq!(a.cpu, 0);
    assert_eq!(a.pid, Some(44));
    assert_eq!(a.depth, 2);
    let l = graph(" 0)   min-94    |  d.h1 |   0.345 us    |  irq_enter_rcu();");
    assert_eq!(l.flags, Some(&b"d.h1"[..]));
    assert_eq!(l.depth, 0);
    let b = graph("  123.456789 |   0)               |  foo() {");
    assert_eq!(b.ts.and_then(parse_ts), Some(123_456_789_000));
    assert_eq!(b.pid, None);
}

#[test]
fn graph_markers_and_switches() {
    assert_eq!(parse_line(b" 1)  ==========> |"), Line::IrqEnter { cpu: 1 });
    assert_eq!(
        parse_line(b" 1)   min-94    |  <========== |"),
        Line::IrqExit { cpu: 1 }
    );
    assert_eq!(
        parse_line(b" 1)  ftrace_-94    =>    min-94   "),
        Line::Switch { cpu: 1, pid: 94 }
    );
    let other = graph(" 0)   min-94    |               |  /* sched_switch: prev_comm=min */");
    assert_eq!((other.cpu, other.kind), (0, GraphKind::Other));
}

#[test]
fn trace_cmd_report_function() {
    let plain =
        func("             min-94    [001]    52.123456: function:             __arm64_sys_execve");
    assert_eq!((plain.pid, plain.cpu, plain.flags), (94, 1, None));
    let c = parse_call(plain.text).unwrap();
    assert_eq!((c.func, c.parent), (&b"__arm64_sys_execve"[..], None));
    let indented = func("             min-94    [001]    52.123457: function:                   getname_flags.part.0");
    assert_eq!(
        parse_call(indented.text).unwrap().func,
        b"getname_flags.part.0"
    );
    let parent = func("             min-94    [001]    52.123458: function:                getname <-- __arm64_sys_execve");
    let c = parse_call(parent.text).unwrap();
    assert_eq!(
        (c.func, c.parent),
        (&b"getname"[..], Some(&b"__arm64_sys_execve"[..]))
    );
    let offsets =
        func("min-94 [001] 52.1: function: getname+0x4/0x20 <-- do_execveat_common+0x1c/0x200");
    let c = parse_call(offsets.text).unwrap();
    assert_eq!(
        (c.func, c.parent),
        (&b"getname"[..], Some(&b"do_execveat_common"[..]))
    );
    assert_eq!(
        skip("       trace-cmd-93    [000]    52.0: sched_switch:         trace-cmd:93 [120] S ==> swapper/0:0 [120]"),
        Skip::OtherEvent
    );
    assert_eq!(
        skip("min-94 [001] 52.1: function: getname <-- "),
        Skip::OtherEvent
    );
}

#[test]
fn trace_cmd_report_latency_columns() {
    let f = func("     min-94        1d..2.    52.123456: function:             do_el0_svc");
    assert_eq!((f.comm(), f.pid, f.cpu), (&b"min"[..], 94, 1));
    assert_eq!(f.flags, Some(&b"d..2."[..]));
    assert_eq!(parse_ts(f.ts), Some(52_123_456_000));
    assert_eq!(parse_call(f.text).unwrap().func, b"do_el0_svc");
    let spaced = func("trace-cm-93       0 d.h1.  52.2: function: irq_enter_rcu <-- el1_interrupt");
    assert_eq!(
        (spaced.comm(), spaced.pid, spaced.cpu),
        (&b"trace-cm"[..], 93, 0)
    );
    assert_eq!(spaced.flags, Some(&b"d.h1."[..]));
    assert_eq!(skip("some text 52.2: function: x"), Skip::Unparsable);
    assert_eq!(skip("min-94 1 52.2: function: x"), Skip::Unparsable);
}

#[test]
fn trace_cmd_report_function_graph() {
    let e = graph("             min-94    [001]    52.123456: funcgraph_entry:                   |  el0_svc() {");
    assert_eq!((e.pid, e.cpu, e.comm), (Some(94), 1, &b"min"[..]));
    assert_eq!(e.ts.and_then(parse_ts), Some(52_123_456_000));
    assert_eq!((e.depth, e.kind), (0, GraphKind::Entry(b"el0_svc")));
    let l = graph("             min-94    [001]    52.123457: funcgraph_entry:        0.345 us   |      getname();");
    assert_eq!((l.depth, l.kind), (2, GraphKind::Leaf(b"getname")));
    let x = graph(
        "             min-94    [001]    52.123458: funcgraph_exit:       + 12.345 us   |    }",
    );
    assert_eq!((x.depth, x.kind), (1, GraphKind::Exit));
    let lat =
        graph("     min-94        1d..2.    52.2: funcgraph_entry:   0.345 us   |  do_el0_svc();");
    assert_eq!(lat.flags, Some(&b"d..2."[..]));
    assert_eq!(lat.kind, GraphKind::Leaf(b"do_el0_svc"));
    assert_eq!(
        skip("min-94 [001] 52.1: funcgraph_entry: soon |  a();"),
        Skip::Unparsable
    );
    assert_eq!(
        skip("min-94 [001] 52.1: funcgraph_exit: 1.0 us |  what"),
        Skip::Unparsable
    );
}

#[test]
fn timestamps() {
    assert_eq!(parse_ts(b"5.214403"), Some(5_214_403_000));
    assert_eq!(parse_ts(b"123"), Some(123));
    assert_eq!(parse_ts(b"1.123456789"), Some(1_123_456_789));
    assert_eq!(parse_ts(b"1.1234567890"), None);
    assert_eq!(parse_ts(b"1."), None);
    assert_eq!(parse_ts(b"x.1"), None);
    assert_eq!(parse_ts(b"99999999999999999.1"), None);
    for ok in [
        "5.214403",
        "0.1",
        "9999999999.999999999",
        "1234567890123456789",
    ] {
        assert!(valid_ts(ok.as_bytes()), "{ok}");
        assert!(parse_ts(ok.as_bytes()).is_some(), "{ok}");
    }
    for bad in [
        "",
        ".1",
        "1.",
        "12345678901.1",
        "1.1234567890",
        "1x",
        "12345678901234567890",
    ] {
        assert!(!valid_ts(bad.as_bytes()), "{bad}");
    }
}
