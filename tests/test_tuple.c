/* tuple: construction (references taken, never stolen), access, the empty
   singleton, untracking of tuples of atoms (untrack_tuples), the free lists
   by size, hashing, equality, reprs and error handling. */
#include "harness.h"
#include "node.h"
#include "oom_alloc.h"

static char buf[256];

static const char *repr(rcy_object_t *o)
{
    rcy_describe(o, buf, sizeof buf);
    return buf;
}

static rcy_object_t *tuple2(rcy_runtime_t *rt, rcy_object_t *a, rcy_object_t *b)
{
    rcy_object_t *items[2] = {a, b};
    return rcy_tuple_new(rt, 2, items);
}

TEST(test_tuple_basics)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *x = rcy_int_new(rt, 1000), *s = rcy_str_new(rt, "a");
    rcy_object_t *t = tuple2(rt, x, s);
    CHECK(rcy_is_tuple(t));
    CHECK_EQ(rcy_tuple_len(t), 2);
    CHECK_EQ(rcy_getrefcount(x), 2); /* the tuple took its own reference */
    CHECK(rcy_tuple_get(t, 0) == x);
    CHECK(rcy_tuple_get(t, 1) == s);
    CHECK(rcy_tuple_get(t, -1) == s);
    CHECK(rcy_tuple_get(t, -2) == x);
    CHECK(rcy_tuple_get(t, 2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    CHECK(rcy_tuple_get(t, -3) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    CHECK(strcmp(repr(t), "(1000, 'a')") == 0);
    rcy_decref(t);
    CHECK_EQ(rcy_getrefcount(x), 1);
    rcy_decref(x);
    rcy_decref(s);
    test_runtime_end(rt);
}

TEST(test_tuple_errors)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *x = rcy_int_new(rt, 1);
    rcy_object_t *items[2] = {x, NULL};
    CHECK(rcy_tuple_new(rt, 2, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_tuple_new(rt, -1, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_tuple_new(rt, 1, NULL) == NULL);
    CHECK(rcy_tuple_new(NULL, 1, items) == NULL);
    /* A NULL item anywhere, in a tuple from the free list (a pair has a
       fast path of its own) or a new one (25 items: no free list): no
       reference kept, nothing left alive. */
    rcy_object_t *big = rcy_str_new(rt, "held");
    rcy_object_t *many[25];
    static const int sizes[] = {1, 2, 13, 25};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int n = sizes[k];
        for (int i = 0; i < n; i++)
            many[i] = big;
        rcy_decref(rcy_tuple_new(rt, n, many)); /* on the free list, when one keeps it */
        for (int hole = 0; hole < n; hole++) {
            for (int i = 0; i < n; i++)
                many[i] = i == hole ? NULL : big;
            size_t live = rcy_runtime_live_objects(rt);
            CHECK(rcy_tuple_new(rt, n, many) == NULL);
            CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
            CHECK_EQ(rcy_getrefcount(big), 1);
            CHECK_EQ(rcy_runtime_live_objects(rt), live);
        }
    }
    rcy_decref(big);
    rcy_object_t *l = rcy_list_new(rt);
    CHECK_EQ(rcy_tuple_len(l), RCY_ETYPE);
    CHECK(rcy_tuple_get(l, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK_EQ(rcy_tuple_len(NULL), RCY_EINVAL);
    CHECK(rcy_tuple_get(NULL, 0) == NULL);
    rcy_decref(l);
    test_runtime_end(rt);
}

TEST(test_empty_tuple_singleton)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *e1 = rcy_tuple_new(rt, 0, NULL);
    rcy_object_t *e2 = rcy_tuple_new(rt, 0, NULL);
    CHECK(e1 != NULL);
    CHECK(e1 == e2);
    CHECK(rcy_is_immortal(e1));
    CHECK(!rcy_gc_is_tracked(e1)); /* never tracked */
    CHECK_EQ(rcy_gc_track(e1), RCY_ESTATE);
    CHECK_EQ(rcy_tuple_len(e1), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    CHECK(strcmp(repr(e1), "()") == 0);
    rcy_decref(e1);
    rcy_decref(e2);
    test_runtime_end(rt);
}

/* CPython's untrack_tuples: a tuple is tracked at creation; a collection
   untracks the survivors whose items can never be tracked. */
TEST(test_tuple_untracking)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *n = rcy_int_new(rt, 5000), *s = rcy_str_new(rt, "x"), *l = rcy_list_new(rt);
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    rcy_object_t *inst = rcy_instance_new(cls);
    /* Each is tracked at creation (checked at once: a GC-stress build
       collects at every allocation). */
    rcy_object_t *atoms = tuple2(rt, n, s);
    CHECK(rcy_gc_is_tracked(atoms));
    rcy_object_t *with_list = tuple2(rt, n, l);
    CHECK(rcy_gc_is_tracked(with_list));
    rcy_object_t *nested = tuple2(rt, atoms, s);
    CHECK(rcy_gc_is_tracked(nested) || !rcy_gc_is_tracked(atoms));
    rcy_object_t *nested_list = tuple2(rt, with_list, s);
    CHECK(rcy_gc_is_tracked(nested_list));
    rcy_object_t *with_empty = tuple2(rt, rcy_tuple_new(rt, 0, NULL), n);
    CHECK(rcy_gc_is_tracked(with_empty));
    rcy_object_t *with_instance = tuple2(rt, inst, n);
    CHECK(rcy_gc_is_tracked(with_instance));
    rcy_object_t *all[] = {atoms, with_list, nested, nested_list, with_empty, with_instance};

    rcy_gc_collect(rt, 2);
    CHECK(!rcy_gc_is_tracked(atoms));
    CHECK(rcy_gc_is_tracked(with_list)); /* a list may hold a cycle */
    CHECK(!rcy_gc_is_tracked(nested));   /* its inner tuple went first */
    CHECK(rcy_gc_is_tracked(nested_list));
    CHECK(!rcy_gc_is_tracked(with_empty)); /* the empty tuple is immortal */
    CHECK(rcy_gc_is_tracked(with_instance));
    CHECK(rcy_gc_is_tracked(l));

    /* Untracked tuples are still freed by reference counting. */
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rcy_decref(all[i]);
    rcy_decref(n);
    rcy_decref(s);
    rcy_decref(l);
    rcy_decref(inst);
    rcy_decref(cls);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_tuple_in_cycle)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    /* l = [t]; t = (l,): the cycle goes through a tuple. */
    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *one[1] = {l};
    rcy_object_t *t = rcy_tuple_new(rt, 1, one);
    rcy_list_append(l, t);
    CHECK(strcmp(repr(t), "([(...)],)") == 0);
    rcy_decref(t);
    rcy_decref(l);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_tuple_hash_and_equality)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *one = rcy_int_new(rt, 1), *two = rcy_int_new(rt, 2), *onef = rcy_float_new(rt, 1.0);
    rcy_object_t *a = tuple2(rt, one, two), *b = tuple2(rt, onef, two), *c = tuple2(rt, two, one);
    int64_t ha, hb, hc;
    CHECK_EQ(rcy_equal(a, b), 1); /* (1, 2) == (1.0, 2) */
    CHECK_EQ(rcy_equal(a, c), 0);
    CHECK_EQ(rcy_hash(a, &ha), 0);
    CHECK_EQ(rcy_hash(b, &hb), 0);
    CHECK_EQ(rcy_hash(c, &hc), 0);
    CHECK(ha == hb);
    CHECK(ha != hc); /* order matters */
    rcy_object_t *shorter[1] = {one};
    rcy_object_t *d = rcy_tuple_new(rt, 1, shorter);
    CHECK_EQ(rcy_equal(a, d), 0);

    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *e = tuple2(rt, one, l);
    CHECK_EQ(rcy_hash(e, &ha), RCY_EHASH); /* holds a list */
    rcy_object_t *f = tuple2(rt, a, e);
    CHECK_EQ(rcy_hash(f, &ha), RCY_EHASH);
    rcy_object_t *l2 = rcy_list_new(rt);
    CHECK_EQ(rcy_equal(l, l2), 1); /* [] == [] */
    CHECK_EQ(rcy_equal(a, l), 0);  /* a tuple never equals a list */

    rcy_object_t *objs[] = {onef, a, b, c, d, l, e, f, l2};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

TEST(test_tuple_repr)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *one = rcy_int_new(rt, 1), *s = rcy_str_new(rt, "a");
    rcy_object_t *single[1] = {one};
    rcy_object_t *t1 = rcy_tuple_new(rt, 1, single);
    CHECK(strcmp(repr(t1), "(1,)") == 0);
    rcy_object_t *t2 = tuple2(rt, t1, s);
    CHECK(strcmp(repr(t2), "((1,), 'a')") == 0);
    /* Objects of user types inside use their own description. */
    rcy_type_t *nt = node_type_new(rt, "Node");
    node_t *n = node_new(nt, 0);
    rcy_object_t *t3 = tuple2(rt, OB(n), one);
    char want[64];
    snprintf(want, sizeof want, "(<Node %p>, 1)", (void *)n);
    CHECK(strcmp(repr(t3), want) == 0);
    rcy_decref(t1);
    rcy_decref(t2);
    rcy_decref(t3);
    rcy_decref(OB(n));
    rcy_decref(s);
    test_runtime_end(rt);
}

/* The seeds: "元组的 free_list 只存元组元素个数 <= 20 个的, 每个个数的最多存 2000 个元组". */
TEST(test_tuple_free_lists)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *x = rcy_int_new(rt, 7);
    rcy_object_t *items[21];
    for (int i = 0; i < 21; i++)
        items[i] = x;
    rcy_object_t *t = rcy_tuple_new(rt, 2, items);
    void *old = t;
    rcy_decref(t);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);      /* free-listed objects are dead */
    rcy_object_t *t3 = rcy_tuple_new(rt, 3, items); /* another size: another list */
    rcy_object_t *u = rcy_tuple_new(rt, 2, items);
    if (rcy_freelists_enabled(rt)) {
        CHECK((void *)u == old); /* the freed pair's memory is reused */
        CHECK_EQ(rcy_freelists_size(rt), 0);
        CHECK(rcy_gc_is_tracked(u));
        CHECK_EQ(rcy_getrefcount(u), 1);
        CHECK(!rcy_gc_is_finalized(u));
    } else {
        CHECK_EQ(rcy_freelists_size(rt), 0);
    }
    CHECK_EQ(rcy_type_live_objects(rcy_tuple_type(rt)), 2);
    rcy_decref(u);
    rcy_decref(t3);

    /* Up to 2,000 tuples of each size from 1 to 20; bigger ones are freed. */
    enum { MANY = 2100 };
    static rcy_object_t *ts[MANY];
    for (int i = 0; i < MANY; i++)
        ts[i] = rcy_tuple_new(rt, 1, items);
    rcy_object_t *big = rcy_tuple_new(rt, 21, items);
    rcy_decref(big);
    for (int i = 0; i < MANY; i++)
        rcy_decref(ts[i]);
    size_t kept = rcy_freelists_size(rt);
    if (rcy_freelists_enabled(rt))
        CHECK_EQ(kept, 2000 + 1 + 1); /* 2,000 singles, the pair, the triple */
    else
        CHECK_EQ(kept, 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    /* A young collection keeps them; a full one empties the free lists. */
    rcy_gc_collect(rt, 1);
    CHECK_EQ(rcy_freelists_size(rt), kept);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_freelists_size(rt), 0);

    /* Last in, first out, across the list's top word and its stack (the
       first death fills the one, the next ones move it onto the other). */
    rcy_object_t *seq[4];
    for (int i = 0; i < 4; i++)
        seq[i] = rcy_tuple_new(rt, 2, items);
    for (int i = 0; i < 4; i++)
        rcy_decref(seq[i]);
    size_t before = rcy_freelists_size(rt);
    for (int i = 3; i >= 0; i--) {
        rcy_object_t *again = rcy_tuple_new(rt, 2, items);
        if (rcy_freelists_enabled(rt)) {
            CHECK((void *)again == (void *)seq[i]);
            CHECK_EQ(rcy_freelists_size(rt), before - (size_t)(4 - i));
        }
        seq[i] = again;
    }
    for (int i = 0; i < 4; i++)
        rcy_decref(seq[i]);
    test_runtime_end(rt);
}

