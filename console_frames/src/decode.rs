//! Finding frames in a console capture and putting the files back together.

use crate::codec::{base64_decode, crc32, sha256_hex};
use crate::{CHUNK, MARKER};
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// How many lines of foreign output (a kernel message, possibly several
/// lines) may sit inside one frame and still be cut out.
const MAX_NOISE_LINES: usize = 8;

/// A file reassembled from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// Everything [`decode`] found in a capture.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Complete, verified files in the order their end frames appeared; a
    /// name sent twice keeps its last complete copy.
    pub files: Vec<DecodedFile>,
    /// One line per file that could not be reassembled, saying why.
    pub problems: Vec<String>,
    /// Frames read (intact or repaired).
    pub frames: usize,
    /// Frames that were only intact after cutting foreign output out of them.
    pub repaired: usize,
}

/// A file [`extract`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedFile {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug)]
pub enum ExtractError {
    /// The capture holds no frame at all.
    NoFrames,
    /// Some files were damaged or cut short; the intact ones were written.
    Incomplete {
        extracted: Vec<ExtractedFile>,
        problems: Vec<String>,
    },
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::NoFrames => write!(
                f,
                "no {}frames in the capture: was the console channel used, and is this the whole capture?",
                MARKER
            ),
            ExtractError::Incomplete {
                extracted,
                problems,
            } => write!(
                f,
                "{} file(s) extracted, {} damaged: {}",
                extracted.len(),
                problems.len(),
                problems.join("; ")
            ),
            ExtractError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for ExtractError {}

/// Reassembles every file framed in `capture` and writes it to
/// `out_dir/NAME` (creating `out_dir`). Fails with [`ExtractError::NoFrames`]
/// when there is nothing to extract, and with [`ExtractError::Incomplete`]
/// (after writing the intact files) when a file is damaged or cut short.
pub fn extract(capture: &[u8], out_dir: &Path) -> Result<Vec<ExtractedFile>, ExtractError> {
    let decoded = decode(capture);
    if decoded.frames == 0 {
        return Err(ExtractError::NoFrames);
    }
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExtractError::Io { path, source }
    };
    fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let mut extracted = Vec::new();
    for file in decoded.files {
        let path = out_dir.join(&file.name);
        let part = out_dir.join(format!("{}.part", file.name));
        fs::write(&part, &file.data).map_err(io_err(&part))?;
        fs::rename(&part, &path).map_err(io_err(&path))?;
        extracted.push(ExtractedFile {
            sha256: sha256_hex(&file.data),
            size: file.data.len() as u64,
            name: file.name,
            path,
        });
    }
    if decoded.problems.is_empty() {
        Ok(extracted)
    } else {
        Err(ExtractError::Incomplete {
            extracted,
            problems: decoded.problems,
        })
    }
}

enum Frame {
    Begin {
        name: String,
        size: usize,
        chunks: usize,
        sha: String,
    },
    Data {
        name: String,
        seq: usize,
        data: Vec<u8>,
    },
    End {
        name: String,
        chunks: usize,
        sha: String,
    },
}

struct Transfer {
    size: usize,
    sha: String,
    parts: Vec<Option<Vec<u8>>>,
}

