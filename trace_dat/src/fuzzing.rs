//! The checks the fuzz target (fuzz/fuzz_targets/trace_dat.rs) runs on
//! every input; ftrace_report's tests run them on damaged copies of the
//! fixtures. Built for the tests and with the `fuzzing` feature.

use crate::{Item, TraceDat};

/// Parses `data` and reads every event and its fields; an error is fine,
/// a panic is the fuzzer's finding. Returns the items read (events and
/// loss marks), or the error.
pub fn check(data: &[u8]) -> Result<u64, crate::Error> {
    let dat = TraceDat::parse(data)?;
    let mut n = 0;
    for item in dat.events() {
        match item? {
            Item::Event(r) => {
                n += 1;
                if let Some(f) = dat.event_format(r.data) {
                    for field in &f.fields {
                        if let Some(v) = field.uint(r.data, dat.endian) {
                            let _ = dat.kallsyms.lookup(v);
                        }
                        let _ = field.str(r.data);
                    }
                }
            }
            Item::Lost { .. } => n += 1,
        }
    }
    Ok(n)
}

/// The file layouts `rewrite` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// File format 6: the metadata in a row, uncompressed CPU data.
    V6,
    /// File format 7 with zlib-compressed sections and CPU data chunks.
    V7Zlib,
}

/// Events lost before a page: what `rewrite` marks in its commit field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostMark {
    pub cpu: u32,
    /// The first page at or after this one with room for the count.
    pub page: usize,
    /// The count to store, or `None` for the flag alone.
    pub count: Option<u64>,
}

fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_le_bytes());
}

fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_le_bytes());
}

fn put64(o: &mut Vec<u8>, v: u64) {
    o.extend_from_slice(&v.to_le_bytes());
}

