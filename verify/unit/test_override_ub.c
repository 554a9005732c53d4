/* test_override_ub.c - the override's alignment edge cases, run on a build
 * of the first heap (common/ and alloc_<heap>/ sources) compiled by clang
 * with -fsanitize=builtin: a __builtin_clz/ctz of 0 anywhere on these paths
 * (undefined behaviour, e.g. memalign(0, n) rounding its alignment) stops
 * the run with a sanitizer report.  Also checks what the calls return
 * (glibc 2.36: an alignment below 16 acts as malloc). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "alloc_api.h"
#include "check.h"

#define CAT2_(a, b) a##b
#define CAT_(a, b) CAT2_(a, b)
#define H(name) CAT_(HEAP_PREFIX, name)
#define DECLARE_(prefix) ALLOC_API_DECLARE(prefix)
DECLARE_(HEAP_PREFIX)

int main(void) {
  static const size_t aligns[] = {0, 1, 2, 3, 8, 15, 16, 17, 33, 4095, 4097};
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    size_t a = aligns[i], want = a <= 16 ? 16 : (size_t)1 << (64 - __builtin_clzl(a - 1));
    for (size_t n = 0; n < 5000; n += 999) {
      char *p = H(memalign)(a, n);
      CHECK(p != NULL && (uintptr_t)p % want == 0);
      if (p) memset(p, 0x5a, n);
      H(free)(p);
      p = H(aligned_alloc)(a, n);
      CHECK(p != NULL && (uintptr_t)p % want == 0);
      H(free)(p);
    }
  }
  void *q = (void *)1;
  CHECK(H(posix_memalign)(&q, 0, 10) == EINVAL && q == (void *)1);
  CHECK(H(posix_memalign)(&q, 24, 10) == EINVAL);
  CHECK(H(posix_memalign)(&q, 8, 10) == 0 && q != NULL);
  H(free)(q);
  errno = 0;
  CHECK(H(memalign)(SIZE_MAX, 10) == NULL && errno == EINVAL);
  return UNIT_RESULT();
}
