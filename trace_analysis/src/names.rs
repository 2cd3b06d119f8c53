//! Function-name interning, compiler-suffix normalisation and the name
//! classes the phase rules look at.

use rustc_hash::FxHashMap;

/// Id of "no function" (a caller that is not known).
pub const NONE: u32 = u32::MAX;

/// Name classes (bits), decided on the normalised name.
pub mod class {
    /// Entry of `execve`/`execveat` ([`EXECVE_NAMES`]).
    pub const EXECVE: u8 = 1;
    /// Start of the end: exit syscalls, `do_exit`, signal delivery.
    pub const EXIT: u8 = 2;
    /// Unambiguous entry from user mode (arm64 `el0_*` handlers).
    pub const USER_ENTRY: u8 = 4;
    /// The way back to user mode (syscall/irq exit work).
    pub const RET_USER: u8 = 8;
    /// A kernel entry point that does not tell whether it came from user mode.
    pub const KERNEL_ENTRY: u8 = 16;
    /// arm64 EL0 synchronous-exception frames (syscalls and aborts): a
    /// kernel entry called from one came from user mode.
    pub const EL0_SYNC: u8 = 32;
    /// On the system call entry path ([`is_syscall_entry`]).
    pub const SYSCALL_ENTRY: u8 = 64;
    /// A system call's own function other than execve's.
    pub const SYSCALL_FN: u8 = 128;
}

const EXIT_NAMES: &[&str] = &[
    "do_exit",
    "do_group_exit",
    "__arm64_sys_exit",
    "__arm64_sys_exit_group",
    "__x64_sys_exit",
    "__x64_sys_exit_group",
    "__ia32_sys_exit",
    "__ia32_sys_exit_group",
    "__se_sys_exit",
    "__se_sys_exit_group",
    "__do_sys_exit",
    "__do_sys_exit_group",
    "sys_exit",
    "sys_exit_group",
    "get_signal",
    "arch_do_signal_or_restart",
    "do_signal",
];

/// arm64 `el0*` symbols that are on the syscall return path too.
const EL0_SYSCALL_NAMES: &[&str] = &[
    "el0_svc",
    "el0_svc_common",
    "el0_svc_compat",
    "el0t_64_sync_handler",
    "el0t_32_sync_handler",
];

const RET_USER_NAMES: &[&str] = &[
    "syscall_exit_to_user_mode",
    "syscall_exit_to_user_mode_prepare",
    "syscall_exit_to_user_mode_work",
    "syscall_exit_work",
    "exit_to_user_mode",
    "exit_to_user_mode_prepare",
    "exit_to_user_mode_loop",
    "arch_exit_to_user_mode_prepare",
    "irqentry_exit_to_user_mode",
    "do_notify_resume",
    "syscall_trace_exit",
    "ret_to_user",
    "ret_fast_syscall",
];

/// Where the kernel is entered from user space or by an interrupt (and the
/// system call's entry, [`is_syscall_kernel_entry`]).
const KERNEL_ENTRY_NAMES: &[&str] = &[
    // x86_64
    "do_user_addr_fault",
    "handle_page_fault",
    "common_interrupt",
    "__common_interrupt",
    "irqentry_enter",
    "irqentry_enter_from_user_mode",
    "irq_enter_rcu",
    "irq_enter",
    // arm64
    "do_mem_abort",
    "do_page_fault",
    "do_translation_fault",
    "gic_handle_irq",
    "do_interrupt_handler",
    "handle_arch_irq",
    "call_on_irq_stack",
];

const KERNEL_ENTRY_PREFIXES: &[&str] = &["exc_", "sysvec_", "__sysvec_", "asm_exc_", "asm_sysvec_"];

/// Functions that start a hardirq, softirq or NMI context (function_graph
/// nesting; the function tracer has the flags column instead).
const HARDIRQ_ROOTS: &[&str] = &[
    "irq_enter",
    "irq_enter_rcu",
    "irq_exit",
    "irq_exit_rcu",
    "common_interrupt",
    "__common_interrupt",
    "gic_handle_irq",
    "do_interrupt_handler",
    "handle_arch_irq",
    "handle_domain_irq",
    "generic_handle_domain_irq",
    "ipi_handler",
    "do_handle_IPI",
];
const SOFTIRQ_ROOTS: &[&str] = &["__do_softirq", "handle_softirqs", "do_softirq"];
const NMI_ROOTS: &[&str] = &[
    "exc_nmi",
    "default_do_nmi",
    "nmi_handle",
    "do_nmi",
    "arm64_enter_nmi",
    "ipi_handler_nmi",
];

