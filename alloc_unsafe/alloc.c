/* alloc.c - alloc_unsafe's core operations (heap.h).
 *
 * The fast paths are in heap_fast.h; here are their slow paths and the rest
 * of heap.h.
 */
#include <string.h>

#include "bootstrap.h"
#include "heap.h"
#include "internal.h"

/* Before initialisation, for sizes above SMALL_MAX, for aligned requests,
 * and when the current span's free list is empty. */
void *malloc_slow(size_t n, size_t align) {
  if (unlikely(!heap_ready()) && !heap_init()) return bootstrap_alloc(n, align);
  if (n > SMALL_MAX || align > PAGE_SIZE) return large_alloc(n, align, false);
  unsigned c = class_of(MAX(n, align));
  while (size_classes[c].size % align) c++; /* a class whose blocks are aligned */
  return theap_malloc_slow(c);
}

void free_slow(void *p, unsigned cls) {
  if (cls == CLS_LARGE) large_free(p);
  else theap_free_slow(p, cls);
}

void heap_free_sized(void *p, size_t n) { heap_free(p); }

void *heap_calloc(size_t n) {
  if (n > SMALL_MAX) {
    if (unlikely(!heap_ready()) && !heap_init()) return bootstrap_alloc(n, ALLOC_MIN_ALIGN);
    return large_alloc(n, ALLOC_MIN_ALIGN, true); /* fresh mappings are already zero */
  }
  void *p = heap_malloc(n);
  if (p) {
    vg_open(p, n); /* the override then describes it to memcheck as zeroed */
    memset(p, 0, n);
  }
  return p;
}

void *heap_memalign(size_t align, size_t n) { return malloc_slow(n, align); }

size_t heap_usable_size(const void *p) {
  unsigned c = page_of(p)->cls;
  return c < NCLASSES ? size_classes[c].size : large_usable(p);
}

void *heap_realloc(void *p, size_t n) {
  unsigned c = page_of(p)->cls;
  size_t old;
  if (c < NCLASSES) {
    old = size_classes[c].size;
    if (n <= old && n >= old / 2) return p; /* same class or one below: keep */
  } else {
    if (n > SMALL_MAX) {
      void *q = large_realloc(p, n); /* mremap: no bytes copied */
      if (q) return q;
    }
    old = large_usable(p);
  }
  void *q = heap_malloc(n);
  if (!q) return NULL;
  memcpy(q, p, MIN(old, n));
  heap_free(p);
  return q;
}
