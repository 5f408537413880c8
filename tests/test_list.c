/* list: new_from, append, insert, get, set, pop, len; Python's index rules; error
   handling; the free list of 80 (the seeds' id(s) == id(n) experiment);
   cycles; reprs; and allocation failures that leave the list unchanged. */
#include "harness.h"
#include "oom_alloc.h"

static char buf[512];

static const char *repr(rcy_object_t *o)
{
    rcy_describe(o, buf, sizeof buf);
    return buf;
}

static rcy_object_t *int_list(rcy_runtime_t *rt, int n)
{
    rcy_object_t *l = rcy_list_new(rt);
    for (int i = 0; i < n; i++) {
        rcy_object_t *x = rcy_int_new(rt, i);
        CHECK_EQ(rcy_list_append(l, x), 0);
        rcy_decref(x);
    }
    return l;
}

static int64_t int_at(rcy_object_t *l, intptr_t i)
{
    int64_t v = -999;
    rcy_int_value(rcy_list_get(l, i), &v);
    return v;
}

TEST(test_list_basics)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = rcy_list_new(rt);
    CHECK(rcy_is_list(l));
    CHECK(rcy_gc_is_tracked(l));
    CHECK_EQ(rcy_list_len(l), 0);
    CHECK(strcmp(repr(l), "[]") == 0);
    rcy_object_t *big = rcy_int_new(rt, 123456);
    CHECK_EQ(rcy_list_append(l, big), 0);
    CHECK_EQ(rcy_getrefcount(big), 2);
    CHECK_EQ(rcy_list_append(l, big), 0); /* list1 = [a, a] counts twice */
    CHECK_EQ(rcy_getrefcount(big), 3);
    CHECK_EQ(rcy_list_len(l), 2);
    CHECK(rcy_list_get(l, 0) == big);
    CHECK(rcy_list_get(l, -1) == big);
    CHECK(strcmp(repr(l), "[123456, 123456]") == 0);

    /* set releases the old item. */
    rcy_object_t *s = rcy_str_new(rt, "x");
    CHECK_EQ(rcy_list_set(l, 0, s), 0);
    CHECK_EQ(rcy_getrefcount(big), 2);
    CHECK_EQ(rcy_getrefcount(s), 2);
    CHECK(strcmp(repr(l), "['x', 123456]") == 0);

    /* pop hands the list's reference to the caller. */
    rcy_object_t *p = rcy_list_pop(l, -1);
    CHECK(p == big);
    CHECK_EQ(rcy_getrefcount(big), 2);
    CHECK_EQ(rcy_list_len(l), 1);
    rcy_decref(p);
    CHECK_EQ(rcy_getrefcount(big), 1);
    rcy_decref(big);
    rcy_decref(s);
    rcy_decref(l);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_list_insert_and_pop_positions)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = int_list(rt, 3); /* [0, 1, 2] */
    rcy_object_t *a = rcy_int_new(rt, 10), *b = rcy_int_new(rt, 20), *c = rcy_int_new(rt, 30);
    rcy_object_t *d = rcy_int_new(rt, 40), *e = rcy_int_new(rt, 50);
    CHECK_EQ(rcy_list_insert(l, 0, a), 0);    /* [10, 0, 1, 2] */
    CHECK_EQ(rcy_list_insert(l, -1, b), 0);   /* before the last: [10, 0, 1, 20, 2] */
    CHECK_EQ(rcy_list_insert(l, 100, c), 0);  /* clamped: appended */
    CHECK_EQ(rcy_list_insert(l, -100, d), 0); /* clamped: at the front */
    CHECK_EQ(rcy_list_insert(l, 3, e), 0);
    CHECK(strcmp(repr(l), "[40, 10, 0, 50, 1, 20, 2, 30]") == 0);

    rcy_object_t *p = rcy_list_pop(l, 0);
    CHECK(p == d);
    rcy_decref(p);
    p = rcy_list_pop(l, 2); /* the middle */
    CHECK(p == e);
    rcy_decref(p);
    p = rcy_list_pop(l, -3);
    CHECK(p == b);
    rcy_decref(p);
    CHECK(strcmp(repr(l), "[10, 0, 1, 2, 30]") == 0);
    CHECK_EQ(int_at(l, -5), 10);
    rcy_decref(l);
    test_runtime_end(rt);
}

