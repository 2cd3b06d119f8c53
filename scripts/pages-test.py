#!/usr/bin/env python3
"""`make pages-test`: ftrace_report's HTML pages in headless Chromium.

Usage: pages-test.py REPORT OUTDIR [RESULTS_DIR]

Writes the pages of the committed guest traces (tests/data) and, when
RESULTS_DIR holds `make trace` results, of its traces too, into OUTDIR;
opens each in Debian's headless chromium and checks: the script ran to its
end, no console message, no network request (Chromium's net log), the
numbers in the DOM (after the script) equal `summary --json`'s, the SVG
graph has `graph --format json`'s nodes, a search from the URL
(`#q=execve`) highlights the functions that match; on a diff page the
functions only in A and only in B are `diff --json`'s. Writes a screenshot
of each page to OUTDIR/NAME.png. Two control pages (a request, a script
error) must fail the same checks: the checks can fail.
"""

import json
import lzma
import os
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = [
    "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]
DATA = Path(__file__).resolve().parent.parent / "ftrace_report" / "tests" / "data"
FIXTURES = {
    "min": "aarch64-6.12-function-min.trace",
    "min.large": "aarch64-6.12-function-min.large.trace",
    "min.graph": "aarch64-6.12-function_graph-min.trace",
}
# The pages' graphs are cut to this many nodes (ftrace_report::pages::TOP_NODES).
TOP_NODES = 600
SEARCH = "execve"


class Dom(HTMLParser):
    """Elements by id, and the graph's nodes."""

    def __init__(self):
        super().__init__()
        self.ids = {}
        self.nodes = []
        self.root = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if "id" in a:
            self.ids[a["id"]] = a
        if tag == "g" and "node" in a.get("class", "").split():
            self.nodes.append(a)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw).stdout


def report_json(report, *args):
    return json.loads(run([report, *args]))


