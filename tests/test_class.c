/* Classes and instances: the seeds' ClassA with __del__ (f1, f2, f3), a
   legacy-finalizer class in a cycle (T2: uncollectable, in garbage),
   instances holding their class, class attributes, attribute errors,
   resurrection, weak references to instances, allocation failures. */
#include "harness.h"
#include "oom_alloc.h"

static char buf[256];

static const char *repr(rcy_object_t *o)
{
    rcy_describe(o, buf, sizeof buf);
    return buf;
}

/* ClassA.__del__: records each call (and prints like the seed). */
#define MAX_DELS 16
static rcy_object_t *dels[MAX_DELS];
static int ndels;

static int classa_del(rcy_object_t *self, void *arg)
{
    capture_t *cap = arg;
    if (ndels < MAX_DELS)
        dels[ndels] = self;
    ndels++;
    if (cap != NULL) {
        char line[64];
        snprintf(line, sizeof line, "object del,id:%p\n", (void *)self);
        capture_output(cap, line);
    }
    return 0;
}

static rcy_object_t *classa(rcy_runtime_t *rt, capture_t *cap)
{
    rcy_class_spec_t spec = {0};
    spec.finalize = classa_del;
    spec.arg = cap;
    ndels = 0;
    return rcy_class_new(rt, "ClassA", &spec);
}

/* def f1(): c1 = ClassA(); del c1 -- the finalizer runs at once. */
TEST(test_seed_f1_del_runs_on_refcount_death)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = classa(rt, NULL);
    CHECK(rcy_is_class(cls));
    CHECK(strcmp(repr(cls), "<class 'ClassA'>") == 0);
    rcy_object_t *c1 = rcy_instance_new(cls);
    CHECK(rcy_is_instance(c1));
    CHECK(rcy_instance_class(c1) == cls);
    CHECK(strcmp(rcy_type_name(rcy_type(c1)), "ClassA") == 0);
    CHECK(rcy_type(c1) == rcy_class_instance_type(cls));
    char want[64];
    snprintf(want, sizeof want, "<ClassA %p>", (void *)c1);
    CHECK(strcmp(repr(c1), want) == 0);
    void *id = c1;
    rcy_decref(c1); /* del c1 */
    CHECK_EQ(ndels, 1);
    CHECK((void *)dels[0] == id);
    rcy_decref(cls);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* def f2(): c1.t = c2; c2.t = c1; del c1; del c2 -- a leak until collected;
   f3 then calls gc.collect() with DEBUG_LEAK's COLLECTABLE output. */
TEST(test_seed_f2_f3_cycle_with_del)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_object_t *cls = classa(rt, &cap);
    rcy_object_t *c1 = rcy_instance_new(cls), *c2 = rcy_instance_new(cls);
    CHECK_EQ(rcy_getrefcount(c1), 1);
    CHECK_EQ(rcy_setattr(c1, "t", c2), 0);
    CHECK_EQ(rcy_setattr(c2, "t", c1), 0);
    CHECK_EQ(rcy_getrefcount(c1), 2); /* "这两块内存的引用计数变成2" */
    CHECK_EQ(rcy_getrefcount(c2), 2);
    CHECK(rcy_getattr(c1, "t") == c2);
    rcy_decref(c1); /* del c1 */
    rcy_decref(c2); /* del c2 */
    CHECK_EQ(rcy_getrefcount(c1), 1);
    CHECK_EQ(ndels, 0); /* f2: nothing freed: the cycle leaks */
    CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(cls)), 2);

    /* f3: gc.collect() returns 2, as CPython 3.11+ does: attributes live
       in the instance (CPython <= 3.10 also counted the two __dict__s). */
    rcy_gc_set_debug(rt, RCY_DEBUG_COLLECTABLE);
    capture_reset(&cap);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(ndels, 2); /* each finalizer ran once */
    CHECK(dels[0] != dels[1]);
    CHECK_STR_CONTAINS(cap.text, "gc: collectable <ClassA 0x");
    CHECK(cap.text != NULL && strstr(cap.text, "<dict 0x") == NULL); /* no separate attribute dicts */
    CHECK_STR_CONTAINS(cap.text, "object del,id:");
    CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(cls)), 0);
    CHECK_EQ(rcy_type_live_objects(rcy_dict_type(rt)), 0);
    rcy_gc_set_debug(rt, 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(ndels, 2); /* never again */
    rcy_decref(cls);
    test_runtime_end(rt);
    capture_free(&cap);
}

/* class T2: def __del__(self): pass -- before Python 3.4 a cycle through
   such an object was uncollectable and went to gc.garbage. */
static int legacy_calls;
static int t2_legacy_del(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    legacy_calls++;
    return 0;
}

