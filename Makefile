# Allocator research suite: top-level build.
#
#   make            build every heap (shared + prefixed libraries)
#   make test       deps, build, unit + contract + stress + real programs + smokes
#   make bench      deps, build, full benchmark run, report in reports/
#   make verify     the verify/ suite alone (contract, misuse, memcheck)
#   make fuzz       AFL++ campaigns (FUZZ_SECONDS per target)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Presets (validated below; an unknown value is an error):
#   CC=gcc|clang   BUILD_TYPE=release|debug   QUICK=0|1   V=1 (show commands)

# ---- the heaps: adding one is one folder and one word here --------------------
HEAPS := unsafe

# ---- presets -----------------------------------------------------------------
CC         ?= gcc
BUILD_TYPE ?= release
QUICK      ?= 0
PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= build
LIBDIR     := $(BUILD)/lib
V          ?= 0
Q          := $(if $(filter 1,$(V)),,@)

ifeq ($(filter $(notdir $(CC)),gcc clang gcc-12 clang-14 cc afl-clang-fast afl-cc),)
  $(error CC=$(CC): use gcc or clang)
endif
ifeq ($(filter $(BUILD_TYPE),release debug),)
  $(error BUILD_TYPE=$(BUILD_TYPE): use release or debug)
endif
ifeq ($(filter $(QUICK),0 1),)
  $(error QUICK=$(QUICK): use 0 or 1)
endif

ifeq ($(findstring clang,$(CC)),clang)
  CXX ?= clang++
  DWARF := -gdwarf-4
else
  DWARF := -g
endif
ifeq ($(origin CXX),default)
  CXX := $(if $(findstring clang,$(CC)),clang++,g++)
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
WARN_CXX := -Wall -Wextra -Werror -Wno-unused-parameter
OPT_release := -O2 -DNDEBUG
OPT_debug   := -O0 -DALLOC_DEBUG=1
OPT      := $(OPT_$(BUILD_TYPE)) $(DWARF)
# Heap code: no builtin malloc assumptions, hidden by default, no plt for our own calls.
HEAP_CFLAGS := -std=gnu11 $(WARN) $(OPT) -fPIC -fvisibility=hidden -fno-builtin-malloc \
               -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
               -ftls-model=initial-exec -fno-plt -fno-semantic-interposition \
               -D_GNU_SOURCE -Icommon
HEAP_CXXFLAGS := -std=gnu++17 $(WARN_CXX) $(OPT) -fPIC -fvisibility=hidden -Icommon
HEAP_LDLIBS := -lpthread

