//! The tailoring steps that are not shell: which Kconfig symbols are
//! required and why, which of them Kconfig honoured, and how the footprint
//! on the tailored kernel differs from the one on the starting kernel.

pub mod bisect;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Required symbols (without `CONFIG_`) and every reason for each.
pub type Required = BTreeMap<String, Vec<String>>;

/// `SYMBOL<TAB>reason` lines (the needs file, the reasons file `required`
/// writes); `#` comments and blank lines skipped. `prefix` starts each reason.
pub fn parse_reasons(text: &str, prefix: &str, required: &mut Required) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (sym, why) = line
            .split_once('\t')
            .filter(|(s, w)| valid_symbol(s) && !w.trim().is_empty())
            .ok_or_else(|| format!("line {}: expected SYMBOL<TAB>reason", n + 1))?;
        required
            .entry(sym.to_string())
            .or_default()
            .push(format!("{prefix}{why}"));
    }
    Ok(())
}

fn valid_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The `=y` build symbols of a `ftrace_report footprint --json` object:
/// the symbols without which an object the program ran is not built.
pub fn footprint_symbols(
    label: &str,
    footprint: &Value,
    required: &mut Required,
) -> Result<(), String> {
    let symbols = footprint["build_symbols"]
        .as_array()
        .ok_or("no build_symbols: not a `ftrace_report footprint --json` output")?;
    for s in symbols {
        let name = s["symbol"].as_str().ok_or("build symbol without a name")?;
        if s["value"].as_str() != Some("y") {
            continue;
        }
        let sym = name.strip_prefix("CONFIG_").unwrap_or(name);
        // A symbol without a prompt is only set by `select` or a default:
        // the allconfig line alone does not set it.
        let prompt = match s["prompt"].as_str() {
            Some(p) => format!("\"{p}\""),
            None => "no prompt".to_string(),
        };
        required.entry(sym.to_string()).or_default().push(format!(
            "{label}: builds {} object(s) with {} function(s) the program ran ({prompt})",
            s["objects"], s["functions"]
        ));
    }
    Ok(())
}

/// The symbols of every run's footprint, with all their reasons, and those
/// of some runs only (run-to-run noise: not required).
pub fn in_every(runs: &[Required]) -> (Required, BTreeSet<String>) {
    let mut every = Required::new();
    let mut some = BTreeSet::new();
    for r in runs {
        for (sym, reasons) in r {
            if runs.iter().all(|o| o.contains_key(sym)) {
                every
                    .entry(sym.clone())
                    .or_default()
                    .extend(reasons.iter().cloned());
            } else {
                some.insert(sym.clone());
            }
        }
    }
    (every, some)
}

/// The reasons file: `SYMBOL<TAB>reason`, a line a reason.
pub fn reasons(required: &Required) -> String {
    required
        .iter()
        .flat_map(|(s, rs)| rs.iter().map(move |r| format!("{s}\t{r}\n")))
        .collect()
}

/// The `KCONFIG_ALLCONFIG` file: one `CONFIG_X=y` line a symbol, sorted.
pub fn allconfig(required: &Required) -> String {
    required.keys().map(|s| format!("CONFIG_{s}=y\n")).collect()
}

/// `.config` values by symbol (without `CONFIG_`); `# ... is not set` is `n`.
pub fn config_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("# CONFIG_") {
                let sym = rest.strip_suffix(" is not set")?;
                return Some((sym.to_string(), "n".to_string()));
            }
            let (k, v) = l.strip_prefix("CONFIG_")?.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// A required symbol that the configuration does not have as `y`, with
/// Kconfig's own words about it where its log has any.
#[derive(Debug, PartialEq)]
pub struct Unhonoured {
    pub symbol: String,
    pub value: String,
    pub why: String,
}

pub fn unhonoured(required: &Required, config: &str, kconfig_log: &str) -> Vec<Unhonoured> {
    let values = config_values(config);
    required
        .iter()
        .filter_map(|(sym, reasons)| {
            let value = values.get(sym).cloned().unwrap_or_else(|| "absent".into());
            if value == "y" {
                return None;
            }
            let needle = format!("CONFIG_{sym}");
            let log: Vec<&str> = kconfig_log
                .lines()
                .filter(|l| {
                    l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .any(|w| w == sym || w == needle)
                })
                .map(str::trim)
                .collect();
            let why = if !log.is_empty() {
                log.join(" | ")
            } else if reasons.iter().any(|r| r.ends_with("(no prompt)")) {
                "no prompt: only a select or default sets it, and none applies".into()
            } else {
                "its dependencies are not met in this configuration".into()
            };
            Some(Unhonoured {
                symbol: sym.clone(),
                value,
                why,
            })
        })
        .collect()
}

