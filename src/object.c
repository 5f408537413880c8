/*
 * Types, allocation, deallocation dispatch, the trashcan (deferred
 * deallocation of deep chains), immortal objects, poisoning of freed memory,
 * and the refcount checks that turn heap corruption into a clear message.
 */
#include "internal.h"
#include "lifecycle.h"

#include <stdlib.h>
#include <string.h>

/* ---- Types ----------------------------------------------------------- */

static void dealloc(rcy_object_t *o);

/* Whether spec describes a type that can be built. Every bound is written
   so that no caller-supplied size is added to or multiplied by another
   (weaklistoffset = SIZE_MAX - 7 once wrapped past the basicsize check). */
static bool spec_valid(const rcy_type_spec_t *spec)
{
    if (spec == NULL || !rcyi_name_valid(spec->name) || (spec->flags & ~(unsigned)RCY_TPFLAGS_GC) != 0)
        return false;
    if (spec->flags & RCY_TPFLAGS_GC) {
        if (spec->traverse == NULL || spec->clear == NULL)
            return false;
    } else if (spec->traverse != NULL) {
        return false; /* the collector never calls it: a forgotten RCY_TPFLAGS_GC */
    }
    size_t header = spec->itemsize > 0 ? sizeof(rcy_varobject_t) : sizeof(rcy_object_t);
    if (spec->basicsize < header || spec->basicsize > SIZE_MAX / 2)
        return false;
    /* The weak-list head: a pointer-aligned field after the header, inside
       the fixed part (basicsize >= header > sizeof(pointer): no wrap). */
    if (spec->weaklistoffset != 0 &&
        (spec->weaklistoffset < header || spec->weaklistoffset % sizeof(rcy_object_t *) != 0 ||
         spec->weaklistoffset > spec->basicsize - sizeof(rcy_object_t *)))
        return false;
    return true;
}

rcy_type_t *rcy_type_new(rcy_runtime_t *rt, const rcy_type_spec_t *spec)
{
    if (rt == NULL)
        return NULL;
    if (!spec_valid(spec)) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcy_type_t *t = rcyi_malloc(rt, sizeof *t);
    if (t == NULL)
        return NULL;
    size_t len = strlen(spec->name);
    char *name = rcyi_malloc(rt, len + 1);
    if (name == NULL) {
        rcyi_free(rt, t);
        return NULL;
    }
    memcpy(name, spec->name, len + 1);
    memset(t, 0, sizeof *t);
    t->rt = rt;
    t->name = name;
    t->basicsize = spec->basicsize;
    t->itemsize = spec->itemsize;
    t->flags = spec->flags;
    t->traverse = spec->traverse;
    t->clear = spec->clear;
    t->finalize = spec->finalize;
    t->legacy_del = spec->legacy_del;
    t->dealloc = spec->dealloc;
    t->describe = spec->describe;
    t->weaklistoffset = spec->weaklistoffset;
    t->on_death = dealloc;
    t->block_base = spec->basicsize + ((spec->flags & RCY_TPFLAGS_GC) ? sizeof(rcy_gc_head_t) : 0);
    t->next_type = rt->types;
    rt->types = t;
    return t;
}

const char *rcy_type_name(const rcy_type_t *type) { return type ? type->name : NULL; }
rcy_runtime_t *rcy_type_runtime(const rcy_type_t *type) { return type ? type->rt : NULL; }
int rcy_type_is_gc(const rcy_type_t *type) { return type != NULL && (type->flags & RCY_TPFLAGS_GC) != 0; }
size_t rcy_type_live_objects(const rcy_type_t *type) { return type ? type->live_objects : 0; }
size_t rcy_type_live_bytes(const rcy_type_t *type) { return type ? type->live_bytes : 0; }

rcy_runtime_t *rcy_object_runtime(const rcy_object_t *o) { return o != NULL ? o->type->rt : NULL; }

/* ---- Allocation ------------------------------------------------------ */

size_t rcyi_object_size(const rcy_object_t *o)
{
    const rcy_type_t *t = o->type;
    return rcyi_block_size(t, t->itemsize ? ((const rcy_varobject_t *)o)->size : 0);
}

/* nitems: 0 for fixed-size types; checked against overflow by the caller. */
static rcy_object_t *alloc_object(rcy_type_t *type, intptr_t nitems)
{
    size_t size = rcyi_block_size(type, nitems);
    char *mem = rcyi_block_alloc(type->rt, size);
    if (mem == NULL)
        return NULL;
    return rcyi_object_init(type, mem, size, nitems);
}

