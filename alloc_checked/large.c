/* large.c - blocks above the largest size class, each in its own mapping:
 *
 *   | guard 4K | data pages ............ [ block: usable bytes ] | guard 4K |
 *                                         ^ start                ^ end of the last data page
 *
 * so a write one byte past the usable size faults on the upper guard page
 * and one below the mapping on the lower one.  Records live in an
 * open-addressing table in its own mapping (out of band), keyed by the page
 * of the block's start; every lookup is under one lock (large blocks cost a
 * system call anyway).  A freed block's mapping is kept PROT_NONE in a
 * bounded FIFO quarantine (count, bytes, age: ALLOC_DECAY_MS), so a use
 * after free faults and a second free is still reported as a double free.
 *
 * Freed pages are reused, freed addresses are not (while quarantined).
 * Large quarantine on: a freed mapping's pages move (mremap with
 * MREMAP_DONTUNMAP: page tables move, not bytes) to a fresh mapping of the
 * same size, kept PROT_NONE in a bounded cache, while the freed addresses
 * stay PROT_NONE in the quarantine with no memory behind them.  Large
 * quarantine off: the freed mapping itself goes to the cache, PROT_NONE,
 * its record kept (a stale free of its block is still a double free).
 * The cache is bounded (LC_MAX mappings, LC_BYTES of address space,
 * LRES_BYTES of pages, age ALLOC_DECAY_MS; the oldest go first).  A later
 * request takes the smallest cached mapping with enough pages: the block's
 * end goes at the upper guard as in a fresh mapping, only its pages become
 * read-write again, and a part of more than a quarter of the request left
 * below it is split off and cached on its own.  Where the kernel has guard
 * markers (MADV_GUARD_INSTALL, see gm_install) the guard pages are markers
 * and a mapping stays RW: a quarantined one's pages and guards move RW in
 * one mremap, its freed range is protected empty, and the next request
 * of them sets one marker (its lower guard) and changes no protection; so
 * a loop of large blocks walks no page to change its protection (bigloop
 * 0.5, zeroing and quarantine off: CPU 1.57 -> 1.09 s).  Without markers,
 * guards are PROT_NONE pages and a cached mapping is PROT_NONE: two
 * mprotects over its pages (and a move), not mmap + page faults + munmap.  The
 * cached pages hold the previous block's bytes: a block taken from the
 * cache is zeroed first when the zero feature is on or the caller is
 * calloc, so those bytes never reach the next block then.
 */
#include <errno.h>
#include <sys/mman.h>

#include "clock.h"
#include "heap.h"
#include "internal.h"

typedef struct large_rec {
  uintptr_t key; /* page of start; 0 empty, 1 deleted */
  void *start;
  size_t usable;
  os_mapping_t map;
  uint64_t freed_ms;
  uint8_t state; /* LIVE, QUAR or CACHE */
  uint8_t kind;
  bool resident; /* QUAR/CACHE: its data pages kept (old bytes), in g_res */
  char *inner;   /* guard markers (below) may lie in its data pages up to
                    this page's end; NULL: none */
} large_rec_t;
enum { REC_EMPTY = 0, REC_DELETED = 1 };
enum { ST_LIVE = 1, ST_QUAR = 2, ST_CACHE = 3 };

#define LQ_MAX 64
#define LQ_BYTES ((size_t)128 << 20)
#define LC_MAX 32                      /* cached mappings */
#define LC_BYTES ((size_t)128 << 20)   /* cached address space */
#define LC_ONE_MAX ((size_t)32 << 20)  /* data pages of the biggest mapping kept */
/* Pages held by cached mappings.  16 MiB: bigloop 0.5 (4 blocks of up to
 * 4 MiB) peaks at 30 MiB but faults 510,000 times, and takes about 1.5x the
 * CPU time of 32 MiB: 41 MiB, 285,000 faults (glibc 261,000); 64 MiB buys
 * little more (measured with zeroing and quarantine off and all on). */
