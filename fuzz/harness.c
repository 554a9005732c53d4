/*
 * harness.c - run one fuzz input (ops.h) against one heap (heap_bind.h) and
 * check every result against the shadow model (model.h).  A misuse
 * operation goes to misuse.c, the other file bound to the heap.
 *
 * The harness itself never misuses the heap: every pointer it frees is live,
 * free_sized gets the requested size, free_aligned_sized only sees blocks from
 * aligned_alloc with their alignment.  A failure is therefore the heap's bug.
 * (The test double, testdouble_glibc.c, checks this claim in the smoke test.)
 *
 * Deliberate choices where the standards leave a choice to the heap:
 *   - a request of 0 bytes may return NULL or a unique pointer: both accepted;
 *   - realloc(p, 0) is implementation-defined (and undefined in C23), so the
 *     harness turns a realloc size of 0 into 1;
 *   - a reasonable request (<= a few MiB, live total <= FUZZ_MAX_LIVE_BYTES)
 *     that returns NULL is a failure ("null"): nothing here should exhaust
 *     memory.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "heap_bind.h"
#include "misuse.h"
#include "model.h"
#include "ops.h"

const char fuzz_heap_name[] = FUZZ_HEAP_NAME;

#define MIN_ALIGN 16 /* malloc, calloc, realloc, reallocarray */
#define VALIDATE_EVERY 128 /* operations between automatic validate() checks */

static const char *const op_names[OP_COUNT] = {
#define FUZZ_OP_NAME(name, nargs, doc) #name,
    FUZZ_OPS(FUZZ_OP_NAME)
#undef FUZZ_OP_NAME
};
static const unsigned char op_nargs[OP_COUNT] = {
#define FUZZ_OP_NARGS(name, nargs, doc) nargs,
    FUZZ_OPS(FUZZ_OP_NARGS)
#undef FUZZ_OP_NARGS
};

static struct model M; /* static: the model outlives persistent iterations */
static size_t page_size;

/* ---- operand decoding (ops.h) --------------------------------------------------- */
static unsigned dec_slot(unsigned char b) { return b % FUZZ_SLOTS; }

static size_t dec_size(const unsigned char *a) {
  unsigned v = (unsigned)a[0] | (unsigned)a[1] << 8;
  switch (v >> 13) {
  case 0: case 1: case 2: case 3: return v & 0x3ff;
  case 4: case 5: return v & 0x3fff;
  case 6: return (size_t)(v & 0x1fff) * 32 + (v & 31);
  default: return (size_t)(v & 0x1fff) * 512 + (v & 511);
  }
}

static size_t dec_align(unsigned char b) { return (size_t)1 << ((b & 0x1f) % 21); }

/* Split a decoded total into nmemb * size. */
static void dec_array(unsigned char n, size_t total, size_t *nmemb, size_t *size) {
  *nmemb = n;
  *size = n ? total / n : total;
}

/* Bytes this input has been given so far (harness.h FUZZ_MAX_INPUT_BYTES),
 * and its THREAD_CYCLE operations (FUZZ_MAX_THREAD_CYCLES). */
static size_t input_bytes;
static unsigned input_cycles;

/* May the input allocate `add` bytes, releasing `drop`?  Counts them if so. */
static int fits_budget(size_t drop, size_t add) {
  if (input_bytes + add > FUZZ_MAX_INPUT_BYTES) return 0;
  if (M.live_bytes - drop + add > FUZZ_MAX_LIVE_BYTES) return 0;
  input_bytes += add;
  return 1;
}

/* ---- the helper thread: allocations and frees from a second thread ------------- */
enum { HELP_NONE, HELP_MALLOC, HELP_FREE, HELP_EXIT };
/* Two semaphores hand each job over and back: one futex wake and one wait
 * each way, where a mutex and condition variable cost twice as many calls
 * (the handover was most of the harness's system time). */
