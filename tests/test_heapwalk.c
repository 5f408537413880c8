/* The heap walk under every tool (src/tools/refchain.c): while it runs,
   the containers' headers hold their node numbers; afterwards every
   generation list must be exactly as it was (same objects, same order),
   whatever the tool, with an incremental pass in progress too, and the
   heap must validate. Also the shapes the walk and the dominator tree
   must get right: untracked containers reached only through containers,
   self-references, objects held from outside as roots, and a graph on
   which the semi-NCA climbs would be quadratic (the buckets take over). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "harness.h"
#include "fatal_child.h"
#include "node.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The objects of every generation in list order (borrowed: the lists are
   compared by address, nothing is dereferenced), and how many are frozen
   (the permanent generation is checked by rcy_gc_validate and at the end,
   once thawed). */
typedef struct lists_s {
    const rcy_object_t *items[3][512];
    size_t len[3];
    size_t frozen;
} lists_t;

static void take_lists(rcy_runtime_t *rt, lists_t *l)
{
    memset(l, 0, sizeof *l);
    for (int g = 0; g < 3; g++) {
        rcy_objarray_t a = {0};
        CHECK_EQ(rcy_gc_get_objects(rt, g, &a), 0);
        CHECK(a.len <= 512);
        for (size_t i = 0; i < a.len && i < 512; i++)
            l->items[g][i] = a.items[i];
        l->len[g] = a.len;
        rcy_objarray_release(&a);
    }
    l->frozen = rcy_gc_get_freeze_count(rt);
}

static void check_lists(rcy_runtime_t *rt, const lists_t *before, const char *what)
{
    lists_t *after = malloc(sizeof *after);
    CHECK(after != NULL);
    take_lists(rt, after);
    for (int g = 0; g < 3; g++) {
        CHECK_EQ(after->len[g], before->len[g]);
        int same = after->len[g] == before->len[g] &&
                   memcmp(after->items[g], before->items[g], before->len[g] * sizeof *before->items[g]) == 0;
        if (!same)
            fprintf(stderr, "  after %s: generation %d differs\n", what, g);
        CHECK(same);
    }
    CHECK_EQ(after->frozen, before->frozen);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    free(after);
}

static int never(rcy_object_t *obj, intptr_t external, void *arg)
{
    (void)obj;
    (void)external;
    (void)arg;
    return 0;
}

