#!/usr/bin/env bash
# run_tests.sh - the test runner behind `make test` and `make verify`.
#
#   bash verify/run_tests.sh [all|verify] [PATTERN...]
#
#   all     unit tests ($BUILD/unit/*), every verify/ test, bench/smoke, fuzz/smoke
#           (verify/ includes alloc-run: bin/alloc-run and make install)
#   verify  the verify/ tests only
#   PATTERN shell globs on test names: run only the tests that match one
#           (e.g. 'contract/unsafe/*' or '*/glibc*' or 'stress/*').
#
# One line per test: "PASS name", "FAIL name: reason" followed by the tail of
# its log, or "N/A name: why" (a check that does not apply; never counted as
# passed).  Every test's full output is kept in $BUILD/test-logs/<name>.log.
# The last line is exactly "N passed, N failed"; the exit status is 1 if any
# test failed.  Each test runs under `timeout`, so a hang is a FAIL.
#
# Environment (exported by the top Makefile; defaults for a direct run):
#   BUILD (build), LIBDIR ($BUILD/lib), HEAPS (`make -s print-heaps`), QUICK (0)
#   VERIFY_EXTRA  more heaps to check like ours, as name=/path/lib.so words,
#                 e.g. VERIFY_EXTRA=jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
#                 (checked with the same rules; the suite-only parts are N/A).
set -u

cd "$(dirname "$0")/.." || exit 2
mode=${1:-all}
[ $# -gt 0 ] && shift
patterns=("$@")
case $mode in
  all | verify) ;;
  *) echo "usage: run_tests.sh [all|verify] [PATTERN...]" >&2; exit 2 ;;
esac

BUILD=${BUILD:-build}
LIBDIR=${LIBDIR:-$BUILD/lib}
QUICK=${QUICK:-0}
# Run directly: the one list lives in the Makefile, which prints it.
[ -n "${HEAPS+set}" ] || HEAPS=$(make -s --no-print-directory print-heaps)
abs() { (cd "$(dirname "$1")" 2>/dev/null && echo "$(pwd)/$(basename "$1")") || echo "$1"; }
BUILD=$(abs "$BUILD")
LIBDIR=$(abs "$LIBDIR")
export BUILD LIBDIR HEAPS QUICK # the smokes (bench/, fuzz/) see what we see
BIN=$BUILD/verify
LOGS=$BUILD/test-logs
WORK=$BUILD/verify-work
rm -rf "$LOGS" "$WORK"
mkdir -p "$LOGS" "$WORK"
# The heaps' run-time options come from ALLOC_*: none may leak in from the
# caller's shell and change what the tests see.
for v in $(compgen -e | grep '^ALLOC_'); do unset "$v"; done

if [ "$QUICK" = 1 ]; then stress_secs=3 fork_rounds=4; else stress_secs=12 fork_rounds=12; fi

passed=0 failed=0 na=0

# The heaps under test: "name lib kind".  glibc runs without preload.
targets=("glibc - glibc")
for h in $HEAPS; do targets+=("$h $LIBDIR/liballoc_$h.so ours"); done
for e in ${VERIFY_EXTRA:-}; do targets+=("${e%%=*} $(abs "${e#*=}") other"); done

selected() {
  local p
  [ ${#patterns[@]} -eq 0 ] && return 0
  for p in "${patterns[@]}"; do [[ $1 == $p ]] && return 0; done
  return 1
}

report_fail() { # name reason log
  echo "FAIL $1: $2"
  tail -n 12 "$3" | sed 's/^/    | /'
  failed=$((failed + 1))
}

# run_test NAME SECONDS CMD...: exit 0 pass, 77 N/A (the reason is the log's
# "N/A" line), anything else fail; over SECONDS it is killed and fails.
run_test() {
  local name=$1 secs=$2 log rc why
  shift 2
  selected "$name" || return 0
  log=$LOGS/$name.log
  mkdir -p "$(dirname "$log")"
  { echo "\$ $*"; } > "$log"
  # In a subshell, so the shell's own "Segmentation fault" notice goes to the log.
  (timeout -k 10 "$secs" "$@" < /dev/null; exit $?) >> "$log" 2>&1
  rc=$?
  case $rc in
    0) echo "PASS $name"; passed=$((passed + 1)) ;;
    77)
      why=$(grep -m1 '^N/A' "$log" | sed 's/^N\/A [^:]*: //')
      echo "N/A $name: ${why:-does not apply}"
      na=$((na + 1)) ;;
    124 | 137) report_fail "$name" "timed out after ${secs}s" "$log" ;;
    *)
      if [ $rc -gt 128 ]; then why="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
      else why="exit status $rc"; fi
      why="$why$(grep -m1 -E '^FAIL|: fatal: ' "$log" | sed 's/^/: /')"
      report_fail "$name" "$why" "$log" ;;
  esac
}

