/* cases_c.c - double free, overflow, underflow, use after free, malloc(0),
 * free-list poisoning, C23 sized frees with the wrong size, calloc overflow.
 * Each function commits one misuse (see cases.h for what each does). */
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "misuse.h"

#define CASE(n) \
  int misuse_##n(void); \
  int misuse_##n(void)

/* ---- double free -------------------------------------------------------- */
static int twice(size_t n, int between) {
  char *p = malloc(n), *q = malloc(n);
  reg_size(n);
  free(hide(p));
  if (between) free(hide(q));
  else reg_live(q, n);
  free(hide(p));
  return MR_SURVIVED;
}
CASE(df_small_now) { return twice(SMALL, 0); }
CASE(df_small_between) { return twice(SMALL, 1); }
CASE(df_large_now) { return twice(LARGE, 0); }
CASE(df_large_between) { return twice(LARGE, 1); }

/* realloc must move the block: grow past its class (small) or past a live
 * neighbour (large); a heap that never moves it makes the case N/A. */
static int after_realloc(size_t n, size_t to) {
  char *p = malloc(n), *hold = malloc(n);
  reg_live(hold, n);
  char *q = realloc(p, to);
  if (!q || q == p) {
    say("realloc(%zu -> %zu) did not move the block", n, to);
    return MR_NA;
  }
  reg_live(q, to);
  reg_size(n);
  free(hide(p));
  return MR_SURVIVED;
}
CASE(df_realloc_small) { return after_realloc(SMALL, 4096); }
CASE(df_realloc_large) { return after_realloc(LARGE, 8 * LARGE); }

static int after_reuse(size_t n) {
  char *p = malloc(n);
  free(hide(p));
  char *q = malloc(n);
  reg_live(q, n);
  reg_size(n);
  say("the slot was %s", q == p ? "handed out again" : "not handed out again");
  free(hide(p));
  return MR_SURVIVED;
}
CASE(df_reused_small) { return after_reuse(SMALL); }
CASE(df_reused_large) { return after_reuse(LARGE); }

/* ---- overflow and underflow ----------------------------------------------- */
static int overflow(size_t n, size_t by) {
  char *p = malloc(n), *next = malloc(n);
  size_t u = malloc_usable_size(p);
  reg_live(next, n);
  reg_size(n);
  for (size_t i = 0; i < by; i++) poke((char *)hide(p) + u + i, 0x41);
  free(hide(p));
  return MR_SURVIVED;
}
CASE(ovf1_small) { return overflow(24, 1); }
CASE(ovf8_small) { return overflow(24, 8); }
CASE(ovf1_large) { return overflow(LARGE, 1); }
CASE(ovf8_large) { return overflow(LARGE, 8); }

static int underflow(size_t by) {
  char *a = malloc(SMALL), *b = malloc(SMALL);
  char *lo = a < b ? a : b, *hi = a < b ? b : a;
  reg_size(SMALL);
  for (size_t i = 1; i <= by; i++) poke((char *)hide(hi) - i, 0x41);
  free(hide(hi));
  free(hide(lo));
  return MR_SURVIVED;
}
CASE(unf1_small) { return underflow(1); }
CASE(unf16_small) { return underflow(16); }

/* ---- use after free -------------------------------------------------------- */
static int uaf_write(size_t n) {
  char *p = malloc(n);
  reg_size(n);
  free(hide(p));
  for (size_t i = 0; i < n; i++) poke((char *)hide(p) + i, 0x5a);
  return MR_SURVIVED;
}
CASE(uaf_write_small) { return uaf_write(SMALL); }
CASE(uaf_write_large) { return uaf_write(LARGE); }

/* Bytes past the first 16 (where a heap may keep its free-list link) still
 * holding the program's pattern = stale; all zero or all another value =
 * wiped (zeros or poison). */
static int uaf_read(size_t n) {
  char *p = malloc(n);
  reg_size(n);
  memset(p, 0xa5, n);
  free(hide(p));
  size_t stale = 0, zero = 0, other = 0;
  unsigned char first = peek((char *)hide(p) + 16);
  int same = 1;
  for (size_t i = 16; i < n; i++) {
    unsigned char c = peek((char *)hide(p) + i);
    stale += c == 0xa5, zero += c == 0, other += c != 0xa5 && c != 0;
    same &= c == first;
  }
  say("read %zu bytes of the freed block: %zu stale, %zu zero, %zu other", n - 16, stale, zero, other);
  if (zero == n - 16) return MR_ZEROED;
  if (same && other == n - 16) {
    say("freed memory is poisoned with 0x%02x", first);
    return MR_ZEROED;
  }
  return MR_SURVIVED;
}
CASE(uaf_read_small) { return uaf_read(SMALL); }
CASE(uaf_read_large) { return uaf_read(LARGE); }

/* ---- malloc(0) ---------------------------------------------------------------- */
CASE(malloc0_read) {
  char *p = malloc(0);
  reg_size(0);
  say("read 0x%02x", peek(hide(p)));
  free(p);
  return MR_SURVIVED;
}
CASE(malloc0_write) {
  char *p = malloc(0);
  reg_size(0);
  poke(hide(p), 0x41);
  free(p);
  return MR_SURVIVED;
}

/* ---- free-list poisoning: the planted target is .bss the program owns ---------- */
static char target[256] __attribute__((aligned(64)));
static int poison(int words) {
  char *a = malloc(SMALL), *p = malloc(SMALL);
  reg_planted(target, sizeof target);
  reg_size(SMALL);
  free(hide(a)); /* so a per-size cache holds two blocks and follows p's link */
  free(hide(p));
  for (int i = 0; i < words; i++) ((void *volatile *)hide(p))[i] = target + 64;
  return MR_SURVIVED;
}
CASE(poison8) { return poison(1); }
CASE(poison16) { return poison(2); }

/* ---- C23 sized frees (looked up: glibc 2.36 has neither) ---------------------- */
CASE(free_sized_wrong) {
  void (*fs)(void *, size_t) = (void (*)(void *, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "free_sized");
  if (!fs) {
    say("free_sized is absent");
    return MR_NA;
  }
  char *p = malloc(24);
  reg_size(24);
  reg_size(4096);
  fs(hide(p), 4096);
  return MR_SURVIVED;
}
CASE(free_aligned_sized_wrong) {
  void (*fas)(void *, size_t, size_t) =
      (void (*)(void *, size_t, size_t))(uintptr_t)dlsym(RTLD_DEFAULT, "free_aligned_sized");
  if (!fas) {
    say("free_aligned_sized is absent");
    return MR_NA;
  }
  char *p = aligned_alloc(64, 128);
  reg_size(128);
  reg_size(4096);
  fas(hide(p), 64, 4096);
  return MR_SURVIVED;
}

/* ---- sanity -------------------------------------------------------------------- */
CASE(calloc_overflow) {
  volatile size_t n = SIZE_MAX / 16 + 2;
  void *p = calloc(n, 16);
  if (!p) {
    say("calloc overflow refused: NULL");
    return MR_REFUSED;
  }
  say("probe: calloc(SIZE_MAX/16 + 2, 16) returned a block %p", p);
  return 3;
}
