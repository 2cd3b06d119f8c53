//! The preprocessor conditions of a C source file: for each function it
//! defines, the `#if`/`#ifdef`/`#elif`/`#else` branches it sits in and the
//! Kconfig symbols its body mentions (`IS_ENABLED(CONFIG_X)`, an `#ifdef`
//! inside it); for each `#include "file"`, the branches around it. This is
//! what says that a function exists only when an option is set
//! (`mm/shmem.c`'s `#ifdef CONFIG_SHMEM`), or that a whole file does
//! (`kernel/sched/build_utility.c` includes `membarrier.c` under
//! `#ifdef CONFIG_MEMBARRIER`).
//!
//! It reads the text as the kernel's style writes it, not as a compiler
//! would: a function definition is a `{` at brace depth 0 after a head that
//! ends in `)` and has no `=`; its name is the identifier before the head's
//! first `(` that is not an attribute (`SYSCALL_DEFINEn(name, ...)` gives
//! the names the syscall's functions get). Conditions are evaluated against
//! a `.config` as `include/generated/autoconf.h` would define its symbols;
//! a macro that is not a `CONFIG_` symbol is unknown, and so is what
//! depends on it (three-valued: `false && unknown` is false).

use std::collections::{BTreeSet, HashMap};

use crate::cond::ConfigValues;
use crate::{Error, KernelIndex, Object, SourceFile};

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
enum Tok {
    Ident(String),
    Num(i64),
    Op(&'static str),
    Other,
}

fn tokens(text: &str) -> Vec<Tok> {
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

/// One branch a definition sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 1-based line of the directive that opens the branch.
    pub line: usize,
    /// The directive as written (`#ifdef CONFIG_SHMEM`, `#else`), with the
    /// opening one for an `#elif`/`#else` (`#else of #ifdef CONFIG_SHMEM`).
    pub directive: String,
    /// The condition under which the branch is compiled (an `#else`: that
    /// none of the branches before it was).
    pub cond: PExpr,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDef {
    pub name: String,
    /// 1-based line of its opening `{`.
    pub line: usize,
    /// Outermost first.
    pub frames: Vec<Frame>,
    /// Kconfig symbols its body mentions (code or directives).
    pub body_symbols: BTreeSet<String>,
}

/// `#include "file"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedInclude {
    pub path: String,
    pub line: usize,
    pub frames: Vec<Frame>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub functions: Vec<FunctionDef>,
    pub includes: Vec<QuotedInclude>,
}

/// The text with comments blanked (line breaks kept), as logical lines
/// (continuations joined) with their first line's number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let (mut block, mut quote) = (false, None::<char>);
    while let Some(c) = chars.next() {
        if block {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block = false;
                clean.push_str("  ");
            } else {
                clean.push(if c == '\n' { '\n' } else { ' ' });
            }
            continue;
        }
        if let Some(q) = quote {
            clean.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    clean.push(n);
                }
            } else if c == q || c == '\n' {
                quote = None;
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                block = true;
                clean.push_str("  ");
            }
            '/' if chars.peek() == Some(&'/') => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '"' | '\'' => {
                quote = Some(c);
                clean.push(c);
            }
            _ => clean.push(c),
        }
    }
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in clean.lines().enumerate() {
        let (n, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                pending = Some((n, acc));
            }
            None => {
                acc.push_str(line);
                out.push((n, acc));
            }
        }
    }
    out.extend(pending);
    out
}

/// Attribute macros that take arguments and may come before a function's
/// name in its head.
const ATTRIBUTES: [&str; 12] = [
    "__attribute__",
    "__attribute",
    "__section",
    "__aligned",
    "__printf",
    "__scanf",
    "__alloc_size",
    "__must_hold",
    "__acquires",
    "__releases",
    "typeof",
    "__typeof__",
];

/// The names a definition head gives, or none when it is not a function's.
fn function_names(head: &str) -> Vec<String> {
    let head = head.trim();
    if !head.ends_with(')') || head.starts_with('#') {
        return Vec::new();
    }
    let mut depth = 0;
    for c in head.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '=' if depth == 0 => return Vec::new(),
            _ => {}
        }
    }
    let toks = tokens(head);
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Op("(") => depth += 1,
            Tok::Op(")") => depth -= 1,
            Tok::Ident(name) if depth == 0 && toks.get(i + 1) == Some(&Tok::Op("(")) => {
                if ATTRIBUTES.contains(&name.as_str()) {
                    continue;
                }
                let syscall =
                    name.starts_with("SYSCALL_DEFINE") || name.starts_with("COMPAT_SYSCALL_DEFINE");
                if !syscall {
                    return vec![name.clone()];
                }
                let Some(Tok::Ident(call)) = toks.get(i + 2) else {
                    return Vec::new();
                };
                let compat = if name.starts_with("COMPAT") {
                    "compat_"
                } else {
                    ""
                };
                return ["__arm64_", "__x64_", "__se_", "__do_", ""]
                    .iter()
                    .map(|p| format!("{p}{compat}sys_{call}"))
                    .collect();
            }
            _ => {}
        }
    }
    Vec::new()
}

