/* Across the built-in types: the runtime creates them (and a failed
   creation leaves nothing allocated), type accessors and checks, equality
   and hashing between types, nesting limits, reprs mixing user types, and
   the free-list switch (the process memory figures: test_memory.c). */
#include "harness.h"
#include "node.h"
#include "oom_alloc.h"

TEST(test_runtime_creates_builtins)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0); /* singletons are not live objects */
    const char *names[] = {"int", "float", "str", "tuple", "list", "dict", "type"};
    rcy_type_t *types[] = {rcy_int_type(rt),  rcy_float_type(rt), rcy_str_type(rt),  rcy_tuple_type(rt),
                           rcy_list_type(rt), rcy_dict_type(rt),  rcy_class_type(rt)};
    for (int i = 0; i < 7; i++) {
        CHECK(types[i] != NULL);
        CHECK(strcmp(rcy_type_name(types[i]), names[i]) == 0);
        CHECK(rcy_type_runtime(types[i]) == rt);
        CHECK_EQ(rcy_type_is_gc(types[i]), i >= 3);
    }
    CHECK(rcy_int_type(NULL) == NULL);
    CHECK(rcy_class_type(NULL) == NULL);
    CHECK(!rcy_is_int(NULL) && !rcy_is_list(NULL) && !rcy_is_instance(NULL) && !rcy_is_class(NULL));
    test_runtime_end(rt);
}

/* rcy_runtime_new fails cleanly at each of its allocations. */
TEST(test_runtime_new_out_of_memory)
{
    for (long n = 1; n < 200; n++) {
        oom_alloc_t a = {0};
        a.fail_after = n;
        rcy_config_t cfg;
        rcy_config_init(&cfg);
        cfg.allocator.malloc_fn = oom_malloc;
        cfg.allocator.realloc_fn = oom_realloc;
        cfg.allocator.free_fn = oom_free;
        cfg.allocator.ctx = &a;
        rcy_runtime_t *rt = rcy_runtime_new(&cfg);
        if (rt != NULL) {
            CHECK(n > 10); /* the built-in types need a dozen allocations */
            a.failing = false;
            a.fail_after = 0;
            rcy_object_t *l = rcy_list_new(rt);
            CHECK(l != NULL);
            rcy_xdecref(l);
            rcy_runtime_destroy(rt);
            CHECK_EQ(a.live, 0);
            break;
        }
        CHECK_EQ(a.live, 0); /* nothing left allocated */
    }
}

TEST(test_cross_type_equality)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *i = rcy_int_new(rt, 3), *f = rcy_float_new(rt, 3.0), *s = rcy_str_new(rt, "3");
    rcy_object_t *l = rcy_list_new(rt), *d = rcy_dict_new(rt), *t = rcy_tuple_new(rt, 0, NULL);
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    rcy_object_t *o1 = rcy_instance_new(cls), *o2 = rcy_instance_new(cls);
    rcy_type_t *nt = node_type_new(rt, "Node");
    node_t *n1 = node_new(nt, 1), *n2 = node_new(nt, 1);
    CHECK_EQ(rcy_equal(i, f), 1);
    CHECK_EQ(rcy_equal(i, s), 0);
    CHECK_EQ(rcy_equal(l, t), 0);
    CHECK_EQ(rcy_equal(l, d), 0);
    CHECK_EQ(rcy_equal(o1, o2), 0); /* identity only */
    CHECK_EQ(rcy_equal(o1, o1), 1);
    CHECK_EQ(rcy_equal(OB(n1), OB(n2)), 0);
    CHECK_EQ(rcy_equal(OB(n1), OB(n1)), 1);
    CHECK_EQ(rcy_equal(cls, cls), 1);
    CHECK_EQ(rcy_equal(NULL, i), RCY_EINVAL);
    CHECK_EQ(rcy_equal(i, NULL), RCY_EINVAL);

    /* Identity hashes for instances, classes and user types. */
    int64_t h1, h2;
    CHECK_EQ(rcy_hash(o1, &h1), 0);
    CHECK_EQ(rcy_hash(o1, &h2), 0);
    CHECK(h1 == h2);
    CHECK_EQ(rcy_hash(o2, &h2), 0);
    CHECK(h1 != h2);
    CHECK_EQ(rcy_hash(OB(n1), &h1), 0);
    CHECK_EQ(rcy_hash(cls, &h1), 0);
    CHECK_EQ(rcy_hash(i, NULL), RCY_EINVAL);
    /* A user-type object works as a dict key and a list item. */
    CHECK_EQ(rcy_dict_set(d, OB(n1), i), 0);
    CHECK(rcy_dict_get(d, OB(n1)) == i);
    CHECK(rcy_dict_get(d, OB(n2)) == NULL);

    rcy_object_t *objs[] = {i, f, s, l, d, t, o1, o2, cls, OB(n1), OB(n2)};
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rcy_decref(objs[k]);
    test_runtime_end(rt);
}

/* Nesting deeper than 1,000 fails with RCY_EDEPTH (CPython:
   RecursionError) instead of overflowing the C stack; the repr prints
   "..." past its own limit. Small thread stacks: test_recursion.c. */