rcy_object_t *rcyi_object_reuse(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    intptr_t nitems = type->itemsize ? ((rcy_varobject_t *)o)->size : 0;
    char *mem = (type->flags & RCY_TPFLAGS_GC) ? (char *)rcyi_as_gc(o) : (char *)o;
    return rcyi_object_init(type, mem, rcyi_block_size(type, nitems), nitems);
}

void rcyi_object_discard(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    if (rcyi_is_gc(o))
        rcyi_gc_on_free(rt); /* the memory goes now: see rcyi_object_free_with */
    rcyi_block_free(rt, rcyi_is_gc(o) ? (void *)rcyi_as_gc(o) : (void *)o, rcyi_object_size(o));
}

rcy_object_t *rcy_new(rcy_type_t *type)
{
    if (type == NULL)
        return NULL;
    if (type->itemsize != 0) {
        rcyi_set_error(type->rt, RCY_EINVAL);
        return NULL;
    }
    if (type->alloc != NULL)
        return type->alloc(type);
    return alloc_object(type, 0);
}

rcy_object_t *rcy_new_var(rcy_type_t *type, intptr_t nitems)
{
    if (type == NULL)
        return NULL;
    if (type->itemsize == 0 || nitems < 0) {
        rcyi_set_error(type->rt, RCY_EINVAL);
        return NULL;
    }
    if ((size_t)nitems > (SIZE_MAX - type->block_base) / type->itemsize) {
        rcyi_set_error(type->rt, RCY_ENOMEM);
        return NULL;
    }
    return alloc_object(type, nitems);
}

int rcy_describe(rcy_object_t *o, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return 0;
    if (o == NULL)
        return snprintf(buf, size, "NULL");
    if (o->type->describe != NULL) {
        int n = o->type->describe(o, buf, size);
        buf[size - 1] = '\0';
        return n;
    }
    return snprintf(buf, size, "<%s %p>", o->type->name, (void *)o);
}

/* ---- Freeing --------------------------------------------------------- */

/* With poisoning on, a freed object's body is overwritten, its refcnt set to
   RCY_REFCNT_FREED and its type pointer kept, and its memory is held in a
   ring for a while before it really goes back to the allocator: a decref of
   it in that time is reported with its type and address. */
static void quarantine_push(rcy_runtime_t *rt, void *block)
{
    if (rt->quarantine_cap == 0) {
        rcyi_free(rt, block);
        return;
    }
    if (rt->quarantine_len == rt->quarantine_cap) {
        rcyi_free(rt, rt->quarantine[rt->quarantine_pos]);
        rt->quarantine_len--;
    }
    rt->quarantine[rt->quarantine_pos] = block;
    rt->quarantine_pos = (rt->quarantine_pos + 1) % rt->quarantine_cap;
    rt->quarantine_len++;
}

void rcyi_quarantine_flush(rcy_runtime_t *rt)
{
    for (size_t i = 0; i < rt->quarantine_len; i++) {
        size_t at = (rt->quarantine_pos + rt->quarantine_cap - 1 - i) % rt->quarantine_cap;
        rcyi_free(rt, rt->quarantine[at]);
    }
    rt->quarantine_len = 0;
    rt->quarantine_pos = 0;
}

void rcyi_object_poison_free(rcy_object_t *o, void *block, size_t size)
{
    rcy_type_t *type = o->type;
    memset(block, RCY_POISON_BYTE, size);
    o->refcnt = RCY_REFCNT_FREED;
    o->type = type;
    quarantine_push(type->rt, block);
}

/* ---- Deallocation ---------------------------------------------------- */

/* Out of the deallocation's hot path (which every object takes): the
   finalizer calls, with their error reporting buffers. */
#define COLD RCYI_NOINLINE

void rcyi_call_finalizer(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    if (rcyi_is_gc(o))
        rcyi_gc_set_finalized(rcyi_as_gc(o));
    if (type->finalize(o) < 0) {
        char desc[128];
        rcy_describe(o, desc, sizeof desc);
        rcyi_report_error(type->rt, "Exception ignored in: %s", desc);
    }
}

/* Runs the PEP 442 finalizer of an object whose count reached zero. Returns
   true if the finalizer resurrected it (then the dealloc stops). */
