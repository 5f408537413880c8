/*
 * Allocation churn of the built-in types: create and drop N objects of one
 * kind, one at a time, and report the time per object (the median of REPS
 * timed loops). No cycles: every object dies by reference counting, so the
 * free lists (when enabled) hand the same memory back each time, as
 * CPython's do. The twin is churn.py; `bench/run.py --only churn` runs
 * both, interleaved, and judges on the thread's CPU time.
 *
 *   tuple     t = (x, y)
 *   list      l = [x, y]   (rcy_list_new_from: CPython's BUILD_LIST)
 *   dict      d = {'a': x}
 *   instance  o = C()        (a class without attributes or finalizer)
 *
 * Beside each case, impl "malloc" is the baseline: N malloc + free pairs of
 * the very blocks an object of the case is made of (its header-and-body
 * block, whose size the type's census gives, plus the list's 2-slot item
 * array or the dict's table of 8 slots), in the same pattern (made, then
 * dropped, one at a time), timed the same way. recycle's free lists keep
 * the list's array and the dict's table with the dead object, as they keep
 * the object itself: the baseline is what one life would cost with
 * malloc, not what recycle allocates in it.
 *
 * Usage: churn CASE N [REPS]   (CASE: tuple, list, dict, instance or all)
 * Prints per case, in the format of the other benchmarks (bench.h), the
 * metric ns_per_object on the thread's CPU time and wall_ns_per_object on
 * wall-clock time, for impl "recycle" and impl "malloc".
 */
#include "bench.h"

static void die(const char *what)
{
    fprintf(stderr, "churn: %s\n", what);
    exit(1);
}

typedef struct churn_s {
    rcy_runtime_t *rt;
    rcy_object_t *x, *y, *key, *cls;
} churn_t;

static void churn_tuple(churn_t *c, long n)
{
    rcy_object_t *items[2] = {c->x, c->y};
    for (long i = 0; i < n; i++) {
        rcy_object_t *t = rcy_tuple_new(c->rt, 2, items);
        if (t == NULL)
            die("tuple");
        rcy_decref(t);
    }
}

static void churn_list(churn_t *c, long n)
{
    rcy_object_t *items[2] = {c->x, c->y};
    for (long i = 0; i < n; i++) {
        rcy_object_t *l = rcy_list_new_from(c->rt, 2, items);
        if (l == NULL)
            die("list");
        rcy_decref(l);
    }
}

static void churn_dict(churn_t *c, long n)
{
    for (long i = 0; i < n; i++) {
        rcy_object_t *d = rcy_dict_new(c->rt);
        if (d == NULL || rcy_dict_set(d, c->key, c->x) < 0)
            die("dict");
        rcy_decref(d);
    }
}

static void churn_instance(churn_t *c, long n)
{
    for (long i = 0; i < n; i++) {
        rcy_object_t *o = rcy_instance_new(c->cls);
        if (o == NULL)
            die("instance");
        rcy_decref(o);
    }
}

/* The malloc + free baseline. */
static void *volatile sink; /* keeps the compiler from eliding the pairs */

static void malloc_pairs(long n, size_t block, size_t extra)
{
    for (long i = 0; i < n; i++) {
        char *p = malloc(block);
        char *q = extra ? malloc(extra) : NULL;
        if (p == NULL || (extra && q == NULL))
            die("out of memory");
        p[0] = 1;
        sink = p;
        if (q != NULL) {
            q[0] = 1;
            sink = q;
        }
        free(q);
        free(p);
    }
}

/* The bytes of the object's own block (its GC header included): what one
   object of the case adds to its type's live bytes. */
static size_t block_of(churn_t *c, void (*run)(churn_t *, long), rcy_type_t *type)
{
    size_t before = rcy_type_live_bytes(type);
    rcy_object_t *o = NULL;
    if (run == churn_tuple) {
        rcy_object_t *items[2] = {c->x, c->y};
        o = rcy_tuple_new(c->rt, 2, items);
    } else if (run == churn_list) {
        o = rcy_list_new(c->rt); /* the object alone: its item array is the case's "extra" */
    } else if (run == churn_dict) {
        o = rcy_dict_new(c->rt);
    } else {
        o = rcy_instance_new(c->cls);
    }
    if (o == NULL)
        die("out of memory");
    size_t size = rcy_type_live_bytes(type) - before;
    rcy_decref(o);
    return size;
}

