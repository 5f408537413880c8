/* Roots, exact external reference counts, leaking objects, back-reference
   and forward chains, and chain paths, on heaps whose shape the tests
   know. */
#include "harness.h"
#include "node.h"
#include "oom_alloc.h"

#include <stdint.h>

static int chain_is(const rcy_objarray_t *c, rcy_object_t *const *expect, size_t n)
{
    if (c->len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (c->items[i] != expect[i])
            return 0;
    }
    return 1;
}

/* A char array as a pointer (for CHECK_STR_CONTAINS). */
static const char *text_of(const char *s) { return s; }

static rcy_object_t *str(rcy_runtime_t *rt, const char *s)
{
    rcy_object_t *o = rcy_str_new(rt, s);
    CHECK(o != NULL);
    return o;
}

TEST(roots_register_and_release)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *d = rcy_dict_new(rt);
    CHECK_EQ(rcy_root_add(d, "globals"), 0);
    CHECK_EQ(rcy_getrefcount(d), 2); /* the registry holds a reference */
    CHECK(rcy_root_name(d) != NULL && strcmp(rcy_root_name(d), "globals") == 0);
    CHECK_EQ(rcy_root_add(d, "again"), RCY_ESTATE);
    CHECK_EQ(rcy_root_add(NULL, "x"), RCY_EINVAL);
    CHECK_EQ(rcy_root_add(d, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_external_refcount(d), 1); /* ours; the registry's is not counted */
    rcy_object_t *l = rcy_list_new(rt);
    CHECK(rcy_root_name(l) == NULL);
    CHECK_EQ(rcy_root_remove(l), RCY_EKEY);
    CHECK_EQ(rcy_root_remove(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_root_add(l, "modules"), 0);
    CHECK_EQ(rcy_root_remove(d), 0);
    CHECK(rcy_root_name(d) == NULL);
    CHECK(rcy_root_name(l) != NULL && strcmp(rcy_root_name(l), "modules") == 0);
    CHECK_EQ(rcy_getrefcount(d), 1);
    rcy_decref(d);
    rcy_decref(l); /* still registered: the runtime releases it at teardown */
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    rcy_runtime_destroy(rt); /* no survivors reported */
}

TEST(external_refcount_finds_a_forgotten_c_variable)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_object_t *l = rcy_list_new(rt);
    node_t *x = node_new(t, 1);
    rcy_list_append(l, OB(x));
    rcy_decref(OB(x)); /* now only the list holds x */
    CHECK_EQ(rcy_external_refcount(OB(x)), 0);
    CHECK_EQ(rcy_external_refcount(l), 1); /* our variable l */
    rcy_object_t *forgotten = rcy_newref(OB(x)); /* a C variable nobody releases */
    CHECK_EQ(rcy_getrefcount(OB(x)), 2);
    CHECK_EQ(rcy_external_refcount(OB(x)), 1);

    /* A cycle kept alive by one extra reference: objgraph's
       get_leaking_objects misses it (both are referred to); the external
       count names the one held from C. */
    node_t *a = node_new(t, 2), *b = node_new(t, 3);
    node_set_a(a, b);
    node_set_a(b, a);
    rcy_object_t *held = rcy_newref(OB(a));
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* kept alive */
    CHECK_EQ(rcy_external_refcount(OB(a)), 1);
    CHECK_EQ(rcy_external_refcount(OB(b)), 0);
    rcy_objarray_t leaking = {0};
    CHECK_EQ(rcy_get_leaking_objects(rt, &leaking), 0);
    for (size_t i = 0; i < leaking.len; i++)
        CHECK(leaking.items[i] != OB(a) && leaking.items[i] != OB(b));
    rcy_objarray_release(&leaking);

    /* Untracked objects: a str held by a list and by us. */
    rcy_object_t *s = str(rt, "key");
    rcy_list_append(l, s);
    CHECK_EQ(rcy_external_refcount(s), 1);
    rcy_object_t *small = rcy_int_new(rt, 5);
    CHECK_EQ(rcy_external_refcount(small), RCY_REFCNT_IMMORTAL);
    CHECK_EQ(rcy_external_refcount(NULL), RCY_EINVAL);

    rcy_decref(s);
    rcy_decref(held);
    rcy_decref(forgotten);
    CHECK_EQ(rcy_external_refcount(OB(x)), 0);
    rcy_decref(l);
    test_runtime_end(rt);
}

