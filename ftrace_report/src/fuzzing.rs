//! The checks the fuzz target (fuzz/) runs on every input; `cargo test`
//! replays the checked-in corpus through the same function.

use crate::analyze::{Analysis, Splitter};
use crate::model::Selection;
use crate::parse::{self, Line};
use crate::report::{self, Filter};

/// Parses and analyses `data` and renders every report. Panics only when an
/// invariant breaks (the fuzzer's finding).
pub fn check(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        if let Some(fixed) = parse::parse_function_fixed(line) {
            assert_eq!(
                parse::parse_function_general(line),
                Some(Line::Func(fixed)),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        if let Line::Func(f) = parse::parse_line(line) {
            assert!(parse::parse_call(f.text).is_ok());
            assert!(parse::valid_ts(f.ts) && parse::parse_ts(f.ts).is_some());
        }
    }

    let mut whole = Analysis::new(None);
    if whole.read_bytes(data).is_err() {
        return;
    }
    assert_eq!(
        whole.lines,
        whole.events + whole.markers + whole.skipped.iter().sum::<u64>(),
        "every line is an event, a marker or skipped"
    );
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    let partial = u64::from(!data.is_empty() && data.last() != Some(&b'\n'));
    assert_eq!(whole.lines, newlines + partial);

    // Split anywhere: the same result as in one piece.
    let cut = data
        .first()
        .map_or(0, |&b| usize::from(b) * 7 % (data.len() + 1));
    let mut pieces = Analysis::new(None);
    let mut split = Splitter::default();
    pieces.feed(&mut split, &data[..cut]).unwrap();
    pieces.feed(&mut split, &data[cut..]).unwrap();
    pieces.finish(split);
    assert_eq!(pieces.lines, whole.lines);
    assert_eq!(pieces.events, whole.events);
    assert_eq!(pieces.skipped, whole.skipped);
    assert_eq!(pieces.target, whole.target);

    for normalize in [false, true] {
        let f = Filter {
            sel: Selection::default_phases(),
            callers_only: normalize,
            normalize,
        };
        let fp = report::footprint(&whole, &f);
        let _ = report::funcs_text(&fp);
        let _ = report::graph_dot(&fp);
        let _ = report::graph_json(&whole, &fp, &f);
        let summary = report::Summary::new(&whole, "fuzz", &f);
        let _ = summary.text();
        let _ = summary.json();
        let d = report::diff(&fp, &report::footprint(&pieces, &f));
        assert!(d.funcs[0].is_empty() && d.funcs[1].is_empty());
        let _ = report::diff_text(&d, "a", "b");
    }
}
