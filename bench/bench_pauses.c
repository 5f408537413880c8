/*
 * Workload 4: pauses of automatic collection (default thresholds) in the
 * steady state.
 *
 *   bench_pauses ring|buffers|bigcycle N [ITERATIONS]
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
 * Case buffers: the same, but every tenth x (the ones that die in a
 * cycle) also owns a 4 KiB buffer outside the heap, charged to the runtime
 * with rcy_gc_charge_external (Python: a bytearray(4096) in a third slot):
 * the long-running loop whose cyclic garbage holds large buffers
 * (gh-98801), which object counts alone collect late.
 *
 * Case bigcycle: the resident heap is one cycle of N 2-slot objects
 * instead of the tree, dropped once the steady state starts: the next
 * collection of the oldest generation that examines it (a full pass's
 * region, in incremental mode: the recent passes before it do not look at
 * the mature objects) must free one garbage component of N objects at
 * once, the pause that no pacing bounds (auto_max_us). Its ITERATIONS
 * default to 2N (at least 2,000,000), so that in either mode the cycle is
 * freed within the run; dropped_freed_at is the mutator's iteration at the
 * end of the collection that freed it (-1: not freed in the run).
 *
 * Run with RCY_GC_MODE=incremental (run.py --variant), the oldest
 * generation is collected by passes whose steps run inside the young
 * collections (their pauses include them); a pass's own generation-2
 * callbacks bracket no work. So is generation 1, by young passes whose
 * steps run inside the generation-0 collections: in that mode the
 * gen1_* figures are those empty brackets (RCY_GC_INCR_YOUNG=0 runs
 * generation-1 collections at once instead). The figures that judge the mode, in both
 * modes: auto_p99_us and auto_max_us, over every automatic pause of any
 * generation; gc_cpu_s, the CPU time of all of them; peak_rss_mb (VmHWM);
 * and, in incremental mode, the passes, steps, backstops and the largest
 * component collected at once. BENCH_FLOATING=1 measures the floating
 * garbage instead: after every completed collection of the oldest
 * generation (a pass, or compat mode's full collection) the next
 * iteration runs an explicit full collection, not recorded as a pause,
 * and what it finds is the garbage the pass left (floating_median,
 * floating_max, floating_max_pct of the heap). BENCH_TRACE=FILE writes
 * one line per recorded pause to FILE: the mutator's iteration, the
 * generation, CPU and wall-clock microseconds, objects examined and
 * collected, and the collection's own duration in wall-clock microseconds
 * (info->duration: in incremental mode without the step that follows it)
 * (to see which pauses are slow and what they did). BENCH_COLD=1
 * writes over 64 MiB before every collection, outside its timing, so that
 * each pause starts on caches full of other data (what a preempted pause
 * resumes on): the pauses then measure the collector's memory-bound cost.
 * BENCH_IDLE=US[:EVERY] (incremental mode; EVERY default 10,000): the
 * program is idle every EVERY iterations (an event loop between frames)
 * and gives that time to the collector, rcy_gc_incr_step(rt, US), so that
 * passes run there and not in the young collections' pauses: idle_calls,
 * idle_passes (those that completed a pass), idle_cpu_s and idle_max_us
 * (the thread's CPU time in them, which gc_cpu_s does not count) and
 * collector_cpu_s (both: the collector's whole CPU time).
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

#include <stdbool.h>

#define RING 20000
#define COLD_BYTES ((size_t)64 << 20)

typedef struct pauses_s {
    bench_time_t t0;
    double *cpu[RCY_GC_GENERATIONS];  /* the thread's CPU time in each pause, s */
    double *wall[RCY_GC_GENERATIONS]; /* wall-clock time, s */
    double *per[RCY_GC_GENERATIONS];  /* CPU ns per object examined */
    size_t len[RCY_GC_GENERATIONS], cap[RCY_GC_GENERATIONS];
    double total_cpu, total_wall;
    double examined[RCY_GC_GENERATIONS]; /* objects examined, all pauses */
    bool measuring;        /* BENCH_FLOATING's own full collection: not a pause */
    bool old_done;         /* a collection of the oldest generation completed */
    double *floating;      /* what the full collection after each one found */
    size_t nfloating, capfloating;
    FILE *trace;           /* BENCH_TRACE: one line per pause */
    char *cold;            /* BENCH_COLD: written over before every pause */
    long iteration;        /* the mutator's current iteration (for the trace) */
    long big;              /* bigcycle: the dropped cycle's size (0: other cases) */
    long dropped_at;       /* ... the iteration at which a collection freed it (-1: not yet) */
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
    if (p->measuring)
        return 0;
    if (phase == RCY_GC_START) {
        if (p->cold != NULL) /* BENCH_COLD: caches filled with other data, before the clock starts */
            for (size_t i = 0; i < COLD_BYTES; i += 64)
                p->cold[i] = (char)i;
        p->t0 = bench_start();
        return 0;
    }
    bench_time_t d = bench_since(p->t0);
    int g = info->generation;
    if (g == RCY_GC_GENERATIONS - 1)
        p->old_done = true;
    if (g == RCY_GC_GENERATIONS - 1 && p->big > 0 && p->dropped_at < 0 && info->collected >= p->big)
        p->dropped_at = p->iteration;
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
    if (p->trace != NULL)
        fprintf(p->trace, "%ld %d %.3f %.3f %zd %zd %.3f\n", p->iteration, g, d.cpu * 1e6, d.wall * 1e6,
                (ptrdiff_t)info->candidates, (ptrdiff_t)info->collected, info->duration * 1e6);
    return 0;
}