TEST(test_nesting_limits)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *one = rcy_int_new(rt, 1);
    rcy_object_t *t = rcy_newref(one);
    rcy_object_t *u = rcy_newref(one);
    for (int k = 0; k < 1500; k++) {
        rcy_object_t *nt = rcy_tuple_new(rt, 1, &t);
        rcy_object_t *nu = rcy_tuple_new(rt, 1, &u);
        rcy_decref(t);
        rcy_decref(u);
        t = nt;
        u = nu;
    }
    int64_t h;
    CHECK_EQ(rcy_hash(t, &h), RCY_EDEPTH);
    CHECK_EQ(rcy_equal(t, u), RCY_EDEPTH);
    char text[512];
    const char *buf = text;
    rcy_describe(t, text, sizeof text);
    CHECK_STR_CONTAINS(buf, "((((((((");
    CHECK_STR_CONTAINS(buf, "(...)");
    /* A dict refuses such a key. */
    rcy_object_t *d = rcy_dict_new(rt);
    CHECK_EQ(rcy_dict_set(d, t, one), RCY_EDEPTH);
    CHECK_EQ(rcy_dict_len(d), 0);
    rcy_decref(d);
    rcy_decref(t);
    rcy_decref(u);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_repr_mixes_types)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *cls = rcy_class_new(rt, "ClassA", NULL);
    rcy_object_t *inst = rcy_instance_new(cls);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *k = rcy_str_new(rt, "a"), *one = rcy_int_new(rt, 1);
    rcy_dict_set(d, k, one);
    rcy_list_append(l, inst);
    rcy_list_append(l, cls);
    rcy_list_append(l, d);
    rcy_object_t *f = rcy_float_new(rt, 0.25);
    rcy_list_append(l, f);
    char buf[256], want[256];
    rcy_describe(l, buf, sizeof buf);
    snprintf(want, sizeof want, "[<ClassA %p>, <class 'ClassA'>, {'a': 1}, 0.25]", (void *)inst);
    CHECK(strcmp(buf, want) == 0);
    /* Tiny buffers are safe. */
    char tiny[4];
    rcy_describe(l, tiny, sizeof tiny);
    CHECK(strcmp(tiny, "...") == 0);
    char one_byte[1];
    CHECK_EQ(rcy_describe(l, one_byte, 1), 0);
    CHECK_EQ(one_byte[0], 0);
    rcy_object_t *objs[] = {l, cls, inst, d, k, f};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* The deaths of tuples, lists and dicts release their references in
   CPython's order (a tuple's and a list's items last first, a dict's
   entries in order, key then value), whichever reference is the first
   whose object dies with it (the quick death hands over to its nested
   path there), each death a release causes running to its end before the
   next release: the order the finalizers see. */
static char order_log[64];
static size_t order_len;

static int log_finalize(rcy_object_t *self, void *arg)
{
    (void)arg;
    int64_t id = -1;
    CHECK_EQ(rcy_int_value(rcy_getattr(self, "id"), &id), 0);
    if (order_len + 1 < sizeof order_log)
        order_log[order_len++] = (char)('a' + id);
    order_log[order_len] = '\0';
    return 0;
}

TEST(test_release_order_of_quick_deaths)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_class_spec_t spec = {0};
    spec.finalize = log_finalize;
    rcy_object_t *cls = rcy_class_new(rt, "Logged", &spec);
    rcy_object_t *o[4];
    for (int64_t i = 0; i < 4; i++) {
        o[i] = rcy_instance_new(cls);
        rcy_object_t *id = rcy_int_new(rt, i);
        CHECK_EQ(rcy_setattr(o[i], "id", id), 0);
        rcy_decref(id);
    }
    /* Which of the four the container holds the last reference to: all,
       the last two, the first two, the first, the dict's values. */
    static const char *const held[] = {"abcd", "cd", "ab", "a", "bd"};
    static const char *const tuple_order[] = {"dcba", "dc", "ba", "a", "db"};
    static const char *const dict_order[] = {"abcd", "cd", "ab", "a", "bd"};
    for (int kind = 0; kind < 3; kind++) {
        for (int round = 0; round < 5; round++) { /* the first from a new block, the others from the free list */
            rcy_object_t *c;
            if (kind == 0)
                c = rcy_tuple_new(rt, 4, o);
            else if (kind == 1)
                c = rcy_list_new_from(rt, 4, o);
            else {
                c = rcy_dict_new(rt);
                CHECK_EQ(rcy_dict_set(c, o[0], o[1]), 0); /* keys a, c; values b, d */
                CHECK_EQ(rcy_dict_set(c, o[2], o[3]), 0);
            }
            CHECK(c != NULL);
            rcy_object_t *keep[4];
            for (int i = 0; i < 4; i++) {
                /* The container's reference is the last one for the held
                   ones: ours go, the others' are replaced by new ones. */
                keep[i] = strchr(held[round], 'a' + i) != NULL ? NULL : rcy_newref(o[i]);
                rcy_decref(o[i]);
            }
            order_len = 0;
            order_log[0] = '\0';
            rcy_decref(c);
            const char *want = kind == 2 ? dict_order[round] : tuple_order[round];
            CHECK(strcmp(order_log, want) == 0);
            if (strcmp(order_log, want) != 0)
                fprintf(stderr, "  kind %d round %d: finalizers ran in order %s, not %s\n", kind, round, order_log,
                        want);
            /* A new four for the next round (the finalized ones are gone). */
            for (int64_t i = 0; i < 4; i++) {
                if (keep[i] != NULL) {
                    o[i] = keep[i];
                    continue;
                }
                o[i] = rcy_instance_new(cls);
                rcy_object_t *id = rcy_int_new(rt, i);
                CHECK_EQ(rcy_setattr(o[i], "id", id), 0);
                rcy_decref(id);
            }
        }
    }
    for (int i = 0; i < 4; i++)
        rcy_decref(o[i]);
    rcy_decref(cls);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_runtime_creates_builtins);
    RUN(test_runtime_new_out_of_memory);
    RUN(test_cross_type_equality);
    RUN(test_nesting_limits);
    RUN(test_repr_mixes_types);
    RUN(test_release_order_of_quick_deaths);
    return harness_summary();
}
