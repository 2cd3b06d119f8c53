//! `tailor`: the Rust steps of `scripts/tailor.sh` (see README.md, Tailor).
//!
//!   tailor required --needs FILE... --footprint LABEL=JSON... [--groundtruth LABEL=JSON]... [--drop SYMBOL]... [--added FILE]... --allconfig OUT --reasons OUT
//!   tailor check --reasons FILE --config .config [--log KCONFIG_LOG]
//!   tailor compare --start DIR --tailored DIR --id ID... --start-build DIR --tailored-build DIR [--add-back OUT]
//!   tailor objects --kernel-build DIR
//!   tailor bisect --allconfig FILE --start-config FILE --tailored-config FILE --try PROG --dir DIR --needs-out OUT
//!
//! `compare` reads `ID.footprint.json` and `ID.trace` of each run id in the
//! results directories of `vmrun` on the starting and the tailored kernel.
//!
//! `bisect` (see `tailor::bisect`) tries the required symbols of the
//! allconfig plus options of the starting config the tailored one lacks:
//! each step writes `DIR/step-N.allconfig` and runs `PROG ALLCONFIG
//! DIR/step-N`, which exits 0 when that kernel passed, 1 when it failed
//! (with a line on why in `DIR/step-N/note`), anything else to stop. The
//! options it needed go to OUT as `SYMBOL<TAB>reason` lines, each step to
//! `DIR/steps.txt`.
//!
//! Exit codes: 0 done, 1 the footprints differ by a function no removed
//! option explains (compare), or not even every candidate made the kernel
//! pass (bisect), 2 usage, 3 unreadable or invalid input, a step that
//! stopped.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use kernel_index::preproc::Definitions;
use kernel_index::{ConfigValues, KernelIndex};
use tailor::{Attribution, Evidence, Kernel, Required, Runs};
use trace_analysis::analyze::Analysis;
use trace_analysis::model::Selection;

const USAGE: &str = "usage: tailor required --needs FILE... --footprint LABEL=JSON... [--groundtruth LABEL=JSON]... [--drop SYMBOL]... [--added FILE]... --allconfig OUT --reasons OUT | check --reasons FILE --config FILE [--log FILE] | compare --start DIR --tailored DIR --id ID... --start-build DIR --tailored-build DIR [--add-back OUT] | objects --kernel-build DIR | bisect --allconfig FILE --start-config FILE --tailored-config FILE --try PROG --dir DIR --needs-out OUT";

enum Fail {
    Usage(String),
    Input(String),
    Differs,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Differs) => ExitCode::from(1),
        Err(Fail::Usage(m)) => {
            eprintln!("tailor: {m}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Fail::Input(m)) => {
            eprintln!("tailor: {m}");
            ExitCode::from(3)
        }
    }
}

/// `--key value` pairs after the subcommand; a key may repeat.
fn options<'a>(args: &'a [String], known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, Fail> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let key = k
            .strip_prefix("--")
            .filter(|k| known.contains(k))
            .ok_or_else(|| Fail::Usage(format!("unknown argument '{k}'")))?;
        let v = it
            .next()
            .ok_or_else(|| Fail::Usage(format!("--{key} needs a value")))?;
        out.push((key, v.as_str()));
    }
    Ok(out)
}

/// `--KEY LABEL=JSON`: the label and the path.
fn labelled<'a>(key: &str, spec: &'a str) -> Result<(&'a str, &'a str), Fail> {
    spec.split_once('=')
        .ok_or_else(|| Fail::Usage(format!("--{key} '{spec}': expected LABEL=JSON")))
}

fn one<'a>(opts: &[(&str, &'a str)], key: &str) -> Result<&'a str, Fail> {
    let mut v = opts.iter().filter(|(k, _)| *k == key).map(|(_, v)| *v);
    match (v.next(), v.next()) {
        (Some(x), None) => Ok(x),
        (None, _) => Err(Fail::Usage(format!("--{key} is required"))),
        _ => Err(Fail::Usage(format!("--{key} given twice"))),
    }
}

fn read(path: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path).map_err(|e| Fail::Input(format!("{path}: {e}")))
}

