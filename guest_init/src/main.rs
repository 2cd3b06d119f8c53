//! PID 1 of the tracing guest.
//!
//! Mounts proc, sysfs, devtmpfs and tracefs (when the kernel has it), follows `/etc/mpt.plan` (see
//! `guest_protocol::plan`): for each run saves the settings a launcher may
//! touch, runs `/usr/bin/ftrace_it ARGS` (for a killed run: kills it
//! mid-trace, saves the settings, runs `ftrace_it --restore`), saves them
//! again; then ships every
//! result file with a SHA-256 manifest to the host and powers the machine
//! off. Nothing else runs in the guest. It reports on the console with
//! `guest_protocol::status` lines, ending with done or failed, which vmrun
//! looks for.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod ship;
mod state;

use guest_protocol::plan::{Channel, Plan, RunKind};
use guest_protocol::status::{Status, INIT_UP};
use guest_protocol::{
    parse_duration_ms, BIN_DIR, CUT_SUFFIX, DURATION_RULE, FTRACE_IT, MAX_OUTPUT, OUT_DIR,
    PLAN_PATH, TRACEABLE_FILE,
};
use rustix::io::Errno;
use rustix::mount::MountFlags;
use rustix::system::RebootCommand;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TRACEFS: &str = "/sys/kernel/tracing";

fn main() {
    let start = Instant::now();
    let outcome = run(&start);
    match &outcome {
        Ok(()) => println!(
            "{}",
            Status::Done(format_args!("in {:.2}s", start.elapsed().as_secs_f64()))
        ),
        Err(e) => println!("{}", Status::Failed(e)),
    }
    let _ = io::stdout().flush();
    rustix::fs::sync();
    // PID 1 must never return: the kernel panics when it exits.
    let _ = rustix::system::reboot(RebootCommand::PowerOff);
    loop {
        std::thread::park();
    }
}

