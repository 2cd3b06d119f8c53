//! The real [`Lab`]: kernels from `scripts/kernel.sh` (cached by their
//! allconfig's hash), boots through the vmrun library, comparisons over
//! both kernels' build trees.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::compare;
use crate::evidence::{open_index, read_runs, Trees};
use crate::tailoring::{input, Compared, Lab, Stop, BUILD};

/// What every boot shares: the guest's programs and knobs, the payloads.
pub struct Guest {
    /// `scripts/kernel.sh`.
    pub kernel_sh: PathBuf,
    /// vmrun's options but the kernel, the payloads and the results.
    pub vm: vmrun::Options,
    /// The payload's copies, one a run id.
    pub payloads: Vec<PathBuf>,
    /// The run ids: the payloads' file names.
    pub ids: Vec<String>,
    /// `ftrace_report`, for the ground truth's footprint.
    pub report: PathBuf,
}

/// Runs `kernel_sh aarch64 [ARG]` and returns the build tree it prints.
pub fn kernel_sh(kernel_sh: &Path, arg: Option<&Path>) -> Result<PathBuf, Stop> {
    let mut cmd = Command::new(kernel_sh);
    cmd.arg("aarch64").args(arg).stderr(Stdio::inherit());
    let out = cmd
        .output()
        .map_err(|e| input(format!("{}: {e}", kernel_sh.display())))?;
    if !out.status.success() {
        return Err(Stop {
            code: BUILD,
            message: format!(
                "{} aarch64 {}: {}",
                kernel_sh.display(),
                arg.map_or(String::new(), |a| a.display().to_string()),
                out.status
            ),
        });
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(dir))
}

/// One boot of `kernel` with vmrun's options `vm`, its progress lines in
/// `RESULTS.log`: vmrun's report, or `vmrun exit N: MESSAGE` and the tail
/// of the failed boot's log on stderr.
pub fn boot(vm: &vmrun::Options, results: &Path) -> Result<Result<vmrun::Report, String>, Stop> {
    let log_path = PathBuf::from(format!("{}.log", results.display()));
    let log = File::create(&log_path).map_err(|e| input(format!("{}: {e}", log_path.display())))?;
    let log = Mutex::new(log);
    let sink = |line: &str| {
        let _ = writeln!(log.lock().expect("not poisoned"), "{line}");
    };
    match vmrun::run(vm, &sink) {
        Ok(report) => Ok(Ok(report)),
        Err(f) => {
            let boot_log = vmrun::staging_dir(results).join("boot.log");
            if let Ok(text) = std::fs::read_to_string(&boot_log) {
                let lines: Vec<&str> = text.lines().collect();
                eprintln!("--- {} (tail):", boot_log.display());
                for l in &lines[lines.len().saturating_sub(20)..] {
                    eprintln!("{l}");
                }
            }
            let first = f.message.lines().next().unwrap_or_default();
            Ok(Err(format!("vmrun exit {}: {first}", f.code)))
        }
    }
}

impl Lab for Guest {
    fn kernel(&mut self, allconfig: Option<&Path>) -> Result<PathBuf, Stop> {
        kernel_sh(&self.kernel_sh, allconfig)
    }

    fn boot(
        &mut self,
        kernel: &Path,
        results: &Path,
    ) -> Result<Result<vmrun::Report, String>, Stop> {
        let vm = vmrun::Options {
            kernel_dir: kernel.to_path_buf(),
            payloads: self
                .payloads
                .iter()
                .map(|p| vmrun::cmdline::Payload {
                    path: p.clone(),
                    args: Vec::new(),
                })
                .collect(),
            results: results.to_path_buf(),
            ..self.vm.clone()
        };
        boot(&vm, results)
    }

    fn compare(
        &mut self,
        (kstart, start_dir): (&Path, &Path),
        (ktail, tailored): (&Path, &Path),
    ) -> Result<Compared, Stop> {
        let (a, b) = (
            open_index(kstart).map_err(input)?,
            open_index(ktail).map_err(input)?,
        );
        let start = read_runs(start_dir, &self.ids, &a).map_err(input)?;
        let runs = read_runs(tailored, &self.ids, &b).map_err(input)?;
        let mut trees = Trees::new(&a, &b);
        let c = compare::compare(&start, &runs, &mut trees);
        if let Some(e) = trees.errors.first() {
            return Err(input(e.clone()));
        }
        Ok(Compared {
            text: compare::report(&c, &start, &runs),
            unexplained: c
                .unexplained()
                .map(|r| format!("{} ({})", r.name, r.kernel.name()))
                .collect(),
            add_back: compare::add_back(&c),
        })
    }

    fn groundtruth(
        &mut self,
        kernel: &Path,
        gt: &Path,
        trace: &Path,
        out: &Path,
    ) -> Result<(), Stop> {
        let file = File::create(out).map_err(|e| input(format!("{}: {e}", out.display())))?;
        let status = Command::new(&self.report)
            .args(["footprint", "--json", "--groundtruth"])
            .arg(gt)
            .arg(trace)
            .arg("--kernel-build")
            .arg(kernel)
            .stdout(file)
            .status()
            .map_err(|e| input(format!("{}: {e}", self.report.display())))?;
        if !status.success() {
            return Err(input(format!(
                "{} footprint --groundtruth {}: {status}",
                self.report.display(),
                gt.display()
            )));
        }
        Ok(())
    }
}
