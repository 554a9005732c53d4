/* layout.h - the in-band engine's memory layout, the only code that touches
 * in-band bytes, and the policy interface every in-band heap implements.
 *
 * The engine is this folder's code: segments, spans, thread heaps and large
 * blocks, written once.  alloc_unsafe is the engine under the trusting
 * policy (heap_policy.h here); a heap that keeps this layout but validates
 * (alloc_hybrid) is the same engine under its own heap_policy.h, so the two
 * differ by their checks and nothing else.
 *
 * Trust rule: the engine itself trusts every pointer it is given and every
 * byte it reads back from memory the program could have written; each such
 * place calls a policy hook first (below, "The policy"), and the policy
 * decides what to check.
 *
 * SEGMENT (small blocks): SEG_SIZE bytes, aligned to SEG_SIZE, cut into
 * SEG_PAGES pages of PAGE_SIZE.  Page 0 holds the segment header, whose
 * pages[] array describes every page.  A span is a run of pages serving one
 * size class; its blocks sit back to back, with no per-block header.
 *
 *   seg (SEG_SIZE-aligned)
 *   | page 0: segment_t {masks, links, pages[0..63]} | page H .. | page 63 |
 *     (pages 1 to H-1, H = POLICY_HEAD_PAGES, hold the policy's state, if any)
 *             pages[i].cls  = class of the span page i belongs to
 *             pages[i].back = i - first page of that span
 *                             ^ span (first page): blocks of stride cls_size
 *   block, in use:   | user bytes ..................................... |
 *   block, free:     | next (void *, as the policy encodes it) | stale bytes |
 *
 * LARGE block: its own mapping; a segment_t header at a SEG_SIZE-aligned base,
 * the block at base + off (off = max(OS_PAGE, alignment)); for alignments of
 * SEG_SIZE or more the header is the SEG_SIZE-chunk just below the block, so
 * off == SEG_SIZE.  The page index is taken from p's own address bits, so for
 * off == SEG_SIZE it wraps to 0 (LARGE_TAG_PAGE).
 *
 *   base | segment_t (tag CLS_LARGE at pages[LARGE_TAG_PAGE(off)]) | pad | block ... |
 *
 * OWNERSHIP: every span in use is owned by one thread heap (theap.c), whose
 * address is in span->owner.  Only the owner pops span->free, pushes
 * span->local_free and changes span->used; any other thread that frees a
 * block of the span pushes it onto span->xfree with a CAS, and the owner
 * takes that list whole (an exchange) when it runs out of blocks.  While the
 * span sits on its owner's full list, OWNER_FULL is or-ed into span->owner,
 * so the owner's own free of such a block misses the fast path's compare and
 * the slow path moves the span back to the available list.
 *
 * Glossary: stride = class size = usable size of a small block; carved =
 * blocks of a span ever handed to a free list (bump); used = blocks out of
 * the span (live, or freed by another thread and still on xfree).
 *
 * Invariants:
 *   seg_of(p) = (p - 1) & ~(SEG_SIZE - 1)      for every p we return
 *   page_of(p) = seg_of(p)->pages + ((p >> PAGE_SHIFT) % SEG_PAGES)
 *   span_of(p) = page_of(p) - page_of(p)->back
 *   for a span s of class c: s->used + len(s->free) + len(s->local_free)
 *                              == s->carved <= blocks_per_span(c)
 *                            len(s->xfree) <= s->used
 *   a block p of span s: (p - span_base(s)) % stride(c) == 0
 *   s->list == SPAN_FULL  <=>  s->owner has OWNER_FULL set
 */
#ifndef UNSAFE_LAYOUT_H
#define UNSAFE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "os.h"
#include "util.h"
#include "vg.h"

