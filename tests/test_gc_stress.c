/* The collector at scale: a random graph of a million containers with
   random cycles, half of its roots dropped, one full collection, and a
   check of every object against a reachability computed here, by the test,
   from the edges it made; and a million-node ring collected without growing
   the C stack.

   The size is 1,000,000 objects. RCY_STRESS_N in the environment sets
   another size. In the GC-stress build (a collection at every container
   allocation, with the debug build's heap validation after each, which
   walks the older generation: quadratic over a growing heap) the default
   is RCY_STRESS_SMALL_N nodes instead; the test detects that build at run
   time and prints the size it uses. */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OB(x) ((rcy_object_t *)(x))

#define RCY_STRESS_DEFAULT_N 1000000
#define RCY_STRESS_SMALL_N 30000

typedef struct snode_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *b;
    int32_t id;     /* index in the test's side tables */
    uint64_t check; /* payload derived from id */
} snode_t;

/* ---- Side tables ----------------------------------------------------- */

static unsigned char *dead; /* deallocations per id */
static long n_dead;
static long bad_deaths; /* a second death, or a damaged payload at death */

/* Stack use: the deepest frame seen in the slots, below the test's own. */
static uintptr_t stack_base;
static size_t max_depth;

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static void note_depth(void)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (here < stack_base && stack_base - here > max_depth)
        max_depth = stack_base - here;
}

static int snode_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    snode_t *n = (snode_t *)self;
    note_depth();
    RCY_VISIT(n->a);
    RCY_VISIT(n->b);
    return 0;
}

static int snode_clear(rcy_object_t *self)
{
    snode_t *n = (snode_t *)self;
    RCY_CLEAR(n->a);
    RCY_CLEAR(n->b);
    return 0;
}

static void snode_dealloc(rcy_object_t *self)
{
    snode_t *n = (snode_t *)self;
    note_depth();
    if (dead[n->id] != 0 || n->check != mix((uint64_t)n->id))
        bad_deaths++;
    dead[n->id]++;
    n_dead++;
    snode_clear(self);
}

static rcy_type_t *snode_type(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "SNode";
    spec.basicsize = sizeof(snode_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = snode_traverse;
    spec.clear = snode_clear;
    spec.dealloc = snode_dealloc;
    return rcy_type_new(rt, &spec);
}

/* ---- Random numbers (xorshift64*, fixed seed) ------------------------- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t rng_below(uint32_t n) { return (uint32_t)((rng_next() >> 32) % n); }

/* ---- Helpers --------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        exit(2);
    }
    return p;
}

static long graph_size(int stress)
{
    const char *env = getenv("RCY_STRESS_N");
    if (env != NULL && *env != '\0') {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 2 && n <= 100000000)
            return n;
        fprintf(stderr, "ignoring RCY_STRESS_N=%s (want 2..100000000)\n", env);
    }
    return harness_scaled(stress ? RCY_STRESS_SMALL_N : RCY_STRESS_DEFAULT_N, 1000); /* RCY_TEST_SCALE */
}

static long N;

