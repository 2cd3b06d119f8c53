//! `ftrace_report groundtruth TRACE GT [--notrace GT] [--kernel-build DIR]`:
//! the emulator's ground truth (gt_plugin's `ID.gt`: every kernel function
//! entry of the program's task, in order) against the ftrace trace of the
//! same run: exactness, per-phase counts, the blind spots and why ftrace
//! cannot see them, and with `--notrace` the tracer's own cost.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use kernel_index::{Function, KernelIndex, Lookup};
use trace_analysis::analyze::{Analysis, Kind};
use trace_analysis::model::{Phase, Selection};
use trace_analysis::names::NONE;
use trace_analysis::select::{self, Filter};

/// One `.gt` record: names in entry order, `true` for an entry from user
/// mode that ran with user state (arm64: the user stack pointer still in
/// `SP_EL0`; x86: before `swapgs`).
pub struct Record {
    pub path: String,
    pub closed: bool,
    pub entries: Vec<(String, bool)>,
    /// Where the task was switched out: before `entries[i]` (version 2).
    pub switches: Vec<usize>,
    /// The entries ftrace's pid filter dropped, ascending ([`mark_dropped`]).
    pub dropped: Vec<usize>,
}

/// Reads a `.gt` record ([`gt_record`]).
pub fn parse(text: &str) -> Result<Record, String> {
    let r = gt_record::parse(text)?;
    Ok(Record {
        path: r.path,
        closed: r.closed,
        entries: r.entries,
        switches: r.switches,
        dropped: Vec::new(),
    })
}

/// The tracepoint at a context switch, entered by the task switched out.
const SCHED_SWITCH: &str = "__traceiter_sched_switch";

/// Marks the entries ftrace's pid filter drops by design: it follows the
/// next task from inside the `sched_switch` tracepoint on, while the task
/// switched out is still `current` up to the switch itself (x86: spinlock
/// functions of the other probes, `enter_lazy_tlb`, `xfd_validate_state`;
/// arm64 inlines its spinlocks and these run untraced). `events`: ftrace's
/// events of the task from its execve on, in order. At each switch-out the
/// entries of traced functions after the tracepoint that ftrace recorded
/// next are kept; from the first one it did not, those up to the switch
/// are dropped.
pub fn mark_dropped(r: &mut Record, events: &[&str], traced: &BTreeMap<String, u64>) {
    let starts: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| **e == SCHED_SWITCH)
        .map(|(i, _)| i + 1)
        .collect();
    let mut tails = 0;
    let mut from = 0;
    r.dropped.clear();
    for &end in &r.switches {
        let Some(at) = r.entries[from..end]
            .iter()
            .rposition(|e| e.0 == SCHED_SWITCH)
            .map(|i| from + i + 1)
        else {
            from = end;
            continue;
        };
        let mut j = starts.get(tails).copied().unwrap_or(events.len());
        tails += 1;
        let mut flipped = false;
        for i in at..end {
            let name = r.entries[i].0.as_str();
            if !traced.contains_key(name) {
                continue;
            }
            if !flipped && events.get(j) == Some(&name) {
                j += 1;
            } else {
                flipped = true;
                r.dropped.push(i);
            }
        }
        from = end;
    }
}

/// ftrace's function events of the task `pid` from its execve on, in
/// order, from the analysis' event log ([`Analysis::logging`]).
pub fn task_events(an: &Analysis, pid: u32) -> Vec<&str> {
    let mut events = an
        .log
        .iter()
        .flatten()
        .filter(|e| e.pid == pid && e.kind == Kind::Call && e.caller != NONE)
        .filter_map(|e| std::str::from_utf8(an.names.name(e.callee)).ok())
        .skip_while(|f| !f.ends_with("sys_execve"));
    events.next().into_iter().chain(events).collect()
}

/// The function of the trace's last `function` event.
pub fn last_function(an: &Analysis) -> Option<String> {
    an.last_call
        .map(|id| String::from_utf8_lossy(an.names.name(id)).into_owned())
}

/// Per function, hits in exec, run, exit (the record's [`phases`], which
/// start at the execve: no pre-exec).
pub fn counts(r: &Record) -> BTreeMap<String, [u64; 3]> {
    let mut c: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for ((name, _), p) in r.entries.iter().zip(phases(r)) {
        c.entry(name.clone()).or_default()[p as usize - Phase::Exec as usize] += 1;
    }
    c
}

