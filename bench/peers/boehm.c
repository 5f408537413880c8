/*
 * The Boehm-Demers-Weiser collector (Debian's libgc-dev) on the workloads
 * that fit a tracing collector, as a peer: the same heap shapes as
 * bench_fullgc.c, the churn of a 2-slot object and its
 * memory. Objects are a type word and two slots (24 bytes, what a runtime
 * object needs at least); there are no reference counts, so dropped
 * objects wait for a collection.
 *
 *   peer_boehm fullgc tree|graph N      ns per object of GC_gcollect on a live heap
 *   peer_boehm churn instance N         ns per object allocated and dropped
 *   peer_boehm memory node N            USS growth per live object
 *
 * Cyclic garbage does not fit: a tracing collector does no work per dead
 * object when it collects (it sweeps lazily, during later allocations).
 *
 * Prints the JSON lines of the other benchmarks, with impl "boehm". Timed
 * on the process's CPU time (CLOCK_PROCESS_CPUTIME_ID: Debian's libgc marks
 * with helper threads, whose work the calling thread's CPU time would leave
 * out), and beside it on the wall clock (wall_*).
 */
#define _POSIX_C_SOURCE 200809L
#include <gc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bnode_s {
    void *type;
    struct bnode_s *a, *b;
} bnode_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process, marker threads included. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void emit(const char *bench, const char *kase, long n, const char *metric, double value)
{
    printf("{\"bench\": \"%s\", \"case\": \"%s\", \"n\": %ld, \"impl\": \"boehm\", \"metric\": \"%s\", \"value\": %.6g}\n",
           bench, kase, n, metric, value);
}

static double uss(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (f == NULL)
        return 0;
    char line[256];
    double total = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long kb;
        if (sscanf(line, "Private_Clean: %lu kB", &kb) == 1 || sscanf(line, "Private_Dirty: %lu kB", &kb) == 1)
            total += (double)kb * 1024;
    }
    fclose(f);
    return total;
}

static bnode_t *node(void)
{
    bnode_t *x = GC_MALLOC(sizeof *x);
    if (x == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return x;
}

/* Sorts v[0..n) (a few values). */
static void sort3(double *v, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
}

static bnode_t **holder; /* a root while building (GC_MALLOC'd, so scanned) */

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: peer_boehm BENCH CASE N\n");
        return 2;
    }
    const char *bench = argv[1], *kase = argv[2];
    long n = strtol(argv[3], NULL, 10);
    GC_INIT();
    if (strcmp(bench, "fullgc") == 0) {
        holder = GC_MALLOC((size_t)n * sizeof *holder);
        for (long i = 0; i < n; i++)
            holder[i] = node();
        uint64_t x = 1;
        for (long i = 0; i < n; i++) {
            if (strcmp(kase, "tree") == 0) {
                holder[i]->a = 2 * i + 1 < n ? holder[2 * i + 1] : NULL;
                holder[i]->b = 2 * i + 2 < n ? holder[2 * i + 2] : NULL;
            } else {
                x = x * 6364136223846793005u + 1442695040888963407u;
                holder[i]->a = holder[(x >> 33) % (uint64_t)n];
                x = x * 6364136223846793005u + 1442695040888963407u;
                holder[i]->b = holder[(x >> 33) % (uint64_t)n];
            }
        }
        bnode_t *volatile root = holder[0]; /* the pointer itself volatile: kept on the stack, where GC scans */
        if (strcmp(kase, "tree") == 0)
            holder = NULL; /* the tree is kept by its root only */
        GC_gcollect();
        double v[5], w[5];
        for (int r = 0; r < 5; r++) {
            double c0 = cpu(), t0 = now();
            GC_gcollect();
            w[r] = (now() - t0) * 1e9 / (double)n;
            v[r] = (cpu() - c0) * 1e9 / (double)n;
        }
        sort3(v, 5);
        sort3(w, 5);
        emit(bench, kase, n, "ns_per_obj", v[2]);
        emit(bench, kase, n, "wall_ns_per_obj", w[2]);
        (void)root;
    } else if (strcmp(bench, "churn") == 0) {
        double v[3], w[3];
        for (int r = 0; r < 3; r++) {
            double c0 = cpu(), t0 = now();
            for (long i = 0; i < n; i++) {
                volatile bnode_t *x = node();
                (void)x;
            }
            w[r] = (now() - t0) * 1e9 / (double)n;
            v[r] = (cpu() - c0) * 1e9 / (double)n;
        }
        sort3(v, 3);
        sort3(w, 3);
        emit(bench, kase, n, "ns_per_object", v[1]);
        emit(bench, kase, n, "wall_ns_per_object", w[1]);
    } else if (strcmp(bench, "memory") == 0) {
        holder = GC_MALLOC((size_t)n * sizeof *holder);
        memset(holder, 0xff, (size_t)n * sizeof *holder);
        memset(holder, 0, (size_t)n * sizeof *holder);
        double before = uss();
        for (long i = 0; i < n; i++)
            holder[i] = node();
        emit(bench, kase, n, "bytes_per_obj", (uss() - before) / (double)n);
    } else {
        fprintf(stderr, "unknown bench\n");
        return 2;
    }
    return 0;
}
