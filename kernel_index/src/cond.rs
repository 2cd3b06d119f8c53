//! Build conditions over Kconfig symbols, as Kbuild files state them.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// A condition on the build's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cond {
    /// Always holds (`obj-y`).
    True,
    /// The symbol has this value: `obj-$(CONFIG_X)` needs `X=y` to land in
    /// vmlinux (`m` would make it a module); `ifeq ($(CONFIG_X),v)`.
    Is {
        symbol: String,
        value: String,
    },
    /// The symbol is set to anything but `n` (`ifdef CONFIG_X`,
    /// `obj-$(subst m,y,$(CONFIG_X))`).
    Set(String),
    Not(Box<Cond>),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    /// A condition this crate could not read, as written in the Kbuild file.
    Unparsed(String),
}

/// Symbol values of a `.config` (`n` for `# CONFIG_X is not set`), without
/// the `CONFIG_` prefix.
pub type ConfigValues = HashMap<String, String>;

impl Cond {
    /// Both conditions, flattened.
    /// Both conditions, flattened, each part once.
    pub fn and(self, other: Cond) -> Cond {
        let parts = |c: Cond| match c {
            Cond::True => Vec::new(),
            Cond::All(cs) => cs,
            c => vec![c],
        };
        let mut all = parts(self);
        for c in parts(other) {
            if !all.contains(&c) {
                all.push(c);
            }
        }
        match all.len() {
            0 => Cond::True,
            1 => all.pop().unwrap_or(Cond::True),
            _ => Cond::All(all),
        }
    }

    /// Any of the conditions; `True` if one of them is.
    pub fn any(alternatives: Vec<Cond>) -> Cond {
        let mut unique: Vec<Cond> = Vec::with_capacity(alternatives.len());
        for c in alternatives {
            if c == Cond::True {
                return Cond::True;
            }
            if !unique.contains(&c) {
                unique.push(c);
            }
        }
        match unique.len() {
            1 => unique.pop().unwrap_or(Cond::True),
            _ => Cond::Any(unique),
        }
    }

    pub fn negate(self) -> Cond {
        match self {
            Cond::Not(c) => *c,
            c => Cond::Not(Box::new(c)),
        }
    }

    /// The value under a configuration; `None` when an unparsed part decides.
    pub fn eval(&self, config: &ConfigValues) -> Option<bool> {
        match self {
            Cond::True => Some(true),
            Cond::Is { symbol, value } => Some(
                config.get(symbol).map_or("n", String::as_str) == value
                    || (value.is_empty() && config.get(symbol).map_or(true, |v| v == "n")),
            ),
            Cond::Set(symbol) => Some(config.get(symbol).is_some_and(|v| v != "n")),
            Cond::Not(c) => c.eval(config).map(|b| !b),
            Cond::All(cs) => {
                let mut result = Some(true);
                for c in cs {
                    match c.eval(config) {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Cond::Any(cs) => {
                let mut result = Some(false);
                for c in cs {
                    match c.eval(config) {
                        Some(true) => return Some(true),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
            Cond::Unparsed(_) => None,
        }
    }

    /// The Kconfig symbols the condition names.
    pub fn symbols(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_symbols(&mut out);
        out
    }

    fn collect_symbols(&self, out: &mut BTreeSet<String>) {
        match self {
            Cond::Is { symbol, .. } | Cond::Set(symbol) => {
                out.insert(symbol.clone());
            }
            Cond::Not(c) => c.collect_symbols(out),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| c.collect_symbols(out)),
            Cond::True | Cond::Unparsed(_) => {}
        }
    }

    /// The parts that could not be read.
    pub fn unparsed(&self) -> Vec<&str> {
        match self {
            Cond::Unparsed(t) => vec![t.as_str()],
            Cond::Not(c) => c.unparsed(),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().flat_map(Cond::unparsed).collect(),
            Cond::True | Cond::Is { .. } | Cond::Set(_) => Vec::new(),
        }
    }
}

/// Kconfig-like syntax: `A && !(B || C=m)`, `X!=n` (set to anything),
/// `X=n`, `<? text ?>` for a part that could not be read.
impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn joined(f: &mut fmt::Formatter<'_>, cs: &[Cond], op: &str) -> fmt::Result {
            for (i, c) in cs.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                match c {
                    Cond::All(_) | Cond::Any(_) => write!(f, "({c})")?,
                    _ => write!(f, "{c}")?,
                }
            }
            Ok(())
        }
        match self {
            Cond::True => write!(f, "y"),
            Cond::Is { symbol, value } if value == "y" => write!(f, "{symbol}"),
            Cond::Is { symbol, value } if value.is_empty() => write!(f, "{symbol}=n"),
            Cond::Is { symbol, value } => write!(f, "{symbol}={value}"),
            Cond::Set(symbol) => write!(f, "{symbol}!=n"),
            Cond::Not(c) => match &**c {
                Cond::Set(symbol) => write!(f, "{symbol}=n"),
                Cond::Is { symbol, value } if value != "y" && !value.is_empty() => {
                    write!(f, "{symbol}!={value}")
                }
                Cond::All(_) | Cond::Any(_) => write!(f, "!({c})"),
                _ => write!(f, "!{c}"),
            },
            Cond::All(cs) => joined(f, cs, "&&"),
            Cond::Any(cs) => joined(f, cs, "||"),
            Cond::Unparsed(t) => write!(f, "<? {t} ?>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is(s: &str) -> Cond {
        Cond::Is {
            symbol: s.into(),
            value: "y".into(),
        }
    }

    #[test]
    fn eval_and_display() {
        let config: ConfigValues = [("A", "y"), ("B", "n"), ("C", "m")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let c = is("A")
            .and(Cond::Set("C".into()))
            .and(is("B").negate())
            .and(is("A"));
        assert_eq!(c.to_string(), "A && C!=n && !B");
        assert_eq!(c.eval(&config), Some(true));
        let c = Cond::any(vec![is("B"), is("D"), is("B")]);
        assert_eq!(c.eval(&config), Some(false));
        assert_eq!(c.to_string(), "B || D");
        let c = is("A").and(Cond::Unparsed("$(foo)".into()));
        assert_eq!(c.eval(&config), None);
        assert_eq!(c.unparsed(), ["$(foo)"]);
        // A false part decides even next to an unreadable one.
        let c = is("B").and(Cond::Unparsed("$(foo)".into()));
        assert_eq!(c.eval(&config), Some(false));
        let empty = Cond::Is {
            symbol: "Z".into(),
            value: String::new(),
        };
        assert_eq!(empty.eval(&config), Some(true));
        assert_eq!(
            c.symbols().into_iter().collect::<Vec<_>>(),
            ["B".to_string()]
        );
    }
}
