/*
 * Finalization: PEP 442 finalizers (the run-once tp_finalize of CPython)
 * and legacy finalizers (tp_del), run when an object's count reaches zero
 * and when the collector finds it unreachable; the uncollectable objects
 * that legacy finalizers keep, and that gc.garbage holds.
 */
#include "internal.h"

/* ---- Finalizers ------------------------------------------------------ */

/* Out of the deallocation's hot path (which every object takes): the
   finalizer calls, with their error reporting buffers. */
#define COLD RCYI_NOINLINE

void rcyi_call_finalizer(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    if (rcyi_is_gc(o))
        rcyi_gc_set_finalized(rcyi_as_gc(o));
    /* Teardown stopped the finalizers that kept making garbage: the rest
       is freed without running any (gc.c, collect_until_quiet). */
    if (RCY_UNLIKELY(type->rt->teardown_cut))
        return;
    rcy_runtime_t *rt = type->rt;
    rcyi_running_t f;
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es); /* the finalizer starts with no pending error, and leaves none */
    rcyi_enter(rt, &f, "a finalizer", o);
    int ret = type->finalize(o);
    rcyi_leave(rt, &f);
    if (ret < 0)
        rcyi_report_ignored(rt, o);
    rcyi_err_restore(rt, &es);
}

void rcyi_report_ignored(rcy_runtime_t *rt, rcy_object_t *o)
{
    char desc[128];
    rcy_describe(o, desc, sizeof desc);
    const char *detail = rcyi_error_detail(rt);
    rcyi_report_error(rt, "Exception ignored in: %s%s%s", desc, detail ? ": " : "", detail ? detail : "");
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
    if (rcy_is_immortal(o))
        return true; /* the finalizer made it immortal: its count stays */
    if (--o->refcnt == 0)
        return false;
    return true; /* resurrected: somebody stored a new reference */
}

/* Runs the legacy finalizer of an object whose count reached zero, on
   every death (legacy finalizers have no run-once bit), tracked for the
   duration so that a collection sees a live object. Returns true if it
   resurrected the object, which then stays tracked. */
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
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es);
    int ret = o->type->legacy_del(o);
    rt->legacy_running = frame.up;
    if (ret < 0)
        rcyi_report_ignored(rt, o);
    rcyi_err_restore(rt, &es);
    if (o->refcnt <= 0)
        rcyi_fatal(o, "the legacy finalizer released a reference it did not own");
    if (rcy_is_immortal(o) || --o->refcnt != 0)
        return true; /* resurrected, or made immortal (its count stays) */
    if (gc)
        rcyi_list_remove(rcyi_as_gc(o));
    return false;
}

/* The finalizer steps of the death of an object with a finalizer or a
   legacy finalizer: either may resurrect it (then false). Each finalizer
   call counts as a level of deallocation (one that releases the next link
   of a chain whose links have finalizers nests another death). The weak
   references are cleared at the object's own level, where their callbacks
   count theirs (rcyi_weakrefs_clear_on_death): callbacks deferred there
   are sure of a drain, as the object's release is deferred at that level. */
bool rcyi_finalize_for_death(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    if (o->type->finalize != NULL) {
        rt->dealloc_depth++;
        bool resurrected = finalize_on_death(o);
        rt->dealloc_depth--;
        if (resurrected)
            return false;
    }
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
        rt->dealloc_depth++;
        bool resurrected = legacy_del_on_death(o);
        rt->dealloc_depth--;
        if (resurrected)
            return false;
        /* Weak references the legacy finalizer made to the object are
           cleared without callbacks, as CPython's subtype_dealloc does:
           the object is about to be freed. */
        if (weaklist != NULL && *weaklist != NULL)
            rcyi_weakrefs_clear_silently(o);
    }
    /* Not resurrected: its entry in the heap tools' side table goes now
       (their on_death wrapper leaves the types with finalizers to this),
       through the runtime's hook (the tools are a layer above). */
    if (RCY_UNLIKELY(rt->trace_forget != NULL))
        rt->trace_forget(o);
    return true;
}

/* ---- Legacy finalizers in a collection -------------------------------- */

static bool has_legacy_finalizer(const rcy_object_t *o) { return o->type->legacy_del != NULL; }

/* Whether clearing o needs the steps that run code first: o has weak
   references, is one, or has a finalizer still to run. */
static inline bool needs_weakref_or_finalizer_steps(rcy_runtime_t *rt, rcy_object_t *o)
{
    struct rcyi_weakref_s **weaklist = rcyi_weaklist(o);
    return o->type == rt->weakref_type || (weaklist != NULL && *weaklist != NULL) ||
           (o->type->finalize != NULL && !rcyi_gc_is_finalized(rcyi_as_gc(o)));
}

/* The length of unreachable if none of its objects needs those steps
   (then handling weak references, finalizing and looking for resurrected
   objects would all do nothing), else -1. */
