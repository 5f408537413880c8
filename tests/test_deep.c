/* Deep structures are freed without deep recursion: the trashcan defers
   deallocations past a fixed depth, so dropping the head of a 10-million
   long chain, or the outermost of a million nested lists, frees everything
   with the default 8 MiB stack (under AddressSanitizer too, whose frames
   are larger).

   Automatic collection is disabled while the 10-million chain and the
   million-long cycle are built: the debug build validates the whole heap
   after every collection (validate_heap in src/gc.c), which makes building
   a huge heap with automatic collection on quadratic there (minutes for 10
   million objects). The million-deep nested lists are built with automatic
   collection on (default thresholds; not in the GC-stress build), as in a
   real program: its young collections walk the structure too, without
   recursion. Timings are printed; the whole program takes about 20 s of
   CPU under ASan, 3 s in the release build. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- A chain of fixed-size containers (node.h), each holding the next ---- */

/* 100,000 in the Valgrind layer (RCY_TEST_SCALE); 1,000,000 in the
   GC-stress build, whose collection at every allocation does not touch
   this test (the chain is built with collection off and freed without
   allocating: the same work as in the debug build, which has the same
   sanitizers and frees the full 10 million), and whose million is still
   a chain a recursive free could not survive on an 8 MiB stack. */
#define CHAIN_LEN (HARNESS_GC_STRESS ? 1000000L : harness_scaled(10000000L, 10000))

TEST(test_chain_of_ten_million)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    CHECK(t != NULL);
    CHECK_EQ(rcy_gc_disable(rt), 1);

    double t0 = now();
    node_t *head = node_new(t, 0);
    CHECK(head != NULL);
    node_t *cur = head;
    node_t *middle = NULL; /* an extra reference to node CHAIN_LEN / 2 */
    for (long i = 1; i < CHAIN_LEN && cur != NULL; i++) {
        node_t *n = node_new(t, i);
        if (n == NULL)
            break;
        node_set_a(cur, n); /* cur holds n */
        if (i == CHAIN_LEN / 2)
            middle = (node_t *)rcy_newref(OB(n));
        rcy_decref(OB(n)); /* now only cur holds n */
        cur = n;
    }
    double t1 = now();
    CHECK_EQ(rcy_gc_enable(rt), 0);
    int counts[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, counts);
    CHECK_EQ(counts[0], CHAIN_LEN); /* no collection ran */
    CHECK_EQ(rcy_runtime_live_objects(rt), CHAIN_LEN);
    CHECK_EQ(rcy_type_live_objects(t), CHAIN_LEN);
    CHECK(middle != NULL);
    CHECK_EQ(rcy_getrefcount(OB(middle)), 2);
    CHECK_EQ(cur->value, CHAIN_LEN - 1);
    CHECK(cur->a == NULL);

    /* A collection finds nothing: the chain is reachable from head. */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), CHAIN_LEN);

    /* Dropping the head frees the first half at once; the middle survives,
       with everything after it. */
    rcy_decref(OB(head));
    CHECK_EQ(rcy_runtime_live_objects(rt), CHAIN_LEN - CHAIN_LEN / 2);
    CHECK_EQ(rcy_getrefcount(OB(middle)), 1);
    CHECK_EQ(middle->value, CHAIN_LEN / 2);

    /* Dropping the middle frees the rest. */
    rcy_decref(OB(middle));
    double t2 = now();
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    CHECK_EQ(rcy_type_live_objects(t), 0);
    CHECK_EQ(rcy_runtime_live_bytes(rt), 0);
    fprintf(stderr, "  chain of %ld: built in %.2fs, freed in %.2fs\n", CHAIN_LEN, t1 - t0, t2 - t1);
    test_runtime_end(rt);
}

/* The same chain, freed through the cycle collector: the last node points
   back at the head, so reference counting alone frees nothing, and the
   collector's clear of one node starts the deep cascade. */
#define CYCLE_LEN harness_scaled(1000000L, 10000)