fn run(start: &Instant) -> Result<(), String> {
    for (fstype, target) in [("proc", "/proc"), ("sysfs", "/sys"), ("devtmpfs", "/dev")] {
        mount(fstype, target)?;
    }
    // A kernel without ftrace (the tailor's defconfig row) still runs
    // untraced payloads; a traced run then fails in ftrace_it, saying why.
    let no_tracefs = mount("tracefs", TRACEFS).err();
    let text = fs::read_to_string(PLAN_PATH).map_err(|e| format!("{PLAN_PATH}: {e}"))?;
    let plan = Plan::parse(&text).map_err(|e| format!("{PLAN_PATH}: {e}"))?;
    fs::create_dir_all(OUT_DIR).map_err(|e| format!("{OUT_DIR}: {e}"))?;
    let out = Path::new(OUT_DIR);
    let ftrace_it = format!("{BIN_DIR}/{FTRACE_IT}");
    let say = |msg: String| {
        let secs = start.elapsed().as_secs_f64();
        println!("{}", Status::Progress(format_args!("[{secs:.2}s] {msg}")));
    };
    say(format!("{INIT_UP}, {} run(s)", plan.runs().count()));
    if let Some(e) = no_tracefs {
        say(format!("warning: no tracing: {e}"));
    }

    expand_ring_buffer();
    copy("/proc/cmdline", &out.join("cmdline"));
    copy("/proc/kallsyms", &out.join("kallsyms"));
    copy("/proc/config.gz", &out.join("config.gz"));
    copy("/proc/interrupts", &out.join("interrupts.before"));
    copy(
        &format!("{TRACEFS}/available_filter_functions"),
        &out.join(TRACEABLE_FILE),
    );
    let mut table = String::from("# id\texit\tseconds\n");
    for r in plan.runs() {
        let snap = || state::snapshot(Path::new(TRACEFS), Path::new("/proc"), Path::new("/sys"));
        write(
            &out.join(format!("{}.state-before", r.id)),
            snap().as_bytes(),
        )?;
        let args: Vec<&str> = r.args.iter().collect();
        if matches!(r.kind, RunKind::Direct | RunKind::Untraced) {
            say(format!("run {}: {}", r.id, args.join(" ")));
            let t = Instant::now();
            let status = direct(out, r.id, &args, r.kind == RunKind::Untraced)
                .map_err(|e| format!("run {}: {e}", r.id))?;
            finish_run(out, r.id, &status, t, &snap(), &mut table, &say)?;
            continue;
        }
        say(format!("run {}: ftrace_it {}", r.id, args.join(" ")));
        // Opening is enough: the kernel counts trace_pipe users.
        let reader = (r.kind == RunKind::Reader)
            .then(|| fs::File::open(Path::new(TRACEFS).join("trace_pipe")))
            .transpose()
            .map_err(|e| format!("{TRACEFS}/trace_pipe: {e}"))?;
        let t = Instant::now();
        let log = fs::File::create(out.join(format!("{}.ftrace_it.log", r.id)))
            .map_err(|e| format!("{}.ftrace_it.log: {e}", r.id))?;
        let mut child = Command::new(&ftrace_it)
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {ftrace_it}: {e}"))?;
        if r.kind == RunKind::Killed {
            kill_while_tracing(&mut child).map_err(|e| format!("run {}: {e}", r.id))?;
        }
        let status = child
            .wait()
            .map_err(|e| format!("run {}: waiting for ftrace_it: {e}", r.id))?;
        if r.kind == RunKind::Killed {
            write(
                &out.join(format!("{}.state-killed", r.id)),
                snap().as_bytes(),
            )?;
            restore(&ftrace_it, out, r.id)?;
        }
        drop(reader);
        finish_run(out, r.id, &status, t, &snap(), &mut table, &say)?;
    }
    copy("/proc/interrupts", &out.join("interrupts.after"));
    write(&out.join("runs.tsv"), table.as_bytes())?;

    let files = read_all(out)?;
    let bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    say(format!(
        "shipping {} files, {bytes} bytes, by {:?}",
        files.len(),
        plan.channel()
    ));
    match plan.channel() {
        Channel::Semihosting => ship::semihosting(&files),
        Channel::Console => console_with_noise(&files, plan.console_noise(), &say),
    }
    .map_err(|e| format!("shipping results: {e}"))?;
    let wanted: Vec<&str> = plan.console_copies().collect();
    if !wanted.is_empty() {
        let copies: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .filter(|(n, _)| wanted.contains(&n.as_str()))
            .collect();
        if copies.len() != wanted.len() {
            return Err(format!(
                "console copy: some of {wanted:?} were not produced"
            ));
        }
        say(format!("console copy of {wanted:?}"));
        console_with_noise(&copies, plan.console_noise(), &say)
            .map_err(|e| format!("console copy: {e}"))?;
    }
    Ok(())
}

/// Cuts the payload's `ID.stdout` and `ID.stderr` to `MAX_OUTPUT` bytes
/// and notes in `ID.cut` what it wrote in all.
/// After a run: `ID.exit`, `ID.state-after` (the settings as the run left
/// them), the program's output bounded, its `runs.tsv` line, a progress line.
fn finish_run(
    out: &Path,
    id: &str,
    status: &std::process::ExitStatus,
    started: Instant,
    state_after: &str,
    table: &mut String,
    say: &dyn Fn(String),
) -> Result<(), String> {
    let secs = started.elapsed().as_secs_f64();
    let exit = exit_text(status);
    write(
        &out.join(format!("{id}.exit")),
        format!("{exit}\n").as_bytes(),
    )?;
    write(
        &out.join(format!("{id}.state-after")),
        state_after.as_bytes(),
    )?;
    bound_output(out, id)?;
    table.push_str(&format!("{id}\t{exit}\t{secs:.3}\n"));
    say(format!("run {id}: {exit} after {secs:.2}s"));
    Ok(())
}

fn bound_output(out: &Path, id: &str) -> Result<(), String> {
    let mut cut = String::new();
    for stream in ["stdout", "stderr"] {
        let path = out.join(format!("{id}.{stream}"));
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.len() > MAX_OUTPUT {
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(MAX_OUTPUT))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            cut.push_str(&format!("{stream} {}\n", meta.len()));
        }
    }
    if cut.is_empty() {
        return Ok(());
    }
    write(&out.join(format!("{id}.{CUT_SUFFIX}")), cut.as_bytes())
}