typedef struct mutator_s {
    rcy_runtime_t *rt;
    rcy_type_t *node, *bufnode;
    rcy_object_t *ring, *key;
    bool buffers;
    pauses_t *floating; /* BENCH_FLOATING: measure after each old collection */
    long *iteration;    /* where the trace reads the current iteration */
    long idle_every;    /* BENCH_IDLE: idle time every idle_every iterations (0: none) */
    size_t idle_us;     /* ... of at most idle_us (rcy_gc_incr_step) */
    long idle_calls, idle_passes;
    double idle_cpu, idle_max; /* the thread's CPU time in them, s */
} mutator_t;

/* Case buffers: a 2-slot object owning a buffer outside the heap, charged
   to the runtime while it lives (released by its clear slot, which also
   deallocates it). */
#define BUFFER_BYTES 4096

typedef struct bufnode_s {
    rcy_object_t ob;
    rcy_object_t *a, *b;
    char *buf;
} bufnode_t;

static int bufnode_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    bufnode_t *n = (bufnode_t *)self;
    RCY_VISIT(n->a);
    RCY_VISIT(n->b);
    return 0;
}

static int bufnode_clear(rcy_object_t *self)
{
    bufnode_t *n = (bufnode_t *)self;
    if (n->buf != NULL) {
        free(n->buf);
        n->buf = NULL;
        rcy_gc_release_external(self, BUFFER_BYTES);
    }
    RCY_CLEAR(n->a);
    RCY_CLEAR(n->b);
    return 0;
}

