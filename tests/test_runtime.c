/* The runtime and type API: configuration, hooks, teardown (collection of
   cycles, the report of leaked objects), type validation, error strings,
   descriptions, immortal and static objects, the SETREF/CLEAR helpers,
   reference counts, tracking, and finalizers on refcount death
   (resurrection, once per container, every time for a non-container, and
   failures reported through the error hook). */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- An allocator that keeps a list of its blocks ---------------------- */

/* Teardown leaves leaked objects allocated (it reports them instead of
   freeing memory that someone still points to). To test that in-process,
   and to keep LeakSanitizer quiet about leaks that are the point of the
   test, the runtime allocates through this hook, which links every block
   into a list: the test counts the blocks left after teardown and frees
   them itself. */
typedef union block_u {
    struct {
        union block_u *prev, *next;
    } link;
    max_align_t align;
} block_t;

typedef struct tracker_s {
    block_t head; /* sentinel of a circular list */
    long blocks;
} tracker_t;

static void tracker_init(tracker_t *tr)
{
    tr->head.link.prev = tr->head.link.next = &tr->head;
    tr->blocks = 0;
}

static void tracker_link(tracker_t *tr, block_t *b)
{
    b->link.next = tr->head.link.next;
    b->link.prev = &tr->head;
    tr->head.link.next->link.prev = b;
    tr->head.link.next = b;
    tr->blocks++;
}

static void tracker_unlink(tracker_t *tr, block_t *b)
{
    b->link.prev->link.next = b->link.next;
    b->link.next->link.prev = b->link.prev;
    tr->blocks--;
}

static void *tracker_malloc(void *ctx, size_t size)
{
    block_t *b = malloc(sizeof(block_t) + size);
    if (b == NULL)
        return NULL;
    tracker_link(ctx, b);
    return b + 1;
}

static void *tracker_realloc(void *ctx, void *ptr, size_t size)
{
    if (ptr == NULL)
        return tracker_malloc(ctx, size);
    block_t *b = (block_t *)ptr - 1;
    tracker_unlink(ctx, b);
    block_t *nb = realloc(b, sizeof(block_t) + size);
    if (nb == NULL) {
        tracker_link(ctx, b);
        return NULL;
    }
    tracker_link(ctx, nb);
    return nb + 1;
}

static void tracker_free(void *ctx, void *ptr)
{
    if (ptr == NULL)
        return;
    block_t *b = (block_t *)ptr - 1;
    tracker_unlink(ctx, b);
    free(b);
}

/* Frees whatever is left; returns how many blocks that was. */
static long tracker_free_all(tracker_t *tr)
{
    long n = 0;
    while (tr->head.link.next != &tr->head) {
        block_t *b = tr->head.link.next;
        tracker_unlink(tr, b);
        free(b);
        n++;
    }
    return n;
}

static rcy_runtime_t *tracked_runtime(tracker_t *tr, capture_t *cap)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    tracker_init(tr);
    cfg.allocator.malloc_fn = tracker_malloc;
    cfg.allocator.realloc_fn = tracker_realloc;
    cfg.allocator.free_fn = tracker_free;
    cfg.allocator.ctx = tr;
    cfg.output = capture_output;
    cfg.output_arg = cap;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "cannot create a runtime\n");
        exit(2);
    }
    return rt;
}

/* ---- Types used below -------------------------------------------------- */

/* A log of deallocations, in memory outside any runtime. */
#define LOG_MAX 64
static long dealloc_log[LOG_MAX];
static int dealloc_count;

static void log_reset(void)
{
    dealloc_count = 0;
    memset(dealloc_log, 0, sizeof dealloc_log);
}

/* A container that logs its value when it is deallocated. */
static void logged_dealloc(rcy_object_t *self)
{
    if (dealloc_count < LOG_MAX)
        dealloc_log[dealloc_count] = ((node_t *)self)->value;
    dealloc_count++;
    node_clear(self);
}

static rcy_type_t *logged_type_new(rcy_runtime_t *rt, const char *name)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = logged_dealloc;
    return rcy_type_new(rt, &spec);
}

/* A non-container with a value, logging its deallocation too. */
typedef struct leaf_s {
    rcy_object_t ob;
    long value;
} leaf_t;

static void leaf_dealloc(rcy_object_t *self)
{
    if (dealloc_count < LOG_MAX)
        dealloc_log[dealloc_count] = ((leaf_t *)self)->value;
    dealloc_count++;
}

static rcy_type_t *leaf_type_new(rcy_runtime_t *rt, const char *name)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(leaf_t);
    spec.dealloc = leaf_dealloc;
    return rcy_type_new(rt, &spec);
}

static leaf_t *leaf_new(rcy_type_t *t, long value)
{
    leaf_t *l = (leaf_t *)rcy_new(t);
    if (l != NULL)
        l->value = value;
    return l;
}

/* ---- Configuration ----------------------------------------------------- */

