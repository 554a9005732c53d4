/* fatal.h - the one way a heap reports a detected error.
 *
 * alloc_fatal() writes exactly one line to stderr,
 *     <heap>: fatal: <check> at 0x<addr>
 * using only write(2), then abort()s.  It never allocates and is safe to call
 * from any state, including with heap locks held.  <check> comes from a fixed
 * set of string literals so tests can match the text. */
#ifndef ALLOC_FATAL_H
#define ALLOC_FATAL_H

__attribute__((noreturn, cold)) void alloc_fatal(const char *check, const void *addr);

/* One line "<heap>: warning: <msg>" (no abort); msg parts are concatenated. */
void alloc_warn(const char *a, const char *b, const char *c);

/* Write a string to fd without allocating (used by stats and warnings). */
void alloc_write_str(int fd, const char *s);
/* Format an unsigned number into buf (>= 24 bytes) in base 10 or 16;
 * returns buf.  No allocation, no locale. */
char *alloc_fmt_u64(char *buf, unsigned long long v, int base);

#endif
