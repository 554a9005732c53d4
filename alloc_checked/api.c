/* api.c - alloc_checked's core operations (heap.h) beyond the hot pair:
 * every pointer that enters is validated here against out-of-band state
 * (chunk table, slab bitmaps, large records) before anything is trusted, and
 * each failure ends in one fixed fatal line (checks.h).
 */
#include "bootstrap.h"
#include "heap.h"
#include "internal.h"
#include "vg.h"

/* The fatal line for a pointer that entered through op and is bad as what. */
void chk_report(int what, int op, const void *p) {
  static const alloc_check_t tab[4][4] = {
      /* FREE, REALLOC, USABLE_SIZE (object size never reports) */
      [BAD_FOREIGN] = {0, ALLOC_CHECK_INVALID_FREE, ALLOC_CHECK_INVALID_REALLOC,
                       ALLOC_CHECK_INVALID_USABLE_SIZE},
      [BAD_NOT_LIVE] = {0, ALLOC_CHECK_INTERIOR_FREE, ALLOC_CHECK_REALLOC_NOT_LIVE,
                        ALLOC_CHECK_USABLE_SIZE_NOT_LIVE},
      [BAD_DOUBLE_SMALL] = {0, ALLOC_CHECK_DOUBLE_FREE_SMALL, ALLOC_CHECK_REALLOC_NOT_LIVE,
                            ALLOC_CHECK_USABLE_SIZE_NOT_LIVE},
      [BAD_DOUBLE_LARGE] = {0, ALLOC_CHECK_DOUBLE_FREE_LARGE, ALLOC_CHECK_REALLOC_NOT_LIVE,
                            ALLOC_CHECK_USABLE_SIZE_NOT_LIVE},
  };
  int o = op >= HEAP_OP_FREE && op <= HEAP_OP_USABLE_SIZE ? op : HEAP_OP_FREE;
  alloc_fatal(alloc_check_name(tab[what & 3][o]), p);
}

/* p is not a slot start of a slab: report it for op (never returns). */
static __attribute__((noreturn)) void bad_not_slot(const void *p, int op) {
  uint8_t t = os_tag_of(p);
  if (t == TAG_LARGE) {
    large_info_t li;
    large_check(p, op, &li); /* reports; returns only for a live block start */
    ALLOC_FATAL(ASSERTION, p);
  }
  chk_report(t != 0 || chunk_meta((uintptr_t)p) ? BAD_NOT_LIVE : BAD_FOREIGN, op, p);
}

/* Checks every entering small pointer passes (slot start found by the
 * caller): live, canary intact, claimed size and alignment, kind. */
static void small_check(const void *p, slab_meta_t *m, uint32_t idx, int op, size_t claimed,
                        size_t align) {
  uint32_t cls = m->cls;
  uint8_t st = slot_state(m, idx);
  if (st == SLOT_FREE) chk_report(BAD_DOUBLE_SMALL, op, p);
  size_t size = chk_classes[cls].size, usable = usable_of(cls);
  if (cls != 0 && CFG.canary &&
      *(const uint64_t *)((const char *)p + size - CANARY_BYTES) != canary_of(p))
    ALLOC_FATAL(CANARY, p);
  if (claimed > usable && !(cls == 0 && claimed == 0))
    alloc_fatal_size(alloc_check_name(ALLOC_CHECK_SIZE_MISMATCH), p, claimed, usable);
  /* free_sized (no alignment claimed) of a block malloc sized: the claimed
   * size must pick the block's class, as realloc keeps a slot only then. */
  if (claimed && !align && cls != 0 && chk_class_for(claimed) != cls)
    alloc_fatal_size(alloc_check_name(ALLOC_CHECK_SIZE_MISMATCH), p, claimed, usable);
  if (align && ((uintptr_t)p & (align - 1))) ALLOC_FATAL(ALIGN_MISMATCH, p);
  if (CFG.kind && st != SLOT_MALLOC) ALLOC_FATAL(KIND_MISMATCH, p);
}

static void free_checked(void *p, size_t claimed, size_t align) {
  if (unlikely(alloc_dying())) return; /* the fatal path ran: leak, take no lock */
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  if (!m) {
    if (os_tag_of(p) == TAG_LARGE) return large_free(p, claimed, align);
    bad_not_slot(p, HEAP_OP_FREE);
  }
  small_check(p, m, idx, HEAP_OP_FREE, claimed, align);
  tcache_t *tc = tls_tc ? tls_tc : tc_get_slow();
  uint32_t cls = m->cls;
  if (tc && cls != 0) return chk_free_fast(tc, p, m, idx);
  if (!slot_release(m, idx, slot_state(m, idx))) chk_report(BAD_DOUBLE_SMALL, HEAP_OP_FREE, p);
  if (cls != 0 && CFG.zero) memset(p, 0, chk_classes[cls].size);
  if (tc && tc->bin[0].n < chk_classes[0].tc_cap) { /* class 0, cached */
    tc->bin[0].slot[tc->bin[0].n++] = p;
    tc->nfree[0]++;
    return;
  }
  __atomic_add_fetch(&chk_class[cls].frees, 1, __ATOMIC_RELAXED);
  slab_return(cls, &p, 1);
}

