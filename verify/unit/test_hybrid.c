/* test_hybrid.c - one case per check of alloc_hybrid (alloc_hybrid/heap_policy.h),
 * through its prefixed build.  Each case commits one misuse in a child and
 * expects SIGABRT with the check's line; a build with that check compiled
 * out (-DHYB_OFF_<CHECK>=1, see the header) fails its case, which is how the
 * ablation in the cost table was checked.
 *
 *   test_hybrid            every case
 *   test_hybrid CASE       one case, in this process (dies if it is caught)
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_api.h"
#include "check.h"

ALLOC_API_DECLARE(hybrid_)

static void *volatile sink;
static char g_planted[256];
static void *launder(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}

static void c_wild(void) { hybrid_free(launder((void *)0x1000)); }
static void c_foreign(void) {
  char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(m, 0xff, 4096); /* a forged header in front */
  hybrid_free(launder(m + 4096));
}
static void c_misaligned(void) { hybrid_free(launder((char *)hybrid_malloc(64) + 1)); }
static void c_interior(void) { hybrid_free(launder((char *)hybrid_malloc(64) + 16)); }
/* Off a granule by 8: the live map has one byte for the granule, so only
 * the alignment test (the fast path's rotated grain number, the slow path's
 * p % 16) keeps p + 8 from being taken for p. */
static void c_misaligned8(void) { hybrid_free(launder((char *)hybrid_malloc(64) + 8)); }
/* An address in the pages that hold the live map (pages 1 to 5 of the
 * block's segment) is no block (check_head_pages shows no span is there). */
static void c_map_page(void) {
  uintptr_t seg = (uintptr_t)hybrid_malloc(64) & ~(uintptr_t)((4u << 20) - 1);
  hybrid_free(launder((void *)(seg + (128u << 10))));
}
static void c_double_small(void) {
  void *p = hybrid_malloc(64);
  hybrid_free(p);
  hybrid_free(launder(p));
}
/* A class no other case uses, carved 4 blocks at a time: after 4 mallocs its
 * span's free list is empty, so the next malloc refills from the blocks
 * freed locally - p alone.  The reuse delay keeps p back. */
static void c_stale_after_reuse(void) {
  enum { SZ = 24 << 10 };
  void *a = hybrid_malloc(SZ), *b = hybrid_malloc(SZ), *c = hybrid_malloc(SZ), *p = hybrid_malloc(SZ);
  sink = a, sink = b, sink = c;
  hybrid_free(p);
  void *q = hybrid_malloc(SZ); /* must not be p */
  sink = q;
  hybrid_free(launder(p));
}
/* The large cache hands the mapping freed last out again, but not at its
 * block's address: q's block is at twice p's offset, so the stale free of p
 * is not q's free (p is inside q's mapping, not its block).  q is a page
 * smaller, so the mapping holds it at that offset without growing (grown,
 * it might move, and p would be no mapping of ours: caught, but another
 * line). */
static void c_stale_large(void) {
  void *p = hybrid_malloc(300 << 10);
  hybrid_free(p);
  void *q = hybrid_malloc((300 << 10) - 4096);
  CHECK(q != p);
  sink = q;
  hybrid_free(launder(p));
}
/* An aligned large block is cached with its offset: the second free still
 * finds it at header + offset, freed. */
static void c_double_large_aligned(void) {
  void *p = hybrid_aligned_alloc(1 << 20, 300 << 10);
  hybrid_free(p);
  hybrid_free(launder(p));
}
static void c_double_large(void) {
  void *p = hybrid_malloc(300 << 10);
  hybrid_free(p);
  hybrid_free(launder(p));
}
static void c_large_header(void) {
  char *p = hybrid_malloc(300 << 10);
  memset(p - 4096, 0x41, 64); /* the header page in front of the block */
  hybrid_free(launder(p));
}
static void c_large_interior(void) { hybrid_free(launder((char *)hybrid_malloc(300 << 10) + 4096)); }
static void c_link(void) {
  void *a = hybrid_malloc(48), *b = hybrid_malloc(48);
  hybrid_free(a);
  hybrid_free(b);
  *(void **)launder(b) = (void *)&g_planted; /* a planted address */
  *(void **)launder(a) = (void *)&g_planted;
  for (int i = 0; i < 10000; i++) sink = hybrid_malloc(48);
}
static void c_size(void) { hybrid_free_sized(launder(hybrid_malloc(32)), 4096); }
static void c_realloc_freed(void) {
  void *p = hybrid_malloc(64);
  hybrid_free(p);
  sink = hybrid_realloc(launder(p), 128);
}
static void c_usable_interior(void) {
  sink = (void *)(uintptr_t)hybrid_malloc_usable_size(launder((char *)hybrid_malloc(64) + 32));
}
static void c_remote_double(void); /* below */
static void c_remote_misaligned(void);

