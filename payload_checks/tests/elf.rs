//! The ELF files themselves, read with a real ELF parser: static, no
//! interpreter, entry inside an executable file-backed segment, and for
//! `min.large` a loop at least 1 MiB past the entry.

use object::elf::{FileHeader64, ET_EXEC, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;
use payload_checks::{binary, ARCHES, PAYLOADS};

const MIB: u64 = 1 << 20;

struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
    flags: u32,
}

struct Elf {
    data: Vec<u8>,
    machine: u16,
    kind: u16,
    entry: u64,
    segments: Vec<(u32, Segment)>,
}

fn read_elf(arch: &str, name: &str) -> Elf {
    let path = binary(arch, name);
    let data = std::fs::read(&path).unwrap();
    let header = FileHeader64::<Endianness>::parse(&*data)
        .unwrap_or_else(|e| panic!("{}: not a 64-bit ELF file: {e}", path.display()));
    let endian = header.endian().unwrap();
    let segments = header
        .program_headers(endian, &*data)
        .unwrap()
        .iter()
        .map(|ph| {
            let segment = Segment {
                vaddr: ph.p_vaddr(endian),
                offset: ph.p_offset(endian),
                filesz: ph.p_filesz(endian),
                flags: ph.p_flags(endian),
            };
            (ph.p_type(endian), segment)
        })
        .collect();
    Elf {
        machine: header.e_machine(endian),
        kind: header.e_type(endian),
        entry: header.e_entry(endian),
        segments,
        data,
    }
}

impl Elf {
    fn loads(&self) -> impl Iterator<Item = &Segment> {
        self.segments
            .iter()
            .filter(|(t, _)| *t == PT_LOAD)
            .map(|(_, s)| s)
    }

    /// The file offset of `addr` if a loadable segment backs it with file bytes.
    fn file_offset(&self, addr: u64) -> Option<(u64, &Segment)> {
        self.loads()
            .find(|s| addr >= s.vaddr && addr < s.vaddr + s.filesz)
            .map(|s| (s.offset + addr - s.vaddr, s))
    }

    /// The file bytes from `addr` to the end of its segment.
    fn code_at(&self, addr: u64) -> &[u8] {
        let (offset, segment) = self.file_offset(addr).unwrap();
        let end = segment.offset + segment.filesz;
        &self.data[offset as usize..end as usize]
    }

    /// Where the unconditional branch at `addr` goes, for the branch forms
    /// the payloads use (`jmp rel8/rel32` on x86_64, `b imm26` on aarch64).
    fn branch_target(&self, addr: u64) -> Option<u64> {
        let code = self.code_at(addr);
        match self.machine {
            object::elf::EM_X86_64 => match code {
                [0xeb, rel, ..] => Some(addr.wrapping_add(2).wrapping_add(*rel as i8 as u64)),
                [0xe9, a, b, c, d, ..] => {
                    let rel = i32::from_le_bytes([*a, *b, *c, *d]);
                    Some(addr.wrapping_add(5).wrapping_add(rel as i64 as u64))
                }
                _ => None,
            },
            object::elf::EM_AARCH64 => {
                let insn = u32::from_le_bytes(code.get(..4)?.try_into().unwrap());
                (insn >> 26 == 0b000101).then(|| {
                    let imm26 = ((insn << 6) as i32 >> 6) as i64;
                    addr.wrapping_add((imm26 * 4) as u64)
                })
            }
            machine => panic!("unexpected e_machine {machine}"),
        }
    }

    /// The first instruction at or after `start` that branches to itself
    /// (the spin), looking at most `window` bytes ahead.
    fn find_spin(&self, start: u64, window: u64) -> Option<u64> {
        let step = if self.machine == object::elf::EM_AARCH64 {
            4
        } else {
            1
        };
        (start..start + window)
            .step_by(step)
            .take_while(|a| self.file_offset(*a).is_some())
            .find(|a| self.branch_target(*a) == Some(*a))
    }
}

fn expected_machine(arch: &str) -> u16 {
    match arch {
        "x86_64" => object::elf::EM_X86_64,
        "aarch64" => object::elf::EM_AARCH64,
        _ => unreachable!(),
    }
}

#[test]
fn every_binary_is_a_static_executable_with_an_executable_entry() {
    for arch in ARCHES {
        for name in ["ftrace_it", "min", "min.large"] {
            let elf = read_elf(arch, name);
            let what = format!("{arch}/{name}");
            assert_eq!(elf.machine, expected_machine(arch), "{what}: wrong machine");
            assert_eq!(elf.kind, ET_EXEC, "{what}: not ET_EXEC (PIE or object?)");
            for (kind, _) in &elf.segments {
                assert_ne!(*kind, PT_INTERP, "{what}: has an interpreter");
                assert_ne!(*kind, PT_DYNAMIC, "{what}: has a dynamic section");
            }
            let (_, segment) = elf
                .file_offset(elf.entry)
                .unwrap_or_else(|| panic!("{what}: entry {:#x} not file-backed", elf.entry));
            assert_ne!(
                segment.flags & PF_X,
                0,
                "{what}: entry segment not executable"
            );
            for s in elf.loads() {
                assert!(
                    s.flags & (PF_W | PF_X) != PF_W | PF_X,
                    "{what}: a segment at {:#x} is writable and executable",
                    s.vaddr
                );
            }
        }
    }
}

#[test]
fn payloads_are_one_read_exec_segment_that_spins_without_data() {
    for arch in ARCHES {
        for name in PAYLOADS {
            let elf = read_elf(arch, name);
            let loads: Vec<_> = elf.loads().collect();
            assert_eq!(loads.len(), 1, "{arch}/{name}: expected one PT_LOAD");
            assert_eq!(
                loads[0].flags,
                object::elf::PF_R | PF_X,
                "{arch}/{name}: flags"
            );
        }
    }
}

#[test]
fn min_spins_right_after_its_entry() {
    for arch in ARCHES {
        let elf = read_elf(arch, "min");
        let spin = elf.find_spin(elf.entry, 16);
        assert!(
            spin.is_some(),
            "{arch}/min: no spinning loop within 16 bytes of the entry"
        );
    }
}

#[test]
fn min_large_spins_at_least_one_mib_past_its_entry_in_file_backed_code() {
    for arch in ARCHES {
        let elf = read_elf(arch, "min.large");
        let target = elf
            .branch_target(elf.entry)
            .unwrap_or_else(|| panic!("{arch}/min.large: entry is not a branch"));
        assert!(
            target >= elf.entry + MIB,
            "{arch}/min.large: branch target {target:#x} is less than 1 MiB past entry {:#x}",
            elf.entry
        );
        let (_, segment) = elf
            .file_offset(target)
            .unwrap_or_else(|| panic!("{arch}/min.large: loop at {target:#x} not backed by file"));
        let (_, entry_segment) = elf.file_offset(elf.entry).unwrap();
        assert!(
            std::ptr::eq(segment, entry_segment),
            "{arch}/min.large: entry and loop must share one file-backed segment"
        );
        let spin = elf.find_spin(target, 16);
        assert!(
            spin.is_some(),
            "{arch}/min.large: no spinning loop at {target:#x}"
        );
    }
}
