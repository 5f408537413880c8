/* Interned strs and compact instances (CPython 3.11+'s shared keys and
   inline values): one str per name, no dict or str per instance, 64 bytes
   for two attributes, the instance's dict made only when asked for (or when
   the attributes outgrow the compact form) and used from then on, the
   str-object attribute calls, and the collector, weak references, clear
   and teardown over both forms. Where CPython defines the behaviour the
   comment gives python3.11's answer. */
#include "harness.h"

static rcy_object_t *str_of(const char *s, rcy_runtime_t *rt) { return rcy_str_new(rt, s); }

static size_t census_of(rcy_runtime_t *rt, rcy_type_t *t)
{
    (void)rt;
    return rcy_type_live_objects(t);
}

TEST(test_intern_one_str_per_text)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_str_intern(rt, "name");
    rcy_object_t *b = rcy_str_intern(rt, "name");
    rcy_object_t *c = rcy_str_intern(rt, "other");
    CHECK(a != NULL && a == b);
    CHECK(c != NULL && c != a);
    CHECK(strcmp(rcy_str_data(a), "name") == 0);
    CHECK_EQ(rcy_str_len(a), 4);
    CHECK(rcy_is_str(a));
    CHECK(rcy_is_immortal(a)); /* CPython 3.12+: sys.getrefcount is huge */
    CHECK_EQ(rcy_getrefcount(a), RCY_REFCNT_IMMORTAL);
    CHECK_EQ(rcy_str_is_interned(a), 1);
    rcy_decref(a); /* harmless */
    rcy_decref(b);
    CHECK_EQ(rcy_str_is_interned(a), 1);

    /* An equal str made by rcy_str_new is another object, equal, and not
       interned; interning its text gives the interned one. */
    rcy_object_t *n = str_of("name", rt);
    CHECK(n != a);
    CHECK_EQ(rcy_equal(n, a), 1);
    int64_t h1, h2;
    CHECK_EQ(rcy_hash(n, &h1), 0);
    CHECK_EQ(rcy_hash(a, &h2), 0);
    CHECK_EQ(h1, h2);
    CHECK_EQ(rcy_str_is_interned(n), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1); /* n only: interned strs are not live objects */
    CHECK_EQ(census_of(rt, rcy_str_type(rt)), 1);
    rcy_decref(n);

    /* With a length: NULs inside, the empty str. */
    rcy_object_t *z = rcy_str_intern_len(rt, "a\0b", 3);
    CHECK(z != NULL && z == rcy_str_intern_len(rt, "a\0b", 3));
    CHECK(z != rcy_str_intern(rt, "a"));
    CHECK_EQ(rcy_str_len(z), 3);
    rcy_object_t *e = rcy_str_intern(rt, "");
    CHECK(e != NULL && e == rcy_str_intern_len(rt, NULL, 0));

    /* Errors. */
    CHECK(rcy_str_intern(rt, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_str_intern(rt, "bad\xff") == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_str_intern_len(rt, NULL, 1) == NULL);
    CHECK(rcy_str_intern(NULL, "x") == NULL);
    CHECK_EQ(rcy_str_is_interned(NULL), 0);
    rcy_object_t *i = rcy_int_new(rt, 1000);
    CHECK_EQ(rcy_str_is_interned(i), 0);
    rcy_decref(i);

    /* Many names: the table grows, every name stays itself. */
    rcy_object_t *names[2000];
    char buf[32];
    for (int k = 0; k < 2000; k++) {
        snprintf(buf, sizeof buf, "n%d", k);
        names[k] = rcy_str_intern(rt, buf);
    }
    int same = 0;
    for (int k = 0; k < 2000; k++) {
        snprintf(buf, sizeof buf, "n%d", k);
        same += rcy_str_intern(rt, buf) == names[k] && strcmp(rcy_str_data(names[k]), buf) == 0;
    }
    CHECK_EQ(same, 2000);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* An interned str in a dict, a list, a weak map's key: an ordinary str
   that nothing frees before teardown. */
TEST(test_interned_strs_in_containers)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *k = rcy_str_intern(rt, "key");
    rcy_object_t *d = rcy_dict_new(rt), *l = rcy_list_new(rt);
    rcy_object_t *v = rcy_int_new(rt, 7);
    CHECK_EQ(rcy_dict_set(d, k, v), 0);
    rcy_object_t *k2 = str_of("key", rt);
    CHECK(rcy_dict_get(d, k2) == v); /* found by content */
    rcy_decref(k2);
    CHECK_EQ(rcy_list_append(l, k), 0);
    CHECK_EQ(rcy_list_append(l, l), 0);
    rcy_decref(l);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1); /* the list only */
    rcy_decref(d);
    rcy_decref(v);
    CHECK(strcmp(rcy_str_data(k), "key") == 0);
    test_runtime_end(rt);
}

/* class Point: x, y -- a million of them in CPython 3.11 take 104.6 bytes
   each and show no dict or str in objgraph; here 64 bytes each, and the
   census shows Point only. */
