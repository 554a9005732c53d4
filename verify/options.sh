#!/usr/bin/env bash
# options.sh - the run-time options of one of our heaps (ALLOC_* variables),
# through LD_PRELOAD on a real program.
#
#   options.sh HEAP LIB
#
# Checks (the option and statistic names are read from their one list,
# common/options.h and common/stats.h):
#   - with no ALLOC_* set the heap prints nothing;
#   - ALLOC_VERBOSE=on prints every option in force, by name, once each, with
#     the value given (ALLOC_DECAY_MS=250 shows as 250) and nothing else wrong;
#   - a bad value gets exactly one warning line naming the variable, and the
#     default is kept (seen in the verbose print-back); an unknown ALLOC_
#     variable gets exactly one line naming it; the program runs normally;
#   - ALLOC_SHOW_STATS=text prints the heap's statistics, every one by name,
#     with blocks counted; =json one JSON object with the same figures;
#     ALLOC_STATS_FD=3 sends them to fd 3, not stderr.
set -u
heap=$1 lib=$2
name=alloc_$heap
fail=0
err=$(mktemp) fd3=$(mktemp)
trap 'rm -f "$err" "$fd3"' EXIT
options=$(sed -n 's/^ *X([a-z_]*, *\([A-Z_]*\),.*/ALLOC_\1/p' common/options.h)
stats=$(sed -n 's/^ *X(\([a-z_]*\), *".*/\1/p' common/stats.h)
[ "$(echo "$options" | wc -w)" -ge 3 ] && [ "$(echo "$stats" | wc -w)" -ge 5 ] ||
  { echo "FAIL: could not read the option/statistic lists from common/"; exit 1; }

# run VAR=VALUE... : stdout of a program printing "hello", on the heap; its
# stderr to $err.  (Not /bin/echo: coreutils close fd 2 at exit, before the
# heap's destructor can print statistics there.)
run() { env LD_PRELOAD="$lib" "$@" /usr/bin/python3 -I -c 'print("hello")' 2> "$err" 3> "$fd3"; }
bad() { echo "FAIL: $*"; sed 's/^/    stderr: /' "$err" | head -8; fail=1; }
lines() { grep -c . "$err"; }

out=$(run)
[ "$out" = hello ] && [ ! -s "$err" ] || bad "with no option set, the heap printed something (or the program failed: '$out')"

out=$(run ALLOC_VERBOSE=on ALLOC_DECAY_MS=250)
[ "$out" = hello ] || bad "ALLOC_VERBOSE=on: the program failed ('$out')"
for o in $options; do
  [ "$(grep -c "^$name: option $o=" "$err")" = 1 ] || bad "ALLOC_VERBOSE=on: '$name: option $o=' not printed exactly once"
done
grep -qx "$name: option ALLOC_VERBOSE=1" "$err" || bad "ALLOC_VERBOSE=on: not shown as ALLOC_VERBOSE=1"
grep -qx "$name: option ALLOC_DECAY_MS=250" "$err" || bad "ALLOC_DECAY_MS=250: the print-back does not show 250"
! grep -q 'warning' "$err" || bad "ALLOC_VERBOSE=on with good values printed a warning"
echo "verbose print-back:"; sed 's/^/    /' "$err"

out=$(run ALLOC_VERBOSE=banana)
[ "$out" = hello ] && [ "$(lines)" = 1 ] && grep -q "^$name: warning: ALLOC_VERBOSE='banana'" "$err" ||
  bad "ALLOC_VERBOSE=banana: not exactly one warning line naming ALLOC_VERBOSE='banana'"

out=$(run ALLOC_VERBOSE=on ALLOC_DECAY_MS=-5)
[ "$out" = hello ] && [ "$(grep -c "^$name: warning: ALLOC_DECAY_MS='-5'" "$err")" = 1 ] &&
  [ "$(grep -c warning "$err")" = 1 ] && grep -qx "$name: option ALLOC_DECAY_MS=1000" "$err" ||
  bad "ALLOC_DECAY_MS=-5: want one warning naming it and the default 1000 kept"

out=$(run ALLOC_NO_SUCH_OPTION=1)
[ "$out" = hello ] && [ "$(lines)" = 1 ] && grep -q "^$name: warning: .*ALLOC_NO_SUCH_OPTION" "$err" ||
  bad "unknown ALLOC_NO_SUCH_OPTION: not exactly one warning line naming it"

out=$(run ALLOC_SHOW_STATS=text)
[ "$out" = hello ] && grep -qx "$name statistics" "$err" || bad "ALLOC_SHOW_STATS=text: no '$name statistics' heading"
for s in $stats; do
  grep -Eq "^ *[0-9]+  $s - " "$err" || bad "ALLOC_SHOW_STATS=text: statistic $s not printed with a figure"
done
grep -Eq '^ *[1-9][0-9]*  allocs - ' "$err" || bad "ALLOC_SHOW_STATS=text: allocs is 0 after a Python start"

out=$(run ALLOC_SHOW_STATS=json)
if [ "$out" != hello ] || ! /usr/bin/python3 - "$err" "$name" $stats <<'PY'; then
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["heap"] == sys.argv[2], d.get("heap")
missing = [k for k in sys.argv[3:] if not isinstance(d.get(k), int)]
assert not missing, missing
assert d["allocs"] > 0 and d["allocs"] - d["frees"] == d["live_blocks"], (d["allocs"], d["frees"], d["live_blocks"])
PY
  bad "ALLOC_SHOW_STATS=json did not print one JSON object with every statistic (allocs - frees = live_blocks)"
fi

out=$(run ALLOC_SHOW_STATS=text ALLOC_STATS_FD=3)
[ "$out" = hello ] && [ ! -s "$err" ] && grep -qx "$name statistics" "$fd3" ||
  bad "ALLOC_STATS_FD=3: statistics not on fd 3 alone"

[ $fail -eq 0 ] && echo "ok options ($heap)"
exit $fail
