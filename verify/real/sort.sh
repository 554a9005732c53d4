#!/usr/bin/env bash
# verify: GNU sort, two threads, in memory, three orders of a ~60 MB input;
# the md5 of each output is the answer.  (bench/real/lib.sh protocol.)
V=$(cd "$(dirname "$0")" && pwd)
source "$V/../../bench/real/lib.sh"
make_input() { # ~60 MB, 1.2 M lines
  "$PY" - "$W/sort.in" <<'GEN'
import random, sys
rng = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(1_200_000):
        f.write(f"{rng.getrandbits(32):08x} {rng.getrandbits(20)} {'k' * rng.randint(0, 30)} {i}\n")
GEN
}
run_it() {
  # -S: one in-memory buffer big enough for the whole input (no temp files).
  {
    LC_ALL=C under_test sort -S 256M --parallel=2 "$W/sort.in" | md5sum
    LC_ALL=C under_test sort -S 256M --parallel=2 -t ' ' -k2,2n -k4,4nr "$W/sort.in" | md5sum
    LC_ALL=C under_test sort -S 256M -u -t ' ' -k3,3 "$W/sort.in" | md5sum
  } > "$W/out"
}
real_main "$@"
