/*
 * list: growable sequences of references. Containers. A free list keeps up
 * to 80 dead list objects for the next lists, as CPython's
 * PyList_MAXFREELIST does; unlike CPython's, a list that dies with an item
 * array of at most LIST_KEEP_SLOTS slots keeps it there (emptied), so that
 * the next small list needs no allocation for its items.
 */
#include "types.h"
#include "lifecycle.h"

#include <string.h>

static inline rcyi_list_t *as_list(const rcy_object_t *o) { return (rcyi_list_t *)(uintptr_t)o; }

static int list_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcyi_list_t *l = as_list(self);
    for (intptr_t i = 0; i < l->size; i++)
        RCY_VISIT_ITEM(l->items[i], i);
    return 0;
}

/* Empties the list first, then releases the items, last first: code run
   by a release (a finalizer) sees a consistent, empty list. Inline: the
   clear slot and the on_death slot are both made of it. */
static inline void list_release(rcy_object_t *self, bool nests)
{
    rcyi_list_t *l = as_list(self);
    rcy_object_t **items = l->items;
    intptr_t n = l->size;
    size_t bytes = (size_t)l->allocated * sizeof *items;
    l->items = NULL;
    l->size = 0;
    l->allocated = 0;
    while (n-- > 0) {
        if (items[n] == NULL)
            continue;
        if (nests) /* inside on_death, whose depth is not raised (rcyi_death_t.nests) */
            rcyi_release_ref(items[n]);
        else
            rcy_decref(items[n]);
    }
    rcyi_mem_free(self->type->rt, items, bytes);
}

static int list_clear(rcy_object_t *self)
{
    list_release(self, false);
    return 0;
}

#define LIST_KEEP_SLOTS 8 /* 64 bytes: the item array a free-listed list may keep */

/* Gives back the item array a dead list kept (list_release_keeping). */
static void list_drop_array(rcy_object_t *o)
{
    rcyi_list_t *l = as_list(o);
    rcyi_mem_free(o->type->rt, l->items, (size_t)l->allocated * sizeof *l->items);
    l->items = NULL;
    l->allocated = 0;
}

#if RCY_FREELISTS
/* on_death's release: list_release, except that a small item array stays
   with the (dead, unreachable) list, emptied, for the free list to hand on;
   list_freelist_push gives it back when the list does not go there. */
static inline void list_release_keeping(rcy_object_t *self)
{
    rcyi_list_t *l = as_list(self);
    if (l->allocated > LIST_KEEP_SLOTS) {
        list_release(self, true);
        return;
    }
    rcy_object_t **items = l->items;
    intptr_t n = l->size;
    l->size = 0;
    while (n-- > 0) {
        if (items[n] != NULL)
            rcyi_release_ref(items[n]);
    }
}

/* Keeps o on the free list, or declines it with nothing done. */
static inline bool list_freelist_keep(rcy_object_t *o)
{
    return rcyi_freelist_push(&rcyi_builtins(o)->list.free, o, RCY_LIST_MAXFREELIST);
}

static bool list_freelist_push(rcy_object_t *o)
{
    if (list_freelist_keep(o))
        return true;
    list_drop_array(o);
    return false;
}

static size_t list_block_size(const rcy_object_t *o)
{
    (void)o;
    return sizeof(rcy_gc_head_t) + sizeof(rcyi_list_t);
}

static void list_freelist_census(const rcy_type_t *type, size_t *objects, size_t *bytes)
{
    const rcyi_builtins_t *b = type->rt->builtins;
    *objects = b != NULL ? rcyi_freelist_len(&b->list.free) : 0;
    *bytes = *objects * (sizeof(rcy_gc_head_t) + sizeof(rcyi_list_t));
}

static const rcyi_death_t list_death = {list_release_keeping, list_freelist_push, list_block_size, 0, true, true};

static RCYI_NOINLINE void list_death_general(rcy_object_t *o) { rcyi_dealloc_with(o, &list_death); }

static RCYI_NOINLINE void list_free_memory(rcy_object_t *o)
{
    list_drop_array(o);
    rcyi_object_free_memory(o, &list_death);
}

/* list_on_death's nested path: items[i] is the last reference to its
   object; it and the items before it are released, each death one level
   deeper, then the list is freed. */
