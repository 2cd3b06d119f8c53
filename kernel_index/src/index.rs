//! The index of one build tree, and its queries.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cond::{Cond, ConfigValues};
use crate::error::Error;
use crate::kbuild::Inclusion;
use crate::kconfig::Symbol;

mod build;

/// A text symbol of `System.map`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSymbol {
    pub name: String,
    pub address: u64,
    /// `t`/`T` (local/global), `w`/`W` (weak).
    pub kind: char,
    /// Index into [`KernelIndex::input_sections`]: the input section of
    /// `vmlinux.map` the address lies in.
    pub section: Option<u32>,
}

/// An input section of one object, where the linker put it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSection {
    /// `.text`, `.noinstr.text`, `.entry.text`, `.sched.text`,
    /// `.init.text`, `.irqentry.text`, ...
    pub name: String,
    pub address: u64,
    pub size: u64,
    /// Index into [`KernelIndex::objects`].
    pub object: u32,
}

/// Why the linker took the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Linked {
    /// A member of `vmlinux.a`, linked whole: Kbuild's `obj-y`.
    WholeArchive,
    /// A library member (`lib-y`), linked because `by` uses `symbol`.
    ForSymbol { by: String, symbol: String },
    /// Named on the link command line (`scripts/link-vmlinux.sh`).
    CommandLine,
    /// The map does not say.
    Unknown,
}

/// A source file of an object, with its MAINTAINERS sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Relative to the source tree, or to the build tree when generated.
    pub path: String,
    /// Made by the build (it lives in the build tree).
    pub generated: bool,
    /// `#include`d into the compiled file (a `.c`/`.S` among the
    /// dependencies), not compiled itself.
    pub included: bool,
    /// Matching sections, most specific first (see
    /// [`crate::maintainers`] for the order).
    pub maintainers: Vec<Match>,
}

/// A MAINTAINERS section that matches a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// Index into [`KernelIndex::maintainers`].
    pub section: u32,
    /// `get_maintainer.pl`'s pattern depth: higher is more specific.
    pub depth: i32,
}

impl SourceFile {
    /// The most specific sections: all those sharing the highest depth.
    pub fn most_specific(&self) -> &[Match] {
        let top = self.maintainers.first().map(|m| m.depth);
        let n = self
            .maintainers
            .iter()
            .take_while(|m| Some(m.depth) == top)
            .count();
        &self.maintainers[..n]
    }
}

/// A MAINTAINERS section, as far as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintainersSection {
    pub name: String,
    /// 1-based line of its title in MAINTAINERS.
    pub line: usize,
    pub status: Option<String>,
    /// `M:` entries.
    pub maintainers: Vec<String>,
    /// `L:` entries.
    pub lists: Vec<String>,
}

/// An object file linked into vmlinux.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// Relative to the build tree: `drivers/irqchip/irq-gic.o`.
    pub path: String,
    /// The archive the map names it in, if it does.
    pub archive: Option<String>,
    pub linked: Linked,
    /// The compiled sources first (more than one for an object linked from
    /// several with `ld -r`), then the `.c`/`.S` files they include.
    pub sources: Vec<SourceFile>,
    /// Objects this one was made from without compiling (`objcopy` of
    /// `foo.o` into `foo.pi.o`, `ld -r`).
    pub derived_from: Vec<String>,
    /// The composite object it is a part of (`fs/proc/proc.o` for
    /// `fs/proc/base.o`), from its Kbuild line, checked against
    /// `KBUILD_MODNAME` in its command.
    pub composite: Option<String>,
    /// Kconfig symbols its sources read (`include/config/...` dependencies):
    /// what its code depends on, apart from whether it is built at all.
    /// Indices into [`KernelIndex::kconfig_symbols`], by name; see
    /// [`KernelIndex::config_deps`].
    pub config_deps: Vec<u32>,
    /// The Kbuild lines that put it in the build (any one suffices); for a
    /// composite part, its `NAME-y` line.
    pub build: Vec<Inclusion>,
    /// What could not be established, in words.
    pub doubts: Vec<String>,
    /// Whether its compile command asks for ftrace's hook
    /// (`-fpatchable-function-entry=`, `-pg`): without it none of its
    /// functions can be traced. `None`: no compile command (no `.cmd`, or
    /// an object linked from parts that disagree).
    pub ftrace_hook: Option<bool>,
}

