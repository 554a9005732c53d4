/* test_heap.c - unit tests of one heap through its prefixed interface
 * (HEAP_PREFIX, e.g. unsafe_): size classes, realloc paths, alignment, the
 * validate walk agreeing with a count of live blocks, cross-thread frees,
 * statistics and mallinfo2 following live bytes, trim giving memory back,
 * sized frees really freeing, small blocks decaying.  Built once per heap. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc_api.h"
#include "check.h"
#include "testkit.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define H(name) CAT(HEAP_PREFIX, name)
#define DECLARE_WITH(p) ALLOC_API_DECLARE(p)
DECLARE_WITH(HEAP_PREFIX)
#include "heapstat.h"
struct mallinfo2 H(mallinfo2)(void);

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) { return tk_rand(&rng); }

static void fill(unsigned char *p, size_t n, unsigned tag) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(tag + i * 7);
}
static int intact(const unsigned char *p, size_t n, unsigned tag) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(tag + i * 7)) return 0;
  return 1;
}

/* Every size up to 1 MiB around class boundaries: usable size covers the
 * request, never shrinks as the request grows, pointers are 16-aligned. */
static void test_sizes(void) {
  size_t prev_usable = 0;
  for (size_t n = 0; n <= (1u << 20); n += n < 2048 ? 1 : n / 61 + 1) {
    unsigned char *p = H(malloc)(n);
    CHECK(p && (uintptr_t)p % 16 == 0);
    size_t u = H(malloc_usable_size)(p);
    CHECK(u >= n && u >= prev_usable);
    prev_usable = u;
    memset(p, 0xee, u);
    H(free)(p);
  }
  CHECK(H(malloc)(SIZE_MAX) == NULL && errno == ENOMEM);
}

static void test_realloc_paths(void) {
  size_t sizes[] = {1, 24, 100, 1000, 5000, 70000, 131072, 131073, 300000, 5u << 20, 40u << 20, 17, 0};
  unsigned char *p = NULL;
  size_t have = 0;
  for (size_t i = 0; sizes[i]; i++) {
    p = H(realloc)(p, sizes[i]);
    CHECK(p != NULL);
    size_t keep = have < sizes[i] ? have : sizes[i];
    CHECK(intact(p, keep, 3));
    fill(p, sizes[i], 3);
    have = sizes[i];
  }
  H(free)(p);
}

static void test_aligned(void) {
  size_t base = H(alloc_validate)();
  /* An aligned request for a class whose cache holds blocks must not lose
   * them (found by the fuzzer: the refill overwrote the cache). */
  void *warm[3];
  for (int i = 0; i < 3; i++) warm[i] = H(malloc)(64);
  for (int i = 0; i < 3; i++) H(free)(warm[i]);
  void *q = H(aligned_alloc)(64, 64);
  CHECK(q && (uintptr_t)q % 64 == 0);
  H(free)(q);
  CHECK(H(alloc_validate)() == base);
  for (size_t a = 32; a <= ((size_t)16 << 20); a <<= 1)
    for (size_t n = 1; n <= ((size_t)1 << 18); n = n * 5 + 3) {
      void *p = H(aligned_alloc)(a, n);
      CHECK(p && (uintptr_t)p % a == 0 && H(malloc_usable_size)(p) >= n);
      memset(p, 1, n);
      H(free)(p);
    }
  CHECK(H(alloc_validate)() == base);
}

