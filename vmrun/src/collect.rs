//! The results: built next to the old ones in a staging directory, where
//! QEMU runs and the guest's files arrive, and swapped in when complete.

use crate::{fail, io_error, manifest, Failure, TRANSFER};
use guest_protocol::plan::Channel;
use guest_protocol::KERNEL_BUILD_FILE;
use guest_protocol::{CUT_SUFFIX, MAX_OUTPUT};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use trace_analysis::analyze::event_counts;

pub struct Staging {
    /// `.LEAF.tmp` beside the results: what becomes them.
    pub dir: PathBuf,
    /// QEMU's working directory, where the guest's files arrive.
    pub guest: PathBuf,
}

/// Where the results of `results` are staged, `.NAME.tmp` beside it; a
/// guest that failed leaves its `boot.log` there.
pub fn staging_dir(results: &Path) -> PathBuf {
    let parent = results
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let leaf = results.file_name().unwrap_or_default().to_string_lossy();
    parent.join(format!(".{leaf}.tmp"))
}

impl Staging {
    /// An empty staging directory for `results`, with absolute paths:
    /// qemu.cmd runs from `guest`.
    pub fn create(results: &Path) -> Result<Self, Failure> {
        let dir = staging_dir(results);
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
const REPORTS: [(&[&str], &str); 5] = [
    (&["summary"], "summary"),
    (&["html"], "html"),
    (&["footprint"], "footprint"),
    (&["footprint", "--json"], "footprint.json"),
    (&["footprint", "--study"], "study.md"),
];

/// The [`REPORTS`] of each `ID.trace`, as many at a time as there are
/// CPUs, so that a payload more costs a warm `make trace` little beyond its
/// own run; a report failure is shown but does not fail the run: the trace
/// is the product.
pub fn reports(report: &Path, dir: &Path, ids: &[String], say: &(dyn Fn(&str) + Sync)) {
    let jobs: Vec<(&str, &[&str], &str)> = ids
        .iter()
        .flat_map(|id| {
            REPORTS
                .iter()
                .map(move |(args, suffix)| (id.as_str(), *args, *suffix))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(jobs.len()) {
            scope.spawn(|| {
                while let Some((id, args, suffix)) = jobs.get(next.fetch_add(1, Ordering::Relaxed))
                {
                    write_report(report, args, dir, id, suffix, say);
                }
            });
        }
    });
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
    if trace.exists() {
        run_report(
            report,
            args,
            &[trace],
            &dir.join(format!("{id}.{suffix}")),
            say,
        );
    }
}

/// `ftrace_report ARGS TRACES > out`; false (and a warning) when it fails.
fn run_report(
    report: &Path,
    args: &[&str],
    traces: &[PathBuf],
    out_path: &Path,
    say: &dyn Fn(&str),
) -> bool {
    let names: Vec<String> = traces
        .iter()
        .map(|t| {
            t.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    match Command::new(report).args(args).args(traces).output() {
        Ok(out) if out.status.success() => match fs::write(out_path, &out.stdout) {
            Ok(()) => true,
            Err(e) => {
                say(&format!("warning: {}: {e}", out_path.display()));
                false
            }
        },
        Ok(out) => {
            say(&format!(
                "warning: {} {} {} failed ({}): {}",
                report.display(),
                args.join(" "),
                names.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
            ));
            false
        }
        Err(e) => {
            say(&format!("warning: cannot run {}: {e}", report.display()));
            false
        }
    }
}

/// The diff page of the first two payloads' traces (`diff-A-B.html`) and
/// `index.html`, which links every payload's page (`ID.html`, from
/// [`REPORTS`]) and the diff.
pub fn index(report: &Path, dir: &Path, ids: &[String], say: &dyn Fn(&str)) {
    let mut links = Vec::new();
    for id in ids {
        let page = format!("{id}.html");
        if dir.join(&page).exists() {
            let trace = dir.join(format!("{id}.trace"));
            let note = trace
                .to_str()
                .and_then(|t| event_counts(t).ok())
                .map_or_else(String::new, |c| c.to_string());
            links.push((page, format!("{id}: the page of {id}.trace"), note));
        }
    }
    if let [a, b, ..] = ids {
        let traces = [
            dir.join(format!("{a}.trace")),
            dir.join(format!("{b}.trace")),
        ];
        let page = format!("diff-{a}-{b}.html");
        if traces.iter().all(|t| t.exists())
            && run_report(report, &["html"], &traces, &dir.join(&page), say)
        {
            links.push((
                page,
                format!("{a} vs {b}: what only one of them needs"),
                String::new(),
            ));
        }
    }
    let path = dir.join("index.html");
    let title = format!("min_prog_trace results: {}", dir.display());
    match fs::write(&path, report_pages::index(&title, &links)) {
        Ok(()) => say(&format!(
            "pages: {} ({} linked)",
            path.display(),
            links.len()
        )),
        Err(e) => say(&format!("warning: {}: {e}", path.display())),
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

    /// A stand-in for ftrace_report: prints its arguments, or fails.
    fn fake_report(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("fake_report");
        put(
            dir,
            "fake_report",
            format!("#!/bin/sh\n{body}\n").as_bytes(),
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn index_links_each_payload_page_and_the_first_diff() {
        let root = std::env::temp_dir().join(format!("vmrun-index-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let report = fake_report(&root, "echo \"page of $*\"");
        let ids = [
            "min".to_string(),
            "min.large".to_string(),
            "other".to_string(),
        ];
        for id in &ids {
            put(&root, &format!("{id}.trace"), b"trace");
        }
        let said = std::sync::Mutex::new(Vec::new());
        let say = |m: &str| said.lock().unwrap().push(m.to_string());
        reports(&report, &root, &ids, &say);
        index(&report, &root, &ids, &say);
        let index_line = format!("pages: {} (4 linked)", root.join("index.html").display());
        assert_eq!(
            *said.lock().unwrap(),
            [index_line],
            "{:?}",
            said.lock().unwrap()
        );
        said.lock().unwrap().clear();
        let t = |id: &str| root.join(format!("{id}.trace")).display().to_string();
        assert_eq!(
            fs::read_to_string(root.join("min.html")).unwrap(),
            format!("page of html {}\n", t("min"))
        );
        assert_eq!(
            fs::read_to_string(root.join("diff-min-min.large.html")).unwrap(),
            format!("page of html {} {}\n", t("min"), t("min.large"))
        );
        let page = fs::read_to_string(root.join("index.html")).unwrap();
        for link in [
            "min.html",
            "min.large.html",
            "other.html",
            "diff-min-min.large.html",
        ] {
            assert!(page.contains(&format!("href=\"{link}\"")), "{link}: {page}");
        }

        // A report that fails: a warning, no page, no link.
        let report = fake_report(&root, "exit 3");
        for f in [
            "min.html",
            "min.large.html",
            "other.html",
            "diff-min-min.large.html",
        ] {
            fs::remove_file(root.join(f)).unwrap();
        }
        index(&report, &root, &ids[..2], &say);
        let said = said.lock().unwrap();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].contains("html min.trace min.large.trace failed"));
        let page = fs::read_to_string(root.join("index.html")).unwrap();
        assert!(!page.contains("href="), "{page}");
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
