"""The two tables (allocators, workloads) and the run modes.

Everything the runner and the report know about allocators and workloads is
read from bench/allocators.tsv, $HEAPS and bench/workloads.tsv here; nothing
else keeps a copy.
"""
import os
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Size of a run.  scale multiplies every workload's work (1 = the size each
# workload is written for, about 1-2 s under glibc on 2 cores).  variant_reps:
# repetitions of the variant rows (our heaps with options, library @heap);
# left out, the mode's reps.  The full mode runs at half size, variants once:
# 25 workloads x 18 allocators at scale 1 and 5 repetitions each would
# take about 2.2 hours (bench/py/estimate.py; figures in bench/README.md),
# this at about 37 minutes.  `--scale 1 --reps 3` is about 47.
MODES = {
    "smoke": dict(reps=1, scale=0.02, micro_min_time=0.002, icount_n=2000, timeout=60,
                  micro_filter="^(malloc_free/(64|4096)|cross_thread/64)/real_time/threads:(1|2)$"),
    "quick": dict(reps=3, scale=0.25, micro_min_time=0.01, icount_n=20000, timeout=120,
                  micro_filter=None),
    "full": dict(reps=5, variant_reps=3, scale=0.5, micro_min_time=0.04, icount_n=100000, timeout=300,
                 micro_filter=None),
}


class TableError(Exception):
    pass


@dataclass
class Allocator:
    name: str
    library: str          # "" = no preload (system allocator)
    env: dict = field(default_factory=dict)
    note: str = ""
    heap: str = ""        # our heap this row runs ("" for baselines)
    base: str = ""        # for a variant: the plain heap's allocator name

    @property
    def provider(self):
        """File name that must provide malloc when this allocator is active."""
        return os.path.basename(self.library) if self.library else "libc.so.6"


@dataclass
class Workload:
    name: str
    kind: str
    smoke: bool
    command: str
    what: str


def _rows(path, ncols, optional=0):
    """Rows of ncols columns; the last `optional` ones may be left off ("")."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if not ncols - optional <= len(cols) <= ncols:
                want = f"{ncols - optional} to {ncols}" if optional else str(ncols)
                raise TableError(f"{path}:{lineno}: expected {want} tab-separated columns, got {len(cols)}")
            yield lineno, [c.strip() for c in cols] + [""] * (ncols - len(cols))


def _env(text, where):
    env = {}
    if text == "-":
        return env
    for pair in text.split():
        k, sep, v = pair.partition("=")
        if not sep or not k:
            raise TableError(f"{where}: bad environment entry '{pair}' (want NAME=value)")
        env[k] = v
    return env


USES = ("bench", "verify")


def load_allocators(heaps, libdir, path=None, use="bench"):
    """Baselines from the table, then each heap in $HEAPS, then heap variants;
    only the rows whose "for" column names `use` (an empty column: all)."""
    path = path or os.path.join(BENCH, "allocators.tsv")
    heaps = heaps.split()
    base, variants, libs = [], [], {}
    for lineno, (name, lib, env, note, uses) in _rows(path, 5, optional=1):
        where = f"{path}:{lineno}"
        uses = uses.split(",") if uses and uses != "-" else list(USES)
        bad = [u for u in uses if u not in USES]
        if bad:
            raise TableError(f"{where}: unknown use '{bad[0]}' (want {' or '.join(USES)})")
        if lib.startswith("="):         # the library of an earlier row
            if lib[1:] not in libs:
                raise TableError(f"{where}: '{lib}' names no earlier row")
            lib = libs[lib[1:]]
        libs[name] = lib
        if use not in uses:
            continue
        if lib.startswith("@"):
            heap = lib[1:]
            if heap not in heaps:
                continue
            variants.append(Allocator(name, heap_library(libdir, heap), _env(env, where), note, heap, heap))
        else:
            base.append(Allocator(name, "" if lib == "-" else lib, _env(env, where), note))
    ours = [Allocator(h, heap_library(libdir, h), {}, f"alloc_{h} (this project)", h) for h in heaps]
    allocs = base + ours + variants
    names = [a.name for a in allocs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise TableError(f"{path}: duplicate allocator names: {', '.join(sorted(dup))}")
    return allocs


def heap_library(libdir, heap):
    return os.path.abspath(os.path.join(libdir, f"liballoc_{heap}.so"))


KINDS = ("micro", "icount", "macro", "real")


def load_workloads(path=None):
    path = path or os.path.join(BENCH, "workloads.tsv")
    out = []
    for lineno, (name, kind, smoke, cmd, what) in _rows(path, 5):
        if kind not in KINDS:
            raise TableError(f"{path}:{lineno}: unknown kind '{kind}' (use {', '.join(KINDS)})")
        if smoke not in ("y", "-"):
            raise TableError(f"{path}:{lineno}: smoke column must be 'y' or '-'")
        out.append(Workload(name, kind, smoke == "y", cmd, what))
    names = [w.name for w in out]
    if len(set(names)) != len(names):
        raise TableError(f"{path}: duplicate workload names")
    return out


def expand(cmd, build_bench, scale):
    """Fill the placeholders of a workload command; returns argv."""
    return cmd.format(bin=build_bench, src=BENCH, scale=f"{scale:g}").split()
