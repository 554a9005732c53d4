"""Write verify.md and a self-contained verify.html from the misuse matrix.

    /usr/bin/python3 verify/misuse/report.py [--results DIR] [--out DIR]

Reads DIR/misuse_results.json (verify/misuse/run.py) and, when present,
DIR/contract_findings.tsv (verify/run_tests.sh: the contract checker against
each baseline), each heap's alloc_<heap>/claims.tsv, and the latest bench
summary (reports/summary.json, else reports/smoke/summary.json) for the
"caught vs slowdown" chart, drawn by bench/py/charts.py (gnuplot).
"""
import argparse
import csv
import html
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bench", "py"))
sys.path.insert(0, HERE)
import charts  # noqa: E402
import run  # noqa: E402

COLOUR = {"detected": "#6fbf73", "fault": "#a8d5a2", "stopped": "#cfe8c9", "zeroed": "#9fd3e6",
          "warned": "#fff2a8", "silent": "#f3c08b", "corrupted": "#e0584f", "hang": "#9b59b6",
          "n/a": "#eeeeee", "error": "#333333"}
MEANING = {
    "detected": "stopped with a diagnostic on stderr (or refused the bad request)",
    "fault": "SIGSEGV/SIGBUS, no message",
    "stopped": "stopped by another signal or exit status, no message",
    "zeroed": "freed memory read back as zeros or poison",
    "warned": "printed a diagnostic but ran on, probe clean",
    "silent": "ran on, no message, the reuse probe saw nothing wrong",
    "corrupted": "the reuse probe hit: live, foreign or planted memory handed out, a block twice, or a fault in the heap afterwards",
    "hang": "killed after the time limit",
    "n/a": "the API is absent",
    "error": "harness problem (preload not in effect)",
}
BENCH_SUMMARIES = (("reports/summary.json", "the latest bench run"),
                   ("reports/smoke/summary.json", "the bench smoke run (a few tiny workloads: not a measurement)"))


def load(results_dir):
    with open(os.path.join(results_dir, "misuse_results.json")) as f:
        doc = json.load(f)
    findings = []
    path = os.path.join(results_dir, "contract_findings.tsv")
    if os.path.exists(path):
        with open(path) as f:
            findings = list(csv.DictReader(f, delimiter="\t"))
    return doc, findings


def totals(doc):
    out = {}
    for a in doc["allocators"]:
        t = {}
        for runs in doc["results"][a["name"]].values():
            for r in runs:
                t[r["outcome"]] = t.get(r["outcome"], 0) + 1
        out[a["name"]] = t
    return out


def caught(doc):
    return {a["name"]: run.class_caught(doc["cases"], doc["results"][a["name"]]) for a in doc["allocators"]}


def claims(doc):
    out = {}
    for a in doc["allocators"]:
        if a["kind"] != "ours":
            continue
        path = os.path.join(REPO, f"alloc_{a['heap']}", "claims.tsv")
        try:
            out[a["name"]] = (path, run.read_claims(path))
        except (OSError, ValueError) as e:
            out[a["name"]] = (path, str(e))
    return out


def bench_points(doc, ncaught):
    """([(alloc, x, y)], where the x values came from) or ([], why not)."""
    for path, what in BENCH_SUMMARIES:
        full = os.path.join(REPO, path)
        if not os.path.exists(full):
            continue
        with open(full) as f:
            geo = json.load(f).get("geomeans", {})
        key = next((k for v in geo.values() for k in v if k.startswith("time_geomean_vs_")), None)
        pts = [(a, geo[a][key], ncaught[a]) for a in ncaught if a in geo and key and geo[a].get(key)]
        if pts:
            return pts, f"x from {path} ({what})"
    return [], "no bench run yet: run `make bench` (or `bash bench/run.sh --smoke` for a first look)"


def cell_text(runs):
    s = run.cell_summary(runs)
    main = runs[0]["outcome"] if len({r["outcome"] for r in runs}) == 1 else "mixed"
    tip = " | ".join(sorted({r["first"] for r in runs if r["first"]}))[:500]
    return s, main, tip


