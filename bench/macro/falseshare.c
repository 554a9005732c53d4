/*
 * falseshare.c - false sharing between blocks handed to different threads
 * (the pattern of Hoard's cache-scratch tests).
 *
 * active:  each of 2 threads repeatedly allocates an 8-byte block, writes it
 *          many times, frees it.  A heap that carves neighbouring small blocks
 *          for different threads out of one cache line makes the two threads
 *          fight over that line.
 * passive: the main thread allocates the threads' first blocks (so they sit
 *          side by side); each thread frees its block and then loops as
 *          above.  A heap that gives a freed block back to the thread that
 *          freed it keeps the threads on the shared line.
 * Each thread counts its writes in its block and checks the count.
 */
#include <stdlib.h>

#include "macro.h"

#define FS_THREADS 2
#define FS_OBJ 8

struct fs_arg {
  void *first;                          /* passive: block to free first */
  long rounds, writes;
};

static void *fs_thread(void *a) {
  struct fs_arg *arg = a;
  free(arg->first);
  for (long r = 0; r < arg->rounds; r++) {
    volatile uint64_t *v = xmalloc(FS_OBJ);
    *v = 0;
    for (long w = 0; w < arg->writes; w++) *v = *v + 1;
    if (*v != (uint64_t)arg->writes) wrong("fshare: block lost writes (%llu of %ld)",
                                           (unsigned long long)*v, arg->writes);
    free((void *)v);
  }
  return NULL;
}

static void fs_run(double scale, int passive) {
  struct fs_arg args[FS_THREADS];
  long rounds = scaled(scale, 2000000, 2000), writes = 1000;
  for (int i = 0; i < FS_THREADS; i++)
    args[i] = (struct fs_arg){passive ? xmalloc(FS_OBJ) : NULL, rounds, writes};
  start_threads(FS_THREADS, fs_thread, args, sizeof args[0]);
  metric("writes", (double)rounds * (double)writes * FS_THREADS);
}

void wl_fshare_active(double scale) { fs_run(scale, 0); }
void wl_fshare_passive(double scale) { fs_run(scale, 1); }
