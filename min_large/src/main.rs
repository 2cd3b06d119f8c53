//! `min.large`: `min` with 1 MiB of code between its entry and its loop.
//! `_start` (in `.text.entry`) jumps to `spin` (in `.text.spin`); the linker
//! script `linker/payload.ld` places 1 MiB of padding between the two.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".globl _start",
    "_start:",
    "    jmp spin",
    ".section .text.spin, \"ax\"",
    "spin:",
    "    mov eax, 1",
    "    add eax, 2",
    "2:  jmp 2b",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".globl _start",
    "_start:",
    "    b spin",
    ".section .text.spin, \"ax\"",
    "spin:",
    "    mov w0, #1",
    "    add w0, w0, #2",
    "2:  b 2b",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
