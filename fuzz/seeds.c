/*
 * seeds.c - the seed corpus and the AFL dictionary, written from the same op
 * table the harness decodes (ops.h), so neither can drift from the format.
 * fuzz/gen_corpus.sh runs `fuzz_<heap> --write-seeds fuzz/corpus` and
 * `--write-dict fuzz/alloc.dict`; the smoke test checks the committed files
 * are what this file writes today.
 *
 * Each seed is a small scenario that reaches one family of heap paths; AFL
 * mutates from there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops.h"

static const unsigned char nargs_of[OP_COUNT] = {
#define FUZZ_OP_NARGS(name, nargs, doc) nargs,
    FUZZ_OPS(FUZZ_OP_NARGS)
#undef FUZZ_OP_NARGS
};

struct seed {
  unsigned char b[4096];
  size_t n;
};

/* Append one operation; the operand count must match the table. */
static void put(struct seed *s, enum fuzz_op op, unsigned nargs, const unsigned char *args) {
  if (nargs != nargs_of[op] || s->n + 1 + nargs > sizeof s->b) {
    fprintf(stderr, "seeds.c: op %d given %u operands (table says %u) or seed full\n", op,
            nargs, nargs_of[op]);
    abort();
  }
  s->b[s->n++] = (unsigned char)op;
  memcpy(s->b + s->n, args, nargs);
  s->n += nargs;
}

/* The size encoding of ops.h, inverted: exact below 16 KiB, nearest above. */
static unsigned enc_size(size_t n) {
  if (n < 1024) return (unsigned)n;
  if (n < 16384) return 0x8000u | (unsigned)n;
  if (n < 262144) return 0xC000u | (unsigned)(n / 32);
  return 0xE000u | (unsigned)(n / 512 > 0x1fff ? 0x1fff : n / 512);
}

static unsigned char enc_align(size_t align) {
  unsigned char lg = 0;
  while (((size_t)1 << lg) < align) lg++;
  return lg;
}

#define LO(v) (unsigned char)((v) & 0xff)
#define HI(v) (unsigned char)(((v) >> 8) & 0xff)

static void sz_op(struct seed *s, enum fuzz_op op, unsigned slot, size_t n) {
  unsigned v = enc_size(n);
  put(s, op, 3, (unsigned char[]){(unsigned char)slot, LO(v), HI(v)});
}
static void arr_op(struct seed *s, enum fuzz_op op, unsigned slot, unsigned nmemb, size_t n) {
  unsigned v = enc_size(n);
  put(s, op, 4, (unsigned char[]){(unsigned char)slot, (unsigned char)nmemb, LO(v), HI(v)});
}
static void al_op(struct seed *s, enum fuzz_op op, unsigned slot, unsigned char abyte,
                  size_t n) {
  unsigned v = enc_size(n);
  put(s, op, 4, (unsigned char[]){(unsigned char)slot, abyte, LO(v), HI(v)});
}
static void slot_op(struct seed *s, enum fuzz_op op, unsigned slot) {
  put(s, op, 1, (unsigned char[]){(unsigned char)slot});
}
static void bare_op(struct seed *s, enum fuzz_op op) { put(s, op, 0, NULL); }

/* ---- the scenarios ------------------------------------------------------------------- */
static void seed_basic(struct seed *s) {
  static const size_t sizes[] = {0, 1, 8, 15, 16, 17, 24, 32, 48, 64, 100, 128, 255, 256, 1000};
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) sz_op(s, OP_MALLOC, i, sizes[i]);
  for (unsigned i = 0; i < 15; i++) slot_op(s, OP_USABLE, i);
  bare_op(s, OP_VALIDATE);
  for (unsigned i = 0; i < 15; i += 2) slot_op(s, OP_FREE, i);
  for (unsigned i = 0; i < 15; i += 2) sz_op(s, OP_MALLOC, i, 40);
  bare_op(s, OP_CHECK_ALL);
}

static void seed_size_classes(struct seed *s) {
  for (unsigned i = 0; i < 48; i++) sz_op(s, OP_MALLOC, i, 16u * (i + 1) + (i & 1));
  for (unsigned i = 0; i < 48; i += 3) slot_op(s, OP_FREE, i);
  for (unsigned i = 0; i < 48; i += 3) sz_op(s, OP_MALLOC, i, 16u * (i + 1));
  bare_op(s, OP_VALIDATE);
}

