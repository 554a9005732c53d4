/*
 * misuse.c - misuse mode: commit one claimed misuse in a forked child and
 * check that the heap dies of it with the claimed line (misuse.h, ops.h).
 *
 * Bound to one heap, like harness.c.  The parent never commits the misuse:
 * its heap and model stay as they were, so the harness frees everything as
 * usual when the input ends.  In the child the misuse is the last thing
 * done; stderr goes to a pipe the parent reads.  Outcomes:
 *   child killed by a signal, a line contains the claim's message -> pass
 *   child exits (the heap accepted the misuse)                  -> FAIL misuse
 *   child dies without the line, or with another one            -> FAIL misuse
 *   child still running after CHILD_SECONDS                     -> FAIL misuse
 * A claim whose message is "-" needs only the heap's fatal line
 * ("<heap>: fatal: ").  A claim with how "fault" also passes when the child
 * dies by SIGSEGV or SIGBUS; "zeroed" claims are not run (no death).
 */
#include "misuse.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap_bind.h"
#include "fuzz_claims.h" /* generated from the heap's claims.tsv (fuzz.mk) */

#define CHILD_SECONDS 10
#define SMALL_MIN 16           /* a "small" block here: req in [16, 64] */
#define SMALL_MAX 64           /* verify/misuse's SMALL */
#define LARGE_MIN (256u << 10) /* verify/misuse's LARGE: large in every heap */
/* The child's exit status when the misuse found nothing to commit it on
 * (UNDERFLOW: no two blocks next to each other): skipped, not accepted. */
#define MISUSE_NOT_APPLICABLE 77

const char *const misuse_names[MISUSE_COUNT] = {
#define M_NAME(name, nargs, cls, doc) "MISUSE_" #name,
    FUZZ_MISUSES(M_NAME)
#undef M_NAME
};
const unsigned char misuse_nargs[MISUSE_COUNT] = {
#define M_NARGS(name, nargs, cls, doc) nargs,
    FUZZ_MISUSES(M_NARGS)
#undef M_NARGS
};
static const char *const misuse_class[MISUSE_COUNT] = {
#define M_CLASS(name, nargs, cls, doc) cls,
    FUZZ_MISUSES(M_CLASS)
#undef M_CLASS
};

static const struct claim {
  const char *cls, *how, *msg;
} claims[] = {
#define CLAIM_ROW(cls, how, msg) {cls, how, msg},
    FUZZ_CLAIMS(CLAIM_ROW)
#undef CLAIM_ROW
    {NULL, NULL, NULL}};

/* The heap's claim for class `cls` that misuse mode can check: "abort" (the
 * line), or "fault" (the line, or death by SIGSEGV/SIGBUS); NULL otherwise
 * ("zeroed" is not a death, and no claim at all). */
static const struct claim *claim_of(const char *cls) {
  if (!cls) return NULL;
  for (const struct claim *c = claims; c->cls; c++)
    if (!strcmp(c->cls, cls) && (!strcmp(c->how, "abort") || !strcmp(c->how, "fault"))) return c;
  return NULL;
}

int misuse_claimed(enum fuzz_misuse mu) {
  if (mu == MISUSE_DOUBLE_FREE) return claim_of("double_free_small") || claim_of("double_free_large");
  if (mu == MISUSE_OVERFLOW) return claim_of("overflow_small") || claim_of("overflow_large");
  return claim_of(misuse_class[mu]) != NULL;
}

/* A .bss region the heap never mapped: the foreign pointers, the planted link. */
static unsigned char foreign[16 << 10] __attribute__((aligned(4096)));

struct plan {
  enum fuzz_misuse mu;
  unsigned char *p;   /* the pointer given to the heap */
  size_t req;         /* the model block's size (or 0) */
  size_t arg;         /* SIZE_MISMATCH: the wrong size; OVERFLOW: bytes */
  size_t usable;      /* OVERFLOW: malloc_usable_size(p) */
  const char *cls[2]; /* the classes whose message is accepted */
};

