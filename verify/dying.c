/* dying.c - a fatal error while the heap holds its locks, then a SIGABRT
 * handler that allocates: the handler must get memory and the process must
 * die of SIGABRT, not hang (common/fatal.h, "Dying").
 *
 *   dying            run under LD_PRELOAD of one of our heaps
 *
 * The child corrupts a free block's link (a write after free) and calls
 * alloc_validate, which takes every heap lock and ends in the fatal path.
 * Its SIGABRT handler then mallocs and frees small, aligned and large blocks
 * and callocs a large one (slow paths that take locks; the large ones may
 * come back NULL, the small ones must not), says so, and dies of
 * SIGABRT.  The parent waits at most 20 s.  Exit 0 pass, 1 fail, 77 N/A.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vtest.h"

static void on_abort(int sig) {
  static const size_t sizes[] = {3000, 20000, 100, 70000};
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *p = malloc(vt_opaque(sizes[i]));
    if (!p) _exit(3);
    memset(p, 1, sizes[i]);
    free(p);
  }
  void *r = aligned_alloc(4096, vt_opaque(8192));
  if (!r) _exit(4);
  free(r);
  /* Large blocks: the dying heap may say NULL, but must not hang. */
  free(malloc(vt_opaque(2u << 20)));
  free(calloc(1, vt_opaque(5u << 20)));
  static const char msg[] = "dying: the SIGABRT handler allocated\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(5);
  /* Returning lets abort() go on: it restores the default action and raises
   * SIGABRT again. */
}

int main(void) {
  vt_validate_fn validate = vt_validate();
  if (!validate) {
    printf("N/A dying: no alloc_validate (not one of our heaps)\n");
    return VT_NA;
  }
  int ep[2];
  if (pipe(ep)) return VT_FAIL;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(ep[1], 2);
    signal(SIGABRT, on_abort);
    void *keep = malloc(vt_opaque(48)), *b = malloc(vt_opaque(48));
    vt_escape(keep);
    free(b);
    memset(b, 0x41, 16); /* the free list's link now points nowhere */
    validate();
    _exit(7); /* validate did not notice */
  }
  close(ep[1]);
  char buf[4096];
  size_t got = 0;
  ssize_t n;
  alarm(20); /* a hang: read is interrupted below by SIGALRM's default kill */
  while (got < sizeof buf - 1 && (n = read(ep[0], buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)n;
  buf[got] = 0;
  int st;
  waitpid(pid, &st, 0);
  alarm(0);
  printf("child stderr:\n%s", buf);
  int ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, ": fatal: ") &&
           strstr(buf, "dying: the SIGABRT handler allocated");
  if (!ok) printf("FAIL dying: child status 0x%x (want killed by SIGABRT after the handler allocated)\n", st);
  return ok ? VT_PASS : VT_FAIL;
}