TEST(test_list_errors)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = int_list(rt, 2);
    rcy_object_t *x = rcy_int_new(rt, 5);
    CHECK(rcy_list_get(l, 2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    CHECK(rcy_list_get(l, -3) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    CHECK_EQ(rcy_list_set(l, 2, x), RCY_EINDEX);
    CHECK_EQ(rcy_list_set(l, -3, x), RCY_EINDEX);
    CHECK(rcy_list_pop(l, 5) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    CHECK_EQ(rcy_list_len(l), 2);
    rcy_object_t *empty = rcy_list_new(rt);
    CHECK(rcy_list_pop(empty, -1) == NULL); /* pop from empty list */
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);

    /* Wrong types and NULLs. */
    rcy_object_t *d = rcy_dict_new(rt);
    CHECK_EQ(rcy_list_append(d, x), RCY_ETYPE);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK_EQ(rcy_list_insert(d, 0, x), RCY_ETYPE);
    CHECK_EQ(rcy_list_set(d, 0, x), RCY_ETYPE);
    CHECK(rcy_list_get(d, 0) == NULL);
    CHECK(rcy_list_pop(d, 0) == NULL);
    CHECK_EQ(rcy_list_len(d), RCY_ETYPE);
    CHECK_EQ(rcy_list_len(x), RCY_ETYPE);
    CHECK_EQ(rcy_list_append(l, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_list_insert(l, 0, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_list_set(l, 0, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_list_append(NULL, x), RCY_EINVAL);
    CHECK_EQ(rcy_list_len(NULL), RCY_EINVAL);
    CHECK(rcy_list_get(NULL, 0) == NULL);
    CHECK(rcy_list_new(NULL) == NULL);
    int64_t h;
    CHECK_EQ(rcy_hash(l, &h), RCY_EHASH); /* lists are unhashable */
    CHECK_EQ(rcy_list_len(l), 2);
    rcy_decref(d);
    rcy_decref(empty);
    rcy_decref(l);
    test_runtime_end(rt);
}

/* The seeds: s = [1, 2]; id(s); del s; n = [3]; id(n) -- the same address:
   the freed list went to the free list and came back as n. */
TEST(test_list_free_list_reuse)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *s = int_list(rt, 2);
    void *id_s = s;
    rcy_decref(s); /* del s */
    CHECK_EQ(rcy_type_live_objects(rcy_list_type(rt)), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 1 : 0);
    rcy_object_t *n = int_list(rt, 1);
    if (rcy_freelists_enabled(rt)) {
        CHECK((void *)n == id_s); /* id(s) == id(n) */
    }
    /* Either way n is a fresh, working list. */
    CHECK_EQ(rcy_getrefcount(n), 1);
    CHECK(rcy_gc_is_tracked(n));
    CHECK_EQ(rcy_list_len(n), 1);
    CHECK(strcmp(repr(n), "[0]") == 0);
    CHECK_EQ(rcy_type_live_objects(rcy_list_type(rt)), 1);
    rcy_decref(n);

    /* At most 80 are kept. */
    enum { MANY = 100 };
    rcy_object_t *ls[MANY];
    for (int i = 0; i < MANY; i++)
        ls[i] = rcy_list_new(rt);
    for (int i = 0; i < MANY; i++)
        rcy_decref(ls[i]);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 80 : 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    /* A full collection empties the free lists, as in CPython. */
    rcy_gc_collect(rt, 0);
    CHECK_EQ(rcy_freelists_size(rt), rcy_freelists_enabled(rt) ? 80 : 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_freelists_size(rt), 0);
    test_runtime_end(rt);
}

TEST(test_free_lists_off_when_poisoning)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = 1;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_freelists_enabled(rt), 0);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_decref(l);
    CHECK_EQ(rcy_freelists_size(rt), 0);
    test_runtime_end(rt);
    CHECK_EQ(rcy_freelists_enabled(NULL), 0);
}

TEST(test_list_cycles)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    /* The seeds: a = [1, 2, 3]; b = [4, 5, 6]; a.append(b); b.append(a) */
    rcy_object_t *a = int_list(rt, 3), *b = int_list(rt, 3);
    rcy_list_append(a, b);
    rcy_list_append(b, a);
    CHECK(strcmp(repr(a), "[0, 1, 2, [0, 1, 2, [...]]]") == 0);
    rcy_decref(a);
    rcy_decref(b);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    /* A list that contains itself. */
    rcy_object_t *self = rcy_list_new(rt);
    rcy_list_append(self, self);
    CHECK(strcmp(repr(self), "[[...]]") == 0);
    CHECK_EQ(rcy_equal(self, self), 1);
    rcy_object_t *other = rcy_list_new(rt);
    rcy_list_append(other, other);
    CHECK_EQ(rcy_equal(self, other), RCY_EDEPTH); /* Python: RecursionError */
    rcy_decref(self);
    rcy_decref(other);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    test_runtime_end(rt);
}

TEST(test_list_equality)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = int_list(rt, 300), *b = int_list(rt, 300), *c = int_list(rt, 299);
    CHECK_EQ(rcy_equal(a, b), 1);
    CHECK_EQ(rcy_equal(a, c), 0);
    rcy_object_t *x = rcy_float_new(rt, 5.0);
    rcy_list_set(b, 5, x); /* 5 == 5.0 */
    CHECK_EQ(rcy_equal(a, b), 1);
    rcy_decref(x);
    rcy_decref(a);
    rcy_decref(b);
    rcy_decref(c);
    test_runtime_end(rt);
}

