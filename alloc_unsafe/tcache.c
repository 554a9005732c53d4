/* tcache.c - per-thread caches, process initialisation, fork.
 *
 * A thread's cache is a bin of free blocks per size class (in-band links).
 * A hit costs no lock and no atomic; a miss refills `batch` blocks from the
 * central list, a full bin flushes its oldest `batch` blocks back.  At thread
 * exit (a pthread key destructor) the whole cache goes back to the central
 * lists and its counters into the central totals; the tcache_t itself is kept
 * for the next thread.  Allocations after that in the same thread (other
 * destructors) go straight to the central lists.
 */
#include <pthread.h>
#include <string.h>

#include "bootstrap.h"
#include "heap.h"
#include "internal.h"
#include "options.h"

__thread tcache_t *tls_tc = &tcache_empty;
tcache_t tcache_empty, tcache_none;

static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static tcache_t *g_live, *g_retired; /* registry; retired ones are reused */
static char *g_meta_cur, *g_meta_end;  /* bump space for tcache_t */
static pthread_key_t g_key;

/* ---- process initialisation ---------------------------------------------- */
enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static int g_init_state = INIT_NONE;
static __thread bool tls_initialising;

bool heap_ready(void) { return __atomic_load_n(&g_init_state, __ATOMIC_ACQUIRE) == INIT_DONE; }

static void tcache_thread_exit(void *arg);

/* true when the heap can serve; false when this thread is the one
 * initialising it (a re-entrant call: the caller uses the bootstrap arena). */
