/* tcache.c - per-thread caches of free slots and the slow paths of the hot
 * pair: start-up, the feature switches, refill and flush, thread exit and
 * the caches of threads that exited unseen, fork.
 *
 * A cache holds slot addresses the heap computed itself (from a slab's base
 * and an index), never values read from user memory.  A slot may be freed
 * by any thread into that thread's cache: slots belong to slabs, not to
 * threads, and their state is the slab's bitmap, so a cross-thread free is
 * an ordinary free.
 */
#include "bootstrap.h"
#include "heap.h"
#include "internal.h"
#include "vg.h"

__thread tcache_t *tls_tc __attribute__((tls_model("initial-exec")));
__thread bool chk_took_fresh __attribute__((tls_model("initial-exec")));
chk_cfg_page_t chk_cfg_page __attribute__((aligned(4096)));
static pthread_mutex_t g_tc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_cfg_mu = PTHREAD_MUTEX_INITIALIZER;
static list_t g_tcaches;
static uint64_t g_ntc;

/* An option of ours: 0 off, 1 on, 2 follow the preset (light_value under
 * the light preset, on under full). */
static bool feature(long v, bool light_value) {
  return v == 2 ? (alloc_opt.preset == 1 ? light_value : true) : v == 1;
}

void chk_cfg_init(void) {
  if (__atomic_load_n(&CFG.ready, __ATOMIC_ACQUIRE)) return;
  pthread_mutex_lock(&g_cfg_mu);
  if (!CFG.ready) {
    chk_cfg_t c = CFG; /* the lookup table heap_setup wrote */
    c.random = feature(alloc_opt.random, false);
    c.canary = feature(alloc_opt.canary, true);
    c.zero = feature(alloc_opt.zero, false);
    c.quarantine = feature(alloc_opt.quarantine, false);
    c.malloc0 = feature(alloc_opt.malloc0, true);
    c.large_quarantine = feature(alloc_opt.large_quarantine, false);
    c.kind = feature(alloc_opt.kind, true);
    /* Under memcheck (common/vg.h) the canary and the zero check are
     * memcheck's job: it reports the very byte, and our own reads of bytes
     * it was told are free or beyond a block would be errors to it. */
    if (vg_on) c.canary = c.zero = false;
    c.extra = c.canary ? CANARY_BYTES : 0;
    /* Every field but ready (the last), which other threads read unlocked
     * (the acquire load above): it is published last, by itself. */
    memcpy(&CFG, &c, offsetof(chk_cfg_t, ready));
    __atomic_store_n(&CFG.ready, true, __ATOMIC_RELEASE);
    os_seal(&chk_cfg_page, sizeof chk_cfg_page); /* read-only from now on */
  }
  pthread_mutex_unlock(&g_cfg_mu);
}

/* ---- moving slots between a cache and the slabs ------------------------------- */

/* Cache entries change by whole-word atomic stores (plain movs), so that
 * validate (tc_validate_other) can read another thread's cache while its
 * owner runs; an entry is cleared before its slot goes back to its slab. */
static ALWAYS_INLINE void entry_set(void **e, void *p) { __atomic_store_n(e, p, __ATOMIC_RELAXED); }

static void tc_release(tcache_t *tc) { /* every slot back to its slab */
  void *tmp[TC_SLOTS];
  for (uint32_t c = 0; c < NCLASSES; c++) {
    tc_bin_t *b = &tc->bin[c];
    uint32_t n = b->n;
    for (uint32_t k = 0; k < n; k++) { /* no stale copies (memcheck's leak check) */
      tmp[k] = b->slot[k];
      entry_set(&b->slot[k], NULL);
    }
    b->n = 0;
    slab_return(c, tmp, n);
  }
  for (uint32_t j = 0; j < QUAR_SLOTS; j++) {
    void *p = tc->quar[j];
    entry_set(&tc->quar[j], NULL);
    if (p) slab_return(tc->quar_cls[j], &p, 1);
  }
  tc->quar_n = 0;
}

