/* theap.c - thread heaps: every thread allocates from spans it owns.
 *
 * A thread heap keeps, per size class, the spans it owns on two lists:
 * avail (had a free block when last looked at; the head is cur[], where
 * malloc pops) and full (had none; OWNER_FULL is set in their owner word).
 *
 *   malloc  pops cur[c]->free (heap_fast.h).  When that list runs dry the
 *           slow path takes, in turn: the span's local_free, its xfree (one
 *           exchange), fresh blocks carved from its uncarved tail; failing
 *           all three the span moves to the full list and the next avail
 *           span becomes cur.  With avail empty it looks at a few full spans
 *           for frees by other threads, and only then takes a new span.
 *   free    by the owner: onto the span's local_free (heap_fast.h); a span
 *           on the full list moves back to avail (slow path).  By any other
 *           thread: onto the span's xfree with a CAS.  A block therefore goes
 *           home to its owner and is never reused by the thread that freed
 *           it, so two threads never share a span's cache lines (no passive
 *           false sharing) and no lock is taken on any free.
 *   empty   a span with no block out goes back to its segment at once,
 *           except the class's current span (so a malloc/free cycle does not
 *           take and give spans each time); collection gives that one back
 *           too once another span is current, or at thread exit and trim.
 *
 * Thread exit (a pthread key destructor) collects the heap, gives back its
 * empty spans and puts it on the retired list, spans and counters and all;
 * the next new thread takes it over.  Until then the decay pass (below)
 * collects retired heaps under the registry lock, so memory other threads
 * free into them still goes back.  Allocations after exit in the same thread
 * (later destructors) use the shared heap.
 *
 * The shared heap, under a mutex, serves every thread when caches are off
 * (ALLOC_TCACHE=off) and under valgrind, through the slow paths alone, which
 * tell memcheck about every in-band access (the fast paths do not).
 *
 * A thread that first allocates during the last round of thread-specific
 * data destructors gets no destructor call; its heap carries a thread_life_t
 * (lifecycle.h), and the decay pass retires a live heap whose thread is gone.
 *
 * Collection takes xfree lists, moves full spans that regained blocks back to
 * avail and gives back empty spans.  Each thread collects its own heap on a
 * slow path once per decay period (theap_tick); once per period some thread
 * collects the idle heaps (maintain.c's decay pass, theaps_collect_idle);
 * malloc_trim collects all it can.  Another thread gives back a live heap's
 * spans whose every block came home (theap_reclaim), except its current ones.
 */
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "heap.h"
#include "internal.h"
#include "lifecycle.h"
#include "options.h"

#define CUR_NONE {[0 ... NCLASSES - 1] = &span_none}
#define FULL_LOOK 8 /* full spans looked at before a new span is taken */

span_t span_none; /* never has a free block; owned by nobody */
theap_t theap_empty = {.cur = CUR_NONE, .state = THEAP_NONE};
theap_t theap_none = {.cur = CUR_NONE, .state = THEAP_NONE};
__thread theap_t *tls_heap = &theap_empty;
__thread unsigned tls_remote_frees;

