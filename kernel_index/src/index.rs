//! The index of one build tree, and its queries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cmdfile::{self, CmdFile};
use crate::cond::{Cond, ConfigValues};
use crate::error::Error;
use crate::kbuild::{Inclusion, Kbuild};
use crate::kconfig::{self, Kconfig, Symbol};
use crate::linkmap::{self, Pulled};
use crate::maintainers::{Maintainers, SectionMatch};

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

/// `UTS_VERSION` from `include/generated/utsversion.h` (5.19 on) or
/// `compile.h` (before): what `uname -v` says on the kernel built here.
fn uts_version(build: &Path) -> Option<String> {
    [
        "include/generated/utsversion.h",
        "include/generated/compile.h",
    ]
    .iter()
    .filter_map(|f| std::fs::read_to_string(build.join(f)).ok())
    .find_map(|text| {
        text.lines().find_map(|l| {
            let v = l.strip_prefix("#define UTS_VERSION")?.trim();
            Some(v.strip_prefix('"')?.strip_suffix('"')?.to_string())
        })
    })
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
    /// Indexes a build tree from scratch (no cache).
    pub fn build(build_dir: &Path) -> Result<KernelIndex, Error> {
        let build = std::fs::canonicalize(build_dir).map_err(|e| Error::io(build_dir, e))?;
        if !build.join(".config").is_file() {
            return Err(Error::NotABuildTree {
                dir: build,
                missing: ".config",
            });
        }
        let source = source_dir(&build)?;
        let release_path = build.join("include/config/kernel.release");
        let release = std::fs::read_to_string(&release_path)
            .map_err(|_| Error::NotABuildTree {
                dir: build.clone(),
                missing: "include/config/kernel.release",
            })?
            .trim()
            .to_string();
        let version = uts_version(&build);
        let identity = identity(&build, &source);

        let sysmap_path = build.join("System.map");
        if !sysmap_path.is_file() {
            return Err(Error::NoSystemMap { dir: build });
        }
        let map_path = build.join("vmlinux.map");
        if !map_path.is_file() {
            return Err(Error::NoLinkMap { dir: build });
        }
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| Error::io(p, e));
        let (sysmap, linkmap) = std::thread::scope(|s| {
            let sys = s.spawn(|| {
                read(&sysmap_path).and_then(|t| linkmap::parse_system_map(&t, &sysmap_path))
            });
            let map = read(&map_path).and_then(|t| linkmap::parse_link_map(&t, &map_path));
            (sys.join().expect("System.map reader panicked"), map)
        });
        let (sysmap, linkmap) = (sysmap?, linkmap?);

        // Each text symbol to the input section holding its address.
        let placed = &linkmap.placed;
        let mut used = vec![false; placed.len()];
        let mut holder = Vec::with_capacity(sysmap.len());
        for s in &sysmap {
            let i = placed.partition_point(|p| p.address <= s.address);
            let hit = i
                .checked_sub(1)
                .filter(|&j| s.address < placed[j].address + placed[j].size);
            if let Some(j) = hit {
                used[j] = true;
            }
            holder.push(hit);
        }
        let mut objects: Vec<String> = Vec::new();
        let mut object_of: HashMap<&str, u32> = HashMap::new();
        let mut section_index = vec![None; placed.len()];
        let mut input_sections = Vec::new();
        for (j, p) in placed.iter().enumerate().filter(|(j, _)| used[*j]) {
            let next = objects.len() as u32;
            let object = *object_of.entry(p.file.as_str()).or_insert_with(|| {
                objects.push(p.file.clone());
                next
            });
            section_index[j] = Some(input_sections.len() as u32);
            input_sections.push(InputSection {
                name: p.section.clone(),
                address: p.address,
                size: p.size,
                object,
            });
        }
        if objects.is_empty() {
            return Err(Error::NoObjects { dir: build });
        }
        let symbols: Vec<TextSymbol> = sysmap
            .into_iter()
            .zip(holder)
            .map(|(s, h)| TextSymbol {
                name: s.name,
                address: s.address,
                kind: s.kind,
                section: h.and_then(|j| section_index[j]),
            })
            .collect();

        let archives: HashMap<&str, &str> = placed
            .iter()
            .filter_map(|p| Some((p.file.as_str(), p.archive.as_deref()?)))
            .collect();
        let pulled: HashMap<&str, &Pulled> = linkmap
            .pulled
            .iter()
            .map(|(m, p)| (m.as_str(), p))
            .collect();

        // The .cmd files, read in parallel: most of the cold time is here.
        let cmds = read_cmds(&build, &objects);

        let maintainers = Maintainers::load(&source)?;
        let config = kconfig::read_config(&build.join(".config"))?;
        let srcarch = kconfig::recorded_srcarch(&build)
            .or_else(|| arch_from_objects(&objects))
            .unwrap_or_default();
        let mut notes = Vec::new();
        let mut kbuild = Kbuild::new(&source, &srcarch);

        let mut section_ids: HashMap<usize, u32> = HashMap::new();
        let mut kept_sections = Vec::new();
        let mut sections_of = |path: &str| -> Vec<Match> {
            maintainers
                .sections_for(path)
                .into_iter()
                .map(|SectionMatch { section, depth }| {
                    let next = kept_sections.len() as u32;
                    let id = *section_ids.entry(section).or_insert_with(|| {
                        let s = &maintainers.sections()[section];
                        kept_sections.push(MaintainersSection {
                            name: s.name.clone(),
                            line: s.line,
                            status: s.status().map(str::to_string),
                            maintainers: s.values('M').map(str::to_string).collect(),
                            lists: s.values('L').map(str::to_string).collect(),
                        });
                        next
                    });
                    Match { section: id, depth }
                })
                .collect()
        };

        let mut dirs: BTreeMap<String, Vec<Inclusion>> = BTreeMap::new();
        let mut composites: BTreeMap<String, Vec<Inclusion>> = BTreeMap::new();
        let mut out_objects = Vec::with_capacity(objects.len());
        let mut deps_of = Vec::with_capacity(objects.len());
        for (path, cmd) in objects.iter().zip(cmds) {
            let mut doubts = Vec::new();
            let linked = match pulled.get(path.as_str()) {
                Some(Pulled::WholeArchive) => Linked::WholeArchive,
                Some(Pulled::ForSymbol { by, symbol }) => Linked::ForSymbol {
                    by: by.clone(),
                    symbol: symbol.clone(),
                },
                None if linkmap.loaded.iter().any(|l| l == path) => Linked::CommandLine,
                None => Linked::Unknown,
            };
            let (cmd, derived_from) = match cmd {
                Some(c) => c,
                None => {
                    doubts.push(format!(
                        "no {}: not made by a Kbuild rule",
                        cmdfile::cmd_path(Path::new(""), path).display()
                    ));
                    (CmdFile::default(), Vec::new())
                }
            };
            let mut sources = Vec::new();
            let primary = cmd.source.iter().chain(&cmd.parts).map(|s| (s, false));
            let included = cmd.included.iter().map(|s| (s, true));
            for (raw, included) in primary.chain(included) {
                let (rel, generated) = relative_source(raw, &source);
                if rel.starts_with('/') {
                    doubts.push(format!("source {rel} is outside the source tree"));
                }
                let maintainers = sections_of(&rel);
                sources.push(SourceFile {
                    path: rel,
                    generated,
                    included,
                    maintainers,
                });
            }
            if cmd.source.is_none() && !cmd.command.is_empty() {
                doubts.push(format!(
                    "its command compiles no source: {}",
                    cmd.command.split_whitespace().next().unwrap_or("")
                ));
            }
            let dir = match path.rfind('/') {
                Some(i) => &path[..=i],
                None => "",
            };
            // KBUILD_MODNAME names the composite (name-fixed) when the
            // object is a part of one.
            let modname_composite = cmd.modname.as_deref().filter(|m| {
                let own = path.rsplit('/').next().unwrap_or(path);
                *m != name_fix(own.trim_end_matches(".o"))
            });
            let build_lines = kbuild.object_inclusions(path);
            // What link-vmlinux.sh names is linked whatever the configuration.
            if build_lines.is_empty() && linked != Linked::CommandLine {
                let mut d = format!("no Kbuild obj-y/lib-y line names {path}");
                let unexpanded = kbuild.unexpanded(dir);
                if !unexpanded.is_empty() {
                    d.push_str(&format!("; unexpanded there: {}", unexpanded.join(", ")));
                }
                doubts.push(d);
            }
            let mut composite = None;
            for inc in &build_lines {
                if let Some(c) = inc.composite() {
                    let key = format!("{}{c}", inc.dir);
                    if !composites.contains_key(&key) {
                        let incs = kbuild.composite_inclusions(&inc.dir, &c);
                        composites.insert(key.clone(), incs);
                    }
                    composite = Some(key);
                }
                add_dirs(&mut kbuild, &mut dirs, &inc.dir);
            }
            match (modname_composite, &composite) {
                (Some(m), None) => doubts.push(format!(
                    "its KBUILD_MODNAME says it is a part of {m}, but no Kbuild line makes it one"
                )),
                (Some(m), Some(c))
                    if name_fix(c.rsplit('/').next().unwrap_or(c)) != format!("{m}.o") =>
                {
                    doubts.push(format!(
                        "Kbuild makes it a part of {c}, its KBUILD_MODNAME says {m}"
                    ));
                }
                _ => {}
            }
            let mut config_deps = cmd.config;
            config_deps.sort();
            config_deps.dedup();
            deps_of.push(config_deps);
            out_objects.push(Object {
                path: path.clone(),
                archive: archives.get(path.as_str()).map(|a| a.to_string()),
                linked,
                sources,
                derived_from,
                composite,
                config_deps: Vec::new(),
                build: build_lines,
                doubts,
                ftrace_hook: cmd.ftrace_hook,
            });
        }
        notes.append(&mut kbuild.notes);

        let kc = Kconfig::read(&source, &srcarch);
        if let Some(recorded) = kconfig::recorded_kconfig_files(&build) {
            let read: BTreeSet<&String> = kc.files.iter().collect();
            let recorded: BTreeSet<&String> = recorded.iter().collect();
            if read != recorded {
                notes.push(format!(
                    "Kconfig files read ({}) differ from those kconfig recorded in include/config/auto.conf.cmd ({})",
                    read.len(),
                    recorded.len()
                ));
            }
        }
        notes.extend(kc.notes.iter().cloned());

        let mut index = KernelIndex {
            format: FORMAT,
            identity,
            build_dir: build,
            source_dir: source,
            release,
            version,
            srcarch,
            symbols,
            input_sections,
            objects: out_objects,
            dirs,
            composites,
            maintainers: kept_sections,
            kconfig: Vec::new(),
            notes,
            by_name: HashMap::new(),
            by_path: HashMap::new(),
            by_symbol: HashMap::new(),
            values: ConfigValues::new(),
        };
        let mut names: BTreeSet<String> = deps_of.iter().flatten().cloned().collect();
        for o in &index.objects {
            names.extend(index.build_condition(o).symbols());
        }
        index.kconfig = kconfig::symbol_table(names, &kc, &config);
        index.finish();
        for (o, deps) in index.objects.iter_mut().zip(deps_of) {
            o.config_deps = deps.iter().map(|d| index.by_symbol[d]).collect();
        }
        index.check_conditions();
        Ok(index)
    }

    /// The look-up tables that the cache does not store.
    pub(crate) fn finish(&mut self) {
        self.by_name.clear();
        for (i, s) in self.symbols.iter().enumerate() {
            self.by_name
                .entry(s.name.clone())
                .or_default()
                .push(i as u32);
        }
        self.by_path = self
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.path.clone(), i as u32))
            .collect();
        self.by_symbol = self
            .kconfig
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as u32))
            .collect();
        self.values = self
            .kconfig
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.value.clone()?)))
            .collect();
    }

    /// Adds a doubt to each object whose condition cannot be read or does
    /// not hold although the object is linked.
    fn check_conditions(&mut self) {
        let verdicts: Vec<(usize, String)> = self
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| !(o.build.is_empty() && o.linked == Linked::CommandLine))
            .filter_map(|(i, o)| {
                let c = self.build_condition(o);
                let text = match c.eval(&self.values) {
                    Some(true) => return None,
                    Some(false) => format!(
                        "its build condition reads as false under .config though it is linked: {c}"
                    ),
                    None => format!(
                        "its build condition has parts this crate cannot read: {}",
                        c.unparsed().join("; ")
                    ),
                };
                Some((i, text))
            })
            .collect();
        for (i, text) in verdicts {
            if !self.objects[i].doubts.contains(&text) {
                self.objects[i].doubts.push(text);
            }
        }
    }

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

