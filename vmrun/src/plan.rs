//! What the guest runs: the ftrace_it invocations and the plan that tells
//! `guest_init` about them (format in `guest_protocol::plan`).

use crate::initramfs::GuestPayload;
use crate::{fail, Failure, Options, INPUT};
use guest_protocol::plan::{Channel, Plan, RunKind, Writer};
use guest_protocol::{BIN_DIR, OUT_DIR};

/// ftrace_it's option for addresses in the function tracer's lines.
pub const SYM_ADDR: &str = "--sym-addr";

/// One ftrace_it invocation in the guest.
pub struct GuestRun {
    pub id: String,
    pub args: Vec<String>,
    pub kind: RunKind,
}

/// Runs of the plan: one per payload (its output into `ID.stdout` and
/// `ID.stderr`), plus with `--checks` a run killed
/// mid-trace and restored from its journal (before the next runs, which
/// then find no stale journal), a function_graph run and the runs that must
/// fail cleanly (missing program, bad CPU, a `trace_pipe` reader already
/// open as in the seed's recipe) and a `--no-follow` run. Function tracer
/// runs print each symbol's address (`--sym-addr`), which tells apart the
/// functions that share a name.
pub fn runs(o: &Options, payloads: &[GuestPayload]) -> Vec<GuestRun> {
    let run = |id: &str, duration: &str, tracer: &str, extra: &[&str], program: &str| {
        let sym_addr: &[&str] = if tracer == "function" {
            &[SYM_ADDR]
        } else {
            &[]
        };
        GuestRun {
            id: id.to_string(),
            args: [
                "-o",
                &format!("{OUT_DIR}/{id}.trace"),
                "--duration",
                duration,
                "--tracer",
                tracer,
            ]
            .iter()
            .chain(sym_addr)
            .chain(extra)
            .chain([&program])
            .map(|s| s.to_string())
            .collect(),
            kind: RunKind::Plain,
        }
    };
    let traced = |id: &str, tracer: &str, extra: &[&str], program: &str| {
        run(id, &o.duration, tracer, extra, program)
    };
    let mut runs: Vec<GuestRun> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let n = &p.name;
            let kind = if o.direct.contains(&i) {
                Some(RunKind::Direct)
            } else {
                (o.tracer == "none").then_some(RunKind::Untraced)
            };
            if let Some(kind) = kind {
                return GuestRun {
                    id: n.clone(),
                    args: [o.duration.clone(), format!("{BIN_DIR}/{n}")]
                        .into_iter()
                        .chain(p.args.iter().cloned())
                        .collect(),
                    kind,
                };
            }
            let (out, err) = (
                format!("{OUT_DIR}/{n}.stdout"),
                format!("{OUT_DIR}/{n}.stderr"),
            );
            let mut r = traced(
                n,
                &o.tracer,
                &["--stdout", &out, "--stderr", &err],
                &format!("{BIN_DIR}/{n}"),
            );
            r.args.extend(p.args.iter().cloned());
            r
        })
        .collect();
    if o.checks {
        let first = format!("{BIN_DIR}/{}", payloads[0].name);
        // Long enough to be killed while tracing, whatever --duration says.
        runs.push(GuestRun {
            kind: RunKind::Killed,
            ..run("killed", "60", &o.tracer, &[], &first)
        });
        runs.push(traced("fgraph", "function_graph", &[], &first));
        // ftrace_it's original single-pid behaviour, to compare with.
        runs.push(traced("nofollow", &o.tracer, &["--no-follow"], &first));
        runs.push(traced(
            "missing",
            &o.tracer,
            &[],
            &format!("{BIN_DIR}/no-such-program"),
        ));
        runs.push(traced("badcpu", &o.tracer, &["--cpu", "99"], &first));
        runs.push(GuestRun {
            kind: RunKind::Reader,
            ..traced("busy", &o.tracer, &[], &first)
        });
    }
    runs
}

