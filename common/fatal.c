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

void alloc_fatal(const char *check, const void *addr) {
  /* Build the line in one buffer so it reaches stderr in one write. */
  char line[256], num[24];
  line[0] = 0;
  strncat(line, HEAP_NAME ": fatal: ", sizeof line - 1);
  strncat(line, check, sizeof line - strlen(line) - 1);
  strncat(line, " at 0x", sizeof line - strlen(line) - 1);
  strncat(line, alloc_fmt_u64(num, (unsigned long long)(uintptr_t)addr, 16),
          sizeof line - strlen(line) - 1);
  strncat(line, "\n", sizeof line - strlen(line) - 1);
  alloc_write_str(2, line);
  abort();
}

void alloc_warn(const char *a, const char *b, const char *c) {
  char line[512];
  line[0] = 0;
  strncat(line, HEAP_NAME ": warning: ", sizeof line - 1);
  if (a) strncat(line, a, sizeof line - strlen(line) - 1);
  if (b) strncat(line, b, sizeof line - strlen(line) - 1);
  if (c) strncat(line, c, sizeof line - strlen(line) - 1);
  strncat(line, "\n", sizeof line - strlen(line) - 1);
  alloc_write_str(2, line);
}
