use std::path::Path;

fn main() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../linker/payload.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    // No C runtime, no libc, no dynamic linker: the kernel jumps to `_start`.
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--defsym=PADDING=0",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
}
