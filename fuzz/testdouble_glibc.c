/*
 * testdouble_glibc.c - TEST DOUBLE, not a heap of the suite.
 *
 * Exports the prefixed API as glibcdouble_* on top of glibc's malloc, so the
 * harness can be tested without any heap of ours:
 *
 *   1. the harness must pass on it (glibc keeps every rule the model checks);
 *   2. it checks the harness's own claim never to misuse the API: a free,
 *      realloc or usable-size query of a pointer it did not hand out, or
 *      free_sized / free_aligned_sized with the wrong size or alignment, aborts
 *      with "testdouble: harness misuse: ...".  Misuse mode relies on the same
 *      line (testdouble_claims.tsv): outside a misuse child it never appears;
 *   3. FUZZ_DOUBLE_BUG=<name> makes it break one rule on purpose, and the
 *      smoke test checks the harness then fails with the named check - so no
 *      check of the model is a check that cannot fail.
 *      FUZZ_DOUBLE_BUG=list prints "<name> <check>" lines and exits.
 *
 * Its alloc_validate() returns its own count of live blocks.  Real fuzz
 * targets never link this file (fuzz/fuzz.mk builds it only as
 * fuzz_glibcdouble).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_api.h"

ALLOC_API_DECLARE(glibcdouble_)

/* X(name, check the harness must report) - the one list of injected bugs. */
#define DOUBLE_BUGS(X)                                                         \
  X(align, "align")             /* malloc returns a pointer 8 bytes off */     \
  X(overlap, "overlap")         /* some mallocs return a live block + 16 */    \
  X(stomp, "contents")          /* free flips a byte of another live block */  \
  X(realloc, "realloc")         /* realloc loses the last byte it keeps */     \
  X(calloc, "calloc-zero")      /* calloc leaves the last byte non-zero */     \
  X(usable, "usable")           /* usable size is one less than requested */   \
  X(huge, "huge")               /* malloc(> PTRDIFF_MAX) returns a block */    \
  X(errno, "huge")              /* ... returns NULL without ENOMEM */          \
  X(validate, "validate")       /* validate() counts one block too many */    \
  X(einval, "posix_memalign")   /* bad alignments are accepted */              \
  X(trim, "contents")           /* malloc_trim clears a live block's byte */   \
  X(misuse_silent, "misuse")    /* a misuse returns as if nothing happened */ \
  X(misuse_line, "misuse")      /* a misuse dies with another line */

enum bug {
  BUG_none,
#define BUG_ENUM(name, check) BUG_##name,
  DOUBLE_BUGS(BUG_ENUM)
#undef BUG_ENUM
};

static enum bug bug;

__attribute__((constructor)) static void double_init(void) {
  static const char *const names[] = {"none",
#define BUG_NAME(name, check) #name,
                                      DOUBLE_BUGS(BUG_NAME)
#undef BUG_NAME
  };
  const char *want = getenv("FUZZ_DOUBLE_BUG");
  if (!want || !*want) return;
  if (!strcmp(want, "list")) {
#define BUG_PRINT(name, check) printf("%s %s\n", #name, check);
    DOUBLE_BUGS(BUG_PRINT)
#undef BUG_PRINT
    exit(0);
  }
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(want, names[i])) bug = (enum bug)i;
  if (bug == BUG_none && strcmp(want, "none")) {
    fprintf(stderr, "testdouble: unknown FUZZ_DOUBLE_BUG=%s (try list)\n", want);
    exit(2);
  }
}

/* ---- live blocks: few (the harness has 64 slots), so a flat array ------------------- */
enum kind { K_FREE, K_MALLOC, K_ALIGNED, K_MEMALIGN };
struct entry {
  void *user, *base; /* base: what glibc returned (NULL: nothing to free) */
  size_t size, align;
  enum kind kind;
};
#define MAX_LIVE 256
static struct entry live[MAX_LIVE];
static size_t nlive;
static unsigned long nmalloc;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* Returns only under FUZZ_DOUBLE_BUG=misuse_silent (the caller then goes on
 * as if the pointer were fine, without touching it). */
