// override_cxx.cc - the C++ allocation operators, for the LD_PRELOAD build.
//
// Each forwards to the C surface of the same library.  Failure follows the
// standard: call the new_handler if one is installed and retry, otherwise
// throw std::bad_alloc; the nothrow forms return nullptr instead.  Sized
// deletes reach free_sized so a heap can check the size it is told.
#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void free_sized(void *p, std::size_t n);
void free_aligned_sized(void *p, std::size_t align, std::size_t n);
void *memalign(std::size_t align, std::size_t n);
}

#define EXPORT __attribute__((visibility("default")))

namespace {

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

EXPORT void *operator new(size_t n) { return alloc_or_throw(n, 0); }
EXPORT void *operator new[](size_t n) { return alloc_or_throw(n, 0); }
EXPORT void *operator new(size_t n, const nothrow_t &) noexcept { return alloc_nothrow(n, 0); }
EXPORT void *operator new[](size_t n, const nothrow_t &) noexcept { return alloc_nothrow(n, 0); }
EXPORT void *operator new(size_t n, align_val_t a) { return alloc_or_throw(n, size_t(a)); }
EXPORT void *operator new[](size_t n, align_val_t a) { return alloc_or_throw(n, size_t(a)); }
EXPORT void *operator new(size_t n, align_val_t a, const nothrow_t &) noexcept {
  return alloc_nothrow(n, size_t(a));
}
EXPORT void *operator new[](size_t n, align_val_t a, const nothrow_t &) noexcept {
  return alloc_nothrow(n, size_t(a));
}

EXPORT void operator delete(void *p) noexcept { std::free(p); }
EXPORT void operator delete[](void *p) noexcept { std::free(p); }
EXPORT void operator delete(void *p, const nothrow_t &) noexcept { std::free(p); }
EXPORT void operator delete[](void *p, const nothrow_t &) noexcept { std::free(p); }
EXPORT void operator delete(void *p, size_t n) noexcept { free_sized(p, n); }
EXPORT void operator delete[](void *p, size_t n) noexcept { free_sized(p, n); }
EXPORT void operator delete(void *p, align_val_t) noexcept { std::free(p); }
EXPORT void operator delete[](void *p, align_val_t) noexcept { std::free(p); }
EXPORT void operator delete(void *p, align_val_t, const nothrow_t &) noexcept { std::free(p); }
EXPORT void operator delete[](void *p, align_val_t, const nothrow_t &) noexcept { std::free(p); }
EXPORT void operator delete(void *p, size_t n, align_val_t a) noexcept {
  free_aligned_sized(p, size_t(a), n);
}
EXPORT void operator delete[](void *p, size_t n, align_val_t a) noexcept {
  free_aligned_sized(p, size_t(a), n);
}
