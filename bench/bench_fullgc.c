/*
 * Workload 1: full collection of a live heap where nothing is garbage.
 *
 *   bench_fullgc CASE N [REPS]
 *
 * CASE tree      a complete binary tree of N 2-slot objects (kept by its root)
 *      listtree  the same tree made of N lists, each holding its children
 *      graph     N 2-slot objects, each slot referring to a random one; a
 *                list holds them all
 *
 * The heap is built with automatic collection disabled, in breadth-first
 * order (allocation order = list order, as in the Python twin), collected
 * once untimed, then REPS full collections are timed. Reports the median
 * ns per tracked object and milliseconds per collection (thread CPU time;
 * wall_* on wall-clock time), the tracked objects, the process's unique
 * set size and its resident set size. The scale sweep runs the tree and
 * the graph up to 1e8 objects (bench/run.py --long).
 */
#include "bench.h"

static rcy_object_t *build_listtree(rcy_runtime_t *rt, long n)
{
    rcy_object_t **nodes = calloc((size_t)n, sizeof *nodes);
    if (nodes == NULL)
        bench_die("out of memory");
    for (long i = 0; i < n; i++) {
        nodes[i] = rcy_list_new(rt);
        if (nodes[i] == NULL)
            bench_die("out of memory");
    }
    for (long i = 0; i < n; i++) {
        if (2 * i + 1 < n && rcy_list_append(nodes[i], nodes[2 * i + 1]) != 0)
            bench_die("out of memory");
        if (2 * i + 2 < n && rcy_list_append(nodes[i], nodes[2 * i + 2]) != 0)
            bench_die("out of memory");
    }
    rcy_object_t *root = nodes[0];
    for (long i = 1; i < n; i++)
        rcy_decref(nodes[i]);
    free(nodes);
    return root;
}

static rcy_object_t *build_graph(rcy_runtime_t *rt, rcy_type_t *node, long n)
{
    rcy_object_t *holder = rcy_list_new(rt);
    if (holder == NULL)
        bench_die("out of memory");
    for (long i = 0; i < n; i++) {
        bnode_t *x = bnode_new(node);
        if (rcy_list_append(holder, &x->ob) != 0)
            bench_die("out of memory");
        rcy_decref(&x->ob);
    }
    bench_rng_t rng = {1};
    for (long i = 0; i < n; i++) {
        bnode_t *x = (bnode_t *)rcy_list_get(holder, i);
        bnode_set(&x->a, rcy_list_get(holder, (intptr_t)bench_rng_below(&rng, (uint64_t)n)));
        bnode_set(&x->b, rcy_list_get(holder, (intptr_t)bench_rng_below(&rng, (uint64_t)n)));
    }
    return holder;
}

int main(int argc, char **argv)
{
    const char *kase;
    long n;
    int reps;
    bench_args(argc, argv, &kase, &n, &reps, 5);

    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_type_t *node = bnode_type_new(rt);
    rcy_gc_disable(rt);

    rcy_object_t *keep;
    if (strcmp(kase, "tree") == 0)
        keep = bench_build_tree(node, n);
    else if (strcmp(kase, "listtree") == 0)
        keep = build_listtree(rt, n);
    else if (strcmp(kase, "graph") == 0)
        keep = build_graph(rt, node, n);
    else
        bench_die("unknown case");

    rcy_gc_collect(rt, 2);
    double *ns = malloc((size_t)reps * sizeof *ns);
    double *ms = malloc((size_t)reps * sizeof *ms);
    double *wns = malloc((size_t)reps * sizeof *wns);
    double *wms = malloc((size_t)reps * sizeof *wms);
    if (ns == NULL || ms == NULL || wns == NULL || wms == NULL)
        bench_die("out of memory");
    intptr_t tracked = 0;
    for (int r = 0; r < reps; r++) {
        rcy_gc_stats_t before[RCY_GC_GENERATIONS], after[RCY_GC_GENERATIONS];
        rcy_gc_stats_init(before);
        rcy_gc_stats_init(after);
        rcy_gc_get_stats(rt, before);
        bench_time_t t0 = bench_start();
        intptr_t found = rcy_gc_collect(rt, 2);
        bench_time_t t = bench_since(t0);
        rcy_gc_get_stats(rt, after);
        if (found != 0)
            bench_die("a live heap had garbage");
        tracked = after[2].candidates - before[2].candidates;
        ns[r] = t.cpu * 1e9 / (double)tracked;
        ms[r] = t.cpu * 1e3;
        wns[r] = t.wall * 1e9 / (double)tracked;
        wms[r] = t.wall * 1e3;
    }
    bench_emit_times("fullgc", kase, n, "ns_per_obj", bench_median(ns, (size_t)reps), bench_median(wns, (size_t)reps));
    bench_emit_times("fullgc", kase, n, "ms_per_collect", bench_median(ms, (size_t)reps),
                     bench_median(wms, (size_t)reps));
    bench_emit("fullgc", kase, n, "tracked", (double)tracked);
    bench_emit("fullgc", kase, n, "uss_mb", bench_uss() / 1048576.0);
    bench_emit("fullgc", kase, n, "rss_mb", bench_rss() / 1048576.0);
    bench_emit("fullgc", kase, n, "huge_mb", bench_huge_bytes() / 1048576.0);
    free(ns);
    free(ms);
    free(wns);
    free(wms);

    rcy_decref(keep);
    bench_finish(rt);
    return 0;
}
