#!/usr/bin/env bash
# options.sh - the run-time options of one of our heaps (ALLOC_* variables),
# through LD_PRELOAD on a real program.
#
#   options.sh HEAP LIB
#
# Checks (see common/options.h for the list of options):
#   - with no ALLOC_* set the heap prints nothing;
#   - ALLOC_VERBOSE=on prints the options in force, by name;
#   - a bad value, and an unknown ALLOC_ variable, each get a warning naming
#     the variable, and the program still runs normally;
#   - ALLOC_SHOW_STATS=text prints statistics at exit, =json one JSON object.
set -u
heap=$1 lib=$2
fail=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

# run VAR=VALUE... : stdout of a program printing "hello", on the heap; its
# stderr to $err.  (Not /bin/echo: coreutils close fd 2 at exit, before the
# heap's destructor can print statistics there.)
run() { env LD_PRELOAD="$lib" "$@" /usr/bin/python3 -I -c 'print("hello")' 2> "$err"; }
bad() { echo "FAIL: $*"; sed 's/^/    stderr: /' "$err" | head -5; fail=1; }

out=$(run)
[ "$out" = hello ] && [ ! -s "$err" ] || bad "with no option set, the heap printed something (or echo failed: '$out')"

out=$(run ALLOC_VERBOSE=on)
[ "$out" = hello ] && grep -q 'ALLOC_VERBOSE' "$err" || bad "ALLOC_VERBOSE=on did not print the options by name"
echo "verbose print-back:"; sed 's/^/    /' "$err"

out=$(run ALLOC_VERBOSE=banana)
[ "$out" = hello ] && grep -q 'ALLOC_VERBOSE' "$err" || bad "ALLOC_VERBOSE=banana: no warning naming ALLOC_VERBOSE"

out=$(run ALLOC_NO_SUCH_OPTION=1)
[ "$out" = hello ] && grep -q 'ALLOC_NO_SUCH_OPTION' "$err" || bad "unknown ALLOC_NO_SUCH_OPTION: no warning naming it"

out=$(run ALLOC_SHOW_STATS=text)
[ "$out" = hello ] && [ -s "$err" ] || bad "ALLOC_SHOW_STATS=text printed no statistics"

out=$(run ALLOC_SHOW_STATS=json)
if [ "$out" != hello ] || ! /usr/bin/python3 -c 'import json, sys; json.loads(open(sys.argv[1]).read())' "$err" 2>/dev/null; then
  bad "ALLOC_SHOW_STATS=json did not print one JSON object"
fi

[ $fail -eq 0 ] && echo "ok options ($heap)"
exit $fail