/// Frames on the console, watched by a helper thread (see `ConsoleHelper`).
fn console_with_noise(
    files: &[(String, Vec<u8>)],
    noise: bool,
    say: &dyn Fn(String),
) -> io::Result<()> {
    let helper = ConsoleHelper::start(noise);
    let mut out = Counting {
        inner: io::stdout().lock(),
        written: helper.written.clone(),
    };
    // Moderate writes: each returns once its bytes are queued on the tty,
    // well within the helper's stall limit even on a slow console.
    let sent = ship::console(files, &mut BufWriter::with_capacity(16 << 10, &mut out));
    let (messages, kicks) = helper.stop();
    if noise {
        say(format!(
            "{messages} kernel messages printed during the console transfer"
        ));
    }
    if kicks > 0 {
        say(format!(
            "the console stalled {kicks} time(s) and was kicked"
        ));
    }
    sent
}

/// The kernel allocates the ring buffer on the first tracer use and never
/// gives it back; `buffer_size_kb` then reads `1410` where it read
/// `7 (expanded: 1408)`. Expanding it up front makes the settings read the
/// same before and after every run, the first one included.
fn expand_ring_buffer() {
    let path = format!("{TRACEFS}/buffer_size_kb");
    let Ok(now) = fs::read_to_string(&path) else {
        return;
    };
    if let Some(kb) = now
        .split_once("(expanded: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(kb, _)| kb.trim())
    {
        if let Err(e) = fs::write(&path, format!("{kb}\n")) {
            println!(
                "{}",
                Status::Progress(format_args!(
                    "warning: cannot expand the ring buffer ({path}: {e})"
                ))
            );
        }
    }
}

/// A `run-direct`: `PROG ARG...` in the results directory, its output in
/// `ID.stdout` and `ID.stderr`; `SECS` after one of its descendants runs
/// another program (what it traces), SIGKILL for those, then its own end.
/// `untraced` (a `run-untraced`): `SECS` after PROG's start, SIGKILL for it
/// and its descendants.
fn direct(
    out: &Path,
    id: &str,
    args: &[&str],
    untraced: bool,
) -> Result<std::process::ExitStatus, String> {
    let [secs, prog, rest @ ..] = args else {
        return Err("run-direct needs SECS PROG [ARG...]".into());
    };
    let ms = parse_duration_ms(secs.as_bytes())
        .ok_or_else(|| format!("'{secs}' is not a duration ({DURATION_RULE})"))?;
    let file = |stream: &str| {
        let path = out.join(format!("{id}.{stream}"));
        fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut child = Command::new(prog)
        .args(rest)
        .current_dir(out)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(file("stdout")?)
        .stderr(file("stderr")?)
        .spawn()
        .map_err(|e| format!("cannot start {prog}: {e}"))?;
    // The time counts from the traced program's start: a tracer may take
    // long to set up.
    let mut deadline = untraced.then(|| Instant::now() + Duration::from_millis(ms));
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        let mut traced: Vec<u32> = descendants(child.id())
            .into_iter()
            .filter(|pid| {
                untraced
                    || fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e != Path::new(prog))
            })
            .collect();
        if untraced {
            traced.push(child.id());
        }
        let now = Instant::now();
        match deadline {
            None if !traced.is_empty() => deadline = Some(now + Duration::from_millis(ms)),
            Some(d) if now >= d => {
                for pid in traced {
                    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
                        let _ = rustix::process::kill_process(p, rustix::process::Signal::Kill);
                    }
                }
                break;
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait().map_err(|e| format!("waiting for {prog}: {e}"))
}

/// The pids of the processes descending from `root`, from `/proc/N/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `PID (COMM) STATE PPID ...`: COMM may hold anything but ends at
        // the last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|&&(_, pp)| pp == p)
                .map(|&(c, _)| c),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// SIGKILL for ftrace_it once it has set the tracer up (the program is
/// then released and traced): what a crash or the OOM killer would do.
fn kill_while_tracing(child: &mut std::process::Child) -> Result<(), String> {
    let tracer = Path::new(TRACEFS).join("current_tracer");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = fs::read_to_string(&tracer).map_err(|e| format!("{}: {e}", tracer.display()))?;
        if now.trim() != "nop" {
            break;
        }
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Err("ftrace_it ended before it set the tracer up".into());
        }
        if Instant::now() > deadline {
            return Err("ftrace_it did not set the tracer up within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Past the tracer switch: the program is released and runs traced.
    std::thread::sleep(Duration::from_millis(200));
    child
        .kill()
        .map_err(|e| format!("cannot kill ftrace_it: {e}"))
}

/// `ftrace_it --restore`, as the user of a crashed run would type it;
/// its output and exit go to `ID.restore.log` and `ID.restore-exit`.
fn restore(ftrace_it: &str, out: &Path, id: &str) -> Result<(), String> {
    let output = Command::new(ftrace_it)
        .arg("--restore")
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {ftrace_it} --restore: {e}"))?;
    let mut log = output.stdout;
    log.extend_from_slice(&output.stderr);
    write(&out.join(format!("{id}.restore.log")), &log)?;
    write(
        &out.join(format!("{id}.restore-exit")),
        format!("{}\n", exit_text(&output.status)).as_bytes(),
    )
}

fn mount(fstype: &str, target: &str) -> Result<(), String> {
    let _ = fs::create_dir_all(target);
    let flags = MountFlags::empty();
    match rustix::mount::mount2(Some(fstype), target, Some(fstype), flags, None) {
        Ok(()) | Err(Errno::BUSY) => Ok(()),
        // In std's words: without its `std` feature rustix shows only the number.
        Err(e) => Err(format!(
            "mount {fstype} on {target}: {}",
            io::Error::from_raw_os_error(e.raw_os_error())
        )),
    }
}

/// Optional inputs (kallsyms, config.gz) are skipped when the kernel lacks them.
fn copy(from: &str, to: &Path) {
    if let Ok(data) = fs::read(from) {
        let _ = fs::write(to, data);
    }
}

fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

fn exit_text(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code.to_string(),
        (None, Some(sig)) => format!("signal {sig}"),
        (None, None) => "unknown".into(),
    }
}

fn read_all(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let data = fs::read(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
        files.push((name, data));
    }
    files.sort();
    Ok(files)
}

/// Counts the bytes that reached the console.
struct Counting<W> {
    inner: W,
    written: Arc<AtomicUsize>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A thread beside a console transfer that
/// - with `noise`, prints kernel messages every few milliseconds, so frames
///   and messages really interleave (the host's test checks the decoder
///   copes with that);
/// - kicks the console when the transfer stalls: under QEMU TCG the 8250
///   UART's transmit interrupt is sometimes lost and the tty then waits
///   forever; a kernel message goes out by polling and re-arms it.
struct ConsoleHelper {
    written: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, usize)>,
}

impl ConsoleHelper {
    fn start(noise: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let (flag, progress) = (stop.clone(), written.clone());
        let thread = std::thread::spawn(move || {
            let Ok(mut kmsg) = fs::OpenOptions::new().write(true).open("/dev/kmsg") else {
                return (0, 0);
            };
            let tick = Duration::from_millis(if noise { 3 } else { 50 });
            let (mut messages, mut kicks) = (0, 0);
            let (mut seen, mut since) = (0, Instant::now());
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                // Level 1 (alert): on the console whatever the loglevel.
                if noise {
                    let m = format!("<1>mpt-noise {messages}: a kernel message between frames\n");
                    if kmsg.write_all(m.as_bytes()).is_ok() {
                        messages += 1;
                    }
                }
                let now = progress.load(Ordering::Relaxed);
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() > Duration::from_millis(500) {
                    let kick = format!("<1>{}\n", Status::Progress("console stalled, kicking it"));
                    if kmsg.write_all(kick.as_bytes()).is_ok() {
                        kicks += 1;
                    }
                    since = Instant::now();
                }
            }
            (messages, kicks)
        });
        ConsoleHelper {
            written,
            stop,
            thread,
        }
    }

    /// Messages printed and kicks given.
    fn stop(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}
