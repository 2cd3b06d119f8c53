//! vmrun as a library: boots the tracing guest and brings the traces home.
//! [`run`] does what `vmrun run` does, from typed [`Options`], and returns
//! a typed [`Report`] (also written as JSON, [`REPORT_FILE`], beside the
//! results); the `vmrun` binary parses the command line into [`Options`].
//!
//! See vmrun/README.md. Exit codes ([`Failure::code`]): 0 success, 2 usage,
//! 3 missing or unusable input, 4 QEMU would not start, 5 the guest failed
//! (panic, init failure, timeout), 6 results damaged on the way (checksum,
//! console frames), 7 I/O error writing the results, 8 a dynamic payload's
//! interpreter or libraries missing from the sysroot, 9 the sysroot or root
//! filesystem does not exist or cannot be read.

mod closure;
pub mod cmdline;
mod collect;
mod cpio;
mod elf;
mod groundtruth;
mod guest;
mod initramfs;
mod manifest;
mod plan;
mod qemu;
mod report;

use guest_protocol::status::is_init_up;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use collect::staging_dir;
pub use guest_protocol::plan::Channel;
pub use report::{Report, RunReport, REPORT_FILE};

/// Why a run failed: the exit code (below) and one line to show.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

pub(crate) fn fail<T>(code: u8, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        message: message.into(),
    })
}

pub const USAGE_ERR: u8 = 2;
pub const INPUT: u8 = 3;
pub const QEMU: u8 = 4;
pub const GUEST: u8 = 5;
pub const TRANSFER: u8 = 6;
pub const IO: u8 = 7;
pub const MISSING: u8 = 8;
pub const NO_ROOT: u8 = 9;

/// An I/O error on `path`, as a failure.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Failure {
    let path = path.display().to_string();
    move |e| Failure {
        code: IO,
        message: format!("{path}: {e}"),
    }
}

/// What `vmrun run` is told: the command line's options, typed.
#[derive(Debug, Clone)]
pub struct Options {
    pub arch: String,
    pub kernel_dir: PathBuf,
    pub init: PathBuf,
    pub ftrace_it: PathBuf,
    pub payloads: Vec<cmdline::Payload>,
    /// The indices in `payloads` of those run as they are, not under
    /// ftrace_it (`--direct`: another tracer).
    pub direct: Vec<usize>,
    pub results: PathBuf,
    /// Where a dynamic payload's libraries come from.
    pub sysroot: Option<PathBuf>,
    /// A root file system under ours: a directory or a cpio archive.
    pub rootfs: Option<PathBuf>,
    pub tracer: String,
    /// As given, for ftrace_it.
    pub duration: String,
    pub duration_ms: u64,
    pub channel: Channel,
    pub accel: String,
    pub timeout: Option<u64>,
    pub checks: bool,
    pub report: Option<PathBuf>,
    pub groundtruth: Option<PathBuf>,
    pub qemu: Option<String>,
    pub map: Option<PathBuf>,
}

/// The knobs' defaults (`--tracer function`, `--duration 1`, TCG, the
/// console); the paths are empty: the command line must give them.
impl Default for Options {
    fn default() -> Self {
        Options {
            arch: String::new(),
            kernel_dir: PathBuf::new(),
            direct: Vec::new(),
            init: PathBuf::new(),
            ftrace_it: PathBuf::new(),
            payloads: Vec::new(),
            results: PathBuf::new(),
            sysroot: None,
            rootfs: None,
            tracer: "function".into(),
            duration: "1".into(),
            duration_ms: 1000,
            channel: Channel::Console,
            accel: "tcg".into(),
            timeout: None,
            checks: false,
            report: None,
            groundtruth: None,
            qemu: None,
            map: None,
        }
    }
}

