/*
 * The small-object allocator's interface (src/pool.c), with its fast paths
 * inline: CPython's pymalloc fast paths, about ten instructions each way, in
 * every caller (object blocks in object.c, item arrays and tables through
 * rcyi_mem_alloc and rcyi_mem_free).
 *
 * A pool is a 64 KiB aligned block of memory serving one size class (16,
 * 32, ..., RCYI_POOL_MAX bytes), its header first; a block's pool is its
 * address with the low bits masked off. The fast paths rest on one
 * invariant: a pool is on its class's usable list if and only if its
 * freeblock is not NULL, and freeblock is then always a block ready to hand
 * out. The chain through the blocks' first words holds the freed blocks,
 * then at most one never-used block (carved from the pool's untouched end
 * when the chain ran out), and ends with NULL.
 *
 *   alloc  pop the head of the first usable pool's chain. When that empties
 *          the chain, rcyi_pool_extend carves the next never-used block or,
 *          when none is left, takes the full pool off the usable list.
 *   free   push the block on its pool's chain. A pool whose chain was empty
 *          (full) goes back on the usable list (rcyi_pool_usable_again); a
 *          pool whose last block came back (empty) goes back to its arena
 *          (rcyi_pool_release), unless it is the only usable pool of its
 *          class.
 *
 * internal.h includes this file after struct rcy_runtime_s and the
 * runtime.c declarations, which the inline functions use.
 */
/* Before the guard: a file including pool.h first gets internal.h, which
   includes pool.h at its place. */
#include "internal.h"

#ifndef RCY_POOL_H
#define RCY_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Object blocks (GC header included) of at most this many bytes come from
   the pools when the runtime has them. */
#define RCYI_POOL_MAX 512
#define RCYI_POOL_SIZE ((size_t)64 * 1024)
#define RCYI_POOL_ALIGNMENT 16
#define RCYI_POOL_NCLASSES (RCYI_POOL_MAX / RCYI_POOL_ALIGNMENT)

/* The header at the start of every pool. */
typedef struct rcyi_poolhdr_s {
    void *freeblock;     /* next block to hand out, NULL when the pool is full */
    uint32_t used;       /* blocks in use */
    uint32_t nextoffset; /* first never-used byte */
    uint32_t maxoffset;  /* last offset where a block fits */
    uint32_t szidx;      /* size class: blocks of (szidx + 1) * 16 bytes */
    /* In the usable list of the class, or the arena's empty pools. */
    struct rcyi_poolhdr_s *next, *prev;
    struct rcyi_arena_s *arena; /* pool.c */
} rcyi_poolhdr_t;

/* The allocator of a runtime (rt->pool). */
struct rcyi_pool_s {
    rcyi_poolhdr_t *usable[RCYI_POOL_NCLASSES]; /* pools with a free block, per class */
    struct rcyi_arena_s *arenas;                /* all arenas */
    struct rcyi_arena_s *usable_arenas;         /* arenas with an empty pool */
    size_t narenas;
    size_t nspare; /* arenas all of whose pools are empty, kept mapped */
    bool huge;     /* arenas made past the first 16 MiB are huge-page arenas (pool.c) */
    size_t mapped; /* bytes of the arenas */
};

/* Arenas all of whose pools are empty stay mapped, up to this many (4 to
   8 MiB: 1 MiB arenas, or 2 MiB huge-page ones), until rcyi_pool_trim
   (rcy_memory_trim): a program that builds and drops a large structure over
   and over would otherwise unmap and map its arenas, and fault their pages
   in again, every time. */
#define RCYI_POOL_SPARE_ARENAS 4

/* Whether a runtime should have pools: builds with free lists, the default
   allocator, no poisoning. */
RCYI_FUNC bool rcyi_pool_wanted(const rcy_runtime_t *rt, bool default_allocator);
RCYI_FUNC int rcyi_pool_init(rcy_runtime_t *rt);
/* Teardown, after the last object is freed. */
RCYI_FUNC void rcyi_pool_fini(rcy_runtime_t *rt);
/* Gives the spare arenas back to the system (rcy_memory_trim), all but one
   when no other arena is left. Returns how many. */
RCYI_FUNC size_t rcyi_pool_trim(rcy_runtime_t *rt);

/* The slow paths of rcyi_pool_alloc and rcyi_pool_free (pool.c). */
RCYI_FUNC void *rcyi_pool_alloc_new(rcy_runtime_t *rt, size_t szidx);
RCYI_FUNC void rcyi_pool_extend(struct rcyi_pool_s *p, rcyi_poolhdr_t *pool);
RCYI_FUNC void rcyi_pool_usable_again(struct rcyi_pool_s *p, rcyi_poolhdr_t *pool);
RCYI_FUNC void rcyi_pool_release(struct rcyi_pool_s *p, rcyi_poolhdr_t *pool);

/* The link of a free block. Through memcpy: the block's memory was (or
   will be) an object of some other type, and a char access aliases any.
   Tagged (rcyi_freed_link, internal.h): the first word of a freed
   non-container is its reference count, which must still read as a freed
   object's (negative) so that a decref of it is reported, not counted
   down in the middle of the chain. A shift each way. */
