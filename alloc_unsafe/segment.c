/* segment.c - segments and spans: the pages small blocks live in.
 *
 * Policy (documented in the README): a span whose blocks are all free goes
 * back to its segment at once (except its owner's current span of a class);
 * its pages stay resident ("dirty") until no span of that segment has been
 * given back for ALLOC_DECAY_MS, then they are madvised away.  A segment
 * with no spans for that long is unmapped, except the last one.  With
 * ALLOC_DECAY_MS=0 pages are released immediately.  The decay pass that
 * calls segments_release() is maintain.c's; this layer calls only the OS.
 */
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "counter.h"
#include "internal.h"
#include "options.h"

static pthread_mutex_t g_seg_mu = PTHREAD_MUTEX_INITIALIZER;
static list_t g_segs; /* every small segment (segment_t.link) */
static size_t g_nsegs;
static size_t g_span_bytes; /* bytes in spans in use */

#define SEG_OF(node) LIST_ENTRY_OR_NULL(node, segment_t, link)

size_t segments_span_bytes(void) { return __atomic_load_n(&g_span_bytes, __ATOMIC_RELAXED); }

void segments_lock(void) { pthread_mutex_lock(&g_seg_mu); }
void segments_unlock(void) { pthread_mutex_unlock(&g_seg_mu); }

static uint64_t run_bits(unsigned first, unsigned n) {
  return (n >= 64 ? ~0ull : ((1ull << n) - 1)) << first;
}

/* Lowest page index starting n consecutive set bits of m, or 0 (page 0 is
 * never free, so 0 means none). */
static unsigned find_run(uint64_t m, unsigned n) {
  uint64_t r = m;
  for (unsigned k = 1; k < n && r; k++) r &= m >> k;
  return r ? (unsigned)__builtin_ctzll(r) : 0;
}

static segment_t *segment_new(void) {
  os_mapping_t m = os_map_tagged(SEG_SIZE, SEG_SIZE, 0, TAG_SEGMENT);
  if (!m.base) return NULL;
  segment_t *seg = m.base; /* zero-filled */
  seg->map = m;
  seg->used_mask = SEG_HEAD_MASK;
  for (unsigned i = 0; i < SEG_PAGES; i++) seg->pages[i].cls = CLS_FREE;
  list_push_front(&g_segs, &seg->link);
  g_nsegs++;
  pol_segment_new(seg);
  return seg;
}

static void segment_free(segment_t *seg) {
  pol_segment_free(seg);
  list_unlink(&g_segs, &seg->link);
  g_nsegs--;
  os_unmap(seg->map);
}

span_t *span_new(unsigned cls, uintptr_t owner) {
  unsigned np = size_classes[cls].npages, first = 0;
  segments_lock();
  segment_t *seg = NULL;
  /* Prefer pages still resident (no page faults), then any free pages. */
  for (seg = SEG_OF(g_segs.head); seg; seg = SEG_OF(seg->link.next))
    if ((first = find_run(~seg->used_mask & seg->dirty_mask, np)) != 0) break;
  if (!first)
    for (seg = SEG_OF(g_segs.head); seg; seg = SEG_OF(seg->link.next))
      if ((first = find_run(~seg->used_mask, np)) != 0) break;
  if (!first) {
    seg = segment_new();
    if (!seg) {
      segments_unlock();
      return NULL;
    }
    first = POLICY_HEAD_PAGES;
  }
  uint64_t bits = run_bits(first, np);
  seg->used_mask |= bits;
  seg->dirty_mask &= ~bits;
  for (unsigned k = 0; k < np; k++) {
    seg->pages[first + k].cls = (uint8_t)cls;
    seg->pages[first + k].back = (uint8_t)k;
  }
  span_t *s = &seg->pages[first];
  s->npages = (uint8_t)np;
  s->list = SPAN_UNLISTED;
  s->used = s->carved = 0;
  __atomic_store_n(&s->owner, owner, __ATOMIC_RELAXED);
  s->free = s->local_free = s->xfree = NULL;
  s->link.next = s->link.prev = NULL;
  g_span_bytes += np * PAGE_SIZE;
  pol_span_new(s);
  segments_unlock();
  peak_counter_add(&alloc_held_bytes, (ptrdiff_t)(np * PAGE_SIZE));
  vg_close(span_base(s), np * PAGE_SIZE); /* no block is valid until handed out */
  return s;
}

