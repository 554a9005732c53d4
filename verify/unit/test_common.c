/* test_common.c - unit tests of the shared layer: OS primitives, bootstrap
 * arena, option parsing, the fatal-error line.  Linked against one heap's
 * objects (any heap: this code is the same in all). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_api.h"
#include "bootstrap.h"
#include "check.h"
#include "fatal.h"
#include "frozen.h"
#include "heap.h"
#include "random.h"
#include "options.h"
#include "os.h"
#include "util.h"

static void test_os(void) {
  size_t before = os_bytes_mapped();
  os_mapping_t m = os_map(3 * OS_PAGE);
  CHECK(m.base && m.size == 3 * OS_PAGE && m.prot == OS_PROT_RW);
  CHECK(((unsigned char *)m.base)[5000] == 0);
  CHECK(os_bytes_mapped() == before + 3 * OS_PAGE);
  memset(m.base, 0xab, m.size);
  os_decommit(m.base, m.size);
  CHECK(((unsigned char *)m.base)[OS_PAGE + 7] == 0); /* reads back zero */
  os_unmap(m);
  CHECK(os_bytes_mapped() == before);

  for (size_t align = OS_PAGE; align <= ((size_t)64 << 20); align <<= 3) {
    os_mapping_t a = os_map_aligned(5 * OS_PAGE, align);
    CHECK(a.base && (uintptr_t)a.base % align == 0 && a.size == 5 * OS_PAGE);
    os_mapping_t b = os_map_aligned_at(2 * OS_PAGE, align, OS_PAGE);
    CHECK(b.base && ((uintptr_t)b.base + OS_PAGE) % align == 0);
    os_unmap(a);
    os_unmap(b);
  }
  CHECK(os_bytes_mapped() == before);

  /* remap keeps contents and the requested alignment */
  os_mapping_t r = os_map_aligned(4 * OS_PAGE, (size_t)4 << 20);
  memset(r.base, 0x5a, r.size);
  os_mapping_t g = os_remap(r, 1024 * OS_PAGE, (size_t)4 << 20);
  CHECK(g.base && g.size == 1024 * OS_PAGE && (uintptr_t)g.base % ((size_t)4 << 20) == 0);
  CHECK(((unsigned char *)g.base)[4 * OS_PAGE - 1] == 0x5a);
  CHECK(((unsigned char *)g.base)[4 * OS_PAGE] == 0);
  os_mapping_t s = os_remap(g, OS_PAGE, (size_t)4 << 20);
  CHECK(s.base == g.base && s.size == OS_PAGE);
  os_unmap(s);
  CHECK(os_bytes_mapped() == before);

  os_mapping_t huge = os_map((size_t)1 << 62);
  CHECK(huge.base == NULL && huge.size == 0);
  os_mapping_t guard = os_map(2 * OS_PAGE);
  CHECK(os_protect((char *)guard.base + OS_PAGE, OS_PAGE, OS_PROT_NONE));
  os_unmap(guard);
}

