/*
 * driver.c - how inputs reach fuzz_run_input().
 *
 * Built with afl-clang-fast (which defines __AFL_FUZZ_TESTCASE_LEN) and no
 * arguments: AFL++ persistent mode, test cases in shared memory, a new
 * process every FUZZ_PERSIST (default 10000) inputs.  Otherwise,
 * and in both builds when arguments are given:
 *
 *   fuzz_<heap> [FILE|-]...            run each file (no argument: stdin)
 *   fuzz_<heap> --random COUNT SEED [MAXLEN]
 *                                      run COUNT pseudo-random inputs of 1..MAXLEN
 *                                      (default 512) bytes; the same SEED gives
 *                                      the same inputs on every machine
 *   fuzz_<heap> --write-seeds DIR      write the seed corpus (seeds.c)
 *   fuzz_<heap> --write-dict FILE      write the AFL dictionary (seeds.c)
 *   fuzz_<heap> --list-misuse          each misuse op, "claimed" if the heap
 *                                      claims its class (misuse mode runs it)
 *
 * FUZZ_SAVE_FAIL=DIR in the environment: a failing input is written to
 * DIR/<heap>-<hash>.bin before the abort (for the generated inputs, which
 * exist nowhere else).  FUZZ_VALIDATE_COUNT=0: do not compare validate()'s
 * count with the model (model.h).  FUZZ_THREADS=1: the threaded driver
 * (harness.h).  Success prints one summary line on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testkit.h" /* tk_rand: splitmix64, so a seed gives the inputs it always gave */
#include "misuse.h"
#include "model.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

#define MAX_FILE (1u << 20)

/* FUZZ_THREADS=1: every input goes to the threaded driver (harness.h). */
static size_t (*run_input)(const unsigned char *, size_t) = fuzz_run_input;

static int usage(void) {
  fprintf(stderr, "usage: fuzz_<heap> [FILE|-]... | --random COUNT SEED [MAXLEN] | "
                  "--write-seeds DIR | --write-dict FILE | --list-misuse\n");
  return 2;
}

/* Read up to MAX_FILE bytes of `path` ("-": stdin) into buf; -1 on error. */
static long read_input(const char *path, unsigned char *buf) {
  int fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
  if (fd < 0) return -1;
  size_t n = 0;
  while (n < MAX_FILE) {
    ssize_t r = read(fd, buf + n, MAX_FILE - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { n = (size_t)-1; break; }
    if (r == 0) break;
    n += (size_t)r;
  }
  if (fd) close(fd);
  return (long)n;
}

static int run_files(int argc, char **argv) {
  static unsigned char buf[MAX_FILE];
  static char *stdin_only[] = {"-"};
  char **files = argc ? argv : stdin_only;
  int nfiles = argc ? argc : 1;
  size_t ops = 0;
  for (int i = 0; i < nfiles; i++) {
    long n = read_input(files[i], buf);
    if (n < 0) {
      fprintf(stderr, "fuzz[%s]: cannot read %s: %s\n", fuzz_heap_name, files[i],
              strerror(errno));
      return 1;
    }
    ops += run_input(buf, (size_t)n);
  }
  printf("fuzz[%s]: %d inputs, %zu operations, %lu misuse operations, all checks passed\n",
         fuzz_heap_name, nfiles, ops, misuse_checked);
  return 0;
}


static int run_random(unsigned long count, uint64_t seed, size_t maxlen) {
  static unsigned char buf[MAX_FILE];
  if (maxlen == 0 || maxlen > MAX_FILE) return usage();
  uint64_t st = seed;
  size_t ops = 0;
  for (unsigned long i = 0; i < count; i++) {
    size_t len = 1 + tk_rand(&st) % maxlen;
    for (size_t k = 0; k < len; k += 8) {
      uint64_t r = tk_rand(&st);
      memcpy(buf + k, &r, len - k < 8 ? len - k : 8);
    }
    ops += run_input(buf, len);
  }
  printf("fuzz[%s]: %lu random inputs (seed %llu), %zu operations, %lu misuse operations, "
         "all checks passed\n", fuzz_heap_name, count, (unsigned long long)seed, ops, misuse_checked);
  return 0;
}

int main(int argc, char **argv) {
  fuzz_ctx.save_dir = getenv("FUZZ_SAVE_FAIL");
  const char *vc = getenv("FUZZ_VALIDATE_COUNT");
  fuzz_ctx.skip_validate_count = vc && !strcmp(vc, "0");
  const char *th = getenv("FUZZ_THREADS");
  if (th && !strcmp(th, "1")) run_input = fuzz_run_input_threads;
  else if (th && strcmp(th, "0")) {
    fprintf(stderr, "fuzz[%s]: FUZZ_THREADS=%s: use 0 or 1\n", fuzz_heap_name, th);
    return 2;
  }
#ifdef __AFL_FUZZ_TESTCASE_LEN
  if (argc == 1) {
    __AFL_INIT();
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    /* FUZZ_PERSIST=1 (afl-tmin in run.sh): a fresh process per input, so the
     * heap state left by earlier inputs cannot decide the outcome. */
    const char *pe = getenv("FUZZ_PERSIST");
    unsigned loops = pe && atoi(pe) > 0 ? (unsigned)atoi(pe) : 10000;
    while (__AFL_LOOP(loops)) run_input(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    return 0;
  }
#endif
  if (argc >= 2 && !strcmp(argv[1], "--random")) {
    if (argc < 4 || argc > 5) return usage();
    size_t maxlen = argc == 5 ? strtoul(argv[4], NULL, 0) : 512;
    return run_random(strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0), maxlen);
  }
  if (argc == 2 && !strcmp(argv[1], "--list-misuse")) { /* what misuse mode runs here */
    for (int mu = 0; mu < MISUSE_COUNT; mu++)
      printf("%s %s\n", misuse_names[mu], misuse_claimed((enum fuzz_misuse)mu) ? "claimed" : "-");
    return 0;
  }
  if (argc >= 2 && !strcmp(argv[1], "--write-seeds"))
    return argc == 3 && fuzz_write_seeds(argv[2]) == 0 ? 0 : usage();
  if (argc >= 2 && !strcmp(argv[1], "--write-dict"))
    return argc == 3 && fuzz_write_dict(argv[2]) == 0 ? 0 : usage();
  if (argc >= 2 && argv[1][0] == '-' && argv[1][1]) return usage();
  return run_files(argc - 1, argv + 1);
}
