/*
 * The generational cycle collector: CPython's algorithm (Python/gc.c of
 * 3.13 and 3.14.5+, Modules/gcmodule.c before), step for step. See
 * docs/design.md and ../shared/reference/cpython-gc.md section 4.
 *
 * A collection of generation g merges generations 0..g into one list
 * ("young") and finds its unreachable part by trial deletion:
 *   update_refs       gc_refs = refcnt for every object of young
 *   subtract_refs     gc_refs -= references from inside young (traverse)
 *   move_unreachable  objects left with gc_refs > 0 are referenced from
 *                     outside; they and all they reach are reachable, the
 *                     rest moves to the "unreachable" list
 * Survivors move to generation g+1. Unreachable objects with a legacy
 * finalizer, and all they reach, are uncollectable and go to garbage; the
 * others are finalized (PEP 442), checked again for resurrection, and
 * cleared with their clear slot, which frees them by reference counting.
 * The finalizer steps are in finalize.c, the weak-reference steps in
 * weakref.c; the gc module's surface (gc_api.c) calls this file, never the
 * reverse (docs/design.md, "Layers").
 *
 * No step recurses: traversals are breadth-first over the lists themselves,
 * with the scratch state (gc_refs, flags) in the GC header.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- gc_refs and flag accessors (valid only during a collection) ------ */

static inline intptr_t gc_get_refs(const rcy_gc_head_t *g) { return (intptr_t)(g->prev >> RCYI_PREV_SHIFT); }
static inline void gc_set_refs(rcy_gc_head_t *g, intptr_t refs)
{
    g->prev = (g->prev & RCYI_PREV_MASK_FLAGS) | ((uintptr_t)refs << RCYI_PREV_SHIFT);
}
static inline void gc_reset_refs(rcy_gc_head_t *g, intptr_t refs)
{
    /* Keeps FINALIZED, sets COLLECTING. */
    g->prev = (g->prev & RCYI_PREV_FINALIZED) | RCYI_PREV_COLLECTING | ((uintptr_t)refs << RCYI_PREV_SHIFT);
}
static inline void gc_decref(rcy_gc_head_t *g) { g->prev -= (uintptr_t)1 << RCYI_PREV_SHIFT; }

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Initialization -------------------------------------------------- */

bool rcyi_gc_debug_flags_valid(int flags)
{
    return flags >= 0 && (flags & ~(RCY_DEBUG_LEAK | RCY_DEBUG_STATS)) == 0;
}

static rcy_gc_head_t **grow_order(rcy_runtime_t *rt, size_t back);
static bool grow_hints(rcy_runtime_t *rt, size_t need);

int rcyi_gc_init(rcy_runtime_t *rt, const rcy_config_t *cfg)
{
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++) {
        rcyi_list_init(&rt->gens[i].head);
        rt->gens[i].count = 0;
    }
    rt->gens[0].threshold = cfg->threshold0;
    rt->gens[1].threshold = cfg->threshold1;
    rt->gens[2].threshold = cfg->threshold2;
    rcyi_list_init(&rt->permanent);
    rt->enabled = true;
    rt->debug = cfg->debug_flags;
    const char *env = getenv("RCY_GC_DEBUG");
    if (env != NULL && *env != '\0') {
        char *end;
        long flags = strtol(env, &end, 0);
        /* The flags rcy_gc_set_debug accepts: any combination of the
           RCY_DEBUG_* bits (39 included, 8 or 16 not). */
        if (*end == '\0' && flags >= 0 && flags <= INT32_MAX && rcyi_gc_debug_flags_valid((int)flags))
            rt->debug = (int)flags;
    }
    rt->garbage.rt = rt;
    rcyi_incr_init(rt, cfg);
    /* The young collections' scratch array, at its first size now: a
       collection of up to SCAN_ORDER_FIRST objects allocates nothing (one
       that grows it and fails walks its lists instead). */
    if (grow_order(rt, 0) == NULL)
        return RCY_ENOMEM;
    /* And generation 1's hints (record_hints), as large. */
    if (!grow_hints(rt, 1))
        return RCY_ENOMEM;
    return 0;
}

/* ---- deduce_unreachable ---------------------------------------------- */

/* The scan state shared by the passes of deduce_unreachable. zeros counts
   the objects not yet scanned by move_unreachable whose gc_refs is 0, and
   unreachable the objects in the tentatively unreachable list: when both
   are zero, the rest of the scan can only find reachable objects whose
   references lead nowhere new, and it stops traversing (move_unreachable).
   untrack asks move_unreachable to untrack the survivors that a type's
   maybe_untrack slot allows (CPython's untrack_tuples, in the same order:
   the order in which the scan confirms objects reachable is their final
   order in the list). */
#define SCAN_RING 16 /* visits in flight in update_and_subtract_refs (a power of two) */

typedef struct scan_state_s {
    rcy_runtime_t *rt; /* the collecting runtime */
    rcy_gc_head_t *young;
    intptr_t candidates;
    intptr_t zeros;
    intptr_t unreachable;
    intptr_t untracked;
    bool untrack;
    unsigned ring_pos;
    rcy_object_t *ring[SCAN_RING];
    /* young in list order, as update_refs found it (rt->scan_order), or
       NULL: the passes then walk the list. subtract_refs tags the entries
       of the objects that reported a reference into young (ORDER_TRAVERSE);
       young_child says whether the object it traverses did. */
    rcy_gc_head_t **order;
    size_t norder;
    size_t nkept; /* after move_unreachable of generation 0: the first entries, untagged, are the objects it kept */
    size_t nfound; /* after move_unreachable of any other set: the first entries are the objects it moved out of it */
    bool young_child;
} scan_state_t;

/* Objects allocated together sit together, and a generation list is mostly
   in allocation order: while a pass walks the list, the memory a little
   ahead of the current object is what it walks next. Asking for it early
   (the hardware's own prefetching does not keep up with the pointer
   chase) took the walk of the list alone from about 33 to 12 ns per
   object on a 10,000,000-object heap. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch((const void *)(p), 1, 3)
#else
#define PREFETCH(p) ((void)(p))
#endif
#define PREFETCH_AHEAD(g) PREFETCH((const char *)(g) + 2048)

static inline void check_tracked_refcnt(const rcy_object_t *o)
{
    if (RCY_UNLIKELY(o->refcnt <= 0))
        rcyi_fatal(o, rcyi_is_freed(o) ? "a freed object is still tracked by the collector"
                                       : "a tracked object has a reference count <= 0");
}

/* The passes after update_refs walk young through rt->scan_order, the
   headers in list order: a list walk is a chain of dependent loads, one
   cache miss after another once young outgrows the nearest caches (a
   generation-1 collection here: ~30,000 objects allocated over ~50,000
   iterations, 2-3 MB), while an array lets each pass ask for the objects
   ORDER_AHEAD places ahead. The array grows by doubling up to
   SCAN_ORDER_MAX entries (8 MiB on 64-bit hosts); a larger set, or a failed
   allocation, is walked as a list, with the same outcome. */
#define ORDER_AHEAD 16
#define REFS_AHEAD 8
#define SCAN_ORDER_MAX ((size_t)1 << 20)
#define SCAN_ORDER_FIRST ((size_t)1024)

/* update_refs over hinted objects (rt->young_hints): the objects asked for
   HINT_AHEAD hints ahead; a walked object is looked for among the next
   HINT_WINDOW hints (then further, hint_search_far), and after HINT_LOST
   objects in a row not found the rest of the set is walked as without
   hints. */
#define HINT_AHEAD 32
#define HINT_WINDOW 32
#define HINT_LOST 8

/* The entries past the last of scan->order, which the passes prefetch
   (never written: a type of no references, an object no list holds). */
static rcy_type_t order_pad_type;
static struct {
    rcy_gc_head_t head;
    rcy_object_t ob;
} order_pad = {{0, 0}, {1, &order_pad_type}};

/* The tag of an entry of scan->order whose object reported a reference to
   an object of young in subtract_refs: move_unreachable traverses only
   those. Headers are 16-byte aligned (two words, in blocks of 16). */
#define ORDER_TRAVERSE ((uintptr_t)1)