void chk_free_slow(void *p) { free_checked(p, 0, 0); }

void heap_free_sized(void *p, size_t n) { free_checked(p, n, 0); }
void heap_free_aligned_sized(void *p, size_t align, size_t n) { free_checked(p, n, align ? align : 1); }

/* The usable size of the live block p (fatal for anything else). */
static size_t live_usable(const void *p, int op) {
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  if (!m) {
    large_info_t li;
    if (os_tag_of(p) == TAG_LARGE && large_check(p, op, &li)) return li.usable;
    bad_not_slot(p, op);
  }
  small_check(p, m, idx, op, 0, 0);
  return usable_of(m->cls);
}

size_t heap_usable_size(const void *p) { return live_usable(p, HEAP_OP_USABLE_SIZE); }

void *heap_realloc(void *p, size_t n) {
  size_t u = live_usable(p, HEAP_OP_REALLOC);
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  if (m && m->cls != 0 && chk_class_for(n) == m->cls) return p;  /* same slot fits */
  if (!m && n <= u && n > u / 2 && n > SMALL_MAX) return p;       /* large, in place */
  /* A large block that grows to a large size gets headroom (half again),
   * so a string grown a few bytes at a time does not map a new block each
   * time; its usable size says so, and its end is still at the guard page.
   * One that grows to a size a slot holds (memalign(131072, 0) grown to 48
   * bytes) gets a slot, as malloc would give: it was given a mapping of its
   * own, found by the fuzzer (regressions/checked/b215698ec2c2.bin). */
  void *q = !m && n > u && chk_class_for(n) == NCLASSES ? large_alloc(MAX(n, u + u / 2), ALLOC_MIN_ALIGN, false)
                                                         : heap_malloc(n);
  if (!q) return NULL;
  memcpy(q, p, MIN(u, n));
  heap_free(p);
  return q;
}

/* Whether the u usable bytes at p (u: a multiple of 8) read zero. */
static bool usable_is_zero(const void *p, size_t u) {
  size_t whole = u & ~(size_t)15;
  return slot_is_zero(p, whole) && (!(u & 8) || *(const uint64_t *)((const char *)p + whole) == 0);
}

void *heap_calloc(size_t n) {
  if (unlikely(n > SMALL_MAX - CANARY_BYTES)) { /* perhaps large: a reused mapping is zeroed */
    if (!tls_tc) tc_get_slow();
    if (alloc_ready() && !alloc_dying()) {
      chk_cfg_init();
      if (chk_class_for(n) == NCLASSES) return large_alloc(n, ALLOC_MIN_ALIGN, true);
    }
  }
  chk_took_fresh = false;
  void *p = heap_malloc(n);
  if (!p || bootstrap_owns(p)) return p;
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  /* A small slot reused was checked all-zero when it was taken (zero
   * feature); one never used skipped that check, and is as mmap gave it,
   * all zero unless an overflow from a neighbour reached it: checked here.
   * A large block came zeroed from large_alloc above. */
  if (m && m->cls != 0 &&
      (!CFG.zero || (chk_took_fresh && !usable_is_zero(p, usable_of(m->cls))))) {
    vg_open(p, usable_of(m->cls)); /* closed by the take; the override opens n bytes */
    memset(p, 0, usable_of(m->cls));
    vg_close(p, usable_of(m->cls));
  }
  return p;
}

void *heap_memalign(size_t align, size_t n) {
  if (!tls_tc) tc_get_slow();
  if (unlikely(!alloc_ready()) || unlikely(alloc_dying()))
    return bootstrap_alloc(n ? n : 1, align <= OS_PAGE ? align : OS_PAGE);
#if defined(FUZZ_PLANT) && FUZZ_PLANT /* make fuzz FUZZ_PLANT=1: every second memalign(256, */
  static void *planted; /* 513..1024) returns the first one's slot: handed out twice */
  if (align == 256 && n > 512 && n <= 1024 && !planted) return planted = heap_memalign(512, 1024);
  if (align == 256 && n > 512 && n <= 1024) { void *p = planted; planted = NULL; return p; }
#endif
  for (uint32_t c = chk_class_for(n ? n : 1); c < NCLASSES && align <= CHUNK; c++)
    if ((chk_classes[c].size & (align - 1)) == 0) return chk_alloc_class(c);
  return large_alloc(n, align, false);
}

/* Any pointer: the bytes from it to the end of the live block it is in,
 * ALLOC_OBJECT_SIZE_UNKNOWN when it is in none (never fatal, never reads
 * user memory). */
