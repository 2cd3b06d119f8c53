//! The loop (`tailor::tailoring::run`) over a made-up lab instead of
//! kernel builds and guest boots: a "kernel" is a directory with the
//! `.config` of its allconfig, a "boot" writes footprints of fixed build
//! symbols, and the comparison fails by the kernel's config (or by the
//! luck of a boot, for the timing case).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use tailor::tailoring::{self, Compared, Lab, Settings, Stop, Summary};

/// Symbols of the starting config beside the needed ones.
const START: [&str; 8] = [
    "AIO",
    "ADVISE_SYSCALLS",
    "BINFMT_ELF",
    "FUTEX",
    "MEMBARRIER",
    "PRINTK",
    "SHMEM",
    "TMPFS",
];

struct Fake {
    dir: PathBuf,
    /// The footprints' `=y` build symbols.
    footprint: Vec<&'static str>,
    /// Without it, the comparison has an unexplained difference whose
    /// option the comparison names for the add-back.
    callers_option: Option<&'static str>,
    /// Without it, the difference comes in every boot but the fresh ones
    /// of the confirmation: a timing difference that looks like config.
    flaky_option: Option<&'static str>,
    kernels: usize,
}

fn symbols(kernel: &Path) -> BTreeSet<String> {
    fs::read_to_string(kernel.join(".config"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("CONFIG_")?.strip_suffix("=y"))
        .map(String::from)
        .collect()
}

impl Lab for Fake {
    fn kernel(&mut self, allconfig: Option<&Path>) -> Result<PathBuf, Stop> {
        let config = match allconfig {
            Some(a) => fs::read_to_string(a).unwrap(),
            None => START.iter().map(|s| format!("CONFIG_{s}=y\n")).collect(),
        };
        if config.contains("CONFIG_BROKEN=y") {
            return Err(Stop {
                code: tailoring::BUILD,
                message: "kernel.sh: exit 4".into(),
            });
        }
        self.kernels += 1;
        let k = self.dir.join(format!("kernel-{}", self.kernels));
        fs::create_dir_all(&k).unwrap();
        // Kconfig selects MMU itself.
        fs::write(k.join(".config"), config + "CONFIG_MMU=y\n").unwrap();
        Ok(k)
    }

    fn boot(
        &mut self,
        kernel: &Path,
        results: &Path,
    ) -> Result<Result<vmrun::Report, String>, Stop> {
        if !symbols(kernel).contains("BINFMT_ELF") {
            return Ok(Err(
                "vmrun exit 5: the guest kernel panicked: No working init found".into(),
            ));
        }
        fs::create_dir_all(results).unwrap();
        let json = common::footprint_json(&kernel.display().to_string(), &self.footprint, 1);
        let mut runs = Vec::new();
        for id in ["min.1", "min.2"] {
            let fp = results.join(format!("{id}.footprint.json"));
            fs::write(&fp, &json).unwrap();
            runs.push(vmrun::RunReport {
                id: id.into(),
                exit: Some("137".into()),
                seconds: Some(1.0),
                traced: true,
                reached_duration: true,
                trace: None,
                footprint: Some(fp),
            });
        }
        Ok(Ok(vmrun::Report {
            results: results.to_path_buf(),
            boot_seconds: Some(0.5),
            seconds: 2.0,
            runs,
        }))
    }

    fn compare(
        &mut self,
        _: (&Path, &Path),
        (kernel, results): (&Path, &Path),
    ) -> Result<Compared, Stop> {
        let has = symbols(kernel);
        let mut c = Compared {
            text: "compare: made up\n".into(),
            ..Compared::default()
        };
        if let Some(o) = self.callers_option.filter(|o| !has.contains(*o)) {
            c.unexplained.push("__do_fault (tailored)".into());
            c.add_back = format!("{o}\tadded back: other code ran\n");
        }
        let fresh = results
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("confirm-"));
        if self.flaky_option.is_some_and(|o| !has.contains(o)) && !fresh {
            c.unexplained
                .push("queued_spin_lock_slowpath (tailored)".into());
        }
        Ok(c)
    }

    fn groundtruth(&mut self, _: &Path, _: &Path, _: &Path, _: &Path) -> Result<(), Stop> {
        unreachable!("no ground truth in these tests")
    }
}

