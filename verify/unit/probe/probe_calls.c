/* probe_calls.c - the hook counters of the test policy (heap_policy.h). */
#include "layout.h"

EXPORT unsigned long probe_calls[PH_COUNT];
