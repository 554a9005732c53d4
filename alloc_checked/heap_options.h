/* heap_options.h - alloc_checked's own run-time options, merged with the
 * common list (common/options.h, same columns).  One option per safety
 * feature, so the bench can switch each off alone and measure what it
 * costs.  Each takes off|on|preset; "preset" (the default) follows
 * ALLOC_CHECKED_PRESET: full turns every feature on, light turns the costly
 * ones (zero-on-free, quarantines, random slot choice) off, the way
 * hardened_malloc's light variant does.  An explicit off/on always wins.
 * Switching a feature off weakens the heap: OPT_SECURE (ignored when setuid).
 *
 *   X(field, NAME, default, min, max, words, flags, help)
 */
#ifndef CHECKED_HEAP_OPTIONS_H
#define CHECKED_HEAP_OPTIONS_H

#define HEAP_OPTION_LIST(X)                                                              \
  X(preset, CHECKED_PRESET, 0, 0, 1, "full|light", OPT_SECURE,                           \
    "full: every feature on; light: zero, quarantines and random choice off")          \
  X(random, CHECKED_RANDOM, 2, 0, 2, "off|on|preset", OPT_SECURE,                        \
    "random slot choice from the thread cache (light: off)")                           \
  X(canary, CHECKED_CANARY, 2, 0, 2, "off|on|preset", OPT_SECURE,                        \
    "8-byte canary after each small block, checked on free (light: on)")               \
  X(zero, CHECKED_ZERO, 2, 0, 2, "off|on|preset", OPT_SECURE,                            \
    "zero small blocks on free, check still zero on reuse (light: off)")               \
  X(quarantine, CHECKED_QUARANTINE, 2, 0, 2, "off|on|preset", OPT_SECURE,                \
    "delay reuse of freed small slots (per-thread ring) (light: off)")                 \
  X(malloc0, CHECKED_MALLOC0, 2, 0, 2, "off|on|preset", OPT_SECURE,                      \
    "malloc(0) points into PROT_NONE memory (light: on)")                              \
  X(large_quarantine, CHECKED_LARGE_QUARANTINE, 2, 0, 2, "off|on|preset", OPT_SECURE,    \
    "keep freed large mappings PROT_NONE for a while (light: off)")                    \
  X(kind, CHECKED_KIND, 2, 0, 2, "off|on|preset", OPT_SECURE,                            \
    "track new/new[]/malloc and check delete/delete[]/free match (light: on)")

#endif
