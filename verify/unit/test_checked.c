/* test_checked.c - one case per option of alloc_checked (alloc_checked/
 * heap_options.h): the misuse the feature is for, run with the feature on
 * (caught: the expected fatal line, or a fault) and with it off alone (not
 * caught: the program runs on); plus malloc_object_size on interior
 * pointers and the light preset.  Options are read at load time, so each
 * run is this program re-executed with its environment:
 *
 *   test_checked               every case, each run in a child
 *   test_checked CASE          one case, in this process
 *
 * The kind cases need the C++ operators, which only the LD_PRELOAD build
 * has: their child runs with LD_PRELOAD=$LIBDIR/liballoc_checked.so and
 * calls operator new / delete through dlsym, free through libc's name.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_api.h"
#include "check.h"

ALLOC_API_DECLARE(checked_)

extern char **environ;
static void *launder(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}
static void poke(void *p, size_t i, char v) { ((volatile char *)launder(p))[i] = v; }

/* ---- the misuses (each returns normally when nothing caught it) ---------- */

static void m_canary(void) { /* one byte past the requested 24 */
  char *p = checked_malloc(24);
  poke(p, 24, 'A');
  checked_free(p);
}
static void m_zero(void) { /* write after free, then the slot comes back */
  char *p = checked_malloc(64);
  checked_free(p);
  poke(p, 0, 'A');
  char *q = checked_malloc(64);
  if (q != p) _exit(9); /* random and quarantine are off in this case */
}
static void m_quarantine(void) { /* free(p); q = malloc; free(p) */
  char *p = checked_malloc(64);
  checked_free(p);
  char *q = checked_malloc(64);
  checked_free(launder(p));
  (void)q;
}
static void m_random(void) { /* freed slots come back in an order nobody chose */
  enum { N = 12 };
  void *p[N], *q[N];
  for (int i = 0; i < N; i++) p[i] = checked_malloc(48);
  for (int i = 0; i < N; i++) checked_free(p[i]);
  for (int i = 0; i < N; i++) q[i] = checked_malloc(48);
  int lifo = 1;
  for (int i = 0; i < N; i++) lifo &= q[i] == p[N - 1 - i];
  if (!lifo) {
    fprintf(stderr, "alloc_checked: test: slots came back out of LIFO order\n");
    abort();
  }
}
static void m_malloc0(void) { poke(checked_malloc(0), 0, 'A'); }
static void m_large_quarantine(void) { /* use after free of a large block */
  char *p = checked_malloc(256 << 10);
  checked_free(p);
  char *q = checked_malloc(256 << 10);
  poke(p, 100, 'A'); /* off: the same address was handed out again as q */
  if (q != p) _exit(9);
}
/* The large-mapping cache (alloc_checked/large.c): a freed large mapping
 * is kept PROT_NONE and handed out again.  Each case first checks the
 * mapping really was reused (else it exits 9: a case that tests nothing
 * must not pass). */
#define LBIG ((size_t)300 << 10)
static char *large_reused(size_t n) { /* a block of n, freed dirty; the next one of n */
  char *p = checked_malloc(n);
  memset(p, 0xAA, n);
  checked_free(p);
  char *q = checked_malloc(n);
  if (q != p) _exit(9);
  return q;
}
static void m_large_cache_zero(void) { /* zero feature: a reused mapping reads zero */
  char *q = large_reused(LBIG);
  for (size_t i = 0; i < LBIG; i++)
    if (q[i]) {
      fprintf(stderr, "alloc_checked: test: reused large block holds old bytes\n");
      abort();
    }
  checked_alloc_validate();
}
static void m_large_cache_calloc(void) { /* zero off: calloc still zeroes a reused mapping */
  char *p = checked_malloc(LBIG);
  memset(p, 0xAA, LBIG);
  checked_free(p);
  char *q = checked_calloc(1, LBIG);
  if (q != p) _exit(9);
  for (size_t i = 0; i < LBIG; i++)
    if (q[i]) {
      fprintf(stderr, "alloc_checked: test: calloc of a reused large block not zero\n");
      abort();
    }
}
static void m_large_cache_uaf(void) { /* a cached mapping is PROT_NONE */
  char *p = checked_malloc(LBIG);
  checked_free(p);
  poke(p, 100, 'A');
}
/* Its record stays: a stale free is a double free (large quarantine off:
 * the mapping itself is cached).  p is freed, then 8 bigger blocks (none
 * fits p's mapping); then p again. */
