//! Our own programs in the guest (its init, ftrace_it) run before or
//! without any library: each must be a static ELF executable for the
//! guest's architecture. Checked on the host so the user gets a clear
//! message instead of a failed exec inside the guest.

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;

/// `Err` says what is wrong with `data` as a static executable for `arch`.
pub fn check_static(data: &[u8], arch: &str) -> Result<(), String> {
    let machine = match arch {
        "aarch64" => 183,
        "x86_64" => 62,
        _ => return Err(format!("unsupported architecture {arch}")),
    };
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if data[4] != 2 || data[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().unwrap());
    if u16_at(18) != machine {
        return Err(format!("built for ELF machine {}, not {arch}", u16_at(18)));
    }
    if !matches!(u16_at(16), 2 | 3) {
        return Err("not an executable".into());
    }
    let (phoff, phentsize, phnum) = (
        u64_at(32) as usize,
        u16_at(54) as usize,
        u16_at(56) as usize,
    );
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        if at + 4 > data.len() {
            return Err("program headers run past the end of the file".into());
        }
        if u32_at(at) == PT_INTERP {
            return Err("dynamically linked (it asks for an interpreter): build it static".into());
        }
    }
    Ok(())
}

/// The span in memory of a kernel ELF's loadable segments at kernel
/// addresses (x86_64's per-CPU segment is linked at 0): a vmlinux's
/// `_end - _text`. `None` when `head` (the file's start) holds no such
/// segment or is not a 64-bit little-endian ELF file.
pub fn kernel_span(head: &[u8]) -> Option<u64> {
    if head.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(head.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(head.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(head.get(o..o + 8)?.try_into().ok()?));
    let (phoff, phentsize, phnum) = (
        u64_at(32)? as usize,
        u16_at(54)? as usize,
        u16_at(56)? as usize,
    );
    let (mut start, mut end) = (u64::MAX, 0);
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let (vaddr, memsz) = (u64_at(at + 16)?, u64_at(at + 40)?);
        if u32_at(at)? == PT_LOAD && vaddr >> 63 == 1 {
            start = start.min(vaddr);
            end = end.max(vaddr.checked_add(memsz)?);
        }
    }
    end.checked_sub(start)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A kernel ELF head with PT_LOAD segments (vaddr, memsz).
    pub fn kernel(loads: &[(u64, u64)]) -> Vec<u8> {
        let mut d = elf(62, &vec![PT_LOAD; loads.len()]);
        for (i, (vaddr, memsz)) in loads.iter().enumerate() {
            let at = 64 + 56 * i;
            d[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            d[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        }
        d
    }

    #[test]
    fn a_kernel_spans_its_segments_at_kernel_addresses() {
        let k = kernel(&[
            (0xffffffff81000000, 0x700d34),
            (0, 0x28698),
            (0xffffffff81aa6000, 0x180000),
        ]);
        assert_eq!(kernel_span(&k), Some(0xc26000));
        assert_eq!(kernel_span(&k[..100]), None);
        assert_eq!(kernel_span(&kernel(&[(0, 0x1000)])), None);
        assert_eq!(kernel_span(b"MZ not an ELF file"), None);
    }

    fn elf(machine: u16, types: &[u32]) -> Vec<u8> {
        let mut d = vec![0u8; 64 + 56 * types.len()];
        d[..6].copy_from_slice(b"\x7fELF\x02\x01");
        d[16..18].copy_from_slice(&2u16.to_le_bytes());
        d[18..20].copy_from_slice(&machine.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&(types.len() as u16).to_le_bytes());
        for (i, t) in types.iter().enumerate() {
            d[64 + 56 * i..68 + 56 * i].copy_from_slice(&t.to_le_bytes());
        }
        d
    }

    #[test]
    fn accepts_static_and_refuses_the_rest() {
        assert_eq!(check_static(&elf(183, &[1, 1]), "aarch64"), Ok(()));
        assert_eq!(check_static(&elf(62, &[1]), "x86_64"), Ok(()));
        assert!(check_static(&elf(62, &[1]), "aarch64")
            .unwrap_err()
            .contains("machine 62"));
        assert!(check_static(&elf(183, &[6, 3, 1]), "aarch64")
            .unwrap_err()
            .contains("dynamically linked"));
        assert!(check_static(b"#!/bin/sh\necho hi\n", "aarch64").is_err());
    }
}