#define LRES_BYTES ((size_t)32 << 20)

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static os_mapping_t g_tab_map;
static large_rec_t *g_tab;
static size_t g_cap, g_used; /* used: live + quarantined + deleted marks */
static size_t g_live, g_live_bytes;
static uint64_t g_allocs;
static uintptr_t g_quar[LQ_MAX]; /* keys, FIFO */
static uint32_t g_qhead, g_qn;
static size_t g_qbytes;
static uintptr_t g_cache[LC_MAX]; /* keys, unordered */
static uint32_t g_cn;
static size_t g_cbytes, g_res;

static size_t hash_key(uintptr_t k) { return (size_t)rand_mix(k ^ alloc_secret(3)); }

static large_rec_t *find(uintptr_t key) {
  if (!g_tab) return NULL;
  for (size_t i = hash_key(key) & (g_cap - 1), n = 0; n < g_cap; n++, i = (i + 1) & (g_cap - 1)) {
    if (g_tab[i].key == key) return &g_tab[i];
    if (g_tab[i].key == REC_EMPTY) return NULL;
  }
  return NULL;
}

static bool grow(void) {
  size_t cap = g_cap ? g_cap * 2 : 1024;
  os_mapping_t m = os_map_tagged(cap * sizeof(large_rec_t) + 2 * OS_PAGE, OS_PAGE, 0, TAG_META);
  if (!m.base) return false;
  os_guard(&m, m.base, OS_PAGE);
  os_guard(&m, (char *)m.base + m.size - OS_PAGE, OS_PAGE);
  large_rec_t *t = (large_rec_t *)((char *)m.base + OS_PAGE);
  for (size_t j = 0; j < g_cap; j++) {
    if (g_tab[j].key <= REC_DELETED) continue;
    size_t i = hash_key(g_tab[j].key) & (cap - 1);
    while (t[i].key) i = (i + 1) & (cap - 1);
    t[i] = g_tab[j];
  }
  size_t n = 0;
  for (size_t j = 0; j < cap; j++) n += t[j].key > REC_DELETED;
  if (g_tab) os_unmap(g_tab_map);
  g_tab_map = m;
  g_tab = t;
  g_cap = cap;
  g_used = n;
  return true;
}

static large_rec_t *insert(uintptr_t key) {
  if ((g_used + 1) * 2 > g_cap && !grow()) return NULL;
  size_t i = hash_key(key) & (g_cap - 1);
  while (g_tab[i].key > REC_DELETED) i = (i + 1) & (g_cap - 1);
  if (g_tab[i].key == REC_EMPTY) g_used++;
  g_tab[i].key = key;
  return &g_tab[i];
}

static size_t data_of(const large_rec_t *r) { return r->map.size - 2 * OS_PAGE; }

/* Guard markers (MADV_GUARD_INSTALL, Linux 6.13+): a page whose every
 * access faults, set in the page tables with no change of protection, so
 * a mapping guarded this way stays one RW mapping in the kernel, and its
 * pages and guards move together in one mremap.  That is what makes a freed
 * mapping cheap to quarantine: its pages move onto a fresh mapping, the
 * freed range is protected with no pages left in it, and neither step
 * walks the pages changing their protection (mprotect of a populated 4 MiB
 * costs about 65 us each way here; the move 15-28 us).  g_gm: 1 they work,
 * -1 they do not (an older kernel, or valgrind), 0 not tried yet. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
static int g_gm;

static bool gm_install(void *addr, size_t size) {
  if (g_gm < 0) return false;
  int saved = errno;
  bool ok = madvise(addr, size, MADV_GUARD_INSTALL) == 0;
  errno = saved;
  if (!g_gm) g_gm = ok ? 1 : -1;
  return ok;
}

/* Guard markers out of [addr, addr+size) (no-op on pages without one). */
static bool gm_remove(void *addr, size_t size) {
  int saved = errno;
  bool ok = madvise(addr, size, MADV_GUARD_REMOVE) == 0;
  errno = saved;
  return ok;
}

