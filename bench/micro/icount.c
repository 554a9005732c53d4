/*
 * icount.c - instruction counts of the allocation fast path, for callgrind.
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --soname-synonyms=somalloc=nouserintercepts  build/bench/icount N
 *
 * Each scenario warms up (so lazy initialisation and first-touch refills are
 * not counted), then runs N operations between CALLGRIND_ZERO_STATS and
 * CALLGRIND_DUMP_STATS_AT("<scenario>"); the runner divides each dump's
 * instruction total by N.  Outside valgrind the client requests are no-ops,
 * so the program also runs (and checks itself) natively.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

static inline void escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

static void pair32(long n) {
  for (long i = 0; i < n; i++) {
    char *p = malloc(32);
    p[0] = 1;
    escape(p);
    free(p);
  }
}

/* Sizes cycle through 16..1024 so every small size class path is taken. */
static void pair_mixed(long n) {
  static const size_t sz[8] = {16, 24, 48, 64, 100, 200, 512, 1024};
  for (long i = 0; i < n; i++) {
    char *p = malloc(sz[i & 7]);
    p[0] = 1;
    escape(p);
    free(p);
  }
}

/* Allocate 100 then free 100: the free-list push/pop path without reuse of the
 * same block every time. Counted per allocation (one malloc + one free). */
static void batch100(long n) {
  void *b[100];
  for (long i = 0; i < n; i += 100) {
    for (int j = 0; j < 100; j++) {
      b[j] = malloc(48);
      ((char *)b[j])[0] = 1;
    }
    escape(b);
    for (int j = 0; j < 100; j++) free(b[j]);
  }
}

static void calloc256(long n) {
  for (long i = 0; i < n; i++) {
    char *p = calloc(1, 256);
    if (p[255]) abort();
    escape(p);
    free(p);
  }
}

static void realloc_step(long n) {
  char *p = malloc(16);
  for (long i = 0; i < n; i++) {
    size_t s = 16 + (size_t)(i % 2000);
    p = realloc(p, s);
    p[s - 1] = 1;
  }
  escape(p);
  free(p);
}

static const struct {
  const char *name;
  void (*fn)(long n);
} scenarios[] = {
  {"malloc_free_32", pair32},
  {"malloc_free_mixed", pair_mixed},
  {"batch100_48", batch100},
  {"calloc_free_256", calloc256},
  {"realloc_step", realloc_step},
};

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  if (n < 100) n = 100;
  n -= n % 100;
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    scenarios[i].fn(n / 10 + 100);             /* warm up */
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    scenarios[i].fn(n);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(scenarios[i].name);
    printf("scenario %s %ld\n", scenarios[i].name, n);
  }
  return 0;
}
