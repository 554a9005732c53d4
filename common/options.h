/* options.h - run-time options, read once from the environment.
 *
 * Every option is an environment variable ALLOC_<NAME>.  The list below is
 * the only list: it produces the struct, the parser, the verbose print-back
 * and the README table's source.  Values are whole numbers in [min, max], or
 * one of the words given (a word stands for its position: off=0, text=1, ...).
 * A bad value or an unknown ALLOC_ variable gets a one-line warning naming the
 * variable, and the default is kept.  Parsing never allocates.
 *
 *   X(field, NAME, default, min, max, words, help)
 */
#ifndef ALLOC_OPTIONS_H
#define ALLOC_OPTIONS_H

#define ALLOC_OPTION_LIST(X)                                                        \
  X(verbose, VERBOSE, 0, 0, 1, "off|on",                                           \
    "print the options in force at start-up")                                      \
  X(show_stats, SHOW_STATS, 0, 0, 2, "off|text|json",                              \
    "print statistics to stderr (or ALLOC_STATS_FD) at exit")                      \
  X(stats_fd, STATS_FD, 2, 0, 1023, "", "file descriptor statistics are written to") \
  X(decay_ms, DECAY_MS, 1000, 0, 3600000, "",                                       \
    "free memory is given back to the OS after this many ms unused")               \
  X(tcache, TCACHE, 1, 0, 1, "off|on", "per-thread heaps or caches (off: every op takes a lock)") \
  X(valgrind, VALGRIND, 2, 0, 2, "off|on|auto",                                     \
    "memcheck client requests: auto = on when running under valgrind")

typedef struct alloc_options {
#define ALLOC_OPTION_FIELD(field, NAME, def, min, max, words, help) long field;
  ALLOC_OPTION_LIST(ALLOC_OPTION_FIELD)
#undef ALLOC_OPTION_FIELD
} alloc_options_t;

/* Written by options_init(), read-only once start-up is over (it is the
 * first member of the sealed page, frozen.h); read freely. */
extern alloc_options_t alloc_opt;

/* Parse the environment (safe before libc is fully up: reads environ only). */
void options_init(void);
/* Write "ALLOC_NAME=value" lines to fd. */
void options_print(int fd);

#endif
