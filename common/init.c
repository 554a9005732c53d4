/* init.c - process-wide set-up shared by every heap. */
#include <fcntl.h>
#include <pthread.h>
#include <valgrind/memcheck.h>

#include "fatal.h"
#include "heap.h"
#include "options.h"
#include "vg.h"

bool vg_on;

void vg_init(long mode) { vg_on = mode == 2 ? RUNNING_ON_VALGRIND != 0 : mode == 1; }
void vg_alloc_slow(const void *p, size_t n, bool zeroed) {
  if (p) VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, zeroed);
}
void vg_free_slow(const void *p) { VALGRIND_FREELIKE_BLOCK(p, 0); }
void vg_access_slow(const void *p, size_t n, bool open) {
  if (open) VALGRIND_MAKE_MEM_DEFINED(p, n);
  else VALGRIND_MAKE_MEM_NOACCESS(p, n);
}
void vg_quiet_slow(bool on) {
  if (on) VALGRIND_DISABLE_ERROR_REPORTING;
  else VALGRIND_ENABLE_ERROR_REPORTING;
}

size_t vg_requested_slow(const void *p, size_t usable) {
  /* The first no-access byte ends what the block was described with; the
   * check would report it, so it runs with error reporting off. */
  vg_quiet_slow(true);
  uintptr_t bad = VALGRIND_CHECK_MEM_IS_ADDRESSABLE(p, usable);
  vg_quiet_slow(false);
  return bad ? (size_t)(bad - (uintptr_t)p) : usable;
}

void alloc_process_init(void) {
  options_init();
  vg_init(alloc_opt.valgrind);
  /* Locks are taken around fork so the child never inherits one held by a
   * thread that does not exist there. */
  pthread_atfork(heap_fork_prepare, heap_fork_parent, heap_fork_child);
  /* Programs such as coreutils close stderr before exit: keep a private copy
   * of the statistics descriptor so the exit report still arrives. */
  if (alloc_opt.show_stats) {
    int fd = fcntl((int)alloc_opt.stats_fd, F_DUPFD_CLOEXEC, 64);
    if (fd >= 0) alloc_opt.stats_fd = fd;
  }
  if (alloc_opt.verbose) {
    alloc_write_str(2, HEAP_NAME ": initialised\n");
    options_print(2);
    if (vg_on) alloc_write_str(2, HEAP_NAME ": running under valgrind: memcheck hooks on\n");
  }
}
