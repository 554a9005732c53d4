/*
 * contract_blocks.c - properties of the blocks a heap hands out: alignment,
 * usable size, contents across realloc, zeroed calloc, no overlap; and the
 * optional surface: C23 sized frees, malloc_trim, mallinfo2, the suite API.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"

#define OP vt_opaque

/* Sizes 0..1024, then 2^k - 1, 2^k, 2^k + 1 up to 4 MiB + 1. */
static size_t size_at(size_t i) {
  size_t k;
  if (i <= 1024) return i;
  i -= 1025;
  k = 11 + i / 3;
  return ((size_t)1 << k) + i % 3 - 1;
}
#define NSIZES (1025 + 3 * 12) /* the last k is 22: 4 MiB */

int rule_align16(void) {
  enum { BATCH = 32 };
  void *live[3 * BATCH];
  size_t i, j, n = 0;
  char *chain = NULL;
  for (i = 0; i < NSIZES; i++) {
    size_t s = size_at(i);
    void *p[3];
    p[0] = malloc(OP(s));
    p[1] = calloc(1, OP(s));
    p[2] = realloc(NULL, OP(s));
    for (j = 0; j < 3; j++) {
      static const char *const how[3] = {"malloc(%zu)", "calloc(1, %zu)", "realloc(NULL, %zu)"};
      char call[48];
      snprintf(call, sizeof call, how[j], s);
      if (!p[j]) ct_fail("%s -> NULL", call);
      else if (!ct_aligned(p[j], 16)) ct_fail("%s -> %p, not 16-aligned", call, p[j]);
      else if (s) ((char *)p[j])[0] = ((char *)p[j])[s - 1] = 1;
      live[n++] = p[j];
    }
    if (n == 3 * BATCH || i == NSIZES - 1) /* keep a batch live: no instant reuse */
      while (n) free(live[--n]);
  }
  /* A block grown by realloc through every size stays 16-aligned. */
  for (i = 1; i < NSIZES; i++) {
    char *q = realloc(chain, OP(size_at(i)));
    if (!q) {
      ct_fail("realloc(p, %zu) -> NULL while growing", size_at(i));
      break;
    }
    chain = q;
    CT_CHECK(ct_aligned(chain, 16), "realloc(p, %zu) -> %p, not 16-aligned", size_at(i), (void *)chain);
  }
  free(chain);
  return ct_result();
}

int rule_usable_size(void) {
  static void *live[NSIZES];
  size_t i;
  /* glibc 2.36: malloc_usable_size(NULL) is 0. */
  CT_CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu (want 0)", malloc_usable_size(NULL));
  for (i = 0; i < NSIZES; i++) {
    size_t s = size_at(i), u;
    live[i] = malloc(OP(s));
    if (!live[i]) {
      ct_fail("malloc(%zu) -> NULL", s);
      continue;
    }
    u = malloc_usable_size(live[i]);
    CT_CHECK(u >= s, "malloc_usable_size(malloc(%zu)) = %zu", s, u);
    vt_fill(live[i], u, i); /* the whole usable size is the program's */
  }
  for (i = 0; i < NSIZES; i++) {
    size_t u, bad;
    if (!live[i]) continue;
    u = malloc_usable_size(live[i]);
    bad = vt_check(live[i], u, i);
    CT_CHECK(bad == (size_t)-1, "malloc(%zu), usable %zu: byte %zu overwritten by another block", size_at(i), u, bad);
  }
  for (i = 0; i < NSIZES; i++) free(live[i]);
  return ct_result();
}

static const size_t rsizes[] = {1,     8,     15,     16,     17,     24,      32,      48,      64,      100,
                                128,   255,   256,    512,    1000,   1024,    2048,    4096,    8192,    16384,
                                32768, 65536, 131072, 262144, 524288, 1u << 20, 2u << 20, 4u << 20, 16u << 20};
#define NR (sizeof rsizes / sizeof rsizes[0])

