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

mod expr;

pub use expr::{config_words, parse_expr, PExpr};
use expr::{tokens, Tok};

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
mod tests;