TEST(test_long_cycle_collected)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    CHECK_EQ(rcy_gc_disable(rt), 1);
    double t0 = now();
    node_t *head = node_new(t, 0);
    node_t *cur = head;
    for (long i = 1; i < CYCLE_LEN; i++) {
        node_t *n = node_new(t, i);
        node_set_a(cur, n);
        rcy_decref(OB(n));
        cur = n;
    }
    double t1 = now();
    CHECK_EQ(rcy_gc_enable(rt), 0);
    node_set_a(cur, head); /* close the cycle */
    CHECK_EQ(rcy_getrefcount(OB(head)), 2);
    rcy_decref(OB(head));
    CHECK_EQ(rcy_runtime_live_objects(rt), CYCLE_LEN);
    CHECK_EQ(rcy_gc_collect(rt, 2), CYCLE_LEN);
    double t2 = now();
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    fprintf(stderr, "  cycle of %ld: built in %.2fs, collected in %.2fs\n", CYCLE_LEN, t1 - t0, t2 - t1);
    test_runtime_end(rt);
}

/* ---- A "list" nested a million deep ---------------------------------- */


#define NEST_DEPTH harness_scaled(1000000L, 100000) /* enough for full collections */

TEST(test_nested_lists)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = list_type_new(rt);
    CHECK(t != NULL);
    CHECK_EQ(sizeof(list_t), sizeof(rcy_varobject_t));

    /* The bytes of an empty list and of a one-item list (one pointer more). */
    rcy_object_t *probe = rcy_new_var(t, 0);
    size_t bytes_empty = rcy_type_live_bytes(t);
    rcy_decref(probe);
    probe = rcy_new_var(t, 1);
    size_t bytes_one = rcy_type_live_bytes(t);
    rcy_decref(probe);
    CHECK_EQ(bytes_one - bytes_empty, sizeof(rcy_object_t *));
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    /* In the GC-stress build (a collection on every container allocation,
       each validating the whole heap) that would be quadratic: off there. */
    bool stress = HARNESS_GC_STRESS;
    if (stress)
        rcy_gc_disable(rt);

    /* Build from the innermost out: l = [l]. The innermost is empty. */
    double t0 = now();
    list_t *l = (list_t *)rcy_new_var(t, 0);
    CHECK(l != NULL);
    CHECK_EQ(l->ob.size, 0);
    list_t *innermost = (list_t *)rcy_newref(OB(l));
    for (long i = 1; i < NEST_DEPTH && l != NULL; i++) {
        list_t *outer = (list_t *)rcy_new_var(t, 1);
        if (outer == NULL)
            break;
        if (outer->items[0] != NULL) /* zero-filled */
            CHECK(outer->items[0] == NULL);
        outer->items[0] = OB(l); /* steals our reference to l */
        l = outer;
    }
    double t1 = now();
    rcy_gc_stats_t stats[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(stats);
    rcy_gc_get_stats(rt, stats);
    if (!stress) {
        /* An automatic collection every 701 container allocations. */
        CHECK(stats[0].collections + stats[1].collections + stats[2].collections >= NEST_DEPTH / 701 - 1);
        CHECK(stats[2].collections >= 1);
    }
    rcy_gc_enable(rt);
    CHECK_EQ(rcy_runtime_live_objects(rt), NEST_DEPTH);
    CHECK_EQ(rcy_type_live_objects(t), NEST_DEPTH);
    CHECK_EQ(rcy_type_live_bytes(t), bytes_empty + (size_t)(NEST_DEPTH - 1) * bytes_one);
    CHECK_EQ(rcy_getrefcount(OB(innermost)), 2);

    /* A full collection walks it (breadth-first, no recursion) and keeps it. */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), NEST_DEPTH);

    /* Drop the outermost: everything but the innermost (which we hold) goes. */
    rcy_decref(OB(l));
    double t2 = now();
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    CHECK_EQ(rcy_getrefcount(OB(innermost)), 1);
    rcy_decref(OB(innermost));
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    CHECK_EQ(rcy_runtime_live_bytes(rt), 0);
    fprintf(stderr, "  nested %ld deep: built in %.2fs, freed in %.2fs\n", NEST_DEPTH, t1 - t0, t2 - t1);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_chain_of_ten_million);
    RUN(test_long_cycle_collected);
    RUN(test_nested_lists);
    return harness_summary();
}
