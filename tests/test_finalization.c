/*
 * PEP 442 conformance: CPython's Lib/test/test_finalization.py, scenario by
 * scenario, and the finalizer scenarios of Lib/test/test_gc.py, written
 * against recycle's API. Each test is named after the CPython test.
 *
 * The objects: "Obj" types with two reference slots (left, right), a weak
 * reference list, and a finalizer whose behaviour depends on the object's
 * mode (plain, resurrector: stores itself in `survivors`; suicidal: breaks
 * its own references). As in test_finalization.py, every finalizer call is
 * logged by object id, and the tests compare those logs.
 */
#include "harness.h"

typedef struct obj_s {
    rcy_object_t ob;
    rcy_object_t *left;
    rcy_object_t *right;
    rcy_object_t *weaklist;
    long id;
    int mode;
} obj_t;

enum { PLAIN = 0, RESURRECT = 1, SUICIDE = 2 };

#define MAXLOG 256
static long del_calls[MAXLOG], tp_del_calls[MAXLOG];
static int n_del, n_tp_del;
static rcy_object_t *survivors[MAXLOG];
static int n_survivors;
static long next_id = 1;
static int sanity_errors; /* a finalizer saw a peer already cleared */

static void reset_logs(void)
{
    n_del = n_tp_del = 0;
    sanity_errors = 0;
}

/* Releases the survivors (a snapshot: finalizers may resurrect again). */
static void clear_survivors(void)
{
    rcy_object_t *snapshot[MAXLOG];
    int n = n_survivors;
    memcpy(snapshot, survivors, (size_t)n * sizeof *snapshot);
    n_survivors = 0;
    for (int i = 0; i < n; i++)
        rcy_decref(snapshot[i]);
}

static int obj_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    obj_t *o = (obj_t *)self;
    RCY_VISIT(o->left);
    RCY_VISIT(o->right);
    return 0;
}

static int obj_clear(rcy_object_t *self)
{
    obj_t *o = (obj_t *)self;
    RCY_CLEAR(o->left);
    RCY_CLEAR(o->right);
    return 0;
}

/* PEP 442: a finalizer sees its peers intact (nothing cleared yet). */
static void check_sanity(obj_t *o)
{
    if (o->left != NULL && ((obj_t *)o->left)->id == 0)
        sanity_errors++;
}

static void side_effect(obj_t *o)
{
    if (o->mode == RESURRECT && n_survivors < MAXLOG)
        survivors[n_survivors++] = rcy_newref(&o->ob);
    else if (o->mode == SUICIDE) {
        RCY_CLEAR(o->left);
        RCY_CLEAR(o->right);
    }
}

static int obj_finalize(rcy_object_t *self)
{
    obj_t *o = (obj_t *)self;
    check_sanity(o);
    if (n_del < MAXLOG)
        del_calls[n_del++] = o->id;
    side_effect(o);
    return 0;
}

static int obj_legacy_del(rcy_object_t *self)
{
    obj_t *o = (obj_t *)self;
    if (n_tp_del < MAXLOG)
        tp_del_calls[n_tp_del++] = o->id;
    side_effect(o);
    return 0;
}

/* The types of one test runtime. */
static rcy_type_t *T_GC;      /* container with a finalizer (SimpleBase subclasses) */
static rcy_type_t *T_NONGC;   /* non-container with a finalizer (NonGCSimpleBase) */
static rcy_type_t *T_LEGACY;  /* container with finalizer and legacy finalizer */
static rcy_type_t *T_NOFIN;   /* container without finalizer (class A in test_gc) */

static rcy_type_t *make_type(rcy_runtime_t *rt, const char *name, int gc, int fin, int legacy)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(obj_t);
    spec.flags = gc ? RCY_TPFLAGS_GC : 0;
    spec.traverse = gc ? obj_traverse : NULL;
    spec.clear = obj_clear;
    spec.finalize = fin ? obj_finalize : NULL;
    spec.legacy_del = legacy ? obj_legacy_del : NULL;
    spec.weaklistoffset = offsetof(obj_t, weaklist);
    return rcy_type_new(rt, &spec);
}

static rcy_runtime_t *setup(void)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    T_GC = make_type(rt, "SelfCycle", 1, 1, 0);
    T_NONGC = make_type(rt, "NonGC", 0, 1, 0);
    T_LEGACY = make_type(rt, "Legacy", 1, 1, 1);
    T_NOFIN = make_type(rt, "A", 1, 0, 0);
    reset_logs();
    /* Collections happen only when a test asks (gc.disable() in the tests'
       setUp), so that results do not depend on thresholds. */
    rcy_gc_disable(rt);
    return rt;
}

