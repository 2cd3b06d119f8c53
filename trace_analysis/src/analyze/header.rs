//! The `ftrace_it` header: `# ftrace_it.KEY: VALUE` lines.

use std::collections::BTreeMap;
use std::fmt;

use super::{lossy, Acc, Analysis, Error, TargetSource};
use guest_protocol::header;
use rustc_hash::FxHashMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuStat {
    pub cpu: u32,
    pub entries: u64,
    pub overrun: u64,
    pub commit_overrun: u64,
    pub dropped: u64,
}

/// The `# ftrace_it.KEY: VALUE` lines.
#[derive(Clone, Debug, Default)]
pub struct Header {
    pub entries: Vec<(String, String)>,
    pub pid: Option<u32>,
    pub tracer: Option<String>,
    pub lost_events: Option<u64>,
    pub cpus: Vec<CpuStat>,
}

/// Ring-buffer events found in the file per CPU, to compare with the
/// header's `entries=` (what the ring buffer held when `ftrace_it` wrote the
/// file: every task's events, each function_graph call and return).
#[derive(Clone, Debug, Default)]
pub(super) struct RingEvents {
    done: FxHashMap<u32, u64>,
    /// The CPU of the last lines and their count: lines of one CPU come in
    /// runs, so most lines cost no hash lookup.
    run: Option<(u32, u64)>,
}

impl RingEvents {
    pub(super) fn add(&mut self, cpu: u32, n: u64) {
        match &mut self.run {
            Some((c, k)) if *c == cpu => *k += n,
            run => {
                if let Some((c, k)) = run.replace((cpu, n)) {
                    *self.done.entry(c).or_default() += k;
                }
            }
        }
    }

    fn get(&self, cpu: u32) -> u64 {
        let run = match self.run {
            Some((c, k)) if c == cpu => k,
            _ => 0,
        };
        self.done.get(&cpu).copied().unwrap_or(0) + run
    }

    fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.done.keys().copied().chain(self.run.map(|(c, _)| c))
    }
}

/// A CPU whose events in the file are not as many as the header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    pub cpu: u32,
    /// `ftrace_it.cpuN: entries=` (summed over repeated headers).
    pub entries: u64,
    /// Ring-buffer events of that CPU in the file.
    pub found: u64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpu{}: {} events in the file, {} in the ftrace_it header (entries=)",
            self.cpu, self.found, self.entries
        )
    }
}

impl Header {
    /// The value of `# ftrace_it.KEY: VALUE` (the first, for a repeated key).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Analysis {
    /// The CPUs whose events in the file disagree with the header's
    /// `entries=` (README "Complete traces"); none without per-CPU stats.
    pub fn header_mismatch(&self) -> Vec<Mismatch> {
        if self.header.cpus.is_empty() {
            return Vec::new();
        }
        let mut entries: BTreeMap<u32, u64> = self.ring_events.cpus().map(|c| (c, 0)).collect();
        for c in &self.header.cpus {
            *entries.entry(c.cpu).or_default() += c.entries;
        }
        entries
            .into_iter()
            .map(|(cpu, entries)| Mismatch {
                cpu,
                entries,
                found: self.ring_events.get(cpu),
            })
            .filter(|m| m.entries != m.found)
            .collect()
    }

