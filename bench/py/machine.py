"""What the report says about the machine and the software it measured."""
import datetime
import os
import platform
import subprocess


def _cmd(argv, line=0):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
        out = out or ""
        lines = [ln for ln in out.splitlines() if ln.strip()]
        return lines[line].strip() if len(lines) > line else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _first(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def package_of(path):
    """(package, version) owning a file, from dpkg; ('', '') if unknown."""
    if not path or not os.path.exists(path):
        return "", ""
    real = os.path.realpath(path)
    for p in (path, real):
        owner = _cmd(["dpkg", "-S", p])
        if owner and ":" in owner and "no path found" not in owner:
            pkg = owner.split(": ")[0].split(",")[0].strip()
            ver = _cmd(["dpkg-query", "-W", "-f=${Version}", pkg])
            return pkg, ver
    return "", ""


def describe_allocator(a, repo):
    if a.heap:
        commit = _cmd(["git", "-C", repo, "rev-parse", "--short", "HEAD"]) or "no commit yet"
        built = ""
        if os.path.exists(a.library):
            built = datetime.datetime.fromtimestamp(os.path.getmtime(a.library)).strftime("%Y-%m-%d %H:%M")
        return f"this project @ {commit}" + (f", built {built}" if built else ", library not built")
    pkg, ver = package_of(a.library or "/lib/x86_64-linux-gnu/libc.so.6")
    return f"{pkg} {ver}".strip() or "unknown"


def loadavg():
    """1-minute load average: other work on the machine widens the spread."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def describe(allocs, repo):
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0] if _first("/proc/meminfo", "MemTotal") else "0"
    m = {
        "hostname": platform.node(),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kb) / 1048576, 1),
        "kernel": platform.release(),
        "os": _first("/etc/os-release", "PRETTY_NAME") or "Linux",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "programs": {
            "gcc": _cmd(["gcc", "--version"]),
            "python3": _cmd(["/usr/bin/python3", "--version"]),
            "sqlite3": " ".join(_cmd(["sqlite3", "--version"]).split()[:1]),
            "redis-server": _cmd(["redis-server", "--version"]),
            "sort": _cmd(["sort", "--version"]),
            "valgrind": _cmd(["valgrind", "--version"]),
            "gnuplot": _cmd(["gnuplot", "--version"]),
            "google-benchmark": " ".join(package_of("/usr/include/benchmark/benchmark.h")),
        },
    }
    m["allocator_versions"] = {a.name: describe_allocator(a, repo) for a in allocs}
    return m
