//! `summary`: how, where, how much, what was lost.

use ftrace_report::report::Summary;
use trace_analysis::select::Filter;

use super::args::Args;
use super::trace::{analyse, finish, incomplete};
use super::Failure;

pub fn run(a: &Args, filter: &Filter) -> Result<u8, Failure> {
    let an = analyse(&a.files[0], a.pid, false)?;
    let cut = incomplete(&an, &a.files[0]);
    let summary = Summary::new(&an, &a.files[0], filter);
    let out = if a.json {
        summary.json()
    } else {
        summary.text().into_bytes()
    };
    finish(&out, cut, 0)
}
