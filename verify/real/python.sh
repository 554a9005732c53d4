#!/usr/bin/env bash
# verify: python3 running workload.py; PYTHONMALLOC=malloc, so every object,
# not only the big ones, comes from the heap.  (bench/real/lib.sh protocol.)
V=$(cd "$(dirname "$0")" && pwd)
source "$V/../../bench/real/lib.sh"
run_it() { PYTHONHASHSEED=0 PYTHONMALLOC=malloc under_test "$PY" -I "$V/workload.py" > "$W/out"; }
real_main "$@"
