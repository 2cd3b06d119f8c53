//! `footprint`: the functions mapped to files, subsystems and Kconfig.

use std::path::Path;

use guest_protocol::KERNEL_BUILD_FILE;
use kernel_footprint::study;
use trace_analysis::select::Filter;

use super::args::{usage_err, Args};
use super::groundtruth::{record, window};
use super::trace::{analyse, finish, incomplete, kernel_index, recorded_build, require_target};
use super::Failure;

pub fn run(a: &Args, filter: &Filter) -> Result<u8, Failure> {
    let file = &a.files[0];
    // The ground truth's window is cut by the trace's events in order.
    let an = analyse(file, a.pid, a.groundtruth.is_some())?;
    require_target(&an, file, filter)?;
    let cut = incomplete(&an, file);
    let dir = match a.kernel_build.clone() {
        Some(d) => d,
        None => recorded_build(file).ok_or_else(|| {
            usage_err(format!(
                "{file}: which kernel build? pass --kernel-build DIR (no {} beside the trace)",
                Path::new(file).with_file_name(KERNEL_BUILD_FILE).display()
            ))
        })?,
    };
    let index = kernel_index(&an, file, &dir)?;
    let map = match &a.groundtruth {
        None => kernel_footprint::map(&an, filter, &index, file),
        Some(gt) => {
            let window = window(&an, file, record(gt)?)?;
            kernel_footprint::map_groundtruth(&an, filter, &index, file, &window)
        }
    };
    let out = if a.study {
        study::table(&map).0.into_bytes()
    } else if a.json {
        let mut j = serde_json::to_vec(&map).expect("the map serialises");
        j.push(b'\n');
        j
    } else {
        kernel_footprint::text(&map).into_bytes()
    };
    finish(&out, cut, 0)
}
