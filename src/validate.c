/*
 * Heap validation: rcy_gc_validate, and the checks the collector makes
 * between its phases at the debug levels described in internal.h.
 *
 * Every check reads the heap only through the layers below the collector
 * (the GC header and its lists, the types and their census, the trash list,
 * the quarantine); the one pass that writes is the gc_refs check, which
 * borrows the headers' prev words as a collection does (update_refs,
 * subtract_refs) and puts the links back before returning.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- State and reports ------------------------------------------------- */

#define TYPE_CACHE 64 /* recently confirmed types (a power of two) */

typedef struct problem_s {
    const char *what;
    char detail[160];            /* what, with numbers (census), when set */
    const rcy_object_t *obj;     /* the object concerned, or NULL */
    bool obj_type_known;         /* obj's type is one of the runtime's: its name may be read */
    const rcy_object_t *parent;  /* the object whose traverse reported obj, or NULL */
    const rcy_type_t *type;      /* the type concerned (census), or NULL */
} problem_t;

typedef struct vstate_s {
    rcy_runtime_t *rt;
    const rcy_type_t *cache[TYPE_CACHE];
    bool failed;
    problem_t p;
    /* The gc_refs pass: the object being traversed. */
    rcy_object_t *current;
    /* The reference-array comparison. */
    rcy_object_t **items;
    intptr_t nitems, pos;
    bool mismatch;
} vstate_t;

static void vstate_init(vstate_t *v, rcy_runtime_t *rt)
{
    memset(v, 0, sizeof *v);
    v->rt = rt;
}

/* Whether t is one of the runtime's types (without reading *t first: a
   corrupt object's type pointer may point anywhere). */
static bool type_of_runtime(vstate_t *v, const rcy_type_t *t)
{
    if (t == NULL)
        return false;
    size_t h = ((uintptr_t)t / sizeof(void *)) & (TYPE_CACHE - 1);
    if (v->cache[h] == t)
        return true;
    for (const rcy_type_t *u = v->rt->types; u != NULL; u = u->next_type) {
        if (u == t) {
            v->cache[h] = t;
            return true;
        }
    }
    return false;
}

/* Records the first problem; returns false, for `return fail(...)`. */
static bool fail(vstate_t *v, const char *what, const rcy_object_t *o, bool type_known)
{
    if (!v->failed) {
        v->failed = true;
        v->p.what = what;
        v->p.obj = o;
        v->p.obj_type_known = type_known;
    }
    return false;
}

RCY_PRINTF(3, 4) static bool fail_type(vstate_t *v, const rcy_type_t *t, const char *fmt, ...)
{
    if (!v->failed) {
        v->failed = true;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->p.detail, sizeof v->p.detail, fmt, ap);
        va_end(ap);
        v->p.what = v->p.detail;
        v->p.type = t;
    }
    return false;
}

static void describe_object(char *buf, size_t size, const rcy_object_t *o, bool type_known)
{
    if (type_known)
        snprintf(buf, size, "<%s %p>", o->type->name, (const void *)o);
    else
        snprintf(buf, size, "<? %p> (its type pointer %p is not a type of this runtime)", (const void *)o,
                 (const void *)o->type);
}

/* The report line: "<what>: object <Type 0xADDR>[, visited by the traverse
   of <Type 0xADDR>]" or "<what>: type <Name>". */
static void format_problem(const problem_t *p, char *buf, size_t size)
{
    char obj[200] = "", parent[128] = "";
    if (p->obj != NULL) {
        char d[160];
        describe_object(d, sizeof d, p->obj, p->obj_type_known);
        snprintf(obj, sizeof obj, ": object %s", d);
    } else if (p->type != NULL) {
        snprintf(obj, sizeof obj, ": type %s", p->type->name);
    }
    if (p->parent != NULL)
        snprintf(parent, sizeof parent, ", visited by the traverse of <%s %p>", p->parent->type->name,
                 (const void *)p->parent);
    snprintf(buf, size, "%s%s%s", p->what, obj, parent);
}

