# verify/sanitize.mk - the heaps' own tests under the sanitizers, and the
# memcheck programs against a clang-built heap.  Included by the top Makefile.
#
#   $(BUILD)/asan/  ASan+UBSan: unit tests (test_common, test_heap_<heap>
#                   and every other per-heap test_*.c) and stress_<heap>
#   $(BUILD)/tsan/  TSan: stress_<heap>
#   $(BUILD)/clang/ liballoc_<heap>.so and mc_* built by clang (a sub-make
#                   with CC=clang; -gdwarf-4 comes from the top Makefile)
#
# Each heap is linked by its prefixed names (liballoc_<heap>_prefixed.a
# rebuilt from the same sources with the sanitizer's flags), so ASan and TSan
# keep their own malloc for the harness and libc while our heap's code is
# instrumented too.  Reports stop the run: -fno-sanitize-recover=all here,
# halt_on_error in verify/sanitize/run.sh, which run_tests.sh calls.
# The heap is built with its debug assertions on (ALLOC_DEBUG=1) at -O1.

SAN_KINDS  := asan tsan
SAN_asan   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_tsan   := -fsanitize=thread -fno-omit-frame-pointer
SAN_OPT    := -O1 $(DWARF) -DALLOC_DEBUG=1
# TSan runs ~10x slower: shorter thread lives keep thread exit and heap
# adoption (where it found a race) in every run.
SAN_STRESS_tsan := -DOPS_PER_LIFE=4000
SAN_HEAP_CFLAGS := $(filter-out $(OPT),$(HEAP_CFLAGS)) $(SAN_OPT)
SAN_DEPS   := verify/sanitize.mk Makefile
# A heap's include path and header folders as the top Makefile has them
# (<heap>_INC / <heap>_DIRS where a heap builds on another's engine).
san_inc  = $(or $($(1)_INC),-Ialloc_$(1))
san_dirs = $(or $($(1)_DIRS),alloc_$(1))
# The per-heap unit tests, as the top Makefile's UNIT_HEAP_RULE has them:
# test_heap and test_return for every heap, test_<heap> for its own heap.
san_unit_tests = test_heap test_return $(if $(wildcard verify/unit/test_$(1).c),test_$(1))

# $(1) = heap, $(2) = sanitizer kind.
define SAN_HEAP_RULES
$(2)_$(1)_OBJ := $$(patsubst %.c,$(BUILD)/$(2)/obj/$(1)/%.o,$$($(1)_SRC))
$(BUILD)/$(2)/obj/$(1)/%.o: %.c $$(wildcard common/*.h $$(addsuffix /*.h,$$(call san_dirs,$(1)))) \
    $(GEN)/every_heap_option.h $(SAN_DEPS)
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(SAN_HEAP_CFLAGS) $$(SAN_$(2)) $$(call san_inc,$(1)) -I$(GEN) -DHEAP_NAME='"alloc_$(1)"' \
	    -DALLOC_PREFIX=$(1)_ -DALLOC_PRELOAD=0 -c $$< -o $$@
# As the top Makefile's prefixed library: one object, hidden symbols local.
$(BUILD)/$(2)/lib/liballoc_$(1)_prefixed.a: $$($(2)_$(1)_OBJ)
	@mkdir -p $$(@D)
	@echo "  AR      $$@"
	$$(Q)ld -r -o $(BUILD)/$(2)/obj/$(1)/alloc_$(1).o $$^
	$$(Q)objcopy --localize-hidden $(BUILD)/$(2)/obj/$(1)/alloc_$(1).o
	$$(Q)rm -f $$@ && ar rcs $$@ $(BUILD)/$(2)/obj/$(1)/alloc_$(1).o
$(BUILD)/$(2)/verify/stress_$(1): verify/stress.c verify/vtest.h verify/sanitize/bind.h \
    $(BUILD)/$(2)/lib/liballoc_$(1)_prefixed.a
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(VERIFY_CFLAGS) $$(SAN_$(2)) $$(SAN_STRESS_$(2)) -DHEAP_PREFIX=$(1)_ -o $$@ $$< \
	    $(BUILD)/$(2)/lib/liballoc_$(1)_prefixed.a -ldl -lpthread
SAN_BINS += $(BUILD)/$(2)/verify/stress_$(1)
endef
$(foreach k,$(SAN_KINDS),$(foreach h,$(HEAPS),$(eval $(call SAN_HEAP_RULES,$(h),$(k)))))

# The unit tests, as the top Makefile builds them, with ASan+UBSan:
# $(1) = heap, $(2) = test name (test_heap -> test_heap_<heap>).
define SAN_UNIT_RULE
$(BUILD)/asan/unit/$(2)_$(1): verify/unit/$(2).c $$(wildcard verify/unit/*.h) $(BUILD)/asan/lib/liballoc_$(1)_prefixed.a
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(UNIT_CFLAGS) $$(SAN_asan) -DHEAP_PREFIX=$(1)_ -o $$@ $$< \
	    $(BUILD)/asan/lib/liballoc_$(1)_prefixed.a -lpthread
SAN_BINS += $(BUILD)/asan/unit/$(2)_$(1)
endef
$(foreach h,$(HEAPS),$(foreach t,$(call san_unit_tests,$(h)),$(eval $(call SAN_UNIT_RULE,$(h),$(t)))))
# test_common: the first heap's objects but options.c, which is built knowing
# the stand-in heap's options (as the top Makefile's test_common).
SAN_FIRST := $(firstword $(HEAPS))
$(BUILD)/asan/unit/options_fixture.o: common/options.c $(wildcard common/*.h alloc_$(SAN_FIRST)/*.h) \
    $(BUILD)/unit/gen/every_heap_option.h $(SAN_DEPS)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(SAN_HEAP_CFLAGS) $(SAN_asan) $(call san_inc,$(SAN_FIRST)) -I$(BUILD)/unit/gen \
	    -DHEAP_NAME='"alloc_$(SAN_FIRST)"' -DALLOC_PREFIX=$(SAN_FIRST)_ -DALLOC_PRELOAD=0 -c $< -o $@
$(BUILD)/asan/unit/test_common: verify/unit/test_common.c verify/unit/check.h $(BUILD)/asan/unit/options_fixture.o \
    $(filter-out %/common/options.o,$(asan_$(SAN_FIRST)_OBJ))
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(UNIT_CFLAGS) $(SAN_asan) $(call san_inc,$(SAN_FIRST)) -DHEAP_NAME='"alloc_$(SAN_FIRST)"' \
	    -DHEAP_PREFIX=$(SAN_FIRST)_ -o $@ $(filter %.c %.o,$^) -lpthread
SAN_BINS += $(BUILD)/asan/unit/test_common

# memcheck against a clang-built heap: the same programs and checks, built
# by a sub-make into $(BUILD)/clang (clang-memcheck-files is its goal there).
.PHONY: san-build clang-memcheck-build clang-memcheck-files
clang-memcheck-build:
	@$(MAKE) --no-print-directory CC=clang CXX=clang++ BUILD=$(BUILD)/clang clang-memcheck-files
clang-memcheck-files: $(foreach h,$(HEAPS),$(LIBDIR)/liballoc_$(h).so) $(VERIFY_OUT)/mc_bugs $(VERIFY_OUT)/mc_clean
	@:

san-build: $(SAN_BINS) clang-memcheck-build
verify-build: san-build
