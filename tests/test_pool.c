/*
 * Object memory of every size: blocks of every size class of the
 * small-object allocator (src/pool.c) and past it, allocated and freed in
 * scrambled orders, each object filled with a pattern that must survive
 * its neighbours' lives and deaths. In builds without the pools (sanitizer
 * builds, poisoning) the same tests check plain allocations.
 *
 * With the pools, the addresses of objects show the allocator's layout and
 * policy (16-byte size classes in 64 KiB pools, 1 MiB arenas): a pool's
 * blocks are carved in address order up to the last one that fits; a block
 * freed into a full pool is the next one handed out; the only usable pool
 * of a class is kept when it empties, any other empty pool goes back to its
 * arena for any class; and arenas whose pools are all empty stay mapped as
 * spares, up to four, and past those go back to the system (their memory
 * is unmapped), as the spares do at rcy_memory_trim.
 */
#define _POSIX_C_SOURCE 200809L /* msync */

#include "harness.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

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

/* How many objects a test of plain allocations makes: n, and in the
   Valgrind layer (RCY_TEST_SCALE), whose build has no pools (free lists
   off), at least `valgrind` (harness_scaled). Without pools the objects
   are malloc's blocks, and what the test shows there (each object intact
   whatever its neighbours do, every size) a few thousand objects show as
   well as n; with pools, where the number of objects decides how many
   pools and arenas fill, empty and change class, always n. */
static long plain_scaled(rcy_runtime_t *rt, long n, long valgrind)
{
    return rcy_freelists_enabled(rt) ? n : harness_scaled(n, valgrind);
}

