//! Why Kbuild builds an object into vmlinux: the `obj-$(CONFIG_X) += foo.o`
//! line of its directory's Kbuild file, the composite it is part of
//! (`foo-y += part.o`), and the chain of directories above
//! (`obj-$(CONFIG_Z) += dir/` up to the top-level `Kbuild`).
//!
//! Each Kbuild file is read the way make would, but symbolically: a variable
//! holds words, each with the condition under which make would have put it
//! there. `obj-$(CONFIG_X) += a.o` adds `a.o` to `obj-y` under `X=y`;
//! `ifeq`/`ifdef` blocks add their condition; `:=` under a condition keeps
//! the old words only where the condition fails. `$(VAR)` of a variable
//! defined earlier in the same file, and `addprefix`, `addsuffix`,
//! `patsubst`, `filter`, `filter-out` and `subst` over such words, are
//! expanded; anything else stays as written and is reported as a doubt when
//! it matters.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cond::Cond;

/// One line of a Kbuild file or Makefile (continuations joined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbuildLine {
    /// Path relative to the source tree.
    pub file: String,
    /// 1-based line where the statement starts.
    pub line: u32,
    pub text: String,
}

/// One way an object or directory enters the build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inclusion {
    /// The directory whose Kbuild file does it ("" for the top level).
    pub dir: String,
    /// The word as the Kbuild file has it: `irq-gic.o`, `irqchip/`, `lib/`.
    pub entry: String,
    /// The variable it lands in: `obj-y`, `lib-y`, or `proc-y` for a part
    /// of the composite object `proc.o`.
    pub variable: String,
    /// When make puts it there, within that Kbuild file.
    pub guard: Cond,
    /// The line that adds it, then the lines of the variables it came
    /// through (`obj-y += $(ARCH_LIB)` after `libs-y := arch/arm64/lib/`).
    pub lines: Vec<KbuildLine>,
}

impl Inclusion {
    /// The composite object this is a part of (`proc.o` for `proc-y`), if any.
    pub fn composite(&self) -> Option<String> {
        let base = self
            .variable
            .strip_suffix("-y")
            .or_else(|| self.variable.strip_suffix("-objs"))?;
        (base != "obj" && base != "lib").then(|| format!("{base}.o"))
    }
}

#[derive(Debug, Clone)]
struct Word {
    text: String,
    guard: Cond,
    lines: Vec<KbuildLine>,
}

/// Variables of one parsed Kbuild file.
#[derive(Debug, Default, Clone)]
struct Vars {
    words: HashMap<String, Vec<Word>>,
}

/// Reads Kbuild files of a source tree, each once.
pub(crate) struct Kbuild {
    source: PathBuf,
    srcarch: String,
    parsed: HashMap<String, Vars>,
    top: Vars,
    /// Problems met while reading (unreadable includes and the like).
    pub notes: Vec<String>,
}

impl Kbuild {
    pub fn new(source: &Path, srcarch: &str) -> Kbuild {
        let mut kb = Kbuild {
            source: source.to_path_buf(),
            srcarch: srcarch.to_string(),
            parsed: HashMap::new(),
            top: Vars::default(),
            notes: Vec::new(),
        };
        kb.top = kb.read_top();
        kb
    }

