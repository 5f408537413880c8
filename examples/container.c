/* The README's example: a container type with traverse and clear, a cycle, a collection. */
#include <recycle.h>

typedef struct node {
    rcy_object_t ob;      /* every object starts with the header */
    rcy_object_t *next;   /* a strong reference */
} node_t;

static int node_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((node_t *)self)->next);   /* report every reference */
    return 0;
}

static int node_clear(rcy_object_t *self)
{
    RCY_CLEAR(((node_t *)self)->next);   /* break references */
    return 0;
}

int main(void)
{
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    rcy_type_spec_t spec = {
        .name = "Node", .basicsize = sizeof(node_t), .flags = RCY_TPFLAGS_GC,
        .traverse = node_traverse, .clear = node_clear,
    };
    rcy_type_t *Node = rcy_type_new(rt, &spec);

    node_t *a = (node_t *)rcy_new(Node), *b = (node_t *)rcy_new(Node);
    RCY_XSETREF(a->next, (rcy_object_t *)b);   /* a -> b (takes a reference) */
    RCY_XSETREF(b->next, (rcy_object_t *)a);   /* b -> a: a cycle */
    rcy_decref(&a->ob);
    rcy_decref(&b->ob);                        /* both still alive: the cycle */

    intptr_t n = rcy_gc_collect(rt, 2);        /* 2: the cycle is found and freed */
    rcy_runtime_destroy(rt);
    return n == 2 ? 0 : 1;
}