TEST(test_seed_legacy_del_cycle_goes_to_garbage)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_class_spec_t spec = {0};
    spec.legacy_del = t2_legacy_del;
    rcy_object_t *t2 = rcy_class_new(rt, "T2", &spec);
    legacy_calls = 0;
    rcy_gc_collect(rt, 2);
    rcy_gc_set_debug(rt, RCY_DEBUG_UNCOLLECTABLE);
    /* test_uncollectable(): a.child = b; b.parent = a */
    rcy_object_t *a = rcy_instance_new(t2), *b = rcy_instance_new(t2);
    rcy_setattr(a, "child", b);
    rcy_setattr(b, "parent", a);
    rcy_decref(a);
    rcy_decref(b);
    capture_reset(&cap);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2); /* the two T2, uncollectable */
    CHECK_EQ(legacy_calls, 0);
    CHECK_EQ(rcy_gc_garbage_len(rt), 2); /* the objects with __del__ */
    CHECK_STR_CONTAINS(cap.text, "gc: uncollectable <T2 0x");
    CHECK(strstr(cap.text, "<dict 0x") == NULL);
    rcy_gc_stats_t stats[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(stats);
    rcy_gc_get_stats(rt, stats);
    CHECK_EQ(stats[2].uncollectable, 2);
    CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(t2)), 2);

    /* As the seed advises: break the cycle by hand, then empty garbage;
       reference counting frees them and their __del__ runs. */
    rcy_object_t *g0 = rcy_gc_garbage_get(rt, 0);
    CHECK(rcy_delattr(g0, rcy_getattr(g0, "child") != NULL ? "child" : "parent") == 0);
    rcy_gc_garbage_clear(rt);
    CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(t2)), 0);
    CHECK_EQ(legacy_calls, 2);
    rcy_gc_set_debug(rt, 0);
    rcy_decref(t2);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(test_instances_hold_their_class)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Point", NULL);
    CHECK(rcy_gc_is_tracked(cls));
    CHECK(strcmp(rcy_type_name(rcy_type(cls)), "type") == 0);
    CHECK(rcy_type(cls) == rcy_class_type(rt));
    CHECK_EQ(rcy_getrefcount(cls), 1);
    rcy_object_t *p = rcy_instance_new(cls), *q = rcy_instance_new(cls);
    CHECK_EQ(rcy_getrefcount(cls), 3);
    CHECK(rcy_gc_is_tracked(p));
    rcy_decref(cls); /* the instances keep it alive */
    CHECK_EQ(rcy_type_live_objects(rcy_class_type(rt)), 1);
    CHECK(rcy_instance_class(p) == cls);
    CHECK(strcmp(repr(rcy_instance_class(q)), "<class 'Point'>") == 0);
    rcy_decref(p);
    CHECK_EQ(rcy_type_live_objects(rcy_class_type(rt)), 1);
    rcy_decref(q);
    CHECK_EQ(rcy_type_live_objects(rcy_class_type(rt)), 0); /* went with the last instance */
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    /* Class and instance in a cycle: Point.origin = Point() */
    cls = rcy_class_new(rt, "Point", NULL);
    p = rcy_instance_new(cls);
    CHECK_EQ(rcy_setattr(cls, "origin", p), 0);
    CHECK(rcy_getattr(cls, "origin") == p);
    rcy_decref(p);
    rcy_decref(cls);
    CHECK_EQ(rcy_runtime_live_objects(rt), 3); /* class, its dict, instance (the name is interned) */
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_attributes)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Thing", NULL);
    rcy_object_t *obj = rcy_instance_new(cls);
    rcy_object_t *one = rcy_int_new(rt, 1000), *two = rcy_int_new(rt, 2000), *kind = rcy_str_new(rt, "thing");
    CHECK(rcy_getattr(obj, "x") == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY); /* AttributeError */
    CHECK_EQ(rcy_setattr(obj, "x", one), 0);
    CHECK(rcy_getattr(obj, "x") == one);
    CHECK_EQ(rcy_getrefcount(one), 2);
    CHECK_EQ(rcy_setattr(obj, "x", two), 0); /* replaces and releases */
    CHECK_EQ(rcy_getrefcount(one), 1);
    CHECK(rcy_getattr(obj, "x") == two);

    /* Class attributes are seen through instances; instance ones win. */
    CHECK_EQ(rcy_setattr(cls, "kind", kind), 0);
    CHECK(rcy_getattr(obj, "kind") == kind);
    CHECK_EQ(rcy_setattr(obj, "kind", one), 0);
    CHECK(rcy_getattr(obj, "kind") == one);
    CHECK_EQ(rcy_delattr(obj, "kind"), 0);
    CHECK(rcy_getattr(obj, "kind") == kind);
    CHECK_EQ(rcy_delattr(obj, "kind"), RCY_EKEY); /* not the class's */
    CHECK(rcy_getattr(cls, "x") == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);

    CHECK_EQ(rcy_delattr(obj, "x"), 0);
    CHECK_EQ(rcy_getrefcount(two), 1);
    CHECK_EQ(rcy_delattr(obj, "x"), RCY_EKEY);
    rcy_object_t *bare = rcy_instance_new(cls);
    CHECK_EQ(rcy_delattr(bare, "x"), RCY_EKEY); /* no dict yet */

    /* Errors. */
    CHECK_EQ(rcy_setattr(one, "x", two), RCY_ETYPE); /* ints have no attributes */
    CHECK(rcy_getattr(one, "x") == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK_EQ(rcy_delattr(kind, "x"), RCY_ETYPE);
    CHECK_EQ(rcy_setattr(obj, NULL, two), RCY_EINVAL);
    CHECK_EQ(rcy_setattr(obj, "x", NULL), RCY_EINVAL);
    CHECK_EQ(rcy_setattr(obj, "bad\xff", two), RCY_EINVAL);
    CHECK_EQ(rcy_setattr(NULL, "x", two), RCY_EINVAL);
    CHECK(rcy_getattr(obj, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(rcy_delattr(obj, NULL), RCY_EINVAL);
    CHECK(rcy_instance_new(obj) == NULL); /* not a class */
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(rcy_instance_new(NULL) == NULL);
    CHECK(rcy_instance_class(cls) == NULL);
    CHECK(rcy_class_instance_type(obj) == NULL);

    rcy_decref(bare);
    rcy_decref(obj);
    rcy_decref(cls);
    rcy_decref(one);
    rcy_decref(two);
    rcy_decref(kind);
    test_runtime_end(rt);
}

static int both(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    return 0;
}

TEST(test_class_new_errors)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK(rcy_class_new(rt, NULL, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_class_new(rt, "", NULL) == NULL);
    CHECK(rcy_class_new(rt, "\xc0\x80", NULL) == NULL);
    rcy_class_spec_t spec = {both, both, NULL};
    CHECK(rcy_class_new(rt, "Both", &spec) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_class_new(NULL, "X", NULL) == NULL);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    /* A bare object of type "type" (rcy_new) is no class to instantiate. */
    rcy_object_t *bare = rcy_new(rcy_class_type(rt));
    CHECK(bare != NULL);
    CHECK(rcy_instance_new(bare) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    rcy_decref(bare);
    test_runtime_end(rt);
}

/* PEP 442: a finalizer may resurrect its object; it does not run again
   when the object dies for good. */
static rcy_object_t *saved;
static int resurrect(rcy_object_t *self, void *arg)
{
    (void)arg;
    ndels++;
    if (saved == NULL)
        saved = rcy_newref(self);
    return 0;
}

TEST(test_finalizer_resurrection_runs_once)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_class_spec_t spec = {0};
    spec.finalize = resurrect;
    rcy_object_t *cls = rcy_class_new(rt, "Phoenix", &spec);
    ndels = 0;
    saved = NULL;
    rcy_object_t *p = rcy_instance_new(cls);
    rcy_setattr(p, "me", p); /* in a cycle */
    rcy_decref(p);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* resurrected: nothing freed */
    CHECK_EQ(ndels, 1);
    CHECK(saved == p);
    CHECK(rcy_gc_is_finalized(p));
    CHECK(rcy_getattr(p, "me") == p); /* not cleared */
    rcy_object_t *again = saved;
    rcy_decref(again); /* still in its cycle */
    CHECK_EQ(rcy_gc_collect(rt, 2), 1); /* the instance (its attributes are inline) */
    CHECK_EQ(ndels, 1); /* at most once */
    rcy_decref(cls);
    test_runtime_end(rt);
}

static int failing_del(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    return -1;
}

TEST(test_finalizer_error_is_reported)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_class_spec_t spec = {0};
    spec.finalize = failing_del;
    rcy_object_t *cls = rcy_class_new(rt, "Broken", &spec);
    rcy_object_t *b = rcy_instance_new(cls);
    rcy_decref(b);
    CHECK_STR_CONTAINS(cap.text, "Exception ignored in: <Broken 0x");
    rcy_decref(cls);
    test_runtime_end(rt);
    capture_free(&cap);
}

static int weak_callbacks;
static int count_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    weak_callbacks++;
    return 0;
}