static inline rcy_gc_head_t *order_at(rcy_gc_head_t *const *order, size_t i)
{
    return (rcy_gc_head_t *)((uintptr_t)order[i] & ~ORDER_TRAVERSE);
}

static inline void prefetch_block(const rcy_gc_head_t *g)
{
    /* Header, object and its first fields: two lines for blocks of up to
       64 bytes wherever they start. */
    PREFETCH(g);
    PREFETCH((const char *)g + 63);
}

/* The second block of an object whose references are an array or table
   behind a pointer (a list's items, a dict's entries), asked for
   REFS_AHEAD places ahead, once the object's own block (fetched
   ORDER_AHEAD places ahead) has had time to arrive. */
static inline void prefetch_refs(rcy_gc_head_t *const *order, size_t i)
{
    const rcy_object_t *o = rcyi_from_gc(order_at(order, i + REFS_AHEAD));
    const rcy_type_t *t = o->type;
    if (t->refs_indirect)
        PREFETCH(*(void *const *)(const void *)((const char *)o + t->refs_items));
}

/* Grows rt->scan_order (ORDER_AHEAD entries past the usable ones: see
   update_refs), keeping the last `back` usable entries at the end of the
   usable part; NULL when it cannot. */
static RCYI_NOINLINE rcy_gc_head_t **grow_order(rcy_runtime_t *rt, size_t back)
{
    size_t old_usable = rt->scan_order_cap ? rt->scan_order_cap - ORDER_AHEAD : 0;
    size_t cap = rt->scan_order_cap ? 2 * rt->scan_order_cap : SCAN_ORDER_FIRST;
    if (cap > SCAN_ORDER_MAX || rt->scan_order_fixed)
        return NULL;
    /* The allocator hooks directly: a failure here is no error of the
       program's (the passes walk the list instead). */
    rcy_gc_head_t **p = rt->alloc.realloc_fn(rt->alloc.ctx, rt->scan_order, cap * sizeof *rt->scan_order);
    if (p == NULL)
        return NULL;
    memmove(p + (cap - ORDER_AHEAD) - back, p + old_usable - back, back * sizeof *p);
    rt->scan_order = p;
    rt->scan_order_cap = cap;
    return p;
}

static inline void update_one(rcy_gc_head_t *g)
{
    rcy_object_t *o = rcyi_from_gc(g);
    check_tracked_refcnt(o);
    gc_reset_refs(g, o->refcnt);
}

/* The first of the hints from..nh-1 that names f, looked for among at most
   *budget of them (the budget lowered by those looked at); nh when none
   does. For the walk of update_refs_hinted once the next HINT_WINDOW hints
   do not name the object it is at: the objects of a structure that died
   after its promotion leave a run of stale hints of any length. The
   budget (the number of hints, for the whole walk) bounds what the
   searches for objects that have no hint cost. */
static RCYI_NOINLINE size_t hint_search_far(rcy_gc_head_t *const *h, size_t from, size_t nh, const rcy_gc_head_t *f,
                                            size_t *budget)
{
    size_t end = nh - from > *budget ? from + *budget : nh, k = from;
    while (k < end && h[k] != f)
        k++;
    *budget -= k - from;
    return k < end ? k : nh;
}

/* The state update_refs_hinted hands back to update_refs. */
typedef struct hinted_walk_s {
    rcy_gc_head_t **order;
    size_t usable, front;
    intptr_t candidates;
    bool keep;
} hinted_walk_t;

/* update_refs over the part of generation 1 the hints describe (young is
   generation 1, with generation 0 merged after it): one walk forward from
   its first object, each object asked for HINT_AHEAD hints before the walk
   reaches it; returns the first object not walked (young when all were),
   the entries made in w. Apart from update_refs so that a generation-0
   collection runs the walk from both ends as compiled without it. */
static RCYI_NOINLINE rcy_gc_head_t *update_refs_hinted(rcy_runtime_t *rt, rcy_gc_head_t *young, hinted_walk_t *w)
{
    rcy_gc_head_t **order = w->order;
    size_t usable = w->usable, front = 0;
    bool keep = w->keep;
    intptr_t candidates = 0;
    rcy_gc_head_t *f = rcyi_gc_next(young);
    rcy_gc_head_t *const *h = rt->young_hints;
    size_t nh = rt->young_hints_len, j = 0, pf = 0, far = nh;
    unsigned lost = 0;
    while (f != young && j < nh) {
        size_t stop = j + HINT_AHEAD < nh ? j + HINT_AHEAD : nh;
        for (pf = pf > j ? pf : j; pf < stop; pf++)
            PREFETCH(h[pf]); /* an address only: never dereferenced */
        if (h[j] == f) {
            j++;
            lost = 0;
        } else {
            /* Hints of objects gone since are skipped; an object the
               hints do not name (moved in otherwise) leaves j. */
            size_t end = j + HINT_WINDOW < nh ? j + HINT_WINDOW : nh, k = j + 1;
            while (k < end && h[k] != f)
                k++;
            if (k < end) {
                j = k + 1;
                lost = 0;
            } else if (lost == 0 && far > 0 && (k = hint_search_far(h, end, nh, f, &far)) < nh) {
                j = k + 1; /* after a run of deaths longer than the window */
            } else if (++lost == HINT_LOST) {
                break; /* out of step: the rest as update_refs walks it */
            }
        }
        rcy_gc_head_t *fnext = rcyi_gc_next(f);
        update_one(f);
        candidates++;
        if (RCY_UNLIKELY(keep && front == usable)) {
            order = grow_order(rt, 0);
            keep = order != NULL;
            usable = keep ? rt->scan_order_cap - ORDER_AHEAD : 0;
        }
        if (keep)
            order[front++] = f;
        f = fnext;
    }
    w->order = order;
    w->usable = usable;
    w->front = front;
    w->candidates = candidates;
    w->keep = keep;
    return f;
}

/* gc_refs = refcnt and COLLECTING for every object of young, and the
   array of their headers in list order (scan->order). The list is walked
   from both ends at once, forward along next and backward along prev
   (each read before gc_refs takes its place), until the two walks meet:
   two chains of dependent loads instead of one, so that on a set out of
   the caches two misses are in flight. The front walk's entries fill the
   array from its start, the back walk's from its end; the back part is
   moved after the front part at the end. In a generation-1 collection
   the part of the list the hints describe is walked first, by
   update_refs_hinted, and the two walks do the rest. */
static void update_refs(rcy_runtime_t *rt, rcy_gc_head_t *young, scan_state_t *scan)
{
    hinted_walk_t hw = {rt->scan_order, rt->scan_order != NULL ? rt->scan_order_cap - ORDER_AHEAD : 0, 0, 0,
                        rt->scan_order != NULL};
    rcy_gc_head_t *f = rcyi_gc_next(young);
    if (young == &rt->gens[RCY_NUM_GENERATIONS - 2].head && rt->young_hints_len > 0)
        f = update_refs_hinted(rt, young, &hw);
    rcy_gc_head_t **order = hw.order;
    size_t usable = hw.usable, front = hw.front, back = 0;
    bool keep = hw.keep; /* false once the array could not grow */
    intptr_t candidates = hw.candidates;
    rcy_gc_head_t *b = rcyi_gc_prev(young);
    while (f != young) {
        if (f == b) {
            /* The walks meet at one object. */
            update_one(f);
            candidates++;
            if (keep && front + back == usable) {
                order = grow_order(rt, back);
                keep = order != NULL;
                usable = keep ? rt->scan_order_cap - ORDER_AHEAD : 0;
            }
            if (keep)
                order[front++] = f;
            break;
        }
        rcy_gc_head_t *fnext = rcyi_gc_next(f);
        rcy_gc_head_t *bprev = rcyi_gc_prev(b);
        PREFETCH_AHEAD(f);
        PREFETCH((const char *)b - 2048);
        update_one(f);
        update_one(b);
        candidates += 2;
        if (RCY_UNLIKELY(keep && front + back + 2 > usable)) {
            order = grow_order(rt, back);
            keep = order != NULL;
            usable = keep ? rt->scan_order_cap - ORDER_AHEAD : 0;
        }
        if (keep) {
            order[front++] = f;
            order[usable - ++back] = b;
        }
        if (fnext == b)
            break; /* they meet between two objects */
        f = fnext;
        b = bprev;
    }
    scan->candidates += candidates;
    scan->order = keep ? order : NULL;
    scan->norder = front + back;
    if (keep) {
        memmove(order + front, order + usable - back, back * sizeof *order);
        /* What the passes fetch past the end: an object of no type's. */
        for (size_t i = 0; i < ORDER_AHEAD; i++)
            order[front + back + i] = &order_pad.head;
    }
}

