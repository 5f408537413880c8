/*
 * Workload 4: pauses of automatic collection (default thresholds) in the
 * steady state.
 *
 *   bench_pauses ring N [ITERATIONS]
 *
 * First the resident heap: a complete binary tree of N 2-slot objects,
 * built with automatic collection off (its collections would only slow the
 * build), then one full collection, so that the tree sits in the oldest
 * generation, and automatic collection back on. Then RING warm-up iterations of
 * the mutator fill its ring. Only then are the collection callbacks
 * registered: every pause recorded is one of the steady state, none of the
 * build.
 *
 * The mutator (ITERATIONS iterations, default N, at least 1,000,000): each
 * iteration allocates a 2-slot object x and stores it in a ring of the
 * RING (20,000) most recent objects (a list), replacing the oldest one, which
 * dies by reference counting. Every fourth x holds in its slot b a dict
 * {'prev': the object stored before it}; every tenth holds itself in its
 * slot a, so it becomes cyclic garbage when it leaves the ring. Young
 * objects thus survive a while (a generation-0 collection finds the 700
 * newest alive, a generation-1 collection the ring), some hold dicts, and
 * some die in cycles only a collection frees; the survivors of the ring
 * promoted to the oldest generation bring its full collections
 * (CPython's rule: when they exceed a quarter of the objects that survived
 * the last full collection).
 *
 * Reports per generation the number of pauses and their median, 99th
 * percentile and maximum in microseconds of the thread's CPU time
 * (gen<g>_median_us, gen<g>_p99_us, gen<g>_max_us) and of wall-clock time
 * (wall_gen<g>_...), the median ns per object the collection examined
 * (gen<g>_ns_per_examined; CPython's callbacks do not say how many) and
 * the mean number examined (gen<g>_examined_per_pause), the
 * share of the mutator's time spent collecting, and every pause (CPU time)
 * as a distribution for the plots.
 */
#include "bench.h"

#define RING 20000

typedef struct pauses_s {
    bench_time_t t0;
    double *cpu[RCY_GC_GENERATIONS];  /* the thread's CPU time in each pause, s */
    double *wall[RCY_GC_GENERATIONS]; /* wall-clock time, s */
    double *per[RCY_GC_GENERATIONS];  /* CPU ns per object examined */
    size_t len[RCY_GC_GENERATIONS], cap[RCY_GC_GENERATIONS];
    double total_cpu, total_wall;
    double examined[RCY_GC_GENERATIONS]; /* objects examined, all pauses */
} pauses_t;

static void report(const char *kase, long n, const char *prefix, int g, double *v, size_t k)
{
    char metric[48];
    qsort(v, k, sizeof(double), bench_cmp_double);
    size_t i99 = (99 * k + 99) / 100 - 1; /* nearest rank: ceil(0.99 k) - 1 */
    double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    snprintf(metric, sizeof metric, "%sgen%d_median_us", prefix, g);
    bench_emit("pauses", kase, n, metric, med * 1e6);
    snprintf(metric, sizeof metric, "%sgen%d_p99_us", prefix, g);
    bench_emit("pauses", kase, n, metric, v[i99] * 1e6);
    snprintf(metric, sizeof metric, "%sgen%d_max_us", prefix, g);
    bench_emit("pauses", kase, n, metric, v[k - 1] * 1e6);
}

static int on_collect(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    pauses_t *p = arg;
    if (phase == RCY_GC_START) {
        p->t0 = bench_start();
        return 0;
    }
    bench_time_t d = bench_since(p->t0);
    int g = info->generation;
    if (p->len[g] == p->cap[g]) {
        p->cap[g] = p->cap[g] ? 2 * p->cap[g] : 1024;
        p->cpu[g] = realloc(p->cpu[g], p->cap[g] * sizeof(double));
        p->wall[g] = realloc(p->wall[g], p->cap[g] * sizeof(double));
        p->per[g] = realloc(p->per[g], p->cap[g] * sizeof(double));
        if (p->cpu[g] == NULL || p->wall[g] == NULL || p->per[g] == NULL)
            bench_die("out of memory");
    }
    p->cpu[g][p->len[g]] = d.cpu;
    p->wall[g][p->len[g]] = d.wall;
    p->per[g][p->len[g]++] = info->candidates > 0 ? d.cpu * 1e9 / (double)info->candidates : 0.0;
    p->total_cpu += d.cpu;
    p->total_wall += d.wall;
    p->examined[g] += (double)info->candidates;
    return 0;
}