TEST(test_every_size_scrambled)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *types[2] = {blob_type(rt, 0), blob_type(rt, 1)};
    /* 5,000 under Valgrind: about 17,500 objects made over the rounds,
       sizes drawn from 700, so every size still comes up. */
    const int nobj = (int)plain_scaled(rt, NOBJ, 5000);
    blob_t **objs = calloc((size_t)nobj, sizeof *objs);
    uintptr_t *seeds = calloc((size_t)nobj, sizeof *seeds);
    CHECK(objs != NULL && seeds != NULL);
    uint64_t x = 12345;
    size_t live = rcy_runtime_live_objects(rt);
    for (int round = 0; round < 6; round++) {
        /* Fill the holes with objects of sizes from 1 to 700 bytes. */
        for (int i = 0; i < nobj; i++) {
            if (objs[i] != NULL)
                continue;
            x = x * 6364136223846793005u + 1442695040888963407u;
            intptr_t n = (intptr_t)((x >> 33) % 700) + 1;
            seeds[i] = (uintptr_t)(x >> 20);
            objs[i] = make(types[(x >> 40) & 1], n, seeds[i]);
            CHECK(objs[i] != NULL);
        }
        int bad = 0;
        for (int i = 0; i < nobj; i++)
            bad += !intact(objs[i], seeds[i]);
        CHECK_EQ(bad, 0);
        /* Free a scrambled half (all of them in the last round). */
        for (int i = 0; i < nobj; i++) {
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
    /* 5,000 of each size under Valgrind (no pools: plain_scaled). */
    const int N = (int)plain_scaled(rt, 100000, 5000);
    blob_t **objs = calloc((size_t)N, sizeof *objs);
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

/* ---- The pools' layout and policy --------------------------------------- */

#define POOL_BYTES ((uintptr_t)64 * 1024)
#define POOL_HEADER_BYTES 48
#define ARENA_POOLS 16 /* 1 MiB arenas */
#define SPARE_ARENAS 4 /* RCYI_POOL_SPARE_ARENAS */

/* Whether objects of rt come from the pools: test_runtime uses the default
   allocator, so exactly when its free lists are in use. */
static int pools_on(rcy_runtime_t *rt)
{
    if (rcy_freelists_enabled(rt))
        return 1;
    fprintf(stderr, "  (%s: no pools in this build or runtime; layout checks skipped)\n", harness_current);
    return 0;
}

static uintptr_t pool_of(const void *o) { return (uintptr_t)o & ~(POOL_BYTES - 1); }
static uintptr_t offset_of(const void *o) { return (uintptr_t)o & (POOL_BYTES - 1); }

/* An object whose block (a non-container: no GC header) is exactly `bytes`
   bytes, a multiple of 16: a whole size class. */
static blob_t *make_block(rcy_type_t *t, size_t bytes, uintptr_t seed)
{
    return make(t, (intptr_t)(bytes - sizeof(blob_t)), seed);
}

/* Every size class in a fresh runtime: the first pool's blocks are carved
   in address order, up to the last one that fits; the next object starts
   a second pool. A block freed into the full first pool is handed out
   next (the pool is usable again, first), after which the full pool is
   left and the second pool goes on where it was. */
TEST(test_pool_carve_full_usable_again)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = blob_type(rt, 0);
    if (!pools_on(rt)) {
        test_runtime_end(rt);
        return;
    }
    blob_t **objs = calloc(2 * POOL_BYTES / 32 + 2, sizeof *objs);
    CHECK(objs != NULL);
    uintptr_t header = 0;
    for (size_t size = 32; size <= 512; size += 16) {
        /* The first pool: blocks one after the other from past the pool's
           header (the same for every class) to the end. */
        size_t n = 0;
        objs[n] = make_block(t, size, n);
        uintptr_t first = pool_of(objs[0]);
        if (size == 32)
            header = offset_of(objs[0]);
        CHECK_EQ(offset_of(objs[0]), header);
        for (;;) {
            n++;
            objs[n] = make_block(t, size, n);
            CHECK(objs[n] != NULL);
            if (pool_of(objs[n]) != first)
                break;
            CHECK_EQ((uintptr_t)objs[n] - (uintptr_t)objs[n - 1], size);
        }
        size_t nblocks = n;
        CHECK_EQ(nblocks, (POOL_BYTES - header) / size);
        CHECK(offset_of(objs[nblocks - 1]) + size <= POOL_BYTES);
        CHECK(offset_of(objs[nblocks - 1]) + 2 * size > POOL_BYTES);
        /* The second pool starts like the first. */
        blob_t *second = objs[nblocks];
        CHECK_EQ(offset_of(second), header);

        /* A block comes back to the full pool: it is the next one out. */
        size_t k = nblocks / 2;
        uintptr_t hole = (uintptr_t)objs[k];
        rcy_decref(&objs[k]->ob.ob);
        objs[k] = make_block(t, size, k);
        CHECK_EQ((uintptr_t)objs[k], hole);
        /* Two come back: last freed, first out. */
        uintptr_t hole1 = (uintptr_t)objs[1], hole2 = (uintptr_t)objs[nblocks - 1];
        rcy_decref(&objs[1]->ob.ob);
        rcy_decref(&objs[nblocks - 1]->ob.ob);
        objs[nblocks - 1] = make_block(t, size, nblocks - 1);
        objs[1] = make_block(t, size, 1);
        CHECK_EQ((uintptr_t)objs[nblocks - 1], hole2);
        CHECK_EQ((uintptr_t)objs[1], hole1);
        /* The first pool is full again: the second goes on. */
        n++;
        objs[n] = make_block(t, size, n);
        CHECK_EQ((uintptr_t)objs[n], (uintptr_t)second + size);

        int bad = 0;
        for (size_t i = 0; i <= n; i++)
            bad += !intact(objs[i], i);
        CHECK_EQ(bad, 0);
        for (size_t i = 0; i <= n; i++)
            rcy_decref(&objs[i]->ob.ob);
    }
    CHECK(header > 0 && header <= 64 && header % 16 == 0);
    free(objs);
    test_runtime_end(rt);
}

/* The only usable pool of a class is kept when it empties: no other class
   takes it, and the class's next object comes from it. Any other pool that
   empties goes back to its arena, where the next class needing a pool
   takes it. */
TEST(test_pool_empty_kept_or_returned)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = blob_type(rt, 0);
    if (!pools_on(rt)) {
        test_runtime_end(rt);
        return;
    }
    enum { A = 208, B = 240, C = 272, D = 304 };
    /* Allocate-and-free churn: the pool stays, and so does the block. */
    blob_t *a = make_block(t, A, 1);
    uintptr_t pa = pool_of(a), block = (uintptr_t)a;
    for (int i = 0; i < 1000; i++) {
        rcy_decref(&a->ob.ob);
        a = make_block(t, A, 1);
        CHECK_EQ((uintptr_t)a, block);
    }
    rcy_decref(&a->ob.ob);
    /* Empty and kept: a new class gets another pool, class A this one. */
    blob_t *b = make_block(t, B, 2);
    CHECK(pool_of(b) != pa);
    a = make_block(t, A, 3);
    CHECK_EQ(pool_of(a), pa);

    /* Class A fills its pool and starts a second one. */
    enum { N = 2 * (int)POOL_BYTES / A };
    blob_t *objs[N];
    objs[0] = a;
    size_t n = 1;
    while (n < N) {
        objs[n] = make_block(t, A, n);
        if (pool_of(objs[n++]) != pa)
            break;
    }
    CHECK(n < N);
    uintptr_t pa2 = pool_of(objs[n - 1]);
    CHECK(pa2 != pa);
    /* The second pool empties while it is the class's only usable pool
       (the first is full): kept. Then the first empties behind it: back to
       the arena, where class C finds it. */
    rcy_decref(&objs[n - 1]->ob.ob);
    for (size_t i = 0; i < n - 1; i++)
        rcy_decref(&objs[i]->ob.ob);
    blob_t *c = make_block(t, C, 4);
    CHECK_EQ(pool_of(c), pa);
    a = make_block(t, A, 5);
    CHECK_EQ(pool_of(a), pa2);
    /* And the pool of class C, emptied while the only one, stays C's. */
    uintptr_t pc = pool_of(c);
    rcy_decref(&c->ob.ob);
    blob_t *d = make_block(t, D, 6);
    CHECK(pool_of(d) != pc);
    c = make_block(t, C, 7);
    CHECK_EQ(pool_of(c), pc);

    CHECK(intact(a, 5) && intact(b, 2) && intact(c, 7) && intact(d, 6));
    rcy_decref(&a->ob.ob);
    rcy_decref(&b->ob.ob);
    rcy_decref(&c->ob.ob);
    rcy_decref(&d->ob.ob);
    test_runtime_end(rt);
}

