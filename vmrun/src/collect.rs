//! The results: built next to the old ones in a staging directory, where
//! QEMU runs and the guest's files arrive, and swapped in when complete.

use crate::{fail, io_error, manifest, Failure, TRANSFER};
use ftrace_report::footprint::KERNEL_BUILD_FILE;
use guest_protocol::plan::Channel;
use guest_protocol::{CUT_SUFFIX, MAX_OUTPUT};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Staging {
    /// `.LEAF.tmp` beside the results: what becomes them.
    pub dir: PathBuf,
    /// QEMU's working directory, where the guest's files arrive.
    pub guest: PathBuf,
}

impl Staging {
    /// An empty staging directory for `results`, with absolute paths:
    /// qemu.cmd runs from `guest`.
    pub fn create(results: &Path) -> Result<Self, Failure> {
        let parent = results
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let leaf = results.file_name().unwrap_or_default().to_string_lossy();
        let dir = parent.join(format!(".{leaf}.tmp"));
        let guest = dir.join("guest");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&guest).map_err(io_error(&guest))?;
        let dir = dir.canonicalize().map_err(io_error(&dir))?;
        Ok(Staging {
            guest: dir.join("guest"),
            dir,
        })
    }

    /// Writes `name` in the staging directory; returns its path.
    pub fn write(&self, name: &str, data: &[u8]) -> Result<PathBuf, Failure> {
        let path = self.dir.join(name);
        fs::write(&path, data).map_err(io_error(&path))?;
        Ok(path)
    }

    /// The files the guest sent, checked against its manifest: semihosting
    /// put them in `guest`; by the console they are in the capture `log`.
    pub fn receive(&self, channel: Channel, log: &Path) -> Result<Vec<String>, Failure> {
        if channel == Channel::Console {
            let capture = fs::read(log).map_err(io_error(log))?;
            console_frames::extract(&capture, &self.guest).or_else(|e| {
                fail(
                    TRANSFER,
                    format!("console frames in {}: {e}", log.display()),
                )
            })?;
        }
        manifest::verify(&self.guest).or_else(|e| fail(TRANSFER, e))
    }

    /// Moves the `listed` files and the manifest up beside the run's own
    /// files, adds the kernel's config and System.map and the path of its
    /// build tree (for `ftrace_report footprint`), and replaces `results`
    /// with the whole.
    pub fn install(
        self,
        listed: &[String],
        kernel_dir: &Path,
        results: &Path,
    ) -> Result<(), Failure> {
        for name in listed
            .iter()
            .map(String::as_str)
            .chain([guest_protocol::manifest::NAME])
        {
            let (from, to) = (self.guest.join(name), self.dir.join(name));
            fs::rename(&from, &to).map_err(io_error(&to))?;
        }
        fs::remove_dir(&self.guest).map_err(io_error(&self.guest))?;
        for (from, to) in [(".config", "config"), ("System.map", "System.map")] {
            let (from, to) = (kernel_dir.join(from), self.dir.join(to));
            fs::copy(&from, &to).map_err(io_error(&from))?;
        }
        let build = fs::canonicalize(kernel_dir).map_err(io_error(kernel_dir))?;
        let record = self.dir.join(KERNEL_BUILD_FILE);
        fs::write(&record, format!("{}\n", build.display())).map_err(io_error(&record))?;
        if results.exists() {
            fs::remove_dir_all(results).map_err(io_error(results))?;
        }
        fs::rename(&self.dir, results).map_err(io_error(results))
    }
}

/// `ID.trace N KiB (ftrace_it exit E)` for each run in `dir` that left a
/// trace.
pub fn traces<'a>(dir: &Path, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    ids.filter_map(|id| {
        let size = fs::metadata(dir.join(format!("{id}.trace"))).ok()?.len();
        let exit = fs::read_to_string(dir.join(format!("{id}.exit"))).ok()?;
        Some(format!(
            "{id}.trace {} KiB (ftrace_it exit {})",
            size / 1024,
            exit.trim()
        ))
    })
    .collect()
}

/// One line for each payload whose stdout or stderr the guest cut.
pub fn cut_outputs(dir: &Path, ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| {
            let text = fs::read_to_string(dir.join(format!("{id}.{CUT_SUFFIX}"))).ok()?;
            let what: Vec<String> = text
                .lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(stream, bytes)| format!("{id}.{stream} ({bytes} bytes written)"))
                .collect();
            Some(format!("cut at {MAX_OUTPUT} bytes: {}", what.join(", ")))
        })
        .collect()
}

/// The reports written beside each trace: `ftrace_report ARGS ID.trace`
/// into `ID.SUFFIX`.
const REPORTS: [(&[&str], &str); 4] = [
    (&["summary"], "summary"),
    (&["footprint"], "footprint"),
    (&["footprint", "--json"], "footprint.json"),
    (&["footprint", "--study"], "study.md"),
];