#define SEG_SHIFT 22
#define SEG_SIZE ((size_t)1 << SEG_SHIFT)  /* 4 MiB */
#define PAGE_SHIFT 16
#define PAGE_SIZE ((size_t)1 << PAGE_SHIFT) /* 64 KiB */
#define SEG_PAGES (SEG_SIZE / PAGE_SIZE)    /* 64; page 0 is the header (and POLICY_HEAD_PAGES) */

#define CLS_FREE 0xfe  /* page belongs to no span */
#define CLS_LARGE 0xff /* the block has its own mapping */

/* Ownership tags of the engine's mappings (os.h's map), so a validating
 * policy tells a segment from a large block from metadata without reading
 * either. */
enum { TAG_SEGMENT = 2, TAG_LARGE = 3, TAG_META = 4 };

enum { SPAN_UNLISTED, SPAN_AVAIL, SPAN_FULL }; /* span->list */
#define OWNER_FULL ((uintptr_t)1)

typedef struct span {
  uint8_t cls;          /* size class, CLS_FREE or CLS_LARGE (every page) */
  uint8_t back;         /* pages back to the first page of the span */
  uint8_t npages;       /* first page only: span length */
  uint8_t list;         /* first page only: which owner list holds it */
  uint16_t used;        /* owner: blocks out of the span */
  uint16_t carved;      /* owner: blocks ever carved (bump) */
  uintptr_t owner;      /* the owning theap_t, | OWNER_FULL; 0: no span */
  void *free;           /* owner: blocks malloc pops */
  void *local_free;     /* owner: blocks the owner freed */
  void *xfree;          /* any thread (atomic): blocks others freed */
  list_node_t link;     /* the owner's avail or full list for the class */
  uintptr_t pol;        /* the policy's, set by pol_span_new (alloc_unsafe: unused) */
} __attribute__((aligned(64))) span_t; /* one cache line: no false sharing */

typedef struct segment {
  uint64_t used_mask;          /* bit i: page i is in a span (SEG_HEAD_MASK: head pages) */
  uint64_t dirty_mask;         /* bit i: free page that may be resident */
  uint64_t freed_at_ms;        /* last time a span was given back */
  list_node_t link;            /* all small segments, or the large cache */
  os_mapping_t map;            /* what to unmap */
  size_t large_off;            /* LARGE: block = (char *)seg + large_off */
  size_t large_usable;         /* LARGE: usable bytes of the block */
  uint64_t policy_word;        /* the policy's (a validating one: a checksum) */
  span_t pages[SEG_PAGES];
} segment_t;

/* The index of the page entry for address bits a (what page_of uses), and
 * the entry that holds a large block's CLS_LARGE tag: the block's first
 * byte is off bytes into a SEG_SIZE-aligned header. */
#define PAGE_INDEX(a) (((uintptr_t)(a) >> PAGE_SHIFT) & (SEG_PAGES - 1))
#define LARGE_TAG_PAGE(off) PAGE_INDEX(off)

/* A large block's header touches only the fields before pages[1] (its tag
 * sits at pages[LARGE_TAG_PAGE(off)], which is below off), so it fits in the
 * OS page in front of the block even though segment_t is longer. */
_Static_assert(offsetof(segment_t, pages[1]) <= OS_PAGE, "large header fits in one OS page");
_Static_assert(sizeof(segment_t) <= PAGE_SIZE, "segment header fits in page 0");

static ALWAYS_INLINE segment_t *seg_of(const void *p) {
  return (segment_t *)(((uintptr_t)p - 1) & ~(SEG_SIZE - 1));
}
/* &seg->pages[PAGE_INDEX(p)], written as one shift and one mask of p to
 * the entry's byte offset (gcc does not find that form itself). */
