/*
 * heap_bind.h - bind the harness to one heap's prefixed names at compile time.
 *
 * Build with -DFUZZ_HEAP=<heap> (unsafe, hybrid, checked, ...).  H(malloc)
 * then names <heap>_malloc, and FUZZ_HEAP_NAME is "alloc_<heap>".  No
 * function pointers: the calls are direct, as in any program linking the heap.
 */
#ifndef FUZZ_HEAP_BIND_H
#define FUZZ_HEAP_BIND_H

#include "alloc_api.h"

#ifndef FUZZ_HEAP
#error "build with -DFUZZ_HEAP=<heap>, e.g. -DFUZZ_HEAP=unsafe"
#endif

#define FUZZ_CAT2(a, b) a##_##b
#define FUZZ_CAT(a, b) FUZZ_CAT2(a, b)
#define FUZZ_PFX2(a) a##_
#define FUZZ_PFX(a) FUZZ_PFX2(a)
#define FUZZ_STR2(x) #x
#define FUZZ_STR(x) FUZZ_STR2(x)
#define FUZZ_DECLARE(prefix) ALLOC_API_DECLARE(prefix)

/* The heap's entry points, e.g. H(malloc) -> unsafe_malloc. */
#define H(fn) FUZZ_CAT(FUZZ_HEAP, fn)
#define FUZZ_HEAP_NAME "alloc_" FUZZ_STR(FUZZ_HEAP)

FUZZ_DECLARE(FUZZ_PFX(FUZZ_HEAP))

#endif
