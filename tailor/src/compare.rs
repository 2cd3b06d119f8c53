//! The footprints of the payload's runs on two kernels compared: noise
//! apart, every function that ran on one kernel only attributed to the
//! options whose values differ, by the rules of tailor/README.md.

use std::collections::{BTreeMap, BTreeSet};

/// Which kernel a run was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kernel {
    Start,
    Tailored,
}

impl Kernel {
    pub fn other(self) -> Kernel {
        match self {
            Kernel::Start => Kernel::Tailored,
            Kernel::Tailored => Kernel::Start,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Start => "starting",
            Kernel::Tailored => "tailored",
        }
    }
}

/// The runs of the payload on one kernel: each run's functions (clone
/// suffixes removed) with their objects, and who called whom in any run.
#[derive(Debug, Default, Clone)]
pub struct Runs {
    pub runs: Vec<BTreeMap<String, Vec<String>>>,
    /// callee -> callers, over all runs.
    pub callers: BTreeMap<String, BTreeSet<String>>,
}

impl Runs {
    /// In how many runs the function ran.
    pub fn count(&self, name: &str) -> usize {
        self.runs.iter().filter(|r| r.contains_key(name)).count()
    }

    pub fn objects(&self, name: &str) -> &[String] {
        self.runs
            .iter()
            .find_map(|r| r.get(name))
            .map_or(&[], Vec::as_slice)
    }

    fn callees(&self, caller: &str) -> BTreeSet<&str> {
        self.callers
            .iter()
            .filter(|(_, cs)| cs.contains(caller))
            .map(|(f, _)| f.as_str())
            .collect()
    }

    /// Functions in some run but not in all: this kernel's own noise.
    pub fn varying(&self) -> BTreeSet<&str> {
        let all: BTreeSet<&str> = self
            .runs
            .iter()
            .flat_map(|r| r.keys().map(String::as_str))
            .collect();
        all.into_iter()
            .filter(|f| self.count(f) < self.runs.len())
            .collect()
    }

    pub fn union_len(&self) -> usize {
        self.runs
            .iter()
            .flat_map(|r| r.keys())
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// How a function was attributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// (a) its object is not linked in the other kernel.
    Object,
    /// (b) its definition is not compiled in the other kernel.
    Branch,
    /// Compiled in the other kernel but not a function of its own there
    /// (no symbol): the compiler inlined it. No option is named.
    Inlined,
    /// (c) its callers.
    Callers,
    /// A path both kernels have, taken or not by the runtime state (a
    /// contended lock's slow path): no option is named ([`runtime_path`]).
    Timing,
}

/// Why a function ran on one kernel only: the options (without
/// `CONFIG_`) whose values differ between the two configs, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub options: BTreeSet<String>,
    pub rule: Rule,
    pub how: String,
}

/// What the build trees say about a function (implemented over both
/// kernels' indexes by the command; by a table in the tests).
pub trait Evidence {
    /// (a) its object is not linked in the other kernel, or (b) its
    /// definition sits in a branch compiled in `kernel` only: the options
    /// that decide it.
    fn direct(&mut self, kernel: Kernel, function: &str, objects: &[String])
        -> Option<Attribution>;
    /// Inlined at its call sites in the other kernel: every caller it had
    /// on `kernel` is a function of the other kernel too, and none of them
    /// calls it there.
    fn inlined_at(
        &mut self,
        kernel: Kernel,
        function: &str,
        callers: &BTreeSet<String>,
    ) -> Option<Attribution>;
    /// Whether `caller` has a direct call to `callee` in `kernel`'s vmlinux.
    fn calls(&mut self, kernel: Kernel, caller: &str, callee: &str) -> bool;
    /// The changed options the body of `function` (as built in `kernel`)
    /// mentions: its behaviour depends on them.
    fn depends_on(
        &mut self,
        kernel: Kernel,
        function: &str,
        objects: &[String],
    ) -> BTreeSet<String>;
}

/// A function that ran on one kernel only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub kernel: Kernel,
    /// Runs it ran in, on its kernel.
    pub runs: usize,
    pub attribution: Option<Attribution>,
}

