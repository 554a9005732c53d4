/* heap_policy.h - alloc_hybrid: alloc_unsafe's in-band engine behind an
 * interface that trusts nothing it has not checked.
 *
 * TRUST RULE.  Trust out-of-band state only: the ownership map of os.c (which
 * this heap's mappings are, by page and by 4 MiB grain, never read from the
 * pointed-to memory; read-only for the program after start-up, os_map_seal),
 * the process secret (in the sealed page, frozen.h) and state kept where no
 * block's overflow or underflow reaches (a segment's page 0 and the live
 * map in its pages 1 to 8, which hold no span).  Every value read from memory the program could have written - a
 * free-list link in a freed block, a large block's header - is checked
 * before it is used.  No check reads memory before it has proved the memory
 * is this heap's and mapped, so no detection can itself fault.
 *
 * SEGMENT (small blocks), as alloc_unsafe's (alloc_unsafe/layout.h), but
 * pages 1 to 8 hold no span (POLICY_HEAD_PAGES 9): they hold the live map.
 *
 *   seg | page 0: segment_t | gap | live map (440 KiB) | gap | page 9 ... page 63 |
 *         at 0                    at 104 KiB    544 KiB  32 KiB   spans
 *   live map: bit a of the bit string at o = seg + HYB_MAP_OFF - seg / 8 is
 *             address a's: set  <=>  a live block starts at a (only
 *             16-aligned a have bits that are ever set)
 *   block, free: | link = next ^ K0 ^ &link | stale bytes ...... |
 *   block, live: | user bytes ................................... |
 *
 * LARGE block: alloc_unsafe's header, whose policy_word is
 *   H(K1, header address, offset, usable size, mapping size, state)
 * with state LIVE or FREED (cached); the block at header + offset.
 *
 * Glossary: K0, K1 = words of the process secret; H = a keyed mix (rand_mix
 * over the fields xor-ed with the key); tag(x) = os_tag_of(x), the kind of
 * mapping (TAG_SEGMENT, TAG_LARGE) x lies in, 0 if this heap did not map it.
 *
 * Invariants (on top of alloc_unsafe's):
 *   p handed out and live  =>  tag(seg_of(p)) in {SEGMENT, LARGE}, p % 16 == 0
 *   small p live  =>  bit p of o == 1; free, never handed out or p % 16 => 0
 *                     (a bit may stay 1 for a block another thread freed, until
 *                     its owner collects it: see "not detected")
 *   decode(link at b) = NULL, or a 16-aligned address of b's segment
 *   large h: h->policy_word == H(..., LIVE) while its block is live
 *
 * WHAT IS DETECTED (each a fatal line from common/checks.h), and what not:
 *   free/realloc/usable size/free_sized of a pointer this heap did not map
 *     (wild, stack, static, the program's own mmap with or without a forged
 *     header in front, a block + 1 GiB): tag check, before any read.
 *   misaligned or interior pointers into small blocks, pointers into free
 *     pages of a segment: live-bit check (a misaligned address has no bit).
 *   interior pointers into large blocks: header check and p == header + off.
 *   double free of a small block (immediately, after other frees, the old
 *     pointer after realloc moved it, and a stale free after the slot could
 *     have been reused: POLICY_REUSE_DELAY keeps the block freed last from
 *     being the next handed out, so the simple free(p); q = malloc(); free(p)
 *     still finds p free): live bit.  Of a large block: its state in the
 *     keyed header (cached), or the ownership map (unmapped).
 *   free-list poisoning: a link overwritten in a freed block decodes, without
 *     the secret, to an address outside its segment or misaligned (all but
 *     a 2^-40 chance): detected when popped.  An overflow of a live block
 *     into a free neighbour's link is caught the same way.
 *   a forged or overwritten large header: the keyed checksum.
 *   free_sized / free_aligned_sized / sized delete with a size the block
 *     cannot have (larger than it, or for a small block less than half of
 *     it; a large block only needs its size above the small limit).
 *   bootstrap blocks: interior pointers and double frees (bootstrap.h state).
 * Not detected, and why:
 *   overflow into a live neighbour, underflow below a block: there is no
 *     per-block header or canary, so only the neighbour's data changes, and
 *     the heap's own state is untouched (alloc_checked has canaries).
 *   use after free (reads and writes inside a freed block past its link):
 *     nothing checks freed bytes (alloc_checked zeroes and checks them).
 *   kind mismatch (new[] released by free or delete): not tracked.
 *   a double free racing with the owner's own free of the same block from
 *     another thread, and arbitrary writes into a segment's pages 0 to 8 (no
 *     linear overflow reaches them; a write-what-where can).
 *
 * FAST AND SLOW.  free()'s fast path asks the coarse map (one load: is p's
 * 4 MiB grain one of our segments?) and the live bit (one btr); anything
 * unusual misses without a report, and the slow path classifies it through
 * the page map and names the check (layout.h, "The policy").
 *
 * COST (callgrind, malloc(32)+free pair, loop included): 73.5 instructions
 * against alloc_unsafe's 59.4.  Each compiled out alone: ownership 4 (the
 * grain's tag compared in memory; the segment from the grain number; free's
 * NULL test comes after it), live bit 2 (the origin's load and bts in malloc,
 * the load, btr and branch in free; without the map the grain test must ask
 * for alignment, and does), links 6 (the secret's load, the xors, the decode
 * test); the large header, sizes and reuse delay cost nothing on this path
 * (the HYB_OFF_* builds).  The live map costs memory: a byte per 8 bytes of
 * carved blocks.  The bitmap it replaced (a bit per 16 bytes, 1/128 of the
 * blocks, in page 0) cost the pair 6 more: the shifts and the mask that make
 * a bit number of an address, and free's alignment test.
 */
