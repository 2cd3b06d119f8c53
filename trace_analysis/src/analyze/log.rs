//! The events one by one, kept only when asked for (`Analysis::logging`):
//! the exports and the HTML timeline need the order and the times that the
//! streaming counts throw away.

use crate::model::{Context, Phase};

/// What a logged line was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A function tracer event: `func <-parent`.
    Call,
    /// function_graph `func() {`.
    Entry,
    /// function_graph `func();`: a call and its return.
    Leaf,
    /// function_graph `}`: the return of the open call at `depth`.
    Exit,
}

/// One event of a task (or one function_graph return).
#[derive(Clone, Copy, Debug)]
pub struct Logged {
    /// Nanoseconds, when the line has a timestamp.
    pub ts: Option<u64>,
    pub line: u64,
    /// function_graph's DURATION column (leaves and returns), nanoseconds.
    pub dur: Option<u64>,
    pub pid: u32,
    pub cpu: u32,
    pub callee: u32,
    /// `names::NONE` when not known (and for returns).
    pub caller: u32,
    pub depth: u32,
    pub kind: Kind,
    /// The task's phase and the event's context; a return's are not known
    /// here (`Run`, `Process`): they are its call's.
    pub phase: Phase,
    pub ctx: Context,
}

/// The line being analysed, as the event log needs it: set by the tracer's
/// line handler before it records an event.
#[derive(Clone, Copy, Debug)]
pub(super) struct Now {
    pub cpu: u32,
    pub kind: Kind,
    pub depth: u32,
    pub dur: Option<u64>,
}

impl Default for Now {
    fn default() -> Now {
        Now {
            cpu: 0,
            kind: Kind::Call,
            depth: 0,
            dur: None,
        }
    }
}

/// The DURATION column of a function_graph line (`| ! 183.840 us  |`),
/// in nanoseconds: the number before ` us` at the end of a `|`-separated
/// field (without the proc column the CPU shares the field, an overhead
/// mark may precede the number).
pub fn graph_duration(raw: &[u8]) -> Option<u64> {
    raw.split(|&b| b == b'|').find_map(|field| {
        let num = trim_end(trim_end(field).strip_suffix(b" us")?);
        let start = num.iter().rposition(|&b| b == b' ').map_or(0, |i| i + 1);
        micros_to_ns(&num[start..])
    })
}

fn trim_end(b: &[u8]) -> &[u8] {
    let n = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    &b[..n]
}

/// `183.840` microseconds -> 183840 ns.
fn micros_to_ns(s: &[u8]) -> Option<u64> {
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &b""[..]),
    };
    if int.is_empty() || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let mut ns: u64 = 0;
    for &d in int {
        ns = ns.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    ns = ns.checked_mul(1000)?;
    let mut scale = 100;
    for &d in frac.iter().take(3) {
        ns += u64::from(d - b'0') * scale;
        scale /= 10;
    }
    Some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_graph_lines() {
        assert_eq!(
            graph_duration(b" 1)     min-40     | ! 183.840 us  |  irq_enter_rcu();"),
            Some(183_840)
        );
        assert_eq!(
            graph_duration(b" 1)   1.296 us    |                  arch_counter_read();"),
            Some(1_296)
        );
        assert_eq!(graph_duration(b" 1)   + 10.528 us   |   }"), Some(10_528));
        assert_eq!(
            graph_duration(b" 1)     min-40     |               |  do_interrupt_handler() {"),
            None
        );
        assert_eq!(graph_duration(b" 1) 12 us | f();"), Some(12_000));
        assert_eq!(graph_duration(b" 1) 1.x us | f();"), None);
    }
}