static COLD bool finalize_on_death(rcy_object_t *o)
{
    if (rcyi_is_gc(o) && rcyi_gc_is_finalized(rcyi_as_gc(o)))
        return false;
    /* CPython's subtype_dealloc untracks the object and tracks it again
       for the call: a tracked object runs its finalizer, and stays if
       resurrected, at the end of the youngest generation, out of any
       collection it was part of (untracking clears the collection flags). */
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0) {
        rcyi_list_remove(rcyi_as_gc(o));
        rcyi_list_append(rcyi_as_gc(o), &o->type->rt->gens[0].head);
    }
    o->refcnt = 1; /* a temporary reference for the duration of the call */
    rcyi_call_finalizer(o);
    if (o->refcnt <= 0)
        rcyi_fatal(o, "the finalizer released a reference it did not own");
    if (--o->refcnt == 0)
        return false;
    return true; /* resurrected: somebody stored a new reference */
}

/* Runs the legacy finalizer of an object whose count reached zero, on
   every death (legacy finalizers have no run-once bit), tracked for the
   duration so that a collection sees a live object. Returns true if it
   resurrected the object, which then stays tracked. */
struct rcyi_legacy_frame_s {
    const rcy_object_t *o;
    struct rcyi_legacy_frame_s *up;
};

static COLD bool legacy_del_on_death(rcy_object_t *o)
{
    bool gc = rcyi_is_gc(o);
    rcy_runtime_t *rt = o->type->rt;
    /* Dying again while its own legacy finalizer runs: it released the
       reference it was lent. */
    for (const struct rcyi_legacy_frame_s *f = rt->legacy_running; f != NULL; f = f->up)
        if (f->o == o)
            rcyi_fatal(o, "the legacy finalizer released a reference it did not own");
    struct rcyi_legacy_frame_s frame = {o, rt->legacy_running};
    if (gc)
        rcyi_list_append(rcyi_as_gc(o), &rt->gens[0].head);
    o->refcnt = 1;
    rt->legacy_running = &frame;
    int ret = o->type->legacy_del(o);
    rt->legacy_running = frame.up;
    if (ret < 0) {
        char desc[128];
        rcy_describe(o, desc, sizeof desc);
        rcyi_report_error(rt, "Exception ignored in: %s", desc);
    }
    if (o->refcnt <= 0)
        rcyi_fatal(o, "the legacy finalizer released a reference it did not own");
    if (--o->refcnt != 0)
        return true;
    if (gc)
        rcyi_list_remove(rcyi_as_gc(o));
    return false;
}

/* The generic release of an object's references: its type's dealloc slot,
   else its clear slot. */
static void release_refs(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    if (type->dealloc != NULL)
        type->dealloc(o);
    else if (type->clear != NULL)
        type->clear(o);
}

/* The deallocation of an object of type, as its slots say. */
static inline rcyi_death_t generic_death(const rcy_type_t *type)
{
    rcyi_death_t d = {release_refs, type->freelist_push, rcyi_object_size, type->weaklistoffset != 0,
                      (type->flags & RCY_TPFLAGS_GC) != 0};
    return d;
}

/* The trashcan list is threaded through the dead objects themselves: the
   GC header's prev word for containers (untracked by then; their refcnt
   stays 0, so anything that still points at them, such as a weak-reference
   list, sees a dead object), the refcnt field for other objects. */
void rcyi_trash_push(rcy_runtime_t *rt, rcy_object_t *o)
{
    uintptr_t link = (uintptr_t)rt->trash;
    if (rcyi_is_gc(o)) {
        rcy_gc_head_t *g = rcyi_as_gc(o);
        g->prev = (g->prev & RCYI_PREV_FINALIZED) | link;
    } else {
        o->refcnt = (intptr_t)link;
    }
    rt->trash = o;
}

static rcy_object_t *trash_pop(rcy_runtime_t *rt)
{
    rcy_object_t *o = rt->trash;
    if (rcyi_is_gc(o)) {
        rcy_gc_head_t *g = rcyi_as_gc(o);
        rt->trash = (rcy_object_t *)(g->prev & ~RCYI_PREV_MASK_FLAGS);
        g->prev &= RCYI_PREV_FINALIZED;
    } else {
        rt->trash = (rcy_object_t *)o->refcnt;
        o->refcnt = 0;
    }
    return o;
}

/* Releases the deferred objects, each with its type's own slots, and calls
   the deferred weak-reference callbacks (weakref.c), until neither is left;
   the depth is raised meanwhile, so a release never drains recursively. */
void rcyi_trash_drain(rcy_runtime_t *rt)
{
    for (;;) {
        if (rt->trash == NULL) {
            if (rcyi_weakrefs_call_deferred(rt))
                continue;
            break;
        }
        rcy_object_t *o = trash_pop(rt);
        rt->dealloc_depth++;
        rcyi_death_t d = generic_death(o->type);
        release_refs(o);
        rcyi_object_free_with(o, &d);
        rt->dealloc_depth--;
    }
}

