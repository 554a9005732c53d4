/*
 * libfuzzer.c - the same harness as a libFuzzer target (the second engine).
 *
 * fuzz.mk's fuzz-libfuzzer builds $(BUILD)/libfuzzer/fuzz/lf_<heap> with
 * clang -fsanitize=fuzzer,address,undefined over this file, harness.c,
 * misuse.c and model.c, linked with the heap's prefixed library compiled with
 * -fsanitize=address,undefined.  A bug in the heap or the harness then stops
 * with a sanitizer's report, not just the model's FAIL line or a signal.
 * Run it as any libFuzzer target (fuzz/README.md, "libFuzzer"):
 *   build/libfuzzer/fuzz/lf_hybrid -dict=fuzz/alloc.dict -max_total_time=60 DIR fuzz/corpus
 * FUZZ_VALIDATE_COUNT=0 and FUZZ_THREADS=1 work as in driver.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t (*run_input)(const unsigned char *, size_t) = fuzz_run_input;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *th = getenv("FUZZ_THREADS");
  if (th && !strcmp(th, "1")) run_input = fuzz_run_input_threads;
  const char *vc = getenv("FUZZ_VALIDATE_COUNT");
  fuzz_ctx.skip_validate_count = vc && !strcmp(vc, "0");
  fuzz_ctx.save_dir = NULL; /* libFuzzer keeps the crashing input itself */
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run_input(data, size);
  return 0;
}
