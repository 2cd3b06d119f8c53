//! The command line: [`args`] parses it into a [`Command`], one module per
//! command runs it.

use trace_analysis::model::{Phase, Selection, CONTEXTS};
use trace_analysis::select::Filter;

pub mod args;
mod diff;
mod exit;
mod export;
mod extract;
mod footprint;
mod funcs;
mod groundtruth;
mod help;
mod html;
mod summary;
pub mod trace;

use args::{Args, Command};

/// An exit status and its one-line message.
pub type Failure = (u8, String);

pub fn run(a: &Args) -> Result<u8, Failure> {
    let filter = Filter {
        sel: match (&a.phases, &a.contexts) {
            (None, None) => Selection::default_phases(),
            (p, c) => Selection::new(
                p.as_deref()
                    .unwrap_or(&[Phase::Exec, Phase::Run, Phase::Exit]),
                c.as_deref().unwrap_or(&CONTEXTS),
            ),
        },
        callers_only: a.callers_only,
        normalize: a.normalize,
    };
    match a.cmd {
        Command::Summary => summary::run(a, &filter),
        Command::Funcs | Command::Graph => funcs::run(a, &filter),
        Command::Diff => diff::run(a, &filter),
        Command::Footprint => footprint::run(a, &filter),
        Command::Html => html::run(a, &filter),
        Command::Perfetto | Command::Folded => export::run(a, &filter),
        Command::Groundtruth => groundtruth::run(a),
        Command::Extract => match &a.output {
            Some(dir) => extract::run(&a.files[0], dir),
            None => unreachable!("extract without -o is a usage error"),
        },
    }
}
