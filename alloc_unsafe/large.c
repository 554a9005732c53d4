/* large.c - blocks above SMALL_MAX, each with its own mapping.
 *
 * The block sits at base + off behind a segment_t header (layout.h), so
 * free() finds the header with the same address arithmetic as a small block.
 * Freed mappings of alignments below SEG_SIZE wait in a cache for reuse
 * (alloc/free cycles of big buffers then cost no mmap and few page faults)
 * and are unmapped once unused for ALLOC_DECAY_MS (large_release, from
 * maintain.c's decay pass).  realloc moves the pages with mremap instead of
 * copying bytes.  This layer calls only the OS.
 *
 * The cache is bounded by CACHE_MAX_BLOCKS and CACHE_MAX_BYTES at all times:
 * a mapping entering it evicts the oldest until both hold.
 */
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "counter.h"
#include "internal.h"
#include "options.h"

#define CACHE_MAX_BLOCKS 16
#define CACHE_MAX_BYTES ((size_t)512 << 20)
#define CACHE_MAX_ONE ((size_t)256 << 20) /* bigger mappings are never cached */
#define CACHE_SLACK 4 /* a cached mapping serves requests down to 1/4 of it, whole */
#define SPLIT_MIN (SEG_SIZE / 2) /* smaller requests are never cut from a mapping */
/* POLICY_REUSE_DELAY: the block freed last is not the next handed out, so
 * free(p); q = malloc(n); free(p) still finds p's header freed (or, when p
 * was unmapped, no mapping of ours): when a request would get p's address
 * again, its block sits at twice its offset in the same mapping
 * (cache_take), and a fresh mapping the kernel put at p's address is
 * exchanged for another (large_alloc).  The mapping itself is reused as under
 * alloc_unsafe: passing over the whole mapping freed last, and so never
 * cutting or joining, gave alloc_hybrid's `macro large 0.5` 85,500 faults
 * where alloc_unsafe takes 67,900. */
/* The pieces cut from one mapping share a family, a number drawn when it is
 * first cut (0: never cut; not its base, which a later mapping may get
 * while pieces of this one live on).  A large header keeps no span pages,
 * so the small segments' dirty_mask holds it.  Only pieces of one family join again: they are
 * parts of one kernel mapping, unless one was moved by mremap, which makes
 * it a family of its own. */
#define FAMILY(h) ((h)->dirty_mask)

static uint64_t g_families; /* the last family drawn (atomic: split_off runs unlocked) */

static pthread_mutex_t g_large_mu = PTHREAD_MUTEX_INITIALIZER;
static list_t g_cache; /* most recently freed at the head, oldest at the tail */
static char *g_last_block; /* POLICY_REUSE_DELAY: the block freed last */
static size_t g_cache_n, g_cache_bytes;
static uint64_t g_allocs, g_frees, g_live_bytes;

#define HDR_OF(node) LIST_ENTRY_OR_NULL(node, segment_t, link)

void large_lock(void) { pthread_mutex_lock(&g_large_mu); }
void large_unlock(void) { pthread_mutex_unlock(&g_large_mu); }

static void cache_unlink(segment_t *h) {
  list_unlink(&g_cache, &h->link);
  g_cache_n--;
  g_cache_bytes -= h->map.size;
}

/* The smallest cached mapping of at least `total` bytes and at most
 * CACHE_SLACK times that: its pages are already faulted in, which is most of
 * what a fresh mapping of a large block costs.  When none fits, the biggest
 * smaller one is taken to be grown (*resize): one mremap, and only its new
 * tail faults, where a fresh block costs an mmap and a fault per page.  A
 * mapping taken is never shrunk: the next bigger request would fault the
 * tail's pages in again (`macro large 0.5`, where the mapping freed by a
 * 64-256 MiB block serves the next one: shrinking tails of 16 MiB or more
 * gave 203,000 faults and 0.5-0.7 s, keeping them 84,000 and 0.3 s, for 8%
 * more peak RSS).  The tail stays the block's usable size, and free gives
 * it back to the cache with the rest.
 *
 * A request of SPLIT_MIN or more may instead be cut (*split, split_off) from
 * the front of a cached mapping: of the one that fits when it is at least
 * twice the cut (`head`), or, when none fits, of the smallest that has a
 * SEG_SIZE chunk to spare.  The rest stays cached and faulted in for the
 * next request, and the pieces join again once free (cache_join).  In
 * `macro large 0.5`: 84,400 faults and 340 MiB peak RSS before, 67,900 and
 * 274 MiB with both (tcmalloc about 66,000 and 267 MiB); the cut alone,
 * with pieces never joined, 105,000.
 *
 * POLICY_REUSE_DELAY: a mapping whose block at *off would be the block freed
 * last is measured for the block at twice the offset (still a multiple of
 * the alignment asked), and when taken, *total and *off say so; one whose
 * doubled offset would reach SEG_SIZE is passed over. */
