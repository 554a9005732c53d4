// override_cxx.cc - the C++ allocation operators, for the LD_PRELOAD build.
//
// Each forwards to the C surface of the same library.  Failure follows the
// standard: call the new_handler if one is installed and retry, otherwise
// throw std::bad_alloc; the nothrow forms return nullptr instead.  Sized
// deletes reach free_sized so a heap can check the size it is told.
// Each operator also tells the heap the allocation kind (heap.h:
// heap_kind_note after new / new[], heap_kind_check before delete /
// delete[]); the weak no-ops below stand in for heaps that do not track it.
//
// No C++ runtime is linked.  A C program that preloads a heap would
// otherwise load libstdc++ and pay its resident pages (about 1.1 MiB of a
// 1.8 MiB process, measured with cfrac), which no C allocator pays.  What
// failure needs from the runtime is looked up when a failure happens, in the
// runtime the program loaded: the new_handler (std::get_new_handler), the
// throw (std::__throw_bad_alloc), and for the nothrow forms the runtime's own
// nothrow operator, which calls the throwing one (ours: the program's
// operator new is the preloaded one) and turns what it throws into nullptr.
// Built with -fno-exceptions and with unwind tables (Makefile), so an
// exception from the handler or the throw passes through these frames.
#include <cstddef>
#include <cstdlib>
#include <dlfcn.h>
#include <new>
#include <unistd.h>

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

template <class F> F runtime_fn(void *where, const char *name) {
  return reinterpret_cast<F>(dlsym(where, name));
}

std::new_handler current_handler() {
  auto get = runtime_fn<std::new_handler (*)()>(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
  return get ? get() : nullptr;
}

[[noreturn]] void throw_bad_alloc() {
  auto raise = runtime_fn<void (*)()>(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
  if (raise) raise();  // does not return
  // Only C++ code calls operator new, so its runtime is loaded; if not,
  // nothing could catch the exception either.
  static const char msg[] = HEAP_NAME ": fatal: operator new failed and no C++ runtime is loaded to throw bad_alloc\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  abort();
}

void *alloc_once(std::size_t n, std::size_t align) { return align ? memalign(align, n) : std::malloc(n); }

void *alloc_or_throw(std::size_t n, std::size_t align) {
  for (;;) {
    if (void *p = alloc_once(n, align)) return p;
    std::new_handler h = current_handler();
    if (!h) throw_bad_alloc();
    h();
  }
}

// The nothrow forms: with no handler installed a failure is nullptr at once;
// with one, the runtime's own form of the same signature (the next
// definition after this library) runs the handler loop through ours and
// catches.  F is that signature, Args what it is passed.
template <class F, class... Args> void *alloc_nothrow(const char *runtime_name, std::size_t n, std::size_t align,
                                                      Args... args) noexcept {
  if (void *p = alloc_once(n, align)) return p;
  if (!current_handler()) return nullptr;
  F f = runtime_fn<F>(RTLD_NEXT, runtime_name);
  return f ? f(n, args...) : nullptr;
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
using nothrow_new = void *(*)(size_t, const nothrow_t &) noexcept;
using nothrow_new_aligned = void *(*)(size_t, align_val_t, const nothrow_t &) noexcept;
EXPORT void *operator new(size_t n, const nothrow_t &t) noexcept {
  return noted(alloc_nothrow<nothrow_new, const nothrow_t &>("_ZnwmRKSt9nothrow_t", n, 0, t), KIND_NEW);
}
EXPORT void *operator new[](size_t n, const nothrow_t &t) noexcept {
  return noted(alloc_nothrow<nothrow_new, const nothrow_t &>("_ZnamRKSt9nothrow_t", n, 0, t), KIND_NEW_ARRAY);
}
EXPORT void *operator new(size_t n, align_val_t a) { return noted(alloc_or_throw(n, size_t(a)), KIND_NEW); }
EXPORT void *operator new[](size_t n, align_val_t a) {
  return noted(alloc_or_throw(n, size_t(a)), KIND_NEW_ARRAY);
}
EXPORT void *operator new(size_t n, align_val_t a, const nothrow_t &t) noexcept {
  return noted(alloc_nothrow<nothrow_new_aligned, align_val_t, const nothrow_t &>(
                   "_ZnwmSt11align_val_tRKSt9nothrow_t", n, size_t(a), a, t),
               KIND_NEW);
}
EXPORT void *operator new[](size_t n, align_val_t a, const nothrow_t &t) noexcept {
  return noted(alloc_nothrow<nothrow_new_aligned, align_val_t, const nothrow_t &>(
                   "_ZnamSt11align_val_tRKSt9nothrow_t", n, size_t(a), a, t),
               KIND_NEW_ARRAY);
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
