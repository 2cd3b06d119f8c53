//! `ftrace_it`: runs one program pinned to one CPU and traces it, and only
//! it, with ftrace; then puts every setting it changed back.
//!
//! A static binary without libc: `_start` hands the initial stack pointer to
//! Rust, system calls go through rustix's raw Linux backend, all buffers have
//! a fixed size and nothing is allocated.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod args;
mod child;
mod fsutil;
mod irq;
mod journal;
mod mem;
mod out;
mod record;
mod saved;
mod session;
mod signals;
mod tasks;
mod tracefs;

use args::{Argv, Parsed};
use out::{stdout, write_all, Buf, Fail};

// The kernel starts us with argc at the stack pointer, then argv, NULL, envp,
// NULL, auxv. Keep the stack aligned for the call and never return.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "    xor ebp, ebp",
    "    mov rdi, rsp",
    "    and rsp, -16",
    "    call ftrace_it_main",
    "    ud2",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "    mov x29, #0",
    "    mov x30, #0",
    "    mov x0, sp",
    "    bl ftrace_it_main",
    "    brk #0",
);

/// # Safety
///
/// Called only by `_start`, with the stack pointer the kernel gave it.
#[no_mangle]
unsafe extern "C" fn ftrace_it_main(sp: *const usize) -> ! {
    // SAFETY: `sp` is the initial stack pointer, as `from_stack` needs.
    let code = run(unsafe { Argv::from_stack(sp) });
    rustix::runtime::exit_group(code as i32)
}

fn run(a: Argv) -> u8 {
    match args::parse(a) {
        Err(Fail(code)) => code,
        Ok(Parsed::Help) => {
            let _ = write_all(stdout(), args::HELP);
            0
        }
        Ok(Parsed::Version) => {
            let mut b = Buf::<32>::new();
            b.s(b"ftrace_it ").s(args::VERSION).s(b"\n");
            let _ = write_all(stdout(), b.bytes());
            0
        }
        Ok(Parsed::Run(o)) => session::run(&o, a),
        Ok(Parsed::Restore(journal)) => journal::restore(journal),
    }
}

/// No location, no formatting: with the `PanicInfo` unused, LTO drops the
/// panic messages and source paths from the binary. Never expected to run.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    out::say(out::msg().s(b"internal error"));
    rustix::runtime::exit_group(out::E_IO as i32)
}

/// The prebuilt `core` refers to the unwinding personality even though this
/// binary aborts on panic; nothing ever calls it.
#[no_mangle]
extern "C" fn rust_eh_personality() {}