    /// The top level: the arch Makefile's `core-y`/`libs-y`/`drivers-y`
    /// (started by the root Makefile), which the root `Kbuild` uses as
    /// `$(ARCH_CORE)`, `$(ARCH_LIB)`, `$(ARCH_DRIVERS)`.
    fn read_top(&mut self) -> Vars {
        let mut vars = Vars::default();
        vars.set_plain("SRCARCH", &self.srcarch);
        // Root Makefile: `core-y :=`, `drivers-y :=`, `libs-y := lib/` just
        // before it includes arch/$(SRCARCH)/Makefile.
        let root = "Makefile";
        if let Some(text) = self.read(root) {
            for st in logical_lines(&text) {
                if let Some(a) = parse_assignment(&st.text) {
                    if ["core-y", "drivers-y", "libs-y"].contains(&a.name.as_str()) {
                        let at = KbuildLine {
                            file: root.into(),
                            line: st.line,
                            text: st.text.clone(),
                        };
                        vars.assign(&a, Cond::True, at);
                    }
                }
            }
        }
        let arch = format!("arch/{}/Makefile", self.srcarch);
        self.read_into(&arch, "", &mut vars, &mut Vec::new(), 0);
        let pick = |name: &str, filter: fn(&str) -> bool| -> Vec<Word> {
            vars.get(name)
                .iter()
                .filter(|w| filter(&w.text))
                .cloned()
                .collect()
        };
        let core = pick("core-y", |_| true);
        let lib = pick("libs-y", |w| w.ends_with('/'));
        let drivers = pick("drivers-y", |_| true);
        let mut top = Vars::default();
        top.set_plain("SRCARCH", &self.srcarch);
        top.words.insert("ARCH_CORE".into(), core);
        top.words.insert("ARCH_LIB".into(), lib);
        top.words.insert("ARCH_DRIVERS".into(), drivers);
        let kbuild = "Kbuild";
        self.read_into(kbuild, "", &mut top, &mut Vec::new(), 0);
        top
    }

    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.source.join(rel)).ok()
    }

    /// The Kbuild file of a directory, as Kbuild.include's `kbuild-file`.
    fn kbuild_file(&self, dir: &str) -> String {
        let kbuild = join(dir, "Kbuild");
        if self.source.join(&kbuild).is_file() {
            kbuild
        } else {
            join(dir, "Makefile")
        }
    }

    fn vars(&mut self, dir: &str) -> &Vars {
        if dir.is_empty() {
            return &self.top;
        }
        if !self.parsed.contains_key(dir) {
            let mut vars = Vars::default();
            vars.set_plain("SRCARCH", &self.srcarch);
            let file = self.kbuild_file(dir);
            self.read_into(&file, dir, &mut vars, &mut Vec::new(), 0);
            self.parsed.insert(dir.to_string(), vars);
        }
        &self.parsed[dir]
    }

    fn read_into(
        &mut self,
        file: &str,
        dir: &str,
        vars: &mut Vars,
        blocks: &mut Vec<Block>,
        depth: usize,
    ) {
        // A directory above an object may have no Kbuild file (`arch/`):
        // only a missing include is worth a note.
        let Some(text) = self.read(file) else {
            if depth > 0 {
                self.notes
                    .push(format!("{file}: included, but cannot be read"));
            }
            return;
        };
        // Tab-indented lines after a rule are its recipe; `define` bodies
        // are text. Neither assigns anything.
        let mut in_rule = false;
        let mut in_define = false;
        for st in logical_lines(&text) {
            let (line, stmt) = (st.line, st.text.as_str());
            let first = stmt.split_whitespace().next().unwrap_or("");
            if in_define {
                in_define = first != "endef";
                continue;
            }
            if st.tab && in_rule {
                continue;
            }
            in_rule = false;
            match first {
                "define" => in_define = true,
                "ifeq" | "ifneq" | "ifdef" | "ifndef" => {
                    blocks.push(Block {
                        current: conditional(stmt),
                        previous: Vec::new(),
                    });
                }
                "else" => {
                    if let Some(b) = blocks.last_mut() {
                        let done = std::mem::replace(&mut b.current, Cond::True);
                        b.previous.push(done);
                        let rest = stmt["else".len()..].trim();
                        if !rest.is_empty() {
                            b.current = conditional(rest);
                        }
                    }
                }
                "endif" => {
                    blocks.pop();
                }
                "include" | "-include" | "sinclude" => {
                    let target = stmt[first.len()..].trim();
                    let path = target
                        .replace("$(srctree)/", "")
                        .replace("$(src)/", dir)
                        .replace("$(SRCARCH)", &self.srcarch);
                    if path.contains('$') || depth > 8 {
                        if first == "include" {
                            self.notes
                                .push(format!("{file}:{line}: include {target} not followed"));
                        }
                    } else if !path.starts_with("scripts/") && !path.starts_with("include/config") {
                        self.read_into(&path, dir, vars, blocks, depth + 1);
                    }
                }
                _ => match parse_assignment(stmt) {
                    Some(a) => {
                        let guard = blocks.iter().map(Block::guard).fold(Cond::True, Cond::and);
                        let at = KbuildLine {
                            file: file.to_string(),
                            line,
                            text: stmt.to_string(),
                        };
                        vars.assign(&a, guard, at);
                    }
                    None => in_rule = stmt.contains(':'),
                },
            }
        }
    }

    /// The ways `object` (a path relative to the build tree, like
    /// `fs/proc/base.o`) enters the build: the Kbuild file of its directory
    /// or of the nearest directory above that names it.
    pub fn object_inclusions(&mut self, object: &str) -> Vec<Inclusion> {
        let mut dir = parent(object);
        loop {
            let rel = &object[dir.len()..];
            let vars = self.vars(&dir);
            let found = vars.inclusions_of(rel, &dir);
            if !found.is_empty() || dir.is_empty() {
                return found;
            }
            dir = parent(dir.trim_end_matches('/'));
        }
    }

    /// The ways a directory (`drivers/irqchip/`) is descended into.
    pub fn dir_inclusions(&mut self, dir: &str) -> Vec<Inclusion> {
        let mut up = parent(dir.trim_end_matches('/'));
        loop {
            let rel = &dir[up.len()..];
            let vars = self.vars(&up);
            let found: Vec<Inclusion> = vars
                .inclusions_of(rel, &up)
                .into_iter()
                .filter(|i| i.composite().is_none())
                .collect();
            if !found.is_empty() || up.is_empty() {
                return found;
            }
            up = parent(up.trim_end_matches('/'));
        }
    }

    /// Composite parts: the inclusions of `composite` (e.g. `proc.o`) in
    /// the same Kbuild file as its part.
    pub fn composite_inclusions(&mut self, dir: &str, composite: &str) -> Vec<Inclusion> {
        let vars = self.vars(dir);
        vars.inclusions_of(composite, dir)
            .into_iter()
            .filter(|i| i.composite().is_none())
            .collect()
    }

    /// `$(...)` left unexpanded in the object lists of a directory's Kbuild
    /// file: where a missing object may hide.
    pub fn unexpanded(&mut self, dir: &str) -> Vec<String> {
        let vars = self.vars(dir);
        let mut out: Vec<String> = vars
            .words
            .iter()
            .filter(|(name, _)| is_object_list(name))
            .flat_map(|(_, ws)| ws.iter())
            .filter(|w| w.text.contains('$'))
            .map(|w| {
                let at = &w.lines[0];
                format!("{}:{}: {}", at.file, at.line, w.text)
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

fn is_object_list(name: &str) -> bool {
    name.ends_with("-y") || name.ends_with("-objs")
}

fn join(dir: &str, name: &str) -> String {
    format!("{dir}{name}")
}

/// `a/b/c.o` -> `a/b/`; `a` -> ``.
fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => path[..=i].to_string(),
        None => String::new(),
    }
}

struct Block {
    current: Cond,
    previous: Vec<Cond>,
}

impl Block {
    /// The condition of the branch being read: its own and that none of the
    /// earlier branches held.
    fn guard(&self) -> Cond {
        self.previous
            .iter()
            .cloned()
            .map(Cond::negate)
            .fold(Cond::True, Cond::and)
            .and(self.current.clone())
    }
}

impl Vars {
    fn get(&self, name: &str) -> &[Word] {
        self.words.get(name).map_or(&[], Vec::as_slice)
    }

    fn set_plain(&mut self, name: &str, value: &str) {
        let words = value
            .split_whitespace()
            .map(|t| Word {
                text: t.to_string(),
                guard: Cond::True,
                lines: Vec::new(),
            })
            .collect();
        self.words.insert(name.to_string(), words);
    }

    fn assign(&mut self, a: &Assignment, guard: Cond, at: KbuildLine) {
        let (name, suffix_guard) = logical_name(&a.name);
        let guard = guard.and(suffix_guard);
        let new: Vec<Word> = self
            .expand(&a.value)
            .into_iter()
            .map(|w| {
                let mut lines = vec![at.clone()];
                lines.extend(w.lines);
                Word {
                    text: w.text,
                    guard: guard.clone().and(w.guard),
                    lines,
                }
            })
            .collect();
        let slot = self.words.entry(name).or_default();
        match a.op {
            Op::Append => slot.extend(new),
            Op::Default if !slot.is_empty() => {}
            Op::Set | Op::Default => {
                if guard == Cond::True {
                    slot.clear();
                } else {
                    let unless = guard.negate();
                    for w in slot.iter_mut() {
                        w.guard = std::mem::replace(&mut w.guard, Cond::True).and(unless.clone());
                    }
                }
                slot.extend(new);
            }
        }
    }

    /// Words of a right-hand side, with variables and a few functions
    /// expanded.
    fn expand(&self, text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        for token in split_words(text) {
            out.extend(self.expand_token(&token));
        }
        out
    }

    fn expand_token(&self, token: &str) -> Vec<Word> {
        let plain = |t: &str| Word {
            text: t.to_string(),
            guard: Cond::True,
            lines: Vec::new(),
        };
        let Some(inner) = token
            .strip_prefix("$(")
            .and_then(|t| t.strip_suffix(')'))
            .filter(|i| balanced(i))
        else {
            return vec![plain(&self.substitute(token))];
        };
        if let Some(words) = self.words.get(inner) {
            return words.clone();
        }
        let Some((func, args)) = inner.split_once(' ') else {
            return vec![plain(token)];
        };
        let args = split_args(args);
        let text_of = |s: &str| -> Option<String> {
            let ws = self.expand(s);
            ws.iter().all(|w| !w.text.contains('$')).then(|| {
                ws.iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        let map_words = |list: &str, f: &dyn Fn(&str) -> Option<String>| -> Vec<Word> {
            self.expand(list)
                .into_iter()
                .filter_map(|mut w| {
                    w.text = f(&w.text)?;
                    Some(w)
                })
                .collect()
        };
        match (func, args.as_slice()) {
            ("addprefix", [p, list]) => match text_of(p) {
                Some(p) => map_words(list, &|w| Some(format!("{p}{w}"))),
                None => vec![plain(token)],
            },
            ("addsuffix", [s, list]) => match text_of(s) {
                Some(s) => map_words(list, &|w| Some(format!("{w}{s}"))),
                None => vec![plain(token)],
            },
            ("patsubst", [from, to, list]) => match (text_of(from), text_of(to)) {
                (Some(from), Some(to)) => map_words(list, &|w| Some(patsubst(&from, &to, w))),
                _ => vec![plain(token)],
            },
            ("subst", [from, to, list]) => match (text_of(from), text_of(to)) {
                (Some(from), Some(to)) => map_words(list, &|w| Some(w.replace(&from, &to))),
                _ => vec![plain(token)],
            },
            ("filter" | "filter-out", [pats, list]) => match text_of(pats) {
                Some(pats) => {
                    let keep = func == "filter";
                    map_words(list, &|w| {
                        let hit = pats.split_whitespace().any(|p| pattern_match(p, w));
                        (hit == keep).then(|| w.to_string())
                    })
                }
                None => vec![plain(token)],
            },
            _ => vec![plain(token)],
        }
    }

    /// `$(NAME)` inside a word (`arch/$(SRCARCH)/`), for variables that are
    /// one unconditional word.
    fn substitute(&self, token: &str) -> String {
        let mut out = token.to_string();
        let mut from = 0;
        while let Some(start) = out[from..].find("$(").map(|i| i + from) {
            let Some(len) = out[start..].find(')') else {
                break;
            };
            let name = &out[start + 2..start + len];
            match self.get(name) {
                [w] if w.guard == Cond::True => {
                    let text = w.text.clone();
                    out.replace_range(start..=start + len, &text);
                    from = start + text.len();
                }
                _ => from = start + 2,
            }
        }
        out
    }

    /// Inclusions of `entry` (relative to `dir`): in `obj-y`/`lib-y`, or as a
    /// part of a composite object that is itself in `obj-y`.
    fn inclusions_of(&self, entry: &str, dir: &str) -> Vec<Inclusion> {
        let mut out = Vec::new();
        for (name, words) in &self.words {
            if !is_object_list(name) {
                continue;
            }
            for w in words.iter().filter(|w| w.text == entry) {
                out.push(Inclusion {
                    dir: dir.to_string(),
                    entry: entry.to_string(),
                    variable: name.clone(),
                    guard: w.guard.clone(),
                    lines: w.lines.clone(),
                });
            }
        }
        // Only obj-y and lib-y reach vmlinux, and composites that are in them.
        out.retain(|i| match i.composite() {
            None => i.variable == "obj-y" || i.variable == "lib-y",
            Some(c) => self.get("obj-y").iter().any(|w| w.text == c),
        });
        out.sort_by(|a, b| {
            let key = |i: &Inclusion| i.lines.first().map(|l| (l.file.clone(), l.line));
            key(a).cmp(&key(b))
        });
        out
    }
}

/// `%` patterns of make's `patsubst`/`filter`.
fn pattern_match(pattern: &str, word: &str) -> bool {
    match pattern.split_once('%') {
        Some((pre, post)) => {
            word.len() >= pre.len() + post.len() && word.starts_with(pre) && word.ends_with(post)
        }
        None => pattern == word,
    }
}

fn patsubst(from: &str, to: &str, word: &str) -> String {
    match from.split_once('%') {
        Some((pre, post)) if pattern_match(from, word) => {
            let stem = &word[pre.len()..word.len() - post.len()];
            to.replacen('%', stem, 1)
        }
        None if from == word => to.to_string(),
        _ => word.to_string(),
    }
}

#[derive(Debug, PartialEq)]
enum Op {
    Set,
    Append,
    Default,
}

#[derive(Debug)]
struct Assignment {
    name: String,
    op: Op,
    value: String,
}

/// `NAME op VALUE` (`=`, `:=`, `::=`, `+=`, `?=`), with `override`/`export`
/// dropped; rules and target-specific assignments are not assignments.
fn parse_assignment(stmt: &str) -> Option<Assignment> {
    let mut s = stmt.trim_start();
    for kw in ["override ", "export "] {
        if let Some(rest) = s.strip_prefix(kw) {
            s = rest.trim_start();
        }
    }
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth = depth.saturating_sub(1),
            b':' | b'+' | b'?' | b'=' | b' ' | b'\t' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let name = s[..i].to_string();
    let rest = s[i..].trim_start();
    let (op, value) = if let Some(v) = rest.strip_prefix("+=") {
        (Op::Append, v)
    } else if let Some(v) = rest.strip_prefix("::=") {
        (Op::Set, v)
    } else if let Some(v) = rest.strip_prefix(":=") {
        (Op::Set, v)
    } else if let Some(v) = rest.strip_prefix("?=") {
        (Op::Default, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (Op::Set, v)
    } else {
        return None;
    };
    if name.is_empty() {
        return None;
    }
    Some(Assignment {
        name,
        op,
        value: value.trim().to_string(),
    })
}

/// `obj-$(CONFIG_X)` is `obj-y` when `X=y`: the variable make would assign,
/// and when.
fn logical_name(name: &str) -> (String, Cond) {
    let Some(dash) = find_suffix_dash(name) else {
        return (name.to_string(), Cond::True);
    };
    let (base, suffix) = (&name[..dash], &name[dash + 1..]);
    if !suffix.contains('$') {
        return (name.to_string(), Cond::True);
    }
    let y = format!("{base}-y");
    if let Some(sym) = config_ref(suffix) {
        return (
            y,
            Cond::Is {
                symbol: sym,
                value: "y".into(),
            },
        );
    }
    // `$(subst m,y,$(CONFIG_X))` and `$(CONFIG_X:m=y)`: y when X is y or m.
    let m_to_y = suffix
        .strip_prefix("$(subst m,y,")
        .and_then(|s| s.strip_suffix(')'))
        .and_then(config_ref)
        .or_else(|| {
            let inner = suffix.strip_prefix("$(CONFIG_")?.strip_suffix(":m=y)")?;
            symbol_name(inner)
        });
    if let Some(sym) = m_to_y {
        return (y, Cond::Set(sym));
    }
    (y, Cond::Unparsed(name.to_string()))
}

/// The `-` before the suffix: the last one outside `$(...)`.
fn find_suffix_dash(name: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut last = None;
    for (i, c) in name.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '-' if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

/// `$(CONFIG_FOO)` -> `FOO`.
fn config_ref(s: &str) -> Option<String> {
    let inner = s
        .strip_prefix("$(")
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| s.strip_prefix("${").and_then(|r| r.strip_suffix('}')))?;
    symbol_name(inner.strip_prefix("CONFIG_")?)
}

fn symbol_name(s: &str) -> Option<String> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| s.to_string())
}

/// `$(CONFIG_A)$(CONFIG_B)` -> `[A, B]`: nothing but references.
fn config_refs(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let close = if rest.starts_with("${") { '}' } else { ')' };
        let end = rest.find(close)? + 1;
        out.push(config_ref(&rest[..end])?);
        rest = &rest[end..];
    }
    (!out.is_empty()).then_some(out)
}

/// The arguments of `$(FUNC a,b)` when `s` is exactly that call.
fn call_args(s: &str, func: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix("$(")?.strip_suffix(')')?;
    let args = inner.strip_prefix(func)?.strip_prefix(' ')?;
    balanced(args).then(|| split_args(args))
}

/// The condition of `ifeq`/`ifneq`/`ifdef`/`ifndef`.
fn conditional(stmt: &str) -> Cond {
    let stmt = stmt.trim();
    let (kw, rest) = stmt.split_once(char::is_whitespace).unwrap_or((stmt, ""));
    let rest = rest.trim();
    let unparsed = || Cond::Unparsed(stmt.to_string());
    match kw {
        "ifdef" | "ifndef" => {
            let Some(sym) = rest.strip_prefix("CONFIG_").filter(|s| {
                s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !s.is_empty()
            }) else {
                return unparsed();
            };
            let c = Cond::Set(sym.to_string());
            if kw == "ifdef" {
                c
            } else {
                c.negate()
            }
        }
        "ifeq" | "ifneq" => {
            let Some((a, b)) = ifeq_args(rest) else {
                return unparsed();
            };
            let (expr, value) = match (a.contains('$'), b.contains('$')) {
                (true, false) => (a, b),
                (false, true) => (b, a),
                _ => return unparsed(),
            };
            match equality(&expr, &value) {
                Some(c) if kw == "ifeq" => c,
                Some(c) => c.negate(),
                None => unparsed(),
            }
        }
        _ => unparsed(),
    }
}

/// `EXPR == VALUE` for the forms Kbuild files use on config symbols.
/// Concatenations rely on a set symbol never being empty (auto.conf leaves
/// out the unset ones) and on `y` being a whole value.
fn equality(expr: &str, value: &str) -> Option<Cond> {
    let is_y = |s: &String| Cond::Is {
        symbol: s.clone(),
        value: "y".into(),
    };
    let all = |cs: Vec<Cond>| cs.into_iter().fold(Cond::True, Cond::and);
    if let Some(syms) = config_refs(expr) {
        return match (syms.as_slice(), value) {
            ([sym], "") => Some(Cond::Set(sym.clone()).negate()),
            ([sym], v) => Some(Cond::Is {
                symbol: sym.clone(),
                value: v.to_string(),
            }),
            (_, "") => Some(all(syms
                .into_iter()
                .map(|s| Cond::Set(s).negate())
                .collect())),
            (_, v) if v == "y".repeat(syms.len()) => Some(all(syms.iter().map(is_y).collect())),
            _ => None,
        };
    }
    if !value.is_empty() {
        return None;
    }
    // `$(filter y,$(CONFIG_A) $(CONFIG_B))` is empty when none is y;
    // `$(or $(CONFIG_A),$(CONFIG_B))` when none is set.
    if let Some(args) = call_args(expr, "filter") {
        let [pattern, list] = args.as_slice() else {
            return None;
        };
        let syms: Option<Vec<String>> = list.split_whitespace().map(config_ref).collect();
        let syms = syms.filter(|s| !s.is_empty() && pattern.trim() == "y")?;
        return Some(Cond::any(syms.iter().map(is_y).collect()).negate());
    }
    let args = call_args(expr, "or")?;
    let syms: Option<Vec<String>> = args.iter().map(|a| config_ref(a.trim())).collect();
    Some(Cond::any(syms?.into_iter().map(Cond::Set).collect()).negate())
}

/// `(A,B)`, `"A" "B"` or `'A' 'B'`, each side trimmed.
fn ifeq_args(rest: &str) -> Option<(String, String)> {
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let args = split_args(inner);
        if let [a, b] = args.as_slice() {
            return Some((a.trim().to_string(), b.trim().to_string()));
        }
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = rest.trim();
    while let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = rest[1..].find(q)? + 1;
        parts.push(rest[1..end].trim().to_string());
        rest = rest[end + 1..].trim_start();
    }
    match (parts.len(), rest.is_empty()) {
        (2, true) => Some((parts[0].clone(), parts[1].clone())),
        _ => None,
    }
}

/// Arguments of a make function, split at top-level commas.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Whitespace-separated words, keeping `$(...)` with spaces inside whole.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// A statement of a makefile: comments removed, `\\`-continued lines
/// joined, with the line it starts on and whether that began with a tab.
struct Statement {
    line: u32,
    text: String,
    tab: bool,
}

fn logical_lines(text: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut cur: Option<Statement> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        let (body, more) = match line.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let st = cur.get_or_insert_with(|| Statement {
            line: n as u32 + 1,
            text: String::new(),
            tab: raw.starts_with('\t'),
        });
        if !st.text.is_empty() {
            st.text.push(' ');
        }
        st.text.push_str(body.trim());
        if !more {
            out.extend(cur.take().filter(|s| !s.text.is_empty()));
        }
    }
    out.extend(cur.filter(|s| !s.text.is_empty()));
    out
}

