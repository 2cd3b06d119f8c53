//! The tailoring loop (tailor/README.md): trace the payload's runs on the
//! starting kernel, derive the required symbols, let Kconfig make a config
//! of them, build it, trace again and compare; add back what changed which
//! other code ran, once; then bisect over the starting config's options,
//! confirm each option found by a fresh pair of runs, and derive once more.
//!
//! What touches kernels and guests goes through [`Lab`]: `scripts/kernel.sh`
//! and vmrun in the command (`crate::lab`), a made-up kernel in the tests.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::bisect::{self, Outcome};
use crate::footprint;
use crate::required::{self, Required};

/// Why the loop stopped, with the exit code of `tailor run`.
#[derive(Debug, PartialEq, Eq)]
pub struct Stop {
    pub code: u8,
    pub message: String,
}

/// Unreadable or unwritable input or results, a comparison that could not
/// be made.
pub const INPUT: u8 = 3;
/// `scripts/kernel.sh` failed (its own exit code is in the message).
pub const BUILD: u8 = 4;
/// A kernel did not boot, or a run did not reach its `--duration`, and the
/// bisection found nothing that helps.
pub const NO_RUN: u8 = 5;
/// A stable difference nothing explains, after the add-back and the
/// bisection.
pub const UNEXPLAINED: u8 = 6;

pub fn input(message: impl Into<String>) -> Stop {
    Stop {
        code: INPUT,
        message: message.into(),
    }
}

/// The comparison of a kernel's runs with the starting kernel's.
#[derive(Debug, Clone, Default)]
pub struct Compared {
    /// `compare.txt`: the summary line first.
    pub text: String,
    /// The stable differences nothing explains: `NAME (KERNEL)`.
    pub unexplained: Vec<String>,
    /// `SYMBOL<TAB>reason` lines of the options to add back.
    pub add_back: String,
}

/// What a kernel did with the payload's runs.
#[derive(Debug, Clone)]
pub enum Tried {
    /// Booted, every run reached its `--duration`, and the comparison.
    Ran(vmrun::Report, Compared),
    /// Why not, in one line.
    Failed(String),
}

impl Tried {
    /// Booted, ran to `--duration` and nothing unexplained.
    pub fn passed(&self) -> bool {
        matches!(self, Tried::Ran(_, c) if c.unexplained.is_empty())
    }

    /// One line: why it passed or failed.
    pub fn note(&self) -> String {
        match self {
            Tried::Failed(why) => why.clone(),
            Tried::Ran(_, c) if c.unexplained.is_empty() => {
                "booted, runs to --duration, no unexplained difference".into()
            }
            Tried::Ran(_, c) => {
                let shown: Vec<&str> = c.unexplained.iter().take(5).map(String::as_str).collect();
                format!("unexplained: {}", shown.join(" "))
            }
        }
    }
}

/// Kernels and guests.
pub trait Lab {
    /// The build tree of the kernel of `allconfig` (`make allnoconfig
    /// KCONFIG_ALLCONFIG=`), or of the starting config for None; built, or
    /// from the cache.
    fn kernel(&mut self, allconfig: Option<&Path>) -> Result<PathBuf, Stop>;
    /// The payload's runs in one boot of `kernel`, results into `results`:
    /// vmrun's report, or why the guest failed (one line).
    fn boot(
        &mut self,
        kernel: &Path,
        results: &Path,
    ) -> Result<Result<vmrun::Report, String>, Stop>;
    /// The runs of a kernel against those of the starting kernel, each
    /// given as (kernel build tree, vmrun's results).
    fn compare(
        &mut self,
        start: (&Path, &Path),
        tailored: (&Path, &Path),
    ) -> Result<Compared, Stop>;
    /// The ground truth's footprint (`ftrace_report footprint --json
    /// --groundtruth`) of a `make groundtruth` record on `kernel`, into
    /// `out`.
    fn groundtruth(
        &mut self,
        kernel: &Path,
        gt: &Path,
        trace: &Path,
        out: &Path,
    ) -> Result<(), Stop>;
}