static theap_t g_shared = {
    .cur = CUR_NONE, .state = THEAP_SHARED, .mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static list_t g_live, g_retired, g_orphans; /* registry (theap_t.link) */
static char *g_meta_cur, *g_meta_end; /* bump space for theap_t */
uint64_t g_nfree_heapless[NCLASSES]; /* frees by threads without a heap */

#define SPAN_OF(node) LIST_ENTRY_OR_NULL(node, span_t, link)
#define THEAP_OF(node) LIST_ENTRY_OR_NULL(node, theap_t, link)

void heap_setup(void) {
  size_classes_init();
  if (POLICY_SEAL_MAP) os_map_seal();
}

/* ---- a heap's span lists (owner only) -------------------------------------- */
static list_t *list_of(theap_t *h, const span_t *s) {
  return s->list == SPAN_FULL ? &h->full[s->cls] : &h->avail[s->cls];
}

/* Written only when it changes: the owner's fast paths read cur[] without a
 * lock while another thread may be unlisting one of its other spans. */
static void cur_update(theap_t *h, unsigned c) {
  span_t *head = SPAN_OF(h->avail[c].head), *want = head ? head : &span_none;
  if (h->cur[c] != want) h->cur[c] = want;
}

/* cur[] changes with the avail list only: a full-list change by another
 * thread (theap_reclaim) must not write what the owner's fast path reads. */
static void span_unlist(theap_t *h, span_t *s) {
  list_unlink(list_of(h, s), &s->link);
  if (s->list == SPAN_AVAIL) cur_update(h, s->cls);
  s->list = SPAN_UNLISTED;
}

/* Put s on h's list `which` (front or back), keeping OWNER_FULL and cur[] in
 * step with it. */
static void span_move(theap_t *h, span_t *s, int which, bool front) {
  if (s->list != SPAN_UNLISTED) span_unlist(h, s);
  s->list = (uint8_t)which;
  if (front) list_push_front(list_of(h, s), &s->link);
  else list_push_back(list_of(h, s), &s->link);
  __atomic_store_n(&s->owner, (uintptr_t)h | (which == SPAN_FULL ? OWNER_FULL : 0),
                   __ATOMIC_RELAXED);
  if (which == SPAN_AVAIL) cur_update(h, s->cls);
}

/* ---- a span's blocks (owner only, except span_push_remote) ------------------ */
/* Take the blocks other threads freed (one exchange) onto s->free. */
static void span_collect(span_t *s) {
  if (!__atomic_load_n(&s->xfree, __ATOMIC_RELAXED)) return;
  void *list = __atomic_exchange_n(&s->xfree, NULL, __ATOMIC_ACQUIRE);
  uint32_t k = 1;
  void *tail = list;
  pol_collect(s, tail);
  for (void *n; (n = blk_next(s, tail)) != NULL; tail = n) {
    k++;
    pol_collect(s, n);
  }
  blk_set_next(tail, s->free);
  s->free = list;
  DEBUG_ASSERT(s->used >= k);
  s->used = (uint16_t)(s->used - k);
}

/* Link up to `carve` fresh blocks, in address order, in front of s->free. */
static void span_carve(span_t *s) {
  const size_class_t *sc = &size_classes[s->cls];
  uint32_t k = MIN(sc->carve, sc->nblocks - s->carved);
  char *base = span_base(s) + (size_t)s->carved * sc->size;
  void *head = s->free;
  for (uint32_t j = k; j-- > 0;) {
    blk_set_next(base + (size_t)j * sc->size, head);
    head = base + (size_t)j * sc->size;
  }
  s->free = head;
  s->carved = (uint16_t)(s->carved + k);
}

/* Gather blocks onto s->free, freed ones first (they are warm), fresh ones
 * only when there are none; false when s has none left at all. */
static bool span_refill(span_t *s) {
  if (!s->free && POLICY_REUSE_DELAY && s->local_free) {
    void *last = s->local_free; /* freed last: stays behind until another is */
    s->free = blk_next(s, last);
    blk_set_next(last, NULL);
  } else if (!s->free) {
    s->free = s->local_free;
    s->local_free = NULL;
  }
  span_collect(s);
  if (!s->free && s->carved < size_classes[s->cls].nblocks) span_carve(s);
  return s->free != NULL;
}

static COLD void span_push_remote_vg(span_t *s, void *p) {
  void *head = __atomic_load_n(&s->xfree, __ATOMIC_RELAXED);
  do blk_set_next(p, head); /* memcheck is told before p is published */
  while (!__atomic_compare_exchange_n(&s->xfree, &head, p, true, __ATOMIC_RELEASE,
                                      __ATOMIC_RELAXED));
}
/* Every free by a thread that does not own the span: no call and no saved
 * register on the way (the memcheck hooks have a copy of their own). */
static ALWAYS_INLINE void span_push_remote(span_t *s, void *p) {
  if (unlikely(vg_on)) return span_push_remote_vg(s, p);
  span_push_remote_fast(s, p);
}

/* s has no block out: give it back, unless it is the class's current span.
 * Caller holds h->mu. */
static void span_emptied(theap_t *h, span_t *s, bool keep_cur) {
  if (keep_cur && s == h->cur[s->cls]) return;
  span_unlist(h, s);
  span_release(s);
}

/* Under the heap's lock: another thread may be giving back h's spans
 * (theap_reclaim) and so changing the lists this unlinks from.  By the time
 * the lock is ours, that thread may have given s back already, and s may
 * even be another heap's span by now: only a span still ours is touched. */
void theap_span_empty(theap_t *h, span_t *s) {
  pthread_mutex_lock(&h->mu);
  if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == (uintptr_t)h && s->used == 0 &&
      s->list == SPAN_AVAIL)
    span_emptied(h, s, true);
  pthread_mutex_unlock(&h->mu);
}