TEST(test_config_defaults)
{
    rcy_config_t cfg;
    memset(&cfg, 0x5A, sizeof cfg);
    rcy_config_init(&cfg);
    CHECK_EQ(cfg.threshold0, 700);
    CHECK_EQ(cfg.threshold1, 10);
    CHECK_EQ(cfg.threshold2, 10);
    CHECK_EQ(cfg.debug_flags, 0);
    CHECK(cfg.output == NULL && cfg.output_arg == NULL);
    CHECK(cfg.error == NULL && cfg.error_arg == NULL);
    CHECK(cfg.allocator.malloc_fn == NULL && cfg.allocator.realloc_fn == NULL && cfg.allocator.free_fn == NULL);
    CHECK_EQ(cfg.poison, -1);
    CHECK_EQ(cfg.quarantine, 1024);
    CHECK_EQ(cfg.huge_pages, -1);

    /* A runtime made from NULL has the defaults. */
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    CHECK(rt != NULL);
    int th[RCY_GC_GENERATIONS];
    CHECK_EQ(rcy_gc_get_threshold(rt, th), 0);
    CHECK_EQ(th[0], 700);
    CHECK_EQ(th[1], 10);
    CHECK_EQ(th[2], 10);
    CHECK_EQ(rcy_gc_isenabled(rt), 1);
    if (getenv("RCY_GC_DEBUG") == NULL)
        CHECK_EQ(rcy_gc_get_debug(rt), 0);
    CHECK_EQ(rcy_last_error(rt), 0);
    int counts[RCY_GC_GENERATIONS];
    CHECK_EQ(rcy_gc_get_count(rt, counts), 0);
    CHECK_EQ(counts[0], 0);
    CHECK_EQ(counts[1], 0);
    CHECK_EQ(counts[2], 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    CHECK_EQ(rcy_runtime_live_bytes(rt), 0);

    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", RCY_VERSION_MAJOR, RCY_VERSION_MINOR, RCY_VERSION_PATCH);
    CHECK(strcmp(rcy_version(), version) == 0);
    test_runtime_end(rt);

    /* NULL runtimes are refused, not dereferenced. */
    CHECK_EQ(rcy_last_error(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_runtime_live_objects(NULL), 0);
    rcy_runtime_destroy(NULL);
}

/* The versioned structs (recycle.h, "Versioned structs"): each init function
   sets the size field, and every call refuses a struct whose size field is
   not this version's sizeof with RCY_EINVAL, writing nothing. */
TEST(test_versioned_structs)
{
    CHECK_EQ(RCY_VERSION_NUMBER, RCY_VERSION_MAJOR * 10000 + RCY_VERSION_MINOR * 100 + RCY_VERSION_PATCH);
    CHECK_STR_CONTAINS(rcy_strerror(RCY_EINVAL), "size field");

    /* rcy_config_t: a size rcy_config_init did not set makes no runtime. */
    rcy_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK(rcy_runtime_new(&cfg) == NULL); /* zeroed, as `rcy_config_t cfg = {0}` */
    rcy_config_init(&cfg);
    CHECK_EQ(cfg.size, sizeof(rcy_config_t));
    size_t wrong[] = {0, sizeof(rcy_config_t) - sizeof(size_t), sizeof(rcy_config_t) + sizeof(size_t), 1};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        cfg.size = wrong[i];
        CHECK(rcy_runtime_new(&cfg) == NULL);
    }
    cfg.size = sizeof cfg;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);

    /* rcy_gc_stats_t: every entry is checked before any is written. */
    rcy_gc_stats_t st[RCY_GC_GENERATIONS];
    memset(st, 0x5A, sizeof st);
    rcy_gc_stats_init(st);
    for (int g = 0; g < RCY_GC_GENERATIONS; g++) {
        CHECK_EQ(st[g].size, sizeof(rcy_gc_stats_t));
        CHECK_EQ(st[g].collections, 0);
    }
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    st[2].size = 0;
    st[0].collections = -7;
    CHECK_EQ(rcy_gc_get_stats(rt, st), RCY_EINVAL);
    CHECK_EQ(st[0].collections, -7);
    st[2].size = sizeof st[2];
    CHECK_EQ(rcy_gc_get_stats(rt, st), 0);
    CHECK_EQ(st[0].collections, 1);
    for (int g = 0; g < RCY_GC_GENERATIONS; g++)
        CHECK_EQ(st[g].size, sizeof(rcy_gc_stats_t));

    /* The memory figures: refused and untouched, then filled. */
    rcy_process_memory_t pm;
    memset(&pm, 0, sizeof pm);
    pm.rss = 12345;
    CHECK_EQ(rcy_process_memory(&pm), RCY_EINVAL);
    CHECK_EQ(pm.rss, 12345);
    rcy_process_memory_init(&pm);
    CHECK_EQ(pm.size, sizeof pm);
    CHECK_EQ(pm.rss, 0);
    int r = rcy_process_memory(&pm);
    CHECK(r == 0 || r == RCY_ESTATE);
    CHECK_EQ(pm.size, sizeof pm);
    rcy_runtime_memory_t rm;
    memset(&rm, 0, sizeof rm);
    rm.objects = 777;
    rm.size = sizeof rm + 1;
    CHECK_EQ(rcy_runtime_memory(rt, &rm), RCY_EINVAL);
    CHECK_EQ(rm.objects, 777);
    rcy_runtime_memory_init(&rm);
    CHECK_EQ(rcy_runtime_memory(rt, &rm), 0);
    CHECK_EQ(rm.size, sizeof rm);

    /* The tools' options (NULL still means the defaults). */
    rcy_growth_t *g = rcy_growth_new(rt);
    CHECK(g != NULL);
    rcy_growth_options_t go;
    rcy_growth_options_init(&go);
    CHECK_EQ(go.size, sizeof go);
    go.collect = 0;
    go.size = 0;
    rcy_growth_report_t report;
    CHECK_EQ(rcy_growth(g, &go, &report), RCY_EINVAL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(report.len, 0);
    go.size = sizeof go;
    CHECK_EQ(rcy_growth(g, &go, &report), 0);
    rcy_growth_report_release(&report);
    rcy_growth_free(g);

    rcy_object_t *list = rcy_list_new(rt);
    CHECK(list != NULL);
    FILE *sink = tmpfile();
    CHECK(sink != NULL);
    rcy_graph_options_t gopts;
    rcy_graph_options_init(&gopts);
    CHECK_EQ(gopts.size, sizeof gopts);
    gopts.output = sink;
    gopts.size = sizeof gopts - 1;
    CHECK_EQ(rcy_show_refs(&list, 1, &gopts), RCY_EINVAL);
    CHECK_EQ(rcy_show_backrefs(&list, 1, &gopts), RCY_EINVAL);
    rcy_objarray_t chain = {0};
    chain.items = &list;
    chain.len = 1;
    CHECK_EQ(rcy_show_chain(&chain, 1, 1, &gopts), RCY_EINVAL);
    CHECK_EQ(ftell(sink), 0);
    gopts.size = sizeof gopts;
    CHECK_EQ(rcy_show_refs(&list, 1, &gopts), 0);
    CHECK(ftell(sink) > 0);
    fclose(sink);
    rcy_decref(list);
    test_runtime_end(rt);
}

static void *dummy_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}
static void *dummy_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}
static void dummy_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

