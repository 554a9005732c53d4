/*
 * contract.c - driver of the contract checker: options, the rule table, the
 * one-line failure report, and the heap's own validate walk after each rule.
 * The rules live in contract_edge.c (edge cases of each entry point) and
 * contract_blocks.c (properties of the blocks handed out).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"

int ct_ours;
const char *ct_name = "?";
unsigned ct_failures;

#define CT_MAX_LINES 40

static const struct ct_rule rules[] = {
    {"malloc0", "malloc(0) returns unique, aligned, freeable pointers", rule_malloc0},
    {"free_null", "free(NULL) is a no-op; free never changes errno", rule_free_null},
    {"calloc_overflow", "calloc with nmemb*size overflowing -> NULL, ENOMEM", rule_calloc_overflow},
    {"huge", "every entry point, huge sizes -> NULL, ENOMEM, old block intact", rule_huge},
    {"reallocarray", "reallocarray overflow, growth, NULL and zero cases", rule_reallocarray},
    {"realloc_null", "realloc(NULL, n) behaves as malloc(n)", rule_realloc_null},
    {"realloc_zero", "realloc(p, 0) frees p and returns NULL (glibc)", rule_realloc_zero},
    {"posix_memalign", "EINVAL/ENOMEM rules; errno never changed", rule_posix_memalign},
    {"aligned_alloc", "glibc 2.36 alignment rules of aligned_alloc", rule_aligned_alloc},
    {"memalign", "glibc 2.36 alignment rules of memalign", rule_memalign},
    {"valloc", "valloc is page-aligned", rule_valloc},
    {"pvalloc", "pvalloc is page-aligned, usable size page-rounded", rule_pvalloc},
    {"align16", "every pointer 16-aligned, sizes 0..1024, 2^k+-1 .. 4 MiB", rule_align16},
    {"usable_size", "malloc_usable_size >= request; whole usable size writable", rule_usable_size},
    {"realloc_contents", "contents kept across realloc growth/shrink, 1 B..16 MiB", rule_realloc_contents},
    {"calloc_zero", "calloc memory is zero, also when reusing dirty blocks", rule_calloc_zero},
    {"no_overlap", "random alloc/free/realloc: patterns intact, no overlap", rule_no_overlap},
    {"aligned_big", "aligned allocations, alignments 16 B..1 MiB", rule_aligned_big},
    {"free_sized", "C23 free_sized / free_aligned_sized (ours: required)", rule_free_sized},
    {"malloc_trim", "malloc_trim returns 0/1, live blocks intact", rule_malloc_trim},
    {"mallinfo2", "mallinfo2 callable, consistent", rule_mallinfo2},
    {"suite_api", "alloc_validate counts blocks; alloc_stats_print (ours)", rule_suite_api},
    {"object_size", "malloc_object_size from interior pointers to the block end (ours)", rule_object_size},
    {"libc_names", "__libc_malloc & co. reach the same heap as malloc/free", rule_libc_names},
    {"mallopt", "mallopt: 1 for glibc's parameters, (ours) 0 for unknown ones", rule_mallopt},
};

void ct_fail(const char *fmt, ...) {
  va_list ap;
  if (++ct_failures > CT_MAX_LINES) return;
  printf("FAIL %s: ", ct_name);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

const struct ct_huge ct_huge_sizes[] = {
    {SIZE_MAX, "SIZE_MAX"},
    {SIZE_MAX - 1, "SIZE_MAX-1"},
    {SIZE_MAX - 15, "SIZE_MAX-15"},
    {SIZE_MAX - 4095, "SIZE_MAX-4095"},
    {SIZE_MAX - (1u << 20), "SIZE_MAX-1MiB"},
    {SIZE_MAX / 2, "SIZE_MAX/2"},
    {SIZE_MAX / 2 + 1, "SIZE_MAX/2+1"},
    {(size_t)PTRDIFF_MAX, "PTRDIFF_MAX"},
    {(size_t)PTRDIFF_MAX + 1, "PTRDIFF_MAX+1"},
    {(size_t)PTRDIFF_MAX - 4095, "PTRDIFF_MAX-4095"},
    {(size_t)1 << 62, "2^62"},
    {(size_t)1 << 58, "2^58"},
};
const size_t ct_huge_count = sizeof ct_huge_sizes / sizeof ct_huge_sizes[0];

int ct_fill_check(void *p, size_t n, uint64_t tag, const char *what) {
  size_t bad;
  vt_fill(p, n, tag);
  bad = vt_check(p, n, tag);
  if (bad == (size_t)-1) return 1;
  ct_fail("%s: byte %zu of %zu did not keep what was written", what, bad, n);
  return 0;
}

size_t ct_page(void) { return (size_t)sysconf(_SC_PAGESIZE); }
int ct_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static void usage(void) {
  fprintf(stderr, "usage: contract [-o] [-l LIBSUBSTR] RULE | --list\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *want = NULL, *rule = NULL;
  size_t i, nrules = sizeof rules / sizeof rules[0], live0, live1;
  int opt, r;

  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (i = 0; i < nrules; i++) printf("%s\n", rules[i].name);
    return 0;
  }
  while ((opt = getopt(argc, argv, "ol:")) != -1) {
    if (opt == 'o') ct_ours = 1;
    else if (opt == 'l') want = optarg;
    else usage();
  }
  if (optind != argc - 1) usage();
  rule = argv[optind];
  static char outbuf[BUFSIZ]; /* stdio's own buffer would be a live block the rule did not make */
  setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);
  for (i = 0; i < nrules && strcmp(rules[i].name, rule) != 0; i++) {
  }
  if (i == nrules) {
    fprintf(stderr, "contract: no rule '%s' (see --list)\n", rule);
    return 2;
  }
  ct_name = rules[i].name;
  if (vt_check_owner(ct_name, "malloc", want)) return VT_FAIL;
  if (ct_ours && !vt_validate()) {
    printf("FAIL %s: heap of ours does not export alloc_validate\n", ct_name);
    return VT_FAIL;
  }
  live0 = vt_validate() ? vt_validate()() : 0;
  r = rules[i].run();
  if (ct_failures > CT_MAX_LINES) printf("FAIL %s: ... %u failed checks in all\n", ct_name, ct_failures);
  /* The heap walks its own state: an inconsistency ends in its fatal path.
   * Every rule frees what it allocates, so the live count is back. */
  if (vt_validate() && (live1 = vt_validate()()) != live0) {
    printf("FAIL %s: alloc_validate counts %zu live blocks after the rule, %zu before\n", ct_name, live1, live0);
    r = VT_FAIL;
  }
  if (r == VT_PASS) printf("ok %s\n", ct_name);
  return r;
}
