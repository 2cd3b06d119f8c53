//! The guest's root file system: our init, ftrace_it, the payloads with the
//! interpreter and libraries the dynamic ones need, the plan and a console
//! device; optionally on top of a whole root file system (`--rootfs`).
//! Nothing else runs in the guest: our init is PID 1 whatever the base
//! holds, and it starts nothing but ftrace_it.

use crate::cpio::Cpio;
use crate::{closure, elf, fail, Failure, Options, INPUT, MISSING, NO_ROOT};
use guest_protocol::{valid_id, BIN_DIR, FTRACE_IT, PLAN_PATH};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Everything but the plan, which names the payloads' runs.
pub struct Initramfs {
    /// A cpio archive the kernel unpacks first (`--rootfs FILE`): ours is
    /// appended, so our files win.
    base: Vec<u8>,
    cpio: Cpio,
    dirs: BTreeSet<String>,
}

/// A payload in the guest: its name in `BIN_DIR` (its run id too) and
/// its arguments.
pub struct GuestPayload {
    pub name: String,
    pub args: Vec<String>,
}

/// Reads and checks the programs for the guest and the libraries of the
/// dynamic ones.
pub fn gather(o: &Options) -> Result<(Initramfs, Vec<GuestPayload>), Failure> {
    let mut fs = Initramfs {
        base: Vec::new(),
        cpio: Cpio::new(),
        dirs: BTreeSet::new(),
    };
    let sysroot = sysroot(o)?;
    if let Some(root) = &o.rootfs {
        fs.add_base(root)?;
    }
    for d in ["dev", "proc", "run", "sys", "tmp", "etc", "usr", "usr/bin"] {
        fs.dir(d);
    }
    fs.cpio.char_dev("dev/console", 0o600, 5, 1);
    fs.cpio
        .file("init", 0o755, &read_static(&o.init, "guest init", &o.arch)?);
    fs.cpio.file(
        &format!("{}/{FTRACE_IT}", in_archive(BIN_DIR)),
        0o755,
        &read_static(&o.ftrace_it, "ftrace_it", &o.arch)?,
    );
    let mut payloads: Vec<GuestPayload> = Vec::new();
    let mut missing = Vec::new();
    let mut installed = BTreeSet::new();
    for p in &o.payloads {
        let taken: Vec<String> = payloads.iter().map(|g| g.name.clone()).collect();
        let Some(name) = payload_name(&p.path, &taken) else {
            return fail(
                INPUT,
                format!(
                    "payload {}: its file name must be unique, not ftrace_it, and use only [A-Za-z0-9._+-]",
                    p.path.display()
                ),
            );
        };
        let data = fs::read(&p.path).or_else(|e| {
            fail(
                INPUT,
                format!(
                    "payload {}: {e} (build it with `make trace`)",
                    p.path.display()
                ),
            )
        })?;
        if let Err(why) = closure::read(&data, &o.arch) {
            return fail(INPUT, format!("payload {}: {why}", p.path.display()));
        }
        match closure::resolve(&data, &name, BIN_DIR, &sysroot, &o.arch) {
            // A directory base is the sysroot by default: its files are there.
            Ok(pieces) if o.rootfs.as_ref() != Some(&sysroot) => {
                for piece in pieces {
                    if installed.insert(piece.guest.clone()) {
                        fs.file(&piece.guest, &piece.data);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => missing.push(format!("payload {}: {e}", p.path.display())),
        }
        fs.cpio
            .file(&format!("{}/{name}", in_archive(BIN_DIR)), 0o755, &data);
        payloads.push(GuestPayload {
            name,
            args: p.args.clone(),
        });
    }
    if !missing.is_empty() {
        return fail(MISSING, missing.join("; "));
    }
    Ok((fs, payloads))
}

/// `--sysroot`, or the base's directory, or Debian's cross libc; a named
/// one must exist even if no payload needs it.
fn sysroot(o: &Options) -> Result<PathBuf, Failure> {
    match (&o.sysroot, &o.rootfs) {
        (Some(s), _) if !s.is_dir() => fail(
            NO_ROOT,
            format!("sysroot {}: no such directory", s.display()),
        ),
        (Some(s), _) => Ok(s.clone()),
        (None, Some(r)) if r.is_dir() => Ok(r.clone()),
        (None, _) => Ok(closure::default_sysroot(&o.arch)),
    }
}

impl Initramfs {
    /// `path` and its parents, once each.
    fn dir(&mut self, path: &str) {
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(part);
            if self.dirs.insert(at.clone()) {
                self.cpio.dir(&at, 0o755);
            }
        }
    }

    /// A file at an absolute guest path, with its directories.
    fn file(&mut self, guest: &str, data: &[u8]) {
        let path = in_archive(guest);
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.cpio.file(path, 0o755, data);
    }

    /// The root file system under ours: a cpio archive as it is, or a
    /// directory's tree (files, directories, symbolic links; device nodes,
    /// sockets and pipes are left out: devtmpfs provides /dev).
    fn add_base(&mut self, root: &Path) -> Result<(), Failure> {
        let unusable = |e: std::io::Error| Failure {
            code: NO_ROOT,
            message: format!("rootfs {}: {e}", root.display()),
        };
        let meta = fs::metadata(root).map_err(unusable)?;
        if meta.is_file() {
            self.base = fs::read(root).map_err(unusable)?;
            if !self.base.starts_with(b"070701") {
                return fail(
                    NO_ROOT,
                    format!(
                        "rootfs {}: not an uncompressed cpio archive (newc)",
                        root.display()
                    ),
                );
            }
            return Ok(());
        }
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let mut entries: Vec<_> = fs::read_dir(root.join(&rel))
                .map_err(unusable)?
                .collect::<Result<_, _>>()
                .map_err(unusable)?;
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let rel = rel.join(e.file_name());
                let Some(name) = rel.to_str().map(String::from) else {
                    continue;
                };
                let t = e.file_type().map_err(unusable)?;
                if t.is_dir() {
                    self.dir(&name);
                    stack.push(rel);
                } else if t.is_symlink() {
                    let target = fs::read_link(e.path()).map_err(unusable)?;
                    self.cpio.symlink(&name, &target.to_string_lossy());
                } else if t.is_file() {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = e.metadata().map_err(unusable)?.permissions().mode() & 0o7777;
                    self.cpio
                        .file(&name, mode, &fs::read(e.path()).map_err(unusable)?);
                }
            }
        }
        Ok(())
    }

    /// The archive, with `plan` added.
    pub fn finish(mut self, plan: &str) -> Vec<u8> {
        self.cpio
            .file(in_archive(PLAN_PATH), 0o644, plan.as_bytes());
        let mut all = self.base;
        // The kernel unpacks concatenated archives, each 4-byte aligned.
        all.resize(all.len().next_multiple_of(4), 0);
        all.extend(self.cpio.finish());
        all
    }
}

/// The payload's file name, which is also its run id, if the guest can take
/// it: a valid id, not ftrace_it's, not `taken`.
fn payload_name(path: &Path, taken: &[String]) -> Option<String> {
    let name = path.file_name()?.to_str()?.to_string();
    (valid_id(&name) && name != FTRACE_IT && !taken.contains(&name)).then_some(name)
}

/// Our own programs for the guest: static, for its architecture.
fn read_static(path: &Path, what: &str, arch: &str) -> Result<Vec<u8>, Failure> {
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
