/*
 * prodcons.c - producer/consumer: 2 producers allocate messages (16..1024
 * bytes) and pass them, 32 to a batch, through a bounded queue to 2
 * consumers, which check and free them.  Every message is freed by a thread
 * other than the one that allocated it; so is every batch array.
 */
#include <pthread.h>
#include <stdlib.h>

#include "macro.h"

#define PRODUCERS 2
#define CONSUMERS 2
#define BATCH 32
#define QCAP 64

struct msg_batch {
  int n;
  void *m[BATCH];
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  struct msg_batch *q[QCAP];
  int head, count;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static void q_push(struct msg_batch *b) {
  pthread_mutex_lock(&queue.mu);
  while (queue.count == QCAP) pthread_cond_wait(&queue.not_full, &queue.mu);
  queue.q[(queue.head + queue.count++) % QCAP] = b;
  pthread_cond_signal(&queue.not_empty);
  pthread_mutex_unlock(&queue.mu);
}

static struct msg_batch *q_pop(void) {
  pthread_mutex_lock(&queue.mu);
  while (queue.count == 0) pthread_cond_wait(&queue.not_empty, &queue.mu);
  struct msg_batch *b = queue.q[queue.head];
  queue.head = (queue.head + 1) % QCAP;
  queue.count--;
  pthread_cond_signal(&queue.not_full);
  pthread_mutex_unlock(&queue.mu);
  return b;
}

struct pc_arg {
  int id;
  long msgs;                            /* producer: how many to send */
  long got;                             /* consumer: how many received */
  uint64_t tagsum;                      /* both: sum of tags */
};

static void *producer(void *a) {
  struct pc_arg *arg = a;
  uint64_t rng = 0xbeef00u + (uint64_t)arg->id;
  for (long i = 0; i < arg->msgs; i += BATCH) {
    struct msg_batch *b = xmalloc(sizeof *b);
    b->n = 0;
    for (long j = i; j < arg->msgs && b->n < BATCH; j++) {
      size_t sz = rng_range(&rng, 16, 1024);
      uint32_t tag = (uint32_t)(j * PRODUCERS + arg->id);
      b->m[b->n] = xmalloc(sz);
      obj_fill(b->m[b->n++], sz, tag);
      arg->tagsum += tag;
    }
    q_push(b);
  }
  return NULL;
}

static void *consumer(void *a) {
  struct pc_arg *arg = a;
  for (;;) {
    struct msg_batch *b = q_pop();
    if (!b) return NULL;                /* end of stream */
    for (int i = 0; i < b->n; i++) {
      uint32_t tag;
      obj_check(b->m[i], &tag);
      arg->tagsum += tag;
      arg->got++;
      free(b->m[i]);
    }
    free(b);
  }
}

static void *role(void *a) {
  struct pc_arg *arg = a;
  return arg->id < PRODUCERS ? producer(a) : consumer(a);
}

void wl_prodcons(double scale) {
  struct pc_arg args[PRODUCERS + CONSUMERS] = {{0}};
  long per = scaled(scale, 1500000, 10000);
  for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
    args[i].id = i;
    args[i].msgs = i < PRODUCERS ? per : 0;
  }
  /* One end-of-stream marker per consumer, once every producer is done. */
  pthread_t t[PRODUCERS + CONSUMERS];
  for (int i = 0; i < PRODUCERS + CONSUMERS; i++)
    if (pthread_create(&t[i], NULL, role, &args[i]) != 0) wrong("pthread_create failed");
  for (int i = 0; i < PRODUCERS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < CONSUMERS; i++) q_push(NULL);
  for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++) pthread_join(t[i], NULL);
  uint64_t sent = 0, recv = 0;
  long got = 0;
  for (int i = 0; i < PRODUCERS; i++) sent += args[i].tagsum;
  for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++) {
    recv += args[i].tagsum;
    got += args[i].got;
  }
  if (got != per * PRODUCERS || sent != recv)
    wrong("prodcons: sent %ld messages, received %ld (tag sums %llu vs %llu)", per * PRODUCERS,
          got, (unsigned long long)sent, (unsigned long long)recv);
  metric("messages", (double)got);
}
