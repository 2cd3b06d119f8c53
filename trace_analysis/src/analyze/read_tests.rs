//! `Analysis::read`: the same lines however the input is cut into reads.

use super::*;
use trace_reader::chunked::Chunked;
use trace_reader::text::MAX_LINE;

#[test]
fn same_lines_for_any_read_size() {
    let mut data = Vec::new();
    for i in 0..300 {
        data.extend_from_slice(
            format!(" min-{} [000] d.h.. 1.{i:06}: f{} <-g\r\n", i % 3, i % 7).as_bytes(),
        );
        if i % 100 == 50 {
            // A valid line (so is any end of it), but too long.
            data.extend(std::iter::repeat(b'x').take(MAX_LINE + i * i * 40));
            data.extend_from_slice(b" min-1 [000] ..... 1.5: f <-g\n# tracer: function\n\n");
        }
    }
    data.extend_from_slice(b" min-1 [000] ..... 2.0: cut");
    let mut whole = Analysis::new(None);
    whole.read(&data[..]).unwrap();
    assert_eq!(whole.lines, 300 + 3 * 3 + 1);
    assert_eq!(whole.events, 300);
    assert_eq!(whole.skipped[Skip::Unparsable as usize], 3);
    assert_eq!(whole.skipped[Skip::PartialLine as usize], 1);
    assert_eq!(whole.skipped[Skip::Blank as usize], 3);
    for sizes in [
        &[1 << 16][..],
        &[4093, 1, 7],
        &[3 * MAX_LINE],
        &[MAX_LINE, 1],
    ] {
        let mut a = Analysis::new(None);
        a.read(Chunked::new(&data, sizes)).unwrap();
        assert_eq!(a.lines, whole.lines, "{sizes:?}");
        assert_eq!(a.events, whole.events);
        assert_eq!(a.skipped, whole.skipped);
        assert_eq!(a.first_skipped_line, whole.first_skipped_line);
        assert_eq!(a.target, whole.target);
        assert_eq!(a.names.len(), whole.names.len());
        assert_eq!(a.tracer_line, whole.tracer_line);
    }
}

#[test]
fn read_error_after_the_lines_before_it() {
    let line = b" a-1 [000] ..... 1.0: foo <-bar\n";
    let data: Vec<u8> = line
        .iter()
        .cycle()
        .take(line.len() * 50_000 + 5)
        .copied()
        .collect();
    let mut a = Analysis::new(None);
    let mut r = Chunked::new(&data, &[1 << 16]);
    r.fail_at_end = true;
    match a.read(r) {
        Err(Error::Io(e)) => assert_eq!(e.to_string(), "device gone"),
        _ => panic!("no error"),
    }
    assert_eq!((a.lines, a.events), (50_000, 50_000));
}