static struct {
  pthread_t thread;
  sem_t go, done;
  int ready, running, job;
  void *ptr;
  size_t size;
} helper;

/* A job is handed over in well under a microsecond when the other thread is
 * running, so each side polls a little (about 10 us at most) before it
 * sleeps in the kernel.  Replaying a 614-input queue on a quiet machine took
 * 0.11-0.12 s and 5,870 context switches without the poll, 0.08-0.09 s and
 * about 2,000 with it; with both cores busy, 0.10-0.14 s without and
 * 0.11-0.12 s with. */
#ifndef HANDOVER_SPIN
#define HANDOVER_SPIN 200
#endif
static void sem_take(sem_t *s) {
  for (int i = 0; i < HANDOVER_SPIN; i++) {
    if (sem_trywait(s) == 0) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  while (sem_wait(s)) /* only EINTR */
    if (errno != EINTR) model_fail("harness", "sem_wait failed: %s", strerror(errno));
}

static void *helper_main(void *unused) {
  for (;;) {
    sem_take(&helper.go);
    int job = helper.job;
    if (job == HELP_MALLOC) helper.ptr = H(malloc)(helper.size);
    if (job == HELP_FREE) H(free)(helper.ptr);
    sem_post(&helper.done);
    if (job == HELP_EXIT) break;
  }
  return NULL;
}

/* Run one job on the helper thread and wait for it (no overlap, no race). */
static void *helper_call(int job, void *ptr, size_t size) {
  if (!helper.ready) {
    if (sem_init(&helper.go, 0, 0) || sem_init(&helper.done, 0, 0))
      model_fail("harness", "sem_init failed");
    helper.ready = 1;
  }
  if (!helper.running) {
    if (job == HELP_EXIT) return NULL;
    if (pthread_create(&helper.thread, NULL, helper_main, NULL))
      model_fail("harness", "pthread_create failed");
    helper.running = 1;
  }
  helper.job = job;
  helper.ptr = ptr;
  helper.size = size;
  sem_post(&helper.go);
  sem_take(&helper.done);
  void *ret = helper.ptr;
  if (job == HELP_EXIT) {
    pthread_join(helper.thread, NULL);
    helper.running = 0;
  }
  return ret;
}

/* ---- placing and releasing blocks ------------------------------------------------ */
/* 1 on the threaded driver's workers: their blocks are "remote" (model.h) to
 * misuse ops, which run on the main thread. */
static __thread int in_worker;

/* Free the block in `slot` (if any) with plain free, after checking it. */
static void release(unsigned slot) {
  if (!M.slot[slot].p) return;
  model_check_contents(&M, slot, "before free");
  H(free)(M.slot[slot].p);
  model_remove(&M, slot);
}

/* Check a freshly returned block; false when it is an allowed NULL. */
static int check_new(void *p, size_t req, size_t want_align, const char *what) {
  if (!p) {
    if (req == 0) return 0; /* malloc(0) may return NULL */
    model_fail("null", "%s(%zu) returned NULL with %zu bytes live", what, req, M.live_bytes);
  }
  model_check_align(p, want_align, what);
  /* Before the pattern is written: a short block would let the harness itself
   * overwrite a neighbour, and the failure would surface far from its cause. */
  size_t u = H(malloc_usable_size)(p);
  if (u < req) model_fail("usable", "%s(%zu) returned %p with usable size %zu", what, req, p, u);
  model_check_overlap(&M, p, req ? req : 1, -1, what);
  return 1;
}

/* Check a freshly returned block and record it in the (empty) slot. */
static void place(unsigned slot, void *p, size_t req, enum block_kind kind, size_t align,
                  size_t want_align, const char *what) {
  if (!check_new(p, req, want_align, what)) return;
  model_insert(&M, slot, p, req, kind, align);
  M.slot[slot].remote = in_worker;
}

/* realloc or reallocarray of the block in `slot` to nmemb * size bytes. */
static void resize(unsigned slot, size_t nmemb, size_t size, int array) {
  struct block old = M.slot[slot];
  size_t req = nmemb * size;
  if (req == 0) nmemb = size = req = 1; /* realloc(p, 0): see the top of the file */
  if (!fits_budget(old.p ? old.req : 0, req)) return;
  const char *what = array ? "reallocarray" : "realloc";
  if (old.p) model_check_contents(&M, slot, "before realloc");
  void *q = array ? H(reallocarray)(old.p, nmemb, size) : H(realloc)(old.p, req);
  if (!q) model_fail("null", "%s(%p, %zu) returned NULL", what, (void *)old.p, req);
  if (old.p) model_remove(&M, slot); /* the old block is gone: q may overlap it */
  check_new(q, req, MIN_ALIGN, what);
  if (old.p) {
    size_t keep = old.req < req ? old.req : req;
    size_t bad = pattern_find_bad(q, keep, old.key);
    if (bad != keep)
      model_fail("realloc", "%s(%p, %zu -> %zu) = %p lost byte %zu of the %zu to keep", what,
                 (void *)old.p, old.req, req, q, bad, keep);
  }
  model_insert(&M, slot, q, req, KIND_MALLOC, 0);
  M.slot[slot].remote = in_worker || (old.p == q && old.remote);
}

/* ---- impossible requests (OP_HUGE) ---------------------------------------------- */
static const size_t huge_sizes[] = {
    SIZE_MAX,          SIZE_MAX - 1,       SIZE_MAX - 15,   SIZE_MAX - 16,
    SIZE_MAX - 4095,   SIZE_MAX - 4096,    SIZE_MAX - 65535, SIZE_MAX - (1u << 21),
    SIZE_MAX / 2 + 1,  SIZE_MAX / 2,       (size_t)1 << 62, (size_t)1 << 56,
    (size_t)1 << 48,   SIZE_MAX / 2 - 4095,
};
#define N_HUGE (sizeof huge_sizes / sizeof huge_sizes[0])

/* Call first, then read errno: argument evaluation order is unspecified. */
#define EXPECT_ENOMEM(call, what, n)                                                   \
  do {                                                                                 \
    void *r_ = (call);                                                                 \
    expect_enomem(r_, errno, what, n);                                                 \
  } while (0)

static void expect_enomem(const void *p, int err, const char *what, size_t n) {
  if (p) model_fail("huge", "%s(%zu) returned %p, expected NULL", what, n, p);
  if (err != ENOMEM) model_fail("huge", "%s(%zu) set errno %d, expected ENOMEM", what, n, err);
}

static void op_huge(const unsigned char *a) {
  size_t n = huge_sizes[(a[0] & 0x0f) % N_HUGE];
  size_t k = (size_t)1 << (a[0] & 0x0f);    /* element count for the array forms, */
  size_t ksz = n / k + (k > 1);             /* so k * ksz > n, or it overflows */
  size_t align = (size_t)16 << (a[0] & 7);  /* 16 .. 2048 */
  unsigned slot = dec_slot(a[1]);
  void *out = (void *)&out;                 /* a sentinel that is not NULL */
  int ret;
  errno = 0;
  switch ((a[0] >> 4) % 9) {
  case 0: EXPECT_ENOMEM(H(malloc)(n), "malloc", n); break;
  case 1: EXPECT_ENOMEM(H(calloc)(k, ksz), "calloc(k, huge/k + 1)", n); break;
  case 2:
    EXPECT_ENOMEM(H(realloc)(M.slot[slot].p, n), "realloc", n);
    model_check_contents(&M, slot, "after a failed realloc");
    break;
  case 3:
    EXPECT_ENOMEM(H(reallocarray)(M.slot[slot].p, k, ksz), "reallocarray(p, k, huge/k + 1)", n);
    model_check_contents(&M, slot, "after a failed reallocarray");
    break;
  case 4:
    ret = H(posix_memalign)(&out, align, n);
    if (ret != ENOMEM)
      model_fail("huge", "posix_memalign(%zu, %zu) returned %d, expected ENOMEM", align, n, ret);
    if (out != (void *)&out && out != NULL)
      model_fail("huge", "failed posix_memalign(%zu, %zu) stored %p", align, n, out);
    break;
  case 5: EXPECT_ENOMEM(H(aligned_alloc)(align, n), "aligned_alloc", n); break;
  case 6: EXPECT_ENOMEM(H(memalign)(align, n), "memalign", n); break;
  case 7: EXPECT_ENOMEM(H(valloc)(n), "valloc", n); break;
  default: EXPECT_ENOMEM(H(pvalloc)(n), "pvalloc", n); break;
  }
}

/* ---- posix_memalign, including the EINVAL cases --------------------------------- */
static void op_posix_memalign(unsigned slot, unsigned char ab, size_t n) {
  unsigned lg = (ab & 0x1f) % 21;
  void *out = (void *)&out;
  if (ab & 0x80) { /* invalid: below sizeof(void *) or not a power of two */
    size_t bad = lg < 3 ? (size_t)1 << lg : (size_t)3 << (lg - 2);
    int ret = H(posix_memalign)(&out, bad, n);
    if (ret != EINVAL) {
      if (ret == 0 && out != (void *)&out) H(free)(out);
      model_fail("posix_memalign", "alignment %zu returned %d, expected EINVAL", bad, ret);
    }
    if (out != (void *)&out && out != NULL)
      model_fail("posix_memalign", "alignment %zu failed but stored %p", bad, out);
    return;
  }
  size_t align = (size_t)1 << (lg < 3 ? 3 : lg);
  if (!fits_budget(0, n)) return;
  release(slot);
  int ret = H(posix_memalign)(&out, align, n);
  if (ret) model_fail("posix_memalign", "(%zu, %zu) returned %d", align, n, ret);
  if (out == (void *)&out) model_fail("posix_memalign", "(%zu, %zu) returned 0 but stored "
                                      "nothing", align, n);
  place(slot, out, n, KIND_MEMALIGN, 0, align, "posix_memalign");
}

/* ---- the usable size ------------------------------------------------------------- */
static void op_usable(unsigned slot) {
  struct block *b = &M.slot[slot];
  if (!b->p) {
    size_t u = H(malloc_usable_size)(NULL);
    if (u) model_fail("usable", "malloc_usable_size(NULL) = %zu, expected 0", u);
    return;
  }
  size_t u = H(malloc_usable_size)(b->p);
  if (u < b->req) model_fail("usable", "usable size of %p is %zu < requested %zu",
                             (void *)b->p, u, b->req);
  if (u < b->filled) model_fail("usable", "usable size of %p shrank from %zu to %zu",
                                (void *)b->p, b->filled, u);
  if (u == b->filled) return;
  /* All u bytes are the program's: they must not meet any other block. */
  model_check_overlap(&M, b->p, u, (int)slot, "malloc_usable_size");
  pattern_fill(b->p, b->filled, u, b->key);
  b->filled = u;
}

/* validate() == want.  The walk is skipped when no heap call has been made
 * since the last walk, which gave the same count: validate() only reads the
 * heap, so it would give that count again (VALIDATE, VALIDATE; or FREE_ALL
 * and then the end of the input).  heap_touched is set by every operation
 * but VALIDATE and CHECK_ALL, and when threads end. */
static int heap_touched = 1;
static size_t last_walk_count;
static size_t last_walk_op = (size_t)-1; /* operation index, -1: none this input */

static void check_validate(size_t want, const char *when) {
  if (!heap_touched && want == last_walk_count) return;
  model_check_validate(H(alloc_validate)(), want, when);
  heap_touched = 0;
  last_walk_count = want;
  last_walk_op = fuzz_ctx.op_index;
}

/* A walk an operation asks for (VALIDATE, FREE_ALL, every VALIDATE_EVERY
 * operations): the first of an input runs, a later one only when
 * FUZZ_WALK_GAP operations or more have run since the last walk
 * (harness.h).  The walks at the end of every input always run. */
static void check_validate_mid(size_t want, const char *when) {
  if (last_walk_op != (size_t)-1 && fuzz_ctx.op_index - last_walk_op < FUZZ_WALK_GAP) return;
  check_validate(want, when);
}

/* Free every live block, in slot order, each checked just before its free. */
static void release_all(void) {
  for (uint64_t busy = M.busy; busy; busy &= busy - 1) release((unsigned)__builtin_ctzll(busy));
}

static void free_all(const char *when) {
  release_all();
  check_validate(0, when);
}

/* ---- one operation ------------------------------------------------------------------ */
static void run_op(enum fuzz_op op, const unsigned char *a) {
  unsigned slot = dec_slot(a[0]);
  struct block *b = &M.slot[slot];
  size_t n = dec_size(a + 1), nmemb, size, align;
  void *p;
  if (op != OP_VALIDATE && op != OP_CHECK_ALL) heap_touched = 1;
  switch (op) {
  case OP_MALLOC:
    if (!fits_budget(0, n)) break;
    release(slot);
    place(slot, H(malloc)(n), n, KIND_MALLOC, 0, MIN_ALIGN, "malloc");
    break;
  case OP_CALLOC:
    dec_array(a[1], dec_size(a + 2), &nmemb, &size);
    if (!fits_budget(0, nmemb * size)) break;
    release(slot);
    p = H(calloc)(nmemb, size);
    if (!check_new(p, nmemb * size, MIN_ALIGN, "calloc")) break;
    model_check_zero(p, nmemb * size);
    model_insert(&M, slot, p, nmemb * size, KIND_MALLOC, 0);
    M.slot[slot].remote = in_worker;
    break;
  case OP_REALLOC: resize(slot, 1, n, 0); break;
  case OP_REALLOCARRAY:
    dec_array(a[1], dec_size(a + 2), &nmemb, &size);
    resize(slot, nmemb, size, 1);
    break;
  case OP_FREE:
    if (b->p) release(slot);
    else H(free)(NULL);
    break;
  case OP_POSIX_MEMALIGN: op_posix_memalign(slot, a[1], dec_size(a + 2)); break;
  case OP_ALIGNED_ALLOC:
  case OP_MEMALIGN:
    align = dec_align(a[1]);
    n = dec_size(a + 2);
    if (!fits_budget(0, n)) break;
    release(slot);
    if (op == OP_ALIGNED_ALLOC)
      place(slot, H(aligned_alloc)(align, n), n, KIND_ALIGNED, align, align, "aligned_alloc");
    else
      place(slot, H(memalign)(align, n), n, KIND_MEMALIGN, 0, align, "memalign");
    break;
  case OP_VALLOC:
    if (!fits_budget(0, n)) break;
    release(slot);
    place(slot, H(valloc)(n), n, KIND_MEMALIGN, 0, page_size, "valloc");
    break;
  case OP_PVALLOC: /* pvalloc(n) gives whole pages: round n up (0 -> one page) */
    size = n ? (n + page_size - 1) / page_size * page_size : page_size;
    if (!fits_budget(0, size)) break;
    release(slot);
    place(slot, H(pvalloc)(n), size, KIND_MEMALIGN, 0, page_size, "pvalloc");
    break;
  case OP_FREE_SIZED:
    if (!b->p) H(free_sized)(NULL, 0);
    else if (b->kind != KIND_MALLOC) release(slot);
    else {
      model_check_contents(&M, slot, "before free_sized");
      H(free_sized)(b->p, b->req);
      model_remove(&M, slot);
    }
    break;
  case OP_FREE_ALIGNED_SIZED:
    if (!b->p || b->kind != KIND_ALIGNED) release(slot);
    else {
      model_check_contents(&M, slot, "before free_aligned_sized");
      H(free_aligned_sized)(b->p, b->align, b->req);
      model_remove(&M, slot);
    }
    break;
  case OP_USABLE: op_usable(slot); break;
  case OP_TRIM:
    H(malloc_trim)((size_t)a[0] | (size_t)a[1] << 8);
    model_check_all(&M, "after malloc_trim");
    break;
  case OP_VALIDATE: check_validate_mid(M.live, "VALIDATE op"); break;
  case OP_CHECK_ALL: model_check_all(&M, "CHECK_ALL op"); break;
  case OP_HUGE: op_huge(a); break;
  case OP_REMOTE_MALLOC:
    if (!fits_budget(0, n)) break;
    release(slot);
    place(slot, helper_call(HELP_MALLOC, NULL, n), n, KIND_MALLOC, 0, MIN_ALIGN,
          "malloc (helper thread)");
    M.slot[slot].remote = M.slot[slot].p != NULL;
    break;
  case OP_REMOTE_FREE:
    if (!b->p) break;
    model_check_contents(&M, slot, "before free on the helper thread");
    helper_call(HELP_FREE, b->p, 0);
    model_remove(&M, slot);
    break;
  case OP_THREAD_CYCLE:
    if (input_cycles++ < FUZZ_MAX_THREAD_CYCLES) helper_call(HELP_EXIT, NULL, 0);
    break;
  case OP_FREE_ALL:
    release_all();
    check_validate_mid(0, "FREE_ALL op");
    break;
  case OP_COUNT: break;
  }
}

/* ---- the threaded driver: 2..4 workers, one seeded schedule --------------------- *
 * Each operation runs on the worker the schedule picks (splitmix64 of the
 * input's seed), one at a time: the main thread hands it over and waits, so
 * the run is the same on every replay, while blocks still move between real
 * threads (a slot filled on one worker is often freed or realloc'd on
 * another) and each worker's cache lives and dies with its thread. */
#define MAX_WORKERS 4
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread[MAX_WORKERS];
  int n, turn, quit; /* turn: the worker that runs `op` next, -1 none */
  enum fuzz_op op;
  unsigned char a[4];
} W = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .turn = -1};

