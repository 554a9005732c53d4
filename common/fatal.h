/* fatal.h - the one way a heap reports a detected error.
 *
 * alloc_fatal() writes exactly one line to stderr,
 *     <heap>: fatal: <check> at 0x<addr>
 * using only write(2), then abort()s.  It never allocates and is safe to call
 * from any state, including with heap locks held.  <check> comes from a fixed
 * set of string literals so tests can match the text: the list in checks.h
 * (ALLOC_FATAL names a check by id), or alloc_unsafe's "validate: ..."
 * literals.  The forms with a second value keep that line as their prefix:
 *     <heap>: fatal: <check> at 0x<addr> (value 0x<value>)
 *     <heap>: fatal: <check> at 0x<addr>: claimed <n>, real <m>
 *
 * Dying: before it writes, the fatal path sets a process-wide flag, and
 * alloc_dying() stays true from then on.  The program's SIGABRT handler may
 * then call malloc or free while the failed heap still holds its locks (a
 * fatal error inside validate, for instance): every heap's SLOW paths test
 * alloc_dying() and, when it is set, serve allocations from the bootstrap
 * arena (so a request larger than what is left of it gets NULL) and leak
 * frees instead of taking a lock.  Fast paths never test it (they take no
 * lock).
 */
#ifndef ALLOC_FATAL_H
#define ALLOC_FATAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks.h"
#include "util.h"

__attribute__((noreturn, cold)) void alloc_fatal(const char *check, const void *addr);
__attribute__((noreturn, cold)) void alloc_fatal2(const char *check, const void *addr,
                                                  uint64_t value);
__attribute__((noreturn, cold)) void alloc_fatal_size(const char *check, const void *addr,
                                                      size_t claimed, size_t real);
#define ALLOC_FATAL(ID, addr) alloc_fatal(alloc_check_name(ALLOC_CHECK_##ID), (addr))

extern HIDDEN int alloc_dying_flag;
static inline bool alloc_dying(void) {
  return __builtin_expect(__atomic_load_n(&alloc_dying_flag, __ATOMIC_RELAXED), 0);
}

/* One line "<heap>: warning: <msg>" (no abort); msg parts are concatenated.
 * A line too long for the buffer is cut, and still ends in a newline. */
void alloc_warn(const char *a, const char *b, const char *c);

/* Write a string to fd without allocating (used by stats and warnings). */
void alloc_write_str(int fd, const char *s);
/* Format an unsigned number into buf (>= 24 bytes) in base 10 or 16;
 * returns buf.  No allocation, no locale. */
char *alloc_fmt_u64(char *buf, unsigned long long v, int base);

#endif
