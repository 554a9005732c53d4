/* alloc.c - the in-band engine's core operations (heap.h).
 *
 * The fast paths are in heap_fast.h; here are their slow paths and the rest
 * of heap.h.  Every pointer that enters (free, realloc, usable size) is
 * decoded through the policy before anything in-band is read; every slow
 * path ends with maintain_tick(), so any traffic, small or large, drives the
 * decay pass.  When the OS refuses memory, what can be given back is given
 * back and the request is tried once more.
 */
#include <errno.h>
#include <string.h>

#include "bootstrap.h"
#include "heap.h"
#include "internal.h"

#ifndef FUZZ_PLANT
#define FUZZ_PLANT 0 /* 1: the planted bug below, for make fuzz FUZZ_PLANT=1 */
#endif

/* One attempt at n bytes aligned to align, small or large. */
static void *alloc_once(size_t n, size_t align) {
  size_t m = n + POLICY_BLOCK_HDR;
  if (m > SMALL_MAX || align > PAGE_SIZE || (POLICY_BLOCK_HDR && align > ALLOC_MIN_ALIGN))
    return large_alloc(n, align, false);
  unsigned c = class_of(MAX(m, align));
  while (size_classes[c].size % align) c++; /* a class whose blocks are aligned */
  char *b = theap_malloc_slow(c);
  return b ? b + POLICY_BLOCK_HDR : NULL;
}

/* Before initialisation, for sizes above SMALL_MAX, for aligned requests,
 * and when the current span's free list is empty. */
void *malloc_slow(size_t n, size_t align) {
  void *p;
  if ((unlikely(!alloc_ready()) && !alloc_init()) || unlikely(alloc_dying())) {
    p = bootstrap_alloc(n, align); /* dying (fatal.h): no locks */
  } else {
    p = alloc_once(n, align);
    if (unlikely(!p) && maintain_release_all()) p = alloc_once(n, align);
    maintain_tick();
    static void *planted; /* FUZZ_PLANT: every second 256-aligned request of */
    if (FUZZ_PLANT && align == 256 && n > 512 && n <= 1024) { /* 513..1024 bytes */
      void *first = planted; /* gets the block the first one got: handed out twice */
      planted = first ? NULL : p, p = first ? first : p;
    }
  }
  if (unlikely(!p)) errno = ENOMEM; /* heap_fast.h: HEAP_MALLOC_SETS_ERRNO */
  return p;
}

/* The header of large block p, checked by the policy. */
static segment_t *large_header(const void *p, pol_op_t op) {
  segment_t *h = seg_of(p);
  pol_large_check(h, p, op);
  return h;
}

void free_slow(void *b, unsigned cls) {
  if (unlikely(alloc_dying())) return; /* fatal.h: leak rather than lock */
  if (cls < NCLASSES) theap_free_slow(b, cls);
  else large_free(large_header(b, POL_FREE), b); /* the policy rejects a free page */
  maintain_tick();
}

/* heap_free's miss: the page entry again (a validating policy checks p once
 * more), then free_slow. */
void heap_free_slow(void *p) {
  unsigned c = pol_page_of(p, POL_FREE)->cls;
  free_slow(c < NCLASSES ? (char *)p - POLICY_BLOCK_HDR : p, c);
}

/* Could the block at p have been handed out for (n, align)?  Small: n fits
 * and the class is the one malloc or memalign picks for it, or a class up
 * to twice n (realloc keeps a block that shrinks by up to half).  Large: n
 * fits, and n is above the small limit unless the alignment forced a large
 * block.  Used by a policy with POLICY_CHECK_SIZES. */
static bool engine_size_fits(const void *p, size_t n, size_t align) {
  span_t *pg = pol_page_of(p, POL_FREE_SIZED);
  unsigned c = pg->cls;
  if (c < NCLASSES) {
    pol_small_check(pg - pg->back, (const char *)p - POLICY_BLOCK_HDR, POL_FREE_SIZED);
    size_t size = size_classes[c].size - POLICY_BLOCK_HDR;
    if (n > size) return false;
    if (align <= ALLOC_MIN_ALIGN) return 2 * n + 2 * POLICY_BLOCK_HDR >= size || c == 0;
    return size % align == 0; /* aligned: the class was picked for its alignment */
  }
  segment_t *h = large_header(p, POL_FREE_SIZED);
  return n <= large_usable(h) && (n + POLICY_BLOCK_HDR > SMALL_MAX || align > ALLOC_MIN_ALIGN);
}

