//! The footprint of the traces: maps, the golden sections, the study table, the pages.

use super::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

fn footprint_map(id: &str) -> serde_json::Value {
    serde_json::from_str(&read(&format!("{id}.footprint.json")))
        .unwrap_or_else(|e| panic!("{id}.footprint.json: {e}"))
}

fn path_sections<'a>(map: &'a serde_json::Value, path: &str) -> Vec<&'a str> {
    map["entry_paths"]
        .as_array()
        .expect("entry paths")
        .iter()
        .find(|p| p["name"] == path)
        .unwrap_or_else(|| panic!("no entry path '{path}'"))["all_sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter_map(|s| s.as_str())
        .collect()
}

#[test]
fn every_function_of_min_maps_to_an_object_a_file_and_a_subsystem() {
    let kernel = std::env::var("KERNEL_DIR").expect("KERNEL_DIR: run through `make vm-test`");
    let recorded = read("kernel-build");
    assert_eq!(
        fs::canonicalize(recorded.trim()).unwrap(),
        fs::canonicalize(&kernel).unwrap(),
        "the results name another kernel build"
    );
    // Static functions of both GIC drivers share these names (arm64); the
    // page fault's entry path and the interrupt controller per architecture.
    let (shared, fault_path, irq_sections): (&[&str], &str, &[&str]) = match arch().as_str() {
        "aarch64" => (
            &["gic_eoi_irq", "gic_handle_irq", "gic_ipi_send_mask"],
            "user instruction abort (el0_ia)",
            &[
                "ARM GENERIC INTERRUPT CONTROLLER DRIVERS",
                "HIGH-RESOLUTION TIMERS, TIMER WHEEL, CLOCKEVENTS",
            ],
        ),
        _ => (
            &[],
            "user data abort (el0_da) / page fault",
            &["HIGH-RESOLUTION TIMERS, TIMER WHEEL, CLOCKEVENTS"],
        ),
    };
    for id in ["min", "min.large"] {
        let map = footprint_map(id);
        assert_eq!(map["unmapped"], serde_json::json!([]), "{id}");
        // The trace's addresses (sym-addr) tell which of the same-named
        // functions ran: none is left ambiguous, each has one object.
        assert_eq!(map["ambiguous"], serde_json::json!([]), "{id}");
        let functions = map["functions"].as_array().unwrap();
        assert!(functions.len() > 400, "{id}: {} functions", functions.len());
        for f in functions {
            let objects = f["objects"].as_array().unwrap();
            assert_eq!(objects.len(), 1, "{id}: {f}");
            let is_shared = shared.contains(&f["name"].as_str().unwrap());
            assert_eq!(f["by_address"], is_shared, "{id}: {f}");
        }
        let execve = path_sections(&map, "execve system call");
        for s in ["EXEC & BINFMT API, ELF", "MEMORY MANAGEMENT", "SCHEDULER"] {
            assert!(execve.contains(&s), "{id}: execve lacks {s}: {execve:?}");
        }
        let fault = path_sections(&map, fault_path);
        assert!(
            fault.contains(&"PAGE CACHE"),
            "{id}: {fault_path}: {fault:?}"
        );
        let irq = path_sections(&map, "interrupts");
        for s in irq_sections {
            assert!(irq.contains(s), "{id}: interrupts lack {s}: {irq:?}");
        }
        assert!(
            map["build_symbols"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["symbol"] == "CONFIG_BINFMT_ELF" && s["value"] == "y"),
            "{id}: BINFMT_ELF builds binfmt_elf.o"
        );
    }
}

/// One line of the golden footprint file: a payload's entry path and one
/// MAINTAINERS section under it (`entry_paths[].subsystems`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GoldenSection {
    id: String,
    path: String,
    section: String,
}

impl GoldenSection {
    /// The section as a field: a tab in a MAINTAINERS title (x86's "HPET:
    /// x86") written `\t`.
    fn escaped(&self) -> String {
        self.section.replace('\t', "\\t")
    }
}

/// `tests/golden/footprint-ARCH.tsv`: the kernel build it was made on (its
/// cache directory's name: source version, config hash),
/// then `ID<TAB>PATH<TAB>always<TAB>SECTION` (in every run) or
/// `ID<TAB>PATH<TAB>varies<TAB>SECTION<TAB>REASON` (in some runs).
fn golden_footprint_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden"))
        .join(format!("footprint-{}.tsv", arch()))
}

/// The kernel build, the `always` sections, the `varies` sections and reasons.
type Golden = (
    String,
    BTreeSet<GoldenSection>,
    BTreeMap<GoldenSection, String>,
);