/// The text before an unescaped `#`.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'#' && (i == 0 || b[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cond::ConfigValues;
    use crate::testutil::TempTree;

    const FILES: &[(&str, &str)] = &[
        (
            "Makefile",
            "core-y\t:=\ndrivers-y\t:=\nlibs-y\t\t:= lib/\ninclude $(srctree)/arch/$(SRCARCH)/Makefile\n",
        ),
        (
            "arch/arm64/Makefile",
            "libs-y := arch/arm64/lib/ $(libs-y)\nlibs-$(CONFIG_EFI_STUB) += x/lib.a\n",
        ),
        (
            "Kbuild",
            "obj-y += kernel/\nobj-y += arch/$(SRCARCH)/\nobj-$(CONFIG_NET) += net/\nobj-y += $(ARCH_LIB)\n",
        ),
        (
            "kernel/Makefile",
            "obj-y = fork.o \\\n\texit.o # the rest\nobj-$(CONFIG_SMP) += smp.o\nobj-$(CONFIG_A) += shared.o\nobj-$(CONFIG_B) += shared.o\nifdef CONFIG_C\nobj-y += c.o\nelse\nobj-y += notc.o\nendif\nifeq ($(CONFIG_D),)\nobj-y += nod.o\nendif\nobj-$(subst m,y,$(CONFIG_E)) += e.o\nobj-$(if $(CONFIG_F),y) += f.o\nobj-y += sched/\n",
        ),
        (
            "kernel/sched/Kbuild",
            "proc-y := nommu.o\nproc-$(CONFIG_MMU) := mmu.o\nproc-y += base.o\nobj-y += proc.o\nparts := p1.o p2.o\nobj-y += $(addprefix sub/,$(parts))\nobj-y += $(call weird,x)\n",
        ),
        ("kernel/sched/Makefile", "obj-y += ignored.o\n"),
        (
            "arch/arm64/kernel/Makefile",
            "\tobj-y += tabbed.o\n$(obj)/x.o: y.o\n\tobj-y += recipe.o\nobj-y += after.o\ndefine body\nobj-y += defined.o\nendef\n",
        ),
        ("lib/Makefile", "lib-y := ctype.o\nobj-y += sort.o\n"),
        ("arch/arm64/lib/Makefile", "lib-y := memcpy.o\n"),
    ];

    fn config(pairs: &[(&str, &str)]) -> ConfigValues {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn guards(kb: &mut Kbuild, object: &str) -> Vec<String> {
        kb.object_inclusions(object)
            .iter()
            .map(|i| i.guard.to_string())
            .collect()
    }

    #[test]
    fn object_lines_with_their_conditions() {
        let t = TempTree::new(FILES);
        let mut kb = Kbuild::new(t.path(), "arm64");
        assert_eq!(guards(&mut kb, "kernel/fork.o"), ["y"]);
        let exit = kb.object_inclusions("kernel/exit.o");
        assert_eq!(
            exit[0].lines[0].line, 1,
            "continuation keeps the first line"
        );
        assert_eq!(guards(&mut kb, "kernel/smp.o"), ["SMP"]);
        assert_eq!(guards(&mut kb, "kernel/shared.o"), ["A", "B"]);
        assert_eq!(guards(&mut kb, "kernel/c.o"), ["C!=n"]);
        assert_eq!(guards(&mut kb, "kernel/notc.o"), ["C=n"]);
        assert_eq!(guards(&mut kb, "kernel/nod.o"), ["D=n"]);
        assert_eq!(guards(&mut kb, "kernel/e.o"), ["E!=n"]);
        assert_eq!(
            guards(&mut kb, "kernel/f.o"),
            ["<? obj-$(if $(CONFIG_F),y) ?>"]
        );
        assert!(kb.object_inclusions("kernel/missing.o").is_empty());
        // A tab starts a recipe only after a rule; `define` bodies are text.
        let found = |kb: &mut Kbuild, o: &str| !kb.object_inclusions(o).is_empty();
        assert!(found(&mut kb, "arch/arm64/kernel/tabbed.o"));
        assert!(!found(&mut kb, "arch/arm64/kernel/recipe.o"));
        assert!(found(&mut kb, "arch/arm64/kernel/after.o"));
        assert!(!found(&mut kb, "arch/arm64/kernel/defined.o"));
    }

    #[test]
    fn kbuild_file_wins_and_composites_and_set_under_condition() {
        let t = TempTree::new(FILES);
        let mut kb = Kbuild::new(t.path(), "arm64");
        assert!(kb.object_inclusions("kernel/sched/ignored.o").is_empty());
        let mmu = kb.object_inclusions("kernel/sched/mmu.o");
        assert_eq!(mmu.len(), 1);
        assert_eq!(mmu[0].composite().as_deref(), Some("proc.o"));
        assert_eq!(mmu[0].guard.to_string(), "MMU");
        // `proc-$(CONFIG_MMU) :=` drops nommu.o where MMU=y.
        let nommu = kb.object_inclusions("kernel/sched/nommu.o");
        assert_eq!(nommu[0].guard.to_string(), "!MMU");
        let on = config(&[("MMU", "y")]);
        assert_eq!(nommu[0].guard.eval(&on), Some(false));
        assert_eq!(
            kb.composite_inclusions("kernel/sched/", "proc.o")[0]
                .guard
                .to_string(),
            "y"
        );
        // addprefix over a variable of the same file.
        assert_eq!(kb.object_inclusions("kernel/sched/sub/p2.o").len(), 1);
        assert_eq!(
            kb.unexpanded("kernel/sched/"),
            ["kernel/sched/Kbuild:7: $(call weird,x)"]
        );
    }

    #[test]
    fn directories_up_to_the_top_level() {
        let t = TempTree::new(FILES);
        let mut kb = Kbuild::new(t.path(), "arm64");
        let d = kb.dir_inclusions("kernel/sched/");
        assert_eq!(
            (d[0].dir.as_str(), d[0].entry.as_str()),
            ("kernel/", "sched/")
        );
        let d = kb.dir_inclusions("kernel/");
        assert_eq!(
            (d[0].dir.as_str(), d[0].lines[0].file.as_str()),
            ("", "Kbuild")
        );
        assert_eq!(kb.dir_inclusions("net/")[0].guard.to_string(), "NET");
        assert_eq!(kb.dir_inclusions("arch/arm64/").len(), 1);
        // $(ARCH_LIB): libs-y of the arch Makefile, after the root Makefile's.
        let lib = kb.dir_inclusions("arch/arm64/lib/");
        assert_eq!(lib.len(), 1);
        let files: Vec<&str> = lib[0].lines.iter().map(|l| l.file.as_str()).collect();
        assert_eq!(files, ["Kbuild", "arch/arm64/Makefile"]);
        let lib = kb.dir_inclusions("lib/");
        let files: Vec<&str> = lib[0].lines.iter().map(|l| l.file.as_str()).collect();
        assert_eq!(files, ["Kbuild", "arch/arm64/Makefile", "Makefile"]);
        assert_eq!(guards(&mut kb, "lib/ctype.o"), ["y"]);
        assert_eq!(kb.object_inclusions("lib/ctype.o")[0].variable, "lib-y");
    }

    #[test]
    fn conditionals_and_assignments_parse() {
        assert_eq!(conditional("ifeq ($(CONFIG_X),y)").to_string(), "X");
        assert_eq!(
            conditional("ifneq \"$(CONFIG_X)\" \"m\"").to_string(),
            "X!=m"
        );
        assert_eq!(conditional("ifeq (y,$(CONFIG_X))").to_string(), "X");
        assert_eq!(
            conditional("ifeq ($(CONFIG_A)$(CONFIG_B),yy)").to_string(),
            "A && B"
        );
        assert_eq!(
            conditional("ifneq ($(CONFIG_A)$(CONFIG_B),)").to_string(),
            "!(A=n && B=n)"
        );
        assert!(matches!(
            conditional("ifeq ($(CONFIG_A)$(CONFIG_B),y)"),
            Cond::Unparsed(_)
        ));
        assert_eq!(
            conditional("ifneq ($(filter y,$(CONFIG_A) $(CONFIG_B)),)").to_string(),
            "A || B"
        );
        assert_eq!(
            conditional("ifneq ($(or $(CONFIG_A),$(CONFIG_B)),)").to_string(),
            "A!=n || B!=n"
        );
        assert!(matches!(
            conditional("ifeq ($(filter y m,$(CONFIG_A)),)"),
            Cond::Unparsed(_)
        ));
        assert!(matches!(
            conditional("ifeq ($(ARCH),arm64)"),
            Cond::Unparsed(_)
        ));
        assert_eq!(logical_name("obj-${CONFIG_A}").1.to_string(), "A");
        assert_eq!(logical_name("obj-$(CONFIG_A:m=y)").1.to_string(), "A!=n");
        assert!(matches!(
            logical_name("m-$(CONFIG_A)$(CONFIG_B)").1,
            Cond::Unparsed(_)
        ));
        assert!(matches!(conditional("ifdef building"), Cond::Unparsed(_)));
        assert!(parse_assignment("$(obj)/x.o: FLAGS := y").is_none());
        assert!(parse_assignment("$(obj)/x.o: $(src)/x.c").is_none());
        let a = parse_assignment("obj-$(subst m,y,$(CONFIG_H)) += h/").unwrap();
        assert_eq!(
            (a.name.as_str(), &a.op),
            ("obj-$(subst m,y,$(CONFIG_H))", &Op::Append)
        );
        assert_eq!(patsubst("%.o", "%.pi.o", "a.o"), "a.pi.o");
        let st = logical_lines("a := b # c\n\tb\nx \\\n y\n");
        let texts: Vec<(u32, &str, bool)> = st
            .iter()
            .map(|s| (s.line, s.text.as_str(), s.tab))
            .collect();
        assert_eq!(
            texts,
            [(1, "a := b", false), (2, "b", true), (3, "x y", false)]
        );
    }
}