/// A function: a text symbol and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Function<'a> {
    pub symbol: &'a TextSymbol,
    pub section: Option<&'a InputSection>,
    pub object: Option<&'a Object>,
}

/// The answer to a look-up by name.
#[derive(Debug, Clone)]
pub enum Lookup<'a> {
    /// No text symbol has this name.
    Unknown,
    Unique(Function<'a>),
    /// Several text symbols share the name (static functions of different
    /// files): the name alone cannot tell which one ran.
    Ambiguous(Vec<Function<'a>>),
}

/// Counts over the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub text_symbols: usize,
    /// Text symbols whose address lies in exactly one object's section.
    pub symbols_with_object: usize,
    /// Names carried by more than one text symbol.
    pub ambiguous_names: usize,
    pub objects: usize,
    /// Objects with at least one source file.
    pub objects_with_source: usize,
    /// Objects whose build condition was read and holds under `.config`.
    pub conditions_parsed: usize,
    /// Objects with a doubt about their build condition.
    pub conditions_doubtful: usize,
    pub source_files: usize,
    /// Source files whose most specific section is `THE REST` only.
    pub sources_only_the_rest: usize,
}

pub(crate) const FORMAT: u32 = 3;

/// Size and modification time of the files the index is made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub files: Vec<(String, u64, u128)>,
}

/// Everything the index knows about one build tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KernelIndex {
    pub(crate) format: u32,
    pub(crate) identity: Identity,
    build_dir: PathBuf,
    source_dir: PathBuf,
    release: String,
    /// `UTS_VERSION` (`uname -v` of the kernel built here), if the tree has it.
    version: Option<String>,
    srcarch: String,
    symbols: Vec<TextSymbol>,
    input_sections: Vec<InputSection>,
    objects: Vec<Object>,
    dirs: BTreeMap<String, Vec<Inclusion>>,
    composites: BTreeMap<String, Vec<Inclusion>>,
    maintainers: Vec<MaintainersSection>,
    kconfig: Vec<Symbol>,
    notes: Vec<String>,
    #[serde(skip)]
    by_name: HashMap<String, Vec<u32>>,
    #[serde(skip)]
    by_path: HashMap<String, u32>,
    #[serde(skip)]
    by_symbol: HashMap<String, u32>,
    #[serde(skip)]
    values: ConfigValues,
}

/// The files of the build tree whose change makes an index stale; the
/// source tree's MAINTAINERS too.
const IDENTITY_FILES: &[&str] = &[
    "System.map",
    "vmlinux.map",
    ".config",
    "include/config/kernel.release",
    "include/generated/utsversion.h",
];

pub(crate) fn identity(build: &Path, source: &Path) -> Identity {
    let paths = IDENTITY_FILES
        .iter()
        .map(|f| (f.to_string(), build.join(f)))
        .chain([("MAINTAINERS".to_string(), source.join("MAINTAINERS"))]);
    let files = paths
        .map(|(name, path)| {
            let meta = std::fs::metadata(path).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let mtime = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            (name, size, mtime)
        })
        .collect();
    Identity { files }
}

/// The source tree of a build: `source` for `make O=`, else the tree itself.
pub(crate) fn source_dir(build: &Path) -> Result<PathBuf, Error> {
    let link = build.join("source");
    let source = if link.exists() {
        link
    } else if build.join("MAINTAINERS").is_file() {
        build.to_path_buf()
    } else {
        return Err(Error::NotABuildTree {
            dir: build.to_path_buf(),
            missing: "`source` link to the kernel sources",
        });
    };
    std::fs::canonicalize(&source).map_err(|e| Error::io(&source, e))
}

impl KernelIndex {
    pub fn build_dir(&self) -> &Path {
        &self.build_dir
    }

    pub fn source_dir(&self) -> &Path {
        &self.source_dir
    }