TEST(test_invalid_configs)
{
    rcy_config_t cfg;
    for (int which = 0; which < 3; which++) {
        rcy_config_init(&cfg);
        if (which == 0)
            cfg.threshold0 = -1;
        else if (which == 1)
            cfg.threshold1 = -1;
        else
            cfg.threshold2 = -5;
        CHECK(rcy_runtime_new(&cfg) == NULL);
    }
    /* Debug flags that rcy_gc_set_debug would refuse are refused here too
       (regression: the config accepted 8, which is no flag). */
    int bad_flags[] = {8, 16, 64, -1, RCY_DEBUG_LEAK | 8};
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        rcy_config_init(&cfg);
        cfg.debug_flags = bad_flags[i];
        CHECK(rcy_runtime_new(&cfg) == NULL);
    }
    rcy_config_init(&cfg);
    cfg.debug_flags = RCY_DEBUG_LEAK | RCY_DEBUG_STATS;
    rcy_runtime_t *ok = rcy_runtime_new(&cfg);
    CHECK(ok != NULL);
    CHECK_EQ(rcy_gc_get_debug(ok), RCY_DEBUG_LEAK | RCY_DEBUG_STATS);
    rcy_runtime_destroy(ok);
    /* A partial allocator: every combination of one or two of the three. */
    for (int mask = 1; mask < 7; mask++) {
        rcy_config_init(&cfg);
        cfg.allocator.malloc_fn = (mask & 1) ? dummy_malloc : NULL;
        cfg.allocator.realloc_fn = (mask & 2) ? dummy_realloc : NULL;
        cfg.allocator.free_fn = (mask & 4) ? dummy_free : NULL;
        CHECK(rcy_runtime_new(&cfg) == NULL);
    }
    /* All three is fine. */
    rcy_config_init(&cfg);
    cfg.allocator.malloc_fn = dummy_malloc;
    cfg.allocator.realloc_fn = dummy_realloc;
    cfg.allocator.free_fn = dummy_free;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);
    test_runtime_end(rt);

    /* threshold0 == 0 is valid and turns automatic collection off. */
    rcy_config_init(&cfg);
    cfg.threshold0 = 0;
    rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_gc_stats_t stats[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(stats);
    node_t *nodes[1000];
    for (int i = 0; i < 1000; i++)
        nodes[i] = node_new(t, i);
    rcy_gc_get_stats(rt, stats);
    int counts[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, counts);
    if (!HARNESS_GC_STRESS) {
        CHECK_EQ(stats[0].collections, 0);
        CHECK_EQ(counts[0], 1000);
    }
    for (int i = 0; i < 1000; i++)
        rcy_decref(OB(nodes[i]));
    rcy_gc_get_count(rt, counts);
    CHECK_EQ(counts[0], 0); /* deallocations count down */
    test_runtime_end(rt);
}

/* huge_pages (rcy_config_t): -1, 0 and 1 only. With 1, a heap that grows
   past the first 16 MiB of arenas into huge-page arenas (in builds with
   pools; elsewhere the switch changes nothing) allocates, collects and
   tears down as any other: two-node cycles over some 40 MB, dropped and
   found by one collection. Whether the kernel backs the arenas with huge
   pages is its choice (bench/ measures it), so it is not asserted here. */
TEST(test_huge_pages)
{
    rcy_config_t cfg;
    int bad[] = {2, -2, 100};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcy_config_init(&cfg);
        cfg.huge_pages = bad[i];
        CHECK(rcy_runtime_new(&cfg) == NULL);
    }
    for (int mode = 0; mode < 2; mode++) {
        rcy_config_init(&cfg);
        cfg.huge_pages = mode;
        cfg.threshold0 = 0; /* one collection, below */
        rcy_runtime_t *rt = rcy_runtime_new(&cfg);
        CHECK(rt != NULL);
        rcy_type_t *t = node_type_new(rt, "Node");
        /* 40 MB only where there are pools (free lists on) to grow past
           16 MiB of arenas; without them (the sanitizer and Valgrind
           builds) the switch changes nothing and the cycles are malloc's
           blocks: 3,500 pairs in the Valgrind layer (RCY_TEST_SCALE). */
        long pairs = HARNESS_GC_STRESS ? 2000
                     : rcy_freelists_enabled(rt) ? 350000
                                                 : harness_scaled(350000, 3500);
        for (long i = 0; i < pairs; i++) {
            node_t *x = node_new(t, i), *y = node_new(t, i);
            RCY_XSETREF(x->a, OB(y));
            RCY_XSETREF(y->a, OB(x));
            rcy_decref(OB(x));
            rcy_decref(OB(y));
        }
        /* The GC-stress build collects on every allocation, thresholds or
           not: there only the cycles made since the last one are left. */
        size_t live = rcy_runtime_live_objects(rt);
        if (!HARNESS_GC_STRESS)
            CHECK_EQ(live, (size_t)(2 * pairs));
        CHECK(live > 0 && live % 2 == 0);
        CHECK_EQ(rcy_gc_collect(rt, 2), (intptr_t)live);
        CHECK_EQ(rcy_runtime_live_objects(rt), 0);
        test_runtime_end(rt);
    }
}

/* ---- Hooks ------------------------------------------------------------- */

TEST(test_output_hook_receives_teardown_output)
{
    capture_t cap = {0};
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = capture_output;
    cfg.output_arg = &cap;
    cfg.debug_flags = RCY_DEBUG_STATS;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *x = node_new(t, 1), *y = node_new(t, 2);
    node_set_a(x, y);
    node_set_a(y, x);
    rcy_decref(OB(x));
    rcy_decref(OB(y));
    rcy_runtime_print(rt, "hello from the test\n");
    CHECK_STR_CONTAINS(cap.text, "hello from the test\n");
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    if (getenv("RCY_GC_DEBUG") == NULL) {
        capture_reset(&cap);
        rcy_runtime_destroy(rt); /* collects the cycle, printing statistics */
        CHECK_STR_CONTAINS(cap.text, "gc: collecting generation 2...\n");
        CHECK_STR_CONTAINS(cap.text, "gc: done, 2 unreachable, 0 uncollectable");
        CHECK(strstr(cap.text, "still alive") == NULL);
    } else {
        rcy_runtime_destroy(rt);
    }
    capture_free(&cap);

    /* RCY_GC_DEBUG overrides the configured flags. */
    const char *saved = getenv("RCY_GC_DEBUG");
    char *copy = saved ? strdup(saved) : NULL;
    setenv("RCY_GC_DEBUG", "2", 1);
    rcy_config_init(&cfg);
    rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_COLLECTABLE);
    rcy_runtime_destroy(rt);
    if (copy != NULL) {
        setenv("RCY_GC_DEBUG", copy, 1);
        free(copy);
    } else {
        unsetenv("RCY_GC_DEBUG");
    }
}