struct Level {
    frame: Frame,
    /// The conditions of the branches before the current one.
    before: Vec<PExpr>,
    opening: String,
    depth_at_open: usize,
    depth_after_first: Option<usize>,
}

fn any_of(conds: &[PExpr]) -> PExpr {
    let mut it = conds.iter().cloned();
    let first = it.next().unwrap_or(PExpr::Num(0));
    it.fold(first, |a, b| PExpr::Or(Box::new(a), Box::new(b)))
}

/// Reads a C source file's definitions and quoted includes with their
/// conditions.
pub fn scan(text: &str) -> Scan {
    let mut out = Scan::default();
    let mut levels: Vec<Level> = Vec::new();
    let mut depth = 0usize;
    let mut head = String::new();
    // The function whose body is open: its definitions (one per name).
    let mut open: Vec<FunctionDef> = Vec::new();
    let frames = |levels: &[Level]| levels.iter().map(|l| l.frame.clone()).collect::<Vec<_>>();
    for (n, line) in logical_lines(text) {
        let t = line.trim_start();
        if let Some(d) = t.strip_prefix('#') {
            let d = d.trim();
            let (word, rest) = d
                .split_once(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '<')
                .map_or((d, ""), |(w, _)| (w, d[w.len()..].trim()));
            if !open.is_empty() {
                let words = config_words(rest);
                for f in &mut open {
                    f.body_symbols.extend(words.iter().cloned());
                }
            }
            let directive = format!("#{}", d.split_whitespace().collect::<Vec<_>>().join(" "));
            match word {
                "if" | "ifdef" | "ifndef" => {
                    let cond = match word {
                        "if" => parse_expr(rest),
                        "ifdef" => PExpr::Defined(rest.to_string()),
                        _ => PExpr::Not(Box::new(PExpr::Defined(rest.to_string()))),
                    };
                    levels.push(Level {
                        frame: Frame {
                            line: n,
                            directive: directive.clone(),
                            cond,
                        },
                        before: Vec::new(),
                        opening: directive,
                        depth_at_open: depth,
                        depth_after_first: None,
                    });
                }
                "elif" | "else" => {
                    if let Some(l) = levels.last_mut() {
                        l.before.push(l.frame.cond.clone());
                        let none_before = PExpr::Not(Box::new(any_of(&l.before)));
                        let cond = if word == "elif" {
                            PExpr::And(Box::new(none_before), Box::new(parse_expr(rest)))
                        } else {
                            none_before
                        };
                        l.frame = Frame {
                            line: n,
                            directive: format!("{directive} of {}", l.opening),
                            cond,
                        };
                        l.depth_after_first.get_or_insert(depth);
                        depth = l.depth_at_open;
                    }
                }
                "endif" => {
                    if let Some(l) = levels.pop() {
                        if let Some(d) = l.depth_after_first {
                            depth = d;
                        }
                    }
                }
                "include" if rest.starts_with('"') => {
                    if let Some(path) = rest[1..].split('"').next() {
                        out.includes.push(QuotedInclude {
                            path: path.to_string(),
                            line: n,
                            frames: frames(&levels),
                        });
                    }
                }
                _ => {}
            }
            continue;
        }
        let mut chars = line.chars().peekable();
        let mut quote = None;
        while let Some(c) = chars.next() {
            if let Some(q) = quote {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '"' | '\'' => quote = Some(c),
                '{' => {
                    if depth == 0 {
                        open = function_names(&head)
                            .into_iter()
                            .map(|name| FunctionDef {
                                name,
                                line: n,
                                frames: frames(&levels),
                                body_symbols: BTreeSet::new(),
                            })
                            .collect();
                        head.clear();
                    }
                    depth += 1;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        out.functions.append(&mut open);
                        head.clear();
                    }
                }
                ';' if depth == 0 => head.clear(),
                _ if depth == 0 => head.push(c),
                _ => {}
            }
        }
        if depth == 0 {
            head.push(' ');
        } else if !open.is_empty() {
            let words = config_words(&line);
            for f in &mut open {
                f.body_symbols.extend(words.iter().cloned());
            }
        }
    }
    out.functions.append(&mut open);
    out
}