/* What the child does; it returns only if the heap accepted every call. */
static void commit(const struct plan *pl) {
  void *volatile sink;
  switch (pl->mu) {
  case MISUSE_DOUBLE_FREE: H(free)(pl->p); H(free)(pl->p); break;
  case MISUSE_FREE_INTERIOR: case MISUSE_FREE_WILD: case MISUSE_FREE_FOREIGN:
    H(free)(pl->p);
    break;
  case MISUSE_REALLOC_INTERIOR: case MISUSE_REALLOC_WILD: case MISUSE_REALLOC_FOREIGN:
    sink = H(realloc)(pl->p, 64);
    break;
  case MISUSE_USABLE_INTERIOR: case MISUSE_USABLE_WILD: case MISUSE_USABLE_FOREIGN:
    sink = (void *)(uintptr_t)H(malloc_usable_size)(pl->p);
    break;
  case MISUSE_REALLOC_FREED: H(free)(pl->p); sink = H(realloc)(pl->p, pl->req + 16); break;
  case MISUSE_USABLE_FREED:
    H(free)(pl->p);
    sink = (void *)(uintptr_t)H(malloc_usable_size)(pl->p);
    break;
  case MISUSE_FREELIST_POISON: {
    /* As verify/misuse's poison cases, on the fuzzed heap: two blocks of
     * this thread freed, so the list it pops next follows the overwritten
     * link.  (Fresh blocks: a slot's block may belong to another thread.) */
    void *other = H(malloc)(pl->req);
    unsigned char *p = H(malloc)(pl->req);
    H(free)(other);
    H(free)(p);
    void *planted = foreign + 64;
    memcpy(p, &planted, sizeof planted);
    memcpy(p + 8, &planted, sizeof planted);
    for (int i = 0; i < 4096; i++) sink = H(malloc)(pl->req); /* as its probe */
    break;
  }
  case MISUSE_SIZE_MISMATCH: H(free_sized)(pl->p, pl->arg); break;
  case MISUSE_OVERFLOW: /* arg bytes past the usable size, each changed, then free */
    for (size_t i = 0; i < pl->arg; i++) pl->p[pl->usable + i] ^= 0x5a;
    H(free)(pl->p);
    break;
  case MISUSE_UAF_WRITE: /* as verify/misuse's uaf_write cases */
    H(free)(pl->p);
    for (size_t i = 16; i < pl->req && i < 64; i++) pl->p[i] ^= 0x5a;
    for (int i = 0; i < (pl->req >= LARGE_MIN ? 8 : 4096); i++) sink = H(malloc)(pl->req);
    break;
  case MISUSE_UNDERFLOW: { /* as verify/misuse's unf cases, below a block's start */
    /* Two blocks next to each other (the gap between them at most 16
     * bytes: the lower one's canary or header), so the bytes changed are
     * the neighbour's, never a stranger's the child would not free. */
    unsigned char *blk[64], *lo = NULL, *hi = NULL;
    for (int i = 0; i < 64 && !hi; i++) {
      blk[i] = H(malloc)(pl->req);
      for (int j = 0; j < i && blk[i] && !hi; j++) {
        unsigned char *a = blk[i] < blk[j] ? blk[i] : blk[j], *b = blk[i] < blk[j] ? blk[j] : blk[i];
        uintptr_t end = (uintptr_t)a + H(malloc_usable_size)(a), start = (uintptr_t)b;
        if (end <= start && start - end <= 16) lo = a, hi = b;
      }
    }
    if (!hi) _exit(MISUSE_NOT_APPLICABLE);
    for (size_t i = 1; i <= pl->arg; i++) hi[-(ptrdiff_t)i] ^= 0x5a;
    H(free)(hi);
    H(free)(lo);
    break;
  }
  case MISUSE_COUNT: break;
  }
  (void)sink;
}

/* Decide what `mu` does with these operands; 0 if it does not apply. */
static int make_plan(struct plan *pl, enum fuzz_misuse mu, const unsigned char *a,
                     const struct model *m) {
  const struct block *b = &m->slot[a[0] % FUZZ_SLOTS];
  unsigned off16 = (unsigned)a[1] | (unsigned)a[2] << 8;
  *pl = (struct plan){.mu = mu, .p = b->p, .req = b->req, .cls = {misuse_class[mu], NULL}};
  int small = b->p && b->req >= SMALL_MIN && b->req <= SMALL_MAX;
  /* A block from the aligned allocators may be large whatever its size (a
   * heap serves a big alignment from its own mapping): either class fits. */
  int aligned = b->p && b->kind != KIND_MALLOC;
  switch (mu) {
  case MISUSE_DOUBLE_FREE:
    if (!b->p || b->remote) return 0;
    pl->cls[0] = b->req >= LARGE_MIN ? NULL : "double_free_small";
    pl->cls[1] = b->req <= SMALL_MAX && !aligned ? NULL : "double_free_large";
    break;
  case MISUSE_FREE_INTERIOR: case MISUSE_REALLOC_INTERIOR: case MISUSE_USABLE_INTERIOR:
    if (!b->p || b->req < 2) return 0;
    pl->p = b->p + 1 + off16 % (b->req - 1);
    break;
  case MISUSE_FREE_WILD: case MISUSE_REALLOC_WILD: case MISUSE_USABLE_WILD:
    pl->p = (unsigned char *)(uintptr_t)(16 + 16 * (size_t)a[0]); /* below mmap_min_addr */
    break;
  case MISUSE_FREE_FOREIGN: case MISUSE_REALLOC_FOREIGN: case MISUSE_USABLE_FOREIGN:
    pl->p = foreign + 16 * (size_t)a[0];
    break;
  case MISUSE_REALLOC_FREED: case MISUSE_USABLE_FREED:
    if (!small || b->kind != KIND_MALLOC || b->remote) return 0;
    break;
  case MISUSE_FREELIST_POISON: /* the slot's block gives the size only */
    if (!small) return 0;
    break;
  case MISUSE_SIZE_MISMATCH: {
    if (!b->p || b->kind != KIND_MALLOC) return 0;
    size_t u = H(malloc_usable_size)(b->p);
    if (a[1] & 1) {
      /* Less than half the block: a size a small block cannot have (unless
       * it is of the smallest class).  Not asked of large blocks, which
       * realloc may shrink in place to any size above the small range. */
      if (!small || u < 32) return 0;
      pl->arg = u / 2 - 1;
    } else {
      pl->arg = u + 1 + a[1]; /* more than the block */
    }
    break;
  }
  case MISUSE_OVERFLOW:
    if (!b->p || b->remote) return 0;
    pl->usable = H(malloc_usable_size)(b->p);
    pl->arg = 1 + a[1] % 8;
    pl->cls[0] = b->req >= LARGE_MIN ? NULL : "overflow_small";
    pl->cls[1] = b->req <= SMALL_MAX && !aligned ? NULL : "overflow_large";
    /* Past a malloc(0) block is verify/misuse's malloc0 class: alloc_checked
     * gives it a slot with no usable byte that faults ("fault" claim). */
    if (b->req == 0) pl->cls[0] = "malloc0", pl->cls[1] = NULL;
    break;
  case MISUSE_UAF_WRITE:
    if (!b->p || b->remote || b->kind != KIND_MALLOC || b->req < 32 ||
        (b->req > SMALL_MAX && b->req < LARGE_MIN))
      return 0;
    break;
  case MISUSE_UNDERFLOW: /* the slot's block gives the size only */
    if (!small) return 0;
    pl->arg = 1 + a[1] % 16;
    break;
  case MISUSE_COUNT: return 0;
  }
  return 1;
}