#ifndef HYBRID_HEAP_POLICY_H
#define HYBRID_HEAP_POLICY_H

#include "checks.h"
#include "random.h"

/* Each check can be compiled out alone, to measure what it costs
 * (make EXTRA_CFLAGS=-DHYB_OFF_<CHECK>=1 BUILD=...): OWNER (the ownership
 * map), LIVE (the live map), LINKS (encoded links), LARGE (the keyed large
 * header), SIZES (free_sized), REUSE (the reuse delay).  A build with one off
 * is not alloc_hybrid: its claims do not hold. */
#ifndef HYB_OFF_OWNER
#define HYB_OFF_OWNER 0
#endif
#ifndef HYB_OFF_LIVE
#define HYB_OFF_LIVE 0
#endif
#ifndef HYB_OFF_LINKS
#define HYB_OFF_LINKS 0
#endif
#ifndef HYB_OFF_LARGE
#define HYB_OFF_LARGE 0
#endif
#ifndef HYB_OFF_SIZES
#define HYB_OFF_SIZES 0
#endif
#ifndef HYB_OFF_REUSE
#define HYB_OFF_REUSE 0
#endif

#define POLICY_BLOCK_HDR 0 /* no per-block header: state is out of band */
#define POLICY_REUSE_DELAY (!HYB_OFF_REUSE) /* see above: stale frees after reuse */
#define POLICY_CHECK_SIZES (!HYB_OFF_SIZES)
#define POLICY_SEAL_MAP 1 /* the ownership checks rest on the map: read-only */
#define POLICY_PAGE_TRY_NULL (!HYB_OFF_OWNER) /* NULL's grain is never ours */

/* The live map: bit a of a bit string at the origin o = seg + HYB_MAP_OFF -
 * seg / 8 is the state of address a of segment seg, so bts/btr take a
 * block's address itself as their bit offset (no shift, no mask): address
 * a's bit is in the byte at seg + HYB_MAP_OFF + (a - seg) / 8.  Only the
 * bits of 16-aligned addresses are used (a bit per granule, in a byte per 8
 * bytes of blocks), in pages 1 to HEAD-1 of the segment (which hold no
 * span), 16 KiB or more from page 0's header and from the first span. */
#define POLICY_HEAD_PAGES 9
#define HYB_MAP_OFF ((size_t)32 << 10)
_Static_assert(HYB_MAP_OFF + POLICY_HEAD_PAGES * PAGE_SIZE / 8 >= PAGE_SIZE + 16384,
               "the live map of the first span's page starts past page 0 and a gap");
_Static_assert(HYB_MAP_OFF + SEG_SIZE / 8 + 16384 <= POLICY_HEAD_PAGES * PAGE_SIZE,
               "the live map ends 16 KiB or more below the first span");
_Static_assert(SEG_SIZE % 64 == 0 && HYB_MAP_OFF % 8 == 0, "the origin is 8-aligned");

