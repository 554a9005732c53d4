/* bootstrap.h - static memory for allocations that arrive before a heap can
 * serve them: while it initialises (the dynamic loader, pthread_atfork, early
 * constructors) or re-entrantly from inside its own initialisation.
 *
 * Contract:
 *  - bootstrap_alloc(n, align) returns align-aligned (power of two <= 4096),
 *    zeroed memory from a fixed static arena, or NULL when it is exhausted;
 *    it takes no lock (a CAS bump), so it works from any state;
 *  - every pointer it returns is recognised by bootstrap_owns(), which every
 *    heap's free/realloc/usable_size path asks first;
 *  - freeing bootstrap memory is a no-op: the arena is small and only used
 *    before the heap runs; bootstrap_usable() gives the usable size.
 */
#ifndef ALLOC_BOOTSTRAP_H
#define ALLOC_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define BOOTSTRAP_SIZE ((size_t)256 << 10)

extern unsigned char bootstrap_arena[BOOTSTRAP_SIZE];

static inline bool bootstrap_owns(const void *p) {
  return (uintptr_t)p - (uintptr_t)bootstrap_arena < BOOTSTRAP_SIZE;
}
void *bootstrap_alloc(size_t n, size_t align);
size_t bootstrap_usable(const void *p);
/* Bytes of the arena handed out so far (statistics). */
size_t bootstrap_used(void);

#endif
