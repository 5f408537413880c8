/*
 * The gc module's surface: enable/disable, explicit collection, counts,
 * thresholds, debug flags, introspection (objects, referents, referrers),
 * freeze, statistics, the garbage list and collection callbacks.
 */
#include "internal.h"

#include <string.h>

/* ---- Switches, counts, thresholds, debug ----------------------------- */

int rcy_gc_enable(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    int old = rt->enabled;
    rt->enabled = true;
    return old;
}

int rcy_gc_disable(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    int old = rt->enabled;
    rt->enabled = false;
    return old;
}

int rcy_gc_isenabled(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    return rt->enabled;
}

intptr_t rcy_gc_collect(rcy_runtime_t *rt, int generation)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (generation < 0 || generation >= RCY_NUM_GENERATIONS)
        return rcyi_set_error(rt, RCY_EINVAL);
    return rcyi_gc_collect(rt, generation, false);
}

int rcy_gc_incr_step(rcy_runtime_t *rt, size_t max_us)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    return rcyi_gc_incr_step(rt, max_us);
}

int rcy_gc_get_count(const rcy_runtime_t *rt, int counts[RCY_GC_GENERATIONS])
{
    if (rt == NULL || counts == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++)
        counts[i] = rt->gens[i].count;
    return 0;
}

int rcy_gc_get_threshold(const rcy_runtime_t *rt, int thresholds[RCY_GC_GENERATIONS])
{
    if (rt == NULL || thresholds == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++)
        thresholds[i] = rt->gens[i].threshold;
    return 0;
}

int rcy_gc_set_threshold(rcy_runtime_t *rt, int threshold0, int threshold1, int threshold2)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (threshold0 < 0 || threshold1 < 0 || threshold2 < 0)
        return rcyi_set_error(rt, RCY_EINVAL);
    rt->gens[0].threshold = threshold0;
    rt->gens[1].threshold = threshold1;
    rt->gens[2].threshold = threshold2;
    return 0;
}

int rcy_gc_get_debug(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    return rt->debug;
}

int rcy_gc_set_debug(rcy_runtime_t *rt, int flags)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (!rcyi_gc_debug_flags_valid(flags))
        return rcyi_set_error(rt, RCY_EINVAL);
    rt->debug = flags;
    return 0;
}

int rcy_gc_is_finalized(const rcy_object_t *o)
{
    if (o == NULL)
        return 0;
    rcyi_check_live(o);
    return rcyi_is_gc(o) && rcyi_gc_is_finalized(rcyi_as_gc(o));
}

/* ---- Introspection --------------------------------------------------- */

static int append_list(rcy_objarray_t *out, rcy_gc_head_t *head)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(head); g != head; g = rcyi_gc_next(g)) {
        if (rcyi_objarray_append(out, rcyi_from_gc(g)) < 0)
            return RCY_ENOMEM;
    }
    return 0;
}

int rcy_gc_get_objects(rcy_runtime_t *rt, int generation, rcy_objarray_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rcyi_objarray_start(rt, out) < 0)
        return RCY_EINVAL;
    if (generation < -1 || generation >= RCY_NUM_GENERATIONS)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (!rcyi_walk_begin(rt, "rcy_gc_get_objects"))
        return rcyi_set_error(rt, RCY_ESTATE);
    /* The objects of an incremental pass are on no list: those of the old
       generation's belong to generation 2, those of a young pass to
       generation 1 (its collection not done yet). A walk that includes
       either gives the passes up, so that it sees them there. */
    if (generation != 0)
        rcyi_incr_abort(rt);
    int lo = generation < 0 ? 0 : generation;
    int hi = generation < 0 ? RCY_NUM_GENERATIONS - 1 : generation;
    for (int i = lo; i <= hi; i++) {
        if (append_list(out, &rt->gens[i].head) < 0) {
            rcyi_walk_end(rt);
            rcy_objarray_release(out);
            return rcyi_set_error(rt, RCY_ENOMEM);
        }
    }
    rcyi_walk_end(rt);
    return 0;
}

static int visit_append(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    return rcyi_objarray_append(arg, child);
}

int rcy_gc_get_referents(rcy_runtime_t *rt, rcy_object_t *const *objs, size_t n, rcy_objarray_t *out)
{
    if (rt == NULL || out == NULL || (objs == NULL && n > 0))
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rcyi_objarray_start(rt, out) < 0)
        return RCY_EINVAL;
    /* Every object first: out would hold references into another runtime. */
    for (size_t i = 0; i < n; i++) {
        if (objs[i] == NULL)
            return rcyi_set_error(rt, RCY_EINVAL);
        rcyi_check_live(objs[i]);
        if (!rcyi_same_runtime(objs[i], rt))
            return rcyi_set_error(rt, RCY_ERUNTIME);
    }
    if (!rcyi_walk_begin(rt, "rcy_gc_get_referents"))
        return rcyi_set_error(rt, RCY_ESTATE);
    for (size_t i = 0; i < n; i++) {
        rcy_object_t *o = objs[i];
        if (!rcyi_is_gc(o))
            continue;
        if (o->type->traverse(o, visit_append, out) != 0) {
            rcyi_walk_end(rt);
            rcy_objarray_release(out);
            return rcyi_set_error(rt, RCY_ENOMEM);
        }
    }
    rcyi_walk_end(rt);
    return 0;
}

