//! Booting the guest in QEMU and watching its console until it powers off.

use guest_protocol::status::Status;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Boot {
    pub program: String,
    pub args: Vec<String>,
    /// QEMU's working directory: semihosting writes files here.
    pub cwd: PathBuf,
    /// Everything the guest printed on its console.
    pub log: PathBuf,
    pub timeout: Duration,
}

#[derive(Debug)]
pub enum GuestError {
    /// QEMU could not be started.
    Start(String),
    /// The guest panicked, failed, hung or stopped early.
    Guest(String),
}

enum Event {
    Progress(String),
    Panic(String),
    Done,
    Failed(String),
    Eof(io::Result<()>),
}

/// Runs QEMU, writes the console to `boot.log`, reports the guest's progress
/// lines through `progress`, and succeeds when the guest's init said it was
/// done and the machine powered off.
pub fn run(boot: &Boot, progress: &dyn Fn(&str)) -> Result<(), GuestError> {
    let log = File::create(&boot.log)
        .map_err(|e| GuestError::Start(format!("{}: {e}", boot.log.display())))?;
    let stderr_path = boot.log.with_file_name("qemu.stderr");
    let stderr = File::create(&stderr_path)
        .map_err(|e| GuestError::Start(format!("{}: {e}", stderr_path.display())))?;
    let mut child = Command::new(&boot.program)
        .args(&boot.args)
        .current_dir(&boot.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| {
            GuestError::Start(format!(
                "cannot run {}: {e} (run `make deps`)",
                boot.program
            ))
        })?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || watch(stdout, log, &tx));

    let deadline = Instant::now() + boot.timeout;
    let (mut panicked, mut done, mut failed) = (None, false, None);
    let read_result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Progress(line)) => progress(&line),
            Ok(Event::Panic(line)) => {
                panicked.get_or_insert(line);
            }
            Ok(Event::Done) => done = true,
            Ok(Event::Failed(why)) => failed = Some(why),
            Ok(Event::Eof(r)) => break r,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Err(GuestError::Guest(format!(
                    "guest did not power off within {} s (hung? raise TIMEOUT=secs){}",
                    boot.timeout.as_secs(),
                    tail(&boot.log)
                )));
            }
        }
    };
    let _ = reader.join();
    let status = child
        .wait()
        .map_err(|e| GuestError::Guest(format!("waiting for QEMU: {e}")))?;
    let why = if let Some(line) = panicked {
        Some(format!("the guest kernel panicked: {line}"))
    } else if let Some(f) = failed {
        Some(format!("the guest's init failed: {f}"))
    } else if !status.success() {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        Some(format!(
            "QEMU exited with {status}: {}",
            err.lines().last().unwrap_or("(no message)")
        ))
    } else if !done {
        Some("the guest stopped before its init finished".to_string())
    } else {
        read_result
            .err()
            .map(|e| format!("reading the console: {e}"))
    };
    match why {
        Some(why) => Err(GuestError::Guest(format!("{why}{}", tail(&boot.log)))),
        None => Ok(()),
    }
}

fn watch(stdout: impl Read, mut log: File, tx: &mpsc::Sender<Event>) {
    let mut reader = BufReader::with_capacity(256 << 10, stdout);
    let mut line = Vec::new();
    let result = loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
        if let Err(e) = log.write_all(&line) {
            break Err(e);
        }
        if line.starts_with(console_frames::MARKER.as_bytes()) {
            // A console transfer takes seconds: say when a big file is through.
            let end = String::from_utf8_lossy(&line);
            let mut fields = end.split(' ').skip(1);
            if let (Some("E"), Some(name), Some(chunks)) =
                (fields.next(), fields.next(), fields.next())
            {
                let kib = chunks.parse::<usize>().unwrap_or(0) * console_frames::CHUNK / 1024;
                if kib >= 256 {
                    let _ = tx.send(Event::Progress(format!(
                        "sent {name} ({kib} KiB) on the console"
                    )));
                }
            }
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let event = match Status::find(text) {
            Some(Status::Progress(msg)) => Some(Event::Progress(msg.to_string())),
            Some(Status::Done(_)) => Some(Event::Done),
            Some(Status::Failed(why)) => Some(Event::Failed(why.to_string())),
            None => text
                .find("Kernel panic - ")
                .map(|at| Event::Panic(text[at..].to_string())),
        };
        if let Some(e) = event {
            let _ = tx.send(e);
        }
    };
    let _ = log.flush();
    let _ = tx.send(Event::Eof(result));
}

/// The last console lines (without frames), to show with a failure.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(console_frames::MARKER))
        .collect();
    let from = lines.len().saturating_sub(15);
    format!(
        "\n--- last lines of {} ---\n{}",
        log.display(),
        lines[from..].join("\n")
    )
}