/// The [`REPORTS`] of `ID.trace`; a report failure is shown but does not
/// fail the run: the trace is the product.
pub fn reports(report: &Path, dir: &Path, id: &str, say: &dyn Fn(&str)) {
    for (args, suffix) in REPORTS {
        write_report(report, args, dir, id, suffix, say);
    }
}

fn write_report(
    report: &Path,
    args: &[&str],
    dir: &Path,
    id: &str,
    suffix: &str,
    say: &dyn Fn(&str),
) {
    let trace = dir.join(format!("{id}.trace"));
    if !trace.exists() {
        return;
    }
    match Command::new(report).args(args).arg(&trace).output() {
        Ok(out) if out.status.success() => {
            let path = dir.join(format!("{id}.{suffix}"));
            if let Err(e) = fs::write(&path, &out.stdout) {
                say(&format!("warning: {}: {e}", path.display()));
            }
        }
        Ok(out) => say(&format!(
            "warning: {} {} {id}.trace failed ({}): {}",
            report.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        )),
        Err(e) => say(&format!("warning: cannot run {}: {e}", report.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guest_protocol::manifest::Line;

    fn put(dir: &Path, name: &str, data: &[u8]) {
        fs::write(dir.join(name), data).unwrap();
    }

    #[test]
    fn staged_results_replace_the_old_ones_when_complete() {
        let root = std::env::temp_dir().join(format!("vmrun-collect-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let (kernel, results) = (root.join("kernel"), root.join("results"));
        for d in [&kernel, &results] {
            fs::create_dir_all(d).unwrap();
        }
        put(&kernel, ".config", b"CONFIG_FTRACE=y\n");
        put(&kernel, "System.map", b"map");
        put(&results, "stale", b"from the last run");

        let staging = Staging::create(&results).unwrap();
        assert_eq!(
            staging.dir,
            root.canonicalize().unwrap().join(".results.tmp")
        );
        staging.write("boot.log", b"console").unwrap();
        let files: [(&str, &[u8]); 2] = [("x.trace", &[b'#'; 2048]), ("x.exit", b"137\n")];
        let mut list = String::new();
        for (name, data) in files {
            put(&staging.guest, name, data);
            let sha256 = console_frames::sha256_hex(data);
            list += &format!(
                "{}\n",
                Line {
                    sha256: &sha256,
                    name
                }
            );
        }
        put(
            &staging.guest,
            guest_protocol::manifest::NAME,
            list.as_bytes(),
        );
        let log = staging.dir.join("boot.log");
        let listed = staging.receive(Channel::Semihosting, &log).unwrap();
        assert_eq!(listed, ["x.trace", "x.exit"]);
        staging.install(&listed, &kernel, &results).unwrap();

        let mut names: Vec<String> = fs::read_dir(&results)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "System.map",
                "boot.log",
                "config",
                KERNEL_BUILD_FILE,
                "manifest.sha256",
                "x.exit",
                "x.trace"
            ]
        );
        assert_eq!(
            fs::read_to_string(results.join(KERNEL_BUILD_FILE)).unwrap(),
            format!("{}\n", fs::canonicalize(&kernel).unwrap().display())
        );
        assert!(!root.join(".results.tmp").exists());
        assert_eq!(
            traces(&results, ["x", "y"].into_iter()),
            ["x.trace 2 KiB (ftrace_it exit 137)"]
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn console_results_come_out_of_the_capture() {
        let root = std::env::temp_dir().join(format!("vmrun-console-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let staging = Staging::create(&root.join("results")).unwrap();
        let mut capture = b"Booting Linux\n".to_vec();
        console_frames::encode("x.trace", b"trace", &mut capture).unwrap();
        let sha256 = console_frames::sha256_hex(b"trace");
        let list = format!(
            "{}\n",
            Line {
                sha256: &sha256,
                name: "x.trace"
            }
        );
        console_frames::encode(
            guest_protocol::manifest::NAME,
            list.as_bytes(),
            &mut capture,
        )
        .unwrap();
        let log = staging.write("boot.log", &capture).unwrap();
        assert_eq!(
            staging.receive(Channel::Console, &log).unwrap(),
            ["x.trace"]
        );
        assert_eq!(fs::read(staging.guest.join("x.trace")).unwrap(), b"trace");
        // By semihosting nothing arrived: the capture is not read.
        let staging = Staging::create(&root.join("other")).unwrap();
        let log = staging.write("boot.log", &capture).unwrap();
        let f = staging.receive(Channel::Semihosting, &log).unwrap_err();
        assert_eq!(f.code, TRANSFER);
        fs::remove_dir_all(&root).unwrap();
    }
}
