/* os.h - the OS layer: the only code in the suite that maps, unmaps, protects
 * or advises memory (only os.c includes <sys/mman.h>).
 *
 * Contract of every primitive:
 *  - sizes and addresses passed in are multiples of OS_PAGE (4 KiB); the
 *    functions assert nothing at run time, callers round first;
 *  - a mapping travels as an os_mapping_t: its base, its size, its
 *    protection and its ownership tag, so whoever unmaps it knows exactly
 *    what it owns;
 *  - new mappings are private, anonymous, read-write and ZERO-FILLED;
 *  - failure returns a mapping with base == NULL (never MAP_FAILED), errno is
 *    left as the kernel set it; nothing aborts here;
 *  - every byte mapped and unmapped is counted in the bytes-mapped statistic;
 *    the layer's own metadata (the ownership map) is counted apart, in
 *    os_bytes_meta().
 *
 * The ownership map.  Every os_map*, os_unmap*, os_remap records, per 4 KiB
 * page, the tag of the mapping that covers it (a small number the caller
 * chose, 1..255; os_map() and friends use OS_TAG_HEAP).  os_tag_of(p) answers
 * for ANY pointer value - NULL, 1, 0xdead..., kernel or non-canonical
 * addresses - without touching the memory at p and without faulting: two
 * loads from os.c's own metadata, no lock.  0 means "not mapped by this
 * heap": a page next to ours that the program mapped itself is 0.  Updates
 * are made under a lock, before munmap and after mmap, so a page never reads
 * as ours after it was given back.  A lookup that races with the unmap of
 * the same page may see either answer (the program freed a pointer into
 * memory being unmapped: that is its bug, and it is never a fault here).
 * In the prefixed build each heap library has its own copy of this file, so
 * each heap's map knows only the mappings that heap made.
 */
#ifndef ALLOC_OS_H
#define ALLOC_OS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "util.h"

#define OS_PAGE ((size_t)4096)

/* A mapping's protection.  MIXED: its pages differ (a reservation partly
 * committed, a mapping with guard pages); the owner knows which are which. */
typedef enum { OS_PROT_NONE = 0, OS_PROT_RW = 1, OS_PROT_MIXED = 2 } os_prot_t;

/* Ownership tags: 0 = not ours; a heap may use any value 1..255 for its own
 * kinds of mapping (segments, large blocks, metadata, ...). */
enum { OS_TAG_NONE = 0, OS_TAG_HEAP = 1 };

typedef struct os_mapping {
  void *base;     /* NULL when the mapping failed */
  size_t size;    /* bytes, a multiple of OS_PAGE */
  os_prot_t prot; /* kept true by os_commit/os_uncommit/os_guard/os_protect_mapping */
  uint8_t tag;    /* ownership tag recorded for every page of it */
} os_mapping_t;

/* Map size bytes, RW, zeroed. */
os_mapping_t os_map(size_t size);
/* Map size bytes whose base is a multiple of align (a power of two >= page),
 * RW, zeroed.  The over-mapped slack is unmapped again before returning. */
os_mapping_t os_map_aligned(size_t size, size_t align);
/* Map size bytes such that base + offset is a multiple of align. */
os_mapping_t os_map_aligned_at(size_t size, size_t align, size_t offset);
/* The general form: as os_map_aligned_at, recording tag (1..255) for its
 * pages in the ownership map (tag 0 is taken as OS_TAG_HEAP). */
os_mapping_t os_map_tagged(size_t size, size_t align, size_t offset, uint8_t tag);
/* Give the whole mapping back. */
void os_unmap(os_mapping_t m);
/* Give back the part [addr, addr+size) of some mapping (trimming). */
void os_unmap_range(void *addr, size_t size);
/* Grow or shrink m to new_size without copying: in place when the kernel can,
 * otherwise moved to a new base that keeps the alignment `align` (page tables
 * are moved, not bytes).  Returns the new mapping (same tag), or base == NULL
 * (m intact). */
os_mapping_t os_remap(os_mapping_t m, size_t new_size, size_t align);
/* The pages of mapping from move onto mapping to, of the same size (page
 * tables move, not bytes); from keeps its addresses and protection with no
 * pages behind them (MREMAP_DONTUNMAP, Linux 5.7+), so it stays reserved
 * and both stay in the ownership map as they are.  to takes from's
 * protection.  false: nothing moved (an older kernel, or under valgrind). */