static rcy_type_t *bufnode_type_new(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "BufNode";
    spec.basicsize = sizeof(bufnode_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = bufnode_traverse;
    spec.clear = bufnode_clear;
    return rcy_type_new(rt, &spec);
}

/* Case bigcycle: one cycle of n nodes (each holds the next in slot a). */
static rcy_object_t *build_cycle(rcy_type_t *node, long n)
{
    bnode_t *first = bnode_new(node), *prev = first;
    if (first == NULL)
        bench_die("out of memory");
    for (long i = 1; i < n; i++) {
        bnode_t *x = bnode_new(node);
        if (x == NULL)
            bench_die("out of memory");
        bnode_set(&prev->a, &x->ob);
        rcy_decref(&x->ob);
        prev = x;
    }
    bnode_set(&prev->a, &first->ob);
    return &first->ob;
}

static bnode_t *new_x(mutator_t *m, long i)
{
    if (!m->buffers || i % 10 != 0)
        return bnode_new(m->node);
    bufnode_t *x = (bufnode_t *)rcy_new(m->bufnode);
    if (x == NULL || (x->buf = malloc(BUFFER_BYTES)) == NULL)
        bench_die("out of memory");
    memset(x->buf, (int)(i & 0x7f), BUFFER_BYTES); /* resident, as a real buffer is */
    rcy_gc_charge_external(&x->ob, BUFFER_BYTES);
    return (bnode_t *)x; /* the same layout up to b */
}

static void mutate(mutator_t *m, long from, long to)
{
    for (long i = from; i < to; i++) {
        *m->iteration = i;
        if (m->idle_every > 0 && i % m->idle_every == 0) {
            /* BENCH_IDLE: the program waits here (an event loop between
               frames); the wait is given to the collector. */
            bench_time_t t = bench_start();
            m->idle_passes += rcy_gc_incr_step(m->rt, m->idle_us) == 1;
            bench_time_t d = bench_since(t);
            m->idle_calls++;
            m->idle_cpu += d.cpu;
            m->idle_max = d.cpu > m->idle_max ? d.cpu : m->idle_max;
        }
        if (m->floating != NULL && m->floating->old_done) {
            /* BENCH_FLOATING: what the last pass (or full collection) left. */
            pauses_t *p = m->floating;
            p->old_done = false;
            p->measuring = true;
            intptr_t found = rcy_gc_collect(m->rt, 2);
            p->measuring = false;
            if (p->nfloating == p->capfloating) {
                p->capfloating = p->capfloating ? 2 * p->capfloating : 256;
                p->floating = realloc(p->floating, p->capfloating * sizeof(double));
                if (p->floating == NULL)
                    bench_die("out of memory");
            }
            p->floating[p->nfloating++] = (double)found;
        }
        bnode_t *x = new_x(m, i);
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
    bool bigcycle = strcmp(kase, "bigcycle") == 0;
    long least = bigcycle ? 2 * n : n; /* (bigcycle: the cycle freed within the run, above) */
    long iterations = argc > 3 ? strtol(argv[3], NULL, 10) : (least > 1000000 ? least : 1000000);
    if (bigcycle && argc <= 3 && iterations < 2000000)
        iterations = 2000000;
    if ((strcmp(kase, "ring") != 0 && strcmp(kase, "buffers") != 0 && !bigcycle) || n <= 0 || iterations <= 0)
        bench_die("usage: bench_pauses ring|buffers|bigcycle N [ITERATIONS]");

    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    mutator_t m;
    m.rt = rt;
    m.node = bnode_type_new(rt);
    m.bufnode = bufnode_type_new(rt);
    m.buffers = strcmp(kase, "buffers") == 0;
    m.floating = NULL;
    m.idle_every = m.idle_calls = m.idle_passes = 0;
    m.idle_us = 0;
    m.idle_cpu = m.idle_max = 0.0;
    long iteration_before = 0;
    m.iteration = &iteration_before;
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
    rcy_object_t *root = bigcycle ? build_cycle(m.node, n) : bench_build_tree(m.node, n);
    rcy_gc_collect(rt, 2);
    rcy_gc_enable(rt);
    mutate(&m, 0, RING);

    pauses_t p;
    memset(&p, 0, sizeof p);
    p.big = bigcycle ? n : 0;
    p.dropped_at = -1;
    const char *fl = getenv("BENCH_FLOATING");
    if (fl != NULL && strcmp(fl, "1") == 0)
        m.floating = &p;
    const char *tr = getenv("BENCH_TRACE");
    if (tr != NULL && *tr != '\0' && (p.trace = fopen(tr, "w")) == NULL)
        bench_die("cannot open BENCH_TRACE");
    m.iteration = &p.iteration;
    const char *cold = getenv("BENCH_COLD");
    if (cold != NULL && strcmp(cold, "1") == 0 && (p.cold = malloc(COLD_BYTES)) == NULL)
        bench_die("out of memory");
    const char *idle = getenv("BENCH_IDLE");
    if (idle != NULL && *idle != '\0') {
        char *end;
        long us = strtol(idle, &end, 10), every = *end == ':' ? strtol(end + 1, &end, 10) : 10000;
        if (us <= 0 || every <= 0 || *end != '\0')
            bench_die("BENCH_IDLE: US or US:EVERY, both > 0");
        m.idle_us = (size_t)us;
        m.idle_every = every;
    }
    rcy_gc_callback_add(rt, on_collect, &p);
    if (bigcycle) {
        rcy_decref(root); /* one garbage component of n objects */
        root = NULL;
    }
    bench_time_t start = bench_start();
    mutate(&m, RING, RING + iterations);
    bench_time_t run = bench_since(start);
    rcy_gc_callback_remove(rt, on_collect, &p);
    if (p.trace != NULL)
        fclose(p.trace);
    free(p.cold);

    /* Every automatic pause, of any generation (incremental mode's steps
       run inside the young collections' pauses). */
    size_t nall = 0;
    for (int g = 0; g < RCY_GC_GENERATIONS; g++)
        nall += p.len[g];
    if (nall > 0) {
        double *all = malloc(nall * sizeof *all);
        if (all == NULL)
            bench_die("out of memory");
        size_t k = 0;
        for (int g = 0; g < RCY_GC_GENERATIONS; g++)
            for (size_t i = 0; i < p.len[g]; i++)
                all[k++] = p.cpu[g][i];
        qsort(all, nall, sizeof *all, bench_cmp_double);
        bench_emit("pauses", kase, n, "auto_p99_us", all[(99 * nall + 99) / 100 - 1] * 1e6);
        bench_emit("pauses", kase, n, "auto_max_us", all[nall - 1] * 1e6);
        free(all);
    }
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
    bench_emit("pauses", kase, n, "gc_cpu_s", p.total_cpu);
    if (m.idle_every > 0) {
        bench_emit("pauses", kase, n, "idle_calls", (double)m.idle_calls);
        bench_emit("pauses", kase, n, "idle_passes", (double)m.idle_passes);
        bench_emit("pauses", kase, n, "idle_cpu_s", m.idle_cpu);
        bench_emit("pauses", kase, n, "idle_max_us", m.idle_max * 1e6);
        bench_emit("pauses", kase, n, "collector_cpu_s", p.total_cpu + m.idle_cpu);
    }
    if (bigcycle)
        bench_emit("pauses", kase, n, "dropped_freed_at", (double)p.dropped_at);
    bench_emit("pauses", kase, n, "peak_rss_mb", bench_peak_rss() / 1048576.0);
    if (rcy_gc_get_mode(rt) == RCY_GC_INCREMENTAL) {
        rcy_gc_incr_stats_t is;
        rcy_gc_incr_stats_init(&is);
        rcy_gc_get_incr_stats(rt, &is);
        bench_emit("pauses", kase, n, "incr_passes", (double)is.passes);
        bench_emit("pauses", kase, n, "incr_steps", (double)is.steps);
        bench_emit("pauses", kase, n, "incr_backstops", (double)is.backstops);
        bench_emit("pauses", kase, n, "incr_aborted", (double)is.aborted);
        bench_emit("pauses", kase, n, "incr_largest_component", (double)is.largest_component);
        bench_emit("pauses", kase, n, "incr_last_suspects", (double)is.last_suspects);
        bench_emit("pauses", kase, n, "incr_last_snapshot", (double)is.last_snapshot);
        bench_emit("pauses", kase, n, "incr_max_step_us", is.max_step_seconds * 1e6);
        bench_emit("pauses", kase, n, "incr_work", (double)is.work);
        bench_emit("pauses", kase, n, "incr_time_stops", (double)is.time_stops);
        bench_emit("pauses", kase, n, "incr_no_time", (double)is.no_time);
        bench_emit("pauses", kase, n, "incr_early_starts", (double)is.early_starts);
        bench_emit("pauses", kase, n, "incr_recent_passes", (double)is.recent_passes);
        bench_emit("pauses", kase, n, "incr_idle_steps", (double)is.idle_steps);
        /* Generation 1 run as young passes: their steps run inside the
           generation-0 collections (whose pauses include them); a young
           pass's own generation-1 callbacks, like a pass's, bracket no
           work. */
        bench_emit("pauses", kase, n, "incr_young_passes", (double)is.young_passes);
        bench_emit("pauses", kase, n, "incr_young_steps", (double)is.young_steps);
        bench_emit("pauses", kase, n, "incr_young_finished", (double)is.young_finished);
        bench_emit("pauses", kase, n, "incr_young_max_step_us", is.young_max_step_seconds * 1e6);
    }
    if (m.floating != NULL && p.nfloating > 0) {
        double mx = 0;
        for (size_t i = 0; i < p.nfloating; i++)
            mx = p.floating[i] > mx ? p.floating[i] : mx;
        bench_emit("pauses", kase, n, "floating_count", (double)p.nfloating);
        bench_emit("pauses", kase, n, "floating_max", mx);
        bench_emit("pauses", kase, n, "floating_max_pct", 100.0 * mx / (double)n);
        bench_emit("pauses", kase, n, "floating_median", bench_median(p.floating, p.nfloating));
        free(p.floating);
    }
    bench_emit("pauses", kase, n, "gc_share_pct", 100.0 * p.total_cpu / run.cpu);
    bench_emit("pauses", kase, n, "wall_gc_share_pct", 100.0 * p.total_wall / run.wall);
    bench_emit("pauses", kase, n, "mutator_s", run.cpu);
    bench_emit("pauses", kase, n, "iterations", (double)iterations);
    bench_emit("pauses", kase, n, "rss_mb", bench_rss() / 1048576.0);
    bench_emit("pauses", kase, n, "huge_mb", bench_huge_bytes() / 1048576.0);
    rcy_decref(m.ring);
    rcy_decref(m.key);
    rcy_xdecref(root);
    bench_finish(rt);
    return 0;
}
