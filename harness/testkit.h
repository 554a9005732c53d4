/*
 * testkit.h - the little every harness (verify/, bench/, fuzz/) shares, so
 * there is one of each: the pseudo-random generator and the RSS readers.
 *
 * Harness code only: the heaps never include it (they see nothing of the
 * harnesses), which is why it lives here and not in common/.  C and C++.
 * Included as "testkit.h" (the Makefile puts -Iharness in HARNESS_CFLAGS,
 * UNIT_CFLAGS and the C++ harness flags).
 */
#ifndef HARNESS_TESTKIT_H
#define HARNESS_TESTKIT_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

/* splitmix64: small, fixed, the same everywhere; any seed (0 too) is good.
 * The fuzz driver's --random inputs and the bench workloads depend on this
 * exact sequence: changing it changes what they run. */
static inline uint64_t tk_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Field `field` (0: address space, 1: resident) of /proc/self/statm, in
 * KiB, or -1.  Reads with open and read, not stdio, so measuring memory
 * allocates none from the heap under test. */
static inline long tk_statm_kib(int field) {
  char buf[128];
  long v = 0;
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char *p = buf;
  for (int f = 0; f < field; f++) { /* skip the fields before */
    while (*p && *p != ' ') p++;
    if (*p == ' ') p++;
  }
  if (*p < '0' || *p > '9') return -1;
  for (; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
  return v * (sysconf(_SC_PAGESIZE) / 1024);
}
/* Resident set now, in KiB, or -1. */
static inline long tk_rss_kib(void) { return tk_statm_kib(1); }
/* Address space mapped now, in KiB, or -1. */
static inline long tk_vm_kib(void) { return tk_statm_kib(0); }

/* Resident memory given back with MADV_FREE but not yet taken by the kernel
 * (LazyFree in /proc/self/smaps_rollup), in KiB, or 0.  It still counts in
 * the RSS, so a test that wants "resident and still the heap's" subtracts
 * it: then a heap that gives pages back with MADV_FREE passes as one that
 * uses MADV_DONTNEED does. */
static inline long tk_lazyfree_kib(void) {
  char buf[4096];
  int fd = open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  for (const char *p = buf; *p; p++) {
    if ((p == buf || p[-1] == '\n') && __builtin_strncmp(p, "LazyFree:", 9) == 0) {
      long v = 0;
      for (p += 9; *p == ' '; p++) {
      }
      for (; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
      return v;
    }
  }
  return 0;
}

/* Peak resident set of the process so far, in KiB (ru_maxrss). */
static inline long tk_peak_rss_kib(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return ru.ru_maxrss;
}

#endif
