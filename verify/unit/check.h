/* check.h - the unit tests' one assertion: prints the failed expression with
 * its file and line and counts it; main returns the count's verdict. */
#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H
#include <stdio.h>

static int unit_failures;
#define CHECK(c)                                                          \
  do {                                                                    \
    if (!(c)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
      unit_failures++;                                                    \
    }                                                                     \
  } while (0)
/* 1 in an ASan build: a test leaves out, with a line saying so, what ASan
 * cannot run (a child preloading a plain library in front of its runtime,
 * an address-space limit its own reservations exceed). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED_BUILD 1
#else
#define SANITIZED_BUILD 0
#endif
#define UNIT_RESULT() (unit_failures ? (fprintf(stderr, "%d checks failed\n", unit_failures), 1) : 0)
#endif
