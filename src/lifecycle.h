/*
 * The life of an object on its fast paths, inline: allocation and
 * initialization, revival from a free list, and the refcount death of an
 * object whose type has no finalizer (untrack, clear its weak references,
 * release its references, free its memory, with the trashcan's depth limit
 * around it).
 *
 * object.c builds every type's deallocation from these functions, passing
 * a description of the type (rcyi_death_t) made from its slots; a built-in
 * type (tuple, list, dict, instances of classes without finalizers) builds
 * its own copy (its on_death slot) from a static const description, which
 * the compiler folds: the same steps, without the indirect calls (CPython's
 * tupledealloc and list_dealloc are written out by hand for the same
 * reason). The out-of-line parts (the trashcan's
 * deferral, poisoning) live in object.c.
 */
#ifndef RCY_LIFECYCLE_H
#define RCY_LIFECYCLE_H

#include "internal.h"

#include <string.h>

/* object.c: defers o's release (deallocations nest RCYI_TRASH_DEPTH deep),
   releases what was deferred (when the depth is back to 0), and overwrites
   and quarantines the block of a freed object (runtimes that poison). */
RCYI_FUNC void rcyi_trash_push(rcy_runtime_t *rt, rcy_object_t *o);
RCYI_FUNC void rcyi_trash_push_whole(rcy_runtime_t *rt, rcy_object_t *o);
RCYI_FUNC void rcyi_trash_drain(rcy_runtime_t *rt);
RCYI_FUNC void rcyi_object_poison_free(rcy_object_t *o, void *block, size_t size);

/* The bytes of the block of an object of type with nitems items. */
static inline size_t rcyi_block_size(const rcy_type_t *type, intptr_t nitems)
{
    return type->block_base + (size_t)nitems * type->itemsize;
}

/* An object's block: from the pools when small enough (and the runtime has
   them), else from the allocator hooks. The size given back must be the
   size asked for, which rcyi_object_size recomputes. NULL (RCY_ENOMEM). */
static inline void *rcyi_block_alloc(rcy_runtime_t *rt, size_t size)
{
    if (rt->pool != NULL && size <= RCYI_POOL_MAX)
        return rcyi_pool_alloc(rt, size);
    return rcyi_malloc(rt, size);
}

/* Makes the block mem (a GC header first for containers, then the object)
   of `size` bytes a fresh object of type with nitems items: zero-filled,
   refcnt 1, counted live, and for a container counted by the collector
   (which may collect: the object is not tracked yet, so that collection
   does not see it, as in CPython) and then tracked. */
static inline rcy_object_t *rcyi_object_init(rcy_type_t *type, char *mem, size_t size, intptr_t nitems)
{
    rcy_runtime_t *rt = type->rt;
    bool gc = (type->flags & RCY_TPFLAGS_GC) != 0;
    memset(mem, 0, size);
    rcy_object_t *o = (rcy_object_t *)(mem + (gc ? sizeof(rcy_gc_head_t) : 0));
    o->refcnt = 1;
    o->type = type;
    if (type->itemsize)
        ((rcy_varobject_t *)o)->size = nitems;
    type->held_objects++;
    type->held_bytes += size;
    if (gc) {
        rcyi_gc_on_alloc(rt);
        rcyi_list_append_new(rcyi_as_gc(o), &rt->gens[0].head);
    }
    return o;
}

/* A new object of a fixed-size type whose block has `size` bytes (a
   constant at the call site, so the zeroing is inlined). NULL (RCY_ENOMEM). */
static inline rcy_object_t *rcyi_object_new_sized(rcy_type_t *type, size_t size)
{
    char *mem = rcyi_block_alloc(type->rt, size);
    return mem != NULL ? rcyi_object_init(type, mem, size, 0) : NULL;
}

/* Gives an object's block back: to the pools when it came from them (the
   runtime has pools and the block is small enough), else to the allocator
   hooks. size must be the size it was allocated with. */
