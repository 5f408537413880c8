/*
 * Weak maps: WeakValueDictionary and WeakKeyDictionary.
 *
 * A weak-value map is a dict from key to a keyed weak reference to the
 * value; the weak reference holds the key and its callback deletes the
 * entry when the value dies. A weak-key map keys two dicts by the key's
 * identity (its address, valid while the key lives): one to the keyed weak
 * reference to the key, one to the value; the callback deletes both
 * entries. Because the map owns its weak references, they are garbage only
 * when the map is: when a value (or key) dies in a collection while the map
 * lives, the callback runs and the entry disappears (CPython's rule for
 * WeakValueDictionary's KeyedRef), and when the map itself is garbage, no
 * callback runs. A map that dies first detaches the callbacks of the weak
 * references it owned, so none can outlive it and call back into it.
 */
#include "internal.h"

#include <string.h>

typedef struct weakmap_s {
    rcy_object_t ob;
    rcy_object_t *refs;   /* value map: key -> keyed weakref to value;
                             key map: id(key) -> keyed weakref to key */
    rcy_object_t *values; /* key map only: id(key) -> value */
    bool weak_keys;
} weakmap_t;

static int weakmap_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    weakmap_t *m = (weakmap_t *)self;
    RCY_VISIT(m->refs);
    RCY_VISIT(m->values);
    return 0;
}

static void detach_callbacks(weakmap_t *m)
{
    if (m->refs == NULL)
        return;
    intptr_t pos = 0;
    rcy_object_t *key, *wr;
    while (rcy_dict_next(m->refs, &pos, &key, &wr) > 0)
        rcyi_weakref_drop_callback(wr);
}

static int weakmap_clear(rcy_object_t *self)
{
    weakmap_t *m = (weakmap_t *)self;
    detach_callbacks(m);
    RCY_CLEAR(m->refs);
    RCY_CLEAR(m->values);
    return 0;
}

static int weakmap_describe(rcy_object_t *self, char *buf, size_t size)
{
    weakmap_t *m = (weakmap_t *)self;
    return snprintf(buf, size, "<%s at %p; %ld entries>", m->weak_keys ? "WeakKeyDictionary" : "WeakValueDictionary",
                    (void *)self, m->refs ? (long)rcy_dict_len(m->refs) : 0L);
}

static rcy_type_t *weakmap_type(rcy_runtime_t *rt)
{
    if (rt->weakmap_type == NULL) {
        rcy_type_spec_t spec;
        memset(&spec, 0, sizeof spec);
        spec.name = "weakmap";
        spec.basicsize = sizeof(weakmap_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = weakmap_traverse;
        spec.clear = weakmap_clear;
        spec.describe = weakmap_describe;
        rt->weakmap_type = rcy_type_new(rt, &spec);
    }
    return rt->weakmap_type;
}

static rcy_object_t *weakmap_new(rcy_runtime_t *rt, bool weak_keys)
{
    if (rt == NULL)
        return NULL;
    rcy_type_t *t = weakmap_type(rt);
    if (t == NULL)
        return NULL;
    rcy_object_t *refs = rcy_dict_new(rt);
    if (refs == NULL)
        return NULL;
    rcy_object_t *values = NULL;
    if (weak_keys && (values = rcy_dict_new(rt)) == NULL) {
        rcy_decref(refs);
        return NULL;
    }
    weakmap_t *m = (weakmap_t *)rcy_new(t);
    if (m == NULL) {
        rcy_decref(refs);
        rcy_xdecref(values);
        return NULL;
    }
    m->refs = refs;
    m->values = values;
    m->weak_keys = weak_keys;
    return &m->ob;
}

rcy_object_t *rcy_weakvaluedict_new(rcy_runtime_t *rt) { return weakmap_new(rt, false); }
rcy_object_t *rcy_weakkeydict_new(rcy_runtime_t *rt) { return weakmap_new(rt, true); }

static weakmap_t *as_map(const rcy_object_t *o)
{
    return o != NULL && o->type == o->type->rt->weakmap_type ? (weakmap_t *)(uintptr_t)o : NULL;
}

int rcy_is_weakmap(const rcy_object_t *o) { return as_map(o) != NULL; }

/* The entry of `ident` in refs, if it is still wr: remove it. The map is
   alive (a dying map detaches these callbacks before it releases
   anything), but releasing the entry's value runs code that may release
   the map's last reference: the map, the identity key and wr are held
   until both entries are gone, and the weak reference's entry goes first,
   so that code sees the entry removed. */
static int entry_died(rcy_object_t *wr, void *arg)
{
    weakmap_t *m = arg;
    rcy_object_t *ident = rcyi_weakref_key(wr);
    if (m->refs == NULL || ident == NULL || rcy_dict_get(m->refs, ident) != wr)
        return 0;
    rcy_incref(&m->ob);
    rcy_incref(ident);
    rcy_incref(wr);
    rcy_dict_del(m->refs, ident);
    if (m->values != NULL)
        rcy_dict_del(m->values, ident);
    rcy_decref(wr);
    rcy_decref(ident);
    rcy_decref(&m->ob);
    return 0;
}

/* The identity key of a weak-key map: the key's address as an int. */
static rcy_object_t *identity(rcy_object_t *key)
{
    return rcy_int_new(key->type->rt, (int64_t)(intptr_t)key);
}

int rcy_weakmap_set(rcy_object_t *map, rcy_object_t *key, rcy_object_t *value)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || key == NULL || value == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = map->type->rt;
    rcy_object_t *weak = m->weak_keys ? key : value;
    if (rcyi_weaklist(weak) == NULL)
        return rcyi_set_error(rt, RCY_ETYPE);
    int64_t h;
    int err = rcy_hash(key, &h);
    if (err < 0)
        return err;
    rcy_object_t *ident = m->weak_keys ? identity(key) : rcy_newref(key);
    if (ident == NULL)
        return RCY_ENOMEM;
    int ret = 0;
    rcy_object_t *old = rcy_dict_get(m->refs, ident);
    if (m->weak_keys && old != NULL) {
        /* The key is already in: only the value changes. */
        ret = rcy_dict_set(m->values, ident, value);
    } else {
        rcy_object_t *wr = rcyi_weakref_new_keyed(weak, entry_died, m, ident);
        if (wr == NULL) {
            ret = RCY_ENOMEM;
        } else {
            if (m->weak_keys)
                ret = rcy_dict_set(m->values, ident, value);
            if (ret == 0) {
                if (old != NULL)
                    rcyi_weakref_drop_callback(old); /* replaced: it must not delete the new entry */
                ret = rcy_dict_set(m->refs, ident, wr);
                if (ret < 0 && m->weak_keys)
                    rcy_dict_del(m->values, ident);
            }
            if (ret < 0)
                rcyi_weakref_drop_callback(wr);
            rcy_decref(wr);
        }
    }
    rcy_decref(ident);
    return ret;
}

