/* heap_options.h - alloc_unsafe's own run-time options, merged with the
 * common list (common/options.h, same columns).  Empty: every option the
 * trusting heap reads is a common one.  Another heap's options are known
 * by name only (the Makefile generates the list of all of them), so ours
 * can tell "belongs to alloc_<other>" from "unknown".
 *
 *   X(field, NAME, default, min, max, words, flags, help)
 */
#ifndef UNSAFE_HEAP_OPTIONS_H
#define UNSAFE_HEAP_OPTIONS_H

#define HEAP_OPTION_LIST(X)

#endif
