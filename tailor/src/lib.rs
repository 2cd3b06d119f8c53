//! The tailoring steps that are not shell: which Kconfig symbols are
//! required and why, which of them Kconfig honoured, and how the footprint
//! on the tailored kernel differs from the one on the starting kernel.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Required symbols (without `CONFIG_`) and every reason for each.
pub type Required = BTreeMap<String, Vec<String>>;

/// `SYMBOL<TAB>reason` lines (the needs file, the reasons file `required`
/// writes); `#` comments and blank lines skipped. `prefix` starts each reason.
pub fn parse_reasons(text: &str, prefix: &str, required: &mut Required) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (sym, why) = line
            .split_once('\t')
            .filter(|(s, w)| valid_symbol(s) && !w.trim().is_empty())
            .ok_or_else(|| format!("line {}: expected SYMBOL<TAB>reason", n + 1))?;
        required
            .entry(sym.to_string())
            .or_default()
            .push(format!("{prefix}{why}"));
    }
    Ok(())
}

fn valid_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The `=y` build symbols of a `ftrace_report footprint --json` object:
/// the symbols without which an object the program ran is not built.
pub fn footprint_symbols(
    label: &str,
    footprint: &Value,
    required: &mut Required,
) -> Result<(), String> {
    let symbols = footprint["build_symbols"]
        .as_array()
        .ok_or("no build_symbols: not a `ftrace_report footprint --json` output")?;
    for s in symbols {
        let name = s["symbol"].as_str().ok_or("build symbol without a name")?;
        if s["value"].as_str() != Some("y") {
            continue;
        }
        let sym = name.strip_prefix("CONFIG_").unwrap_or(name);
        // A symbol without a prompt is only set by `select` or a default:
        // the allconfig line alone does not set it.
        let prompt = match s["prompt"].as_str() {
            Some(p) => format!("\"{p}\""),
            None => "no prompt".to_string(),
        };
        required.entry(sym.to_string()).or_default().push(format!(
            "{label}: builds {} object(s) with {} function(s) the program ran ({prompt})",
            s["objects"], s["functions"]
        ));
    }
    Ok(())
}

/// The reasons file: `SYMBOL<TAB>reason`, a line a reason.
pub fn reasons(required: &Required) -> String {
    required
        .iter()
        .flat_map(|(s, rs)| rs.iter().map(move |r| format!("{s}\t{r}\n")))
        .collect()
}

/// The `KCONFIG_ALLCONFIG` file: one `CONFIG_X=y` line a symbol, sorted.
pub fn allconfig(required: &Required) -> String {
    required.keys().map(|s| format!("CONFIG_{s}=y\n")).collect()
}

/// `.config` values by symbol (without `CONFIG_`); `# ... is not set` is `n`.
pub fn config_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("# CONFIG_") {
                let sym = rest.strip_suffix(" is not set")?;
                return Some((sym.to_string(), "n".to_string()));
            }
            let (k, v) = l.strip_prefix("CONFIG_")?.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// A required symbol that the configuration does not have as `y`, with
/// Kconfig's own words about it where its log has any.
#[derive(Debug, PartialEq)]
pub struct Unhonoured {
    pub symbol: String,
    pub value: String,
    pub why: String,
}

pub fn unhonoured(required: &Required, config: &str, kconfig_log: &str) -> Vec<Unhonoured> {
    let values = config_values(config);
    required
        .iter()
        .filter_map(|(sym, reasons)| {
            let value = values.get(sym).cloned().unwrap_or_else(|| "absent".into());
            if value == "y" {
                return None;
            }
            let needle = format!("CONFIG_{sym}");
            let log: Vec<&str> = kconfig_log
                .lines()
                .filter(|l| {
                    l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .any(|w| w == sym || w == needle)
                })
                .map(str::trim)
                .collect();
            let why = if !log.is_empty() {
                log.join(" | ")
            } else if reasons.iter().any(|r| r.ends_with("(no prompt)")) {
                "no prompt: only a select or default sets it, and none applies".into()
            } else {
                "its dependencies are not met in this configuration".into()
            };
            Some(Unhonoured {
                symbol: sym.clone(),
                value,
                why,
            })
        })
        .collect()
}

/// A function's name without the suffixes of gcc's clones (`.constprop.0`,
/// `.isra.0`, `.part.0`): a different config changes which clones gcc makes,
/// not which code runs.
pub fn base_name(name: &str) -> &str {
    let mut n = name;
    while let Some((head, tail)) = n.rsplit_once('.') {
        let (kind, num) = match head.rsplit_once('.') {
            Some((h, k)) if tail.bytes().all(|b| b.is_ascii_digit()) => ((h, k), tail),
            _ => break,
        };
        if !["constprop", "isra", "part", "cold"].contains(&kind.1) || num.is_empty() {
            break;
        }
        n = kind.0;
    }
    n
}