/* realloc p (holding `have` bytes of `tag`) to n; check the kept prefix, then
 * refill with tag + 1.  Returns the new block or NULL (reported). */
static char *realloc_step(char *p, size_t have, size_t n, uint64_t tag) {
  char *q = realloc(p, OP(n));
  size_t keep = have < n ? have : n, bad;
  if (!q) {
    ct_fail("realloc(%zu -> %zu) -> NULL", have, n);
    return p;
  }
  bad = vt_check(q, keep, tag);
  CT_CHECK(bad == (size_t)-1, "realloc(%zu -> %zu): byte %zu of the kept %zu changed", have, n, bad, keep);
  CT_CHECK(ct_aligned(q, 16), "realloc(%zu -> %zu) -> %p, not 16-aligned", have, n, (void *)q);
  CT_CHECK(malloc_usable_size(q) >= n, "realloc(%zu -> %zu): usable %zu", have, n, malloc_usable_size(q));
  vt_fill(q, n, tag + 1);
  return q;
}

int rule_realloc_contents(void) {
  static const size_t chain[] = {1,        300, 256u << 10, 16u << 20, 100,      16u << 20, 64u << 10,
                                 1,        1u << 20, 33,  4u << 20,  2u << 20, 8,         200000};
  size_t a, b, i;
  uint64_t tag = 1;
  char *p;
  for (a = 0; a < NR; a++)
    for (b = 0; b < NR; b++) {
      if (a == b) continue;
      p = malloc(OP(rsizes[a]));
      if (!p) {
        ct_fail("malloc(%zu) -> NULL", rsizes[a]);
        continue;
      }
      vt_fill(p, rsizes[a], tag);
      p = realloc_step(p, rsizes[a], rsizes[b], tag);
      free(p);
      tag += 2;
    }
  /* One block through small -> large -> small, crossing every boundary. */
  p = malloc(OP(chain[0]));
  if (!p) return ct_fail("malloc(1) -> NULL"), VT_FAIL;
  vt_fill(p, chain[0], tag);
  for (i = 1; i < sizeof chain / sizeof chain[0]; i++, tag++) p = realloc_step(p, chain[i - 1], chain[i], tag);
  free(p);
  return ct_result();
}

static void check_zero(const unsigned char *p, size_t n, const char *what, size_t s) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i]) {
      ct_fail("%s(%zu): byte %zu is %#x, not zero", what, s, i, p[i]);
      return;
    }
}

int rule_calloc_zero(void) {
  enum { BATCH = 24 };
  static const size_t big[] = {1000, 4096, 10000, 65536, 200000, 1u << 20, 4u << 20};
  size_t i, j, s;
  void *blk[BATCH];
  for (i = 0; i < 80 + sizeof big / sizeof big[0]; i++) {
    s = i < 80 ? 1 + 7 * i : big[i - 80];
    /* Dirty blocks of this size, freed, so calloc is likely to reuse them. */
    for (j = 0; j < BATCH; j++) {
      blk[j] = malloc(OP(s));
      if (blk[j]) memset(blk[j], 0xff, malloc_usable_size(blk[j]));
    }
    for (j = 0; j < BATCH; j++) free(blk[j]);
    for (j = 0; j < BATCH; j++) {
      unsigned char *p = j % 3 == 2 && s % 3 == 0 ? calloc(3, OP(s / 3)) : calloc(1, OP(s));
      if (!p) {
        ct_fail("calloc(%zu) -> NULL", s);
        continue;
      }
      check_zero(p, s, "calloc after free of dirty blocks", s);
      memset(p, 0xff, s);
      blk[j] = p;
    }
    for (j = 0; j < BATCH; j++) free(blk[j]);
  }
  return ct_result();
}

struct slot {
  unsigned char *p;
  size_t n;
  uint64_t tag;
};

static int by_addr(const void *a, const void *b) {
  const struct slot *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p;
}

static size_t rand_size(uint64_t *rng) {
  unsigned r = (unsigned)(vt_rand(rng) % 100);
  uint64_t x = vt_rand(rng);
  if (r < 70) return x % 129;
  if (r < 90) return 129 + x % 3968;
  if (r < 99) return 4097 + x % 61440;
  return 65537 + x % (1u << 20);
}

