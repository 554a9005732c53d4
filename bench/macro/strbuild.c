/*
 * strbuild.c - realloc-heavy string building, the way naive code grows a
 * string: 64 strings are built at once, each by appending pieces of 1..32
 * bytes with a realloc to the exact new length every time, until it reaches
 * its target length (64 bytes to 64 KiB, log-uniform).  A finished string
 * is hashed and compared with the hash of the pieces that went in, then
 * freed and replaced by a new one.
 */
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define NSTR 64

struct sb {
  char *s;
  size_t len, target;
  uint64_t hash;                        /* FNV-1a of the pieces appended */
};

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
  return h;
}
#define FNV0 0xcbf29ce484222325ull

static void start(struct sb *b, uint64_t *rng) {
  b->s = NULL;
  b->len = 0;
  b->target = rng_logsize(rng, 64, 65536);
  b->hash = FNV0;
}

static void finish(struct sb *b) {
  if (strlen(b->s) != b->len) wrong("strbuild: length %zu, expected %zu", strlen(b->s), b->len);
  if (fnv(FNV0, b->s, b->len) != b->hash) wrong("strbuild: contents of a %zu-byte string changed", b->len);
  free(b->s);
}

void wl_strbuild(double scale) {
  struct sb b[NSTR];
  uint64_t rng = 0x57b;
  long appends = scaled(scale, 6000000, 50000), done = 0;
  char piece[33];
  for (int k = 0; k < NSTR; k++) start(&b[k], &rng);
  for (long i = 0; i < appends; i++) {
    struct sb *x = &b[tk_rand(&rng) % NSTR];
    size_t n = rng_range(&rng, 1, 32);
    uint64_t bits = tk_rand(&rng);
    for (size_t j = 0; j < n; j++) piece[j] = (char)('a' + (bits >> (j % 16 * 4)) % 16 + (char)j % 8);
    char *s = realloc(x->s, x->len + n + 1);
    if (!s) wrong("realloc(%zu) returned NULL", x->len + n + 1);
    memcpy(s + x->len, piece, n);
    x->len += n;
    s[x->len] = '\0';
    x->s = s;
    x->hash = fnv(x->hash, piece, n);
    if (x->len >= x->target) {
      finish(x);
      start(x, &rng);
      done++;
    }
  }
  for (int k = 0; k < NSTR; k++)
    if (b[k].s) finish(&b[k]);
  metric("strings", (double)done);
}