    /// `include/config/kernel.release`, e.g. `6.12.117-min-prog-trace`.
    pub fn release(&self) -> &str {
        &self.release
    }

    /// The architecture directory (`arm64`).
    pub fn srcarch(&self) -> &str {
        &self.srcarch
    }

    /// `UTS_VERSION` of the kernel built here (`#1 SMP ...`), if known.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Checks that a trace's kernel (its header's release and, where the
    /// trace has it, `uname -v`) is this build: the release alone does not
    /// tell two builds of one source apart.
    pub fn check_kernel(&self, release: &str, version: Option<&str>) -> Result<(), Error> {
        if release.trim() != self.release {
            return Err(Error::ReleaseMismatch {
                dir: self.build_dir.clone(),
                tree: self.release.clone(),
                trace: release.trim().to_string(),
            });
        }
        match (version.map(str::trim), &self.version) {
            (Some(trace), Some(tree)) if trace != tree => Err(Error::BuildMismatch {
                dir: self.build_dir.clone(),
                tree: tree.clone(),
                trace: trace.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Text symbols, by address.
    pub fn symbols(&self) -> &[TextSymbol] {
        &self.symbols
    }

    /// Input sections holding text symbols, by address.
    pub fn input_sections(&self) -> &[InputSection] {
        &self.input_sections
    }

    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// An object by its path in the build tree.
    pub fn object(&self, path: &str) -> Option<&Object> {
        self.by_path.get(path).map(|&i| &self.objects[i as usize])
    }

    /// MAINTAINERS sections that match some source file.
    pub fn maintainers(&self) -> &[MaintainersSection] {
        &self.maintainers
    }

    pub fn section(&self, m: Match) -> &MaintainersSection {
        &self.maintainers[m.section as usize]
    }

    /// A Kconfig symbol named by some condition or dependency.
    pub fn kconfig_symbol(&self, name: &str) -> Option<&Symbol> {
        let name = name.strip_prefix("CONFIG_").unwrap_or(name);
        self.by_symbol.get(name).map(|&i| &self.kconfig[i as usize])
    }

    /// The Kconfig symbols the index keeps (those of build conditions and
    /// of dependencies), by name.
    pub fn kconfig_symbols(&self) -> &[Symbol] {
        &self.kconfig
    }

    /// The symbols an object's sources read.
    pub fn config_deps<'a>(&'a self, object: &'a Object) -> impl Iterator<Item = &'a Symbol> + 'a {
        object
            .config_deps
            .iter()
            .map(move |&i| &self.kconfig[i as usize])
    }

    /// Things noticed while indexing that concern no single object.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    fn function<'a>(&'a self, symbol: &'a TextSymbol) -> Function<'a> {
        let section = symbol.section.map(|i| &self.input_sections[i as usize]);
        Function {
            symbol,
            section,
            object: section.map(|s| &self.objects[s.object as usize]),
        }
    }

    /// The functions starting exactly at `address` (aliases share one).
    pub fn functions_at(&self, address: u64) -> Vec<Function<'_>> {
        let start = self.symbols.partition_point(|s| s.address < address);
        self.symbols[start..]
            .iter()
            .take_while(|s| s.address == address)
            .map(|s| self.function(s))
            .collect()
    }

    /// The text symbol an address lies in: the last one at or below it (of
    /// several at one address, the first).
    pub fn symbol_at(&self, address: u64) -> Option<&TextSymbol> {
        let end = self.symbols.partition_point(|s| s.address <= address);
        let last = self.symbols[..end].last()?;
        let first = self.symbols[..end].partition_point(|s| s.address < last.address);
        Some(&self.symbols[first])
    }

    /// The input section (and so the object) holding any address.
    pub fn section_at(&self, address: u64) -> Option<&InputSection> {
        let i = self
            .input_sections
            .partition_point(|s| s.address <= address)
            .checked_sub(1)?;
        let s = &self.input_sections[i];
        (address < s.address + s.size).then_some(s)
    }

    /// The object of an input section.
    pub fn object_of(&self, section: &InputSection) -> &Object {
        &self.objects[section.object as usize]
    }

    /// Every text symbol with this name; more than one is reported, never
    /// guessed.
    pub fn lookup(&self, name: &str) -> Lookup<'_> {
        let Some(ids) = self.by_name.get(name) else {
            return Lookup::Unknown;
        };
        let mut found: Vec<Function<'_>> = ids
            .iter()
            .map(|&i| self.function(&self.symbols[i as usize]))
            .collect();
        match found.len() {
            1 => Lookup::Unique(found.remove(0)),
            _ => Lookup::Ambiguous(found),
        }
    }

