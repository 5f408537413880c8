/*
 * Weak references and finalize registrations: the garbage-collection parts
 * of CPython's Lib/test/test_weakref.py, scenario by scenario, named after
 * the CPython tests. CPython's callbacks are Python objects (bound methods,
 * functions) that can themselves be garbage; here callbacks are C functions,
 * and where a scenario needs "the callback object" it is modelled by a node
 * that the callback's owner holds, which is what makes it garbage or not.
 */
#include "harness.h"

typedef struct wobj_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *b;
    rcy_object_t *c;
    rcy_object_t *weaklist;
    long id;
} wobj_t;

static int wobj_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    wobj_t *o = (wobj_t *)self;
    RCY_VISIT(o->a);
    RCY_VISIT(o->b);
    RCY_VISIT(o->c);
    return 0;
}

static int wobj_clear(rcy_object_t *self)
{
    wobj_t *o = (wobj_t *)self;
    RCY_CLEAR(o->a);
    RCY_CLEAR(o->b);
    RCY_CLEAR(o->c);
    return 0;
}

static rcy_type_t *T; /* "C": a container that supports weak references */

static rcy_runtime_t *setup(capture_t *cap)
{
    rcy_runtime_t *rt = test_runtime(cap);
    rcy_type_spec_t spec = {0};
    spec.name = "C";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.weaklistoffset = offsetof(wobj_t, weaklist);
    T = rcy_type_new(rt, &spec);
    rcy_gc_disable(rt);
    return rt;
}

static wobj_t *C(long id)
{
    wobj_t *o = (wobj_t *)rcy_new(T);
    o->id = id;
    return o;
}

#define SET(field, v) RCY_XSETREF(field, (rcy_object_t *)(v))

/* A log of callback events. */
static char events[64][48];
static int n_events;

static void log_event(long v)
{
    if (n_events < 64)
        snprintf(events[n_events++], sizeof events[0], "cb %ld", v);
}

static int callback(rcy_object_t *wr, void *arg)
{
    CHECK(!rcy_weakref_is_alive(wr)); /* cleared before the call */
    log_event((long)(intptr_t)arg);
    return 0;
}

TEST(test_basic_callback)
{
    rcy_runtime_t *rt = setup(NULL);
    n_events = 0;
    wobj_t *o = C(1);
    rcy_object_t *wr = rcy_weakref_new(&o->ob, callback, (void *)1);
    CHECK(wr != NULL);
    CHECK(rcy_weakref_is_alive(wr));
    rcy_object_t *got = rcy_weakref_get(wr);
    CHECK(got == &o->ob);
    CHECK_EQ(rcy_getrefcount(&o->ob), 2); /* get returns a new reference */
    rcy_decref(got);
    CHECK_EQ(rcy_weakref_count(&o->ob), 1);
    rcy_decref(&o->ob);
    CHECK_EQ(n_events, 1);
    CHECK(rcy_weakref_get(wr) == NULL);
    rcy_decref(wr);
    test_runtime_end(rt);
}

TEST(test_multiple_callbacks)
{
    rcy_runtime_t *rt = setup(NULL);
    n_events = 0;
    wobj_t *o = C(1);
    rcy_object_t *r1 = rcy_weakref_new(&o->ob, callback, (void *)1);
    rcy_object_t *r2 = rcy_weakref_new(&o->ob, callback, (void *)2);
    CHECK(r1 != r2);
    CHECK_EQ(rcy_weakref_count(&o->ob), 2);
    rcy_decref(&o->ob);
    CHECK_EQ(n_events, 2);
    /* Most recently registered first (weakref documentation). */
    CHECK(strcmp(events[0], "cb 2") == 0);
    CHECK(strcmp(events[1], "cb 1") == 0);
    rcy_decref(r1);
    rcy_decref(r2);
    test_runtime_end(rt);
}

/* All references are invalidated before any callback is called. */
static rcy_object_t *selfref_wr[2];
static int selfref_bad;
static int selfref_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    selfref_bad += rcy_weakref_is_alive(selfref_wr[0]) + rcy_weakref_is_alive(selfref_wr[1]);
    n_events++;
    return 0;
}

TEST(test_multiple_selfref_callbacks)
{
    rcy_runtime_t *rt = setup(NULL);
    n_events = 0;
    selfref_bad = 0;
    wobj_t *o = C(1);
    selfref_wr[0] = rcy_weakref_new(&o->ob, selfref_callback, NULL);
    selfref_wr[1] = rcy_weakref_new(&o->ob, selfref_callback, NULL);
    rcy_decref(&o->ob);
    CHECK_EQ(n_events, 2);
    CHECK_EQ(selfref_bad, 0);
    rcy_decref(selfref_wr[0]);
    rcy_decref(selfref_wr[1]);
    test_runtime_end(rt);
}

static int failing_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    n_events++;
    return -1;
}

TEST(test_callbacks_protected)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = setup(&cap);
    n_events = 0;
    wobj_t *o = C(1);
    rcy_object_t *r1 = rcy_weakref_new(&o->ob, failing_callback, NULL);
    rcy_object_t *r2 = rcy_weakref_new(&o->ob, callback, (void *)2);
    rcy_decref(&o->ob);
    /* The error is reported, not propagated, and the other callback runs. */
    CHECK_EQ(n_events, 2);
    CHECK_STR_CONTAINS(cap.text, "Exception ignored on calling weakref callback");
    rcy_decref(r1);
    rcy_decref(r2);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(test_ref_reuse)
{
    rcy_runtime_t *rt = setup(NULL);
    wobj_t *o = C(1);
    rcy_object_t *r1 = rcy_weakref_new(&o->ob, NULL, NULL);
    rcy_object_t *r2 = rcy_weakref_new(&o->ob, NULL, NULL);
    CHECK(r1 == r2); /* weakref.ref(o) is weakref.ref(o) */
    rcy_object_t *r3 = rcy_weakref_new(&o->ob, callback, NULL);
    CHECK(r3 != r1);
    CHECK_EQ(rcy_weakref_count(&o->ob), 2);
    CHECK(rcy_is_weakref(r1));
    CHECK(!rcy_is_weakref(&o->ob));
    rcy_decref(r3);
    CHECK_EQ(rcy_weakref_count(&o->ob), 1);
    rcy_decref(r1);
    rcy_decref(r2);
    CHECK_EQ(rcy_weakref_count(&o->ob), 0);
    rcy_decref(&o->ob);
    test_runtime_end(rt);
}

