/* lifecycle.c - start-up state and thread-exit hook (lifecycle.h). */
#include <errno.h>
#include <sched.h>

#include "fatal.h"
#include "heap.h"
#include "lifecycle.h"

int alloc_init_state = ALLOC_INIT_NONE;
static __thread bool tls_initialising;
static pthread_key_t g_key;
static bool g_key_ok;

static void thread_exit_trampoline(void *obj) { heap_thread_exit(obj); }

bool alloc_init(void) {
  int expect = ALLOC_INIT_NONE;
  if (__atomic_compare_exchange_n(&alloc_init_state, &expect, ALLOC_INIT_RUNNING, false,
                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    tls_initialising = true;
    heap_setup();
    alloc_process_init();
    g_key_ok = pthread_key_create(&g_key, thread_exit_trampoline) == 0;
    if (!g_key_ok) alloc_warn("pthread_key_create failed: ", "no per-thread state", " (one shared heap)");
    tls_initialising = false;
    __atomic_store_n(&alloc_init_state, ALLOC_INIT_DONE, __ATOMIC_RELEASE);
    return true;
  }
  if (tls_initialising) return false;
  while (!alloc_ready()) sched_yield();
  return true;
}

bool alloc_thread_hook_ok(void) { return g_key_ok; }

bool alloc_thread_attach(void *obj) { return g_key_ok && pthread_setspecific(g_key, obj) == 0; }

bool thread_life_begin(thread_life_t *l) {
  pthread_mutexattr_t a;
  l->inited = false;
  if (pthread_mutexattr_init(&a)) return false;
  bool ok = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0 &&
            pthread_mutex_init(&l->mu, &a) == 0;
  pthread_mutexattr_destroy(&a);
  if (!ok) return false;
  if (pthread_mutex_lock(&l->mu)) {
    pthread_mutex_destroy(&l->mu);
    return false;
  }
  l->inited = true;
  return true;
}

void thread_life_end(thread_life_t *l) {
  if (!l->inited) return;
  l->inited = false;
  pthread_mutex_unlock(&l->mu);
  pthread_mutex_destroy(&l->mu);
}

bool thread_life_ended(thread_life_t *l) {
  if (!l->inited) return false;
  int r = pthread_mutex_trylock(&l->mu);
  if (r == EBUSY) return false;
  if (r == EOWNERDEAD) pthread_mutex_consistent(&l->mu);
  if (r == 0 || r == EOWNERDEAD) {
    /* Nobody holds it: its owner is gone. */
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_destroy(&l->mu);
    l->inited = false;
    return true;
  }
  return false;
}

void thread_life_reown(thread_life_t *l) {
  if (!l->inited) return;
  thread_life_begin(l); /* the parent's holder id means nothing here */
}
