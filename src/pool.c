/*
 * The small-object allocator: CPython's pymalloc design for the memory of
 * objects (header and body, GC header included) of at most RCYI_POOL_MAX
 * bytes, and for the small item arrays and tables of lists and dicts
 * (rcyi_mem_alloc). glibc's malloc rounds a 48-byte request up to a 64-byte
 * chunk and costs a few dozen instructions each way; here blocks come in
 * size classes of 16 bytes, packed in 64 KiB pools (one size class each,
 * found from a block's address by masking), carved from 1 MiB arenas.
 * CPython's pools are 16 KiB; with 64 KiB the 48-byte pool header costs a
 * quarter as much per object (a 48-byte object takes 48.05 bytes instead of
 * 48.19), and a pool's never-used end is carved lazily, so a bigger pool
 * makes no page resident before it is needed.
 *
 * The fast paths are inline in pool.h, about ten instructions each way,
 * thanks to pymalloc's invariant: a pool is on its class's usable list if
 * and only if its freeblock (the head of its chain of blocks to hand out)
 * is not NULL. This file holds the rest, off those paths:
 *
 *   rcyi_pool_extend     an allocation emptied a pool's chain: carve the
 *                        next never-used block into it (a pool's blocks are
 *                        carved one at a time, as needed), or, when none
 *                        is left, take the full pool off the usable list
 *   rcyi_pool_alloc_new  a class without a usable pool: take an empty pool
 *                        from an arena (or map a new arena) and set it up
 *   rcyi_pool_usable_again
 *                        a block freed into a full pool: the pool goes back
 *                        on the usable list, first (it is likely warm)
 *   rcyi_pool_release    a pool emptied by a free goes back to its arena,
 *                        ready for any class; an arena whose pools are all
 *                        empty becomes a spare, kept mapped (up to
 *                        RCYI_POOL_SPARE_ARENAS of them), or goes back to
 *                        the system, unless it is the last one. The only
 *                        usable pool of a class is kept, empty (pool.h
 *                        checks), or allocate-and-free churn would take and
 *                        give back a pool every time.
 *   rcyi_pool_trim       the spares go back to the system (rcy_memory_trim).
 *
 * Arenas come from the system in one place, arena_new, and go back to it
 * in one place, arena_release.
 *
 * A block carries no header: the object's size, known when it is freed,
 * tells whether it came from a pool. So the pools are used only for object
 * memory (lifecycle.h and rcyi_object_discard pass the size) and for
 * memory whose owner knows its size (rcyi_mem_*), and only in runtimes that
 * use the default allocator and do not poison freed memory, in builds with
 * free lists (not in sanitizer builds, so that AddressSanitizer and
 * Valgrind see every object).
 */
#include "internal.h" /* and pool.h */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define POOL_SIZE RCYI_POOL_SIZE
#define ARENA_SIZE ((size_t)1024 * 1024)
/* With huge pages (rcy_config_t.huge_pages), the arenas made once the
   others hold HUGE_AFTER bytes are HUGE_ARENA bytes, aligned to that size
   and advised MADV_HUGEPAGE, so that one transparent huge page can back
   each: a collection that visits a large heap in random order then misses
   the TLB far less (docs/benchmarks.md, "Heap layout"). The first arenas
   stay small and on 4 KiB pages, whose untouched pools cost no memory, so
   a small heap pays nothing for it. */
#define HUGE_ARENA ((size_t)2 * 1024 * 1024)
#define HUGE_AFTER ((size_t)16 * 1024 * 1024)
#define ALIGNMENT RCYI_POOL_ALIGNMENT

typedef rcyi_poolhdr_t pool_t;
typedef struct rcyi_arena_s arena_t;

#define POOL_HEADER (((sizeof(pool_t) + ALIGNMENT - 1) / ALIGNMENT) * ALIGNMENT)

/* A new pool hands out its first block and carves the second (below); a
   pool that was full was so with at least two blocks in use, so a freed
   block never empties it. */
static_assert(POOL_HEADER + 2 * RCYI_POOL_MAX <= POOL_SIZE, "a pool holds two blocks of every class");
static_assert(RCYI_POOL_MAX % ALIGNMENT == 0, "whole size classes");

struct rcyi_arena_s {
    arena_t *next, *prev;         /* all arenas */
    arena_t *use_next, *use_prev; /* arenas with an empty pool */
    void *base;                   /* as mapped (size bytes) */
    size_t size;                  /* ARENA_SIZE, or HUGE_ARENA */
    char *first;                  /* first pool (POOL_SIZE aligned) */
    pool_t *empty;                /* pools given back, ready for any class */
    unsigned untouched;           /* pools never carved yet (after the others) */
    unsigned npools;              /* pools in this arena */
    unsigned nempty;              /* pools on empty, plus the untouched */
};

