/* stats.c - format a heap's statistics as text or JSON, without allocating. */
#include <string.h>

#include "fatal.h"
#include "heap.h"
#include "options.h"
#include "os.h"
#include "stats.h"
#include "util.h"

/* A small stack buffer flushed with write(2). */
typedef struct out {
  int fd;
  size_t len;
  char buf[2048];
} out_t;

static void out_flush(out_t *o) {
  o->buf[o->len] = 0;
  alloc_write_str(o->fd, o->buf);
  o->len = 0;
}
static void out_str(out_t *o, const char *s) {
  for (; *s; s++) {
    if (o->len == sizeof o->buf - 1) out_flush(o);
    o->buf[o->len++] = *s;
  }
}
static void out_u64(out_t *o, uint64_t v) {
  char num[24];
  out_str(o, alloc_fmt_u64(num, v, 10));
}
/* Right-align v in a column of width w (text table). */
static void out_col(out_t *o, uint64_t v, size_t w) {
  char num[24];
  alloc_fmt_u64(num, v, 10);
  for (size_t n = strlen(num); n < w; n++) out_str(o, " ");
  out_str(o, num);
}

void stats_print(int fd, int json) {
  static alloc_stats_t s; /* large; callers are serialised by the exit path */
  memset(&s, 0, sizeof s);
  heap_stats(&s);
  s.bytes_mapped = os_bytes_mapped();
  s.bytes_mapped_peak = os_bytes_mapped_peak();
  s.bytes_decommitted = os_bytes_decommitted();
  out_t o = {.fd = fd};
  if (json) {
    out_str(&o, "{\"heap\":\"" HEAP_NAME "\"");
#define ALLOC_STAT_JSON(field, help) out_str(&o, ",\"" #field "\":"), out_u64(&o, s.field);
    ALLOC_EVERY_STAT(ALLOC_STAT_JSON)
#undef ALLOC_STAT_JSON
    out_str(&o, ",\"classes\":[");
    for (uint32_t i = 0; i < s.nclasses; i++) {
      out_str(&o, i ? ",{\"size\":" : "{\"size\":");
      out_u64(&o, s.cls[i].size);
      out_str(&o, ",\"allocs\":");
      out_u64(&o, s.cls[i].allocs);
      out_str(&o, ",\"frees\":");
      out_u64(&o, s.cls[i].frees);
      out_str(&o, "}");
    }
    out_str(&o, "]}\n");
  } else {
    out_str(&o, HEAP_NAME " statistics\n");
#define ALLOC_STAT_TEXT(field, help) \
  out_col(&o, s.field, 16), out_str(&o, "  " #field " - " help "\n");
    ALLOC_EVERY_STAT(ALLOC_STAT_TEXT)
#undef ALLOC_STAT_TEXT
    out_str(&o, "      class size          allocs           frees            live\n");
    for (uint32_t i = 0; i < s.nclasses; i++) {
      if (!s.cls[i].allocs) continue;
      out_col(&o, s.cls[i].size, 16);
      out_col(&o, s.cls[i].allocs, 16);
      out_col(&o, s.cls[i].frees, 16);
      out_col(&o, s.cls[i].allocs - s.cls[i].frees, 16);
      out_str(&o, "\n");
    }
  }
  out_flush(&o);
}

/* Print at exit when ALLOC_SHOW_STATS asks for it. */
__attribute__((destructor)) static void stats_at_exit(void) {
  if (alloc_opt.show_stats) stats_print((int)alloc_opt.stats_fd, alloc_opt.show_stats == 2);
}
