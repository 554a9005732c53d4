/* heapstat.h - one figure from a prefixed heap's JSON statistics, for the
 * heap unit tests.  Include after defining H(name) (the heap's prefix). */
#ifndef UNIT_HEAPSTAT_H
#define UNIT_HEAPSTAT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The value of "key" in <heap>_alloc_stats_print(fd, 1), or -1. */
static long long heap_stat(const char *key) {
  static char buf[16384];
  int fd[2];
  if (pipe(fd)) return -1;
  H(alloc_stats_print)(fd[1], 1);
  close(fd[1]);
  ssize_t n = read(fd[0], buf, sizeof buf - 1);
  close(fd[0]);
  buf[n > 0 ? n : 0] = 0;
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *at = strstr(buf, pat);
  return at ? atoll(at + strlen(pat)) : -1;
}
#endif