/* A live block's record: its block at start, in mapping m, from malloc (the
 * aligned allocators and operator new set their kind afterwards). */
static large_rec_t *insert_live(char *start, size_t usable, os_mapping_t m) {
  large_rec_t *r = insert(ALIGN_DOWN((uintptr_t)start, OS_PAGE));
  if (!r) return NULL;
  r->start = start;
  r->usable = usable;
  r->map = m;
  r->state = ST_LIVE;
  r->kind = KIND_MALLOC;
  return r;
}

static void unlink_rec(large_rec_t *r) { /* the record goes, the mapping stays */
  if (r->resident) g_res -= data_of(r);
  memset(r, 0, sizeof *r);
  r->key = REC_DELETED;
}

static void drop(large_rec_t *r) { /* the mapping goes back to the kernel */
  os_mapping_t m = r->map;
  unlink_rec(r);
  os_unmap(m);
}

static bool cacheable(const large_rec_t *r) {
  return data_of(r) <= LC_ONE_MAX && data_of(r) <= LRES_BYTES && alloc_opt.decay_ms != 0;
}

/* Freed mapping m (quarantine off): PROT_NONE, its pages kept for the
 * cache (resident), or released when the protection fails. */
static void close_freed(large_rec_t *r) {
  if (os_protect_mapping(&r->map, OS_PROT_NONE)) {
    r->resident = true;
    g_res += data_of(r);
  } else {
    os_guard(&r->map, r->map.base, r->map.size); /* PROT_NONE, pages released */
  }
}

static void cache_put(large_rec_t *r, uint64_t now);

/* Freed mapping of r entering the quarantine: PROT_NONE, and its pages go
 * to a fresh mapping that enters the cache, so they serve the next large
 * request at once while the quarantined addresses stay PROT_NONE with
 * nothing behind them (no memory held).  When the move cannot be made,
 * its pages are released.  r may move (the table can grow): its key is
 * what stays. */
static void quarantine_close(uintptr_t key, uint64_t now) {
  large_rec_t *r = find(key);
  os_mapping_t m = r->map;
  bool moved = false;
  /* Guarded by markers (one RW mapping): the pages and guards move RW, then
   * the freed range, empty now, becomes PROT_NONE.  Guarded by PROT_NONE
   * pages: the mapping becomes PROT_NONE first, and its pages move so. */
  bool open = m.prot == OS_PROT_RW;
  char *inner = r->inner;
  if (cacheable(r) && (open || os_protect_mapping(&r->map, OS_PROT_NONE))) {
    os_mapping_t d = os_map_tagged(m.size, OS_PAGE, 0, TAG_LARGE);
    if (d.base && os_move_pages(&r->map, &d)) { /* d has r's protection now */
      moved = !open || os_protect_mapping(&r->map, OS_PROT_NONE);
      large_rec_t *c = insert((uintptr_t)d.base + OS_PAGE);
      if (c) {
        c->start = (char *)d.base + OS_PAGE;
        c->usable = d.size - 2 * OS_PAGE;
        c->map = d;
        c->resident = true;
        c->inner = inner ? (char *)d.base + (inner - (char *)m.base) : NULL;
        g_res += c->usable;
        cache_put(c, now);
      } else {
        os_unmap(d);
      }
    } else if (d.base) {
      os_unmap(d);
    }
    r = find(key);
  }
  if (!moved) os_guard(&r->map, r->map.base, r->map.size); /* PROT_NONE, pages released */
}

/* Cached mappings out: those older than the decay time (all: every one). */
static void cache_evict(uint64_t now, bool all) {
  for (uint32_t k = 0; k < g_cn;) {
    large_rec_t *r = find(g_cache[k]);
    if (r && !all && now - r->freed_ms < (uint64_t)alloc_opt.decay_ms) {
      k++;
      continue;
    }
    g_cache[k] = g_cache[--g_cn];
    if (r) {
      g_cbytes -= r->map.size;
      drop(r);
    }
  }
}

