//! `/proc/kallsyms` as recorded: addresses to function names.

/// Symbols sorted by address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kallsyms {
    addrs: Vec<u64>,
    names: Vec<Box<str>>,
}

impl Kallsyms {
    /// `ADDRESS TYPE NAME [\t[MODULE]]` lines; others are skipped.
    pub fn parse(text: &[u8]) -> Kallsyms {
        let mut syms: Vec<(u64, Box<str>)> = Vec::new();
        for line in text.split(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(line);
            let mut w = line.split_whitespace();
            let (Some(addr), Some(_kind), Some(name)) = (w.next(), w.next(), w.next()) else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            syms.push((addr, name.into()));
        }
        // Stable: of aliases at one address the first listed wins, as in
        // the kernel's own lookup.
        syms.sort_by_key(|s| s.0);
        let (addrs, names) = syms.into_iter().unzip();
        Kallsyms { addrs, names }
    }

    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The symbol at or nearest below `addr`.
    pub fn lookup(&self, addr: u64) -> Option<&str> {
        let i = self.addrs.partition_point(|&a| a <= addr);
        let i = i.checked_sub(1)?;
        // The first of the aliases at that address.
        let first = self.addrs[..=i].partition_point(|&a| a < self.addrs[i]);
        Some(&self.names[first])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_at_or_below() {
        let k = Kallsyms::parse(
            b"ffff000000000200 T second\nffff000000000100 T first\nffff000000000100 t alias\nbad line\nffff000000000300 t modfn\t[mod]\n",
        );
        assert_eq!(k.len(), 4);
        assert_eq!(k.lookup(0xffff_0000_0000_0100), Some("first"));
        assert_eq!(k.lookup(0xffff_0000_0000_01ff), Some("first"));
        assert_eq!(k.lookup(0xffff_0000_0000_0208), Some("second"));
        assert_eq!(k.lookup(0xffff_0000_0000_0308), Some("modfn"));
        assert_eq!(k.lookup(0x10), None);
    }
}
