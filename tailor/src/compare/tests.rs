use super::*;

struct Table(
    BTreeMap<(Kernel, &'static str), Attribution>,
    BTreeMap<&'static str, &'static str>,
);

impl Evidence for Table {
    fn direct(&mut self, k: Kernel, f: &str, _: &[String]) -> Option<Attribution> {
        self.0
            .iter()
            .find(|((kk, n), _)| *kk == k && *n == f)
            .map(|(_, a)| a.clone())
    }
    fn inlined_at(&mut self, _: Kernel, _: &str, _: &BTreeSet<String>) -> Option<Attribution> {
        None
    }
    fn calls(&mut self, _: Kernel, _: &str, _: &str) -> bool {
        false
    }
    fn depends_on(&mut self, _: Kernel, f: &str, _: &[String]) -> BTreeSet<String> {
        self.1.get(f).map(|o| o.to_string()).into_iter().collect()
    }
}

fn runs(lists: &[&[&str]], edges: &[(&str, &str)]) -> Runs {
    let mut r = Runs::default();
    for l in lists {
        r.runs.push(
            l.iter()
                .map(|f| (f.to_string(), vec!["a.o".to_string()]))
                .collect(),
        );
    }
    for (caller, callee) in edges {
        r.callers
            .entry(callee.to_string())
            .or_default()
            .insert(caller.to_string());
    }
    r
}

fn attr(o: &str) -> Attribution {
    Attribution {
        options: [o.to_string()].into(),
        rule: Rule::Branch,
        how: format!("{o} branch"),
    }
}

#[test]
fn stable_varying_and_attributed_by_branch_and_callers() {
    // mmap calls shmem_area (under SHMEM) on the start kernel and
    // ramfs_area on the tailored one; ramfs_area calls filemap_x.
    let start = runs(
        &[
            &["mmap", "shmem_area", "tick", "refill"],
            &["mmap", "shmem_area", "tick"],
        ],
        &[("mmap", "shmem_area")],
    );
    let tailored = runs(
        &[
            &["mmap", "ramfs_area", "filemap_x", "tick", "lost", "exec_x"],
            &["mmap", "ramfs_area", "filemap_x", "lost", "exec_x", "abort"],
        ],
        &[
            ("mmap", "ramfs_area"),
            ("ramfs_area", "filemap_x"),
            ("do_exec", "exec_x"),
        ],
    );
    // mmap's body reads another changed option: the replacement wins.
    let mut ev = Table(
        [((Kernel::Start, "shmem_area"), attr("SHMEM"))].into(),
        [("mmap", "TRANSPARENT_HUGEPAGE")].into(),
    );
    let c = compare(&start, &tailored, &mut ev);
    assert_eq!((c.start_runs, c.tailored_runs, c.common), (2, 2, 2));
    let stable: Vec<(&str, Kernel, bool)> = c
        .stable
        .iter()
        .map(|r| (r.name.as_str(), r.kernel, r.attribution.is_some()))
        .collect();
    assert_eq!(
        stable,
        [
            ("shmem_area", Kernel::Start, true),
            ("exec_x", Kernel::Tailored, false),
            ("filemap_x", Kernel::Tailored, true),
            ("lost", Kernel::Tailored, false),
            ("ramfs_area", Kernel::Tailored, true),
        ]
    );
    let ramfs = &c.stable[4].attribution.as_ref().unwrap();
    assert_eq!(ramfs.options, ["SHMEM".to_string()].into());
    assert_eq!(
        ramfs.how,
        "called by mmap, which on the starting kernel calls shmem_area instead (CONFIG_SHMEM)"
    );
    assert_eq!(
        c.stable[2].attribution.as_ref().unwrap().how,
        "called by ramfs_area (CONFIG_SHMEM)"
    );
    let varying: Vec<(&str, usize)> = c
        .varying
        .iter()
        .map(|r| (r.name.as_str(), r.runs))
        .collect();
    assert_eq!(varying, [("refill", 1), ("abort", 1)]);
    assert!(!c.equal());
    assert_eq!(c.unexplained().count(), 2);
    let text = report(&c, &start, &tailored);
    assert!(text.starts_with("compare: 2 runs on the starting kernel, 2 on the tailored one; 2 functions on both; only on the starting kernel: 1 explained, 0 unexplained; only on the tailored one: 2 explained, 2 unexplained; varying: 0 explained, 2 noise\n"), "{text}");
    assert!(text.contains(
        "noise: starting kernel, 2 runs: 4, 3 functions; 4 in some run, 1 vary between its runs\n"
    ));
    assert!(text.contains("only-tailored: exec_x (2/2 runs): unexplained\n"));
    assert!(text.contains("varying-starting: refill (1/2 runs): noise\n"));
    assert_eq!(
        add_back(&c),
        "SHMEM\tadded back: without it the tailored kernel ran other code (filemap_x, ramfs_area) and 2 difference(s) stayed unexplained\n"
    );

    // A caller whose body reads a changed option explains its callee;
    // then only the function without callers is left.
    ev.1.insert("do_exec", "MEMBARRIER");
    let tailored2 = runs(
        &[&[
            "mmap",
            "ramfs_area",
            "filemap_x",
            "tick",
            "do_exec",
            "exec_x",
        ]],
        &[
            ("mmap", "ramfs_area"),
            ("ramfs_area", "filemap_x"),
            ("do_exec", "exec_x"),
        ],
    );
    let start2 = runs(
        &[&["mmap", "shmem_area", "tick", "do_exec"]],
        &[("mmap", "shmem_area")],
    );
    let c = compare(&start2, &tailored2, &mut ev);
    assert!(c.equal(), "{}", report(&c, &start2, &tailored2));
    assert_eq!(c.stable.len(), 4);
    assert_eq!(add_back(&c), "");
}

/// Inlined on the tailored kernel: `free_rcu` (no symbol there), so its
/// callee `call_rcu` is called by its host `node_store` there.
struct Inlining;

impl Evidence for Inlining {
    fn direct(&mut self, k: Kernel, f: &str, _: &[String]) -> Option<Attribution> {
        (k == Kernel::Start && f == "free_rcu").then(|| Attribution {
            options: BTreeSet::new(),
            rule: Rule::Inlined,
            how: "inlined".into(),
        })
    }
    fn inlined_at(&mut self, _: Kernel, _: &str, _: &BTreeSet<String>) -> Option<Attribution> {
        None
    }
    fn calls(&mut self, k: Kernel, caller: &str, callee: &str) -> bool {
        (k, caller, callee) == (Kernel::Start, "node_store", "free_rcu")
    }
    fn depends_on(&mut self, _: Kernel, _: &str, _: &[String]) -> BTreeSet<String> {
        BTreeSet::new()
    }
}

#[test]
fn the_host_of_an_inlined_function_is_explained_and_explains_nothing_below() {
    let start = runs(&[&["free_rcu", "call_rcu"]], &[("free_rcu", "call_rcu")]);
    let tailored = runs(
        &[&["node_store", "call_rcu", "other"]],
        &[("node_store", "call_rcu"), ("node_store", "other")],
    );
    let c = compare(&start, &tailored, &mut Inlining);
    // `other` was not free_rcu's callee: node_store is not explained, and
    // an inlined caller names no option for `other`.
    assert_eq!(c.unexplained().count(), 2);
    let tailored = runs(
        &[&["node_store", "call_rcu"]],
        &[("node_store", "call_rcu")],
    );
    let c = compare(&start, &tailored, &mut Inlining);
    assert!(c.equal(), "{}", report(&c, &start, &tailored));
    let host = c.stable.iter().find(|r| r.name == "node_store").unwrap();
    assert_eq!(host.attribution.as_ref().unwrap().rule, Rule::Inlined);
    assert!(host
        .attribution
        .as_ref()
        .unwrap()
        .how
        .starts_with("free_rcu is inlined into it"));
}

/// Direct branches in each kernel's vmlinux; nothing else explained.
struct Branches(BTreeSet<(Kernel, &'static str, &'static str)>);

impl Evidence for Branches {
    fn direct(&mut self, _: Kernel, _: &str, _: &[String]) -> Option<Attribution> {
        None
    }
    fn inlined_at(&mut self, _: Kernel, _: &str, _: &BTreeSet<String>) -> Option<Attribution> {
        None
    }
    fn calls(&mut self, k: Kernel, caller: &str, callee: &str) -> bool {
        self.0
            .iter()
            .any(|(kk, p, f)| *kk == k && *p == caller && *f == callee)
    }
    fn depends_on(&mut self, _: Kernel, _: &str, _: &[String]) -> BTreeSet<String> {
        BTreeSet::new()
    }
}

/// `_raw_spin_lock` calls `queued_spin_lock_slowpath` directly in both
/// kernels' code.
fn lock_branches() -> Branches {
    Branches(
        [Kernel::Start, Kernel::Tailored]
            .into_iter()
            .map(|k| (k, "_raw_spin_lock", "queued_spin_lock_slowpath"))
            .collect(),
    )
}

fn slowpath_row(c: &Comparison) -> &Row {
    c.stable
        .iter()
        .chain(&c.varying)
        .find(|r| r.name == "queued_spin_lock_slowpath")
        .expect("a row")
}

#[test]
fn a_contended_locks_slow_path_is_runtime_state_by_its_evidence() {
    // The run: the slow path in 3 of 3 runs on the tailored kernel,
    // in none on the starting one; its fast path ran on both.
    let start = runs(
        &[&["do_mmap", "_raw_spin_lock"] as &[&str]; 3],
        &[("do_mmap", "_raw_spin_lock")],
    );
    let slow: &[&str] = &["do_mmap", "_raw_spin_lock", "queued_spin_lock_slowpath"];
    let tailored = runs(
        &[slow; 3],
        &[
            ("do_mmap", "_raw_spin_lock"),
            ("_raw_spin_lock", "queued_spin_lock_slowpath"),
        ],
    );
    let c = compare(&start, &tailored, &mut lock_branches());
    let row = slowpath_row(&c);
    assert_eq!(row.runs, 3);
    let a = row.attribution.as_ref().expect("explained");
    assert_eq!(a.rule, Rule::Timing);
    assert!(a.options.is_empty(), "no option to add back");
    assert!(a.how.contains("_raw_spin_lock"), "{}", a.how);
    assert!(c.equal());
    assert_eq!(add_back(&c), "");
    assert!(report(&c, &start, &tailored).contains(
        "only-tailored: queued_spin_lock_slowpath (3/3 runs): runtime state, not config"
    ));
}

#[test]
fn not_runtime_state_without_all_of_its_evidence() {
    let slow: &[&str] = &["do_mmap", "_raw_spin_lock", "queued_spin_lock_slowpath"];
    let tailored = runs(
        &[slow; 2],
        &[
            ("do_mmap", "_raw_spin_lock"),
            ("_raw_spin_lock", "queued_spin_lock_slowpath"),
        ],
    );
    // The fast path did not run in every run of the other kernel.
    let start = runs(&[&["do_mmap", "_raw_spin_lock"], &["do_mmap"]], &[]);
    let c = compare(&start, &tailored, &mut lock_branches());
    assert!(slowpath_row(&c).attribution.is_none());

    let start = runs(&[&["do_mmap", "_raw_spin_lock"] as &[&str]; 2], &[]);
    // No direct branch to it on the starting kernel: that code is not the
    // same there.
    let mut only_here = Branches(
        [(
            Kernel::Tailored,
            "_raw_spin_lock",
            "queued_spin_lock_slowpath",
        )]
        .into(),
    );
    let c = compare(&start, &tailored, &mut only_here);
    assert!(slowpath_row(&c).attribution.is_none());

    // It calls a function of the tailored kernel only: other code hangs
    // below it.
    let below: &[&str] = &[
        "do_mmap",
        "_raw_spin_lock",
        "queued_spin_lock_slowpath",
        "ramfs_thing",
    ];
    let deeper = runs(
        &[below; 2],
        &[
            ("do_mmap", "_raw_spin_lock"),
            ("_raw_spin_lock", "queued_spin_lock_slowpath"),
            ("queued_spin_lock_slowpath", "ramfs_thing"),
        ],
    );
    let c = compare(&start, &deeper, &mut lock_branches());
    assert!(slowpath_row(&c).attribution.is_none());
}

#[test]
fn a_fault_path_of_another_config_is_not_runtime_state() {
    // do_read_fault ran on both kernels; on the tailored one it called
    // __do_fault (unexplained, one kernel only) and finish_fault: its work
    // differs, so finish_fault is not put down to timing though it is
    // branched to in both kernels.
    let start = runs(&[&["handle_mm_fault", "do_read_fault"] as &[&str]; 2], &[]);
    let fault: &[&str] = &[
        "handle_mm_fault",
        "do_read_fault",
        "__do_fault",
        "finish_fault",
    ];
    let tailored = runs(
        &[fault; 2],
        &[
            ("handle_mm_fault", "do_read_fault"),
            ("do_read_fault", "__do_fault"),
            ("do_read_fault", "finish_fault"),
        ],
    );
    let mut both = Branches(
        [Kernel::Start, Kernel::Tailored]
            .into_iter()
            .flat_map(|k| {
                [
                    (k, "do_read_fault", "__do_fault"),
                    (k, "do_read_fault", "finish_fault"),
                ]
            })
            .collect(),
    );
    let c = compare(&start, &tailored, &mut both);
    let unexplained: Vec<&str> = c.unexplained().map(|r| r.name.as_str()).collect();
    assert_eq!(unexplained, ["__do_fault", "finish_fault"]);
}