bool rcyi_pool_wanted(const rcy_runtime_t *rt, bool default_allocator)
{
#if RCY_FREELISTS
    return default_allocator && !rt->poison;
#else
    (void)rt;
    (void)default_allocator;
    return false;
#endif
}

int rcyi_pool_init(rcy_runtime_t *rt)
{
    struct rcyi_pool_s *p = malloc(sizeof *p);
    if (p == NULL)
        return RCY_ENOMEM;
    memset(p, 0, sizeof *p);
    p->huge = rt->huge_pages;
    rt->pool = p;
    return 0;
}

static void use_push(struct rcyi_pool_s *p, arena_t *a)
{
    a->use_prev = NULL;
    a->use_next = p->usable_arenas;
    if (a->use_next != NULL)
        a->use_next->use_prev = a;
    p->usable_arenas = a;
}

static void use_unlink(struct rcyi_pool_s *p, arena_t *a)
{
    if (a->use_prev != NULL)
        a->use_prev->use_next = a->use_next;
    else
        p->usable_arenas = a->use_next;
    if (a->use_next != NULL)
        a->use_next->use_prev = a->use_prev;
}

static arena_t *arena_new(struct rcyi_pool_s *p)
{
    arena_t *a = malloc(sizeof *a);
    if (a == NULL)
        return NULL;
    /* Straight from the system, aligned (to a pool, or to a huge page) by
       unmapping the misaligned head and tail: no allocator header shares a
       page with the pools, and an arena given back leaves at once. */
#ifdef MADV_HUGEPAGE
    bool huge = p->huge && p->mapped >= HUGE_AFTER;
#else
    bool huge = false;
#endif
    size_t size = huge ? HUGE_ARENA : ARENA_SIZE;
    size_t align = huge ? HUGE_ARENA : POOL_SIZE;
    char *raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        free(a);
        return NULL;
    }
    char *first = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (first > raw)
        munmap(raw, (size_t)(first - raw));
    if (first + size < raw + size + align)
        munmap(first + size, (size_t)(raw + align - first));
#ifdef MADV_HUGEPAGE
    if (huge)
        (void)madvise(first, size, MADV_HUGEPAGE); /* advice: a refusal leaves 4 KiB pages */
#endif
    a->base = first;
    a->size = size;
    p->mapped += size;
    a->first = first;
    a->empty = NULL;
    a->npools = (unsigned)(size / POOL_SIZE);
    a->untouched = a->npools;
    a->nempty = a->npools;
    a->prev = NULL;
    a->next = p->arenas;
    if (p->arenas != NULL)
        p->arenas->prev = a;
    p->arenas = a;
    p->narenas++;
    p->nspare++; /* all its pools are empty, until rcyi_pool_alloc_new takes one */
    use_push(p, a);
    return a;
}

/* a: all of its pools empty (a spare). */
static void arena_release(struct rcyi_pool_s *p, arena_t *a)
{
    p->nspare--;
    use_unlink(p, a);
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        p->arenas = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    p->narenas--;
    p->mapped -= a->size;
    munmap(a->base, a->size);
    free(a);
}

/* The block size of class szidx. */
static inline uint32_t class_size(size_t szidx) { return (uint32_t)((szidx + 1) * ALIGNMENT); }

void *rcyi_pool_alloc_new(rcy_runtime_t *rt, size_t szidx)
{
    struct rcyi_pool_s *p = rt->pool;
    arena_t *a = p->usable_arenas;
    if (a == NULL) {
        a = arena_new(p);
        if (a == NULL) {
            rcyi_set_error(rt, RCY_ENOMEM);
            return NULL;
        }
    }
    pool_t *pool;
    if (a->empty != NULL) {
        pool = a->empty;
        a->empty = pool->next;
    } else {
        pool = (pool_t *)(void *)(a->first + (size_t)(a->npools - a->untouched) * POOL_SIZE);
        a->untouched--;
    }
    if (a->nempty == a->npools)
        p->nspare--; /* a spare (or a new arena) no longer */
    if (--a->nempty == 0)
        use_unlink(p, a);
    /* The first block is handed out, the second carved as the next. */
    uint32_t size = class_size(szidx);
    char *block = (char *)pool + POOL_HEADER;
    pool->arena = a;
    pool->szidx = (uint32_t)szidx;
    pool->used = 1;
    pool->freeblock = block + size;
    rcyi_pool_set_link(block + size, NULL);
    pool->nextoffset = (uint32_t)POOL_HEADER + 2 * size;
    pool->maxoffset = (uint32_t)POOL_SIZE - size;
    /* The class had no usable pool: this one is the list. */
    pool->prev = pool->next = NULL;
    p->usable[szidx] = pool;
    return block;
}