size_t heap_object_size(const void *p) {
  uintptr_t a = (uintptr_t)p;
  slab_meta_t *m = chunk_meta(a);
  if (m) {
    uint32_t cls = m->cls;
    if (cls >= NCLASSES) return ALLOC_OBJECT_SIZE_UNKNOWN;
    const size_class_t *sc = &chk_classes[cls];
    uintptr_t off = a - m->base;
    uint32_t i = (uint32_t)(((uint64_t)off * sc->inv) >> 40);
    if (off >= sc->span || i >= m->nslots) return ALLOC_OBJECT_SIZE_UNKNOWN;
    if (!slot_live(m, i)) return ALLOC_OBJECT_SIZE_UNKNOWN;
    uintptr_t end = m->base + (uintptr_t)i * sc->size + usable_of(cls);
    return a < end ? end - a : (a == end && cls == 0 ? 0 : ALLOC_OBJECT_SIZE_UNKNOWN);
  }
  large_info_t li;
  if (os_tag_of(p) == TAG_LARGE && large_check(p, HEAP_OP_OBJECT_SIZE, &li))
    return (size_t)((char *)li.start + li.usable - (const char *)p);
  return ALLOC_OBJECT_SIZE_UNKNOWN;
}

/* heap.h: the pointers the override keeps from the heap. */
void heap_check_early(const void *p, int op) {
  if (!bootstrap_owns(p)) {
    if (op == HEAP_OP_OBJECT_SIZE) return;
    live_usable(p, op);
    return;
  }
  switch (bootstrap_state(p)) {
  case BOOT_LIVE: return;
  case BOOT_FREED:
    if (op == HEAP_OP_FREE) ALLOC_FATAL(DOUBLE_FREE_BOOTSTRAP, p);
    if (op == HEAP_OP_OBJECT_SIZE) return;
    chk_report(BAD_NOT_LIVE, op, p);
  default:
    if (op == HEAP_OP_OBJECT_SIZE) return;
    if (op == HEAP_OP_FREE) ALLOC_FATAL(INTERIOR_FREE_BOOTSTRAP, p);
    chk_report(BAD_NOT_LIVE, op, p);
  }
}

/* ---- allocation kinds (C++ operators, common/override_cxx.cc) ---------------- */
void heap_kind_note(void *p, unsigned kind) {
  if (!p || !CFG.kind || bootstrap_owns(p)) return;
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  if (m) {
    if (slot_live(m, idx)) slot_set_kind(m, idx, kind); /* p is the caller's, just allocated */
  }
  else if (os_tag_of(p) == TAG_LARGE) large_swap_kind(p, (uint8_t)kind);
}

void heap_kind_check(void *p, unsigned kind) {
  if (!p || !CFG.kind || bootstrap_owns(p)) return;
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  uint8_t had;
  if (m) {
    if (!slot_live(m, idx)) return; /* not live: the free that follows reports it */
    had = (uint8_t)slot_kind(m, idx);
    if (had == kind) slot_set_kind(m, idx, KIND_MALLOC);
  } else if (os_tag_of(p) == TAG_LARGE) {
    had = large_swap_kind(p, KIND_MALLOC);
    if (had != kind) large_swap_kind(p, had);
  } else {
    return; /* not ours: the free that follows reports it */
  }
  if (had != kind) ALLOC_FATAL(KIND_MISMATCH, p);
}

/* ---- maintenance ------------------------------------------------------------ */
int heap_trim(size_t pad) {
  tc_flush_all_own();
  bool a = slab_trim(0);
  bool b = large_trim(true);
  return a || b;
}

size_t heap_validate(void) {
  tc_validate_own();
  tc_validate_other();
  return slab_validate() + large_validate();
}

void heap_stats(alloc_stats_t *s) {
  static uint64_t allocs[NCLASSES], frees[NCLASSES]; /* serialised by the stats callers */
  memset(allocs, 0, sizeof allocs);
  memset(frees, 0, sizeof frees);
  uint64_t threads, quar, lallocs, llive, lquar, lbytes;
  chk_tc_stats(allocs, frees, &threads, &quar);
  large_stats(&lallocs, &llive, &lquar, &lbytes);
  s->nclasses = NCLASSES;
  for (uint32_t c = 0; c < NCLASSES; c++) {
    s->cls[c].size = chk_classes[c].size;
    s->cls[c].allocs = allocs[c];
    s->cls[c].frees = frees[c];
    s->allocs += allocs[c];
    s->frees += frees[c];
    if (allocs[c] > frees[c]) s->bytes_live += (allocs[c] - frees[c]) * (c ? chk_classes[c].size : 0);
  }
  s->allocs += lallocs;
  s->frees += lallocs - llive;
  s->live_blocks = s->allocs > s->frees ? s->allocs - s->frees : 0;
  s->bytes_live += lbytes;
  s->bytes_peak = peak_counter_peak(&alloc_held_bytes);
  size_t held = peak_counter_now(&alloc_held_bytes);
  s->bytes_cached = held > s->bytes_live ? held - s->bytes_live : 0;
  s->large_allocs = lallocs;
  s->large_live = llive;
  s->threads = threads;
  s->slabs = slab_count();
  s->quarantined = quar;
  s->large_quarantined = lquar;
}

void heap_fork_prepare(void) {
  tc_fork_prepare();
  slab_fork_prepare();
  large_fork_prepare();
}
void heap_fork_parent(void) {
  large_fork_parent();
  slab_fork_parent();
  tc_fork_parent();
}
void heap_fork_child(void) {
  large_fork_child();
  slab_fork_child();
  tc_fork_child();
}

__attribute__((constructor)) static void heap_init_at_load(void) { alloc_init(); }