static inline void rcyi_block_free(rcy_runtime_t *rt, void *block, size_t size)
{
    if (rt->pool != NULL && size <= RCYI_POOL_MAX)
        rcyi_pool_free(rt, block);
    else
        rcyi_free(rt, block);
}

/* Brings back a container of rt kept by its type's free list, without touching
   its body: the caller sets every field (or its type's deallocation left
   them as a new object has them), and takes it off the free list, which
   makes it count as live again (the type's census counters never stopped
   counting it: freelist_census). Refcnt 1, and tracked at the end of the
   youngest generation with its header's flags clear. Not counted as an
   allocation by the collector, and so never the start of a collection: in
   CPython too, an object taken from a free list does not change
   gc.get_count() (its memory was never given back, see
   rcyi_object_free_with). */
static inline rcy_object_t *rcyi_object_revive(rcy_runtime_t *rt, rcy_object_t *o)
{
    o->refcnt = 1;
    rcyi_list_append_new(rcyi_as_gc(o), &rt->gens[0].head); /* no flags: a new object's header */
    return o;
}

/* What a type's deallocation is made of, for the functions below: its
   slots, and what it knows of its objects. A type's own copy passes a
   static const one, which the compiler folds away. */
typedef struct rcyi_death_s {
    void (*release_refs)(rcy_object_t *o); /* the dealloc slot, else clear (or NULL) */
    bool (*fl_push)(rcy_object_t *o);      /* the freelist_push slot (or NULL) */
    size_t (*block_size)(const rcy_object_t *o); /* the bytes of o's block (rcyi_object_size) */
    size_t weaklist;                       /* the weak-reference list's offset (weaklistoffset), 0: none */
    bool gc;                               /* the type is a container (RCY_TPFLAGS_GC) */
    /* release_refs releases every reference with rcyi_release_ref, which
       raises the trashcan's depth around a death it causes: the depth is
       then left alone around the whole release (a built-in type's own
       on_death; never a user slot). */
    bool nests;
} rcyi_death_t;

/* object.c: rcy_decref_slow of o one trashcan level deeper. */
RCYI_FUNC void rcyi_decref_nested(rcy_object_t *o);

/* The release of one reference (not NULL) by the release_refs of a death
   whose descriptor says `nests`: a count above 1 is lowered in place; a
   last reference deallocates its object one level deeper than the dying
   one (rcyi_decref_nested), as if the depth had been raised around the
   whole release. Nothing else can tell: no code runs between the
   releases that are not deaths. */
static inline void rcyi_release_ref(rcy_object_t *o)
{
    intptr_t r = o->refcnt;
    if (RCY_LIKELY(r > 1)) {
        if (r < RCY_REFCNT_IMMORTAL)
            o->refcnt = r - 1;
        return;
    }
    rcyi_decref_nested(o);
}

/* Frees the memory of a dead object whose references are released: onto
   its type's free list (d->fl_push: set only in runtimes that do not
   poison; the free list's census then stops counting it as live), or out
   of the census and the collector's count and into the quarantine
   (runtimes that poison) or back to the pools or the allocator. */
static inline void rcyi_object_free_memory(rcy_object_t *o, const rcyi_death_t *d);
static inline void rcyi_object_free_with(rcy_object_t *o, const rcyi_death_t *d)
{
    o->refcnt = RCY_REFCNT_FREED; /* dead: on a free list, or in the allocator's block */
    if (d->fl_push != NULL && d->fl_push(o))
        return;
    rcyi_object_free_memory(o, d);
}

/* rcyi_object_free_with once the free list declined o (or there is
   none): the memory goes. */
