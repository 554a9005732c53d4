/*
 * macro.h - what every macro workload shares.
 *
 * One binary, build/bench/macro, runs one workload per process:
 *     macro <workload> <scale>
 * scale 1.0 is the full-size run; the runner passes a smaller one for QUICK
 * and smoke runs.  The runner times the process; a workload that idles on
 * purpose reports "metric time_s <seconds>" without the idle time, and that
 * replaces the process time.  A workload prints "metric <key> <value>" lines on stdout,
 * checks its own results, and on a wrong result prints one "WRONG: ..." line
 * on stderr and exits with status 3 (MACRO_EXIT_WRONG) so the runner records
 * a wrong answer, not a time.
 *
 * Objects: obj_fill() stamps a block with its size and a tag (header, last
 * byte, one byte per page); obj_check() verifies the stamp and returns the
 * size.  Every block a workload frees is checked first, so a heap that hands
 * out overlapping or corrupted memory is caught where it happens.
 */
#ifndef BENCH_MACRO_H
#define BENCH_MACRO_H

#include <stddef.h>
#include <stdint.h>

#include "testkit.h" /* tk_rand, tk_rss_kib, tk_peak_rss_kib: the harnesses' one of each */

#define MACRO_EXIT_WRONG 3
#define OBJ_MIN 16                      /* smallest block obj_fill can stamp */

struct macro_workload {
  const char *name;
  void (*run)(double scale);
};
/* The dispatch table (macro/main.c): name -> function. */
extern const struct macro_workload macro_workloads[];

/* ---- the workloads (one file each) ---- */
void wl_churn(double scale);
void wl_prodcons(double scale);
void wl_fshare_active(double scale);
void wl_fshare_passive(double scale);
void wl_frag(double scale);
void wl_trees(double scale);
void wl_lists(double scale);
void wl_large(double scale);
void wl_strbuild(double scale);
void wl_larson(double scale);
void wl_cfrac(double scale);
void wl_xchain(double scale);
void wl_shbench(double scale);
void wl_gbench_1(double scale);
void wl_gbench_n(double scale);
void wl_mstress(double scale);
void wl_rptest(double scale);
void wl_bigloop(double scale);

/* ---- helpers (macro/common.c) ---- */
/* Uniform in [lo, hi]. */
static inline size_t rng_range(uint64_t *s, size_t lo, size_t hi) {
  return lo + (size_t)(tk_rand(s) % (hi - lo + 1));
}
size_t rng_logsize(uint64_t *s, size_t lo, size_t hi);   /* log-uniform in [lo, hi] */
size_t size_mix(uint64_t *s);            /* server-like: mostly small, few large */
long scaled(double scale, long full, long min);          /* max(min, full*scale) */

void obj_fill(void *p, size_t size, uint32_t tag);       /* size >= OBJ_MIN */
size_t obj_check(const void *p, uint32_t *tag_out);      /* WRONG on mismatch */
/* obj_check, and the block must still carry the tag its owner gave it: a
 * block handed out twice while live is caught by whichever owner wrote second. */
size_t obj_expect(const void *p, uint32_t tag);
void obj_free(void *p, uint32_t tag);     /* obj_expect, then free */

double now_s(void);
void metric(const char *key, double value);
void *xmalloc(size_t n);                 /* malloc, WRONG on NULL */
void start_threads(int n, void *(*fn)(void *), void *args, size_t argsize);
__attribute__((noreturn, format(printf, 1, 2))) void wrong(const char *fmt, ...);

#endif
