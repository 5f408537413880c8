/*
 * The heap tools of issue 18 on large heaps (docs/benchmarks.md records the
 * figures; nothing here is a timed test).
 *
 *   bench_heaptools dominators N [REPS]
 *       A heap of N 2-slot objects under one registered root: half of them a
 *       single chain (N/2 deep), half a complete binary tree whose leaves
 *       refer to two random nodes of the tree (cross edges and cycles).
 *       Interleaved, REPS times: rcy_get_leaking_objects (the snapshot with
 *       edges and its reverse index: the heap walk every tool pays) and
 *       rcy_largest_retainers(10) (the same walk plus the dominator tree and
 *       the retained sizes). Reports the thread CPU seconds of each (median)
 *       and the peak RSS the process grew by during the tool calls.
 *
 *   bench_heaptools sites N [REPS]
 *       The cost of allocation sites: N allocations and deaths of a 2-slot
 *       object and of a list, in batches of 1000, in six modes,
 *       interleaved REPS times: plain (the function itself, (rcy_new)(t): a
 *       program built without RCY_TRACE_SITES), macro (the RCY_TRACE_SITES
 *       macro with recording stopped), on (every allocation recorded),
 *       sampled (1 in 64), backtrace (every one, glibc's backtrace, 8
 *       frames) and sampled-backtrace (both). Recording stops between
 *       modes, which gives the types their own on_death slots back. Reports the median thread CPU nanoseconds per allocation
 *       and death, and the ratio to plain.
 *   bench_heaptools sites-MODE N
 *       One mode alone, for `perf stat -e instructions:u` (docs/benchmarks.md).
 *
 * Every case ends with zero live objects.
 */
#define RCY_TRACE_SITES 1 /* the allocation macros; (name)(args) calls the plain function */
#include "bench.h"

#include <execinfo.h>

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static rcy_object_t *build_heap(rcy_type_t *node, long n)
{
    bnode_t **nodes = (bnode_t **)calloc((size_t)n, sizeof *nodes);
    if (nodes == NULL)
        bench_die("out of memory");
    for (long i = 0; i < n; i++)
        nodes[i] = bnode_new(node);
    long half = n / 2;
    /* The chain: 0 -> 1 -> ... -> half-1. */
    for (long i = 0; i + 1 < half; i++)
        bnode_set(&nodes[i]->a, &nodes[i + 1]->ob);
    /* The other half: a complete binary tree (node j holds 2j+1 and 2j+2),
       whose leaves refer to two random nodes of the tree each: cross edges
       and cycles. */
    bench_rng_t rng = {42};
    long m = n - half;
    bnode_t **tree = nodes + half;
    for (long j = 0; j < m; j++) {
        if (2 * j + 1 < m) {
            bnode_set(&tree[j]->a, &tree[2 * j + 1]->ob);
            if (2 * j + 2 < m)
                bnode_set(&tree[j]->b, &tree[2 * j + 2]->ob);
        } else {
            bnode_set(&tree[j]->a, &tree[bench_rng_below(&rng, (uint64_t)m)]->ob);
            bnode_set(&tree[j]->b, &tree[bench_rng_below(&rng, (uint64_t)m)]->ob);
        }
    }
    bnode_t *root = bnode_new(node);
    bnode_set(&root->a, &nodes[0]->ob);
    bnode_set(&root->b, &nodes[half]->ob);
    for (long i = 0; i < n; i++)
        rcy_decref(&nodes[i]->ob);
    free(nodes);
    if (rcy_root_add(&root->ob, "root") != 0)
        bench_die("root_add");
    rcy_decref(&root->ob); /* the registry holds it */
    return &root->ob;
}

static void case_dominators(long n, int reps)
{
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_gc_disable(rt);
    rcy_type_t *node = bnode_type_new(rt);
    double t0 = bench_now();
    rcy_object_t *root = build_heap(node, n);
    bench_emit("heaptools", "dominators", n, "build_s", bench_now() - t0);
    rcy_process_memory_t before, after;
    rcy_process_memory_init(&before);
    rcy_process_memory_init(&after);
    rcy_process_memory(&before);
    double *walk = calloc((size_t)reps, sizeof *walk), *dom = calloc((size_t)reps, sizeof *dom);
    if (walk == NULL || dom == NULL)
        bench_die("out of memory");
    size_t top_bytes = 0;
    for (int r = 0; r < reps; r++) {
        rcy_objarray_t leaking = {0};
        double c = thread_cpu();
        if (rcy_get_leaking_objects(rt, &leaking) != 0)
            bench_die("get_leaking_objects");
        walk[r] = thread_cpu() - c;
        rcy_objarray_release(&leaking);
        rcy_retainers_t top;
        c = thread_cpu();
        if (rcy_largest_retainers(rt, 10, &top) != 0)
            bench_die("largest_retainers");
        dom[r] = thread_cpu() - c;
        if (top.len == 0 || top.items[0].obj != root)
            bench_die("the root should retain the most");
        top_bytes = top.items[0].bytes;
        rcy_retainers_release(&top);
    }
    rcy_process_memory(&after);
    bench_emit("heaptools", "dominators", n, "walk_cpu_s", bench_median(walk, (size_t)reps));
    bench_emit("heaptools", "dominators", n, "retainers_cpu_s", bench_median(dom, (size_t)reps));
    bench_emit("heaptools", "dominators", n, "peak_rss_growth_bytes",
               (double)(after.peak_rss > before.rss ? after.peak_rss - before.rss : 0));
    bench_emit("heaptools", "dominators", n, "heap_bytes", (double)rcy_census_bytes(rt, "Node"));
    bench_emit("heaptools", "dominators", n, "root_retained_bytes", (double)top_bytes);
    free(walk);
    free(dom);
    rcy_root_remove(root);
    bench_finish(rt);
}

