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
#          verify/mc_bugs.c, as the invalid read/write named there, with the
#          block's size and state described as written there.
#   clean: mc_clean must give no error at all (and no definite leak): a heap
#          that describes its blocks wrongly shows up as a false positive.
set -u

kind=$1 lib=$2 bin=$3
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

vg=(valgrind --tool=memcheck --soname-synonyms=somalloc=nouserintercepts
    --error-exitcode=99 --num-callers=12 --log-file="$log")
[ "$kind" = clean ] && vg+=(--leak-check=full --errors-for-leak-kinds=definite)
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
    echo "FAIL: memcheck reported errors in a correct program (exit $rc): $(grep -m1 -E '^==[0-9]+== [A-Z]' "$log" | sed 's/^==[0-9]*== //')"
    exit 1
  fi
  exit 0 ;;
bugs) ;;
*) echo "memcheck.sh: bugs or clean" >&2; exit 2 ;;
esac

# One record per memcheck error: "kind|file:line of the first frame|address text".
parse='
  /^Invalid (read|write) of size/ { kind = ($2 == "read") ? "read" : "write"; at = ""; next }
  kind != "" && at == "" && /^   at / { if (match($0, /[(][^():]+:[0-9]+[)]$/)) at = substr($0, RSTART + 1, RLENGTH - 2); next }
  kind != "" && /^ Address 0x[0-9a-f]+ is / { sub(/^ Address 0x[0-9a-f]+ is /, ""); print kind "|" at "|" $0; kind = "" }'
records=$(sed 's/^==[0-9]*== //' "$log" | awk "$parse")
echo "-- memcheck errors seen (kind|where|address):"
echo "${records:-(none)}"

fail=0
[ "$rc" -eq 99 ] || { echo "FAIL: valgrind exited $rc, want 99 (errors found)"; fail=1; }
grep -q 'mc_bugs: done' <<<"$out" || { echo "FAIL: mc_bugs did not run to its end"; fail=1; }
while IFS=: read -r line text; do
  want_kind=$(sed -E 's/.*invalid (read|write), .*/\1/' <<<"$text")
  want_addr=$(sed -E 's/.*invalid (read|write), (.*) \*\/.*/\2/' <<<"$text")
  if grep -qF "$want_kind|mc_bugs.c:$line|$want_addr" <<<"$records"; then
    echo "seen: invalid $want_kind at mc_bugs.c:$line, $want_addr"
  else
    echo "FAIL: no invalid $want_kind at mc_bugs.c:$line reported as \"$want_addr\""
    fail=1
  fi
done < <(grep -n 'MC-EXPECT' "$here/mc_bugs.c" | grep -v '^[0-9]*: \*')
exit $fail
