// override_cxx.cc - the C++ allocation operators, for the LD_PRELOAD build.
//
// Each forwards to the C surface of the same library.  Failure follows the
// standard: call the new_handler if one is installed and retry, otherwise
// throw std::bad_alloc; the nothrow forms return nullptr instead.  Sized
// deletes reach free_sized so a heap can check the size it is told.
// Each operator also tells the heap the allocation kind (heap.h:
// heap_kind_note after new / new[], heap_kind_check before delete /
// delete[]); the weak no-ops below stand in for heaps that do not track it.
#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void free_sized(void *p, std::size_t n);
void free_aligned_sized(void *p, std::size_t align, std::size_t n);
void *memalign(std::size_t align, std::size_t n);
void heap_kind_note(void *p, unsigned kind);
void heap_kind_check(void *p, unsigned kind);
__attribute__((weak)) void heap_kind_note(void *, unsigned) {}
__attribute__((weak)) void heap_kind_check(void *, unsigned) {}
}

#define EXPORT __attribute__((visibility("default")))

namespace {

enum : unsigned { KIND_NEW = 1, KIND_NEW_ARRAY = 2 };  // heap.h's HEAP_KIND_*

void *alloc_or_throw(std::size_t n, std::size_t align) {
  for (;;) {
    void *p = align ? memalign(align, n) : std::malloc(n);
    if (p) return p;
    std::new_handler h = std::get_new_handler();
    if (!h) throw std::bad_alloc();
    h();
  }
}

void *alloc_nothrow(std::size_t n, std::size_t align) noexcept {
  try {
    return alloc_or_throw(n, align);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

using std::align_val_t;
using std::nothrow_t;
using std::size_t;

namespace {
inline void *noted(void *p, unsigned kind) {
  if (p) heap_kind_note(p, kind);
  return p;
}
inline void kind_free(void *p, unsigned kind) {
  if (!p) return;
  heap_kind_check(p, kind);
  std::free(p);
}
inline void kind_free_sized(void *p, size_t n, unsigned kind) {
  if (!p) return;
  heap_kind_check(p, kind);
  free_sized(p, n);
}
inline void kind_free_aligned_sized(void *p, size_t a, size_t n, unsigned kind) {
  if (!p) return;
  heap_kind_check(p, kind);
  free_aligned_sized(p, a, n);
}
}  // namespace

EXPORT void *operator new(size_t n) { return noted(alloc_or_throw(n, 0), KIND_NEW); }
EXPORT void *operator new[](size_t n) { return noted(alloc_or_throw(n, 0), KIND_NEW_ARRAY); }
EXPORT void *operator new(size_t n, const nothrow_t &) noexcept {
  return noted(alloc_nothrow(n, 0), KIND_NEW);
}
EXPORT void *operator new[](size_t n, const nothrow_t &) noexcept {
  return noted(alloc_nothrow(n, 0), KIND_NEW_ARRAY);
}
EXPORT void *operator new(size_t n, align_val_t a) { return noted(alloc_or_throw(n, size_t(a)), KIND_NEW); }
EXPORT void *operator new[](size_t n, align_val_t a) {
  return noted(alloc_or_throw(n, size_t(a)), KIND_NEW_ARRAY);
}
EXPORT void *operator new(size_t n, align_val_t a, const nothrow_t &) noexcept {
  return noted(alloc_nothrow(n, size_t(a)), KIND_NEW);
}
EXPORT void *operator new[](size_t n, align_val_t a, const nothrow_t &) noexcept {
  return noted(alloc_nothrow(n, size_t(a)), KIND_NEW_ARRAY);
}

EXPORT void operator delete(void *p) noexcept { kind_free(p, KIND_NEW); }
EXPORT void operator delete[](void *p) noexcept { kind_free(p, KIND_NEW_ARRAY); }
EXPORT void operator delete(void *p, const nothrow_t &) noexcept { kind_free(p, KIND_NEW); }
EXPORT void operator delete[](void *p, const nothrow_t &) noexcept { kind_free(p, KIND_NEW_ARRAY); }
EXPORT void operator delete(void *p, size_t n) noexcept { kind_free_sized(p, n, KIND_NEW); }
EXPORT void operator delete[](void *p, size_t n) noexcept { kind_free_sized(p, n, KIND_NEW_ARRAY); }
EXPORT void operator delete(void *p, align_val_t) noexcept { kind_free(p, KIND_NEW); }
EXPORT void operator delete[](void *p, align_val_t) noexcept { kind_free(p, KIND_NEW_ARRAY); }
EXPORT void operator delete(void *p, align_val_t, const nothrow_t &) noexcept { kind_free(p, KIND_NEW); }
EXPORT void operator delete[](void *p, align_val_t, const nothrow_t &) noexcept {
  kind_free(p, KIND_NEW_ARRAY);
}
EXPORT void operator delete(void *p, size_t n, align_val_t a) noexcept {
  kind_free_aligned_sized(p, size_t(a), n, KIND_NEW);
}
EXPORT void operator delete[](void *p, size_t n, align_val_t a) noexcept {
  kind_free_aligned_sized(p, size_t(a), n, KIND_NEW_ARRAY);
}
