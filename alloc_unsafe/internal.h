/* internal.h - how alloc_unsafe's files call each other.
 *
 *   alloc.c    the heap.h operations and the slow paths of heap_fast.h
 *   theap.c    thread heaps: spans owned per thread, frees from other
 *              threads, thread exit, process initialisation, fork
 *   segment.c  segments and spans (one lock), decay back to the OS
 *   large.c    blocks with their own mapping, and their cache
 *   inspect.c  statistics, validate, trim
 *
 * Lock order: a thread heap's own mu -> registry -> shared heap -> segments ->
 * large; another heap's mu is only ever tried (trylock), under the registry.
 */
#ifndef UNSAFE_INTERNAL_H
#define UNSAFE_INTERNAL_H

#include <pthread.h>

#include "fatal.h"
#include "layout.h"
#include "size_class.h"
#include "stats.h"

/* ---- thread heaps ------------------------------------------------------- */
/* LIVE: a thread's own; RETIRED: its thread exited, kept for the next one;
 * SHARED: the locked heap; NONE: theap_empty/theap_none, which own nothing;
 * ORPHAN: a thread that did not survive fork() owned it, maybe mid-update,
 * so it is never used or walked again (its spans stay with it). */
enum { THEAP_LIVE, THEAP_RETIRED, THEAP_SHARED, THEAP_NONE, THEAP_ORPHAN };

typedef struct span_list {
  span_t *head, *tail;
} span_list_t;

typedef struct theap {
  span_t *cur[NCLASSES];        /* span malloc pops from: avail head or &span_none */
  span_list_t avail[NCLASSES];  /* owned spans that had free blocks when last seen */
  span_list_t full[NCLASSES];   /* owned spans found without one (OWNER_FULL set) */
  uint64_t nmalloc[NCLASSES], nfree[NCLASSES]; /* statistics */
  /* Guards the full lists and the spans on them: the owner holds it on its
   * slow paths (its fast paths never touch a full span); another thread
   * holds it to give back full spans whose every block came home. */
  pthread_mutex_t mu;
  int state;                  /* THEAP_* */
  uint64_t collected_ms;      /* last collection by its owner */
  struct theap *next, *prev;  /* registry: live or retired */
} theap_t;

/* The calling thread's heap.  Before its first allocation a thread points at
 * theap_empty, whose every cur[] is span_none (no free block) and which owns
 * no span, so both fast paths fall through to the slow paths, which set the
 * heap up; after thread exit, with caches off and under valgrind it points at
 * theap_none, which sends every operation to one shared heap under a lock. */
extern __thread theap_t *tls_heap;
extern theap_t theap_empty, theap_none;
extern span_t span_none;

/* Misses of the fast paths (the heap is initialised). */
void *theap_malloc_slow(unsigned cls);
void theap_free_slow(void *p, unsigned cls);
/* The fast free path emptied one of the caller's spans. */
void theap_span_empty(theap_t *h, span_t *s);
/* Collect frees by other threads and give empty spans back in the heaps no
 * thread is using (retired ones, the shared one), and give back other live
 * threads' full spans whose blocks all came home; all: wait for the locks
 * and give back even current spans.  theaps_collect: the caller's own heap
 * too. */
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
bool heap_ready(void);
/* Initialise the process once; false for a re-entrant call from inside it. */
bool heap_init(void);

/* ---- segments ----------------------------------------------------------- */
/* A span of class cls owned by h, nothing carved; NULL when the OS refuses. */
span_t *span_new(unsigned cls, theap_t *h);
void span_release(span_t *s);      /* all blocks back: pages to the segment */
void segments_lock(void);
void segments_unlock(void);
size_t segments_validate(void);    /* live blocks in spans */
int segments_trim(void);
/* Once per decay period (any thread): collect idle heaps, give back memory
 * unused for decay_ms. */
void decay_maybe(uint64_t now);
uint64_t decay_period_ms(void);
uint64_t now_ms(void);

/* ---- large -------------------------------------------------------------- */
void *large_alloc(size_t n, size_t align, bool zero);
void large_free(void *p);
void *large_realloc(void *p, size_t n); /* NULL: could not resize in place/remap */
size_t large_usable(const void *p);
void large_lock(void);
void large_unlock(void);
void large_stats(alloc_stats_t *s);
size_t large_validate(void);
int large_trim(void);
void large_decay(uint64_t now);

/* ---- bytes in spans and large blocks in use, and their peak ------------- */
void out_bytes_add(ptrdiff_t delta);
void out_bytes_stats(alloc_stats_t *s);

#endif