TEST(test_weakref_errors)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "NoWeak";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    rcy_type_t *nw = rcy_type_new(rt, &spec);
    rcy_object_t *o = rcy_new(nw);
    CHECK(rcy_weakref_new(o, NULL, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(rcy_weakref_new(NULL, NULL, NULL) == NULL);
    CHECK(rcy_weakref_get(o) == NULL); /* not a weak reference */
    CHECK(rcy_weakref_get(NULL) == NULL);
    CHECK_EQ(rcy_weakref_count(o), 0);
    rcy_decref(o);
    test_runtime_end(rt);
}

/* c1 <-> c2 each hold a weak reference (with callback) to the other, and
   both reference K ("the class C"), to which an external weak reference
   with a callback points. The trash weak references never call back; the
   external one does. */
TEST(test_callback_in_cycle_resurrection)
{
    rcy_runtime_t *rt = setup(NULL);
    n_events = 0;
    wobj_t *k = C(99);
    wobj_t *c1 = C(1), *c2 = C(2);
    SET(c1->a, c2);
    SET(c2->a, c1);
    SET(c1->c, k);
    SET(c2->c, k);
    rcy_object_t *w = rcy_weakref_new(&c2->ob, callback, (void *)1);
    SET(c1->b, w);
    rcy_decref(w);
    w = rcy_weakref_new(&c1->ob, callback, (void *)2);
    SET(c2->b, w);
    rcy_decref(w);
    rcy_object_t *wr = rcy_weakref_new(&k->ob, callback, (void *)3);
    rcy_decref(&c1->ob);
    rcy_decref(&c2->ob);
    rcy_decref(&k->ob);
    CHECK_EQ(n_events, 0); /* del is not enough to reclaim anything */
    CHECK_EQ(rcy_gc_collect(rt, 2), 5);
    CHECK_EQ(n_events, 1);
    CHECK(strcmp(events[0], "cb 3") == 0); /* "C went away" */
    CHECK(rcy_weakref_get(wr) == NULL);
    rcy_decref(wr);
    test_runtime_end(rt);
}

/* Weak references *on* callbacks: c <-> d; m is "c.cb" (held by c, holds
   c). c.wr = ref(d, cb), d.wr = ref(m, cb), external_wr = ref(m, safe).
   Only the external one runs, when m is reclaimed. */
TEST(test_callbacks_on_callback)
{
    rcy_runtime_t *rt = setup(NULL);
    n_events = 0;
    wobj_t *c = C(1), *d = C(2), *m = C(3);
    SET(c->a, d);
    SET(d->a, c);
    SET(c->c, m);
    SET(m->a, c);
    rcy_object_t *w = rcy_weakref_new(&d->ob, callback, (void *)1);
    SET(c->b, w);
    rcy_decref(w);
    w = rcy_weakref_new(&m->ob, callback, (void *)2);
    SET(d->b, w);
    rcy_decref(w);
    rcy_object_t *external = rcy_weakref_new(&m->ob, callback, (void *)3);
    rcy_decref(&c->ob);
    rcy_decref(&d->ob);
    rcy_decref(&m->ob);
    CHECK_EQ(n_events, 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_events, 1);
    CHECK(strcmp(events[0], "cb 3") == 0);
    CHECK(!rcy_weakref_is_alive(external));
    rcy_decref(external);
    test_runtime_end(rt);
}

/* test_callback_reachable_one_way: c2 is in a self cycle (c2.me = c2) and
   holds c1 and wr = ref(c1, c2.cb); c1 can be reached from c2, not the
   other way. All of them are trash, wr included, so its callback never
   runs: had it run, it would have seen c2 cleared (the bug this CPython
   test guards). CPython collects 4 (c1, c2, wr, the bound method c2.cb);
   here the callback is a C function, so 3. */
static int n_one_way_calls;
static int one_way_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    wobj_t *c2 = arg; /* self.me, self.c1, self.wr */
    CHECK(c2->a != NULL && c2->b != NULL && c2->c != NULL);
    n_one_way_calls++;
    return 0;
}

TEST(test_callback_reachable_one_way)
{
    rcy_runtime_t *rt = setup(NULL);
    n_one_way_calls = 0;
    wobj_t *c1 = C(1), *c2 = C(2);
    SET(c2->a, c2); /* c2.me = c2 */
    SET(c2->b, c1); /* c2.c1 = c1 */
    rcy_object_t *w = rcy_weakref_new(&c1->ob, one_way_callback, c2);
    SET(c2->c, w); /* c2.wr = weakref.ref(c1, c2.cb) */
    rcy_decref(w);
    rcy_decref(&c1->ob);
    rcy_decref(&c2->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    CHECK_EQ(n_one_way_calls, 0);
    test_runtime_end(rt);
}

/* The other way round: a weak reference held from outside the trash, to
   trash, calls back (it outlives its referent). */
TEST(test_callback_held_outside_trash)
{
    rcy_runtime_t *rt = setup(NULL);
    n_events = 0;
    wobj_t *holder = C(1);
    wobj_t *t1 = C(2), *t2 = C(3);
    SET(t1->a, t2);
    SET(t2->a, t1);
    rcy_object_t *w = rcy_weakref_new(&t1->ob, callback, (void *)7);
    SET(holder->a, w);
    rcy_decref(w);
    rcy_decref(&t1->ob);
    rcy_decref(&t2->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(n_events, 1);
    rcy_decref(&holder->ob);
    test_runtime_end(rt);
}

/* test_gc_during_ref_creation: a collection run by the allocation of a
   weak reference (threshold 1) while trash holds weak references. */
TEST(test_gc_during_ref_creation)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_gc_enable(rt);
    rcy_gc_set_threshold(rt, 1, 1, 1);
    rcy_gc_collect(rt, 2);
    wobj_t *referenced = C(1);
    wobj_t *a = C(2);
    SET(a->a, a);
    rcy_object_t *w = rcy_weakref_new(&referenced->ob, NULL, NULL);
    SET(a->b, w);
    rcy_decref(w);
    rcy_decref(&a->ob); /* a is now cyclic trash holding a weak reference */
    for (int i = 0; i < 20; i++) {
        w = rcy_weakref_new(&referenced->ob, callback, NULL);
        CHECK(w != NULL);
        rcy_decref(w);
    }
    rcy_decref(&referenced->ob);
    rcy_gc_set_threshold(rt, 700, 10, 10);
    test_runtime_end(rt);
}

/* test_ref_created_during_del (bug #1377858): a weak reference created by
   a finalizer to its dying object is cleared, by refcount death and by a
   collection (GH-91636), and never points at freed memory. */
static rcy_object_t *ref_from_del;
static int make_ref_finalize(rcy_object_t *self)
{
    RCY_XSETREF(ref_from_del, NULL);
    ref_from_del = rcy_weakref_new(self, callback, (void *)5);
    return 0;
}

TEST(test_ref_created_during_del)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Target";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.finalize = make_ref_finalize;
    spec.weaklistoffset = offsetof(wobj_t, weaklist);
    rcy_type_t *target = rcy_type_new(rt, &spec);

    n_events = 0;
    rcy_object_t *w = rcy_new(target);
    rcy_decref(w); /* refcount death */
    CHECK(ref_from_del != NULL);
    CHECK(!rcy_weakref_is_alive(ref_from_del));
    CHECK_EQ(n_events, 1); /* its callback ran: the weak reference is not garbage */

    n_events = 0;
    wobj_t *cyc = (wobj_t *)rcy_new(target);
    SET(cyc->a, cyc);
    rcy_decref(&cyc->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK(!rcy_weakref_is_alive(ref_from_del));
    CHECK_EQ(n_events, 0); /* cleared after finalization, without callback */
    RCY_CLEAR(ref_from_del);
    test_runtime_end(rt);
}

/* test_sf_bug_840829 ("weakref callbacks and gc corrupt memory"): a
   callback that runs a collection while its referent is being deallocated
   by reference counting, first the referent alone, then an object torn
   down inside the deallocation of its holders (c2 -> c1 -> c1.i: "any gc
   triggered by weakref callbacks associated with anything torn down by a
   base class dealloc"). The objects being deallocated must be invisible to
   that collection (it would deallocate them a second time); it still finds
   the cyclic trash that waits (CPython: gc.collect() in the second callback
   returns 1, the trash). */
static rcy_runtime_t *collecting_rt;
static intptr_t collected_in_callback;
static int collect_callback(rcy_object_t *wr, void *arg)
{
    CHECK(!rcy_weakref_is_alive(wr));
    log_event((long)(intptr_t)arg);
    collected_in_callback = rcy_gc_collect(collecting_rt, 2);
    return 0;
}

static void make_trash(void)
{
    wobj_t *t = C(100);
    SET(t->a, t);
    rcy_decref(&t->ob);
}

TEST(test_sf_bug_840829)
{
    rcy_runtime_t *rt = setup(NULL);
    collecting_rt = rt;
    n_events = 0;
    make_trash();
    wobj_t *c = C(1);
    rcy_object_t *wr = rcy_weakref_new(&c->ob, collect_callback, (void *)1);
    collected_in_callback = -1;
    rcy_decref(&c->ob); /* the callback collects inside c's deallocation */
    CHECK_EQ(n_events, 1);
    CHECK_EQ(collected_in_callback, 1); /* the trash, not c */
    rcy_decref(wr);

    make_trash();
    wobj_t *c1 = C(2), *i = C(3);
    SET(c1->a, i);
    wr = rcy_weakref_new(&i->ob, collect_callback, (void *)2);
    rcy_decref(&i->ob);
    wobj_t *c2 = C(4);
    SET(c2->a, c1);
    rcy_decref(&c1->ob); /* still alive because c2 points to it */
    collected_in_callback = -1;
    rcy_decref(&c2->ob); /* c2, then c1, then c1.i, whose callback collects */
    CHECK_EQ(n_events, 2);
    CHECK_EQ(collected_in_callback, 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1); /* wr */
    rcy_decref(wr);
    test_runtime_end(rt);
}

/* test_callback_gcs: an object with a finalizer dies by reference
   counting and its weak reference's callback runs a collection. The
   finalizer runs first, then the callback (CPython's subtype_dealloc
   order: ['del', callback]); the dying object is not seen by that
   collection, which finds the trash (CPython: 1). */
static int log_del_finalize(rcy_object_t *self)
{
    if (n_events < 64)
        snprintf(events[n_events++], sizeof events[0], "del %ld", ((wobj_t *)self)->id);
    return 0;
}

TEST(test_callback_gcs)
{
    rcy_runtime_t *rt = setup(NULL);
    collecting_rt = rt;
    n_events = 0;
    rcy_type_spec_t spec = {0};
    spec.name = "ObjectWithDel";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.finalize = log_del_finalize;
    spec.weaklistoffset = offsetof(wobj_t, weaklist);
    rcy_type_t *with_del = rcy_type_new(rt, &spec);
    make_trash();
    wobj_t *x = (wobj_t *)rcy_new(with_del);
    x->id = 1;
    rcy_object_t *ref1 = rcy_weakref_new(&x->ob, collect_callback, (void *)1);
    collected_in_callback = -1;
    rcy_decref(&x->ob);
    CHECK_EQ(n_events, 2);
    CHECK(n_events == 2 && strcmp(events[0], "del 1") == 0 && strcmp(events[1], "cb 1") == 0);
    CHECK_EQ(collected_in_callback, 1);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    rcy_decref(ref1);

    /* The same object in a cycle: the finalizer runs in the collection,
       which is running, so the callback's collection is refused (0). */
    n_events = 0;
    x = (wobj_t *)rcy_new(with_del);
    x->id = 2;
    SET(x->a, x);
    ref1 = rcy_weakref_new(&x->ob, collect_callback, (void *)2);
    rcy_decref(&x->ob);
    collected_in_callback = -1;
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(n_events, 2);
    CHECK(n_events == 2 && strcmp(events[0], "cb 2") == 0 && strcmp(events[1], "del 2") == 0);
    CHECK_EQ(collected_in_callback, 0);
    rcy_decref(ref1);
    test_runtime_end(rt);
}

/* ---- FinalizeTestCase ------------------------------------------------- */

static char fin_log[32][8];
static int n_fin;

static int fin_append(void *arg)
{
    if (n_fin < 32)
        snprintf(fin_log[n_fin++], sizeof fin_log[0], "%s", (const char *)arg);
    return 0;
}

static void mark(const char *s) { fin_append((void *)(uintptr_t)s); }

TEST(test_finalize)
{
    rcy_runtime_t *rt = setup(NULL);
    n_fin = 0;
    wobj_t *a = C(1);
    rcy_object_t *f = rcy_finalize_register(&a->ob, fin_append, "f");
    CHECK(f != NULL);
    CHECK_EQ(rcy_finalize_alive(f), 1);
    CHECK_EQ(rcy_finalize_call(f), 1);
    CHECK_EQ(n_fin, 1);
    CHECK_EQ(rcy_finalize_alive(f), 0);
    CHECK_EQ(rcy_finalize_call(f), 0); /* only once */
    CHECK_EQ(rcy_finalize_detach(f), 0);
    rcy_decref(f);

    f = rcy_finalize_register(&a->ob, fin_append, "g");
    CHECK_EQ(rcy_finalize_detach(f), 1);
    CHECK_EQ(rcy_finalize_alive(f), 0);
    rcy_decref(f);
    rcy_decref(&a->ob); /* nothing registered any more */
    CHECK_EQ(n_fin, 1);

    /* Also for an object that dies in a cycle. */
    a = C(2);
    SET(a->a, a);
    rcy_decref(rcy_finalize_register(&a->ob, fin_append, "cyc"));
    rcy_decref(&a->ob);
    CHECK_EQ(n_fin, 1);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_fin, 2);
    CHECK(strcmp(fin_log[1], "cyc") == 0);
    test_runtime_end(rt);
}