/// What the loop is given.
#[derive(Debug, Clone)]
pub struct Settings {
    pub out: PathBuf,
    pub needs: PathBuf,
    /// The payload's run ids: `min.1`, `min.2`, ...
    pub ids: Vec<String>,
    /// Required symbols taken away on purpose (`--drop`).
    pub drop: Vec<String>,
    /// A `make groundtruth` record of the payload: `ID.gt` and `ID.trace`.
    pub groundtruth: Option<(PathBuf, PathBuf)>,
}

/// The loop's result, also `tailor.json` in the results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub start_kernel: PathBuf,
    pub tailored_kernel: PathBuf,
    /// `=y` lines of each kernel's `.config`.
    pub start_y: usize,
    pub tailored_y: usize,
    pub required: usize,
    /// Required symbols Kconfig did not set to `y`.
    pub unhonoured: Vec<String>,
    pub runs: usize,
    pub start_boot_seconds: Option<f64>,
    pub tailored_boot_seconds: Option<f64>,
    /// The last tailored kernel booted and every run reached `--duration`.
    pub tailored_ran: bool,
    /// The last comparison's unexplained differences.
    pub unexplained: Vec<String>,
    pub added_back: Vec<String>,
    /// Options the bisection found and a fresh pair of runs confirmed.
    pub bisected: Vec<String>,
    /// Options the bisection found that the fresh pair did not confirm.
    pub unconfirmed: Vec<String>,
    /// Kernels the bisection and its confirmation tried.
    pub bisect_kernels: usize,
    /// The last comparison's summary line.
    pub compare: String,
}