static void verify_slot(const struct slot *s, const char *when) {
  size_t bad = vt_check(s->p, s->n, s->tag);
  CT_CHECK(bad == (size_t)-1, "%s: block %p (%zu bytes, tag %llu): byte %zu overwritten", when, (void *)s->p, s->n,
           (unsigned long long)s->tag, bad);
}

int rule_no_overlap(void) {
  enum { SLOTS = 3000, OPS = 200000 };
  static struct slot s[SLOTS];
  uint64_t rng = 0x1234567, tag = 1;
  size_t i, op, live = 0;
  for (op = 0; op < OPS; op++) {
    struct slot *c = &s[vt_rand(&rng) % SLOTS];
    unsigned how = (unsigned)(vt_rand(&rng) % 10);
    size_t n = rand_size(&rng);
    if (c->p && how < 5) { /* free */
      verify_slot(c, "before free");
      free(c->p);
      c->p = NULL;
      live--;
      continue;
    }
    if (c->p) { /* realloc (to >= 1 byte: realloc(p, 0) frees) keeps the prefix */
      unsigned char *q = realloc(c->p, OP(n += !n));
      size_t keep = n < c->n ? n : c->n, bad;
      if (!q) {
        ct_fail("realloc(%zu -> %zu) -> NULL", c->n, n);
        continue;
      }
      bad = vt_check(q, keep, c->tag);
      CT_CHECK(bad == (size_t)-1, "realloc(%zu -> %zu): byte %zu of the kept prefix changed", c->n, n, bad);
      c->p = q;
    } else {
      size_t a = (size_t)16 << (vt_rand(&rng) % 9);
      if (how < 6) c->p = malloc(OP(n));
      else if (how < 8) c->p = calloc(1, OP(n));
      else if (how < 9) c->p = aligned_alloc(a, OP(n));
      else if (posix_memalign((void **)&c->p, a, OP(n)) != 0) c->p = NULL;
      if (!c->p) {
        ct_fail("allocation #%zu of %zu bytes -> NULL", op, n);
        continue;
      }
      if (how >= 8) CT_CHECK(ct_aligned(c->p, a), "aligned allocation (%zu, %zu) -> %p", a, n, (void *)c->p);
      live++;
    }
    c->n = n;
    c->tag = tag++;
    vt_fill(c->p, n, c->tag);
  }
  /* All patterns intact, then no two live blocks' usable ranges overlap. */
  for (i = 0; i < SLOTS; i++)
    if (s[i].p) verify_slot(&s[i], "at the end");
  qsort(s, SLOTS, sizeof s[0], by_addr);
  for (i = 0; i + 1 < SLOTS; i++) {
    if (!s[i].p) continue;
    if (s[i].p + malloc_usable_size(s[i].p) > s[i + 1].p)
      ct_fail("blocks overlap: %p + usable %zu > %p", (void *)s[i].p, malloc_usable_size(s[i].p), (void *)s[i + 1].p);
  }
  for (i = 0; i < SLOTS; i++) free(s[i].p);
  CT_CHECK(live > 100, "only %zu live blocks at the end: the test did not exercise the heap", live);
  return ct_result();
}

