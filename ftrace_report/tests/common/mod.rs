//! The real trace the tests run on, decompressed once per test binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const FIXTURE: &str = "x86_64-debian6.1-original-function-min.trace.xz";

pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A directory with `fixture.trace`: the C original tracing `min` on
/// Debian's 6.1 x86_64 kernel (function tracer, launcher and other tasks
/// mixed in, CRLF line ends, a kernel message glued into a line).
pub fn workdir(name: &str) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        fs::create_dir_all(&dir).unwrap();
        let xz = manifest().join("tests/data").join(FIXTURE);
        let out = Command::new("xz")
            .arg("-dc")
            .arg(&xz)
            .output()
            .expect("xz not found: install xz-utils (scripts/deps.sh)");
        assert!(out.status.success(), "xz -dc {}: {:?}", xz.display(), out);
        fs::write(dir.join("fixture.trace"), &out.stdout).unwrap();
        dir
    })
}

pub fn fixture(name: &str) -> Vec<u8> {
    fs::read(workdir(name).join("fixture.trace")).unwrap()
}