/* ---- allocation and free within one heap (its owner, or under a lock) ------ */
/* Look at up to FULL_LOOK full spans, oldest first, for blocks other threads
 * freed; a span looked at in vain goes to the back. */
static bool full_look(theap_t *h, unsigned c) {
  for (int i = 0; i < FULL_LOOK && h->full[c].head; i++) {
    span_t *s = SPAN_OF(h->full[c].head);
    if (__atomic_load_n(&s->xfree, __ATOMIC_RELAXED)) {
      span_collect(s);
      span_move(h, s, SPAN_AVAIL, false);
      return true;
    }
    if (&s->link == h->full[c].tail) break;
    span_move(h, s, SPAN_FULL, false);
  }
  return false;
}

/* Take over an avail span of class c from a retired heap, whose free blocks
 * would otherwise wait for a new thread.  Only the owner word changes hands:
 * other threads compare it with their own heap, never with these two. */
static span_t *adopt_retired(theap_t *h, unsigned c) {
  if (h == &g_shared || !__atomic_load_n(&g_retired.head, __ATOMIC_RELAXED)) return NULL;
  if (pthread_mutex_trylock(&g_reg_mu)) return NULL;
  span_t *s = NULL;
  for (theap_t *r = THEAP_OF(g_retired.head); r && !s; r = THEAP_OF(r->link.next))
    if ((s = SPAN_OF(r->avail[c].head)) != NULL) {
      span_unlist(r, s);
      span_move(h, s, SPAN_AVAIL, true); /* under the lock: validate sees it listed */
    }
  pthread_mutex_unlock(&g_reg_mu);
  return s;
}

static void *heap_alloc(theap_t *h, unsigned c) {
  void *p = NULL;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    span_t *s = h->cur[c];
    if (s != &span_none) {
      if (span_refill(s)) {
        p = s->free;
        s->free = blk_next(s, p);
        s->used++;
        h->nmalloc[c]++;
        pol_small_alloc(s, p);
        break;
      }
      span_move(h, s, SPAN_FULL, false);
    } else if (!full_look(h, c) && !adopt_retired(h, c)) {
      if (!(s = span_new(c, (uintptr_t)h))) break;
      span_move(h, s, SPAN_AVAIL, true);
    }
  }
  pthread_mutex_unlock(&h->mu);
  return p;
}

static void heap_free_local(theap_t *h, span_t *s, void *p) {
  pthread_mutex_lock(&h->mu);
  pol_small_free(s, p, POL_FREE);
  blk_set_next(p, s->local_free);
  s->local_free = p;
  h->nfree[s->cls]++;
  if (s->list == SPAN_FULL) span_move(h, s, SPAN_AVAIL, false);
  if (--s->used == 0) span_emptied(h, s, true);
  pthread_mutex_unlock(&h->mu);
}

/* Is every block out of s on its xfree list?  Then no block of s is live, so
 * nothing can be pushed onto xfree and the owner cannot free into it. */
static bool span_all_home(span_t *s) {
  void *b = __atomic_load_n(&s->xfree, __ATOMIC_ACQUIRE);
  /* The owner's free of its last block out may be running: its store of
   * used (release) follows its store of the link, so a count read here that
   * matches is one no live block can change any more. */
  uint32_t used = __atomic_load_n(&s->used, __ATOMIC_ACQUIRE), k = 0;
  for (; b && k <= used; b = blk_next(s, b)) k++;
  return k == used;
}

/* Another thread's heap: give back each span whose every block came home,
 * full or avail, except the current span of each class (the owner's fast
 * paths read cur[] and its span without a lock; every other list change of
 * the owner's is made under mu).  Without this, memory freed into the spans
 * of a thread that has stopped allocating (blocked, idle) would never come
 * back. */
static void theap_reclaim(theap_t *h) {
  if (pthread_mutex_trylock(&h->mu)) return;
  for (unsigned c = 0; c < NCLASSES; c++)
    for (int which = SPAN_AVAIL; which <= SPAN_FULL; which++) {
      list_t *l = which == SPAN_FULL ? &h->full[c] : &h->avail[c];
      for (span_t *s = SPAN_OF(l->head), *next; s; s = next) {
        next = SPAN_OF(s->link.next);
        if (s == h->cur[c] || !span_all_home(s)) continue;
        __atomic_store_n(&s->xfree, NULL, __ATOMIC_RELAXED);
        s->used = 0;
        span_unlist(h, s);
        span_release(s);
      }
    }
  pthread_mutex_unlock(&h->mu);
}

