/*
 * tuple: immutable sequences. Containers, tracked at creation; the
 * collector untracks survivors that can never be part of a cycle
 * (CPython's untrack_tuples). Free lists for sizes 1..20, up to 2,000
 * tuples of each size (rcyi_freelist_t); one immortal empty tuple.
 */
#include "types.h"
#include "lifecycle.h"

#include <assert.h>
#include <string.h>

static_assert(offsetof(rcyi_tuple_t, items) == sizeof(rcy_varobject_t), "the empty tuple has no items");
static_assert(offsetof(rcyi_builtins_t, empty_tuple.ob) - offsetof(rcyi_builtins_t, empty_tuple.gc) ==
                  sizeof(rcy_gc_head_t),
              "the empty tuple's GC header sits right before it");

static inline rcyi_tuple_t *as_tuple(const rcy_object_t *o) { return (rcyi_tuple_t *)(uintptr_t)o; }

static int tuple_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcyi_tuple_t *t = as_tuple(self);
    for (intptr_t i = 0; i < t->ob.size; i++)
        RCY_VISIT_ITEM(t->items[i], i);
    return 0;
}

/* Used by the collector and on deallocation. CPython's tuples have no
   tp_clear (a cycle through a tuple is broken elsewhere); clearing here
   guarantees that a collection frees cycles of any shape, and a cleared
   tuple is only ever seen by code that holds cyclic garbage. */
static int tuple_clear(rcy_object_t *self)
{
    rcyi_tuple_t *t = as_tuple(self);
    for (intptr_t i = t->ob.size - 1; i >= 0; i--)
        RCY_CLEAR(t->items[i]);
    return 0;
}

/* Refcount death: the items are released, last first, as CPython's
   tupledealloc does, without clearing the slots: nothing can reach a dead
   tuple (it is untracked and has no weak references), and a tuple kept by
   the free list gets new items when it comes back. */
static void tuple_dealloc(rcy_object_t *self)
{
    rcyi_tuple_t *t = as_tuple(self);
    for (intptr_t i = t->ob.size - 1; i >= 0; i--)
        rcy_xdecref(t->items[i]);
}

/* _PyTuple_MaybeUntrack: a tuple can be untracked when none of its items
   can ever be tracked: atoms, untracked tuples (tuples never become tracked
   again), and immortal objects (never freed, so never garbage). Any other
   container may be, or become, tracked. */
static bool tuple_maybe_untrack(rcy_object_t *o)
{
    rcyi_tuple_t *t = as_tuple(o);
    for (intptr_t i = 0; i < t->ob.size; i++) {
        rcy_object_t *item = t->items[i];
        if (item == NULL || !rcyi_is_gc(item) || rcy_is_immortal(item))
            continue;
        if (rcyi_is_tuple(item) && !rcy_gc_is_tracked(item))
            continue;
        return false;
    }
    return true;
}

#if RCY_FREELISTS
static bool tuple_freelist_push(rcy_object_t *o)
{
    rcyi_builtins_t *b = rcyi_builtins(o);
    rcyi_tuple_t *t = as_tuple(o);
    intptr_t n = t->ob.size;
    if (n < 1 || n > RCY_TUPLE_MAXSAVESIZE)
        return false;
    return rcyi_freelist_push(&b->tuple.free[n], o, RCY_TUPLE_MAXFREELIST);
}

static size_t tuple_block_size(const rcy_object_t *o)
{
    return sizeof(rcy_gc_head_t) + sizeof(rcyi_tuple_t) + (size_t)as_tuple(o)->ob.size * sizeof(rcy_object_t *);
}

/* tuple_dealloc for on_death: each release nests its own death. */
static void tuple_release(rcy_object_t *self)
{
    rcyi_tuple_t *t = as_tuple(self);
    for (intptr_t i = t->ob.size - 1; i >= 0; i--) {
        if (t->items[i] != NULL)
            rcyi_release_ref(t->items[i]);
    }
}

