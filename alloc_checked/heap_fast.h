/* heap_fast.h - alloc_checked's hot pair, inlined into malloc() and free().
 *
 * malloc takes a slot of the size class from the calling thread's cache (a
 * random one when the feature is on), sets its state byte in the slab's
 * out-of-band record (a plain store), checks it still reads zero (zero
 * feature: a write after free is caught here) and writes its canary.
 * free finds the slab from the chunk table (never from user memory),
 * range-checks the slot index, checks the state byte (live, and of the
 * kind malloc gives), the canary, clears the state (one compare-and-exchange
 * of the byte, so of two racing
 * frees exactly one wins), zeroes the slot and passes it through the
 * thread's quarantine ring into its cache.  No lock on either path; one
 * call to a cold path when the cache is empty/full or the pointer is not a
 * live small block.
 *
 * Expected cost (callgrind, bench icount): about 300 instructions per
 * malloc(32)+free pair with every feature on, 219 with the light preset
 * (alloc_unsafe: 77, glibc: 139), the loop included.  A slot's first take
 * (slab's used bit clear) checks only its last 16 bytes (internal.h).  Every exit but the
 * return is a tail call, so the heap's part needs no stack frame.
 */
#ifndef CHECKED_HEAP_FAST_H
#define CHECKED_HEAP_FAST_H

#include "internal.h"
#include "vg.h"

void heap_check_early(const void *p, int op);
void *chk_malloc_slow(size_t n);
void chk_free_slow(void *p);

/* Cold ends of the hot pair (tcache.c): the fatal line for a cached slot
 * whose state is wrong (metadata corrupt) or that was written after free. */
__attribute__((noreturn, cold)) void chk_take_failed(const void *p, int written);
/* Cold continuations, called as tail calls so the fast paths need no
 * stack frame: memcheck's hook, and a push onto a full bin. */
void *chk_take_vg(void *p, size_t size);
void chk_push_full(tcache_t *tc, void *p, uint32_t cls);

/* Zero a slot in place: short ones 16 bytes a step, the pointer laundered
 * each step so the compiler does not turn the loop into a memset call (which
 * would give the free path a stack frame), long ones with rep stosq (x86-64
 * only, as the rest of the suite).  n is a multiple of 16. */
static ALWAYS_INLINE void zero_slot(void *p, size_t n) {
  if (n >= 256) { /* rep stos: fast for long runs, and still no call */
    void *d = p;
    size_t q = n / 8;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(0) : "memory");
    return;
  }
  uint64_t *w = (uint64_t *)p, *end = (uint64_t *)((char *)p + n);
  for (; w < end; w += 2) {
    w[0] = 0;
    w[1] = 0;
    __asm__("" : "+r"(w));
  }
}

/* Whether the n bytes at p (a multiple of 16) are all zero: 16 bytes a load,
 * two accumulators. */
typedef uint64_t chk_v2 __attribute__((vector_size(16), may_alias, aligned(16)));
static ALWAYS_INLINE bool slot_is_zero(const void *p, size_t n) {
  const chk_v2 *v = (const chk_v2 *)p, *end = (const chk_v2 *)((const char *)p + n);
  chk_v2 a = {0, 0}, b = {0, 0};
  if ((n / 16) & 1) a = *v++;
  for (; v < end; v += 2) {
    a |= v[0];
    b |= v[1];
  }
  a |= b;
  return (a[0] | a[1]) == 0;
}

/* The slot p of class cls (not 0) leaves a cache for the program.  p came
 * from the cache, which holds only addresses the heap computed itself, so
 * its chunk and index need no range checks here (free checks them all). */
