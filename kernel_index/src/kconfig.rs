//! Kconfig symbols: their prompts and types from the Kconfig files (read
//! from the top `Kconfig` along its `source` directives), their values from
//! the build's `.config`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cond::ConfigValues;
use crate::error::Error;

/// Where and how Kconfig defines a symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// `bool`, `tristate`, `string`, `int`, `hex`; `None` when no
    /// definition states a type.
    pub kind: Option<String>,
    /// The prompts of its definitions (a symbol without one is not shown
    /// to the user: it is selected or defaulted).
    pub prompts: Vec<String>,
    /// `file:line` of each `config`/`menuconfig` entry.
    pub defined_at: Vec<String>,
}

/// The Kconfig files read and what they define.
#[derive(Debug, Default)]
pub(crate) struct Kconfig {
    pub symbols: HashMap<String, Definition>,
    pub files: Vec<String>,
    pub notes: Vec<String>,
}

/// `.config`: `CONFIG_X=v` (quotes kept for strings) and `# CONFIG_X is not
/// set` (as `n`).
pub(crate) fn read_config(path: &Path) -> Result<ConfigValues, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut values = ConfigValues::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("CONFIG_") {
            if let Some((name, value)) = rest.split_once('=') {
                values.insert(name.to_string(), value.to_string());
            }
        } else if let Some(name) = line
            .strip_prefix("# CONFIG_")
            .and_then(|r| r.strip_suffix(" is not set"))
        {
            values.insert(name.to_string(), "n".to_string());
        }
    }
    Ok(values)
}

/// The architecture directory Kconfig was run for, as kconfig recorded it in
/// `include/config/auto.conf.cmd` (`ifneq "$(SRCARCH)" "arm64"`).
pub(crate) fn recorded_srcarch(build: &Path) -> Option<String> {
    let text = std::fs::read_to_string(build.join("include/config/auto.conf.cmd")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix("ifneq \"$(SRCARCH)\" \"")?;
        Some(rest.strip_suffix('"')?.to_string())
    })
}

