//! The kernel footprint map of a trace: its functions, through the index of
//! the traced kernel's build tree (`kernel_index`), to object files, source
//! files, MAINTAINERS sections and Kconfig symbols; per phase x context, per
//! kernel entry path, and against the kernel's configuration.

use std::collections::{BTreeMap, BTreeSet};

use kernel_index::{Function, KernelIndex, Lookup, Object};
use serde::{Deserialize, Serialize};

use ftrace_groundtruth::{self as groundtruth, Record};
use trace_analysis::analyze::{Analysis, Edge};
use trace_analysis::model::{cell_bit, Context, Phase, Selection, CONTEXTS, PHASES};
use trace_analysis::names::{self, class, classify, normalize, NONE};
use trace_analysis::select::Filter;

pub mod study;
mod text;

pub use text::text;

/// The section every file matches; it names no subsystem.
pub const THE_REST: &str = "THE REST";

/// What the map says of one traced function.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FunctionRow {
    pub name: String,
    /// Calls as a callee in the selection (0: seen only as a caller).
    pub calls: u64,
    /// `phase/context` cells it ran in.
    pub cells: Vec<String>,
    /// The objects it may come from: one, or several for a name that static
    /// functions of several files share (then it is listed in `ambiguous`).
    pub objects: Vec<String>,
    /// Input section of vmlinux (`.text`, `.noinstr.text`, ...), when one.
    pub section: Option<String>,
    /// Its name is shared by static functions of several files, and the
    /// trace's addresses (sym-addr) do not tell which ran.
    pub ambiguous: bool,
    /// Its name is shared by static functions of several files, and the
    /// addresses the trace printed with it (`ftrace_it --sym-addr`) tell
    /// which ran: `objects` holds only those.
    pub by_address: bool,
    /// The compiled source files of its objects.
    pub files: Vec<String>,
    /// The most specific MAINTAINERS sections of its files.
    pub subsystems: Vec<String>,
    /// Every section of its files but THE REST, most specific first.
    pub all_sections: Vec<String>,
    /// Object -> the Kconfig condition under which Kbuild links it.
    pub build_conditions: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileRow {
    pub path: String,
    pub functions: usize,
    pub calls: u64,
    /// The most specific MAINTAINERS sections (get_maintainer.pl's order).
    pub subsystems: Vec<String>,
    /// Every matching section but THE REST, as ks-nav lists them.
    pub all_sections: Vec<String>,
    /// Reached only through [`FootprintMap::ambiguous`] names: in the
    /// footprint only if one of their candidates here is the one that ran.
    pub only_ambiguous: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubsystemRow {
    pub name: String,
    pub status: Option<String>,
    pub files: usize,
    pub functions: usize,
    pub calls: u64,
    /// As [`FileRow::only_ambiguous`].
    pub only_ambiguous: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SymbolRow {
    pub symbol: String,
    pub prompt: Option<String>,
    pub value: Option<String>,
    pub objects: usize,
    pub functions: usize,
    /// As [`FileRow::only_ambiguous`]: all its objects are.
    pub only_ambiguous: bool,
}

/// The footprint of one phase x context cell, or of one entry path.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub functions: usize,
    pub files: usize,
    /// The most specific sections of its files.
    pub subsystems: Vec<String>,
    /// Every section of its files but THE REST, as ks-nav (the study's
    /// tool) lists them.
    pub all_sections: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ConfigView {
    pub note: String,
    /// `=y` symbols that build a touched object (their build conditions).
    pub touched: Vec<String>,
    /// `=y` symbols that build only objects reached through ambiguous
    /// names: touched only if one of the ambiguous candidates ran.
    pub symbols_only_if_ambiguous: Vec<String>,
    /// Objects linked into vmlinux that no traced function came from.
    pub untouched_objects: Vec<String>,
    /// Objects whose traced functions all have ambiguous names: touched
    /// only if one of the ambiguous candidates ran.
    pub objects_only_if_ambiguous: Vec<String>,
    /// Objects a function of an unambiguous name came from.
    pub touched_objects: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Unmapped {
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FootprintMap {
    pub trace: String,
    pub kernel_build: String,
    pub release: String,
    pub filter: String,
    pub functions: Vec<FunctionRow>,
    /// Names static functions of several files share: their objects are
    /// all listed, none is picked.
    pub ambiguous: Vec<String>,
    pub unmapped: Vec<Unmapped>,
    pub files: Vec<FileRow>,
    pub subsystems: Vec<SubsystemRow>,
    /// The symbols whose value decides whether the touched objects are
    /// built (their Kbuild conditions, directories included).
    pub build_symbols: Vec<SymbolRow>,
    /// The symbols the touched objects' sources read (`include/config/`
    /// dependencies), apart from the build conditions.
    pub read_symbols: Vec<SymbolRow>,
    pub cells: Vec<Part>,
    pub entry_paths: Vec<Part>,
    pub config: ConfigView,
}

/// A traced function and where it runs.
struct Traced {
    calls: u64,
    mask: u32,
}

/// The kernel entry paths of the study (the roots of its call graphs):
/// which functions start each, by name, and in which cells its work runs.
/// A path is what its starts reach along the trace's call edges: their own
/// calls, then the edges seen in the path's cells (an edge the trace also
/// shows elsewhere would otherwise join paths that only share a callee).
/// Where the cells are the path's alone (`whole`: exec and exit in process
/// context, interrupt contexts), every function that ran in them belongs
/// to it too: untraced entry code (`noinstr`, assembly) cuts the call
/// edges, not the cells.
pub struct EntryPath {
    pub name: &'static str,
    pub starts: fn(&str) -> bool,
    pub phases: &'static [Phase],
    pub contexts: &'static [Context],
    pub whole: bool,
}

const IN_KERNEL: &[Phase] = &[Phase::Exec, Phase::Run, Phase::Exit];

pub const ENTRY_PATHS: [EntryPath; 6] = [
    EntryPath {
        name: "execve system call",
        starts: |n| names::is_execve(normalize(n.as_bytes())),
        phases: &[Phase::Exec],
        contexts: &[Context::Process],
        whole: true,
    },
    EntryPath {
        name: "other system calls",
        starts: |n| {
            let n = normalize(n.as_bytes());
            names::is_syscall_function(n) && classify(n) & class::EXIT == 0
        },
        phases: IN_KERNEL,
        contexts: &[Context::Process],
        whole: false,
    },
    EntryPath {
        name: "user instruction abort (el0_ia)",
        starts: |n| n == "el0_ia",
        phases: IN_KERNEL,
        contexts: &[Context::Process],
        whole: false,
    },
    EntryPath {
        name: "user data abort (el0_da) / page fault",
        starts: |n| n == "el0_da" || n == "exc_page_fault",
        phases: IN_KERNEL,
        contexts: &[Context::Process],
        whole: false,
    },
    EntryPath {
        name: "interrupts",
        starts: |n| {
            matches!(n, "el0_interrupt" | "el1_interrupt" | "common_interrupt")
                || n.starts_with("sysvec_")
        },
        phases: &PHASES,
        contexts: &[Context::Hardirq, Context::Softirq],
        whole: true,
    },
    EntryPath {
        name: "exit",
        starts: |n| classify(normalize(n.as_bytes())) & class::EXIT != 0,
        phases: &[Phase::Exit],
        contexts: &[Context::Process],
        whole: true,
    },
];

const CONFIG_NOTE: &str = "a fact about this trace, not a recommendation: \
     code the program did not run here may be needed by other runs, by the boot, \
     or by code ftrace cannot see";

/// Caller and callee -> the cells the call was seen in.
type Edges = BTreeMap<(String, String), u32>;

/// The traced functions of the selection, by name as traced (System.map's
/// names; `footprint` refuses `--normalize`), with the cells they ran in (a
/// caller runs where it calls), and the call edges.
fn traced(an: &Analysis, f: &Filter) -> (BTreeMap<String, Traced>, Edges) {
    let mut funcs: BTreeMap<String, Traced> = BTreeMap::new();
    let mut edges = Edges::new();
    let Some(acc) = an.acc.as_ref() else {
        return (funcs, edges);
    };
    let name = |id: u32| String::from_utf8_lossy(an.names.name(id)).into_owned();
    for (key, e) in &acc.edges {
        let mask = e.mask() & f.sel.mask;
        if mask == 0 {
            continue;
        }
        let Edge { caller, callee } = *key;
        let callee = name(callee);
        let t = funcs
            .entry(callee.clone())
            .or_insert(Traced { calls: 0, mask: 0 });
        t.calls += e.count(f.sel.mask);
        t.mask |= mask;
        if caller != NONE {
            let caller = name(caller);
            funcs
                .entry(caller.clone())
                .or_insert(Traced { calls: 0, mask: 0 })
                .mask |= mask;
            *edges.entry((caller, callee)).or_insert(0) |= mask;
        }
    }
    (funcs, edges)
}

/// The functions of an entry path (see [`EntryPath`]).
fn reached(funcs: &BTreeMap<String, Traced>, edges: &Edges, path: &EntryPath) -> BTreeSet<String> {
    let cells = Selection::new(path.phases, path.contexts).mask;
    let mut callees: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for ((a, b), mask) in edges {
        if mask & cells != 0 || (path.starts)(a) {
            callees.entry(a.as_str()).or_default().push(b.as_str());
        }
    }
    let mut seen: BTreeSet<String> = funcs
        .iter()
        .filter(|(n, t)| (path.starts)(n) || (path.whole && t.mask & cells != 0))
        .map(|(n, _)| n.clone())
        .collect();
    let mut todo: Vec<String> = seen.iter().cloned().collect();
    while let Some(n) = todo.pop() {
        for c in callees.get(n.as_str()).into_iter().flatten() {
            if seen.insert(c.to_string()) {
                todo.push(c.to_string());
            }
        }
    }
    seen
}

/// How a traced name was found among the text symbols.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    /// One symbol has the name (or none does).
    ByName,
    /// Several do, and the trace's addresses chose among them.
    ByAddress,
    /// Several do, and nothing tells which ran.
    Ambiguous,
}

/// The symbols a traced name may be: every symbol of that name, unless the
/// trace printed addresses with it (`addresses`: instructions inside the
/// symbol, see [`Analysis::addresses`]) that all lie in symbols of that
/// name (the symbol at the start of what holds the address, or an alias
/// there): then only those.
fn objects_of<'a>(
    index: &'a KernelIndex,
    name: &str,
    addresses: &[u64],
) -> (Vec<Function<'a>>, Found) {
    match index.lookup(name) {
        Lookup::Unknown => (Vec::new(), Found::ByName),
        Lookup::Unique(f) => (vec![f], Found::ByName),
        Lookup::Ambiguous(v) => {
            let ran: Option<BTreeSet<u64>> = addresses
                .iter()
                .map(|&a| {
                    // The symbol holding the address, or an alias of it.
                    let at = index.symbol_at(a)?.address;
                    v.iter().any(|f| f.symbol.address == at).then_some(at)
                })
                .collect();
            match ran {
                Some(ran) if !ran.is_empty() => (
                    v.into_iter()
                        .filter(|f| ran.contains(&f.symbol.address))
                        .collect(),
                    Found::ByAddress,
                ),
                _ => (v, Found::Ambiguous),
            }
        }
    }
}

fn compiled(o: &Object) -> impl Iterator<Item = &kernel_index::SourceFile> {
    o.sources.iter().filter(|s| !s.included)
}

/// The map of the target's footprint under `f`.
pub fn map(an: &Analysis, f: &Filter, index: &KernelIndex, trace: &str) -> FootprintMap {
    let (funcs, edges) = traced(an, f);
    map_functions(&funcs, &edges, f, index, trace, an)
}

/// The map of the ground truth's functions (`window`: the record over the
/// trace's window, [`ftrace_groundtruth::window`]) instead of ftrace's,
/// blind spots included. Hits are the ground truth's, in the selected
/// phases (its own split: [`ftrace_groundtruth::counts`]). The ground truth
/// knows no context and no caller: a function ftrace shows keeps the cells
/// and call edges of the trace; a blind spot runs in the cell its ftrace
/// neighbours in the record (the traced functions entered just before and
/// after it) have in common in its phase when that is exactly one, else
/// in `PHASE/unknown`.
pub fn map_groundtruth(
    an: &Analysis,
    f: &Filter,
    index: &KernelIndex,
    trace: &str,
    window: &Record,
) -> FootprintMap {
    let (traced, edges) = traced(an, f);
    let masks: Vec<Option<u32>> = window
        .entries
        .iter()
        .map(|e| traced.get(&e.0).map(|t| t.mask))
        .collect();
    // The masks of the nearest traced entries before and after each entry.
    let mut before = Vec::with_capacity(masks.len());
    let mut last = None;
    for m in &masks {
        before.push(last);
        last = m.or(last);
    }
    let mut after = vec![None; masks.len()];
    let mut next = None;
    for (i, m) in masks.iter().enumerate().rev() {
        after[i] = next;
        next = m.or(next);
    }
    let mut funcs: BTreeMap<String, Traced> = BTreeMap::new();
    for (i, p) in groundtruth::phases(window).into_iter().enumerate() {
        let name = &window.entries[i].0;
        let mask = match masks[i] {
            Some(m) => m,
            None => blind_cell(before[i], after[i], p),
        } & f.sel.mask
            & phase_mask(p);
        if mask != 0 {
            let t = funcs
                .entry(name.clone())
                .or_insert(Traced { calls: 0, mask: 0 });
            t.calls += 1;
            t.mask |= mask;
        }
    }
    let mut m = map_functions(&funcs, &edges, f, index, trace, an);
    m.filter.push_str(", the ground truth's functions");
    m
}

/// The phase of each entry of a ground-truth record.
fn phase_mask(p: Phase) -> u32 {
    CONTEXTS.iter().map(|&c| cell_bit(p, c)).sum()
}

/// The cell of a blind spot's entry in phase `p` between traced entries
/// with these cell masks (see [`map_groundtruth`]).
fn blind_cell(before: Option<u32>, after: Option<u32>, p: Phase) -> u32 {
    let common = before.unwrap_or(!0) & after.unwrap_or(!0) & phase_mask(p);
    match common.count_ones() {
        1 => common,
        _ => cell_bit(p, Context::Unknown),
    }
}

/// A set of the trace's functions by their index in name order.
struct FunctionSet(Vec<u64>);

impl FunctionSet {
    fn new(functions: usize) -> Self {
        FunctionSet(vec![0; functions.div_ceil(64)])
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn union(&mut self, other: &FunctionSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn intersects(&self, other: &FunctionSet) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }
}

/// The map of a set of functions, with the call edges between them; `an`
/// gives the addresses the trace printed with each name.
fn map_functions(
    funcs: &BTreeMap<String, Traced>,
    edges: &Edges,
    f: &Filter,
    index: &KernelIndex,
    trace: &str,
    an: &Analysis,
) -> FootprintMap {
    let mut candidates_of = BTreeMap::new();
    let mut ambiguous = Vec::new();
    let mut unmapped = Vec::new();
    // Per function: the compiled source files it may come from.
    let mut files_of: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for name in funcs.keys() {
        let (candidates, found) = objects_of(index, name, an.addresses(name.as_bytes()));
        let shared = found == Found::Ambiguous;
        if candidates.is_empty() {
            unmapped.push(Unmapped {
                name: name.clone(),
                reason: "no text symbol of that name in System.map: a trace of another kernel?"
                    .into(),
            });
        } else if candidates.iter().all(|c| c.object.is_none()) {
            unmapped.push(Unmapped {
                name: name.clone(),
                reason: "its address lies in no object's section of vmlinux.map (defined by the linker script)".into(),
            });
        }
        if shared {
            ambiguous.push(name.clone());
        }
        let objects: Vec<&Object> = candidates.iter().filter_map(|c| c.object).collect();
        for o in &objects {
            files_of
                .entry(name.as_str())
                .or_default()
                .extend(compiled(o).map(|s| s.path.clone()));
        }
        candidates_of.insert(name.as_str(), (candidates, found));
    }

    let source_files: BTreeMap<&str, &kernel_index::SourceFile> = index
        .objects()
        .iter()
        .flat_map(|o| compiled(o).map(|s| (s.path.as_str(), s)))
        .collect();
    let sections_of = |path: &str, all: bool| -> Vec<String> {
        let Some(s) = source_files.get(path) else {
            return Vec::new();
        };
        let matches = if all {
            &s.maintainers[..]
        } else {
            s.most_specific()
        };
        let mut names: Vec<String> = matches
            .iter()
            .map(|m| index.section(*m).name.clone())
            .filter(|n| !all || n != THE_REST)
            .collect();
        names.dedup();
        names
    };

    let rows: Vec<FunctionRow> = funcs
        .iter()
        .map(|(name, t)| {
            let (candidates, found) = &candidates_of[name.as_str()];
            let objects: Vec<&Object> = candidates.iter().filter_map(|c| c.object).collect();
            let files: Vec<String> = files_of
                .get(name.as_str())
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let sections = |all: bool| {
                let mut names: Vec<String> = Vec::new();
                for s in files.iter().flat_map(|f| sections_of(f, all)) {
                    if !names.contains(&s) {
                        names.push(s);
                    }
                }
                names
            };
            FunctionRow {
                name: name.clone(),
                calls: t.calls,
                cells: PHASES
                    .iter()
                    .flat_map(|&p| CONTEXTS.iter().map(move |&c| (p, c)))
                    .filter(|&(p, c)| t.mask & cell_bit(p, c) != 0)
                    .map(|(p, c)| format!("{}/{}", p.name(), c.name()))
                    .collect(),
                objects: objects.iter().map(|o| o.path.clone()).collect(),
                section: match candidates.as_slice() {
                    [one] => one.section.map(|s| s.name.clone()),
                    _ => None,
                },
                ambiguous: *found == Found::Ambiguous,
                by_address: *found == Found::ByAddress,
                subsystems: sections(false),
                all_sections: sections(true),
                files,
                build_conditions: objects
                    .iter()
                    .map(|o| (o.path.clone(), index.build_condition(o).to_string()))
                    .collect(),
            }
        })
        .collect();

    let sure = |name: &str| candidates_of[name].1 != Found::Ambiguous;
    // Functions, calls, and whether an unambiguous name reaches it.
    let mut file_stats: BTreeMap<String, (usize, u64, bool)> = BTreeMap::new();
    for (name, files) in &files_of {
        for file in files {
            let e = file_stats.entry(file.clone()).or_default();
            e.0 += 1;
            e.1 += funcs[*name].calls;
            e.2 |= sure(name);
        }
    }
    let files: Vec<FileRow> = file_stats
        .iter()
        .map(|(path, &(functions, calls, reached))| FileRow {
            path: path.clone(),
            functions,
            calls,
            subsystems: sections_of(path, false),
            all_sections: sections_of(path, true),
            only_ambiguous: !reached,
        })
        .collect();

    type SubStats<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>, u64, bool);
    let mut subs: BTreeMap<String, SubStats> = BTreeMap::new();
    for (name, fs) in &files_of {
        for file in fs {
            for s in sections_of(file, false) {
                let e = subs.entry(s).or_default();
                e.0.insert(file.as_str());
                if e.1.insert(name) {
                    e.2 += funcs[*name].calls;
                }
                e.3 |= sure(name);
            }
        }
    }
    let status: BTreeMap<&str, Option<String>> = index
        .maintainers()
        .iter()
        .map(|m| (m.name.as_str(), m.status.clone()))
        .collect();
    let subsystems = subs
        .iter()
        .map(|(name, (fs, fns, calls, reached))| SubsystemRow {
            name: name.clone(),
            status: status.get(name.as_str()).cloned().flatten(),
            files: fs.len(),
            functions: fns.len(),
            calls: *calls,
            only_ambiguous: !reached,
        })
        .collect();

    // Symbols: the build conditions and the reads of the touched objects.
    // An object reads a few hundred symbols through its headers: the
    // functions are gathered per object first, as bit sets, so that each
    // symbol takes an object's functions in one union.
    let mut fns_of_object: BTreeMap<&str, (&Object, FunctionSet)> = BTreeMap::new();
    let mut unambiguous = FunctionSet::new(funcs.len());
    for (i, name) in funcs.keys().enumerate() {
        let (candidates, found) = &candidates_of[name.as_str()];
        if *found != Found::Ambiguous {
            unambiguous.insert(i);
        }
        for o in candidates.iter().filter_map(|c| c.object) {
            fns_of_object
                .entry(o.path.as_str())
                .or_insert_with(|| (o, FunctionSet::new(funcs.len())))
                .1
                .insert(i);
        }
    }
    let mut build: BTreeMap<String, (BTreeSet<&str>, FunctionSet)> = BTreeMap::new();
    let mut read: BTreeMap<&str, (BTreeSet<&str>, FunctionSet)> = BTreeMap::new();
    for (path, (o, fns)) in &fns_of_object {
        for s in index.build_condition(o).symbols() {
            let e = build
                .entry(s)
                .or_insert_with(|| (BTreeSet::new(), FunctionSet::new(funcs.len())));
            e.0.insert(path);
            e.1.union(fns);
        }
        for s in index.config_deps(o) {
            let e = read
                .entry(s.name.as_str())
                .or_insert_with(|| (BTreeSet::new(), FunctionSet::new(funcs.len())));
            e.0.insert(path);
            e.1.union(fns);
        }
    }
    let symbol_row = |s: &str, objs: &BTreeSet<&str>, fns: &FunctionSet| {
        let sym = index.kconfig_symbol(s);
        SymbolRow {
            symbol: format!("CONFIG_{s}"),
            prompt: sym.and_then(|k| k.prompt()).map(str::to_string),
            value: sym.and_then(|k| k.value.clone()),
            objects: objs.len(),
            functions: fns.len(),
            only_ambiguous: !fns.intersects(&unambiguous),
        }
    };
    let build_symbols: Vec<SymbolRow> = build
        .iter()
        .map(|(s, (objs, fns))| symbol_row(s, objs, fns))
        .collect();
    let read_symbols: Vec<SymbolRow> = read
        .iter()
        .map(|(s, (objs, fns))| symbol_row(s, objs, fns))
        .collect();

    let part = |name: String, names: &BTreeSet<String>| {
        let mut fs = BTreeSet::new();
        for n in names {
            fs.extend(
                files_of
                    .get(n.as_str())
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
        let subsystems: BTreeSet<String> = fs.iter().flat_map(|f| sections_of(f, false)).collect();
        let all_sections: BTreeSet<String> = fs.iter().flat_map(|f| sections_of(f, true)).collect();
        Part {
            name,
            functions: names.len(),
            files: fs.len(),
            subsystems: subsystems.into_iter().collect(),
            all_sections: all_sections.into_iter().collect(),
        }
    };
    let mut cells = Vec::new();
    for p in PHASES {
        for c in CONTEXTS {
            let names: BTreeSet<String> = funcs
                .iter()
                .filter(|(_, t)| t.mask & cell_bit(p, c) != 0)
                .map(|(n, _)| n.clone())
                .collect();
            if !names.is_empty() {
                cells.push(part(format!("{}/{}", p.name(), c.name()), &names));
            }
        }
    }
    let entry_paths = ENTRY_PATHS
        .iter()
        .map(|e| part(e.name.to_string(), &reached(funcs, edges, e)))
        .filter(|p| p.functions > 0)
        .chain([part("all".into(), &funcs.keys().cloned().collect())])
        .collect();

    let y_symbols = |only_ambiguous: bool| {
        build_symbols
            .iter()
            .filter(|s| s.value.as_deref() == Some("y") && s.only_ambiguous == only_ambiguous)
            .map(|s| s.symbol.clone())
            .collect()
    };
    let touched_objects = fns_of_object
        .values()
        .filter(|(_, fns)| fns.intersects(&unambiguous))
        .count();
    let config = ConfigView {
        note: CONFIG_NOTE.into(),
        touched: y_symbols(false),
        symbols_only_if_ambiguous: y_symbols(true),
        untouched_objects: index
            .objects()
            .iter()
            .filter(|o| !fns_of_object.contains_key(o.path.as_str()))
            .map(|o| o.path.clone())
            .collect(),
        objects_only_if_ambiguous: fns_of_object
            .iter()
            .filter(|(_, (_, fns))| !fns.intersects(&unambiguous))
            .map(|(path, _)| path.to_string())
            .collect(),
        touched_objects,
    };

    FootprintMap {
        trace: trace.to_string(),
        kernel_build: index.build_dir().display().to_string(),
        release: index.release().to_string(),
        filter: f.describe(),
        functions: rows,
        ambiguous,
        unmapped,
        files,
        subsystems,
        build_symbols,
        read_symbols,
        cells,
        entry_paths,
        config,
    }
}

#[cfg(test)]
mod tests;
