/* random.h - the per-process secret and a fast per-thread generator.
 *
 * The secret: 256 bits, filled once by random_init() (start-up) from
 * getrandom(2); if that fails (old kernel, seccomp, early boot), from a
 * fallback that still differs per process: the kernel's AT_RANDOM bytes
 * (getauxval), the pid, the clock and ASLR'd addresses of the stack, the
 * code and the heap's data, mixed.  It is never zero.  It lives in the
 * frozen page (frozen.h) and is read-only after start-up.
 *
 * The generator: one 64-bit state per thread (splitmix64), seeded on first
 * use from the secret, the thread, a process-wide counter and the pid.
 * rand_next() is a TLS load, a compare, an add and a mix; it is not
 * cryptographic: use it for slot choice and canaries, and the secret (keyed
 * hashing) where an attacker must not predict values.
 *
 * Fork policy: the child KEEPS the process secret (pointers and headers
 * encoded before fork must still decode in the child), but every thread
 * generator in the child re-seeds on its next use (random_fork_child bumps
 * an epoch), from the child's pid, so parent and child draw different
 * sequences after fork.
 */
#ifndef ALLOC_RANDOM_H
#define ALLOC_RANDOM_H

#include <stdint.h>

#include "frozen.h"
#include "util.h"

/* Fill the secret (once; the first call wins).  Called by alloc_process_init. */
void random_init(void);
/* The fork child's side of the policy above (called by common/init.c). */
void random_fork_child(void);
/* Word i (0..3) of the secret; 0 only before random_init(). */
static inline uint64_t alloc_secret(unsigned i) { return alloc_frozen.f.secret[i & 3]; }

/* Exposed for tests: the fallback alone (never zero), and how the secret
 * was obtained (1 getrandom, 2 fallback, 0 not yet). */
void random_fallback(uint64_t out[4]);
int random_source(void);

typedef struct rand_state {
  uint64_t s;
  uint64_t epoch; /* == g_rand_epoch when seeded for this process */
} rand_state_t;
extern HIDDEN __thread rand_state_t tls_rand;
extern HIDDEN uint64_t rand_epoch;
COLD uint64_t rand_seed_slow(void);

static inline uint64_t rand_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* The next 64 random bits of the calling thread. */
static inline uint64_t rand_next(void) {
  if (unlikely(tls_rand.epoch != __atomic_load_n(&rand_epoch, __ATOMIC_RELAXED)))
    return rand_seed_slow();
  tls_rand.s += 0x9e3779b97f4a7c15ull;
  return rand_mix(tls_rand.s);
}

#endif
