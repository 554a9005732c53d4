/* options.c - the parser behind options.h; no allocation, no locale. */
#include <string.h>

#include "fatal.h"
#include "options.h"
#include "util.h"

extern char **environ;

/* alloc_opt itself is defined in frozen.c (the page sealed after start-up). */

typedef struct option_desc {
  const char *name; /* without the ALLOC_ prefix */
  long *value;
  long min, max;
  const char *words; /* "a|b|c" or "" */
} option_desc_t;

static const option_desc_t g_options[] = {
#define ALLOC_OPTION_DESC(field, NAME, def, min, max, words, help) \
  {#NAME, &alloc_opt.field, min, max, words},
    ALLOC_OPTION_LIST(ALLOC_OPTION_DESC)
#undef ALLOC_OPTION_DESC
};

/* Position of word w (length n) in "a|b|c", or -1. */
static long word_index(const char *words, const char *w) {
  long idx = 0;
  size_t n = strlen(w);
  for (const char *s = words; *s; idx++) {
    const char *bar = strchr(s, '|');
    size_t len = bar ? (size_t)(bar - s) : strlen(s);
    if (len == n && memcmp(s, w, n) == 0) return idx;
    if (!bar) break;
    s = bar + 1;
  }
  return -1;
}

/* Decimal in [min, max], or a word; false if neither. */
static bool parse_value(const option_desc_t *o, const char *s, long *out) {
  long w = word_index(o->words, s);
  if (w >= 0) {
    *out = w;
    return true;
  }
  if (!*s) return false;
  long v = 0;
  for (const char *c = s; *c; c++) {
    if (*c < '0' || *c > '9') return false;
    v = v * 10 + (*c - '0'); /* v <= max before this step: no overflow */
    if (v > o->max) return false;
  }
  if (v < o->min || v > o->max) return false;
  *out = v;
  return true;
}

static void warn_bad(const option_desc_t *o, const char *value) {
  char lo[24], hi[24], msg[160];
  msg[0] = 0;
  strncat(msg, "' is not ", sizeof msg - 1);
  if (*o->words) {
    strncat(msg, o->words, sizeof msg - strlen(msg) - 1);
    strncat(msg, " or ", sizeof msg - strlen(msg) - 1);
  }
  strncat(msg, "a number in ", sizeof msg - strlen(msg) - 1);
  strncat(msg, alloc_fmt_u64(lo, (unsigned long long)o->min, 10), sizeof msg - strlen(msg) - 1);
  strncat(msg, "..", sizeof msg - strlen(msg) - 1);
  strncat(msg, alloc_fmt_u64(hi, (unsigned long long)o->max, 10), sizeof msg - strlen(msg) - 1);
  strncat(msg, "; default kept", sizeof msg - strlen(msg) - 1);
  char head[96];
  head[0] = 0;
  strncat(head, "ALLOC_", sizeof head - 1);
  strncat(head, o->name, sizeof head - strlen(head) - 1);
  strncat(head, "='", sizeof head - strlen(head) - 1);
  alloc_warn(head, value, msg);
}

void options_init(void) {
  if (!environ) return;
  for (char **e = environ; *e; e++) {
    const char *kv = *e;
    if (strncmp(kv, "ALLOC_", 6) != 0) continue;
    const char *name = kv + 6, *eq = strchr(name, '=');
    if (!eq) continue;
    size_t n = (size_t)(eq - name);
    const option_desc_t *o = NULL;
    for (size_t i = 0; i < ARRAY_LEN(g_options); i++)
      if (strlen(g_options[i].name) == n && memcmp(g_options[i].name, name, n) == 0)
        o = &g_options[i];
    if (!o) {
      char var[64];
      var[0] = 0;
      strncat(var, kv, MIN(n + 6, sizeof var - 1));
      alloc_warn("unknown option ", var, " ignored");
      continue;
    }
    long v;
    if (parse_value(o, eq + 1, &v)) *o->value = v;
    else warn_bad(o, eq + 1);
  }
}

void options_print(int fd) {
  char num[24];
  for (size_t i = 0; i < ARRAY_LEN(g_options); i++) {
    alloc_write_str(fd, HEAP_NAME ": option ALLOC_");
    alloc_write_str(fd, g_options[i].name);
    alloc_write_str(fd, "=");
    alloc_write_str(fd, alloc_fmt_u64(num, (unsigned long long)*g_options[i].value, 10));
    alloc_write_str(fd, "\n");
  }
}
