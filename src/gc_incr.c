/*
 * The incremental old generation (issue 17; docs/design.md, "Incremental
 * mode"). Opt-in (rcy_gc_set_mode(rt, RCY_GC_INCREMENTAL)); in the default
 * compat mode nothing here runs but the mode checks.
 *
 * A pass over the old generation runs in steps bounded by time (the pause
 * target less the young collection that runs the step) and by credit
 * (pacing.h), after the young collections, with the program running in
 * between and changing anything
 * (references moved between containers without any count changing
 * included: there is no write barrier). The steps compute hints; only the
 * last phase frees anything, and it is an exact trial deletion, so the
 * pass is sound whatever the hints say:
 *
 *   SNAPSHOT  the old generation at the start of the pass (moved whole to
 *             `pending`) goes, object by object from the list's end, into
 *             the pass array P, out of every list: next = its index in P,
 *             tagged RCYI_NEXT_INCR; prev = FINALIZED | hint << 2, the
 *             hint being the reference count then (update_refs); and its
 *             references to objects already in P lower their hints, at 0
 *             at the least (subtract_refs in the same walk, as a full
 *             collection's update_and_subtract_refs); an object that
 *             refers to one not in P yet is late;
 *   FIXUP     each late object's references to the objects that came into
 *             P after it lower their hints (the list is mostly in the
 *             last scan's order, referrers first: taken from its end, few
 *             objects are late);
 *   SCAN      a cursor walks P in list order (from P's end; the list is
 *             mostly the last scan's order): an object reached (a bit of
 *             a bitmap, set by a scanned object that refers to it) or a
 *             root (hint still > 0: referenced from outside P, as far as
 *             the hints tell) is scanned, what it refers to in P marked
 *             reached, and goes back to the old generation's list;
 *             anything else is packed at P's end, suspected, and goes to
 *             the end of the scan if reached after all (move_unreachable
 *             over an array, and like it one walk for a live heap);
 *   GROUP     the rest of P, S (the suspects), is split into weakly
 *             connected components by union-find over its references
 *             (and weak references to their referents), its arrays in
 *             the slots of P that SCAN emptied (S larger than that: one
 *             region);
 *   COLLECT   whole components are gathered into a list and collected by
 *             the collector's own region collection (rcyi_gc_collect_region:
 *             trial deletion of that list against everything else, then
 *             the PEP 442 pipeline, weak references and legacy finalizers
 *             exactly as in any collection); S as one region is gathered
 *             and counted in one walk over P instead (collect_one, then
 *             rcyi_gc_collect_region_counted from move_unreachable on);
 *   RELEASE   P's pages are given back in pieces before P is freed.
 *
 * Why it is sound: a region collection treats every reference from
 * outside the region as a root, whatever happened before (CPython's
 * argument for collecting one generation), so it frees only what is
 * unreachable now. Why it finds old garbage: garbage that was garbage at
 * the snapshot stays so (only finalizers, weak-reference dereferences and
 * heap walks reach garbage, and all of them are accounted below), its
 * hints are exact, it is never reached from a root, and a garbage
 * component is whole in one weakly connected component of S. Garbage made
 * during the pass, or held by younger garbage, waits for the next pass.
 *
 * Full and recent passes. Between passes the old generation is split in
 * two lists: `mature`, the objects the passes kept, and the old
 * generation's own list, what was promoted since the last pass began (and
 * what its regions left alive, and a recent pass's few survivors). A full
 * pass takes both (mature first: the last scan's order); a recent pass
 * the second alone: at the cost of those objects it frees the garbage
 * that dies soon after its promotion (the generational hypothesis, one
 * level up), such as a loop's objects holding buffers. A pass is recent
 * when started on external bytes (pacing.h, RCYI_START_RECENT), and when
 * started by compat mode's rule while fewer than RCYI_SCHED_RECENT_MAX
 * recent passes ran since the whole old generation was last examined and
 * the heap has not grown by half the backstop's allowance since
 * (rcyi_sched_recent). It is sound for the same reason as a full pass
 * (the mature objects are outside its P: their references are roots).
 * Whatever gives a pass up merges `mature` back
 * too (rcyi_incr_abort, which walks of the lists call even between
 * passes), so that the lists hold every tracked object again.
 *
 * Objects in P are on no list. Every untrack goes through rcyi_list_remove,
 * which sends a tagged header here (rcyi_incr_forget: the slot of P is
 * cleared). Whatever walks the lists outside the collector (heap walks,
 * freeze, validation, full collections, teardown) first gives the pass up
 * (rcyi_incr_abort): every object goes back to the old generation's list.
 */
#include "internal.h"

#include "pacing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

enum { IDLE = 0, SNAPSHOT, FIXUP, SCAN, GROUP_CLEAR, GROUP, COLLECT, RELEASE, DONE };

/* Defaults; docs/design.md, "Incremental mode", says why. */
#define STEP_WORK_DEFAULT 400000 /* work units a step may do at most (the pause target bounds it first) */
#define PAUSE_US_DEFAULT 1000   /* the pause target: young collection and step, CPU microseconds */
#define PAUSE_MARGIN_US 150     /* kept back from the target: the clock's granularity, the step's end */
#define CHECK_US 16             /* CPU time between two reads of the thread's CPU clock (a read: 0.3 us here) */
#define CHECK_UNITS 4096        /* ... at most this many work units apart, */
#define CHECK_MIN 32            /* ... and at least this many */
#define STEP_MIN_US 100         /* a young collection that leaves less than this (to the deadline) gets no step */
#define STARVED_MAX 8           /* young collections in a row with no time left before a minimum step */
#define REGION_MAX 256          /* objects gathered for one region collection (whole components) */
#define CREDIT_DEN 16           /* a pass's work is credited within 1/16 of the live size in promotions */
#define WORK_PER_OBJECT 8       /* the first pass's estimate of its work per object */
#define UNITS_PER_TICK 50000    /* ... and of the work a young collection's step does */

typedef struct rcyi_incr_s {
    int phase;
    rcy_gc_head_t pending;   /* SNAPSHOT: the old generation at the start, not yet in P */
    rcy_gc_head_t scanned;   /* SCAN: the objects it returned, in scan order, until the pass ends */
    void *objs;              /* P: 4-byte compressed pointers (p_get), or 8-byte ones when wide */
    bool wide;               /* some object of the pass is not within 64 GB of base, or unaligned */
    uintptr_t base;          /* narrow P: object = base + 16 * entry (0: NULL) */
    size_t len, cap;
    size_t pos;              /* the current phase's cursor */
    size_t end;              /* SCAN: P[0, len) and the objects scanned again, P[len, end) */
    size_t top;              /* SCAN: what it passed unreached is packed in P[top, len), then S */
    uint64_t *reach;         /* SCAN: a bit per slot of P[0, len): reached (from an object scanned); kept
                                (unused) until RELEASE gives its pages back */
    size_t reach_bytes;      /* ... its size */
    size_t reach_pos;        /* RELEASE: bytes of it whose pages were dropped so far */
    size_t zeroed;           /* FIXUP's end: words of reach zeroed so far (zero_reach) */
    size_t zeros;            /* SCAN: objects of P not reached yet (when 0, the rest is only relinked) */
    size_t freed;            /* SNAPSHOT, FIXUP: slots of P cleared by untracking */
    uint32_t *late;          /* SNAPSHOT: the P objects FIXUP visits (phase_snapshot) */
    size_t nlate, late_cap;
    size_t late_pos;         /* RELEASE: bytes of it whose pages were dropped so far */
    bool late_all;           /* ... too many: FIXUP visits every object of P */
    uint32_t *parent, *ring; /* GROUP: union-find over S, and each set as a ring, 4 bytes a suspect
                                each, in P[0, top) (emptied by SCAN): no memory of their own */
    uint32_t *groups;        /* GROUP: parent and ring in an array of their own, where S is larger
                                than P[0, top) but the arrays are affordable (group_arrays) */
    size_t groups_bytes;     /* ... its size */
    size_t groups_pos;       /* RELEASE: bytes of it whose pages were dropped so far */
    bool one;                /* S is collected as one region, no arrays */
    size_t m;                /* |S| (with the slots freed since) */
    rcyi_pacer_t pacer;
    int64_t step_work;
    double pause;            /* the pause target, s of thread CPU time (0: none) */
    double deadline;         /* the current step stops at this thread CPU time (0: no time bound) */
    int64_t check_at;        /* ... and reads the clock when its budget left falls to this */
    int64_t check_units;     /* work units between two reads, from the rate of the steps so far */
    int64_t step_budget;     /* the current step's budget when it began */
    double step_t0;          /* ... and the thread's CPU time then */

    /* The pass. */
    double t_start, in_steps;
    intptr_t steps, collected, uncollectable, candidates;
    size_t snapshot, returned, survivors, suspects, largest_group;
    intptr_t pending_at_start;
    uint64_t ticks_at_start; /* young collections before the pass started */
    bool sync; /* finishing synchronously (backstop) */
    unsigned starved; /* young collections in a row that left no time for the step */

    /* Across passes. */
    rcy_gc_head_t mature;  /* between passes and during a recent one: the old objects the passes kept (the
                              old generation's older part); the old generation's list then holds the ones
                              promoted since the last pass began (and what its regions left alive) */
    bool recent;           /* the pass examines the old generation's list alone, not `mature` */
    uint64_t recent_in_row; /* recent passes completed since the last full pass or full collection */
    uint64_t recent_bound; /* objects on that list, at most (the size of a recent pass's P) */
    uint64_t kept_recent;  /* ... of them, those the last recent pass kept there (counted as pending then) */
    size_t ext_start;      /* rt->ext_bytes when the pass started */
    uint64_t ext_freed;    /* external bytes released within its steps */
    uint64_t ext_floor;    /* the last completed pass's ext_start less its ext_freed */
    uint64_t ticks_floor;  /* young collections when it started */
    uint64_t ext_full;     /* ext_floor after the last full pass (or full collection) */
    uint64_t ext_settled;  /* the lower of the last two ext_floor */
    uint64_t recent_ticks; /* young collections the last recent pass took (0: none yet) */
    size_t ext_seen;   /* rt->ext_bytes already credited */
    uint64_t promoted_all;   /* objects promoted into the old generation, in incremental mode */
    uint64_t promoted_start; /* ... when the last pass started */
    uint64_t window;         /* ... since the one before it: what the pass's old generation's list got */
    uint64_t ext_per_promotion_fp; /* the last recent pass's ext_freed per object of its window, 8 bits */
    uint64_t live_last; /* the old generation's live size after the last pass (or full collection) */
    uint64_t census_last; /* the old generation's census then (rebase: not known yet) */
    bool rebase;          /* census_last is to be read at the next generation-1 collection */
    uint64_t grown;       /* the old generation's census at the last generation-1 collection, over census_last */
    uint64_t grown_ticks; /* ... and the young collections from the last pass's end to then */
    uint64_t ticks;       /* young collections in incremental mode */
    uint64_t ticks_last;  /* ... when the last pass (or full collection) ended */
    uint64_t pass_ticks;  /* young collections the last completed pass took (0: no pass yet) */
    uint64_t units_per_tick; /* the work the last completed pass did per young collection */
    uint64_t work_per_obj_fp; /* the last pass's work per snapshot object, 8 fixed-point bits */
    uint64_t bytes_per_obj;

    bool completed; /* a pass completed: its callbacks are due */
    rcy_gc_info_t done;
    rcy_gc_incr_stats_t st;

    /* The young pass ("The young pass", above): rt->incr is the old
       generation's pass and the schedule; its yp the young pass, an
       instance of its own whose fields of the schedule are unused. */
    bool young;             /* this is the young pass */
    uintptr_t tag;          /* its P objects' tag: RCYI_NEXT_INCR_YOUNG for the young pass, 0 for the old */
    struct rcyi_incr_s *yp; /* (the old pass's) the young pass; NULL: none (short of memory, or RCY_GC_INCR_YOUNG=0) */
    uint64_t yp_promoted;   /* (the old pass's) what young passes promoted that no step has credited yet */
    bool yp_census;         /* (the old pass's) a young pass completed: the census is read at the next step */
} rcyi_incr_t;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double rcyi_incr_cpu_now(void)
{
#if defined(CLOCK_THREAD_CPUTIME_ID)
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#endif
    return 0.0;
}