/* Give the pages of `bits` in seg back to the kernel. */
static void decommit_runs(segment_t *seg, uint64_t bits) {
  while (bits) {
    unsigned start = (unsigned)__builtin_ctzll(bits);
    uint64_t rest = ~(bits >> start);
    unsigned len = rest ? (unsigned)__builtin_ctzll(rest) : 64 - start;
    os_decommit((char *)seg + (size_t)start * PAGE_SIZE, (size_t)len * PAGE_SIZE);
    pol_pages_decommit(seg, start, len);
    bits &= ~run_bits(start, len);
  }
}

void span_release(span_t *s) {
  segment_t *seg = (segment_t *)ALIGN_DOWN((uintptr_t)s, SEG_SIZE);
  unsigned first = (unsigned)(s - seg->pages), np = s->npages;
  uint64_t bits = run_bits(first, np);
  DEBUG_ASSERT(s->used == 0 && !s->xfree);
  peak_counter_add(&alloc_held_bytes, -(ptrdiff_t)(np * PAGE_SIZE));
  segments_lock();
  pol_span_release(s);
  g_span_bytes -= np * PAGE_SIZE;
  __atomic_store_n(&s->owner, (uintptr_t)0, __ATOMIC_RELAXED); /* a late theap_span_empty reads it */
  for (unsigned k = 0; k < np; k++) {
    seg->pages[first + k].cls = CLS_FREE;
    seg->pages[first + k].back = 0;
  }
  s->npages = 0;
  seg->used_mask &= ~bits;
  if (alloc_opt.decay_ms == 0) decommit_runs(seg, bits);
  else seg->dirty_mask |= bits;
  seg->freed_at_ms = now_ms();
  segments_unlock();
}

/* Release what has been unused for at least `age` ms: empty segments are
 * unmapped (keep_one: but the last), free pages of the others decommitted.
 * 1 if anything was released. */
int segments_release(uint64_t now, uint64_t age, bool keep_one) {
  int released = 0;
  segments_lock();
  for (segment_t *seg = SEG_OF(g_segs.head), *next; seg; seg = next) {
    next = SEG_OF(seg->link.next);
    if (now - seg->freed_at_ms < age) continue;
    if (seg->used_mask == SEG_HEAD_MASK && (g_nsegs > 1 || !keep_one)) {
      segment_free(seg);
      released = 1;
    } else if (seg->dirty_mask) {
      decommit_runs(seg, seg->dirty_mask);
      seg->dirty_mask = 0;
      released = 1;
    }
  }
  segments_unlock();
  return released;
}

/* Check every segment and span against layout.h's invariants; span_check
 * (the thread-heap layer's, passed down by maintain.c) checks each span's
 * blocks and returns its live ones.  Caller holds the segment lock. */
size_t segments_validate(size_t (*span_check)(span_t *)) {
  size_t live = 0;
  for (segment_t *seg = SEG_OF(g_segs.head); seg; seg = SEG_OF(seg->link.next)) {
    if ((seg->used_mask & SEG_HEAD_MASK) != SEG_HEAD_MASK || seg->map.base != seg) alloc_fatal("validate: segment header", seg);
    for (unsigned i = POLICY_HEAD_PAGES; i < SEG_PAGES;) {
      span_t *s = &seg->pages[i];
      if (!(seg->used_mask >> i & 1)) {
        if (s->cls != CLS_FREE) alloc_fatal("validate: free page has a class", s);
        i++;
        continue;
      }
      unsigned cls = s->cls, np = s->npages;
      if (cls >= NCLASSES || s->back != 0 || np != size_classes[cls].npages || i + np > SEG_PAGES)
        alloc_fatal("validate: span header", s);
      for (unsigned k = 1; k < np; k++)
        if (seg->pages[i + k].cls != cls || seg->pages[i + k].back != k ||
            !(seg->used_mask >> (i + k) & 1))
          alloc_fatal("validate: span page", &seg->pages[i + k]);
      live += span_check(s);
      i += np;
    }
  }
  return live;
}