/// Kbuild's `name-fix`: `-` and `,` become `_` in module names.
fn name_fix(s: &str) -> String {
    s.replace(['-', ','], "_")
}

fn add_dirs(kbuild: &mut Kbuild, dirs: &mut BTreeMap<String, Vec<Inclusion>>, dir: &str) {
    let mut todo = vec![dir.to_string()];
    while let Some(d) = todo.pop() {
        if d.is_empty() || dirs.contains_key(&d) {
            continue;
        }
        let incs = kbuild.dir_inclusions(&d);
        todo.extend(incs.iter().map(|i| i.dir.clone()));
        dirs.insert(d, incs);
    }
}

/// `/src/mm/page_alloc.c` -> (`mm/page_alloc.c`, not generated);
/// `drivers/tty/vt/consolemap_deftbl.c` -> (itself, generated).
/// `..` is resolved on the text: `lib/../scripts/dtc/libfdt/fdt.c` (as
/// `lib/fdt.c` includes it) is `scripts/dtc/libfdt/fdt.c`.
fn relative_source(raw: &str, source: &Path) -> (String, bool) {
    let normal = lexpath::resolve_dots(raw);
    let p = Path::new(&normal);
    if p.is_absolute() {
        match p.strip_prefix(source) {
            Ok(rel) => (rel.to_string_lossy().into_owned(), false),
            Err(_) => (normal.clone(), false),
        }
    } else {
        (normal, true)
    }
}