static void seed_pages(struct seed *s) {
  static const size_t sizes[] = {1024, 2048, 4000, 4096, 4097, 8192, 12288, 16383};
  for (unsigned i = 0; i < 8; i++) sz_op(s, OP_MALLOC, i, sizes[i]);
  for (unsigned i = 0; i < 8; i++) slot_op(s, OP_USABLE, i);
  for (unsigned i = 0; i < 8; i += 2) slot_op(s, OP_FREE, i);
  put(s, OP_TRIM, 2, (unsigned char[]){0, 0});
  bare_op(s, OP_VALIDATE);
}

static void seed_large(struct seed *s) {
  /* Under FUZZ_MAX_INPUT_BYTES (512 KiB) in all: the last three are large blocks. */
  static const size_t sizes[] = {16384, 32768, 140000, 262144, 16};
  for (unsigned i = 0; i < 5; i++) sz_op(s, OP_MALLOC, i, sizes[i]);
  slot_op(s, OP_USABLE, 3);
  slot_op(s, OP_FREE, 1);
  slot_op(s, OP_FREE, 4);
  put(s, OP_TRIM, 2, (unsigned char[]){0, 0x10});
  sz_op(s, OP_MALLOC, 1, 40000);
  bare_op(s, OP_VALIDATE);
}

static void seed_calloc(struct seed *s) {
  arr_op(s, OP_CALLOC, 0, 1, 100);
  arr_op(s, OP_CALLOC, 1, 0, 0);
  arr_op(s, OP_CALLOC, 2, 4, 4096);
  arr_op(s, OP_CALLOC, 3, 16, 200000);
  slot_op(s, OP_FREE, 0);
  arr_op(s, OP_CALLOC, 0, 3, 100); /* likely reuses the freed, dirty block */
  slot_op(s, OP_FREE_SIZED, 2);
  arr_op(s, OP_CALLOC, 2, 8, 4096);
  slot_op(s, OP_FREE_SIZED, 3);
  arr_op(s, OP_CALLOC, 3, 2, 200000);
}

static void seed_realloc(struct seed *s) {
  static const size_t chain[] = {1, 16, 24, 100, 1000, 4096, 16000, 100000, 140000, 200000,
                                 5000, 40, 8}; /* < 512 KiB in all (harness.h) */
  for (unsigned i = 0; i < sizeof chain / sizeof chain[0]; i++) sz_op(s, OP_REALLOC, 0, chain[i]);
  sz_op(s, OP_MALLOC, 1, 64);
  slot_op(s, OP_USABLE, 1);
  sz_op(s, OP_REALLOC, 1, 65);
  arr_op(s, OP_REALLOCARRAY, 1, 10, 1000);
  arr_op(s, OP_REALLOCARRAY, 2, 3, 96);
  slot_op(s, OP_FREE_SIZED, 1);
}

static void seed_aligned(struct seed *s) {
  static const size_t aligns[] = {1, 8, 16, 32, 64, 256, 4096, 65536};
  for (unsigned i = 0; i < 8; i++) {
    al_op(s, OP_ALIGNED_ALLOC, i, enc_align(aligns[i]), 100 + i);
    al_op(s, OP_MEMALIGN, 8 + i, enc_align(aligns[i]), 3000);
    al_op(s, OP_POSIX_MEMALIGN, 16 + i, enc_align(aligns[i]), 40);
    al_op(s, OP_POSIX_MEMALIGN, 24 + i, 0x80 | enc_align(aligns[i]), 40); /* EINVAL */
  }
  sz_op(s, OP_VALLOC, 32, 10);
  sz_op(s, OP_PVALLOC, 33, 0);
  sz_op(s, OP_PVALLOC, 34, 5000);
  for (unsigned i = 0; i < 8; i++) slot_op(s, OP_USABLE, i);
  for (unsigned i = 0; i < 8; i++) slot_op(s, OP_FREE_ALIGNED_SIZED, i);
  sz_op(s, OP_REALLOC, 12, 10000); /* realloc of a memalign block */
  bare_op(s, OP_VALIDATE);
}

