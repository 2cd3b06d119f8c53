//! The frame format must not change: these frames were written by the
//! hand-written encoder the crate had before it used sha2, crc32fast and
//! base64, and both directions must still agree with them byte for byte.

const RECORDED: &[u8] = include_bytes!("data/recorded.frames");

/// Sizes that cover every base64 padding, an empty file, a chunk boundary
/// and a name that needs escaping.
fn files() -> Vec<(&'static str, Vec<u8>)> {
    let mixed = |n: usize| (0..n).map(|i| (i * 131 % 251) as u8).collect();
    vec![
        ("empty", Vec::new()),
        ("a b%.trace", b"hello".to_vec()),
        ("all-bytes", (0..=255).collect()),
        ("three_chunks.bin", mixed(2 * console_frames::CHUNK + 2)),
        ("exact", mixed(console_frames::CHUNK)),
    ]
}

#[test]
fn the_encoder_writes_the_recorded_frames() {
    let mut out = Vec::new();
    for (name, data) in files() {
        console_frames::encode(name, &data, &mut out).unwrap();
    }
    assert!(
        out == RECORDED,
        "the frames differ from tests/data/recorded.frames"
    );
}

#[test]
fn the_recorded_frames_decode_to_their_files() {
    let d = console_frames::decode(RECORDED);
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(d.repaired, 0);
    let got: Vec<(&str, &[u8])> = d
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.data.as_slice()))
        .collect();
    let want = files();
    let want: Vec<(&str, &[u8])> = want.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    assert_eq!(got, want);
}
