/* lifecycle.h - a heap's start-up state and its thread-exit hook, written
 * once for every heap.
 *
 * Start-up: alloc_init() runs, exactly once per process, the heap's own
 * heap_setup() and then alloc_process_init() (options, valgrind, fork
 * handlers), and creates the thread key whose destructor is the heap's
 * heap_thread_exit().  A call made re-entrantly from inside that work (the
 * loader, pthread_key_create or an option print allocating) returns false:
 * the caller serves from the bootstrap arena.  Other threads wait for it.
 *
 * Thread exit: alloc_thread_attach(obj) makes heap_thread_exit(obj) run when
 * the calling thread exits.  POSIX runs key destructors in rounds; a thread
 * that first allocates during the last round (another library's destructor
 * calling malloc) gets no destructor call, so a heap cannot rely on it alone:
 * thread_life_t (below) lets another thread find out that such a thread is
 * gone.
 */
#ifndef ALLOC_LIFECYCLE_H
#define ALLOC_LIFECYCLE_H

#include <pthread.h>
#include <stdbool.h>
#include "util.h"

/* What each heap defines (bound at compile time, like heap.h). */
void heap_setup(void);             /* tables, before any block is served */
void heap_thread_exit(void *obj);  /* obj: what the thread attached */

extern HIDDEN int alloc_init_state; /* ALLOC_INIT_* */
enum { ALLOC_INIT_NONE, ALLOC_INIT_RUNNING, ALLOC_INIT_DONE };

static inline bool alloc_ready(void) {
  return __atomic_load_n(&alloc_init_state, __ATOMIC_ACQUIRE) == ALLOC_INIT_DONE;
}
/* true when the heap can serve; false for a re-entrant call during start-up. */
bool alloc_init(void);
/* Run heap_thread_exit(obj) at the calling thread's exit.  false when the
 * thread key could not be created (warned once at start-up): the heap must
 * then not give threads state that only the destructor would release. */
bool alloc_thread_attach(void *obj);
bool alloc_thread_hook_ok(void);

/* Liveness of the thread that began it, seen from any thread: a robust mutex
 * the owner holds for its life.  thread_life_ended() is true once that thread
 * has exited without thread_life_end() (the kernel marks the mutex), and
 * never while it runs.  Cost: one lock at begin, one unlock at end, one
 * trylock per question. */
typedef struct thread_life {
  pthread_mutex_t mu;
  bool inited;
} thread_life_t;
bool thread_life_begin(thread_life_t *l);  /* false: not supported, no tracking */
void thread_life_end(thread_life_t *l);    /* the owner, before it exits */
bool thread_life_ended(thread_life_t *l);  /* any other thread */
/* In a fork child: the calling thread (the only one) owns l again. */
void thread_life_reown(thread_life_t *l);

#endif