TEST(test_teardown_reports_leaks)
{
    tracker_t tr;
    capture_t cap = {0};
    rcy_runtime_t *rt = tracked_runtime(&tr, &cap);
    rcy_type_t *alpha = node_type_new(rt, "Alpha");
    rcy_type_t *beta = leaf_type_new(rt, "Beta");
    rcy_type_t *gamma = node_type_new(rt, "Gamma");

    /* Leaked: a1 (held by this C variable) and a2, which a1 holds; b1. */
    node_t *a1 = node_new(alpha, 1), *a2 = node_new(alpha, 2);
    node_set_a(a1, a2);
    rcy_decref(OB(a2));
    leaf_t *b1 = leaf_new(beta, 3);
    /* Not leaked: a garbage cycle of Gammas, which teardown collects. */
    node_t *g1 = node_new(gamma, 4), *g2 = node_new(gamma, 5);
    node_set_a(g1, g2);
    node_set_a(g2, g1);
    rcy_decref(OB(g1));
    rcy_decref(OB(g2));
    long blocks_before = tr.blocks;
    log_reset();

    rcy_runtime_destroy(rt); /* does not abort */

    CHECK_STR_CONTAINS(cap.text, "3 objects still alive at runtime teardown");
    CHECK_STR_CONTAINS(cap.text, "recycle:   Alpha: 2 (");
    CHECK_STR_CONTAINS(cap.text, "recycle:   Beta: 1 (");
    CHECK(cap.text != NULL && strstr(cap.text, "Gamma") == NULL);
    /* Types are listed oldest first. */
    CHECK(cap.text != NULL && strstr(cap.text, "Alpha:") < strstr(cap.text, "Beta:"));
    CHECK_EQ(dealloc_count, 0); /* Beta's dealloc never ran */
    /* Exactly the three leaked objects are left; the runtime freed all the
       rest (itself, its types, the collected cycle). */
    CHECK(blocks_before > 3);
    CHECK_EQ(tracker_free_all(&tr), 3);
    (void)a1;
    (void)b1;
    capture_free(&cap);

    /* One leaked object: singular wording. */
    rt = tracked_runtime(&tr, &cap);
    rcy_type_t *t = leaf_type_new(rt, "Lonely");
    leaf_t *l = leaf_new(t, 1);
    (void)l;
    rcy_runtime_destroy(rt);
    CHECK_STR_CONTAINS(cap.text, "1 object still alive at runtime teardown");
    CHECK_STR_CONTAINS(cap.text, "Lonely: 1 (");
    CHECK_EQ(tracker_free_all(&tr), 1);
    capture_free(&cap);
}

TEST(test_teardown_collects_cycles)
{
    tracker_t tr;
    capture_t cap = {0};
    rcy_runtime_t *rt = tracked_runtime(&tr, &cap);
    rcy_type_t *t = logged_type_new(rt, "Ring");
    log_reset();
    /* A ring of three and a node that refers to itself. */
    node_t *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = node_new(t, i);
    for (int i = 0; i < 3; i++)
        node_set_a(r[i], r[(i + 1) % 3]);
    node_t *self = node_new(t, 3);
    node_set_a(self, self);
    for (int i = 0; i < 3; i++)
        rcy_decref(OB(r[i]));
    rcy_decref(OB(self));
    CHECK_EQ(rcy_runtime_live_objects(rt), 4);
    CHECK_EQ(dealloc_count, 0);

    rcy_runtime_destroy(rt); /* no explicit collection before */
    CHECK_EQ(dealloc_count, 4);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    CHECK_EQ(tr.blocks, 0); /* the live count reached 0: nothing is left */
    CHECK_EQ(tracker_free_all(&tr), 0);
    capture_free(&cap);
}

/* ---- Types ------------------------------------------------------------- */

static int dummy_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static int dummy_clear(rcy_object_t *self)
{
    (void)self;
    return 0;
}

/* Makes rcy_last_error(rt) something other than RCY_EINVAL. */
static void set_other_error(rcy_runtime_t *rt, rcy_object_t *non_container)
{
    CHECK_EQ(rcy_gc_track(non_container), RCY_ETYPE);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
}

/* Counts the runtime's allocations, to show a refused call made nothing. */
static void *counting_malloc(void *ctx, size_t size)
{
    ++*(size_t *)ctx;
    return malloc(size);
}
static void *counting_realloc(void *ctx, void *ptr, size_t size)
{
    ++*(size_t *)ctx;
    return realloc(ptr, size);
}
static void counting_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/* The specs have no size field: rcy_type_new and rcy_class_new are macros
   passing the caller's sizeof to rcy_type_new_sized / rcy_class_new_sized,
   which refuse another size with RCY_EINVAL before reading the spec and
   create nothing (recycle.h, "Versioned structs"). */
TEST(test_versioned_specs)
{
    size_t allocs = 0;
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.allocator.malloc_fn = counting_malloc;
    cfg.allocator.realloc_fn = counting_realloc;
    cfg.allocator.free_fn = counting_free;
    cfg.allocator.ctx = &allocs;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);
    rcy_object_t *leaf = rcy_int_new(rt, 7); /* for set_other_error */
    CHECK(leaf != NULL);

    rcy_type_spec_t spec = {0};
    spec.name = "Sized";
    spec.basicsize = sizeof(rcy_object_t);
    const size_t wrong[] = {0, 1, sizeof spec - sizeof(void *), sizeof spec + sizeof(void *), SIZE_MAX};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        set_other_error(rt, leaf);
        size_t before = allocs;
        CHECK(rcy_type_new_sized(rt, &spec, wrong[i]) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
        CHECK_EQ(allocs, before);
    }
    /* Refused before a field is read: an older, shorter spec in a block of
       exactly its size (ASan reports a read past it). */
    size_t shorter = offsetof(rcy_type_spec_t, call);
    void *old = malloc(shorter);
    CHECK(old != NULL);
    memcpy(old, &spec, shorter);
    CHECK(rcy_type_new_sized(rt, (const rcy_type_spec_t *)old, shorter) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    free(old);

    /* The macro passes this header's size; its argument is evaluated once. */
    rcy_type_spec_t specs[2] = {spec, spec};
    specs[1].name = "Second";
    int next = 0;
    rcy_type_t *t = rcy_type_new(rt, &specs[next++]);
    CHECK(t != NULL);
    CHECK_EQ(next, 1);
    CHECK(strcmp(rcy_type_name(t), "Sized") == 0);
    /* The address is taken through the sized name. */
    rcy_type_t *(*type_new)(rcy_runtime_t *, const rcy_type_spec_t *, size_t) = rcy_type_new_sized;
    t = type_new(rt, &specs[1], sizeof specs[1]);
    CHECK(t != NULL);
    CHECK(strcmp(rcy_type_name(t), "Second") == 0);
    rcy_object_t *o = rcy_new(t);
    CHECK(o != NULL);
    rcy_decref(o);

    /* Classes: a wrong size is refused with or without a spec, before the
       class object or its instance type exists. */
    rcy_class_spec_t cspec = {0};
    cspec.arg = &allocs;
    const size_t cwrong[] = {0, 1, sizeof cspec - sizeof(void *), sizeof cspec + 1, SIZE_MAX};
    size_t live = rcy_runtime_live_objects(rt);
    for (size_t i = 0; i < sizeof cwrong / sizeof cwrong[0]; i++) {
        for (int with_spec = 0; with_spec < 2; with_spec++) {
            set_other_error(rt, leaf);
            size_t before = allocs;
            CHECK(rcy_class_new_sized(rt, "Refused", with_spec ? &cspec : NULL, cwrong[i]) == NULL);
            CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
            CHECK_EQ(allocs, before);
            CHECK_EQ(rcy_runtime_live_objects(rt), live);
        }
    }
    const char *names[2] = {"WithSpec", "NoSpec"};
    int n = 0;
    rcy_object_t *a = rcy_class_new(rt, names[n++], &cspec);
    CHECK(a != NULL);
    CHECK_EQ(n, 1);
    rcy_object_t *b = rcy_class_new(rt, names[n++], NULL);
    CHECK(b != NULL);
    CHECK_EQ(n, 2);
    rcy_object_t *(*class_new)(rcy_runtime_t *, const char *, const rcy_class_spec_t *, size_t) =
        rcy_class_new_sized;
    rcy_object_t *c = class_new(rt, "ByPointer", &cspec, sizeof cspec);
    CHECK(c != NULL);
    rcy_object_t *inst = rcy_instance_new(a);
    CHECK(inst != NULL);
    CHECK(rcy_instance_class(inst) == a);
    rcy_decref(inst);
    rcy_decref(c);
    rcy_decref(b);
    rcy_decref(a);
    rcy_decref(leaf);
    test_runtime_end(rt);
}