static void teardown(rcy_runtime_t *rt)
{
    clear_survivors();
    test_runtime_end(rt);
}

static obj_t *obj_new(rcy_type_t *t, int mode)
{
    obj_t *o = (obj_t *)rcy_new(t);
    o->id = next_id++;
    o->mode = mode;
    return o;
}

static void set_left(obj_t *o, void *v) { RCY_XSETREF(o->left, (rcy_object_t *)v); }
static void set_right(obj_t *o, void *v) { RCY_XSETREF(o->right, (rcy_object_t *)v); }

/* Compares a log with the expected ids, as sorted multisets. */
static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int same_ids(const long *log, int n, const long *expect, int m)
{
    if (n != m)
        return 0;
    long a[MAXLOG], b[MAXLOG];
    memcpy(a, log, (size_t)n * sizeof *a);
    memcpy(b, expect, (size_t)m * sizeof *b);
    qsort(a, (size_t)n, sizeof *a, cmp_long);
    qsort(b, (size_t)m, sizeof *b, cmp_long);
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static int survivors_are(const long *expect, int m)
{
    long ids[MAXLOG];
    for (int i = 0; i < n_survivors; i++)
        ids[i] = ((obj_t *)survivors[i])->id;
    return same_ids(ids, n_survivors, expect, m);
}

#define ASSERT_DEL_CALLS(...)                                                                      \
    do {                                                                                           \
        long e_[] = {0, __VA_ARGS__};                                                              \
        CHECK(same_ids(del_calls, n_del, e_ + 1, (int)(sizeof e_ / sizeof e_[0]) - 1));            \
    } while (0)
#define ASSERT_NO_DEL_CALLS() CHECK_EQ(n_del, 0)
#define ASSERT_TP_DEL_CALLS(...)                                                                   \
    do {                                                                                           \
        long e_[] = {0, __VA_ARGS__};                                                              \
        CHECK(same_ids(tp_del_calls, n_tp_del, e_ + 1, (int)(sizeof e_ / sizeof e_[0]) - 1));      \
    } while (0)
#define ASSERT_SURVIVORS(...)                                                                      \
    do {                                                                                           \
        long e_[] = {0, __VA_ARGS__};                                                              \
        CHECK(survivors_are(e_ + 1, (int)(sizeof e_ / sizeof e_[0]) - 1));                         \
    } while (0)
#define ASSERT_NO_SURVIVORS() CHECK_EQ(n_survivors, 0)

/* ---- SimpleFinalizationTest: objects not in a cycle ------------------ */

TEST(test_simple)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_GC, PLAIN);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob); /* del s */
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_NO_SURVIVORS();
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id); /* not called again */
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_simple_resurrect)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_GC, RESURRECT);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_SURVIVORS(id);
    /* Resurrected by refcount death: weak references stay alive. */
    CHECK(rcy_weakref_is_alive(wr));
    CHECK(rcy_gc_is_finalized(survivors[0]));
    clear_survivors();
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id); /* the second death does not finalize again */
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_non_gc)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_NONGC, PLAIN);
    long id = s->id;
    CHECK(!rcy_gc_is_tracked(&s->ob));
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_NO_SURVIVORS();
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_non_gc_resurrect)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_NONGC, RESURRECT);
    long id = s->id;
    rcy_decref(&s->ob);
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_SURVIVORS(id);
    clear_survivors();
    rcy_gc_collect(rt, 2);
    /* A non-container has no FINALIZED bit: it is finalized again. */
    ASSERT_DEL_CALLS(id, id);
    ASSERT_SURVIVORS(id);
    /* Stop resurrecting so that the object can go. */
    ((obj_t *)survivors[0])->mode = PLAIN;
    clear_survivors();
    ASSERT_DEL_CALLS(id, id, id);
    teardown(rt);
}

/* ---- SelfCycleFinalizationTest --------------------------------------- */

static obj_t *self_cycle(int mode)
{
    obj_t *s = obj_new(T_GC, mode);
    set_left(s, s);
    return s;
}