static void *worker_main(void *arg) {
  int me = (int)(intptr_t)arg;
  in_worker = 1;
  pthread_mutex_lock(&W.mu);
  for (;;) {
    while (W.turn != me && !W.quit) pthread_cond_wait(&W.cv, &W.mu);
    if (W.turn != me) break;
    run_op(W.op, W.a);
    W.turn = -1;
    pthread_cond_broadcast(&W.cv);
  }
  pthread_mutex_unlock(&W.mu);
  return NULL;
}

static void workers_start(int n) {
  W.n = n;
  W.quit = 0;
  for (int t = 0; t < n; t++)
    if (pthread_create(&W.thread[t], NULL, worker_main, (void *)(intptr_t)t))
      model_fail("harness", "pthread_create failed");
}

static void workers_stop(void) {
  pthread_mutex_lock(&W.mu);
  W.quit = 1;
  pthread_cond_broadcast(&W.cv);
  pthread_mutex_unlock(&W.mu);
  for (int t = 0; t < W.n; t++) pthread_join(W.thread[t], NULL);
  W.n = 0;
}

/* Run `op` on worker t and wait until it is done. */
static void on_worker(int t, enum fuzz_op op, const unsigned char *a) {
  pthread_mutex_lock(&W.mu);
  W.op = op;
  memcpy(W.a, a, sizeof W.a);
  W.turn = t;
  pthread_cond_broadcast(&W.cv);
  while (W.turn != -1) pthread_cond_wait(&W.cv, &W.mu);
  pthread_mutex_unlock(&W.mu);
}