/* Finds the entry of key: its weak reference (borrowed) and identity key. */
static rcy_object_t *lookup(weakmap_t *m, rcy_object_t *key, rcy_object_t **ident_out)
{
    if (ident_out != NULL)
        *ident_out = NULL;
    rcy_object_t *ident = m->weak_keys ? identity(key) : rcy_newref(key);
    if (ident == NULL)
        return NULL;
    rcy_object_t *wr = rcy_dict_get(m->refs, ident);
    if (ident_out != NULL)
        *ident_out = ident;
    else
        rcy_decref(ident);
    return wr;
}

rcy_object_t *rcy_weakmap_get(rcy_object_t *map, rcy_object_t *key)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || key == NULL)
        return NULL;
    rcy_object_t *ident;
    rcy_object_t *wr = lookup(m, key, &ident);
    if (wr == NULL) {
        if (ident != NULL)
            rcy_decref(ident);
        rcyi_set_error(map->type->rt, RCY_EKEY);
        return NULL;
    }
    rcy_object_t *result = NULL;
    if (m->weak_keys)
        result = rcy_xnewref(rcy_dict_get(m->values, ident));
    else
        result = rcy_weakref_get(wr);
    rcy_decref(ident);
    if (result == NULL)
        rcyi_set_error(map->type->rt, RCY_EKEY);
    return result;
}

int rcy_weakmap_del(rcy_object_t *map, rcy_object_t *key)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || key == NULL)
        return RCY_EINVAL;
    rcy_object_t *ident;
    rcy_object_t *wr = lookup(m, key, &ident);
    if (wr == NULL) {
        if (ident != NULL)
            rcy_decref(ident);
        return rcyi_set_error(map->type->rt, ident ? RCY_EKEY : RCY_ENOMEM);
    }
    rcyi_weakref_drop_callback(wr);
    if (m->values != NULL)
        rcy_dict_del(m->values, ident);
    int ret = rcy_dict_del(m->refs, ident);
    rcy_decref(ident);
    return ret;
}

intptr_t rcy_weakmap_len(const rcy_object_t *map)
{
    const weakmap_t *m = as_map(map);
    return m == NULL ? RCY_EINVAL : rcy_dict_len(m->refs);
}

int rcy_weakmap_next(rcy_object_t *map, intptr_t *pos, rcy_object_t **key, rcy_object_t **value)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || pos == NULL || key == NULL || value == NULL)
        return RCY_EINVAL;
    rcy_object_t *k, *wr;
    while (rcy_dict_next(m->refs, pos, &k, &wr) > 0) {
        rcy_object_t *referent = rcy_weakref_get(wr);
        if (referent == NULL)
            continue; /* dying: its callback is about to remove it */
        if (m->weak_keys) {
            *key = referent;
            *value = rcy_xnewref(rcy_dict_get(m->values, k));
        } else {
            *key = rcy_newref(k);
            *value = referent;
        }
        return 1;
    }
    return 0;
}
