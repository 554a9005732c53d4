/* fatal.c - async-signal-safe error and warning lines. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "fatal.h"

#ifndef HEAP_NAME
#error "HEAP_NAME must name the heap (set by the Makefile)"
#endif

char *alloc_fmt_u64(char *buf, unsigned long long v, int base) {
  char tmp[24];
  int n = 0;
  do {
    unsigned d = (unsigned)(v % (unsigned)base);
    tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= (unsigned)base;
  } while (v);
  for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = 0;
  return buf;
}

void alloc_write_str(int fd, const char *s) {
  size_t len = strlen(s);
  while (len) {
    ssize_t w = write(fd, s, len);
    if (w <= 0) return;
    s += w;
    len -= (size_t)w;
  }
}

int alloc_dying_flag;

const char *alloc_check_name(alloc_check_t id) {
  static const char *const names[] = {
#define ALLOC_CHECK_TEXT(id, text) text,
      ALLOC_CHECK_LIST(ALLOC_CHECK_TEXT)
#undef ALLOC_CHECK_TEXT
  };
  return (unsigned)id < ALLOC_CHECK_COUNT ? names[id] : "?";
}

/* A line under construction: parts appended, always room for the "\n". */
typedef struct line {
  size_t len;
  char buf[512];
} line_t;

static void line_add(line_t *l, const char *s) {
  while (s && *s && l->len < sizeof l->buf - 2) l->buf[l->len++] = *s++;
}
static void line_num(line_t *l, unsigned long long v, int base) {
  char num[24];
  line_add(l, alloc_fmt_u64(num, v, base));
}
/* Newline, then one write(2) so the line reaches fd whole. */
static void line_end(line_t *l, int fd) {
  l->buf[l->len++] = '\n';
  l->buf[l->len] = 0;
  alloc_write_str(fd, l->buf);
}

static line_t *fatal_begin(line_t *l, const char *check, const void *addr) {
  __atomic_store_n(&alloc_dying_flag, 1, __ATOMIC_RELAXED);
  l->len = 0;
  line_add(l, HEAP_NAME ": fatal: ");
  line_add(l, check);
  line_add(l, " at 0x");
  line_num(l, (unsigned long long)(uintptr_t)addr, 16);
  return l;
}

void alloc_fatal(const char *check, const void *addr) {
  line_t l;
  line_end(fatal_begin(&l, check, addr), 2);
  abort();
}

void alloc_fatal2(const char *check, const void *addr, uint64_t value) {
  line_t l;
  fatal_begin(&l, check, addr);
  line_add(&l, " (value 0x");
  line_num(&l, value, 16);
  line_add(&l, ")");
  line_end(&l, 2);
  abort();
}

void alloc_fatal_size(const char *check, const void *addr, size_t claimed, size_t real) {
  line_t l;
  fatal_begin(&l, check, addr);
  line_add(&l, ": claimed ");
  line_num(&l, claimed, 10);
  line_add(&l, ", real ");
  line_num(&l, real, 10);
  line_end(&l, 2);
  abort();
}

void alloc_warn(const char *a, const char *b, const char *c) {
  line_t l = {.len = 0};
  line_add(&l, HEAP_NAME ": warning: ");
  line_add(&l, a);
  line_add(&l, b);
  line_add(&l, c);
  line_end(&l, 2);
}
