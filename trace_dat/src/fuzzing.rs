//! The checks the fuzz target (fuzz/fuzz_targets/trace_dat.rs) runs on
//! every input; ftrace_report's tests run them on damaged copies of the
//! fixtures. Built for the tests and with the `fuzzing` feature.

use crate::{Item, TraceDat};

/// Parses `data` and reads every event and its fields; an error is fine,
/// a panic is the fuzzer's finding. Returns the events read, or the error.
pub fn check(data: &[u8]) -> Result<u64, crate::Error> {
    let dat = TraceDat::parse(data)?;
    let mut n = 0;
    let mut last = None;
    for item in dat.events() {
        match item? {
            Item::Event(r) => {
                n += 1;
                if let Some(f) = dat.event_format(r.data) {
                    for field in &f.fields {
                        let _ = field.uint(r.data, dat.endian);
                        let _ = field.str(r.data);
                    }
                }
                let _ = dat.kallsyms.lookup(r.ts);
                last = Some(r.ts);
            }
            Item::Lost { .. } => {}
        }
    }
    let _ = last;
    Ok(n)
}
