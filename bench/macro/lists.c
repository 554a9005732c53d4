/*
 * lists.c - many small objects: 64 linked lists grown together, so nodes of
 * different lists interleave in allocation order.  Each node carries a
 * payload of 8..96 bytes.  The lists are walked and summed, every second
 * node is unlinked and freed, as many nodes again are appended, the lists
 * are walked again, and everything is freed.  Sums are checked each time.
 */
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define NLISTS 64

struct item {
  struct item *next;
  uint32_t len;
  unsigned char data[];
};

struct list {
  struct item *head, *tail;
  uint64_t sum;                         /* expected sum of payload bytes */
};

static void append(struct list *l, uint64_t *rng) {
  uint32_t len = (uint32_t)rng_range(rng, 8, 96);
  struct item *it = xmalloc(sizeof *it + len);
  it->next = NULL;
  it->len = len;
  memset(it->data, (int)(len & 0xff), len);
  l->sum += (uint64_t)len * len;
  if (l->tail) l->tail->next = it; else l->head = it;
  l->tail = it;
}

static void walk(struct list *ls) {
  for (int k = 0; k < NLISTS; k++) {
    uint64_t s = 0;
    for (struct item *it = ls[k].head; it; it = it->next) {
      if (it->data[it->len - 1] != it->data[0]) wrong("lists: payload of a node overwritten");
      s += (uint64_t)it->data[0] * it->len;
    }
    if (s != ls[k].sum) wrong("lists: list %d sums to %llu, expected %llu", k,
                              (unsigned long long)s, (unsigned long long)ls[k].sum);
  }
}

static void drop_every_second(struct list *l) {
  struct item *prev = NULL;
  int odd = 0;
  for (struct item *it = l->head, *next; it; it = next) {
    next = it->next;
    if (odd) {
      prev->next = next;
      if (l->tail == it) l->tail = prev;
      l->sum -= (uint64_t)it->len * it->len;
      free(it);
    } else {
      prev = it;
    }
    odd = !odd;
  }
}

void wl_lists(double scale) {
  struct list ls[NLISTS] = {{0}};
  uint64_t rng = 0x1157;
  long n = scaled(scale, 1000000, 10000);
  for (int pass = 0; pass < 2; pass++) {
    for (long i = 0; i < n; i++) append(&ls[tk_rand(&rng) % NLISTS], &rng);
    walk(ls);
    for (int k = 0; k < NLISTS; k++) drop_every_second(&ls[k]);
    walk(ls);
  }
  for (int k = 0; k < NLISTS; k++)
    for (struct item *it = ls[k].head, *next; it; it = next) {
      next = it->next;
      free(it);
    }
  metric("nodes", 2.0 * (double)n);
}
