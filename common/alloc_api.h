/*
 * alloc_api.h - the public surface of every heap in the suite, written once.
 *
 * Each heap builds twice:
 *   build/lib/liballoc_<heap>.so        exports the standard names (malloc, ...)
 *                                       for LD_PRELOAD;
 *   build/lib/liballoc_<heap>_prefixed.a exports the same functions as
 *                                       <heap>_malloc, <heap>_free, ... so one
 *                                       process can link several heaps.
 *
 * A harness that links prefixed heaps declares them with
 *     #include "alloc_api.h"
 *     ALLOC_API_DECLARE(unsafe_)
 * and calls unsafe_malloc(), unsafe_alloc_validate(), ...
 *
 * Besides the glibc names, every heap exports three suite functions:
 *   <p>alloc_validate()       walks the heap's own state and ends in the
 *                             fatal-error path on any inconsistency; returns
 *                             the number of live blocks it saw.
 *   <p>alloc_stats_print(fd, json)  writes the statistics to fd, as text or
 *                             as one JSON object.
 *   <p>malloc_object_size(p)  bytes from p, any pointer into a live block,
 *                             to the end of that block (what a bounds-checking
 *                             caller may still write); 0 for NULL;
 *                             ALLOC_OBJECT_SIZE_UNKNOWN when the heap cannot
 *                             tell (alloc_unsafe: a pointer more than 4 MiB
 *                             past the start of a large block's mapping).
 */
#ifndef ALLOC_API_H
#define ALLOC_API_H

#include <stddef.h>
#include <stdint.h>

#define ALLOC_OBJECT_SIZE_UNKNOWN SIZE_MAX

#define ALLOC_API_DECLARE(prefix)                                        \
  void *prefix##malloc(size_t size);                                          \
  void prefix##free(void *ptr);                                               \
  void *prefix##calloc(size_t nmemb, size_t size);                            \
  void *prefix##realloc(void *ptr, size_t size);                              \
  void *prefix##reallocarray(void *ptr, size_t nmemb, size_t size);           \
  int prefix##posix_memalign(void **out, size_t alignment, size_t size);      \
  void *prefix##aligned_alloc(size_t alignment, size_t size);                 \
  void *prefix##memalign(size_t alignment, size_t size);                      \
  void *prefix##valloc(size_t size);                                          \
  void *prefix##pvalloc(size_t size);                                         \
  size_t prefix##malloc_usable_size(void *ptr);                               \
  void prefix##free_sized(void *ptr, size_t size);                            \
  void prefix##free_aligned_sized(void *ptr, size_t alignment, size_t size);  \
  int prefix##malloc_trim(size_t pad);                                        \
  size_t prefix##alloc_validate(void);                                        \
  void prefix##alloc_stats_print(int fd, int json);                           \
  size_t prefix##malloc_object_size(const void *ptr);

#endif