    /// Kbuild lines that descend into a directory (`drivers/irqchip/`).
    pub fn dir_inclusions(&self, dir: &str) -> &[Inclusion] {
        self.dirs.get(dir).map_or(&[], Vec::as_slice)
    }

    /// Kbuild lines that build a composite object (`fs/proc/proc.o`).
    pub fn composite_inclusions(&self, composite: &str) -> &[Inclusion] {
        self.composites.get(composite).map_or(&[], Vec::as_slice)
    }

    /// The whole condition under which Kbuild links the object into
    /// vmlinux: its own line (any of them), its composite's, and those of
    /// every directory above it.
    pub fn build_condition(&self, object: &Object) -> Cond {
        if object.build.is_empty() {
            return match object.linked {
                Linked::CommandLine => Cond::True,
                _ => Cond::Unparsed(format!("no Kbuild line names {}", object.path)),
            };
        }
        let alternatives = object
            .build
            .iter()
            .map(|inc| {
                // A composite is in the same directory as its part: its
                // condition already holds the directory's.
                match inc.composite() {
                    Some(comp) => {
                        let key = format!("{}{comp}", inc.dir);
                        let c = self.any_of(self.composite_inclusions(&key), &key);
                        inc.guard.clone().and(c)
                    }
                    None => inc.guard.clone().and(self.dir_condition(&inc.dir)),
                }
            })
            .collect();
        Cond::any(alternatives)
    }

    fn any_of(&self, incs: &[Inclusion], what: &str) -> Cond {
        if incs.is_empty() {
            return Cond::Unparsed(format!("no Kbuild line names {what}"));
        }
        Cond::any(
            incs.iter()
                .map(|i| i.guard.clone().and(self.dir_condition(&i.dir)))
                .collect(),
        )
    }

    /// The condition for Kbuild to descend into `dir` ("" is the top).
    pub fn dir_condition(&self, dir: &str) -> Cond {
        if dir.is_empty() {
            return Cond::True;
        }
        self.any_of(self.dir_inclusions(dir), dir)
    }

    /// The value of a symbol in `.config`, for the symbols the index keeps.
    pub fn config_values(&self) -> &ConfigValues {
        &self.values
    }

    pub fn stats(&self) -> Stats {
        let objects_with_source = self
            .objects
            .iter()
            .filter(|o| !o.sources.is_empty())
            .count();
        let conditions_doubtful = self
            .objects
            .iter()
            .filter(|o| o.doubts.iter().any(|d| is_condition_doubt(d)))
            .count();
        let mut sources: HashMap<&str, &SourceFile> = HashMap::new();
        for o in &self.objects {
            for s in &o.sources {
                sources.insert(&s.path, s);
            }
        }
        let only_rest = sources
            .values()
            .filter(|s| {
                s.most_specific()
                    .iter()
                    .all(|m| self.section(*m).name == "THE REST")
            })
            .count();
        Stats {
            text_symbols: self.symbols.len(),
            symbols_with_object: self.symbols.iter().filter(|s| s.section.is_some()).count(),
            ambiguous_names: self.by_name.values().filter(|v| v.len() > 1).count(),
            objects: self.objects.len(),
            objects_with_source,
            conditions_parsed: self.objects.len() - conditions_doubtful,
            conditions_doubtful,
            source_files: sources.len(),
            sources_only_the_rest: only_rest,
        }
    }
}

fn is_condition_doubt(d: &str) -> bool {
    d.starts_with("no Kbuild") || d.starts_with("its build condition")
}