typedef struct referrers_ctx_s {
    rcy_object_t *const *objs;
    size_t n;
} referrers_ctx_t;

static int visit_is_referrer(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    const referrers_ctx_t *ctx = arg;
    for (size_t i = 0; i < ctx->n; i++) {
        if (ctx->objs[i] == child)
            return 1; /* found: stop traversing this object */
    }
    return 0;
}

int rcy_gc_get_referrers(rcy_runtime_t *rt, rcy_object_t *const *objs, size_t n, rcy_objarray_t *out)
{
    if (rt == NULL || out == NULL || (objs == NULL && n > 0))
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rcyi_objarray_start(rt, out) < 0)
        return RCY_EINVAL;
    if (!rcyi_walk_begin(rt, "rcy_gc_get_referrers"))
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_incr_abort(rt);
    referrers_ctx_t ctx = {objs, n};
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++) {
        rcy_gc_head_t *head = &rt->gens[i].head;
        for (rcy_gc_head_t *g = rcyi_gc_next(head); g != head; g = rcyi_gc_next(g)) {
            rcy_object_t *o = rcyi_from_gc(g);
            if (o->type->traverse(o, visit_is_referrer, &ctx) == 1 && rcyi_objarray_append(out, o) < 0) {
                rcyi_walk_end(rt);
                rcy_objarray_release(out);
                return rcyi_set_error(rt, RCY_ENOMEM);
            }
        }
    }
    rcyi_walk_end(rt);
    return 0;
}

/* ---- Freeze ---------------------------------------------------------- */

int rcy_gc_freeze(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rt->walk != NULL)
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_incr_abort(rt);
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++) {
        rcyi_list_merge(&rt->gens[i].head, &rt->permanent);
        rt->gens[i].count = 0;
    }
    return 0;
}

int rcy_gc_unfreeze(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rt->walk != NULL)
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_incr_abort(rt);
    rcyi_gc_unfreeze(rt);
    return 0;
}

size_t rcy_gc_get_freeze_count(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return 0;
    RCYI_CHECK_RT(rt);
    return rcyi_list_size(&rt->permanent);
}

/* ---- Statistics and garbage ------------------------------------------ */

void rcy_gc_stats_init(rcy_gc_stats_t stats[RCY_GC_GENERATIONS])
{
    if (stats == NULL)
        return;
    for (int i = 0; i < RCY_GC_GENERATIONS; i++) {
        memset(&stats[i], 0, sizeof stats[i]);
        stats[i].size = sizeof stats[i];
    }
}

int rcy_gc_get_stats(const rcy_runtime_t *rt, rcy_gc_stats_t stats[RCY_GC_GENERATIONS])
{
    if (rt == NULL || stats == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    for (int i = 0; i < RCY_GC_GENERATIONS; i++) {
        if (!RCYI_SIZE_OK(&stats[i]))
            return RCY_EINVAL;
    }
    for (int i = 0; i < RCY_GC_GENERATIONS; i++) {
        stats[i] = rt->stats[i];
        stats[i].size = sizeof stats[i];
    }
    return 0;
}

size_t rcy_gc_garbage_len(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return 0;
    RCYI_CHECK_RT(rt);
    return rt->garbage.len;
}

rcy_object_t *rcy_gc_garbage_get(const rcy_runtime_t *rt, size_t i)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return i < rt->garbage.len ? rt->garbage.items[i] : NULL;
}

intptr_t rcy_gc_garbage_clear(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    /* Releasing may free tracked objects: not while the lists are walked. */
    if (rt->walk != NULL)
        return rcyi_set_error(rt, RCY_ESTATE);
    intptr_t n = (intptr_t)rt->garbage.len;
    rcyi_gc_garbage_clear(rt);
    return n;
}

/* ---- Callbacks ------------------------------------------------------- */

int rcy_gc_callback_add(rcy_runtime_t *rt, rcy_gc_callback_fn fn, void *arg)
{
    if (rt == NULL || fn == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rt->n_callbacks == rt->cap_callbacks) {
        rcyi_gc_callback_t *cbs = rcyi_array_grow(rt, rt->callbacks, &rt->cap_callbacks, 4, sizeof *cbs);
        if (cbs == NULL)
            return RCY_ENOMEM;
        rt->callbacks = cbs;
    }
    rt->callbacks[rt->n_callbacks].fn = fn;
    rt->callbacks[rt->n_callbacks].arg = arg;
    rt->n_callbacks++;
    return 0;
}

int rcy_gc_callback_remove(rcy_runtime_t *rt, rcy_gc_callback_fn fn, void *arg)
{
    if (rt == NULL || fn == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    for (size_t i = 0; i < rt->n_callbacks; i++) {
        if (rt->callbacks[i].fn == fn && rt->callbacks[i].arg == arg) {
            memmove(&rt->callbacks[i], &rt->callbacks[i + 1], (rt->n_callbacks - i - 1) * sizeof rt->callbacks[0]);
            rt->n_callbacks--;
            return 0;
        }
    }
    return rcyi_set_error(rt, RCY_EKEY);
}
