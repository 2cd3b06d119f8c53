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

mod parse;

use parse::{
    balanced, conditional, logical_lines, logical_name, parse_assignment, split_args, split_words,
    Assignment, Op,
};

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

#[cfg(test)]
mod tests;