static ALWAYS_INLINE void *chk_take(tcache_t *tc, void *p, uint32_t cls) {
  const size_class_t *sc = &chk_classes[cls];
  slab_meta_t *m = chunk_meta((uintptr_t)p);
  if (unlikely(!m)) chk_take_failed(p, 0);
  uint32_t idx = (uint32_t)(((uint64_t)((uintptr_t)p - m->base) * sc->inv) >> 40);
  if (unlikely(!slot_take(m, idx))) chk_take_failed(p, 0);
  size_t size = sc->size;
  if (CFG.zero) {
    uint64_t bit = (uint64_t)1 << (idx & 63);
    uint64_t *u = &m->used[idx >> 6];
    if (likely(__atomic_load_n(u, __ATOMIC_RELAXED) & bit)) {
      if (unlikely(!slot_is_zero(p, size))) chk_take_failed(p, 1);
    } else { /* never handed out: as mmap gave it, but for an underflow of
                the slot above, which must have reached its last bytes */
      if (unlikely(!slot_is_zero((char *)p + size - 16, 16))) chk_take_failed(p, 1);
      __atomic_fetch_or(u, bit, __ATOMIC_RELAXED);
      chk_took_fresh = true; /* calloc checks this one itself */
    }
  }
  if (CFG.canary) *(uint64_t *)((char *)p + size - CANARY_BYTES) = canary_of(p);
  tc->nmalloc[cls]++;
  if (unlikely(vg_on)) return chk_take_vg(p, size); /* bytes past the block: no-access */
  return p;
}

static ALWAYS_INLINE void *heap_malloc(size_t n) {
  tcache_t *tc = tls_tc;
  if (likely(n - 1 < LUT_MAX - CANARY_BYTES) && likely(tc != NULL)) {
    uint32_t cls = chk_lut[(n + CFG.extra + 15) >> 4];
    tc_bin_t *b = &tc->bin[cls];
    uint32_t k = b->n;
    if (likely(k != 0)) {
      uint32_t i = k - 1;
      if (CFG.random) { /* rand_next, its re-seed left to the slow path */
        if (unlikely(tls_rand.epoch != __atomic_load_n(&rand_epoch, __ATOMIC_RELAXED)))
          return chk_malloc_slow(n);
        tls_rand.s += 0x9e3779b97f4a7c15ull;
        i = (uint32_t)(((rand_mix(tls_rand.s) >> 32) * k) >> 32);
      }
      void *p = b->slot[i];
      b->slot[i] = b->slot[k - 1];
      b->slot[k - 1] = NULL; /* no stale copy: memcheck would call a leaked block reachable */
      b->n = k - 1;
      return chk_take(tc, p, cls);
    }
  }
  return chk_malloc_slow(n);
}

/* A live small slot p (slab m, index idx, class not 0) is freed by the
 * calling thread, which has a cache. */
static ALWAYS_INLINE void chk_free_fast(tcache_t *tc, void *p, slab_meta_t *m, uint32_t idx) {
  uint32_t cls = m->cls;
  size_t size = chk_classes[cls].size;
  /* Live and of malloc's kind (with kind tracking off every live slot is) */
  uint8_t st = slot_state(m, idx);
  if (unlikely(st != SLOT_MALLOC)) return chk_free_slow(p);
  if (CFG.canary &&
      unlikely(*(uint64_t *)((char *)p + size - CANARY_BYTES) != canary_of(p)))
    return chk_free_slow(p);
  if (unlikely(!slot_release(m, idx, st))) return chk_free_slow(p);
  if (CFG.zero) zero_slot(p, size);
  tc->nfree[cls]++; /* the program's free, counted now: a quarantined slot is not live */
  if (CFG.quarantine) { /* FIFO ring: the slot freed QUAR_SLOTS frees ago comes out */
    uint32_t j = tc->quar_n++ % QUAR_SLOTS;
    void *old = tc->quar[j];
    uint32_t ocls = tc->quar_cls[j];
    tc->quar[j] = p;
    tc->quar_cls[j] = (uint8_t)cls;
    if (!old) return;
    p = old;
    cls = ocls;
  }
  tc_bin_t *b = &tc->bin[cls];
  if (unlikely(b->n >= chk_classes[cls].tc_cap)) return chk_push_full(tc, p, cls);
  b->slot[b->n++] = p;
}

static ALWAYS_INLINE void heap_free(void *p) {
  uint32_t idx = 0; /* set by slot_of when it finds a slab; -O1 cannot tell */
  slab_meta_t *m = slot_of(p, &idx);
  tcache_t *tc = tls_tc;
  if (likely(m != NULL) && likely(tc != NULL) && likely(m->cls != 0))
    return chk_free_fast(tc, p, m, idx);
  chk_free_slow(p);
}

#endif