static RCYI_NOINLINE void list_death_nested(rcy_object_t *o, intptr_t i)
{
    rcyi_death_quick_untracked(o);
    rcy_object_t **items = as_list(o)->items;
    for (; i >= 0; i--) {
        if (items[i] != NULL)
            rcyi_release_ref(items[i]);
    }
    rcyi_death_quick_end(o, &list_death);
}

/* The on_death slot in runtimes with free lists: lifecycle.h's steps with
   this file's slots inlined (a list has no finalizer, no weak references),
   the common case without a call (rcyi_death_quick_begin): a list whose
   item array the free list may keep. list_release_keeping's work: the
   list is left empty, as a new list is, perhaps with room for a few items. */
static void list_on_death(rcy_object_t *o)
{
    rcyi_list_t *l = as_list(o);
    if (RCY_UNLIKELY(l->allocated > LIST_KEEP_SLOTS || !rcyi_death_quick_begin(o))) {
        list_death_general(o);
        return;
    }
    rcy_object_t **items = l->items;
    intptr_t n = l->size;
    l->size = 0;
    for (intptr_t i = n - 1; i >= 0; i--) {
        if (items[i] != NULL && RCY_UNLIKELY(!rcyi_release_quick(items[i]))) {
            list_death_nested(o, i);
            return;
        }
    }
    rcyi_object_free_quick(o, list_freelist_keep, list_free_memory);
}
#endif

void rcyi_listobj_clear_freelist(rcyi_builtins_t *b)
{
    rcy_object_t *o;
    while ((o = rcyi_freelist_pop(&b->list.free)) != NULL) {
        list_drop_array(o);
        rcyi_object_discard(o);
    }
}

int rcyi_init_list_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "list";
    spec.basicsize = sizeof(rcyi_list_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = list_traverse;
    spec.clear = list_clear;
    spec.describe = rcyi_describe_repr;
    b->list_type = rcy_type_new(rt, &spec);
    if (b->list_type == NULL)
        return RCY_ENOMEM;
    b->list_type->refs_count = offsetof(rcyi_list_t, size); /* what list_traverse visits */
    b->list_type->refs_items = offsetof(rcyi_list_t, items);
    b->list_type->refs_indirect = true;
#if RCY_FREELISTS
    if (b->freelists) { /* not when the runtime poisons freed memory */
        b->list_type->freelist_push = list_freelist_push;
        b->list_type->freelist_census = list_freelist_census;
        b->list_type->on_death = list_on_death;
    }
#endif
    return 0;
}

/* A new, empty list (rt not NULL). */
static inline rcy_object_t *list_alloc(rcy_runtime_t *rt)
{
    rcyi_builtins_t *b = rt->builtins;
    /* A list on the free list was emptied by list_release_keeping: no
       items, perhaps a small array. */
    rcy_object_t *o = rcyi_freelist_pop(&b->list.free);
    if (o != NULL)
        return rcyi_object_revive(rt, o);
    return rcy_new(b->list_type);
}

rcy_object_t *rcy_list_new(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return list_alloc(rt);
}

static RCYI_NOINLINE rcy_object_t *list_new_from_general(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items);

/* rcy_list_new_from's fast path met a refused item at index i: the
   increfs of items[0..i) are undone and the general path does (and
   reports) the rest. */
static RCYI_NOINLINE rcy_object_t *list_new_from_refused(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items,
                                                         intptr_t i)
{
    while (i-- > 0) {
        if (!rcy_is_immortal(items[i]))
            items[i]->refcnt--;
    }
    return list_new_from_general(rt, n, items);
}

/* The common case makes no call (so no stack frame either): a list from
   the free list that kept an item array big enough (list_release_keeping).
   The items are checked as they are stored into the array of the list
   still on the free list (which holds nothing there: its size is 0); a
   NULL one, one of another runtime, or one whose count would overflow (a
   call to report) undoes the increfs (nothing reaches zero: the caller
   holds each item) and leaves the work to list_new_from_general, which
   reports it. */