/// Finds and checks every frame in `capture` and reassembles the files.
pub fn decode(capture: &[u8]) -> Decoded {
    let lines: Vec<Vec<u8>> = capture.split(|&b| b == b'\n').map(clean_line).collect();
    let mut out = Decoded::default();
    let mut open: BTreeMap<String, Transfer> = BTreeMap::new();
    let mut done: BTreeMap<String, usize> = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((frame, continuation, repaired)) = find_frame(&lines, i) else {
            i += 1;
            continue;
        };
        out.frames += 1;
        out.repaired += usize::from(repaired);
        // The lines between are the foreign output that was cut out.
        i += continuation.max(1);
        match frame {
            Frame::Begin {
                name,
                size,
                chunks,
                sha,
            } => {
                if open.contains_key(&name) {
                    out.problems
                        .push(format!("{name}: sent again before its end frame"));
                }
                open.insert(
                    name,
                    Transfer {
                        size,
                        sha,
                        parts: vec![None; chunks],
                    },
                );
            }
            Frame::Data { name, seq, data } => match open.get_mut(&name) {
                Some(t) if seq < t.parts.len() => t.parts[seq] = Some(data),
                Some(_) => out
                    .problems
                    .push(format!("{name}: data frame {seq} beyond the announced end")),
                None => {}
            },
            Frame::End { name, chunks, sha } => {
                let Some(t) = open.remove(&name) else {
                    continue;
                };
                match finish(&name, t, chunks, &sha) {
                    Ok(data) => {
                        if let Some(&at) = done.get(&name) {
                            out.files[at].data = data;
                        } else {
                            done.insert(name.clone(), out.files.len());
                            out.files.push(DecodedFile { name, data });
                        }
                    }
                    Err(problem) => out.problems.push(problem),
                }
            }
        }
    }
    for name in open.keys() {
        out.problems
            .push(format!("{name}: no end frame (is the capture cut short?)"));
    }
    out
}

fn finish(name: &str, t: Transfer, chunks: usize, sha: &str) -> Result<Vec<u8>, String> {
    if chunks != t.parts.len() || sha != t.sha {
        return Err(format!("{name}: end frame does not match its begin frame"));
    }
    let missing: Vec<String> = (t.parts.iter().enumerate())
        .filter(|(_, p)| p.is_none())
        .map(|(seq, _)| seq.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{name}: {} of {chunks} chunks damaged or missing on the console (first: {})",
            missing.len(),
            missing[..missing.len().min(5)].join(", ")
        ));
    }
    let data: Vec<u8> = t.parts.into_iter().flatten().flatten().collect();
    if data.len() != t.size {
        return Err(format!(
            "{name}: {} bytes received, {} announced",
            data.len(),
            t.size
        ));
    }
    if sha256_hex(&data) != t.sha {
        return Err(format!("{name}: SHA-256 mismatch"));
    }
    Ok(data)
}

/// Drops what a terminal or serial line adds: CR, other control characters
/// and escape sequences (a frame is plain printable ASCII).
fn clean_line(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        i += 1;
        if b == 0x1b {
            match line.get(i) {
                // CSI: parameters and intermediates up to a final byte.
                Some(b'[') => {
                    i += 1;
                    while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                        i += 1;
                    }
                    i += 1;
                }
                // OSC: up to BEL or ST.
                Some(b']') => {
                    while i < line.len() && line[i] != 0x07 && line[i] != 0x1b {
                        i += 1;
                    }
                    i += 1;
                }
                Some(_) => i += 1,
                None => {}
            }
        } else if (0x20..0x7f).contains(&b) {
            out.push(b);
        }
    }
    out
}

/// The frame that starts in line `i`, how many lines further its last part
/// is (0: the frame is the rest of line `i`), and whether foreign output had
/// to be cut out of it.
fn find_frame(lines: &[Vec<u8>], i: usize) -> Option<(Frame, usize, bool)> {
    let line = &lines[i];
    let marker = MARKER.as_bytes();
    let mut buf = Vec::new();
    let starts = (0..line.len()).filter(|&s| line[s..].starts_with(marker));
    for s in starts {
        if let Some(f) = parse(&line[s..]) {
            return Some((f, 0, false));
        }
        buf.clear();
        if let Some((f, last)) = mend(lines, i, &line[s..], Shape::START, &mut buf, MAX_CUTS) {
            return Some((f, last - i, true));
        }
    }
    // Foreign output inside the marker itself: this line is the frame minus
    // the first few characters of the marker.
    for j in 1..marker.len() {
        if line.starts_with(&marker[j..]) {
            let state = marker[..j]
                .iter()
                .try_fold(Shape::START, |s, &b| s.step(b))?;
            buf.clear();
            buf.extend_from_slice(&marker[..j]);
            if let Some((f, last)) = mend(lines, i, line, state, &mut buf, MAX_CUTS) {
                return Some((f, last - i, true));
            }
        }
    }
    None
}

