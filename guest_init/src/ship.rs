//! Getting result files to the host: AArch64 semihosting (QEMU writes host
//! files, no guest driver needed) or frames on the console.

use guest_protocol::manifest::{Line, NAME as MANIFEST};
use std::io::{self, Write};

/// The checksum list, shipped after every other file.
pub fn manifest(files: &[(String, Vec<u8>)]) -> String {
    files
        .iter()
        .map(|(name, data)| {
            let sha256 = console_frames::sha256_hex(data);
            format!(
                "{}\n",
                Line {
                    sha256: &sha256,
                    name
                }
            )
        })
        .collect()
}

/// Writes every file, then the manifest, to the host through semihosting;
/// QEMU creates them relative to its working directory.
pub fn semihosting(files: &[(String, Vec<u8>)]) -> io::Result<()> {
    for (name, data) in files {
        semihost::write_file(name, data)?;
    }
    semihost::write_file(MANIFEST, manifest(files).as_bytes())
}

/// Prints every file, then the manifest, as frames on `out`.
pub fn console(files: &[(String, Vec<u8>)], out: &mut impl Write) -> io::Result<()> {
    for (name, data) in files {
        console_frames::encode(name, data, out)?;
    }
    console_frames::encode(MANIFEST, manifest(files).as_bytes(), out)?;
    out.flush()
}

#[cfg(target_arch = "aarch64")]
mod semihost {
    use std::io;

    const SYS_OPEN: u64 = 0x01;
    const SYS_CLOSE: u64 = 0x02;
    const SYS_WRITE: u64 = 0x05;
    /// `fopen` mode "wb" in the semihosting mode table.
    const MODE_WB: u64 = 4;
    /// QEMU copies each write through a bounce buffer: keep them moderate.
    const PIECE: usize = 4 << 20;

    /// One semihosting call: `HLT #0xF000` with the operation in x0 and the
    /// parameter block's address in x1; QEMU (with `userspace=on`) answers
    /// in x0 without the kernel seeing anything.
    fn call(op: u64, block: &[u64]) -> i64 {
        let ret: i64;
        // SAFETY: the trap reads `block` and the buffers it points to, all
        // live and mapped (filled by us) for the duration of the call.
        unsafe {
            std::arch::asm!(
                "hlt #0xf000",
                inout("x0") op as i64 => ret,
                in("x1") block.as_ptr(),
                options(nostack)
            );
        }
        ret
    }

    pub fn write_file(name: &str, data: &[u8]) -> io::Result<()> {
        let path = std::ffi::CString::new(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in file name"))?;
        let handle = call(
            SYS_OPEN,
            &[path.as_ptr() as u64, MODE_WB, name.len() as u64],
        );
        if handle < 0 {
            return Err(io::Error::other(format!(
                "semihosting open of host file {name} failed (is QEMU's working directory writable?)"
            )));
        }
        let mut result = Ok(());
        for piece in data.chunks(PIECE) {
            let left = call(
                SYS_WRITE,
                &[handle as u64, piece.as_ptr() as u64, piece.len() as u64],
            );
            if left != 0 {
                result = Err(io::Error::other(format!(
                    "semihosting write of host file {name}: {left} bytes not written"
                )));
                break;
            }
        }
        call(SYS_CLOSE, &[handle as u64]);
        result
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod semihost {
    use std::io;

    pub fn write_file(_name: &str, _data: &[u8]) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "semihosting exists only on aarch64: use the console channel",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_sha256sum_format() {
        let files = vec![("a".to_string(), b"abc".to_vec())];
        assert_eq!(
            manifest(&files),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n"
        );
    }

    #[test]
    fn console_sends_files_then_manifest() {
        let files = vec![
            ("x.trace".to_string(), b"one".to_vec()),
            ("x.log".to_string(), Vec::new()),
        ];
        let mut out = Vec::new();
        console(&files, &mut out).unwrap();
        let d = console_frames::decode(&out);
        let names: Vec<&str> = d.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["x.trace", "x.log", MANIFEST]);
        assert_eq!(d.files[2].data, manifest(&files).as_bytes());
    }
}