TEST(test_arg_errors)
{
    rcy_runtime_t *rt = setup(NULL);
    wobj_t *a = C(1);
    CHECK(rcy_finalize_register(&a->ob, NULL, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_finalize_register(NULL, fin_append, NULL) == NULL);
    CHECK_EQ(rcy_finalize_call(&a->ob), RCY_EINVAL);
    CHECK_EQ(rcy_finalize_detach(&a->ob), RCY_EINVAL);
    CHECK_EQ(rcy_finalize_alive(&a->ob), 0);
    rcy_object_t *wr = rcy_weakref_new(&a->ob, NULL, NULL);
    CHECK_EQ(rcy_finalize_call(wr), RCY_EINVAL); /* a plain weak reference */
    rcy_decref(wr);
    rcy_decref(&a->ob);
    test_runtime_end(rt);
}

TEST(test_order)
{
    rcy_runtime_t *rt = setup(NULL);
    n_fin = 0;
    wobj_t *a = C(1);
    rcy_object_t *f1 = rcy_finalize_register(&a->ob, fin_append, "f1");
    rcy_object_t *f2 = rcy_finalize_register(&a->ob, fin_append, "f2");
    rcy_object_t *f3 = rcy_finalize_register(&a->ob, fin_append, "f3");
    rcy_object_t *f4 = rcy_finalize_register(&a->ob, fin_append, "f4");
    rcy_object_t *f5 = rcy_finalize_register(&a->ob, fin_append, "f5");
    /* Registrations keep themselves alive. */
    rcy_decref(f1);
    rcy_decref(f4);
    CHECK(rcy_finalize_alive(f2) && rcy_finalize_alive(f3) && rcy_finalize_alive(f5));
    CHECK_EQ(rcy_finalize_detach(f5), 1);
    CHECK(!rcy_finalize_alive(f5));
    rcy_finalize_call(f5); /* nothing: detached */
    mark("A");
    rcy_finalize_call(f3);
    CHECK(!rcy_finalize_alive(f3));
    mark("B");
    rcy_finalize_call(f3); /* nothing: already called */
    mark("C");
    rcy_decref(&a->ob); /* f4, f2, f1: newest first */
    CHECK(!rcy_finalize_alive(f2));
    mark("D");
    rcy_finalize_call(f2);
    const char *expected[] = {"A", "f3", "B", "C", "f4", "f2", "f1", "D"};
    CHECK_EQ(n_fin, 8);
    for (int i = 0; i < 8 && i < n_fin; i++)
        CHECK(strcmp(fin_log[i], expected[i]) == 0);
    rcy_decref(f2);
    rcy_decref(f3);
    rcy_decref(f5);
    test_runtime_end(rt);
}

/* test_all_freed: a registration that is the only thing keeping an
   object's data alive releases everything when it runs. */
static int release_node(void *arg)
{
    rcy_decref((rcy_object_t *)arg);
    return 0;
}

TEST(test_all_freed)
{
    rcy_runtime_t *rt = setup(NULL);
    wobj_t *a = C(1);
    wobj_t *data = C(2);
    rcy_decref(rcy_finalize_register(&a->ob, release_node, data)); /* owns data */
    rcy_decref(&a->ob);
    test_runtime_end(rt);
}

/* test_atexit: live registrations run at teardown, newest first, except
   those with atexit off. */
TEST(test_atexit)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = setup(&cap);
    n_fin = 0;
    wobj_t *a = C(1), *b = C(2);
    rcy_decref(rcy_finalize_register(&a->ob, fin_append, "fa1"));
    rcy_object_t *off = rcy_finalize_register(&b->ob, fin_append, "fb");
    CHECK_EQ(rcy_finalize_set_atexit(off, 0), 0);
    rcy_decref(off);
    rcy_decref(rcy_finalize_register(&a->ob, fin_append, "fa2"));
    /* a and b stay alive until teardown: a C variable holds them. */
    wobj_t *keep = C(3);
    SET(keep->a, a);
    SET(keep->b, b);
    SET(keep->c, keep); /* and keep is cyclic garbage once released */
    rcy_decref(&a->ob);
    rcy_decref(&b->ob);
    rcy_decref(&keep->ob);
    rcy_runtime_destroy(rt);
    CHECK_EQ(n_fin, 2);
    CHECK(n_fin == 2 && strcmp(fin_log[0], "fa2") == 0 && strcmp(fin_log[1], "fa1") == 0);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
}


