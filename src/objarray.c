/*
 * Object arrays (rcy_objarray_t): the growable arrays of strong references
 * that the gc module, the collector (gc.garbage) and the tools fill.
 */
#include "internal.h"

int rcyi_objarray_append(rcy_objarray_t *a, rcy_object_t *o)
{
    if (a->len == a->cap) {
        rcy_object_t **items = rcyi_array_grow(a->rt, a->items, &a->cap, 16, sizeof *items);
        if (items == NULL)
            return RCY_ENOMEM;
        a->items = items;
    }
    rcy_incref(o);
    a->items[a->len++] = o;
    return 0;
}

void rcy_objarray_release(rcy_objarray_t *a)
{
    if (a == NULL || a->rt == NULL)
        return;
    RCYI_CHECK_RT(a->rt);
    /* Detach first: releasing may run finalizers that look at the array. */
    rcy_object_t **items = a->items;
    size_t len = a->len;
    a->items = NULL;
    a->len = a->cap = 0;
    while (len-- > 0) /* last first: CPython's list_clear */
        rcy_decref(items[len]);
    rcyi_free(a->rt, items);
}

int rcyi_objarray_start(rcy_runtime_t *rt, rcy_objarray_t *out)
{
    if (out->len != 0)
        return rcyi_set_error(rt, RCY_EINVAL);
    out->items = NULL;
    out->len = out->cap = 0;
    out->rt = rt;
    return 0;
}
