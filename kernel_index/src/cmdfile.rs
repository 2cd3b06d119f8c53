//! Kbuild's record of how an object was made: `.NAME.o.cmd` beside it
//! (`savedcmd_` command, `source_` file, `deps_` list written by fixdep).

use std::path::{Path, PathBuf};

/// What one `.cmd` file says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CmdFile {
    pub command: String,
    /// `source_...`, as written (absolute under the source tree, or
    /// relative to the build tree for generated files).
    pub source: Option<String>,
    /// More compiled sources, for an object made from several objects.
    pub parts: Vec<String>,
    /// `.c`/`.S` files among the dependencies: sources included into the
    /// compiled one (`kernel/sched/build_policy.c` includes `idle.c`...).
    pub included: Vec<String>,
    /// `$(wildcard include/config/FOO)` dependencies: the symbols the
    /// preprocessor looked at.
    pub config: Vec<String>,
    /// `-DKBUILD_MODNAME='"name"'`: the composite object's name when it is
    /// not the object's own.
    pub modname: Option<String>,
    /// Whether the compiler was told to emit ftrace's hook
    /// (`-fpatchable-function-entry=`, `-pg`); `None` when the command
    /// compiles no source, or its parts disagree.
    pub ftrace_hook: Option<bool>,
}

/// The `.cmd` file of a build-tree path `dir/name.o`: `dir/.name.o.cmd`.
pub(crate) fn cmd_path(build: &Path, object: &str) -> PathBuf {
    let (dir, name) = object.rsplit_once('/').unwrap_or(("", object));
    if dir.is_empty() {
        build.join(format!(".{name}.cmd"))
    } else {
        build.join(dir).join(format!(".{name}.cmd"))
    }
}

pub(crate) fn parse_cmd(text: &str) -> CmdFile {
    let mut cmd = CmdFile::default();
    let mut in_deps = false;
    for line in text.lines() {
        if in_deps {
            let item = line.trim().trim_end_matches('\\').trim();
            if let Some(sym) = item
                .strip_prefix("$(wildcard include/config/")
                .and_then(|s| s.strip_suffix(')'))
            {
                cmd.config.push(sym.to_string());
            } else if item.ends_with(".c") || item.ends_with(".S") {
                cmd.included.push(item.to_string());
            }
            in_deps = line.ends_with('\\');
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("savedcmd_")
            .or_else(|| line.strip_prefix("cmd_"))
        {
            if let Some((_, command)) = rest.split_once(" := ") {
                cmd.command = command.to_string();
                cmd.modname = modname(command);
            }
        } else if let Some(rest) = line.strip_prefix("source_") {
            if let Some((_, source)) = rest.split_once(" := ") {
                cmd.source = Some(source.trim().to_string());
            }
        } else if line.starts_with("deps_") && line.ends_with('\\') {
            in_deps = true;
        }
    }
    if let Some(source) = &cmd.source {
        cmd.included.retain(|f| f != source);
    }
    cmd.config.sort();
    cmd.config.dedup();
    if cmd.source.is_some() {
        cmd.ftrace_hook = Some(
            cmd.command
                .split_whitespace()
                .any(|w| w == "-pg" || w.starts_with("-fpatchable-function-entry=")),
        );
    }
    cmd
}

fn modname(command: &str) -> Option<String> {
    let rest = &command[command.find("-DKBUILD_MODNAME=")? + "-DKBUILD_MODNAME=".len()..];
    let value = rest.split_whitespace().next()?;
    Some(value.trim_matches(|c| c == '\'' || c == '"').to_string())
}

/// Objects a command made this one from, when it compiled nothing itself:
/// `objcopy ... in.o out.o`, `ld -r -o out.o a.o b.o` or `@list.mod`.
pub(crate) fn inputs(command: &str, target: &str, build: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let first = command.split("&&").next().unwrap_or(command);
    for word in first.split_whitespace() {
        if let Some(list) = word.strip_prefix('@') {
            if let Ok(text) = std::fs::read_to_string(build.join(list)) {
                out.extend(text.split_whitespace().map(str::to_string));
            }
        } else if word.ends_with(".o") && word != target && !word.starts_with('-') {
            out.push(word.trim_start_matches("./").to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_object() {
        let text = "savedcmd_fs/proc/base.o := gcc -Wp,-MMD,fs/proc/.base.o.d -DKBUILD_BASENAME='\"base\"' -DKBUILD_MODNAME='\"proc\"' -D__KBUILD_MODNAME=kmod_proc -c -o fs/proc/base.o /src/fs/proc/base.c\n\nsource_fs/proc/base.o := /src/fs/proc/base.c\n\ndeps_fs/proc/base.o := \\\n  /src/include/linux/kconfig.h \\\n    $(wildcard include/config/SMP) \\\n  /src/fs/proc/base.c \\\n  /src/fs/proc/extra.c \\\n    $(wildcard include/config/A) \\\n    $(wildcard include/config/SMP) \\\n\nfs/proc/base.o: $(deps_fs/proc/base.o)\n\n$(deps_fs/proc/base.o):\n";
        let c = parse_cmd(text);
        assert_eq!(c.source.as_deref(), Some("/src/fs/proc/base.c"));
        assert_eq!(c.config, ["A", "SMP"]);
        assert_eq!(c.included, ["/src/fs/proc/extra.c"]);
        assert_eq!(c.modname.as_deref(), Some("proc"));
        assert_eq!(c.ftrace_hook, Some(false));
        let hooked = text.replace(" -c -o", " -fpatchable-function-entry=4,2 -c -o");
        assert_eq!(parse_cmd(&hooked).ftrace_hook, Some(true));
        assert_eq!(
            parse_cmd(&text.replace(" -c -o", " -pg -c -o")).ftrace_hook,
            Some(true)
        );
        // A flag that merely starts alike is not the hook.
        assert_eq!(
            parse_cmd(&text.replace(" -c -o", " -pgx -c -o")).ftrace_hook,
            Some(false)
        );
    }

    #[test]
    fn derived_object() {
        let text = "savedcmd_arch/arm64/kernel/pi/map_range.pi.o := aarch64-linux-gnu-objcopy --prefix-symbols=__pi_ arch/arm64/kernel/pi/map_range.o arch/arm64/kernel/pi/map_range.pi.o && arch/arm64/kernel/pi/relacheck arch/arm64/kernel/pi/map_range.pi.o arch/arm64/kernel/pi/map_range.o\n";
        let c = parse_cmd(text);
        assert_eq!(c.source, None);
        assert_eq!(c.ftrace_hook, None);
        let target = "arch/arm64/kernel/pi/map_range.pi.o";
        assert_eq!(
            inputs(&c.command, target, Path::new("/nonexistent")),
            ["arch/arm64/kernel/pi/map_range.o"]
        );
        assert_eq!(
            cmd_path(Path::new("/b"), target),
            Path::new("/b/arch/arm64/kernel/pi/.map_range.pi.o.cmd")
        );
        assert_eq!(cmd_path(Path::new("/b"), "x.o"), Path::new("/b/.x.o.cmd"));
    }
}