static ALWAYS_INLINE span_t *page_in(segment_t *seg, const void *p) {
  _Static_assert(sizeof(span_t) == 64, "page entry offset is (page index) << 6");
  uintptr_t off = ((uintptr_t)p >> (PAGE_SHIFT - 6)) & ((uintptr_t)(SEG_PAGES - 1) << 6);
  return (span_t *)((char *)seg->pages + off);
}
static ALWAYS_INLINE span_t *page_of(const void *p) { return page_in(seg_of(p), p); }
static ALWAYS_INLINE span_t *span_of(const void *p) {
  span_t *pg = page_of(p);
  return pg - pg->back;
}
/* The owner's s->used - 1, stored with release order (span_all_home reads
 * it with acquire on another thread, and must see the link stored before);
 * true when it reached 0.  On x86-64 a plain subw to memory is that store:
 * x86 never reorders a store before an earlier store, the asm's memory
 * clobber keeps the compiler from doing so, and only the owner writes used,
 * so no lock prefix is needed.  One instruction and the branch on its flag,
 * where the C11 store takes a load, a subtract, a store and a test.  TSan
 * builds and other targets take the C11 store, which TSan checks. */
static ALWAYS_INLINE bool span_used_dec(span_t *s) {
#if defined(__x86_64__) && !ALLOC_TSAN
  bool zero;
  __asm__ volatile("subw $1, %0" : "+m"(s->used), "=@ccz"(zero) : : "memory");
  return zero;
#else
  uint16_t used = (uint16_t)(s->used - 1);
  __atomic_store_n(&s->used, used, __ATOMIC_RELEASE);
  return used == 0;
#endif
}

/* First byte of a span's blocks. */
static inline char *span_base(span_t *s) {
  segment_t *seg = (segment_t *)ALIGN_DOWN((uintptr_t)s, SEG_SIZE);
  return (char *)seg + (size_t)(s - seg->pages) * PAGE_SIZE;
}

/* ---- the policy ------------------------------------------------------------
 * Each in-band heap's folder has a heap_policy.h (included here, after the
 * types it needs; angle brackets, so the building heap's folder, first on the
 * include path, is searched before this one) that defines:
 *
 *   POLICY_BLOCK_HDR   bytes the engine leaves at the start of every small
 *                      block for the policy (a multiple of ALLOC_MIN_ALIGN;
 *                      0: none).  The program gets blk + POLICY_BLOCK_HDR;
 *                      with a header, aligned requests go to large blocks.
 *   pol_link_encode(slot, next)     the word stored at slot for link next
 *   pol_link_decode(s, slot, word)  the link that word at slot of span s
 *                      stands for: a block of s or NULL (a validating policy
 *                      checks it and never returns anything else)
 *   pol_link_peek(slot, word)    the same without checks, for validate's
 *                      tolerant walk of a list another thread may change
 *   pol_page_of(p, op)  the page entry of a pointer entering the heap (free,
 *                      realloc, usable size, object size); a validating
 *                      policy proves p lies in this heap's memory first
 *   pol_page_try(p)    free()'s fast path's pol_page_of: the page entry
 *                      when the fast path may go on, or NULL, and then the
 *                      slow path asks pol_page_of; it never reports
 *   pol_check_early(p, op)  a pointer the override keeps from the heap
 *                      (heap.h's heap_check_early: bootstrap blocks,
 *                      realloc to an impossible size)
 *   pol_object_ok(p)   may the engine read the headers over p to answer an
 *                      object-size query (any pointer into a block)?
 *   pol_small_check(s, blk, op)  blk (from such a pointer) is a live block
 *                      of span s
 *   pol_large_check(h, p, op)    p is the live block of large header h
 *   pol_small_alloc(s, blk), pol_small_free(s, blk, op)   blk changes
 *                      state (free: checks what pol_small_check does), by
 *                      the span's owner or under its heap's lock
 *   pol_small_free_try(s, blk)  the fast path's pol_small_free: true when
 *                      it marked blk free, false (nothing reported, nothing
 *                      changed that the slow path's look depends on) when
 *                      the slow path must look again
 *   pol_small_free_remote(s, blk)   the same, by any other thread
 *   pol_small_free_remote_try(s, blk)  its fast-path form: true when it
 *                      marked blk free, false when it changed nothing
 *   POLICY_REUSE_DELAY  1: a span's block freed last, and the large block
 *                      freed last, are not the next handed out at their
 *                      address (so a stale free after that reuse still
 *                      finds the block free)
 *   POLICY_CHECK_SIZES  1: free_sized/free_aligned_sized sizes are checked
 *                      against the block (engine_size_fits)
 *   POLICY_SEAL_MAP    1: the ownership map is made read-only at start-up
 *                      (os_map_seal), as the policy's checks rely on it
 *   POLICY_PAGE_TRY_NULL  1: pol_page_try(NULL) reads nothing and misses, so
 *                      free() need not test for NULL before its fast path
 *   POLICY_HEAD_PAGES  pages at the start of a segment that hold no span:
 *                      page 0 (the header) and any the policy keeps for its
 *                      own state (1: the header alone)
 *   pol_large_alloc(h), pol_large_free(h, p, op)           the same, large
 *   pol_collect(s, blk)          blk, freed by another thread, joins s
 *                      (span_collect's one walk of the list calls it per block)
 *   pol_segment_new/free(seg), pol_span_new/release(s)  metadata created
 *                      (written, fields valid) or about to be released
 *   pol_pages_decommit(seg, first, n)  free pages [first, first + n) of seg
 *                      went back to the kernel (state the policy keeps for
 *                      them elsewhere may go too)
 * op (pol_op_t) names the entry point for a fatal message.  Hooks run with
 * the same locks as the code around them; the fast paths call them too, so
 * they must be short and inline.  free()'s fast path calls only hooks that
 * cannot report (the _try ones): what fails there misses, and the slow path,
 * which calls the reporting hook on the same state, names the check; so it
 * makes no call but tail calls and needs no stack frame.  malloc's fast path
 * decodes a link, which a validating policy may report (a corrupted link is
 * not something a retry could see differently).
 */