/* Random operations on a slot table; validate agrees with the live count. */
static void test_validate(void) {
  enum { SLOTS = 4000 };
  static unsigned char *slot[SLOTS];
  static size_t len[SLOTS];
  size_t base_live = H(alloc_validate)(), live = 0;
  for (int it = 0; it < 200000; it++) {
    unsigned i = (unsigned)(next_rand() % SLOTS);
    size_t n = next_rand() % 100 < 95 ? next_rand() % 600 : next_rand() % 400000;
    if (slot[i]) {
      CHECK(intact(slot[i], len[i], i));
      if (next_rand() & 1) {
        H(free)(slot[i]);
        slot[i] = NULL;
        live--;
        continue;
      }
      unsigned char *q = H(realloc)(slot[i], n + 1);
      CHECK(q && intact(q, (len[i] < n + 1 ? len[i] : n + 1), i));
      slot[i] = q;
      len[i] = n + 1;
      fill(q, n + 1, i);
    } else {
      slot[i] = (next_rand() & 3) ? H(malloc)(n) : H(calloc)(1, n);
      CHECK(slot[i] != NULL);
      len[i] = n;
      fill(slot[i], n, i);
      live++;
    }
    if (it % 20000 == 0) CHECK(H(alloc_validate)() == base_live + live);
  }
  CHECK(H(alloc_validate)() == base_live + live);
  for (unsigned i = 0; i < SLOTS; i++) H(free)(slot[i]), slot[i] = NULL;
  CHECK(H(alloc_validate)() == base_live);
}

/* Blocks made by one thread and freed by another, then validate. */
enum { XN = 50000 };
static void *xblocks[XN];
static void *producer(void *arg) {
  for (int i = 0; i < XN; i++) {
    xblocks[i] = H(malloc)((size_t)(i % 700) + 1);
    fill(xblocks[i], (size_t)(i % 700) + 1, (unsigned)i);
  }
  return arg;
}
static void *consumer(void *arg) {
  for (int i = 0; i < XN; i++) {
    CHECK(intact(xblocks[i], (size_t)(i % 700) + 1, (unsigned)i));
    H(free)(xblocks[i]);
  }
  return arg;
}
static void test_cross_thread(void) {
  size_t base = H(alloc_validate)();
  for (int round = 0; round < 4; round++) {
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, consumer, NULL);
    pthread_join(t, NULL);
  }
  CHECK(H(alloc_validate)() == base);
}


/* Blocks the main thread allocates and short-lived threads free, many
 * rounds: the frees must come back for reuse (to the main thread's heap),
 * so the mapped bytes stop growing after the first rounds.  The freeing
 * threads never allocate, so they have no heap of their own: their frees
 * must still be counted in the statistics. */
enum { RN = 20000, RSIZE = 48 };
static void *rblocks[RN];
static void *free_all(void *arg) {
  for (int i = 0; i < RN; i++) {
    CHECK(intact(rblocks[i], RSIZE, (unsigned)i));
    H(free)(rblocks[i]);
  }
  return arg;
}
static void test_remote_frees_reused(void) {
  long long early = 0;
  for (int round = 0; round < 30; round++) {
    for (int i = 0; i < RN; i++) {
      rblocks[i] = H(malloc)(RSIZE);
      CHECK(rblocks[i] != NULL);
      fill(rblocks[i], RSIZE, (unsigned)i);
    }
    long long frees = heap_stat("frees");
    pthread_t t;
    pthread_create(&t, NULL, free_all, NULL);
    pthread_join(t, NULL);
    CHECK(frees >= 0 && heap_stat("frees") - frees >= RN);
    if (round == 2) early = heap_stat("bytes_mapped");
  }
  long long late = heap_stat("bytes_mapped");
  CHECK(early > 0 && late > 0);
  if (late - early >= (4 << 20))
    fprintf(stderr, "remote frees: bytes_mapped grew from %lld to %lld over 27 rounds\n", early, late);
  CHECK(late - early < (4 << 20));
}

/* A thread allocates 24 MiB and then waits, alive; the main thread frees
 * it all and trims: the memory must go back to the OS even though the
 * thread that allocated it never calls the heap again. */