/* The order in which test_tuple_pairs's instances die. */
static int died[4], ndied;
static int note_death(rcy_object_t *wr, void *arg)
{
    (void)wr;
    if (ndied < 4)
        died[ndied++] = (int)(intptr_t)arg;
    return 0;
}

/* A pair has its own copies of rcy_tuple_new's fast path and of a tuple's
   death, unrolled: each way out of them, at either index. */
TEST(test_tuple_pairs)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_object_t *x = rcy_int_new(rt, 1000), *y = rcy_str_new(rt, "y");
    rcy_decref(tuple2(rt, x, y)); /* a pair on the free list, when in use */
    size_t kept = rcy_freelists_size(rt);
    size_t live = rcy_runtime_live_objects(rt);

    /* A NULL item at either index: refused, no reference kept, the pair
       still on the free list. */
    CHECK(tuple2(rt, NULL, y) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(tuple2(rt, x, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(rcy_getrefcount(x), 1);
    CHECK_EQ(rcy_getrefcount(y), 1);
    CHECK_EQ(rcy_freelists_size(rt), kept);
    CHECK_EQ(rcy_runtime_live_objects(rt), live);

    /* A count at RCY_REFCNT_MAX at either index: the fast path gives the
       pair back and undoes the other increfs; the general path makes the
       pair, that count saturating (reported). */
    for (int at = 0; at < 2; at++) {
        rcy_object_t *popular = rcy_int_new(rt, 5000 + at);
        popular->refcnt = RCY_REFCNT_MAX; /* as if that many were held */
        rcy_object_t *t = at == 0 ? tuple2(rt, popular, y) : tuple2(rt, y, popular);
        CHECK(t != NULL);
        CHECK(rcy_tuple_get(t, at) == popular);
        CHECK(rcy_tuple_get(t, 1 - at) == y);
        CHECK(rcy_is_immortal(popular));
        CHECK_STR_CONTAINS(cap.text, "reference count overflow");
        capture_reset(&cap);
        CHECK_EQ(rcy_getrefcount(y), 2);
        rcy_decref(t);
        CHECK_EQ(rcy_getrefcount(y), 1);
        CHECK(rcy_is_immortal(popular));
        popular->refcnt = 1; /* mortal again (an int is on no list), to be freed */
        rcy_decref(popular);
    }
    CHECK_EQ(rcy_runtime_live_objects(rt), live);

    /* Immortal items: their counts never move. */
    rcy_object_t *none = rcy_none(rt), *small = rcy_int_new(rt, 3);
    intptr_t none_count = rcy_getrefcount(none), small_count = rcy_getrefcount(small);
    rcy_decref(tuple2(rt, none, small));
    rcy_decref(tuple2(rt, small, x));
    CHECK_EQ(rcy_getrefcount(none), none_count);
    CHECK_EQ(rcy_getrefcount(small), small_count);
    CHECK_EQ(rcy_getrefcount(x), 1);

    /* A pair holding the last reference to one item or both: the deaths
       nest, the last item first (CPython's tupledealloc). */
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    for (int last = 1; last <= 3; last++) { /* bit 0: item 0 dies, bit 1: item 1 */
        rcy_object_t *a = rcy_instance_new(cls), *b = rcy_instance_new(cls);
        rcy_object_t *wa = rcy_weakref_new(a, note_death, (void *)(intptr_t)1);
        rcy_object_t *wb = rcy_weakref_new(b, note_death, (void *)(intptr_t)2);
        rcy_object_t *t = tuple2(rt, a, b);
        CHECK(t != NULL && wa != NULL && wb != NULL);
        if (last & 1)
            rcy_decref(a);
        if (last & 2)
            rcy_decref(b);
        ndied = 0;
        rcy_decref(t);
        CHECK_EQ(ndied, last == 3 ? 2 : 1);
        CHECK_EQ(died[0], last == 1 ? 1 : 2);
        if (last == 3)
            CHECK_EQ(died[1], 1);
        if (!(last & 1))
            rcy_decref(a);
        if (!(last & 2))
            rcy_decref(b);
        rcy_decref(wa);
        rcy_decref(wb);
    }
    rcy_decref(cls);
    CHECK_EQ(rcy_runtime_live_objects(rt), live);

    /* A pair in a cycle with a list: the collection clears one of them, so
       a pair may die with a NULL item, either way round. */
    for (int at = 0; at < 2; at++) {
        rcy_object_t *l = rcy_list_new(rt);
        rcy_object_t *t = at == 0 ? tuple2(rt, l, x) : tuple2(rt, x, l);
        CHECK_EQ(rcy_list_append(l, t), 0);
        rcy_decref(t);
        rcy_decref(l);
        CHECK_EQ(rcy_gc_collect(rt, 2), 2);
        CHECK_EQ(rcy_getrefcount(x), 1);
    }
    CHECK_EQ(rcy_runtime_live_objects(rt), live);

    /* At most 2,000 pairs kept: the others are freed. */
    rcy_gc_collect(rt, 2); /* empty free lists */
    enum { MANY = 2100 };
    static rcy_object_t *ts[MANY];
    for (int i = 0; i < MANY; i++) {
        ts[i] = tuple2(rt, x, y);
        CHECK(ts[i] != NULL);
    }
    CHECK_EQ(rcy_getrefcount(x), 1 + MANY);
    for (int i = 0; i < MANY; i++)
        rcy_decref(ts[i]);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 2000 : 0);
    CHECK_EQ(rcy_getrefcount(x), 1);
    CHECK_EQ(rcy_getrefcount(y), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), live);
    rcy_decref(x);
    rcy_decref(y);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(test_tuple_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_gc_collect(rt, 2); /* empty free lists: the next tuple needs memory */
    rcy_object_t *x = rcy_int_new(rt, 1000);
    rcy_object_t *items[2] = {x, x};
    long live = a.live;
    a.failing = true;
    CHECK(rcy_tuple_new(rt, 2, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(rcy_getrefcount(x), 1);           /* items untouched */
    CHECK(rcy_tuple_new(rt, 0, NULL) != NULL); /* the singleton needs none */
    a.failing = false;
    CHECK_EQ(a.live, live);
    rcy_decref(x);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

int main(void)
{
    RUN(test_tuple_basics);
    RUN(test_tuple_errors);
    RUN(test_empty_tuple_singleton);
    RUN(test_tuple_untracking);
    RUN(test_tuple_in_cycle);
    RUN(test_tuple_hash_and_equality);
    RUN(test_tuple_repr);
    RUN(test_tuple_free_lists);
    RUN(test_tuple_pairs);
    RUN(test_tuple_out_of_memory);
    return harness_summary();
}
