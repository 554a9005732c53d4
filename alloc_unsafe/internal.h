/* internal.h - how the in-band engine's files call each other.
 *
 * Calls run one way, down the layers (no two files call each other):
 *
 *   alloc.c     the heap.h operations and the slow paths of heap_fast.h
 *     |  \
 *     |   maintain.c  decay, trim, statistics, validate, fork: walks the
 *     |  /            layers below, never called by them
 *   theap.c     thread heaps: spans owned per thread, frees from other
 *     |         threads, thread exit
 *   segment.c   segments and spans (one lock)        large.c  blocks with
 *     |                                                 |     their own mapping
 *   common/: os.c (mappings), clock.h, counter.h, list.h, lifecycle.c
 *
 * Lock order: a thread heap's own mu -> registry -> shared heap -> segments ->
 * large; under the registry, another live heap's mu is only ever tried
 * (trylock), and a heap whose thread is gone (retired, or found dead) is
 * locked.
 */
#ifndef UNSAFE_INTERNAL_H
#define UNSAFE_INTERNAL_H

#include <pthread.h>

#include "fatal.h"
#include "layout.h"
#include "lifecycle.h"
#include "size_class.h"
#include "stats.h"

/* ---- thread heaps (theap.c) ---------------------------------------------- */
/* LIVE: a thread's own; RETIRED: its thread exited, kept for the next one;
 * SHARED: the locked heap; NONE: theap_empty/theap_none, which own nothing;
 * ORPHAN: a thread that did not survive fork() owned it, maybe mid-update,
 * so it is never used or walked again (its spans stay with it). */
enum { THEAP_LIVE, THEAP_RETIRED, THEAP_SHARED, THEAP_NONE, THEAP_ORPHAN };

typedef struct theap {
  span_t *cur[NCLASSES];  /* span malloc pops from: avail head or &span_none */
  list_t avail[NCLASSES]; /* owned spans that had free blocks when last seen */
  list_t full[NCLASSES];  /* owned spans found without one (OWNER_FULL set) */
  uint64_t nmalloc[NCLASSES], nfree[NCLASSES]; /* statistics */
  /* Guards the lists and the spans on them but cur[]'s: the owner holds it
   * on its slow paths (its fast paths touch only cur[] spans and blocks it
   * holds); another thread holds it to give back spans whose every block
   * came home. */
  pthread_mutex_t mu;
  int state;             /* THEAP_* */
  uint64_t collected_ms; /* last collection by its owner */
  thread_life_t life;    /* LIVE: tells others when the thread is gone */
  list_node_t link;      /* registry: live, retired or orphans */
} theap_t;

/* The calling thread's heap.  Before its first allocation a thread points at
 * theap_empty, whose every cur[] is span_none (no free block) and which owns
 * no span, so both fast paths fall through to the slow paths, which set the
 * heap up; after thread exit, with caches off and under valgrind it points at
 * theap_none, which sends every operation to one shared heap under a lock. */
extern HIDDEN __thread theap_t *tls_heap;
extern HIDDEN __thread unsigned tls_remote_frees; /* heap_fast.h: REMOTE_TICK_EVERY */
extern HIDDEN theap_t theap_empty, theap_none;
extern HIDDEN span_t span_none;
extern HIDDEN uint64_t g_nfree_heapless[NCLASSES]; /* frees by threads without a heap */

/* A free of p by a thread that does not own s: onto s's xfree with a CAS
 * (release: the owner's exchange sees the link).  No memcheck hook: callers
 * that may run under one use theap.c's span_push_remote. */
static ALWAYS_INLINE void span_push_remote_fast(span_t *s, void *p) {
  void *head = __atomic_load_n(&s->xfree, __ATOMIC_RELAXED);
  do blk_set_next_fast(p, head);
  while (!__atomic_compare_exchange_n(&s->xfree, &head, p, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}
/* Such a free counted: in the freeing thread's heap, or in the shared counter
 * for a thread without one (live: h->state == THEAP_LIVE). */
static ALWAYS_INLINE void remote_free_count(theap_t *h, unsigned cls, bool live) {
  if (likely(live)) h->nfree[cls]++;
  else __atomic_add_fetch(&g_nfree_heapless[cls], 1, __ATOMIC_RELAXED);
}

/* Misses of the fast paths (the heap is initialised). */
void *theap_malloc_slow(unsigned cls);
void theap_free_slow(void *p, unsigned cls);
/* The fast free path emptied one of the caller's spans. */
void theap_span_empty(theap_t *h, span_t *s);
/* The caller's own heap, once per period: collect it. */
void theap_tick(uint64_t now, uint64_t period);
/* Collect frees by other threads and give empty spans back in the heaps no
 * thread is using (retired ones, the shared one, live ones whose thread is
 * gone), and give back other live threads' spans whose blocks all came home;
 * all: wait for the locks and give back even current spans.
 * theaps_collect: the caller's own heap too. */
void theaps_collect_idle(bool all);
void theaps_collect(bool all);
/* Sum every heap's counters into s (registry lock held inside). */
void theaps_stats(alloc_stats_t *s);
/* Blocks out of s not on its xfree list; walks s's lists when the caller may
 * (its own span, or a retired or shared heap's under validate's locks).
 * Fatal on a broken invariant. */
size_t theap_span_validate(span_t *s);
/* Checks the lists of the heaps validate may walk; returns their spans. */
size_t theaps_validate(void);
void theaps_lock(void);
void theaps_unlock(void);
void theaps_fork_prepare(void);
void theaps_fork_parent(void);
void theaps_fork_child(void);

/* ---- segments (segment.c) ------------------------------------------------ */
/* A span of class cls whose owner word is `owner`, nothing carved; NULL when
 * the OS refuses. */
span_t *span_new(unsigned cls, uintptr_t owner);
void span_release(span_t *s);      /* all blocks back: pages to the segment */
void segments_lock(void);
void segments_unlock(void);
size_t segments_span_bytes(void);  /* bytes in spans in use */
/* Segments and pages unused for age ms go back to the OS (keep_one: the last
 * empty segment stays mapped); 1 if anything went. */
int segments_release(uint64_t now, uint64_t age, bool keep_one);
/* Checks segments and span headers; span_check counts a span's live blocks.
 * Caller holds the segment lock. */
size_t segments_validate(size_t (*span_check)(span_t *));

/* ---- large (large.c) ------------------------------------------------------ */
void *large_alloc(size_t n, size_t align, bool zero);
/* h: the (checked) header of p. */
void large_free(segment_t *h, void *p);
void *large_realloc(segment_t *h, void *p, size_t n); /* NULL: not in place/remap */
size_t large_usable(const segment_t *h);
void large_lock(void);
void large_unlock(void);
void large_stats(alloc_stats_t *s);
size_t large_validate(void);
int large_release(uint64_t now, uint64_t age); /* cached mappings unused for age ms */

/* ---- maintenance (maintain.c) --------------------------------------------- */
/* On a slow path: once per decay period, collect and give back what has been
 * unused for ALLOC_DECAY_MS (any thread may do it for all). */
void maintain_tick(void);
/* The OS refused memory: give back everything that can go at once (cached,
 * empty, decayable); 1 if anything went, so a retry may succeed. */
int maintain_release_all(void);

#endif
