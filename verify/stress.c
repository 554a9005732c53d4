/*
 * stress.c - multi-thread stress through the real malloc entry points.
 *
 *   stress [-t SECONDS] [-j THREADS] [-l SUB]   (defaults: 12 s, 8 threads)
 *
 * -l: malloc must resolve into an object whose path contains SUB (vtest.h).
 *
 * THREADS worker slots, each with a lock-protected inbox.  A worker allocates
 * blocks of random size (mostly small, a few up to 1 MiB), fills each with the
 * pattern of its id, and hands most of them to another slot's inbox; what it
 * takes from its own inbox it checks, sometimes reallocs and passes on, and
 * frees.  So most frees are cross-thread.  A worker exits after a bounded
 * number of operations, its last blocks handed on, and the main thread starts
 * a new one in its slot: thread heaps are created and handed back all the
 * time.  Every block is checked against its pattern before it is freed.
 *
 * The bound is time (no assertion on it): at the end all inboxes are drained
 * and checked, and the run fails on any corrupted block, on a calloc that was
 * not zero, on a failed allocation, or if fewer than half of the frees were
 * cross-thread (the test would then not test what it claims).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vtest.h"
#ifdef HEAP_PREFIX /* the sanitizer builds call a heap by its prefixed names */
#include "sanitize/bind.h"
#endif

#define MAX_THREADS 64
#define INBOX_CAP 1024
#define LOCAL_KEEP 64
#ifndef OPS_PER_LIFE /* the TSan build shortens lives, so threads still come and go */
#define OPS_PER_LIFE 20000
#endif

struct item {
  unsigned char *p;
  size_t n;
  uint64_t id;
  uint64_t born_in; /* generation number of the allocating thread */
};

struct inbox {
  pthread_mutex_t mu;
  size_t head, count;
  struct item items[INBOX_CAP];
};

struct slot {
  pthread_t thread;
  atomic_int running;
  uint64_t gen;
};

static struct inbox inbox[MAX_THREADS];
static struct slot slots[MAX_THREADS];
static int nthreads = 8;
static atomic_int stop;
static atomic_uint_fast64_t next_id = 1, next_gen = 1;
static atomic_uint_fast64_t n_alloc, n_free_cross, n_free_local, n_realloc, n_errors, n_lives;

static void report(const char *fmt, const struct item *it, size_t at, uint64_t gen) {
  if (atomic_fetch_add(&n_errors, 1) < 20)
    printf("FAIL stress: %s: block id %llu, %zu bytes, born in thread %llu, byte %zu (thread %llu)\n", fmt,
           (unsigned long long)it->id, it->n, (unsigned long long)it->born_in, at, (unsigned long long)gen);
}

static size_t rand_size(uint64_t *rng) {
  unsigned r = (unsigned)(vt_rand(rng) % 1000);
  uint64_t x = vt_rand(rng);
  if (r < 850) return x % 257;
  if (r < 970) return 257 + x % 16128;
  if (r < 999) return 16385 + x % (128u << 10);
  return (128u << 10) + x % (896u << 10);
}

static int push(int to, const struct item *it) {
  struct inbox *b = &inbox[to];
  int ok = 0;
  pthread_mutex_lock(&b->mu);
  if (b->count < INBOX_CAP) {
    b->items[(b->head + b->count++) % INBOX_CAP] = *it;
    ok = 1;
  }
  pthread_mutex_unlock(&b->mu);
  return ok;
}

static int pop(int from, struct item *it) {
  struct inbox *b = &inbox[from];
  int ok = 0;
  pthread_mutex_lock(&b->mu);
  if (b->count) {
    *it = b->items[b->head];
    b->head = (b->head + 1) % INBOX_CAP;
    b->count--;
    ok = 1;
  }
  pthread_mutex_unlock(&b->mu);
  return ok;
}

/* Hand a block to some other slot.  On 2 cores the inboxes of descheduled
 * threads fill up: after each three failed tries, yield so they can run; after
 * three rounds the caller keeps the block (a same-thread free). */
static int push_other(int self, const struct item *it, uint64_t *rng) {
  int t;
  for (t = 0; t < 9; t++) {
    if (push((self + 1 + (int)(vt_rand(rng) % (unsigned)(nthreads - 1))) % nthreads, it)) return 1;
    if (t % 3 == 2) sched_yield();
  }
  return 0;
}

static void check_and_free(struct item *it, uint64_t gen) {
  size_t bad = vt_check(it->p, it->n, it->id);
  if (bad != (size_t)-1) report("pattern broken before free", it, bad, gen);
  free(it->p);
  atomic_fetch_add(it->born_in == gen ? &n_free_local : &n_free_cross, 1);
}

static int make_block(struct item *it, uint64_t *rng, uint64_t gen) {
  size_t n = rand_size(rng);
  unsigned how = (unsigned)(vt_rand(rng) % 16);
  it->id = atomic_fetch_add(&next_id, 1);
  it->n = n;
  it->born_in = gen;
  if (how == 0) {
    size_t i;
    it->p = calloc(1, n);
    for (i = 0; it->p && i < n; i++)
      if (it->p[i]) {
        report("calloc block not zero", it, i, gen);
        break;
      }
  } else if (how == 1) {
    it->p = aligned_alloc((size_t)16 << (vt_rand(rng) % 8), n);
  } else {
    it->p = malloc(n);
  }
  if (!it->p) {
    report("allocation failed", it, 0, gen);
    return 0;
  }
  vt_fill(it->p, n, it->id);
  atomic_fetch_add(&n_alloc, 1);
  return 1;
}