/* o's traverse slot, except for the types whose references are an array
   (lists and tuples) or a table of entries (dicts: rcyi_ref_table), whose
   references are visited here, in the same order (with the same index
   labels for an array; the collector's visits read no label), so that the
   visit function, a constant at each call site, is inlined: the passes
   make no indirect call for them, and a dict's str keys cost a check
   each, not a call. */
static RCYI_ALWAYS_INLINE void traverse(rcy_object_t *o, rcy_visit_fn visit, void *arg)
{
    intptr_t n;
    rcy_object_t **items;
    unsigned stride, skip;
    if (!rcyi_ref_table(o, &items, &n, &stride, &skip)) {
        o->type->traverse(o, visit, arg);
        return;
    }
    if (n == 0)
        return; /* an empty dict may have no table: no arithmetic on its NULL */
    if (stride == 1) {
        for (intptr_t i = 0; i < n; i++)
            if (items[i] != NULL)
                visit(items[i], NULL, i, arg);
        return;
    }
    /* A table's entries end with their two references (internal.h). */
    (void)skip;
    for (rcy_object_t **e = items + stride - 2, **end = e + (size_t)n * stride; e != end; e += stride) {
        if (e[0] != NULL)
            visit(e[0], NULL, -1, arg);
        if (e[1] != NULL)
            visit(e[1], NULL, -1, arg);
    }
}

static inline void decref_child(rcy_object_t *child, rcy_gc_head_t *g, scan_state_t *scan)
{
    if (RCY_UNLIKELY(gc_get_refs(g) <= 0))
        rcyi_fatal(child, "traverse reports more references to this object than its reference count "
                          "(refcount is too small: a missing incref)");
    gc_decref(g);
    if (gc_get_refs(g) == 0)
        scan->zeros++;
}

/* An object a traverse reports belongs to the collecting runtime: the
   built-in containers refuse objects of another runtime (RCY_ERUNTIME), so
   such an edge comes from a user type's slot (a misuse the library cannot
   refuse), and following it would write this collection's scratch state
   (gc_refs, COLLECTING) over the other runtime's generation list. Where
   that write happens, decref_full's first touch of a tracked object, the
   check costs nothing measurable (once per object, beside a write); debug
   builds also check every edge (check_visited). */
static RCYI_NOINLINE RCY_NORETURN void foreign_edge(const rcy_object_t *child)
{
    rcyi_fatal_because(child, "a traverse reports this object of another runtime",
                       "objects never move between runtimes: a user type stored it in an object of the "
                       "collecting runtime");
}

static inline void check_same_runtime(const rcy_object_t *child, const scan_state_t *scan)
{
    if (RCY_UNLIKELY(!rcyi_same_runtime(child, scan->rt)))
        foreign_edge(child);
}

/* A referenced object has a positive count; a freed one (recognisable
   while the library keeps its block: docs/design.md, "Freed objects")
   means a missing incref. Objects outside the
   collection are otherwise never looked at. */
static inline void check_visited(const rcy_object_t *child, const scan_state_t *scan)
{
    if (RCY_UNLIKELY(child->refcnt <= 0))
        rcyi_fatal(child, rcyi_is_freed(child) ? "traverse reports a freed object (a missing incref)"
                                                : "traverse reports an object whose reference count is <= 0");
#if defined(RCY_DEBUG) && RCY_DEBUG >= 1
    check_same_runtime(child, scan);
#else
    (void)scan;
#endif
}

static int visit_decref(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    check_visited(child, arg);
    if (rcyi_is_gc(child)) {
        rcy_gc_head_t *g = rcyi_as_gc(child);
        if (rcyi_gc_is_collecting(g)) {
            decref_child(child, g, arg);
            ((scan_state_t *)arg)->young_child = true;
        }
    }
    return 0;
}

static void subtract_refs(rcy_gc_head_t *young, scan_state_t *scan)
{
    rcy_gc_head_t **order = scan->order;
    if (order != NULL) {
        size_t n = scan->norder;
        for (size_t i = 0; i < n; i++) {
            prefetch_block(order[i + ORDER_AHEAD]);
            prefetch_refs(order, i);
            scan->young_child = false;
            traverse(rcyi_from_gc(order[i]), visit_decref, scan);
            if (scan->young_child)
                order[i] = (rcy_gc_head_t *)((uintptr_t)order[i] | ORDER_TRAVERSE);
        }
        return;
    }
    for (rcy_gc_head_t *g = rcyi_gc_next(young); g != young; g = rcyi_gc_next(g)) {
        rcy_object_t *o = rcyi_from_gc(g);
        traverse(o, visit_decref, scan);
    }
}

/* update_refs and subtract_refs in one pass, for a full collection while
   the permanent generation is empty: then every tracked object belongs to
   young, so an object is initialized (gc_refs = refcnt, COLLECTING set)
   when the pass first touches it, as a child or in list order, and one pass
   over the heap is saved. */
static void decref_full(rcy_object_t *child, scan_state_t *scan)
{
    check_visited(child, scan);
    if (!rcyi_is_gc(child))
        return;
    rcy_gc_head_t *g = rcyi_as_gc(child);
    if (g->next == 0)
        return; /* untracked */
    if (!rcyi_gc_is_collecting(g)) {
        check_tracked_refcnt(child);
        check_same_runtime(child, scan); /* before gc_reset_refs writes over its list link */
        gc_reset_refs(g, child->refcnt);
        scan->candidates++;
    }
    decref_child(child, g, scan);
}

/* A visit is carried out SCAN_RING visits later, the child's header asked
   for now: the children of a large heap are scattered (a random graph's
   are anywhere), and this keeps several of their cache misses in flight
   instead of one. Decrements commute, so the outcome is the same. */
static int visit_decref_full(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    scan_state_t *scan = arg;
    PREFETCH(rcyi_as_gc(child));
    PREFETCH((const char *)child + sizeof(rcy_object_t) - 1);
    rcy_object_t *due = scan->ring[scan->ring_pos];
    scan->ring[scan->ring_pos] = child;
    scan->ring_pos = (scan->ring_pos + 1) & (SCAN_RING - 1);
    if (due != NULL)
        decref_full(due, scan);
    return 0;
}

static void update_and_subtract_refs(rcy_gc_head_t *young, scan_state_t *scan)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(young); g != young; g = rcyi_gc_next(g)) {
        rcy_object_t *o = rcyi_from_gc(g);
        PREFETCH_AHEAD(g);
        if (!rcyi_gc_is_collecting(g)) {
            check_tracked_refcnt(o);
            gc_reset_refs(g, o->refcnt);
            scan->candidates++;
        }
        traverse(o, visit_decref_full, scan);
    }
    for (unsigned i = 0; i < SCAN_RING; i++) {
        rcy_object_t *due = scan->ring[(scan->ring_pos + i) & (SCAN_RING - 1)];
        if (due != NULL)
            decref_full(due, scan);
    }
}

static int visit_reachable(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    scan_state_t *scan = arg;
    if (!rcyi_is_gc(child))
        return 0;
    rcy_gc_head_t *g = rcyi_as_gc(child);
    /* Objects of other generations, untracked ones and those already scanned
       (to the left of the scan) have COLLECTING clear. */
    if (!rcyi_gc_is_collecting(g))
        return 0;
    if (g->next & RCYI_NEXT_UNREACHABLE) {
        /* Tentatively unreachable, reached after all: move it back to the
           tail of young, where the scan will reach it again. */
        rcy_gc_head_t *prev = rcyi_gc_prev(g);
        rcy_gc_head_t *next = (rcy_gc_head_t *)(g->next & ~RCYI_NEXT_UNREACHABLE);
        prev->next = g->next; /* keeps the tag of the unreachable list */
        rcyi_gc_set_prev(next, prev);
        rcyi_list_append(g, scan->young);
        gc_set_refs(g, 1);
        scan->unreachable--;
    } else if (gc_get_refs(g) == 0) {
        /* Not scanned yet: mark reachable so that the scan keeps it. */
        gc_set_refs(g, 1);
        scan->zeros--;
    }
    return 0;
}