static void misuse(const char *what, const void *p) {
  if (bug == BUG_misuse_silent) return;
  if (bug == BUG_misuse_line) fprintf(stderr, "testdouble: something else went wrong %p\n", p);
  else fprintf(stderr, "testdouble: harness misuse: %s %p\n", what, p);
  abort();
}

static void *record(void *user, void *base, size_t size, size_t align, enum kind kind) {
  if (!user) return NULL;
  pthread_mutex_lock(&mu);
  unsigned i = 0;
  while (i < MAX_LIVE && live[i].kind != K_FREE) i++;
  if (i == MAX_LIVE) {
    misuse("more live blocks than the harness has slots", user);
    abort();
  }
  live[i] = (struct entry){user, base, size, align, kind};
  nlive++;
  pthread_mutex_unlock(&mu);
  return user;
}

/* Remove and return the entry for `p`; a pointer never handed out is misuse. */
static struct entry take(void *p, const char *what) {
  pthread_mutex_lock(&mu);
  for (unsigned i = 0; i < MAX_LIVE; i++)
    if (live[i].kind != K_FREE && live[i].user == p) {
      struct entry e = live[i];
      live[i].kind = K_FREE;
      nlive--;
      pthread_mutex_unlock(&mu);
      return e;
    }
  pthread_mutex_unlock(&mu);
  misuse(what, p);
  return (struct entry){.user = NULL, .base = NULL, .kind = K_FREE};
}

static int is_live(const void *p) {
  pthread_mutex_lock(&mu);
  int found = 0;
  for (unsigned i = 0; i < MAX_LIVE && !found; i++) found = live[i].kind != K_FREE && live[i].user == p;
  pthread_mutex_unlock(&mu);
  return found;
}

static struct entry *find_other_live(void) {
  for (unsigned i = 0; i < MAX_LIVE; i++)
    if (live[i].kind != K_FREE && live[i].size > 0) return &live[i];
  return NULL;
}

/* ---- the API ------------------------------------------------------------------------ */
void *glibcdouble_malloc(size_t n) {
  if (n > PTRDIFF_MAX && bug == BUG_huge) return record(malloc(64), NULL, 64, 0, K_MALLOC);
  if (n > PTRDIFF_MAX && bug == BUG_errno) return errno = 0, NULL;
  nmalloc++;
  if (bug == BUG_align) {
    unsigned char *b = malloc(n + 8);
    return b ? record(b + 8, b, n, 0, K_MALLOC) : NULL;
  }
  if (bug == BUG_overlap && nmalloc % 5 == 0) {
    for (unsigned i = 0; i < MAX_LIVE; i++)
      if (live[i].kind == K_MALLOC && live[i].size >= n + 32) /* the harness stops here */
        return record((char *)live[i].user + 16, NULL, n, 0, K_MALLOC);
  }
  return record(malloc(n), NULL, n, 0, K_MALLOC);
}

static void release(struct entry e) {
  free(e.base ? e.base : e.user);
  if (bug == BUG_stomp) {
    struct entry *o = find_other_live();
    if (o) ((unsigned char *)o->user)[0] ^= 0x55;
  }
}

void glibcdouble_free(void *p) {
  if (!p) return;
  release(take(p, "free of a pointer not live"));
}

void *glibcdouble_calloc(size_t nmemb, size_t size) {
  if (bug != BUG_calloc) return record(calloc(nmemb, size), NULL, nmemb * size, 0, K_MALLOC);
  unsigned char *p = calloc(nmemb, size);
  if (p && nmemb * size != 0) p[nmemb * size - 1] = 1;
  return record(p, NULL, nmemb * size, 0, K_MALLOC);
}