static bool again_at(const segment_t *h, size_t off) {
  return POLICY_REUSE_DELAY && (const char *)h + off == __atomic_load_n(&g_last_block, __ATOMIC_RELAXED);
}
static segment_t *cache_take(size_t *total_io, size_t *off_io, bool *resize, size_t *split) {
  large_lock();
  segment_t *best = NULL, *near = NULL, *cut = NULL;
  size_t off = *off_io;
  for (segment_t *h = HDR_OF(g_cache.head); h; h = HDR_OF(h->link.next)) {
    size_t sz = h->map.size, total = *total_io;
    if (again_at(h, off)) {
      if (2 * off >= SEG_SIZE) continue;
      total += off;
    }
    size_t head = ALIGN_UP(total, SEG_SIZE);
    if (sz >= total && sz / CACHE_SLACK <= total) {
      if (!best || sz < best->map.size) best = h;
    } else if (sz < total) {
      if (!near || sz > near->map.size) near = h;
    } else if (total >= SPLIT_MIN && sz >= head + SEG_SIZE && (!cut || sz < cut->map.size)) {
      cut = h;
    }
  }
  segment_t *got = best ? best : cut ? cut : near;
  if (got && again_at(got, off)) {
    *total_io += off;
    *off_io = 2 * off;
  }
  size_t total = *total_io, head = ALIGN_UP(total, SEG_SIZE);
  bool can_cut = total >= SPLIT_MIN;
  *split = 0;
  if (!best && cut) {
    best = cut;
    *split = head;
  } else if (best && can_cut && best->map.size >= 2 * head) {
    *split = head;
  }
  *resize = !best && near != NULL;
  if (!best) best = near;
  if (best) cache_unlink(best);
  large_unlock();
  return best;
}

/* h's header rewritten for a cached mapping whose size changed (a piece cut
 * off or joined): the policy's word again, in the freed state. */
static void header_cached(segment_t *h) {
  pol_large_alloc(h);
  pol_large_free(h, (char *)h + h->large_off, POL_FREE);
}

/* Cut the cached mapping h (out of the cache) after its first `head` bytes
 * (a multiple of SEG_SIZE, below h->map.size): the rest becomes a mapping of
 * its own, with a header at its SEG_SIZE-aligned start, and goes back to the
 * cache.  Only bookkeeping: the kernel keeps one mapping, whose parts are
 * unmapped or remapped apart later (munmap and mremap take part of one).
 * Its pages stay faulted in, so a 32 MiB block cut from the mapping a
 * 256 MiB one left costs no fault, where growing a smaller mapping to it
 * faults in all of its tail (`macro large`). */
static void split_off(segment_t *h, size_t head) {
  segment_t *t = (segment_t *)((char *)h + head);
  vg_open(t, offsetof(segment_t, pages[1])); /* was inside the block freed */
  memset(t, 0, offsetof(segment_t, pages[1]));
  if (!FAMILY(h)) FAMILY(h) = __atomic_add_fetch(&g_families, 1, __ATOMIC_RELAXED);
  FAMILY(t) = FAMILY(h);
  t->map = h->map;
  t->map.base = t;
  t->map.size = h->map.size - head;
  h->map.size = head;
  t->large_off = OS_PAGE;
  t->pages[LARGE_TAG_PAGE(OS_PAGE)].cls = CLS_LARGE;
  t->large_usable = t->map.size - OS_PAGE;
  header_cached(t);
  t->freed_at_ms = h->freed_at_ms;
  large_lock();
  list_push_front(&g_cache, &t->link);
  g_cache_n++;
  g_cache_bytes += t->map.size;
  large_unlock();
}

static os_mapping_t map_fresh(size_t total, size_t align) {
  return align >= SEG_SIZE ? os_map_tagged(total, align, SEG_SIZE, TAG_LARGE)
                           : os_map_tagged(total, SEG_SIZE, 0, TAG_LARGE);
}

