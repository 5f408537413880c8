/*
 * The small-object allocator: CPython's pymalloc design for the memory of
 * objects (header and body, GC header included) of at most RCYI_POOL_MAX
 * bytes. glibc's malloc rounds a 48-byte request up to a 64-byte chunk and
 * costs a few dozen instructions each way; here blocks come in size classes
 * of 16 bytes, packed in 16 KiB pools (one size class each, found from a
 * block's address by masking), carved from 1 MiB arenas:
 *
 *   allocation  the first pool of the class with room: pop its chain of
 *               freed blocks, or bump its never-used part
 *   free        push the block on its pool's chain; a pool that was full
 *               becomes usable again, an empty pool goes back to its arena,
 *               and an arena whose pools are all empty goes back to the
 *               system (one empty arena is kept as a spare)
 *
 * A block carries no header: the object's size, known when it is freed,
 * tells whether it came from a pool. So the pools are used only for object
 * memory (rcyi_object_free and rcyi_object_discard pass the size), and only
 * in runtimes that use the default allocator and do not poison freed
 * memory, in builds with free lists (not in sanitizer builds, so that
 * AddressSanitizer and Valgrind see every object).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define POOL_SIZE ((size_t)16 * 1024)
#define ARENA_SIZE ((size_t)1024 * 1024)
#define POOLS_PER_ARENA (ARENA_SIZE / POOL_SIZE)
#define ALIGNMENT 16
#define NCLASSES (RCYI_POOL_MAX / ALIGNMENT)

typedef struct arena_s arena_t;

typedef struct pool_s {
    arena_t *arena;
    struct pool_s *next, *prev; /* in the usable list of the class, or the arena's empty pools */
    void *freeblock;            /* chain of freed blocks, through their first word */
    uint32_t used;              /* blocks in use */
    uint32_t nextoffset;        /* first never-used byte */
    uint32_t maxoffset;         /* last offset where a block fits */
    uint32_t szidx;             /* size class */
} pool_t;

#define POOL_HEADER (((sizeof(pool_t) + ALIGNMENT - 1) / ALIGNMENT) * ALIGNMENT)

struct arena_s {
    arena_t *next, *prev;         /* all arenas */
    arena_t *use_next, *use_prev; /* arenas with an empty pool */
    void *base;                   /* as mapped (ARENA_SIZE bytes) */
    char *first;                  /* first pool (POOL_SIZE aligned) */
    pool_t *empty;                /* pools given back, ready for any class */
    unsigned untouched;           /* pools never carved yet (after the others) */
    unsigned npools;              /* pools in this arena */
    unsigned nempty;              /* pools on empty, plus the untouched */
};

struct rcyi_pool_s {
    pool_t *usable[NCLASSES]; /* pools with room, per class */
    arena_t *arenas;          /* all arenas */
    arena_t *usable_arenas;   /* arenas with an empty pool */
    size_t narenas;
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
    /* Straight from the system, aligned to a pool by unmapping the
       misaligned head and tail: no allocator header shares a page with the
       pools, and an arena given back leaves at once. */
    char *raw = mmap(NULL, ARENA_SIZE + POOL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        free(a);
        return NULL;
    }
    char *first = (char *)(((uintptr_t)raw + POOL_SIZE - 1) & ~(uintptr_t)(POOL_SIZE - 1));
    if (first > raw)
        munmap(raw, (size_t)(first - raw));
    if (first + ARENA_SIZE < raw + ARENA_SIZE + POOL_SIZE)
        munmap(first + ARENA_SIZE, (size_t)(raw + POOL_SIZE - first));
    a->base = first;
    a->first = first;
    a->empty = NULL;
    a->npools = (unsigned)POOLS_PER_ARENA;
    a->untouched = a->npools;
    a->nempty = a->npools;
    a->prev = NULL;
    a->next = p->arenas;
    if (p->arenas != NULL)
        p->arenas->prev = a;
    p->arenas = a;
    p->narenas++;
    use_push(p, a);
    return a;
}

static void arena_release(struct rcyi_pool_s *p, arena_t *a)
{
    use_unlink(p, a);
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        p->arenas = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    p->narenas--;
    munmap(a->base, ARENA_SIZE);
    free(a);
}

