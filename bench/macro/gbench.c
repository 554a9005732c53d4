/*
 * gbench.c - glibc-bench-style (bench-malloc-thread): each thread keeps a
 * working set of 512 slots and in a loop frees a random slot and refills it
 * with a random size, mostly small with a tail up to 4 KiB (sizes drawn
 * log-uniform in 16..4096), writing the block.  gbench-1 runs one thread,
 * gbench-n four threads with the same work each (no sharing: it measures
 * how the heap scales).  Every block is checked against its tag before it
 * is freed.
 */
#include <stdlib.h>

#include "macro.h"

#define GB_SLOTS 512

struct gb_arg {
  int id;
  long ops;
  long done;
};

static void *gb_thread(void *p) {
  struct gb_arg *a = p;
  uint64_t rng = 0x9b000000u + (uint64_t)a->id;
  void *slot[GB_SLOTS] = {0};
  uint32_t tag[GB_SLOTS];
  for (long i = 0; i < a->ops; i++) {
    size_t k = (size_t)(tk_rand(&rng) % GB_SLOTS);
    if (slot[k]) {
      obj_free(slot[k], tag[k]);
    }
    size_t sz = rng_logsize(&rng, OBJ_MIN, 4096);
    slot[k] = xmalloc(sz);
    tag[k] = (uint32_t)i;
    obj_fill(slot[k], sz, tag[k]);
    a->done++;
  }
  for (size_t k = 0; k < GB_SLOTS; k++)
    if (slot[k]) {
      obj_free(slot[k], tag[k]);
    }
  return NULL;
}

static void gb_run(double scale, int threads, long full) {
  struct gb_arg args[4];
  long ops = scaled(scale, full, 10000);
  for (int i = 0; i < threads; i++) args[i] = (struct gb_arg){i, ops, 0};
  start_threads(threads, gb_thread, args, sizeof args[0]);
  for (int i = 0; i < threads; i++)
    if (args[i].done != ops) wrong("gbench: thread %d did %ld operations of %ld", i, args[i].done, ops);
  metric("ops", (double)ops * threads);
}

void wl_gbench_1(double scale) { gb_run(scale, 1, 8000000); }
void wl_gbench_n(double scale) { gb_run(scale, 4, 2000000); }
