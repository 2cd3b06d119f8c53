//! `tailor bisect` end to end with a fake step program instead of a kernel
//! build and boot: it passes a kernel whose allconfig has BINFMT_ELF and
//! SHMEM, as the tailored kernel would need them had they been dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn tailor(dir: &Path, try_prog: &str) -> std::process::Output {
    let arg = |name: &str| dir.join(name).display().to_string();
    Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["bisect", "--allconfig", &arg("allconfig")])
        .args(["--start-config", &arg("start.config")])
        .args(["--tailored-config", &arg("tailored.config")])
        .args(["--try", try_prog, "--dir", &arg("steps")])
        .args(["--needs-out", &arg("bisect.tsv")])
        .output()
        .unwrap()
}

fn setup(dir: &Path, needed: &str) -> String {
    fs::write(dir.join("allconfig"), "CONFIG_PRINTK=y\nCONFIG_TTY=y\n").unwrap();
    let mut start =
        String::from("CONFIG_PRINTK=y\nCONFIG_TTY=y\nCONFIG_HZ=250\nCONFIG_MODULES=m\n");
    for s in ["AIO", "BINFMT_ELF", "FUTEX", "MEMBARRIER", "SHMEM", "TMPFS"] {
        start.push_str(&format!("CONFIG_{s}=y\n"));
    }
    fs::write(dir.join("start.config"), start).unwrap();
    fs::write(
        dir.join("tailored.config"),
        "CONFIG_PRINTK=y\nCONFIG_TTY=y\n# CONFIG_AIO is not set\n",
    )
    .unwrap();
    // The fake kernel: passes when every needed line is in its allconfig;
    // the allconfig must keep the required symbols.
    let prog = dir.join("try.sh");
    fs::write(
        &prog,
        format!(
            "#!/bin/sh\nmkdir -p \"$2\"\ngrep -q '^CONFIG_PRINTK=y$' \"$1\" || exit 3\n\
             for s in {needed}; do grep -q \"^CONFIG_$s=y$\" \"$1\" || \
             {{ echo \"no init: lacks $s\" >\"$2/note\"; exit 1; }}; done\n\
             echo equal >\"$2/note\"\n"
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&prog).status().unwrap();
    prog.display().to_string()
}

#[test]
fn finds_the_dropped_options_with_their_steps() {
    let dir = scratch("bisect-finds");
    let prog = setup(&dir, "BINFMT_ELF SHMEM");
    let out = tailor(&dir, &prog);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("bisect: 6 candidates"), "{stderr}");
    let needs = fs::read_to_string(dir.join("bisect.tsv")).unwrap();
    let found: Vec<&str> = needs
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(found, ["SHMEM", "BINFMT_ELF"]);
    assert!(
        needs.contains("SHMEM\tbisected: step ") && needs.contains("failed: no init: lacks"),
        "{needs}"
    );
    let steps = fs::read_to_string(dir.join("steps/steps.txt")).unwrap();
    let last = steps.lines().last().unwrap();
    assert!(
        last.contains(": passed: equal: SHMEM BINFMT_ELF"),
        "{steps}"
    );
    // A step's allconfig: the required symbols and the options tried, sorted.
    let first = fs::read_to_string(dir.join("steps/step-1.allconfig")).unwrap();
    assert!(
        first.starts_with("CONFIG_AIO=y\nCONFIG_BINFMT_ELF=y\n"),
        "{first}"
    );
    assert!(first.contains("CONFIG_PRINTK=y\n") && !first.contains("HZ"));
}

#[test]
fn nothing_to_find_and_a_step_that_stops() {
    let dir = scratch("bisect-none");
    let prog = setup(&dir, "NOT_IN_THE_STARTING_CONFIG");
    let out = tailor(&dir, &prog);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("even with all 6 candidates"));
    assert_eq!(fs::read_to_string(dir.join("bisect.tsv")).unwrap(), "");

    let dir = scratch("bisect-stops");
    setup(&dir, "BINFMT_ELF");
    let out = tailor(&dir, "/bin/false-and-missing");
    assert_eq!(out.status.code(), Some(3));
}