def browse(url, workdir):
    """The DOM after the script, the console lines, the page's requests."""
    with tempfile.TemporaryDirectory() as profile:
        net = Path(workdir) / "net.json"
        p = subprocess.run(
            CHROMIUM + [f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                        f"--log-net-log={net}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            sys.exit(f"pages-test: chromium failed on {url}: {p.stderr[-2000:]}")
        log = json.loads(net.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = []
    for e in log["events"]:
        params = e.get("params", {})
        # A job's start names its URL (its end only the result).
        if types.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        # Chromium's own background requests have no origin; the page's
        # have its (file: pages an opaque "null") and a file:// key.
        if params.get("initiator") != "not an origin" or "file://" in params.get(
                "network_isolation_key", ""):
            requests.append(params["url"])
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    dom = Dom()
    dom.feed(p.stdout)
    return dom, console, requests


def screenshot(url, png):
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            CHROMIUM + [f"--user-data-dir={profile}", f"--screenshot={png}",
                        "--window-size=1400,2000", url],
            check=True, capture_output=True, timeout=120)


class Checks:
    def __init__(self, page):
        self.page = page
        self.failed = []

    def eq(self, what, got, want):
        if str(got) != str(want):
            self.failed.append(f"{what}: page {got}, want {want}")

    def true(self, what, ok):
        if not ok:
            self.failed.append(what)


def common(c, dom, console, requests):
    c.true("the script did not run to its end", dom.root.get("data-script") == "ran")
    c.true(f"console messages: {console[:3]}", not console)
    c.true(f"network requests: {requests[:3]}", not requests)


def check_heat(c, dom, s, prefix):
    """`summary --json`'s phase x context table against heat-PREFIXphase-context."""
    for p in s["phases"]:
        for ctx, cell in p["contexts"].items():
            el = dom.ids.get(f"heat-{prefix}{p['phase']}-{ctx}", {})
            c.eq(f"heat {prefix}{p['phase']}/{ctx} events", el.get("data-events"), cell["events"])
            c.eq(f"heat {prefix}{p['phase']}/{ctx} functions", el.get("data-functions"),
                 cell["unique_functions"])


def check_page(report, html, trace, workdir):
    c = Checks(html.name)
    s = report_json(report, "summary", "--json", str(trace))
    g = report_json(report, "graph", "--format", "json", str(trace))
    dom, console, requests = browse(f"{html.as_uri()}#q={SEARCH}", workdir)
    common(c, dom, console, requests)
    fact = lambda i: dom.ids.get(f"fact-{i}", {}).get("data-value")
    for i, key in [("target-events", "target_events"), ("events", "events"),
                   ("unique-functions", "unique_functions"), ("edges", "edges")]:
        c.eq(f"fact {i}", fact(i), s[key])
    c.eq("fact lost", fact("lost"), s["lost"]["total"])
    check_heat(c, dom, s, "")
    c.eq("timeline events", dom.ids.get("timeline-svg", {}).get("data-events"),
         s["target_events"])
    nodes = len(g["nodes"])
    c.eq("graph nodes drawn", len(dom.nodes), min(nodes, TOP_NODES))
    c.eq("graph nodes in all", dom.ids.get("callgraph", {}).get("data-total-nodes"), nodes)
    hits = [n for n in dom.nodes if "hit" in n.get("class", "").split()]
    want = [n for n in dom.nodes if SEARCH in n["data-name"].lower()]
    c.eq(f"nodes highlighted by #q={SEARCH}", len(hits), len(want))
    c.true(f"#q={SEARCH} highlights nothing", hits)
    c.eq("funcs list rows", dom.ids.get("list-funcs", {}).get("data-rows"),
         s["unique_functions"])
    return c, f"{nodes} nodes, {s['target_events']} events"


def check_diff(report, html, a, b, workdir):
    c = Checks(html.name)
    d = report_json(report, "diff", "--json", str(a), str(b))
    dom, console, requests = browse(html.as_uri(), workdir)
    common(c, dom, console, requests)
    for prefix, trace in [("a-", a), ("b-", b)]:
        s = report_json(report, "summary", "--json", str(trace))
        check_heat(c, dom, s, prefix)
        c.eq(f"fact {prefix}target-events",
             dom.ids.get(f"fact-{prefix}target-events", {}).get("data-value"), s["target_events"])
    for part, side in [("only_a", "only-a"), ("only_b", "only-b"), ("both", "both")]:
        n = len(d["functions"][part])
        c.eq(f"fact functions {side}", dom.ids.get(f"fact-functions-{side}", {}).get(
            "data-value"), n)
        if part != "both":
            drawn = [x for x in dom.nodes if side in x.get("class", "").split()]
            c.eq(f"graph nodes {side}", len(drawn), n)
    return c, f"{len(d['functions']['only_a'])} only in A, {len(d['functions']['only_b'])} only in B"


def controls(workdir):
    """Pages that break the rules must fail the checks."""
    bad = {
        "request": '<img src="http://127.0.0.1:9/x.png">'
                   '<script>document.documentElement.setAttribute("data-script","ran")</script>',
        "script-error": "<script>undefined_function();</script>",
    }
    for name, body in bad.items():
        page = Path(workdir) / f"control-{name}.html"
        page.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
        c = Checks(page.name)
        common(c, *browse(page.as_uri(), workdir))
        if not c.failed:
            sys.exit(f"pages-test: the control page {page.name} passed the checks: they check nothing")


def main():
    report, out = sys.argv[1], Path(sys.argv[2]).resolve()
    results = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    out.mkdir(parents=True, exist_ok=True)
    traces = {}
    for name, fixture in FIXTURES.items():
        t = out / fixture
        t.write_bytes(lzma.open(DATA / f"{fixture}.xz").read())
        traces[name] = t
    if results and (results / "min.trace").exists():
        for t in sorted(results.glob("*.trace")):
            traces[f"guest-{t.stem}"] = t.resolve()
    controls(out)
    failed = 0
    checked = 0
    pages = [(name, [t]) for name, t in traces.items()]
    pages.append(("diff-min-min.large", [traces["min"], traces["min.large"]]))
    if "guest-min" in traces and "guest-min.large" in traces:
        pages.append(("guest-diff", [traces["guest-min"], traces["guest-min.large"]]))
    for name, ts in pages:
        html = out / f"{name}.html"
        run([report, "html", *map(str, ts), "-o", str(html)])
        if len(ts) == 1:
            c, what = check_page(report, html, ts[0], out)
        else:
            c, what = check_diff(report, html, ts[0], ts[1], out)
        png = out / f"{name}.png"
        screenshot(html.as_uri(), png)
        checked += 1
        size = html.stat().st_size
        if c.failed:
            failed += 1
            print(f"pages-test: {html.name}: FAILED")
            for f in c.failed:
                print(f"  {f}")
        else:
            print(f"pages-test: {html.name} ({size // 1024} KiB; {what}): ok, screenshot {png}")
    if failed:
        sys.exit(f"pages-test: {failed} of {checked} pages failed")
    print(f"pages-test: {checked} pages passed in headless Chromium (and 2 control pages failed as they must)")


if __name__ == "__main__":
    main()
