/*
 * bigloop.c - a loop of large blocks of varying size: 4 slots, each step
 * frees one and allocates a replacement, half of the time log-uniform in
 * 64 KiB..4 MiB and half of the time just above 128 KiB (128..192 KiB: where
 * alloc_unsafe's small classes end), so the heaps' large paths and caches
 * are what is measured.  The first and last bytes and one byte per page are
 * written (obj_fill), and checked before the free; no memset, so the time
 * is the allocator's, not page writes.
 */
#include <stdlib.h>

#include "macro.h"

#define BL_SLOTS 4
#define KIB ((size_t)1024)

void wl_bigloop(double scale) {
  void *slot[BL_SLOTS] = {0};
  uint32_t tag[BL_SLOTS] = {0};
  uint64_t rng = 0xb1600;
  long steps = scaled(scale, 40000, 500);
  double bytes = 0;
  for (long i = 0; i < steps; i++) {
    size_t k = (size_t)(tk_rand(&rng) % BL_SLOTS);
    if (slot[k]) {
      obj_free(slot[k], tag[k]);
    }
    size_t sz = (tk_rand(&rng) & 1) ? rng_logsize(&rng, 64 * KIB, 4096 * KIB)
                                    : rng_range(&rng, 128 * KIB + 1, 192 * KIB);
    slot[k] = xmalloc(sz);
    tag[k] = (uint32_t)i;
    obj_fill(slot[k], sz, tag[k]);
    bytes += (double)sz;
  }
  for (size_t k = 0; k < BL_SLOTS; k++)
    if (slot[k]) {
      obj_free(slot[k], tag[k]);
    }
  metric("steps", (double)steps);
  metric("mib_allocated", bytes / (1024.0 * 1024.0));
}