void *glibcdouble_realloc(void *p, size_t n) {
  if (!p) return glibcdouble_malloc(n);
  if (n > PTRDIFF_MAX) return errno = ENOMEM, NULL;
  struct entry e = take(p, "realloc of a pointer not live");
  unsigned char *q = malloc(n ? n : 1);
  if (!q) {
    record(e.user, e.base, e.size, e.align, e.kind);
    return NULL;
  }
  size_t keep = e.size < n ? e.size : n;
  memcpy(q, p, keep);
  if (bug == BUG_realloc && keep) q[keep - 1] ^= 0xff;
  release(e);
  return record(q, NULL, n, 0, K_MALLOC);
}

void *glibcdouble_reallocarray(void *p, size_t nmemb, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) return errno = ENOMEM, NULL;
  return glibcdouble_realloc(p, n);
}

int glibcdouble_posix_memalign(void **out, size_t align, size_t n) {
  int bad = align < sizeof(void *) || (align & (align - 1));
  if (bad && bug == BUG_einval) align = 16;
  void *p = NULL;
  int ret = posix_memalign(&p, align, n);
  if (ret == 0) *out = record(p, NULL, n, align, K_MEMALIGN);
  return ret;
}

void *glibcdouble_aligned_alloc(size_t align, size_t n) {
  return record(aligned_alloc(align, n), NULL, n, align, K_ALIGNED);
}

void *glibcdouble_memalign(size_t align, size_t n) {
  return record(memalign(align, n), NULL, n, align, K_MEMALIGN);
}

void *glibcdouble_valloc(size_t n) { return record(valloc(n), NULL, n, 0, K_MEMALIGN); }

/* Not glibc's pvalloc: in glibc 2.36 it rounds with `& -(pagesize - 1)`, so
 * pvalloc(0) returns a 24-byte block (this harness found it). */
void *glibcdouble_pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
  if (__builtin_add_overflow(n, page - 1, &rounded)) return errno = ENOMEM, NULL;
  rounded = n ? rounded / page * page : page;
  return record(memalign(page, rounded), NULL, rounded, 0, K_MEMALIGN);
}

size_t glibcdouble_malloc_usable_size(void *p) {
  if (!p) return 0;
  if (bug == BUG_usable) {
    for (unsigned i = 0; i < MAX_LIVE; i++)
      if (live[i].kind != K_FREE && live[i].user == p && live[i].size) return live[i].size - 1;
  }
  if (bug == BUG_align || bug == BUG_overlap) { /* p may not be glibc's pointer */
    for (unsigned i = 0; i < MAX_LIVE; i++)
      if (live[i].kind != K_FREE && live[i].user == p) return live[i].size;
  }
  if (!is_live(p)) {
    misuse("malloc_usable_size of a pointer not live", p);
    return 0;
  }
  return malloc_usable_size(p);
}

void glibcdouble_free_sized(void *p, size_t size) {
  if (!p) return;
  struct entry e = take(p, "free_sized of a pointer not live");
  if (e.user && (e.kind != K_MALLOC || e.size != size)) misuse("free_sized: wrong kind or size for", p);
  release(e);
}

void glibcdouble_free_aligned_sized(void *p, size_t align, size_t size) {
  if (!p) return;
  struct entry e = take(p, "free_aligned_sized of a pointer not live");
  if (e.user && (e.kind != K_ALIGNED || e.size != size || e.align != align))
    misuse("free_aligned_sized: wrong kind, alignment or size for", p);
  release(e);
}

int glibcdouble_malloc_trim(size_t pad) {
  if (bug == BUG_trim) {
    struct entry *o = find_other_live();
    if (o) ((unsigned char *)o->user)[0] ^= 0x55;
  }
  return malloc_trim(pad);
}

size_t glibcdouble_alloc_validate(void) { return nlive + (bug == BUG_validate); }

void glibcdouble_alloc_stats_print(int fd, int json) {
  dprintf(fd, json ? "{\"live\": %zu}\n" : "live %zu\n", nlive);
}
