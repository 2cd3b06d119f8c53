//! What a run of the guest gave, typed for the library's callers and
//! written as JSON ([`REPORT_FILE`]) beside the results for scripts: each
//! run's exit and time (guest_init's `runs.tsv`), whether it reached its
//! `--duration`, where its trace and footprint are, and the boot's times.

use crate::plan::GuestRun;
use crate::{io_error, Failure};
use guest_protocol::plan::RunKind;
use guest_protocol::reached_duration;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// The report's file name in the results directory.
pub const REPORT_FILE: &str = "vmrun.json";

/// One boot of the guest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The results directory.
    pub results: PathBuf,
    /// Seconds from vmrun's start to guest_init's `init up` line; None
    /// when the guest never said it.
    pub boot_seconds: Option<f64>,
    /// Seconds from vmrun's start to the results in place.
    pub seconds: f64,
    /// In the plan's order.
    pub runs: Vec<RunReport>,
}

/// One run of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub id: String,
    /// As guest_init wrote it to `runs.tsv`: the exit code, or `signal
    /// N`; None when `runs.tsv` has no line for it.
    pub exit: Option<String>,
    /// The run's own seconds, measured in the guest.
    pub seconds: Option<f64>,
    /// Under ftrace_it (not `--direct`, not `--tracer none`).
    pub traced: bool,
    /// Ended by its `--duration` (`guest_protocol::reached_duration`).
    pub reached_duration: bool,
    /// `ID.trace`, when the run left one.
    pub trace: Option<PathBuf>,
    /// `ID.footprint.json`, when `--report` wrote it.
    pub footprint: Option<PathBuf>,
}

impl RunReport {
    /// Its exit for a message: as in `runs.tsv`, or that it has none.
    pub fn exit_text(&self) -> &str {
        self.exit.as_deref().unwrap_or("no exit in runs.tsv")
    }
}

impl Report {
    /// The run of that id.
    pub fn run(&self, id: &str) -> Option<&RunReport> {
        self.runs.iter().find(|r| r.id == id)
    }
}

/// The report of the results in `dir`, from `runs.tsv` (guest_init's
/// `ID<TAB>EXIT<TAB>SECONDS` lines; one it could not write leaves its runs
/// without an exit) and the files there.
pub fn read(dir: &Path, runs: &[GuestRun], boot_seconds: Option<f64>, seconds: f64) -> Report {
    let table = fs::read_to_string(dir.join("runs.tsv")).unwrap_or_default();
    let line = |id: &str| {
        table.lines().find_map(|l| {
            let mut f = l.split('\t');
            (f.next() == Some(id)).then(|| {
                let exit = f.next().map(String::from);
                (exit, f.next().and_then(|t| t.parse().ok()))
            })
        })
    };
    let existing = |name: String| Some(dir.join(name)).filter(|p| p.exists());
    let mut out = Vec::new();
    for r in runs {
        let (exit, secs) = line(&r.id).unwrap_or_default();
        let traced = !matches!(r.kind, RunKind::Direct | RunKind::Untraced);
        out.push(RunReport {
            id: r.id.clone(),
            reached_duration: exit.as_deref().is_some_and(|e| reached_duration(e, traced)),
            exit,
            seconds: secs,
            traced,
            trace: existing(format!("{}.trace", r.id)),
            footprint: existing(format!("{}.footprint.json", r.id)),
        });
    }
    Report {
        results: dir.to_path_buf(),
        boot_seconds,
        seconds,
        runs: out,
    }
}

/// Writes `report` as [`REPORT_FILE`] into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<(), Failure> {
    let path = dir.join(REPORT_FILE);
    let json = serde_json::to_string_pretty(report).expect("plain data");
    fs::write(&path, json + "\n").map_err(io_error(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, kind: RunKind) -> GuestRun {
        GuestRun {
            id: id.into(),
            args: Vec::new(),
            kind,
        }
    }

    #[test]
    fn runs_tsv_and_files_give_the_report() {
        let dir = std::env::temp_dir().join(format!("vmrun-report-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("runs.tsv"),
            "# id\texit\tseconds\nmin.1\t137\t1.004\nmin.2\t0\t0.010\nalone\tsignal 9\t1.000\n",
        )
        .unwrap();
        fs::write(dir.join("min.1.trace"), "# trace\n").unwrap();
        let runs = [
            run("min.1", RunKind::Plain),
            run("min.2", RunKind::Plain),
            run("alone", RunKind::Untraced),
        ];
        let r = read(&dir, &runs, Some(1.25), 4.5);
        assert_eq!(r.boot_seconds, Some(1.25));
        let got: Vec<_> = r
            .runs
            .iter()
            .map(|x| {
                (
                    x.id.as_str(),
                    x.exit.as_deref(),
                    x.reached_duration,
                    x.trace.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("min.1", Some("137"), true, true),
                ("min.2", Some("0"), false, false),
                ("alone", Some("signal 9"), true, false)
            ]
        );
        assert_eq!(r.run("min.2").unwrap().seconds, Some(0.01));
        write(&r, &dir).unwrap();
        let back: Report =
            serde_json::from_str(&fs::read_to_string(dir.join(REPORT_FILE)).unwrap()).unwrap();
        assert_eq!(back, r);
        // No line for it: no exit, and not by its --duration.
        let missing = read(&dir, &[run("other", RunKind::Plain)], None, 1.0);
        assert_eq!(missing.runs[0].exit, None);
        assert!(!missing.runs[0].reached_duration);
        fs::remove_dir_all(&dir).unwrap();
    }
}