/* A survivor that its type's maybe_untrack slot lets go (g is linked only
   forward, after prev, while the scan runs). */
static inline bool untrack_if_possible(rcy_gc_head_t *prev, rcy_gc_head_t *g, scan_state_t *scan)
{
    rcy_object_t *o = rcyi_from_gc(g);
    if (o->type->maybe_untrack == NULL || !o->type->maybe_untrack(o))
        return false;
    prev->next = g->next;
    g->next = 0;
    g->prev &= RCYI_PREV_FINALIZED;
    scan->untracked++;
    return true;
}

/* Moves the objects of young with gc_refs == 0 (after subtract_refs) that
   are not reachable from the others to unreachable, tagged with
   NEXT_UNREACHABLE; restores prev links and clears COLLECTING on the rest
   (and untracks those it may, if scan->untrack).

   Once no object left to scan has gc_refs == 0 and the unreachable list is
   empty, every object left is reachable, and traversing it could only
   visit objects already scanned or objects with gc_refs > 0: both visits
   change nothing. The rest of the scan then only restores the links. In a
   live heap this skips most traversals (a heap held by one container
   allocated early stops traversing right after it). */
#if RCY_DEBUG >= 2
static int visit_outside(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    (void)arg;
    if (rcyi_is_gc(child) && rcyi_gc_is_collecting(rcyi_as_gc(child)))
        rcyi_fatal(child, "a traverse reports a reference into the collected set that it did not report before "
                          "(traverse must report the same references each time)");
    return 0;
}
#endif

/* One step of the scan, at g, prev's successor. with_children: g may
   reference objects of young (see below). */
static inline void scan_one(rcy_gc_head_t **prevp, rcy_gc_head_t *g, bool with_children, rcy_gc_head_t *unreachable,
                            scan_state_t *scan)
{
    rcy_gc_head_t *prev = *prevp;
    if (gc_get_refs(g) != 0) {
        rcy_object_t *o = rcyi_from_gc(g);
        /* An object whose traverse reported no object of young in
           subtract_refs reports none now either (the set only loses
           COLLECTING during the scan): its visits would all return at
           once, so they are not made. */
        if (with_children)
            traverse(o, visit_reachable, scan);
#if RCY_DEBUG >= 2
        else
            traverse(o, visit_outside, scan);
#endif
        if (!scan->untrack || !untrack_if_possible(prev, g, scan)) {
            rcyi_gc_set_prev(g, prev);
            rcyi_gc_clear_collecting(g);
            *prevp = g;
        }
    } else {
        scan->zeros--;
        scan->unreachable++;
        prev->next = g->next;
        rcy_gc_head_t *last = rcyi_gc_prev(unreachable);
        last->next = RCYI_NEXT_UNREACHABLE | (uintptr_t)g;
        rcyi_gc_set_prev(g, last);
        g->next = RCYI_NEXT_UNREACHABLE | (uintptr_t)unreachable;
        unreachable->prev = (uintptr_t)g;
    }
}

static RCYI_ALWAYS_INLINE void move_unreachable_in(rcy_gc_head_t *young, rcy_gc_head_t *unreachable, scan_state_t *scan,
                                                   bool keep_kept)
{
    /* Otherwise the array keeps at its start, in their order, the objects
       the scan moves to unreachable (and those it untracks: found <= i, as
       kept <= i): the list's addresses, which the next walk of the list asks
       for ahead (collect_core). */
    bool keep_found = !keep_kept;
    rcy_gc_head_t *prev = young;
    /* The objects of young in their list order first, from the array: the
       scan meets each of them once, in that order (it only ever unlinks
       the object it is at, and appends the objects it moves back from
       unreachable after them), so order[i] is prev's successor when the
       scan reaches it. Then the list from there: what was moved back. */
    rcy_gc_head_t **order = scan->order;
    size_t n = order != NULL ? scan->norder : 0, i = 0, kept = 0, found = 0;
    /* keep_kept: the array keeps the objects the scan keeps, in their
       order, at its start (kept <= i: only entries already read are
       written), for record_hints. */
    for (; i < n && (scan->zeros != 0 || scan->unreachable != 0); i++) {
        prefetch_block(order[i + ORDER_AHEAD]);
        prefetch_refs(order, i);
        rcy_gc_head_t *g = order_at(order, i);
        scan_one(&prev, g, ((uintptr_t)order[i] & ORDER_TRAVERSE) != 0, unreachable, scan);
        if (keep_kept) {
            order[kept] = g;
            kept += prev == g;
        }
        if (keep_found) {
            order[found] = g;
            found += prev != g;
        }
    }
    for (; i < n; i++) {
        /* Everything left is reachable: restore the links only (below). */
        rcy_gc_head_t *g = order_at(order, i);
        prefetch_block(order[i + ORDER_AHEAD]);
        if (scan->untrack && untrack_if_possible(prev, g, scan))
            continue;
        g->prev = (uintptr_t)prev | (g->prev & RCYI_PREV_FINALIZED);
        prev = g;
        if (keep_kept)
            order[kept++] = g;
    }
    scan->nkept = kept;
    scan->nfound = found;
    rcy_gc_head_t *g = rcyi_gc_next(prev);
    while (g != young) {
        if (scan->zeros == 0 && scan->unreachable == 0) {
            /* Everything left is reachable: restore the links only. */
            rcy_gc_head_t *next;
            for (; g != young; g = next) {
                next = (rcy_gc_head_t *)g->next;
                PREFETCH_AHEAD(g);
                if (scan->untrack && untrack_if_possible(prev, g, scan))
                    continue;
                g->prev = (uintptr_t)prev | (g->prev & RCYI_PREV_FINALIZED);
                prev = g;
            }
            break;
        }
        PREFETCH_AHEAD(g);
        scan_one(&prev, g, true, unreachable, scan);
        g = (rcy_gc_head_t *)prev->next;
    }
    young->prev = (uintptr_t)prev;
    unreachable->next &= ~RCYI_NEXT_UNREACHABLE;
}

/* The kept objects are left in scan->order only for a generation-0
   collection (whose survivors record_hints records): the others skip the
   two instructions an object. */
static void move_unreachable(rcy_gc_head_t *young, rcy_gc_head_t *unreachable, scan_state_t *scan)
{
    if (young == &scan->rt->gens[0].head)
        move_unreachable_in(young, unreachable, scan, true);
    else
        move_unreachable_in(young, unreachable, scan, false);
}

/* Grows rt->young_hints to at least need entries (at most SCAN_ORDER_MAX),
   from SCAN_ORDER_FIRST by doubling; false when it cannot. */
static RCYI_NOINLINE bool grow_hints(rcy_runtime_t *rt, size_t need)
{
    size_t cap = rt->young_hints_cap ? rt->young_hints_cap : SCAN_ORDER_FIRST;
    while (cap < need)
        cap *= 2;
    if (cap > SCAN_ORDER_MAX)
        return false;
    /* The allocator hooks directly, as for scan_order. */
    rcy_gc_head_t **p = rt->alloc.realloc_fn(rt->alloc.ctx, rt->young_hints, cap * sizeof *p);
    if (p == NULL)
        return false;
    rt->young_hints = p;
    rt->young_hints_cap = cap;
    return true;
}

/* After a generation-0 collection, before its survivors are appended to
   generation 1 (old): their addresses in list order, as move_unreachable
   left them at the start of scan->order (the objects it kept; not those it
   untracked or found unreachable, nor those it moved back from unreachable,
   which follow them in the list), appended to the hints.
   Hints describe generation 1 only from the moment it was empty; nothing
   is appended once one chunk could not be (no array, no memory, the cap):
   the hints then describe a prefix, and update_refs walks the rest as
   without them. Not inlined: it runs once a generation-0 collection (a
   copy of 1.3 us for 4,375 objects), and collect_core stays as it was
   (inlined, generation-0 collections measured 5 us slower, but builds
   that differ only in code alignment differ as much: docs/benchmarks.md,
   "Generation 1 on cold caches, with the hints"). */
