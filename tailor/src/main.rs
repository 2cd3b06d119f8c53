//! `tailor`: the Rust steps of `scripts/tailor.sh` (see README.md, Tailor).
//!
//!   tailor required --needs FILE --footprint LABEL=JSON... --allconfig OUT --reasons OUT
//!   tailor check --reasons FILE --config .config [--log KCONFIG_LOG]
//!   tailor compare --start JSON --tailored JSON --kernel-build DIR
//!   tailor objects --kernel-build DIR
//!
//! Exit codes: 0 done, 1 the footprints differ (compare), 2 usage,
//! 3 unreadable or invalid input.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use tailor::Required;

const USAGE: &str = "usage: tailor required --needs FILE --footprint LABEL=JSON... --allconfig OUT --reasons OUT | check --reasons FILE --config FILE [--log FILE] | compare --start JSON --tailored JSON --kernel-build DIR | objects --kernel-build DIR";

enum Fail {
    Usage(String),
    Input(String),
    Differs,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Differs) => ExitCode::from(1),
        Err(Fail::Usage(m)) => {
            eprintln!("tailor: {m}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Fail::Input(m)) => {
            eprintln!("tailor: {m}");
            ExitCode::from(3)
        }
    }
}

/// `--key value` pairs after the subcommand; a key may repeat.
fn options<'a>(args: &'a [String], known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, Fail> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let key = k
            .strip_prefix("--")
            .filter(|k| known.contains(k))
            .ok_or_else(|| Fail::Usage(format!("unknown argument '{k}'")))?;
        let v = it
            .next()
            .ok_or_else(|| Fail::Usage(format!("--{key} needs a value")))?;
        out.push((key, v.as_str()));
    }
    Ok(out)
}

fn one<'a>(opts: &[(&str, &'a str)], key: &str) -> Result<&'a str, Fail> {
    let mut v = opts.iter().filter(|(k, _)| *k == key).map(|(_, v)| *v);
    match (v.next(), v.next()) {
        (Some(x), None) => Ok(x),
        (None, _) => Err(Fail::Usage(format!("--{key} is required"))),
        _ => Err(Fail::Usage(format!("--{key} given twice"))),
    }
}

fn read(path: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path).map_err(|e| Fail::Input(format!("{path}: {e}")))
}

fn json(path: &str) -> Result<serde_json::Value, Fail> {
    serde_json::from_str(&read(path)?).map_err(|e| Fail::Input(format!("{path}: not JSON: {e}")))
}

fn write(path: &str, text: &str) -> Result<(), Fail> {
    std::fs::write(path, text).map_err(|e| Fail::Input(format!("{path}: {e}")))
}

fn input(path: &str) -> impl Fn(String) -> Fail + '_ {
    move |m| Fail::Input(format!("{path}: {m}"))
}

fn linked_objects(dir: &str) -> Result<BTreeSet<String>, Fail> {
    let (index, _) =
        kernel_index::KernelIndex::open(Path::new(dir), &kernel_index::Cache::InBuildTree)
            .map_err(|e| Fail::Input(format!("{dir}: {e}")))?;
    Ok(index.objects().iter().map(|o| o.path.clone()).collect())
}

fn run(args: &[String]) -> Result<(), Fail> {
    let (cmd, rest) = args
        .split_first()
        .ok_or_else(|| Fail::Usage("no subcommand".into()))?;
    match cmd.as_str() {
        "required" => {
            let o = options(rest, &["needs", "footprint", "allconfig", "reasons"])?;
            let mut required = Required::new();
            let needs = one(&o, "needs")?;
            tailor::parse_reasons(&read(needs)?, "needs: ", &mut required).map_err(input(needs))?;
            let mut any = false;
            for (_, spec) in o.iter().filter(|(k, _)| *k == "footprint") {
                let (label, path) = spec.split_once('=').ok_or_else(|| {
                    Fail::Usage(format!("--footprint '{spec}': expected LABEL=JSON"))
                })?;
                tailor::footprint_symbols(label, &json(path)?, &mut required)
                    .map_err(input(path))?;
                any = true;
            }
            if !any {
                return Err(Fail::Usage("--footprint is required".into()));
            }
            write(one(&o, "allconfig")?, &tailor::allconfig(&required))?;
            write(one(&o, "reasons")?, &tailor::reasons(&required))?;
            println!("required: {} symbols", required.len());
        }
        "check" => {
            let o = options(rest, &["reasons", "config", "log"])?;
            let path = one(&o, "reasons")?;
            let mut required = Required::new();
            tailor::parse_reasons(&read(path)?, "", &mut required).map_err(input(path))?;
            let log = match o.iter().find(|(k, _)| *k == "log") {
                Some((_, p)) => read(p)?,
                None => String::new(),
            };
            let u = tailor::unhonoured(&required, &read(one(&o, "config")?)?, &log);
            println!(
                "check: Kconfig honoured {} of {} required symbols",
                required.len() - u.len(),
                required.len()
            );
            for x in u {
                println!("not honoured: CONFIG_{} = {}: {}", x.symbol, x.value, x.why);
            }
        }
        "compare" => {
            let o = options(rest, &["start", "tailored", "kernel-build"])?;
            let linked = linked_objects(one(&o, "kernel-build")?)?;
            let (s, t) = (one(&o, "start")?, one(&o, "tailored")?);
            let c = tailor::compare(&json(s)?, &json(t)?, &linked).map_err(Fail::Input)?;
            println!(
                "compare: {} functions in both, {} removed with their objects, {} missing, {} added",
                c.common,
                c.removed.len(),
                c.missing.len(),
                c.added.len()
            );
            for (f, objs) in &c.removed {
                println!("removed: {f} ({})", objs.join(", "));
            }
            for f in &c.missing {
                println!("missing: {f} (its object is still linked)");
            }
            for f in &c.added {
                println!("added: {f}");
            }
            if !c.equal() {
                return Err(Fail::Differs);
            }
        }
        "objects" => {
            let o = options(rest, &["kernel-build"])?;
            println!("{}", linked_objects(one(&o, "kernel-build")?)?.len());
        }
        other => return Err(Fail::Usage(format!("unknown subcommand '{other}'"))),
    }
    Ok(())
}
