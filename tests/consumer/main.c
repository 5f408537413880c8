/* A tiny program using an installed recycle: a container type, a cycle,
   a collection, zero live objects. Built by tests/install_check.sh with
   pkg-config and with CMake's find_package(recycle). */
#include <recycle.h>

#include <stdio.h>
#include <string.h>

typedef struct pair_s {
    rcy_object_t ob;
    rcy_object_t *other;
} pair_t;

static int pair_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((pair_t *)self)->other);
    return 0;
}

static int pair_clear(rcy_object_t *self)
{
    RCY_CLEAR(((pair_t *)self)->other);
    return 0;
}

int main(void)
{
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        return 1;
    rcy_type_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.name = "Pair";
    spec.basicsize = sizeof(pair_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = pair_traverse;
    spec.clear = pair_clear;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    pair_t *x = (pair_t *)rcy_new(t);
    pair_t *y = (pair_t *)rcy_new(t);
    if (t == NULL || x == NULL || y == NULL)
        return 1;
    x->other = rcy_newref(&y->ob);
    y->other = rcy_newref(&x->ob);
    rcy_decref(&x->ob);
    rcy_decref(&y->ob);
    size_t before = rcy_runtime_live_objects(rt);
    intptr_t found = rcy_gc_collect(rt, 2);
    size_t after = rcy_runtime_live_objects(rt);
    rcy_runtime_destroy(rt);
    printf("recycle %s: %zu live, collected %ld, %zu live\n", rcy_version(), before, (long)found, after);
    return before == 2 && found == 2 && after == 0 ? 0 : 1;
}
