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
  if (unlikely(alloc_dying())) return bootstrap_alloc(n, align); /* fatal.h: no locks */
  if (n > SMALL_MAX || align > PAGE_SIZE) return large_alloc(n, align, false);
  unsigned c = class_of(MAX(n, align));
  while (size_classes[c].size % align) c++; /* a class whose blocks are aligned */
  return theap_malloc_slow(c);
}

void free_slow(void *p, unsigned cls) {
  if (unlikely(alloc_dying())) return; /* fatal.h: leak rather than lock */
  if (cls == CLS_LARGE) large_free(p);
  else theap_free_slow(p, cls);
}

void heap_free_sized(void *p, size_t n) { heap_free(p); }

void *heap_calloc(size_t n) {
  if (n > SMALL_MAX) {
    if ((unlikely(!heap_ready()) && !heap_init()) || unlikely(alloc_dying()))
      return bootstrap_alloc(n, ALLOC_MIN_ALIGN);
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

/* ---- appended for common/heap.h's newer operations ---------------------- */

/* The alignment is implied by where the block sits: nothing to check here. */
void heap_free_aligned_sized(void *p, size_t align, size_t n) { heap_free(p); }

/* A small block: class size minus p's offset within its block, from the
 * span.  A large block: from its header, which seg_of(p) finds only while p
 * is in the first SEG_SIZE of the mapping; beyond, seg_of(p) is the block's
 * own bytes, so the header read back must look consistent or the answer is
 * "unknown".  (alloc_unsafe trusts p: bytes the program wrote could pass.) */
size_t heap_object_size(const void *p) {
  segment_t *seg = seg_of(p);
  uintptr_t a = (uintptr_t)p;
  if (seg->pages[0].cls == CLS_FREE) { /* a small segment: page 0 is its header */
    span_t *pg = page_of(p);
    if (pg->cls >= NCLASSES) return ALLOC_OBJECT_SIZE_UNKNOWN;
    span_t *s = pg - pg->back;
    uintptr_t base = (uintptr_t)span_base(s);
    size_t stride = size_classes[pg->cls].size;
    if (a < base || a >= base + (size_t)size_classes[pg->cls].nblocks * stride)
      return ALLOC_OBJECT_SIZE_UNKNOWN;
    return stride - (a - base) % stride;
  }
  size_t off = seg->large_off;
  if (seg->map.base != seg || off < OS_PAGE || off > SEG_SIZE ||
      seg->pages[off >> PAGE_SHIFT].cls != CLS_LARGE || seg->large_usable > seg->map.size)
    return ALLOC_OBJECT_SIZE_UNKNOWN;
  uintptr_t start = (uintptr_t)seg + off;
  if (a < start || a >= start + seg->large_usable) return ALLOC_OBJECT_SIZE_UNKNOWN;
  return start + seg->large_usable - a;
}