/// A branch around a definition, in the file it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFrame {
    /// Relative to the source tree (or the build tree, generated).
    pub file: String,
    pub frame: Frame,
}

/// Where a function is defined among an object's sources: the file and
/// line, every branch around it (those of the `#include` that brings an
/// included file in first), and the symbols its body mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub file: String,
    pub line: usize,
    pub frames: Vec<SiteFrame>,
    pub body_symbols: BTreeSet<String>,
}

impl Site {
    /// Whether the definition is compiled under a configuration (`None`:
    /// a branch depends on something that is not a Kconfig symbol).
    pub fn compiled(&self, values: &ConfigValues) -> Option<bool> {
        let mut known = true;
        for f in &self.frames {
            match f.frame.cond.eval(values) {
                Some(false) => return Some(false),
                Some(true) => {}
                None => known = false,
            }
        }
        known.then_some(true)
    }
}

/// The scans of an index's source files, read once each.
pub struct Definitions<'a> {
    index: &'a KernelIndex,
    scans: HashMap<(bool, String), Scan>,
}

impl<'a> Definitions<'a> {
    pub fn new(index: &'a KernelIndex) -> Definitions<'a> {
        Definitions {
            index,
            scans: HashMap::new(),
        }
    }

    fn scan(&mut self, source: &SourceFile) -> Result<&Scan, Error> {
        let key = (source.generated, source.path.clone());
        if !self.scans.contains_key(&key) {
            let root = if source.generated {
                self.index.build_dir()
            } else {
                self.index.source_dir()
            };
            let path = root.join(&source.path);
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            self.scans
                .insert(key.clone(), scan(&String::from_utf8_lossy(&bytes)));
        }
        Ok(&self.scans[&key])
    }

    /// The branches that bring `source` into `object`'s compilation: none
    /// for a compiled file; for an included one, those around the
    /// `#include` of the source that includes it (recursively). `None`:
    /// no source of the object includes it.
    fn inclusion(
        &mut self,
        object: &Object,
        source: &SourceFile,
        seen: &mut Vec<String>,
    ) -> Result<Option<Vec<SiteFrame>>, Error> {
        if !source.included {
            return Ok(Some(Vec::new()));
        }
        if seen.contains(&source.path) {
            return Ok(None);
        }
        seen.push(source.path.clone());
        for includer in &object.sources {
            let dir = includer.path.rsplit_once('/').map_or("", |(d, _)| d);
            let lines: Vec<QuotedInclude> = self
                .scan(includer)?
                .includes
                .iter()
                .filter(|i| lexpath::in_root(&format!("{dir}/{}", i.path)) == source.path)
                .cloned()
                .collect();
            for inc in lines {
                if let Some(mut frames) = self.inclusion(object, includer, seen)? {
                    frames.extend(inc.frames.into_iter().map(|frame| SiteFrame {
                        file: includer.path.clone(),
                        frame,
                    }));
                    return Ok(Some(frames));
                }
            }
        }
        Ok(None)
    }

    /// Every definition of `name` among `object`'s `.c` sources (a function
    /// defined in a header, or made by a macro, has none).
    pub fn sites(&mut self, object: &Object, name: &str) -> Result<Vec<Site>, Error> {
        let mut out = Vec::new();
        for source in &object.sources {
            if !source.path.ends_with(".c") {
                continue;
            }
            let defs: Vec<FunctionDef> = self
                .scan(source)?
                .functions
                .iter()
                .filter(|f| f.name == name)
                .cloned()
                .collect();
            if defs.is_empty() {
                continue;
            }
            let Some(outer) = self.inclusion(object, source, &mut Vec::new())? else {
                continue;
            };
            for d in defs {
                let mut frames = outer.clone();
                frames.extend(d.frames.into_iter().map(|frame| SiteFrame {
                    file: source.path.clone(),
                    frame,
                }));
                out.push(Site {
                    file: source.path.clone(),
                    line: d.line,
                    frames,
                    body_symbols: d.body_symbols,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> ConfigValues {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn expressions_under_a_config() {
        let v = values(&[("A", "y"), ("B", "n"), ("M", "m"), ("N", "32")]);
        let t = |s: &str| parse_expr(s).eval(&v);
        assert_eq!(t("defined(CONFIG_A)"), Some(true));
        assert_eq!(t("defined CONFIG_B"), Some(false));
        assert_eq!(
            t("IS_ENABLED(CONFIG_M) && !IS_BUILTIN(CONFIG_M)"),
            Some(true)
        );
        assert_eq!(t("defined(CONFIG_M)"), Some(false));
        assert_eq!(t("defined(CONFIG_M_MODULE)"), Some(true));
        assert_eq!(t("CONFIG_A && CONFIG_N"), Some(true));
        assert_eq!(t("CONFIG_ABSENT"), Some(false));
        assert_eq!(t("defined(__KERNEL__) && CONFIG_B"), Some(false));
        assert_eq!(t("defined(__KERNEL__) || CONFIG_A"), Some(true));
        assert_eq!(t("defined(__KERNEL__)"), None);
        assert_eq!(t("CONFIG_N > 16"), None);
        assert_eq!(t("__has_attribute(x) && IS_ENABLED(CONFIG_A)"), None);
        assert_eq!(t("0"), Some(false));
        assert_eq!(t("(CONFIG_A"), None);
        assert_eq!(
            parse_expr("CONFIG_N > 16 || defined(CONFIG_A_MODULE)").symbols(),
            ["A".to_string(), "N".to_string()].into()
        );
    }

    const SHMEM: &str = r#"/* a { comment */
#include "internal.h"
#ifdef CONFIG_SHMEM
static int shmem_fault(struct vm_fault *vmf)
{
	char *s = "}";
	return '{' == 0;
}
#else /* !CONFIG_SHMEM */
int shmem_fault(struct vm_fault *vmf) { return 0; }
#endif
struct file_operations ops = {
	.open = f,
};
#if defined(CONFIG_A) \
    && IS_ENABLED(CONFIG_B)
# include "membarrier.c"
#elif CONFIG_C
void __init __attribute__((cold)) both(void)
#endif
{
#ifdef CONFIG_D
	x();
#endif
	if (IS_ENABLED(CONFIG_E)) {
		y();
	}
}
SYSCALL_DEFINE2(membarrier, int, cmd, unsigned int, flags)
{
}
"#;

    #[test]
    fn definitions_and_includes_with_their_branches() {
        let s = scan(SHMEM);
        let names: Vec<&str> = s.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "shmem_fault",
                "shmem_fault",
                "both",
                "__arm64_sys_membarrier",
                "__x64_sys_membarrier",
                "__se_sys_membarrier",
                "__do_sys_membarrier",
                "sys_membarrier"
            ]
        );
        let f = &s.functions[0];
        assert_eq!(f.line, 5);
        assert_eq!(f.frames.len(), 1);
        assert_eq!(f.frames[0].directive, "#ifdef CONFIG_SHMEM");
        let g = &s.functions[1];
        assert_eq!(g.frames[0].directive, "#else of #ifdef CONFIG_SHMEM");
        let on = values(&[("SHMEM", "y")]);
        let off = values(&[("SHMEM", "n")]);
        assert_eq!(f.frames[0].cond.eval(&on), Some(true));
        assert_eq!(f.frames[0].cond.eval(&off), Some(false));
        assert_eq!(g.frames[0].cond.eval(&off), Some(true));
        let both = &s.functions[2];
        assert_eq!(both.line, 21);
        assert_eq!(both.frames, []);
        assert_eq!(both.body_symbols, ["D".to_string(), "E".to_string()].into());
        assert_eq!(s.includes.len(), 2);
        assert_eq!(s.includes[0].path, "internal.h");
        assert_eq!(s.includes[0].frames, []);
        let m = &s.includes[1];
        assert_eq!((m.path.as_str(), m.line), ("membarrier.c", 17));
        assert_eq!(
            m.frames[0].directive,
            "#if defined(CONFIG_A) && IS_ENABLED(CONFIG_B)"
        );
        assert_eq!(
            m.frames[0].cond.eval(&values(&[("A", "y"), ("B", "y")])),
            Some(true)
        );
        assert_eq!(s.functions[3].frames, []);
    }

    #[test]
    fn unbalanced_branches_keep_the_depth_of_the_first() {
        let text = "void f(void)\n{\n#ifdef CONFIG_A\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t}\n}\nvoid g(void)\n{\n}\n";
        let s = scan(text);
        let names: Vec<&str> = s.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["f", "g"]);
        assert_eq!(s.functions[0].body_symbols, ["A".to_string()].into());
    }
}