/* An empty pool set up for class szidx and put first in its usable list. */
static pool_t *pool_new(struct rcyi_pool_s *p, unsigned szidx)
{
    arena_t *a = p->usable_arenas;
    if (a == NULL) {
        a = arena_new(p);
        if (a == NULL)
            return NULL;
    }
    pool_t *pool;
    if (a->empty != NULL) {
        pool = a->empty;
        a->empty = pool->next;
    } else {
        pool = (pool_t *)(void *)(a->first + (size_t)(a->npools - a->untouched) * POOL_SIZE);
        a->untouched--;
    }
    if (--a->nempty == 0)
        use_unlink(p, a);
    size_t size = ((size_t)szidx + 1) * ALIGNMENT;
    pool->arena = a;
    pool->freeblock = NULL;
    pool->used = 0;
    pool->nextoffset = (uint32_t)POOL_HEADER;
    pool->maxoffset = (uint32_t)(POOL_SIZE - size);
    pool->szidx = szidx;
    pool->prev = NULL;
    pool->next = p->usable[szidx];
    if (pool->next != NULL)
        pool->next->prev = pool;
    p->usable[szidx] = pool;
    return pool;
}

void *rcyi_pool_alloc(rcy_runtime_t *rt, size_t size)
{
    struct rcyi_pool_s *p = rt->pool;
    unsigned szidx = (unsigned)((size + ALIGNMENT - 1) / ALIGNMENT) - 1;
    pool_t *pool = p->usable[szidx];
    if (RCY_UNLIKELY(pool == NULL)) {
        pool = pool_new(p, szidx);
        if (pool == NULL) {
            rcyi_set_error(rt, RCY_ENOMEM);
            return NULL;
        }
    }
    void *block = pool->freeblock;
    if (block != NULL) {
        pool->freeblock = *(void **)block;
    } else {
        block = (char *)pool + pool->nextoffset;
        pool->nextoffset += (uint32_t)((szidx + 1) * ALIGNMENT);
    }
    pool->used++;
    if (pool->freeblock == NULL && pool->nextoffset > pool->maxoffset) {
        /* Full: out of the usable list until a block comes back. */
        p->usable[szidx] = pool->next;
        if (pool->next != NULL)
            pool->next->prev = NULL;
        pool->next = pool->prev = NULL;
    }
    return block;
}

void rcyi_pool_free(rcy_runtime_t *rt, void *block)
{
    struct rcyi_pool_s *p = rt->pool;
    pool_t *pool = (pool_t *)((uintptr_t)block & ~(uintptr_t)(POOL_SIZE - 1));
    bool was_full = pool->freeblock == NULL && pool->nextoffset > pool->maxoffset;
    *(void **)block = pool->freeblock;
    pool->freeblock = block;
    pool->used--;
    if (was_full && pool->used > 0) {
        /* Usable again: first in its class (it is likely warm). */
        pool->prev = NULL;
        pool->next = p->usable[pool->szidx];
        if (pool->next != NULL)
            pool->next->prev = pool;
        p->usable[pool->szidx] = pool;
        return;
    }
    if (pool->used > 0)
        return;
    if (!was_full && pool->prev == NULL && pool->next == NULL) {
        /* The only pool of its class with room stays, empty: giving it
           back would make the next allocation of the class take a pool
           again (allocate-and-free churn would do that every time). */
        return;
    }
    /* Empty: back to its arena. */
    if (!was_full) {
        if (pool->prev != NULL)
            pool->prev->next = pool->next;
        else
            p->usable[pool->szidx] = pool->next;
        if (pool->next != NULL)
            pool->next->prev = pool->prev;
    }
    arena_t *a = pool->arena;
    pool->next = a->empty;
    a->empty = pool;
    if (a->nempty++ == 0)
        use_push(p, a);
    if (a->nempty == a->npools && p->narenas > 1) {
        /* All its pools are empty: give it back, unless it is the last. */
        arena_release(p, a);
    }
}

void rcyi_pool_fini(rcy_runtime_t *rt)
{
    struct rcyi_pool_s *p = rt->pool;
    if (p == NULL)
        return;
    /* Arenas still holding blocks hold objects someone leaked (teardown
       reported them): their memory is left alone, as it may be in use. */
    arena_t *a = p->arenas;
    while (a != NULL) {
        arena_t *next = a->next;
        if (a->nempty == a->npools) {
            munmap(a->base, ARENA_SIZE);
            free(a);
        }
        a = next;
    }
    free(p);
    rt->pool = NULL;
}

/* ---- Sized memory for object internals --------------------------------- */

void *rcyi_mem_alloc(rcy_runtime_t *rt, size_t size)
{
    if (rt->pool != NULL && size <= RCYI_POOL_MAX)
        return rcyi_pool_alloc(rt, size ? size : 1);
    return rcyi_malloc(rt, size);
}

void rcyi_mem_free(rcy_runtime_t *rt, void *p, size_t size)
{
    if (p == NULL)
        return;
    if (rt->pool != NULL && size <= RCYI_POOL_MAX)
        rcyi_pool_free(rt, p);
    else
        rcyi_free(rt, p);
}

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
