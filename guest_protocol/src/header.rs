//! The header `ftrace_it` writes before the kernel's trace text, one
//! `# ftrace_it.KEY: VALUE` line per fact, and that every reader of a trace
//! parses: the keys are spelled here only.

/// Every header line starts so.
pub const PREFIX: &str = "# ftrace_it.";
/// Between a key and its value.
pub const SEPARATOR: &str = ": ";

/// ftrace_it's version.
pub const VERSION: &str = "version";
/// The traced kernel's release (`uname -r`).
pub const KERNEL: &str = "kernel";
/// The traced kernel's build (`uname -v`): a rebuild of a release differs.
pub const KERNEL_VERSION: &str = "kernel_version";
/// `uname -m`.
pub const MACHINE: &str = "machine";
/// The ftrace tracer of the run (`function`, `function_graph`, `nop`).
pub const TRACER: &str = "tracer";
/// `on` when the trace prints each function's address (`--sym-addr`).
pub const SYM_ADDR: &str = "sym_addr";
/// The program's pid: the target of the analysis.
pub const PID: &str = "pid";
/// The CPU the program was pinned to.
pub const CPU: &str = "cpu";
/// The CPUs left for everything else, or `none`.
pub const HOUSEKEEPING: &str = "housekeeping";
pub const CPUS_ONLINE: &str = "cpus_online";
/// `on` when IRQs were moved off the program's CPU.
pub const IRQ_ROUTING: &str = "irq_routing";
pub const IRQS_MOVED: &str = "irqs_moved";
/// The per-CPU ring buffer size.
pub const BUFFER_KB: &str = "buffer_kb";
/// `--duration` as given, or `none`.
pub const DURATION: &str = "duration";
/// The program and its arguments.
pub const COMMAND: &str = "command";
/// `exited N` or `signal N`.
pub const EXIT: &str = "exit";
/// The number of tasks of the program's tree, then one [`TASK`] line each.
pub const TASKS: &str = "tasks";
pub const TASK: &str = "task";
/// The events the ring buffers lost, summed over the CPUs.
pub const LOST_EVENTS: &str = "lost_events";
/// `cpuN: entries=.. overrun=.. commit_overrun=.. dropped=..`: one line per
/// CPU, [`CPU_STATS`] `N`.
pub const CPU_STATS: &str = "cpu";
/// The fields of a [`CPU_STATS`] line, in the order they are written, each
/// as `NAME=N`.
pub const CPU_STAT_FIELDS: [&str; 4] = ["entries", "overrun", "commit_overrun", "dropped"];
/// What precedes each field's number on the line, as ftrace_it writes it
/// (one string each, so that it needs no separator logic).
pub const CPU_STAT_LABELS: [&str; 4] = ["entries=", " overrun=", " commit_overrun=", " dropped="];

/// A header line's key and value, or `None` for any other line: the key
/// is what lies between [`PREFIX`] and the first `:`, a name of letters,
/// digits and `_`; blanks around either are not part of it. The line
/// comes without its line end (`\n`, or a console's `\r\n`).
pub fn split(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = line.strip_prefix(PREFIX.as_bytes())?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let key = trim(&rest[..colon]);
    let name = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    (!key.is_empty() && key.iter().all(name)).then(|| (key, trim(&rest[colon + 1..])))
}

fn trim(s: &[u8]) -> &[u8] {
    let blank = |b: &&u8| **b == b' ' || **b == b'\t';
    let start = s.iter().take_while(blank).count();
    let end = s.len() - s[start..].iter().rev().take_while(blank).count();
    &s[start..end]
}

/// Whether `key` is a [`CPU_STATS`] key (`cpu3`), not [`CPU`] or any other.
pub fn is_cpu_stats(key: &[u8]) -> bool {
    key.strip_prefix(CPU_STATS.as_bytes())
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as ftrace_it writes it: PREFIX KEY SEPARATOR VALUE.
    fn line(key: &str, value: &str, out: &mut [u8]) -> usize {
        let mut n = 0;
        for part in [PREFIX, key, SEPARATOR, value] {
            out[n..n + part.len()].copy_from_slice(part.as_bytes());
            n += part.len();
        }
        n
    }

    #[test]
    fn a_written_line_splits_into_its_key_and_value() {
        let mut buf = [0u8; 128];
        for (key, value) in [
            (PID, "44"),
            (
                KERNEL_VERSION,
                "#1 SMP PREEMPT Mon Dec  7 22:49:22 UTC 2026",
            ),
            (COMMAND, "/usr/bin/min a: b"),
            (DURATION, ""),
        ] {
            let n = line(key, value, &mut buf);
            assert_eq!(
                split(&buf[..n]),
                Some((key.as_bytes(), value.as_bytes())),
                "{key}"
            );
        }
    }

    #[test]
    fn other_lines_are_no_header_and_blanks_are_not_part_of_it() {
        for other in [
            &b"# tracer: function"[..],
            b"# ftrace_it.pid",
            b"# ftrace_it.: 1",
            b"# ftrace_it.a b: 1",
            b"ftrace_it.pid: 1",
        ] {
            assert_eq!(split(other), None, "{:?}", core::str::from_utf8(other));
        }
        assert_eq!(
            split(b"# ftrace_it. pid\t:  44 \t"),
            Some((&b"pid"[..], &b"44"[..]))
        );
    }

    #[test]
    fn cpu_stat_labels_are_the_fields_joined() {
        for (i, (field, label)) in CPU_STAT_FIELDS.iter().zip(CPU_STAT_LABELS).enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let mut want = [0u8; 32];
            let n = sep.len() + field.len() + 1;
            want[..sep.len()].copy_from_slice(sep.as_bytes());
            want[sep.len()..n - 1].copy_from_slice(field.as_bytes());
            want[n - 1] = b'=';
            assert_eq!(label.as_bytes(), &want[..n], "{field}");
        }
    }

    #[test]
    fn cpu_stats_keys_are_cpu_and_a_number() {
        for key in ["cpu0", "cpu17", "cpu99999999999"] {
            assert!(is_cpu_stats(key.as_bytes()), "{key}");
        }
        for other in [CPU, CPUS_ONLINE, "cpux", "cpu1a", PID] {
            assert!(!is_cpu_stats(other.as_bytes()), "{other}");
        }
    }
}
