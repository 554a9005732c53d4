"""Run one command as one measured cell: wall time, CPU time, peak RSS, and
what went wrong if anything did.

Peak RSS comes from /usr/bin/time (%M): the ru_maxrss of the command, the
largest resident size of it or of any descendant it waited for (for a script,
the program it ran).  It is not taken from our own wait4(): Linux carries a
process's high-water RSS across exec, so a child forked from this Python
process would report at least the runner's own size.  Each cell runs in its
own process group, so a timeout or a left-over server can be ended without
touching anything else.
"""
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

WRONG_EXIT = 3          # macro workloads and real checks: wrong answer
TIME = "/usr/bin/time"  # GNU time (Debian package "time")


@dataclass
class Outcome:
    status: str         # ok | wrong | crash | error | timeout | not-preloaded | missing | skipped
    wall: float = 0.0
    user: float = 0.0
    sys: float = 0.0
    maxrss_kb: int = 0
    rc: int = 0
    message: str = ""
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self):
        return self.status == "ok"


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def tail(text, lines=4, chars=400):
    """The last lines of stderr worth reading: a WRONG: line if there is one
    (the workload's own verdict), else the last lines that are not
    valgrind's '==pid==' chatter."""
    all_lines = [ln for ln in text.splitlines() if ln.strip() and not re.match(r"==\d+==", ln)]
    verdict = [ln[len("WRONG: "):] for ln in all_lines if ln.startswith("WRONG: ")]
    keep = verdict[-1:] if verdict else all_lines[-lines:]
    s = " | ".join(keep)
    return s if len(s) <= chars else "..." + s[-chars:]


def _signame(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def run(argv, env, timeout, logbase, cwd=None):
    """Run argv; stdout/stderr go to logbase.out/.err.  Returns an Outcome
    whose status is ok, timeout, crash or error (callers refine it)."""
    out_path, err_path, rss_path = logbase + ".out", logbase + ".err", logbase + ".rss"
    argv = [TIME, "-f", "%M", "-o", rss_path] + list(argv)
    timed_out = threading.Event()
    t0 = time.monotonic()
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        try:
            p = subprocess.Popen(argv, env=env, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                 cwd=cwd, start_new_session=True)
        except OSError as e:
            return Outcome("error", message=f"cannot start {argv[0]}: {e}")

    def expire():
        timed_out.set()
        _kill_group(p.pid)

    timer = threading.Timer(timeout, expire)
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    timer.cancel()
    p.returncode = status          # reaped here; keep Popen from waiting again
    _kill_group(p.pid)             # anything the command left running (a server)
    with open(out_path, "rb") as f:
        stdout = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    o = Outcome("ok", wall, ru.ru_utime, ru.ru_stime, _maxrss(rss_path), 0, "", stdout, stderr)
    if timed_out.is_set():
        o.status, o.message = "timeout", f"no result after {timeout:g} s"
    elif os.WIFSIGNALED(status):
        o.rc = -os.WTERMSIG(status)
        o.status, o.message = "crash", f"killed by {_signame(-o.rc)}; " + tail(stderr)
    else:
        o.rc = os.WEXITSTATUS(status)
        if o.rc == WRONG_EXIT:
            o.status, o.message = "wrong", tail(stderr)
        elif o.rc > 128 and o.rc - 128 < 65:
            o.status, o.message = "crash", f"program killed by {_signame(o.rc - 128)}; " + tail(stderr)
        elif o.rc != 0:
            o.status, o.message = "error", f"exit {o.rc}; " + tail(stderr)
    if o.ok and "cannot be preloaded" in stderr:
        o.status, o.message = "not-preloaded", tail(stderr, 1)
    return o


def _maxrss(path):
    try:
        with open(path) as f:
            last = f.read().split()
        os.remove(path)
        return int(last[-1]) if last and last[-1].isdigit() else 0
    except OSError:
        return 0


def metrics(stdout):
    """'metric key value' lines printed by a macro workload."""
    m = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "metric":
            try:
                m[parts[1]] = float(parts[2])
            except ValueError:
                pass
    return m


def provider(stdout):
    for line in stdout.splitlines():
        if line.startswith("malloc_from "):
            return os.path.basename(line.split(None, 1)[1].strip())
    return None
