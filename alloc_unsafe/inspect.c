/* inspect.c - statistics, validate and trim for alloc_unsafe. */
#include <string.h>

#include "heap.h"
#include "internal.h"

void heap_stats(alloc_stats_t *s) {
  if (!heap_ready()) return;
  central_stats(s);
  tcache_stats(s);
  for (unsigned c = 0; c < s->nclasses; c++) {
    s->allocs += s->cls[c].allocs;
    s->frees += s->cls[c].frees;
    s->bytes_live += (s->cls[c].allocs - s->cls[c].frees) * s->cls[c].size;
  }
  large_stats(s);
  s->live_blocks = s->allocs - s->frees;
}

/* Walks every segment, span, free list, partial list, the large cache and
 * the caller's thread cache; ends in alloc_fatal on any broken invariant.
 * Exact when other threads are not allocating meanwhile. */
size_t heap_validate(void) {
  if (!heap_ready()) return 0;
  central_lock_all();
  segments_lock();
  large_lock();
  size_t out = segments_validate();
  central_validate();
  size_t large = large_validate();
  large_unlock();
  segments_unlock();
  central_unlock_all();
  size_t cached = tcache_validate();
  if (cached > out) alloc_fatal("validate: more cached blocks than blocks out", NULL);
  return out - cached + large;
}

int heap_trim(size_t pad) {
  if (!heap_ready()) return 0;
  tcache_flush_own();
  int a = segments_trim(), b = large_trim();
  return a | b;
}