static void m_large_cache_double_free(void) {
  char *p = checked_malloc(LBIG);
  checked_free(p);
  for (int i = 0; i < 8; i++) checked_free(checked_malloc(LBIG + 4096 * (size_t)(i + 1)));
  checked_alloc_validate();
  checked_free(launder(p));
}
/* Large quarantine on: a freed block's pages move to a cached mapping and
 * serve the next request, its addresses stay PROT_NONE.  With the zero
 * feature the next block reads zero (without it, it holds the old bytes:
 * the pages were reused), and the freed block still faults. */
static char *g_freed;
static char *large_moved(void) {
  char *p = checked_malloc(LBIG);
  memset(p, 0xAA, LBIG);
  checked_free(p);
  char *q = checked_malloc(LBIG);
  if (q == p) _exit(9); /* quarantined: not handed out again */
  checked_alloc_validate();
  g_freed = p;
  return q;
}
static void m_large_moved_zero(void) {
  char *q = large_moved();
  for (size_t i = 0; i < LBIG; i++)
    if (q[i]) {
      fprintf(stderr, "alloc_checked: test: moved large pages hold old bytes\n");
      abort();
    }
  poke(g_freed, 100, 'A');
}
static void m_large_moved_nozero(void) {
  char *q = large_moved();
  if ((unsigned char)q[LBIG / 2] != 0xAA) _exit(9); /* not reused: the case tests nothing */
  char *c = checked_calloc(1, LBIG); /* the next one, by calloc: zero all the same */
  checked_free(q);
  checked_free(c);
  c = checked_calloc(1, LBIG);
  for (size_t i = 0; i < LBIG; i++)
    if (c[i]) {
      fprintf(stderr, "alloc_checked: test: calloc of moved large pages not zero\n");
      abort();
    }
  poke(g_freed, 100, 'A');
}
static void m_large_cache_split(void) { /* a smaller block takes the top of a cached 2 MiB */
  char *p = checked_malloc(2 << 20);
  checked_free(p);
  char *q = checked_malloc(200 << 10);
  if (!(q > p && q < p + (2 << 20))) _exit(9);
  poke(q, 0, 'x');
  poke(q, (200 << 10) - 1, 'x');
  checked_alloc_validate();
  checked_free(launder(p)); /* p's start is the rest's record: a double free */
}
/* Large quarantine on, guard markers (large.c's gm_install): a block taken
 * from a cached mapping whose last block was smaller spans the page that
 * was that block's lower guard, so the guard must be gone: every page of
 * the new block is written.  Zeroing off, the old bytes at its top show
 * the pages were reused (else exit 9). */
static void m_large_guard_grow(void) {
  size_t big = (size_t)1 << 20, small = (size_t)900 << 10;
  char *p = checked_malloc(big);
  memset(p, 0xAA, big);
  checked_free(p);
  char *q = checked_malloc(small); /* p's pages, at the top of its mapping */
  if ((unsigned char)q[small - 1] != 0xAA) _exit(9);
  checked_free(q);
  char *r = checked_malloc(big); /* the same pages again, all of them */
  if ((unsigned char)r[big - 1] != 0xAA) _exit(9);
  for (size_t i = 0; i < big; i += 4096) poke(r, i, 'x');
  checked_alloc_validate();
}
/* The block's lower guard, in a cached mapping taken for a smaller block
 * (whole: 900 KiB of 1 MiB; split: 200 KiB of 2 MiB): the byte below the
 * block faults. */