fn golden_footprint() -> Option<Golden> {
    let text = fs::read_to_string(golden_footprint_path()).ok()?;
    let (mut build, mut always, mut varies) = (None, BTreeSet::new(), BTreeMap::new());
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        let key = |i: usize| GoldenSection {
            id: f[0].into(),
            path: f[1].into(),
            section: f[i].replace("\\t", "\t"),
        };
        match f.as_slice() {
            ["kernel_build", b] => build = Some(b.to_string()),
            [_, _, "always", _] => {
                always.insert(key(3));
            }
            [_, _, "varies", _, reason] => {
                varies.insert(key(3), reason.to_string());
            }
            _ => panic!("{}: bad line {line:?}", golden_footprint_path().display()),
        }
    }
    Some((build.expect("a kernel_build line"), always, varies))
}

/// Every payload's entry paths and their sections: the golden set of the
/// traced kernel. A section in every run is `always`; one that only some
/// runs reach (a fault that takes the slow path, what a tick's softirq
/// runs) is `varies`, with its reason. `UPDATE_GOLDEN=1 make vm-test`
/// rewrites the file from this run (keeping the `varies` lines) after a
/// kernel or config change; review its diff.
#[test]
fn the_footprints_subsystems_are_the_golden_ones() {
    let mut seen = BTreeSet::new();
    let mut kernel_build = String::new();
    for id in ["min", "min.large"] {
        let map = footprint_map(id);
        // The cache directory's name: source version and config hash.
        let dir = map["kernel_build"].as_str().expect("kernel_build");
        kernel_build = dir.rsplit('/').next().unwrap().to_string();
        for p in map["entry_paths"].as_array().expect("entry paths") {
            for s in p["subsystems"].as_array().expect("subsystems") {
                let key = GoldenSection {
                    id: id.into(),
                    path: p["name"].as_str().unwrap().into(),
                    section: s.as_str().unwrap().into(),
                };
                seen.insert(key);
            }
        }
    }
    let golden = golden_footprint();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let varies = golden.map(|g| g.2).unwrap_or_default();
        let mut out = String::from(
            "# The MAINTAINERS sections under each kernel entry path of the guest\n\
             # traces' footprints (footprint --json: entry_paths[].subsystems).\n\
             # always: in every run; varies: in some runs, with the reason.\n\
             # After a kernel or config change: UPDATE_GOLDEN=1 make vm-test, then\n\
             # review the diff (varies lines are kept).\n",
        );
        out += &format!("kernel_build\t{kernel_build}\n");
        let mut lines: Vec<String> = seen
            .iter()
            .filter(|k| !varies.contains_key(*k))
            .map(|k| format!("{}\t{}\talways\t{}\n", k.id, k.path, k.escaped()))
            .collect();
        lines.extend(
            varies
                .iter()
                .map(|(k, r)| format!("{}\t{}\tvaries\t{}\t{r}\n", k.id, k.path, k.escaped())),
        );
        lines.sort();
        out.extend(lines);
        fs::create_dir_all(golden_footprint_path().parent().unwrap()).unwrap();
        fs::write(golden_footprint_path(), out).unwrap();
        return;
    }
    let (golden_build, always, varies) = golden.unwrap_or_else(|| {
        panic!(
            "{}: missing; make it with UPDATE_GOLDEN=1 make vm-test",
            golden_footprint_path().display()
        )
    });
    assert_eq!(
        golden_build, kernel_build,
        "the golden footprint is of another kernel build: UPDATE_GOLDEN=1 make vm-test, and review"
    );
    let missing: Vec<_> = always.difference(&seen).collect();
    let new: Vec<_> = seen
        .iter()
        .filter(|k| !always.contains(*k) && !varies.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && new.is_empty(),
        "footprint sections differ from {}: missing {missing:?}, new {new:?}",
        golden_footprint_path().display()
    );
}

/// The study comparison of ftrace_report/README.md, between its markers.
fn readme_study_table() -> String {
    let readme = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ftrace_report/README.md"
    ))
    .expect("ftrace_report/README.md");
    let (_, rest) = readme
        .split_once("<!-- study table: begin -->\n")
        .expect("begin marker");
    let (table, _) = rest
        .split_once("<!-- study table: end -->")
        .expect("end marker");
    table.to_string()
}

/// The study table's root columns, as footprint's entry paths name them;
/// a fourth column is their union.
const STUDY_ROOTS: [&str; 3] = [
    "execve system call",
    "user instruction abort (el0_ia)",
    "interrupts",
];

