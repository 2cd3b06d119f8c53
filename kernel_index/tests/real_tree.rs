//! Tests on a real kernel build tree (`make O=DIR` with
//! CONFIG_VMLINUX_MAP=y):
//!
//! `KERNEL_BUILD=DIR cargo test --locked -p kernel_index --features real-tree --test real_tree`
//!
//! Without KERNEL_BUILD they fail: they are only built with the `real-tree`
//! feature, which asks for them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kernel_index::maintainers::Maintainers;
use kernel_index::{Cache, CacheUse, Cond, KernelIndex, Linked, Lookup};

struct Shared {
    index: KernelIndex,
    cold: Duration,
    cache: PathBuf,
}

fn build_dir() -> PathBuf {
    match std::env::var_os("KERNEL_BUILD") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => panic!(
            "KERNEL_BUILD is not set: run `KERNEL_BUILD=DIR cargo test -p kernel_index --features real-tree --test real_tree`, DIR a kernel build tree made with CONFIG_VMLINUX_MAP=y"
        ),
    }
}

/// The index, made once (cold, into a cache file of its own).
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = build_dir();
        let cache =
            std::env::temp_dir().join(format!("kernel_index-real-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&cache);
        let start = Instant::now();
        let (index, used) =
            KernelIndex::open(&dir, &Cache::At(cache.clone())).unwrap_or_else(|e| panic!("{e}"));
        let cold = start.elapsed();
        assert!(matches!(used, CacheUse::Written(_)), "{used:?}");
        Shared { index, cold, cache }
    })
}

fn index() -> &'static KernelIndex {
    &shared().index
}

#[test]
fn a_cached_index_is_the_index_and_finds_every_function() {
    let s = shared();
    let start = Instant::now();
    let (warm, used) = KernelIndex::open(&build_dir(), &Cache::At(s.cache.clone())).unwrap();
    let load = start.elapsed();
    assert!(matches!(used, CacheUse::Loaded(_)), "{used:?}");
    // What a footprint does with it: every function by name and by address.
    let mut found = 0;
    for sym in warm.symbols() {
        match warm.lookup(&sym.name) {
            Lookup::Unknown => panic!("{} not found by name", sym.name),
            Lookup::Unique(f) => found += usize::from(f.object.is_some()),
            Lookup::Ambiguous(fs) => found += usize::from(fs.iter().any(|f| f.object.is_some())),
        }
        assert!(!warm.functions_at(sym.address).is_empty());
        if let Some(o) = warm.section_at(sym.address).map(|sec| warm.object_of(sec)) {
            for src in &o.sources {
                assert!(src.maintainers.len() <= warm.maintainers().len());
            }
            let _ = warm.build_condition(o);
        }
    }
    let footprint = start.elapsed();
    let _ = std::fs::remove_file(&s.cache);
    eprintln!(
        "cold index {:.2} s, warm load {:.3} s, warm load + {} look-ups {:.3} s",
        s.cold.as_secs_f64(),
        load.as_secs_f64(),
        warm.symbols().len(),
        footprint.as_secs_f64()
    );
    assert_eq!(warm.stats(), index().stats());
    assert!(found > 0);
    // The times are figures, not assertions: `make bench-footprint`
    // measures them on a quiet machine.
}

/// Global symbols that vmlinux.map lists under each input section, with
/// the object of that section: read here independently of the crate.
fn map_symbols(dir: &Path) -> Vec<(u64, String, String)> {
    let text = std::fs::read_to_string(dir.join("vmlinux.map")).unwrap();
    let body = &text[text.find("Linker script and memory map").unwrap()..];
    let mut out = Vec::new();
    let mut file: Option<String> = None;
    let mut lines = body.lines().peekable();
    while let Some(line) = lines.next() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with(" .") {
            let nums = if fields.len() == 1 {
                lines
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
            } else {
                fields[1..].to_vec()
            };
            file = (nums.len() >= 3).then(|| nums[2..].join(" "));
        } else if !line.starts_with(' ') || line.starts_with(" *") {
            file = None;
        } else if fields.len() == 2 && fields[0].starts_with("0x") && !fields[1].contains('=') {
            if let Some(f) = &file {
                let addr = u64::from_str_radix(&fields[0][2..], 16).unwrap();
                out.push((addr, fields[1].to_string(), f.clone()));
            }
        }
    }
    out
}