def build(results_dir, out_dir):
    doc, findings = load(results_dir)
    allocs = [a["name"] for a in doc["allocators"]]
    tot, cc, cl = totals(doc), caught(doc), claims(doc)
    classes = sorted({c["cls"] for c in doc["cases"]}, key=[c["cls"] for c in doc["cases"]].index)
    ncaught = {a: sum(1 for v in cc[a].values() if v) for a in allocs}
    napp = {a: sum(1 for v in cc[a].values() if v is not None) for a in allocs}
    os.makedirs(out_dir, exist_ok=True)
    pts, where = bench_points(doc, ncaught)
    svg = None
    if pts:
        cdir = os.path.join(out_dir, "verify-charts")
        os.makedirs(cdir, exist_ok=True)
        colours = {a: charts.colour(i) for i, a in enumerate(allocs)}
        svg = charts.scatter(cdir, "misuse", "Misuse classes caught vs slowdown", "time relative to glibc (geomean)",
                             "misuse classes caught", pts, colours)
    head = (f"{len(doc['cases'])} cases in {len(classes)} classes x {len(allocs)} allocators, {doc['runs']} run(s) "
            f"per cell, time limit {doc['timeout']:g} s, {doc['seconds']:.0f} s in all; {doc['date']}.")
    caught_def = ("A class is caught when every applicable run of every case in it was detected, fault, stopped "
                  "or zeroed. The programs are build/verify/misuse (verify/misuse/cases.h lists the cases).")
    write_html(out_dir, doc, allocs, classes, tot, cc, ncaught, napp, cl, findings, svg, where, head, caught_def)
    write_md(out_dir, doc, allocs, classes, tot, cc, ncaught, napp, cl, findings, svg, where, head, caught_def)
    return os.path.join(out_dir, "verify.html")


def claims_lines(cl):
    out = []
    for a, (path, rows) in cl.items():
        rel = os.path.relpath(path, REPO)
        if isinstance(rows, str):
            out.append(f"{a}: {rel}: {rows}")
        elif not rows:
            out.append(f"{a}: {rel} claims nothing (it is the speed reference); its column shows what it does anyway.")
        else:
            out.append(f"{a}: {rel} claims " + ", ".join(f"{c} ({h}{'' if m in ('', '-') else ', message ' + m})"
                                                         for _, c, h, m in rows) + ".")
    return out


def findings_by_alloc(findings):
    out = {}
    for f in findings:
        out.setdefault(f["allocator"], []).append(f)
    return out


