//! The study table of README.md is `footprint --study`'s output (spliced in
//! by scripts/study-readme.sh): rebuilt from its own columns, the table
//! comes out byte for byte, union column and reasons included.

use kernel_footprint::study::{table, ROOTS};
use kernel_footprint::{FootprintMap, Part};

const BEGIN: &str = "<!-- study table: begin -->\n";
const END: &str = "<!-- study table: end -->";

fn readme_table() -> String {
    let readme = include_str!("../../ftrace_report/README.md");
    let (_, rest) = readme.split_once(BEGIN).expect("begin marker");
    let (table, _) = rest.split_once(END).expect("end marker");
    table.to_string()
}

/// The map whose entry paths have the sections the table gives ours.
fn map_of(table: &str) -> FootprintMap {
    let mut ours: Vec<Vec<String>> = vec![Vec::new(); ROOTS.len()];
    for line in table.lines().skip(2).take_while(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split(" |").map(str::trim).collect();
        let section = cells[0].trim_start_matches("| ");
        for (i, cell) in cells[1..=ROOTS.len()].iter().enumerate() {
            if matches!(*cell, "both" | "ours") {
                ours[i].push(section.to_string());
            }
        }
    }
    let release = table
        .rsplit_once("(Linux ")
        .and_then(|(_, r)| r.split_once(")."))
        .expect("the release in the last line")
        .0;
    FootprintMap {
        release: release.to_string(),
        entry_paths: ROOTS
            .iter()
            .zip(ours)
            .map(|(r, sections)| Part {
                name: r.path.to_string(),
                functions: 1,
                files: 1,
                subsystems: Vec::new(),
                all_sections: sections,
            })
            .collect(),
        ..FootprintMap::default()
    }
}

#[test]
fn the_readme_table_is_the_tools_output() {
    let readme = readme_table();
    let (ours, unexplained) = table(&map_of(&readme));
    assert_eq!(unexplained, Vec::<String>::new());
    assert_eq!(
        readme, ours,
        "regenerate it: scripts/study-readme.sh results/aarch64/min.study.md ftrace_report/README.md"
    );
}

#[test]
fn the_splice_script_replaces_only_the_table() {
    let dir = std::env::temp_dir().join(format!("study-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (readme, study) = (dir.join("README.md"), dir.join("min.study.md"));
    std::fs::write(
        &readme,
        format!("# x\n\nabove\n{BEGIN}| old |\n{END}\nbelow\n"),
    )
    .unwrap();
    std::fs::write(&study, "| new |\n\nSections in all: ...\n").unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/study-readme.sh");
    let run = || {
        std::process::Command::new(script)
            .args([&study, &readme])
            .output()
            .expect("the script runs")
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spliced = std::fs::read_to_string(&readme).unwrap();
    assert_eq!(
        spliced,
        format!("# x\n\nabove\n{BEGIN}| new |\n\nSections in all: ...\n{END}\nbelow\n")
    );
    std::fs::write(&study, "| X | ours | ? |\n").unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&readme).unwrap(),
        spliced,
        "left as it was"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
