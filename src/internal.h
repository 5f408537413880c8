/*
 * Cross-file internals of recycle: the runtime and type structures, the GC
 * header and its list helpers. Nothing here is part of the public API; the
 * rcyi_ functions are hidden from the shared library's symbol table.
 * docs/design.md describes the layout.
 */
#ifndef RCY_INTERNAL_H
#define RCY_INTERNAL_H

#include "recycle.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define RCYI_FUNC __attribute__((visibility("hidden")))
#define RCY_LIKELY(x) __builtin_expect(!!(x), 1)
#define RCY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RCY_NORETURN __attribute__((noreturn))
#define RCY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define RCYI_NOINLINE __attribute__((noinline))
#else
#define RCYI_NOINLINE
#define RCYI_FUNC
#define RCY_LIKELY(x) (x)
#define RCY_UNLIKELY(x) (x)
#define RCY_NORETURN
#define RCY_PRINTF(f, a)
#endif

#define RCY_NUM_GENERATIONS 3

/* The reference count a freed object is left with (poisoning keeps it
   readable): negative, so any decref of it takes the slow path. */
#define RCY_REFCNT_FREED ((intptr_t)-0x5EEDF4EE)
/* Byte written over the body of a freed object when poisoning. */
#define RCY_POISON_BYTE 0xDD

/* ---- GC header (CPython's PyGC_Head) ----------------------------------

   Two words before every container object:
     next: pointer to the next header in a generation list, 0 when the object
           is untracked; bit 0 (NEXT_MASK_UNREACHABLE) only during a collection.
     prev: pointer to the previous header; bit 0 FINALIZED (the finalizer has
           run, kept for the object's whole life), bit 1 COLLECTING (member of
           the set being collected). During a collection the bits above the
           two flags hold gc_refs instead of a pointer. */
typedef struct rcy_gc_head_s {
    uintptr_t next;
    uintptr_t prev;
} rcy_gc_head_t;

#define RCYI_PREV_FINALIZED ((uintptr_t)1)
#define RCYI_PREV_COLLECTING ((uintptr_t)2)
#define RCYI_PREV_SHIFT 2
#define RCYI_PREV_MASK_FLAGS ((uintptr_t)3)
#define RCYI_NEXT_UNREACHABLE ((uintptr_t)1)

static inline rcy_gc_head_t *rcyi_as_gc(const rcy_object_t *o) { return ((rcy_gc_head_t *)(uintptr_t)o) - 1; }
static inline rcy_object_t *rcyi_from_gc(rcy_gc_head_t *g) { return (rcy_object_t *)(g + 1); }

static inline rcy_gc_head_t *rcyi_gc_next(const rcy_gc_head_t *g) { return (rcy_gc_head_t *)g->next; }
static inline void rcyi_gc_set_next(rcy_gc_head_t *g, rcy_gc_head_t *n) { g->next = (uintptr_t)n; }
static inline rcy_gc_head_t *rcyi_gc_prev(const rcy_gc_head_t *g)
{
    return (rcy_gc_head_t *)(g->prev & ~RCYI_PREV_MASK_FLAGS);
}
static inline void rcyi_gc_set_prev(rcy_gc_head_t *g, rcy_gc_head_t *p)
{
    g->prev = ((uintptr_t)p) | (g->prev & RCYI_PREV_MASK_FLAGS);
}
static inline bool rcyi_gc_is_finalized(const rcy_gc_head_t *g) { return (g->prev & RCYI_PREV_FINALIZED) != 0; }
static inline void rcyi_gc_set_finalized(rcy_gc_head_t *g) { g->prev |= RCYI_PREV_FINALIZED; }