static void report(rcy_runtime_t *rt, const problem_t *p)
{
    char line[512];
    char text[600];
    format_problem(p, line, sizeof line);
    snprintf(text, sizeof text, "recycle: heap validation: %s\n", line);
    rt->output(rt->output_arg, text);
}

static RCY_NORETURN void die(rcy_runtime_t *rt, const problem_t *p, const char *when)
{
    char line[512];
    char text[800];
    format_problem(p, line, sizeof line);
    snprintf(text, sizeof text,
             "recycle: fatal error: heap validation %s: %s\n"
             "recycle: the heap is corrupt (a missing incref or an extra decref); aborting\n",
             when, line);
    if (rt->output != NULL)
        rt->output(rt->output_arg, text);
    else
        fputs(text, stderr);
    fflush(stderr);
    abort();
}

/* ---- Lists ------------------------------------------------------------- */

/* The most objects the lists can hold: the live containers. */
static size_t live_containers(const rcy_runtime_t *rt)
{
    size_t n = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type)
        if (t->flags & RCY_TPFLAGS_GC)
            n += rcyi_type_live(t, NULL);
    return n;
}

/* A tracked object (in a list of the runtime) is a live container of one
   of the runtime's types, with an ordinary count. */
static bool check_tracked(vstate_t *v, rcy_object_t *o)
{
    if (!type_of_runtime(v, o->type))
        return fail(v, "a tracked object's type is not a type of this runtime", o, false);
    if (!(o->type->flags & RCY_TPFLAGS_GC))
        return fail(v, "a tracked object is of a non-container type", o, true);
    if (o->refcnt == RCY_REFCNT_FREED)
        return fail(v, "a freed object is still tracked by the collector", o, true);
    if (o->refcnt <= 0)
        return fail(v, "a tracked object has a reference count <= 0", o, true);
    if (o->refcnt >= RCY_REFCNT_IMMORTAL)
        return fail(v, "an immortal object is tracked", o, true);
    return true;
}

/* Walks the list at head: a clean head, next and prev in agreement, at
   most `max` objects, each with exactly the flags given and passing
   check_tracked. With count, each object's type counts it
   (validate_tracked). Returns false on the first problem. */
static bool check_list(vstate_t *v, rcy_gc_head_t *head, rcyi_flagstates_t flags, size_t max, bool count)
{
    uintptr_t want_collecting = (flags & 2) ? RCYI_PREV_COLLECTING : 0;
    uintptr_t want_unreachable = (flags & 1) ? RCYI_NEXT_UNREACHABLE : 0;
    if ((head->prev & RCYI_PREV_MASK_FLAGS) != 0 || (head->next & RCYI_NEXT_UNREACHABLE) != 0)
        return fail(v, "a list head carries collection flags", NULL, false);
    rcy_gc_head_t *prev = head;
    rcy_gc_head_t *g = (rcy_gc_head_t *)(head->next & ~RCYI_NEXT_UNREACHABLE);
    size_t n = 0;
    while (g != head) {
        if (g == NULL) {
            if (prev == head)
                return fail(v, "a list head's next link is NULL", NULL, false);
            return fail(v, "a list is cut: a tracked object's next link is NULL", rcyi_from_gc(prev),
                        type_of_runtime(v, rcyi_from_gc(prev)->type));
        }
        rcy_object_t *o = rcyi_from_gc(g);
        if (!check_tracked(v, o))
            return false;
        if (++n > max)
            return fail(v, "a list holds more objects than there are live containers (it loops)", o, true);
        if (rcyi_gc_prev(g) != prev)
            return fail(v, "broken list links: a tracked object's prev link is not the object before it", o, true);
        if ((g->prev & RCYI_PREV_COLLECTING) != want_collecting)
            return fail(v, want_collecting ? "the COLLECTING flag is clear on an object of the set being collected"
                                           : "the COLLECTING flag is set on an object outside a collection's set",
                        o, true);
        if ((g->next & RCYI_NEXT_UNREACHABLE) != want_unreachable)
            return fail(v, want_unreachable ? "the UNREACHABLE flag is clear on a tentatively unreachable object"
                                            : "the UNREACHABLE flag is set on an object outside the unreachable list",
                        o, true);
        if (count)
            o->type->validate_tracked++;
        prev = g;
        g = (rcy_gc_head_t *)(g->next & ~RCYI_NEXT_UNREACHABLE);
    }
    if (rcyi_gc_prev(head) != prev)
        return fail(v, "broken list tail: the head's prev link is not the last object",
                    prev == head ? NULL : rcyi_from_gc(prev), prev != head);
    return true;
}

