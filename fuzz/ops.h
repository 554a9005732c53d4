/*
 * ops.h - the fuzz input format: one table of operations, written once.
 *
 * An input is a sequence of operations.  Each operation is one opcode byte
 * followed by a fixed number of operand bytes (the table below).  Every byte
 * string is a valid input: an operand read past the end of the input reads as
 * zero, and the input ends when no opcode byte is left.
 *
 *   opcode byte b
 *     0x00 .. 0xDF   operation OPS[b % OP_COUNT]   (the table below)
 *     0xE0 .. 0xFF   RESERVED for misuse operations (see MISUSE below)
 *
 * Operand encodings (little-endian where wider than one byte):
 *   slot   1 byte   slot = byte % FUZZ_SLOTS; each slot holds at most one
 *                   block.  An allocation into an occupied slot first frees
 *                   the old block (after checking its contents).
 *   size   2 bytes  v = u16; the top three bits pick a size class so that
 *                   small sizes are common and large ones possible:
 *                     v>>13 in 0..3   size = v & 0x3ff            (0 .. 1023)
 *                     v>>13 in 4..5   size = v & 0x3fff           (0 .. 16383)
 *                     v>>13 == 6      size = (v & 0x1fff) * 32 + (v & 31)
 *                                                                 (0 .. 262143)
 *                     v>>13 == 7      size = (v & 0x1fff) * 512 + (v & 511)
 *                                                                 (0 .. ~4 MiB)
 *   align  1 byte   log2 = (byte & 0x1f) % 21, alignment = 1 << log2
 *                   (1 .. 1 MiB).  For posix_memalign, bit 0x80 asks for an
 *                   invalid alignment instead (not a power of two, or below
 *                   sizeof(void *)) and expects EINVAL.
 *   nmemb  1 byte   element count for calloc/reallocarray; the decoded size is
 *                   the total, split as nmemb * (total / nmemb).
 *   huge   1 byte   which impossible request OP_HUGE makes (see harness.c).
 *   pad    2 bytes  malloc_trim pad (u16).
 *
 * MISUSE (reserved, not implemented): opcodes 0xE0..0xFF are kept for the
 * misuse modes of the hardened heaps (double free, free of a foreign pointer,
 * write past the end, write after free, realloc of a freed block, ...).  In a
 * misuse build the harness will run such an operation last, expect the heap to
 * abort with its fixed fatal line, and treat survival as the failure.  Until
 * then the harness skips these bytes (they take no operands), so corpora and
 * regressions written today keep their meaning.  alloc_unsafe detects nothing
 * by design and must never be fuzzed in misuse mode.
 */
#ifndef FUZZ_OPS_H
#define FUZZ_OPS_H

#define FUZZ_SLOTS 64
#define FUZZ_MISUSE_FIRST 0xE0 /* opcodes >= this are the reserved misuse range */

/* X(name, operand bytes, what it does) - the one table of operations. */
#define FUZZ_OPS(X)                                                            \
  X(MALLOC, 3, "slot size: malloc")                                            \
  X(CALLOC, 4, "slot nmemb size: calloc, must be zero")                        \
  X(REALLOC, 3, "slot size: realloc (malloc if empty), keeps min(old,new)")    \
  X(FREE, 1, "slot: free (free(NULL) if empty)")                               \
  X(POSIX_MEMALIGN, 4, "slot align size: posix_memalign")                      \
  X(ALIGNED_ALLOC, 4, "slot align size: aligned_alloc")                        \
  X(MEMALIGN, 4, "slot align size: memalign")                                  \
  X(VALLOC, 3, "slot size: valloc, page aligned")                              \
  X(PVALLOC, 3, "slot size: pvalloc, page aligned, rounded up to pages")       \
  X(REALLOCARRAY, 4, "slot nmemb size: reallocarray")                          \
  X(FREE_SIZED, 1, "slot: free_sized(p, requested) if from malloc")            \
  X(FREE_ALIGNED_SIZED, 1, "slot: free_aligned_sized if from aligned_alloc")   \
  X(USABLE, 1, "slot: usable size >= requested, write all of it")              \
  X(TRIM, 2, "pad: malloc_trim")                                               \
  X(VALIDATE, 0, "heap validate() == live blocks in the model")                \
  X(CHECK_ALL, 0, "check the contents of every live block")                    \
  X(HUGE, 2, "huge slot: impossible request, expects NULL/ENOMEM")             \
  X(REMOTE_MALLOC, 3, "slot size: malloc on the helper thread")                \
  X(REMOTE_FREE, 1, "slot: free on the helper thread")                         \
  X(THREAD_CYCLE, 0, "end the helper thread (its cache), start a new one")     \
  X(FREE_ALL, 0, "free every live block, then validate() == 0")

enum fuzz_op {
#define FUZZ_OP_ENUM(name, nargs, doc) OP_##name,
  FUZZ_OPS(FUZZ_OP_ENUM)
#undef FUZZ_OP_ENUM
  OP_COUNT
};

_Static_assert(OP_COUNT <= FUZZ_MISUSE_FIRST, "opcode space overlaps misuse range");

#endif