/* Cold reports, in hybrid.c: each classifies what it was given and ends in
 * alloc_fatal with the check's line. */
__attribute__((noreturn)) COLD void hyb_bad_pointer(const void *p, pol_op_t op);
__attribute__((noreturn)) COLD void hyb_bad_small(const span_t *s, const void *blk, pol_op_t op);
__attribute__((noreturn)) COLD void hyb_bad_link(const void *slot, uintptr_t decoded);
__attribute__((noreturn)) COLD void hyb_bad_large(const segment_t *h, const void *p, pol_op_t op);
void hyb_check_early(const void *p, int op);
uint64_t hyb_large_word(const segment_t *h, uint64_t state);
extern HIDDEN span_t hyb_large_page; /* what pol_page_of answers for a large block */

/* ---- free-list links ---------------------------------------------------- */
static ALWAYS_INLINE uintptr_t hyb_link_key(const void *slot) {
  return HYB_OFF_LINKS ? 0 : alloc_secret(0) ^ (uintptr_t)slot;
}
static ALWAYS_INLINE void *pol_link_encode(const void *slot, void *next) {
  return (void *)((uintptr_t)next ^ hyb_link_key(slot));
}
static ALWAYS_INLINE void *pol_link_peek(const void *slot, void *stored) {
  return (void *)((uintptr_t)stored ^ hyb_link_key(slot));
}
/* A valid link is NULL or a 16-aligned address in the slot's own segment:
 * then x = link ^ slot (the stored word less the secret, as the slot is
 * 16-aligned too) has no bit at or above SEG_SHIFT and none below 16 set,
 * which one test of x checks. */
#define HYB_LINK_BAD_BITS (~(uintptr_t)(SEG_SIZE - 1) | (ALLOC_MIN_ALIGN - 1))
static ALWAYS_INLINE void *pol_link_decode(const span_t *s, const void *slot, void *stored) {
  if (HYB_OFF_LINKS) return stored;
  uintptr_t x = (uintptr_t)stored ^ alloc_secret(0);
  if (unlikely(x & HYB_LINK_BAD_BITS) && x != (uintptr_t)slot) hyb_bad_link(slot, x ^ (uintptr_t)slot);
  return (void *)(x ^ (uintptr_t)slot);
}

/* ---- the live map ---------------------------------------------------- */
static ALWAYS_INLINE uintptr_t hyb_origin(uintptr_t seg) { return seg + HYB_MAP_OFF - (seg >> 3); }
/* blk's bit as a word and a mask, for the C11 atomics and the slow paths. */
static ALWAYS_INLINE uint64_t *hyb_word(const void *blk) {
  uintptr_t seg = (uintptr_t)blk & ~(SEG_SIZE - 1);
  return (uint64_t *)(hyb_origin(seg) + ((uintptr_t)blk >> 6 << 3));
}
static ALWAYS_INLINE uint64_t hyb_bit(const void *blk) { return (uint64_t)1 << ((uintptr_t)blk & 63); }
/* Set blk's bit (malloc) through the span's origin (s->pol, set in every
 * page entry by pol_segment_new); clear it and answer whether it was set (free).  Plain
 * (unlocked) read-modify-writes of the word, even when the bit was already
 * clear: only the span's owner or the holder of its heap's lock makes them,
 * and one may undo another thread's atomic clear of a neighbour's bit,
 * which the owner clears again when it collects that block (see "block
 * state").  Under TSan, the C11 relaxed load and store, which TSan sees. */
static ALWAYS_INLINE void hyb_bts(const span_t *s, const void *blk) {
#if defined(__x86_64__) && !ALLOC_TSAN
  /* blk in rax, where malloc returns it: no copy after the bts */
  __asm__ volatile("btsq %0, (%1)" : : "a"(blk), "r"(s->pol) : "cc", "memory");
#else
  (void)s;
  uint64_t *w = hyb_word(blk);
  __atomic_store_n(w, __atomic_load_n(w, __ATOMIC_RELAXED) | hyb_bit(blk), __ATOMIC_RELAXED);
#endif
}
static ALWAYS_INLINE bool hyb_btr(const span_t *s, const void *blk) {
#if defined(__x86_64__) && !ALLOC_TSAN
  bool was;
  __asm__ volatile("btrq %1, (%2)" : "=@ccc"(was) : "r"(blk), "r"(s->pol) : "memory");
  return was;
#else
  (void)s;
  uint64_t *w = hyb_word(blk), v = __atomic_load_n(w, __ATOMIC_RELAXED), bit = hyb_bit(blk);
  if (!(v & bit)) return false;
  __atomic_store_n(w, v & ~bit, __ATOMIC_RELAXED);
  return true;
#endif
}

