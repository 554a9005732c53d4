// cases_cxx.cc - C++ size and kind mismatch: sized delete with the wrong
// size, memory from new[] (with an array cookie) given to free() or to plain
// delete.
#include <cstdlib>
#include <new>

#include "misuse.h"

namespace {
struct T {
  long v = 7;
  ~T() { hide(this); }  // non-trivial: new T[n] stores a cookie in front
};
}  // namespace

extern "C" int misuse_cxx_sized_delete_wrong(void) {
  void *p = ::operator new(24);
  reg_size(24);
  reg_size(4096);
  ::operator delete(hide(p), 4096);
  return MR_SURVIVED;
}

extern "C" int misuse_cxx_newarr_free(void) {
  T *a = new T[4];
  reg_size(4 * sizeof(T) + sizeof(size_t));
  std::free(hide(a));
  return MR_SURVIVED;
}

extern "C" int misuse_cxx_newarr_delete(void) {
  T *a = static_cast<T *>(hide(new T[4]));
  reg_size(4 * sizeof(T) + sizeof(size_t));
  delete a;
  return MR_SURVIVED;
}
