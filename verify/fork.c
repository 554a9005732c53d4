/*
 * fork.c - fork() while other threads are inside malloc.
 *
 *   fork [-r ROUNDS] [-l SUB]            (default 12 rounds; -l as in vtest.h)
 *
 * Four threads allocate, fill, check and free in a loop (small blocks and
 * some of several MiB, so the heap takes its locks and maps memory), while the
 * main thread forks.  Each child mallocs, reallocs through sizes that need new
 * memory, callocs 64 MiB, starts a thread of its own that allocates, on odd
 * rounds forks a grandchild that allocates too, prints one line and _exit(0).
 * A child that has not exited after 20 s is deadlocked (a lock held by a
 * thread that does not exist in the child): it is killed and the test fails.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vtest.h"

#define WORKERS 4

static atomic_int stop;

static void *churn(void *arg) {
  uint64_t rng = (uint64_t)(intptr_t)arg * 7919 + 1;
  unsigned char *ring[32] = {0};
  size_t len[32] = {0};
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    unsigned i = (unsigned)(vt_rand(&rng) % 32);
    size_t n = vt_rand(&rng) % 64 == 0 ? (1u << 20) + vt_rand(&rng) % (3u << 20) : vt_rand(&rng) % 2048;
    if (ring[i]) {
      if (vt_check(ring[i], len[i], (uint64_t)(uintptr_t)ring[i] ^ len[i]) != (size_t)-1) {
        printf("FAIL fork: a worker's block of %zu bytes changed\n", len[i]);
        exit(1);
      }
      free(ring[i]);
    }
    ring[i] = malloc(n);
    len[i] = ring[i] ? n : 0;
    if (ring[i]) vt_fill(ring[i], n, (uint64_t)(uintptr_t)ring[i] ^ n);
  }
  for (unsigned i = 0; i < 32; i++) free(ring[i]);
  return NULL;
}

/* What a child (or grandchild) does with the heap it inherited. */
static int child_work(int round) {
  enum { N = 500 };
  static void *blk[N];
  unsigned char *g = NULL, *z;
  size_t i, n;
  for (i = 0; i < N; i++) {
    blk[i] = malloc(16 + i * 13);
    if (!blk[i]) return printf("FAIL fork: child %d: malloc(%zu) -> NULL\n", round, 16 + i * 13), 1;
    vt_fill(blk[i], 16 + i * 13, i);
  }
  for (n = 1; n <= (32u << 20); n *= 4) { /* growth that needs new memory */
    unsigned char *q = realloc(g, n);
    if (!q) return printf("FAIL fork: child %d: realloc(%zu) -> NULL\n", round, n), 1;
    if (g && vt_check(q, n / 4, 5) != (size_t)-1) return printf("FAIL fork: child %d: realloc lost data\n", round), 1;
    g = q;
    vt_fill(g, n, 5);
  }
  free(g);
  z = calloc(64, 1u << 20);
  if (!z || z[0] || z[(64u << 20) - 1]) return printf("FAIL fork: child %d: calloc(64 MiB) -> %p\n", round, (void *)z), 1;
  free(z);
  for (i = 0; i < N; i++) {
    if (vt_check(blk[i], 16 + i * 13, i) != (size_t)-1)
      return printf("FAIL fork: child %d: block %zu changed\n", round, i), 1;
    free(blk[i]);
  }
  return 0;
}

static void *child_thread(void *arg) { return (void *)(intptr_t)child_work(*(int *)arg); }

static int wait_child(pid_t pid, const char *who, int round) {
  int status, i;
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (i = 0; i < 2000; i++) { /* 20 s */
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
      printf("FAIL fork: %s of round %d ended with %s %d\n", who, round, WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      return 1;
    }
    nanosleep(&tick, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  printf("FAIL fork: %s of round %d still running after 20 s: deadlocked in the heap\n", who, round);
  return 1;
}

static void run_child(int round) {
  pthread_t t;
  void *tr = NULL;
  /* The parent's workers' blocks are live here too, so count from now. */
  size_t live0 = vt_validate() ? vt_validate()() : 0, live1;
  int rc = child_work(round);
  if (!rc && pthread_create(&t, NULL, child_thread, &round) == 0) {
    pthread_join(t, &tr);
    rc = (int)(intptr_t)tr;
  }
  if (!rc && round % 2) {
    pid_t g;
    fflush(stdout);
    g = fork();
    if (g == 0) _exit(child_work(round));
    rc = g < 0 || wait_child(g, "grandchild", round);
  }
  /* The child freed all it made; one block more for its thread's cached
   * stack (glibc's TLS vector). */
  if (!rc && vt_validate() && ((live1 = vt_validate()()) < live0 || live1 - live0 > 1)) {
    printf("FAIL fork: child %d: alloc_validate counts %zu live blocks at the end, %zu at the start\n", round, live1,
           live0);
    rc = 1;
  }
  printf("child %d: %s\n", round, rc ? "failed" : "ok");
  fflush(stdout);
  _exit(rc);
}

int main(int argc, char **argv) {
  pthread_t th[WORKERS];
  int rounds = 12, r, failed = 0, opt;
  size_t live0, live1;
  struct timespec pause = {0, 30 * 1000 * 1000};
  const char *want = NULL;
  while ((opt = getopt(argc, argv, "r:l:")) != -1) {
    if (opt == 'l') want = optarg;
    else if (opt == 'r') rounds = atoi(optarg);
    else return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (vt_check_owner("fork", "malloc", want)) return 1;
  printf("fork: malloc from %s, %d workers, %d rounds\n", vt_sym_owner("malloc"), WORKERS, rounds);
  live0 = vt_validate() ? vt_validate()() : 0; /* after stdout's buffer exists */
  for (r = 0; r < WORKERS; r++) pthread_create(&th[r], NULL, churn, (void *)(intptr_t)r);
  for (r = 0; r < rounds; r++) {
    pid_t pid;
    void *mine = malloc(100 + (size_t)r * 1000); /* the parent keeps allocating too */
    nanosleep(&pause, NULL);
    fflush(stdout);
    pid = fork();
    if (pid == 0) run_child(r);
    if (pid < 0) {
      printf("FAIL fork: fork() failed in round %d\n", r);
      failed = 1;
      break;
    }
    failed |= wait_child(pid, "child", r);
    free(mine);
    if (failed) break; /* one deadlock says it all; do not wait 20 s more per round */
  }
  atomic_store(&stop, 1);
  for (r = 0; r < WORKERS; r++) pthread_join(th[r], NULL);
  /* The workers freed all they made: the heap's own count agrees (ours),
   * but for one block per worker glibc keeps with each cached thread stack
   * (its TLS vector). */
  if (vt_validate() && ((live1 = vt_validate()()) < live0 || live1 - live0 > WORKERS)) {
    printf("FAIL fork: alloc_validate counts %zu live blocks at the end, %zu at the start (%d workers)\n", live1, live0,
           WORKERS);
    failed = 1;
  }
  if (!failed) printf("ok fork\n");
  return failed;
}
