# real/lib.sh - the one real-program framework (sourced, not run): bench times
# the run phase of its workloads here (bench/workloads.tsv), verify/real.sh
# checks the answers of its own (verify/real/*.sh) against glibc's.
#
# A real workload is a script  bench/real/<name>.sh PHASE  with PHASE one of
#   prepare  make the input in $BENCH_WORK and the reference answer, by
#            running the program once on the system allocator (untimed);
#   run      the timed part: the program under test, and only it, runs with
#            LD_PRELOAD=$BENCH_PRELOAD; it leaves its answer in $BENCH_WORK;
#   check    compare that answer with the reference (untimed, no preload);
#            exit 3 on a wrong answer.
# Environment from the runner: BENCH_WORK (a private directory), BENCH_SCALE
# (1 = full size), BENCH_PRELOAD (library path, empty = system allocator),
# BENCH_PORT (a free port on 127.0.0.1, for servers).
#
# A script defines run_it (writes $W/out) and may define make_input and
# check_it (default: the answer must equal the reference byte for byte).
set -euo pipefail
W=${BENCH_WORK:?BENCH_WORK not set}
SCALE=${BENCH_SCALE:-1}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

# Run one command with the allocator under test preloaded.
under_test() {
  if [ -n "${BENCH_PRELOAD:-}" ]; then LD_PRELOAD=$BENCH_PRELOAD "$@"; else "$@"; fi
}
# scaled FULL MIN -> max(MIN, FULL * SCALE) as an integer
scaled() { awk -v f="$1" -v m="$2" -v s="$SCALE" 'BEGIN { n = int(f * s); print (n < m ? m : n) }'; }
wrong() { echo "WRONG: $*" >&2; exit 3; }

make_input() { :; }
check_it() { cmp -s "$W/out" "$W/ref" || wrong "output differs from the reference ($(wc -c < "$W/out") vs $(wc -c < "$W/ref") bytes)"; }

real_main() {
  case "${1:-}" in
    prepare) make_input; BENCH_PRELOAD='' run_it; mv "$W/out" "$W/ref"; save_ref ;;
    run) rm -f "$W/out"; run_it ;;
    check) [ -e "$W/out" ] || wrong "no output"; check_it ;;
    *) echo "usage: $0 prepare|run|check" >&2; exit 2 ;;
  esac
}
save_ref() { :; }