TEST(test_list_growth_and_shrink)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    enum { N = 100000 };
    rcy_object_t *l = int_list(rt, N);
    CHECK_EQ(rcy_list_len(l), N);
    CHECK_EQ(int_at(l, N - 1), N - 1);
    CHECK_EQ(int_at(l, 12345), 12345);
    for (int i = N - 1; i >= 10; i--) {
        rcy_object_t *p = rcy_list_pop(l, -1);
        int64_t v;
        rcy_int_value(p, &v);
        if (v != i) {
            CHECK_EQ(v, i);
            break;
        }
        rcy_decref(p);
    }
    CHECK_EQ(rcy_list_len(l), 10);
    CHECK(strcmp(repr(l), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]") == 0);
    rcy_decref(l);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* A long repr stops at the buffer without walking the whole list. */
TEST(test_list_repr_truncated)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = int_list(rt, 1000);
    char small[16];
    int n = rcy_describe(l, small, sizeof small);
    CHECK_EQ(n, 15);
    CHECK(strcmp(small, "[0, 1, 2, 3,...") == 0);
    rcy_decref(l);
    test_runtime_end(rt);
}

/* Replacing an item runs the old item's finalizer after the new item is in
   place: the finalizer sees a consistent list. */
static intptr_t seen_len;
static rcy_object_t *seen_item;

static int check_list_in_finalizer(rcy_object_t *self, void *arg)
{
    (void)self;
    rcy_object_t *list = arg;
    seen_len = rcy_list_len(list);
    seen_item = rcy_list_get(list, 0);
    return 0;
}