static int legacy_del(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    return 0;
}

TEST(leaking_objects_are_held_only_from_outside)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_object_t *registry = rcy_dict_new(rt);
    rcy_root_add(registry, "registry");
    rcy_object_t *inside = rcy_list_new(rt);
    rcy_object_t *key = str(rt, "inside");
    rcy_dict_set(registry, key, inside);
    rcy_decref(key);
    rcy_decref(inside);
    rcy_object_t *lost = rcy_list_new(rt); /* held only by this C variable */
    node_t *item = node_new(t, 1);
    rcy_list_append(lost, OB(item));
    rcy_decref(OB(item));
    /* An uncollectable cycle parked in the garbage list. */
    rcy_class_spec_t spec = {NULL, legacy_del, NULL};
    rcy_object_t *cls = rcy_class_new(rt, "Legacy", &spec);
    rcy_object_t *g1 = rcy_instance_new(cls), *g2 = rcy_instance_new(cls);
    rcy_setattr(g1, "other", g2);
    rcy_setattr(g2, "other", g1);
    rcy_decref(g1);
    rcy_decref(g2);
    rcy_decref(cls);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_gc_garbage_len(rt), 2);

    rcy_objarray_t a = {0};
    CHECK_EQ(rcy_get_leaking_objects(rt, &a), 0);
    int found_lost = 0;
    for (size_t i = 0; i < a.len; i++) {
        found_lost += a.items[i] == lost;
        CHECK(a.items[i] != registry); /* a registered root */
        CHECK(a.items[i] != inside);
        CHECK(a.items[i] != OB(item));
        CHECK(a.items[i] != g1 && a.items[i] != g2); /* held by the garbage list */
    }
    CHECK_EQ(found_lost, 1);
    CHECK_EQ(rcy_external_refcount(g1), 0);
    rcy_objarray_release(&a);
    CHECK_EQ(rcy_get_leaking_objects(NULL, &a), RCY_EINVAL);
    rcy_decref(lost);
    CHECK_EQ(rcy_get_leaking_objects(rt, &a), 0);
    for (size_t i = 0; i < a.len; i++)
        CHECK(rcy_root_name(a.items[i]) == NULL);
    rcy_objarray_release(&a);
    rcy_root_remove(registry);
    rcy_decref(registry);
    /* Break the legacy cycle by hand, as the seeds advise. */
    rcy_delattr(rcy_gc_garbage_get(rt, 0), "other");
    rcy_gc_garbage_clear(rt);
    test_runtime_end(rt);
}

/* registry = {'sessions': [s0, s1, s2]}; s2.user = user; registry is a
   registered root. */
typedef struct scene_s {
    rcy_object_t *registry, *sessions, *session_cls, *user_cls, *s[3], *user;
} scene_t;

static void scene_make(rcy_runtime_t *rt, scene_t *sc)
{
    sc->registry = rcy_dict_new(rt);
    CHECK_EQ(rcy_root_add(sc->registry, "registry"), 0);
    sc->sessions = rcy_list_new(rt);
    rcy_object_t *k = str(rt, "sessions");
    rcy_dict_set(sc->registry, k, sc->sessions);
    rcy_decref(k);
    sc->session_cls = rcy_class_new(rt, "Session", NULL);
    sc->user_cls = rcy_class_new(rt, "User", NULL);
    for (int i = 0; i < 3; i++) {
        sc->s[i] = rcy_instance_new(sc->session_cls);
        rcy_list_append(sc->sessions, sc->s[i]);
    }
    sc->user = rcy_instance_new(sc->user_cls);
    CHECK_EQ(rcy_setattr(sc->s[2], "user", sc->user), 0);
}

static void scene_free(scene_t *sc)
{
    for (int i = 0; i < 3; i++)
        rcy_decref(sc->s[i]);
    rcy_decref(sc->user);
    rcy_decref(sc->sessions);
    rcy_decref(sc->session_cls);
    rcy_decref(sc->user_cls);
    rcy_root_remove(sc->registry);
    rcy_decref(sc->registry);
}

/* A root predicate that accepts registered roots only. */
static int is_registered_root(rcy_object_t *o, intptr_t external, void *arg)
{
    (void)external;
    (void)arg;
    return rcy_root_name(o) != NULL;
}

