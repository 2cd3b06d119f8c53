//! `tailor compare` refuses footprints made on another kernel than the
//! build tree it is told they belong to: never a comparison, and so never
//! a config reported to work, from the wrong kernel's runs.

use std::fs;
use std::path::Path;
use std::process::Command;

use kernel_index::fake_tree::FakeTree;

#[test]
fn a_footprint_of_another_kernel_is_refused() {
    let (start, tailored) = (FakeTree::new(), FakeTree::new());
    let runs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compare-other-kernel");
    let _ = fs::remove_dir_all(&runs);
    for side in ["start", "tailored"] {
        fs::create_dir_all(runs.join(side)).unwrap();
    }
    // Both sides' footprints say they were made on the tailored tree.
    let made_on = tailored.build().display().to_string();
    for side in ["start", "tailored"] {
        let fp = kernel_footprint::FootprintMap {
            kernel_build: made_on.clone(),
            ..Default::default()
        };
        fs::write(
            runs.join(side).join("min.1.footprint.json"),
            serde_json::to_string(&fp).unwrap(),
        )
        .unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .arg("compare")
        .arg("--start")
        .arg(runs.join("start"))
        .arg("--tailored")
        .arg(runs.join("tailored"))
        .args(["--id", "min.1"])
        .arg("--start-build")
        .arg(start.build())
        .arg("--tailored-build")
        .arg(tailored.build())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(out.stdout.is_empty(), "no comparison");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("min.1.footprint.json: a footprint of the kernel built in")
            && err.contains(&made_on),
        "{err}"
    );
}
