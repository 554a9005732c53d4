/* cases_ptr.c - invalid pointers given to free, realloc and malloc_usable_size:
 * one maker per pointer kind (cases.h BAD_PTRS), three uses of each. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cases.h"
#include "misuse.h"

#define REGION (64u << 10)

static char *own_map(int prot) {
  char *m = mmap(NULL, REGION, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    say("harness: mmap failed");
    exit(2);
  }
  reg_foreign(m, REGION);
  return m;
}

static char *live(size_t n) {
  char *p = malloc(n);
  reg_live(p, n);
  reg_size(n);
  return p;
}

/* The bad pointer of one kind; registers what the probe must watch. */
static void *bad_ptr(const char *kind) {
  char *p, *m;
  if (!strcmp(kind, "int1_small")) return live(SMALL) + 1;
  if (!strcmp(kind, "int16_small")) return live(SMALL) + 16;
  if (!strcmp(kind, "int1_large")) return live(LARGE) + 1;
  if (!strcmp(kind, "int16_large")) return live(LARGE) + 16;
  if (!strcmp(kind, "int4096_large")) return live(LARGE) + 4096;
  reg_size(SMALL);
  if (!strcmp(kind, "one")) return (void *)1;
  if (!strcmp(kind, "unmapped")) {
    m = own_map(PROT_READ | PROT_WRITE);
    munmap(m, REGION);
    return m;
  }
  if (!strcmp(kind, "far")) return live(SMALL) + (1ul << 30);
  if (!strcmp(kind, "stack")) return stack_buf() + 4096;
  if (!strcmp(kind, "bss")) return bss_buf + 4096;
  if (!strcmp(kind, "mmap_none")) return own_map(PROT_NONE) + 4096;
  if (!strcmp(kind, "mmap_rw")) return own_map(PROT_READ | PROT_WRITE) + 4096;
  if (!strcmp(kind, "mmap_forged")) {
    /* A header as a boundary-tag heap would read it: previous size 0, this
     * chunk 48 bytes with the "previous in use" bit; and the probe asks for
     * the 40 bytes such a chunk would serve. */
    m = own_map(PROT_READ | PROT_WRITE);
    p = m + 4096;
    ((size_t *)p)[-2] = 0;
    ((size_t *)p)[-1] = 0x31;
    ((size_t *)p)[4] = 0x31;   /* and a plausible next chunk */
    reg_size(40);
    return p;
  }
  if (!strcmp(kind, "freed")) {
    p = malloc(SMALL);
    free(hide(p));
    return p;
  }
  say("harness: unknown pointer kind %s", kind);
  exit(2);
}

static int do_free(const char *kind) {
  void *p = hide(bad_ptr(kind));
  free(p);
  return MR_SURVIVED;
}

static int do_realloc(const char *kind) {
  void *p = hide(bad_ptr(kind));
  void *r = realloc(p, 64);
  say("realloc returned %p", r);
  if (r) reg_live(r, 64);
  return MR_SURVIVED;
}

static int do_usable(const char *kind) {
  void *p = hide(bad_ptr(kind));
  size_t n = malloc_usable_size(p);
  say("malloc_usable_size returned %zu", n);
  return MR_SURVIVED;
}

#define DEF(X, k, c, w) \
  int misuse_free_##k(void);    int misuse_free_##k(void) { return do_free(#k); }       \
  int misuse_realloc_##k(void); int misuse_realloc_##k(void) { return do_realloc(#k); } \
  int misuse_usable_##k(void);  int misuse_usable_##k(void) { return do_usable(#k); }
BAD_PTRS(DEF, _)

int misuse_realloc_freed(void);
int misuse_realloc_freed(void) { return do_realloc("freed"); }
int misuse_usable_freed(void);
int misuse_usable_freed(void) { return do_usable("freed"); }
