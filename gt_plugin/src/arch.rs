//! What differs between the guest architectures: the registers the plugin
//! reads, where `current` is, and where an `execve`'s path is. Pure logic
//! over a [`Guest`] that reads the vCPU's registers and memory.

/// The vCPU's state as the plugin reads it.
pub trait Guest {
    /// The register at index `i` of [`Arch::registers`].
    fn reg(&self, i: usize) -> Option<u64>;
    /// 8 bytes of guest memory at a virtual address, little-endian.
    fn read_u64(&self, addr: u64) -> Option<u64>;
}

/// The task a function entry runs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    /// `current`; `None` when the vCPU does not tell it (arm64's entry
    /// stubs from user mode).
    pub task: Option<u64>,
    /// An entry from user mode still holding user state: arm64's entry
    /// stubs before `SP_EL0` is `current`, x86's entries before `swapgs`.
    pub user: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Arch {
    /// `current` is in `SP_EL0` while in the kernel.
    Aarch64,
    /// `current` is `pcpu_hot.current_task` (its first member), a per-CPU
    /// variable at offset `pcpu_hot` from the kernel's GS base.
    X86_64 { pcpu_hot: u64 },
}

/// `regs->di` in x86_64's `struct pt_regs` (r15 r14 r13 r12 bp bx r11 r10
/// r9 r8 ax cx dx si di ...: the 15th 8-byte member).
const X86_PT_REGS_DI: u64 = 14 * 8;

impl Arch {
    /// The architecture of QEMU's target `target`, with what it needs from
    /// the kernel's System.map `map`.
    pub fn new(target: &str, map: &str) -> Result<Arch, String> {
        match target {
            "aarch64" => Ok(Arch::Aarch64),
            "x86_64" => match symbol(map, "pcpu_hot") {
                Some(pcpu_hot) => Ok(Arch::X86_64 { pcpu_hot }),
                None => Err("no pcpu_hot: not an x86_64 Linux 6.12 System.map".into()),
            },
            _ => Err(format!(
                "needs aarch64 or x86_64 system emulation, not {target}"
            )),
        }
    }

    /// The system call wrapper that takes `execve`'s `struct pt_regs *`.
    pub fn execve(&self) -> &'static str {
        match self {
            Arch::Aarch64 => "__arm64_sys_execve",
            Arch::X86_64 { .. } => "__x64_sys_execve",
        }
    }

    /// The registers [`Guest::reg`] reads, by their names in QEMU's gdb XML.
    pub fn registers(&self) -> &'static [&'static str] {
        match self {
            Arch::Aarch64 => &["SP_EL0", "x0"],
            Arch::X86_64 { .. } => &["gs_base", "k_gs_base", "rdi"],
        }
    }

    /// The task of a function entry. `None`: the vCPU's state does not
    /// give one (x86 before the per-CPU areas are set up).
    pub fn current(&self, g: &impl Guest) -> Option<Current> {
        match self {
            Arch::Aarch64 => {
                let sp_el0 = g.reg(0)?;
                let kernel = sp_el0 >> 48 == 0xffff;
                Some(Current {
                    task: kernel.then_some(sp_el0),
                    user: !kernel,
                })
            }
            Arch::X86_64 { pcpu_hot } => {
                // From user mode the kernel's GS base is in KERNEL_GS_BASE
                // until `swapgs` (or FRED's entry) exchanges the two.
                let gs = g.reg(0)?;
                let user = gs >> 63 == 0;
                let base = if user { g.reg(1)? } else { gs };
                if base >> 63 == 0 {
                    return None;
                }
                Some(Current {
                    task: Some(g.read_u64(base.wrapping_add(*pcpu_hot))?),
                    user,
                })
            }
        }
    }

    /// The user address of the path at the entry of [`Arch::execve`]:
    /// its argument is the `pt_regs` of the system call, the path its
    /// first argument register.
    pub fn execve_path(&self, g: &impl Guest) -> Option<u64> {
        match self {
            Arch::Aarch64 => g.read_u64(g.reg(1)?),
            Arch::X86_64 { .. } => g.read_u64(g.reg(2)?.wrapping_add(X86_PT_REGS_DI)),
        }
    }
}

/// The address of `name` in a System.map, whatever its type.
fn symbol(map: &str, name: &str) -> Option<u64> {
    map.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (addr, _, n) = (f.next()?, f.next()?, f.next()?);
        (n == name).then(|| u64::from_str_radix(addr, 16).ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fake {
        regs: Vec<u64>,
        mem: HashMap<u64, u64>,
    }

    impl Guest for Fake {
        fn reg(&self, i: usize) -> Option<u64> {
            self.regs.get(i).copied()
        }
        fn read_u64(&self, addr: u64) -> Option<u64> {
            self.mem.get(&addr).copied()
        }
    }

    const MAP: &str = "0000000000000000 D __per_cpu_start\n000000000001f000 D pcpu_hot\n\
                       ffffffff81000000 T _text\n";
    const PERCPU: u64 = 0xffff_8880_7fc0_0000;
    const TASK: u64 = 0xffff_8880_0123_4000;

    #[test]
    fn targets_and_symbols() {
        assert_eq!(Arch::new("aarch64", ""), Ok(Arch::Aarch64));
        assert_eq!(
            Arch::new("x86_64", MAP),
            Ok(Arch::X86_64 { pcpu_hot: 0x1f000 })
        );
        assert!(Arch::new("x86_64", "ffff800080000000 T _text\n")
            .unwrap_err()
            .contains("no pcpu_hot"));
        assert!(Arch::new("riscv64", MAP).unwrap_err().contains("riscv64"));
        assert_eq!(Arch::Aarch64.execve(), "__arm64_sys_execve");
        assert_eq!(Arch::new("x86_64", MAP).unwrap().registers().len(), 3);
    }

    #[test]
    fn arm64_current_is_sp_el0_in_the_kernel() {
        let a = Arch::Aarch64;
        let mut g = Fake {
            regs: vec![0xffff_0000_0100_0000, 0xffff_0000_0200_0000],
            mem: HashMap::from([(0xffff_0000_0200_0000, 0x4000_1000)]),
        };
        assert_eq!(
            a.current(&g),
            Some(Current {
                task: Some(0xffff_0000_0100_0000),
                user: false
            })
        );
        assert_eq!(a.execve_path(&g), Some(0x4000_1000));
        g.regs[0] = 0x0000_ffff_f000_0000;
        assert_eq!(
            a.current(&g),
            Some(Current {
                task: None,
                user: true
            })
        );
    }

    #[test]
    fn x86_current_is_read_through_the_kernel_gs_base() {
        let a = Arch::new("x86_64", MAP).unwrap();
        let regs = 0xffff_c900_0001_3f58;
        let mut g = Fake {
            regs: vec![PERCPU, 0, regs],
            mem: HashMap::from([(PERCPU + 0x1f000, TASK), (regs + 112, 0x4000_1000)]),
        };
        let kernel = Current {
            task: Some(TASK),
            user: false,
        };
        assert_eq!(a.current(&g), Some(kernel));
        assert_eq!(a.execve_path(&g), Some(0x4000_1000));
        // Before swapgs: the user's GS base, the kernel's in KERNEL_GS_BASE.
        g.regs[..2].copy_from_slice(&[0x7f00_0000_0000, PERCPU]);
        assert_eq!(
            a.current(&g),
            Some(Current {
                user: true,
                ..kernel
            })
        );
        // Early boot: no per-CPU area yet.
        g.regs[..2].copy_from_slice(&[0, 0]);
        assert_eq!(a.current(&g), None);
    }
}
