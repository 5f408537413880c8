/*
 * Cross-file internals of recycle: the runtime and type structures, the GC
 * header and its list helpers. Nothing here is part of the public API; the
 * rcyi_ functions are hidden from the shared library's symbol table.
 * docs/design.md describes the layout.
 *
 * Symbols: the library is compiled with -fvisibility=hidden, so only the
 * RCY_API functions of recycle.h are exported. RCYI_FUNC still marks every
 * cross-file internal function hidden: it says at the declaration that the
 * function is internal, and keeps it hidden when the sources are compiled
 * without that flag (the fuzz targets of the Makefile, a project building
 * the sources into its own library).
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
/* For a fast path's body written once and inlined with a constant (a
   tuple's size), so that each copy folds: GCC and clang would otherwise
   keep one shared, unspecialized copy. */
#define RCYI_ALWAYS_INLINE inline __attribute__((always_inline))
/* The initial-exec model: one load from the thread pointer, no
   __tls_get_addr call (the library's few bytes of TLS fit the static
   block dlopen keeps spare). */
#define RCYI_TLS _Thread_local __attribute__((tls_model("initial-exec")))
/* The stack pointer, read from its register where we know it: neither
   __builtin_frame_address (which forces a frame pointer on the functions
   that inline the check: the dealloc path, hashing) nor the address of a
   local (which AddressSanitizer may put on its "fake stack" on the heap). */
#if defined(__x86_64__) && defined(__LP64__)
#define RCYI_STACK_HERE() rcyi_stack_pointer()
static inline uintptr_t rcyi_stack_pointer(void)
{
    uintptr_t sp;
    __asm__("movq %%rsp, %0" : "=r"(sp));
    return sp;
}
#elif defined(__aarch64__)
#define RCYI_STACK_HERE() rcyi_stack_pointer()
static inline uintptr_t rcyi_stack_pointer(void)
{
    uintptr_t sp;
    __asm__("mov %0, sp" : "=r"(sp));
    return sp;
}
#else
#define RCYI_STACK_HERE() ((uintptr_t)__builtin_frame_address(0))
#endif
#else
#define RCYI_TLS _Thread_local
#define RCYI_STACK_HERE() rcyi_stack_here()
#define RCYI_NOINLINE
#define RCYI_ALWAYS_INLINE inline
#define RCYI_FUNC
#define RCY_LIKELY(x) (x)
#define RCY_UNLIKELY(x) (x)
#define RCY_NORETURN
#define RCY_PRINTF(f, a)
#endif

/* A versioned public struct (recycle.h, "Versioned structs") whose size
   field matches this library's declaration of it. */
#define RCYI_SIZE_OK(p) ((p)->size == sizeof *(p))

/* ---- Debug levels (like mimalloc's MI_DEBUG) ----------------------------

   RCY_DEBUG, fixed when the library is compiled (CMake: RCY_DEBUG_LEVEL;
   Debug builds default to 2, other builds to 0). Each level adds to the
   ones below it:

     0  release: only the checks every build makes (a decref of a freed
        object or below zero, a traverse reporting more references than a
        count, a finalizer releasing a reference it does not own).
     1  cheap invariant checks: poisoning of freed objects on by default;
        every collection ends by validating the lists it touched (links,
        flags, counts, types).
     2  heap validation between the collector's phases: each list a phase
        hands to the next is checked with the flag states it must have
        (COLLECTING and UNREACHABLE set or clear, as CPython's validate_list
        checks them), and for every object collected the list/tuple
        traverse shortcut (rcyi_ref_array) is compared with the type's real
        traverse. The cost is proportional to the collection's own work.
     3  full heap validation (what rcy_gc_validate checks) before and after
        every collection and at teardown: O(heap) per collection.

   A failed check aborts with the object's type and address (rcyi_fatal).
   Level 0 leaves RCY_DEBUG undefined, so `#ifdef RCY_DEBUG` keeps meaning
   "level 1 or more"; test a level with `#if RCY_DEBUG >= n` (an undefined
   macro is 0 there). RCYI_DEBUG_LEVEL is the level as a C expression. */
#if defined(RCY_DEBUG) && RCY_DEBUG == 0
#undef RCY_DEBUG
#endif
#if defined(RCY_DEBUG) && (RCY_DEBUG < 1 || RCY_DEBUG > 3)
#error "RCY_DEBUG must be 0, 1, 2 or 3"
#endif
#ifdef RCY_DEBUG
#define RCYI_DEBUG_LEVEL RCY_DEBUG
#else
#define RCYI_DEBUG_LEVEL 0
#endif

#define RCY_NUM_GENERATIONS 3

/* ---- Size arithmetic ----------------------------------------------------

   Every product or sum of sizes that a caller can influence goes through
   these (docs/design.md, "Size arithmetic"): they return false instead of
   wrapping, and the caller refuses (RCY_ENOMEM for a size no memory could
   hold, RCY_EINVAL for an argument that is invalid in itself). */
static inline bool rcyi_size_mul(size_t a, size_t b, size_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
    return !__builtin_mul_overflow(a, b, out);
#else
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
#endif
}

static inline bool rcyi_size_add(size_t a, size_t b, size_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
    return !__builtin_add_overflow(a, b, out);
#else
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
#endif
}

/* The capacity a growing array of `cap` elements of `elem` bytes moves to:
   twice cap (at least `first`), or 0 when the doubled array's bytes would
   not fit in a size_t (the caller reports RCY_ENOMEM). */
static inline size_t rcyi_grow_cap(size_t cap, size_t first, size_t elem)
{
    size_t next, bytes;
    if (cap == 0)
        next = first;
    else if (!rcyi_size_mul(cap, 2, &next))
        return 0;
    return rcyi_size_mul(next, elem, &bytes) ? next : 0;
}

/* The reference count a freed object is left with, poisoning on or off:
   negative, so any decref of it takes the slow path. A live or dying
   object's count is never negative (decref stops at 0), so a negative count
   always means a freed object (docs/design.md, "Freed objects"): exactly
   RCY_REFCNT_FREED, or a little more after increfs through a stale pointer,
   or a pool's or the trashcan's tagged link (RCYI_FREED_LINK) for a
   non-container whose first word holds the link. */
