/* common.c - helpers shared by the macro workloads; see macro.h. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

#define PAGE 4096u

size_t rng_logsize(uint64_t *s, size_t lo, size_t hi) {
  double u = (double)(tk_rand(s) >> 11) / 9007199254740992.0;   /* [0,1) */
  double v = exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));
  size_t n = (size_t)v;
  return n < lo ? lo : n > hi ? hi : n;
}

size_t size_mix(uint64_t *s) {
  unsigned r = (unsigned)(tk_rand(s) % 100);
  if (r < 70) return rng_range(s, 16, 128);
  if (r < 95) return rng_range(s, 129, 4096);
  return rng_range(s, 4097, 65536);
}

long scaled(double scale, long full, long min) {
  long n = (long)((double)full * scale);
  return n < min ? min : n;
}

/* Layout of a stamped block:  [size:u32][tag:u32] ... one byte per page ... [tag&0xff]
 * Page bytes sit at offsets k*PAGE for k >= 1 (below size-1). */
void obj_fill(void *p, size_t size, uint32_t tag) {
  unsigned char *b = p;
  uint32_t sz32 = (uint32_t)size;
  memcpy(b, &sz32, 4);
  memcpy(b + 4, &tag, 4);
  for (size_t o = PAGE; o < size - 1; o += PAGE) b[o] = (unsigned char)(tag + o / PAGE);
  b[size - 1] = (unsigned char)tag;
}

size_t obj_check(const void *p, uint32_t *tag_out) {
  const unsigned char *b = p;
  uint32_t sz32, tag;
  memcpy(&sz32, b, 4);
  memcpy(&tag, b + 4, 4);
  if (sz32 < OBJ_MIN) wrong("block %p: header size %u is corrupt", p, sz32);
  for (size_t o = PAGE; o < sz32 - 1; o += PAGE)
    if (b[o] != (unsigned char)(tag + o / PAGE)) wrong("block %p: page byte at +%zu overwritten", p, o);
  if (b[sz32 - 1] != (unsigned char)tag) wrong("block %p: last byte of %u overwritten", p, sz32);
  if (tag_out) *tag_out = tag;
  return sz32;
}

size_t obj_expect(const void *p, uint32_t tag) {
  uint32_t got;
  size_t n = obj_check(p, &got);
  if (got != tag) wrong("block %p: tag %u, its owner wrote %u (handed out twice?)", p, got, tag);
  return n;
}

void obj_free(void *p, uint32_t tag) {
  obj_expect(p, tag);
  free(p);
}

double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void metric(const char *key, double value) {
  printf("metric %s %.6g\n", key, value);
  fflush(stdout);
}

void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) wrong("malloc(%zu) returned NULL", n);
  return p;
}

void start_threads(int n, void *(*fn)(void *), void *args, size_t argsize) {
  pthread_t tid[64];
  if (n > 64) wrong("too many threads");
  for (int i = 0; i < n; i++)
    if (pthread_create(&tid[i], NULL, fn, (char *)args + (size_t)i * argsize) != 0)
      wrong("pthread_create failed");
  for (int i = 0; i < n; i++) pthread_join(tid[i], NULL);
}

void wrong(const char *fmt, ...) {
  va_list ap;
  fputs("WRONG: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(NULL);
  _exit(MACRO_EXIT_WRONG);
}
