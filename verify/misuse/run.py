"""The misuse matrix: every case of build/verify/misuse x every allocator.

    /usr/bin/python3 verify/misuse/run.py [--runs N] [--timeout S] [--jobs J]
        [--allocators a,b] [--cases glob] [--out DIR]
    /usr/bin/python3 verify/misuse/run.py --claims HEAP [--out DIR]
    /usr/bin/python3 verify/misuse/run.py --list-allocators [--use bench|verify]
    /usr/bin/python3 verify/misuse/run.py --selftest      (known cells: selftest.tsv)

Allocators: the rows of bench/allocators.tsv marked for verify (the one list of
baselines; see its header) and every heap in $HEAPS ($LIBDIR/liballoc_<h>.so),
read by bench/py/tables.py.  Each run: its own session (process group), killed
whole after --timeout seconds, no core dumps, the allocator preloaded into the
case program only, `-l <provider>` so the program exits 2 unless malloc really
resolves into the preloaded library.

Outcome of one run (stderr counts only after the program's "--- misuse ---"):
  detected   killed by a signal or non-zero exit, with a diagnostic on stderr
             (or the bad request refused: calloc overflow returned NULL)
  fault      SIGSEGV/SIGBUS, no message
  stopped    another signal (abort, trap) or exit status, no message
  warned     a diagnostic on stderr, but the program ran on and the probe was clean
  silent     ran on, no message, the reuse probe saw nothing wrong
  corrupted  the reuse probe hit (see main.c), or the heap faulted during it
  zeroed     freed memory read back as zeros or poison
  hang       still running after --timeout seconds
  n/a        the API is absent (C23 free_sized in glibc 2.36, ...)
  error      harness problem: preload not in effect, bad case name
A class is caught when every applicable run of every case in it is detected,
fault, stopped or zeroed.

Writes to --out (default $BUILD/verify): misuse_results.json (every run) and
misuse_matrix.json ({allocator: {class: caught}}, read by bench/py/report.py).
--claims HEAP checks alloc_HEAP/claims.tsv against misuse_results.json: exit 1
with one "FAIL" line per claim that is not met.
"""
import argparse
import concurrent.futures as cf
import fnmatch
import json
import os
import resource
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bench", "py"))
import tables  # noqa: E402

MARK = "--- misuse ---"
CAUGHT = ("detected", "fault", "stopped", "zeroed")
OUTCOMES = ("detected", "fault", "stopped", "zeroed", "warned", "silent", "corrupted", "hang", "n/a", "error")
HOW = {"abort": ("detected",), "fault": ("detected", "fault"), "zeroed": ("zeroed", "detected", "fault")}
EXIT = {0: "silent", 3: "corrupted", 4: "zeroed", 6: "detected", 77: "n/a", 2: "error"}


def env_dirs():
    build = os.path.abspath(os.environ.get("BUILD", os.path.join(REPO, "build")))
    libdir = os.path.abspath(os.environ.get("LIBDIR", os.path.join(build, "lib")))
    heaps = os.environ.get("HEAPS")
    if heaps is None:               # run by hand: the one list lives in the Makefile
        with open(os.path.join(REPO, "Makefile")) as f:
            heaps = next((ln.split("=", 1)[1] for ln in f if ln.startswith("HEAPS ")), "")
    return build, libdir, heaps.strip()


def allocators(heaps, libdir, use="verify"):
    out = []
    for a in tables.load_allocators(heaps, libdir, use=use):
        kind = "variant" if a.base else "ours" if a.heap else "baseline"
        out.append(dict(name=a.name, library=a.library, env=a.env, provider=a.provider, kind=kind,
                        heap=a.heap, note=a.note))
    return out


def list_cases(prog):
    res = subprocess.run([prog, "--list"], capture_output=True, text=True, check=True)
    return [dict(zip(("name", "cls", "what"), ln.split("\t"))) for ln in res.stdout.splitlines() if ln]


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLOC_", "MALLOC_", "SCUDO_", "MIMALLOC_", "TCMALLOC_", "JE_", "LD_PRELOAD",
                                "GLIBC_TUNABLES"))}
    env["MALLOC_CONF"] = ""  # jemalloc reads it; empty = defaults
    return env


