#!/usr/bin/env bash
# bench/run.sh - run the benchmarks and write reports/ (see bench/README.md).
#
#   bash bench/run.sh            full run (~40 min on 2 cores: scale 0.5, 5 reps, variant rows 1)
#   QUICK=1 bash bench/run.sh    quick run (~20 min), for a first look
#   bash bench/run.sh --smoke    one short run of a few workloads of every
#                                kind under every allocator (make test)
# Extra options go to bench/py/runner.py: --reps N, --variant-reps N,
# --scale X, --only a,b, --allocators a,b, --out=DIR (default reports/,
# smoke: reports/smoke/), --report-only.  bench/py/estimate.py says how long
# a run would take from earlier runs' raw/ directories.
#
# Normally started by `make bench` / `make test`, which export BUILD, LIBDIR,
# HEAPS and QUICK; run by hand it asks the Makefile (make -s print-heaps).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
[ "${QUICK:-0}" = 1 ] && mode=quick
out=""
args=()
for a in "$@"; do
  case "$a" in
    --smoke) mode=smoke ;;
    --quick) mode=quick ;;
    --out=*) out=${a#--out=} ;;
    *) args+=("$a") ;;
  esac
done
# The smoke run (make test) writes beside the real report, not over it.
[ -n "$out" ] || { [ "$mode" = smoke ] && out=reports/smoke || out=reports; }

: "${BUILD:=build}"
: "${LIBDIR:=$BUILD/lib}"
[ -n "${HEAPS+set}" ] || HEAPS=$(make -s --no-print-directory print-heaps)
export BUILD LIBDIR HEAPS

for tool in gnuplot valgrind redis-server sqlite3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found: run \`make deps\`" >&2; exit 1; }
done

exec /usr/bin/python3 -B bench/py/runner.py --mode "$mode" --out "$out" "${args[@]}"
