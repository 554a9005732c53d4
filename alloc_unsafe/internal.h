/* internal.h - how alloc_unsafe's files call each other.
 *
 *   alloc.c    the heap.h operations; fast paths on the thread cache
 *   tcache.c   thread caches: creation, refill/flush glue, thread exit,
 *              process initialisation, fork
 *   central.c  per-class lists of spans with free blocks (one lock a class)
 *   segment.c  segments and spans (one lock), decay back to the OS
 *   large.c    blocks with their own mapping, and their cache
 *   inspect.c  statistics, validate, trim
 *
 * Lock order: registry -> central[0..NCLASSES) -> segments -> large.
 */
#ifndef UNSAFE_INTERNAL_H
#define UNSAFE_INTERNAL_H

#include <pthread.h>

#include "fatal.h"
#include "layout.h"
#include "size_class.h"
#include "stats.h"

/* ---- thread cache ------------------------------------------------------- */
typedef struct tbin {
  void *head;         /* in-band list of cached blocks */
  uint32_t count, max;
  uint64_t nmalloc, nfree; /* statistics: blocks handed out / taken back */
} tbin_t;

typedef struct tcache {
  tbin_t bins[NCLASSES];
  struct tcache *next, *prev; /* registry of live caches */
} tcache_t;

/* The calling thread's cache.  Before a thread's first allocation it points
 * at tcache_empty (every bin empty, max 0), so the fast paths fall through to
 * the slow paths, which set it up; after thread exit, at tcache_none. */
extern __thread tcache_t *tls_tc;
extern tcache_t tcache_empty, tcache_none;

/* Misses of the fast paths in alloc.c (the heap is initialised). */
void *tcache_alloc_slow(unsigned cls);
void tcache_free_slow(void *p, unsigned cls);
void tcache_flush_own(void);
/* Sum every live cache's counters into s (registry lock held inside). */
void tcache_stats(alloc_stats_t *s);
/* Blocks in all caches; the calling thread's bins are checked block by block. */
size_t tcache_validate(void);
bool heap_ready(void);
/* Initialise the process once; false for a re-entrant call from inside it. */
bool heap_init(void);

/* ---- central ------------------------------------------------------------ */
/* Move up to n blocks of class cls onto *list; returns how many (0: OOM). */
uint32_t central_take(unsigned cls, uint32_t n, void **list);
/* Give back a NULL-terminated list of blocks of class cls. */
void central_give(unsigned cls, void *list);
void central_lock_all(void);
void central_unlock_all(void);
void central_init(void);
/* Counters of uncached operations and of exited threads' caches. */
void central_count(unsigned cls, uint64_t nmalloc, uint64_t nfree);
/* Blocks counted out of spans, and retired thread counters, per class. */
void central_stats(alloc_stats_t *s);
size_t central_validate(void);

/* ---- segments ----------------------------------------------------------- */
span_t *span_new(unsigned cls);    /* NULL when the OS refuses */
void span_release(span_t *s);      /* all blocks back: pages to the segment */
void segments_lock(void);
void segments_unlock(void);
size_t segments_validate(void);    /* spans seen */
int segments_trim(void);
void decay_maybe(void);            /* give back memory unused for decay_ms */
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

/* ---- statistics the central lists keep for the peak ---------------------- */
void out_bytes_add(ptrdiff_t delta);

#endif
