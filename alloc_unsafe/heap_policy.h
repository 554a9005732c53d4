/* heap_policy.h - alloc_unsafe's policy for the in-band engine: trust.
 *
 * The engine (layout.h, theap.c, segment.c, large.c, alloc.c) calls these
 * hooks wherever it trusts or writes in-band data; the contract of each hook
 * is in layout.h ("The policy").  A heap that builds on this engine provides
 * its own heap_policy.h in its folder (found first on the include path).
 *
 * alloc_unsafe's are the identity and no-ops: every pointer it is given is
 * trusted to be a live block of this heap, every link read back from freed
 * memory is trusted to be what the engine wrote.  They compile to nothing,
 * so alloc_unsafe is the engine with no checks.
 */
#ifndef UNSAFE_HEAP_POLICY_H
#define UNSAFE_HEAP_POLICY_H

#define POLICY_BLOCK_HDR 0   /* no per-block header */
#define POLICY_REUSE_DELAY 0 /* the block freed last is the next handed out */
#define POLICY_CHECK_SIZES 0 /* a claimed size is not looked at */
#define POLICY_SEAL_MAP 0    /* the ownership map stays writable (nothing reads it) */
#define POLICY_PAGE_TRY_NULL 0 /* page_of(NULL) would read an unmapped page */
#define POLICY_HEAD_PAGES 1    /* page 0 (the header) alone holds no span */

/* Free-list links: stored as they are. */
static ALWAYS_INLINE void *pol_link_encode(const void *slot, void *next) { return next; }
static ALWAYS_INLINE void *pol_link_decode(const span_t *s, const void *slot, void *stored) {
  return stored;
}
static ALWAYS_INLINE void *pol_link_peek(const void *slot, void *stored) { return stored; }

/* Pointers entering the heap: trusted, and those the override keeps from
 * the heap (heap.h's heap_check_early) not looked at. */
static ALWAYS_INLINE span_t *pol_page_try(const void *p) { return page_of(p); }
static ALWAYS_INLINE void pol_check_early(const void *p, int op) {}
static ALWAYS_INLINE bool pol_object_ok(const void *p) { return true; }
static ALWAYS_INLINE span_t *pol_page_of(const void *p, pol_op_t op) { return page_of(p); }
static ALWAYS_INLINE void pol_small_check(const span_t *s, const void *blk, pol_op_t op) {}
static ALWAYS_INLINE void pol_large_check(const segment_t *h, const void *p, pol_op_t op) {}

/* Block state: not kept. */
static ALWAYS_INLINE void pol_small_alloc(span_t *s, void *blk) {}
static ALWAYS_INLINE void pol_small_free(span_t *s, void *blk, pol_op_t op) {}
static ALWAYS_INLINE bool pol_small_free_try(span_t *s, void *blk) { return true; }
static ALWAYS_INLINE void pol_small_free_remote(span_t *s, void *blk) {}
static ALWAYS_INLINE bool pol_small_free_remote_try(span_t *s, void *blk) { return true; }
static ALWAYS_INLINE void pol_large_alloc(segment_t *h) {}
static ALWAYS_INLINE void pol_large_free(segment_t *h, const void *p, pol_op_t op) {}
static ALWAYS_INLINE void pol_collect(span_t *s, void *blk) {}

/* Metadata life cycle: nothing to seal or key. */
static ALWAYS_INLINE void pol_segment_new(segment_t *seg) {}
static ALWAYS_INLINE void pol_segment_free(segment_t *seg) {}
static ALWAYS_INLINE void pol_span_new(span_t *s) {}
static ALWAYS_INLINE void pol_span_release(span_t *s) {}
static ALWAYS_INLINE void pol_pages_decommit(segment_t *seg, unsigned first, unsigned n) {}

#endif
