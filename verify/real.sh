#!/usr/bin/env bash
# real.sh - one real, unmodified program on one heap, output kept for comparison.
#
#   real.sh PROG LIB WORKDIR OUT [BASELINE]
#
# PROG is python | gcc | git | sort | sqlite.  LIB is the heap to LD_PRELOAD
# (absolute path), or "" for the baseline run on glibc.  The program's
# deterministic output goes to OUT; with BASELINE, OUT must equal it byte for
# byte.  Exit 0 when the program succeeded (and matched), 1 otherwise.
# Everything is done in WORKDIR, which is removed on success.  Input data that
# is the same for every heap (the sort input) is made once beside WORKDIR.
set -u
set -o pipefail

prog=$1 lib=$2 work=$3 out=$4 base=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3

# Only the program under test runs on the heap; helpers (data generation,
# md5sum) run on glibc so a heap bug shows up as that program's failure.
run() {
  if [ -n "$lib" ]; then env LD_PRELOAD="$lib" "$@"; else "$@"; fi
}

real_python() {
  # PYTHONMALLOC=malloc: every object, not only the big ones, comes from the heap.
  PYTHONHASHSEED=0 PYTHONMALLOC=malloc run "$py" -I "$here/real/workload.py"
}

real_gcc() {
  "$py" "$here/real/gen_c.py" > gen.c
  echo "source lines: $(wc -l < gen.c)"
  run /usr/bin/gcc -O2 -S -o gen.s gen.c
  run /usr/bin/gcc -O2 -c -o gen.o gen.c
  run /usr/bin/gcc -O1 -o gen gen.o
  echo "assembly: $(md5sum < gen.s)"
  echo "object:   $(md5sum < gen.o)"
  run ./gen
}

real_git() {
  export HOME=$work GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=Verify GIT_AUTHOR_EMAIL=verify@example.invalid
  export GIT_COMMITTER_NAME=Verify GIT_COMMITTER_EMAIL=verify@example.invalid
  export GIT_AUTHOR_DATE='2024-01-02T03:04:05Z' GIT_COMMITTER_DATE='2024-01-02T03:04:05Z'
  "$py" - repo <<'EOF'
import os, sys
root = sys.argv[1]
for i in range(360):
    d = os.path.join(root, f"dir{i % 12}", f"sub{i % 5}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i}.txt"), "w") as f:
        f.write("".join(f"line {j} of file {i}: {'x' * (j * i % 61)}\n" for j in range(i % 97 + 1)))
EOF
  run git init -q -b main repo
  run git -C repo add -A
  run git -C repo commit -q -m "initial import"
  "$py" - repo <<'EOF'
import os, sys
root = sys.argv[1]
for i in range(0, 360, 7):
    with open(os.path.join(root, f"dir{i % 12}", f"sub{i % 5}", f"file{i}.txt"), "a") as f:
        f.write(f"appended to {i}\n" * (i % 13 + 1))
for i in range(3, 360, 37):
    os.remove(os.path.join(root, f"dir{i % 12}", f"sub{i % 5}", f"file{i}.txt"))
os.makedirs(os.path.join(root, "new"), exist_ok=True)
for i in range(40):
    with open(os.path.join(root, "new", f"n{i}.c"), "w") as f:
        f.write(f"int f{i}(void) {{ return {i}; }}\n" * (i + 1))
EOF
  run git -C repo add -A
  run git -C repo commit -q -m "second: edit, delete, add"
  run git -C repo log --stat --format='%H %an <%ae> %ad %s'
  run git -C repo diff --stat --summary HEAD~1 HEAD
  run git -C repo gc -q
  run git -C repo fsck --strict --no-progress
  run git -C repo rev-list --objects --all | LC_ALL=C sort | md5sum
}

real_sort() {
  local input=$work/../sort.in
  if [ ! -s "$input" ]; then # ~60 MB, 1.2 M lines, made once per run
    "$py" - "$input.tmp" <<'EOF'
import random, sys
rng = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(1_200_000):
        f.write(f"{rng.getrandbits(32):08x} {rng.getrandbits(20)} {'k' * rng.randint(0, 30)} {i}\n")
EOF
    mv "$input.tmp" "$input"
  fi
  # -S: one in-memory buffer big enough for the whole input (no temp files).
  LC_ALL=C run sort -S 256M --parallel=2 "$input" | md5sum
  LC_ALL=C run sort -S 256M --parallel=2 -t ' ' -k2,2n -k4,4nr "$input" | md5sum
  LC_ALL=C run sort -S 256M -u -t ' ' -k3,3 "$input" | md5sum
}

real_sqlite() {
  run sqlite3 -batch -bail db.sqlite < "$here/real/workload.sql"
}

case $prog in
  python | gcc | git | sort | sqlite) ;;
  *) echo "real.sh: unknown program '$prog'" >&2; exit 2 ;;
esac
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

echo "== $prog on ${lib:-glibc (no preload)}"
( set -e; "real_$prog" ) > "$out" 2> "$work/stderr.txt"
rc=$?
cat "$work/stderr.txt"
if [ $rc -ne 0 ]; then
  echo "FAIL: $prog exited with status $rc"
  exit 1
fi
if grep -q -e 'cannot be preloaded' -e ': fatal: ' "$work/stderr.txt"; then
  echo "FAIL: $(grep -m1 -e 'cannot be preloaded' -e ': fatal: ' "$work/stderr.txt")"
  exit 1
fi
if [ -n "$base" ]; then
  if [ ! -f "$base" ]; then
    echo "FAIL: no baseline output $base (the glibc run failed?)"
    exit 1
  fi
  if ! cmp -s "$base" "$out"; then
    echo "FAIL: output differs from the run on glibc:"
    diff -u "$base" "$out" | head -40
    exit 1
  fi
  echo "output identical to the run on glibc ($(wc -l < "$out") lines)"
fi
cd / && rm -rf "$work"
exit 0
