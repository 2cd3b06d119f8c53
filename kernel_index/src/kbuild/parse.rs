//! The make syntax of a Kbuild file: logical lines, assignments, conditionals
//! and the words and function calls in them.

use crate::cond::Cond;

#[derive(Debug, PartialEq)]
pub(super) enum Op {
    Set,
    Append,
    Default,
}

#[derive(Debug)]
pub(super) struct Assignment {
    pub(super) name: String,
    pub(super) op: Op,
    pub(super) value: String,
}

/// `NAME op VALUE` (`=`, `:=`, `::=`, `+=`, `?=`), with `override`/`export`
/// dropped; rules and target-specific assignments are not assignments.
pub(super) fn parse_assignment(stmt: &str) -> Option<Assignment> {
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
pub(super) fn logical_name(name: &str) -> (String, Cond) {
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
pub(super) fn conditional(stmt: &str) -> Cond {
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
pub(super) fn split_args(s: &str) -> Vec<String> {
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
pub(super) fn split_words(s: &str) -> Vec<String> {
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

pub(super) fn balanced(s: &str) -> bool {
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
pub(super) struct Statement {
    pub(super) line: u32,
    pub(super) text: String,
    pub(super) tab: bool,
}

pub(super) fn logical_lines(text: &str) -> Vec<Statement> {
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
