/* os.h - the OS layer: the only code in the suite that maps, unmaps, protects
 * or advises memory (only os.c includes <sys/mman.h>).
 *
 * Contract of every primitive:
 *  - sizes and addresses passed in are multiples of OS_PAGE (4 KiB); the
 *    functions assert nothing at run time, callers round first;
 *  - a mapping travels as an os_mapping_t: its base, its size and its
 *    protection, so whoever unmaps it knows exactly what it owns;
 *  - new mappings are private, anonymous, read-write and ZERO-FILLED;
 *  - failure returns a mapping with base == NULL (never MAP_FAILED), errno is
 *    left as the kernel set it; nothing aborts here;
 *  - every byte mapped and unmapped is counted in the bytes-mapped statistic.
 */
#ifndef ALLOC_OS_H
#define ALLOC_OS_H

#include <stddef.h>
#include <stdbool.h>

#define OS_PAGE ((size_t)4096)

typedef enum { OS_PROT_NONE = 0, OS_PROT_RW = 1 } os_prot_t;

typedef struct os_mapping {
  void *base;     /* NULL when the mapping failed */
  size_t size;    /* bytes, a multiple of OS_PAGE */
  os_prot_t prot;
} os_mapping_t;

/* Map size bytes, RW, zeroed. */
os_mapping_t os_map(size_t size);
/* Map size bytes whose base is a multiple of align (a power of two >= page),
 * RW, zeroed.  The over-mapped slack is unmapped again before returning. */
os_mapping_t os_map_aligned(size_t size, size_t align);
/* Map size bytes such that base + offset is a multiple of align. */
os_mapping_t os_map_aligned_at(size_t size, size_t align, size_t offset);
/* Give the whole mapping back. */
void os_unmap(os_mapping_t m);
/* Give back the part [addr, addr+size) of some mapping (trimming). */
void os_unmap_range(void *addr, size_t size);
/* Grow or shrink m to new_size without copying: in place when the kernel can,
 * otherwise moved to a new base that keeps the alignment `align` (page tables
 * are moved, not bytes).  Returns the new mapping, or base == NULL (m intact). */
os_mapping_t os_remap(os_mapping_t m, size_t new_size, size_t align);
/* Tell the kernel [addr, addr+size) is unused: the pages are released and read
 * back as zero; the range stays mapped and RW. */
void os_decommit(void *addr, size_t size);
/* Change the protection of [addr, addr+size) (guard pages). false on failure. */
bool os_protect(void *addr, size_t size, os_prot_t prot);

/* Bytes currently mapped through this layer, and the peak. */
size_t os_bytes_mapped(void);
size_t os_bytes_mapped_peak(void);
/* Bytes given back by os_decommit (cumulative). */
size_t os_bytes_decommitted(void);

#endif
