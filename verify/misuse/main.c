/* main.c - run one misuse case, then the reuse probe.
 *
 *   misuse --list                  "name<TAB>class<TAB>what" for every case
 *   misuse [-l SUB] CASE           run CASE once
 *
 * -l SUB: exit 2 unless malloc resolves into an object whose path contains
 * SUB (a preload that did not interpose can never look like a result).
 * Stdout says where malloc came from and what the case and probe saw; stderr
 * is left to the allocator, after a line "--- misuse ---" written just before
 * the misuse, so the runner can tell a diagnostic from start-up noise.
 *
 * The reuse probe (a case that survives its misuse): allocate each registered
 * size again and again (4096 small or 8 large blocks, all kept live, each
 * written whole) and report a hit when the heap hands out
 *   - memory still live (overlaps a block the case still owns),
 *   - memory it never allocated (stack, .bss, the program's own mmap),
 *   - the planted address (memory the program named in a freed block),
 *   - the same block twice (two probe blocks overlap),
 * or when the heap itself faults during the probe.
 * Exit status: 0 survived and the probe saw nothing wrong ("silent"),
 * 3 a probe hit ("corrupted"), 4 freed memory read as zeros/poison,
 * 6 the bad request was refused, 77 the API is absent, 2 harness error;
 * anything else is the allocator's doing (signal, abort, its exit code).
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "misuse.h"

#define DECL(n, c, w) int misuse_##n(void);
MISUSE_CASES(DECL)
#undef DECL

static const struct mcase {
  const char *name, *cls, *what;
  int (*fn)(void);
} cases[] = {
#define ROW(n, c, w) {#n, #c, w, misuse_##n},
    MISUSE_CASES(ROW)
#undef ROW
};
#define NCASES (sizeof cases / sizeof cases[0])

struct region {
  uintptr_t lo, hi;
};
#define MAXREG 64
static struct {
  struct region live[MAXREG], foreign[MAXREG], planted[MAXREG];
  int nlive, nforeign, nplanted;
  size_t sizes[3];
  int nsizes;
  char *stack;
} M;
char bss_buf[8192] __attribute__((aligned(64)));

void say(const char *fmt, ...) {
  char b[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b, sizeof b - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof b - 2) n = sizeof b - 2;
  b[n++] = '\n';
  if (write(1, b, n) < 0) _exit(2);
}

static void add(struct region *r, int *n, void *p, size_t len) {
  if (*n == MAXREG) { say("harness: too many regions"); _exit(2); }
  r[*n].lo = (uintptr_t)p;
  r[*n].hi = (uintptr_t)p + (len ? len : 1);
  (*n)++;
}
void reg_live(void *p, size_t n) { if (p) add(M.live, &M.nlive, p, n); }
void reg_foreign(void *p, size_t n) { add(M.foreign, &M.nforeign, p, n); }
void reg_planted(void *p, size_t n) { add(M.planted, &M.nplanted, p, n); }
void reg_size(size_t n) {
  for (int i = 0; i < M.nsizes; i++)
    if (M.sizes[i] == n) return;
  if (M.nsizes < 3) M.sizes[M.nsizes++] = n;
}
char *stack_buf(void) { return M.stack; }

static const char *hit(const struct region *r, int n, uintptr_t lo, uintptr_t hi) {
  for (int i = 0; i < n; i++)
    if (lo < r[i].hi && r[i].lo < hi) return "";
  return NULL;
}

static volatile sig_atomic_t in_probe;
static void probe_fault(int sig) {
  static const char m[] = "probe: the heap faulted while serving requests after the misuse\n";
  if (write(1, m, sizeof m - 1) < 0) _exit(3);
  _exit(in_probe ? 3 : 128 + sig);
}

/* 0 when nothing was wrong, 3 on the first hit. */
static int probe(void) {
  static struct region got[4096];
  int ngot = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = probe_fault;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  in_probe = 1;
  for (int s = 0; s < M.nsizes; s++) {
    size_t sz = M.sizes[s], len = sz ? sz : 1;
    int rounds = sz >= LARGE ? 8 : 4096 / M.nsizes;
    for (int i = 0; i < rounds; i++) {
      char *p = malloc(sz);
      if (!p) continue;
      uintptr_t lo = (uintptr_t)p, hi = lo + len;
      const char *why = hit(M.live, M.nlive, lo, hi)       ? "memory still live"
                        : hit(M.foreign, M.nforeign, lo, hi) ? "memory it never allocated"
                        : hit(M.planted, M.nplanted, lo, hi) ? "the planted address"
                        : hit(got, ngot, lo, hi)             ? "the same block twice"
                                                             : NULL;
      if (why) {
        say("probe: malloc(%zu) #%d handed out %s: %p", sz, i, why, (void *)p);
        return 3;
      }
      memset(p, 0x6b, len);
      got[ngot].lo = lo;
      got[ngot].hi = hi;
      ngot++;
    }
  }
  in_probe = 0;
  say("probe: %d blocks, no overlap with live, foreign or planted memory", ngot);
  return 0;
}

int main(int argc, char **argv) {
  char stack[8192] __attribute__((aligned(64)));
  const char *want = NULL;
  int a = 1;
  if (argc == 2 && !strcmp(argv[1], "--list")) {
    for (size_t i = 0; i < NCASES; i++) printf("%s\t%s\t%s\n", cases[i].name, cases[i].cls, cases[i].what);
    return 0;
  }
  if (argc > 2 && !strcmp(argv[1], "-l")) want = argv[2], a = 3;
  if (a != argc - 1) {
    fprintf(stderr, "usage: misuse --list | misuse [-l SUB] CASE\n");
    return 2;
  }
  const struct mcase *c = NULL;
  for (size_t i = 0; i < NCASES; i++)
    if (!strcmp(cases[i].name, argv[a])) c = &cases[i];
  if (!c) {
    fprintf(stderr, "misuse: unknown case '%s' (see --list)\n", argv[a]);
    return 2;
  }
  /* The address this program's own calls bind to (through its GOT, with the
   * symbol version it was linked against), not dlsym's unversioned lookup:
   * libc_malloc_debug.so defines only versioned malloc@GLIBC_2.2.5. */
  void *f = hide((void *)(uintptr_t)&malloc);
  Dl_info info;
  const char *owner = f && dladdr(f, &info) && info.dli_fname ? info.dli_fname : "(unknown)";
  say("malloc: %s", owner);
  if (want && !strstr(owner, want)) {
    say("harness: preload not in effect: malloc resolves to %s, want *%s*", owner, want);
    return 2;
  }
  memset(stack, 0, sizeof stack);
  M.stack = hide(stack);
  reg_foreign(stack, sizeof stack);
  reg_foreign(bss_buf, sizeof bss_buf);
  static const char mark[] = "--- misuse ---\n";
  if (write(2, mark, sizeof mark - 1) < 0) return 2;
  say("case: %s (%s): %s", c->name, c->cls, c->what);
  int r = c->fn();
  if (r == MR_NA || r == MR_REFUSED) return r;
  say("survived the misuse");
  int p = probe();
  return p ? p : r;
}
