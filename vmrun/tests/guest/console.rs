//! The console copy of a trace: byte-exact, and through CRLF and kernel
//! messages mixed into it.

use super::common::*;
use std::fs;

fn fgraph_copy(capture: &[u8]) -> Vec<u8> {
    let d = console_frames::decode(capture);
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    d.files
        .into_iter()
        .find(|f| f.name == "fgraph.trace")
        .expect("fgraph.trace sent over the console")
        .data
}

#[test]
fn console_copy_from_the_guest_is_byte_exact() {
    let capture = fs::read(results().join("boot.log")).unwrap();
    let semihosted = fs::read(results().join("fgraph.trace")).unwrap();
    let noise = String::from_utf8_lossy(&capture)
        .matches("mpt-noise ")
        .count();
    assert!(
        noise > 0,
        "no kernel messages were printed during the console copy"
    );
    assert_eq!(fgraph_copy(&capture), semihosted);
}

#[test]
fn console_copy_survives_crlf_and_more_interleaved_messages() {
    let capture = fs::read(results().join("boot.log")).unwrap();
    let semihosted = fs::read(results().join("fgraph.trace")).unwrap();
    // What a terminal capture adds: CRLF, and messages landing anywhere in a
    // line, every 97th line (deterministic, so a failure reproduces).
    let text = String::from_utf8_lossy(&capture).into_owned();
    let mut noisy = String::with_capacity(text.len() * 11 / 10);
    for (n, line) in text.lines().enumerate() {
        if n % 97 == 13 && line.len() > 2 {
            let mut cut = (n * 31) % line.len();
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            noisy.push_str(&line[..cut]);
            noisy.push_str(&format!(
                "[ {n}.000000] injected message\r\n[ {n}.000001] and a second line\r\n"
            ));
            noisy.push_str(&line[cut..]);
        } else {
            noisy.push_str(line);
        }
        noisy.push_str("\r\n");
    }
    let d = console_frames::decode(noisy.as_bytes());
    assert!(d.repaired > 10, "only {} frames needed repair", d.repaired);
    assert_eq!(fgraph_copy(noisy.as_bytes()), semihosted);
}