void rcyi_validate_list(rcy_runtime_t *rt, rcy_gc_head_t *head, rcyi_flagstates_t flags)
{
    vstate_t v;
    vstate_init(&v, rt);
    if (!check_list(&v, head, flags, live_containers(rt), false))
        die(rt, &v.p, "during a collection");
}

void rcyi_validate_list_tail(rcy_runtime_t *rt, rcy_gc_head_t *head, size_t n)
{
    vstate_t v;
    vstate_init(&v, rt);
    if ((head->prev & RCYI_PREV_MASK_FLAGS) != 0 || (head->next & RCYI_NEXT_UNREACHABLE) != 0) {
        fail(&v, "a list head carries collection flags", NULL, false);
        die(rt, &v.p, "during a collection");
    }
    rcy_gc_head_t *next = head;
    rcy_gc_head_t *g = rcyi_gc_prev(head);
    for (; g != head && n > 0; n--) {
        if (g == NULL) {
            fail(&v, "a list is cut: a tracked object's prev link is NULL", next == head ? NULL : rcyi_from_gc(next),
                 next != head);
            break;
        }
        rcy_object_t *o = rcyi_from_gc(g);
        if (!check_tracked(&v, o))
            break;
        if (g->next != (uintptr_t)next) {
            fail(&v, (g->next & RCYI_NEXT_UNREACHABLE) ? "the UNREACHABLE flag is set on an object outside the unreachable list"
                                                       : "broken list links: a tracked object's next link is not the object after it",
                 o, true);
            break;
        }
        if (g->prev & RCYI_PREV_COLLECTING) {
            fail(&v, "the COLLECTING flag is set on an object outside a collection's set", o, true);
            break;
        }
        next = g;
        g = rcyi_gc_prev(g);
    }
    if (!v.failed && g == head && head->next != (uintptr_t)next)
        fail(&v, "broken list head: the head's next link is not the first object", rcyi_from_gc(next), true);
    if (v.failed)
        die(rt, &v.p, "during a collection");
}

/* ---- The reference-array shortcut ------------------------------------- */

static int visit_compare(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    vstate_t *v = arg;
    while (v->pos < v->nitems && v->items[v->pos] == NULL)
        v->pos++;
    if (v->pos >= v->nitems || v->items[v->pos] != child || index != v->pos || label != NULL) {
        v->mismatch = true;
        return 1;
    }
    v->pos++;
    return 0;
}

/* Whether o's traverse visits exactly its reference array's non-NULL items
   (what the collector visits instead of calling it), in order, each with
   its index and no label. True for objects without an array. */
static bool check_ref_array(vstate_t *v, rcy_object_t *o)
{
    rcy_object_t **items;
    intptr_t n;
    if (!rcyi_ref_array(o, &items, &n))
        return true;
    if (n < 0 || (n > 0 && items == NULL))
        return fail(v, "an object's reference array has a negative length or no items", o, true);
    v->items = items;
    v->nitems = n;
    v->pos = 0;
    v->mismatch = false;
    o->type->traverse(o, visit_compare, v);
    while (!v->mismatch && v->pos < v->nitems && v->items[v->pos] == NULL)
        v->pos++;
    if (v->mismatch || v->pos != v->nitems)
        return fail(v, "the collector's reference-array shortcut differs from the object's traverse", o, true);
    return true;
}

void rcyi_validate_ref_arrays(rcy_runtime_t *rt, rcy_gc_head_t *head)
{
    vstate_t v;
    vstate_init(&v, rt);
    for (rcy_gc_head_t *g = rcyi_gc_next(head); g != head; g = rcyi_gc_next(g)) {
        if (!check_ref_array(&v, rcyi_from_gc(g)))
            die(rt, &v.p, "during a collection");
    }
}

