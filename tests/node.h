/* Small container types for tests: a node with two reference slots and
   a payload, and a variable-size list. */
#ifndef RCY_TEST_NODE_H
#define RCY_TEST_NODE_H

#include "recycle.h"

#include <stddef.h>

typedef struct node_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *b;
    long value;
} node_t;

static inline int node_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    node_t *n = (node_t *)self;
    RCY_VISIT(n->a);
    RCY_VISIT(n->b);
    return 0;
}

static inline int node_clear(rcy_object_t *self)
{
    node_t *n = (node_t *)self;
    RCY_CLEAR(n->a);
    RCY_CLEAR(n->b);
    return 0;
}

static inline rcy_type_t *node_type_new(rcy_runtime_t *rt, const char *name)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    return rcy_type_new(rt, &spec);
}

static inline node_t *node_new(rcy_type_t *t, long value)
{
    node_t *n = (node_t *)rcy_new(t);
    if (n)
        n->value = value;
    return n;
}

/* n->a = v, taking a reference (the old value is released). */
static inline void node_set_a(node_t *n, void *v) { RCY_XSETREF(n->a, (rcy_object_t *)v); }
static inline void node_set_b(node_t *n, void *v) { RCY_XSETREF(n->b, (rcy_object_t *)v); }

/* A variable-size container: a list whose items follow the header
   (rcy_new_var(list_type_new(rt), n) makes one of n empty slots). */
typedef struct list_s {
    rcy_varobject_t ob;
    rcy_object_t *items[];
} list_t;

static inline int list_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    list_t *l = (list_t *)self;
    for (intptr_t i = 0; i < l->ob.size; i++)
        RCY_VISIT_ITEM(l->items[i], i);
    return 0;
}

static inline int list_clear(rcy_object_t *self)
{
    list_t *l = (list_t *)self;
    for (intptr_t i = 0; i < l->ob.size; i++)
        RCY_CLEAR(l->items[i]);
    return 0;
}

static inline rcy_type_t *list_type_new(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "List";
    spec.basicsize = offsetof(list_t, items);
    spec.itemsize = sizeof(rcy_object_t *);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = list_traverse;
    spec.clear = list_clear;
    return rcy_type_new(rt, &spec);
}

#define OB(x) ((rcy_object_t *)(x))

#endif
