/*
 * Workload 2: explicit collection of cyclic garbage.
 *
 *   bench_cycles CASE N [REPS]
 *
 * CASE pair    N/2 two-object cycles of 2-slot objects (a <-> b)
 *      ring10  N/10 rings of ten 2-slot objects (each a -> next)
 *
 * With automatic collection disabled, the cycles are built and dropped,
 * then one full collection frees them; timed REPS times. Reports the
 * median ns per freed object (the collection's time, freeing included).
 */
#include "bench.h"

static void make_garbage(rcy_type_t *node, const char *kase, long n)
{
    long ring = strcmp(kase, "pair") == 0 ? 2 : 10;
    for (long made = 0; made + ring <= n; made += ring) {
        bnode_t *first = bnode_new(node);
        bnode_t *prev = first;
        for (long k = 1; k < ring; k++) {
            bnode_t *x = bnode_new(node);
            bnode_set(&prev->a, &x->ob);
            rcy_decref(&x->ob);
            prev = x;
        }
        bnode_set(&prev->a, &first->ob);
        rcy_decref(&first->ob);
    }
}

int main(int argc, char **argv)
{
    const char *kase;
    long n;
    int reps;
    bench_args(argc, argv, &kase, &n, &reps, 5);
    if (strcmp(kase, "pair") != 0 && strcmp(kase, "ring10") != 0)
        bench_die("unknown case");

    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_type_t *node = bnode_type_new(rt);
    rcy_gc_disable(rt);
    rcy_gc_collect(rt, 2);

    double *ns = malloc((size_t)reps * sizeof *ns);
    double *wns = malloc((size_t)reps * sizeof *wns);
    if (ns == NULL || wns == NULL)
        bench_die("out of memory");
    double uss = 0;
    for (int r = 0; r < reps; r++) {
        make_garbage(node, kase, n);
        uss = bench_uss();
        bench_time_t t0 = bench_start();
        intptr_t found = rcy_gc_collect(rt, 2);
        bench_time_t t = bench_since(t0);
        if (found <= 0)
            bench_die("nothing collected");
        ns[r] = t.cpu * 1e9 / (double)found;
        wns[r] = t.wall * 1e9 / (double)found;
    }
    bench_emit_times("cycles", kase, n, "ns_per_freed", bench_median(ns, (size_t)reps),
                     bench_median(wns, (size_t)reps));
    bench_emit("cycles", kase, n, "uss_mb", uss / 1048576.0);
    free(ns);
    free(wns);
    bench_finish(rt);
    return 0;
}