static inline void *rcyi_pool_link(const void *block)
{
    uintptr_t w;
    memcpy(&w, block, sizeof w);
    return rcyi_freed_unlink(w);
}

static inline void rcyi_pool_set_link(void *block, const void *next)
{
    uintptr_t w = rcyi_freed_link(next);
    memcpy(block, &w, sizeof w);
}

/* size: 1..RCYI_POOL_MAX. NULL (RCY_ENOMEM) when memory is exhausted. */
static inline void *rcyi_pool_alloc(rcy_runtime_t *rt, size_t size)
{
    struct rcyi_pool_s *p = rt->pool;
    size_t szidx = (size - 1) / RCYI_POOL_ALIGNMENT;
    rcyi_poolhdr_t *pool = p->usable[szidx];
    if (RCY_UNLIKELY(pool == NULL))
        return rcyi_pool_alloc_new(rt, szidx);
    void *block = pool->freeblock;
    pool->used++;
    if (RCY_UNLIKELY((pool->freeblock = rcyi_pool_link(block)) == NULL))
        rcyi_pool_extend(p, pool);
    return block;
}

/* The allocation when it is a few loads and stores and no call, for the
   fast paths of the built-in types (which then need no stack frame): a
   block of class szidx from the first usable pool, when its chain holds
   another block after it. NULL otherwise, with nothing changed: the
   caller takes its general path (rcyi_pool_alloc), which also sets no
   error here. p: the runtime's pools (not NULL). */
static inline void *rcyi_pool_alloc_quick(struct rcyi_pool_s *p, size_t szidx)
{
    rcyi_poolhdr_t *pool = p->usable[szidx];
    if (RCY_UNLIKELY(pool == NULL))
        return NULL;
    void *block = pool->freeblock;
    void *next = rcyi_pool_link(block);
    if (RCY_UNLIKELY(next == NULL))
        return NULL;
    pool->freeblock = next;
    pool->used++;
    return block;
}

/* The pool holding a block of the pools. */
static inline rcyi_poolhdr_t *rcyi_pool_of(const void *block)
{
    return (rcyi_poolhdr_t *)((uintptr_t)block & ~(uintptr_t)(RCYI_POOL_SIZE - 1));
}

/* Whether freeing a block of pool is the quick case, a push and no call:
   the pool is not full, and it is not emptied by it or it is the only
   usable pool of its class (which rcyi_pool_free keeps, empty). */
static inline bool rcyi_pool_free_is_quick(const rcyi_poolhdr_t *pool)
{
    return pool->freeblock != NULL && (pool->used > 1 || (pool->next == NULL && pool->prev == NULL));
}

/* rcyi_pool_free of a block of pool when rcyi_pool_free_is_quick(pool). */
static inline void rcyi_pool_free_quick(rcyi_poolhdr_t *pool, void *block)
{
    rcyi_pool_set_link(block, pool->freeblock);
    pool->freeblock = block;
    pool->used--;
}

/* The size class of a block of size bytes (1..RCYI_POOL_MAX). */
static inline size_t rcyi_pool_class(size_t size) { return (size - 1) / RCYI_POOL_ALIGNMENT; }

/* block: from rcyi_pool_alloc of the same runtime. */
static inline void rcyi_pool_free(rcy_runtime_t *rt, void *block)
{
    rcyi_poolhdr_t *pool = (rcyi_poolhdr_t *)((uintptr_t)block & ~(uintptr_t)(RCYI_POOL_SIZE - 1));
    void *last = pool->freeblock;
    rcyi_pool_set_link(block, last);
    pool->freeblock = block;
    if (RCY_UNLIKELY(last == NULL)) {
        /* The pool was full (its count is left to the slow path). */
        rcyi_pool_usable_again(rt->pool, pool);
    } else if (RCY_UNLIKELY(--pool->used == 0) && (pool->next != NULL || pool->prev != NULL)) {
        /* Empty, and not the only usable pool of its class (that one is
           kept, empty: allocate-and-free churn would otherwise take and
           give back a pool every time). */
        rcyi_pool_release(rt->pool, pool);
    }
}

/* Memory whose size its owner knows when it frees it (a list's item array,
   a dict's table): from the pools when small, else from the allocator
   hooks. rcyi_mem_free and rcyi_mem_realloc take the size given when the
   block was allocated (or last reallocated). rcyi_mem_realloc returns NULL
   (RCY_ENOMEM) leaving p as it was. */
static inline void *rcyi_mem_alloc(rcy_runtime_t *rt, size_t size)
{
    if (rt->pool != NULL && size <= RCYI_POOL_MAX)
        return rcyi_pool_alloc(rt, size != 0 ? size : 1);
    return rcyi_malloc(rt, size);
}

static inline void rcyi_mem_free(rcy_runtime_t *rt, void *p, size_t size)
{
    if (p == NULL)
        return;
    if (rt->pool != NULL && size <= RCYI_POOL_MAX)
        rcyi_pool_free(rt, p);
    else
        rcyi_free(rt, p);
}

RCYI_FUNC void *rcyi_mem_realloc(rcy_runtime_t *rt, void *p, size_t oldsize, size_t newsize);

#endif