int rule_aligned_big(void) {
  size_t a, j;
  for (a = 16; a <= (1u << 20); a *= 2) {
    size_t sizes[5] = {1, a / 2, a, a + 1, 3 * a};
    void *blk[15];
    for (j = 0; j < 15; j++) {
      size_t n = sizes[j % 5];
      void *p = NULL;
      if (j < 5) p = aligned_alloc(OP(a), OP(n));
      else if (j < 10) p = memalign(OP(a), OP(n));
      else if (posix_memalign(&p, OP(a), OP(n)) != 0) p = NULL;
      blk[j] = p;
      if (!p) {
        ct_fail("allocation #%zu (align %zu, size %zu) -> NULL", j / 5, a, n);
        continue;
      }
      CT_CHECK(ct_aligned(p, a), "allocation #%zu (align %zu, size %zu) -> %p", j / 5, a, n, p);
      vt_fill(p, n, a + j);
    }
    for (j = 0; j < 15; j++) {
      size_t n = sizes[j % 5], bad;
      if (!blk[j]) continue;
      bad = vt_check(blk[j], n, a + j);
      CT_CHECK(bad == (size_t)-1, "aligned block (align %zu, size %zu): byte %zu overwritten", a, n, bad);
      /* An aligned block can be realloc'ed like any other. */
      blk[j] = realloc_step(blk[j], n, n + a, a + j);
      free(blk[j]);
    }
  }
  return ct_result();
}

