/*
 * mc_clean.c - a correct program: memcheck must report no error on any heap.
 * It touches every byte it owns and nothing else, through malloc, calloc,
 * realloc (grow in place or move, shrink), the aligned functions and free,
 * so a heap that describes a block wrongly to memcheck (wrong size, freed
 * memory left defined, a realloc not reported) shows up as an error here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  static char *blk[200];
  unsigned long sum = 0;
  size_t i, j, n;
  for (i = 0; i < 200; i++) {
    n = 1 + i * 37 % 5000;
    blk[i] = i % 3 ? malloc(n) : calloc(n, 1);
    if (!blk[i]) return 1;
    for (j = 0; i % 3 == 0 && j < n; j++) sum += (unsigned char)blk[i][j]; /* calloc memory is defined */
    memset(blk[i], (int)i, n);
  }
  for (i = 0; i < 200; i += 2) { /* grow and shrink, keep the contents */
    size_t old = 1 + i * 37 % 5000;
    n = (i % 4 ? 3 : 1) * old / 2 + 1;
    blk[i] = realloc(blk[i], n);
    if (!blk[i]) return 1;
    for (j = 0; j < (n < old ? n : old); j++) sum += (unsigned char)blk[i][j];
    memset(blk[i], 7, n);
  }
  for (i = 0; i < 200; i++) free(blk[i]);
  for (n = 16; n <= 65536; n *= 4) {
    void *a = aligned_alloc(n, n), *m = memalign(n, 3 * n), *p = NULL;
    if (!a || !m || posix_memalign(&p, n, n + 1)) return 1;
    memset(a, 1, n);
    memset(m, 2, 3 * n);
    memset(p, 3, n + 1);
    free(a);
    free(m);
    free(p);
  }
  {
    char *big = malloc(8 << 20);
    if (!big) return 1;
    memset(big, 9, 8 << 20);
    big = realloc(big, 16 << 20);
    if (!big) return 1;
    sum += (unsigned char)big[(8 << 20) - 1];
    free(big);
  }
  printf("mc_clean: %lu\n", sum);
  return 0;
}
