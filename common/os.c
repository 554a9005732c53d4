/* os.c - the only file that talks to the kernel about memory. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "counter.h"
#include "fatal.h"
#include "os.h"
#include "util.h"

static peak_counter_t g_mapped;
static size_t g_decommitted, g_meta;

static void count_mapped(ptrdiff_t delta) { peak_counter_add(&g_mapped, delta); }

size_t os_bytes_mapped(void) { return peak_counter_now(&g_mapped); }
size_t os_bytes_mapped_peak(void) { return peak_counter_peak(&g_mapped); }
size_t os_bytes_decommitted(void) { return __atomic_load_n(&g_decommitted, __ATOMIC_RELAXED); }
size_t os_bytes_meta(void) { return __atomic_load_n(&g_meta, __ATOMIC_RELAXED); }

static void *raw_map(void *hint, size_t size, int prot, int extra) {
  void *p = mmap(hint, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* ---- the ownership map (os.h) --------------------------------------------
 * Lookups are lock-free; updates hold g_own_lock, a spin lock so that the
 * fork child can simply reset it (os_fork_child). */
uint8_t *os_own_l1[OS_OWN_L1] __attribute__((aligned(OS_PAGE)));
uint8_t os_own_grain[OS_GRAINS] __attribute__((aligned(OS_PAGE)));
static int g_own_lock;
/* os_map_seal: the map's pages are read-only, and each update opens the
 * pages it writes for the time of the write (under g_own_lock). */
static bool g_sealed;

static void own_lock(void) {
  while (__atomic_exchange_n(&g_own_lock, 1, __ATOMIC_ACQUIRE)) sched_yield();
}
static void own_unlock(void) { __atomic_store_n(&g_own_lock, 0, __ATOMIC_RELEASE); }
void os_fork_prepare(void) { own_lock(); }
void os_fork_parent(void) { own_unlock(); }
void os_fork_child(void) { __atomic_store_n(&g_own_lock, 0, __ATOMIC_RELEASE); }

/* Open [p, p+n) of the map for writing (true: it may be written), or close
 * it again, when sealed.  Readers never fault: the pages stay readable.  An
 * open can fail (mprotect splits a mapping: vm.max_map_count); a close that
 * fails leaves the pages writable, which costs the seal, not correctness. */
static bool own_open(void *p, size_t n, bool open) {
  if (!g_sealed || !n) return true;
  uintptr_t a = ALIGN_DOWN((uintptr_t)p, OS_PAGE), e = ALIGN_UP((uintptr_t)p + n, OS_PAGE);
  int saved = errno;
  bool ok = mprotect((void *)a, e - a, open ? PROT_READ | PROT_WRITE : PROT_READ) == 0;
  errno = saved;
  return ok;
}
/* A tag that must be cleared (the pages are going away) and cannot be. */
static COLD void own_stuck(const void *p) {
  alloc_fatal("os: cannot open the sealed ownership map to clear a tag", p);
}

/* The grains [base, base+size) touches: a grain it covers whole gets tag
 * (when the pages did: ok), any other loses its tag (os.h: 0 says nothing). */
static void grain_set(uintptr_t a, uintptr_t end, uint8_t tag, bool ok) {
  uintptr_t g0 = a >> OS_GRAIN_SHIFT, g1 = MIN((end + OS_GRAIN - 1) >> OS_GRAIN_SHIFT, OS_GRAINS);
  bool opened = false;
  for (uintptr_t g = g0; g < g1; g++) {
    bool whole = g << OS_GRAIN_SHIFT >= a && (g + 1) << OS_GRAIN_SHIFT <= end;
    uint8_t t = whole && ok ? tag : 0;
    if (__atomic_load_n(&os_own_grain[g], __ATOMIC_RELAXED) == t) continue;
    if (!opened && !(opened = own_open(&os_own_grain[g], g1 - g, true))) {
      if (t) return; /* a grain left 0 says nothing: still correct */
      own_stuck(&os_own_grain[g]);
    }
    __atomic_store_n(&os_own_grain[g], t, __ATOMIC_RELAXED);
  }
  if (opened) own_open(&os_own_grain[g0], g1 - g0, false);
}

