/* internal.h - alloc_checked's layout, out-of-band metadata and the
 * feature switches.  The trust rule: nothing the program can write is ever
 * read as metadata.  A pointer that enters is classified by the OS layer's
 * ownership map (tag), then by this heap's own chunk table (radix below);
 * every index derived from it is range-checked before it is used.
 *
 * Small blocks live in slabs, one slab per 64 KiB-aligned chunk, each its
 * own mapping with a guard page on both sides:
 *
 *   | guard 4K | slot 0 | slot 1 | ... | slot n-1 | (tail) | guard 4K |
 *              ^ chunk base (64 KiB aligned)                ^ base + 64 KiB
 *
 *   slot i, in use:  [ user bytes ... usable ][ 00 s s s s s s s ]
 *                                             ^ canary (8 bytes, feature on)
 *   slot i, free:    all zero (zero feature on), checked on reuse
 *
 * The slab's state lives in a slab_meta_t in a separate metadata mapping
 * (meta pool, guard pages around each pool chunk):
 *   state byte i = 0 while slot i is not handed out, else 1 + its
 *                 allocation kind (1 malloc, 2 new, 3 new[]);
 *   avail bit i = slot i is free and in the slab (not in a thread cache or
 *                 a quarantine);
 *   used bit i  = slot i was handed out at least once since the slab was
 *                 mapped (set on its first take, never cleared).  A slot
 *                 never used is as the OS gave it, all zero, but where a
 *                 neighbour's misuse reached it: an overflow from below
 *                 meets that neighbour's canary first, an underflow from
 *                 above writes this slot's last bytes.  So its first take
 *                 checks only its last 16 bytes, not every byte.
 * Invariants: state != 0 => !avail;  navail == popcount(avail);
 *   slots neither live nor avail are in exactly one thread cache or
 *   quarantine;  chunk_meta(base) == meta <=> meta->base == base.
 *
 * Class 0 is malloc(0): 16-byte slots in a slab that is never committed
 * (PROT_NONE), so any access to a malloc(0) block faults.
 *
 * Large blocks (above the largest class) each have their own mapping:
 *   | guard 4K | pages ... [ block, its end at the end of the last page ] | guard 4K |
 * and a record in large.c's table (out of band), keyed by the block's page.
 * The guards are guard markers where the kernel has them (every access
 * faults; the mapping stays RW), else PROT_NONE pages.  Freed mappings'
 * pages are reused through a bounded cache: PROT_NONE where the mapping
 * was freed in place, RW at fresh addresses where the quarantine moved
 * them (large.c's header says how it keeps freed addresses apart).
 *
 * Glossary: slot = a block position in a slab; usable = slot size minus the
 * canary; tcache = a thread's cache of free slots (pointers the heap
 * computed itself, never read from user memory).
 */
#ifndef CHECKED_INTERNAL_H
#define CHECKED_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "counter.h"
#include "fatal.h"
#include "lifecycle.h"
#include "list.h"
#include "options.h"
#include "os.h"
#include "random.h"
#include "util.h"

/* Ownership tags of our mappings. */
enum { TAG_SLAB = 40, TAG_LARGE = 41, TAG_META = 42 };

#define CHUNK_SHIFT 16
#define CHUNK ((size_t)1 << CHUNK_SHIFT) /* slab data bytes, and alignment */
#define CANARY_BYTES 8
#define MAX_SLOTS (CHUNK / 16)
#define BITMAP_WORDS (MAX_SLOTS / 64)

/* The one size-class table: X(slot size).  Class 0 is malloc(0). */
#define CHK_CLASS_LIST(X)                                                              \
  X(16) X(16) X(32) X(48) X(64) X(80) X(96) X(112) X(128) X(160) X(192) X(224) X(256)   \
  X(320) X(384) X(448) X(512) X(640) X(768) X(896) X(1024) X(1280) X(1536) X(1792)      \
  X(2048) X(2560) X(3072) X(3584) X(4096) X(5120) X(6144) X(7168) X(8192) X(10240)      \
  X(12288) X(14336) X(16384) X(20480) X(24576) X(28672) X(32768) X(40960) X(49152)        \
  X(57344) X(65536)
#define CHK_COUNT_(s) +1
enum { NCLASSES = 0 CHK_CLASS_LIST(CHK_COUNT_) };
#define SMALL_MAX ((size_t)65536)
#define LUT_MAX ((size_t)1024) /* sizes up to this map to a class by table */

