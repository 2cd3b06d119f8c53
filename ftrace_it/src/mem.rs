//! The functions the compiler may call for block copies and compares.
//! Without libc nothing else provides them: compiler_builtins only exports
//! its own versions on targets that have no C library, and linux-gnu and
//! linux-musl are not among them. The copies handled here are small (file
//! contents, paths), so plain byte loops do; volatile accesses keep LLVM from
//! turning the loops back into calls to these very functions.

use core::ptr::{read_volatile, write_volatile};

// The compiler calls these with the C library's contracts: `n` bytes are
// valid to read at each source and to write at each destination (and for
// `strlen`, a NUL ends the string). Each SAFETY comment below relies on it.

/// # Safety
///
/// C's `memcpy`: `src` readable and `dst` writable for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: i < n, within both buffers.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
    dst
}

/// # Safety
///
/// C's `memmove`: `src` readable and `dst` writable for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Copy in the direction that reads each byte before it is overwritten.
    if (dst as usize) <= (src as usize) {
        for i in 0..n {
            // SAFETY: i < n, within both buffers.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: i < n, within both buffers.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        }
    }
    dst
}

/// # Safety
///
/// C's `memset`: `dst` writable for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: i < n, within the buffer.
        unsafe { write_volatile(dst.add(i), c as u8) };
    }
    dst
}

/// # Safety
///
/// C's `memcmp`: `a` and `b` readable for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: i < n, within both buffers.
        let (x, y) = unsafe { (read_volatile(a.add(i)), read_volatile(b.add(i))) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

/// # Safety
///
/// As `memcmp`.
#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract is memcmp's.
    unsafe { memcmp(a, b, n) }
}

/// `CStr::from_ptr` counts with it in unoptimised builds.
///
/// # Safety
///
/// `s` points to a NUL-terminated string.
#[no_mangle]
unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: every byte up to and including the NUL is readable.
    while unsafe { read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}