void chk_bin_flush(tcache_t *tc, uint32_t cls) {
  tc_bin_t *b = &tc->bin[cls];
  void *tmp[TC_SLOTS];
  uint32_t half = b->n / 2, n = b->n;
  for (uint32_t k = 0; k < half; k++) tmp[k] = b->slot[k];
  for (uint32_t k = 0; k < n - half; k++) entry_set(&b->slot[k], b->slot[k + half]);
  for (uint32_t k = n - half; k < n; k++) entry_set(&b->slot[k], NULL); /* no stale copies */
  b->n = n - half;
  slab_return(cls, tmp, half);
}

/* Fold a cache's counts into its classes (it is going away). */
static void tc_fold(tcache_t *tc) {
  for (uint32_t c = 0; c < NCLASSES; c++) {
    __atomic_add_fetch(&chk_class[c].allocs, tc->nmalloc[c], __ATOMIC_RELAXED);
    __atomic_add_fetch(&chk_class[c].frees, tc->nfree[c], __ATOMIC_RELAXED);
  }
}

/* Caller holds g_tc_mu. */
static void tc_destroy_locked(tcache_t *tc) {
  tc_release(tc);
  tc_fold(tc);
  list_unlink(&g_tcaches, &tc->node);
  g_ntc--;
  meta_free(tc, sizeof *tc);
}

/* Threads that exited without their destructor running (they first
 * allocated in the last round of key destructors) leave their cache: take
 * it back. */
static void tc_reap_locked(void) {
  for (list_node_t *nd = g_tcaches.head, *next; nd; nd = next) {
    next = nd->next;
    tcache_t *tc = LIST_ENTRY(nd, tcache_t, node);
    if (tc != tls_tc && thread_life_ended(&tc->life)) tc_destroy_locked(tc);
  }
}

tcache_t *tc_get_slow(void) {
  if (unlikely(!alloc_ready()) && !alloc_init()) return NULL;
  chk_cfg_init();
  if (tls_tc) return tls_tc;
  if (alloc_dying() || !alloc_opt.tcache || !alloc_thread_hook_ok()) return NULL;
  tcache_t *tc = meta_alloc(sizeof *tc);
  if (!tc) return NULL;
  thread_life_begin(&tc->life);
  pthread_mutex_lock(&g_tc_mu);
  tc_reap_locked();
  list_push_back(&g_tcaches, &tc->node);
  g_ntc++;
  pthread_mutex_unlock(&g_tc_mu);
  tls_tc = tc;
  alloc_thread_attach(tc);
  return tc;
}

void heap_thread_exit(void *obj) {
  tcache_t *tc = obj;
  if (!tc) return;
  if (tls_tc == tc) tls_tc = NULL;
  /* Under the lock: a reaper (tc_reap_locked) reads and trylocks the same
   * life while it holds g_tc_mu, and must not meet it half-destroyed. */
  pthread_mutex_lock(&g_tc_mu);
  thread_life_end(&tc->life);
  tc_destroy_locked(tc);
  pthread_mutex_unlock(&g_tc_mu);
}

void *chk_take_vg(void *p, size_t size) {
  vg_close(p, size);
  return p;
}

void chk_push_full(tcache_t *tc, void *p, uint32_t cls) {
  chk_bin_flush(tc, cls);
  tc_bin_t *b = &tc->bin[cls];
  b->slot[b->n++] = p; /* counted as freed by chk_free_fast */
}

void chk_take_failed(const void *p, int written) {
  if (written) ALLOC_FATAL(WRITE_AFTER_FREE, p);
  ALLOC_FATAL(METADATA_CORRUPT, p);
}

/* The slot p of class cls leaves the heap for the program (tc may be NULL:
 * no cache).  Class 0 slots are PROT_NONE: only their state byte is touched. */
