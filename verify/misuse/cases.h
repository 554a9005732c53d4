/* cases.h - the one table of misuse cases: X(name, class, what).
 * A class is what a heap claims (alloc_<heap>/claims.tsv); a class is caught
 * when every case in it is.  Each case is a function misuse_<name> in
 * cases_*.c / cases_cxx.cc.  The invalid-pointer cases are generated below
 * from one list of pointer kinds, for free, realloc and malloc_usable_size. */
#ifndef MISUSE_CASES_H
#define MISUSE_CASES_H

/* Y(X, kind, class suffix, what the pointer is) */
#define BAD_PTRS(Y, X)                                                              \
  Y(X, int1_small, interior, "small block + 1")                                     \
  Y(X, int16_small, interior, "small block + 16")                                   \
  Y(X, int1_large, interior, "large block + 1")                                     \
  Y(X, int16_large, interior, "large block + 16")                                   \
  Y(X, int4096_large, interior, "large block + 4096")                               \
  Y(X, one, wild, "(void *)1")                                                      \
  Y(X, unmapped, wild, "aligned address in unmapped memory")                        \
  Y(X, far, wild, "small block + 1 GiB")                                            \
  Y(X, stack, foreign, "stack address")                                             \
  Y(X, bss, foreign, "static (.bss) address")                                       \
  Y(X, mmap_none, foreign, "pointer into the program's PROT_NONE mmap")             \
  Y(X, mmap_rw, foreign, "pointer into the program's read-write mmap")              \
  Y(X, mmap_forged, foreign, "read-write mmap with a forged chunk header in front")

#define MISUSE_CASES(X)                                                                         \
  X(df_small_now, double_free_small, "free(p); free(p) of a 64 B block")                        \
  X(df_small_between, double_free_small, "free(p); free(q); free(p), 64 B blocks")              \
  X(df_large_now, double_free_large, "free(p); free(p) of a 256 KiB block")                     \
  X(df_large_between, double_free_large, "free(p); free(q); free(p), 256 KiB blocks")           \
  X(df_realloc_small, double_free_realloc, "free of the old pointer after realloc moved 64 B")  \
  X(df_realloc_large, double_free_realloc, "free of the old pointer after realloc moved 256 KiB") \
  X(df_reused_small, double_free_reused, "free(p); q = malloc(64); free(p)")                    \
  X(df_reused_large, double_free_reused, "free(p); q = malloc(256 KiB); free(p)")               \
  BAD_PTRS(X_FREE, X)                                                                              \
  BAD_PTRS(X_REALLOC, X)                                                                           \
  X(realloc_freed, realloc_freed, "realloc of a freed 64 B block")                              \
  BAD_PTRS(X_USABLE, X)                                                                            \
  X(usable_freed, usable_size_freed, "malloc_usable_size of a freed 64 B block")                \
  X(ovf1_small, overflow_small, "write 1 byte past malloc_usable_size of 24 B, then free")      \
  X(ovf8_small, overflow_small, "write 8 bytes past malloc_usable_size of 24 B, then free")     \
  X(ovf1_large, overflow_large, "write 1 byte past malloc_usable_size of 256 KiB, then free")   \
  X(ovf8_large, overflow_large, "write 8 bytes past malloc_usable_size of 256 KiB, then free")  \
  X(unf1_small, underflow, "write 1 byte below a 64 B block (lower neighbour live), free both") \
  X(unf16_small, underflow, "write 16 bytes below a 64 B block (lower neighbour live), free both") \
  X(uaf_write_small, uaf_write, "write a freed 64 B block, then keep allocating 64 B")          \
  X(uaf_write_large, uaf_write, "write a freed 256 KiB block, then keep allocating it")         \
  X(uaf_read_small, uaf_read, "read a freed 64 B block")                                        \
  X(uaf_read_large, uaf_read, "read a freed 256 KiB block")                                     \
  X(malloc0_read, malloc0, "malloc(0): read one byte")                                          \
  X(malloc0_write, malloc0, "malloc(0): write one byte")                                        \
  X(poison8, freelist_poison, "first 8 bytes of a freed 64 B block := planted address")         \
  X(poison16, freelist_poison, "first 16 bytes of a freed 64 B block := planted address")       \
  X(free_sized_wrong, size_mismatch, "free_sized(malloc(24), 4096)")                            \
  X(free_aligned_sized_wrong, size_mismatch, "free_aligned_sized(aligned_alloc(64, 128), 64, 4096)") \
  X(cxx_sized_delete_wrong, size_mismatch, "operator delete(operator new(24), 4096)")           \
  X(cxx_newarr_free, kind_mismatch, "free() of new T[4] (T has a destructor)")                  \
  X(cxx_newarr_delete, kind_mismatch, "plain delete of new T[4] (T has a destructor)")          \
  X(calloc_overflow, calloc_overflow, "sanity: calloc(SIZE_MAX/16 + 2, 16) must return NULL")

#define X_FREE(X, k, c, w) X(free_##k, free_##c, "free(" w ")")
#define X_REALLOC(X, k, c, w) X(realloc_##k, realloc_##c, "realloc(" w ", 64)")
#define X_USABLE(X, k, c, w) X(usable_##k, usable_size_##c, "malloc_usable_size(" w ")")

#endif
