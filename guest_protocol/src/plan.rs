//! The run plan: written by vmrun ([`Writer`]) into the initramfs as
//! [`PLAN_PATH`](crate::PLAN_PATH), followed by `guest_init` ([`Plan`]).
//!
//! One directive per line, fields separated by tabs (so arguments may hold
//! spaces); `#` starts a comment line:
//!
//! ```text
//! channel<TAB>semihosting|console  how results leave the guest (default console)
//! run<TAB>ID<TAB>ARG...            ftrace_it ARG..., results named ID.*
//! run-reader<TAB>ID<TAB>ARG...     the same while init holds trace_pipe open
//! run-killed<TAB>ID<TAB>ARG...     the same, killed by SIGKILL mid-run, then
//!                                  `ftrace_it --restore`
//! run-direct<TAB>ID<TAB>SECS<TAB>PROG<TAB>ARG...
//!                                  PROG ARG... itself (another tracer, e.g.
//!                                  trace-cmd), in the results directory;
//!                                  SECS after a descendant runs another
//!                                  program (what it traces), SIGKILL for
//!                                  those
//! run-untraced<TAB>ID<TAB>SECS<TAB>PROG<TAB>ARG...
//!                                  PROG ARG... itself with no tracer (a
//!                                  kernel without ftrace), SIGKILL for it
//!                                  and its descendants SECS after its start
//! console-copy<TAB>FILE            also send result FILE over the console
//! console-noise<TAB>0|1            kernel messages during console transfers
//! ```
//!
//! Ids and copied files are [`valid_id`]s; no two runs share an id.

use crate::valid_id;
use core::fmt::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// AArch64 semihosting: QEMU writes the files on the host.
    Semihosting,
    /// Frames on the console (`console_frames`).
    Console,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Semihosting => "semihosting",
            Channel::Console => "console",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Channel::Semihosting, Channel::Console]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// One ftrace_it invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run<'a> {
    /// Names the run's result files: `ID.trace`, `ID.exit`, ...
    pub id: &'a str,
    /// Arguments of ftrace_it.
    pub args: Args<'a>,
    pub kind: RunKind,
}

/// How guest_init runs ftrace_it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// As a user would.
    Plain,
    /// Holding `trace_pipe` open during the run, as the seed's recipe does.
    Reader,
    /// Killed with SIGKILL once it has changed the settings (its journal
    /// exists), then `ftrace_it --restore`: what a user does after a crash.
    Killed,
    /// Not under ftrace_it: the arguments are `SECS PROG ARG...`.
    Direct,
    /// The program alone, traced by nothing: `SECS PROG ARG...`, killed
    /// `SECS` after its start.
    Untraced,
}

impl RunKind {
    const ALL: [RunKind; 5] = [
        RunKind::Plain,
        RunKind::Reader,
        RunKind::Killed,
        RunKind::Direct,
        RunKind::Untraced,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            RunKind::Plain => "run",
            RunKind::Reader => "run-reader",
            RunKind::Killed => "run-killed",
            RunKind::Direct => "run-direct",
            RunKind::Untraced => "run-untraced",
        }
    }

    fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.keyword() == keyword)
    }
}

/// A run's arguments, as they stand in the plan.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Args<'a>(&'a str);

impl<'a> Args<'a> {
    pub fn iter(&self) -> core::str::Split<'a, char> {
        self.0.split('\t')
    }
}

impl<'a> IntoIterator for Args<'a> {
    type Item = &'a str;
    type IntoIter = core::str::Split<'a, char>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

enum Directive<'a> {
    Channel(Channel),
    Run(Run<'a>),
    ConsoleCopy(&'a str),
    ConsoleNoise(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Unreadable,
    BadRun,
    SharedId,
}

/// Why a plan was refused; `text` is the line or the run's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanError<'a> {
    /// From 1.
    pub line: usize,
    problem: Problem,
    text: &'a str,
}

impl fmt::Display for PlanError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, text) = (self.line, self.text);
        match self.problem {
            Problem::Unreadable => write!(f, "plan line {line}: cannot read '{text}'"),
            Problem::BadRun => write!(
                f,
                "plan line {line}: run '{text}' needs a file-name-safe id and ftrace_it arguments"
            ),
            Problem::SharedId => write!(f, "plan line {line}: two runs share the id '{text}'"),
        }
    }
}

/// One line; `None` for comments and empty lines.
fn directive(line: &str) -> Result<Option<Directive<'_>>, (Problem, &str)> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let unreadable = (Problem::Unreadable, line);
    let (keyword, value) = line.split_once('\t').ok_or(unreadable)?;
    if let Some(kind) = RunKind::from_keyword(keyword) {
        return match value.split_once('\t') {
            Some((id, args)) if valid_id(id) => Ok(Some(Directive::Run(Run {
                id,
                args: Args(args),
                kind,
            }))),
            _ => {
                let id = value.split_once('\t').map_or(value, |(id, _)| id);
                Err((Problem::BadRun, id))
            }
        };
    }
    let d = match keyword {
        "channel" => Directive::Channel(Channel::from_name(value).ok_or(unreadable)?),
        "console-copy" if valid_id(value) => Directive::ConsoleCopy(value),
        "console-noise" if matches!(value, "0" | "1") => Directive::ConsoleNoise(value == "1"),
        _ => return Err(unreadable),
    };
    Ok(Some(d))
}

