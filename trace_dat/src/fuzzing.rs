//! The checks the fuzz target (fuzz/fuzz_targets/trace_dat.rs) runs on
//! every input; ftrace_report's tests run them on damaged copies of the
//! fixtures. Built for the tests and with the `fuzzing` feature.

use crate::{Item, TraceDat};

/// Parses `data` and reads every event and its fields; an error is fine,
/// a panic is the fuzzer's finding. Returns the items read (events and
/// loss marks), or the error.
pub fn check(data: &[u8]) -> Result<u64, crate::Error> {
    let dat = TraceDat::parse(data)?;
    let mut n = 0;
    for item in dat.events() {
        match item? {
            Item::Event(r) => {
                n += 1;
                if let Some(f) = dat.event_format(r.data) {
                    for field in &f.fields {
                        if let Some(v) = field.uint(r.data, dat.endian) {
                            let _ = dat.kallsyms.lookup(v);
                        }
                        let _ = field.str(r.data);
                    }
                }
            }
            Item::Lost { .. } => n += 1,
        }
    }
    Ok(n)
}
