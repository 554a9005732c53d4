/* segment.c - segments, spans, and giving memory back to the OS.
 *
 * Policy (documented in the README): a span whose blocks are all free goes
 * back to its segment at once (except its owner's current span of a class);
 * its pages stay resident ("dirty") until no span of that segment has been
 * given back for ALLOC_DECAY_MS, then they are madvised away.  A segment
 * with no spans for that long is unmapped, except the last one.  With
 * ALLOC_DECAY_MS=0 pages are released immediately.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "options.h"

static pthread_mutex_t g_seg_mu = PTHREAD_MUTEX_INITIALIZER;
static segment_t *g_segs; /* every small segment */
static size_t g_nsegs;
static uint64_t g_last_decay_ms;
static size_t g_span_bytes;            /* bytes in spans in use */
static size_t g_out_bytes, g_out_peak; /* ... and in large blocks */

void out_bytes_add(ptrdiff_t delta) {
  size_t now = __atomic_add_fetch(&g_out_bytes, (size_t)delta, __ATOMIC_RELAXED);
  size_t peak = __atomic_load_n(&g_out_peak, __ATOMIC_RELAXED);
  while (now > peak && !__atomic_compare_exchange_n(&g_out_peak, &peak, now, true,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

/* bytes_cached: span bytes not in live blocks (call after bytes_live holds
 * the small blocks alone). */
void out_bytes_stats(alloc_stats_t *s) {
  size_t spans = __atomic_load_n(&g_span_bytes, __ATOMIC_RELAXED);
  s->bytes_cached = spans > s->bytes_live ? spans - s->bytes_live : 0;
  s->bytes_peak = __atomic_load_n(&g_out_peak, __ATOMIC_RELAXED);
}

void segments_lock(void) { pthread_mutex_lock(&g_seg_mu); }
void segments_unlock(void) { pthread_mutex_unlock(&g_seg_mu); }

uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
  os_mapping_t m = os_map_aligned(SEG_SIZE, SEG_SIZE);
  if (!m.base) return NULL;
  segment_t *seg = m.base; /* zero-filled */
  seg->map = m;
  seg->used_mask = 1;
  for (unsigned i = 0; i <= SEG_PAGES; i++) seg->pages[i].cls = CLS_FREE;
  seg->next = g_segs;
  if (g_segs) g_segs->prev = seg;
  g_segs = seg;
  g_nsegs++;
  return seg;
}

static void segment_free(segment_t *seg) {
  if (seg->prev) seg->prev->next = seg->next;
  else g_segs = seg->next;
  if (seg->next) seg->next->prev = seg->prev;
  g_nsegs--;
  os_unmap(seg->map);
}

span_t *span_new(unsigned cls, theap_t *h) {
  unsigned np = size_classes[cls].npages, first = 0;
  segments_lock();
  segment_t *seg;
  /* Prefer pages still resident (no page faults), then any free pages. */
  for (seg = g_segs; seg && !first; seg = first ? seg : seg->next)
    first = find_run(~seg->used_mask & seg->dirty_mask, np);
  if (!first)
    for (seg = g_segs; seg && !first; seg = first ? seg : seg->next)
      first = find_run(~seg->used_mask, np);
  if (!first) {
    seg = segment_new();
    if (!seg) {
      segments_unlock();
      return NULL;
    }
    first = 1;
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
  s->owner = (uintptr_t)h;
  s->free = s->local_free = s->xfree = NULL;
  s->next = s->prev = NULL;
  g_span_bytes += np * PAGE_SIZE;
  segments_unlock();
  out_bytes_add((ptrdiff_t)(np * PAGE_SIZE));
  vg_close(span_base(s), np * PAGE_SIZE); /* no block is valid until handed out */
  return s;
}

/* Give [first, first+n) pages of seg back to the kernel. */
static void decommit_runs(segment_t *seg, uint64_t bits) {
  while (bits) {
    unsigned start = (unsigned)__builtin_ctzll(bits);
    uint64_t rest = ~(bits >> start);
    unsigned len = rest ? (unsigned)__builtin_ctzll(rest) : 64 - start;
    os_decommit((char *)seg + (size_t)start * PAGE_SIZE, (size_t)len * PAGE_SIZE);
    bits &= ~run_bits(start, len);
  }
}

void span_release(span_t *s) {
  segment_t *seg = (segment_t *)ALIGN_DOWN((uintptr_t)s, SEG_SIZE);
  unsigned first = (unsigned)(s - seg->pages), np = s->npages;
  uint64_t bits = run_bits(first, np);
  DEBUG_ASSERT(s->used == 0 && !s->xfree);
  out_bytes_add(-(ptrdiff_t)(np * PAGE_SIZE));
  segments_lock();
  g_span_bytes -= np * PAGE_SIZE;
  s->owner = 0;
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

/* Release what has been unused for at least `age` ms; keep_one: leave the
 * last empty segment mapped.  Called with the segment lock held. */
static int release_older_than(uint64_t now, uint64_t age) {
  int released = 0;
  segment_t *next;
  for (segment_t *seg = g_segs; seg; seg = next) {
    next = seg->next;
    if (now - seg->freed_at_ms < age) continue;
    if (seg->used_mask == 1 && g_nsegs > 1) {
      segment_free(seg);
      released = 1;
    } else if (seg->dirty_mask) {
      decommit_runs(seg, seg->dirty_mask);
      seg->dirty_mask = 0;
      released = 1;
    }
  }
  return released;
}

uint64_t decay_period_ms(void) { return (uint64_t)alloc_opt.decay_ms / 4 + 1; }

void decay_maybe(uint64_t now) {
  if (now - __atomic_load_n(&g_last_decay_ms, __ATOMIC_RELAXED) < decay_period_ms()) return;
  __atomic_store_n(&g_last_decay_ms, now, __ATOMIC_RELAXED);
  theaps_collect_idle(false);
  segments_lock();
  release_older_than(now, (uint64_t)alloc_opt.decay_ms);
  segments_unlock();
  large_decay(now);
}

int segments_trim(void) {
  segments_lock();
  int r = release_older_than(now_ms() + 1, 0);
  segments_unlock();
  return r;
}

/* Check every segment and span against layout.h's invariants; returns the
 * number of live blocks in spans (theap_span_validate).  Caller holds
 * theaps_lock and the segment lock. */
size_t segments_validate(void) {
  size_t live = 0;
  for (segment_t *seg = g_segs; seg; seg = seg->next) {
    if (!(seg->used_mask & 1) || seg->map.base != seg) alloc_fatal("validate: segment header", seg);
    for (unsigned i = 1; i < SEG_PAGES;) {
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
      live += theap_span_validate(s);
      i += np;
    }
  }
  return live;
}
