//! `/proc/kallsyms` as recorded: addresses to function names.

/// Symbols sorted by address; the names in one buffer (a recorded
/// kallsyms has some 100,000 of them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kallsyms {
    addrs: Vec<u64>,
    /// Range of each name in `text`.
    names: Vec<(u32, u32)>,
    text: String,
}

impl Kallsyms {
    /// `ADDRESS TYPE NAME [\t[MODULE]]` lines; others are skipped.
    pub fn parse(data: &[u8]) -> Kallsyms {
        let mut text = String::with_capacity(data.len() / 2);
        let mut syms: Vec<(u64, (u32, u32))> = Vec::new();
        for line in data.split(|&b| b == b'\n') {
            let mut w = line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|w| !w.is_empty());
            let (Some(addr), Some(_kind), Some(name)) = (w.next(), w.next(), w.next()) else {
                continue;
            };
            let Some(addr) = std::str::from_utf8(addr)
                .ok()
                .and_then(|a| u64::from_str_radix(a, 16).ok())
            else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            let (Ok(at), Ok(len)) = (u32::try_from(text.len()), u32::try_from(name.len())) else {
                break;
            };
            text.push_str(name);
            syms.push((addr, (at, len)));
        }
        // Stable, then one name per address: of aliases the first listed
        // wins, as in the kernel's own lookup.
        syms.sort_by_key(|s| s.0);
        syms.dedup_by_key(|s| s.0);
        let (addrs, names) = syms.into_iter().unzip();
        Kallsyms { addrs, names, text }
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
        let (at, len) = self.names[i.checked_sub(1)?];
        Some(&self.text[at as usize..][..len as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_at_or_below() {
        let k = Kallsyms::parse(
            b"ffff000000000200 T second\nffff000000000100 T first\nffff000000000100 t alias\nbad line\nffff000000000300 t modfn\t[mod]\nzz t x\n",
        );
        assert_eq!(k.len(), 3);
        assert_eq!(k.lookup(0xffff_0000_0000_0100), Some("first"));
        assert_eq!(k.lookup(0xffff_0000_0000_01ff), Some("first"));
        assert_eq!(k.lookup(0xffff_0000_0000_0208), Some("second"));
        assert_eq!(k.lookup(0xffff_0000_0000_0308), Some("modfn"));
        assert_eq!(k.lookup(0x10), None);
    }
}