static void seed_huge(struct seed *s) {
  for (unsigned f = 0; f < 9; f++)
    for (unsigned k = 0; k < 16; k += 5) {
      if (f == 2 || f == 3) sz_op(s, OP_MALLOC, f, 50);
      put(s, OP_HUGE, 2, (unsigned char[]){(unsigned char)(f << 4 | k), (unsigned char)f});
    }
}

static void seed_threads(struct seed *s) {
  for (unsigned i = 0; i < 8; i++) sz_op(s, OP_REMOTE_MALLOC, i, 32u << i);
  for (unsigned i = 8; i < 16; i++) sz_op(s, OP_MALLOC, i, 48);
  for (unsigned i = 0; i < 8; i++) slot_op(s, OP_FREE, i);
  for (unsigned i = 8; i < 16; i++) slot_op(s, OP_REMOTE_FREE, i);
  bare_op(s, OP_THREAD_CYCLE);
  for (unsigned i = 0; i < 8; i++) sz_op(s, OP_MALLOC, i, 48);
  bare_op(s, OP_VALIDATE);
}

static void seed_churn(struct seed *s) {
  for (unsigned r = 0; r < 6; r++) {
    for (unsigned i = 0; i < 32; i++) sz_op(s, OP_MALLOC, i, (i * 37 + r * 11) % 600);
    for (unsigned i = r & 1; i < 32; i += 2) slot_op(s, OP_FREE, i);
  }
  bare_op(s, OP_FREE_ALL);
  sz_op(s, OP_MALLOC, 0, 100);
  bare_op(s, OP_VALIDATE);
}

/* ---- misuse seeds: a small and a large block, then one misuse op ------------------- */
static const unsigned char misuse_nargs_of[MISUSE_COUNT] = {
#define M_NARGS(name, nargs, cls, doc) nargs,
    FUZZ_MISUSES(M_NARGS)
#undef M_NARGS
};
static const char *const misuse_seed_names[MISUSE_COUNT] = {
#define M_SEED(name, nargs, cls, doc) "misuse-" #name,
    FUZZ_MISUSES(M_SEED)
#undef M_SEED
};

/* Misuse `mu` on slot `slot` (operands: slot, then 0x11 0x00 where there are more). */
static void seed_misuse(struct seed *s, enum fuzz_misuse mu, unsigned slot) {
  sz_op(s, OP_MALLOC, 0, 48);
  sz_op(s, OP_MALLOC, 1, 300000);
  sz_op(s, OP_MALLOC, 2, 48);
  unsigned char op[4] = {(unsigned char)(FUZZ_MISUSE_FIRST + mu), (unsigned char)slot, 0x11, 0};
  memcpy(s->b + s->n, op, 1u + misuse_nargs_of[mu]);
  s->n += 1u + misuse_nargs_of[mu];
}

static const struct {
  const char *name;
  void (*build)(struct seed *);
} seeds[] = {
    {"basic", seed_basic},   {"size-classes", seed_size_classes}, {"pages", seed_pages},
    {"large", seed_large},   {"calloc", seed_calloc},             {"realloc", seed_realloc},
    {"aligned", seed_aligned}, {"huge", seed_huge},               {"threads", seed_threads},
    {"churn", seed_churn},
};

