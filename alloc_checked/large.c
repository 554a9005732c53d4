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
 */
#include "clock.h"
#include "heap.h"
#include "internal.h"

typedef struct large_rec {
  uintptr_t key; /* page of start; 0 empty, 1 deleted */
  void *start;
  size_t usable;
  os_mapping_t map;
  uint64_t freed_ms;
  uint8_t state; /* LIVE or QUAR */
  uint8_t kind;
} large_rec_t;
enum { REC_EMPTY = 0, REC_DELETED = 1 };
enum { ST_LIVE = 1, ST_QUAR = 2 };

#define LQ_MAX 64
#define LQ_BYTES ((size_t)128 << 20)

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static os_mapping_t g_tab_map;
static large_rec_t *g_tab;
static size_t g_cap, g_used; /* used: live + quarantined + deleted marks */
static size_t g_live, g_live_bytes;
static uint64_t g_allocs;
static uintptr_t g_quar[LQ_MAX]; /* keys, FIFO */
static uint32_t g_qhead, g_qn;
static size_t g_qbytes;

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

static void drop(large_rec_t *r) { /* the mapping goes back to the kernel */
  os_unmap(r->map);
  memset(r, 0, sizeof *r);
  r->key = REC_DELETED;
}

/* Oldest quarantined mapping out, while a bound is exceeded (or all). */
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
  os_mapping_t m = os_map_tagged(total, a <= OS_PAGE ? OS_PAGE : a, a <= OS_PAGE ? 0 : off, TAG_LARGE);
  if (!m.base) { /* give back what is held, then once more */
    quar_evict(true);
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
  os_protect_part(&m, m.base, OS_PAGE, OS_PROT_NONE); /* fresh: nothing to release */
  os_protect_part(&m, (char *)m.base + total - OS_PAGE, OS_PAGE, OS_PROT_NONE);
  char *start = (char *)m.base + off;
  large_rec_t *r = insert(ALIGN_DOWN((uintptr_t)start, OS_PAGE));
  if (!r) {
    os_unmap(m);
    pthread_mutex_unlock(&g_mu);
    return NULL;
  }
  r->start = start;
  r->usable = usable;
  r->map = m;
  r->state = ST_LIVE;
  r->kind = KIND_MALLOC;
  g_live++;
  g_live_bytes += usable;
  g_allocs++;
  pthread_mutex_unlock(&g_mu);
  peak_counter_add(&alloc_held_bytes, (ptrdiff_t)total);
  (void)zero; /* a fresh mapping reads as zero */
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
  if (CFG.large_quarantine) {
    os_guard(&r->map, r->map.base, r->map.size); /* PROT_NONE, pages released */
    r->state = ST_QUAR;
    r->freed_ms = now_ms();
    quar_evict(false);
    g_quar[(g_qhead + g_qn) % LQ_MAX] = r->key;
    g_qn++;
    g_qbytes += total;
    quar_evict(false);
  } else {
    drop(r);
    quar_evict(false);
  }
  pthread_mutex_unlock(&g_mu);
  peak_counter_add(&alloc_held_bytes, -(ptrdiff_t)total);
}

bool large_trim(bool all) {
  pthread_mutex_lock(&g_mu);
  bool any = g_qn != 0;
  quar_evict(all);
  pthread_mutex_unlock(&g_mu);
  return any;
}

/* Every record: in the table where its hash puts it, the quarantine
 * bounded and pointing at quarantined records. */
size_t large_validate(void) {
  pthread_mutex_lock(&g_mu);
  size_t live = 0, quar = 0, bytes = 0;
  for (size_t j = 0; j < g_cap; j++) {
    large_rec_t *r = &g_tab[j];
    if (r->key <= REC_DELETED) continue;
    if (find(r->key) != r || ALIGN_DOWN((uintptr_t)r->start, OS_PAGE) != r->key ||
        (char *)r->start + r->usable != (char *)r->map.base + r->map.size - OS_PAGE ||
        os_tag_of(r->start) != TAG_LARGE)
      ALLOC_FATAL(VALIDATE, r->start);
    if (r->state == ST_LIVE) live++;
    else if (r->state == ST_QUAR) quar++, bytes += r->map.size;
    else ALLOC_FATAL(VALIDATE, r->start);
  }
  if (live != g_live || quar != g_qn || bytes != g_qbytes || g_qn > LQ_MAX)
    ALLOC_FATAL(VALIDATE, &g_live);
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