#define RCY_REFCNT_FREED ((intptr_t)-0x5EEDF4EE)
/* The count teardown gives the immortal objects while it releases them
   (rcyi_release_immortals): mortal, so that incref and decref count again,
   and beyond the reach of any sequence of decrefs, so that the releases of
   references between immortals never free one of them. */
#define RCYI_REFCNT_RELEASING (RCY_REFCNT_IMMORTAL / 2)
/* Whether a count of at least RCY_REFCNT_MAX (a mortal count at the
   maximum, or an immortal one) is immortal: a shift, where the comparison
   with RCY_REFCNT_IMMORTAL would hold a 64-bit constant in a register
   (and make a fast path save one more). */
static inline bool rcyi_refcnt_immortal(intptr_t r)
{
    return ((uintptr_t)r >> (sizeof(intptr_t) * 8 - 3)) != 0;
}
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
/* next of an object in an incremental pass's array (gc_incr.c): its index
   there shifted left by 3, with this bit, and RCYI_NEXT_INCR_YOUNG for the
   young pass's array (a generation-1 collection run as a pass) rather
   than the old generation's; such an object is on no list.
   A heap tool's walk (src/tools/refchain.c) gives the pass up, then tags
   the next of every tracked object so with its node number while it runs,
   and puts every link back before it returns. */
#define RCYI_NEXT_INCR ((uintptr_t)2)
#define RCYI_NEXT_INCR_YOUNG ((uintptr_t)4)

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
/* rcyi_list_append for a header whose flags are all clear (a new or
   revived object's): prev is written whole, not merged with its flags. */
static inline void rcyi_list_append_new(rcy_gc_head_t *node, rcy_gc_head_t *head)
{
    rcy_gc_head_t *last = (rcy_gc_head_t *)head->prev;
    /* The store to last between node's two words keeps the vectorizer from
       pairing them into one 16-byte store (two more instructions). */
    node->next = (uintptr_t)head;
    rcyi_gc_set_next(last, node);
    node->prev = (uintptr_t)last;
    head->prev = (uintptr_t)node;
}
RCYI_FUNC void rcyi_incr_forget(rcy_gc_head_t *g);
/* Untracks node (every untrack goes through here): an object of the
   incremental pass's array leaves the array instead of a list. */
static inline void rcyi_list_remove(rcy_gc_head_t *node)
{
    if (RCY_UNLIKELY(node->next & RCYI_NEXT_INCR)) {
        rcyi_incr_forget(node);
        return;
    }
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
    /* rt and kind are rcy_type_head_t of the public header (its inline
       type checks read kind; object.c asserts the offsets). */
    rcy_runtime_t *rt;
    unsigned kind; /* RCY_KIND_*: which built-in type, 0 for a user type */
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
    rcy_hash_fn hash;   /* user types only; NULL for the built-ins */
    rcy_equal_fn equal;
    rcy_call_fn call;
    /* The bytes of an object's block without its items: basicsize, plus the
       GC header for containers (an object's block is block_base + nitems *
       itemsize bytes). */
    size_t block_base;
    /* Internal, for built-in types whose references are exactly an array
       of object pointers, possibly with NULLs (tuple: inline; list: through
       a pointer): the collector's hottest passes visit the array directly
       instead of calling traverse (same objects, same order). refs_count
       is the offset of the intptr_t count, refs_items that of the array
       (refs_indirect: of the pointer to it); refs_count == 0: traverse.
       refs_stride > 1: the array is a table of refs_count entries of
       refs_stride words each, whose first refs_skip words are not
       references and whose last two words are (a dict's hash, key, value:
       what dict_traverse visits, labels aside); see rcyi_ref_table. */
    uint16_t refs_count, refs_items;
    bool refs_indirect;
    uint8_t refs_stride, refs_skip;
    /* Internal slot for built-in types: called on every survivor of a
       collection; returns true when the object can be untracked (CPython's
       untrack_tuples). */
    bool (*maybe_untrack)(rcy_object_t *o);
    /* Internal slot for built-in types with a free list, set only in
       runtimes that do not poison freed memory: offered each dead object of
       the type once its references are released (lifecycle.h); returns
       true when it keeps the memory on its free list (the object stays
       dead, refcnt RCY_REFCNT_FREED, until rcyi_object_revive or
       rcyi_object_discard; the collector's count and the type's census
       counters are lowered only by the discard). */
    bool (*freelist_push)(rcy_object_t *o);
    /* Refcount death (rcy_decref_slow calls it when the count reaches 0):
       object.c's generic deallocation, which follows the slots above; a
       built-in type with a free list sets its own copy of it
       (lifecycle.h), the same steps with its slots inlined. */
    void (*on_death)(rcy_object_t *o);
    /* Internal slot for built-in types that make their objects themselves
       (the instances of a class: their capacity, their class reference):
       when set, rcy_new calls it instead of allocating a zeroed object. */
    rcy_object_t *(*alloc)(rcy_type_t *type);
    /* Internal slot for built-in types whose fixed-size objects differ in
       size (compact instances: their inline values): the bytes of o's
       block, which rcyi_object_size returns instead of block_base. */
    size_t (*size_of)(const rcy_object_t *o);
    /* The class whose instances this type describes (src/types/class.c),
       NULL for other types and once the class is freed. */
    rcy_object_t *owner;
    /* The census (read through rcyi_type_live): the objects whose memory
       the type holds and their bytes (blocks, GC header included), kept
       as objects are made and freed: the live ones, and those its free
       list keeps, which freelist_census counts and the readers subtract.
       So a life that begins and ends on the free list (the churn of small
       tuples, lists and dicts) touches neither counter. The two are not
       adjacent on purpose: GCC's SLP vectorizer pairs the updates of
       adjacent ones into one 16-byte load and store, which cannot be
       forwarded from two 8-byte stores made just before (a
       store-forwarding stall in each short life). */
    size_t held_objects;
    rcy_type_t *next_type; /* all types of the runtime, newest first */
    size_t held_bytes;
    /* Internal slot of built-in types with a free list: the objects it
       keeps and their bytes (NULL: none). */
    void (*freelist_census)(const rcy_type_t *t, size_t *objects, size_t *bytes);
    size_t validate_tracked; /* scratch of heap validation (validate.c) */
    /* The heap tools' side table (tools/sites.c): while an object of this
       type has a stable id or an allocation site, on_death is the table's
       wrapper and this is the slot it calls after forgetting the object. */
    void (*untraced_on_death)(rcy_object_t *o);
};

