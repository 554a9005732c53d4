/* heap_fast.h - alloc_unsafe's hot pair, inlined into malloc() and free().
 *
 * malloc pops the free list of the calling thread's current span for the
 * size class; free pushes onto the local free list of the block's span when
 * the calling thread owns that span.  No checks: a pointer is trusted to be
 * one this heap handed out.  Neither path takes a lock or an atomic
 * read-modify-write.  A miss calls the cold slow path: for malloc once per
 * free list drained, for free on a span of another thread (one CAS), a span
 * on its owner's full list, or a span left with no block out.
 */
#ifndef UNSAFE_HEAP_FAST_H
#define UNSAFE_HEAP_FAST_H

#include "internal.h"

/* heap.h: the override's pointers the heap does not otherwise see.  The
 * trusting heap looks at none of them. */
static ALWAYS_INLINE void heap_check_early(const void *p, int op) {
  (void)p;
  (void)op;
}

/* Cold paths, in alloc.c. */
void *malloc_slow(size_t n, size_t align);
void free_slow(void *p, unsigned cls);

static ALWAYS_INLINE void *heap_malloc(size_t n) {
  if (likely(n <= LUT_MAX) || n <= SMALL_MAX) { /* one compare for most sizes */
    unsigned c = class_of(n);
    theap_t *h = tls_heap;
    span_t *s = h->cur[c];
    void *p = s->free;
    if (likely(p != NULL)) {
      s->free = blk_next_fast(p);
      s->used++;
      h->nmalloc[c]++;
      return p;
    }
  }
  return malloc_slow(n, ALLOC_MIN_ALIGN);
}

static ALWAYS_INLINE void heap_free(void *p) {
  span_t *pg = page_of(p);
  unsigned c = pg->cls;
  if (likely(c < NCLASSES)) {
    span_t *s = pg - pg->back;
    theap_t *h = tls_heap;
    if (likely(__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == (uintptr_t)h)) {
      blk_set_next_fast(p, s->local_free);
      s->local_free = p;
      h->nfree[c]++;
      if (unlikely(--s->used == 0) && s != h->cur[c]) theap_span_empty(h, s);
      return;
    }
  }
  free_slow(p, c);
}

#endif