TEST(every_tool_gives_the_headers_back)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_gc_disable(rt);
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_type_t *lt = list_type_new(rt);
    list_t *root = (list_t *)rcy_new_var(lt, 40);
    CHECK_EQ(rcy_root_add(OB(root), "root"), 0);
    node_t *first = NULL;
    /* Objects in every generation: some frozen, some promoted twice, some
       once, some young; cycles, an untracked list, a string. */
    for (int stage = 0; stage < 4; stage++) {
        for (int i = 0; i < 10; i++) {
            node_t *x = node_new(t, stage * 10 + i), *y = node_new(t, -i);
            node_set_a(x, y);
            node_set_b(y, x);
            if (i == 3) {
                list_t *u = (list_t *)rcy_new_var(lt, 1);
                u->items[0] = rcy_str_new(rt, "held by an untracked list");
                CHECK_EQ(rcy_gc_untrack(OB(u)), 0);
                node_set_a(y, u);
                rcy_decref(OB(u));
            }
            root->items[stage * 10 + i] = OB(x);
            if (first == NULL)
                first = x;
            rcy_decref(OB(y));
        }
        if (stage == 0)
            CHECK_EQ(rcy_gc_freeze(rt), 0);
        else if (stage < 3)
            rcy_gc_collect(rt, stage - 1); /* 0: into generation 1; 1: into 2 */
    }
    rcy_gc_collect(rt, 0);
    node_t *young = node_new(t, 99); /* one in generation 0 */
    lists_t *before = malloc(sizeof *before);
    CHECK(before != NULL);
    take_lists(rt, before);
    CHECK(before->len[0] > 0 && before->len[1] > 0 && before->len[2] > 0 && before->frozen > 0);

    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(OB(first), &r), 0);
    rcy_xdecref(r.dominator);
    check_lists(rt, before, "rcy_retained_size");
    rcy_retainers_t top;
    CHECK_EQ(rcy_largest_retainers(rt, 5, &top), 0);
    rcy_retainers_release(&top);
    check_lists(rt, before, "rcy_largest_retainers");
    rcy_objarray_t a = {0};
    CHECK_EQ(rcy_get_leaking_objects(rt, &a), 0);
    rcy_objarray_release(&a);
    check_lists(rt, before, "rcy_get_leaking_objects");
    CHECK(rcy_external_refcount(OB(first)) == 0);
    check_lists(rt, before, "rcy_external_refcount");
    CHECK_EQ(rcy_find_backref_chain(OB(first), NULL, NULL, 0, &a), 1);
    rcy_objarray_release(&a);
    CHECK_EQ(rcy_find_ref_chain(OB(first), never, NULL, 0, &a), 0);
    rcy_objarray_release(&a);
    check_lists(rt, before, "the chains");
    CHECK_EQ(rcy_census_by_type(rt, "List", &a), 0);
    CHECK_EQ(a.len, 5); /* the root and the untracked lists */
    rcy_objarray_release(&a);
    check_lists(rt, before, "rcy_census_by_type");
    rcy_snapshot_t *s = rcy_snapshot_take(rt);
    CHECK(s != NULL);
    rcy_snapshot_free(s);
    check_lists(rt, before, "rcy_snapshot_take");
    char dir[] = "/tmp/rcy-heapwalk-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[80];
    snprintf(path, sizeof path, "%s/heap.jsonl", dir);
    CHECK_EQ(rcy_heap_dump(rt, path), 0);
    unlink(path);
    check_lists(rt, before, "rcy_heap_dump");
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK_EQ(rcy_heap_report(rt, path), 0);
    unlink(path);
    check_lists(rt, before, "rcy_heap_report");
    rmdir(dir);
    FILE *devnull = fopen("/dev/null", "w");
    CHECK(devnull != NULL);
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.output = devnull;
    rcy_object_t *start = OB(first);
    CHECK_EQ(rcy_show_refs(&start, 1, &opts), 0);
    CHECK_EQ(rcy_show_backrefs(&start, 1, &opts), 0);
    fclose(devnull);
    check_lists(rt, before, "the graphs");

    /* Thawed, the frozen objects join generation 2 whole. */
    CHECK_EQ(rcy_gc_unfreeze(rt), 0);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    CHECK_EQ(rcy_gc_get_objects(rt, 2, &a), 0);
    CHECK_EQ(a.len, before->len[2] + before->frozen);
    rcy_objarray_release(&a);
    free(before);
    rcy_decref(OB(young));
    CHECK_EQ(rcy_root_remove(OB(root)), 0);
    rcy_decref(OB(root));
    rcy_gc_collect(rt, 2);
    test_runtime_end(rt);
}

/* Incremental mode, into a pass: the walk gives the pass up first (the
   pass's own header tags leave), and the lists are whole afterwards. */
static void churn(rcy_type_t *t, list_t *l, long n)
{
    for (long i = 0; i < n; i++) {
        node_t *x = node_new(t, i);
        RCY_XSETREF(l->items[i % l->ob.size], OB(x));
        rcy_decref(OB(x));
        node_t *y = node_new(t, -i);
        node_set_b(y, y); /* young cyclic garbage: young collections run */
        rcy_decref(OB(y));
    }
}

static bool in_pass(rcy_runtime_t *rt)
{
    rcy_gc_incr_stats_t s;
    rcy_gc_incr_stats_init(&s);
    rcy_gc_get_incr_stats(rt, &s);
    return s.in_pass;
}

TEST(a_walk_during_an_incremental_pass)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.gc_mode = RCY_GC_INCREMENTAL;
    cfg.incr_step_work = 5;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);
    rcy_gc_set_threshold(rt, 20, 3, 3);
    rcy_type_t *t = node_type_new(rt, "Node");
    list_t *ring = (list_t *)rcy_new_var(list_type_new(rt), 64);
    CHECK_EQ(rcy_root_add(OB(ring), "ring"), 0);
    rcy_gc_collect(rt, 1);
    for (long i = 0; i < 1000000 && !in_pass(rt); i += 10)
        churn(t, ring, 10);
    CHECK(in_pass(rt));
    churn(t, ring, 40);
    rcy_retainers_t top;
    CHECK_EQ(rcy_largest_retainers(rt, 3, &top), 0);
    CHECK(top.len > 0 && top.items[0].obj == OB(ring));
    rcy_retainers_release(&top);
    CHECK(!in_pass(rt));
    CHECK_EQ(rcy_gc_validate(rt), 0);
    churn(t, ring, 1000); /* the collector goes on from whole lists */
    CHECK_EQ(rcy_gc_validate(rt), 0);
    CHECK_EQ(rcy_root_remove(OB(ring)), 0);
    rcy_decref(OB(ring));
    rcy_gc_collect(rt, 2);
    rcy_runtime_destroy(rt);
}