/* Circular list with a sentinel head. */
static inline void rcyi_list_init(rcy_gc_head_t *head)
{
    head->next = (uintptr_t)head;
    head->prev = (uintptr_t)head;
}
static inline bool rcyi_list_is_empty(const rcy_gc_head_t *head) { return head->next == (uintptr_t)head; }
static inline void rcyi_list_append(rcy_gc_head_t *node, rcy_gc_head_t *head)
{
    rcy_gc_head_t *last = (rcy_gc_head_t *)head->prev;
    rcyi_gc_set_prev(node, last);
    rcyi_gc_set_next(node, head);
    rcyi_gc_set_next(last, node);
    head->prev = (uintptr_t)node;
}
static inline void rcyi_list_remove(rcy_gc_head_t *node)
{
    rcy_gc_head_t *prev = rcyi_gc_prev(node);
    rcy_gc_head_t *next = rcyi_gc_next(node);
    rcyi_gc_set_next(prev, next);
    rcyi_gc_set_prev(next, prev);
    node->next = 0; /* untracked */
    node->prev &= RCYI_PREV_FINALIZED; /* only FINALIZED outlives tracking */
}
/* Moves node from its list to the end of head. */
static inline void rcyi_list_move(rcy_gc_head_t *node, rcy_gc_head_t *head)
{
    rcy_gc_head_t *prev = rcyi_gc_prev(node);
    rcy_gc_head_t *next = rcyi_gc_next(node);
    rcyi_gc_set_next(prev, next);
    rcyi_gc_set_prev(next, prev);
    rcyi_list_append(node, head);
}
/* Appends all of from to the end of to; from becomes empty. */
static inline void rcyi_list_merge(rcy_gc_head_t *from, rcy_gc_head_t *to)
{
    if (!rcyi_list_is_empty(from)) {
        rcy_gc_head_t *to_tail = (rcy_gc_head_t *)to->prev;
        rcy_gc_head_t *from_head = rcyi_gc_next(from);
        rcy_gc_head_t *from_tail = (rcy_gc_head_t *)from->prev;
        rcyi_gc_set_next(to_tail, from_head);
        rcyi_gc_set_prev(from_head, to_tail);
        rcyi_gc_set_next(from_tail, to);
        to->prev = (uintptr_t)from_tail;
    }
    rcyi_list_init(from);
}
static inline size_t rcyi_list_size(const rcy_gc_head_t *head)
{
    size_t n = 0;
    for (const rcy_gc_head_t *g = rcyi_gc_next(head); g != head; g = rcyi_gc_next(g))
        n++;
    return n;
}

/* ---- Types --------------------------------------------------------------- */

struct rcy_type_s {
    rcy_runtime_t *rt;
    char *name;
    size_t basicsize;
    size_t itemsize;
    unsigned flags;
    rcy_traverse_fn traverse;
    rcy_clear_fn clear;
    rcy_finalize_fn finalize;
    rcy_finalize_fn legacy_del;
    rcy_dealloc_fn dealloc;
    rcy_describe_fn describe;
    size_t weaklistoffset;
    /* The bytes of an object's block without its items: basicsize, plus the
       GC header for containers (an object's block is block_base + nitems *
       itemsize bytes). */
    size_t block_base;
    /* Internal, for built-in types whose references are exactly an array
       of object pointers, possibly with NULLs (tuple: inline; list: through
       a pointer): the collector's hottest passes visit the array directly
       instead of calling traverse (same objects, same order). refs_count
       is the offset of the intptr_t count, refs_items that of the array
       (refs_indirect: of the pointer to it); refs_count == 0: traverse. */
    uint16_t refs_count, refs_items;
    bool refs_indirect;
    /* Internal slot for built-in types: called on every survivor of a
       collection; returns true when the object can be untracked (CPython's
       untrack_tuples). */
    bool (*maybe_untrack)(rcy_object_t *o);
    /* Internal slot for built-in types with a free list, set only in
       runtimes that do not poison freed memory: offered each dead object of
       the type once its references are released and the live counters
       updated (lifecycle.h); returns true when it keeps the memory on its
       free list (the object stays dead, refcnt RCY_REFCNT_FREED, until
       rcyi_object_reuse, rcyi_object_revive or rcyi_object_discard; the
       collector's count is lowered only by the discard). */
    bool (*freelist_push)(rcy_object_t *o);
    /* Internal slot for built-in types that allocate their objects
       themselves (ints and floats from arenas): when set, rcy_new calls it,
       so that every object of the type comes from where freelist_push
       gives it back. */
    rcy_object_t *(*alloc)(rcy_type_t *type);
    /* Refcount death (rcy_decref_slow calls it when the count reaches 0):
       object.c's generic deallocation, which follows the slots above; a
       built-in type with a free list sets its own copy of it
       (lifecycle.h), the same steps with its slots inlined. */
    void (*on_death)(rcy_object_t *o);
    size_t live_objects; /* census, kept as objects are created and freed */
    size_t live_bytes;
    rcy_type_t *next_type; /* all types of the runtime, newest first */
};

static inline bool rcyi_is_gc(const rcy_object_t *o) { return (o->type->flags & RCY_TPFLAGS_GC) != 0; }

