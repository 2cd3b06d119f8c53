//! A trace-cmd `trace.dat` as input: each event [`trace_reader::dat`]
//! decodes becomes the analysis' event a text line would have given (a
//! `function` call, a `function_graph` entry or return, a fork, another
//! event), its addresses named through the file's kallsyms.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use trace_dat::TraceDat;
use trace_reader::dat::{self, DatEvent, Task};
use trace_reader::{FuncLine, GraphKind, GraphLine, Skip};

use super::Analysis;

/// What the analysis keeps across events: the names of addresses.
#[derive(Default)]
struct Names<'a> {
    /// (ip, parent_ip) -> (callee, caller): one lookup per event.
    calls: FxHashMap<(u64, u64), (u32, u32)>,
    /// function_graph: address -> name, one lookup per function.
    graph: FxHashMap<u64, Cow<'a, [u8]>>,
}

/// An address's name; one below every symbol is printed as trace-cmd does.
fn sym<'d>(dat: &'d TraceDat<'_>, addr: u64) -> Cow<'d, [u8]> {
    match dat.kallsyms.lookup(addr) {
        Some(s) => Cow::Borrowed(s.as_bytes()),
        None => Cow::Owned(format!("0x{addr:x}").into_bytes()),
    }
}

/// The task columns of a function line, for the rules.
fn columns<'a>(t: &Task<'a>, flags: &'a [u8; 5]) -> FuncLine<'a> {
    FuncLine {
        comm_padded: t.comm,
        pid: t.pid,
        cpu: t.cpu,
        flags: Some(flags),
        ts: b"",
        text: b"",
    }
}

impl Analysis {
    /// Analyses a whole trace.dat (see the module comment).
    pub fn read_trace_dat(&mut self, file: &[u8]) -> Result<(), trace_dat::Error> {
        let dat = TraceDat::parse(file)?;
        self.header.entries.extend(dat::header(&dat));
        let mut names = Names::default();
        let res = dat::events(&dat, |ev| self.dat_event(&dat, &mut names, ev));
        self.finish_tree();
        res
    }

    fn dat_event<'d>(&mut self, dat: &'d TraceDat<'_>, names: &mut Names<'d>, ev: DatEvent<'_>) {
        // Each is a line of its own in `trace-cmd report` and tracefs.
        self.lines += 1;
        match ev {
            DatEvent::Lost { count } => {
                self.markers += 1;
                self.lost_markers += 1;
                match count {
                    Some(n) => self.lost_marked = self.lost_marked.saturating_add(n),
                    None => self.lost_uncounted += 1,
                }
            }
            DatEvent::Function {
                task,
                ip,
                parent_ip,
            } => {
                self.ring_events.add(task.cpu, 1);
                let key = (ip, parent_ip);
                let ids = match names.calls.get(&key) {
                    Some(&ids) => ids,
                    None => {
                        let ids = (
                            self.names.intern(&sym(dat, ip)),
                            self.names.intern(&sym(dat, parent_ip)),
                        );
                        names.calls.insert(key, ids);
                        // 0: no address (ftrace prints no parent for it).
                        self.addresses.add(ids.0, (ip != 0).then_some(ip));
                        self.addresses
                            .add(ids.1, (parent_ip != 0).then_some(parent_ip));
                        ids
                    }
                };
                self.call(&columns(&task, &task.flags), Some(task.ts), ids.0, ids.1);
            }
            DatEvent::GraphEntry { task, func, depth }
            | DatEvent::GraphExit { task, func, depth } => {
                let name: &[u8] = names.graph.entry(func).or_insert_with(|| sym(dat, func));
                let g = GraphLine {
                    cpu: task.cpu,
                    pid: Some(task.pid),
                    comm: task.comm,
                    flags: Some(&task.flags),
                    ts: None,
                    depth: depth.max(0) as usize,
                    kind: match ev {
                        DatEvent::GraphEntry { .. } => GraphKind::Entry(name),
                        _ => GraphKind::Exit,
                    },
                };
                self.graph(g, Some(task.ts), b"");
            }
            DatEvent::Fork { cpu, parent, child } => {
                self.ring_events.add(cpu, 1);
                self.markers += 1;
                self.fork(parent, child);
            }
            DatEvent::Other { cpu } => {
                self.ring_events.add(cpu, 1);
                self.skip(Skip::OtherEvent);
            }
        }
    }
}