/* Collect every span of h; give back empty ones (all: even the current
 * ones).  Caller holds h->mu. */
static void heap_collect_locked(theap_t *h, bool all) {
  for (unsigned c = 0; c < NCLASSES; c++) {
    for (span_t *s = SPAN_OF(h->full[c].head), *next; s; s = next) {
      next = SPAN_OF(s->link.next);
      if (__atomic_load_n(&s->xfree, __ATOMIC_RELAXED)) {
        span_collect(s);
        span_move(h, s, SPAN_AVAIL, false);
      }
    }
    for (span_t *s = SPAN_OF(h->avail[c].head), *next; s; s = next) {
      next = SPAN_OF(s->link.next);
      span_collect(s);
      if (s->used == 0) span_emptied(h, s, !all);
    }
  }
}

static void heap_collect(theap_t *h, bool all) {
  pthread_mutex_lock(&h->mu);
  heap_collect_locked(h, all);
  pthread_mutex_unlock(&h->mu);
}

/* ---- heap lifecycle -------------------------------------------------------- */
/* A heap for the calling thread: a retired one (with its spans) if any. */
static theap_t *theap_create(void) {
  pthread_mutex_lock(&g_reg_mu);
  theap_t *h = THEAP_OF(g_retired.head);
  if (h) {
    list_unlink(&g_retired, &h->link);
  } else {
    if ((size_t)(g_meta_end - g_meta_cur) < ALIGN_UP(sizeof(theap_t), 64)) {
      os_mapping_t m = os_map_tagged(ALIGN_UP(sizeof(theap_t) * 16, OS_PAGE), OS_PAGE, 0, TAG_META);
      if (!m.base) {
        pthread_mutex_unlock(&g_reg_mu);
        return NULL;
      }
      g_meta_cur = m.base;
      g_meta_end = g_meta_cur + m.size;
    }
    h = (theap_t *)g_meta_cur;
    g_meta_cur += ALIGN_UP(sizeof(theap_t), 64);
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    for (unsigned c = 0; c < NCLASSES; c++) h->cur[c] = &span_none;
  }
  h->state = THEAP_LIVE;
  thread_life_begin(&h->life);
  list_push_front(&g_live, &h->link);
  pthread_mutex_unlock(&g_reg_mu);
  /* Published before the key is set, which may allocate. */
  tls_heap = h;
  alloc_thread_attach(h);
  return h;
}

/* The calling thread's heap, created on first use; the shared heap
 * (theap_none) when caches are off, after thread exit, when the thread key
 * is missing, and under valgrind (so the fast paths, which have no memcheck
 * hooks, never run).  When no memory is left for a heap this operation uses
 * the shared heap and the next slow path tries again. */
static theap_t *theap_get(void) {
  theap_t *h = tls_heap;
  if (h != &theap_empty) return h;
  if (!alloc_opt.tcache || (vg_on && vg_running) || !alloc_thread_hook_ok())
    return tls_heap = &theap_none;
  h = theap_create();
  return h ? h : &theap_none;
}

/* A collected heap whose thread is gone: kept for the next thread.  Caller
 * holds the registry lock. */
static void theap_retire_locked(theap_t *h) {
  list_unlink(&g_live, &h->link);
  h->state = THEAP_RETIRED;
  list_push_front(&g_retired, &h->link);
}

void heap_thread_exit(void *arg) {
  theap_t *h = arg;
  tls_heap = &theap_none;
  heap_collect(h, true);
  pthread_mutex_lock(&g_reg_mu);
  thread_life_end(&h->life);
  theap_retire_locked(h);
  pthread_mutex_unlock(&g_reg_mu);
}

/* ---- slow paths of alloc.c ------------------------------------------------ */
void *theap_malloc_slow(unsigned cls) {
  theap_t *h = theap_get();
  return heap_alloc(h == &theap_none ? &g_shared : h, cls);
}

void theap_free_slow(void *p, unsigned cls) {
  span_t *s = span_of(p);
  theap_t *h = tls_heap;
  theap_t *owner = (theap_t *)(__atomic_load_n(&s->owner, __ATOMIC_RELAXED) & ~OWNER_FULL);
  if (owner == h) { /* ours, on the full list */
    heap_free_local(h, s, p);
    return;
  }
  if (owner == &g_shared && h->state != THEAP_LIVE) { /* a thread without a heap */
    heap_free_local(&g_shared, s, p);
  } else {
    pol_small_free_remote(s, p);
    span_push_remote(s, p);
    remote_free_count(h, cls, h->state == THEAP_LIVE);
  }
}