static char *large_taken_smaller(size_t big, size_t n) {
  char *p = checked_malloc(big);
  memset(p, 0xAA, big);
  checked_free(p);
  char *q = checked_malloc(n);
  if ((unsigned char)q[n - 1] != 0xAA) _exit(9); /* not reused: tests nothing */
  return q;
}
static void m_large_guard_whole(void) { poke(large_taken_smaller((size_t)1 << 20, (size_t)900 << 10) - 1, 0, 'x'); }
static void m_large_guard_split(void) { poke(large_taken_smaller((size_t)2 << 20, (size_t)200 << 10) - 1, 0, 'x'); }
static void *cxx(const char *name) {
  void *f = dlsym(RTLD_DEFAULT, name);
  if (!f) _exit(8);
  return f;
}
static void m_kind_new_free(void) {
  void *(*nw)(size_t) = (void *(*)(size_t))(uintptr_t)cxx("_Znwm");
  free(launder(nw(32)));
}
static void m_kind_newarr_delete(void) {
  void *(*nw)(size_t) = (void *(*)(size_t))(uintptr_t)cxx("_Znam");
  void (*del)(void *) = (void (*)(void *))(uintptr_t)cxx("_ZdlPv");
  del(launder(nw(32)));
}
static void m_kind_malloc_delete_large(void) {
  void (*del)(void *) = (void (*)(void *))(uintptr_t)cxx("_ZdlPv");
  del(launder(malloc(300000)));
}
static void m_kind_ok(void) { /* matching pairs pass */
  void *(*nw)(size_t) = (void *(*)(size_t))(uintptr_t)cxx("_Znam");
  void (*del)(void *) = (void (*)(void *))(uintptr_t)cxx("_ZdaPv");
  for (int i = 0; i < 100; i++) del(nw((size_t)i * 977));
}

/* malloc_object_size: any pointer into a live block, small and large. */
static void m_object_size(void) {
  int bad = 0;
  for (size_t n = 1; n <= 400000; n = n * 3 + 1) {
    char *p = checked_malloc(n);
    size_t u = checked_malloc_usable_size(p);
    for (size_t i = 0; i < u; i += 1 + u / 7)
      bad |= checked_malloc_object_size(p + i) != u - i;
    bad |= checked_malloc_object_size(p + u - 1) != 1;
    checked_free(p);
    bad |= checked_malloc_object_size(p) != ALLOC_OBJECT_SIZE_UNKNOWN;
  }
  static char bss[64];
  bad |= checked_malloc_object_size(bss) != ALLOC_OBJECT_SIZE_UNKNOWN;
  bad |= checked_malloc_object_size((void *)1) != ALLOC_OBJECT_SIZE_UNKNOWN;
  if (bad) {
    fprintf(stderr, "alloc_checked: test: malloc_object_size answered wrong\n");
    abort();
  }
}

/* alloc_validate reads other threads' caches: a thread frees a block,
 * writes into it and waits (its cache keeps the slot); validate run by
 * another thread must report the write. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_stage;
static void *uaf_then_wait(void *arg) {
  char *p = checked_malloc(200);
  checked_free(p);
  poke(p, 100, 'A');
  pthread_mutex_lock(&g_mu);
  g_stage = 1;
  pthread_cond_broadcast(&g_cv);
  while (g_stage != 2) pthread_cond_wait(&g_cv, &g_mu); /* never: main dies first */
  pthread_mutex_unlock(&g_mu);
  return arg;
}
static void m_validate_other(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, uaf_then_wait, NULL)) _exit(7);
  pthread_mutex_lock(&g_mu);
  while (g_stage != 1) pthread_cond_wait(&g_cv, &g_mu);
  pthread_mutex_unlock(&g_mu);
  (void)checked_alloc_validate(); /* caught: it does not return */
  _exit(0);
}
/* ... and never reports a slot its owner is moving: two threads churn
 * (malloc, write every byte, free) while this one validates. */