/* ---- gc_refs ------------------------------------------------------------ */

/* gc_refs in the prev word, as the collector keeps it (gc.c). */
static inline intptr_t refs_get(const rcy_gc_head_t *g) { return (intptr_t)(g->prev >> RCYI_PREV_SHIFT); }
static inline void refs_reset(rcy_gc_head_t *g, intptr_t refs)
{
    g->prev = (g->prev & RCYI_PREV_FINALIZED) | RCYI_PREV_COLLECTING | ((uintptr_t)refs << RCYI_PREV_SHIFT);
}

static bool fail_child(vstate_t *v, const char *what, rcy_object_t *child, bool type_known)
{
    if (!v->failed)
        v->p.parent = v->current;
    return fail(v, what, child, type_known);
}

/* subtract_refs over the whole heap: every reference a traverse reports
   checked, and counted against its target when the target is tracked. */
static int visit_subtract(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    vstate_t *v = arg;
    if (v->failed)
        return 1;
    if (child == NULL) {
        fail_child(v, "traverse reports a NULL reference", NULL, false);
        return 1;
    }
    if (child->refcnt == RCY_REFCNT_FREED) {
        fail_child(v, "traverse reports a freed object (a missing incref)", child, type_of_runtime(v, child->type));
        return 1;
    }
    if (child->refcnt >= RCY_REFCNT_IMMORTAL)
        return 0; /* immortal: static objects may have any type */
    if (!type_of_runtime(v, child->type)) {
        fail_child(v, "traverse reports an object that is not of this runtime", child, false);
        return 1;
    }
    if (child->refcnt <= 0) {
        fail_child(v, "traverse reports an object whose reference count is <= 0", child, true);
        return 1;
    }
    if (!rcyi_is_gc(child))
        return 0;
    rcy_gc_head_t *g = rcyi_as_gc(child);
    if (g->next == 0 || !(g->prev & RCYI_PREV_COLLECTING))
        return 0; /* untracked */
    if (refs_get(g) <= 0) {
        fail_child(v,
                   "traverse reports more references to this object than its reference count "
                   "(refcount is too small: a missing incref or an extra decref)",
                   child, true);
        return 1;
    }
    g->prev -= (uintptr_t)1 << RCYI_PREV_SHIFT;
    return 0;
}

/* Puts the prev links of a well-formed list back (the flags go, except
   FINALIZED). */
static void restore_links(rcy_gc_head_t *head)
{
    rcy_gc_head_t *prev = head;
    for (rcy_gc_head_t *g = rcyi_gc_next(head); g != head; g = rcyi_gc_next(g)) {
        g->prev = (uintptr_t)prev | (g->prev & RCYI_PREV_FINALIZED);
        prev = g;
    }
    head->prev = (uintptr_t)prev;
}

/* ---- The whole heap ---------------------------------------------------- */

#define NLISTS (RCY_NUM_GENERATIONS + 1)

static void heap_lists(rcy_runtime_t *rt, rcy_gc_head_t *lists[NLISTS])
{
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++)
        lists[i] = &rt->gens[i].head;
    lists[RCY_NUM_GENERATIONS] = &rt->permanent;
}

static bool check_census(vstate_t *v)
{
    for (const rcy_type_t *t = v->rt->types; t != NULL; t = t->next_type) {
        size_t live_bytes, live = rcyi_type_live(t, &live_bytes);
        if (live > t->held_objects || live_bytes > t->held_bytes)
            return fail_type(v, t, "census: more live objects (%zu, %zu bytes) than the type holds (%zu, %zu bytes)",
                             live, live_bytes, t->held_objects, t->held_bytes);
        if (t->validate_tracked > live)
            return fail_type(v, t, "census: more tracked objects (%zu) than live ones (%zu)", t->validate_tracked,
                             live);
        bool fixed = t->itemsize == 0 && t->size_of == NULL; /* every object block_base bytes */
        if (fixed && live_bytes != live * t->block_base)
            return fail_type(v, t, "census: live bytes (%zu) are not live objects (%zu) times the block size (%zu)",
                             live_bytes, live, t->block_base);
        if (!fixed && live_bytes < live * t->block_base)
            return fail_type(v, t, "census: live bytes (%zu) are fewer than live objects (%zu) need (%zu each)",
                             live_bytes, live, t->block_base);
    }
    return true;
}