static void *take_slot(tcache_t *tc, void *p, uint32_t cls) {
  if (cls != 0 && tc) return chk_take(tc, p, cls);
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  if (!m || !slot_take(m, idx)) ALLOC_FATAL(METADATA_CORRUPT, p);
  uint64_t bit = (uint64_t)1 << (idx & 63);
  if (cls != 0) {
    size_t size = chk_classes[cls].size;
    uint64_t *u = &m->used[idx >> 6];
    if (CFG.zero) { /* as chk_take: a slot never used has its last bytes checked */
      bool used = __atomic_fetch_or(u, bit, __ATOMIC_RELAXED) & bit;
      for (size_t k = used ? 0 : size - 16; k < size; k++)
        if (((unsigned char *)p)[k]) ALLOC_FATAL(WRITE_AFTER_FREE, p);
      if (!used) chk_took_fresh = true;
    }
    if (CFG.canary) *(uint64_t *)((char *)p + size - CANARY_BYTES) = canary_of(p);
    vg_close(p, size);
  }
  if (tc) tc->nmalloc[cls]++;
  else __atomic_add_fetch(&chk_class[cls].allocs, 1, __ATOMIC_RELAXED);
  return p;
}

/* The quarantine audit (zero and quarantine on): each refill checks the
 * next QUAR_AUDIT entries of the thread's ring still read zero, so a write
 * into a slot waiting there is caught even if the program never frees
 * enough for it to come out (the reuse check alone would miss it). */
#define QUAR_AUDIT 2
static void quar_audit(tcache_t *tc) {
  for (uint32_t k = 0; k < QUAR_AUDIT; k++) {
    uint32_t j = tc->quar_audit++ % QUAR_SLOTS;
    void *p = tc->quar[j];
    uint32_t cls = tc->quar_cls[j];
    if (!p || cls == 0) continue;
    const uint64_t *w = p;
    for (size_t i = 0; i < chk_classes[cls].size / 8; i++)
      if (w[i]) ALLOC_FATAL(WRITE_AFTER_FREE, p);
  }
}

/* A slot of class cls for the program, from the cache (refilled when
 * empty) or, with no cache, straight from the slabs.  NULL: out of memory. */
void *chk_alloc_class(uint32_t cls) {
  tcache_t *tc = tls_tc;
  void *p;
  if (!tc) {
    if (!slab_refill(cls, &p, 1)) return NULL;
    return take_slot(NULL, p, cls);
  }
  tc_bin_t *b = &tc->bin[cls];
  if (b->n == 0) {
    if (CFG.zero && CFG.quarantine) quar_audit(tc);
    b->n = slab_refill(cls, b->slot, chk_classes[cls].tc_cap / 2);
    if (b->n == 0) {
      tc_release(tc); /* give back what this thread holds, then try once more */
      slab_trim(0);
      b->n = slab_refill(cls, b->slot, 1);
      if (b->n == 0) return NULL;
    }
  }
  uint32_t k = b->n, i = k - 1;
  if (CFG.random) i = (uint32_t)(((rand_next() >> 32) * k) >> 32);
  p = b->slot[i];
  b->slot[i] = b->slot[k - 1];
  b->slot[k - 1] = NULL; /* as in heap_fast.h */
  b->n = k - 1;
  return take_slot(tc, p, cls);
}

/* The class for n bytes (no alignment), or NCLASSES for a large block. */
uint32_t chk_class_for(size_t n) {
  if (n == 0 && CFG.malloc0) return 0;
  size_t m = n + CFG.extra;
  if (m <= LUT_MAX) return chk_lut[(m + 15) >> 4];
  if (m > SMALL_MAX) return NCLASSES;
  uint32_t c = chk_lut[LUT_MAX / 16];
  while (chk_classes[c].size < m) c++;
  return c;
}

void *chk_malloc_slow(size_t n) {
  if (!tls_tc) tc_get_slow();
  if (unlikely(!alloc_ready()) || unlikely(alloc_dying())) return bootstrap_alloc(n ? n : 1, ALLOC_MIN_ALIGN);
  uint32_t cls = chk_class_for(n);
  if (cls == NCLASSES) return large_alloc(n, ALLOC_MIN_ALIGN, false);
  return chk_alloc_class(cls);
}

/* ---- statistics and fork ------------------------------------------------------- */

