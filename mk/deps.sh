#!/usr/bin/env bash
# Install the Debian packages the project needs, and only those missing.
# Run by `make deps` (and so by `make test` and `make bench`).  As root it
# installs with apt-get; otherwise it prints the exact command and fails, so a
# missing package is never discovered half-way through a long run.
set -euo pipefail

# One package per line: what it is for.
PACKAGES=(
  gcc g++ clang make            # compilers: gcc and clang both build warning-clean
  valgrind                      # memcheck/callgrind, valgrind/memcheck.h
  libbenchmark-dev              # Google Benchmark for bench/micro
  libjemalloc2                  # baseline: jemalloc
  libmimalloc2.0                # baseline: mimalloc
  libtcmalloc-minimal4          # baseline: tcmalloc
  libclang-rt-14-dev            # baseline: Scudo (standalone); sanitizer runtimes
  gnuplot-nox                   # report charts
  python3                       # /usr/bin/python3 runs the harness scripts
  afl++                         # fuzz/
  sqlite3 redis-server redis-tools git time  # real programs in verify/ and bench/
  pkgconf                       # pkg-config: the alloc-run test checks make install's .pc files
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "deps: all ${#PACKAGES[@]} packages present"; exit 0; }

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run as root:  $cmd" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
# policy-rc.d keeps package scripts from starting services (redis) we start ourselves.
prc=/usr/sbin/policy-rc.d; made_prc=0
if [ ! -e "$prc" ]; then printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; made_prc=1; fi
trap '[ $made_prc -eq 1 ] && rm -f "$prc"' EXIT
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
