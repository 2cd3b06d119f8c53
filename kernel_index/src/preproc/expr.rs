//! The expressions of `#if` and `#elif`, parsed and evaluated three-valued
//! against a `.config`.

use std::collections::BTreeSet;

use crate::cond::ConfigValues;

/// A condition of `#if`, `#ifdef`, `#elif` or `#else`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PExpr {
    Num(i64),
    /// `defined(NAME)`, `#ifdef NAME`.
    Defined(String),
    /// `IS_ENABLED(NAME)` (`y` or `m`).
    IsEnabled(String),
    /// `IS_BUILTIN(NAME)`, and `IS_REACHABLE(NAME)` (built-in code is not a
    /// module).
    IsBuiltin(String),
    /// `IS_MODULE(NAME)`.
    IsModule(String),
    /// A bare macro name: its value, 0 when undefined.
    Macro(String),
    Not(Box<PExpr>),
    And(Box<PExpr>, Box<PExpr>),
    Or(Box<PExpr>, Box<PExpr>),
    /// Something this reader does not evaluate (comparisons, arithmetic,
    /// other macros with arguments), as written.
    Unknown(String),
}

/// `CONFIG_X` -> `X`, `CONFIG_X_MODULE` -> `X` when `X` is `m`.
fn config_symbol<'a>(name: &'a str, values: &ConfigValues) -> Option<(&'a str, bool)> {
    let sym = name.strip_prefix("CONFIG_")?;
    if let Some(base) = sym.strip_suffix("_MODULE") {
        if values.get(base).map(String::as_str) == Some("m") {
            return Some((base, true));
        }
    }
    Some((sym, false))
}

fn parse_int(v: &str) -> Option<i64> {
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

impl PExpr {
    /// The value under a configuration; `None` when it depends on something
    /// that is not a Kconfig symbol.
    pub fn eval(&self, values: &ConfigValues) -> Option<bool> {
        match self {
            PExpr::Not(e) => e.eval(values).map(|b| !b),
            PExpr::And(a, b) => match (a.eval(values), b.eval(values)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            PExpr::Or(a, b) => match (a.eval(values), b.eval(values)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            e => e.number(values).map(|n| n != 0),
        }
    }

    fn number(&self, values: &ConfigValues) -> Option<i64> {
        let value = |name: &str| -> Option<Option<String>> {
            let (sym, _) = config_symbol(name, values)?;
            Some(values.get(sym).cloned())
        };
        match self {
            PExpr::Num(n) => Some(*n),
            PExpr::Defined(name) | PExpr::Macro(name) => {
                let (sym, module) = config_symbol(name, values)?;
                if module {
                    return Some(1);
                }
                let v = values.get(sym).map(String::as_str).unwrap_or("n");
                let defined = !matches!(v, "n" | "m");
                match self {
                    PExpr::Defined(_) => Some(defined as i64),
                    _ if !defined => Some(0),
                    _ if v == "y" => Some(1),
                    _ => parse_int(v),
                }
            }
            PExpr::IsEnabled(name) => {
                value(name).map(|v| matches!(v.as_deref(), Some("y" | "m")) as i64)
            }
            PExpr::IsBuiltin(name) => value(name).map(|v| (v.as_deref() == Some("y")) as i64),
            PExpr::IsModule(name) => value(name).map(|v| (v.as_deref() == Some("m")) as i64),
            PExpr::Unknown(_) => None,
            e => e.eval(values).map(i64::from),
        }
    }

    /// The Kconfig symbols it names (without `CONFIG_`).
    pub fn symbols(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<String>) {
        match self {
            PExpr::Defined(n)
            | PExpr::IsEnabled(n)
            | PExpr::IsBuiltin(n)
            | PExpr::IsModule(n)
            | PExpr::Macro(n) => {
                if let Some(sym) = n.strip_prefix("CONFIG_") {
                    out.insert(sym.strip_suffix("_MODULE").unwrap_or(sym).to_string());
                }
            }
            PExpr::Not(e) => e.collect(out),
            PExpr::And(a, b) | PExpr::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
            PExpr::Num(_) => {}
            PExpr::Unknown(text) => out.extend(config_words(text)),
        }
    }
}

/// The `CONFIG_X` words of a text, as `X` (a `_MODULE` suffix dropped).
pub fn config_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter_map(|w| w.strip_prefix("CONFIG_"))
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix("_MODULE").unwrap_or(s).to_string())
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Num(i64),
    Op(&'static str),
    Other,
}

pub(super) fn tokens(text: &str) -> Vec<Tok> {
    const OPS: [&str; 15] = [
        "&&", "||", "==", "!=", "<=", ">=", "!", "(", ")", "<", ">", "+", "-", "*", ",",
    ];
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(text[s..i].to_string()));
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let digits = text[s..i].trim_end_matches(['u', 'U', 'l', 'L']);
            out.push(parse_int(digits).map_or(Tok::Other, Tok::Num));
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            out.push(Tok::Other);
            i += 1;
        }
    }
    out
}

