/*
 * rptest.c - rpmalloc-style (rpmalloc's benchmark): 4 threads, each loop
 * allocates a batch of 128 blocks of random sizes (log-uniform 16..8192
 * bytes), frees about half of them itself in random order, and hands the
 * rest to the next thread's mailbox; each thread also empties its own
 * mailbox, freeing blocks other threads made.  Fixed work (loops per
 * thread), so the process time is the measure; throughput is reported as
 * metric ops_per_s.  Checked: every block's tag, and that every handed-off
 * block was freed once.
 */
#include <pthread.h>
#include <stdlib.h>

#include "macro.h"

#define RP_THREADS 4
#define RP_BATCH 128

struct rp_batch {
  struct rp_batch *next;
  int n;
  void *m[RP_BATCH];
  uint32_t tag[RP_BATCH];
};

static struct {
  pthread_mutex_t mu;
  struct rp_batch *head;
  char pad[64];
} mbox[RP_THREADS];

struct rp_arg {
  int id;
  long loops;
  long made, freed;
};

static void rp_drain(struct rp_arg *a) {
  pthread_mutex_lock(&mbox[a->id].mu);
  struct rp_batch *b = mbox[a->id].head;
  mbox[a->id].head = NULL;
  pthread_mutex_unlock(&mbox[a->id].mu);
  while (b) {
    struct rp_batch *next = b->next;
    for (int k = 0; k < b->n; k++) {
      obj_free(b->m[k], b->tag[k]);
    }
    a->freed += b->n;
    free(b);
    b = next;
  }
}

static void *rp_thread(void *p) {
  struct rp_arg *a = p;
  uint64_t rng = 0x49a10000u + (uint64_t)a->id;
  void *blk[RP_BATCH];
  uint32_t tag[RP_BATCH];
  for (long i = 0; i < a->loops; i++) {
    for (int k = 0; k < RP_BATCH; k++) {
      size_t sz = rng_logsize(&rng, OBJ_MIN, 8192);
      blk[k] = xmalloc(sz);
      tag[k] = (uint32_t)(i * RP_BATCH + k);
      obj_fill(blk[k], sz, tag[k]);
    }
    a->made += RP_BATCH;
    struct rp_batch *out = xmalloc(sizeof *out);
    out->n = 0;
    for (int k = 0; k < RP_BATCH; k++) {   /* walk from a random start: random order */
      int j = (int)((k * 37 + (int)(i & 127)) % RP_BATCH);
      if (tk_rand(&rng) & 1) {
        out->m[out->n] = blk[j];
        out->tag[out->n++] = tag[j];
      } else {
        obj_free(blk[j], tag[j]);
        a->freed++;
      }
    }
    int to = (a->id + 1) % RP_THREADS;
    pthread_mutex_lock(&mbox[to].mu);
    out->next = mbox[to].head;
    mbox[to].head = out;
    pthread_mutex_unlock(&mbox[to].mu);
    rp_drain(a);
  }
  return NULL;
}

void wl_rptest(double scale) {
  struct rp_arg args[RP_THREADS];
  long loops = scaled(scale, 8000, 100);
  for (int i = 0; i < RP_THREADS; i++) {
    pthread_mutex_init(&mbox[i].mu, NULL);
    mbox[i].head = NULL;
    args[i] = (struct rp_arg){i, loops, 0, 0};
  }
  double t0 = now_s();
  start_threads(RP_THREADS, rp_thread, args, sizeof args[0]);
  double dt = now_s() - t0;
  long made = 0, freed = 0;
  for (int i = 0; i < RP_THREADS; i++) {
    rp_drain(&args[i]);                /* what arrived after its last loop */
    made += args[i].made;
    freed += args[i].freed;
  }
  if (made != freed) wrong("rptest: %ld blocks made, %ld freed", made, freed);
  metric("ops", (double)made);
  metric("ops_per_s", dt > 0 ? (double)made / dt : 0);
}
