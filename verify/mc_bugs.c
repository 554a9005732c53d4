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
#include <stdint.h>
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

/* Blocks of 64 bytes are written in full and freed, then 64-byte blocks are
 * taken until one comes back at a freed block's address (a heap that reuses
 * memory hands it out within REUSE_N; memcheck's own malloc never does): the
 * bytes it holds were written, but not by this block's owner, so memcheck
 * must still see them as undefined. */
#define REUSE_N 2048
static char *held[REUSE_N];
static uintptr_t freed[REUSE_N];

static __attribute__((noinline)) void uninitialised_reuse(void) {
  char *q = NULL;
  int i, j, n, reused = 0;
  for (i = 0; i < REUSE_N; i++) {
    held[i] = malloc(64);
    memset(held[i], 'a', 64);
    freed[i] = (uintptr_t)held[i];
  }
  for (i = 0; i < REUSE_N; i++) free(held[i]);
  for (n = 0; n < REUSE_N && !reused; n++) {
    q = held[n] = malloc(64);
    for (j = 0; j < REUSE_N && !reused; j++) reused = (uintptr_t)q == freed[j];
  }
  printf("mc_bugs: %s after %d blocks\n", reused ? "a freed block came back" : "no freed block came back", n);
  if (q[5] == 'a') sink = 1; /* MC-EXPECT: uninitialised jump, created by a heap allocation */
  for (i = 0; i < n; i++) free(held[i]);
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
