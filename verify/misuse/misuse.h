/* misuse.h - what a misuse case may use: the state it registers for the reuse
 * probe, and the helpers that keep the compiler from removing a bad access.
 *
 * One case commits exactly one misuse through the real malloc names, then
 * returns; main.c then runs the reuse probe (see there).  A case registers:
 *   live     blocks the program still owns (the heap must not hand them out)
 *   foreign  memory the heap never allocated (stack, .bss, the program's mmap)
 *   planted  an address the program wrote into freed memory
 *   sizes    the request sizes the probe allocates afterwards
 * and returns one of the MR_* results below.
 */
#ifndef MISUSE_H
#define MISUSE_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MR_SURVIVED = 0,  /* the misuse went through: the probe decides */
  MR_ZEROED = 4,    /* a read of freed memory found zeros or poison */
  MR_REFUSED = 6,   /* the heap refused the bad request (the right answer) */
  MR_NA = 77,       /* the API under test is absent */
};

#define SMALL 64
#define LARGE (256u << 10)   /* "large": at least 256 KiB in every heap */

void reg_live(void *p, size_t n);
void reg_foreign(void *p, size_t n);
void reg_planted(void *p, size_t n);
void reg_size(size_t n);           /* up to 3 probe sizes */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* one stdout line */

/* Program-controlled memory: zero-filled, 64-byte aligned, never from malloc. */
char *stack_buf(void);                /* 8 KiB in main's frame */
extern char bss_buf[8192];

/* The compiler must not see through a pointer (so it cannot fold, warn about
 * or drop the access) nor drop a read or write. */
static inline void *hide(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}
static inline void poke(void *p, unsigned char v) { *(volatile unsigned char *)p = v; }
static inline unsigned char peek(const void *p) { return *(const volatile unsigned char *)p; }

#ifdef __cplusplus
}
#endif
#endif