/* Whether o's type declares its references as an array (refs_count): then
   *items and *n are the array (NULL when empty) and its length. */
static inline bool rcyi_ref_array(rcy_object_t *o, rcy_object_t ***items, intptr_t *n)
{
    const rcy_type_t *t = o->type;
    if (t->refs_count == 0)
        return false;
    *n = *(const intptr_t *)(const void *)((const char *)o + t->refs_count);
    char *p = (char *)o + t->refs_items;
    *items = t->refs_indirect ? *(rcy_object_t ***)(void *)p : (rcy_object_t **)(void *)p;
    return true;
}

/* ---- Runtime --------------------------------------------------------- */

typedef struct rcyi_gc_callback_s {
    rcy_gc_callback_fn fn;
    void *arg;
} rcyi_gc_callback_t;

typedef struct rcyi_generation_s {
    rcy_gc_head_t head;
    int threshold;
    int count;
} rcyi_generation_t;

struct rcy_runtime_s {
    rcy_allocator_t alloc;
    rcy_output_fn output;
    void *output_arg;
    rcy_error_fn error;
    void *error_arg;
    int last_error;

    /* The collector's state (gc.c). */
    rcyi_generation_t gens[RCY_NUM_GENERATIONS];
    rcy_gc_head_t permanent;
    bool enabled;
    bool collecting;
    int debug;
    intptr_t long_lived_total;   /* survivors of the last full collection */
    intptr_t long_lived_pending; /* promoted into gen 2 since then */
    rcy_gc_stats_t stats[RCY_NUM_GENERATIONS];
    rcy_objarray_t garbage;      /* gc.garbage: strong references */
    struct rcyi_gc_callback_s *callbacks;
    size_t n_callbacks, cap_callbacks;

    /* Objects: every type, each with its census (the runtime's totals are
       their sums, so a life updates one set of counters). */
    rcy_type_t *types;

    /* Trashcan: deallocations deeper than RCYI_TRASH_DEPTH are deferred on a
       list threaded through the dead objects' refcnt fields. */
    int dealloc_depth;
    rcy_object_t *trash;

    /* Immortal heap objects, released at teardown. */
    rcy_object_t **immortals;
    size_t n_immortals, cap_immortals;

    /* Poisoning of freed objects (debugging aid). */
    bool poison;
    void **quarantine;
    size_t quarantine_cap, quarantine_len, quarantine_pos;

    /* The small-object allocator (pool.c), or NULL when objects come from
       the allocator hooks. */
    struct rcyi_pool_s *pool;

    /* Built-in types (src/types/), and the hook that empties their free
       lists, called at the end of every full collection and at teardown. */
    struct rcyi_builtins_s *builtins;
    void (*clear_freelists)(rcy_runtime_t *rt);

    /* Weak references (weakref.c): their type, and the finalize
       registrations, oldest first, each holding a reference to itself. */
    rcy_type_t *weakref_type;
    rcy_type_t *weakmap_type; /* weakmap.c, created on first use */
    struct rcyi_weakref_s *registry_head, *registry_tail;
    /* Callbacks of weak references to objects that died RCYI_TRASH_DEPTH
       deallocations deep (already cleared; held, chained through
       `pending`, oldest first): the trashcan drain calls them, so that
       deaths cascading through callbacks do not recurse without bound. */
    struct rcyi_weakref_s *deferred_head, **deferred_tail;

    bool tearing_down;
    bool tearing_down_final; /* last teardown passes: legacy cycles are cleared too */
    intptr_t last_unreachable; /* objects the last collection found unreachable (before finalizers) */

    /* The objects whose legacy finalizer runs on refcount death, innermost
       first (a chain through the callers' frames): a legacy finalizer has
       no run-once flag, so one that releases its own object would start
       the object's deallocation over and over (object.c catches it). */
    struct rcyi_legacy_frame_s *legacy_running;

    /* Registered roots of the leak-debugging tools (tools/refchain.c):
       strong references with names, released at teardown. */
    struct rcyi_root_s *roots;
    size_t n_roots, cap_roots;
};

#define RCYI_TRASH_DEPTH 50

/* ---- runtime.c ------------------------------------------------------- */

RCYI_FUNC void *rcyi_malloc(rcy_runtime_t *rt, size_t size);
/* The runtime's live objects (the sum of its types' census), and their
   bytes in *bytes when bytes is not NULL. */
