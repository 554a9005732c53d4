/* bootstrap.c - the static arena.  Layout of each block:
 *
 *   ... | size_t n (usable bytes) | user bytes (align-aligned) ... |
 *                                 ^ pointer handed out
 */
#include "bootstrap.h"
#include "util.h"

unsigned char bootstrap_arena[BOOTSTRAP_SIZE] __attribute__((aligned(4096)));
static size_t g_top; /* bytes used; only grows */

void *bootstrap_alloc(size_t n, size_t align) {
  if (align < ALLOC_MIN_ALIGN) align = ALLOC_MIN_ALIGN;
  if (n > BOOTSTRAP_SIZE || align > 4096) return NULL;
  n = ALIGN_UP(n ? n : 1, ALLOC_MIN_ALIGN);
  size_t top = __atomic_load_n(&g_top, __ATOMIC_RELAXED), start, end;
  do {
    start = ALIGN_UP(top + sizeof(size_t), align);
    end = start + n;
    if (end > BOOTSTRAP_SIZE) return NULL;
  } while (!__atomic_compare_exchange_n(&g_top, &top, end, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED));
  unsigned char *p = bootstrap_arena + start;
  ((size_t *)p)[-1] = n;
  return p; /* static storage: already zero, never reused */
}

size_t bootstrap_usable(const void *p) { return ((const size_t *)p)[-1]; }
size_t bootstrap_used(void) { return __atomic_load_n(&g_top, __ATOMIC_RELAXED); }