TEST(backref_chain_from_a_registered_root)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    scene_t sc;
    scene_make(rt, &sc);
    rcy_objarray_t c = {0};
    /* Our C variables hold every session: the registered root still wins.
       (An instance's attributes are its own edges: no dict in the chain.) */
    CHECK_EQ(rcy_find_backref_chain(sc.user, NULL, NULL, 0, &c), 1);
    rcy_object_t *expect[] = {sc.registry, sc.sessions, sc.s[2], sc.user};
    CHECK(chain_is(&c, expect, 4));
    char path[256];
    int n = rcy_chain_format(&c, path, sizeof path);
    CHECK(strcmp(path, "registry['sessions'][2].user") == 0);
    CHECK_EQ(n, (int)strlen("registry['sessions'][2].user"));
    /* A short buffer gets a cut, terminated path and the full length. */
    char small[9];
    CHECK_EQ(rcy_chain_format(&c, small, sizeof small), n);
    CHECK(strcmp(small, "registry") == 0);
    rcy_objarray_release(&c);

    /* Too deep: no root within 2 references back; without roots in reach
       the nearest object held from outside is taken: s2, which we hold. */
    CHECK_EQ(rcy_find_backref_chain(sc.user, NULL, NULL, 2, &c), 1);
    rcy_object_t *expect2[] = {sc.s[2], sc.user};
    CHECK(chain_is(&c, expect2, 2));
    CHECK_EQ(rcy_chain_format(&c, path, sizeof path), (int)strlen(path));
    CHECK_STR_CONTAINS(text_of(path), ">.user");
    CHECK(strncmp(path, "<User", 5) != 0 && strncmp(path, "<Session 0x", 11) == 0);
    rcy_objarray_release(&c);
    /* Not found within the depth: objgraph returns [obj]. user is held
       only by s2 (a hop away); restrict the roots to registered ones. */
    CHECK_EQ(rcy_find_backref_chain(sc.user, is_registered_root, NULL, 2, &c), 0);
    CHECK(c.len == 1 && c.items[0] == sc.user);
    rcy_objarray_release(&c);
    CHECK_EQ(rcy_find_backref_chain(NULL, NULL, NULL, 0, &c), RCY_EINVAL);
    scene_free(&sc);
    test_runtime_end(rt);
}

static int is_type_named(rcy_object_t *o, intptr_t external, void *arg)
{
    (void)external;
    return strcmp(rcy_type_name(rcy_type(o)), (const char *)arg) == 0;
}

TEST(ref_chain_forward_to_a_match)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    scene_t sc;
    scene_make(rt, &sc);
    rcy_objarray_t c = {0};
    CHECK_EQ(rcy_find_ref_chain(sc.registry, is_type_named, "User", 0, &c), 1);
    rcy_object_t *expect[] = {sc.registry, sc.sessions, sc.s[2], sc.user};
    CHECK(chain_is(&c, expect, 4));
    char path[256];
    rcy_chain_format(&c, path, sizeof path);
    CHECK(strcmp(path, "registry['sessions'][2].user") == 0);
    rcy_objarray_release(&c);
    CHECK_EQ(rcy_find_ref_chain(sc.registry, is_type_named, "User", 2, &c), 0);
    CHECK(c.len == 1 && c.items[0] == sc.registry);
    rcy_objarray_release(&c);
    CHECK_EQ(rcy_find_ref_chain(sc.registry, NULL, NULL, 0, &c), RCY_EINVAL);
    /* The start object is tested too (objgraph does). */
    CHECK_EQ(rcy_find_ref_chain(sc.user, is_type_named, "User", 0, &c), 1);
    CHECK(c.len == 1 && c.items[0] == sc.user);
    rcy_objarray_release(&c);
    scene_free(&sc);
    test_runtime_end(rt);
}

typedef struct ignore_ctx_s {
    rcy_object_t *ignore, *root;
} ignore_ctx_t;

static int root_or_ignore(rcy_object_t *o, intptr_t external, void *arg)
{
    (void)external;
    ignore_ctx_t *c = arg;
    if (o == c->ignore)
        return -1;
    return o == c->root;
}

