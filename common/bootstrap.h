/* bootstrap.h - static memory for allocations that arrive before a heap can
 * serve them: while it initialises (the dynamic loader, pthread_atfork, early
 * constructors) or re-entrantly from inside its own initialisation.
 *
 * Contract:
 *  - bootstrap_alloc(n, align) returns align-aligned (power of two <= 4096),
 *    zeroed memory from a fixed arena, or NULL when it is exhausted (or could
 *    not be mapped); it takes no lock (an mmap at first use, published with
 *    a CAS, then a CAS bump), so it works from any state;
 *  - every pointer it returns is recognised by bootstrap_owns(), which every
 *    heap's free/realloc/usable_size path asks first;
 *  - freeing bootstrap memory never reuses it (the arena is small and only
 *    used before the heap runs); bootstrap_usable() gives the usable size;
 *  - the arena keeps, out of band, a bit per ALLOC_MIN_ALIGN granule for
 *    "a block starts here" and one for "that block was freed", so a
 *    validating heap can reject an interior or already-freed bootstrap
 *    pointer (bootstrap_state) instead of trusting it.
 */
#ifndef ALLOC_BOOTSTRAP_H
#define ALLOC_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "util.h"

#define BOOTSTRAP_SIZE ((size_t)256 << 10)
/* Where the arena lives: mapped at its first use, BOOTSTRAP_LEAD bytes after
 * a BOOTSTRAP_ALIGN-aligned address, and those lead bytes are mapped and read
 * as zero.  So a heap that finds a pointer's metadata at the pointer's
 * BOOTSTRAP_ALIGN-aligned base below (alloc_unsafe's segment header) reads
 * zeros there for a bootstrap block, never unmapped memory: its free fast
 * path can look before the override asks bootstrap_owns (heap.h,
 * HEAP_FAST_MISS). */
#define BOOTSTRAP_ALIGN ((size_t)4 << 20)
#define BOOTSTRAP_LEAD ((size_t)64 << 10)

/* The arena's first byte; until it is mapped, a value that makes
 * bootstrap_owns true only for BOOTSTRAP_SIZE bytes at the top of the
 * address space, which no pointer a program holds can be. */
extern HIDDEN uintptr_t bootstrap_base;

static inline bool bootstrap_owns(const void *p) {
  return (uintptr_t)p - __atomic_load_n(&bootstrap_base, __ATOMIC_RELAXED) < BOOTSTRAP_SIZE;
}
void *bootstrap_alloc(size_t n, size_t align);
/* p: the start of a bootstrap block (trusted; see bootstrap_state). */
size_t bootstrap_usable(const void *p);
/* Bytes of the arena handed out so far (statistics). */
size_t bootstrap_used(void);

/* What p is, read from the out-of-band bits only (never from the arena). */
typedef enum {
  BOOT_NOT_OURS = 0, /* outside the arena */
  BOOT_INTERIOR,     /* inside the arena, not the start of a block */
  BOOT_LIVE,         /* the start of a block not freed */
  BOOT_FREED,        /* the start of a block already freed */
} boot_state_t;
boot_state_t bootstrap_state(const void *p);
/* Mark the block starting at p freed; returns its state before (so of two
 * racing frees exactly one sees BOOT_LIVE).  Anything but a block start is
 * left alone. */
boot_state_t bootstrap_note_free(const void *p);
/* Bytes from p (inside a bootstrap block) to the end of that block; SIZE_MAX
 * when p is in no block (padding, or outside the arena). */
size_t bootstrap_object_size(const void *p);

#endif
