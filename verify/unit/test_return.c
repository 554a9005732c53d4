/* test_return.c - memory goes back to the OS when the heap says it does.
 *
 * One case per way memory was once kept too long (each failed before its
 * fix).  Options are read at load time, so each case runs in a child
 * process started with the environment it needs:
 *
 *   test_return_<heap>            run every case, one child each
 *   test_return_<heap> CASE       run one case in this process
 *
 * Figures come from the heap's own statistics (bytes_mapped, threads), so
 * the checks do not depend on what else the process has resident.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc_api.h"
#include "check.h"
#include "testkit.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define H(name) CAT(HEAP_PREFIX, name)
#define DECLARE_WITH(p) ALLOC_API_DECLARE(p)
DECLARE_WITH(HEAP_PREFIX)
#include "heapstat.h"

#define MIB ((long long)1 << 20)

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Large blocks alone: once freed and unused for ALLOC_DECAY_MS, their
 * cached mappings go back even if the program only ever asks for large
 * blocks again (the decay pass once ran on small slow paths only). */
static void case_large_decay(void) {
  enum { N = 16 };
  void *b[N];
  for (int i = 0; i < N; i++) CHECK((b[i] = H(malloc)(6 * MIB)) != NULL);
  for (int i = 0; i < N; i++) H(free)(b[i]);
  long long held = heap_stat("bytes_mapped");
  sleep_ms(300); /* ALLOC_DECAY_MS=100 */
  for (int i = 0; i < 16; i++) H(free)(H(malloc)(200 << 10)); /* the clock is read every few */
  long long after = heap_stat("bytes_mapped");
  fprintf(stderr, "large decay: %lld MiB mapped after the frees, %lld MiB after decay\n",
          held / MIB, after / MIB);
  CHECK(held >= 64 * MIB);
  CHECK(after < 16 * MIB);
}

/* The large-block cache keeps at most 512 MiB (large.c, CACHE_MAX_BYTES),
 * however the mappings that enter it are sized (it once evicted one per
 * insertion and grew without bound): 612 MiB go in. */
static void case_large_cache_bound(void) {
  enum { NS = 12, NB = 20 };
  void *s[NS], *b[NB];
  for (int i = 0; i < NS; i++) CHECK((s[i] = H(malloc)(1 * MIB)) != NULL);
  for (int i = 0; i < NB; i++) CHECK((b[i] = H(malloc)(30 * MIB)) != NULL);
  for (int i = 0; i < NS; i++) H(free)(s[i]);
  for (int i = 0; i < NB; i++) H(free)(b[i]);
  long long mapped = heap_stat("bytes_mapped");
  fprintf(stderr, "large cache: %lld MiB mapped with nothing live\n", mapped / MIB);
  CHECK(mapped > 0 && mapped <= 520 * MIB);
  H(alloc_validate)(); /* checks the cache's bounds too */
}

/* Address space runs out while freed memory is still mapped: the heap gives
 * back what it can and tries again, instead of failing until decay runs. */
enum { NSMALL = 250000, SSIZE = 1000 };
static void *g_small[NSMALL];
static void case_map_retry(void) {
  void **p = g_small;
  /* Room for the small blocks and their segments (alloc_hybrid's segments
   * keep 6 of 64 pages for their header and live map), not for 200 MiB more. */
  struct rlimit rl = {(rlim_t)(tk_vm_kib() + 340000) * 1024, RLIM_INFINITY};
  CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
  for (int i = 0; i < NSMALL; i++) CHECK((p[i] = H(malloc)(SSIZE)) != NULL);
  for (int i = 0; i < NSMALL; i++) H(free)(p[i]);
  int got = 0;
  while (got < 400 && H(malloc)(1 * MIB)) got++;
  fprintf(stderr, "map retry: %d x 1 MiB after 250 MB of small blocks were freed\n", got);
  CHECK(got >= 200);
}

/* A thread whose first allocation happens in the last round of key
 * destructors gets no destructor call from the heap's key; its heap must
 * still be retired once the thread is gone. */
