//! `ftrace_it` against a fake tracefs (tests/common/mod.rs).
//! The command line: bad input with its status and nothing changed, root,
//! --help, the GNU option forms.

mod common;

use common::*;
use std::fs;
use std::process::Command;

#[test]
fn bad_input_changes_nothing_and_has_its_own_status() {
    struct Case {
        name: &'static str,
        prepare: fn(&Tree) -> Vec<String>,
        code: i32,
        needle: &'static str,
    }
    let cases = [
        Case {
            name: "unknown option",
            prepare: |_| vec!["--bogus".into(), "/bin/true".into()],
            code: 64,
            needle: "unknown option --bogus",
        },
        Case {
            name: "no program",
            prepare: |_| vec![],
            code: 64,
            needle: "missing PROGRAM",
        },
        Case {
            name: "bad --tracer",
            prepare: |_| vec!["--tracer=irqsoff".into(), "/bin/true".into()],
            code: 64,
            needle: "irqsoff",
        },
        Case {
            name: "--sym-addr with function_graph",
            prepare: |_| {
                let a = ["--sym-addr", "--tracer", "function_graph", "/bin/true"];
                a.map(String::from).to_vec()
            },
            code: 64,
            needle: "--sym-addr needs --tracer function",
        },
        Case {
            name: "program missing",
            prepare: |t| vec![t.path("nothing").display().to_string()],
            code: 65,
            needle: "no such file",
        },
        Case {
            name: "program not executable",
            prepare: |t| {
                fs::write(t.path("script"), "#!/bin/sh\n").unwrap();
                vec![t.path("script").display().to_string()]
            },
            code: 65,
            needle: "not executable",
        },
        Case {
            name: "program is a directory",
            prepare: |t| vec![t.path("tr").display().to_string()],
            code: 65,
            needle: "not a regular file",
        },
        Case {
            name: "tracefs missing",
            prepare: |t| {
                let mut a = vec!["--tracefs".into(), t.path("none").display().to_string()];
                a.push("/bin/true".into());
                a
            },
            code: 67,
            needle: "is not a tracefs",
        },
        Case {
            name: "tracer not available",
            prepare: |t| {
                t.put("tr/available_tracers", "blk nop\n");
                vec!["/bin/true".into()]
            },
            code: 68,
            needle: "tracer function is not available",
        },
        Case {
            name: "CPU out of range",
            prepare: |_| vec!["--cpu".into(), "7".into(), "/bin/true".into()],
            code: 69,
            needle: "--cpu 7 is not online",
        },
        Case {
            name: "CPU offline",
            prepare: |t| {
                t.put("sys/devices/system/cpu/online", "0,2-3\n");
                vec!["/bin/true".into()]
            },
            code: 69,
            needle: "--cpu 1 is not online (online: 0,2-3)",
        },
        Case {
            name: "housekeeping offline",
            prepare: |_| vec!["--housekeeping".into(), "5".into(), "/bin/true".into()],
            code: 69,
            needle: "--housekeeping 5 is not online",
        },
        Case {
            name: "one CPU online",
            prepare: |t| {
                t.put("sys/devices/system/cpu/online", "0\n");
                vec!["/bin/true".into()]
            },
            code: 69,
            needle: "only CPU 0 is online",
        },
        Case {
            name: "one CPU online is accepted with --cpu 0 --no-irq-routing",
            prepare: |t| {
                t.put("sys/devices/system/cpu/online", "0\n");
                t.put("tr/available_tracers", "nop\n");
                vec![
                    "--cpu".into(),
                    "0".into(),
                    "--no-irq-routing".into(),
                    "/bin/true".into(),
                ]
            },
            code: 68,
            needle: "not available",
        },
    ];
    for c in cases {
        let t = Tree::new("bad");
        let mut args = (c.prepare)(&t);
        let out_file = t.out_file();
        args.splice(0..0, ["-o".to_string(), out_file.clone()]);
        // A file of that name is left alone: FILE is created only once
        // every check has passed.
        fs::write(&out_file, "the user's\n").unwrap();
        let before = t.snapshot();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = t.run(&args);
        assert_eq!(code(&out), c.code, "{}: {}", c.name, stderr(&out));
        assert_one_line_error(&out, c.needle);
        assert_eq!(before, t.snapshot(), "{}: the tree changed", c.name);
        let kept = fs::read_to_string(&out_file).unwrap();
        assert_eq!(kept, "the user's\n", "{}: FILE touched", c.name);
    }
}

#[test]
fn not_root_is_refused_before_anything_happens() {
    let t = Tree::new("notroot");
    let before = t.snapshot();
    let out = t
        .cmd(
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ],
            &["/bin/true"],
        )
        .output()
        .unwrap();
    assert_eq!(code(&out), 66);
    assert_one_line_error(&out, "must run as root");
    assert_eq!(before, t.snapshot());
}

#[test]
fn help_lists_every_option_and_exit_status() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--output FILE",
        "--tracer NAME",
        "--cpu N",
        "--housekeeping N",
        "--no-irq-routing",
        "--sym-addr",
        "--duration SECS",
        "--buffer-kb N",
        "--env NAME=VALUE",
        "--tracefs DIR",
        "--procfs DIR",
        "--sysfs DIR",
        "--help",
        "--version",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    for code in 64..=73 {
        assert!(
            help.contains(&code.to_string()),
            "--help lacks exit status {code}"
        );
    }
    let out = Command::new(BIN).arg("-V").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("ftrace_it {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn options_take_gnu_forms_and_end_at_the_program() {
    let t = Tree::new("gnu");
    let out_file = t.out_file();
    let joined = format!("--output={out_file}");
    let env_file = t.path("env").display().to_string();
    let script = format!("env > {env_file}");
    let out = t.run(&[
        &joined, "--cpu=1", "--env", "A=b c", "--", "/bin/sh", "-c", &script, "-o", "x",
    ]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(
        header(&out_file)["command"],
        format!("/bin/sh -c {script} -o x")
    );
    let env = fs::read_to_string(&env_file).unwrap();
    assert!(env.lines().any(|l| l == "A=b c"), "{env}");
    assert!(
        !env.contains("CARGO"),
        "only --env reaches the program: {env}"
    );
}
