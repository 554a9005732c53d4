/* random.c - the process secret and the per-thread generators (random.h). */
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "random.h"

__thread rand_state_t tls_rand;
uint64_t rand_epoch = 1; /* tls_rand starts at epoch 0: the first use seeds */
static uint64_t g_seeds; /* threads seeded so far (distinct seeds) */
static int g_source;

int random_source(void) { return __atomic_load_n(&g_source, __ATOMIC_RELAXED); }

void random_fallback(uint64_t out[4]) {
  uint64_t h = 0x6a09e667f3bcc908ull;
  const void *atp = (const void *)getauxval(AT_RANDOM); /* 16 bytes, maybe unaligned */
  uint64_t at[2] = {0, 0};
  if (atp) memcpy(at, atp, sizeof at);
  struct timespec ts = {0, 0}, mono = {0, 0};
  clock_gettime(CLOCK_REALTIME, &ts);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  int local;
  uint64_t in[] = {at[0],
                   at[1],
                   (uint64_t)getpid(),
                   (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
                   (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec,
                   (uint64_t)(uintptr_t)&local,
                   (uint64_t)(uintptr_t)random_fallback,
                   (uint64_t)(uintptr_t)&g_seeds};
  for (unsigned w = 0; w < 4; w++) {
    for (unsigned i = 0; i < ARRAY_LEN(in); i++) h = rand_mix(h ^ in[i] ^ ((uint64_t)w << 56));
    out[w] = h ? h : 0x9e3779b97f4a7c15ull;
  }
}

void random_init(void) {
  if (random_source()) return;
  uint64_t s[4] = {0, 0, 0, 0};
  int source = 1;
  if (getrandom(s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s || !(s[0] | s[1] | s[2] | s[3])) {
    random_fallback(s);
    source = 2;
  }
  for (unsigned i = 0; i < 4; i++) alloc_frozen.f.secret[i] = s[i] ? s[i] : 1;
  __atomic_store_n(&g_source, source, __ATOMIC_RELAXED);
}

uint64_t rand_seed_slow(void) {
  uint64_t n = __atomic_add_fetch(&g_seeds, 1, __ATOMIC_RELAXED);
  uint64_t s = alloc_secret(1) ^ rand_mix(n ^ ((uint64_t)getpid() << 32));
  s = rand_mix(s ^ (uint64_t)(uintptr_t)&tls_rand);
  if (!alloc_secret(0)) { /* before random_init: still differ per process */
    uint64_t f[4];
    random_fallback(f);
    s ^= f[0];
  }
  tls_rand.s = s;
  tls_rand.epoch = __atomic_load_n(&rand_epoch, __ATOMIC_RELAXED);
  return rand_next();
}

void random_fork_child(void) { __atomic_add_fetch(&rand_epoch, 1, __ATOMIC_RELAXED); }
