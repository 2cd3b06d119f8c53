//! What a run of the guest gave, typed for the library's callers and
//! written as JSON ([`REPORT_FILE`]) beside the results for scripts: each
//! run's exit and time (guest_init's `runs.tsv`), whether it reached its
//! `--duration`, where its trace and footprint are, and the boot's times.

use crate::plan::GuestRun;
use crate::{fail, io_error, Failure, IO};
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
    /// As guest_init wrote it: the exit code, or `signal N`.
    pub exit: String,
    /// The run's own seconds, measured in the guest.
    pub seconds: f64,
    /// Under ftrace_it (not `--direct`, not `--tracer none`).
    pub traced: bool,
    /// Ended by its `--duration` (`guest_protocol::reached_duration`).
    pub reached_duration: bool,
    /// `ID.trace`, when the run left one.
    pub trace: Option<PathBuf>,
    /// `ID.footprint.json`, when `--report` wrote it.
    pub footprint: Option<PathBuf>,
}

impl Report {
    /// The run of that id.
    pub fn run(&self, id: &str) -> Option<&RunReport> {
        self.runs.iter().find(|r| r.id == id)
    }
}

/// The report of the results in `dir`, from `runs.tsv` and the files there.
pub fn read(
    dir: &Path,
    runs: &[GuestRun],
    boot_seconds: Option<f64>,
    seconds: f64,
) -> Result<Report, Failure> {
    let path = dir.join("runs.tsv");
    let table = fs::read_to_string(&path).map_err(io_error(&path))?;
    let parsed = parse_runs(&table).or_else(|e| fail(IO, format!("{}: {e}", path.display())))?;
    let existing = |name: String| Some(dir.join(name)).filter(|p| p.exists());
    let mut out = Vec::new();
    for r in runs {
        let Some((exit, secs)) = parsed
            .iter()
            .find(|(id, _, _)| *id == r.id)
            .map(|(_, e, s)| (e, s))
        else {
            return fail(IO, format!("{}: no line for run {}", path.display(), r.id));
        };
        let traced = !matches!(r.kind, RunKind::Direct | RunKind::Untraced);
        out.push(RunReport {
            id: r.id.clone(),
            exit: exit.to_string(),
            seconds: *secs,
            traced,
            reached_duration: reached_duration(exit, traced),
            trace: existing(format!("{}.trace", r.id)),
            footprint: existing(format!("{}.footprint.json", r.id)),
        });
    }
    Ok(Report {
        results: dir.to_path_buf(),
        boot_seconds,
        seconds,
        runs: out,
    })
}

/// `ID<TAB>EXIT<TAB>SECONDS` lines after the `#` header.
fn parse_runs(table: &str) -> Result<Vec<(&str, &str, f64)>, String> {
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            match (f.next(), f.next(), f.next().map(str::parse), f.next()) {
                (Some(id), Some(exit), Some(Ok(secs)), None) => Ok((id, exit, secs)),
                _ => Err(format!("line {l:?}: not ID, exit, seconds")),
            }
        })
        .collect()
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
        let r = read(&dir, &runs, Some(1.25), 4.5).unwrap();
        assert_eq!(r.boot_seconds, Some(1.25));
        let got: Vec<_> = r
            .runs
            .iter()
            .map(|x| {
                (
                    x.id.as_str(),
                    x.exit.as_str(),
                    x.reached_duration,
                    x.trace.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("min.1", "137", true, true),
                ("min.2", "0", false, false),
                ("alone", "signal 9", true, false)
            ]
        );
        assert_eq!(r.run("min.2").unwrap().seconds, 0.01);
        write(&r, &dir).unwrap();
        let back: Report =
            serde_json::from_str(&fs::read_to_string(dir.join(REPORT_FILE)).unwrap()).unwrap();
        assert_eq!(back, r);
        let missing = read(&dir, &[run("other", RunKind::Plain)], None, 1.0).unwrap_err();
        assert_eq!(missing.code, IO);
        assert!(
            missing.message.ends_with("no line for run other"),
            "{}",
            missing.message
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
