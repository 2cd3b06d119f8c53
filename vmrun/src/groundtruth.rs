//! `--groundtruth PLUGIN`: the guest runs under our TCG plugin (gt_plugin),
//! which records every kernel function entry of each payload's task. Each
//! payload runs twice: traced as usual (`ID`), and isolated the same way
//! with no tracer (`ID.notrace`, ftrace_it `--tracer nop`). Results:
//! `ID.gt` beside `ID.trace` for both.

use crate::elf;
use crate::plan::GuestRun;
use crate::qemu::Qemu;
use crate::{fail, io_error, Failure, Options, GUEST, INPUT, USAGE_ERR};
use guest_protocol::plan::RunKind;
use guest_protocol::{BIN_DIR, OUT_DIR};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// QEMU 9.2 has plugin API 4: register and guest memory reads.
const MIN_QEMU: (u32, u32) = (9, 2);

/// Refuses what would only fail after the boot: KVM (plugins see only
/// TCG's translation), no plugin, a QEMU without the API, a System.map
/// that is not the kernel's.
pub fn check(o: &Options, plugin: &Path, map: &Path, qemu: &str) -> Result<(), Failure> {
    if o.accel != "tcg" {
        return fail(
            USAGE_ERR,
            format!("--groundtruth needs --accel tcg, not {}: QEMU's plugins instrument TCG's translation", o.accel),
        );
    }
    if !plugin.is_file() {
        return fail(INPUT, format!("{}: no such plugin", plugin.display()));
    }
    let out = Command::new(qemu)
        .arg("--version")
        .output()
        .or_else(|e| fail(INPUT, format!("{qemu}: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match qemu_version(&text) {
        Some(v) if v >= MIN_QEMU => {}
        v => {
            return fail(
                INPUT,
                format!(
                    "{qemu} is QEMU {}: the plugin needs >= {}.{} (plugin API 4); \
                     scripts/qemu.sh plugin fetches one",
                    v.map_or("of unknown version".into(), |(a, b)| format!("{a}.{b}")),
                    MIN_QEMU.0,
                    MIN_QEMU.1
                ),
            )
        }
    }
    let image = o.kernel_dir.join("boot-image");
    let vmlinux = o.kernel_dir.join("vmlinux");
    let image_size = image_span(&head(&image)?, || head(&vmlinux).ok());
    let text = fs::read_to_string(map).map_err(io_error(map))?;
    let span = map_span(&text);
    if image_size.is_none() || span != image_size {
        return fail(
            INPUT,
            format!(
                "{}: not the System.map of {} (kernel spans {:x?} bytes, image {:x?})",
                map.display(),
                image.display(),
                span,
                image_size
            ),
        );
    }
    Ok(())
}

/// The first 4 KiB of a file: the headers of a boot image or an ELF file.
fn head(path: &Path) -> Result<Vec<u8>, Failure> {
    let mut head = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(io_error(path))?;
    Ok(head)
}

/// The size of the kernel in memory, `_end - _text` of its System.map,
/// from a boot image's header: arm64 `Image`'s `image_size`; an x86
/// `bzImage` states no such size (its `init_size` is the decompressor's
/// when larger), so the span of the loadable kernel segments of the
/// `vmlinux` it was built from, beside it in the build tree.
fn image_span(head: &[u8], vmlinux: impl FnOnce() -> Option<Vec<u8>>) -> Option<u64> {
    if head.get(56..60) == Some(b"ARM\x64") {
        Some(u64::from_le_bytes(head.get(16..24)?.try_into().ok()?))
    } else if head.get(0x202..0x206) == Some(b"HdrS") {
        elf::kernel_span(&vmlinux()?)
    } else {
        None
    }
}

fn qemu_version(text: &str) -> Option<(u32, u32)> {
    let v = text.split("version ").nth(1)?;
    let mut n = v.split(|c: char| !c.is_ascii_digit());
    Some((n.next()?.parse().ok()?, n.next()?.parse().ok()?))
}

/// `_end - _text` of a System.map: the size a boot image's header states.
fn map_span(text: &str) -> Option<u64> {
    let addr = |want: &str| {
        text.lines().find_map(|l| {
            let mut f = l.split_whitespace();
            let (a, _, name) = (f.next()?, f.next()?, f.next()?);
            (name == want).then(|| u64::from_str_radix(a, 16).ok())?
        })
    };
    addr("_end")?.checked_sub(addr("_text")?)
}

/// The traced runs, each followed by its run without a tracer.
pub fn runs(traced: Vec<GuestRun>) -> Vec<GuestRun> {
    let mut all = Vec::new();
    for r in traced {
        let id = format!("{}.notrace", r.id);
        let mut args = r.args.clone();
        args[1] = format!("{OUT_DIR}/{id}.trace");
        let t = args
            .iter()
            .position(|a| a == "--tracer")
            .expect("plan::runs sets it");
        args[t + 1] = "nop".into();
        // An output option of the function tracer, which ftrace_it refuses
        // for nop.
        args.retain(|a| a != crate::plan::SYM_ADDR);
        all.push(r);
        all.push(GuestRun {
            id,
            args,
            kind: RunKind::Plain,
        });
    }
    all
}

/// Where the plugin writes, beside the staging's guest directory.
pub fn out_dir(staging: &Path) -> PathBuf {
    staging.join("gt.tmp")
}

/// QEMU with the plugin, watching the payloads' guest paths.
pub fn attach(cmd: &mut Qemu, qemu: &str, plugin: &Path, map: &Path, out: &Path, names: &[String]) {
    cmd.program = qemu.to_string();
    let mut arg = format!(
        "{},map={},out={}",
        plugin.display(),
        map.display(),
        out.display()
    );
    for n in names {
        arg.push_str(&format!(",exec={BIN_DIR}/{n}"));
    }
    cmd.args.extend(["-plugin".into(), arg]);
}

/// Gives each run the plugin's record of its program (`exec-N.gt`, in
/// execve order) as `ID.gt` in `dest`.
pub fn collect(runs: &[GuestRun], out: &Path, dest: &Path) -> Result<(), Failure> {
    let mut records = Vec::new();
    for n in 1.. {
        let file = out.join(format!("exec-{n}.gt"));
        let Ok(text) = fs::read_to_string(&file) else {
            break;
        };
        let path = text
            .lines()
            .find_map(|l| l.strip_prefix("# gt.path: "))
            .unwrap_or_default()
            .to_string();
        records.push((file, path));
    }
    let mut next = 0;
    for r in runs {
        let program = r.args.last().expect("a run names its program");
        let Some(k) = records[next..].iter().position(|(_, p)| p == program) else {
            return fail(
                GUEST,
                format!(
                    "the plugin recorded no execve of {program} for run {}",
                    r.id
                ),
            );
        };
        let to = dest.join(format!("{}.gt", r.id));
        fs::rename(&records[next + k].0, &to).map_err(io_error(&to))?;
        next += k + 1;
    }
    fs::remove_dir_all(out).map_err(io_error(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_spans() {
        assert_eq!(
            qemu_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)\n"),
            Some((10, 0))
        );
        assert_eq!(
            qemu_version("QEMU emulator version 7.2.22 (Debian)"),
            Some((7, 2))
        );
        assert_eq!(qemu_version("something else"), None);
        let map = "ffff800080000000 T _text\nffff800080001000 t f\nffff8000805d0000 B _end\n";
        assert_eq!(map_span(map), Some(0x5d0000));
        assert_eq!(map_span("ffff800080000000 T _text\n"), None);
    }

    #[test]
    fn image_headers_state_the_span() {
        let mut arm = vec![0u8; 64];
        arm[16..24].copy_from_slice(&0x5d0000u64.to_le_bytes());
        arm[56..60].copy_from_slice(b"ARM\x64");
        assert_eq!(image_span(&arm, || None), Some(0x5d0000));
        let mut x86 = vec![0u8; 0x270];
        x86[0x202..0x206].copy_from_slice(b"HdrS");
        let vmlinux = elf::tests::kernel(&[(0xffffffff81000000, 0x700d34), (0, 0x28698)]);
        assert_eq!(image_span(&x86, || Some(vmlinux)), Some(0x700d34));
        assert_eq!(image_span(&x86, || None), None);
        assert_eq!(image_span(&[0; 0x270], || None), None);
    }

    #[test]
    fn each_run_gets_the_next_record_of_its_program() {
        let dir = std::env::temp_dir().join(format!("gt-collect-{}", std::process::id()));
        let out = dir.join("gt.tmp");
        fs::create_dir_all(&out).unwrap();
        for (n, p) in [
            "/usr/bin/min",
            "/usr/bin/min",
            "/usr/bin/min.large",
            "/usr/bin/min.large",
        ]
        .iter()
        .enumerate()
        {
            fs::write(
                out.join(format!("exec-{}.gt", n + 1)),
                format!("# gt.path: {p}\n{n}\n"),
            )
            .unwrap();
        }
        let run = |id: &str, prog: &str| GuestRun {
            id: id.into(),
            args: vec![
                "-o".into(),
                "x".into(),
                "--tracer".into(),
                "function".into(),
                "--sym-addr".into(),
                prog.into(),
            ],
            kind: RunKind::Plain,
        };
        let all = runs(vec![
            run("min", "/usr/bin/min"),
            run("min.large", "/usr/bin/min.large"),
        ]);
        assert_eq!(all[1].args[1], format!("{OUT_DIR}/min.notrace.trace"));
        assert_eq!(all[1].args[3], "nop");
        assert_eq!(all[0].args[4], "--sym-addr");
        assert_eq!(all[1].args[4], "/usr/bin/min");
        collect(&all, &out, &dir).unwrap();
        let read = |id: &str| fs::read_to_string(dir.join(format!("{id}.gt"))).unwrap();
        assert!(read("min").ends_with("\n0\n"));
        assert!(read("min.notrace").ends_with("\n1\n"));
        assert!(read("min.large.notrace").ends_with("\n3\n"));
        assert!(!out.exists());
        fs::create_dir_all(&out).unwrap();
        let e = collect(&all[..1], &out, &dir).unwrap_err();
        assert_eq!(e.code, GUEST);
        fs::remove_dir_all(&dir).unwrap();
    }
}
