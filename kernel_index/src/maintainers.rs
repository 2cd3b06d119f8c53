//! MAINTAINERS sections of a file, as `scripts/get_maintainer.pl -f FILE
//! --sections` finds them (Linux 6.12's script, read line by line).
//!
//! What the script does, and this module with it:
//! - `F:`/`X:` values become Perl regexes: `.` -> `\.`, `*` -> `.*`,
//!   `?` -> `.`; if the converted value names a directory of the source
//!   tree (checked with `-d` on the converted string, so a value with a `.`
//!   or a glob never qualifies), a `/` is appended.
//! - A value ending in `/` matches every path that starts with it (the whole
//!   tree below). Any other value must match at the start of the path *and*
//!   have as many `/` as the path: a glob stays within one directory level,
//!   and `drivers/foo` also matches `drivers/foobar.c`.
//! - A section with a matching `X:` is skipped entirely.
//! - `N:` is a Perl regex (`/x`) matched anywhere in the path, at depth 0.
//! - `K:` is ignored: with `-f FILE` the script applies keywords only with
//!   `--keywords-in-file`, and `--sections` turns that off.
//! - Depth of an `F:` match: the number of `/` in the converted value, plus
//!   one when it does not end in `/`, or -1 when it starts with `*`. When
//!   several patterns of one section match, the last one in the section sets
//!   the depth (the script overwrites its hash entry).
//! - Sections are printed by decreasing depth. Equal depths come out in Perl
//!   hash order, which changes from run to run; here they keep MAINTAINERS
//!   order.
//!
//! Regex differences: the `regex` crate has no backreferences or lookaround
//! (no MAINTAINERS line of 6.12 uses them); a line it cannot compile is an
//! error rather than a silent miss. In `/x` mode Perl keeps whitespace inside
//! `[...]` and the crate does not; no 6.12 pattern has whitespace.

use std::path::Path;

use regex::Regex;

use crate::error::Error;

/// One section of MAINTAINERS: its title line and its `X: value` entries.
#[derive(Debug, Clone)]
pub struct Section {
    /// The title line, as `get_maintainer.pl --sections` prints it.
    pub name: String,
    /// 1-based line of the title in MAINTAINERS.
    pub line: usize,
    /// The entries in file order: type letter and value.
    pub entries: Vec<(char, String)>,
    patterns: Vec<Pattern>,
}

impl Section {
    /// The values of one entry type, e.g. `'M'` for the maintainers.
    pub fn values(&self, kind: char) -> impl Iterator<Item = &str> + '_ {
        self.entries
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    }

    /// The `S:` status (e.g. "Maintained", "Supported", "Orphan").
    pub fn status(&self) -> Option<&str> {
        self.values('S').next()
    }
}

/// A section that matches a path, and how deep its matching pattern reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionMatch {
    /// Index into [`Maintainers::sections`].
    pub section: usize,
    /// `get_maintainer.pl`'s pattern depth: higher is more specific.
    pub depth: i32,
}

#[derive(Debug, Clone)]
enum Pattern {
    File(FilePattern),
    Exclude(FilePattern),
    Name(Regex),
}

#[derive(Debug, Clone)]
struct FilePattern {
    matcher: Matcher,
    /// The converted value ends in `/`: it matches the whole tree below.
    tree: bool,
    slashes: usize,
    depth: i32,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// No regex syntax in the value: a plain prefix test.
    Prefix(String),
    Regex(Regex),
}

impl FilePattern {
    /// `get_maintainer.pl`'s `file_match_pattern`.
    fn matches(&self, file: &str) -> bool {
        let prefix = match &self.matcher {
            Matcher::Prefix(p) => file.starts_with(p.as_str()),
            Matcher::Regex(r) => r.is_match(file),
        };
        prefix && (self.tree || file.bytes().filter(|&b| b == b'/').count() == self.slashes)
    }
}

/// The sections of a MAINTAINERS file, ready to match paths.
#[derive(Debug, Clone)]
pub struct Maintainers {
    sections: Vec<Section>,
}

const REGEX_META: &[char] = &['\\', '^', '$', '|', '+', '(', ')', '[', ']', '{', '}'];

impl Maintainers {
    /// Reads `MAINTAINERS` of a source tree; directories are checked in that
    /// tree, as `get_maintainer.pl` does when run from its top.
    pub fn load(source_root: &Path) -> Result<Maintainers, Error> {
        let path = source_root.join("MAINTAINERS");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Maintainers::parse(&text, &path, |value| {
            !value.is_empty() && source_root.join(value).is_dir()
        })
    }

