/*
 * cfrac.c - cfrac/espresso-like: one thread, many short-lived small
 * objects.  A pool of 64 multi-limb numbers (2..12 limbs of 32 bits, 16..56
 * bytes) is combined over and over: each step multiplies or adds two of
 * them into a new number through a temporary carry buffer (allocated and
 * freed at once), truncated to a random length, and the new number replaces
 * a random pool entry, whose block dies young.  Checked: every number's low
 * 64 bits against a shadow value computed in plain uint64 arithmetic (which
 * is what truncation modulo 2^32L keeps), so a block that another
 * allocation overwrote gives a wrong answer.
 */
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define NUM_POOL 64
#define LIMBS_MIN 2
#define LIMBS_MAX 12

struct num {
  uint32_t n;                          /* limbs */
  uint32_t limb[];
};

static struct num *num_new(uint32_t n) {
  struct num *x = xmalloc(sizeof *x + n * sizeof x->limb[0]);
  x->n = n;
  return x;
}

static uint64_t low64(const struct num *x) {
  return (uint64_t)x->limb[0] | (uint64_t)x->limb[1] << 32;
}

/* a*b or a+b truncated to n limbs; the work buffer is a short-lived object. */
static struct num *num_op(const struct num *a, const struct num *b, uint32_t n, int mul) {
  uint32_t w = a->n + b->n + 1;
  uint64_t *acc = xmalloc(w * sizeof *acc);
  memset(acc, 0, w * sizeof *acc);
  if (mul) {
    for (uint32_t i = 0; i < a->n && i < n; i++) {
      uint64_t carry = 0;
      for (uint32_t j = 0; j < b->n && i + j < n; j++) {
        uint64_t t = (uint64_t)a->limb[i] * b->limb[j] + (uint32_t)acc[i + j] + carry;
        acc[i + j] = (uint32_t)t;
        carry = t >> 32;
      }
      if (i + b->n < w) acc[i + b->n] += carry;
    }
  } else {
    uint64_t carry = 0;
    for (uint32_t i = 0; i < w; i++) {
      uint64_t t = (i < a->n ? a->limb[i] : 0) + (uint64_t)(i < b->n ? b->limb[i] : 0) + carry;
      acc[i] = (uint32_t)t;
      carry = t >> 32;
    }
  }
  struct num *r = num_new(n);
  for (uint32_t i = 0; i < n; i++) r->limb[i] = i < w ? (uint32_t)acc[i] : 0;
  free(acc);
  return r;
}

void wl_cfrac(double scale) {
  struct num *pool[NUM_POOL];
  uint64_t shadow[NUM_POOL];
  uint64_t rng = 0xcf4ac;
  for (int i = 0; i < NUM_POOL; i++) {
    pool[i] = num_new(LIMBS_MIN);
    pool[i]->limb[0] = (uint32_t)tk_rand(&rng) | 1;
    pool[i]->limb[1] = (uint32_t)tk_rand(&rng);
    shadow[i] = low64(pool[i]);
  }
  long steps = scaled(scale, 7500000, 20000);
  uint64_t sum = 0;
  for (long s = 0; s < steps; s++) {
    int i = (int)(tk_rand(&rng) % NUM_POOL), j = (int)(tk_rand(&rng) % NUM_POOL);
    int k = (int)(tk_rand(&rng) % NUM_POOL), mul = (int)(tk_rand(&rng) & 1);
    uint32_t n = (uint32_t)rng_range(&rng, LIMBS_MIN, LIMBS_MAX);
    struct num *r = num_op(pool[i], pool[j], n, mul);
    uint64_t want = mul ? shadow[i] * shadow[j] : shadow[i] + shadow[j];
    if (low64(r) != want) wrong("cfrac: step %ld: low 64 bits %llx, expected %llx", s,
                                (unsigned long long)low64(r), (unsigned long long)want);
    r->limb[0] |= 1;                   /* odd numbers: products never collapse to 0 */
    want |= 1;
    free(pool[k]);
    pool[k] = r;
    shadow[k] = want;
    sum += want;
  }
  for (int i = 0; i < NUM_POOL; i++) {
    if (low64(pool[i]) != shadow[i]) wrong("cfrac: pool entry %d changed after it was made", i);
    free(pool[i]);
  }
  metric("steps", (double)steps);
  metric("checksum_low", (double)(sum & 0xffff));
}
