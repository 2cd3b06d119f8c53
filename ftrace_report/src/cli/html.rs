//! `html TRACE [B]`: one self-contained page, or the diff page of two.

use std::path::Path;

use ftrace_report::pages::{self, Traced};
use kernel_footprint::FootprintMap;
use trace_analysis::analyze::Analysis;
use trace_analysis::select::Filter;

use super::args::Args;
use super::trace::{analyse, incomplete, kernel_index, recorded_build, require_target, write_out};
use super::{exit, Failure};

pub fn run(a: &Args, filter: &Filter) -> Result<u8, Failure> {
    let mut traced = Vec::new();
    let mut cut = false;
    for file in &a.files {
        let an = analyse(file, a.pid, a.files.len() == 1)?;
        require_target(&an, file, filter)?;
        cut |= incomplete(&an, file);
        let map = page_map(&an, file, a.kernel_build.as_deref(), filter)?;
        traced.push((an, map));
    }
    let t: Vec<Traced> = traced
        .iter()
        .zip(&a.files)
        .map(|((an, map), file)| Traced {
            an,
            file,
            map: map.as_ref().map_err(String::clone),
        })
        .collect();
    let page = match &t[..] {
        [one] => pages::page(one, filter),
        [x, y] => pages::diff_page(x, y, filter),
        _ => unreachable!("html takes 1 or 2 traces"),
    };
    let html = report_pages::render(&page).map_err(|e| (exit::LAYOUT, e.to_string()))?;
    match &a.output {
        Some(path) => std::fs::write(path, html)
            .map_err(|e| (exit::WRITE, format!("{}: {e}", path.display())))?,
        None => write_out(html.as_bytes())?,
    }
    Ok(if cut { exit::INCOMPLETE } else { 0 })
}

/// The footprint map for `html`: from `--kernel-build DIR` (an unusable
/// tree is an error), else from the tree `make trace` recorded beside the
/// trace (an unusable one is a warning: the page is made without it), else
/// why there is none.
fn page_map(
    an: &Analysis,
    file: &str,
    dir: Option<&Path>,
    filter: &Filter,
) -> Result<Result<FootprintMap, String>, Failure> {
    let index = match (dir, recorded_build(file)) {
        (Some(d), _) => kernel_index(an, file, d)?,
        (None, Some(d)) => match kernel_index(an, file, &d) {
            Ok(i) => i,
            Err((_, e)) => {
                eprintln!("ftrace_report: warning: {e}: the page has no subsystem view");
                return Ok(Err(format!("the recorded kernel build cannot be used: {e}")));
            }
        },
        (None, None) => {
            return Ok(Err(
                "no kernel build known: pass --kernel-build DIR for the footprint by subsystem and entry path".into(),
            ))
        }
    };
    Ok(Ok(kernel_footprint::map(an, filter, &index, file)))
}
