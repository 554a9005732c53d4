/* override.c - the standard malloc names, written once for every heap.
 *
 * Everything the C standard, POSIX and glibc say about edge cases lives here
 * (NULL, size 0, nmemb*size overflow, huge sizes, errno, alignment rules,
 * bootstrap pointers, the valgrind hooks); each function then calls the
 * heap's core operation (heap.h) directly.  Compiled once per heap with
 * ALLOC_PREFIX empty (liballoc_<heap>.so) or "<heap>_" (the prefixed library).
 *
 * Where C leaves a choice to the implementation we do what glibc 2.36 does:
 *   malloc(0)           a unique pointer that can be freed
 *   realloc(p, 0)       frees p, returns NULL (p != NULL)
 *   memalign/aligned_alloc with a non-power-of-two alignment: rounded up to
 *                       the next power of two; alignment > SIZE_MAX/2+1: EINVAL
 *   aligned_alloc       same rules as memalign (glibc 2.36 does not require
 *                       size to be a multiple of the alignment)
 *   pvalloc(n)          page-aligned, usable size rounded up to a page
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "alloc_api.h"
#include "bootstrap.h"
#include "heap.h"
#include "os.h"
#include "stats.h"
#include "util.h"
#include "vg.h"

#ifndef ALLOC_PREFIX
#error "ALLOC_PREFIX must be defined (empty for the LD_PRELOAD build)"
#endif
#define CAT2_(a, b) a##b
#define CAT_(a, b) CAT2_(a, b)
#define PUB(name) CAT_(ALLOC_PREFIX, name)

#define DECLARE_WITH_(prefix) ALLOC_API_DECLARE(prefix)
DECLARE_WITH_(ALLOC_PREFIX)
/* glibc's introspection names, declared for the prefixed build too. */
struct mallinfo2 PUB(mallinfo2)(void);
struct mallinfo PUB(mallinfo)(void);
void PUB(malloc_stats)(void);
int PUB(mallopt)(int param, int value);
int PUB(malloc_info)(int options, FILE *fp);

static COLD void *fail_enomem(void) {
  errno = ENOMEM;
  return NULL;
}

/* ---- the hot pair ------------------------------------------------------- */

/* Under valgrind, or before the heap has decided (vg.h): the block is
 * described to memcheck if the hooks are on once the heap has answered. */
static COLD void *malloc_vg(size_t n) {
  void *p = heap_malloc(n);
  if (!p) return fail_enomem();
  vg_alloc(p, n, false);
  return p;
}

/* A bootstrap block is freed: the heap may check it first (heap.h), then
 * the arena remembers it (never reused). */
static COLD void free_bootstrap(void *p) {
  heap_check_early(p, HEAP_OP_FREE);
  bootstrap_note_free(p);
}

static COLD void free_vg(void *p) {
  vg_free(p);
  heap_free(p);
}

/* The checked path: the size limit, the valgrind hook and errno, then the
 * heap's slow half (heap.h: the whole operation for a heap without
 * HEAP_FAST_MISS).  With HEAP_FAST_MISS malloc() runs the heap's fast half
 * first and comes here, out of line, only on a miss; otherwise this is
 * malloc() itself.  With
 * HEAP_MALLOC_SETS_ERRNO the heap's answer is returned as it is, so its slow
 * path is a tail call and malloc needs no stack frame. */
static ALWAYS_INLINE void *malloc_checked(size_t n) {
  if (unlikely(n > ALLOC_MAX_REQUEST)) return fail_enomem();
  if (unlikely(!vg_known_off)) return malloc_vg(n);
  void *p = heap_malloc_slow(n);
  if (HEAP_MALLOC_SETS_ERRNO) return p;
  return likely(p != NULL) ? p : fail_enomem();
}
/* p != NULL.  The memcheck hook is a tail call of its own, so free() saves
 * no register across a call and needs no stack frame. */
static ALWAYS_INLINE void free_checked(void *p) {
  if (unlikely(bootstrap_owns(p))) return free_bootstrap(p);
  if (unlikely(!vg_known_off)) return free_vg(p);
  heap_free_slow(p);
}

#if HEAP_FAST_MISS
/* The heap's fast pair first (heap.h: it misses for huge sizes, under the
 * memcheck hooks and for bootstrap blocks). */
static COLD void *malloc_miss(size_t n) { return malloc_checked(n); }
static COLD void free_miss(void *p) {
  if (HEAP_FREE_FAST_NULL && !p) return;
  free_checked(p);
}

EXPORT void *PUB(malloc)(size_t n) {
  void *p = heap_malloc_fast(n);
  if (likely(p != NULL)) return p;
  return malloc_miss(n);
}

EXPORT void PUB(free)(void *p) {
  if (!HEAP_FREE_FAST_NULL && unlikely(!p)) return;
  if (likely(heap_free_fast(p))) return;
  free_miss(p);
}
#else
EXPORT void *PUB(malloc)(size_t n) { return malloc_checked(n); }

