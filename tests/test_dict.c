/* dict: keys of every hashable kind, unhashable keys, missing keys,
   insertion-ordered iteration through deletions and growth, equality,
   reprs, the free list, tracking, cycles, and allocation failures. */
#include "harness.h"
#include "oom_alloc.h"

static char buf[512];

static const char *repr(rcy_object_t *o)
{
    rcy_describe(o, buf, sizeof buf);
    return buf;
}

static void set_str(rcy_object_t *d, const char *k, rcy_object_t *v)
{
    rcy_object_t *key = rcy_str_new(rcy_object_runtime(d), k);
    CHECK_EQ(rcy_dict_set(d, key, v), 0);
    rcy_decref(key);
}

static void set_int(rcy_object_t *d, int64_t k, int64_t v)
{
    rcy_runtime_t *rt = rcy_object_runtime(d);
    rcy_object_t *key = rcy_int_new(rt, k), *val = rcy_int_new(rt, v);
    CHECK_EQ(rcy_dict_set(d, key, val), 0);
    rcy_decref(key);
    rcy_decref(val);
}

static rcy_object_t *get_str(rcy_object_t *d, const char *k)
{
    rcy_object_t *key = rcy_str_new(rcy_object_runtime(d), k);
    rcy_object_t *v = rcy_dict_get(d, key); /* borrowed */
    rcy_decref(key);
    return v;
}

static int64_t get_int(rcy_object_t *d, int64_t k)
{
    rcy_object_t *key = rcy_int_new(rcy_object_runtime(d), k);
    rcy_object_t *v = rcy_dict_get(d, key);
    rcy_decref(key);
    int64_t out = -1;
    if (v == NULL || rcy_int_value(v, &out) < 0)
        return -1;
    return out;
}

TEST(test_dict_basics)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    CHECK(rcy_is_dict(d));
    CHECK(rcy_gc_is_tracked(d)); /* dicts are always tracked (CPython 3.14) */
    CHECK_EQ(rcy_dict_len(d), 0);
    CHECK(strcmp(repr(d), "{}") == 0);
    rcy_object_t *one = rcy_int_new(rt, 1);
    set_str(d, "a", one);
    CHECK(strcmp(repr(d), "{'a': 1}") == 0);
    CHECK_EQ(rcy_dict_len(d), 1);

    rcy_object_t *ka = rcy_str_new(rt, "a"), *kb = rcy_str_new(rt, "b");
    CHECK(rcy_dict_get(d, ka) == one);
    CHECK(rcy_dict_get(d, kb) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_dict_del(d, kb), RCY_EKEY);

    /* Replacing a value keeps the original key object and the position. */
    rcy_object_t *v = rcy_float_new(rt, 2.5);
    set_str(d, "z", one);
    CHECK_EQ(rcy_dict_set(d, ka, v), 0);
    CHECK_EQ(rcy_getrefcount(v), 2);
    CHECK(strcmp(repr(d), "{'a': 2.5, 'z': 1}") == 0);
    rcy_object_t *key;
    intptr_t pos = 0;
    CHECK_EQ(rcy_dict_next(d, &pos, &key, NULL), 1);
    CHECK(key != ka); /* the first 'a' stays the key */
    CHECK_EQ(rcy_getrefcount(ka), 1);

    CHECK_EQ(rcy_dict_del(d, ka), 0);
    CHECK_EQ(rcy_getrefcount(v), 1); /* released */
    CHECK_EQ(rcy_dict_len(d), 1);
    CHECK(strcmp(repr(d), "{'z': 1}") == 0);
    rcy_decref(v);
    rcy_decref(ka);
    rcy_decref(kb);
    rcy_decref(d);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_dict_key_kinds)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *i1 = rcy_int_new(rt, 1), *f1 = rcy_float_new(rt, 1.0), *big = rcy_int_new(rt, 1 << 20);
    rcy_object_t *s = rcy_str_new(rt, "key"), *s2 = rcy_str_new(rt, "key");
    rcy_object_t *items[2] = {i1, s};
    rcy_object_t *t = rcy_tuple_new(rt, 2, items), *t2 = rcy_tuple_new(rt, 2, items);
    rcy_object_t *cls = rcy_class_new(rt, "K", NULL);
    rcy_object_t *inst = rcy_instance_new(cls), *inst2 = rcy_instance_new(cls);
    rcy_object_t *vals[6];
    for (int i = 0; i < 6; i++)
        vals[i] = rcy_int_new(rt, 100 + i);

    CHECK_EQ(rcy_dict_set(d, i1, vals[0]), 0);
    CHECK_EQ(rcy_dict_set(d, f1, vals[1]), 0); /* 1.0 == 1: the same key */
    CHECK_EQ(rcy_dict_len(d), 1);
    CHECK(rcy_dict_get(d, i1) == vals[1]);
    CHECK_EQ(rcy_dict_set(d, big, vals[0]), 0);
    CHECK_EQ(rcy_dict_set(d, s, vals[2]), 0);
    CHECK(rcy_dict_get(d, s2) == vals[2]); /* equal strs are the same key */
    CHECK_EQ(rcy_dict_set(d, t, vals[3]), 0);
    CHECK(rcy_dict_get(d, t2) == vals[3]); /* tuples by value */
    CHECK_EQ(rcy_dict_set(d, inst, vals[4]), 0);
    CHECK(rcy_dict_get(d, inst2) == NULL); /* instances by identity */
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_dict_set(d, cls, vals[5]), 0);
    CHECK(rcy_dict_get(d, cls) == vals[5]);
    CHECK_EQ(rcy_dict_len(d), 6);

    /* Unhashable keys: lists, dicts, tuples holding them. */
    rcy_object_t *l = rcy_list_new(rt), *dd = rcy_dict_new(rt);
    rcy_object_t *lt_items[1] = {l};
    rcy_object_t *lt = rcy_tuple_new(rt, 1, lt_items);
    CHECK_EQ(rcy_dict_set(d, l, i1), RCY_EHASH);
    CHECK_EQ(rcy_last_error(rt), RCY_EHASH);
    CHECK_EQ(rcy_dict_set(d, dd, i1), RCY_EHASH);
    CHECK_EQ(rcy_dict_set(d, lt, i1), RCY_EHASH);
    CHECK(rcy_dict_get(d, l) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EHASH);
    CHECK_EQ(rcy_dict_del(d, l), RCY_EHASH);
    CHECK_EQ(rcy_dict_len(d), 6);
    CHECK_EQ(rcy_getrefcount(l), 2); /* only lt's reference */

    rcy_object_t *objs[] = {i1, f1, big, s, s2, t, t2, cls, inst, inst2, l, dd, lt, d};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    for (int i = 0; i < 6; i++)
        rcy_decref(vals[i]);
    test_runtime_end(rt);
}