static size_t bytes_of(rcy_object_t *o)
{
    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(o, &r), 0);
    rcy_xdecref(r.dominator);
    return r.self_bytes;
}

TEST(untracked_containers_reached_only_through_containers)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_type_t *lt = list_type_new(rt);
    /* root -> u (an untracked list) -> v (an untracked list) -> x -> s */
    node_t *root = node_new(t, 0);
    CHECK_EQ(rcy_root_add(OB(root), "root"), 0);
    list_t *u = (list_t *)rcy_new_var(lt, 1), *v = (list_t *)rcy_new_var(lt, 1);
    node_t *x = node_new(t, 1);
    rcy_object_t *s = rcy_str_new(rt, "only through untracked lists");
    node_set_a(x, s);
    v->items[0] = OB(x);
    u->items[0] = OB(v);
    CHECK_EQ(rcy_gc_untrack(OB(u)), 0);
    CHECK_EQ(rcy_gc_untrack(OB(v)), 0);
    node_set_a(root, u);
    rcy_decref(OB(u));
    rcy_decref(s);
    rcy_object_t *bu = OB(u), *bv = OB(v), *bx = OB(x);

    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(bv, &r), 0);
    CHECK(r.dominator == bu);
    CHECK_EQ(r.objects, 3); /* v, x, s */
    CHECK_EQ(r.bytes, r.self_bytes + bytes_of(bx) + bytes_of(s));
    CHECK(!r.is_root);
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(OB(root), &r), 0);
    CHECK_EQ(r.objects, 5);
    CHECK(r.is_root);
    /* x, held only by v: no external reference, not leaking, and its chain
       goes through both untracked lists. */
    CHECK(rcy_external_refcount(bx) == 0);
    rcy_objarray_t a = {0};
    CHECK_EQ(rcy_get_leaking_objects(rt, &a), 0);
    for (size_t i = 0; i < a.len; i++)
        CHECK(a.items[i] != bx);
    rcy_objarray_release(&a);
    CHECK_EQ(rcy_find_backref_chain(bx, NULL, NULL, 0, &a), 1);
    CHECK_EQ(a.len, 4);
    if (a.len == 4)
        CHECK(a.items[0] == OB(root) && a.items[1] == bu && a.items[2] == bv && a.items[3] == bx);
    rcy_objarray_release(&a);
    CHECK_EQ(rcy_census_by_type(rt, "List", &a), 0);
    CHECK_EQ(a.len, 2);
    rcy_objarray_release(&a);
    CHECK_EQ(rcy_root_remove(OB(root)), 0);
    rcy_decref(OB(root));
    test_runtime_end(rt);
}

TEST(self_references_and_roots_held_from_outside)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    /* root -> a -> b, b -> b: b is its own only other path. */
    node_t *root = node_new(t, 0), *a = node_new(t, 1), *b = node_new(t, 2);
    CHECK_EQ(rcy_root_add(OB(root), "root"), 0);
    node_set_a(root, a);
    node_set_a(a, b);
    node_set_a(b, b);
    rcy_decref(OB(b));
    rcy_decref(OB(a));
    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(OB(b), &r), 0);
    CHECK_EQ(r.objects, 1);
    CHECK(r.dominator == OB(a));
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(OB(a), &r), 0);
    CHECK_EQ(r.objects, 2);
    CHECK(r.dominator == OB(root));
    rcy_xdecref(r.dominator);
    /* A cycle nothing in the heap reaches, one member held from C: that
       member is a root of its own and retains the other. */
    node_t *c1 = node_new(t, 3), *c2 = node_new(t, 4);
    node_set_a(c1, c2);
    node_set_a(c2, c1);
    rcy_decref(OB(c2));
    CHECK_EQ(rcy_retained_size(OB(c1), &r), 0);
    CHECK(r.is_root);
    CHECK(r.dominator == NULL);
    CHECK_EQ(r.objects, 2);
    rcy_retainers_t top;
    CHECK_EQ(rcy_largest_retainers(rt, 10, &top), 0);
    bool seen = false;
    for (size_t i = 0; i < top.len; i++) {
        if (top.items[i].obj == OB(c1)) {
            seen = true;
            CHECK_EQ(top.items[i].root_kind, RCY_ROOT_KIND_EXTERNAL);
            CHECK_EQ(top.items[i].objects, 2);
        }
        if (top.items[i].obj == OB(c2))
            CHECK(top.items[i].dominator == OB(c1));
    }
    CHECK(seen);
    rcy_retainers_release(&top);
    node_set_a(c1, NULL);
    rcy_decref(OB(c1));
    CHECK_EQ(rcy_root_remove(OB(root)), 0);
    rcy_decref(OB(root));
    test_runtime_end(rt);
}