TEST(test_weak_references_to_instances)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Target", NULL);
    rcy_object_t *obj = rcy_instance_new(cls);
    weak_callbacks = 0;
    rcy_object_t *wr = rcy_weakref_new(obj, count_callback, NULL);
    CHECK(wr != NULL);
    rcy_object_t *got = rcy_weakref_get(wr);
    CHECK(got == obj);
    rcy_xdecref(got);
    rcy_object_t *wc = rcy_weakref_new(cls, NULL, NULL); /* classes too */
    CHECK(wc != NULL);
    rcy_setattr(obj, "self", obj);
    rcy_decref(obj);
    CHECK_EQ(rcy_weakref_is_alive(wr), 1);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_weakref_is_alive(wr), 0);
    CHECK_EQ(weak_callbacks, 1);
    rcy_decref(cls);
    CHECK_EQ(rcy_weakref_is_alive(wc), 0);
    rcy_decref(wr);
    rcy_decref(wc);
    test_runtime_end(rt);
}

TEST(test_census_by_class_name)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_class_new(rt, "Alpha", NULL), *b = rcy_class_new(rt, "Beta", NULL);
    rcy_object_t *objs[5];
    for (int i = 0; i < 5; i++)
        objs[i] = rcy_instance_new(i < 3 ? a : b);
    CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(a)), 3);
    CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(b)), 2);
    CHECK(strcmp(rcy_type_name(rcy_class_instance_type(b)), "Beta") == 0);
    for (int i = 0; i < 5; i++)
        rcy_decref(objs[i]);
    rcy_decref(a);
    rcy_decref(b);
    test_runtime_end(rt);
}

