/* heap_fast.h - the in-band engine's hot pair, inlined into malloc() and
 * free().
 *
 * malloc pops the free list of the calling thread's current span for the
 * size class; free pushes onto the local free list of the block's span when
 * the calling thread owns that span.  The policy (heap_policy.h) decodes the
 * pointer and the link and marks the block; under alloc_unsafe's policy that
 * is nothing at all: a pointer is trusted to be one this heap handed out.
 * Neither path takes a lock or an atomic read-modify-write.  A miss calls
 * the cold slow path: for malloc once per free list drained, for free on a
 * span of another thread (one CAS), a span on its owner's full list, a span
 * left with no block out, or a large block.
 *
 * malloc() and free() call heap_malloc_fast/heap_free_fast first (heap.h,
 * HEAP_FAST_MISS): the size limit, the valgrind test and the bootstrap test
 * happen only after a miss.
 *
 * Expected cost (callgrind, bench icount): about 59 instructions per
 * malloc(32)+free pair for alloc_unsafe, the benchmark loop's 10 included;
 * 77.5 for alloc_hybrid.  A free by another thread completes here too
 * (heap_free_remote_fast).
 */
#ifndef UNSAFE_HEAP_FAST_H
#define UNSAFE_HEAP_FAST_H

#include "bootstrap.h"
#include "internal.h"

/* heap.h: the pointers the override does not pass on (bootstrap blocks,
 * realloc to an impossible size); the policy decides whether to look. */
static ALWAYS_INLINE void heap_check_early(const void *p, int op) { pol_check_early(p, op); }

/* heap.h: malloc_slow sets errno itself, so malloc() tail-calls it. */
#define HEAP_MALLOC_SETS_ERRNO 1
/* heap.h: the fast pair misses for every size above SMALL_MAX; on every
 * thread whose heap is tls_heap's starting value or theap_none (the stand-in
 * for threads without a heap), which own no span and whose current spans are
 * all span_none: every thread before the heap initialised, and every thread
 * under valgrind with the memcheck hooks on (theap.c, theap_get); and for a
 * bootstrap block, whose page entry is in the arena's zeroed lead
 * (bootstrap.h): owner 0 is no heap. */
#define HEAP_FAST_MISS 1
#define HEAP_FREE_FAST_NULL POLICY_PAGE_TRY_NULL
_Static_assert(BOOTSTRAP_ALIGN == SEG_SIZE && BOOTSTRAP_LEAD >= PAGE_SIZE &&
                   BOOTSTRAP_LEAD % PAGE_SIZE == 0 && BOOTSTRAP_LEAD + BOOTSTRAP_SIZE <= SEG_SIZE,
               "a bootstrap block's page entry lies in the arena's zeroed lead");

/* Cold paths, in alloc.c.  free_slow: b is the block (small) or p (large);
 * heap_free_slow: p as the program gave it; malloc_slow sets errno to ENOMEM
 * when it returns NULL. */
void *malloc_slow(size_t n, size_t align);
void free_slow(void *b, unsigned cls);
void heap_free_slow(void *p);
static inline void *heap_malloc_slow(size_t n) { return malloc_slow(n, ALLOC_MIN_ALIGN); }

static ALWAYS_INLINE void *heap_malloc_fast(size_t n) {
  /* One compare for most sizes; n + POLICY_BLOCK_HDR cannot wrap. */
  if (likely(n <= LUT_MAX - POLICY_BLOCK_HDR) || n <= SMALL_MAX - POLICY_BLOCK_HDR) {
    unsigned c = class_of(n + POLICY_BLOCK_HDR);
    theap_t *h = tls_heap;
    span_t *s = h->cur[c];
    void *p = s->free;
    if (likely(p != NULL)) {
      s->free = blk_next_fast(s, p);
      s->used++;
      h->nmalloc[c]++;
      pol_small_alloc(s, p);
      return (char *)p + POLICY_BLOCK_HDR;
    }
  }
  return NULL;
}

static ALWAYS_INLINE void *heap_malloc(size_t n) {
  void *p = heap_malloc_fast(n);
  return likely(p != NULL) ? p : malloc_slow(n, ALLOC_MIN_ALIGN);
}

/* A free by a thread whose heap h does not own s (owner word own): pushed
 * onto s's xfree as theap_free_slow would, without the miss path's second
 * page lookup.  It misses for owner 0 (no heap: a bootstrap block's page
 * entry in the arena's zeroed lead, or a span given back), for a span of
 * h's own full list, for theap_none (the shared heap's threads), and for a
 * thread that never allocated (theap_empty) unless the memcheck hooks are
 * known to be off: under them every free must reach the override's hook,
 * and a thread that only frees never leaves theap_empty.  Such a thread
 * otherwise counts its frees in the shared counter, as the slow path does.
 * One remote free in REMOTE_TICK_EVERY of each thread misses on purpose, so
 * the slow path's maintain_tick still runs for a thread that only frees
 * other threads' blocks (the decay pass must see them while their owner is
 * idle or gone). */
#define REMOTE_TICK_EVERY 64
static ALWAYS_INLINE bool heap_free_remote_fast(theap_t *h, span_t *s, void *b, uintptr_t own) {
  unsigned c = __atomic_load_n(&s->cls, __ATOMIC_RELAXED); /* again: see heap_free_fast */
  bool live = h->state == THEAP_LIVE;
  uintptr_t o = own & ~(uintptr_t)OWNER_FULL;
  if (unlikely(o == (uintptr_t)h) || unlikely(o == 0) ||
      unlikely(!live && (h != &theap_empty || !__atomic_load_n(&vg_known_off, __ATOMIC_RELAXED))) ||
      unlikely(++tls_remote_frees % REMOTE_TICK_EVERY == 0) || unlikely(!pol_small_free_remote_try(s, b)))
    return false;
  span_push_remote_fast(s, b);
  remote_free_count(h, c, live);
  return true;
}

static ALWAYS_INLINE bool heap_free_fast(void *p) {
  span_t *pg = pol_page_try(p);
  if (unlikely(!pg)) return false;
  unsigned c = pg->cls;
  if (likely(c < NCLASSES)) {
    span_t *s = pg - pg->back;
    void *b = (char *)p - POLICY_BLOCK_HDR;
    theap_t *h = tls_heap;
    /* The remote path loads the owner word and the class again: keeping
     * them in registers cost the local path two moves. */
    if (unlikely(__atomic_load_n(&s->owner, __ATOMIC_RELAXED) != (uintptr_t)h))
      return heap_free_remote_fast(h, s, b, __atomic_load_n(&s->owner, __ATOMIC_RELAXED));
    if (likely(pol_small_free_try(s, b))) {
      blk_set_next_fast(b, s->local_free);
      s->local_free = b;
      h->nfree[c]++;
      /* Release: another thread reading used (theap_reclaim) sees the link. */
      if (unlikely(span_used_dec(s)) && s != h->cur[c]) theap_span_empty(h, s);
      return true;
    }
  }
  return false;
}

static ALWAYS_INLINE void heap_free(void *p) {
  if (likely(heap_free_fast(p))) return;
  heap_free_slow(p);
}

#endif
