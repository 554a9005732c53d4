"""Write a C program of a few thousand lines for verify/real.sh to compile:
many functions with loops, switches, structs and string tables, and a main
that calls them all and prints a checksum.  Deterministic."""
import sys

N = 220
out = ["#include <stdio.h>", "#include <string.h>", "#include <stdlib.h>", ""]
out.append("struct rec { long a; int b[8]; const char *s; };")
for f in range(N):
    out += [
        f"static const char *names_{f}[] = {{\"alpha{f}\", \"beta{f}\", \"gamma{f}\", \"delta{f}\"}};",
        f"static long fn_{f}(long x) {{",
        "  struct rec r;",
        "  long acc = x;",
        "  int i;",
        f"  r.a = x * {f + 3};",
        f"  r.s = names_{f}[x & 3];",
        "  for (i = 0; i < 8; i++) r.b[i] = (int)(x + i);",
        f"  for (i = 0; i < {f % 17 + 3}; i++) {{",
        "    switch ((acc + i) % 5) {",
        f"    case 0: acc += r.b[i % 8] * {f % 11 + 1}; break;",
        f"    case 1: acc ^= (long)strlen(r.s) << {f % 13}; break;",
        f"    case 2: acc = acc * 31 + {f}; break;",
        "    case 3: acc -= r.a / (i + 1); break;",
        "    default: acc += i; break;",
        "    }",
        "  }",
        "  return acc;",
        "}",
        "",
    ]
out.append("int main(void) {")
out.append("  long sum = 0;")
for f in range(N):
    out.append(f"  sum = sum * 3 + fn_{f}(sum & 1023);")
out.append('  printf("checksum %ld\\n", sum);')
out.append("  return 0;")
out.append("}")
sys.stdout.write("\n".join(out) + "\n")