enum { IN = 24 << 10, ISIZE = 1000 };
static void *iblocks[IN];
static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static int idle_stage;
static void *alloc_then_idle(void *arg) {
  for (int i = 0; i < IN; i++) {
    iblocks[i] = H(malloc)(ISIZE);
    CHECK(iblocks[i] != NULL);
    memset(iblocks[i], 0x5a, ISIZE);
  }
  pthread_mutex_lock(&idle_mu);
  idle_stage = 1;
  pthread_cond_broadcast(&idle_cv);
  while (idle_stage != 2) pthread_cond_wait(&idle_cv, &idle_mu);
  pthread_mutex_unlock(&idle_mu);
  return arg;
}
static void test_idle_thread_memory_returns(void) {
  pthread_t t;
  H(malloc_trim)(0);
  long before = tk_rss_kib();
  pthread_create(&t, NULL, alloc_then_idle, NULL);
  pthread_mutex_lock(&idle_mu);
  while (idle_stage != 1) pthread_cond_wait(&idle_cv, &idle_mu);
  pthread_mutex_unlock(&idle_mu);
  long full = tk_rss_kib();
  for (int i = 0; i < IN; i++) H(free)(iblocks[i]);
  H(malloc_trim)(0);
  long after = tk_rss_kib();
  /* At least half of what the thread's blocks added must be gone. */
  if (full - before < 12 << 10 || (full - after) * 2 < full - before)
    fprintf(stderr, "idle thread: RSS %ld KiB before, %ld with 24 MiB live, %ld after free + trim\n",
            before, full, after);
  CHECK(full - before >= 12 << 10);
  CHECK((full - after) * 2 >= full - before);
  pthread_mutex_lock(&idle_mu);
  idle_stage = 2;
  pthread_cond_broadcast(&idle_cv);
  pthread_mutex_unlock(&idle_mu);
  pthread_join(t, NULL);
}

/* The statistics print as one JSON object; malloc_trim gives back what was
 * freed: it returns 1 and the bytes show it (decommitted or unmapped), and
 * glibc's mallinfo2 figures follow the live bytes up and down. */
static void test_stats_and_trim(void) {
  int fd[2];
  CHECK(pipe(fd) == 0);
  H(alloc_stats_print)(fd[1], 1);
  close(fd[1]);
  char buf[16384];
  ssize_t n = read(fd[0], buf, sizeof buf - 1);
  close(fd[0]);
  buf[n > 0 ? n : 0] = 0;
  CHECK(strncmp(buf, "{\"heap\":\"alloc_", 15) == 0 && strstr(buf, "\"classes\":["));
  CHECK(strstr(buf, "\"bytes_mapped\":") && buf[strlen(buf) - 2] == '}');
  enum { BN = 256, BSIZE = 1 << 16 };
  static void *big[BN];
  struct mallinfo2 m0 = H(mallinfo2)();
  for (int i = 0; i < BN; i++) {
    big[i] = H(malloc)(BSIZE);
    CHECK(big[i] != NULL);
    memset(big[i], 0x33, BSIZE);
  }
  struct mallinfo2 m1 = H(mallinfo2)();
  CHECK(m1.uordblks >= m0.uordblks + (size_t)BN * BSIZE);
  CHECK(m1.arena >= m1.uordblks && m1.arena >= (size_t)BN * BSIZE);
  long long mapped = heap_stat("bytes_mapped"), decommitted = heap_stat("bytes_decommitted");
  long full = tk_rss_kib() - tk_lazyfree_kib();
  for (int i = 0; i < BN; i++) H(free)(big[i]);
  struct mallinfo2 m2 = H(mallinfo2)();
  CHECK(m2.uordblks + (size_t)BN * BSIZE <= m1.uordblks);
  CHECK(m2.fordblks >= (size_t)BN * BSIZE / 2 || m2.arena + (size_t)BN * BSIZE / 2 <= m1.arena);
  int trimmed = H(malloc_trim)(0);
  long long mapped2 = heap_stat("bytes_mapped"), decommitted2 = heap_stat("bytes_decommitted");
  long after = tk_rss_kib() - tk_lazyfree_kib();
  /* 16 MiB came back to the heap: trim must say so and give at least half
   * of it to the OS (madvise or munmap), visibly in the resident set (less
   * what MADV_FREE left there for the kernel to take). */
  if (trimmed != 1 || (decommitted2 - decommitted) + (mapped - mapped2) < BN * BSIZE / 2 ||
      (full - after) * 1024 < BN * BSIZE / 2)
    fprintf(stderr, "trim: returned %d; decommitted %lld -> %lld, mapped %lld -> %lld, RSS %ld -> %ld KiB\n",
            trimmed, decommitted, decommitted2, mapped, mapped2, full, after);
  CHECK(trimmed == 1);
  CHECK((decommitted2 - decommitted) + (mapped - mapped2) >= BN * BSIZE / 2);
  CHECK((full - after) * 1024 >= BN * BSIZE / 2);
}