TEST(test_type_new_validation)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *leaf = leaf_type_new(rt, "Leaf");
    leaf_t *l = leaf_new(leaf, 0);
    rcy_type_spec_t good = {0};
    good.name = "Good";
    good.basicsize = sizeof(node_t);
    good.flags = RCY_TPFLAGS_GC;
    good.traverse = dummy_traverse;
    good.clear = dummy_clear;

    rcy_type_spec_t bad[16];
    int n = 0;
    bad[n] = good, bad[n++].name = NULL;
    bad[n] = good, bad[n++].name = "";
    bad[n] = good, bad[n++].basicsize = sizeof(rcy_object_t) - 1;
    bad[n] = good, bad[n++].basicsize = 0;
    bad[n] = good, bad[n++].traverse = NULL;
    bad[n] = good, bad[n++].clear = NULL;
    bad[n] = good, bad[n++].flags = 1u << 7; /* unknown flag */
    /* A fixed part no allocation could hold (its block size would overflow). */
    bad[n] = good, bad[n++].basicsize = SIZE_MAX / 2 + 1;
    bad[n] = good, bad[n++].basicsize = SIZE_MAX;
    /* A variable-size type whose basicsize does not cover rcy_varobject_t. */
    bad[n] = good, bad[n].itemsize = sizeof(void *), bad[n++].basicsize = sizeof(rcy_object_t);
    /* Weak-list offsets: inside the header, past the end, misaligned. */
    bad[n] = good, bad[n++].weaklistoffset = sizeof(intptr_t);
    bad[n] = good, bad[n++].weaklistoffset = sizeof(node_t);
    bad[n] = good, bad[n++].weaklistoffset = offsetof(node_t, a) + 1;
    for (int i = 0; i < n; i++) {
        set_other_error(rt, OB(l));
        CHECK(rcy_type_new(rt, &bad[i]) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
        if (rcy_last_error(rt) != RCY_EINVAL)
            fprintf(stderr, "  (bad spec #%d)\n", i);
    }
    set_other_error(rt, OB(l));
    CHECK(rcy_type_new(rt, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_type_new(NULL, &good) == NULL);

    /* Valid edge cases. */
    rcy_type_t *t = rcy_type_new(rt, &good);
    CHECK(t != NULL);
    CHECK(strcmp(rcy_type_name(t), "Good") == 0);
    CHECK(rcy_type_runtime(t) == rt);
    CHECK(rcy_type_is_gc(t));
    CHECK(!rcy_type_is_gc(leaf));
    rcy_type_spec_t spec = {0};
    spec.name = "Bare"; /* no slots at all, only the header */
    spec.basicsize = sizeof(rcy_object_t);
    rcy_type_t *bare = rcy_type_new(rt, &spec);
    CHECK(bare != NULL);
    rcy_object_t *o = rcy_new(bare);
    CHECK(o != NULL);
    CHECK(rcy_type(o) == bare);
    CHECK(rcy_object_runtime(o) == rt);
    CHECK_EQ(rcy_type_live_objects(bare), 1);
    CHECK_EQ(rcy_type_live_bytes(bare), sizeof(rcy_object_t));
    rcy_decref(o);
    CHECK_EQ(rcy_type_live_bytes(bare), 0);
    rcy_type_spec_t weak = good;
    weak.name = "Weakable";
    weak.weaklistoffset = offsetof(node_t, b);
    CHECK(rcy_type_new(rt, &weak) != NULL);
    /* The name is copied. */
    char name[8] = "Temp";
    spec.name = name;
    rcy_type_t *temp = rcy_type_new(rt, &spec);
    name[0] = 'X';
    CHECK(strcmp(rcy_type_name(temp), "Temp") == 0);

    rcy_decref(OB(l));
    test_runtime_end(rt);
}

TEST(test_strerror)
{
    static const struct {
        int code;
        const char *text;
    } known[] = {
        {RCY_OK, "success"},
        {RCY_ENOMEM, "out of memory"},
        {RCY_EINVAL, "invalid argument (NULL, out of range, or a struct whose size field was not set by its init "
                     "function, such as rcy_config_init, for this version of recycle.h)"},
        {RCY_ETYPE, "wrong object type"},
        {RCY_EINDEX, "index out of range"},
        {RCY_EKEY, "key not found"},
        {RCY_EHASH, "unhashable object"},
        {RCY_ESTATE, "operation not allowed in the current state"},
        {RCY_ECALLBACK, "a callback reported an error"},
        {RCY_ERUNTIME, "the objects belong to different runtimes"},
        {RCY_EDEPTH, "nesting too deep for the stack"},
        {RCY_ECORRUPT, "heap validation found an inconsistency (reported through the output hook)"},
    };
    size_t n = sizeof known / sizeof known[0];
    for (size_t i = 0; i < n; i++) {
        CHECK(rcy_strerror(known[i].code) != NULL);
        CHECK(strcmp(rcy_strerror(known[i].code), known[i].text) == 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(rcy_strerror(known[i].code), rcy_strerror(known[j].code)) != 0);
    }
    CHECK(strcmp(rcy_strerror(-99), "unknown error") == 0);
    CHECK(strcmp(rcy_strerror(5), "unknown error") == 0);
}

/* ---- Descriptions ------------------------------------------------------ */

static int point_describe(rcy_object_t *self, char *buf, size_t size)
{
    leaf_t *p = (leaf_t *)self;
    return snprintf(buf, size, "Point(%ld)", p->value);
}

TEST(test_describe)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Widget");
    node_t *w = node_new(t, 0);
    char expected[64], buf[64];
    snprintf(expected, sizeof expected, "<Widget %p>", (void *)w);
    CHECK_EQ(rcy_describe(OB(w), buf, sizeof buf), strlen(expected));
    CHECK(strcmp(buf, expected) == 0);
    CHECK(strncmp(buf, "<Widget 0x", 10) == 0);
    /* Truncated to size - 1 bytes; the full length is returned. */
    char small[5];
    CHECK_EQ(rcy_describe(OB(w), small, sizeof small), strlen(expected));
    CHECK(strcmp(small, "<Wid") == 0);
    CHECK_EQ(rcy_describe(OB(w), buf, 0), 0);
    CHECK_EQ(rcy_describe(NULL, buf, sizeof buf), 4);
    CHECK(strcmp(buf, "NULL") == 0);

    /* A describe slot. */
    rcy_type_spec_t spec = {0};
    spec.name = "Point";
    spec.basicsize = sizeof(leaf_t);
    spec.describe = point_describe;
    rcy_type_t *pt = rcy_type_new(rt, &spec);
    leaf_t *p = leaf_new(pt, 42);
    CHECK_EQ(rcy_describe(OB(p), buf, sizeof buf), 9);
    CHECK(strcmp(buf, "Point(42)") == 0);
    CHECK_EQ(rcy_describe(OB(p), small, sizeof small), 9);
    CHECK(strcmp(small, "Poin") == 0);

    rcy_decref(OB(p));
    rcy_decref(OB(w));
    test_runtime_end(rt);
}