static const struct {
    const char *name;
    void (*run)(churn_t *c, long n);
    size_t extra; /* the list's item array (2 slots), the dict's table (8 slots) */
} cases[] = {
    {"tuple", churn_tuple, 0},
    {"list", churn_list, 2 * sizeof(void *)},
    {"dict", churn_dict, 5 * (8 + 2 * sizeof(void *)) + 8 * 4},
    {"instance", churn_instance, 0},
};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: churn CASE N [REPS]   (CASE: tuple, list, dict, instance or all)\n");
        return 2;
    }
    const char *kase = argv[1];
    long n = strtol(argv[2], NULL, 10);
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (n <= 0 || reps <= 0)
        die("N and REPS must be positive");
    churn_t c;
    c.rt = rcy_runtime_new(NULL);
    if (c.rt == NULL)
        die("no runtime");
    c.x = rcy_int_new(c.rt, 1000);
    c.y = rcy_int_new(c.rt, 2000);
    c.key = rcy_str_new(c.rt, "a");
    c.cls = rcy_class_new(c.rt, "C", NULL);
    if (c.x == NULL || c.y == NULL || c.key == NULL || c.cls == NULL)
        die("setup");
    int matched = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (strcmp(kase, "all") != 0 && strcmp(kase, cases[k].name) != 0)
            continue;
        matched = 1;
        cases[k].run(&c, n / 10 + 1); /* warm up: fill the free lists and caches */
        double *ns = malloc((size_t)reps * sizeof *ns);
        double *wns = malloc((size_t)reps * sizeof *wns);
        if (ns == NULL || wns == NULL)
            die("out of memory");
        for (int r = 0; r < reps; r++) {
            bench_time_t t0 = bench_start();
            cases[k].run(&c, n);
            bench_time_t t = bench_since(t0);
            ns[r] = t.cpu * 1e9 / (double)n;
            wns[r] = t.wall * 1e9 / (double)n;
        }
        bench_emit_impl("recycle", "churn", cases[k].name, n, "ns_per_object", bench_median(ns, (size_t)reps));
        bench_emit_impl("recycle", "churn", cases[k].name, n, "wall_ns_per_object", bench_median(wns, (size_t)reps));
        rcy_type_t *type = k == 0   ? rcy_tuple_type(c.rt)
                           : k == 1 ? rcy_list_type(c.rt)
                           : k == 2 ? rcy_dict_type(c.rt)
                                    : rcy_class_instance_type(c.cls);
        size_t block = block_of(&c, cases[k].run, type);
        malloc_pairs(n / 10 + 1, block, cases[k].extra);
        for (int r = 0; r < reps; r++) {
            bench_time_t t0 = bench_start();
            malloc_pairs(n, block, cases[k].extra);
            bench_time_t t = bench_since(t0);
            ns[r] = t.cpu * 1e9 / (double)n;
            wns[r] = t.wall * 1e9 / (double)n;
        }
        bench_emit_impl("malloc", "churn", cases[k].name, n, "ns_per_object", bench_median(ns, (size_t)reps));
        bench_emit_impl("malloc", "churn", cases[k].name, n, "wall_ns_per_object", bench_median(wns, (size_t)reps));
        free(ns);
        free(wns);
    }
    if (!matched)
        die("unknown case (tuple, list, dict, instance or all)");
    rcy_decref(c.x);
    rcy_decref(c.y);
    rcy_decref(c.key);
    rcy_decref(c.cls);
    rcy_gc_collect(c.rt, 2);
    size_t live = rcy_runtime_live_objects(c.rt);
    rcy_runtime_destroy(c.rt);
    if (live != 0)
        die("objects still alive at the end");
    return 0;
}
