/*
 * The built-in types' per-runtime state: created with the runtime, its free
 * lists emptied by every full collection, freed at teardown. Also the type
 * accessors and type checks of the public API.
 */
#include "types.h"

#include <string.h>

static void clear_freelists(rcy_runtime_t *rt)
{
    rcyi_builtins_t *b = rt->builtins;
    if (b == NULL)
        return;
    rcyi_tuple_clear_freelist(b);
    rcyi_listobj_clear_freelist(b);
    rcyi_dict_clear_freelist(b);
}

int rcyi_builtins_init(rcy_runtime_t *rt)
{
    rcyi_builtins_t *b = rcyi_malloc(rt, sizeof *b);
    if (b == NULL)
        return RCY_ENOMEM;
    memset(b, 0, sizeof *b);
    b->freelists = RCY_FREELISTS && !rt->poison;
    /* Set at once so that the types' objects can find it; on failure the
       caller destroys the runtime, which frees b and the types made. */
    rt->builtins = b;
    rt->clear_freelists = clear_freelists;
    if (rcyi_init_int_type(rt, b) < 0 || rcyi_init_float_type(rt, b) < 0 || rcyi_init_str_type(rt, b) < 0 ||
        rcyi_init_tuple_type(rt, b) < 0 || rcyi_init_list_type(rt, b) < 0 || rcyi_init_dict_type(rt, b) < 0 ||
        rcyi_init_class_type(rt, b) < 0)
        return RCY_ENOMEM;
    return 0;
}

void rcyi_builtins_fini(rcy_runtime_t *rt)
{
    if (rt->builtins == NULL)
        return;
    clear_freelists(rt);
    rcyi_str_intern_fini(rt);
    rcyi_free(rt, rt->builtins);
    rt->builtins = NULL;
    rt->clear_freelists = NULL;
}

int rcy_freelists_enabled(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return 0;
    RCYI_CHECK_RT(rt);
    return rt->builtins != NULL && rt->builtins->freelists;
}

size_t rcy_freelists_size(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return 0;
    RCYI_CHECK_RT(rt);
    if (rt->builtins == NULL)
        return 0;
    const rcyi_builtins_t *b = rt->builtins;
    size_t n = (size_t)b->list.numfree + (size_t)b->dict.numfree;
    for (int i = 1; i <= RCY_TUPLE_MAXSAVESIZE; i++)
        n += (size_t)b->tuple.numfree[i];
    return n;
}

/* ---- Accessors and type checks ---------------------------------------- */

#define TYPE_ACCESSOR(fn, field)                                                                                       \
    rcy_type_t *fn(const rcy_runtime_t *rt)                                                                           \
    {                                                                                                                  \
        if (rt == NULL)                                                                                                \
            return NULL;                                                                                               \
        RCYI_CHECK_RT(rt);                                                                                             \
        return rt->builtins != NULL ? rt->builtins->field : NULL;                                                      \
    }

TYPE_ACCESSOR(rcy_int_type, int_type)
TYPE_ACCESSOR(rcy_float_type, float_type)
TYPE_ACCESSOR(rcy_str_type, str_type)
TYPE_ACCESSOR(rcy_tuple_type, tuple_type)
TYPE_ACCESSOR(rcy_list_type, list_type)
TYPE_ACCESSOR(rcy_dict_type, dict_type)
TYPE_ACCESSOR(rcy_class_type, class_type)

int rcy_is_int(const rcy_object_t *o) { return o != NULL && rcyi_is_int(o); }
int rcy_is_float(const rcy_object_t *o) { return o != NULL && rcyi_is_float(o); }
int rcy_is_str(const rcy_object_t *o) { return o != NULL && rcyi_is_str(o); }
int rcy_is_tuple(const rcy_object_t *o) { return o != NULL && rcyi_is_tuple(o); }
int rcy_is_list(const rcy_object_t *o) { return o != NULL && rcyi_is_list(o); }
int rcy_is_dict(const rcy_object_t *o) { return o != NULL && rcyi_is_dict(o); }
int rcy_is_class(const rcy_object_t *o) { return o != NULL && rcyi_is_class(o); }
int rcy_is_instance(const rcy_object_t *o) { return o != NULL && rcyi_is_instance(o); }