/// The directives of lines already checked.
fn directives<'a>(lines: impl Iterator<Item = &'a str>) -> impl Iterator<Item = Directive<'a>> {
    lines.filter_map(|l| directive(l).ok().flatten())
}

fn runs<'a>(lines: impl Iterator<Item = &'a str>) -> impl Iterator<Item = Run<'a>> {
    directives(lines).filter_map(|d| match d {
        Directive::Run(r) => Some(r),
        _ => None,
    })
}

/// A plan checked as a whole: its accessors read the text again.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    text: &'a str,
}

impl<'a> Plan<'a> {
    /// Refuses the whole plan at its first line the guest cannot honour.
    pub fn parse(text: &'a str) -> Result<Self, PlanError<'a>> {
        for (n, line) in text.lines().enumerate() {
            let err = |(problem, what)| PlanError {
                line: n + 1,
                problem,
                text: what,
            };
            if let Some(Directive::Run(run)) = directive(line).map_err(err)? {
                if runs(text.lines().take(n)).any(|r| r.id == run.id) {
                    return Err(err((Problem::SharedId, run.id)));
                }
            }
        }
        Ok(Plan { text })
    }

    fn directives(&self) -> impl Iterator<Item = Directive<'a>> + 'a {
        directives(self.text.lines())
    }

    /// The last `channel` directive's; the console without one.
    pub fn channel(&self) -> Channel {
        self.directives()
            .filter_map(|d| match d {
                Directive::Channel(c) => Some(c),
                _ => None,
            })
            .last()
            .unwrap_or(Channel::Console)
    }

    /// In plan order.
    pub fn runs(&self) -> impl Iterator<Item = Run<'a>> + 'a {
        runs(self.text.lines())
    }

    pub fn console_copies(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.directives().filter_map(|d| match d {
            Directive::ConsoleCopy(f) => Some(f),
            _ => None,
        })
    }

    /// The last `console-noise` directive's; off without one.
    pub fn console_noise(&self) -> bool {
        self.directives()
            .filter_map(|d| match d {
                Directive::ConsoleNoise(on) => Some(on),
                _ => None,
            })
            .last()
            .unwrap_or(false)
    }
}

/// Writes a plan line by line, in the order of the calls. It writes what
/// it is given: [`Plan::parse`] on the result tells whether the guest
/// will take it. The first error of `W` is kept for [`Writer::finish`].
pub struct Writer<W> {
    out: W,
    result: fmt::Result,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer {
            out,
            result: Ok(()),
        }
    }

    fn line(&mut self, args: fmt::Arguments<'_>) -> &mut Self {
        let out = &mut self.out;
        self.result = self.result.and_then(|()| out.write_fmt(args));
        self
    }

