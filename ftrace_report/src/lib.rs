//! Kernel footprint of one program from an ftrace `function` or
//! `function_graph` trace. See README.md for the rules.

pub mod analyze;
pub mod execve;
pub mod export;
pub mod footprint;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod groundtruth;
pub mod model;
pub mod names;
pub mod pages;
pub mod parse;
pub mod report;
pub mod study;
