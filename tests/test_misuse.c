/*
 * Misuse of the public API: every function given NULL, an object of the
 * wrong type, or an out-of-range argument returns its documented error
 * (RCY_EINVAL, RCY_ETYPE, RCY_EINDEX, RCY_EKEY, RCY_EHASH, RCY_ESTATE), a
 * NULL result with rcy_last_error set, or 0/NULL for queries, and changes
 * nothing. One table per area; each row is one misuse. Misuse that
 * corrupts the heap (a freed object, a count taken below zero) aborts with
 * a message instead: tests/test_fatal.c has those cases.
 *
 * The inline helpers (rcy_incref, rcy_decref, rcy_type, rcy_getrefcount,
 * rcy_newref, RCY_SETREF, ...) take "o must not be NULL" objects, as
 * CPython's macros do; their x-variants accept NULL and are checked here.
 */
#include "harness.h"

#include <stddef.h>

/* Checks an int result and, when rt is given, that it was recorded as the
   runtime's last error (calls that return a code record it). */
#define EXPECT(expr, code)                                                                         \
    do {                                                                                           \
        long long expect_r_ = (long long)(expr);                                                   \
        harness_checks++;                                                                          \
        if (expect_r_ != (long long)(code)) {                                                      \
            harness_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s: %s returned %lld, expected %s (%lld)\n", __FILE__, __LINE__, \
                    harness_current, #expr, expect_r_, #code, (long long)(code));                  \
        }                                                                                          \
    } while (0)

/* A NULL result, with rcy_last_error(rt) == code when rt is not NULL. */
#define EXPECT_NULL(expr, rt, code)                                                                \
    do {                                                                                           \
        rcy_runtime_t *expect_rt_ = (rt);                                                          \
        if (expect_rt_ != NULL)                                                                    \
            rcy_gc_get_threshold(expect_rt_, (int[3]){0}); /* a success leaves last_error */       \
        const void *expect_p_ = (const void *)(expr);                                              \
        harness_checks++;                                                                          \
        if (expect_p_ != NULL) {                                                                   \
            harness_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s: %s did not return NULL\n", __FILE__, __LINE__, harness_current, #expr); \
        } else if (expect_rt_ != NULL && rcy_last_error(expect_rt_) != (code)) {                   \
            harness_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s: %s: last error %d, expected %s\n", __FILE__, __LINE__,      \
                    harness_current, #expr, rcy_last_error(expect_rt_), #code);                    \
        }                                                                                          \
    } while (0)

/* ---- A fixture: a runtime with one object of every kind ---------------- */

typedef struct node_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *weaklist;
} node_t;

static int node_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((node_t *)self)->a);
    return 0;
}

static int node_clear(rcy_object_t *self)
{
    RCY_CLEAR(((node_t *)self)->a);
    return 0;
}

typedef struct fx_s {
    rcy_runtime_t *rt;
    rcy_type_t *node_type; /* container with weak references */
    rcy_type_t *leaf_type; /* non-container without weak references */
    rcy_type_t *var_type;  /* variable-size container */
    rcy_object_t *node, *leaf, *i, *f, *s, *t, *l, *d, *cls, *inst, *wr, *wv;
} fx_t;

static int var_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static void fx_setup(fx_t *x)
{
    memset(x, 0, sizeof *x);
    x->rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Node";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.weaklistoffset = offsetof(node_t, weaklist);
    x->node_type = rcy_type_new(x->rt, &spec);
    rcy_type_spec_t leaf = {0};
    leaf.name = "Leaf";
    leaf.basicsize = sizeof(rcy_object_t) + 8;
    x->leaf_type = rcy_type_new(x->rt, &leaf);
    rcy_type_spec_t var = {0};
    var.name = "Var";
    var.basicsize = sizeof(rcy_varobject_t);
    var.itemsize = sizeof(rcy_object_t *);
    var.flags = RCY_TPFLAGS_GC;
    var.traverse = var_traverse;
    var.clear = node_clear;
    x->var_type = rcy_type_new(x->rt, &var);
    x->node = rcy_new(x->node_type);
    x->leaf = rcy_new(x->leaf_type);
    x->i = rcy_int_new(x->rt, 1000);
    x->f = rcy_float_new(x->rt, 1.5);
    x->s = rcy_str_new(x->rt, "s");
    rcy_object_t *items[2] = {x->i, x->s};
    x->t = rcy_tuple_new(x->rt, 2, items);
    x->l = rcy_list_new(x->rt);
    rcy_list_append(x->l, x->i);
    x->d = rcy_dict_new(x->rt);
    rcy_dict_set(x->d, x->s, x->i);
    x->cls = rcy_class_new(x->rt, "Cls", NULL);
    x->inst = rcy_instance_new(x->cls);
    x->wr = rcy_weakref_new(x->node, NULL, NULL);
    x->wv = rcy_weakvaluedict_new(x->rt);
    CHECK(x->node && x->leaf && x->i && x->f && x->s && x->t && x->l && x->d && x->cls && x->inst && x->wr &&
          x->wv);
}

static void fx_teardown(fx_t *x)
{
    rcy_object_t *all[] = {x->node, x->leaf, x->i, x->f, x->s, x->t, x->l, x->d, x->cls, x->inst, x->wr, x->wv};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        rcy_xdecref(all[k]);
    test_runtime_end(x->rt);
}

/* The fixture is unchanged: counts and contents. */
static void fx_check_intact(fx_t *x, size_t live)
{
    CHECK_EQ(rcy_runtime_live_objects(x->rt), live);
    CHECK_EQ(rcy_getrefcount(x->node), 1);
    CHECK_EQ(rcy_list_len(x->l), 1);
    CHECK_EQ(rcy_dict_len(x->d), 1);
    CHECK_EQ(rcy_tuple_len(x->t), 2);
    CHECK(rcy_weakref_is_alive(x->wr));
    CHECK_EQ(rcy_weakmap_len(x->wv), 0);
    CHECK_EQ(rcy_gc_garbage_len(x->rt), 0);
}

static int cb_noop(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    (void)phase;
    (void)info;
    (void)arg;
    return 0;
}

static int fin_noop(void *arg)
{
    (void)arg;
    return 0;
}

/* ---- Runtime, types, objects ----------------------------------------- */