#[test]
fn addresses_map_to_the_objects_the_linker_map_lists() {
    let index = index();
    let stats = index.stats();
    assert!(
        stats.symbols_with_object * 100 >= stats.text_symbols * 99,
        "{stats:?}"
    );
    let text: BTreeSet<(u64, &str)> = index
        .symbols()
        .iter()
        .map(|s| (s.address, s.name.as_str()))
        .collect();
    let mut checked = 0;
    for (addr, name, file) in map_symbols(index.build_dir()) {
        if !text.contains(&(addr, name.as_str())) {
            continue;
        }
        let functions = index.functions_at(addr);
        let f = functions
            .iter()
            .find(|f| f.symbol.name == name)
            .unwrap_or_else(|| panic!("{name} at {addr:#x} not found"));
        let object = f.object.map(|o| o.path.as_str());
        assert_eq!(object, Some(file.as_str()), "{name} at {addr:#x}");
        checked += 1;
    }
    assert!(
        checked * 4 > stats.text_symbols,
        "only {checked} symbols checked"
    );
    // Unplaced symbols are the linker script's, not an object's.
    for s in index.symbols().iter().filter(|s| s.section.is_none()) {
        assert!(
            index.section_at(s.address).is_none(),
            "{} lies in a section but has none",
            s.name
        );
    }
}

#[test]
fn static_duplicates_are_reported_not_guessed() {
    let index = index();
    let sysmap = std::fs::read_to_string(index.build_dir().join("System.map")).unwrap();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for line in sysmap.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if matches!(f[1], "t" | "T" | "w" | "W") {
            *count.entry(f[2]).or_default() += 1;
        }
    }
    let mut ambiguous = 0;
    for (name, n) in &count {
        match index.lookup(name) {
            Lookup::Unique(_) => assert_eq!(*n, 1, "{name}"),
            Lookup::Ambiguous(fs) => {
                assert_eq!(fs.len(), *n, "{name}");
                ambiguous += 1;
            }
            Lookup::Unknown => panic!("{name} unknown"),
        }
    }
    assert_eq!(ambiguous, index.stats().ambiguous_names);
    let values = index.config_values();
    let gic = ["ARM_GIC", "ARM_GIC_V3"];
    if gic
        .iter()
        .all(|s| values.get(*s).map(String::as_str) == Some("y"))
    {
        let Lookup::Ambiguous(fs) = index.lookup("gic_handle_irq") else {
            panic!("gic_handle_irq is in both GIC drivers");
        };
        let objects: BTreeSet<&str> = fs
            .iter()
            .filter_map(|f| Some(f.object?.path.as_str()))
            .collect();
        assert_eq!(
            objects,
            BTreeSet::from(["drivers/irqchip/irq-gic-v3.o", "drivers/irqchip/irq-gic.o"])
        );
        for f in fs {
            assert_eq!(f.section.map(|s| s.name.as_str()), Some(".irqentry.text"));
        }
    }
}

#[test]
fn objects_have_sources_that_exist() {
    let index = index();
    for o in index.objects() {
        if o.sources.is_empty() {
            assert!(
                !o.doubts.is_empty(),
                "{} has no source and no doubt",
                o.path
            );
        }
        for s in &o.sources {
            let base = if s.generated {
                index.build_dir()
            } else {
                index.source_dir()
            };
            assert!(base.join(&s.path).is_file(), "{}: {}", o.path, s.path);
            assert!(
                !s.maintainers.is_empty(),
                "{}: THE REST matches all",
                s.path
            );
        }
        assert!(o.sources.iter().take(1).all(|s| !s.included), "{}", o.path);
    }
    let stats = index.stats();
    assert!(
        stats.objects_with_source * 100 >= stats.objects * 95,
        "{stats:?}"
    );
}

