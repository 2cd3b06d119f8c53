//! `diff A B`: functions and edges only in A, only in B, in both.

use ftrace_report::report;
use trace_analysis::select::{self, Filter};

use super::args::Args;
use super::trace::{analyse, finish, incomplete, require_target};
use super::{exit, Failure};

pub fn run(a: &Args, filter: &Filter) -> Result<u8, Failure> {
    let (fa, fb) = (&a.files[0], &a.files[1]);
    // One analysis at a time: a trace's record can be large.
    let an_a = analyse(fa, a.pid, false)?;
    require_target(&an_a, fa, filter)?;
    let mut cut = incomplete(&an_a, fa);
    let fp_a = select::footprint(&an_a, filter);
    drop(an_a);
    let an_b = analyse(fb, a.pid, false)?;
    require_target(&an_b, fb, filter)?;
    cut |= incomplete(&an_b, fb);
    let fp_b = select::footprint(&an_b, filter);
    let d = select::diff(&fp_a, &fp_b);
    let differ = !(d.funcs[0].is_empty()
        && d.funcs[1].is_empty()
        && d.edges[0].is_empty()
        && d.edges[1].is_empty());
    let out = if a.json {
        report::diff_json(&d, fa, fb)
    } else {
        report::diff_text(&d, fa, fb)
    };
    finish(
        &out,
        cut,
        if a.exit_code && differ {
            exit::DIFFERENT
        } else {
            0
        },
    )
}