/* A type's live objects, and their bytes in *bytes when bytes is not
   NULL: what it holds, less what its free list keeps. */
static inline size_t rcyi_type_live(const rcy_type_t *t, size_t *bytes)
{
    size_t n = t->held_objects, b = t->held_bytes;
    if (t->freelist_census != NULL) {
        size_t fn, fb;
        t->freelist_census(t, &fn, &fb);
        n -= fn;
        b -= fb;
    }
    if (bytes != NULL)
        *bytes = b;
    return n;
}

static inline bool rcyi_is_gc(const rcy_object_t *o) { return (o->type->flags & RCY_TPFLAGS_GC) != 0; }

/* Objects never move between runtimes. An object belongs to the runtime of
   its type (every type has one, so this holds for statics too: an object of
   rcy_object_init_static, a small int or the empty tuple belongs to the
   runtime whose type it has, and that type is freed with it). Every call
   that stores a caller-supplied object into an object of a runtime (a
   container's item, key or value, an attribute, a weak map's entry, ...)
   first checks each one with this, before it changes anything: one
   comparison. */
static inline bool rcyi_same_runtime(const rcy_object_t *item, const rcy_runtime_t *rt)
{
    return item->type->rt == rt;
}

/* Whether o's type declares its references as a plain array (refs_count,
   refs_stride <= 1): then *items and *n are the array (NULL when empty)
   and its length, and traverse visits each non-NULL item with its index
   and no label. */
static inline bool rcyi_ref_array(rcy_object_t *o, rcy_object_t ***items, intptr_t *n)
{
    const rcy_type_t *t = o->type;
    if (t->refs_count == 0 || t->refs_stride > 1)
        return false;
    *n = *(const intptr_t *)(const void *)((const char *)o + t->refs_count);
    char *p = (char *)o + t->refs_items;
    *items = t->refs_indirect ? *(rcy_object_t ***)(void *)p : (rcy_object_t **)(void *)p;
    return true;
}

/* Whether o's type declares its references as an array or a table
   (refs_count): then *items is its first word (NULL when empty), *n the
   number of entries, *stride the words per entry (1 for a plain array)
   and *skip the leading words of an entry that are not references;
   traverse visits the non-NULL references of entry 0, 1, ... in order
   (with labels of its own for a table). */
