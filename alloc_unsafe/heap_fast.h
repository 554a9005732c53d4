/* heap_fast.h - alloc_unsafe's hot pair, inlined into malloc() and free().
 *
 * malloc pops the calling thread's bin for the size class, free pushes onto
 * the bin of the block's class.  No checks: a pointer is trusted to be one
 * this heap handed out.  Expected cost of a hit (x86-64, gcc -O2, counted
 * with callgrind, see the README): about 15 instructions each including the
 * malloc()/free() wrappers; a miss calls the cold slow path once per `batch`
 * operations.
 */
#ifndef UNSAFE_HEAP_FAST_H
#define UNSAFE_HEAP_FAST_H

#include "internal.h"

/* Cold paths, in alloc.c. */
void *malloc_slow(size_t n, size_t align);
void free_slow(void *p, unsigned cls);

static ALWAYS_INLINE void *heap_malloc(size_t n) {
  if (likely(n <= SMALL_MAX)) {
    tbin_t *b = &tls_tc->bins[class_of(n)];
    void *p = b->head;
    if (likely(p != NULL)) {
      b->head = blk_next_fast(p);
      b->count--;
      b->nmalloc++;
      return p;
    }
  }
  return malloc_slow(n, ALLOC_MIN_ALIGN);
}

static ALWAYS_INLINE void heap_free(void *p) {
  unsigned c = page_of(p)->cls;
  if (likely(c < NCLASSES)) {
    tbin_t *b = &tls_tc->bins[c];
    if (likely(b->count < b->max)) {
      blk_set_next_fast(p, b->head);
      b->head = p;
      b->count++;
      b->nfree++;
      return;
    }
  }
  free_slow(p, c);
}

#endif
