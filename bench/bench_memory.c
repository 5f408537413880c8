/*
 * Workload 6: memory per object, as the growth of the process's unique set
 * size (USS) while N objects are alive.
 *
 *   bench_memory CASE N
 *
 * CASE node  a 2-slot object (Python: a class with __slots__ = ('a', 'b'))
 *      list  an empty list
 *      dict  an empty dict
 *
 * The holder array is allocated and touched before the first measurement,
 * so only the objects count. Reports bytes per object.
 */
#include "bench.h"

int main(int argc, char **argv)
{
    const char *kase;
    long n;
    int reps;
    bench_args(argc, argv, &kase, &n, &reps, 1);
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        bench_die("no runtime");
    rcy_type_t *node = bnode_type_new(rt);
    rcy_gc_disable(rt);
    rcy_object_t **holder = malloc((size_t)n * sizeof *holder);
    if (holder == NULL)
        bench_die("out of memory");
    /* Touch every page now (a memset of zeros may become a calloc whose
       pages are only touched later, which would count them per object). */
    memset(holder, 0xff, (size_t)n * sizeof *holder);

    int which = strcmp(kase, "node") == 0 ? 0 : strcmp(kase, "list") == 0 ? 1 : strcmp(kase, "dict") == 0 ? 2 : -1;
    if (which < 0)
        bench_die("unknown case");
    double before = bench_uss();
    for (long i = 0; i < n; i++) {
        holder[i] = which == 0 ? &bnode_new(node)->ob : which == 1 ? rcy_list_new(rt) : rcy_dict_new(rt);
        if (holder[i] == NULL)
            bench_die("out of memory");
    }
    double after = bench_uss();
    bench_emit("memory", kase, n, "bytes_per_obj", (after - before) / (double)n);
    bench_emit("memory", kase, n, "rss_mb", bench_rss() / 1048576.0);
    bench_emit("memory", kase, n, "huge_mb", bench_huge_bytes() / 1048576.0);
    for (long i = 0; i < n; i++)
        rcy_decref(holder[i]);
    free(holder);
    bench_finish(rt);
    return 0;
}
