//! The required Kconfig symbols and their reasons, the allconfig Kconfig
//! makes a config from, and which of them Kconfig honoured.

use std::collections::{BTreeMap, BTreeSet};

use crate::footprint::Footprint;

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

/// The `=y` build symbols of a footprint: the symbols without which an
/// object the program ran is not built.
pub fn footprint_symbols(label: &str, footprint: &Footprint, required: &mut Required) {
    for s in footprint
        .build_symbols
        .iter()
        .filter(|s| s.value.as_deref() == Some("y"))
    {
        let sym = s.symbol.strip_prefix("CONFIG_").unwrap_or(&s.symbol);
        // A symbol without a prompt is only set by `select` or a default:
        // the allconfig line alone does not set it.
        let prompt = match &s.prompt {
            Some(p) => format!("\"{p}\""),
            None => "no prompt".to_string(),
        };
        required.entry(sym.to_string()).or_default().push(format!(
            "{label}: builds {} object(s) with {} function(s) the program ran ({prompt})",
            s.objects, s.functions
        ));
    }
}

/// The symbols of every run's footprint, with all their reasons, and those
/// of some runs only (run-to-run noise: not required).
pub fn in_every(runs: &[Required]) -> (Required, BTreeSet<String>) {
    let mut every = Required::new();
    let mut some = BTreeSet::new();
    for r in runs {
        for (sym, reasons) in r {
            if runs.iter().all(|o| o.contains_key(sym)) {
                every
                    .entry(sym.clone())
                    .or_default()
                    .extend(reasons.iter().cloned());
            } else {
                some.insert(sym.clone());
            }
        }
    }
    (every, some)
}

/// What the required symbols are derived from.
#[derive(Debug, Default)]
pub struct Inputs {
    /// needs.tsv: what the measurement and the boot need.
    pub needs: Required,
    /// Each traced run's footprint symbols: those of every run count.
    pub runs: Vec<Required>,
    /// The ground truth's (exact for its run): all of them count.
    pub groundtruth: Vec<Required>,
    /// Taken away on purpose, to see the loop find them again.
    pub drop: Vec<String>,
    /// What the loop added back or bisected: never dropped.
    pub added: Vec<Required>,
}

/// The required symbols of `inputs`, and those of some runs only (noise,
/// not taken); an error for a `drop` that is not required.
pub fn derive(inputs: Inputs) -> Result<(Required, BTreeSet<String>), String> {
    let mut required = inputs.needs;
    let (every, some) = in_every(&inputs.runs);
    for (sym, reasons) in every
        .into_iter()
        .chain(inputs.groundtruth.into_iter().flatten())
    {
        required.entry(sym).or_default().extend(reasons);
    }
    for sym in &inputs.drop {
        if required.remove(sym).is_none() {
            return Err(format!("--drop {sym}: not a required symbol"));
        }
    }
    for (sym, reasons) in inputs.added.into_iter().flatten() {
        required.entry(sym).or_default().extend(reasons);
    }
    Ok((required, some))
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

#[cfg(test)]
mod tests {
    use super::*;
    use kernel_footprint::SymbolRow;

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
        let row = |symbol: &str, prompt: Option<&str>, value: &str, objects, functions| SymbolRow {
            symbol: symbol.into(),
            prompt: prompt.map(String::from),
            value: Some(value.into()),
            objects,
            functions,
            only_ambiguous: false,
        };
        let fp = Footprint {
            build_symbols: vec![
                row("CONFIG_MMU", None, "y", 9, 83),
                row("CONFIG_TTY", Some("Enable TTY"), "y", 1, 1),
                row("CONFIG_X", None, "m", 1, 1),
            ],
            ..Footprint::default()
        };
        let mut r = Required::new();
        parse_reasons("TTY\tthe console\n", "needs: ", &mut r).unwrap();
        footprint_symbols("min", &fp, &mut r);
        assert_eq!(allconfig(&r), "CONFIG_MMU=y\nCONFIG_TTY=y\n");
        assert_eq!(r["TTY"].len(), 2);
        assert!(r["MMU"][0].ends_with("(no prompt)"));
    }

    #[test]
    fn symbols_of_every_run_only() {
        let mut a = Required::new();
        let mut b = Required::new();
        parse_reasons("MMU\tmin.1\nVDSO\tmin.1\n", "", &mut a).unwrap();
        parse_reasons("MMU\tmin.2\n", "", &mut b).unwrap();
        let (every, some) = in_every(&[a, b]);
        assert_eq!(every["MMU"], ["min.1", "min.2"]);
        assert_eq!(every.len(), 1);
        assert_eq!(some, ["VDSO".to_string()].into());
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
}
