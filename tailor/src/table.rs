//! The tables of tailor/README.md: `table.md` (the starting and the
//! tailored kernel, after `tailor run`) and `kernels.md` (`tailor table`:
//! those two beside the kernel's own tinyconfig and defconfig, booted with
//! the payload alone, since neither has the function tracer).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::evidence::{linked_objects, open_index};
use crate::lab;
use crate::required;
use crate::tailoring::{input, y_count, Stop};

/// The figures of one kernel build tree.
struct Facts {
    y: usize,
    /// Every object compiled for the target but `vmlinux.o`.
    built: usize,
    text: String,
    image: String,
    build_seconds: String,
    build_cpu_seconds: String,
}

fn file_or(path: &Path, absent: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| absent.to_string(), |t| t.trim().to_string())
}

/// The `text` column of `aarch64-linux-gnu-size vmlinux` (Berkeley
/// format: a header line, then `text data bss ...`).
fn text_size(vmlinux: &Path) -> Result<String, Stop> {
    let out = Command::new("aarch64-linux-gnu-size")
        .arg(vmlinux)
        .output()
        .map_err(|e| input(format!("aarch64-linux-gnu-size: {e} (run `make deps`)")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .filter(|_| out.status.success())
        .map(String::from)
        .ok_or_else(|| {
            input(format!(
                "aarch64-linux-gnu-size {}: {}",
                vmlinux.display(),
                out.status
            ))
        })
}

/// The `.o` files under `dir` but those of `scripts/` and `tools/` (host
/// programs) and `vmlinux.o` (the link of the others).
fn objects_built(dir: &Path, top: &Path, n: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && path != top.join("scripts") && path != top.join("tools") {
            objects_built(&path, top, n);
        } else if !is_dir
            && path.extension().is_some_and(|x| x == "o")
            && path.file_name().is_some_and(|f| f != "vmlinux.o")
        {
            *n += 1;
        }
    }
}

fn facts(k: &Path) -> Result<Facts, Stop> {
    let mut built = 0;
    objects_built(k, k, &mut built);
    let image = std::fs::metadata(k.join("boot-image"))
        .map_err(|e| input(format!("{}/boot-image: {e}", k.display())))?;
    Ok(Facts {
        y: y_count(k)?,
        built,
        text: text_size(&k.join("vmlinux"))?,
        image: image.len().to_string(),
        build_seconds: file_or(&k.join("build-seconds"), "?"),
        build_cpu_seconds: file_or(&k.join("build-cpu-seconds"), "?"),
    })
}

fn boot_cell(seconds: Option<f64>) -> String {
    seconds.map_or("-".into(), |s| format!("{s:.1}"))
}

/// `table.md` of `tailor run`: both kernels' figures and their runs.
pub fn loop_table(s: &crate::tailoring::Summary, id: &str) -> Result<String, Stop> {
    let mut out = format!(
        "| kernel | =y symbols | objects linked | vmlinux text | Image bytes | build s | boot to init s | {id} runs |\n|---|---|---|---|---|---|---|---|\n"
    );
    for (name, k, boot) in [
        (
            "starting (kernel.config)",
            &s.start_kernel,
            s.start_boot_seconds,
        ),
        ("tailored", &s.tailored_kernel, s.tailored_boot_seconds),
    ] {
        let f = facts(k)?;
        let linked = linked_objects(&open_index(k).map_err(input)?).len();
        let _ = writeln!(
            out,
            "| {name} | {} | {linked} | {} | {} | {} | {} | yes (exit 137, {} runs) |",
            f.y,
            f.text,
            f.image,
            f.build_seconds,
            boot_cell(boot),
            s.runs
        );
    }
    Ok(out)
}

/// What `tailor table` needs besides the loop's results.
pub struct TableSettings {
    pub out: PathBuf,
    pub needs: PathBuf,
    pub kernel_sh: PathBuf,
    /// vmrun's options but the kernel and the results (`--tracer none`).
    pub vm: vmrun::Options,
    pub id: String,
}

/// The traced runs of `tailor run` in `dir`: "yes (...)" when every run
/// reached its --duration.
fn traced_runs(report: &vmrun::Report) -> String {
    match report.runs.iter().find(|r| !r.reached_duration) {
        Some(r) => format!("no ({}: {})", r.id, r.exit_text()),
        None => format!(
            "yes (traced, exit 137 at --duration 1, {} runs)",
            report.runs.len()
        ),
    }
}

fn read_report(dir: &Path) -> Result<vmrun::Report, Stop> {
    let path = dir.join(vmrun::REPORT_FILE);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        input(format!(
            "{}: missing: run `make tailor` first",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// `kernels.md`: the table and the evidence under it.
pub fn kernels(t: &TableSettings) -> Result<String, Stop> {
    let needs_text = std::fs::read_to_string(&t.needs)
        .map_err(|e| input(format!("{}: {e}", t.needs.display())))?;
    let mut needs = required::Required::new();
    required::parse_reasons(&needs_text, "", &mut needs)
        .map_err(|e| input(format!("{}: {e}", t.needs.display())))?;
    let lacks = |k: &Path| -> Result<String, Stop> {
        let config = std::fs::read_to_string(k.join(".config"))
            .map_err(|e| input(format!("{}/.config: {e}", k.display())))?;
        let values = required::config_values(&config);
        Ok(needs
            .keys()
            .filter(|s| values.get(*s).map(String::as_str) != Some("y"))
            .cloned()
            .collect::<Vec<_>>()
            .join(" "))
    };
    let start = read_report(&t.out.join("start"))?;
    let tailored = read_report(&t.out.join("tailored"))?;
    let kernel_of = |dir: &str| PathBuf::from(file_or(&t.out.join(dir).join("kernel-build"), ""));
    let (kstart, ktail) = (kernel_of("start"), kernel_of("tailored"));
    let reasons = std::fs::read_to_string(t.out.join("required.tsv")).unwrap_or_default();
    let mut req = required::Required::new();
    required::parse_reasons(&reasons, "", &mut req).map_err(input)?;
    let mut rows = vec![
        (
            "starting (kernel.config)".to_string(),
            kstart,
            boot_cell(start.boot_seconds),
            traced_runs(&start),
        ),
        (
            format!("tailored ({} required symbols)", req.len()),
            ktail,
            boot_cell(tailored.boot_seconds),
            traced_runs(&tailored),
        ),
    ];
    let mut notes = Vec::new();
    for name in ["tinyconfig", "defconfig"] {
        let k = lab::kernel_sh(&t.kernel_sh, Some(Path::new(name)))?;
        let results = t.out.join(name);
        let vm = vmrun::Options {
            kernel_dir: k.clone(),
            results: results.clone(),
            ..t.vm.clone()
        };
        let started = std::time::Instant::now();
        let (boot, cell) = match lab::boot(&vm, &results)? {
            Ok(r) => {
                let run = r
                    .run(&t.id)
                    .ok_or_else(|| input(format!("{}: no run {}", results.display(), t.id)))?;
                notes.push(format!(
                    "{name}: booted to init in {} s; `{}` alone: {}; of needs.tsv it lacks (so no trace): {}",
                    boot_cell(r.boot_seconds),
                    t.id,
                    run.exit_text(),
                    lacks(&k)?
                ));
                let cell = if run.reached_duration {
                    "yes (untraced, still running when killed at --duration 1)".to_string()
                } else {
                    format!("no (exit {})", run.exit_text())
                };
                (boot_cell(r.boot_seconds), cell)
            }
            Err(why) => {
                let boot_log = vmrun::staging_dir(&results).join("boot.log");
                let log = std::fs::read_to_string(&boot_log).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let ends = lines[lines.len().saturating_sub(2)..].join(" ");
                let ends = if ends.is_empty() {
                    String::new()
                } else {
                    format!(", ends: {}", ends.chars().take(200).collect::<String>())
                };
                notes.push(format!(
                    "{name}: {why} after {:.1} s; boot.log {} bytes{ends}; of needs.tsv it lacks: {}",
                    started.elapsed().as_secs_f64(),
                    log.len(),
                    lacks(&k)?
                ));
                let code = why.split(':').next().unwrap_or_default().to_string();
                ("-".to_string(), format!("no ({code}, below)"))
            }
        };
        rows.push((name.to_string(), k, boot, cell));
    }
    let mut out = format!(
        "| kernel | =y symbols | objects built | vmlinux text | Image bytes | build s | build CPU s | boot to init s | {} runs |\n|---|---|---|---|---|---|---|---|---|\n",
        t.id
    );
    for (name, k, boot, cell) in rows {
        let f = facts(&k)?;
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {boot} | {cell} |",
            f.y, f.built, f.text, f.image, f.build_seconds, f.build_cpu_seconds
        );
    }
    out.push('\n');
    for n in notes {
        let _ = writeln!(out, "- {n}");
    }
    Ok(out)
}