rcy_object_t *rcy_list_new_from(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items)
{
    if (RCY_LIKELY(rt != NULL && items != NULL && n > 0)) {
        RCYI_CHECK_RT(rt);
        rcyi_freelist_t *fl = &rt->builtins->list.free;
        rcyi_list_t *l = as_list(rcyi_freelist_peek(fl));
        if (RCY_LIKELY(l != NULL && l->allocated >= n)) {
            rcy_object_t **array = l->items;
            intptr_t i = rcyi_store_new_refs(rt, array, items, n);
            if (RCY_LIKELY(i == n)) {
                rcyi_freelist_pop(fl); /* l */
                l->size = n;
                return rcyi_object_revive(rt, &l->ob);
            }
            return list_new_from_refused(rt, n, items, i);
        }
    }
    return list_new_from_general(rt, n, items);
}

static rcy_object_t *list_new_from_general(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (RCY_UNLIKELY(n <= 0 || items == NULL)) {
        if (n == 0)
            return list_alloc(rt);
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    if (RCY_UNLIKELY((size_t)n > SIZE_MAX / sizeof *items)) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    rcy_object_t *o = list_alloc(rt);
    if (o == NULL)
        return NULL;
    rcyi_list_t *l = as_list(o);
    rcy_object_t **array = l->items; /* a list from the free list may have room */
    if (l->allocated < n) {
        array = rcyi_mem_alloc(rt, (size_t)n * sizeof *array);
        if (array == NULL) {
            rcy_decref(o);
            return NULL;
        }
        rcyi_mem_free(rt, l->items, (size_t)l->allocated * sizeof *array);
        l->items = array;
        l->allocated = n;
    }
    /* The items are read after the allocations, which may have collected,
       and checked as they are stored: a NULL one, or one of another
       runtime, gives the list back (its deallocation releases the items
       stored so far). */
    for (intptr_t i = 0; i < n; i++) {
        if (RCY_UNLIKELY(items[i] == NULL || !rcyi_same_runtime(items[i], rt))) {
            int err = items[i] == NULL ? RCY_EINVAL : RCY_ERUNTIME;
            l->size = i;
            rcy_decref(o);
            rcyi_set_error(rt, err);
            return NULL;
        }
        array[i] = rcy_newref(items[i]);
    }
    l->size = n;
    return o;
}

/* Validates list (and item, when needed); returns 0 or the error code. */
static int check(const rcy_object_t *list, bool need_item, const rcy_object_t *item)
{
    if (list == NULL || (need_item && item == NULL))
        return list != NULL ? rcyi_set_error(list->type->rt, RCY_EINVAL) : RCY_EINVAL;
    if (!rcyi_is_list(list))
        return rcyi_set_error(list->type->rt, RCY_ETYPE);
    if (need_item && !rcyi_same_runtime(item, list->type->rt))
        return rcyi_set_error(list->type->rt, RCY_ERUNTIME);
    /* A store into a list being deallocated (from code its release runs,
       through a C pointer) would be lost with it. */
    if (need_item && RCY_UNLIKELY(list->refcnt == 0))
        return rcyi_set_error(list->type->rt, RCY_ESTATE);
    return 0;
}

/* Makes room for newsize items, over-allocating as CPython does (about
   1/8 more, so that appends are amortized O(1)), and shrinks the array
   when less than half of it is used. Returns 0 or RCY_ENOMEM with the list
   unchanged. */
static int list_resize(rcyi_list_t *l, intptr_t newsize)
{
    if (newsize <= l->allocated && newsize >= l->allocated / 2)
        return 0;
    size_t want = (size_t)newsize + ((size_t)newsize >> 3) + 6;
    want &= ~(size_t)3;
    if (newsize == 0)
        want = 0;
    if (want > SIZE_MAX / sizeof(rcy_object_t *) || want > (size_t)INTPTR_MAX)
        return rcyi_set_error(l->ob.type->rt, RCY_ENOMEM);
    rcy_runtime_t *rt = l->ob.type->rt;
    if (want == 0) {
        rcyi_mem_free(rt, l->items, (size_t)l->allocated * sizeof *l->items);
        l->items = NULL;
        l->allocated = 0;
        return 0;
    }
    rcy_object_t **items =
        rcyi_mem_realloc(rt, l->items, (size_t)l->allocated * sizeof *items, want * sizeof *items);
    if (items == NULL) {
        if (newsize <= l->allocated)
            return 0; /* a failed shrink is harmless */
        return RCY_ENOMEM;
    }
    l->items = items;
    l->allocated = (intptr_t)want;
    return 0;
}

int rcy_list_append(rcy_object_t *list, rcy_object_t *item)
{
    int err = check(list, true, item);
    if (err < 0)
        return err;
    rcyi_list_t *l = as_list(list);
    if (l->size == l->allocated && list_resize(l, l->size + 1) < 0)
        return RCY_ENOMEM;
    l->items[l->size++] = rcy_newref(item);
    return 0;
}

int rcy_list_insert(rcy_object_t *list, intptr_t index, rcy_object_t *item)
{
    int err = check(list, true, item);
    if (err < 0)
        return err;
    rcyi_list_t *l = as_list(list);
    intptr_t n = l->size;
    if (index < 0) {
        index += n;
        if (index < 0)
            index = 0;
    }
    if (index > n)
        index = n;
    if (list_resize(l, n + 1) < 0)
        return RCY_ENOMEM;
    memmove(&l->items[index + 1], &l->items[index], (size_t)(n - index) * sizeof l->items[0]);
    l->items[index] = rcy_newref(item);
    l->size = n + 1;
    return 0;
}

/* Resolves a Python index (negative from the end); -1 when out of range. */
static intptr_t resolve(const rcyi_list_t *l, intptr_t index)
{
    if (index < 0)
        index += l->size;
    return index >= 0 && index < l->size ? index : -1;
}

rcy_object_t *rcy_list_get(const rcy_object_t *list, intptr_t index)
{
    if (check(list, false, NULL) < 0)
        return NULL;
    const rcyi_list_t *l = as_list(list);
    intptr_t i = resolve(l, index);
    if (i < 0) {
        rcyi_set_error(list->type->rt, RCY_EINDEX);
        return NULL;
    }
    return l->items[i];
}

int rcy_list_set(rcy_object_t *list, intptr_t index, rcy_object_t *item)
{
    int err = check(list, true, item);
    if (err < 0)
        return err;
    rcyi_list_t *l = as_list(list);
    intptr_t i = resolve(l, index);
    if (i < 0)
        return rcyi_set_error(list->type->rt, RCY_EINDEX);
    rcy_object_t *old = l->items[i];
    l->items[i] = rcy_newref(item);
    rcy_xdecref(old);
    return 0;
}

rcy_object_t *rcy_list_pop(rcy_object_t *list, intptr_t index)
{
    if (check(list, false, NULL) < 0)
        return NULL;
    rcyi_list_t *l = as_list(list);
    intptr_t i = resolve(l, index);
    if (i < 0) {
        rcyi_set_error(list->type->rt, RCY_EINDEX);
        return NULL;
    }
    rcy_object_t *item = l->items[i];
    memmove(&l->items[i], &l->items[i + 1], (size_t)(l->size - i - 1) * sizeof l->items[0]);
    l->size--;
    list_resize(l, l->size); /* may shrink; never fails when shrinking */
    return item;
}

intptr_t rcy_list_len(const rcy_object_t *list)
{
    int err = check(list, false, NULL);
    if (err < 0)
        return err;
    return as_list(list)->size;
}

int rcyi_listobj_equal(rcy_object_t *a, rcy_object_t *b, int depth)
{
    rcyi_list_t *x = as_list(a), *y = as_list(b);
    if (x->size != y->size)
        return 0;
    if (RCY_UNLIKELY(rcyi_stack_low())) /* one level deeper would not fit */
        return rcyi_set_error(a->type->rt, RCY_EDEPTH);
    for (intptr_t i = 0; i < x->size && i < y->size; i++) {
        /* Held: an equal slot may change either list (list_richcompare). */
        rcy_object_t *xi = rcy_xnewref(x->items[i]), *yi = rcy_xnewref(y->items[i]);
        int r = rcyi_equal(xi, yi, depth);
        rcy_xdecref(xi);
        rcy_xdecref(yi);
        if (r != 1)
            return r;
    }
    return x->size == y->size;
}

void rcyi_listobj_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    rcyi_list_t *l = as_list(o);
    if (!rcyi_repr_enter(w, o)) {
        rcyi_writes(w, "[...]");
        return;
    }
    rcyi_writes(w, "[");
    for (intptr_t i = 0; i < l->size && !w->full; i++) {
        if (i > 0)
            rcyi_writes(w, ", ");
        rcyi_repr(w, l->items[i]);
    }
    rcyi_writes(w, "]");
    rcyi_repr_leave(w);
}

