/*
 * dict: hash maps keyed by any hashable object, iterated in insertion
 * order. CPython's compact layout: an array of entries in insertion order
 * and a power-of-two table of 32-bit indices into it, probed with
 * CPython's perturbed sequence. Containers, always tracked (CPython 3.14:
 * no lazy untracking). A free list keeps up to 80 dead dict objects
 * (without their tables).
 */
#include "types.h"
#include "lifecycle.h"

#include <string.h>

#define DKIX_EMPTY (-1)
#define DKIX_DUMMY (-2)
#define DICT_MINSIZE 8
#define DICT_MAXSLOTS ((intptr_t)1 << 30) /* 32-bit indices */
#define USABLE_FRACTION(n) (((n) << 1) / 3)

static inline rcyi_dict_t *as_dict(const rcy_object_t *o) { return (rcyi_dict_t *)(uintptr_t)o; }

/* The capacity of entries, the index table after them, and the bytes of
   the block holding both. */
static inline intptr_t dict_usable(const rcyi_dict_t *d) { return USABLE_FRACTION(d->nslots); }
static inline int32_t *dict_indices(const rcyi_dict_t *d)
{
    return (int32_t *)(void *)(d->entries + dict_usable(d));
}
static inline size_t table_bytes(intptr_t nslots)
{
    return (size_t)USABLE_FRACTION(nslots) * sizeof(rcyi_dict_entry_t) + (size_t)nslots * sizeof(int32_t);
}

/* What to look for: an object key, or (key == NULL) the str with the
   bytes s[0..n). */
typedef struct probe_s {
    rcy_object_t *key;
    const char *s;
    size_t n;
    int64_t hash;
} probe_t;

/* Finds p in d. Returns 0 with *ix the entry's index (or -1 when absent)
   and *slot its slot in indices, or an error from the key comparison. */