RCYI_FUNC size_t rcyi_live_objects(const rcy_runtime_t *rt, size_t *bytes);
RCYI_FUNC void *rcyi_realloc(rcy_runtime_t *rt, void *ptr, size_t size);
RCYI_FUNC void rcyi_free(rcy_runtime_t *rt, void *ptr);
RCYI_FUNC int rcyi_set_error(rcy_runtime_t *rt, int code);
RCYI_FUNC void rcyi_printf(rcy_runtime_t *rt, const char *fmt, ...) RCY_PRINTF(2, 3);
RCYI_FUNC void rcyi_report_error(rcy_runtime_t *rt, const char *fmt, ...) RCY_PRINTF(2, 3);
/* Reports heap corruption concerning o through the output hook and aborts. */
RCYI_FUNC RCY_NORETURN void rcyi_fatal(const rcy_object_t *o, const char *what);

/* ---- pool.c ---------------------------------------------------------- */

/* The small-object allocator, its fast paths inline. */
#include "pool.h"

/* ---- object.c -------------------------------------------------------- */

RCYI_FUNC size_t rcyi_object_size(const rcy_object_t *o);
/* Brings back an object kept by its type's allocator (the atom arenas of
   ints and floats): re-initializes it as a fresh allocation of the same
   size would be (zero-filled, refcnt 1, counted live). Variable-size
   objects keep their size. Containers on a free list come back through
   rcyi_object_revive (lifecycle.h), which the collector does not count. */
RCYI_FUNC rcy_object_t *rcyi_object_reuse(rcy_object_t *o);
/* Gives the memory of an object kept by a free list back to the allocator. */
RCYI_FUNC void rcyi_object_discard(rcy_object_t *o);
/* Calls o's finalizer (o must be alive), reporting a failure through the
   error hook; marks a container finalized first. */
RCYI_FUNC void rcyi_call_finalizer(rcy_object_t *o);
/* Releases immortal objects and the quarantine (teardown). */
RCYI_FUNC void rcyi_release_immortals(rcy_runtime_t *rt);
RCYI_FUNC void rcyi_quarantine_flush(rcy_runtime_t *rt);

/* ---- gc.c ------------------------------------------------------------ */

RCYI_FUNC void rcyi_gc_init(rcy_runtime_t *rt, const rcy_config_t *cfg);
/* True for a combination of RCY_DEBUG_* flags (what rcy_gc_set_debug,
   rcy_config_t.debug_flags and RCY_GC_DEBUG accept). */
RCYI_FUNC bool rcyi_gc_debug_flags_valid(int flags);
/* The slow part of rcyi_gc_on_alloc: count0 passed threshold0; collects
   if automatic collection may run now. */
RCYI_FUNC void rcyi_gc_maybe_collect(rcy_runtime_t *rt);
/* Called when a container is allocated: counts it and may collect (inline:
   it runs for every container). */
static inline void rcyi_gc_on_alloc(rcy_runtime_t *rt)
{
    rt->gens[0].count++;
#ifdef RCY_GC_STRESS
    rcyi_gc_maybe_collect(rt);
#else
    if (RCY_UNLIKELY(rt->gens[0].count > rt->gens[0].threshold))
        rcyi_gc_maybe_collect(rt);
#endif
}
/* Called when a container's memory is freed. */
static inline void rcyi_gc_on_free(rcy_runtime_t *rt)
{
    if (rt->gens[0].count > 0)
        rt->gens[0].count--;
}
/* Collects everything collectable at teardown, repeating while a collection
   finds something; reports uncollectable garbage left over. */
RCYI_FUNC void rcyi_gc_collect_shutdown(rcy_runtime_t *rt);
/* Runs one collection of `generation` (callbacks unless shutdown). Returns
   collected + uncollectable, or 0 when a collection is already running. */
RCYI_FUNC intptr_t rcyi_gc_collect(rcy_runtime_t *rt, int generation, bool shutdown);
/* Releases the collector's own allocations (teardown, after the last collection). */
RCYI_FUNC void rcyi_gc_fini(rcy_runtime_t *rt);

/* ---- weakref.c ------------------------------------------------------- */