/* ---- Bulk operations -------------------------------------------------- */

_Static_assert(offsetof(rcyi_list_t, size) == offsetof(rcy_list_head_t, size), "rcy_list_head_t.size");
_Static_assert(offsetof(rcyi_list_t, items) == offsetof(rcy_list_head_t, items), "rcy_list_head_t.items");

/* Python's slice bounds for a sequence of n items (step 1): negative
   indices count from the end, then both are clamped to [0, n] and stop
   to at least start. */
static void clamp_slice(intptr_t n, intptr_t *start, intptr_t *stop)
{
    if (*start < 0) {
        *start += n;
        if (*start < 0)
            *start = 0;
    } else if (*start > n) {
        *start = n;
    }
    if (*stop < 0) {
        *stop += n;
        if (*stop < 0)
            *stop = 0;
    } else if (*stop > n) {
        *stop = n;
    }
    if (*stop < *start)
        *stop = *start;
}

void rcyi_slice_bounds(intptr_t n, intptr_t *start, intptr_t *stop) { clamp_slice(n, start, stop); }

int rcy_list_extend(rcy_object_t *list, rcy_object_t *seq)
{
    int err = check(list, true, seq);
    if (err < 0)
        return err;
    rcy_object_t *const *src;
    intptr_t n;
    if (rcyi_is_list(seq))
        n = as_list(seq)->size;
    else if (rcyi_is_tuple(seq))
        n = ((rcyi_tuple_t *)seq)->ob.size;
    else
        return rcyi_set_error(list->type->rt, RCY_ETYPE);
    rcyi_list_t *l = as_list(list);
    if (n == 0)
        return 0;
    if (n > INTPTR_MAX - l->size)
        return rcyi_set_error(list->type->rt, RCY_ENOMEM);
    intptr_t size = l->size;
    if (list_resize(l, size + n) < 0) /* private memory: never collects */
        return RCY_ENOMEM;
    /* Read after the resize: seq may be the list itself (l.extend(l)). */
    src = rcyi_is_list(seq) ? as_list(seq)->items : ((rcyi_tuple_t *)seq)->items;
    for (intptr_t i = 0; i < n; i++)
        l->items[size + i] = rcy_newref(src[i]);
    l->size = size + n;
    return 0;
}