fn json(path: &str) -> Result<serde_json::Value, Fail> {
    serde_json::from_str(&read(path)?).map_err(|e| Fail::Input(format!("{path}: not JSON: {e}")))
}

fn write(path: &str, text: &str) -> Result<(), Fail> {
    std::fs::write(path, text).map_err(|e| Fail::Input(format!("{path}: {e}")))
}

fn input(path: &str) -> impl Fn(String) -> Fail + '_ {
    move |m| Fail::Input(format!("{path}: {m}"))
}

fn open_index(dir: &str) -> Result<KernelIndex, Fail> {
    kernel_index::KernelIndex::open(Path::new(dir), &kernel_index::Cache::InBuildTree)
        .map(|(index, _)| index)
        .map_err(|e| Fail::Input(format!("{dir}: {e}")))
}

fn linked_objects(index: &KernelIndex) -> BTreeSet<String> {
    index.objects().iter().map(|o| o.path.clone()).collect()
}

/// The runs of one kernel: footprints and call edges of each id's trace.
/// A footprint made on another kernel than `build` is refused.
fn read_runs(dir: &str, ids: &[&str], build: &KernelIndex) -> Result<Runs, Fail> {
    let mut runs = Runs::default();
    let mask = Selection::default_phases().mask;
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let tree = canonical(build.build_dir());
    for id in ids {
        let fp = format!("{dir}/{id}.footprint.json");
        let footprint = json(&fp)?;
        let made_on = footprint["kernel_build"]
            .as_str()
            .unwrap_or("no kernel_build");
        if canonical(Path::new(made_on)) != tree {
            return Err(Fail::Input(format!(
                "{fp}: a footprint of the kernel built in {made_on}, not of {}",
                tree.display()
            )));
        }
        runs.runs
            .push(tailor::functions(&footprint).map_err(input(&fp))?);
        let trace = format!("{dir}/{id}.trace");
        let file = std::fs::File::open(&trace).map_err(|e| Fail::Input(format!("{trace}: {e}")))?;
        let mut an = Analysis::new(None);
        an.read(file)
            .map_err(|e| Fail::Input(format!("{trace}: not a readable trace: {e:?}")))?;
        let acc = an
            .acc
            .as_ref()
            .ok_or_else(|| Fail::Input(format!("{trace}: no events of the traced program")))?;
        let name =
            |id: u32| tailor::base_name(&String::from_utf8_lossy(an.names.name(id))).to_string();
        for (key, e) in &acc.edges {
            let (caller, callee) = ((key >> 32) as u32, (*key & 0xffff_ffff) as u32);
            if e.mask() & mask == 0 || caller == trace_analysis::names::NONE {
                continue;
            }
            runs.callers
                .entry(name(callee))
                .or_default()
                .insert(name(caller));
        }
    }
    Ok(runs)
}

/// One kernel's build tree for the evidence.
struct Tree<'a> {
    index: &'a KernelIndex,
    defs: Definitions<'a>,
    linked: BTreeSet<String>,
}

/// (a) and (b) over both kernels' build trees.
struct Trees<'a> {
    start: Tree<'a>,
    tailored: Tree<'a>,
    /// Options whose value differs between the configs.
    changed: BTreeSet<String>,
    /// Files that could not be read, reported once the comparison is done.
    errors: Vec<String>,
}

fn value(values: &ConfigValues, sym: &str) -> String {
    values.get(sym).cloned().unwrap_or_else(|| "n".to_string())
}

impl<'a> Trees<'a> {
    fn new(start: &'a KernelIndex, tailored: &'a KernelIndex) -> Trees<'a> {
        let (a, b) = (start.config_values(), tailored.config_values());
        let changed = a
            .keys()
            .chain(b.keys())
            .filter(|s| value(a, s) != value(b, s))
            .cloned()
            .collect();
        let tree = |index: &'a KernelIndex| Tree {
            index,
            defs: Definitions::new(index),
            linked: linked_objects(index),
        };
        Trees {
            start: tree(start),
            tailored: tree(tailored),
            changed,
            errors: Vec::new(),
        }
    }
}

