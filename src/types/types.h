/*
 * Internals shared by the built-in types (the files of src/types/): their object
 * layouts, the per-runtime state (small ints, the empty tuple, the free
 * lists), and the helpers behind equality, hashing and repr. Each type's
 * file owns its part of the state; builtins.c creates and frees it.
 */
#ifndef RCY_TYPES_H
#define RCY_TYPES_H

#include "internal.h"

#include <stddef.h>

/* Free lists are compiled in unless the build turns them off (CMake option
   RCY_FREELISTS, off in sanitizer builds so that every object is really
   freed where ASan and Valgrind can see it). */
#ifndef RCY_FREELISTS
#define RCY_FREELISTS 1
#endif

#define RCY_SMALL_INTS (RCY_SMALL_INT_MAX - RCY_SMALL_INT_MIN + 1)
#define RCY_TUPLE_MAXSAVESIZE 20   /* largest tuple kept on a free list */
#define RCY_TUPLE_MAXFREELIST 2000 /* tuples kept per size */
#define RCY_LIST_MAXFREELIST 80
#define RCY_DICT_MAXFREELIST 80

/* Nesting limits of equality, hashing and repr, in levels; each level
   also checks the stack left (rcyi_stack_low). Past either, equality and
   hashing fail with RCY_EDEPTH (CPython raises RecursionError) and repr
   writes "...". */
#define RCYI_MAX_DEPTH 1000
#define RCYI_REPR_DEPTH 64

/* ---- Object layouts -------------------------------------------------- */

typedef struct rcyi_int_s {
    rcy_object_t ob;
    int64_t value;
} rcyi_int_t;

typedef struct rcyi_float_s {
    rcy_object_t ob;
    double value;
} rcyi_float_t;

/* ob.size is the length in bytes; data holds them and a terminating NUL. */
typedef struct rcyi_str_s {
    rcy_varobject_t ob;
    int64_t hash; /* -1 until computed */
    char data[];
} rcyi_str_t;

typedef struct rcyi_tuple_s {
    rcy_varobject_t ob;
    rcy_object_t *items[];
} rcyi_tuple_t;

typedef struct rcyi_list_s {
    rcy_object_t ob;
    intptr_t size;      /* items in use */
    intptr_t allocated; /* capacity of items */
    rcy_object_t **items;
} rcyi_list_t;

typedef struct rcyi_dict_entry_s {
    int64_t hash;
    rcy_object_t *key;   /* NULL for a deleted entry */
    rcy_object_t *value; /* NULL for a deleted entry */
} rcyi_dict_entry_t;

/* CPython's compact layout: entries in insertion order, and a power-of-two
   table of indices into them (open addressing, CPython's probe sequence).
   Both live in one block, entries first; no block while the dict has never
   held anything. The capacity of entries (2/3 of nslots) and where the
   indices start both follow from nslots (dict.c), which keeps the object at
   48 bytes, 64 with its GC header: CPython's size for an empty dict. */
typedef struct rcyi_dict_s {
    rcy_object_t ob;
    intptr_t used;     /* live items */
    intptr_t nentries; /* entries[0..nentries) written, deleted ones included */
    intptr_t nslots;   /* size of the index table: a power of two, or 0 */
    rcyi_dict_entry_t *entries; /* then the int32_t indices: entry index, or DKIX_EMPTY / DKIX_DUMMY */
} rcyi_dict_t;

/* The most attribute names a class's instances share (CPython's
   SHARED_KEYS_MAX_SIZE): past them an instance keeps its attributes in a
   dict. */
#define RCYI_SHARED_KEYS_MAX 30

/* Entries of a class's cache of char * attribute names (a power of two). */
#define RCYI_CLASS_NAME_CACHE 16

/* The bytes of a key's text a class's cache of char * names keeps. */
#define RCYI_NAME_TEXT 8