/* Reads the clock within a step: stops the step's budget once the
   deadline has passed (rcyi_pacer_step_stop: the credit not spent stays
   for the next step); otherwise sets the next read CHECK_US of CPU time
   ahead at the step's rate so far (the cost of a unit differs by phase
   and by how the old generation lies in memory, 10-60 ns here), between
   CHECK_MIN and CHECK_UNITS units. */
static RCYI_NOINLINE bool clock_check(rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    double now = rcyi_incr_cpu_now();
    if (now >= in->deadline) {
        rcyi_pacer_step_stop(p);
        in->st.time_stops++;
        return true;
    }
    int64_t done = in->step_budget - p->step_left;
    double spent = now - in->step_t0;
    int64_t units = CHECK_UNITS;
    if (done > 0 && spent > 0.0) {
        double u = CHECK_US * 1e-6 * (double)done / spent;
        units = u < CHECK_MIN ? CHECK_MIN : u > CHECK_UNITS ? CHECK_UNITS : (int64_t)u;
    }
    in->check_units = units;
    in->check_at = p->step_left - units;
    return false;
}

/* Whether the current step must stop: its work budget is spent, or the
   clock (read every check_units units) has passed the step's deadline.
   Never while finishing synchronously (no step: rcyi_pacer_exhausted is
   false, and there is no deadline). */
static inline bool step_over(rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    if (rcyi_pacer_exhausted(p))
        return true;
    if (RCY_LIKELY(in->deadline == 0.0 || p->step_left > in->check_at))
        return false;
    return clock_check(in);
}

/* ---- Header encoding of P objects ------------------------------------- */

/* In this pass's P (the other pass's objects are outside it, as any). */
static inline bool in_p(const rcyi_incr_t *in, const rcy_gc_head_t *g)
{
    return (g->next & (RCYI_NEXT_INCR | RCYI_NEXT_INCR_YOUNG)) == (RCYI_NEXT_INCR | in->tag);
}
static inline size_t p_index(const rcy_gc_head_t *g) { return (size_t)(g->next >> 3); }
static inline void p_set_index(const rcyi_incr_t *in, rcy_gc_head_t *g, size_t i)
{
    g->next = ((uintptr_t)i << 3) | in->tag | RCYI_NEXT_INCR;
}
static inline uintptr_t hint_get(const rcy_gc_head_t *g) { return g->prev >> 2; }
static inline void hint_set(rcy_gc_head_t *g, uintptr_t h) { g->prev = (g->prev & RCYI_PREV_FINALIZED) | (h << 2); }
/* The hint less one, at 0 at the least (the flags below it unchanged). */
static inline void hint_lower(rcy_gc_head_t *g)
{
    if (g->prev >= ((uintptr_t)1 << 2))
        g->prev -= (uintptr_t)1 << 2;
}

/* P's entries: a 4-byte entry is an object's distance from base in
   16-byte units (0 for none: objects are 16-byte aligned, after their
   16-byte header), which halves P; an object that does not fit (farther
   than 64 GB from the pass's first object, or unaligned) makes P wide,
   8-byte pointers, for the rest of the pass (p_widen). */
static inline rcy_object_t *p_get(const rcyi_incr_t *in, size_t i)
{
    if (RCY_LIKELY(!in->wide)) {
        uint32_t e = ((const uint32_t *)in->objs)[i];
        return e == 0 ? NULL : (rcy_object_t *)(in->base + ((uintptr_t)e << 4));
    }
    return ((rcy_object_t *const *)in->objs)[i];
}
static inline void p_clear(rcyi_incr_t *in, size_t i)
{
    if (RCY_LIKELY(!in->wide))
        ((uint32_t *)in->objs)[i] = 0;
    else
        ((rcy_object_t **)in->objs)[i] = NULL;
}
static inline size_t p_elem(const rcyi_incr_t *in) { return in->wide ? sizeof(rcy_object_t *) : sizeof(uint32_t); }
/* Whether o has a 4-byte entry (narrow P). */
static inline bool p_fits(const rcyi_incr_t *in, const rcy_object_t *o)
{
    uintptr_t d = (uintptr_t)o - in->base;
    return (uintptr_t)o > in->base && (d & 15) == 0 && (d >> 4) <= UINT32_MAX;
}

/* Puts a P object (its slot already cleared) at the end of list. */
static void relink(rcy_gc_head_t *g, rcy_gc_head_t *list)
{
    g->next = 0;
    g->prev &= RCYI_PREV_FINALIZED;
    rcyi_list_append(g, list);
}

/* ---- Allocation without touching the caller's error state ------------- */

static void *incr_realloc(rcy_runtime_t *rt, void *p, size_t n, size_t elem)
{
    int saved = rt->last_error;
    void *q = rcyi_realloc_array(rt, p, n, elem);
    rt->last_error = saved;
    return q;
}

/* ---- The tracked heap ------------------------------------------------ */

/* The live objects of the runtime's container types: the heap the
   collector is responsible for (tracked objects, and the few containers
   untracked for now), exact, from the types' own census (O(types), no
   walk). Read after a generation-1 collection, when the young
   generations are empty (their survivors just promoted), it is the old
   generation's size, whose growth since the last pass ended is what the
   backstop bounds: the objects promoted since and still alive, and any
   garbage a pass has not freed yet. Objects enter the old generation only
   in generation-1 collections, so its growth is at its largest then. */
static uint64_t census(const rcy_runtime_t *rt)
{
    uint64_t n = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type)
        if ((t->flags & RCY_TPFLAGS_GC) != 0)
            n += rcyi_type_live(t, NULL);
    return n;
}

/* ---- Mode ----------------------------------------------------------- */

/* A pass's state, zeroed and set up (NULL: short of memory). */
static rcyi_incr_t *pass_new(rcy_runtime_t *rt, bool young)
{
    int saved = rt->last_error;
    rcyi_incr_t *in = rcyi_malloc(rt, sizeof(rcyi_incr_t));
    rt->last_error = saved;
    if (in == NULL)
        return NULL;
    memset(in, 0, sizeof(rcyi_incr_t));
    in->young = young;
    in->tag = young ? RCYI_NEXT_INCR_YOUNG : 0;
    in->step_work = rt->incr_step_work > 0 ? (int64_t)rt->incr_step_work : STEP_WORK_DEFAULT;
    in->pause = (double)rt->incr_pause_us * 1e-6;
    rcyi_pacer_init(&in->pacer, in->step_work, in->step_work / 64 + 1, 64);
    in->work_per_obj_fp = (uint64_t)WORK_PER_OBJECT << 8;
    in->units_per_tick = UNITS_PER_TICK;
    in->check_units = CHECK_UNITS / 4;
    in->bytes_per_obj = 64;
    rcyi_list_init(&in->pending);
    rcyi_list_init(&in->scanned);
    rcyi_list_init(&in->mature);
    in->st.size = sizeof in->st;
    return in;
}

static rcyi_incr_t *state(rcy_runtime_t *rt)
{
    if (rt->incr == NULL) {
        rcyi_incr_t *in = pass_new(rt, false);
        if (in == NULL)
            return NULL;
        in->live_last = (uint64_t)rt->long_lived_total;
        in->rebase = true;
        in->ext_seen = in->ext_floor = in->ext_full = in->ext_settled = 0; /* bytes charged before count as growth */
        rt->incr = in;
    }
    /* (Short of memory, generation-1 collections run as in compat mode
       until a later young collection gets it.) */
    if (rt->incr->yp == NULL && rt->incr_young)
        rt->incr->yp = pass_new(rt, true);
    return rt->incr;
}

void rcyi_incr_init(rcy_runtime_t *rt, const rcy_config_t *cfg)
{
    rt->gc_mode = cfg->gc_mode == RCY_GC_INCREMENTAL ? RCY_GC_INCREMENTAL : RCY_GC_COMPAT;
    rt->incr_step_work = cfg->incr_step_work;
    rt->incr_pause_us = cfg->incr_pause_us > 0 ? cfg->incr_pause_us : PAUSE_US_DEFAULT;
    const char *env = getenv("RCY_GC_MODE");
    if (env != NULL && strcmp(env, "incremental") == 0)
        rt->gc_mode = RCY_GC_INCREMENTAL;
    else if (env != NULL && strcmp(env, "compat") == 0)
        rt->gc_mode = RCY_GC_COMPAT;
    /* A test knob: the work of one step (tiny budgets interleave the
       program with every phase). */
    env = getenv("RCY_GC_INCR_STEP");
    if (env != NULL && *env != '\0') {
        char *end;
        long long v = strtoll(env, &end, 10);
        if (*end == '\0' && v > 0 && v < ((long long)1 << 40))
            rt->incr_step_work = (size_t)v;
    }
    /* A test knob as well: the pause target, 0 for none (steps bounded by
       their work alone, and so deterministic). */
    env = getenv("RCY_GC_INCR_PAUSE_US");
    if (env != NULL && *env != '\0') {
        char *end;
        long long v = strtoll(env, &end, 10);
        if (*end == '\0' && v >= 0 && v < ((long long)1 << 40))
            rt->incr_pause_us = (size_t)v;
    }
    /* A test knob too: 0 runs generation-1 collections at once, as in
       compat mode, instead of as young passes. */
    env = getenv("RCY_GC_INCR_YOUNG");
    rt->incr_young = !(env != NULL && strcmp(env, "0") == 0);
    rt->incr = NULL;
    /* The state now rather than at the first collection (which would then
       allocate, where compat mode does not); if this fails, the first step
       tries again. */
    if (rt->gc_mode == RCY_GC_INCREMENTAL)
        (void)state(rt);
}

void rcyi_incr_fini(rcy_runtime_t *rt)
{
    rcyi_incr_t *in = rt->incr;
    if (in == NULL)
        return;
    rcyi_incr_abort(rt);
    rcyi_free(rt, in->yp);
    rcyi_free(rt, in);
    rt->incr = NULL;
}

/* ---- Giving a pass up ------------------------------------------------- */

/* The slots of P that may hold an object, [p_first, p_end): SCAN may put
   objects after P[0, len); after it S is P[top, len), and P[0, top)
   holds GROUP's arrays. */
static size_t p_first(const rcyi_incr_t *in) { return in->phase > SCAN ? in->top : 0; }
static size_t p_end(const rcyi_incr_t *in) { return in->phase == SCAN ? in->end : in->len; }

static inline bool reached_get(const rcyi_incr_t *in, size_t i) { return (in->reach[i >> 6] >> (i & 63)) & 1; }

static void free_arrays(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcyi_free(rt, in->objs);
    in->objs = NULL;
    in->wide = false;
    in->base = 0;
    in->parent = in->ring = NULL;
    rcyi_free(rt, in->groups);
    in->groups = NULL;
    in->groups_bytes = in->groups_pos = 0;
    rcyi_free(rt, in->late);
    in->late = NULL;
    in->nlate = in->late_cap = in->late_pos = 0;
    in->late_all = false;
    rcyi_free(rt, in->reach);
    in->reach = NULL;
    in->reach_bytes = in->reach_pos = 0;
    in->len = in->cap = in->pos = in->end = in->top = in->m = 0;
    in->one = false;
}

