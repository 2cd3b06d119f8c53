//! The addresses `options/sym-addr` prints after each symbol (`ftrace_it
//! --sym-addr`), kept per function name: static functions share names
//! (`gic_handle_irq` is in both GIC drivers of the arm64 guest), and the
//! address tells which one ran.

use super::Analysis;
use crate::names::NONE;
use rustc_hash::FxHashMap;

/// Per name id: every address seen with it, ascending, without repeats.
#[derive(Clone, Debug, Default)]
pub(super) struct Addresses(FxHashMap<u32, Vec<u64>>);

impl Addresses {
    pub(super) fn add(&mut self, id: u32, addr: Option<u64>) {
        let Some(addr) = addr else { return };
        if id == NONE {
            return;
        }
        let seen = self.0.entry(id).or_default();
        if let Err(at) = seen.binary_search(&addr) {
            seen.insert(at, addr);
        }
    }
}

impl Analysis {
    /// The addresses printed after `name` anywhere in the trace, any task,
    /// ascending, without repeats; empty if the trace has none for it
    /// (no sym-addr). Each is an instruction inside the symbol, not its
    /// start: where `name` is the traced function, its patch site (the
    /// symbol's address plus a few bytes: 4 on the arm64 guest); where it is
    /// a parent, a return address into it. The symbol that holds an address
    /// is the last one of the System.map at or below it. A trace.dat gives
    /// them too (its events hold the addresses, not the names).
    pub fn addresses(&self, name: &[u8]) -> &[u64] {
        self.names
            .id(name)
            .and_then(|id| self.addresses.0.get(&id))
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;

    /// Two static functions named `gic_handle_irq` (System.map of the
    /// 6.12 arm64 guest: ffff800080010008 and ffff8000800100a8).
    const TRACE: &str = "\
# ftrace_it.sym_addr: on
 min-9 [001] d.h1. 1.000001: gic_handle_irq <ffff80008001000c> <-call_on_irq_stack <ffff8000800148b0>
 min-9 [001] d.h1. 1.000002: gic_handle_irq <ffff8000800100ac> <-call_on_irq_stack <ffff8000800148b0>
 min-9 [001] d.h1. 1.000003: generic_handle_domain_irq <ffff80008008492c> <-gic_handle_irq <ffff800080010074>
 min-9 [001] d.h1. 1.000004: gic_handle_irq <ffff80008001000c> <-call_on_irq_stack <ffff8000800148b0>
 min-9 [001] ..... 1.000005: getname <-__arm64_sys_execve
 min-9 [001] ..... 1.000006: do_fault <ffff800080200004> <-handle_mm_fault [   27.013141] random: crng init done
";

    #[test]
    fn each_name_keeps_every_address_it_was_printed_with() {
        let a = run(TRACE, None);
        // As the traced function and as a parent, each address once.
        assert_eq!(
            a.addresses(b"gic_handle_irq"),
            [
                0xffff_8000_8001_000c,
                0xffff_8000_8001_0074,
                0xffff_8000_8001_00ac
            ]
        );
        assert_eq!(a.addresses(b"call_on_irq_stack"), [0xffff_8000_8001_48b0]);
        // A line without sym-addr gives no address; a spliced kernel
        // message leaves the function's.
        assert_eq!(a.addresses(b"getname"), [] as [u64; 0]);
        assert_eq!(a.addresses(b"__arm64_sys_execve"), [] as [u64; 0]);
        assert_eq!(a.addresses(b"do_fault"), [0xffff_8000_8020_0004]);
        assert_eq!(a.addresses(b"handle_mm_fault"), [] as [u64; 0]);
        assert_eq!(a.addresses(b"never_traced"), [] as [u64; 0]);
    }
}
