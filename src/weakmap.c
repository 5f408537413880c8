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
    rcyi_check_runtime(rt, weak_keys ? "rcy_weakkeydict_new" : "rcy_weakvaluedict_new");
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

/* Also the freed-object check of the rcy_weakmap_* functions. */
static weakmap_t *as_map(const rcy_object_t *o)
{
    if (o == NULL)
        return NULL;
    rcyi_check_live(o);
    return o->type == o->type->rt->weakmap_type ? (weakmap_t *)(uintptr_t)o : NULL;
}

int rcy_is_weakmap(const rcy_object_t *o) { return as_map(o) != NULL; }

/* The weak reference stored under ident (borrowed), or NULL. An absent
   entry is not an error of the caller's call: rcy_last_error is left as it
   was. Nothing here allocates or runs user code (hashing and equality of
   keys never do), but the result is borrowed: it must not be kept across
   anything that may (see "Borrowed references" in docs/design.md). */
static rcy_object_t *entry_of(weakmap_t *m, rcy_object_t *ident)
{
    if (m->refs == NULL)
        return NULL; /* cleared by the collector: empty */
    rcy_runtime_t *rt = m->ob.type->rt;
    int saved = rt->last_error;
    rcy_object_t *wr = rcy_dict_get(m->refs, ident);
    rt->last_error = saved;
    return wr;
}

/* A weak-key map's value under ident (borrowed), or NULL; as entry_of. */
static rcy_object_t *entry_of_values(weakmap_t *m, rcy_object_t *ident)
{
    if (m->values == NULL)
        return NULL;
    rcy_runtime_t *rt = m->ob.type->rt;
    int saved = rt->last_error;
    rcy_object_t *v = rcy_dict_get(m->values, ident);
    rt->last_error = saved;
    return v;
}

/* The callback of an entry's weak reference: when the entry still holds
   wr, removes it. Runs inside a deallocation or a collection. */
static int entry_died(rcy_object_t *wr, void *arg)
{
    weakmap_t *m = arg;
    /* A map whose count is 0 is being deallocated (its clear, which drops
       these callbacks, may be deferred by the trashcan): its entries go
       with it, and it must not be revived by an incref. */
    if (m->ob.refcnt <= 0)
        return 0;
    rcy_object_t *ident = rcyi_weakref_key(wr);
    if (ident == NULL || entry_of(m, ident) != wr)
        return 0;
    /* Releasing the entry's objects may run finalizers, which may release
       the map or change it: hold the map, the identity key and the weak
       reference until both entries are gone. */
    rcy_incref(&m->ob);
    rcy_incref(ident);
    rcy_incref(wr);
    /* refs first: for a weak-key map, its key (an int) and value (wr, held)
       release nothing that could run code, so the two deletions see the
       same map; the value's release, which may, comes last. */
    rcy_dict_del(m->refs, ident);
    if (m->values != NULL)
        rcy_dict_del(m->values, ident);
    rcy_decref(wr);
    rcy_decref(ident);
    rcy_decref(&m->ob);
    return 0;
}

/* The identity key of a weak-key map: the key's address as an int of the
   map's runtime (a lookup with a key of another runtime creates nothing
   there). */
static rcy_object_t *identity(const weakmap_t *m, rcy_object_t *key)
{
    return rcy_int_new(m->ob.type->rt, (int64_t)(intptr_t)key);
}

/* Stores wr under ident in refs (and value in values for a weak-key map).
   The entry it replaces is looked up only now, after everything that may
   have run a collection or user code. Returns 0 or RCY_ENOMEM (the map
   unchanged). */
static int store_entry(weakmap_t *m, rcy_object_t *ident, rcy_object_t *wr, rcy_object_t *value)
{
    if (m->values != NULL) {
        int ret = rcy_dict_set(m->values, ident, value);
        if (ret < 0)
            return ret;
    }
    /* Held, not borrowed: the store below releases the dict's reference. */
    rcy_object_t *old = rcy_xnewref(entry_of(m, ident));
    int ret = rcy_dict_set(m->refs, ident, wr);
    if (ret == 0 && old != NULL)
        rcyi_weakref_drop_callback(old); /* replaced: it must not delete the new entry */
    if (ret < 0 && m->values != NULL && old == NULL)
        rcy_dict_del(m->values, ident); /* undo: there was no entry */
    rcy_xdecref(old);
    return ret;
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
    if (!rcyi_same_runtime(key, rt) || !rcyi_same_runtime(value, rt))
        return rcyi_set_error(rt, RCY_ERUNTIME);
    int64_t h;
    int err = rcy_hash(key, &h);
    if (err < 0)
        return err;
    if (m->refs == NULL)
        return rcyi_set_error(rt, RCY_ESTATE); /* cleared by the collector */
    rcy_object_t *ident = m->weak_keys ? identity(m, key) : rcy_newref(key);
    if (ident == NULL)
        return RCY_ENOMEM;
    int ret;
    rcy_object_t *cur = entry_of(m, ident);
    if (m->weak_keys && cur != NULL && rcy_weakref_is_alive(cur)) {
        /* The key is already in (a live entry at the key's address is the
           key's): only the value changes; cur is not used again. */
        ret = rcy_dict_set(m->values, ident, value);
    } else {
        /* The allocation may run a collection whose callbacks and
           finalizers change the map and free the entry's old weak
           reference: nothing looked up before it is used after it. */
        rcy_object_t *wr = rcyi_weakref_new_keyed(weak, entry_died, m, ident);
        if (wr == NULL) {
            ret = RCY_ENOMEM;
        } else {
            ret = store_entry(m, ident, wr, value);
            if (ret < 0)
                rcyi_weakref_drop_callback(wr);
            rcy_decref(wr);
        }
    }
    rcy_decref(ident);
    return ret < 0 ? rcyi_set_error(rt, ret) : 0;
}

