/* heap_policy.h - alloc_hybrid: alloc_unsafe's in-band engine behind an
 * interface that trusts nothing it has not checked.
 *
 * TRUST RULE.  Trust out-of-band state only: the ownership map of os.c (which
 * this heap's mappings are, by page and by 4 MiB grain, never read from the
 * pointed-to memory; read-only for the program after start-up, os_map_seal),
 * the process secret (in the sealed page, frozen.h) and state kept where no
 * block's overflow or underflow reaches (a segment's page 0 and the live map
 * in its pages 1 to 5, which hold no span).  Every value read from memory
 * the program could have written - a free-list link in a freed block, a
 * large block's header - is checked before it is used.  No check reads
 * memory before it has proved the memory is this heap's and mapped, so no
 * detection can itself fault.
 *
 * SEGMENT (small blocks), as alloc_unsafe's (alloc_unsafe/layout.h), but
 * pages 1 to 5 hold no span (POLICY_HEAD_PAGES 6): they hold the live map.
 *
 *   seg | page 0: segment_t | live map (256 KiB) | gap | page 6 ... page 63 |
 *         at 0                at 64 KiB    320 KiB  64 KiB  spans
 *   live map: byte a / 16 of the byte string at o = seg + HYB_MAP_OFF -
 *             seg / 16 is the granule at a's: 1  <=>  a live block starts
 *             at a (the bytes of pages 0 to 5 are never used: the used part
 *             starts 24 KiB into page 1)
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
 *   small p live  <=>  byte p / 16 of o == 1 (else 0, or HYB_COLLECTED for
 *                      a block another thread freed that its owner took
 *                      back; 255 only on the way to a fatal report)
 *   decode(link at b) = NULL, or a 16-aligned address of b's segment
 *   large h: h->policy_word == H(..., LIVE) while its block is live
 *
 * WHAT IS DETECTED (each a fatal line from common/checks.h), and what not:
 *   free/realloc/usable size/free_sized of a pointer this heap did not map
 *     (wild, stack, static, the program's own mmap with or without a forged
 *     header in front, a block + 1 GiB): tag check, before any read.
 *   misaligned pointers: the same test (the fast path's grain number comes
 *     from the address rotated, so low bits fail its range test; the slow
 *     path asks p % 16).
 *   interior pointers into small blocks, pointers into free pages of a
 *     segment: live-byte check.
 *   interior pointers into large blocks: header check and p == header + off.
 *   double free of a small block (immediately, after other frees, the old
 *     pointer after realloc moved it, and a stale free after the slot could
 *     have been reused: POLICY_REUSE_DELAY keeps the block freed last from
 *     being the next handed out, so the simple free(p); q = malloc(); free(p)
 *     still finds p free): live byte.  Of a large block: its state in the
 *     keyed header (cached), or the ownership map (unmapped); the reuse
 *     delay puts the next block of the mapping freed last a step further in
 *     (alloc_unsafe/large.c), so the stale free of p is an interior pointer.
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
 *   two frees of one small block racing each other from two threads (both
 *     may read its byte as 1 before either clears it: the byte is tested and
 *     cleared without a locked instruction) when one is the owner's; when
 *     both are other threads', the owner finds the block twice when it
 *     collects them and reports the double free then (pol_collect).  And
 *     arbitrary writes into a
 *     segment's pages 0 to 5 (no linear overflow reaches them; a
 *     write-what-where can).
 *
 * FAST AND SLOW.  free()'s fast path asks the coarse map (one load: is p's
 * 4 MiB grain one of our segments, and p 16-aligned?) and the live byte (one
 * decrement, which must leave 0); anything unusual misses without a report,
 * and the slow path classifies it through the page map and names the check
 * (layout.h, "The policy").
 *
 * COST (callgrind, malloc(32)+free pair, loop included): 77.5 instructions
 * against alloc_unsafe's 59.4.  Each compiled out alone (the HYB_OFF_*
 * builds): the live map 7 (the rotate, the origin's load and the store in
 * malloc; in free the rotate, and a decrement where a plain build has
 * none), links 6 (the secret's load, the xors, the decode test), ownership
 * 2 (the grain's tag compared in memory, the range test; the page entry
 * from the grain number, and free's NULL test after it); the large header,
 * sizes and the reuse delay cost nothing on this path.  Time, not
 * instructions, chose the map's form: a bit per byte of address let
 * bts/btr take the pointer itself as the bit offset (73.5 instructions),
 * but those two are microcoded when their operand is in memory, and the
 * pair took 9.5-10.7 ns against 7.3-8.0 for alloc_unsafe (bench micro), and
 * its map was twice this one's size.  The map costs a byte per 16 bytes of
 * carved blocks.
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

/* The live map: a byte per 16-byte granule of the segment, 1 while a block
 * starts there and is live, else 0.  Granule a's byte is at o + a / 16, o =
 * seg + HYB_MAP_OFF - seg / 16 (the origin, in every page entry), so the fast
 * paths index it with a rotated address (hyb_gran): no mask, no segment base.
 * Bytes, not bits: each is written by a plain store or one simple
 * read-modify-write, no bit-string instruction (bts/btr with a register
 * offset into memory are microcoded: the pair took 9.5 ns with them against
 * alloc_unsafe's 7.3), and no write of one block's state can undo another's.
 * The map lies in pages 1 to HEAD-1 of the segment (which hold no span),
 * 16 KiB or more from page 0's header and from the first span. */