/* ---- Allocation errors ------------------------------------------------- */

TEST(test_new_on_wrong_kind_of_type)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Var";
    spec.basicsize = sizeof(rcy_varobject_t);
    spec.itemsize = 1;
    rcy_type_t *var = rcy_type_new(rt, &spec);
    CHECK(var != NULL);
    rcy_type_t *fixed = leaf_type_new(rt, "Fixed");
    CHECK(rcy_new(var) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    rcy_object_t *ok = rcy_new(fixed); /* success leaves the last error alone */
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    set_other_error(rt, ok);
    CHECK(rcy_new_var(fixed, 1) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_new(NULL) == NULL);
    CHECK(rcy_new_var(NULL, 0) == NULL);
    /* A var object of 10 one-byte items. */
    rcy_varobject_t *v = (rcy_varobject_t *)rcy_new_var(var, 10);
    CHECK(v != NULL);
    CHECK_EQ(v->size, 10);
    CHECK_EQ(rcy_type_live_bytes(var), sizeof(rcy_varobject_t) + 10);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    rcy_decref(OB(v));
    rcy_decref(ok);
    test_runtime_end(rt);
}

/* ---- Immortal and static objects --------------------------------------- */

TEST(test_immortal_objects)
{
    tracker_t tr;
    capture_t cap = {0};
    rcy_runtime_t *rt = tracked_runtime(&tr, &cap);
    rcy_type_t *cont = logged_type_new(rt, "Singleton");
    rcy_type_t *leaf = leaf_type_new(rt, "Atom");
    log_reset();

    node_t *a = node_new(cont, 1);
    leaf_t *b = leaf_new(leaf, 2);
    node_t *mortal = node_new(cont, 3); /* held only by a, once immortal */
    node_set_a(a, mortal);
    rcy_decref(OB(mortal));
    CHECK(rcy_gc_is_tracked(OB(a)));

    CHECK_EQ(rcy_immortalize(OB(a)), 0);
    CHECK_EQ(rcy_immortalize(OB(b)), 0);
    CHECK_EQ(rcy_getrefcount(OB(a)), RCY_REFCNT_IMMORTAL);
    CHECK_EQ(rcy_getrefcount(OB(b)), RCY_REFCNT_IMMORTAL);
    CHECK(rcy_is_immortal(OB(a)) && rcy_is_immortal(OB(b)));
    CHECK(!rcy_is_immortal(OB(mortal)));
    CHECK(!rcy_gc_is_tracked(OB(a))); /* the collector could never free it */
    CHECK(rcy_gc_is_tracked(OB(mortal)));
    CHECK_EQ(rcy_gc_track(OB(a)), RCY_ESTATE);
    CHECK(!rcy_gc_is_tracked(OB(a)));

    /* incref and decref do nothing, however many. */
    for (int i = 0; i < 5; i++) {
        rcy_incref(OB(a));
        rcy_decref(OB(b));
        rcy_decref(OB(b));
        rcy_decref(OB(a));
        rcy_decref(OB(a));
    }
    CHECK_EQ(rcy_getrefcount(OB(a)), RCY_REFCNT_IMMORTAL);
    CHECK_EQ(rcy_getrefcount(OB(b)), RCY_REFCNT_IMMORTAL);
    CHECK(rcy_newref(OB(a)) == OB(a));
    CHECK_EQ(rcy_getrefcount(OB(a)), RCY_REFCNT_IMMORTAL);

    /* Errors: twice, NULL. */
    CHECK_EQ(rcy_immortalize(OB(a)), RCY_EINVAL);
    CHECK_EQ(rcy_immortalize(NULL), RCY_EINVAL);

    /* Collections leave them (and what they hold) alone; they count as live. */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 3);
    CHECK_EQ(dealloc_count, 0);

    /* Teardown frees them, in reverse order of immortalization; a's
       mortal child goes with a. The log lives outside the runtime. */
    rcy_runtime_destroy(rt);
    CHECK_EQ(dealloc_count, 3);
    CHECK_EQ(dealloc_log[0], 2); /* b, immortalized last */
    CHECK_EQ(dealloc_log[1], 1); /* a */
    CHECK_EQ(dealloc_log[2], 3); /* a's child */
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    CHECK_EQ(tracker_free_all(&tr), 0);
    capture_free(&cap);
}

static struct {
    leaf_t leaf;
} static_atom; /* zero-filled static storage */

TEST(test_static_objects)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *leaf = leaf_type_new(rt, "StaticAtom");
    rcy_type_t *cont = node_type_new(rt, "Cont");
    rcy_type_spec_t spec = {0};
    spec.name = "VarAtom";
    spec.basicsize = sizeof(rcy_varobject_t);
    spec.itemsize = 8;
    rcy_type_t *var = rcy_type_new(rt, &spec);
    log_reset();

    rcy_object_t *s = &static_atom.leaf.ob;
    CHECK_EQ(rcy_object_init_static(s, leaf), 0);
    static_atom.leaf.value = 99;
    CHECK_EQ(rcy_getrefcount(s), RCY_REFCNT_IMMORTAL);
    CHECK(rcy_is_immortal(s));
    CHECK(rcy_type(s) == leaf);
    CHECK(rcy_object_runtime(s) == rt);
    rcy_incref(s);
    rcy_decref(s);
    rcy_decref(s);
    CHECK_EQ(rcy_getrefcount(s), RCY_REFCNT_IMMORTAL);
    /* Not allocated by the runtime: not counted as live. */
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    CHECK_EQ(rcy_type_live_objects(leaf), 0);

    /* A container may refer to it like to any object. */
    node_t *n = node_new(cont, 0);
    node_set_a(n, s);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    rcy_decref(OB(n));
    CHECK_EQ(rcy_getrefcount(s), RCY_REFCNT_IMMORTAL);

    /* Containers and variable-size types cannot be static. */
    node_t storage;
    memset(&storage, 0, sizeof storage);
    CHECK_EQ(rcy_object_init_static(&storage.ob, cont), RCY_EINVAL);
    CHECK_EQ(rcy_object_init_static(&storage.ob, var), RCY_EINVAL);
    CHECK_EQ(rcy_object_init_static(NULL, leaf), RCY_EINVAL);
    CHECK_EQ(rcy_object_init_static(&storage.ob, NULL), RCY_EINVAL);

    test_runtime_end(rt);
    CHECK_EQ(dealloc_count, 0); /* its slots are never called */
    CHECK_EQ(static_atom.leaf.value, 99);
}

