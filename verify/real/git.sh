#!/usr/bin/env bash
# verify: git init, add, two commits (edit, delete, add), log, diff, gc,
# fsck on a generated tree; fixed names and dates, so the output (hashes
# included) is the same on every heap.  (bench/real/lib.sh protocol.)
V=$(cd "$(dirname "$0")" && pwd)
source "$V/../../bench/real/lib.sh"
run_it() {
  cd "$W" || exit 1
  rm -rf repo
  export HOME=$W GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=Verify GIT_AUTHOR_EMAIL=verify@example.invalid
  export GIT_COMMITTER_NAME=Verify GIT_COMMITTER_EMAIL=verify@example.invalid
  export GIT_AUTHOR_DATE='2024-01-02T03:04:05Z' GIT_COMMITTER_DATE='2024-01-02T03:04:05Z'
  {
    "$PY" - repo <<'GEN'
import os, sys
root = sys.argv[1]
for i in range(360):
    d = os.path.join(root, f"dir{i % 12}", f"sub{i % 5}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i}.txt"), "w") as f:
        f.write("".join(f"line {j} of file {i}: {'x' * (j * i % 61)}\n" for j in range(i % 97 + 1)))
GEN
    under_test git init -q -b main repo
    under_test git -C repo add -A
    under_test git -C repo commit -q -m "initial import"
    "$PY" - repo <<'GEN'
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
GEN
    under_test git -C repo add -A
    under_test git -C repo commit -q -m "second: edit, delete, add"
    under_test git -C repo log --stat --format='%H %an <%ae> %ad %s'
    under_test git -C repo diff --stat --summary HEAD~1 HEAD
    under_test git -C repo gc -q
    under_test git -C repo fsck --strict --no-progress
    under_test git -C repo rev-list --objects --all | LC_ALL=C sort | md5sum
  } > "$W/out"
}
real_main "$@"
