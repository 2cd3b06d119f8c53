//! The guest's root file system: our init, ftrace_it, the payloads, the
//! plan and a console device; nothing else runs in the guest.

use crate::cpio::Cpio;
use crate::{elf, fail, Failure, Options, INPUT};
use guest_protocol::{valid_id, BIN_DIR, FTRACE_IT, PLAN_PATH};
use std::fs;
use std::path::Path;

/// Everything but the plan, which names the payloads' runs.
pub struct Initramfs {
    cpio: Cpio,
}

/// Reads and checks the programs for the guest; returns the payloads'
/// names in `BIN_DIR` (their run ids) too.
pub fn gather(o: &Options) -> Result<(Initramfs, Vec<String>), Failure> {
    let mut names = Vec::new();
    let mut cpio = Cpio::new();
    for d in ["dev", "proc", "run", "sys", "tmp", "etc", "usr", "usr/bin"] {
        cpio.dir(d, 0o755);
    }
    cpio.char_dev("dev/console", 0o600, 5, 1);
    cpio.file("init", 0o755, &read_input(&o.init, "guest init", &o.arch)?);
    cpio.file(
        &format!("{}/{FTRACE_IT}", in_archive(BIN_DIR)),
        0o755,
        &read_input(&o.ftrace_it, "ftrace_it", &o.arch)?,
    );
    for p in &o.payloads {
        let Some(name) = payload_name(p, &names) else {
            return fail(
                INPUT,
                format!(
                    "payload {}: its file name must be unique, not ftrace_it, and use only [A-Za-z0-9._+-]",
                    p.display()
                ),
            );
        };
        cpio.file(
            &format!("{}/{name}", in_archive(BIN_DIR)),
            0o755,
            &read_input(p, "payload", &o.arch)?,
        );
        names.push(name);
    }
    Ok((Initramfs { cpio }, names))
}

impl Initramfs {
    /// The archive, with `plan` added.
    pub fn finish(mut self, plan: &str) -> Vec<u8> {
        self.cpio
            .file(in_archive(PLAN_PATH), 0o644, plan.as_bytes());
        self.cpio.finish()
    }
}

/// The payload's file name, which is also its run id, if the guest can take
/// it: a valid id, not ftrace_it's, not `taken`.
fn payload_name(path: &Path, taken: &[String]) -> Option<String> {
    let name = path.file_name()?.to_str()?.to_string();
    (valid_id(&name) && name != FTRACE_IT && !taken.contains(&name)).then_some(name)
}

fn read_input(path: &Path, what: &str, arch: &str) -> Result<Vec<u8>, Failure> {
    let data = fs::read(path).or_else(|e| {
        fail(
            INPUT,
            format!(
                "{what} {}: {e} (build it with `make trace`)",
                path.display()
            ),
        )
    })?;
    if let Err(why) = elf::check_static(&data, arch) {
        return fail(INPUT, format!("{what} {}: {why}", path.display()));
    }
    Ok(data)
}

/// A path in the guest as the archive names it.
fn in_archive(guest_path: &str) -> &str {
    guest_path.trim_start_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_names_are_ids_the_guest_takes() {
        let taken = ["min".to_string()];
        let name = |p: &str| payload_name(Path::new(p), &taken);
        assert_eq!(name("out/aarch64/min.large").as_deref(), Some("min.large"));
        assert_eq!(
            name("/home/u/hello-static").as_deref(),
            Some("hello-static")
        );
        for refused in [
            "out/min",
            "/x/ftrace_it",
            "/x/.hidden",
            "/x/a b",
            "/x/a%b",
            "/",
            "..",
        ] {
            assert_eq!(name(refused), None, "{refused}");
        }
    }
}
