//! Making the index: reading a build tree from scratch.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::{
    identity, source_dir, InputSection, KernelIndex, Linked, MaintainersSection, Match, Object,
    SourceFile, TextSymbol, FORMAT,
};
use crate::cmdfile::{self, CmdFile};
use crate::cond::ConfigValues;
use crate::error::Error;
use crate::kbuild::{Inclusion, Kbuild};
use crate::kconfig::{self, Kconfig};
use crate::linkmap::{self, Pulled};
use crate::maintainers::{Maintainers, SectionMatch};

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