bool os_move_pages(os_mapping_t *from, os_mapping_t *to);
/* Tell the kernel [addr, addr+size) is unused: the pages are released and read
 * back as zero; the range stays mapped and RW. */
void os_decommit(void *addr, size_t size);
/* Change the protection of [addr, addr+size) (RW or NONE). false on failure.
 * Records nothing: a caller that keeps an os_mapping_t uses the forms below,
 * which keep its prot field true. */
bool os_protect(void *addr, size_t size, os_prot_t prot);
/* The same on the whole of *m, or on [addr, addr+size) inside it; m->prot
 * becomes prot (the whole mapping) or OS_PROT_MIXED (a part). */
bool os_protect_mapping(os_mapping_t *m, os_prot_t prot);
bool os_protect_part(os_mapping_t *m, void *addr, size_t size, os_prot_t prot);

/* ---- reserve, commit, guard ------------------------------------------------
 * A reservation is address space only: PROT_NONE, no memory behind it, in
 * the ownership map like any mapping (tag as os_map_tagged), counted in the
 * bytes-mapped statistic (it counts address space).  Any access faults until
 * the range is committed. */
os_mapping_t os_reserve(size_t size, size_t align, uint8_t tag);
/* Make [addr, addr+size) of m read-write; its pages read as zero the first
 * time (fresh, or given back by os_uncommit).  false on failure (ENOMEM). */
bool os_commit(os_mapping_t *m, void *addr, size_t size);
/* Give [addr, addr+size) of m back to the kernel and make it PROT_NONE
 * again: reserved, not committed.  Counted as decommitted. */
void os_uncommit(os_mapping_t *m, void *addr, size_t size);
/* Guard pages: [addr, addr+size) of m becomes PROT_NONE (contents released),
 * so any access faults.  false on failure (the range is then unchanged). */
bool os_guard(os_mapping_t *m, void *addr, size_t size);

/* Give [addr, addr+size) back to the kernel when its contents no longer
 * matter and need NOT read back as zero: the range stays mapped and RW, and
 * reads either old bytes or zeros.  This is the one place that chooses
 * between MADV_FREE (cheaper: the kernel takes the pages only under memory
 * pressure; what RSS shows lags) and MADV_DONTNEED (immediate; used when the
 * kernel has no MADV_FREE).  os_decommit above always uses MADV_DONTNEED,
 * because its callers rely on zeros. */
void os_release(void *addr, size_t size);

/* Name [addr, addr+size) in /proc/<pid>/maps as "[anon:<name>]" (prctl
 * PR_SET_VMA_ANON_NAME, Linux 5.17+ with CONFIG_ANON_VMA_NAME).  name must
 * be short printable text without brackets, backslash, dollar or backquote
 * (kernel rule).  false, and silently nothing, when the kernel does not
 * support it (a rejected name turns naming off the same way). */
bool os_name(void *addr, size_t size, const char *name);

/* The page size of the running kernel (getauxval(AT_PAGESZ), else
 * sysconf); OS_PAGE is the compile-time minimum every size is rounded to. */
size_t os_page_size(void);
/* Make [addr, addr+size) read-only for good (sealing start-up globals);
 * addr and size page-aligned.  false on failure. */
bool os_seal(void *addr, size_t size);

/* ---- the ownership map ---------------------------------------------------
 * Two levels over the 48-bit user address space: OS_OWN_L1 slots of 4 GiB,
 * each NULL or a leaf of one tag byte per 4 KiB page (1 MiB, mapped by os.c
 * itself on first use and never given back). */
#define OS_OWN_ADDR_BITS 48
#define OS_OWN_LEAF_SHIFT 32
#define OS_OWN_L1 ((size_t)1 << (OS_OWN_ADDR_BITS - OS_OWN_LEAF_SHIFT))
#define OS_OWN_LEAF ((size_t)1 << (OS_OWN_LEAF_SHIFT - 12))
extern HIDDEN uint8_t *os_own_l1[OS_OWN_L1];