/* ---- Weak maps ---------------------------------------------------------- */

TEST(test_weak_values)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_object_t *d = rcy_weakvaluedict_new(rt);
    CHECK(rcy_is_weakmap(d));
    wobj_t *v1 = C(1), *v2 = C(2);
    rcy_object_t *k1 = rcy_str_new(rt, "one"), *k2 = rcy_int_new(rt, 2);
    CHECK_EQ(rcy_weakmap_set(d, k1, &v1->ob), 0);
    CHECK_EQ(rcy_weakmap_set(d, k2, &v2->ob), 0);
    CHECK_EQ(rcy_weakmap_len(d), 2);
    rcy_object_t *got = rcy_weakmap_get(d, k1);
    CHECK(got == &v1->ob);
    rcy_xdecref(got);
    /* The map does not keep values alive: the entry goes with the value. */
    rcy_decref(&v1->ob);
    CHECK_EQ(rcy_weakmap_len(d), 1);
    CHECK(rcy_weakmap_get(d, k1) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    /* Replacing a value: the old one's death does not remove the new entry. */
    wobj_t *v3 = C(3);
    CHECK_EQ(rcy_weakmap_set(d, k2, &v3->ob), 0);
    rcy_decref(&v2->ob);
    CHECK_EQ(rcy_weakmap_len(d), 1);
    got = rcy_weakmap_get(d, k2);
    CHECK(got == &v3->ob);
    rcy_xdecref(got);
    /* Errors. */
    rcy_object_t *lst = rcy_list_new(rt);
    CHECK_EQ(rcy_weakmap_set(d, lst, &v3->ob), RCY_EHASH);
    CHECK_EQ(rcy_weakmap_set(d, k1, k2), RCY_ETYPE); /* ints have no weak references */
    CHECK_EQ(rcy_weakmap_del(d, k1), RCY_EKEY);
    CHECK_EQ(rcy_weakmap_set(lst, k1, &v3->ob), RCY_EINVAL);
    CHECK_EQ(rcy_weakmap_del(d, k2), 0);
    CHECK_EQ(rcy_weakmap_len(d), 0);
    rcy_decref(lst);
    rcy_decref(&v3->ob);
    rcy_decref(k1);
    rcy_decref(k2);
    rcy_decref(d);
    test_runtime_end(rt);
}

TEST(test_weak_keys)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_object_t *d = rcy_weakkeydict_new(rt);
    wobj_t *k1 = C(1), *k2 = C(2);
    rcy_object_t *v1 = rcy_str_new(rt, "v1"), *v2 = rcy_str_new(rt, "v2");
    CHECK_EQ(rcy_weakmap_set(d, &k1->ob, v1), 0);
    CHECK_EQ(rcy_weakmap_set(d, &k2->ob, v2), 0);
    CHECK_EQ(rcy_weakmap_set(d, &k2->ob, v1), 0); /* replace the value */
    CHECK_EQ(rcy_weakmap_len(d), 2);
    CHECK_EQ(rcy_getrefcount(&k1->ob), 1); /* keys are not kept alive */
    rcy_object_t *got = rcy_weakmap_get(d, &k2->ob);
    CHECK(got == v1);
    rcy_xdecref(got);
    /* Iteration in insertion order, new references. */
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    int n = 0;
    while (rcy_weakmap_next(d, &pos, &k, &v) == 1) {
        CHECK(k == (n == 0 ? &k1->ob : &k2->ob));
        CHECK(v == v1);
        rcy_decref(k);
        rcy_decref(v);
        n++;
    }
    CHECK_EQ(n, 2);
    rcy_decref(&k1->ob);
    CHECK_EQ(rcy_weakmap_len(d), 1);
    got = rcy_weakmap_get(d, &k2->ob);
    CHECK(got == v1);
    rcy_xdecref(got);
    rcy_decref(v1);
    rcy_decref(&k2->ob);
    CHECK_EQ(rcy_weakmap_len(d), 0);
    CHECK_EQ(rcy_weakmap_set(d, v2, v2), RCY_ETYPE);
    rcy_decref(v2);
    rcy_decref(d);
    test_runtime_end(rt);
}

/* test_weak_keyed_len_cycles / test_weak_valued_len_cycles: objects in
   cycles die in a collection and their entries go, except one an
   iteration still holds. */
static void check_len_cycles(int weak_keys)
{
    enum { N = 20 };
    rcy_runtime_t *rt = setup(NULL);
    rcy_object_t *d = weak_keys ? rcy_weakkeydict_new(rt) : rcy_weakvaluedict_new(rt);
    for (int i = 0; i < N; i++) {
        wobj_t *o = C(i);
        SET(o->a, o); /* RefCycle */
        rcy_object_t *num = rcy_int_new(rt, 1000 + i);
        CHECK_EQ(weak_keys ? rcy_weakmap_set(d, &o->ob, num) : rcy_weakmap_set(d, num, &o->ob), 0);
        rcy_decref(num);
        rcy_decref(&o->ob);
    }
    CHECK_EQ(rcy_weakmap_len(d), N);
    intptr_t pos = 0;
    rcy_object_t *k = NULL, *v = NULL;
    CHECK_EQ(rcy_weakmap_next(d, &pos, &k, &v), 1); /* keep an iteration alive */
    rcy_gc_collect(rt, 2);
    intptr_t n1 = rcy_weakmap_len(d);
    rcy_decref(k);
    rcy_decref(v);
    rcy_gc_collect(rt, 2);
    intptr_t n2 = rcy_weakmap_len(d);
    CHECK(n1 == 0 || n1 == 1);
    CHECK_EQ(n2, 0);
    rcy_decref(d);
    test_runtime_end(rt);
}

TEST(test_weak_keyed_len_cycles) { check_len_cycles(1); }
TEST(test_weak_valued_len_cycles) { check_len_cycles(0); }

/* test_weak_keyed_cascading_deletes: deleting one entry releases the only
   reference to another entry's key, whose entry goes during the delete. */
TEST(test_weak_keyed_cascading_deletes)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_object_t *d = rcy_weakkeydict_new(rt);
    wobj_t *objs[4];
    for (int i = 0; i < 4; i++)
        objs[i] = C(i);
    /* d[objs[i]] = objs[i+1]: each value is the next key. */
    for (int i = 0; i < 4; i++)
        CHECK_EQ(rcy_weakmap_set(d, &objs[i]->ob, i < 3 ? &objs[i + 1]->ob : &objs[0]->ob), 0);
    for (int i = 1; i < 4; i++)
        rcy_decref(&objs[i]->ob); /* keys 1..3 live only as values */
    CHECK_EQ(rcy_weakmap_len(d), 4);
    CHECK_EQ(rcy_weakmap_del(d, &objs[0]->ob), 0); /* releases objs[1], then 2, then 3 */
    CHECK_EQ(rcy_weakmap_len(d), 0);
    rcy_decref(&objs[0]->ob);
    rcy_decref(d);
    test_runtime_end(rt);
}

/* A weak map that is itself garbage: no callback runs into it, and its
   dying values do not touch it. */
TEST(test_weakmap_in_garbage)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_object_t *d = rcy_weakvaluedict_new(rt);
    wobj_t *holder = C(1), *v = C(2);
    SET(holder->a, d);
    SET(holder->b, v);
    SET(v->a, holder); /* holder <-> v, holder -> map -> (weak) v */
    rcy_object_t *key = rcy_str_new(rt, "v");
    CHECK_EQ(rcy_weakmap_set(d, key, &v->ob), 0);
    rcy_decref(key);
    rcy_decref(d);
    rcy_decref(&v->ob);
    rcy_decref(&holder->ob);
    CHECK(rcy_gc_collect(rt, 2) >= 3);
    test_runtime_end(rt);
}

