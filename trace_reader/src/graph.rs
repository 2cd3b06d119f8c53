//! The `function_graph` dialects: tracefs text and `trace-cmd report`'s
//! funcgraph events.

use crate::{
    parse_u32, symbol, trim, trim_end, trim_start, valid_ts, FuncLine, GraphKind, GraphLine, Line,
    Skip,
};

fn is_duration(t: &[u8]) -> bool {
    let t = trim_start(match t.first() {
        Some(b'+' | b'!' | b'#' | b'*' | b'@' | b'$') => &t[1..],
        _ => t,
    });
    t.first().is_some_and(|b| b.is_ascii_digit())
        && (t.ends_with(b" us") || t.ends_with(b" ms") || t.ends_with(b" s"))
}

/// `comm-pid` as print_graph_proc writes it.
fn comm_pid(t: &[u8]) -> Option<u32> {
    let dash = memchr::memrchr(b'-', t)?;
    parse_u32(&t[dash + 1..])
}

/// `[ABSTIME |] CPU) [comm-pid |] [lat |] [DURATION] |  INDENT text`.
pub(crate) fn parse_graph(s: &[u8]) -> Option<Line<'_>> {
    let mut r = trim_start(s);
    let mut ts = None;
    let num = r
        .iter()
        .take_while(|&&b| b.is_ascii_digit() || b == b'.')
        .count();
    if num > 0 && num < r.len() && r[..num].contains(&b'.') {
        let after = trim_start(&r[num..]);
        if after.first() == Some(&b'|') {
            if !valid_ts(&r[..num]) {
                return None;
            }
            ts = Some(&r[..num]);
            r = trim_start(&after[1..]);
        }
    }
    let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || r.get(digits) != Some(&b')') {
        return None;
    }
    let cpu = parse_u32(&r[..digits])?;
    let mut rest = &r[digits + 1..];
    if memchr::memmem::find(rest, b"==========>").is_some() {
        return Some(Line::IrqEnter { cpu });
    }
    if memchr::memmem::find(rest, b"<==========").is_some() {
        return Some(Line::IrqExit { cpu });
    }
    if memchr::memchr(b'|', rest).is_none() {
        if let Some(a) = memchr::memmem::find(rest, b" => ") {
            return Some(match comm_pid(trim(&rest[a + 4..])) {
                Some(pid) => Line::Switch { cpu, pid },
                None => Line::Skip(Skip::Unparsable),
            });
        }
        return Some(Line::Skip(Skip::Unparsable));
    }
    let mut pid = None;
    let mut comm = &b""[..];
    let mut flags = None;
    let text = loop {
        let Some(bar) = memchr::memchr(b'|', rest) else {
            return Some(Line::Skip(Skip::Unparsable));
        };
        let seg = trim(&rest[..bar]);
        let after = &rest[bar + 1..];
        if seg.is_empty() || is_duration(seg) {
            break after;
        }
        if pid.is_none() && flags.is_none() {
            if let Some(p) = comm_pid(seg) {
                pid = Some(p);
                comm = &seg[..memchr::memrchr(b'-', seg).unwrap_or(0)];
                rest = after;
                continue;
            }
        }
        if flags.is_some() || seg.len() > 8 {
            return Some(Line::Skip(Skip::Unparsable));
        }
        flags = Some(seg);
        rest = after;
    };
    let Some((depth, kind)) = graph_call(text) else {
        return Some(Line::Skip(Skip::Unparsable));
    };
    Some(Line::Graph(GraphLine {
        cpu,
        pid,
        comm,
        flags,
        ts,
        depth,
        kind,
    }))
}

/// What follows the last `|` of a function_graph line: `  INDENT func() {`,
/// `func();`, `}` or `/* event */`, as (depth, kind).
fn graph_call(text: &[u8]) -> Option<(usize, GraphKind<'_>)> {
    let indent = text.iter().take_while(|&&b| b == b' ').count();
    let depth = indent.saturating_sub(2) / 2;
    let body = trim_end(&text[indent..]);
    let kind = if body.first() == Some(&b'}') {
        GraphKind::Exit
    } else if body.starts_with(b"/*") {
        GraphKind::Other
    } else {
        let paren = memchr::memchr(b'(', body)?;
        let name = symbol(&body[..paren])?;
        let tail = &body[paren..];
        if tail.starts_with(b"() {") {
            GraphKind::Entry(name)
        } else if tail.starts_with(b"();") {
            GraphKind::Leaf(name)
        } else {
            return None;
        }
    };
    Some((depth, kind))
}

/// `trace-cmd report`'s function_graph events: the task columns of a
/// function line, then `funcgraph_entry: [DURATION] |  INDENT func() {` or
/// `funcgraph_exit: DURATION |  }`.
pub(crate) fn trace_cmd_graph(f: FuncLine<'_>) -> Option<Line<'_>> {
    let rest = f
        .text
        .strip_prefix(b"funcgraph_entry:")
        .or_else(|| f.text.strip_prefix(b"funcgraph_exit:"))?;
    let bar = memchr::memchr(b'|', rest)?;
    let duration = trim(&rest[..bar]);
    if !duration.is_empty() && !is_duration(duration) {
        return Some(Line::Skip(Skip::Unparsable));
    }
    Some(match graph_call(&rest[bar + 1..]) {
        Some((depth, kind)) => Line::Graph(GraphLine {
            cpu: f.cpu,
            pid: Some(f.pid),
            comm: f.comm(),
            flags: f.flags,
            ts: Some(f.ts),
            depth,
            kind,
        }),
        None => Line::Skip(Skip::Unparsable),
    })
}
