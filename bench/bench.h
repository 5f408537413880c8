/*
 * Shared helpers of the benchmark programs: the clocks, the 2-slot
 * container every workload builds its heaps from (the twin of a Python
 * class with __slots__ = ('a', 'b')), the deterministic random numbers the
 * Python twins reproduce, process memory, and the JSON lines the runner
 * (bench/run.py) reads.
 *
 * Every program prints one JSON object per line on stdout:
 *   {"bench": ..., "case": ..., "n": ..., "impl": "recycle", "metric": ..., "value": ...}
 * A timed metric is measured on the thread's CPU time (its name as the
 * workload defines it, e.g. "ns_per_obj") and beside it on wall-clock time
 * (the same name prefixed "wall_"). A distribution (the pauses) may also be
 * printed whole: {"bench", "case", "n", "impl", "dist": name, "values": [...]}.
 * Each program ends with zero live objects in its runtime (or exits with status 1).
 */
#ifndef RCY_BENCH_H
#define RCY_BENCH_H

#include "recycle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Wall-clock time, seconds. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The calling thread's CPU time, seconds: what the targets are judged on.
   The machine is shared, and wall-clock time also counts the slices the
   scheduler gave other processes (the Python twins use time.thread_time). */
static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Both clocks at once: t = bench_start(); ...; bench_stop(&t). */
typedef struct bench_time_s {
    double wall, cpu;
} bench_time_t;

static inline bench_time_t bench_start(void)
{
    bench_time_t t;
    t.cpu = bench_cpu();
    t.wall = bench_now();
    return t;
}

/* The time since t was started, both clocks. */
static inline bench_time_t bench_since(bench_time_t t)
{
    bench_time_t d;
    d.wall = bench_now() - t.wall;
    d.cpu = bench_cpu() - t.cpu;
    return d;
}

/* ---- The 2-slot container -------------------------------------------- */

typedef struct bnode_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *b;
} bnode_t;

static inline int bnode_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    bnode_t *n = (bnode_t *)self;
    RCY_VISIT(n->a);
    RCY_VISIT(n->b);
    return 0;
}

static inline int bnode_clear(rcy_object_t *self)
{
    bnode_t *n = (bnode_t *)self;
    RCY_CLEAR(n->a);
    RCY_CLEAR(n->b);
    return 0;
}