typedef enum { POL_FREE, POL_FREE_SIZED, POL_REALLOC, POL_USABLE, POL_OBJSIZE } pol_op_t;

#include <heap_policy.h>

_Static_assert(POLICY_BLOCK_HDR % ALLOC_MIN_ALIGN == 0, "block header keeps blocks aligned");
_Static_assert(POLICY_HEAD_PAGES >= 1 && POLICY_HEAD_PAGES < SEG_PAGES / 2, "a segment keeps most pages for spans");
/* used_mask's bits of the pages that hold no span (always set). */
#define SEG_HEAD_MASK (((uint64_t)1 << POLICY_HEAD_PAGES) - 1)

/* ---- the in-band free-list link: the only reads/writes of free blocks ---- */
static ALWAYS_INLINE void *blk_next(const span_t *s, void *b) {
  vg_open(b, sizeof(void *));
  void *n = pol_link_decode(s, b, *(void **)b);
  vg_close(b, sizeof(void *));
  return n;
}
static ALWAYS_INLINE void blk_set_next(void *b, void *n) {
  vg_open(b, sizeof(void *));
  *(void **)b = pol_link_encode(b, n);
  vg_close(b, sizeof(void *));
}
/* The link without the policy's checks (validate's tolerant walk). */
static ALWAYS_INLINE void *blk_peek(void *b) {
  vg_open(b, sizeof(void *));
  void *n = pol_link_peek(b, *(void **)b);
  vg_close(b, sizeof(void *));
  return n;
}
/* The same for the fast paths alone: they never run under valgrind, because
 * there every thread uses the shared heap through the slow paths (theap.c),
 * so these need no memcheck hooks and the fast paths no stack frame. */
static ALWAYS_INLINE void *blk_next_fast(const span_t *s, void *b) {
  return pol_link_decode(s, b, *(void **)b);
}
static ALWAYS_INLINE void blk_set_next_fast(void *b, void *n) { *(void **)b = pol_link_encode(b, n); }

#endif