/* The old generation whole on its list again: `mature` in front (the
   last scan's order, then what was promoted since). */
static void mature_back(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcy_gc_head_t *old = &rt->gens[RCY_NUM_GENERATIONS - 1].head;
    if (rcyi_list_is_empty(&in->mature))
        return;
    rcyi_list_merge(old, &in->mature);
    rcyi_list_merge(&in->mature, old);
    in->recent_bound = (uint64_t)(rt->long_lived_total + rt->long_lived_pending);
    in->kept_recent = 0;
}

/* Gives one pass up: the old pass's objects go back to the old
   generation, the young pass's to generation 1 (as if its collection had
   not begun; what its regions left alive was promoted already). */
static void abort_one(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    if (in->phase == IDLE) {
        if (!in->young)
            mature_back(rt, in);
        return;
    }
    rcy_gc_head_t *back = &rt->gens[in->young ? 1 : RCY_NUM_GENERATIONS - 1].head;
    for (size_t i = p_first(in); i < p_end(in); i++) {
        rcy_object_t *o = p_get(in, i);
        if (o != NULL) {
            p_clear(in, i);
            relink(rcyi_as_gc(o), back);
        }
    }
    rcyi_list_merge(&in->pending, back);
    rcyi_list_merge(&in->scanned, back);
    free_arrays(rt, in);
    rcyi_pacer_end(&in->pacer);
    in->phase = IDLE;
    in->st.aborted++;
    if (!in->young)
        mature_back(rt, in);
}

void rcyi_incr_abort(rcy_runtime_t *rt)
{
    rcyi_incr_t *in = rt->incr;
    if (in == NULL)
        return;
    if (in->yp != NULL)
        abort_one(rt, in->yp);
    abort_one(rt, in);
}

static size_t held_one(const rcyi_incr_t *in)
{
    size_t n = rcyi_list_size(&in->mature);
    if (in->phase == IDLE)
        return n;
    n += rcyi_list_size(&in->pending) + rcyi_list_size(&in->scanned);
    for (size_t i = p_first(in); i < p_end(in); i++)
        n += p_get(in, i) != NULL;
    return n;
}

size_t rcyi_incr_held(const rcy_runtime_t *rt)
{
    const rcyi_incr_t *in = rt->incr;
    if (in == NULL)
        return 0;
    return held_one(in) + (in->yp != NULL ? held_one(in->yp) : 0);
}

static size_t scratch_one(const rcyi_incr_t *in)
{
    if (in->phase == IDLE)
        return 0;
    return in->cap * p_elem(in) + in->reach_bytes + in->late_cap * sizeof(uint32_t) + in->groups_bytes;
}

size_t rcyi_incr_scratch_bytes(const rcy_runtime_t *rt)
{
    const rcyi_incr_t *in = rt->incr;
    if (in == NULL)
        return 0;
    return scratch_one(in) + (in->yp != NULL ? scratch_one(in->yp) : 0);
}

void rcyi_incr_forget(rcy_gc_head_t *g)
{
    rcy_runtime_t *rt = rcyi_from_gc(g)->type->rt;
    rcyi_incr_t *in = rt->incr;
    if (in != NULL && (g->next & RCYI_NEXT_INCR_YOUNG) != 0)
        in = in->yp;
    size_t i = p_index(g);
    if (RCY_UNLIKELY(in == NULL || i < p_first(in) || i >= p_end(in) || p_get(in, i) != rcyi_from_gc(g)))
        rcyi_fatal(rcyi_from_gc(g), "an object of the incremental pass is not where its header says");
    p_clear(in, i);
    if (in->phase == SCAN && i < in->len && !reached_get(in, i) && in->zeros > 0)
        in->zeros--; /* one fewer to reach */
    else if (in->phase < SCAN)
        in->freed++;
    g->next = 0;
    g->prev &= RCYI_PREV_FINALIZED;
}

/* ---- Traversal ---------------------------------------------------------- */

static const char INCR_WALK[] = "the collector";

#define SUB_RING 16 /* SNAPSHOT's and FIXUP's visits in flight (a power of two), as gc.c's SCAN_RING */

typedef struct visit_s {
    rcy_runtime_t *rt;
    rcyi_incr_t *in;
    uint64_t edges;
    size_t from;  /* the P index (GROUP: the S index) of the object traversed */
    size_t ahead; /* SCAN: the slots of P below this one are ahead of the cursor */
    unsigned ring_pos;
    rcy_object_t *ring[SUB_RING]; /* SNAPSHOT, FIXUP: children whose decrement is due later */
    size_t ring_from[SUB_RING];   /* ... and the P index of the object that referenced each */
} visit_t;

static void visit_init(visit_t *v, rcy_runtime_t *rt, rcyi_incr_t *in)
{
    memset(v, 0, sizeof *v);
    v->rt = rt;
    v->in = in;
}

/* An object reached through a traverse is alive; one of P is of this
   runtime (a foreign object's header could look tagged). */
static inline void child_alive(const rcy_object_t *child)
{
    if (RCY_UNLIKELY(child->refcnt <= 0))
        rcyi_fatal(child, rcyi_is_freed(child) ? "traverse reports a freed object (a missing incref)"
                                                : "traverse reports an object whose reference count is <= 0");
}
static inline void child_ours(const rcy_object_t *child, const visit_t *v)
{
    if (RCY_UNLIKELY(!rcyi_same_runtime(child, v->rt)))
        rcyi_fatal_because(child, "a traverse reports this object of another runtime",
                           "objects never move between runtimes: a user type stored it in an object of the "
                           "collecting runtime");
}

/* A P object reached through a traverse (NULL: the child is not in P). */
static inline rcy_gc_head_t *p_child(rcy_object_t *child, visit_t *v)
{
    child_alive(child);
    if (!rcyi_is_gc(child))
        return NULL;
    rcy_gc_head_t *g = rcyi_as_gc(child);
    if (!in_p(v->in, g))
        return NULL;
    child_ours(child, v);
    return g;
}

/* o's references, visited (rcyi_ref_table: the references of lists,
   tuples and dicts are visited here, the visit inlined, as in gc.c). */
static RCYI_ALWAYS_INLINE void traverse(rcy_object_t *o, rcy_visit_fn visit, void *v)
{
    intptr_t n;
    rcy_object_t **items;
    unsigned stride, skip;
    if (!rcyi_ref_table(o, &items, &n, &stride, &skip)) {
        o->type->traverse(o, visit, v);
        return;
    }
    if (n == 0)
        return; /* an empty dict may have no table */
    if (stride == 1) {
        for (intptr_t i = 0; i < n; i++)
            if (items[i] != NULL)
                visit(items[i], NULL, i, v);
        return;
    }
    (void)skip; /* a table's entries end with their two references (internal.h) */
    for (rcy_object_t **e = items + stride - 2, **end = e + (size_t)n * stride; e != end; e += stride) {
        if (e[0] != NULL)
            visit(e[0], NULL, -1, v);
        if (e[1] != NULL)
            visit(e[1], NULL, -1, v);
    }
}

static RCYI_NOINLINE void late_push(rcy_runtime_t *rt, rcyi_incr_t *in, size_t from);

/* The reference of P object `from` to child, as SNAPSHOT counts it: the
   child's hint goes down if the child was snapshotted no later than
   `from` (its hint was set before this reference is counted); a child
   snapshotted later, or still pending, or anywhere else but untracked,
   makes `from` late (FIXUP visits it again once every object is in P).
   FIXUP (`fixing`, a constant where it is inlined) counts exactly the
   references SNAPSHOT left: to the children snapshotted after `from`. */
static RCYI_ALWAYS_INLINE void subtract_one(rcy_object_t *child, size_t from, visit_t *v, bool fixing)
{
    child_alive(child);
    if (!rcyi_is_gc(child))
        return;
    rcy_gc_head_t *g = rcyi_as_gc(child);
    if (in_p(v->in, g)) {
        child_ours(child, v);
        bool later = p_index(g) > from;
        if (later == fixing) {
            hint_lower(g);
            return;
        }
        if (fixing)
            return; /* counted by SNAPSHOT */
    } else if (fixing || g->next == 0) {
        return; /* (FIXUP) not in the pass, or untracked */
    }
    rcyi_incr_t *in = v->in;
    if (in->nlate == 0 || in->late[in->nlate - 1] != from)
        late_push(v->rt, in, from);
}

/* A decrement is carried out SUB_RING visits later, the child's header
   asked for now (gc.c's visit_decref_full): several cache misses in
   flight instead of one. Decrements commute; the ring is emptied before
   the step ends (subtract_flush), so no child is held across the
   program. Returns the child due now (NULL: none) and its referrer. */
static RCYI_ALWAYS_INLINE rcy_object_t *ring_push(visit_t *v, rcy_object_t *child, size_t *due_from)
{
    v->edges++;
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(rcyi_as_gc(child), 1, 3);
    __builtin_prefetch((const char *)child + sizeof(rcy_object_t) - 1, 0, 3);
#endif
    unsigned k = v->ring_pos;
    rcy_object_t *due = v->ring[k];
    *due_from = v->ring_from[k];
    v->ring[k] = child;
    v->ring_from[k] = v->from;
    v->ring_pos = (k + 1) & (SUB_RING - 1);
    return due;
}

static RCYI_ALWAYS_INLINE int visit_counting(rcy_object_t *child, void *arg, bool fixing)
{
    size_t from;
    rcy_object_t *due = ring_push(arg, child, &from);
    if (due != NULL)
        subtract_one(due, from, arg, fixing);
    return 0;
}

/* SNAPSHOT's visit and FIXUP's. */
static int visit_subtract(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    return visit_counting(child, arg, false);
}
static int visit_late(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    return visit_counting(child, arg, true);
}

static void subtract_flush(visit_t *v, bool fixing)
{
    for (unsigned k = 0; k < SUB_RING; k++) {
        unsigned j = (v->ring_pos + k) & (SUB_RING - 1);
        if (v->ring[j] != NULL) {
            rcy_object_t *due = v->ring[j];
            v->ring[j] = NULL;
            subtract_one(due, v->ring_from[j], v, fixing);
        }
    }
}

/* SCAN's order is the old generation's list order, P's the reverse
   (SNAPSHOT takes the list from its end): the scan's position q is P's
   slot len - 1 - q, and the objects it meets again after the end, P[len,
   end), are at their own slot (q_slot is its own inverse). */
static inline size_t q_slot(size_t len, size_t q) { return q < len ? len - 1 - q : q; }

/* An object the scan passed before it was reached (a reference back in
   the scan's order, rare in the last scan's order) goes to the end of the
   scan (move_unreachable's move back to young): P[end]. Short of memory,
   it stays where it is, in S, whose collection is exact. */
static void scan_again(rcy_runtime_t *rt, rcyi_incr_t *in, rcy_gc_head_t *g, size_t i)
{
    if (in->end == in->cap) {
        /* (start_pass left room for these: growing P copies it, 4 ms at
           1e7 objects, more than a step may take.) */
        size_t bytes, cap = in->cap + in->cap / 8 + 1024;
        void *objs = rcyi_size_mul(cap, p_elem(in), &bytes) ? incr_realloc(rt, in->objs, cap, p_elem(in)) : NULL;
        if (objs == NULL)
            return;
        in->objs = objs;
        in->cap = cap;
    }
    if (RCY_LIKELY(!in->wide))
        ((uint32_t *)in->objs)[in->end] = ((uint32_t *)in->objs)[i];
    else
        ((rcy_object_t **)in->objs)[in->end] = ((rcy_object_t **)in->objs)[i];
    p_clear(in, i);
    p_set_index(in, g, in->end++);
    in->zeros--;
}