static uint64_t schedule_next(uint64_t *state) { /* splitmix64, as driver.c */
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* ---- one input ---------------------------------------------------------------------- */
/* nthreads 0: every operation on the calling thread (fuzz_run_input). */
static size_t run_input(const unsigned char *buf, size_t len, int nthreads, uint64_t seed) {
  if (!page_size) page_size = (size_t)sysconf(_SC_PAGESIZE);
  fuzz_ctx.heap = fuzz_heap_name;
  fuzz_ctx.input = buf;
  fuzz_ctx.input_len = len;
  fuzz_ctx.op_index = 0;
  fuzz_ctx.op = "start";
  model_reset(&M); /* the first of a process also checks the pattern code (model.c) */
  input_bytes = 0;
  input_cycles = 0;
  last_walk_op = (size_t)-1;
  /* The heap must start empty.  After the first input of a process this is
   * the previous input's last check (validate() == 0 after everything was
   * freed), with nothing run in between, so only the first input walks it. */
  static int started;
  if (!started++) model_check_validate(H(alloc_validate)(), 0, "start of input");

  size_t i = 0, ops = 0;
  while (i < len && ops < FUZZ_MAX_OPS) {
    unsigned char code = buf[i++];
    if (code >= FUZZ_MISUSE_FIRST) { /* misuse mode (ops.h, misuse.c) */
      enum fuzz_misuse mu = (enum fuzz_misuse)((code - FUZZ_MISUSE_FIRST) % MISUSE_COUNT);
      if (!misuse_claimed(mu)) continue; /* only the opcode byte, as always */
      unsigned char a[4] = {0, 0, 0, 0};
      for (unsigned k = 0; k < misuse_nargs[mu]; k++) a[k] = i < len ? buf[i++] : 0;
      fuzz_ctx.op_index = ops++;
      fuzz_ctx.op = misuse_names[mu];
      heap_touched = 1;
      if (misuse_run(mu, a, &M)) break; /* the misuse is the input's last op */
      continue;
    }
    enum fuzz_op op = (enum fuzz_op)(code % OP_COUNT);
    unsigned char a[4] = {0, 0, 0, 0}; /* operands past the end read as zero */
    for (unsigned k = 0; k < op_nargs[op]; k++) a[k] = i < len ? buf[i++] : 0;
    fuzz_ctx.op_index = ops++;
    fuzz_ctx.op = op_names[op];
    if (nthreads) on_worker((int)(schedule_next(&seed) % (uint64_t)nthreads), op, a);
    else run_op(op, a);
    if (ops % VALIDATE_EVERY == 0)
      check_validate_mid(M.live, "periodic check");
  }
  fuzz_ctx.op = "end of input";
  /* free_all checks each block's contents just before freeing it, after the
   * frees before it: no separate pass over every block is needed. */
  check_validate(M.live, "end of input");
  free_all("end of input, all freed");

  return ops;
}

size_t fuzz_run_input(const unsigned char *buf, size_t len) { return run_input(buf, len, 0, 0); }

size_t fuzz_run_input_threads(const unsigned char *buf, size_t len) {
  unsigned char head[FUZZ_THREAD_HEADER] = {0}; /* bytes past the end read as zero */
  memcpy(head, buf, len < sizeof head ? len : sizeof head);
  int n = 2 + head[0] % (MAX_WORKERS - 1);
  uint64_t seed = 0;
  for (int k = 8; k >= 1; k--) seed = seed << 8 | head[k];
  size_t skip = len < sizeof head ? len : sizeof head;
  workers_start(n);
  size_t ops = run_input(buf + skip, len - skip, n, seed);
  workers_stop(); /* the workers' caches go with their threads: still empty? */
  heap_touched = 1;
  fuzz_ctx.op = "after the workers exited";
  model_check_validate(H(alloc_validate)(), 0, "after the workers exited");
  return ops;
}
