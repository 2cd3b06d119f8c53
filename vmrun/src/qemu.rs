//! The QEMU command line that boots the guest.

use crate::{fail, Failure, Options, INPUT};
use guest_protocol::plan::Channel;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Qemu {
    pub program: String,
    pub args: Vec<String>,
}

/// The image `scripts/kernel.sh` built, as an absolute path: qemu.cmd runs
/// QEMU from another directory.
pub fn kernel_image(o: &Options) -> Result<PathBuf, Failure> {
    let image = o.kernel_dir.join("boot-image");
    image.canonicalize().or_else(|_| {
        fail(
            INPUT,
            format!(
                "{}: no kernel image (build it with scripts/kernel.sh {})",
                image.display(),
                o.arch
            ),
        )
    })
}

impl Qemu {
    pub fn new(o: &Options, kernel: &Path, initrd: &Path) -> Self {
        let (program, mut args, console) = match o.arch.as_str() {
            "aarch64" => (
                "qemu-system-aarch64",
                vec!["-M", "virt", "-cpu", "cortex-a72"],
                "ttyAMA0",
            ),
            _ => (
                "qemu-system-x86_64",
                vec!["-M", "pc", "-cpu", "max"],
                "ttyS0",
            ),
        };
        let append = format!("console={console} rdinit=/init panic=-1 printk.devkmsg=on");
        args.extend(["-smp", "2", "-m", "2048M", "-nographic", "-no-reboot"]);
        args.extend(["-accel", &o.accel]);
        let (kernel, initrd) = (kernel.display().to_string(), initrd.display().to_string());
        args.extend(["-kernel", &kernel, "-initrd", &initrd, "-append", &append]);
        if o.channel == Channel::Semihosting {
            args.extend([
                "-semihosting-config",
                "enable=on,target=native,userspace=on",
            ]);
        }
        Qemu {
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// `qemu.cmd`: the same boot by hand, from QEMU's working directory
    /// (where semihosting writes the files).
    pub fn script(&self, cwd: &Path) -> String {
        let cmdline = std::iter::once(self.program.to_string())
            .chain(self.args.iter().map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.clone()
                }
            }))
            .collect::<Vec<_>>()
            .join(" ");
        format!("cd {} && {cmdline}\n", cwd.display())
    }
}

/// After this the guest counts as hung: a minute for booting and shipping,
/// plus 15 s and `--duration` per run, unless `--timeout` says otherwise.
/// Under the ground truth plugin, which runs on every kernel function
/// entry, three times that: x86's function tracer alone, patching its call
/// sites, takes about 30 s of a traced run there.
pub fn timeout(o: &Options, runs: usize) -> Duration {
    let slow = if o.groundtruth.is_some() { 3 } else { 1 };
    let secs = o
        .timeout
        .unwrap_or(slow * (60 + runs as u64 * (o.duration_ms.div_ceil(1000) + 15)));
    Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qemu(arch: &str, channel: Channel) -> Qemu {
        let o = Options {
            arch: arch.into(),
            channel,
            ..Options::default()
        };
        Qemu::new(
            &o,
            Path::new("/k/boot-image"),
            Path::new("/w/initramfs.cpio"),
        )
    }

    #[test]
    fn semihosting_only_when_the_results_take_it() {
        let q = qemu("aarch64", Channel::Semihosting);
        assert_eq!(q.program, "qemu-system-aarch64");
        let line = q.script(Path::new("/w/guest"));
        assert!(line.starts_with("cd /w/guest && qemu-system-aarch64 -M virt "));
        assert!(line.contains(" -kernel /k/boot-image -initrd /w/initramfs.cpio "));
        assert!(line.contains(" -append 'console=ttyAMA0 rdinit=/init "));
        assert!(line.ends_with(" -semihosting-config enable=on,target=native,userspace=on\n"));
        let q = qemu("aarch64", Channel::Console);
        assert!(!q.args.iter().any(|a| a.contains("semihosting")));
        let q = qemu("x86_64", Channel::Console);
        assert_eq!(q.program, "qemu-system-x86_64");
        assert!(q.args.iter().any(|a| a.starts_with("console=ttyS0 ")));
    }

    #[test]
    fn the_timeout_grows_with_runs_and_duration() {
        let mut o = Options {
            duration_ms: 1500,
            ..Options::default()
        };
        assert_eq!(timeout(&o, 2), Duration::from_secs(60 + 2 * (2 + 15)));
        o.groundtruth = Some("libgt_plugin.so".into());
        assert_eq!(timeout(&o, 2), Duration::from_secs(3 * (60 + 2 * (2 + 15))));
        o.timeout = Some(7);
        assert_eq!(timeout(&o, 2), Duration::from_secs(7));
    }
}
