//! The page: HTML with inline CSS, script and hand-written SVG.

use std::fmt::Write as _;

use crate::layout::{layout, Layout, LayoutError};
use crate::{Bars, Fact, Graph, Heat, List, Page, Side, Timeline};

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Nothing may be fetched: inline styles and the inline script only.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// Timeline drawing size (SVG user units).
const TL_W: f64 = 1200.0;
const TL_H: f64 = 150.0;

/// Text in HTML (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// An id fragment: the characters ids and CSS selectors take as they are.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The page; fails only when the graph cannot be laid out.
pub fn render(p: &Page) -> Result<String, LayoutError> {
    let lay = layout(&p.graph)?;
    let mut o = String::with_capacity(1 << 20);
    let t = esc(&p.title);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>{CSS}</style></head><body>\n<header><h1>{t}</h1>"
    );
    if let Some([a, b]) = &p.diff {
        let _ = write!(
            o,
            "<p class=\"legend\"><span class=\"key only-a\"></span>only in A: {}\
             <span class=\"key only-b\"></span>only in B: {}\
             <span class=\"key both\"></span>in both</p>",
            esc(a),
            esc(b)
        );
    }
    o.push_str("<nav><a href=\"#facts\">facts</a>");
    if !p.heat.is_empty() {
        o.push_str("<a href=\"#heat\">phases x contexts</a>");
    }
    if p.timeline.is_some() {
        o.push_str("<a href=\"#timeline\">timeline</a>");
    }
    o.push_str(
        "<a href=\"#subsystems\">subsystems</a><a href=\"#entry-paths\">entry paths</a>\
         <a href=\"#graph\">call graph</a><a href=\"#lists\">function lists</a></nav></header>\n<main>\n",
    );
    facts(&mut o, &p.facts, p.diff.is_some());
    if !p.heat.is_empty() {
        o.push_str(
            "<section id=\"heat\"><h2>Phases x contexts</h2>\
             <p class=\"note\">events, and unique functions below them</p><div class=\"heats\">",
        );
        for h in &p.heat {
            heat(&mut o, h);
        }
        o.push_str("</div></section>\n");
    }
    if let Some(tl) = &p.timeline {
        timeline(&mut o, tl);
    }
    bars(
        &mut o,
        "subsystems",
        "Footprint by subsystem",
        &p.subsystems,
    );
    bars(
        &mut o,
        "entry-paths",
        "Footprint by entry path",
        &p.entry_paths,
    );
    graph(&mut o, &p.graph, &lay, p.diff.is_some());
    lists(&mut o, &p.lists);
    let _ = write!(o, "</main>\n<script>{SCRIPT}</script>\n</body></html>\n");
    Ok(o)
}

/// A page of links (`href`, text, note), same style and policy: the
/// index of a results directory.
pub fn index(title: &str, links: &[(String, String, String)]) -> String {
    let t = esc(title);
    let mut o = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <title>{t}</title><style>{CSS}</style></head><body>\n<header><h1>{t}</h1></header>\n\
         <main><section><ul class=\"index\">"
    );
    for (href, text, note) in links {
        let _ = write!(
            o,
            "<li><a href=\"{}\">{}</a> <span class=\"note\">{}</span></li>",
            esc(href),
            esc(text),
            esc(note)
        );
    }
    o.push_str("</ul></section></main></body></html>\n");
    o
}

