//! The `.gt` record format, one definition for its writer (gt_plugin, in
//! the emulator) and its reader (`ftrace_report groundtruth`).
//!
//! A record is `# gt.KEY: VALUE` lines, then one line per kernel function
//! entry of the task, in order: `k NAME` (kernel), `u NAME` (an entry stub
//! from user mode that ran with user state), and `s` where the task was
//! switched out. Version 1 had no `s` lines and no task, prefix or entry
//! count keys.

use std::fmt::Write;

/// The version [`write`] writes; [`parse`] reads 1 and 2.
pub const VERSION: u32 = 2;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// The path the task's `execve` was for.
    pub path: String,
    /// The task's kernel pointer, as the emulator saw it (0 in version 1).
    pub task: u64,
    /// Its final context switch was seen.
    pub closed: bool,
    /// The syscall path before `execve` was fully held.
    pub prefix_complete: bool,
    /// Names in entry order, `true` for an entry from user mode.
    pub entries: Vec<(String, bool)>,
    /// Where the task was switched out: before `entries[i]`, ascending.
    pub switches: Vec<usize>,
}

/// The record as text.
pub fn write(r: &Record) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "# gt.version: {VERSION}\n# gt.path: {}\n# gt.task: {:#x}\n# gt.closed: {}\n\
         # gt.prefix_complete: {}\n# gt.entries: {}\n",
        r.path,
        r.task,
        r.closed,
        r.prefix_complete,
        r.entries.len()
    );
    let mut switches = r.switches.iter().peekable();
    for (i, (name, user)) in r.entries.iter().enumerate() {
        while switches.next_if(|&&at| at <= i).is_some() {
            s.push_str("s\n");
        }
        s.push_str(if *user { "u " } else { "k " });
        s.push_str(name);
        s.push('\n');
    }
    for _ in switches {
        s.push_str("s\n");
    }
    s
}

/// Reads a record; keys it does not know, and the values of `task` and
/// `prefix_complete` it cannot read, are left at their defaults (they
/// inform, nothing is computed from them).
pub fn parse(text: &str) -> Result<Record, String> {
    let mut r = Record::default();
    let mut version = false;
    for (n, line) in text.lines().enumerate() {
        if let Some(kv) = line.strip_prefix("# gt.") {
            match kv.split_once(": ") {
                Some(("version", "1" | "2")) => version = true,
                Some(("path", p)) => r.path = p.to_string(),
                Some(("task", t)) => {
                    r.task = t
                        .strip_prefix("0x")
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .unwrap_or(0)
                }
                Some(("closed", c)) => r.closed = c == "true",
                Some(("prefix_complete", c)) => r.prefix_complete = c == "true",
                _ => {}
            }
        } else if line == "s" {
            r.switches.push(r.entries.len());
        } else {
            match line.split_once(' ') {
                Some(("k", name)) => r.entries.push((name.to_string(), false)),
                Some(("u", name)) => r.entries.push((name.to_string(), true)),
                _ => return Err(format!("line {}: not a gt_plugin record line", n + 1)),
            }
        }
    }
    if !version {
        return Err("not a gt_plugin record (no `# gt.version: 1` or 2)".into());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_record_reads_back() {
        let r = Record {
            path: "/usr/bin/min".into(),
            task: 0xffff_0000_0100_0000,
            closed: true,
            prefix_complete: false,
            entries: vec![
                ("el0t_64_sync".into(), true),
                ("__arm64_sys_execve".into(), false),
                ("schedule".into(), false),
                ("do_exit".into(), false),
            ],
            switches: vec![3, 4],
        };
        let text = write(&r);
        assert!(text.starts_with("# gt.version: 2\n# gt.path: /usr/bin/min\n"));
        assert!(text.contains("# gt.task: 0xffff000001000000\n# gt.closed: true\n"));
        assert!(text.ends_with("k schedule\ns\nk do_exit\ns\n"), "{text}");
        assert_eq!(parse(&text), Ok(r));
    }

    #[test]
    fn version_1_and_refusals() {
        let r = parse("# gt.version: 1\n# gt.path: /min\nu el0t_64_sync\nk alloc_bprm\n").unwrap();
        assert_eq!(r.task, 0);
        assert_eq!(r.entries.len(), 2);
        assert!(parse("k x\n").is_err());
        assert_eq!(
            parse("# gt.version: 1\nbad\n"),
            Err("line 2: not a gt_plugin record line".into())
        );
    }
}
