/*
 * harness.h - what the driver (driver.c) and the seed writer (seeds.c) see of
 * the harness.  harness.c is the only file bound to a heap.
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stddef.h>

/* Longest input that is run in full; the rest of a longer input is ignored. */
#define FUZZ_MAX_OPS 8192
/* Allocations that would take the model's live bytes past this are skipped,
 * so that no input can make the harness run out of memory. */
#define FUZZ_MAX_LIVE_BYTES ((size_t)96 << 20)
/* Bytes one input may allocate in all (every request counted, freed or not);
 * later requests are skipped.  Filling and checking every byte of every
 * block, and the page faults of fresh mappings, were most of an input's time
 * (README, "Speed"): 512 KiB keeps an input short while blocks of every
 * size class stay reachable, a large one of 256 KiB or more (the misuse
 * classes' "large") beside others.  The same
 * constant in every build, so an input means the same everywhere. */
#define FUZZ_MAX_INPUT_BYTES ((size_t)512 << 10)
/* THREAD_CYCLE operations one input runs; later ones are skipped.  Each
 * ends the helper thread and makes the next helper operation start one (a
 * clone, a join and the heap's thread-exit flush); in random bytes one
 * operation in 21 is a cycle.  The first two reach a thread's exit. */
#define FUZZ_MAX_THREAD_CYCLES 2
/* The heap's validate walk, asked for by an operation (VALIDATE, FREE_ALL,
 * the walk every 128 operations), runs the first time in an input and then
 * only once this many operations have run since the last walk; the end of
 * an input always walks the heap with its blocks live and again after
 * freeing them.  The walks were 40% of an input's instructions (README,
 * "Speed"). */
#define FUZZ_WALK_GAP 16

/* Run one input against the heap; returns the number of operations run.
 * A violated check does not return: it prints one line and aborts.  On return
 * every block has been freed and the heap has validated as empty. */
size_t fuzz_run_input(const unsigned char *buf, size_t len);

/* The threaded driver (FUZZ_THREADS=1): byte 0 picks 2..4 worker threads,
 * bytes 1..8 are the schedule's seed (little-endian), the rest is an input
 * as above whose operations run one at a time, each on the worker the
 * seeded schedule picks; the same checks, then validate() == 0 once the
 * workers have exited. */
#define FUZZ_THREAD_HEADER 9
size_t fuzz_run_input_threads(const unsigned char *buf, size_t len);

/* The heap this binary drives, e.g. "alloc_unsafe". */
extern const char fuzz_heap_name[];

/* seeds.c: write the seed corpus (one file per scenario) and the AFL
 * dictionary.  Both return 0 on success, print the reason and return -1 if not. */
int fuzz_write_seeds(const char *dir);
int fuzz_write_dict(const char *path);

#endif
