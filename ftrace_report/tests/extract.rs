//! `ftrace_report extract`: files sent with the console channel come back
//! byte for byte from a messy capture, and damage is reported, not hidden.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/x86_64-debian6.1-original-function-min.trace.xz"
);

fn run_extract(capture: &[u8], out_dir: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftrace_report"))
        .args(["extract", "-", "-o"])
        .arg(out_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(capture).unwrap();
    child.wait_with_output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ftrace-report-extract-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// What a serial console capture looks like: CRLF line ends, kernel
/// messages between frames and one inside a frame line.
fn messy_capture(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut frames = Vec::new();
    for (name, data) in files {
        console_frames::encode(name, data, &mut frames).unwrap();
    }
    let text = String::from_utf8(frames).unwrap();
    let mut capture = String::from("Booting Linux on physical CPU 0x0\r\n");
    for (i, line) in text.lines().enumerate() {
        if i % 3 == 1 {
            capture.push_str(&format!("[   {i}.123456] random: crng init done\r\n"));
        }
        if i == 5 {
            let (head, tail) = line.split_at(line.len() / 2);
            capture.push_str(&format!(
                "{head}\r\n[    7.000001] sched: RT throttling activated\r\n{tail}\r\n"
            ));
        } else {
            capture.push_str(line);
            capture.push_str("\r\n");
        }
    }
    capture.push_str("reboot: Power down\r\n");
    capture.into_bytes()
}

#[test]
fn extract_reassembles_files_byte_exact_from_a_messy_capture() {
    let trace = std::fs::read(FIXTURE).unwrap();
    let small = b"# ftrace_it.version: 0.1.0\nline two\n";
    let out = scratch("ok");
    let result = run_extract(
        &messy_capture(&[("min.trace.xz", &trace), ("small", small)]),
        &out,
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(std::fs::read(out.join("min.trace.xz")).unwrap(), trace);
    assert_eq!(std::fs::read(out.join("small")).unwrap(), small);
    let listing = String::from_utf8(result.stdout).unwrap();
    assert!(
        listing.contains(&format!("min.trace.xz {} ", trace.len())),
        "listing: {listing}"
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn extract_reports_a_damaged_file_and_keeps_the_intact_one() {
    let damaged: Vec<u8> = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect();
    let mut capture = messy_capture(&[("damaged", &damaged), ("intact", b"intact bytes")]);
    // One flipped base64 character in the second data frame of "damaged".
    let at = capture
        .windows(16)
        .position(|w| w == b"@@MPT D damaged ")
        .and_then(|first| {
            let from = first + 16;
            capture[from..]
                .windows(16)
                .position(|w| w == b"@@MPT D damaged ")
                .map(|p| from + p)
        })
        .unwrap()
        + 30;
    capture[at] = if capture[at] == b'A' { b'B' } else { b'A' };
    let out = scratch("damaged");
    let result = run_extract(&capture, &out);
    assert_eq!(
        result.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        !out.join("damaged").exists(),
        "a damaged file must not be written"
    );
    assert_eq!(std::fs::read(out.join("intact")).unwrap(), b"intact bytes");
    let stderr = String::from_utf8(result.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn extract_without_frames_is_an_input_error() {
    let out = scratch("none");
    let result = run_extract(b"Booting Linux\r\nlogin: \r\n", &out);
    assert_eq!(result.status.code(), Some(4));
    assert!(!out.exists(), "nothing to write, no directory made");
}
