#!/usr/bin/env bash
# real.sh - one real, unmodified program on one heap; its output must be the
# output it gives on glibc, byte for byte.
#
#   real.sh PROG "" WORKDIR [OUT]     the reference run, on glibc (no preload)
#   real.sh PROG LIB WORKDIR [OUT]    the run on heap LIB (absolute path)
#
# PROG is python | gcc | git | sort | sqlite: verify/real/PROG.sh, written to
# the one real-program framework, bench/real/lib.sh (phases prepare, run,
# check; bench times the run phase of its own workloads, verify checks
# outputs).  The reference run is the prepare phase: it makes the input and
# the reference answer in WORKDIR on glibc.  A heap run is the run phase with
# LD_PRELOAD=LIB (only the program under test is preloaded; helpers run on
# glibc, so a heap bug shows up as that program's failure), then the check
# phase (the answer equals the reference).  The run's stderr must not show a
# failed preload or a fatal error of ours.  A copy of the answer goes to OUT.
# Exit 0 when the program succeeded (and matched), 1 otherwise.
set -u
set -o pipefail

prog=$1 lib=$2 work=$3 out=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
script=$here/real/$prog.sh
case $prog in
  python | gcc | git | sort | sqlite) ;;
  *) echo "real.sh: unknown program '$prog'" >&2; exit 2 ;;
esac
export BENCH_WORK=$work BENCH_SCALE=1 BENCH_PRELOAD=$lib

echo "== $prog on ${lib:-glibc (no preload)}"
if [ -z "$lib" ]; then
  rm -rf "$work" && mkdir -p "$work" || exit 1
  phase=prepare answer=$work/ref
else
  if [ ! -f "$work/ref" ]; then
    echo "FAIL: no reference answer in $work (the glibc run failed?)"
    exit 1
  fi
  phase=run answer=$work/out
fi
(cd "$work" && bash "$script" "$phase") 2> "$work/stderr.txt"
rc=$?
cat "$work/stderr.txt"
[ -n "$out" ] && [ -f "$answer" ] && mkdir -p "$(dirname "$out")" && cp "$answer" "$out"
if [ $rc -ne 0 ]; then
  echo "FAIL: $prog exited with status $rc"
  exit 1
fi
if grep -q -e 'cannot be preloaded' -e ': fatal: ' "$work/stderr.txt"; then
  echo "FAIL: $(grep -m1 -e 'cannot be preloaded' -e ': fatal: ' "$work/stderr.txt")"
  exit 1
fi
[ -z "$lib" ] && { echo "reference answer: $(wc -l < "$answer") lines"; exit 0; }
if ! (cd "$work" && BENCH_PRELOAD='' bash "$script" check); then
  echo "FAIL: output differs from the run on glibc:"
  diff -u "$work/ref" "$work/out" | head -40
  exit 1
fi
echo "output identical to the run on glibc ($(wc -l < "$work/out") lines)"
exit 0