void heap_free_sized(void *p, size_t n) {
  if (POLICY_CHECK_SIZES && !engine_size_fits(p, n, ALLOC_MIN_ALIGN))
    alloc_fatal_size(alloc_check_name(ALLOC_CHECK_SIZE_MISMATCH), p, n, heap_usable_size(p));
  heap_free(p);
}

void *heap_calloc(size_t n) {
  if (n + POLICY_BLOCK_HDR > SMALL_MAX) {
    if ((unlikely(!alloc_ready()) && !alloc_init()) || unlikely(alloc_dying()))
      return bootstrap_alloc(n, ALLOC_MIN_ALIGN);
    void *p = large_alloc(n, ALLOC_MIN_ALIGN, true); /* fresh mappings are already zero */
    if (unlikely(!p) && maintain_release_all()) p = large_alloc(n, ALLOC_MIN_ALIGN, true);
    maintain_tick();
    return p;
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
  span_t *pg = pol_page_of(p, POL_USABLE);
  unsigned c = pg->cls;
  if (c >= NCLASSES) return large_usable(large_header(p, POL_USABLE));
  pol_small_check(pg - pg->back, (const char *)p - POLICY_BLOCK_HDR, POL_USABLE);
  return size_classes[c].size - POLICY_BLOCK_HDR;
}

void *heap_realloc(void *p, size_t n) {
  span_t *pg = pol_page_of(p, POL_REALLOC);
  unsigned c = pg->cls;
  size_t old;
  if (c < NCLASSES) {
    pol_small_check(pg - pg->back, (char *)p - POLICY_BLOCK_HDR, POL_REALLOC);
    old = size_classes[c].size - POLICY_BLOCK_HDR;
    if (n <= old && n >= old / 2) return p; /* same class or one below: keep */
  } else {
    segment_t *h = large_header(p, POL_REALLOC);
    if (n > SMALL_MAX) {
      void *q = large_realloc(h, p, n); /* mremap: no bytes copied */
      if (q) return q;
    }
    old = large_usable(h);
  }
  /* A block that grows by less than a quarter moves a quarter up, not to
   * the next class (about 19% bigger): a string grown a little at a time is
   * copied fewer times (strbuild 0.2: L1 misses 4.50 M -> 2.61 M). */
  size_t want = n > old && n - old < old / 4 ? old + old / 4 : n;
  if (n + POLICY_BLOCK_HDR <= SMALL_MAX) /* a small n stays small: free_sized(p, n) must hold */
    want = MIN(want, SMALL_MAX - POLICY_BLOCK_HDR);
  void *q = heap_malloc(want);
  if (unlikely(!q) && want != n) q = heap_malloc(n);
  if (!q) return NULL;
  memcpy(q, p, MIN(old, n));
  heap_free(p);
  return q;
}

/* The alignment is implied by where the block sits; a policy with
 * POLICY_CHECK_SIZES checks the size against it. */
void heap_free_aligned_sized(void *p, size_t align, size_t n) {
  if (POLICY_CHECK_SIZES && !engine_size_fits(p, n, align))
    alloc_fatal_size(alloc_check_name(ALLOC_CHECK_SIZE_MISMATCH), p, n, heap_usable_size(p));
  heap_free(p);
}

/* A small block: class size minus p's offset within its block, from the
 * span.  A large block: from its header, which seg_of(p) finds only while p
 * is in the first SEG_SIZE of the mapping; beyond, seg_of(p) is the block's
 * own bytes, so the header read back must look consistent or the answer is
 * "unknown".  (alloc_unsafe trusts p: bytes the program wrote could pass.) */
size_t heap_object_size(const void *p) {
  if (!pol_object_ok(p)) return ALLOC_OBJECT_SIZE_UNKNOWN;
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
      seg->pages[LARGE_TAG_PAGE(off)].cls != CLS_LARGE || seg->large_usable > seg->map.size)
    return ALLOC_OBJECT_SIZE_UNKNOWN;
  uintptr_t start = (uintptr_t)seg + off;
  if (a < start || a >= start + seg->large_usable) return ALLOC_OBJECT_SIZE_UNKNOWN;
  return start + seg->large_usable - a;
}