/// Boots the guest as `o` says and brings the results into `o.results`;
/// every progress line (`vmrun: [  1.2s] ...`) goes to `log`. On success
/// the results hold [`REPORT_FILE`] too, the returned [`Report`] as JSON.
pub fn run(o: &Options, log: &(dyn Fn(&str) + Sync)) -> Result<Report, Failure> {
    let start = Instant::now();
    let say = |msg: &str| {
        log(&format!(
            "vmrun: [{:5.1}s] {msg}",
            start.elapsed().as_secs_f64()
        ))
    };
    let boot_seconds = std::sync::Mutex::new(None);

    let kernel = qemu::kernel_image(o)?;
    let map = o
        .map
        .clone()
        .unwrap_or_else(|| o.kernel_dir.join("System.map"));
    let map = map.canonicalize().map_err(io_error(&map))?;
    let gt_qemu = o
        .qemu
        .clone()
        .unwrap_or_else(|| format!("qemu-system-{}", o.arch));
    if let Some(plugin) = &o.groundtruth {
        groundtruth::check(o, plugin, &map, &gt_qemu)?;
    }
    let (initramfs, payloads) = initramfs::gather(o)?;
    let names: Vec<String> = payloads.iter().map(|p| p.name.clone()).collect();
    let mut runs = plan::runs(o, &payloads);
    if o.groundtruth.is_some() {
        runs = groundtruth::runs(runs);
    }
    let plan = plan::text(o.channel, &runs, o.checks)?;
    let staging = collect::Staging::create(&o.results)?;
    let initrd = staging.write("initramfs.cpio", &initramfs.finish(&plan))?;
    staging.write("mpt.plan", plan.as_bytes())?;
    let mut cmd = qemu::Qemu::new(o, &kernel, &initrd);
    let gt_out = groundtruth::out_dir(&staging.dir);
    if let Some(plugin) = &o.groundtruth {
        let plugin = plugin.canonicalize().map_err(io_error(plugin))?;
        std::fs::create_dir_all(&gt_out).map_err(io_error(&gt_out))?;
        groundtruth::attach(&mut cmd, &gt_qemu, &plugin, &map, &gt_out, &names);
    }
    staging.write("qemu.cmd", cmd.script(&staging.guest).as_bytes())?;

    say(&format!(
        "booting the {} guest ({}, {}, {} run(s), results by {})",
        o.arch,
        cmd.program,
        o.accel.to_uppercase(),
        runs.len(),
        o.channel.name()
    ));
    let boot = guest::Boot {
        program: cmd.program.clone(),
        args: cmd.args,
        cwd: staging.guest.clone(),
        log: staging.dir.join("boot.log"),
        timeout: qemu::timeout(o, runs.len()),
    };
    guest::run(&boot, &|line| {
        if is_init_up(line) {
            let mut at = boot_seconds.lock().expect("not poisoned");
            at.get_or_insert(start.elapsed().as_secs_f64());
        }
        say(&format!("guest: {line}"))
    })
    .or_else(|e| match e {
        guest::GuestError::Start(m) => fail(QEMU, m),
        guest::GuestError::Guest(m) => fail(
            GUEST,
            format!(
                "{m}\n(everything is in {}; rerun it by hand with qemu.cmd there)",
                staging.dir.display()
            ),
        ),
    })?;
    say("guest powered off");

    let listed = staging.receive(o.channel, &boot.log)?;
    say(&format!(
        "{} files arrived intact (SHA-256 manifest checked)",
        listed.len()
    ));
    if o.groundtruth.is_some() {
        groundtruth::collect(&runs, &gt_out, &staging.dir)?;
        say("ground truth recorded for every run");
    }
    staging.install(&listed, &o.kernel_dir, &o.results)?;
    if let Some(report) = &o.report {
        collect::reports(report, &o.results, &names, &say);
        collect::index(report, &o.results, &names, &say);
    }
    for cut in collect::cut_outputs(&o.results, &names) {
        say(&cut);
    }
    let traces = collect::traces(&o.results, runs.iter().map(|r| r.id.as_str()));
    say(&format!(
        "done: {} in {}/",
        traces.join(", "),
        o.results.display()
    ));
    let boot_seconds = *boot_seconds.lock().expect("not poisoned");
    let report = report::read(
        &o.results,
        &runs,
        boot_seconds,
        start.elapsed().as_secs_f64(),
    );
    report::write(&report, &o.results)?;
    Ok(report)
}
