/*
 * mstress.c - mstress-style: threads come and go while memory is shared.
 * 10 rounds; each starts 4 new threads that exit at its end.  A thread
 * allocates blocks of random sizes (mostly 16..256 bytes, some up to 8 KiB)
 * into a local list it frees in random order, and one allocation in four is
 * swapped into a table of 4096 slots shared by every thread of every round,
 * freeing whatever the swap takes out (made by any thread, often one that
 * has exited).  At its exit a thread frees half its list and leaves the rest
 * in the shared table or frees it.  Checked: every block's stamp before its
 * free, and that blocks made equal blocks freed at the end.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "macro.h"

#define MS_THREADS 4
#define MS_ROUNDS 10
#define MS_LOCAL 512
#define MS_SHARED 4096

static _Atomic(void *) ms_shared[MS_SHARED];
static _Atomic long ms_made, ms_freed;

struct ms_arg {
  int id;
  long steps;
};

static void ms_free(void *p) {
  obj_check(p, NULL);
  free(p);
  atomic_fetch_add_explicit(&ms_freed, 1, memory_order_relaxed);
}

static void *ms_new(uint64_t *rng, uint32_t tag) {
  size_t sz = (tk_rand(rng) & 7) == 0 ? rng_range(rng, 257, 8192) : rng_range(rng, OBJ_MIN, 256);
  void *p = xmalloc(sz);
  obj_fill(p, sz, tag);
  atomic_fetch_add_explicit(&ms_made, 1, memory_order_relaxed);
  return p;
}

static void *ms_thread(void *p) {
  struct ms_arg *a = p;
  uint64_t rng = 0x3e550000u + (uint64_t)a->id;
  void *local[MS_LOCAL] = {0};
  for (long i = 0; i < a->steps; i++) {
    void *b = ms_new(&rng, (uint32_t)i);
    if ((i & 3) == 0) {
      void *old = atomic_exchange(&ms_shared[tk_rand(&rng) % MS_SHARED], b);
      if (old) ms_free(old);
      continue;
    }
    size_t k = (size_t)(tk_rand(&rng) % MS_LOCAL);
    if (local[k]) ms_free(local[k]);
    local[k] = b;
  }
  for (size_t k = 0; k < MS_LOCAL; k++) {
    if (!local[k]) continue;
    if (k & 1) {
      ms_free(local[k]);
    } else {
      void *old = atomic_exchange(&ms_shared[tk_rand(&rng) % MS_SHARED], local[k]);
      if (old) ms_free(old);
    }
  }
  return NULL;
}

void wl_mstress(double scale) {
  long steps = scaled(scale, 200000, 2000);
  for (int r = 0; r < MS_ROUNDS; r++) {
    struct ms_arg args[MS_THREADS];
    for (int i = 0; i < MS_THREADS; i++) args[i] = (struct ms_arg){r * MS_THREADS + i, steps};
    start_threads(MS_THREADS, ms_thread, args, sizeof args[0]);
  }
  for (size_t k = 0; k < MS_SHARED; k++) {
    void *p = atomic_exchange(&ms_shared[k], NULL);
    if (p) ms_free(p);
  }
  if (ms_made != ms_freed) wrong("mstress: %ld blocks made, %ld freed", (long)ms_made, (long)ms_freed);
  metric("blocks", (double)ms_made);
}