pub fn classify(norm: &[u8]) -> u8 {
    let is = |list: &[&str]| list.iter().any(|n| n.as_bytes() == norm);
    let mut c = 0;
    if is_execve(norm) {
        c |= class::EXECVE;
    }
    if is_syscall_entry(norm) {
        c |= class::SYSCALL_ENTRY;
    }
    if is_syscall_function(norm) {
        c |= class::SYSCALL_FN;
    }
    if is(EXIT_NAMES) {
        c |= class::EXIT;
    }
    if norm.starts_with(b"el0") {
        if is(EL0_SYSCALL_NAMES) {
            c |= class::RET_USER | class::EL0_SYNC;
        } else {
            c |= class::USER_ENTRY;
        }
    }
    if is(RET_USER_NAMES) {
        c |= class::RET_USER;
    }
    if is(KERNEL_ENTRY_NAMES)
        || is_syscall_kernel_entry(norm)
        || (KERNEL_ENTRY_PREFIXES
            .iter()
            .any(|p| norm.starts_with(p.as_bytes())))
    {
        c |= class::KERNEL_ENTRY;
    }
    c
}

/// Context a function_graph frame of this function starts, if any.
pub fn root_context(norm: &[u8]) -> Option<crate::model::Context> {
    use crate::model::Context;
    let is = |list: &[&str]| list.iter().any(|n| n.as_bytes() == norm);
    if is(NMI_ROOTS) {
        Some(Context::Nmi)
    } else if is(HARDIRQ_ROOTS) || norm.starts_with(b"__sysvec_") || norm.starts_with(b"sysvec_") {
        Some(Context::Hardirq)
    } else if is(SOFTIRQ_ROOTS) {
        Some(Context::Softirq)
    } else {
        None
    }
}

// The system call names the execve rule (`crate::execve`) and the classes
// above look at.

/// Functions (compiler suffix cut) whose event, as function or caller,
/// means the task is inside `execve`: the caller counts so that a trace
/// that starts inside `execve` still finds it.
pub const EXECVE_NAMES: &[&str] = &[
    "__arm64_sys_execve",
    "__arm64_sys_execveat",
    "__arm64_compat_sys_execve",
    "__arm64_compat_sys_execveat",
    "__x64_sys_execve",
    "__x64_sys_execveat",
    "__ia32_sys_execve",
    "__ia32_sys_execveat",
    "__ia32_compat_sys_execve",
    "__ia32_compat_sys_execveat",
    "__se_sys_execve",
    "__se_sys_execveat",
    "__do_sys_execve",
    "__do_sys_execveat",
    "sys_execve",
    "sys_execveat",
    "do_execve",
    "do_execveat",
    "do_execveat_common",
];

/// The system call entry path from the entry code up to the system call's
/// own function (`noinstr` frames show up as callers only): the functions
/// that also start a kernel entry for the phase rules ([`classify`]
/// gives them `KERNEL_ENTRY`: after execve has returned to user space, one
/// of them is the program's next system call)...
const SYSCALL_KERNEL_ENTRY_NAMES: &[&str] = &[
    // arm64
    "do_el0_svc",
    "do_el0_svc_compat",
    "invoke_syscall",
    // x86_64
    "do_syscall_64",
    "x64_sys_call",
    "do_int80_syscall_32",
    "do_fast_syscall_32",
    "syscall_enter_from_user_mode",
    "enter_from_user_mode",
];

/// ...and the rest of that path, which the return path or a compat entry
/// shares.
const SYSCALL_PATH_NAMES: &[&str] = &[
    // arm64
    "el0_svc_common",
    // x86_64
    "ia32_sys_call",
    "__do_fast_syscall_32",
    "do_SYSENTER_32",
    "syscall_enter_from_user_mode_prepare",
    "syscall_enter_from_user_mode_work",
    // both
    "syscall_trace_enter",
];

