//! The line parsers, the analysis and every report on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ftrace_report::fuzzing::check(data);
});