#define POLICY_HEAD_PAGES 6
#define HYB_MAP_OFF ((size_t)64 << 10)
_Static_assert(HYB_MAP_OFF + POLICY_HEAD_PAGES * PAGE_SIZE / 16 >= PAGE_SIZE + 16384,
               "the live map of the first span's page starts past page 0 and a gap");
_Static_assert(HYB_MAP_OFF + SEG_SIZE / 16 + 16384 <= POLICY_HEAD_PAGES * PAGE_SIZE,
               "the live map ends 16 KiB or more below the first span");

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
static ALWAYS_INLINE uintptr_t hyb_origin(uintptr_t seg) { return seg + HYB_MAP_OFF - (seg >> 4); }
/* a rotated right by 4: a / 16 for a 16-aligned a; for any other a, a value
 * of 2^60 or more, which the grain test (pol_page_try) turns away. */
static ALWAYS_INLINE uintptr_t hyb_gran(const void *a) {
  uintptr_t x = (uintptr_t)a;
  return x >> 4 | x << 60;
}
/* blk's byte, from blk's own address (the slow paths: they take pointers the
 * fast path turned away) or through the span's origin (s->pol, set in every
 * page entry by pol_segment_new). */
static ALWAYS_INLINE uint8_t *hyb_byte(const void *blk) {
  uintptr_t seg = (uintptr_t)blk & ~(SEG_SIZE - 1);
  return (uint8_t *)(hyb_origin(seg) + ((uintptr_t)blk >> 4));
}
static ALWAYS_INLINE uint8_t *hyb_byte_in(const span_t *s, const void *blk) {
  return (uint8_t *)(s->pol + hyb_gran(blk));
}
/* A live byte is 1, a free one 0; the fast free path's decrement leaves 255
 * for a block that was not live, which only a fatal report follows. */
static ALWAYS_INLINE bool hyb_is_live(const uint8_t *b) { return __atomic_load_n(b, __ATOMIC_RELAXED) == 1; }
/* Mark the block of byte b free if it is live (a plain load and store):
 * false, and nothing written, when it is not. */
static ALWAYS_INLINE bool hyb_clear_live(uint8_t *b) {
  if (!hyb_is_live(b)) return false;
  __atomic_store_n(b, 0, __ATOMIC_RELAXED);
  return true;
}

/* ---- pointers entering the heap ------------------------------------------- */
/* The fast path goes on only for a 16-aligned pointer whose 4 MiB grain
 * the coarse map (os.h) says is one of our segments: one load, no walk;
 * anything else misses, and pol_page_of classifies it through the page map.
 * The grain number comes from the rotated address the live map is indexed
 * with, so the range test that keeps the lookup inside the coarse map also
 * turns away a misaligned pointer (its low bits rotate to the top). */
_Static_assert(OS_GRAIN == SEG_SIZE, "a segment is one grain of the coarse map");
_Static_assert(ALLOC_MIN_ALIGN == 16, "the live map has a byte per 16-byte granule");
static ALWAYS_INLINE span_t *pol_page_try(const void *p) {
  if (HYB_OFF_OWNER) return ((uintptr_t)p & (ALLOC_MIN_ALIGN - 1)) ? NULL : page_of(p);
  uintptr_t g = os_grain_rot(p, 4); /* hyb_gran(p)'s grain: one rotate for both */
  if (unlikely(!os_grain_is(g, TAG_SEGMENT))) return NULL;
  /* The segment from the grain number the test took: one shift, not a copy
   * and a mask (which gcc makes of g << shift unless g is opaque to it). */
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
  if (unlikely(!hyb_is_live(hyb_byte(blk)))) hyb_bad_small(s, blk, op);
}
static ALWAYS_INLINE void pol_large_check(const segment_t *h, const void *p, pol_op_t op) {
  if (HYB_OFF_LARGE) return;
  if (unlikely(os_tag_of(h) != TAG_LARGE) || unlikely(h->policy_word != hyb_large_word(h, 1)) ||
      unlikely((const char *)h + h->large_off != (const char *)p))
    hyb_bad_large(h, p, op);
}

