/*
 * Getters that return new references and tell absent from error in one
 * call (CPython 3.13's PyDict_GetItemRef shape: 1 found, 0 absent, negative
 * error), and the contains calls, for dicts, lists, tuples and attributes.
 * They are built on each type's own lookup (whose every failure path
 * records its code as the runtime's last error, which is how "absent" is
 * told from a failure here) and take the reference before any user code
 * can run again.
 */
#include "types.h"

/* The code of the lookup that just failed on rt: 0 when it was "absent"
   (absent_code), which is no failure here: the last error is put back to
   what it was before the call (saved); else the error. */
static int absent_or_error(rcy_runtime_t *rt, int absent_code, int saved)
{
    int code = rt->last_error;
    if (code == absent_code) {
        rt->last_error = saved;
        return 0;
    }
    return code < 0 ? code : RCY_EINVAL;
}

int rcy_dict_get_ref(const rcy_object_t *d, rcy_object_t *key, rcy_object_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (d == NULL || out == NULL)
        return d != NULL ? rcyi_set_error(d->type->rt, RCY_EINVAL) : RCY_EINVAL;
    int saved = d->type->rt->last_error;
    rcy_object_t *v = rcy_dict_get(d, key);
    if (v == NULL)
        return absent_or_error(d->type->rt, RCY_EKEY, saved);
    *out = rcy_newref(v);
    return 1;
}

int rcy_dict_contains(const rcy_object_t *d, rcy_object_t *key)
{
    if (d == NULL)
        return RCY_EINVAL;
    int saved = d->type->rt->last_error;
    if (rcy_dict_get(d, key) != NULL)
        return 1;
    return absent_or_error(d->type->rt, RCY_EKEY, saved);
}

int rcy_list_get_ref(const rcy_object_t *list, intptr_t index, rcy_object_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (list == NULL || out == NULL)
        return list != NULL ? rcyi_set_error(list->type->rt, RCY_EINVAL) : RCY_EINVAL;
    int saved = list->type->rt->last_error;
    rcy_object_t *v = rcy_list_get(list, index);
    if (v == NULL)
        return absent_or_error(list->type->rt, RCY_EINDEX, saved);
    *out = rcy_newref(v);
    return 1;
}

int rcy_tuple_get_ref(const rcy_object_t *t, intptr_t index, rcy_object_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (t == NULL || out == NULL)
        return t != NULL ? rcyi_set_error(t->type->rt, RCY_EINVAL) : RCY_EINVAL;
    int saved = t->type->rt->last_error;
    rcy_object_t *v = rcy_tuple_get(t, index);
    if (v == NULL)
        return absent_or_error(t->type->rt, RCY_EINDEX, saved);
    *out = rcy_newref(v);
    return 1;
}

/* rcy_getattr_ref after its fast path (class.c) did not apply. */
int rcyi_getattr_ref_slow(rcy_object_t *obj, const char *name, rcy_object_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (obj == NULL || out == NULL)
        return obj != NULL ? rcyi_set_error(obj->type->rt, RCY_EINVAL) : RCY_EINVAL;
    int saved = obj->type->rt->last_error;
    rcy_object_t *v = rcy_getattr(obj, name);
    if (v == NULL)
        return absent_or_error(obj->type->rt, RCY_EKEY, saved);
    *out = rcy_newref(v);
    return 1;
}

int rcy_hasattr(rcy_object_t *obj, const char *name)
{
    if (obj == NULL)
        return RCY_EINVAL;
    if (RCY_LIKELY(rcyi_getattr_fast(obj, name) != NULL))
        return 1;
    int saved = obj->type->rt->last_error;
    if (rcy_getattr(obj, name) != NULL)
        return 1;
    return absent_or_error(obj->type->rt, RCY_EKEY, saved);
}

/* `item in seq` over an array of n items, each held across its comparison
   (CPython's list_contains: an equal slot may change the sequence, so
   the length is read again at every step). */
static int array_contains(rcy_object_t *const *const *items, const intptr_t *n, rcy_object_t *item)
{
    int r = 0;
    for (intptr_t i = 0; r == 0 && i < *n; i++) {
        rcy_object_t *x = rcy_newref((*items)[i]);
        r = rcyi_equal(x, item, 0);
        rcy_decref(x);
    }
    return r;
}

int rcy_list_contains(const rcy_object_t *list, rcy_object_t *item)
{
    if (list == NULL)
        return RCY_EINVAL;
    if (!rcyi_is_list(list))
        return rcyi_set_error(list->type->rt, RCY_ETYPE);
    if (item == NULL)
        return rcyi_set_error(list->type->rt, RCY_EINVAL);
    rcyi_check_live(item);
    const rcyi_list_t *l = (const rcyi_list_t *)list;
    return array_contains((rcy_object_t *const *const *)&l->items, &l->size, item);
}

int rcy_tuple_contains(const rcy_object_t *t, rcy_object_t *item)
{
    if (t == NULL)
        return RCY_EINVAL;
    if (!rcyi_is_tuple(t))
        return rcyi_set_error(t->type->rt, RCY_ETYPE);
    if (item == NULL)
        return rcyi_set_error(t->type->rt, RCY_EINVAL);
    rcyi_check_live(item);
    const rcyi_tuple_t *tp = (const rcyi_tuple_t *)t;
    rcy_object_t *const *items = tp->items;
    return array_contains(&items, &tp->ob.size, item);
}