/* A slab of a class spans one chunk (small slots), four or eight (larger
 * slots, so guard pages and metadata stay a small share). */
#define SPAN_OF(s) ((s) <= 512 ? CHUNK : (s) <= 4096 ? 4 * CHUNK : (s) <= 16384 ? 8 * CHUNK : 16 * CHUNK)
#define SPAN_MAX (16 * CHUNK)
/* A thread caches at most TC_CAP_OF(s) free slots of a class: TC_SLOTS of
 * the small ones, fewer of the big (TC_BYTES a class, at least 2).  Every
 * slot that passes through a cache has been written (zeroed on free), so
 * the caches' bytes are resident: with TC_BYTES 256 KiB a thread could pin
 * 9 MiB over the 44 classes (strbuild, realloc through every class: 2.7x
 * glibc's peak).  A lock trip is cheap next to zeroing a slot of 1 KiB or
 * more, which is where the bound starts to bite (TC_BYTES / TC_SLOTS). */
#define TC_BYTES (64u << 10)
#define TC_CAP_OF(s) ((s) <= TC_BYTES / TC_SLOTS ? TC_SLOTS : TC_BYTES / (s) < 2 ? 2u : TC_BYTES / (s))
typedef struct size_class {
  uint32_t size;   /* slot bytes */
  uint32_t nslots; /* span / size (<= MAX_SLOTS) */
  uint32_t span;   /* slab bytes, a multiple of CHUNK */
  uint32_t tc_cap; /* TC_CAP_OF(size): a thread cache's most slots of it */
  uint64_t inv;    /* ceil(2^40 / size): slot index = off * inv >> 40, exact for off < SPAN_MAX (2^20) */
} size_class_t;
extern const size_class_t chk_classes[NCLASSES];

/* ---- the feature switches: resolved once from the options, then sealed ---- */
typedef struct chk_cfg {
  bool random, canary, zero, quarantine, malloc0, large_quarantine, kind;
  uint32_t extra; /* CANARY_BYTES when the canary is on, else 0 */
  uint8_t lut[LUT_MAX / 16 + 1]; /* class of ceil(n / 16), written by heap_setup */
  bool ready;
} chk_cfg_t;
typedef union chk_cfg_page {
  chk_cfg_t c;
  unsigned char pad[OS_PAGE];
} chk_cfg_page_t;
extern chk_cfg_page_t chk_cfg_page;
#define CFG (chk_cfg_page.c)
#define chk_lut (CFG.lut)
void chk_cfg_init(void); /* after alloc_init(); idempotent */

/* Allocation kinds (kind tracking): heap.h's HEAP_KIND_*. */
#define KIND_MALLOC 0 /* == HEAP_KIND_MALLOC */

/* ---- slabs ------------------------------------------------------------------ */
typedef struct slab_meta {
  uintptr_t base;      /* chunk base; 0 when the meta is unused */
  os_mapping_t map;    /* guard + chunk + guard */
  uint32_t cls, nslots;
  uint32_t navail;     /* under the class lock */
  uint32_t nret;       /* slots returned since its last purge (class lock; slab.c) */
  bool on_partial;     /* on its class's partial list */
  list_node_t node;    /* partial list (slabs with navail > 0) */
  list_node_t all;     /* every slab of the class */
  struct slab_meta *next_free; /* meta pool free list */
  uint64_t avail[BITMAP_WORDS]; /* under the class lock */
  uint64_t used[BITMAP_WORDS];  /* atomic: slot handed out since the slab was mapped */
  uint8_t state[MAX_SLOTS];     /* slot_state below; atomic */
} slab_meta_t;

/* The chunk table: chunk number (address >> 16) -> slab meta, two levels
 * over the 48-bit address space, lock-free reads. */
#define RADIX_L1 ((size_t)1 << (48 - 32))
#define RADIX_LEAF ((size_t)1 << (32 - CHUNK_SHIFT))
extern slab_meta_t **chk_radix[RADIX_L1];

static inline slab_meta_t *chunk_meta(uintptr_t a) {
  if (a >> 48) return NULL;
  slab_meta_t **leaf = __atomic_load_n(&chk_radix[a >> 32], __ATOMIC_ACQUIRE);
  return leaf ? __atomic_load_n(&leaf[(a >> CHUNK_SHIFT) & (RADIX_LEAF - 1)], __ATOMIC_ACQUIRE)
              : NULL;
}

/* The slab and slot index of p if p is exactly a slot start of a slab, else
 * NULL.  Every value comes from out-of-band state and is range-checked. */