/* A reference from the object scanned, in slot v->from of P: what it
   reaches ahead of the cursor (a slot below v->ahead: the cursor walks P
   down from len, then up from len) is marked reached (a bit, no write to
   the object); what the scan passed goes to its end (P[len, end) is
   reached already). */
static int visit_reach(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    visit_t *v = arg;
    v->edges++;
    rcy_gc_head_t *g = p_child(child, v);
    if (g == NULL)
        return 0;
    rcyi_incr_t *in = v->in;
    size_t i = p_index(g);
    if (i < v->ahead) {
        uint64_t *w = &in->reach[i >> 6], bit = (uint64_t)1 << (i & 63);
        if (!(*w & bit)) {
            *w |= bit;
            in->zeros--;
        }
    } else if (i != v->from && i < in->len && !reached_get(in, i)) {
        scan_again(v->rt, in, g, i);
    }
    return 0;
}

/* Union-find over S, with each set also a ring (ring[j]: the next member),
   so that a set's members are found from any of them. */
static uint32_t find(uint32_t *parent, uint32_t j)
{
    uint32_t r = j;
    while (parent[r] != r)
        r = parent[r];
    while (parent[j] != r) {
        uint32_t next = parent[j];
        parent[j] = r;
        j = next;
    }
    return r;
}

static void unite(rcyi_incr_t *in, size_t a, size_t b)
{
    uint32_t ra = find(in->parent, (uint32_t)a), rb = find(in->parent, (uint32_t)b);
    if (ra == rb)
        return;
    in->parent[rb] = ra;
    uint32_t t = in->ring[ra];
    in->ring[ra] = in->ring[rb];
    in->ring[rb] = t;
}

/* S is P[top, len): a suspect's S index is its slot less top. */
static void unite_child(rcy_object_t *child, visit_t *v)
{
    rcy_gc_head_t *g = p_child(child, v);
    if (g == NULL)
        return;
    size_t i = p_index(g);
    if (i >= v->in->top && i < v->in->len)
        unite(v->in, v->from, i - v->in->top);
}

static int visit_union(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    visit_t *v = arg;
    v->edges++;
    unite_child(child, v);
    return 0;
}

/* ---- The phases --------------------------------------------------------
   Each runs until its budget is spent (rcyi_pacer_exhausted: never when
   finishing synchronously) or its work is done, charging one unit per
   object visited and one per edge traversed, where they happen: counted
   locally over a chunk of at most CHUNK_UNITS units (or the step's budget
   left, if less), charged once a chunk. */

#define CHUNK_UNITS 256

static inline int64_t chunk_budget(const rcyi_incr_t *in)
{
    const rcyi_pacer_t *p = &in->pacer;
    if (p->in_step && p->step_left < CHUNK_UNITS)
        return p->step_left > 0 ? p->step_left : 1;
    return CHUNK_UNITS;
}

/* Gives P room for cap entries, wide ones if `wide` (converting the
   narrow entries in place, from the end: an 8-byte entry i covers narrow
   entries 2i and 2i + 1, already converted). False (the pass given up)
   when memory is short. */
static bool p_grow(rcy_runtime_t *rt, rcyi_incr_t *in, size_t cap, bool wide)
{
    size_t bytes;
    size_t elem = wide ? sizeof(rcy_object_t *) : sizeof(uint32_t);
    void *objs = rcyi_size_mul(cap, elem, &bytes) ? incr_realloc(rt, in->objs, cap, elem) : NULL;
    if (objs == NULL) {
        in->st.out_of_memory++;
        abort_one(rt, in);
        return false;
    }
    in->objs = objs;
    in->cap = cap;
    if (wide && !in->wide) {
        for (size_t i = in->len; i-- > 0;) {
            uint32_t e = ((uint32_t *)objs)[i];
            ((rcy_object_t **)objs)[i] = e == 0 ? NULL : (rcy_object_t *)(in->base + ((uintptr_t)e << 4));
        }
        in->wide = true;
        in->st.wide_passes++;
    }
    return true;
}

/* Records that P object `from` is late (FIXUP visits it). The list is at
   most LATE_DEN-th of P's capacity: beyond (or short of memory) FIXUP
   visits every object of P instead. */
#define LATE_DEN 16
static RCYI_NOINLINE void late_push(rcy_runtime_t *rt, rcyi_incr_t *in, size_t from)
{
    if (in->late_all)
        return;
    if (in->nlate == in->late_cap) {
        size_t cap = in->late_cap ? 2 * in->late_cap : 1024;
        void *late = cap <= in->cap / LATE_DEN + 1024 && from <= UINT32_MAX
                         ? incr_realloc(rt, in->late, cap, sizeof(uint32_t))
                         : NULL;
        if (late == NULL) {
            in->late_all = true;
            return;
        }
        in->late = late;
        in->late_cap = cap;
    }
    in->late[in->nlate++] = (uint32_t)from;
}

/* Takes the old generation's objects into P from the end of its list
   (pending) and counts their references at once (update_refs and
   subtract_refs in one walk, as a full collection's
   update_and_subtract_refs): an object's hint is its reference count, less
   the references of the objects taken after it; the references an object
   makes to objects taken after it are counted by FIXUP. The list's order
   is mostly the last pass's scan order (or allocation order), in which a
   referenced object mostly comes after what refers to it: taken from the
   end, it is mostly in P already, and FIXUP has little to do. */
static void phase_snapshot(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    visit_t v;
    visit_init(&v, rt, in);
    rt->walk = INCR_WALK;
    while (!rcyi_list_is_empty(&in->pending) && !step_over(in)) {
        if (in->len == in->cap && !p_grow(rt, in, in->cap + in->cap / 4 + 1024, in->wide)) /* rarely */
            goto given_up;
        rcy_gc_head_t *g = rcyi_gc_prev(&in->pending);
        if (in->len == 0 && !in->wide) /* P's base: 32 GB below the first object */
            in->base = (uintptr_t)g > ((uintptr_t)1 << 35) ? (uintptr_t)g - ((uintptr_t)1 << 35) : 0;
        if (!in->wide && !p_fits(in, rcyi_from_gc(g)) && !p_grow(rt, in, in->cap, true))
            goto given_up; /* (g still on pending) */
        /* A chunk of objects: at most the chunk's work and P's room; it
           stops before an object that would make P wide (the next round
           widens it). */
        int64_t budget = chunk_budget(in), work = 0;
        size_t room = in->cap - in->len;
        while (work < budget && room > 0 && g != &in->pending) {
            rcy_object_t *o = rcyi_from_gc(g);
            if (RCY_UNLIKELY(!in->wide && !p_fits(in, o)))
                break;
#if defined(__GNUC__) || defined(__clang__)
            /* The list is mostly in allocation order: what the walk
               reaches next is a little behind in memory (gc.c's
               update_refs, walking backward). */
            __builtin_prefetch((const char *)g - 2048, 1, 3);
#endif
            rcy_gc_head_t *prev = rcyi_gc_prev(g);
            if (RCY_UNLIKELY(o->refcnt <= 0))
                rcyi_fatal(o, rcyi_is_freed(o) ? "a freed object is still tracked by the collector"
                                               : "a tracked object has a reference count <= 0");
            /* Off pending before its traverse runs. */
            in->pending.prev = (uintptr_t)prev;
            rcyi_gc_set_next(prev, &in->pending);
            if (RCY_LIKELY(!in->wide))
                ((uint32_t *)in->objs)[in->len] = (uint32_t)(((uintptr_t)o - in->base) >> 4);
            else
                ((rcy_object_t **)in->objs)[in->len] = o;
            p_set_index(in, g, in->len);
            hint_set(g, (uintptr_t)o->refcnt);
            v.from = in->len++;
            room--;
            v.edges = 0;
            traverse(o, visit_subtract, &v);
            work += 1 + (int64_t)v.edges;
            g = prev;
        }
        rcyi_pacer_charge(p, (uint64_t)work);
    }
    subtract_flush(&v, false);
    rt->walk = NULL;
    if (rcyi_list_is_empty(&in->pending)) {
        in->snapshot = in->len;
        in->phase = FIXUP;
        in->pos = 0;
    }
    return;
given_up:
    rt->walk = NULL; /* (the ring's children are left: the pass is given up) */
}

/* SCAN's bitmap, zeroed in pieces of ZERO_WORDS words (32 KiB) with the
   clock read after each: its first writes fault its pages in (1.3 MB at
   1e7 objects, 0.9-1.0 ms of the kernel's time here at once, which made
   the step that ended FIXUP a pause of 1.3-2.5 ms). Charged as RELEASE
   charges a page, six units each 4 KiB. Returns whether it is all zero. */
#define ZERO_WORDS 4096
static bool zero_reach(rcyi_incr_t *in)
{
    size_t words = (in->len >> 6) + 1;
    while (in->zeroed < words && !step_over(in)) {
        size_t k = words - in->zeroed < ZERO_WORDS ? words - in->zeroed : ZERO_WORDS;
        memset(in->reach + in->zeroed, 0, k * sizeof(uint64_t));
        in->zeroed += k;
        rcyi_pacer_charge(&in->pacer, 6 * (k * sizeof(uint64_t) / 4096) + 1);
        if (in->deadline != 0.0 && in->zeroed < words && clock_check(in))
            break; /* (a piece costs more than its units say: the clock decides) */
    }
    return in->zeroed == words;
}

/* The late objects' references to objects of P taken after them; then
   SCAN's bitmap. */
static void phase_fixup(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    visit_t v;
    visit_init(&v, rt, in);
    size_t n = in->late_all ? in->len : in->nlate;
    rt->walk = INCR_WALK;
    while (in->pos < n && !step_over(in)) {
        int64_t budget = chunk_budget(in), work = 0;
        while (work < budget && in->pos < n) {
            size_t i = in->late_all ? in->pos : in->late[in->pos];
            in->pos++;
            rcy_object_t *o = p_get(in, i);
            if (o == NULL)
                continue;
            v.from = i;
            v.edges = 0;
            traverse(o, visit_late, &v);
            work += 1 + (int64_t)v.edges;
        }
        rcyi_pacer_charge(p, (uint64_t)work);
    }
    subtract_flush(&v, true);
    rt->walk = NULL;
    if (in->pos < n)
        return;
    if (in->reach == NULL) {
        /* (The late list, up to a sixteenth of P, is not freed here:
           RELEASE gives its pages back in pieces, as P's.) */
        in->nlate = 0;
        in->reach = incr_realloc(rt, NULL, (in->len >> 6) + 1, sizeof(uint64_t));
        if (in->reach == NULL) {
            in->st.out_of_memory++;
            abort_one(rt, in);
            return;
        }
        in->reach_bytes = ((in->len >> 6) + 1) * sizeof(uint64_t);
        in->zeroed = 0;
    }
    if (!zero_reach(in))
        return;
    in->phase = SCAN;
    in->pos = 0;
    in->end = in->top = in->len;
    in->zeros = in->len - in->freed; /* every object of P, none reached yet */
}

/* The arrays of GROUP for a suspected set S larger than P[0, top): 8
   bytes a suspect, allocated when that is at most an eighth of the old
   generation's bytes (P itself is 4 bytes an object) or at most 4 MiB.
   A suspected set that large is mostly garbage (a small heap's passes,
   or the garbage made while a long pass ran): collected as one region,
   it made pauses of 2-3.5 ms at 30,000 suspects and 77 ms at 200,000
   (bigcycle after its drop), where union-find splits it into components
   collected a few hundred objects at a time. A larger S (a dropped
   cycle of most of the heap, one component anyway) is one region, no
   arrays: no memory beyond P. */