/* ---- Weak maps and collections run inside their calls ---------------- */

/* A runtime that does not poison freed memory (the release default), so
   that AddressSanitizer sees a use of a freed weak reference at once: the
   weak-map defect of issue 12 hid behind poisoning. Collections on. */
static rcy_runtime_t *setup_unpoisoned(void)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = 0;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    rcy_type_spec_t spec = {0};
    spec.name = "C";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.weaklistoffset = offsetof(wobj_t, weaklist);
    T = rcy_type_new(rt, &spec);
    return rt;
}

/* Replacing a value whose old value is cyclic garbage: the allocation of
   the new entry's weak reference runs a collection (threshold 1), which
   frees the old value and, through the entry's callback, the old weak
   reference. The set must not touch it afterwards. */
TEST(test_weakmap_set_old_entry_collected)
{
    rcy_runtime_t *rt = setup_unpoisoned();
    rcy_object_t *d = rcy_weakvaluedict_new(rt);
    rcy_object_t *key = rcy_str_new(rt, "k");
    wobj_t *a = C(1), *b = C(2);
    SET(a->a, a); /* a is in a cycle */
    CHECK_EQ(rcy_weakmap_set(d, key, &a->ob), 0);
    rcy_decref(&a->ob); /* cyclic garbage, not collected yet */
    rcy_gc_set_threshold(rt, 1, 10, 10);
    CHECK_EQ(rcy_weakmap_set(d, key, &b->ob), 0); /* collects a, and its entry */
    CHECK_EQ(rcy_weakmap_len(d), 1);
    rcy_object_t *got = rcy_weakmap_get(d, key);
    CHECK(got == &b->ob);
    rcy_xdecref(got);
    rcy_gc_set_threshold(rt, 700, 10, 10);
    rcy_decref(&b->ob);
    CHECK_EQ(rcy_weakmap_len(d), 0);
    rcy_decref(key);
    rcy_decref(d);
    test_runtime_end(rt);
}

/* Finalizers run by the collection inside rcy_weakmap_set change the very
   entry being set: one deletes it, one sets it to another value. */
static rcy_object_t *fin_map, *fin_key, *fin_value;
static int fin_mode; /* 1: del map[key]; 2: map[key] = fin_value */
static int map_finalize(rcy_object_t *self)
{
    (void)self;
    if (fin_mode == 1)
        CHECK_EQ(rcy_weakmap_del(fin_map, fin_key), 0);
    else if (fin_mode == 2)
        CHECK_EQ(rcy_weakmap_set(fin_map, fin_key, fin_value), 0);
    fin_mode = 0;
    return 0;
}

static void check_set_while_finalizer_changes_entry(int weak_keys, int mode)
{
    rcy_runtime_t *rt = setup_unpoisoned();
    rcy_type_spec_t spec = {0};
    spec.name = "Fin";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.finalize = map_finalize;
    rcy_type_t *fin_type = rcy_type_new(rt, &spec);
    fin_map = weak_keys ? rcy_weakkeydict_new(rt) : rcy_weakvaluedict_new(rt);
    wobj_t *k = C(1), *v1 = C(2), *v2 = C(3), *v3 = C(4);
    fin_key = weak_keys ? &k->ob : rcy_str_new(rt, "k");
    fin_value = &v3->ob;
    /* For a weak-key map the set that allocates is the key's first one. */
    if (!weak_keys)
        CHECK_EQ(rcy_weakmap_set(fin_map, fin_key, &v1->ob), 0);
    rcy_gc_collect(rt, 2);
    /* Cyclic garbage with a finalizer, found by the next collection. */
    wobj_t *g = (wobj_t *)rcy_new(fin_type);
    SET(g->a, g);
    rcy_decref(&g->ob);
    fin_mode = mode;
    rcy_gc_set_threshold(rt, 1, 10, 10);
    CHECK_EQ(rcy_weakmap_set(fin_map, fin_key, &v2->ob), 0); /* the finalizer runs inside */
    rcy_gc_set_threshold(rt, 700, 10, 10);
    CHECK_EQ(fin_mode, 0); /* it ran */
    /* The set came last: its value is the entry's. */
    CHECK_EQ(rcy_weakmap_len(fin_map), 1);
    rcy_object_t *got = rcy_weakmap_get(fin_map, fin_key);
    CHECK(got == &v2->ob);
    rcy_xdecref(got);
    /* The values the set replaced die without removing its entry. */
    rcy_decref(&v1->ob);
    rcy_decref(&v3->ob);
    CHECK_EQ(rcy_weakmap_len(fin_map), 1);
    intptr_t pos = 0;
    rcy_object_t *ik, *iv;
    CHECK_EQ(rcy_weakmap_next(fin_map, &pos, &ik, &iv), 1);
    CHECK(ik == fin_key && iv == &v2->ob);
    rcy_decref(ik);
    rcy_decref(iv);
    CHECK_EQ(rcy_weakmap_next(fin_map, &pos, &ik, &iv), 0);
    if (weak_keys) {
        rcy_decref(&v2->ob);
        rcy_decref(&k->ob); /* the key dies: the entry goes */
    } else {
        rcy_decref(&k->ob);
        rcy_decref(&v2->ob); /* the value dies: the entry goes */
        rcy_decref(fin_key);
    }
    CHECK_EQ(rcy_weakmap_len(fin_map), 0);
    RCY_CLEAR(fin_map);
    fin_key = fin_value = NULL;
    test_runtime_end(rt);
}

TEST(test_weakmap_set_while_finalizer_deletes)
{
    check_set_while_finalizer_changes_entry(0, 1);
}

TEST(test_weakmap_set_while_finalizer_sets)
{
    check_set_while_finalizer_changes_entry(0, 2);
    check_set_while_finalizer_changes_entry(1, 2);
}

/* An entry's callback releases the entry's value, whose finalizer releases
   the last reference to the map: the map outlives the callback. */
static rcy_object_t *held_map;
static int release_map_finalize(rcy_object_t *self)
{
    (void)self;
    RCY_CLEAR(held_map);
    return 0;
}

TEST(test_weakmap_callback_value_releases_map)
{
    rcy_runtime_t *rt = setup_unpoisoned();
    rcy_type_spec_t spec = {0};
    spec.name = "ReleasesMap";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.finalize = release_map_finalize;
    rcy_type_t *vt = rcy_type_new(rt, &spec);
    held_map = rcy_weakkeydict_new(rt);
    wobj_t *k = C(1), *k2 = C(2);
    rcy_object_t *v = rcy_new(vt);
    CHECK_EQ(rcy_weakmap_set(held_map, &k->ob, v), 0);
    CHECK_EQ(rcy_weakmap_set(held_map, &k2->ob, v), 0);
    rcy_decref(v); /* held by the map only */
    CHECK_EQ(rcy_weakmap_len(held_map), 2);
    rcy_decref(&k2->ob); /* its entry goes; v lives on in the other one */
    CHECK_EQ(rcy_weakmap_len(held_map), 1);
    rcy_decref(&k->ob); /* the entry goes, v dies, its finalizer releases the map */
    CHECK(held_map == NULL);
    test_runtime_end(rt);
}

/* A weak map cleared by the collector (its clear slot ran) and then used by
   a peer's deallocation, as CPython lets a tp_clear'ed object be seen:
   it reads as empty and refuses to be filled. */
static rcy_object_t *peer_key;
static int peer_results[6];
static void peer_dealloc(rcy_object_t *self)
{
    wobj_t *o = (wobj_t *)self;
    rcy_object_t *map = o->a;
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    peer_results[0] = 1;
    peer_results[1] = (int)rcy_weakmap_len(map);
    peer_results[2] = rcy_weakmap_next(map, &pos, &k, &v);
    peer_results[3] = rcy_weakmap_get(map, peer_key) == NULL ? rcy_last_error(rcy_object_runtime(self)) : 1;
    peer_results[4] = rcy_weakmap_del(map, peer_key);
    peer_results[5] = rcy_weakmap_set(map, peer_key, peer_key);
    wobj_clear(self);
}

