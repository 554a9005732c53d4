"""Write reports/: index.html (self-contained, charts inline), report.md
(the same tables, charts linked), results.csv and summary.json.

    /usr/bin/python3 bench/py/runner.py --report-only --out reports
re-draws everything from reports/raw/ without running anything.
"""
import csv
import html
import json
import os
import re
import statistics
import sys
import traceback

import charts
import stats

MISUSE_FILES = ("build/verify/misuse_matrix.json", "reports/misuse_matrix.json")
VERIFY_PAGES = ("reports/verify.html", "build/verify/verify.html")   # verify/misuse/report.py


class Table:
    """Header + rows of cells (text, css class, tooltip); rendered as HTML and Markdown."""

    def __init__(self, header, caption=""):
        self.header, self.rows, self.caption = header, [], caption

    def add(self, *cells):
        self.rows.append([c if isinstance(c, tuple) else (str(c), "", "") for c in cells])

    def html(self):
        h = "".join(f"<th>{html.escape(x)}</th>" for x in self.header)
        body = "".join("<tr>" + "".join(_td(*c) for c in r) + "</tr>" for r in self.rows)
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f'<table>{cap}<thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'

    def md(self):
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines = [f"**{self.caption}**", ""] if self.caption else []
        lines += ["| " + " | ".join(esc(x) for x in self.header) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(esc(s) for s, _, _ in r) + " |" for r in self.rows]
        return "\n".join(lines)


def _td(text, kind, tip):
    """Numbers right-aligned, words left; a path into raw/ becomes a link."""
    if re.match(r"^[\d.]+(\s|×|$|/)|^–$", text):
        kind += " num"
    body = html.escape(text)
    if text.startswith("raw/"):
        body = f'<a href="{body}">{body}</a>'
    return f'<td class="{kind.strip()}" title="{html.escape(tip)}">{body}</td>'


def failed(c):
    f = c.failure
    if not f:
        return ("–", "na", "no run")
    n_ok = len(c.ok_runs)
    label = f"✗ {f['status']}" + (f" ({n_ok}/{len(c.runs)} ok)" if n_ok else "")
    return (label, "fail", f["message"])


def ratio_cell(r):
    if r is None:
        return ("–", "na", "")
    k = "good" if r < 0.95 else "bad" if r > 1.05 else ""
    return (f"{r:.2f}×", k, "")