static ALWAYS_INLINE slab_meta_t *slot_of(const void *p, uint32_t *idx) {
  uintptr_t a = (uintptr_t)p;
  slab_meta_t *m = chunk_meta(a);
  if (unlikely(!m)) return NULL;
  uint32_t cls = m->cls;
  if (unlikely(cls >= NCLASSES)) return NULL;
  const size_class_t *sc = &chk_classes[cls];
  uintptr_t off = a - m->base; /* < span: m is the meta of p's chunk */
  uint32_t i = (uint32_t)(((uint64_t)off * sc->inv) >> 40);
  if (unlikely(off >= sc->span || i >= m->nslots || (uintptr_t)i * sc->size != off)) return NULL;
  *idx = i;
  return m;
}

/* A slot's state byte: 0 while it is not live, 1 + kind (HEAP_KIND_*) while
 * it is.  A byte each, not a bit in a shared word, so that a take and the
 * change of a live slot's kind are plain stores (no store can undo another
 * slot's), and a free's test-and-clear is one compare-and-exchange of a byte
 * (bts/btr with a register offset into memory are microcoded: a locked pair
 * of them cost 28 ns on this suite's machine, a plain byte store under 1).
 *
 * Who writes it: the thread taking a slot out of its cache (0 -> 1: no other
 * thread holds the slot then); the thread holding a live slot (its kind,
 * 1 <-> 2 or 3: C++ operators); a free (live -> 0, by compare-and-exchange,
 * so of two racing frees exactly one wins and the other is reported).  A
 * stray free racing a kind change can leave a slot freed and marked live:
 * its next take finds it not 0 and the heap stops (chk_take_failed). */
#define SLOT_FREE 0
#define SLOT_LIVE(kind) (1 + (kind)) /* the state of a live slot of that kind */
#define SLOT_MALLOC SLOT_LIVE(KIND_MALLOC)
#define SLOT_STATE_MAX SLOT_LIVE(2) /* HEAP_KIND_NEW_ARRAY */
static ALWAYS_INLINE uint8_t slot_state(const slab_meta_t *m, uint32_t idx) {
  return __atomic_load_n(&m->state[idx], __ATOMIC_RELAXED);
}
static ALWAYS_INLINE bool slot_live(const slab_meta_t *m, uint32_t idx) { return slot_state(m, idx) != SLOT_FREE; }
/* The kind of the live slot idx (HEAP_KIND_*: 0 malloc, 1 new, 2 new[]). */
static inline uint32_t slot_kind(const slab_meta_t *m, uint32_t idx) { return slot_state(m, idx) - 1u; }
static inline void slot_set_kind(slab_meta_t *m, uint32_t idx, uint32_t kind) {
  __atomic_store_n(&m->state[idx], (uint8_t)SLOT_LIVE(kind), __ATOMIC_RELAXED);
}
/* The take of a slot the caller holds: false (nothing written) if its state
 * is not 0, which only corrupt metadata or a stray free explains. */
static ALWAYS_INLINE bool slot_take(slab_meta_t *m, uint32_t idx) {
  if (unlikely(slot_state(m, idx) != SLOT_FREE)) return false;
  __atomic_store_n(&m->state[idx], SLOT_MALLOC, __ATOMIC_RELAXED);
  return true;
}
/* The free of slot idx seen in state was: true if this call made it 0
 * (false: it is not live, or another free won the race). */