static void tuple_freelist_census(const rcy_type_t *type, size_t *objects, size_t *bytes)
{
    const rcyi_builtins_t *b = type->rt->builtins;
    size_t n = 0, total = 0;
    for (int k = 1; b != NULL && k <= RCY_TUPLE_MAXSAVESIZE; k++) {
        size_t len = rcyi_freelist_len(&b->tuple.free[k]);
        n += len;
        total += len * (sizeof(rcy_gc_head_t) + sizeof(rcyi_tuple_t) + (size_t)k * sizeof(rcy_object_t *));
    }
    *objects = n;
    *bytes = total;
}

static const rcyi_death_t tuple_death = {tuple_release, tuple_freelist_push, tuple_block_size, 0, true, true};

static RCYI_NOINLINE void tuple_free_memory(rcy_object_t *o) { rcyi_object_free_memory(o, &tuple_death); }
static RCYI_NOINLINE void tuple_death_general(rcy_object_t *o) { rcyi_dealloc_with(o, &tuple_death); }

/* tuple_on_death's nested path: items[i] is the last reference to its
   object; it and the items before it are released, each death one level
   deeper, then the tuple is freed. */
static RCYI_NOINLINE void tuple_death_nested(rcy_object_t *o, intptr_t i)
{
    rcyi_death_quick_untracked(o);
    rcyi_tuple_t *t = as_tuple(o);
    for (; i >= 0; i--) {
        if (t->items[i] != NULL)
            rcyi_release_ref(t->items[i]);
    }
    rcyi_death_quick_end(o, &tuple_death);
}

/* tuple_on_death's quick path for a tuple of n items (o's size, at least
   1: the empty tuple is immortal). */
static RCYI_ALWAYS_INLINE void tuple_death_quick(rcy_object_t *o, intptr_t n)
{
    rcyi_tuple_t *t = as_tuple(o);
    for (intptr_t i = n - 1; i >= 0; i--) {
        if (t->items[i] != NULL && RCY_UNLIKELY(!rcyi_release_quick(t->items[i]))) {
            tuple_death_nested(o, i);
            return;
        }
    }
    rcyi_object_free_quick(o, tuple_freelist_push, tuple_free_memory);
}

/* The on_death slot in runtimes with free lists: lifecycle.h's steps with
   this file's slots inlined (tuples have no finalizer, no weak
   references), the common case without a call (rcyi_death_quick_begin).
   A pair, the commonest tuple (a dict's items, a function's two results),
   has its own copy, unrolled, whose free list is a constant. */
static void tuple_on_death(rcy_object_t *o)
{
    if (RCY_UNLIKELY(!rcyi_death_quick_begin(o))) {
        tuple_death_general(o);
        return;
    }
    intptr_t n = as_tuple(o)->ob.size;
    if (RCY_LIKELY(n == 2))
        tuple_death_quick(o, 2);
    else
        tuple_death_quick(o, n);
}
#endif

void rcyi_tuple_clear_freelist(rcyi_builtins_t *b)
{
    for (int n = 1; n <= RCY_TUPLE_MAXSAVESIZE; n++) {
        rcy_object_t *o;
        while ((o = rcyi_freelist_pop(&b->tuple.free[n])) != NULL)
            rcyi_object_discard(o);
    }
}

int rcyi_init_tuple_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "tuple";
    spec.basicsize = sizeof(rcyi_tuple_t);
    spec.itemsize = sizeof(rcy_object_t *);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = tuple_traverse;
    spec.clear = tuple_clear;
    spec.dealloc = tuple_dealloc;
    spec.describe = rcyi_describe_repr;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    if (t == NULL)
        return RCY_ENOMEM;
    t->maybe_untrack = tuple_maybe_untrack;
    t->refs_count = offsetof(rcyi_tuple_t, ob.size); /* what tuple_traverse visits */
    t->refs_items = offsetof(rcyi_tuple_t, items);
#if RCY_FREELISTS
    if (b->freelists) { /* not when the runtime poisons freed memory */
        t->freelist_push = tuple_freelist_push;
        t->freelist_census = tuple_freelist_census;
        t->on_death = tuple_on_death;
    }
#endif
    b->tuple_type = t;
    /* The empty tuple: immortal, never tracked, stored in b (its GC header
       is zero: untracked), so not a live object. */
    b->empty_tuple.ob.ob.refcnt = RCY_REFCNT_IMMORTAL;
    b->empty_tuple.ob.ob.type = t;
    b->empty_tuple.ob.size = 0;
    return 0;
}