void *large_alloc(size_t n, size_t align, bool zero) {
  size_t off = align >= SEG_SIZE ? SEG_SIZE : MAX(OS_PAGE, align);
  size_t total = ALIGN_UP(off + n, OS_PAGE);
  bool resize = false;
  size_t split = 0;
  /* A cached mapping starts SEG_SIZE-aligned, so it serves any alignment
   * below SEG_SIZE with the block at base + off. */
  segment_t *h = off < SEG_SIZE ? cache_take(&total, &off, &resize, &split) : NULL;
  if (split) split_off(h, split);
  size_t dirty = h ? h->map.size : 0; /* bytes that may not read as zero */
  if (h && resize) {
    os_mapping_t m = os_remap(h->map, total, SEG_SIZE);
    if (m.base) {
      if (m.base != h) FAMILY((segment_t *)m.base) = 0; /* a mapping of its own now */
      h = m.base;
      h->map = m; /* the header moved with the pages; pages[0] keeps its tag */
    } else {
      os_unmap(h->map);
      h = NULL;
    }
  }
  bool fresh = !h;
  if (fresh) {
    os_mapping_t m = map_fresh(total, align);
    if (POLICY_REUSE_DELAY && m.base && again_at(m.base, off)) {
      /* the kernel gave the unmapped block's address back: take another */
      os_mapping_t again = map_fresh(total, align);
      os_unmap(m);
      m = again;
    }
    if (!m.base) return NULL;
    h = m.base;
    h->map = m;
  }
  if (!fresh && h->large_off != off) h->pages[LARGE_TAG_PAGE(h->large_off)].cls = 0;
  h->large_off = off;
  h->pages[LARGE_TAG_PAGE(off)].cls = CLS_LARGE;
  h->large_usable = h->map.size - off;
  pol_large_alloc(h);
  char *p = (char *)h + off;
  if (zero && !fresh && dirty > off) { /* a grown tail is fresh zero pages */
    size_t z = MIN(n, dirty - off);
    vg_open(p, z);
    memset(p, 0, z);
  }
  vg_close(p, h->large_usable); /* the override opens [p, p+n) */
  __atomic_add_fetch(&g_allocs, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_live_bytes, h->large_usable, __ATOMIC_RELAXED);
  peak_counter_add(&alloc_held_bytes, (ptrdiff_t)h->large_usable);
  return p;
}

/* Join h (being cached) with the cached pieces of its family right next to
 * it: pieces cut from one mapping (split_off) become one again once all are
 * free, so the next very large block finds the whole mapping, faulted in.
 * (Joining any adjacent mappings was worse: in `macro bigloop 0.5` one join
 * of two unrelated ones cost 1,000 faults.)  Caller holds the lock. */
static segment_t *cache_join(segment_t *h) {
  if (!FAMILY(h)) return h;
  for (segment_t *c = HDR_OF(g_cache.head), *next; c; c = next) {
    next = HDR_OF(c->link.next);
    bool right = (char *)c == (char *)h + h->map.size, left = (char *)c + c->map.size == (char *)h;
    if ((!right && !left) || FAMILY(c) != FAMILY(h) || c->map.tag != h->map.tag ||
        c->map.prot != h->map.prot || c->map.size + h->map.size > CACHE_MAX_ONE)
      continue;
    cache_unlink(c);
    if (left) {
      c->map.size += h->map.size;
      c->freed_at_ms = h->freed_at_ms;
      h = c;
    } else {
      h->map.size += c->map.size;
    }
    header_cached(h);
    next = HDR_OF(g_cache.head); /* the other side may be cached too */
  }
  return h;
}

