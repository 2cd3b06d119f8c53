//! `footprint`'s text: the map's views as tab-separated sections.

use std::collections::BTreeMap;

use crate::FootprintMap;

/// The text's mark of a row reached only through ambiguous names, after
/// its last column.
fn mark(only_ambiguous: bool) -> &'static str {
    if only_ambiguous {
        "\t(ambiguous)"
    } else {
        ""
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// The text form: one section per view, tab-separated rows.
pub fn text(m: &FootprintMap) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "# kernel footprint of {} ({})", m.trace, m.filter);
    let _ = writeln!(
        o,
        "kernel build: {} (release {})",
        m.kernel_build, m.release
    );
    let _ = writeln!(
        o,
        "functions: {} ({} ambiguous, {} unmapped); files: {}; subsystems: {}",
        m.functions.len(),
        m.ambiguous.len(),
        m.unmapped.len(),
        m.files.len(),
        m.subsystems.len()
    );
    for a in &m.ambiguous {
        let objs = m
            .functions
            .iter()
            .find(|f| &f.name == a)
            .map(|f| f.objects.join(" or "))
            .unwrap_or_default();
        let _ = writeln!(o, "ambiguous: {a}: {objs}");
    }
    for f in m.functions.iter().filter(|f| f.by_address) {
        let _ = writeln!(
            o,
            "by address: {}: {} (a name several files share; the trace's addresses tell which ran)",
            f.name,
            f.objects.join(" and ")
        );
    }
    for u in &m.unmapped {
        let _ = writeln!(o, "unmapped: {}: {}", u.name, u.reason);
    }
    let _ = writeln!(
        o,
        "\n## subsystems (most specific MAINTAINERS section)\n# section\tfiles\tfunctions\tcalls"
    );
    for s in &m.subsystems {
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}{}",
            s.name,
            s.files,
            s.functions,
            s.calls,
            mark(s.only_ambiguous)
        );
    }
    let _ = writeln!(o, "\n## entry paths\n# path\tfunctions\tfiles\tsubsystems");
    for p in &m.entry_paths {
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}",
            p.name,
            p.functions,
            p.files,
            p.subsystems.join("; ")
        );
    }
    let _ = writeln!(
        o,
        "\n## phase x context\n# cell\tfunctions\tfiles\tsubsystems"
    );
    for p in &m.cells {
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}",
            p.name,
            p.functions,
            p.files,
            p.subsystems.len()
        );
    }
    let _ = writeln!(o, "\n## source files\n# file\tfunctions\tcalls\tsubsystems");
    for f in &m.files {
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}{}",
            f.path,
            f.functions,
            f.calls,
            f.subsystems.join("; "),
            mark(f.only_ambiguous)
        );
    }
    let _ = writeln!(
        o,
        "\n## functions (the whole chain)\n# function\tcalls\tobject [its build condition]\tsource files\tsections, most specific first"
    );
    for f in &m.functions {
        let objects: Vec<String> = f
            .build_conditions
            .iter()
            .map(|(o, c)| format!("{o} [{c}]"))
            .collect();
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}\t{}{}",
            f.name,
            f.calls,
            or_dash(&objects.join(" or ")),
            or_dash(&f.files.join(" ")),
            // A file only THE REST matches has no other section.
            or_dash(&if f.all_sections.is_empty() {
                f.subsystems.join("; ")
            } else {
                f.all_sections.join("; ")
            }),
            mark(f.ambiguous)
        );
    }
    for (title, rows) in [
        (
            "Kconfig symbols that build the touched objects",
            &m.build_symbols,
        ),
        (
            "Kconfig symbols the touched objects' sources read",
            &m.read_symbols,
        ),
    ] {
        let _ = writeln!(
            o,
            "\n## {title}\n# symbol\tvalue\tobjects\tfunctions\tprompt"
        );
        for s in rows {
            let _ = writeln!(
                o,
                "{}\t{}\t{}\t{}\t{}{}",
                s.symbol,
                s.value.as_deref().unwrap_or("-"),
                s.objects,
                s.functions,
                s.prompt.as_deref().unwrap_or("-"),
                mark(s.only_ambiguous)
            );
        }
    }
    let c = &m.config;
    let _ = writeln!(o, "\n## configuration\n# {}", c.note);
    let prompts: BTreeMap<&str, &str> = m
        .build_symbols
        .iter()
        .map(|s| (s.symbol.as_str(), s.prompt.as_deref().unwrap_or("-")))
        .collect();
    for (title, symbols) in [
        ("=y symbols that build touched objects", &c.touched),
        (
            "=y symbols touched only if one of the ambiguous candidates ran",
            &c.symbols_only_if_ambiguous,
        ),
    ] {
        let _ = writeln!(o, "{title}: {}", symbols.len());
        for s in symbols {
            let prompt = prompts.get(s.as_str()).copied().unwrap_or("-");
            let _ = writeln!(o, "{s}\t{prompt}");
        }
    }
    let _ = writeln!(
        o,
        "objects touched only if one of the ambiguous candidates ran: {}",
        c.objects_only_if_ambiguous.len()
    );
    for p in &c.objects_only_if_ambiguous {
        let _ = writeln!(o, "{p}");
    }
    let _ = writeln!(
        o,
        "objects never touched: {} of {}",
        c.untouched_objects.len(),
        c.untouched_objects.len() + c.objects_only_if_ambiguous.len() + c.touched_objects
    );
    for p in &c.untouched_objects {
        let _ = writeln!(o, "{p}");
    }
    o
}