/* Whether the memory at p (page aligned) is still mapped. */
static int mapped(uintptr_t p)
{
    if (msync((void *)p, 4096, MS_ASYNC) == 0)
        return 1;
    return errno == ENOMEM ? 0 : -1;
}

/* Objects spanning several arenas die: the arenas all of whose pools are
   empty go back to the system (their memory is unmapped), all but the one
   holding the pool kept for the class and at most SPARE_ARENAS spares,
   which rcy_memory_trim unmaps. Three times, the later ones in a scrambled
   order; then the memory serves again. */
TEST(test_pool_arenas_released)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = blob_type(rt, 0);
    if (!pools_on(rt)) {
        test_runtime_end(rt);
        return;
    }
    enum { SIZE = 512, PER_POOL = ((int)POOL_BYTES - POOL_HEADER_BYTES) / SIZE, NPOOLS = 8 * ARENA_POOLS, N = NPOOLS * PER_POOL };
    blob_t **objs = calloc(N, sizeof *objs);
    uintptr_t *pools = calloc(N, sizeof *pools);
    CHECK(objs != NULL && pools != NULL);
    uint64_t x = 99;
    for (int round = 0; round < 3; round++) {
        size_t npools = 0;
        for (size_t i = 0; i < N; i++) {
            objs[i] = make_block(t, SIZE, i);
            CHECK(objs[i] != NULL);
            if (npools == 0 || pools[npools - 1] != pool_of(objs[i]))
                pools[npools++] = pool_of(objs[i]);
        }
        CHECK_EQ(npools, NPOOLS);
        int bad = 0;
        for (size_t i = 0; i < N; i++)
            bad += !intact(objs[i], i);
        CHECK_EQ(bad, 0);
        /* Round 0 frees in allocation order, the others scrambled. */
        if (round > 0)
            for (size_t i = N - 1; i > 0; i--) {
                x = x * 6364136223846793005u + 1442695040888963407u;
                size_t j = (size_t)((x >> 33) % (i + 1));
                blob_t *o = objs[i];
                objs[i] = objs[j];
                objs[j] = o;
            }
        for (size_t i = 0; i < N; i++)
            rcy_decref(&objs[i]->ob.ob);
        /* One pool is kept for the class (the first to empty while the
           class had no other usable pool), and its arena with it; of the
           others, SPARE_ARENAS stay mapped, and the trim unmaps them. */
        size_t still = 0;
        for (size_t i = 0; i < npools; i++) {
            int m = mapped(pools[i]);
            CHECK(m >= 0);
            still += m > 0;
        }
        CHECK(still > ARENA_POOLS && still <= (1 + SPARE_ARENAS) * ARENA_POOLS);
        CHECK(rcy_memory_trim(rt) == 1);
        still = 0;
        for (size_t i = 0; i < npools; i++) {
            int m = mapped(pools[i]);
            CHECK(m >= 0);
            still += m > 0;
        }
        CHECK(still >= 1 && still <= ARENA_POOLS);
        /* The class's next object comes from the kept pool. */
        blob_t *o = make_block(t, SIZE, 0);
        int found = 0;
        for (size_t i = 0; i < npools; i++)
            found += pools[i] == pool_of(o) && mapped(pools[i]) == 1;
        CHECK_EQ(found, 1);
        rcy_decref(&o->ob.ob);
    }
    free(objs);
    free(pools);
    test_runtime_end(rt);
}