static volatile int g_stop;
static void *churn_writes(void *arg) {
  uint64_t r = (uintptr_t)arg;
  void *keep[64] = {0};
  while (!g_stop) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    size_t k = (r >> 33) % 64, n = 1 + (r >> 40) % 3000;
    checked_free(keep[k]);
    keep[k] = checked_malloc(n);
    memset(keep[k], 0x5a, n);
  }
  for (int k = 0; k < 64; k++) checked_free(keep[k]);
  return NULL;
}
static void m_validate_busy(void) {
  pthread_t t[2];
  for (uintptr_t i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, churn_writes, (void *)(i + 1))) _exit(7);
  for (int i = 0; i < 1000; i++) (void)checked_alloc_validate();
  g_stop = 1;
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

/* The chunk table's leaves sit between guard pages.  This kernel may not
 * name mappings, so a leaf is found by its shape in /proc/self/maps: an
 * anonymous rw mapping of exactly one leaf's size (2^16 pointers, 512 KiB;
 * the heap makes no other mapping of that size when only a 40-byte block
 * was allocated: slabs of 512 KiB hold 4 KiB..16 KiB slots, but a sanitizer
 * runtime may) with a PROT_NONE mapping right below and right above it.
 * Exits 3 when no mapping of that size is found, 4 when none is guarded. */
static void m_radix_guards(void) {
  checked_free(launder(checked_malloc(40))); /* a slab, so a leaf exists */
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) _exit(3);
  enum { MAXV = 4096 };
  static uintptr_t lo[MAXV], hi[MAXV];
  static char perm[MAXV][8], anon[MAXV];
  int n = 0, leaves = 0, guarded = 0;
  char line[512];
  while (n < MAXV && fgets(line, sizeof line, f)) {
    unsigned long a, b, off, ino;
    char dev[16];
    int end = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &a, &b, perm[n], &off, dev, &ino, &end) < 6)
      continue;
    lo[n] = a;
    hi[n] = b;
    anon[n] = ino == 0 && (line[end] == '\n' || line[end] == 0);
    n++;
  }
  fclose(f);
  for (int i = 0; i < n; i++) {
    if (!anon[i] || strncmp(perm[i], "rw", 2) || hi[i] - lo[i] != ((size_t)1 << 16) * sizeof(void *))
      continue;
    leaves++;
    bool below = false, above = false;
    for (int j = 0; j < n; j++) {
      if (strncmp(perm[j], "---", 3)) continue;
      below |= hi[j] == lo[i];
      above |= lo[j] == hi[i];
    }
    guarded += below && above;
  }
  /* Other 512 KiB read-write mappings may exist (ASan's own, the program's):
   * at least one must be a leaf between guards.  Without the guards a leaf
   * merges with its neighbours or stands unguarded, and this fails. */
  if (!leaves) _exit(3);
  if (!guarded) _exit(4);
}

/* ---- memory given back (slab purge, thread-cache and large-cache bounds) --- */
/* Pages of [p, p+n) resident now (an unmapped page counts as not). */
static size_t resident(const void *p, size_t n) {
  uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095, hi = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
  size_t r = 0;
  for (uintptr_t a = lo; a < hi; a += 4096) {
    unsigned char v = 0;
    if (mincore((void *)a, 4096, &v) == 0) r += v & 1;
  }
  return r;
}
enum { NP = 1024 };
static char *g_blk[NP];
/* NP blocks of 240 bytes (four slabs of the 256 class), each written; all
 * freed but every 256th (so no slab is empty and unmapped); at most
 * `poke_upto` of the first freed are then written after free.  Then a
 * class with no slab yet maps one: the other classes' half-empty slabs are
 * purged first. */