/* free_sized and free_aligned_sized really free: validate's live count
 * and the live-block statistic come back to where they were, and the
 * memory is reused by the next round instead of growing the heap. */
static void test_free_sized_returns(void) {
  enum { FN = 3000 };
  static void *blk[FN];
  size_t base = H(alloc_validate)();
  long long live0 = heap_stat("live_blocks"), mapped_early = 0;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < FN; i++) {
      size_t n = (size_t)(i % 5 == 4 ? 200000 + i : 16 + (i * 37) % 6000);
      blk[i] = i % 3 == 2 ? H(aligned_alloc)(256, n) : H(malloc)(n);
      CHECK(blk[i] != NULL);
      fill(blk[i], n < 64 ? n : 64, (unsigned)i);
    }
    CHECK(H(alloc_validate)() == base + FN);
    for (int i = 0; i < FN; i++) {
      size_t n = (size_t)(i % 5 == 4 ? 200000 + i : 16 + (i * 37) % 6000);
      if (i % 3 == 2) H(free_aligned_sized)(blk[i], 256, n);
      else H(free_sized)(blk[i], n);
    }
    CHECK(H(alloc_validate)() == base);
    CHECK(heap_stat("live_blocks") == live0);
    if (round == 2) mapped_early = heap_stat("bytes_mapped");
  }
  long long mapped_late = heap_stat("bytes_mapped");
  if (mapped_late - mapped_early >= (8 << 20))
    fprintf(stderr, "free_sized: bytes_mapped grew from %lld to %lld over 17 rounds\n", mapped_early, mapped_late);
  CHECK(mapped_late - mapped_early < (8 << 20));
}

/* A block grown by realloc still takes free_sized with the size asked:
 * sizes near the top of the small classes, where a heap that rounds the
 * growth up could give a large block to a small request (a checking heap
 * then calls the right size wrong and dies). */
static void test_realloc_free_sized(void) {
  for (size_t n = 60000; n < 200000; n += 3001) {
    unsigned char *p = H(malloc)(n);
    CHECK(p != NULL);
    fill(p, 64, (unsigned)n);
    size_t m = n + n / 16 + 1; /* grows by less than a quarter */
    p = H(realloc)(p, m);
    CHECK(p != NULL && H(malloc_usable_size)(p) >= m);
    H(free_sized)(p, m);
  }
}

/* Small blocks decay: after a burst of them is freed and ALLOC_DECAY_MS has
 * passed, the next slow-path call gives their pages back, with no trim.
 * Runs in a child started with a short ALLOC_DECAY_MS (the option is read
 * once, at the heap's start-up). */