TEST(test_weakmap_used_after_collector_cleared_it)
{
    rcy_runtime_t *rt = setup_unpoisoned();
    rcy_gc_disable(rt);
    rcy_type_spec_t spec = {0};
    spec.name = "Peer";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.dealloc = peer_dealloc;
    rcy_type_t *pt = rcy_type_new(rt, &spec);
    memset(peer_results, 0, sizeof peer_results);
    wobj_t *key = C(1);
    peer_key = &key->ob;
    rcy_object_t *map = rcy_weakkeydict_new(rt);
    wobj_t *peer = (wobj_t *)rcy_new(pt);
    SET(peer->a, map); /* peer -> map -> (its values dict) -> peer */
    CHECK_EQ(rcy_weakmap_set(map, &key->ob, &peer->ob), 0);
    /* The map first in the collector's list, its dicts last: the map is
       cleared first, and releasing its values dict kills the peer. */
    rcy_objarray_t inner = {0};
    CHECK_EQ(rcy_gc_get_referents(rt, &map, 1, &inner), 0);
    CHECK_EQ(inner.len, 2);
    rcy_gc_untrack(&peer->ob);
    rcy_gc_track(&peer->ob);
    for (size_t i = 0; i < inner.len; i++) {
        rcy_gc_untrack(inner.items[i]);
        rcy_gc_track(inner.items[i]);
    }
    rcy_objarray_release(&inner);
    rcy_decref(map);
    rcy_decref(&peer->ob);
    CHECK(rcy_gc_collect(rt, 2) >= 4);
    CHECK_EQ(peer_results[0], 1); /* the peer died */
    CHECK_EQ(peer_results[1], 0); /* len */
    CHECK_EQ(peer_results[2], 0); /* next: the end */
    CHECK_EQ(peer_results[3], RCY_EKEY);
    CHECK_EQ(peer_results[4], RCY_EKEY);
    CHECK_EQ(peer_results[5], RCY_ESTATE);
    rcy_decref(&key->ob);
    peer_key = NULL;
    test_runtime_end(rt);
}

/* test_trashcan_16602 (issue #16602): a chain deeper than the trashcan's
   limit (50) dies in one cascade: d[c] = c = C(c), a weak-key map from each
   node to its child, and each child's weak reference to its parent has a
   callback whose closure holds the child's own weak reference (wself) and
   calls it. When the trashcan delayed the clearing of weak references, a
   callback got back an object whose count had already dropped to 0. The
   closures are the test's (wselves[]), as a Python closure outlives the
   frame that made it. The deaths nest through the map's callbacks, not
   through released references: with CPython's 100 nodes, and with enough
   to overflow the stack if the trashcan did not bound that nesting. */
static rcy_object_t **wselves;
static int calls_16602, dead_seen_16602;

static int cb_16602(rcy_object_t *wparent, void *arg)
{
    (void)wparent;
    calls_16602++;
    rcy_object_t *o = rcy_weakref_get(wselves[(intptr_t)arg]); /* o = wself() */
    if (o != NULL && rcy_getrefcount(o) < 2) {
        dead_seen_16602++; /* a dying object, seen from outside: do not release it again */
        return 0;
    }
    rcy_xdecref(o);
    return 0;
}

static void check_trashcan_16602(int chain)
{
    rcy_runtime_t *rt = setup(NULL);
    calls_16602 = dead_seen_16602 = 0;
    wselves = calloc((size_t)chain + 1, sizeof *wselves);
    rcy_object_t *d = rcy_weakkeydict_new(rt);
    wobj_t *root = C(0);
    wobj_t *c = root; /* borrowed from here on: the map's values hold them */
    for (int n = 1; n <= chain; n++) {
        wobj_t *child = C(n); /* C(parent) */
        wselves[n] = rcy_weakref_new(&child->ob, NULL, NULL);
        rcy_object_t *wparent = rcy_weakref_new(&c->ob, cb_16602, (void *)(intptr_t)n);
        SET(child->c, wparent);
        rcy_decref(wparent);
        CHECK_EQ(rcy_weakmap_set(d, &c->ob, &child->ob), 0); /* d[c] = child */
        if (n < chain)
            rcy_decref(&child->ob);
        c = child;
    }
    CHECK_EQ(rcy_weakmap_len(d), chain);
    rcy_decref(&root->ob); /* del root: the whole chain but the last node dies */
    CHECK_EQ(calls_16602, chain);
    CHECK_EQ(dead_seen_16602, 0);
    CHECK_EQ(rcy_weakmap_len(d), 0);
    int alive = 0;
    for (int n = 1; n <= chain; n++)
        alive += rcy_weakref_is_alive(wselves[n]);
    CHECK_EQ(alive, 1);
    CHECK(rcy_weakref_is_alive(wselves[chain]));
    CHECK_EQ(rcy_runtime_live_objects(rt), (size_t)chain + 5); /* d and its 2 dicts, c, c.wparent, wselves */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    rcy_decref(&c->ob);
    for (int n = 1; n <= chain; n++)
        RCY_CLEAR(wselves[n]);
    free(wselves);
    wselves = NULL;
    rcy_decref(d);
    test_runtime_end(rt);
}

/* In a chain deeper than the trashcan's limit, a dying node's callbacks run
   before the node's references are released, as for a shallow death
   (CPython's subtype_dealloc clears weak references, calling their
   callbacks, before it clears the slots): each node holds a leaf, and its
   callback finds the leaf still alive. The deferred callbacks were once
   called only after the deferred releases. */
static rcy_object_t **leafrefs;
static int deep_calls, deep_leaf_dead;

static int cb_deep_order(rcy_object_t *wr, void *arg)
{
    (void)wr;
    deep_calls++;
    if (!rcy_weakref_is_alive(leafrefs[(intptr_t)arg]))
        deep_leaf_dead++;
    return 0;
}

TEST(test_deep_chain_callbacks_before_release)
{
    rcy_runtime_t *rt = setup(NULL);
    enum { N = 300 };
    leafrefs = calloc(N, sizeof *leafrefs);
    rcy_object_t *refs[N];
    deep_calls = deep_leaf_dead = 0;
    wobj_t *head = C(0), *c = head;
    for (intptr_t i = 0; i < N; i++) {
        wobj_t *leaf = C(-1);
        SET(c->b, leaf);
        leafrefs[i] = rcy_weakref_new(&leaf->ob, NULL, NULL);
        rcy_decref(&leaf->ob);
        refs[i] = rcy_weakref_new(&c->ob, cb_deep_order, (void *)i);
        if (i + 1 < N) {
            wobj_t *next = C(i + 1);
            SET(c->a, next);
            rcy_decref(&next->ob);
            c = next;
        }
    }
    rcy_decref(&head->ob);
    CHECK_EQ(deep_calls, N);
    CHECK_EQ(deep_leaf_dead, 0);
    for (int i = 0; i < N; i++) {
        CHECK(!rcy_weakref_is_alive(leafrefs[i]));
        rcy_decref(leafrefs[i]);
        rcy_decref(refs[i]);
    }
    free(leafrefs);
    leafrefs = NULL;
    test_runtime_end(rt);
}

/* A node deeper than the trashcan's limit that holds X (a weak reference W
   to it, with a callback) and then Y (a finalizer): CPython defers the
   whole deallocation of both (subtype_dealloc begins in the trashcan) and
   destroys the deferred objects last in, first out, so at the boundary Y's
   __del__ runs first and sees W dead (X's count is 0), held by nothing
   but its owner, and the callback runs after. At any other depth the
   callback runs first. (python3 3.11: for N in range(130), the pair is
   deferred at N = 49 and 98.) The library once cleared X's weak
   references at once and kept W, with an extra reference, on a list of
   deferred callbacks (a fuzz input found the count). */
static rcy_object_t *order_ref;
static char order_log[8];
static int order_n;

static int order_cb(rcy_object_t *wr, void *arg)
{
    (void)wr, (void)arg;
    if (order_n < 7)
        order_log[order_n++] = 'c';
    return 0;
}

static int order_del(rcy_object_t *self)
{
    (void)self;
    CHECK(!rcy_weakref_is_alive(order_ref));
    CHECK_EQ(rcy_getrefcount(order_ref), 1);
    if (order_n < 7)
        order_log[order_n++] = 'd';
    return 0;
}

