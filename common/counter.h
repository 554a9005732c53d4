/* counter.h - a byte count shared by threads, with its peak.
 *
 * Relaxed atomics: the value is exact once the threads that changed it are
 * quiet; the peak is the largest value any add produced.  Used for the bytes
 * a heap holds for blocks (stats: bytes_peak), which more than one layer of a
 * heap changes, so it lives below all of them.
 */
#ifndef ALLOC_COUNTER_H
#define ALLOC_COUNTER_H

#include <stddef.h>
#include <stdbool.h>
#include "util.h"

typedef struct peak_counter {
  size_t now, peak;
} peak_counter_t;

static inline void peak_counter_add(peak_counter_t *c, ptrdiff_t delta) {
  size_t now = __atomic_add_fetch(&c->now, (size_t)delta, __ATOMIC_RELAXED);
  size_t peak = __atomic_load_n(&c->peak, __ATOMIC_RELAXED);
  while (now > peak && !__atomic_compare_exchange_n(&c->peak, &peak, now, true,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}
static inline size_t peak_counter_now(const peak_counter_t *c) {
  return __atomic_load_n(&c->now, __ATOMIC_RELAXED);
}
static inline size_t peak_counter_peak(const peak_counter_t *c) {
  return __atomic_load_n(&c->peak, __ATOMIC_RELAXED);
}

/* Bytes a heap holds for blocks (spans or slabs in use, large blocks): every
 * layer of the heap that takes or gives such memory adds to it; statistics
 * report it as bytes_peak. */
extern HIDDEN peak_counter_t alloc_held_bytes;

#endif
