/*
 * Objects of two runtimes: objects never move between runtimes. Every call
 * that stores a caller-supplied object into an object of a runtime refuses
 * an object of another runtime with RCY_ERUNTIME, before anything changes
 * (the container keeps its contents, no reference is taken or leaked, the
 * container's runtime records the error). Objects of the container's own
 * runtime are accepted whatever they are: immortal statics of
 * rcy_object_init_static, small ints, the empty tuple. Lookups may use a key
 * of another runtime (nothing is stored). A user type that stores an object
 * of another runtime in its own slot (which the library cannot refuse) is
 * caught by the collector: it aborts naming the object, before it would
 * write over the other runtime's generation list.
 *
 * The fatal cases run in a forked child, as in tests/test_fatal.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "fatal_child.h"
#include "node.h"


/* Sets rt's last error to something else than RCY_ERUNTIME, so that a
   check of rcy_last_error afterwards sees what the call under test set. */
static void prime(rcy_runtime_t *rt)
{
    CHECK_EQ(rcy_gc_set_threshold(rt, -1, 0, 0), RCY_EINVAL);
}

/* The call returned RCY_ERUNTIME and recorded it in rt. */
#define CHECK_ERUNTIME(rt, expr)                                                                   \
    do {                                                                                           \
        prime(rt);                                                                                 \
        CHECK_EQ((expr), RCY_ERUNTIME);                                                            \
        CHECK_EQ(rcy_last_error(rt), RCY_ERUNTIME);                                                \
    } while (0)

/* The constructor returned NULL and recorded RCY_ERUNTIME in rt. */
#define CHECK_NULL_ERUNTIME(rt, expr)                                                              \
    do {                                                                                           \
        prime(rt);                                                                                 \
        CHECK((expr) == NULL);                                                                     \
        CHECK_EQ(rcy_last_error(rt), RCY_ERUNTIME);                                                \
    } while (0)

/* A non-container type whose objects can be static singletons. */
static rcy_type_t *atom_type_new(rcy_runtime_t *rt, const char *name)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(rcy_object_t);
    return rcy_type_new(rt, &spec);
}

/* Objects of runtime B, one of each kind, to offer to runtime A. */
typedef struct foreign_s {
    rcy_object_t *list, *str, *big_int, *small_int, *empty_tuple, *inst, *cls;
    rcy_object_t stat; /* a static of one of B's types */
} foreign_t;

static void foreign_make(rcy_runtime_t *b, foreign_t *f)
{
    memset(f, 0, sizeof *f);
    f->list = rcy_list_new(b);
    f->str = rcy_str_new(b, "k");
    f->big_int = rcy_int_new(b, 1000000);
    f->small_int = rcy_int_new(b, 7);
    f->empty_tuple = rcy_tuple_new(b, 0, NULL);
    f->cls = rcy_class_new(b, "ClassB", NULL);
    f->inst = rcy_instance_new(f->cls);
    CHECK_EQ(rcy_object_init_static(&f->stat, atom_type_new(b, "StaticB")), 0);
}

static void foreign_free(foreign_t *f)
{
    rcy_decref(f->list);
    rcy_decref(f->str);
    rcy_decref(f->big_int);
    rcy_decref(f->small_int);
    rcy_decref(f->empty_tuple);
    rcy_decref(f->inst);
    rcy_decref(f->cls);
}

/* The foreign objects as an array, and their counts (to prove that a
   refused call took no reference). */
#define N_FOREIGN 8
static void foreign_all(foreign_t *f, rcy_object_t *out[N_FOREIGN])
{
    rcy_object_t *all[N_FOREIGN] = {f->list, f->str, f->big_int, f->small_int, f->empty_tuple, f->inst, f->cls, &f->stat};
    memcpy(out, all, sizeof all);
}

static void refcounts(rcy_object_t *const objs[N_FOREIGN], intptr_t counts[N_FOREIGN])
{
    for (int i = 0; i < N_FOREIGN; i++)
        counts[i] = rcy_getrefcount(objs[i]);
}

static void check_refcounts(rcy_object_t *const objs[N_FOREIGN], const intptr_t counts[N_FOREIGN])
{
    for (int i = 0; i < N_FOREIGN; i++)
        CHECK_EQ(rcy_getrefcount(objs[i]), counts[i]);
}