    pub(super) fn header_entry(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        let (k, v) = (lossy(key), lossy(value));
        let bad = |what: &str| Error::Input {
            line: self.lines,
            msg: format!("bad ftrace_it header: {k}: '{v}' is not {what}"),
        };
        match k.as_str() {
            header::PID => {
                let pid: u32 = v.parse().map_err(|_| bad("a pid"))?;
                self.header.pid = Some(pid);
                if self.target.is_none() {
                    self.target = Some((pid, TargetSource::Header));
                    self.acc = Some(
                        self.state
                            .pending
                            .remove(&pid)
                            .unwrap_or_else(|| Acc::new(pid)),
                    );
                    self.state.pending.clear();
                }
            }
            header::TRACER => self.header.tracer = Some(v.clone()),
            header::LOST_EVENTS => {
                self.header.lost_events = Some(v.parse().map_err(|_| bad("a number"))?);
            }
            _ if header::is_cpu_stats(key) => {
                let mut s = CpuStat {
                    cpu: k[header::CPU_STATS.len()..]
                        .parse()
                        .map_err(|_| bad("a CPU number"))?,
                    ..CpuStat::default()
                };
                for kv in v.split_whitespace() {
                    let Some((name, num)) = kv.split_once('=') else {
                        return Err(bad("a list of NAME=N"));
                    };
                    let n: u64 = num.parse().map_err(|_| bad("a list of NAME=N"))?;
                    let fields = [
                        &mut s.entries,
                        &mut s.overrun,
                        &mut s.commit_overrun,
                        &mut s.dropped,
                    ];
                    if let Some(i) = header::CPU_STAT_FIELDS.iter().position(|f| *f == name) {
                        *fields.into_iter().nth(i).expect("one field per name") = n;
                    }
                }
                self.header.cpus.push(s);
            }
            _ => {}
        }
        self.header.entries.push((k, v));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::super::*;

    #[test]
    fn header_values_are_checked() {
        let mut a = Analysis::new(None);
        let e = a
            .read(&b"# ftrace_it.version: 1\n# ftrace_it.pid: x\n"[..])
            .unwrap_err();
        match e {
            Error::Input { line, msg } => {
                assert_eq!(line, 2);
                assert!(msg.contains("pid"), "{msg}");
            }
            Error::Io(e) => panic!("{e}"),
        }
        let a = run(
            "# ftrace_it.cpu1: entries=5 overrun=3 commit_overrun=0 dropped=2\n# ftrace_it.lost_events: 5\nCPU:1 [LOST 7 EVENTS]\n",
            None,
        );
        assert_eq!(a.header.cpus[0].overrun, 3);
        assert_eq!(a.lost(), 12);
    }

    fn mismatch(text: &str) -> Vec<(u32, u64, u64)> {
        run(text, None)
            .header_mismatch()
            .iter()
            .map(|m| (m.cpu, m.entries, m.found))
            .collect()
    }

    #[test]
    fn function_events_per_cpu_against_the_header() {
        let header = "\
# ftrace_it.cpu0: entries=1 overrun=0 commit_overrun=0 dropped=0
# ftrace_it.cpu1: entries=3 overrun=0 commit_overrun=0 dropped=0
";
        // Every task's events count, and so does a trace_printk line.
        let events = "\
 a-1 [000] ..... 1.0: foo <-bar
 b-2 [001] ..... 1.1: foo <-bar
 b-2 [001] ..... 1.2: hello from trace_printk
 c-3 [001] ..... 1.3: foo <-bar
";
        let whole = format!("{header}{events}");
        assert_eq!(mismatch(&whole), vec![]);
        // Cut in the last line: cpu1 is one short.
        assert_eq!(mismatch(&whole[..whole.len() - 5]), vec![(1, 3, 2)]);
        // One more than the header counts, on a CPU it does not list.
        let more = format!("{whole} d-4 [002] ..... 1.4: foo <-bar\n");
        assert_eq!(mismatch(&more), vec![(2, 0, 1)]);
        // Concatenated files: the headers add up.
        assert_eq!(mismatch(&format!("{whole}{whole}")), vec![]);
        // No per-CPU stats, nothing to compare.
        assert_eq!(mismatch(events), vec![]);
    }

    #[test]
    fn graph_calls_and_returns_are_ring_buffer_events() {
        // An entry, a leaf (call and return), a comment event, a return.
        let t = "\
# ftrace_it.cpu1: entries=5 overrun=0 commit_overrun=0 dropped=0
 1)   min-7    |               |  foo() {
 1)   min-7    |   0.100 us    |    bar();
 1)   min-7    |               |    /* hello from trace_printk */
 1)   min-7    |   1.000 us    |  }
";
        assert_eq!(mismatch(t), vec![]);
        let a = run(t, None);
        assert_eq!(a.skipped[trace_reader::Skip::OtherEvent as usize], 1);
        assert_eq!(a.format.graph_lines, 3);
        assert_eq!(
            mismatch(&t.replace("entries=5", "entries=6")),
            vec![(1, 6, 5)]
        );
    }
}