static void tables_reset(long n)
{
    free(dead);
    dead = calloc((size_t)n, 1);
    if (dead == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    n_dead = 0;
    bad_deaths = 0;
    max_depth = 0;
}

/* ---- The random graph ------------------------------------------------- */

/* Nodes come in groups of 1..200 consecutive ids. Most groups are rings
   (a cycle through every member, a self-loop for a group of one), one in
   five is a chain (no edge closes it); b edges add cycles inside a group
   (30 %) and, rarely (0.3 %), an edge to any node of the graph, which makes
   groups share what they reach. Roots are the first node of half of the
   groups plus N / 1000 random nodes; a random half of the roots is then
   dropped. */
TEST(test_random_graph)
{
    double t0 = now_seconds();
    tables_reset(N);
    stack_base = (uintptr_t)__builtin_frame_address(0);
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = snode_type(rt);
    CHECK(t != NULL);
    snode_t **ptr = xmalloc((size_t)N * sizeof *ptr);
    int32_t *ea = xmalloc((size_t)N * sizeof *ea), *eb = xmalloc((size_t)N * sizeof *eb);

    /* Objects first (automatic collection on: everything is referenced by
       the test, so nothing may die), then edges. */
    for (long i = 0; i < N; i++) {
        snode_t *n = (snode_t *)rcy_new(t);
        if (n == NULL) {
            fprintf(stderr, "allocation %ld failed\n", i);
            exit(2);
        }
        n->id = (int32_t)i;
        n->check = mix((uint64_t)i);
        ptr[i] = n;
    }
    CHECK_EQ(n_dead, 0);

    long n_random_roots = N / 1000 + 1;
    long max_roots = N / 2 + n_random_roots;
    int32_t *roots = xmalloc((size_t)max_roots * sizeof *roots);
    long n_roots = 0;
    long groups = 0;
    for (long s = 0; s < N; groups++) {
        long g = 1 + (long)rng_below(200);
        if (g > N - s)
            g = N - s;
        int chain = rng_below(5) == 0;
        for (long j = s; j < s + g; j++) {
            long next = s + (j - s + 1) % g;
            ea[j] = chain && j == s + g - 1 ? -1 : (int32_t)next;
            uint32_t r = rng_below(1000);
            if (r < 300)
                eb[j] = (int32_t)(s + (long)rng_below((uint32_t)g));
            else if (r < 303)
                eb[j] = (int32_t)rng_below((uint32_t)N);
            else
                eb[j] = -1;
        }
        if (rng_below(2) == 0 && n_roots < max_roots)
            roots[n_roots++] = (int32_t)s;
        s += g;
    }
    for (long k = 0; k < n_random_roots && n_roots < max_roots; k++)
        roots[n_roots++] = (int32_t)rng_below((uint32_t)N);
    for (long i = 0; i < N; i++) {
        if (ea[i] >= 0)
            RCY_XSETREF(ptr[i]->a, OB(ptr[ea[i]]));
        if (eb[i] >= 0)
            RCY_XSETREF(ptr[i]->b, OB(ptr[eb[i]]));
    }
    for (long k = 0; k < n_roots; k++)
        rcy_incref(OB(ptr[roots[k]]));
    double t_build = now_seconds();

    /* The test lets go of everything but the roots: what is not in a cycle
       and not reachable from a root dies now, by reference counting. */
    for (long i = 0; i < N; i++)
        rcy_decref(OB(ptr[i]));
    CHECK_EQ(bad_deaths, 0);
    /* Drop a random half of the roots (Fisher-Yates, then the first half). */
    for (long k = n_roots - 1; k > 0; k--) {
        long j = (long)rng_below((uint32_t)(k + 1));
        int32_t tmp = roots[k];
        roots[k] = roots[j];
        roots[j] = tmp;
    }
    long dropped = n_roots / 2;
    for (long k = 0; k < dropped; k++)
        rcy_decref(OB(ptr[roots[k]]));
    long dead_before = n_dead;

    double t1 = now_seconds();
    intptr_t found = rcy_gc_collect(rt, 2);
    double t_collect = now_seconds() - t1;

    /* Reachability from the remaining roots, with an explicit stack; and
       how many references each reachable object should have. */
    unsigned char *reach = calloc((size_t)N, 1);
    int32_t *stack = xmalloc((size_t)N * sizeof *stack);
    int32_t *refs = calloc((size_t)N, sizeof *refs);
    if (reach == NULL || refs == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    long sp = 0, n_reach = 0;
    for (long k = dropped; k < n_roots; k++) {
        int32_t r = roots[k];
        refs[r]++;
        if (!reach[r]) {
            reach[r] = 1;
            stack[sp++] = r;
        }
    }
    while (sp > 0) {
        int32_t v = stack[--sp];
        n_reach++;
        int32_t out[2] = {ea[v], eb[v]};
        for (int e = 0; e < 2; e++) {
            int32_t w = out[e];
            if (w < 0)
                continue;
            refs[w]++;
            if (!reach[w]) {
                reach[w] = 1;
                stack[sp++] = w;
            }
        }
    }

    /* Every reachable object is alive and unchanged, every other one was
       freed exactly once. */
    long wrong_alive = 0, wrong_dead = 0, damaged = 0, wrong_refcnt = 0;
    for (long i = 0; i < N; i++) {
        if (!reach[i]) {
            wrong_alive += dead[i] != 1;
            continue;
        }
        if (dead[i] != 0) {
            wrong_dead++;
            continue;
        }
        snode_t *n = ptr[i];
        if (n->id != (int32_t)i || n->check != mix((uint64_t)i) || n->a != (ea[i] >= 0 ? OB(ptr[ea[i]]) : NULL) ||
            n->b != (eb[i] >= 0 ? OB(ptr[eb[i]]) : NULL) || rcy_type(OB(n)) != t || !rcy_gc_is_tracked(OB(n)))
            damaged++;
        if (rcy_getrefcount(OB(n)) != refs[i])
            wrong_refcnt++;
    }
    CHECK_EQ(wrong_alive, 0);
    CHECK_EQ(wrong_dead, 0);
    CHECK_EQ(damaged, 0);
    CHECK_EQ(wrong_refcnt, 0);
    CHECK_EQ(bad_deaths, 0);
    CHECK_EQ((long)rcy_runtime_live_objects(rt), n_reach);
    CHECK_EQ(n_dead, N - n_reach);
    CHECK_EQ(found, N - n_reach - dead_before);
    CHECK(n_reach > N / 10 && n_reach < N - N / 10); /* the graph is interesting */
    CHECK(found > N / 10);

    /* A second full collection finds nothing. */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ((long)rcy_runtime_live_objects(rt), n_reach);

    fprintf(stderr,
            "  random graph: %ld nodes in %ld groups, %ld roots (%ld dropped); %ld died by refcounting, "
            "the collection found %ld, %ld reachable\n"
            "  build %.2fs, full collection %.3fs, deepest slot frame %zu bytes below the test\n",
            N, groups, n_roots, dropped, dead_before, (long)found, n_reach, t_build - t0, t_collect, max_depth);

    /* Everything else goes too. */
    for (long k = dropped; k < n_roots; k++)
        rcy_decref(OB(ptr[roots[k]]));
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_dead, N);
    CHECK_EQ(bad_deaths, 0);
    free(reach);
    free(stack);
    free(refs);
    free(roots);
    free(ea);
    free(eb);
    free(ptr);
    test_runtime_end(rt);
    fprintf(stderr, "  total %.2fs\n", now_seconds() - t0);
}

/* ---- One long ring ---------------------------------------------------- */

/* N nodes, each referring to the next, the last to the first. Held at its
   middle node, it survives (the collector walks the whole ring from there);
   released, one collection frees it all: clearing one node starts a chain
   of N deallocations, which the trashcan keeps flat. Neither the collector
   nor the deallocations may recurse along the ring. */
TEST(test_long_ring)
{
    double t0 = now_seconds();
    tables_reset(N);
    stack_base = (uintptr_t)__builtin_frame_address(0);
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = snode_type(rt);
    snode_t *first = NULL, *prev = NULL, *middle = NULL;
    for (long i = 0; i < N; i++) {
        snode_t *n = (snode_t *)rcy_new(t);
        if (n == NULL) {
            fprintf(stderr, "allocation %ld failed\n", i);
            exit(2);
        }
        n->id = (int32_t)i;
        n->check = mix((uint64_t)i);
        if (prev != NULL) {
            prev->a = OB(n); /* takes the creation reference */
        } else {
            first = n;
        }
        if (i == N / 2)
            middle = (snode_t *)rcy_newref(OB(n));
        prev = n;
    }
    prev->a = rcy_newref(OB(first));
    rcy_decref(OB(first)); /* the ring holds it now */
    CHECK_EQ((long)rcy_runtime_live_objects(rt), N);
    CHECK_EQ(n_dead, 0);

    double t1 = now_seconds();
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    double t_live = now_seconds() - t1;
    CHECK_EQ(n_dead, 0);
    long len = 0;
    int intact = 1;
    const snode_t *n = middle;
    do {
        intact &= n->id == (int32_t)((N / 2 + len) % N) && n->check == mix((uint64_t)n->id);
        n = (const snode_t *)n->a;
        len++;
    } while (n != middle && len <= N);
    CHECK_EQ(len, N);
    CHECK(intact);

    rcy_decref(OB(middle));
    CHECK_EQ((long)rcy_runtime_live_objects(rt), N);
    t1 = now_seconds();
    CHECK_EQ(rcy_gc_collect(rt, 2), N);
    double t_dead = now_seconds() - t1;
    CHECK_EQ(n_dead, N);
    CHECK_EQ(bad_deaths, 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    /* Flat: a recursion along the ring would be N frames deep (tens of
       megabytes); the trashcan's bounded nesting stays far below this. */
    CHECK(max_depth < 512 * 1024);
    fprintf(stderr,
            "  ring of %ld: live full collection %.3fs, collecting it %.3fs, deepest slot frame %zu bytes below "
            "the test, total %.2fs\n",
            N, t_live, t_dead, max_depth, now_seconds() - t0);
    test_runtime_end(rt);
}

int main(void)
{
    int stress = HARNESS_GC_STRESS;
    N = graph_size(stress);
    fprintf(stderr, "test_gc_stress: N = %ld%s\n", N,
            stress ? " (GC-stress build detected: every container allocation collects)" : "");
    RUN(test_random_graph);
    RUN(test_long_ring);
    free(dead);
    return harness_summary();
}
