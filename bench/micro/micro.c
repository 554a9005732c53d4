/*
 * micro.c - micro-benchmark workloads (see micro.h for the contract).
 *
 * The request sizes below are a benchmark's sample of the size range, not a
 * copy of any heap's size-class table: each heap rounds them its own way.
 */
#include "micro.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep the compiler from proving a block unused and removing the call. */
static inline void micro_escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

/* ---- cross-thread free: one single-producer/single-consumer ring per pair ---- */
#define RING_SLOTS 1024u                 /* power of two */
#define XBATCH 64u                       /* blocks handed over per call */
#define MAX_PAIRS 8
struct ring {
  _Alignas(64) _Atomic size_t head;      /* next slot to fill (producer) */
  _Alignas(64) _Atomic size_t tail;      /* next slot to drain (consumer) */
  _Alignas(64) void *slot[RING_SLOTS];
};
static struct ring rings[MAX_PAIRS];

struct micro_ctx {
  const struct micro_case *c;
  int thread, nthreads;
  void **batch;                          /* n pointers, for batch cases */
  struct ring *ring;                     /* cross-thread: this pair's ring */
  int producer;                          /* cross-thread: 1 producer, 0 consumer, -1 both */
};

static void one_malloc_free(struct micro_ctx *x) {
  char *p = malloc(x->c->size);
  p[0] = 1;
  micro_escape(p);
  free(p);
}

/* Allocate the batch; both orders of freeing start from it. */
static size_t batch_fill(struct micro_ctx *x) {
  size_t n = x->c->n, sz = x->c->size;
  for (size_t i = 0; i < n; i++) {
    char *p = malloc(sz);
    p[0] = (char)i;
    x->batch[i] = p;
  }
  micro_escape(x->batch);
  return n;
}

static void batch_fifo(struct micro_ctx *x) {
  size_t n = batch_fill(x);
  for (size_t i = 0; i < n; i++) free(x->batch[i]);
}

static void batch_lifo(struct micro_ctx *x) {
  size_t n = batch_fill(x);
  for (size_t i = n; i-- > 0;) free(x->batch[i]);
}

/* Grow one block from size to n bytes by ~1.5x steps, as a vector would. */
static void realloc_grow(struct micro_ctx *x) {
  char *p = NULL;
  for (size_t s = x->c->size; s <= x->c->n; s += s / 2) {
    p = realloc(p, s);
    p[s - 1] = 1;
  }
  micro_escape(p);
  free(p);
}

static void one_calloc_free(struct micro_ctx *x) {
  char *p = calloc(1, x->c->size);
  if (p[x->c->size - 1] != 0) abort();   /* calloc must zero */
  micro_escape(p);
  free(p);
}

static void one_aligned_free(struct micro_ctx *x) {
  void *p = NULL;
  if (posix_memalign(&p, x->c->align, x->c->size) != 0) abort();
  if ((uintptr_t)p & (x->c->align - 1)) abort();
  *(char *)p = 1;
  micro_escape(p);
  free(p);
}

static void ring_push(struct ring *r, void *p) {
  size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
  while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >= RING_SLOTS) sched_yield();
  r->slot[h & (RING_SLOTS - 1)] = p;
  atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static void *ring_pop(struct ring *r) {
  size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
  while (atomic_load_explicit(&r->head, memory_order_acquire) == t) sched_yield();
  void *p = r->slot[t & (RING_SLOTS - 1)];
  atomic_store_explicit(&r->tail, t + 1, memory_order_release);
  return p;
}

/* Producer allocates XBATCH blocks and hands them over; consumer frees them.
 * With one thread the same thread does both (the same-thread reference). */
static void cross_thread(struct micro_ctx *x) {
  if (x->producer != 0) {
    for (unsigned i = 0; i < XBATCH; i++) {
      char *p = malloc(x->c->size);
      p[0] = (char)i;
      ring_push(x->ring, p);
    }
  }
  if (x->producer != 1) {
    for (unsigned i = 0; i < XBATCH; i++) {
      char *p = ring_pop(x->ring);
      if (p[0] != (char)i) abort();      /* handed over intact and in order */
      free(p);
    }
  }
}

#define SIZES(X) X(16) X(32) X(64) X(128) X(256) X(512) X(1024) X(2048) \
                 X(4096) X(8192) X(32768) X(262144)
#define MF_ROW(s) {"malloc_free", one_malloc_free, s, 0, 0, 1},

const struct micro_case micro_cases[] = {
  SIZES(MF_ROW)
  {"batch_fifo", batch_fifo, 16, 1000, 0, 1000},
  {"batch_fifo", batch_fifo, 128, 1000, 0, 1000},
  {"batch_fifo", batch_fifo, 1024, 1000, 0, 1000},
  {"batch_lifo", batch_lifo, 16, 1000, 0, 1000},
  {"batch_lifo", batch_lifo, 128, 1000, 0, 1000},
  {"batch_lifo", batch_lifo, 1024, 1000, 0, 1000},
  {"realloc_grow", realloc_grow, 16, 65536, 0, 21},    /* 21 steps 16 -> 64K */
  {"calloc_free", one_calloc_free, 64, 0, 0, 1},
  {"calloc_free", one_calloc_free, 4096, 0, 0, 1},
  {"calloc_free", one_calloc_free, 1 << 20, 0, 0, 1},
  {"aligned_free", one_aligned_free, 100, 0, 64, 1},
  {"aligned_free", one_aligned_free, 1000, 0, 4096, 1},
  {"cross_thread", cross_thread, 64, 0, 0, XBATCH},
  {"cross_thread", cross_thread, 1024, 0, 0, XBATCH},
};
const int micro_ncases = (int)(sizeof micro_cases / sizeof micro_cases[0]);
const int micro_threads[] = {1, 2, 4};
const int micro_nthreads = (int)(sizeof micro_threads / sizeof micro_threads[0]);

struct micro_ctx *micro_ctx_new(const struct micro_case *c, int thread, int nthreads) {
  struct micro_ctx *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  x->c = c;
  x->thread = thread;
  x->nthreads = nthreads;
  x->producer = -1;
  if (c->fn == batch_fifo || c->fn == batch_lifo) {
    x->batch = calloc(c->n, sizeof *x->batch);
    if (!x->batch) { free(x); return NULL; }
  }
  if (c->fn == cross_thread) {
    if (nthreads / 2 > MAX_PAIRS) { free(x); return NULL; }
    x->ring = &rings[thread / 2];
    if (nthreads > 1) x->producer = (thread % 2 == 0);
  }
  return x;
}

void micro_ctx_free(struct micro_ctx *x) {
  if (!x) return;
  free(x->batch);
  free(x);
}

void micro_case_name(const struct micro_case *c, char *buf, size_t len) {
  if (c->align)
    snprintf(buf, len, "%s/%zu/align:%zu", c->family, c->size, c->align);
  else if (c->fn == realloc_grow)
    snprintf(buf, len, "%s/%zu-%zu", c->family, c->size, c->n);
  else if (c->n)
    snprintf(buf, len, "%s/%zu/n:%zu", c->family, c->size, c->n);
  else
    snprintf(buf, len, "%s/%zu", c->family, c->size);
}