TEST(test_compact_instances_census_and_size)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Point", NULL);
    rcy_type_t *pt = rcy_class_instance_type(cls);
    enum { N = 1000 };
    static rcy_object_t *objs[N];
    rcy_object_t *one = rcy_int_new(rt, 1000), *two = rcy_int_new(rt, 2000);
    for (int i = 0; i < N; i++) {
        objs[i] = rcy_instance_new(cls);
        CHECK_EQ(rcy_setattr(objs[i], "x", one), 0);
        CHECK_EQ(rcy_setattr(objs[i], "y", two), 0);
    }
    CHECK_EQ(rcy_type_live_objects(pt), N);
    CHECK_EQ(census_of(rt, rcy_str_type(rt)), 0);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), N + 1 + 2); /* the instances, the class, two ints */
    /* The class learns its names: after the first few dozen instances,
       each has exactly two value slots, 64 bytes with its GC header. */
    size_t before = rcy_type_live_bytes(pt);
    rcy_object_t *p = rcy_instance_new(cls);
    size_t bytes = rcy_type_live_bytes(pt) - before;
    if (sizeof(void *) == 8)
        CHECK_EQ(bytes, 64);
    CHECK_EQ(rcy_setattr(p, "x", one), 0);
    CHECK_EQ(rcy_setattr(p, "y", two), 0);
    CHECK_EQ(rcy_type_live_bytes(pt) - before, bytes); /* attributes allocate nothing */
    CHECK(rcy_getattr(p, "x") == one);
    CHECK(rcy_getattr(p, "y") == two);
    CHECK_EQ(rcy_getrefcount(one), N + 2);
    rcy_decref(p);
    for (int i = 0; i < N; i++)
        rcy_decref(objs[i]);
    CHECK_EQ(rcy_getrefcount(one), 1);
    CHECK_EQ(rcy_type_live_bytes(pt), 0);
    rcy_decref(one);
    rcy_decref(two);
    rcy_decref(cls);
    test_runtime_end(rt);
}

/* The keys of a dict in order, as "a,b,c". */
static const char *dict_keys(rcy_object_t *d, char *buf, size_t size)
{
    intptr_t pos = 0;
    rcy_object_t *k;
    size_t len = 0;
    buf[0] = '\0';
    while (rcy_dict_next(d, &pos, &k, NULL) == 1)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "", rcy_str_data(k));
    return buf;
}

/* python3.11: a.x=1; a.y=2 -> list(a.__dict__) == ['x', 'y'];
   b.y=1; b.x=2 -> ['y', 'x']; del and set again moves a name to the end. */
TEST(test_instance_dict_order_and_sharing)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    char buf[128];
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    rcy_object_t *a = rcy_instance_new(cls), *b = rcy_instance_new(cls), *c = rcy_instance_new(cls);
    rcy_object_t *v1 = rcy_int_new(rt, 1001), *v2 = rcy_int_new(rt, 1002), *v3 = rcy_int_new(rt, 1003);
    rcy_setattr(a, "x", v1);
    rcy_setattr(a, "y", v2);
    rcy_setattr(b, "y", v1);
    rcy_setattr(b, "x", v2);
    rcy_setattr(c, "x", v1);
    rcy_setattr(c, "y", v2);
    rcy_setattr(c, "z", v3);
    CHECK_EQ(rcy_delattr(c, "x"), 0);
    CHECK_EQ(rcy_delattr(c, "x"), RCY_EKEY);
    CHECK(rcy_getattr(c, "x") == NULL);
    rcy_setattr(c, "x", v3);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 0); /* all compact so far */

    rcy_object_t *da = rcy_instance_dict(a);
    rcy_object_t *db = rcy_instance_dict(b);
    rcy_object_t *dc = rcy_instance_dict(c);
    CHECK(da != NULL && rcy_is_dict(da) && rcy_gc_is_tracked(da));
    CHECK(strcmp(dict_keys(da, buf, sizeof buf), "x,y") == 0);
    CHECK(strcmp(dict_keys(db, buf, sizeof buf), "y,x") == 0);
    CHECK(strcmp(dict_keys(dc, buf, sizeof buf), "y,z,x") == 0);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 3);
    CHECK(rcy_instance_dict(a) == da); /* the same dict every time */
    rcy_decref(da);
    /* The dict's keys are the interned names. */
    intptr_t pos = 0;
    rcy_object_t *k;
    CHECK_EQ(rcy_dict_next(da, &pos, &k, NULL), 1);
    CHECK(k == rcy_str_intern(rt, "x"));

    /* The instance uses its dict from now on, both ways. */
    CHECK_EQ(rcy_getrefcount(v1), 3); /* a.x, b.y and the variable (c.x was replaced) */
    CHECK_EQ(rcy_setattr(a, "w", v3), 0);
    CHECK(strcmp(dict_keys(da, buf, sizeof buf), "x,y,w") == 0);
    rcy_object_t *q = str_of("q", rt);
    CHECK_EQ(rcy_dict_set(da, q, v2), 0);
    CHECK(rcy_getattr(a, "q") == v2); /* a key that is not interned */
    CHECK_EQ(rcy_delattr(a, "q"), 0);
    CHECK_EQ(rcy_dict_len(da), 3);
    CHECK_EQ(rcy_dict_del(da, rcy_str_intern(rt, "x")), 0);
    CHECK(rcy_getattr(a, "x") == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    rcy_object_t *nine = rcy_int_new(rt, 9);
    CHECK_EQ(rcy_dict_set(da, nine, v1), 0); /* a dict may hold any key */
    CHECK(rcy_getattr(a, "y") == v2);
    rcy_decref(nine);
    rcy_decref(q);

    /* A dict outlives its instance. */
    rcy_decref(c);
    CHECK_EQ(rcy_dict_len(dc), 3);
    rcy_decref(dc);
    rcy_decref(da);
    rcy_decref(db);
    rcy_decref(a);
    rcy_decref(b);
    rcy_decref(v1);
    rcy_decref(v2);
    rcy_decref(v3);
    rcy_decref(cls);
    test_runtime_end(rt);
}

/* python3.11: c1.t = c2; c2.t = c1; del c1, c2; gc.collect() == 2, and 3
   when c1.__dict__ was asked for first (the dict is an object then). */
