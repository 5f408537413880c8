/* The heap tools of issue 18 when allocations fail: every call fails with
   RCY_ENOMEM (or succeeds), leaves nothing allocated and the heap as it
   was, at every allocation it makes. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#define RCY_TRACE_SITES 1
#include "harness.h"
#include "oom_alloc.h"

#include <unistd.h>

static rcy_object_t *scene(rcy_runtime_t *rt)
{
    rcy_object_t *globals = rcy_dict_new(rt);
    CHECK_EQ(rcy_root_add(globals, "globals"), 0);
    rcy_object_t *cache = rcy_list_new(rt);
    rcy_object_t *key = rcy_str_new(rt, "cache");
    rcy_dict_set(globals, key, cache);
    rcy_decref(key);
    for (int i = 0; i < 20; i++) {
        rcy_object_t *d = rcy_dict_new(rt);
        rcy_object_t *v = rcy_int_new(rt, 1000 + i);
        rcy_object_t *k = rcy_str_new(rt, "user");
        rcy_dict_set(d, k, v);
        rcy_list_append(cache, d);
        rcy_decref(k);
        rcy_decref(v);
        rcy_decref(d);
    }
    rcy_decref(cache);
    rcy_decref(globals);
    return globals;
}

TEST(every_allocation_of_every_tool_may_fail)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_object_t *globals = scene(rt);
    char dir[] = "/tmp/rcy-heaptools-oom-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char dump[64], report[64];
    snprintf(dump, sizeof dump, "%s/heap.jsonl", dir);
    snprintf(report, sizeof report, "%s/report.html", dir);
    /* Once without failures: the side table of ids reaches its size. */
    rcy_snapshot_t *s0 = rcy_snapshot_take(rt);
    CHECK(s0 != NULL);
    size_t objects = rcy_runtime_live_objects(rt);
    int done = 0;
    for (long k = 1; k < 2000 && done < 6; k++) {
        long live = a.live;
        done = 0;
        rcy_retained_t r;
        rcy_retained_init(&r);
        a.fail_after = k;
        int e1 = rcy_retained_size(globals, &r);
        a.failing = false;
        a.fail_after = k;
        rcy_retainers_t top;
        int e2 = rcy_largest_retainers(rt, 5, &top);
        a.failing = false;
        a.fail_after = k;
        rcy_snapshot_t *s = rcy_snapshot_take(rt);
        a.failing = false;
        a.fail_after = k;
        rcy_snapshot_diff_t diff;
        int e4 = s != NULL ? rcy_snapshot_diff(s0, s, 0, &diff) : RCY_ENOMEM;
        a.failing = false;
        a.fail_after = k;
        int e5 = rcy_heap_dump(rt, dump);
        a.failing = false;
        a.fail_after = k;
        int e6 = rcy_heap_report(rt, report);
        a.failing = false;
        a.fail_after = 0;
        CHECK(e1 == 0 || e1 == RCY_ENOMEM);
        CHECK(e2 == 0 || (e2 == RCY_ENOMEM && top.len == 0));
        CHECK(e4 == 0 || e4 == RCY_ENOMEM);
        CHECK(e5 == 0 || e5 == RCY_ENOMEM);
        CHECK(e6 == 0 || e6 == RCY_ENOMEM);
        if (e1 == 0) {
            CHECK_EQ(r.objects, objects - 0); /* globals retains everything but the immortals */
            done++;
        }
        if (e2 == 0) {
            CHECK(top.len == 5 && top.items[0].obj == globals);
            rcy_retainers_release(&top);
            done++;
        }
        if (e4 == 0) {
            CHECK_EQ(diff.new_objects, 0);
            CHECK_EQ(diff.died_objects, 0);
            rcy_snapshot_diff_release(&diff);
            done++;
        }
        if (s != NULL)
            done++;
        rcy_snapshot_free(s);
        done += (e5 == 0) + (e6 == 0);
        CHECK_EQ(a.live, live);
        CHECK_EQ(rcy_runtime_live_objects(rt), objects);
        CHECK_EQ(rcy_gc_validate(rt), 0); /* every header given back, whatever failed */
    }
    CHECK_EQ(done, 6);
    rcy_snapshot_free(s0);
    unlink(dump);
    unlink(report);
    rmdir(dir);
    CHECK_EQ(rcy_root_remove(globals), 0);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(every_allocation_of_every_tool_may_fail);
    return harness_summary();
}
