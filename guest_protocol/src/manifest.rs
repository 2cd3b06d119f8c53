//! The checksum list the guest sends after every other file: one
//! `SHA256  NAME` line per file, the format of `sha256sum`, so that
//! `sha256sum -c` checks the results too.

use core::fmt;

/// The list's own file name.
pub const NAME: &str = "manifest.sha256";

/// One line of the list, without its line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 64 hex digits.
    pub sha256: &'a str,
    /// A file name in the same directory: no `/`.
    pub name: &'a str,
}

impl<'a> Line<'a> {
    pub fn parse(line: &'a str) -> Option<Self> {
        let (sha256, name) = line.split_once("  ")?;
        let ok = sha256.len() == 64
            && sha256.bytes().all(|b| b.is_ascii_hexdigit())
            && !name.contains('/');
        ok.then_some(Line { sha256, name })
    }
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.sha256, self.name)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Line;
    use std::format;

    const SUM: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn lines_round_trip() {
        let line = Line {
            sha256: SUM,
            name: "min.trace",
        };
        let text = format!("{line}");
        assert_eq!(text, format!("{SUM}  min.trace"));
        assert_eq!(Line::parse(&text), Some(line));
    }

    #[test]
    fn refuses_other_lines() {
        for text in [
            format!("{SUM} min.trace"),
            format!("{}  min.trace", &SUM[1..]),
            format!("{}x  min.trace", &SUM[1..]),
            format!("{SUM}  ../min.trace"),
            "deadbeef a".into(),
        ] {
            assert_eq!(Line::parse(&text), None, "{text}");
        }
    }
}
