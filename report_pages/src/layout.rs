//! The call graph's layout, by Graphviz's `dot` (`-Tjson0`: positions
//! only, no drawing operations to parse).

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::Graph;

/// Points per inch: `dot` gives node sizes in inches, positions in points.
const PT: f64 = 72.0;

#[derive(Debug)]
pub enum LayoutError {
    /// `dot` cannot be started (not installed: Debian's `graphviz`).
    Missing(std::io::Error),
    /// `dot` failed or printed what is not its JSON.
    Failed(String),
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::Missing(e) => write!(
                f,
                "cannot run Graphviz's dot ({e}): install it (Debian: apt-get install graphviz, or make deps)"
            ),
            LayoutError::Failed(m) => write!(f, "Graphviz's dot failed: {m}"),
        }
    }
}

/// Node boxes and edge paths in SVG coordinates (y down).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Per node of the graph: centre x, centre y, width, height.
    pub nodes: Vec<(f64, f64, f64, f64)>,
    /// Per edge of the graph: the spline's points (1 + 3n), then the
    /// arrow's tip.
    pub edges: Vec<Vec<(f64, f64)>>,
}

#[derive(Deserialize)]
struct Json {
    bb: String,
    #[serde(default)]
    objects: Vec<Object>,
    #[serde(default)]
    edges: Vec<JsonEdge>,
}

#[derive(Deserialize)]
struct Object {
    name: String,
    pos: String,
    width: String,
    height: String,
}

#[derive(Deserialize)]
struct JsonEdge {
    tail: usize,
    head: usize,
    pos: String,
}

/// DOT string quoting.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The DOT text given to `dot`: nodes `nI` labelled with their names,
/// left to right (names read along the calls), fixed-width font so that
/// the boxes fit the page's monospace text.
pub fn dot_text(g: &Graph) -> String {
    let mut s = String::from(
        "digraph g {\nrankdir=LR;\nranksep=0.4;\nnodesep=0.08;\n\
         node [shape=box, fontname=\"Courier\", fontsize=10, height=0.22, width=0.1, margin=\"0.06,0.02\"];\n",
    );
    for (i, n) in g.nodes.iter().enumerate() {
        s.push_str(&format!("n{i} [label={}];\n", quote(&n.name)));
    }
    for e in &g.edges {
        s.push_str(&format!("n{} -> n{};\n", e.from, e.to));
    }
    s.push_str("}\n");
    s
}

fn pair(s: &str) -> Option<(f64, f64)> {
    let (x, y) = s.split_once(',')?;
    Some((x.parse().ok()?, y.parse().ok()?))
}

fn bad(what: &str) -> LayoutError {
    LayoutError::Failed(format!("unexpected JSON: {what}"))
}

