/* bootstrap.c - the arena (bootstrap.h: where it is mapped).  Layout of each
 * block:
 *
 *   ... | size_t n (usable bytes) | user bytes (align-aligned) ... |
 *                                 ^ pointer handed out
 *
 * Out of band: g_start and g_freed, one bit per 16-byte granule of the arena;
 * a granule's start bit is set once its block is handed out, its freed bit
 * by the first free.  Never cleared (the arena is never reused).
 */
#include <sys/mman.h>

#include "bootstrap.h"
#include "util.h"

#define GRANULES (BOOTSTRAP_SIZE / ALLOC_MIN_ALIGN)
#define UNMAPPED (UINTPTR_MAX - BOOTSTRAP_SIZE)

uintptr_t bootstrap_base = UNMAPPED;
static size_t g_top; /* bytes used; only grows */
static uint64_t g_start[GRANULES / 64], g_freed[GRANULES / 64];

/* Map BOOTSTRAP_LEAD + BOOTSTRAP_SIZE bytes at a BOOTSTRAP_ALIGN-aligned
 * address (over-map, then cut the ends off); of two racing first calls the
 * loser gives its mapping back.  False: no memory. */
static bool arena_map(void) {
  size_t keep = BOOTSTRAP_LEAD + BOOTSTRAP_SIZE, span = BOOTSTRAP_ALIGN + keep;
  char *r = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (r == MAP_FAILED) return false;
  char *x = (char *)ALIGN_UP((uintptr_t)r, BOOTSTRAP_ALIGN);
  if (x > r) munmap(r, (size_t)(x - r));
  if (r + span > x + keep) munmap(x + keep, (size_t)(r + span - (x + keep)));
  uintptr_t want = UNMAPPED;
  if (!__atomic_compare_exchange_n(&bootstrap_base, &want, (uintptr_t)x + BOOTSTRAP_LEAD, false,
                                   __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
    munmap(x, keep);
  return true;
}

static unsigned char *arena(void) {
  return (unsigned char *)__atomic_load_n(&bootstrap_base, __ATOMIC_ACQUIRE);
}

void *bootstrap_alloc(size_t n, size_t align) {
  if (align < ALLOC_MIN_ALIGN) align = ALLOC_MIN_ALIGN;
  if (n > BOOTSTRAP_SIZE || align > 4096) return NULL;
  if (unlikely(__atomic_load_n(&bootstrap_base, __ATOMIC_ACQUIRE) == UNMAPPED) && !arena_map())
    return NULL;
  n = ALIGN_UP(n ? n : 1, ALLOC_MIN_ALIGN);
  size_t top = __atomic_load_n(&g_top, __ATOMIC_RELAXED), start, end;
  do {
    start = ALIGN_UP(top + sizeof(size_t), align);
    end = start + n;
    if (end > BOOTSTRAP_SIZE) return NULL;
  } while (!__atomic_compare_exchange_n(&g_top, &top, end, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED));
  unsigned char *p = arena() + start;
  ((size_t *)p)[-1] = n;
  size_t g = start / ALLOC_MIN_ALIGN;
  __atomic_or_fetch(&g_start[g / 64], (uint64_t)1 << (g % 64), __ATOMIC_RELEASE);
  return p; /* fresh anonymous memory: already zero, never reused */
}

size_t bootstrap_usable(const void *p) { return ((const size_t *)p)[-1]; }
size_t bootstrap_used(void) { return __atomic_load_n(&g_top, __ATOMIC_RELAXED); }

static bool bit(const uint64_t *map, size_t g) {
  return (__atomic_load_n(&map[g / 64], __ATOMIC_ACQUIRE) >> (g % 64)) & 1;
}

boot_state_t bootstrap_state(const void *p) {
  if (!bootstrap_owns(p)) return BOOT_NOT_OURS;
  size_t off = (size_t)((const unsigned char *)p - arena()), g = off / ALLOC_MIN_ALIGN;
  if (off % ALLOC_MIN_ALIGN || !bit(g_start, g)) return BOOT_INTERIOR;
  return bit(g_freed, g) ? BOOT_FREED : BOOT_LIVE;
}

boot_state_t bootstrap_note_free(const void *p) {
  boot_state_t st = bootstrap_state(p);
  if (st != BOOT_LIVE && st != BOOT_FREED) return st;
  size_t g = (size_t)((const unsigned char *)p - arena()) / ALLOC_MIN_ALIGN;
  uint64_t m = (uint64_t)1 << (g % 64);
  return __atomic_fetch_or(&g_freed[g / 64], m, __ATOMIC_ACQ_REL) & m ? BOOT_FREED : BOOT_LIVE;
}

size_t bootstrap_object_size(const void *p) {
  if (!bootstrap_owns(p)) return SIZE_MAX;
  size_t off = (size_t)((const unsigned char *)p - arena());
  /* The last block start at or below p: scan the start bits downwards. */
  size_t g = off / ALLOC_MIN_ALIGN;
  size_t w = g / 64;
  uint64_t bits = __atomic_load_n(&g_start[w], __ATOMIC_ACQUIRE) &
                  (g % 64 == 63 ? ~(uint64_t)0 : (((uint64_t)1 << (g % 64 + 1)) - 1));
  while (!bits) {
    if (w == 0) return SIZE_MAX;
    bits = __atomic_load_n(&g_start[--w], __ATOMIC_ACQUIRE);
  }
  size_t start = (w * 64 + 63 - (size_t)__builtin_clzll(bits)) * ALLOC_MIN_ALIGN;
  size_t n = bootstrap_usable(arena() + start); /* written before its bit */
  return off < start + n ? start + n - off : SIZE_MAX;
}