TEST(test_deep_death_defers_weak_references_whole)
{
    rcy_runtime_t *rt = setup(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "F";
    spec.basicsize = sizeof(wobj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = wobj_traverse;
    spec.clear = wobj_clear;
    spec.finalize = order_del;
    rcy_type_t *F = rcy_type_new(rt, &spec);
    int deferred = 0;
    for (int n = 0; n < 130; n++) {
        wobj_t *head = C(0), *c = head;
        for (int i = 0; i < n; i++) {
            wobj_t *next = C(i + 1);
            SET(c->a, next);
            rcy_decref(&next->ob);
            c = next;
        }
        wobj_t *x = C(-1);
        wobj_t *y = (wobj_t *)rcy_new(F);
        SET(c->a, x);
        SET(c->b, y);
        order_ref = rcy_weakref_new(&x->ob, order_cb, NULL);
        rcy_decref(&x->ob);
        rcy_decref(&y->ob);
        order_n = 0;
        memset(order_log, 0, sizeof order_log);
        rcy_decref(&head->ob);
        CHECK_EQ(order_n, 2);
        if (strcmp(order_log, "dc") == 0)
            deferred++;
        else
            CHECK(strcmp(order_log, "cd") == 0);
        rcy_decref(order_ref);
        order_ref = NULL;
    }
    CHECK(deferred > 0);
    test_runtime_end(rt);
}

TEST(test_trashcan_16602)
{
    check_trashcan_16602(100);
    check_trashcan_16602((int)harness_scaled(30000, 1000));
}

/* ---- Weak maps changed during an iteration ----------------------------- */

/* make_weak_keyed_dict / make_weak_valued_dict: COUNT objects o with
   d[o] = o.arg, or d[o.arg] = o. */
enum { COUNT = 10 };
static rcy_object_t *make_map(rcy_runtime_t *rt, int weak_keys, wobj_t **objects)
{
    rcy_object_t *d = weak_keys ? rcy_weakkeydict_new(rt) : rcy_weakvaluedict_new(rt);
    for (int i = 0; i < COUNT; i++) {
        objects[i] = C(i);
        rcy_object_t *arg = rcy_int_new(rt, i);
        CHECK_EQ(weak_keys ? rcy_weakmap_set(d, &objects[i]->ob, arg) : rcy_weakmap_set(d, arg, &objects[i]->ob), 0);
        rcy_decref(arg);
    }
    return d;
}

/* The rest of an iteration: every entry it returns is live (its weakly
   held object alive); returns how many. */
static int finish_iteration(rcy_object_t *d, intptr_t *pos)
{
    rcy_object_t *k, *v;
    int n = 0, r;
    while ((r = rcy_weakmap_next(d, pos, &k, &v)) == 1) {
        CHECK(rcy_getrefcount(k) >= 2 && rcy_getrefcount(v) >= 2);
        rcy_decref(k);
        rcy_decref(v);
        n++;
    }
    CHECK_EQ(r, 0);
    return n;
}

static void next_and_drop(rcy_object_t *d, intptr_t *pos)
{
    rcy_object_t *k, *v;
    CHECK_EQ(rcy_weakmap_next(d, pos, &k, &v), 1);
    rcy_decref(k);
    rcy_decref(v);
}

/* check_weak_destroy_while_iterating: one object dies after the first
   step; the rest of the iteration skips it and len is n - 1 at once
   (CPython: len(list(it)) in [len(objects), len(objects) - 1]; here the
   consumed entry is objects[0], so exactly len(objects) - 1). The object
   dies by reference counting, or (cyclic) in the collection. */
static void check_weak_destroy_while_iterating(rcy_runtime_t *rt, rcy_object_t *d, wobj_t **objects, int *count,
                                               int cyclic)
{
    intptr_t n = rcy_weakmap_len(d);
    intptr_t pos = 0;
    next_and_drop(d, &pos); /* trigger internal iteration */
    wobj_t *victim = objects[--*count]; /* del objects[-1] */
    if (cyclic)
        SET(victim->a, victim);
    rcy_decref(&victim->ob);
    CHECK_EQ(rcy_weakmap_len(d), cyclic ? n : n - 1);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(finish_iteration(d, &pos), *count - 1);
    CHECK_EQ(rcy_weakmap_len(d), n - 1); /* the removal has been committed */
}

/* The key (weak keys: a new object with the same arg; weak values: the
   dead object's arg) and value of the entry a context just destroyed. */
typedef struct ctx_s {
    rcy_object_t *d;
    wobj_t **objects;
    int *count;
    int weak_keys;
    intptr_t pos;
    rcy_object_t *k, *v;
} ctx_t;

static void ctx_begin(ctx_t *c)
{
    rcy_runtime_t *rt = rcy_object_runtime(c->d);
    c->pos = 0;
    next_and_drop(c->d, &c->pos);
    wobj_t *victim = c->objects[--*c->count]; /* objects.pop() */
    long arg = victim->id;
    rcy_decref(&victim->ob);
    rcy_gc_collect(rt, 2); /* just in case */
    if (c->weak_keys) {
        c->k = &C(arg)->ob; /* Object(v), v */
        c->v = rcy_int_new(rt, arg);
    } else {
        c->k = rcy_int_new(rt, arg); /* k, Object(k) */
        c->v = &C(arg)->ob;
    }
}

static void ctx_end(ctx_t *c)
{
    finish_iteration(c->d, &c->pos); /* it = None */
    rcy_gc_collect(rcy_object_runtime(c->d), 2);
}

static void ctx_drop(ctx_t *c)
{
    RCY_CLEAR(c->k);
    RCY_CLEAR(c->v);
}

static void check_get(rcy_object_t *d, rcy_object_t *k, rcy_object_t *expect)
{
    rcy_object_t *got = rcy_weakmap_get(d, k);
    CHECK(got == expect);
    if (expect == NULL)
        CHECK_EQ(rcy_last_error(rcy_object_runtime(d)), RCY_EKEY);
    rcy_xdecref(got);
}

/* check_weak_destroy_and_mutate_while_iterating: mutating the map
   explicitly while an iteration runs and an entry just died. */
static void check_weak_destroy_and_mutate_while_iterating(ctx_t *c)
{
    ctx_begin(c);
    check_get(c->d, c->k, NULL); /* k not in dict */
    ctx_end(c);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_del(c->d, c->k), RCY_EKEY); /* dict.__delitem__, dict.pop */
    ctx_end(c);
    check_get(c->d, c->k, NULL);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_set(c->d, c->k, c->v), 0); /* dict[k] = v */
    ctx_end(c);
    check_get(c->d, c->k, c->v);
    /* dict.update(ddict): set every entry of a snapshot of the map, during
       an iteration; the map then equals the snapshot. */
    rcy_object_t *snap[2 * COUNT + 4];
    int n_snap = 0;
    intptr_t pos = 0;
    while (n_snap + 2 <= 2 * COUNT + 4 && rcy_weakmap_next(c->d, &pos, &snap[n_snap], &snap[n_snap + 1]) == 1)
        n_snap += 2;
    rcy_object_t *old_k = c->k, *old_v = c->v;
    c->k = c->v = NULL;
    ctx_begin(c);
    for (int i = 0; i < n_snap; i += 2)
        CHECK_EQ(rcy_weakmap_set(c->d, snap[i], snap[i + 1]), 0);
    ctx_end(c);
    CHECK_EQ(rcy_weakmap_len(c->d), n_snap / 2);
    for (int i = 0; i < n_snap; i += 2)
        check_get(c->d, snap[i], snap[i + 1]);
    for (int i = 0; i < n_snap; i++)
        rcy_decref(snap[i]);
    rcy_decref(old_k);
    rcy_decref(old_v);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_clear(c->d), 0); /* dict.clear() */
    ctx_end(c);
    CHECK_EQ(rcy_weakmap_len(c->d), 0);
    ctx_drop(c);
}

