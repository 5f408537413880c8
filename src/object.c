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

_Static_assert(offsetof(struct rcy_type_s, rt) == offsetof(rcy_type_head_t, rt), "rcy_type_head_t.rt");
_Static_assert(offsetof(struct rcy_type_s, kind) == offsetof(rcy_type_head_t, kind), "rcy_type_head_t.kind");

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

/* rcy_type_new is the macro passing sizeof(rcy_type_spec_t) from the
   caller's header: this version knows only its own size, and refuses any
   other before reading a field (a later one may accept the older sizes). */
rcy_type_t *rcy_type_new_sized(rcy_runtime_t *rt, const rcy_type_spec_t *spec, size_t spec_size)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (spec_size != sizeof(rcy_type_spec_t) || !spec_valid(spec)) {
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
    t->hash = spec->hash;
    t->equal = spec->equal;
    t->call = spec->call;
    t->on_death = dealloc;
    t->block_base = spec->basicsize + ((spec->flags & RCY_TPFLAGS_GC) ? sizeof(rcy_gc_head_t) : 0);
    t->next_type = rt->types;
    rt->types = t;
    return t;
}

const char *rcy_type_name(const rcy_type_t *type) { return type ? type->name : NULL; }
rcy_runtime_t *rcy_type_runtime(const rcy_type_t *type) { return type ? type->rt : NULL; }
int rcy_type_is_gc(const rcy_type_t *type) { return type != NULL && (type->flags & RCY_TPFLAGS_GC) != 0; }
size_t rcy_type_live_objects(const rcy_type_t *type) { return type ? rcyi_type_live(type, NULL) : 0; }

size_t rcy_type_live_bytes(const rcy_type_t *type)
{
    size_t bytes = 0;
    if (type != NULL)
        rcyi_type_live(type, &bytes);
    return bytes;
}

rcy_runtime_t *rcy_object_runtime(const rcy_object_t *o)
{
    if (o == NULL)
        return NULL;
    rcyi_check_live(o);
    return o->type->rt;
}

/* ---- Allocation ------------------------------------------------------ */

