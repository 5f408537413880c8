/*
 * Workload 3: pyperformance's gc benchmarks, in C with the same parameters.
 *
 *   bench_pyperf gc_collect 2100 [REPS]
 *       100 cycles of 21 nodes (a node and 20 links, each link's next and
 *       prev set, the last linked back to the first) held by a list, which
 *       is dropped; then one full collection timed; repeated REPS times.
 *   bench_pyperf gc_traversal 1000 [REPS]
 *       1,000 levels of lists, level k a list of k references to level k-1,
 *       kept alive; a full collection (which finds nothing) timed REPS times.
 *
 * Reports the median microseconds per collection (thread CPU time;
 * wall_us_per_collect on wall-clock time).
 */
#include "bench.h"

#define CYCLES 100
#define LINKS 20
#define N_LEVELS 1000

/* A 2-slot node: a is next, b is prev. */
static void link_next(bnode_t *cur, bnode_t *next)
{
    bnode_set(&cur->a, &next->ob);
    bnode_set(&next->b, &cur->ob);
}

/* Returns a list holding the first node of every cycle. */
static rcy_object_t *create_gc_cycles(rcy_runtime_t *rt, rcy_type_t *node)
{
    rcy_object_t *cycles = rcy_list_new(rt);
    if (cycles == NULL)
        bench_die("out of memory");
    for (int c = 0; c < CYCLES; c++) {
        bnode_t *first = bnode_new(node);
        if (rcy_list_append(cycles, &first->ob) != 0)
            bench_die("out of memory");
        bnode_t *cur = first;
        for (int i = 0; i < LINKS; i++) {
            bnode_t *next = bnode_new(node);
            link_next(cur, next);
            rcy_decref(&next->ob);
            cur = next;
        }
        link_next(cur, first);
        rcy_decref(&first->ob);
    }
    return cycles;
}

static rcy_object_t *create_recursive_containers(rcy_runtime_t *rt)
{
    rcy_object_t *current = rcy_list_new(rt);
    if (current == NULL)
        bench_die("out of memory");
    for (int k = 0; k < N_LEVELS; k++) {
        rcy_object_t *next = rcy_list_new(rt);
        if (next == NULL)
            bench_die("out of memory");
        for (int i = 0; i < k; i++)
            if (rcy_list_append(next, current) != 0)
                bench_die("out of memory");
        rcy_decref(current);
        current = next;
    }
    return current;
}

int main(int argc, char **argv)
{
    const char *kase;
    long n;
    int reps;
    bench_args(argc, argv, &kase, &n, &reps, 20);
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_type_t *node = bnode_type_new(rt);
    double *us = malloc((size_t)reps * sizeof *us);
    double *wus = malloc((size_t)reps * sizeof *wus);
    if (us == NULL || wus == NULL)
        bench_die("out of memory");

    if (strcmp(kase, "gc_collect") == 0) {
        for (int r = 0; r < reps; r++) {
            rcy_gc_collect(rt, 2);
            rcy_object_t *all = create_gc_cycles(rt, node);
            rcy_decref(all);
            bench_time_t t0 = bench_start();
            intptr_t found = rcy_gc_collect(rt, 2);
            bench_time_t t = bench_since(t0);
            us[r] = t.cpu * 1e6;
            wus[r] = t.wall * 1e6;
            if (found < CYCLES * (LINKS + 1))
                bench_die("cycles not collected");
        }
    } else if (strcmp(kase, "gc_traversal") == 0) {
        rcy_object_t *all = create_recursive_containers(rt);
        for (int r = 0; r < reps; r++) {
            rcy_gc_collect(rt, 2);
            bench_time_t t0 = bench_start();
            intptr_t found = rcy_gc_collect(rt, 2);
            bench_time_t t = bench_since(t0);
            us[r] = t.cpu * 1e6;
            wus[r] = t.wall * 1e6;
            if (found != 0)
                bench_die("a live heap had garbage");
        }
        rcy_decref(all);
    } else {
        bench_die("unknown case");
    }
    bench_emit_times("pyperf", kase, n, "us_per_collect", bench_median(us, (size_t)reps),
                     bench_median(wus, (size_t)reps));
    free(us);
    free(wus);
    bench_finish(rt);
    return 0;
}