static void fill_free_grow(int poke_upto) {
  for (int i = 0; i < NP; i++) memset(g_blk[i] = checked_malloc(240), 0x5a, 240);
  for (int i = 0; i < NP; i++)
    if (i % 256) checked_free(g_blk[i]);
  for (int i = 1; i < poke_upto; i++)
    if (i % 256) poke(g_blk[i], 7, 'W');
  checked_free(launder(checked_malloc(9000))); /* the 10240 class: a new slab */
}
static void m_purge(void) { /* freed slots' pages go back to the kernel */
  fill_free_grow(0);
  static uintptr_t pg[NP];
  size_t npg = 0, res = 0;
  for (int i = 0; i < NP; i++) { /* the distinct pages of the freed blocks */
    uintptr_t a = (uintptr_t)g_blk[i] >> 12;
    bool seen = false;
    for (size_t k = 0; k < npg && !seen; k++) seen = pg[k] == a;
    if (i % 256 && !seen) pg[npg++] = a;
  }
  for (size_t k = 0; k < npg; k++) res += resident((void *)(pg[k] << 12), 1);
  /* 64 pages; those of the 4 kept blocks and of up to 128 slots in the
   * cache and the quarantine (the last freed) stay.  Unpurged: all 64. */
  if (npg < 60 || res > npg / 2) _exit(20);
  for (int i = 0; i < NP; i += 256) /* live blocks keep their bytes */
    for (int k = 0; k < 240; k++)
      if (g_blk[i][k] != 0x5a) _exit(23);
  for (int i = 0; i < NP; i++) { /* purged slots are handed out again, all zero */
    unsigned char *p = checked_malloc(240);
    for (int k = 0; k < 240; k++)
      if (p[k]) _exit(21);
  }
  (void)checked_alloc_validate(); /* fatal if the bitmaps disagree with the counts */
}
static void m_purge_zero(void) { fill_free_grow(600); } /* caught at the purge, not lost */
static void m_tcache_bytes(void) { /* a thread caches at most 64 KiB of a class */
  static char *b[64];
  for (int i = 0; i < 64; i++) memset(b[i] = checked_malloc(4000), 1, 4000);
  for (int i = 0; i < 64; i++) checked_free(b[i]);
  checked_free(launder(checked_malloc(9000))); /* purge: what went back to the slab goes */
  size_t res = 0;
  for (int i = 0; i < 64; i++) res += resident(b[i], 4000);
  if (res > 24) _exit(20); /* cached: 16 slots; with 256 KiB a class all 64 stay */
}
static void m_large_cache_budget(void) { /* cached large mappings: 32 MiB of pages at most */
  enum { SZ = 12 << 20, N = 4 };
  char *p[N];
  for (int i = 0; i < N; i++) memset(p[i] = checked_malloc(SZ), 1, SZ);
  size_t res = 0;
  for (int i = 0; i < N; i++) checked_free(p[i]);
  for (int i = 0; i < N; i++) res += resident(p[i], SZ);
  if (res * 4096 > (32u << 20)) _exit(20);
}

/* ---- the table ------------------------------------------------------------- */
#define NO_RQ "ALLOC_CHECKED_RANDOM=off ALLOC_CHECKED_QUARANTINE=off"
typedef struct test_case {
  const char *name;
  void (*run)(void);
  const char *env;    /* NAME=value words */
  bool preload;       /* run under LD_PRELOAD of the shared library */
  int sig;            /* 0: must exit 0; SIGABRT / SIGSEGV: must die of it */
  const char *expect; /* with SIGABRT: text the stderr must contain */
} test_case_t;

