//! `funcs` and `graph`: the target's functions, and its call graph.

use ftrace_report::report;
use trace_analysis::select::{self, Filter};

use super::args::{Args, Command};
use super::trace::{analyse, finish, incomplete, require_target};
use super::Failure;

pub fn run(a: &Args, filter: &Filter) -> Result<u8, Failure> {
    let an = analyse(&a.files[0], a.pid, false)?;
    require_target(&an, &a.files[0], filter)?;
    let cut = incomplete(&an, &a.files[0]);
    let fp = select::footprint(&an, filter);
    let out = match (a.cmd, a.json) {
        (Command::Funcs, _) => report::funcs_text(&fp),
        (_, false) => report::graph_dot(&fp),
        (_, true) => report::graph_json(&an, &fp, filter),
    };
    finish(&out, cut, 0)
}