TEST(test_dict_errors)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *d = rcy_dict_new(rt), *l = rcy_list_new(rt), *x = rcy_int_new(rt, 3);
    CHECK_EQ(rcy_dict_set(l, x, x), RCY_ETYPE);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(rcy_dict_get(l, x) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK_EQ(rcy_dict_del(l, x), RCY_ETYPE);
    CHECK_EQ(rcy_dict_len(l), RCY_ETYPE);
    intptr_t pos = 0;
    CHECK_EQ(rcy_dict_next(l, &pos, NULL, NULL), RCY_ETYPE);
    CHECK_EQ(rcy_dict_next(d, NULL, NULL, NULL), RCY_EINVAL);
    pos = -1;
    CHECK_EQ(rcy_dict_next(d, &pos, NULL, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_dict_set(d, NULL, x), RCY_EINVAL);
    CHECK_EQ(rcy_dict_set(d, x, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_dict_set(NULL, x, x), RCY_EINVAL);
    CHECK(rcy_dict_get(d, NULL) == NULL);
    CHECK_EQ(rcy_dict_del(d, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_dict_len(NULL), RCY_EINVAL);
    CHECK(rcy_dict_new(NULL) == NULL);
    int64_t h;
    CHECK_EQ(rcy_hash(d, &h), RCY_EHASH);
    CHECK_EQ(rcy_dict_len(d), 0);
    rcy_decref(d);
    rcy_decref(l);
    test_runtime_end(rt);
}

TEST(test_dict_insertion_order)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    enum { N = 10000 };
    /* Keys in a scrambled order; iteration gives them back in that order. */
    for (int64_t i = 0; i < N; i++)
        set_int(d, (i * 7919) % N, i);
    CHECK_EQ(rcy_dict_len(d), N);
    /* Delete every other one, then iterate: the survivors, in order. */
    for (int64_t i = 0; i < N; i += 2) {
        rcy_object_t *k = rcy_int_new(rt, (i * 7919) % N);
        CHECK_EQ(rcy_dict_del(d, k), 0);
        rcy_decref(k);
    }
    CHECK_EQ(rcy_dict_len(d), N / 2);
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    int64_t expect = 1, count = 0;
    while (rcy_dict_next(d, &pos, &k, &v) == 1) {
        int64_t kv, vv;
        rcy_int_value(k, &kv);
        rcy_int_value(v, &vv);
        if (vv != expect || kv != (expect * 7919) % N) {
            CHECK_EQ(vv, expect);
            break;
        }
        expect += 2;
        count++;
    }
    CHECK_EQ(count, N / 2);
    CHECK_EQ(rcy_dict_next(d, &pos, &k, &v), 0); /* stays at the end */
    /* Lookups after growth and deletions. */
    CHECK_EQ(get_int(d, (1 * 7919) % N), 1);
    CHECK_EQ(get_int(d, 0), -1);
    /* Re-adding a deleted key puts it at the end. */
    set_int(d, 0, 42);
    pos = 0;
    rcy_object_t *last = NULL;
    while (rcy_dict_next(d, &pos, &k, NULL) == 1)
        last = k;
    int64_t lv;
    rcy_int_value(last, &lv);
    CHECK_EQ(lv, 0);
    /* Values may be replaced during an iteration. */
    pos = 0;
    int replaced = 0;
    while (rcy_dict_next(d, &pos, &k, NULL) == 1) {
        rcy_object_t *z = rcy_int_new(rt, 0);
        CHECK_EQ(rcy_dict_set(d, k, z), 0);
        replaced++;
    }
    CHECK_EQ(replaced, N / 2 + 1);
    CHECK_EQ(get_int(d, (1 * 7919) % N), 0);
    rcy_decref(d);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_dict_equality_and_repr)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_dict_new(rt), *b = rcy_dict_new(rt);
    set_int(a, 1, 10);
    set_int(a, 2, 20);
    set_int(b, 2, 20);
    set_int(b, 1, 10);
    CHECK_EQ(rcy_equal(a, b), 1); /* order does not matter */
    CHECK(strcmp(repr(a), "{1: 10, 2: 20}") == 0);
    CHECK(strcmp(repr(b), "{2: 20, 1: 10}") == 0);
    set_int(b, 3, 30);
    CHECK_EQ(rcy_equal(a, b), 0);
    set_int(a, 3, 31);
    CHECK_EQ(rcy_equal(a, b), 0);
    /* A dict that contains itself. */
    set_str(a, "self", a);
    CHECK(strcmp(repr(a), "{1: 10, 2: 20, 3: 31, 'self': {...}}") == 0);
    rcy_decref(a);
    rcy_decref(b);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    test_runtime_end(rt);
}

TEST(test_dict_cycles)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_dict_new(rt), *b = rcy_dict_new(rt);
    rcy_object_t *l = rcy_list_new(rt);
    set_str(a, "b", b);
    set_str(b, "l", l);
    rcy_list_append(l, a);
    rcy_decref(a);
    rcy_decref(b);
    rcy_decref(l);
    CHECK_EQ(rcy_runtime_live_objects(rt), 3 + 2); /* and the two str keys */
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_dict_free_list)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    set_int(d, 1, 2);
    void *id_d = d;
    rcy_decref(d);
    CHECK_EQ(rcy_type_live_objects(rcy_dict_type(rt)), 0);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 1 : 0);
    rcy_object_t *e = rcy_dict_new(rt);
    if (rcy_freelists_enabled(rt))
        CHECK((void *)e == id_d);
    CHECK_EQ(rcy_dict_len(e), 0); /* a fresh, empty dict */
    CHECK(rcy_gc_is_tracked(e));
    set_int(e, 5, 6);
    CHECK_EQ(get_int(e, 5), 6);
    rcy_decref(e);

    enum { MANY = 90 };
    rcy_object_t *ds[MANY];
    for (int i = 0; i < MANY; i++)
        ds[i] = rcy_dict_new(rt);
    for (int i = 0; i < MANY; i++)
        rcy_decref(ds[i]);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 80 : 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_freelists_size(rt), 0);
    test_runtime_end(rt);
}

