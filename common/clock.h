/* clock.h - the one clock the heaps' slow paths read (decay, collection).
 *
 * Milliseconds of CLOCK_MONOTONIC_COARSE: a vDSO read of a few nanoseconds,
 * no system call, resolution of one scheduler tick (1-4 ms), never goes back.
 */
#ifndef ALLOC_CLOCK_H
#define ALLOC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
