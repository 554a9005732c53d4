/* frozen.h - the globals that are written during start-up and then never
 * again: the options and the process secret.
 *
 * They live together in one page-aligned, page-sized object so that, once
 * alloc_process_init() has filled them, os_seal() can make that page
 * read-only: a heap-overflow or write-what-where bug in the program can then
 * not turn a hardened heap's checks off or learn to forge its encodings by
 * rewriting them.  Read them freely; write them only from start-up code
 * (options_init, random_init, alloc_process_init), before frozen_seal().
 * In the prefixed build each heap library has its own page, sealed by its
 * own initialisation.
 */
#ifndef ALLOC_FROZEN_H
#define ALLOC_FROZEN_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "os.h"

typedef struct alloc_frozen {
  alloc_options_t opt; /* alloc_opt (options.h) names this member */
  uint64_t secret[4];  /* random.h */
  bool sealed;         /* the page is read-only now */
} alloc_frozen_t;

typedef union alloc_frozen_page {
  alloc_frozen_t f;
  unsigned char pad[OS_PAGE];
} alloc_frozen_page_t;
_Static_assert(sizeof(alloc_frozen_t) <= OS_PAGE, "the frozen globals fit in one page");

extern HIDDEN alloc_frozen_page_t alloc_frozen;

/* Make the page read-only (once; later calls do nothing).  false when the
 * kernel refused or the run-time page is larger than OS_PAGE (the object
 * would share a page with other data), in which case it stays writable. */
bool frozen_seal(void);

#endif