TEST(test_self_cycle_simple)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = self_cycle(PLAIN);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    ASSERT_NO_DEL_CALLS(); /* the cycle keeps it alive */
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    ASSERT_DEL_CALLS(id);
    ASSERT_NO_SURVIVORS();
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_self_cycle_simple_resurrect)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = self_cycle(RESURRECT);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    /* Resurrected: not counted as collected (test_gc's
       test_resurrection_does_not_block_cleanup_of_other_objects). */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    ASSERT_DEL_CALLS(id);
    ASSERT_SURVIVORS(id);
    /* CPython <= 3.14 clears weak references before finalizers run, so
       the resurrected object's weak reference is already dead
       (test_finalization: "XXX is this desirable?"). */
    CHECK(!rcy_weakref_is_alive(wr));
    clear_survivors();
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    ASSERT_DEL_CALLS(id);
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_self_cycle_simple_suicide)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = self_cycle(SUICIDE);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_NO_SURVIVORS();
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    rcy_decref(wr);
    teardown(rt);
}

/* ---- CycleChainFinalizationTest ---------------------------------------
   A doubly linked ring of nodes (left and right references), each with a
   finalizer; modes give the mix of classes. */

#define MAXCHAIN 8

static int build_chain(const int *modes, int n, long *ids, rcy_object_t **wrs)
{
    obj_t *nodes[MAXCHAIN];
    for (int i = 0; i < n; i++) {
        nodes[i] = obj_new(T_GC, modes[i]);
        ids[i] = nodes[i]->id;
    }
    for (int i = 0; i < n; i++) {
        obj_t *left = nodes[(i + n - 1) % n];
        set_left(nodes[i], left);
        set_right(left, nodes[i]);
    }
    for (int i = 0; i < n; i++) {
        wrs[i] = rcy_weakref_new(&nodes[i]->ob, NULL, NULL);
        rcy_decref(&nodes[i]->ob); /* del nodes */
    }
    return n;
}

static void check_non_resurrecting_chain(const int *modes, int n)
{
    rcy_runtime_t *rt = setup();
    long ids[MAXCHAIN];
    rcy_object_t *wrs[MAXCHAIN];
    build_chain(modes, n, ids, wrs);
    rcy_gc_collect(rt, 2);
    CHECK(same_ids(del_calls, n_del, ids, n));
    ASSERT_NO_SURVIVORS();
    for (int i = 0; i < n; i++) {
        CHECK(!rcy_weakref_is_alive(wrs[i]));
        rcy_decref(wrs[i]);
    }
    CHECK_EQ(sanity_errors, 0);
    rcy_gc_collect(rt, 2);
    CHECK(same_ids(del_calls, n_del, ids, n));
    teardown(rt);
}

static void check_resurrecting_chain(const int *modes, int n)
{
    rcy_runtime_t *rt = setup();
    long ids[MAXCHAIN], survivor_ids[MAXCHAIN];
    int n_surv = 0;
    rcy_object_t *wrs[MAXCHAIN];
    build_chain(modes, n, ids, wrs);
    for (int i = 0; i < n; i++) {
        if (modes[i] == RESURRECT)
            survivor_ids[n_surv++] = ids[i];
    }
    rcy_gc_collect(rt, 2);
    CHECK(same_ids(del_calls, n_del, ids, n));
    CHECK(survivors_are(survivor_ids, n_surv));
    /* XXX desirable? (CPython's comment): all weak references are dead. */
    for (int i = 0; i < n; i++)
        CHECK(!rcy_weakref_is_alive(wrs[i]));
    CHECK_EQ(sanity_errors, 0);
    clear_survivors();
    rcy_gc_collect(rt, 2);
    CHECK(same_ids(del_calls, n_del, ids, n)); /* each finalized once */
    for (int i = 0; i < n; i++)
        rcy_decref(wrs[i]);
    teardown(rt);
}

TEST(test_homogenous)
{
    int m[] = {PLAIN, PLAIN, PLAIN};
    check_non_resurrecting_chain(m, 3);
}

TEST(test_homogenous_resurrect)
{
    int m[] = {RESURRECT, RESURRECT, RESURRECT};
    check_resurrecting_chain(m, 3);
}

TEST(test_homogenous_suicidal)
{
    int m[] = {SUICIDE, SUICIDE, SUICIDE};
    check_non_resurrecting_chain(m, 3);
}

TEST(test_heterogenous_suicidal_one)
{
    int m[] = {SUICIDE, PLAIN, SUICIDE, PLAIN, SUICIDE, PLAIN};
    check_non_resurrecting_chain(m, 6);
}

TEST(test_heterogenous_suicidal_two)
{
    int m[] = {SUICIDE, SUICIDE, PLAIN, PLAIN};
    check_non_resurrecting_chain(m, 4);
}