/* The tag of the mapping holding p, 0 if this heap did not map it. */
static inline uint8_t os_tag_of(const void *p) {
  uintptr_t a = (uintptr_t)p;
  if (a >> OS_OWN_ADDR_BITS) return 0;
  const uint8_t *leaf = __atomic_load_n(&os_own_l1[a >> OS_OWN_LEAF_SHIFT], __ATOMIC_ACQUIRE);
  return leaf ? __atomic_load_n(&leaf[(a >> 12) & (OS_OWN_LEAF - 1)], __ATOMIC_RELAXED) : 0;
}
static inline bool os_owns(const void *p) { return os_tag_of(p) != 0; }

/* The coarse map: one tag byte per OS_GRAIN (4 MiB) of the lower 2^47 bytes
 * (x86-64's user space; 32 MiB of zero-page-backed static memory, written
 * only where a mapping covers a whole grain).  os_grain_tag(p) is T != 0 only
 * if every page of p's grain has tag T in the map above; 0 says nothing
 * (look at os_tag_of).  One shift, one compare and one load: the question a
 * fast path asks of a grain-aligned, grain-sized mapping (alloc_hybrid's
 * segments). */
#define OS_GRAIN_SHIFT 22
#define OS_GRAIN ((size_t)1 << OS_GRAIN_SHIFT)
#define OS_GRAIN_ADDR_BITS 47
#define OS_GRAINS ((size_t)1 << (OS_GRAIN_ADDR_BITS - OS_GRAIN_SHIFT))
extern HIDDEN uint8_t os_own_grain[OS_GRAINS];
static inline uint8_t os_grain_at(uintptr_t g) {
  return g < OS_GRAINS ? __atomic_load_n(&os_own_grain[g], __ATOMIC_RELAXED) : 0;
}
static inline uint8_t os_grain_tag(const void *p) { return os_grain_at((uintptr_t)p >> OS_GRAIN_SHIFT); }
/* Whether grain g (an address >> OS_GRAIN_SHIFT, any value) has tag t.  On
 * x86-64 the tag is compared in memory (cmpb): gcc does not fold an atomic
 * load into a compare, and this is one instruction of free()'s fast path in
 * alloc_hybrid.  The byte is read once, as the relaxed load would; under
 * TSan, that load. */
static inline bool os_grain_is(uintptr_t g, uint8_t t) {
  if (g >= OS_GRAINS) return false;
#if defined(__x86_64__) && !ALLOC_TSAN
  bool eq;
  __asm__("cmpb %2, %1" : "=@ccz"(eq) : "m"(os_own_grain[g]), "iq"(t));
  return eq;
#else
  return __atomic_load_n(&os_own_grain[g], __ATOMIC_RELAXED) == t;
#endif
}
/* p's grain number when p is a multiple of 1 << low (0 < low < 64 - 47),
 * else a value of OS_GRAINS or more: rotating p's low bits to the top puts
 * them beyond os_grain_is's range test, so its one compare asks both
 * questions. */
static inline uintptr_t os_grain_rot(const void *p, unsigned low) {
  uintptr_t a = (uintptr_t)p;
  return (a >> low | a << (64 - low)) >> (OS_GRAIN_SHIFT - low);
}
static inline bool os_grain_is_aligned(const void *p, unsigned low, uint8_t t) {
  return os_grain_is(os_grain_rot(p, low), t);
}

/* From now on the map (both levels and the coarse map) is read-only for the
 * program: os.c opens the pages an update writes only for that write.  For
 * a heap whose checks rely on the map (alloc_hybrid); it costs two mprotect
 * calls per part of the map an update writes (a leaf range, a grain range, a
 * new leaf's slot): four to six per mapping made or given back.  Only on
 * kernels whose page is OS_PAGE (the map's alignment); elsewhere it does
 * nothing. */
void os_map_seal(void);

/* Bytes currently mapped through this layer, and the peak. */
size_t os_bytes_mapped(void);
size_t os_bytes_mapped_peak(void);
/* Bytes given back by os_decommit (cumulative). */
size_t os_bytes_decommitted(void);
/* Bytes of the layer's own metadata (ownership-map leaves). */
size_t os_bytes_meta(void);

/* Fork: the map's lock is taken around fork (called by common/init.c). */
void os_fork_prepare(void);
void os_fork_parent(void);
void os_fork_child(void);

#endif
