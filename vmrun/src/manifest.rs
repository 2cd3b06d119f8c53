//! Checking what arrived from the guest against the SHA-256 manifest the
//! guest sent last (`sha256sum` format).

use guest_protocol::manifest::{Line, NAME};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Every file the manifest lists is in `dir` with its checksum, and `dir`
/// holds nothing else. Returns the listed names.
pub fn verify(dir: &Path) -> Result<Vec<String>, String> {
    let path = dir.join(NAME);
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (the guest did not finish shipping its results)",
            path.display()
        )
    })?;
    let mut listed = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("{}: line {} is not `SHA256  NAME`", path.display(), n + 1);
        let Line { sha256: sum, name } = Line::parse(line).ok_or_else(bad)?;
        let data = fs::read(dir.join(name)).map_err(|e| {
            format!(
                "{}: listed in the manifest but {e}",
                dir.join(name).display()
            )
        })?;
        if console_frames::sha256_hex(&data) != sum {
            return Err(format!(
                "{}: SHA-256 differs from the guest's manifest (corrupted on the way)",
                dir.join(name).display()
            ));
        }
        listed.push(name.to_string());
    }
    let known: BTreeSet<&str> = listed.iter().map(String::as_str).chain([NAME]).collect();
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !known.contains(name.as_str()) {
            return Err(format!(
                "{}: not in the guest's manifest",
                e.path().display()
            ));
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn dir(tag: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vmrun-manifest-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        for (n, data) in files {
            fs::write(d.join(n), data).unwrap();
        }
        d
    }

    fn line(name: &str, data: &[u8]) -> String {
        format!("{}  {name}\n", console_frames::sha256_hex(data))
    }

    #[test]
    fn accepts_a_complete_delivery() {
        let m = line("a.trace", b"trace") + &line("empty", b"");
        let d = dir(
            "ok",
            &[("a.trace", b"trace"), ("empty", b""), (NAME, m.as_bytes())],
        );
        assert_eq!(verify(&d).unwrap(), ["a.trace", "empty"]);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn refuses_corrupt_missing_extra_and_unlisted() {
        let m = line("a", b"right");
        for (tag, files, expect) in [
            ("corrupt", vec![("a", &b"wrong"[..])], "SHA-256 differs"),
            ("missing", vec![], "listed in the manifest but"),
            (
                "extra",
                vec![("a", &b"right"[..]), ("b", &b""[..])],
                "not in the guest's manifest",
            ),
        ] {
            let mut all = files.clone();
            all.push((NAME, m.as_bytes()));
            let d = dir(tag, &all);
            let err = verify(&d).unwrap_err();
            assert!(err.contains(expect), "{tag}: {err}");
            fs::remove_dir_all(d).unwrap();
        }
        let d = dir("none", &[("a", b"right")]);
        assert!(verify(&d).unwrap_err().contains("did not finish shipping"));
        fs::remove_dir_all(d).unwrap();
        let d = dir("garbled", &[(NAME, b"deadbeef a\n")]);
        assert!(verify(&d).unwrap_err().contains("line 1"));
        fs::remove_dir_all(d).unwrap();
    }
}
