/* heap_stats.h - alloc_unsafe's own statistics, merged with the common list
 * (common/stats.h, same columns).  Empty: the common ones say it all.
 *
 *   X(field, help)
 */
#ifndef UNSAFE_HEAP_STATS_H
#define UNSAFE_HEAP_STATS_H

#define HEAP_STAT_LIST(X)

#endif