TEST(test_cycle_counts_with_and_without_dict)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    for (int with_dict = 0; with_dict < 2; with_dict++) {
        rcy_object_t *c1 = rcy_instance_new(cls), *c2 = rcy_instance_new(cls);
        rcy_setattr(c1, "t", c2);
        rcy_setattr(c2, "t", c1);
        if (with_dict)
            rcy_decref(rcy_instance_dict(c1));
        rcy_decref(c1);
        rcy_decref(c2);
        CHECK_EQ(rcy_gc_collect(rt, 2), 2 + with_dict);
    }
    rcy_decref(cls);
    test_runtime_end(rt);
}

static rcy_object_t *wanted;
static int is_wanted(rcy_object_t *o, intptr_t external, void *arg)
{
    (void)external;
    (void)arg;
    return o == wanted;
}

/* The path from o to v, as the chain tools write it ("<C 0x...>.b"): the
   edge's label is the attribute's name, with or without a dict. */
static const char *path_to(rcy_object_t *o, rcy_object_t *v, char *buf, size_t size)
{
    rcy_objarray_t chain = {0};
    wanted = v;
    buf[0] = '\0';
    if (rcy_find_ref_chain(o, is_wanted, NULL, 5, &chain) == 1)
        rcy_chain_format(&chain, buf, size);
    rcy_objarray_release(&chain);
    const char *dot = strchr(buf, '>');
    return dot != NULL ? dot + 1 : buf;
}

/* What traverse reports, in CPython 3.11's order: each attribute under its
   name in the order of the class's keys, then the class; with a dict, the
   dict and the class. python3.11: o.b = 1001; o.a = 1002;
   gc.get_referents(o) == [1001, 1002, C]; p.a = 5000; p.b = 6000;
   gc.get_referents(p) == [6000, 5000, C]. */
TEST(test_traverse_and_referents)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    char buf[256];
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    rcy_object_t *o = rcy_instance_new(cls), *p = rcy_instance_new(cls);
    rcy_object_t *v1 = rcy_int_new(rt, 1001), *v2 = rcy_int_new(rt, 1002);
    rcy_object_t *w1 = rcy_int_new(rt, 5000), *w2 = rcy_int_new(rt, 6000);
    rcy_setattr(o, "b", v1);
    rcy_setattr(o, "a", v2);
    rcy_setattr(p, "a", w1);
    rcy_setattr(p, "b", w2);
    rcy_objarray_t refs = {0};
    CHECK_EQ(rcy_gc_get_referents(rt, &o, 1, &refs), 0);
    CHECK_EQ(refs.len, 3);
    if (refs.len == 3)
        CHECK(refs.items[0] == v1 && refs.items[1] == v2 && refs.items[2] == cls);
    rcy_objarray_release(&refs);
    CHECK_EQ(rcy_gc_get_referents(rt, &p, 1, &refs), 0);
    CHECK_EQ(refs.len, 3);
    if (refs.len == 3)
        CHECK(refs.items[0] == w2 && refs.items[1] == w1 && refs.items[2] == cls);
    rcy_objarray_release(&refs);
    rcy_decref(p);
    rcy_decref(w1);
    rcy_decref(w2);
    CHECK(strcmp(path_to(o, v1, buf, sizeof buf), ".b") == 0);
    CHECK(strcmp(path_to(o, v2, buf, sizeof buf), ".a") == 0);
    CHECK(strcmp(path_to(o, cls, buf, sizeof buf), ".__class__") == 0);
    rcy_object_t *d = rcy_instance_dict(o);
    CHECK_EQ(rcy_gc_get_referents(rt, &o, 1, &refs), 0);
    CHECK_EQ(refs.len, 2);
    if (refs.len == 2)
        CHECK(refs.items[0] == d && refs.items[1] == cls);
    rcy_objarray_release(&refs);
    CHECK(strcmp(path_to(o, v1, buf, sizeof buf), ".b") == 0);
    CHECK(strcmp(path_to(o, v2, buf, sizeof buf), ".a") == 0);
    rcy_decref(d);
    rcy_decref(o);
    rcy_decref(v1);
    rcy_decref(v2);
    rcy_decref(cls);
    test_runtime_end(rt);
}

/* Where the compact form ends: more than 10 attributes on an instance
   (64-bit), more than 30 names in a class, a name the class learnt after
   the instance was made. Each falls back to a dict for that instance only,
   with every attribute where it was. */