typedef struct rcyi_class_s {
    rcy_object_t ob;
    rcy_type_t *instance_type; /* named after the class; lives with the runtime */
    rcy_object_t *dict;        /* class attributes, created on first use */
    rcy_class_del_fn finalize;
    rcy_class_del_fn legacy_del;
    void *arg;
    rcy_object_t *weaklist;
    /* The shared keys (CPython's split-table PyDictKeysObject, cached on
       the type): the attribute names of the instances, interned strs
       (immortal, so not counted), in the order they first appeared; a name
       keeps its index for the class's life. spare: how many slots beyond
       nkeys the next instance gets, lowered by one at each instance made
       (CPython's dk_usable, which _PyObject_InitInlineValues lowers), so
       that instances soon get exactly the slots their class's names need. */
    uint8_t nkeys;
    uint8_t spare;
    rcy_object_t *keys[RCYI_SHARED_KEYS_MAX];
    /* The char * attribute calls' cache of this class (class.c): for a
       name pointer a caller passed, the index of its key in keys and the
       first bytes of the key's text, direct-mapped by a hash of the
       pointer. An entry proves nothing by itself: a hit counts only after
       the text at the pointer compared equal to the key's (a caller's
       buffer may change between calls): against the copy here for the
       first bytes (no load of the key on the way), then against the key.
       So it costs no string hashing, but one comparison of a short name. */
    const char *name_ptr[RCYI_CLASS_NAME_CACHE];          /* a sentinel when empty */
    char name_text[RCYI_CLASS_NAME_CACHE][RCYI_NAME_TEXT]; /* from the start, with the NUL if it fits */
    uint8_t name_ix[RCYI_CLASS_NAME_CACHE];
} rcyi_class_t;

/* A compact instance (CPython 3.11-3.13's inline values): a weak-reference
   list, a layout word, and `capacity` value slots, values[i] being the
   attribute whose name is the class's keys[i] (NULL: absent). The layout
   word (class.c) holds the capacity, and either the number of attributes
   and their insertion order (5 bits per key index) with its COMPACT bit,
   or its DICT bit: the instance has a dict (asked for by
   rcy_instance_dict, or because its attributes outgrew what the layout can
   say), held in values[0], and the other slots are unused. The class is the type's owner (rcy_type_t) and
   each instance holds a reference to it. */
typedef struct rcyi_instance_s {
    rcy_object_t ob;
    rcy_object_t *weaklist;
    uintptr_t layout;
    rcy_object_t *values[];
} rcyi_instance_t;

/* ---- Free lists ------------------------------------------------------- */

/* A free list of dead containers: its last object pushed in top (while
   the next pop has not taken it), the others in a stack threaded through
   their GC headers, which a dead, untracked object does not use (a
   revival writes both words again): prev holds the object below it (NULL
   at the bottom), next how many the stack holds from it down, shifted left
   by 2 so that the word never shows the flags a collection or the
   incremental pass read there (RCYI_NEXT_UNREACHABLE, RCYI_NEXT_INCR). The
   order is a stack's (last in, first out) either way: a push moves top's
   object onto the stack, a pop takes top's object first. A death followed
   by a birth (the common churn) touches top alone, no header and no count:
   a count updated by every push and pop is one more chain of memory
   read-modify-writes through every short life, which costs more than its
   instructions (docs/benchmarks.md, "A churned object"). */
typedef struct rcyi_freelist_s {
    rcy_object_t *top;  /* NULL when empty (the stack may still hold some) */
    rcy_object_t *head; /* the stack's top (NULL: empty) */
} rcyi_freelist_t;

/* How many objects fl holds. */
static inline size_t rcyi_freelist_len(const rcyi_freelist_t *fl)
{
    return (fl->top != NULL) + (fl->head != NULL ? (size_t)(rcyi_as_gc(fl->head)->next >> 2) : 0);
}

/* Pushes the dead container o unless fl holds max already (then false,
   nothing done). */
static inline bool rcyi_freelist_push(rcyi_freelist_t *fl, rcy_object_t *o, size_t max)
{
    rcy_object_t *top = fl->top;
    if (RCY_LIKELY(top == NULL)) {
        fl->top = o;
        return true;
    }
    /* top goes onto the stack, which may hold max - 1. The count as it is
       stored (its low two bits clear): compared and incremented without a
       shift. */
    rcy_object_t *below = fl->head;
    uintptr_t w = below != NULL ? rcyi_as_gc(below)->next + 4 : 4;
    if (w > ((uintptr_t)max - 1) << 2)
        return false;
    rcy_gc_head_t *g = rcyi_as_gc(top);
    g->next = w;
    fl->head = top;
    g->prev = (uintptr_t)below;
    fl->top = o;
    return true;
}