static int lookup(const rcyi_dict_t *d, const probe_t *p, int depth, intptr_t *ix, size_t *slot)
{
restart:
    *ix = -1;
    if (d->nslots == 0)
        return 0;
    size_t mask = (size_t)d->nslots - 1;
    const int32_t *indices = dict_indices(d);
    uint64_t perturb = (uint64_t)p->hash;
    size_t i = (size_t)((uint64_t)p->hash & mask);
    for (;;) {
        int32_t k = indices[i];
        if (k == DKIX_EMPTY)
            return 0;
        if (k >= 0) {
            const rcyi_dict_entry_t *e = &d->entries[k];
            bool match = false;
            if (p->key != NULL && e->key == p->key) {
                match = true;
            } else if (e->hash == p->hash) {
                if (p->key != NULL) {
                    /* The comparison may run user code (equal slots, and
                       what they run) that changes or empties d: hold the
                       entry's key, and start again if d's table or that
                       entry changed meanwhile (CPython's lookdict). */
                    rcy_object_t *startkey = rcy_newref(e->key);
                    const rcyi_dict_entry_t *entries = d->entries;
                    int r = rcyi_equal(startkey, p->key, depth);
                    bool changed = d->entries != entries || d->nslots != (intptr_t)mask + 1 ||
                                   k >= d->nentries || d->entries[k].key != startkey;
                    /* The last reference only if the entry went: then
                       changed is true, whatever the release runs. */
                    rcy_decref(startkey);
                    if (r < 0)
                        return r;
                    if (changed)
                        goto restart;
                    match = r == 1;
                } else if (rcyi_is_str(e->key)) {
                    const rcyi_str_t *s = (const rcyi_str_t *)e->key;
                    match = (size_t)s->ob.size == p->n && memcmp(s->data, p->s, p->n) == 0;
                }
            }
            if (match) {
                *ix = k;
                *slot = i;
                return 0;
            }
        }
        perturb >>= 5;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

/* The first slot for hash that holds no live entry. */
static size_t find_free_slot(const rcyi_dict_t *d, int64_t hash)
{
    size_t mask = (size_t)d->nslots - 1;
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)((uint64_t)hash & mask);
    const int32_t *indices = dict_indices(d);
    while (indices[i] >= 0) {
        perturb >>= 5;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

/* Rebuilds the table with at least minslots slots, compacting the entries
   (deleted ones go). Returns 0 or RCY_ENOMEM with d unchanged. */
static int dict_resize(rcyi_dict_t *d, intptr_t minslots)
{
    rcy_runtime_t *rt = d->ob.type->rt;
    intptr_t nslots = DICT_MINSIZE;
    while (nslots < minslots && nslots < DICT_MAXSLOTS)
        nslots <<= 1;
    if (nslots < minslots)
        return rcyi_set_error(rt, RCY_ENOMEM);
    intptr_t usable = USABLE_FRACTION(nslots);
    rcyi_dict_entry_t *entries = rcyi_mem_alloc(rt, table_bytes(nslots));
    if (entries == NULL)
        return RCY_ENOMEM;
    int32_t *indices = (int32_t *)(void *)(entries + usable);
    memset(indices, 0xff, (size_t)nslots * sizeof(int32_t)); /* DKIX_EMPTY */
    rcyi_dict_entry_t *old = d->entries;
    size_t old_bytes = table_bytes(d->nslots);
    intptr_t j = 0;
    for (intptr_t i = 0; i < d->nentries; i++) {
        if (old[i].key != NULL)
            entries[j++] = old[i];
    }
    d->entries = entries;
    d->nslots = nslots;
    d->nentries = j;
    for (intptr_t i = 0; i < j; i++)
        indices[find_free_slot(d, entries[i].hash)] = (int32_t)i;
    rcyi_mem_free(rt, old, old_bytes);
    return 0;
}

/* Adds an entry for a key known to be absent; the dict takes references.
   Returns 0 or RCY_ENOMEM with d unchanged. */
static int insert_new(rcyi_dict_t *d, rcy_object_t *key, int64_t hash, rcy_object_t *value)
{
    if (d->nentries >= dict_usable(d)) {
        /* CPython's growth rate: room for three times the live items. */
        intptr_t want = d->used > DICT_MAXSLOTS / 3 ? DICT_MAXSLOTS + 1 : d->used * 3;
        if (dict_resize(d, want) < 0)
            return RCY_ENOMEM;
    }
    size_t slot = find_free_slot(d, hash);
    rcyi_dict_entry_t *e = &d->entries[d->nentries];
    e->hash = hash;
    e->key = rcy_newref(key);
    e->value = rcy_newref(value);
    dict_indices(d)[slot] = (int32_t)d->nentries;
    d->nentries++;
    d->used++;
    return 0;
}

/* The first entry of a dict without a table: a table of the smallest size
   (the same as insert_new's resize would make, in fewer steps). Returns 0
   or RCY_ENOMEM with d unchanged. */
static int insert_first(rcyi_dict_t *d, rcy_object_t *key, int64_t hash, rcy_object_t *value)
{
    rcyi_dict_entry_t *entries = rcyi_mem_alloc(d->ob.type->rt, table_bytes(DICT_MINSIZE));
    if (entries == NULL)
        return RCY_ENOMEM;
    int32_t *indices = (int32_t *)(void *)(entries + USABLE_FRACTION(DICT_MINSIZE));
    memset(indices, 0xff, DICT_MINSIZE * sizeof(int32_t)); /* DKIX_EMPTY */
    indices[(uint64_t)hash & (DICT_MINSIZE - 1)] = 0;
    entries[0].hash = hash;
    entries[0].key = rcy_newref(key);
    entries[0].value = rcy_newref(value);
    d->entries = entries;
    d->nslots = DICT_MINSIZE;
    d->nentries = d->used = 1;
    return 0;
}

/* Removes the entry ix found at slot; releases its key and value after the
   dict is consistent again. */
static void delete_entry(rcyi_dict_t *d, intptr_t ix, size_t slot)
{
    rcyi_dict_entry_t *e = &d->entries[ix];
    rcy_object_t *key = e->key, *value = e->value;
    dict_indices(d)[slot] = DKIX_DUMMY;
    e->key = NULL;
    e->value = NULL;
    d->used--;
    rcy_decref(key);
    rcy_decref(value);
}

/* ---- The type -------------------------------------------------------- */

static int dict_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcyi_dict_t *d = as_dict(self);
    const rcy_type_t *str_type = self->type->rt->builtins->str_type;
    for (intptr_t i = 0; i < d->nentries; i++) {
        rcy_object_t *key = d->entries[i].key;
        rcy_object_t *value = d->entries[i].value;
        /* Edge labels for the graph tools: a value is labelled by its key's
           text when the key is a str (an attribute name), else "value". */
        RCY_VISIT_NAMED(key, "key");
        RCY_VISIT_NAMED(value, key != NULL && key->type == str_type ? ((rcyi_str_t *)key)->data : "value");
    }
    return 0;
}

/* Detaches the table first: finalizers run by the releases see an empty,
   consistent dict (and may even fill it again). */
static int dict_clear(rcy_object_t *self)
{
    rcyi_dict_t *d = as_dict(self);
    rcyi_dict_entry_t *entries = d->entries;
    intptr_t n = d->nentries;
    size_t bytes = table_bytes(d->nslots);
    d->entries = NULL;
    d->nslots = d->nentries = d->used = 0;
    for (intptr_t i = 0; i < n; i++) {
        rcy_xdecref(entries[i].key);
        rcy_xdecref(entries[i].value);
    }
    rcyi_mem_free(self->type->rt, entries, bytes);
    return 0;
}

/* Gives back the table a dead dict kept (dict_release_keeping). */
static void dict_drop_table(rcy_object_t *o)
{
    rcyi_dict_t *d = as_dict(o);
    rcyi_mem_free(o->type->rt, d->entries, table_bytes(d->nslots));
    d->entries = NULL;
    d->nslots = 0;
}

#if RCY_FREELISTS
/* The emptied table a dict keeps for the free list: no entry, every index
   DKIX_EMPTY (or no table). */
static inline void dict_reset_kept(rcyi_dict_t *d)
{
    d->used = d->nentries = 0;
    if (d->nslots == DICT_MINSIZE)
        memset(dict_indices(d), 0xff, DICT_MINSIZE * sizeof(int32_t)); /* DKIX_EMPTY */
}

/* Keeps o on the free list, or declines it with nothing done. */
static inline bool dict_freelist_keep(rcy_object_t *o)
{
    return rcyi_freelist_push(&rcyi_builtins(o)->dict.free, o, RCY_DICT_MAXFREELIST);
}

static bool dict_freelist_push(rcy_object_t *o)
{
    if (dict_freelist_keep(o))
        return true;
    if (as_dict(o)->entries != NULL)
        dict_drop_table(o);
    return false;
}

/* on_death's release: the keys and values, each with its own death one
   level deeper (rcyi_release_ref), in place and in dict_clear's order:
   nothing can reach the dying
   dict (its count is 0, it is untracked and has no weak references). A
   table of the smallest size stays with the dict, emptied (every index
   DKIX_EMPTY, no entry), for the free list to hand on with it: CPython's
   free list of such keys objects (PyDict_MINSIZE, 80 of them), held here
   by the dicts of the free list, which are as many; dict_freelist_push
   gives it back when the dict does not go there. A larger one goes. */
static inline void dict_release_keeping(rcy_object_t *o)
{
    rcyi_dict_t *d = as_dict(o);
    rcyi_dict_entry_t *entries = d->entries;
    intptr_t n = d->nentries;
    for (intptr_t i = 0; i < n; i++) { /* in dict_clear's order (CPython's free_keys_object) */
        if (entries[i].key != NULL) {
            rcyi_release_ref(entries[i].key);
            rcyi_release_ref(entries[i].value);
        }
    }
    if (d->nslots == DICT_MINSIZE || d->entries == NULL) {
        dict_reset_kept(d);
        return;
    }
    d->used = d->nentries = 0;
    dict_drop_table(o);
}

static size_t dict_block_size(const rcy_object_t *o)
{
    (void)o;
    return sizeof(rcy_gc_head_t) + sizeof(rcyi_dict_t);
}

static void dict_freelist_census(const rcy_type_t *type, size_t *objects, size_t *bytes)
{
    const rcyi_builtins_t *b = type->rt->builtins;
    *objects = b != NULL ? rcyi_freelist_len(&b->dict.free) : 0;
    *bytes = *objects * (sizeof(rcy_gc_head_t) + sizeof(rcyi_dict_t));
}

static const rcyi_death_t dict_death = {dict_release_keeping, dict_freelist_push, dict_block_size, 0, true, true};

static RCYI_NOINLINE void dict_death_general(rcy_object_t *o) { rcyi_dealloc_with(o, &dict_death); }

static RCYI_NOINLINE void dict_free_memory(rcy_object_t *o)
{
    if (as_dict(o)->entries != NULL)
        dict_drop_table(o);
    rcyi_object_free_memory(o, &dict_death);
}

/* dict_on_death's nested path: the key (or, when key_done, the value) of
   entry i is the last reference to its object; it and the references
   after it are released in order, each death one level deeper, then the
   dict is emptied and freed. */
static RCYI_NOINLINE void dict_death_nested(rcy_object_t *o, intptr_t i, bool key_done)
{
    rcyi_death_quick_untracked(o);
    rcyi_dict_t *d = as_dict(o);
    for (; i < d->nentries; i++, key_done = false) {
        if (d->entries[i].key == NULL)
            continue;
        if (!key_done)
            rcyi_release_ref(d->entries[i].key);
        rcyi_release_ref(d->entries[i].value);
    }
    dict_reset_kept(d);
    rcyi_death_quick_end(o, &dict_death);
}

/* The on_death slot in runtimes with free lists: lifecycle.h's steps with
   this file's slots inlined (a dict has no finalizer, no weak references),
   the common case without a call (rcyi_death_quick_begin): a dict with no
   table or one of the smallest size, which the free list keeps with it.
   dict_release_keeping's work, in its order. */
static void dict_on_death(rcy_object_t *o)
{
    rcyi_dict_t *d = as_dict(o);
    if (RCY_UNLIKELY((d->nslots != DICT_MINSIZE && d->nslots != 0) || !rcyi_death_quick_begin(o))) {
        dict_death_general(o);
        return;
    }
    rcyi_dict_entry_t *entries = d->entries;
    intptr_t n = d->nentries;
    for (intptr_t i = 0; i < n; i++) {
        if (entries[i].key == NULL)
            continue;
        if (RCY_UNLIKELY(!rcyi_release_quick(entries[i].key))) {
            dict_death_nested(o, i, false);
            return;
        }
        if (RCY_UNLIKELY(!rcyi_release_quick(entries[i].value))) {
            dict_death_nested(o, i, true);
            return;
        }
    }
    dict_reset_kept(d);
    rcyi_object_free_quick(o, dict_freelist_keep, dict_free_memory);
}
#endif

void rcyi_dict_clear_freelist(rcyi_builtins_t *b)
{
    rcy_object_t *o;
    while ((o = rcyi_freelist_pop(&b->dict.free)) != NULL) {
        if (as_dict(o)->entries != NULL)
            dict_drop_table(o);
        rcyi_object_discard(o);
    }
}

int rcyi_init_dict_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "dict";
    spec.basicsize = sizeof(rcyi_dict_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = dict_traverse;
    spec.clear = dict_clear;
    spec.describe = rcyi_describe_repr;
    b->dict_type = rcy_type_new(rt, &spec);
    if (b->dict_type == NULL)
        return RCY_ENOMEM;
    /* What dict_traverse visits, for the collector's passes (internal.h,
       refs_stride): each entry's key, then its value, NULL ones skipped. */
    _Static_assert(offsetof(rcyi_dict_entry_t, value) == offsetof(rcyi_dict_entry_t, key) + sizeof(rcy_object_t *) &&
                       sizeof(rcyi_dict_entry_t) == offsetof(rcyi_dict_entry_t, value) + sizeof(rcy_object_t *) &&
                       offsetof(rcyi_dict_entry_t, key) % sizeof(rcy_object_t *) == 0,
                   "a dict entry is words of which the last two are the key and the value");
    b->dict_type->refs_count = offsetof(rcyi_dict_t, nentries);
    b->dict_type->refs_items = offsetof(rcyi_dict_t, entries);
    b->dict_type->refs_indirect = true;
    b->dict_type->refs_stride = (uint8_t)(sizeof(rcyi_dict_entry_t) / sizeof(rcy_object_t *));
    b->dict_type->refs_skip = (uint8_t)(offsetof(rcyi_dict_entry_t, key) / sizeof(rcy_object_t *));
#if RCY_FREELISTS
    if (b->freelists) { /* not when the runtime poisons freed memory */
        b->dict_type->freelist_push = dict_freelist_push;
        b->dict_type->freelist_census = dict_freelist_census;
        b->dict_type->on_death = dict_on_death;
    }
#endif
    return 0;
}

/* ---- The public API ---------------------------------------------------- */

rcy_object_t *rcy_dict_new(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    rcyi_builtins_t *b = rt->builtins;
    /* A dict on the free list was emptied by dict_release_keeping: no
       item, perhaps an empty table. */
    rcy_object_t *o = rcyi_freelist_pop(&b->dict.free);
    if (o != NULL)
        return rcyi_object_revive(rt, o);
    return rcy_new(b->dict_type);
}

static int check(const rcy_object_t *d, const rcy_object_t *key, bool need_key)
{
    if (d == NULL)
        return RCY_EINVAL;
    if (need_key && key == NULL)
        return rcyi_set_error(d->type->rt, RCY_EINVAL);
    if (!rcyi_is_dict(d))
        return rcyi_set_error(d->type->rt, RCY_ETYPE);
    /* A dict being deallocated releases its entries where they are: a
       read from code its release runs could return a freed value. */
    if (RCY_UNLIKELY(d->refcnt == 0))
        return rcyi_set_error(d->type->rt, RCY_ESTATE);
    return 0;
}

/* Hashes key and looks it up. */
static int find(const rcy_object_t *d, rcy_object_t *key, probe_t *p, intptr_t *ix, size_t *slot)
{
    int err = check(d, key, true);
    if (err < 0)
        return err;
    p->key = key;
    p->s = NULL;
    p->n = 0;
    err = rcyi_hash(key, &p->hash, 0);
    if (err < 0)
        return err;
    return lookup(as_dict(d), p, 0, ix, slot);
}

static RCYI_NOINLINE int dict_set_general(rcy_object_t *d, rcy_object_t *key, rcy_object_t *value);

/* The common first store makes no call (so no stack frame either): a str
   key whose hash is known, into the empty table of the smallest size that
   a dict from the free list kept (dict_release_keeping): nothing to look
   up, nothing to allocate. Anything else (errors included, checked in the
   same order) goes to dict_set_general. */
int rcy_dict_set(rcy_object_t *d, rcy_object_t *key, rcy_object_t *value)
{
    if (RCY_LIKELY(d != NULL && key != NULL && value != NULL)) {
        rcyi_check_live(d);
        rcyi_dict_t *dict = as_dict(d);
        if (RCY_LIKELY(rcy_kind(d) == RCY_KIND_DICT && dict->nentries == 0 && dict->nslots == DICT_MINSIZE)) {
            rcy_runtime_t *rt = d->type->rt;
            rcyi_check_live(key);
            const rcyi_str_t *sk = (const rcyi_str_t *)key;
            intptr_t rk = key->refcnt, rv = value->refcnt;
            if (RCY_LIKELY(rcy_kind(key) == RCY_KIND_STR && sk->hash != -1 && rcyi_same_runtime(key, rt) &&
                           rcyi_same_runtime(value, rt) && rk != RCY_REFCNT_MAX &&
                           rv != RCY_REFCNT_MAX - (key == value))) {
                /* (nentries is 0 only while the table is as new: an
                   emptied dict keeps DUMMY indices and its nentries.) */
                int64_t hash = sk->hash;
                rcyi_dict_entry_t *e = dict->entries;
                dict_indices(dict)[(uint64_t)hash & (DICT_MINSIZE - 1)] = 0;
                e->hash = hash;
                e->key = key;
                e->value = value;
                /* rcy_incref of each: neither reaches past RCY_REFCNT_MAX
                   (checked above), so no overflow to report. */
                if (rk < RCY_REFCNT_MAX)
                    key->refcnt = key->refcnt + 1;
                if (rv < RCY_REFCNT_MAX)
                    value->refcnt = value->refcnt + 1;
                dict->nentries = dict->used = 1;
                return 0;
            }
        }
    }
    return dict_set_general(d, key, value);
}

static int dict_set_general(rcy_object_t *d, rcy_object_t *key, rcy_object_t *value)
{
    if (d != NULL && value == NULL)
        return rcyi_set_error(d->type->rt, RCY_EINVAL);
    rcyi_dict_t *dict = as_dict(d);
    if (d != NULL && key != NULL && rcyi_is_dict(d)) {
        /* Both are checked, even when key is already in and only value is
           stored: the outcome does not depend on the dict's contents. */
        if (!rcyi_same_runtime(key, d->type->rt) || !rcyi_same_runtime(value, d->type->rt))
            return rcyi_set_error(d->type->rt, RCY_ERUNTIME);
        /* A store into a dict being deallocated (from code its release
           runs, through a C pointer) would be lost with it. */
        if (RCY_UNLIKELY(d->refcnt == 0))
            return rcyi_set_error(d->type->rt, RCY_ESTATE);
        if (dict->nslots == 0 && rcyi_is_str(key)) {
            /* The first item of a dict, under a str key (attributes,
               keyword dicts, {'a': x}): nothing to look up. */
            return insert_first(dict, key, rcyi_str_hash(key), value);
        }
    }
    probe_t p;
    intptr_t ix;
    size_t slot;
    int err = find(d, key, &p, &ix, &slot);
    if (err < 0)
        return err;
    if (ix >= 0) {
        rcy_object_t *old = dict->entries[ix].value;
        dict->entries[ix].value = rcy_newref(value);
        rcy_decref(old);
        return 0;
    }
    return insert_new(dict, key, p.hash, value);
}

rcy_object_t *rcy_dict_get(const rcy_object_t *d, rcy_object_t *key)
{
    probe_t p;
    intptr_t ix;
    size_t slot;
    if (find(d, key, &p, &ix, &slot) < 0)
        return NULL;
    if (ix < 0) {
        rcyi_set_error(d->type->rt, RCY_EKEY);
        return NULL;
    }
    return as_dict(d)->entries[ix].value;
}

int rcy_dict_del(rcy_object_t *d, rcy_object_t *key)
{
    probe_t p;
    intptr_t ix;
    size_t slot;
    int err = find(d, key, &p, &ix, &slot);
    if (err < 0)
        return err;
    if (ix < 0)
        return rcyi_set_error(d->type->rt, RCY_EKEY);
    delete_entry(as_dict(d), ix, slot);
    return 0;
}

intptr_t rcy_dict_len(const rcy_object_t *d)
{
    int err = check(d, NULL, false);
    if (err < 0)
        return err;
    return as_dict(d)->used;
}

int rcy_dict_next(const rcy_object_t *d, intptr_t *pos, rcy_object_t **key, rcy_object_t **value)
{
    int err = check(d, NULL, false);
    if (err < 0)
        return err;
    if (pos == NULL || *pos < 0)
        return rcyi_set_error(d->type->rt, RCY_EINVAL);
    const rcyi_dict_t *dict = as_dict(d);
    for (intptr_t i = *pos; i < dict->nentries; i++) {
        const rcyi_dict_entry_t *e = &dict->entries[i];
        if (e->key != NULL) {
            if (key != NULL)
                *key = e->key;
            if (value != NULL)
                *value = e->value;
            *pos = i + 1;
            return 1;
        }
    }
    *pos = dict->nentries;
    return 0;
}

/* ---- str keys given as C strings (attributes) ------------------------- */

static void cstr_probe(probe_t *p, const char *name, size_t n)
{
    p->key = NULL;
    p->s = name;
    p->n = n;
    p->hash = rcyi_str_hash_bytes(name, n);
}

rcy_object_t *rcyi_dict_get_cstr(rcy_object_t *d, const char *name, size_t n)
{
    probe_t p;
    intptr_t ix;
    size_t slot;
    cstr_probe(&p, name, n);
    lookup(as_dict(d), &p, 0, &ix, &slot); /* comparing bytes cannot fail */
    return ix >= 0 ? as_dict(d)->entries[ix].value : NULL;
}

int rcyi_dict_set_cstr(rcy_object_t *d, const char *name, size_t n, rcy_object_t *value)
{
    probe_t p;
    intptr_t ix;
    size_t slot;
    cstr_probe(&p, name, n);
    lookup(as_dict(d), &p, 0, &ix, &slot);
    rcyi_dict_t *dict = as_dict(d);
    if (ix >= 0) {
        rcy_object_t *old = dict->entries[ix].value;
        dict->entries[ix].value = rcy_newref(value);
        rcy_decref(old);
        return 0;
    }
    rcy_object_t *key = rcy_str_new_len(d->type->rt, name, n);
    if (key == NULL)
        return RCY_ENOMEM;
    ((rcyi_str_t *)key)->hash = p.hash;
    int err = insert_new(dict, key, p.hash, value);
    rcy_decref(key);
    return err;
}

int rcyi_dict_del_cstr(rcy_object_t *d, const char *name, size_t n)
{
    probe_t p;
    intptr_t ix;
    size_t slot;
    cstr_probe(&p, name, n);
    lookup(as_dict(d), &p, 0, &ix, &slot);
    if (ix < 0)
        return RCY_EKEY;
    delete_entry(as_dict(d), ix, slot);
    return 0;
}

/* ---- Equality and repr ------------------------------------------------ */

int rcyi_dict_equal(rcy_object_t *a, rcy_object_t *b, int depth)
{
    rcyi_dict_t *x = as_dict(a), *y = as_dict(b);
    if (x->used != y->used)
        return 0;
    if (RCY_UNLIKELY(rcyi_stack_low())) /* one level deeper would not fit */
        return rcyi_set_error(a->type->rt, RCY_EDEPTH);
    for (intptr_t i = 0; i < x->nentries; i++) {
        const rcyi_dict_entry_t *e = &x->entries[i];
        if (e->key == NULL)
            continue;
        /* Key and values held across comparisons that may run user code
           (equal slots) changing either dict, as CPython's dict_equal. */
        rcy_object_t *key = rcy_newref(e->key), *aval = rcy_newref(e->value);
        probe_t p = {key, NULL, 0, e->hash};
        intptr_t ix;
        size_t slot;
        int r = lookup(y, &p, depth, &ix, &slot);
        if (r == 0 && ix >= 0) {
            rcy_object_t *bval = rcy_newref(y->entries[ix].value);
            r = rcyi_equal(aval, bval, depth);
            rcy_decref(bval);
        }
        rcy_decref(aval);
        rcy_decref(key);
        if (r < 0)
            return r;
        if (ix < 0 || r == 0)
            return 0;
    }
    return 1;
}

void rcyi_dict_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    rcyi_dict_t *d = as_dict(o);
    if (!rcyi_repr_enter(w, o)) {
        rcyi_writes(w, "{...}");
        return;
    }
    rcyi_writes(w, "{");
    bool first = true;
    for (intptr_t i = 0; i < d->nentries && !w->full; i++) {
        const rcyi_dict_entry_t *e = &d->entries[i];
        if (e->key == NULL)
            continue;
        if (!first)
            rcyi_writes(w, ", ");
        first = false;
        rcyi_repr(w, e->key);
        rcyi_writes(w, ": ");
        rcyi_repr(w, e->value);
    }
    rcyi_writes(w, "}");
    rcyi_repr_leave(w);
}
