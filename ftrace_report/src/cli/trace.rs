//! What the commands share: a trace read and checked, the kernel build
//! tree beside it, the standard output.

use guest_protocol::header;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use trace_analysis::analyze::{Analysis, ReadError, Source};
use trace_analysis::model::{Phase, Selection, CONTEXTS};
use trace_analysis::select::Filter;

use super::{exit, Failure};

/// The analysis of `file`; with `log`, every event kept (exports, html).
pub fn analyse(file: &str, pid: Option<u32>, log: bool) -> Result<Analysis, Failure> {
    let mut an = Analysis::new(pid);
    if log {
        an = an.logging();
    }
    let (an, source) = an.read_file(file).map_err(|e| match e {
        ReadError::Open(_) | ReadError::Read { .. } => (exit::READ, format!("{file}: {e}")),
        ReadError::Input { line, msg } => (
            exit::INPUT,
            format!("{file}:{line}: {msg}; fix or remove that line"),
        ),
        ReadError::TraceDat(e) => (
            exit::TRACE_DAT,
            format!(
                "{file}: {e}: the file is truncated or damaged; record it again (or see what `trace-cmd report -i {file}` makes of it)"
            ),
        ),
    })?;
    if an.events == 0 && source == Source::TraceDat {
        return Err((
            exit::INPUT,
            format!(
                "{file}: no function or function_graph event in the trace.dat's {} events; record with `trace-cmd record -p function` or `-p function_graph`",
                an.lines
            ),
        ));
    }
    if an.events == 0 {
        let skipped: Vec<String> = trace_reader::SKIPS
            .iter()
            .filter(|s| an.skipped[**s as usize] > 0)
            .map(|s| format!("{} {}", an.skipped[*s as usize], s.name()))
            .collect();
        return Err((
            exit::INPUT,
            format!(
                "{file}: no function or function_graph event in {} lines (skipped: {}); is this an ftrace text trace?",
                an.lines,
                if skipped.is_empty() { "none".into() } else { skipped.join(", ") }
            ),
        ));
    }
    Ok(an)
}

/// Checks that footprint commands have a target with events; warns about
/// losses and a target that never reaches execve.
pub fn require_target(an: &Analysis, file: &str, f: &Filter) -> Result<(), Failure> {
    let Some((pid, _)) = an.target else {
        let tasks: Vec<String> = an
            .tasks()
            .iter()
            .take(5)
            .map(|t| {
                format!(
                    "{} ({}, {} events)",
                    t.pid,
                    String::from_utf8_lossy(&t.comm),
                    t.events
                )
            })
            .collect();
        return Err((
            exit::NO_TARGET,
            format!(
                "{file}: no target: no ftrace_it header and no task enters execve; pass --pid N (busiest tasks: {})",
                tasks.join(", ")
            ),
        ));
    };
    if an.event_counts().target == 0 {
        return Err((
            exit::NO_TARGET,
            format!("{file}: target pid {pid} has no event; check --pid or the header"),
        ));
    }
    let pre_exec = Selection::new(&[Phase::PreExec], &CONTEXTS).mask;
    if f.sel.mask & pre_exec == 0
        && an
            .acc
            .as_ref()
            .is_some_and(|a| a.phase_start[Phase::Exec as usize].is_none())
    {
        eprintln!(
            "ftrace_report: warning: {file}: pid {pid} never enters execve: all its events are pre-exec (use --phase pre-exec)"
        );
    }
    let lost = an.lost();
    if lost > 0 || an.lost_uncounted > 0 {
        let more = if an.lost_uncounted > 0 {
            " or more"
        } else {
            ""
        };
        eprintln!(
            "ftrace_report: warning: {file}: {lost}{more} events were lost: the result may be incomplete"
        );
    }
    Ok(())
}

/// Warns when a trace's events per CPU disagree with its header's counts;
/// true if so.
pub fn incomplete(an: &Analysis, file: &str) -> bool {
    let m = an.header_mismatch();
    if !m.is_empty() {
        eprintln!(
            "ftrace_report: warning: {file}: {}: the trace is cut short or damaged, the results are incomplete",
            ftrace_report::report::mismatches(&m)
        );
    }
    !m.is_empty()
}

/// The kernel build tree `make trace` recorded beside a trace.
pub fn recorded_build(file: &str) -> Option<PathBuf> {
    let beside = Path::new(file)
        .parent()
        .unwrap_or(Path::new("."))
        .join(guest_protocol::KERNEL_BUILD_FILE);
    std::fs::read_to_string(beside)
        .ok()
        .map(|text| PathBuf::from(text.trim_end()))
}

/// The index of the traced kernel's build tree, checked against the trace
/// header's kernel release and build.
pub fn kernel_index(
    an: &Analysis,
    file: &str,
    dir: &Path,
) -> Result<kernel_index::KernelIndex, Failure> {
    let (index, cache) = kernel_index::KernelIndex::open(dir, &kernel_index::Cache::InBuildTree)
        .map_err(|e| (exit::kernel(&e), e.to_string()))?;
    if let kernel_index::CacheUse::NotWritten(e) = cache {
        eprintln!(
            "ftrace_report: warning: the index of {} is not cached: {e}",
            dir.display()
        );
    }
    if let Some(release) = an.header.get(header::KERNEL) {
        index
            .check_kernel(release, an.header.get(header::KERNEL_VERSION))
            .map_err(|e| (exit::kernel(&e), format!("{file}: {e}")))?;
    }
    Ok(index)
}

pub fn write_out(b: &[u8]) -> Result<(), Failure> {
    let mut o = io::stdout().lock();
    match o.write_all(b).and_then(|_| o.flush()) {
        Ok(()) => Ok(()),
        // A reader that has seen enough (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err((exit::WRITE, format!("standard output: {e}"))),
    }
}

/// Writes a command's output; its status, a trace cut short first.
pub fn finish(out: &[u8], cut: bool, status: u8) -> Result<u8, Failure> {
    write_out(out)?;
    Ok(if cut { exit::INCOMPLETE } else { status })
}