rcy_object_t *rcy_list_slice(const rcy_object_t *list, intptr_t start, intptr_t stop)
{
    if (check(list, false, NULL) < 0)
        return NULL;
    rcy_runtime_t *rt = list->type->rt;
    rcy_object_t *o = list_alloc(rt);
    if (o == NULL)
        return NULL;
    /* Bounds taken after the allocation, which may have collected and so
       changed the list. */
    const rcyi_list_t *src = as_list(list);
    clamp_slice(src->size, &start, &stop);
    intptr_t n = stop - start;
    rcyi_list_t *l = as_list(o);
    if (n > 0 && list_resize(l, n) < 0) {
        rcy_decref(o);
        return NULL;
    }
    for (intptr_t i = 0; i < n; i++)
        l->items[i] = rcy_newref(src->items[start + i]);
    l->size = n;
    return o;
}

rcy_object_t *rcy_list_to_tuple(const rcy_object_t *list)
{
    if (check(list, false, NULL) < 0)
        return NULL;
    rcy_runtime_t *rt = list->type->rt;
    const rcyi_list_t *l = as_list(list);
    intptr_t n = l->size;
    if (n == 0)
        return rcy_tuple_new(rt, 0, NULL);
    /* The tuple's allocation may collect, and a finalizer may change the
       list: the items are held in a private array (which never collects)
       across it, as they were when the call started. */
    rcy_object_t *small[16];
    rcy_object_t **held = small;
    if (n > 16) {
        held = rcyi_malloc_array(rt, (size_t)n, sizeof *held);
        if (held == NULL)
            return NULL;
    }
    for (intptr_t i = 0; i < n; i++)
        held[i] = rcy_newref(l->items[i]);
    rcy_object_t *t = rcy_tuple_new(rt, n, held);
    for (intptr_t i = n; i-- > 0;)
        rcy_decref(held[i]);
    if (held != small)
        rcyi_free(rt, held);
    return t;
}

int rcy_list_clear(rcy_object_t *list)
{
    int err = check(list, false, NULL);
    if (err < 0)
        return err;
    list_release(list, false); /* CPython's _list_clear: emptied first, then last first */
    return 0;
}
