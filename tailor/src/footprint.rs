//! All of tailor's reading of footprint JSON (`ftrace_report footprint
//! --json`, `ID.footprint.json` beside each trace), through the types that
//! write it (`kernel_footprint::FootprintMap`): [`Footprint`] keeps the
//! three things tailor uses.

use std::path::Path;

use kernel_footprint::{FootprintMap, SymbolRow};

/// What tailor reads of a footprint.
#[derive(Debug, Clone, Default)]
pub struct Footprint {
    /// The kernel build tree the footprint was made with.
    pub kernel_build: String,
    /// Each function the program ran (names as traced) with its objects.
    pub functions: Vec<(String, Vec<String>)>,
    /// The build conditions' symbols of the objects it ran.
    pub build_symbols: Vec<SymbolRow>,
}

/// A footprint from its JSON text.
pub fn parse(text: &str) -> Result<Footprint, String> {
    let map: FootprintMap = serde_json::from_str(text)
        .map_err(|e| format!("not a `ftrace_report footprint --json` output: {e}"))?;
    Ok(Footprint {
        kernel_build: map.kernel_build,
        functions: map
            .functions
            .into_iter()
            .map(|f| (f.name, f.objects))
            .collect(),
        build_symbols: map.build_symbols,
    })
}

/// The footprint in the file `path`; errors name the file.
pub fn read(path: &Path) -> Result<Footprint, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_footprint_wrote_is_what_tailor_reads() {
        let mut map = FootprintMap {
            kernel_build: "/k".into(),
            build_symbols: vec![SymbolRow {
                symbol: "CONFIG_MMU".into(),
                prompt: None,
                value: Some("y".into()),
                objects: 9,
                functions: 83,
                only_ambiguous: false,
            }],
            ..FootprintMap::default()
        };
        let fp = parse(&serde_json::to_string(&map).unwrap()).unwrap();
        assert_eq!(fp.kernel_build, "/k");
        assert!(fp.functions.is_empty());
        assert_eq!(fp.build_symbols[0].symbol, "CONFIG_MMU");
        assert_eq!(fp.build_symbols[0].objects, 9);
        map.kernel_build.clear();
        let mut json: serde_json::Value = serde_json::to_value(&map).unwrap();
        json.as_object_mut().unwrap().remove("build_symbols");
        let e = parse(&json.to_string()).unwrap_err();
        assert!(
            e.starts_with(
                "not a `ftrace_report footprint --json` output: missing field `build_symbols`"
            ),
            "{e}"
        );
        assert!(parse("{").unwrap_err().starts_with("not a `ftrace_report"));
    }
}
