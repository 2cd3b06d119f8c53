//! A trace file as input: text or trace-cmd's `trace.dat`, told apart by
//! [`trace_reader::input`].

use std::fmt;
use std::fs::File;
use std::io::{self, Read};

use trace_reader::input::{self, Input};

use super::{Analysis, Error};

/// Which kind of file a trace was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Text,
    TraceDat,
}

/// Why a trace file gives no analysis.
#[derive(Debug)]
pub enum ReadError {
    Open(io::Error),
    /// Reading failed; for text, after this many lines.
    Read {
        after_line: Option<u64>,
        error: io::Error,
    },
    /// A line that must be valid is not (the `ftrace_it` header).
    Input {
        line: u64,
        msg: String,
    },
    /// The trace.dat is truncated or damaged.
    TraceDat(trace_dat::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Open(e) => write!(f, "cannot open: {e}"),
            ReadError::Read {
                after_line: None,
                error,
            } => write!(f, "read error: {error}"),
            ReadError::Read {
                after_line: Some(n),
                error,
            } => write!(f, "read error after line {n}: {error}"),
            ReadError::Input { line, msg } => write!(f, "line {line}: {msg}"),
            ReadError::TraceDat(e) => e.fmt(f),
        }
    }
}

impl Analysis {
    /// Reads the trace `file` (`-`: standard input) to its end.
    pub fn read_file(mut self, file: &str) -> Result<(Analysis, Source), ReadError> {
        let input: Box<dyn Read> = if file == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(file).map_err(ReadError::Open)?)
        };
        let read = |error| ReadError::Read {
            after_line: None,
            error,
        };
        match input::open(input).map_err(read)? {
            Input::Dat(data) => {
                self.read_trace_dat(&data).map_err(ReadError::TraceDat)?;
                Ok((self, Source::TraceDat))
            }
            Input::Text(text) => match self.read(text) {
                Ok(()) => Ok((self, Source::Text)),
                Err(Error::Io(error)) => Err(ReadError::Read {
                    after_line: Some(self.lines),
                    error,
                }),
                Err(Error::Input { line, msg }) => Err(ReadError::Input { line, msg }),
            },
        }
    }
}

/// The events of a trace by attribution: `ftrace_report summary`'s
/// `events:` line, which vmrun also notes beside each page (`Display`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub events: u64,
    /// The target's, or its process tree's.
    pub target: u64,
    pub other_tasks: u64,
    /// function_graph events whose task is not known.
    pub task_unknown: u64,
    /// The target has more tasks than itself: `target` is its tree's.
    pub process_tree: bool,
}

impl EventCounts {
    /// The counts of `events`, `target`'s of them and `task_unknown`; the
    /// rest are other tasks'.
    pub fn new(events: u64, target: u64, task_unknown: u64, process_tree: bool) -> EventCounts {
        EventCounts {
            events,
            target,
            other_tasks: events.saturating_sub(target + task_unknown),
            task_unknown,
            process_tree,
        }
    }

    /// Whose events [`EventCounts::target`] counts.
    pub fn attributed(&self) -> &'static str {
        if self.process_tree {
            "process tree"
        } else {
            "target"
        }
    }
}

impl fmt::Display for EventCounts {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "events: {} ({} {}, other tasks {}, task unknown {})",
            self.events,
            self.attributed(),
            self.target,
            self.other_tasks,
            self.task_unknown
        )
    }
}

impl Analysis {
    pub fn event_counts(&self) -> EventCounts {
        let target = self.acc.as_ref().map_or(0, |a| a.counts.iter().sum());
        EventCounts::new(self.events, target, self.unattributed, self.tree.len() > 1)
    }
}

/// The event counts of the trace `file` with its usual target (what `vmrun`
/// notes beside each page).
pub fn event_counts(file: &str) -> Result<EventCounts, ReadError> {
    Ok(Analysis::new(None).read_file(file)?.0.event_counts())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_and_its_event_counts() {
        let path = std::env::temp_dir().join(format!("trace_analysis-file-{}", std::process::id()));
        std::fs::write(
            &path,
            "# ftrace_it.pid: 7\n a-7 [000] ..... 1.0: foo <-bar\n b-8 [001] ..... 1.1: baz <-qux\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let counts = event_counts(file).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            counts,
            EventCounts {
                events: 2,
                target: 1,
                other_tasks: 1,
                task_unknown: 0,
                process_tree: false,
            }
        );
        // vmrun's note beside the page: summary's events: line.
        assert_eq!(
            counts.to_string(),
            "events: 2 (target 1, other tasks 1, task unknown 0)"
        );
        let e = event_counts(file).unwrap_err();
        assert!(matches!(e, ReadError::Open(_)));
        assert!(e.to_string().starts_with("cannot open: "), "{e}");
    }
}