/// Whether `caller`'s code in the tree's vmlinux has a direct branch
/// (`bl`, `b`) to `callee` (or one of its clones), by objdump.
fn calls_in(
    index: &KernelIndex,
    caller: &kernel_index::TextSymbol,
    callee: &str,
) -> Result<bool, String> {
    let syms = index.symbols();
    let end = syms
        .iter()
        .map(|s| s.address)
        .find(|&a| a > caller.address)
        .ok_or_else(|| {
            format!(
                "{}: no symbol after {}",
                index.build_dir().display(),
                caller.name
            )
        })?;
    let vmlinux = index.build_dir().join("vmlinux");
    let out = std::process::Command::new("aarch64-linux-gnu-objdump")
        .args([
            "-d",
            "--no-show-raw-insn",
            &format!("--start-address={:#x}", caller.address),
            &format!("--stop-address={end:#x}"),
        ])
        .arg(&vmlinux)
        .output()
        .map_err(|e| format!("aarch64-linux-gnu-objdump: {e} (run `make deps`)"))?;
    if !out.status.success() {
        return Err(format!(
            "aarch64-linux-gnu-objdump {} failed: {}",
            vmlinux.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().any(|l| {
        let mut w = l.split_whitespace().skip(1);
        matches!(w.next(), Some("bl" | "b"))
            && w.nth(1)
                .and_then(|t| t.strip_prefix('<')?.strip_suffix('>'))
                .is_some_and(|t| tailor::base_name(t) == callee)
    }))
}

/// The tree of `kernel` and the other one.
fn split<'s, 'a>(
    start: &'s mut Tree<'a>,
    tailored: &'s mut Tree<'a>,
    kernel: Kernel,
) -> (&'s mut Tree<'a>, &'s mut Tree<'a>) {
    match kernel {
        Kernel::Start => (start, tailored),
        Kernel::Tailored => (tailored, start),
    }
}

impl Evidence for Trees<'_> {
    fn direct(
        &mut self,
        kernel: Kernel,
        function: &str,
        objects: &[String],
    ) -> Option<Attribution> {
        if objects.is_empty() {
            return None;
        }
        let changed = &self.changed;
        let (mine, other) = split(&mut self.start, &mut self.tailored, kernel);
        // (a) no object of it is linked in the other kernel.
        if objects.iter().all(|o| !other.linked.contains(o)) {
            let mut options = BTreeSet::new();
            let mut how = Vec::new();
            for o in objects {
                let cond = mine.index.build_condition(mine.index.object(o)?);
                options.extend(cond.symbols().into_iter().filter(|s| changed.contains(s)));
                how.push(format!("{o} (built when {cond})"));
            }
            return (!options.is_empty()).then(|| Attribution {
                options,
                rule: tailor::Rule::Object,
                how: format!(
                    "not linked in the {} kernel: {}",
                    kernel.other().name(),
                    how.join(", ")
                ),
            });
        }
        // Inlined: compiled there, but no symbol of that name.
        let (values, other_values) = (mine.index.config_values(), other.index.config_values());
        if matches!(other.index.lookup(function), kernel_index::Lookup::Unknown) {
            let mut there = Vec::new();
            for o in objects {
                let Some(object) = other.index.object(o) else {
                    continue;
                };
                match other.defs.sites(object, function) {
                    Ok(sites) => there.extend(
                        sites
                            .into_iter()
                            .filter(|s| s.compiled(other_values) == Some(true))
                            .map(|s| format!("{}:{}", s.file, s.line)),
                    ),
                    Err(e) => self.errors.push(e.to_string()),
                }
            }
            if !there.is_empty() {
                return Some(Attribution {
                    options: BTreeSet::new(),
                    rule: tailor::Rule::Inlined,
                    how: format!(
                        "inlined in the {} kernel: its definition ({}) is compiled there, no symbol has its name",
                        kernel.other().name(),
                        there.join(", ")
                    ),
                });
            }
        }
        // (b) every definition compiled here is not compiled there.
        let mut options = BTreeSet::new();
        let mut how = Vec::new();
        for o in objects {
            let object = mine.index.object(o)?;
            let sites = match mine.defs.sites(object, function) {
                Ok(s) => s,
                Err(e) => {
                    self.errors.push(e.to_string());
                    return None;
                }
            };
            let here: Vec<_> = sites
                .iter()
                .filter(|s| s.compiled(values) != Some(false))
                .collect();
            if here.is_empty() {
                return None;
            }
            for site in here {
                let off: Vec<_> = site
                    .frames
                    .iter()
                    .filter(|f| f.frame.cond.eval(other_values) == Some(false))
                    .collect();
                if off.is_empty() {
                    return None;
                }
                for f in off {
                    let syms: BTreeSet<String> = f
                        .frame
                        .cond
                        .symbols()
                        .into_iter()
                        .filter(|s| changed.contains(s))
                        .collect();
                    if syms.is_empty() {
                        return None;
                    }
                    options.extend(syms);
                    how.push(format!(
                        "{}:{} in {}:{} {}",
                        site.file, site.line, f.file, f.frame.line, f.frame.directive
                    ));
                }
            }
        }
        Some(Attribution {
            options,
            rule: tailor::Rule::Branch,
            how: format!(
                "not compiled in the {} kernel: {}",
                kernel.other().name(),
                how.join(", ")
            ),
        })
    }

    fn inlined_at(
        &mut self,
        kernel: Kernel,
        function: &str,
        callers: &BTreeSet<String>,
    ) -> Option<Attribution> {
        let (mine, other) = split(&mut self.start, &mut self.tailored, kernel);
        if callers.is_empty()
            || matches!(other.index.lookup(function), kernel_index::Lookup::Unknown)
        {
            return None;
        }
        // A direct call here, none there (an indirect call shows in neither).
        for p in callers {
            let (kernel_index::Lookup::Unique(here), kernel_index::Lookup::Unique(there)) =
                (mine.index.lookup(p), other.index.lookup(p))
            else {
                return None;
            };
            let calls = calls_in(mine.index, here.symbol, function)
                .and_then(|a| Ok((a, calls_in(other.index, there.symbol, function)?)));
            match calls {
                Ok((true, false)) => {}
                Ok(_) => return None,
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            }
        }
        Some(Attribution {
            options: BTreeSet::new(),
            rule: tailor::Rule::Inlined,
            how: format!(
                "inlined in the {} kernel: it has a symbol there, but its callers ({}), which branch to it here, do not there",
                kernel.other().name(),
                callers.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    fn calls(&mut self, kernel: Kernel, caller: &str, callee: &str) -> bool {
        let (mine, _) = split(&mut self.start, &mut self.tailored, kernel);
        let kernel_index::Lookup::Unique(f) = mine.index.lookup(caller) else {
            return false;
        };
        match calls_in(mine.index, f.symbol, callee) {
            Ok(yes) => yes,
            Err(e) => {
                self.errors.push(e);
                false
            }
        }
    }

    fn depends_on(
        &mut self,
        kernel: Kernel,
        function: &str,
        objects: &[String],
    ) -> BTreeSet<String> {
        let changed = &self.changed;
        let (mine, _) = split(&mut self.start, &mut self.tailored, kernel);
        let values = mine.index.config_values();
        let mut out = BTreeSet::new();
        for o in objects {
            let Some(object) = mine.index.object(o) else {
                continue;
            };
            match mine.defs.sites(object, function) {
                Ok(sites) => {
                    for s in sites.iter().filter(|s| s.compiled(values) != Some(false)) {
                        out.extend(
                            s.body_symbols
                                .iter()
                                .filter(|x| changed.contains(*x))
                                .cloned(),
                        );
                    }
                }
                Err(e) => self.errors.push(e.to_string()),
            }
        }
        out
    }
}

fn run(args: &[String]) -> Result<(), Fail> {
    let (cmd, rest) = args
        .split_first()
        .ok_or_else(|| Fail::Usage("no subcommand".into()))?;
    match cmd.as_str() {
        "required" => {
            let o = options(
                rest,
                &[
                    "needs",
                    "footprint",
                    "groundtruth",
                    "drop",
                    "added",
                    "allconfig",
                    "reasons",
                ],
            )?;
            let mut required = Required::new();
            if !o.iter().any(|(k, _)| *k == "needs") {
                return Err(Fail::Usage("--needs is required".into()));
            }
            for (_, needs) in o.iter().filter(|(k, _)| *k == "needs") {
                tailor::parse_reasons(&read(needs)?, "needs: ", &mut required)
                    .map_err(input(needs))?;
            }
            let mut runs = Vec::new();
            for (_, spec) in o.iter().filter(|(k, _)| *k == "footprint") {
                let (label, path) = labelled("footprint", spec)?;
                let mut r = Required::new();
                tailor::footprint_symbols(label, &json(path)?, &mut r).map_err(input(path))?;
                runs.push(r);
            }
            if runs.is_empty() {
                return Err(Fail::Usage("--footprint is required".into()));
            }
            let (every, some) = tailor::in_every(&runs);
            for (sym, reasons) in every {
                required.entry(sym).or_default().extend(reasons);
            }
            // The ground truth of one run is exact (every function in it
            // ran, ftrace's blind spots included): all its symbols count,
            // not only those every traced run has.
            for (_, spec) in o.iter().filter(|(k, _)| *k == "groundtruth") {
                let (label, path) = labelled("groundtruth", spec)?;
                tailor::footprint_symbols(label, &json(path)?, &mut required)
                    .map_err(input(path))?;
            }
            if !some.is_empty() {
                eprintln!(
                    "required: not taken, in some runs' footprints only: {}",
                    some.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            // --drop: a symbol taken away on purpose, to check that the
            // loop finds it again; --added: what the loop added back, never
            // dropped.
            for (_, sym) in o.iter().filter(|(k, _)| *k == "drop") {
                if required.remove(*sym).is_none() {
                    return Err(Fail::Usage(format!("--drop {sym}: not a required symbol")));
                }
                eprintln!("required: {sym} dropped (--drop)");
            }
            for (_, added) in o.iter().filter(|(k, _)| *k == "added") {
                tailor::parse_reasons(&read(added)?, "", &mut required).map_err(input(added))?;
            }
            write(one(&o, "allconfig")?, &tailor::allconfig(&required))?;
            write(one(&o, "reasons")?, &tailor::reasons(&required))?;
            println!("required: {} symbols", required.len());
        }
        "check" => {
            let o = options(rest, &["reasons", "config", "log"])?;
            let path = one(&o, "reasons")?;
            let mut required = Required::new();
            tailor::parse_reasons(&read(path)?, "", &mut required).map_err(input(path))?;
            let log = match o.iter().find(|(k, _)| *k == "log") {
                Some((_, p)) => read(p)?,
                None => String::new(),
            };
            let u = tailor::unhonoured(&required, &read(one(&o, "config")?)?, &log);
            println!(
                "check: Kconfig honoured {} of {} required symbols",
                required.len() - u.len(),
                required.len()
            );
            for x in u {
                println!("not honoured: CONFIG_{} = {}: {}", x.symbol, x.value, x.why);
            }
        }
        "compare" => {
            let o = options(
                rest,
                &[
                    "start",
                    "tailored",
                    "id",
                    "start-build",
                    "tailored-build",
                    "add-back",
                ],
            )?;
            let ids: Vec<&str> = o
                .iter()
                .filter(|(k, _)| *k == "id")
                .map(|(_, v)| *v)
                .collect();
            if ids.is_empty() {
                return Err(Fail::Usage("--id is required".into()));
            }
            let a = open_index(one(&o, "start-build")?)?;
            let b = open_index(one(&o, "tailored-build")?)?;
            let start = read_runs(one(&o, "start")?, &ids, &a)?;
            let tailored = read_runs(one(&o, "tailored")?, &ids, &b)?;
            let mut trees = Trees::new(&a, &b);
            let c = tailor::compare(&start, &tailored, &mut trees);
            if let Some(e) = trees.errors.first() {
                return Err(Fail::Input(e.clone()));
            }
            print!("{}", tailor::report(&c, &start, &tailored));
            if let Some((_, path)) = o.iter().find(|(k, _)| *k == "add-back") {
                write(path, &tailor::add_back(&c))?;
            }
            if !c.equal() {
                return Err(Fail::Differs);
            }
        }
        "objects" => {
            let o = options(rest, &["kernel-build"])?;
            println!(
                "{}",
                linked_objects(&open_index(one(&o, "kernel-build")?)?).len()
            );
        }
        "bisect" => bisect(&options(
            rest,
            &[
                "allconfig",
                "start-config",
                "tailored-config",
                "try",
                "dir",
                "needs-out",
            ],
        )?)?,
        other => return Err(Fail::Usage(format!("unknown subcommand '{other}'"))),
    }
    Ok(())
}

/// `tailor bisect`: the candidates are the `=y` symbols of the starting
/// config that the tailored one does not have as `y`, sorted.
fn bisect(o: &[(&str, &str)]) -> Result<(), Fail> {
    let values = |key| read(one(o, key)?).map(|t| tailor::config_values(&t));
    let (start, tailored) = (values("start-config")?, values("tailored-config")?);
    let candidates: Vec<String> = start
        .iter()
        .filter(|(s, v)| *v == "y" && tailored.get(*s).map(String::as_str) != Some("y"))
        .map(|(s, _)| s.clone())
        .collect();
    let path = one(o, "allconfig")?;
    let mut required = Required::new();
    for (n, line) in read(path)?.lines().enumerate() {
        let sym = line
            .strip_prefix("CONFIG_")
            .and_then(|l| l.strip_suffix("=y"))
            .ok_or_else(|| Fail::Input(format!("{path}: line {}: not CONFIG_X=y", n + 1)))?;
        required.insert(sym.to_string(), Vec::new());
    }
    let (prog, dir) = (one(o, "try")?, one(o, "dir")?);
    std::fs::create_dir_all(dir).map_err(|e| Fail::Input(format!("{dir}: {e}")))?;
    eprintln!(
        "bisect: {} candidates (=y in the starting config, not in the tailored one)",
        candidates.len()
    );
    let mut step = 0;
    let b = tailor::bisect::bisect(&candidates, &mut |options: &[String]| {
        step += 1;
        let mut r = required.clone();
        for opt in options {
            r.entry(opt.clone()).or_default();
        }
        let allconfig = format!("{dir}/step-{step}.allconfig");
        let out = format!("{dir}/step-{step}");
        write(&allconfig, &tailor::allconfig(&r))?;
        eprintln!("bisect: step {step}: {} options added", options.len());
        let status = std::process::Command::new(prog)
            .args([&allconfig, &out])
            .status()
            .map_err(|e| Fail::Input(format!("{prog}: {e}")))?;
        let note = std::fs::read_to_string(format!("{out}/note")).unwrap_or_default();
        let note = note.lines().next().unwrap_or("").trim().to_string();
        let passed = match status.code() {
            Some(0) => true,
            Some(1) => false,
            _ => {
                return Err(Fail::Input(format!(
                    "bisect: step {step}: {prog} {allconfig} {out}: {status}"
                )))
            }
        };
        eprintln!(
            "bisect: step {step}: {} ({note})",
            if passed { "passed" } else { "failed" }
        );
        Ok(tailor::bisect::Outcome { passed, note })
    })?;
    let steps: String = b
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "step {}: {}: {}: {}\n",
                i + 1,
                if s.outcome.passed { "passed" } else { "failed" },
                s.outcome.note,
                s.options.join(" ")
            )
        })
        .collect();
    write(&format!("{dir}/steps.txt"), &steps)?;
    write(one(o, "needs-out")?, &b.needs())?;
    if !b.all_passed {
        eprintln!("bisect: even with all {} candidates the kernel failed: no option of the starting config is enough", candidates.len());
        return Err(Fail::Differs);
    }
    eprintln!(
        "bisect: {} step(s), needed: {}",
        b.steps.len(),
        b.found
            .iter()
            .map(|f| f.option.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