/* rcy_tuple_new when its fast path cannot serve: argument errors, the
   empty tuple, tuples not on a free list. */
static RCYI_NOINLINE rcy_object_t *tuple_new_general(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items)
{
    if (rt == NULL)
        return NULL;
    rcyi_check_runtime(rt, "rcy_tuple_new");
    if (n < 0 || (n > 0 && items == NULL)) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcyi_builtins_t *b = rt->builtins;
    if (n == 0)
        return &b->empty_tuple.ob.ob;
    /* A size no array of n pointers could have (nor a tuple's block) is
       refused before the caller's array is read. */
    size_t bytes;
    if (!rcyi_size_mul((size_t)n, sizeof(rcy_object_t *), &bytes) || bytes > (size_t)PTRDIFF_MAX ||
        !rcyi_size_add(bytes, b->tuple_type->block_base, &bytes)) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    for (intptr_t i = 0; i < n; i++) {
        if (items[i] == NULL) { /* before anything is allocated or counted */
            rcyi_set_error(rt, RCY_EINVAL);
            return NULL;
        }
        if (!rcyi_same_runtime(items[i], rt)) {
            rcyi_set_error(rt, RCY_ERUNTIME);
            return NULL;
        }
    }
    /* The free list is rcy_tuple_new's: a tuple it could not give is a new
       one (an empty free list, or more than RCY_TUPLE_MAXSAVESIZE items). */
    rcy_object_t *o = rcy_new_var(b->tuple_type, n);
    if (o == NULL)
        return NULL;
    /* The items are read again after the allocation, which may have
       collected (and so run code): a NULL one, or one of another runtime,
       then gives the tuple back (its deallocation releases the items
       stored so far). */
    rcyi_tuple_t *t = as_tuple(o);
    for (intptr_t i = 0; i < n; i++) {
        if (RCY_UNLIKELY(items[i] == NULL || !rcyi_same_runtime(items[i], rt))) {
            int err = items[i] == NULL ? RCY_EINVAL : RCY_ERUNTIME;
            memset(&t->items[i], 0, (size_t)(n - i) * sizeof *items);
            rcy_decref(o);
            rcyi_set_error(rt, err);
            return NULL;
        }
        t->items[i] = rcy_newref(items[i]);
    }
    return o;
}

/* rcy_tuple_new's fast path met a refused item at index i: the tuple o goes
   back on the free list, the increfs of items[0..i) are undone, and the
   general path does (and reports) the rest. */
static RCYI_NOINLINE rcy_object_t *tuple_new_refused(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items,
                                                     rcy_object_t *o, intptr_t i)
{
    rcyi_freelist_unpop(&rt->builtins->tuple.free[n], o);
    while (i-- > 0) {
        if (!rcy_is_immortal(items[i]))
            items[i]->refcnt--;
    }
    return tuple_new_general(rt, n, items);
}

/* The common case makes no call (so no stack frame, no register saved
   either): a tuple from the free list (which never starts a collection:
   rcyi_object_revive). The items are checked as they are stored into the
   tuple taken from the free list; a NULL one, one of another runtime, or one
   whose count would overflow (rcy_incref_overflow, a call) undoes the
   increfs (nothing reaches zero: the caller holds each item) and leaves
   the work to tuple_new_general, which reports it. */
static RCYI_ALWAYS_INLINE rcy_object_t *tuple_new_quick(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items)
{
    /* Off the free list first, back on it if an item is refused. */
    rcy_object_t *o = rcyi_freelist_pop(&rt->builtins->tuple.free[n]);
    if (RCY_LIKELY(o != NULL)) {
        rcyi_tuple_t *t = as_tuple(o);
        intptr_t i = rcyi_store_new_refs(rt, t->items, items, n);
        if (RCY_LIKELY(i == n))
            return rcyi_object_revive(rt, o);
        return tuple_new_refused(rt, n, items, o, i);
    }
    return tuple_new_general(rt, n, items);
}

/* A pair, the commonest tuple, has its own copy of the fast path, unrolled
   (as tuple_on_death has). */
