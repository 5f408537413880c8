/*
 * None, False and True: per-runtime immortal singletons, as CPython's
 * Py_None, Py_False and Py_True. They live inside the built-in state (as
 * the small ints do, and as CPython 3.12+ keeps its static objects): never
 * counted as live objects, never tracked, freed with the runtime. A bool is
 * an int of value 0 or 1 for equality, hashing and rcy_int_value (CPython's
 * bool subclasses int: True == 1, hash(True) == 1, {1: x}[True] is x), with
 * a type of its own ("bool") and the repr "True" / "False". None (type
 * "NoneType") equals only itself and hashes by identity, as in CPython 3.11.
 */
#include "types.h"

#include <stddef.h>

_Static_assert(offsetof(rcyi_int_t, value) == sizeof(rcy_object_t), "rcy_is_true reads the value there");

int rcyi_init_singletons(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "NoneType";
    spec.basicsize = sizeof(rcy_object_t);
    spec.describe = rcyi_describe_repr;
    b->none_type = rcy_type_new(rt, &spec);
    if (b->none_type == NULL)
        return RCY_ENOMEM;
    spec.name = "bool";
    spec.basicsize = sizeof(rcyi_int_t);
    b->bool_type = rcy_type_new(rt, &spec);
    if (b->bool_type == NULL)
        return RCY_ENOMEM;
    rcy_object_init_static(&b->none, b->none_type);
    for (int i = 0; i < 2; i++) {
        rcy_object_init_static(&b->bools[i].ob, b->bool_type);
        b->bools[i].value = i;
    }
    return 0;
}

rcy_object_t *rcy_none(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return &rt->builtins->none; /* immortal: no incref needed */
}

rcy_object_t *rcy_true(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return &rt->builtins->bools[1].ob;
}

rcy_object_t *rcy_false(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return &rt->builtins->bools[0].ob;
}

rcy_object_t *rcy_bool(rcy_runtime_t *rt, int value)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return &rt->builtins->bools[value != 0].ob;
}

/* rcy_is_none, rcy_is_bool and rcy_is_true are inline in the header. */

void rcyi_singleton_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    if (o->type == rcyi_builtins(o)->none_type)
        rcyi_writes(w, "None");
    else
        rcyi_writes(w, ((rcyi_int_t *)o)->value ? "True" : "False");
}