TEST(test_fallback_to_dict)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    char name[16];
    rcy_object_t *v = rcy_int_new(rt, 4242);
    rcy_object_t *cls = rcy_class_new(rt, "Wide", NULL);
    rcy_object_t *w = rcy_instance_new(cls); /* the first: room for 30 names */
    int order_max = sizeof(void *) == 8 ? 10 : 4;
    for (int i = 0; i < order_max; i++) {
        snprintf(name, sizeof name, "a%d", i);
        CHECK_EQ(rcy_setattr(w, name, v), 0);
    }
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 0);
    CHECK_EQ(rcy_setattr(w, "last", v), 0); /* one more than the layout orders */
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 1);
    for (int i = 0; i < order_max; i++) {
        snprintf(name, sizeof name, "a%d", i);
        CHECK(rcy_getattr(w, name) == v);
    }
    CHECK(rcy_getattr(w, "last") == v);
    CHECK_EQ(rcy_getrefcount(v), order_max + 2);
    rcy_object_t *d = rcy_instance_dict(w);
    CHECK_EQ(rcy_dict_len(d), order_max + 1);
    rcy_decref(d);
    CHECK_EQ(rcy_delattr(w, "a0"), 0);
    CHECK(rcy_getattr(w, "a0") == NULL);
    rcy_decref(w);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 0);
    CHECK_EQ(rcy_getrefcount(v), 1);

    /* 30 names fill the class's table: a 31st gives its instance a dict. */
    rcy_object_t *many[4];
    for (int j = 0; j < 4; j++) {
        many[j] = rcy_instance_new(cls);
        for (int i = 0; i < 8; i++) {
            snprintf(name, sizeof name, "m%d_%d", j, i);
            CHECK_EQ(rcy_setattr(many[j], name, v), 0);
        }
    }
    /* 11 + 32 names: the last instance's later names did not fit. */
    CHECK(census_of(rt, rcy_dict_type(rt)) >= 1);
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 8; i++) {
            snprintf(name, sizeof name, "m%d_%d", j, i);
            CHECK(rcy_getattr(many[j], name) == v);
        }
    for (int j = 0; j < 4; j++)
        rcy_decref(many[j]);

    /* Instances made before the class knew any name: their slots run out
       (the class stopped giving spare slots), they get dicts; instances
       made afterwards are compact. */
    rcy_object_t *late = rcy_class_new(rt, "Late", NULL);
    rcy_object_t *early[40];
    for (int j = 0; j < 40; j++)
        early[j] = rcy_instance_new(late);
    for (int j = 0; j < 40; j++) {
        CHECK_EQ(rcy_setattr(early[j], "x", v), 0);
        CHECK_EQ(rcy_setattr(early[j], "y", v), 0);
    }
    size_t dicts = census_of(rt, rcy_dict_type(rt));
    CHECK(dicts > 0 && dicts < 40);
    rcy_object_t *fresh = rcy_instance_new(late);
    rcy_setattr(fresh, "x", v);
    rcy_setattr(fresh, "y", v);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), dicts);
    for (int j = 0; j < 40; j++) {
        CHECK(rcy_getattr(early[j], "x") == v && rcy_getattr(early[j], "y") == v);
        rcy_decref(early[j]);
    }
    rcy_decref(fresh);
    rcy_decref(late);
    rcy_decref(cls);
    CHECK_EQ(rcy_getrefcount(v), 1);
    rcy_decref(v);
    test_runtime_end(rt);
}

TEST(test_str_object_forms)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "S", NULL);
    rcy_object_t *o = rcy_instance_new(cls);
    rcy_object_t *x = rcy_str_intern(rt, "x");
    rcy_object_t *plain = str_of("y", rt); /* not interned */
    rcy_object_t *v = rcy_int_new(rt, 5000), *w = rcy_int_new(rt, 6000);
    CHECK_EQ(rcy_setattr_str(o, x, v), 0);
    CHECK(rcy_getattr_str(o, x) == v);
    CHECK(rcy_getattr(o, "x") == v);
    CHECK_EQ(rcy_setattr_str(o, plain, w), 0);
    CHECK(rcy_getattr(o, "y") == w);
    CHECK(rcy_getattr_str(o, plain) == w);
    CHECK_EQ(rcy_str_is_interned(plain), 0); /* its twin was interned, not it */
    CHECK_EQ(rcy_runtime_live_objects(rt), 5); /* class, instance, plain, v, w */
    CHECK_EQ(rcy_delattr_str(o, plain), 0);
    CHECK(rcy_getattr_str(o, plain) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_delattr_str(o, plain), RCY_EKEY);
    rcy_object_t *never = str_of("never seen", rt);
    CHECK(rcy_getattr_str(o, never) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_str_is_interned(rcy_str_intern(rt, "x")), 1);

    /* Class attributes through the str forms, seen through instances. */
    CHECK_EQ(rcy_setattr_str(cls, plain, w), 0);
    CHECK(rcy_getattr_str(o, plain) == w);
    CHECK(rcy_getattr_str(cls, plain) == w);
    CHECK_EQ(rcy_delattr_str(cls, plain), 0);
    CHECK(rcy_getattr_str(cls, plain) == NULL);

    /* In dict mode too. */
    rcy_decref(rcy_instance_dict(o));
    CHECK(rcy_getattr_str(o, x) == v);
    CHECK_EQ(rcy_setattr_str(o, x, w), 0);
    CHECK(rcy_getattr(o, "x") == w);
    CHECK_EQ(rcy_delattr_str(o, x), 0);
    CHECK(rcy_getattr_str(o, x) == NULL);

    /* Errors: checked in the documented order. */
    CHECK_EQ(rcy_setattr_str(o, v, w), RCY_ETYPE); /* the name is no str */
    CHECK(rcy_getattr_str(o, v) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK_EQ(rcy_delattr_str(o, v), RCY_ETYPE);
    CHECK_EQ(rcy_setattr_str(v, x, w), RCY_ETYPE); /* ints have no attributes */
    CHECK(rcy_getattr_str(v, x) == NULL);
    CHECK_EQ(rcy_setattr_str(o, NULL, w), RCY_EINVAL);
    CHECK_EQ(rcy_setattr_str(o, x, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_setattr_str(NULL, x, w), RCY_EINVAL);
    CHECK(rcy_getattr_str(o, NULL) == NULL);
    CHECK_EQ(rcy_delattr_str(o, NULL), RCY_EINVAL);
    rcy_runtime_t *rt2 = test_runtime(NULL);
    rcy_object_t *x2 = rcy_str_intern(rt2, "x");
    CHECK(x2 != x);
    CHECK_EQ(rcy_setattr_str(o, x2, w), RCY_ERUNTIME);
    CHECK(rcy_getattr_str(o, x2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_delattr_str(o, x2), RCY_EKEY);
    test_runtime_end(rt2);

    rcy_decref(never);
    rcy_decref(plain);
    rcy_decref(o);
    rcy_decref(v);
    rcy_decref(w);
    rcy_decref(cls);
    test_runtime_end(rt);
}

/* A finalizer run by the collection that making the dict starts changes
   the very instance whose dict is being made: it sets an attribute, and
   asks for the dict itself. The outer call returns that dict. */
static rcy_object_t *target, *late_value;
static int meddle(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    if (target != NULL) {
        rcy_setattr(target, "late", late_value);
        rcy_object_t *d = rcy_instance_dict(target);
        rcy_xdecref(d);
        target = NULL;
    }
    return 0;
}

TEST(test_dict_made_while_a_finalizer_meddles)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_class_spec_t spec = {0};
    spec.finalize = meddle;
    rcy_object_t *fcls = rcy_class_new(rt, "Meddler", &spec);
    rcy_object_t *cls = rcy_class_new(rt, "T", NULL);
    rcy_object_t *t = rcy_instance_new(cls);
    rcy_object_t *v = rcy_int_new(rt, 777);
    late_value = v;
    rcy_setattr(t, "early", v);
    /* Garbage with the finalizer, and a collection at the next container
       allocation: the dict's. */
    rcy_object_t *g = rcy_instance_new(fcls);
    rcy_setattr(g, "self", g);
    rcy_decref(g);
    rcy_gc_collect(rt, 0);
    g = rcy_instance_new(fcls);
    rcy_setattr(g, "self", g);
    rcy_decref(g);
    rcy_gc_set_threshold(rt, 1, 10, 10); /* 0 would disable it */
    target = t;
    rcy_object_t *d = rcy_instance_dict(t);
    rcy_gc_set_threshold(rt, 700, 10, 10);
    CHECK(target == NULL || HARNESS_GC_STRESS); /* the finalizer ran */
    CHECK(d != NULL);
    CHECK(rcy_getattr(t, "early") == v);
    if (target == NULL) {
        CHECK(rcy_getattr(t, "late") == v);
        CHECK_EQ(rcy_dict_len(d), 2);
    }
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 1);
    target = NULL;
    rcy_decref(d);
    rcy_decref(t);
    rcy_decref(v);
    rcy_decref(cls);
    rcy_decref(fcls);
    test_runtime_end(rt);
}