/* Takes the last object pushed off fl; NULL when fl is empty. */
static inline rcy_object_t *rcyi_freelist_pop(rcyi_freelist_t *fl)
{
    rcy_object_t *o = fl->top;
    if (RCY_LIKELY(o != NULL)) {
        fl->top = NULL;
        return o;
    }
    o = fl->head;
    if (o != NULL)
        fl->head = (rcy_object_t *)rcyi_as_gc(o)->prev;
    return o;
}

/* The object the next pop would take (NULL: fl is empty), left on fl. */
static inline rcy_object_t *rcyi_freelist_peek(const rcyi_freelist_t *fl)
{
    return fl->top != NULL ? fl->top : fl->head;
}

/* Puts o, just popped from fl, back on top of it (a pop leaves top empty). */
static inline void rcyi_freelist_unpop(rcyi_freelist_t *fl, rcy_object_t *o) { fl->top = o; }

/* The fast paths of rcy_tuple_new and rcy_list_new_from: stores items[0..n)
   in dst, taking a reference to each, and stops at the first item that is
   NULL, of another runtime than rt, or at RCY_REFCNT_MAX (a new reference
   would overflow it); returns how many it stored (n when all), so that the
   caller's general path can report the refused one and give back the
   references taken. Inline, with no call: the callers' fast paths make
   none. */
static inline intptr_t rcyi_store_new_refs(rcy_runtime_t *rt, rcy_object_t **dst, rcy_object_t *const *items,
                                           intptr_t n)
{
    intptr_t i = 0;
    for (; i < n; i++) {
        rcy_object_t *item = items[i];
        if (RCY_UNLIKELY(item == NULL || !rcyi_same_runtime(item, rt)))
            break;
        intptr_t r = item->refcnt;
        if (RCY_LIKELY(r < RCY_REFCNT_MAX))
            item->refcnt = r + 1;
        else if (RCY_UNLIKELY(!rcyi_refcnt_immortal(r))) /* RCY_REFCNT_MAX: would overflow */
            break;
        dst[i] = item;
    }
    return i;
}

/* ---- Per-runtime state ----------------------------------------------- */

typedef struct rcyi_builtins_s {
    rcy_type_t *int_type, *float_type, *str_type, *tuple_type, *list_type, *dict_type, *class_type;
    rcy_type_t *none_type, *bool_type, *cfunction_type;
    bool freelists; /* compiled in and the runtime does not poison */

    /* Immortal singletons stored here rather than allocated (as CPython
       3.12+ keeps them in the interpreter state): not live objects, not in
       any census, freed with this struct. */
    rcyi_int_t small_ints[RCY_SMALL_INTS];
    struct {
        rcy_gc_head_t gc; /* never tracked */
        rcy_varobject_t ob;
    } empty_tuple;
    /* None, False and True (singleton.c): a bool is laid out as an int
       (CPython's bool subclasses int), value 0 or 1. */
    rcy_object_t none;
    rcyi_int_t bools[2];

    /* The free lists (rcyi_freelist_t): tuples by size (free[n] holds
       tuples of n items), lists, dicts. */
    struct {
        rcyi_freelist_t free[RCY_TUPLE_MAXSAVESIZE + 1];
    } tuple;
    struct {
        rcyi_freelist_t free;
    } list;
    struct {
        rcyi_freelist_t free;
    } dict;
    /* Interned strs (str.c): the one str of each text that rcy_str_intern
       returned, immortal and outside every census (as the small ints),
       freed with this struct. An open-addressing set keyed by the str's
       hash, NULL for an empty slot; cap is 0 or a power of two. */
    struct {
        rcyi_str_t **slots;
        size_t cap, n;
    } intern;
    /* The char * attribute calls' cache (class.c): the interned str last
       found for a name pointer, direct-mapped by the pointer's bits. An
       entry counts only when the text there still equals the str's (a
       caller's buffer may change), which is checked on every hit. */
    struct {
        const char *name;
        rcy_object_t *key;
    } name_cache[64];
} rcyi_builtins_t;

