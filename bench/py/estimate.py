"""How long a run would take, from the cells earlier runs recorded.

    /usr/bin/python3 bench/py/estimate.py --mode full [--reps N] [--variant-reps N]
        [--scale X] [--only w,..] [--allocators a,..] RAWDIR [RAWDIR ...]

Plans the run the way runner.py would (same tables, same modes, same
options) and gives every planned cell a cost taken from the raw/ directories
of earlier runs (results.jsonl + meta.json):

- a cell's cost is what the runner spent on it, `cell_s` (checks included);
  runs older than that field count their wall time (or the workload's own
  inner_time_s when it left idle time out of the wall time) plus the run's
  average per-cell overhead, (run seconds - sum of walls) / cells;
- a cell measured at the planned scale is used as it is (mean over runs);
- a cell measured only at another scale is scaled by the workload's factor,
  glibc's mean cost at the planned scale over glibc's at that scale (so the
  planned scale must have glibc measured for that workload: run
  `bench/run.sh --allocators glibc --reps 1` in that mode first);
- a cell nobody measured costs the workload's mean over the allocators that
  were, and is counted as guessed.
The run's fixed costs (inputs prepared, report) are taken from a source at
the planned scale: its seconds minus its cells' cost.
Nothing is run.  Prints the total and the share per workload and per kind
of allocator row.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner   # noqa: E402


def load(rawdir):
    with open(os.path.join(rawdir, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(rawdir, "results.jsonl")) as f:
        res = [json.loads(line) for line in f if line.strip()]
    walls = sum(r["wall"] for r in res)
    have_cell = all("cell_s" in r for r in res)
    over = 0.0 if have_cell else max(0.0, (meta["seconds"] - walls) / max(1, len(res)))
    costs = {}
    for r in res:
        if r["status"] in ("missing", "skipped"):
            continue
        c = r["cell_s"] if have_cell else max(r["wall"], r.get("metrics", {}).get("inner_time_s", 0)) + over
        costs.setdefault((r["workload"], r["allocator"]), []).append(c)
    fixed = meta["seconds"] - sum(sum(v) for v in costs.values()) if have_cell else None
    return meta["scale"], {k: statistics.mean(v) for k, v in costs.items()}, fixed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="full")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--variant-reps", type=int, default=0)
    ap.add_argument("--scale", type=float, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("--allocators", default="")
    ap.add_argument("raw", nargs="+", help="raw/ directories of earlier runs")
    args = ap.parse_args(argv)
    run = runner.Run(argparse.Namespace(mode=args.mode, reps=args.reps, variant_reps=args.variant_reps,
                                        scale=args.scale,
                                        out="/nonexistent", allocators=args.allocators, only=args.only))
    scale = run.mode["scale"]
    at, other, fixed = {}, {}, []
    for d in args.raw:
        sc, costs, fx = load(d)
        (at if sc == scale else other.setdefault(sc, {})).update(costs)
        if sc == scale and fx is not None:
            fixed.append(fx)
    total, guessed, by_w, by_kind = 0.0, 0, {}, {"baselines and plain heaps": 0.0, "variant rows": 0.0}
    for rep, w, a in run.plan():
        key = (w.name, a.name)
        cost = at.get(key)
        if cost is None:
            for sc, costs in other.items():
                g_at, g_src = at.get((w.name, "glibc")), costs.get((w.name, "glibc"))
                if key in costs and g_at and g_src:
                    cost = costs[key] * g_at / g_src
                    break
        if cost is None:
            known = [v for (wn, _), v in at.items() if wn == w.name]
            if not known:
                raise SystemExit(f"estimate: no cost for workload {w.name} at scale {scale:g}")
            cost, guessed = statistics.mean(known), guessed + 1
        total += cost
        by_w[w.name] = by_w.get(w.name, 0.0) + cost
        by_kind["variant rows" if a.base else "baselines and plain heaps"] += cost
    fx = statistics.mean(fixed) if fixed else 0.0
    n = len(run.plan())
    print(f"estimate: mode {args.mode} (scale {scale:g}, {run.mode['reps']} reps, variant rows "
          f"{run.mode['variant_reps']}): {n} cells, {len(run.workloads)} workloads x {len(run.allocs)} allocators")
    for name, c in sorted(by_w.items(), key=lambda x: -x[1]):
        print(f"  {name:<16} {c / 60:6.1f} min")
    for k, c in by_kind.items():
        print(f"  {k:<26} {c / 60:6.1f} min")
    print(f"  fixed (prepare, report)    {fx / 60:6.1f} min" + ("" if fixed else " (no source at this scale had cell_s)"))
    print(f"  total                      {(total + fx) / 60:6.1f} min"
          + (f"; {guessed} cells guessed from their workload's mean" if guessed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