/* ---- SETREF, XSETREF, CLEAR -------------------------------------------- */

/* The holder whose field is being changed, and what the field held when
   the old value's dealloc ran. */
static node_t *watched_holder;
static rcy_object_t *field_seen_in_dealloc;
static int watched_deaths;

static void watched_dealloc(rcy_object_t *self)
{
    (void)self;
    watched_deaths++;
    field_seen_in_dealloc = watched_holder->a;
}

TEST(test_setref_semantics)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *ht = node_type_new(rt, "Holder");
    rcy_type_spec_t spec = {0};
    spec.name = "Watched";
    spec.basicsize = sizeof(leaf_t);
    spec.dealloc = watched_dealloc;
    rcy_type_t *wt = rcy_type_new(rt, &spec);
    node_t *h = node_new(ht, 0);
    watched_holder = h;
    watched_deaths = 0;

    /* XSETREF over NULL. */
    rcy_object_t *v1 = rcy_new(wt);
    RCY_XSETREF(h->a, v1);
    CHECK(h->a == v1);
    CHECK_EQ(rcy_getrefcount(v1), 2); /* nothing stolen: ours and the field's */
    rcy_decref(v1);
    CHECK_EQ(rcy_getrefcount(v1), 1);

    /* SETREF: the old value dies, and sees the field already changed. */
    rcy_object_t *v2 = rcy_new(wt);
    field_seen_in_dealloc = NULL;
    RCY_SETREF(h->a, v2);
    CHECK_EQ(watched_deaths, 1);
    CHECK(field_seen_in_dealloc == v2);
    CHECK(h->a == v2);
    CHECK_EQ(rcy_getrefcount(v2), 2);
    rcy_decref(v2);

    /* SETREF to NULL. */
    field_seen_in_dealloc = v2;
    RCY_SETREF(h->a, NULL);
    CHECK_EQ(watched_deaths, 2);
    CHECK(field_seen_in_dealloc == NULL);
    CHECK(h->a == NULL);

    /* XSETREF over a value, and setting a field to the value it holds. */
    rcy_object_t *v3 = rcy_new(wt);
    RCY_XSETREF(h->a, v3);
    RCY_XSETREF(h->a, v3);
    CHECK_EQ(rcy_getrefcount(v3), 2);
    CHECK_EQ(watched_deaths, 2);
    rcy_object_t *v4 = rcy_new(wt);
    field_seen_in_dealloc = NULL;
    rcy_decref(v3); /* only the field holds it now */
    RCY_XSETREF(h->a, v4);
    CHECK_EQ(watched_deaths, 3);
    CHECK(field_seen_in_dealloc == v4);
    rcy_decref(v4);

    /* CLEAR: NULL first, then the release. */
    field_seen_in_dealloc = v4;
    RCY_CLEAR(h->a);
    CHECK_EQ(watched_deaths, 4);
    CHECK(field_seen_in_dealloc == NULL);
    RCY_CLEAR(h->a); /* a NULL field: nothing happens */
    CHECK_EQ(watched_deaths, 4);

    rcy_decref(OB(h));
    test_runtime_end(rt);
}

/* ---- Reference counts -------------------------------------------------- */

TEST(test_newref_and_counts)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *x = node_new(t, 0);
    /* rcy_getrefcount is the true count. For `x = Node()` Python's
       sys.getrefcount(x) says 2: the variable's reference plus the one held
       by getrefcount's own argument. So rcy_getrefcount(o) ==
       sys.getrefcount(x) - 1 in the same situation. */
    CHECK_EQ(rcy_getrefcount(OB(x)), 1); /* Python: 2 */
    node_t *y = node_new(t, 1);
    node_set_a(y, x); /* y.a = x */
    CHECK_EQ(rcy_getrefcount(OB(x)), 2); /* Python: 3 */

    rcy_object_t *r = rcy_newref(OB(x));
    CHECK(r == OB(x));
    CHECK_EQ(rcy_getrefcount(OB(x)), 3);
    CHECK(rcy_xnewref(NULL) == NULL);
    CHECK(rcy_xnewref(OB(x)) == OB(x));
    CHECK_EQ(rcy_getrefcount(OB(x)), 4);
    rcy_xincref(NULL);
    rcy_xdecref(NULL);
    rcy_xincref(OB(x));
    CHECK_EQ(rcy_getrefcount(OB(x)), 5);
    rcy_xdecref(OB(x));
    rcy_decref(r);
    rcy_decref(OB(x));
    CHECK_EQ(rcy_getrefcount(OB(x)), 2);
    rcy_decref(OB(x));
    CHECK_EQ(rcy_getrefcount(OB(x)), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    rcy_decref(OB(y)); /* frees y, then x */
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* ---- Tracking ---------------------------------------------------------- */

TEST(test_track_untrack)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_type_t *lt = leaf_type_new(rt, "Leaf");
    node_t *n = node_new(t, 0);
    leaf_t *l = leaf_new(lt, 0);

    CHECK(rcy_gc_is_tracked(OB(n)));
    CHECK(!rcy_gc_is_tracked(OB(l)));
    CHECK(!rcy_gc_is_tracked(NULL));
    CHECK_EQ(rcy_gc_track(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_gc_track(OB(l)), RCY_ETYPE);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK_EQ(rcy_gc_track(OB(n)), RCY_ESTATE); /* already tracked */
    CHECK_EQ(rcy_last_error(rt), RCY_ESTATE);

    CHECK_EQ(rcy_gc_untrack(OB(n)), 0);
    CHECK(!rcy_gc_is_tracked(OB(n)));
    CHECK_EQ(rcy_gc_untrack(OB(n)), 0); /* no-op */
    CHECK_EQ(rcy_gc_untrack(OB(l)), 0); /* no-op */
    CHECK_EQ(rcy_gc_untrack(NULL), RCY_EINVAL);

    /* An untracked object is invisible to the collector: an untracked
       self-cycle is not collected ... */
    node_set_a(n, n);
    rcy_objarray_t objs = {0};
    CHECK_EQ(rcy_gc_get_objects(rt, -1, &objs), 0);
    CHECK_EQ(objs.len, 0);
    rcy_objarray_release(&objs);
    rcy_decref(OB(n));
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    /* ... until it is tracked again (via a borrowed pointer: we hold no
       reference any more; the cycle holds it). */
    CHECK_EQ(rcy_gc_track(OB(n)), 0);
    CHECK(rcy_gc_is_tracked(OB(n)));
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);

    rcy_decref(OB(l));
    test_runtime_end(rt);
}

