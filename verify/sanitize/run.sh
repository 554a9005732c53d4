#!/usr/bin/env bash
# run.sh - run one sanitizer-built test (verify/sanitize.mk); any sanitizer
# report fails it.
#
#   run.sh asan|tsan LIB CALLS PROG [ARGS...]
#
# LIB    the heap's prefixed library PROG was linked with: it must carry the
#        sanitizer's calls (__asan_report_* and __ubsan_handle_*, or
#        __tsan_*), or the heap's own code was not instrumented and a clean
#        run would prove nothing.
# CALLS  a function PROG must call (e.g. unsafe_malloc: the program really
#        uses the heap, not the sanitizer's malloc), or - for none.
# Reports stop the run (halt_on_error; the build adds
# -fno-sanitize-recover=all) and are also looked for in the output, so a
# report never passes with exit status 0.  The only suppressions are
# verify/sanitize/tsan.supp (each one commented there).
set -u

kind=$1 lib=$2 calls=$3
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
if [ "$calls" != - ]; then
  objdump -d --no-show-raw-insn "$prog" | grep -Eq "call +[0-9a-f]+ <$calls>" ||
    fail "$prog never calls $calls: it would not test the heap"
fi

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
[ -f "$here/tsan.supp" ] && TSAN_OPTIONS+=":suppressions=$here/tsan.supp"
echo "== $kind: $*"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" > "$log" 2>&1
rc=$?
cat "$log"
report=$(grep -m1 -E '^SUMMARY: [A-Za-z]+Sanitizer|runtime error:|^(==[0-9]+==)?ERROR: [A-Za-z]+Sanitizer|^WARNING: ThreadSanitizer' "$log")
[ -z "$report" ] || fail "$kind report (exit $rc): $report"
[ $rc -eq 0 ] || fail "exit status $rc"
echo "ok $kind: no report"