TEST(test_heterogenous_resurrect_one)
{
    int m[] = {PLAIN, RESURRECT, PLAIN, RESURRECT, PLAIN, RESURRECT};
    check_resurrecting_chain(m, 6);
}

TEST(test_heterogenous_resurrect_two)
{
    int m[] = {PLAIN, RESURRECT, SUICIDE, PLAIN, RESURRECT, SUICIDE};
    check_resurrecting_chain(m, 6);
}

TEST(test_heterogenous_resurrect_three)
{
    int m[] = {PLAIN, PLAIN, RESURRECT, RESURRECT, SUICIDE, SUICIDE};
    check_resurrecting_chain(m, 6);
}

/* ---- LegacyFinalizationTest ------------------------------------------ */

TEST(test_legacy)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_LEGACY, PLAIN);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_TP_DEL_CALLS(id);
    ASSERT_NO_SURVIVORS();
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_gc_collect(rt, 2);
    ASSERT_DEL_CALLS(id);
    ASSERT_TP_DEL_CALLS(id);
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_legacy_resurrect)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_LEGACY, RESURRECT);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    rcy_gc_collect(rt, 2);
    /* The finalizer resurrected it first; the legacy finalizer did not run. */
    ASSERT_DEL_CALLS(id);
    ASSERT_SURVIVORS(id);
    CHECK_EQ(n_tp_del, 0);
    CHECK(rcy_weakref_is_alive(wr));
    clear_survivors();
    /* Second death: no finalizer; weak references are cleared before the
       legacy finalizer, which resurrects again (and on every death). */
    ASSERT_DEL_CALLS(id);
    ASSERT_TP_DEL_CALLS(id);
    ASSERT_SURVIVORS(id);
    CHECK(!rcy_weakref_is_alive(wr));
    clear_survivors();
    ASSERT_TP_DEL_CALLS(id, id);
    ASSERT_SURVIVORS(id);
    ((obj_t *)survivors[0])->mode = PLAIN;
    clear_survivors();
    ASSERT_DEL_CALLS(id);
    ASSERT_TP_DEL_CALLS(id, id, id);
    rcy_decref(wr);
    teardown(rt);
}

TEST(test_legacy_self_cycle)
{
    rcy_runtime_t *rt = setup();
    obj_t *s = obj_new(T_LEGACY, PLAIN);
    set_left(s, s);
    long id = s->id;
    rcy_object_t *wr = rcy_weakref_new(&s->ob, NULL, NULL);
    rcy_decref(&s->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    ASSERT_NO_DEL_CALLS();
    CHECK_EQ(n_tp_del, 0);
    ASSERT_NO_SURVIVORS();
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    CHECK(rcy_gc_garbage_get(rt, 0) == &s->ob);
    /* Uncollectable: its weak reference stays alive. */
    CHECK(rcy_weakref_is_alive(wr));
    /* Break the cycle to allow the object to be freed. */
    RCY_CLEAR(((obj_t *)rcy_gc_garbage_get(rt, 0))->left);
    rcy_gc_garbage_clear(rt);
    ASSERT_DEL_CALLS(id);
    ASSERT_TP_DEL_CALLS(id);
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_decref(wr);
    teardown(rt);
}

/* ---- test_gc.py: finalizer scenarios ----------------------------------- */

TEST(test_resurrection_only_happens_once_per_object)
{
    rcy_runtime_t *rt = setup();
    obj_t *a = self_cycle(RESURRECT);
    rcy_decref(&a->ob);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_del, 1);
    CHECK_EQ(n_survivors, 1);
    clear_survivors();
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_del, 1);
    teardown(rt);
}

TEST(test_resurrection_is_transitive)
{
    rcy_runtime_t *rt = setup();
    /* a <-> a self cycle that resurrects, and b reachable from a only. */
    obj_t *a = self_cycle(RESURRECT);
    obj_t *b = obj_new(T_NOFIN, PLAIN);
    b->id = 4242;
    set_right(a, b);
    rcy_decref(&b->ob);
    rcy_decref(&a->ob);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_survivors, 1);
    obj_t *back = (obj_t *)survivors[0];
    CHECK(back->right == &b->ob);
    CHECK_EQ(((obj_t *)back->right)->id, 4242); /* intact, not cleared */
    CHECK(back->left == &back->ob);
    clear_survivors();
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    teardown(rt);
}

