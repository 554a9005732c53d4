/*
 * trees.c - many small objects: binary trees built and torn down.  Two
 * threads each keep one long-lived tree and, for depths 4, 6, ... max,
 * build and free many short-lived trees (the classic binary-trees shape:
 * the same node count at every depth).  Node counts are checked.
 */
#include <stdlib.h>

#include "macro.h"

#define TREE_THREADS 2

struct node {
  struct node *l, *r;
  long v;
};

static struct node *build(int depth, long v) {
  struct node *n = xmalloc(sizeof *n);
  n->v = v;
  n->l = depth > 0 ? build(depth - 1, 2 * v) : NULL;
  n->r = depth > 0 ? build(depth - 1, 2 * v + 1) : NULL;
  return n;
}

/* Checks each node's children before freeing them: returns the node count. */
static long count_free(struct node *n) {
  if (!n) return 0;
  if ((n->l && n->l->v != 2 * n->v) || (n->r && n->r->v != 2 * n->v + 1))
    wrong("trees: node %ld has a corrupt child", n->v);
  long c = 1 + count_free(n->l) + count_free(n->r);
  free(n);
  return c;
}

struct tree_arg {
  int max_depth;
  long nodes;
};

static void *tree_thread(void *a) {
  struct tree_arg *arg = a;
  struct node *keep = build(arg->max_depth, 1);
  for (int d = 4; d <= arg->max_depth; d += 2) {
    long iters = 1L << (arg->max_depth - d + 4);
    for (long i = 0; i < iters; i++) {
      long c = count_free(build(d, 1));
      if (c != (2L << d) - 1) wrong("trees: depth %d tree has %ld nodes", d, c);
      arg->nodes += c;
    }
  }
  long c = count_free(keep);
  if (c != (2L << arg->max_depth) - 1) wrong("trees: long-lived tree has %ld nodes", c);
  arg->nodes += c;
  return NULL;
}

void wl_trees(double scale) {
  int depth = 10;
  while (depth < 17 && (double)(1L << (depth - 10)) < 128 * scale) depth++;
  struct tree_arg args[TREE_THREADS];
  for (int i = 0; i < TREE_THREADS; i++) args[i] = (struct tree_arg){depth, 0};
  start_threads(TREE_THREADS, tree_thread, args, sizeof args[0]);
  metric("depth", depth);
  metric("nodes", (double)(args[0].nodes + args[1].nodes));
}