/// The phase of each entry. exec: from the execve's kernel entry to the
/// next kernel entry from user mode (the first return to user mode lies
/// between); exit: from the kernel entry from user mode that leads to
/// `do_exit`; run: between.
pub fn phases(r: &Record) -> Vec<Phase> {
    let (run, exit) = bounds(r);
    (0..r.entries.len())
        .map(|i| match i {
            i if i < run => Phase::Exec,
            i if i < exit => Phase::Run,
            _ => Phase::Exit,
        })
        .collect()
}

/// The first entries of the run and exit phases (see [`phases`]).
fn bounds(r: &Record) -> (usize, usize) {
    let run = r
        .entries
        .iter()
        .skip(1)
        .position(|e| e.1)
        .map_or(r.entries.len(), |i| i + 1);
    let exit = r
        .entries
        .iter()
        .position(|e| e.0 == "do_exit")
        .and_then(|x| r.entries[..x].iter().rposition(|e| e.1))
        .unwrap_or(r.entries.len())
        .max(run);
    (run, exit)
}

/// Why ftrace cannot see a function: its object, section and compile
/// flags from the index of the kernel build tree.
pub struct Build {
    index: KernelIndex,
    /// The guest's `available_filter_functions`: what ftrace could trace.
    traceable: Option<HashSet<String>>,
}

impl Build {
    pub fn new(index: KernelIndex) -> Build {
        Build {
            index,
            traceable: None,
        }
    }

    /// Reads the traced kernel's `available_filter_functions` (`name` or
    /// `name [module]` per line), which tells a function ftrace could
    /// have shown from one it never can.
    pub fn with_traceable(mut self, text: &str) -> Build {
        self.traceable = Some(
            text.lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect(),
        );
        self
    }

    /// The reason ftrace never shows `name`. A name that static functions
    /// of several files share gets each candidate's reason: one class when
    /// they agree, `ambiguous` when they do not.
    pub fn why(&self, name: &str) -> String {
        let candidates = match self.index.lookup(name) {
            Lookup::Unknown => return "unknown: not in System.map".into(),
            Lookup::Unique(f) => return self.why_function(name, &f),
            Lookup::Ambiguous(v) => v,
        };
        combine(candidates.iter().map(|f| self.why_function(name, f)))
    }

    fn why_function(&self, name: &str, f: &Function) -> String {
        let (Some(section), Some(object)) = (f.section, f.object) else {
            return "unknown: in no input section of vmlinux.map".into();
        };
        let (sect, obj) = (section.name.as_str(), object.path.as_str());
        let base = name.split('.').next().unwrap_or(name);
        if obj.starts_with("kernel/trace/")
            || obj.ends_with("entry-ftrace.o")
            || base.starts_with("ftrace_")
        {
            return format!("ftrace's own code ({obj})");
        }
        let compiled = object.sources.iter().find(|s| !s.included);
        if compiled.is_some_and(|s| s.path.ends_with(".S")) {
            return format!("assembly ({obj})");
        }
        if sect == ".noinstr.text" || sect == ".entry.text" {
            return format!("noinstr ({sect} of {obj})");
        }
        if object.ftrace_hook == Some(false) {
            return format!("file built without the ftrace hook ({obj})");
        }
        match &self.traceable {
            Some(t) if t.contains(name) => format!(
                "traceable but not in the trace: dropped, e.g. run where the pid filter did not match ({obj})"
            ),
            Some(_) => format!("notrace or inline in a traced file: not in available_filter_functions ({obj})"),
            None => format!("notrace, inline or dropped in a traced file ({obj})"),
        }
    }
}

/// The reasons of the functions that share a name, as one: a class they
/// all have, with each one's detail, or `ambiguous` with every reason.
fn combine(reasons: impl Iterator<Item = String>) -> String {
    let reasons: Vec<String> = reasons.collect();
    let n = reasons.len();
    let split = |w: &str| -> (String, String) {
        match w.split_once(" (") {
            Some((c, d)) => (c.to_string(), d.trim_end_matches(')').to_string()),
            None => (w.to_string(), String::new()),
        }
    };
    let parts: Vec<(String, String)> = reasons.iter().map(|w| split(w)).collect();
    let classes: BTreeSet<&String> = parts.iter().map(|p| &p.0).collect();
    match classes.into_iter().collect::<Vec<_>>()[..] {
        [class] => {
            let details: Vec<&str> = parts.iter().map(|p| p.1.as_str()).collect();
            format!(
                "{class} (each of the {n} functions of that name: {})",
                details.join("; ")
            )
        }
        _ => format!(
            "ambiguous ({n} functions of that name, of different classes: {})",
            reasons.join("; ")
        ),
    }
}