static intptr_t stat_collected(rcy_runtime_t *rt)
{
    rcy_gc_stats_t st[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(st);
    rcy_gc_get_stats(rt, st);
    return st[2].collected;
}

static intptr_t stat_uncollectable(rcy_runtime_t *rt)
{
    rcy_gc_stats_t st[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(st);
    rcy_gc_get_stats(rt, st);
    return st[2].uncollectable;
}

TEST(test_resurrection_does_not_block_cleanup_of_other_objects)
{
    /* CPython counts each instance and its __dict__ (2*N); our objects
       have no separate dict, so the numbers are N. */
    enum { N = 100 };
    rcy_runtime_t *rt = setup();
    rcy_gc_collect(rt, 2);
    intptr_t oldc = stat_collected(rt), oldnc = stat_uncollectable(rt);
    for (int i = 0; i < N; i++) {
        obj_t *a = obj_new(T_NOFIN, PLAIN);
        set_left(a, a);
        rcy_decref(&a->ob);
    }
    CHECK_EQ(rcy_gc_collect(rt, 2), N);
    CHECK_EQ(stat_collected(rt) - oldc, N);
    CHECK_EQ(stat_uncollectable(rt) - oldnc, 0);

    /* Z() is not collected: merely resurrected. */
    oldc = stat_collected(rt);
    obj_t *z = self_cycle(RESURRECT);
    rcy_decref(&z->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(stat_collected(rt) - oldc, 0);

    /* Z() does not prevent anything else from being collected. */
    oldc = stat_collected(rt);
    for (int i = 0; i < N; i++) {
        obj_t *a = obj_new(T_NOFIN, PLAIN);
        set_left(a, a);
        rcy_decref(&a->ob);
    }
    z = self_cycle(RESURRECT);
    rcy_decref(&z->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), N);
    CHECK_EQ(stat_collected(rt) - oldc, N);
    CHECK_EQ(stat_uncollectable(rt) - oldnc, 0);

    /* The two Zs are still in survivors. */
    oldc = stat_collected(rt);
    CHECK_EQ(n_survivors, 2);
    clear_survivors();
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(stat_collected(rt) - oldc, 2);
    teardown(rt);
}

TEST(test_is_finalized)
{
    rcy_runtime_t *rt = setup();
    obj_t *a = self_cycle(RESURRECT);
    CHECK(!rcy_gc_is_finalized(&a->ob));
    rcy_decref(&a->ob);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_survivors, 1);
    CHECK(rcy_gc_is_finalized(survivors[0]));
    teardown(rt);
}

/* test_function_tp_clear_leaves_consistent_state (GH-91636): cyc <-> func
   is garbage; latefin is held from outside. cyc's finalizer (the only one
   in the garbage) creates latefin.ref = weakref(func) and drops the outside
   reference to latefin, whose last holder is now cyc. Clearing func then
   frees cyc, which frees latefin, whose finalizer reads latefin.ref: in
   CPython 3.11 it gets func, half cleared (the test checks that it is in a
   consistent state); since the GH-91636 fix (3.13, and recycle) the weak
   reference, created by a finalizer to an object still garbage, is cleared
   before anything is, so it gets nothing. Run with three container types
   of our own, then with three classes (instances cleared through their
   attribute dicts). */
typedef struct gh_s {
    rcy_object_t ob;
    rcy_object_t *a; /* cyc: func; func: __module__ (cyc); latefin: ref */
    rcy_object_t *b; /* cyc: latefin */
    rcy_object_t *weaklist;
} gh_t;

static rcy_object_t *gh_latefin; /* the outside reference ("global latefin") */
static int gh_latefin_calls, gh_cyclic_calls;
static int gh_func_seen; /* 1: latefin's finalizer got an object from ref */

static int gh_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    gh_t *o = (gh_t *)self;
    RCY_VISIT(o->a);
    RCY_VISIT(o->b);
    return 0;
}

static int gh_clear(rcy_object_t *self)
{
    gh_t *o = (gh_t *)self;
    RCY_CLEAR(o->a);
    RCY_CLEAR(o->b);
    return 0;
}

static void gh_latefin_saw(rcy_object_t *ref)
{
    gh_latefin_calls++;
    rcy_object_t *func = ref != NULL ? rcy_weakref_get(ref) : NULL;
    gh_func_seen = func != NULL;
    rcy_xdecref(func);
}

static int gh_latefin_finalize(rcy_object_t *self)
{
    gh_latefin_saw(((gh_t *)self)->a);
    return 0;
}

