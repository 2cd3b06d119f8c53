//! Byte-exact file transfer over a text console.
//!
//! The sender prints every file as lines of text ("frames"); the receiver
//! finds them in whatever was captured from the console (a QEMU serial log, a
//! `tmux pipe-pane` capture, a real board's UART log), even with kernel
//! messages printed between frames or in the middle of one, CRLF line ends
//! and terminal escape sequences, and writes the files back byte for byte.
//!
//! A file `NAME` of `SIZE` bytes travels as
//!
//! ```text
//! @@MPT B NAME SIZE CHUNKS SHA256 CRC
//! @@MPT D NAME SEQ BASE64 CRC        (SEQ = 0..CHUNKS, 768 bytes each)
//! @@MPT E NAME CHUNKS SHA256 CRC
//! ```
//!
//! `CRC` is the CRC-32 (8 hex digits) of the frame text before it, so a frame
//! damaged on the way is detected; `SHA256` is the whole file's. A file is
//! only delivered when every chunk arrived intact and the size and SHA-256
//! match. `NAME` keeps `[A-Za-z0-9._+-]` and writes any other byte as `%XX`.

mod codec;
mod decode;

pub use codec::sha256_hex;
pub use decode::{decode, extract, Decoded, DecodedFile, ExtractError, ExtractedFile};

use codec::{base64_encode, crc32};
use std::io::{self, Write};

/// Every frame line starts with this.
pub const MARKER: &str = "@@MPT ";
/// Payload bytes per data frame: 1024 base64 characters, a line of about
/// 1.1 KB.
pub const CHUNK: usize = 768;

/// Writes the frames of one file to `out`, one `\n`-terminated line each.
pub fn encode(name: &str, data: &[u8], out: &mut impl Write) -> io::Result<()> {
    let name = escape_name(name);
    let chunks = data.len().div_ceil(CHUNK);
    let sha = sha256_hex(data);
    let mut line = String::with_capacity(CHUNK / 3 * 4 + name.len() + 40);
    line.push_str(&format!("{MARKER}B {name} {} {chunks} {sha}", data.len()));
    emit(&mut line, out)?;
    for (seq, chunk) in data.chunks(CHUNK).enumerate() {
        line.push_str(&format!("{MARKER}D {name} {seq} "));
        base64_encode(chunk, &mut line);
        emit(&mut line, out)?;
    }
    line.push_str(&format!("{MARKER}E {name} {chunks} {sha}"));
    emit(&mut line, out)
}

fn emit(line: &mut String, out: &mut impl Write) -> io::Result<()> {
    let crc = crc32(line.as_bytes());
    line.push_str(&format!(" {crc:08x}\n"));
    out.write_all(line.as_bytes())?;
    line.clear();
    Ok(())
}

fn escape_name(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"._+-".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_documented_shape() {
        let mut out = Vec::new();
        encode("a b%.trace", b"hello", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let sha = sha256_hex(b"hello");
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(&format!("@@MPT B a%20b%25.trace 5 1 {sha} ")));
        assert!(lines[1].starts_with("@@MPT D a%20b%25.trace 0 aGVsbG8= "));
        assert!(lines[2].starts_with(&format!("@@MPT E a%20b%25.trace 1 {sha} ")));
        for l in lines {
            let (body, crc) = l.rsplit_once(' ').unwrap();
            assert_eq!(crc, format!("{:08x}", crc32(body.as_bytes())));
        }
    }

    #[test]
    fn chunks_split_at_chunk_size() {
        for (len, chunks) in [(0, 0), (1, 1), (CHUNK, 1), (CHUNK + 1, 2), (3 * CHUNK, 3)] {
            let mut out = Vec::new();
            encode("f", &vec![7u8; len], &mut out).unwrap();
            let data_lines = String::from_utf8(out)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("@@MPT D "))
                .count();
            assert_eq!(data_lines, chunks, "{len} bytes");
        }
    }
}
