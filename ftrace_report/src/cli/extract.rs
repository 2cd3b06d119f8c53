//! `extract CAPTURE -o DIR`: the console channel's receiving end.

use std::io;
use std::path::Path;

use console_frames::{ExtractError, ExtractedFile};

use super::trace::write_out;
use super::{exit, Failure};

fn listing(files: &[ExtractedFile]) -> Vec<u8> {
    let mut out = String::new();
    for f in files {
        out.push_str(&format!("{} {} {}\n", f.name, f.size, f.sha256));
    }
    out.into_bytes()
}

pub fn run(capture: &str, out_dir: &Path) -> Result<u8, Failure> {
    let data = if capture == "-" {
        let mut data = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut data).map(|_| data)
    } else {
        std::fs::read(capture)
    }
    .map_err(|e| (exit::READ, format!("{capture}: cannot read: {e}")))?;
    match console_frames::extract(&data, out_dir) {
        Ok(files) => write_out(&listing(&files)).map(|()| 0),
        Err(ExtractError::NoFrames) => Err((
            exit::INPUT,
            format!("{capture}: {}", ExtractError::NoFrames),
        )),
        Err(ExtractError::Incomplete {
            extracted,
            problems,
        }) => {
            write_out(&listing(&extracted))?;
            Err((
                exit::DAMAGED,
                format!(
                    "{capture}: {} damaged or incomplete: {}; capture the console again from before the transfer starts",
                    if problems.len() == 1 { "a file is".to_string() } else { format!("{} files are", problems.len()) },
                    problems.join("; ")
                ),
            ))
        }
        Err(e @ ExtractError::Io { .. }) => Err((exit::WRITE, e.to_string())),
    }
}
