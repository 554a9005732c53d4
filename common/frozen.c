/* frozen.c - the one page of start-up globals (frozen.h). */
#include "frozen.h"

alloc_frozen_page_t alloc_frozen __attribute__((aligned(OS_PAGE))) = {
    .f = {.opt = {
#define ALLOC_OPTION_DEFAULT(field, NAME, def, min, max, words, flags, help) .field = def,
              ALLOC_EVERY_OPTION(ALLOC_OPTION_DEFAULT)
#undef ALLOC_OPTION_DEFAULT
          }}};

bool frozen_seal(void) {
  if (alloc_frozen.f.sealed) return true;
  if (os_page_size() > OS_PAGE) return false;
  alloc_frozen.f.sealed = true;
  if (os_seal(&alloc_frozen, sizeof alloc_frozen)) return true;
  alloc_frozen.f.sealed = false;
  return false;
}