typedef struct hcase {
  const char *name, *line; /* the fatal line's check text */
  void (*run)(void);
} hcase_t;
static const hcase_t g_cases[] = {
    {"wild", "invalid free (not from this heap)", c_wild},
    {"foreign_forged", "invalid free (not from this heap)", c_foreign},
    {"misaligned", "invalid free (interior pointer)", c_misaligned},
    {"interior", "invalid free (interior pointer)", c_interior},
    {"misaligned8", "invalid free (interior pointer)", c_misaligned8},
    {"map_page", "invalid free (interior pointer)", c_map_page},
    {"double_small", "double free (small)", c_double_small},
    {"stale_after_reuse", "double free (small)", c_stale_after_reuse},
    {"double_large", "double free (large)", c_double_large},
    {"double_large_aligned", "double free (large)", c_double_large_aligned},
    {"stale_large", "invalid free (interior pointer)", c_stale_large},
    {"large_header", "corrupted block header", c_large_header},
    {"large_interior", "invalid free (interior pointer)", c_large_interior},
    {"link_poison", "corrupted free-list link", c_link},
    {"size_mismatch", "free_sized: wrong size", c_size},
    {"realloc_freed", "invalid realloc (not a live block)", c_realloc_freed},
    {"usable_interior", "invalid malloc_usable_size (not a live block)", c_usable_interior},
    {"remote_double", "double free (small)", c_remote_double},
    {"remote_misaligned", "invalid free (interior pointer)", c_remote_misaligned},
};

#include <pthread.h>
static void *free_it(void *p) {
  hybrid_free(p);
  return NULL;
}
/* Freed twice by a thread that does not own the block: the second free
 * finds the block's byte 0. */
static void c_remote_double(void) {
  void *p = hybrid_malloc(64);
  pthread_t t;
  pthread_create(&t, NULL, free_it, p);
  pthread_join(t, NULL);
  pthread_create(&t, NULL, free_it, launder(p));
  pthread_join(t, NULL);
}
/* Another thread's free of a pointer 8 bytes into a live block (the grain
 * test turns it away before the remote path looks at the map). */
static void c_remote_misaligned(void) {
  pthread_t t;
  pthread_create(&t, NULL, free_it, launder((char *)hybrid_malloc(64) + 8));
  pthread_join(t, NULL);
}

static int run_case(const hcase_t *c, const char *self) {
  int fd[2];
  if (pipe(fd)) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 2);
    execl(self, self, c->name, (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  char buf[512] = {0};
  size_t got = 0;
  for (ssize_t n; got < sizeof buf - 1 && (n = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0;)
    got += (size_t)n;
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  char want[160];
  snprintf(want, sizeof want, "alloc_hybrid: fatal: %s at 0x", c->line);
  int ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, want);
  fprintf(stderr, "%s %-18s %s", ok ? "ok  " : "FAIL", c->name, got ? buf : "(no message)\n");
  if (got && buf[got - 1] != '\n') fputc('\n', stderr);
  return ok;
}

/* No small block of any class lies in a segment's first 6 pages (64 KiB
 * each): page 0 is the header, 1 to 5 the live map. */
static void check_head_pages(void) {
  enum { N = 3000 };
  static void *p[N];
  for (int i = 0; i < N; i++) {
    p[i] = hybrid_malloc((size_t)16 << (i % 14)); /* 16 B .. 128 KiB */
    CHECK(p[i] != NULL && ((uintptr_t)p[i] & ((4u << 20) - 1)) >= 6u * (64u << 10));
  }
  for (int i = 0; i < N; i++) hybrid_free(p[i]);
}

int main(int argc, char **argv) {
  size_t n = sizeof g_cases / sizeof g_cases[0];
  if (argc > 1) {
    for (size_t i = 0; i < n; i++)
      if (strcmp(argv[1], g_cases[i].name) == 0) {
        g_cases[i].run();
        return 0; /* not caught */
      }
    return 2;
  }
  for (size_t i = 0; i < n; i++) CHECK(run_case(&g_cases[i], "/proc/self/exe"));
  check_head_pages();
  /* The heap still works for a program that misuses nothing. */
  for (int i = 0; i < 1000; i++) hybrid_free(hybrid_malloc((size_t)i * 13));
  CHECK(hybrid_alloc_validate() == 0);
  return UNIT_RESULT();
}