fn zlib(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// A v7 section header and its data (zlib-compressed when `compress`).
fn put_section(o: &mut Vec<u8>, id: u16, data: &[u8], compress: bool) -> u64 {
    let at = o.len() as u64;
    put16(o, id);
    put16(o, u16::from(compress));
    put32(o, 0);
    if compress {
        let z = zlib(data);
        put64(o, z.len() as u64 + 8);
        put32(o, z.len() as u32);
        put32(o, data.len() as u32);
        o.extend_from_slice(&z);
    } else {
        put64(o, data.len() as u64);
        o.extend_from_slice(data);
    }
    at
}

fn put_option(o: &mut Vec<u8>, id: u16, data: &[u8]) {
    put16(o, id);
    put32(o, data.len() as u32);
    o.extend_from_slice(data);
}

/// Sets the missed-events flags (and count) of a page of `data`.
fn mark_lost(dat: &TraceDat<'_>, data: &mut [u8], mark: LostMark) {
    let l = dat.page;
    let page_size = dat.page_size as usize;
    let mut page = mark.page;
    loop {
        let start = page * page_size;
        assert!(
            start + page_size <= data.len(),
            "no page with room: {mark:?}"
        );
        let at = start + l.commit_offset;
        let mut commit = [0u8; 8];
        commit[..l.commit_size].copy_from_slice(&data[at..at + l.commit_size]);
        let commit = u64::from_le_bytes(commit);
        let size = (commit & ((1 << 27) - 1)) as usize;
        if l.data_offset + size + l.commit_size <= page_size {
            let mut flags = commit | 1 << 31;
            if let Some(n) = mark.count {
                flags |= 1 << 30;
                let c = start + l.data_offset + size;
                data[c..c + l.commit_size].copy_from_slice(&n.to_le_bytes()[..l.commit_size]);
            }
            data[at..at + l.commit_size].copy_from_slice(&flags.to_le_bytes()[..l.commit_size]);
            return;
        }
        page += 1;
    }
}

/// A little-endian v7 `file` written again in `layout` with the same
/// metadata and ring-buffer pages (with `lost` marked): files of the other
/// layouts from a real recording, for the tests.
pub fn rewrite(file: &[u8], layout: Layout, lost: Option<LostMark>) -> Vec<u8> {
    let dat = TraceDat::parse(file).expect("a readable trace.dat");
    assert!(!dat.endian.big && dat.version == 7);
    let sec = |id: u16| -> Vec<u8> {
        let (_, off) = *dat.sections.iter().find(|s| s.0 == id).expect("section");
        crate::section(file, off, "section", dat.endian, dat.compression)
            .expect("section data")
            .1
            .into_owned()
    };
    let mut cpus: Vec<(u32, Vec<u8>)> = dat.cpus.iter().map(|(c, d)| (*c, d.to_vec())).collect();
    if let Some(m) = lost {
        let (_, d) = cpus.iter_mut().find(|c| c.0 == m.cpu).expect("the CPU");
        mark_lost(&dat, d, m);
    }
    let page = dat.page_size as usize;
    let pad = |o: &mut Vec<u8>| o.resize(o.len().div_ceil(page) * page, 0);
    let clock = dat.options.trace_clock.clone().unwrap_or_default();
    let mut o = Vec::new();
    o.extend_from_slice(crate::MAGIC);
    match layout {
        Layout::V6 => {
            // Format 6 numbers the CPUs by their place: an empty entry
            // for each CPU without data.
            let max = cpus.iter().map(|c| c.0).max().unwrap_or(0);
            cpus = (0..=max)
                .map(|n| match cpus.iter().position(|c| c.0 == n) {
                    Some(i) => (n, std::mem::take(&mut cpus[i].1)),
                    None => (n, Vec::new()),
                })
                .collect();
            o.extend_from_slice(b"6\0\0\x08");
            put32(&mut o, dat.page_size);
            for id in [
                crate::OPT_HEADER_INFO,
                crate::OPT_FTRACE_EVENTS,
                crate::OPT_EVENT_FORMATS,
                crate::OPT_KALLSYMS,
            ] {
                o.extend_from_slice(&sec(id));
            }
            put32(&mut o, 0); // no trace_printk formats
            o.extend_from_slice(&sec(crate::OPT_CMDLINES));
            put32(&mut o, cpus.len() as u32);
            o.extend_from_slice(b"options  \0");
            put_option(
                &mut o,
                crate::OPT_TRACECLOCK,
                format!("[{clock}] global\0").as_bytes(),
            );
            put16(&mut o, crate::OPT_DONE);
            o.extend_from_slice(b"flyrecord\0");
            let table = o.len();
            o.resize(table + 16 * cpus.len(), 0);
            pad(&mut o);
            for (i, (_, d)) in cpus.iter().enumerate() {
                let at = o.len() as u64;
                o[table + 16 * i..][..8].copy_from_slice(&at.to_le_bytes());
                o[table + 16 * i + 8..][..8].copy_from_slice(&(d.len() as u64).to_le_bytes());
                o.extend_from_slice(d);
                pad(&mut o);
            }
        }
        Layout::V7Zlib => {
            o.extend_from_slice(b"7\0\0\x08");
            put32(&mut o, dat.page_size);
            o.extend_from_slice(b"zlib\x001.2.13\0");
            let first_options = o.len();
            put64(&mut o, 0);
            let mut opts = Vec::new();
            for id in [
                crate::OPT_HEADER_INFO,
                crate::OPT_FTRACE_EVENTS,
                crate::OPT_EVENT_FORMATS,
                crate::OPT_KALLSYMS,
                crate::OPT_CMDLINES,
            ] {
                let at = put_section(&mut o, id, &sec(id), true);
                put_option(&mut opts, id, &at.to_le_bytes());
            }
            // The flyrecord section: each CPU's pages in chunks of 3.
            let fly = o.len() as u64;
            put_section(&mut o, crate::OPT_BUFFER, &[], true);
            let mut buffer = Vec::new();
            put64(&mut buffer, fly);
            buffer.push(0);
            buffer.extend_from_slice(clock.as_bytes());
            buffer.push(0);
            put32(&mut buffer, dat.page_size);
            put32(&mut buffer, cpus.len() as u32);
            for (cpu, d) in &cpus {
                let at = o.len() as u64;
                let chunks: Vec<&[u8]> = d.chunks(3 * page).collect();
                put32(&mut o, chunks.len() as u32);
                for c in chunks {
                    let z = zlib(c);
                    put32(&mut o, z.len() as u32);
                    put32(&mut o, c.len() as u32);
                    o.extend_from_slice(&z);
                }
                put32(&mut buffer, *cpu);
                put64(&mut buffer, at);
                put64(&mut buffer, o.len() as u64 - at);
            }
            put_option(&mut opts, crate::OPT_BUFFER, &buffer);
            put_option(
                &mut opts,
                crate::OPT_CPUCOUNT,
                &(cpus.len() as u32).to_le_bytes(),
            );
            put_option(&mut opts, crate::OPT_DONE, &0u64.to_le_bytes());
            let at = put_section(&mut o, crate::OPT_DONE, &opts, true);
            o[first_options..first_options + 8].copy_from_slice(&at.to_le_bytes());
        }
    }
    o
}
