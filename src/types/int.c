/*
 * int: 64-bit signed integers, with CPython's small-int cache: the values
 * -5..256 are immortal objects created with the runtime and shared by all
 * their uses; the others are ordinary objects, whose blocks come from the
 * small-object allocator (pool.c) as every small object's do. Not
 * containers.
 */
#include "types.h"

#include <inttypes.h>

int rcyi_init_int_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "int";
    spec.basicsize = sizeof(rcyi_int_t);
    spec.describe = rcyi_describe_repr;
    b->int_type = rcy_type_new(rt, &spec);
    if (b->int_type == NULL)
        return RCY_ENOMEM;
    /* The cache lives inside the built-in state: immortal, never counted
       as live objects, never freed one by one. */
    for (int i = 0; i < RCY_SMALL_INTS; i++) {
        rcy_object_init_static(&b->small_ints[i].ob, b->int_type);
        b->small_ints[i].value = RCY_SMALL_INT_MIN + i;
    }
    return 0;
}

rcy_object_t *rcy_int_new(rcy_runtime_t *rt, int64_t value)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    rcyi_builtins_t *b = rt->builtins;
    if (value >= RCY_SMALL_INT_MIN && value <= RCY_SMALL_INT_MAX)
        return &b->small_ints[value - RCY_SMALL_INT_MIN].ob; /* immortal: no incref needed */
    rcyi_int_t *o = (rcyi_int_t *)rcy_new(b->int_type);
    if (o == NULL)
        return NULL;
    o->value = value;
    return &o->ob;
}

int rcy_int_value(const rcy_object_t *o, int64_t *out)
{
    if (o == NULL || out == NULL)
        return RCY_EINVAL;
    if (!rcyi_is_intlike(o)) /* a bool is an int, as PyLong_AsLong(True) is 1 */
        return rcyi_set_error(o->type->rt, RCY_ETYPE);
    *out = ((const rcyi_int_t *)o)->value;
    return 0;
}

void rcyi_int_repr(rcyi_writer_t *w, rcy_object_t *o) { rcyi_writef(w, "%" PRId64, ((rcyi_int_t *)o)->value); }

/* Exact comparison of an int with a double: (double)i would round. */
static int int_equals_double(int64_t i, double d)
{
    if (d != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return 0;
    int64_t t = (int64_t)d;
    return (double)t == d && t == i;
}

int rcyi_number_equal(const rcy_object_t *a, const rcy_object_t *b)
{
    bool ia = rcyi_is_intlike(a), ib = rcyi_is_intlike(b);
    if (ia && ib)
        return ((const rcyi_int_t *)a)->value == ((const rcyi_int_t *)b)->value;
    if (ia)
        return int_equals_double(((const rcyi_int_t *)a)->value, ((const rcyi_float_t *)b)->value);
    if (ib)
        return int_equals_double(((const rcyi_int_t *)b)->value, ((const rcyi_float_t *)a)->value);
    return ((const rcyi_float_t *)a)->value == ((const rcyi_float_t *)b)->value;
}
