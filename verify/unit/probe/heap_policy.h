/* heap_policy.h - a test policy for the in-band engine (verify/unit).
 *
 * Builds alloc_unsafe's engine the way a validating heap would, to show the
 * policy interface (alloc_unsafe/layout.h) is complete: a 16-byte block
 * header holding a state word, free-list links stored XOR-ed with a key and
 * checked on every load, a state check on every pointer that enters, and a
 * count of every hook call so the test can see each one is reached.  Not a
 * heap anyone should use: the key is a constant.
 *
 *   block, in use:  | link slot (unused) | state = LIVE ^ addr | user ... |
 *   block, free:    | next ^ KEY         | state = FREE ^ addr | stale ... |
 */
#ifndef PROBE_HEAP_POLICY_H
#define PROBE_HEAP_POLICY_H

#include "fatal.h"
#include "size_class.h"

#define POLICY_BLOCK_HDR 16
#define POLICY_REUSE_DELAY 1
#define POLICY_CHECK_SIZES 1
#define POLICY_SEAL_MAP 0
#define POLICY_PAGE_TRY_NULL 0
#define POLICY_HEAD_PAGES 1 /* the header alone */
#define PROBE_KEY ((uintptr_t)0x5a5a5a5a5a5a5a50ull)
#define PROBE_LIVE ((uintptr_t)0x1111111111111111ull)
#define PROBE_FREE ((uintptr_t)0x2222222222222222ull)

enum { PH_ENCODE, PH_DECODE, PH_PAGE, PH_SCHECK, PH_LCHECK, PH_SALLOC, PH_SFREE, PH_LALLOC,
       PH_LFREE, PH_COLLECT, PH_SEGNEW, PH_SEGFREE, PH_SPANNEW, PH_SPANREL, PH_COUNT };
EXPORT extern unsigned long probe_calls[PH_COUNT];
#define PROBE_COUNT(k) __atomic_add_fetch(&probe_calls[k], 1, __ATOMIC_RELAXED)

static inline uintptr_t *probe_state(const void *blk) { return (uintptr_t *)blk + 1; }

static ALWAYS_INLINE void *pol_link_encode(const void *slot, void *next) {
  PROBE_COUNT(PH_ENCODE);
  return (void *)((uintptr_t)next ^ PROBE_KEY);
}
static ALWAYS_INLINE void *pol_link_decode(const span_t *s, const void *slot, void *stored) {
  PROBE_COUNT(PH_DECODE);
  char *n = (char *)((uintptr_t)stored ^ PROBE_KEY), *base = span_base((span_t *)s);
  size_t stride = size_classes[s->cls].size;
  if (n && (n < base || (size_t)(n - base) >= (size_t)size_classes[s->cls].nblocks * stride ||
            (size_t)(n - base) % stride))
    alloc_fatal("probe: free-list link outside its span", slot);
  return n;
}
static ALWAYS_INLINE void pol_check_early(const void *p, int op) {}
static ALWAYS_INLINE bool pol_object_ok(const void *p) { return true; }
static ALWAYS_INLINE void *pol_link_peek(const void *slot, void *stored) {
  return (void *)((uintptr_t)stored ^ PROBE_KEY);
}
static ALWAYS_INLINE span_t *pol_page_of(const void *p, pol_op_t op) {
  PROBE_COUNT(PH_PAGE);
  return page_of(p);
}
static ALWAYS_INLINE span_t *pol_page_try(const void *p) { return pol_page_of(p, POL_FREE); }
static ALWAYS_INLINE void pol_small_check(const span_t *s, const void *blk, pol_op_t op) {
  PROBE_COUNT(PH_SCHECK);
  if (*probe_state(blk) != (PROBE_LIVE ^ (uintptr_t)blk)) alloc_fatal("probe: not a live block", blk);
}
static ALWAYS_INLINE void pol_large_check(const segment_t *h, const void *p, pol_op_t op) {
  PROBE_COUNT(PH_LCHECK);
  if ((const char *)h + h->large_off != (const char *)p) alloc_fatal("probe: not a large block", p);
}
static ALWAYS_INLINE void pol_small_alloc(span_t *s, void *blk) {
  PROBE_COUNT(PH_SALLOC);
  *probe_state(blk) = PROBE_LIVE ^ (uintptr_t)blk;
}
static ALWAYS_INLINE void pol_small_free(span_t *s, void *blk, pol_op_t op) {
  PROBE_COUNT(PH_SFREE);
  if (*probe_state(blk) != (PROBE_LIVE ^ (uintptr_t)blk)) alloc_fatal("probe: double free", blk);
  *probe_state(blk) = PROBE_FREE ^ (uintptr_t)blk;
}
static ALWAYS_INLINE bool pol_small_free_try(span_t *s, void *blk) {
  pol_small_free(s, blk, POL_FREE);
  return true;
}
static ALWAYS_INLINE void pol_small_free_remote(span_t *s, void *blk) {
  pol_small_free(s, blk, POL_FREE); /* a test: no thread races on one block here */
}
static ALWAYS_INLINE bool pol_small_free_remote_try(span_t *s, void *blk) {
  pol_small_free_remote(s, blk);
  return true;
}
static ALWAYS_INLINE void pol_large_alloc(segment_t *h) { PROBE_COUNT(PH_LALLOC); }
static ALWAYS_INLINE void pol_large_free(segment_t *h, const void *p, pol_op_t op) {
  PROBE_COUNT(PH_LFREE);
}
static ALWAYS_INLINE void pol_collect(span_t *s, void *blk) { PROBE_COUNT(PH_COLLECT); }
static ALWAYS_INLINE void pol_segment_new(segment_t *seg) { PROBE_COUNT(PH_SEGNEW); }
static ALWAYS_INLINE void pol_segment_free(segment_t *seg) { PROBE_COUNT(PH_SEGFREE); }
static ALWAYS_INLINE void pol_span_new(span_t *s) { PROBE_COUNT(PH_SPANNEW); }
static ALWAYS_INLINE void pol_span_release(span_t *s) { PROBE_COUNT(PH_SPANREL); }
static ALWAYS_INLINE void pol_pages_decommit(segment_t *seg, unsigned first, unsigned n) {}

#endif