def run_one(prog, alloc, case, timeout):
    env = clean_env()
    env.update(alloc["env"])
    if alloc["library"]:
        env["LD_PRELOAD"] = alloc["library"]
    argv = [prog, "-l", alloc["provider"], case]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        rc, hung = p.returncode, False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc, hung = p.returncode, True
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    msg_part = err.split(MARK + "\n", 1)
    marked = len(msg_part) == 2
    diag = [ln.strip() for ln in (msg_part[1] if marked else err).splitlines() if ln.strip()]
    first = diag[0][:300] if diag else ""
    if hung:
        outcome = "hang"
    elif rc < 0:
        sig = -rc
        if diag:
            outcome = "detected"
        else:
            outcome = "fault" if sig in (signal.SIGSEGV, signal.SIGBUS) else "stopped"
        first = first or f"killed by {signal.Signals(sig).name}"
    elif not marked:
        outcome = "error"
        first = first or (out.strip().splitlines() or ["no output"])[-1]
    elif rc in EXIT:
        outcome = EXIT[rc]
        if outcome == "silent" and diag:
            outcome = "warned"
    else:
        outcome = "detected" if diag else "stopped"
        first = first or f"exit status {rc}"
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return dict(outcome=outcome, rc=rc, first=first or last, stdout=last[:300],
                seconds=round(time.monotonic() - t0, 3))


def cell_summary(runs):
    """'silent' or 'silent 2/3, corrupted 1/3'."""
    counts = {}
    for r in runs:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    n = len(runs)
    return ", ".join(f"{o} {c}/{n}" for o, c in sorted(counts.items(), key=lambda x: -x[1]))


def class_caught(cases, cells):
    """{class: True/False/None}; None = no applicable case."""
    out = {}
    for c in cases:
        runs = [r for r in cells[c["name"]] if r["outcome"] != "n/a"]
        if not runs:
            out.setdefault(c["cls"], None)
            continue
        ok = all(r["outcome"] in CAUGHT for r in runs)
        prev = out.get(c["cls"])
        out[c["cls"]] = ok if prev is None else prev and ok
    return out


def run_matrix(args):
    build, libdir, heaps = env_dirs()
    prog = args.prog or os.path.join(build, "verify", "misuse")
    if not os.access(prog, os.X_OK):
        print(f"misuse: {prog} missing (make verify-build)", file=sys.stderr)
        return 2
    cases = [c for c in list_cases(prog) if fnmatch.fnmatch(c["name"], args.cases)]
    allocs = allocators(heaps, libdir)
    if args.allocators:
        keep = args.allocators.split(",")
        allocs = [a for a in allocs if a["name"] in keep or (a["kind"] == "ours" and "ours" in keep)]
    missing = [a for a in allocs if a["library"] and not os.path.exists(a["library"])]
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    jobs = [(a, c, i) for i in range(args.runs) for a in allocs for c in cases]
    results = {a["name"]: {c["name"]: [] for c in cases} for a in allocs}
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = {ex.submit(run_one, prog, a, c["name"], args.timeout): (a, c) for a, c, _ in jobs}
        for f in cf.as_completed(futs):
            a, c = futs[f]
            results[a["name"]][c["name"]].append(f.result())
    secs = time.monotonic() - t0
    matrix = {}
    for a in allocs:
        caught = class_caught(cases, results[a["name"]])
        matrix[a["name"]] = {k: bool(v) for k, v in caught.items() if v is not None}
    doc = dict(runs=args.runs, timeout=args.timeout, seconds=round(secs, 1), date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               cases=cases, allocators=allocs, results=results, outcomes=OUTCOMES, caught_outcomes=CAUGHT)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "misuse_results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(args.out, "misuse_matrix.json"), "w") as f:
        json.dump(matrix, f, indent=1)
    # Totals per allocator, one line each (the test log keeps them).
    for a in allocs:
        tot = {}
        for runs in results[a["name"]].values():
            for r in runs:
                tot[r["outcome"]] = tot.get(r["outcome"], 0) + 1
        ncls = sum(matrix[a["name"]].values())
        print(f"{a['name']:18} classes caught {ncls:2}/{len(matrix[a['name']])}  " +
              " ".join(f"{o} {tot[o]}" for o in OUTCOMES if o in tot))
    print(f"misuse: {len(cases)} cases x {len(allocs)} allocators x {args.runs} runs in {secs:.0f} s; "
          f"written to {args.out}/misuse_results.json")
    errors = [(a, c, r) for a, cs in results.items() for c, rs in cs.items() for r in rs if r["outcome"] == "error"]
    for a, c, r in errors[:20]:
        print(f"FAIL misuse/{a}/{c}: harness error: {r['first']}")
    for a in missing:
        print(f"FAIL misuse/{a['name']}: library missing: {a['library']}")
    return 1 if errors or missing else 0


