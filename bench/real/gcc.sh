#!/usr/bin/env bash
# gcc -O2 compiling one large generated C file.  The answer is the object's
# symbol table, which must match the reference compile.
source "$(dirname "$0")/lib.sh"
make_input() {
  "$PY" - "$(scaled 200 10)" > "$W/big.c" <<'GEN'
import sys
n = int(sys.argv[1])
print("#include <string.h>")
print("struct rec { int a, b; double c; char name[24]; struct rec *next; };")
for i in range(n):
    print(f"""
static int helper_{i}(const int *v, int len) {{
  int acc = {i};
  for (int k = 0; k < len; k++) {{
    switch ((v[k] + {i}) % 7) {{
      case 0: acc += v[k] * {i % 13 + 1}; break;
      case 1: acc ^= v[k] << {i % 5}; break;
      case 2: acc -= v[k] / {i % 3 + 1}; break;
      case 3: acc = acc * 31 + k; break;
      case 4: if (acc > {i * 3}) acc /= 2; break;
      default: acc += len;
    }}
  }}
  return acc;
}}
int api_{i}(struct rec *r, int n) {{
  int v[16];
  for (int k = 0; k < 16; k++) v[k] = r ? r->a + k * {i % 11} : k;
  double total = 0;
  for (struct rec *p = r; p && n-- > 0; p = p->next) {{
    total += p->c * helper_{i}(v, 16);
    if (strlen(p->name) > {i % 20}) p->b += (int)total;
  }}
  return (int)total + helper_{i}(v, {i % 16});
}}""")
GEN
}
run_it() {
  under_test gcc -O2 -c "$W/big.c" -o "$W/out.o"
  mv "$W/out.o" "$W/out"
}
check_it() {
  [ "$(nm "$W/out" | wc -l)" -gt 0 ] || wrong "object has no symbols"
  diff -q <(nm "$W/out") <(nm "$W/ref") >/dev/null || wrong "symbol table differs from the reference"
}
real_main "$@"
