/*
 * Workload 4: pauses under automatic collection with default thresholds.
 *
 *   bench_pauses tree N [ITERATIONS]
 *
 * Builds a resident binary tree of N 2-slot objects with automatic
 * collection on (the default thresholds), then runs ITERATIONS (default
 * 1,000,000) iterations that each allocate short-lived containers (a 2-slot
 * object holding an empty list) and, every tenth iteration, drop a
 * two-object cycle. Every collection's pause is recorded through the
 * collection callbacks. Reports per generation the number of pauses and
 * their median, 99th percentile and maximum in microseconds, and the share
 * of the run's time spent collecting. The same figures for the thread's
 * CPU time in each pause (metrics gen<g>_cpu_*) leave out the time the
 * scheduler gave to other processes.
 */
#include "bench.h"

typedef struct pauses_s {
    double t0, c0;
    double *v[RCY_GC_GENERATIONS];   /* wall-clock pauses */
    double *cpu[RCY_GC_GENERATIONS]; /* the thread's CPU time in them */
    size_t len[RCY_GC_GENERATIONS], cap[RCY_GC_GENERATIONS];
    double total;
} pauses_t;

/* CPU time of the calling thread: a pause less the time the scheduler gave
   to other processes (this machine is shared). */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *kase, long n, const char *what, int g, double *v, size_t k)
{
    char metric[48];
    qsort(v, k, sizeof(double), bench_cmp_double);
    size_t i99 = (99 * k + 99) / 100 - 1; /* nearest rank: ceil(0.99 k) - 1 */
    double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    snprintf(metric, sizeof metric, "gen%d_%smedian_us", g, what);
    bench_emit("pauses", kase, n, metric, med * 1e6);
    snprintf(metric, sizeof metric, "gen%d_%sp99_us", g, what);
    bench_emit("pauses", kase, n, metric, v[i99] * 1e6);
    snprintf(metric, sizeof metric, "gen%d_%smax_us", g, what);
    bench_emit("pauses", kase, n, metric, v[k - 1] * 1e6);
}

static int on_collect(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    pauses_t *p = arg;
    if (phase == RCY_GC_START) {
        p->t0 = bench_now();
        p->c0 = thread_cpu();
        return 0;
    }
    double d = bench_now() - p->t0;
    double c = thread_cpu() - p->c0;
    int g = info->generation;
    if (p->len[g] == p->cap[g]) {
        p->cap[g] = p->cap[g] ? 2 * p->cap[g] : 1024;
        p->v[g] = realloc(p->v[g], p->cap[g] * sizeof(double));
        p->cpu[g] = realloc(p->cpu[g], p->cap[g] * sizeof(double));
        if (p->v[g] == NULL || p->cpu[g] == NULL)
            bench_die("out of memory");
    }
    p->cpu[g][p->len[g]] = c;
    p->v[g][p->len[g]++] = d;
    p->total += d;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: bench_pauses tree N [ITERATIONS]");
    const char *kase = argv[1];
    long n = strtol(argv[2], NULL, 10);
    long iterations = argc > 3 ? strtol(argv[3], NULL, 10) : 1000000;
    if (strcmp(kase, "tree") != 0 || n <= 0 || iterations <= 0)
        bench_die("usage: bench_pauses tree N [ITERATIONS]");

    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_type_t *node = bnode_type_new(rt);
    pauses_t p;
    memset(&p, 0, sizeof p);
    rcy_gc_callback_add(rt, on_collect, &p);

    double start = bench_now();
    /* The resident heap, built breadth first. */
    rcy_object_t *root = bench_build_tree(node, n);

    /* The mutator. */
    for (long i = 0; i < iterations; i++) {
        bnode_t *x = bnode_new(node);
        rcy_object_t *l = rcy_list_new(rt);
        if (l == NULL)
            bench_die("out of memory");
        bnode_set(&x->a, l);
        rcy_decref(l);
        rcy_decref(&x->ob);
        if (i % 10 == 0) {
            bnode_t *c = bnode_new(node);
            bnode_t *d = bnode_new(node);
            bnode_set(&c->a, &d->ob);
            bnode_set(&d->a, &c->ob);
            rcy_decref(&c->ob);
            rcy_decref(&d->ob);
        }
    }
    double wall = bench_now() - start;

    for (int g = 0; g < RCY_GC_GENERATIONS; g++) {
        char metric[32];
        snprintf(metric, sizeof metric, "gen%d_count", g);
        bench_emit("pauses", kase, n, metric, (double)p.len[g]);
        if (p.len[g] == 0)
            continue;
        report(kase, n, "", g, p.v[g], p.len[g]);
        report(kase, n, "cpu_", g, p.cpu[g], p.len[g]);
        free(p.v[g]);
        free(p.cpu[g]);
    }
    bench_emit("pauses", kase, n, "gc_share_pct", 100.0 * p.total / wall);
    bench_emit("pauses", kase, n, "wall_s", wall);
    rcy_gc_callback_remove(rt, on_collect, &p);
    rcy_decref(root);
    bench_finish(rt);
    return 0;
}
