/* heap.h - the core operations every heap implements.
 *
 * The override layer (override.c) is the only caller.  It has already dealt
 * with everything the C standard and POSIX say (NULL, size 0 for free, size
 * overflow, errno, alignment rules, bootstrap pointers), so a heap sees only:
 *
 *   - sizes n with 0 <= n <= ALLOC_MAX_REQUEST (so n + a page never wraps);
 *   - alignments that are powers of two, > ALLOC_MIN_ALIGN;
 *   - pointers p != NULL that are not in the bootstrap arena (a heap that
 *     validates pointers checks them; alloc_unsafe trusts them).
 *
 * The override answers some calls without handing p to the heap: a pointer
 * into the bootstrap arena (free, free_sized, free_aligned_sized, realloc,
 * malloc_usable_size, malloc_object_size) and realloc(p, n) with n above
 * ALLOC_MAX_REQUEST.  Before each such answer it calls the heap's
 *     static inline void heap_check_early(const void *p, int op);
 * (in heap_fast.h; op is a HEAP_OP_* below), so a validating heap still
 * looks at p: a bootstrap pointer through bootstrap_state(p) (it must be
 * BOOT_LIVE; interior and freed ones are misuse, except that OBJECT_SIZE
 * takes any pointer into a live block), any other p as it checks
 * its own.  The hook returns only if p is acceptable (otherwise it ends in
 * alloc_fatal); it may be called more than once for one call (realloc of a
 * bootstrap block checks as REALLOC, then frees it as FREE).  alloc_unsafe's
 * is empty.
 *
 * A heap returns NULL when memory runs out (the override sets errno) and
 * never returns a pointer that is not ALLOC_MIN_ALIGN-aligned.  The names are
 * the same in every heap: each heap is its own library, so the override binds
 * to them at compile time (a direct call, no indirection).
 *
 * The hot pair is inlined into malloc() and free(): each heap's folder has a
 * heap_fast.h (found through -Ialloc_<heap>) that defines
 *     static inline void *heap_malloc(size_t n);
 *     static inline void heap_free(void *p);
 * as a short fast path with one call to a cold slow path.
 */
#ifndef ALLOC_HEAP_H
#define ALLOC_HEAP_H

#include <stddef.h>

#include "alloc_api.h"
#include "stats.h"

enum {
  HEAP_OP_FREE = 1,     /* free, free_sized, free_aligned_sized, realloc(p, 0) */
  HEAP_OP_REALLOC,      /* realloc(p, n), n >= 1 (also n too large) */
  HEAP_OP_USABLE_SIZE,  /* malloc_usable_size */
  HEAP_OP_OBJECT_SIZE,  /* malloc_object_size */
};

void *heap_calloc(size_t n);                     /* memory reads as zero */
void *heap_memalign(size_t align, size_t n);
void heap_free_sized(void *p, size_t n);         /* n: the size the caller claims */
/* p came from an aligned allocation of alignment align (a power of two, as
 * the caller claims it: the override does not check it) and size n. */
void heap_free_aligned_sized(void *p, size_t align, size_t n);
/* n >= 1.  NULL: out of memory and p is untouched.  Copies min(old, n). */
void *heap_realloc(void *p, size_t n);
size_t heap_usable_size(const void *p);
/* p: any pointer into a live block (not only its start).  Returns the bytes
 * from p to the end of the block's usable size, or ALLOC_OBJECT_SIZE_UNKNOWN
 * (SIZE_MAX, alloc_api.h) when the heap cannot tell - it never faults on a p
 * the heap handed out.  A trusting heap may answer nonsense for a p that is
 * not inside a live block; a validating heap answers UNKNOWN or fails. */
size_t heap_object_size(const void *p);
int heap_trim(size_t pad);                       /* 1 if memory was released */
size_t heap_validate(void);                      /* live blocks; fatal if broken */
void heap_stats(alloc_stats_t *s);
/* Fork: prepare takes every heap lock, parent/child release them. */
void heap_fork_prepare(void);
void heap_fork_parent(void);
void heap_fork_child(void);

/* Allocation kinds, for a heap that checks new/new[]/malloc against
 * delete/delete[]/free.  The C++ operators (override_cxx.cc) call
 * heap_kind_note(p, kind) after operator new / new[] returned p, and
 * heap_kind_check(p, kind) before operator delete / delete[] release p (it
 * ends in the fatal path when p was allocated otherwise, and leaves p
 * marked HEAP_KIND_MALLOC so the free that follows passes).  free() and
 * realloc() expect HEAP_KIND_MALLOC.  override_cxx.cc defines both as weak
 * no-ops, so a heap that does not track kinds defines nothing. */
enum { HEAP_KIND_MALLOC = 0, HEAP_KIND_NEW = 1, HEAP_KIND_NEW_ARRAY = 2 };
void heap_kind_note(void *p, unsigned kind);
void heap_kind_check(void *p, unsigned kind);

/* Called once by a heap's own initialisation (common/init.c): options,
 * valgrind detection, fork handlers, verbose print-back. */
void alloc_process_init(void);

#include "heap_fast.h"

/* A heap whose heap_malloc sets errno to ENOMEM itself whenever it returns
 * NULL defines HEAP_MALLOC_SETS_ERRNO as 1 in its heap_fast.h; malloc() then
 * returns its answer without looking at it (a tail call into the slow path). */
#ifndef HEAP_MALLOC_SETS_ERRNO
#define HEAP_MALLOC_SETS_ERRNO 0
#endif

/* A heap whose fast paths need none of the override's checks defines
 * HEAP_FAST_MISS as 1 and, in its heap_fast.h,
 *     static inline void *heap_malloc_fast(size_t n);  NULL: missed
 *     static inline bool heap_free_fast(void *p);      false: missed
 *     void *heap_malloc_slow(size_t n);   heap_malloc after its fast path
 *     void heap_free_slow(void *p);       heap_free after its fast path
 * for p != NULL.  Each either completes the whole operation or misses
 * without side effects, and it must miss for every n > ALLOC_MAX_REQUEST,
 * for every bootstrap block (bootstrap.h says what memory lies in front of
 * the arena), and whenever the memcheck hooks may be on (vg.h: before
 * vg_init has decided, and under valgrind with the hooks on).  On a
 * miss malloc() and free() take the override's full, hooked path, which calls
 * the slow halves directly (the fast half has just missed), so the fast pair
 * carries neither the size limit test nor the valgrind test.
 *
 * HEAP_FREE_FAST_NULL 1 says heap_free_fast(NULL) is safe and misses too, so
 * free() tests for NULL only after a miss. */
#ifndef HEAP_FAST_MISS
#define HEAP_FAST_MISS 0
#endif
#ifndef HEAP_FREE_FAST_NULL
#define HEAP_FREE_FAST_NULL 0
#endif
#if !HEAP_FAST_MISS /* no fast half: the slow half is the whole operation */
static ALWAYS_INLINE void *heap_malloc_slow(size_t n) { return heap_malloc(n); }
static ALWAYS_INLINE void heap_free_slow(void *p) { heap_free(p); }
#endif

#endif
