/* heap_stats.h - alloc_hybrid's own statistics, merged with the common list
 * (common/stats.h, same columns).  Empty: the common ones say it all.
 *
 *   X(field, help)
 */
#ifndef HYBRID_HEAP_STATS_H
#define HYBRID_HEAP_STATS_H

#define HEAP_STAT_LIST(X)

#endif
