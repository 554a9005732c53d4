# bench/bench.mk - build rules for the benchmark harness (included by the top
# Makefile, which exports BUILD, CC, CXX, HARNESS_CFLAGS).
#
#   make bench-build   build/bench/{micro,icount,macro}
#
# Every binary here links NO heap: the allocator under test comes in through
# LD_PRELOAD at run time (bench/run.sh), so all allocators run the same binary.

BENCH_OUT := $(BUILD)/bench
# The workloads call malloc & co. for their side effects; never let the
# compiler fold or remove them.
BENCH_CFLAGS := $(HARNESS_CFLAGS) -fno-builtin-malloc -fno-builtin-free \
                -fno-builtin-calloc -fno-builtin-realloc
BENCH_CXXFLAGS := -std=gnu++17 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -pthread

BENCH_MACRO_SRC := $(wildcard bench/macro/*.c)
BENCH_MACRO_OBJ := $(patsubst bench/%.c,$(BENCH_OUT)/obj/%.o,$(BENCH_MACRO_SRC))
BENCH_BINS := $(BENCH_OUT)/micro $(BENCH_OUT)/icount $(BENCH_OUT)/macro

.PHONY: bench-build
bench-build: $(BENCH_BINS)

$(BENCH_OUT)/obj/%.o: bench/%.c $(wildcard bench/micro/*.h bench/macro/*.h) harness/testkit.h bench/bench.mk
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -Ibench/micro -Ibench/macro -c $< -o $@

$(BENCH_OUT)/obj/micro/driver.o: bench/micro/driver.cc bench/micro/micro.h bench/bench.mk
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) -Ibench/micro -c $< -o $@

$(BENCH_OUT)/micro: $(BENCH_OUT)/obj/micro/driver.o $(BENCH_OUT)/obj/micro/micro.o
	$(CXX) $(BENCH_CXXFLAGS) -o $@ $^ -lbenchmark -lpthread

$(BENCH_OUT)/icount: $(BENCH_OUT)/obj/micro/icount.o
	$(CC) $(BENCH_CFLAGS) -o $@ $^

$(BENCH_OUT)/macro: $(BENCH_MACRO_OBJ)
	$(CC) $(BENCH_CFLAGS) -o $@ $^ -lpthread -ldl -lm
