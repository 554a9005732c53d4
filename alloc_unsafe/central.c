/* central.c - per-class lists of spans with free blocks.
 *
 * Thread caches refill from here and flush back here in batches, so a lock
 * is taken once per `batch` blocks, never on a cache hit.  A block freed by
 * another thread than the one that allocated it simply lands in the freeing
 * thread's cache; the span it belongs to is found from its address.
 */
#include <pthread.h>

#include "internal.h"

typedef struct central {
  pthread_mutex_t mu;
  span_t *partial;       /* spans with a free or never-carved block */
  uint64_t nmalloc, nfree; /* counts of exited threads and uncached ops */
} __attribute__((aligned(64))) central_t;

static central_t g_central[NCLASSES];
static size_t g_out_bytes, g_out_peak; /* bytes out of spans and large blocks */

void central_init(void) {
  for (unsigned c = 0; c < NCLASSES; c++) pthread_mutex_init(&g_central[c].mu, NULL);
}
void central_lock_all(void) {
  for (unsigned c = 0; c < NCLASSES; c++) pthread_mutex_lock(&g_central[c].mu);
}
void central_unlock_all(void) {
  for (unsigned c = NCLASSES; c-- > 0;) pthread_mutex_unlock(&g_central[c].mu);
}

void out_bytes_add(ptrdiff_t delta) {
  size_t now = __atomic_add_fetch(&g_out_bytes, (size_t)delta, __ATOMIC_RELAXED);
  size_t peak = __atomic_load_n(&g_out_peak, __ATOMIC_RELAXED);
  while (now > peak && !__atomic_compare_exchange_n(&g_out_peak, &peak, now, true,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

static void list_push(central_t *c, span_t *s) {
  s->prev = NULL;
  s->next = c->partial;
  if (c->partial) c->partial->prev = s;
  c->partial = s;
  s->on_list = 1;
}

static void list_remove(central_t *c, span_t *s) {
  if (s->prev) s->prev->next = s->next;
  else c->partial = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
  s->on_list = 0;
}

uint32_t central_take(unsigned cls, uint32_t n, void **list) {
  central_t *c = &g_central[cls];
  const size_class_t *sc = &size_classes[cls];
  void *head = NULL;
  uint32_t got = 0;
  pthread_mutex_lock(&c->mu);
  while (got < n) {
    span_t *s = c->partial;
    uint32_t before = got;
    if (!s) {
      if (!(s = span_new(cls))) break;
      list_push(c, s);
    }
    while (got < n && s->free) { /* reuse freed blocks first: they are warm */
      void *b = s->free;
      s->free = blk_next(b);
      blk_set_next(b, head);
      head = b;
      got++;
    }
    uint32_t k = MIN(n - got, sc->nblocks - s->carved);
    if (k) { /* carve k fresh blocks, linked in address order */
      char *base = span_base(s) + (size_t)s->carved * sc->size;
      for (uint32_t j = k; j-- > 0;) {
        blk_set_next(base + (size_t)j * sc->size, head);
        head = base + (size_t)j * sc->size;
      }
      s->carved += k;
      DEBUG_ASSERT(s->carved <= sc->nblocks);
      got += k;
    }
    s->used += got - before;
    if (!s->free && s->carved == sc->nblocks) list_remove(c, s);
  }
  pthread_mutex_unlock(&c->mu);
  *list = head;
  if (got) out_bytes_add((ptrdiff_t)got * sc->size);
  return got;
}

void central_give(unsigned cls, void *list) {
  central_t *c = &g_central[cls];
  const size_class_t *sc = &size_classes[cls];
  size_t n = 0;
  pthread_mutex_lock(&c->mu);
  for (void *b = list, *next; b; b = next, n++) {
    next = blk_next(b);
    span_t *s = span_of(b);
    DEBUG_ASSERT(s->cls == cls && s->used > 0);
    blk_set_next(b, s->free);
    s->free = b;
    s->used--;
    if (!s->on_list) list_push(c, s);
    /* All blocks back: return the pages, unless it is the class's last span
     * with room (keeps alloc/free cycles at a span boundary from thrashing). */
    if (s->used == 0 && (c->partial != s || s->next)) {
      list_remove(c, s);
      span_release(s);
    }
  }
  pthread_mutex_unlock(&c->mu);
  out_bytes_add(-(ptrdiff_t)(n * sc->size));
}

void central_count(unsigned cls, uint64_t nmalloc, uint64_t nfree) {
  __atomic_add_fetch(&g_central[cls].nmalloc, nmalloc, __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_central[cls].nfree, nfree, __ATOMIC_RELAXED);
}

void central_stats(alloc_stats_t *s) {
  s->nclasses = NCLASSES;
  for (unsigned c = 0; c < NCLASSES; c++) {
    s->cls[c].size = size_classes[c].size;
    s->cls[c].allocs += __atomic_load_n(&g_central[c].nmalloc, __ATOMIC_RELAXED);
    s->cls[c].frees += __atomic_load_n(&g_central[c].nfree, __ATOMIC_RELAXED);
  }
  s->bytes_peak = __atomic_load_n(&g_out_peak, __ATOMIC_RELAXED);
}

/* Each partial list: spans of the right class, marked on the list, linked
 * both ways.  Caller holds every central lock. */
size_t central_validate(void) {
  size_t n = 0;
  for (unsigned c = 0; c < NCLASSES; c++)
    for (span_t *s = g_central[c].partial, *prev = NULL; s; prev = s, s = s->next, n++)
      if (s->cls != c || !s->on_list || s->prev != prev || s->back != 0)
        alloc_fatal("validate: partial list", s);
  return n;
}
