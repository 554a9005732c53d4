/* hybrid.c - alloc_hybrid's out-of-line checks: what a failed check was,
 * the large header's keyed word, and the live map's upkeep of slow paths.
 *
 * Every report decides what it may read before reading it: a pointer is
 * classified from the ownership map first, and only memory the map says is
 * this heap's is looked at.
 */
#include <string.h>

#include "bootstrap.h"
#include "heap.h"
#include "internal.h"

span_t hyb_large_page = {.cls = CLS_LARGE};

/* The check an operation fails on a pointer that is not a live block:
 * free has finer names (interior, double), the others one each. */
static const char *op_invalid(pol_op_t op) {
  switch (op) {
  case POL_REALLOC: return alloc_check_name(ALLOC_CHECK_INVALID_REALLOC);
  case POL_USABLE: return alloc_check_name(ALLOC_CHECK_INVALID_USABLE_SIZE);
  default: return alloc_check_name(ALLOC_CHECK_INVALID_FREE);
  }
}
static bool op_is_free(pol_op_t op) { return op == POL_FREE || op == POL_FREE_SIZED; }
/* ... on a pointer into this heap's memory that is not a live block. */
static const char *op_not_live(pol_op_t op) {
  switch (op) {
  case POL_REALLOC: return alloc_check_name(ALLOC_CHECK_REALLOC_NOT_LIVE);
  case POL_USABLE: return alloc_check_name(ALLOC_CHECK_USABLE_SIZE_NOT_LIVE);
  default: return alloc_check_name(ALLOC_CHECK_INTERIOR_FREE);
  }
}

void hyb_bad_pointer(const void *p, pol_op_t op) {
  uint8_t t = os_tag_of(seg_of(p));
  if (t == TAG_SEGMENT) alloc_fatal(op_not_live(op), p); /* misaligned */
  alloc_fatal(op_invalid(op), p);
}

/* blk is in a segment of ours and its live byte is not 1: a block that is free
 * now (double free), or no block start at all (interior). */
void hyb_bad_small(const span_t *s, const void *blk, pol_op_t op) {
  const size_class_t *sc = &size_classes[s->cls];
  size_t off = (size_t)((const char *)blk - span_base((span_t *)s));
  bool start = off % sc->size == 0 && off < (size_t)s->carved * sc->size;
  if (start && op_is_free(op)) ALLOC_FATAL(DOUBLE_FREE_SMALL, blk);
  alloc_fatal(op_not_live(op), blk);
}

void hyb_bad_link(const void *slot, uintptr_t decoded) {
  alloc_fatal2(alloc_check_name(ALLOC_CHECK_LINK_CORRUPT), slot, decoded);
}

uint64_t hyb_large_word(const segment_t *h, uint64_t state) {
  uint64_t k = alloc_secret(1);
  uint64_t z = rand_mix(k ^ (uintptr_t)h);
  z = rand_mix(z ^ h->large_off ^ ((uint64_t)h->large_usable << 1));
  z = rand_mix(z ^ h->map.size ^ (state << 63) ^ ((uintptr_t)h->map.base >> 12));
  return z;
}

/* h = seg_of(p), and the large check failed.  Whatever h is, os.c mapped the
 * page it is on, so its first fields can be read. */
void hyb_bad_large(const segment_t *h, const void *p, pol_op_t op) {
  if (os_tag_of(h) != TAG_LARGE) alloc_fatal(op_not_live(op), p); /* a segment's free page */
  bool at_block = (const char *)h + h->large_off == (const char *)p;
  if (h->policy_word == hyb_large_word(h, 0) && at_block && op_is_free(op))
    ALLOC_FATAL(DOUBLE_FREE_LARGE, p);
  if (h->policy_word != hyb_large_word(h, 1) && h->policy_word != hyb_large_word(h, 0))
    ALLOC_FATAL(HEADER_CORRUPT, p);
  alloc_fatal(op_not_live(op), p);
}

/* The pointers the override keeps from the heap: bootstrap blocks, whose
 * state the arena keeps out of band, and realloc to an impossible size,
 * whose pointer must still be a live block. */
void hyb_check_early(const void *p, int op) {
  pol_op_t pop = op == HEAP_OP_REALLOC       ? POL_REALLOC
                 : op == HEAP_OP_USABLE_SIZE ? POL_USABLE
                 : op == HEAP_OP_OBJECT_SIZE ? POL_OBJSIZE
                                             : POL_FREE;
  if (!bootstrap_owns(p)) { /* fatal unless p is a live block */
    span_t *pg = pol_page_of(p, pop);
    if (pg->cls < NCLASSES) pol_small_check(pg - pg->back, p, pop);
    else pol_large_check(seg_of(p), p, pop);
    return;
  }
  switch (bootstrap_state(p)) {
  case BOOT_LIVE: return;
  case BOOT_FREED:
    if (op_is_free(pop)) ALLOC_FATAL(DOUBLE_FREE_BOOTSTRAP, p);
    alloc_fatal(op_invalid(pop), p);
  default:
    if (pop == POL_OBJSIZE) return; /* any pointer into a block may ask */
    if (op_is_free(pop)) ALLOC_FATAL(INTERIOR_FREE_BOOTSTRAP, p);
    alloc_fatal(op_invalid(pop), p);
  }
}

/* A new span's bytes are not 1: a fresh segment's map is zero, and when a
 * span is given back every block it carved has been freed (each cleared its
 * byte, an owner's free or another thread's store, or set it to
 * HYB_COLLECTED), so no page of the map is written for the span at either
 * end.  Clearing the carved blocks' bits here anyway cost churn 0.1 10% more
 * instructions and twice the last-level misses (cachegrind, with a bitmap);
 * a debug build checks that none is 1. */
void hyb_span_release(span_t *s) {
#if defined(ALLOC_DEBUG) && ALLOC_DEBUG
  size_t bytes = (size_t)s->carved * size_classes[s->cls].size;
  const uint8_t *b = hyb_byte(span_base(s));
  for (size_t i = 0; i < bytes / 16; i++)
    if (b[i] == 1) alloc_fatal("validate: live byte of a span given back", &b[i]);
#else
  (void)s;
#endif
}
