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

/* The block loops below run 128 bytes (16 words) per step: the words'
 * (j + 1) * golden terms sit in vector registers and step by addition, the
 * key is XORed in, and the check ORs the differences of a whole step into
 * one register with one branch.  AVX2 where the CPU has it, else SSE2 (every
 * x86-64), else one word at a time.  They write and compare exactly the
 * bytes pattern_byte gives: pattern_self_check proves it once per process.
 * (Filling and checking was most of the harness's time: README, "Speed".)
 * Each returns where it stopped: the fill's caller writes the rest, the
 * check's caller looks for the differing byte from there. */
#define STEP 128

#if defined(__x86_64__)
#include <immintrin.h>

/* AVX2: four vectors of four words per step. */
#define V4_START(a)                                                                           \
  __m256i k = _mm256_set1_epi64x((long long)key);                                              \
  __m256i g4 = _mm256_set1_epi64x((long long)(4 * GOLDEN));                                    \
  __m256i g16 = _mm256_set1_epi64x((long long)(16 * GOLDEN));                                  \
  __m256i c0 = _mm256_set_epi64x((long long)((a) + 3 * GOLDEN), (long long)((a) + 2 * GOLDEN), \
                                 (long long)((a) + GOLDEN), (long long)(a));                   \
  __m256i c1 = _mm256_add_epi64(c0, g4), c2 = _mm256_add_epi64(c1, g4);                        \
  __m256i c3 = _mm256_add_epi64(c2, g4)
#define V4_NEXT()                                                                             \
  (c0 = _mm256_add_epi64(c0, g16), c1 = _mm256_add_epi64(c1, g16),                             \
   c2 = _mm256_add_epi64(c2, g16), c3 = _mm256_add_epi64(c3, g16))
#define V4_LOAD(o) _mm256_loadu_si256((const __m256i *)(p + i + (o)))
#define V4_DIFF(o, c) _mm256_xor_si256(_mm256_xor_si256(V4_LOAD(o), c), k)

__attribute__((target("avx2"))) static size_t fill_avx2(unsigned char *p, size_t i, size_t to,
                                                          uint64_t key) {
  V4_START((uint64_t)(i / 8 + 1) * GOLDEN);
  for (; i + STEP <= to; i += STEP, V4_NEXT()) {
    _mm256_storeu_si256((__m256i *)(p + i), _mm256_xor_si256(c0, k));
    _mm256_storeu_si256((__m256i *)(p + i + 32), _mm256_xor_si256(c1, k));
    _mm256_storeu_si256((__m256i *)(p + i + 64), _mm256_xor_si256(c2, k));
    _mm256_storeu_si256((__m256i *)(p + i + 96), _mm256_xor_si256(c3, k));
  }
  return i;
}

__attribute__((target("avx2"))) static size_t find_avx2(const unsigned char *p, size_t n,
                                                          uint64_t key) {
  size_t i = 0;
  V4_START(GOLDEN);
  for (; i + STEP <= n; i += STEP, V4_NEXT()) {
    __m256i d = _mm256_or_si256(_mm256_or_si256(V4_DIFF(0, c0), V4_DIFF(32, c1)),
                                _mm256_or_si256(V4_DIFF(64, c2), V4_DIFF(96, c3)));
    if (!_mm256_testz_si256(d, d)) break;
  }
  return i;
}

/* SSE2: eight vectors of two words per step. */
#define V2_START(a)                                                                           \
  __m128i k = _mm_set1_epi64x((long long)key);                                                 \
  __m128i g2 = _mm_set1_epi64x((long long)(2 * GOLDEN));                                       \
  __m128i g16 = _mm_set1_epi64x((long long)(16 * GOLDEN));                                     \
  __m128i c[8];                                                                                \
  c[0] = _mm_set_epi64x((long long)((a) + GOLDEN), (long long)(a));                            \
  for (int v = 1; v < 8; v++) c[v] = _mm_add_epi64(c[v - 1], g2)

static size_t fill_sse2(unsigned char *p, size_t i, size_t to, uint64_t key) {
  V2_START((uint64_t)(i / 8 + 1) * GOLDEN);
  for (; i + STEP <= to; i += STEP)
    for (int v = 0; v < 8; v++) {
      _mm_storeu_si128((__m128i *)(p + i + 16 * v), _mm_xor_si128(c[v], k));
      c[v] = _mm_add_epi64(c[v], g16);
    }
  return i;
}

static size_t find_sse2(const unsigned char *p, size_t n, uint64_t key) {
  size_t i = 0;
  V2_START(GOLDEN);
  for (; i + STEP <= n; i += STEP) {
    __m128i d = _mm_setzero_si128();
    for (int v = 0; v < 8; v++) {
      __m128i w = _mm_loadu_si128((const __m128i *)(p + i + 16 * v));
      d = _mm_or_si128(d, _mm_xor_si128(_mm_xor_si128(w, c[v]), k));
      c[v] = _mm_add_epi64(c[v], g16);
    }
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) != 0xffff) break;
  }
  return i;
}