size_t rcyi_object_size(const rcy_object_t *o)
{
    const rcy_type_t *t = o->type;
    if (t->size_of != NULL)
        return t->size_of(o);
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

void rcyi_object_discard(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    rcy_runtime_t *rt = type->rt;
    size_t size = rcyi_object_size(o);
    /* The memory goes now: out of the census (which counted it, less the
       free list's share) and the collector's count (rcyi_object_free_with). */
    type->held_objects--;
    type->held_bytes -= size;
    if (rcyi_is_gc(o))
        rcyi_gc_on_free(rt);
    rcyi_block_free(rt, rcyi_is_gc(o) ? (void *)rcyi_as_gc(o) : (void *)o, size);
}

rcy_object_t *rcy_new(rcy_type_t *type)
{
    if (type == NULL)
        return NULL;
    /* None and the bools are singletons (rcy_none, rcy_bool): no second
       one may exist, or the inline checks would take it for them. */
    if (type->itemsize != 0 || RCY_UNLIKELY(type->kind == RCY_KIND_NONE || type->kind == RCY_KIND_BOOL)) {
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
    rcyi_check_live(o);
    /* A describe slot may describe other objects (through rcy_describe):
       with too little stack left the plain description is written. */
    if (o->type->describe != NULL && !rcyi_stack_low()) {
        rcy_runtime_t *rt = o->type->rt;
        rcyi_running_t f;
        rcyi_errsave_t es;
        rcyi_err_save(rt, &es);
        rcyi_enter(rt, &f, "a describe slot", o);
        int n = o->type->describe(o, buf, size);
        rcyi_leave(rt, &f);
        rcyi_err_restore(rt, &es);
        buf[size - 1] = '\0';
        return n;
    }
    return snprintf(buf, size, "<%s %p>", o->type->name, (void *)o);
}

/* ---- Calls (the call slot; the built-in callables are in types/call.c) ---- */

rcy_object_t *rcy_call(rcy_object_t *callable, rcy_object_t *const *args, size_t nargs)
{
    if (callable == NULL)
        return NULL;
    rcyi_check_live(callable);
    rcy_runtime_t *rt = callable->type->rt;
    if (nargs > 0 && args == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcy_call_fn fn = callable->type->call;
    if (fn == NULL) {
        rcyi_set_error(rt, RCY_ETYPE); /* TypeError: object is not callable */
        return NULL;
    }
    /* A runtime's calls nest as deep as its programs recurse: bounded by
       the stack, as the other recursive operations (docs/design.md,
       Recursion), where CPython raises RecursionError. */
    if (RCY_UNLIKELY(rcyi_stack_low())) {
        rcyi_set_error(rt, RCY_EDEPTH);
        return NULL;
    }
    rcyi_running_t f;
    rcyi_enter(rt, &f, "a call slot", callable);
    rcy_object_t *r = fn(callable, args, nargs);
    rcyi_leave(rt, &f);
    if (r == NULL && rt->last_error == 0)
        rcyi_set_error(rt, RCY_ECALLBACK); /* CPython's SystemError: NULL without an exception */
    return r;
}

int rcy_is_callable(const rcy_object_t *o)
{
    if (o == NULL)
        return 0;
    rcyi_check_live(o);
    return o->type->call != NULL;
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

/* Out of the deallocation's hot path (which every object takes). */
#define COLD RCYI_NOINLINE

/* The generic release of an object's references: its type's dealloc slot,
   else its clear slot. */
static void release_refs(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    /* User slots: the pending error is kept aside for them (they may
       fail lookups, or release what runs finalizers, on their way). */
    rcyi_errsave_t es;
    rcyi_err_save(type->rt, &es);
    if (type->dealloc != NULL)
        type->dealloc(o);
    else if (type->clear != NULL)
        type->clear(o);
    rcyi_err_restore(type->rt, &es);
}

/* The deallocation of an object of type, as its slots say. */
static inline rcyi_death_t generic_death(const rcy_type_t *type)
{
    rcyi_death_t d = {release_refs, type->freelist_push, rcyi_object_size, type->weaklistoffset,
                      (type->flags & RCY_TPFLAGS_GC) != 0, false};
    return d;
}

/* The trashcan list is threaded through the dead objects themselves: the
   GC header's prev word for containers (untracked by then; their refcnt
   stays 0, so anything that still points at them, such as a weak-reference
   list, sees a dead object), the refcnt field for other objects, tagged
   (rcyi_freed_link) so that a decref of the deferred object takes the slow
   path and is reported instead of counting the link down. An entry is a
   release (its finalizers ran, its references are still to be released)
   or, marked with TRASH_WHOLE, a whole death deferred before its
   finalizers (dealloc_finalizable) or, for a container with weak
   references, before they are cleared (rcyi_dealloc_with): bit 1 of prev, whose COLLECTING flag
   an untracked object never has, or bit 0 of the tagged link, which is 0
   for any aligned pointer. */
#define TRASH_WHOLE_GC RCYI_PREV_COLLECTING
#define TRASH_WHOLE_ATOM ((uintptr_t)1)

static void trash_push_as(rcy_runtime_t *rt, rcy_object_t *o, bool whole)
{
    if (rcyi_is_gc(o)) {
        rcy_gc_head_t *g = rcyi_as_gc(o);
        g->prev = (g->prev & RCYI_PREV_FINALIZED) | (uintptr_t)rt->trash | (whole ? TRASH_WHOLE_GC : 0);
    } else {
        o->refcnt = (intptr_t)(rcyi_freed_link(rt->trash) | (whole ? TRASH_WHOLE_ATOM : 0));
    }
    rt->trash = o;
}

void rcyi_trash_push(rcy_runtime_t *rt, rcy_object_t *o) { trash_push_as(rt, o, false); }
void rcyi_trash_push_whole(rcy_runtime_t *rt, rcy_object_t *o) { trash_push_as(rt, o, true); }

/* The object deferred after o. */
static rcy_object_t *trash_next(const rcy_object_t *o)
{
    if (rcyi_is_gc(o))
        return (rcy_object_t *)(rcyi_as_gc(o)->prev & ~RCYI_PREV_MASK_FLAGS);
    return (rcy_object_t *)rcyi_freed_unlink((uintptr_t)o->refcnt & ~TRASH_WHOLE_ATOM);
}

/* Takes the newest entry off the list; *whole tells its kind. */
static rcy_object_t *trash_pop(rcy_runtime_t *rt, bool *whole)
{
    rcy_object_t *o = rt->trash;
    rt->trash = trash_next(o);
    if (rcyi_is_gc(o)) {
        *whole = (rcyi_as_gc(o)->prev & TRASH_WHOLE_GC) != 0;
        rcyi_as_gc(o)->prev &= RCYI_PREV_FINALIZED;
    } else {
        *whole = ((uintptr_t)o->refcnt & TRASH_WHOLE_ATOM) != 0;
        o->refcnt = 0;
    }
    return o;
}

static void finalize_and_release(rcy_object_t *o);

/* Calls the deferred weak-reference callbacks (weakref.c) and releases the
   deferred objects, each with its type's own slots, until neither is left;
   the depth is raised meanwhile, so a release never drains recursively. */
void rcyi_trash_drain(rcy_runtime_t *rt)
{
    for (;;) {
        /* Deferred callbacks first: the object whose death deferred them
           is on the trash list, and its references are released after its
           callbacks ran, in the order of a death that was not deferred. */
        if (rcyi_weakrefs_call_deferred(rt))
            continue;
        if (rt->trash == NULL)
            break;
        bool whole;
        rcy_object_t *o = trash_pop(rt, &whole);
        rt->dealloc_depth++;
        if (whole) {
            /* As CPython's subtype_dealloc, a container runs its finalizer
               tracked (it was untracked while deferred, its count 0). Not
               deferred again: the drain runs with the stack its caller
               had, and each entry must make progress. */
            if (rcyi_is_gc(o) && o->type->finalize != NULL)
                rcyi_list_append(rcyi_as_gc(o), &rt->gens[0].head);
            finalize_and_release(o);
        } else {
            rcyi_death_t d = generic_death(o->type);
            release_refs(o);
            rcyi_object_free_with(o, &d);
        }
        rt->dealloc_depth--;
    }
}

/* The finalizers of a dying object with a finalizer or a legacy finalizer,
   then, unless they resurrected it, the release of its references and its
   memory. */
static void finalize_and_release(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    if (rcyi_finalize_for_death(o)) {
        rcyi_death_t d = generic_death(o->type);
        rcyi_release_with(o, &d); /* drains at depth 0 */
    } else if (rt->dealloc_depth == 0 && rt->trash != NULL) {
        rcyi_trash_drain(rt);
    }
}

/* The deallocation of an object with a finalizer or a legacy finalizer.
   Past RCYI_TRASH_DEPTH levels (or when the stack is low) the death is
   deferred whole, before its finalizers, as CPython's trashcan (which
   begins before tp_finalize in subtype_dealloc) does: a container leaves
   the collector's lists meanwhile (its count is 0; a collection that runs
   before the trash drains, as one run by a finalizer, no longer sees it
   and does not finalize it), and runs its finalizer tracked when the
   trash drains. A non-container is deferred only without weak
   references, whose list must not meet the tagged link in its count. */
static COLD void dealloc_finalizable(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    if (RCY_UNLIKELY(rt->dealloc_depth >= RCYI_TRASH_DEPTH || (rt->dealloc_depth > 0 && rcyi_stack_low()))) {
        if (rcyi_is_gc(o)) {
            if (rcyi_as_gc(o)->next != 0)
                rcyi_list_remove(rcyi_as_gc(o));
            trash_push_as(rt, o, true);
            return;
        }
        struct rcyi_weakref_s **weaklist = rcyi_weaklist(o);
        if (weaklist == NULL || *weaklist == NULL) {
            trash_push_as(rt, o, true);
            return;
        }
        /* A non-container with weak references cannot wait in the trash
           (its tagged count would meet its weak references): with the
           stack nearly gone, stop cleanly rather than overflow it. */
        if (rcyi_stack_low())
            rcyi_fatal_because(o, "finalizers nest too deep for the thread's stack",
                               "a chain of objects of a type without RCY_TPFLAGS_GC, with weak references, "
                               "whose finalizers release one another: give the type RCY_TPFLAGS_GC");
    }
    finalize_and_release(o);
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

/* What a decref met in an object whose count is negative (docs/design.md,
   "Freed objects"): the count a free left, or a pool's tagged link in a
   freed non-container's first word; a non-container deferred by the
   trashcan (dying, its count 0); else a freed object whose count was
   raised since (an incref through a stale pointer). Out of line: it only
   chooses the words of the fatal report. */
static RCYI_NOINLINE const char *negative_count_report(const rcy_object_t *o, intptr_t r)
{
    static const char freed[] = "decref of a freed object";
    if (r == RCY_REFCNT_FREED)
        return freed;
    rcy_runtime_t *rt = o->type->rt;
    if (!rcyi_is_gc(o)) {
        for (const rcy_object_t *t = rt->trash; t != NULL; t = trash_next(t))
            if (t == o)
                return "decref took the reference count below zero (the object is being deallocated)";
        uintptr_t next = (uintptr_t)rcyi_freed_unlink((uintptr_t)r);
        uintptr_t pool_mask = ~(uintptr_t)(RCYI_POOL_SIZE - 1);
        /* A free block of a pool, linked to the next free block of the
           same pool (aligned: an incref since would have moved it). */
        if (rt->pool != NULL && rcyi_object_size(o) <= RCYI_POOL_MAX &&
            (next == 0 || ((next & pool_mask) == ((uintptr_t)o & pool_mask) && next % RCYI_POOL_ALIGNMENT == 0)))
            return freed;
    }
    return "use of a freed object (a reference was taken after it was freed)";
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
    if (r < 0)
        rcyi_fatal(o, negative_count_report(o, r));
    rcyi_fatal(o, "decref took the reference count below zero");
}

void rcy_fatal_freed(const rcy_object_t *o) { rcyi_fatal(o, "use of a freed object"); }

void rcyi_decref_nested(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    rt->dealloc_depth++;
    rcy_decref_slow(o);
    rt->dealloc_depth--;
}

/* ---- Live objects ---------------------------------------------------- */

size_t rcyi_live_objects(const rcy_runtime_t *rt, size_t *bytes)
{
    size_t n = 0, b = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type) {
        size_t tb;
        n += rcyi_type_live(t, &tb);
        b += tb;
    }
    if (bytes != NULL)
        *bytes = b;
    return n;
}

void rcyi_print_live_types(rcy_runtime_t *rt)
{
    /* The type list is newest first; print it reversed without allocating. */
    size_t ntypes = 0;
    for (rcy_type_t *t = rt->types; t; t = t->next_type)
        ntypes++;
    for (size_t i = ntypes; i > 0; i--) {
        rcy_type_t *t = rt->types;
        for (size_t k = 1; k < i; k++)
            t = t->next_type;
        size_t bytes, live = rcyi_type_live(t, &bytes);
        if (live > 0)
            rcyi_printf(rt, "recycle:   %s: %zu (%zu bytes)\n", t->name, live, bytes);
    }
}

/* ---- Immortal objects ------------------------------------------------ */

int rcy_immortalize(rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    rcyi_check_live(o);
    rcy_runtime_t *rt = o->type->rt;
    /* Once teardown releases the immortals, a new one could never be
       released (nor one of those being released registered twice). */
    if (rt->releasing_immortals)
        return rcyi_set_error(rt, RCY_ESTATE);
    /* Nor can an object being deallocated (its dealloc slot runs with the
       count 0): it would be freed all the same, and released again. */
    if (o->refcnt <= 0)
        return rcyi_set_error(rt, RCY_ESTATE);
    if (rcy_is_immortal(o))
        return rcyi_set_error(rt, RCY_EINVAL);
    if (rt->n_immortals == rt->cap_immortals) {
        rcy_object_t **a = rcyi_array_grow(rt, rt->immortals, &rt->cap_immortals, 16, sizeof *a);
        if (a == NULL)
            return RCY_ENOMEM;
        rt->immortals = a;
    }
    rt->immortals[rt->n_immortals++] = o;
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0)
        rcyi_list_remove(rcyi_as_gc(o));
    o->refcnt = RCY_REFCNT_IMMORTAL;
    return 0;
}

/* Teardown releases the immortal objects in two steps, so that any graph
   of them (cycles, references between them, references to them from the
   objects they free) is released exactly once and nothing is freed while
   it can still be reached: rcyi_release_immortals makes them mortal with
   the count RCYI_REFCNT_RELEASING, which no sequence of decrefs exhausts,
   and runs their slots; the collector then frees what that left as
   garbage; rcyi_free_immortals finally gives their memory back without
   running anything (docs/design.md, Teardown). */
void rcyi_release_immortals(rcy_runtime_t *rt)
{
    rt->releasing_immortals = true;
    rcy_object_t **imm = rt->immortals; /* stable: rcy_immortalize refuses now */
    size_t n = rt->n_immortals;
    for (size_t i = 0; i < n; i++)
        imm[i]->refcnt = RCYI_REFCNT_RELEASING;
    /* As if they were one collection's garbage: weak references cleared
       (their callbacks called) and then finalizers called, newest first,
       while every immortal is whole. */
    for (size_t i = n; i-- > 0;) {
        struct rcyi_weakref_s **weaklist = rcyi_weaklist(imm[i]);
        if (weaklist != NULL && *weaklist != NULL)
            rcyi_weakrefs_clear_on_death(imm[i]);
    }
    for (size_t i = n; i-- > 0;) {
        rcy_object_t *o = imm[i];
        if (o->type->finalize != NULL && !(rcyi_is_gc(o) && rcyi_gc_is_finalized(rcyi_as_gc(o))))
            rcyi_call_finalizer(o);
    }
    /* Then each releases its references (dealloc, else clear), newest
       first, as rcy_immortalize's documentation promises; weak references
       the finalizers made go without callbacks (GH-91636). The legacy
       finalizers do not run: this is teardown's last phase. A release
       that reaches another immortal only lowers its count. */
    for (size_t i = n; i-- > 0;) {
        rcy_object_t *o = imm[i];
        if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0)
            rcyi_list_remove(rcyi_as_gc(o));
        struct rcyi_weakref_s **weaklist = rcyi_weaklist(o);
        if (weaklist != NULL && *weaklist != NULL)
            rcyi_weakrefs_clear_silently(o);
        rt->dealloc_depth++;
        release_refs(o);
        rt->dealloc_depth--;
        if (rt->dealloc_depth == 0 && rt->trash != NULL)
            rcyi_trash_drain(rt);
    }
}

void rcyi_free_immortals(rcy_runtime_t *rt)
{
    rcy_object_t **imm = rt->immortals;
    size_t n = rt->n_immortals;
    /* Code run since their release (finalizers of the objects it freed)
       may have stored references in them again: a container released by
       its clear slot is cleared once more (clear may always run again),
       while all of them are still there. A dealloc slot is never run twice. */
    for (size_t i = n; i-- > 0;) {
        rcy_object_t *o = imm[i];
        if (!rcyi_is_gc(o) || o->type->dealloc != NULL)
            continue;
        rt->dealloc_depth++;
        o->type->clear(o);
        rt->dealloc_depth--;
        if (rt->dealloc_depth == 0 && rt->trash != NULL)
            rcyi_trash_drain(rt);
    }
    /* Weak references made to them since are cleared before any of them
       is freed: one freed later must not find its referent's memory gone. */
    for (size_t i = 0; i < n; i++) {
        rcy_object_t *o = imm[i];
        if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0)
            rcyi_list_remove(rcyi_as_gc(o));
        struct rcyi_weakref_s **weaklist = rcyi_weaklist(o);
        if (weaklist != NULL && *weaklist != NULL)
            rcyi_weakrefs_clear_silently(o);
    }
    for (size_t i = n; i-- > 0;) {
        rcy_object_t *o = imm[i];
        rcyi_death_t d = generic_death(o->type);
        rcyi_object_free_with(o, &d);
    }
    rt->n_immortals = 0;
}

void rcy_incref_overflow(rcy_object_t *o)
{
    /* The count saturates: the object is immortal from now on, as a
       32-bit CPython's would be (docs/design.md, Reference counts). Only
       the report is ours; nothing is allocated, so this is safe wherever
       an incref is. Like rcy_immortalize, it leaves the collector's lists
       (an immortal is never garbage), except inside a heap walk, whose
       lists must not change. */
    o->refcnt = RCY_REFCNT_IMMORTAL;
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0 && o->type->rt->walk == NULL)
        rcyi_list_remove(rcyi_as_gc(o));
    rcyi_printf(o->type->rt,
                "recycle: warning: reference count overflow: object <%s %p> has RCY_REFCNT_MAX references; "
                "it is immortal from now on (never freed)\n",
                o->type->name, (void *)o);
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
    rcyi_check_live(o);
    rcy_runtime_t *rt = o->type->rt;
    if (!rcyi_is_gc(o))
        return rcyi_set_error(rt, RCY_ETYPE);
    /* During a heap walk (a traverse slot calling), the lists are being
       walked: they must not change; nor may an immortal that teardown is
       releasing (its slots have run). */
    if (rcyi_as_gc(o)->next != 0 || rcy_is_immortal(o) || rt->walk != NULL ||
        (rt->releasing_immortals && o->refcnt >= RCYI_REFCNT_RELEASING))
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_list_append(rcyi_as_gc(o), &rt->gens[0].head);
    return 0;
}

int rcy_gc_untrack(rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    rcyi_check_live(o);
    if (rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0) {
        rcy_runtime_t *rt = o->type->rt;
        if (rt->walk != NULL)
            return rcyi_set_error(rt, RCY_ESTATE);
        rcyi_list_remove(rcyi_as_gc(o));
    }
    return 0;
}

int rcy_gc_is_tracked(const rcy_object_t *o)
{
    if (o == NULL)
        return 0;
    rcyi_check_live(o);
    return rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0;
}
