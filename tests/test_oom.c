/* Allocation failures, injected through the allocator hook: a counting
   allocator fails the Nth allocation (or every allocation from the Nth on).
   Every constructor then returns NULL with RCY_ENOMEM and leaves every
   existing object exactly as it was; calls that fill arrays leave nothing
   allocated; and a small scenario survives a failure at each of its
   allocations in turn (SQLite style), with the heap intact at each step.

   The allocator counts the blocks it has handed out and not taken back,
   so a leak is caught in every build (the debug build's LeakSanitizer
   would catch it as well). */
#include "harness.h"
#include "node.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- The failing allocator ------------------------------------------- */

typedef struct failalloc_s {
    long calls;     /* malloc and realloc calls so far */
    long fail_at;   /* 0: never fail; else fail call number fail_at ... */
    bool fail_from; /* ... and, if set, every call after it */
    long failures;  /* calls that failed */
    long live;      /* blocks allocated and not freed */
} failalloc_t;

/* Requests above this are refused, as a real malloc would refuse them (and
   so that AddressSanitizer, which aborts on absurd sizes, never sees one). */
#define FAILALLOC_MAX ((size_t)1 << 32)

static bool failalloc_should_fail(failalloc_t *fa, size_t size)
{
    fa->calls++;
    bool fail = size > FAILALLOC_MAX ||
                (fa->fail_at > 0 && (fa->calls == fa->fail_at || (fa->fail_from && fa->calls > fa->fail_at)));
    if (fail)
        fa->failures++;
    return fail;
}

static void *failalloc_malloc(void *ctx, size_t size)
{
    failalloc_t *fa = ctx;
    if (failalloc_should_fail(fa, size))
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        fa->live++;
    return p;
}

static void *failalloc_realloc(void *ctx, void *ptr, size_t size)
{
    failalloc_t *fa = ctx;
    if (failalloc_should_fail(fa, size))
        return NULL; /* ptr stays valid, as with realloc */
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        fa->live++;
    return p;
}

static void failalloc_free(void *ctx, void *ptr)
{
    failalloc_t *fa = ctx;
    if (ptr != NULL)
        fa->live--;
    free(ptr);
}

/* Fails the next allocation only (relative to the calls made so far). */
static void fail_next(failalloc_t *fa, long n_after)
{
    fa->fail_at = fa->calls + n_after;
    fa->fail_from = false;
}

/* Fails every allocation from the next one on. */
static void fail_all(failalloc_t *fa)
{
    fa->fail_at = fa->calls + 1;
    fa->fail_from = true;
}

static void fail_none(failalloc_t *fa)
{
    fa->fail_at = 0;
    fa->fail_from = false;
}

static void failalloc_config(rcy_config_t *cfg, failalloc_t *fa)
{
    rcy_config_init(cfg);
    cfg->allocator.malloc_fn = failalloc_malloc;
    cfg->allocator.realloc_fn = failalloc_realloc;
    cfg->allocator.free_fn = failalloc_free;
    cfg->allocator.ctx = fa;
}

static rcy_runtime_t *failalloc_runtime(failalloc_t *fa, capture_t *cap)
{
    rcy_config_t cfg;
    failalloc_config(&cfg, fa);
    if (cap != NULL) {
        cfg.output = capture_output;
        cfg.output_arg = cap;
    }
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "cannot create a runtime\n");
        exit(2);
    }
    return rt;
}

/* Ends a test: zero live objects, and after teardown zero blocks. */
static void failalloc_end(rcy_runtime_t *rt, failalloc_t *fa)
{
    fail_none(fa);
    test_runtime_end(rt);
    CHECK_EQ(fa->live, 0);
}

/* ---- Runtime creation ------------------------------------------------ */

