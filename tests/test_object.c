/* Objects and reference counting: allocation, counts, immediate
   deallocation, immortal objects, the SETREF/CLEAR helpers, types. */
#include "harness.h"
#include "node.h"

TEST(test_new_and_refcount)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    CHECK(t != NULL);
    node_t *n = node_new(t, 7);
    CHECK(n != NULL);
    CHECK_EQ(rcy_getrefcount(OB(n)), 1);
    CHECK(rcy_gc_is_tracked(OB(n)));
    CHECK_EQ(rcy_type_live_objects(t), 1);
    rcy_incref(OB(n));
    CHECK_EQ(rcy_getrefcount(OB(n)), 2);
    rcy_decref(OB(n));
    CHECK_EQ(rcy_getrefcount(OB(n)), 1);
    rcy_decref(OB(n));
    CHECK_EQ(rcy_type_live_objects(t), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_chain_freed_at_once)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *head = node_new(t, 0);
    node_t *cur = head;
    for (int i = 1; i < 100; i++) {
        node_t *n = node_new(t, i);
        node_set_a(cur, n);
        rcy_decref(OB(n));
        cur = n;
    }
    CHECK_EQ(rcy_runtime_live_objects(rt), 100);
    rcy_decref(OB(head));
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

TEST(test_cycle_needs_collector)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *x = node_new(t, 1), *y = node_new(t, 2);
    node_set_a(x, y);
    node_set_a(y, x);
    rcy_decref(OB(x));
    rcy_decref(OB(y));
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_new_and_refcount);
    RUN(test_chain_freed_at_once);
    RUN(test_cycle_needs_collector);
    return harness_summary();
}
