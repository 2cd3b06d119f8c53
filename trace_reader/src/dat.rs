//! trace-cmd's `trace.dat` (through the `trace_dat` crate): the session's
//! header entries, and each ring-buffer event decoded from its fields into
//! a [`DatEvent`], in the merged time order `trace-cmd report` prints.

use rustc_hash::FxHashMap;
use trace_dat::{EventFormat, Field, Item, TraceDat};

/// What an event type is to the readers, with the fields they need.
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
struct CommonFields {
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

/// The fields every event starts with, as a text line shows them.
#[derive(Clone, Copy, Debug)]
pub struct Task<'a> {
    pub cpu: u32,
    pub pid: u32,
    /// The task's name, `<idle>` for pid 0, `<...>` when not recorded.
    pub comm: &'a [u8],
    /// The latency-format flags column (`d.h1.`).
    pub flags: [u8; 5],
    /// Nanoseconds, or the clock's own ticks, as trace-cmd prints them.
    pub ts: u64,
}

/// One ring-buffer event (or a gap of lost ones).
#[derive(Clone, Copy, Debug)]
pub enum DatEvent<'a> {
    Function {
        task: Task<'a>,
        ip: u64,
        parent_ip: u64,
    },
    GraphEntry {
        task: Task<'a>,
        func: u64,
        depth: i32,
    },
    GraphExit {
        task: Task<'a>,
        func: u64,
        depth: i32,
    },
    Fork {
        cpu: u32,
        parent: u32,
        child: u32,
    },
    /// Any other event.
    Other {
        cpu: u32,
    },
    /// Events lost before a page, counted or not.
    Lost {
        count: Option<u64>,
    },
}

/// What the file records about the session, as header entries.
pub fn header(dat: &TraceDat<'_>) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let o = &dat.options;
    let mut put = |k: &str, v: String| entries.push((format!("trace.dat.{k}"), v));
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
        entries.push((guest_protocol::header::KERNEL.into(), r.to_string()));
    }
    entries
}

/// Calls `each` with every event of the file, in time order.
pub fn events(
    dat: &TraceDat<'_>,
    mut each: impl FnMut(DatEvent<'_>),
) -> Result<(), trace_dat::Error> {
    let Some(common) = dat.formats.first().and_then(|f| {
        Some(CommonFields {
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
    let mut comms: FxHashMap<u32, Box<[u8]>> = FxHashMap::default();
    for item in dat.events() {
        let r = match item? {
            Item::Event(r) => r,
            Item::Lost { count, .. } => {
                each(DatEvent::Lost { count });
                continue;
            }
        };
        let d = r.data;
        let id = e.uint(d, 0, 2).unwrap_or(u64::MAX) as u16;
        let uint = |f: &Field| f.uint(d, e).unwrap_or(0);
        let pid = uint(&common.pid) as u32;
        let comm = comms.entry(pid).or_insert_with(|| match dat.comm(pid) {
            Some(c) => c.as_bytes().into(),
            None if pid == 0 => b"<idle>".to_vec().into(),
            None => b"<...>".to_vec().into(),
        });
        let task = Task {
            cpu: r.cpu,
            pid,
            comm,
            flags: flags_column(
                common.flags.as_ref().map_or(0, uint) as u8,
                common.preempt.as_ref().map_or(0, uint) as u8,
            ),
            ts: r.ts.saturating_add_signed(dat.options.ts_offset),
        };
        each(match kinds.get(&id).unwrap_or(&Kind::Other) {
            Kind::Function { ip, parent } => DatEvent::Function {
                task,
                ip: uint(ip),
                parent_ip: uint(parent),
            },
            Kind::GraphEntry { func, depth } => DatEvent::GraphEntry {
                task,
                func: uint(func),
                depth: uint(depth) as u32 as i32,
            },
            Kind::GraphExit { func, depth } => DatEvent::GraphExit {
                task,
                func: uint(func),
                depth: uint(depth) as u32 as i32,
            },
            Kind::Fork { parent, child } => DatEvent::Fork {
                cpu: r.cpu,
                parent: uint(parent) as u32,
                child: uint(child) as u32,
            },
            Kind::Other => DatEvent::Other { cpu: r.cpu },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_give_the_context_column() {
        assert_eq!(&flags_column(0, 0), b".....");
        assert_eq!(&flags_column(0x01 | 0x08, 1), b"d.h1.");
        assert_eq!(&flags_column(0x10 | 0x80, 0x12), b"b.s21");
        assert_eq!(&flags_column(0x40 | 0x08 | 0x04, 0), b".nZ..");
        // The context character: NMI, hardirq over softirq.
        assert_eq!(flags_column(0x40, 0)[2], b'z');
        assert_eq!(flags_column(0x18, 0)[2], b'H');
    }
}