/* 1 if reading (or writing) *p kills a forked child with SIGSEGV. */
static int access_faults(void *p, int write) {
  pid_t pid = fork();
  if (pid == 0) {
    if (write) *(volatile char *)p = 1;
    else (void)*(volatile char *)p;
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

/* The coarse map (os.h): a grain's tag only where one mapping covers it
 * whole, lost as soon as part of it goes; then os_map_seal makes the map
 * read-only while updates go on working. */
static void test_grain_map_and_seal(void) {
  os_mapping_t g = os_map_tagged(2 * OS_GRAIN, OS_GRAIN, 0, 9);
  CHECK(g.base && (uintptr_t)g.base % OS_GRAIN == 0);
  char *b = g.base;
  CHECK(os_grain_tag(b) == 9 && os_grain_tag(b + 2 * OS_GRAIN - 1) == 9);
  CHECK(os_grain_tag(b - 1) != 9 && os_grain_tag(b + 2 * OS_GRAIN) != 9);
  os_unmap_range(b + OS_GRAIN, OS_PAGE); /* part of the second grain goes */
  CHECK(os_grain_tag(b) == 9 && os_grain_tag(b + OS_GRAIN + OS_PAGE) == 0);
  CHECK(os_tag_of(b + OS_GRAIN + OS_PAGE) == 9);
  os_mapping_t small = os_map_tagged(4 * OS_PAGE, OS_GRAIN, 0, 9);
  CHECK(small.base && os_grain_tag(small.base) == 0 && os_tag_of(small.base) == 9);
  CHECK(os_grain_tag((void *)0xffff800000000000ull) == 0 && os_grain_tag(NULL) == 0);
  /* The aligned form: the tag asked, and the low bits. */
  CHECK(os_grain_is_aligned(b + 16, 4, 9) && os_grain_is_aligned(b + OS_GRAIN - 16, 4, 9));
  CHECK(!os_grain_is_aligned(b + 16, 4, 8) && !os_grain_is_aligned(b + 8, 4, 9) && !os_grain_is_aligned(b + 1, 4, 9));
  CHECK(!os_grain_is_aligned(b + OS_GRAIN + 16, 4, 9) && !os_grain_is_aligned(NULL, 4, 9) && os_grain_is_aligned(NULL, 4, 0));
  CHECK(!os_grain_is_aligned((void *)0xffff800000000000ull, 4, 0));
  uintptr_t gn = (uintptr_t)b >> OS_GRAIN_SHIFT;
  CHECK(os_grain_is(gn, 9) && !os_grain_is(gn, 8) && !os_grain_is(gn + 1, 9) && os_grain_is(0, 0));
  CHECK(!os_grain_is(OS_GRAINS, 0) && !os_grain_is(UINTPTR_MAX, 0));

  os_map_seal();
  uintptr_t a = (uintptr_t)b;
  CHECK(access_faults(&os_own_grain[a >> OS_GRAIN_SHIFT], 1));
  CHECK(access_faults(&os_own_l1[a >> OS_OWN_LEAF_SHIFT], 1));
  CHECK(access_faults(&os_own_l1[a >> OS_OWN_LEAF_SHIFT][(a >> 12) & (OS_OWN_LEAF - 1)], 1));
  CHECK(!access_faults(&os_own_grain[a >> OS_GRAIN_SHIFT], 0));
  /* Updates after the seal: mapping, unmapping, a fresh leaf. */
  os_unmap(small);
  CHECK(os_tag_of(small.base) == 0);
  os_unmap_range(b, OS_GRAIN + OS_PAGE);
  CHECK(os_grain_tag(b) == 0 && os_tag_of(b) == 0 && os_tag_of(b + OS_GRAIN + OS_PAGE) == 9);
  os_unmap_range(b + OS_GRAIN + OS_PAGE, OS_GRAIN - OS_PAGE);
  os_mapping_t n = os_map_tagged(OS_GRAIN, OS_GRAIN, 0, 11);
  CHECK(n.base && os_grain_tag(n.base) == 11 && access_faults(&os_own_grain[(uintptr_t)n.base >> OS_GRAIN_SHIFT], 1));
  os_unmap(n);
  CHECK(os_grain_tag(n.base) == 0);
}

/* The ownership map answers for any pointer value, at page granularity. */
static void test_owner_map(void) {
  static const uintptr_t wild[] = {0, 1, 0xfff, 0xdeadbeefdeadbeefull, 0xffff800000000000ull,
                                   0x0000800000000000ull, 0xffffffffffffffffull,
                                   0x00007ffffffff000ull};
  for (size_t i = 0; i < ARRAY_LEN(wild); i++) CHECK(os_tag_of((void *)wild[i]) == 0);
  os_mapping_t m = os_map_tagged(4 * OS_PAGE, OS_PAGE, 0, 7);
  CHECK(m.base && m.tag == 7);
  char *b = m.base;
  CHECK(os_tag_of(b) == 7 && os_tag_of(b + 4 * OS_PAGE - 1) == 7 && os_owns(b + 5000));
  CHECK(os_tag_of(b - 1) != 7 && os_tag_of(b + 4 * OS_PAGE) != 7);
  CHECK(os_tag_of(&m) == 0 && os_tag_of((void *)test_owner_map) == 0);
  /* The program's own mapping right after ours is not ours. */
  char *mine = mmap(b + 4 * OS_PAGE, OS_PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (mine != MAP_FAILED) {
    CHECK(os_tag_of(mine) == 0);
    munmap(mine, OS_PAGE);
  }
  char *prog = mmap(NULL, OS_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(prog != MAP_FAILED && os_tag_of(prog) == 0);
  munmap(prog, OS_PAGE);
  /* Trimming a part: only that part stops being ours. */
  os_unmap_range(b + 3 * OS_PAGE, OS_PAGE);
  CHECK(os_tag_of(b + 3 * OS_PAGE) == 0 && os_tag_of(b + 2 * OS_PAGE) == 7);
  m.size = 3 * OS_PAGE;
  /* Remap: the new range carries the tag, a moved-from range does not. */
  os_mapping_t r = os_remap(m, 2048 * OS_PAGE, (size_t)4 << 20);
  CHECK(r.base && r.tag == 7);
  CHECK(os_tag_of(r.base) == 7 && os_tag_of((char *)r.base + 2048 * OS_PAGE - 1) == 7);
  if (r.base != m.base) CHECK(os_tag_of(m.base) == 0);
  os_mapping_t s = os_remap(r, OS_PAGE, 0);
  CHECK(s.base == r.base && os_tag_of(s.base) == 7 && os_tag_of((char *)s.base + OS_PAGE) == 0);
  os_unmap(s);
  CHECK(os_tag_of(s.base) == 0);
  os_mapping_t d = os_map(OS_PAGE);
  CHECK(os_tag_of(d.base) == OS_TAG_HEAP);
  os_unmap(d);
  CHECK(os_bytes_meta() > 0);
}


static void test_reserve_guard(void) {
  size_t page = os_page_size();
  CHECK(page >= OS_PAGE && page % OS_PAGE == 0);
  os_mapping_t r = os_reserve(16 * OS_PAGE, (size_t)1 << 20, 9);
  CHECK(r.base && (uintptr_t)r.base % ((size_t)1 << 20) == 0 && r.prot == OS_PROT_NONE);
  CHECK(os_tag_of(r.base) == 9);
  char *b = r.base;
  CHECK(access_faults(b, 0) && access_faults(b + 15 * OS_PAGE, 0));
  CHECK(os_commit(&r, b + 4 * OS_PAGE, 2 * OS_PAGE) && r.prot == OS_PROT_MIXED);
  CHECK(b[4 * OS_PAGE] == 0 && b[6 * OS_PAGE - 1] == 0);
  memset(b + 4 * OS_PAGE, 0x77, 2 * OS_PAGE);
  CHECK(!access_faults(b + 5 * OS_PAGE, 1) && access_faults(b + 6 * OS_PAGE, 0));
  size_t dec = os_bytes_decommitted();
  os_uncommit(&r, b + 4 * OS_PAGE, 2 * OS_PAGE);
  CHECK(os_bytes_decommitted() == dec + 2 * OS_PAGE && access_faults(b + 4 * OS_PAGE, 0));
  CHECK(os_commit(&r, b, r.size) && r.prot == OS_PROT_RW);
  CHECK(b[4 * OS_PAGE] == 0); /* uncommitted pages come back zeroed */
  /* Guard pages at both ends of a live mapping. */
  CHECK(os_guard(&r, b, OS_PAGE) && os_guard(&r, b + 15 * OS_PAGE, OS_PAGE));
  CHECK(r.prot == OS_PROT_MIXED);
  CHECK(access_faults(b, 0) && access_faults(b + 15 * OS_PAGE, 1));
  CHECK(access_faults(b + OS_PAGE - 1, 1) && !access_faults(b + OS_PAGE, 1));
  CHECK(!access_faults(b + 15 * OS_PAGE - 1, 1));
  CHECK(os_protect_mapping(&r, OS_PROT_NONE) && r.prot == OS_PROT_NONE);
  CHECK(access_faults(b + 8 * OS_PAGE, 0));
  os_unmap(r);
  CHECK(os_tag_of(b) == 0);

  /* os_release: mapped and writable afterwards, counted as given back. */
  os_mapping_t m = os_map(8 * OS_PAGE);
  memset(m.base, 0x33, m.size);
  dec = os_bytes_decommitted();
  os_release(m.base, m.size);
  CHECK(os_bytes_decommitted() == dec + m.size && !access_faults(m.base, 1));
  unsigned char c = ((unsigned char *)m.base)[100];
  CHECK(c == 0 || c == 0x33);
  /* A named mapping shows in /proc/self/maps, where the kernel can name. */
  if (os_name(m.base, m.size, "alloc_unit_test")) {
    char line[512], want[64];
    snprintf(want, sizeof want, "%lx-", (unsigned long)(uintptr_t)m.base);
    FILE *f = fopen("/proc/self/maps", "r");
    int seen = 0;
    while (f && fgets(line, sizeof line, f))
      if (strncmp(line, want, strlen(want)) == 0 && strstr(line, "[anon:alloc_unit_test]")) seen = 1;
    if (f) fclose(f);
    CHECK(seen);
  } else {
    fprintf(stderr, "note: this kernel cannot name mappings; os_name returned false\n");
    CHECK(!os_name(m.base, m.size, "again")); /* remembered, no second try */
  }
  os_unmap(m);
}

static int got_dummy;
/* The prefixed functions of the heap whose objects this test links. */
#define CAT2_(a, b) a##b
#define CAT_(a, b) CAT2_(a, b)
#define H(name) CAT_(HEAP_PREFIX, name)
#define DECLARE_(prefix) ALLOC_API_DECLARE(prefix)
DECLARE_(HEAP_PREFIX)

static void test_bootstrap(void) {
  void *a = bootstrap_alloc(10, 16), *b = bootstrap_alloc(100, 4096);
  CHECK(a && b && bootstrap_owns(a) && bootstrap_owns(b));
  CHECK((uintptr_t)a % 16 == 0 && (uintptr_t)b % 4096 == 0);
  CHECK(bootstrap_usable(a) >= 10 && bootstrap_usable(b) >= 100);
  CHECK(!bootstrap_owns(&a) && !bootstrap_owns(NULL));
  CHECK(bootstrap_alloc(BOOTSTRAP_SIZE + 1, 16) == NULL);
  CHECK(bootstrap_alloc(16, 8192) == NULL);
  /* Out-of-band block bits: start, interior, freed. */
  unsigned char *c = bootstrap_alloc(100, 64);
  CHECK(bootstrap_state(c) == BOOT_LIVE && bootstrap_state(c + 16) == BOOT_INTERIOR);
  CHECK(bootstrap_state(c + 1) == BOOT_INTERIOR && bootstrap_state(c - 16) == BOOT_INTERIOR);
  CHECK(bootstrap_state(&got_dummy) == BOOT_NOT_OURS && bootstrap_state(NULL) == BOOT_NOT_OURS);
  CHECK(bootstrap_object_size(c) == bootstrap_usable(c));
  CHECK(bootstrap_object_size(c + 33) == bootstrap_usable(c) - 33);
  CHECK(bootstrap_object_size(c - 1) == SIZE_MAX); /* the size word in front */
  CHECK(bootstrap_note_free(c) == BOOT_LIVE && bootstrap_state(c) == BOOT_FREED);
  CHECK(bootstrap_note_free(c) == BOOT_FREED);
  CHECK(bootstrap_note_free(c + 16) == BOOT_INTERIOR && bootstrap_state(c + 16) == BOOT_INTERIOR);
  /* The override marks a bootstrap block freed (a validating heap's hook
   * runs first, heap.h), and answers object sizes inside it. */
  unsigned char *d = bootstrap_alloc(200, 16);
  CHECK(H(malloc_object_size)(d + 10) == bootstrap_usable(d) - 10);
  CHECK(H(malloc_usable_size)(d) == bootstrap_usable(d));
  H(free)(d);
  CHECK(bootstrap_state(d) == BOOT_FREED);
  unsigned char *e = bootstrap_alloc(50, 16), *f = bootstrap_alloc(50, 16);
  H(free_sized)(e, 50);
  void *g = H(realloc)(f, 5000); /* moves out of the arena */
  CHECK(bootstrap_state(e) == BOOT_FREED && bootstrap_state(f) == BOOT_FREED);
  CHECK(g && !bootstrap_owns(g));
  H(free)(g);
  size_t got = 0;
  while (bootstrap_alloc(4096, 16)) got++;
  CHECK(got > 0 && got < BOOTSTRAP_SIZE / 4096); /* exhausts, then NULL */
  CHECK(bootstrap_used() <= BOOTSTRAP_SIZE);
}

/* Run options_init() in a child with the given environment; return its
 * stderr in buf and the parsed options through a pipe. */
static int parse_in_child_as(const char *const *env, bool secure, char *err, size_t errlen,
                             alloc_options_t *out) {
  int ep[2], op[2];
  if (pipe(ep) || pipe(op)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(ep[1], 2);
    /* Start-up sealed the options: open them again to parse anew. */
    if (mprotect(&alloc_frozen, sizeof alloc_frozen, PROT_READ | PROT_WRITE)) _exit(4);
    clearenv();
    for (const char *const *e = env; *e; e++) putenv((char *)*e);
    extern char **environ;
    options_parse(environ, secure);
    if (write(op[1], &alloc_opt, sizeof alloc_opt) != (ssize_t)sizeof alloc_opt) _exit(3);
    _exit(0);
  }
  close(ep[1]);
  close(op[1]);
  size_t got = 0;
  ssize_t n;
  while (got < errlen - 1 && (n = read(ep[0], err + got, errlen - 1 - got)) > 0) got += (size_t)n;
  err[got] = 0;
  int ok = read(op[0], out, sizeof *out) == (ssize_t)sizeof *out;
  int st;
  waitpid(pid, &st, 0);
  close(ep[0]);
  close(op[0]);
  return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int parse_in_child(const char *const *env, char *err, size_t errlen, alloc_options_t *out) {
  return parse_in_child_as(env, false, err, errlen, out);
}

static void test_options(void) {
  char err[1024];
  alloc_options_t o;
  const char *good[] = {"ALLOC_VERBOSE=1", "ALLOC_SHOW_STATS=json", "ALLOC_DECAY_MS=250",
                        "ALLOC_TCACHE=off", "OTHER=1", NULL};
  CHECK(parse_in_child(good, err, sizeof err, &o) == 0);
  CHECK(o.verbose == 1 && o.show_stats == 2 && o.decay_ms == 250 && o.tcache == 0);
  CHECK(err[0] == 0);

  const char *bad[] = {"ALLOC_DECAY_MS=12x", "ALLOC_SHOW_STATS=7", "ALLOC_NOPE=1",
                       "ALLOC_TCACHE=", "ALLOC_STATS_FD=99999999999999999999", NULL};
  CHECK(parse_in_child(bad, err, sizeof err, &o) == 0);
  CHECK(o.decay_ms == 1000 && o.show_stats == 0 && o.tcache == 1); /* defaults kept */
  CHECK(strstr(err, ": warning: ALLOC_DECAY_MS='12x' is not a number in 0..3600000"));
  CHECK(strstr(err, ": warning: ALLOC_SHOW_STATS='7' is not off|text|json or a number in 0..2"));
  CHECK(strstr(err, ": warning: unknown option ALLOC_NOPE ignored"));
  CHECK(strstr(err, ": warning: ALLOC_TCACHE=''"));
  CHECK(strstr(err, "ALLOC_STATS_FD='99999999999999999999'"));

  /* Another heap's option (the stand-in heap alloc_fixture): this prefixed
   * build passes over it in silence; an unknown one still warns. */
  const char *other[] = {"ALLOC_FIXTURE_KNOB=3", "ALLOC_FIXTURE_OFF=off", NULL};
  CHECK(parse_in_child(other, err, sizeof err, &o) == 0 && err[0] == 0);
  const char *typo[] = {"ALLOC_FIXTURE_KNOBS=3", NULL};
  CHECK(parse_in_child(typo, err, sizeof err, &o) == 0);
  CHECK(strstr(err, ": warning: unknown option ALLOC_FIXTURE_KNOBS ignored"));

  /* setuid/setgid: options marked OPT_SECURE are ignored, with one warning. */
  const char *suid[] = {"ALLOC_VERBOSE=on", "ALLOC_STATS_FD=5", "ALLOC_SHOW_STATS=text",
                        "ALLOC_DECAY_MS=7", NULL};
  CHECK(parse_in_child_as(suid, true, err, sizeof err, &o) == 0);
  CHECK(o.verbose == 0 && o.stats_fd == 2 && o.show_stats == 0 && o.decay_ms == 7);
  CHECK(strcmp(err, HEAP_NAME ": warning: setuid/setgid process: ignored ALLOC_VERBOSE "
                    "ALLOC_STATS_FD ALLOC_SHOW_STATS\n") == 0);
  CHECK(parse_in_child_as(suid, false, err, sizeof err, &o) == 0);
  CHECK(o.verbose == 1 && o.stats_fd == 5 && o.show_stats == 1 && err[0] == 0);

  /* The README's options table lists exactly the options of the lists. */
  FILE *f = fopen("README.md", "r");
  CHECK(f != NULL);
  char line[512], names[2048] = "";
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "| `ALLOC_", 9) == 0) {
      char *end = strchr(line + 9, '`');
      if (end) {
        *end = 0;
        strncat(names, line + 9, sizeof names - strlen(names) - 2);
        strcat(names, " ");
      }
    }
  if (f) fclose(f);
  char want[2048] = "";
#define NAME_OF(field, NAME, def, min, max, words, flags, help) strcat(want, #NAME " ");
  ALLOC_EVERY_OPTION(NAME_OF)
#undef NAME_OF
  CHECK(strcmp(names, want) == 0);
  if (strcmp(names, want)) fprintf(stderr, "README lists: %s\nthe lists: %s\n", names, want);
}

/* Run fn(arg) in a child with stderr to a pipe; its stderr in buf, its wait
 * status returned. */
static int stderr_of(void (*fn)(int), int arg, char *buf, size_t len) {
  int ep[2];
  if (pipe(ep)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(ep[1], 2);
    fn(arg);
    _exit(0);
  }
  close(ep[1]);
  size_t got = 0;
  ssize_t n;
  while (got < len - 1 && (n = read(ep[0], buf + got, len - 1 - got)) > 0) got += (size_t)n;
  buf[got] = 0;
  close(ep[0]);
  int st;
  waitpid(pid, &st, 0);
  return st;
}

static void fatal_plain(int i) { alloc_fatal("double free (small)", (void *)0x7f00dead0010); }
static void fatal_value(int i) { alloc_fatal2("corrupted block header", (void *)0x1000, 0xbadc0de); }
static void fatal_size(int i) { alloc_fatal_size("free_sized: wrong size", (void *)0x2000, 48, 64); }
static void fatal_listed(int i) { alloc_fatal(alloc_check_name((alloc_check_t)i), (void *)0x30); }
static void warn_long(int i) {
  char big[700];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  alloc_warn("value '", big, "' is too long");
}
static void on_abort_report_dying(int sig) { _exit(alloc_dying() ? 10 : 11); }
static void fatal_sets_dying(int i) {
  if (alloc_dying()) _exit(9);
  signal(SIGABRT, on_abort_report_dying);
  alloc_fatal("x", NULL);
}

static void test_fatal(void) {
  char buf[1024];
  int st = stderr_of(fatal_plain, 0, buf, sizeof buf);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  CHECK(strcmp(buf, HEAP_NAME ": fatal: double free (small) at 0x7f00dead0010\n") == 0);
  st = stderr_of(fatal_value, 0, buf, sizeof buf);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  CHECK(strcmp(buf, HEAP_NAME ": fatal: corrupted block header at 0x1000 (value 0xbadc0de)\n") == 0);
  st = stderr_of(fatal_size, 0, buf, sizeof buf);
  CHECK(strcmp(buf, HEAP_NAME ": fatal: free_sized: wrong size at 0x2000: claimed 48, real 64\n") == 0);
  /* Every listed check: a distinct non-empty name, printed as it is. */
  for (int i = 0; i < ALLOC_CHECK_COUNT; i++) {
    const char *name = alloc_check_name((alloc_check_t)i);
    CHECK(name && *name && strcmp(name, "?") != 0);
    for (int j = 0; j < i; j++) CHECK(strcmp(name, alloc_check_name((alloc_check_t)j)) != 0);
    char want[256];
    snprintf(want, sizeof want, HEAP_NAME ": fatal: %s at 0x30\n", name);
    st = stderr_of(fatal_listed, i, buf, sizeof buf);
    CHECK(WIFSIGNALED(st) && strcmp(buf, want) == 0);
  }
  CHECK(strcmp(alloc_check_name(ALLOC_CHECK_COUNT), "?") == 0);
  CHECK(strcmp(alloc_check_name(ALLOC_CHECK_DOUBLE_FREE_SMALL), "double free (small)") == 0);
  /* A warning cut to fit still ends in its newline (and is one line). */
  stderr_of(warn_long, 0, buf, sizeof buf);
  size_t len = strlen(buf);
  CHECK(len > 100 && len <= 512 && buf[len - 1] == '\n' && strchr(buf, '\n') == buf + len - 1);
  CHECK(strncmp(buf, HEAP_NAME ": warning: value 'xxx", strlen(HEAP_NAME) + 20) == 0);
  /* The fatal path sets the dying flag (tested in the child, before abort). */
  CHECK(!alloc_dying());
  st = stderr_of(fatal_sets_dying, 0, buf, sizeof buf);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 10);
  char num[24];
  CHECK(strcmp(alloc_fmt_u64(num, 0, 10), "0") == 0);
  CHECK(strcmp(alloc_fmt_u64(num, UINT64_MAX, 16), "ffffffffffffffff") == 0);
}

/* The heap's start-up registers its fork handlers through this definition
 * (it comes first in the static link); it forwards to glibc unless a test
 * asks it to fail. */
static int g_atfork_fail;
extern int __register_atfork(void (*)(void), void (*)(void), void (*)(void), void *);
extern void *__dso_handle;
int pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  if (g_atfork_fail) return ENOMEM;
  return __register_atfork(prepare, parent, child, __dso_handle);
}
static void init_with_failing_atfork(int i) {
  if (mprotect(&alloc_frozen, sizeof alloc_frozen, PROT_READ | PROT_WRITE)) _exit(4);
  g_atfork_fail = 1;
  alloc_process_init();
}
static void test_init(void) {
  char buf[1024];
  int st = stderr_of(init_with_failing_atfork, 0, buf, sizeof buf);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(strcmp(buf, HEAP_NAME ": warning: pthread_atfork failed: a fork() while another thread "
                    "allocates may deadlock the child\n") == 0);
}

/* Run this program again as "--secret": it prints its secret and fallback. */
static int secret_of_new_process(const char *self, uint64_t out[2]) {
  int op[2];
  if (pipe(op)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(op[1], 1);
    execl(self, self, "--secret", (char *)NULL);
    _exit(127);
  }
  close(op[1]);
  ssize_t n = read(op[0], out, 2 * sizeof(uint64_t));
  close(op[0]);
  int st;
  waitpid(pid, &st, 0);
  return n == 2 * (ssize_t)sizeof(uint64_t) && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void test_random(const char *self) {
  /* The heap's load-time constructor already ran alloc_process_init. */
  CHECK(random_source() == 1); /* getrandom works on this machine */
  uint64_t s0 = alloc_secret(0);
  random_init(); /* once: a second call changes nothing */
  CHECK(alloc_secret(0) == s0);
  CHECK(alloc_secret(0) && alloc_secret(1) && alloc_secret(2) && alloc_secret(3));
  uint64_t fb[4];
  random_fallback(fb);
  CHECK(fb[0] && fb[1] && fb[2] && fb[3] && fb[0] != alloc_secret(0));
  uint64_t a[2], b[2];
  CHECK(secret_of_new_process(self, a) == 0 && secret_of_new_process(self, b) == 0);
  CHECK(a[0] != b[0]); /* the secret differs per process */
  CHECK(a[1] != b[1]); /* and so does the fallback alone */
  CHECK(a[0] != alloc_secret(0));
  /* The generator: not stuck, and parent and child diverge after fork, while
   * the child keeps the secret. */
  uint64_t r1 = rand_next(), r2 = rand_next();
  CHECK(r1 != r2 && r1 != s0);
  int op[2];
  CHECK(pipe(op) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    random_fork_child(); /* what common/init.c's atfork child handler does */
    uint64_t v[2] = {rand_next(), alloc_secret(0)};
    _exit(write(op[1], v, sizeof v) == sizeof v ? 0 : 1);
  }
  close(op[1]);
  uint64_t child[2] = {0, 0}, mine = rand_next();
  CHECK(read(op[0], child, sizeof child) == sizeof child);
  close(op[0]);
  int st;
  waitpid(pid, &st, 0);
  CHECK(child[0] != mine && child[1] == alloc_secret(0));
}

/* Start-up sealed the page; a write to the options or the secret faults. */
static void test_seal(void) {
  CHECK(alloc_frozen.f.sealed);
  for (int what = 0; what < 2; what++) {
    pid_t pid = fork();
    if (pid == 0) {
      if (!frozen_seal()) _exit(3);
      if (alloc_opt.decay_ms != 1000) _exit(4); /* still readable */
      if (what == 0) *(volatile long *)&alloc_opt.decay_ms = 5;
      else *(volatile uint64_t *)&alloc_frozen.f.secret[2] = 5;
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
  }
  CHECK((uintptr_t)&alloc_frozen % OS_PAGE == 0 && sizeof alloc_frozen == OS_PAGE);
  CHECK((uintptr_t)&alloc_opt - (uintptr_t)&alloc_frozen < OS_PAGE);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--secret") == 0) {
    random_init();
    uint64_t fb[4], v[2];
    random_fallback(fb);
    v[0] = alloc_secret(0);
    v[1] = fb[0];
    return write(1, v, sizeof v) == sizeof v ? 0 : 1;
  }
  test_random(argv[0]);
  test_init();
  test_seal();
  test_os();
  test_owner_map();
  test_grain_map_and_seal();
  test_reserve_guard();
  test_bootstrap();
  test_options();
  test_fatal();
  return UNIT_RESULT();
}
