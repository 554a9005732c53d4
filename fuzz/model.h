/*
 * model.h - the shadow model the fuzz harness checks a heap against.
 *
 * The model knows, for every slot, the block the heap returned and what must
 * hold for it.  Invariants (checked by model.c; a violation is one line on
 * stderr naming the check, then abort()):
 *
 *   align      p % align == 0, where align = 16 for malloc/calloc/realloc/
 *              reallocarray and the requested alignment (or the page) for the
 *              aligned kinds.
 *   overlap    for live blocks a != b: [a.p, a.p + a.span) and
 *              [b.p, b.p + b.span) are disjoint, span = max(filled, req, 1).
 *   contents   bytes [0, filled) of a live block equal pattern(key) - written
 *              by the harness right after allocation, checked before realloc,
 *              before free, on CHECK_ALL and at the end of every input.
 *   realloc    the first min(old req, new req) bytes survive a realloc.
 *   zero       calloc's req bytes read as zero.
 *   usable     usable_size(p) >= req, and all usable_size(p) bytes are
 *              writable without disturbing any other block.
 *   validate   <heap>_alloc_validate() == number of live blocks in the model.
 *
 * Glossary: req = bytes requested; filled = bytes holding the pattern
 * (req, or usable_size after a USABLE op); key = per-allocation pattern seed,
 * unique per (slot, generation).
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"

_Static_assert(FUZZ_SLOTS <= 64, "struct model's busy mask has one bit per slot");

/* What the pointer came from, which decides how it may be freed. */
enum block_kind {
  KIND_MALLOC,   /* malloc, calloc, realloc, reallocarray: free_sized ok */
  KIND_ALIGNED,  /* aligned_alloc: free_aligned_sized ok */
  KIND_MEMALIGN, /* posix_memalign, memalign, valloc, pvalloc: free only */
};

struct block {
  unsigned char *p; /* NULL: slot empty */
  size_t req;
  size_t filled;
  size_t align; /* requested alignment (KIND_ALIGNED), else 0 */
  uint64_t key;
  enum block_kind kind;
  int remote; /* allocated on another thread than the main one (the helper,
                 a worker of the threaded driver), or realloc'd in place since:
                 misuse mode does not free it twice, as its free from this
                 thread is a cross-thread free the owner handles later */
};

struct model {
  struct block slot[FUZZ_SLOTS];
  uint64_t busy;     /* bit s set: slot[s].p != NULL (kept by model_insert and
                        model_remove), so the loops over live blocks skip the
                        empty slots without reading them */
  size_t live;       /* blocks with p != NULL (malloc(0) blocks included) */
  size_t live_bytes; /* sum of req over live blocks */
  uint64_t gen;      /* allocation counter, feeds the keys */
};

/* Where the harness is, for the failure line and the saved reproducer. */
struct fuzz_context {
  const char *heap;           /* "alloc_unsafe" */
  const unsigned char *input; /* current input (saved on failure if asked) */
  size_t input_len;
  size_t op_index;  /* operation number within the input */
  const char *op;   /* operation name */
  const char *save_dir; /* FUZZ_SAVE_FAIL: write the failing input here */
  int skip_validate_count; /* FUZZ_VALIDATE_COUNT=0: validate() still walks the
                              heap, but its count is not compared (to fuzz on
                              past a known counting bug) */
};
extern struct fuzz_context fuzz_ctx;

/* One line "fuzz[<heap>]: FAIL <check>: <detail> (op #n NAME)", then abort. */
__attribute__((noreturn, format(printf, 2, 3))) void model_fail(const char *check,
                                                               const char *fmt, ...);

/* The pattern: byte i of a block with key k.  fill writes [from, to). */
void pattern_fill(unsigned char *p, size_t from, size_t to, uint64_t key);
/* Returns the offset of the first byte in [0, n) that differs, or n. */
size_t pattern_find_bad(const unsigned char *p, size_t n, uint64_t key);

void model_reset(struct model *m);
uint64_t model_new_key(struct model *m, unsigned slot);
size_t model_span(const struct block *b);

/* Checks; each ends in model_fail on violation. */
void model_check_align(const void *p, size_t align, const char *what);
/* [p, p + span) must not meet any live block other than slot `self`. */
void model_check_overlap(const struct model *m, const void *p, size_t span, int self,
                         const char *what);
void model_check_contents(const struct model *m, unsigned slot, const char *when);
void model_check_all(const struct model *m, const char *when);
void model_check_zero(const unsigned char *p, size_t n);
void model_check_validate(size_t heap_count, size_t live, const char *when);

/* Record a new block in an empty slot and fill it with its pattern. */
void model_insert(struct model *m, unsigned slot, void *p, size_t req, enum block_kind kind,
                  size_t align);
/* Forget the block in `slot` (the heap has been told to free it). */
void model_remove(struct model *m, unsigned slot);

#endif