/* Record tag for every page of [base, base+size).  false when a leaf could
 * not be mapped (only possible for tag != 0); pages done so far keep the tag.
 * The coarse map is cleared before the pages are (unmap) and set after them,
 * so it never says more than the page map. */
static bool own_set(const void *base, size_t size, uint8_t tag) {
  uintptr_t a = (uintptr_t)base, end = a + size;
  bool ok = true;
  if (end >> OS_OWN_ADDR_BITS) return tag == 0; /* never handed out by mmap */
  own_lock();
  grain_set(a, end, 0, false);
  while (a < end) {
    size_t slot = a >> OS_OWN_LEAF_SHIFT;
    uintptr_t leaf_end = (uintptr_t)(slot + 1) << OS_OWN_LEAF_SHIFT;
    uintptr_t stop = MIN(end, leaf_end);
    uint8_t *leaf = os_own_l1[slot];
    if (!leaf && tag) {
      leaf = raw_map(NULL, OS_OWN_LEAF, g_sealed ? PROT_READ : PROT_READ | PROT_WRITE, 0);
      if (!leaf) {
        ok = false;
        break;
      }
      if (!own_open(&os_own_l1[slot], sizeof os_own_l1[slot], true)) {
        munmap(leaf, OS_OWN_LEAF);
        ok = false;
        break;
      }
      __atomic_add_fetch(&g_meta, OS_OWN_LEAF, __ATOMIC_RELAXED);
      __atomic_store_n(&os_own_l1[slot], leaf, __ATOMIC_RELEASE);
      own_open(&os_own_l1[slot], sizeof os_own_l1[slot], false);
    }
    if (leaf) {
      size_t first = (a >> 12) & (OS_OWN_LEAF - 1), n = (stop - a) >> 12;
      if (!own_open(&leaf[first], n, true)) {
        if (!tag) own_stuck(&leaf[first]);
        ok = false;
        break;
      }
      for (size_t i = 0; i < n; i++) __atomic_store_n(&leaf[first + i], tag, __ATOMIC_RELAXED);
      own_open(&leaf[first], n, false);
    }
    a = stop;
  }
  if (tag) grain_set((uintptr_t)base, end, tag, ok);
  own_unlock();
  return ok;
}

void os_map_seal(void) {
  if (os_page_size() != OS_PAGE) return; /* the map is aligned for 4 KiB pages */
  own_lock();
  if (!g_sealed) {
    g_sealed = true;
    own_open(os_own_l1, sizeof os_own_l1, false);
    own_open(os_own_grain, sizeof os_own_grain, false);
    for (size_t i = 0; i < OS_OWN_L1; i++)
      if (os_own_l1[i]) own_open(os_own_l1[i], OS_OWN_LEAF, false);
  }
  own_unlock();
}

/* ---- mapping ---------------------------------------------------------------- */

/* A fresh mapping is entered in the map; if that fails it is given back. */
static os_mapping_t finish_map(char *base, size_t size, uint8_t tag) {
  os_mapping_t m = {NULL, 0, OS_PROT_RW, tag};
  if (!own_set(base, size, tag)) {
    own_set(base, size, 0);
    munmap(base, size);
    errno = ENOMEM;
    return m;
  }
  m.base = base;
  m.size = size;
  count_mapped((ptrdiff_t)size);
  return m;
}

