//! `tailor required`: the symbols every traced run's footprint has, and all
//! of the ground truth's (it is exact for its run), each with its reason.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `footprint --json` object with these `=y` build symbols.
fn footprint(dir: &Path, name: &str, symbols: &[&str]) -> String {
    let path = dir.join(name);
    fs::write(&path, common::footprint_json("/k", symbols, 2)).unwrap();
    path.display().to_string()
}

/// `tailor required` with DIR's needs.tsv, writing DIR/allconfig and
/// DIR/required.tsv.
fn required(dir: &Path, inputs: &[&str]) -> std::process::Output {
    let arg = |name: &str| dir.join(name).display().to_string();
    Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["required", "--needs", &arg("needs.tsv")])
        .args(inputs)
        .args(["--allconfig", &arg("allconfig")])
        .args(["--reasons", &arg("required.tsv")])
        .output()
        .unwrap()
}

#[test]
fn the_ground_truth_adds_all_its_symbols_and_the_runs_those_of_every_run() {
    let dir = scratch("required-groundtruth");
    fs::write(dir.join("needs.tsv"), "PRINTK\tkernel messages\n").unwrap();
    let run1 = footprint(&dir, "1.json", &["FUTEX", "AIO"]);
    let run2 = footprint(&dir, "2.json", &["FUTEX"]);
    let gt = footprint(&dir, "gt.json", &["FUTEX", "GENERIC_HWEIGHT"]);
    let out = required(
        &dir,
        &[
            "--footprint",
            &format!("min.1={run1}"),
            "--footprint",
            &format!("min.2={run2}"),
            "--groundtruth",
            &format!("min.groundtruth={gt}"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        fs::read_to_string(dir.join("allconfig")).unwrap(),
        "CONFIG_FUTEX=y\nCONFIG_GENERIC_HWEIGHT=y\nCONFIG_PRINTK=y\n",
        "AIO is in one run only: noise"
    );
    let reasons = fs::read_to_string(dir.join("required.tsv")).unwrap();
    assert!(
        reasons.contains("GENERIC_HWEIGHT\tmin.groundtruth: builds 1 object(s) with 2 function(s)"),
        "{reasons}"
    );
    assert!(reasons.contains("FUTEX\tmin.groundtruth:"), "{reasons}");
    assert!(reasons.contains("FUTEX\tmin.1:"), "{reasons}");

    let bad = required(
        &dir,
        &[
            "--footprint",
            &format!("min.1={run1}"),
            "--groundtruth",
            &gt,
        ],
    );
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}
