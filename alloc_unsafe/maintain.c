/* maintain.c - the work that spans the engine's layers: the decay pass,
 * trim, statistics, validate and fork.  It calls down into theap.c,
 * segment.c and large.c; none of them calls it (internal.h).
 */
#include <string.h>

#include "util.h"

#include "clock.h"
#include "counter.h"
#include "heap.h"
#include "internal.h"
#include "options.h"

static uint64_t g_last_decay_ms;

static uint64_t decay_period_ms(void) { return (uint64_t)alloc_opt.decay_ms / 4 + 1; }

/* Every slow path (small and large) comes here, so memory freed by any kind
 * of traffic decays while the program keeps calling the heap.  The clock is
 * read on one slow path in TICK_EVERY of each thread: a large block's
 * malloc/free pair is two slow paths, and a clock read on each cost a third
 * of its time. */
#define TICK_EVERY 8
static __thread unsigned tls_ticks;

void maintain_tick(void) {
  if (likely(++tls_ticks % TICK_EVERY)) return;
  uint64_t now = now_ms(), period = decay_period_ms();
  theap_tick(now, period);
  if (now - __atomic_load_n(&g_last_decay_ms, __ATOMIC_RELAXED) < period) return;
  __atomic_store_n(&g_last_decay_ms, now, __ATOMIC_RELAXED);
  theaps_collect_idle(false);
  uint64_t age = (uint64_t)alloc_opt.decay_ms;
  segments_release(now, age, true);
  large_release(now, age);
}

int maintain_release_all(void) {
  theaps_collect(true);
  uint64_t now = now_ms() + 1;
  int a = segments_release(now, 0, false), b = large_release(now, 0);
  return a | b;
}

int heap_trim(size_t pad) {
  if (!alloc_ready()) return 0;
  theaps_collect(true);
  uint64_t now = now_ms() + 1;
  int a = segments_release(now, 0, true), b = large_release(now, 0);
  return a | b;
}

void heap_stats(alloc_stats_t *s) {
  if (!alloc_ready()) return;
  theaps_stats(s);
  for (unsigned c = 0; c < s->nclasses; c++) {
    /* Heaps are read one after another: a free may be counted whose malloc
     * was not yet, so a class can show more frees than allocations. */
    if (s->cls[c].frees > s->cls[c].allocs) s->cls[c].frees = s->cls[c].allocs;
    s->allocs += s->cls[c].allocs;
    s->frees += s->cls[c].frees;
    s->bytes_live += (s->cls[c].allocs - s->cls[c].frees) * s->cls[c].size;
  }
  size_t spans = segments_span_bytes(); /* before large_stats: about spans alone */
  s->bytes_cached = spans > s->bytes_live ? spans - s->bytes_live : 0;
  s->bytes_peak = peak_counter_peak(&alloc_held_bytes);
  large_stats(s);
  s->live_blocks = s->allocs - s->frees;
}

/* Walks every segment and span, the lists of every heap no thread is using
 * and of the caller's own, and the large cache; ends in alloc_fatal on any
 * broken invariant.  Spans of other live threads are only counted, not
 * checked (theap_span_validate); the count is exact when those threads are
 * not allocating meanwhile. */
size_t heap_validate(void) {
  if (!alloc_ready()) return 0;
  theaps_lock();
  segments_lock();
  large_lock();
  size_t live = segments_validate(theap_span_validate);
  theaps_validate();
  size_t large = large_validate();
  large_unlock();
  segments_unlock();
  theaps_unlock();
  return live + large;
}

/* Fork: every lock, in the lock order (internal.h). */
void heap_fork_prepare(void) {
  theaps_fork_prepare();
  segments_lock();
  large_lock();
}
void heap_fork_parent(void) {
  large_unlock();
  segments_unlock();
  theaps_fork_parent();
}
void heap_fork_child(void) {
  large_unlock();
  segments_unlock();
  theaps_fork_child();
}

/* Initialise at load time too, so option warnings and ALLOC_VERBOSE appear
 * even in a program that never allocates. */
__attribute__((constructor)) static void heap_init_at_load(void) { alloc_init(); }