void chk_tc_stats(uint64_t *allocs, uint64_t *frees, uint64_t *threads, uint64_t *quar) {
  pthread_mutex_lock(&g_tc_mu);
  *threads = g_ntc;
  *quar = 0;
  for (list_node_t *nd = g_tcaches.head; nd; nd = nd->next) {
    tcache_t *tc = LIST_ENTRY(nd, tcache_t, node);
    for (uint32_t c = 0; c < NCLASSES; c++) {
      allocs[c] += __atomic_load_n(&tc->nmalloc[c], __ATOMIC_RELAXED);
      frees[c] += __atomic_load_n(&tc->nfree[c], __ATOMIC_RELAXED);
    }
    *quar += MIN(__atomic_load_n(&tc->quar_n, __ATOMIC_RELAXED), QUAR_SLOTS);
  }
  pthread_mutex_unlock(&g_tc_mu);
  for (uint32_t c = 0; c < NCLASSES; c++) {
    allocs[c] += __atomic_load_n(&chk_class[c].allocs, __ATOMIC_RELAXED);
    frees[c] += __atomic_load_n(&chk_class[c].frees, __ATOMIC_RELAXED);
  }
}

/* A free slot held by the calling thread: a slot of class cls, not live,
 * and still all zero (zero feature), or a write after free happened. */
static void check_free_slot(void *p, uint32_t cls) {
  uint32_t idx;
  slab_meta_t *m = slot_of(p, &idx);
  if (!m || m->cls != cls || slot_live(m, idx))
    ALLOC_FATAL(VALIDATE, p);
  if (cls == 0 || !CFG.zero) return;
  const uint64_t *w = p;
  for (size_t k = 0; k < chk_classes[cls].size / 8; k++)
    if (w[k]) ALLOC_FATAL(WRITE_AFTER_FREE, p);
}

/* The calling thread's cache and quarantine (other threads change theirs
 * without a lock, so only this one can be read safely). */
void tc_validate_own(void) {
  tcache_t *tc = tls_tc;
  if (!tc) return;
  for (uint32_t c = 0; c < NCLASSES; c++) {
    if (tc->bin[c].n > chk_classes[c].tc_cap) ALLOC_FATAL(VALIDATE, &tc->bin[c]);
    for (uint32_t k = 0; k < tc->bin[c].n; k++) check_free_slot(tc->bin[c].slot[k], c);
  }
  for (uint32_t j = 0; j < QUAR_SLOTS; j++)
    if (tc->quar[j]) check_free_slot(tc->quar[j], tc->quar_cls[j]);
}

/* The zero check of slot p (class c, slab m, index idx) in another
 * thread's cache, its entry at e (caller holds class c's lock, so p's slab
 * stays mapped).  Reported only if nothing moved while the bytes were
 * read: the entry still holds p, p is still not live, and the owner's take
 * and free counts of the class did not change (x86-64 stores are seen in
 * order, so a write the owner's program made after taking p is seen only
 * with the take's count).  A slot in flux is skipped, never reported. */
static void check_other_bytes(tcache_t *tc, void **e, void *p, uint32_t c, slab_meta_t *m,
                              uint32_t idx) {
  if (!CFG.zero || c == 0) return; /* class 0 is PROT_NONE: nothing to read */
  uint64_t a0 = __atomic_load_n(&tc->nmalloc[c], __ATOMIC_ACQUIRE);
  uint64_t f0 = __atomic_load_n(&tc->nfree[c], __ATOMIC_ACQUIRE);
  if (__atomic_load_n(e, __ATOMIC_ACQUIRE) != p ||
      __atomic_load_n(&m->state[idx], __ATOMIC_ACQUIRE) != SLOT_FREE)
    return;
  const uint64_t *w = p;
  bool dirty = false;
  for (size_t k = 0; k < chk_classes[c].size / 8 && !dirty; k++)
    dirty = __atomic_load_n(&w[k], __ATOMIC_ACQUIRE) != 0; /* the re-reads below come after */
  if (dirty && __atomic_load_n(e, __ATOMIC_ACQUIRE) == p &&
      __atomic_load_n(&m->state[idx], __ATOMIC_ACQUIRE) == SLOT_FREE &&
      __atomic_load_n(&tc->nmalloc[c], __ATOMIC_ACQUIRE) == a0 &&
      __atomic_load_n(&tc->nfree[c], __ATOMIC_ACQUIRE) == f0) {
    pthread_mutex_unlock(&chk_class[c].mu);
    ALLOC_FATAL(WRITE_AFTER_FREE, p);
  }
}