/* The gc_refs check (update_refs and subtract_refs over every tracked
   object) and the reference-array comparison. The lists must be well
   formed (check_list). The collector cannot run meanwhile: the headers
   hold counts, and a traverse is user code. */
static bool check_refs(vstate_t *v, rcy_gc_head_t *lists[NLISTS])
{
    rcy_runtime_t *rt = v->rt;
    bool was_collecting = rt->collecting;
    rt->collecting = true;
    for (int i = 0; i < NLISTS; i++)
        for (rcy_gc_head_t *g = rcyi_gc_next(lists[i]); g != lists[i]; g = rcyi_gc_next(g))
            refs_reset(g, rcyi_from_gc(g)->refcnt);
    for (int i = 0; i < NLISTS && !v->failed; i++) {
        for (rcy_gc_head_t *g = rcyi_gc_next(lists[i]); g != lists[i] && !v->failed; g = rcyi_gc_next(g)) {
            rcy_object_t *o = rcyi_from_gc(g);
            v->current = o;
            o->type->traverse(o, visit_subtract, v);
            if (!v->failed)
                check_ref_array(v, o);
        }
    }
    v->current = NULL;
    for (int i = 0; i < NLISTS; i++)
        restore_links(lists[i]);
    rt->collecting = was_collecting;
    return !v->failed;
}

/* The trash list (deferred deallocations): empty outside a deallocation;
   its objects are dead (count 0 for containers, whose count is not the
   link), untracked, of the runtime's types. An entry may be marked as a
   whole death deferred before its finalizers (object.c, trash_push_as):
   bit 1 of a container's prev word, which the flag mask drops, or bit 0
   of a non-container's tagged link, dropped here. */
static bool check_trash(vstate_t *v, size_t max)
{
    rcy_runtime_t *rt = v->rt;
    if (rt->dealloc_depth < 0)
        return fail(v, "the deallocation depth is negative", NULL, false);
    if (rt->dealloc_depth == 0 && rt->trash != NULL)
        return fail(v, "deferred deallocations are left on the trash list outside any deallocation", rt->trash,
                    type_of_runtime(v, rt->trash->type));
    size_t n = 0;
    for (rcy_object_t *o = rt->trash; o != NULL;) {
        if (++n > max)
            return fail(v, "the trash list holds more objects than are alive (it loops)", o,
                        type_of_runtime(v, o->type));
        if (!type_of_runtime(v, o->type))
            return fail(v, "an object on the trash list is not of a type of this runtime", o, false);
        if (rcyi_is_gc(o)) {
            rcy_gc_head_t *g = rcyi_as_gc(o);
            if (g->next != 0)
                return fail(v, "an object on the trash list is still tracked", o, true);
            if (o->refcnt != 0)
                return fail(v, "an object on the trash list has a reference count other than 0", o, true);
            o = (rcy_object_t *)(g->prev & ~RCYI_PREV_MASK_FLAGS);
        } else {
            o = (rcy_object_t *)rcyi_freed_unlink((uintptr_t)o->refcnt & ~(uintptr_t)1); /* a tagged link (bit 0: a whole death) */
        }
    }
    return true;
}

/* The quarantine (runtimes that poison): each block still reads as a freed
   object of one of the runtime's types, a container's after its GC
   header. */
