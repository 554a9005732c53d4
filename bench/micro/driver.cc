// driver.cc - registers every C workload of micro.c with Google Benchmark.
//
// Thin on purpose: the workloads and their parameters live in micro.c; this
// file only turns each (case, thread count) into a benchmark named
// "<case>/threads:<n>", timed in real time with items_per_second counting
// operations over all threads.  Usual Google Benchmark flags apply
// (--benchmark_filter, --benchmark_min_time, --benchmark_out=...json).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "micro.h"

static void run_case(benchmark::State &state, const micro_case *c) {
  micro_ctx *ctx = micro_ctx_new(c, state.thread_index(), state.threads());
  if (!ctx) {
    state.SkipWithError("micro_ctx_new failed");
    for (auto _ : state) {
    }
    return;
  }
  for (auto _ : state) c->fn(ctx);
  state.SetItemsProcessed(state.iterations() * c->items);
  micro_ctx_free(ctx);
}

int main(int argc, char **argv) {
  char name[128];
  for (int i = 0; i < micro_ncases; i++) {
    micro_case_name(&micro_cases[i], name, sizeof name);
    auto *b = benchmark::RegisterBenchmark(name, run_case, &micro_cases[i]);
    for (int t = 0; t < micro_nthreads; t++) b->Threads(micro_threads[t]);
    b->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