/* The key of the first (last) entry in iteration order, a new reference. */
static rcy_object_t *entry_key(rcy_object_t *d, int last)
{
    intptr_t pos = 0;
    rcy_object_t *k, *v, *found = NULL;
    while (rcy_weakmap_next(d, &pos, &k, &v) == 1) {
        rcy_decref(v);
        rcy_xdecref(found);
        found = k;
        if (!last)
            break;
    }
    return found;
}

static void del_entry(rcy_object_t *d, int last)
{
    rcy_object_t *k = entry_key(d, last);
    CHECK(k != NULL);
    if (k != NULL) {
        CHECK_EQ(rcy_weakmap_del(d, k), 0);
        rcy_decref(k);
    }
}

/* check_weak_del_and_len_while_iterating (issue #21173): len stays right
   when keys are removed both implicitly (a context destroys one object)
   and explicitly (del, popitem: the last entry, clear). */
static void check_weak_del_and_len_while_iterating(ctx_t *c)
{
    wobj_t *o = C(123456);
    ctx_begin(c);
    intptr_t n = rcy_weakmap_len(c->d);
    del_entry(c->d, 0); /* dict.pop(next(dict.keys())) */
    CHECK_EQ(rcy_weakmap_len(c->d), n - 1);
    CHECK_EQ(rcy_weakmap_set(c->d, &o->ob, &o->ob), 0); /* dict[o] = o */
    CHECK_EQ(rcy_weakmap_len(c->d), n);
    ctx_end(c);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_len(c->d), n - 1);
    del_entry(c->d, 1); /* dict.popitem(): (o, o) */
    CHECK_EQ(rcy_weakmap_len(c->d), n - 2);
    ctx_end(c);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_len(c->d), n - 3);
    del_entry(c->d, 0); /* del dict[next(dict.keys())] */
    CHECK_EQ(rcy_weakmap_len(c->d), n - 4);
    ctx_end(c);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_len(c->d), n - 5);
    del_entry(c->d, 1);
    CHECK_EQ(rcy_weakmap_len(c->d), n - 6);
    ctx_end(c);
    ctx_drop(c);
    ctx_begin(c);
    CHECK_EQ(rcy_weakmap_clear(c->d), 0);
    CHECK_EQ(rcy_weakmap_len(c->d), 0);
    ctx_end(c);
    ctx_drop(c);
    CHECK_EQ(rcy_weakmap_len(c->d), 0);
    rcy_decref(&o->ob);
}

static void weak_destroy_while_iterating(int weak_keys)
{
    rcy_runtime_t *rt = setup(NULL);
    wobj_t *objects[COUNT];
    int count = COUNT;
    /* Issue #7105: iterations must not crash when an entry goes. */
    rcy_object_t *d = make_map(rt, weak_keys, objects);
    for (int i = 0; i < 4 + !weak_keys; i++) /* keys, items, values, keyrefs (, valuerefs) */
        check_weak_destroy_while_iterating(rt, d, objects, &count, i % 2);
    while (count > 0)
        rcy_decref(&objects[--count]->ob);
    rcy_decref(d);

    count = COUNT;
    d = make_map(rt, weak_keys, objects);
    ctx_t c = {d, objects, &count, weak_keys, 0, NULL, NULL};
    check_weak_destroy_and_mutate_while_iterating(&c);
    while (count > 0)
        rcy_decref(&objects[--count]->ob);
    rcy_decref(d);

    count = COUNT;
    d = make_map(rt, weak_keys, objects);
    c.d = d;
    check_weak_del_and_len_while_iterating(&c);
    while (count > 0)
        rcy_decref(&objects[--count]->ob);
    rcy_decref(d);
    test_runtime_end(rt);
}

TEST(test_weak_keys_destroy_while_iterating) { weak_destroy_while_iterating(1); }
TEST(test_weak_values_destroy_while_iterating) { weak_destroy_while_iterating(0); }

/* test_weak_keyed_len_race / test_weak_valued_len_race: automatic
   collections at thresholds 1..99 while a map of N objects in cycles is
   built, iterated and measured. CPython checks 0 <= n1 <= N and
   0 <= n2 <= n1; here an entry goes the moment its object dies, so len is
   also exactly what an iteration returns, at every step, and the entry an
   iteration holds keeps its object alive. (CPython's valued variant keys
   every entry by 1, one entry in all; here the keys differ.) */
static intptr_t live_entries(rcy_object_t *d)
{
    intptr_t pos = 0;
    return finish_iteration(d, &pos);
}

static void check_len_race(int weak_keys)
{
    enum { N = 20 };
    rcy_runtime_t *rt = setup(NULL);
    rcy_gc_enable(rt);
    for (int th = 1; th < 100; th++) {
        rcy_gc_collect(rt, 0);
        rcy_gc_set_threshold(rt, th, th, th);
        rcy_object_t *d = weak_keys ? rcy_weakkeydict_new(rt) : rcy_weakvaluedict_new(rt);
        for (int i = 0; i < N; i++) {
            wobj_t *o = C(i);
            SET(o->a, o); /* RefCycle */
            rcy_object_t *num = rcy_int_new(rt, 1000 + i);
            CHECK_EQ(weak_keys ? rcy_weakmap_set(d, &o->ob, num) : rcy_weakmap_set(d, num, &o->ob), 0);
            rcy_decref(num);
            rcy_decref(&o->ob); /* del items: garbage for the next collection */
            CHECK_EQ(rcy_weakmap_len(d), live_entries(d));
        }
        intptr_t pos = 0;
        rcy_object_t *k = NULL, *v = NULL;
        int r = rcy_weakmap_next(d, &pos, &k, &v); /* next(it) */
        /* Allocations that may collect while the iteration holds one. */
        for (int i = 0; i < 3; i++)
            rcy_decref(rcy_list_new(rt));
        intptr_t n1 = rcy_weakmap_len(d);
        CHECK(n1 >= (r == 1) && n1 <= N);
        CHECK_EQ(n1, live_entries(d));
        if (r == 1) {
            rcy_decref(k);
            rcy_decref(v);
        }
        for (int i = 0; i < 3; i++)
            rcy_decref(rcy_list_new(rt));
        intptr_t n2 = rcy_weakmap_len(d);
        CHECK(n2 >= 0 && n2 <= n1);
        CHECK_EQ(n2, live_entries(d));
        rcy_decref(d);
    }
    rcy_gc_set_threshold(rt, 700, 10, 10);
    test_runtime_end(rt);
}

TEST(test_weak_keyed_len_race) { check_len_race(1); }
TEST(test_weak_valued_len_race) { check_len_race(0); }

int main(void)
{
    RUN(test_basic_callback);
    RUN(test_multiple_callbacks);
    RUN(test_multiple_selfref_callbacks);
    RUN(test_callbacks_protected);
    RUN(test_ref_reuse);
    RUN(test_weakref_errors);
    RUN(test_callback_in_cycle_resurrection);
    RUN(test_callbacks_on_callback);
    RUN(test_callback_reachable_one_way);
    RUN(test_callback_held_outside_trash);
    RUN(test_gc_during_ref_creation);
    RUN(test_ref_created_during_del);
    RUN(test_sf_bug_840829);
    RUN(test_callback_gcs);
    RUN(test_finalize);
    RUN(test_arg_errors);
    RUN(test_order);
    RUN(test_all_freed);
    RUN(test_atexit);
    RUN(test_weak_values);
    RUN(test_weak_keys);
    RUN(test_weak_keyed_len_cycles);
    RUN(test_weak_valued_len_cycles);
    RUN(test_weak_keyed_cascading_deletes);
    RUN(test_weakmap_in_garbage);
    RUN(test_weakmap_set_while_finalizer_deletes);
    RUN(test_weakmap_set_while_finalizer_sets);
    RUN(test_weakmap_set_old_entry_collected);
    RUN(test_weakmap_callback_value_releases_map);
    RUN(test_weakmap_used_after_collector_cleared_it);
    RUN(test_trashcan_16602);
    RUN(test_deep_chain_callbacks_before_release);
    RUN(test_deep_death_defers_weak_references_whole);
    RUN(test_weak_keys_destroy_while_iterating);
    RUN(test_weak_values_destroy_while_iterating);
    RUN(test_weak_keyed_len_race);
    RUN(test_weak_valued_len_race);
    return harness_summary();
}