fn arch_from_objects(objects: &[String]) -> Option<String> {
    objects.iter().find_map(|o| {
        let rest = o.strip_prefix("arch/")?;
        Some(rest.split('/').next()?.to_string())
    })
}

/// Each object's `.cmd`, following objects made from other objects (such
/// as `foo.pi.o` from `foo.o`) to the compiled ones; `None` without one.
fn read_cmds(build: &Path, objects: &[String]) -> Vec<Option<(CmdFile, Vec<String>)>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let chunk = objects.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = objects
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || part.iter().map(|o| read_cmd(build, o)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect(".cmd reader panicked"))
            .collect()
    })
}

fn read_cmd(build: &Path, object: &str) -> Option<(CmdFile, Vec<String>)> {
    let text = std::fs::read_to_string(cmdfile::cmd_path(build, object)).ok()?;
    let mut cmd = cmdfile::parse_cmd(&text);
    let mut derived = Vec::new();
    if cmd.source.is_none() {
        let mut todo = cmdfile::inputs(&cmd.command, object, build);
        let mut depth = 0;
        while !todo.is_empty() && depth < 4 {
            depth += 1;
            for input in std::mem::take(&mut todo) {
                let Ok(text) = std::fs::read_to_string(cmdfile::cmd_path(build, &input)) else {
                    continue;
                };
                let part = cmdfile::parse_cmd(&text);
                if part.source.is_none() {
                    todo.extend(cmdfile::inputs(&part.command, &input, build));
                } else {
                    merge(&mut cmd, part);
                }
                derived.push(input);
            }
        }
    }
    Some((cmd, derived))
}

