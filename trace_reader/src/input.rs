//! Which input a trace is: a trace-cmd `trace.dat` is told by its first
//! bytes (the one check of its magic); text is streamed after them.

use std::io::{self, Read};

/// A trace's input, once its first bytes are read.
pub enum Input<R> {
    /// The whole `trace.dat` file (its sections point anywhere in it).
    Dat(Vec<u8>),
    /// Text: the bytes read to tell, then the rest of the reader.
    Text(io::Chain<io::Cursor<Vec<u8>>, R>),
}

/// Reads enough of `input` to tell a `trace.dat` from text.
pub fn open<R: Read>(mut input: R) -> io::Result<Input<R>> {
    let mut head = Vec::new();
    (&mut input)
        .take(trace_dat::MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    if head == trace_dat::MAGIC {
        input.read_to_end(&mut head)?;
        Ok(Input::Dat(head))
    } else {
        Ok(Input::Text(io::Cursor::new(head).chain(input)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_its_first_bytes() {
        let text = b" a-1 [000] ..... 1.0: foo <-bar\n";
        let Ok(Input::Text(mut r)) = open(&text[..]) else {
            panic!("not text");
        };
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
        let mut dat = trace_dat::MAGIC.to_vec();
        dat.extend_from_slice(b"rest");
        assert!(matches!(open(&dat[..]), Ok(Input::Dat(d)) if d == dat));
        // Shorter than the magic: text.
        assert!(matches!(open(&b"\x17"[..]), Ok(Input::Text(_))));
    }
}
