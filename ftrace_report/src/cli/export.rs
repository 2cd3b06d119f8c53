//! `perfetto` and `folded`: every selected event, for other tools.

use ftrace_report::export;
use trace_analysis::select::Filter;

use super::args::{Args, Command};
use super::trace::{analyse, finish, incomplete, require_target};
use super::Failure;

pub fn run(a: &Args, filter: &Filter) -> Result<u8, Failure> {
    let an = analyse(&a.files[0], a.pid, true)?;
    require_target(&an, &a.files[0], filter)?;
    let cut = incomplete(&an, &a.files[0]);
    let out = if a.cmd == Command::Perfetto {
        export::perfetto(&an, filter)
    } else {
        export::folded(&an, filter)
    };
    finish(&out, cut, 0)
}
