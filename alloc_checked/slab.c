/* slab.c - slabs and their out-of-band metadata: the size-class table, the
 * chunk table (chunk -> slab meta), the meta pool, and the class-locked
 * moves of free slots between slabs and thread caches.
 *
 * A slab is one mapping: a guard page, the 64 KiB-aligned chunk of slots, a
 * guard page.  Its meta sits in the meta pool (other mappings, each chunk of
 * the pool between guard pages), so an overflow out of a slot meets a guard
 * page or another slot's canary, never a header.  Empty slabs beyond a few
 * per class are unmapped when their last slot comes back; the free pages of
 * half-empty slabs are released before the heap maps a new slab (purge).
 */
#include "internal.h"

const size_class_t chk_classes[NCLASSES] = {
#define CHK_CLASS_ROW(s) \
  {s, (uint32_t)(SPAN_OF(s) / (s)), (uint32_t)SPAN_OF(s), (uint32_t)TC_CAP_OF(s),             \
   (((uint64_t)1 << 40) + (s) - 1) / (s)},
    CHK_CLASS_LIST(CHK_CLASS_ROW)
#undef CHK_CLASS_ROW
};
class_state_t chk_class[NCLASSES];
slab_meta_t **chk_radix[RADIX_L1];
static pthread_mutex_t g_meta_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_slabs;

/* Empty slabs a class keeps mapped: two of the small spans, one of the big. */
#define EMPTY_KEEP(cls) (chk_classes[cls].span <= 4 * CHUNK ? 2u : 1u)
/* Class cls (whose lock the caller holds) is about to map a new slab: the
 * other classes' slabs give back first what they can (the purge below).
 * Trylock only: a busy class is skipped (no lock order between classes). */
static void purge_others(uint32_t cls);

void heap_setup(void) {
  /* The lookup table lives in the config page, sealed by chk_cfg_init. */
  uint8_t *lut = CFG.lut;
  uint32_t c = 1;
  for (size_t g = 0; g <= LUT_MAX / 16; g++) {
    size_t need = g ? g * 16 : 1;
    while (chk_classes[c].size < need) c++;
    lut[g] = (uint8_t)c;
  }
  for (uint32_t i = 0; i < NCLASSES; i++) pthread_mutex_init(&chk_class[i].mu, NULL);
}

/* ---- the meta pool: records of the heap itself, never beside user data ---- */
#define POOL_CHUNK ((size_t)1 << 20)
typedef struct pool_free {
  struct pool_free *next;
} pool_free_t;
static char *g_pool_cur, *g_pool_end;
static pool_free_t *g_pool_free[4]; /* by size bucket: exact sizes only */
static size_t g_pool_size[4];

/* Zeroed memory of size bytes (a multiple of 64) for heap records. */
void *meta_alloc(size_t size) {
  size = ALIGN_UP(size, 64);
  pthread_mutex_lock(&g_meta_mu);
  for (int b = 0; b < 4; b++) {
    if (g_pool_size[b] == size && g_pool_free[b]) {
      pool_free_t *f = g_pool_free[b];
      g_pool_free[b] = f->next;
      pthread_mutex_unlock(&g_meta_mu);
      memset(f, 0, size);
      return f;
    }
  }
  if ((size_t)(g_pool_end - g_pool_cur) < size) {
    size_t want = MAX(POOL_CHUNK, ALIGN_UP(size, OS_PAGE)) + 2 * OS_PAGE;
    os_mapping_t m = os_map_tagged(want, OS_PAGE, 0, TAG_META);
    if (!m.base) {
      pthread_mutex_unlock(&g_meta_mu);
      return NULL;
    }
    os_guard(&m, m.base, OS_PAGE);
    os_guard(&m, (char *)m.base + want - OS_PAGE, OS_PAGE);
    os_name(m.base, want, "alloc_checked meta");
    g_pool_cur = (char *)m.base + OS_PAGE;
    g_pool_end = (char *)m.base + want - OS_PAGE;
  }
  void *p = g_pool_cur;
  g_pool_cur += size;
  pthread_mutex_unlock(&g_meta_mu);
  return p;
}

void meta_free(void *p, size_t size) {
  size = ALIGN_UP(size, 64);
  pthread_mutex_lock(&g_meta_mu);
  for (int b = 0; b < 4; b++) {
    if (g_pool_size[b] == 0) g_pool_size[b] = size;
    if (g_pool_size[b] == size) {
      pool_free_t *f = p;
      f->next = g_pool_free[b];
      g_pool_free[b] = f;
      break;
    }
  }
  pthread_mutex_unlock(&g_meta_mu); /* a fifth size would leak; there are two */
}