/* The freed mapping of r (closed: PROT_NONE, pages resident) into the
 * cache; the oldest cached ones make room (count, bytes, resident bytes).
 * One that cannot be cached is unmapped. */
static void cache_put(large_rec_t *r, uint64_t now) {
  if (!cacheable(r) || !r->resident) {
    drop(r);
    return;
  }
  while (g_cn > 0 && (g_cn >= LC_MAX || g_cbytes + r->map.size > LC_BYTES || g_res > LRES_BYTES)) {
    uint32_t old = 0;
    for (uint32_t k = 1; k < g_cn; k++) {
      large_rec_t *a = find(g_cache[k]), *b = find(g_cache[old]);
      if (a && b && a->freed_ms < b->freed_ms) old = k;
    }
    large_rec_t *o = find(g_cache[old]);
    g_cache[old] = g_cache[--g_cn];
    if (o) {
      g_cbytes -= o->map.size;
      drop(o);
    }
  }
  r->state = ST_CACHE;
  r->freed_ms = now;
  g_cache[g_cn++] = r->key;
  g_cbytes += r->map.size;
}

/* Oldest quarantined mapping out (unmapped: its pages went to the cache
 * when it was freed), while a bound is exceeded (or all). */
static void quar_evict(bool all) {
  uint64_t now = now_ms();
  while (g_qn) {
    large_rec_t *r = find(g_quar[g_qhead]);
    bool over = g_qn > LQ_MAX - 1 || g_qbytes > LQ_BYTES ||
                (r && now - r->freed_ms >= (uint64_t)alloc_opt.decay_ms);
    if (!all && !over) break;
    g_qhead = (g_qhead + 1) % LQ_MAX;
    g_qn--;
    if (r) {
      g_qbytes -= r->map.size;
      drop(r);
    }
  }
}

/* A cached mapping for a block of usable bytes (alignment <= a page) in
 * data pages of data bytes, set up as large_alloc would a fresh one: the
 * smallest cached mapping with enough pages.  When more than a quarter of
 * its pages would be left below the block, it is split: the block keeps
 * the top part (the page under its first one becomes its lower guard, the
 * page under that the rest's upper guard) and the rest, if it can hold a
 * large block, goes back to the cache (else it is unmapped).  NULL when
 * none fits.  Caller holds g_mu. */
