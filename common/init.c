/* init.c - process-wide set-up shared by every heap. */
#include <fcntl.h>
#include <pthread.h>
#include <valgrind/memcheck.h>

#include "fatal.h"
#include "heap.h"
#include "options.h"
#include "os.h"
#include "random.h"
#include "vg.h"

bool vg_on, vg_running, vg_known_off;

void vg_init(long mode) {
  vg_running = RUNNING_ON_VALGRIND != 0;
  vg_on = mode == 2 ? vg_running : mode == 1;
  vg_known_off = !vg_on;
  if (vg_on && !vg_running)
    alloc_warn("ALLOC_VALGRIND=on but not running under valgrind: ",
               "the memcheck hooks do nothing", "");
}
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

/* Fork: the heap's locks first, the OS layer's (innermost) last; released in
 * the reverse order. */
static void fork_prepare(void) {
  heap_fork_prepare();
  os_fork_prepare();
}
static void fork_parent(void) {
  os_fork_parent();
  heap_fork_parent();
}
static void fork_child(void) {
  os_fork_child();
  random_fork_child();
  heap_fork_child();
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
  random_init();
  vg_init(alloc_opt.valgrind);
  /* Locks are taken around fork so the child never inherits one held by a
   * thread that does not exist there. */
  if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
    alloc_warn("pthread_atfork failed: a fork() while another thread allocates may deadlock "
               "the child", NULL, NULL);
  /* Programs such as coreutils close stderr before exit: keep a private copy
   * of the statistics descriptor so the exit report still arrives. */
  if (alloc_opt.show_stats) {
    int fd = fcntl((int)alloc_opt.stats_fd, F_DUPFD_CLOEXEC, 64);
    if (fd >= 0) alloc_opt.stats_fd = fd;
  }
  /* Start-up is over for the frozen globals: options and secret. */
  frozen_seal();
  if (alloc_opt.verbose) {
    alloc_write_str(2, HEAP_NAME ": initialised\n");
    options_print(2);
    if (vg_on) alloc_write_str(2, HEAP_NAME ": running under valgrind: memcheck hooks on\n");
  }
}