EXPORT void PUB(free)(void *p) {
  if (unlikely(!p)) return;
  free_checked(p);
}
#endif

/* ---- the rest of the C and POSIX surface -------------------------------- */

EXPORT void *PUB(calloc)(size_t nmemb, size_t size) {
  size_t n;
  if (unlikely(__builtin_mul_overflow(nmemb, size, &n)) || unlikely(n > ALLOC_MAX_REQUEST))
    return fail_enomem();
  void *p = heap_calloc(n);
  if (unlikely(!p)) return fail_enomem();
  vg_alloc(p, n, true);
  return p;
}

static size_t usable_size(const void *p) {
  return bootstrap_owns(p) ? bootstrap_usable(p) : heap_usable_size(p);
}

/* Move p to a new block of n bytes: used for bootstrap blocks and, under
 * valgrind, for every realloc (memcheck then never needs the old size). */
static void *realloc_by_moving(void *p, size_t n) {
  void *q = heap_malloc(n);
  if (!q) return fail_enomem();
  vg_alloc(q, n, false);
  /* Under memcheck, only the bytes p was asked for: the new block's rest
   * stays undefined, as a fresh malloc's would. */
  memcpy(q, p, MIN(vg_requested(p, usable_size(p)), n));
  PUB(free)(p);
  return q;
}

EXPORT void *PUB(realloc)(void *p, size_t n) {
  if (!p) return PUB(malloc)(n);
  if (n == 0) { /* glibc: free and return NULL */
    PUB(free)(p);
    return NULL;
  }
  if (unlikely(n > ALLOC_MAX_REQUEST) || unlikely(bootstrap_owns(p))) {
    heap_check_early(p, HEAP_OP_REALLOC);
    if (n > ALLOC_MAX_REQUEST) return fail_enomem();
    return realloc_by_moving(p, n);
  }
  if (unlikely(vg_on)) return realloc_by_moving(p, n);
  void *q = heap_realloc(p, n);
  return q ? q : fail_enomem();
}

EXPORT void *PUB(reallocarray)(void *p, size_t nmemb, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) return fail_enomem();
  return PUB(realloc)(p, n);
}

/* memalign semantics of glibc 2.36 (see the top of this file). */
static void *memalign_core(size_t align, size_t n) {
  if (align > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return NULL;
  }
  if (n > ALLOC_MAX_REQUEST) return fail_enomem();
  /* Alignments up to 16 (0 included: glibc treats it as malloc) need no
   * rounding, and clz(0) would be undefined; above, round up to a power. */
  void *p;
  if (align <= ALLOC_MIN_ALIGN) {
    p = heap_malloc(n);
  } else {
    if (!IS_POW2(align)) align = (size_t)1 << (64 - __builtin_clzl(align));
    p = heap_memalign(align, n);
  }
  if (!p) return fail_enomem();
  vg_alloc(p, n, false);
  return p;
}

EXPORT void *PUB(memalign)(size_t align, size_t n) { return memalign_core(align, n); }
EXPORT void *PUB(aligned_alloc)(size_t align, size_t n) { return memalign_core(align, n); }
EXPORT void *PUB(valloc)(size_t n) { return memalign_core(OS_PAGE, n); }

EXPORT void *PUB(pvalloc)(size_t n) {
  if (n > ALLOC_MAX_REQUEST) return fail_enomem();
  return memalign_core(OS_PAGE, ALIGN_UP(n ? n : 1, OS_PAGE));
}

EXPORT int PUB(posix_memalign)(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || !IS_POW2(align)) return EINVAL;
  int saved = errno; /* POSIX: errno is not changed, on success or failure */
  void *p = memalign_core(align, n);
  errno = saved;
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

EXPORT size_t PUB(malloc_usable_size)(void *p) {
  if (!p) return 0;
  if (bootstrap_owns(p)) heap_check_early(p, HEAP_OP_USABLE_SIZE);
  return usable_size(p);
}

/* C23: the size (and alignment) the caller passes must be what it asked for;
 * a heap may check it.  Bootstrap blocks are never reclaimed. */
EXPORT void PUB(free_sized)(void *p, size_t n) {
  if (!p) return;
  if (bootstrap_owns(p)) return free_bootstrap(p);
  vg_free(p);
  heap_free_sized(p, n);
}

EXPORT void PUB(free_aligned_sized)(void *p, size_t align, size_t n) {
  if (!p) return;
  if (bootstrap_owns(p)) return free_bootstrap(p);
  vg_free(p);
  heap_free_aligned_sized(p, align, n);
}

EXPORT int PUB(malloc_trim)(size_t pad) { return heap_trim(pad); }

