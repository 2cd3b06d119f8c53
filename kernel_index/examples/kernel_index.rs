//! Indexes a build tree and prints what the index found, with timings:
//! `cargo run --release -p kernel_index --example kernel_index -- DIR [CACHE] [FUNCTION...]`
//! (CACHE: a cache file path, or `-` for none; default DIR/.kernel_index.json).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use kernel_index::{Cache, KernelIndex, Lookup};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: kernel_index DIR [CACHE|-] [FUNCTION...]");
        return ExitCode::from(2);
    };
    let cache = match args.get(1).map(String::as_str) {
        None => Cache::InBuildTree,
        Some("-") => Cache::Off,
        Some(p) => Cache::At(PathBuf::from(p)),
    };
    let start = Instant::now();
    let (index, used) = match KernelIndex::open(dir.as_ref(), &cache) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("kernel_index: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "opened in {:.3} s ({used:?})",
        start.elapsed().as_secs_f64()
    );
    println!("release {} ({})", index.release(), index.srcarch());
    println!("{:#?}", index.stats());
    for note in index.notes() {
        println!("note: {note}");
    }
    for name in args.iter().skip(2) {
        let functions = match index.lookup(name) {
            Lookup::Unknown => {
                println!("{name}: no such text symbol");
                continue;
            }
            Lookup::Unique(f) => vec![f],
            Lookup::Ambiguous(fs) => {
                println!("{name}: ambiguous, {} symbols", fs.len());
                fs
            }
        };
        for f in functions {
            let section = f.section.map_or("?", |s| s.name.as_str());
            let Some(o) = f.object else {
                println!("{name} {:#x}: in no object", f.symbol.address);
                continue;
            };
            println!("{name} {:#x} {section} {}", f.symbol.address, o.path);
            for s in &o.sources {
                let sections: Vec<String> = s
                    .maintainers
                    .iter()
                    .map(|m| format!("{} ({})", index.section(*m).name, m.depth))
                    .collect();
                println!("  source {} -> {}", s.path, sections.join("; "));
            }
            println!("  built when {}", index.build_condition(o));
            for inc in &o.build {
                for l in &inc.lines {
                    println!("    {}:{}: {}", l.file, l.line, l.text);
                }
            }
            for d in &o.doubts {
                println!("  doubt: {d}");
            }
        }
    }
    ExitCode::SUCCESS
}
