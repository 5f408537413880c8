/*
 * Allocation churn of the atoms (ints and floats, which programs make by
 * the million) and, for comparison, of a small container (a 2-tuple): the
 * allocator's fast paths and its pools' and arenas' coming and going.
 *
 *   one    create and drop one object at a time, N times (the same block
 *          comes back every time)
 *   batch  create B objects into an array, then drop them all (oldest
 *          first), N / B times: pools are carved, fill, empty and go back
 *
 * Timed on the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that other
 * work on a loaded machine counts as little as it can; the median of REPS
 * timed loops.
 *
 * Usage: churn_atoms [N [REPS [B]]]   (defaults 2000000, 7, 100000)
 * Prints one JSON line per case:
 *   {"bench": "churn_atoms", "case": "int_one", "n": ..., "metric": "ns_per_object", "value": ...}
 */
#include "recycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "churn_atoms: %s\n", what);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef enum { K_INT, K_FLOAT, K_TUPLE } kind_t;

static rcy_object_t *make(rcy_runtime_t *rt, kind_t k, long i, rcy_object_t *item)
{
    rcy_object_t *o;
    switch (k) {
    case K_INT: o = rcy_int_new(rt, 1000 + i); break; /* past the small-int cache */
    case K_FLOAT: o = rcy_float_new(rt, (double)i + 0.5); break;
    default: {
        rcy_object_t *items[2] = {item, item};
        o = rcy_tuple_new(rt, 2, items);
    }
    }
    if (o == NULL)
        die("out of memory");
    return o;
}

static double run_one(rcy_runtime_t *rt, kind_t k, long n, rcy_object_t *item)
{
    double t0 = thread_seconds();
    for (long i = 0; i < n; i++)
        rcy_decref(make(rt, k, i, item));
    return (thread_seconds() - t0) / (double)n * 1e9;
}

static double run_batch(rcy_runtime_t *rt, kind_t k, long n, long b, rcy_object_t **objs, rcy_object_t *item)
{
    long rounds = n / b > 0 ? n / b : 1;
    double t0 = thread_seconds();
    for (long r = 0; r < rounds; r++) {
        for (long i = 0; i < b; i++)
            objs[i] = make(rt, k, i, item);
        for (long i = 0; i < b; i++)
            rcy_decref(objs[i]);
    }
    return (thread_seconds() - t0) / (double)(rounds * b) * 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    long b = argc > 3 ? atol(argv[3]) : 100000;
    if (n <= 0 || reps <= 0 || reps > 1000 || b <= 0)
        die("usage: churn_atoms [N [REPS [B]]]");
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    rcy_object_t **objs = malloc((size_t)b * sizeof *objs);
    if (rt == NULL || objs == NULL)
        die("out of memory");
    rcy_object_t *item = rcy_int_new(rt, 7);
    static const struct {
        const char *name;
        kind_t kind;
        int batch;
    } cases[] = {{"int_one", K_INT, 0},     {"int_batch", K_INT, 1},     {"float_one", K_FLOAT, 0},
                 {"float_batch", K_FLOAT, 1}, {"tuple_one", K_TUPLE, 0}, {"tuple_batch", K_TUPLE, 1}};
    double *t = malloc((size_t)reps * sizeof *t);
    if (t == NULL)
        die("out of memory");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int r = 0; r < reps; r++)
            t[r] = cases[c].batch ? run_batch(rt, cases[c].kind, n, b, objs, item)
                                  : run_one(rt, cases[c].kind, n, item);
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        printf("{\"bench\": \"churn_atoms\", \"case\": \"%s\", \"n\": %ld, \"metric\": \"ns_per_object\", "
               "\"value\": %.3f}\n",
               cases[c].name, n, t[reps / 2]);
    }
    free(t);
    free(objs);
    rcy_decref(item);
    rcy_runtime_destroy(rt);
    return 0;
}
