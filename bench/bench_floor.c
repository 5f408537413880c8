/*
 * The machine's floor: what touching memory costs here, to set beside the
 * collector's cost per object (bench/run.py's scale table). No recycle
 * runtime is involved.
 *
 *   bench_floor CASE N
 *
 * The buffer is N objects of 48 bytes (the size of a 2-slot object with its
 * GC header, the heaps of bench_fullgc), mapped anonymously and touched
 * before timing. CASE:
 *
 *   chase4k  dependent random visits: each 48-byte slot holds the address
 *            of the next, in one random cycle through all N slots (Sattolo's
 *            shuffle), followed one at a time: the latency of a random
 *            visit (cache and TLB misses, nothing overlapped). 4 KiB pages
 *            (madvise MADV_NOHUGEPAGE).
 *   mlp4k    the same cycle followed by 16 walkers at once, round robin:
 *            random visits with 16 misses in flight, as the collector's
 *            prefetching keeps them (its SCAN_RING).
 *   seq4k    a sequential read of every word: ns per 48-byte object at the
 *            bandwidth the hardware prefetcher reaches.
 *   chase2m, mlp2m, seq2m
 *            the same on a buffer aligned to 2 MiB with madvise
 *            MADV_HUGEPAGE, so that transparent huge pages can back it;
 *            huge_pct says how much of it they did (from /proc/self/smaps).
 *
 * Reports ns_per_visit (thread CPU time; wall_ns_per_visit on the wall
 * clock) over N visits, at least 2e6 and at most 2e7 (chase: 1e6 to 5e6;
 * the buffer is walked again when N is smaller), and huge_pct.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "bench.h"

#include <sys/mman.h>

#define SLOT 48
#define WALKERS 16
#define HUGE_PAGE ((size_t)2 * 1024 * 1024)

typedef struct slot_s {
    struct slot_s *next;
    char pad[SLOT - sizeof(void *)];
} slot_t;

/* A buffer of bytes, 2 MiB aligned when huge; *base and *mapped for munmap. */
static void *map_buffer(size_t bytes, int huge, void **base, size_t *mapped)
{
    size_t len = bytes + (huge ? HUGE_PAGE : 0);
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        bench_die("mmap failed");
    char *p = raw;
    if (huge)
        p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    if (huge)
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
#ifdef MADV_NOHUGEPAGE
    if (!huge)
        madvise(p, bytes, MADV_NOHUGEPAGE);
#endif
    *base = raw;
    *mapped = len;
    return p;
}

/* The share of [p, p + bytes) that huge pages back, in percent, from the
   AnonHugePages of the mappings overlapping it. */
static double huge_share(const void *p, size_t bytes)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return 0.0;
    char line[256];
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes;
    int inside = 0;
    double kb = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') == line + strcspn(line, "-")) {
            inside = a < hi && b > lo;
            continue;
        }
        unsigned long v;
        if (inside && sscanf(line, "AnonHugePages: %lu kB", &v) == 1)
            kb += (double)v;
    }
    fclose(f);
    return 100.0 * kb * 1024.0 / (double)bytes;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: bench_floor CASE N   (CASE: chase4k, mlp4k, seq4k, chase2m, mlp2m, seq2m)");
    const char *kase = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n < WALKERS)
        bench_die("N too small");
    int huge = strstr(kase, "2m") != NULL;
    int chase = strncmp(kase, "chase", 5) == 0, mlp = strncmp(kase, "mlp", 3) == 0, seq = strncmp(kase, "seq", 3) == 0;
    if (!chase && !mlp && !seq)
        bench_die("unknown case");

    size_t bytes = (size_t)n * SLOT;
    void *base;
    size_t mapped;
    slot_t *s = map_buffer(bytes, huge, &base, &mapped);
    memset(s, 0, bytes); /* every page touched before anything is timed */

    long lo = chase ? 1000000 : 2000000, hi = chase ? 5000000 : 20000000;
    long visits = n < lo ? lo : n > hi ? hi : n;
    bench_time_t t;
    volatile uintptr_t sink = 0;
    if (seq) {
        for (size_t i = 0; i < (size_t)n; i++)
            s[i].next = (slot_t *)(uintptr_t)i;
        long passes = (visits + n - 1) / n;
        const uintptr_t *w = (const uintptr_t *)(void *)s;
        size_t words = bytes / sizeof(uintptr_t);
        uintptr_t acc = 0;
        bench_time_t t0 = bench_start();
        for (long p = 0; p < passes; p++)
            for (size_t i = 0; i < words; i++)
                acc += w[i];
        t = bench_since(t0);
        sink = acc;
        visits = passes * n;
    } else {
        /* One random cycle through every slot (Sattolo), as indices first. */
        uint32_t *perm = malloc((size_t)n * sizeof *perm);
        if (perm == NULL)
            bench_die("out of memory");
        for (long i = 0; i < n; i++)
            perm[i] = (uint32_t)i;
        bench_rng_t rng = {12345};
        for (long i = n - 1; i > 0; i--) {
            long j = (long)bench_rng_below(&rng, (uint64_t)i);
            uint32_t x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
        }
        for (long i = 0; i < n; i++)
            s[perm[i]].next = &s[perm[(i + 1) % n]];
        free(perm);
        if (chase) {
            slot_t *p = &s[0];
            bench_time_t t0 = bench_start();
            for (long i = 0; i < visits; i++)
                p = p->next;
            t = bench_since(t0);
            sink = (uintptr_t)p;
        } else {
            /* WALKERS walkers spaced along the cycle. */
            slot_t *w[WALKERS];
            slot_t *p = &s[0];
            long gap = n / WALKERS;
            for (int k = 0; k < WALKERS; k++) {
                w[k] = p;
                for (long i = 0; i < gap; i++)
                    p = p->next;
            }
            long rounds = visits / WALKERS;
            bench_time_t t0 = bench_start();
            for (long i = 0; i < rounds; i++)
                for (int k = 0; k < WALKERS; k++)
                    w[k] = w[k]->next;
            t = bench_since(t0);
            for (int k = 0; k < WALKERS; k++)
                sink += (uintptr_t)w[k];
            visits = rounds * WALKERS;
        }
    }
    (void)sink;
    bench_emit_times("floor", kase, n, "ns_per_visit", t.cpu * 1e9 / (double)visits, t.wall * 1e9 / (double)visits);
    bench_emit("floor", kase, n, "huge_pct", huge_share(s, bytes));
    bench_emit("floor", kase, n, "buffer_mb", (double)bytes / 1048576.0);
    munmap(base, mapped);
    return 0;
}