/// The ftrace events of the target from execve on, per function.
pub fn ftrace_counts(an: &Analysis) -> BTreeMap<String, u64> {
    let f = Filter {
        sel: Selection::default_phases(),
        callers_only: false,
        normalize: false,
    };
    let fp = select::footprint(an, &f);
    fp.funcs
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (String::from_utf8_lossy(&k).into_owned(), n))
        .collect()
}

/// The ground truth up to ftrace's last event: ftrace_it stops tracing once
/// it has reaped the program, while the dead task still takes interrupts
/// on its way to its final context switch. `last` is the function of the
/// trace's last event, `n` its events: the record is cut after the n-th.
pub fn until(r: &Record, last: &str, n: u64) -> Record {
    let mut seen = 0;
    let end = r
        .entries
        .iter()
        .enumerate()
        .position(|(i, e)| {
            seen += u64::from(e.0 == last && r.dropped.binary_search(&i).is_err());
            seen == n
        })
        .map_or(r.entries.len(), |i| i + 1);
    Record {
        path: r.path.clone(),
        closed: false,
        entries: r.entries[..end].to_vec(),
        switches: r.switches.iter().copied().filter(|&i| i < end).collect(),
        dropped: r.dropped.iter().copied().filter(|&i| i < end).collect(),
    }
}

/// The ground truth over the trace's window: up to ftrace's last event
/// (`last`, from [`last_function`]), all of it without one.
pub fn window(gt: &Record, ftrace: &BTreeMap<String, u64>, last: Option<&str>) -> Record {
    match last {
        Some(l) => until(gt, l, ftrace.get(l).copied().unwrap_or(0)),
        None => until(gt, "", 0),
    }
}

