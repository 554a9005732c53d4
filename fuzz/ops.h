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
 *     0xE0 .. 0xFF   misuse operations (see MISUSE below)
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
 * MISUSE: opcodes 0xE0..0xFF are misuse operations, MISUSES[(b - 0xE0) %
 * MISUSE_COUNT] (the second table below).  Each names the class of
 * verify/misuse it commits (the classes a heap's claims.tsv lists).  A heap
 * that claims the class gets it as the input's last operation, committed in
 * a forked child: the child must die with a line holding the claim's message
 * (misuse.c); the input ends there.  On a heap that does not claim the class
 * the opcode byte alone is skipped, as before misuse mode existed, so
 * alloc_unsafe (it claims nothing) runs every input as it always did.  On a
 * heap that claims it, the operands are read; a misuse whose block is
 * missing or of the wrong kind is then skipped and the input goes on.
 */
#ifndef FUZZ_OPS_H
#define FUZZ_OPS_H

#define FUZZ_SLOTS 64
#define FUZZ_MISUSE_FIRST 0xE0 /* opcodes >= this are misuse operations */

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

/* X(name, operand bytes, class in claims.tsv, what it does) - the misuse table.
 * "small" below means req in [16, 64] (verify/misuse's SMALL is 64).  Blocks
 * from the helper thread are not freed twice (model.h, remote).  A double
 * free chooses double_free_small (req <= 64 from malloc/calloc/realloc),
 * double_free_large (req >= 256 KiB) or, between or from an aligned
 * allocator (a big alignment may make any block large), whichever of the
 * two the heap claims; OVERFLOW picks
 * overflow_small / overflow_large the same way.  alloc_hybrid claims neither
 * OVERFLOW's nor UAF_WRITE's class (no canaries, freed bytes unchecked):
 * those two wait for a heap that does (alloc_checked). */
#define FUZZ_MISUSES(X)                                                                  \
  X(DOUBLE_FREE, 1, "double_free_*", "slot: free the block twice")                      \
  X(FREE_INTERIOR, 3, "free_interior", "slot off16: free(p + 1 + off % (req - 1))")    \
  X(REALLOC_INTERIOR, 3, "realloc_interior", "slot off16: realloc(p + ..., 64)")        \
  X(USABLE_INTERIOR, 3, "usable_size_interior", "slot off16: malloc_usable_size(p + ...)") \
  X(FREE_WILD, 1, "free_wild", "b: free((void *)(16 + 16 * b)), never mapped")          \
  X(REALLOC_WILD, 1, "realloc_wild", "b: realloc of that address")                      \
  X(USABLE_WILD, 1, "usable_size_wild", "b: malloc_usable_size of that address")         \
  X(FREE_FOREIGN, 1, "free_foreign", "b: free a pointer into the harness's .bss")       \
  X(REALLOC_FOREIGN, 1, "realloc_foreign", "b: realloc of that pointer")                 \
  X(USABLE_FOREIGN, 1, "usable_size_foreign", "b: malloc_usable_size of it")             \
  X(REALLOC_FREED, 1, "realloc_freed", "slot: free a small block, then realloc it")      \
  X(USABLE_FREED, 1, "usable_size_freed", "slot: free a small block, then its usable size") \
  X(FREELIST_POISON, 1, "freelist_poison",                                               \
    "slot: allocate two blocks of the slot's (small) size, free both, overwrite the "   \
    "last one's link with a .bss address, allocate that size 4096 times")                                           \
  X(SIZE_MISMATCH, 2, "size_mismatch",                                                   \
    "slot how: free_sized(p, usable + 1 + how), or (how odd, small blocks of usable "    \
    ">= 32) free_sized(p, usable / 2 - 1)")                                              \
  X(OVERFLOW, 2, "overflow_*", "slot k: change 1 + k % 8 bytes past usable size, then free") \
  X(UAF_WRITE, 1, "uaf_write",                                                            \
    "slot: free a block (32..64 B or >= 256 KiB), change its bytes 16..63, then allocate " \
    "its size 4096 times (8 if large)")                                                   \
  X(UNDERFLOW, 2, "underflow",                                                            \
    "slot k: allocate up to 64 blocks of the slot's (small) size until two sit next to "  \
    "each other, change 1 + k % 16 bytes below the higher one, free it, then the lower")

enum fuzz_misuse {
#define FUZZ_MISUSE_ENUM(name, nargs, cls, doc) MISUSE_##name,
  FUZZ_MISUSES(FUZZ_MISUSE_ENUM)
#undef FUZZ_MISUSE_ENUM
  MISUSE_COUNT
};
_Static_assert(MISUSE_COUNT <= 0x100 - FUZZ_MISUSE_FIRST, "misuse table fits its opcode range");

enum fuzz_op {
#define FUZZ_OP_ENUM(name, nargs, doc) OP_##name,
  FUZZ_OPS(FUZZ_OP_ENUM)
#undef FUZZ_OP_ENUM
  OP_COUNT
};

_Static_assert(OP_COUNT <= FUZZ_MISUSE_FIRST, "opcode space overlaps misuse range");

#endif