def write_html(out_dir, doc, allocs, classes, tot, cc, ncaught, napp, cl, findings, svg, where, head, caught_def):
    e = html.escape
    css = ("body{font-family:Helvetica,Arial,sans-serif;max-width:1500px;margin:1em auto;padding:0 1em;color:#222}"
           "table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:12px}td,th{border:1px solid #ccc;"
           "padding:2px 6px;text-align:left}th{background:#f0f0f0}td.num{text-align:right}"
           ".o{white-space:nowrap}.legend span{display:inline-block;padding:2px 6px;margin:2px;border:1px solid #ccc}"
           "tr.cls td{background:#f7f7f7;font-weight:bold}svg{max-width:100%;height:auto}")
    o = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Misuse matrix</title><style>{css}</style></head>"
         "<body><h1>Misuse matrix: what each allocator catches</h1>",
         f"<p>{e(head)} {e(caught_def)} " + ("<a href='index.html'>The benchmark report</a>.</p>" if
                                               os.path.exists(os.path.join(out_dir, "index.html")) else
                                               "No benchmark report beside this page yet.</p>"),
         "<p class='legend'>" + "".join(f"<span style='background:{COLOUR[k]};color:{'#fff' if k in ('error', 'hang', 'corrupted') else '#000'}'>"
                                        f"{e(k)}</span> {e(v)}<br>" for k, v in MEANING.items()) + "</p>"]
    # totals
    o.append("<h2>Totals per allocator</h2><table><tr><th>allocator</th><th>kind</th><th>classes caught</th>"
             + "".join(f"<th>{e(x)}</th>" for x in run.OUTCOMES) + "</tr>")
    kinds = {a["name"]: a["kind"] for a in doc["allocators"]}
    for a in allocs:
        o.append(f"<tr><td>{e(a)}</td><td>{kinds[a]}</td><td class='num'>{ncaught[a]}/{napp[a]}</td>"
                 + "".join(f"<td class='num'>{tot[a].get(x, '')}</td>" for x in run.OUTCOMES) + "</tr>")
    o.append("</table><p>Counts are runs (cases x runs per cell).</p>")
    # chart
    o.append(f"<h2>Caught vs slowdown</h2><p>{e(where)}.</p>")
    if svg:
        with open(svg) as f:
            body = f.read()
        o.append(body[body.find("<svg"):])
    # claims
    o.append("<h2>What each heap claims</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in claims_lines(cl)) + "</ul>")
    # classes
    o.append("<h2>Classes</h2><table><tr><th>class</th>" + "".join(f"<th>{e(a)}</th>" for a in allocs) + "</tr>")
    for c in classes:
        cells = []
        for a in allocs:
            v = cc[a].get(c)
            t, col = ("–", COLOUR["n/a"]) if v is None else ("caught", COLOUR["detected"]) if v else ("not caught", COLOUR["silent"])
            cells.append(f"<td style='background:{col}'>{t}</td>")
        o.append(f"<tr><td>{e(c)}</td>{''.join(cells)}</tr>")
    o.append("</table>")
    # matrix
    o.append("<h2>Every case</h2><p>Hover a cell for the first line the allocator wrote to stderr after the misuse "
             "(or what the program saw).</p><table><tr><th>case</th><th>what</th>"
             + "".join(f"<th>{e(a)}</th>" for a in allocs) + "</tr>")
    last = None
    for c in doc["cases"]:
        if c["cls"] != last:
            o.append(f"<tr class='cls'><td colspan='{len(allocs) + 2}'>{e(c['cls'])}</td></tr>")
            last = c["cls"]
        row = [f"<td>{e(c['name'])}</td><td>{e(c['what'])}</td>"]
        for a in allocs:
            s, main, tip = cell_text(doc["results"][a][c["name"]])
            bg = COLOUR.get(main, "#fff2a8")
            fg = "#fff" if main in ("error", "hang", "corrupted") else "#000"
            row.append(f"<td class='o' style='background:{bg};color:{fg}' title='{e(tip, quote=True)}'>{e(s)}</td>")
        o.append("<tr>" + "".join(row) + "</tr>")
    o.append("</table>")
    # contract findings
    o.append("<h2>Contract checker against the baselines</h2>")
    fb = findings_by_alloc(findings)
    if not fb:
        o.append("<p>No baseline contract results (run <code>make test</code> or <code>make verify</code>).</p>")
    else:
        o.append("<p>verify/contract and verify/contract_cxx (the rules our heaps must meet, glibc 2.36's behaviour "
                 "where the standard leaves it open) under each baseline. A deviation is a finding, never a failure.</p>"
                 "<table><tr><th>allocator</th><th>rules met (or n/a)</th><th>findings</th></tr>")
        for a, rows in fb.items():
            bad = [r for r in rows if r["result"] not in ("ok", "n/a")]
            items = "<br>".join(f"{e(r['program'])} {e(r['rule'])}: {e(r['result'])}" for r in bad) or "none"
            o.append(f"<tr><td>{e(a)}</td><td class='num'>{len(rows) - len(bad)}/{len(rows)}</td><td>{items}</td></tr>")
        o.append("</table>")
    o.append("</body></html>")
    with open(os.path.join(out_dir, "verify.html"), "w") as f:
        f.write("\n".join(o))


def write_md(out_dir, doc, allocs, classes, tot, cc, ncaught, napp, cl, findings, svg, where, head, caught_def):
    md = ["# Misuse matrix: what each allocator catches", "", head, "", caught_def, "", "## Totals per allocator", "",
          "| allocator | classes caught | " + " | ".join(run.OUTCOMES) + " |", "|---" * (len(run.OUTCOMES) + 2) + "|"]
    for a in allocs:
        md.append(f"| {a} | {ncaught[a]}/{napp[a]} | " + " | ".join(str(tot[a].get(x, "")) for x in run.OUTCOMES) + " |")
    md += ["", "## Caught vs slowdown", "", where + "."]
    if svg:
        md += ["", f"![caught vs slowdown]({os.path.relpath(svg, out_dir)})"]
    md += ["", "## What each heap claims", ""] + [f"- {x}" for x in claims_lines(cl)]
    md += ["", "## Classes", "", "| class | " + " | ".join(allocs) + " |", "|---" * (len(allocs) + 1) + "|"]
    for c in classes:
        md.append(f"| {c} | " + " | ".join("–" if cc[a].get(c) is None else "caught" if cc[a][c] else "no"
                                          for a in allocs) + " |")
    md += ["", "## Every case", "", "| case | " + " | ".join(allocs) + " |", "|---" * (len(allocs) + 1) + "|"]
    for c in doc["cases"]:
        md.append(f"| {c['name']} | " + " | ".join(run.cell_summary(doc["results"][a][c["name"]]) for a in allocs) + " |")
    md += ["", "## Contract checker against the baselines", ""]
    fb = findings_by_alloc(findings)
    for a, rows in fb.items():
        bad = [r for r in rows if r["result"] not in ("ok", "n/a")]
        md.append(f"- **{a}**: {len(rows) - len(bad)}/{len(rows)} rules met or n/a" + (":" if bad else "."))
        md += [f"  - {r['program']} {r['rule']}: {r['result'].replace('|', '/')}" for r in bad]
    if not fb:
        md.append("No baseline contract results yet.")
    with open(os.path.join(out_dir, "verify.md"), "w") as f:
        f.write("\n".join(md) + "\n")


def main():
    build_dir = os.path.abspath(os.environ.get("BUILD", os.path.join(REPO, "build")))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(build_dir, "verify"))
    ap.add_argument("--out", default=os.path.join(REPO, "reports"))
    args = ap.parse_args()
    print("wrote", build(args.results, args.out))
    # The bench report beside this page links it and charts the new matrix:
    # re-draw it from its raw data (no benchmark runs again).
    if os.path.exists(os.path.join(args.out, "raw", "meta.json")):
        rc = subprocess.call(["/usr/bin/python3", "-B", "bench/py/runner.py", "--report-only", "--out",
                              os.path.abspath(args.out)], cwd=REPO)
        if rc:
            print(f"FAIL misuse/report: re-drawing {args.out}/index.html failed", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
