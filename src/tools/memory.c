/*
 * Process memory figures from /proc: the numbers psutil's
 * memory_full_info() gives (rss, uss, pss, swap), so that "USS" means what
 * the seeds print, plus the peak RSS.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

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
        else if (strcmp(name, "Private_Clean") == 0 || strcmp(name, "Private_Dirty") == 0)
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

int rcy_process_memory(rcy_process_memory_t *out)
{
    if (out == NULL)
        return RCY_EINVAL;
    memset(out, 0, sizeof *out);
    /* smaps_rollup (Linux 4.14+) sums every mapping for us; smaps lists
       them one by one. */
    if (!read_smaps("/proc/self/smaps_rollup", out) && !read_smaps("/proc/self/smaps", out))
        return RCY_ESTATE;
    out->peak_rss = read_peak_rss();
    return 0;
}