os_mapping_t os_map_tagged(size_t size, size_t align, size_t offset, uint8_t tag) {
  os_mapping_t m = {NULL, 0, OS_PROT_RW, tag ? tag : OS_TAG_HEAP};
  if (align <= OS_PAGE && (offset & (OS_PAGE - 1)) == 0) {
    char *p = raw_map(NULL, size, PROT_READ | PROT_WRITE, 0);
    return p ? finish_map(p, size, m.tag) : m;
  }
  size_t over = size + align;
  if (over < size) return m;
  char *raw = raw_map(NULL, over, PROT_READ | PROT_WRITE, 0);
  if (!raw) return m;
  /* Smallest base >= raw with (base + offset) % align == 0. */
  uintptr_t want = ALIGN_UP((uintptr_t)raw + offset, align) - offset;
  if (want < (uintptr_t)raw) want += align;
  char *base = (char *)want;
  size_t head = (size_t)(base - raw), tail = over - head - size;
  if (head) munmap(raw, head);
  if (tail) munmap(base + size, tail);
  return finish_map(base, size, m.tag);
}

os_mapping_t os_map(size_t size) { return os_map_tagged(size, OS_PAGE, 0, OS_TAG_HEAP); }
os_mapping_t os_map_aligned_at(size_t size, size_t align, size_t offset) {
  return os_map_tagged(size, align, offset, OS_TAG_HEAP);
}
os_mapping_t os_map_aligned(size_t size, size_t align) {
  return os_map_tagged(size, align, 0, OS_TAG_HEAP);
}

void os_unmap(os_mapping_t m) {
  if (!m.base) return;
  own_set(m.base, m.size, 0);
  munmap(m.base, m.size);
  count_mapped(-(ptrdiff_t)m.size);
}

void os_unmap_range(void *addr, size_t size) {
  if (!size) return;
  own_set(addr, size, 0);
  munmap(addr, size);
  count_mapped(-(ptrdiff_t)size);
}

os_mapping_t os_remap(os_mapping_t m, size_t new_size, size_t align) {
  os_mapping_t r = m;
  int saved = errno;
  uint8_t tag = m.tag ? m.tag : OS_TAG_HEAP;
  /* Shrinking in place gives the tail back: out of the map first. */
  if (new_size < m.size) own_set((char *)m.base + new_size, m.size - new_size, 0);
  void *p = mremap(m.base, m.size, new_size, 0);
  if (p == MAP_FAILED && align > OS_PAGE) {
    /* Reserve an aligned destination, then move the pages onto it. */
    os_mapping_t dst = os_map_tagged(new_size, align, 0, tag);
    if (dst.base) {
      own_set(m.base, m.size, 0); /* the old range goes away if the move works */
      p = mremap(m.base, m.size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst.base);
      count_mapped(-(ptrdiff_t)dst.size); /* the reservation is replaced */
      if (p == MAP_FAILED) {
        own_set(dst.base, dst.size, 0);
        munmap(dst.base, dst.size);
      }
    }
  } else if (p == MAP_FAILED) {
    own_set(m.base, m.size, 0);
    p = mremap(m.base, m.size, new_size, MREMAP_MAYMOVE);
  }
  errno = saved;
  if (p == MAP_FAILED) {
    own_set(m.base, m.size, tag); /* still there, still ours (leaves exist) */
    r.base = NULL;
    return r;
  }
  if (!own_set(p, new_size, tag)) own_set(p, MIN(new_size, m.size), tag);
  count_mapped((ptrdiff_t)new_size - (ptrdiff_t)m.size);
  r.base = p;
  r.size = new_size;
  r.tag = tag;
  return r;
}

bool os_move_pages(os_mapping_t *from, os_mapping_t *to) {
  if (from->size != to->size) return false;
#ifdef MREMAP_DONTUNMAP
  int saved = errno;
  void *p = mremap(from->base, from->size, to->size, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
                   to->base);
  errno = saved;
  if (p != to->base) return false;
  to->prot = from->prot;
  return true;
#else
  return false;
#endif
}

void os_decommit(void *addr, size_t size) {
  if (!size) return;
  int saved = errno;
  if (madvise(addr, size, MADV_DONTNEED) == 0)
    __atomic_add_fetch(&g_decommitted, size, __ATOMIC_RELAXED);
  errno = saved;
}