/// How many separate pieces of foreign output one frame may contain.
const MAX_CUTS: usize = 4;
/// How far before the first character that cannot belong to the frame the
/// foreign output may start (a message may begin with letters or digits).
const CUT_WINDOW: usize = 48;

/// Completes the frame whose beginning is in `buf` (in shape state `state`)
/// with `seg`, the rest of line `at`: either `seg` finishes it, or foreign
/// output starts somewhere in `seg` and the frame goes on at the start of one
/// of the next lines. Returns the frame and the index of its last line.
fn mend(
    lines: &[Vec<u8>],
    at: usize,
    seg: &[u8],
    state: Shape,
    buf: &mut Vec<u8>,
    cuts_left: usize,
) -> Option<(Frame, usize)> {
    let mut states = vec![state];
    for &b in seg {
        match states[states.len() - 1].step(b) {
            Some(s) => states.push(s),
            None => break,
        }
    }
    let fits = states.len() - 1;
    let mark = buf.len();
    if fits == seg.len() && states[fits].complete() {
        buf.extend_from_slice(seg);
        if let Some(f) = parse(buf) {
            return Some((f, at));
        }
        buf.truncate(mark);
    }
    if cuts_left == 0 {
        return None;
    }
    for p in (fits.saturating_sub(CUT_WINDOW)..=fits).rev() {
        let st = states[p];
        for k in 1..=MAX_NOISE_LINES {
            let Some(next) = lines.get(at + k) else { break };
            let continues = match next.first() {
                Some(&b) => st.step(b).is_some(),
                None => st.complete(),
            };
            if !continues {
                continue;
            }
            buf.extend_from_slice(&seg[..p]);
            if let Some(found) = mend(lines, at + k, next, st, buf, cuts_left - 1) {
                return Some(found);
            }
            buf.truncate(mark);
        }
    }
    None
}

/// What a frame can look like character by character, to tell where
/// foreign output begins without knowing the frame: the marker, the type,
/// then the type's space-separated fields.
#[derive(Clone, Copy)]
struct Shape {
    /// Characters of the marker seen, then `MARKER.len()` + 0 (type next),
    /// + 1 (space after the type next), + 2 (in the fields).
    phase: usize,
    kind: u8,
    field: usize,
    len: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Name,
    Number,
    Base64,
    Sha,
    Crc,
}

impl Shape {
    const START: Shape = Shape {
        phase: 0,
        kind: 0,
        field: 0,
        len: 0,
    };

    fn fields(self) -> &'static [Field] {
        use Field::*;
        match self.kind {
            b'B' => &[Name, Number, Number, Sha, Crc],
            b'D' => &[Name, Number, Base64, Crc],
            _ => &[Name, Number, Sha, Crc],
        }
    }

    fn step(self, b: u8) -> Option<Shape> {
        let m = MARKER.len();
        let mut s = self;
        match self.phase {
            p if p < m => {
                (MARKER.as_bytes()[p] == b).then_some(())?;
                s.phase += 1;
            }
            p if p == m => {
                matches!(b, b'B' | b'D' | b'E').then_some(())?;
                s.kind = b;
                s.phase += 1;
            }
            p if p == m + 1 => {
                (b == b' ').then_some(())?;
                s.phase += 1;
            }
            _ => {
                let fields = self.fields();
                let f = fields[self.field];
                if b == b' ' {
                    let full = match f {
                        Field::Sha => self.len == 64,
                        Field::Crc => false,
                        _ => self.len > 0,
                    };
                    (full && self.field + 1 < fields.len()).then_some(())?;
                    s.field += 1;
                    s.len = 0;
                    return Some(s);
                }
                let (ok, max) = match f {
                    Field::Name => (b.is_ascii_alphanumeric() || b"._+-%".contains(&b), 1024),
                    Field::Number => (b.is_ascii_digit(), 20),
                    Field::Base64 => (
                        b.is_ascii_alphanumeric() || b"+/=".contains(&b),
                        CHUNK / 3 * 4,
                    ),
                    Field::Sha => (b.is_ascii_digit() || (b'a'..=b'f').contains(&b), 64),
                    Field::Crc => (b.is_ascii_digit() || (b'a'..=b'f').contains(&b), 8),
                };
                (ok && self.len < max).then_some(())?;
                s.len += 1;
            }
        }
        Some(s)
    }

    fn complete(self) -> bool {
        self.phase == MARKER.len() + 2 && self.field + 1 == self.fields().len() && self.len == 8
    }
}

