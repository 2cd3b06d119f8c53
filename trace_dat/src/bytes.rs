//! Bounds-checked reading of the file's numbers and strings, and the error
//! that names the part of the file that is damaged.

use std::fmt;

/// A truncated or damaged part of a trace.dat: which part, where, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The part of the file, as the format documentation names it
    /// (`options section`, `kallsyms`, `cpu 1 ring buffer`).
    pub section: String,
    /// Offset in the file; for compressed sections and CPU data, in the
    /// uncompressed data (the message says so).
    pub offset: u64,
    pub problem: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trace.dat: {} at offset {}: {}",
            self.section, self.offset, self.problem
        )
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Byte order of the file's numbers (the header's endianness byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endian {
    pub big: bool,
}

impl Endian {
    pub fn u16(self, b: [u8; 2]) -> u16 {
        if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    pub fn u32(self, b: [u8; 4]) -> u32 {
        if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    pub fn u64(self, b: [u8; 8]) -> u64 {
        if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    }

    /// An unsigned number of 1, 2, 4 or 8 bytes at `at`; `None` when out of
    /// range or of another size.
    pub fn uint(self, data: &[u8], at: usize, size: usize) -> Option<u64> {
        let b = data.get(at..at.checked_add(size)?)?;
        Some(match size {
            1 => u64::from(b[0]),
            2 => u64::from(self.u16(b.try_into().ok()?)),
            4 => u64::from(self.u32(b.try_into().ok()?)),
            8 => self.u64(b.try_into().ok()?),
            _ => return None,
        })
    }
}

/// A reader over one part of the file that turns every short read into an
/// `Error` naming that part.
pub struct Cur<'a, 's> {
    data: &'a [u8],
    pos: usize,
    /// File offset of `data[0]` (or 0 in uncompressed data).
    base: u64,
    section: &'s str,
    pub endian: Endian,
}

impl<'a, 's> Cur<'a, 's> {
    pub fn new(data: &'a [u8], base: u64, section: &'s str, endian: Endian) -> Cur<'a, 's> {
        Cur {
            data,
            pos: 0,
            base,
            section,
            endian,
        }
    }

    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn err(&self, problem: impl Into<String>) -> Error {
        Error {
            section: self.section.to_string(),
            offset: self.offset(),
            problem: problem.into(),
        }
    }

    pub fn bytes(&mut self, n: u64) -> Result<&'a [u8]> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(self.err(format!("truncated ({n} bytes wanted, {left} left)")));
        }
        let b = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.bytes(N as u64)?;
        Ok(b.try_into().expect("bytes() returned N bytes"))
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(self.endian.u16(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(self.endian.u32(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(self.endian.u64(self.array()?))
    }

    /// A NUL-terminated string (without its NUL).
    pub fn cstr(&mut self) -> Result<&'a [u8]> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                self.pos += n + 1;
                Ok(&rest[..n])
            }
            None => Err(self.err("truncated (a string without its NUL)")),
        }
    }

    /// Text of the given size (lossy: the file's texts are ASCII).
    pub fn text(&mut self, n: u64) -> Result<String> {
        Ok(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_name_the_section_and_offset() {
        let le = Endian { big: false };
        let mut c = Cur::new(&[1, 0, 2], 100, "kallsyms", le);
        assert_eq!(c.u16().unwrap(), 1);
        let e = c.u32().unwrap_err();
        assert_eq!(
            e.to_string(),
            "trace.dat: kallsyms at offset 102: truncated (4 bytes wanted, 1 left)"
        );
        assert!(c.cstr().is_err());
    }

    #[test]
    fn both_byte_orders() {
        let be = Endian { big: true };
        assert_eq!(be.uint(&[0, 0, 1, 2], 0, 4), Some(0x102));
        assert_eq!(Endian { big: false }.uint(&[2, 1], 0, 2), Some(0x102));
        assert_eq!(be.uint(&[1, 2, 3], 0, 3), None);
        assert_eq!(be.uint(&[1], 0, 2), None);
        assert_eq!(be.uint(&[1], usize::MAX, 2), None);
    }
}
