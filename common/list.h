/* list.h - the one intrusive doubly linked list of the suite.
 *
 * A list_t holds head and tail; each element embeds a list_node_t and is
 * reached from it with LIST_ENTRY.  Every operation is O(1); none locks (the
 * caller's lock guards the list) and none allocates.
 *
 * Invariants: head == NULL <=> tail == NULL; head->prev == NULL;
 * tail->next == NULL; for every node n on the list, n->next->prev == n.
 * A node not on any list has next == prev == NULL (list_unlink leaves it so).
 * The head is stored with relaxed atomics, so a reader without the lock may
 * peek at it (is the list empty?) without a data race; it must take the lock
 * before it follows it.
 */
#ifndef ALLOC_LIST_H
#define ALLOC_LIST_H

#include <stddef.h>

typedef struct list_node {
  struct list_node *next, *prev;
} list_node_t;

typedef struct list {
  list_node_t *head, *tail;
} list_t;

#define LIST_ENTRY(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))
/* The element of a possibly NULL node. */
#define LIST_ENTRY_OR_NULL(node, type, member) \
  ((node) ? LIST_ENTRY(node, type, member) : (type *)NULL)

static inline void list_set_head(list_t *l, list_node_t *n) {
  __atomic_store_n(&l->head, n, __ATOMIC_RELAXED);
}

static inline void list_push_front(list_t *l, list_node_t *n) {
  n->prev = NULL;
  n->next = l->head;
  if (l->head) l->head->prev = n;
  else l->tail = n;
  list_set_head(l, n);
}

static inline void list_push_back(list_t *l, list_node_t *n) {
  n->next = NULL;
  n->prev = l->tail;
  if (l->tail) l->tail->next = n;
  else list_set_head(l, n);
  l->tail = n;
}

static inline void list_unlink(list_t *l, list_node_t *n) {
  if (n->prev) n->prev->next = n->next;
  else list_set_head(l, n->next);
  if (n->next) n->next->prev = n->prev;
  else l->tail = n->prev;
  n->next = n->prev = NULL;
}

static inline int list_empty(const list_t *l) { return l->head == NULL; }

#endif