static char *cache_take(size_t usable, size_t data, bool zero) {
  int best = -1;
  size_t best_data = 0;
  for (uint32_t k = 0; k < g_cn; k++) {
    large_rec_t *r = find(g_cache[k]);
    if (!r) continue;
    size_t d = data_of(r);
    if (d >= data && (best < 0 || d < best_data)) best = (int)k, best_data = d;
  }
  if (best < 0) return NULL;
  large_rec_t *r = find(g_cache[best]);
  g_cache[best] = g_cache[--g_cn];
  g_cbytes -= r->map.size;
  os_mapping_t m = r->map, rest = {0};
  bool resident = r->resident, open = m.prot == OS_PROT_RW;
  char *inner = r->inner;
  uint64_t freed = r->freed_ms;
  unlink_rec(r); /* re-keyed below: the block's start moves with its size */
  char *top = (char *)m.base + m.size - OS_PAGE, *lo = top - data;
  size_t below = (size_t)(lo - OS_PAGE - (char *)m.base); /* bytes under the block's guard */
  if (below > data / 4) {
    rest = m;
    rest.size = below;
    m.base = lo - OS_PAGE;
    m.size -= below;
    if (below < SMALL_MAX + 2 * OS_PAGE) { /* too small for a large block */
      os_unmap_range(rest.base, rest.size);
      rest.base = NULL;
    }
  }
  /* Open (RW, guarded by markers): the block's lower guard, and the rest's
   * upper one, become markers; the pages under them keep their bytes and
   * their RW (addresses never handed out: no stale pointer reaches them).
   * Closed (PROT_NONE): the block's pages become RW.  Either way, markers
   * of earlier blocks inside the block's pages go first. */
  char *g = rest.base ? lo - 2 * OS_PAGE : lo - OS_PAGE;
  bool ok = !inner || inner < lo || gm_remove(lo, (size_t)(inner + OS_PAGE - lo));
  if (ok && open && !gm_install(g, (size_t)(lo - g))) {
    ok = os_protect_part(&m, g, (size_t)(lo - g), OS_PROT_NONE);
    if (rest.base) rest.prot = OS_PROT_MIXED; /* its upper guard went PROT_NONE */
  }
  if (ok && !open) ok = os_protect_part(&m, lo, data, OS_PROT_RW);
  if (!ok) {
    os_unmap(m);
    if (rest.base) os_unmap(rest);
    return NULL;
  }
  if (resident && (zero || CFG.zero)) memset(lo, 0, data); /* old bytes: none pass on */
  char *start = top - usable;
  large_rec_t *n = insert_live(start, usable, m);
  if (!n) {
    os_unmap(m);
    if (rest.base) os_unmap(rest);
    return NULL;
  }
  n->inner = open ? lo - OS_PAGE : inner ? MIN(inner, lo - OS_PAGE) : NULL; /* an upper bound */
  if (rest.base) { /* a record of its own: "start" the bottom of its data pages */
    char *rs = (char *)rest.base + OS_PAGE;
    large_rec_t *c = insert((uintptr_t)rs);
    if (!c) {
      os_unmap(rest);
      return start;
    }
    c->start = rs;
    c->usable = rest.size - 2 * OS_PAGE;
    c->map = rest;
    c->resident = resident;
    c->inner = inner ? MIN(inner, (char *)rest.base + rest.size - 2 * OS_PAGE) : NULL;
    if (resident) g_res += c->usable;
    cache_put(c, freed);
  }
  return start;
}

void *large_alloc(size_t n, size_t align, bool zero) {
  size_t a = MAX(align, ALLOC_MIN_ALIGN);
  /* Above a page of alignment the block fills its pages (start aligned and
   * end at a page end both hold). */
  size_t usable = a <= OS_PAGE ? ALIGN_UP(n, a) : ALIGN_UP(n, OS_PAGE);
  if (usable < n) return NULL;
  size_t data = ALIGN_UP(usable, OS_PAGE), total = data + 2 * OS_PAGE;
  size_t off = OS_PAGE + data - usable; /* start, from the mapping's base */
  pthread_mutex_lock(&g_mu);
  quar_evict(false);
  cache_evict(now_ms(), false);
  char *cached = a <= OS_PAGE ? cache_take(usable, data, zero) : NULL;
  if (cached) {
    size_t held = find(ALIGN_DOWN((uintptr_t)cached, OS_PAGE))->map.size;
    g_live++;
    g_live_bytes += usable;
    g_allocs++;
    pthread_mutex_unlock(&g_mu);
    peak_counter_add(&alloc_held_bytes, (ptrdiff_t)held);
    return cached;
  }
  os_mapping_t m = os_map_tagged(total, a <= OS_PAGE ? OS_PAGE : a, a <= OS_PAGE ? 0 : off, TAG_LARGE);
  if (!m.base) { /* give back what is held, then once more */
    quar_evict(true);
    cache_evict(0, true);
    pthread_mutex_unlock(&g_mu);
    tc_flush_all_own();
    slab_trim(0);
    pthread_mutex_lock(&g_mu);
    m = os_map_tagged(total, a <= OS_PAGE ? OS_PAGE : a, a <= OS_PAGE ? 0 : off, TAG_LARGE);
    if (!m.base) {
      pthread_mutex_unlock(&g_mu);
      return NULL;
    }
  }
  /* fresh: nothing to release.  Markers when they work (m stays RW), else
   * PROT_NONE. */
  if (!gm_install(m.base, OS_PAGE) || !gm_install((char *)m.base + total - OS_PAGE, OS_PAGE)) {
    os_protect_part(&m, m.base, OS_PAGE, OS_PROT_NONE);
    os_protect_part(&m, (char *)m.base + total - OS_PAGE, OS_PAGE, OS_PROT_NONE);
  }
  char *start = (char *)m.base + off;
  large_rec_t *r = insert_live(start, usable, m);
  if (!r) {
    os_unmap(m);
    pthread_mutex_unlock(&g_mu);
    return NULL;
  }
  g_live++;
  g_live_bytes += usable;
  g_allocs++;
  pthread_mutex_unlock(&g_mu);
  peak_counter_add(&alloc_held_bytes, (ptrdiff_t)total);
  (void)zero; /* a fresh mapping reads as zero (cache_take zeroes a reused one) */
  return start;
}