/* ---- pointers entering the heap ------------------------------------------- */
/* The fast path goes on only for a pointer whose 4 MiB grain the coarse map
 * (os.h) says is one of our segments: one load, no walk; anything else
 * misses, and pol_page_of classifies it through the page map.  A pointer
 * that is not 16-aligned needs no test of its own here: its bit in the live
 * map is never set (only 16-aligned addresses' bits are), so free's btr
 * misses for it (with the live map compiled out, the grain test asks). */
_Static_assert(OS_GRAIN == SEG_SIZE, "a segment is one grain of the coarse map");
_Static_assert(ALLOC_MIN_ALIGN == 16, "the live map has bits only at 16-aligned addresses");
static ALWAYS_INLINE span_t *pol_page_try(const void *p) {
  if (HYB_OFF_OWNER) return page_of(p);
  if (HYB_OFF_LIVE)
    return likely(os_grain_is_aligned(p, 4, TAG_SEGMENT)) ? page_in((segment_t *)((uintptr_t)p & ~(SEG_SIZE - 1)), p) : NULL;
  /* The segment from the grain number the test took: one shift, not a copy
   * and a mask (which gcc makes of g << shift unless g is opaque to it). */
  uintptr_t g = (uintptr_t)p >> OS_GRAIN_SHIFT;
  if (unlikely(!os_grain_is(g, TAG_SEGMENT))) return NULL;
  __asm__("" : "+r"(g));
  return page_in((segment_t *)(g << OS_GRAIN_SHIFT), p);
}
static ALWAYS_INLINE span_t *pol_page_of(const void *p, pol_op_t op) {
  if (HYB_OFF_OWNER) return page_of(p);
  uint8_t t = os_tag_of(seg_of(p));
  if (likely(t == TAG_SEGMENT) && likely(((uintptr_t)p & (ALLOC_MIN_ALIGN - 1)) == 0))
    return page_of(p);
  if (t == TAG_LARGE) return &hyb_large_page; /* the header is checked next */
  hyb_bad_pointer(p, op); /* bootstrap blocks never come here: the override filters them */
}
static ALWAYS_INLINE void pol_check_early(const void *p, int op) { hyb_check_early(p, op); }
/* Object size takes interior pointers: only ownership is asked. */
static ALWAYS_INLINE bool pol_object_ok(const void *p) {
  uint8_t t = os_tag_of(seg_of(p));
  return t == TAG_SEGMENT || t == TAG_LARGE;
}
static ALWAYS_INLINE void pol_small_check(const span_t *s, const void *blk, pol_op_t op) {
  if (HYB_OFF_LIVE) return;
  if (unlikely(!(__atomic_load_n(hyb_word(blk), __ATOMIC_RELAXED) & hyb_bit(blk))))
    hyb_bad_small(s, blk, op);
}
static ALWAYS_INLINE void pol_large_check(const segment_t *h, const void *p, pol_op_t op) {
  if (HYB_OFF_LARGE) return;
  if (unlikely(os_tag_of(h) != TAG_LARGE) || unlikely(h->policy_word != hyb_large_word(h, 1)) ||
      unlikely((const char *)h + h->large_off != (const char *)p))
    hyb_bad_large(h, p, op);
}

/* ---- block state ------------------------------------------------------------
 * The owner (or the holder of its heap's lock) writes a span's live-map words
 * plainly; another thread clears its bit atomically.  A plain write may undo
 * such a clear (the bit reads 1 again): the owner clears it once more when it
 * collects the block, and until then a second free of it is not caught. */
static ALWAYS_INLINE void pol_small_alloc(span_t *s, void *blk) {
  if (!HYB_OFF_LIVE) hyb_bts(s, blk);
}
static ALWAYS_INLINE bool pol_small_free_try(span_t *s, void *blk) {
  return HYB_OFF_LIVE || likely(hyb_btr(s, blk)); /* false: pol_small_free reports it */
}
/* The slow paths find the word from blk's own address (hyb_word), never
 * through s->pol: they take pointers the fast path turned away. */