static int write_file(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b, 1, n, f) != n || fclose(f)) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int fuzz_write_seeds(const char *dir) {
  for (unsigned i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
    static struct seed s;
    char path[1024];
    s.n = 0;
    seeds[i].build(&s);
    snprintf(path, sizeof path, "%s/%s.bin", dir, seeds[i].name);
    if (write_file(path, s.b, s.n)) return -1;
  }
  for (unsigned mu = 0; mu < MISUSE_COUNT; mu++) { /* slot 0: a 48-byte block */
    static struct seed s;
    char path[1024];
    s.n = 0;
    seed_misuse(&s, (enum fuzz_misuse)mu, 0);
    snprintf(path, sizeof path, "%s/%s.bin", dir, misuse_seed_names[mu]);
    if (write_file(path, s.b, s.n)) return -1;
  }
  /* Thread-mode seeds (FUZZ_THREADS=1, harness.h): the header picks 2, 3 or
   * 4 workers and the schedule's seed, then a scenario above.  Without
   * FUZZ_THREADS the header bytes are operations like any others. */
  static const struct {
    const char *name;
    unsigned char workers; /* header byte 0: 2 + workers % 3 threads */
    void (*build)(struct seed *);
  } tseeds[] = {
      {"threads-2w-churn", 0, seed_churn},
      {"threads-3w-realloc", 1, seed_realloc},
      {"threads-4w-threads", 2, seed_threads},
      {"threads-4w-size-classes", 2, seed_size_classes},
  };
  for (unsigned i = 0; i < sizeof tseeds / sizeof tseeds[0]; i++) {
    static struct seed s;
    char path[1024];
    unsigned char head[FUZZ_THREAD_HEADER] = {tseeds[i].workers};
    for (unsigned k = 1; k < FUZZ_THREAD_HEADER; k++) head[k] = (unsigned char)(0x9d * (i + 1) + 17 * k);
    memcpy(s.b, head, sizeof head);
    s.n = sizeof head;
    tseeds[i].build(&s);
    snprintf(path, sizeof path, "%s/%s.bin", dir, tseeds[i].name);
    if (write_file(path, s.b, s.n)) return -1;
  }
  static struct seed big; /* a double free of the 300000-byte block */
  big.n = 0;
  seed_misuse(&big, MISUSE_DOUBLE_FREE, 1);
  char path[1024];
  snprintf(path, sizeof path, "%s/misuse-DOUBLE_FREE-large.bin", dir);
  if (write_file(path, big.b, big.n)) return -1;
  return 0;
}

/* ---- the dictionary: interesting sizes, alignments and whole operations --------------- */
static void dict_entry(FILE *f, const char *name, const unsigned char *b, size_t n) {
  fprintf(f, "%s=\"", name);
  for (size_t i = 0; i < n; i++) fprintf(f, "\\x%02x", b[i]);
  fprintf(f, "\"\n");
}

int fuzz_write_dict(const char *path) {
  static const size_t sizes[] = {0,    1,     16,    24,    32,     48,     64,     128,
                                 256,  512,   1008,  1024,  2048,   4080,   4096,   4097,
                                 8192, 16383, 32768, 65536, 131072, 262144, 1u << 20, 4u << 20};
  static const char *const op_names[OP_COUNT] = {
#define FUZZ_OP_NAME(name, nargs, doc) #name,
      FUZZ_OPS(FUZZ_OP_NAME)
#undef FUZZ_OP_NAME
  };
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    return -1;
  }
  fprintf(f, "# Written by fuzz/gen_corpus.sh from fuzz/seeds.c: do not edit.\n");
  char name[64];
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned v = enc_size(sizes[i]);
    snprintf(name, sizeof name, "size_%zu", sizes[i]);
    dict_entry(f, name, (unsigned char[]){LO(v), HI(v)}, 2);
  }
  for (unsigned lg = 3; lg <= 16; lg++) {
    snprintf(name, sizeof name, "align_%u", 1u << lg);
    dict_entry(f, name, (unsigned char[]){(unsigned char)lg}, 1);
  }
  for (int op = 0; op < OP_COUNT; op++) { /* each operation on slot 1 with size 64 */
    struct seed s = {.n = 0};
    unsigned char args[4] = {1, 0x40, 0, 0};
    if (nargs_of[op] == 4) args[1] = 6, args[2] = 0x40; /* nmemb/align byte first */
    put(&s, (enum fuzz_op)op, nargs_of[op], args);
    snprintf(name, sizeof name, "op_%s", op_names[op]);
    dict_entry(f, name, s.b, s.n);
  }
  for (unsigned mu = 0; mu < MISUSE_COUNT; mu++) { /* each misuse on slot 1 */
    unsigned char b[4] = {(unsigned char)(FUZZ_MISUSE_FIRST + mu), 1, 0x11, 0};
    snprintf(name, sizeof name, "%s", misuse_seed_names[mu]);
    for (char *c = name; *c; c++) *c = *c == '-' ? '_' : *c;
    dict_entry(f, name, b, 1u + misuse_nargs_of[mu]);
  }
  return fclose(f) ? -1 : 0;
}