/* The identity key of key's entry (a new reference), or NULL with
   RCY_ENOMEM recorded (a weak-key map's identity is an int that may need
   allocating). */
static rcy_object_t *ident_of(weakmap_t *m, rcy_object_t *key)
{
    return m->weak_keys ? identity(m, key) : rcy_newref(key);
}

rcy_object_t *rcy_weakmap_get(rcy_object_t *map, rcy_object_t *key)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || key == NULL)
        return NULL;
    rcy_runtime_t *rt = map->type->rt;
    rcy_object_t *ident = ident_of(m, key);
    if (ident == NULL) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    /* Borrowed results, used at once: nothing between allocates or runs
       user code. */
    rcy_object_t *wr = entry_of(m, ident);
    rcy_object_t *result = NULL;
    if (wr != NULL && m->weak_keys)
        result = rcy_weakref_is_alive(wr) ? rcy_xnewref(entry_of_values(m, ident)) : NULL;
    else if (wr != NULL)
        result = rcy_weakref_get(wr);
    rcy_decref(ident);
    if (result == NULL)
        rcyi_set_error(rt, RCY_EKEY);
    return result;
}

int rcy_weakmap_del(rcy_object_t *map, rcy_object_t *key)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || key == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = map->type->rt;
    rcy_object_t *ident = ident_of(m, key);
    if (ident == NULL)
        return rcyi_set_error(rt, RCY_ENOMEM);
    /* Held, not borrowed: deleting releases the map's reference. */
    rcy_object_t *wr = rcy_xnewref(entry_of(m, ident));
    if (wr == NULL) {
        rcy_decref(ident);
        return rcyi_set_error(rt, RCY_EKEY);
    }
    rcyi_weakref_drop_callback(wr);
    /* As in entry_died: refs first (for a weak-key map nothing released
       there runs code), the value, which may run finalizers, last. */
    rcy_dict_del(m->refs, ident);
    if (m->values != NULL)
        rcy_dict_del(m->values, ident);
    rcy_decref(wr);
    rcy_decref(ident);
    return 0;
}

int rcy_weakmap_clear(rcy_object_t *map)
{
    weakmap_t *m = as_map(map);
    if (m == NULL)
        return RCY_EINVAL;
    if (m->refs == NULL)
        return 0;
    /* The releases may run finalizers that use or release the map: hold
       it. No entry's callback may run into the emptied dicts. The dicts'
       clear slot detaches each table before releasing what it held, so
       finalizers see an empty map, which they may fill again. As in del:
       refs first, the values (whose release may run code) last. */
    rcy_incref(map);
    detach_callbacks(m);
    rcy_object_t *refs = rcy_newref(m->refs);
    refs->type->clear(refs);
    rcy_decref(refs);
    if (m->values != NULL) {
        rcy_object_t *values = rcy_newref(m->values);
        values->type->clear(values);
        rcy_decref(values);
    }
    rcy_decref(map);
    return 0;
}

intptr_t rcy_weakmap_len(const rcy_object_t *map)
{
    const weakmap_t *m = as_map(map);
    if (m == NULL)
        return RCY_EINVAL;
    return m->refs != NULL ? rcy_dict_len(m->refs) : 0;
}

int rcy_weakmap_next(rcy_object_t *map, intptr_t *pos, rcy_object_t **key, rcy_object_t **value)
{
    weakmap_t *m = as_map(map);
    if (m == NULL || pos == NULL || key == NULL || value == NULL)
        return RCY_EINVAL;
    if (*pos < 0)
        return rcyi_set_error(map->type->rt, RCY_EINVAL);
    if (m->refs == NULL)
        return 0; /* cleared by the collector: empty */
    rcy_object_t *k, *wr;
    int r;
    /* k and wr are borrowed and used at once: rcy_weakref_get and the
       values lookup allocate nothing and run no user code. */
    while ((r = rcy_dict_next(m->refs, pos, &k, &wr)) > 0) {
        rcy_object_t *referent = rcy_weakref_get(wr);
        if (referent == NULL)
            continue; /* dying: its callback is about to remove it */
        if (m->weak_keys) {
            *key = referent;
            *value = rcy_xnewref(entry_of_values(m, k));
        } else {
            *key = rcy_newref(k);
            *value = referent;
        }
        return 1;
    }
    return r;
}
