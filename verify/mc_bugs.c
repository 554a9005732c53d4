/*
 * mc_bugs.c - four heap bugs memcheck must see through whichever heap is
 * preloaded (the heap describes its blocks with valgrind client requests):
 *   a read of a freed block (use after free),
 *   a write one byte past the end of a live block (heap overflow),
 *   a branch on bytes malloc handed out but nobody wrote (uninitialised
 *   read), in a block that reuses a freed one's memory and in the part a
 *   realloc grew, so a heap that hands back old bytes as "defined" is caught,
 *   and a block whose last pointer is dropped (a definite leak).
 * memcheck.sh finds the lines marked MC-EXPECT below and requires memcheck to
 * report each error there, as the kind and with the details written after
 * the marker (the "where" of a leak is the line that allocated the block).
 * Built at -O0 with debug info so each access stays on its own line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile char sink;
static char *volatile keep;

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

/* The first block is written in full and freed, so a heap that reuses it
 * hands the second malloc bytes that hold data: memcheck must still see them
 * as never written by this block's owner. */
static __attribute__((noinline)) void uninitialised_reuse(void) {
  char *p = malloc(64), *q;
  memset(p, 'a', 64);
  free(p);
  q = malloc(64);
  if (q[5] == 'a') sink = 1; /* MC-EXPECT: uninitialised jump, created by a heap allocation */
  free(q);
}

/* realloc keeps the first 10 bytes; the 90 after them were never written,
 * including the old block's slack (bytes 10..15 of a 16-byte slot). */
static __attribute__((noinline)) void uninitialised_realloc(void) {
  char *p = malloc(10), *q;
  memset(p, 'b', 10);
  q = realloc(p, 100);
  if (!q) abort();
  if (q[9] == 'b') sink = 2; /* written: no error here */
  if (q[12] == 'b') sink = 3; /* MC-EXPECT: uninitialised jump, created by a heap allocation */
  free(q);
}

/* The only pointer to the block is overwritten: definitely lost. */
static __attribute__((noinline)) void leak(void) {
  keep = malloc(48); /* MC-EXPECT: definitely lost, 48 bytes in 1 blocks */
  keep[0] = 1;
  keep = NULL;
}

int main(void) {
  use_after_free();
  overflow_by_one();
  uninitialised_reuse();
  uninitialised_realloc();
  leak();
  printf("mc_bugs: done\n");
  return 0;
}