/* ---- Lists ------------------------------------------------------------- */

TEST(test_list_mutators_refuse_other_runtime)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    foreign_t f;
    foreign_make(b, &f);
    rcy_object_t *objs[N_FOREIGN];
    intptr_t counts[N_FOREIGN];
    foreign_all(&f, objs);
    refcounts(objs, counts);

    rcy_object_t *one = rcy_int_new(a, 1), *two = rcy_int_new(a, 2000);
    rcy_object_t *la = rcy_list_new_from(a, 2, (rcy_object_t *[]){one, two});
    intptr_t one_count = rcy_getrefcount(one), two_count = rcy_getrefcount(two);
    size_t live_a = rcy_runtime_live_objects(a), live_b = rcy_runtime_live_objects(b);
    for (int i = 0; i < N_FOREIGN; i++) {
        CHECK_ERUNTIME(a, rcy_list_append(la, objs[i]));
        CHECK_ERUNTIME(a, rcy_list_insert(la, 0, objs[i]));
        CHECK_ERUNTIME(a, rcy_list_insert(la, 100, objs[i]));
        CHECK_ERUNTIME(a, rcy_list_set(la, 0, objs[i]));
        CHECK_ERUNTIME(a, rcy_list_set(la, -1, objs[i]));
        /* The list is as it was. */
        CHECK_EQ(rcy_list_len(la), 2);
        CHECK(rcy_list_get(la, 0) == one);
        CHECK(rcy_list_get(la, 1) == two);
        /* A new list from items with one of B's, first, in the middle or
           last: none, and no reference kept to A's items either. */
        CHECK_NULL_ERUNTIME(a, rcy_list_new_from(a, 3, (rcy_object_t *[]){objs[i], one, two}));
        CHECK_NULL_ERUNTIME(a, rcy_list_new_from(a, 3, (rcy_object_t *[]){one, objs[i], two}));
        CHECK_NULL_ERUNTIME(a, rcy_list_new_from(a, 3, (rcy_object_t *[]){one, two, objs[i]}));
        CHECK_EQ(rcy_getrefcount(one), one_count);
        CHECK_EQ(rcy_getrefcount(two), two_count);
    }
    /* B's list refuses A's objects as well; B records the error, A does not. */
    prime(a);
    CHECK_ERUNTIME(b, rcy_list_append(f.list, la));
    CHECK_EQ(rcy_last_error(a), RCY_EINVAL);
    CHECK_EQ(rcy_list_len(f.list), 0);

    check_refcounts(objs, counts);
    CHECK_EQ(rcy_runtime_live_objects(a), live_a);
    CHECK_EQ(rcy_runtime_live_objects(b), live_b);
    /* The errors come in their documented order: NULL, wrong type, then
       the runtime. */
    CHECK_EQ(rcy_list_append(la, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_list_append(one, f.list), RCY_ETYPE);
    CHECK_EQ(rcy_list_set(la, 5, f.list), RCY_ERUNTIME);
    rcy_decref(la);
    rcy_decref(one);
    rcy_decref(two);
    foreign_free(&f);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- Tuples ------------------------------------------------------------ */

TEST(test_tuple_new_refuses_other_runtime)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    foreign_t f;
    foreign_make(b, &f);
    rcy_object_t *objs[N_FOREIGN];
    intptr_t counts[N_FOREIGN];
    foreign_all(&f, objs);
    refcounts(objs, counts);
    rcy_object_t *x = rcy_str_new(a, "x");
    /* Warm the free list of 2-tuples (when free lists are in use), so that
       both rcy_tuple_new's fast path and its general path are taken. */
    rcy_decref(rcy_tuple_new(a, 2, (rcy_object_t *[]){x, x}));
    intptr_t x_count = rcy_getrefcount(x);
    size_t live_a = rcy_runtime_live_objects(a);
    rcy_object_t *many[30];
    for (int i = 0; i < N_FOREIGN; i++) {
        CHECK_NULL_ERUNTIME(a, rcy_tuple_new(a, 2, (rcy_object_t *[]){x, objs[i]}));
        CHECK_NULL_ERUNTIME(a, rcy_tuple_new(a, 2, (rcy_object_t *[]){objs[i], x}));
        CHECK_NULL_ERUNTIME(a, rcy_tuple_new(a, 1, (rcy_object_t *[]){objs[i]}));
        for (int k = 0; k < 30; k++) /* beyond the sizes kept on free lists */
            many[k] = k == 29 ? objs[i] : x;
        CHECK_NULL_ERUNTIME(a, rcy_tuple_new(a, 30, many));
        CHECK_EQ(rcy_getrefcount(x), x_count);
    }
    check_refcounts(objs, counts);
    CHECK_EQ(rcy_runtime_live_objects(a), live_a);
    /* A NULL item is still RCY_EINVAL, whichever comes first. */
    prime(a);
    CHECK(rcy_tuple_new(a, 2, (rcy_object_t *[]){NULL, f.str}) == NULL);
    CHECK_EQ(rcy_last_error(a), RCY_EINVAL);
    rcy_decref(x);
    foreign_free(&f);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- Dicts ------------------------------------------------------------- */

TEST(test_dict_set_refuses_other_runtime)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    foreign_t f;
    foreign_make(b, &f);
    rcy_object_t *objs[N_FOREIGN];
    intptr_t counts[N_FOREIGN];
    foreign_all(&f, objs);
    refcounts(objs, counts);

    rcy_object_t *k = rcy_str_new(a, "k"), *v = rcy_int_new(a, 5000);
    rcy_object_t *d = rcy_dict_new(a), *empty = rcy_dict_new(a);
    CHECK_EQ(rcy_dict_set(d, k, v), 0);
    intptr_t k_count = rcy_getrefcount(k), v_count = rcy_getrefcount(v);
    size_t live_a = rcy_runtime_live_objects(a);
    for (int i = 0; i < N_FOREIGN; i++) {
        /* Only hashable objects can be keys; B's are refused before they
           are hashed, so the unhashable list gives RCY_ERUNTIME too. */
        CHECK_ERUNTIME(a, rcy_dict_set(d, objs[i], v));
        CHECK_ERUNTIME(a, rcy_dict_set(d, k, objs[i])); /* an existing key */
        CHECK_ERUNTIME(a, rcy_dict_set(d, v, objs[i])); /* a new key */
        CHECK_ERUNTIME(a, rcy_dict_set(empty, objs[i], v)); /* the first item */
        CHECK_ERUNTIME(a, rcy_dict_set(empty, k, objs[i]));
        CHECK_EQ(rcy_dict_len(d), 1);
        CHECK(rcy_dict_get(d, k) == v);
        CHECK_EQ(rcy_dict_len(empty), 0);
    }
    /* Lookups may use B's objects: they store nothing and find nothing,
       as objects of two runtimes are never equal (their types differ: B's
       "k" is not A's "k"). */
    prime(a);
    CHECK(rcy_dict_get(d, f.str) == NULL);
    CHECK_EQ(rcy_last_error(a), RCY_EKEY);
    CHECK_EQ(rcy_dict_del(d, f.str), RCY_EKEY);
    CHECK_EQ(rcy_equal(k, f.str), 0);
    CHECK_EQ(rcy_dict_len(d), 1);
    CHECK_EQ(rcy_getrefcount(k), k_count);
    CHECK_EQ(rcy_getrefcount(v), v_count);
    check_refcounts(objs, counts);
    CHECK_EQ(rcy_runtime_live_objects(a), live_a);
    rcy_decref(d);
    rcy_decref(empty);
    rcy_decref(k);
    rcy_decref(v);
    foreign_free(&f);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- Attributes -------------------------------------------------------- */

TEST(test_setattr_refuses_other_runtime)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    foreign_t f;
    foreign_make(b, &f);
    rcy_object_t *objs[N_FOREIGN];
    intptr_t counts[N_FOREIGN];
    foreign_all(&f, objs);
    refcounts(objs, counts);

    rcy_object_t *cls = rcy_class_new(a, "ClassA", NULL);
    rcy_object_t *inst = rcy_instance_new(cls), *bare = rcy_instance_new(cls);
    rcy_object_t *v = rcy_int_new(a, 3);
    CHECK_EQ(rcy_setattr(inst, "x", v), 0);
    CHECK_EQ(rcy_setattr(cls, "y", v), 0);
    size_t live_a = rcy_runtime_live_objects(a);
    for (int i = 0; i < N_FOREIGN; i++) {
        CHECK_ERUNTIME(a, rcy_setattr(inst, "x", objs[i])); /* replacing */
        CHECK_ERUNTIME(a, rcy_setattr(inst, "z", objs[i])); /* adding */
        CHECK_ERUNTIME(a, rcy_setattr(cls, "y", objs[i]));
        CHECK_ERUNTIME(a, rcy_setattr(bare, "x", objs[i])); /* the first: no dict is made */
        CHECK(rcy_getattr(inst, "x") == v);
        CHECK(rcy_getattr(cls, "y") == v);
        CHECK(rcy_getattr(inst, "z") == NULL);
        CHECK(rcy_getattr(bare, "x") == NULL);
    }
    CHECK_EQ(rcy_runtime_live_objects(a), live_a); /* bare got no attribute dict */
    check_refcounts(objs, counts);
    /* B's instances refuse A's values just the same. */
    CHECK_ERUNTIME(b, rcy_setattr(f.inst, "x", v));
    CHECK(rcy_getattr(f.inst, "x") == NULL);
    rcy_decref(inst);
    rcy_decref(bare);
    rcy_decref(cls);
    rcy_decref(v);
    foreign_free(&f);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- Weak maps --------------------------------------------------------- */

TEST(test_weakmap_set_refuses_other_runtime)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    foreign_t f;
    foreign_make(b, &f);
    rcy_object_t *objs[N_FOREIGN];
    intptr_t counts[N_FOREIGN];
    foreign_all(&f, objs);
    refcounts(objs, counts);

    rcy_object_t *cls = rcy_class_new(a, "ClassA", NULL);
    rcy_object_t *inst = rcy_instance_new(cls);
    rcy_object_t *k = rcy_str_new(a, "k");
    rcy_object_t *wv = rcy_weakvaluedict_new(a), *wk = rcy_weakkeydict_new(a);
    CHECK_EQ(rcy_weakmap_set(wv, k, inst), 0);
    CHECK_EQ(rcy_weakmap_set(wk, inst, k), 0);
    size_t live_a = rcy_runtime_live_objects(a);
    intptr_t inst_count = rcy_getrefcount(inst);
    /* The weakly held side must support weak references (RCY_ETYPE comes
       first): B's instance. The strongly held side: any of B's objects. */
    CHECK_ERUNTIME(a, rcy_weakmap_set(wv, k, f.inst));
    CHECK_ERUNTIME(a, rcy_weakmap_set(wk, f.inst, k));
    CHECK_EQ(rcy_weakmap_set(wv, k, f.str), RCY_ETYPE);
    for (int i = 0; i < N_FOREIGN; i++) {
        CHECK_ERUNTIME(a, rcy_weakmap_set(wv, objs[i], inst));
        CHECK_ERUNTIME(a, rcy_weakmap_set(wk, inst, objs[i]));
        CHECK_EQ(rcy_weakmap_len(wv), 1);
        CHECK_EQ(rcy_weakmap_len(wk), 1);
    }
    CHECK_EQ(rcy_weakref_count(f.inst), 0); /* no weak reference was made to B's instance */
    rcy_object_t *got = rcy_weakmap_get(wv, k);
    CHECK(got == inst);
    rcy_xdecref(got);
    got = rcy_weakmap_get(wk, inst);
    CHECK(got == k);
    rcy_xdecref(got);
    /* Lookups with B's objects find nothing (and create nothing in B). */
    size_t live_b = rcy_runtime_live_objects(b);
    CHECK(rcy_weakmap_get(wv, f.str) == NULL);
    CHECK_EQ(rcy_last_error(a), RCY_EKEY);
    CHECK(rcy_weakmap_get(wk, f.inst) == NULL);
    CHECK_EQ(rcy_last_error(a), RCY_EKEY);
    CHECK_EQ(rcy_weakmap_del(wk, f.inst), RCY_EKEY);
    CHECK_EQ(rcy_weakmap_del(wv, f.str), RCY_EKEY);
    CHECK_EQ(rcy_runtime_live_objects(b), live_b);
    CHECK_EQ(rcy_runtime_live_objects(a), live_a);
    CHECK_EQ(rcy_getrefcount(inst), inst_count);
    check_refcounts(objs, counts);
    rcy_decref(wv);
    rcy_decref(wk);
    rcy_decref(inst);
    rcy_decref(cls);
    rcy_decref(k);
    foreign_free(&f);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- The gc module and the graph tools --------------------------------- */

TEST(test_introspection_refuses_other_runtime)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    rcy_object_t *la = rcy_list_new(a), *lb = rcy_list_new(b);
    rcy_object_t *item = rcy_str_new(b, "item");
    CHECK_EQ(rcy_list_append(lb, item), 0);
    intptr_t item_count = rcy_getrefcount(item);

    /* gc_get_referents(A, [B's list]) would hand A's array references into B. */
    rcy_objarray_t out = {0};
    CHECK_ERUNTIME(a, rcy_gc_get_referents(a, (rcy_object_t *[]){la, lb}, 2, &out));
    CHECK_EQ(out.len, 0);
    CHECK_EQ(rcy_getrefcount(item), item_count);
    rcy_objarray_release(&out);
    CHECK_EQ(rcy_gc_get_referents(b, (rcy_object_t *[]){lb}, 1, &out), 0);
    CHECK_EQ(out.len, 1);
    rcy_objarray_release(&out);

    /* A graph is drawn from one runtime's heap. */
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.output = tmpfile();
    CHECK(opts.output != NULL);
    if (opts.output != NULL) {
        CHECK_ERUNTIME(a, rcy_show_refs((rcy_object_t *[]){la, lb}, 2, &opts));
        CHECK_ERUNTIME(a, rcy_show_backrefs((rcy_object_t *[]){la, lb}, 2, &opts));
        CHECK_EQ(ftell(opts.output), 0); /* nothing written */
        CHECK_EQ(rcy_show_refs((rcy_object_t *[]){lb}, 1, &opts), 0);
        fclose(opts.output);
    }
    rcy_decref(la);
    rcy_decref(lb);
    rcy_decref(item);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- What stays allowed ------------------------------------------------- */

TEST(test_own_statics_and_singletons_allowed)
{
    rcy_runtime_t *a = test_runtime(NULL);
    static rcy_object_t none; /* a static singleton of A */
    memset(&none, 0, sizeof none);
    CHECK_EQ(rcy_object_init_static(&none, atom_type_new(a, "NoneType")), 0);
    rcy_object_t *small = rcy_int_new(a, 0), *empty = rcy_tuple_new(a, 0, NULL);
    rcy_object_t *s = rcy_str_new(a, "s");
    rcy_object_t *vals[4] = {&none, small, empty, s};

    rcy_object_t *l = rcy_list_new(a), *d = rcy_dict_new(a);
    rcy_object_t *cls = rcy_class_new(a, "ClassA", NULL), *inst = rcy_instance_new(cls);
    rcy_object_t *wk = rcy_weakkeydict_new(a);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(rcy_list_append(l, vals[i]), 0);
        CHECK_EQ(rcy_list_insert(l, 0, vals[i]), 0);
        CHECK_EQ(rcy_list_set(l, 0, vals[i]), 0);
        CHECK_EQ(rcy_dict_set(d, vals[i], vals[i]), 0);
        CHECK_EQ(rcy_setattr(inst, "v", vals[i]), 0);
        CHECK_EQ(rcy_weakmap_set(wk, inst, vals[i]), 0);
    }
    rcy_object_t *t = rcy_tuple_new(a, 4, vals);
    CHECK(t != NULL);
    rcy_object_t *l2 = rcy_list_new_from(a, 4, vals);
    CHECK(l2 != NULL);
    CHECK_EQ(rcy_list_len(l), 8);
    CHECK_EQ(rcy_dict_len(d), 4);
    rcy_gc_collect(a, 2); /* the collector accepts edges to them */
    rcy_xdecref(t);
    rcy_xdecref(l2);
    rcy_decref(l);
    rcy_decref(d);
    rcy_decref(wk);
    rcy_decref(inst);
    rcy_decref(cls);
    rcy_decref(s);
    test_runtime_end(a);
}

