"""From raw results to the numbers the report shows.

Cells: (workload, allocator) -> the runs of that pair.  A cell is "ok" only
if every run of it was ok; its time is the median over runs (with min and
max), its memory the median peak RSS.  Ratios compare medians measured in
the same run.  The geometric mean of an allocator is taken over the timed
workloads (macro and real) where both it and the reference have ok cells; it
says how many of the workloads that was.
"""
import math
import statistics

TIMED = ("macro", "real")


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


class Cell:
    def __init__(self):
        self.runs = []

    @property
    def ok_runs(self):
        return [r for r in self.runs if r["status"] == "ok"]

    @property
    def ok(self):
        return bool(self.runs) and len(self.ok_runs) == len(self.runs)

    @property
    def failure(self):
        """The first failed run, or None."""
        return next((r for r in self.runs if r["status"] != "ok"), None)

    def _stat(self, key):
        v = [r[key] for r in self.ok_runs]
        return (statistics.median(v), min(v), max(v)) if v else None

    @property
    def time(self):
        return self._stat("wall")

    @property
    def rss_mib(self):
        s = self._stat("maxrss_kb")
        return tuple(x / 1024 for x in s) if s else None

    def metric(self, key):
        v = [r.get("metrics", {}).get(key) for r in self.ok_runs]
        v = [x for x in v if x is not None]
        return statistics.median(v) if v else None


class Summary:
    def __init__(self, results, meta):
        self.meta = meta
        self.allocs = [a["name"] for a in meta["allocators"]]
        self.workloads = meta["workloads"]
        self.timed = [w["name"] for w in self.workloads if w["kind"] in TIMED]
        heaps = [a["name"] for a in meta["allocators"] if a["heap"] and not a["base"]]
        self.ref = "glibc" if "glibc" in self.allocs else self.allocs[0]
        self.ours = "unsafe" if "unsafe" in heaps else (heaps[0] if heaps else None)
        self.cells = {}
        for r in results:
            self.cells.setdefault((r["workload"], r["allocator"]), Cell()).runs.append(r)
        self._micro(results)
        self._icount(results)

    def cell(self, w, a):
        return self.cells.get((w, a), Cell())

    # ---- ratios and means over the timed workloads -----------------------------
    def ratio(self, w, a, ref, what="time"):
        c, r = self.cell(w, a), self.cell(w, ref)
        if not ref or not c.ok or not r.ok:
            return None
        x, y = getattr(c, what)[0], getattr(r, what)[0]
        return x / y if y else None

    def geomean(self, a, ref, what="time"):
        """(geometric mean of ratios, workloads counted, workloads timed)."""
        rs = [self.ratio(w, a, ref, what) for w in self.timed]
        got = [x for x in rs if x]
        return geomean(got), len(got), len(self.timed)

    def spread(self):
        """Relative spread (max-min)/median of every ok timed cell."""
        out = []
        for w in self.timed:
            for a in self.allocs:
                c = self.cell(w, a)
                if c.ok and len(c.runs) > 1:
                    m, lo, hi = c.time
                    out.append((hi - lo) / m if m else 0.0)
        return out

    def failures(self):
        return [r for r in sorted(
            (r for c in self.cells.values() for r in c.runs if r["status"] != "ok"),
            key=lambda r: (r["workload"], r["allocator"], r["rep"]))]

    # ---- micro-benchmarks -------------------------------------------------------
    def _micro(self, results):
        per = {}
        for r in results:
            if r["kind"] == "micro" and r["status"] == "ok":
                for name, ns in r.get("micro", {}).items():
                    per.setdefault(name, {}).setdefault(r["allocator"], []).append(ns)
        self.micro_names = list(per)          # registration order of the micro binary
        self.micro = {n: {a: statistics.median(v) for a, v in d.items()} for n, d in per.items()}

    def micro_ratio(self, name, a, ref):
        d = self.micro.get(name, {})
        return d[a] / d[ref] if a in d and ref in d and d[ref] else None

    def micro_groups(self):
        """[(family, threads)] in table order."""
        seen = []
        for n in self.micro_names:
            fam, thr = _micro_key(n)[0], _micro_key(n)[2]
            if (fam, thr) not in seen:
                seen.append((fam, thr))
        return seen

    def micro_group_geomean(self, fam, thr, a, ref):
        return geomean([self.micro_ratio(n, a, ref) for n in self.micro_names
                        if _micro_key(n)[0] == fam and _micro_key(n)[2] == thr])

    def micro_geomean(self, a, ref):
        return geomean([self.micro_ratio(n, a, ref) for n in self.micro_names])

    # ---- instruction counts -----------------------------------------------------
    def _icount(self, results):
        self.icount = {}
        for r in results:
            if r["kind"] == "icount" and r["status"] == "ok":
                for scen, ir in r.get("icount", {}).items():
                    self.icount.setdefault(scen, {})[r["allocator"]] = ir
        self.icount_names = list(self.icount)


def _micro_key(name):
    """'malloc_free/64/threads:2' -> (family, size, threads, name) for sorting."""
    parts = name.split("/")
    fam = parts[0]
    size = 0
    if len(parts) > 1:
        digits = parts[1].split("-")[0]
        size = int(digits) if digits.isdigit() else 0
    thr = 1
    for p in parts:
        if p.startswith("threads:"):
            thr = int(p.split(":")[1])
    return fam, size, thr, name