static bool radix_set1(uintptr_t a, slab_meta_t *m) {
  slab_meta_t **leaf = __atomic_load_n(&chk_radix[a >> 32], __ATOMIC_ACQUIRE);
  if (!leaf) {
    pthread_mutex_lock(&g_meta_mu);
    leaf = chk_radix[a >> 32];
    if (!leaf) {
      /* A leaf sits between guard pages, as every other metadata mapping:
       * a run over its end faults instead of reaching a neighbour.  Leaves
       * are never unmapped. */
      size_t bytes = RADIX_LEAF * sizeof(void *);
      os_mapping_t lm = os_map_tagged(bytes + 2 * OS_PAGE, OS_PAGE, 0, TAG_META);
      if (lm.base && os_guard(&lm, lm.base, OS_PAGE) &&
          os_guard(&lm, (char *)lm.base + OS_PAGE + bytes, OS_PAGE)) {
        os_name(lm.base, lm.size, "alloc_checked chunk table");
        leaf = (slab_meta_t **)(void *)((char *)lm.base + OS_PAGE);
        __atomic_store_n(&chk_radix[a >> 32], leaf, __ATOMIC_RELEASE);
      } else if (lm.base) {
        os_unmap(lm);
      }
    }
    pthread_mutex_unlock(&g_meta_mu);
    if (!leaf) return false;
  }
  __atomic_store_n(&leaf[(a >> CHUNK_SHIFT) & (RADIX_LEAF - 1)], m, __ATOMIC_RELEASE);
  return true;
}

/* Every chunk of the span at a maps to m. */
static bool radix_set(uintptr_t a, size_t span, slab_meta_t *m) {
  for (size_t k = 0; k < span; k += CHUNK)
    if (!radix_set1(a + k, m)) return false;
  return true;
}

/* ---- slabs -------------------------------------------------------------------- */

/* A new slab of class cls (class lock held), every slot avail. */
static slab_meta_t *slab_new(uint32_t cls) {
  const size_class_t *sc = &chk_classes[cls];
  slab_meta_t *m = meta_alloc(sizeof *m);
  if (!m) return NULL;
  /* Class 0 (malloc(0)) is a reservation never committed: PROT_NONE. */
  size_t span = sc->span;
  os_mapping_t map = cls == 0 ? os_reserve(span, CHUNK, TAG_SLAB)
                              : os_map_tagged(span + 2 * OS_PAGE, CHUNK, OS_PAGE, TAG_SLAB);
  if (!map.base) {
    meta_free(m, sizeof *m);
    return NULL;
  }
  uintptr_t base = (uintptr_t)map.base + (cls == 0 ? 0 : OS_PAGE);
  if (cls != 0) {
    os_protect_part(&map, map.base, OS_PAGE, OS_PROT_NONE); /* fresh: nothing to release */
    os_protect_part(&map, (void *)(base + span), OS_PAGE, OS_PROT_NONE);
  }
  m->base = base;
  m->map = map;
  m->cls = cls;
  m->nslots = sc->nslots;
  m->navail = sc->nslots;
  for (uint32_t i = 0; i < sc->nslots; i++) m->avail[i >> 6] |= (uint64_t)1 << (i & 63);
  if (!radix_set(base, span, m)) {
    radix_set(base, span, NULL);
    os_unmap(map);
    meta_free(m, sizeof *m);
    return NULL;
  }
  list_push_back(&chk_class[cls].all, &m->all);
  __atomic_add_fetch(&g_slabs, 1, __ATOMIC_RELAXED);
  if (cls != 0) peak_counter_add(&alloc_held_bytes, (ptrdiff_t)span);
  return m;
}

static void slab_free(slab_meta_t *m) {
  list_unlink(&chk_class[m->cls].all, &m->all);
  radix_set(m->base, chk_classes[m->cls].span, NULL);
  os_unmap(m->map);
  if (m->cls != 0) peak_counter_add(&alloc_held_bytes, -(ptrdiff_t)chk_classes[m->cls].span);
  __atomic_sub_fetch(&g_slabs, 1, __ATOMIC_RELAXED);
  meta_free(m, sizeof *m);
}

uint32_t slab_refill(uint32_t cls, void **out, uint32_t max) {
  class_state_t *cs = &chk_class[cls];
  uint32_t got = 0;
  pthread_mutex_lock(&cs->mu);
  while (got < max) {
    list_node_t *nd = cs->partial.head;
    slab_meta_t *m = LIST_ENTRY_OR_NULL(nd, slab_meta_t, node);
    if (!m) {
      purge_others(cls);
      m = slab_new(cls);
      if (!m) break;
      list_push_front(&cs->partial, &m->node);
      m->on_partial = true;
      cs->nempty++;
    }
    if (m->navail == m->nslots) cs->nempty--;
    /* Take from a random word onwards, so which slots a cache holds is not
     * the order they sit in the slab. */
    uint32_t words = (m->nslots + 63) / 64;
    uint32_t w0 = (uint32_t)(rand_next() % words);
    for (uint32_t k = 0; k < words && got < max; k++) {
      uint32_t w = (w0 + k) % words;
      while (m->avail[w] && got < max) {
        uint32_t b = (uint32_t)__builtin_ctzll(m->avail[w]);
        m->avail[w] &= m->avail[w] - 1;
        out[got++] = slot_addr(m, w * 64 + b);
        m->navail--;
      }
    }
    if (m->navail == 0) {
      list_unlink(&cs->partial, &m->node);
      m->on_partial = false;
    }
  }
  pthread_mutex_unlock(&cs->mu);
  return got;
}