static inline void rcyi_object_free_memory(rcy_object_t *o, const rcyi_death_t *d)
{
    rcy_type_t *type = o->type;
    rcy_runtime_t *rt = type->rt;
    bool gc = d->gc;
    size_t size = d->block_size(o);
    void *block = gc ? (void *)rcyi_as_gc(o) : (void *)o;
    type->held_objects--;
    type->held_bytes -= size;
    /* The collector's count goes down when a container's memory really
       goes (CPython's PyObject_GC_Del), not when a free list keeps it. */
    if (gc)
        rcyi_gc_on_free(rt);
    /* A runtime with pools never poisons (rcyi_pool_wanted): the pools
       are asked first. */
    if (RCY_LIKELY(rt->pool != NULL && size <= RCYI_POOL_MAX)) {
        rcyi_pool_free(rt, block);
        return;
    }
    if (RCY_UNLIKELY(rt->poison)) {
        rcyi_object_poison_free(o, block, size);
        return;
    }
    rcyi_free(rt, block);
}

/* Releases the references of a dying, untracked object (d->release_refs)
   and frees it; or, when deallocations nest too deep (RCYI_TRASH_DEPTH
   levels, or less when the thread's stack is low: a small thread stack,
   large frames in the types' slots), defers both (the trashcan): they
   happen when the outermost deallocation ends, with the object's type's
   own slots. */
static inline void rcyi_release_with(rcy_object_t *o, const rcyi_death_t *d)
{
    rcy_runtime_t *rt = o->type->rt;
    /* The depth is read once and put back as it was (the releases nested
       inside give back what they took): at depth 0, the common case, the
       limit and the stack are not looked at. */
    int depth = rt->dealloc_depth;
    if (RCY_UNLIKELY(depth != 0) && (depth >= RCYI_TRASH_DEPTH || rcyi_stack_low())) {
        rcyi_trash_push(rt, o);
        return;
    }
    if (d->nests) {
        /* Only o is live across the release's calls: the runtime and the
           depth (put back by the nested deaths) are read again. */
        d->release_refs(o);
        rt = o->type->rt;
        rcyi_object_free_with(o, d);
        if (RCY_UNLIKELY(rt->dealloc_depth == 0 && rt->trash != NULL))
            rcyi_trash_drain(rt);
        return;
    }
    rt->dealloc_depth = depth + 1;
    if (d->release_refs != NULL)
        d->release_refs(o);
    rcyi_object_free_with(o, d);
    rt->dealloc_depth = depth;
    if (RCY_UNLIKELY(depth == 0 && rt->trash != NULL))
        rcyi_trash_drain(rt);
}

/* Refcount death of an object whose type has neither finalizer nor legacy
   finalizer: it is untracked, its weak references are cleared and their
   callbacks called (the object is untracked by then, so a collection run
   by a callback never sees it), then rcyi_release_with. */
static inline void rcyi_dealloc_with(rcy_object_t *o, const rcyi_death_t *d)
{
    if (d->gc && RCY_LIKELY(rcyi_as_gc(o)->next != 0))
        rcyi_list_remove(rcyi_as_gc(o));
    if (d->weaklist != 0 && *(struct rcyi_weakref_s **)(void *)((char *)o + d->weaklist) != NULL) {
        /* Too deep, a container with weak references is deferred whole,
           as CPython's trashcan defers all of subtype_dealloc: its weak
           references read dead meanwhile (its count is 0) and are cleared,
           with their callbacks, when the trash drains; nothing holds them
           while they wait. */
        rcy_runtime_t *rt = o->type->rt;
        if (d->gc && RCY_UNLIKELY(rt->dealloc_depth >= RCYI_TRASH_DEPTH ||
                                  (rt->dealloc_depth > 0 && rcyi_stack_low()))) {
            rcyi_trash_push_whole(rt, o);
            return;
        }
        rcyi_weakrefs_clear_on_death(o);
    }
    rcyi_release_with(o, d);
}