/// The Kconfig files kconfig read, as recorded in `auto.conf.cmd`.
pub(crate) fn recorded_kconfig_files(build: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(build.join("include/config/auto.conf.cmd")).ok()?;
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("deps_config :="));
    lines.next()?;
    Some(
        lines
            .map(|l| l.trim().trim_end_matches('\\').trim())
            .take_while(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

impl Kconfig {
    pub fn read(source: &Path, srcarch: &str) -> Kconfig {
        let mut kc = Kconfig::default();
        let mut seen = HashSet::new();
        kc.read_file(source, "Kconfig", srcarch, &mut seen);
        for def in kc.symbols.values_mut() {
            def.prompts.dedup();
        }
        kc
    }

    fn read_file(&mut self, source: &Path, rel: &str, srcarch: &str, seen: &mut HashSet<String>) {
        if !seen.insert(rel.to_string()) {
            return;
        }
        let Ok(text) = std::fs::read_to_string(source.join(rel)) else {
            self.notes.push(format!("{rel}: cannot read it"));
            return;
        };
        self.files.push(rel.to_string());
        let dir = rel.rfind('/').map_or("", |i| &rel[..=i]);
        // The entry being read: a config symbol, or something else (choice,
        // menu, comment) whose prompt is not a symbol's.
        let mut current: Option<String> = None;
        let mut help_indent: Option<Option<usize>> = None;
        let mut pending = String::new();
        let mut start = 0;
        for (n, raw) in text.lines().enumerate() {
            if let Some(indent) = help_indent {
                let width = indentation(raw);
                match indent {
                    _ if raw.trim().is_empty() => continue,
                    None => {
                        help_indent = Some(Some(width));
                        continue;
                    }
                    Some(i) if width >= i && width > 0 => continue,
                    Some(_) => help_indent = None,
                }
            }
            if pending.is_empty() {
                start = n + 1;
            }
            if let Some(body) = raw.strip_suffix('\\') {
                pending.push_str(body);
                pending.push(' ');
                continue;
            }
            pending.push_str(raw);
            let line = std::mem::take(&mut pending);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (kw, rest) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(k, r)| (k, r.trim()));
            match kw {
                "config" | "menuconfig" => {
                    let def = self.symbols.entry(rest.to_string()).or_default();
                    def.defined_at.push(format!("{rel}:{start}"));
                    current = Some(rest.to_string());
                }
                "choice" | "endchoice" | "menu" | "endmenu" | "if" | "endif" | "comment"
                | "mainmenu" => current = None,
                "source" | "osource" | "rsource" | "orsource" => {
                    current = None;
                    let Some(path) = quoted(rest).map(|(p, _)| p) else {
                        self.notes.push(format!("{rel}:{start}: {line}: no path"));
                        continue;
                    };
                    let path = path.replace("$(SRCARCH)", srcarch);
                    if path.contains('$') {
                        self.notes
                            .push(format!("{rel}:{start}: {line}: variable not known"));
                        continue;
                    }
                    let path = if kw.starts_with('r') || kw.starts_with("or") {
                        format!("{dir}{path}")
                    } else {
                        path
                    };
                    if kw.starts_with('o') && !source.join(&path).is_file() {
                        continue;
                    }
                    self.read_file(source, &path, srcarch, seen);
                }
                "help" | "---help---" => help_indent = Some(None),
                "bool" | "tristate" | "string" | "int" | "hex" | "def_bool" | "def_tristate"
                | "prompt" => {
                    let Some(def) = current.as_ref().and_then(|c| self.symbols.get_mut(c)) else {
                        continue;
                    };
                    if kw != "prompt" {
                        def.kind = Some(kw.trim_start_matches("def_").to_string());
                    }
                    if kw.starts_with("def_") {
                        continue;
                    }
                    if let Some((prompt, _)) = quoted(rest) {
                        def.prompts.push(prompt);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Columns of leading whitespace, a tab counting to the next multiple of 8.
fn indentation(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col = (col / 8 + 1) * 8,
            _ => break,
        }
    }
    col
}

/// A Kconfig string (`"..."` or `'...'`, backslash escapes) at the start of
/// `s`, and the rest after it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    let (_, q) = chars.next().filter(|(_, c)| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            return Some((out, &s[i + 1..]));
        } else {
            out.push(c);
        }
    }
    None
}

/// A symbol as the index reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    /// Without the `CONFIG_` prefix.
    pub name: String,
    /// The value in `.config`: `y`, `m`, `n` (`# ... is not set`), a number
    /// or a quoted string; `None` when `.config` does not mention it (not
    /// visible in this configuration, or not a Kconfig symbol at all).
    pub value: Option<String>,
    /// How Kconfig defines it; `None` when no Kconfig file read defines it
    /// (e.g. `include/config/` names of another architecture's symbols).
    pub definition: Option<Definition>,
}

impl Symbol {
    /// The first prompt, the text a user sees in menuconfig.
    pub fn prompt(&self) -> Option<&str> {
        self.definition
            .as_ref()
            .and_then(|d| d.prompts.first())
            .map(String::as_str)
    }
}

/// The symbols, by name, with their definitions and values.
pub(crate) fn symbol_table(
    names: impl IntoIterator<Item = String>,
    kconfig: &Kconfig,
    config: &ConfigValues,
) -> Vec<Symbol> {
    let mut table: Vec<Symbol> = names
        .into_iter()
        .map(|name| Symbol {
            value: config.get(&name).cloned(),
            definition: kconfig.symbols.get(&name).cloned(),
            name,
        })
        .collect();
    table.sort_by(|a, b| a.name.cmp(&b.name));
    table.dedup_by(|a, b| a.name == b.name);
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempTree;

    #[test]
    fn prompts_types_and_sources() {
        let t = TempTree::new(&[
            (
                "Kconfig",
                "mainmenu \"Linux\"\nsource \"arch/$(SRCARCH)/Kconfig\"\nsource \"kernel/Kconfig\"\n",
            ),
            (
                "arch/arm64/Kconfig",
                "config ARM64\n\tdef_bool y\n\tselect FOO\nrsource \"Kconfig.more\"\n",
            ),
            (
                "arch/arm64/Kconfig.more",
                "menuconfig ARM64_X\n\tbool \"Arm64 \\\"x\\\" support\" if EXPERT\n",
            ),
            (
                "kernel/Kconfig",
                "config SMP\n\tbool\n\tprompt \"Symmetric multi-processing\"\n\thelp\n\t  Text.\n\n\t  config NOT_A_SYMBOL\n\t  bool \"no\"\n\nchoice\n\tprompt \"Pick\"\nconfig HZ_100\n\tbool \"100 HZ\"\nendchoice\nconfig SMP\n\ttristate 'again'\n",
            ),
        ]);
        let kc = Kconfig::read(t.path(), "arm64");
        assert_eq!(
            kc.files,
            [
                "Kconfig",
                "arch/arm64/Kconfig",
                "arch/arm64/Kconfig.more",
                "kernel/Kconfig"
            ]
        );
        assert!(kc.notes.is_empty(), "{:?}", kc.notes);
        let arm64 = &kc.symbols["ARM64"];
        assert_eq!(arm64.kind.as_deref(), Some("bool"));
        assert!(arm64.prompts.is_empty());
        assert_eq!(kc.symbols["ARM64_X"].prompts, ["Arm64 \"x\" support"]);
        let smp = &kc.symbols["SMP"];
        assert_eq!(smp.prompts, ["Symmetric multi-processing", "again"]);
        assert_eq!(smp.defined_at, ["kernel/Kconfig:1", "kernel/Kconfig:15"]);
        assert_eq!(smp.kind.as_deref(), Some("tristate"));
        assert!(!kc.symbols.contains_key("NOT_A_SYMBOL"));
        assert_eq!(kc.symbols["HZ_100"].prompts, ["100 HZ"]);
    }

    #[test]
    fn config_values() {
        let t = TempTree::new(&[(
            ".config",
            "# comment\nCONFIG_A=y\nCONFIG_S=\"x y\"\n# CONFIG_B is not set\nCONFIG_N=100\n",
        )]);
        let v = read_config(&t.path().join(".config")).unwrap();
        assert_eq!(v["A"], "y");
        assert_eq!(v["S"], "\"x y\"");
        assert_eq!(v["B"], "n");
        assert_eq!(v["N"], "100");
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn recorded_by_kconfig() {
        let t = TempTree::new(&[(
            "include/config/auto.conf.cmd",
            "deps_config := \\\n\tKconfig \\\n\tarch/arm64/Kconfig \\\n\ninclude/config/auto.conf: $(deps_config)\n\nifneq \"$(SRCARCH)\" \"arm64\"\n$(autoconfig): FORCE\nendif\n",
        )]);
        assert_eq!(recorded_srcarch(t.path()).as_deref(), Some("arm64"));
        assert_eq!(
            recorded_kconfig_files(t.path()).unwrap(),
            ["Kconfig", "arch/arm64/Kconfig"]
        );
    }
}