static inline rcyi_builtins_t *rcyi_builtins(const rcy_object_t *o) { return o->type->rt->builtins; }

/* The type checks. Each is also the freed-object check (rcyi_check_live)
   of the public functions of its type, which all start with one: a freed
   object aborts with "use of a freed object". */
static inline bool rcyi_is_int(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->int_type;
}
static inline bool rcyi_is_float(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->float_type;
}
static inline bool rcyi_is_str(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->str_type;
}
static inline bool rcyi_is_tuple(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->tuple_type;
}
static inline bool rcyi_is_list(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->list_type;
}
static inline bool rcyi_is_dict(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->dict_type;
}
static inline bool rcyi_is_class(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type == rcyi_builtins(o)->class_type;
}
RCYI_FUNC bool rcyi_is_instance(const rcy_object_t *o);
/* rcy_getattr's fast path alone (class.c), for the other attribute getters:
   the value (borrowed) when obj (not NULL) is a live compact instance whose
   class's cache knows the name pointer and which has the attribute, else
   NULL with nothing recorded (then call rcy_getattr). Aborts on a freed
   obj. */
RCYI_FUNC rcy_object_t *rcyi_getattr_fast(rcy_object_t *obj, const char *name);
/* rcy_getattr_ref is its fast path (class.c) and then this (access.c). */
RCYI_FUNC int rcyi_getattr_ref_slow(rcy_object_t *obj, const char *name, rcy_object_t **out);
/* An int or a bool (CPython's PyLong_Check): both are rcyi_int_t. */
static inline bool rcyi_is_intlike(const rcy_object_t *o)
{
    rcyi_check_live(o);
    const rcyi_builtins_t *b = rcyi_builtins(o);
    return o->type == b->int_type || o->type == b->bool_type;
}

/* Per-type setup (called by rcyi_builtins_init in this order) and free-list
   clearing. Each init returns 0 or RCY_ENOMEM. (List functions are named
   rcyi_listobj_ to stay apart from the GC-list helpers of internal.h.) */
