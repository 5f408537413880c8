/* An allocator for the built-in types' tests that fails on demand: set
   `failing` and every malloc and realloc returns NULL until it is cleared.
   It counts the blocks it has handed out and not taken back, so a test can
   check that a failed call left nothing allocated. */
#ifndef RCY_TEST_OOM_ALLOC_H
#define RCY_TEST_OOM_ALLOC_H

#include "harness.h"

#include <stdbool.h>

typedef struct oom_alloc_s {
    bool failing;
    long fail_after; /* when > 0: this many more calls succeed, then failing is set */
    long live;       /* blocks handed out and not freed */
} oom_alloc_t;

static inline bool oom_should_fail(oom_alloc_t *a)
{
    if (a->fail_after > 0 && --a->fail_after == 0)
        a->failing = true;
    return a->failing;
}

static inline void *oom_malloc(void *ctx, size_t size)
{
    oom_alloc_t *a = ctx;
    if (oom_should_fail(a))
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        a->live++;
    return p;
}

static inline void *oom_realloc(void *ctx, void *ptr, size_t size)
{
    oom_alloc_t *a = ctx;
    if (oom_should_fail(a))
        return NULL;
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        a->live++;
    return p;
}

static inline void oom_free(void *ctx, void *ptr)
{
    oom_alloc_t *a = ctx;
    if (ptr != NULL)
        a->live--;
    free(ptr);
}

/* A runtime allocating through a, without poisoning (output captured in
   cap when not NULL). */
static inline rcy_runtime_t *oom_runtime(oom_alloc_t *a, capture_t *cap)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.allocator.malloc_fn = oom_malloc;
    cfg.allocator.realloc_fn = oom_realloc;
    cfg.allocator.free_fn = oom_free;
    cfg.allocator.ctx = a;
    cfg.poison = 0; /* no quarantine: freed blocks go back at once, so live counts are exact */
    if (cap != NULL) {
        cfg.output = capture_output;
        cfg.output_arg = cap;
    }
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "cannot create a runtime\n");
        exit(2);
    }
    return rt;
}

#endif
