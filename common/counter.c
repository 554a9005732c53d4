/* counter.c - the counters more than one layer of a heap updates. */
#include "counter.h"

peak_counter_t alloc_held_bytes;