/* ---- Finalizers on refcount death -------------------------------------- */

static int finalize_calls;
static int resurrect_times; /* how many more calls should resurrect */
static rcy_object_t *lazarus; /* where a finalizer stores the resurrected */
static int finalize_result;

static int resurrecting_finalize(rcy_object_t *self)
{
    finalize_calls++;
    if (resurrect_times > 0) {
        resurrect_times--;
        lazarus = rcy_newref(self);
    }
    return finalize_result;
}

static rcy_type_t *finalized_type_new(rcy_runtime_t *rt, const char *name, bool gc)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.finalize = resurrecting_finalize;
    if (gc) {
        spec.basicsize = sizeof(node_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = node_traverse;
        spec.clear = node_clear;
        spec.dealloc = logged_dealloc;
    } else {
        spec.basicsize = sizeof(leaf_t);
        spec.dealloc = leaf_dealloc;
    }
    return rcy_type_new(rt, &spec);
}

static void finalize_reset(void)
{
    finalize_calls = 0;
    resurrect_times = 0;
    lazarus = NULL;
    finalize_result = 0;
    log_reset();
}

TEST(test_finalizer_runs_once_on_death)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = finalized_type_new(rt, "Mortal", true);
    finalize_reset();
    node_t *n = node_new(t, 7);
    CHECK(!rcy_gc_is_finalized(OB(n)));
    rcy_incref(OB(n));
    rcy_decref(OB(n));
    CHECK_EQ(finalize_calls, 0);
    rcy_decref(OB(n));
    CHECK_EQ(finalize_calls, 1);
    CHECK_EQ(dealloc_count, 1);
    CHECK_EQ(dealloc_log[0], 7);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_container_resurrection)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = finalized_type_new(rt, "Phoenix", true);
    finalize_reset();
    node_t *n = node_new(t, 1);
    resurrect_times = 1;
    rcy_decref(OB(n));
    /* The finalizer stored a new reference: the object lives on. */
    CHECK_EQ(finalize_calls, 1);
    CHECK(lazarus == OB(n));
    CHECK_EQ(dealloc_count, 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    CHECK_EQ(rcy_getrefcount(lazarus), 1);
    CHECK(rcy_gc_is_finalized(lazarus));
    CHECK(rcy_gc_is_tracked(lazarus));
    CHECK_EQ(n->value, 1);

    /* Its second death does not run the finalizer again (PEP 442): it is
       freed, even though the finalizer would resurrect it again. */
    resurrect_times = 1;
    rcy_object_t *again = lazarus;
    lazarus = NULL;
    rcy_decref(again);
    CHECK_EQ(finalize_calls, 1);
    CHECK(lazarus == NULL);
    CHECK_EQ(dealloc_count, 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_non_gc_resurrect)
{
    /* CPython's test_finalization.test_non_gc_resurrect: an object of a
       type that is not a container has no room to remember that it was
       finalized, so its finalizer runs each time it dies. */
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = finalized_type_new(rt, "Ember", false);
    finalize_reset();
    leaf_t *e = leaf_new(t, 5);
    CHECK(!rcy_gc_is_finalized(OB(e))); /* always 0 for non-containers */
    resurrect_times = 2;
    rcy_decref(OB(e));
    CHECK_EQ(finalize_calls, 1);
    CHECK(lazarus == OB(e));
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    rcy_object_t *again = lazarus;
    lazarus = NULL;
    rcy_decref(again);
    CHECK_EQ(finalize_calls, 2);
    CHECK(lazarus == OB(e));
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    CHECK_EQ(dealloc_count, 0);
    again = lazarus;
    lazarus = NULL;
    rcy_decref(again); /* no more resurrections: runs, then it is freed */
    CHECK_EQ(finalize_calls, 3);
    CHECK(lazarus == NULL);
    CHECK_EQ(dealloc_count, 1);
    CHECK_EQ(dealloc_log[0], 5);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

static void capture_error(void *arg, const char *message) { capture_output(arg, message); }

TEST(test_finalizer_error_reported)
{
    /* A custom error hook gets the line, in CPython's words. */
    capture_t errors = {0}, out = {0};
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.error = capture_error;
    cfg.error_arg = &errors;
    cfg.output = capture_output;
    cfg.output_arg = &out;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    rcy_type_t *t = finalized_type_new(rt, "Oops", true);
    finalize_reset();
    finalize_result = -1;
    node_t *n = node_new(t, 0);
    char expected[64];
    snprintf(expected, sizeof expected, "Exception ignored in: <Oops %p>", (void *)n);
    rcy_decref(OB(n));
    CHECK_EQ(finalize_calls, 1);
    CHECK_EQ(dealloc_count, 1); /* the error does not stop the deallocation */
    CHECK(errors.text != NULL && strcmp(errors.text, expected) == 0);
    CHECK(out.text == NULL || strstr(out.text, "Exception") == NULL);
    test_runtime_end(rt);
    capture_free(&errors);
    capture_free(&out);

    /* The default error hook writes it, as a line, to the output hook. */
    rt = test_runtime(&out);
    t = finalized_type_new(rt, "Oops2", false);
    finalize_reset();
    finalize_result = -1;
    leaf_t *l = leaf_new(t, 0);
    snprintf(expected, sizeof expected, "Exception ignored in: <Oops2 %p>\n", (void *)l);
    rcy_decref(OB(l));
    CHECK(out.text != NULL && strcmp(out.text, expected) == 0);
    test_runtime_end(rt);
    capture_free(&out);
}

int main(void)
{
    RUN(test_config_defaults);
    RUN(test_invalid_configs);
    RUN(test_huge_pages);
    RUN(test_versioned_structs);
    RUN(test_versioned_specs);
    RUN(test_output_hook_receives_teardown_output);
    RUN(test_teardown_reports_leaks);
    RUN(test_teardown_collects_cycles);
    RUN(test_type_new_validation);
    RUN(test_strerror);
    RUN(test_describe);
    RUN(test_new_on_wrong_kind_of_type);
    RUN(test_immortal_objects);
    RUN(test_static_objects);
    RUN(test_setref_semantics);
    RUN(test_newref_and_counts);
    RUN(test_track_untrack);
    RUN(test_finalizer_runs_once_on_death);
    RUN(test_container_resurrection);
    RUN(test_non_gc_resurrect);
    RUN(test_finalizer_error_reported);
    return harness_summary();
}