/* ---- purge: free pages back to the kernel -------------------------------------
 * A slot that went back to its slab (avail) holds zeros (zero feature) or
 * old bytes, and its pages stay resident: a slab of which a few slots live
 * on keeps every page the program ever touched, and a heap that peaked in
 * one set of classes keeps that peak while it works in others (frag: 2.6x
 * glibc's peak).  So when a class must map a new slab (the heap would
 * grow), the slabs of the other classes that are at least half avail, with
 * PURGE_BYTES of slots come back since their last purge, release every
 * page that only avail slots overlap (MADV_DONTNEED: it reads zero again).
 * Only then: a purge on every return costs a page fault per reuse in a
 * steady churn (measured: 3 GB released and 0.7 s of system time in churn
 * against 0.06 GB this way).
 *   Zero feature on: the bytes released are checked to read zero first, so
 * a write after free into a slot waiting in its slab is still caught, at
 * the purge instead of at its reuse; their used bits stay set, so a later
 * take still checks the whole slot (released pages read zero again), and a
 * write after the purge is caught at reuse as before.  Slots in caches and
 * quarantines, and live ones, are never touched. */
#define PURGE_BYTES(span) MIN((size_t)64 << 10, (size_t)(span) / 4)

static bool purge_due(const slab_meta_t *m) {
  const size_class_t *sc = &chk_classes[m->cls];
  return m->navail * 2 >= m->nslots && (size_t)m->nret * sc->size >= PURGE_BYTES(sc->span);
}

/* Whether slots first..last (inclusive) of m are all avail. */
static bool all_avail(const slab_meta_t *m, uint32_t first, uint32_t last) {
  for (uint32_t i = first; i <= last;) {
    uint32_t w = i >> 6, b = i & 63, n = MIN(64 - b, last - i + 1);
    uint64_t mask = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << b;
    if ((m->avail[w] & mask) != mask) return false;
    i += n;
  }
  return true;
}

/* Release [lo, hi) of m's span (a run of pages only avail slots overlap;
 * top: where its slots end), its bytes checked first (zero feature). */
static void purge_run(slab_meta_t *m, size_t lo, size_t hi, size_t top) {
  size_t size = chk_classes[m->cls].size;
  if (CFG.zero) {
    const uint64_t *w = (const uint64_t *)(m->base + lo);
    for (size_t k = 0; k < (MIN(hi, top) - lo) / 8; k++)
      if (w[k]) ALLOC_FATAL(WRITE_AFTER_FREE, slot_addr(m, (uint32_t)((lo + 8 * k) / size)));
  }
  os_decommit((char *)m->base + lo, hi - lo);
}

/* Release the pages of m that only avail slots overlap (class lock held). */
static void slab_purge(slab_meta_t *m) {
  const size_class_t *sc = &chk_classes[m->cls];
  size_t top = (size_t)m->nslots * sc->size, run = 0;
  bool in_run = false;
  m->nret = 0;
  if (m->cls == 0) return; /* never committed */
  for (size_t o = 0; o < top; o += OS_PAGE) {
    uint32_t first = (uint32_t)(o / sc->size);
    uint32_t last = (uint32_t)(MIN(o + OS_PAGE, top) - 1) / sc->size;
    bool free_page = all_avail(m, first, last);
    if (free_page && !in_run) run = o, in_run = true;
    if (!free_page && in_run) purge_run(m, run, o, top), in_run = false;
  }
  if (in_run) purge_run(m, run, ALIGN_UP(top, OS_PAGE), top);
}

static void purge_others(uint32_t cls) {
  for (uint32_t c = 1; c < NCLASSES; c++) {
    class_state_t *cs = &chk_class[c];
    if (c == cls || pthread_mutex_trylock(&cs->mu) != 0) continue;
    for (list_node_t *nd = cs->partial.head; nd; nd = nd->next) {
      slab_meta_t *m = LIST_ENTRY(nd, slab_meta_t, node);
      if (purge_due(m)) slab_purge(m);
    }
    pthread_mutex_unlock(&cs->mu);
  }
}

