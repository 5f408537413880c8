/*
 * Compact instances (issue 14): memory per instance and the time of an
 * attribute store and load, against the Python twin bench_instance.py.
 *
 *   bench_instance CASE N [REPS]
 *
 * CASE memory       N instances of a class with two attributes x and y (the
 *                   values are shared small ints), the growth of the
 *                   process's USS per instance (bench_memory's method: the
 *                   holder array touched first)
 *      setattr      o.x = v: rcy_setattr(o, "x", v), N stores over 1,000
 *                   instances
 *      setattr_str  the same with the name as an interned str object
 *                   (rcy_setattr_str), the form for a runtime's inner loop
 *      getattr      v = o.x: rcy_getattr(o, "x") (a borrowed reference)
 *      getattr_str  rcy_getattr_str(o, x)
 *      getattr_ref  rcy_getattr_ref(o, "x", &r) and rcy_decref(r): a new
 *                   reference, dropped, as Python's expression statement
 *                   `o.x` does (LOAD_ATTR, POP_TOP)
 *      setattr_mortal  o.y = m with m a mortal int (1000000): the value's
 *                   count changes at every store (v, a small int, is
 *                   immortal here as in CPython 3.12+; 3.11 counts it)
 *      all          every case but memory
 *
 * Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID), the median of REPS
 * loops, in ns per operation. Ends with zero live objects.
 */
#include "bench.h"

#define M 1000 /* instances the time cases cycle over */

static double thread_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void memory_case(rcy_runtime_t *rt, rcy_object_t *cls, long n)
{
    rcy_object_t *one = rcy_int_new(rt, 1), *two = rcy_int_new(rt, 2);
    rcy_object_t **holder = malloc((size_t)n * sizeof *holder);
    if (holder == NULL)
        bench_die("out of memory");
    memset(holder, 0xff, (size_t)n * sizeof *holder);
    double before = bench_uss();
    for (long i = 0; i < n; i++) {
        rcy_object_t *o = rcy_instance_new(cls);
        if (o == NULL || rcy_setattr(o, "x", one) != 0 || rcy_setattr(o, "y", two) != 0)
            bench_die("out of memory");
        holder[i] = o;
    }
    double after = bench_uss();
    bench_emit("instance", "memory", n, "bytes_per_obj", (after - before) / (double)n);
    size_t dicts = rcy_type_live_objects(rcy_dict_type(rt)), strs = rcy_type_live_objects(rcy_str_type(rt));
    bench_emit("instance", "memory", n, "census_dicts", (double)dicts);
    bench_emit("instance", "memory", n, "census_strs", (double)strs);
    for (long i = 0; i < n; i++)
        rcy_decref(holder[i]);
    free(holder);
    rcy_decref(one);
    rcy_decref(two);
}

/* One timed loop of case k over objs: n operations. */
static double time_case(int k, rcy_object_t **objs, long n, rcy_object_t *name, rcy_object_t *v, rcy_object_t *m)
{
    volatile uintptr_t sink = 0;
    long passes = n / M;
    double t0 = thread_now();
    for (long p = 0; p < passes; p++) {
        switch (k) {
        case 0:
            for (int i = 0; i < M; i++)
                rcy_setattr(objs[i], "x", v);
            break;
        case 1:
            for (int i = 0; i < M; i++)
                rcy_setattr_str(objs[i], name, v);
            break;
        case 2:
            for (int i = 0; i < M; i++)
                sink += (uintptr_t)rcy_getattr(objs[i], "x");
            break;
        case 3:
            for (int i = 0; i < M; i++)
                sink += (uintptr_t)rcy_getattr_str(objs[i], name);
            break;
        case 4:
            for (int i = 0; i < M; i++) {
                rcy_object_t *r;
                sink += (uintptr_t)rcy_getattr_ref(objs[i], "x", &r);
                rcy_decref(r);
            }
            break;
        default:
            for (int i = 0; i < M; i++)
                rcy_setattr(objs[i], "y", m);
            break;
        }
    }
    double t = thread_now() - t0;
    (void)sink;
    return t * 1e9 / (double)(passes * M);
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"setattr", "setattr_str", "getattr", "getattr_str", "getattr_ref", "setattr_mortal"};
    enum { NCASES = sizeof names / sizeof names[0] };
    const char *kase;
    long n;
    int reps;
    bench_args(argc, argv, &kase, &n, &reps, 5);
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_gc_disable(rt);
    rcy_object_t *cls = rcy_class_new(rt, "Point", NULL);
    if (strcmp(kase, "memory") == 0) {
        memory_case(rt, cls, n);
    } else {
        int only = -1;
        for (int k = 0; k < NCASES; k++)
            if (strcmp(kase, names[k]) == 0)
                only = k;
        if (only < 0 && strcmp(kase, "all") != 0)
            bench_die("unknown case");
        if (n < M)
            n = M;
        rcy_object_t *objs[M];
        rcy_object_t *v = rcy_int_new(rt, 7), *w = rcy_int_new(rt, 8), *m = rcy_int_new(rt, 1000000);
        for (int i = 0; i < M; i++) {
            objs[i] = rcy_instance_new(cls);
            rcy_setattr(objs[i], "x", v);
            rcy_setattr(objs[i], "y", w);
        }
        rcy_object_t *x = rcy_str_intern(rt, "x");
        for (int k = 0; k < NCASES; k++) {
            if (only >= 0 && k != only)
                continue;
            double t[64];
            int r = reps < 64 ? reps : 64;
            time_case(k, objs, n, x, v, m); /* warm up */
            for (int i = 0; i < r; i++)
                t[i] = time_case(k, objs, n, x, v, m);
            bench_emit("instance", names[k], n, "ns_per_op", bench_median(t, (size_t)r));
        }
        for (int i = 0; i < M; i++)
            rcy_decref(objs[i]);
        rcy_decref(v);
        rcy_decref(w);
        rcy_decref(m);
    }
    rcy_decref(cls);
    bench_finish(rt);
    return 0;
}