/* The collector's clear of a compact instance and of one with a dict, a
   weak reference's callback, a finalizer that resurrects with new
   attributes. */
static int callbacks;
static int on_dead(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    callbacks++;
    return 0;
}

static rcy_object_t *saved;
static int resurrect(rcy_object_t *self, void *arg)
{
    (void)arg;
    if (saved == NULL) {
        saved = rcy_newref(self);
        rcy_setattr(self, "again", self); /* a new attribute, and a cycle */
    }
    return 0;
}

TEST(test_collection_over_both_forms)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "N", NULL);
    callbacks = 0;
    for (int with_dict = 0; with_dict < 2; with_dict++) {
        rcy_object_t *a = rcy_instance_new(cls), *b = rcy_instance_new(cls);
        rcy_object_t *wr = rcy_weakref_new(a, on_dead, NULL);
        rcy_setattr(a, "next", b);
        rcy_setattr(b, "next", a);
        rcy_object_t *l = rcy_list_new(rt);
        rcy_setattr(a, "list", l);
        rcy_list_append(l, b);
        rcy_decref(l);
        if (with_dict)
            rcy_decref(rcy_instance_dict(b));
        rcy_decref(a);
        rcy_decref(b);
        CHECK_EQ(rcy_gc_collect(rt, 2), 3 + with_dict);
        CHECK_EQ(rcy_weakref_is_alive(wr), 0);
        rcy_decref(wr);
    }
    CHECK_EQ(callbacks, 2);

    rcy_class_spec_t spec = {0};
    spec.finalize = resurrect;
    rcy_object_t *phoenix = rcy_class_new(rt, "Phoenix", &spec);
    saved = NULL;
    rcy_object_t *p = rcy_instance_new(phoenix);
    rcy_setattr(p, "me", p);
    rcy_decref(p);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* resurrected */
    CHECK(saved == p);
    CHECK(rcy_getattr(p, "me") == p && rcy_getattr(p, "again") == p);
    rcy_decref(saved);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    rcy_decref(phoenix);
    rcy_decref(cls);
    test_runtime_end(rt);
}

/* rcy_new of an instance type makes an instance; once the class is gone it
   refuses. */
TEST(test_new_of_the_instance_type)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "K", NULL);
    rcy_type_t *kt = rcy_class_instance_type(cls);
    rcy_object_t *o = rcy_new(kt);
    CHECK(o != NULL && rcy_is_instance(o) && rcy_instance_class(o) == cls);
    CHECK_EQ(rcy_getrefcount(cls), 2);
    rcy_object_t *v = rcy_int_new(rt, 3000);
    CHECK_EQ(rcy_setattr(o, "a", v), 0);
    rcy_decref(o);
    rcy_decref(cls);
    CHECK_EQ(rcy_type_live_objects(rcy_class_type(rt)), 0);
    CHECK(rcy_new(kt) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    rcy_decref(v);
    test_runtime_end(rt);
}

/* A long chain of instances (o.next = the next one), compact or with
   dicts, freed from its head: the trashcan keeps the stack flat and every
   block goes back with the size it was allocated with. */