/* The record whose block p points into (any byte), under g_mu; walks back
 * page by page through pages the ownership map says are large mappings. */
static large_rec_t *find_interior(const void *p) {
  uintptr_t pg = ALIGN_DOWN((uintptr_t)p, OS_PAGE);
  for (int k = 0; k < (1 << 20) && pg && os_tag_of((void *)pg) == TAG_LARGE; k++, pg -= OS_PAGE) {
    large_rec_t *r = find(pg);
    if (r) return (uintptr_t)p >= (uintptr_t)r->start && (uintptr_t)p < (uintptr_t)r->start + r->usable ? r : NULL;
  }
  return NULL;
}

/* Under g_mu: the live record of block start p, or the fatal report. */
static large_rec_t *check_locked(const void *p, int op) {
  large_rec_t *r = find(ALIGN_DOWN((uintptr_t)p, OS_PAGE));
  if (r && r->start == p && r->state == ST_LIVE) return r;
  pthread_mutex_unlock(&g_mu);
  if (r && r->start == p) chk_report(BAD_DOUBLE_LARGE, op, p);
  chk_report(os_tag_of(p) == TAG_LARGE ? BAD_NOT_LIVE : BAD_FOREIGN, op, p);
}

bool large_check(const void *p, int op, large_info_t *out) {
  pthread_mutex_lock(&g_mu);
  large_rec_t *r;
  if (op == HEAP_OP_OBJECT_SIZE) {
    r = find_interior(p);
    if (!r || r->state != ST_LIVE) {
      pthread_mutex_unlock(&g_mu);
      return false;
    }
  } else {
    r = check_locked(p, op);
  }
  out->start = r->start;
  out->usable = r->usable;
  out->kind = r->kind;
  pthread_mutex_unlock(&g_mu);
  return true;
}

uint8_t large_swap_kind(const void *p, uint8_t kind) {
  pthread_mutex_lock(&g_mu);
  large_rec_t *r = check_locked(p, HEAP_OP_FREE);
  uint8_t old = r->kind;
  r->kind = kind;
  pthread_mutex_unlock(&g_mu);
  return old;
}

