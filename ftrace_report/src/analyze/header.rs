//! The `ftrace_it` header: `# ftrace_it.KEY: VALUE` lines.

use super::{lossy, Acc, Analysis, Error, TargetSource};

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

impl Analysis {
    pub(super) fn header_entry(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        let (k, v) = (lossy(key), lossy(value));
        let bad = |what: &str| Error::Input {
            line: self.lines,
            msg: format!("bad ftrace_it header: {k}: '{v}' is not {what}"),
        };
        match k.as_str() {
            "pid" => {
                let pid: u32 = v.parse().map_err(|_| bad("a pid"))?;
                self.header.pid = Some(pid);
                if self.target.is_none() {
                    self.target = Some((pid, TargetSource::Header));
                    self.acc = Some(self.pending.remove(&pid).unwrap_or_else(|| Acc::new(pid)));
                    self.pending.clear();
                }
            }
            "tracer" => self.header.tracer = Some(v.clone()),
            "lost_events" => {
                self.header.lost_events = Some(v.parse().map_err(|_| bad("a number"))?);
            }
            _ if k.len() > 3
                && k.starts_with("cpu")
                && k[3..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                let mut s = CpuStat {
                    cpu: k[3..].parse().map_err(|_| bad("a CPU number"))?,
                    ..CpuStat::default()
                };
                for kv in v.split_whitespace() {
                    let Some((name, num)) = kv.split_once('=') else {
                        return Err(bad("a list of NAME=N"));
                    };
                    let n: u64 = num.parse().map_err(|_| bad("a list of NAME=N"))?;
                    match name {
                        "entries" => s.entries = n,
                        "overrun" => s.overrun = n,
                        "commit_overrun" => s.commit_overrun = n,
                        "dropped" => s.dropped = n,
                        _ => {}
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
}