TEST(test_long_chains_free_iteratively)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Link", NULL);
    long n = harness_scaled(200000, 1000);
    for (int with_dict = 0; with_dict < 2; with_dict++) {
        rcy_object_t *head = rcy_instance_new(cls);
        rcy_object_t *last = rcy_newref(head);
        long stored = 0;
        for (long i = 1; i < n; i++) {
            rcy_object_t *o = rcy_instance_new(cls);
            stored += rcy_setattr(last, "next", o) == 0;
            if (with_dict && i % 2)
                rcy_decref(rcy_instance_dict(o));
            rcy_decref(last);
            last = o;
        }
        rcy_decref(last);
        CHECK_EQ(stored, n - 1);
        CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(cls)), (size_t)n);
        rcy_decref(head);
        CHECK_EQ(rcy_type_live_objects(rcy_class_instance_type(cls)), 0);
        CHECK_EQ(rcy_type_live_bytes(rcy_class_instance_type(cls)), 0);
        CHECK_EQ(rcy_type_live_objects(rcy_dict_type(rt)), 0);
    }
    rcy_decref(cls);
    test_runtime_end(rt);
}

/* Immortal instances and classes: teardown releases them (their slots
   run), collects what they left, then frees them. */
TEST(test_immortal_instances_at_teardown)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Forever", NULL);
    rcy_object_t *o = rcy_instance_new(cls), *m = rcy_instance_new(cls);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_setattr(o, "list", l);
    rcy_setattr(o, "peer", m);
    rcy_setattr(m, "peer", o);
    rcy_setattr(cls, "instance", o);
    rcy_decref(rcy_instance_dict(m));
    rcy_list_append(l, l);
    CHECK_EQ(rcy_immortalize(o), 0);
    CHECK_EQ(rcy_immortalize(cls), 0);
    rcy_decref(l);
    rcy_decref(m);
    rcy_runtime_destroy(rt); /* ASan and the harness's allocator see the rest */
}

/* The char * forms cache a name pointer per class (and per runtime), and
   trust a hit only after comparing the text again: a caller's buffer that
   now holds another name, a longer or a shorter one, or an unknown one,
   gives that name's attribute, never the cached one's. */
TEST(test_name_cache_same_pointer_new_text)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Buf", NULL);
    rcy_object_t *o = rcy_instance_new(cls);
    rcy_object_t *v1 = rcy_int_new(rt, 1001), *v2 = rcy_int_new(rt, 1002), *v3 = rcy_int_new(rt, 1003);
    char buf[16];
    strcpy(buf, "x");
    CHECK_EQ(rcy_setattr(o, buf, v1), 0);
    CHECK_EQ(rcy_setattr(o, buf, v1), 0); /* the cached path */
    CHECK(rcy_getattr(o, buf) == v1);
    strcpy(buf, "y"); /* same pointer, another name */
    CHECK(rcy_getattr(o, buf) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_setattr(o, buf, v2), 0);
    CHECK(rcy_getattr(o, "x") == v1);
    CHECK(rcy_getattr(o, "y") == v2);
    strcpy(buf, "xy"); /* longer: the cached "x" is its prefix */
    CHECK(rcy_getattr(o, buf) == NULL);
    CHECK_EQ(rcy_setattr(o, buf, v3), 0);
    CHECK(rcy_getattr(o, buf) == v3);
    strcpy(buf, "x"); /* shorter than the cached "xy" */
    CHECK(rcy_getattr(o, buf) == v1);
    CHECK_EQ(rcy_setattr(o, buf, v2), 0);
    CHECK(rcy_getattr(o, "x") == v2);
    CHECK(rcy_getattr(o, "xy") == v3);
    strcpy(buf, "y");
    CHECK(rcy_getattr(o, buf) == v2);
    buf[0] = '\0'; /* the empty name: never set */
    CHECK(rcy_getattr(o, buf) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    /* The getters of new references through the same buffer. */
    strcpy(buf, "y");
    rcy_object_t *r = NULL;
    CHECK_EQ(rcy_getattr_ref(o, buf, &r), 1);
    CHECK(r == v2 && rcy_getrefcount(v2) == 4);
    rcy_decref(r);
    CHECK_EQ(rcy_hasattr(o, buf), 1);
    CHECK_EQ(rcy_setattr(o, NULL, v1), RCY_EINVAL); /* "absent" leaves this last error alone */
    strcpy(buf, "zz");
    CHECK_EQ(rcy_getattr_ref(o, buf, &r), 0);
    CHECK(r == NULL);
    CHECK_EQ(rcy_hasattr(o, buf), 0);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    strcpy(buf, "xy");
    CHECK_EQ(rcy_getattr_ref(o, buf, &r), 1);
    CHECK(r == v3);
    rcy_decref(r);
    CHECK_EQ(rcy_getattr_ref(o, buf, NULL), RCY_EINVAL);
    strcpy(buf, "x\xff"); /* no longer valid UTF-8: refused, nothing stored */
    CHECK_EQ(rcy_setattr(o, buf, v1), RCY_EINVAL);
    CHECK(rcy_getattr(o, buf) == NULL);
    CHECK(rcy_getattr(o, "x") == v2);
    CHECK_EQ(rcy_getrefcount(v1), 1);
    CHECK_EQ(rcy_getrefcount(v2), 3); /* o.x, o.y and the variable */
    CHECK_EQ(rcy_getrefcount(v3), 2);

    /* Long names: the class's cache keeps a key's first 8 bytes and
       compares the rest with the key itself. Names of 6 to 9 bytes and
       more, each changed in the copied part, at its edge and past it. */
    static const char *const longs[] = {"abcdef", "abcdefg", "abcdefgh", "abcdefghi", "a_rather_long_name_0"};
    char lb[32];
    for (int i = 0; i < 5; i++) {
        rcy_object_t *vi = rcy_int_new(rt, 5000 + i);
        strcpy(lb, longs[i]);
        CHECK_EQ(rcy_setattr(o, lb, vi), 0);
        CHECK_EQ(rcy_setattr(o, lb, vi), 0);
        CHECK(rcy_getattr(o, lb) == vi);
        size_t len = strlen(lb);
        for (size_t at = 0; at <= len; at++) {
            strcpy(lb, longs[i]);
            if (at < len)
                lb[at] = 'Z'; /* another name of the same length */
            else
                strcat(lb, "Z"); /* one byte longer */
            CHECK(rcy_getattr(o, lb) == NULL);
        }
        strcpy(lb, longs[i]);
        lb[len - 1] = '\0'; /* one byte shorter: another name (or a shorter one already set) */
        rcy_object_t *got = rcy_getattr(o, lb);
        CHECK(got != vi);
        strcpy(lb, longs[i]);
        CHECK(rcy_getattr(o, lb) == vi);
        rcy_decref(vi);
    }
    for (int i = 0; i < 5; i++) {
        int64_t iv = -1;
        rcy_object_t *got = rcy_getattr(o, longs[i]);
        CHECK(got != NULL && rcy_int_value(got, &iv) == 0 && iv == 5000 + i);
        CHECK_EQ(rcy_delattr(o, longs[i]), 0);
    }

    /* Many names through one buffer and through many pointers: more than
       the class's cache holds, all right every time. */
    char names[40][8];
    rcy_object_t *w = rcy_instance_new(cls); /* made when the class knew 3 names */
    for (int i = 0; i < 40; i++)
        snprintf(names[i], sizeof names[i], "n%d", i);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 40; i++) {
            rcy_object_t *vi = rcy_int_new(rt, 100 + i + round);
            CHECK_EQ(rcy_setattr(w, names[i], vi), 0);
            strcpy(buf, names[(i + 7) % 40]);
            rcy_object_t *got = rcy_getattr(w, buf);
            CHECK(round == 0 && (i + 7) % 40 > i ? got == NULL : got != NULL);
            CHECK(rcy_getattr(w, names[i]) == vi);
            rcy_decref(vi);
        }
    for (int i = 0; i < 40; i++) {
        rcy_object_t *got = rcy_getattr(w, names[i]);
        int64_t iv = -1;
        CHECK(got != NULL && rcy_int_value(got, &iv) == 0 && iv == 100 + i + 2);
    }
    rcy_decref(w);
    rcy_decref(o);
    rcy_decref(cls);
    rcy_decref(v1);
    rcy_decref(v2);
    rcy_decref(v3);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* One name pointer on two classes that gave the name different indices,
   and on instances that left the compact form: each call finds its own
   class's slot, or the instance's dict. */