static pthread_key_t g_late_key;
static void late_destructor(void *v) {
  uintptr_t round = (uintptr_t)v;
  if (round < 4) { /* PTHREAD_DESTRUCTOR_ITERATIONS */
    pthread_setspecific(g_late_key, (void *)(round + 1));
    return;
  }
  void *b = H(malloc)(64);
  CHECK(b != NULL);
  H(free)(b);
}
static void *late_thread(void *arg) {
  pthread_setspecific(g_late_key, (void *)1);
  return arg;
}
static void case_late_thread_heaps(void) {
  CHECK(pthread_key_create(&g_late_key, late_destructor) == 0);
  for (int i = 0; i < 2000; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, late_thread, NULL) == 0);
    pthread_join(t, NULL);
  }
  H(malloc_trim)(0);
  long long threads = heap_stat("threads"), mapped = heap_stat("bytes_mapped");
  fprintf(stderr, "late threads: %lld live heaps, %lld MiB mapped after 2000 threads\n", threads,
          mapped / MIB);
  CHECK(threads >= 0 && threads <= 2);
  CHECK(mapped < 32 * MIB);
}

/* An idle, live thread whose spans' blocks all came home (some freed by
 * itself, the rest by another thread) gives them back on malloc_trim. */
enum { IN = 24 << 10, ISIZE = 1000 };
static void *iblocks[IN];
static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static int idle_stage;
static void *alloc_half_free_idle(void *arg) {
  for (int i = 0; i < IN; i++) CHECK((iblocks[i] = H(malloc)(ISIZE)) != NULL);
  for (int i = 0; i < IN; i += 2) H(free)(iblocks[i]); /* its own half */
  pthread_mutex_lock(&idle_mu);
  idle_stage = 1;
  pthread_cond_broadcast(&idle_cv);
  while (idle_stage != 2) pthread_cond_wait(&idle_cv, &idle_mu);
  pthread_mutex_unlock(&idle_mu);
  return arg;
}
static void case_idle_thread_spans(void) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, alloc_half_free_idle, NULL) == 0);
  pthread_mutex_lock(&idle_mu);
  while (idle_stage != 1) pthread_cond_wait(&idle_cv, &idle_mu);
  pthread_mutex_unlock(&idle_mu);
  long long full = heap_stat("bytes_mapped");
  for (int i = 1; i < IN; i += 2) H(free)(iblocks[i]);
  H(malloc_trim)(0);
  long long after = heap_stat("bytes_mapped");
  fprintf(stderr, "idle thread: %lld MiB mapped with the blocks out, %lld MiB after free + trim\n",
          full / MIB, after / MIB);
  CHECK(full >= 20 * MIB);
  CHECK(after < 8 * MIB);
  pthread_mutex_lock(&idle_mu);
  idle_stage = 2;
  pthread_cond_broadcast(&idle_cv);
  pthread_mutex_unlock(&idle_mu);
  pthread_join(t, NULL);
}

typedef struct test_case {
  const char *name, *env; /* env: NAME=value, or NULL */
  void (*run)(void);
} test_case_t;
static const test_case_t g_cases[] = {
    {"large_decay", "ALLOC_DECAY_MS=100", case_large_decay},
    {"large_cache_bound", "ALLOC_DECAY_MS=600000", case_large_cache_bound},
    {"map_retry", "ALLOC_DECAY_MS=600000", case_map_retry},
    {"late_thread_heaps", NULL, case_late_thread_heaps},
    {"idle_thread_spans", "ALLOC_DECAY_MS=600000", case_idle_thread_spans},
};

/* ASan reserves far more address space than map_retry's limit leaves: that
 * case runs in the plain build only (SANITIZED_BUILD, check.h). */
int main(int argc, char **argv) {
  size_t n = sizeof g_cases / sizeof g_cases[0];
  if (argc > 1) {
    for (size_t i = 0; i < n; i++)
      if (strcmp(argv[1], g_cases[i].name) == 0) {
        g_cases[i].run();
        return UNIT_RESULT();
      }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
  }
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    if (SANITIZED_BUILD && g_cases[i].run == case_map_retry) {
      fprintf(stderr, "not run %s (under ASan; the plain build runs it)\n", g_cases[i].name);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      if (g_cases[i].env) putenv((char *)g_cases[i].env);
      execl("/proc/self/exe", argv[0], g_cases[i].name, (char *)NULL);
      _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    fprintf(stderr, "%s %s\n", ok ? "ok  " : "FAIL", g_cases[i].name);
    bad += !ok;
  }
  return bad != 0;
}