/* A destroyed runtime gives every arena back to the system, the ones
   holding the pools its classes kept empty included (each runtime used to
   leave those behind: their record and their 1 MiB mapping). */
TEST(test_pool_arenas_unmapped_at_destroy)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = blob_type(rt, 0);
    rcy_type_t *g = blob_type(rt, 1);
    if (!pools_on(rt)) {
        test_runtime_end(rt);
        return;
    }
    enum { N = 64 };
    uintptr_t pools[2 * N];
    size_t npools = 0;
    for (int i = 0; i < N; i++) { /* many classes: plain and container blocks of many sizes */
        blob_t *a = make(t, 4 * i, (uintptr_t)i);
        blob_t *b = make(g, 4 * i, (uintptr_t)i);
        CHECK(a != NULL && b != NULL);
        pools[npools++] = pool_of(a);
        pools[npools++] = pool_of(b);
        rcy_decref(&a->ob.ob);
        rcy_decref(&b->ob.ob);
    }
    size_t still = 0;
    for (size_t i = 0; i < npools; i++)
        still += mapped(pools[i]) == 1;
    CHECK_EQ(still, npools); /* each class keeps its emptied pool */
    test_runtime_end(rt);
    still = 0;
    for (size_t i = 0; i < npools; i++) {
        int m = mapped(pools[i]);
        CHECK(m >= 0);
        still += m > 0;
    }
    CHECK_EQ(still, 0);
}

int main(void)
{
    RUN(test_every_size_scrambled);
    RUN(test_pools_change_size);
    RUN(test_pool_carve_full_usable_again);
    RUN(test_pool_empty_kept_or_returned);
    RUN(test_pool_arenas_released);
    RUN(test_pool_arenas_unmapped_at_destroy);
    return harness_summary();
}
