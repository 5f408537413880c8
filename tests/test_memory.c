/* Memory figures: the process's (RSS, USS, PSS, peak RSS from /proc), the
   runtime's own (objects, tracked containers, free lists, the allocator),
   and rcy_memory_trim giving free memory back. */
#include "harness.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static char *volatile sink; /* where a block escapes to */

TEST(process_memory_figures)
{
    rcy_process_memory_t m;
    rcy_process_memory_init(&m);
    CHECK_EQ(rcy_process_memory(NULL), RCY_EINVAL);
    int r = rcy_process_memory(&m);
    if (r == RCY_ESTATE) {
        fprintf(stderr, "note: no /proc here: process figures not checked\n");
        return;
    }
    CHECK_EQ(r, 0);
    CHECK(m.rss > 0);
    CHECK(m.uss > 0 && m.uss <= m.rss);
    CHECK(m.pss >= m.uss && m.pss <= m.rss);
    CHECK(m.peak_rss >= m.rss / 2); /* VmHWM is read a moment apart from smaps */

    /* Touching 64 MiB of fresh private memory shows in USS and RSS. */
    size_t big = (size_t)64 << 20;
    char *p = malloc(big);
    CHECK(p != NULL);
    if (p == NULL)
        return;
    for (size_t i = 0; i < big; i += 4096)
        p[i] = (char)i;
    sink = p; /* escapes: the compiler may not elide the block (clang does) */
    rcy_process_memory_t m2;
    rcy_process_memory_init(&m2);
    CHECK_EQ(rcy_process_memory(&m2), 0);
    CHECK(m2.uss >= m.uss + big / 2);
    CHECK(m2.rss >= m.rss + big / 2);
    CHECK(m2.peak_rss >= m2.rss / 2);
    free(p);
}

TEST(runtime_memory_figures)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_runtime_memory_t m0, m;
    rcy_runtime_memory_init(&m0);
    rcy_runtime_memory_init(&m);
    CHECK_EQ(rcy_runtime_memory(NULL, &m0), RCY_EINVAL);
    CHECK_EQ(rcy_runtime_memory(rt, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_runtime_memory(rt, &m0), 0);
    rcy_object_t *lists[100];
    for (int i = 0; i < 100; i++)
        lists[i] = rcy_list_new(rt);
    rcy_object_t *s = rcy_str_new(rt, "an untracked object");
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK_EQ(m.objects, m0.objects + 101);
    CHECK_EQ(m.objects, rcy_runtime_live_objects(rt));
    CHECK_EQ(m.object_bytes, rcy_runtime_live_bytes(rt));
    CHECK_EQ(m.tracked, m0.tracked + 100);
    CHECK_EQ(m.freelist_objects, rcy_freelists_size(rt));
#if defined(__GLIBC__) && !HARNESS_ASAN /* ASan replaces malloc: mallinfo2 says 0 */
    if (!harness_under_valgrind()) /* so does Valgrind */
        CHECK(m.malloc_in_use > 0);
#endif
    for (int i = 0; i < 100; i++)
        rcy_decref(lists[i]);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK_EQ(m.tracked, m0.tracked);
    CHECK_EQ(m.freelist_objects, rcy_freelists_size(rt));
    if (rcy_freelists_enabled(rt)) {
        /* 80 dead lists are kept for reuse (CPython's PyList_MAXFREELIST). */
        CHECK(m.freelist_objects >= 80);
        CHECK(m.freelist_bytes > 0);
        CHECK_EQ(m.freelist_bytes % m.freelist_objects, 0); /* lists are all one size */
    } else {
        CHECK_EQ(m.freelist_objects, 0);
        CHECK_EQ(m.freelist_bytes, 0);
    }
    /* A caller built against the header before collector_bytes: its size
       is accepted and nothing past its fields is written. */
    union {
        rcy_runtime_memory_t m;
        unsigned char bytes[sizeof(rcy_runtime_memory_t)];
    } old;
    memset(old.bytes, 0xAB, sizeof old.bytes);
    old.m.size = offsetof(rcy_runtime_memory_t, collector_bytes);
    CHECK_EQ(rcy_runtime_memory(rt, &old.m), 0);
    CHECK_EQ(old.m.size, offsetof(rcy_runtime_memory_t, collector_bytes));
    CHECK_EQ(old.m.objects, rcy_runtime_live_objects(rt));
    for (size_t i = offsetof(rcy_runtime_memory_t, collector_bytes); i < sizeof old.bytes; i++)
        CHECK_EQ(old.bytes[i], 0xAB);
    old.m.size = offsetof(rcy_runtime_memory_t, collector_bytes) - 1;
    CHECK_EQ(rcy_runtime_memory(rt, &old.m), RCY_EINVAL);
    rcy_decref(s);
    test_runtime_end(rt);
}