typedef struct mutator_s {
    rcy_runtime_t *rt;
    rcy_type_t *node;
    rcy_object_t *ring, *key;
} mutator_t;

static void mutate(mutator_t *m, long from, long to)
{
    for (long i = from; i < to; i++) {
        bnode_t *x = bnode_new(m->node);
        if (i % 4 == 0) {
            rcy_object_t *d = rcy_dict_new(m->rt);
            if (d == NULL || rcy_dict_set(d, m->key, rcy_list_get(m->ring, (intptr_t)((i + RING - 1) % RING))) != 0)
                bench_die("out of memory");
            bnode_set(&x->b, d);
            rcy_decref(d);
        }
        if (i % 10 == 0)
            bnode_set(&x->a, &x->ob);
        if (rcy_list_set(m->ring, (intptr_t)(i % RING), &x->ob) != 0)
            bench_die("list_set");
        rcy_decref(&x->ob);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: bench_pauses ring N [ITERATIONS]");
    const char *kase = argv[1];
    long n = strtol(argv[2], NULL, 10);
    long iterations = argc > 3 ? strtol(argv[3], NULL, 10) : (n > 1000000 ? n : 1000000);
    if (strcmp(kase, "ring") != 0 || n <= 0 || iterations <= 0)
        bench_die("usage: bench_pauses ring N [ITERATIONS]");

    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    mutator_t m;
    m.rt = rt;
    m.node = bnode_type_new(rt);
    m.key = rcy_str_new(rt, "prev");
    m.ring = rcy_list_new(rt);
    rcy_object_t *zero = rcy_int_new(rt, 0);
    if (m.node == NULL || m.key == NULL || m.ring == NULL || zero == NULL)
        bench_die("out of memory");
    for (int i = 0; i < RING; i++)
        if (rcy_list_append(m.ring, zero) != 0)
            bench_die("out of memory");
    rcy_decref(zero);

    /* The resident heap, built breadth first, then moved to the oldest
       generation; the ring filled. */
    rcy_gc_disable(rt);
    rcy_object_t *root = bench_build_tree(m.node, n);
    rcy_gc_collect(rt, 2);
    rcy_gc_enable(rt);
    mutate(&m, 0, RING);

    pauses_t p;
    memset(&p, 0, sizeof p);
    rcy_gc_callback_add(rt, on_collect, &p);
    bench_time_t start = bench_start();
    mutate(&m, RING, RING + iterations);
    bench_time_t run = bench_since(start);
    rcy_gc_callback_remove(rt, on_collect, &p);

    for (int g = 0; g < RCY_GC_GENERATIONS; g++) {
        char metric[48];
        snprintf(metric, sizeof metric, "gen%d_count", g);
        bench_emit("pauses", kase, n, metric, (double)p.len[g]);
        if (p.len[g] == 0)
            continue;
        for (size_t i = 0; i < p.len[g]; i++)
            p.cpu[g][i] *= 1e6;
        snprintf(metric, sizeof metric, "gen%d_us", g);
        bench_emit_dist("pauses", kase, n, metric, p.cpu[g], p.len[g]);
        for (size_t i = 0; i < p.len[g]; i++)
            p.cpu[g][i] *= 1e-6;
        report(kase, n, "", g, p.cpu[g], p.len[g]);
        report(kase, n, "wall_", g, p.wall[g], p.len[g]);
        snprintf(metric, sizeof metric, "gen%d_ns_per_examined", g);
        bench_emit("pauses", kase, n, metric, bench_median(p.per[g], p.len[g]));
        snprintf(metric, sizeof metric, "gen%d_examined_per_pause", g);
        bench_emit("pauses", kase, n, metric, p.examined[g] / (double)p.len[g]);
        free(p.cpu[g]);
        free(p.wall[g]);
        free(p.per[g]);
    }
    bench_emit("pauses", kase, n, "gc_share_pct", 100.0 * p.total_cpu / run.cpu);
    bench_emit("pauses", kase, n, "wall_gc_share_pct", 100.0 * p.total_wall / run.wall);
    bench_emit("pauses", kase, n, "mutator_s", run.cpu);
    bench_emit("pauses", kase, n, "iterations", (double)iterations);
    bench_emit("pauses", kase, n, "rss_mb", bench_rss() / 1048576.0);
    bench_emit("pauses", kase, n, "huge_mb", bench_huge_bytes() / 1048576.0);
    rcy_decref(m.ring);
    rcy_decref(m.key);
    rcy_decref(root);
    bench_finish(rt);
    return 0;
}
