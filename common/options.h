/* options.h - run-time options, read once from the environment.
 *
 * Every option is an environment variable ALLOC_<NAME>.  Two lists, one
 * struct: the common options below, and each heap's own
 * (alloc_<heap>/heap_options.h, HEAP_OPTION_LIST, same columns, possibly
 * empty); ALLOC_EVERY_OPTION is both.  They produce the struct, the parser,
 * the verbose print-back and the README table's source (a unit test checks
 * the README lists exactly these).  Values are whole numbers in [min, max],
 * or one of the words given (a word stands for its position: off=0, text=1,
 * ...).  A bad value or an unknown ALLOC_ variable gets a one-line warning
 * naming the variable, and the default is kept.  An option of another heap
 * of the suite (the Makefile generates the list of every heap's option
 * names) is named as such by the LD_PRELOAD build, and passed over in
 * silence by the prefixed build, where that heap may be linked into the same
 * program and read it.  Parsing never allocates.
 *
 * flags: OPT_SECURE marks an option that weakens a heap or redirects its
 * output.  In a setuid or setgid process (getauxval(AT_SECURE)) such options
 * are ignored, with one warning naming them.
 *
 *   X(field, NAME, default, min, max, words, flags, help)
 */
#ifndef ALLOC_OPTIONS_H
#define ALLOC_OPTIONS_H

#include <stdbool.h>

#include "heap_options.h"

#define OPT_SECURE 1

#define ALLOC_OPTION_LIST(X)                                                        \
  X(verbose, VERBOSE, 0, 0, 1, "off|on", OPT_SECURE,                               \
    "print the options in force at start-up")                                      \
  X(show_stats, SHOW_STATS, 0, 0, 2, "off|text|json", OPT_SECURE,                  \
    "print statistics to stderr (or ALLOC_STATS_FD) at exit")                      \
  X(stats_fd, STATS_FD, 2, 0, 1023, "", OPT_SECURE,                                \
    "file descriptor statistics are written to")                                   \
  X(decay_ms, DECAY_MS, 1000, 0, 3600000, "", 0,                                    \
    "free memory is given back to the OS after this many ms unused")               \
  X(tcache, TCACHE, 1, 0, 1, "off|on", 0,                                           \
    "per-thread heaps or caches (off: every op takes a lock)")                     \
  X(valgrind, VALGRIND, 2, 0, 2, "off|on|auto", 0,                                  \
    "memcheck client requests: auto = on when running under valgrind")

#define ALLOC_EVERY_OPTION(X) ALLOC_OPTION_LIST(X) HEAP_OPTION_LIST(X)

typedef struct alloc_options {
#define ALLOC_OPTION_FIELD(field, NAME, def, min, max, words, flags, help) long field;
  ALLOC_EVERY_OPTION(ALLOC_OPTION_FIELD)
#undef ALLOC_OPTION_FIELD
} alloc_options_t;

/* The options in force: written by options_init(), read-only once start-up
 * is over, because they live in the sealed page (frozen.h); read freely.
 * (A name for that page's member, not a second object: the compiler then
 * never sees two objects at one address.) */
#include "frozen.h"
#define alloc_opt (alloc_frozen.f.opt)

/* Parse the environment (safe before libc is fully up: reads environ only). */
void options_init(void);
/* The same on a given environment; secure: behave as in a setuid process.
 * (options_init is options_parse(environ, getauxval(AT_SECURE) != 0).) */
void options_parse(char **env, bool secure);
/* Write "ALLOC_NAME=value" lines to fd. */
void options_print(int fd);

#endif
