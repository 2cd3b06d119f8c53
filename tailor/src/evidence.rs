//! The evidence of the comparison from both kernels' build trees
//! (`kernel_index`: objects, build conditions, `#if` branches; objdump of
//! vmlinux for direct calls), and the runs read from vmrun's results.

use std::collections::BTreeSet;
use std::path::Path;

use kernel_index::preproc::Definitions;
use kernel_index::{ConfigValues, KernelIndex};
use trace_analysis::analyze::{Analysis, Edge};
use trace_analysis::model::Selection;

use crate::compare::{Attribution, Evidence, Kernel, Rule, Runs};
use crate::footprint;
use crate::names::base_name;

/// The index of a kernel build tree (cached in it).
pub fn open_index(dir: &Path) -> Result<KernelIndex, String> {
    KernelIndex::open(dir, &kernel_index::Cache::InBuildTree)
        .map(|(index, _)| index)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// The objects linked into the kernel.
pub fn linked_objects(index: &KernelIndex) -> BTreeSet<String> {
    index.objects().iter().map(|o| o.path.clone()).collect()
}

/// The runs of one kernel: footprints and call edges of each id's trace
/// in `dir`. A footprint made on another kernel than `build` is refused.
pub fn read_runs(dir: &Path, ids: &[String], build: &KernelIndex) -> Result<Runs, String> {
    let mut runs = Runs::default();
    let mask = Selection::default_phases().mask;
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let tree = canonical(build.build_dir());
    for id in ids {
        let fp = dir.join(format!("{id}.footprint.json"));
        let footprint = footprint::read(&fp)?;
        if canonical(Path::new(&footprint.kernel_build)) != tree {
            return Err(format!(
                "{}: a footprint of the kernel built in {}, not of {}",
                fp.display(),
                footprint.kernel_build,
                tree.display()
            ));
        }
        runs.runs.push(
            footprint
                .functions
                .into_iter()
                .map(|(name, objects)| (base_name(&name).to_string(), objects))
                .collect(),
        );
        let trace = dir.join(format!("{id}.trace"));
        let file = std::fs::File::open(&trace).map_err(|e| format!("{}: {e}", trace.display()))?;
        let mut an = Analysis::new(None);
        an.read(file)
            .map_err(|e| format!("{}: not a readable trace: {e:?}", trace.display()))?;
        let acc = an
            .acc
            .as_ref()
            .ok_or_else(|| format!("{}: no events of the traced program", trace.display()))?;
        let name = |id: u32| base_name(&String::from_utf8_lossy(an.names.name(id))).to_string();
        for (key, e) in &acc.edges {
            let Edge { caller, callee } = *key;
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
pub struct Trees<'a> {
    start: Tree<'a>,
    tailored: Tree<'a>,
    /// Options whose value differs between the configs.
    changed: BTreeSet<String>,
    /// Files that could not be read, reported once the comparison is done.
    pub errors: Vec<String>,
}

fn value(values: &ConfigValues, sym: &str) -> String {
    values.get(sym).cloned().unwrap_or_else(|| "n".to_string())
}

impl<'a> Trees<'a> {
    pub fn new(start: &'a KernelIndex, tailored: &'a KernelIndex) -> Trees<'a> {
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
                .is_some_and(|t| base_name(t) == callee)
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
                rule: Rule::Object,
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
                    rule: Rule::Inlined,
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
            rule: Rule::Branch,
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
            rule: Rule::Inlined,
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
