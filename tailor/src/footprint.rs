//! All of tailor's reading of footprint JSON (`ftrace_report footprint
//! --json`, `ID.footprint.json` beside each trace): [`parse`] is the one
//! function that looks into it, and [`Footprint`] holds the three things
//! tailor uses. When the footprint types can be deserialized, [`parse`]
//! becomes a `serde_json::from_str` into them and these types their
//! fields.

use std::path::Path;

use serde_json::Value;

/// What tailor reads of a footprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The kernel build tree the footprint was made with.
    pub kernel_build: String,
    /// Each function the program ran (names as traced) with its objects.
    pub functions: Vec<(String, Vec<String>)>,
    /// The build conditions' symbols of the objects it ran.
    pub build_symbols: Vec<BuildSymbol>,
}

/// A Kconfig symbol an object the program ran is built under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSymbol {
    /// As in the footprint: `CONFIG_X`.
    pub symbol: String,
    /// Its value in the kernel's `.config` (`y`, `m`, ...; empty if unset).
    pub value: String,
    /// Its Kconfig prompt; None when only `select` or a default sets it.
    pub prompt: Option<String>,
    /// How many objects and functions the program ran under it.
    pub objects: u64,
    pub functions: u64,
}

const NOT_A_FOOTPRINT: &str = "not a `ftrace_report footprint --json` output";

/// A footprint from its JSON text.
pub fn parse(text: &str) -> Result<Footprint, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let list = |key: &str| {
        v[key]
            .as_array()
            .ok_or_else(|| format!("no {key}: {NOT_A_FOOTPRINT}"))
    };
    let mut functions = Vec::new();
    for f in list("functions")? {
        let name = f["name"].as_str().ok_or("function without a name")?;
        let objects = f["objects"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        functions.push((name.to_string(), objects));
    }
    let mut build_symbols = Vec::new();
    for s in list("build_symbols")? {
        build_symbols.push(BuildSymbol {
            symbol: s["symbol"]
                .as_str()
                .ok_or("build symbol without a name")?
                .to_string(),
            value: s["value"].as_str().unwrap_or_default().to_string(),
            prompt: s["prompt"].as_str().map(String::from),
            objects: s["objects"].as_u64().unwrap_or_default(),
            functions: s["functions"].as_u64().unwrap_or_default(),
        });
    }
    Ok(Footprint {
        kernel_build: v["kernel_build"].as_str().unwrap_or_default().to_string(),
        functions,
        build_symbols,
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
    fn the_three_parts_tailor_reads() {
        let fp = parse(
            r#"{"kernel_build": "/k", "functions": [{"name": "f.isra.0", "objects": ["a.o", "b.o"]},
            {"name": "g", "objects": []}], "build_symbols": [{"symbol": "CONFIG_MMU",
            "prompt": null, "value": "y", "objects": 9, "functions": 83}]}"#,
        )
        .unwrap();
        assert_eq!(fp.kernel_build, "/k");
        assert_eq!(
            fp.functions,
            [
                (
                    "f.isra.0".to_string(),
                    vec!["a.o".to_string(), "b.o".to_string()]
                ),
                ("g".to_string(), vec![])
            ]
        );
        assert_eq!(fp.build_symbols[0].prompt, None);
        assert_eq!(fp.build_symbols[0].objects, 9);
        assert_eq!(
            parse(r#"{"functions": []}"#).unwrap_err(),
            "no build_symbols: not a `ftrace_report footprint --json` output"
        );
        assert!(parse("{").unwrap_err().starts_with("not JSON: "));
    }
}