    /// `text` must be one line.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.line(format_args!("# {text}\n"))
    }

    pub fn channel(&mut self, channel: Channel) -> &mut Self {
        self.line(format_args!("channel\t{}\n", channel.name()))
    }

    /// `args` must hold no tab and no line break.
    pub fn run<S: AsRef<str>>(&mut self, id: &str, args: &[S], kind: RunKind) -> &mut Self {
        self.line(format_args!("{}\t{id}", kind.keyword()));
        for a in args {
            self.line(format_args!("\t{}", a.as_ref()));
        }
        self.line(format_args!("\n"))
    }

    pub fn console_copy(&mut self, file: &str) -> &mut Self {
        self.line(format_args!("console-copy\t{file}\n"))
    }

    pub fn console_noise(&mut self, on: bool) -> &mut Self {
        self.line(format_args!("console-noise\t{}\n", u8::from(on)))
    }

    pub fn finish(self) -> Result<W, fmt::Error> {
        self.result.map(|()| self.out)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn written(f: impl FnOnce(&mut Writer<String>)) -> String {
        let mut w = Writer::new(String::new());
        f(&mut w);
        w.finish().unwrap()
    }

    fn run_of(plan: Plan<'_>, i: usize) -> (&str, Vec<&str>, RunKind) {
        let r = plan.runs().nth(i).unwrap();
        (r.id, r.args.iter().collect(), r.kind)
    }

    #[test]
    fn what_the_host_writes_the_guest_reads() {
        let text = written(|w| {
            w.comment("written by vmrun")
                .channel(Channel::Semihosting)
                .run(
                    "min",
                    &["-o", "/tmp/out/min.trace", "/usr/bin/min"],
                    RunKind::Plain,
                )
                .run(
                    "busy",
                    &["--cpu", "99", "/usr/bin/prog", "a b"],
                    RunKind::Reader,
                )
                .run("killed", &["/usr/bin/min"], RunKind::Killed)
                .run(
                    "trace-cmd",
                    &["1", "/usr/bin/trace-cmd", "record", "-F", "/usr/bin/min"],
                    RunKind::Direct,
                )
                .run("alone", &["1", "/usr/bin/min"], RunKind::Untraced)
                .console_copy("min.trace")
                .console_noise(true);
        });
        let plan = Plan::parse(&text).unwrap();
        assert_eq!(plan.channel(), Channel::Semihosting);
        assert_eq!(plan.runs().count(), 5);
        assert_eq!(
            run_of(plan, 0),
            (
                "min",
                ["-o", "/tmp/out/min.trace", "/usr/bin/min"].into(),
                RunKind::Plain
            )
        );
        assert_eq!(
            run_of(plan, 1),
            (
                "busy",
                ["--cpu", "99", "/usr/bin/prog", "a b"].into(),
                RunKind::Reader
            )
        );
        assert_eq!(
            run_of(plan, 2),
            ("killed", ["/usr/bin/min"].into(), RunKind::Killed)
        );
        assert_eq!(run_of(plan, 3).2, RunKind::Direct);
        assert_eq!(
            run_of(plan, 4),
            ("alone", ["1", "/usr/bin/min"].into(), RunKind::Untraced)
        );
        assert_eq!(plan.console_copies().collect::<Vec<_>>(), ["min.trace"]);
        assert!(plan.console_noise());
        assert_eq!(
            text,
            "# written by vmrun\nchannel\tsemihosting\n\
             run\tmin\t-o\t/tmp/out/min.trace\t/usr/bin/min\n\
             run-reader\tbusy\t--cpu\t99\t/usr/bin/prog\ta b\n\
             run-killed\tkilled\t/usr/bin/min\n\
             run-direct\ttrace-cmd\t1\t/usr/bin/trace-cmd\trecord\t-F\t/usr/bin/min\n\
             run-untraced\talone\t1\t/usr/bin/min\n\
             console-copy\tmin.trace\nconsole-noise\t1\n"
        );
    }

    /// Takes `room` bytes, then fails.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.room = self.room.checked_sub(s.len()).ok_or(fmt::Error)?;
            Ok(())
        }
    }

    #[test]
    fn an_error_of_the_output_is_kept() {
        let mut w = Writer::new(Full { room: 20 });
        w.channel(Channel::Console).channel(Channel::Console);
        assert!(w.finish().is_err());
        let mut w = Writer::new(Full { room: 40 });
        w.channel(Channel::Console).channel(Channel::Console);
        assert_eq!(
            w.finish().unwrap().room,
            40 - 2 * "channel\tconsole\n".len()
        );
    }

    #[test]
    fn defaults_and_the_last_word() {
        let plan = Plan::parse("run\tx\t/usr/bin/prog\n").unwrap();
        assert_eq!(plan.channel(), Channel::Console);
        assert!(!plan.console_noise());
        assert_eq!(plan.console_copies().count(), 0);
        let text = written(|w| {
            w.channel(Channel::Semihosting)
                .console_noise(true)
                .channel(Channel::Console)
                .console_noise(false);
        });
        let plan = Plan::parse(&text).unwrap();
        assert_eq!(plan.channel(), Channel::Console);
        assert!(!plan.console_noise());
        assert_eq!(plan.runs().count(), 0);
    }

    #[test]
    fn the_guest_refuses_exactly_the_ids_the_host_must_not_use() {
        for id in [
            "min",
            "min.large",
            "a+b-c_d",
            "",
            ".",
            "..",
            ".x",
            "a/b",
            "a b",
            "é",
        ] {
            let run = written(|w| {
                w.run(id, &["/usr/bin/min"], RunKind::Plain);
            });
            let copy = written(|w| {
                w.console_copy(id);
            });
            assert_eq!(Plan::parse(&run).is_ok(), valid_id(id), "run {id:?}");
            assert_eq!(Plan::parse(&copy).is_ok(), valid_id(id), "copy {id:?}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for (text, line, message) in [
            (
                "channel\tcarrier-pigeon\n",
                1,
                "cannot read 'channel\tcarrier-pigeon'",
            ),
            ("\nrun\t../x\t/usr/bin/min\n", 2, "run '../x' needs"),
            ("run\tx\n", 1, "run 'x' needs"),
            ("run\n", 1, "cannot read 'run'"),
            ("console-copy\ta/b\n", 1, "cannot read"),
            ("console-noise\tyes\n", 1, "cannot read"),
            ("frobnicate\n", 1, "cannot read 'frobnicate'"),
            (
                "# one\nrun\tx\ta\nrun\ty\ta\nrun-reader\tx\tb\n",
                4,
                "two runs share the id 'x'",
            ),
        ] {
            let e = Plan::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            let shown = std::format!("{e}");
            assert!(
                shown.starts_with(&std::format!("plan line {line}: ")) && shown.contains(message),
                "{text:?}: {shown}"
            );
        }
    }
}