/* Does the child's stderr hold `needle` (NULL: a class not accepted here)? */
static int has_line(const char *text, const char *needle) {
  return needle && strstr(text, needle) != NULL;
}

unsigned long misuse_checked, misuse_skipped;

int misuse_run(enum fuzz_misuse mu, const unsigned char *a, const struct model *m) {
  struct plan pl;
  if (!make_plan(&pl, mu, a, m)) return 0;
  const char *want[2] = {NULL, NULL};
  int fault_ok = 0;
  for (int i = 0; i < 2; i++) {
    const struct claim *c = claim_of(pl.cls[i]);
    if (!c) continue;
    want[i] = strcmp(c->msg, "-") ? c->msg : FUZZ_HEAP_NAME ": fatal: ";
    fault_ok |= !strcmp(c->how, "fault");
  }
  if (!want[0] && !want[1]) return 0; /* e.g. a mid-size double free, one class claimed */

  int fds[2];
  if (pipe(fds)) model_fail("harness", "pipe failed: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) model_fail("harness", "fork failed: %s", strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    /* The heap's death is the outcome: no handler of libFuzzer or a
     * sanitizer may turn it into an exit status. */
    static const int deadly[] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGALRM};
    for (unsigned i = 0; i < sizeof deadly / sizeof deadly[0]; i++) signal(deadly[i], SIG_DFL);
    alarm(CHILD_SECONDS);
    commit(&pl);
    _exit(0); /* the heap accepted the misuse */
  }
  close(fds[1]);
  char text[4096];
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fds[0], text + n, sizeof text - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == sizeof text - 1) break;
  }
  close(fds[0]);
  text[n] = 0;
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  char first[200];
  size_t k = strcspn(text, "\n");
  snprintf(first, sizeof first, "%.*s", (int)(k < sizeof first - 1 ? k : sizeof first - 1), text);
  const char *cls = pl.cls[0] ? pl.cls[0] : pl.cls[1];
  if (WIFEXITED(st) && WEXITSTATUS(st) == MISUSE_NOT_APPLICABLE && n == 0) {
    misuse_skipped++;
    return 0;
  }
  if (WIFEXITED(st))
    model_fail("misuse", "%s on %p (req %zu, class %s): the child returned from it (exit %d%s%s)",
               misuse_names[mu], (void *)pl.p, pl.req, cls, WEXITSTATUS(st), n ? ", said: " : "",
               first);
  int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  if (sig == SIGALRM)
    model_fail("misuse", "%s on %p (class %s): the child hung for %ds", misuse_names[mu],
               (void *)pl.p, cls, CHILD_SECONDS);
  if (fault_ok && (sig == SIGSEGV || sig == SIGBUS)) {
    misuse_checked++;
    return 1;
  }
  if (!has_line(text, want[0]) && !has_line(text, want[1]))
    model_fail("misuse", "%s on %p (req %zu, class %s): died by signal %d %s '%s', expected '%s'",
               misuse_names[mu], (void *)pl.p, pl.req, cls, sig, n ? "saying" : "without a line",
               first, want[0] ? want[0] : want[1]);
  misuse_checked++;
  return 1;
}