# ---- claims -------------------------------------------------------------------------
def read_claims(path):
    """[(lineno, class, how, message)]; the format is in each table's header."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 3:
                raise ValueError(f"{path}:{n}: expected 3 tab-separated columns (class, how, message), got {len(cols)}")
            rows.append((n, *[c.strip() for c in cols]))
    return rows


def check_claims(args):
    heap = args.claims
    path = os.path.join(REPO, f"alloc_{heap}", "claims.tsv")
    res_path = os.path.join(args.out, "misuse_results.json")
    if not os.path.exists(path):
        print(f"FAIL claims/{heap}: no claims table {path}")
        return 1
    with open(res_path) as f:
        doc = json.load(f)
    try:
        claims = read_claims(path)
    except ValueError as e:
        print(f"FAIL claims/{heap}: {e}")
        return 1
    cells = doc["results"].get(heap)
    if cells is None:
        print(f"FAIL claims/{heap}: {heap} is not in {res_path}")
        return 1
    by_cls = {}
    for c in doc["cases"]:
        by_cls.setdefault(c["cls"], []).append(c["name"])
    bad = 0
    for n, cls, how, msg in claims:
        where = f"{path}:{n}"
        if cls not in by_cls:
            print(f"FAIL claims/{heap}: {where}: class '{cls}' has no misuse program (see misuse --list)")
            bad += 1
            continue
        if how not in HOW:
            print(f"FAIL claims/{heap}: {where}: how '{how}' is not one of {', '.join(HOW)}")
            bad += 1
            continue
        applicable, before = 0, bad
        for case in by_cls[cls]:
            runs = [r for r in cells.get(case, []) if r["outcome"] != "n/a"]
            applicable += len(runs)
            for r in runs:
                if r["outcome"] not in HOW[how]:
                    kind = "CORRUPTED" if r["outcome"] == "corrupted" else "missed"
                    print(f"FAIL claims/{heap}: {cls} ({how}) {kind}: {case} was {r['outcome']}: {r['first']}")
                    bad += 1
                elif msg not in ("", "-") and r["outcome"] == "detected" and msg not in r["first"]:
                    print(f"FAIL claims/{heap}: {cls}: {case}: message '{r['first']}' lacks '{msg}'")
                    bad += 1
        if not applicable:
            print(f"FAIL claims/{heap}: {cls}: claimed, but no case of it applies to {heap}")
            bad += 1
        elif bad == before:
            print(f"ok {heap}: {cls} ({how}) in {len(by_cls[cls])} cases")
    print(f"claims/{heap}: {len(claims)} claims, {bad} not met")
    return 1 if bad else 0


# ---- self-test: known cells (selftest.tsv) -------------------------------------------
def selftest(args):
    build, libdir, heaps = env_dirs()
    prog = args.prog or os.path.join(build, "verify", "misuse")
    by_name = {a["name"]: a for a in allocators(heaps, libdir)}
    path = os.path.join(HERE, "selftest.tsv")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    bad = n = 0
    with open(path) as f:
        rows = [ln.rstrip("\n").split("\t") for ln in f if ln.strip() and not ln.startswith("#")]
    for cols in rows:
        if len(cols) != 5:
            print(f"FAIL selftest: {path}: bad row {cols}")
            bad += 1
            continue
        name, envs, case, want, text = cols
        lie = name.startswith("!")
        a = by_name.get(name.lstrip("!"))
        if a is None:
            print(f"N/A selftest {name} {case}: no allocator {name.lstrip('!')} in this build")
            continue
        a = dict(a, env=dict(a["env"]))
        if envs != "-":
            a["env"].update(kv.split("=", 1) for kv in envs.split())
        if lie:  # a provider the library is not: the program must refuse to run
            a["provider"] = "no-such-malloc.so"
        r = run_one(prog, a, case, min(args.timeout, 2.0))
        n += 1
        seen = r["first"] + " | " + r["stdout"]
        if r["outcome"] != want or (text != "-" and text not in seen):
            print(f"FAIL selftest {name} {envs} {case}: got {r['outcome']} ({seen}), want {want}"
                  + (f" with '{text}'" if text != "-" else ""))
            bad += 1
        else:
            print(f"ok {name} {envs} {case}: {r['outcome']}")
    print(f"selftest: {n} cells, {bad} wrong")
    return 1 if bad or not n else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build, libdir, heaps = env_dirs()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--allocators", default="", help="comma-separated names; 'ours' = every heap in $HEAPS")
    ap.add_argument("--cases", default="*", help="shell glob on case names")
    ap.add_argument("--prog", default="")
    ap.add_argument("--out", default=os.path.join(build, "verify"))
    ap.add_argument("--claims", metavar="HEAP")
    ap.add_argument("--list-allocators", action="store_true")
    ap.add_argument("--selftest", action="store_true", help="check the cells of selftest.tsv")
    ap.add_argument("--use", default="verify", choices=tables.USES)
    args = ap.parse_args()
    if args.list_allocators:  # name<TAB>library or -<TAB>kind<TAB>env (space-separated)
        for a in allocators(heaps, libdir, args.use):
            env = " ".join(f"{k}={v}" for k, v in a["env"].items())
            print(f"{a['name']}\t{a['library'] or '-'}\t{a['kind']}\t{env or '-'}")
        return 0
    if args.claims:
        return check_claims(args)
    if args.selftest:
        return selftest(args)
    return run_matrix(args)


if __name__ == "__main__":
    sys.exit(main())