static RCYI_NOINLINE void record_hints(rcy_runtime_t *rt, const scan_state_t *scan, const rcy_gc_head_t *old)
{
    if (rcyi_list_is_empty(old)) {
        rt->young_hints_len = 0;
        rt->young_hints_broken = false;
    }
    if (rt->young_hints_broken)
        return;
    size_t n = scan->nkept, len = rt->young_hints_len;
    if (scan->order == NULL || n > SCAN_ORDER_MAX - len || (len + n > rt->young_hints_cap && !grow_hints(rt, len + n))) {
        rt->young_hints_broken = true;
        return;
    }
    memcpy(rt->young_hints + len, scan->order, n * sizeof *scan->order);
    rt->young_hints_len = len + n;
}

/* Fills unreachable with the objects of base that trial deletion finds
   unreachable. full: base holds every tracked object (see
   update_and_subtract_refs). untrack: survivors are untracked where their
   type allows. scan reports the candidates, the objects found unreachable
   and those untracked. */
static void deduce_unreachable(rcy_runtime_t *rt, rcy_gc_head_t *base, rcy_gc_head_t *unreachable, bool full,
                               bool untrack, scan_state_t *scan)
{
    memset(scan, 0, sizeof *scan);
    scan->rt = rt;
    scan->young = base;
    scan->untrack = untrack;
    if (full) {
        update_and_subtract_refs(base, scan);
    } else {
        update_refs(rt, base, scan);
        subtract_refs(base, scan);
    }
    rcyi_list_init(unreachable);
    move_unreachable(base, unreachable, scan);
}

/* A region's trial deletion begun by the caller (rcyi_gc_collect_region_counted). */
typedef struct counted_s {
    intptr_t candidates, zeros;
} counted_t;

/* deduce_unreachable for a region whose gc_refs the caller set
   (rcyi_gc_collect_region_counted): move_unreachable alone. Its early stop
   rests on zeros being exact, which debug builds check, with the rest of
   the region's state, in one more walk. */
static void deduce_counted(rcy_runtime_t *rt, rcy_gc_head_t *base, rcy_gc_head_t *unreachable,
                           const counted_t *counted, scan_state_t *scan)
{
    memset(scan, 0, sizeof *scan);
    scan->rt = rt;
    scan->young = base;
    scan->untrack = true;
    scan->candidates = counted->candidates;
    scan->zeros = counted->zeros;
#if RCY_DEBUG >= 1
    intptr_t n = 0, zeros = 0;
    rcy_gc_head_t *last = base;
    for (rcy_gc_head_t *g = rcyi_gc_next(base); g != base; g = rcyi_gc_next(g)) {
        if (!rcyi_gc_is_collecting(g) || (g->next & (RCYI_NEXT_UNREACHABLE | RCYI_NEXT_INCR)) != 0 ||
            gc_get_refs(g) > rcyi_from_gc(g)->refcnt)
            rcyi_fatal(rcyi_from_gc(g), "a counted region's member is not in the state trial deletion left");
        n++;
        zeros += gc_get_refs(g) == 0;
        last = g;
    }
    if (n != counted->candidates || zeros != counted->zeros || rcyi_gc_prev(base) != last)
        rcyi_fatal_because(rcyi_from_gc(last != base ? last : rcyi_gc_prev(base)),
                           "a counted region's counts or links are wrong", "a bug of the collector");
#endif
    rcyi_list_init(unreachable);
    move_unreachable(base, unreachable, scan);
}

/* Strips the NEXT_UNREACHABLE tags of a list made by move_unreachable. */
static void clear_unreachable_mask(rcy_gc_head_t *unreachable)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(unreachable); g != unreachable; g = rcyi_gc_next(g))
        g->next &= ~RCYI_NEXT_UNREACHABLE;
}

/* ---- Finalization and clearing --------------------------------------- */

/* After finalizers ran: what is reachable again from outside (resurrected
   objects and all they reach) goes to old; still_unreachable gets the rest. */
static void handle_resurrected_objects(rcy_runtime_t *rt, rcy_gc_head_t *unreachable,
                                       rcy_gc_head_t *still_unreachable, rcy_gc_head_t *old)
{
    scan_state_t scan;
    deduce_unreachable(rt, unreachable, still_unreachable, false, false, &scan);
    clear_unreachable_mask(still_unreachable);
    rcyi_list_merge(unreachable, old);
}

static void debug_cycle(rcy_runtime_t *rt, const char *msg, rcy_object_t *o)
{
    rcyi_printf(rt, "gc: %s <%s %p>\n", msg, o->type->name, (void *)o);
}

/* Breaks the cycles of collectable by clearing each object (or, with
   DEBUG_SAVEALL, saves them in garbage). An object still alive after its
   clear slot ran is moved to old: it may die later. */
static void delete_garbage(rcy_runtime_t *rt, rcy_gc_head_t *collectable, rcy_gc_head_t *old, bool saveall)
{
    while (!rcyi_list_is_empty(collectable)) {
        rcy_gc_head_t *g = rcyi_gc_next(collectable);
        rcy_object_t *o = rcyi_from_gc(g);
        if (saveall) {
            if (rcyi_objarray_append(&rt->garbage, o) < 0)
                rcyi_report_error(rt, "Exception ignored in garbage collection: out of memory saving %s <%p> "
                                      "to garbage", o->type->name, (void *)o);
        } else {
            rcy_incref(o);
            rcyi_errsave_t es;
            rcyi_err_save(rt, &es); /* a user clear slot: the pending error kept aside */
            if (o->type->clear(o) < 0) {
                char desc[128];
                rcy_describe(o, desc, sizeof desc);
                rcyi_report_error(rt, "Exception ignored in tp_clear of %s: %s", o->type->name, desc);
            }
            rcyi_err_restore(rt, &es);
            rcy_decref(o);
        }
        if (rcyi_gc_next(collectable) == g) {
            rcyi_gc_clear_collecting(g);
            rcyi_list_move(g, old);
        }
    }
}

/* ---- One collection -------------------------------------------------- */

static const char COLLECTOR_WALK[] = "the collector";

typedef struct collect_result_s {
    intptr_t collected, uncollectable, candidates;
    double duration;
    intptr_t unreachable;
} collect_result_t;

static void collect_core(rcy_runtime_t *rt, rcy_gc_head_t *young, rcy_gc_head_t *old, int generation,
                         bool check_old, bool stats, bool saveall, double t0, const counted_t *counted,
                         collect_result_t *out);