/// A function's name without the suffixes of gcc's clones (`.constprop.0`,
/// `.isra.0`, `.part.0`): a different config changes which clones gcc makes,
/// not which code runs.
pub fn base_name(name: &str) -> &str {
    let mut n = name;
    while let Some((head, tail)) = n.rsplit_once('.') {
        let (kind, num) = match head.rsplit_once('.') {
            Some((h, k)) if tail.bytes().all(|b| b.is_ascii_digit()) => ((h, k), tail),
            _ => break,
        };
        if !["constprop", "isra", "part", "cold"].contains(&kind.1) || num.is_empty() {
            break;
        }
        n = kind.0;
    }
    n
}

/// The function names of a footprint (clone suffixes removed) with their
/// objects.
pub fn functions(footprint: &Value) -> Result<BTreeMap<String, Vec<String>>, String> {
    let fs = footprint["functions"]
        .as_array()
        .ok_or("no functions: not a `ftrace_report footprint --json` output")?;
    let mut out = BTreeMap::new();
    for f in fs {
        let name = f["name"].as_str().ok_or("function without a name")?;
        let objects = f["objects"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(base_name(name).to_string(), objects);
    }
    Ok(out)
}

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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn needs_lines_and_errors() {
        let mut r = Required::new();
        parse_reasons("# c\n\nTTY\tthe console\n", "needs: ", &mut r).unwrap();
        assert_eq!(r["TTY"], ["needs: the console"]);
        assert_eq!(
            parse_reasons("tty\tlower case\n", "needs: ", &mut r).unwrap_err(),
            "line 1: expected SYMBOL<TAB>reason"
        );
        assert!(parse_reasons("TTY\n", "needs: ", &mut r).is_err());
    }

    #[test]
    fn footprint_symbols_take_y_only_and_merge_reasons() {
        let fp = json!({"build_symbols": [
            {"symbol": "CONFIG_MMU", "prompt": null, "value": "y", "objects": 9, "functions": 83},
            {"symbol": "CONFIG_TTY", "prompt": "Enable TTY", "value": "y", "objects": 1, "functions": 1},
            {"symbol": "CONFIG_X", "prompt": null, "value": "m", "objects": 1, "functions": 1}]});
        let mut r = Required::new();
        parse_reasons("TTY\tthe console\n", "needs: ", &mut r).unwrap();
        footprint_symbols("min", &fp, &mut r).unwrap();
        assert_eq!(allconfig(&r), "CONFIG_MMU=y\nCONFIG_TTY=y\n");
        assert_eq!(r["TTY"].len(), 2);
        assert!(r["MMU"][0].ends_with("(no prompt)"));
        assert!(footprint_symbols("x", &json!({}), &mut r).is_err());
    }

    #[test]
    fn symbols_of_every_run_only() {
        let mut a = Required::new();
        let mut b = Required::new();
        parse_reasons("MMU\tmin.1\nVDSO\tmin.1\n", "", &mut a).unwrap();
        parse_reasons("MMU\tmin.2\n", "", &mut b).unwrap();
        let (every, some) = in_every(&[a, b]);
        assert_eq!(every["MMU"], ["min.1", "min.2"]);
        assert_eq!(every.len(), 1);
        assert_eq!(some, ["VDSO".to_string()].into());
    }

    #[test]
    fn unhonoured_symbols_with_kconfig_words() {
        let mut r = Required::new();
        parse_reasons("A\ta\nB\tb\nC\tc\n", "needs: ", &mut r).unwrap();
        r.insert("D".into(), vec!["fp: x (no prompt)".into()]);
        let config = "CONFIG_A=y\n# CONFIG_B is not set\n";
        let log = "WARNING: unmet direct dependencies detected for B\n  Depends on [n]: Z [=n]\nCONFIG_AB mentioned\n";
        let u = unhonoured(&r, config, log);
        assert_eq!(u.len(), 3);
        assert_eq!(u[0].symbol, "B");
        assert_eq!(u[0].value, "n");
        assert_eq!(
            u[0].why,
            "WARNING: unmet direct dependencies detected for B"
        );
        assert_eq!(
            u[1].why,
            "its dependencies are not met in this configuration"
        );
        assert_eq!(u[2].value, "absent");
        assert!(u[2].why.starts_with("no prompt"));
    }

    #[test]
    fn clone_suffixes_go() {
        assert_eq!(
            base_name("shmem_get_folio_gfp.constprop.0.isra.0"),
            "shmem_get_folio_gfp"
        );
        assert_eq!(base_name("__queue_work.part.0"), "__queue_work");
        assert_eq!(base_name("a.b"), "a.b");
        assert_eq!(base_name("x.constprop"), "x.constprop");
    }

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
        assert!(text.contains("noise: starting kernel, 2 runs: 4, 3 functions; 4 in some run, 1 vary between its runs\n"));
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
}