static inline rcy_type_t *bnode_type_new(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Node";
    spec.basicsize = sizeof(bnode_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = bnode_traverse;
    spec.clear = bnode_clear;
    return rcy_type_new(rt, &spec);
}

static inline void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

static inline bnode_t *bnode_new(rcy_type_t *t)
{
    bnode_t *n = (bnode_t *)rcy_new(t);
    if (n == NULL)
        bench_die("out of memory");
    return n;
}

/* Stores v in a slot (a new reference), releasing the old value. */
static inline void bnode_set(rcy_object_t **slot, rcy_object_t *v) { RCY_XSETREF(*slot, v); }

/* A complete binary tree of n 2-slot objects, built breadth first (node i
   holds nodes 2i+1 and 2i+2, allocation order = list order, as the Python
   twins build it); returns the root, the only reference left. */
static inline rcy_object_t *bench_build_tree(rcy_type_t *node, long n)
{
    bnode_t **nodes = (bnode_t **)calloc((size_t)n, sizeof *nodes);
    if (nodes == NULL)
        bench_die("out of memory");
    for (long i = 0; i < n; i++)
        nodes[i] = bnode_new(node);
    for (long i = 0; i < n; i++) {
        if (2 * i + 1 < n)
            bnode_set(&nodes[i]->a, &nodes[2 * i + 1]->ob);
        if (2 * i + 2 < n)
            bnode_set(&nodes[i]->b, &nodes[2 * i + 2]->ob);
    }
    rcy_object_t *root = &nodes[0]->ob;
    for (long i = 1; i < n; i++)
        rcy_decref(&nodes[i]->ob);
    free(nodes);
    return root;
}

/* ---- Random numbers (the Python twins compute the same sequence) ------ */

typedef struct bench_rng_s {
    uint64_t x;
} bench_rng_t;

/* A 64-bit LCG (Knuth's MMIX constants); the index is taken from the high
   bits. Python: x = (x * A + C) & MASK; i = (x >> 33) % n. */
static inline uint64_t bench_rng_below(bench_rng_t *r, uint64_t n)
{
    r->x = r->x * 6364136223846793005u + 1442695040888963407u;
    return (r->x >> 33) % n;
}

/* ---- Output ---------------------------------------------------------- */

static inline void bench_emit_impl(const char *impl, const char *bench, const char *kase, long n, const char *metric,
                                   double value)
{
    printf("{\"bench\": \"%s\", \"case\": \"%s\", \"n\": %ld, \"impl\": \"%s\", \"metric\": \"%s\", "
           "\"value\": %.6g}\n",
           bench, kase, n, impl, metric, value);
    fflush(stdout);
}

static inline void bench_emit(const char *bench, const char *kase, long n, const char *metric, double value)
{
    bench_emit_impl("recycle", bench, kase, n, metric, value);
}

/* metric on CPU time and "wall_" metric on wall-clock time. */
static inline void bench_emit_times(const char *bench, const char *kase, long n, const char *metric, double cpu,
                                    double wall)
{
    char name[96];
    bench_emit(bench, kase, n, metric, cpu);
    snprintf(name, sizeof name, "wall_%s", metric);
    bench_emit(bench, kase, n, name, wall);
}

/* A whole distribution, for the plots (values in their unit, k of them). */
static inline void bench_emit_dist(const char *bench, const char *kase, long n, const char *dist, const double *v,
                                   size_t k)
{
    printf("{\"bench\": \"%s\", \"case\": \"%s\", \"n\": %ld, \"impl\": \"recycle\", \"dist\": \"%s\", "
           "\"values\": [",
           bench, kase, n, dist);
    for (size_t i = 0; i < k; i++)
        printf(i ? ", %.4g" : "%.4g", v[i]);
    printf("]}\n");
    fflush(stdout);
}

/* Unique set size of the process in bytes. */
static inline double bench_uss(void)
{
    rcy_process_memory_t m;
    rcy_process_memory_init(&m);
    if (rcy_process_memory(&m) != 0)
        bench_die("rcy_process_memory failed"); /* a silent 0 would read as a figure */
    return (double)m.uss;
}

/* Resident set size of the process in bytes. */
static inline double bench_rss(void)
{
    rcy_process_memory_t m;
    rcy_process_memory_init(&m);
    if (rcy_process_memory(&m) != 0)
        bench_die("rcy_process_memory failed");
    return (double)m.rss;
}

/* The "<key> <n> kB" field of a /proc file, in bytes (the last line that
   starts with key, such as "VmHWM:"; 0 where the file or the field is
   missing). */
static inline double bench_proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0.0;
    char line[256];
    size_t klen = strlen(key);
    double kb = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, klen) == 0)
            kb = (double)strtoul(line + klen, NULL, 10);
    fclose(f);
    return kb * 1024.0;
}

/* Peak resident set size of the process in bytes (VmHWM). */
static inline double bench_peak_rss(void) { return bench_proc_kb("/proc/self/status", "VmHWM:"); }

/* Bytes of the process's memory that transparent huge pages back
   (AnonHugePages of /proc/self/smaps_rollup; 0 where unknown). */
static inline double bench_huge_bytes(void) { return bench_proc_kb("/proc/self/smaps_rollup", "AnonHugePages:"); }

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Parses "<case> <n> [reps]" from the command line. */
static inline void bench_args(int argc, char **argv, const char **kase, long *n, int *reps, int default_reps)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CASE N [REPS]\n", argv[0]);
        exit(2);
    }
    *kase = argv[1];
    *n = strtol(argv[2], NULL, 10);
    *reps = argc > 3 ? atoi(argv[3]) : default_reps;
    if (*n <= 0 || *reps <= 0)
        bench_die("N and REPS must be positive");
}

/* Destroys rt after checking that nothing is left alive. */
static inline void bench_finish(rcy_runtime_t *rt)
{
    rcy_gc_collect(rt, 2);
    size_t live = rcy_runtime_live_objects(rt);
    rcy_runtime_destroy(rt);
    if (live != 0) {
        fprintf(stderr, "bench: %zu objects still alive at the end\n", live);
        exit(1);
    }
}

#endif /* RCY_BENCH_H */