TEST(test_list_set_runs_finalizer_safely)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_class_spec_t spec = {0};
    spec.finalize = check_list_in_finalizer;
    spec.arg = l;
    rcy_object_t *cls = rcy_class_new(rt, "Watcher", &spec);
    rcy_object_t *w = rcy_instance_new(cls);
    rcy_object_t *x = rcy_int_new(rt, 99);
    rcy_list_append(l, w);
    rcy_decref(w);
    seen_len = -1;
    CHECK_EQ(rcy_list_set(l, 0, x), 0);
    CHECK_EQ(seen_len, 1);
    CHECK(seen_item == x);
    rcy_decref(cls);
    rcy_decref(l);
    test_runtime_end(rt);
}

TEST(test_list_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *x = rcy_int_new(rt, 1000);
    int n = 0;
    for (; n < 5; n++)
        rcy_list_append(l, x);
    /* Appends within the capacity need no memory; the first one that must
       grow the list fails and changes nothing. */
    a.failing = true;
    int err;
    while ((err = rcy_list_append(l, x)) == 0)
        n++;
    CHECK_EQ(err, RCY_ENOMEM);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(rcy_list_len(l), n); /* unchanged */
    CHECK_EQ(rcy_getrefcount(x), n + 1);
    CHECK_EQ(rcy_list_insert(l, 0, x), RCY_ENOMEM);
    CHECK_EQ(rcy_list_len(l), n);
    CHECK(rcy_list_get(l, n - 1) == x);
    /* With free lists emptied, creating a list fails too. */
    a.failing = false;
    rcy_gc_collect(rt, 2);
    a.failing = true;
    CHECK(rcy_list_new(rt) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    /* Shrinking never needs memory. */
    rcy_object_t *p = rcy_list_pop(l, 0);
    CHECK(p == x);
    rcy_decref(p);
    a.failing = false;
    CHECK_EQ(rcy_list_append(l, x), 0);
    rcy_decref(l);
    rcy_decref(x);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

TEST(test_list_new_from)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_int_new(rt, 1000), *b = rcy_str_new(rt, "b");
    rcy_object_t *items[3] = {a, b, a};
    rcy_object_t *l = rcy_list_new_from(rt, 3, items); /* [a, b, a] */
    CHECK(rcy_is_list(l));
    CHECK(rcy_gc_is_tracked(l));
    CHECK_EQ(rcy_list_len(l), 3);
    CHECK(strcmp(repr(l), "[1000, 'b', 1000]") == 0);
    CHECK_EQ(rcy_getrefcount(a), 3);
    CHECK_EQ(rcy_getrefcount(b), 2);
    /* Exactly n slots: the next append grows the array, as in CPython. */
    CHECK_EQ(rcy_list_append(l, b), 0);
    CHECK_EQ(rcy_list_len(l), 4);
    CHECK(rcy_list_get(l, 3) == b);
    rcy_decref(l);
    CHECK_EQ(rcy_getrefcount(a), 1);
    CHECK_EQ(rcy_getrefcount(b), 1);

    /* n == 0: an empty list, items may be NULL. */
    rcy_object_t *e = rcy_list_new_from(rt, 0, NULL);
    CHECK(e != NULL && rcy_list_len(e) == 0);
    CHECK_EQ(rcy_list_append(e, a), 0);
    rcy_decref(e);

    /* Bad arguments: nothing is kept, no reference taken. */
    rcy_object_t *holey[3];
    for (int hole = 0; hole < 3; hole++) {
        for (int i = 0; i < 3; i++)
            holey[i] = i == hole ? NULL : (i == 1 ? b : a);
        size_t live = rcy_runtime_live_objects(rt);
        CHECK(rcy_list_new_from(rt, 3, holey) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
        CHECK_EQ(rcy_runtime_live_objects(rt), live);
        CHECK_EQ(rcy_getrefcount(a), 1);
        CHECK_EQ(rcy_getrefcount(b), 1);
    }
    CHECK(rcy_list_new_from(rt, -1, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_list_new_from(rt, 2, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_list_new_from(NULL, 1, items) == NULL);
    CHECK_EQ(rcy_getrefcount(a), 1);
    CHECK_EQ(rcy_getrefcount(b), 1);
    rcy_decref(a);
    rcy_decref(b);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* A list made from items, whose item array cannot be had: nothing kept. */
TEST(test_list_new_from_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_object_t *x = rcy_int_new(rt, 1000);
    rcy_object_t *items[40];
    for (int i = 0; i < 40; i++)
        items[i] = x; /* 320 bytes of items */
    size_t before = rcy_runtime_live_objects(rt);
    long blocks = a.live;
    a.fail_after = 2; /* the list object comes, its item array does not */
    CHECK(rcy_list_new_from(rt, 40, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    a.failing = false;
    a.fail_after = 0;
    CHECK_EQ(rcy_getrefcount(x), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), before);
    rcy_gc_collect(rt, 2); /* empties the free list the list object went to */
    CHECK_EQ(a.live, blocks);
    rcy_object_t *l = rcy_list_new_from(rt, 40, items);
    CHECK_EQ(rcy_list_len(l), 40);
    CHECK_EQ(rcy_getrefcount(x), 41);
    rcy_decref(l);
    rcy_decref(x);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

/* Lists on the free list keep a small item array (at most 8 slots): a list
   from the free list is empty whatever room it has, and every kept array is
   given back when the list leaves the free list for good (more than 80
   dead lists, a full collection) or grows past it. Counted with an
   allocator that tracks its blocks (no pools: every array is a block). */
TEST(test_list_free_list_keeps_small_arrays)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    rcy_object_t *x = rcy_int_new(rt, 1000);
    rcy_object_t *items[9] = {x, x, x, x, x, x, x, x, x};
    rcy_gc_collect(rt, 2);
    long base = a.live;
    rcy_object_t *ls[100];
    for (int i = 0; i < 100; i++) /* 2, 8 or 9 slots: the 9-slot arrays are never kept */
        ls[i] = rcy_list_new_from(rt, i % 3 == 0 ? 2 : i % 3 == 1 ? 8 : 9, items);
    for (int i = 0; i < 100; i++)
        rcy_decref(ls[i]); /* 80 go to the free list, 20 are freed */
    CHECK_EQ(rcy_getrefcount(x), 1);
    for (int i = 0; i < 100; i++) {
        ls[i] = i % 2 ? rcy_list_new(rt) : rcy_list_new_from(rt, 3, items);
        CHECK_EQ(rcy_list_len(ls[i]), i % 2 ? 0 : 3);
        CHECK(i % 2 || rcy_list_get(ls[i], 2) == x);
        CHECK(i % 2 == 0 || rcy_list_get(ls[i], 0) == NULL);
    }
    for (int i = 0; i < 100; i += 2) { /* grow past any kept room */
        for (int k = 0; k < 20; k++)
            CHECK_EQ(rcy_list_append(ls[i], x), 0);
        CHECK_EQ(rcy_list_len(ls[i]), 23);
    }
    CHECK_EQ(rcy_getrefcount(x), 1 + 50 * 23);
    for (int i = 0; i < 100; i++)
        rcy_decref(ls[i]);
    CHECK_EQ(rcy_getrefcount(x), 1);
    rcy_gc_collect(rt, 2); /* empties the free lists: the arrays go too */
    CHECK_EQ(a.live, base);
    rcy_decref(x);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

int main(void)
{
    RUN(test_list_basics);
    RUN(test_list_insert_and_pop_positions);
    RUN(test_list_errors);
    RUN(test_list_free_list_reuse);
    RUN(test_free_lists_off_when_poisoning);
    RUN(test_list_cycles);
    RUN(test_list_equality);
    RUN(test_list_growth_and_shrink);
    RUN(test_list_repr_truncated);
    RUN(test_list_set_runs_finalizer_safely);
    RUN(test_list_out_of_memory);
    RUN(test_list_new_from);
    RUN(test_list_new_from_out_of_memory);
    RUN(test_list_free_list_keeps_small_arrays);
    return harness_summary();
}