#define GROUP_ARRAYS_MIN ((size_t)4 << 20)
static bool group_arrays(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    size_t bytes;
    if (in->m >= UINT32_MAX || !rcyi_size_mul(in->m, 2 * sizeof(uint32_t), &bytes))
        return false;
    size_t bpo = (size_t)in->bytes_per_obj, heap = in->len > SIZE_MAX / bpo ? SIZE_MAX : in->len * bpo;
    if (bytes > GROUP_ARRAYS_MIN && bytes > heap / 8)
        return false;
    in->groups = incr_realloc(rt, NULL, 2 * in->m, sizeof(uint32_t));
    if (in->groups == NULL)
        return false;
    in->groups_bytes = bytes;
    in->groups_pos = 0;
    in->parent = in->groups;
    in->ring = in->groups + in->m;
    return true;
}

/* P in list order (move_unreachable over an array): an object reached (its
   bit set by the object scanned that referred to it) or a root (hint > 0)
   is scanned, what it references marked reached, and it goes back to the
   old generation; what is neither stays in P, suspected. */
static void phase_scan(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    visit_t v;
    visit_init(&v, rt, in);
    rt->walk = INCR_WALK;
    const size_t len = in->len; /* (P's length; the end may grow: scan_again) */
    while (in->pos < in->end && !step_over(in)) {
        int64_t budget = chunk_budget(in), work = 0;
        size_t pos = in->pos; /* (no traverse reads it) */
        while (work < budget && pos < in->end) {
            size_t q = pos++, i = q_slot(len, q);
#if defined(__GNUC__) || defined(__clang__)
            if (q + 16 < len) {
                /* The object 16 places on, asked for early (as gc.c does). */
                rcy_object_t *ahead = p_get(in, i - 16);
                if (ahead != NULL)
                    __builtin_prefetch((const char *)ahead - sizeof(rcy_gc_head_t), 1, 3);
            }
#endif
            rcy_object_t *o = p_get(in, i);
            if (o == NULL)
                continue;
            if (i < len && !reached_get(in, i)) {
                work++;
                if (hint_get(rcyi_as_gc(o)) == 0) {
                    /* Not reached yet: suspected, unless reached later;
                       packed at the end of P, behind the cursor (the
                       slots between are empty), so that S is P[top, len)
                       once the scan is done. */
                    size_t t = --in->top;
                    if (t != i) {
                        if (RCY_LIKELY(!in->wide))
                            ((uint32_t *)in->objs)[t] = ((uint32_t *)in->objs)[i];
                        else
                            ((rcy_object_t **)in->objs)[t] = o;
                        p_clear(in, i);
                        p_set_index(in, rcyi_as_gc(o), t);
                        in->reach[t >> 6] &= ~((uint64_t)1 << (t & 63)); /* (the bit of what was there) */
                    }
                    continue;
                }
                in->zeros--; /* a root */
            }
            v.edges = 0;
            v.from = i;
            v.ahead = i < len ? i : 0;
            /* Once every object of P is reached, what the rest references
               is reached already: no traverse, only the return (compat
               mode's move_unreachable stops traversing so). */
            if (in->zeros > 0)
                traverse(o, visit_reach, &v);
            p_clear(in, i);
            /* On a list of their own until the pass ends, not between the
               promotions: the next pass's P is then in this scan's order,
               where what an object refers to mostly comes after it. */
            relink(rcyi_as_gc(o), &in->scanned);
            in->returned++;
            work += 1 + (int64_t)v.edges;
        }
        in->pos = pos;
        rcyi_pacer_charge(p, (uint64_t)work);
    }
    rt->walk = NULL;
    if (in->pos == in->end) {
        /* (The bitmap, 1.3 MB at 1e7, is not freed here: RELEASE gives
           its pages back in pieces, as P's.) */
        in->m = in->len - in->top;
        in->suspects = 0; /* counted by GROUP_CLEAR */
        in->phase = GROUP_CLEAR;
        in->pos = 0;
        /* GROUP's two arrays of 4-byte indices take one slot of P per
           suspect, in P[0, top), which the scan has emptied. Where S is
           larger than that (more than half of the old generation
           suspected) they get an array of their own if it is affordable
           (group_arrays); else S is collected as one region: a pause
           like compat mode's full collection, but no memory beyond P. */
        in->one = false;
        if (in->m * 2 * sizeof(uint32_t) <= in->top * p_elem(in) && in->m < UINT32_MAX) {
            in->parent = (uint32_t *)(void *)in->objs;
            /* (An empty pass may have no P at all: no offset to NULL.) */
            in->ring = in->m > 0 ? in->parent + in->m : in->parent;
        } else if (!group_arrays(rt, in)) {
            in->one = true;
            in->phase = COLLECT;
        }
    }
}

static void phase_group_clear(rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    while (in->pos < in->m && !step_over(in)) {
        size_t end = in->pos + 512 < in->m ? in->pos + 512 : in->m;
        for (size_t j = in->pos; j < end; j++) {
            in->parent[j] = in->ring[j] = (uint32_t)j;
            in->suspects += p_get(in, in->top + j) != NULL; /* for the report */
        }
        rcyi_pacer_charge(p, (end - in->pos) / 8 + 1);
        in->pos = end;
    }
    if (in->pos == in->m) {
        in->phase = GROUP;
        in->pos = 0;
    }
}

static void phase_group(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    visit_t v;
    visit_init(&v, rt, in);
    rt->walk = INCR_WALK;
    while (in->pos < in->m && !step_over(in)) {
        size_t j = in->pos++;
        rcy_object_t *o = p_get(in, in->top + j);
        if (o == NULL)
            continue;
        v.edges = 0;
        v.from = j;
        traverse(o, visit_union, &v);
        /* A weak reference and its referent in one component: a
           collection that finds both garbage runs no callback, as a full
           collection would not. */
        if (o->type == rt->weakref_type) {
            rcy_object_t *r = rcyi_weakref_referent(o);
            /* (A referent whose death the trashcan holds has count 0 and
               is untracked.) */
            if (r != NULL && r->refcnt > 0)
                unite_child(r, &v);
        }
        rcyi_pacer_charge(p, 1 + v.edges);
    }
    rt->walk = NULL;
    if (in->pos == in->m) {
        in->phase = COLLECT;
        in->pos = 0;
    }
}

/* RELEASE: P's memory, SNAPSHOT's late list, SCAN's bitmap, and GROUP's own arrays if it had them, given back
   to the system in pieces, between clock checks, before they are freed:
   freeing 4 bytes per old object at once (40 MB at 1e7 objects) costs
   about 1 ms of the kernel's time (its pages freed one by one), more than
   a step may take, and GROUP's 3 MB for the 400,000 suspects of a recent
   pass of the pauses workload 330-360 us (a step 250-360 us past its
   deadline, the pause 1.1-1.2 ms). The whole pages inside each block are
   dropped RELEASE_CHUNK bytes at a time (madvise MADV_DONTNEED: they read
   as zeros from then on, which neither needs: P's objects are all gone,
   the components collected), the clock read after each piece: a piece of
   256 KiB took 100-360 us of the kernel's time with the other core busy
   (load 4-5), 64 KiB a quarter of that; the blocks' free (at the pass's
   end) is then cheap. Elsewhere than Linux, they are freed at once. */
#define RELEASE_CHUNK ((size_t)1 << 16)

static void release_begin(rcyi_incr_t *in)
{
    in->parent = in->ring = NULL; /* (groups, if any, is freed with P: free_arrays) */
    in->phase = RELEASE;
    in->len = 0; /* nothing of P holds an object any more */
    in->pos = 0;
    in->groups_pos = in->reach_pos = in->late_pos = 0;
}

/* Drops the whole pages inside [block, block + bytes) from *pos (bytes
   into them) on, charging 6 units a 4 KiB page of the block in
   proportion to the bytes dropped (about what the kernel's work costs:
   16 ns a unit here, some 100 ns a page), so that the total depends on
   the block's size alone, not on where it lies nor on where steps
   stopped. Returns whether all are dropped; *pos is then SIZE_MAX, so
   that a step that comes back to it (the next block's pages not all
   dropped yet) charges nothing again. */
static bool release_pages(rcyi_incr_t *in, const void *block, size_t bytes, size_t *pos)
{
    if (*pos == SIZE_MAX)
        return true;
    uint64_t total = (uint64_t)bytes / 4096 * 6 + 1;
#if defined(__linux__) && defined(MADV_DONTNEED)
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    uintptr_t lo = ((uintptr_t)block + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)block + bytes) & ~(uintptr_t)(page - 1);
    size_t size = hi > lo ? (size_t)(hi - lo) : 0;
    while (*pos < size && !step_over(in)) {
        size_t n = size - *pos < RELEASE_CHUNK ? size - *pos : RELEASE_CHUNK;
        (void)madvise((void *)(lo + *pos), n, MADV_DONTNEED);
        uint64_t before = total * *pos / size;
        *pos += n;
        rcyi_pacer_charge(&in->pacer, total * *pos / size - before);
        if (in->deadline != 0.0 && *pos < size && clock_check(in))
            break; /* (the kernel's time varies more than the units say: the clock decides) */
    }
    if (*pos < size)
        return false;
    if (size == 0)
        rcyi_pacer_charge(&in->pacer, total);
#else
    (void)block;
    rcyi_pacer_charge(&in->pacer, total);
#endif
    *pos = SIZE_MAX;
    return true;
}

static void phase_release(rcyi_incr_t *in)
{
    if (in->late != NULL && !release_pages(in, in->late, in->late_cap * sizeof(uint32_t), &in->late_pos))
        return;
    if (in->reach != NULL && !release_pages(in, in->reach, in->reach_bytes, &in->reach_pos))
        return;
    if (!release_pages(in, in->objs, in->cap * p_elem(in), &in->pos))
        return;
    if (in->groups != NULL && !release_pages(in, in->groups, in->groups_bytes, &in->groups_pos))
        return;
    in->phase = DONE;
}

/* A region's counts, in the pass's report and at once in the oldest
   generation's stats: a pass given up after some of its regions (by an
   explicit full collection, a heap walk, a finalizer that walks) has
   freed what it freed, and the stats count every object the collector
   freed (test_threads: the generations' collected add up to the garbage
   made); only a completed pass counts as a collection. rt->incr may have
   been given up during the region (in->phase is IDLE): the report is
   then not made. */
static void count_region(rcy_runtime_t *rt, rcyi_incr_t *in, const rcyi_region_result_t *res)
{
    in->collected += res->collected;
    in->uncollectable += res->uncollectable;
    in->candidates += res->candidates;
    in->survivors += (size_t)(res->candidates - res->unreachable);
    rcy_gc_stats_t *st = &rt->stats[in->young ? 1 : RCY_NUM_GENERATIONS - 1];
    st->collected += res->collected;
    st->uncollectable += res->uncollectable;
    st->candidates += res->candidates;
}

/* COLLECT when S is one region (in->one): S is gathered into the region
   and its trial deletion begun in the same walk, update_refs and
   subtract_refs fused as in a full collection (update_and_subtract_refs):
   a member is initialised (COLLECTING, gc_refs = its reference count)
   when the walk first meets it, as a child or at its slot, and a child is
   a member if it is initialised already or still in P (every object left
   in P is in S then: SCAN returned the others). Walked in P's order with
   the objects ahead asked for early, instead of three walks along the
   list (the gather, update_refs, subtract_refs), of which the list's are
   a chain of dependent loads: for bigcycle's dropped 10M cycle 0.25-0.27
   s for the three, 0.11-0.18 s as one walk (a pause of the program). The
   list is linked forward only, in the order the gather made before
   (P[top] to P[len - 1]), and rcyi_gc_collect_region_counted goes on
   from move_unreachable: the outcome is the same. */