#[test]
fn the_ftrace_hook_is_read_from_the_compile_commands() {
    let index = index();
    let hook = |path: &str| index.object(path).map(|o| o.ftrace_hook);
    assert_eq!(hook("kernel/sched/core.o"), Some(Some(true)));
    // Built without it in Linux 6.12: lib/, kernel/trace/, kernel/irq_work.c.
    assert_eq!(hook("lib/rbtree.o"), Some(Some(false)));
    assert_eq!(hook("kernel/trace/ring_buffer.o"), Some(Some(false)));
    assert_eq!(hook("kernel/irq_work.o"), Some(Some(false)));
    let hooked = index
        .objects()
        .iter()
        .filter(|o| o.ftrace_hook == Some(true))
        .count();
    assert!(hooked * 2 > index.objects().len(), "{hooked}");
}

fn positive(c: &Cond) -> bool {
    match c {
        Cond::Not(_) | Cond::Unparsed(_) => false,
        Cond::All(cs) | Cond::Any(cs) => cs.iter().all(positive),
        _ => true,
    }
}

#[test]
fn build_conditions_hold_and_depend_on_their_symbols() {
    let index = index();
    let values = index.config_values();
    let mut doubtful = Vec::new();
    let mut switched_off = 0;
    for o in index.objects() {
        let c = index.build_condition(o);
        let holds = c.eval(values);
        if holds != Some(true) {
            assert!(
                !o.doubts.is_empty(),
                "{}: {c} is {holds:?} without a doubt",
                o.path
            );
            doubtful.push(format!("{}: {}", o.path, o.doubts.join("; ")));
            continue;
        }
        assert!(
            o.build.iter().all(|i| !i.lines.is_empty()) || o.linked == Linked::CommandLine,
            "{}",
            o.path
        );
        let symbols = c.symbols();
        if symbols.is_empty() || !positive(&c) {
            continue;
        }
        let mut off = values.clone();
        for s in &symbols {
            off.insert(s.clone(), "n".into());
        }
        assert_eq!(
            c.eval(&off),
            Some(false),
            "{}: {c} holds with its symbols off",
            o.path
        );
        switched_off += 1;
    }
    eprintln!(
        "{} objects, {} conditions switched off by their symbols, {} doubtful:\n{}",
        index.objects().len(),
        switched_off,
        doubtful.len(),
        doubtful.join("\n")
    );
    assert_eq!(doubtful.len(), index.stats().conditions_doubtful);
    assert!(
        doubtful.len() * 20 <= index.objects().len(),
        "too many doubts"
    );
    assert!(switched_off > 0);
}

#[test]
fn kconfig_symbols_are_defined_with_prompts_and_values() {
    let index = index();
    assert!(
        !index.notes().iter().any(|n| n.contains("auto.conf.cmd")),
        "{:?}",
        index.notes()
    );
    let mut in_conditions = BTreeSet::new();
    for o in index.objects() {
        in_conditions.extend(index.build_condition(o).symbols());
        assert_eq!(index.config_deps(o).count(), o.config_deps.len());
    }
    // Values as .config has them, read here on its own.
    let config = std::fs::read_to_string(index.build_dir().join(".config")).unwrap();
    let mut values: HashMap<&str, &str> = HashMap::new();
    for line in config.lines() {
        if let Some((k, v)) = line.strip_prefix("CONFIG_").and_then(|l| l.split_once('=')) {
            values.insert(k, v);
        } else if let Some(k) = line
            .strip_prefix("# CONFIG_")
            .and_then(|l| l.strip_suffix(" is not set"))
        {
            values.insert(k, "n");
        }
    }
    let mut prompts = 0;
    for name in &in_conditions {
        let s = index.kconfig_symbol(name).unwrap();
        let def = s
            .definition
            .as_ref()
            .unwrap_or_else(|| panic!("{name} of a condition is not defined in Kconfig"));
        assert_eq!(
            s.value.as_deref(),
            values.get(name.as_str()).copied(),
            "{name}"
        );
        assert!(!def.defined_at.is_empty());
        prompts += usize::from(s.prompt().is_some());
    }
    assert!(prompts > 0);
    // Every symbol .config sets is defined by a Kconfig file read.
    for o in index.objects() {
        for s in index.config_deps(o) {
            if s.value.is_some() {
                assert!(s.definition.is_some(), "{} is set but not defined", s.name);
            }
        }
    }
}

