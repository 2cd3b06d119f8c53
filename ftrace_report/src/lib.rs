//! The views of `ftrace_report`: function lists, graphs, diffs, summaries,
//! the exports and the HTML page's data, written from a
//! [`trace_analysis`] result. See README.md.

pub mod export;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod pages;
pub mod report;