static int gh_cyclic_finalize(rcy_object_t *self)
{
    gh_t *cyc = (gh_t *)self;
    gh_cyclic_calls++;
    rcy_object_t *w = rcy_weakref_new(cyc->a, NULL, NULL); /* 5. a weak reference to func, now */
    RCY_XSETREF(((gh_t *)cyc->b)->a, w);
    rcy_decref(w);
    RCY_CLEAR(gh_latefin); /* 6. cyc holds the last reference to latefin */
    return 0;
}

static rcy_type_t *gh_type(rcy_runtime_t *rt, const char *name, rcy_finalize_fn fin)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(gh_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = gh_traverse;
    spec.clear = gh_clear;
    spec.finalize = fin;
    spec.weaklistoffset = offsetof(gh_t, weaklist);
    return rcy_type_new(rt, &spec);
}

static int gh_class_latefin_del(rcy_object_t *self, void *arg)
{
    (void)arg;
    gh_latefin_saw(rcy_getattr(self, "ref"));
    return 0;
}

static int gh_class_cyclic_del(rcy_object_t *self, void *arg)
{
    (void)arg;
    gh_cyclic_calls++;
    rcy_object_t *w = rcy_weakref_new(rcy_getattr(self, "func"), NULL, NULL);
    CHECK_EQ(rcy_setattr(rcy_getattr(self, "latefin"), "ref", w), 0);
    rcy_decref(w);
    RCY_CLEAR(gh_latefin);
    return 0;
}

TEST(test_function_tp_clear_leaves_consistent_state)
{
    for (int classes = 0; classes < 2; classes++) {
        rcy_runtime_t *rt = setup();
        gh_latefin_calls = gh_cyclic_calls = 0;
        gh_func_seen = -1;
        rcy_object_t *func, *cyc, *cls_latefin = NULL, *cls_func = NULL, *cls_cyclic = NULL;
        if (!classes) {
            gh_latefin = rcy_new(gh_type(rt, "LateFin", gh_latefin_finalize));
            func = rcy_new(gh_type(rt, "function", NULL));
            cyc = rcy_new(gh_type(rt, "Cyclic", gh_cyclic_finalize));
            ((gh_t *)cyc)->a = rcy_newref(func);
            ((gh_t *)cyc)->b = rcy_newref(gh_latefin);
            ((gh_t *)func)->a = rcy_newref(cyc); /* 1. func.__module__ = cyc */
        } else {
            rcy_class_spec_t latefin_spec = {gh_class_latefin_del, NULL, NULL};
            rcy_class_spec_t cyclic_spec = {gh_class_cyclic_del, NULL, NULL};
            cls_latefin = rcy_class_new(rt, "LateFin", &latefin_spec);
            cls_func = rcy_class_new(rt, "function", NULL);
            cls_cyclic = rcy_class_new(rt, "Cyclic", &cyclic_spec);
            gh_latefin = rcy_instance_new(cls_latefin);
            func = rcy_instance_new(cls_func);
            cyc = rcy_instance_new(cls_cyclic);
            CHECK_EQ(rcy_setattr(cyc, "func", func), 0);
            CHECK_EQ(rcy_setattr(cyc, "latefin", gh_latefin), 0);
            CHECK_EQ(rcy_setattr(func, "__module__", cyc), 0);
        }
        rcy_decref(func); /* 2. the cycle is unreachable; latefin is not */
        rcy_decref(cyc);
        /* 3. cyc and func are the garbage (CPython: gc.collect() == 2). */
        CHECK_EQ(rcy_gc_collect(rt, 2), 2);
        CHECK_EQ(gh_cyclic_calls, 1);
        CHECK_EQ(gh_latefin_calls, 1); /* 8. it ran, in the clearing */
        CHECK_EQ(gh_func_seen, 0);     /* 9. and saw no half-cleared func */
        CHECK(gh_latefin == NULL);
        rcy_xdecref(cls_latefin);
        rcy_xdecref(cls_func);
        rcy_xdecref(cls_cyclic);
        teardown(rt);
    }
}

/* test_bug21435: a finalizer that mutates the garbage while
   finalize_garbage walks it must not crash. B's finalizer drops its
   reference to A (which is also garbage). */
