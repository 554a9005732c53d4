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
 * Expected cost (alloc_unsafe, callgrind, bench icount): about 77
 * instructions per malloc(32)+free pair, the benchmark loop included.
 */
#ifndef UNSAFE_HEAP_FAST_H
#define UNSAFE_HEAP_FAST_H

#include "internal.h"

/* heap.h: the pointers the override does not pass on (bootstrap blocks,
 * realloc to an impossible size); the policy decides whether to look. */
static ALWAYS_INLINE void heap_check_early(const void *p, int op) { pol_check_early(p, op); }

/* heap.h: malloc_slow sets errno itself, so malloc() tail-calls it. */
#define HEAP_MALLOC_SETS_ERRNO 1

/* Cold paths, in alloc.c.  free_slow: b is the block (small) or p (large);
 * malloc_slow sets errno to ENOMEM when it returns NULL. */
void *malloc_slow(size_t n, size_t align);
void free_slow(void *b, unsigned cls);

static ALWAYS_INLINE void *heap_malloc(size_t n) {
  size_t m = n + POLICY_BLOCK_HDR;
  if (likely(m <= LUT_MAX) || m <= SMALL_MAX) { /* one compare for most sizes */
    unsigned c = class_of(m);
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
  return malloc_slow(n, ALLOC_MIN_ALIGN);
}

static ALWAYS_INLINE void heap_free(void *p) {
  span_t *pg = pol_page_of(p, POL_FREE);
  unsigned c = pg->cls;
  void *b = p;
  if (likely(c < NCLASSES)) {
    span_t *s = pg - pg->back;
    b = (char *)p - POLICY_BLOCK_HDR;
    theap_t *h = tls_heap;
    if (likely(__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == (uintptr_t)h)) {
      pol_small_free(s, b, POL_FREE);
      blk_set_next_fast(b, s->local_free);
      s->local_free = b;
      h->nfree[c]++;
      /* Release: another thread reading used (theap_reclaim) sees the link. */
      uint16_t used = (uint16_t)(s->used - 1);
      __atomic_store_n(&s->used, used, __ATOMIC_RELEASE);
      if (unlikely(used == 0) && s != h->cur[c]) theap_span_empty(h, s);
      return;
    }
  }
  free_slow(b, c);
}

#endif
