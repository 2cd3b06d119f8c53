//! What the tests share: a footprint as `ftrace_report footprint --json`
//! writes it.

/// The JSON of a footprint made on `kernel_build` whose objects are built
/// under these `=y` symbols (each with one object and `functions`).
pub fn footprint_json(kernel_build: &str, symbols: &[&str], functions: usize) -> String {
    let map = kernel_footprint::FootprintMap {
        kernel_build: kernel_build.into(),
        build_symbols: symbols
            .iter()
            .map(|s| kernel_footprint::SymbolRow {
                symbol: format!("CONFIG_{s}"),
                prompt: None,
                value: Some("y".into()),
                objects: 1,
                functions,
                only_ambiguous: false,
            })
            .collect(),
        ..Default::default()
    };
    serde_json::to_string(&map).expect("a footprint serializes")
}