/// A system call's own function: the wrappers `SYSCALL_DEFINE` makes.
const SYSCALL_FUNCTION_PREFIXES: &[&str] = &[
    "__arm64_sys_",
    "__arm64_compat_sys_",
    "__x64_sys_",
    "__x32_compat_sys_",
    "__ia32_sys_",
    "__ia32_compat_sys_",
    "__do_sys_",
    "__do_compat_sys_",
    "__se_sys_",
    "__se_compat_sys_",
];

pub fn is_execve(norm: &[u8]) -> bool {
    EXECVE_NAMES.iter().any(|n| n.as_bytes() == norm)
}

/// On the system call entry path (either list above).
pub fn is_syscall_entry(norm: &[u8]) -> bool {
    is_syscall_kernel_entry(norm) || SYSCALL_PATH_NAMES.iter().any(|n| n.as_bytes() == norm)
}

/// On the system call entry path and the start of a kernel entry.
pub fn is_syscall_kernel_entry(norm: &[u8]) -> bool {
    SYSCALL_KERNEL_ENTRY_NAMES
        .iter()
        .any(|n| n.as_bytes() == norm)
}

/// Another system call's function (`execve`'s own are `is_execve`).
pub fn is_syscall_function(norm: &[u8]) -> bool {
    !is_execve(norm)
        && SYSCALL_FUNCTION_PREFIXES
            .iter()
            .any(|p| norm.starts_with(p.as_bytes()))
}

/// Compiler-generated suffixes: `.constprop.N`, `.isra.N`, `.part.N`,
/// `.cold`, `.llvm.N`, ... The name is cut at the first `.` that starts one.
const SUFFIX_WORDS: &[&str] = &[
    "constprop",
    "isra",
    "part",
    "cold",
    "llvm",
    "lto_priv",
    "localalias",
    "clone",
    "specialized",
];

/// A function's name without its compiler suffixes: the one rule, for the
/// analysis (`--normalize`, the name classes) and the crates that compare
/// names across kernels.
pub fn normalize(name: &[u8]) -> &[u8] {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'.', &name[i..]) {
        let dot = i + off;
        let rest = &name[dot + 1..];
        let word_end = rest.iter().position(|&b| b == b'.').unwrap_or(rest.len());
        let word = &rest[..word_end];
        if dot > 0 && SUFFIX_WORDS.iter().any(|w| w.as_bytes() == word) {
            return &name[..dot];
        }
        i = dot + 1;
    }
    name
}

/// One entry per distinct raw function name.
struct Entry {
    name: Box<[u8]>,
    class: u8,
    root: Option<crate::model::Context>,
    /// Seen as a callee anywhere in the trace (any task).
    callee: bool,
}

/// Interns function names: events carry `u32` ids, never strings.
#[derive(Default)]
pub struct Interner {
    map: FxHashMap<Box<[u8]>, u32>,
    entries: Vec<Entry>,
}

impl Interner {
    pub fn intern(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.map.get(name) {
            return id;
        }
        let id = self.entries.len() as u32;
        let norm = normalize(name);
        self.entries.push(Entry {
            name: name.into(),
            class: classify(norm),
            root: root_context(norm),
            callee: false,
        });
        self.map.insert(name.into(), id);
        id
    }

    /// The id of `name`, if it was interned.
    pub fn id(&self, name: &[u8]) -> Option<u32> {
        self.map.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn name(&self, id: u32) -> &[u8] {
        &self.entries[id as usize].name
    }

    /// Class bits of a function; `NONE` has none.
    #[inline]
    pub fn class(&self, id: u32) -> u8 {
        self.entries.get(id as usize).map_or(0, |e| e.class)
    }

    #[inline]
    pub fn root(&self, id: u32) -> Option<crate::model::Context> {
        self.entries.get(id as usize).and_then(|e| e.root)
    }

    #[inline]
    pub fn mark_callee(&mut self, id: u32) {
        if let Some(e) = self.entries.get_mut(id as usize) {
            e.callee = true;
        }
    }

    pub fn is_callee(&self, id: u32) -> bool {
        self.entries.get(id as usize).is_some_and(|e| e.callee)
    }
}

/// What a ring buffer reader's wake-up runs on the traced CPU: in the
/// target's trace it is the reader's doing, not the program's. One name a
/// line in `reader_artefacts.txt`, which `scripts/compare-table.py` reads
/// too.
pub fn reader_artefacts() -> impl Iterator<Item = &'static str> {
    include_str!("reader_artefacts.txt").lines()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_functions_of_a_system_call_are_also_kernel_entries() {
        for n in SYSCALL_KERNEL_ENTRY_NAMES {
            let c = classify(n.as_bytes());
            assert!(
                c & class::SYSCALL_ENTRY != 0 && c & class::KERNEL_ENTRY != 0,
                "{n}"
            );
        }
        for n in SYSCALL_PATH_NAMES {
            let c = classify(n.as_bytes());
            assert!(
                c & class::SYSCALL_ENTRY != 0 && c & class::KERNEL_ENTRY == 0,
                "{n}"
            );
        }
    }