TEST(test_attributes_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    rcy_object_t *obj = rcy_instance_new(cls);
    rcy_object_t *v = rcy_int_new(rt, 5);
    rcy_gc_collect(rt, 2); /* no free dicts to fall back on */
    long live = a.live;
    size_t objects = rcy_runtime_live_objects(rt);
    a.failing = true;
    CHECK_EQ(rcy_setattr(obj, "x", v), RCY_ENOMEM); /* interning the name fails */
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK(rcy_getattr(obj, "x") == NULL);
    CHECK_EQ(rcy_runtime_live_objects(rt), objects);
    CHECK_EQ(a.live, live);
    /* Once the name is interned, a compact instance's attribute allocates
       nothing. */
    a.failing = false;
    CHECK(rcy_str_intern(rt, "x") != NULL);
    CHECK(rcy_str_intern(rt, "y") != NULL);
    live = a.live;
    a.failing = true;
    CHECK_EQ(rcy_setattr(obj, "x", v), 0);
    CHECK_EQ(rcy_setattr(obj, "y", v), 0);
    CHECK(rcy_getattr(obj, "y") == v);
    CHECK_EQ(rcy_delattr(obj, "y"), 0);
    CHECK_EQ(a.live, live);
    CHECK_EQ(rcy_runtime_live_objects(rt), objects);
    /* Its dict fails as a whole: the instance keeps its attributes inline. */
    CHECK(rcy_instance_dict(obj) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    a.failing = false;
    CHECK_EQ(rcy_runtime_live_objects(rt), objects);
    CHECK(rcy_getattr(obj, "x") == v);
    /* Fail its 2nd, 3rd, ... allocation until it succeeds. */
    rcy_object_t *d = NULL;
    for (long k = 2; d == NULL && k < 20; k++) {
        a.fail_after = k;
        d = rcy_instance_dict(obj);
        a.failing = false;
        a.fail_after = 0;
        if (d == NULL) {
            CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
            CHECK_EQ(rcy_runtime_live_objects(rt), objects);
            CHECK_EQ(rcy_type_live_objects(rcy_dict_type(rt)), 0);
            CHECK(rcy_getattr(obj, "x") == v);
        }
    }
    CHECK(d != NULL);
    CHECK_EQ(rcy_dict_len(d), 1);
    rcy_decref(d);
    CHECK_EQ(rcy_delattr(obj, "x"), 0);
    rcy_gc_collect(rt, 2); /* the dict made may sit on a free list */
    CHECK(rcy_instance_new(NULL) == NULL);
    a.failing = true;
    CHECK(rcy_instance_new(cls) == NULL);
    CHECK(rcy_class_new(rt, "D", NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    a.failing = false;
    CHECK_EQ(rcy_setattr(obj, "x", v), 0);
    rcy_decref(obj);
    rcy_decref(cls);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

int main(void)
{
    RUN(test_seed_f1_del_runs_on_refcount_death);
    RUN(test_seed_f2_f3_cycle_with_del);
    RUN(test_seed_legacy_del_cycle_goes_to_garbage);
    RUN(test_instances_hold_their_class);
    RUN(test_attributes);
    RUN(test_class_new_errors);
    RUN(test_finalizer_resurrection_runs_once);
    RUN(test_finalizer_error_is_reported);
    RUN(test_weak_references_to_instances);
    RUN(test_census_by_class_name);
    RUN(test_attributes_out_of_memory);
    return harness_summary();
}
