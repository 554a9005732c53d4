/*
 * contract.h - the malloc contract checker: one rule per function, one binary.
 *
 *   contract [-o] [-l SUB] RULE      run one rule (exit 0 pass, 1 fail, 77 N/A)
 *   contract --list                  print the rule names, one per line
 *
 * Each rule is checked the same way on glibc (no preload) and on every heap
 * (LD_PRELOAD): where C and POSIX leave behaviour to the implementation, the
 * contract is what glibc 2.36 does, measured on Debian 12 and written beside
 * the check.  A failed check prints exactly one line:
 *     FAIL <rule>: <call with its inputs> -> <what came back> (want <what>)
 */
#ifndef CONTRACT_H
#define CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "vtest.h"

struct ct_rule {
  const char *name;
  const char *what; /* one line for --list -v and the README */
  int (*run)(void); /* VT_PASS, VT_FAIL or VT_NA (returned via ct_result()) */
};

/* Set by main before a rule runs. */
extern int ct_ours;          /* -o: the heap is one of ours */
extern const char *ct_name;  /* the rule being run */
extern unsigned ct_failures; /* checks failed so far in this rule */

/* Print "FAIL <rule>: <msg>" (the first 40 of them; then only count). */
void ct_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define CT_CHECK(cond, ...)                                                    \
  do {                                                                         \
    if (!(cond)) ct_fail(__VA_ARGS__);                                         \
  } while (0)
static inline int ct_result(void) { return ct_failures ? VT_FAIL : VT_PASS; }

/* Sizes no allocator can satisfy on x86-64 (the largest virtual address space
 * is 2^57 bytes with 5-level paging), each with its name for messages. */
struct ct_huge {
  size_t n;
  const char *name;
};
extern const struct ct_huge ct_huge_sizes[];
extern const size_t ct_huge_count;

/* Write and check the pattern over a block's whole requested size; reports a
 * FAIL naming `what` and the offset.  Returns 1 when intact. */
int ct_fill_check(void *p, size_t n, uint64_t tag, const char *what);
size_t ct_page(void);
int ct_aligned(const void *p, size_t a);

/* The rules, in the files that define them. */
int rule_malloc0(void);
int rule_free_null(void);
int rule_calloc_overflow(void);
int rule_huge(void);
int rule_reallocarray(void);
int rule_realloc_null(void);
int rule_realloc_zero(void);
int rule_posix_memalign(void);
int rule_aligned_alloc(void);
int rule_memalign(void);
int rule_valloc(void);
int rule_pvalloc(void);
int rule_align16(void);
int rule_usable_size(void);
int rule_realloc_contents(void);
int rule_calloc_zero(void);
int rule_no_overlap(void);
int rule_aligned_big(void);
int rule_free_sized(void);
int rule_malloc_trim(void);
int rule_mallinfo2(void);
int rule_suite_api(void);
int rule_object_size(void);
int rule_libc_names(void);
int rule_mallopt(void);

#endif
