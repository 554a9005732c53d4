/*
 * frag.c - fragmentation over a long run: how much memory comes back after
 * each peak.
 *
 * Four rounds, each with its own size band.  A round allocates blocks until
 * TARGET bytes are requested (the peak), then frees about 90% of them:
 * blocks are allocated in groups of 32, and a group survives whole with
 * probability 8% (things allocated together die together), while 0.2% of
 * the other blocks survive alone, scattered through the memory the round
 * used.  Survivors accumulate across rounds, as caches and sessions do in a
 * long-running server.  After each round's frees the workload idles for a
 * moment, does a little unrelated work (allocators that purge on activity
 * or after a delay get their chance), and reads its resident size:
 *   returned_pct = 100 * (rss_at_peak - rss_after) / (rss_at_peak - rss_before_round)
 * the share of the round's growth that went back to the OS.  The median
 * over the rounds is reported, with the bytes the survivors hold, the
 * resident size holding them, and the share of the peak returned once
 * everything is freed.
 */
#include <stdlib.h>
#include <time.h>

#include "macro.h"

static const struct { size_t lo, hi; } bands[] = {
  {16, 256}, {256, 4096}, {16, 4096}, {4096, 65536},
};
#define ROUNDS (int)(sizeof bands / sizeof bands[0])

struct live {
  void **p;
  size_t n, cap;
};

static void push(struct live *l, void *p) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 1024;
    l->p = realloc(l->p, l->cap * sizeof *l->p);
    if (!l->p) wrong("realloc of the survivor table failed");
  }
  l->p[l->n++] = p;
}

/* Idle 100 ms, then a little unrelated work, then idle again: what an
 * allocator gives back on a timer or on its next calls has had its chance.
 * The idle time is not the allocator's: it is left out of time_s. */
static double idle_s;

static void idle_100ms(void) {
  struct timespec ms100 = {0, 100 * 1000 * 1000};
  double t = now_s();
  nanosleep(&ms100, NULL);
  idle_s += now_s() - t;
}

static void settle(void) {
  idle_100ms();
  for (int i = 0; i < 2000; i++) {
    void *p = xmalloc(64 + (size_t)(i % 512));
    obj_fill(p, 64 + (size_t)(i % 512), (uint32_t)i);
    obj_check(p, NULL);
    free(p);
  }
  idle_100ms();
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void wl_frag(double scale) {
  double t0 = now_s();
  size_t target = (size_t)scaled(scale, 160L << 20, 4L << 20);
  uint64_t rng = 0xf4a9;
  struct live survivors = {0}, round = {0};
  double returned[ROUNDS], live = 0;
  for (int r = 0; r < ROUNDS; r++) {
    long before = tk_rss_kib();
    size_t bytes = 0;
    round.n = 0;
    while (bytes < target) {
      size_t sz = rng_range(&rng, bands[r].lo, bands[r].hi);
      void *p = xmalloc(sz);
      obj_fill(p, sz, (uint32_t)round.n);
      push(&round, p);
      bytes += sz;
    }
    long peak = tk_rss_kib();
    int group_lives = 0;
    for (size_t i = 0; i < round.n; i++) {
      if (i % 32 == 0) group_lives = tk_rand(&rng) % 100 < 8;
      if (group_lives || tk_rand(&rng) % 1000 < 2) {
        push(&survivors, round.p[i]);
        live += obj_expect(round.p[i], (uint32_t)i);
      } else {
        obj_free(round.p[i], (uint32_t)i);
      }
    }
    settle();
    long after = tk_rss_kib();
    double grow = (double)(peak - before);
    returned[r] = grow > 0 ? 100.0 * (double)(peak - after) / grow : 0.0;
  }
  settle();
  long held = tk_rss_kib();
  for (size_t i = 0; i < survivors.n; i++) {
    obj_check(survivors.p[i], NULL);
    free(survivors.p[i]);
  }
  free(survivors.p);
  free(round.p);
  settle();
  qsort(returned, ROUNDS, sizeof returned[0], cmp_double);
  metric("returned_pct", (returned[ROUNDS / 2 - 1] + returned[ROUNDS / 2]) / 2);
  long end = tk_rss_kib(), peak = tk_peak_rss_kib();
  metric("live_kb", live / 1024);
  metric("rss_with_survivors_kb", (double)held);
  metric("rss_end_kb", (double)end);
  metric("time_s", now_s() - t0 - idle_s);
  metric("returned_end_pct", peak > 0 ? 100.0 * (double)(peak - end) / (double)peak : 0.0);
}
