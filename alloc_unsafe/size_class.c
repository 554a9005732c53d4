/* size_class.c - generate the size-class table (see size_class.h). */
#include "fatal.h"
#include "layout.h"
#include "size_class.h"
/* Fresh blocks are linked onto a span's free list CARVE_BYTES worth at a time
 * (at least 4): fresh pages are touched as they are needed, and, as malloc
 * takes freed blocks before fresh ones (theap.c, span_refill), a class that
 * cycles through a few blocks keeps its cache footprint near CARVE_BYTES.
 * With 16 KiB, `macro cfrac 0.05` (a dozen classes, each allocated and freed
 * at once) missed L1 902,000 times under cachegrind, mimalloc (4 KiB) 16,000;
 * with 4 KiB 34,000, for 1% more instructions. */
#ifndef CARVE_BYTES
#define CARVE_BYTES (4u << 10)
#endif

size_class_t size_classes[NCLASSES];
uint8_t class_lut[LUT_MAX / 16 + 1];

/* Pages per span: the fewest pages (<= 16) that hold at least 4 blocks with
 * at most 1/16 of the span wasted; failing that, the least waste. */
static uint32_t span_pages(uint32_t size) {
  uint32_t best = 16;
  size_t best_waste = SIZE_MAX, best_bytes = 1;
  for (uint32_t p = 1; p <= 16; p++) {
    size_t bytes = p * PAGE_SIZE, blocks = bytes / size, waste = bytes - blocks * size;
    if (blocks < 4) continue;
    if (waste * 16 <= bytes) return p;
    if (waste * best_bytes < best_waste * bytes) best = p, best_waste = waste, best_bytes = bytes;
  }
  return best;
}

void size_classes_init(void) {
  for (unsigned c = 0; c < NCLASSES; c++) {
    uint32_t size;
    if (c < 8) {
      size = 16 * (c + 1);
    } else {
      unsigned lg = 7 + (c - 8) / 4, k = (c - 8) % 4 + 1;
      size = (1u << lg) + k * (1u << (lg - 2));
    }
    size_class_t *sc = &size_classes[c];
    sc->size = size;
    sc->npages = span_pages(size);
    sc->nblocks = (uint32_t)(sc->npages * PAGE_SIZE / size);
    if (sc->nblocks > UINT16_MAX) alloc_fatal("size classes: span_t counts blocks in 16 bits", NULL);
    sc->carve = MIN(sc->nblocks, MAX(4, (uint32_t)CARVE_BYTES / size));
  }
  for (size_t i = 0; i < ARRAY_LEN(class_lut); i++) {
    unsigned c = 0;
    while (size_classes[c].size < i * 16) c++;
    class_lut[i] = (uint8_t)c;
  }
}