/// The footprints of the payload's runs on the tailored kernel against
/// those on the starting kernel.
#[derive(Debug, Default)]
pub struct Comparison {
    pub start_runs: usize,
    pub tailored_runs: usize,
    /// Ran on both kernels (in at least one run of each).
    pub common: usize,
    /// Ran in every run of one kernel and in none of the other.
    pub stable: Vec<Row>,
    /// Ran in some runs of one kernel and in none of the other.
    pub varying: Vec<Row>,
}

impl Comparison {
    /// Stable differences no removed option explains.
    pub fn unexplained(&self) -> impl Iterator<Item = &Row> {
        self.stable.iter().filter(|r| r.attribution.is_none())
    }

    /// Equal apart from functions of removed options and noise.
    pub fn equal(&self) -> bool {
        self.unexplained().next().is_none()
    }
}

fn join(options: &BTreeSet<String>) -> String {
    options
        .iter()
        .map(|o| format!("CONFIG_{o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// (c): a function none of (a)/(b) explains is explained when every caller
/// it had on its kernel is: a function of that kernel only that is itself
/// explained, or a function of both kernels that on the other kernel
/// called instead functions of that kernel only, all explained (the option
/// replaced the callee), or, when it called none there, one whose body
/// reads a changed option.
fn by_callers(
    row: &Row,
    runs: [&Runs; 2],
    explained: &BTreeMap<(Kernel, String), Attribution>,
    only: &BTreeMap<(Kernel, String), ()>,
    evidence: &mut dyn Evidence,
) -> Option<Attribution> {
    let (mine, other) = match row.kernel {
        Kernel::Start => (runs[0], runs[1]),
        Kernel::Tailored => (runs[1], runs[0]),
    };
    let callers = mine.callers.get(&row.name)?;
    let mut options = BTreeSet::new();
    let mut how = Vec::new();
    for p in callers {
        if let Some(a) = explained.get(&(row.kernel, p.clone())) {
            // An inlined caller names no option: it explains nothing below.
            if a.options.is_empty() {
                return None;
            }
            options.extend(a.options.iter().cloned());
            how.push(format!("{p} ({})", join(&a.options)));
            continue;
        }
        if only.contains_key(&(row.kernel, p.clone())) || other.count(p) == 0 {
            return None;
        }
        let instead: Vec<&str> = other
            .callees(p)
            .into_iter()
            .filter(|g| only.contains_key(&(row.kernel.other(), g.to_string())))
            .collect();
        if !instead.is_empty() {
            let mut replaced = BTreeSet::new();
            for g in &instead {
                replaced.extend(
                    explained
                        .get(&(row.kernel.other(), g.to_string()))?
                        .options
                        .iter()
                        .cloned(),
                );
            }
            how.push(format!(
                "{p}, which on the {} kernel calls {} instead ({})",
                row.kernel.other().name(),
                instead.join(", "),
                join(&replaced)
            ));
            options.extend(replaced);
            continue;
        }
        let deps = evidence.depends_on(row.kernel, p, mine.objects(p));
        if deps.is_empty() {
            return None;
        }
        how.push(format!("{p}, whose body reads {}", join(&deps)));
        options.extend(deps);
    }
    Some(Attribution {
        options,
        rule: Rule::Callers,
        how: format!("called by {}", how.join("; ")),
    })
}

/// A function that ran on one kernel only because a callee of it is
/// inlined into it there: on the other kernel it calls `g` (a direct
/// branch), `g` is attributed as inlined on this kernel, and every callee
/// it had here was called by `g` there.
fn host_of_inlined(
    row: &Row,
    runs: [&Runs; 2],
    explained: &BTreeMap<(Kernel, String), Attribution>,
    evidence: &mut dyn Evidence,
) -> Option<Attribution> {
    let (mine, other) = match row.kernel {
        Kernel::Start => (runs[0], runs[1]),
        Kernel::Tailored => (runs[1], runs[0]),
    };
    let callees = mine.callees(&row.name);
    if callees.is_empty() {
        return None;
    }
    let inlined: Vec<&str> = explained
        .iter()
        .filter(|((k, _), a)| *k == row.kernel.other() && a.rule == Rule::Inlined)
        .map(|((_, g), _)| g.as_str())
        .filter(|g| {
            callees
                .iter()
                .all(|c| other.callers.get(*c).is_some_and(|cs| cs.contains(*g)))
        })
        .collect();
    let g = inlined
        .into_iter()
        .find(|g| evidence.calls(row.kernel.other(), &row.name, g))?;
    Some(Attribution {
        options: BTreeSet::new(),
        rule: Rule::Inlined,
        how: format!(
            "{g} is inlined into it in the {} kernel: on the {} kernel it calls {g}, which calls {}",
            row.kernel.name(),
            row.kernel.other().name(),
            callees.into_iter().collect::<Vec<_>>().join(", ")
        ),
    })
}

/// The rule for a function that ran on one kernel only by the runtime
/// state, not by the config, such as a contended lock's slow path
/// (`queued_spin_lock_slowpath` under `_raw_spin_lock`): the code that
/// could run it is the same on both kernels, only whether it was taken
/// differs. Its evidence, all of which must hold:
///
/// - it was called on its kernel, and every caller (the fast path: the
///   lock's `_raw_spin_lock`) ran in every run on the other kernel too;
/// - each caller branches to it directly in both kernels' vmlinux (so the
///   other kernel has it and could take the same call: no option removed
///   the path, and no pointer chose another callee);
/// - apart from it, the callers called nothing that ran on one kernel only
///   and was not explained (they did the same work on both kernels), and
///   it called nothing that ran on one kernel only (no other code hangs
///   below it).
///
/// No option is named: adding one back would not change what runs.
pub fn runtime_path(
    row: &Row,
    runs: [&Runs; 2],
    only: &BTreeMap<(Kernel, String), ()>,
    explained: &BTreeSet<(Kernel, String)>,
    evidence: &mut dyn Evidence,
) -> Option<Attribution> {
    let (mine, other) = match row.kernel {
        Kernel::Start => (runs[0], runs[1]),
        Kernel::Tailored => (runs[1], runs[0]),
    };
    let callers = mine.callers.get(&row.name).filter(|c| !c.is_empty())?;
    let here_only = |f: &str| only.contains_key(&(row.kernel, f.to_string()));
    if mine.callees(&row.name).into_iter().any(here_only) {
        return None;
    }
    for p in callers {
        if other.runs.is_empty() || other.count(p) < other.runs.len() {
            return None;
        }
        let unexplained_callee = mine.callees(p).into_iter().any(|g| {
            g != row.name && here_only(g) && !explained.contains(&(row.kernel, g.to_string()))
        });
        if unexplained_callee
            || !evidence.calls(row.kernel, p, &row.name)
            || !evidence.calls(row.kernel.other(), p, &row.name)
        {
            return None;
        }
    }
    let callers: Vec<&str> = callers.iter().map(String::as_str).collect();
    Some(Attribution {
        options: BTreeSet::new(),
        rule: Rule::Timing,
        how: format!(
            "runtime state, not config: its callers ({}) ran in every run on both kernels and branch to it directly in both, and it calls nothing of one kernel only",
            callers.join(", ")
        ),
    })
}

/// Compares the runs on the two kernels. A function counts as a stable
/// difference when it ran in every run of one kernel and in none of the
/// other; in some runs only, it varies (noise unless attributed).
pub fn compare(start: &Runs, tailored: &Runs, evidence: &mut dyn Evidence) -> Comparison {
    let mut c = Comparison {
        start_runs: start.runs.len(),
        tailored_runs: tailored.runs.len(),
        ..Comparison::default()
    };
    let mut rows = Vec::new();
    for (kernel, mine, other) in [
        (Kernel::Start, start, tailored),
        (Kernel::Tailored, tailored, start),
    ] {
        let names: BTreeSet<&String> = mine.runs.iter().flat_map(|r| r.keys()).collect();
        for name in names {
            if other.count(name) > 0 {
                if kernel == Kernel::Start {
                    c.common += 1;
                }
                continue;
            }
            let attribution = evidence
                .direct(kernel, name, mine.objects(name))
                .or_else(|| evidence.inlined_at(kernel, name, mine.callers.get(name)?));
            rows.push(Row {
                name: name.clone(),
                kernel,
                runs: mine.count(name),
                attribution,
            });
        }
    }
    let only: BTreeMap<(Kernel, String), ()> = rows
        .iter()
        .map(|r| ((r.kernel, r.name.clone()), ()))
        .collect();
    loop {
        let explained: BTreeMap<(Kernel, String), Attribution> = rows
            .iter()
            .filter_map(|r| Some(((r.kernel, r.name.clone()), r.attribution.clone()?)))
            .collect();
        let mut changed = false;
        for r in rows.iter_mut().filter(|r| r.attribution.is_none()) {
            r.attribution = by_callers(r, [start, tailored], &explained, &only, evidence)
                .or_else(|| host_of_inlined(r, [start, tailored], &explained, evidence));
            changed |= r.attribution.is_some();
        }
        if !changed {
            break;
        }
    }
    let explained: BTreeSet<(Kernel, String)> = rows
        .iter()
        .filter(|r| r.attribution.is_some())
        .map(|r| (r.kernel, r.name.clone()))
        .collect();
    for r in rows.iter_mut().filter(|r| r.attribution.is_none()) {
        r.attribution = runtime_path(r, [start, tailored], &only, &explained, evidence);
    }
    for r in rows {
        let all = match r.kernel {
            Kernel::Start => c.start_runs,
            Kernel::Tailored => c.tailored_runs,
        };
        if r.runs == all {
            c.stable.push(r);
        } else {
            c.varying.push(r);
        }
    }
    c
}

/// When a stable difference is unexplained: the options that changed
/// which other code ran (those of (c) attributions), as `SYMBOL<TAB>reason`
/// lines for `tailor required --needs`: adding them back is the one step
/// the loop takes before it gives up.
pub fn add_back(c: &Comparison) -> String {
    if c.equal() {
        return String::new();
    }
    let mut why: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in c.stable.iter() {
        if let Some(a) = r.attribution.as_ref().filter(|a| a.rule == Rule::Callers) {
            for o in &a.options {
                why.entry(o).or_default().push(&r.name);
            }
        }
    }
    why.iter()
        .map(|(o, fs)| {
            format!(
                "{o}\tadded back: without it the tailored kernel ran other code ({}) and {} difference(s) stayed unexplained\n",
                fs.join(", "),
                c.unexplained().count()
            )
        })
        .collect()
}

/// The comparison in words: a summary line first, then the noise of each
/// kernel, then one line per function that ran on one kernel only.
pub fn report(c: &Comparison, start: &Runs, tailored: &Runs) -> String {
    let count = |k: Kernel, stable: bool, attributed: bool| {
        let rows = if stable { &c.stable } else { &c.varying };
        rows.iter()
            .filter(|r| r.kernel == k && r.attribution.is_some() == attributed)
            .count()
    };
    let mut out = format!(
        "compare: {} runs on the starting kernel, {} on the tailored one; {} functions on both; only on the starting kernel: {} explained, {} unexplained; only on the tailored one: {} explained, {} unexplained; varying: {} explained, {} noise\n",
        c.start_runs,
        c.tailored_runs,
        c.common,
        count(Kernel::Start, true, true),
        count(Kernel::Start, true, false),
        count(Kernel::Tailored, true, true),
        count(Kernel::Tailored, true, false),
        count(Kernel::Start, false, true) + count(Kernel::Tailored, false, true),
        count(Kernel::Start, false, false) + count(Kernel::Tailored, false, false),
    );
    for (k, runs) in [(Kernel::Start, start), (Kernel::Tailored, tailored)] {
        let sizes: Vec<String> = runs.runs.iter().map(|r| r.len().to_string()).collect();
        out.push_str(&format!(
            "noise: {} kernel, {} runs: {} functions; {} in some run, {} vary between its runs\n",
            k.name(),
            runs.runs.len(),
            sizes.join(", "),
            runs.union_len(),
            runs.varying().len(),
        ));
    }
    let total = |k: Kernel| match k {
        Kernel::Start => c.start_runs,
        Kernel::Tailored => c.tailored_runs,
    };
    for (label, rows) in [("only", &c.stable), ("varying", &c.varying)] {
        for r in rows {
            let what = match &r.attribution {
                Some(a) if a.options.is_empty() => a.how.clone(),
                Some(a) => format!("{}: {}", join(&a.options), a.how),
                None if label == "only" => "unexplained".to_string(),
                None => "noise".to_string(),
            };
            out.push_str(&format!(
                "{label}-{}: {} ({}/{} runs): {what}\n",
                r.kernel.name(),
                r.name,
                r.runs,
                total(r.kernel)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