/* Once per decay period each thread collects its own heap. */
void theap_tick(uint64_t now, uint64_t period) {
  theap_t *h = tls_heap;
  if (h->state == THEAP_LIVE && now - h->collected_ms >= period) {
    h->collected_ms = now;
    heap_collect(h, false);
  }
}

/* ---- collection, statistics, validation ------------------------------------ */
void theaps_collect(bool all) {
  theap_t *h = tls_heap;
  if (h->state == THEAP_LIVE) heap_collect(h, all);
  theaps_collect_idle(all);
}

void theaps_collect_idle(bool all) {
  if (all) pthread_mutex_lock(&g_reg_mu);
  if (all || pthread_mutex_trylock(&g_reg_mu) == 0) {
    for (theap_t *l = THEAP_OF(g_live.head), *next; l; l = next) {
      next = THEAP_OF(l->link.next);
      if (l == tls_heap) continue;
      if (thread_life_ended(&l->life)) { /* gone, and no destructor ran */
        heap_collect(l, true);
        theap_retire_locked(l);
      } else {
        theap_reclaim(l);
      }
    }
    for (theap_t *r = THEAP_OF(g_retired.head); r; r = THEAP_OF(r->link.next)) heap_collect(r, true);
    pthread_mutex_unlock(&g_reg_mu);
  }
  if (all) pthread_mutex_lock(&g_shared.mu);
  if (all || pthread_mutex_trylock(&g_shared.mu) == 0) {
    heap_collect_locked(&g_shared, all);
    pthread_mutex_unlock(&g_shared.mu);
  }
}

static void heap_add_counts(alloc_stats_t *s, const theap_t *h) {
  for (unsigned c = 0; c < NCLASSES; c++) {
    s->cls[c].allocs += h->nmalloc[c];
    s->cls[c].frees += h->nfree[c];
  }
}

void theaps_stats(alloc_stats_t *s) {
  s->nclasses = NCLASSES;
  for (unsigned c = 0; c < NCLASSES; c++) {
    s->cls[c].size = size_classes[c].size;
    s->cls[c].frees += __atomic_load_n(&g_nfree_heapless[c], __ATOMIC_RELAXED);
  }
  pthread_mutex_lock(&g_reg_mu);
  for (theap_t *h = THEAP_OF(g_live.head); h; h = THEAP_OF(h->link.next), s->threads++)
    heap_add_counts(s, h);
  for (theap_t *h = THEAP_OF(g_retired.head); h; h = THEAP_OF(h->link.next)) heap_add_counts(s, h);
  for (theap_t *h = THEAP_OF(g_orphans.head); h; h = THEAP_OF(h->link.next)) heap_add_counts(s, h);
  pthread_mutex_unlock(&g_reg_mu);
  pthread_mutex_lock(&g_shared.mu);
  heap_add_counts(s, &g_shared);
  pthread_mutex_unlock(&g_shared.mu);
}

void theaps_lock(void) {
  pthread_mutex_lock(&g_reg_mu);
  pthread_mutex_lock(&g_shared.mu);
}
void theaps_unlock(void) {
  pthread_mutex_unlock(&g_shared.mu);
  pthread_mutex_unlock(&g_reg_mu);
}

/* May validate walk h's spans?  Its own heap, and heaps no thread is using
 * (validate holds the registry and shared locks). */
static bool walkable(const theap_t *h) {
  return h == tls_heap || h->state == THEAP_RETIRED || h->state == THEAP_SHARED;
}

/* Length of one of s's block lists, each link checked to be a carved block.
 * strict: a bad link is fatal; otherwise the walk just stops there (a list
 * another thread may be changing: it stays inside the span and ends). */
static uint32_t list_len(const span_t *s, void *b, bool strict) {
  const size_class_t *sc = &size_classes[s->cls];
  char *base = span_base((span_t *)s);
  uint32_t n = 0;
  for (; b; b = strict ? blk_next(s, b) : blk_peek(b)) {
    size_t off = (size_t)((char *)b - base);
    bool bad = (char *)b < base || off >= (size_t)s->carved * sc->size || off % sc->size;
    if (bad || n >= s->carved) {
      if (!strict) break;
      alloc_fatal(bad ? "validate: free-list link outside its span" : "validate: free-list cycle", b);
    }
    n++;
  }
  return n;
}

/* Live blocks of s.  A span of another live thread (or of an orphan) is not
 * checked, as its owner may be changing it: its count is s->used less what a
 * tolerant walk of xfree finds, exact while that thread is idle. */