/* The weak-reference list head inside o, or NULL if o's type has none. */
static inline struct rcyi_weakref_s **rcyi_weaklist(const rcy_object_t *o)
{
    size_t off = o->type->weaklistoffset;
    return off ? (struct rcyi_weakref_s **)(void *)((char *)(uintptr_t)o + off) : NULL;
}
RCYI_FUNC int rcyi_weakref_init(rcy_runtime_t *rt);
/* Refcount death of o: clear its weak references, then call their
   callbacks, newest first (PyObject_ClearWeakRefs). The callbacks count as
   one level of deallocation for the trashcan; at RCYI_TRASH_DEPTH they are
   deferred to the drain (the caller then releases o, which the trashcan
   defers as well: the drain is sure to run), unless o has a legacy
   finalizer still to run, which may resurrect it. */
RCYI_FUNC void rcyi_weakrefs_clear_on_death(rcy_object_t *o);
/* Calls the callbacks deferred by rcyi_weakrefs_clear_on_death (the
   trashcan drain, with the depth raised). Returns false if there were none. */
RCYI_FUNC bool rcyi_weakrefs_call_deferred(rcy_runtime_t *rt);
/* Clears o's weak references without calling their callbacks (those a
   legacy finalizer created while o was dying). */
RCYI_FUNC void rcyi_weakrefs_clear_silently(rcy_object_t *o);
/* Collection step 8 (handle_weakrefs): clears every weak reference to an
   object of unreachable and every weak reference inside it; calls the
   callbacks of those that are not themselves unreachable; those that
   outlive their callback move to the end of old. Returns the number of
   weak references freed by their callbacks. */
RCYI_FUNC intptr_t rcyi_gc_handle_weakrefs(rcy_gc_head_t *unreachable, rcy_gc_head_t *old);
/* Clears (without callbacks) the weak references inside a list and those
   to its objects: weak references created by finalizers (GH-91636). */
RCYI_FUNC void rcyi_gc_clear_weakrefs(rcy_gc_head_t *list);
/* A weak reference with a callback that also holds a strong reference to
   key (a weak map's entry key: CPython's KeyedRef). */
RCYI_FUNC rcy_object_t *rcyi_weakref_new_keyed(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg,
                                               rcy_object_t *key);
RCYI_FUNC rcy_object_t *rcyi_weakref_key(rcy_object_t *wr); /* borrowed */
/* Forgets wr's callback (its owner is going away). */
RCYI_FUNC void rcyi_weakref_drop_callback(rcy_object_t *wr);
/* Teardown: runs the live finalize registrations, newest first. */
RCYI_FUNC void rcyi_finalize_atexit(rcy_runtime_t *rt);
/* Teardown, after the last collection: detaches every registration left. */
RCYI_FUNC void rcyi_finalize_drop_all(rcy_runtime_t *rt);

/* ---- Built-in types (src/types/) --------------------------------------- */

/* Creates the built-in types and their per-runtime state (rt->builtins,
   rt->clear_freelists). Returns 0, or RCY_ENOMEM having freed what it made. */
RCYI_FUNC int rcyi_builtins_init(rcy_runtime_t *rt);
/* Empties the free lists and frees the built-in state (teardown, after the
   last collection; the types themselves are freed with the runtime's). */
RCYI_FUNC void rcyi_builtins_fini(rcy_runtime_t *rt);
/* A name for a type or class (str.c): non-empty, well-formed UTF-8, and no
   control character (C0, DEL, C1), so that it prints on one line of a
   message and needs no escaping beyond quotes in a DOT label. */
RCYI_FUNC bool rcyi_name_valid(const char *name);

/* ---- gc_api.c -------------------------------------------------------- */

/* Starts filling a caller's out-array: it must be empty (len 0: zeroed, or
   emptied by rcy_objarray_release); one that still holds references is
   refused with RCY_EINVAL and left alone. Otherwise it is reset to an empty
   array of rt. Returns 0 or RCY_EINVAL. */
RCYI_FUNC int rcyi_objarray_start(rcy_runtime_t *rt, rcy_objarray_t *out);
/* Appends a new reference to o; returns 0 or RCY_ENOMEM (a unchanged). */
RCYI_FUNC int rcyi_objarray_append(rcy_objarray_t *a, rcy_object_t *o);
RCYI_FUNC void rcyi_gc_invoke_callbacks(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info);

/* ---- tools/refchain.c -------------------------------------------------- */

/* Releases the registered roots (teardown, before the collections). */
RCYI_FUNC void rcyi_roots_release(rcy_runtime_t *rt);

#endif /* RCY_INTERNAL_H */
