/*
 * micro.h - the micro-benchmark workloads, written in C.
 *
 * Each case is one C function that does one unit of work on a per-thread
 * context; bench/micro/driver.cc registers every row of micro_cases[] with
 * Google Benchmark once per thread count in micro_threads[] and calls the
 * function in the timed loop.  The same binary runs under every allocator
 * (the allocator comes in through LD_PRELOAD, never by linking).
 *
 * Contract of a case function: it performs micro_case.items operations of
 * the kind the case names (an "operation" is one allocation and its free),
 * leaves no block live between calls, and never lets the compiler elide an
 * allocation (every block is written and escapes through micro_escape).
 */
#ifndef BENCH_MICRO_H
#define BENCH_MICRO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct micro_ctx;
typedef void (*micro_fn)(struct micro_ctx *ctx);

struct micro_case {
  const char *family;   /* malloc_free, batch_fifo, ... */
  micro_fn fn;
  size_t size;          /* request size (bytes) */
  size_t n;             /* batch length, or growth limit; 0 if unused */
  size_t align;         /* alignment for aligned cases; 0 if unused */
  long items;           /* operations per call, for items_per_second */
};

extern const struct micro_case micro_cases[];
extern const int micro_ncases;
extern const int micro_threads[];
extern const int micro_nthreads;

/* Per-thread state: created before the timed loop, destroyed after it.
 * thread is this thread's index in [0, nthreads). Returns NULL on failure. */
struct micro_ctx *micro_ctx_new(const struct micro_case *c, int thread, int nthreads);
void micro_ctx_free(struct micro_ctx *ctx);

/* Formats "family/size[/n]" (the benchmark name without the thread suffix). */
void micro_case_name(const struct micro_case *c, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
