#!/usr/bin/env bash
# Regenerate the seed corpus (fuzz/corpus/*.bin) and the AFL dictionary
# (fuzz/alloc.dict) from fuzz/seeds.c.  The output depends only on seeds.c and
# ops.h, so it is the same on every machine; `bash fuzz/run.sh --smoke` fails
# when the committed files differ from what this writes.
#
#   bash fuzz/gen_corpus.sh [HARNESS]
#
# HARNESS: any built fuzz_<heap> binary (default: build the glibc test double
# with the top Makefile and use it; the seeds do not depend on the heap).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

bin=${1:-$BUILD/fuzz/fuzz_glibcdouble}
if [ $# -eq 0 ]; then
  make -s "$bin"
fi
[ -x "$bin" ] || { echo "gen_corpus: no harness at $bin" >&2; exit 1; }

mkdir -p fuzz/corpus
rm -f fuzz/corpus/*.bin
"$bin" --write-seeds fuzz/corpus
"$bin" --write-dict fuzz/alloc.dict
echo "gen_corpus: $(ls fuzz/corpus | wc -l) seeds in fuzz/corpus, dictionary fuzz/alloc.dict"
