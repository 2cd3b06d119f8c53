//! Function names as the comparison sees them: the footprints' names, the
//! traces' call edges and objdump's branch targets all go through
//! [`base_name`], which is the analysis' one suffix rule
//! (`trace_analysis::names::normalize`) for tailor's `&str` names.

/// A function's name without the suffixes of gcc's clones (`.constprop.0`,
/// `.isra.0`, `.part.0`, `.cold`, ...): a different config changes which
/// clones gcc makes, not which code runs.
pub fn base_name(name: &str) -> &str {
    let base = trace_analysis::names::normalize(name.as_bytes());
    // The rule cuts at a `.`, so what it keeps is a prefix of the name.
    &name[..base.len()]
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
        assert_eq!(base_name("do_mem_abort.cold"), "do_mem_abort");
        assert_eq!(base_name("a.b"), "a.b");
    }
}