TEST(trim_empties_the_free_lists)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = 1; /* quarantine on: counted */
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_decref(l);
    rcy_runtime_memory_t m;
    rcy_runtime_memory_init(&m);
    rcy_runtime_memory(rt, &m);
    CHECK(m.quarantined >= 1);
    rcy_runtime_destroy(rt);

    rt = test_runtime(NULL);
    rcy_object_t *item = rcy_str_new(rt, "item");
    rcy_object_t *objs[200];
    for (int i = 0; i < 200; i++) {
        rcy_object_t *pair[2] = {item, item};
        objs[i] = i % 2 ? rcy_tuple_new(rt, 2, pair) : rcy_dict_new(rt);
    }
    for (int i = 0; i < 200; i++)
        rcy_decref(objs[i]);
    rcy_decref(item);
    int r = rcy_memory_trim(rt);
    CHECK(r == 0 || r == 1);
    CHECK_EQ(rcy_freelists_size(rt), 0);
    rcy_runtime_memory(rt, &m);
    CHECK_EQ(m.freelist_objects, 0);
    CHECK_EQ(m.freelist_bytes, 0);
    CHECK_EQ(rcy_memory_trim(NULL), RCY_EINVAL);

    /* A big heap released, then trimmed: the allocator keeps less free. */
    rcy_object_t *big = rcy_list_new(rt);
    for (int i = 0; i < 200000; i++) {
        rcy_object_t *x = rcy_float_new(rt, (double)i);
        rcy_list_append(big, x);
        rcy_decref(x);
    }
    rcy_decref(big);
    rcy_runtime_memory_t before, after;
    rcy_runtime_memory_init(&before);
    rcy_runtime_memory_init(&after);
    rcy_runtime_memory(rt, &before);
    rcy_memory_trim(rt);
    rcy_runtime_memory(rt, &after);
    CHECK(after.malloc_free <= before.malloc_free);
    test_runtime_end(rt);
}

/* n garbage cycles, each a list holding itself. */
static void make_self_cycles(rcy_runtime_t *rt, long n)
{
    for (long i = 0; i < n; i++) {
        rcy_object_t *l = rcy_list_new(rt);
        CHECK_EQ(rcy_list_append(l, l), 0);
        rcy_decref(l);
    }
}

/* The young collections' working arrays (the scan order, generation 1's
   hints): a collection of a large set grows them (a young one, or a full
   one while objects are frozen, or the resurrection check of one that
   found much garbage with finalizers), and they stayed at that size for
   the runtime's life (up to 8 MiB); a full collection gives them back to
   what the young collections since needed, rcy_memory_trim to their first
   size, and the collections after grow them again. */
TEST(collector_arrays_given_back)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_runtime_memory_t m;
    rcy_runtime_memory_init(&m);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    size_t first = m.collector_bytes;
    CHECK(first > 0 && first <= 16384);
    long n = harness_scaled(200000, 20000);
    rcy_gc_disable(rt); /* (and no collection at every allocation in the stress build) */
    rcy_object_t *big = rcy_list_new(rt);
    for (long i = 0; i < n; i++) {
        rcy_object_t *l = rcy_list_new(rt);
        CHECK_EQ(rcy_list_append(big, l), 0);
        rcy_decref(l);
    }
    /* One young collection of all of them: its scan order holds them. */
    CHECK_EQ(rcy_gc_collect(rt, 1), 0);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK(m.collector_bytes >= (size_t)n * sizeof(void *));
    CHECK_EQ(rcy_memory_trim(rt), 1);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK(m.collector_bytes <= first);
    /* A full collection while objects are frozen (which walks the lists as
       a young collection does) grows it over the heap, then gives it back. */
    CHECK_EQ(rcy_gc_freeze(rt), 0);
    long half = n / 2;
    make_self_cycles(rt, half);
    CHECK_EQ(rcy_gc_collect(rt, 2), half);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK(m.collector_bytes <= first);
    CHECK_EQ(rcy_gc_unfreeze(rt), 0);
    /* And the young collections still find their garbage, growing it
       again: q cycles, each a list holding itself. */
    long q = n / 4;
    make_self_cycles(rt, q);
    CHECK_EQ(rcy_gc_collect(rt, 1), q);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK(m.collector_bytes >= (size_t)q * sizeof(void *));
    /* A full collection after such young collections keeps what they
       needed (a doubling of the first size), not what it grew to over the
       whole heap (n lists and big). */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK(m.collector_bytes >= (size_t)q * sizeof(void *));
    CHECK(m.collector_bytes <= 2 * ((size_t)q + 16) * sizeof(void *) + first);
    CHECK(m.collector_bytes < (size_t)n * sizeof(void *));
    CHECK_EQ(rcy_memory_trim(rt), 1);
    CHECK_EQ(rcy_runtime_memory(rt, &m), 0);
    CHECK(m.collector_bytes <= first);
    rcy_decref(big);
    rcy_gc_enable(rt);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(process_memory_figures);
    RUN(runtime_memory_figures);
    RUN(trim_empties_the_free_lists);
    RUN(collector_arrays_given_back);
    return harness_summary();
}
