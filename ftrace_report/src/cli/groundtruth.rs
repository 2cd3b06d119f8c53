//! `groundtruth TRACE GT`: the emulator's record of a run against its
//! trace; also the window of the record that `footprint --groundtruth`
//! maps.

use std::collections::BTreeMap;
use std::path::Path;

use ftrace_groundtruth as groundtruth;
use trace_analysis::analyze::Analysis;

use super::args::Args;
use super::trace::{analyse, finish, kernel_index, recorded_build};
use super::{exit, Failure};

pub fn run(a: &Args) -> Result<u8, Failure> {
    let (trace, mut gt) = (&a.files[0], record(&a.files[1])?);
    let notrace = a.notrace.as_deref().map(record).transpose()?;
    let an = analyse(trace, None, true)?;
    let build = match a.kernel_build.clone().or_else(|| recorded_build(trace)) {
        Some(dir) => {
            let b = groundtruth::Build::new(kernel_index(&an, trace, &dir)?);
            // The guest's list of what ftrace can trace, beside the trace.
            let traceable = Path::new(trace).with_file_name(guest_protocol::TRACEABLE_FILE);
            Some(match std::fs::read_to_string(traceable) {
                Ok(text) => b.with_traceable(&text),
                Err(_) => b,
            })
        }
        None => None,
    };
    let (ftrace, last) = ftrace_window(&an, trace, &mut gt)?;
    let (text, exact) = groundtruth::report(
        &gt,
        &ftrace,
        last.as_deref(),
        notrace.as_ref(),
        build.as_ref(),
    );
    finish(
        text.as_bytes(),
        false,
        if exact { 0 } else { exit::DIFFERENT },
    )
}

/// A gt_plugin record.
pub fn record(file: &str) -> Result<groundtruth::Record, Failure> {
    let text = std::fs::read_to_string(file).map_err(|e| (exit::READ, format!("{file}: {e}")))?;
    groundtruth::parse(&text).map_err(|e| (exit::INPUT, format!("{file}: {e}")))
}

/// ftrace's events of the target per function and the function of the
/// trace's last event, which ends the ground truth's window.
type FtraceWindow = (BTreeMap<String, u64>, Option<String>);

/// Also marks the entries of `gt` that ftrace's pid filter drops at the
/// task's switch-outs ([`groundtruth::mark_dropped`]). `an` has its event
/// log ([`analyse`] with `log`).
fn ftrace_window(
    an: &Analysis,
    trace: &str,
    gt: &mut groundtruth::Record,
) -> Result<FtraceWindow, Failure> {
    let ftrace = groundtruth::ftrace_counts(an);
    if ftrace.is_empty() {
        return Err((exit::NO_TARGET, format!("{trace}: no event of the target")));
    }
    if let Some((pid, _)) = an.target {
        groundtruth::mark_dropped(gt, &groundtruth::task_events(an, pid), &ftrace);
    }
    Ok((ftrace, groundtruth::last_function(an)))
}

/// The ground truth over the trace's window, as `groundtruth` cuts it.
pub fn window(
    an: &Analysis,
    trace: &str,
    mut gt: groundtruth::Record,
) -> Result<groundtruth::Record, Failure> {
    let (ftrace, last) = ftrace_window(an, trace, &mut gt)?;
    Ok(groundtruth::window(&gt, &ftrace, last.as_deref()))
}
