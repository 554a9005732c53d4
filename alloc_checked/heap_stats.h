/* heap_stats.h - alloc_checked's own statistics, merged with the common list
 * (common/stats.h, same columns).
 *
 *   X(field, help)
 */
#ifndef CHECKED_HEAP_STATS_H
#define CHECKED_HEAP_STATS_H

#define HEAP_STAT_LIST(X)                                                  \
  X(slabs, "slabs mapped now (64 KiB of slots between guard pages)")       \
  X(quarantined, "small slots waiting in thread quarantines")              \
  X(large_quarantined, "freed large mappings kept PROT_NONE")

#endif