    /// Parses MAINTAINERS text; `is_dir` answers the script's `-d VALUE`
    /// for a converted `F:`/`X:` value. `path` only names the file in errors.
    pub fn parse(
        text: &str,
        path: &Path,
        is_dir: impl Fn(&str) -> bool,
    ) -> Result<Maintainers, Error> {
        // The script's @typevalue: typed lines and the other non-blank,
        // non-comment lines (titles), in order.
        enum Tv<'a> {
            Typed(char, &'a str, usize),
            Raw(&'a str, usize),
        }
        let mut tvs = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let b = line.as_bytes();
            if b.len() >= 2 && b[0].is_ascii_uppercase() && b[1] == b':' {
                let value = line[2..].trim_start_matches(perl_space);
                tvs.push(Tv::Typed(b[0] as char, value, n + 1));
            } else {
                let t = line.trim_start_matches(perl_space);
                if !t.is_empty() && !t.starts_with('#') {
                    tvs.push(Tv::Raw(line, n + 1));
                }
            }
        }
        let typed = |i: usize| matches!(tvs[i], Tv::Typed(..));
        let err = |line: usize, message: String| Error::Maintainers {
            path: path.to_path_buf(),
            line,
            message,
        };

        let mut sections = Vec::new();
        // find_first_section, then the loop of get_maintainers().
        let mut tvi = (0..tvs.len()).find(|&i| typed(i)).unwrap_or(tvs.len());
        while tvi < tvs.len() {
            let mut start = tvi;
            while start > 0 && typed(start) {
                start -= 1;
            }
            let mut end = tvi;
            while end < tvs.len() && typed(end) {
                end += 1;
            }
            let (name, line) = match tvs[start] {
                Tv::Raw(t, n) => (t.to_string(), n),
                Tv::Typed(k, v, n) => (format!("{k}:{v}"), n),
            };
            let mut entries = Vec::new();
            let mut patterns = Vec::new();
            for tv in &tvs[start..end] {
                let Tv::Typed(kind, value, n) = *tv else {
                    continue;
                };
                entries.push((kind, value.to_string()));
                match kind {
                    'F' | 'X' => {
                        let fp = file_pattern(value, &is_dir).map_err(|e| {
                            err(n, format!("{kind}: pattern {value:?}: {}", one_line(&e)))
                        })?;
                        patterns.push(if kind == 'F' {
                            Pattern::File(fp)
                        } else {
                            Pattern::Exclude(fp)
                        });
                    }
                    'N' => {
                        let r = Regex::new(&format!("(?x){value}"))
                            .map_err(|e| err(n, format!("N: regex {value:?}: {}", one_line(&e))))?;
                        patterns.push(Pattern::Name(r));
                    }
                    _ => {}
                }
            }
            if start < end {
                sections.push(Section {
                    name,
                    line,
                    entries,
                    patterns,
                });
            }
            tvi = end + 1;
        }
        Ok(Maintainers { sections })
    }

    /// All sections, in MAINTAINERS order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The sections matching `file` (a path relative to the top of the
    /// source tree, e.g. `drivers/irqchip/irq-gic.c`), most specific first.
    pub fn sections_for(&self, file: &str) -> Vec<SectionMatch> {
        let mut found = Vec::new();
        for (index, section) in self.sections.iter().enumerate() {
            let excluded = section
                .patterns
                .iter()
                .any(|p| matches!(p, Pattern::Exclude(x) if x.matches(file)));
            if excluded {
                continue;
            }
            let mut depth = None;
            for p in &section.patterns {
                match p {
                    Pattern::File(fp) if fp.matches(file) => depth = Some(fp.depth),
                    Pattern::Name(r) if r.is_match(file) => depth = Some(0),
                    _ => {}
                }
            }
            if let Some(depth) = depth {
                found.push(SectionMatch {
                    section: index,
                    depth,
                });
            }
        }
        // Stable: equal depths keep MAINTAINERS order.
        found.sort_by_key(|m| std::cmp::Reverse(m.depth));
        found
    }
}

/// The reason of a regex error, whose text draws the pattern over lines.
fn one_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let reason = text.lines().find_map(|l| l.strip_prefix("error: "));
    reason.map_or_else(
        || text.split_whitespace().collect::<Vec<_>>().join(" "),
        str::to_string,
    )
}