/* ---- glibc's internal names ---------------------------------------------
 * Some programs and libraries call glibc's __libc_malloc family directly
 * (to reach "the real malloc" from inside a wrapper).  While a heap replaces
 * malloc, those must reach it too, or two heaps mix and a block of one is
 * freed into the other.  The LD_PRELOAD build exports them as forwarders
 * (as mimalloc and tcmalloc do); the prefixed build does not, since it replaces
 * nothing. */
#if ALLOC_PRELOAD
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);
EXPORT void *__libc_malloc(size_t n) { return PUB(malloc)(n); }
EXPORT void __libc_free(void *p) { PUB(free)(p); }
EXPORT void *__libc_calloc(size_t nmemb, size_t size) { return PUB(calloc)(nmemb, size); }
EXPORT void *__libc_realloc(void *p, size_t n) { return PUB(realloc)(p, n); }
EXPORT void *__libc_memalign(size_t align, size_t n) { return memalign_core(align, n); }
EXPORT void *__libc_valloc(size_t n) { return PUB(valloc)(n); }
EXPORT void *__libc_pvalloc(size_t n) { return PUB(pvalloc)(n); }
#endif

/* ---- suite functions ---------------------------------------------------- */

EXPORT size_t PUB(alloc_validate)(void) { return heap_validate(); }
EXPORT void PUB(alloc_stats_print)(int fd, int json) { stats_print(fd, json); }
EXPORT size_t PUB(malloc_object_size)(const void *p) {
  if (!p) return 0;
  if (bootstrap_owns(p)) {
    heap_check_early(p, HEAP_OP_OBJECT_SIZE);
    return bootstrap_object_size(p);
  }
  return heap_object_size(p);
}

/* ---- glibc introspection -------------------------------------------------- */
/* Honest figures from the heap's statistics: arena = bytes mapped, in use =
 * bytes in live blocks (at their size class), free = the difference. */
static void fill_mallinfo2(struct mallinfo2 *mi) {
  static alloc_stats_t s; /* too large for the stack of a small thread */
  memset(mi, 0, sizeof *mi);
  memset(&s, 0, sizeof s);
  heap_stats(&s);
  size_t mapped = os_bytes_mapped();
  mi->arena = mapped;
  mi->hblks = s.large_live;
  mi->uordblks = s.bytes_live;
  mi->fordblks = mapped > s.bytes_live ? mapped - s.bytes_live : 0;
  mi->usmblks = os_bytes_mapped_peak();
}

EXPORT struct mallinfo2 PUB(mallinfo2)(void) {
  struct mallinfo2 mi;
  fill_mallinfo2(&mi);
  return mi;
}

EXPORT struct mallinfo PUB(mallinfo)(void) {
  struct mallinfo2 m2;
  fill_mallinfo2(&m2);
  struct mallinfo mi = {
      .arena = (int)m2.arena, .hblks = (int)m2.hblks, .uordblks = (int)m2.uordblks,
      .fordblks = (int)m2.fordblks, .usmblks = (int)m2.usmblks};
  return mi;
}

EXPORT void PUB(malloc_stats)(void) { stats_print(2, 0); }

/* glibc's documented parameters are accepted (1) and have no effect: none
 * of their knobs exists in these heaps, and a program that tunes glibc
 * (M_ARENA_MAX, M_MMAP_THRESHOLD, ...) must not take 0 for an error.  As in
 * glibc, M_MXFAST accepts 0..80*sizeof(size_t)/4 only.  Two differences,
 * on purpose: M_PERTURB is accepted only as 0 (we never fill blocks with a
 * pattern, so we do not claim to), and an unknown parameter returns 0 where
 * glibc returns 1 (its manual lists that under BUGS). */
EXPORT int PUB(mallopt)(int param, int value) {
  switch (param) {
    case M_MXFAST:
      return value >= 0 && (size_t)value <= 80 * sizeof(size_t) / 4;
    case M_PERTURB:
      return value == 0;
    case M_TRIM_THRESHOLD:
    case M_TOP_PAD:
    case M_MMAP_THRESHOLD:
    case M_MMAP_MAX:
    case M_CHECK_ACTION:
    case M_ARENA_TEST:
    case M_ARENA_MAX:
      return 1;
    default:
      return 0;
  }
}

EXPORT int PUB(malloc_info)(int options, FILE *fp) {
  if (options != 0) {
    errno = EINVAL;
    return -1;
  }
  struct mallinfo2 mi;
  fill_mallinfo2(&mi);
  fprintf(fp,
          "<malloc version=\"1\" heap=\"%s\">\n<total type=\"mapped\" size=\"%zu\"/>\n"
          "<total type=\"inuse\" size=\"%zu\"/>\n<total type=\"free\" size=\"%zu\"/>\n</malloc>\n",
          HEAP_NAME, mi.arena, mi.uordblks, mi.fordblks);
  return 0;
}