intptr_t rcyi_plain_garbage(rcy_runtime_t *rt, rcy_gc_head_t *unreachable)
{
    intptr_t n = 0;
    for (rcy_gc_head_t *g = rcyi_gc_next(unreachable); g != unreachable; g = rcyi_gc_next(g)) {
        if (needs_weakref_or_finalizer_steps(rt, rcyi_from_gc(g)))
            return -1;
        n++;
    }
    return n;
}

#define MOVE_AHEAD 8

/* Strips the unreachable tags from every object and moves those with a
   legacy finalizer to finalizers (COLLECTING cleared). At teardown's last
   pass (ignore_legacy) nothing is moved: those cycles are cleared too.
   Returns what rcyi_plain_garbage would return for the objects left (the same
   pass answers it). ahead[0..nahead-1], when not NULL, are the addresses of
   the list's objects in their order, give or take a few (collect_core):
   each is asked for MOVE_AHEAD objects before the walk reaches it, never
   read. */
intptr_t rcyi_move_legacy_finalizers(rcy_runtime_t *rt, rcy_gc_head_t *unreachable, rcy_gc_head_t *finalizers,
                                     bool ignore_legacy, rcy_gc_head_t *const *ahead, size_t nahead)
{
    intptr_t n = 0;
    bool plain = true;
    rcy_gc_head_t *next;
    size_t i = 0;
    for (rcy_gc_head_t *g = rcyi_gc_next(unreachable); g != unreachable; g = next) {
#if defined(__GNUC__) || defined(__clang__)
        if (i + MOVE_AHEAD < nahead) {
            /* Header and object of the object MOVE_AHEAD places ahead in
               the list (two lines wherever the block starts). */
            __builtin_prefetch(ahead[i + MOVE_AHEAD], 1, 3);
            __builtin_prefetch((const char *)ahead[i + MOVE_AHEAD] + 31, 1, 3);
        }
        i++;
#else
        (void)ahead;
        (void)nahead;
        (void)i;
#endif
        g->next &= ~RCYI_NEXT_UNREACHABLE;
        next = rcyi_gc_next(g);
        rcy_object_t *o = rcyi_from_gc(g);
        if (!ignore_legacy && has_legacy_finalizer(o)) {
            rcyi_gc_clear_collecting(g);
            rcyi_list_move(g, finalizers);
        } else {
            n++;
            if (plain && needs_weakref_or_finalizer_steps(rt, o))
                plain = false;
        }
    }
    return plain ? n : -1;
}

static int visit_move(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    if (rcyi_is_gc(child)) {
        rcy_gc_head_t *g = rcyi_as_gc(child);
        if (g->next != 0 && rcyi_gc_is_collecting(g)) {
            rcyi_gc_clear_collecting(g);
            rcyi_list_move(g, (rcy_gc_head_t *)arg);
        }
    }
    return 0;
}

/* Moves everything reachable from finalizers (and still in unreachable)
   into finalizers; the list grows while it is scanned. */
void rcyi_move_legacy_finalizer_reachable(rcy_gc_head_t *finalizers)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(finalizers); g != finalizers; g = rcyi_gc_next(g)) {
        rcy_object_t *o = rcyi_from_gc(g);
        o->type->traverse(o, visit_move, finalizers);
    }
}

/* ---- PEP 442 finalizers in a collection, garbage ---------------------- */

/* Calls the PEP 442 finalizer of every object of collectable that has one
   and has not been finalized. Finalizers may free objects of the list (by
   reference counting) or resurrect them; the list is consumed from the
   head into `seen` so that both are safe. */
void rcyi_finalize_garbage(rcy_gc_head_t *collectable)
{
    rcy_gc_head_t seen;
    rcyi_list_init(&seen);
    while (!rcyi_list_is_empty(collectable)) {
        rcy_gc_head_t *g = rcyi_gc_next(collectable);
        rcy_object_t *o = rcyi_from_gc(g);
        rcyi_list_move(g, &seen);
        if (!rcyi_gc_is_finalized(g) && o->type->finalize != NULL) {
            rcy_incref(o);
            rcyi_call_finalizer(o);
            rcy_decref(o);
        }
    }
    rcyi_list_merge(&seen, collectable);
}

/* Appends the uncollectable objects that have a legacy finalizer (all of
   them with DEBUG_SAVEALL) to garbage, then moves them all to old. */
void rcyi_handle_legacy_finalizers(rcy_runtime_t *rt, rcy_gc_head_t *finalizers, rcy_gc_head_t *old, bool saveall)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(finalizers); g != finalizers; g = rcyi_gc_next(g)) {
        rcy_object_t *o = rcyi_from_gc(g);
        if (saveall || has_legacy_finalizer(o)) {
            if (rcyi_objarray_append(&rt->garbage, o) < 0) {
                rcyi_report_error(rt, "Exception ignored in garbage collection: out of memory appending to garbage");
                break;
            }
        }
    }
    rcyi_list_merge(finalizers, old);
}

void rcyi_gc_garbage_clear(rcy_runtime_t *rt)
{
    rcy_objarray_release(&rt->garbage);
    rt->garbage.rt = rt;
}
