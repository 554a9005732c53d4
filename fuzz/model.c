/*
 * model.c - shadow-model checks for the fuzz harness (see model.h).
 *
 * Nothing here allocates from the heap under test, and the failure path uses
 * only stack buffers and write(2), so a corrupted heap cannot hide a failure.
 */
#include "model.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fuzz_context fuzz_ctx = {.heap = "?", .op = "start"};

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Keep the failing input, so a failure in generated inputs can be replayed. */
static void save_input(char *line, size_t cap) {
  if (!fuzz_ctx.save_dir || !fuzz_ctx.input) return;
  char path[512];
  snprintf(path, sizeof path, "%s/%s-%016llx.bin", fuzz_ctx.save_dir, fuzz_ctx.heap,
           (unsigned long long)fnv1a(fuzz_ctx.input, fuzz_ctx.input_len));
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  ssize_t w = write(fd, fuzz_ctx.input, fuzz_ctx.input_len);
  close(fd);
  if (w == (ssize_t)fuzz_ctx.input_len) {
    size_t len = strlen(line);
    snprintf(line + len, cap - len, " [input saved: %s]", path);
  }
}

void model_fail(const char *check, const char *fmt, ...) {
  char line[1024], detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  snprintf(line, sizeof line, "fuzz[%s]: FAIL %s: %s (op #%zu %s)", fuzz_ctx.heap, check,
           detail, fuzz_ctx.op_index, fuzz_ctx.op);
  save_input(line, sizeof line - 1);
  size_t len = strlen(line);
  line[len++] = '\n';
  ssize_t ignored = write(2, line, len);
  (void)ignored;
  abort();
}

/* ---- the pattern -------------------------------------------------------------
 * Byte i of a block is byte (i % 8) of the little-endian word
 *     W(i / 8) = key ^ ((i / 8 + 1) * golden)
 * so every 8-byte word of every block differs: a block copied to the wrong
 * offset, or another block's bytes, do not match. */
#define GOLDEN 0x9E3779B97F4A7C15ull

static inline uint64_t pattern_word(uint64_t key, size_t j) {
  return key ^ ((uint64_t)(j + 1) * GOLDEN);
}

static inline unsigned char pattern_byte(uint64_t key, size_t i) {
  return (unsigned char)(pattern_word(key, i / 8) >> (8 * (i % 8)));
}

/* Both loops below step (j + 1) * golden by addition, 32 bytes at a time with
 * one branch, so they run at memory speed (this is most of the harness's time). */
void pattern_fill(unsigned char *p, size_t from, size_t to, uint64_t key) {
  size_t i = from;
  for (; i < to && i % 8; i++) p[i] = pattern_byte(key, i);
  uint64_t acc = (uint64_t)(i / 8 + 1) * GOLDEN;
  for (; i + 32 <= to; i += 32, acc += 4 * GOLDEN) {
    uint64_t w[4] = {key ^ acc, key ^ (acc + GOLDEN), key ^ (acc + 2 * GOLDEN),
                     key ^ (acc + 3 * GOLDEN)};
    memcpy(p + i, w, 32);
  }
  for (; i + 8 <= to; i += 8) {
    uint64_t w = pattern_word(key, i / 8);
    memcpy(p + i, &w, 8);
  }
  for (; i < to; i++) p[i] = pattern_byte(key, i);
}

size_t pattern_find_bad(const unsigned char *p, size_t n, uint64_t key) {
  size_t i = 0;
  uint64_t acc = GOLDEN;
  for (; i + 32 <= n; i += 32, acc += 4 * GOLDEN) {
    uint64_t w[4];
    memcpy(w, p + i, 32);
    if ((w[0] ^ key ^ acc) | (w[1] ^ key ^ (acc + GOLDEN)) | (w[2] ^ key ^ (acc + 2 * GOLDEN)) |
        (w[3] ^ key ^ (acc + 3 * GOLDEN)))
      break;
  }
  for (; i < n; i++) /* the tail, or the chunk that differs: find the byte */
    if (p[i] != pattern_byte(key, i)) return i;
  return n;
}

/* ---- the model ---------------------------------------------------------------- */
void model_reset(struct model *m) {
  uint64_t gen = m->gen;
  memset(m, 0, sizeof *m);
  m->gen = gen; /* keys stay unique across inputs in one process */
}

uint64_t model_new_key(struct model *m, unsigned slot) {
  uint64_t x = (++m->gen << 8 | slot) * 0xD6E8FEB86659FD93ull;
  return x ^ (x >> 32);
}

size_t model_span(const struct block *b) {
  size_t s = b->filled > b->req ? b->filled : b->req;
  return s ? s : 1;
}

void model_check_align(const void *p, size_t align, const char *what) {
  if ((uintptr_t)p % align)
    model_fail("align", "%s returned %p, not aligned to %zu", what, p, align);
}

void model_check_overlap(const struct model *m, const void *p, size_t span, int self,
                         const char *what) {
  uintptr_t a = (uintptr_t)p, a_end = a + span;
  if (a_end < a) model_fail("overlap", "%s returned %p + %zu: wraps the address space", what,
                            p, span);
  for (int s = 0; s < FUZZ_SLOTS; s++) {
    const struct block *b = &m->slot[s];
    if (!b->p || s == self) continue;
    uintptr_t lo = (uintptr_t)b->p, hi = lo + model_span(b);
    if (a < hi && lo < a_end)
      model_fail("overlap", "%s: [%p, +%zu) meets live slot %d [%p, +%zu)", what, p, span, s,
                 (void *)b->p, model_span(b));
  }
}

void model_check_contents(const struct model *m, unsigned slot, const char *when) {
  const struct block *b = &m->slot[slot];
  if (!b->p) return;
  size_t bad = pattern_find_bad(b->p, b->filled, b->key);
  if (bad != b->filled)
    model_fail("contents", "%s: slot %u block %p (req %zu, filled %zu) differs at offset %zu: "
               "0x%02x, expected 0x%02x", when, slot, (void *)b->p, b->req, b->filled, bad,
               b->p[bad], pattern_byte(b->key, bad));
}

void model_check_all(const struct model *m, const char *when) {
  for (unsigned s = 0; s < FUZZ_SLOTS; s++) model_check_contents(m, s, when);
}

void model_check_zero(const unsigned char *p, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    memcpy(w, p + i, 32);
    if (w[0] | w[1] | w[2] | w[3]) break;
  }
  for (; i < n; i++)
    if (p[i]) model_fail("calloc-zero", "calloc block %p of %zu bytes has 0x%02x at offset %zu",
                         (const void *)p, n, p[i], i);
}

void model_check_validate(size_t heap_count, size_t live, const char *when) {
  if (fuzz_ctx.skip_validate_count) return;
  if (heap_count != live)
    model_fail("validate", "%s: heap validate() saw %zu live blocks, model has %zu", when,
               heap_count, live);
}

void model_insert(struct model *m, unsigned slot, void *p, size_t req, enum block_kind kind,
                  size_t align) {
  struct block *b = &m->slot[slot];
  b->p = p;
  b->req = req;
  b->filled = req;
  b->kind = kind;
  b->align = align;
  b->key = model_new_key(m, slot);
  pattern_fill(b->p, 0, req, b->key);
  m->live++;
  m->live_bytes += req;
}

void model_remove(struct model *m, unsigned slot) {
  struct block *b = &m->slot[slot];
  m->live--;
  m->live_bytes -= b->req;
  memset(b, 0, sizeof *b);
}
