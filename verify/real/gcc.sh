#!/usr/bin/env bash
# verify: gcc compiles (to assembly and to an object), links and runs a
# generated C file; the md5 of the assembly and object and the program's
# output are the answer.  (bench/real/lib.sh protocol.)
V=$(cd "$(dirname "$0")" && pwd)
source "$V/../../bench/real/lib.sh"
make_input() { "$PY" "$V/gen_c.py" > "$W/gen.c"; }
run_it() {
  cd "$W" || exit 1
  rm -f gen.s gen.o gen
  {
    echo "source lines: $(wc -l < gen.c)"
    under_test /usr/bin/gcc -O2 -S -o gen.s gen.c
    under_test /usr/bin/gcc -O2 -c -o gen.o gen.c
    under_test /usr/bin/gcc -O1 -o gen gen.o
    echo "assembly: $(md5sum < gen.s)"
    echo "object:   $(md5sum < gen.o)"
    under_test ./gen
  } > "$W/out"
}
real_main "$@"