/// The report; the bool says whether ftrace and the ground truth agree
/// (every traced function in the ground truth with as many hits).
pub fn report(
    gt: &Record,
    ftrace: &BTreeMap<String, u64>,
    last: Option<&str>,
    notrace: Option<&Record>,
    build: Option<&Build>,
) -> (String, bool) {
    let c = counts(gt);
    let total = |v: &[u64; 3]| v.iter().sum::<u64>();
    let window = window(gt, ftrace, last);
    let mut seen = Record {
        path: window.path.clone(),
        closed: false,
        entries: Vec::new(),
        switches: Vec::new(),
        dropped: Vec::new(),
    };
    let mut dropped: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, e) in window.entries.iter().enumerate() {
        if window.dropped.binary_search(&i).is_ok() {
            *dropped.entry(&e.0).or_default() += 1;
        } else {
            seen.entries.push(e.clone());
        }
    }
    let cw = counts(&seen);
    let mut out = format!(
        "# ground truth of {}: {} entries, {} functions; ftrace: {} functions\n",
        gt.path,
        gt.entries.len(),
        c.len(),
        ftrace.len()
    );
    let mismatch: Vec<String> = ftrace
        .iter()
        .filter(|(n, &k)| cw.get(*n).map(total) != Some(k))
        .map(|(n, &k)| format!("{n} ftrace {k} ground truth {}", cw.get(n).map_or(0, total)))
        .collect();
    out.push_str(&format!(
        "# after ftrace's last event: {} entries (tracing stopped before the final context switch)\n",
        gt.entries.len() - window.entries.len()
    ));
    out.push_str(&format!(
        "# dropped by ftrace's pid filter after the sched_switch tracepoint of the task's {} switch-outs: {} entries\n",
        window.switches.len(),
        window.dropped.len()
    ));
    for (n, k) in &dropped {
        out.push_str(&format!("dropped\t{n}\t{k}\n"));
    }
    out.push_str(&format!(
        "# exact: {}\n",
        if mismatch.is_empty() {
            "yes (every ftrace function in the ground truth, same hit count)".to_string()
        } else {
            format!("no, {} function(s) differ", mismatch.len())
        }
    ));
    for m in &mismatch {
        out.push_str(&format!("mismatch\t{m}\n"));
    }
    out.push_str("## functions: name, exec, run, exit, total, in ftrace\n");
    for (n, v) in &c {
        let seen = if ftrace.contains_key(n) { "yes" } else { "no" };
        out.push_str(&format!(
            "func\t{n}\t{}\t{}\t{}\t{}\t{seen}\n",
            v[0],
            v[1],
            v[2],
            total(v)
        ));
    }
    let blind: Vec<(&String, u64)> = c
        .iter()
        .filter(|(n, _)| !ftrace.contains_key(*n))
        .map(|(n, v)| (n, total(v)))
        .collect();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    let mut lines = String::new();
    for (n, hits) in &blind {
        let why = build.map_or("unclassified (no --kernel-build)".into(), |b| b.why(n));
        *classes
            .entry(why.split(" (").next().unwrap_or("").to_string())
            .or_default() += 1;
        lines.push_str(&format!("blind\t{n}\t{hits}\t{why}\n"));
    }
    out.push_str(&format!(
        "## blind spots: {} functions ftrace never shows\n",
        blind.len()
    ));
    for (k, n) in &classes {
        out.push_str(&format!("class\t{k}\t{n}\n"));
    }
    out.push_str(&lines);
    if let Some(nt) = notrace {
        let base = counts(nt);
        let (with, without) = (gt.entries.len() as u64, nt.entries.len() as u64);
        out.push_str(&format!(
            "## tracer cost: {with} entries with ftrace, {without} without (+{})\n",
            with.saturating_sub(without)
        ));
        let mut cost: Vec<(u64, &String, u64, u64)> = c
            .iter()
            .map(|(n, v)| (n, total(v), base.get(n).map_or(0, total)))
            .filter(|(_, w, wo)| w > wo)
            .map(|(n, w, wo)| (w - wo, n, w, wo))
            .collect();
        cost.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        for (d, n, w, wo) in cost {
            out.push_str(&format!("cost\t{n}\t{w}\t{wo}\t+{d}\n"));
        }
        for (n, v) in &base {
            if !c.contains_key(n) {
                out.push_str(&format!("notrace-only\t{n}\t{}\n", total(v)));
            }
        }
    }
    (out, mismatch.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analysis of `text` with pid 40 as its target, every event kept.
    fn logged(text: &str) -> Analysis {
        let mut a = Analysis::new(Some(40)).logging();
        a.read(text.as_bytes()).unwrap();
        a
    }

    fn rec(lines: &str) -> Record {
        parse(&format!(
            "# gt.version: 1\n# gt.path: /usr/bin/min\n# gt.closed: true\n{lines}"
        ))
        .unwrap()
    }

    #[test]
    fn phases_split_at_kernel_entries_from_user_mode() {
        let r = rec(
            "u el0t_64_sync\nk do_el0_svc\nk __arm64_sys_execve\nu el0t_64_irq\nk tick\n\
                     u el0t_64_irq\nk tick\nk do_exit\nk schedule\n",
        );
        let c = counts(&r);
        assert_eq!(c["el0t_64_sync"], [1, 0, 0]);
        assert_eq!(c["el0t_64_irq"], [0, 1, 1]);
        assert_eq!(c["tick"], [0, 1, 1]);
        assert_eq!(c["do_exit"], [0, 0, 1]);
        assert!(parse("k x\n").is_err());
        assert!(parse("# gt.version: 1\nbad\n").is_err());
    }

    #[test]
    fn the_window_ends_at_ftraces_last_event() {
        let r = rec("k a\nk b\nk a\nk b\nk c\n");
        assert_eq!(until(&r, "a", 2).entries.len(), 3);
        assert_eq!(until(&r, "z", 1).entries.len(), 5);
        let t = "# tracer\n min-38 [001] d.h.. 1.4: gic_handle_irq <-call_on_irq_stack\n";
        assert_eq!(last_function(&logged(t)).unwrap(), "gic_handle_irq");
        let sym_addr = " min-38 [001] d.h.. 1.4: gic_handle_irq <ffff80008001000c> <-call_on_irq_stack <ffff8000800148b0>\n";
        assert_eq!(last_function(&logged(sym_addr)).unwrap(), "gic_handle_irq");
    }

    #[test]
    fn the_pid_filter_drops_the_rest_of_a_switch_out() {
        // x86: ftrace records the first probe's spinlock calls, then its
        // pid filter follows the next task; the task runs on to the switch.
        let mut r = parse(
            "# gt.version: 2\nk __x64_sys_execve\nk __traceiter_sched_switch\nk lock\nk unlock\n\
             k probe\nk lock\nk unlock\nk enter_lazy_tlb\ns\nk finish_task_switch\nk lock\n\
             k __traceiter_sched_switch\nk lock\nk unlock\nk lock\ns\n",
        )
        .unwrap();
        assert_eq!(r.switches, [8, 14]);
        let trace = "# tracer: function\n\
            ftrace_it-40 [001] ..... 1.0: fork <-x\n\
            other-41 [000] ..... 1.0: __x64_sys_execve <-x\n\
            min-40 [001] ..... 1.1: __x64_sys_execve <-x\n\
            min-40 [001] d.... 1.2: __traceiter_sched_switch <-__schedule\n\
            min-40 [001] d.... 1.3: lock <-trace_pid_list_is_set\n\
            min-40 [001] d.... 1.4: unlock <-trace_pid_list_is_set\n\
            min-40 [000] d.... 2.0: finish_task_switch <-__schedule\n\
            min-40 [000] d.... 2.1: lock <-x\n\
            min-40 [000] d.... 2.2: __traceiter_sched_switch <-__schedule\n\
            min-40 [000] d.... 2.3: lock <-trace_pid_list_is_set\n";
        let an = logged(trace);
        let events = task_events(&an, 40);
        assert_eq!(events.len(), 8);
        assert_eq!(events[0], "__x64_sys_execve");
        // With sym-addr the same events.
        let with_addr = trace.replace(" <-", " <ffffffff81000004> <-");
        assert_eq!(task_events(&logged(&with_addr), 40), events);
        let mut traced = BTreeMap::new();
        for (f, n) in [
            ("__x64_sys_execve", 1),
            ("__traceiter_sched_switch", 2),
            ("lock", 3),
            ("unlock", 1),
            ("finish_task_switch", 1),
            ("enter_lazy_tlb", 0),
        ] {
            traced.insert(f.to_string(), n);
        }
        mark_dropped(&mut r, &events, &traced);
        // Not `probe` (never traced); the second lock pair and
        // enter_lazy_tlb, then the second switch-out's unlock and lock.
        assert_eq!(r.dropped, [5, 6, 7, 12, 13]);
        let w = until(&r, "lock", 3);
        assert_eq!(w.entries.len(), 12);
        assert_eq!(w.dropped, [5, 6, 7]);
        assert_eq!(w.switches, [8]);
    }

    #[test]
    fn shared_names_are_classified_per_candidate() {
        let one_class = combine(
            [
                "noinstr (.entry.text of a.o)",
                "noinstr (.noinstr.text of b.o)",
            ]
            .map(String::from)
            .into_iter(),
        );
        assert_eq!(
            one_class,
            "noinstr (each of the 2 functions of that name: .entry.text of a.o; .noinstr.text of b.o)"
        );
        let two = combine(
            [
                "assembly (a.o)",
                "file built without the ftrace hook (lib/b.o)",
            ]
            .map(String::from)
            .into_iter(),
        );
        assert_eq!(two.split(" (").next(), Some("ambiguous"));
        assert!(two.contains("assembly (a.o); file built without"), "{two}");
    }

    #[test]
    fn exactness_blind_spots_and_cost() {
        let gt =
            rec("u el0t_64_sync\nk do_el0_svc\nk ftrace_caller\nk do_el0_svc\nk ftrace_caller\n");
        let nt = rec("u el0t_64_sync\nk do_el0_svc\nk other\n");
        let mut ft = BTreeMap::new();
        ft.insert("do_el0_svc".to_string(), 2);
        let (text, exact) = report(&gt, &ft, Some("do_el0_svc"), Some(&nt), None);
        assert!(exact, "{text}");
        assert!(text.contains("blind\tel0t_64_sync\t1\t"));
        assert!(text.contains("cost\tftrace_caller\t2\t0\t+2\n"));
        assert!(text.contains("notrace-only\tother\t1\n"));
        ft.insert("do_el0_svc".to_string(), 3);
        ft.insert("ghost".to_string(), 1);
        let (text, exact) = report(&gt, &ft, None, None, None);
        assert!(!exact);
        assert!(text.contains("mismatch\tghost ftrace 1 ground truth 0\n"));
    }
}
