/*
 * vtest.h - the little that the verify/ programs share (C and C++).
 *
 * Every program here runs under the real LD_PRELOAD path, so it must know which
 * malloc it is talking to.  The runner tells it with two options:
 *   -o        the heap under test is one of ours: the suite functions
 *             (alloc_validate, alloc_stats_print) and C23 free_sized /
 *             free_aligned_sized are required, not optional;
 *   -l SUB    `malloc` must resolve into a loaded object whose path contains
 *             SUB (e.g. "liballoc_unsafe.so" or "libc.so.6"), so a preload
 *             that silently did not load can never pass as a heap under test.
 *   -n SUB    the same for C++ `operator new` (default: SUB of -l).
 *
 * Exit codes follow the automake convention: 0 pass, 1 fail, 77 N/A.
 */
#ifndef VTEST_H
#define VTEST_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testkit.h"

#define VT_PASS 0
#define VT_FAIL 1
#define VT_NA 77

/* Sentinel written to errno before a call, so "errno unchanged" is testable. */
#define VT_ERRNO_SENTINEL 4242

/* Keep the compiler from proving anything about a pointer or a size: it must
 * not fold malloc(SIZE_MAX) to NULL, nor elide a malloc/free pair. */
static inline void vt_escape(const void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }
static inline size_t vt_opaque(size_t n) {
  __asm__ volatile("" : "+r"(n));
  return n;
}

/* The same pointer, but the compiler no longer knows it: lets a test use a
 * block after a realloc that must have failed (gcc's -Wuse-after-free cannot
 * tell the failing call from a succeeding one). */
static inline void *vt_hide(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}

/* The harnesses' one generator (harness/testkit.h), seeded per test so a
 * failure reproduces.  vt_rand is its name here, which the verify/ programs
 * (and ones being written beside them) use. */
#define vt_rand tk_rand

/* The pattern every test writes into a block tagged `tag`: 8-byte words, so a
 * multi-MiB block fills at memory speed; byte i is byte i%8 of word i/8
 * (little-endian, as on x86-64). */
static inline uint64_t vt_word(uint64_t tag, size_t k) {
  uint64_t x = tag * 0x9E3779B97F4A7C15ULL + (uint64_t)k * 0xD1B54A32D192ED03ULL + 1;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ULL;
  return x ^ (x >> 29);
}
static inline unsigned char vt_pat(uint64_t tag, size_t i) {
  return (unsigned char)(vt_word(tag, i / 8) >> (8 * (i % 8)));
}
static inline void vt_fill(void *p, size_t n, uint64_t tag) {
  unsigned char *b = (unsigned char *)p;
  size_t k, i;
  for (k = 0; k < n / 8; k++) {
    uint64_t w = vt_word(tag, k);
    __builtin_memcpy(b + 8 * k, &w, 8);
  }
  for (i = n & ~(size_t)7; i < n; i++) b[i] = vt_pat(tag, i);
}
/* Returns the first bad offset, or (size_t)-1 when all n bytes are intact. */
static inline size_t vt_check(const void *p, size_t n, uint64_t tag) {
  const unsigned char *b = (const unsigned char *)p;
  size_t k, i;
  for (k = 0; k < n / 8; k++) {
    uint64_t w = vt_word(tag, k), got;
    __builtin_memcpy(&got, b + 8 * k, 8);
    if (got != w) break;
  }
  for (i = 8 * k; i < n; i++)
    if (b[i] != vt_pat(tag, i)) return i;
  return (size_t)-1;
}

/* Path of the object that defines `sym` in the global scope, or "(absent)". */
static inline const char *vt_sym_owner(const char *sym) {
  void *f = dlsym(RTLD_DEFAULT, sym);
  Dl_info info;
  if (!f) return "(absent)";
  if (!dladdr(f, &info) || !info.dli_fname) return "(unknown)";
  return info.dli_fname;
}

/* 0 when `sym` resolves into an object whose path contains `want`; else prints
 * one line and returns 1. */
static inline int vt_check_owner(const char *prog, const char *sym, const char *want) {
  const char *got = vt_sym_owner(sym);
  if (!want || strstr(got, want)) return 0;
  printf("FAIL %s: preload not in effect: %s resolves to %s, want *%s*\n", prog, sym, got, want);
  return 1;
}

/* The suite function every heap of ours exports (see common/alloc_api.h);
 * looked up at run time so the same binary also runs on glibc. */
typedef size_t (*vt_validate_fn)(void);
static inline vt_validate_fn vt_validate(void) {
  return (vt_validate_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "alloc_validate");
}

#endif
