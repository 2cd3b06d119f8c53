//! The run plan vmrun writes into the initramfs as `/etc/mpt.plan`.
//!
//! One directive per line, fields separated by tabs (so arguments may hold
//! spaces); `#` starts a comment line:
//!
//! ```text
//! channel<TAB>semihosting|console
//! run<TAB>ID<TAB>ARG...           ftrace_it ARG..., results named ID.*
//! run-reader<TAB>ID<TAB>ARG...    the same while init holds trace_pipe open
//! console-copy<TAB>FILE           also send FILE over the console
//! console-noise<TAB>1             kernel messages during console transfers
//! ```

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// AArch64 semihosting: QEMU writes the files on the host.
    Semihosting,
    /// Frames on the console (`console_frames`).
    Console,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Names the run's result files: `ID.log`, `ID.exit`, `ID.state-*`.
    pub id: String,
    /// Arguments of `ftrace_it`.
    pub args: Vec<String>,
    /// Hold `trace_pipe` open during the run, as the seed's recipe does.
    pub reader: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub channel: Channel,
    pub runs: Vec<Run>,
    pub console_copies: Vec<String>,
    pub console_noise: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct PlanError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plan line {}: {}", self.line, self.message)
    }
}

/// A result file name: no path separators, nothing hidden.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

pub fn parse(text: &str) -> Result<Plan, PlanError> {
    let mut plan = Plan {
        channel: Channel::Console,
        runs: Vec::new(),
        console_copies: Vec::new(),
        console_noise: false,
    };
    for (n, line) in text.lines().enumerate() {
        let err = |message: String| PlanError {
            line: n + 1,
            message,
        };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["channel", "semihosting"] => plan.channel = Channel::Semihosting,
            ["channel", "console"] => plan.channel = Channel::Console,
            [kind @ ("run" | "run-reader"), id, args @ ..] if valid_id(id) && !args.is_empty() => {
                plan.runs.push(Run {
                    id: id.to_string(),
                    args: args.iter().map(|a| a.to_string()).collect(),
                    reader: *kind == "run-reader",
                })
            }
            ["run" | "run-reader", id, ..] => {
                return Err(err(format!(
                    "run '{id}' needs a file-name-safe id and ftrace_it arguments"
                )))
            }
            ["console-copy", file] if valid_id(file) => plan.console_copies.push(file.to_string()),
            ["console-noise", v @ ("0" | "1")] => plan.console_noise = *v == "1",
            _ => return Err(err(format!("cannot read '{line}'"))),
        }
    }
    if plan
        .runs
        .iter()
        .enumerate()
        .any(|(i, r)| plan.runs[..i].iter().any(|o| o.id == r.id))
    {
        return Err(PlanError {
            line: 0,
            message: "two runs share an id".into(),
        });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_directive() {
        let plan = parse(
            "# made by vmrun\nchannel\tsemihosting\nrun\tmin\t-o\t/tmp/out/min.trace\t/usr/bin/min\n\
             run-reader\tneg-cpu\t--cpu\t99\t/usr/bin/min\nconsole-copy\tmin.trace\nconsole-noise\t1\n",
        )
        .unwrap();
        assert_eq!(plan.channel, Channel::Semihosting);
        assert_eq!(plan.runs.len(), 2);
        assert_eq!(plan.runs[0].id, "min");
        assert_eq!(
            plan.runs[0].args,
            ["-o", "/tmp/out/min.trace", "/usr/bin/min"]
        );
        assert_eq!(plan.runs[1].args, ["--cpu", "99", "/usr/bin/min"]);
        assert!(!plan.runs[0].reader && plan.runs[1].reader);
        assert_eq!(plan.console_copies, ["min.trace"]);
        assert!(plan.console_noise);
    }

    #[test]
    fn arguments_keep_their_spaces() {
        let plan = parse("run\tx\t/usr/bin/prog\ta b\n").unwrap();
        assert_eq!(plan.runs[0].args, ["/usr/bin/prog", "a b"]);
        assert_eq!(plan.channel, Channel::Console);
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for (text, line) in [
            ("channel\tcarrier-pigeon\n", 1),
            ("\nrun\t../x\t/usr/bin/min\n", 2),
            ("run\tx\n", 1),
            ("console-copy\ta/b\n", 1),
            ("frobnicate\n", 1),
            ("run\tx\ta\nrun\tx\tb\n", 0),
        ] {
            assert_eq!(parse(text).unwrap_err().line, line, "{text:?}");
        }
    }
}
