//! The real traces the tests run on (tests/data/*.xz), decompressed on
//! first use into the test binary's temporary directory.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The C original tracing `min` on Debian's 6.1 x86_64 kernel (function
/// tracer, launcher and other tasks mixed in, CRLF line ends, a kernel
/// message glued into a line).
pub const X86_FIXTURE: &str = "x86_64-debian6.1-original-function-min.trace";
/// `ftrace_it -o` in the aarch64 guest (Linux 6.12.117): function tracer.
pub const ARM_MIN: &str = "aarch64-6.12-function-min.trace";
pub const ARM_MIN_LARGE: &str = "aarch64-6.12-function-min.large.trace";
/// The same with function_graph (proc column, irq markers).
pub const ARM_GRAPH: &str = "aarch64-6.12-function_graph-min.trace";

pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn workdir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ftrace_report-tests");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Path of the decompressed trace `name` (one of the constants).
pub fn trace(name: &str) -> PathBuf {
    static DONE: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let path = workdir().join(name);
    if done
        .get_or_insert_with(HashSet::new)
        .insert(name.to_string())
    {
        let xz = manifest().join("tests/data").join(format!("{name}.xz"));
        let out = Command::new("xz")
            .arg("-dc")
            .arg(&xz)
            .output()
            .expect("xz not found: install xz-utils (scripts/deps.sh)");
        assert!(out.status.success(), "xz -dc {}: {:?}", xz.display(), out);
        // Written under a temporary name: another test binary may read it.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, &out.stdout).unwrap();
        fs::rename(&tmp, &path).unwrap();
    }
    path
}

pub fn read(name: &str) -> Vec<u8> {
    fs::read(trace(name)).unwrap()
}
