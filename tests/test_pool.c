/*
 * Object memory of every size: blocks of every size class of the
 * small-object allocator (src/pool.c) and past it, allocated and freed in
 * scrambled orders, each object filled with a pattern that must survive
 * its neighbours' lives and deaths. In builds without the pools (sanitizer
 * builds, poisoning) the same test checks plain allocations.
 */
#include "harness.h"

#include <stdint.h>

/* A variable-size object: n payload bytes after the header, a container
   when the type says so. */
typedef struct blob_s {
    rcy_varobject_t ob;
    unsigned char bytes[];
} blob_t;

static int blob_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static int blob_clear(rcy_object_t *self)
{
    (void)self;
    return 0;
}

static rcy_type_t *blob_type(rcy_runtime_t *rt, int gc)
{
    rcy_type_spec_t spec = {0};
    spec.name = gc ? "gcblob" : "blob";
    spec.basicsize = sizeof(blob_t);
    spec.itemsize = 1;
    if (gc) {
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = blob_traverse;
        spec.clear = blob_clear;
    }
    return rcy_type_new(rt, &spec);
}

static unsigned char pattern(uintptr_t seed, intptr_t i) { return (unsigned char)((seed * 31 + (uintptr_t)i * 7) & 0xff); }

static blob_t *make(rcy_type_t *t, intptr_t n, uintptr_t seed)
{
    blob_t *b = (blob_t *)rcy_new_var(t, n);
    if (b != NULL)
        for (intptr_t i = 0; i < n; i++)
            b->bytes[i] = pattern(seed, i);
    return b;
}

static int intact(const blob_t *b, uintptr_t seed)
{
    for (intptr_t i = 0; i < b->ob.size; i++)
        if (b->bytes[i] != pattern(seed, i))
            return 0;
    return 1;
}

#define NOBJ 20000

TEST(test_every_size_scrambled)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *types[2] = {blob_type(rt, 0), blob_type(rt, 1)};
    blob_t **objs = calloc(NOBJ, sizeof *objs);
    uintptr_t *seeds = calloc(NOBJ, sizeof *seeds);
    CHECK(objs != NULL && seeds != NULL);
    uint64_t x = 12345;
    size_t live = rcy_runtime_live_objects(rt);
    for (int round = 0; round < 6; round++) {
        /* Fill the holes with objects of sizes from 1 to 700 bytes. */
        for (int i = 0; i < NOBJ; i++) {
            if (objs[i] != NULL)
                continue;
            x = x * 6364136223846793005u + 1442695040888963407u;
            intptr_t n = (intptr_t)((x >> 33) % 700) + 1;
            seeds[i] = (uintptr_t)(x >> 20);
            objs[i] = make(types[(x >> 40) & 1], n, seeds[i]);
            CHECK(objs[i] != NULL);
        }
        int bad = 0;
        for (int i = 0; i < NOBJ; i++)
            bad += !intact(objs[i], seeds[i]);
        CHECK_EQ(bad, 0);
        /* Free a scrambled half (all of them in the last round). */
        for (int i = 0; i < NOBJ; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            if (round == 5 || ((x >> 35) & 1)) {
                rcy_decref(&objs[i]->ob.ob);
                objs[i] = NULL;
            }
        }
    }
    CHECK_EQ(rcy_runtime_live_objects(rt), live);
    free(objs);
    free(seeds);
    test_runtime_end(rt);
}

/* Many objects of one size die, then as many of another size take their
   memory: emptied pools serve other sizes. */
TEST(test_pools_change_size)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = blob_type(rt, 1);
    enum { N = 100000 };
    blob_t **objs = calloc(N, sizeof *objs);
    CHECK(objs != NULL);
    for (int size = 8; size <= 264; size += 64) {
        for (int i = 0; i < N; i++)
            objs[i] = make(t, size, (uintptr_t)i);
        int bad = 0;
        for (int i = 0; i < N; i++)
            bad += !intact(objs[i], (uintptr_t)i);
        CHECK_EQ(bad, 0);
        for (int i = N - 1; i >= 0; i--)
            rcy_decref(&objs[i]->ob.ob);
    }
    free(objs);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_every_size_scrambled);
    RUN(test_pools_change_size);
    return harness_summary();
}
