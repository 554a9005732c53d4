#!/usr/bin/env bash
# alloc_run.sh - the users' way in: bin/alloc-run, and `make install` with its
# pkg-config files.
#
#   alloc_run.sh            (run by run_tests.sh; HEAPS, BUILD from it or make)
#
# Checks:
#   - alloc-run --list prints the Makefile's heaps, one a line;
#   - alloc-run HEAP -- NAME=VALUE... -- PROGRAM runs PROGRAM on that heap
#     (its library is mapped, and ALLOC_VERBOSE output shows the options
#     given), and a program's own `--` is passed through untouched;
#   - an unknown heap and bad usage: exit 2, one line on stderr, nothing run;
#   - make install DESTDIR=<tmp>: pkg-config --cflags --libs alloc_HEAP works,
#     a tiny program links the prefixed library and runs on it, and the
#     installed alloc-run finds the installed libraries.
set -u
cd "$(dirname "$0")/.." || exit 2
[ -n "${HEAPS+set}" ] || HEAPS=$(make -s --no-print-directory print-heaps)
run=bin/alloc-run
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad() { echo "FAIL: $*"; [ -s "$tmp/err" ] && sed 's/^/    stderr: /' "$tmp/err" | head -5; fail=1; }

[ "$("$run" --list | tr '\n' ' ')" = "$(echo $HEAPS) " ] || bad "alloc-run --list: '$("$run" --list | tr '\n' ' ')', want '$HEAPS'"

for h in $HEAPS; do
  out=$("$run" "$h" -- verbose=on decay_ms=0 -- /usr/bin/python3 -I -c 'print("hello")' 2> "$tmp/err")
  [ "$out" = hello ] || bad "$h: the program's output was '$out'"
  grep -qx "alloc_$h: initialised" "$tmp/err" || bad "$h: verbose=on: no 'alloc_$h: initialised' (heap not used?)"
  grep -qx "alloc_$h: option ALLOC_DECAY_MS=0" "$tmp/err" || bad "$h: decay_ms=0 did not reach the heap as ALLOC_DECAY_MS"
  n=$("$run" "$h" -- grep -c "/liballoc_$h\.so$" /proc/self/maps 2> "$tmp/err")
  [ "${n:-0}" -ge 1 ] || bad "$h: liballoc_$h.so is not mapped in the program"
  out=$("$run" "$h" -- /bin/sh -c 'echo "$@"' sh a -- b 2> "$tmp/err")
  [ "$out" = "a -- b" ] || bad "$h: a program's own '--' did not pass through: '$out'"
  echo "ok alloc-run $h"
done

# expect_usage_error WHAT ARGS...: exit 2, one stderr line, nothing on stdout, nothing run.
expect_usage_error() {
  local what=$1 rc
  shift
  rm -f "$tmp/ran"
  "$run" "$@" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  [ $rc = 2 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ] && [ ! -e "$tmp/ran" ] ||
    bad "$what: exit $rc, $(wc -l < "$tmp/err") stderr lines, want exit 2 and one line, nothing run"
  echo "$what -> $(cat "$tmp/err")"
}
expect_usage_error "unknown heap" no_such_heap -- touch "$tmp/ran"
expect_usage_error "no --" "${HEAPS%% *}" touch "$tmp/ran"
expect_usage_error "no program" "${HEAPS%% *}" --
expect_usage_error "empty options" "${HEAPS%% *}" -- -- touch "$tmp/ran"

# make install into a scratch root; the prefix the .pc files name is then moved
# there with --define-variable.
dest=$tmp/root prefix=/usr/local
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" > "$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; bad "make install DESTDIR=$dest failed"; exit 1; }
root=$dest$prefix
for h in $HEAPS; do
  flags=$(PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --define-variable=prefix="$root" --cflags --libs "alloc_$h" 2> "$tmp/err") ||
    { bad "pkg-config --cflags --libs alloc_$h failed"; continue; }
  cat > "$tmp/tiny.c" <<C
#include <stdio.h>
#include <string.h>
#include <alloc_api.h>
ALLOC_API_DECLARE(${h}_)
int main(void) {
  size_t before = ${h}_alloc_validate();
  char *p = ${h}_malloc(100);
  if (!p) return 1;
  strcpy(p, "linked");
  size_t during = ${h}_alloc_validate();
  ${h}_free(p);
  printf("linked %zu\n", during - before);
  return ${h}_alloc_validate() != before;
}
C
  # shellcheck disable=SC2086 # flags are words
  if ! ${CC:-gcc} -o "$tmp/tiny" "$tmp/tiny.c" $flags 2> "$tmp/err"; then
    bad "$h: a program does not link with \`pkg-config --cflags --libs alloc_$h\` ($flags)"
    continue
  fi
  out=$("$tmp/tiny" 2> "$tmp/err")
  [ "$out" = "linked 1" ] || bad "$h: the program linked with pkg-config printed '$out' (want 'linked 1')"
  "$root/bin/alloc-run" --list | grep -qx "$h" || bad "installed alloc-run --list lacks $h"
  "$root/bin/alloc-run" "$h" -- verbose=on -- /usr/bin/python3 -I -c 'pass' 2> "$tmp/err"
  grep -q "^alloc_$h: initialised" "$tmp/err" && grep -q "$root/lib/liballoc_$h.so" <<<"$("$root/bin/alloc-run" "$h" -- cat /proc/self/maps)" ||
    bad "$h: the installed alloc-run does not run a program on $root/lib/liballoc_$h.so"
  echo "ok install $h: pkg-config $flags"
done
[ $fail -eq 0 ] && echo "ok alloc-run"
exit $fail