static collect_result_t collect_main(rcy_runtime_t *rt, int generation)
{
    collect_result_t res = {0, 0, 0, 0.0, 0};
    bool stats = (rt->debug & RCY_DEBUG_STATS) != 0;
    /* In teardown's last phase no collection keeps anything in garbage,
       not even one a finalizer asks for (garbage was emptied for good). */
    bool saveall = (rt->debug & RCY_DEBUG_SAVEALL) != 0 && !rt->tearing_down_final;
    double t0 = now_seconds();

    if (stats) {
        rcyi_printf(rt, "gc: collecting generation %d...\n", generation);
        rcyi_printf(rt, "gc: objects in each generation: %zu %zu %zu\n", rcyi_list_size(&rt->gens[0].head),
                    rcyi_list_size(&rt->gens[1].head), rcyi_list_size(&rt->gens[2].head) + rcyi_incr_held(rt));
        rcyi_printf(rt, "gc: objects in permanent generation: %zu\n", rcyi_list_size(&rt->permanent));
    }

    /* Counters: one more collection of this generation for the next one. */
    if (generation + 1 < RCY_NUM_GENERATIONS)
        rt->gens[generation + 1].count += 1;
    for (int i = 0; i <= generation; i++)
        rt->gens[i].count = 0;

    /* Merge the younger generations into the one collected. */
    for (int i = 0; i < generation; i++)
        rcyi_list_merge(&rt->gens[i].head, &rt->gens[generation].head);
    rcy_gc_head_t *young = &rt->gens[generation].head;
    rcy_gc_head_t *old = generation < RCY_NUM_GENERATIONS - 1 ? &rt->gens[generation + 1].head : young;

    /* Debug level 2 (internal.h): each list checked between the phases,
       with the flags it must carry, as CPython's validate_list does. The
       old generation of a generation-1 collection is the whole oldest
       generation, which the collection only appends to: checking it at
       every phase would make the GC-stress build quadratic, so only the
       part the collection appended is checked, at the end (level 1). */
    bool check_old = generation != RCY_NUM_GENERATIONS - 2;
    collect_core(rt, young, old, generation, check_old, stats, saveall, t0, NULL, &res);
    res.duration = now_seconds() - t0;

    if (generation == RCY_NUM_GENERATIONS - 1 && rt->clear_freelists != NULL)
        rt->clear_freelists(rt);

#if RCY_DEBUG >= 1
    /* Every object the collection touched ended in old (or was freed),
       appended at its end: the survivors, then what left the unreachable
       set (at most the candidates again) and the weak references whose
       callbacks ran. old is checked whole when it was collected or is the
       middle generation; the oldest generation, after a generation-1
       collection, only along the part a collection may have appended
       (checking it whole made the GC-stress build quadratic). */
    if (young == old || generation == 0)
        rcyi_validate_list(rt, old, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
    else
        rcyi_validate_list_tail(rt, old, 2 * (size_t)res.candidates + 64);
    for (int i = 0; i < generation; i++)
        rcyi_validate_list(rt, &rt->gens[i].head, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
#endif

    rcy_gc_stats_t *st = &rt->stats[generation];
    st->collections++;
    st->collected += res.collected;
    st->uncollectable += res.uncollectable;
    st->candidates += res.candidates;
    st->duration += res.duration;
    return res;
}

/* One collection of the list young, everything else counting as outside,
   its survivors and what the garbage leaves alive going to old (young
   itself for a full collection): trial deletion, legacy finalizers, weak
   references, PEP 442 finalizers, resurrection, clearing. generation is
   the generation collected (survivors counted for the 25 % rule), or -1
   for a region of incremental mode (rcyi_gc_collect_region). counted: the
   region's update_refs and subtract_refs are done (NULL: not). Fills the
   counts of res (not its duration). */
static void collect_core(rcy_runtime_t *rt, rcy_gc_head_t *young, rcy_gc_head_t *old, int generation,
                         bool check_old, bool stats, bool saveall, double t0, const counted_t *counted,
                         collect_result_t *out)
{
    collect_result_t res = {0, 0, 0, 0.0, 0};
    if (young != old && check_old)
        RCYI_VALIDATE_PHASE(rt, old, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
    if (counted == NULL)
        RCYI_VALIDATE_PHASE(rt, young, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
    RCYI_VALIDATE_REF_ARRAYS(rt, young);

    rcy_gc_head_t unreachable;
    scan_state_t scan;
    /* A full collection while nothing is frozen examines every tracked
       object: update_refs and subtract_refs can then share one pass. */
    bool full = young == old && rcyi_list_is_empty(&rt->permanent);
    /* The passes that call traverse slots, with gc_refs in the headers:
       a heap walk (rcyi_walk_begin), so that a traverse slot that
       collects, freezes, walks or tracks is refused. */
    rt->walk = COLLECTOR_WALK;
    if (counted != NULL)
        deduce_counted(rt, young, &unreachable, counted, &scan);
    else
        deduce_unreachable(rt, young, &unreachable, full, true, &scan);
    RCYI_VALIDATE_PHASE(rt, young, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
    RCYI_VALIDATE_PHASE(rt, &unreachable, RCYI_COLLECTING_SET_UNREACHABLE_SET);
    res.candidates = scan.candidates;
    res.unreachable = scan.unreachable;
    rt->last_unreachable = scan.unreachable;
    /* Survivors: counted, not walked (CPython walks the list). */
    intptr_t survivors = scan.candidates - scan.unreachable - scan.untracked;

    /* Survivors move up a generation. */
    if (young != old) {
        if (generation == 0)
            record_hints(rt, &scan, old);
        if (generation == RCY_NUM_GENERATIONS - 2) {
            rt->long_lived_pending += survivors;
            rt->young_hints_len = 0; /* generation 1 is now empty */
            rt->young_hints_broken = false;
        }
        rcyi_list_merge(young, old);
    } else {
        rt->long_lived_pending = 0;
        rt->long_lived_total = survivors;
    }

    /* Objects with legacy finalizers, and all they reach, can't be freed. */
    rcy_gc_head_t finalizers;
    rcyi_list_init(&finalizers);
    /* The list of the unreachable objects, in the order move_unreachable
       left their addresses at the start of the array (untracked survivors
       among them; and a list object moved back out of it is still there):
       the walk below runs over the set's blocks a third time, long after
       the scan, one cache miss after another (a generation-1 collection of
       bench_pauses ring at 1e7: 57-71 us for its 4,480 objects, 27-28 with
       the addresses asked for ahead). Not for generation 0, whose array
       holds the survivors for record_hints. */
    rcy_gc_head_t *const *found = scan.order != NULL && young != &rt->gens[0].head ? scan.order : NULL;
    intptr_t plain = rcyi_move_legacy_finalizers(rt, &unreachable, &finalizers, rt->tearing_down_final, found,
                                                 found != NULL ? scan.nfound : 0);
    rcyi_move_legacy_finalizer_reachable(&finalizers);
    rt->walk = NULL;
    if (plain >= 0 && !rcyi_list_is_empty(&finalizers))
        plain = rcyi_plain_garbage(rt, &unreachable); /* some moved out: count again */
    RCYI_VALIDATE_PHASE(rt, &finalizers, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
    RCYI_VALIDATE_PHASE(rt, &unreachable, RCYI_COLLECTING_SET_UNREACHABLE_CLEAR);

    if (rt->debug & RCY_DEBUG_COLLECTABLE) {
        for (rcy_gc_head_t *g = rcyi_gc_next(&unreachable); g != &unreachable; g = rcyi_gc_next(g))
            debug_cycle(rt, "collectable", rcyi_from_gc(g));
    }

    rcy_gc_head_t final_unreachable;
    if (plain < 0) {
        /* Weak references to the garbage are cleared before any finalizer
           runs; callbacks run for those that are not garbage themselves. */
        res.collected += rcyi_gc_handle_weakrefs(&unreachable, old);
        if (check_old)
            RCYI_VALIDATE_PHASE(rt, old, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
        RCYI_VALIDATE_PHASE(rt, &unreachable, RCYI_COLLECTING_SET_UNREACHABLE_CLEAR);

        /* PEP 442: finalize everything before anything is cleared, then
           see what the finalizers resurrected. */
        rcyi_finalize_garbage(&unreachable);
        RCYI_VALIDATE_PHASE(rt, &unreachable, RCYI_COLLECTING_SET_UNREACHABLE_CLEAR);
        rt->walk = COLLECTOR_WALK;
        handle_resurrected_objects(rt, &unreachable, &final_unreachable, old);
        rt->walk = NULL;
        if (check_old)
            RCYI_VALIDATE_PHASE(rt, old, RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR);
        /* Weak references created by finalizers to what is now certainly
           garbage are cleared too, so no callback sees a cleared object. */
        rcyi_gc_clear_weakrefs(&final_unreachable);
        res.collected += (intptr_t)rcyi_list_size(&final_unreachable);
    } else {
        /* Nothing to clear, call or finalize: no code runs before the
           garbage is cleared, so none of it can be resurrected, and the
           steps above would leave the list as it is. */
        rcyi_list_init(&final_unreachable);
        rcyi_list_merge(&unreachable, &final_unreachable);
        res.collected += plain;
    }
    RCYI_VALIDATE_PHASE(rt, &final_unreachable, RCYI_COLLECTING_SET_UNREACHABLE_CLEAR);
    delete_garbage(rt, &final_unreachable, old, saveall);

    for (rcy_gc_head_t *g = rcyi_gc_next(&finalizers); g != &finalizers; g = rcyi_gc_next(g)) {
        res.uncollectable++;
        if (rt->debug & RCY_DEBUG_UNCOLLECTABLE)
            debug_cycle(rt, "uncollectable", rcyi_from_gc(g));
    }
    if (stats)
        rcyi_printf(rt, "gc: done, %zd unreachable, %zd uncollectable, %.4fs elapsed\n",
                    (ptrdiff_t)(res.collected + res.uncollectable), (ptrdiff_t)res.uncollectable,
                    now_seconds() - t0);
    rcyi_handle_legacy_finalizers(rt, &finalizers, old, saveall);
    *out = res;
}

/* Both region collections: counted NULL, the whole trial deletion;
   else its counts so far (rcyi_gc_collect_region_counted). */
static void collect_region(rcy_runtime_t *rt, rcy_gc_head_t *region, rcy_gc_head_t *old, const counted_t *counted,
                           rcyi_region_result_t *res)
{
    bool saveall = (rt->debug & RCY_DEBUG_SAVEALL) != 0 && !rt->tearing_down_final;
    collect_result_t r;
    /* A region larger than the young collections' array is walked as a
       list rather than grow it: one huge region (a dropped cycle of most
       of the heap) would otherwise leave it at 8 MiB, resident, for good,
       beside the pass's own array (peak memory). */
    bool fixed = rt->scan_order_fixed;
    rt->scan_order_fixed = true;
    collect_core(rt, region, old, -1, false, false, saveall, now_seconds(), counted, &r);
    rt->scan_order_fixed = fixed;
#if RCY_DEBUG >= 1
    rcyi_validate_list_tail(rt, old, 2 * (size_t)r.candidates + 64);
#endif
    res->collected = r.collected;
    res->uncollectable = r.uncollectable;
    res->candidates = r.candidates;
    res->unreachable = r.unreachable;
}

void rcyi_gc_collect_region(rcy_runtime_t *rt, rcy_gc_head_t *region, rcy_gc_head_t *old, rcyi_region_result_t *res)
{
    collect_region(rt, region, old, NULL, res);
}

void rcyi_gc_collect_region_counted(rcy_runtime_t *rt, rcy_gc_head_t *region, rcy_gc_head_t *old,
                                    intptr_t candidates, intptr_t zeros, rcyi_region_result_t *res)
{
    counted_t counted = {candidates, zeros};
    collect_region(rt, region, old, &counted, res);
}

static void invoke_callbacks(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info)
{
    /* A callback may remove itself (or others): index, and re-check the
       bound on every step, as iterating CPython's list does. */
    for (size_t i = 0; i < rt->n_callbacks; i++) {
        rcyi_gc_callback_t cb = rt->callbacks[i];
        rcyi_running_t f;
        rcyi_errsave_t es;
        rcyi_err_save(rt, &es);
        rcyi_enter(rt, &f, "a gc callback", NULL);
        int ret = cb.fn(rt, phase, info, cb.arg);
        rcyi_leave(rt, &f);
        if (ret != 0) {
            const char *detail = rcyi_error_detail(rt);
            rcyi_report_error(rt, "Exception ignored while calling GC callback %p (phase %s)%s%s",
                              (void *)(uintptr_t)cb.fn, phase == RCY_GC_START ? "start" : "stop",
                              detail ? ": " : "", detail ? detail : "");
        }
        rcyi_err_restore(rt, &es);
    }
}

/* The passes that steps completed: a young pass is one collection of
   generation 1, an old one of the oldest generation, each reported as such
   to the callbacks (with `report`: not at teardown; its work was done in
   its steps). Returns whether a pass of the oldest generation completed. */
static bool report_completed_pass(rcy_runtime_t *rt, bool report)
{
    rcy_gc_info_t pass;
    bool old = false;
    while (rcyi_incr_take_completed(rt, &pass)) {
        old = old || pass.generation == RCY_NUM_GENERATIONS - 1;
        if (report) {
            rcy_gc_info_t start = {pass.generation, 0, 0, 0, 0.0, 0, 0.0};
            invoke_callbacks(rt, RCY_GC_START, &start);
            invoke_callbacks(rt, RCY_GC_STOP, &pass);
        }
    }
    return old;
}

/* automatic: a collection the allocator triggered, after which incremental
   mode may run a step of its passes (inside the collection's callbacks, so
   that they time it; gc_incr.c); young_due: a generation-0 collection that
   starts a young pass (incremental mode's generation-1 collection). */
static intptr_t collect(rcy_runtime_t *rt, int generation, bool shutdown, bool automatic, bool young_due)
{
    if (rt->collecting || rt->walk != NULL)
        return 0; /* collections never nest, nor run during a heap walk */
    if (generation == 1)
        rcyi_incr_abort_young(rt); /* its objects are generation 1's again: this collection examines them */
    if (generation == RCY_NUM_GENERATIONS - 1)
        rcyi_incr_abort(rt); /* a full collection supersedes a pass */
    RCYI_VALIDATE_HEAP(rt, "before a collection");
    rt->collecting = true;
    /* Incremental mode: a step after an automatic young collection gets
       what is left of the pause target, counted from here. */
    bool step = automatic && rt->gc_mode == RCY_GC_INCREMENTAL && generation < RCY_NUM_GENERATIONS - 1;
    double cpu_start = step ? rcyi_incr_cpu_now() : 0.0;
    rcy_gc_info_t info = {generation, 0, 0, 0, 0.0, 0, 0.0};
    if (!shutdown)
        invoke_callbacks(rt, RCY_GC_START, &info);
    intptr_t pending = rt->long_lived_pending;
    collect_result_t res = collect_main(rt, generation);
    if (generation == RCY_NUM_GENERATIONS - 1)
        rcyi_incr_full_collection_done(rt);
    else if (step)
        rcyi_incr_after_young(rt, generation, rt->long_lived_pending - pending, cpu_start, young_due);
    info.collected = res.collected;
    info.uncollectable = res.uncollectable;
    info.candidates = res.candidates;
    info.duration = res.duration;
    info.steps = 1;
    info.pass_duration = res.duration;
    if (!shutdown)
        invoke_callbacks(rt, RCY_GC_STOP, &info);
    report_completed_pass(rt, !shutdown);
    rt->collecting = false;
    if (generation < RCY_NUM_GENERATIONS - 1 && (size_t)res.candidates > rt->young_peak)
        rt->young_peak = (size_t)res.candidates;
    if (generation == RCY_NUM_GENERATIONS - 1 && !shutdown)
        rcyi_gc_shrink_scratch(rt, false); /* (its arrays served their largest set) */
    RCYI_VALIDATE_HEAP(rt, "after a collection");
    return res.collected + res.uncollectable;
}

intptr_t rcyi_gc_collect(rcy_runtime_t *rt, int generation, bool shutdown)
{
    return collect(rt, generation, shutdown, false, false);
}

int rcyi_gc_incr_step(rcy_runtime_t *rt, size_t max_us)
{
    if (rt->collecting || rt->walk != NULL || rt->tearing_down || rt->gc_mode != RCY_GC_INCREMENTAL)
        return 0;
    RCYI_VALIDATE_HEAP(rt, "before an idle step");
    rt->collecting = true;
    rcyi_incr_idle(rt, max_us);
    bool completed = report_completed_pass(rt, true);
    rt->collecting = false;
    RCYI_VALIDATE_HEAP(rt, "after an idle step");
    return completed ? 1 : 0;
}

/* ---- Automatic collection -------------------------------------------- */

/* CPython's collect_generations: the oldest generation whose count exceeds
   its threshold is collected, except that a full collection waits until
   the objects awaiting their first full collection exceed 25 % of those
   that survived the last one (amortized linear cost, bpo-4074). */
static void collect_generations(rcy_runtime_t *rt)
{
    for (int i = RCY_NUM_GENERATIONS - 1; i >= 0; i--) {
        if (rt->gens[i].count > rt->gens[i].threshold) {
            if (i == RCY_NUM_GENERATIONS - 1 && rt->long_lived_pending < rt->long_lived_total / 4)
                continue;
            /* Incremental mode: the oldest generation is collected by
               passes that the young collections step (gc_incr.c). */
            if (i == RCY_NUM_GENERATIONS - 1 && rt->gc_mode == RCY_GC_INCREMENTAL)
                continue;
            /* ... and generation 1 by young passes: the generation-0
               collection now, then a pass over generation 1 that its
               steps run. */
            if (i == 1 && rcyi_incr_young_ready(rt)) {
                collect(rt, 0, false, true, true);
                return;
            }
            collect(rt, i, false, true, false);
            return;
        }
    }
#ifdef RCY_GC_STRESS
    collect(rt, 0, false, true, false);
#endif
}

/* An automatic collection runs inside whatever call allocated: the
   caller's pending error is kept aside for it (each callback it runs keeps
   it aside as well; this covers the collector's own bookkeeping). */
static RCYI_NOINLINE void collect_automatically(rcy_runtime_t *rt)
{
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es);
    collect_generations(rt);
    rcyi_err_restore(rt, &es);
}

void rcyi_gc_maybe_collect(rcy_runtime_t *rt)
{
#ifdef RCY_GC_STRESS
    if (rt->enabled && !rt->collecting && !rt->tearing_down && rt->walk == NULL)
        collect_automatically(rt);
#else
    if (rt->enabled && rt->gens[0].threshold != 0 && !rt->collecting && !rt->tearing_down && rt->walk == NULL)
        collect_automatically(rt);
#endif
}

/* ---- Teardown -------------------------------------------------------- */

#define SHUTDOWN_MAX_PASSES 100

/* Full collections until one is quiet, at most SHUTDOWN_MAX_PASSES of
   them; with `budgeted`, also until teardown's work budget is spent (every
   pass costs one unit plus the objects it found unreachable). Returns true
   when a pass was quiet; *passes is the number run. */
static bool collect_passes(rcy_runtime_t *rt, bool budgeted, int *passes)
{
    for (*passes = 1; *passes <= SHUTDOWN_MAX_PASSES; ++*passes) {
        size_t garbage_before = rt->garbage.len;
        rcyi_gc_collect(rt, RCY_NUM_GENERATIONS - 1, true);
        /* Quiet means the pass found nothing unreachable, and so ran no
           finalizer or callback. Its result is no guide: a pass whose
           garbage all died by refcount during its finalizers, or was
           resurrected, finds 0, yet those finalizers may have made new
           garbage or released the last outside reference to an old cycle. */
        if (rt->last_unreachable == 0 || rt->garbage.len > garbage_before)
            return true;
        size_t cost = (size_t)rt->last_unreachable + 1;
        rt->teardown_work = rt->teardown_work > SIZE_MAX - cost ? SIZE_MAX : rt->teardown_work + cost;
        if (budgeted && rt->teardown_work >= rt->teardown_budget)
            return false;
    }
    *passes = SHUTDOWN_MAX_PASSES;
    return false;
}

/* Collects until a pass is quiet. Finalizers that keep making garbage
   (each call leaving a new cycle, so that the garbage can double at every
   pass) would keep teardown going for ever: after SHUTDOWN_MAX_PASSES
   passes, or once teardown's work budget is spent, teardown reports them
   with what is left, and from then on no finalizer and no weak-reference
   callback runs (teardown_cut): the rest is freed without them, in passes
   that run no user code. Objects even those passes cannot free are
   reported as still alive, as leaked references are. */
static void collect_until_quiet(rcy_runtime_t *rt)
{
    int passes;
    if (collect_passes(rt, !rt->teardown_cut, &passes) || rt->teardown_cut)
        return;
    rt->teardown_cut = true;
    size_t tracked = 0;
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++)
        tracked += rcyi_list_size(&rt->gens[i].head);
    rcyi_printf(rt,
                "recycle: teardown stopped running finalizers and callbacks after %d collection passes: they keep "
                "making garbage "
                "(the last pass found %zd unreachable); live objects: %zu (%zu tracked), by type:\n",
                passes, (ptrdiff_t)rt->last_unreachable, rcyi_live_objects(rt, NULL), tracked);
    rcyi_print_live_types(rt);
    rcyi_printf(rt, "recycle: the garbage left is freed without running finalizers or weak-reference callbacks\n");
    collect_passes(rt, false, &passes);
}

void rcyi_gc_unfreeze(rcy_runtime_t *rt) { rcyi_list_merge(&rt->permanent, &rt->gens[RCY_NUM_GENERATIONS - 1].head); }

void rcyi_gc_collect_shutdown(rcy_runtime_t *rt)
{
    rcyi_incr_abort(rt);
    rcyi_gc_unfreeze(rt);
    collect_until_quiet(rt);
    if (rt->garbage.len > 0 && !(rt->debug & RCY_DEBUG_SAVEALL)) {
        if (rt->debug & RCY_DEBUG_UNCOLLECTABLE) {
            rcyi_printf(rt, "ResourceWarning: gc: %zu uncollectable objects at shutdown\n", rt->garbage.len);
            for (size_t i = 0; i < rt->garbage.len; i++) {
                /* describe slots and the output hook are user code: hold
                   the entry, and read the list again each time. */
                rcy_object_t *o = rcy_newref(rt->garbage.items[i]);
                char desc[128];
                rcy_describe(o, desc, sizeof desc);
                rcy_decref(o);
                rcyi_printf(rt, "      %s\n", desc);
            }
        } else {
            rcyi_printf(rt,
                        "ResourceWarning: gc: %zu uncollectable objects at shutdown; use "
                        "rcy_gc_set_debug(rt, RCY_DEBUG_UNCOLLECTABLE) to list them\n",
                        rt->garbage.len);
        }
    }
    /* The runtime goes away: release garbage and break even the cycles that
       legacy finalizers kept (the collector clears them, and in this last
       phase no legacy finalizer runs: it would see its peers cleared). */
    rt->tearing_down_final = true;
    rcyi_gc_garbage_clear(rt);
    collect_until_quiet(rt);
}

size_t rcyi_gc_scratch_bytes(const rcy_runtime_t *rt)
{
    return (rt->scan_order_cap + rt->young_hints_cap) * sizeof(rcy_gc_head_t *);
}

/* Reallocates *arr (of *cap entries) to cap entries; keeps it when the
   allocator refuses. */
static void shrink_array(rcy_runtime_t *rt, rcy_gc_head_t ***arr, size_t *cap, size_t to)
{
    if (*arr == NULL || *cap <= to)
        return;
    rcy_gc_head_t **p = rt->alloc.realloc_fn(rt->alloc.ctx, *arr, to * sizeof **arr);
    if (p == NULL)
        return;
    *arr = p;
    *cap = to;
}

void rcyi_gc_shrink_scratch(rcy_runtime_t *rt, bool all)
{
    if (rt->collecting || rt->walk != NULL)
        return;
    /* The scan order is a collection's scratch: nothing in it outlives
       one. A young collection of a large set grows it, and so do a full
       collection while objects are frozen and the resurrection check of
       one that found much garbage with finalizers (up to SCAN_ORDER_MAX,
       8 MiB, at a million objects), and it stayed so for the runtime's
       life. It keeps what the young collections since the last
       shrink needed (grow_order's sizes: growing back from the first size
       made the first young collection after each full one 90-110 us
       slower, 4.4 thousand objects at 1e7 in bench_pauses ring), or
       nothing more than the first size when all. */
    size_t keep = SCAN_ORDER_FIRST;
    while (!all && keep < SCAN_ORDER_MAX && keep - ORDER_AHEAD < rt->young_peak)
        keep *= 2;
    rt->young_peak = 0;
    shrink_array(rt, &rt->scan_order, &rt->scan_order_cap, keep);
    /* The hints describe generation 1: keep what they hold. */
    size_t want = SCAN_ORDER_FIRST;
    while (want < rt->young_hints_len)
        want *= 2;
    shrink_array(rt, &rt->young_hints, &rt->young_hints_cap, want);
}

void rcyi_gc_fini(rcy_runtime_t *rt)
{
    rcyi_incr_fini(rt);
    rcy_objarray_release(&rt->garbage);
    if (rt->scan_order != NULL)
        rt->alloc.free_fn(rt->alloc.ctx, rt->scan_order);
    rt->scan_order = NULL;
    rt->scan_order_cap = 0;
    if (rt->young_hints != NULL)
        rt->alloc.free_fn(rt->alloc.ctx, rt->young_hints);
    rt->young_hints = NULL;
    rt->young_hints_len = rt->young_hints_cap = 0;
    rcyi_free(rt, rt->callbacks);
    rt->callbacks = NULL;
    rt->n_callbacks = rt->cap_callbacks = 0;
}