/// Section -> its cells under the three roots and their union (`both`,
/// `study`, `ours` or empty), from the rows of a study table.
fn study_cells(table: &str) -> BTreeMap<String, [String; 4]> {
    table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells.len() > 6
                && !cells[1].starts_with("MAINTAINERS")
                && !cells[1].starts_with("---"))
            .then(|| {
                let cell = |i: usize| cells[i].to_string();
                (cell(1), [cell(2), cell(3), cell(4), cell(5)])
            })
        })
        .collect()
}

#[test]
fn the_study_table_of_the_readme_holds_for_this_trace() {
    // Every cell of the README's table holds, but for the sections that
    // the golden footprint says reach a root in some runs only (a fault's
    // lock fallback, what a tick finds to do): these may differ there and
    // in the union.
    let varies = golden_footprint().map(|g| g.2).unwrap_or_default();
    let readme = study_cells(&readme_study_table());
    assert!(
        readme.len() > 30,
        "{} rows in the README's table",
        readme.len()
    );
    for id in ["min", "min.large"] {
        let text = read(&format!("{id}.study.md"));
        assert!(
            !text.contains("| ? |"),
            "{id}: a difference from the study has no reason (kernel_footprint/src/study.rs REASONS):\n{text}"
        );
        let ours = study_cells(&text);
        let empty: [String; 4] = Default::default();
        let mut differ = Vec::new();
        for section in readme.keys().chain(ours.keys()).collect::<BTreeSet<_>>() {
            let (a, b) = (
                readme.get(section).unwrap_or(&empty),
                ours.get(section).unwrap_or(&empty),
            );
            let mut row_varies = false;
            for (i, root) in STUDY_ROOTS.iter().enumerate() {
                let key = GoldenSection {
                    id: id.into(),
                    path: root.to_string(),
                    section: section.clone(),
                };
                if varies.contains_key(&key) {
                    row_varies = true;
                } else if a[i] != b[i] {
                    differ.push(format!(
                        "{section} under {root}: {:?} here, {:?} in the README",
                        b[i], a[i]
                    ));
                }
            }
            if a[3] != b[3] && !row_varies {
                differ.push(format!(
                    "{section} in the union: {:?} here, {:?} in the README",
                    b[3], a[3]
                ));
            }
        }
        assert!(
            differ.is_empty(),
            "{id}: the study table changed: {differ:?}; check it, then scripts/study-readme.sh {} ftrace_report/README.md",
            results().join(format!("{id}.study.md")).display()
        );
    }
}

#[test]
fn footprint_refuses_a_trace_of_another_kernel() {
    let report = std::env::var("FTRACE_REPORT").expect("FTRACE_REPORT: run through `make vm-test`");
    let kernel = std::env::var("KERNEL_DIR").expect("KERNEL_DIR: run through `make vm-test`");
    let dir = std::env::temp_dir().join(format!("footprint-other-kernel-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let other = dir.join("min.trace");
    let trace = read("min.trace");
    // The header names this build (`uname -v`), which footprint checks too.
    assert!(
        trace.contains("# ftrace_it.kernel_version: #"),
        "no kernel_version in the header"
    );
    let other_release = trace.replacen("# ftrace_it.kernel: ", "# ftrace_it.kernel: 6.6.37-", 1);
    let other_build = trace.replacen(
        "# ftrace_it.kernel_version: #",
        "# ftrace_it.kernel_version: #99",
        1,
    );
    for text in [other_release, other_build] {
        fs::write(&other, text).unwrap();
        let out = std::process::Command::new(&report)
            .args(["footprint", "--kernel-build", &kernel])
            .arg(&other)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(12), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// The pages vmrun writes beside the reports: one per trace, the diff of
/// the first two payloads, and the index linking them; a page's subsystem
/// and entry path bars are its footprint map's.
#[test]
fn the_html_pages_show_the_footprint_map_and_the_index_links_them() {
    let index = read("index.html");
    for page in ["min.html", "min.large.html", "diff-min-min.large.html"] {
        assert!(index.contains(&format!("href=\"{page}\"")), "{page}");
        assert!(results().join(page).exists(), "{page}");
    }
    for id in ["min", "min.large"] {
        let html = read(&format!("{id}.html"));
        let map = footprint_map(id);
        let mut bars = 0;
        for part in ["subsystems", "entry_paths"] {
            for s in map[part].as_array().expect(part) {
                let bar = format!(
                    "data-name=\"{}\" data-value=\"{}\"",
                    report_pages::esc(s["name"].as_str().unwrap()),
                    s["functions"]
                );
                assert!(html.contains(&bar), "{id}: {bar}");
                bars += 1;
            }
        }
        assert_eq!(
            html.matches("<div class=\"bar both\"").count(),
            bars,
            "{id}"
        );
    }
}