/* h: the header of p, already checked by the caller (alloc.c). */
void large_free(segment_t *h, void *p) {
  size_t usable = h->large_usable;
  pol_large_free(h, p, POL_FREE);
  __atomic_add_fetch(&g_frees, 1, __ATOMIC_RELAXED);
  __atomic_sub_fetch(&g_live_bytes, usable, __ATOMIC_RELAXED);
  peak_counter_add(&alloc_held_bytes, -(ptrdiff_t)usable);
  if (POLICY_REUSE_DELAY) __atomic_store_n(&g_last_block, (char *)p, __ATOMIC_RELAXED);
  if (h->large_off >= SEG_SIZE || h->map.size > CACHE_MAX_ONE || alloc_opt.decay_ms == 0) {
    os_unmap(h->map);
    return;
  }
  /* Cached as it is (its offset and tag too), so a second free of p still
   * finds p at header + offset, with the header's state freed. */
  h->freed_at_ms = now_ms();
  list_t victims = {NULL, NULL};
  large_lock();
  h = cache_join(h);
  list_push_front(&g_cache, &h->link);
  g_cache_n++;
  g_cache_bytes += h->map.size;
  while (g_cache_n > CACHE_MAX_BLOCKS || g_cache_bytes > CACHE_MAX_BYTES) {
    segment_t *victim = HDR_OF(g_cache.tail); /* the oldest */
    cache_unlink(victim);
    list_push_front(&victims, &victim->link);
  }
  large_unlock();
  for (segment_t *v = HDR_OF(victims.head), *next; v; v = next) {
    next = HDR_OF(v->link.next);
    os_unmap(v->map);
  }
}

void *large_realloc(segment_t *h, void *p, size_t n) {
  size_t off = h->large_off, total = ALIGN_UP(off + n, OS_PAGE), old_usable = h->large_usable;
  if (off >= SEG_SIZE) return NULL; /* aligned to SEG_SIZE or more: the caller moves it */
  if (total == h->map.size) return p;
  os_mapping_t m = os_remap(h->map, total, SEG_SIZE);
  if (!m.base) return NULL;
  if (m.base != h) FAMILY((segment_t *)m.base) = 0; /* a mapping of its own now */
  h = m.base;
  h->map = m;
  h->large_usable = m.size - off;
  pol_large_alloc(h); /* the header moved and changed */
  ptrdiff_t delta = (ptrdiff_t)h->large_usable - (ptrdiff_t)old_usable;
  __atomic_add_fetch(&g_live_bytes, (size_t)delta, __ATOMIC_RELAXED);
  peak_counter_add(&alloc_held_bytes, delta);
  return (char *)h + off;
}

size_t large_usable(const segment_t *h) { return h->large_usable; }

/* Unmap cached mappings unused for `age` ms; 1 if any was. */
int large_release(uint64_t now, uint64_t age) {
  list_t victims = {NULL, NULL};
  large_lock();
  for (segment_t *h = HDR_OF(g_cache.head), *next; h; h = next) {
    next = HDR_OF(h->link.next);
    if (now - h->freed_at_ms < age) continue;
    cache_unlink(h);
    list_push_front(&victims, &h->link);
  }
  large_unlock();
  int r = victims.head != NULL;
  for (segment_t *h = HDR_OF(victims.head), *next; h; h = next) {
    next = HDR_OF(h->link.next);
    os_unmap(h->map);
  }
  return r;
}

void large_stats(alloc_stats_t *s) {
  uint64_t f = __atomic_load_n(&g_frees, __ATOMIC_ACQUIRE); /* first: then a >= f */
  uint64_t a = __atomic_load_n(&g_allocs, __ATOMIC_ACQUIRE);
  s->large_allocs = a;
  s->large_live = a - f;
  s->allocs += a;
  s->frees += f;
  s->bytes_live += __atomic_load_n(&g_live_bytes, __ATOMIC_RELAXED);
}

/* The cache: every entry a plain large header, within its bounds.  Caller
 * holds the lock. */
size_t large_validate(void) {
  size_t n = 0, bytes = 0;
  const list_node_t *prev = NULL;
  for (const list_node_t *node = g_cache.head; node; prev = node, node = node->next, n++) {
    const segment_t *h = HDR_OF(node);
    if (h->map.base != h || h->large_off < OS_PAGE || h->large_off >= SEG_SIZE ||
        h->pages[LARGE_TAG_PAGE(h->large_off)].cls != CLS_LARGE ||
        node->prev != prev)
      alloc_fatal("validate: large cache entry", h);
    bytes += h->map.size;
  }
  if (n != g_cache_n || bytes != g_cache_bytes || g_cache.tail != prev ||
      n > CACHE_MAX_BLOCKS || bytes > CACHE_MAX_BYTES)
    alloc_fatal("validate: large cache totals", g_cache.head);
  return (size_t)(__atomic_load_n(&g_allocs, __ATOMIC_RELAXED) -
                  __atomic_load_n(&g_frees, __ATOMIC_RELAXED));
}