/* Take a block from the inbox: check it, maybe realloc it, pass it on or free. */
static void handle(struct item *it, int self, uint64_t *rng, uint64_t gen) {
  unsigned r = (unsigned)(vt_rand(rng) % 10);
  if (r < 2) {
    size_t bad = vt_check(it->p, it->n, it->id), n = 1 + rand_size(rng);
    unsigned char *q;
    if (bad != (size_t)-1) report("pattern broken before realloc", it, bad, gen);
    q = realloc(it->p, n);
    if (!q) {
      report("realloc failed", it, n, gen);
      return;
    }
    bad = vt_check(q, n < it->n ? n : it->n, it->id);
    if (bad != (size_t)-1) report("realloc lost the kept prefix", it, bad, gen);
    it->p = q;
    it->n = n;
    vt_fill(q, n, it->id);
    atomic_fetch_add(&n_realloc, 1);
    if (push_other(self, it, rng)) return;
  }
  check_and_free(it, gen);
}

static void *worker(void *arg) {
  int self = (int)(intptr_t)arg, i, nlocal = 0;
  uint64_t gen = slots[self].gen, rng = gen * 0x9E3779B97F4A7C15ULL + 1;
  struct item local[LOCAL_KEEP], it;
  for (i = 0; i < OPS_PER_LIFE && !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
    int k;
    if (make_block(&it, &rng, gen)) {
      if (vt_rand(&rng) % 8 == 0 || !push_other(self, &it, &rng)) { /* keep some: same-thread frees */
        if (nlocal == LOCAL_KEEP) {
          int v = (int)(vt_rand(&rng) % LOCAL_KEEP);
          check_and_free(&local[v], gen);
          local[v] = local[--nlocal];
        }
        local[nlocal++] = it;
      }
    }
    for (k = 0; k < 4 && pop(self, &it); k++) handle(&it, self, &rng, gen);
  }
  /* Exit with live blocks: hand them on, so other threads free them. */
  while (nlocal) {
    it = local[--nlocal];
    if (!push((self + 1 + nlocal) % nthreads, &it)) check_and_free(&it, gen);
  }
  atomic_store(&slots[self].running, 0);
  return NULL;
}

static int start(int s) {
  slots[s].gen = atomic_fetch_add(&next_gen, 1);
  atomic_store(&slots[s].running, 1);
  atomic_fetch_add(&n_lives, 1);
  return pthread_create(&slots[s].thread, NULL, worker, (void *)(intptr_t)s);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  double seconds = 12, end;
  int opt, s;
  uint64_t frees, cross;
  size_t live0, live1;
  struct item it;
  struct timespec tick = {0, 5 * 1000 * 1000};
  const char *want = NULL;
  while ((opt = getopt(argc, argv, "t:j:l:")) != -1) {
    if (opt == 'l') want = optarg;
    else if (opt == 't') seconds = atof(optarg);
    else if (opt == 'j') nthreads = atoi(optarg);
    else return 2;
  }
  if (nthreads < 2 || nthreads > MAX_THREADS) return fprintf(stderr, "stress: -j 2..%d\n", MAX_THREADS), 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (vt_check_owner("stress", "malloc", want)) return 1;
  printf("stress: malloc from %s, %d threads, %.1f s\n", vt_sym_owner("malloc"), nthreads, seconds);
  live0 = vt_validate() ? vt_validate()() : 0; /* after stdout's buffer exists */
  for (s = 0; s < nthreads; s++) pthread_mutex_init(&inbox[s].mu, NULL);
  for (s = 0; s < nthreads; s++)
    if (start(s)) return printf("FAIL stress: pthread_create: %s\n", strerror(errno)), 1;
  end = now() + seconds;
  while (now() < end) { /* replace each worker that has finished its life */
    nanosleep(&tick, NULL);
    for (s = 0; s < nthreads; s++)
      if (!atomic_load(&slots[s].running)) {
        pthread_join(slots[s].thread, NULL);
        if (start(s)) return printf("FAIL stress: pthread_create: %s\n", strerror(errno)), 1;
      }
  }
  atomic_store(&stop, 1);
  for (s = 0; s < nthreads; s++) pthread_join(slots[s].thread, NULL);
  for (s = 0; s < nthreads; s++)
    while (pop(s, &it)) check_and_free(&it, 0);
  /* Every block made was freed: the heap's own count agrees (our heaps),
   * but for one block per thread glibc keeps with each cached thread stack
   * (its TLS vector), so at most nthreads more. */
  live1 = vt_validate() ? vt_validate()() : 0;
  if (live1 < live0 || live1 - live0 > (size_t)nthreads)
    printf("FAIL stress: alloc_validate counts %zu live blocks at the end, %zu at the start (%d threads)\n", live1, live0,
           nthreads);

  frees = atomic_load(&n_free_cross) + atomic_load(&n_free_local);
  cross = atomic_load(&n_free_cross);
  printf("stress: %llu threads lived, %llu blocks, %llu reallocs, %llu frees (%.0f%% cross-thread)\n",
         (unsigned long long)atomic_load(&n_lives), (unsigned long long)atomic_load(&n_alloc),
         (unsigned long long)atomic_load(&n_realloc), (unsigned long long)frees, frees ? 100.0 * (double)cross / (double)frees : 0.0);
  if (frees != atomic_load(&n_alloc)) printf("FAIL stress: %llu blocks allocated, %llu freed\n",
                                             (unsigned long long)atomic_load(&n_alloc), (unsigned long long)frees);
  if (2 * cross < frees) printf("FAIL stress: only %llu of %llu frees were cross-thread\n", (unsigned long long)cross,
                                (unsigned long long)frees);
  if (atomic_load(&n_errors) || live1 < live0 || live1 - live0 > (size_t)nthreads || frees != atomic_load(&n_alloc) || 2 * cross < frees) return 1;
  printf("ok stress\n");
  return 0;
}
