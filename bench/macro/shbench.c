/*
 * shbench.c - sh6bench/sh8bench-style bursts, 2 threads: each round
 * allocates a burst of 32..2048 blocks of mixed sizes (mostly 16..256
 * bytes, one in 16 up to 4 KiB, one in 256 up to 32 KiB), then frees it
 * either in reverse order (LIFO, as sh6bench does) or in a random order (as
 * sh8bench's shuffled frees), one round in eight keeping half the burst for
 * the next round so lifetimes nest.  Every block is checked against its tag
 * before it is freed.
 */
#include <stdlib.h>

#include "macro.h"

#define SH_THREADS 2
#define SH_BURST_MAX 2048

struct sh_arg {
  int id;
  long rounds;
  long freed, made;
};

static size_t sh_size(uint64_t *rng) {
  unsigned r = (unsigned)(tk_rand(rng) & 255);
  if (r == 0) return rng_range(rng, 4097, 32768);
  if (r < 16) return rng_range(rng, 257, 4096);
  return rng_range(rng, OBJ_MIN, 256);
}

static void *sh_thread(void *p) {
  struct sh_arg *a = p;
  uint64_t rng = 0x5b6b0000u + (uint64_t)a->id;
  void **blk = xmalloc(2 * SH_BURST_MAX * sizeof *blk);
  uint32_t *tag = xmalloc(2 * SH_BURST_MAX * sizeof *tag);
  int kept = 0;                        /* blocks carried over from the last round */
  for (long r = 0; r < a->rounds; r++) {
    int n = kept + (int)rng_range(&rng, 32, SH_BURST_MAX);
    for (int i = kept; i < n; i++) {
      size_t sz = sh_size(&rng);
      tag[i] = (uint32_t)(r << 12) + (uint32_t)i;
      blk[i] = xmalloc(sz);
      obj_fill(blk[i], sz, tag[i]);
    }
    a->made += n - kept;
    int keep = (r & 7) == 7 ? n / 2 : 0;
    if (tk_rand(&rng) & 1) {           /* reverse order */
      for (int i = n - 1; i >= keep; i--) {
        obj_free(blk[i], tag[i]);
      }
    } else {                           /* random order: shuffle the tail, then free it */
      for (int i = n - 1; i > keep; i--) {
        int j = keep + (int)(tk_rand(&rng) % (uint64_t)(i - keep + 1));
        void *t = blk[i]; blk[i] = blk[j]; blk[j] = t;
        uint32_t u = tag[i]; tag[i] = tag[j]; tag[j] = u;
      }
      for (int i = keep; i < n; i++) {
        obj_free(blk[i], tag[i]);
      }
    }
    a->freed += n - keep;
    kept = keep;
  }
  for (int i = 0; i < kept; i++) {
    obj_free(blk[i], tag[i]);
  }
  a->freed += kept;
  free(blk);
  free(tag);
  return NULL;
}

void wl_shbench(double scale) {
  struct sh_arg args[SH_THREADS];
  long rounds = scaled(scale, 6000, 40);
  for (int i = 0; i < SH_THREADS; i++) args[i] = (struct sh_arg){i, rounds, 0, 0};
  start_threads(SH_THREADS, sh_thread, args, sizeof args[0]);
  long made = 0;
  for (int i = 0; i < SH_THREADS; i++) {
    if (args[i].made != args[i].freed) wrong("shbench: thread %d made %ld blocks, freed %ld", i, args[i].made, args[i].freed);
    made += args[i].made;
  }
  metric("blocks", (double)made);
}