    #[test]
    fn normalize_strips_compiler_suffixes() {
        let n = |s: &str| String::from_utf8(normalize(s.as_bytes()).to_vec()).unwrap();
        assert_eq!(
            n("__mutex_unlock_slowpath.constprop.0"),
            "__mutex_unlock_slowpath"
        );
        assert_eq!(n("count.constprop.0.isra.0"), "count");
        assert_eq!(n("getname_flags.part.0"), "getname_flags");
        assert_eq!(n("do_execveat_common.isra.0"), "do_execveat_common");
        assert_eq!(n("foo.cold"), "foo");
        assert_eq!(n("bar.llvm.123456"), "bar");
        assert_eq!(n("plain"), "plain");
        assert_eq!(n("name.with.dots"), "name.with.dots");
        assert_eq!(n(".cold"), ".cold");
        // Cut at the first suffix, numbered or not, of any of the words.
        assert_eq!(n("a.isra.0.cold"), "a");
        assert_eq!(n("copy_page.localalias"), "copy_page");
        assert_eq!(n("f.lto_priv.0"), "f");
        assert_eq!(n("g.constprop"), "g");
    }

    #[test]
    fn classes() {
        assert_eq!(classify(b"__x64_sys_execve"), class::EXECVE);
        assert_eq!(classify(b"__arm64_sys_execve"), class::EXECVE);
        assert_eq!(classify(b"do_execveat_common"), class::EXECVE);
        assert_eq!(classify(b"bprm_execve"), 0);
        assert_eq!(classify(b"do_group_exit"), class::EXIT);
        assert_eq!(classify(b"el0_da"), class::USER_ENTRY);
        assert_eq!(classify(b"el0t_64_irq_handler"), class::USER_ENTRY);
        assert_eq!(classify(b"el0_svc"), class::RET_USER | class::EL0_SYNC);
        assert_eq!(
            classify(b"do_el0_svc"),
            class::KERNEL_ENTRY | class::SYSCALL_ENTRY
        );
        assert_eq!(
            classify(b"x64_sys_call"),
            class::KERNEL_ENTRY | class::SYSCALL_ENTRY
        );
        assert_eq!(classify(b"__arm64_sys_getpid"), class::SYSCALL_FN);
        assert_eq!(classify(b"__do_sys_sched_yield"), class::SYSCALL_FN);
        assert_eq!(
            classify(b"__x64_sys_exit_group"),
            class::EXIT | class::SYSCALL_FN
        );
        assert_eq!(classify(b"syscall_exit_to_user_mode"), class::RET_USER);
        assert_eq!(classify(b"do_user_addr_fault"), class::KERNEL_ENTRY);
        assert_eq!(
            classify(b"sysvec_apic_timer_interrupt"),
            class::KERNEL_ENTRY
        );
        assert_eq!(classify(b"schedule"), 0);
    }

    #[test]
    fn interner_reuses_ids_and_classifies_normalised() {
        let mut i = Interner::default();
        let a = i.intern(b"do_execveat_common.isra.0");
        let b = i.intern(b"getname");
        assert_eq!(i.intern(b"do_execveat_common.isra.0"), a);
        assert_ne!(a, b);
        assert_eq!(i.class(a), class::EXECVE);
        assert_eq!(i.class(NONE), 0);
        assert!(!i.is_callee(b));
        i.mark_callee(b);
        assert!(i.is_callee(b));
        assert_eq!(i.name(a), b"do_execveat_common.isra.0");
        assert_eq!(i.len(), 2);
    }
}
