/*
 * bind.h - call one heap by its prefixed names from a verify/ program
 * written against the standard ones (stress.c), for the sanitizer builds
 * (verify/sanitize.mk): the program then links the heap's instrumented
 * prefixed library while ASan or TSan keeps its own malloc for everything
 * else.  Included after the program's system headers and vtest.h, with
 * HEAP_PREFIX set by the build (e.g. -DHEAP_PREFIX=unsafe_).
 *
 * What changes, and nothing else:
 *   malloc calloc realloc aligned_alloc free  ->  <prefix>malloc ...
 *   vt_validate()    the heap's <prefix>alloc_validate (never absent here)
 *   vt_sym_owner()   names the linked heap instead of a loaded object
 */
#ifndef VERIFY_SANITIZE_BIND_H
#define VERIFY_SANITIZE_BIND_H

#ifndef HEAP_PREFIX
#error "bind.h needs HEAP_PREFIX (e.g. -DHEAP_PREFIX=unsafe_)"
#endif

#include "alloc_api.h"

#define BIND_CAT2_(a, b) a##b
#define BIND_CAT_(a, b) BIND_CAT2_(a, b)
#define BIND_(name) BIND_CAT_(HEAP_PREFIX, name)
#define BIND_STR2_(x) #x
#define BIND_STR_(x) BIND_STR2_(x)
#define BIND_DECLARE_(p) ALLOC_API_DECLARE(p)
BIND_DECLARE_(HEAP_PREFIX)

#define malloc(n) BIND_(malloc)(n)
#define calloc(k, n) BIND_(calloc)(k, n)
#define realloc(p, n) BIND_(realloc)(p, n)
#define aligned_alloc(a, n) BIND_(aligned_alloc)(a, n)
#define free(p) BIND_(free)(p)

/* Through an opaque copy: the program tests the pointer, as it must for a
 * dlsym result, and the compiler must not call that test always true. */
static inline vt_validate_fn bind_validate(void) {
  vt_validate_fn f = &BIND_(alloc_validate);
  __asm__ volatile("" : "+r"(f));
  return f;
}
#define vt_validate() bind_validate()
#define vt_sym_owner(sym) (BIND_STR_(HEAP_PREFIX) "* (prefixed heap, linked in)")

#endif