static bool check_quarantine(vstate_t *v)
{
    rcy_runtime_t *rt = v->rt;
    if (rt->quarantine_len > rt->quarantine_cap || (rt->quarantine_cap > 0 && rt->quarantine_pos >= rt->quarantine_cap))
        return fail_type(v, NULL, "the quarantine ring is inconsistent (length %zu, capacity %zu, position %zu)",
                         rt->quarantine_len, rt->quarantine_cap, rt->quarantine_pos);
    for (size_t i = 0; i < rt->quarantine_len; i++) {
        size_t at = (rt->quarantine_pos + rt->quarantine_cap - 1 - i) % rt->quarantine_cap;
        char *block = rt->quarantine[at];
        if (block == NULL)
            return fail(v, "the quarantine holds a NULL block", NULL, false);
        /* A non-container's object starts the block; a container's
           follows its header (and its block is at least that big). */
        rcy_object_t *o = (rcy_object_t *)(void *)block;
        if (o->refcnt == RCY_REFCNT_FREED && type_of_runtime(v, o->type) && !(o->type->flags & RCY_TPFLAGS_GC))
            continue;
        o = (rcy_object_t *)(void *)(block + sizeof(rcy_gc_head_t));
        if (o->refcnt == RCY_REFCNT_FREED && type_of_runtime(v, o->type) && (o->type->flags & RCY_TPFLAGS_GC))
            continue;
        return fail(v, "a quarantined block no longer reads as a freed object (it was written after it was freed)",
                    (rcy_object_t *)(void *)block, false);
    }
    return true;
}

/* The garbage list holds strong references; the immortal heap objects
   keep their count. */
static bool check_arrays(vstate_t *v)
{
    rcy_runtime_t *rt = v->rt;
    for (size_t i = 0; i < rt->garbage.len; i++) {
        rcy_object_t *o = rt->garbage.items[i];
        if (o == NULL || !type_of_runtime(v, o->type))
            return fail(v, "an entry of the garbage list is not an object of this runtime", o, false);
        if (o->refcnt <= 0)
            return fail(v, o->refcnt == RCY_REFCNT_FREED ? "an entry of the garbage list is freed"
                                                         : "an entry of the garbage list has a reference count <= 0",
                        o, true);
    }
    for (size_t i = 0; i < rt->n_immortals; i++) {
        rcy_object_t *o = rt->immortals[i];
        if (o == NULL || !type_of_runtime(v, o->type))
            return fail(v, "an immortal object is not an object of this runtime", o, false);
        /* Teardown releases them with a huge mortal count first
           (RCYI_REFCNT_RELEASING), then collects what that left. */
        if (rt->releasing_immortals ? o->refcnt <= 0 : o->refcnt < RCY_REFCNT_IMMORTAL)
            return fail(v, "an immortal object lost its immortal reference count", o, true);
    }
    return true;
}

static bool validate_heap(vstate_t *v)
{
    rcy_runtime_t *rt = v->rt;
    rcy_gc_head_t *lists[NLISTS];
    heap_lists(rt, lists);
    size_t live = 0;
    for (rcy_type_t *t = rt->types; t != NULL; t = t->next_type) {
        t->validate_tracked = 0;
        live += rcyi_type_live(t, NULL);
    }
    size_t max = live_containers(rt);
    for (int i = 0; i < NLISTS; i++) {
        /* Each list may hold every live container, no more: together too,
           which the census below checks per type. */
        if (!check_list(v, lists[i], RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR, max, true))
            return false;
    }
    return check_census(v) && check_trash(v, live) && check_quarantine(v) && check_arrays(v) && check_refs(v, lists);
}

void rcyi_validate_heap_or_die(rcy_runtime_t *rt, const char *when)
{
    if (rt->collecting || !rcyi_walk_begin(rt, "heap validation"))
        return;
    vstate_t v;
    vstate_init(&v, rt);
    bool ok = validate_heap(&v);
    rcyi_walk_end(rt);
    if (!ok)
        die(rt, &v.p, when);
}

int rcy_gc_validate(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    /* A heap walk ("Re-entrancy"): the traverse slots it calls cannot
       collect, freeze, track or walk meanwhile. */
    if (rt->collecting || !rcyi_walk_begin(rt, "rcy_gc_validate"))
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_incr_abort(rt); /* every tracked object on the lists */
    vstate_t v;
    vstate_init(&v, rt);
    bool ok = validate_heap(&v);
    rcyi_walk_end(rt);
    if (ok)
        return 0;
    report(rt, &v.p);
    return rcyi_set_error(rt, RCY_ECORRUPT);
}
