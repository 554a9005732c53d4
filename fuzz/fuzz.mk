# fuzz/fuzz.mk - included by the top Makefile, run from the top directory.
#
#   fuzz-build   one plain harness per heap in $(HEAPS), linked against that
#                heap's prefixed library: $(BUILD)/fuzz/fuzz_<heap>; plus the
#                test double $(BUILD)/fuzz/fuzz_glibcdouble (glibc underneath,
#                used by the smoke test to test the harness itself).
#
# The AFL builds are the same rules run by fuzz/run.sh with
# BUILD=$(BUILD)/afl CC=afl-clang-fast, so one source serves both.

FUZZ_SRC  := fuzz/harness.c fuzz/model.c fuzz/driver.c fuzz/seeds.c
FUZZ_DEPS := $(FUZZ_SRC) $(wildcard fuzz/*.h) harness/testkit.h common/alloc_api.h fuzz/fuzz.mk
FUZZ_BINS := $(foreach h,$(HEAPS),$(BUILD)/fuzz/fuzz_$(h)) $(BUILD)/fuzz/fuzz_glibcdouble

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

# The test double: never a real target (its own rule, so the pattern below
# cannot pick it up).
$(BUILD)/fuzz/fuzz_glibcdouble: $(FUZZ_DEPS) fuzz/testdouble_glibc.c
	@mkdir -p $(@D)
	$(CC) $(HARNESS_CFLAGS) -DFUZZ_HEAP=glibcdouble $(FUZZ_SRC) fuzz/testdouble_glibc.c \
	    -o $@ -lpthread

$(BUILD)/fuzz/fuzz_%: $(FUZZ_DEPS) $(LIBDIR)/liballoc_%_prefixed.a
	@mkdir -p $(@D)
	$(CC) $(HARNESS_CFLAGS) -DFUZZ_HEAP=$* $(FUZZ_SRC) $(LIBDIR)/liballoc_$*_prefixed.a \
	    -o $@ -lpthread