class Report:
    def __init__(self, out):
        self.out = out
        with open(os.path.join(out, "raw", "meta.json")) as f:
            self.meta = json.load(f)
        with open(os.path.join(out, "raw", "results.jsonl")) as f:
            self.results = [json.loads(line) for line in f if line.strip()]
        self.s = stats.Summary(self.results, self.meta)
        self.cdir = os.path.join(out, "charts")
        os.makedirs(self.cdir, exist_ok=True)
        self.colours = {a: charts.colour(i) for i, a in enumerate(self.s.allocs)}
        self.sections = []            # (title, intro, [svg path or None], [Table])

    def section(self, title, intro, svgs, tables):
        self.sections.append((title, intro, [x for x in svgs if x], tables))

    # ---- sections --------------------------------------------------------------------
    def summary(self):
        s, ref, ours = self.s, self.s.ref, self.s.ours
        t = Table(["allocator", f"time vs {ref} (geomean)", f"time vs {ours or '—'}",
                   f"peak RSS vs {ref}", f"micro vs {ref}", "cells ok"])
        vals = {}
        for a in s.allocs:
            g, n, tot = s.geomean(a, ref)
            go = s.geomean(a, ours)[0] if ours else None
            gm, _, _ = s.geomean(a, ref, "rss_mib")
            mi = s.micro_geomean(a, ref)
            cells = [c for (w, x), c in s.cells.items() if x == a]
            n_ok = sum(1 for c in cells if c.ok)
            t.add(a, ratio_cell(g) if g else ("–", "na", "no workload ran"), ratio_cell(go),
                  ratio_cell(gm), ratio_cell(mi),
                  (f"{n_ok}/{len(cells)}", "" if n_ok == len(cells) else "fail", ""))
            vals[("time", a)], vals[("peak RSS", a)], vals[("micro time", a)] = g, gm, mi
        svg = charts.bars(self.cdir, "geomean", f"Geometric mean over the workloads, relative to {ref} (lower is better)",
                          f"ratio to {ref}", ["time", "peak RSS", "micro time"], s.allocs, vals,
                          self.colours, errorbars=False, refline=1)
        self.section("Summary", f"Geometric means of each allocator's median relative to {ref} over the "
                     f"{len(s.timed)} timed workloads (macro and real programs) where both ran correctly; "
                     "micro is over every micro-benchmark. Below 1 is faster or smaller.", [svg], [t])

    def per_workload(self, what, unit, title, name):
        s, ref = self.s, self.s.ref
        vals, absolute = {}, Table(["workload"] + s.allocs, f"{title}: median over the runs")
        rel = {r: Table(["workload"] + s.allocs, f"{title} relative to {r}") for r in (ref, s.ours) if r}
        for w in s.timed:
            row = [w]
            for a in s.allocs:
                c = s.cell(w, a)
                v = getattr(c, what) if c.ok else None
                if v:
                    m, lo, hi = v
                    row.append((f"{m:.3g} {unit}", "", f"min {lo:.3g}, max {hi:.3g}, {len(c.runs)} runs"))
                    r = getattr(s.cell(w, ref), what)
                    if s.cell(w, ref).ok and r and r[0]:
                        vals[(w, a)] = (m / r[0], lo / r[0], hi / r[0])
                else:
                    row.append(failed(c))
            absolute.add(*row)
            for r, t in rel.items():
                t.add(w, *[ratio_cell(s.ratio(w, a, r, what)) for a in s.allocs])
        # The chart draws the plain allocators only: with every variant row too
        # (18 bars a cluster) the bars were too thin to show their colours.
        # The variants have their own section; the tables keep every row.
        variants = {a["name"] for a in self.meta["allocators"] if a["base"]}
        plain = [a for a in s.allocs if a not in variants]
        svg = charts.bars(self.cdir, name, f"{title} per workload relative to {ref} (median; bars: min-max)",
                          f"ratio to {ref}", s.timed, plain, vals, self.colours, refline=1)
        tables = [absolute] + list(rel.values())
        intro = (f"Median over the runs (hover for min and max). Then the same relative to "
                 f"{' and to '.join(rel)}. ✗ marks a cell where a run crashed, gave a wrong answer or did not finish; "
                 "see Failures.")
        self.section(title + " per workload", intro, [svg], tables)

    def fragmentation(self):
        if "frag" not in self.s.timed:
            return
        t = Table(["allocator", "returned after each peak (median %)", "survivors hold (MiB)",
                   "RSS holding them (MiB)", "RSS per live byte", "returned after freeing all (%)",
                   "peak RSS (MiB)"])
        for a in self.s.allocs:
            c = self.s.cell("frag", a)
            if not c.ok:
                t.add(a, failed(c), "", "", "", "", "")
                continue
            f = lambda k, d=1: "–" if c.metric(k) is None else f"{c.metric(k) / d:.1f}"  # noqa: E731
            live, held = c.metric("live_kb"), c.metric("rss_with_survivors_kb")
            t.add(a, f("returned_pct"), f("live_kb", 1024), f("rss_with_survivors_kb", 1024),
                  f"{held / live:.2f}" if live and held else "–", f("returned_end_pct"), f"{c.rss_mib[0]:.1f}")
        self.section("Fragmentation: what comes back after peaks", "From the frag workload: four peaks of "
                     "different size bands; after each, about 90% of its blocks are freed (survivors mostly in "
                     "groups, a few scattered) and, after 200 ms and a little other work, the share of the peak's "
                     "growth returned to the OS is measured. Survivors accumulate; the last columns show what "
                     "holding them costs and what comes back when everything is freed.", [], [t])

    def micro(self):
        s, ref = self.s, self.s.ref
        if not s.micro_names:
            return
        groups = s.micro_groups()
        cats = [f"{f} t{t}" for f, t in groups]
        vals = {(f"{f} t{t}", a): s.micro_group_geomean(f, t, a, ref) for f, t in groups for a in s.allocs}
        svg1 = charts.bars(self.cdir, "micro_families", f"Micro-benchmarks: time per operation relative to {ref} "
                           "(geomean over sizes; tN = N threads)", f"ratio to {ref}", cats, s.allocs, vals,
                           self.colours, errorbars=False, refline=1)
        sizes = sorted({stats._micro_key(n)[1] for n in s.micro_names
                        if n.startswith("malloc_free/") and n.endswith("threads:1")})
        lv = {(stats._micro_key(n)[1], a): s.micro[n].get(a) for n in s.micro_names
              if n.startswith("malloc_free/") and n.endswith("threads:1") for a in s.allocs}
        svg2 = charts.lines(self.cdir, "micro_sizes", "malloc + free, one thread: time per pair by size",
                            "request size (bytes)", "ns per malloc+free", sizes, s.allocs, lv,
                            self.colours) if len(sizes) > 1 else None
        t = Table(["benchmark (ns per op)"] + s.allocs)
        for n in s.micro_names:
            row = [n]
            for a in s.allocs:
                v, r = s.micro[n].get(a), s.micro_ratio(n, a, ref)
                row.append(("–", "na", "failed or not run") if v is None else
                           (f"{v:.1f}" + (f" ({r:.2f}×)" if a != ref and r else ""), ratio_cell(r)[1], ""))
            t.add(*row)
        self.section("Micro-benchmarks", "Google Benchmark, the same binary under every allocator (LD_PRELOAD). "
                     "Time per operation in ns (one allocation and its free; for N threads, wall time over "
                     f"all threads' operations), median over runs; ratio to {ref} in brackets.", [svg1, svg2], [t])

    def icount(self):
        s = self.s
        if not s.icount:
            return
        vals = {(sc, a): s.icount[sc].get(a) for sc in s.icount_names for a in s.allocs}
        svg = charts.bars(self.cdir, "icount", "Instructions per operation (callgrind)", "instructions",
                          s.icount_names, s.allocs, vals, self.colours, errorbars=False)
        t = Table(["scenario (instructions per op)"] + s.allocs)
        for sc in s.icount_names:
            t.add(sc, *[("–", "na", "") if s.icount[sc].get(a) is None else f"{s.icount[sc][a]:.1f}"
                        for a in s.allocs])
        self.section("Instruction counts", f"callgrind, {self.meta['icount_n']} operations per scenario after a "
                     "warm-up, counted between client requests (loop overhead of a few instructions included). "
                     "One malloc+free pair (or one calloc/realloc) is one operation.", [svg], [t])

    def safety(self):
        """Each variant (a row @heap with options) against its plain heap (all features on) and
        against alloc_unsafe, the speed reference: time and peak RSS, geomean over the timed
        workloads; two charts, one per reference."""
        s = self.s
        variants = [a for a in self.meta["allocators"] if a["base"]]
        fast = "unsafe" if "unsafe" in s.allocs else None
        t = Table(["variant", "of", "environment", "time vs plain heap (geomean)", "peak RSS vs plain heap",
                   f"time vs {fast or 'unsafe'}", f"peak RSS vs {fast or 'unsafe'}", "workloads"])
        vals, vals_fast = {}, {}
        bases = []
        for v in variants:
            if v["base"] not in bases:
                bases.append(v["base"])
        for b in bases:  # the plain heaps themselves, against the reference
            if fast and b != fast:
                vals_fast[("time", b)] = s.geomean(b, fast)[0]
                vals_fast[("peak RSS", b)] = s.geomean(b, fast, "rss_mib")[0]
        for v in variants:
            g, n, tot = s.geomean(v["name"], v["base"])
            m, _, _ = s.geomean(v["name"], v["base"], "rss_mib")
            gf = s.geomean(v["name"], fast)[0] if fast else None
            mf = s.geomean(v["name"], fast, "rss_mib")[0] if fast else None
            env = " ".join(f"{k}={x}" for k, x in v["env"].items())
            t.add(v["name"], v["base"], env, ratio_cell(g), ratio_cell(m), ratio_cell(gf), ratio_cell(mf),
                  f"{n}/{tot}")
            vals[("time", v["name"])], vals[("peak RSS", v["name"])] = g, m
            vals_fast[("time", v["name"])], vals_fast[("peak RSS", v["name"])] = gf, mf
        svgs = []
        if any(x for x in vals.values()):
            svgs.append(charts.bars(self.cdir, "safety", "Cost of each option: variant relative to its plain "
                                    "heap (all features on; below 1: what switching the feature off saves)",
                                    "ratio", ["time", "peak RSS"], [v["name"] for v in variants], vals,
                                    self.colours, errorbars=False, refline=1))
        if fast and any(x for x in vals_fast.values()):
            series = [b for b in bases if b != fast] + [v["name"] for v in variants]
            svgs.append(charts.bars(self.cdir, "safety_vs_unsafe", f"The same variants relative to {fast} "
                                    "(the speed reference)", f"ratio to {fast}", ["time", "peak RSS"], series,
                                    vals_fast, self.colours, errorbars=False, refline=1))
        intro = ("Each row of bench/allocators.tsv that runs one of our heaps with options (library @heap) is "
                 "compared with the plain heap and with alloc_unsafe over the timed workloads. alloc_checked "
                 "has one row per safety feature switched off alone (checked-no-<feature>), one with zeroing "
                 "and quarantine off together, and its light preset: the first chart is what each feature "
                 "costs, the second where each variant stands against the speed reference.")
        vr = self.meta.get("variant_reps", self.meta["reps"])
        if variants and vr != self.meta["reps"]:
            intro += (f" In this run each variant row ran {vr} time{'s' if vr > 1 else ''} per workload and "
                      f"the plain heaps {self.meta['reps']} times (median of each), so a variant's ratio "
                      "carries more of the machine's noise than the plain heaps' figures.")
        self.section("Cost of each safety feature", intro if variants else intro + " No variant rows yet.",
                     svgs, [t] if variants else [])

    def misuse(self):
        """Classes caught (verify/misuse's matrix) against the time geomean of this run."""
        path = next((p for p in MISUSE_FILES if os.path.exists(p)), None)
        page = next((p for p in VERIFY_PAGES if os.path.exists(p)), None)
        intro = ("Misuse classes each allocator catches (verify/misuse's matrix, from "
                 f"{path or MISUSE_FILES[0]}: {{allocator: {{class: caught}}}}) against its time geomean "
                 f"relative to {self.s.ref} in this run. A class is caught when every run of every case in it "
                 "stopped the program (diagnostic, fault) or wiped the freed memory.")
        if page:
            intro += f" Every case and outcome: {os.path.relpath(page, self.out)}."
        if not path:
            self.section("Misuse detected vs slowdown", intro + " No misuse matrix yet: run `make verify`.", [], [])
            return
        with open(path) as f:
            matrix = json.load(f)
        pts, t = [], Table(["allocator", "classes caught", f"time vs {self.s.ref}"])
        for a in list(self.s.allocs) + [a for a in matrix if a not in self.s.allocs]:
            if a not in matrix:
                t.add(a, ("–", "na", "not in the misuse matrix"), "")
                continue
            det = sum(1 for v in matrix[a].values() if v)
            g = self.s.geomean(a, self.s.ref)[0] if a in self.s.allocs else None
            t.add(a, f"{det}/{len(matrix[a])}", ratio_cell(g) if a in self.s.allocs else ("–", "na", "not benchmarked"))
            if g:
                pts.append((a, g, det))
        svg = charts.scatter(self.cdir, "misuse", "Misuse classes caught vs slowdown", f"time relative to {self.s.ref}",
                             "misuse classes caught", pts, self.colours) if pts else None
        self.section("Misuse detected vs slowdown", intro if pts else intro + " No allocator has both a time and "
                     "a matrix column yet.", [svg], [t])

    def failures(self):
        t = Table(["workload", "allocator", "run", "status", "message", "log"])
        for r in self.s.failures():
            t.add(r["workload"], r["allocator"], str(r["rep"] + 1), (r["status"], "fail", ""), r["message"][:300],
                  r.get("log", "") and r["log"] + ".err")
        errs = self.meta.get("harness_errors", [])
        intro = ("Every run that did not give a checked answer. A cell fails if any of its runs failed; "
                 "the other allocators went on.")
        if errs:
            intro += " HARNESS ERRORS: " + "; ".join(errs)
        self.section("Failures", intro if t.rows else "None: every run finished with a correct answer.", [],
                     [t] if t.rows else [])

    def setup(self):
        m = self.meta["machine"]
        t = Table(["allocator", "library", "environment", "version"])
        for a in self.meta["allocators"]:
            t.add(a["name"], a["library"] or "(none: system allocator)",
                  " ".join(f"{k}={v}" for k, v in a["env"].items()) or "–", m["allocator_versions"].get(a["name"], ""))
        w = Table(["workload", "kind", "what"])
        for x in self.meta["workloads"]:
            w.add(x["name"], x["kind"], x["what"])
        p = Table(["program", "version"])
        for k, v in m["programs"].items():
            p.add(k, v)
        self.section("Setup", "Allocators, workloads and the software measured.", [], [t, w, p])

    # ---- output ------------------------------------------------------------------------
    def runs_per_cell(self):
        """'5 runs per cell', and the variant rows' count when they ran fewer."""
        meta = self.meta
        vr = meta.get("variant_reps", meta["reps"])
        variants = [a["name"] for a in meta["allocators"] if a["base"]]
        text = f"{meta['reps']} runs per cell"
        if variants and vr != meta["reps"]:
            text += (f" ({vr} for the {len(variants)} variant rows, {', '.join(variants)}: their medians "
                     f"are over {vr} run{'s' if vr > 1 else ''}, the plain heaps' over {meta['reps']})")
        return text

    def header(self):
        m, meta = self.meta["machine"], self.meta
        spread = self.s.spread()
        sp = (f"median spread (max−min)/median of a cell {100 * statistics.median(spread):.1f}%, "
              f"largest {100 * max(spread):.1f}%") if spread else "one run per cell: no spread"
        return [
            f"Machine: {m['hostname']}: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}, "
            f"Linux {m['kernel']}.",
            f"Date: {m['date']}. Mode: {meta['mode']} (scale {meta['scale']:g}), {self.runs_per_cell()}, "
            f"interleaved across allocators; run took {meta['seconds'] / 60:.1f} min.",
            f"Spread: {sp}." + (f" Load average (1 min) {la[0]:.1f} at the start, {la[1]:.1f} at the end on "
                                f"{m['cores']} cores: anything else running widens the spread."
                                if (la := meta.get("loadavg")) and None not in la else ""),
            "Time is wall-clock time of the whole process (real programs: the timed phase only; answers checked "
            "after), peak memory is ru_maxrss. Ratios compare medians measured in the same run.",
        ]

    def write(self):
        self.summary()
        self.per_workload("time", "s", "Time", "time")
        self.per_workload("rss_mib", "MiB", "Peak memory", "rss")
        self.fragmentation()
        self.micro()
        self.icount()
        self.safety()
        self.misuse()
        self.failures()
        self.setup()
        self.write_html()
        self.write_md()
        self.write_csv()

    def write_html(self):
        css = ("body{font-family:Helvetica,Arial,sans-serif;max-width:1400px;margin:1em auto;padding:0 1em;"
               "color:#222}table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13px}"
               "caption{text-align:left;font-weight:bold;padding:4px 0}"
               "td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}td.num{text-align:right}"
               "th{background:#f0f0f0}.good{background:#e3f4e1}.bad{background:#fbe3e0}"
               ".fail{background:#f6c4bd;color:#700;font-weight:bold}.na{color:#999}svg{max-width:100%;"
               "height:auto}.chart{margin:.5em 0}nav a{margin-right:1em}.meta{color:#444}")
        out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Allocator benchmarks</title>"
               f"<style>{css}</style></head><body><h1>Allocator benchmarks</h1>"]
        out += [f"<p class='meta'>{html.escape(x)}</p>" for x in self.header()]
        out.append("<nav>" + "".join(f"<a href='#s{i}'>{html.escape(t)}</a>"
                                     for i, (t, _, _, _) in enumerate(self.sections)) + "</nav>")
        page = next((p for p in VERIFY_PAGES if os.path.exists(p)), None)
        if page:
            out.append(f"<p><a href='{os.path.relpath(page, self.out)}'>The misuse matrix (verify): what each "
                       "allocator catches</a></p>")
        for i, (title, intro, svgs, tabs) in enumerate(self.sections):
            out.append(f"<h2 id='s{i}'>{html.escape(title)}</h2><p>{html.escape(intro)}</p>")
            for svg in svgs:
                with open(svg) as f:
                    body = f.read()
                body = body[body.find("<svg"):]
                out.append(f"<div class='chart'>{body}</div>")
            out += [t.html() for t in tabs]
        out.append("<h2>Files</h2><ul>" + "".join(
            f"<li><a href='{p}'>{p}</a></li>" for p in
            ["report.md", "results.csv", "summary.json", "raw/results.jsonl", "raw/meta.json", "raw/micro/",
             "raw/callgrind/", "raw/logs/", "charts/"]) + "</ul></body></html>")
        with open(os.path.join(self.out, "index.html"), "w") as f:
            f.write("\n".join(out))

    def write_md(self):
        out = ["# Allocator benchmarks", ""] + [x + "  " for x in self.header()] + [""]
        for title, intro, svgs, tabs in self.sections:
            out += [f"## {title}", "", intro, ""]
            out += [f"![{title}]({os.path.relpath(svg, self.out)})" for svg in svgs] + [""]
            for t in tabs:
                out += [t.md(), ""]
        with open(os.path.join(self.out, "report.md"), "w") as f:
            f.write("\n".join(out))

    def write_csv(self):
        s = self.s
        with open(os.path.join(self.out, "results.csv"), "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["workload", "allocator", "runs", "ok_runs", "status", "time_median_s", "time_min_s",
                         "time_max_s", "peak_rss_median_mib", f"time_vs_{s.ref}", f"time_vs_{s.ours}",
                         f"rss_vs_{s.ref}"])
            for w in s.timed:
                for a in s.allocs:
                    c = s.cell(w, a)
                    tm = c.time if c.ok else None
                    rs = c.rss_mib if c.ok else None
                    status = "ok" if c.ok else (c.failure or {}).get("status", "not run")
                    ratios = (s.ratio(w, a, s.ref), s.ratio(w, a, s.ours), s.ratio(w, a, s.ref, "rss_mib"))
                    wr.writerow([w, a, len(c.runs), len(c.ok_runs), status]
                                + ([f"{x:.6g}" for x in tm] if tm else ["", "", ""])
                                + [f"{rs[0]:.1f}" if rs else ""]
                                + [f"{x:.4f}" if x else "" for x in ratios])
        summ = {a: {"time_geomean_vs_" + s.ref: s.geomean(a, s.ref)[0],
                    "rss_geomean_vs_" + s.ref: s.geomean(a, s.ref, "rss_mib")[0],
                    "micro_geomean_vs_" + s.ref: s.micro_geomean(a, s.ref),
                    "workloads_counted": s.geomean(a, s.ref)[1]} for a in s.allocs}
        with open(os.path.join(self.out, "summary.json"), "w") as f:
            json.dump({"geomeans": summ, "icount": s.icount, "micro_ns": s.micro}, f, indent=1)


def build(out):
    try:
        Report(out).write()
        return True
    except Exception:                 # the report must say why it is missing
        traceback.print_exc(file=sys.stderr)
        return False