/* The quick death of a built-in container whose references are released
   by rcyi_release_ref (a tuple's, list's or dict's on_death), in three
   parts so that the common case makes no call and needs no stack frame:

     if (!rcyi_death_quick_begin(o))
         return rcyi_dealloc_with(o, &d);     (the general path)
     for each reference p, last first:
         if (!rcyi_release_quick(p))
             return the type's nested path:    (out of line)
                 rcyi_death_quick_untracked(o), rcyi_release_ref of p and
                 the rest, then rcyi_death_quick_end(o, &d)
     rcyi_object_free_quick(o, ...);           (rcyi_object_free_with)

   At depth 0 nothing is deferred, so the trashcan only matters once a
   release causes a death: the nested path raises the depth around it
   (rcyi_release_ref) and drains after the free, as rcyi_release_with
   does; until then no code runs, the trash is empty (it is only ever
   filled below depth 0 and drained on the way back), and a death that
   nests nothing has nothing to drain. */

/* Takes o (a container) off its generation list and returns true when its
   death may take the quick path: at depth 0, not held by the incremental
   pass's array (rcyi_list_remove's slow case). Else false, with nothing
   done. o's own header is left as it was (its neighbours no longer link
   to it): the free list writes both words over it when o goes onto its
   stack (nothing reads it while o waits in the list's top word), and the
   out-of-line paths, from which code may run, begin with
   rcyi_death_quick_untracked. Nothing reads it in between: no code runs
   and nothing reaches o. */
static inline bool rcyi_death_quick_begin(rcy_object_t *o)
{
    rcy_gc_head_t *g = rcyi_as_gc(o);
    uintptr_t next = g->next;
    if (RCY_UNLIKELY((next & RCYI_NEXT_INCR) != 0 || o->type->rt->dealloc_depth != 0))
        return false;
    if (RCY_LIKELY(next != 0)) {
        rcy_gc_head_t *prev = rcyi_gc_prev(g);
        rcyi_gc_set_next(prev, (rcy_gc_head_t *)next);
        rcyi_gc_set_prev((rcy_gc_head_t *)next, prev);
    }
    return true;
}

/* The header of an untracked object, as rcyi_list_remove leaves it, for
   o after rcyi_death_quick_begin: the first step of a quick death's
   out-of-line paths (its nested release, its free when the free list
   declines). */
static inline void rcyi_death_quick_untracked(rcy_object_t *o)
{
    rcy_gc_head_t *g = rcyi_as_gc(o);
    g->next = 0;
    g->prev &= RCYI_PREV_FINALIZED;
}

/* Releases one reference (not NULL) whose count stays above 0, and returns
   true; false, with nothing done, when it is the last reference (the
   caller's nested path releases it). */
static inline bool rcyi_release_quick(rcy_object_t *p)
{
    intptr_t r = p->refcnt;
    /* A mortal count of at least 2, in one unsigned comparison. */
    if (RCY_LIKELY((uintptr_t)r - 2 < (uintptr_t)RCY_REFCNT_IMMORTAL - 2)) {
        p->refcnt = r - 1;
        return true;
    }
    return rcyi_refcnt_immortal(r) && r > 0; /* else at most 1 (or negative: freed) */
}

/* The free at the end of a quick death: rcyi_object_free_with, with the
   free list's push inline (`push`: it keeps o, or declines it with
   nothing done) and the rest out of line (`rest`: what the type's
   freelist_push does on declining, then rcyi_object_free_memory), so
   that the quick death stays without a call. */
static inline void rcyi_object_free_quick(rcy_object_t *o, bool (*push)(rcy_object_t *o), void (*rest)(rcy_object_t *o))
{
    o->refcnt = RCY_REFCNT_FREED;
    if (RCY_LIKELY(push(o)))
        return;
    rcyi_death_quick_untracked(o);
    rest(o);
}

/* The end of a quick death's nested path, once every reference is
   released: the free, then the trash drained (at depth 0). */
static inline void rcyi_death_quick_end(rcy_object_t *o, const rcyi_death_t *d)
{
    rcy_runtime_t *rt = o->type->rt;
    rcyi_object_free_with(o, d);
    if (RCY_UNLIKELY(rt->dealloc_depth == 0 && rt->trash != NULL))
        rcyi_trash_drain(rt);
}

#endif /* RCY_LIFECYCLE_H */
