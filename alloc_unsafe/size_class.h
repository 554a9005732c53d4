/* size_class.h - the one size-class table of alloc_unsafe.
 *
 * Classes: 16..128 in steps of 16, then four classes per power of two
 * (160, 192, 224, 256, 320, ...) up to SMALL_MAX.  Rounding waste is at most
 * 25% above 128 bytes and 15 bytes below.  Every power of two from 16 to
 * SMALL_MAX is a class, and a span starts on a PAGE_SIZE boundary, so every
 * block of a class whose size is a multiple of A (A <= PAGE_SIZE) is
 * A-aligned: aligned requests up to PAGE_SIZE alignment are served by picking
 * such a class; larger alignments go to large blocks.
 *
 * The table (an array of structs) is generated at start-up from that rule;
 * class_lut maps (n + 15) / 16 to a class for n <= LUT_MAX.
 */
#ifndef UNSAFE_SIZE_CLASS_H
#define UNSAFE_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define NCLASSES 48
#define SMALL_MAX ((size_t)128 << 10)
#define LUT_MAX 1024

typedef struct size_class {
  uint32_t size;       /* stride and usable size */
  uint32_t npages;     /* pages per span */
  uint32_t nblocks;    /* blocks per span */
  uint32_t carve;      /* fresh blocks linked onto a span's free list at once */
} size_class_t;

extern HIDDEN size_class_t size_classes[NCLASSES];
extern HIDDEN uint8_t class_lut[LUT_MAX / 16 + 1];

void size_classes_init(void);

/* Class of n, 0 <= n <= SMALL_MAX. */
static ALWAYS_INLINE unsigned class_of(size_t n) {
  if (likely(n <= LUT_MAX)) return class_lut[(n + 15) >> 4];
  unsigned lg = 63 - (unsigned)__builtin_clzl(n - 1); /* n in (2^lg, 2^(lg+1)] */
  return 8 + (lg - 7) * 4 + (unsigned)(((n - 1) >> (lg - 2)) & 3);
}

#endif