/// Perl's `\s` on the ASCII text of MAINTAINERS.
fn perl_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn file_pattern(value: &str, is_dir: &impl Fn(&str) -> bool) -> Result<FilePattern, regex::Error> {
    let mut converted = value
        .replace('.', "\\.")
        .replace('*', ".*")
        .replace('?', ".");
    if !converted.ends_with('/') && is_dir(&converted) {
        converted.push('/');
    }
    let tree = converted.ends_with('/');
    let slashes = converted.bytes().filter(|&b| b == b'/').count();
    let depth = if converted.starts_with(".*") {
        -1
    } else {
        slashes as i32 + i32::from(!tree)
    };
    let plain = !value.contains(|c| c == '*' || c == '?' || REGEX_META.contains(&c));
    let matcher = if plain {
        let mut literal = value.to_string();
        if tree && !literal.ends_with('/') {
            literal.push('/');
        }
        Matcher::Prefix(literal)
    } else {
        // Not grouped: the script interpolates the value after `^` as is.
        Matcher::Regex(Regex::new(&format!("^{converted}"))?)
    };
    Ok(FilePattern {
        matcher,
        tree,
        slashes,
        depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
List of maintainers
===================

\tM: *Mail* patches to: FullName <address@domain>

ARM GIC
M:\tMarc <maz@example.org>
S:\tMaintained
F:\tdrivers/irqchip/irq-gic*.[ch]
F:\tinclude/linux/irqchip/arm-gic*.h

IRQCHIP DRIVERS
S:\tMaintained
F:\tdrivers/irqchip/
K:\tirqchip

DOTTED
F:\tdrivers/net/ethernet.x
F:\tdrivers/foo
X:\tdrivers/foo/skip.c

NAMES
N:\tgic[-_]v3
F:\tdrivers/irqchip/irq-gic-v3.c

THE REST
M:\tLinus
F:\t*
F:\t*/
";

    fn parse() -> Maintainers {
        let dirs = ["drivers/irqchip", "drivers/foo"];
        Maintainers::parse(TEXT, Path::new("MAINTAINERS"), |v| dirs.contains(&v)).unwrap()
    }

    fn names(m: &Maintainers, file: &str) -> Vec<(String, i32)> {
        m.sections_for(file)
            .into_iter()
            .map(|s| (m.sections()[s.section].name.clone(), s.depth))
            .collect()
    }

    #[test]
    fn header_text_is_not_a_section() {
        let m = parse();
        let titles: Vec<&str> = m.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            titles,
            ["ARM GIC", "IRQCHIP DRIVERS", "DOTTED", "NAMES", "THE REST"]
        );
        assert_eq!(m.sections()[0].line, 6);
        assert_eq!(m.sections()[0].status(), Some("Maintained"));
        assert_eq!(
            m.sections()[0].values('M').collect::<Vec<_>>(),
            ["Marc <maz@example.org>"]
        );
    }

    #[test]
    fn glob_stays_in_its_directory_and_trees_match_below() {
        let m = parse();
        assert_eq!(
            names(&m, "drivers/irqchip/irq-gic.c"),
            [
                ("ARM GIC".to_string(), 3),
                ("IRQCHIP DRIVERS".to_string(), 2),
                ("THE REST".to_string(), -1)
            ]
        );
        // The glob `irq-gic*` does not reach into a subdirectory.
        assert_eq!(
            names(&m, "drivers/irqchip/irq-gic/x.c"),
            [
                ("IRQCHIP DRIVERS".to_string(), 2),
                ("THE REST".to_string(), -1)
            ]
        );
        // The class `[ch]` rejects other suffixes.
        assert!(!names(&m, "drivers/irqchip/irq-gic.S")
            .iter()
            .any(|(n, _)| n == "ARM GIC"));
    }

    #[test]
    fn last_matching_pattern_of_a_section_sets_the_depth() {
        let m = parse();
        // N: matches (depth 0), then the F: line below it (depth 3) wins.
        let got = names(&m, "drivers/irqchip/irq-gic-v3.c");
        assert!(got.contains(&("NAMES".to_string(), 3)), "{got:?}");
        // Only N: matches: depth 0.
        let got = names(&m, "arch/arm64/gic_v3.S");
        assert_eq!(
            got,
            [("NAMES".to_string(), 0), ("THE REST".to_string(), -1)]
        );
    }

    #[test]
    fn directory_without_slash_and_prefix_quirk() {
        let m = parse();
        // `drivers/foo` is a directory: it gets a `/` and covers the tree...
        assert!(names(&m, "drivers/foo/a/b.c").contains(&("DOTTED".to_string(), 2)));
        // ...but X: drops the whole section for the excluded file.
        assert!(!names(&m, "drivers/foo/skip.c")
            .iter()
            .any(|(n, _)| n == "DOTTED"));
        // A value with a `.` is never a directory to the script: same depth
        // of slashes required, and a plain prefix match (`ethernet.x` also
        // matches `ethernet.xyz`).
        assert!(names(&m, "drivers/net/ethernet.xyz").contains(&("DOTTED".to_string(), 3)));
        assert!(!names(&m, "drivers/net/ethernet.x/a.c")
            .iter()
            .any(|(n, _)| n == "DOTTED"));
    }

    #[test]
    fn top_level_file_gets_only_the_rest() {
        let m = parse();
        assert_eq!(names(&m, "Makefile"), [("THE REST".to_string(), -1)]);
    }

    #[test]
    fn damaged_pattern_is_an_error_with_its_line() {
        let text = "A\nF:\tdrivers/[oops\n";
        let e = Maintainers::parse(text, Path::new("M"), |_| false).unwrap_err();
        match &e {
            Error::Maintainers { line, .. } => assert_eq!(*line, 2),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("drivers/[oops"), "{e}");
        assert!(e.to_string().contains("unclosed character class"), "{e}");
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
        let text = "A\nN:\t(unclosed\n";
        assert!(Maintainers::parse(text, Path::new("M"), |_| false).is_err());
    }
}