static const test_case_t g_cases[] = {
    {"canary_on", m_canary, "", 0, SIGABRT, "canary overwritten"},
    {"canary_off", m_canary, "ALLOC_CHECKED_CANARY=off", 0, 0, NULL},
    {"zero_on", m_zero, NO_RQ, 0, SIGABRT, "write after free"},
    {"zero_off", m_zero, NO_RQ " ALLOC_CHECKED_ZERO=off", 0, 0, NULL},
    {"quarantine_on", m_quarantine, "ALLOC_CHECKED_RANDOM=off", 0, SIGABRT, "double free (small)"},
    {"quarantine_off", m_quarantine, NO_RQ, 0, 0, NULL},
    {"random_on", m_random, "ALLOC_CHECKED_QUARANTINE=off", 0, SIGABRT, "out of LIFO order"},
    {"random_off", m_random, NO_RQ, 0, 0, NULL},
    {"malloc0_on", m_malloc0, "", 0, SIGSEGV, NULL},
    {"malloc0_off", m_malloc0, "ALLOC_CHECKED_MALLOC0=off", 0, 0, NULL},
    {"large_quarantine_on", m_large_quarantine, "", 0, SIGSEGV, NULL},
    {"large_quarantine_off", m_large_quarantine, "ALLOC_CHECKED_LARGE_QUARANTINE=off", 0, 0, NULL},
    {"large_cache_zero", m_large_cache_zero, "ALLOC_CHECKED_LARGE_QUARANTINE=off", 0, 0, NULL},
    {"large_cache_calloc", m_large_cache_calloc,
     "ALLOC_CHECKED_LARGE_QUARANTINE=off ALLOC_CHECKED_ZERO=off", 0, 0, NULL},
    {"large_cache_uaf", m_large_cache_uaf, "ALLOC_CHECKED_LARGE_QUARANTINE=off", 0, SIGSEGV, NULL},
    {"large_cache_double_free", m_large_cache_double_free, "ALLOC_CHECKED_LARGE_QUARANTINE=off", 0,
     SIGABRT, "double free (large)"},
    {"large_moved_zero", m_large_moved_zero, "", 0, SIGSEGV, NULL},
    {"large_moved_nozero", m_large_moved_nozero, "ALLOC_CHECKED_ZERO=off", 0, SIGSEGV, NULL},
    {"large_cache_split", m_large_cache_split, "ALLOC_CHECKED_LARGE_QUARANTINE=off", 0, SIGABRT,
     "double free (large)"},
    {"large_guard_grow", m_large_guard_grow, "ALLOC_CHECKED_ZERO=off", 0, 0, NULL},
    {"large_guard_whole", m_large_guard_whole, "ALLOC_CHECKED_ZERO=off", 0, SIGSEGV, NULL},
    {"large_guard_split", m_large_guard_split, "ALLOC_CHECKED_ZERO=off", 0, SIGSEGV, NULL},
    {"kind_new_free_on", m_kind_new_free, "", 1, SIGABRT, "allocation kind mismatch"},
    {"kind_new_free_off", m_kind_new_free, "ALLOC_CHECKED_KIND=off", 1, 0, NULL},
    {"kind_newarr_delete_on", m_kind_newarr_delete, "", 1, SIGABRT, "allocation kind mismatch"},
    {"kind_newarr_delete_off", m_kind_newarr_delete, "ALLOC_CHECKED_KIND=off", 1, 0, NULL},
    {"kind_malloc_delete_large_on", m_kind_malloc_delete_large, "", 1, SIGABRT,
     "allocation kind mismatch"},
    {"kind_malloc_delete_large_off", m_kind_malloc_delete_large, "ALLOC_CHECKED_KIND=off", 1, 0, NULL},
    {"kind_matching_pairs", m_kind_ok, "", 1, 0, NULL},
    /* light: the costly features off, the cheap checks still on */
    {"light_zero_off", m_zero, "ALLOC_CHECKED_PRESET=light", 0, 0, NULL},
    {"light_canary_on", m_canary, "ALLOC_CHECKED_PRESET=light", 0, SIGABRT, "canary overwritten"},
    {"light_explicit_on", m_zero, "ALLOC_CHECKED_PRESET=light ALLOC_CHECKED_ZERO=on", 0, SIGABRT,
     "write after free"},
    {"object_size", m_object_size, "", 0, 0, NULL},
    {"validate_other_thread", m_validate_other, "", 0, SIGABRT, "write after free"},
    {"validate_other_thread_zero_off", m_validate_other, "ALLOC_CHECKED_ZERO=off", 0, 0, NULL},
    {"validate_busy_threads", m_validate_busy, "", 0, 0, NULL},
    {"chunk_table_guard_pages", m_radix_guards, "", 0, 0, NULL},
    {"purge_free_pages", m_purge, "", 0, 0, NULL},
    {"purge_checks_zero", m_purge_zero, "", 0, SIGABRT, "write after free"},
    {"purge_zero_off", m_purge_zero, "ALLOC_CHECKED_ZERO=off", 0, 0, NULL},
    {"tcache_bytes_bound", m_tcache_bytes, "ALLOC_CHECKED_QUARANTINE=off", 0, 0, NULL},
    {"large_cache_budget", m_large_cache_budget, "ALLOC_CHECKED_LARGE_QUARANTINE=off", 0, 0, NULL},
};

