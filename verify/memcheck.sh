#!/usr/bin/env bash
# memcheck.sh - valgrind memcheck through a preloaded heap.
#
#   memcheck.sh bugs|clean LIB BINDIR
#
# LIB is the heap to LD_PRELOAD (absolute path) or "" for glibc, where memcheck
# replaces malloc itself (the control: it shows the programs are right).
# --soname-synonyms=somalloc=nouserintercepts keeps memcheck from replacing the
# preloaded heap's malloc: the heap runs for real and memcheck sees its blocks
# only through the client requests the heap makes.
#   bugs:  mc_bugs must be reported, at the lines marked MC-EXPECT in
#          verify/mc_bugs.c, as the error named there (invalid read, invalid
#          write, uninitialised jump, definitely lost) with the details
#          written there (the block's size and state, where the uninitialised
#          value came from, the bytes lost), and memcheck must report nothing
#          else: one error per marker.
#   clean: mc_clean must give no error at all (and no definite leak): a heap
#          that describes its blocks wrongly shows up as a false positive.
set -u

kind=$1 lib=$2 bin=$3
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

vg=(valgrind --tool=memcheck --soname-synonyms=somalloc=nouserintercepts
    --error-exitcode=99 --num-callers=12 --log-file="$log"
    --leak-check=full --errors-for-leak-kinds=definite)
[ "$kind" = bugs ] && vg+=(--track-origins=yes)
echo "== memcheck $kind on ${lib:-glibc, replaced by memcheck}"
if [ -n "$lib" ]; then
  out=$(env LD_PRELOAD="$lib" "${vg[@]}" "$bin/mc_$kind" 2>&1)
else
  out=$("${vg[@]}" "$bin/mc_$kind" 2>&1)
fi
rc=$?
echo "$out"
cat "$log"

case $kind in
clean)
  if [ $rc -ne 0 ] || ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
    echo "FAIL: memcheck reported errors in a correct program (exit $rc): $(grep -m1 -E '^==[0-9]+== [A-Z0-9]' "$log" | sed 's/^==[0-9]*== //')"
    exit 1
  fi
  exit 0 ;;
bugs) ;;
*) echo "memcheck.sh: bugs or clean" >&2; exit 2 ;;
esac

# One record per memcheck error: "kind|file:line|details".  file:line is the
# first frame in mc_bugs.c of the error's own stack (for a leak: the line
# that allocated the block); details are the address text of an invalid
# access, the origin of an uninitialised value, the size of a leak.
parse='
  function flush() { if (kind != "") print kind "|" at "|" detail; kind = "" }
  function start(k) { flush(); kind = k; at = ""; detail = ""; stack = 1 }
  /^Invalid (read|write) of size/ { start("invalid " $2); next }
  /^Conditional jump or move depends on uninitialised value/ { start("uninitialised jump"); next }
  /^[0-9,]+ bytes in [0-9,]+ blocks are definitely lost/ { start("definitely lost"); detail = $1 " bytes in " $4 " blocks"; next }
  /^(HEAP|LEAK|ERROR) SUMMARY/ { flush(); next }
  kind != "" && stack && /^   (at|by) / {
    if (at == "" && match($0, /[(]mc_bugs[.]c:[0-9]+[)]$/)) at = substr($0, RSTART + 1, RLENGTH - 2)
    next }
  kind != "" { stack = 0 }
  kind != "" && /^ Address 0x[0-9a-f]+ is / { sub(/^ Address 0x[0-9a-f]+ is /, ""); detail = $0 }
  kind != "" && /^ Uninitialised value was / { sub(/^ Uninitialised value was /, ""); detail = $0 }
  END { flush() }'
records=$(sed 's/^==[0-9]*== //' "$log" | awk "$parse")
echo "-- memcheck errors seen (kind|where|details):"
echo "${records:-(none)}"

fail=0 want=0
[ "$rc" -eq 99 ] || { echo "FAIL: valgrind exited $rc, want 99 (errors found)"; fail=1; }
grep -q 'mc_bugs: done' <<<"$out" || { echo "FAIL: mc_bugs did not run to its end"; fail=1; }
while IFS=: read -r line text; do
  text=${text#*MC-EXPECT: }
  text=${text% \*/*}
  want_kind=${text%%, *} want_detail=${text#*, }
  want=$((want + 1))
  if grep -qxF "$want_kind|mc_bugs.c:$line|$want_detail" <<<"$records"; then
    echo "seen: $want_kind at mc_bugs.c:$line, $want_detail"
  else
    echo "FAIL: no $want_kind at mc_bugs.c:$line reported as \"$want_detail\""
    fail=1
  fi
done < <(grep -n 'MC-EXPECT: ' "$here/mc_bugs.c" | grep -v '^[0-9]*: \*')
[ "$want" -ge 4 ] || { echo "FAIL: only $want MC-EXPECT markers found in mc_bugs.c"; fail=1; }
got=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log")
if [ "${got:-x}" != "$want" ]; then
  echo "FAIL: memcheck counted ${got:-no} errors, want exactly $want (one per MC-EXPECT): a misdescribed block changes it"
  fail=1
fi
exit $fail
