//! The analysis of one program in an ftrace trace: events attributed by
//! pid to the target and its process tree, phases, contexts, the call
//! edges, and what a filter selects of them. See ftrace_report/README.md
//! ("Attribution") for the rules.

pub mod analyze;
pub mod execve;
pub mod model;
pub mod names;
pub mod select;
