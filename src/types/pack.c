/*
 * Building a tuple or a list from C arguments in one call:
 * rcy_tuple_pack(rt, n, a, b, ...) as CPython's PyTuple_Pack (the
 * arguments borrowed, as everywhere in the library), and the _steal
 * variants, which consume their arguments, so that fresh objects can be
 * passed straight from their constructors.
 */
#include "types.h"

#include <stdarg.h>

#define PACK_SMALL 16

/* Collects the n variadic arguments into an array (small, or allocated:
   private memory, never collecting). NULL with RCY_ENOMEM. */
static rcy_object_t **collect_args(rcy_runtime_t *rt, intptr_t n, va_list ap, rcy_object_t **small)
{
    rcy_object_t **items = small;
    if (n > PACK_SMALL) {
        items = rcyi_malloc_array(rt, (size_t)n, sizeof *items);
        if (items == NULL)
            return NULL;
    }
    for (intptr_t i = 0; i < n; i++)
        items[i] = va_arg(ap, rcy_object_t *);
    return items;
}

/* Builds with items[0..n) borrowed; then, when steal, releases them (last
   first) whether or not the build succeeded. */
static rcy_object_t *pack(rcy_runtime_t *rt, bool list, bool steal, intptr_t n, va_list ap)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (n < 0) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcy_object_t *small[PACK_SMALL];
    rcy_object_t **items = collect_args(rt, n, ap, small);
    if (items == NULL) {
        /* No room for the array (RCY_ENOMEM): stolen references still go,
           read one by one. */
        for (intptr_t i = 0; steal && i < n; i++)
            rcy_xdecref(va_arg(ap, rcy_object_t *));
        return NULL;
    }
    rcy_object_t *r = NULL;
    bool null_arg = false;
    for (intptr_t i = 0; i < n; i++)
        null_arg |= items[i] == NULL;
    if (null_arg)
        rcyi_set_error(rt, RCY_EINVAL); /* a failed constructor's result, say */
    else
        r = list ? rcy_list_new_from(rt, n, items) : rcy_tuple_new(rt, n, items);
    if (steal) {
        /* The container holds its own references now (or was not made):
           ours go, last first. Code they run keeps the pending error aside. */
        for (intptr_t i = n; i-- > 0;)
            rcy_xdecref(items[i]);
    }
    if (items != small)
        rcyi_free(rt, items);
    return r;
}

rcy_object_t *rcy_tuple_pack(rcy_runtime_t *rt, intptr_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    rcy_object_t *r = pack(rt, false, false, n, ap);
    va_end(ap);
    return r;
}

rcy_object_t *rcy_tuple_pack_steal(rcy_runtime_t *rt, intptr_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    rcy_object_t *r = pack(rt, false, true, n, ap);
    va_end(ap);
    return r;
}

rcy_object_t *rcy_list_pack(rcy_runtime_t *rt, intptr_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    rcy_object_t *r = pack(rt, true, false, n, ap);
    va_end(ap);
    return r;
}

rcy_object_t *rcy_list_pack_steal(rcy_runtime_t *rt, intptr_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    rcy_object_t *r = pack(rt, true, true, n, ap);
    va_end(ap);
    return r;
}
