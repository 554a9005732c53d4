/* main.c - dispatch: macro <workload> <scale>; see macro.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

const struct macro_workload macro_workloads[] = {
  {"churn", wl_churn},
  {"prodcons", wl_prodcons},
  {"fshare-active", wl_fshare_active},
  {"fshare-passive", wl_fshare_passive},
  {"frag", wl_frag},
  {"trees", wl_trees},
  {"lists", wl_lists},
  {"large", wl_large},
  {"strbuild", wl_strbuild},
  {"larson", wl_larson},
  {"cfrac", wl_cfrac},
  {"xchain", wl_xchain},
  {"shbench", wl_shbench},
  {"gbench-1", wl_gbench_1},
  {"gbench-n", wl_gbench_n},
  {"mstress", wl_mstress},
  {"rptest", wl_rptest},
  {"bigloop", wl_bigloop},
  {NULL, NULL},
};

/* Which object provides malloc: lets the runner confirm LD_PRELOAD took. */
static void print_provider(void) {
  Dl_info info;
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  if (m && dladdr(m, &info) && info.dli_fname)
    printf("malloc_from %s\n", info.dli_fname);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (const struct macro_workload *w = macro_workloads; w->name; w++) puts(w->name);
    return 0;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: macro <workload> <scale> | macro --list\n");
    return 2;
  }
  double scale = atof(argv[2]);
  if (!(scale > 0 && scale <= 100)) {
    fprintf(stderr, "macro: bad scale '%s'\n", argv[2]);
    return 2;
  }
  for (const struct macro_workload *w = macro_workloads; w->name; w++) {
    if (strcmp(w->name, argv[1]) == 0) {
      print_provider();
      double t0 = now_s();
      w->run(scale);
      metric("inner_time_s", now_s() - t0);
      metric("peak_rss_kb", (double)tk_peak_rss_kib());
      return 0;
    }
  }
  fprintf(stderr, "macro: unknown workload '%s' (try --list)\n", argv[1]);
  return 2;
}