/// The plan's text, checked as the guest will read it: a payload named
/// like one of the `--checks` runs is refused here rather than in the guest.
pub fn text(channel: Channel, runs: &[GuestRun], checks: bool) -> Result<String, Failure> {
    let mut plan = Writer::new(String::new());
    plan.comment("written by vmrun").channel(channel);
    for r in runs {
        plan.run(&r.id, &r.args, r.kind);
    }
    if checks {
        // A real console capture with real kernel messages in it, for the
        // console channel's test: when the results come by semihosting, a
        // copy of one trace also goes over the console.
        if channel == Channel::Semihosting {
            plan.console_copy("fgraph.trace");
        }
        plan.console_noise(true);
    }
    let text = plan.finish().expect("a String takes any text");
    if let Err(e) = Plan::parse(&text) {
        return fail(INPUT, format!("the guest would refuse its plan: {e}"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(checks: bool) -> Options {
        Options {
            arch: "aarch64".into(),
            duration: "1.5".into(),
            checks,
            ..Options::default()
        }
    }

    fn payload(name: &str, args: &[&str]) -> GuestPayload {
        GuestPayload {
            name: name.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn plan_text(channel: Channel, runs: &[GuestRun], checks: bool) -> String {
        text(channel, runs, checks).unwrap()
    }

    #[test]
    fn one_run_per_payload_with_the_knobs() {
        let names = [payload("min", &[]), payload("hello", &["a b", "-v"])];
        let runs = runs(&options(false), &names);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].id, "hello");
        assert_eq!(
            runs[1].args,
            [
                "-o",
                "/tmp/out/hello.trace",
                "--duration",
                "1.5",
                "--tracer",
                "function",
                "--sym-addr",
                "--stdout",
                "/tmp/out/hello.stdout",
                "--stderr",
                "/tmp/out/hello.stderr",
                "/usr/bin/hello",
                "a b",
                "-v"
            ]
        );
        let plan = plan_text(Channel::Semihosting, &runs, false);
        assert!(plan.contains("channel\tsemihosting\n"));
        let direct = Options {
            direct: vec![1],
            ..options(false)
        };
        let runs2 = super::runs(&direct, &names);
        assert_eq!(runs2[1].kind, RunKind::Direct);
        assert_eq!(runs2[1].args, ["1.5", "/usr/bin/hello", "a b", "-v"]);
        assert_eq!(runs2[0].kind, RunKind::Plain);
        assert!(plan.contains("run\tmin\t-o\t/tmp/out/min.trace\t--duration\t1.5\t"));
        assert!(!plan.contains("console"), "{plan}");
        let alone = Options {
            tracer: "none".into(),
            ..options(false)
        };
        let runs3 = super::runs(&alone, &names);
        assert!(runs3.iter().all(|r| r.kind == RunKind::Untraced));
        assert_eq!(runs3[1].args, ["1.5", "/usr/bin/hello", "a b", "-v"]);
        assert!(plan_text(Channel::Semihosting, &runs3, false)
            .contains("run-untraced\tmin\t1.5\t/usr/bin/min\n"));
    }

    #[test]
    fn checks_add_function_graph_and_the_failing_runs() {
        let names = [payload("min", &[])];
        let runs = runs(&options(true), &names);
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["min", "killed", "fgraph", "nofollow", "missing", "badcpu", "busy"]
        );
        assert_eq!(runs[1].kind, RunKind::Killed);
        assert!(runs[1].args.windows(2).any(|w| w == ["--duration", "60"]));
        assert!(runs[2]
            .args
            .windows(2)
            .any(|w| w == ["--tracer", "function_graph"]));
        // function_graph prints no addresses: ftrace_it refuses --sym-addr.
        assert!(!runs[2].args.contains(&SYM_ADDR.to_string()));
        for r in runs.iter().filter(|r| r.id != "fgraph") {
            assert!(r.args.contains(&SYM_ADDR.to_string()), "{}", r.id);
        }
        assert!(runs[3].args.contains(&"--no-follow".to_string()));
        assert_eq!(runs[4].args.last().unwrap(), "/usr/bin/no-such-program");
        assert!(runs[5].args.windows(2).any(|w| w == ["--cpu", "99"]));
        assert_eq!(runs[6].kind, RunKind::Reader);
        assert_eq!(runs[5].kind, RunKind::Plain);
        assert!(plan_text(Channel::Console, &runs, true).contains("\nrun-killed\tkilled\t-o\t"));
        assert!(plan_text(Channel::Console, &runs, true).contains("\nrun-reader\tbusy\t-o\t"));
        // Results by semihosting: a copy goes over the console too.
        assert!(
            plan_text(Channel::Semihosting, &runs, true).contains("console-copy\tfgraph.trace\n")
        );
        let console = plan_text(Channel::Console, &runs, true);
        assert!(!console.contains("console-copy") && console.contains("console-noise\t1\n"));
    }

    #[test]
    fn a_plan_the_guest_would_refuse_fails_before_the_boot() {
        let names = [payload("fgraph", &[])];
        let f = text(Channel::Console, &runs(&options(true), &names), true).unwrap_err();
        assert_eq!(f.code, INPUT);
        assert!(
            f.message.contains("two runs share the id 'fgraph'"),
            "{}",
            f.message
        );
    }
}
