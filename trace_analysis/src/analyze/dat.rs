//! A trace-cmd `trace.dat` as input: each ring-buffer event, read from its
//! fields, becomes the analysis' event a text line would have given (a
//! `function` call, a `function_graph` entry or return, a fork, another
//! event), in the merged time order `trace-cmd report` prints.

use std::borrow::Cow;

use trace_dat::{EventFormat, Field, Item, TraceDat};

use super::Analysis;
use rustc_hash::FxHashMap;
use trace_reader::{FuncLine, GraphKind, GraphLine, Skip};

/// What an event type is to the analysis, with the fields it needs.
#[derive(Clone, Debug)]
enum Kind {
    Function { ip: Field, parent: Field },
    GraphEntry { func: Field, depth: Field },
    GraphExit { func: Field, depth: Field },
    Fork { parent: Field, child: Field },
    Other,
}

fn kind(f: &EventFormat) -> Kind {
    let field = |n: &str| f.field(n).cloned();
    let k = match (f.system.as_str(), f.name.as_str()) {
        ("ftrace", "function") => field("ip")
            .zip(field("parent_ip"))
            .map(|(ip, parent)| Kind::Function { ip, parent }),
        ("ftrace", "funcgraph_entry") => field("func")
            .zip(field("depth"))
            .map(|(func, depth)| Kind::GraphEntry { func, depth }),
        ("ftrace", "funcgraph_exit") => field("func")
            .zip(field("depth"))
            .map(|(func, depth)| Kind::GraphExit { func, depth }),
        ("sched", "sched_process_fork") => field("parent_pid")
            .zip(field("child_pid"))
            .map(|(parent, child)| Kind::Fork { parent, child }),
        _ => None,
    };
    // A format without the fields this analysis reads is any other event.
    k.unwrap_or(Kind::Other)
}

/// The common fields every event starts with.
struct Common {
    pid: Field,
    flags: Option<Field>,
    preempt: Option<Field>,
}

/// The latency-format flags column (`d.h1.`) of the kernel's
/// trace_print_lat_fmt(): irqs-off, need-resched, hardirq/softirq/NMI,
/// preempt depth, migrate-disable depth.
fn flags_column(flags: u8, preempt: u8) -> [u8; 5] {
    const IRQS_OFF: u8 = 0x01;
    const NEED_RESCHED: u8 = 0x04;
    const HARDIRQ: u8 = 0x08;
    const SOFTIRQ: u8 = 0x10;
    const PREEMPT_RESCHED: u8 = 0x20;
    const NMI: u8 = 0x40;
    const BH_OFF: u8 = 0x80;
    let irqs = match (flags & IRQS_OFF != 0, flags & BH_OFF != 0) {
        (true, true) => b'D',
        (true, false) => b'd',
        (false, true) => b'b',
        (false, false) => b'.',
    };
    let resched = match (flags & NEED_RESCHED != 0, flags & PREEMPT_RESCHED != 0) {
        (true, true) => b'N',
        (true, false) => b'n',
        (false, true) => b'p',
        (false, false) => b'.',
    };
    let (nmi, hard, soft) = (flags & NMI != 0, flags & HARDIRQ != 0, flags & SOFTIRQ != 0);
    let ctx = match (nmi, hard, soft) {
        (true, true, _) => b'Z',
        (true, false, _) => b'z',
        (false, true, true) => b'H',
        (false, true, false) => b'h',
        (false, false, true) => b's',
        (false, false, false) => b'.',
    };
    let digit = |n: u8| match n {
        0 => b'.',
        n => b"0123456789abcdef"[usize::from(n & 0xf)],
    };
    [
        irqs,
        resched,
        ctx,
        digit(preempt & 0xf),
        digit(preempt >> 4),
    ]
}

impl Analysis {
    /// Analyses a whole trace.dat (see the module comment).
    pub fn read_trace_dat(&mut self, file: &[u8]) -> Result<(), trace_dat::Error> {
        let dat = TraceDat::parse(file)?;
        self.dat_header(&dat);
        let res = self.dat_events(&dat);
        self.finish_tree();
        res
    }

    /// What the file records about the session, as header entries.
    fn dat_header(&mut self, dat: &TraceDat<'_>) {
        let o = &dat.options;
        let mut put = |k: &str, v: String| self.header.entries.push((format!("trace.dat.{k}"), v));
        put(
            "file",
            format!(
                "file format {}, {} compression",
                dat.version,
                match dat.compression {
                    trace_dat::Compression::None => "no",
                    trace_dat::Compression::Zstd => "zstd",
                    trace_dat::Compression::Zlib => "zlib",
                }
            ),
        );
        if let Some(v) = &o.version {
            put("trace-cmd", v.clone());
        }
        if let Some(v) = &o.uname {
            put("uname", v.clone());
        }
        if let Some(v) = o.cpu_count {
            put("cpus", v.to_string());
        }
        if let Some(v) = &o.trace_clock {
            put("trace_clock", v.clone());
        }
        // trace-cmd writes sysname, nodename, release and machine: the
        // release is what `footprint` checks a build tree against, under the
        // key of the ftrace_it header's.
        let release = o.uname.as_deref().and_then(|u| u.split_whitespace().nth(2));
        if let Some(r) = release {
            self.header.entries.push(("kernel".into(), r.to_string()));
        }
    }