static inline bool rcyi_ref_table(rcy_object_t *o, rcy_object_t ***items, intptr_t *n, unsigned *stride,
                                  unsigned *skip)
{
    const rcy_type_t *t = o->type;
    if (t->refs_count == 0)
        return false;
    *n = *(const intptr_t *)(const void *)((const char *)o + t->refs_count);
    char *p = (char *)o + t->refs_items;
    *items = t->refs_indirect ? *(rcy_object_t ***)(void *)p : (rcy_object_t **)(void *)p;
    *stride = t->refs_stride > 1 ? t->refs_stride : 1;
    *skip = t->refs_skip;
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

/* What user code of a runtime is running (re-entrancy, docs/design.md): a
   frame on the caller's stack, pushed around a callback or slot that the
   other state below does not already tell (a finalizer, a weak-reference
   or finalize callback, a gc callback, a describe slot, a hook). */
typedef struct rcyi_running_s {
    const char *what;        /* "a finalizer", ... */
    const rcy_object_t *obj; /* whose slot or callback runs, or NULL */
    struct rcyi_running_s *up;
} rcyi_running_t;

/* The magic of a live runtime, and what rcy_runtime_destroy writes over it
   just before freeing the block. It follows the allocator hooks (offset 32
   on 64-bit targets), past the words a C allocator usually writes into a
   freed block. */
#define RCYI_RUNTIME_MAGIC ((uint64_t)0x52435952554e5431ULL) /* "RCYRUNT1" */
#define RCYI_RUNTIME_DEAD ((uint64_t)0x444541442052554eULL)  /* "DEAD RUN" */

struct rcy_runtime_s {
    rcy_allocator_t alloc;
    uint64_t magic; /* RCYI_RUNTIME_MAGIC while alive (rcyi_check_runtime) */
    rcy_output_fn output;
    void *output_arg;
    rcy_error_fn error;
    void *error_arg;
    /* The pending error (docs/design.md, Errors): its code (rcy_last_error,
       written by every failed call), and the message and value a user set
       with it (rcy_error_set*), which belong to the code only while
       error_detail_seq == error_seq: every setting of the code moves
       error_seq on, so a later library failure makes them stale without
       touching them (releasing a value runs code, which a failing call
       must not do; they go at the next rcy_error_set or clear). */
    int last_error;
    unsigned error_seq, error_detail_seq;
    char *error_message;
    rcy_object_t *error_value;
    /* Releases a discarded error value (rcy_decref, set by rcy_runtime_new:
       support.c sits below the object layer). */
    void (*release_error_value)(rcy_object_t *value);

    /* The collector's state (gc.c). */
    rcyi_generation_t gens[RCY_NUM_GENERATIONS];
    rcy_gc_head_t permanent;
    bool enabled;
    bool collecting;
    int debug;
    intptr_t long_lived_total;   /* survivors of the last full collection */
    intptr_t long_lived_pending; /* promoted into gen 2 since then */
    rcy_gc_stats_t stats[RCY_NUM_GENERATIONS];
    /* Incremental mode (gc_incr.c): the mode (rcy_gc_mode_t), the work of
       one step (0: the default), the pass's state (allocated on first
       use), and the external bytes charged to containers. */
    int gc_mode;
    size_t incr_step_work;
    size_t incr_pause_us;
    bool incr_young; /* generation-1 collections run as young passes (RCY_GC_INCR_YOUNG, default on) */
    struct rcyi_incr_s *incr;
    size_t ext_bytes;
    rcy_objarray_t garbage;      /* gc.garbage: strong references */
    struct rcyi_gc_callback_s *callbacks;
    size_t n_callbacks, cap_callbacks;

    /* Objects: every type, each with its census (the runtime's totals are
       their sums, so a life updates one set of counters). */
    rcy_type_t *types;

    /* Trashcan: deallocations deeper than RCYI_TRASH_DEPTH (or nested at
       all when the stack is low) are deferred on a list threaded through
       the dead objects' refcnt fields. */
    int dealloc_depth;
    rcy_object_t *trash;

    /* Immortal heap objects, released at teardown. */
    rcy_object_t **immortals;
    size_t n_immortals, cap_immortals;
    bool releasing_immortals; /* teardown has made them mortal: no new ones */

    /* Poisoning of freed objects (debugging aid). */
    bool poison;
    void **quarantine;
    size_t quarantine_cap, quarantine_len, quarantine_pos;

    /* The small-object allocator (pool.c), or NULL when objects come from
       the allocator hooks; huge_pages: its arenas past the first 16 MiB are
       2 MiB and advised for transparent huge pages (rcy_config_t). */
    struct rcyi_pool_s *pool;
    bool huge_pages;

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
    /* Teardown is bounded by work, not only by passes (docs/design.md,
       Teardown): the finalize callbacks it runs and the objects its
       collections find unreachable each spend from teardown_budget, set by
       rcy_runtime_destroy from the live objects; teardown_cut is set when a
       phase stopped on its bound (it was reported then). */
    size_t teardown_budget;
    size_t teardown_work;
    bool teardown_cut;
    intptr_t last_unreachable; /* objects the last collection found unreachable (before finalizers) */
    /* Scratch of a young collection's trial deletion (gc.c, update_refs):
       the headers of the set collected in list order, so that the passes
       after the first walk an array, fetching ahead, instead of chasing the
       list's links. Kept between collections (at most SCAN_ORDER_MAX
       entries), shrunk after a full collection to what the young
       collections since the last one needed (young_peak) and by
       rcy_memory_trim to its first size, freed at teardown. */
    rcy_gc_head_t **scan_order;
    size_t scan_order_cap;
    size_t young_peak; /* the largest set a young collection examined since the last shrink */
    bool scan_order_fixed; /* set while a region of incremental mode is collected: the array does not grow */
    /* The addresses of generation 1's objects in list order, as the
       generation-0 collections that promoted them left them (gc.c,
       record_hints): a generation-1 collection's update_refs prefetches
       from it instead of waiting on each link. Addresses only, never
       dereferenced (an object freed since leaves a stale one); emptied when
       generation 1 is, at most SCAN_ORDER_MAX entries, freed at teardown. */
    rcy_gc_head_t **young_hints;
    size_t young_hints_len, young_hints_cap;
    bool young_hints_broken; /* a chunk was not recorded: append no more */

    /* The objects whose legacy finalizer runs on refcount death, innermost
       first (a chain through the callers' frames): a legacy finalizer has
       no run-once flag, so one that releases its own object would start
       the object's deallocation over and over (object.c catches it). */
    struct rcyi_legacy_frame_s {
        const rcy_object_t *o;
        struct rcyi_legacy_frame_s *up;
    } *legacy_running;

    /* Registered roots of the leak-debugging tools (roots.c):
       strong references with names, released at teardown. */
    struct rcyi_root_s *roots;
    size_t n_roots, cap_roots;

    /* Re-entrancy (docs/design.md, "Re-entrancy"). running: the innermost
       callback frame. walk: non-NULL (the walk's name) while traverse slots
       or the tools' callbacks run over the heap (the collector's passes,
       get_referrers, the tools): collections, freeze, track/untrack and
       other walks are refused meanwhile. destroying: rcy_runtime_destroy
       has started. */
    rcyi_running_t *running;
    const char *walk;
    bool destroying;
    /* Stable object ids and allocation sites (tools/sites.c), NULL until
       first used, and the hook that forgets a dying object's entry, which
       finalize.c calls (a layer below the tools) once an object with
       finalizers dies for good; NULL without a table. */
    struct rcyi_trace_s *trace;
    void (*trace_forget)(rcy_object_t *o);
    rcy_runtime_t *live_next; /* the process-wide list of live runtimes (runtime.c) */
};

#define RCYI_TRASH_DEPTH 50

/* ---- stack.c: recursion bounded by the stack actually used ----------

   Every recursive operation (equality, hashing, repr, describe slots
   calling each other, deallocations nesting through the trashcan) checks,
   before going one level deeper, that the thread keeps a margin of stack
   below the current frame: rcyi_stack_low() compares the stack pointer
   with the thread's limit (its stack's lowest address plus the margin,
   stack.c), found once per thread. Where the bounds cannot be found (no
   pthread_getattr_np) the check never fires and the operations' level caps
   alone bound the recursion. */

typedef struct rcyi_stack_s {
    uintptr_t limit; /* the stack's bottom plus the margin */
    uintptr_t span;  /* the stack's top minus limit; 0 until first found */
    uintptr_t bottom;
} rcyi_stack_t;

extern RCYI_FUNC RCYI_TLS rcyi_stack_t rcyi_stack_tls;

RCYI_FUNC bool rcyi_stack_low_slow(uintptr_t here);

#if !(defined(__GNUC__) || defined(__clang__))
static inline uintptr_t rcyi_stack_here(void)
{
    volatile char here = 0;
    return (uintptr_t)&here;
}
#endif

/* True when less than the margin is left below the current frame (the
   operation must fail with RCY_EDEPTH, or write "..."): one thread-local
   load, one subtraction and one comparison while the stack pointer lies
   within [limit, top). */
static inline bool rcyi_stack_low(void)
{
    uintptr_t here = RCYI_STACK_HERE();
    if (RCY_LIKELY(here - rcyi_stack_tls.limit < rcyi_stack_tls.span))
        return false;
    return rcyi_stack_low_slow(here);
}

/* ---- support.c ------------------------------------------------------- */

RCYI_FUNC void *rcyi_malloc(rcy_runtime_t *rt, size_t size);
RCYI_FUNC void *rcyi_realloc(rcy_runtime_t *rt, void *ptr, size_t size);
RCYI_FUNC void rcyi_free(rcy_runtime_t *rt, void *ptr);
/* n elements of elem bytes (malloc / realloc): NULL with RCY_ENOMEM, and
   nothing allocated, when n * elem does not fit in a size_t. */
RCYI_FUNC void *rcyi_malloc_array(rcy_runtime_t *rt, size_t n, size_t elem);
RCYI_FUNC void *rcyi_realloc_array(rcy_runtime_t *rt, void *ptr, size_t n, size_t elem);
/* Grows the array items (*cap elements of elem bytes, from the functions
   above; NULL when *cap is 0) to rcyi_grow_cap's next capacity: returns it,
   its capacity in *cap, or NULL with RCY_ENOMEM and items and *cap as they
   were. Every growing array of the library (object arrays, gc callbacks,
   roots, immortals) grows through it. */
RCYI_FUNC void *rcyi_array_grow(rcy_runtime_t *rt, void *items, size_t *cap, size_t first, size_t elem);
RCYI_FUNC int rcyi_set_error(rcy_runtime_t *rt, int code);
/* The message of the pending error if a user set it with the current
   code, else NULL. */
static inline const char *rcyi_error_detail(const rcy_runtime_t *rt)
{
    return rt->error_detail_seq == rt->error_seq ? rt->error_message : NULL;
}
/* PyErr_Fetch / PyErr_Restore around every callback the library runs
   (finalizers, weak-reference and finalize callbacks, gc callbacks, user
   dealloc/clear/describe slots, the hooks, automatic collections): save
   moves the pending error aside and leaves none for the callback; restore
   puts it back and discards what the callback left (after reporting it:
   rcyi_error_detail between the two is the callback's message). */
typedef struct rcyi_errsave_s {
    int code;
    bool detail;
    char *message;
    rcy_object_t *value;
} rcyi_errsave_t;
static inline void rcyi_err_save(rcy_runtime_t *rt, rcyi_errsave_t *s)
{
    s->code = rt->last_error;
    s->detail = rt->error_detail_seq == rt->error_seq;
    s->message = rt->error_message;
    s->value = rt->error_value;
    rt->last_error = 0;
    rt->error_message = NULL;
    rt->error_value = NULL;
    rt->error_seq++;
}
/* Frees a discarded message and releases a discarded value (which may run
   a finalizer: it runs after the restored state is in place). */
RCYI_FUNC void rcyi_err_discard(rcy_runtime_t *rt, char *message, rcy_object_t *value);
static inline void rcyi_err_restore(rcy_runtime_t *rt, const rcyi_errsave_t *s)
{
    char *m = rt->error_message;
    rcy_object_t *v = rt->error_value;
    rt->last_error = s->code;
    rt->error_message = s->message;
    rt->error_value = s->value;
    rt->error_seq++;
    rt->error_detail_seq = s->detail ? rt->error_seq : rt->error_seq - 1;
    if (RCY_UNLIKELY(m != NULL || v != NULL))
        rcyi_err_discard(rt, m, v);
}
RCYI_FUNC void rcyi_printf(rcy_runtime_t *rt, const char *fmt, ...) RCY_PRINTF(2, 3);
RCYI_FUNC void rcyi_report_error(rcy_runtime_t *rt, const char *fmt, ...) RCY_PRINTF(2, 3);
/* Reports heap corruption concerning o through the output hook and aborts. */
RCYI_FUNC RCY_NORETURN void rcyi_fatal(const rcy_object_t *o, const char *what);
/* The same with the likely cause named instead of the refcounting error. */
RCYI_FUNC RCY_NORETURN void rcyi_fatal_because(const rcy_object_t *o, const char *what, const char *cause);
/* Reports that fn was given rt, which is not a live runtime (destroyed, or
   never created), on stderr (its hooks may be gone), and aborts. */
RCYI_FUNC RCY_NORETURN void rcyi_fatal_runtime(const rcy_runtime_t *rt, const char *fn);
/* The default hooks (rcy_runtime_new installs them), and the names of the
   callback frames the hooks run in (rcy_runtime_destroy's refusal). */
RCYI_FUNC void rcyi_stderr_output(void *arg, const char *text);
RCYI_FUNC void rcyi_default_error(void *arg, const char *message);
extern RCYI_FUNC const char rcyi_output_hook[], rcyi_error_hook[];
/* Checks that s[0..n) is well-formed UTF-8. */
RCYI_FUNC bool rcyi_utf8_valid(const char *s, size_t n);

/* A name for a type or class (support.c): non-empty, well-formed UTF-8, and no
   control character (C0, DEL, C1), so that it prints on one line of a
   message and needs no escaping beyond quotes in a DOT label. */
RCYI_FUNC bool rcyi_name_valid(const char *name);

/* The handle check of every public call that takes a runtime (after its
   NULL check): one load and compare. The magic of a destroyed runtime is
   read from its freed block, which tells while the block is not reused;
   under AddressSanitizer the block's poisoning is asked instead, so that
   the check never reads freed memory. rcy_runtime_destroy itself looks the
   pointer up in the list of live runtimes and reads nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define RCYI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCYI_ASAN 1
#endif
#endif
#ifdef RCYI_ASAN
int __asan_address_is_poisoned(void const volatile *addr);
#endif
static inline void rcyi_check_runtime(const rcy_runtime_t *rt, const char *fn)
{
#ifdef RCYI_ASAN
    if (RCY_UNLIKELY(__asan_address_is_poisoned(&rt->magic)))
        rcyi_fatal_runtime(rt, fn);
#endif
    if (RCY_UNLIKELY(rt->magic != RCYI_RUNTIME_MAGIC))
        rcyi_fatal_runtime(rt, fn);
}
#define RCYI_CHECK_RT(rt) rcyi_check_runtime((rt), __func__)

/* Callback frames (rcyi_running_t): push before calling user code, pop
   after. */
static inline void rcyi_enter(rcy_runtime_t *rt, rcyi_running_t *f, const char *what, const rcy_object_t *obj)
{
    f->what = what;
    f->obj = obj;
    f->up = rt->running;
    rt->running = f;
}
static inline void rcyi_leave(rcy_runtime_t *rt, const rcyi_running_t *f) { rt->running = f->up; }

/* A heap walk: rcyi_walk_begin refuses (false) while another walk runs,
   else marks the runtime busy with the walk's name until rcyi_walk_end. */
static inline bool rcyi_walk_begin(rcy_runtime_t *rt, const char *name)
{
    if (rt->walk != NULL)
        return false;
    rt->walk = name;
    return true;
}
static inline void rcyi_walk_end(rcy_runtime_t *rt) { rt->walk = NULL; }

/* ---- Freed objects --------------------------------------------------

   A pointer stored in the first word of a dead non-container (the pools'
   chain of free blocks, the trashcan's list) is tagged so that the word
   still reads as a negative count: the pointer (even) shifted right by one,
   with the sign bit set. NULL is tagged too. */
#define RCYI_FREED_LINK_BIT ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))
static inline uintptr_t rcyi_freed_link(const void *p) { return ((uintptr_t)p >> 1) | RCYI_FREED_LINK_BIT; }
static inline void *rcyi_freed_unlink(uintptr_t w) { return (void *)(w << 1); }

/* Whether o is a freed object still recognisable as one (its block is
   kept by the library: a pool, a free list, the
   quarantine): its count is negative. */
static inline bool rcyi_is_freed(const rcy_object_t *o) { return o->refcnt < 0; }

/* The freed-object check of every public function that reads an object
   (one load of the header, which the function reads anyway): aborts
   naming o's type and address when o is a recognisable freed object. The
   type pointer of a freed object is kept, so the report can name it. */
static inline void rcyi_check_live(const rcy_object_t *o)
{
    if (RCY_UNLIKELY(o->refcnt < 0))
        rcyi_fatal(o, "use of a freed object");
}

/* ---- pool.c ---------------------------------------------------------- */

/* The small-object allocator, its fast paths inline. */
#include "pool.h"

/* ---- object.c -------------------------------------------------------- */

RCYI_FUNC size_t rcyi_object_size(const rcy_object_t *o);
/* Gives the memory of an object kept by a free list back to the allocator. */
RCYI_FUNC void rcyi_object_discard(rcy_object_t *o);
/* Teardown: makes the immortal objects mortal with RCYI_REFCNT_RELEASING
   and runs their weak-reference callbacks, finalizers and then dealloc (or
   clear) slots, keeping their memory; after the collection that follows,
   rcyi_free_immortals gives their memory back without running anything. */
RCYI_FUNC void rcyi_release_immortals(rcy_runtime_t *rt);
RCYI_FUNC void rcyi_free_immortals(rcy_runtime_t *rt);
/* Empties the poisoning quarantine (teardown). */
RCYI_FUNC void rcyi_quarantine_flush(rcy_runtime_t *rt);
/* The runtime's live objects (the sum of its types' census), and their
   bytes in *bytes when bytes is not NULL. */
RCYI_FUNC size_t rcyi_live_objects(const rcy_runtime_t *rt, size_t *bytes);
/* Prints, through the output hook, one line per type with live objects
   ("recycle:   Name: count (bytes)"), oldest type first. */
RCYI_FUNC void rcyi_print_live_types(rcy_runtime_t *rt);

/* ---- gc.c ------------------------------------------------------------ */

/* Initializes the collector's state; 0, or RCY_ENOMEM when its scratch
   array (scan_order) could not be allocated. */
RCYI_FUNC int rcyi_gc_init(rcy_runtime_t *rt, const rcy_config_t *cfg);
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
/* For the allocation fast paths that count a container themselves: true
   when counting one more leaves count0 within its threshold, so that
   rcyi_gc_on_alloc would not collect; the caller then adds the one
   (rt->gens[0].count++), else takes its general path, which calls
   rcyi_gc_on_alloc. Always false in GC-stress builds. */
static inline bool rcyi_gc_alloc_quiet(const rcy_runtime_t *rt)
{
#ifdef RCY_GC_STRESS
    (void)rt;
    return false;
#else
    return rt->gens[0].count < rt->gens[0].threshold;
#endif
}
/* Called when a container's memory is freed. */
static inline void rcyi_gc_on_free(rcy_runtime_t *rt)
{
    if (rt->gens[0].count > 0)
        rt->gens[0].count--;
}
/* The COLLECTING flag (valid only during a collection; gc.c, finalize.c). */
static inline bool rcyi_gc_is_collecting(const rcy_gc_head_t *g) { return (g->prev & RCYI_PREV_COLLECTING) != 0; }
static inline void rcyi_gc_clear_collecting(rcy_gc_head_t *g) { g->prev &= ~RCYI_PREV_COLLECTING; }

/* Collects everything collectable at teardown, repeating while a collection
   finds something; reports uncollectable garbage left over. */
RCYI_FUNC void rcyi_gc_collect_shutdown(rcy_runtime_t *rt);
/* Runs one collection of `generation` (callbacks unless shutdown). Returns
   collected + uncollectable, or 0 when a collection is already running. */
RCYI_FUNC intptr_t rcyi_gc_collect(rcy_runtime_t *rt, int generation, bool shutdown);
/* rcy_gc_incr_step: an idle step of incremental mode (rcyi_incr_idle)
   framed as a collection (none nests, none runs during a heap walk: then
   0), the callbacks told of a pass it completed. Returns 1 when it
   completed one, else 0. */
RCYI_FUNC int rcyi_gc_incr_step(rcy_runtime_t *rt, size_t max_us);
/* Releases the collector's own allocations (teardown, after the last collection). */
RCYI_FUNC void rcyi_gc_fini(rcy_runtime_t *rt);
/* Moves the permanent generation back into the oldest (rcy_gc_unfreeze,
   teardown); not during a heap walk. */
RCYI_FUNC void rcyi_gc_unfreeze(rcy_runtime_t *rt);

/* ---- finalize.c ------------------------------------------------------ */

/* Calls o's finalizer (o must be alive), reporting a failure through the
   error hook; marks a container finalized first. */
RCYI_FUNC void rcyi_call_finalizer(rcy_object_t *o);
/* "Exception ignored in: <o>", with the failing callback's message (set
   with rcy_error_set, read before the pending error is restored). */
RCYI_FUNC void rcyi_report_ignored(rcy_runtime_t *rt, rcy_object_t *o);
/* The finalizer steps of the death of an object with a finalizer or a
   legacy finalizer: false if one of them resurrected it. */
RCYI_FUNC bool rcyi_finalize_for_death(rcy_object_t *o);
/* The steps of a collection that deal with finalizers (gc.c, collect_main). */
RCYI_FUNC intptr_t rcyi_plain_garbage(rcy_runtime_t *rt, rcy_gc_head_t *unreachable);
RCYI_FUNC intptr_t rcyi_move_legacy_finalizers(rcy_runtime_t *rt, rcy_gc_head_t *unreachable, rcy_gc_head_t *finalizers,
                                               bool ignore_legacy, rcy_gc_head_t *const *ahead, size_t nahead);
RCYI_FUNC void rcyi_move_legacy_finalizer_reachable(rcy_gc_head_t *finalizers);
RCYI_FUNC void rcyi_finalize_garbage(rcy_gc_head_t *collectable);
RCYI_FUNC void rcyi_handle_legacy_finalizers(rcy_runtime_t *rt, rcy_gc_head_t *finalizers, rcy_gc_head_t *old,
                                             bool saveall);
/* Releases gc.garbage, leaving it empty (rcy_gc_garbage_clear, teardown);
   not during a heap walk: the releases may free tracked objects. */
RCYI_FUNC void rcyi_gc_garbage_clear(rcy_runtime_t *rt);

/* The result of rcyi_gc_collect_region. */
typedef struct rcyi_region_result_s {
    intptr_t collected, uncollectable, candidates, unreachable;
} rcyi_region_result_t;
/* Collects the objects of `region` (a list of tracked objects, flags clear)
   as one generation is collected, everything else counting as outside:
   trial deletion, then the PEP 442 pipeline, weak references and legacy
   finalizers as in any collection; survivors, and what the garbage leaves
   alive, end in `old`. Runs finalizers and callbacks. The caller holds
   rt->collecting and handles counters, stats and gc callbacks. */
RCYI_FUNC void rcyi_gc_collect_region(rcy_runtime_t *rt, rcy_gc_head_t *region, rcy_gc_head_t *old,
                                      rcyi_region_result_t *res);
/* The same for a region whose trial deletion the caller began (the
   incremental pass's one large region, gc_incr.c): every member has
   COLLECTING set and gc_refs its reference count less the references
   from the other members (update_refs and subtract_refs done, in one
   walk), the list is linked forward only (prev holds gc_refs, head->prev
   is the last member), `candidates` members, `zeros` of them at gc_refs 0.
   The rest, from move_unreachable on, is rcyi_gc_collect_region's. */
RCYI_FUNC void rcyi_gc_collect_region_counted(rcy_runtime_t *rt, rcy_gc_head_t *region, rcy_gc_head_t *old,
                                              intptr_t candidates, intptr_t zeros, rcyi_region_result_t *res);
/* The bytes of the young collections' working arrays (the scan order and
   generation 1's hints). */
RCYI_FUNC size_t rcyi_gc_scratch_bytes(const rcy_runtime_t *rt);
/* Gives those arrays back: the scan order down to what the young
   collections since the last shrink needed (after a full collection), or
   to its first size (`all`: rcy_memory_trim), the hints to what they hold.
   Nothing when a collection or a heap walk is running, or when memory for
   the smaller block is refused (the larger one is kept). */
RCYI_FUNC void rcyi_gc_shrink_scratch(rcy_runtime_t *rt, bool all);

/* ---- gc_incr.c ------------------------------------------------------- */

/* Reads the mode from cfg and the environment (RCY_GC_MODE,
   RCY_GC_INCR_STEP). */
RCYI_FUNC void rcyi_incr_init(rcy_runtime_t *rt, const rcy_config_t *cfg);
RCYI_FUNC void rcyi_incr_fini(rcy_runtime_t *rt);
/* Gives an incremental pass in progress up: every object it holds goes back
   to the oldest generation's list; nothing is freed or run. Whatever walks
   the generation lists outside the collector calls it first (heap walks,
   freeze, validation, a full collection, teardown), once rt->walk is known
   to be NULL. */
RCYI_FUNC void rcyi_incr_abort(rcy_runtime_t *rt);
/* The tracked objects an incremental pass holds off the generation lists. */
RCYI_FUNC size_t rcyi_incr_held(const rcy_runtime_t *rt);
/* The bytes of an incremental pass's arrays (P, its bitmap, the late list,
   GROUP's arrays): 0 between passes. */
RCYI_FUNC size_t rcyi_incr_scratch_bytes(const rcy_runtime_t *rt);
/* After every automatic young collection (inside its callbacks), of
   `generation`, with the objects it promoted into the oldest generation
   (after a generation-1 collection the young generations are empty, which
   is when the old generation's size is read): with young_due (a
   generation-0 collection that CPython's rule would have made a
   generation-1 one), finishes the young pass in progress and starts one
   over generation 1; runs a step of the young pass; then, for the old
   generation's pass, earns credit, starts a
   pass when one is due, runs a step when there is credit, finishes the pass
   synchronously when the backstop says so. Incremental mode only.
   cpu_start is the thread's CPU time (rcyi_incr_cpu_now) when the young
   collection began, before its start callbacks: the step's time budget is
   the pause target less what the collection has taken so far. */
RCYI_FUNC void rcyi_incr_after_young(rcy_runtime_t *rt, int generation, intptr_t promoted, double cpu_start,
                                     bool young_due);
/* Whether generation-1 collections run as young passes now: incremental
   mode, not disabled (RCY_GC_INCR_YOUNG=0), and the young pass's state
   allocated (this allocates it). */
RCYI_FUNC bool rcyi_incr_young_ready(rcy_runtime_t *rt);
/* Gives the young pass up (rcyi_incr_abort gives both up): its objects go
   back to generation 1's list, for an explicit collection of generation
   1 to examine. */
RCYI_FUNC void rcyi_incr_abort_young(rcy_runtime_t *rt);
/* rcy_gc_incr_step's work, inside the collection state that
   rcyi_gc_incr_step sets up: starts a pass if one is due (as after a young
   collection), then runs it for max_us microseconds of the thread's CPU
   time (0: to its end) whatever the credit (rcyi_pacer_idle_begin).
   Incremental mode only; nothing otherwise. */
RCYI_FUNC void rcyi_incr_idle(rcy_runtime_t *rt, size_t max_us);
/* The calling thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID), or
   0 where there is no such clock (steps are then bounded by work alone). */
RCYI_FUNC double rcyi_incr_cpu_now(void);
/* When a pass completed since the last call: its callback info, once
   (the young pass's first, if both did). */
RCYI_FUNC bool rcyi_incr_take_completed(rcy_runtime_t *rt, rcy_gc_info_t *info);
/* A full collection ran: the live size the next pass is paced from. */
RCYI_FUNC void rcyi_incr_full_collection_done(rcy_runtime_t *rt);

/* ---- validate.c ------------------------------------------------------ */

/* The flag states a list may be in during a collection (CPython's
   enum flagstates): PREV_COLLECTING and NEXT_UNREACHABLE each set or
   clear on every object of the list. */
typedef enum rcyi_flagstates_e {
    RCYI_COLLECTING_CLEAR_UNREACHABLE_CLEAR = 0,
    RCYI_COLLECTING_CLEAR_UNREACHABLE_SET = 1,
    RCYI_COLLECTING_SET_UNREACHABLE_CLEAR = 2,
    RCYI_COLLECTING_SET_UNREACHABLE_SET = 3
} rcyi_flagstates_t;

/* Checks one list of rt (a generation, or one of a collection's own lists):
   its head is clean, next and prev agree, every object carries exactly the
   given flags, has a count > 0 and is a container of a type of rt. Aborts
   naming the first object that is not so (the hooks below; level 1 calls
   it at the end of every collection). */
RCYI_FUNC void rcyi_validate_list(rcy_runtime_t *rt, rcy_gc_head_t *head, rcyi_flagstates_t flags);
/* The same checks for the last n objects of a list (and its head's link
   when the list is no longer), walking back from its tail: what a
   collection appended to an old generation. */
RCYI_FUNC void rcyi_validate_list_tail(rcy_runtime_t *rt, rcy_gc_head_t *head, size_t n);
/* Checks that every object of a list whose type declares its references as
   an array (rcyi_ref_array) has a traverse that visits exactly that array's
   non-NULL items, in order, with their indexes; aborts on the first that
   does not. */
RCYI_FUNC void rcyi_validate_ref_arrays(rcy_runtime_t *rt, rcy_gc_head_t *head);
/* rcy_gc_validate's checks, aborting on the first inconsistency; `when`
   names the moment in the message ("before a collection", ...). rt must
   not be collecting. */
RCYI_FUNC void rcyi_validate_heap_or_die(rcy_runtime_t *rt, const char *when);

/* The collector's validation hooks: level 2 checks each list between
   phases, level 3 the whole heap before and after each collection and at
   teardown. Nothing at lower levels. */
#if RCY_DEBUG >= 2
#define RCYI_VALIDATE_PHASE(rt, head, flags) rcyi_validate_list((rt), (head), (flags))
#define RCYI_VALIDATE_REF_ARRAYS(rt, head) rcyi_validate_ref_arrays((rt), (head))
#else
#define RCYI_VALIDATE_PHASE(rt, head, flags) ((void)0)
#define RCYI_VALIDATE_REF_ARRAYS(rt, head) ((void)0)
#endif
#if RCY_DEBUG >= 3
#define RCYI_VALIDATE_HEAP(rt, when) rcyi_validate_heap_or_die((rt), (when))
#else
#define RCYI_VALIDATE_HEAP(rt, when) ((void)0)
#endif

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
   key (a weak map's entry key: CPython's KeyedRef). key must belong to
   obj's runtime: else NULL with RCY_ERUNTIME. */
RCYI_FUNC rcy_object_t *rcyi_weakref_new_keyed(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg,
                                               rcy_object_t *key);
RCYI_FUNC rcy_object_t *rcyi_weakref_key(rcy_object_t *wr); /* borrowed */
/* The referent of a weak reference (borrowed), NULL once cleared. */
RCYI_FUNC rcy_object_t *rcyi_weakref_referent(rcy_object_t *wr);
/* Forgets wr's callback (its owner is going away). */
RCYI_FUNC void rcyi_weakref_drop_callback(rcy_object_t *wr);
/* Teardown: runs the live finalize registrations, newest first. */
RCYI_FUNC void rcyi_finalize_atexit(rcy_runtime_t *rt);
/* Teardown, after the last collection: detaches every registration left. */
RCYI_FUNC void rcyi_finalize_drop_all(rcy_runtime_t *rt);

/* ---- Built-in types (src/types/) --------------------------------------- */

/* The weakref type's call slot (types/call.c), set by rcy_runtime_new. */
RCYI_FUNC rcy_object_t *rcyi_weakref_call(rcy_object_t *self, rcy_object_t *const *args, size_t nargs);

/* Creates the built-in types and their per-runtime state (rt->builtins,
   rt->clear_freelists). Returns 0, or RCY_ENOMEM having freed what it made. */
RCYI_FUNC int rcyi_builtins_init(rcy_runtime_t *rt);
/* Empties the free lists and frees the built-in state (teardown, after the
   last collection; the types themselves are freed with the runtime's). */
RCYI_FUNC void rcyi_builtins_fini(rcy_runtime_t *rt);

/* ---- objarray.c ------------------------------------------------------ */

/* Starts filling a caller's out-array: it must be empty (len 0: zeroed, or
   emptied by rcy_objarray_release); one that still holds references is
   refused with RCY_EINVAL and left alone. Otherwise it is reset to an empty
   array of rt. Returns 0 or RCY_EINVAL. */
RCYI_FUNC int rcyi_objarray_start(rcy_runtime_t *rt, rcy_objarray_t *out);
/* Appends a new reference to o; returns 0 or RCY_ENOMEM (a unchanged). */
RCYI_FUNC int rcyi_objarray_append(rcy_objarray_t *a, rcy_object_t *o);

/* ---- roots.c --------------------------------------------------------- */

/* rt->roots holds these. rcyi_root_name: the name of o's
   registration, or NULL. */
typedef struct rcyi_root_s {
    rcy_object_t *obj; /* strong */
    char *name;
} rcyi_root_t;

RCYI_FUNC const char *rcyi_root_name(const rcy_runtime_t *rt, const rcy_object_t *o);

/* Releases the registered roots (teardown, before the collections). */
RCYI_FUNC void rcyi_roots_release(rcy_runtime_t *rt);

/* ---- tools/sites.c ----------------------------------------------------- */

/* Frees the side table of ids and sites (teardown, after the last
   collection). */
RCYI_FUNC void rcyi_trace_fini(rcy_runtime_t *rt);

#endif /* RCY_INTERNAL_H */
