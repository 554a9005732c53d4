/* util.h - compiler helpers shared by every file of every heap. */
#ifndef ALLOC_UTIL_H
#define ALLOC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE    __attribute__((noinline))
#define COLD        __attribute__((cold, noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
/* Symbols every heap exports; everything else is hidden (-fvisibility=hidden). */
#define EXPORT      __attribute__((visibility("default")))
/* On an extern declaration of data, so that the compiler reaches it directly
 * (rip-relative) instead of through the GOT: -fvisibility=hidden covers
 * definitions only. */
#define HIDDEN      __attribute__((visibility("hidden")))

#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((uintptr_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uintptr_t)(a) - 1))
#define IS_POW2(x)       ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define ARRAY_LEN(a)     (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))

/* Built with ThreadSanitizer (gcc defines the first, clang answers the
 * second): code that hand-writes an ordering TSan cannot see uses the C11
 * atomics instead, so TSan still checks it. */
#if defined(__SANITIZE_THREAD__)
#define ALLOC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ALLOC_TSAN 1
#endif
#endif
#ifndef ALLOC_TSAN
#define ALLOC_TSAN 0
#endif

/* Every pointer a heap returns is aligned to this (max_align_t on x86-64). */
#define ALLOC_MIN_ALIGN 16
/* Requests above this fail with ENOMEM before any heap sees them, so no size
 * arithmetic inside a heap can overflow. */
#define ALLOC_MAX_REQUEST ((size_t)PTRDIFF_MAX - ((size_t)64 << 20))

/* Debug assertions: compiled out in release builds.  Security checks that
 * must always run use the fatal-error path (fatal.h) instead. */
#if defined(ALLOC_DEBUG) && ALLOC_DEBUG
#include "fatal.h"
#define DEBUG_ASSERT(c) ((c) ? (void)0 : alloc_fatal("assertion failed: " #c, NULL))
#else
#define DEBUG_ASSERT(c) ((void)0)
#endif

#endif