rcy_object_t *rcy_tuple_new(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items)
{
    if (RCY_LIKELY(rt != NULL && items != NULL)) {
        RCYI_CHECK_RT(rt);
        if (RCY_LIKELY(n == 2))
            return tuple_new_quick(rt, 2, items);
        if ((uintptr_t)n - 1 < RCY_TUPLE_MAXSAVESIZE)
            return tuple_new_quick(rt, n, items);
    }
    return tuple_new_general(rt, n, items);
}

intptr_t rcy_tuple_len(const rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    if (!rcyi_is_tuple(o))
        return rcyi_set_error(o->type->rt, RCY_ETYPE);
    return as_tuple(o)->ob.size;
}

rcy_object_t *rcy_tuple_get(const rcy_object_t *o, intptr_t i)
{
    if (o == NULL)
        return NULL;
    if (!rcyi_is_tuple(o)) {
        rcyi_set_error(o->type->rt, RCY_ETYPE);
        return NULL;
    }
    rcyi_tuple_t *t = as_tuple(o);
    if (i < 0)
        i += t->ob.size;
    if (i < 0 || i >= t->ob.size) {
        rcyi_set_error(o->type->rt, RCY_EINDEX);
        return NULL;
    }
    return t->items[i];
}

int rcyi_tuple_equal(rcy_object_t *a, rcy_object_t *b, int depth)
{
    rcyi_tuple_t *x = as_tuple(a), *y = as_tuple(b);
    if (x->ob.size != y->ob.size)
        return 0;
    if (RCY_UNLIKELY(rcyi_stack_low())) /* one level deeper would not fit */
        return rcyi_set_error(a->type->rt, RCY_EDEPTH);
    for (intptr_t i = 0; i < x->ob.size; i++) {
        int r = rcyi_equal(x->items[i], y->items[i], depth);
        if (r != 1)
            return r;
    }
    return 1;
}

/* Mixes the items' hashes in order (the position matters: (1, 2) and
   (2, 1) differ). Unhashable as soon as one item is. */
int rcyi_tuple_hash(rcy_object_t *o, int64_t *out, int depth)
{
    rcyi_tuple_t *t = as_tuple(o);
    if (RCY_UNLIKELY(rcyi_stack_low())) /* one level deeper would not fit */
        return rcyi_set_error(o->type->rt, RCY_EDEPTH);
    uint64_t acc = 0x27d4eb2f165667c5u ^ (uint64_t)t->ob.size;
    for (intptr_t i = 0; i < t->ob.size; i++) {
        int64_t h = 0;
        if (t->items[i] != NULL) {
            int r = rcyi_hash(t->items[i], &h, depth);
            if (r < 0)
                return r;
        }
        acc = (acc ^ (uint64_t)h) * 0x9e3779b97f4a7c15u;
        acc ^= acc >> 29;
    }
    int64_t r = (int64_t)acc;
    *out = r == -1 ? -2 : r;
    return 0;
}

void rcyi_tuple_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    rcyi_tuple_t *t = as_tuple(o);
    if (!rcyi_repr_enter(w, o)) {
        rcyi_writes(w, "(...)");
        return;
    }
    rcyi_writes(w, "(");
    for (intptr_t i = 0; i < t->ob.size && !w->full; i++) {
        if (i > 0)
            rcyi_writes(w, ", ");
        rcyi_repr(w, t->items[i]);
    }
    if (t->ob.size == 1)
        rcyi_writes(w, ",");
    rcyi_writes(w, ")");
    rcyi_repr_leave(w);
}

rcy_object_t *rcy_tuple_slice(const rcy_object_t *o, intptr_t start, intptr_t stop)
{
    if (o == NULL)
        return NULL;
    if (!rcyi_is_tuple(o)) {
        rcyi_set_error(o->type->rt, RCY_ETYPE);
        return NULL;
    }
    const rcyi_tuple_t *t = as_tuple(o);
    rcyi_slice_bounds(t->ob.size, &start, &stop);
    if (start == 0 && stop == t->ob.size)
        return rcy_newref((rcy_object_t *)(uintptr_t)o); /* t[:] is t, as in CPython */
    /* The caller holds the tuple, whose items never change: rcy_tuple_new
       may read them after its allocation. */
    return rcy_tuple_new(o->type->rt, stop - start, t->items + start);
}
