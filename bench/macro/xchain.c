/*
 * xchain.c - an xmalloc-style chain: 4 threads in a line.  Thread 0
 * allocates batches of 64 blocks (16..512 bytes); every later thread takes
 * each batch from the one before it, checks and frees those blocks,
 * allocates a new batch of its own and passes it on; the last thread only
 * frees.  So every block is freed by the thread after the one that made it,
 * while both run.  Links are bounded queues (8 batches).  Checked: tags and
 * the count and tag sum of blocks freed at every stage.
 */
#include <pthread.h>
#include <stdlib.h>

#include "macro.h"

#define XC_THREADS 4
#define XC_BATCH 64
#define XC_QCAP 8

struct xc_batch {
  int n;
  void *m[XC_BATCH];
  uint32_t tag[XC_BATCH];
};

struct xc_link {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct xc_batch *q[XC_QCAP];
  int head, count;
};

static struct xc_link links[XC_THREADS - 1];

static void link_push(struct xc_link *l, struct xc_batch *b) {
  pthread_mutex_lock(&l->mu);
  while (l->count == XC_QCAP) pthread_cond_wait(&l->cv, &l->mu);
  l->q[(l->head + l->count++) % XC_QCAP] = b;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

static struct xc_batch *link_pop(struct xc_link *l) {
  pthread_mutex_lock(&l->mu);
  while (l->count == 0) pthread_cond_wait(&l->cv, &l->mu);
  struct xc_batch *b = l->q[l->head];
  l->head = (l->head + 1) % XC_QCAP;
  l->count--;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
  return b;
}

struct xc_arg {
  int id;
  long batches;
  long freed;
  uint64_t sent, recv;                 /* tag sums */
};

static struct xc_batch *make_batch(struct xc_arg *a, uint64_t *rng, long i) {
  struct xc_batch *b = xmalloc(sizeof *b);
  b->n = XC_BATCH;
  for (int k = 0; k < XC_BATCH; k++) {
    size_t sz = rng_range(rng, OBJ_MIN, 512);
    b->tag[k] = (uint32_t)(i * XC_BATCH + k) ^ ((uint32_t)a->id << 28);
    b->m[k] = xmalloc(sz);
    obj_fill(b->m[k], sz, b->tag[k]);
    a->sent += b->tag[k];
  }
  return b;
}

static void *xc_thread(void *p) {
  struct xc_arg *a = p;
  uint64_t rng = 0x8c4a1000u + (uint64_t)a->id;
  for (long i = 0; i < a->batches; i++) {
    if (a->id > 0) {                   /* free what the previous thread made */
      struct xc_batch *in = link_pop(&links[a->id - 1]);
      for (int k = 0; k < in->n; k++) {
        obj_expect(in->m[k], in->tag[k]);
        a->recv += in->tag[k];
        free(in->m[k]);
      }
      a->freed += in->n;
      free(in);
    }
    if (a->id < XC_THREADS - 1) link_push(&links[a->id], make_batch(a, &rng, i));
  }
  return NULL;
}

void wl_xchain(double scale) {
  struct xc_arg args[XC_THREADS];
  long batches = scaled(scale, 80000, 200);
  for (int i = 0; i < XC_THREADS - 1; i++) {
    pthread_mutex_init(&links[i].mu, NULL);
    pthread_cond_init(&links[i].cv, NULL);
    links[i].head = links[i].count = 0;
  }
  for (int i = 0; i < XC_THREADS; i++) args[i] = (struct xc_arg){i, batches, 0, 0, 0};
  start_threads(XC_THREADS, xc_thread, args, sizeof args[0]);
  for (int i = 1; i < XC_THREADS; i++)
    if (args[i].freed != batches * XC_BATCH || args[i].recv != args[i - 1].sent)
      wrong("xchain: stage %d freed %ld blocks of %ld (tag sums %llu vs %llu)", i, args[i].freed,
            batches * XC_BATCH, (unsigned long long)args[i].recv, (unsigned long long)args[i - 1].sent);
  metric("blocks", (double)batches * XC_BATCH * (XC_THREADS - 1));
}