/// Lays `g` out with `dot` (found on PATH).
pub fn layout(g: &Graph) -> Result<Layout, LayoutError> {
    if g.nodes.is_empty() {
        return Ok(Layout::default());
    }
    let mut child = Command::new("dot")
        .arg("-Tjson0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(LayoutError::Missing)?;
    let text = dot_text(g);
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // dot reads all its input before it writes: no deadlock on the pipes.
    let written = stdin.write_all(text.as_bytes());
    drop(stdin);
    let out = child
        .wait_with_output()
        .map_err(|e| LayoutError::Failed(e.to_string()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(LayoutError::Failed(format!(
            "{}: {}",
            out.status,
            err.lines().next().unwrap_or("")
        )));
    }
    written.map_err(|e| LayoutError::Failed(e.to_string()))?;
    parse(&out.stdout, g)
}

/// `dot -Tjson0`'s output for `g` (its nodes named `nI`), in SVG
/// coordinates.
pub fn parse(json: &[u8], g: &Graph) -> Result<Layout, LayoutError> {
    let nodes = g.nodes.len();
    let j: Json = serde_json::from_slice(json).map_err(|e| bad(&e.to_string()))?;
    let bb: Vec<f64> = j.bb.split(',').filter_map(|v| v.parse().ok()).collect();
    let [_, _, width, height] = bb[..] else {
        return Err(bad("bb"));
    };
    let flip = |(x, y): (f64, f64)| (x, height - y);
    let mut l = Layout {
        width,
        height,
        nodes: vec![(0.0, 0.0, 0.0, 0.0); nodes],
        edges: vec![Vec::new(); g.edges.len()],
    };
    let edge_index: HashMap<(usize, usize), usize> = g
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.from, e.to), i))
        .collect();
    // objects: the nodes by `_gvid`, which is not necessarily their index.
    let mut gvid_node = Vec::with_capacity(j.objects.len());
    for o in &j.objects {
        let i: usize = o
            .name
            .strip_prefix('n')
            .and_then(|n| n.parse().ok())
            .filter(|&i| i < nodes)
            .ok_or_else(|| bad(&o.name))?;
        let (x, y) = flip(pair(&o.pos).ok_or_else(|| bad(&o.pos))?);
        let w: f64 = o.width.parse().map_err(|_| bad(&o.width))?;
        let h: f64 = o.height.parse().map_err(|_| bad(&o.height))?;
        l.nodes[i] = (x, y, w * PT, h * PT);
        gvid_node.push(i);
    }
    for e in &j.edges {
        let mut pts = Vec::new();
        let mut tip = None;
        for tok in e.pos.split_whitespace() {
            if let Some(p) = tok.strip_prefix("e,") {
                tip = Some(flip(pair(p).ok_or_else(|| bad(tok))?));
            } else if tok.starts_with("s,") {
                continue;
            } else {
                pts.push(flip(pair(tok).ok_or_else(|| bad(tok))?));
            }
        }
        if let Some(t) = tip {
            pts.push(t);
        }
        let ends = (gvid_node.get(e.tail), gvid_node.get(e.head));
        let (Some(&from), Some(&to)) = ends else {
            return Err(bad("edge end"));
        };
        let i = *edge_index.get(&(from, to)).ok_or_else(|| bad("edge"))?;
        l.edges[i] = pts;
    }
    if j.edges.len() != g.edges.len() {
        return Err(bad("edge count"));
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Edge, Node};

    fn two() -> Graph {
        Graph {
            nodes: vec![Node::default(), Node::default()],
            edges: vec![Edge {
                from: 1,
                to: 0,
                ..Edge::default()
            }],
            ..Graph::default()
        }
    }

    #[test]
    fn dot_quotes_names() {
        let g = Graph {
            nodes: vec![Node {
                name: "a\"b\\".into(),
                ..Node::default()
            }],
            ..Graph::default()
        };
        assert!(dot_text(&g).contains("n0 [label=\"a\\\"b\\\\\"];"));
    }

    #[test]
    fn json0_in_svg_coordinates() {
        let json = br#"{"bb":"0,0,54,108","objects":[
            {"_gvid":0,"name":"n1","pos":"27,90","width":"0.75","height":"0.5"},
            {"_gvid":1,"name":"n0","pos":"27,18","width":"0.75","height":"0.5"}],
            "edges":[{"_gvid":0,"tail":0,"head":1,"pos":"e,27,36 27,72 27,64 27,55 27,46"}]}"#;
        let l = parse(json, &two()).unwrap();
        assert_eq!((l.width, l.height), (54.0, 108.0));
        assert_eq!(l.nodes[1], (27.0, 18.0, 54.0, 36.0));
        assert_eq!(l.nodes[0], (27.0, 90.0, 54.0, 36.0));
        assert_eq!(l.edges[0].len(), 5);
        assert_eq!(l.edges[0][0], (27.0, 36.0));
        assert_eq!(l.edges[0][4], (27.0, 72.0));
        assert!(parse(b"{\"bb\":\"0,0\"}", &two()).is_err());
        let mut three = two();
        three.edges.push(Edge::default());
        assert!(parse(json, &three).is_err());
    }
}