# ---- the shared layer, compiled once per heap (it binds to the heap at compile time)
COMMON_SRC := $(wildcard common/*.c)

# $(1) = heap name.  Objects: build/obj/<heap>/{so,pre}/...
define HEAP_RULES
$(1)_SRC := $$(wildcard alloc_$(1)/*.c) $$(COMMON_SRC)
$(1)_SO_OBJ  := $$(patsubst %.c,$(BUILD)/obj/$(1)/so/%.o,$$($(1)_SRC))
$(1)_PRE_OBJ := $$(patsubst %.c,$(BUILD)/obj/$(1)/pre/%.o,$$($(1)_SRC))
$(1)_CXX_OBJ := $(BUILD)/obj/$(1)/so/common/override_cxx.o

$(BUILD)/obj/$(1)/so/%.o: %.c $$(wildcard common/*.h alloc_$(1)/*.h) Makefile
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(HEAP_CFLAGS) -Ialloc_$(1) -DHEAP_NAME='"alloc_$(1)"' -DALLOC_PREFIX= -c $$< -o $$@
$(BUILD)/obj/$(1)/pre/%.o: %.c $$(wildcard common/*.h alloc_$(1)/*.h) Makefile
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(HEAP_CFLAGS) -Ialloc_$(1) -DHEAP_NAME='"alloc_$(1)"' -DALLOC_PREFIX=$(1)_ -c $$< -o $$@
$$($(1)_CXX_OBJ): common/override_cxx.cc common/alloc_api.h Makefile
	@mkdir -p $$(@D)
	@echo "  CXX     $$@"
	$$(Q)$$(CXX) $$(HEAP_CXXFLAGS) -c $$< -o $$@

$(LIBDIR)/liballoc_$(1).so: $$($(1)_SO_OBJ) $$($(1)_CXX_OBJ)
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	$$(Q)$$(CXX) -shared -Wl,-soname,liballoc_$(1).so -Wl,-z,now -Wl,--no-undefined \
	    -o $$@ $$^ $$(HEAP_LDLIBS)

# The prefixed library is one relocatable object whose hidden symbols are made
# local, so several heaps (whose internals share names) link into one program.
$(LIBDIR)/liballoc_$(1)_prefixed.a: $$($(1)_PRE_OBJ)
	@mkdir -p $$(@D)
	@echo "  AR      $$@"
	$$(Q)ld -r -o $(BUILD)/obj/$(1)/pre/alloc_$(1).o $$^
	$$(Q)objcopy --localize-hidden $(BUILD)/obj/$(1)/pre/alloc_$(1).o
	$$(Q)rm -f $$@ && ar rcs $$@ $(BUILD)/obj/$(1)/pre/alloc_$(1).o

HEAP_LIBS += $(LIBDIR)/liballoc_$(1).so $(LIBDIR)/liballoc_$(1)_prefixed.a
endef
$(foreach h,$(HEAPS),$(eval $(call HEAP_RULES,$(h))))

.PHONY: all deps test bench verify fuzz install clean
all: $(HEAP_LIBS)

deps:
	@bash mk/deps.sh

# What every script under verify/, bench/, fuzz/ is told about the build.
export BUILD LIBDIR HEAPS CC CXX QUICK
export HARNESS_CFLAGS := -std=gnu11 $(WARN) -O2 $(DWARF) -D_GNU_SOURCE -Icommon -pthread

# Each harness folder adds its build targets (<dir>-build) and run scripts.
include verify/verify.mk
include verify/sanitize.mk
include bench/bench.mk
include fuzz/fuzz.mk

test: deps all unit-build verify-build bench-build fuzz-build
	@bash verify/run_tests.sh all

verify: deps all verify-build
	@bash verify/run_tests.sh verify

bench: deps all bench-build
	@bash bench/run.sh

fuzz: deps all fuzz-build
	@bash fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/alloc
	install -m 0755 $(foreach h,$(HEAPS),$(LIBDIR)/liballoc_$(h).so) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(foreach h,$(HEAPS),$(LIBDIR)/liballoc_$(h)_prefixed.a) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 common/alloc_api.h $(DESTDIR)$(PREFIX)/include/alloc/

clean:
	rm -rf $(BUILD)

# ---- unit tests (verify/unit): shared layer against the first heap's objects,
# heap tests against each heap's prefixed library.
UNIT_CFLAGS := -std=gnu11 $(WARN) -O1 $(DWARF) -D_GNU_SOURCE -Icommon -Iverify/unit -pthread
$(BUILD)/unit/test_common: verify/unit/test_common.c verify/unit/check.h $($(firstword $(HEAPS))_PRE_OBJ)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(UNIT_CFLAGS) -Ialloc_$(firstword $(HEAPS)) -DHEAP_NAME='"alloc_$(firstword $(HEAPS))"' \
	    -o $@ $(filter %.c %.o,$^) -lpthread
define UNIT_HEAP_RULE
$(BUILD)/unit/test_heap_$(1): verify/unit/test_heap.c verify/unit/check.h $(LIBDIR)/liballoc_$(1)_prefixed.a
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(UNIT_CFLAGS) -DHEAP_PREFIX=$(1)_ -o $$@ $$< $(LIBDIR)/liballoc_$(1)_prefixed.a -lpthread
UNIT_TESTS += $(BUILD)/unit/test_heap_$(1)
endef
$(foreach h,$(HEAPS),$(eval $(call UNIT_HEAP_RULE,$(h))))
UNIT_TESTS += $(BUILD)/unit/test_common
unit-build: $(UNIT_TESTS)
.PHONY: unit-build