size_t theap_span_validate(span_t *s) {
  uintptr_t ow = __atomic_load_n(&s->owner, __ATOMIC_RELAXED);
  const theap_t *h = (const theap_t *)(ow & ~OWNER_FULL);
  if (!h || h->state == THEAP_NONE) alloc_fatal("validate: span owner", s);
  bool mine = walkable(h);
  if (!mine) { /* list, tag and counts may be half-way through a change */
    uint32_t used = s->used, nx = list_len(s, __atomic_load_n(&s->xfree, __ATOMIC_ACQUIRE), false);
    return used > nx ? used - nx : 0;
  }
  if (!(ow & OWNER_FULL) != (s->list != SPAN_FULL) || s->list == SPAN_UNLISTED)
    alloc_fatal("validate: span list state", s);
  if (s->carved > size_classes[s->cls].nblocks) alloc_fatal("validate: span carved count", s);
  uint32_t used = s->used, nx = list_len(s, __atomic_load_n(&s->xfree, __ATOMIC_ACQUIRE), true);
  uint32_t nfree = list_len(s, s->free, true) + list_len(s, s->local_free, true);
  if (used + nfree != s->carved || nx > used) alloc_fatal("validate: span block counts", s);
  return used - nx;
}

static size_t heap_validate_lists(const theap_t *h) {
  size_t n = 0;
  for (unsigned c = 0; c < NCLASSES; c++) {
    for (int which = SPAN_AVAIL; which <= SPAN_FULL; which++) {
      const list_t *l = which == SPAN_FULL ? &h->full[c] : &h->avail[c];
      const list_node_t *prev = NULL;
      for (const list_node_t *node = l->head; node; prev = node, node = node->next, n++) {
        const span_t *s = SPAN_OF(node);
        if (s->cls != c || s->list != which || node->prev != prev || s->back != 0 ||
            (s->owner & ~OWNER_FULL) != (uintptr_t)h)
          alloc_fatal("validate: heap span list", s);
      }
      if (l->tail != prev) alloc_fatal("validate: heap span list tail", l);
    }
    if (h->cur[c] != (h->avail[c].head ? SPAN_OF(h->avail[c].head) : &span_none))
      alloc_fatal("validate: heap current span", h);
  }
  return n;
}

/* Caller holds theaps_lock. */
size_t theaps_validate(void) {
  if (span_none.free || span_none.owner) alloc_fatal("validate: span_none was written", &span_none);
  size_t n = heap_validate_lists(&g_shared);
  if (tls_heap->state == THEAP_LIVE) n += heap_validate_lists(tls_heap);
  for (const theap_t *h = THEAP_OF(g_retired.head); h; h = THEAP_OF(h->link.next))
    n += heap_validate_lists(h);
  return n;
}

/* ---- fork ------------------------------------------------------------------ */
/* Every heap lock, registry first (maintain.c adds the layers below). */
void theaps_fork_prepare(void) {
  pthread_mutex_lock(&g_reg_mu);
  for (theap_t *h = THEAP_OF(g_live.head); h; h = THEAP_OF(h->link.next)) pthread_mutex_lock(&h->mu);
  pthread_mutex_lock(&g_shared.mu);
}
void theaps_fork_parent(void) {
  pthread_mutex_unlock(&g_shared.mu);
  for (theap_t *h = THEAP_OF(g_live.head); h; h = THEAP_OF(h->link.next)) pthread_mutex_unlock(&h->mu);
  pthread_mutex_unlock(&g_reg_mu);
}
/* Only the forking thread lives on in the child.  The other threads' heaps
 * take no lock, so fork may have caught one half-way through a change: they
 * become orphans, never used again.  Their spans stay out of use in the child
 * (frees into them are kept on xfree), which costs memory, not safety. */
void theaps_fork_child(void) {
  pthread_mutex_unlock(&g_shared.mu);
  for (theap_t *h = THEAP_OF(g_live.head); h; h = THEAP_OF(h->link.next)) pthread_mutex_unlock(&h->mu);
  for (theap_t *h = THEAP_OF(g_live.head), *next; h; h = next) {
    next = THEAP_OF(h->link.next);
    if (h == tls_heap) {
      thread_life_reown(&h->life);
      continue;
    }
    list_unlink(&g_live, &h->link);
    h->state = THEAP_ORPHAN;
    list_push_front(&g_orphans, &h->link);
  }
  pthread_mutex_unlock(&g_reg_mu);
}
