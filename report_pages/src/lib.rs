//! One self-contained HTML page from plain data: facts, a heat table, a
//! timeline, bars, a call graph and searchable lists. No network at all:
//! the CSS, the script and the SVG are inline and the page's
//! Content-Security-Policy forbids every fetch. The analysis fills the
//! [`Page`]; this crate only draws it (the graph laid out by Graphviz's
//! `dot`).
//!
//! Every number a test may compare is in a `data-*` attribute of an element
//! with a stable id (`fact-ID`, `heat-PHASE-CONTEXT`, `callgraph`, ...).

use serde::{Deserialize, Serialize};

mod layout;
mod render;

pub use layout::{Layout, LayoutError};
pub use render::{esc, index, render};

/// Which trace of a diff page needs a thing; `Both` on a single trace's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    #[default]
    Both,
    OnlyA,
    OnlyB,
}

impl Side {
    pub fn class(self) -> &'static str {
        match self {
            Side::Both => "both",
            Side::OnlyA => "only-a",
            Side::OnlyB => "only-b",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Page {
    pub title: String,
    /// On a diff page: the names of trace A and trace B.
    pub diff: Option<[String; 2]>,
    pub facts: Vec<Fact>,
    /// One table per trace (a diff page has A's and B's).
    pub heat: Vec<Heat>,
    pub timeline: Option<Timeline>,
    /// Why there is no subsystem view, or the bars.
    pub subsystems: Result<Bars, String>,
    pub entry_paths: Result<Bars, String>,
    pub graph: Graph,
    pub lists: Vec<List>,
}

/// One line of the facts table: `<td id="fact-ID" data-value="VALUE">`;
/// on a diff page a fact of both traces has two values, `fact-a-ID` and
/// `fact-b-ID`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Fact {
    pub id: String,
    pub label: String,
    pub values: Vec<String>,
}

/// Events and unique functions per row (phase) x column (context); cells
/// `heat-ROW-COL`, or `heat-ID-ROW-COL` with an id (`a`, `b` on a diff).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Heat {
    pub id: String,
    /// Above the table when there are several (`A: min.trace`).
    pub title: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub events: Vec<Vec<u64>>,
    pub functions: Vec<Vec<u64>>,
}

/// Events over time in equal bins, one series per phase x context.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// What the time axis is (`trace time`, or `kernel time` when it is
    /// made of function_graph durations).
    pub axis: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub series: Vec<Series>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Series {
    pub phase: String,
    pub context: String,
    pub bins: Vec<u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Bars {
    /// What a bar's length counts (`functions`).
    pub unit: String,
    pub bars: Vec<Bar>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Bar {
    pub name: String,
    pub value: u64,
    pub detail: String,
    pub side: Side,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// Indices into `nodes`.
    pub edges: Vec<Edge>,
    /// Before a cut to the most called functions.
    pub total_nodes: usize,
    pub total_edges: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub calls: u64,
    pub side: Side,
    /// Views the page can highlight: `execve` (reached from the execve
    /// system call), `fault` (the page-fault path).
    pub marks: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub calls: u64,
    pub side: Side,
}

/// A searchable table: `<table id="list-ID" data-rows="N">`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct List {
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Row {
    pub cells: Vec<String>,
    pub side: Side,
}