TEST(test_runtime_new_fails)
{
    /* Whatever the runtime allocates when it starts (itself, the
       quarantine ring when poisoning, built-in types), failing any one of
       those allocations, or all from one on, gives NULL and leaks nothing. */
    for (int poison = 0; poison <= 1; poison++) {
        for (int from = 0; from <= 1; from++) {
            bool created = false;
            long n;
            for (n = 1; !created && n < 100000; n++) {
                failalloc_t fa = {0};
                rcy_config_t cfg;
                failalloc_config(&cfg, &fa);
                cfg.poison = poison;
                fa.fail_at = n;
                fa.fail_from = from;
                rcy_runtime_t *rt = rcy_runtime_new(&cfg);
                if (rt == NULL) {
                    CHECK(fa.failures >= 1);
                    CHECK_EQ(fa.live, 0); /* nothing left behind */
                    continue;
                }
                created = true;
                CHECK_EQ(fa.failures, 0);
                CHECK_EQ(rcy_runtime_live_objects(rt), 0);
                rcy_runtime_destroy(rt);
                CHECK_EQ(fa.live, 0);
            }
            CHECK(created);
            CHECK(n - 1 >= (poison ? 3 : 2)); /* at least one failure was tried */
        }
    }
}

/* ---- Types ----------------------------------------------------------- */

static int count_calls(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    (void)phase;
    (void)info;
    ++*(int *)arg;
    return 0;
}

TEST(test_type_new_fails)
{
    failalloc_t fa = {0};
    rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
    long live = fa.live;
    /* The type structure, then the copy of its name. */
    for (long k = 1; k <= 2; k++) {
        fail_next(&fa, k);
        CHECK(node_type_new(rt, "Node") == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
        CHECK_EQ(fa.failures, k);
        CHECK_EQ(fa.live, live);
    }
    fail_none(&fa);
    rcy_type_t *t = node_type_new(rt, "Node");
    CHECK(t != NULL);
    CHECK_EQ(fa.live, live + 2);
    CHECK(strcmp(rcy_type_name(t), "Node") == 0);

    /* A callback that could not be registered is never called. */
    int calls = 0;
    fail_next(&fa, 1);
    CHECK_EQ(rcy_gc_callback_add(rt, count_calls, &calls), RCY_ENOMEM);
    CHECK_EQ(fa.live, live + 2);
    rcy_gc_collect(rt, 0);
    CHECK_EQ(calls, 0);
    CHECK_EQ(rcy_gc_callback_remove(rt, count_calls, &calls), RCY_EKEY);
    failalloc_end(rt, &fa);
}

/* ---- Objects --------------------------------------------------------- */


static rcy_type_t *leaf_type_new(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Leaf";
    spec.basicsize = sizeof(rcy_object_t) + sizeof(long);
    return rcy_type_new(rt, &spec);
}

/* Everything observable about a small heap. */
#define HEAP_N 4
typedef struct snapshot_s {
    intptr_t refcnt[HEAP_N];
    rcy_object_t *a[HEAP_N], *b[HEAP_N];
    long value[HEAP_N];
    int tracked[HEAP_N];
    size_t live_objects, live_bytes, type_live[3];
    int counts[RCY_GC_GENERATIONS];
    rcy_gc_stats_t stats[RCY_GC_GENERATIONS];
    long blocks;
} snapshot_t;

static void take_snapshot(snapshot_t *s, rcy_runtime_t *rt, node_t **nodes, rcy_type_t **types, failalloc_t *fa)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < HEAP_N; i++) {
        s->refcnt[i] = rcy_getrefcount(OB(nodes[i]));
        s->a[i] = nodes[i]->a;
        s->b[i] = nodes[i]->b;
        s->value[i] = nodes[i]->value;
        s->tracked[i] = rcy_gc_is_tracked(OB(nodes[i]));
    }
    s->live_objects = rcy_runtime_live_objects(rt);
    s->live_bytes = rcy_runtime_live_bytes(rt);
    for (int i = 0; i < 3; i++)
        s->type_live[i] = rcy_type_live_objects(types[i]);
    rcy_gc_get_count(rt, s->counts);
    rcy_gc_stats_init(s->stats);
    rcy_gc_get_stats(rt, s->stats);
    s->blocks = fa->live;
}