# A prerequisite that is missing is one FAIL line, not a silent skip.
need() { # name file what
  [ -e "$2" ] && return 0
  selected "$1" || return 1
  echo "FAIL $1: $3 missing ($2)"
  failed=$((failed + 1))
  return 1
}

# ---- unit tests (the lead's, built into $BUILD/unit; the debug build's,
# DEBUG_ASSERTs on, into $BUILD/debug/unit by `make test`) ---------------------
unit_tests() {
  local t
  [ -d "$BUILD/unit" ] || return 0
  for t in "$BUILD"/unit/* "$BUILD"/debug/unit/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case $t in "$BUILD"/debug/*) run_test "unit/debug/$(basename "$t")" 300 "$t" ;; *) run_test "unit/$(basename "$t")" 300 "$t" ;; esac
  done
}

# ---- per heap: contract, C++ contract, stress, fork, memcheck, options --------
per_target() { # name lib kind
  local name=$1 lib=$2 kind=$3 rule env=() opt=() cxxopt
  if [ "$kind" = glibc ]; then
    opt=(-l libc.so.6) cxxopt=(-l libc.so.6 -n libstdc++)
  else
    env=(env "LD_PRELOAD=$lib") opt=(-l "$(basename "$lib")") cxxopt=("${opt[@]}")
    [ "$kind" = ours ] && opt+=(-o) cxxopt+=(-o)
    need "lib/$name" "$lib" "heap library" || return 0
  fi
  if need "contract/$name" "$BIN/contract" "test program (make verify-build)"; then
    for rule in $("$BIN/contract" --list); do
      run_test "contract/$name/$rule" 120 "${env[@]}" "$BIN/contract" "${opt[@]}" "$rule"
    done
  fi
  if need "cxx/$name" "$BIN/contract_cxx" "test program (make verify-build)"; then
    for rule in $("$BIN/contract_cxx" --list); do
      run_test "cxx/$name/$rule" 120 "${env[@]}" "$BIN/contract_cxx" "${cxxopt[@]}" "$rule"
    done
  fi
  need "stress/$name" "$BIN/stress" "test program" &&
    run_test "stress/$name" $((stress_secs + 120)) "${env[@]}" "$BIN/stress" -t "$stress_secs" "${opt[@]:0:2}"
  need "fork/$name" "$BIN/fork" "test program" &&
    run_test "fork/$name" 300 "${env[@]}" "$BIN/fork" -r "$fork_rounds" "${opt[@]:0:2}"
  if [ "$kind" = ours ]; then
    run_test "options/$name" 60 bash verify/options.sh "$name" "$lib"
    need "dying/$name" "$BIN/dying" "test program" && run_test "dying/$name" 60 "${env[@]}" "$BIN/dying"
  fi
}

# ---- each heap of ours again, contract and stress only, with the options
# that change its paths (no thread heaps; decay at once) and as the debug
# build (BUILD_TYPE=debug into $BUILD/debug: DEBUG_ASSERTs on) ---------------
variants() { # name lib
  local name=$1 lib=$2 v vlib venv rule
  for v in tcache-off:ALLOC_TCACHE=off decay0:ALLOC_DECAY_MS=0 debug:; do
    vlib=$lib venv=${v#*:}
    [ "${v%%:*}" = debug ] && vlib=$BUILD/debug/lib/$(basename "$lib")
    need "lib/$name+${v%%:*}" "$vlib" "heap library (make test builds the debug one)" || continue
    for rule in $("$BIN/contract" --list); do
      run_test "contract/$name+${v%%:*}/$rule" 120 env "LD_PRELOAD=$vlib" $venv "$BIN/contract" -l "$vlib" -o "$rule"
    done
    run_test "stress/$name+${v%%:*}" $((stress_secs / 3 + 120)) env "LD_PRELOAD=$vlib" $venv "$BIN/stress" \
      -t $((stress_secs / 3)) -l "$vlib"
  done
}

# ---- real programs: glibc first (the reference answer), then each heap, in
# one work directory per program (verify/real.sh; bench/real/lib.sh) --------
real_programs() {
  local p t name lib kind
  for p in python gcc git sort sqlite; do
    run_test "real/$p/glibc" 600 bash verify/real.sh "$p" "" "$WORK/real-$p" "$LOGS/real/$p/glibc.out"
    for t in "${targets[@]:1}"; do
      read -r name lib kind <<<"$t"
      need "real/$p/$name" "$lib" "heap library" || continue
      run_test "real/$p/$name" 600 bash verify/real.sh "$p" "$lib" "$WORK/real-$p" "$LOGS/real/$p/$name.out"
    done
  done
}

memcheck_tests() {
  local t name lib kind
  for t in "${targets[@]}"; do
    read -r name lib kind <<<"$t"
    [ "$kind" = glibc ] && lib=""
    [ -n "$lib" ] && { need "memcheck/$name" "$lib" "heap library" || continue; }
    run_test "memcheck/$name/bugs" 300 bash verify/memcheck.sh bugs "$lib" "$BIN"
    run_test "memcheck/$name/clean" 300 bash verify/memcheck.sh clean "$lib" "$BIN"
  done
}

# ---- the misuse matrix (verify/misuse/): every case x every allocator, then
# each heap of ours against its claims table (alloc_<heap>/claims.tsv).
# `all` (make test): 1 run per cell, report in $BUILD/verify; `verify`:
# MISUSE_RUNS (3) runs per cell, report in reports/verify.{md,html}.
misuse_tests() {
  local h runs out=$BUILD/verify rep=$BUILD/verify
  [ "$mode" = verify ] && runs=${MISUSE_RUNS:-3} rep=reports || runs=${MISUSE_RUNS:-1}
  need "misuse/matrix" "$BIN/misuse" "test program (make verify-build)" || return 0
  run_test "misuse/selftest" 120 /usr/bin/python3 -B verify/misuse/run.py --selftest
  run_test "misuse/matrix" 900 /usr/bin/python3 -B verify/misuse/run.py --runs "$runs" --out "$out"
  for h in $HEAPS; do
    run_test "misuse/claims/$h" 60 /usr/bin/python3 -B verify/misuse/run.py --claims "$h" --out "$out"
  done
  run_test "misuse/report" 120 /usr/bin/python3 -B verify/misuse/report.py --results "$out" --out "$rep"
}

# ---- the contract checker against the bench's baselines (jemalloc, mimalloc,
# tcmalloc, Scudo: bench/allocators.tsv).  A rule a baseline breaks is a
# finding ("FINDING name: reason", kept in $BUILD/verify/contract_findings.tsv
# for the report), never a failure; only a preload that did not take fails.
baseline_contract() {
  local name lib kind envs rule prog log rc why tsv=$BUILD/verify/contract_findings.tsv nf=0 nok=0
  mkdir -p "$BUILD/verify"
  printf 'allocator\tprogram\trule\tresult\n' > "$tsv.new"
  while IFS=$'\t' read -r name lib kind envs; do
    [ "$kind" = baseline ] && [ "$lib" != - ] || continue
    [ "$envs" = - ] && envs=""
    for prog in contract contract_cxx; do
      need "contract-baseline/$name" "$BIN/$prog" "test program (make verify-build)" || continue
      for rule in $("$BIN/$prog" --list); do
        selected "contract-baseline/$name/$prog/$rule" || continue
        log=$LOGS/contract-baseline/$name/$prog/$rule.log
        mkdir -p "$(dirname "$log")"
        # shellcheck disable=SC2086 # envs: NAME=value words from the table
        (timeout -k 10 120 env LD_PRELOAD="$lib" $envs "$BIN/$prog" -l "$(basename "$lib")" "$rule" \
          < /dev/null; exit $?) > "$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ] || [ $rc -eq 77 ]; then
          nok=$((nok + 1))
          printf '%s\t%s\t%s\t%s\n' "$name" "$prog" "$rule" "$([ $rc -eq 0 ] && echo ok || echo n/a)" >> "$tsv.new"
        elif grep -q 'preload not in effect' "$log"; then
          report_fail "contract-baseline/$name/$prog/$rule" "$(grep -m1 'preload not in effect' "$log")" "$log"
        else
          why=$(grep -m1 '^FAIL' "$log" || true)
          [ -n "$why" ] || { [ $rc -gt 128 ] && why="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null)" || why="exit status $rc"; }
          echo "FINDING contract-baseline/$name/$prog/$rule: $why"
          printf '%s\t%s\t%s\t%s\n' "$name" "$prog" "$rule" "$why" >> "$tsv.new"
          nf=$((nf + 1))
        fi
      done
    done
  done < <(/usr/bin/python3 -B verify/misuse/run.py --list-allocators --use bench)
  # A run that selected none of these keeps the last full table for the report.
  if [ $((nok + nf)) -gt 0 ]; then mv "$tsv.new" "$tsv"; else rm -f "$tsv.new"; return 0; fi
  echo "baseline contract: $nok rules as required, $nf findings (not failures; $tsv)"
}

# ---- sanitizer builds and a clang-built heap (verify/sanitize.mk) -------------
# Per heap: its unit test and the thread stress under ASan+UBSan, the stress
# under TSan with per-thread heaps and with ALLOC_TCACHE=off (heap code
# instrumented, linked by prefixed names), and memcheck
# through the clang-built liballoc_<heap>.so; once: test_common under ASan.
sanitizer_tests() {
  local h t san=verify/sanitize/run.sh first=${HEAPS%% *}
  for h in $HEAPS; do
    for t in test_heap test_return test_$h; do # the per-heap ones, as sanitize.mk picks them
      [ -f "verify/unit/$t.c" ] || continue
      need "asan/unit/${t}_$h" "$BUILD/asan/unit/${t}_$h" "test program (make san-build)" &&
        run_test "asan/unit/${t}_$h" 300 bash $san asan "$BUILD/asan/lib/liballoc_${h}_prefixed.a" 1 \
          "$BUILD/asan/unit/${t}_$h"
    done
    if need "asan/stress/$h" "$BUILD/asan/verify/stress_$h" "test program (make san-build)"; then
      run_test "asan/stress/$h" $((stress_secs + 120)) bash $san asan "$BUILD/asan/lib/liballoc_${h}_prefixed.a" \
        1000 "$BUILD/asan/verify/stress_$h" -t "$stress_secs"
    fi
    if need "tsan/stress/$h" "$BUILD/tsan/verify/stress_$h" "test program (make san-build)"; then
      run_test "tsan/stress/$h" $((stress_secs + 120)) bash $san tsan "$BUILD/tsan/lib/liballoc_${h}_prefixed.a" \
        1000 "$BUILD/tsan/verify/stress_$h" -t "$stress_secs"
      # One shared heap under its lock (the path memcheck runs, too).
      run_test "tsan/stress-tcache-off/$h" $((stress_secs + 120)) env ALLOC_TCACHE=off bash $san tsan \
        "$BUILD/tsan/lib/liballoc_${h}_prefixed.a" 1000 "$BUILD/tsan/verify/stress_$h" -t "$stress_secs"
    fi
    if need "memcheck/$h-clang" "$BUILD/clang/lib/liballoc_$h.so" "clang-built heap (make san-build)"; then
      run_test "memcheck/$h-clang/bugs" 300 bash verify/memcheck.sh bugs "$BUILD/clang/lib/liballoc_$h.so" "$BUILD/clang/verify"
      run_test "memcheck/$h-clang/clean" 300 bash verify/memcheck.sh clean "$BUILD/clang/lib/liballoc_$h.so" "$BUILD/clang/verify"
    fi
  done
  [ -n "$first" ] && need "asan/unit/test_common" "$BUILD/asan/unit/test_common" "test program (make san-build)" &&
    run_test "asan/unit/test_common" 120 bash $san asan "$BUILD/asan/lib/liballoc_${first}_prefixed.a" - \
      "$BUILD/asan/unit/test_common"
}

smoke() { # name script
  need "$1" "$2" "script" && run_test "$1" 900 bash "$2" --smoke
}

echo "run_tests: $mode; heaps: ${HEAPS:-none}${VERIFY_EXTRA:+; extra: $VERIFY_EXTRA}; logs in $LOGS"
[ "$mode" = all ] && unit_tests
for t in "${targets[@]}"; do per_target $t; done
[ -x "$BIN/contract" ] && [ -x "$BIN/stress" ] && for h in $HEAPS; do variants "$h" "$LIBDIR/liballoc_$h.so"; done
run_test alloc-run 600 bash verify/alloc_run.sh # bin/alloc-run, make install, pkg-config
real_programs
memcheck_tests
baseline_contract
misuse_tests
sanitizer_tests
if [ "$mode" = all ]; then
  smoke bench/smoke bench/run.sh
  smoke fuzz/smoke fuzz/run.sh
fi
rm -rf "$WORK"
[ $na -gt 0 ] && echo "($na not applicable)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
