//! Payloads as command lines: `--command 'PROG ARG...'` and run files
//! (`--runs FILE`, one command line per line). Words are split as a POSIX
//! shell splits them, without expansions: blanks separate words, `'...'`
//! keeps everything, `"..."` keeps everything but `\"` and `\\`, a `\`
//! outside quotes keeps the next character; in a run file `#` at the start
//! of a word begins a comment.

use std::path::PathBuf;

/// A program for the guest and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub path: PathBuf,
    pub args: Vec<String>,
}

impl Payload {
    /// A command line's words: the program, then its arguments. The plan
    /// separates fields with tabs and lines with newlines: neither may
    /// appear in an argument.
    pub fn from_words(mut words: Vec<String>) -> Result<Self, String> {
        if words.is_empty() {
            return Err("an empty command line".into());
        }
        if let Some(bad) = words.iter().find(|w| w.contains(['\t', '\n'])) {
            return Err(format!(
                "argument {bad:?} holds a tab or a line break, which the guest's plan cannot carry"
            ));
        }
        let path = PathBuf::from(words.remove(0));
        Ok(Payload { path, args: words })
    }
}

/// The words of one command line.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                words.extend(word.take());
                continue;
            }
            '#' if word.is_none() => break,
            _ => {}
        }
        let w = word.get_or_insert_with(String::new);
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => w.push(c),
                    None => return Err("unterminated '".into()),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '\\')) => w.push(c),
                        Some(c) => {
                            w.push('\\');
                            w.push(c);
                        }
                        None => return Err("unterminated \"".into()),
                    },
                    Some(c) => w.push(c),
                    None => return Err("unterminated \"".into()),
                }
            },
            '\\' => w.push(chars.next().ok_or("a \\ at the end of the line")?),
            c => w.push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The payloads of a run file: one command line per non-empty line.
pub fn run_file(text: &str) -> Result<Vec<Payload>, String> {
    let mut payloads = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let words = split(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        if !words.is_empty() {
            payloads.push(Payload::from_words(words).map_err(|e| format!("line {}: {e}", n + 1))?);
        }
    }
    if payloads.is_empty() {
        return Err("no command line in it".into());
    }
    Ok(payloads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn words_split_as_a_shell_splits_them() {
        assert_eq!(
            words("  /bin/prog -v  a\tb "),
            ["/bin/prog", "-v", "a", "b"]
        );
        assert_eq!(words(r#"p 'a b' "c d" e\ f"#), ["p", "a b", "c d", "e f"]);
        assert_eq!(
            words(r#"p "\"q\" \\ \n" '\n' x''y "" ''"#),
            ["p", r#""q" \ \n"#, r"\n", "xy", "", ""]
        );
        assert_eq!(words("p a#b # a comment 'x"), ["p", "a#b"]);
        assert_eq!(words("# only a comment"), Vec::<String>::new());
        for bad in ["p 'a", "p \"a", "p a\\"] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn run_files_hold_one_payload_per_line() {
        let p = run_file("# tests\n/x/hello one 'two words'\n\n/x/min\n").unwrap();
        assert_eq!(
            p,
            [
                Payload {
                    path: "/x/hello".into(),
                    args: vec!["one".into(), "two words".into()]
                },
                Payload {
                    path: "/x/min".into(),
                    args: vec![]
                }
            ]
        );
        assert_eq!(
            run_file("\n# nothing\n").unwrap_err(),
            "no command line in it"
        );
        assert_eq!(run_file("p\nq 'x\n").unwrap_err(), "line 2: unterminated '");
        assert!(run_file("p \"a\tb\"\n")
            .unwrap_err()
            .starts_with("line 1: argument \"a\\tb\" holds a tab"));
    }
}
