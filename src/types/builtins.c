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
        rcyi_init_class_type(rt, b) < 0 || rcyi_init_singletons(rt, b) < 0 ||
        rcyi_init_cfunction_type(rt, b) < 0)
        return RCY_ENOMEM;
    /* What the header's inline type checks read (rcy_type_head_t). */
    b->int_type->kind = RCY_KIND_INT;
    b->float_type->kind = RCY_KIND_FLOAT;
    b->str_type->kind = RCY_KIND_STR;
    b->tuple_type->kind = RCY_KIND_TUPLE;
    b->list_type->kind = RCY_KIND_LIST;
    b->dict_type->kind = RCY_KIND_DICT;
    b->class_type->kind = RCY_KIND_CLASS;
    b->none_type->kind = RCY_KIND_NONE;
    b->bool_type->kind = RCY_KIND_BOOL;
    b->cfunction_type->kind = RCY_KIND_CFUNCTION;
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
    size_t n = rcyi_freelist_len(&b->list.free) + rcyi_freelist_len(&b->dict.free);
    for (int i = 1; i <= RCY_TUPLE_MAXSAVESIZE; i++)
        n += rcyi_freelist_len(&b->tuple.free[i]);
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
TYPE_ACCESSOR(rcy_none_type, none_type)
TYPE_ACCESSOR(rcy_bool_type, bool_type)
TYPE_ACCESSOR(rcy_cfunction_type, cfunction_type)

/* rcy_is_int ... rcy_is_class are inline in the header (rcy_type_head_t). */
int rcy_is_instance(const rcy_object_t *o) { return o != NULL && rcyi_is_instance(o); }