fn setup(name: &str, drop: &[&str]) -> (Settings, Fake) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let needs = dir.join("needs.tsv");
    fs::write(&needs, "PRINTK\tkernel messages\nBINFMT_ELF\tguest_init\n").unwrap();
    let s = Settings {
        out: dir.join("out"),
        needs,
        ids: vec!["min.1".into(), "min.2".into()],
        drop: drop.iter().map(|s| s.to_string()).collect(),
        groundtruth: None,
    };
    let fake = Fake {
        dir,
        footprint: vec!["FUTEX"],
        callers_option: None,
        flaky_option: None,
        kernels: 0,
    };
    (s, fake)
}

fn allconfig(s: &Settings) -> String {
    fs::read_to_string(s.out.join("allconfig")).unwrap()
}

fn run(s: &Settings, fake: &mut Fake) -> Summary {
    let summary = tailoring::run(s, fake).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(s.out.join("tailor.json")).unwrap()).unwrap();
    assert_eq!(json["required"], summary.required);
    summary
}

#[test]
fn equal_in_the_first_round() {
    let (s, mut fake) = setup("loop-equal", &[]);
    let summary = run(&s, &mut fake);
    assert_eq!(summary.code(), 0);
    assert_eq!(
        allconfig(&s),
        "CONFIG_BINFMT_ELF=y\nCONFIG_FUTEX=y\nCONFIG_PRINTK=y\n"
    );
    assert_eq!((summary.start_y, summary.tailored_y), (9, 4));
    assert_eq!(fake.kernels, 2, "the starting and the tailored kernel");
    assert!(!s.out.join("add-back.tsv").exists() && !s.out.join("bisect").exists());
    let times = fs::read_to_string(s.out.join("times.tsv")).unwrap();
    assert!(times.contains("starting boot\t0.5\n") && times.contains("tailored boot\t0.5\n"));
}

#[test]
fn the_options_of_the_callers_are_added_back_once() {
    let (s, mut fake) = setup("loop-add-back", &[]);
    fake.callers_option = Some("SHMEM");
    let summary = run(&s, &mut fake);
    assert_eq!(summary.code(), 0);
    assert_eq!(summary.added_back, ["SHMEM"]);
    assert!(allconfig(&s).contains("CONFIG_SHMEM=y\n"));
    assert!(fs::read_to_string(s.out.join("add-back.tsv"))
        .unwrap()
        .starts_with("SHMEM\t"));
    assert!(s.out.join("compare.before-add-back.txt").exists());
    assert_eq!(fake.kernels, 3);
}

#[test]
fn a_dropped_symbol_is_bisected_confirmed_and_derived_again() {
    let (s, mut fake) = setup("loop-bisect", &["BINFMT_ELF"]);
    let summary = run(&s, &mut fake);
    assert_eq!(summary.code(), 0, "{summary:?}");
    assert_eq!(summary.bisected, ["BINFMT_ELF"]);
    assert!(summary.unconfirmed.is_empty());
    let tsv = fs::read_to_string(s.out.join("bisect.tsv")).unwrap();
    assert!(tsv.starts_with("BINFMT_ELF\tbisected: "), "{tsv}");
    assert!(
        tsv.contains("; confirmed: without it failed again (vmrun exit 5: the guest kernel panicked: No working init found), with it passed again"),
        "{tsv}"
    );
    assert!(allconfig(&s).contains("CONFIG_BINFMT_ELF=y\n"));
    let steps = fs::read_to_string(s.out.join("bisect/steps.txt")).unwrap();
    assert!(steps.starts_with("step 1: passed: "), "{steps}");
    // Candidates: AIO ADVISE_SYSCALLS BINFMT_ELF MEMBARRIER SHMEM TMPFS.
    assert!(summary.bisect_kernels >= 4, "{}", summary.bisect_kernels);
}