fn facts(o: &mut String, facts: &[Fact], diff: bool) {
    o.push_str("<section id=\"facts\"><h2>Facts</h2><table class=\"facts\">");
    if diff {
        o.push_str("<tr><th></th><th>A</th><th>B</th></tr>");
    }
    for f in facts {
        let _ = write!(o, "<tr><th>{}</th>", esc(&f.label));
        let id = slug(&f.id);
        match &f.values[..] {
            [a, b] => {
                for (side, v) in [("a", a), ("b", b)] {
                    let v = esc(v);
                    let _ = write!(o, "<td id=\"fact-{side}-{id}\" data-value=\"{v}\">{v}</td>");
                }
            }
            values => {
                let v = esc(&values.join(" "));
                let span = if diff { " colspan=\"2\"" } else { "" };
                let _ = write!(o, "<td id=\"fact-{id}\" data-value=\"{v}\"{span}>{v}</td>");
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</table></section>\n");
}

/// Background of a cell, and whether it is dark enough for white text:
/// the more events, the darker (log scale: the exec burst is thousands of
/// times a tick).
fn shade(n: u64, max: u64) -> (String, bool) {
    if n == 0 || max == 0 {
        return ("transparent".into(), false);
    }
    let light = 95.0 - 50.0 * (n as f64).ln_1p() / (max as f64).ln_1p();
    (format!("hsl(210,70%,{light:.0}%)"), light < 65.0)
}

fn heat(o: &mut String, h: &Heat) {
    let max = h.events.iter().flatten().copied().max().unwrap_or(0);
    let prefix = if h.id.is_empty() {
        String::new()
    } else {
        format!("{}-", slug(&h.id))
    };
    o.push_str("<table class=\"heat\">");
    if !h.title.is_empty() {
        let _ = write!(o, "<caption>{}</caption>", esc(&h.title));
    }
    o.push_str("<tr><th></th>");
    for c in &h.cols {
        let _ = write!(o, "<th>{}</th>", esc(c));
    }
    o.push_str("</tr>");
    for (r, row) in h.rows.iter().enumerate() {
        let _ = write!(o, "<tr><th>{}</th>", esc(row));
        for (c, col) in h.cols.iter().enumerate() {
            let ev = h.events[r][c];
            let fu = h.functions[r][c];
            let (bg, dark) = shade(ev, max);
            let _ = write!(
                o,
                "<td id=\"heat-{prefix}{}-{}\" data-events=\"{ev}\" data-functions=\"{fu}\" style=\"background:{}\"{}>\
                 {ev}<small>{fu}</small></td>",
                slug(row),
                slug(col),
                bg,
                if dark { " class=\"dark\"" } else { "" }
            );
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");
}

/// A series' colour: the phase's hue, the context's lightness.
fn colour(phase: &str, context: &str) -> String {
    let hue = match phase {
        "pre-exec" => 40,
        "exec" => 215,
        "run" => 130,
        "exit" => 0,
        _ => 280,
    };
    let light = match context {
        "process" => 50,
        "softirq" => 68,
        "hardirq" => 34,
        "nmi" => 22,
        _ => 58,
    };
    format!("hsl({hue},65%,{light}%)")
}

/// Stacked bars per time bin; a bin's height grows with the log of its
/// events, split among the series in proportion.
fn timeline(o: &mut String, tl: &Timeline) {
    let bins = tl.series.first().map_or(0, |s| s.bins.len());
    let totals: Vec<u64> = (0..bins)
        .map(|i| tl.series.iter().map(|s| s.bins[i]).sum())
        .collect();
    let events: u64 = totals.iter().sum();
    let max = totals.iter().copied().max().unwrap_or(0);
    let span = tl.end_ns.saturating_sub(tl.start_ns);
    let _ = write!(
        o,
        "<section id=\"timeline\"><h2>Timeline</h2><p class=\"note\">{} events of the target over {} \
         ({}), {bins} bins of {}; bar height: log of the events in the bin</p>\
         <svg id=\"timeline-svg\" data-events=\"{events}\" data-bins=\"{bins}\" viewBox=\"0 0 {} {}\" \
         width=\"100%\" role=\"img\">",
        events,
        duration(span),
        esc(&tl.axis),
        duration(span / bins.max(1) as u64),
        TL_W,
        TL_H + 20.0
    );
    let bw = TL_W / bins.max(1) as f64;
    for (i, &total) in totals.iter().enumerate() {
        if total == 0 {
            continue;
        }
        let h = TL_H * (total as f64).ln_1p() / (max as f64).ln_1p();
        let mut y = TL_H;
        let x = i as f64 * bw;
        for s in &tl.series {
            let n = s.bins[i];
            if n == 0 {
                continue;
            }
            let sh = h * n as f64 / total as f64;
            y -= sh;
            let _ = write!(
                o,
                "<rect x=\"{x:.1}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{sh:.2}\" fill=\"{}\"><title>{}/{}: {n}</title></rect>",
                bw.max(0.5),
                colour(&s.phase, &s.context),
                esc(&s.phase),
                esc(&s.context)
            );
        }
    }
    for k in 0..=4u32 {
        let x = TL_W * f64::from(k) / 4.0;
        let anchor = match k {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            o,
            "<text x=\"{x:.0}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"axis\">+{}</text>",
            TL_H + 15.0,
            duration(span * u64::from(k) / 4)
        );
    }
    o.push_str("</svg><p class=\"legend\">");
    for s in &tl.series {
        let n: u64 = s.bins.iter().sum();
        let _ = write!(
            o,
            "<span class=\"key\" style=\"background:{}\"></span>{}/{} ({n}) ",
            colour(&s.phase, &s.context),
            esc(&s.phase),
            esc(&s.context)
        );
    }
    o.push_str("</p></section>\n");
}

/// `1.234 ms`, `56.7 us`, `2.000 s`.
fn duration(ns: u64) -> String {
    match ns {
        n if n >= 1_000_000_000 => format!("{:.3} s", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.3} ms", n as f64 / 1e6),
        n => format!("{:.1} us", n as f64 / 1e3),
    }
}

fn bars(o: &mut String, id: &str, title: &str, b: &Result<Bars, String>) {
    let _ = write!(o, "<section id=\"{id}\"><h2>{title}</h2>");
    match b {
        Err(why) => {
            let _ = write!(o, "<p class=\"note\" id=\"{id}-none\">{}</p>", esc(why));
        }
        Ok(b) => {
            let max = b.bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
            let _ = write!(
                o,
                "<p class=\"note\">bar length: {}</p><div class=\"bars\" id=\"{id}-bars\" data-bars=\"{}\">",
                esc(&b.unit),
                b.bars.len()
            );
            for bar in &b.bars {
                let _ = write!(
                    o,
                    "<div class=\"bar {}\" data-name=\"{}\" data-value=\"{}\"><span class=\"label\" title=\"{}\">{}</span>\
                     <span class=\"fill\" style=\"width:{:.1}%\"></span><span class=\"num\">{} <small>{}</small></span></div>",
                    bar.side.class(),
                    esc(&bar.name),
                    bar.value,
                    esc(&bar.name),
                    esc(&bar.name),
                    70.0 * bar.value as f64 / max as f64,
                    bar.value,
                    esc(&bar.detail)
                );
            }
            o.push_str("</div>");
        }
    }
    o.push_str("</section>\n");
}

fn graph(o: &mut String, g: &Graph, lay: &Layout, diff: bool) {
    let _ = write!(
        o,
        "<section id=\"graph\"><h2>Call graph</h2><p class=\"note\">{} of {} functions, {} of {} caller -&gt; callee edges{}; \
         laid out by Graphviz dot, callers left of their callees</p>\
         <div class=\"tools\"><input id=\"graph-search\" type=\"search\" placeholder=\"highlight functions (substring)\">\
         <span id=\"graph-hits\"></span>\
         <button data-mark=\"execve\">execve subtree</button><button data-mark=\"fault\">page-fault path</button>",
        g.nodes.len(),
        g.total_nodes,
        g.edges.len(),
        g.total_edges,
        if g.nodes.len() < g.total_nodes {
            " (the most called)"
        } else {
            ""
        }
    );
    if diff {
        o.push_str("<button data-mark=\"only-a\">only in A</button><button data-mark=\"only-b\">only in B</button>");
    }
    // Readable first: actual size, centred on the execve system call (the
    // page's script); the whole graph fitted to the width on demand.
    o.push_str("<button id=\"graph-fit\">fit to width</button></div><div class=\"graph-box\" id=\"graph-box\">");
    let _ = write!(
        o,
        "<svg id=\"callgraph\" data-nodes=\"{}\" data-edges=\"{}\" data-total-nodes=\"{}\" data-total-edges=\"{}\" \
         width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {:.0} {:.0}\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">\
         <path d=\"M0,0L10,5L0,10z\"/></marker></defs><g class=\"edges\">",
        g.nodes.len(),
        g.edges.len(),
        g.total_nodes,
        g.total_edges,
        lay.width + 8.0,
        lay.height + 8.0,
        lay.width + 8.0,
        lay.height + 8.0
    );
    for (e, pts) in g.edges.iter().zip(&lay.edges) {
        let Some((first, rest)) = pts.split_first() else {
            continue;
        };
        let _ = write!(
            o,
            "<path class=\"edge {}\" data-from=\"{}\" data-to=\"{}\" d=\"M{:.1},{:.1}",
            e.side.class(),
            e.from,
            e.to,
            first.0 + 4.0,
            first.1 + 4.0
        );
        // dot's spline: 1 + 3n control points, then the arrow's tip.
        let (curve, tip) = rest.split_at(rest.len() - rest.len() % 3);
        for c in curve.chunks(3) {
            let _ = write!(
                o,
                "C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                c[0].0 + 4.0,
                c[0].1 + 4.0,
                c[1].0 + 4.0,
                c[1].1 + 4.0,
                c[2].0 + 4.0,
                c[2].1 + 4.0
            );
        }
        for t in tip {
            let _ = write!(o, "L{:.1},{:.1}", t.0 + 4.0, t.1 + 4.0);
        }
        let _ = write!(o, "\"><title>{} calls</title></path>", e.calls);
    }
    o.push_str("</g><g class=\"nodes\">");
    for (i, (n, &(x, y, w, h))) in g.nodes.iter().zip(&lay.nodes).enumerate() {
        let _ = write!(
            o,
            "<g class=\"node {}\" id=\"node-{i}\" data-name=\"{}\" data-calls=\"{}\" data-marks=\"{}\">\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text><title>{}: {} calls</title></g>",
            n.side.class(),
            esc(&n.name),
            n.calls,
            esc(&n.marks.join(" ")),
            x - w / 2.0 + 4.0,
            y - h / 2.0 + 4.0,
            x + 4.0,
            y + 4.0 + 3.5,
            esc(&n.name),
            esc(&n.name),
            n.calls
        );
    }
    o.push_str("</g></svg></div></section>\n");
}

fn lists(o: &mut String, lists: &[List]) {
    o.push_str("<section id=\"lists\"><h2>Function lists</h2>");
    for l in lists {
        let id = slug(&l.id);
        let _ = write!(
            o,
            "<details class=\"list\"{}><summary>{} <small>({} rows)</small></summary>\
             <input type=\"search\" class=\"list-search\" data-list=\"list-{id}\" placeholder=\"filter (substring)\">\
             <table id=\"list-{id}\" data-rows=\"{}\"><tr>",
            if l.rows.len() <= 40 { " open" } else { "" },
            esc(&l.title),
            l.rows.len(),
            l.rows.len()
        );
        for c in &l.columns {
            let _ = write!(o, "<th>{}</th>", esc(c));
        }
        o.push_str("</tr>");
        for r in &l.rows {
            if r.side == Side::Both {
                o.push_str("<tr>");
            } else {
                let _ = write!(o, "<tr class=\"{}\">", r.side.class());
            }
            for c in &r.cells {
                let _ = write!(o, "<td>{}</td>", esc(c));
            }
            o.push_str("</tr>");
        }
        o.push_str("</table></details>");
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bar, Edge, Node, Row, Series};

    fn page() -> Page {
        Page {
            title: "min <x>".into(),
            diff: None,
            facts: vec![Fact {
                id: "events".into(),
                label: "events".into(),
                values: vec!["12".into()],
            }],
            heat: vec![Heat {
                id: String::new(),
                title: String::new(),
                rows: vec!["exec".into()],
                cols: vec!["process".into(), "hardirq".into()],
                events: vec![vec![10, 2]],
                functions: vec![vec![5, 1]],
            }],
            timeline: Some(Timeline {
                axis: "trace time".into(),
                start_ns: 0,
                end_ns: 4000,
                series: vec![Series {
                    phase: "exec".into(),
                    context: "process".into(),
                    bins: vec![3, 0, 9],
                }],
            }),
            subsystems: Ok(Bars {
                unit: "functions".into(),
                bars: vec![Bar {
                    name: "MEMORY MANAGEMENT".into(),
                    value: 7,
                    detail: "3 files".into(),
                    side: Side::OnlyB,
                }],
            }),
            entry_paths: Err("no kernel build".into()),
            graph: Graph::default(),
            lists: vec![List {
                id: "funcs".into(),
                title: "functions".into(),
                columns: vec!["function".into()],
                rows: vec![Row {
                    cells: vec!["a&b".into()],
                    side: Side::Both,
                }],
            }],
        }
    }

    /// Sections follow one another (none opens inside another), and every
    /// table, div, svg and details that opens closes.
    fn balanced(html: &str) {
        let mut marks: Vec<(usize, bool)> = html
            .match_indices("<section")
            .map(|(i, _)| (i, true))
            .chain(html.match_indices("</section>").map(|(i, _)| (i, false)))
            .collect();
        marks.sort();
        for (k, (_, open)) in marks.iter().enumerate() {
            assert_eq!(*open, k % 2 == 0, "section {k} of {marks:?}");
        }
        assert_eq!(marks.len() % 2, 0);
        for tag in ["table", "div", "svg", "details"] {
            let opened = html.matches(&format!("<{tag}")).count();
            let closed = html.matches(&format!("</{tag}>")).count();
            assert_eq!(opened, closed, "<{tag}>");
        }
    }

    #[test]
    fn numbers_are_in_data_attributes() {
        let html = render(&page()).unwrap();
        for want in [
            "<title>min &lt;x&gt;</title>",
            "id=\"fact-events\" data-value=\"12\"",
            "id=\"heat-exec-hardirq\" data-events=\"2\" data-functions=\"1\"",
            "id=\"timeline-svg\" data-events=\"12\" data-bins=\"3\"",
            "class=\"bar only-b\" data-name=\"MEMORY MANAGEMENT\" data-value=\"7\"",
            "id=\"entry-paths-none\">no kernel build<",
            "id=\"list-funcs\" data-rows=\"1\"",
            "<td>a&amp;b</td>",
            "id=\"callgraph\" data-nodes=\"0\"",
        ] {
            assert!(html.contains(want), "{want}");
        }
        assert!(html.contains(&format!("content=\"{CSP}\"")));
        balanced(&html);
        // Nothing to fetch: no URL in the page but the SVG namespace.
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[test]
    fn a_diff_page_puts_a_and_b_side_by_side() {
        let mut p = page();
        p.diff = Some(["a.trace".into(), "b.trace".into()]);
        p.timeline = None;
        p.heat[0].id = "b".into();
        p.facts.push(Fact {
            id: "lost".into(),
            label: "lost events".into(),
            values: vec!["0".into(), "3".into()],
        });
        let html = render(&p).unwrap();
        assert!(html.contains("<th>lost events</th><td id=\"fact-a-lost\" data-value=\"0\">0</td><td id=\"fact-b-lost\" data-value=\"3\">3</td>"));
        assert!(html.contains("id=\"fact-events\" data-value=\"12\" colspan=\"2\">"));
        assert!(html.contains("only in A: a.trace"));
        assert!(html.contains("id=\"heat-b-exec-process\" data-events=\"10\""));
        balanced(&html);
        // The menu names only the sections the page has.
        assert!(!html.contains("href=\"#timeline\"") && html.contains("href=\"#heat\""));
    }

    #[test]
    fn graph_nodes_and_edges_from_dot() {
        let mut p = page();
        p.graph = Graph {
            nodes: vec![
                Node {
                    name: "execve".into(),
                    calls: 1,
                    side: Side::Both,
                    marks: vec!["execve".into()],
                },
                Node {
                    name: "getname".into(),
                    calls: 2,
                    side: Side::OnlyA,
                    marks: vec![],
                },
            ],
            edges: vec![Edge {
                from: 0,
                to: 1,
                calls: 2,
                side: Side::OnlyA,
            }],
            total_nodes: 2,
            total_edges: 1,
        };
        let html = render(&p).unwrap();
        assert_eq!(html.matches("<g class=\"node ").count(), 2);
        assert_eq!(html.matches("<path class=\"edge only-a\"").count(), 1);
        assert!(html.contains("data-name=\"execve\" data-calls=\"1\" data-marks=\"execve\""));
    }

    #[test]
    fn index_links_escaped() {
        let html = index(
            "results/aarch64",
            &[("a b&c.html".into(), "min".into(), "1 s".into())],
        );
        assert!(html.contains(
            "<li><a href=\"a b&amp;c.html\">min</a> <span class=\"note\">1 s</span></li>"
        ));
        assert!(html.contains(CSP));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(1_500_000_000), "1.500 s");
        assert_eq!(duration(2_345_678), "2.346 ms");
        assert_eq!(duration(56_700), "56.7 us");
    }
}
