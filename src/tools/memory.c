/*
 * Process memory figures from /proc: the numbers psutil's
 * memory_full_info() gives (rss, uss, pss, swap), so that "USS" means what
 * the seeds print, plus the peak RSS. Also the runtime's own figures
 * (objects, free lists, the allocator's in-use and free bytes) and a trim
 * that gives free memory back to the system.
 */
#include "types/types.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Adds the "Name:   123 kB" fields of one smaps file to out. Returns false
   if the file cannot be opened. */
static bool read_smaps(const char *path, rcy_process_memory_t *out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        char name[64];
        unsigned long long kb;
        if (sscanf(line, "%63[^:]: %llu kB", name, &kb) != 2)
            continue;
        size_t bytes = (size_t)kb * 1024;
        if (strcmp(name, "Rss") == 0)
            out->rss += bytes;
        else if (strcmp(name, "Pss") == 0)
            out->pss += bytes;
        else if (strcmp(name, "Private_Clean") == 0 || strcmp(name, "Private_Dirty") == 0 ||
                 strcmp(name, "Private_Hugetlb") == 0) /* psutil sums all three */
            out->uss += bytes;
        else if (strcmp(name, "Swap") == 0)
            out->swap += bytes;
    }
    fclose(f);
    return true;
}

static size_t read_peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    char line[256];
    size_t peak = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long kb;
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) {
            peak = (size_t)kb * 1024;
            break;
        }
    }
    fclose(f);
    return peak;
}

void rcy_process_memory_init(rcy_process_memory_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
}

int rcy_process_memory(rcy_process_memory_t *out)
{
    if (out == NULL || !RCYI_SIZE_OK(out))
        return RCY_EINVAL;
    rcy_process_memory_init(out);
    /* smaps_rollup (Linux 4.14+) sums every mapping for us; smaps lists
       them one by one. */
    if (!read_smaps("/proc/self/smaps_rollup", out) && !read_smaps("/proc/self/smaps", out))
        return RCY_ESTATE;
    out->peak_rss = read_peak_rss();
    return 0;
}

/* ---- The runtime's own figures ---------------------------------------- */

void rcy_runtime_memory_init(rcy_runtime_memory_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
}

/* The struct's size before collector_bytes was added (a caller built
   against that header): its fields are filled, nothing past them. */
#define RUNTIME_MEMORY_SIZE_0 offsetof(rcy_runtime_memory_t, collector_bytes)

int rcy_runtime_memory(const rcy_runtime_t *rt, rcy_runtime_memory_t *caller)
{
    if (rt == NULL || caller == NULL || (caller->size != sizeof *caller && caller->size != RUNTIME_MEMORY_SIZE_0))
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    size_t size = caller->size;
    rcy_runtime_memory_t full, *out = &full;
    rcy_runtime_memory_init(out);
    /* During a heap walk the lists may hold the collector's marks. */
    if (rt->walk != NULL) {
        full.size = size;
        memcpy(caller, &full, size);
        return RCY_ESTATE;
    }
    out->objects = rcyi_live_objects(rt, &out->object_bytes);
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++)
        out->tracked += rcyi_list_size(&rt->gens[i].head);
    out->tracked += rcyi_list_size(&rt->permanent);
    out->tracked += rcyi_incr_held(rt); /* off the lists, in an incremental pass */
    const rcyi_builtins_t *b = rt->builtins;
    if (b != NULL) {
        /* What each type's free list keeps (its census slot). */
        out->freelist_objects = rcy_freelists_size(rt);
        out->freelist_bytes = 0;
        const rcy_type_t *kinds[] = {b->tuple_type, b->list_type, b->dict_type};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            size_t objects, bytes;
            if (kinds[k]->freelist_census != NULL) {
                kinds[k]->freelist_census(kinds[k], &objects, &bytes);
                out->freelist_bytes += bytes;
            }
        }
    }
    out->quarantined = rt->quarantine_len;
    out->collector_bytes = rcyi_gc_scratch_bytes(rt) + rcyi_incr_scratch_bytes(rt);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    out->malloc_in_use = mi.uordblks + mi.hblkhd;
    out->malloc_free = mi.fordblks;
#endif
    full.size = size;
    memcpy(caller, &full, size);
    return 0;
}

int rcy_memory_trim(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rt->clear_freelists != NULL)
        rt->clear_freelists(rt);
    size_t scratch = rcyi_gc_scratch_bytes(rt);
    rcyi_gc_shrink_scratch(rt, true);
    int released = rcyi_pool_trim(rt) > 0 || rcyi_gc_scratch_bytes(rt) < scratch;
#ifdef __GLIBC__
    return malloc_trim(0) || released ? 1 : 0;
#else
    return released;
#endif
}