#[test]
fn a_bisected_option_the_fresh_runs_do_not_confirm_stays_out() {
    // The verdict: a difference that is timing made the bisection
    // find ADVISE_SYSCALLS; without it the fresh runs have no difference.
    let (s, mut fake) = setup("loop-unconfirmed", &[]);
    fake.flaky_option = Some("ADVISE_SYSCALLS");
    let summary = run(&s, &mut fake);
    assert_eq!(summary.bisected, Vec::<String>::new());
    assert_eq!(summary.unconfirmed, ["ADVISE_SYSCALLS"]);
    assert_eq!(fs::read_to_string(s.out.join("bisect.tsv")).unwrap(), "");
    assert!(!allconfig(&s).contains("ADVISE_SYSCALLS"));
    assert_eq!(summary.code(), tailoring::UNEXPLAINED);
    assert_eq!(
        summary.unexplained,
        ["queued_spin_lock_slowpath (tailored)"]
    );
}

#[test]
fn nothing_helps_when_even_every_candidate_fails() {
    // The starting kernel runs; no other kernel boots, not even the one
    // with every candidate.
    let (s, fake) = setup("loop-no-run", &[]);
    let mut lab = NoBoot(fake);
    let summary = tailoring::run(&s, &mut lab).unwrap();
    assert!(!summary.tailored_ran);
    assert_eq!(summary.code(), tailoring::NO_RUN);
    let steps = fs::read_to_string(s.out.join("bisect/steps.txt")).unwrap();
    assert_eq!(steps.lines().count(), 1, "only the step of all candidates");
    assert!(steps.starts_with("step 1: failed: vmrun exit 5"), "{steps}");
}

/// Boots only the starting kernel (the first one built).
struct NoBoot(Fake);

impl Lab for NoBoot {
    fn kernel(&mut self, allconfig: Option<&Path>) -> Result<PathBuf, Stop> {
        self.0.kernel(allconfig)
    }
    fn boot(
        &mut self,
        kernel: &Path,
        results: &Path,
    ) -> Result<Result<vmrun::Report, String>, Stop> {
        if kernel.ends_with("kernel-1") {
            self.0.boot(kernel, results)
        } else {
            Ok(Err(
                "vmrun exit 5: the guest stopped before its init finished".into(),
            ))
        }
    }
    fn compare(&mut self, a: (&Path, &Path), b: (&Path, &Path)) -> Result<Compared, Stop> {
        self.0.compare(a, b)
    }
    fn groundtruth(&mut self, k: &Path, g: &Path, t: &Path, o: &Path) -> Result<(), Stop> {
        self.0.groundtruth(k, g, t, o)
    }
}

#[test]
fn a_broken_build_stops_the_loop_with_its_code() {
    let (s, mut fake) = setup("loop-broken", &[]);
    fs::write(
        &s.needs,
        "BINFMT_ELF\tguest_init\nBROKEN\tbreaks the build\n",
    )
    .unwrap();
    let stop = tailoring::run(&s, &mut fake).unwrap_err();
    assert_eq!(stop.code, tailoring::BUILD);
    assert_eq!(stop.message, "kernel.sh: exit 4");
}

#[test]
fn a_drop_that_is_not_required_is_a_usage_error() {
    let (s, mut fake) = setup("loop-bad-drop", &["NOT_REQUIRED"]);
    let stop = tailoring::run(&s, &mut fake).unwrap_err();
    assert_eq!(stop.code, 2);
    assert_eq!(stop.message, "--drop NOT_REQUIRED: not a required symbol");
}