/* A root list [head, w_1 .. w_m]; a chain head -> ... -> tail of k links,
   each dominating the next; the tail holds a list of every w_i. The
   search goes down the chain first, so each w_i's parent is the tail's
   list and its semidominator the root: semi-NCA would climb the whole
   chain for each, k * m steps, past its budget; the buckets answer. */
TEST(long_dominator_paths_fall_back_to_the_buckets)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_gc_disable(rt);
    rcy_type_t *t = node_type_new(rt, "Link");
    rcy_type_t *lt = list_type_new(rt);
    long k = harness_scaled(20000, 100), m = harness_scaled(20000, 100);
    list_t *root = (list_t *)rcy_new_var(lt, m + 1);
    list_t *all = (list_t *)rcy_new_var(lt, m);
    node_t **chain = malloc((size_t)k * sizeof *chain);
    CHECK(chain != NULL);
    for (long j = 0; j < k; j++) {
        chain[j] = node_new(t, j);
        if (j > 0) {
            node_set_a(chain[j - 1], chain[j]);
            rcy_decref(OB(chain[j]));
        }
    }
    node_set_b(chain[k - 1], all);
    rcy_decref(OB(all));
    root->items[0] = OB(chain[0]);
    for (long i = 0; i < m; i++) {
        node_t *w = node_new(t, -i);
        all->items[i] = rcy_newref(OB(w));
        root->items[i + 1] = OB(w);
    }
    CHECK_EQ(rcy_root_add(OB(root), "root"), 0);
    rcy_decref(OB(root));
    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(root->items[m], &r), 0);
    CHECK(r.dominator == OB(root));
    CHECK_EQ(r.objects, 1);
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(OB(chain[k / 2]), &r), 0);
    CHECK(r.dominator == OB(chain[k / 2 - 1]));
    CHECK_EQ(r.objects, (size_t)(k - k / 2 + 1)); /* the rest of the chain and the tail's list */
    rcy_xdecref(r.dominator);
    rcy_retainers_t top;
    CHECK_EQ(rcy_largest_retainers(rt, 3, &top), 0);
    CHECK_EQ(top.len, 3);
    if (top.len == 3) {
        CHECK(top.items[0].obj == OB(root));
        CHECK_EQ(top.items[0].objects, (size_t)(1 + k + 1 + m));
        CHECK(top.items[1].obj == OB(chain[0]));
        CHECK_EQ(top.items[1].objects, (size_t)(k + 1));
        CHECK(top.items[2].obj == OB(chain[1]));
        CHECK(top.items[2].dominator == OB(chain[0]));
    }
    rcy_retainers_release(&top);
    free(chain);
    CHECK_EQ(rcy_root_remove(OB(root)), 0);
    test_runtime_end(rt);
}

/* A traverse slot that allocates a container while a walk numbers the
   headers: the new object is appended to generation 0 after the one being
   traversed, and the walk reports it when it gives the headers back. */
static rcy_type_t *evil_node_type;
static int evil_armed;

static int evil_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    if (evil_armed) {
        evil_armed = 0;
        node_new(evil_node_type, 0); /* tracked at once; leaked: the process aborts */
    }
    return node_traverse(self, visit, arg);
}

static void evil_child(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 0);
    evil_node_type = node_type_new(rt, "Node");
    rcy_type_spec_t spec = {0};
    spec.name = "Evil";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = evil_traverse;
    spec.clear = node_clear;
    rcy_type_t *et = rcy_type_new(rt, &spec);
    node_new(evil_node_type, 1);
    node_t *e = (node_t *)rcy_new(et); /* the last of generation 0 */
    announce(e);
    evil_armed = 1;
    rcy_objarray_t a = {0};
    rcy_get_leaking_objects(rt, &a);
}

TEST(a_traverse_slot_that_allocates_during_a_walk_is_fatal)
{
    result_t res;
    run_child(evil_child, HOOK_STDERR, &res);
    check_fatal(&res, "Evil", "the generation lists changed during a heap walk");
}

int main(void)
{
    RUN(every_tool_gives_the_headers_back);
    RUN(a_walk_during_an_incremental_pass);
    RUN(untracked_containers_reached_only_through_containers);
    RUN(self_references_and_roots_held_from_outside);
    RUN(long_dominator_paths_fall_back_to_the_buckets);
    RUN(a_traverse_slot_that_allocates_during_a_walk_is_fatal);
    return harness_summary();
}