fn parse(text: &[u8]) -> Option<Frame> {
    let at = text.len().checked_sub(9)?;
    if text[at] != b' ' {
        return None;
    }
    let (body, crc) = (&text[..at], &text[at + 1..]);
    if !crc
        .iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return None;
    }
    let crc = u32::from_str_radix(std::str::from_utf8(crc).ok()?, 16).ok()?;
    if crc32(body) != crc {
        return None;
    }
    let body = std::str::from_utf8(body.strip_prefix(MARKER.as_bytes())?).ok()?;
    let fields: Vec<&str> = body.split(' ').collect();
    let number = |s: &str| -> Option<usize> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let sha = |s: &str| -> Option<String> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| s.to_string())
    };
    match fields.as_slice() {
        ["B", name, size, chunks, digest] => {
            let (size, chunks) = (number(size)?, number(chunks)?);
            (size.div_ceil(CHUNK) == chunks).then_some(())?;
            Some(Frame::Begin {
                name: unescape_name(name)?,
                size,
                chunks,
                sha: sha(digest)?,
            })
        }
        ["D", name, seq, payload] => Some(Frame::Data {
            name: unescape_name(name)?,
            seq: number(seq)?,
            data: base64_decode(payload.as_bytes())?,
        }),
        ["E", name, chunks, digest] => Some(Frame::End {
            name: unescape_name(name)?,
            chunks: number(chunks)?,
            sha: sha(digest)?,
        }),
        _ => None,
    }
}

