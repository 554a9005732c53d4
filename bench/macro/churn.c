/*
 * churn.c - a server under load: 4 threads each keep a table of live
 * requests; every operation frees a random one and allocates a replacement
 * of a random size (mostly small, some medium, a few up to 64 KiB), so
 * lifetimes are random.  One operation in 8 swaps its new block into a
 * table shared by all threads, so blocks also die on threads other than the
 * one that made them.  Every block is checked before it is freed (and a
 * thread's own blocks against the tag it gave them).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "macro.h"

#define CHURN_THREADS 4
#define SLOTS 4096
#define SHARED 1024

static _Atomic(void *) shared[SHARED];
static _Atomic long made, freed;

struct churn_arg {
  int id;
  long ops;
};

static void check_free(void *p) {
  obj_check(p, NULL);
  free(p);
  atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

static void *churn_thread(void *a) {
  struct churn_arg *arg = a;
  uint64_t rng = 0x5eed0000u + (uint64_t)arg->id;
  void **slot = calloc(SLOTS, sizeof *slot);
  uint32_t *tag = calloc(SLOTS, sizeof *tag);     /* what each slot's block must carry */
  if (!slot || !tag) wrong("calloc failed");
  for (long i = 0; i < arg->ops; i++) {
    size_t sz = size_mix(&rng);
    void *p = xmalloc(sz);
    obj_fill(p, sz, (uint32_t)i);
    atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
    if ((i & 7) == 0) {
      void *old = atomic_exchange(&shared[tk_rand(&rng) % SHARED], p);
      if (old) check_free(old);
      continue;
    }
    size_t k = (size_t)(tk_rand(&rng) % SLOTS);
    if (slot[k]) {
      obj_expect(slot[k], tag[k]);
      check_free(slot[k]);
    }
    slot[k] = p;
    tag[k] = (uint32_t)i;
  }
  for (size_t k = 0; k < SLOTS; k++)
    if (slot[k]) {
      obj_expect(slot[k], tag[k]);
      check_free(slot[k]);
    }
  free(slot);
  free(tag);
  return NULL;
}

void wl_churn(double scale) {
  struct churn_arg args[CHURN_THREADS];
  long ops = scaled(scale, 1500000, 20000);
  for (int i = 0; i < CHURN_THREADS; i++) args[i] = (struct churn_arg){i, ops};
  start_threads(CHURN_THREADS, churn_thread, args, sizeof args[0]);
  for (size_t k = 0; k < SHARED; k++) {
    void *p = atomic_exchange(&shared[k], NULL);
    if (p) check_free(p);
  }
  if (made != freed) wrong("churn: %ld blocks made, %ld freed", (long)made, (long)freed);
  metric("ops", (double)ops * CHURN_THREADS);
}