/* Run case c in a child re-executing this program; check how it ended. */
static void run_child(const test_case_t *c) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  CHECK(n > 0);
  self[n > 0 ? n : 0] = 0;
  static char envbuf[4096], preload[4200];
  char *env[256];
  int ne = 0;
  for (char **e = environ; *e && ne < 200; e++)
    if (strncmp(*e, "ALLOC_", 6) && strncmp(*e, "LD_PRELOAD=", 11)) env[ne++] = *e;
  snprintf(envbuf, sizeof envbuf, "%s", c->env);
  for (char *t = strtok(envbuf, " "); t && ne < 250; t = strtok(NULL, " ")) env[ne++] = t;
  if (c->preload) {
    const char *lib = getenv("LIBDIR");
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/liballoc_checked.so", lib ? lib : "build/lib");
    env[ne++] = preload;
  }
  env[ne] = NULL;
  int fd[2];
  CHECK(pipe(fd) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    char *argv[] = {self, (char *)c->name, NULL};
    execve(self, argv, env);
    _exit(127);
  }
  close(fd[1]);
  static char err[8192];
  size_t got = 0;
  ssize_t r;
  while ((r = read(fd[0], err + got, sizeof err - 1 - got)) > 0) got += (size_t)r;
  err[got] = 0;
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  bool ok = c->sig ? WIFSIGNALED(st) && WTERMSIG(st) == c->sig : WIFEXITED(st) && WEXITSTATUS(st) == 0;
  if (ok && c->expect) ok = strstr(err, c->expect) != NULL;
  fprintf(stderr, "%s %-30s [%s] status 0x%x%s%.200s", ok ? "ok  " : "FAIL", c->name, c->env, st,
          got ? ": " : "\n", err);
  CHECK(ok);
}

int main(int argc, char **argv) {
  for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++) {
    if (argc == 2 && !strcmp(argv[1], g_cases[i].name)) {
      g_cases[i].run();
      return 0;
    }
  }
  if (argc == 2) return fprintf(stderr, "test_checked: no case %s\n", argv[1]), 2;
  for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++) {
    /* An ASan build cannot run a child with another library preloaded in
     * front of its runtime: those cases run in the plain build only. */
    if (SANITIZED_BUILD && g_cases[i].preload) {
      fprintf(stderr, "not run %-26s (LD_PRELOAD case; the plain build runs it)\n", g_cases[i].name);
      continue;
    }
    run_child(&g_cases[i]);
  }
  /* The parent uses the heap too, with every feature on: a clean round. */
  for (int i = 0; i < 1000; i++) {
    char *p = checked_malloc((size_t)i * 7 + 1);
    CHECK(p != NULL);
    p[0] = 1;
    checked_free(p);
  }
  CHECK(checked_alloc_validate() == 0);
  return UNIT_RESULT();
}