/// Adds what a part's `.cmd` says to the object made from it.
fn merge(cmd: &mut CmdFile, part: CmdFile) {
    match (&cmd.source, part.source) {
        (None, Some(s)) => cmd.source = Some(s),
        (Some(_), Some(s)) => cmd.parts.push(s),
        (_, None) => {}
    }
    // The first compiled part sets it; a later one that disagrees unsets it.
    cmd.ftrace_hook = match (cmd.ftrace_hook, part.ftrace_hook) {
        (_, None) => cmd.ftrace_hook,
        (None, h) if cmd.parts.is_empty() => h,
        (h, p) => h.filter(|_| h == p),
    };
    cmd.included.extend(part.included);
    cmd.config.extend(part.config);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_paths() {
        let src = Path::new("/src");
        assert_eq!(
            relative_source("/src/lib/../scripts/dtc/libfdt/fdt.c", src),
            ("scripts/dtc/libfdt/fdt.c".to_string(), false)
        );
        assert_eq!(
            relative_source("./drivers/tty/vt/defkeymap.c", src),
            ("drivers/tty/vt/defkeymap.c".to_string(), true)
        );
        assert_eq!(
            relative_source("/elsewhere/x.c", src),
            ("/elsewhere/x.c".to_string(), false)
        );
    }
}
