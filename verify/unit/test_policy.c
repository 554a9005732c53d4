/* test_policy.c - the in-band engine under a test policy (verify/unit/probe).
 *
 * The engine of alloc_unsafe is built again with probe/heap_policy.h, which
 * keeps a 16-byte header per small block, encodes free-list links and checks
 * state on every entry, and counts every hook.  This shows the policy
 * interface is complete enough for a validating heap: every hook is reached,
 * the engine honours the block header (pointers, usable sizes, alignment),
 * links round-trip through encode/decode across threads, and a check that
 * fires ends in the fatal path.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_api.h"
#include "check.h"

ALLOC_API_DECLARE(probe_)
enum { PH_ENCODE, PH_DECODE, PH_PAGE, PH_SCHECK, PH_LCHECK, PH_SALLOC, PH_SFREE, PH_LALLOC,
       PH_LFREE, PH_COLLECT, PH_SEGNEW, PH_SEGFREE, PH_SPANNEW, PH_SPANREL, PH_COUNT };
extern unsigned long probe_calls[PH_COUNT];
static const char *const g_hook_names[PH_COUNT] = {
    "link_encode", "link_decode", "page_of", "small_check", "large_check", "small_alloc",
    "small_free", "large_alloc", "large_free", "collect", "segment_new", "segment_free",
    "span_new", "span_release"};

enum { N = 4000 };
static void *g_blocks[N];

static void *free_half(void *arg) {
  for (int i = 0; i < N; i += 2) probe_free(g_blocks[i]);
  return arg;
}

static void exercise(void) {
  for (int i = 0; i < N; i++) {
    size_t n = (size_t)(i * 37 % 3000) + 1;
    unsigned char *p = probe_malloc(n);
    CHECK(p && (uintptr_t)p % 16 == 0);
    size_t u = probe_malloc_usable_size(p);
    CHECK(u >= n);
    memset(p, (int)(i & 0xff), u); /* the whole usable size: the header is below it */
    g_blocks[i] = p;
  }
  pthread_t t; /* remote frees: links pushed by another thread, collected here */
  pthread_create(&t, NULL, free_half, NULL);
  pthread_join(t, NULL);
  for (int i = 1; i < N; i += 2) {
    unsigned char *p = g_blocks[i];
    size_t u = probe_malloc_usable_size(p);
    for (size_t k = 0; k < u; k++)
      if (p[k] != (unsigned char)(i & 0xff)) {
        CHECK(!"block contents intact");
        break;
      }
    g_blocks[i] = probe_realloc(p, u + 100);
    CHECK(g_blocks[i] != NULL);
  }
  for (int i = 0; i < N; i += 2) CHECK((g_blocks[i] = probe_malloc(48)) != NULL);
  void *a = probe_aligned_alloc(256, 100); /* with a header: served as a large block */
  CHECK(a && (uintptr_t)a % 256 == 0);
  probe_free(a);
  void *big = probe_malloc(1 << 20);
  CHECK(big && probe_malloc_usable_size(big) >= (1 << 20));
  probe_free(big);
  for (int i = 0; i < N; i++) probe_free(g_blocks[i]);
  CHECK(probe_alloc_validate() == 0);
  probe_malloc_trim(0);
}

/* A double free of a small block must reach the policy's check and die
 * with its line. */
static void double_free_dies(void) {
  int fd[2];
  CHECK(pipe(fd) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 2);
    void *p = probe_malloc(40);
    probe_free(p);
    probe_free(p);
    _exit(0);
  }
  close(fd[1]);
  char buf[256] = {0};
  ssize_t n = read(fd[0], buf, sizeof buf - 1);
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(n > 0 && strstr(buf, "alloc_probe: fatal: probe: double free at 0x"));
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

int main(void) {
  exercise();
  for (int k = 0; k < PH_COUNT; k++) {
    if (!probe_calls[k]) fprintf(stderr, "hook %s never called\n", g_hook_names[k]);
    CHECK(probe_calls[k] > 0);
  }
  double_free_dies();
  return UNIT_RESULT();
}