/* Every other thread's cache and quarantine, read while their owners run
 * (g_tc_mu held: no cache goes away).  Entries change by whole-word stores
 * and a bin holds slots of its class only, so a bin entry that is not a
 * slot of its class is corrupt; it is read under the class lock, so its
 * slab cannot be given back and unmapped meanwhile.  A quarantine entry's
 * class byte is written apart from it: an entry whose byte does not match
 * is in flux and skipped.  With the zero feature, each free slot's bytes
 * must still read zero (check_other_bytes). */
void tc_validate_other(void) {
  pthread_mutex_lock(&g_tc_mu);
  for (list_node_t *nd = g_tcaches.head; nd; nd = nd->next) {
    tcache_t *tc = LIST_ENTRY(nd, tcache_t, node);
    if (tc == tls_tc) continue;
    for (uint32_t c = 0; c < NCLASSES; c++) {
      tc_bin_t *b = &tc->bin[c];
      pthread_mutex_lock(&chk_class[c].mu);
      if (__atomic_load_n(&b->n, __ATOMIC_ACQUIRE) > chk_classes[c].tc_cap) {
        pthread_mutex_unlock(&chk_class[c].mu);
        ALLOC_FATAL(VALIDATE, b);
      }
      for (uint32_t k = 0; k < TC_SLOTS; k++) {
        void *p = __atomic_load_n(&b->slot[k], __ATOMIC_ACQUIRE);
        uint32_t idx;
        slab_meta_t *m = p ? slot_of(p, &idx) : NULL;
        if (p && (!m || m->cls != c)) {
          pthread_mutex_unlock(&chk_class[c].mu);
          ALLOC_FATAL(VALIDATE, p);
        }
        if (p) check_other_bytes(tc, &b->slot[k], p, c, m, idx);
      }
      pthread_mutex_unlock(&chk_class[c].mu);
    }
    for (uint32_t j = 0; j < QUAR_SLOTS; j++) {
      uint32_t c = __atomic_load_n(&tc->quar_cls[j], __ATOMIC_ACQUIRE);
      if (c == 0 || c >= NCLASSES) continue; /* empty (class 0 is never quarantined) */
      pthread_mutex_lock(&chk_class[c].mu);
      void *p = __atomic_load_n(&tc->quar[j], __ATOMIC_ACQUIRE);
      uint32_t idx;
      slab_meta_t *m = p && __atomic_load_n(&tc->quar_cls[j], __ATOMIC_ACQUIRE) == c ? slot_of(p, &idx) : NULL;
      if (m && m->cls == c) check_other_bytes(tc, &tc->quar[j], p, c, m, idx);
      pthread_mutex_unlock(&chk_class[c].mu);
    }
  }
  pthread_mutex_unlock(&g_tc_mu);
}

/* malloc_trim: the calling thread's cache goes back too. */
void tc_flush_all_own(void) {
  if (tls_tc) tc_release(tls_tc);
}

void tc_fork_prepare(void) {
  pthread_mutex_lock(&g_cfg_mu);
  pthread_mutex_lock(&g_tc_mu);
}
void tc_fork_parent(void) {
  pthread_mutex_unlock(&g_tc_mu);
  pthread_mutex_unlock(&g_cfg_mu);
}
/* The child has one thread: the caches of the others are given back. */
void tc_fork_child(void) {
  pthread_mutex_init(&g_tc_mu, NULL);
  pthread_mutex_init(&g_cfg_mu, NULL);
  if (tls_tc) thread_life_reown(&tls_tc->life);
  pthread_mutex_lock(&g_tc_mu);
  for (list_node_t *nd = g_tcaches.head, *next; nd; nd = next) {
    next = nd->next;
    tcache_t *tc = LIST_ENTRY(nd, tcache_t, node);
    if (tc != tls_tc) tc_destroy_locked(tc);
  }
  pthread_mutex_unlock(&g_tc_mu);
}