/// An `#if` expression; what this reader cannot follow is `Unknown`.
pub fn parse_expr(text: &str) -> PExpr {
    let toks = tokens(text);
    let mut p = Parser { toks: &toks, at: 0 };
    match p.or() {
        Some(e) if p.at == toks.len() => e,
        _ => PExpr::Unknown(text.trim().to_string()),
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<PExpr> {
        let mut e = self.and()?;
        while self.eat("||") {
            e = PExpr::Or(Box::new(e), Box::new(self.and()?));
        }
        Some(e)
    }

    fn and(&mut self) -> Option<PExpr> {
        let mut e = self.compare()?;
        while self.eat("&&") {
            e = PExpr::And(Box::new(e), Box::new(self.compare()?));
        }
        Some(e)
    }

    /// Comparisons and arithmetic are read over, not evaluated.
    fn compare(&mut self) -> Option<PExpr> {
        let e = self.unary()?;
        let ops = ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*"];
        if !ops
            .iter()
            .any(|op| matches!(self.peek(), Some(Tok::Op(o)) if o == op))
        {
            return Some(e);
        }
        let mut words = e.symbols();
        while ops.iter().any(|op| self.eat(op)) {
            words.extend(self.unary()?.symbols());
        }
        let text = words
            .iter()
            .map(|w| format!("CONFIG_{w}"))
            .collect::<Vec<_>>()
            .join(" ");
        Some(PExpr::Unknown(format!("comparison of {text}")))
    }

    fn unary(&mut self) -> Option<PExpr> {
        if self.eat("!") {
            return Some(PExpr::Not(Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return match self.unary()? {
                PExpr::Num(n) => Some(PExpr::Num(-n)),
                e => Some(PExpr::Unknown(format!("-{e:?}"))),
            };
        }
        if self.eat("(") {
            let e = self.or()?;
            return self.eat(")").then_some(e);
        }
        match self.peek()?.clone() {
            Tok::Num(n) => {
                self.at += 1;
                Some(PExpr::Num(n))
            }
            Tok::Ident(name) => {
                self.at += 1;
                if name == "defined" {
                    let paren = self.eat("(");
                    let Some(Tok::Ident(m)) = self.peek().cloned() else {
                        return None;
                    };
                    self.at += 1;
                    if paren && !self.eat(")") {
                        return None;
                    }
                    return Some(PExpr::Defined(m));
                }
                if !self.eat("(") {
                    return Some(PExpr::Macro(name));
                }
                // A macro with arguments: IS_ENABLED and friends on one
                // symbol, anything else unknown (its arguments skipped).
                let single = match (self.peek().cloned(), self.toks.get(self.at + 1)) {
                    (Some(Tok::Ident(arg)), Some(Tok::Op(")"))) => Some(arg),
                    _ => None,
                };
                let known = match (name.as_str(), single) {
                    ("IS_ENABLED", Some(a)) => Some(PExpr::IsEnabled(a)),
                    ("IS_BUILTIN" | "IS_REACHABLE", Some(a)) => Some(PExpr::IsBuiltin(a)),
                    ("IS_MODULE", Some(a)) => Some(PExpr::IsModule(a)),
                    _ => None,
                };
                if let Some(e) = known {
                    self.at += 2;
                    return Some(e);
                }
                let mut depth = 1;
                let mut words = String::new();
                while depth > 0 {
                    match self.peek()? {
                        Tok::Op("(") => depth += 1,
                        Tok::Op(")") => depth -= 1,
                        Tok::Ident(w) => {
                            words.push(' ');
                            words.push_str(w);
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
                Some(PExpr::Unknown(format!("{name}({})", words.trim())))
            }
            _ => None,
        }
    }
}