TEST(predicate_can_ignore_objects)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    /* root -> p1 -> target and root -> p2 -> q -> target: the short way
       goes through p1; ignoring p1 leaves the long one. */
    node_t *root = node_new(t, 0), *p1 = node_new(t, 1), *p2 = node_new(t, 2), *q = node_new(t, 3);
    node_t *target = node_new(t, 4);
    node_set_a(root, p1);
    node_set_b(root, p2);
    node_set_a(p1, target);
    node_set_a(p2, q);
    node_set_b(q, target);
    ignore_ctx_t ctx = {NULL, OB(root)};
    rcy_objarray_t c = {0};
    CHECK_EQ(rcy_find_backref_chain(OB(target), root_or_ignore, &ctx, 0, &c), 1);
    rcy_object_t *short_way[] = {OB(root), OB(p1), OB(target)};
    CHECK(chain_is(&c, short_way, 3));
    char path[256];
    rcy_chain_format(&c, path, sizeof path);
    CHECK_STR_CONTAINS(text_of(path), ">.a.a"); /* node.h's RCY_VISIT(n->a) is labelled "a" */
    rcy_objarray_release(&c);
    ctx.ignore = OB(p1);
    CHECK_EQ(rcy_find_backref_chain(OB(target), root_or_ignore, &ctx, 0, &c), 1);
    rcy_object_t *long_way[] = {OB(root), OB(p2), OB(q), OB(target)};
    CHECK(chain_is(&c, long_way, 4));
    rcy_chain_format(&c, path, sizeof path);
    CHECK_STR_CONTAINS(text_of(path), ">.b.a.b");
    rcy_objarray_release(&c);
    rcy_decref(OB(p1));
    rcy_decref(OB(p2));
    rcy_decref(OB(q));
    rcy_decref(OB(target));
    rcy_decref(OB(root));
    test_runtime_end(rt);
}

/* A predicate is user code: one that releases the last reference to objects
   of the heap frees nothing under the search (the snapshot holds every node
   until the search returns), and the external counts it is given leave the
   snapshot's own references out. */
typedef struct release_ctx_s {
    rcy_runtime_t *rt;
    rcy_object_t *start, *root, *release;
    size_t live_before;
    intptr_t start_external;
    int freed_under_walk;
} release_ctx_t;

static int release_then_find_root(rcy_object_t *o, intptr_t external, void *arg)
{
    release_ctx_t *c = arg;
    if (o == c->start) {
        c->start_external = external;
        c->live_before = rcy_runtime_live_objects(c->rt);
        rcy_decref(c->release); /* the last reference from C to root */
        c->release = NULL;
        if (rcy_runtime_live_objects(c->rt) != c->live_before)
            c->freed_under_walk = 1;
        return 0;
    }
    return o == c->root;
}

TEST(predicate_may_release_references)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    /* root -> p -> target; C holds root and target; p only by root. */
    node_t *root = node_new(t, 0), *p = node_new(t, 1), *target = node_new(t, 2);
    node_set_a(root, p);
    node_set_a(p, target);
    rcy_decref(OB(p));
    release_ctx_t ctx = {rt, OB(target), OB(root), OB(root), 0, 0, 0};
    rcy_objarray_t c = {0};
    CHECK_EQ(rcy_find_backref_chain(OB(target), release_then_find_root, &ctx, 0, &c), 1);
    CHECK_EQ(ctx.start_external, 1);
    CHECK_EQ(ctx.freed_under_walk, 0);
    /* root and p are alive now only through the chain's references. */
    CHECK(c.len == 3 && c.items[0] == OB(root) && c.items[2] == OB(target));
    CHECK_EQ(rcy_getrefcount(OB(root)), 1);
    rcy_objarray_release(&c);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1); /* target */
    rcy_decref(OB(target));
    test_runtime_end(rt);
}