void slab_return(uint32_t cls, void *const *slots, uint32_t n) {
  class_state_t *cs = &chk_class[cls];
  pthread_mutex_lock(&cs->mu);
  for (uint32_t k = 0; k < n; k++) {
    uint32_t idx;
    slab_meta_t *m = slot_of(slots[k], &idx);
    if (!m || m->cls != cls) ALLOC_FATAL(METADATA_CORRUPT, slots[k]);
    uint64_t bit = (uint64_t)1 << (idx & 63);
    if ((m->avail[idx >> 6] & bit) || slot_live(m, idx))
      ALLOC_FATAL(METADATA_CORRUPT, slots[k]);
    m->avail[idx >> 6] |= bit;
    m->navail++;
    if (!m->on_partial) {
      list_push_back(&cs->partial, &m->node);
      m->on_partial = true;
    }
    m->nret++;
    if (m->navail == m->nslots) {
      if (cs->nempty >= EMPTY_KEEP(cls)) {
        list_unlink(&cs->partial, &m->node);
        slab_free(m);
        continue;
      }
      cs->nempty++;
    }
  }
  pthread_mutex_unlock(&cs->mu);
}

bool slab_trim(uint32_t keep) {
  bool any = false;
  for (uint32_t c = 0; c < NCLASSES; c++) {
    class_state_t *cs = &chk_class[c];
    pthread_mutex_lock(&cs->mu);
    for (list_node_t *nd = cs->partial.head, *next; nd; nd = next) {
      next = nd->next;
      slab_meta_t *m = LIST_ENTRY(nd, slab_meta_t, node);
      if (m->navail == m->nslots && cs->nempty > keep) {
        list_unlink(&cs->partial, nd);
        cs->nempty--;
        slab_free(m);
        any = true;
      }
    }
    pthread_mutex_unlock(&cs->mu);
  }
  return any;
}

/* Every slab of every class: bitmaps consistent with the counts and the
 * lists.  Returns the live slots. */
size_t slab_validate(void) {
  size_t live = 0;
  for (uint32_t c = 0; c < NCLASSES; c++) {
    class_state_t *cs = &chk_class[c];
    pthread_mutex_lock(&cs->mu);
    uint32_t empty = 0, partial = 0, onp = 0;
    for (list_node_t *nd = cs->partial.head; nd; nd = nd->next) partial++;
    for (list_node_t *nd = cs->all.head; nd; nd = nd->next) {
      slab_meta_t *m = LIST_ENTRY(nd, slab_meta_t, all);
      uint32_t na = 0;
      if (m->cls != c || m->nslots != chk_classes[c].nslots || chunk_meta(m->base) != m ||
          m->on_partial != (m->navail > 0) || (m->base & (CHUNK - 1)))
        ALLOC_FATAL(VALIDATE, (void *)m->base);
      for (uint32_t w = 0; w < BITMAP_WORDS; w++) {
        uint64_t lv = 0;
        for (uint32_t b = 0; b < 64; b++) {
          uint8_t st = slot_state(m, w * 64 + b);
          if (st > SLOT_STATE_MAX) ALLOC_FATAL(VALIDATE, slot_addr(m, w * 64 + b));
          lv |= (uint64_t)(st != SLOT_FREE) << b;
        }
        if (lv & m->avail[w]) ALLOC_FATAL(VALIDATE, slot_addr(m, w * 64));
        uint32_t left = m->nslots > w * 64 ? m->nslots - w * 64 : 0;
        uint64_t valid = left >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << left) - 1;
        if ((lv | m->avail[w]) & ~valid) ALLOC_FATAL(VALIDATE, slot_addr(m, w * 64)); /* past the end */
        na += (uint32_t)__builtin_popcountll(m->avail[w]);
        live += (size_t)__builtin_popcountll(lv);
      }
      if (na != m->navail) ALLOC_FATAL(VALIDATE, (void *)m->base);
      empty += m->navail == m->nslots;
      onp += m->on_partial;
    }
    if (empty != cs->nempty || onp != partial) ALLOC_FATAL(VALIDATE, &cs->nempty);
    pthread_mutex_unlock(&cs->mu);
  }
  return live;
}

uint64_t slab_count(void) { return __atomic_load_n(&g_slabs, __ATOMIC_RELAXED); }

void slab_fork_prepare(void) {
  for (uint32_t c = 0; c < NCLASSES; c++) pthread_mutex_lock(&chk_class[c].mu);
  pthread_mutex_lock(&g_meta_mu);
}
void slab_fork_parent(void) {
  pthread_mutex_unlock(&g_meta_mu);
  for (uint32_t c = NCLASSES; c-- > 0;) pthread_mutex_unlock(&chk_class[c].mu);
}
void slab_fork_child(void) {
  pthread_mutex_init(&g_meta_mu, NULL);
  for (uint32_t c = 0; c < NCLASSES; c++) pthread_mutex_init(&chk_class[c].mu, NULL);
}