/* ---- block state ------------------------------------------------------------
 * The owner (or the holder of its heap's lock) writes the bytes of the
 * blocks it hands out, frees and collects plainly; another thread's free
 * tests and clears the block's byte with a plain load and store.  Each byte
 * is one block's alone, so no write undoes another. */
static ALWAYS_INLINE void pol_small_alloc(span_t *s, void *blk) {
  if (HYB_OFF_LIVE) return;
#if defined(__x86_64__) && !ALLOC_TSAN
  /* blk in rax, where malloc returns it: no copy after the store */
  uintptr_t g;
  __asm__ volatile("movq %1, %0\n\trorq $4, %0\n\tmovb $1, (%2,%0)" : "=&r"(g) : "a"(blk), "r"(s->pol) : "cc", "memory");
#else
  __atomic_store_n(hyb_byte_in(s, blk), 1, __ATOMIC_RELAXED);
#endif
}
/* One decrement, whose zero flag says the byte was 1; false: the block was
 * not live (its byte now 255), and pol_small_free, on the slow path, reports
 * it. */
static ALWAYS_INLINE bool pol_small_free_try(span_t *s, void *blk) {
  if (HYB_OFF_LIVE) return true;
#if defined(__x86_64__) && !ALLOC_TSAN
  bool was;
  __asm__ volatile("subb $1, (%1,%2)" : "=@ccz"(was) : "r"(s->pol), "r"(hyb_gran(blk)) : "memory");
  return likely(was);
#else
  return likely(hyb_clear_live(hyb_byte_in(s, blk)));
#endif
}
static ALWAYS_INLINE void pol_small_free(span_t *s, void *blk, pol_op_t op) {
  if (!HYB_OFF_LIVE && !hyb_clear_live(hyb_byte(blk))) hyb_bad_small(s, blk, op);
}
/* Another thread's free: a load and a store of the block's byte, no locked
 * instruction (a byte store leaves its neighbours alone).  Two frees of one
 * block racing each other can both see 1: see "not detected".  When the byte
 * is 0, nothing changes: false, and the fast path misses
 * (pol_small_free_remote, on the slow path, reports). */
static ALWAYS_INLINE bool pol_small_free_remote_try(span_t *s, void *blk) {
  return HYB_OFF_LIVE || likely(hyb_clear_live(hyb_byte_in(s, blk)));
}
static ALWAYS_INLINE void pol_small_free_remote(span_t *s, void *blk) { pol_small_free(s, blk, POL_FREE); }
/* A block another thread freed joins its owner: its byte, 0 since that free,
 * becomes HYB_COLLECTED (not live either).  A byte found otherwise is a
 * block pushed twice (two frees of it raced, each reading 1): 1 when it was
 * handed out again in between, HYB_COLLECTED when the list came back to it
 * (a push of a block onto itself would have made the walk endless). */
#define HYB_COLLECTED 2
static ALWAYS_INLINE void pol_collect(span_t *s, void *blk) {
  if (HYB_OFF_LIVE) return;
  uint8_t *b = hyb_byte(blk);
  if (unlikely(__atomic_load_n(b, __ATOMIC_RELAXED) != 0)) ALLOC_FATAL(DOUBLE_FREE_SMALL, blk);
  __atomic_store_n(b, HYB_COLLECTED, __ATOMIC_RELAXED);
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
/* The live map of pages given back goes too (no byte of it is 1: their
 * spans were released): a page's map is PAGE_SIZE / 16 bytes, whole OS pages. */
_Static_assert(HYB_MAP_OFF % OS_PAGE == 0 && PAGE_SIZE / 16 % OS_PAGE == 0, "a page's live map is whole OS pages");
static ALWAYS_INLINE void pol_pages_decommit(segment_t *seg, unsigned first, unsigned n) {
  /* On a kernel of larger pages the range would round up over a neighbour's
   * map: it stays resident there. */
  if (os_page_size() == OS_PAGE) os_decommit((char *)seg + HYB_MAP_OFF + (size_t)first * PAGE_SIZE / 16, (size_t)n * PAGE_SIZE / 16);
}

#endif
