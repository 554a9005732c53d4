"""Run every workload under every allocator, interleaved, and write the report.

    /usr/bin/python3 bench/py/runner.py --mode smoke|quick|full [--out reports]
        [--reps N] [--variant-reps N] [--scale X] [--only w1,w2] [--allocators a,b]
        [--report-only]

Order of work: real-program inputs are prepared once; then for each
repetition, for each workload, every allocator runs once, in an order rotated
per (repetition, workload) so that drift over the run hits all allocators
alike.  Variant rows (our heap with options, library @heap) run only in the
first `variant_reps` repetitions of the mode (full: fewer than the others, so
the full run fits; see tables.MODES); the report says so.  Every run is one line of raw/results.jsonl.  A failure in one cell is
recorded there and the run goes on.  Exit status: 0 when the report was
written and the harness itself worked; 1 when the harness broke (a table or
binary missing, an input that could not be prepared, the system allocator
failing a workload, or the report failing); 2 for bad arguments.
"""
import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cell      # noqa: E402
import machine   # noqa: E402
import report    # noqa: E402
import tables    # noqa: E402

REPO = os.path.dirname(tables.BENCH)


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def heaps_from_makefile():
    """$HEAPS as the top Makefile prints it (make -s print-heaps), for runs
    started without make or bench/run.sh."""
    try:
        return subprocess.run(["make", "-s", "--no-print-directory", "print-heaps"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def fmt_dur(s):
    s = int(s)
    return f"{s // 60}:{s % 60:02d}"


class Run:
    def __init__(self, args):
        self.mode = dict(tables.MODES[args.mode])
        if args.reps:
            self.mode["reps"] = args.reps
            self.mode["variant_reps"] = args.reps
        if args.variant_reps:
            self.mode["variant_reps"] = args.variant_reps
        if args.scale:
            self.mode["scale"] = args.scale
        self.mode["variant_reps"] = min(self.mode.get("variant_reps", self.mode["reps"]), self.mode["reps"])
        self.mode_name = args.mode
        self.out = os.path.abspath(args.out)
        self.raw = os.path.join(self.out, "raw")
        self.logs = os.path.join(self.raw, "logs")
        self.build = os.environ.get("BUILD", "build")
        self.bin = os.path.abspath(os.path.join(self.build, "bench"))
        self.work = os.path.abspath(os.path.join(self.build, "bench", "work", args.mode))
        self.harness_errors = []
        heaps = os.environ.get("HEAPS") or heaps_from_makefile()
        self.allocs = tables.load_allocators(heaps, os.environ.get("LIBDIR", os.path.join(self.build, "lib")))
        if args.allocators:
            keep = args.allocators.split(",")
            self.allocs = [a for a in self.allocs if a.name in keep]
        self.workloads = [w for w in tables.load_workloads()
                          if (args.mode != "smoke" or w.smoke) and (not args.only or w.name in args.only.split(","))]
        self.results = []
        self.timed_out = set()
        self.durations = {}

    # ---- set-up ------------------------------------------------------------
    def check_harness(self):
        for w in self.workloads:
            if w.kind in ("micro", "icount", "macro"):
                exe = tables.expand(w.command, self.bin, 1)[0]
                if not os.access(exe, os.X_OK):
                    raise SystemExit(f"bench: {exe} is missing: run `make bench-build` first")
        macros = [w for w in self.workloads if w.kind == "macro"]
        if macros:
            exe = tables.expand(macros[0].command, self.bin, 1)[0]
            known = subprocess.run([exe, "--list"], capture_output=True, text=True).stdout.split()
            for w in macros:
                name = tables.expand(w.command, self.bin, 1)[1]
                if name not in known:
                    raise SystemExit(f"bench: workload {w.name}: '{name}' is not in `macro --list`")
        if any(w.kind == "icount" for w in self.workloads) and not shutil.which("valgrind"):
            raise SystemExit("bench: valgrind not found (run `make deps`)")

    def fresh_output(self):
        for p in ("raw", "charts"):
            shutil.rmtree(os.path.join(self.out, p), ignore_errors=True)
        for p in ("index.html", "report.md", "results.csv"):
            if os.path.exists(os.path.join(self.out, p)):
                os.remove(os.path.join(self.out, p))
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(self.work, exist_ok=True)

    def env_for(self, a, extra=None):
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        env.update(a.env if a else {})
        env.update(extra or {})
        return env

    def prepare(self):
        for w in self.workloads:
            if w.kind != "real":
                continue
            wd = os.path.join(self.work, w.name)
            shutil.rmtree(wd, ignore_errors=True)
            os.makedirs(wd)
            log(f"prepare  {w.name}: input and reference answer (system allocator)")
            env = self.env_for(None, self.real_env("", wd))
            argv = ["bash"] + tables.expand(w.command, self.bin, self.mode["scale"]) + ["prepare"]
            o = cell.run(argv, env, self.mode["timeout"] * 3, os.path.join(self.logs, f"{w.name}.prepare"))
            if not o.ok:
                self.harness_errors.append(f"prepare {w.name}: {o.status}: {o.message}")
                log(f"  FAILED: {o.status}: {o.message}")

    def real_env(self, preload, wd):
        return {"BENCH_WORK": wd, "BENCH_SCALE": f"{self.mode['scale']:g}",
                "BENCH_PRELOAD": preload, "BENCH_PORT": str(free_port())}

    # ---- one cell ------------------------------------------------------------
    def run_cell(self, rep, w, a):
        rec = {"rep": rep, "workload": w.name, "kind": w.kind, "allocator": a.name}
        logbase = os.path.join(self.logs, f"{w.name}.{a.name}.r{rep}")
        if a.library and not os.path.exists(a.library):
            o = cell.Outcome("missing", message=f"library not found: {a.library}")
        elif (w.name, a.name) in self.timed_out:
            o = cell.Outcome("skipped", message="timed out in an earlier repetition")
        elif w.kind == "real" and any(e.startswith(f"prepare {w.name}:") for e in self.harness_errors):
            o = cell.Outcome("skipped", message="input could not be prepared")
        else:
            o = getattr(self, "cell_" + w.kind)(rep, w, a, logbase, rec)
        if o.status == "timeout":
            self.timed_out.add((w.name, a.name))
        rec.update(status=o.status, message=o.message, wall=round(o.wall, 6), user=round(o.user, 4),
                   sys=round(o.sys, 4), maxrss_kb=o.maxrss_kb, log=os.path.relpath(logbase, self.out))
        if o.ok:                       # keep the logs of an ok run only if it said something
            for base in (logbase, logbase + ".check"):
                err = base + ".err"
                if os.path.exists(err) and os.path.getsize(err) == 0:
                    for ext in (".out", ".err"):
                        os.remove(base + ext)
            if not os.path.exists(logbase + ".err"):
                rec["log"] = ""
        return rec

    def preload_env(self, a, extra=None):
        env = self.env_for(a, extra)
        if a.library:
            env["LD_PRELOAD"] = a.library
        return env

    def cell_macro(self, rep, w, a, logbase, rec):
        argv = tables.expand(w.command, self.bin, self.mode["scale"])
        o = cell.run(argv, self.preload_env(a), self.mode["timeout"], logbase)
        rec["metrics"] = cell.metrics(o.stdout)
        if o.ok and "time_s" in rec["metrics"]:
            o.wall = rec["metrics"]["time_s"]     # the workload left deliberate idle time out
        got = cell.provider(o.stdout)
        if o.ok and got != a.provider:
            o.status, o.message = "not-preloaded", f"malloc came from {got}, expected {a.provider}"
        return o

    def cell_real(self, rep, w, a, logbase, rec):
        wd = os.path.join(self.work, w.name)
        script = tables.expand(w.command, self.bin, self.mode["scale"])
        env = self.env_for(a, self.real_env(a.library, wd))
        o = cell.run(["bash"] + script + ["run"], env, self.mode["timeout"], logbase)
        if o.ok:
            c = cell.run(["bash"] + script + ["check"], self.env_for(None, self.real_env("", wd)),
                         60, logbase + ".check")
            if not c.ok:
                o.status = "wrong" if c.status in ("wrong", "ok") else c.status
                o.message = "check: " + c.message
        return o

    def cell_micro(self, rep, w, a, logbase, rec):
        jpath = os.path.join(self.raw, "micro", f"{a.name}.r{rep}.json")
        os.makedirs(os.path.dirname(jpath), exist_ok=True)
        argv = tables.expand(w.command, self.bin, self.mode["scale"]) + [
            f"--benchmark_out={jpath}", "--benchmark_out_format=json",
            f"--benchmark_min_time={self.mode['micro_min_time']}"]
        if self.mode["micro_filter"]:
            argv.append(f"--benchmark_filter={self.mode['micro_filter']}")
        o = cell.run(argv, self.preload_env(a), self.mode["timeout"] * 4, logbase)
        rec["micro"] = {}
        try:
            with open(jpath) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            if o.ok:
                o.status, o.message = "error", f"no benchmark JSON: {e}"
            return o
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                if o.ok:
                    o.status, o.message = "error", f"{b['name']}: {b.get('error_message', '')}"
            elif b.get("items_per_second"):
                rec["micro"][b["name"].replace("/real_time", "")] = 1e9 / b["items_per_second"]
        if o.ok and not rec["micro"]:
            o.status, o.message = "error", "no benchmark ran (filter matched nothing?)"
        return o

    def cell_icount(self, rep, w, a, logbase, rec):
        outdir = os.path.join(self.raw, "callgrind", a.name)
        os.makedirs(outdir, exist_ok=True)
        n = self.mode["icount_n"]
        argv = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--dump-instr=no",
                "--soname-synonyms=somalloc=nouserintercepts",
                f"--callgrind-out-file={outdir}/callgrind.out"] + \
            tables.expand(w.command, self.bin, self.mode["scale"]) + [str(n)]
        # Our heaps announce every block to memcheck when they see valgrind
        # (common/vg.h); off, callgrind counts their own instructions.  The
        # baselines ignore the variable.
        o = cell.run(argv, self.preload_env(a, {"ALLOC_VALGRIND": "0"}), self.mode["timeout"] * 2, logbase)
        rec["icount"] = {}
        for path in sorted(glob.glob(os.path.join(outdir, "callgrind.out*"))):
            desc, total = None, None
            with open(path, errors="replace") as f:
                for line in f:
                    if line.startswith("desc: Trigger: Client Request: "):
                        desc = line.split(": ", 3)[3].strip()
                    elif line.startswith(("summary:", "totals:")):
                        total = int(line.split()[1])
            if desc and total is not None:
                rec["icount"][desc] = total / n
        if o.ok and not rec["icount"]:
            o.status, o.message = "error", "callgrind wrote no per-scenario dumps"
        return o

    # ---- the whole run ---------------------------------------------------------
    def plan(self):
        cells = []
        n = len(self.allocs)
        for rep in range(self.mode["reps"]):
            for wi, w in enumerate(self.workloads):
                if w.kind == "icount" and rep > 0:
                    continue               # instruction counts do not drift
                k = (rep + wi) % n
                for a in self.allocs[k:] + self.allocs[:k]:
                    if a.base and rep >= self.mode["variant_reps"]:
                        continue           # variant rows: fewer repetitions
                    cells.append((rep, w, a))
        return cells

    def eta(self, cells, done, elapsed):
        """Seconds left: each remaining cell costs its workload's mean so far."""
        if done == 0:
            return 0
        est = {w: sum(d) / len(d) for w, d in self.durations.items()}
        return sum(est.get(w.name, elapsed / done) for _, w, _ in cells[done:])

    def execute(self):
        cells = self.plan()
        t0 = time.monotonic()
        path = os.path.join(self.raw, "results.jsonl")
        nvar = sum(1 for a in self.allocs if a.base)
        vr = (f" ({nvar} variant rows x {self.mode['variant_reps']})"
              if nvar and self.mode["variant_reps"] != self.mode["reps"] else "")
        log(f"bench: {len(cells)} runs: {len(self.workloads)} workloads x {len(self.allocs)} allocators "
            f"x {self.mode['reps']} repetitions{vr} (mode {self.mode_name}, scale {self.mode['scale']:g})")
        with open(path, "w") as f:
            for i, (rep, w, a) in enumerate(cells):
                c0 = time.monotonic()
                rec = self.run_cell(rep, w, a)
                rec["cell_s"] = round(time.monotonic() - c0, 3)   # the whole cell, checks included
                if rec["status"] not in ("missing", "skipped"):
                    self.durations.setdefault(w.name, []).append(rec["cell_s"])
                f.write(json.dumps(rec) + "\n")
                f.flush()
                self.results.append(rec)
                el = time.monotonic() - t0
                left = self.eta(cells, i + 1, el)
                what = (f"{rec['wall']:7.2f} s {rec['maxrss_kb'] / 1024:7.1f} MiB" if rec["status"] == "ok"
                        else f"{rec['status'].upper()}: {rec['message'][:70]}")
                log(f"[{i + 1:4d}/{len(cells)} {100 * (i + 1) // len(cells):3d}% {fmt_dur(el)} done "
                    f"~{fmt_dur(left)} left] rep {rep + 1}/{self.mode['reps']} "
                    f"{w.name:<14} {a.name:<15} {what}")
        glibc_fail = [r for r in self.results if r["allocator"] == "glibc" and r["status"] != "ok"]
        for r in glibc_fail:
            self.harness_errors.append(f"system allocator failed {r['workload']}: {r['status']}: {r['message']}")
        return time.monotonic() - t0

    def meta(self, started, seconds):
        return {
            "mode": self.mode_name, "reps": self.mode["reps"], "variant_reps": self.mode["variant_reps"],
            "scale": self.mode["scale"],
            "micro_min_time": self.mode["micro_min_time"], "icount_n": self.mode["icount_n"],
            "started": started, "seconds": round(seconds, 1),
            "allocators": [vars(a) for a in self.allocs],
            "workloads": [vars(w) for w in self.workloads],
            "machine": machine.describe(self.allocs, REPO),
            "harness_errors": self.harness_errors,
        }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=sorted(tables.MODES), default="full")
    ap.add_argument("--out", default="reports")
    ap.add_argument("--reps", type=int, default=0, help="repetitions (default: the mode's)")
    ap.add_argument("--variant-reps", type=int, default=0,
                    help="repetitions of the variant rows (default: the mode's; --reps sets both)")
    ap.add_argument("--scale", type=float, default=0, help="workload size (default: the mode's)")
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--allocators", default="", help="comma-separated allocator names")
    ap.add_argument("--report-only", action="store_true", help="rebuild the report from raw/ and stop")
    args = ap.parse_args(argv)
    if args.report_only:
        return 0 if report.build(os.path.abspath(args.out)) else 1
    try:
        run = Run(args)
    except tables.TableError as e:
        log(f"bench: {e}")
        return 1
    if not run.workloads or not run.allocs:
        log("bench: nothing to run (check --only / --allocators)")
        return 2
    run.check_harness()
    run.fresh_output()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    missing = [a for a in run.allocs if a.library and not os.path.exists(a.library)]
    for a in missing:
        log(f"bench: WARNING: {a.name}: {a.library} does not exist; its cells will say so")
    t0 = time.monotonic()
    load0 = machine.loadavg()
    run.prepare()
    run.execute()
    meta = run.meta(started, time.monotonic() - t0)
    meta["loadavg"] = [load0, machine.loadavg()]
    with open(os.path.join(run.raw, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    ok = report.build(run.out)
    for e in run.harness_errors:
        log(f"bench: HARNESS ERROR: {e}")
    log(f"bench: report {'written to ' + os.path.join(run.out, 'index.html') if ok else 'FAILED'} "
        f"after {fmt_dur(time.monotonic() - t0)}")
    return 0 if ok and not run.harness_errors else 1


if __name__ == "__main__":
    sys.exit(main())