/* A dict that dies with a table of the smallest size keeps it on the free
   list, emptied (CPython's free list of keys objects), and the next dict
   gets it: such a dict must behave as a new one whatever its first key
   (a str whose hash is known takes a shorter path), through replacement,
   deletion and growth; a full collection gives the tables back. */
TEST(test_dict_kept_table)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_str_new(rt, "a");
    rcy_object_t *x = rcy_int_new(rt, 7001), *y = rcy_int_new(rt, 7002);
    for (int round = 0; round < 4; round++) {
        rcy_object_t *d = rcy_dict_new(rt);
        CHECK_EQ(rcy_dict_len(d), 0);
        CHECK(rcy_dict_get(d, a) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
        intptr_t pos = 0;
        CHECK_EQ(rcy_dict_next(d, &pos, NULL, NULL), 0);
        CHECK_EQ(rcy_dict_set(d, a, x), 0); /* a's hash is known from round 1 on */
        CHECK_EQ(rcy_dict_len(d), 1);
        CHECK(rcy_dict_get(d, a) == x);
        CHECK_EQ(rcy_getrefcount(x), 2);
        CHECK_EQ(rcy_dict_set(d, a, y), 0); /* found again: it was indexed */
        CHECK_EQ(rcy_dict_len(d), 1);
        CHECK_EQ(rcy_getrefcount(x), 1);
        CHECK_EQ(rcy_getrefcount(y), 2);
        if (round == 2) {
            CHECK_EQ(rcy_dict_del(d, a), 0); /* a DUMMY index, then more keys */
            CHECK_EQ(rcy_dict_len(d), 0);
            set_int(d, 1, 10);
            CHECK_EQ(rcy_dict_set(d, a, x), 0);
            CHECK_EQ(get_int(d, 1), 10);
            CHECK(strcmp(repr(d), "{1: 10, 'a': 7001}") == 0);
        } else if (round == 3) {
            for (int i = 0; i < 20; i++) /* growth past the kept table */
                set_int(d, i, i + 100);
            CHECK_EQ(rcy_dict_len(d), 21);
            CHECK_EQ(get_int(d, 19), 119);
            CHECK(rcy_dict_get(d, a) == y);
        }
        rcy_decref(d);
    }
    /* A first key that is not a str, into a kept table; then a str. */
    rcy_object_t *d = rcy_dict_new(rt);
    set_int(d, 3, 4);
    CHECK_EQ(rcy_dict_set(d, a, x), 0);
    CHECK_EQ(get_int(d, 3), 4);
    CHECK(rcy_dict_get(d, a) == x);
    CHECK(strcmp(repr(d), "{3: 4, 'a': 7001}") == 0);
    rcy_decref(d);
    /* A key that is its own value. */
    d = rcy_dict_new(rt);
    CHECK_EQ(rcy_dict_set(d, a, a), 0);
    CHECK_EQ(rcy_getrefcount(a), 3);
    CHECK(rcy_dict_get(d, a) == a);
    rcy_decref(d);
    CHECK_EQ(rcy_getrefcount(a), 1);
    /* Errors are those of the general path, nothing stored. */
    d = rcy_dict_new(rt);
    CHECK_EQ(rcy_dict_set(d, a, NULL), RCY_EINVAL);
    rcy_runtime_t *other = test_runtime(NULL);
    rcy_object_t *far = rcy_int_new(other, 123456);
    CHECK_EQ(rcy_dict_set(d, a, far), RCY_ERUNTIME);
    CHECK_EQ(rcy_dict_len(d), 0);
    CHECK_EQ(rcy_getrefcount(far), 1);
    rcy_decref(far);
    test_runtime_end(other);
    rcy_decref(d);
    rcy_decref(a);
    rcy_decref(x);
    rcy_decref(y);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 1 : 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_freelists_size(rt), 0);
    test_runtime_end(rt);
}

