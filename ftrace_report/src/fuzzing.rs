//! The checks the fuzz targets (fuzz/) run on every input; `cargo test`
//! replays the checked-in corpus through the same functions. Built for the
//! tests and with the `fuzzing` feature (which the fuzz crate turns on),
//! never into the program.

use crate::report::{self, Summary};
use trace_analysis::analyze::Analysis;
use trace_analysis::model::Selection;
use trace_analysis::select::{self, Filter};
use trace_reader::chunked::Chunked;
use trace_reader::{self as parse, Line};

/// Parses and analyses `data` with the reader the program uses, in one
/// piece and in small pieces of odd sizes, and renders every report.
/// Panics only when an invariant breaks (the fuzzer's finding).
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
    if whole.read(data).is_err() {
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

    // Cut anywhere: the same result as in one piece.
    let first = data.first().map_or(1, |&b| usize::from(b) % 13 + 1);
    let last = data.last().map_or(1, |&b| usize::from(b) % 251 + 1);
    let mut pieces = Analysis::new(None);
    pieces
        .read(Chunked::new(data, &[first, 1, last, 4093]))
        .expect("the same input read in pieces");
    assert_eq!(pieces.lines, whole.lines);
    assert_eq!(pieces.events, whole.events);
    assert_eq!(pieces.skipped, whole.skipped);
    assert_eq!(pieces.first_skipped_line, whole.first_skipped_line);
    assert_eq!(pieces.target, whole.target);

    render(&whole, &pieces);
}

/// Every report of `a`, and its diff with `b` (the same input read
/// otherwise: no difference).
fn render(a: &Analysis, b: &Analysis) {
    for normalize in [false, true] {
        let f = Filter {
            sel: Selection::default_phases(),
            callers_only: normalize,
            normalize,
        };
        let fp = select::footprint(a, &f);
        let _ = report::funcs_text(&fp);
        let _ = report::graph_dot(&fp);
        let _ = report::graph_json(a, &fp, &f);
        let summary = Summary::new(a, "fuzz", &f);
        let _ = summary.text();
        let _ = summary.json();
        let d = select::diff(&fp, &select::footprint(b, &f));
        assert!(d.funcs[0].is_empty() && d.funcs[1].is_empty());
        let _ = report::diff_text(&d, "a", "b");
    }
}

/// A trace.dat (whole, cut or damaged): the section reader's checks, then
/// the analysis and every report; an error is one line naming the part of
/// the file, and reading again gives the same.
pub fn check_trace_dat(data: &[u8]) {
    let events = trace_dat::fuzzing::check(data);
    let mut a = Analysis::new(None);
    match a.read_trace_dat(data) {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("trace.dat: ") && !msg.contains('\n'),
                "{msg:?}"
            );
            assert_eq!(events.err(), Some(e));
        }
        Ok(()) => {
            // Function events, graph entries and other events: each is a
            // line of the analysis, as the reader counted them.
            assert_eq!(Ok(a.lines), events);
            let mut b = Analysis::new(None);
            b.read_trace_dat(data).expect("the same file read again");
            assert_eq!(b.events, a.events);
            render(&a, &b);
        }
    }
}
