//! Function names as the comparison sees them. [`base_name`] is tailor's
//! only suffix stripping: the footprints' names, the traces' call edges
//! and objdump's branch targets all go through it. Its rule (4 suffixes,
//! `KIND.N`, from the end) is not ftrace_report's (`names.rs`: 9 suffixes,
//! cut at the first); when that becomes the one public function, this
//! body becomes a call to it.

/// A function's name without the suffixes of gcc's clones (`.constprop.0`,
/// `.isra.0`, `.part.0`, `.cold.1`): a different config changes which
/// clones gcc makes, not which code runs.
pub fn base_name(name: &str) -> &str {
    let mut n = name;
    while let Some((head, tail)) = n.rsplit_once('.') {
        let (kind, num) = match head.rsplit_once('.') {
            Some((h, k)) if tail.bytes().all(|b| b.is_ascii_digit()) => ((h, k), tail),
            _ => break,
        };
        if !["constprop", "isra", "part", "cold"].contains(&kind.1) || num.is_empty() {
            break;
        }
        n = kind.0;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn clone_suffixes_go() {
        assert_eq!(
            base_name("shmem_get_folio_gfp.constprop.0.isra.0"),
            "shmem_get_folio_gfp"
        );
        assert_eq!(base_name("__queue_work.part.0"), "__queue_work");
        assert_eq!(base_name("a.b"), "a.b");
        assert_eq!(base_name("x.constprop"), "x.constprop");
    }
}