/* ---- The reproducer's scenarios ----------------------------------------- */

/* A list of A offered B's list: refused, so destroying B leaves A nothing
   dangling, and A's collections and teardown run cleanly. */
TEST(test_destroy_other_runtime_then_collect)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    rcy_object_t *la = rcy_list_new(a), *ob = rcy_list_new(b);
    CHECK_EQ(rcy_list_append(la, ob), RCY_ERUNTIME);
    rcy_decref(ob);
    test_runtime_end(b); /* nothing of B is left alive */
    CHECK_EQ(rcy_gc_collect(a, 2), 0);
    CHECK_EQ(rcy_list_len(la), 0);
    rcy_decref(la);
    test_runtime_end(a);
}

/* A cycle across the runtimes cannot be made: each half is refused, and
   each runtime collects its own cycles. */
TEST(test_no_cycle_across_runtimes)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    rcy_object_t *la = rcy_list_new(a), *lb = rcy_list_new(b);
    rcy_object_t *da = rcy_dict_new(a), *db = rcy_dict_new(b);
    CHECK_EQ(rcy_list_append(la, lb), RCY_ERUNTIME);
    CHECK_EQ(rcy_list_append(lb, la), RCY_ERUNTIME);
    CHECK_EQ(rcy_dict_set(da, la, db), RCY_ERUNTIME);
    CHECK_EQ(rcy_dict_set(db, la, lb), RCY_ERUNTIME);
    /* Same-runtime cycles, beside. */
    CHECK_EQ(rcy_list_append(la, la), 0);
    CHECK_EQ(rcy_list_append(lb, lb), 0);
    rcy_decref(la);
    rcy_decref(lb);
    rcy_decref(da);
    rcy_decref(db);
    CHECK_EQ(rcy_gc_collect(a, 2), 1);
    CHECK_EQ(rcy_gc_collect(b, 2), 1);
    test_runtime_end(a);
    test_runtime_end(b);
}