static ALWAYS_INLINE bool slot_release(slab_meta_t *m, uint32_t idx, uint8_t was) {
  return was != SLOT_FREE &&
         __atomic_compare_exchange_n(&m->state[idx], &was, SLOT_FREE, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static inline void *slot_addr(const slab_meta_t *m, uint32_t i) {
  return (char *)m->base + (size_t)i * chk_classes[m->cls].size;
}
static inline size_t usable_of(uint32_t cls) {
  return cls == 0 ? 0 : chk_classes[cls].size - CFG.extra;
}
/* The canary word of a slot at p of class cls: its first byte (lowest
 * address) is zero, so a string overflow that ends at the block's end is
 * caught too; the rest is keyed by the secret and the address. */
static ALWAYS_INLINE uint64_t canary_of(const void *p) {
  return ((alloc_secret(2) ^ ((uintptr_t)p * 0x9e3779b97f4a7c15ull)) | 0x0101010101010100ull) &
         ~(uint64_t)0xff;
}

/* Class locks and partial lists (slab.c). */
typedef struct class_state {
  pthread_mutex_t mu;
  list_t partial;      /* slabs with avail slots */
  list_t all;          /* every slab of the class (validate) */
  uint32_t nempty;     /* slabs on partial with navail == nslots */
  uint64_t allocs, frees; /* folded in from thread caches (stats) */
} class_state_t;
extern class_state_t chk_class[NCLASSES];

/* Take up to max free slots of class cls into out[]; returns how many (0:
 * out of memory).  Give n slots back.  Both take the class lock. */
uint32_t slab_refill(uint32_t cls, void **out, uint32_t max);
void slab_return(uint32_t cls, void *const *slots, uint32_t n);
/* Unmap slabs with every slot available (keep: how many per class stay). */
bool slab_trim(uint32_t keep);
size_t slab_validate(void);
uint64_t slab_count(void);
void slab_fork_prepare(void);
void slab_fork_parent(void);
void slab_fork_child(void);
/* Memory for the heap's own records (tcaches): zeroed, in meta mappings. */
void *meta_alloc(size_t size);
void meta_free(void *p, size_t size);

/* ---- thread caches ------------------------------------------------------------ */
#define TC_SLOTS 64   /* free slots per class per thread (most: size_class_t.tc_cap) */
#define QUAR_SLOTS 64 /* per-thread quarantine ring */
typedef struct tc_bin {
  uint32_t n;
  void *slot[TC_SLOTS];
} tc_bin_t;
typedef struct tcache {
  tc_bin_t bin[NCLASSES];
  uint64_t nmalloc[NCLASSES], nfree[NCLASSES];
  void *quar[QUAR_SLOTS];
  uint8_t quar_cls[QUAR_SLOTS];
  uint32_t quar_n;
  uint32_t quar_audit; /* next ring entry the audit checks */
  thread_life_t life;
  list_node_t node; /* all tcaches, under chk_tc_mu */
} tcache_t;
extern __thread tcache_t *tls_tc;
/* Set by a take that skipped the zero check (a never-used slot), so calloc
 * knows to check that slot itself; calloc clears it first. */
extern __thread bool chk_took_fresh;

tcache_t *tc_get_slow(void); /* NULL: cannot have one now (serve by lock) */
/* Cold paths of the hot pair (tcache.c). */
void *chk_malloc_small_slow(uint32_t cls);
void chk_bin_flush(tcache_t *tc, uint32_t cls);
void *chk_alloc_class(uint32_t cls);  /* NULL: out of memory */
uint32_t chk_class_for(size_t n);     /* NCLASSES: a large block */
void chk_tc_stats(uint64_t *allocs, uint64_t *frees, uint64_t *threads, uint64_t *quar);
void tc_fork_prepare(void);
void tc_fork_parent(void);
void tc_fork_child(void);
void tc_flush_all_own(void);
void tc_validate_own(void); /* fatal on a cached slot written after free */
void tc_validate_other(void); /* the same for other threads' caches, race-aware */

/* ---- large blocks (large.c) --------------------------------------------------- */
void *large_alloc(size_t n, size_t align, bool zero);
typedef struct large_info {
  void *start;
  size_t usable;
  uint8_t kind;
} large_info_t;
/* p entered through op (HEAP_OP_*): fills *out if p is a live large block's
 * start; otherwise reports it (fatal), except for OBJECT_SIZE, which
 * accepts any pointer into a live block and returns false for the rest. */
bool large_check(const void *p, int op, large_info_t *out);
/* Free the live large block p (checked first, as large_check). claimed /
 * align: what free_sized / free_aligned_sized say (0: nothing said). */
void large_free(void *p, size_t claimed, size_t align);
/* Set the kind of a live large block (returns the kind it had). */
uint8_t large_swap_kind(const void *p, uint8_t kind);
size_t large_validate(void);
void large_stats(uint64_t *allocs, uint64_t *live, uint64_t *quar, uint64_t *bytes);
bool large_trim(bool all);
void large_fork_prepare(void);
void large_fork_parent(void);
void large_fork_child(void);

/* ---- validation and fatal reports (api.c) ---------------------------------------- */
enum { BAD_FOREIGN, BAD_NOT_LIVE, BAD_DOUBLE_SMALL, BAD_DOUBLE_LARGE };
/* p entered through op and is bad in the way what says: the fatal line. */
__attribute__((noreturn, cold)) void chk_report(int what, int op, const void *p);


#endif
