//! `min`: the smallest program the kernel can run. `_start` adds two numbers
//! and spins forever without a single system call, so that a trace of it
//! shows only what the kernel needs to load and run a program.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".globl _start",
    "_start:",
    "    mov eax, 1",
    "    add eax, 2",
    "2:  jmp 2b",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".globl _start",
    "_start:",
    "    mov w0, #1",
    "    add w0, w0, #2",
    "2:  b 2b",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
