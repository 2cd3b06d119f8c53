//! Phases, contexts and the bit masks that record where an edge was seen.

use std::fmt;

/// Where the target is in its life when an event happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    PreExec = 0,
    Exec = 1,
    Run = 2,
    Exit = 3,
}

pub const PHASES: [Phase; 4] = [Phase::PreExec, Phase::Exec, Phase::Run, Phase::Exit];

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::PreExec => "pre-exec",
            Phase::Exec => "exec",
            Phase::Run => "run",
            Phase::Exit => "exit",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        PHASES.iter().copied().find(|p| p.name() == s)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Execution context of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    Process = 0,
    Softirq = 1,
    Hardirq = 2,
    Nmi = 3,
    /// Function tracer without the irq-info column: nothing tells.
    Unknown = 4,
}

pub const CONTEXTS: [Context; 5] = [
    Context::Process,
    Context::Softirq,
    Context::Hardirq,
    Context::Nmi,
    Context::Unknown,
];

impl Context {
    pub fn name(self) -> &'static str {
        match self {
            Context::Process => "process",
            Context::Softirq => "softirq",
            Context::Hardirq => "hardirq",
            Context::Nmi => "nmi",
            Context::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Context> {
        CONTEXTS.iter().copied().find(|c| c.name() == s)
    }

    /// The hardirq/softirq character of the flags column
    /// (Documentation/trace/ftrace.rst, "irqs-off ... hardirq/softirq").
    pub fn from_flag(c: u8) -> Context {
        match c {
            b'z' | b'Z' => Context::Nmi,
            b'h' | b'H' => Context::Hardirq,
            b's' => Context::Softirq,
            b'.' => Context::Process,
            _ => Context::Unknown,
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Index of a phase x context cell (phase-major).
pub fn cell(phase: Phase, ctx: Context) -> usize {
    phase as usize * CONTEXTS.len() + ctx as usize
}

/// One bit per phase x context cell.
pub fn cell_bit(phase: Phase, ctx: Context) -> u32 {
    1 << cell(phase, ctx)
}

/// The cells selected by a set of phases and a set of contexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub mask: u32,
}

impl Selection {
    pub fn new(phases: &[Phase], contexts: &[Context]) -> Selection {
        let mut mask = 0;
        for &p in phases {
            for &c in contexts {
                mask |= cell_bit(p, c);
            }
        }
        Selection { mask }
    }

    /// Every phase from the `execve` entry on, every context.
    pub fn default_phases() -> Selection {
        Selection::new(&[Phase::Exec, Phase::Run, Phase::Exit], &CONTEXTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_distinct() {
        let mut all = 0u32;
        for p in PHASES {
            for c in CONTEXTS {
                let b = cell_bit(p, c);
                assert_eq!(all & b, 0);
                all |= b;
            }
        }
        assert_eq!(all.count_ones(), 20);
    }

    #[test]
    fn names_round_trip() {
        for p in PHASES {
            assert_eq!(Phase::parse(p.name()), Some(p));
        }
        for c in CONTEXTS {
            assert_eq!(Context::parse(c.name()), Some(c));
        }
        assert_eq!(Phase::parse("running"), None);
    }

    #[test]
    fn flag_characters() {
        assert_eq!(Context::from_flag(b'h'), Context::Hardirq);
        assert_eq!(Context::from_flag(b'H'), Context::Hardirq);
        assert_eq!(Context::from_flag(b's'), Context::Softirq);
        assert_eq!(Context::from_flag(b'z'), Context::Nmi);
        assert_eq!(Context::from_flag(b'Z'), Context::Nmi);
        assert_eq!(Context::from_flag(b'.'), Context::Process);
        assert_eq!(Context::from_flag(b'1'), Context::Unknown);
    }

    #[test]
    fn default_selection_excludes_pre_exec() {
        let s = Selection::default_phases();
        assert_eq!(s.mask & cell_bit(Phase::PreExec, Context::Process), 0);
        assert_ne!(s.mask & cell_bit(Phase::Run, Context::Hardirq), 0);
    }
}