int rule_free_sized(void) {
  void (*fs)(void *, size_t) = (void (*)(void *, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "free_sized");
  void (*fas)(void *, size_t, size_t) =
      (void (*)(void *, size_t, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "free_aligned_sized");
  size_t i, a, live0;
  if (!fs || !fas) {
    if (ct_ours) return ct_fail("free_sized %p, free_aligned_sized %p: both are required", (void *)fs, (void *)fas), VT_FAIL;
    printf("N/A free_sized: %s has no C23 free_sized/free_aligned_sized\n", vt_sym_owner("malloc"));
    return VT_NA;
  }
  /* A free_sized that only looks like a free must not pass: on our heaps the
   * live count comes back to where it was (glibc and others: no count). */
  live0 = vt_validate() ? vt_validate()() : 0;
  errno = VT_ERRNO_SENTINEL;
  fs(NULL, 0);
  fs(NULL, 123);
  fas(NULL, 64, 0);
  for (i = 0; i < NSIZES; i += 7) {
    size_t n = size_at(i);
    char *p = malloc(OP(n)), *q = calloc(3, OP(n)), *r = malloc(OP(n));
    if (!p || !q || !r) return ct_fail("allocating %zu -> NULL", n), VT_FAIL;
    r = realloc_step(r, 0, 2 * n + 1, 0);
    fs(p, n);
    fs(q, 3 * n);
    fs(r, 2 * n + 1);
  }
  for (a = 16; a <= (1u << 20); a *= 4)
    for (i = 0; i < 4; i++) {
      size_t n = i * a + (i == 3); /* C23: any size with aligned_alloc */
      void *p = aligned_alloc(OP(a), OP(n));
      if (!p) return ct_fail("aligned_alloc(%zu, %zu) -> NULL", a, n), VT_FAIL;
      vt_fill(p, n, a);
      fas(p, a, n);
    }
  CT_CHECK(errno == VT_ERRNO_SENTINEL, "free_sized/free_aligned_sized changed errno to %d", errno);
  if (vt_validate()) {
    size_t live1 = vt_validate()();
    CT_CHECK(live1 == live0, "alloc_validate: %zu live blocks after free_sized/free_aligned_sized of all, %zu before",
             live1, live0);
  }
  return ct_result();
}

int rule_malloc_trim(void) {
  enum { N = 2000 };
  static struct slot s[N];
  uint64_t rng = 99;
  size_t i;
  int r;
  for (i = 0; i < N; i++) {
    s[i].n = rand_size(&rng);
    s[i].tag = i + 1;
    s[i].p = malloc(OP(s[i].n));
    if (!s[i].p) return ct_fail("malloc(%zu) -> NULL", s[i].n), VT_FAIL;
    vt_fill(s[i].p, s[i].n, s[i].tag);
  }
  for (i = 0; i < N; i += 2) {
    free(s[i].p);
    s[i].p = NULL;
  }
  r = malloc_trim(0);
  CT_CHECK(r == 0 || r == 1, "malloc_trim(0) = %d (want 0 or 1)", r);
  r = malloc_trim(1u << 20);
  CT_CHECK(r == 0 || r == 1, "malloc_trim(1 MiB) = %d (want 0 or 1)", r);
  for (i = 1; i < N; i += 2) verify_slot(&s[i], "after malloc_trim");
  for (i = 0; i < N; i++) free(s[i].p);
  r = malloc_trim(0);
  CT_CHECK(r == 0 || r == 1, "malloc_trim(0) with no live blocks = %d", r);
  return ct_result();
}

int rule_mallinfo2(void) {
  struct mallinfo2 m0, m, m2;
  /* The figures must mean something where we know what they mean: our heaps
   * and glibc count a live 100000-byte block in uordblks (or hblkhd), inside
   * the arena; another heap's mallinfo2 may be glibc's own, so only plausible. */
  int strict = ct_ours || strstr(vt_sym_owner("malloc"), "libc.so") != NULL;
  void *p;
  m0 = mallinfo2();
  p = malloc(OP(100000));
  vt_escape(p);
  if (p) vt_fill(p, 100000, 5);
  m = mallinfo2();
  /* Callable; every field a plausible byte/chunk count, not stack garbage. */
  CT_CHECK(m.arena < ((size_t)1 << 47) && m.uordblks < ((size_t)1 << 47) && m.fordblks < ((size_t)1 << 47) &&
               m.hblkhd < ((size_t)1 << 47) && m.ordblks < ((size_t)1 << 40) && m.hblks < ((size_t)1 << 40),
           "mallinfo2 fields implausible: arena %zu uordblks %zu fordblks %zu hblkhd %zu", m.arena, m.uordblks,
           m.fordblks, m.hblkhd);
  free(p);
  m2 = mallinfo2();
  if (strict) {
    CT_CHECK(m.uordblks + m.hblkhd >= m0.uordblks + m0.hblkhd + 100000,
             "mallinfo2 with a 100000-byte block live: in use %zu + %zu, before it %zu + %zu", m.uordblks, m.hblkhd,
             m0.uordblks, m0.hblkhd);
    CT_CHECK(m.arena + m.hblkhd >= m.uordblks && m.uordblks >= 100000,
             "mallinfo2: arena %zu + mmapped %zu smaller than in use %zu (or in use below the live block)", m.arena,
             m.hblkhd, m.uordblks);
    CT_CHECK(m2.uordblks + m2.hblkhd + 100000 <= m.uordblks + m.hblkhd,
             "mallinfo2 after freeing the 100000-byte block: in use %zu + %zu, with it %zu + %zu", m2.uordblks,
             m2.hblkhd, m.uordblks, m.hblkhd);
  }
  return ct_result();
}

/* Balanced {} and [] outside strings, starting with '{' and ending with '}'. */
static int looks_like_json(const char *t) {
  int depth = 0, in_str = 0;
  const char *end = t + strlen(t);
  while (*t == ' ' || *t == '\n') t++;
  while (end > t && (end[-1] == ' ' || end[-1] == '\n')) end--;
  if (end - t < 2 || *t != '{' || end[-1] != '}') return 0;
  for (; t < end; t++) {
    if (in_str) {
      if (*t == '\\' && t + 1 < end) t++;
      else if (*t == '"') in_str = 0;
    } else if (*t == '"') in_str = 1;
    else if (*t == '{' || *t == '[') depth++;
    else if ((*t == '}' || *t == ']') && --depth < 0) return 0;
  }
  return depth == 0 && !in_str;
}

static int stats_to_string(void (*print)(int, int), int json, char *buf, size_t cap) {
  FILE *f = tmpfile();
  size_t got;
  if (!f) return -1;
  print(fileno(f), json);
  rewind(f);
  got = fread(buf, 1, cap - 1, f);
  buf[got] = 0;
  fclose(f);
  return (int)got;
}

int rule_suite_api(void) {
  vt_validate_fn validate = vt_validate();
  void (*print)(int, int) = (void (*)(int, int))(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_stats_print");
  static char buf[1 << 16];
  void *blk[103];
  size_t c0, c1, c2, i;
  if (!ct_ours) {
    printf("N/A suite_api: only the suite's heaps export alloc_validate/alloc_stats_print\n");
    return VT_NA;
  }
  if (!print) return ct_fail("alloc_stats_print is not exported"), VT_FAIL;
  /* alloc_validate counts live blocks: 100 small + 3 large more, then back. */
  c0 = validate();
  for (i = 0; i < 103; i++) blk[i] = malloc(OP(i < 100 ? 48 : 2u << 20));
  c1 = validate();
  for (i = 0; i < 103; i++) free(blk[i]);
  c2 = validate();
  CT_CHECK(c1 == c0 + 103 && c2 == c0, "alloc_validate: %zu live, %zu after 103 mallocs, %zu after freeing them", c0, c1, c2);
  CT_CHECK(stats_to_string(print, 0, buf, sizeof buf) > 0, "alloc_stats_print(fd, 0) wrote nothing");
  CT_CHECK(stats_to_string(print, 1, buf, sizeof buf) > 0 && looks_like_json(buf),
           "alloc_stats_print(fd, 1) did not write one JSON object: %.200s", buf);
  return ct_result();
}

/* malloc_object_size(p): bytes from p (anywhere inside a live block) to the
 * end of its usable size; SIZE_MAX = the heap cannot tell. */
int rule_object_size(void) {
  size_t (*os)(const void *) = (size_t (*)(const void *))(uintptr_t)dlsym(RTLD_DEFAULT, "malloc_object_size");
  static const size_t sizes[] = {1, 16, 100, 1000, 4096, 30000, 200000, 3u << 20, 9u << 20};
  size_t i;
  if (!ct_ours) {
    printf("N/A object_size: malloc_object_size is the suite's own function\n");
    return VT_NA;
  }
  if (!os) return ct_fail("malloc_object_size is not exported"), VT_FAIL;
  CT_CHECK(os(NULL) == 0, "malloc_object_size(NULL) -> %zu (want 0)", os(NULL));
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char *p = malloc(OP(sizes[i]));
    size_t u = malloc_usable_size(p), at[] = {0, 1, sizes[i] / 2, u - 1}, k;
    if (!p) return ct_fail("malloc(%zu) -> NULL", sizes[i]), VT_FAIL;
    for (k = 0; k < 4; k++) {
      size_t got = os(p + at[k]), want = u - at[k];
      /* alloc_unsafe finds a large block's header from the first 4 MiB only */
      if (got == SIZE_MAX && at[k] >= (3u << 20)) continue;
      CT_CHECK(got == want, "malloc_object_size(malloc(%zu) + %zu) -> %zu (want %zu, usable %zu)",
               sizes[i], at[k], got, want, u);
    }
    free(p);
  }
  for (i = 64; i <= (1u << 20); i *= 16) {
    char *p = aligned_alloc(OP(i), OP(3 * i));
    size_t u = malloc_usable_size(p);
    if (!p) return ct_fail("aligned_alloc(%zu, %zu) -> NULL", i, 3 * i), VT_FAIL;
    CT_CHECK(os(p + i) == u - i, "malloc_object_size(aligned_alloc(%zu, %zu) + %zu) -> %zu (want %zu)",
             i, 3 * i, i, os(p + i), u - i);
    free(p);
  }
  return ct_result();
}

/* glibc's internal names, mixed with the standard ones: a block from either
 * family is freed by the other.  With a heap of ours preloaded, alloc_validate
 * must count the __libc_ blocks (they came from it, not from glibc). */
int rule_libc_names(void) {
  typedef void *(*m_fn)(size_t);
  m_fn lm = (m_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "__libc_malloc");
  void (*lf)(void *) = (void (*)(void *))(uintptr_t)dlsym(RTLD_DEFAULT, "__libc_free");
  void *(*lc)(size_t, size_t) = (void *(*)(size_t, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "__libc_calloc");
  void *(*lr)(void *, size_t) = (void *(*)(void *, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "__libc_realloc");
  void *(*la)(size_t, size_t) = (void *(*)(size_t, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "__libc_memalign");
  vt_validate_fn validate = ct_ours ? vt_validate() : NULL;
  size_t i, c0 = validate ? validate() : 0;
  if (!lm || !lf || !lc || !lr || !la) return ct_fail("a __libc_ name is missing"), VT_FAIL;
  void *blk[5];
  blk[0] = lm(OP(100));
  blk[1] = lc(OP(10), OP(10));
  blk[2] = lr(NULL, OP(3000));
  blk[3] = la(OP(256), OP(100));
  blk[4] = lm(OP(3u << 20));
  for (i = 0; i < 5; i++) CT_CHECK(blk[i] != NULL, "__libc_ allocation %zu -> NULL", i);
  for (i = 0; i < 5; i++) if (!blk[i]) return ct_result();
  CT_CHECK(ct_aligned(blk[3], 256), "__libc_memalign(256, 100) -> %p", blk[3]);
  for (i = 0; i < 100; i++) CT_CHECK(((unsigned char *)blk[1])[i] == 0, "__libc_calloc byte %zu not zero", i);
  if (validate) {
    size_t c1 = validate();
    CT_CHECK(c1 == c0 + 5, "alloc_validate: %zu live, %zu after 5 __libc_ allocations (want +5: "
             "they must come from our heap)", c0, c1);
  }
  blk[2] = realloc(blk[2], OP(9000)); /* standard names on __libc_ blocks */
  CT_CHECK(blk[2] != NULL, "realloc of a __libc_realloc block -> NULL");
  for (i = 0; i < 5; i++) free(blk[i]);
  void *q = malloc(OP(200)), *r = calloc(OP(2), OP(50000)), *s = aligned_alloc(OP(64), OP(64));
  if (!q || !r || !s) return ct_fail("malloc/calloc/aligned_alloc -> NULL"), VT_FAIL;
  q = lr(q, OP(5000)); /* __libc_ names on standard blocks */
  CT_CHECK(q != NULL, "__libc_realloc of a malloc block -> NULL");
  lf(q);
  lf(r);
  lf(s);
  if (validate) CT_CHECK(validate() == c0, "alloc_validate: %zu live after freeing all (want %zu)", validate(), c0);
  return ct_result();
}

/* mallopt: glibc returns 1 for each parameter it documents (M_MXFAST only
 * for 0..80*sizeof(size_t)/4).  Ours accept those as no-ops, and return 0
 * for an unknown parameter (glibc's 1 there is listed under BUGS in its
 * manual) and for M_PERTURB != 0 (ours never perturb). */
int rule_mallopt(void) {
  static const int known[] = {M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX,
                              M_CHECK_ACTION, M_ARENA_TEST, M_ARENA_MAX};
  static const int values[] = {0, 1, 4096, 1 << 20};
  size_t i, j;
  for (i = 0; i < sizeof known / sizeof known[0]; i++)
    for (j = 0; j < sizeof values / sizeof values[0]; j++)
      CT_CHECK(mallopt(known[i], values[j]) == 1, "mallopt(%d, %d) -> 0 (want 1)", known[i], values[j]);
  CT_CHECK(mallopt(M_MXFAST, 64) == 1 && mallopt(M_MXFAST, 0) == 1, "mallopt(M_MXFAST, 64 or 0) -> 0");
  CT_CHECK(mallopt(M_MXFAST, 1000) == 0 && mallopt(M_MXFAST, -1) == 0, "mallopt(M_MXFAST, 1000 or -1) -> 1");
  CT_CHECK(mallopt(M_PERTURB, 0) == 1, "mallopt(M_PERTURB, 0) -> 0 (want 1)");
  if (ct_ours) {
    CT_CHECK(mallopt(12345, 1) == 0 && mallopt(0, 0) == 0, "ours: mallopt(unknown parameter) -> 1 (want 0)");
    CT_CHECK(mallopt(M_PERTURB, 0x55) == 0, "ours: mallopt(M_PERTURB, 0x55) -> 1 (ours never perturb)");
  }
  return ct_result();
}