/// The function names of a footprint (clone suffixes removed) with their
/// objects.
pub fn functions(footprint: &Value) -> Result<BTreeMap<String, Vec<String>>, String> {
    let fs = footprint["functions"]
        .as_array()
        .ok_or("no functions: not a `ftrace_report footprint --json` output")?;
    let mut out = BTreeMap::new();
    for f in fs {
        let name = f["name"].as_str().ok_or("function without a name")?;
        let objects = f["objects"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(base_name(name).to_string(), objects);
    }
    Ok(out)
}

/// The footprint on the tailored kernel against the one on the starting
/// kernel.
#[derive(Debug, Default, PartialEq)]
pub struct Comparison {
    pub common: usize,
    /// Ran on the starting kernel, gone with their object: `(function, objects)`.
    pub removed: Vec<(String, Vec<String>)>,
    /// Ran on the starting kernel only, though their object is still linked.
    pub missing: Vec<String>,
    /// Ran on the tailored kernel only.
    pub added: Vec<String>,
}

impl Comparison {
    /// Equal apart from functions of removed objects.
    pub fn equal(&self) -> bool {
        self.missing.is_empty() && self.added.is_empty()
    }
}

/// `linked`: the objects of the tailored kernel.
pub fn compare(
    start: &Value,
    tailored: &Value,
    linked: &BTreeSet<String>,
) -> Result<Comparison, String> {
    let a = functions(start)?;
    let b = functions(tailored)?;
    let mut c = Comparison::default();
    for (name, objects) in &a {
        if b.contains_key(name) {
            c.common += 1;
        } else if !objects.is_empty() && objects.iter().all(|o| !linked.contains(o)) {
            c.removed.push((name.clone(), objects.clone()));
        } else {
            c.missing.push(name.clone());
        }
    }
    c.added = b.keys().filter(|n| !a.contains_key(*n)).cloned().collect();
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn needs_lines_and_errors() {
        let mut r = Required::new();
        parse_reasons("# c\n\nTTY\tthe console\n", "needs: ", &mut r).unwrap();
        assert_eq!(r["TTY"], ["needs: the console"]);
        assert_eq!(
            parse_reasons("tty\tlower case\n", "needs: ", &mut r).unwrap_err(),
            "line 1: expected SYMBOL<TAB>reason"
        );
        assert!(parse_reasons("TTY\n", "needs: ", &mut r).is_err());
    }

    #[test]
    fn footprint_symbols_take_y_only_and_merge_reasons() {
        let fp = json!({"build_symbols": [
            {"symbol": "CONFIG_MMU", "prompt": null, "value": "y", "objects": 9, "functions": 83},
            {"symbol": "CONFIG_TTY", "prompt": "Enable TTY", "value": "y", "objects": 1, "functions": 1},
            {"symbol": "CONFIG_X", "prompt": null, "value": "m", "objects": 1, "functions": 1}]});
        let mut r = Required::new();
        parse_reasons("TTY\tthe console\n", "needs: ", &mut r).unwrap();
        footprint_symbols("min", &fp, &mut r).unwrap();
        assert_eq!(allconfig(&r), "CONFIG_MMU=y\nCONFIG_TTY=y\n");
        assert_eq!(r["TTY"].len(), 2);
        assert!(r["MMU"][0].ends_with("(no prompt)"));
        assert!(footprint_symbols("x", &json!({}), &mut r).is_err());
    }

    #[test]
    fn unhonoured_symbols_with_kconfig_words() {
        let mut r = Required::new();
        parse_reasons("A\ta\nB\tb\nC\tc\n", "needs: ", &mut r).unwrap();
        r.insert("D".into(), vec!["fp: x (no prompt)".into()]);
        let config = "CONFIG_A=y\n# CONFIG_B is not set\n";
        let log = "WARNING: unmet direct dependencies detected for B\n  Depends on [n]: Z [=n]\nCONFIG_AB mentioned\n";
        let u = unhonoured(&r, config, log);
        assert_eq!(u.len(), 3);
        assert_eq!(u[0].symbol, "B");
        assert_eq!(u[0].value, "n");
        assert_eq!(
            u[0].why,
            "WARNING: unmet direct dependencies detected for B"
        );
        assert_eq!(
            u[1].why,
            "its dependencies are not met in this configuration"
        );
        assert_eq!(u[2].value, "absent");
        assert!(u[2].why.starts_with("no prompt"));
    }

    #[test]
    fn clone_suffixes_go() {
        assert_eq!(
            base_name("shmem_get_folio_gfp.constprop.0.isra.0"),
            "shmem_get_folio_gfp"
        );
        assert_eq!(base_name("__queue_work.part.0"), "__queue_work");
        assert_eq!(base_name("a.b"), "a.b");
        assert_eq!(base_name("x.constprop"), "x.constprop");
    }

    #[test]
    fn compare_splits_removed_missing_added() {
        let start = json!({"functions": [
            {"name": "f", "objects": ["a.o"]}, {"name": "g", "objects": ["gone.o"]},
            {"name": "h", "objects": ["a.o"]}]});
        let tailored = json!({"functions": [{"name": "f", "objects": ["a.o"]}, {"name": "n", "objects": ["a.o"]}]});
        let linked: BTreeSet<String> = ["a.o".to_string()].into();
        let c = compare(&start, &tailored, &linked).unwrap();
        assert_eq!(c.common, 1);
        assert_eq!(c.removed, [("g".to_string(), vec!["gone.o".to_string()])]);
        assert_eq!(c.missing, ["h"]);
        assert_eq!(c.added, ["n"]);
        assert!(!c.equal());
        let same = compare(&start, &start, &linked).unwrap();
        assert!(same.equal());
        assert_eq!(same.common, 3);
    }
}
