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
