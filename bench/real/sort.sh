#!/usr/bin/env bash
# GNU sort on a large generated file (numeric key, then text); the output
# must match the reference sort.
source "$(dirname "$0")/lib.sh"
make_input() {
  "$PY" - "$(scaled 1500000 10000)" > "$W/input" <<'GEN'
import random, sys
r = random.Random(1234)
w = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
out = sys.stdout
for i in range(int(sys.argv[1])):
    out.write("%s-%d %d %s\n" % (r.choice(w), r.randrange(10**6), r.randrange(10**5), "x" * r.randrange(40)))
GEN
}
run_it() { LC_ALL=C under_test sort -t ' ' -k2,2n -k1,1 "$W/input" > "$W/out"; }
real_main "$@"