static ALWAYS_INLINE void pol_small_free(span_t *s, void *blk, pol_op_t op) {
  if (HYB_OFF_LIVE) return;
  uint64_t *w = hyb_word(blk), v = __atomic_load_n(w, __ATOMIC_RELAXED), bit = hyb_bit(blk);
  if (!(v & bit)) hyb_bad_small(s, blk, op);
  __atomic_store_n(w, v & ~bit, __ATOMIC_RELAXED);
}
/* Another thread's free: one locked btr, whose carry is the old bit.  When the
 * bit was clear already, nothing changed: false, and the fast path misses
 * (pol_small_free_remote, on the slow path, reports). */
static ALWAYS_INLINE bool pol_small_free_remote_try(span_t *s, void *blk) {
  if (HYB_OFF_LIVE) return true;
#if defined(__x86_64__) && !ALLOC_TSAN
  bool was;
  __asm__ volatile("lock btrq %1, (%2)" : "=@ccc"(was) : "r"(blk), "r"(s->pol) : "memory");
  return likely(was);
#else
  uint64_t bit = hyb_bit(blk);
  return likely(__atomic_fetch_and(hyb_word(blk), ~bit, __ATOMIC_RELAXED) & bit);
#endif
}
static ALWAYS_INLINE void pol_small_free_remote(span_t *s, void *blk) {
  if (HYB_OFF_LIVE) return;
  uint64_t bit = hyb_bit(blk);
  if (!(__atomic_fetch_and(hyb_word(blk), ~bit, __ATOMIC_RELAXED) & bit)) hyb_bad_small(s, blk, POL_FREE);
}
/* A block another thread freed joins its owner: its bit is cleared again (a
 * plain write of the owner's may have set it back). */
static ALWAYS_INLINE void pol_collect(span_t *s, void *blk) {
  if (HYB_OFF_LIVE) return;
  uint64_t *w = hyb_word(blk);
  __atomic_store_n(w, __atomic_load_n(w, __ATOMIC_RELAXED) & ~hyb_bit(blk), __ATOMIC_RELAXED);
}
static ALWAYS_INLINE void pol_large_alloc(segment_t *h) {
  if (!HYB_OFF_LARGE) h->policy_word = hyb_large_word(h, 1);
}
static ALWAYS_INLINE void pol_large_free(segment_t *h, const void *p, pol_op_t op) {
  if (!HYB_OFF_LARGE) h->policy_word = hyb_large_word(h, 0); /* pol_large_check passed */
}

/* ---- metadata life cycle ---------------------------------------------------- */
/* Every page entry of a segment knows the live map's origin from the
 * segment's birth, before any page is a span's: so a free racing with
 * span_new (a wild or stale pointer into a page becoming a span) finds the
 * right word through s->pol, whatever page entry it reads. */
static ALWAYS_INLINE void pol_segment_new(segment_t *seg) {
  seg->policy_word = 0;
  for (unsigned i = 0; i < SEG_PAGES; i++) seg->pages[i].pol = hyb_origin((uintptr_t)seg);
}
static ALWAYS_INLINE void pol_segment_free(segment_t *seg) {}
void hyb_span_release(span_t *s);
static ALWAYS_INLINE void pol_span_new(span_t *s) {} /* its bits are clear: hyb_span_release */
static ALWAYS_INLINE void pol_span_release(span_t *s) { hyb_span_release(s); }
/* The live map of pages given back goes too (all its bits are clear: their
 * spans were released): a page's map is PAGE_SIZE / 8 bytes, whole OS pages. */
_Static_assert(HYB_MAP_OFF % OS_PAGE == 0 && PAGE_SIZE / 8 % OS_PAGE == 0, "a page's live map is whole OS pages");
static ALWAYS_INLINE void pol_pages_decommit(segment_t *seg, unsigned first, unsigned n) {
  /* On a kernel of larger pages the range would round up over a neighbour's
   * map: it stays resident there. */
  if (os_page_size() == OS_PAGE) os_decommit((char *)seg + HYB_MAP_OFF + (size_t)first * PAGE_SIZE / 8, (size_t)n * PAGE_SIZE / 8);
}

#endif