typedef struct one_visit_s {
    rcy_runtime_t *rt;
    const rcyi_incr_t *in;
    intptr_t candidates; /* members initialised */
    intptr_t zeros;      /* ... whose gc_refs fell to 0 */
    unsigned ring_pos;
    rcy_object_t *ring[SUB_RING]; /* children whose visit is due SUB_RING visits later */
} one_visit_t;

static inline void one_init(rcy_gc_head_t *g, const rcy_object_t *o, one_visit_t *v)
{
    if (RCY_UNLIKELY(o->refcnt <= 0))
        rcyi_fatal(o, rcyi_is_freed(o) ? "a freed object is still tracked by the collector"
                                       : "a tracked object has a reference count <= 0");
    g->prev = (g->prev & RCYI_PREV_FINALIZED) | RCYI_PREV_COLLECTING | ((uintptr_t)o->refcnt << RCYI_PREV_SHIFT);
    v->candidates++;
}

static RCYI_ALWAYS_INLINE void one_decref(rcy_object_t *child, one_visit_t *v)
{
    child_alive(child);
    if (!rcyi_is_gc(child))
        return;
    rcy_gc_head_t *g = rcyi_as_gc(child);
    if (!(g->prev & RCYI_PREV_COLLECTING)) {
        if (!in_p(v->in, g))
            return; /* outside the region (untracked included) */
        if (RCY_UNLIKELY(!rcyi_same_runtime(child, v->rt)))
            rcyi_fatal_because(child, "a traverse reports this object of another runtime",
                               "objects never move between runtimes: a user type stored it in an object of the "
                               "collecting runtime");
        one_init(g, child, v);
    }
    if (RCY_UNLIKELY((g->prev >> RCYI_PREV_SHIFT) == 0))
        rcyi_fatal(child, "traverse reports more references to this object than its reference count "
                          "(refcount is too small: a missing incref)");
    g->prev -= (uintptr_t)1 << RCYI_PREV_SHIFT;
    if ((g->prev >> RCYI_PREV_SHIFT) == 0)
        v->zeros++;
}

static int visit_one(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    (void)label;
    (void)index;
    one_visit_t *v = arg;
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(rcyi_as_gc(child), 1, 3);
    __builtin_prefetch((const char *)child + sizeof(rcy_object_t) - 1, 0, 3);
#endif
    unsigned k = v->ring_pos;
    rcy_object_t *due = v->ring[k];
    v->ring[k] = child;
    v->ring_pos = (k + 1) & (SUB_RING - 1);
    if (due != NULL)
        one_decref(due, v);
    return 0;
}

#define ONE_AHEAD 16 /* the objects asked for this many slots ahead (as SCAN) */
static void collect_one(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcy_gc_head_t region;
    rcyi_list_init(&region);
    rcy_gc_head_t *last = &region;
    one_visit_t v;
    memset(&v, 0, sizeof v);
    v.rt = rt;
    v.in = in;
    size_t gathered = 0;
    rt->walk = INCR_WALK;
    for (size_t j = in->top; j < in->len; j++) {
#if defined(__GNUC__) || defined(__clang__)
        if (j + ONE_AHEAD < in->len) {
            rcy_object_t *ahead = p_get(in, j + ONE_AHEAD);
            if (ahead != NULL) {
                __builtin_prefetch((const char *)ahead - sizeof(rcy_gc_head_t), 1, 3);
                __builtin_prefetch((const char *)ahead + sizeof(rcy_object_t) - 1, 0, 3);
            }
        }
#endif
        rcy_object_t *o = p_get(in, j);
        if (o == NULL)
            continue;
        p_clear(in, j);
        rcy_gc_head_t *g = rcyi_as_gc(o);
        if (!(g->prev & RCYI_PREV_COLLECTING))
            one_init(g, o, &v);
        last->next = (uintptr_t)g;
        g->next = (uintptr_t)&region;
        last = g;
        gathered++;
        traverse(o, visit_one, &v);
    }
    for (unsigned k = 0; k < SUB_RING; k++) {
        rcy_object_t *due = v.ring[(v.ring_pos + k) & (SUB_RING - 1)];
        if (due != NULL)
            one_decref(due, &v);
    }
    region.prev = (uintptr_t)last;
    rt->walk = NULL;
    in->pos = in->m;
    in->suspects = in->largest_group = gathered;
    rcyi_pacer_charge(&in->pacer, 12 * (uint64_t)gathered);
    if (gathered > 0) {
        rcyi_region_result_t res;
        rcyi_gc_collect_region_counted(rt, &region, &rt->gens[RCY_NUM_GENERATIONS - 1].head, v.candidates,
                                       v.zeros, &res);
        count_region(rt, in, &res);
    }
}

/* Gathers whole components into a region until the budget is spent or
   the region holds REGION_MAX objects, and collects the region (the run
   loop then checks the step's time before the next one). Finalizers and callbacks run there: they may free
   P objects (their slots clear), and may give the pass up (a heap walk
   from a finalizer), which the caller sees in the phase. */
static void phase_collect(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    rcyi_pacer_t *p = &in->pacer;
    rcy_gc_head_t region;
    rcyi_list_init(&region);
    size_t gathered = 0;
    if (in->one) {
        collect_one(rt, in);
        if (in->phase == COLLECT)
            release_begin(in); /* then the caller completes the pass */
        return;
    }
    while (in->pos < in->m && gathered < REGION_MAX && !step_over(in)) {
        size_t j = in->pos++;
        if (p_get(in, in->top + j) == NULL)
            continue;
        size_t k = j, n = 0;
        do {
            rcy_object_t *o = p_get(in, in->top + k);
            if (o != NULL) {
                p_clear(in, in->top + k);
                relink(rcyi_as_gc(o), &region);
                n++;
            }
            k = in->ring[k];
        } while (k != j);
        if (n > in->largest_group)
            in->largest_group = n;
        gathered += n;
        /* The region's collection visits each object about three times
           (update, subtract, move) and clears and frees what is garbage
           (counted as 9 more): charged now, so that the step stops
           gathering once its budget is spent. */
        rcyi_pacer_charge(p, 12 * (uint64_t)n);
    }
    if (gathered > 0) {
        rcyi_region_result_t res;
        rcyi_gc_collect_region(rt, &region, &rt->gens[RCY_NUM_GENERATIONS - 1].head, &res);
        count_region(rt, in, &res);
    }
    if (in->phase == COLLECT && in->pos == in->m)
        release_begin(in); /* then the caller completes the pass */
}

/* ---- Passes ------------------------------------------------------------ */

/* The young generations' size, in objects: the slack of the backstop. */
static uint64_t young_max(const rcy_runtime_t *rt)
{
    int64_t t0 = rt->gens[0].threshold > 0 ? rt->gens[0].threshold : 0;
    int64_t t1 = rt->gens[1].threshold > 0 ? rt->gens[1].threshold : 0;
    return (uint64_t)t0 * (uint64_t)(t1 + 1) + 64;
}

/* What the schedule decides from (pacing.h), now. */
static rcyi_sched_t sched_now(const rcy_runtime_t *rt, const rcyi_incr_t *in)
{
    const rcyi_generation_t *g2 = &rt->gens[RCY_NUM_GENERATIONS - 1];
    rcyi_sched_t s;
    s.count = g2->count;
    s.threshold = g2->threshold;
    s.pending = rt->long_lived_pending > 0 ? (uint64_t)rt->long_lived_pending : 0;
    s.total = rt->long_lived_total > 0 ? (uint64_t)rt->long_lived_total : 0;
    s.live_last = in->live_last;
    s.grown = in->rebase ? 0 : in->grown;
    s.slack = young_max(rt);
    s.ticks = in->grown_ticks;
    s.gen1_every = rt->gens[1].threshold > 0 ? (uint64_t)rt->gens[1].threshold + 1 : 1;
    /* A pass's expected length: the last one's, or its work (the last
       pass's work per object over the old generation) at the last pass's
       work per young collection. */
    uint64_t work = ((s.total + s.pending) * in->work_per_obj_fp >> 8) + 1;
    uint64_t per = in->units_per_tick < (uint64_t)in->step_work ? in->units_per_tick : (uint64_t)in->step_work;
    uint64_t est = work / (per > 0 ? per : 1) + 1;
    s.pass_ticks = in->pass_ticks > est ? in->pass_ticks : est;
    s.ext_now = rt->ext_bytes;
    s.ext_per_promotion_fp = in->ext_per_promotion_fp;
    s.bytes_per_obj = in->bytes_per_obj;
    s.ext_floor = in->ext_floor;
    s.ext_full = in->ext_full;
    s.ext_settled = in->ext_settled;
    s.floor_ticks = in->ticks - in->ticks_floor;
    uint64_t rwork = (in->recent_bound * in->work_per_obj_fp >> 8) + 1;
    s.recent_ticks = in->recent_ticks > 0 ? in->recent_ticks : rwork / (per > 0 ? per : 1) + 1;
    s.recent_in_row = in->recent_in_row;
    return s;
}

static void start_pass(rcy_runtime_t *rt, rcyi_incr_t *in, bool recent)
{
    rcy_gc_head_t *old = &rt->gens[RCY_NUM_GENERATIONS - 1].head;
    /* A recent pass takes the old generation's list alone (what was
       promoted since the last pass began); a full one `mature` first. With
       nothing mature (no pass or full collection yet, or after a pass
       given up), a recent pass would be a full one: it is. */
    in->recent = recent && !rcyi_list_is_empty(&in->mature);
    if (!in->recent)
        rcyi_list_merge(&in->mature, &in->pending);
    rcyi_list_merge(old, &in->pending);
    in->phase = SNAPSHOT;
    in->pos = in->len = in->end = in->top = in->m = in->freed = 0;
    in->t_start = now_seconds();
    in->in_steps = 0.0;
    in->steps = in->collected = in->uncollectable = in->candidates = 0;
    in->snapshot = in->returned = in->survivors = in->suspects = in->largest_group = 0;
    in->pending_at_start = rt->long_lived_pending;
    in->ticks_at_start = in->ticks;
    in->sync = false;
    in->starved = 0;
    /* P at the size the old generation should have (its survivors and the
       promotions since: an upper bound but for objects that died), so that
       it is not copied while it grows (peak memory). */
    uint64_t old_size = in->recent ? in->recent_bound : (uint64_t)(rt->long_lived_total + rt->long_lived_pending);
    size_t want = (size_t)old_size + 1024;
    /* And room for what SCAN moves to P's end (scan_again): pages not
       written are not resident, so the room costs no memory unless used. */
    want += want / 16;
    in->wide = false;
    in->base = 0;
    if (want > in->cap) {
        void *objs = incr_realloc(rt, in->objs, want, sizeof(uint32_t));
        if (objs != NULL) {
            in->objs = objs;
            in->cap = want;
        }
    }
    /* k: the pass's expected work over the promotions it may take:
       1/CREDIT_DEN of the live size, a quarter of the window compat
       mode's 25 % rule leaves to the next full collection, and no more
       than the growth the backstop still allows (every object of that
       growth was promoted), halved. Credit so comes faster than the
       steps can spend it wherever they are bounded by the pause target
       (a pass then ends as soon as its steps' time allows, and the young
       collections after it are free of steps); the bank cap and the
       trickle bound it the other way. */
    rcyi_sched_t sc = sched_now(rt, in);
    in->ext_start = rt->ext_bytes;
    in->ext_freed = 0;
    in->window = in->promoted_all - in->promoted_start;
    in->promoted_start = in->promoted_all;
    uint64_t live = in->recent ? in->recent_bound : sc.total + sc.pending;
    uint64_t work = (live * in->work_per_obj_fp >> 8) + 1;
    uint64_t promotions = sc.total / CREDIT_DEN;
    uint64_t room = rcyi_sched_allowed(&sc) > sc.grown ? rcyi_sched_allowed(&sc) - sc.grown : 0;
    if (promotions > room / 2)
        promotions = room / 2;
    rcyi_pacer_begin(&in->pacer, work, promotions + 1);
    size_t bytes = 0, objects = rcyi_live_objects(rt, &bytes);
    in->bytes_per_obj = objects > 0 && bytes / objects >= 16 ? bytes / objects : 64;
    in->pacer.bytes_per_obj = in->bytes_per_obj;
    in->st.passes_started++;
}

