#!/usr/bin/env bash
# python3 running an allocation-heavy script (dicts, strings, lists, JSON),
# with PYTHONMALLOC=malloc so every object goes through the heap under test.
source "$(dirname "$0")/lib.sh"
run_it() {
  PYTHONMALLOC=malloc PYTHONHASHSEED=0 under_test "$PY" "$HERE/alloc_heavy.py" "$(scaled 400000 5000)" > "$W/out"
}
real_main "$@"
