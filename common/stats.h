/* stats.h - statistics every heap keeps, printed on request.
 *
 * The list below and each heap's own (alloc_<heap>/heap_stats.h,
 * HEAP_STAT_LIST, same columns, possibly empty) are the only lists of
 * statistics: ALLOC_EVERY_STAT, both of them, produces the struct, the text
 * table and the JSON keys.  A heap fills an alloc_stats_t in
 * heap_stats(); stats.c adds the OS layer's figures and formats it.  Figures
 * are gathered without stopping other threads, so under concurrency they are
 * a consistent-enough snapshot, not an atomic one.
 *
 *   X(field, help)
 */
#ifndef ALLOC_STATS_H
#define ALLOC_STATS_H

#include <stdint.h>

#include "heap_stats.h"

#define ALLOC_STAT_LIST(X)                                                       \
  X(allocs, "blocks handed out (malloc, calloc, aligned, realloc moves)")        \
  X(frees, "blocks taken back")                                                  \
  X(live_blocks, "allocs - frees")                                               \
  X(bytes_live, "bytes in live blocks, counted at their size class")             \
  X(bytes_peak, "peak of bytes held for blocks (spans or caches, large blocks)") \
  X(bytes_cached, "bytes held for small blocks but free (in spans or caches)")   \
  X(bytes_mapped, "bytes mapped from the OS now")                                \
  X(bytes_mapped_peak, "peak of bytes_mapped")                                   \
  X(bytes_decommitted, "bytes given back to the OS with madvise (cumulative)")   \
  X(large_allocs, "blocks served by their own mapping")                          \
  X(large_live, "such blocks live now")                                          \
  X(threads, "threads with a heap or cache of their own")

#define ALLOC_EVERY_STAT(X) ALLOC_STAT_LIST(X) HEAP_STAT_LIST(X)

#define ALLOC_STATS_MAX_CLASSES 64

typedef struct alloc_class_stats {
  uint64_t size, allocs, frees;
} alloc_class_stats_t;

typedef struct alloc_stats {
#define ALLOC_STAT_FIELD(field, help) uint64_t field;
  ALLOC_EVERY_STAT(ALLOC_STAT_FIELD)
#undef ALLOC_STAT_FIELD
  uint32_t nclasses;
  alloc_class_stats_t cls[ALLOC_STATS_MAX_CLASSES];
} alloc_stats_t;

/* Write the statistics to fd as a text table or as one JSON object. */
void stats_print(int fd, int json);

#endif