static int use_avx2 = -1; /* -1: not asked yet */
static int have_avx2(void) {
  if (use_avx2 < 0) use_avx2 = __builtin_cpu_supports("avx2") != 0;
  return use_avx2;
}
static size_t fill_steps(unsigned char *p, size_t i, size_t to, uint64_t key) {
  return have_avx2() ? fill_avx2(p, i, to, key) : fill_sse2(p, i, to, key);
}
static size_t find_steps(const unsigned char *p, size_t n, uint64_t key) {
  return have_avx2() ? find_avx2(p, n, key) : find_sse2(p, n, key);
}
#else /* one word at a time below */
static size_t fill_steps(unsigned char *p, size_t i, size_t to, uint64_t key) {
  (void)p, (void)to, (void)key;
  return i;
}
static size_t find_steps(const unsigned char *p, size_t n, uint64_t key) {
  (void)p, (void)n, (void)key;
  return 0;
}
#endif

void pattern_fill(unsigned char *p, size_t from, size_t to, uint64_t key) {
  size_t i = from;
  for (; i < to && i % 8; i++) p[i] = pattern_byte(key, i);
  if (to - i >= STEP) i = fill_steps(p, i, to, key);
  for (; i + 8 <= to; i += 8) {
    uint64_t w = pattern_word(key, i / 8);
    memcpy(p + i, &w, 8);
  }
  for (; i < to; i++) p[i] = pattern_byte(key, i);
}

size_t pattern_find_bad(const unsigned char *p, size_t n, uint64_t key) {
  size_t i = n >= STEP ? find_steps(p, n, key) : 0;
  for (; i + 8 <= n; i += 8) { /* the tail, or the step that differs */
    uint64_t w;
    memcpy(&w, p + i, 8);
    if (w != pattern_word(key, i / 8)) break;
  }
  for (; i < n; i++) /* the byte */
    if (p[i] != pattern_byte(key, i)) return i;
  return n;
}

/* Once per process: the vector loops write and find exactly what
 * pattern_byte defines, on every alignment, length and path (AVX2 and SSE2
 * where the CPU has them).  A wrong fill that the check agreed with would
 * pass every contents check while no longer telling blocks apart. */
static void pattern_self_check(void) {
  static unsigned char buf[3 * STEP + 16];
  for (int path = 0; path < 2; path++) {
#if defined(__x86_64__)
    int saved = have_avx2();
    if (path == 1 && !saved) continue;
    use_avx2 = path;
#else
    if (path == 1) continue;
#endif
    static const size_t froms[] = {0, 1, 7, 8, 13};
    for (unsigned f = 0; f < sizeof froms / sizeof froms[0]; f++) /* every length up to a step and a word */
      for (size_t from = froms[f], len = 0; from + len <= sizeof buf; len += len < STEP + 9 ? 1 : 61) {
        size_t to = from + len, end = to + 16 < sizeof buf ? to + 16 : sizeof buf;
        uint64_t key = 0x0123456789abcdefull ^ (from * 977 + to);
        memset(buf, 0xa5, sizeof buf);
        pattern_fill(buf, from, to, key);
        for (size_t i = 0; i < end; i++) /* and nothing outside [from, to) */
          if (buf[i] != (i >= from && i < to ? pattern_byte(key, i) : 0xa5))
            model_fail("pattern", "self-check: fill [%zu, %zu) wrote 0x%02x at %zu (path %d)",
                       from, to, buf[i], i, path);
        if (from) continue;
        if (pattern_find_bad(buf, to, key) != to)
          model_fail("pattern", "self-check: find_bad saw a difference in a good block of %zu "
                     "(path %d)", to, path);
        for (int w = 0; to && w < 3; w++) { /* the first, a middle and the last byte */
          size_t at = w == 0 ? 0 : w == 1 ? to / 3 : to - 1;
          buf[at] ^= 0x10;
          if (pattern_find_bad(buf, to, key) != at)
            model_fail("pattern", "self-check: find_bad missed offset %zu of %zu (path %d)",
                       at, to, path);
          buf[at] ^= 0x10;
        }
      }
#if defined(__x86_64__)
    use_avx2 = saved;
#endif
  }
}

/* ---- the model ---------------------------------------------------------------- */
void model_reset(struct model *m) {
  static int self_checked;
  if (!self_checked++) pattern_self_check();
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
  uint64_t busy = m->busy & ~(self >= 0 ? (uint64_t)1 << self : 0);
  for (; busy; busy &= busy - 1) {
    int s = __builtin_ctzll(busy);
    const struct block *b = &m->slot[s];
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
  for (uint64_t busy = m->busy; busy; busy &= busy - 1)
    model_check_contents(m, (unsigned)__builtin_ctzll(busy), when);
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
  m->busy |= (uint64_t)1 << slot;
  pattern_fill(b->p, 0, req, b->key);
  m->live++;
  m->live_bytes += req;
}

void model_remove(struct model *m, unsigned slot) {
  struct block *b = &m->slot[slot];
  m->live--;
  m->live_bytes -= b->req;
  m->busy &= ~((uint64_t)1 << slot);
  memset(b, 0, sizeof *b);
}
