/*
 * large.c - large and very large blocks.  Eight slots hold blocks of 64 KiB
 * to 4 MiB (log-uniform), and now and then 4 to 32 MiB; one request in 16 is
 * aligned (64 KiB or 2 MiB) through posix_memalign.  Every 50th step also
 * allocates a very large block (64 to 256 MiB), touches it and frees it
 * again.  Every page of every block is written, and checked before the free.
 */
#include <stdlib.h>

#include "macro.h"

#define LSLOTS 8

static void *get(size_t sz, long step) {
  void *p;
  if (step % 16 == 0) {
    size_t align = (step / 16) % 2 ? (size_t)2 << 20 : (size_t)64 << 10;
    if (posix_memalign(&p, align, sz) != 0) wrong("posix_memalign(%zu, %zu) failed", align, sz);
    if ((uintptr_t)p % align) wrong("posix_memalign(%zu) gave %p", align, p);
  } else {
    p = xmalloc(sz);
  }
  obj_fill(p, sz, (uint32_t)step);
  return p;
}

void wl_large(double scale) {
  void *slot[LSLOTS] = {0};
  uint32_t tag[LSLOTS] = {0};
  uint64_t rng = 0x1a26e;
  long steps = scaled(scale, 1200, 60);
  double touched = 0;
  for (long s = 0; s < steps; s++) {
    size_t sz = tk_rand(&rng) % 10 == 0 ? rng_logsize(&rng, 4 << 20, 32 << 20)
                                         : rng_logsize(&rng, 64 << 10, 4 << 20);
    size_t k = (size_t)(tk_rand(&rng) % LSLOTS);
    if (slot[k]) {
      obj_free(slot[k], tag[k]);
    }
    slot[k] = get(sz, s);
    tag[k] = (uint32_t)s;
    touched += (double)sz;
    if (s % 50 == 49) {
      size_t big = rng_logsize(&rng, (size_t)64 << 20, (size_t)256 << 20);
      void *p = get(big, s);
      obj_free(p, (uint32_t)s);
      touched += (double)big;
    }
  }
  for (int k = 0; k < LSLOTS; k++)
    if (slot[k]) {
      obj_free(slot[k], tag[k]);
    }
  metric("touched_mb", touched / (1 << 20));
}
