use std::path::Path;

fn main() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../linker/payload.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    // No C runtime, no libc, no dynamic linker: 1 MiB between the entry and the loop.
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--defsym=PADDING=0x100000",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
}