static void check_same(const snapshot_t *x, const snapshot_t *y)
{
    for (int i = 0; i < HEAP_N; i++) {
        CHECK_EQ(x->refcnt[i], y->refcnt[i]);
        CHECK(x->a[i] == y->a[i]);
        CHECK(x->b[i] == y->b[i]);
        CHECK_EQ(x->value[i], y->value[i]);
        CHECK_EQ(x->tracked[i], y->tracked[i]);
    }
    CHECK_EQ(x->live_objects, y->live_objects);
    CHECK_EQ(x->live_bytes, y->live_bytes);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(x->type_live[i], y->type_live[i]);
    for (int g = 0; g < RCY_GC_GENERATIONS; g++) {
        CHECK_EQ(x->counts[g], y->counts[g]);
        CHECK_EQ(x->stats[g].collections, y->stats[g].collections);
        CHECK_EQ(x->stats[g].collected, y->stats[g].collected);
    }
    CHECK_EQ(x->blocks, y->blocks);
}

TEST(test_new_fails_and_changes_nothing)
{
    failalloc_t fa = {0};
    rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
    rcy_type_t *types[3] = {node_type_new(rt, "Node"), list_type_new(rt), leaf_type_new(rt)};
    CHECK(types[0] && types[1] && types[2]);

    /* A heap: a cycle of three nodes and a fourth pointing into it, one
       node untracked, some collection history, and a generation-0 count
       above the threshold, so that the next successful container
       allocation triggers a collection. */
    node_t *nodes[HEAP_N];
    for (int i = 0; i < HEAP_N; i++)
        nodes[i] = node_new(types[0], 100 + i);
    for (int i = 0; i < 3; i++)
        node_set_a(nodes[i], nodes[(i + 1) % 3]);
    node_set_b(nodes[3], nodes[0]);
    rcy_gc_untrack(OB(nodes[3]));
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    rcy_object_t *keep = rcy_new(types[0]);
    int counts[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, counts);
    if (!HARNESS_GC_STRESS) {
        CHECK_EQ(counts[0], 1);
        CHECK_EQ(counts[1], 1);
    }
    CHECK_EQ(rcy_gc_set_threshold(rt, 1, 10, 10), 0);

    snapshot_t before, after;
    take_snapshot(&before, rt, nodes, types, &fa);
    CHECK_EQ(before.live_objects, HEAP_N + 1);

    /* One failure of each kind of allocation. */
    fail_next(&fa, 1);
    CHECK(rcy_new(types[0]) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    take_snapshot(&after, rt, nodes, types, &fa);
    check_same(&before, &after);

    CHECK(rcy_new_var(types[1], -1) == NULL); /* EINVAL first, to see ENOMEM replace it */
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    fail_next(&fa, 1);
    CHECK(rcy_new_var(types[1], 3) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    take_snapshot(&after, rt, nodes, types, &fa);
    check_same(&before, &after);

    CHECK(rcy_new(types[1]) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    fail_next(&fa, 1);
    CHECK(rcy_new(types[2]) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    take_snapshot(&after, rt, nodes, types, &fa);
    check_same(&before, &after);

    /* Every allocation fails: still nothing changes. */
    fail_all(&fa);
    for (int i = 0; i < 5; i++) {
        CHECK(rcy_new(types[0]) == NULL);
        CHECK(rcy_new_var(types[1], i) == NULL);
        CHECK(rcy_new(types[2]) == NULL);
    }
    CHECK_EQ(fa.failures, 3 + 15);
    take_snapshot(&after, rt, nodes, types, &fa);
    check_same(&before, &after);

    /* Memory is back: an allocation succeeds and, the count being above
       the threshold, runs the automatic collection the failures did not. */
    fail_none(&fa);
    list_t *l = (list_t *)rcy_new_var(types[1], 2);
    CHECK(l != NULL);
    take_snapshot(&after, rt, nodes, types, &fa);
    CHECK_EQ(after.stats[0].collections + after.stats[1].collections + after.stats[2].collections,
             before.stats[0].collections + before.stats[1].collections + before.stats[2].collections + 1);
    CHECK_EQ(after.live_objects, before.live_objects + 1);
    CHECK_EQ(l->ob.size, 2);
    CHECK(l->items[0] == NULL && l->items[1] == NULL);

    /* Collections work with no memory at all: the cycle survives (it is
       referenced), and a garbage cycle is freed. */
    node_t *g1 = node_new(types[0], 1), *g2 = node_new(types[0], 2);
    node_set_a(g1, g2);
    node_set_a(g2, g1);
    rcy_decref(OB(g1));
    rcy_decref(OB(g2));
    fail_all(&fa);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), HEAP_N + 2);
    CHECK(nodes[0]->a == OB(nodes[1]));
    fail_none(&fa);

    rcy_decref(OB(l));
    rcy_decref(keep);
    for (int i = 0; i < HEAP_N; i++)
        rcy_decref(OB(nodes[i]));
    CHECK_EQ(rcy_runtime_live_objects(rt), 3); /* the cycle */
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    failalloc_end(rt, &fa);
}

TEST(test_new_var_size_limits)
{
    failalloc_t fa = {0};
    rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
    rcy_type_t *t = list_type_new(rt);
    long calls = fa.calls;

    /* nitems * itemsize overflows: refused before any allocation. */
    CHECK(rcy_new_var(t, INTPTR_MAX) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK(rcy_new_var(t, (intptr_t)(SIZE_MAX / sizeof(rcy_object_t *))) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(fa.calls, calls);

    /* Representable but too big for the allocator. */
    CHECK(rcy_new_var(t, INTPTR_MAX / 64) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(fa.calls, calls + 1);

    CHECK(rcy_new_var(t, -1) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_new_var(t, INTPTR_MIN) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_new_var(NULL, 1) == NULL);

    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    rcy_object_t *empty = rcy_new_var(t, 0);
    CHECK(empty != NULL);
    CHECK_EQ(((rcy_varobject_t *)empty)->size, 0);
    rcy_decref(empty);
    failalloc_end(rt, &fa);
}

/* ---- Immortal objects ------------------------------------------------ */

static int deaths;
static void counting_dealloc(rcy_object_t *self)
{
    deaths++;
    node_clear(self);
}

static rcy_type_t *mortal_type_new(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Mortal";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = counting_dealloc;
    return rcy_type_new(rt, &spec);
}

TEST(test_immortalize_fails)
{
    failalloc_t fa = {0};
    rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
    rcy_type_t *t = mortal_type_new(rt);
    deaths = 0;

    /* The first immortal needs the runtime's table: fail that. */
    node_t *o = node_new(t, 1);
    long blocks = fa.live;
    fail_next(&fa, 1);
    CHECK_EQ(rcy_immortalize(OB(o)), RCY_ENOMEM);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK_EQ(rcy_getrefcount(OB(o)), 1);
    CHECK(!rcy_is_immortal(OB(o)));
    CHECK(rcy_gc_is_tracked(OB(o)));
    CHECK_EQ(fa.live, blocks);
    /* Still an ordinary object: it dies by reference counting. */
    rcy_decref(OB(o));
    CHECK_EQ(deaths, 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    /* Fill the table (it starts with room for 16), then fail its growth. */
    node_t *im[17];
    for (int i = 0; i < 16; i++) {
        im[i] = node_new(t, i);
        CHECK_EQ(rcy_immortalize(OB(im[i])), 0);
        CHECK_EQ(rcy_getrefcount(OB(im[i])), RCY_REFCNT_IMMORTAL);
        CHECK(!rcy_gc_is_tracked(OB(im[i])));
    }
    im[16] = node_new(t, 16);
    node_set_a(im[16], im[0]);
    blocks = fa.live;
    fail_next(&fa, 1);
    CHECK_EQ(rcy_immortalize(OB(im[16])), RCY_ENOMEM);
    CHECK_EQ(rcy_getrefcount(OB(im[16])), 1);
    CHECK(rcy_gc_is_tracked(OB(im[16])));
    CHECK(im[16]->a == OB(im[0]));
    CHECK_EQ(fa.live, blocks);
    fail_none(&fa);
    CHECK_EQ(rcy_immortalize(OB(im[16])), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 17);
    CHECK_EQ(deaths, 1);

    /* Immortals count as live until teardown releases them: after it, no
       block is left and every one of them was deallocated. */
    rcy_runtime_destroy(rt);
    CHECK_EQ(deaths, 1 + 17);
    CHECK_EQ(fa.live, 0);
}

/* ---- Introspection --------------------------------------------------- */

#define INTRO_N 20 /* more than an array's first 16 slots: it must grow */

static void check_empty(const rcy_objarray_t *a)
{
    CHECK(a->items == NULL);
    CHECK_EQ(a->len, 0);
}

TEST(test_introspection_fails)
{
    failalloc_t fa = {0};
    rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *n[INTRO_N];
    for (int i = 0; i < INTRO_N; i++)
        n[i] = node_new(t, i);
    for (int i = 0; i < INTRO_N; i++) /* a ring: each node has one referrer */
        node_set_a(n[i], n[(i + 1) % INTRO_N]);
    rcy_object_t *objs[INTRO_N];
    for (int i = 0; i < INTRO_N; i++)
        objs[i] = OB(n[i]);
    long blocks = fa.live;
    rcy_objarray_t out = {0};

    /* Fail the first allocation of the result, then its growth. */
    for (long k = 1; k <= 2; k++) {
        fail_next(&fa, k);
        CHECK_EQ(rcy_gc_get_objects(rt, -1, &out), RCY_ENOMEM);
        CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
        check_empty(&out);
        rcy_objarray_release(&out); /* harmless on an empty array */

        fail_next(&fa, k);
        CHECK_EQ(rcy_gc_get_referents(rt, objs, INTRO_N, &out), RCY_ENOMEM);
        CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
        check_empty(&out);

        fail_next(&fa, k);
        CHECK_EQ(rcy_gc_get_referrers(rt, objs, INTRO_N, &out), RCY_ENOMEM);
        CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
        check_empty(&out);

        CHECK_EQ(fa.failures, 3 * k);
        CHECK_EQ(fa.live, blocks);
        for (int i = 0; i < INTRO_N; i++)
            CHECK_EQ(rcy_getrefcount(objs[i]), 2); /* ours and the ring's */
    }

    /* With memory, the three calls work. */
    fail_none(&fa);
    CHECK_EQ(rcy_gc_get_objects(rt, -1, &out), 0);
    CHECK_EQ(out.len, INTRO_N);
    CHECK_EQ(rcy_getrefcount(objs[0]), 3);
    rcy_objarray_release(&out);
    CHECK_EQ(rcy_gc_get_referents(rt, objs, INTRO_N, &out), 0);
    CHECK_EQ(out.len, INTRO_N);
    rcy_objarray_release(&out);
    CHECK_EQ(rcy_gc_get_referrers(rt, objs, INTRO_N, &out), 0);
    CHECK_EQ(out.len, INTRO_N);
    rcy_objarray_release(&out);
    CHECK_EQ(fa.live, blocks);
    CHECK_EQ(rcy_getrefcount(objs[0]), 2);

    for (int i = 0; i < INTRO_N; i++)
        rcy_decref(objs[i]);
    CHECK_EQ(rcy_gc_collect(rt, 2), INTRO_N);
    failalloc_end(rt, &fa);
}

/* ---- A young collection whose scratch array cannot grow --------------- */

/* A young collection records the objects it examines in an array (gc.c,
   update_refs) that starts at 1,024 entries and grows as needed; when it
   cannot grow, the collection walks its lists instead. Either way it finds
   the same garbage, keeps the same survivors, and reports no error. The
   chain has an odd length, so the set's two walks meet at one object. */
TEST(test_young_collection_without_scratch_growth)
{
    enum { PAIRS = 1500, KEPT = 2001 };
    for (int failing = 1; failing >= 0; failing--) {
        failalloc_t fa = {0};
        capture_t cap = {0};
        rcy_runtime_t *rt = failalloc_runtime(&fa, &cap);
        rcy_gc_disable(rt);
        rcy_type_t *t = node_type_new(rt, "Node");
        CHECK(t != NULL);
        node_t *head = node_new(t, 0), *tail = head;
        for (int i = 1; i < KEPT; i++) {
            node_t *x = node_new(t, i);
            node_set_a(tail, x);
            rcy_decref(OB(x));
            tail = x;
        }
        for (int i = 0; i < PAIRS; i++) {
            node_t *p = node_new(t, -1), *q = node_new(t, -2);
            node_set_a(p, q);
            node_set_a(q, p);
            rcy_decref(OB(p));
            rcy_decref(OB(q));
        }
        CHECK_EQ(rcy_runtime_live_objects(rt), (size_t)(KEPT + 2 * PAIRS));
        long failures = fa.failures;
        if (failing)
            fail_all(&fa);
        CHECK_EQ(rcy_gc_collect(rt, 0), 2 * PAIRS);
        fail_none(&fa);
        if (failing)
            CHECK(fa.failures > failures); /* the array could not grow */
        else
            CHECK_EQ(fa.failures, failures);
        CHECK_EQ(rcy_last_error(rt), RCY_OK);
        CHECK_EQ(rcy_runtime_live_objects(rt), (size_t)KEPT);
        long n = 0;
        for (node_t *x = head; x != NULL; x = (node_t *)x->a, n++)
            CHECK_EQ(x->value, n);
        CHECK_EQ(n, KEPT);
        rcy_decref(OB(head));
        rcy_runtime_destroy(rt);
        CHECK_EQ(fa.live, 0);
        capture_free(&cap);
    }
}

/* ---- Generation 1's hints cannot be recorded --------------------------- */

/* A generation-0 collection appends its survivors' addresses to generation
   1's hints (gc.c, record_hints), an array of 1,024 entries at first that
   grows as needed. When the first chunk cannot be recorded (the
   collection's own scratch array could not grow to its 1,150 objects) or
   the second (the hints could not grow past 2,048), the hints describe
   nothing or a prefix of generation 1, and the generation-1 collection
   walks the rest as without them: the same garbage, the same survivors in
   the same order, no error. */
enum { HINT_A = 1100, HINT_B = 1000, HINT_CYCLES = 50 };

static void hint_chunk(rcy_type_t *t, node_t **held, size_t *nheld, int n, node_t **doomed)
{
    for (int i = 0; i < n; i++) {
        node_t *x = node_new(t, (long)*nheld);
        CHECK(x != NULL);
        held[(*nheld)++] = x;
    }
    for (int i = 0; i < HINT_CYCLES; i++) {
        doomed[i] = node_new(t, -1);
        CHECK(doomed[i] != NULL);
        node_set_a(doomed[i], doomed[i]);
    }
}

TEST(test_young_collection_without_hints)
{
    for (int failing = -1; failing <= 1; failing++) {
        failalloc_t fa = {0};
        rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
        rcy_gc_disable(rt);
        rcy_type_t *t = node_type_new(rt, "Node");
        CHECK(t != NULL);
        static node_t *held[HINT_A + HINT_B];
        node_t *doomed[HINT_CYCLES];
        size_t nheld = 0;
        long failures = fa.failures;
        for (int chunk = 0; chunk < 2; chunk++) {
            hint_chunk(t, held, &nheld, chunk == 0 ? HINT_A : HINT_B, doomed);
            if (chunk == failing)
                fail_all(&fa);
            CHECK_EQ(rcy_gc_collect(rt, 0), 0);
            fail_none(&fa);
            for (int i = 0; i < HINT_CYCLES; i++)
                rcy_decref(OB(doomed[i])); /* garbage in generation 1 */
        }
        if (failing >= 0)
            CHECK(fa.failures > failures); /* an array could not grow */
        else
            CHECK_EQ(fa.failures, failures);
        /* Stale hints too: every third object of the first chunk dies. */
        size_t w = 0;
        for (size_t i = 0; i < nheld; i++) {
            if (i < HINT_A && i % 3 == 0)
                rcy_decref(OB(held[i]));
            else
                held[w++] = held[i];
        }
        nheld = w;
        CHECK_EQ(rcy_gc_collect(rt, 1), 2 * HINT_CYCLES);
        CHECK_EQ(rcy_last_error(rt), RCY_OK);
        rcy_objarray_t arr = {0};
        CHECK_EQ(rcy_gc_get_objects(rt, 2, &arr), 0);
        CHECK_EQ(arr.len, nheld);
        for (size_t i = 0; i < arr.len && i < nheld; i++)
            CHECK(arr.items[i] == OB(held[i]));
        rcy_objarray_release(&arr);
        for (size_t i = 0; i < nheld; i++)
            rcy_decref(OB(held[i]));
        failalloc_end(rt, &fa);
    }
}

/* ---- Failing each allocation of a scenario in turn ------------------- */

#define RING 10

/* Checks that a ring under construction is intact: nodes 0..n-1 exist,
   each links to the next (the last one to nothing yet), and each has one
   reference: ours for node 0, its predecessor's for the others. */
static void check_ring_prefix(rcy_runtime_t *rt, node_t **ring, int n, size_t extra_live)
{
    CHECK_EQ(rcy_runtime_live_objects(rt), (size_t)n + extra_live);
    for (int i = 0; i < n; i++) {
        CHECK_EQ(ring[i]->value, i);
        CHECK_EQ(rcy_getrefcount(OB(ring[i])), 1);
        CHECK(ring[i]->a == (i + 1 < n ? OB(ring[i + 1]) : NULL));
        CHECK(rcy_gc_is_tracked(OB(ring[i])));
    }
}

/* A small program that handles every allocation failure: creates a
   runtime (with automatic collection every few allocations), a type, a
   ring of nodes and a garbage cycle, an immortal, takes a census with
   get_objects, collects, and tears down. Returns true if it ran to the
   end. On every failure, the state is checked and the program unwinds. */
static bool scenario(failalloc_t *fa)
{
    rcy_config_t cfg;
    failalloc_config(&cfg, fa);
    cfg.threshold0 = 3;
    capture_t cap = {0};
    cfg.output = capture_output;
    cfg.output_arg = &cap;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        CHECK_EQ(fa->live, 0);
        return false;
    }
    bool done = false;
    node_t *ring[RING] = {0};
    rcy_object_t *immortal = NULL;
    int n = 0;
    rcy_type_t *t = node_type_new(rt, "Node");
    if (t == NULL) {
        CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
        goto out;
    }
    for (n = 0; n < RING; n++) {
        node_t *x = node_new(t, n);
        if (x == NULL) {
            CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
            check_ring_prefix(rt, ring, n, 0);
            goto out;
        }
        if (n > 0)
            node_set_a(ring[n - 1], x);
        ring[n] = x;
        if (n > 0)
            rcy_decref(OB(x)); /* the ring holds it; ring[n] is borrowed */
    }
    node_set_a(ring[RING - 1], ring[0]);

    /* A garbage cycle for the collector. */
    node_t *g1 = node_new(t, -1);
    if (g1 == NULL)
        goto out;
    node_t *g2 = node_new(t, -2);
    if (g2 == NULL) {
        rcy_decref(OB(g1));
        goto out;
    }
    node_set_a(g1, g2);
    node_set_a(g2, g1);
    rcy_decref(OB(g1));
    rcy_decref(OB(g2));

    immortal = rcy_new(t);
    if (immortal == NULL)
        goto out;
    if (rcy_immortalize(immortal) < 0) {
        CHECK_EQ(rcy_getrefcount(immortal), 1);
        rcy_decref(immortal);
        immortal = NULL;
        goto out;
    }

    rcy_objarray_t objs = {0};
    size_t before = rcy_runtime_live_objects(rt);
    if (rcy_gc_get_objects(rt, -1, &objs) < 0) {
        check_empty(&objs);
        CHECK_EQ(rcy_runtime_live_objects(rt), before);
        CHECK_EQ(rcy_getrefcount(OB(ring[0])), 2); /* ours and the ring's */
        goto out;
    }
    rcy_objarray_release(&objs);
    rcy_gc_collect(rt, 2);
    /* The ring (held through ring[0]) and the immortal are left. */
    CHECK_EQ(rcy_runtime_live_objects(rt), RING + 1);
    done = true;

out:
    if (ring[0] != NULL)
        rcy_decref(OB(ring[0])); /* frees a chain, or leaves a ring */
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), immortal != NULL ? 1 : 0);
    rcy_runtime_destroy(rt);
    CHECK_EQ(fa->live, 0);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
    return done;
}

TEST(test_fail_each_allocation_in_turn)
{
    for (int mode = 0; mode < 2; mode++) {
        long n;
        bool done = false;
        for (n = 1; !done && n < 1000; n++) {
            failalloc_t fa = {0};
            fa.fail_at = n;
            fa.fail_from = mode == 1;
            done = scenario(&fa);
            if (done)
                CHECK_EQ(fa.failures, 0);
            else
                CHECK(fa.failures >= 1);
        }
        CHECK(done);
        fprintf(stderr, "  mode %s: the scenario makes %ld allocations\n", mode ? "fail-from" : "fail-one", n - 2);
    }
}

/* ---- Weak maps ----------------------------------------------------------- */

/* A weak-map call that runs out of memory says so: RCY_ENOMEM, returned
   and recorded (not the "key not found" a lookup inside left behind), with
   the map unchanged; a call that succeeds records nothing. */
TEST(test_weakmap_fails_with_enomem)
{
    enum { N = 6 };
    failalloc_t fa = {0};
    rcy_runtime_t *rt = failalloc_runtime(&fa, NULL);
    rcy_object_t *cls = rcy_class_new(rt, "K", NULL);
    for (int weak_keys = 0; weak_keys < 2; weak_keys++) {
        rcy_object_t *d = weak_keys ? rcy_weakkeydict_new(rt) : rcy_weakvaluedict_new(rt);
        rcy_object_t *objs[N], *nums[N];
        for (int i = 0; i < N; i++) {
            objs[i] = rcy_instance_new(cls);
            nums[i] = rcy_int_new(rt, 1000000 + i);
        }
#define KEY(i) (weak_keys ? objs[i] : nums[i])
#define VALUE(i) (weak_keys ? nums[i] : objs[i])
        for (int i = 0; i < N - 1; i++)
            CHECK_EQ(rcy_weakmap_set(d, KEY(i), VALUE(i)), 0);
        /* The last entry: fail each of its set's allocations in turn (the
           identity, the weak reference, the growth of the tables). */
        int failures = 0;
        for (long k = 1; k < 100; k++) {
            fail_none(&fa);
            CHECK_EQ(rcy_gc_collect(rt, -1), RCY_EINVAL); /* a known last error */
            fail_next(&fa, k);
            int r = rcy_weakmap_set(d, KEY(N - 1), VALUE(N - 1));
            fail_none(&fa);
            if (r == 0) {
                CHECK_EQ(rcy_last_error(rt), RCY_EINVAL); /* untouched */
                break;
            }
            failures++;
            CHECK_EQ(r, RCY_ENOMEM);
            CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
            CHECK_EQ(rcy_weakmap_len(d), N - 1);
            CHECK(rcy_weakmap_get(d, KEY(N - 1)) == NULL);
            CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
        }
        CHECK(failures >= 1);
        CHECK_EQ(rcy_weakmap_len(d), N);
        /* Lookups of a weak-key map make an identity key, which may need
           memory: a failure is RCY_ENOMEM, never RCY_EKEY. */
        fail_all(&fa);
        rcy_object_t *got = rcy_weakmap_get(d, KEY(0));
        CHECK(got != NULL ? got == VALUE(0) : rcy_last_error(rt) == RCY_ENOMEM);
        rcy_xdecref(got);
        int r = rcy_weakmap_del(d, KEY(0));
        CHECK(r == 0 || r == RCY_ENOMEM);
        CHECK_EQ(rcy_weakmap_len(d), r == 0 ? N - 1 : N);
        fail_none(&fa);
        for (int i = 0; i < N; i++) {
            rcy_decref(objs[i]);
            rcy_decref(nums[i]);
        }
        CHECK_EQ(rcy_weakmap_len(d), 0);
        rcy_decref(d);
#undef KEY
#undef VALUE
    }
    rcy_decref(cls);
    failalloc_end(rt, &fa);
}

int main(void)
{
    RUN(test_runtime_new_fails);
    RUN(test_type_new_fails);
    RUN(test_new_fails_and_changes_nothing);
    RUN(test_new_var_size_limits);
    RUN(test_immortalize_fails);
    RUN(test_introspection_fails);
    RUN(test_weakmap_fails_with_enomem);
    RUN(test_young_collection_without_scratch_growth);
    RUN(test_young_collection_without_hints);
    RUN(test_fail_each_allocation_in_turn);
    return harness_summary();
}