TEST(chains_through_untracked_containers)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *s = str(rt, "deep inside");
    rcy_object_t *tup = rcy_tuple_new(rt, 1, &s);
    rcy_list_append(l, tup);
    rcy_decref(tup);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *k = rcy_int_new(rt, 1000);
    rcy_object_t *s2 = str(rt, "in a dict");
    rcy_dict_set(d, k, s2); /* a non-str key: labelled by its repr */
    rcy_list_append(l, d);
    rcy_decref(d);
    rcy_gc_collect(rt, 2);
    CHECK(!rcy_gc_is_tracked(tup));
    rcy_objarray_t c = {0};
    CHECK_EQ(rcy_find_backref_chain(s, NULL, NULL, 0, &c), 1);
    rcy_object_t *expect[] = {l, tup, s};
    CHECK(chain_is(&c, expect, 3));
    char path[256];
    rcy_chain_format(&c, path, sizeof path);
    CHECK_STR_CONTAINS(text_of(path), ">[0][0]");
    rcy_objarray_release(&c);
    /* Through the dict: [1][1000]. */
    CHECK_EQ(rcy_find_backref_chain(s2, NULL, NULL, 0, &c), 1);
    rcy_object_t *via_dict[] = {l, d, s2};
    CHECK(chain_is(&c, via_dict, 3));
    rcy_chain_format(&c, path, sizeof path);
    CHECK_STR_CONTAINS(text_of(path), ">[1][1000]");
    rcy_objarray_release(&c);
    /* A chain given by hand whose items do not refer to each other. */
    rcy_object_t *broken[] = {l, s2};
    rcy_objarray_t manual = {broken, 2, 2, rt};
    rcy_chain_format(&manual, path, sizeof path);
    CHECK_STR_CONTAINS(text_of(path), "> -> ?");
    rcy_decref(s2);
    rcy_decref(k);
    rcy_decref(s);
    rcy_decref(l);
    test_runtime_end(rt);
}

typedef struct in_callback_s {
    rcy_object_t *obj;
    intptr_t ext;
    int leaking;
} in_callback_t;

static int tools_in_callback(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)info;
    in_callback_t *r = arg;
    if (phase == RCY_GC_START) {
        rcy_objarray_t a = {0};
        r->ext = rcy_external_refcount(r->obj);
        r->leaking = rcy_get_leaking_objects(rt, &a);
    }
    return 0;
}

TEST(tools_refuse_to_run_during_a_collection)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    in_callback_t r = {rcy_list_new(rt), 1, 1};
    rcy_gc_callback_add(rt, tools_in_callback, &r);
    rcy_gc_collect(rt, 0);
    CHECK_EQ(r.ext, RCY_ESTATE);
    CHECK_EQ(r.leaking, RCY_ESTATE);
    rcy_gc_callback_remove(rt, tools_in_callback, &r);
    CHECK_EQ(rcy_external_refcount(r.obj), 1);
    rcy_decref(r.obj);
    test_runtime_end(rt);
}

TEST(chain_tools_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    scene_t sc;
    scene_make(rt, &sc);
    for (long k = 1; k < 200; k++) {
        long live = a.live;
        a.fail_after = k;
        rcy_objarray_t c1 = {0}, c2 = {0}, lk = {0};
        intptr_t e4 = rcy_external_refcount(sc.user); /* before the chains hold it too */
        int e1 = rcy_find_backref_chain(sc.user, NULL, NULL, 0, &c1);
        int e2 = rcy_find_ref_chain(sc.registry, is_type_named, "User", 0, &c2);
        int e3 = rcy_get_leaking_objects(rt, &lk);
        a.failing = false;
        a.fail_after = 0;
        CHECK(e1 == 1 || (e1 == RCY_ENOMEM && c1.len == 0));
        CHECK(e2 == 1 || (e2 == RCY_ENOMEM && c2.len == 0));
        CHECK(e3 == 0 || (e3 == RCY_ENOMEM && lk.len == 0));
        CHECK(e4 == 1 || e4 == RCY_ENOMEM);
        if (e1 == 1)
            CHECK_EQ(c1.len, 4);
        rcy_objarray_release(&c1);
        rcy_objarray_release(&c2);
        rcy_objarray_release(&lk);
        CHECK_EQ(a.live, live);
        if (e1 == 1 && e2 == 1 && e3 == 0 && e4 == 1)
            break;
        CHECK(k < 199);
    }
    scene_free(&sc);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(roots_register_and_release);
    RUN(external_refcount_finds_a_forgotten_c_variable);
    RUN(leaking_objects_are_held_only_from_outside);
    RUN(backref_chain_from_a_registered_root);
    RUN(ref_chain_forward_to_a_match);
    RUN(predicate_can_ignore_objects);
    RUN(predicate_may_release_references);
    RUN(chains_through_untracked_containers);
    RUN(tools_refuse_to_run_during_a_collection);
    RUN(chain_tools_out_of_memory);
    return harness_summary();
}
