/*
 * larson.c - a larson-style server: each of 4 worker "connections" owns a
 * table of 2000 live blocks (16..1024 bytes).  A worker replaces random
 * entries (free the old block, allocate a new one of a random size) for a
 * number of steps and then exits; the next round's threads are new, and each
 * takes over the table of another worker, so its first frees hit blocks a
 * thread that no longer exists allocated.  Fixed work (rounds x steps), so
 * the runner's process time stays the measure; the throughput is reported as
 * metric ops_per_s too.  Every block is checked against its tag before it is
 * freed.
 */
#include <stdlib.h>

#include "macro.h"

#define LARSON_THREADS 4
#define LARSON_SLOTS 2000
#define LARSON_ROUNDS 20

struct larson_table {
  void *p[LARSON_SLOTS];
  uint32_t tag[LARSON_SLOTS];
  uint64_t rng;
  long ops;
};

struct larson_arg {
  struct larson_table *t;
  long steps;
  uint32_t base;                       /* first tag this thread hands out */
};

static void *larson_thread(void *a) {
  struct larson_arg *arg = a;
  struct larson_table *t = arg->t;
  for (long i = 0; i < arg->steps; i++) {
    size_t k = (size_t)(tk_rand(&t->rng) % LARSON_SLOTS);
    obj_free(t->p[k], t->tag[k]);
    size_t sz = rng_range(&t->rng, OBJ_MIN, 1024);
    t->tag[k] = arg->base + (uint32_t)i;
    t->p[k] = xmalloc(sz);
    obj_fill(t->p[k], sz, t->tag[k]);
  }
  t->ops += arg->steps;
  return NULL;
}

void wl_larson(double scale) {
  static struct larson_table tab[LARSON_THREADS];
  long steps = scaled(scale, 250000, 2000);
  for (int w = 0; w < LARSON_THREADS; w++) {
    tab[w].rng = 0x1a450000u + (uint64_t)w;
    for (size_t k = 0; k < LARSON_SLOTS; k++) {
      size_t sz = rng_range(&tab[w].rng, OBJ_MIN, 1024);
      tab[w].tag[k] = (uint32_t)k;
      tab[w].p[k] = xmalloc(sz);
      obj_fill(tab[w].p[k], sz, (uint32_t)k);
    }
  }
  double t0 = now_s();
  for (int r = 0; r < LARSON_ROUNDS; r++) {
    struct larson_arg args[LARSON_THREADS];
    for (int w = 0; w < LARSON_THREADS; w++)   /* round r: thread w serves table (w + r) % T */
      args[w] = (struct larson_arg){&tab[(w + r) % LARSON_THREADS], steps,
                                    (uint32_t)(r + 1) * 0x01000000u + (uint32_t)w * 0x00400000u};
    start_threads(LARSON_THREADS, larson_thread, args, sizeof args[0]);
  }
  double dt = now_s() - t0;
  long ops = 0;
  for (int w = 0; w < LARSON_THREADS; w++) {
    for (size_t k = 0; k < LARSON_SLOTS; k++) {
      obj_free(tab[w].p[k], tab[w].tag[k]);
    }
    ops += tab[w].ops;
  }
  if (ops != steps * LARSON_ROUNDS * LARSON_THREADS)
    wrong("larson: %ld replacements done, %ld planned", ops, steps * LARSON_ROUNDS * LARSON_THREADS);
  metric("ops", (double)ops);
  metric("ops_per_s", dt > 0 ? (double)ops / dt : 0);
}