/// `get_maintainer.pl --sections` for many files: per file, the section
/// titles in its order. Each file's list ends with THE REST (`F: *` and
/// `F: */`, depth -1, the only section that low), which splits the output.
fn get_maintainer(source: &Path, files: &[String]) -> Vec<Vec<String>> {
    let chunks: Vec<&[String]> = files.chunks(files.len().div_ceil(3).max(1)).collect();
    let outputs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    let out = Command::new("perl")
                        .current_dir(source)
                        .args([
                            "scripts/get_maintainer.pl",
                            "--no-git",
                            "--no-git-fallback",
                            "--sections",
                            "-f",
                        ])
                        .args(chunk.iter())
                        .output()
                        .expect("perl runs");
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    String::from_utf8(out.stdout).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut per_file = Vec::new();
    let mut current = Vec::new();
    for out in outputs {
        for block in out.split("\n\n") {
            let Some(title) = block.lines().next().filter(|t| !t.is_empty()) else {
                continue;
            };
            current.push(title.to_string());
            if title == "THE REST" {
                per_file.push(std::mem::take(&mut current));
            }
        }
    }
    assert!(
        current.is_empty(),
        "output after the last THE REST: {current:?}"
    );
    per_file
}

#[test]
fn maintainers_sections_match_get_maintainer_pl() {
    let index = index();
    let source = index.source_dir();
    let maintainers = Maintainers::load(source).unwrap();
    let mut files: BTreeSet<String> = index
        .objects()
        .iter()
        .flat_map(|o| &o.sources)
        .filter(|s| !s.generated)
        .map(|s| s.path.clone())
        .collect();
    let step = (files.len() / 250).max(1);
    files = files.into_iter().step_by(step).collect();
    // Files of no object: headers, device trees, docs, tools, top-level,
    // and where X: and N: lines apply (dts of allwinner and freescale,
    // drivers/char, include/net, drm/i915).
    for dir in [
        "include/linux",
        "include/net",
        "arch/arm64/boot/dts/allwinner",
        "arch/arm64/boot/dts/freescale",
        "drivers/char",
        "drivers/gpu/drm/i915",
        "Documentation/admin-guide",
        "tools/perf",
    ] {
        let mut found: Vec<String> = walk(&source.join(dir))
            .into_iter()
            .map(|p| {
                p.strip_prefix(source)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        found.sort();
        files.extend(found.into_iter().step_by(37).take(8));
    }
    files.extend(["MAINTAINERS".to_string(), "Makefile".to_string()]);
    let files: Vec<String> = files.into_iter().collect();
    let start = Instant::now();
    let expected = get_maintainer(source, &files);
    eprintln!(
        "get_maintainer.pl on {} files: {:.1} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(expected.len(), files.len());
    let from_index: HashMap<&str, Vec<(String, i32)>> = index
        .objects()
        .iter()
        .flat_map(|o| &o.sources)
        .map(|s| {
            let m = s
                .maintainers
                .iter()
                .map(|m| (index.section(*m).name.clone(), m.depth))
                .collect();
            (s.path.as_str(), m)
        })
        .collect();
    for (file, perl) in files.iter().zip(&expected) {
        let mine: Vec<(String, i32)> = maintainers
            .sections_for(file)
            .into_iter()
            .map(|m| (maintainers.sections()[m.section].name.clone(), m.depth))
            .collect();
        if let Some(indexed) = from_index.get(file.as_str()) {
            assert_eq!(indexed, &mine, "{file}");
        }
        let mine_names: BTreeSet<&str> = mine.iter().map(|(n, _)| n.as_str()).collect();
        let perl_names: BTreeSet<&str> = perl.iter().map(String::as_str).collect();
        assert_eq!(mine_names, perl_names, "{file}");
        // The script orders by depth, ties in hash order: its order must be
        // ours up to the order within one depth.
        let depth: HashMap<&str, i32> = mine.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let depths: Vec<i32> = perl.iter().map(|n| depth[n.as_str()]).collect();
        assert!(
            depths.windows(2).all(|w| w[0] >= w[1]),
            "{file}: get_maintainer.pl order {perl:?}, depths {depths:?}"
        );
        let mine_depths: Vec<i32> = mine.iter().map(|(_, d)| *d).collect();
        assert_eq!(mine_depths, depths, "{file}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}
