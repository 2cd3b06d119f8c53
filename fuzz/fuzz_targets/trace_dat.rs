//! The trace.dat section reader, the ring-buffer pages, the analysis and
//! every report on arbitrary bytes (seeds: fuzz/corpus/trace_dat).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ftrace_report::fuzzing::check_trace_dat(data);
});