bool heap_init(void) {
  int expect = INIT_NONE;
  if (__atomic_compare_exchange_n(&g_init_state, &expect, INIT_RUNNING, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    tls_initialising = true;
    size_classes_init();
    central_init();
    alloc_process_init();
    pthread_key_create(&g_key, tcache_thread_exit);
    tls_initialising = false;
    __atomic_store_n(&g_init_state, INIT_DONE, __ATOMIC_RELEASE);
    return true;
  }
  if (tls_initialising) return false;
  while (!heap_ready()) sched_yield();
  return true;
}

/* ---- cache lifecycle ------------------------------------------------------ */
static tcache_t *tcache_create(void) {
  pthread_mutex_lock(&g_reg_mu);
  tcache_t *tc = g_retired;
  if (tc) {
    g_retired = tc->next;
  } else {
    if ((size_t)(g_meta_end - g_meta_cur) < sizeof(tcache_t)) {
      os_mapping_t m = os_map(ALIGN_UP(sizeof(tcache_t) * 16, OS_PAGE));
      if (!m.base) {
        pthread_mutex_unlock(&g_reg_mu);
        return NULL;
      }
      g_meta_cur = m.base;
      g_meta_end = g_meta_cur + m.size;
    }
    tc = (tcache_t *)g_meta_cur;
    g_meta_cur += ALIGN_UP(sizeof(tcache_t), 64);
  }
  memset(tc, 0, sizeof *tc);
  for (unsigned c = 0; c < NCLASSES; c++) tc->bins[c].max = size_classes[c].tcache_max;
  tc->next = g_live;
  if (g_live) g_live->prev = tc;
  g_live = tc;
  pthread_mutex_unlock(&g_reg_mu);
  /* Published before pthread_setspecific, which may allocate. */
  tls_tc = tc;
  pthread_setspecific(g_key, tc);
  return tc;
}

/* The calling thread's cache, created on first use; tcache_none when caches
 * are off, after thread exit, when no memory is left for one, and under
 * valgrind (so the fast paths, which have no memcheck hooks, never run). */
static tcache_t *tcache_get(void) {
  tcache_t *tc = tls_tc;
  if (tc != &tcache_empty) return tc;
  if (!alloc_opt.tcache || vg_on || !(tc = tcache_create())) tc = tls_tc = &tcache_none;
  return tc;
}

static void bin_flush(unsigned cls, tbin_t *b, uint32_t keep) {
  if (b->count <= keep) return;
  void *cut = b->head, *rest;
  for (uint32_t i = 1; i < keep; i++) cut = blk_next(cut);
  if (keep) {
    rest = blk_next(cut);
    blk_set_next(cut, NULL);
  } else {
    rest = b->head;
    b->head = NULL;
  }
  b->count = keep;
  central_give(cls, rest);
}

static void tcache_thread_exit(void *arg) {
  tcache_t *tc = arg;
  tls_tc = &tcache_none;
  for (unsigned c = 0; c < NCLASSES; c++) {
    bin_flush(c, &tc->bins[c], 0);
    central_count(c, tc->bins[c].nmalloc, tc->bins[c].nfree);
  }
  pthread_mutex_lock(&g_reg_mu);
  if (tc->prev) tc->prev->next = tc->next;
  else g_live = tc->next;
  if (tc->next) tc->next->prev = tc->prev;
  tc->next = g_retired;
  g_retired = tc;
  pthread_mutex_unlock(&g_reg_mu);
}

/* ---- slow paths of alloc.c ------------------------------------------------ */
void *tcache_alloc_slow(unsigned cls) {
  tcache_t *tc = tcache_get();
  void *list;
  if (tc == &tcache_none) {
    if (!central_take(cls, 1, &list)) return NULL;
    central_count(cls, 1, 0);
    return list;
  }
  tbin_t *b = &tc->bins[cls];
  if (!b->head) { /* aligned requests come here with blocks cached */
    uint32_t got = central_take(cls, size_classes[cls].batch, &list);
    decay_maybe();
    if (!got) return NULL;
    b->head = list;
    b->count = got;
  }
  void *p = b->head;
  b->head = blk_next(p);
  b->count--;
  b->nmalloc++;
  return p;
}

void tcache_free_slow(void *p, unsigned cls) {
  tcache_t *tc = tcache_get();
  if (tc == &tcache_none) {
    blk_set_next(p, NULL);
    central_give(cls, p);
    central_count(cls, 0, 1);
    return;
  }
  tbin_t *b = &tc->bins[cls];
  blk_set_next(p, b->head);
  b->head = p;
  b->count++;
  b->nfree++;
  if (b->count > b->max) bin_flush(cls, b, b->max - size_classes[cls].batch);
  decay_maybe();
}

/* Hand the calling thread's cached blocks back (malloc_trim). */
void tcache_flush_own(void) {
  tcache_t *tc = tls_tc;
  if (tc == &tcache_empty || tc == &tcache_none) return;
  for (unsigned c = 0; c < NCLASSES; c++) bin_flush(c, &tc->bins[c], 0);
}

/* ---- statistics and validation -------------------------------------------- */
void tcache_stats(alloc_stats_t *s) {
  pthread_mutex_lock(&g_reg_mu);
  for (tcache_t *tc = g_live; tc; tc = tc->next, s->threads++)
    for (unsigned c = 0; c < NCLASSES; c++) {
      const tbin_t *b = &tc->bins[c];
      s->cls[c].allocs += b->nmalloc;
      s->cls[c].frees += b->nfree;
      s->bytes_cached += (uint64_t)b->count * size_classes[c].size;
    }
  pthread_mutex_unlock(&g_reg_mu);
}

/* Blocks in every cache; the calling thread's own bins are walked and each
 * block checked against its span (other threads' bins may be changing). */
size_t tcache_validate(void) {
  size_t n = 0;
  tcache_t *own = tls_tc;
  pthread_mutex_lock(&g_reg_mu);
  for (tcache_t *tc = g_live; tc; tc = tc->next)
    for (unsigned c = 0; c < NCLASSES; c++) {
      const tbin_t *b = &tc->bins[c];
      n += b->count;
      if (tc != own) continue;
      uint32_t k = 0;
      for (void *p = b->head; p; p = blk_next(p), k++) {
        const span_t *pg = page_of(p);
        if (k >= b->count || pg->cls != c || (pg - pg->back)->npages == 0)
          alloc_fatal("validate: thread cache", p);
      }
      if (k != b->count) alloc_fatal("validate: thread cache count", b);
    }
  pthread_mutex_unlock(&g_reg_mu);
  return n;
}

/* ---- fork ------------------------------------------------------------------ */
void heap_fork_prepare(void) {
  pthread_mutex_lock(&g_reg_mu);
  central_lock_all();
  segments_lock();
  large_lock();
}
void heap_fork_parent(void) {
  large_unlock();
  segments_unlock();
  central_unlock_all();
  pthread_mutex_unlock(&g_reg_mu);
}
void heap_fork_child(void) { heap_fork_parent(); }

/* Initialise at load time too, so option warnings and ALLOC_VERBOSE appear
 * even in a program that never allocates. */
__attribute__((constructor)) static void heap_init_at_load(void) { heap_init(); }