TEST(test_bug21435)
{
    rcy_runtime_t *rt = setup();
    obj_t *a = obj_new(T_NOFIN, PLAIN);
    obj_t *b = obj_new(T_GC, SUICIDE);
    obj_t *inner = obj_new(T_NOFIN, PLAIN);
    set_right(b, inner); /* B(A()) */
    rcy_decref(&inner->ob);
    set_left(a, b); /* a.attr = b */
    set_left(b, a); /* b.attr = a */
    rcy_decref(&a->ob);
    rcy_decref(&b->ob);
    /* B's finalizer breaks the cycle, so all three die by reference
       counting during finalization and none is counted as collected:
       CPython's gc.collect() returns 0 here too. */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(n_del, 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    teardown(rt);
}

/* test_get_objects_during_gc: from a finalizer, get_objects and
   get_referrers do not return objects that are being collected. */
static rcy_runtime_t *probe_rt;
static int probe_saw_garbage;
static rcy_object_t *probe_self;

static int probe_finalize(rcy_object_t *self)
{
    rcy_objarray_t arr = {0};
    if (rcy_gc_get_objects(probe_rt, -1, &arr) == 0) {
        for (size_t i = 0; i < arr.len; i++)
            probe_saw_garbage += arr.items[i] == self;
        rcy_objarray_release(&arr);
    }
    rcy_object_t *objs[1] = {self};
    if (rcy_gc_get_referrers(probe_rt, objs, 1, &arr) == 0) {
        probe_saw_garbage += (int)arr.len;
        rcy_objarray_release(&arr);
    }
    probe_self = self;
    return 0;
}

TEST(test_get_objects_during_gc)
{
    rcy_runtime_t *rt = setup();
    rcy_type_spec_t spec = {0};
    spec.name = "Probe";
    spec.basicsize = sizeof(obj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = obj_traverse;
    spec.clear = obj_clear;
    spec.finalize = probe_finalize;
    rcy_type_t *probe = rcy_type_new(rt, &spec);
    probe_rt = rt;
    probe_saw_garbage = 0;
    obj_t *p = (obj_t *)rcy_new(probe);
    set_left(p, p);
    rcy_decref(&p->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK(probe_self == &p->ob);
    CHECK_EQ(probe_saw_garbage, 0);
    teardown(rt);
}

/* test_del / test_del_newclass: a finalizer that triggers collections
   (threshold 1) while garbage is finalized does not crash. */
static rcy_runtime_t *del_rt;
static int collect_in_finalize(rcy_object_t *self)
{
    (void)self;
    rcy_gc_collect(del_rt, 2); /* nested: returns 0 during a collection */
    return 0;
}

TEST(test_del)
{
    rcy_runtime_t *rt = setup();
    rcy_gc_enable(rt);
    rcy_gc_set_threshold(rt, 1, 10, 10);
    rcy_type_spec_t spec = {0};
    spec.name = "Del";
    spec.basicsize = sizeof(obj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = obj_traverse;
    spec.clear = obj_clear;
    spec.finalize = collect_in_finalize;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    del_rt = rt;
    for (int i = 0; i < 100; i++) {
        obj_t *a = (obj_t *)rcy_new(t);
        if (i % 2)
            set_left(a, a);
        rcy_decref(&a->ob);
    }
    rcy_gc_collect(rt, 2);
    teardown(rt);
}

/* test_trashcan: deeply nested containers whose finalizers collect every
   17 objects. */
static int trash_count;
static int trashcan_finalize(rcy_object_t *self)
{
    (void)self;
    if (++trash_count % 17 == 0)
        rcy_gc_collect(del_rt, 2);
    return 0;
}

TEST(test_trashcan)
{
    rcy_runtime_t *rt = setup();
    rcy_gc_enable(rt);
    rcy_type_spec_t spec = {0};
    spec.name = "Ouch";
    spec.basicsize = sizeof(obj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = obj_traverse;
    spec.clear = obj_clear;
    spec.finalize = trashcan_finalize;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    del_rt = rt;
    enum { DEPTH = 1000 }; /* CPython uses 150; deeper than the trashcan's 50 */
    for (int rep = 0; rep < 2; rep++) {
        trash_count = 0;
        obj_t *head = (obj_t *)rcy_new(t);
        for (int i = 0; i < DEPTH; i++) {
            obj_t *n = (obj_t *)rcy_new(t);
            set_left(n, head);
            rcy_decref(&head->ob);
            head = n;
        }
        rcy_decref(&head->ob);
        CHECK_EQ(trash_count, DEPTH + 1);
    }
    teardown(rt);
}

/* test_bug1055820b: weak-reference callbacks on trash see cleared
   references, never damaged objects. */
static int cb_saw_alive;
static int cb_calls;
static int record_cb(rcy_object_t *wr, void *arg)
{
    (void)arg;
    cb_calls++;
    cb_saw_alive += rcy_weakref_is_alive(wr);
    return 0;
}

TEST(test_bug1055820b)
{
    rcy_runtime_t *rt = setup();
    cb_calls = cb_saw_alive = 0;
    obj_t *c0 = obj_new(T_NOFIN, PLAIN), *c1 = obj_new(T_NOFIN, PLAIN);
    set_left(c0, c1);
    set_left(c1, c0);
    /* The weak references are held from outside the trash. */
    rcy_object_t *w0 = rcy_weakref_new(&c0->ob, record_cb, NULL);
    rcy_object_t *w1 = rcy_weakref_new(&c1->ob, record_cb, NULL);
    rcy_decref(&c0->ob);
    rcy_decref(&c1->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(cb_calls, 2);
    CHECK_EQ(cb_saw_alive, 0);
    rcy_decref(w0);
    rcy_decref(w1);
    teardown(rt);
}

/* test_trash_weakref_clear (bpo-38006):
 *
 *     Z <- Y <- A--+--> WZ  (WZ: weak reference to Z with a callback)
 *               ^  |
 *               +--+
 *
 * Y holds Z but does not report it to traverse, so the collector cannot
 * know that Z is garbage; A, Y and WZ are garbage. WZ is also kept in a
 * second cycle so that it outlives Z's death when A is cleared. The
 * collector must clear WZ (a weak reference inside the garbage) before it
 * clears anything, so that WZ's callback never runs. */
typedef struct opaque_s {
    rcy_object_t ob;
    rcy_object_t *hidden; /* a strong reference traverse does not report */
} opaque_t;

static int opaque_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static int opaque_clear(rcy_object_t *self)
{
    RCY_CLEAR(((opaque_t *)self)->hidden);
    return 0;
}

TEST(test_trash_weakref_clear)
{
    rcy_runtime_t *rt = setup();
    rcy_type_spec_t spec = {0};
    spec.name = "Y";
    spec.basicsize = sizeof(opaque_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = opaque_traverse;
    spec.clear = opaque_clear;
    rcy_type_t *ty = rcy_type_new(rt, &spec);
    cb_calls = 0;

    obj_t *a = obj_new(T_NOFIN, PLAIN);
    set_left(a, a); /* a.a = a */
    obj_t *slots = obj_new(T_NOFIN, PLAIN); /* a's other two slots: y, wz */
    set_right(a, slots);
    rcy_decref(&slots->ob);
    opaque_t *y = (opaque_t *)rcy_new(ty);
    set_left(slots, y);
    rcy_decref(&y->ob);
    obj_t *z = obj_new(T_NOFIN, PLAIN);
    y->hidden = &z->ob; /* Y owns the only reference to Z */
    rcy_object_t *wz = rcy_weakref_new(&z->ob, record_cb, NULL);
    set_right(slots, wz);
    obj_t *wr_cycle = obj_new(T_NOFIN, PLAIN);
    set_left(wr_cycle, wz);
    set_right(wr_cycle, wr_cycle);
    rcy_decref(wz);
    rcy_gc_collect(rt, 2);
    rcy_decref(&a->ob);
    rcy_decref(&wr_cycle->ob);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(cb_calls, 0);
    teardown(rt);
}

int main(void)
{
    RUN(test_simple);
    RUN(test_simple_resurrect);
    RUN(test_non_gc);
    RUN(test_non_gc_resurrect);
    RUN(test_self_cycle_simple);
    RUN(test_self_cycle_simple_resurrect);
    RUN(test_self_cycle_simple_suicide);
    RUN(test_homogenous);
    RUN(test_homogenous_resurrect);
    RUN(test_homogenous_suicidal);
    RUN(test_heterogenous_suicidal_one);
    RUN(test_heterogenous_suicidal_two);
    RUN(test_heterogenous_resurrect_one);
    RUN(test_heterogenous_resurrect_two);
    RUN(test_heterogenous_resurrect_three);
    RUN(test_legacy);
    RUN(test_legacy_resurrect);
    RUN(test_legacy_self_cycle);
    RUN(test_resurrection_only_happens_once_per_object);
    RUN(test_resurrection_is_transitive);
    RUN(test_resurrection_does_not_block_cleanup_of_other_objects);
    RUN(test_is_finalized);
    RUN(test_function_tp_clear_leaves_consistent_state);
    RUN(test_bug21435);
    RUN(test_get_objects_during_gc);
    RUN(test_del);
    RUN(test_trashcan);
    RUN(test_bug1055820b);
    RUN(test_trash_weakref_clear);
    return harness_summary();
}