/// The inverse of the sender's escaping; refuses names that would leave the
/// output directory.
fn unescape_name(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let name = String::from_utf8(out).ok()?;
    let safe = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\0');
    safe.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;

    fn framed(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            encode(name, data, &mut out).unwrap();
        }
        out
    }

    /// Deterministic bytes that are not text, so base64 has every character.
    fn sample(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn round_trips_several_files() {
        let a = sample(10_000, 1);
        let b = b"short".to_vec();
        let empty: Vec<u8> = Vec::new();
        let d = decode(&framed(&[("a.trace", &a), ("b c", &b), ("empty", &empty)]));
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.repaired, 0);
        let names: Vec<&str> = d.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.trace", "b c", "empty"]);
        assert_eq!(d.files[0].data, a);
        assert_eq!(d.files[1].data, b);
        assert!(d.files[2].data.is_empty());
    }

    #[test]
    fn survives_crlf_escapes_and_messages_between_frames() {
        let data = sample(5000, 2);
        let text = String::from_utf8(framed(&[("t", &data)])).unwrap();
        let mut noisy = String::from("[    0.000000] Booting Linux\r\n");
        for (n, line) in text.lines().enumerate() {
            noisy.push_str("\x1b[0m");
            noisy.push_str(line);
            noisy.push_str("\r\n");
            noisy.push_str(&format!("[   {n}.5] random: crng init done\r\n"));
        }
        let d = decode(noisy.as_bytes());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.files[0].data, data);
    }

    #[test]
    fn cuts_messages_out_of_the_middle_of_frames() {
        let data = sample(4 * CHUNK, 3);
        let text = String::from_utf8(framed(&[("t", &data)])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let noise = "[   12.345678] a kernel message\r\n[   12.345679] and another\r\n";
        // Inside the marker, inside the payload, just before the CRC, right
        // before the line end, and in the begin and end frames.
        let cuts = [3, 500, lines[2].len() - 9, lines[3].len(), 20, 2];
        let mut capture = String::new();
        for (line, cut) in lines.iter().zip(cuts) {
            capture.push_str(&line[..cut]);
            capture.push_str(noise);
            capture.push_str(&line[cut..]);
            capture.push_str("\r\n");
        }
        let d = decode(capture.as_bytes());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.repaired, lines.len());
        assert_eq!(d.files[0].data, data);
    }

    #[test]
    fn cuts_several_messages_out_of_one_frame() {
        let data = sample(3 * CHUNK, 7);
        let text = String::from_utf8(framed(&[("t", &data)])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // As seen on a real console: one message in the payload and one
        // right after the CRC; and messages without a timestamp that start
        // like base64.
        let mut capture = String::new();
        for (n, line) in lines.iter().enumerate() {
            let (a, b, c) = (40 + n * 7, 600 + n, line.len());
            capture.push_str(&line[..a]);
            capture.push_str("[   10.811696] mpt-noise 394: a message\r\n");
            capture.push_str(&line[a..b.min(c)]);
            capture.push_str("random: crng init done\r\n");
            capture.push_str(&line[b.min(c)..c]);
            capture.push_str("[   10.815851] mpt-noise 395: another\r\n\r\n");
        }
        let d = decode(capture.as_bytes());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.repaired, lines.len());
        assert_eq!(d.files[0].data, data);
    }

    #[test]
    fn reports_a_damaged_chunk_and_keeps_intact_files() {
        let good = sample(100, 4);
        let bad = sample(3 * CHUNK, 5);
        let text = String::from_utf8(framed(&[("good", &good), ("bad", &bad)])).unwrap();
        // Flip one payload character of the second data frame of "bad".
        let at = text.find("@@MPT D bad 1 ").unwrap() + 20;
        let mut bytes = text.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let dir = std::env::temp_dir().join(format!("console_frames-{}", std::process::id()));
        let err = extract(&bytes, &dir).unwrap_err();
        let ExtractError::Incomplete {
            extracted,
            problems,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(extracted.len(), 1);
        assert_eq!(fs::read(dir.join("good")).unwrap(), good);
        assert!(!dir.join("bad").exists());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("bad: 1 of 3 chunks"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reports_a_cut_short_capture() {
        let data = sample(3 * CHUNK, 6);
        let text = framed(&[("t", &data)]);
        let d = decode(&text[..text.len() / 2]);
        assert!(d.files.is_empty());
        assert_eq!(d.problems, ["t: no end frame (is the capture cut short?)"]);
    }

    #[test]
    fn keeps_the_last_copy_of_a_file_sent_twice() {
        let d = decode(&framed(&[("t", b"one"), ("t", b"two")]));
        assert!(d.problems.is_empty());
        assert_eq!(
            d.files,
            [DecodedFile {
                name: "t".into(),
                data: b"two".to_vec()
            }]
        );
    }

    #[test]
    fn nothing_to_extract_is_an_error() {
        let dir = std::env::temp_dir().join("console_frames-never-created");
        let err = extract(b"[ 0.0] Booting\r\nlogin:", &dir).unwrap_err();
        assert!(matches!(err, ExtractError::NoFrames), "{err}");
        assert!(!dir.exists());
    }

    #[test]
    fn refuses_names_that_leave_the_output_directory() {
        for name in ["../x", "a/b", "..", "."] {
            let d = decode(&framed(&[(name, b"x")]));
            assert!(d.files.is_empty(), "{name}");
            assert_eq!(d.frames, 0, "{name}");
        }
        assert_eq!(unescape_name("a%2Fb"), None);
        assert_eq!(unescape_name("a%20b").as_deref(), Some("a b"));
    }
}
