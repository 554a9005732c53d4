#!/usr/bin/env bash
# run.sh - run one sanitizer-built test (verify/sanitize.mk); any sanitizer
# report fails it.
#
#   run.sh asan|tsan LIB MIN_ALLOCS PROG [ARGS...]
#
# LIB    the heap's prefixed library PROG was linked with: it must carry the
#        sanitizer's calls (__asan_report_* and __ubsan_handle_*, or
#        __tsan_*), or the heap's own code was not instrumented and a clean
#        run would prove nothing.
# MIN_ALLOCS  the heap must count at least this many allocations in the
#        run (its exit statistics, ALLOC_SHOW_STATS=json on fd 3), so the
#        program really used the heap and not the sanitizer's malloc; - for
#        a program that tests the shared layer only.
# Reports stop the run (halt_on_error; the build adds
# -fno-sanitize-recover=all) and are also looked for in the output, so a
# report never passes with exit status 0.  The only suppressions are
# verify/sanitize/tsan.supp (each one commented there).
set -u

kind=$1 lib=$2 min_allocs=$3
shift 3
prog=$1
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }

[ -f "$lib" ] || fail "no library $lib"
[ -x "$prog" ] || fail "no program $prog"
case $kind in
  asan) want_lib='__asan_report_ __ubsan_handle_' want_prog=__asan_init ;;
  tsan) want_lib='__tsan_read __tsan_func_entry' want_prog=__tsan_init ;;
  *) echo "run.sh: asan or tsan" >&2; exit 2 ;;
esac
undef=$(nm -u "$lib")
for w in $want_lib; do
  grep -q " $w" <<<"$undef" || fail "$lib is not instrumented for $kind (no call to $w*)"
done
nm "$prog" | grep -q " $want_prog\$" || fail "$prog is not built with $kind ($want_prog absent)"

# handle_segv=0: a fault is left to the program (test_common checks that a
# write to the sealed start-up page kills a child with SIGSEGV); one nobody
# expected still fails the run, by its signal, only without ASan's stack.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=23:handle_segv=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
[ -f "$here/tsan.supp" ] && TSAN_OPTIONS+=":suppressions=$here/tsan.supp"
echo "== $kind: $*"
log=$(mktemp) stats=$(mktemp)
trap 'rm -f "$log" "$stats"' EXIT
# test_common checks the option parser against a clean environment: the
# statistics are asked for only where they are read.
if [ "$min_allocs" = - ]; then "$@" > "$log" 2>&1
else ALLOC_SHOW_STATS=json ALLOC_STATS_FD=3 "$@" > "$log" 2>&1 3> "$stats"; fi
rc=$?
cat "$log"
report=$(grep -m1 -E '^SUMMARY: [A-Za-z]+Sanitizer|runtime error:|^(==[0-9]+==)?ERROR: [A-Za-z]+Sanitizer|^WARNING: ThreadSanitizer' "$log")
[ -z "$report" ] || fail "$kind report (exit $rc): $report"
[ $rc -eq 0 ] || fail "exit status $rc"
if [ "$min_allocs" != - ]; then
  n=$(grep -o '"allocs":[0-9]*' "$stats" | head -1 | cut -d: -f2)
  echo "heap statistics: ${n:-no} allocations"
  [ "${n:-0}" -ge "$min_allocs" ] || fail "the heap counted ${n:-no} allocations, want >= $min_allocs: the program did not use it"
fi
echo "ok $kind: no report"