/* A completed pass, one collection of `generation`: its stats, its report
   to the callbacks (taken by rcyi_incr_take_completed), the debug line. */
static void record_pass(rcy_runtime_t *rt, rcyi_incr_t *in, int generation, uint64_t work, double now)
{
    rcy_gc_stats_t *st = &rt->stats[generation];
    st->collections++; /* (its counts were added as its regions were collected: count_region) */
    st->duration += in->in_steps;

    in->st.passes++;
    in->st.last_steps = (uint64_t)in->steps;
    in->st.last_work = work;
    in->st.work += work;
    in->st.last_snapshot = in->snapshot;
    in->st.last_suspects = in->suspects;
    in->st.last_largest_component = in->largest_group;
    in->st.last_collected = (uint64_t)in->collected;
    in->st.last_duration = now - in->t_start;
    if (in->largest_group > in->st.largest_component)
        in->st.largest_component = in->largest_group;

    in->done = (rcy_gc_info_t){0};
    in->done.generation = generation;
    in->done.collected = in->collected;
    in->done.uncollectable = in->uncollectable;
    in->done.candidates = in->candidates;
    in->done.duration = in->in_steps;
    in->done.steps = in->steps;
    in->done.pass_duration = now - in->t_start;
    in->completed = true;

    if (rt->debug & RCY_DEBUG_STATS)
        rcyi_printf(rt,
                    "gc: %s pass done, %zd unreachable, %zd uncollectable, %zd steps, %.4fs in steps, "
                    "%.4fs elapsed\n",
                    in->young ? "young" : "incremental", (ptrdiff_t)(in->collected + in->uncollectable),
                    (ptrdiff_t)in->uncollectable, (ptrdiff_t)in->steps, in->in_steps, in->done.pass_duration);
}

static void complete_pass(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    /* What the scan returned, in its order, joins `mature` (is all of it,
       after a full pass); the old generation's list keeps what was
       promoted meanwhile and what the regions left alive: the next recent
       pass's. A recent pass's survivors stay there for the next one too
       (objects promoted shortly before it began may be alive then and die
       soon after) while they are few: at most a sixteenth of the old
       generation's live size, so that a recent pass never examines more
       than that and its garbage. */
    intptr_t kept = (intptr_t)(in->returned + in->survivors);
    bool stay = in->recent && (uint64_t)kept <= in->live_last / 16;
    rcy_gc_head_t *old = &rt->gens[RCY_NUM_GENERATIONS - 1].head;
    if (stay) {
        rcyi_list_merge(old, &in->scanned);
        rcyi_list_merge(&in->scanned, old);
    } else {
        rcyi_list_merge(&in->scanned, &in->mature);
    }
    free_arrays(rt, in);
    double now = now_seconds();
    in->phase = IDLE;
    uint64_t work = in->pacer.pass_work;
    rcyi_pacer_end(&in->pacer);
    /* The pass's length in young collections, and its work per young
       collection (what the next pass's length is estimated from);
       a backstop's synchronous finish says nothing of either. */
    uint64_t ticks = in->ticks - in->ticks_at_start + 1;
    intptr_t promoted = rt->long_lived_pending - in->pending_at_start;
    in->recent_bound = (uint64_t)(promoted > 0 ? promoted : 0) + (stay ? (uint64_t)kept : in->survivors);
    uint64_t floor = in->ext_start > in->ext_freed ? in->ext_start - in->ext_freed : 0;
    in->ext_settled = floor < in->ext_floor ? floor : in->ext_floor;
    in->ext_floor = floor;
    in->ticks_floor = in->ticks_at_start;
    if (in->recent) {
        /* Part of the old generation: compat mode's counters and the
           tracked heap's baseline stay the last full pass's. */
        if (!in->sync)
            in->recent_ticks = ticks;
        if (in->window > 0)
            in->ext_per_promotion_fp = ((uint64_t)in->ext_freed << 8) / in->window;
        /* Compat mode's 25 % rule counts the objects that survived the
           young collections since the last full collection: of those this
           pass examined (its window, and what the last recent pass kept,
           counted then), only the ones it kept still count, as the
           survivors of a generation (CPython's own count). */
        intptr_t before = in->pending_at_start - (intptr_t)in->window - (intptr_t)in->kept_recent;
        rt->long_lived_pending = (before > 0 ? before : 0) + kept + (promoted > 0 ? promoted : 0);
        in->kept_recent = stay ? (uint64_t)kept : 0;
        in->recent_in_row++;
        in->st.recent_passes++;
    } else {
        if (in->snapshot > 0)
            in->work_per_obj_fp = (work << 8) / in->snapshot + 1;
        if (!in->sync) {
            in->pass_ticks = ticks;
            in->units_per_tick = work / ticks + 1;
        }
        in->kept_recent = 0;
        in->recent_in_row = 0;
        /* Counters: one collection of the oldest generation. */
        rt->gens[RCY_NUM_GENERATIONS - 1].count = 0;
        rt->long_lived_total = (intptr_t)(in->returned + in->survivors);
        rt->long_lived_pending = promoted > 0 ? promoted : 0;
        in->live_last = (uint64_t)rt->long_lived_total;
        in->rebase = true; /* at the next generation-1 collection */
        in->grown = in->grown_ticks = 0;
        in->ticks_last = in->ticks;
        in->ext_full = in->ext_settled = in->ext_floor;
    }

    record_pass(rt, in, RCY_NUM_GENERATIONS - 1, work, now);
    if (rt->clear_freelists != NULL)
        rt->clear_freelists(rt);
}

/* ---- The young pass ------------------------------------------------------ */

/* A generation-1 collection begun as a pass (rcyi_incr_after_young, after
   the generation-0 collection that CPython's rule would have made a
   generation-1 one): generation 1, which now holds generation 0's
   survivors too, is taken whole into the pass, and the counters are set
   as that collection sets them. */
static void start_young(rcy_runtime_t *rt, rcyi_incr_t *y)
{
    rcyi_list_merge(&rt->gens[1].head, &y->pending);
    rt->gens[1].count = 0;
    rt->gens[0].count = 0;
    rt->gens[RCY_NUM_GENERATIONS - 1].count += 1;
    y->phase = SNAPSHOT;
    y->pos = y->len = y->end = y->top = y->m = y->freed = 0;
    y->t_start = now_seconds();
    y->in_steps = 0.0;
    y->steps = y->collected = y->uncollectable = y->candidates = 0;
    y->snapshot = y->returned = y->survivors = y->suspects = y->largest_group = 0;
    y->sync = false;
    y->starved = 0;
    y->wide = false;
    y->base = 0;
    /* P at the last young pass's size (SNAPSHOT grows it if need be). */
    size_t want = y->st.last_snapshot + y->st.last_snapshot / 16 + 1024;
    if (want > y->cap) {
        void *objs = incr_realloc(rt, y->objs, want, sizeof(uint32_t));
        if (objs != NULL) {
            y->objs = objs;
            y->cap = want;
        }
    }
    rcyi_pacer_begin(&y->pacer, 1, 1);
    y->st.passes_started++;
}

/* A young pass done: one generation-1 collection. What its scan returned
   is promoted to the old generation's list (as the regions' survivors
   were), counted as that collection counts them. */
static void complete_young(rcy_runtime_t *rt, rcyi_incr_t *y)
{
    rcyi_list_merge(&y->scanned, &rt->gens[RCY_NUM_GENERATIONS - 1].head);
    free_arrays(rt, y);
    double now = now_seconds();
    y->phase = IDLE;
    uint64_t work = y->pacer.pass_work;
    rcyi_pacer_end(&y->pacer);
    intptr_t promoted = (intptr_t)(y->returned + y->survivors);
    rt->long_lived_pending += promoted;
    rcyi_incr_t *in = rt->incr;
    in->yp_promoted += (uint64_t)promoted;
    in->yp_census = true;

    if (y->sync)
        y->st.backstops++; /* (finished at once: the next was due) */
    record_pass(rt, y, 1, work, now);
}

static void run(rcy_runtime_t *rt, rcyi_incr_t *in);

/* Finishes the young pass in progress now (the next generation-1
   collection is due, or an explicit collection of generation 1 or 2). */
static void finish_young(rcy_runtime_t *rt, rcyi_incr_t *y)
{
    if (y == NULL || y->phase == IDLE)
        return;
    y->sync = true;
    y->deadline = 0.0;
    run(rt, y);
}

bool rcyi_incr_young_ready(rcy_runtime_t *rt)
{
    if (rt->gc_mode != RCY_GC_INCREMENTAL || rt->tearing_down || !rt->incr_young)
        return false;
    rcyi_incr_t *in = state(rt);
    return in != NULL && in->yp != NULL;
}

void rcyi_incr_abort_young(rcy_runtime_t *rt)
{
    rcyi_incr_t *in = rt->incr;
    if (in != NULL && in->yp != NULL)
        abort_one(rt, in->yp);
}

/* Runs phases until the budget is spent (or, when finishing synchronously,
   until the pass is done or given up). */
static void run(rcy_runtime_t *rt, rcyi_incr_t *in)
{
    double t0 = now_seconds();
    size_t ext0 = rt->ext_bytes; /* what the steps release is what the pass freed */
    while (in->phase != IDLE && !step_over(in)) {
        switch (in->phase) {
        case SNAPSHOT: phase_snapshot(rt, in); break;
        case FIXUP: phase_fixup(rt, in); break;
        case SCAN: phase_scan(rt, in); break;
        case GROUP_CLEAR: phase_group_clear(in); break;
        case GROUP: phase_group(rt, in); break;
        case COLLECT: phase_collect(rt, in); break;
        case RELEASE: phase_release(in); break;
        default: break;
        }
        if (in->phase == DONE) {
            double d = now_seconds() - t0;
            if (d > in->st.max_step_seconds && !in->sync)
                in->st.max_step_seconds = d;
            in->in_steps += d;
            in->steps++;
            in->st.steps++;
            if (ext0 > rt->ext_bytes)
                in->ext_freed += ext0 - rt->ext_bytes;
            if (in->young)
                complete_young(rt, in);
            else
                complete_pass(rt, in);
            return;
        }
    }
    if (in->phase != IDLE) {
        double d = now_seconds() - t0;
        if (ext0 > rt->ext_bytes)
            in->ext_freed += ext0 - rt->ext_bytes;
        in->in_steps += d;
        in->steps++;
        in->st.steps++;
        if (d > in->st.max_step_seconds)
            in->st.max_step_seconds = d;
    }
}

/* Starts a pass if the schedule says one is due now (*sc: the schedule it
   read); false if none is. */
static bool start_if_due(rcy_runtime_t *rt, rcyi_incr_t *in, rcyi_sched_t *sc)
{
    *sc = sched_now(rt, in);
    int why = rcyi_sched_start(sc);
    if (why == RCYI_START_NO)
        return false;
    if (why == RCYI_START_GROWTH)
        in->st.early_starts++;
    start_pass(rt, in, rcyi_sched_recent(sc, why));
    in->ext_seen = rt->ext_bytes;
    return true;
}

