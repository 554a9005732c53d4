/* checks.h - the one list of the checks a heap may fail, by the name its
 * fatal line prints.  New code names a check by its id (alloc_check_name or
 * ALLOC_FATAL); tests enumerate the list to match every line a heap can
 * write.  (alloc_unsafe's validate walk still passes its own "validate: ..."
 * literals to alloc_fatal; they all start with "validate: ".)
 *
 *   X(ID, "text printed after '<heap>: fatal: '")
 */
#ifndef ALLOC_CHECKS_H
#define ALLOC_CHECKS_H

#define ALLOC_CHECK_LIST(X)                                                       \
  X(DOUBLE_FREE_SMALL, "double free (small)")                                     \
  X(DOUBLE_FREE_LARGE, "double free (large)")                                     \
  X(DOUBLE_FREE_BOOTSTRAP, "double free (bootstrap)")                             \
  X(INVALID_FREE, "invalid free (not from this heap)")                            \
  X(INTERIOR_FREE, "invalid free (interior pointer)")                             \
  X(INTERIOR_FREE_BOOTSTRAP, "invalid free (interior of a bootstrap block)")      \
  X(INVALID_REALLOC, "invalid realloc (not from this heap)")                      \
  X(INVALID_USABLE_SIZE, "invalid malloc_usable_size (not from this heap)")       \
  X(REALLOC_NOT_LIVE, "invalid realloc (not a live block)")                       \
  X(USABLE_SIZE_NOT_LIVE, "invalid malloc_usable_size (not a live block)")        \
  X(SIZE_MISMATCH, "free_sized: wrong size")                                      \
  X(ALIGN_MISMATCH, "free_aligned_sized: wrong alignment")                        \
  X(HEADER_CORRUPT, "corrupted block header")                                     \
  X(LINK_CORRUPT, "corrupted free-list link")                                     \
  X(CANARY, "canary overwritten (heap overflow)")                                 \
  X(WRITE_AFTER_FREE, "write after free")                                         \
  X(METADATA_CORRUPT, "corrupted heap metadata")                                  \
  X(KIND_MISMATCH, "allocation kind mismatch (malloc/new/new[] vs free/delete/delete[])") \
  X(VALIDATE, "validate: inconsistent heap state")                                \
  X(ASSERTION, "assertion failed")

typedef enum {
#define ALLOC_CHECK_ENUM(id, text) ALLOC_CHECK_##id,
  ALLOC_CHECK_LIST(ALLOC_CHECK_ENUM)
#undef ALLOC_CHECK_ENUM
  ALLOC_CHECK_COUNT
} alloc_check_t;

/* The text of check id (a string literal; "?" out of range). */
const char *alloc_check_name(alloc_check_t id);

#endif
