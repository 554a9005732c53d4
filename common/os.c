/* os.c - the only file that talks to the kernel about memory. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "os.h"
#include "util.h"

static size_t g_mapped, g_mapped_peak, g_decommitted;

static void count_mapped(ptrdiff_t delta) {
  size_t now = __atomic_add_fetch(&g_mapped, (size_t)delta, __ATOMIC_RELAXED);
  size_t peak = __atomic_load_n(&g_mapped_peak, __ATOMIC_RELAXED);
  while (now > peak &&
         !__atomic_compare_exchange_n(&g_mapped_peak, &peak, now, true,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

size_t os_bytes_mapped(void) { return __atomic_load_n(&g_mapped, __ATOMIC_RELAXED); }
size_t os_bytes_mapped_peak(void) { return __atomic_load_n(&g_mapped_peak, __ATOMIC_RELAXED); }
size_t os_bytes_decommitted(void) { return __atomic_load_n(&g_decommitted, __ATOMIC_RELAXED); }

static void *raw_map(void *hint, size_t size, int prot, int extra) {
  void *p = mmap(hint, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

os_mapping_t os_map(size_t size) {
  os_mapping_t m = {raw_map(NULL, size, PROT_READ | PROT_WRITE, 0), size, OS_PROT_RW};
  if (m.base) count_mapped((ptrdiff_t)size);
  else m.size = 0;
  return m;
}

os_mapping_t os_map_aligned_at(size_t size, size_t align, size_t offset) {
  os_mapping_t m = {NULL, 0, OS_PROT_RW};
  if (align <= OS_PAGE && (offset & (OS_PAGE - 1)) == 0) return os_map(size);
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
  m.base = base;
  m.size = size;
  count_mapped((ptrdiff_t)size);
  return m;
}

os_mapping_t os_map_aligned(size_t size, size_t align) {
  return os_map_aligned_at(size, align, 0);
}

void os_unmap(os_mapping_t m) {
  if (!m.base) return;
  munmap(m.base, m.size);
  count_mapped(-(ptrdiff_t)m.size);
}

void os_unmap_range(void *addr, size_t size) {
  if (!size) return;
  munmap(addr, size);
  count_mapped(-(ptrdiff_t)size);
}

os_mapping_t os_remap(os_mapping_t m, size_t new_size, size_t align) {
  os_mapping_t r = m;
  int saved = errno;
  void *p = mremap(m.base, m.size, new_size, 0);
  if (p == MAP_FAILED && align > OS_PAGE) {
    /* Reserve an aligned destination, then move the pages onto it. */
    os_mapping_t dst = os_map_aligned(new_size, align);
    if (dst.base) {
      p = mremap(m.base, m.size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst.base);
      count_mapped(-(ptrdiff_t)dst.size); /* the reservation is replaced */
      if (p == MAP_FAILED) munmap(dst.base, dst.size);
    }
  } else if (p == MAP_FAILED) {
    p = mremap(m.base, m.size, new_size, MREMAP_MAYMOVE);
  }
  errno = saved;
  if (p == MAP_FAILED) {
    r.base = NULL;
    return r;
  }
  count_mapped((ptrdiff_t)new_size - (ptrdiff_t)m.size);
  r.base = p;
  r.size = new_size;
  return r;
}

void os_decommit(void *addr, size_t size) {
  if (!size) return;
  int saved = errno;
  if (madvise(addr, size, MADV_DONTNEED) == 0)
    __atomic_add_fetch(&g_decommitted, size, __ATOMIC_RELAXED);
  errno = saved;
}

bool os_protect(void *addr, size_t size, os_prot_t prot) {
  return mprotect(addr, size, prot == OS_PROT_RW ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
}