RCYI_FUNC int rcyi_init_int_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_float_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_str_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_tuple_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_list_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_dict_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_class_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_singletons(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC int rcyi_init_cfunction_type(rcy_runtime_t *rt, rcyi_builtins_t *b);
RCYI_FUNC void rcyi_tuple_clear_freelist(rcyi_builtins_t *b);
RCYI_FUNC void rcyi_listobj_clear_freelist(rcyi_builtins_t *b);
RCYI_FUNC void rcyi_dict_clear_freelist(rcyi_builtins_t *b);

/* ---- Equality and hashing (protocol.c dispatches to the types) -------- */

/* 1 if equal, 0 if not, RCY_EDEPTH when nested deeper than RCYI_MAX_DEPTH
   or than the stack allows. Never runs user code. */
RCYI_FUNC int rcyi_equal(rcy_object_t *a, rcy_object_t *b, int depth);
/* 0 and *out, RCY_EHASH for an unhashable object, RCY_EDEPTH when too deep. */
RCYI_FUNC int rcyi_hash(rcy_object_t *o, int64_t *out, int depth);

RCYI_FUNC int64_t rcyi_int_hash_value(int64_t v);
RCYI_FUNC int64_t rcyi_float_hash_value(double v, const rcy_object_t *o);
RCYI_FUNC int64_t rcyi_pointer_hash(const void *p);
RCYI_FUNC int64_t rcyi_str_hash_bytes(const char *s, size_t n);
RCYI_FUNC int64_t rcyi_str_hash(rcy_object_t *o);
RCYI_FUNC int rcyi_number_equal(const rcy_object_t *a, const rcy_object_t *b); /* ints and floats */
RCYI_FUNC int rcyi_str_equal(const rcy_object_t *a, const rcy_object_t *b);
RCYI_FUNC int rcyi_tuple_equal(rcy_object_t *a, rcy_object_t *b, int depth);
RCYI_FUNC int rcyi_tuple_hash(rcy_object_t *o, int64_t *out, int depth);
RCYI_FUNC int rcyi_listobj_equal(rcy_object_t *a, rcy_object_t *b, int depth);
RCYI_FUNC int rcyi_dict_equal(rcy_object_t *a, rcy_object_t *b, int depth);

/* Python's slice bounds (step 1) of a sequence of n items: negative from
   the end, clamped to [0, n], stop >= start (list.c). */
RCYI_FUNC void rcyi_slice_bounds(intptr_t n, intptr_t *start, intptr_t *stop);

/* Interned strs (str.c). rcyi_str_intern: the interned str of the bytes
   s[0..n) with hash `hash` (rcyi_str_hash_bytes), made if there is none:
   borrowed (immortal), or NULL with RCY_ENOMEM; s must be valid UTF-8.
   rcyi_str_intern_find: the same without making one (NULL: none).
   rcyi_str_intern_fini frees them all (teardown's end). */
RCYI_FUNC rcy_object_t *rcyi_str_intern(rcy_runtime_t *rt, const char *s, size_t n, int64_t hash);
RCYI_FUNC rcy_object_t *rcyi_str_intern_find(const rcy_runtime_t *rt, const char *s, size_t n, int64_t hash);
RCYI_FUNC void rcyi_str_intern_fini(rcy_runtime_t *rt);
/* The interned str equal to the str o (o itself when it is the interned
   one): borrowed, or NULL with RCY_ENOMEM. */
RCYI_FUNC rcy_object_t *rcyi_str_intern_obj(rcy_object_t *o);

/* ---- Dicts with C-string keys (attributes) ---------------------------- */

/* Borrowed value for the str key name[0..n), or NULL. */
RCYI_FUNC rcy_object_t *rcyi_dict_get_cstr(rcy_object_t *d, const char *name, size_t n);
/* Sets the str key name[0..n) (creating the key object if new). 0 or RCY_ENOMEM. */
RCYI_FUNC int rcyi_dict_set_cstr(rcy_object_t *d, const char *name, size_t n, rcy_object_t *value);
/* 0, or RCY_EKEY when the key is missing. */
RCYI_FUNC int rcyi_dict_del_cstr(rcy_object_t *d, const char *name, size_t n);

/* ---- repr ------------------------------------------------------------ */

/* Writes into a caller's buffer, remembering the containers being written
   (to print a recursive one as "[...]") and stopping when the buffer is
   full; the result then ends in "...". */
typedef struct rcyi_writer_s {
    char *buf;
    size_t size;
    size_t len;
    bool full;
    int depth;
    const rcy_object_t *stack[RCYI_REPR_DEPTH];
} rcyi_writer_t;

RCYI_FUNC void rcyi_write(rcyi_writer_t *w, const char *s, size_t n);
RCYI_FUNC void rcyi_writes(rcyi_writer_t *w, const char *s);
RCYI_FUNC void rcyi_writef(rcyi_writer_t *w, const char *fmt, ...) RCY_PRINTF(2, 3);
/* Writes o's repr (a built-in type's own, else rcy_describe's). */
RCYI_FUNC void rcyi_repr(rcyi_writer_t *w, rcy_object_t *o);
/* Enters a container: false when it is already being written or the
   nesting is too deep, in levels or for the stack (write "[...]" then);
   else rcyi_repr_leave after. */
RCYI_FUNC bool rcyi_repr_enter(rcyi_writer_t *w, const rcy_object_t *o);
RCYI_FUNC void rcyi_repr_leave(rcyi_writer_t *w);
/* The describe slot of every built-in type: its repr. */
RCYI_FUNC int rcyi_describe_repr(rcy_object_t *o, char *buf, size_t size);

RCYI_FUNC void rcyi_int_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_float_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_str_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_tuple_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_listobj_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_dict_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_class_repr(rcyi_writer_t *w, rcy_object_t *o);
RCYI_FUNC void rcyi_singleton_repr(rcyi_writer_t *w, rcy_object_t *o); /* None, True, False */

#endif /* RCY_TYPES_H */