/* ---- A user type's own slot: the collector aborts ----------------------- */

/* A node of A whose slot holds B's tracked list (stored by hand, as a user
   type's code would), then a full collection of A: without the check it
   would overwrite the list's link in B's generation list. */
static void case_full_collection(enum hook_e hook)
{
    (void)hook;
    rcy_runtime_t *a = rcy_runtime_new(NULL), *b = rcy_runtime_new(NULL);
    node_t *n = node_new(node_type_new(a, "Node"), 0);
    rcy_object_t *lb = rcy_list_new(b);
    n->a = lb; /* takes the caller's reference */
    announce(lb);
    rcy_gc_collect(a, 2);
    /* Not reached: B's list would now be broken. */
    rcy_gc_collect(b, 2);
}

#ifndef NDEBUG
/* The same through the permanent generation (a full collection that is
   not the one-pass kind) and through a younger generation: caught in
   debug builds, which check every edge the collector follows (release
   builds check only where the collector would write into the object, the
   one-pass full collection of case_full_collection). */
static void case_frozen_then_young(enum hook_e hook)
{
    (void)hook;
    rcy_runtime_t *a = rcy_runtime_new(NULL), *b = rcy_runtime_new(NULL);
    rcy_type_t *t = node_type_new(a, "Node");
    node_t *frozen = node_new(t, 0);
    rcy_gc_freeze(a);
    node_t *n = node_new(t, 1);
    rcy_object_t *lb = rcy_list_new(b);
    n->a = lb;
    announce(lb);
    rcy_gc_collect(a, 2);
    rcy_gc_collect(a, 0);
    (void)frozen;
}
#endif

TEST(test_user_slot_of_other_runtime_is_fatal)
{
    result_t res;
    run_child(case_full_collection, HOOK_STDERR, &res);
    check_fatal(&res, "list", "object of another runtime");
#ifndef NDEBUG
    run_child(case_frozen_then_young, HOOK_STDERR, &res);
    check_fatal(&res, "list", "object of another runtime");
#endif
}

int main(void)
{
    RUN(test_list_mutators_refuse_other_runtime);
    RUN(test_tuple_new_refuses_other_runtime);
    RUN(test_dict_set_refuses_other_runtime);
    RUN(test_setattr_refuses_other_runtime);
    RUN(test_weakmap_set_refuses_other_runtime);
    RUN(test_introspection_refuses_other_runtime);
    RUN(test_own_statics_and_singletons_allowed);
    RUN(test_destroy_other_runtime_then_collect);
    RUN(test_no_cycle_across_runtimes);
    RUN(test_user_slot_of_other_runtime_is_fatal);
    return harness_summary();
}
