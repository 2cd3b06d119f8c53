//! No build path in a target binary: a home, cargo-home, registry or
//! workspace path would make its bytes depend on where it was built and
//! leak the builder's file system. Source locations (`src/....rs`, the
//! panic locations of our crates and of rustix) are refused too: the panic
//! handler of ftrace_it ignores its `PanicInfo`, so LTO drops them all, and
//! min and min.large have no panic path.

use payload_checks::{binary, ARCHES};
use std::path::Path;

/// The byte strings no target binary may contain.
fn forbidden() -> Vec<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    let mut v = vec![
        "/root/".to_string(),
        "/home/".to_string(),
        "/.cargo/".to_string(),
        "/registry/src/".to_string(),
        "/rustc/".to_string(),
        workspace.display().to_string(),
        cargo_home,
    ];
    if home != "/" {
        v.push(home);
    }
    v
}

/// Where `data` holds a Rust source file's name: `x.rs` not followed by a
/// letter or digit.
fn source_path(data: &[u8]) -> Option<usize> {
    (1..data.len()).find(|&i| {
        data[i..].starts_with(b".rs")
            && (data[i - 1].is_ascii_alphanumeric() || data[i - 1] == b'_')
            && !data.get(i + 3).is_some_and(u8::is_ascii_alphanumeric)
    })
}

fn context(data: &[u8], at: usize) -> String {
    let start = at.saturating_sub(60);
    String::from_utf8_lossy(&data[start..(at + 40).min(data.len())]).into_owned()
}

#[test]
fn no_target_binary_contains_a_build_path_or_a_source_location() {
    let forbidden = forbidden();
    for arch in ARCHES {
        for name in ["ftrace_it", "min", "min.large"] {
            let data = std::fs::read(binary(arch, name)).unwrap();
            for f in &forbidden {
                if let Some(at) = data.windows(f.len()).position(|w| w == f.as_bytes()) {
                    panic!("{arch}/{name} contains {f:?}: {:?}", context(&data, at));
                }
            }
            if let Some(at) = source_path(&data) {
                panic!(
                    "{arch}/{name} contains a source location: {:?}",
                    context(&data, at)
                );
            }
        }
    }
}
