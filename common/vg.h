/* vg.h - tell valgrind's memcheck about the blocks a heap hands out.
 *
 * memcheck only sees a custom heap through client requests.  Each hook below
 * is one load and a predicted-not-taken branch outside valgrind: vg_on is set
 * once, at initialisation, from RUNNING_ON_VALGRIND.
 *
 * Who calls what:
 *  - the override layer (override.c) describes every block handed out and taken
 *    back (vg_alloc / vg_free); realloc under valgrind always moves, so memcheck
 *    never has to be told a block's old requested size;
 *  - a heap brackets its own reads and writes of in-band bytes inside free
 *    blocks (free-list links) with vg_open / vg_close, and marks fresh slab
 *    memory no-access (vg_close) so an overflow into it is reported.
 * Run memcheck with --soname-synonyms=somalloc=nouserintercepts, or valgrind
 * replaces the heap with its own.
 */
#ifndef ALLOC_VG_H
#define ALLOC_VG_H

#include <stddef.h>

#include "util.h"

extern HIDDEN bool vg_on;
/* Set once vg_init has decided the hooks are off: until then (the first
 * allocations, before the heap initialises) the override takes its slow,
 * hooked paths, which look at vg_on after the heap has answered. */
extern HIDDEN bool vg_known_off;
/* Running under valgrind (whatever ALLOC_VALGRIND says): a heap whose fast
 * paths have no hooks sends every thread to its slow paths only then. */
extern HIDDEN bool vg_running;

/* mode: 0 off, 1 on, 2 auto (on under valgrind).  Off lets callgrind count
 * the heap's native instructions. */
void vg_init(long mode);

/* The client requests themselves, out of line so the fast paths that call
 * the hooks below need no stack frame. */
COLD void vg_alloc_slow(const void *p, size_t n, bool zeroed);
COLD void vg_free_slow(const void *p);
COLD void vg_access_slow(const void *p, size_t n, bool open);
COLD void vg_quiet_slow(bool on);
COLD size_t vg_requested_slow(const void *p, size_t usable);

static ALWAYS_INLINE void vg_alloc(const void *p, size_t n, bool zeroed) {
  if (unlikely(vg_on)) vg_alloc_slow(p, n, zeroed);
}
static ALWAYS_INLINE void vg_free(const void *p) {
  if (unlikely(vg_on)) vg_free_slow(p);
}
/* The heap is about to touch n in-band bytes at p that the program must not. */
static ALWAYS_INLINE void vg_open(const void *p, size_t n) {
  if (unlikely(vg_on)) vg_access_slow(p, n, true);
}
/* ... and is done with them: any access by the program is an error again. */
static ALWAYS_INLINE void vg_close(const void *p, size_t n) {
  if (unlikely(vg_on)) vg_access_slow(p, n, false);
}
/* How many of a live block's `usable` bytes the program asked for: under
 * memcheck the rest (slack) is no-access, so a copy that stops here never
 * turns slack into bytes that look written.  Outside valgrind: usable. */
static ALWAYS_INLINE size_t vg_requested(const void *p, size_t usable) {
  return unlikely(vg_on) ? vg_requested_slow(p, usable) : usable;
}

#endif
