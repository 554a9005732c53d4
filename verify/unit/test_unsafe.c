/* test_unsafe.c - alloc_unsafe's own engine checks, through its prefixed
 * build (the shared cases are test_heap.c's and test_return.c's).
 *
 * large_split: a large request well below a cached mapping is cut from its
 * front, and the rest of that mapping serves the next request
 * (alloc_unsafe/large.c, cache_take and split_off).  The two blocks must
 * then sit exactly one cut apart in the old mapping, hold their own bytes,
 * and leave the cache valid (alloc_validate checks its headers and bounds).
 * Without the cut the second block gets a fresh mapping.
 *
 * large_join: the piece cut off joins its rest again when freed
 * (cache_join), so a request for nearly the whole old mapping gets it back
 * at the same address; without the join it would grow one of the pieces.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc_api.h"
#include "check.h"

ALLOC_API_DECLARE(unsafe_)

#define MIB ((size_t)1 << 20)

static void fill(unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i += 4096) p[i] = v;
  p[n - 1] = v;
}
static int holds(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i += 4096)
    if (p[i] != v) return 0;
  return p[n - 1] == v;
}

static void case_large_split(void) {
  unsigned char *big = unsafe_malloc(128 * MIB), *mid = unsafe_malloc(32 * MIB);
  CHECK(big && mid);
  if (!big || !mid) return;
  fill(mid, 32 * MIB, 1);
  unsafe_free(mid);
  unsafe_free(big); /* cached: 128 MiB and 32 MiB + a page */
  size_t n = 10 * MIB;
  unsigned char *a = unsafe_malloc(n);
  CHECK(unsafe_alloc_validate() == 1); /* the rest, cached, has a valid header */
  unsigned char *b = unsafe_malloc(n);
  CHECK(a && b);
  if (!a || !b) return;
  /* a is cut from the 32 MiB mapping (12 MiB: whole 4 MiB chunks), b from
   * its rest; the 128 MiB one fits neither (more than 4x the request). */
  fprintf(stderr, "large split: a=%p b=%p (b - a = %td)\n", (void *)a, (void *)b, b - a);
  CHECK(b - a == (ptrdiff_t)(12 * MIB));
  CHECK(unsafe_malloc_usable_size(a) >= n && unsafe_malloc_usable_size(a) < 12 * MIB);
  CHECK(unsafe_malloc_usable_size(b) >= n);
  fill(a, n, 2); /* the requested bytes: under memcheck the slack is no-access */
  fill(b, n, 3);
  CHECK(holds(a, n, 2));
  CHECK(holds(b, n, 3));
  CHECK(unsafe_alloc_validate() == 2);
  /* A cut block grows (moved by mremap, its rest is in the way) and keeps
   * its bytes; freeing both leaves a valid cache. */
  unsigned char *a2 = unsafe_realloc(a, 20 * MIB);
  CHECK(a2 != NULL);
  if (a2) {
    CHECK(holds(a2, n, 2));
    a = a2;
  }
  CHECK(holds(b, n, 3));
  unsafe_free(b);
  unsafe_free(a);
  CHECK(unsafe_alloc_validate() == 0);
  CHECK(unsafe_malloc_trim(0) == 1); /* the cut pieces unmap like any mapping */
  CHECK(unsafe_alloc_validate() == 0);
}

static void case_large_join(void) {
  unsafe_malloc_trim(0); /* an empty cache */
  unsigned char *big = unsafe_malloc(64 * MIB);
  CHECK(big != NULL);
  if (!big) return;
  fill(big, 64 * MIB, 4);
  unsafe_free(big);
  unsigned char *a = unsafe_malloc(10 * MIB); /* cut: 12 MiB from the 64 MiB one */
  CHECK(a == big);
  CHECK(unsafe_malloc_usable_size(a) < 12 * MIB); /* not the whole mapping */
  CHECK(unsafe_alloc_validate() == 1);
  unsafe_free(a); /* joins the 52 MiB rest */
  CHECK(unsafe_alloc_validate() == 0);
  unsigned char *c = unsafe_malloc(60 * MIB);
  fprintf(stderr, "large join: big=%p a=%p c=%p\n", (void *)big, (void *)a, (void *)c);
  CHECK(c == big);
  if (c) {
    fill(c, 60 * MIB, 5);
    CHECK(holds(c, 60 * MIB, 5));
  }
  unsafe_free(c);
  CHECK(unsafe_alloc_validate() == 0);
}

int main(void) {
  case_large_split();
  case_large_join();
  return UNIT_RESULT();
}