/* The deallocation of an object with a finalizer or a legacy finalizer:
   either may resurrect it. */
static COLD void dealloc_finalizable(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    if (o->type->finalize != NULL && finalize_on_death(o))
        return;
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0)
        rcyi_list_remove(rcyi_as_gc(o));
    /* Weak references are cleared and their callbacks called after the
       finalizer and before the object's references are released; the
       object is untracked by then, so a collection run by a callback
       never sees it. */
    struct rcyi_weakref_s **weaklist = rcyi_weaklist(o);
    if (weaklist != NULL && *weaklist != NULL)
        rcyi_weakrefs_clear_on_death(o);
    /* In teardown's last phase the cycles that legacy finalizers kept are
       cleared without calling them (docs/design.md): their peers may be
       cleared already, which is why they were kept. */
    if (o->type->legacy_del != NULL && !rt->tearing_down_final) {
        if (legacy_del_on_death(o))
            return;
        /* Weak references the legacy finalizer made to the object are
           cleared without callbacks, as CPython's subtype_dealloc does:
           the object is about to be freed. */
        if (weaklist != NULL && *weaklist != NULL)
            rcyi_weakrefs_clear_silently(o);
    }
    rcyi_death_t d = generic_death(o->type);
    rcyi_release_with(o, &d);
}

/* Every type's on_death slot unless it sets its own: finalizers (which may
   resurrect), untracking, weak references, legacy finalizer, then the
   object's references and its memory. */
static void dealloc(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    if (RCY_UNLIKELY(type->finalize != NULL || type->legacy_del != NULL))
        dealloc_finalizable(o);
    else {
        rcyi_death_t d = generic_death(type);
        rcyi_dealloc_with(o, &d);
    }
}

void rcy_decref_slow(rcy_object_t *o)
{
    intptr_t r = o->refcnt;
    if (RCY_LIKELY(r == 1)) {
        o->refcnt = 0;
        o->type->on_death(o);
        return;
    }
    if (r >= RCY_REFCNT_IMMORTAL)
        return;
    if (r == RCY_REFCNT_FREED)
        rcyi_fatal(o, "decref of a freed object");
    rcyi_fatal(o, "decref took the reference count below zero");
}

/* ---- Immortal objects ------------------------------------------------ */

int rcy_immortalize(rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = o->type->rt;
    if (rcy_is_immortal(o))
        return rcyi_set_error(rt, RCY_EINVAL);
    if (rt->n_immortals == rt->cap_immortals) {
        size_t cap = rt->cap_immortals ? rt->cap_immortals * 2 : 16;
        rcy_object_t **a = rcyi_realloc(rt, rt->immortals, cap * sizeof *a);
        if (a == NULL)
            return RCY_ENOMEM;
        rt->immortals = a;
        rt->cap_immortals = cap;
    }
    rt->immortals[rt->n_immortals++] = o;
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0)
        rcyi_list_remove(rcyi_as_gc(o));
    o->refcnt = RCY_REFCNT_IMMORTAL;
    return 0;
}

void rcyi_release_immortals(rcy_runtime_t *rt)
{
    while (rt->n_immortals > 0) {
        rcy_object_t *o = rt->immortals[--rt->n_immortals];
        o->refcnt = 1;
        rcy_decref(o);
    }
}

int rcy_object_init_static(rcy_object_t *storage, rcy_type_t *type)
{
    if (storage == NULL || type == NULL)
        return RCY_EINVAL;
    if ((type->flags & RCY_TPFLAGS_GC) || type->itemsize != 0)
        return rcyi_set_error(type->rt, RCY_EINVAL);
    storage->refcnt = RCY_REFCNT_IMMORTAL;
    storage->type = type;
    return 0;
}

/* ---- Tracking -------------------------------------------------------- */

int rcy_gc_track(rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = o->type->rt;
    if (!rcyi_is_gc(o))
        return rcyi_set_error(rt, RCY_ETYPE);
    if (rcyi_as_gc(o)->next != 0 || rcy_is_immortal(o))
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_list_append(rcyi_as_gc(o), &rt->gens[0].head);
    return 0;
}

int rcy_gc_untrack(rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0)
        rcyi_list_remove(rcyi_as_gc(o));
    return 0;
}

int rcy_gc_is_tracked(const rcy_object_t *o)
{
    return o != NULL && rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0;
}