enum { MODE_PLAIN, MODE_MACRO, MODE_ON, MODE_SAMPLED, MODE_BACKTRACE, MODE_SAMPLED_BT, N_MODES };
static const char *const mode_names[N_MODES] = {"plain", "macro", "on", "sampled", "backtrace", "sampled-backtrace"};

#define BATCH 1000

/* n allocations (half 2-slot objects, half lists) and their deaths. */
static void churn(rcy_runtime_t *rt, rcy_type_t *node, long n, int mode)
{
    rcy_object_t *batch[BATCH];
    for (long done = 0; done < n; done += BATCH) {
        if (mode == MODE_PLAIN) {
            for (int i = 0; i < BATCH; i += 2) {
                batch[i] = (rcy_new)(node);
                batch[i + 1] = (rcy_list_new)(rt);
            }
        } else {
            for (int i = 0; i < BATCH; i += 2) {
                batch[i] = rcy_new(node);
                batch[i + 1] = rcy_list_new(rt);
            }
        }
        for (int i = BATCH; i > 0; i--)
            rcy_decref(batch[i - 1]);
    }
}

static void set_mode(rcy_runtime_t *rt, int mode)
{
    rcy_sites_stop(rt);
    if (mode < MODE_ON)
        return;
    rcy_sites_options_t opts;
    rcy_sites_options_init(&opts);
    if (mode == MODE_SAMPLED || mode == MODE_SAMPLED_BT)
        opts.sample = 64;
    if (mode == MODE_BACKTRACE || mode == MODE_SAMPLED_BT)
        opts.backtrace = backtrace;
    if (rcy_sites_start(rt, &opts) != 0)
        bench_die("sites_start");
}

static void case_sites(long n, int reps, int only)
{
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_type_t *node = bnode_type_new(rt);
    double *t[N_MODES];
    for (int m = 0; m < N_MODES; m++) {
        t[m] = calloc((size_t)reps, sizeof *t[m]);
        if (t[m] == NULL)
            bench_die("out of memory");
    }
    if (only >= 0) {
        set_mode(rt, only);
        churn(rt, node, n, only);
    } else {
        churn(rt, node, n / 10 + BATCH, MODE_PLAIN); /* warm the pools and free lists */
        for (int r = 0; r < reps; r++) {
            for (int m = 0; m < N_MODES; m++) {
                set_mode(rt, m);
                double c = thread_cpu();
                churn(rt, node, n, m);
                t[m][r] = thread_cpu() - c;
            }
        }
        double plain = bench_median(t[MODE_PLAIN], (size_t)reps);
        for (int m = 0; m < N_MODES; m++) {
            double med = bench_median(t[m], (size_t)reps);
            char kase[32];
            snprintf(kase, sizeof kase, "sites-%s", mode_names[m]);
            bench_emit("heaptools", kase, n, "ns_per_alloc", med * 1e9 / (double)n);
            bench_emit("heaptools", kase, n, "ratio_to_plain", med / plain);
        }
    }
    rcy_sites_stop(rt);
    for (int m = 0; m < N_MODES; m++)
        free(t[m]);
    bench_finish(rt);
}

int main(int argc, char **argv)
{
    const char *kase;
    long n;
    int reps;
    bench_args(argc, argv, &kase, &n, &reps, 3);
    if (strcmp(kase, "dominators") == 0) {
        case_dominators(n, reps);
        return 0;
    }
    if (strcmp(kase, "sites") == 0) {
        case_sites(n, reps, -1);
        return 0;
    }
    for (int m = 0; m < N_MODES; m++) {
        if (strncmp(kase, "sites-", 6) == 0 && strcmp(kase + 6, mode_names[m]) == 0) {
            case_sites(n, 1, m);
            return 0;
        }
    }
    bench_die("unknown case");
    return 0;
}