enum { DECAY_MS = 40, DN = 128 << 10, DSIZE = 256 }; /* 32 MiB in 256-byte blocks */
static int decay_child(void) {
  static void *blk[DN];
  for (int i = 0; i < DN; i++) {
    blk[i] = H(malloc)(DSIZE);
    CHECK(blk[i] != NULL);
    memset(blk[i], 0x77, DSIZE);
  }
  long full = tk_rss_kib() - tk_lazyfree_kib();
  long long dec0 = heap_stat("bytes_decommitted"), mapped0 = heap_stat("bytes_mapped");
  for (int i = 0; i < DN; i++) H(free)(blk[i]);
  /* Wait past the decay time, calling a slow path (a fresh size class each
   * time, so its first malloc refills) now and then, as a program does. */
  long long dec1 = dec0, mapped1 = mapped0;
  long after = full;
  for (int step = 0; step < 40; step++) {
    struct timespec ts = {0, DECAY_MS * 1000 * 1000 / 2};
    nanosleep(&ts, NULL);
    void *p = H(malloc)((size_t)(1024 + 1024 * (step % 20)));
    H(free)(p);
    dec1 = heap_stat("bytes_decommitted"), mapped1 = heap_stat("bytes_mapped");
    after = tk_rss_kib() - tk_lazyfree_kib();
    if ((dec1 - dec0) + (mapped0 - mapped1) >= (long long)DN * DSIZE * 3 / 4 &&
        (full - after) * 1024 >= (long)DN * DSIZE / 2)
      break;
  }
  if ((dec1 - dec0) + (mapped0 - mapped1) < (long long)DN * DSIZE * 3 / 4 || (full - after) * 1024 < (long)DN * DSIZE / 2)
    fprintf(stderr, "small decay: decommitted %lld -> %lld, mapped %lld -> %lld, RSS %ld -> %ld KiB after %d ms\n",
            dec0, dec1, mapped0, mapped1, full, after, 40 * DECAY_MS / 2);
  CHECK((dec1 - dec0) + (mapped0 - mapped1) >= (long long)DN * DSIZE * 3 / 4);
  CHECK((full - after) * 1024 >= (long)DN * DSIZE / 2);
  return UNIT_RESULT();
}
static void test_small_decay(const char *self) {
  char *argv[] = {(char *)self, (char *)"--decay-child", NULL};
  char env_decay[32];
  snprintf(env_decay, sizeof env_decay, "ALLOC_DECAY_MS=%d", DECAY_MS);
  char *envp[] = {env_decay, NULL};
  pid_t pid;
  int st = 0;
  CHECK(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp) == 0);
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* An owner empties spans that are not its current ones while another thread
 * trims (and so gives back spans whose blocks all came home) and a third
 * takes new spans of the same class.  The owner's emptied-span path once
 * acted on a span the trimming thread had already given back and a third
 * thread had taken: a span left on two heaps' lists, a hang or a fatal
 * validate.  Each round ends with a validate of the owner's own heap. */
enum { RACE_N = 3000, RACE_SIZE = 96, RACE_ROUNDS = 400 };
static void *race_blocks[RACE_N];
static volatile int race_stop;
static void *race_trimmer(void *arg) {
  while (!race_stop) H(malloc_trim)(0);
  return arg;
}
static void *race_taker(void *arg) {
  void *mine[64];
  while (!race_stop) {
    for (int i = 0; i < 64; i++) mine[i] = H(malloc)(RACE_SIZE);
    for (int i = 0; i < 64; i++) H(free)(mine[i]);
    H(malloc_trim)(0);
  }
  return arg;
}
static void test_empty_span_race(void) {
  pthread_t t1, t2;
  race_stop = 0;
  pthread_create(&t1, NULL, race_trimmer, NULL);
  pthread_create(&t2, NULL, race_taker, NULL);
  for (int r = 0; r < RACE_ROUNDS; r++) {
    for (int i = 0; i < RACE_N; i++) race_blocks[i] = H(malloc)(RACE_SIZE);
    for (int i = 0; i < RACE_N; i++) H(free)(race_blocks[i]); /* oldest spans empty first */
  }
  race_stop = 1;
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  H(malloc_trim)(0);
  CHECK(H(alloc_validate)() < 64);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--decay-child") == 0) return decay_child();
  test_sizes();
  test_realloc_paths();
  test_aligned();
  test_validate();
  test_cross_thread();
  test_remote_frees_reused();
  test_idle_thread_memory_returns();
  test_stats_and_trim();
  test_free_sized_returns();
  test_realloc_free_sized();
  test_small_decay(argv[0]);
  test_empty_span_race();
  return UNIT_RESULT();
}