/* The time of a step after a young collection that began at cpu_start:
   sets its deadline; false when it gets no step (see below). */
static bool step_time(rcyi_incr_t *in, double cpu_start)
{
    if (in->pause <= 0.0 || cpu_start <= 0.0)
        return true; /* (bounded by its work alone) */
    /* The step's time: the pause target less what this collection
       took so far (its callbacks included), less a margin for the
       clock's granularity and the step's end (PAUSE_MARGIN_US, at most
       a fifth of the target: measured here, a step ends 9 us past its
       deadline at the median, 68 us at the 99th percentile, up to 350
       us once in a while in SNAPSHOT). A young collection that
       leaves less than STEP_MIN_US (at most a tenth of the target) to
       that deadline gets no step
       (counted in no_time): a step never makes a pause longer than
       the target, and a young collection that takes most of it
       is not topped up with a short step
       that would mostly pay its cold start. Only after
       STARVED_MAX such collections in a row does one get a minimum
       step (one clock interval, about CHECK_US), so that a pass
       progresses even where every young collection alone exceeds the
       target. */
    double margin = PAUSE_MARGIN_US * 1e-6 < in->pause / 5 ? PAUSE_MARGIN_US * 1e-6 : in->pause / 5;
    in->deadline = cpu_start + in->pause - margin;
    double least = STEP_MIN_US * 1e-6 < in->pause / 10 ? STEP_MIN_US * 1e-6 : in->pause / 10;
    in->step_t0 = rcyi_incr_cpu_now();
    if (in->step_t0 + least > in->deadline) {
        in->st.no_time++;
        if (++in->starved < STARVED_MAX) {
            in->deadline = 0.0;
            return false;
        }
    }
    in->starved = 0;
    return true;
}

/* A step of the young pass: bounded by the pause target and its work
   budget, not by credit (it is a young collection's work, which compat
   mode does at once). */
static void young_step(rcy_runtime_t *rt, rcyi_incr_t *y, double cpu_start)
{
    if (y->phase == IDLE || !step_time(y, cpu_start))
        return;
    if (rcyi_pacer_idle_begin(&y->pacer, y->step_work)) {
        y->step_budget = y->pacer.step_left;
        y->check_at = y->pacer.step_left - y->check_units;
        run(rt, y);
        rcyi_pacer_step_end(&y->pacer);
    }
    y->deadline = 0.0;
}

void rcyi_incr_after_young(rcy_runtime_t *rt, int generation, intptr_t promoted, double cpu_start, bool young_due)
{
    if (rt->gc_mode != RCY_GC_INCREMENTAL || rt->tearing_down)
        return;
    rcyi_incr_t *in = state(rt);
    if (in == NULL)
        return;
    in->ticks++;
    /* The young pass first: its garbage is the young generations', which
       compat mode would free now. One due while the last one still runs
       finishes that one first (counted in its backstops). */
    rcyi_incr_t *y = in->yp;
    if (y != NULL) {
        bool finished = false;
        if (young_due) {
            finished = y->phase != IDLE;
            finish_young(rt, y);
            start_young(rt, y);
        }
        /* (After a finish, which took this pause's time, the new pass's
           steps begin with the next collection: it never completes in
           the same pause, whose report would replace the finished one's.) */
        if (!finished)
            young_step(rt, y, cpu_start);
    }
    if (in->yp_promoted > 0) {
        promoted += (intptr_t)in->yp_promoted;
        in->yp_promoted = 0;
    }
    if (promoted > 0) {
        in->recent_bound += (uint64_t)promoted;
        in->promoted_all += (uint64_t)promoted;
    }
    if (generation >= 1 || in->yp_census) {
        /* The young generations are empty (or, after a young pass, hold
           what the few young collections since its start kept, within
           the slack): the census is the old
           generation's. The baseline after a pass is read here too (what
           this collection promoted, the young generations' content, is
           within the slack). */
        in->yp_census = false;
        uint64_t c = census(rt);
        if (in->rebase) {
            in->census_last = c;
            in->rebase = false;
        }
        in->grown = c > in->census_last ? c - in->census_last : 0;
        in->grown_ticks = in->ticks - in->ticks_last;
    }

    rcyi_sched_t sc;
    bool decided = false;
    if (in->phase == IDLE) {
        decided = true;
        if (!start_if_due(rt, in, &sc))
            return;
    }
    /* Credit: this collection's promotions, the external bytes charged
       since the last one, the trickle. */
    if (promoted > 0)
        rcyi_pacer_promoted(&in->pacer, (uint64_t)promoted);
    if (rt->ext_bytes > in->ext_seen)
        rcyi_pacer_bytes(&in->pacer, rt->ext_bytes - in->ext_seen);
    in->ext_seen = rt->ext_bytes;
    rcyi_pacer_tick(&in->pacer);
    if (!decided)
        sc = sched_now(rt, in);
    if (rcyi_sched_backstop(&sc)) {
        /* The tracked heap (or the external bytes) outgrew the last
           pass's live size by the allowed growth: finish the pass now,
           whatever it costs. */
        in->st.backstops++;
        in->sync = true;
        run(rt, in);
        return;
    }
    if (in->pacer.balance <= 0)
        return; /* no credit: no step */
    if (!step_time(in, cpu_start))
        return;
    if (rcyi_pacer_step_begin(&in->pacer)) {
        in->step_budget = in->pacer.step_left;
        in->check_at = in->pacer.step_left - in->check_units;
        run(rt, in);
        rcyi_pacer_step_end(&in->pacer);
    }
    in->deadline = 0.0;
}

/* Runs a pass in idle time that began at `now` (0: no thread CPU clock):
   to its end for max_us 0, until now + max_us otherwise (or, without the
   clock, one step's work: no time bound can be kept). */
static void idle_run(rcy_runtime_t *rt, rcyi_incr_t *in, size_t max_us, double now)
{
    if (max_us == 0 || now == 0.0) {
        if (max_us == 0)
            in->sync = true;
        else if (!rcyi_pacer_idle_begin(&in->pacer, in->step_work))
            return;
        in->deadline = 0.0;
        run(rt, in);
        if (max_us != 0)
            rcyi_pacer_step_end(&in->pacer);
        return;
    }
    /* Bounded by the time alone: a work budget no step reaches. */
    in->deadline = now + (double)max_us * 1e-6;
    in->step_t0 = now;
    (void)rcyi_pacer_idle_begin(&in->pacer, INT64_MAX / 8);
    in->step_budget = in->pacer.step_left;
    in->check_at = in->pacer.step_left - in->check_units;
    run(rt, in);
    rcyi_pacer_step_end(&in->pacer);
    in->deadline = 0.0;
}

void rcyi_incr_idle(rcy_runtime_t *rt, size_t max_us)
{
    if (rt->gc_mode != RCY_GC_INCREMENTAL || rt->tearing_down)
        return;
    rcyi_incr_t *in = state(rt);
    if (in == NULL)
        return;
    double now = max_us > 0 ? rcyi_incr_cpu_now() : 0.0;
    /* The young pass first, in the same time. */
    if (in->yp != NULL && in->yp->phase != IDLE)
        idle_run(rt, in->yp, max_us, now);
    rcyi_sched_t sc;
    /* Only a pass that is due (the schedule after a young collection):
       idle time does not make passes more frequent. */
    if (in->phase == IDLE && !start_if_due(rt, in, &sc))
        return;
    in->st.idle_steps++;
    idle_run(rt, in, max_us, now);
}

bool rcyi_incr_take_completed(rcy_runtime_t *rt, rcy_gc_info_t *info)
{
    rcyi_incr_t *in = rt->incr;
    if (in == NULL)
        return false;
    if (in->yp != NULL && in->yp->completed)
        in = in->yp; /* (the young pass's first: it completed first, or in the same step) */
    if (!in->completed)
        return false;
    in->completed = false;
    *info = in->done;
    return true;
}

void rcyi_incr_full_collection_done(rcy_runtime_t *rt)
{
    rcyi_incr_t *in = rt->incr;
    if (in == NULL)
        return;
    in->live_last = (uint64_t)rt->long_lived_total;
    in->census_last = census(rt); /* the young generations are empty */
    in->rebase = false;
    in->grown = in->grown_ticks = 0;
    in->ticks_last = in->ticks;
    in->ext_seen = in->ext_floor = in->ext_full = in->ext_settled = rt->ext_bytes;
    in->ticks_floor = in->ticks;
    in->recent_in_row = 0; /* the whole old generation examined */
    /* The old generation (every tracked object but the permanent ones
       now) is mature: a recent pass examines what is promoted from here. */
    if (rt->gc_mode == RCY_GC_INCREMENTAL && !rt->tearing_down) {
        rcyi_list_merge(&rt->gens[RCY_NUM_GENERATIONS - 1].head, &in->mature);
        in->recent_bound = in->kept_recent = 0;
    }
}

/* ---- Public ------------------------------------------------------------ */

int rcy_gc_set_mode(rcy_runtime_t *rt, rcy_gc_mode_t mode)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (mode != RCY_GC_COMPAT && mode != RCY_GC_INCREMENTAL)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (rt->walk != NULL)
        return rcyi_set_error(rt, RCY_ESTATE);
    if (mode == RCY_GC_COMPAT)
        rcyi_incr_abort(rt);
    rt->gc_mode = mode;
    if (mode == RCY_GC_INCREMENTAL)
        (void)state(rt); /* see rcyi_incr_init */
    return 0;
}

rcy_gc_mode_t rcy_gc_get_mode(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_GC_COMPAT;
    RCYI_CHECK_RT(rt);
    return (rcy_gc_mode_t)rt->gc_mode;
}

int rcy_gc_charge_external(rcy_object_t *obj, size_t bytes)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    if (rt->ext_bytes > SIZE_MAX - bytes)
        return rcyi_set_error(rt, RCY_EINVAL);
    rt->ext_bytes += bytes;
    return 0;
}

int rcy_gc_release_external(rcy_object_t *obj, size_t bytes)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    if (bytes > rt->ext_bytes)
        return rcyi_set_error(rt, RCY_EINVAL);
    rt->ext_bytes -= bytes;
    if (rt->incr != NULL && rt->incr->ext_seen > rt->ext_bytes)
        rt->incr->ext_seen = rt->ext_bytes;
    return 0;
}

void rcy_gc_incr_stats_init(rcy_gc_incr_stats_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
}

#define INCR_STATS_SIZE_0 offsetof(rcy_gc_incr_stats_t, young_passes)

int rcy_gc_get_incr_stats(const rcy_runtime_t *rt, rcy_gc_incr_stats_t *caller)
{
    if (rt == NULL || caller == NULL || (caller->size != sizeof *caller && caller->size != INCR_STATS_SIZE_0))
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    size_t size = caller->size;
    rcy_gc_incr_stats_t full, *out = &full;
    if (rt->incr == NULL) {
        rcy_gc_incr_stats_init(out);
    } else {
        *out = rt->incr->st;
        out->in_pass = rt->incr->phase != IDLE;
        const rcyi_incr_t *y = rt->incr->yp;
        if (y != NULL) {
            out->young_passes = y->st.passes;
            out->young_steps = y->st.steps;
            out->young_finished = y->st.backstops;
            out->young_aborted = y->st.aborted;
            out->young_last_snapshot = y->st.last_snapshot;
            out->young_last_collected = y->st.last_collected;
            out->young_max_step_seconds = y->st.max_step_seconds;
            out->young_in_pass = y->phase != IDLE;
        }
    }
    out->external_bytes = rt->ext_bytes;
    out->size = size;
    memcpy(caller, out, size);
    return 0;
}