void rcyi_pool_extend(struct rcyi_pool_s *p, pool_t *pool)
{
    if (pool->nextoffset <= pool->maxoffset) {
        char *block = (char *)pool + pool->nextoffset;
        pool->nextoffset += class_size(pool->szidx);
        rcyi_pool_set_link(block, NULL);
        pool->freeblock = block;
        return;
    }
    /* Full: out of the usable list (allocations take the first pool of the
       class, so it is first) until a block comes back. */
    p->usable[pool->szidx] = pool->next;
    if (pool->next != NULL)
        pool->next->prev = NULL;
    pool->next = pool->prev = NULL;
}

void rcyi_pool_usable_again(struct rcyi_pool_s *p, pool_t *pool)
{
    /* The fast path left the count alone. The pool was full, so it does
       not empty (it holds two blocks or more). First in its class: it is
       likely warm. */
    pool->used--;
    pool->prev = NULL;
    pool->next = p->usable[pool->szidx];
    if (pool->next != NULL)
        pool->next->prev = pool;
    p->usable[pool->szidx] = pool;
}

void rcyi_pool_release(struct rcyi_pool_s *p, pool_t *pool)
{
    /* Empty, and not the only pool on the usable list of its class. */
    if (pool->prev != NULL)
        pool->prev->next = pool->next;
    else
        p->usable[pool->szidx] = pool->next;
    if (pool->next != NULL)
        pool->next->prev = pool->prev;
    /* Back to its arena. */
    arena_t *a = pool->arena;
    pool->next = a->empty;
    a->empty = pool;
    if (a->nempty++ == 0)
        use_push(p, a);
    if (a->nempty == a->npools) {
        /* All its pools are empty: a spare, or, past the spares, back to
           the system (unless it is the last arena). */
        p->nspare++;
        if (p->nspare > RCYI_POOL_SPARE_ARENAS && p->narenas > 1)
            arena_release(p, a);
    }
}

size_t rcyi_pool_trim(rcy_runtime_t *rt)
{
    struct rcyi_pool_s *p = rt->pool;
    size_t released = 0;
    if (p == NULL)
        return 0;
    arena_t *next;
    for (arena_t *a = p->arenas; a != NULL && p->nspare > 0; a = next) {
        next = a->next;
        if (a->nempty == a->npools && p->narenas > 1) {
            arena_release(p, a);
            released++;
        }
    }
    return released;
}

void rcyi_pool_fini(rcy_runtime_t *rt)
{
    struct rcyi_pool_s *p = rt->pool;
    if (p == NULL)
        return;
    /* The pool a class keeps when it empties (its only usable one) is
       empty too, though not back in its arena: count it there, or its
       arena (the 80-byte record and the 1 MiB mapping) would be left behind
       by every runtime. Arenas still holding blocks hold objects someone
       leaked (teardown reported them): their memory is left alone, as it
       may be in use. */
    for (size_t i = 0; i < RCYI_POOL_NCLASSES; i++)
        for (pool_t *q = p->usable[i]; q != NULL; q = q->next)
            if (q->used == 0)
                q->arena->nempty++;
    arena_t *a = p->arenas;
    while (a != NULL) {
        arena_t *next = a->next;
        if (a->nempty == a->npools) {
            munmap(a->base, a->size);
            free(a);
        }
        a = next;
    }
    free(p);
    rt->pool = NULL;
}

/* ---- Sized memory for object internals --------------------------------- */

void *rcyi_mem_realloc(rcy_runtime_t *rt, void *p, size_t oldsize, size_t newsize)
{
    if (rt->pool == NULL || (oldsize > RCYI_POOL_MAX && newsize > RCYI_POOL_MAX) || (p == NULL && newsize > RCYI_POOL_MAX))
        return rcyi_realloc(rt, p, newsize);
    if (p != NULL && oldsize <= RCYI_POOL_MAX && newsize <= RCYI_POOL_MAX && newsize > 0 &&
        (oldsize + ALIGNMENT - 1) / ALIGNMENT == (newsize + ALIGNMENT - 1) / ALIGNMENT)
        return p; /* the same size class */
    void *q = rcyi_mem_alloc(rt, newsize);
    if (q == NULL)
        return NULL;
    if (p != NULL) {
        memcpy(q, p, oldsize < newsize ? oldsize : newsize);
        rcyi_mem_free(rt, p, oldsize);
    }
    return q;
}
