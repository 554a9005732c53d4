#!/usr/bin/env bash
# verify: sqlite3 on a file database running workload.sql (WAL, indexes,
# joins, vacuum, integrity check).  (bench/real/lib.sh protocol.)
V=$(cd "$(dirname "$0")" && pwd)
source "$V/../../bench/real/lib.sh"
run_it() {
  rm -f "$W"/db.sqlite*
  under_test sqlite3 -batch -bail "$W/db.sqlite" < "$V/workload.sql" > "$W/out"
}
real_main "$@"