TEST(test_dict_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    for (int i = 0; i < 5; i++) /* a new dict's table holds 5 */
        set_int(d, 1000 + i, i);
    rcy_object_t *k = rcy_int_new(rt, 2000), *v = rcy_int_new(rt, 3000);
    rcy_object_t *k1003 = NULL; /* the stored key 1003 (lookups need no memory) */
    intptr_t pos = 0;
    for (int i = 0; i < 4; i++)
        rcy_dict_next(d, &pos, &k1003, NULL);
    long live = a.live;
    a.failing = true;
    CHECK_EQ(rcy_dict_set(d, k, v), RCY_ENOMEM); /* needs a bigger table */
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(rcy_dict_len(d), 5);
    CHECK(rcy_dict_get(d, k) == NULL);
    CHECK_EQ(rcy_getrefcount(k), 1);
    CHECK_EQ(rcy_getrefcount(v), 1);
    int64_t got = -1;
    rcy_int_value(rcy_dict_get(d, k1003), &got);
    CHECK_EQ(got, 3);
    /* Replacing and deleting need no memory. */
    rcy_object_t *seven = rcy_int_new(rt, 7); /* cached: no allocation */
    CHECK_EQ(rcy_dict_set(d, k1003, seven), 0);
    CHECK(rcy_dict_get(d, k1003) == seven);
    size_t ints = rcy_type_live_objects(rcy_int_type(rt));
    CHECK_EQ(rcy_dict_del(d, k1003), 0);
    CHECK_EQ(rcy_type_live_objects(rcy_int_type(rt)), ints - 1); /* the deleted key died */
    CHECK(a.live <= live);
    a.failing = false;
    CHECK_EQ(rcy_dict_set(d, k, v), 0);
    rcy_decref(k);
    rcy_decref(v);
    rcy_decref(d);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

/* The first item of an empty dict under a str key takes a shorter path
   (no lookup): the dict must behave exactly as one filled the long way,
   including for a dict revived from the free list and one emptied by a
   collection of a cycle through it. */
TEST(test_dict_first_str_key)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    for (int round = 0; round < 3; round++) { /* new, then from the free list */
        rcy_object_t *d = rcy_dict_new(rt);
        rcy_object_t *v = rcy_int_new(rt, 5000 + round);
        set_str(d, "a", v);
        CHECK_EQ(rcy_dict_len(d), 1);
        CHECK(get_str(d, "a") == v);
        CHECK_EQ(rcy_getrefcount(v), 2);
        /* The same key again replaces the value: the entry was indexed. */
        rcy_object_t *w = rcy_int_new(rt, 6000);
        set_str(d, "a", w);
        CHECK_EQ(rcy_dict_len(d), 1);
        CHECK_EQ(rcy_getrefcount(v), 1);
        /* More keys go through the table the first insert made. */
        for (int i = 0; i < 20; i++)
            set_int(d, i, i * 10);
        CHECK_EQ(rcy_dict_len(d), 21);
        CHECK_EQ(get_int(d, 19), 190);
        CHECK(get_str(d, "a") == w);
        CHECK(strncmp(repr(d), "{'a': 6000, 0: 0, 1: 10", 23) == 0);
        rcy_decref(v);
        rcy_decref(w);
        rcy_decref(d);
    }
    /* A first key that is not a str takes the general path. */
    rcy_object_t *d = rcy_dict_new(rt);
    set_int(d, 7, 70);
    set_str(d, "a", d); /* and a cycle through the dict */
    CHECK_EQ(get_int(d, 7), 70);
    rcy_decref(d);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* The first insert's table cannot be had: the dict stays empty. */
TEST(test_dict_first_insert_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *k = rcy_str_new(rt, "key"), *v = rcy_int_new(rt, 3000);
    long live = a.live;
    a.failing = true;
    CHECK_EQ(rcy_dict_set(d, k, v), RCY_ENOMEM);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(rcy_dict_len(d), 0);
    CHECK_EQ(rcy_getrefcount(k), 1);
    CHECK_EQ(rcy_getrefcount(v), 1);
    CHECK_EQ(a.live, live);
    a.failing = false;
    CHECK_EQ(rcy_dict_set(d, k, v), 0);
    CHECK(rcy_dict_get(d, k) == v);
    rcy_decref(k);
    rcy_decref(v);
    rcy_decref(d);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

int main(void)
{
    RUN(test_dict_basics);
    RUN(test_dict_key_kinds);
    RUN(test_dict_errors);
    RUN(test_dict_insertion_order);
    RUN(test_dict_equality_and_repr);
    RUN(test_dict_cycles);
    RUN(test_dict_free_list);
    RUN(test_dict_kept_table);
    RUN(test_dict_out_of_memory);
    RUN(test_dict_first_str_key);
    RUN(test_dict_first_insert_out_of_memory);
    return harness_summary();
}