impl Summary {
    /// The exit code of `tailor run`: 0, [`NO_RUN`] or [`UNEXPLAINED`].
    pub fn code(&self) -> u8 {
        if !self.tailored_ran {
            NO_RUN
        } else if self.unexplained.is_empty() {
            0
        } else {
            UNEXPLAINED
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), Stop> {
    std::fs::write(path, text).map_err(|e| input(format!("{}: {e}", path.display())))
}

fn read(path: &Path) -> Result<String, Stop> {
    std::fs::read_to_string(path).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// `=y` lines of a kernel's `.config`.
pub fn y_count(kernel: &Path) -> Result<usize, Stop> {
    Ok(read(&kernel.join(".config"))?
        .lines()
        .filter(|l| l.starts_with("CONFIG_") && l.ends_with("=y"))
        .count())
}

/// The starting kernel's boot in `times.tsv`: the one compared with none.
const STARTING: &str = "starting";

/// The loop's state between steps.
struct Loop<'a> {
    s: &'a Settings,
    lab: &'a mut dyn Lab,
    kstart: PathBuf,
    /// `ID=path` footprints of the starting kernel's runs (and the ground
    /// truth's, flagged).
    footprints: Vec<(String, PathBuf, bool)>,
    times: String,
    clock: Instant,
}

impl Loop<'_> {
    fn time(&mut self, step: &str) -> Result<(), Stop> {
        let _ = writeln!(self.times, "{step}\t{}", self.clock.elapsed().as_secs());
        self.clock = Instant::now();
        write(&self.s.out.join("times.tsv"), &self.times)
    }

    /// Boots `kernel` into `dir` and compares with the starting kernel's
    /// runs, unless it is the starting kernel's boot (`name` "starting").
    fn try_kernel(&mut self, kernel: &Path, dir: &Path, name: &str) -> Result<Tried, Stop> {
        let t0 = Instant::now();
        let report = match self.lab.boot(kernel, dir)? {
            Ok(r) => r,
            Err(why) => return Ok(Tried::Failed(why)),
        };
        for id in &self.s.ids {
            match report.run(id) {
                Some(r) if r.reached_duration => {}
                Some(r) => {
                    return Ok(Tried::Failed(format!(
                        "{id} exited {}, not by its --duration",
                        r.exit_text()
                    )))
                }
                None => return Ok(Tried::Failed(format!("{id}: no run in vmrun's report"))),
            }
        }
        let boot = report.boot_seconds.unwrap_or(0.0);
        let _ = writeln!(
            self.times,
            "{name} boot\t{boot:.1}\n{name} trace\t{:.1}",
            t0.elapsed().as_secs_f64() - boot
        );
        self.clock = Instant::now();
        if name == STARTING {
            return Ok(Tried::Ran(report, Compared::default()));
        }
        let start = (self.kstart.as_path(), self.s.out.join("start"));
        let c = self.lab.compare((start.0, &start.1), (kernel, dir))?;
        Ok(Tried::Ran(report, c))
    }

    /// The required symbols: needs.tsv, the footprints of every run, the
    /// ground truth's, minus `--drop`, plus `added`.
    fn derive(&self, added: &[Required]) -> Result<Required, Stop> {
        let mut i = required::Inputs {
            drop: self.s.drop.clone(),
            added: added.to_vec(),
            ..required::Inputs::default()
        };
        required::parse_reasons(&read(&self.s.needs)?, "needs: ", &mut i.needs)
            .map_err(|e| input(format!("{}: {e}", self.s.needs.display())))?;
        for (label, path, gt) in &self.footprints {
            let fp = footprint::read(path).map_err(input)?;
            let mut r = Required::new();
            required::footprint_symbols(label, &fp, &mut r);
            if *gt {
                i.groundtruth.push(r);
            } else {
                i.runs.push(r);
            }
        }
        let (required, some) = required::derive(i).map_err(|message| Stop { code: 2, message })?;
        if !some.is_empty() {
            eprintln!(
                "tailor: not required, in some runs' footprints only: {}",
                some.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        Ok(required)
    }

    /// One round: derive, Kconfig and build, Kconfig's check, boot, compare.
    fn round(&mut self, added: &[Required]) -> Result<Round, Stop> {
        let out = self.s.out.clone();
        let required = self.derive(added)?;
        write(&out.join("allconfig"), &required::allconfig(&required))?;
        write(&out.join("required.tsv"), &required::reasons(&required))?;
        self.time("derivation")?;
        let ktail = self.lab.kernel(Some(&out.join("allconfig")))?;
        self.time("Kconfig and build (kernel.sh; 0 when cached)")?;
        let log = std::fs::read_to_string(ktail.join("allnoconfig.log")).unwrap_or_default();
        let unhonoured = required::unhonoured(&required, &read(&ktail.join(".config"))?, &log);
        let mut check = format!(
            "check: Kconfig honoured {} of {} required symbols\n",
            required.len() - unhonoured.len(),
            required.len()
        );
        for x in &unhonoured {
            let _ = writeln!(
                check,
                "not honoured: CONFIG_{} = {}: {}",
                x.symbol, x.value, x.why
            );
        }
        write(&out.join("kconfig.txt"), &check)?;
        eprintln!("tailor: {}", check.lines().next().unwrap_or_default());
        eprintln!(
            "tailor: tracing the payload on the tailored kernel {}",
            ktail.display()
        );
        // Nothing of an earlier round may pass for this one's.
        let _ = std::fs::remove_file(out.join("compare.txt"));
        let _ = std::fs::remove_dir_all(out.join("tailored"));
        let tried = self.try_kernel(&ktail, &out.join("tailored"), "tailored")?;
        if let Tried::Ran(_, c) = &tried {
            write(&out.join("compare.txt"), &c.text)?;
            self.time("compare")?;
            eprintln!("tailor: {}", c.text.lines().next().unwrap_or_default());
        } else {
            eprintln!(
                "tailor: the run on {} failed: {}",
                ktail.display(),
                tried.note()
            );
        }
        Ok(Round {
            ktail,
            required,
            unhonoured: unhonoured.into_iter().map(|u| u.symbol).collect(),
            tried,
        })
    }
}

struct Round {
    ktail: PathBuf,
    required: Required,
    unhonoured: Vec<String>,
    tried: Tried,
}

/// The options found by the bisection, each confirmed by a fresh pair of
/// runs: the kernel without it fails again, the kernel with all of them
/// passes again. A difference that does not come back was timing, not the
/// option: it is left out, with why.
struct Confirmed {
    kept: Vec<String>,
    dropped: Vec<String>,
    needs: String,
    kernels: usize,
}

/// The loop, from the starting kernel to the summary (also written as
/// `tailor.json`). Stops early only for what cannot be tried: a build that
/// broke, unreadable results, the starting kernel not running the payload.
pub fn run(s: &Settings, lab: &mut dyn Lab) -> Result<Summary, Stop> {
    std::fs::create_dir_all(&s.out).map_err(|e| input(format!("{}: {e}", s.out.display())))?;
    let clock = Instant::now();
    let kstart = lab.kernel(None)?;
    let mut l = Loop {
        s,
        lab,
        kstart: kstart.clone(),
        footprints: Vec::new(),
        times: String::new(),
        clock,
    };
    l.time("starting kernel (kernel.sh)")?;
    eprintln!(
        "tailor: tracing the payload {} times on the starting kernel {}",
        s.ids.len(),
        kstart.display()
    );
    let start = match l.try_kernel(&kstart, &s.out.join("start"), STARTING)? {
        Tried::Ran(report, _) => report,
        Tried::Failed(why) => {
            return Err(Stop {
                code: NO_RUN,
                message: format!("the starting kernel {}: {why}", kstart.display()),
            })
        }
    };
    for id in &s.ids {
        let path = start
            .run(id)
            .and_then(|r| r.footprint.clone())
            .ok_or_else(|| {
                input(format!(
                    "{id}: no footprint on the starting kernel (vmrun --report)"
                ))
            })?;
        l.footprints.push((id.clone(), path, false));
    }
    if let Some((gt, trace)) = &s.groundtruth {
        let id = s.ids[0]
            .rsplit_once('.')
            .map_or(s.ids[0].as_str(), |(base, _)| base);
        let path = s
            .out
            .join("start")
            .join(format!("{id}.groundtruth.footprint.json"));
        l.lab.groundtruth(&kstart, gt, trace, &path)?;
        l.footprints.push((format!("{id}.groundtruth"), path, true));
        eprintln!(
            "tailor: the ground truth of {} is an input too",
            gt.display()
        );
    }

    let mut added: Vec<Required> = Vec::new();
    let mut summary_added = Vec::new();
    let mut round = l.round(&added)?;
    // Unexplained differences: add back the options that changed which
    // other code ran, with their evidence, once.
    if let Tried::Ran(_, c) = &round.tried {
        if !c.unexplained.is_empty() && !c.add_back.is_empty() {
            std::fs::copy(
                s.out.join("compare.txt"),
                s.out.join("compare.before-add-back.txt"),
            )
            .map_err(|e| input(format!("compare.txt: {e}")))?;
            write(&s.out.join("add-back.tsv"), &c.add_back)?;
            let mut r = Required::new();
            required::parse_reasons(&c.add_back, "", &mut r).map_err(input)?;
            summary_added = r.keys().cloned().collect();
            eprintln!(
                "tailor: adding back {} and deriving again",
                summary_added.join(" ")
            );
            added.push(r);
            round = l.round(&added)?;
        }
    }
    let (mut bisected, mut unconfirmed, mut bisect_kernels) = (Vec::new(), Vec::new(), 0);
    if !round.tried.passed() {
        eprintln!(
            "tailor: bisecting over the options of the starting config the tailored kernel lacks"
        );
        if s.out.join("compare.txt").exists() {
            std::fs::copy(
                s.out.join("compare.txt"),
                s.out.join("compare.before-bisect.txt"),
            )
            .map_err(|e| input(format!("compare.txt: {e}")))?;
        }
        let c = bisection(&mut l, &round.required, &round.ktail)?;
        bisect_kernels = c.kernels;
        l.time(&format!("bisect ({} kernels)", c.kernels))?;
        write(&s.out.join("bisect.tsv"), &c.needs)?;
        bisected = c.kept;
        unconfirmed = c.dropped;
        if !bisected.is_empty() {
            let mut r = Required::new();
            required::parse_reasons(&c.needs, "", &mut r).map_err(input)?;
            added.push(r);
            round = l.round(&added)?;
        }
    }
    let (tailored_boot_seconds, unexplained, compare) = match &round.tried {
        Tried::Ran(r, c) => (
            r.boot_seconds,
            c.unexplained.clone(),
            c.text.lines().next().unwrap_or_default().to_string(),
        ),
        Tried::Failed(_) => (None, Vec::new(), String::new()),
    };
    let summary = Summary {
        start_y: y_count(&kstart)?,
        tailored_y: y_count(&round.ktail)?,
        start_kernel: kstart,
        tailored_kernel: round.ktail,
        required: round.required.len(),
        unhonoured: round.unhonoured,
        runs: s.ids.len(),
        start_boot_seconds: start.boot_seconds,
        tailored_boot_seconds,
        tailored_ran: matches!(round.tried, Tried::Ran(..)),
        unexplained,
        added_back: summary_added,
        bisected,
        unconfirmed,
        bisect_kernels,
        compare,
    };
    let json = serde_json::to_string_pretty(&summary).expect("plain data");
    write(&s.out.join("tailor.json"), &(json + "\n"))?;
    Ok(summary)
}

/// The bisection over the `=y` options of the starting config that the
/// tailored one lacks, one kernel a step in `OUT/bisect/step-N/`, then the
/// confirmation of what it found.
fn bisection(l: &mut Loop, required: &Required, ktail: &Path) -> Result<Confirmed, Stop> {
    let values = |k: &Path| read(&k.join(".config")).map(|t| required::config_values(&t));
    let (start, tailored) = (values(&l.kstart)?, values(ktail)?);
    let candidates: Vec<String> = start
        .iter()
        .filter(|(s, v)| *v == "y" && tailored.get(*s).map(String::as_str) != Some("y"))
        .map(|(s, _)| s.clone())
        .collect();
    let dir = l.s.out.join("bisect");
    std::fs::create_dir_all(&dir).map_err(|e| input(format!("{}: {e}", dir.display())))?;
    eprintln!(
        "tailor: bisect: {} candidates (=y in the starting config, not in the tailored one)",
        candidates.len()
    );
    let mut n = 0;
    let kernel_with = |l: &mut Loop, options: &[String], name: &str| -> Result<Tried, Stop> {
        let mut r: Required = required.keys().map(|k| (k.clone(), Vec::new())).collect();
        for o in options {
            r.entry(o.clone()).or_default();
        }
        let allconfig = dir.join(format!("{name}.allconfig"));
        write(&allconfig, &required::allconfig(&r))?;
        let k = l.lab.kernel(Some(&allconfig))?;
        let tried = l.try_kernel(&k, &dir.join(name), name)?;
        eprintln!(
            "tailor: bisect: {name}: {} ({})",
            if tried.passed() { "passed" } else { "failed" },
            tried.note()
        );
        Ok(tried)
    };
    let b = bisect::bisect(&candidates, &mut |options: &[String]| {
        n += 1;
        let tried = kernel_with(l, options, &format!("step-{n}"))?;
        Ok::<_, Stop>(Outcome {
            passed: tried.passed(),
            note: tried.note(),
        })
    })?;
    let mut steps = String::new();
    for (i, st) in b.steps.iter().enumerate() {
        let verdict = if st.outcome.passed {
            "passed"
        } else {
            "failed"
        };
        let _ = writeln!(
            steps,
            "step {}: {verdict}: {}: {}",
            i + 1,
            st.outcome.note,
            st.options.join(" ")
        );
    }
    write(&dir.join("steps.txt"), &steps)?;
    if !b.all_passed {
        eprintln!(
            "tailor: bisect: even with all {} candidates the kernel failed: no option of the starting config is enough",
            candidates.len()
        );
    }
    // The confirmation: a fresh boot of the kernel with every option found,
    // and one without each.
    let found: Vec<String> = b.found.iter().map(|f| f.option.clone()).collect();
    let mut kernels = b.steps.len();
    let mut confirmed = Confirmed {
        kept: Vec::new(),
        dropped: Vec::new(),
        needs: String::new(),
        kernels,
    };
    if found.is_empty() {
        return Ok(confirmed);
    }
    let with = kernel_with(l, &found, "confirm-with")?;
    kernels += 1;
    let mut lines = b
        .needs()
        .lines()
        .map(String::from)
        .collect::<Vec<_>>()
        .into_iter();
    for f in &found {
        let line = lines.next().unwrap_or_default();
        let without: Vec<String> = found.iter().filter(|o| *o != f).cloned().collect();
        let tried = kernel_with(l, &without, &format!("confirm-without-{f}"))?;
        kernels += 1;
        if with.passed() && !tried.passed() {
            let _ = writeln!(
                confirmed.needs,
                "{line}; confirmed: without it failed again ({}), with it passed again",
                tried.note()
            );
            confirmed.kept.push(f.clone());
        } else {
            eprintln!(
                "tailor: bisect: {f} not confirmed (without it: {}; with it: {}): left out",
                tried.note(),
                with.note()
            );
            confirmed.dropped.push(f.clone());
        }
    }
    confirmed.kernels = kernels;
    Ok(confirmed)
}