    fn dat_events(&mut self, dat: &TraceDat<'_>) -> Result<(), trace_dat::Error> {
        let Some(common) = dat.formats.first().and_then(|f| {
            Some(Common {
                pid: f.field("common_pid")?.clone(),
                flags: f.field("common_flags").cloned(),
                preempt: f.field("common_preempt_count").cloned(),
            })
        }) else {
            // No event format: no event can be read (and none is counted).
            return Ok(());
        };
        let e = dat.endian;
        let kinds: FxHashMap<u16, Kind> = dat.formats.iter().map(|f| (f.id, kind(f))).collect();
        // (ip, parent_ip) -> (callee, caller): one lookup per event.
        let mut calls: FxHashMap<(u64, u64), (u32, u32)> = FxHashMap::default();
        let mut comms: FxHashMap<u32, Box<[u8]>> = FxHashMap::default();
        // function_graph: address -> name, one lookup per function.
        let mut graph_names: FxHashMap<u64, Cow<'_, [u8]>> = FxHashMap::default();
        for item in dat.events() {
            let r = match item? {
                Item::Event(r) => r,
                Item::Lost { count, .. } => {
                    // A line of its own in `trace-cmd report` and tracefs.
                    self.lines += 1;
                    self.markers += 1;
                    self.lost_markers += 1;
                    match count {
                        Some(n) => self.lost_marked = self.lost_marked.saturating_add(n),
                        None => self.lost_uncounted += 1,
                    }
                    continue;
                }
            };
            self.lines += 1;
            let d = r.data;
            let id = e.uint(d, 0, 2).unwrap_or(u64::MAX) as u16;
            let k = kinds.get(&id).unwrap_or(&Kind::Other);
            let pid = common.pid.uint(d, e).unwrap_or(0) as u32;
            let comm = comms.entry(pid).or_insert_with(|| match dat.comm(pid) {
                Some(c) => c.as_bytes().into(),
                None if pid == 0 => b"<idle>".to_vec().into(),
                None => b"<...>".to_vec().into(),
            });
            let flags = flags_column(
                common
                    .flags
                    .as_ref()
                    .and_then(|f| f.uint(d, e))
                    .unwrap_or(0) as u8,
                common
                    .preempt
                    .as_ref()
                    .and_then(|f| f.uint(d, e))
                    .unwrap_or(0) as u8,
            );
            // Nanoseconds, or the clock's own ticks: as trace-cmd prints them.
            let ts = Some(r.ts.saturating_add_signed(dat.options.ts_offset));
            // An address below every symbol is printed as trace-cmd does.
            let sym = |addr: u64| -> Cow<'_, [u8]> {
                match dat.kallsyms.lookup(addr) {
                    Some(s) => Cow::Borrowed(s.as_bytes()),
                    None => Cow::Owned(format!("0x{addr:x}").into_bytes()),
                }
            };
            let line = FuncLine {
                comm_padded: comm,
                pid,
                cpu: r.cpu,
                flags: Some(&flags),
                ts: b"",
                text: b"",
            };
            match k {
                Kind::Function { ip, parent } => {
                    self.ring_events.add(r.cpu, 1);
                    let key = (ip.uint(d, e).unwrap_or(0), parent.uint(d, e).unwrap_or(0));
                    let ids = match calls.get(&key) {
                        Some(&ids) => ids,
                        None => {
                            let ids = (
                                self.names.intern(&sym(key.0)),
                                self.names.intern(&sym(key.1)),
                            );
                            calls.insert(key, ids);
                            // 0: no address (ftrace prints no parent for it).
                            self.addresses.add(ids.0, (key.0 != 0).then_some(key.0));
                            self.addresses.add(ids.1, (key.1 != 0).then_some(key.1));
                            ids
                        }
                    };
                    self.call(&line, ts, ids.0, ids.1);
                }
                Kind::GraphEntry { func, depth } | Kind::GraphExit { func, depth } => {
                    let addr = func.uint(d, e).unwrap_or(0);
                    let name: &[u8] = graph_names.entry(addr).or_insert_with(|| sym(addr));
                    let depth = depth.uint(d, e).unwrap_or(0) as u32 as i32;
                    let g = GraphLine {
                        cpu: r.cpu,
                        pid: Some(pid),
                        comm,
                        flags: Some(&flags),
                        ts: None,
                        depth: depth.max(0) as usize,
                        kind: match k {
                            Kind::GraphEntry { .. } => GraphKind::Entry(name),
                            _ => GraphKind::Exit,
                        },
                    };
                    self.graph(g, ts, b"");
                }
                Kind::Fork { parent, child } => {
                    self.ring_events.add(r.cpu, 1);
                    self.markers += 1;
                    self.fork(
                        parent.uint(d, e).unwrap_or(0) as u32,
                        child.uint(d, e).unwrap_or(0) as u32,
                    );
                }
                Kind::Other => {
                    self.ring_events.add(r.cpu, 1);
                    self.skip(Skip::OtherEvent);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Context;

    #[test]
    fn flags_give_the_context_column() {
        assert_eq!(&flags_column(0, 0), b".....");
        assert_eq!(&flags_column(0x01 | 0x08, 1), b"d.h1.");
        assert_eq!(&flags_column(0x10 | 0x80, 0x12), b"b.s21");
        assert_eq!(&flags_column(0x40 | 0x08 | 0x04, 0), b".nZ..");
        assert_eq!(Context::from_flag(flags_column(0x40, 0)[2]), Context::Nmi);
        assert_eq!(
            Context::from_flag(flags_column(0x18, 0)[2]),
            Context::Hardirq
        );
    }
}
