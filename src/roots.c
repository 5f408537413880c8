/*
 * The registry of named roots (rcy_root_add): objects the leak-debugging
 * tools start their chains from, held strongly until removed or until
 * teardown releases them.
 */
#include "internal.h"

#include <string.h>

static intptr_t root_index(const rcy_runtime_t *rt, const rcy_object_t *o)
{
    for (size_t i = 0; i < rt->n_roots; i++) {
        if (rt->roots[i].obj == o)
            return (intptr_t)i;
    }
    return -1;
}

const char *rcyi_root_name(const rcy_runtime_t *rt, const rcy_object_t *o)
{
    intptr_t i = root_index(rt, o);
    return i < 0 ? NULL : rt->roots[i].name;
}

int rcy_root_add(rcy_object_t *obj, const char *name)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (root_index(rt, obj) >= 0)
        return rcyi_set_error(rt, RCY_ESTATE);
    if (rt->n_roots == rt->cap_roots) {
        rcyi_root_t *roots = rcyi_array_grow(rt, rt->roots, &rt->cap_roots, 8, sizeof *roots);
        if (roots == NULL)
            return RCY_ENOMEM;
        rt->roots = roots;
    }
    size_t len = strlen(name);
    char *copy = rcyi_malloc(rt, len + 1);
    if (copy == NULL)
        return RCY_ENOMEM;
    memcpy(copy, name, len + 1);
    rt->roots[rt->n_roots].obj = rcy_newref(obj);
    rt->roots[rt->n_roots].name = copy;
    rt->n_roots++;
    return 0;
}

int rcy_root_remove(rcy_object_t *obj)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    intptr_t i = root_index(rt, obj);
    if (i < 0)
        return rcyi_set_error(rt, RCY_EKEY);
    rcyi_free(rt, rt->roots[i].name);
    memmove(&rt->roots[i], &rt->roots[i + 1], (rt->n_roots - (size_t)i - 1) * sizeof rt->roots[0]);
    rt->n_roots--;
    rcy_decref(obj); /* last: it may run finalizers that look at the registry */
    return 0;
}

const char *rcy_root_name(const rcy_object_t *obj) { return obj ? rcyi_root_name(obj->type->rt, obj) : NULL; }

void rcyi_roots_release(rcy_runtime_t *rt)
{
    /* Newest first; a finalizer run by a release may add or remove roots,
       so the registry is re-read on every step. */
    while (rt->n_roots > 0) {
        rcyi_root_t r = rt->roots[--rt->n_roots];
        rcyi_free(rt, r.name);
        rcy_decref(r.obj);
    }
    rcyi_free(rt, rt->roots);
    rt->roots = NULL;
    rt->cap_roots = 0;
}
