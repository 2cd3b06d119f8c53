//! A dynamic payload's closure: its interpreter (`PT_INTERP`) and every
//! library it needs (`DT_NEEDED`, recursively), found in a sysroot the way
//! the dynamic loader will look for them in the guest: `DT_RUNPATH` or
//! `DT_RPATH` of the object that needs it (`$ORIGIN` expanded), then the
//! default directories. Each file goes into the guest at the path it has
//! under the sysroot, so the loader finds it there without a cache.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// What the loader needs to know of one ELF file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Elf {
    pub interp: Option<String>,
    pub needed: Vec<String>,
    /// DT_RUNPATH, or DT_RPATH without one, split at `:`.
    pub search: Vec<String>,
}

fn machine(arch: &str) -> Result<u16, String> {
    match arch {
        "aarch64" => Ok(183),
        "x86_64" => Ok(62),
        _ => Err(format!("unsupported architecture {arch}")),
    }
}

/// Reads `data` as a 64-bit little-endian ELF executable or shared object
/// for `arch`.
pub fn read(data: &[u8], arch: &str) -> Result<Elf, String> {
    let want = machine(arch)?;
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if data[4] != 2 || data[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let short = || "truncated ELF file".to_string();
    let bytes = |o: usize, n: usize| {
        o.checked_add(n)
            .and_then(|end| data.get(o..end))
            .ok_or_else(short)
    };
    let u16_at = |o| bytes(o, 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o| bytes(o, 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |o| bytes(o, 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
    if u16_at(18)? != want {
        return Err(format!("built for ELF machine {}, not {arch}", u16_at(18)?));
    }
    if !matches!(u16_at(16)?, 2 | 3) {
        return Err("not an executable".into());
    }
    let (phoff, phentsize, phnum) = (u64_at(32)? as usize, u16_at(54)? as usize, u16_at(56)?);
    // (type, offset, vaddr, filesz) of each program header.
    let mut headers = Vec::new();
    for i in 0..usize::from(phnum) {
        let at = phoff + i * phentsize;
        headers.push((
            u32_at(at)?,
            u64_at(at + 8)?,
            u64_at(at + 16)?,
            u64_at(at + 32)?,
        ));
    }
    let cstr = |o: usize| -> Result<String, String> {
        let tail = data.get(o..).ok_or_else(short)?;
        let end = tail.iter().position(|&b| b == 0).ok_or_else(short)?;
        String::from_utf8(tail[..end].to_vec()).map_err(|_| "a name that is not UTF-8".to_string())
    };
    let mut elf = Elf::default();
    if let Some(&(_, off, _, _)) = headers.iter().find(|h| h.0 == PT_INTERP) {
        elf.interp = Some(cstr(off as usize)?);
    }
    let Some(&(_, dyn_off, _, dyn_size)) = headers.iter().find(|h| h.0 == PT_DYNAMIC) else {
        return Ok(elf);
    };
    let (mut strtab, mut needed, mut runpath, mut rpath) = (None, Vec::new(), None, None);
    for i in 0..(dyn_size / 16) as usize {
        let at = dyn_off as usize + 16 * i;
        let (tag, val) = (u64_at(at)?, u64_at(at + 8)?);
        match tag {
            0 => break,
            DT_NEEDED => needed.push(val),
            DT_STRTAB => strtab = Some(val),
            DT_RUNPATH => runpath = Some(val),
            DT_RPATH => rpath = Some(val),
            _ => {}
        }
    }
    let Some(strtab) = strtab else {
        return Ok(elf);
    };
    // The string table's address, as a file offset through its PT_LOAD.
    let table = headers
        .iter()
        .find(|&&(t, _, vaddr, filesz)| t == PT_LOAD && (vaddr..vaddr + filesz).contains(&strtab))
        .map(|&(_, off, vaddr, _)| (strtab - vaddr + off) as usize)
        .ok_or("its dynamic string table is outside the file")?;
    for n in needed {
        elf.needed.push(cstr(table + n as usize)?);
    }
    if let Some(p) = runpath.or(rpath) {
        let p = cstr(table + p as usize)?;
        elf.search = p
            .split(':')
            .filter(|d| !d.is_empty())
            .map(String::from)
            .collect();
    }
    Ok(elf)
}

/// `path` made absolute in the archive, which has no directory a `..`
/// could go through.
fn normalize(path: &str) -> String {
    format!("/{}", lexpath::in_root(path))
}

/// Where the loader looks when the object says nothing (glibc's system
/// directories on Debian, musl's default path).
fn default_dirs(arch: &str) -> [String; 6] {
    let triple = format!("{arch}-linux-gnu");
    [
        format!("/lib/{triple}"),
        format!("/usr/lib/{triple}"),
        "/lib".into(),
        "/usr/lib".into(),
        "/lib64".into(),
        "/usr/lib64".into(),
    ]
}

/// One file of the closure: where it goes in the guest, its content.
pub struct Piece {
    pub guest: String,
    pub data: Vec<u8>,
}

/// The interpreter and libraries `program` (named `name` in messages,
/// installed at `guest_dir` in the guest) needs, from `sysroot`; empty for
/// a static program. `Err` names every piece that is missing, or the first
/// that is unusable.
pub fn resolve(
    program: &[u8],
    name: &str,
    guest_dir: &str,
    sysroot: &Path,
    arch: &str,
) -> Result<Vec<Piece>, String> {
    let elf = read(program, arch)?;
    let Some(interp) = &elf.interp else {
        return Ok(Vec::new());
    };
    let host = |guest: &str| sysroot.join(guest.trim_start_matches('/'));
    let mut pieces = Vec::new();
    let mut missing = Vec::new();
    match fs::read(host(interp)) {
        Ok(data) => pieces.push(Piece {
            guest: interp.clone(),
            data,
        }),
        Err(_) => missing.push(format!("interpreter {interp}")),
    }
    // (library, the needer's search path, its directory, its name)
    let mut queue: VecDeque<(String, Vec<String>, String, String)> = elf
        .needed
        .iter()
        .map(|n| (n.clone(), elf.search.clone(), guest_dir.into(), name.into()))
        .collect();
    let mut seen: Vec<String> = Vec::new();
    let defaults = default_dirs(arch);
    while let Some((lib, search, origin, needer)) = queue.pop_front() {
        if seen.contains(&lib) {
            continue;
        }
        seen.push(lib.clone());
        let candidates: Vec<String> = if lib.contains('/') {
            vec![normalize(&lib)]
        } else {
            search
                .iter()
                .map(|d| d.replace("${ORIGIN}", &origin).replace("$ORIGIN", &origin))
                .chain(defaults.iter().cloned())
                .map(|d| normalize(&format!("{d}/{lib}")))
                .collect()
        };
        // The loader skips a file of another architecture and looks on.
        let found = candidates.into_iter().find_map(|guest| {
            let data = fs::read(host(&guest)).ok()?;
            let elf = read(&data, arch).ok()?;
            Some((guest, data, elf))
        });
        let Some((guest, data, elf)) = found else {
            missing.push(format!("{lib} (needed by {needer})"));
            continue;
        };
        let dir = Path::new(&guest)
            .parent()
            .map_or("/".into(), |d| d.display().to_string());
        queue.extend(
            elf.needed
                .iter()
                .map(|n| (n.clone(), elf.search.clone(), dir.clone(), lib.clone())),
        );
        pieces.push(Piece { guest, data });
    }
    if !missing.is_empty() {
        return Err(format!(
            "missing in sysroot {}: {}",
            sysroot.display(),
            missing.join(", ")
        ));
    }
    Ok(pieces)
}

/// The default sysroot: Debian's cross C library for `arch`
/// (`libc6-arm64-cross` puts it in /usr/aarch64-linux-gnu).
pub fn default_sysroot(arch: &str) -> PathBuf {
    if arch == std::env::consts::ARCH {
        PathBuf::from("/")
    } else {
        PathBuf::from(format!("/usr/{arch}-linux-gnu"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared object for `machine`: one PT_LOAD over the whole file, a
    /// PT_DYNAMIC, optionally a PT_INTERP, DT_NEEDED for `needed`, and a
    /// DT_RUNPATH.
    fn object(
        machine: u16,
        interp: Option<&str>,
        needed: &[&str],
        runpath: Option<&str>,
    ) -> Vec<u8> {
        let mut strings = vec![0u8];
        let mut add = |s: &str| {
            let at = strings.len() as u64;
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
            at
        };
        let mut dynamic: Vec<(u64, u64)> = needed.iter().map(|n| (DT_NEEDED, add(n))).collect();
        if let Some(r) = runpath {
            dynamic.push((DT_RUNPATH, add(r)));
        }
        let interp_at = interp.map(&mut add);
        let phnum = 3u64;
        let strtab = 64 + 56 * phnum;
        let dyn_at = strtab + strings.len() as u64;
        dynamic.push((DT_STRTAB, 0x1000 + strtab));
        dynamic.push((0, 0));
        let total = dyn_at + 16 * dynamic.len() as u64;
        let mut d = vec![0u8; 64];
        d[..6].copy_from_slice(b"\x7fELF\x02\x01");
        d[16..18].copy_from_slice(&3u16.to_le_bytes());
        d[18..20].copy_from_slice(&machine.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
        let mut ph = |t: u32, off: u64, vaddr: u64, size: u64| {
            let mut h = vec![0u8; 56];
            h[..4].copy_from_slice(&t.to_le_bytes());
            h[8..16].copy_from_slice(&off.to_le_bytes());
            h[16..24].copy_from_slice(&vaddr.to_le_bytes());
            h[32..40].copy_from_slice(&size.to_le_bytes());
            d.extend(h);
        };
        ph(PT_LOAD, 0, 0x1000, total);
        ph(
            PT_DYNAMIC,
            dyn_at,
            0x1000 + dyn_at,
            16 * dynamic.len() as u64,
        );
        match interp_at {
            Some(at) => ph(PT_INTERP, strtab + at, 0, 0),
            None => ph(0, 0, 0, 0),
        }
        d.extend(&strings);
        for (tag, val) in dynamic {
            d.extend(tag.to_le_bytes());
            d.extend(val.to_le_bytes());
        }
        d
    }

    #[test]
    fn reads_interpreter_needed_and_runpath() {
        let data = object(
            183,
            Some("/lib/ld.so.1"),
            &["liba.so", "libc.so.6"],
            Some("$ORIGIN/../lib:/opt"),
        );
        let elf = read(&data, "aarch64").unwrap();
        assert_eq!(elf.interp.as_deref(), Some("/lib/ld.so.1"));
        assert_eq!(elf.needed, ["liba.so", "libc.so.6"]);
        assert_eq!(elf.search, ["$ORIGIN/../lib", "/opt"]);
        assert!(read(&data, "x86_64").unwrap_err().contains("machine 183"));
        assert!(read(&data[..100], "aarch64").is_err());
        assert!(read(b"#!/bin/sh\n", "aarch64").is_err());
    }

    #[test]
    fn finds_the_closure_recursively_and_names_every_missing_piece() {
        let root = std::env::temp_dir().join(format!("vmrun-closure-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for d in ["lib", "usr/lib/aarch64-linux-gnu", "opt/app/lib"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let put = |p: &str, data: Vec<u8>| fs::write(root.join(p), data).unwrap();
        put("lib/ld.so.1", object(183, None, &[], None));
        put("lib/libc.so.6", object(183, None, &[], None));
        // Another architecture's copy first on the path: skipped, as ld.so does.
        put(
            "usr/lib/aarch64-linux-gnu/libb.so",
            object(62, None, &[], None),
        );
        put("usr/lib/libb.so", object(183, None, &["libc.so.6"], None));
        put("opt/app/lib/liba.so", object(183, None, &["libb.so"], None));
        let prog = object(
            183,
            Some("/lib/ld.so.1"),
            &["liba.so", "libc.so.6"],
            Some("$ORIGIN/../lib"),
        );
        let pieces = resolve(&prog, "app", "/opt/app/bin", &root, "aarch64").unwrap();
        let guest: Vec<&str> = pieces.iter().map(|p| p.guest.as_str()).collect();
        assert_eq!(
            guest,
            [
                "/lib/ld.so.1",
                "/opt/app/lib/liba.so",
                "/lib/libc.so.6",
                "/usr/lib/libb.so"
            ]
        );
        fs::remove_file(root.join("lib/libc.so.6")).unwrap();
        fs::remove_file(root.join("lib/ld.so.1")).unwrap();
        let e = resolve(&prog, "app", "/opt/app/bin", &root, "aarch64")
            .err()
            .unwrap();
        assert_eq!(
            e,
            format!(
                "missing in sysroot {}: interpreter /lib/ld.so.1, libc.so.6 (needed by app)",
                root.display()
            )
        );
        // A static program needs nothing.
        assert!(
            resolve(&object(183, None, &[], None), "s", "/", &root, "aarch64")
                .unwrap()
                .is_empty()
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
