/* inspect.c - statistics, validate and trim for alloc_unsafe. */
#include <string.h>

#include "heap.h"
#include "internal.h"

void heap_stats(alloc_stats_t *s) {
  if (!heap_ready()) return;
  theaps_stats(s);
  for (unsigned c = 0; c < s->nclasses; c++) {
    /* Heaps are read one after another: a free may be counted whose malloc
     * was not yet, so a class can show more frees than allocations. */
    if (s->cls[c].frees > s->cls[c].allocs) s->cls[c].frees = s->cls[c].allocs;
    s->allocs += s->cls[c].allocs;
    s->frees += s->cls[c].frees;
    s->bytes_live += (s->cls[c].allocs - s->cls[c].frees) * s->cls[c].size;
  }
  out_bytes_stats(s); /* before large_stats: bytes_cached is about spans */
  large_stats(s);
  s->live_blocks = s->allocs - s->frees;
}

/* Walks every segment and span, the lists of every heap no thread is using
 * and of the caller's own, and the large cache; ends in alloc_fatal on any
 * broken invariant.  Spans of other live threads are only counted, not
 * checked (theap_span_validate); the count is exact when those threads are
 * not allocating meanwhile. */
size_t heap_validate(void) {
  if (!heap_ready()) return 0;
  theaps_lock();
  segments_lock();
  large_lock();
  size_t live = segments_validate();
  theaps_validate();
  size_t large = large_validate();
  large_unlock();
  segments_unlock();
  theaps_unlock();
  return live + large;
}

int heap_trim(size_t pad) {
  if (!heap_ready()) return 0;
  theaps_collect(true);
  int a = segments_trim(), b = large_trim();
  return a | b;
}
