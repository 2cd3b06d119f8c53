//! Arbitrary bytes, damaged and truncated traces: counts, never a panic.
//! Also replays the fuzz corpus (fuzz/corpus/) without a nightly toolchain.

mod common;

use std::fs;

use ftrace_report::fuzzing::{check, check_trace_dat};
use trace_analysis::analyze::Analysis;
use trace_reader::Skip;

/// xorshift64*: deterministic inputs, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn replay_fuzz_corpus() {
    let root = common::manifest().join("../fuzz/corpus");
    let mut files = 0;
    for target in fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        // Each target's corpus through that target's checks.
        let run = match target.file_name().and_then(|n| n.to_str()) {
            Some("trace_dat") => check_trace_dat,
            _ => check,
        };
        for entry in fs::read_dir(&target).unwrap() {
            let path = entry.unwrap().path();
            run(&fs::read(&path).unwrap());
            files += 1;
        }
    }
    assert!(files >= 4, "{}: only {files} files", root.display());
}

#[test]
fn arbitrary_bytes() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let len = rng.below(2000);
        // Bias towards the bytes trace lines are made of.
        let alphabet = b" -[]().:<|{};#=>\r\n0123456789abcdhsNz_";
        let data: Vec<u8> = (0..len)
            .map(|_| match rng.below(3) {
                0 => rng.next() as u8,
                _ => alphabet[rng.below(alphabet.len())],
            })
            .collect();
        check(&data);
    }
}

#[test]
fn damaged_fixture_lines() {
    let text = common::read(common::X86_FIXTURE);
    let head = &text[..200_000];
    let mut rng = Rng(42);
    for _ in 0..40 {
        let mut data = head.to_vec();
        for _ in 0..50 {
            let i = rng.below(data.len());
            data[i] = match rng.below(4) {
                0 => b'\n',
                1 => b' ',
                2 => b'[',
                _ => rng.next() as u8,
            };
        }
        check(&data);
    }
}

#[test]
fn damaged_graph_trace() {
    let text = common::read(common::ARM_GRAPH);
    let head = &text[..150_000];
    let mut rng = Rng(99);
    for _ in 0..20 {
        let mut data = head.to_vec();
        for _ in 0..40 {
            let i = rng.below(data.len());
            data[i] = match rng.below(5) {
                0 => b'\n',
                1 => b' ',
                2 => b'|',
                3 => b'}',
                _ => rng.next() as u8,
            };
        }
        check(&data);
    }
}

#[test]
fn truncated_traces_count_the_cut_line() {
    for name in [common::X86_FIXTURE, common::ARM_MIN, common::ARM_MIN_LARGE] {
        truncations(&common::read(name)[..300_000]);
    }
}

fn truncations(head: &[u8]) {
    let full_lines = head.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut rng = Rng(7);
    for _ in 0..15 {
        let cut = rng.below(head.len());
        let mut a = Analysis::new(None);
        a.read(&head[..cut]).unwrap();
        let partial = u64::from(cut > 0 && head[cut - 1] != b'\n');
        assert_eq!(
            a.skipped[Skip::PartialLine as usize],
            partial,
            "cut at {cut}"
        );
        assert!(a.lines <= full_lines);
        check(&head[..cut]);
    }
}

/// trace-cmd's trace.dat files cut anywhere and with bits flipped: an error
/// naming the part of the file, or fewer events; never a panic.
#[test]
fn damaged_trace_dat_files() {
    let mut rng = Rng(0x7ace_cd0d);
    for name in [
        "aarch64-6.12-trace-cmd-min.dat",
        "aarch64-6.12-trace-cmd-min-graph.dat",
    ] {
        let file = fs::read(common::manifest().join("tests/data").join(name)).unwrap();
        check_trace_dat(&file);
        for _ in 0..12 {
            check_trace_dat(&file[..rng.below(file.len())]);
        }
        // The header, the section headers and the options: where a flipped
        // bit is read before any checksum could catch it.
        for _ in 0..25 {
            let mut d = file.clone();
            for _ in 0..4 {
                let i = match rng.below(2) {
                    0 => rng.below(0x40),
                    _ => rng.below(d.len()),
                };
                d[i] ^= 1 << rng.below(8);
            }
            check_trace_dat(&d);
        }
        // Format 6, uncompressed: flipped bits reach the event formats,
        // kallsyms and the ring-buffer pages.
        let v6 = trace_dat::fuzzing::rewrite(&file, trace_dat::fuzzing::Layout::V6, None);
        for _ in 0..25 {
            let mut d = v6.clone();
            for _ in 0..16 {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            check_trace_dat(&d);
        }
    }
}