TEST(test_name_cache_two_classes_and_dicts)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    char buf[128];
    rcy_object_t *ca = rcy_class_new(rt, "A", NULL), *cb = rcy_class_new(rt, "B", NULL);
    rcy_object_t *a = rcy_instance_new(ca), *b = rcy_instance_new(cb);
    rcy_object_t *v1 = rcy_int_new(rt, 1001), *v2 = rcy_int_new(rt, 1002), *v3 = rcy_int_new(rt, 1003);
    static const char x[] = "x", y[] = "y";
    CHECK_EQ(rcy_setattr(a, x, v1), 0); /* A: x is key 0 */
    CHECK_EQ(rcy_setattr(a, y, v2), 0);
    CHECK_EQ(rcy_setattr(b, y, v1), 0); /* B: y is key 0, x key 1 */
    CHECK_EQ(rcy_setattr(b, x, v2), 0);
    for (int i = 0; i < 3; i++) {
        CHECK(rcy_getattr(a, x) == v1 && rcy_getattr(a, y) == v2);
        CHECK(rcy_getattr(b, x) == v2 && rcy_getattr(b, y) == v1);
    }
    CHECK_EQ(rcy_setattr(b, x, v3), 0);
    CHECK(rcy_getattr(a, x) == v1 && rcy_getattr(b, x) == v3);

    /* a's dict, asked for: the cached pointer goes through the dict both
       ways, and the dict sees every store. */
    rcy_object_t *da = rcy_instance_dict(a);
    CHECK_EQ(rcy_setattr(a, x, v3), 0);
    rcy_object_t *kx = rcy_str_intern(rt, "x");
    CHECK(rcy_dict_get(da, kx) == v3);
    CHECK_EQ(rcy_dict_set(da, kx, v2), 0);
    CHECK(rcy_getattr(a, x) == v2);
    CHECK(rcy_getattr_str(a, kx) == v2);
    CHECK_EQ(rcy_dict_del(da, kx), 0);
    CHECK(rcy_getattr(a, x) == NULL);
    CHECK_EQ(rcy_setattr(a, x, v1), 0);
    CHECK(strcmp(dict_keys(da, buf, sizeof buf), "y,x") == 0);
    /* Another instance of A is still compact, and fast. */
    rcy_object_t *a2 = rcy_instance_new(ca);
    CHECK_EQ(rcy_setattr(a2, y, v1), 0);
    CHECK_EQ(rcy_setattr(a2, x, v2), 0);
    CHECK(rcy_getattr(a2, x) == v2 && rcy_getattr(a2, y) == v1);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 1);

    /* b outgrows the compact form (more attributes than the layout word
       orders): the cached pointers find its dict. */
    char name[16];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "b%d", i);
        CHECK_EQ(rcy_setattr(b, name, v1), 0);
    }
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 2);
    CHECK(rcy_getattr(b, x) == v3 && rcy_getattr(b, y) == v1);
    CHECK_EQ(rcy_setattr(b, x, v2), 0);
    rcy_object_t *db = rcy_instance_dict(b);
    CHECK(rcy_dict_get(db, kx) == v2);
    rcy_decref(db);

    /* Deleting through the compact form and setting again keeps CPython's
       order (the name goes last), through the cached pointer. */
    CHECK_EQ(rcy_delattr(a2, y), 0);
    CHECK(rcy_getattr(a2, y) == NULL);
    CHECK_EQ(rcy_setattr(a2, y, v3), 0);
    rcy_object_t *d2 = rcy_instance_dict(a2);
    CHECK(strcmp(dict_keys(d2, buf, sizeof buf), "x,y") == 0);
    rcy_decref(d2);

    rcy_decref(da);
    rcy_decref(a);
    rcy_decref(a2);
    rcy_decref(b);
    rcy_decref(ca);
    rcy_decref(cb);
    CHECK_EQ(rcy_getrefcount(v1), 1);
    CHECK_EQ(rcy_getrefcount(v2), 1);
    CHECK_EQ(rcy_getrefcount(v3), 1);
    rcy_decref(v1);
    rcy_decref(v2);
    rcy_decref(v3);
    test_runtime_end(rt);
}