void large_free(void *p, size_t claimed, size_t align) {
  pthread_mutex_lock(&g_mu);
  large_rec_t *r = check_locked(p, HEAP_OP_FREE);
  if (claimed > r->usable || (align && ((uintptr_t)p & (align - 1)))) {
    size_t u = r->usable;
    pthread_mutex_unlock(&g_mu);
    if (claimed > u)
      alloc_fatal_size(alloc_check_name(ALLOC_CHECK_SIZE_MISMATCH), p, claimed, u);
    ALLOC_FATAL(ALIGN_MISMATCH, p);
  }
  if (CFG.kind && r->kind != KIND_MALLOC) {
    pthread_mutex_unlock(&g_mu);
    ALLOC_FATAL(KIND_MISMATCH, p);
  }
  g_live--;
  g_live_bytes -= r->usable;
  size_t total = r->map.size;
  uint64_t now = now_ms();
  if (!CFG.large_quarantine && !cacheable(r)) {
    drop(r);
  } else if (CFG.large_quarantine) {
    uintptr_t key = r->key;
    r->state = ST_QUAR;
    r->freed_ms = now;
    quarantine_close(key, now);
    quar_evict(false);
    g_quar[(g_qhead + g_qn) % LQ_MAX] = key;
    g_qn++;
    g_qbytes += total;
    quar_evict(false);
  } else {
    close_freed(r);
    cache_put(r, now);
    quar_evict(false);
  }
  cache_evict(now, false);
  pthread_mutex_unlock(&g_mu);
  peak_counter_add(&alloc_held_bytes, -(ptrdiff_t)total);
}

bool large_trim(bool all) {
  pthread_mutex_lock(&g_mu);
  bool any = g_qn != 0 || g_cn != 0;
  quar_evict(all);
  cache_evict(now_ms(), all);
  pthread_mutex_unlock(&g_mu);
  return any;
}

/* Every record: in the table where its hash puts it, the quarantine
 * bounded and pointing at quarantined records. */
size_t large_validate(void) {
  pthread_mutex_lock(&g_mu);
  size_t live = 0, quar = 0, bytes = 0, cached = 0, cbytes = 0, res = 0;
  for (size_t j = 0; j < g_cap; j++) {
    large_rec_t *r = &g_tab[j];
    if (r->key <= REC_DELETED) continue;
    if (find(r->key) != r || ALIGN_DOWN((uintptr_t)r->start, OS_PAGE) != r->key ||
        (char *)r->start + r->usable != (char *)r->map.base + r->map.size - OS_PAGE ||
        os_tag_of(r->start) != TAG_LARGE)
      ALLOC_FATAL(VALIDATE, r->start);
    if (r->state == ST_LIVE) live++;
    else if (r->state == ST_QUAR) quar++, bytes += r->map.size;
    else if (r->state == ST_CACHE) cached++, cbytes += r->map.size;
    else ALLOC_FATAL(VALIDATE, r->start);
    if (r->resident && r->state != ST_CACHE) ALLOC_FATAL(VALIDATE, r->start);
    res += r->resident ? data_of(r) : 0;
  }
  if (live != g_live || quar != g_qn || bytes != g_qbytes || g_qn > LQ_MAX || cached != g_cn ||
      cbytes != g_cbytes || g_cn > LC_MAX || g_cbytes > LC_BYTES || res != g_res ||
      g_res > LRES_BYTES)
    ALLOC_FATAL(VALIDATE, &g_live);
  for (uint32_t k = 0; k < g_cn; k++) {
    large_rec_t *r = find(g_cache[k]);
    if (!r || r->state != ST_CACHE) ALLOC_FATAL(VALIDATE, (void *)g_cache[k]);
  }
  for (uint32_t k = 0; k < g_qn; k++) {
    large_rec_t *r = find(g_quar[(g_qhead + k) % LQ_MAX]);
    if (!r || r->state != ST_QUAR) ALLOC_FATAL(VALIDATE, (void *)g_quar[(g_qhead + k) % LQ_MAX]);
  }
  pthread_mutex_unlock(&g_mu);
  return live;
}

void large_stats(uint64_t *allocs, uint64_t *live, uint64_t *quar, uint64_t *bytes) {
  pthread_mutex_lock(&g_mu);
  *allocs = g_allocs;
  *live = g_live;
  *quar = g_qn;
  *bytes = g_live_bytes;
  pthread_mutex_unlock(&g_mu);
}

void large_fork_prepare(void) { pthread_mutex_lock(&g_mu); }
void large_fork_parent(void) { pthread_mutex_unlock(&g_mu); }
void large_fork_child(void) { pthread_mutex_init(&g_mu, NULL); }
