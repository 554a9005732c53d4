#!/usr/bin/env bash
# fuzz/run.sh - AFL++ campaigns against every heap, or the smoke test.
#
#   bash fuzz/run.sh            (make fuzz) for each heap in $HEAPS: build the
#                               heap and harness with afl-clang-fast, fuzz for
#                               FUZZ_SECONDS (default 600) with FUZZ_JOBS
#                               (default 2) instances, minimise each crash into
#                               fuzz/regressions/<heap>/<hash>.bin, print a
#                               summary per heap (execs, execs/s, paths, edges,
#                               crashes, hangs); exit 1 if anything crashed or
#                               hung (afl-fuzz itself exits 0 either way).
#                               FUZZ_THREADS=1: the threaded driver (harness.h).
#                               FUZZ_PLANT=1: the heaps built with their planted
#                               bug (-DFUZZ_PLANT=1) in $BUILD/afl-plant; its
#                               crashes go to $BUILD/afl-plant/regressions.
#   bash fuzz/run.sh --smoke    (make test) replay fuzz/corpus and
#                               fuzz/regressions/ (*.bin and <heap>/*.bin)
#                               through every plain harness,
#                               run fixed-seed pseudo-random inputs, and check
#                               the harness catches each bug the test double
#                               can inject; exit 1 on any failure.
#
# The top Makefile exports BUILD, LIBDIR, HEAPS, CC, QUICK.  Run by hand, the
# heaps are the Makefile's (`make -s print-heaps`).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
LIBDIR=${LIBDIR:-$BUILD/lib}
QUICK=${QUICK:-0}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_SEED=${FUZZ_SEED:-1}       # the smoke's random inputs: fixed, so reproducible
[ -n "${HEAPS:-}" ] || HEAPS=$(make -s --no-print-directory print-heaps)
[ -n "${HEAPS// }" ] || { echo "fuzz: no heaps (set HEAPS or build $LIBDIR)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shopt -s nullglob

# Run "$@" with stdout to $1 and stderr to $2, without bash's own "Aborted"
# line on the terminal when the child dies by a signal.
run_to() { local out=$1 err=$2; shift 2; { "$@" >"$out" 2>"$err"; } 2>/dev/null; }

# What a failing run printed: the harness's FAIL line, else the heap's own
# last line, else the signal.  $1 = exit status, $2 = stderr file.
describe() {
  local rc=$1 err=$2 line
  line=$(grep -m1 'FAIL ' "$err" || true)
  [ -n "$line" ] || line=$(grep -v '^\s*$' "$err" | tail -n 1 || true)
  [ $rc -gt 128 ] && line="${line:+$line; }killed by signal $((rc - 128))"
  [ $rc -eq 124 ] && line="${line:+$line; }timed out"
  echo "${line:-exit status $rc}"
}

# The check a failure names ("FAIL contents:" -> contents), for comparing
# a crash with its minimised form.
check_of() { sed -n 's/.*FAIL \([a-z_-]*\):.*/\1/p;t;s/.*\(killed by signal [0-9]*\).*/\1/p' <<<"$1" | head -n 1; }

# ---- the smoke test --------------------------------------------------------------
smoke() {
  local fails=0 double=$BUILD/fuzz/fuzz_glibcdouble count=2000 t bin name f rc
  [ "$QUICK" = 1 ] && count=500
  bad() { echo "fuzz smoke: FAIL $*"; fails=$((fails + 1)); }

  local targets=()
  for h in $HEAPS; do targets+=("$BUILD/fuzz/fuzz_$h"); done
  targets+=("$double")
  for bin in "${targets[@]}"; do
    [ -x "$bin" ] || { echo "fuzz smoke: $bin missing: run make fuzz-build" >&2; return 1; }
  done

  # 1. The committed corpus and dictionary are what seeds.c writes today.
  mkdir -p "$tmp/corpus"
  "$double" --write-seeds "$tmp/corpus" && "$double" --write-dict "$tmp/alloc.dict"
  if ! diff -rq fuzz/corpus "$tmp/corpus" >/dev/null || ! cmp -s fuzz/alloc.dict "$tmp/alloc.dict"; then
    bad "fuzz/corpus or fuzz/alloc.dict differ from seeds.c: run bash fuzz/gen_corpus.sh"
  fi

  [ "${FUZZ_VALIDATE_COUNT:-1}" = 0 ] &&
    echo "fuzz smoke: FUZZ_VALIDATE_COUNT=0: heaps' validate() counts are not compared"
  local inputs=(fuzz/corpus/*.bin fuzz/regressions/*.bin fuzz/regressions/*/*.bin)
  local faildir=$BUILD/fuzz/failures
  mkdir -p "$faildir"
  for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    # 2. Every seed and every regression, one process each (a failure names its file).
    local n=0
    for f in "${inputs[@]}"; do
      run_to /dev/null "$tmp/err" timeout 60 "$bin" "$f"; rc=$?
      [ $rc -eq 0 ] && n=$((n + 1)) || bad "$name $f: $(describe $rc "$tmp/err")"
    done
    echo "fuzz smoke: $name: $n/${#inputs[@]} corpus and regression inputs pass"
    # 2b. A heap that claims a class misuse mode commits must run (not skip)
    # the misuse seeds: 0 would mean misuse mode lost the heap's claims table.
    local claims=fuzz/testdouble_claims.tsv h=${name#fuzz_} nclaimed rows
    [ "$h" = glibcdouble ] || claims=alloc_$h/claims.tsv
    rows=$(grep -v '^#' "$claims" 2>/dev/null | grep -c . || true)
    nclaimed=$("$bin" --list-misuse | grep -c ' claimed$' || true)
    [ "${rows:-0}" -gt 0 ] && [ "$nclaimed" -eq 0 ] &&
      bad "$name: $claims has $rows claims but misuse mode finds none of its classes"
    if [ "$nclaimed" -gt 0 ]; then
      run_to "$tmp/out" "$tmp/err" timeout 60 "$bin" fuzz/corpus/misuse-*.bin; rc=$?
      local nm
      nm=$(sed -n 's/.*, \([0-9]*\) misuse operations,.*/\1/p' "$tmp/out")
      if [ $rc -eq 0 ] && [ "${nm:-0}" -gt 0 ]; then
        echo "fuzz smoke: $name: $nm misuse seeds ended in the claimed fatal line" \
          "($nclaimed misuse ops claimed in $claims)"
      else bad "$name: misuse seeds: ${nm:-0} checked ($(describe $rc "$tmp/err"))"; fi
    fi
    # 3. Pseudo-random inputs from a fixed seed; a failing one is saved.
    run_to "$tmp/out" "$tmp/err" env FUZZ_SAVE_FAIL="$faildir" \
      timeout 120 "$bin" --random $count "$FUZZ_SEED" 256; rc=$?
    if [ $rc -eq 0 ]; then echo "fuzz smoke: $(cat "$tmp/out")"
    else bad "$name --random $count $FUZZ_SEED 256: $(describe $rc "$tmp/err")"; fi
    # 3b. The threaded driver: the corpus, then random inputs, on 2..4 threads.
    run_to "$tmp/out" "$tmp/err" env FUZZ_THREADS=1 FUZZ_SAVE_FAIL="$faildir" \
      timeout 120 "$bin" "${inputs[@]}"; rc=$?
    if [ $rc -eq 0 ]; then echo "fuzz smoke: FUZZ_THREADS=1 $(cat "$tmp/out")"
    else bad "FUZZ_THREADS=1 $name (corpus and regressions): $(describe $rc "$tmp/err")"; fi
    run_to "$tmp/out" "$tmp/err" env FUZZ_THREADS=1 FUZZ_SAVE_FAIL="$faildir" \
      timeout 120 "$bin" --random $((count / 4)) "$FUZZ_SEED" 256; rc=$?
    if [ $rc -eq 0 ]; then echo "fuzz smoke: FUZZ_THREADS=1 $(cat "$tmp/out")"
    else bad "FUZZ_THREADS=1 $name --random $((count / 4)) $FUZZ_SEED 256: $(describe $rc "$tmp/err")"; fi
  done

  # 4. The harness catches every bug the test double can inject, by name.
  local bug check caught=0 total=0
  while read -r bug check; do
    total=$((total + 1))
    run_to /dev/null "$tmp/err" env -u FUZZ_VALIDATE_COUNT FUZZ_DOUBLE_BUG="$bug" \
      timeout 60 "$double" "${inputs[@]}"
    rc=$?
    if [ $rc -ne 0 ] && grep -q "FAIL $check:" "$tmp/err"; then caught=$((caught + 1))
    else bad "injected bug '$bug' not reported as '$check': $(describe $rc "$tmp/err")"; fi
  done < <(FUZZ_DOUBLE_BUG=list "$double")
  [ $total -gt 0 ] || bad "the test double lists no bugs"
  # ... and through the threaded driver (its workers run the same checks).
  run_to /dev/null "$tmp/err" env -u FUZZ_VALIDATE_COUNT FUZZ_THREADS=1 FUZZ_DOUBLE_BUG=overlap \
    timeout 60 "$double" "${inputs[@]}"; rc=$?
  if [ $rc -ne 0 ] && grep -q "FAIL overlap:" "$tmp/err"; then caught=$((caught + 1))
  else bad "FUZZ_THREADS=1: injected bug 'overlap' not reported: $(describe $rc "$tmp/err")"; fi
  total=$((total + 1))
  echo "fuzz smoke: harness caught $caught/$total bugs injected into the test double"

  [ $fails -eq 0 ] && { echo "fuzz smoke: OK"; return 0; }
  echo "fuzz smoke: $fails failure(s); saved random inputs (if any) in $faildir"
  return 1
}

# ---- AFL++ campaigns ---------------------------------------------------------------
stat_of() { sed -n "s/^$2 *: //p" "$1/fuzzer_stats" 2>/dev/null; }

# A failure's signature: the check the harness names, or the heap's own line
# with addresses and numbers blanked.  Crashes with one signature are taken as
# one bug: only the smallest is minimised into a regression test.
signature_of() {
  local c
  c=$(check_of "$1")
  [ -n "$c" ] && [ "${c#killed}" = "$c" ] && { echo "check $c"; return; }
  sed -E 's/0x[0-9a-fA-F]+/ADDR/g; s/[0-9]+/N/g' <<<"$1"
}

# Minimise crash $3 (failing with line $4) of heap $1 (AFL binary $2) into
# $REGDIR/<heap>/<hash>.bin; keep the original when the minimised input fails
# another way.  Prints the regression and its failure.
keep_crash() {
  local h=$1 bin=$2 crash=$3 line=$4 keep rc mline hash dest
  keep=$crash
  if run_to "$tmp/tmin.log" "$tmp/tmin.err" env FUZZ_PERSIST=1 \
       timeout 600 afl-tmin -t 2000 -i "$crash" -o "$tmp/min" -- "$bin" </dev/null; then
    run_to /dev/null "$tmp/err" timeout 30 "$bin" "$tmp/min"; rc=$?
    mline=$(describe $rc "$tmp/err")
    if [ $rc -ne 0 ] && [ "$(signature_of "$mline")" = "$(signature_of "$line")" ]; then
      keep=$tmp/min line=$mline
    fi
  fi
  hash=$(sha256sum "$keep" | cut -c1-12)
  dest=$REGDIR/$h/$hash.bin
  mkdir -p "$REGDIR/$h"
  cp "$keep" "$dest"
  echo "    regression $dest ($(stat -c %s "$dest") bytes): $line"
}

# Replay every crash of heap $1 alone, group by signature, keep one per group.
triage() {
  local h=$1 bin=$2 c rc line sig i
  shift 2
  local -A count=() smallest=() first_line=()
  local unreproducible=0
  for c in "$@"; do
    run_to /dev/null "$tmp/err" timeout 30 "$bin" "$c"; rc=$?
    if [ $rc -eq 0 ]; then unreproducible=$((unreproducible + 1)); continue; fi
    line=$(describe $rc "$tmp/err")
    sig=$(signature_of "$line")
    count[$sig]=$(( ${count[$sig]:-0} + 1 ))
    if [ -z "${smallest[$sig]:-}" ] || [ "$(stat -c %s "$c")" -lt "$(stat -c %s "${smallest[$sig]}")" ]; then
      smallest[$sig]=$c first_line[$sig]=$line
    fi
  done
  for sig in "${!count[@]}"; do
    echo "  alloc_$h: ${count[$sig]} crash(es) with signature: $sig"
    keep_crash "$h" "$bin" "${smallest[$sig]}" "${first_line[$sig]}"
  done
  [ $unreproducible -eq 0 ] || echo "  alloc_$h: $unreproducible crash(es) do not fail when" \
    "replayed alone (they need heap state from earlier persistent iterations); see crashes/"
}

# Seconds from the start of the campaign to its first crash: AFL names each
# crash file with time:<ms since its instance started>.
first_crash_secs() {
  local f t best=
  for f in "$@"; do
    t=$(sed -n 's/.*,time:\([0-9]*\).*/\1/p' <<<"${f##*/}")
    [ -n "$t" ] && { [ -z "$best" ] || [ "$t" -lt "$best" ]; } && best=$t
  done
  [ -n "$best" ] && echo "$((best / 1000)).$(printf %03d $((best % 1000)))s"
}

campaign() {
  local jobs=${FUZZ_JOBS:-2} plant=${FUZZ_PLANT:-0} afl_build=$BUILD/afl failed=0 h bin out inst i
  case $jobs in '' | *[!0-9]* | 0) echo "fuzz: FUZZ_JOBS=$jobs: use a number >= 1" >&2; return 2 ;; esac
  case $plant in 0 | 1) ;; *) echo "fuzz: FUZZ_PLANT=$plant: use 0 or 1" >&2; return 2 ;; esac
  command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz missing (make deps)" >&2; return 1; }
  # The planted-bug build (heaps compiled with -DFUZZ_PLANT=1) lives apart, and
  # its crashes are kept apart: they are the planted bug, not regressions.
  REGDIR=fuzz/regressions
  if [ "$plant" = 1 ]; then afl_build=$BUILD/afl-plant REGDIR=$afl_build/regressions; fi
  echo "fuzz: building heaps and harnesses with afl-clang-fast into $afl_build" \
    "${FUZZ_PLANT:+(FUZZ_PLANT=$plant)}"
  # Only the prefixed libraries and the harnesses: the .so does not link with
  # instrumented objects (no AFL runtime in it), and the fuzzer does not need it.
  local targets=()
  for h in $HEAPS; do
    targets+=("$afl_build/lib/liballoc_${h}_prefixed.a" "$afl_build/fuzz/fuzz_$h")
  done
  local extra=${EXTRA_CFLAGS:-}
  [ "$plant" = 1 ] && extra="$extra -DFUZZ_PLANT=1"
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL AFL_QUIET=1 \
    AFL_LLVM_DENYLIST="$PWD/fuzz/afl_denylist.txt" \
    make -s BUILD="$afl_build" CC=afl-clang-fast HEAPS="$HEAPS" EXTRA_CFLAGS="$extra" \
    "${targets[@]}" || return 1

  export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
  export AFL_NO_AFFINITY=1   # do not fail when another job holds a core
  local summary=() names=(main)
  for ((i = 1; i < jobs; i++)); do names+=("s$i"); done
  for h in $HEAPS; do
    bin=$afl_build/fuzz/fuzz_$h
    out=$afl_build/fuzz/out/$h
    rm -rf "$out" && mkdir -p "$out"
    echo "fuzz: alloc_$h: fuzzing for ${FUZZ_SECONDS}s with $jobs instance(s)${FUZZ_THREADS:+, FUZZ_THREADS=$FUZZ_THREADS} (logs in $out)"
    for inst in "${names[@]}"; do
      local role=-S
      [ "$inst" = main ] && role=-M
      afl-fuzz $role "$inst" -i fuzz/corpus -o "$out" -x fuzz/alloc.dict -t 2000 -V "$FUZZ_SECONDS" \
        -- "$bin" </dev/null >"$out/$inst.log" 2>&1 &
    done
    wait
    local execs=0 secs=0 paths edges crashes=() hangs=() first
    for inst in "${names[@]}"; do
      [ -f "$out/$inst/fuzzer_stats" ] || {
        echo "fuzz: alloc_$h: afl-fuzz instance $inst did not run:"; tail -n 5 "$out/$inst.log"
        return 1; }
      execs=$((execs + $(stat_of "$out/$inst" execs_done)))
      secs=$((secs + $(stat_of "$out/$inst" run_time)))
      crashes+=("$out/$inst"/crashes/id:*)
      hangs+=("$out/$inst"/hangs/id:*)
    done
    paths=$(stat_of "$out/main" corpus_count)
    edges=$(stat_of "$out/main" edges_found)
    first=$(first_crash_secs "${crashes[@]}")
    summary+=("alloc_$h: $execs execs ($((execs / (secs > 0 ? secs : 1)))/s per instance), $paths paths, $edges edges, ${#crashes[@]} crashes${first:+ (first after $first)}, ${#hangs[@]} hangs")
    [ ${#crashes[@]} -eq 0 ] || triage "$h" "$bin" "${crashes[@]}"
    [ ${#hangs[@]} -gt 0 ] && echo "  alloc_$h: hangs (not minimised): $out/*/hangs/"
    [ $((${#crashes[@]} + ${#hangs[@]})) -eq 0 ] || failed=$((failed + 1))
  done
  echo "fuzz: summary (${FUZZ_SECONDS}s x $jobs instance(s) per heap${FUZZ_PLANT:+, FUZZ_PLANT=$plant})"
  printf '  %s\n' "${summary[@]}"
  [ $failed -eq 0 ] || { echo "fuzz: $failed heap(s) crashed or hung: see $REGDIR"; return 1; }
}

case "${1:-}" in
  --smoke) smoke ;;
  "") campaign ;;
  *) echo "usage: bash fuzz/run.sh [--smoke]" >&2; exit 2 ;;
esac