TEST(test_runtime_misuse)
{
    rcy_config_init(NULL); /* ignored */
    rcy_runtime_destroy(NULL);
    EXPECT(rcy_runtime_live_objects(NULL), 0);
    EXPECT(rcy_runtime_live_bytes(NULL), 0);
    EXPECT(rcy_last_error(NULL), RCY_EINVAL);
    rcy_runtime_print(NULL, "ignored\n");
    CHECK(strcmp(rcy_strerror(12345), "unknown error") == 0);
    CHECK(strcmp(rcy_strerror(RCY_ECALLBACK), "a callback reported an error") == 0);

    fx_t x;
    fx_setup(&x);
    rcy_runtime_print(x.rt, NULL); /* ignored */
    size_t live = rcy_runtime_live_objects(x.rt);
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

TEST(test_type_misuse)
{
    fx_t x;
    fx_setup(&x);
    rcy_type_spec_t spec = {0};
    spec.name = "T";
    spec.basicsize = sizeof(rcy_object_t);
    EXPECT_NULL(rcy_type_new(NULL, &spec), NULL, 0);
    EXPECT_NULL(rcy_type_new(x.rt, NULL), x.rt, RCY_EINVAL);
    spec.flags = 1u << 5; /* an unknown flag */
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    spec.flags = 0;
    spec.weaklistoffset = 3; /* misaligned, and inside the header */
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    spec.weaklistoffset = sizeof(rcy_object_t); /* past basicsize */
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    /* Offsets whose bound check would wrap, or that overlap a header. */
    spec.basicsize = sizeof(rcy_object_t) + 8;
    const size_t bad_offsets[] = {SIZE_MAX - 7, SIZE_MAX, SIZE_MAX - 15, SIZE_MAX / 2 + 1,
                                  sizeof(rcy_object_t) + 8, sizeof(rcy_object_t) + 4};
    for (size_t i = 0; i < sizeof bad_offsets / sizeof bad_offsets[0]; i++) {
        spec.weaklistoffset = bad_offsets[i];
        EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    }
    spec.weaklistoffset = sizeof(rcy_object_t); /* the last field: fits */
    CHECK(rcy_type_new(x.rt, &spec) != NULL);
    spec.itemsize = 8; /* a variable-size type: the weak list would overlap `size` */
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    spec.basicsize = sizeof(rcy_varobject_t) + 8;
    spec.weaklistoffset = sizeof(rcy_varobject_t);
    CHECK(rcy_type_new(x.rt, &spec) != NULL);
    spec.itemsize = 0;
    spec.basicsize = SIZE_MAX / 2 + 1; /* no block could hold it */
    spec.weaklistoffset = SIZE_MAX / 2 - 7;
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    spec.basicsize = sizeof(rcy_object_t);
    spec.weaklistoffset = 0;

    /* A traverse slot on a type without RCY_TPFLAGS_GC would never be
       called: a forgotten flag, refused. */
    spec.traverse = node_traverse;
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    spec.clear = node_clear; /* clear alone is the deallocation: fine */
    EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
    spec.traverse = NULL;
    CHECK(rcy_type_new(x.rt, &spec) != NULL);
    spec.clear = NULL;

    /* Names reach one-line messages and DOT labels: well-formed UTF-8
       without control characters (types and classes alike). */
    const char *bad_names[] = {"",           "bad\xff utf8",   "two\nlines", "cr\r",     "tab\there",
                               "esc\x1b[31m", "del\x7f",       "c1\xc2\x85", "c1\xc2\x9f", "\xc0\xaf",
                               "\xed\xa0\x80", "cut\xe2\x82", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        spec.name = bad_names[i];
        EXPECT_NULL(rcy_type_new(x.rt, &spec), x.rt, RCY_EINVAL);
        EXPECT_NULL(rcy_class_new(x.rt, bad_names[i], NULL), x.rt, RCY_EINVAL);
    }
    const char *good_names[] = {"T", "my type", "Caf\xc3\xa9", "\xe5\x90\x8d\xe5\x89\x8d", "nbsp\xc2\xa0",
                                "quote\"s<&>", "\xf0\x9f\x90\x8d"};
    for (size_t i = 0; i < sizeof good_names / sizeof good_names[0]; i++) {
        spec.name = good_names[i];
        rcy_type_t *t = rcy_type_new(x.rt, &spec);
        CHECK(t != NULL && strcmp(rcy_type_name(t), good_names[i]) == 0);
        rcy_object_t *cls = rcy_class_new(x.rt, good_names[i], NULL);
        CHECK(cls != NULL);
        rcy_xdecref(cls);
    }
    spec.name = "T";

    CHECK(rcy_type_name(NULL) == NULL);
    CHECK(rcy_type_runtime(NULL) == NULL);
    EXPECT(rcy_type_is_gc(NULL), 0);
    EXPECT(rcy_type_live_objects(NULL), 0);
    EXPECT(rcy_type_live_bytes(NULL), 0);
    fx_teardown(&x);
}

TEST(test_object_misuse)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    EXPECT_NULL(rcy_new(NULL), NULL, 0);
    EXPECT_NULL(rcy_new(x.var_type), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_new_var(NULL, 1), NULL, 0);
    EXPECT_NULL(rcy_new_var(x.node_type, 1), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_new_var(x.var_type, -1), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_new_var(x.var_type, INTPTR_MIN), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_new_var(x.var_type, INTPTR_MAX), x.rt, RCY_ENOMEM);
    CHECK(rcy_object_runtime(NULL) == NULL);
    CHECK(rcy_object_runtime(x.node) == x.rt);

    char buf[32];
    EXPECT(rcy_describe(x.node, NULL, 10), 0);
    EXPECT(rcy_describe(x.node, buf, 0), 0);
    rcy_describe(NULL, buf, sizeof buf);
    CHECK(strcmp(buf, "NULL") == 0);

    /* NULL-accepting helpers. */
    rcy_xincref(NULL);
    rcy_xdecref(NULL);
    CHECK(rcy_xnewref(NULL) == NULL);
    rcy_object_t *field = NULL;
    RCY_XSETREF(field, NULL);
    RCY_CLEAR(field);

    EXPECT(rcy_immortalize(NULL), RCY_EINVAL);
    EXPECT(rcy_object_init_static(NULL, x.leaf_type), RCY_EINVAL);
    static struct {
        rcy_object_t ob;
        char pad[16];
    } storage;
    EXPECT(rcy_object_init_static(&storage.ob, NULL), RCY_EINVAL);
    EXPECT(rcy_object_init_static(&storage.ob, x.node_type), RCY_EINVAL); /* a container */
    EXPECT(rcy_object_init_static(&storage.ob, x.var_type), RCY_EINVAL);  /* variable size */
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

TEST(test_immortal_misuse)
{
    fx_t x;
    fx_setup(&x);
    rcy_object_t *o = rcy_new(x.leaf_type);
    EXPECT(rcy_immortalize(o), 0);
    EXPECT(rcy_immortalize(o), RCY_EINVAL); /* already immortal */
    EXPECT(rcy_last_error(x.rt), RCY_EINVAL);
    rcy_object_t *c = rcy_new(x.node_type);
    EXPECT(rcy_immortalize(c), 0);
    EXPECT(rcy_gc_track(c), RCY_ESTATE); /* immortal containers stay untracked */
    EXPECT(rcy_gc_is_tracked(c), 0);
    /* Immortals live until teardown, which releases them. */
    rcy_object_t *all[] = {x.node, x.leaf, x.i, x.f, x.s, x.t, x.l, x.d, x.cls, x.inst, x.wr, x.wv};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        rcy_decref(all[k]);
    rcy_gc_collect(x.rt, 2);
    CHECK_EQ(rcy_runtime_live_objects(x.rt), 2);
    rcy_runtime_destroy(x.rt);
}

TEST(test_tracking_misuse)
{
    fx_t x;
    fx_setup(&x);
    EXPECT(rcy_gc_track(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_track(x.leaf), RCY_ETYPE);
    EXPECT(rcy_last_error(x.rt), RCY_ETYPE);
    EXPECT(rcy_gc_track(x.node), RCY_ESTATE); /* already tracked */
    EXPECT(rcy_last_error(x.rt), RCY_ESTATE);
    EXPECT(rcy_gc_untrack(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_untrack(x.leaf), 0); /* a no-op */
    EXPECT(rcy_gc_is_tracked(NULL), 0);
    EXPECT(rcy_gc_is_tracked(x.leaf), 0);
    EXPECT(rcy_gc_is_finalized(NULL), 0);
    EXPECT(rcy_gc_is_finalized(x.leaf), 0);
    fx_teardown(&x);
}

/* ---- The collector's surface ------------------------------------------ */

TEST(test_gc_misuse)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    int three[3] = {1, 2, 3};
    rcy_gc_stats_t stats[3];
    rcy_gc_stats_init(stats);
    EXPECT(rcy_gc_enable(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_disable(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_isenabled(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_collect(NULL, 0), RCY_EINVAL);
    EXPECT(rcy_gc_collect(x.rt, -1), RCY_EINVAL);
    EXPECT(rcy_last_error(x.rt), RCY_EINVAL);
    EXPECT(rcy_gc_collect(x.rt, 3), RCY_EINVAL);
    EXPECT(rcy_gc_get_count(NULL, three), RCY_EINVAL);
    EXPECT(rcy_gc_get_count(x.rt, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_get_threshold(NULL, three), RCY_EINVAL);
    EXPECT(rcy_gc_get_threshold(x.rt, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_set_threshold(NULL, 1, 1, 1), RCY_EINVAL);
    EXPECT(rcy_gc_set_threshold(x.rt, -1, 10, 10), RCY_EINVAL);
    EXPECT(rcy_gc_set_threshold(x.rt, 700, -1, 10), RCY_EINVAL);
    EXPECT(rcy_gc_set_threshold(x.rt, 700, 10, -1), RCY_EINVAL);
    EXPECT(rcy_gc_get_threshold(x.rt, three), 0);
    CHECK(three[0] == 700 && three[1] == 10 && three[2] == 10); /* unchanged */
    EXPECT(rcy_gc_get_debug(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_set_debug(NULL, 0), RCY_EINVAL);
    EXPECT(rcy_gc_set_debug(x.rt, 8), RCY_EINVAL);
    EXPECT(rcy_gc_set_debug(x.rt, 16), RCY_EINVAL);
    EXPECT(rcy_gc_set_debug(x.rt, -1), RCY_EINVAL);
    EXPECT(rcy_gc_set_debug(x.rt, 64), RCY_EINVAL);
    EXPECT(rcy_gc_get_debug(x.rt), 0);
    EXPECT(rcy_gc_freeze(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_unfreeze(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_get_freeze_count(NULL), 0);
    EXPECT(rcy_gc_get_stats(NULL, stats), RCY_EINVAL);
    EXPECT(rcy_gc_get_stats(x.rt, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_garbage_len(NULL), 0);
    CHECK(rcy_gc_garbage_get(NULL, 0) == NULL);
    CHECK(rcy_gc_garbage_get(x.rt, 0) == NULL); /* out of range */
    CHECK(rcy_gc_garbage_get(x.rt, SIZE_MAX) == NULL);
    EXPECT(rcy_gc_garbage_clear(NULL), RCY_EINVAL);
    EXPECT(rcy_gc_callback_add(NULL, cb_noop, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_callback_add(x.rt, NULL, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_callback_remove(NULL, cb_noop, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_callback_remove(x.rt, NULL, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_callback_remove(x.rt, cb_noop, NULL), RCY_EKEY);
    EXPECT(rcy_last_error(x.rt), RCY_EKEY);
    EXPECT(rcy_gc_callback_add(x.rt, cb_noop, &x), 0);
    EXPECT(rcy_gc_callback_remove(x.rt, cb_noop, NULL), RCY_EKEY); /* another arg */
    EXPECT(rcy_gc_callback_remove(x.rt, cb_noop, &x), 0);
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

TEST(test_introspection_misuse)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    rcy_objarray_t out = {0};
    rcy_object_t *objs[2] = {x.node, NULL};
    rcy_objarray_release(NULL);
    EXPECT(rcy_gc_get_objects(NULL, 0, &out), RCY_EINVAL);
    EXPECT(rcy_gc_get_objects(x.rt, 0, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_get_objects(x.rt, -2, &out), RCY_EINVAL);
    EXPECT(out.len, 0);
    EXPECT(rcy_gc_get_objects(x.rt, 3, &out), RCY_EINVAL);
    EXPECT(rcy_gc_get_referents(NULL, objs, 1, &out), RCY_EINVAL);
    EXPECT(rcy_gc_get_referents(x.rt, NULL, 1, &out), RCY_EINVAL);
    EXPECT(rcy_gc_get_referents(x.rt, objs, 1, NULL), RCY_EINVAL);
    EXPECT(rcy_gc_get_referents(x.rt, objs, 2, &out), RCY_EINVAL); /* a NULL item */
    EXPECT(out.len, 0);
    EXPECT(rcy_gc_get_referents(x.rt, NULL, 0, &out), 0); /* nothing asked */
    rcy_objarray_release(&out);
    EXPECT(rcy_gc_get_referrers(NULL, objs, 1, &out), RCY_EINVAL);
    EXPECT(rcy_gc_get_referrers(x.rt, NULL, 1, &out), RCY_EINVAL);
    EXPECT(rcy_gc_get_referrers(x.rt, objs, 1, NULL), RCY_EINVAL);
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

/* Every call that fills a caller's array wants it empty (zeroed, or
   emptied by rcy_objarray_release). One that still holds references is
   refused with RCY_EINVAL and left as it was: overwriting it leaked them. */
static int any_object(rcy_object_t *obj, intptr_t external, void *arg)
{
    (void)obj;
    (void)external;
    (void)arg;
    return 1;
}

TEST(test_out_array_must_be_empty)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    rcy_object_t *objs[1] = {x.l};
    rcy_objarray_t held = {0};
    EXPECT(rcy_gc_get_objects(x.rt, -1, &held), 0);
    CHECK(held.len > 0);
    size_t len = held.len;
    rcy_object_t **items = held.items;
    rcy_object_t *first = held.items[0];
    intptr_t count = rcy_getrefcount(first);
    for (int call = 0; call < 7; call++) {
        int r = 0;
        switch (call) {
        case 0: r = rcy_gc_get_objects(x.rt, -1, &held); break;
        case 1: r = rcy_gc_get_referents(x.rt, objs, 1, &held); break;
        case 2: r = rcy_gc_get_referrers(x.rt, objs, 1, &held); break;
        case 3: r = rcy_census_by_type(x.rt, "Node", &held); break;
        case 4: r = rcy_get_leaking_objects(x.rt, &held); break;
        case 5: r = rcy_find_backref_chain(x.node, NULL, NULL, 0, &held); break;
        default: r = rcy_find_ref_chain(x.l, any_object, NULL, 0, &held); break;
        }
        EXPECT(r, RCY_EINVAL);
        EXPECT(rcy_last_error(x.rt), RCY_EINVAL);
        CHECK(held.len == len && held.items == items && held.items[0] == first);
        EXPECT(rcy_getrefcount(first), count); /* nothing taken or released */
    }
    rcy_objarray_release(&held);
    EXPECT(held.len, 0);
    /* Released, it is empty: it can be filled again. */
    EXPECT(rcy_gc_get_referents(x.rt, objs, 1, &held), 0);
    EXPECT(held.len, 1); /* the list's one item */
    rcy_objarray_release(&held);
    EXPECT(rcy_census_by_type(x.rt, "Node", &held), 0);
    EXPECT(held.len, 1);
    rcy_objarray_release(&held);
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

/* ---- Weak references and registrations ---------------------------------- */

TEST(test_weakref_misuse)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    EXPECT_NULL(rcy_weakref_new(NULL, NULL, NULL), NULL, 0);
    EXPECT_NULL(rcy_weakref_new(x.leaf, NULL, NULL), x.rt, RCY_ETYPE);
    EXPECT_NULL(rcy_weakref_new(x.l, NULL, NULL), x.rt, RCY_ETYPE); /* lists have none, as in Python */
    CHECK(rcy_weakref_get(NULL) == NULL);
    CHECK(rcy_weakref_get(x.node) == NULL); /* not a weak reference */
    EXPECT(rcy_weakref_is_alive(NULL), 0);
    EXPECT(rcy_weakref_is_alive(x.node), 0);
    EXPECT(rcy_is_weakref(NULL), 0);
    EXPECT(rcy_is_weakref(x.node), 0);
    EXPECT(rcy_weakref_count(NULL), 0);
    EXPECT(rcy_weakref_count(x.leaf), 0);

    EXPECT_NULL(rcy_finalize_register(NULL, fin_noop, NULL), NULL, 0);
    EXPECT_NULL(rcy_finalize_register(x.node, NULL, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_finalize_register(x.leaf, fin_noop, NULL), x.rt, RCY_ETYPE);
    EXPECT(rcy_finalize_call(NULL), RCY_EINVAL);
    EXPECT(rcy_finalize_call(x.wr), RCY_EINVAL); /* a plain weak reference */
    EXPECT(rcy_finalize_call(x.node), RCY_EINVAL);
    EXPECT(rcy_finalize_detach(NULL), RCY_EINVAL);
    EXPECT(rcy_finalize_detach(x.wr), RCY_EINVAL);
    EXPECT(rcy_finalize_alive(NULL), 0);
    EXPECT(rcy_finalize_alive(x.wr), 0);
    EXPECT(rcy_finalize_set_atexit(NULL, 1), RCY_EINVAL);
    EXPECT(rcy_finalize_set_atexit(x.wr, 1), RCY_EINVAL);
    fx_check_intact(&x, live);

    /* A registration called or detached twice. */
    rcy_object_t *f = rcy_finalize_register(x.node, fin_noop, NULL);
    EXPECT(rcy_finalize_detach(f), 1);
    EXPECT(rcy_finalize_detach(f), 0);
    EXPECT(rcy_finalize_call(f), 0);
    rcy_decref(f);
    fx_teardown(&x);
}

TEST(test_weakmap_misuse)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    EXPECT_NULL(rcy_weakvaluedict_new(NULL), NULL, 0);
    EXPECT_NULL(rcy_weakkeydict_new(NULL), NULL, 0);
    EXPECT(rcy_is_weakmap(NULL), 0);
    EXPECT(rcy_is_weakmap(x.d), 0);
    EXPECT(rcy_weakmap_set(NULL, x.s, x.node), RCY_EINVAL);
    EXPECT(rcy_weakmap_set(x.wv, NULL, x.node), RCY_EINVAL);
    EXPECT(rcy_weakmap_set(x.wv, x.s, NULL), RCY_EINVAL);
    EXPECT(rcy_weakmap_set(x.d, x.s, x.node), RCY_EINVAL); /* a dict is not a weak map */
    EXPECT(rcy_weakmap_set(x.wv, x.s, x.leaf), RCY_ETYPE);  /* value without weak references */
    EXPECT(rcy_weakmap_set(x.wv, x.l, x.node), RCY_EHASH);  /* unhashable key */
    EXPECT_NULL(rcy_weakmap_get(NULL, x.s), NULL, 0);
    EXPECT_NULL(rcy_weakmap_get(x.wv, x.s), x.rt, RCY_EKEY);
    EXPECT(rcy_weakmap_del(NULL, x.s), RCY_EINVAL);
    EXPECT(rcy_weakmap_del(x.wv, NULL), RCY_EINVAL);
    EXPECT(rcy_weakmap_del(x.wv, x.s), RCY_EKEY);
    EXPECT(rcy_weakmap_len(NULL), RCY_EINVAL);
    EXPECT(rcy_weakmap_len(x.d), RCY_EINVAL);
    EXPECT(rcy_weakmap_next(NULL, &pos, &k, &v), RCY_EINVAL);
    EXPECT(rcy_weakmap_next(x.wv, NULL, &k, &v), RCY_EINVAL);
    /* A negative position is an error, not the end (with an entry to find). */
    rcy_object_t *wk = rcy_weakkeydict_new(x.rt);
    EXPECT(rcy_weakmap_set(x.wv, x.s, x.node), 0);
    EXPECT(rcy_weakmap_set(wk, x.node, x.s), 0);
    for (int kind = 0; kind < 2; kind++) {
        rcy_object_t *map = kind == 0 ? x.wv : wk;
        pos = -5;
        EXPECT(rcy_weakmap_next(map, &pos, &k, &v), RCY_EINVAL);
        EXPECT(rcy_last_error(x.rt), RCY_EINVAL);
        EXPECT(pos, -5);
        pos = INTPTR_MIN;
        EXPECT(rcy_weakmap_next(map, &pos, &k, &v), RCY_EINVAL);
        pos = 0;
        EXPECT(rcy_weakmap_next(map, &pos, &k, &v), 1);
        rcy_decref(k);
        rcy_decref(v);
        EXPECT(rcy_weakmap_next(map, &pos, &k, &v), 0);
        EXPECT(rcy_weakmap_next(map, &pos, &k, &v), 0); /* past the end stays there */
    }
    EXPECT(rcy_weakmap_del(x.wv, x.s), 0);
    rcy_decref(wk);
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

/* ---- Built-in types ----------------------------------------------------- */

TEST(test_builtin_type_checks)
{
    fx_t x;
    fx_setup(&x);
    CHECK(rcy_int_type(NULL) == NULL);
    CHECK(rcy_float_type(NULL) == NULL);
    CHECK(rcy_str_type(NULL) == NULL);
    CHECK(rcy_tuple_type(NULL) == NULL);
    CHECK(rcy_list_type(NULL) == NULL);
    CHECK(rcy_dict_type(NULL) == NULL);
    CHECK(rcy_class_type(NULL) == NULL);
    int (*const checks[])(const rcy_object_t *) = {rcy_is_int,  rcy_is_float, rcy_is_str,   rcy_is_tuple,
                                                   rcy_is_list, rcy_is_dict,  rcy_is_class, rcy_is_instance};
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        EXPECT(checks[k](NULL), 0);
        EXPECT(checks[k](x.node), 0); /* a user type is none of them */
    }
    EXPECT(rcy_freelists_enabled(NULL), 0);
    EXPECT(rcy_freelists_size(NULL), 0);
    int64_t h;
    EXPECT(rcy_equal(NULL, x.i), RCY_EINVAL);
    EXPECT(rcy_equal(x.i, NULL), RCY_EINVAL);
    EXPECT(rcy_hash(NULL, &h), RCY_EINVAL);
    EXPECT(rcy_hash(x.i, NULL), RCY_EINVAL);
    EXPECT(rcy_hash(x.l, &h), RCY_EHASH);
    EXPECT(rcy_hash(x.d, &h), RCY_EHASH);
    rcy_object_t *items[1] = {x.l};
    rcy_object_t *tl = rcy_tuple_new(x.rt, 1, items);
    EXPECT(rcy_hash(tl, &h), RCY_EHASH); /* a tuple holding a list */
    rcy_decref(tl);
    fx_teardown(&x);
}

TEST(test_number_and_str_misuse)
{
    fx_t x;
    fx_setup(&x);
    int64_t iv;
    double dv;
    EXPECT_NULL(rcy_int_new(NULL, 1), NULL, 0);
    EXPECT(rcy_int_value(NULL, &iv), RCY_EINVAL);
    EXPECT(rcy_int_value(x.i, NULL), RCY_EINVAL);
    EXPECT(rcy_int_value(x.f, &iv), RCY_ETYPE);
    EXPECT(rcy_last_error(x.rt), RCY_ETYPE);
    EXPECT_NULL(rcy_float_new(NULL, 1.0), NULL, 0);
    EXPECT(rcy_float_value(NULL, &dv), RCY_EINVAL);
    EXPECT(rcy_float_value(x.f, NULL), RCY_EINVAL);
    EXPECT(rcy_float_value(x.i, &dv), RCY_ETYPE);
    EXPECT_NULL(rcy_str_new(NULL, "x"), NULL, 0);
    EXPECT_NULL(rcy_str_new(x.rt, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_str_new(x.rt, "\xc3("), x.rt, RCY_EINVAL);         /* a broken sequence */
    EXPECT_NULL(rcy_str_new(x.rt, "\xed\xa0\x80"), x.rt, RCY_EINVAL);  /* a surrogate */
    EXPECT_NULL(rcy_str_new(x.rt, "\xc0\xaf"), x.rt, RCY_EINVAL);      /* overlong */
    EXPECT_NULL(rcy_str_new_len(x.rt, NULL, 1), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_str_new_len(x.rt, "\xff", 1), x.rt, RCY_EINVAL);
    CHECK(rcy_str_data(NULL) == NULL);
    CHECK(rcy_str_data(x.i) == NULL);
    EXPECT(rcy_str_len(NULL), RCY_EINVAL);
    EXPECT(rcy_str_len(x.i), RCY_ETYPE);
    fx_teardown(&x);
}

TEST(test_tuple_misuse)
{
    fx_t x;
    fx_setup(&x);
    rcy_object_t *items[2] = {x.i, NULL};
    intptr_t refs = rcy_getrefcount(x.i);
    EXPECT_NULL(rcy_tuple_new(NULL, 0, NULL), NULL, 0);
    EXPECT_NULL(rcy_tuple_new(x.rt, -1, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_tuple_new(x.rt, 2, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_tuple_new(x.rt, 2, items), x.rt, RCY_EINVAL); /* a NULL item */
    EXPECT(rcy_getrefcount(x.i), refs); /* no reference taken */
    /* Sizes no block can hold are refused before the items are read: the
       array has two items, and the scan for NULL must not run past them. */
    rcy_object_t *two[2] = {x.i, x.s};
    EXPECT_NULL(rcy_tuple_new(x.rt, INTPTR_MAX, two), x.rt, RCY_ENOMEM);
    EXPECT_NULL(rcy_tuple_new(x.rt, (intptr_t)(SIZE_MAX / sizeof(void *)), two), x.rt, RCY_ENOMEM);
    EXPECT_NULL(rcy_list_new_from(x.rt, INTPTR_MAX, two), x.rt, RCY_ENOMEM);
    EXPECT(rcy_getrefcount(x.i), refs);
    EXPECT(rcy_tuple_len(NULL), RCY_EINVAL);
    EXPECT(rcy_tuple_len(x.l), RCY_ETYPE);
    EXPECT_NULL(rcy_tuple_get(NULL, 0), NULL, 0);
    EXPECT_NULL(rcy_tuple_get(x.l, 0), x.rt, RCY_ETYPE);
    EXPECT_NULL(rcy_tuple_get(x.t, 2), x.rt, RCY_EINDEX);
    EXPECT_NULL(rcy_tuple_get(x.t, -3), x.rt, RCY_EINDEX);
    EXPECT_NULL(rcy_tuple_get(x.t, INTPTR_MIN), x.rt, RCY_EINDEX);
    CHECK(rcy_tuple_get(x.t, -1) == x.s);
    fx_teardown(&x);
}

TEST(test_list_misuse)
{
    fx_t x;
    fx_setup(&x);
    EXPECT_NULL(rcy_list_new(NULL), NULL, 0);
    EXPECT(rcy_list_append(NULL, x.i), RCY_EINVAL);
    EXPECT(rcy_list_append(x.l, NULL), RCY_EINVAL);
    EXPECT(rcy_list_append(x.d, x.i), RCY_ETYPE);
    EXPECT(rcy_last_error(x.rt), RCY_ETYPE);
    EXPECT(rcy_list_insert(NULL, 0, x.i), RCY_EINVAL);
    EXPECT(rcy_list_insert(x.l, 0, NULL), RCY_EINVAL);
    EXPECT(rcy_list_insert(x.t, 0, x.i), RCY_ETYPE);
    EXPECT_NULL(rcy_list_get(NULL, 0), NULL, 0);
    EXPECT_NULL(rcy_list_get(x.t, 0), x.rt, RCY_ETYPE);
    EXPECT_NULL(rcy_list_get(x.l, 1), x.rt, RCY_EINDEX);
    EXPECT_NULL(rcy_list_get(x.l, -2), x.rt, RCY_EINDEX);
    EXPECT_NULL(rcy_list_get(x.l, INTPTR_MAX), x.rt, RCY_EINDEX);
    EXPECT_NULL(rcy_list_get(x.l, INTPTR_MIN), x.rt, RCY_EINDEX);
    EXPECT(rcy_list_set(NULL, 0, x.i), RCY_EINVAL);
    EXPECT(rcy_list_set(x.l, 0, NULL), RCY_EINVAL);
    EXPECT(rcy_list_set(x.l, 1, x.s), RCY_EINDEX);
    EXPECT(rcy_list_set(x.l, INTPTR_MIN, x.s), RCY_EINDEX);
    EXPECT(rcy_list_set(x.d, 0, x.s), RCY_ETYPE);
    EXPECT_NULL(rcy_list_pop(NULL, -1), NULL, 0);
    EXPECT_NULL(rcy_list_pop(x.d, -1), x.rt, RCY_ETYPE);
    EXPECT_NULL(rcy_list_pop(x.l, 5), x.rt, RCY_EINDEX);
    rcy_object_t *empty = rcy_list_new(x.rt);
    EXPECT_NULL(rcy_list_pop(empty, -1), x.rt, RCY_EINDEX);
    EXPECT_NULL(rcy_list_pop(empty, 0), x.rt, RCY_EINDEX);
    rcy_decref(empty);
    EXPECT(rcy_list_len(NULL), RCY_EINVAL);
    EXPECT(rcy_list_len(x.d), RCY_ETYPE);
    CHECK(rcy_list_get(x.l, 0) == x.i); /* unchanged */
    EXPECT(rcy_list_len(x.l), 1);
    fx_teardown(&x);
}

TEST(test_dict_misuse)
{
    fx_t x;
    fx_setup(&x);
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    EXPECT_NULL(rcy_dict_new(NULL), NULL, 0);
    EXPECT(rcy_dict_set(NULL, x.s, x.i), RCY_EINVAL);
    EXPECT(rcy_dict_set(x.d, NULL, x.i), RCY_EINVAL);
    EXPECT(rcy_dict_set(x.d, x.s, NULL), RCY_EINVAL);
    EXPECT(rcy_dict_set(x.l, x.s, x.i), RCY_ETYPE);
    EXPECT(rcy_dict_set(x.d, x.l, x.i), RCY_EHASH);
    EXPECT(rcy_last_error(x.rt), RCY_EHASH);
    EXPECT(rcy_dict_set(x.d, x.d, x.i), RCY_EHASH);
    EXPECT_NULL(rcy_dict_get(NULL, x.s), NULL, 0);
    EXPECT_NULL(rcy_dict_get(x.d, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_dict_get(x.l, x.s), x.rt, RCY_ETYPE);
    EXPECT_NULL(rcy_dict_get(x.d, x.i), x.rt, RCY_EKEY);
    EXPECT_NULL(rcy_dict_get(x.d, x.l), x.rt, RCY_EHASH);
    EXPECT(rcy_dict_del(NULL, x.s), RCY_EINVAL);
    EXPECT(rcy_dict_del(x.d, NULL), RCY_EINVAL);
    EXPECT(rcy_dict_del(x.l, x.s), RCY_ETYPE);
    EXPECT(rcy_dict_del(x.d, x.i), RCY_EKEY);
    EXPECT(rcy_dict_del(x.d, x.l), RCY_EHASH);
    EXPECT(rcy_dict_len(NULL), RCY_EINVAL);
    EXPECT(rcy_dict_len(x.l), RCY_ETYPE);
    EXPECT(rcy_dict_next(NULL, &pos, &k, &v), RCY_EINVAL);
    EXPECT(rcy_dict_next(x.d, NULL, &k, &v), RCY_EINVAL);
    EXPECT(rcy_dict_next(x.l, &pos, &k, &v), RCY_ETYPE);
    pos = -5;
    EXPECT(rcy_dict_next(x.d, &pos, &k, &v), RCY_EINVAL); /* a position no iteration gives */
    CHECK(rcy_dict_get(x.d, x.s) == x.i); /* unchanged */
    fx_teardown(&x);
}

TEST(test_class_misuse)
{
    fx_t x;
    fx_setup(&x);
    rcy_class_spec_t both = {0};
    both.finalize = (rcy_class_del_fn)(uintptr_t)1;
    both.legacy_del = (rcy_class_del_fn)(uintptr_t)1;
    EXPECT_NULL(rcy_class_new(NULL, "C", NULL), NULL, 0);
    EXPECT_NULL(rcy_class_new(x.rt, NULL, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_class_new(x.rt, "", NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_class_new(x.rt, "\xff", NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_class_new(x.rt, "Both", &both), x.rt, RCY_EINVAL);
    CHECK(rcy_class_instance_type(NULL) == NULL);
    CHECK(rcy_class_instance_type(x.inst) == NULL);
    EXPECT_NULL(rcy_instance_new(NULL), NULL, 0);
    EXPECT_NULL(rcy_instance_new(x.inst), x.rt, RCY_ETYPE);
    EXPECT_NULL(rcy_instance_new(x.node), x.rt, RCY_ETYPE);
    CHECK(rcy_instance_class(NULL) == NULL);
    CHECK(rcy_instance_class(x.cls) == NULL);
    EXPECT(rcy_setattr(NULL, "a", x.i), RCY_EINVAL);
    EXPECT(rcy_setattr(x.inst, NULL, x.i), RCY_EINVAL);
    EXPECT(rcy_setattr(x.inst, "a", NULL), RCY_EINVAL);
    EXPECT(rcy_setattr(x.inst, "\xff", x.i), RCY_EINVAL);
    EXPECT(rcy_setattr(x.node, "a", x.i), RCY_ETYPE);
    EXPECT(rcy_setattr(x.l, "a", x.i), RCY_ETYPE);
    EXPECT_NULL(rcy_getattr(NULL, "a"), NULL, 0);
    EXPECT_NULL(rcy_getattr(x.inst, NULL), x.rt, RCY_EINVAL);
    EXPECT_NULL(rcy_getattr(x.inst, "missing"), x.rt, RCY_EKEY);
    EXPECT_NULL(rcy_getattr(x.node, "a"), x.rt, RCY_ETYPE);
    EXPECT(rcy_delattr(NULL, "a"), RCY_EINVAL);
    EXPECT(rcy_delattr(x.inst, NULL), RCY_EINVAL);
    EXPECT(rcy_delattr(x.inst, "missing"), RCY_EKEY);
    EXPECT(rcy_delattr(x.node, "a"), RCY_ETYPE);
    fx_teardown(&x);
}

/* ---- Leak-debugging tools ------------------------------------------------- */

static int pred_never(rcy_object_t *obj, intptr_t external, void *arg)
{
    (void)obj;
    (void)external;
    (void)arg;
    return 0;
}

/* ---- Stores into a container being deallocated ------------------------ */

/* A container whose count reached 0 releases its references; code that
   runs then (here the callback of a weak reference to one of its items)
   may still hold a C pointer to it. A store into it would be lost with its
   memory (a list's appended item, a dict's new table) or, for an instance,
   release a value its deallocation already released: every store and
   attribute call refuses with RCY_ESTATE, and nothing leaks. */
enum dying_op { DY_APPEND, DY_INSERT, DY_SET, DY_EXTEND, DY_DICT_SET, DY_DICT_GET, DY_DICT_NEXT, DY_SETATTR, DY_SETATTR_STR,
                DY_GETATTR, DY_GETATTR_STR, DY_DELATTR, DY_INSTANCE_DICT, DY_OPS };

typedef struct dying_s {
    enum dying_op op;
    rcy_object_t *container; /* borrowed: dying when the callback runs */
    rcy_object_t *value;     /* owned by the test */
    rcy_object_t *name;      /* an interned str, owned by the test */
    rcy_runtime_t *rt;
    int result;
    int calls;
    long refcnt_seen;
} dying_t;

static int dying_cb(rcy_object_t *wr, void *arg)
{
    (void)wr;
    dying_t *d = arg;
    rcy_runtime_t *rt = d->rt;
    d->calls++;
    d->refcnt_seen = (long)rcy_getrefcount(d->container);
    switch (d->op) {
    case DY_APPEND: d->result = rcy_list_append(d->container, d->value); break;
    case DY_INSERT: d->result = rcy_list_insert(d->container, 0, d->value); break;
    case DY_SET: d->result = rcy_list_set(d->container, 0, d->value); break;
    case DY_EXTEND: {
        rcy_object_t *seq = rcy_list_new(rt);
        rcy_list_append(seq, d->value);
        d->result = rcy_list_extend(d->container, seq);
        rcy_decref(seq);
        break;
    }
    case DY_DICT_SET: d->result = rcy_dict_set(d->container, d->name, d->value); break;
    case DY_DICT_GET:
        d->result = rcy_dict_get(d->container, d->name) == NULL ? rcy_last_error(rt) : 0;
        break;
    case DY_DICT_NEXT: {
        intptr_t pos = 0;
        rcy_object_t *k, *v;
        d->result = rcy_dict_next(d->container, &pos, &k, &v);
        break;
    }
    case DY_SETATTR: d->result = rcy_setattr(d->container, "a", d->value); break;
    case DY_SETATTR_STR: d->result = rcy_setattr_str(d->container, d->name, d->value); break;
    case DY_GETATTR:
        d->result = rcy_getattr(d->container, "a") == NULL ? rcy_last_error(rt) : 0;
        break;
    case DY_GETATTR_STR:
        d->result = rcy_getattr_str(d->container, d->name) == NULL ? rcy_last_error(rt) : 0;
        break;
    case DY_DELATTR: d->result = rcy_delattr(d->container, "a"); break;
    case DY_INSTANCE_DICT: {
        rcy_object_t *dict = rcy_instance_dict(d->container);
        d->result = dict == NULL ? rcy_last_error(rt) : 0;
        rcy_xdecref(dict);
        break;
    }
    case DY_OPS: break;
    }
    return 0;
}

TEST(test_store_into_dying_container)
{
    for (int op = 0; op < DY_OPS; op++) {
        fx_t x;
        fx_setup(&x);
        size_t live = rcy_runtime_live_objects(x.rt);
        dying_t d = {(enum dying_op)op, NULL, rcy_str_new(x.rt, "value"), rcy_str_intern(x.rt, "a"), x.rt, 1, 0, -1};
        rcy_object_t *item = rcy_new(x.node_type);
        rcy_object_t *wr = rcy_weakref_new(item, dying_cb, &d);
        CHECK(d.value != NULL && d.name != NULL && item != NULL && wr != NULL);
        rcy_object_t *c;
        if (op <= DY_EXTEND) {
            c = rcy_list_new(x.rt);
            CHECK(rcy_list_append(c, item) == 0);
        } else if (op <= DY_DICT_NEXT) { /* the callback looks up or sets "a" */
            c = rcy_dict_new(x.rt);
            CHECK(rcy_dict_set(c, d.name, item) == 0);
        } else {
            c = rcy_instance_new(x.cls);
            CHECK(rcy_setattr(c, "a", item) == 0);
        }
        rcy_decref(item); /* the container holds it alone */
        d.container = c;
        rcy_decref(c); /* its release kills item, whose weak reference calls back */
        CHECK_EQ(d.calls, 1);
        CHECK_EQ(d.refcnt_seen, 0);
        EXPECT(d.result, RCY_ESTATE);
        CHECK_EQ(rcy_getrefcount(d.value), 1); /* not kept by the dead container */
        rcy_decref(wr);
        rcy_decref(d.value);
        rcy_decref(d.name);
        fx_check_intact(&x, live);
        fx_teardown(&x);
    }
}

TEST(test_tools_misuse)
{
    fx_t x;
    fx_setup(&x);
    size_t live = rcy_runtime_live_objects(x.rt);
    rcy_typestats_t ts;
    rcy_objarray_t out = {0};
    char buf[64];
    EXPECT(rcy_census_count(NULL, "Node"), 0);
    EXPECT(rcy_census_count(x.rt, NULL), 0);
    EXPECT(rcy_census_bytes(NULL, "Node"), 0);
    EXPECT(rcy_census_typestats(NULL, &ts), RCY_EINVAL);
    EXPECT(rcy_census_typestats(x.rt, NULL), RCY_EINVAL);
    EXPECT(rcy_census_most_common_types(NULL, 3, &ts), RCY_EINVAL);
    EXPECT(rcy_census_most_common_types(x.rt, 3, NULL), RCY_EINVAL);
    rcy_typestats_release(NULL);
    EXPECT(rcy_census_show_most_common_types(NULL, 3, NULL), RCY_EINVAL);
    EXPECT(rcy_census_by_type(NULL, "Node", &out), RCY_EINVAL);
    EXPECT(rcy_census_by_type(x.rt, NULL, &out), RCY_EINVAL);
    EXPECT(rcy_census_by_type(x.rt, "Node", NULL), RCY_EINVAL);
    EXPECT_NULL(rcy_growth_new(NULL), NULL, 0);
    rcy_growth_free(NULL);
    rcy_growth_report_release(NULL);
    rcy_growth_report_t rep;
    EXPECT(rcy_growth(NULL, NULL, &rep), RCY_EINVAL);
    rcy_growth_t *g = rcy_growth_new(x.rt);
    EXPECT(rcy_growth(g, NULL, NULL), RCY_EINVAL);
    EXPECT(rcy_show_growth(NULL, NULL, NULL), RCY_EINVAL);
    rcy_growth_free(g);
    EXPECT(rcy_root_add(NULL, "r"), RCY_EINVAL);
    EXPECT(rcy_root_add(x.node, NULL), RCY_EINVAL);
    EXPECT(rcy_root_add(x.node, "r"), 0);
    EXPECT(rcy_root_add(x.node, "again"), RCY_ESTATE);
    EXPECT(rcy_root_remove(NULL), RCY_EINVAL);
    EXPECT(rcy_root_remove(x.node), 0);
    EXPECT(rcy_root_remove(x.node), RCY_EKEY);
    CHECK(rcy_root_name(NULL) == NULL);
    CHECK(rcy_root_name(x.node) == NULL);
    EXPECT(rcy_external_refcount(NULL), RCY_EINVAL);
    EXPECT(rcy_get_leaking_objects(NULL, &out), RCY_EINVAL);
    EXPECT(rcy_get_leaking_objects(x.rt, NULL), RCY_EINVAL);
    EXPECT(rcy_find_backref_chain(NULL, NULL, NULL, 0, &out), RCY_EINVAL);
    EXPECT(rcy_find_backref_chain(x.node, NULL, NULL, 0, NULL), RCY_EINVAL);
    EXPECT(rcy_find_backref_chain(x.node, NULL, NULL, -1, &out), RCY_EINVAL);
    EXPECT(rcy_find_ref_chain(x.node, NULL, NULL, 0, &out), RCY_EINVAL);
    EXPECT(rcy_find_ref_chain(NULL, pred_never, NULL, 0, &out), RCY_EINVAL);
    EXPECT(rcy_chain_format(NULL, buf, sizeof buf), RCY_EINVAL);
    /* A chain whose length promises items it does not have. */
    rcy_objarray_t no_items = {NULL, 3, 3, x.rt};
    rcy_object_t *with_null[3] = {x.l, NULL, x.i};
    rcy_objarray_t null_item = {with_null, 3, 3, x.rt};
    EXPECT(rcy_chain_format(&no_items, buf, sizeof buf), RCY_EINVAL);
    EXPECT(rcy_chain_format(&null_item, buf, sizeof buf), RCY_EINVAL);
    EXPECT(rcy_show_chain(&no_items, 1, 1, NULL), RCY_EINVAL);
    EXPECT(rcy_show_chain(&null_item, 1, 0, NULL), RCY_EINVAL);
    rcy_graph_options_init(NULL);
    EXPECT(rcy_show_refs(NULL, 1, NULL), RCY_EINVAL);
    EXPECT(rcy_show_refs(&x.node, 0, NULL), RCY_EINVAL);
    EXPECT(rcy_show_backrefs(NULL, 1, NULL), RCY_EINVAL);
    EXPECT(rcy_show_chain(NULL, 1, 0, NULL), RCY_EINVAL);
    rcy_runtime_memory_t mem;
    rcy_runtime_memory_init(&mem);
    EXPECT(rcy_runtime_memory(NULL, &mem), RCY_EINVAL);
    EXPECT(rcy_runtime_memory(x.rt, NULL), RCY_EINVAL);
    EXPECT(rcy_memory_trim(NULL), RCY_EINVAL);
    EXPECT(rcy_process_memory(NULL), RCY_EINVAL);
    fx_check_intact(&x, live);
    fx_teardown(&x);
}

int main(void)
{
    RUN(test_runtime_misuse);
    RUN(test_type_misuse);
    RUN(test_object_misuse);
    RUN(test_immortal_misuse);
    RUN(test_tracking_misuse);
    RUN(test_gc_misuse);
    RUN(test_introspection_misuse);
    RUN(test_out_array_must_be_empty);
    RUN(test_weakref_misuse);
    RUN(test_weakmap_misuse);
    RUN(test_builtin_type_checks);
    RUN(test_number_and_str_misuse);
    RUN(test_tuple_misuse);
    RUN(test_list_misuse);
    RUN(test_dict_misuse);
    RUN(test_class_misuse);
    RUN(test_tools_misuse);
    RUN(test_store_into_dying_container);
    return harness_summary();
}