bool os_protect(void *addr, size_t size, os_prot_t prot) {
  int saved = errno;
  bool ok = mprotect(addr, size, prot == OS_PROT_RW ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
  if (ok) errno = saved;
  return ok;
}

/* m->prot after [addr, addr+size) of it became prot. */
static void note_prot(os_mapping_t *m, const void *addr, size_t size, os_prot_t prot) {
  if (addr == m->base && size == m->size) m->prot = prot;
  else if (m->prot != prot) m->prot = OS_PROT_MIXED;
}

bool os_protect_part(os_mapping_t *m, void *addr, size_t size, os_prot_t prot) {
  if (!os_protect(addr, size, prot)) return false;
  note_prot(m, addr, size, prot);
  return true;
}
bool os_protect_mapping(os_mapping_t *m, os_prot_t prot) {
  return os_protect_part(m, m->base, m->size, prot);
}

/* ---- reserve, commit, guard ------------------------------------------------ */

os_mapping_t os_reserve(size_t size, size_t align, uint8_t tag) {
  os_mapping_t m = os_map_tagged(size, align, 0, tag);
  /* Mapped RW then closed: one code path for alignment and the map; the
   * pages were never touched, so nothing is committed. */
  if (m.base && !os_protect_mapping(&m, OS_PROT_NONE)) {
    os_unmap(m);
    m.base = NULL;
    m.size = 0;
  }
  return m;
}

bool os_commit(os_mapping_t *m, void *addr, size_t size) {
  return os_protect_part(m, addr, size, OS_PROT_RW);
}

void os_uncommit(os_mapping_t *m, void *addr, size_t size) {
  os_decommit(addr, size);
  os_protect_part(m, addr, size, OS_PROT_NONE);
}

bool os_guard(os_mapping_t *m, void *addr, size_t size) {
  if (!os_protect_part(m, addr, size, OS_PROT_NONE)) return false;
  int saved = errno;
  madvise(addr, size, MADV_DONTNEED); /* what it held is no one's any more */
  errno = saved;
  return true;
}

/* The one choice of advice (os.h): MADV_FREE when the kernel has it. */
static int g_no_madv_free;
void os_release(void *addr, size_t size) {
  if (!size) return;
  int saved = errno;
  bool done = false;
#ifdef MADV_FREE
  if (!__atomic_load_n(&g_no_madv_free, __ATOMIC_RELAXED)) {
    done = madvise(addr, size, MADV_FREE) == 0;
    if (!done && errno == EINVAL) __atomic_store_n(&g_no_madv_free, 1, __ATOMIC_RELAXED);
  }
#endif
  if (!done) done = madvise(addr, size, MADV_DONTNEED) == 0;
  if (done) __atomic_add_fetch(&g_decommitted, size, __ATOMIC_RELAXED);
  errno = saved;
}

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
static int g_no_names;
bool os_name(void *addr, size_t size, const char *name) {
  if (__atomic_load_n(&g_no_names, __ATOMIC_RELAXED)) return false;
  int saved = errno;
  bool ok = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)addr, size,
                  (unsigned long)name) == 0;
  if (!ok && errno == EINVAL) __atomic_store_n(&g_no_names, 1, __ATOMIC_RELAXED);
  errno = saved;
  return ok;
}

size_t os_page_size(void) {
  static size_t g_page; /* a cache: the same value is computed by any thread */
  size_t p = __atomic_load_n(&g_page, __ATOMIC_RELAXED);
  if (p) return p;
  p = (size_t)getauxval(AT_PAGESZ);
  if (!p) {
    long s = sysconf(_SC_PAGESIZE);
    p = s > 0 ? (size_t)s : OS_PAGE;
  }
  __atomic_store_n(&g_page, p, __ATOMIC_RELAXED);
  return p;
}

bool os_seal(void *addr, size_t size) {
  int saved = errno;
  bool ok = mprotect(addr, size, PROT_READ) == 0;
  errno = saved;
  return ok;
}
