/*
 * mc_bugs.c - two heap bugs memcheck must see through whichever heap is
 * preloaded (the heap describes its blocks with valgrind client requests):
 *   a read of a freed block (use after free), and
 *   a write one byte past the end of a live block (heap overflow).
 * run_tests.sh finds the lines marked MC-EXPECT below and requires memcheck to
 * report an invalid read at the first and an invalid write at the second,
 * with the block's size and state (free'd / alloc'd) right.
 * Built at -O0 with debug info so each access stays on its own line.
 */
#include <stdio.h>
#include <stdlib.h>

static volatile char sink;

static __attribute__((noinline)) void use_after_free(void) {
  char *p = malloc(40);
  p[0] = 1;
  free(p);
  sink = p[3]; /* MC-EXPECT: invalid read, 3 bytes inside a block of size 40 free'd */
}

static __attribute__((noinline)) void overflow_by_one(void) {
  char *p = malloc(24);
  p[24] = 'x'; /* MC-EXPECT: invalid write, 0 bytes after a block of size 24 alloc'd */
  free(p);
}

int main(void) {
  use_after_free();
  overflow_by_one();
  printf("mc_bugs: done\n");
  return 0;
}