/* The fast store's reference counts: a mortal value replacing a mortal
   one, an immortal one replacing a mortal one (which dies there, and its
   finalizer runs), the same value again; and the insertion order of ten
   attributes (all the layout word orders) with deletions in the middle,
   which must leave the capacity and the compact form alone. */
static int replaced_finalized;
static int count_finalize(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    replaced_finalized++;
    return 0;
}

TEST(test_fast_store_counts_and_order)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    char buf[256];
    rcy_class_spec_t spec = {0};
    spec.finalize = count_finalize;
    rcy_object_t *fin = rcy_class_new(rt, "Fin", &spec);
    rcy_object_t *cls = rcy_class_new(rt, "P", NULL);
    rcy_object_t *o = rcy_instance_new(cls);
    rcy_object_t *m = rcy_int_new(rt, 123456), *small = rcy_int_new(rt, 7);
    rcy_object_t *name = rcy_str_intern(rt, "v");
    CHECK(rcy_is_immortal(small));
    CHECK_EQ(rcy_setattr(o, "v", m), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(rcy_setattr(o, "v", m), 0);
        CHECK_EQ(rcy_setattr_str(o, name, m), 0);
    }
    CHECK_EQ(rcy_getrefcount(m), 2);
    rcy_object_t *f = rcy_instance_new(fin);
    CHECK_EQ(rcy_setattr(o, "v", f), 0);
    CHECK_EQ(rcy_getrefcount(m), 1);
    rcy_decref(f);
    CHECK_EQ(replaced_finalized, 0);
    CHECK_EQ(rcy_setattr(o, "v", small), 0); /* f dies inside the call */
    CHECK_EQ(replaced_finalized, 1);
    CHECK_EQ(rcy_setattr_str(o, name, small), 0);
    CHECK(rcy_getattr(o, "v") == small);
    f = rcy_instance_new(fin);
    CHECK_EQ(rcy_setattr_str(o, name, f), 0);
    rcy_decref(f);
    CHECK_EQ(rcy_setattr_str(o, name, m), 0);
    CHECK_EQ(replaced_finalized, 2);
    CHECK_EQ(rcy_getrefcount(m), 2);

    /* Ten attributes, two deleted and set again, one deleted for good. */
    rcy_object_t *t = rcy_instance_new(cls);
    size_t bytes = rcy_type_live_bytes(rcy_class_instance_type(cls));
    char n[8];
    int order_max = sizeof(void *) == 8 ? 10 : 4;
    for (int i = 0; i < order_max; i++) {
        snprintf(n, sizeof n, "k%d", i);
        CHECK_EQ(rcy_setattr(t, n, m), 0);
    }
    CHECK_EQ(rcy_delattr(t, "k1"), 0);
    CHECK_EQ(rcy_delattr(t, order_max == 10 ? "k8" : "k3"), 0);
    CHECK_EQ(rcy_setattr(t, "k1", small), 0);
    CHECK_EQ(rcy_delattr(t, "k0"), 0);
    CHECK_EQ(census_of(rt, rcy_dict_type(rt)), 0);
    CHECK_EQ(rcy_type_live_bytes(rcy_class_instance_type(cls)), bytes);
    CHECK(rcy_getattr(t, "k1") == small && rcy_getattr(t, "k0") == NULL);
    rcy_object_t *d = rcy_instance_dict(t);
    CHECK(strcmp(dict_keys(d, buf, sizeof buf), order_max == 10 ? "k2,k3,k4,k5,k6,k7,k9,k1" : "k2,k1") == 0);
    rcy_decref(d);
    rcy_decref(t);

    rcy_decref(o);
    CHECK_EQ(rcy_getrefcount(m), 1);
    rcy_decref(m);
    rcy_decref(cls);
    rcy_decref(fin);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_intern_one_str_per_text);
    RUN(test_interned_strs_in_containers);
    RUN(test_compact_instances_census_and_size);
    RUN(test_instance_dict_order_and_sharing);
    RUN(test_cycle_counts_with_and_without_dict);
    RUN(test_traverse_and_referents);
    RUN(test_fallback_to_dict);
    RUN(test_str_object_forms);
    RUN(test_dict_made_while_a_finalizer_meddles);
    RUN(test_collection_over_both_forms);
    RUN(test_new_of_the_instance_type);
    RUN(test_long_chains_free_iteratively);
    RUN(test_immortal_instances_at_teardown);
    RUN(test_name_cache_same_pointer_new_text);
    RUN(test_name_cache_two_classes_and_dicts);
    RUN(test_fast_store_counts_and_order);
    return harness_summary();
}
