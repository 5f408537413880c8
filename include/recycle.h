/*
 * recycle: CPython's memory management for C programs and language runtimes.
 *
 * Reference counting with immediate reclamation, and (built on the same object
 * layout) a generational cycle collector with CPython's observable behaviour.
 *
 * ---- Ownership rules ----------------------------------------------------
 *
 * Every object starts with an rcy_object_t header: a reference count and a
 * type. A function documented as returning a "new reference" gives the caller
 * one reference, which the caller must release with rcy_decref() (or hand on).
 * A "borrowed reference" is valid only as long as something else keeps the
 * object alive. No function steals a reference but those named *_steal
 * (rcy_tuple_pack_steal, rcy_list_pack_steal): arguments are never
 * consumed, a container that stores an argument takes its own reference.
 *
 * ---- Runtimes and threads ------------------------------------------------
 *
 * All state lives in an rcy_runtime_t; the one global is the list of live
 * runtimes, under a mutex taken only by rcy_runtime_new and
 * rcy_runtime_destroy (so that a destroyed handle is recognised). Several
 * runtimes may live in one process; each is used by one thread at a time
 * (no other call takes a lock). Objects never move between runtimes: an
 * object belongs to the runtime of its type (statics of
 * rcy_object_init_static included), and no object may refer to an object of
 * another runtime. Every call that stores an object into an object of a
 * runtime (a container's item, key or value, an attribute, a weak map's
 * entry) refuses one of another runtime with RCY_ERUNTIME before changing
 * anything. Lookups (rcy_dict_get, rcy_weakmap_get, ...) may be given one:
 * objects of two runtimes are never equal, so they find nothing. A user
 * type's own slots cannot be checked: storing an object of another runtime
 * there is a misuse, which the collector reports as heap corruption (see
 * rcy_type_spec_t).
 *
 * ---- Errors --------------------------------------------------------------
 *
 * Constructors return NULL on failure and leave every existing object as it
 * was; rcy_last_error() tells why. Other calls return 0 on success or a
 * negative RCY_E* code; rcy_strerror() gives its text. The library writes only
 * through the runtime's output hook (stderr by default) and never exits, except
 * when it detects heap corruption (a reference count taken below zero, a decref
 * of a freed object, a traverse reporting more references than a count, or an
 * object of another runtime): then it writes a message naming the object's
 * type and address and aborts, in release builds too.
 *
 * ---- Versioned structs ---------------------------------------------------
 *
 * The structs a caller hands in for the library to read or fill (the
 * configuration, the gc statistics, the tools' options, the memory figures)
 * start with a size field, sizeof the struct as the caller's header
 * declares it, set by the struct's init function (rcy_config_init,
 * rcy_gc_stats_init, ...). Every call that takes one checks it and refuses a
 * mismatch with RCY_EINVAL, changing nothing, so a program compiled against
 * another version's header fails cleanly instead of having fields read or
 * written past its struct. Declare the struct, call its init function, then
 * set fields. The two specs (rcy_type_spec_t, rcy_class_spec_t) have no size
 * field and are built with `= {0}`: rcy_type_new and rcy_class_new are
 * macros that pass the spec's sizeof to the exported *_sized function,
 * which checks it in the same way.
 *
 * ---- Names ---------------------------------------------------------------
 *
 * One rule: rcy_ + subject + action, the subject being what the call acts on
 * and the section it sits in: rcy_runtime_new, rcy_type_name, rcy_list_append,
 * rcy_gc_collect, rcy_weakref_get, rcy_census_count. Calls that take any
 * object drop the subject (rcy_new, rcy_incref, rcy_hash, rcy_setattr), type
 * checks read rcy_is_<kind>, and the tools keep objgraph's names
 * (rcy_show_refs, rcy_get_leaking_objects) so its documentation reads
 * across. Types end in _t, callback types in _fn; macros and enum constants
 * are RCY_*. Names starting with rcyi_ are internal and never exported.
 *
 * The sections: version and errors, the runtime, types, objects, reference
 * counting, the built-in types, classes, the cycle collector (CPython's gc
 * module) and tracking, weak references, weak maps and finalize
 * registrations, then the leak-debugging tools and memory figures.
 *
 * See docs/design.md for the object layout and the choices behind it.
 */
#ifndef RECYCLE_H
#define RECYCLE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * RCY_API marks every function the library exports. The library is built
 * with hidden visibility (-fvisibility=hidden): its dynamic symbol table
 * holds the RCY_API functions and nothing else (tests/exported-symbols.txt
 * lists them; a test fails when one is added or lost). On the caller's side
 * the attribute only restates the default, so the same header serves the
 * shared and the static library, from C and from C++. A project that
 * compiles recycle's sources into a library of its own may define RCY_API
 * before including this header (as __attribute__((visibility("hidden")))
 * to keep recycle's functions out of its own exports).
 */
#ifndef RCY_API
#if defined(__GNUC__) || defined(__clang__)
#define RCY_API __attribute__((visibility("default")))
#else
#define RCY_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcy_runtime_s rcy_runtime_t;
typedef struct rcy_type_s rcy_type_t;
typedef struct rcy_object_s rcy_object_t;

/* ---- Version --------------------------------------------------------- */

/* The one place the version is written: CMakeLists.txt reads these three
   lines for the project version, the shared library's SOVERSION (MAJOR),
   recycle.pc and recycleConfigVersion.cmake. */
#define RCY_VERSION_MAJOR 0
#define RCY_VERSION_MINOR 1
#define RCY_VERSION_PATCH 0

/** The version as one number, for #if: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define RCY_VERSION_NUMBER (RCY_VERSION_MAJOR * 10000 + RCY_VERSION_MINOR * 100 + RCY_VERSION_PATCH)

/**
 * Returns the version of the library linked (not of the header compiled
 * against) as "MAJOR.MINOR.PATCH" (a static string).
 */
RCY_API const char *rcy_version(void);

/* ---- Errors ---------------------------------------------------------- */

/** Error codes returned (negated) by calls that return int. */
enum rcy_error_e {
    RCY_OK = 0,
    RCY_ENOMEM = -1,  /**< an allocation failed; nothing was changed */
    RCY_EINVAL = -2,  /**< an argument is invalid (NULL, out of range) */
    RCY_ETYPE = -3,   /**< an object has the wrong type for the call */
    RCY_EINDEX = -4,  /**< an index is out of range */
    RCY_EKEY = -5,    /**< a key is missing */
    RCY_EHASH = -6,   /**< a key is not hashable */
    RCY_ESTATE = -7,  /**< the call is not allowed in the current state */
    RCY_ECALLBACK = -8, /**< a user callback or finalizer reported an error */
    RCY_ERUNTIME = -9,  /**< the objects belong to different runtimes */
    RCY_EDEPTH = -10,   /**< nesting too deep for the stack (a recursive structure) */
    RCY_ECORRUPT = -11  /**< heap validation found an inconsistency (rcy_gc_validate) */
};

/** Returns a static English description of an RCY_E* code (or of 0). The
    text of RCY_EINVAL names the versioned structs' size field among the
    causes. */
RCY_API const char *rcy_strerror(int code);

/* ---- Runtime --------------------------------------------------------- */

/** Output hook: receives text the library prints (whole lines, ending '\n';
    only when memory runs out may the default error hook pass a long line
    in two calls, the text and then its "\n"). */
typedef void (*rcy_output_fn)(void *arg, const char *text);

/**
 * Error hook: receives errors that cannot be returned to a caller, such as a
 * finalizer's failure during a collection, as one line of text in CPython's
 * words ("Exception ignored in: <Foo 0x...>"). The default writes it to the
 * output hook, whole whatever its length, with a newline added.
 */
typedef void (*rcy_error_fn)(void *arg, const char *message);

/**
 * Allocator hooks. All three must be set, or all NULL for libc. ctx is passed
 * back to each. realloc_fn is used for the private buffers of variable
 * containers; a failing hook makes the library report RCY_ENOMEM. The hooks
 * must not call the library for the runtime they serve (not checked).
 */
typedef struct rcy_allocator_s {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx;
} rcy_allocator_t;

/** Runtime configuration; start from rcy_config_init(). */
typedef struct rcy_config_s {
    /** sizeof(rcy_config_t), set by rcy_config_init (see "Versioned
        structs" at the top): rcy_runtime_new refuses any other value. */
    size_t size;
    /** Collection thresholds; defaults (700, 10, 10). threshold0 == 0
        turns automatic collection off. */
    int threshold0, threshold1, threshold2;
    /** Initial gc debug flags (RCY_DEBUG_*); default 0. */
    int debug_flags;
    rcy_output_fn output; /**< default: write to stderr */
    void *output_arg;
    rcy_error_fn error;   /**< default: forward to the output hook */
    void *error_arg;
    rcy_allocator_t allocator; /**< default: malloc/realloc/free */
    /** Poison freed objects and keep the last `quarantine` of them from
        being reused, so that a use of a freed object is detected and
        reported. -1 (the default) means on in debug builds (RCY_DEBUG),
        off in release builds, unless the environment variable RCY_POISON
        is 0 (off) or 1 (on) when the runtime is created; 0 off; 1 on. Any
        other value is invalid. */
    int poison;
    /** Quarantined objects when poisoning; default 1024. A value whose ring
        of pointers (quarantine * sizeof(void *) bytes) would not fit in a
        size_t is invalid, poisoning on or off. */
    size_t quarantine;
    /** Transparent huge pages for the heap. 1: once the small-object
        allocator's arenas hold 16 MiB, each further arena is 2 MiB, 2 MiB
        aligned and advised with madvise(MADV_HUGEPAGE), so that the kernel
        can back it with one huge page (when its transparent_hugepage
        setting is "madvise" or "always"): fewer TLB misses when a
        collection visits a large heap in random order. The first 16 MiB
        stay on 4 KiB pages, so a small heap costs no more memory than with
        0. 0: off. -1 (the default): the environment variable
        RCY_HUGE_PAGES (0 or 1) when the runtime is created decides, else
        off. Any other value is invalid. It changes nothing where the
        runtime has no pools (sanitizer builds, poisoning, allocator hooks)
        or the system has no MADV_HUGEPAGE. */
    int huge_pages;
    /** The collector's mode for the oldest generation: RCY_GC_COMPAT (0,
        the default: CPython's stop-the-world collections) or
        RCY_GC_INCREMENTAL (see rcy_gc_set_mode). The environment variable
        RCY_GC_MODE, "incremental" or "compat" when the runtime is created,
        overrides it. Any other value means compat. */
    int gc_mode;
    /** Incremental mode: the most work one step may do, in objects visited
        plus references traversed; 0 (the default) means 400,000. A step
        also stops when its time is spent (incr_pause_us), whichever comes
        first. RCY_GC_INCR_STEP=N in the environment overrides it (a test
        knob: tiny steps interleave the program with every phase of a
        pass). */
    size_t incr_step_work;
    /** Incremental mode: the pause target in microseconds of the thread's
        CPU time. A step runs at the end of an automatic young collection
        and stops once that collection and the step together reach it (the
        thread's CPU clock is read every few thousand work units); after a
        young collection that alone takes longer, the step does only one
        clock interval's work (4,096 units). A pass that lags behind the
        program's promotions gets longer steps, up to 8 times the target,
        before the backstop finishes it at once. 0 (the default)
        means 1,000. RCY_GC_INCR_PAUSE_US=N in the environment overrides
        it, N = 0 meaning no time bound at all (steps bounded by their work
        alone: a test knob, which makes steps deterministic). */
    size_t incr_pause_us;
} rcy_config_t;

/** Fills cfg with the defaults described in rcy_config_t and sets its size
    field. NULL is ignored. */
RCY_API void rcy_config_init(rcy_config_t *cfg);

/**
 * Creates a runtime. cfg may be NULL for the defaults. Returns NULL if
 * memory is exhausted or cfg is invalid (a size field rcy_config_init did
 * not set, for this version's rcy_config_t; a negative threshold, debug flags
 * that are not RCY_DEBUG_* values, a partial allocator, a poison value other
 * than -1, 0 and 1, a quarantine whose size overflows, a huge_pages value
 * other than -1, 0 and 1). The environment variable RCY_GC_DEBUG, when set
 * to a number, overrides cfg->debug_flags; RCY_POISON (0 or 1) decides
 * poisoning when cfg->poison is -1, RCY_HUGE_PAGES (0 or 1) huge pages when
 * cfg->huge_pages is -1.
 */
RCY_API rcy_runtime_t *rcy_runtime_new(const rcy_config_t *cfg);

/**
 * Tears a runtime down: runs the finalize registrations still alive (and
 * those their callbacks register), collects everything collectable
 * (finalizers and callbacks may run), releases immortal objects (see
 * rcy_immortalize), and then reports through the output hook the objects
 * still alive (a count per type name), which are references someone forgot
 * to release. Its work is bounded: finalize callbacks that keep registering
 * new ones, and finalizers or weak-reference callbacks that keep making
 * garbage, are stopped after a budget of 100,000 plus 4 per object alive when
 * teardown starts (finalize calls, or objects found unreachable; collections
 * also stop after 100 passes), with a report of what was left through the
 * output hook; from then on no finalizer or callback runs and the garbage
 * left is freed without them. After it returns, no object of the runtime may
 * be used, nor rt itself. NULL is ignored.
 *
 * Misuse aborts with a "recycle: fatal error: ... runtime <0xADDR>" message
 * (docs/design.md, "Re-entrancy"): destroying rt from inside its own code
 * (a finalizer, legacy finalizer, weakref or finalize callback, gc callback,
 * traverse, clear, dealloc or describe slot, a tool's callback, the output
 * or error hook, or teardown itself; the message names what runs), and
 * destroying a pointer that is not a live runtime (destroyed already, or
 * never created: found out from a process-wide list of live runtimes,
 * without reading the pointer). Any other call given a destroyed runtime
 * aborts too ("<function> called with a destroyed runtime"), as long as its
 * memory was not reused (under AddressSanitizer, as long as it is freed).
 * Destroying another runtime from a callback is allowed.
 */
RCY_API void rcy_runtime_destroy(rcy_runtime_t *rt);

/**
 * Number of objects of the runtime that are alive now (immortal objects
 * included). Tests use it to prove they end with zero live objects.
 */
RCY_API size_t rcy_runtime_live_objects(const rcy_runtime_t *rt);

/** Bytes of live objects (headers included, private buffers excluded). */
RCY_API size_t rcy_runtime_live_bytes(const rcy_runtime_t *rt);

/**
 * Returns the RCY_E* code of the pending error of rt: the last failed call
 * on rt, or the last rcy_error_set (0 if none, or since rcy_error_clear),
 * so the cause of a NULL from a constructor can be told. A successful call
 * records nothing.
 *
 * ---- The pending error --------------------------------------------------
 *
 * Besides its code, the pending error may carry a message and a value that
 * the program set (rcy_error_set, rcy_error_set_value), as CPython's
 * exception state does: a language runtime keeps the error it is unwinding
 * with there. The library runs user code in the middle of its own calls
 * (finalizers, weak-reference and finalize callbacks, gc callbacks, user
 * dealloc, clear and describe slots, the output and error hooks) inside
 * rcy_decref, inside value replacement in dicts and lists, and inside
 * automatic collections: around every such callback it saves the pending
 * error and restores it afterwards (CPython's PyErr_Fetch/PyErr_Restore,
 * done for the user), so a callback starts with no pending error and
 * whatever errors it records or clears are gone when it returns. A failing
 * callback (a negative return, or NULL from a callable one) that set a
 * message with rcy_error_set has that message appended to its "Exception
 * ignored in ..." report (": <message>"). What a caller's own call slots,
 * hash and equal slots return does propagate: rcy_call, rcy_equal and the
 * dict calls give their errors back.
 *
 * A failed library call replaces the code; the message and value set
 * before then no longer belong to the pending error (rcy_error_message
 * and rcy_error_value return NULL) and are released by the next
 * rcy_error_set*, rcy_error_clear or rcy_error_fetch.
 */
RCY_API int rcy_last_error(const rcy_runtime_t *rt);

/**
 * Sets the pending error to code (a negative RCY_E* value; the program may
 * use its own negative codes below RCY_ECORRUPT) with a copy of message
 * (may be NULL; dropped, keeping the code, if the copy cannot be
 * allocated). Returns code, or RCY_EINVAL (rt NULL, code >= 0: nothing
 * changed). Releasing the previous error's value may run a finalizer.
 */
RCY_API int rcy_error_set(rcy_runtime_t *rt, int code, const char *message);

/**
 * rcy_error_set with a value as well (a thrown object): the runtime holds
 * a reference to value (may be NULL) until the error is replaced, cleared
 * or fetched, or teardown. RCY_ERUNTIME for a value of another runtime
 * (nothing changed).
 */
RCY_API int rcy_error_set_value(rcy_runtime_t *rt, int code, const char *message, rcy_object_t *value);

/** The pending error's message (borrowed, valid until the error changes),
    or NULL when none was set with the current code. */
RCY_API const char *rcy_error_message(const rcy_runtime_t *rt);

/** The pending error's value (borrowed, valid until the error changes or a
    release runs), or NULL. */
RCY_API rcy_object_t *rcy_error_value(const rcy_runtime_t *rt);

/** No pending error any more (code 0). Releasing its value may run a
    finalizer. NULL is ignored. */
RCY_API void rcy_error_clear(rcy_runtime_t *rt);

/** A saved pending error (rcy_error_fetch); treat the fields as private. */
typedef struct rcy_error_state_s {
    int code;
    char *message;       /* owned by the state */
    rcy_object_t *value; /* a reference owned by the state */
} rcy_error_state_t;

/**
 * Moves the pending error into *state and leaves none (PyErr_Fetch). The
 * state owns its message and value until rcy_error_restore hands them
 * back. A message and value made stale by a later library failure are
 * released here (which may run a finalizer), not moved.
 */
RCY_API void rcy_error_fetch(rcy_runtime_t *rt, rcy_error_state_t *state);

/**
 * Makes *state the pending error again, replacing (and releasing) the
 * current one, and empties *state (PyErr_Restore). To discard a fetched
 * state: restore it, then rcy_error_clear.
 */
RCY_API void rcy_error_restore(rcy_runtime_t *rt, rcy_error_state_t *state);

/** Writes text through rt's output hook. */
RCY_API void rcy_runtime_print(rcy_runtime_t *rt, const char *text);

/* ---- Types ----------------------------------------------------------- */

/**
 * The header every object starts with. refcnt is the true number of
 * references; type is the object's type, owned by the object's runtime.
 * Read refcnt through rcy_getrefcount(), never write it directly.
 */
typedef struct rcy_object_s {
    intptr_t refcnt;
    rcy_type_t *type;
} rcy_object_t;

/**
 * The header of a variable-size object (a type with itemsize > 0):
 * size is the number of items allocated after the fixed part.
 */
typedef struct rcy_varobject_s {
    rcy_object_t ob;
    intptr_t size;
} rcy_varobject_t;

/**
 * A visit callback, called by a traverse function once for every strong
 * reference the object holds. label names the edge for debugging tools (the
 * field expression given to RCY_VISIT, or NULL); index is the item index for
 * RCY_VISIT_ITEM, else -1. A nonzero return stops the traversal and must be
 * returned by the traverse function.
 */
typedef int (*rcy_visit_fn)(rcy_object_t *child, const char *label, intptr_t index, void *arg);

/**
 * traverse slot: call visit on every object reference the object owns (NULL
 * fields may be passed to RCY_VISIT, which skips them). Must not create or
 * release references, allocate, or run user code. It runs inside a heap walk
 * (a collection's passes, the introspection calls, the tools), during which
 * the calls that would disturb the walk are refused: rcy_gc_collect returns
 * 0, rcy_gc_freeze/unfreeze, rcy_gc_track/untrack, rcy_gc_garbage_clear,
 * rcy_runtime_memory and every walk (rcy_gc_get_objects/referents/referrers,
 * the tools) return RCY_ESTATE, and rcy_runtime_destroy aborts.
 */
typedef int (*rcy_traverse_fn)(rcy_object_t *self, rcy_visit_fn visit, void *arg);

/**
 * clear slot: drop the references the object owns (use RCY_CLEAR), leaving it
 * in a consistent state. Used by the cycle collector to break cycles and, when
 * the type has no dealloc slot, on deallocation. Returns 0.
 */
typedef int (*rcy_clear_fn)(rcy_object_t *self);

/**
 * finalize slot (PEP 442 `__del__`): runs at most once per container object
 * (every time for an object of a non-container type, as in CPython), before
 * the object's references are cleared; it may resurrect the object by storing
 * a new reference to it. Return 0, or a negative value to report an error
 * (reported through the error hook as "Exception ignored in ...").
 */
typedef int (*rcy_finalize_fn)(rcy_object_t *self);

/**
 * dealloc slot: release everything the object owns (its references and any
 * private memory) when the object dies. It does not free the object's own
 * memory: the runtime does that after the slot returns. When a type has no
 * dealloc slot its clear slot is used instead.
 */
typedef void (*rcy_dealloc_fn)(rcy_object_t *self);

/**
 * describe slot: write a short human-readable description of the object into
 * buf (at most size bytes including the terminating NUL), for debug output
 * and graphs. Returns the length written. Without it, objects are described
 * as "<TypeName 0xADDRESS>".
 */
typedef int (*rcy_describe_fn)(rcy_object_t *self, char *buf, size_t size);

/**
 * hash slot: store the object's hash in *out and return 0, or return a
 * negative RCY_E* code (RCY_EHASH: unhashable; any other error is passed
 * on to the caller of rcy_hash, rcy_dict_set, ...). Objects that the equal
 * slot calls equal must hash alike, also equal to built-in values (a user
 * bignum equal to the int 5 must hash as rcy_hash(5)). A hash of -1 is
 * taken as -2, as CPython does. See rcy_equal_fn for what it may do.
 */
typedef int (*rcy_hash_fn)(rcy_object_t *self, int64_t *out);

/** What an equal slot returns when it does not know how to compare self
    with other (CPython's NotImplemented): the other side is asked. */
#define RCY_NOTIMPLEMENTED 2

/**
 * equal slot (CPython's __eq__): compare self with other, which may be of
 * any type (rcy_equal(a, b) asks a's slot first, then b's with the
 * arguments swapped when a's gives RCY_NOTIMPLEMENTED or a has none, as
 * Python's reflected __eq__; when neither decides, only identity is
 * equality). Return 1 (equal), 0 (not), RCY_NOTIMPLEMENTED, or a negative
 * RCY_E* code, which ends the comparison (and the dict operation or
 * rcy_equal that ran it) with that error. A type with an equal slot and
 * no hash slot is unhashable (RCY_EHASH), as a Python class defining
 * __eq__ without __hash__.
 *
 * Both slots are user code that the built-ins run inside their own
 * operations (dict lookups, the equality and hashing of tuples, lists and
 * dicts). They may call rcy_equal and rcy_hash on other objects (recursion
 * is bounded by the stack: RCY_EDEPTH), allocate, release references, even
 * change the containers being compared or searched: the built-ins hold the
 * items they compare, and a dict lookup whose dict changed during a
 * comparison starts again, as CPython's does. They must not destroy the
 * runtime (that aborts).
 */
typedef int (*rcy_equal_fn)(rcy_object_t *self, rcy_object_t *other);

/**
 * call slot (CPython's vectorcall, in spirit): called by rcy_call(self,
 * args, nargs) with the caller's nargs arguments args[0..nargs) (borrowed:
 * the caller holds them for the call; args may be NULL when nargs is 0).
 * Return a new reference (the result), or NULL with an error recorded on
 * the runtime (a failed library call records its code; rcy_error_set
 * records one with a message); a NULL returned with no error recorded is
 * taken as RCY_ECALLBACK. It is user code: it may do anything but destroy
 * the runtime.
 */
typedef rcy_object_t *(*rcy_call_fn)(rcy_object_t *self, rcy_object_t *const *args, size_t nargs);

/** Type flags. */
enum rcy_type_flags_e {
    /** Instances are containers: they carry a GC header before the object,
        are tracked by the cycle collector, and must have traverse and clear. */
    RCY_TPFLAGS_GC = 1u << 0
};

/**
 * The description of a type, from which rcy_type_new() builds a runtime-owned
 * type (in the manner of CPython's PyType_FromSpec). basicsize includes the
 * rcy_object_t (or rcy_varobject_t) header; a variable-size type has
 * itemsize > 0 and its objects start with rcy_varobject_t.
 *
 * The objects a type's slots refer to must belong to the type's runtime:
 * the library cannot check what a type's code stores in its own fields, and
 * a reference into another runtime would dangle once that runtime is
 * destroyed and hold cycles neither collector can free. The collector
 * aborts (naming the object) when a full collection finds a tracked object
 * of another runtime among an object's references, before it would corrupt
 * that runtime's lists; builds with RCY_DEBUG check every reference it
 * follows.
 */
typedef struct rcy_type_spec_s {
    const char *name;         /**< type name, shown in debug output (copied; UTF-8, no control characters) */
    size_t basicsize;         /**< size of the fixed part, header included */
    size_t itemsize;          /**< size of one item, 0 for fixed-size types */
    unsigned flags;           /**< RCY_TPFLAGS_* */
    rcy_traverse_fn traverse; /**< required with RCY_TPFLAGS_GC */
    rcy_clear_fn clear;       /**< required with RCY_TPFLAGS_GC */
    rcy_finalize_fn finalize; /**< optional PEP 442 finalizer */
    rcy_finalize_fn legacy_del; /**< optional legacy (pre-3.4 tp_del) finalizer */
    rcy_dealloc_fn dealloc;   /**< optional; defaults to clear */
    rcy_describe_fn describe; /**< optional debug description */
    /** Offset of an `rcy_object_t *` field that holds the head of the
        object's weak-reference list (zeroed at allocation, managed by the
        library); 0 when the type does not support weak references. */
    size_t weaklistoffset;
    rcy_hash_fn hash;         /**< optional; default: hash by identity (none, with equal: unhashable) */
    rcy_equal_fn equal;       /**< optional; default: equal only to itself */
    rcy_call_fn call;         /**< optional: the objects are callable (rcy_call) */
} rcy_type_spec_t;

/**
 * Visit a reference from inside a traverse function whose parameters are
 * named `visit` and `arg`; NULL is skipped. The edge is labelled with the
 * expression text, e.g. RCY_VISIT(self->next) is labelled "self->next".
 */
#define RCY_VISIT(o)                                                                               \
    do {                                                                                           \
        if ((o) != NULL) {                                                                         \
            int rcy_visit_ret_ = visit((rcy_object_t *)(o), #o, -1, arg);                          \
            if (rcy_visit_ret_ != 0)                                                               \
                return rcy_visit_ret_;                                                             \
        }                                                                                          \
    } while (0)

/** Like RCY_VISIT for item i of an array (the edge is labelled by index). */
#define RCY_VISIT_ITEM(o, i)                                                                       \
    do {                                                                                           \
        if ((o) != NULL) {                                                                         \
            int rcy_visit_ret_ = visit((rcy_object_t *)(o), NULL, (intptr_t)(i), arg);             \
            if (rcy_visit_ret_ != 0)                                                               \
                return rcy_visit_ret_;                                                             \
        }                                                                                          \
    } while (0)

/**
 * Creates a type in rt from spec (the spec is read, not kept; the name is
 * copied). The type lives until the runtime is destroyed. Returns NULL with
 * RCY_EINVAL when the spec is inconsistent, or RCY_ENOMEM. Inconsistent:
 * - a name that is empty, not well-formed UTF-8, or holds a control
 *   character (C0 such as newline or tab, DEL, C1): names appear in
 *   one-line messages and graph labels;
 * - an unknown flag; a GC type without traverse or clear; a traverse slot
 *   without RCY_TPFLAGS_GC (the collector would never call it);
 * - basicsize smaller than the header (rcy_object_t, or rcy_varobject_t
 *   for a variable-size type) or larger than SIZE_MAX / 2;
 * - a weaklistoffset that is not pointer-aligned, lies in the header, or
 *   whose pointer does not end within basicsize.
 *
 * Versioned by the call: rcy_type_new is a macro passing
 * sizeof(rcy_type_spec_t) as this header defines it to the exported
 * rcy_type_new_sized, which refuses a spec_size it does not know with
 * RCY_EINVAL before reading the spec (a program built against another
 * version's header fails cleanly; a later version may accept the older
 * sizes and read only their fields). The spec stays built with `= {0}`.
 * spec is evaluated once, as the function's argument, and may be NULL
 * (refused). Take the address, or call from a binding, through
 * rcy_type_new_sized with sizeof(rcy_type_spec_t).
 */
RCY_API rcy_type_t *rcy_type_new_sized(rcy_runtime_t *rt, const rcy_type_spec_t *spec, size_t spec_size);
#define rcy_type_new(rt, spec) rcy_type_new_sized((rt), (spec), sizeof(rcy_type_spec_t))

/** The type's name (borrowed, valid as long as the runtime). */
RCY_API const char *rcy_type_name(const rcy_type_t *type);

/** The runtime a type belongs to. */
RCY_API rcy_runtime_t *rcy_type_runtime(const rcy_type_t *type);

/** Nonzero when the type's objects are containers (RCY_TPFLAGS_GC). */
RCY_API int rcy_type_is_gc(const rcy_type_t *type);

/** Number of live objects of the type, and their bytes (headers included). */
RCY_API size_t rcy_type_live_objects(const rcy_type_t *type);
RCY_API size_t rcy_type_live_bytes(const rcy_type_t *type);

/* ---- Objects --------------------------------------------------------- */

/**
 * Allocates a zero-filled object of a fixed-size type with a reference count
 * of 1; returns a new reference. A container (RCY_TPFLAGS_GC) is tracked by
 * the collector at once (its zeroed fields are NULL, which traverse skips).
 * Allocating a container may run an automatic collection first, and with it
 * finalizers and callbacks. Returns NULL with RCY_ENOMEM (nothing changed) or
 * RCY_EINVAL (variable-size type, NULL type, NoneType or bool: their objects
 * are the singletons rcy_none, rcy_true and rcy_false).
 */
RCY_API rcy_object_t *rcy_new(rcy_type_t *type);

/**
 * Like rcy_new for a variable-size type: allocates room for nitems items
 * after the fixed part and sets the object's size to nitems. Returns NULL
 * with RCY_EINVAL for a negative nitems or a fixed-size type, RCY_ENOMEM when
 * the size overflows or memory is exhausted.
 */
RCY_API rcy_object_t *rcy_new_var(rcy_type_t *type, intptr_t nitems);

/** The object's type (borrowed). */
static inline rcy_type_t *rcy_type(const rcy_object_t *o) { return o->type; }

/** Which built-in type a type is (rcy_type_head_t.kind); 0 for user types. */
enum rcy_kind_e {
    RCY_KIND_USER = 0,
    RCY_KIND_INT = 1,
    RCY_KIND_FLOAT = 2,
    RCY_KIND_STR = 3,
    RCY_KIND_TUPLE = 4,
    RCY_KIND_LIST = 5,
    RCY_KIND_DICT = 6,
    RCY_KIND_CLASS = 7,
    RCY_KIND_NONE = 8,
    RCY_KIND_BOOL = 9,
    RCY_KIND_CFUNCTION = 10
};

/**
 * The first words of every type, readable by inline code (the rest of
 * rcy_type_t is private): its runtime and its kind (enum rcy_kind_e). Not
 * for writing.
 */
typedef struct rcy_type_head_s {
    rcy_runtime_t *rt;
    unsigned kind;
} rcy_type_head_t;

/** o's kind (RCY_KIND_*), inline: one load more than o->type. o must not
    be NULL; a freed object is not detected here. */
static inline unsigned rcy_kind(const rcy_object_t *o)
{
    return ((const rcy_type_head_t *)(const void *)o->type)->kind;
}

/** The runtime an object belongs to (NULL for NULL). Aborts on a freed object. */
RCY_API rcy_runtime_t *rcy_object_runtime(const rcy_object_t *o);

/**
 * Writes a short description of o into buf: the type's describe slot, or
 * "<TypeName 0xADDRESS>" (also when the calling thread has too little stack
 * left to run the slot, which may describe other objects in turn: nesting
 * is bounded by the stack, docs/design.md, Recursion). Returns the length
 * of the description (which may have been truncated to size - 1 bytes).
 * Aborts on a freed object.
 */
RCY_API int rcy_describe(rcy_object_t *o, char *buf, size_t size);

/* ---- Reference counting ---------------------------------------------- */

/** The reference count of immortal objects: it never changes. 2^61 with a
    64-bit intptr_t, 2^29 with a 32-bit one. */
#define RCY_REFCNT_IMMORTAL ((intptr_t)1 << (sizeof(intptr_t) * 8 - 3))

/** The highest count of a mortal object. An incref past it saturates: the
    object becomes immortal (never freed) and the output hook says so. Out
    of reach on 64-bit targets; on 32-bit ones, 2^29 - 1 references. */
#define RCY_REFCNT_MAX (RCY_REFCNT_IMMORTAL - 1)

/**
 * Slow path of rcy_decref (not for direct use): deallocates an object whose
 * count drops to zero, or reports heap corruption and aborts.
 */
RCY_API void rcy_decref_slow(rcy_object_t *o);

/**
 * Reports the use of a freed object (naming its type and address) and
 * aborts; not for direct use: the inline functions below call it when they
 * meet a freed object (docs/design.md, "Freed objects").
 */
RCY_API void rcy_fatal_freed(const rcy_object_t *o);

/**
 * Slow path of rcy_incref (not for direct use): o has RCY_REFCNT_MAX
 * references and receives one more. Its count becomes RCY_REFCNT_IMMORTAL
 * (it is never freed, and teardown reports it among the objects still
 * alive) and a warning naming it goes to the output hook.
 */
RCY_API void rcy_incref_overflow(rcy_object_t *o);

/**
 * Adds a reference to o (o must not be NULL). Immortal objects are
 * unchanged; a count that would pass RCY_REFCNT_MAX saturates instead of
 * wrapping into the immortal range unnoticed (rcy_incref_overflow).
 * An incref of a freed object is not checked here (it stays one compare and
 * one add); the count it leaves still reads as a freed object's, so the next
 * decref, or any library function given the object, reports "use of a freed
 * object".
 */
static inline void rcy_incref(rcy_object_t *o)
{
    intptr_t r = o->refcnt;
    if (r < RCY_REFCNT_MAX)
        o->refcnt = r + 1;
    else if (r == RCY_REFCNT_MAX)
        rcy_incref_overflow(o);
}

/**
 * Releases a reference to o (o must not be NULL). When the count reaches
 * zero the object is deallocated at once: its finalizer (if any) runs, then
 * the references it holds are released. Deep chains are freed without deep
 * recursion (nested deallocations are deferred past 50 levels, or earlier
 * when the thread's stack runs low). Taking a count below zero, or releasing
 * a freed object that is still recognisable as such (its memory is still
 * kept by the library: see docs/design.md, "Freed objects"), aborts with a
 * message naming the object.
 */
static inline void rcy_decref(rcy_object_t *o)
{
    intptr_t r = o->refcnt;
    if (r > 1) {
        if (r < RCY_REFCNT_IMMORTAL)
            o->refcnt = r - 1;
        return;
    }
    rcy_decref_slow(o);
}

/** rcy_incref that accepts NULL. */
static inline void rcy_xincref(rcy_object_t *o)
{
    if (o != NULL)
        rcy_incref(o);
}

/** rcy_decref that accepts NULL. */
static inline void rcy_xdecref(rcy_object_t *o)
{
    if (o != NULL)
        rcy_decref(o);
}

/** Adds a reference to o and returns o (a new reference): p = rcy_newref(q). */
static inline rcy_object_t *rcy_newref(rcy_object_t *o)
{
    rcy_incref(o);
    return o;
}

/** rcy_newref that accepts NULL. */
static inline rcy_object_t *rcy_xnewref(rcy_object_t *o)
{
    rcy_xincref(o);
    return o;
}

/**
 * The true reference count of o. Python's sys.getrefcount(x) reports one
 * more, for the reference held by its own argument: rcy_getrefcount(o) ==
 * sys.getrefcount(x) - 1 for the same situation. Immortal objects report
 * RCY_REFCNT_IMMORTAL. A freed object still recognisable as one aborts
 * with "use of a freed object" (rcy_fatal_freed).
 */
static inline intptr_t rcy_getrefcount(const rcy_object_t *o)
{
    intptr_t r = o->refcnt;
    if (r < 0)
        rcy_fatal_freed(o);
    return r;
}

/**
 * Stores value in field and releases the old value, safely: the field holds
 * the new value before the old one is released (its deallocation may run
 * code that reads the field). The field takes its own reference to value
 * (unlike CPython's Py_SETREF, nothing is stolen). value may be NULL; the
 * old value must not be NULL (use RCY_XSETREF when it may be). The field
 * expression is evaluated more than once.
 */
#define RCY_SETREF(field, value)                                                                   \
    do {                                                                                           \
        rcy_object_t *rcy_old_ = (rcy_object_t *)(field);                                          \
        rcy_xincref((rcy_object_t *)(value));                                                      \
        (field) = (value);                                                                         \
        rcy_decref(rcy_old_);                                                                      \
    } while (0)

/** RCY_SETREF where the old value may be NULL. */
#define RCY_XSETREF(field, value)                                                                  \
    do {                                                                                           \
        rcy_object_t *rcy_old_ = (rcy_object_t *)(field);                                          \
        rcy_xincref((rcy_object_t *)(value));                                                      \
        (field) = (value);                                                                         \
        rcy_xdecref(rcy_old_);                                                                     \
    } while (0)

/**
 * Sets field to NULL, then releases the reference it held (if any): code
 * run by the release never sees a field pointing at a dying object.
 */
#define RCY_CLEAR(field)                                                                           \
    do {                                                                                           \
        rcy_object_t *rcy_old_ = (rcy_object_t *)(field);                                          \
        if (rcy_old_ != NULL) {                                                                    \
            (field) = NULL;                                                                        \
            rcy_decref(rcy_old_);                                                                  \
        }                                                                                          \
    } while (0)

/**
 * Makes o immortal: its count becomes RCY_REFCNT_IMMORTAL and never changes,
 * incref and decref do nothing, and the runtime deallocates it at teardown
 * (after the final collection, in reverse order of immortalization). A
 * container is untracked, since the collector can never free it. Intended for
 * singletons shared by the whole runtime (None-like values, small integers).
 * Immortal objects may refer to each other and to themselves in any way
 * (cycles included), and may be made immortal at any time before teardown
 * releases them, by a finalizer too: teardown first runs the weak-reference
 * callbacks and finalizers of all of them, then each one's dealloc (or
 * clear) slot, newest first, while every immortal's memory is still there,
 * collects what that left, and only then frees them; their legacy
 * finalizers do not run. Returns 0, RCY_EINVAL for NULL or an object that is
 * already immortal, RCY_ESTATE for an object being deallocated (from its
 * dealloc slot) or once teardown has started releasing the immortals (from
 * code it runs), or RCY_ENOMEM (o is unchanged).
 */
RCY_API int rcy_immortalize(rcy_object_t *o);

/** Nonzero if o is immortal. */
static inline int rcy_is_immortal(const rcy_object_t *o) { return o->refcnt >= RCY_REFCNT_IMMORTAL; }

/**
 * Initializes caller-owned static storage (at least the type's basicsize
 * bytes, zero-filled by the caller) as an immortal object of a non-container,
 * fixed-size type: a static singleton. The runtime never frees it and never
 * calls its slots. Returns 0, or RCY_EINVAL for a container or variable-size
 * type.
 */
RCY_API int rcy_object_init_static(rcy_object_t *storage, rcy_type_t *type);

/* ---- Built-in types ---------------------------------------------------- */

/*
 * Ready-made object types, created with every runtime: int, float, str,
 * tuple, list, dict, and classes whose instances hold attributes. They are
 * ordinary objects of the runtime (release them with rcy_decref) and sit
 * beside user-defined types on equal terms: a list may hold any object.
 *
 * Containers (tuple, list, dict, classes, instances) are tracked by the
 * cycle collector; creating one may run an automatic collection, and with
 * it finalizers and callbacks. Releasing a reference (including the
 * references a container drops when an item is replaced or removed) may
 * run finalizers. Equality and hashing run no user code but the hash and
 * equal slots of user types (rcy_equal_fn); repr runs only describe slots.
 *
 * Constructors return a new reference, or NULL with rcy_last_error(rt) set.
 * Calls returning int give 0 or a negative RCY_E* code (also stored as the
 * runtime's last error); calls returning a borrowed reference give NULL on
 * failure with the last error set (RCY_EINDEX, RCY_EKEY, ...). A failed call
 * leaves every object as it was. Passing NULL where an object is expected
 * gives RCY_EINVAL; an object of the wrong type gives RCY_ETYPE; an object
 * to be stored that belongs to another runtime than the container (or than
 * rt, for a constructor) gives RCY_ERUNTIME, checked in that order. Passing a
 * freed object still recognisable as one (its block is still kept by the
 * library: docs/design.md, "Freed objects") aborts with "use of a freed
 * object", naming its type and address, as every public function that reads
 * an object does.
 *
 * Free lists: freed tuples (sizes 1 to 20, up to 2,000 of each), lists and
 * dicts (up to 80 each) keep their memory for the next object of their kind,
 * as in CPython; a full collection (generation 2) empties them. They are
 * compiled out with the CMake option RCY_FREELISTS=OFF (and in sanitizer
 * builds), and bypassed while the runtime poisons freed memory. Under the
 * same switch, ints and floats come from arenas (as CPython's pymalloc):
 * 256 KiB blocks given back to the system as soon as their objects are all
 * dead, so memory returns when a big list of numbers dies.
 */

/** Smallest and largest ints of the small-int cache (CPython's -5..256). */
#define RCY_SMALL_INT_MIN (-5)
#define RCY_SMALL_INT_MAX 256

/**
 * The built-in types of rt (borrowed, valid as long as rt), for comparing
 * with rcy_type(o) and for the census: "int", "float", "str", "tuple",
 * "list", "dict", and "type", the type of class objects. Each class has a
 * type of its own for its instances (rcy_class_instance_type). NULL for a
 * NULL rt.
 */
RCY_API rcy_type_t *rcy_int_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_float_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_str_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_tuple_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_list_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_dict_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_class_type(const rcy_runtime_t *rt);

/**
 * Type checks: nonzero if o (which may be NULL) is exactly of that
 * built-in type. Inline (a language runtime's inner loop calls them all
 * the time): the NULL test, the freed-object check (a freed object still
 * recognisable as one aborts with "use of a freed object", as every
 * public call that reads an object), and one compare of the type's kind
 * (rcy_kind). rcy_is_instance is a call (each class has its own type).
 */
static inline int rcy_is_kind_(const rcy_object_t *o, unsigned kind)
{
    if (o == NULL)
        return 0;
    if (o->refcnt < 0)
        rcy_fatal_freed(o);
    return rcy_kind(o) == kind;
}
static inline int rcy_is_int(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_INT); }
static inline int rcy_is_float(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_FLOAT); }
static inline int rcy_is_str(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_STR); }
static inline int rcy_is_tuple(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_TUPLE); }
static inline int rcy_is_list(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_LIST); }
static inline int rcy_is_dict(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_DICT); }
static inline int rcy_is_class(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_CLASS); }
static inline int rcy_is_cfunction(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_CFUNCTION); }
RCY_API int rcy_is_instance(const rcy_object_t *o);

/*
 * None, True and False: per-runtime immortal singletons (CPython's Py_None,
 * Py_True, Py_False). Each runtime has exactly one of each; compare by
 * pointer (o == rcy_none(rt)). They are immortal (rcy_incref and rcy_decref
 * do nothing to them, so a caller may release what it got or not), never
 * counted as live objects, never tracked, freed with the runtime. A bool is
 * an int for the built-ins, as CPython's bool subclasses int: True == 1 ==
 * 1.0 in rcy_equal, rcy_hash(True) is 1, True and 1 are the same dict key,
 * and rcy_int_value gives 0 or 1; its type is "bool" and its repr "True" or
 * "False" (rcy_is_int, an exact check, is 0 for a bool). None ("NoneType",
 * repr "None") equals only itself and hashes by identity (as CPython 3.11;
 * 3.12 made hash(None) a constant).
 */

/** rt's None (never NULL for a live rt; NULL for a NULL rt). Never fails,
    never allocates. The result needs no release (immortal). */
RCY_API rcy_object_t *rcy_none(rcy_runtime_t *rt);
/** rt's True, or NULL for a NULL rt. Never fails; immortal. */
RCY_API rcy_object_t *rcy_true(rcy_runtime_t *rt);
/** rt's False, or NULL for a NULL rt. Never fails; immortal. */
RCY_API rcy_object_t *rcy_false(rcy_runtime_t *rt);
/** rt's True if value is nonzero, else its False (NULL for a NULL rt). */
RCY_API rcy_object_t *rcy_bool(rcy_runtime_t *rt, int value);
/** The types of None ("NoneType") and of True and False ("bool"). */
RCY_API rcy_type_t *rcy_none_type(const rcy_runtime_t *rt);
RCY_API rcy_type_t *rcy_bool_type(const rcy_runtime_t *rt);
/** Nonzero if o (which may be NULL) is its runtime's None (inline, as the
    type checks above). */
static inline int rcy_is_none(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_NONE); }
/** Nonzero if o (which may be NULL) is True or False (inline). */
static inline int rcy_is_bool(const rcy_object_t *o) { return rcy_is_kind_(o, RCY_KIND_BOOL); }
/** Nonzero if o (which may be NULL) is its runtime's True (inline: a bool
    is an int, value 1 for True, read from the layout rcy_int_value uses). */
static inline int rcy_is_true(const rcy_object_t *o)
{
    return rcy_is_kind_(o, RCY_KIND_BOOL) && *(const int64_t *)(const void *)(o + 1) != 0;
}

/**
 * 1 if rt's free lists are in use (compiled in and the runtime does not
 * poison freed memory), else 0. When they are, a freed list's memory is
 * handed to the next list created (Python's `id(s) == id(n)`).
 */
RCY_API int rcy_freelists_enabled(const rcy_runtime_t *rt);

/**
 * The number of dead objects the free lists of rt hold for reuse now (0 when
 * free lists are not in use). They are not live objects: neither
 * rcy_runtime_live_objects nor the census counts them.
 */
RCY_API size_t rcy_freelists_size(const rcy_runtime_t *rt);

/**
 * Equality as Python's == on built-in values: ints and floats by numeric
 * value (1 == 1.0), strs by content, tuples and lists item by item, dicts
 * by their items; an object of a user type with an equal slot as that slot
 * says (a's slot, then b's reflected: rcy_equal_fn), anything else
 * (instances, classes, user types without the slot) only equals itself.
 * Identical objects are equal without asking a slot (as CPython's
 * PyObject_RichCompareBool). May run user code: the equal slots (and what
 * they run). Returns 1 if equal, 0 if not, RCY_EINVAL for NULL, a slot's
 * negative error, or
 * RCY_EDEPTH when the nesting is deeper than 1,000 levels or than the
 * calling thread's stack allows (a recursive structure; Python raises
 * RecursionError): each level first checks that a margin of stack is left
 * (a quarter of the thread's stack, between 8 and 16 KiB; docs/design.md,
 * Recursion).
 */
RCY_API int rcy_equal(rcy_object_t *a, rcy_object_t *b);

/**
 * Stores o's hash in *out; equal objects have equal hashes (an int and the
 * equal float, as in Python). Ints and floats hash as CPython hashes them;
 * strs hash their bytes (deterministically: no per-process seed); tuples
 * combine their items' hashes; objects of a user type with a hash slot as
 * the slot says (a type with an equal slot but no hash slot is
 * unhashable); other objects hash by identity. May run user code (hash
 * slots). Returns 0, RCY_EHASH for a list, a dict, or a tuple holding one
 * (or a slot's refusal), a slot's other errors, RCY_EINVAL, or
 * RCY_EDEPTH when the nesting is deeper than 1,000 levels or than the
 * calling thread's stack allows (as rcy_equal).
 */
RCY_API int rcy_hash(rcy_object_t *o, int64_t *out);

/*
 * Reprs: rcy_describe() writes a built-in object's repr as Python does:
 * `42`, `0.1`, `'text'`, `(1,)`, `[1, 2, 3]`, `{'a': 1}`, `<class 'ClassA'>`,
 * and `<ClassA 0x...>` for instances; a container that contains itself is
 * written `[...]`, as is one nested deeper than 64 levels or than the
 * thread's stack allows, and a repr cut short by the buffer ends in "...".
 * These are the descriptions debug output and graphs use.
 */

/* int: 64-bit signed integers. Not containers (not tracked). */

/**
 * Returns a new reference to the int value. Values in RCY_SMALL_INT_MIN..
 * RCY_SMALL_INT_MAX come from the small-int cache: immortal objects shared
 * by the whole runtime (asking for 11 twice gives the same object) that are
 * not counted as live objects. NULL with RCY_EINVAL or RCY_ENOMEM.
 */
RCY_API rcy_object_t *rcy_int_new(rcy_runtime_t *rt, int64_t value);

/** Stores the value of the int o in *out. 0, RCY_EINVAL or RCY_ETYPE. */
RCY_API int rcy_int_value(const rcy_object_t *o, int64_t *out);

/* float: doubles. Not containers. */

/** Returns a new reference to a float. NULL with RCY_EINVAL or RCY_ENOMEM. */
RCY_API rcy_object_t *rcy_float_new(rcy_runtime_t *rt, double value);

/** Stores the value of the float o in *out. 0, RCY_EINVAL or RCY_ETYPE. */
RCY_API int rcy_float_value(const rcy_object_t *o, double *out);

/* str: immutable UTF-8 text with a length and a cached hash. Not containers. */

/**
 * Returns a new reference to a str holding a copy of the NUL-terminated
 * UTF-8 text utf8. NULL with RCY_EINVAL (utf8 NULL or not well-formed
 * UTF-8) or RCY_ENOMEM.
 */
RCY_API rcy_object_t *rcy_str_new(rcy_runtime_t *rt, const char *utf8);

/** Like rcy_str_new for the len bytes at utf8 (which may contain NULs). */
RCY_API rcy_object_t *rcy_str_new_len(rcy_runtime_t *rt, const char *utf8, size_t len);

/**
 * The text of the str o: NUL-terminated UTF-8, valid as long as o lives
 * (borrowed); NULL if o is not a str.
 */
RCY_API const char *rcy_str_data(const rcy_object_t *o);

/** The length of the str o in bytes, or RCY_EINVAL / RCY_ETYPE. */
RCY_API intptr_t rcy_str_len(const rcy_object_t *o);

/**
 * Interning: returns a new reference to the one str of rt holding the
 * NUL-terminated UTF-8 text utf8, made on the first call for that text
 * (CPython's sys.intern and PyUnicode_InternFromString). Two calls with the
 * same text give the same object, so that a runtime can compare names by
 * pointer; attribute names are interned by rcy_setattr and its friends.
 * Interned strs are immortal (as in CPython 3.12+): the reference need not
 * be released (releasing it is harmless), they are not live objects and
 * appear in no census, and teardown frees them. NULL with RCY_EINVAL (utf8
 * NULL or not well-formed UTF-8) or RCY_ENOMEM. Allocates (never a
 * container: it cannot start a collection); runs no user code.
 */
RCY_API rcy_object_t *rcy_str_intern(rcy_runtime_t *rt, const char *utf8);

/** Like rcy_str_intern for the len bytes at utf8 (which may contain NULs). */
RCY_API rcy_object_t *rcy_str_intern_len(rcy_runtime_t *rt, const char *utf8, size_t len);

/** 1 if o is an interned str (one rcy_str_intern returns), else 0 (also
    for NULL and for objects that are not strs). Allocates nothing. */
RCY_API int rcy_str_is_interned(const rcy_object_t *o);

/* tuple: immutable sequences. Containers, tracked at creation; a
   collection untracks a surviving tuple whose items are all atoms (objects
   that are not containers) or untracked tuples, as CPython's
   untrack_tuples does. The empty tuple is an immortal singleton. */

/**
 * Returns a new reference to a tuple of the n objects items[0..n) (items
 * may be NULL when n is 0). The tuple takes its own reference to each item:
 * nothing is stolen. NULL with RCY_EINVAL (n < 0, a NULL item), RCY_ERUNTIME
 * (an item of another runtime than rt) or RCY_ENOMEM (also for an n no block
 * could hold, refused before items is read). May run an automatic
 * collection.
 */
RCY_API rcy_object_t *rcy_tuple_new(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items);

/** The number of items of the tuple t, or RCY_EINVAL / RCY_ETYPE. */
RCY_API intptr_t rcy_tuple_len(const rcy_object_t *t);

/**
 * (a, b, ...) from n object arguments, as CPython's PyTuple_Pack: the
 * arguments are borrowed (nothing stolen). Returns a new reference, or
 * NULL with RCY_EINVAL (n < 0, a NULL argument), RCY_ERUNTIME or
 * RCY_ENOMEM. n == 0 gives the empty tuple. May run an automatic
 * collection.
 */
RCY_API rcy_object_t *rcy_tuple_pack(rcy_runtime_t *rt, intptr_t n, ...);

/** rcy_tuple_pack stealing its arguments, as rcy_list_pack_steal. */
RCY_API rcy_object_t *rcy_tuple_pack_steal(rcy_runtime_t *rt, intptr_t n, ...);

/**
 * Item i of the tuple t (negative i counts from the end): a borrowed
 * reference, or NULL with RCY_EINDEX, RCY_ETYPE or RCY_EINVAL. Borrowed:
 * valid while the tuple lives (its items never change), so as long as the
 * caller holds the tuple; rcy_tuple_get_ref when it may not.
 */
RCY_API rcy_object_t *rcy_tuple_get(const rcy_object_t *t, intptr_t i);

/**
 * Item i of the tuple t as a new reference in *out: returns 1, or 0 when i
 * is out of range (*out NULL, nothing recorded), or RCY_EINVAL / RCY_ETYPE
 * (*out NULL). Never allocates or runs user code.
 */
RCY_API int rcy_tuple_get_ref(const rcy_object_t *t, intptr_t i, rcy_object_t **out);

/**
 * `item in t`: 1, 0, or a negative error (RCY_EINVAL, RCY_ETYPE, or one
 * from an equal slot, RCY_EDEPTH). Compares each item with item in order
 * (the tuple's item first, as CPython), stopping at the first equal one;
 * may run equal slots (user code).
 */
RCY_API int rcy_tuple_contains(const rcy_object_t *t, rcy_object_t *item);

/**
 * Tuple slice t[start:stop] (Python's bounds: negative from the end,
 * clamped; an empty slice is the empty tuple; the whole tuple is t
 * itself, a new reference). Returns a new reference, or NULL with
 * RCY_EINVAL, RCY_ETYPE or RCY_ENOMEM. May run an automatic collection.
 */
RCY_API rcy_object_t *rcy_tuple_slice(const rcy_object_t *t, intptr_t start, intptr_t stop);

/*
 * Unchecked inline accessors (CPython's PyTuple_GET_SIZE / GET_ITEM): no
 * type, NULL, freed-object or bounds check at all in release builds; t
 * must be a live tuple and i in [0, size). With assertions on (NDEBUG not
 * defined where the caller compiles) they assert both. The item is
 * borrowed, as rcy_tuple_get's.
 */
static inline intptr_t rcy_tuple_size_fast(const rcy_object_t *t)
{
    assert(rcy_is_tuple(t));
    return ((const rcy_varobject_t *)(const void *)t)->size;
}
/** The tuple's item array (borrowed), for loops and rcy_list_new_from. */
static inline rcy_object_t *const *rcy_tuple_items_fast(const rcy_object_t *t)
{
    assert(rcy_is_tuple(t));
    return (rcy_object_t *const *)(const void *)((const char *)t + sizeof(rcy_varobject_t));
}
static inline rcy_object_t *rcy_tuple_item_fast(const rcy_object_t *t, intptr_t i)
{
    assert(i >= 0 && i < rcy_tuple_size_fast(t));
    return rcy_tuple_items_fast(t)[i];
}

/* list: growable sequences. Containers. Indices may be negative (counted
   from the end, as in Python). */

/** The public head of a list object, read by the unchecked accessors
    below (never written by the user). */
typedef struct rcy_list_head_s {
    rcy_object_t ob;
    intptr_t size;         /**< items in use */
    intptr_t allocated;    /**< capacity */
    rcy_object_t **items;  /**< items[0..size) */
} rcy_list_head_t;

/*
 * Unchecked inline accessors (CPython's PyList_GET_SIZE / GET_ITEM): no
 * check at all in release builds; list must be a live list and i in
 * [0, size); asserted when NDEBUG is not defined where the caller
 * compiles. The item is borrowed and the array pointer is valid only
 * until the list changes (an append, an insert, a release that runs a
 * finalizer, a collection): see rcy_list_get.
 */
static inline intptr_t rcy_list_size_fast(const rcy_object_t *list)
{
    assert(rcy_is_list(list));
    return ((const rcy_list_head_t *)(const void *)list)->size;
}
static inline rcy_object_t *const *rcy_list_items_fast(const rcy_object_t *list)
{
    assert(rcy_is_list(list));
    return ((const rcy_list_head_t *)(const void *)list)->items;
}
static inline rcy_object_t *rcy_list_item_fast(const rcy_object_t *list, intptr_t i)
{
    assert(i >= 0 && i < rcy_list_size_fast(list));
    return rcy_list_items_fast(list)[i];
}

/** Returns a new, empty list. NULL with RCY_ENOMEM. May run a collection. */
RCY_API rcy_object_t *rcy_list_new(rcy_runtime_t *rt);

/**
 * Returns a new list of the n objects items[0..n) (it takes a reference to
 * each), with room for n (or a few more): Python's [a, b, c], or CPython's
 * PyList_New(n) followed by PyList_SET_ITEM. n == 0 gives an empty list
 * (items may then be NULL). NULL with RCY_EINVAL (n < 0, or items or one
 * of them NULL), RCY_ERUNTIME (an item of another runtime than rt) or
 * RCY_ENOMEM, nothing kept. May run a collection.
 */
RCY_API rcy_object_t *rcy_list_new_from(rcy_runtime_t *rt, intptr_t n, rcy_object_t *const *items);

/** Appends item (the list takes a reference). 0, RCY_EINVAL, RCY_ETYPE,
    RCY_ERUNTIME (item of another runtime than the list), RCY_ESTATE (the
    list is being deallocated: its count is 0, and the call comes from code
    its release runs) or RCY_ENOMEM (the list unchanged). */
RCY_API int rcy_list_append(rcy_object_t *list, rcy_object_t *item);

/**
 * Inserts item before position index, which is clamped to the list as
 * Python's list.insert does (an index past the end appends). 0, RCY_EINVAL,
 * RCY_ETYPE, RCY_ERUNTIME (item of another runtime), RCY_ESTATE (the list
 * is being deallocated, as for rcy_list_append) or RCY_ENOMEM (the list
 * unchanged).
 */
RCY_API int rcy_list_insert(rcy_object_t *list, intptr_t index, rcy_object_t *item);

/**
 * Item index: a borrowed reference, or NULL with RCY_EINDEX, RCY_ETYPE or
 * RCY_EINVAL.
 * Borrowed: valid only while something else holds the list and leaves the
 * item in it, so not across anything that may run user code (a release, an
 * allocation of a container, a call): a user function that drops the list or
 * replaces the item frees what C still holds (in a Lisp, `(def! f (fn* (x)
 * x)) (f (def! f 0))` freed the running closure). Hold it with rcy_newref,
 * or use rcy_list_get_ref.
 */
RCY_API rcy_object_t *rcy_list_get(const rcy_object_t *list, intptr_t index);

/**
 * Item index as a new reference in *out (CPython 3.13's PyList_GetItemRef,
 * with its out-of-range case told apart): returns 1, or 0 when index is out
 * of range (*out NULL, nothing recorded as the last error), or RCY_EINVAL /
 * RCY_ETYPE (*out NULL). Never allocates or runs user code.
 */
RCY_API int rcy_list_get_ref(const rcy_object_t *list, intptr_t index, rcy_object_t **out);

/**
 * `item in list`: 1, 0, or a negative error (RCY_EINVAL, RCY_ETYPE, an
 * equal slot's error, RCY_EDEPTH). Compares each item with item (the
 * list's item first, held across the comparison, as CPython's
 * list_contains); may run equal slots, which may change the list: the
 * search then goes on over the list as it is.
 */
RCY_API int rcy_list_contains(const rcy_object_t *list, rcy_object_t *item);

/**
 * Replaces item index with item (the list takes a reference and releases
 * the old item after storing the new one, which may run finalizers).
 * 0, RCY_EINDEX, RCY_EINVAL, RCY_ETYPE, RCY_ERUNTIME (item of another
 * runtime) or RCY_ESTATE (the list is being deallocated, as for
 * rcy_list_append); the list unchanged on error.
 */
RCY_API int rcy_list_set(rcy_object_t *list, intptr_t index, rcy_object_t *item);

/**
 * Removes item index (-1: the last) and returns it as a new reference (the
 * list's reference passes to the caller). NULL with RCY_EINDEX (also for an
 * empty list), RCY_ETYPE or RCY_EINVAL.
 */
RCY_API rcy_object_t *rcy_list_pop(rcy_object_t *list, intptr_t index);

/** The number of items, or RCY_EINVAL / RCY_ETYPE. */
RCY_API intptr_t rcy_list_len(const rcy_object_t *list);

/**
 * list.clear() in CPython's order (_list_clear): the list is emptied
 * first, then its items are released, last first, so that finalizers run
 * by the releases see it empty (and may fill it again). 0, RCY_EINVAL or
 * RCY_ETYPE. May run finalizers; never allocates.
 */
RCY_API int rcy_list_clear(rcy_object_t *list);

/**
 * [a, b, ...] from n object arguments: rcy_list_pack(rt, 2, a, b). The
 * arguments are borrowed (the list takes its own references; nothing is
 * stolen). NULL with RCY_EINVAL (n < 0, a NULL argument), RCY_ERUNTIME or
 * RCY_ENOMEM. May run an automatic collection.
 */
RCY_API rcy_object_t *rcy_list_pack(rcy_runtime_t *rt, intptr_t n, ...);

/**
 * rcy_list_pack that steals its arguments: each argument's reference is
 * consumed, whether the call succeeds or fails, so fresh objects can be
 * passed straight from their constructors: rcy_list_pack_steal(rt, 2,
 * rcy_int_new(rt, 1), rcy_str_new(rt, "a")). A NULL argument (a failed
 * constructor) makes the call fail with RCY_EINVAL after releasing the
 * others (last first; that may run finalizers).
 */
RCY_API rcy_object_t *rcy_list_pack_steal(rcy_runtime_t *rt, intptr_t n, ...);

/**
 * list.extend(seq) for a list or tuple seq (list itself included:
 * l.extend(l) doubles it): appends a reference to each of seq's items.
 * 0, RCY_EINVAL, RCY_ETYPE (seq neither), RCY_ERUNTIME (seq of another
 * runtime), RCY_ESTATE (list is being deallocated, as for rcy_list_append)
 * or RCY_ENOMEM (list unchanged). Never collects or runs user
 * code.
 */
RCY_API int rcy_list_extend(rcy_object_t *list, rcy_object_t *seq);

/**
 * list[start:stop] as a new list (Python's bounds: negative from the end,
 * clamped, taken after the new list's allocation, which may collect).
 * Returns a new reference, or NULL with RCY_EINVAL, RCY_ETYPE or
 * RCY_ENOMEM.
 */
RCY_API rcy_object_t *rcy_list_slice(const rcy_object_t *list, intptr_t start, intptr_t stop);

/**
 * tuple(list) (CPython's PyList_AsTuple): a new tuple of the list's items
 * as they are when the call starts (held across the tuple's allocation,
 * which may collect). Returns a new reference, or NULL with RCY_EINVAL,
 * RCY_ETYPE or RCY_ENOMEM. list(tuple) is rcy_list_new_from(rt,
 * rcy_tuple_size_fast(t), rcy_tuple_items_fast(t)).
 */
RCY_API rcy_object_t *rcy_list_to_tuple(const rcy_object_t *list);

/* dict: hash maps with insertion-ordered iteration. Containers, always
   tracked (CPython 3.14's rule). Keys must be hashable (see rcy_hash):
   ints, floats, strs, tuples of hashables, and any other object by
   identity; lists and dicts are not. A dict being deallocated (its count
   is 0: reached from code its release runs, through a C pointer) releases
   its entries where they are: every dict call on it returns RCY_ESTATE
   (rcy_dict_get: NULL with RCY_ESTATE). */

/** Returns a new, empty dict. NULL with RCY_ENOMEM. May run a collection. */
RCY_API rcy_object_t *rcy_dict_new(rcy_runtime_t *rt);

/**
 * d[key] = value: the dict takes references to both (an existing key keeps
 * its original key object; the old value is released, which may run
 * finalizers). 0, RCY_EHASH (unhashable key), RCY_EINVAL, RCY_ETYPE,
 * RCY_ERUNTIME (key or value of another runtime than d, even when the key is
 * already in), RCY_ESTATE (d is being deallocated: its count is 0, and the
 * call comes from code its release runs), RCY_ENOMEM or RCY_EDEPTH (a key
 * nested too deeply to hash or compare: see rcy_equal); d is unchanged on
 * error.
 */
RCY_API int rcy_dict_set(rcy_object_t *d, rcy_object_t *key, rcy_object_t *value);

/**
 * d[key]: a borrowed reference, or NULL with RCY_EKEY (missing; also for a
 * key of another runtime, which equals no key of d), RCY_EHASH, RCY_EINVAL,
 * RCY_ETYPE, RCY_EDEPTH (as rcy_dict_set) or an error of a hash or equal
 * slot (which the lookup may run: user code).
 * Borrowed: valid only while something else holds the dict and leaves the
 * item in it, so not across anything that may run user code (a release, an
 * allocation of a container, a call): a user function that drops the dict or
 * replaces the value frees what C still holds (in a Lisp, `(def! f (fn* (x)
 * x)) (f (def! f 0))` freed the running closure). Hold it with rcy_newref,
 * or use rcy_dict_get_ref.
 */
RCY_API rcy_object_t *rcy_dict_get(const rcy_object_t *d, rcy_object_t *key);

/**
 * d[key] as a new reference in *out, telling absent from error in one call
 * (CPython 3.13's PyDict_GetItemRef): returns 1 (found), 0 (absent: *out
 * NULL, nothing recorded as the last error), or a negative error as
 * rcy_dict_get's (*out NULL). May run hash and equal slots (user code).
 */
RCY_API int rcy_dict_get_ref(const rcy_object_t *d, rcy_object_t *key, rcy_object_t **out);

/** `key in d`: 1, 0, or a negative error as rcy_dict_get_ref's. */
RCY_API int rcy_dict_contains(const rcy_object_t *d, rcy_object_t *key);

/**
 * del d[key]: releases the key and value (may run finalizers). 0, RCY_EKEY,
 * RCY_EHASH, RCY_EINVAL, RCY_ETYPE or RCY_EDEPTH (as rcy_dict_set).
 */
RCY_API int rcy_dict_del(rcy_object_t *d, rcy_object_t *key);

/** The number of items, or RCY_EINVAL / RCY_ETYPE. */
RCY_API intptr_t rcy_dict_len(const rcy_object_t *d);

/**
 * Iterates over d in insertion order. Start with *pos = 0; each call stores
 * the next item's key and value (borrowed references, valid until the dict
 * changes: take references before running anything that may release or
 * replace them; either pointer may be NULL) and returns 1, or returns 0 at
 * the end. Values may be replaced and
 * items deleted during an iteration; adding keys may reorder the storage,
 * so the iteration must then start again. RCY_EINVAL or RCY_ETYPE on error.
 */
RCY_API int rcy_dict_next(const rcy_object_t *d, intptr_t *pos, rcy_object_t **key, rcy_object_t **value);

/* ---- Classes and instances --------------------------------------------- */

/**
 * A class's finalizer, called with the instance (a borrowed reference)
 * and the class's arg. Return 0, or a negative value to report an error
 * through the error hook ("Exception ignored in: <ClassA 0x...>").
 */
typedef int (*rcy_class_del_fn)(rcy_object_t *self, void *arg);

/** What rcy_class_new needs beyond the name; all fields optional. */
typedef struct rcy_class_spec_s {
    /** `__del__` as in Python 3.4+ (PEP 442): runs at most once per
        instance, when it dies by reference counting or before its cycle is
        cleared by the collector; it may resurrect the instance. */
    rcy_class_del_fn finalize;
    /** A legacy (pre-3.4) `__del__`: the collector never breaks a cycle
        that reaches an instance of the class; such cycles go to the
        garbage list (rcy_gc_garbage_len), as in Python 2 and 3.3. */
    rcy_class_del_fn legacy_del;
    void *arg; /**< passed to both */
} rcy_class_spec_t;

/**
 * Creates a class named name (copied; shown in debug output and reprs:
 * "gc: collectable <ClassA 0x...>"), with an optional spec (NULL: no
 * finalizer). The class is an object of type "type" (a container: it may
 * sit in cycles with its instances) and holds class attributes set with
 * rcy_setattr. Its instances get a type of their own, named name, created
 * here and kept until the runtime is destroyed. Returns a new reference, or
 * NULL with RCY_EINVAL (a name rcy_type_new would refuse: empty, invalid
 * UTF-8 or a control character; finalize and legacy_del
 * both set) or RCY_ENOMEM. May run an automatic collection.
 *
 * Versioned by the call as rcy_type_new is: rcy_class_new is a macro
 * passing sizeof(rcy_class_spec_t) to the exported rcy_class_new_sized,
 * which refuses a spec_size it does not know with RCY_EINVAL (checked
 * even when spec is NULL) before reading the spec or creating anything.
 * Its arguments are evaluated once each; take the address through
 * rcy_class_new_sized.
 */
RCY_API rcy_object_t *rcy_class_new_sized(rcy_runtime_t *rt, const char *name, const rcy_class_spec_t *spec,
                                          size_t spec_size);
#define rcy_class_new(rt, name, spec) rcy_class_new_sized((rt), (name), (spec), sizeof(rcy_class_spec_t))

/**
 * The type of cls's instances (borrowed), or NULL if cls is not a class.
 * rcy_new of this type makes an instance as rcy_instance_new does; once the
 * class is freed (no instance and no reference left) it fails with
 * RCY_ETYPE.
 */
RCY_API rcy_type_t *rcy_class_instance_type(const rcy_object_t *cls);

/**
 * Creates an instance of cls with no attributes. Instances are compact, as
 * in CPython 3.11+: the class keeps one table of attribute names (interned
 * strs) for all its instances, and an instance holds only its values,
 * inline; an instance with two attributes takes 64 bytes (64-bit), and no
 * dict or str is made per instance (docs/design.md, "Instance layout"). A
 * dict is made when rcy_instance_dict asks for it, or when an instance's
 * attributes outgrow the compact form (more than 30 names in its class, a
 * name the class learnt after the instance was made once the class stopped
 * giving spare slots, or more than 10 attributes on one instance, 4 on
 * 32-bit targets); the instance then uses it. The instance holds a
 * reference to its class and supports weak references. Returns a new
 * reference, or NULL with RCY_EINVAL, RCY_ETYPE (cls is not a class) or
 * RCY_ENOMEM. May run an automatic collection.
 */
RCY_API rcy_object_t *rcy_instance_new(rcy_object_t *cls);

/** The class of an instance (borrowed), or NULL if inst is not one. */
RCY_API rcy_object_t *rcy_instance_class(const rcy_object_t *inst);

/**
 * The instance's attribute dict (Python's obj.__dict__): a new reference.
 * The first call makes it from the instance's attributes, in their
 * insertion order, and from then on the instance keeps its attributes
 * there, as CPython 3.11/3.12 do: rcy_setattr and rcy_dict_set on the dict
 * see each other's changes. It is an ordinary dict (tracked, in the
 * census), keyed by interned strs; the collector then counts it with the
 * instance (python3.11: a cycle of two instances, one of them with its
 * __dict__ asked for, collects 3). NULL with RCY_EINVAL, RCY_ETYPE (not an
 * instance), RCY_ESTATE (the instance is being deallocated, as for
 * rcy_setattr) or RCY_ENOMEM (the instance unchanged). May run an automatic
 * collection (the first call makes a dict).
 */
RCY_API rcy_object_t *rcy_instance_dict(rcy_object_t *obj);

/**
 * obj.name = value, for an instance or a class (obj takes a reference to
 * value; a replaced value is released, which may run finalizers). name is
 * NUL-terminated UTF-8; it is interned (rcy_str_intern), so the call makes
 * no str once the name is known. 0, RCY_EINVAL (NULL argument, invalid
 * name), RCY_ETYPE (obj has no attributes), RCY_ERUNTIME (value of another
 * runtime than obj), RCY_ESTATE (obj is being deallocated: its count is 0,
 * and the call comes from code its release runs, which releases the
 * attributes where they are) or RCY_ENOMEM (nothing changed). May run an automatic
 * collection (the first attribute of a class makes its dict, as does an
 * instance's attribute that outgrows the compact form).
 */
RCY_API int rcy_setattr(rcy_object_t *obj, const char *name, rcy_object_t *value);

/**
 * obj.name: looks in the instance's attributes, then in its class's (for
 * a class, in its own). Returns a borrowed reference, or NULL with RCY_EKEY
 * (no such attribute; Python's AttributeError), RCY_ETYPE, RCY_EINVAL or
 * RCY_ESTATE (obj is being deallocated, as for rcy_setattr: its values may
 * already be freed).
 * Allocates nothing; runs no user code.
 * Borrowed: valid only while something else holds the object and leaves the
 * attribute set, so not across anything that may run user code (a release,
 * an allocation of a container, a call): a user function that drops the
 * object or sets the attribute again frees what C still holds (in a Lisp,
 * `(def! f (fn* (x) x)) (f (def! f 0))` freed the running closure). Hold it
 * with rcy_newref, or use rcy_getattr_ref.
 */
RCY_API rcy_object_t *rcy_getattr(rcy_object_t *obj, const char *name);

/**
 * obj.name as a new reference in *out (CPython 3.13's
 * PyObject_GetOptionalAttr): returns 1 (found), 0 (no such attribute: *out
 * NULL, nothing recorded as the last error), or RCY_EINVAL / RCY_ETYPE
 * (*out NULL). Never allocates or runs user code.
 */
RCY_API int rcy_getattr_ref(rcy_object_t *obj, const char *name, rcy_object_t **out);

/** hasattr(obj, name): 1, 0, or RCY_EINVAL / RCY_ETYPE. */
RCY_API int rcy_hasattr(rcy_object_t *obj, const char *name);

/**
 * del obj.name (the object's own attribute, not its class's). Releases the
 * value, which may run finalizers. 0, RCY_EKEY, RCY_ETYPE, RCY_EINVAL or
 * RCY_ESTATE (obj is being deallocated, as for rcy_setattr). Allocates
 * nothing.
 */
RCY_API int rcy_delattr(rcy_object_t *obj, const char *name);

/*
 * The same three with the name as a str object (CPython's
 * PyObject_SetAttr, where rcy_setattr is PyObject_SetAttrString). With an
 * interned name (rcy_str_intern) that obj's class already knows, a call is
 * a pointer comparison per name of the class and no hashing: the form for a
 * runtime's inner loop. Any other str works too (its interned twin is
 * found, or made by rcy_setattr_str). Errors as the char * forms, and
 * RCY_ETYPE when name is not a str (checked before obj's type); a name of
 * another runtime than obj gives RCY_ERUNTIME to rcy_setattr_str and
 * RCY_EKEY to the other two (it equals no name of obj's: see "Runtimes and
 * threads").
 */

/** obj.name = value; as rcy_setattr (may collect, may run finalizers). */
RCY_API int rcy_setattr_str(rcy_object_t *obj, rcy_object_t *name, rcy_object_t *value);

/** obj.name: a borrowed reference, or NULL; as rcy_getattr. */
RCY_API rcy_object_t *rcy_getattr_str(rcy_object_t *obj, rcy_object_t *name);

/** del obj.name; as rcy_delattr (may run finalizers). */
RCY_API int rcy_delattr_str(rcy_object_t *obj, rcy_object_t *name);

/* ---- Callable objects -------------------------------------------------- */

/**
 * Calls callable with the nargs arguments args[0..nargs) (borrowed: the
 * caller keeps its references; args may be NULL when nargs is 0), through
 * its type's call slot (rcy_call_fn), as CPython's PyObject_Vectorcall.
 * Returns a new reference, or NULL with an error recorded on the runtime
 * (rcy_last_error, and rcy_error_message when the callee set one):
 * RCY_ETYPE (not callable: no call slot), RCY_EINVAL (nargs > 0 with args
 * NULL), RCY_EDEPTH (the calling thread's stack is nearly used up: calls
 * nest as deep as the stack allows, docs/design.md, Recursion), or the
 * callee's error (RCY_ECALLBACK when it returned NULL without recording
 * one). NULL callable: NULL, nothing recorded. Runs user code (the slot),
 * which may allocate, collect and release anything the caller does not
 * hold.
 *
 * Built-in callables: C functions (rcy_cfunction_new) and weak references
 * (calling one returns its referent, or None once it is gone, as CPython's
 * weakref.__call__; calling a finalize registration runs it now, as
 * rcy_finalize_call, and returns None).
 */
RCY_API rcy_object_t *rcy_call(rcy_object_t *callable, rcy_object_t *const *args, size_t nargs);

/** Nonzero if o (which may be NULL) has a call slot (Python's callable()). */
RCY_API int rcy_is_callable(const rcy_object_t *o);

/**
 * A C function wrapped by rcy_cfunction_new: called with the bound object
 * given there (NULL if none) and rcy_call's arguments; returns as a call
 * slot (rcy_call_fn): a new reference, or NULL with an error recorded.
 */
typedef rcy_object_t *(*rcy_cfunction_fn)(rcy_object_t *self, rcy_object_t *const *args, size_t nargs);

/**
 * Wraps fn as a callable object of type "builtin_function_or_method" (a
 * container; it supports weak references), bound to self (may be NULL):
 * the function holds a reference to self and the collector traverses it,
 * so state captured there (a closure's environment, a bound method's
 * object) takes part in cycles, which are collected. Returns a new
 * reference, or NULL with RCY_EINVAL (rt or fn NULL), RCY_ERUNTIME (self of
 * another runtime) or RCY_ENOMEM. May run an automatic collection.
 */
RCY_API rcy_object_t *rcy_cfunction_new(rcy_runtime_t *rt, rcy_cfunction_fn fn, rcy_object_t *self);

/**
 * rcy_cfunction_new with a name (CPython's __name__), copied into the
 * object: its description is then CPython's repr, "<built-in function
 * NAME>", or bound "<built-in method NAME of TYPE object at ADDRESS>", which
 * heap reports, referrer chains and DEBUG_SAVEALL listings show (an
 * unnamed function's names only its address). name NULL: unnamed, as
 * rcy_cfunction_new. Also RCY_EINVAL for a name rcy_type_new would refuse
 * (empty, not well-formed UTF-8, a control character). The name is copied
 * after the allocation, which may collect: it must stay valid through the
 * call, as self must stay alive (another C function's name, say, only
 * while the caller holds that function).
 */
RCY_API rcy_object_t *rcy_cfunction_new_named(rcy_runtime_t *rt, const char *name, rcy_cfunction_fn fn,
                                              rcy_object_t *self);

/** A C function's name (valid while o lives; NULL when o is unnamed or
    not a C function). */
RCY_API const char *rcy_cfunction_name(const rcy_object_t *o);

/** The object a C function is bound to (borrowed; NULL when unbound or
    when o is not a C function). */
RCY_API rcy_object_t *rcy_cfunction_self(const rcy_object_t *o);

/** The C function a C function object wraps (NULL when o is not one): a
    runtime tells its own kinds of C functions apart by it (a wrapper that
    carries metadata in its bound object, say). */
RCY_API rcy_cfunction_fn rcy_cfunction_function(const rcy_object_t *o);

/** The type of C functions ("builtin_function_or_method"). */
RCY_API rcy_type_t *rcy_cfunction_type(const rcy_runtime_t *rt);

/* ---- The cycle collector (CPython's gc module) ------------------------ */

/** gc debug flags, with CPython's values. Output goes to the output hook. */
enum rcy_gc_debug_e {
    RCY_DEBUG_STATS = 1,         /**< "gc: collecting generation N..." and totals */
    RCY_DEBUG_COLLECTABLE = 2,   /**< "gc: collectable <Type 0xADDR>" per object */
    RCY_DEBUG_UNCOLLECTABLE = 4, /**< "gc: uncollectable <Type 0xADDR>" per object */
    RCY_DEBUG_SAVEALL = 32,      /**< unreachable objects go to garbage, not freed */
    RCY_DEBUG_LEAK = 38          /**< COLLECTABLE | UNCOLLECTABLE | SAVEALL */
};

/** Number of generations (0 youngest, 2 oldest). */
#define RCY_GC_GENERATIONS 3

/**
 * Enables automatic collection. Returns the previous state (1 enabled, 0
 * disabled) or RCY_EINVAL for NULL.
 */
RCY_API int rcy_gc_enable(rcy_runtime_t *rt);

/**
 * Disables automatic collection (explicit rcy_gc_collect still works).
 * Returns the previous state or RCY_EINVAL.
 */
RCY_API int rcy_gc_disable(rcy_runtime_t *rt);

/** 1 if automatic collection is enabled, 0 if not, RCY_EINVAL for NULL. */
RCY_API int rcy_gc_isenabled(const rcy_runtime_t *rt);

/**
 * Collects generation `generation` (0, 1 or 2) and all younger ones, as
 * gc.collect(generation) does: survivors move to the next generation,
 * unreachable objects are finalized and freed, objects kept alive by legacy
 * finalizers go to the garbage list. A full collection (2) also empties the
 * built-in types' free lists. Runs finalizers and callbacks.
 * Returns the number of unreachable objects found (collected plus
 * uncollectable), 0 when a collection is already running (collections never
 * nest) or a heap walk runs (from a traverse slot or a tool's callback: see
 * rcy_traverse_fn), or RCY_EINVAL for NULL or a generation out of range.
 */
RCY_API intptr_t rcy_gc_collect(rcy_runtime_t *rt, int generation);

/**
 * Validates the whole heap of rt, as a debugging aid (O(heap); a library
 * compiled with RCY_DEBUG=3 does it before and after every collection and
 * at teardown, aborting on a failure). Checks that:
 * - every generation list and the permanent one is well formed (next and
 *   prev links agree, no list loops or is cut) and no tracked object
 *   carries a collection's flags;
 * - every tracked object is a container of one of rt's types, neither freed
 *   nor immortal, with a reference count > 0;
 * - no object has more references from tracked objects (as their traverse
 *   slots report them) than its reference count, which the collector would
 *   take for a heap corruption ("refcount is too small": a missing incref,
 *   an extra decref, or a traverse reporting a reference twice); no
 *   traverse reports a freed object, an object with a count <= 0, or an
 *   object of another runtime (immortal static objects excepted);
 * - the built-in lists' and tuples' traverse visits exactly the items the
 *   collector's shortcut for them visits;
 * - the census agrees: no type has more tracked objects than live ones,
 *   and its live bytes fit its live objects;
 * - the deferred-deallocation (trash) list is empty outside a deallocation
 *   and holds dead, untracked objects; each quarantined block (when
 *   poisoning) still reads as a freed object; the garbage list holds live
 *   objects and the immortal heap objects keep their count.
 * Returns 0 when all hold. On the first inconsistency, writes one line
 * through the output hook, "recycle: heap validation: <what>: object <Type
 * 0xADDR>" (with ", visited by the traverse of <Type 0xADDR>" when a
 * traverse reported it; a type that is not rt's is shown as "?"), leaves
 * the heap as it found it, and returns RCY_ECORRUPT. RCY_EINVAL for NULL;
 * RCY_ESTATE while a collection runs (from its callbacks, finalizers and
 * weak-reference callbacks), when the lists are in the collection's hands,
 * and inside another heap walk. Does not collect, allocate or change any
 * object; it calls the traverse slots of the tracked objects, a heap walk
 * (see rcy_traverse_fn).
 */
RCY_API int rcy_gc_validate(rcy_runtime_t *rt);

/**
 * Stores the three collection counts in counts: counts[0] is container
 * allocations minus deallocations since the last collection, counts[g] for
 * g >= 1 the number of collections of generation g-1 since the last one of
 * g. Returns 0 or RCY_EINVAL.
 */
RCY_API int rcy_gc_get_count(const rcy_runtime_t *rt, int counts[RCY_GC_GENERATIONS]);

/** Stores the three thresholds in thresholds. Returns 0 or RCY_EINVAL. */
RCY_API int rcy_gc_get_threshold(const rcy_runtime_t *rt, int thresholds[RCY_GC_GENERATIONS]);

/**
 * Sets the thresholds, as gc.set_threshold(t0, t1, t2). threshold0 == 0
 * turns automatic collection off. Returns 0, or RCY_EINVAL for NULL or a
 * negative value (nothing changed).
 */
RCY_API int rcy_gc_set_threshold(rcy_runtime_t *rt, int threshold0, int threshold1, int threshold2);

/** The debug flags (RCY_DEBUG_*), or RCY_EINVAL for NULL. */
RCY_API int rcy_gc_get_debug(const rcy_runtime_t *rt);

/**
 * The collector's modes (docs/design.md, "Incremental mode").
 *
 * RCY_GC_COMPAT, the default: CPython's generational collector exactly; an
 * automatic collection of the oldest generation stops the world for time
 * proportional to the heap.
 *
 * RCY_GC_INCREMENTAL: generation 0 works as in compat mode; a collection
 * of generation 1 is a young pass: at the point where compat mode would
 * run one, generation 0 is collected and generation 1 (with its
 * survivors) taken into a pass of bounded steps run after the
 * generation-0 collections that follow; it frees what that collection
 * would have found (the frees come a few young collections later),
 * promotes what is alive at its end, and counts as one collection of
 * generation 1 in rcy_gc_get_stats and the callbacks (after the young
 * collection whose step completed it, with steps and pass_duration set).
 * An explicit collection of generation 1 or 2 gives a young pass in
 * progress up first (its objects are generation 1's again). The
 * environment variable RCY_GC_INCR_YOUNG=0, read when a runtime is
 * created, runs generation-1 collections at once instead. The
 * oldest generation is collected by passes made of bounded steps, each run
 * at the end of an automatic young collection (inside its callbacks), with
 * the program running between steps. A pass ends with exact trial deletion
 * of what it suspects, so it frees only unreachable objects whatever the
 * program did meanwhile; what it finds goes through the same finalizer,
 * weak-reference and legacy-finalizer rules as any collection. Garbage
 * made while a pass runs waits for the next one. Explicit collections
 * (rcy_gc_collect) are unchanged: generation 2 is a full stop-the-world
 * collection (it gives up a pass in progress). A completed pass counts as
 * one collection of generation 2 in rcy_gc_get_stats and is reported to
 * the callbacks, start and stop, after the young collection whose step
 * completed it, with steps and pass_duration set. Counts, thresholds and
 * the 25 % rule keep their meaning: a pass starts when promotions reach
 * half of the 25 % (and the count of generation 2 its threshold), and is
 * paced to end before compat mode would collect; if the oldest generation
 * (plus external bytes, rcy_gc_charge_external) outgrows the last pass's
 * survivors by 25 %, the pass is finished at once (a longer pause, never
 * more memory). Heap walks (rcy_gc_get_objects, rcy_gc_get_referrers, the
 * tools), rcy_gc_freeze/unfreeze and rcy_gc_validate give the passes in
 * progress up (their objects go back to the oldest generation, a young
 * pass's to generation 1; nothing is freed or run) and see every tracked
 * object.
 */
typedef enum rcy_gc_mode_e { RCY_GC_COMPAT = 0, RCY_GC_INCREMENTAL = 1 } rcy_gc_mode_t;

/**
 * Sets the mode. Switching to compat gives up the passes in progress
 * (their objects go back to their generations; nothing is freed or run).
 * Returns 0, RCY_EINVAL (NULL, unknown mode) or RCY_ESTATE inside a heap
 * walk. Does not collect or allocate.
 */
RCY_API int rcy_gc_set_mode(rcy_runtime_t *rt, rcy_gc_mode_t mode);

/** The mode (RCY_GC_COMPAT for NULL). Never allocates. */
RCY_API rcy_gc_mode_t rcy_gc_get_mode(const rcy_runtime_t *rt);

/**
 * Charges `bytes` of memory that the container obj owns outside the
 * library (a buffer, a handle's memory) to obj's runtime, so that the
 * incremental collector paces and bounds the old generation by bytes as
 * well as objects (cycles holding large buffers, gh-98801): charged bytes
 * earn credit for the pass's steps, start a pass when they grow by an
 * eighth of the heap, and count in the backstop. The owner releases the
 * same amount (rcy_gc_release_external) when it frees the memory, normally
 * in its clear or dealloc slot. The runtime keeps one total, not one per
 * object. Compat mode counts the bytes and ignores them. obj is borrowed.
 * Returns 0, or RCY_EINVAL (NULL; a total that would overflow: nothing
 * changed). Never allocates, collects or runs code.
 */
RCY_API int rcy_gc_charge_external(rcy_object_t *obj, size_t bytes);

/** Releases bytes charged by rcy_gc_charge_external (obj borrowed).
    Returns 0, or RCY_EINVAL (NULL; more than the runtime's charged total:
    nothing changed). Never allocates, collects or runs code. */
RCY_API int rcy_gc_release_external(rcy_object_t *obj, size_t bytes);

/**
 * Runs the oldest generation's pass of incremental mode in the program's
 * idle time (an event loop waiting for input, a frame finished early): for
 * at most max_us microseconds of the calling thread's CPU time, or to the
 * pass's end if max_us is 0; a young pass in progress runs first, within
 * the same time (it completes as one collection of generation 1, reported
 * to the callbacks). A pass is started first if one is due (by
 * the rules that start one after a young collection: idle time does not
 * make passes more frequent). The work is not paid by credit; it lowers
 * the credit of the automatic steps that follow by at most one step, so
 * that a program idle often leaves its young collections little to do.
 * Like an automatic step, it may run finalizers, weak-reference callbacks
 * and gc callbacks (for a pass it completes: one collection of generation
 * 2, start and stop); the step itself is reported to no callback. The
 * bound is kept as a step keeps the pause target: the clock is read every
 * few microseconds' worth of work, and one object's traverse is never cut.
 * Without a thread CPU clock, one step's work (incr_step_work) is done
 * instead of max_us. It runs while automatic collection is disabled
 * (rcy_gc_disable) too, as rcy_gc_collect does. It allocates the pass's
 * arrays when it starts one (short of memory the pass is given up, nothing
 * freed). Returns 1 when it completed a pass of the oldest generation, 0 when work is
 * left, no pass was due, the mode is compat, or a collection or heap walk
 * is running (collections never nest); RCY_EINVAL for NULL.
 */
RCY_API int rcy_gc_incr_step(rcy_runtime_t *rt, size_t max_us);

/** Statistics of incremental mode (zeros in a runtime that never used it). */
typedef struct rcy_gc_incr_stats_s {
    size_t size;              /**< sizeof(rcy_gc_incr_stats_t), set by rcy_gc_incr_stats_init */
    uint64_t passes;          /**< passes completed */
    uint64_t passes_started;  /**< passes started */
    uint64_t aborted;         /**< passes given up (full collection, heap walk, freeze, mode switch) */
    uint64_t backstops;       /**< passes finished synchronously by the memory backstop */
    uint64_t out_of_memory;   /**< passes given up for want of memory for their arrays */
    uint64_t steps;           /**< steps run, in all passes */
    uint64_t work;            /**< work of the completed passes: objects visited plus references traversed */
    uint64_t largest_component; /**< the largest suspected component collected at once */
    uint64_t last_steps;      /**< the last completed pass: its steps */
    uint64_t last_work;       /**< ... its work */
    uint64_t last_snapshot;   /**< ... objects of the oldest generation it examined */
    uint64_t last_suspects;   /**< ... of them, those left suspected after its scan */
    uint64_t last_largest_component; /**< ... its largest suspected component */
    uint64_t last_collected;  /**< ... objects it freed */
    double last_duration;     /**< ... seconds from its start to its end (the program ran meanwhile) */
    double max_step_seconds;  /**< the longest step (wall clock), synchronous finishes aside */
    int in_pass;              /**< a pass is in progress */
    size_t external_bytes;    /**< bytes charged now (rcy_gc_charge_external) */
    uint64_t time_stops;      /**< steps stopped by the pause target before their work budget */
    uint64_t no_time;         /**< young collections with credit but no time left for a step */
    uint64_t early_starts;    /**< passes started before compat mode would collect: the tracked heap grew fast enough to reach the backstop before a pass could end */
    uint64_t wide_passes;     /**< passes whose array needed 8-byte entries (objects more than 64 GB apart) */
    uint64_t recent_passes;   /**< of the passes completed, recent ones: over the objects promoted since the last pass began alone (started on external bytes, or by the 25 % rule between full passes: docs/design.md, "Recent passes") */
    uint64_t idle_steps;      /**< calls of rcy_gc_incr_step that ran a pass (counted in steps too) */
    /* The young pass: generation-1 collections run in steps (docs/design.md, "The young pass"); the fields
       above are the old generation's passes'. Appended: the struct's older size is still accepted. */
    uint64_t young_passes;    /**< young passes completed (each one collection of generation 1) */
    uint64_t young_steps;     /**< their steps */
    uint64_t young_finished;  /**< young passes finished at once: the next was due before their steps ended (or rcy_gc_incr_step(rt, 0)) */
    uint64_t young_aborted;   /**< young passes given up (an explicit collection, a heap walk, freeze, mode switch) */
    uint64_t young_last_snapshot; /**< the last completed young pass: objects it examined */
    uint64_t young_last_collected; /**< ... objects it freed */
    double young_max_step_seconds; /**< the longest step of a young pass (wall clock), finishes at once aside */
    int young_in_pass;        /**< a young pass is in progress */
} rcy_gc_incr_stats_t;

/** Zeroes out and sets its size field. NULL is ignored. */
RCY_API void rcy_gc_incr_stats_init(rcy_gc_incr_stats_t *out);

/** Copies the incremental statistics into out, which rcy_gc_incr_stats_init
    prepared. 0, or RCY_EINVAL for NULL or a wrong size field (nothing
    written): sizeof(rcy_gc_incr_stats_t), or its size before the young
    pass's fields, offsetof(rcy_gc_incr_stats_t, young_passes), whose
    fields alone are then written. Never allocates. */
RCY_API int rcy_gc_get_incr_stats(const rcy_runtime_t *rt, rcy_gc_incr_stats_t *out);

/**
 * Sets the debug flags. Returns 0, or RCY_EINVAL for NULL or a flag that
 * is not an RCY_DEBUG_* value (nothing changed).
 */
RCY_API int rcy_gc_set_debug(rcy_runtime_t *rt, int flags);

/** Nonzero if the container o's finalizer has run (gc.is_finalized). */
RCY_API int rcy_gc_is_finalized(const rcy_object_t *o);

/**
 * A growable array of new references, filled by the introspection calls
 * below, rcy_census_by_type, rcy_get_leaking_objects and the chain searches.
 * Release it with rcy_objarray_release().
 *
 * Every call that fills one takes it empty: declare it zeroed
 * (`rcy_objarray_t a = {0};`) or pass one emptied by rcy_objarray_release.
 * An array that still holds references (len > 0) is refused with
 * RCY_EINVAL and left exactly as it was: overwriting it would leak its
 * references, and releasing them would run finalizers inside the call. On
 * any other failure the call leaves it empty.
 */
typedef struct rcy_objarray_s {
    rcy_object_t **items;
    size_t len;
    size_t cap;
    rcy_runtime_t *rt;
} rcy_objarray_t;

/**
 * Releases every reference in a, last first (as CPython releases a list's
 * items), and frees its storage; a becomes empty first, so finalizers run
 * by the releases see it empty, and it may be filled again. A zeroed array
 * and NULL are ignored.
 */
RCY_API void rcy_objarray_release(rcy_objarray_t *a);

/**
 * Fills out with new references to every tracked object in generation
 * `generation` (0..2), or in all generations when generation is -1; the
 * permanent (frozen) generation is not included. Returns 0, RCY_EINVAL for a
 * generation out of range or an out that is not empty (see rcy_objarray_t),
 * RCY_ESTATE inside another heap walk (from a traverse slot; see
 * rcy_traverse_fn), or RCY_ENOMEM (out is left empty). Allowed during a
 * collection, from a finalizer or callback (the objects being collected are
 * not in it), as in CPython.
 */
RCY_API int rcy_gc_get_objects(rcy_runtime_t *rt, int generation, rcy_objarray_t *out);

/**
 * Fills out with new references to the objects that objs[0..n) refer to,
 * as reported by their traverse slots (non-containers contribute nothing).
 * A heap walk (see rcy_traverse_fn). Returns 0, RCY_EINVAL (also: out not
 * empty), RCY_ERUNTIME (an object of another runtime than rt), RCY_ESTATE
 * inside another heap walk, or RCY_ENOMEM (out is left empty).
 */
RCY_API int rcy_gc_get_referents(rcy_runtime_t *rt, rcy_object_t *const *objs, size_t n, rcy_objarray_t *out);

/**
 * Fills out with new references to the tracked objects (generations 0-2,
 * not the permanent one) whose traverse visits any of objs[0..n). For
 * debugging: it walks the whole heap, a heap walk (see rcy_traverse_fn).
 * Returns 0, RCY_EINVAL (also: out not empty), RCY_ESTATE inside another
 * heap walk (from a traverse slot), or RCY_ENOMEM (out is left empty).
 * Allowed from a finalizer or callback during a collection, as in CPython.
 */
RCY_API int rcy_gc_get_referrers(rcy_runtime_t *rt, rcy_object_t *const *objs, size_t n, rcy_objarray_t *out);

/**
 * Moves every tracked object into the permanent generation, which
 * collections ignore, and resets the counts (gc.freeze). Returns 0,
 * RCY_EINVAL, or RCY_ESTATE inside a heap walk (from a traverse slot or a
 * tool's callback, including the collector's own passes: see
 * rcy_traverse_fn); from a finalizer or callback during a collection it
 * works, as in CPython.
 */
RCY_API int rcy_gc_freeze(rcy_runtime_t *rt);

/**
 * Moves the permanent generation back into the oldest one. 0, RCY_EINVAL,
 * or RCY_ESTATE inside a heap walk (as rcy_gc_freeze).
 */
RCY_API int rcy_gc_unfreeze(rcy_runtime_t *rt);

/** Number of objects in the permanent generation. */
RCY_API size_t rcy_gc_get_freeze_count(const rcy_runtime_t *rt);

/** Per-generation statistics (gc.get_stats, with 3.15's additions). */
typedef struct rcy_gc_stats_s {
    size_t size;            /**< sizeof(rcy_gc_stats_t), set by rcy_gc_stats_init */
    intptr_t collections;   /**< collections of this generation */
    intptr_t collected;     /**< objects freed by them */
    intptr_t uncollectable; /**< objects they found uncollectable */
    intptr_t candidates;    /**< objects they examined */
    double duration;        /**< seconds spent in them */
} rcy_gc_stats_t;

/** Zeroes the three entries of stats and sets their size fields. NULL is
    ignored. */
RCY_API void rcy_gc_stats_init(rcy_gc_stats_t stats[RCY_GC_GENERATIONS]);

/**
 * Copies the statistics of the three generations into stats, which
 * rcy_gc_stats_init prepared (the size fields are kept). 0, or RCY_EINVAL
 * for NULL or an entry whose size field is not sizeof(rcy_gc_stats_t)
 * (nothing written). Never allocates.
 */
RCY_API int rcy_gc_get_stats(const rcy_runtime_t *rt, rcy_gc_stats_t stats[RCY_GC_GENERATIONS]);

/**
 * The garbage list (gc.garbage): uncollectable objects and, with
 * RCY_DEBUG_SAVEALL, everything found unreachable. The runtime holds a
 * reference to each entry. rcy_gc_garbage_len() is its length and
 * rcy_gc_garbage_get() returns entry i (a borrowed reference, valid until
 * the list is cleared or a collection runs: hold it with rcy_newref before
 * running user code; NULL when out of range).
 */
RCY_API size_t rcy_gc_garbage_len(const rcy_runtime_t *rt);
RCY_API rcy_object_t *rcy_gc_garbage_get(const rcy_runtime_t *rt, size_t i);

/**
 * Empties the garbage list, releasing its references last first, as
 * gc.garbage.clear() does (the objects may then be freed by reference
 * counting or by a later collection). May run finalizers, which see the
 * list empty. Returns the number of entries removed, RCY_EINVAL, or
 * RCY_ESTATE inside a heap walk (see rcy_traverse_fn).
 */
RCY_API intptr_t rcy_gc_garbage_clear(rcy_runtime_t *rt);

/** What a collection callback is told (gc.callbacks' info dict). */
typedef struct rcy_gc_info_s {
    int generation;         /**< the oldest generation collected */
    intptr_t collected;     /**< 0 at "start" */
    intptr_t uncollectable; /**< 0 at "start" */
    intptr_t candidates;    /**< objects examined; 0 at "start" */
    double duration;        /**< seconds; 0 at "start" */
    /** Steps of the collection: 1 for a stop-the-world collection; for a
        pass of incremental mode (rcy_gc_set_mode), its steps, duration
        being the time spent in them. 0 at "start". */
    intptr_t steps;
    /** Seconds from the start of the collection to its end: duration for
        a stop-the-world collection; for an incremental pass, the time from
        its first step to its last, the program's included. 0 at "start". */
    double pass_duration;
} rcy_gc_info_t;

/** Callback phases. */
typedef enum rcy_gc_phase_e { RCY_GC_START = 0, RCY_GC_STOP = 1 } rcy_gc_phase_t;

/**
 * A collection callback (gc.callbacks): called with RCY_GC_START before a
 * collection does anything and with RCY_GC_STOP after garbage is handled.
 * A nonzero return is reported through the error hook ("Exception ignored
 * while calling GC callback ...") and the collection goes on. It may not
 * call rcy_gc_collect (that call would return 0), nor destroy rt (that
 * aborts: see rcy_runtime_destroy).
 */
typedef int (*rcy_gc_callback_fn)(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg);

/**
 * Registers a callback, called after those registered before it. Returns
 * 0, RCY_EINVAL for NULL, or RCY_ENOMEM.
 */
RCY_API int rcy_gc_callback_add(rcy_runtime_t *rt, rcy_gc_callback_fn fn, void *arg);

/**
 * Removes the first registration of (fn, arg). Returns 0, RCY_EINVAL, or
 * RCY_EKEY when it is not registered.
 */
RCY_API int rcy_gc_callback_remove(rcy_runtime_t *rt, rcy_gc_callback_fn fn, void *arg);

/* ---- Tracking -------------------------------------------------------- */

/**
 * Starts tracking a container in the youngest generation. Objects from
 * rcy_new are already tracked; this is for objects untracked with
 * rcy_gc_untrack. Returns 0, RCY_EINVAL for NULL, RCY_ETYPE for a
 * non-container, RCY_ESTATE if already tracked or immortal (also an
 * immortal that teardown is releasing), or inside a heap walk (see
 * rcy_traverse_fn). The tracking functions abort on a freed object.
 */
RCY_API int rcy_gc_track(rcy_object_t *o);

/**
 * Stops tracking a container (the collector will not see it; an untracked
 * object can hold no cycle the collector must free). No-op for an untracked
 * object or a non-container. Returns 0, RCY_EINVAL for NULL, or RCY_ESTATE
 * for a tracked object inside a heap walk (see rcy_traverse_fn).
 */
RCY_API int rcy_gc_untrack(rcy_object_t *o);

/** Nonzero if o is a container currently tracked by the collector. */
RCY_API int rcy_gc_is_tracked(const rcy_object_t *o);

/* ---- Weak references ------------------------------------------------- */

/**
 * A weak-reference callback: called with the weak reference (a borrowed
 * reference, already cleared: rcy_weakref_get returns NULL) once its
 * referent dies. It may run inside rcy_decref or inside a collection. A
 * negative return is reported through the error hook ("Exception ignored
 * on calling weakref callback ...").
 */
typedef int (*rcy_weakref_callback_fn)(rcy_object_t *wr, void *arg);

/**
 * Creates a weak reference to obj, whose type must support weak references
 * (spec.weaklistoffset != 0). Returns a new reference to a weakref object.
 * Without a callback, the existing callback-less weak reference to obj is
 * returned when there is one (as weakref.ref(o) is weakref.ref(o) in
 * CPython). When obj dies by reference counting, its weak references are
 * cleared and then their callbacks called, the most recently created first.
 * When obj dies in a collection, its weak references are cleared before any
 * finalizer runs, and a callback runs only if the weak reference itself is
 * not part of the garbage (CPython's rule). Returns NULL with RCY_EINVAL
 * (obj NULL), RCY_ETYPE (type without weak references) or RCY_ENOMEM. May
 * run an automatic collection. Aborts on a freed obj (its weak-reference
 * list is gone), as do the other weak-reference and finalize functions.
 */
RCY_API rcy_object_t *rcy_weakref_new(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg);

/**
 * Like rcy_weakref_new with a callable object as the callback (Python's
 * weakref.ref(obj, callback)): when obj dies, callable is called with the
 * weak reference as its one argument (rcy_call; the result is released; a
 * NULL result is reported through the error hook as "Exception ignored on
 * calling weakref callback ..."). The weak reference holds a reference to
 * callable and the collector traverses it, so a cycle through the
 * callback's captured state (a C function's bound object) is collected, as
 * in CPython; CPython's rules for garbage weak references hold as for the
 * C form (a weak reference that is garbage itself never calls back). Any
 * object is accepted as callable, as CPython does: one without a call slot
 * fails when it is called (RCY_ETYPE, reported). On a refcount death the
 * weak reference lets go of callable before calling it (the call holds
 * it), as CPython's PyObject_ClearWeakRefs. Returns a new reference (never
 * the shared callback-less one), or NULL with RCY_EINVAL (NULL callable),
 * RCY_ETYPE (obj without weak references), RCY_ERUNTIME (callable of
 * another runtime) or RCY_ENOMEM. May run an automatic collection.
 */
RCY_API rcy_object_t *rcy_weakref_new_callable(rcy_object_t *obj, rcy_object_t *callable);

/**
 * A release hook for the `void *` of the C-function forms of callbacks:
 * called once with that arg when the weak reference or registration lets
 * go of it, so that what arg points to can be freed (a closure's C state).
 * It is user code, run in a callback frame with the pending error kept
 * aside; it may release references, but must not call back into the
 * registration it belongs to.
 */
typedef void (*rcy_release_fn)(void *arg);

/**
 * rcy_weakref_new with a release hook for arg (callback must not be NULL:
 * else RCY_EINVAL). release(arg) runs once: after the callback's call on
 * a refcount death of obj (the weak reference then lets go of its
 * callback, as the callable form does), or when the weak reference dies
 * or the collector clears it. On failure (NULL) it is not called: arg
 * stays the caller's.
 */
RCY_API rcy_object_t *rcy_weakref_new_ex(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg,
                                 rcy_release_fn release);

/**
 * The referent of a weak reference: a new reference, or NULL once the
 * referent is gone (or when wr is not a weak reference). Also NULL while
 * the referent's death waits in the trashcan (deallocations nested past
 * its depth: its count is 0, its finalizer not run yet), as CPython's
 * weak references return None for an object whose count is 0; if that
 * finalizer resurrects it, the weak reference returns it again.
 */
RCY_API rcy_object_t *rcy_weakref_get(rcy_object_t *wr);

/** Nonzero if wr is a weak reference whose referent is alive (as
    rcy_weakref_get would return it). */
RCY_API int rcy_weakref_is_alive(const rcy_object_t *wr);

/** Nonzero if o is a weak reference (or a finalize registration). */
RCY_API int rcy_is_weakref(const rcy_object_t *o);

/** Number of weak references to obj (weakref.getweakrefcount). */
RCY_API size_t rcy_weakref_count(const rcy_object_t *obj);

/* ---- Weak maps (WeakValueDictionary, WeakKeyDictionary) --------------- */

/**
 * Creates an empty weak-value map (weakref.WeakValueDictionary): keys are
 * held strongly (any hashable object, see rcy_hash), values weakly; an
 * entry disappears as soon as its value dies, by reference counting or in
 * a collection (while the map itself is alive). Returns a new reference, or
 * NULL with RCY_EINVAL or RCY_ENOMEM. May run an automatic collection.
 */
RCY_API rcy_object_t *rcy_weakvaluedict_new(rcy_runtime_t *rt);

/**
 * Creates an empty weak-key map (weakref.WeakKeyDictionary): keys are held
 * weakly and compared by identity (keys are objects whose type supports
 * weak references, which compare by identity), values strongly; an entry
 * disappears as soon as its key dies. Returns a new reference, or NULL.
 */
RCY_API rcy_object_t *rcy_weakkeydict_new(rcy_runtime_t *rt);

/** Nonzero if o is a weak map. */
RCY_API int rcy_is_weakmap(const rcy_object_t *o);

/**
 * map[key] = value. The weakly held side (the value of a weak-value map,
 * the key of a weak-key map) must support weak references. Returns 0,
 * RCY_EINVAL (NULL, not a weak map), RCY_ETYPE (no weak references),
 * RCY_ERUNTIME (key or value of another runtime than the map), RCY_EHASH
 * (unhashable key), RCY_ESTATE (a map the collector has cleared) or
 * RCY_ENOMEM (the map unchanged); a failure is also recorded for
 * rcy_last_error, a success records nothing. May run an automatic
 * collection (whose finalizers and callbacks may change the map: the entry
 * is stored last, whatever they did), and releasing a replaced value may
 * run finalizers.
 */
RCY_API int rcy_weakmap_set(rcy_object_t *map, rcy_object_t *key, rcy_object_t *value);

/**
 * map[key]: a new reference to the value, or NULL with rcy_last_error
 * RCY_EKEY when the key is absent (or its entry's object just died; a key
 * of another runtime is never in the map), or RCY_ENOMEM (a weak-key map's
 * lookup makes an int of the key's address, which may need memory). Never
 * collects.
 */
RCY_API rcy_object_t *rcy_weakmap_get(rcy_object_t *map, rcy_object_t *key);

/**
 * del map[key]. Returns 0, RCY_EKEY, RCY_EINVAL or RCY_ENOMEM (as
 * rcy_weakmap_get). Releasing the entry may run finalizers, which may
 * change or release the map.
 */
RCY_API int rcy_weakmap_del(rcy_object_t *map, rcy_object_t *key);

/**
 * Removes every entry (WeakKeyDictionary.clear). Returns 0 or RCY_EINVAL.
 * Releasing the entries' objects may run finalizers; they see the map
 * empty (and may fill it again).
 */
RCY_API int rcy_weakmap_clear(rcy_object_t *map);

/**
 * Number of entries, or RCY_EINVAL. An entry goes the moment its weakly
 * held object dies, also during an iteration, so the count never includes
 * a dead entry (CPython gets the same count by subtracting the removals an
 * iterator deferred).
 */
RCY_API intptr_t rcy_weakmap_len(const rcy_object_t *map);

/**
 * Iterates a weak map in insertion order: start with *pos = 0; each call
 * stores new references to the next live entry's key and value (release
 * both) and returns 1, or returns 0 at the end, or RCY_EINVAL (bad
 * arguments, *pos < 0). The map may change during an iteration (entries
 * whose objects die, set, del, clear): iteration stays safe, never returns
 * a dead or removed entry, and ends; after a set or clear it may miss or
 * repeat entries (the map's table can be rebuilt), where CPython raises
 * "dictionary changed size during iteration".
 */
RCY_API int rcy_weakmap_next(rcy_object_t *map, intptr_t *pos, rcy_object_t **key, rcy_object_t **value);

/* ---- Finalize registrations (weakref.finalize) ------------------------ */

/** A finalize callback; a negative return is reported through the error hook. */
typedef int (*rcy_finalize_callback_fn)(void *arg);

/**
 * Registers fn(arg) to run once when obj dies, whether by reference
 * counting or in a collection (the registration is kept alive by the
 * runtime, so its callback always runs), or at runtime teardown if obj is
 * still alive then (remaining registrations run in reverse order of
 * registration, before the final collection; registrations made by those
 * callbacks run too, as in CPython's weakref.finalize, within teardown's
 * work budget: see rcy_runtime_destroy). arg must not keep obj alive.
 * Returns a new reference to the registration (releasing it does not
 * cancel it), or NULL with RCY_EINVAL, RCY_ETYPE (obj without weak
 * references) or RCY_ENOMEM.
 */
RCY_API rcy_object_t *rcy_finalize_register(rcy_object_t *obj, rcy_finalize_callback_fn fn, void *arg);

/**
 * Like rcy_finalize_register with a callable object: registers
 * callable(*args) (weakref.finalize(obj, func, *args)) to run once when obj
 * dies or at teardown. The registration takes references to callable and
 * to the nargs arguments args[0..nargs), traversed by the collector, and
 * releases them once it has run or is detached. As in
 * CPython, they must not refer to obj (the registration is kept alive by
 * the runtime: obj would never die). A NULL result of the call is reported
 * through the error hook ("Exception ignored in finalize callback ...").
 * Returns a new reference, or NULL with RCY_EINVAL (NULL callable, nargs >
 * 0 with args NULL, a NULL argument), RCY_ETYPE, RCY_ERUNTIME (callable or
 * an argument of another runtime) or RCY_ENOMEM. May run an automatic
 * collection.
 */
RCY_API rcy_object_t *rcy_finalize_register_callable(rcy_object_t *obj, rcy_object_t *callable, rcy_object_t *const *args,
                                             size_t nargs);

/**
 * rcy_finalize_register with a release hook for arg (may be NULL: then as
 * rcy_finalize_register): release(arg) runs once, after fn(arg) ran, or
 * when the registration is detached (rcy_finalize_detach, or dropped unrun
 * at teardown). On failure (NULL) it is not called.
 */
RCY_API rcy_object_t *rcy_finalize_register_ex(rcy_object_t *obj, rcy_finalize_callback_fn fn, void *arg,
                                       rcy_release_fn release);

/**
 * Runs a registration's callback now if it has not run and was not
 * detached (weakref.finalize.__call__). Returns 1 if it ran, 0 if not,
 * RCY_EINVAL if f is not a registration.
 */
RCY_API int rcy_finalize_call(rcy_object_t *f);

/**
 * Cancels a registration (finalize.detach). Returns 1 if it was alive, 0
 * if it had already run or been detached, RCY_EINVAL if f is not one.
 */
RCY_API int rcy_finalize_detach(rcy_object_t *f);

/** 1 if the registration will still run (finalize.alive), else 0. */
RCY_API int rcy_finalize_alive(const rcy_object_t *f);

/**
 * Controls whether a registration still alive at teardown runs then
 * (finalize.atexit, default 1). Returns 0 or RCY_EINVAL.
 */
RCY_API int rcy_finalize_set_atexit(rcy_object_t *f, int atexit);

/* ---- Leak-debugging tools ---------------------------------------------- */

/*
 * objgraph for C, built on per-type counters and exact traverse edges; see
 * docs/leak-hunting.md for a walk-through and docs/design.md for the
 * choices. None of these calls runs a collection or user code unless its
 * comment says so. The calls that look at the heap (by_type, the chains,
 * leaking objects, external counts, the graphs) take one pass over every
 * tracked object (all generations and the permanent one), plus the
 * untracked objects those reach (strs, ints, untracked tuples); an
 * untracked object that only C code holds cannot be found that way (the
 * census still counts it). They refuse to run during a collection or
 * another heap walk (RCY_ESTATE) and allocate their scratch memory through
 * the runtime's allocator (RCY_ENOMEM when it fails; nothing is changed).
 * They are heap walks themselves, from start to return: the traverse slots
 * they call and their own callbacks (predicates, filters, extra_info, and
 * describe slots and the output hook when they print) run inside the walk,
 * where a collection is refused (rcy_gc_collect returns 0), as are freeze,
 * track/untrack and other walks (RCY_ESTATE; see rcy_traverse_fn). The
 * tools that run callbacks (chain searches with a predicate, the graphs)
 * hold a reference to every object of their snapshot until they return, so
 * a callback that releases references frees nothing under the walk (what
 * it released goes when the tool returns); rcy_getrefcount inside a
 * callback counts that reference, the external counts given to
 * predicates and drawn in graphs do not.
 *
 * Edge labels. The graph tools label every edge with what the visit
 * callback was given: a list or tuple item by its index ("[2]"), a dict
 * value by its key ("name", or "[42]" for a key that is not an identifier),
 * a dict's reference to a key as "key", a class or instance's attribute
 * dict as "__dict__" and an instance's class as "__class__", and a field of
 * a user type by the expression given to RCY_VISIT without its leading
 * "self->" part (RCY_VISIT(self->next) gives "next"). A built-in dict's
 * traverse labels a value by the text of its key when the key is a str (the
 * label then points into the key and is valid during the visit call), else
 * "value"; keys are labelled "key" and always come just before their value.
 */

/**
 * Like RCY_VISIT, with an explicit edge label (a string that outlives the
 * call): RCY_VISIT_NAMED(self->slots[k], "handler") is labelled "handler".
 */
#define RCY_VISIT_NAMED(o, name)                                                                   \
    do {                                                                                           \
        if ((o) != NULL) {                                                                         \
            int rcy_visit_ret_ = visit((rcy_object_t *)(o), (name), -1, arg);                      \
            if (rcy_visit_ret_ != 0)                                                               \
                return rcy_visit_ret_;                                                             \
        }                                                                                          \
    } while (0)

/* -- Census: counts kept as objects are created and freed (no heap walk) -- */

/** One row of the census: a type name, its live objects and their bytes. */
typedef struct rcy_typestat_s {
    const char *name; /**< borrowed from the type: valid as long as the runtime */
    size_t count;     /**< live objects of every type with this name */
    size_t bytes;     /**< their bytes, GC headers included, private buffers not */
} rcy_typestat_t;

/** A census: rows allocated by the runtime; release with rcy_typestats_release. */
typedef struct rcy_typestats_s {
    rcy_typestat_t *items;
    size_t len;
    rcy_runtime_t *rt;
} rcy_typestats_t;

/**
 * Number of live objects whose type is named type_name (objgraph's count):
 * types that share a name (two classes called "Node") are counted together.
 * Untracked objects (ints, strs, untracked tuples) are counted too; the
 * immortal built-in singletons (small ints, the empty tuple) are not. O(number
 * of types). 0 for NULL arguments or an unknown name.
 */
RCY_API size_t rcy_census_count(const rcy_runtime_t *rt, const char *type_name);

/** Bytes of the live objects counted by rcy_census_count(rt, type_name). */
RCY_API size_t rcy_census_bytes(const rcy_runtime_t *rt, const char *type_name);

/**
 * Fills out with one row per type name that has live objects, sorted by
 * name (objgraph's typestats, with bytes). Returns 0, RCY_EINVAL or
 * RCY_ENOMEM (out left empty). Release out with rcy_typestats_release.
 */
RCY_API int rcy_census_typestats(rcy_runtime_t *rt, rcy_typestats_t *out);

/**
 * Like rcy_census_typestats, sorted by count (most first; ties by name) and
 * cut to limit rows (0: all): objgraph's most_common_types.
 */
RCY_API int rcy_census_most_common_types(rcy_runtime_t *rt, size_t limit, rcy_typestats_t *out);

/** Frees a census' rows; s becomes empty. NULL is ignored. */
RCY_API void rcy_typestats_release(rcy_typestats_t *s);

/**
 * Prints the limit (0: all) most common types, one "name count bytes" row
 * each, names padded to the widest (objgraph's show_most_common_types, with
 * a bytes column), to out, or through the runtime's output hook when out is
 * NULL. Returns 0, RCY_EINVAL or RCY_ENOMEM.
 */
RCY_API int rcy_census_show_most_common_types(rcy_runtime_t *rt, size_t limit, FILE *out);

/**
 * Fills out with new references to the live objects whose type is named
 * type_name (objgraph's by_type): the tracked ones, and the untracked ones
 * that some tracked object (or an untracked container it reaches) refers
 * to. Objects held only from C variables and not tracked cannot be found:
 * compare out->len with rcy_census_count. Returns 0, RCY_EINVAL (also: out
 * not empty, see rcy_objarray_t), RCY_ESTATE (during a collection) or
 * RCY_ENOMEM (out left empty).
 */
RCY_API int rcy_census_by_type(rcy_runtime_t *rt, const char *type_name, rcy_objarray_t *out);

/* -- Growth: what increased since the last call, and over the peak -- */

/**
 * A growth tracker: the counts of the previous call and the highest counts
 * seen, per type name (objgraph's peak_stats, as an explicit handle).
 */
typedef struct rcy_growth_s rcy_growth_t;

/** Creates a tracker that has seen nothing yet. NULL with RCY_ENOMEM/EINVAL. */
RCY_API rcy_growth_t *rcy_growth_new(rcy_runtime_t *rt);

/** Frees a tracker (before its runtime is destroyed). NULL is ignored. */
RCY_API void rcy_growth_free(rcy_growth_t *g);

/** Which increase selects and orders the rows of a growth report. */
typedef enum rcy_growth_since_e {
    RCY_GROWTH_SINCE_PEAK = 0, /**< count above the highest count of earlier calls (objgraph) */
    RCY_GROWTH_SINCE_LAST = 1  /**< count above the count of the previous call */
} rcy_growth_since_t;

/** Growth options; start from rcy_growth_options_init (or pass NULL). */
typedef struct rcy_growth_options_s {
    size_t size;              /**< sizeof(rcy_growth_options_t), set by rcy_growth_options_init */
    size_t limit;             /**< rows at most, 0 for all; default 10 */
    int collect;              /**< nonzero: full collection first (objgraph does); default 1 */
    rcy_growth_since_t since; /**< default RCY_GROWTH_SINCE_PEAK */
} rcy_growth_options_t;

/** Fills opts with the defaults (limit 10, collect first, since the peak)
    and sets its size field. NULL is ignored. */
RCY_API void rcy_growth_options_init(rcy_growth_options_t *opts);

/** One type that grew. Both deltas are against the state before this call. */
typedef struct rcy_growth_row_s {
    const char *name;   /**< borrowed from the type */
    size_t count;       /**< live objects now */
    intptr_t delta;     /**< count minus the count of the previous call */
    intptr_t delta_peak; /**< count minus the highest count of earlier calls */
    size_t bytes;       /**< their bytes now */
    intptr_t bytes_delta; /**< bytes minus the bytes of the previous call */
} rcy_growth_row_t;

/** A growth report; release with rcy_growth_report_release. */
typedef struct rcy_growth_report_s {
    rcy_growth_row_t *items;
    size_t len;
    rcy_runtime_t *rt;
} rcy_growth_report_t;

/**
 * Takes the census (after a full collection when opts->collect, which runs
 * finalizers and callbacks), reports the type names that grew (over the
 * peak or since the last call, per opts->since), largest increase first,
 * and remembers the counts for the next call (the first call reports every
 * type). Returns 0, RCY_EINVAL (also for opts whose size field is not
 * sizeof(rcy_growth_options_t)) or RCY_ENOMEM (out empty, g unchanged).
 */
RCY_API int rcy_growth(rcy_growth_t *g, const rcy_growth_options_t *opts, rcy_growth_report_t *out);

/** Frees a report's rows. NULL is ignored. */
RCY_API void rcy_growth_report_release(rcy_growth_report_t *r);

/**
 * rcy_growth, printed as "name count +delta" rows (objgraph's show_growth;
 * the third column is the increase since the last call, the fourth over the
 * peak) to out, or through the output hook when out is NULL. Prints nothing
 * when nothing grew. Returns 0, RCY_EINVAL or RCY_ENOMEM.
 */
RCY_API int rcy_show_growth(rcy_growth_t *g, const rcy_growth_options_t *opts, FILE *out);

/* -- Roots, external references, leaking objects, chains -- */

/**
 * Registers obj as a named root (a module, a global table, an interpreter's
 * globals): the chain tools stop at it and the graphs draw it in green with
 * its name. The registry holds a strong reference (a root is something the
 * program keeps for the runtime's life), released by rcy_root_remove or at
 * runtime teardown; that reference is not counted by rcy_external_refcount.
 * name is copied. Returns 0, RCY_EINVAL (NULL), RCY_ESTATE (already a root)
 * or RCY_ENOMEM.
 */
RCY_API int rcy_root_add(rcy_object_t *obj, const char *name);

/**
 * Unregisters a root and releases the registry's reference (which may run
 * finalizers). Returns 0, RCY_EINVAL or RCY_EKEY (not a root).
 */
RCY_API int rcy_root_remove(rcy_object_t *obj);

/** The name obj was registered with (borrowed), or NULL if it is no root. */
RCY_API const char *rcy_root_name(const rcy_object_t *obj);

/**
 * The exact number of references to obj from outside the heap: its
 * reference count minus the references from containers the tools see
 * (tracked ones, and untracked containers they reach) and minus those held
 * by the runtime's own tables (the root registry, the garbage list). What
 * is left is held by C code: local and global variables, or a missing
 * decref. Immortal objects give RCY_REFCNT_IMMORTAL. Walks the heap once.
 * Returns the count, or RCY_EINVAL, RCY_ESTATE or RCY_ENOMEM.
 */
RCY_API intptr_t rcy_external_refcount(rcy_object_t *obj);

/**
 * Fills out with new references to the tracked objects that no object of
 * the heap refers to (objgraph's get_leaking_objects), registered roots and
 * garbage-list entries left out: each is held only from outside the heap,
 * by C code, legitimately or by a forgotten reference; rcy_external_refcount
 * tells by how many. Does not collect. Returns 0, RCY_EINVAL (also: out not
 * empty, see rcy_objarray_t), RCY_ESTATE or RCY_ENOMEM (out left empty).
 */
RCY_API int rcy_get_leaking_objects(rcy_runtime_t *rt, rcy_objarray_t *out);

/**
 * A chain predicate, called for the objects a chain search reaches (the
 * start object included, at depth 0) with their exact external reference
 * count (see rcy_external_refcount). Return > 0 to end the chain at obj, 0
 * to go on through it, < 0 to ignore obj (never pass through it: objgraph's
 * extra_ignore). It runs inside the search's heap walk (see the tools'
 * introduction above): it may release references, not collect.
 */
typedef int (*rcy_chain_predicate_fn)(rcy_object_t *obj, intptr_t external, void *arg);

/**
 * Why is obj alive? Searches the referrers of obj breadth first (with a
 * reverse index built in one pass over the heap) for the nearest object
 * that is_root accepts, going at most max_depth references back (0 means
 * objgraph's 20; negative is RCY_EINVAL), and fills out with new references to the chain
 * [root, ..., obj], each item referring to the next. With is_root NULL the
 * roots are the registered roots (found first if any is within max_depth),
 * else the nearest object held from outside the heap (external count > 0;
 * for obj itself only a registration counts, as the caller holds it). When
 * no root is found, out holds [obj] alone. Does not collect. Returns 1
 * (found), 0 (not found), or RCY_EINVAL (also: out not empty, see
 * rcy_objarray_t), RCY_ESTATE, RCY_ENOMEM (out empty).
 */
RCY_API int rcy_find_backref_chain(rcy_object_t *obj, rcy_chain_predicate_fn is_root, void *arg, int max_depth,
                                   rcy_objarray_t *out);

/**
 * The forward twin: searches what obj refers to, breadth first, for the
 * nearest object predicate accepts (must not be NULL) and fills out with
 * [obj, ..., match]; [obj] when none is within max_depth (0: 20). Returns
 * 1, 0, or RCY_EINVAL (also: out not empty), RCY_ESTATE, RCY_ENOMEM.
 */
RCY_API int rcy_find_ref_chain(rcy_object_t *obj, rcy_chain_predicate_fn predicate, void *arg, int max_depth,
                               rcy_objarray_t *out);

/**
 * Writes a chain (each item referring to the next, as both chain searches
 * give) as a path: the first item by its root name or description, then
 * every edge by its label, e.g. "registry['sessions'][2].user" (an
 * instance attribute reached through its __dict__ is written ".name").
 * When allocation sites were recorded (rcy_sites_start) for items of the
 * chain, they follow, in chain order: "globals['cache'][75]  (allocated:
 * list at app.c:65, Session at app.c:31)".
 * Finding the edges calls traverse slots and describes keys: a heap walk
 * (see rcy_traverse_fn). Returns the length of the whole path (snprintf's
 * convention: it was cut if >= size; a path longer than INT_MAX bytes gives
 * INT_MAX), RCY_EINVAL (chain NULL, len > 0 with items NULL or a NULL item,
 * buf NULL with size > 0), or RCY_ESTATE inside another heap walk.
 */
RCY_API int rcy_chain_format(const rcy_objarray_t *chain, char *buf, size_t size);

/* -- Graphs: Graphviz DOT, objgraph's show_refs / show_backrefs / show_chain -- */

/** Filter and highlight callbacks: nonzero keeps / highlights obj. They run
    inside the graph's heap walk: they may release references, not collect. */
typedef int (*rcy_graph_pred_fn)(rcy_object_t *obj, void *arg);

/** Extra information for obj's node: write at most size bytes (NUL
    included) into buf; return the length (0: nothing). */
typedef int (*rcy_graph_info_fn)(rcy_object_t *obj, char *buf, size_t size, void *arg);

/** Image formats, for a graph written without a filename. */
typedef enum rcy_graph_format_e {
    RCY_GRAPH_PNG = 0, /**< objgraph's default */
    RCY_GRAPH_SVG = 1,
    RCY_GRAPH_DOT = 2 /**< no rendering */
} rcy_graph_format_t;

/** Graph options; start from rcy_graph_options_init (or pass NULL). */
typedef struct rcy_graph_options_s {
    size_t size;                /**< sizeof(rcy_graph_options_t), set by rcy_graph_options_init */
    int max_depth;              /**< nodes this far from the start are drawn, not expanded; default 3 */
    int too_many;               /**< edges drawn per node, the rest summed in a "N more" node; default 10 */
    rcy_graph_pred_fn filter;   /**< NULL, or: neighbours it rejects are left out */
    rcy_graph_pred_fn highlight; /**< NULL, or: nodes it accepts are drawn in blue */
    rcy_graph_info_fn extra_info; /**< NULL, or: an extra line in each node */
    void *arg;                  /**< passed to the three callbacks */
    rcy_object_t *const *extra_ignore; /**< objects never drawn as neighbours */
    size_t n_extra_ignore;
    int refcounts;              /**< nonzero: "[refcount]" after the type, and the external count */
    FILE *output;               /**< write the DOT text to this stream (no file, no rendering) */
    /** Write to this file: ".dot" or ".gv" as DOT; any other extension
        (".png", ".svg", ...) is rendered with Graphviz's `dot -T<ext>` from
        the DOT text kept beside it (name.dot). With neither output nor
        filename, a temporary rcy-graph-XXXXXX.dot is written (in $TMPDIR or
        /tmp) and rendered in `format`. */
    const char *filename;
    rcy_graph_format_t format;  /**< for the temporary file; default PNG */
    char *path_out;             /**< NULL, or receives the path of the image (the DOT file when not rendered) */
    size_t path_out_size;
} rcy_graph_options_t;

/** Fills opts with the defaults (max_depth 3, too_many 10, PNG, no
    callbacks) and sets its size field. NULL is ignored. */
RCY_API void rcy_graph_options_init(rcy_graph_options_t *opts);

/**
 * Draws the objects objs[0..n) and what they refer to, breadth first to
 * max_depth (objgraph's show_refs), every edge labelled (see "Edge labels"
 * above); nodes are shaded by depth, start objects have red text,
 * registered roots are green, a type with a finalizer gets a red "__del__"
 * mark. Prints "Graph written to PATH (N nodes)" and "Image generated as
 * PATH" through the output hook (not when writing to opts->output). When
 * Graphviz's dot is missing or fails, says so there and keeps the DOT file.
 * Runs no collection; runs only the callbacks of opts, and dot in a child
 * process. Returns 0 (written, and rendered when asked), 1 (DOT written but
 * not rendered), RCY_EINVAL (no objects, a NULL one, both output and
 * filename, opts whose size field is not sizeof(rcy_graph_options_t)),
 * RCY_ERUNTIME (objects of two runtimes: a graph shows one
 * runtime's heap), RCY_ESTATE (a file cannot be written, or during a
 * collection or another heap walk) or RCY_ENOMEM.
 */
RCY_API int rcy_show_refs(rcy_object_t *const *objs, size_t n, const rcy_graph_options_t *opts);

/**
 * Like rcy_show_refs over referrers (objgraph's show_backrefs): draws what
 * refers to objs, and what refers to those, up to max_depth; registered
 * roots are drawn but not expanded (objgraph stops at modules). Edges still
 * point from the referrer to the object it refers to.
 */
RCY_API int rcy_show_backrefs(rcy_object_t *const *objs, size_t n, const rcy_graph_options_t *opts);

/**
 * Draws chains found by rcy_find_backref_chain (backrefs nonzero) or
 * rcy_find_ref_chain: only their objects (opts->filter, if any, must accept
 * them too), to the depth of the longest chain (objgraph's show_chain).
 * Empty chains are skipped. Returns as rcy_show_refs (RCY_EINVAL also for
 * a chain with len > 0 and items NULL, or a NULL item).
 */
RCY_API int rcy_show_chain(const rcy_objarray_t *chains, size_t n_chains, int backrefs,
                           const rcy_graph_options_t *opts);

/* -- Retained sizes: the dominator tree of the heap -- */

/*
 * Object d dominates object o when every path from the roots to o passes
 * through d; what d retains is what it dominates, itself included: the
 * objects that would be freed if the references to d went away (heapy's
 * domisize). The roots are the registered roots (rcy_root_add), the
 * gc.garbage list's entries and the objects held from outside the heap
 * (external count > 0, see rcy_external_refcount: C variables, immortal
 * objects); an object none of them reaches (cyclic garbage awaiting a
 * collection) is a root of its own. An object a C variable holds is a
 * root: it is not retained by the containers that also refer to it. Bytes
 * are counted as the census counts them (GC headers included, private
 * buffers such as a list's item array not). The tree is computed in one
 * heap walk and O(m log n) time (Lengauer-Tarjan), without recursion; the
 * calls below run no collection and no user code except where said.
 */

/** Why an object is a root of the dominator tree (rcy_retainer_t.root_kind). */
typedef enum rcy_root_kind_e {
    RCY_ROOT_KIND_NONE = 0,       /**< not a root: some other object dominates it */
    RCY_ROOT_KIND_REGISTERED = 1, /**< registered with rcy_root_add */
    RCY_ROOT_KIND_GARBAGE = 2,    /**< on the gc.garbage list */
    RCY_ROOT_KIND_EXTERNAL = 3,   /**< held from outside the heap (or immortal) */
    RCY_ROOT_KIND_UNREACHED = 4   /**< reached from no other root (cyclic garbage) */
} rcy_root_kind_t;

/** What one object keeps alive. */
typedef struct rcy_retained_s {
    size_t size;              /**< sizeof(rcy_retained_t), set by rcy_retained_init */
    size_t bytes;             /**< retained bytes: obj and everything it dominates */
    size_t objects;           /**< retained objects, obj included */
    size_t self_bytes;        /**< obj's own bytes */
    rcy_object_t *dominator;  /**< a new reference to obj's immediate dominator, NULL for a root */
    int is_root;              /**< nonzero when obj is a root of the tree */
} rcy_retained_t;

/** Zeroes *out and sets its size field. NULL is ignored. */
RCY_API void rcy_retained_init(rcy_retained_t *out);

/**
 * Fills *out, which rcy_retained_init prepared, with the bytes and objects
 * kept alive only through obj, and its immediate dominator (a new reference
 * the caller releases; NULL when obj is a root). A reference the caller
 * holds makes obj a root (it is held from outside the heap) without
 * changing what obj retains; to see obj's dominator, pass a pointer
 * borrowed from the heap (rcy_list_get). Walks the heap once and builds
 * the whole tree: for many objects,
 * rcy_largest_retainers or a snapshot is cheaper. Returns 0, RCY_EINVAL
 * (also: out's size field is not sizeof(rcy_retained_t)),
 * RCY_ESTATE (during a collection or another heap walk) or RCY_ENOMEM.
 */
RCY_API int rcy_retained_size(rcy_object_t *obj, rcy_retained_t *out);

/** One of the largest retainers. */
typedef struct rcy_retainer_s {
    rcy_object_t *obj;        /**< a new reference */
    const char *type_name;    /**< borrowed from the type */
    size_t bytes;             /**< retained bytes */
    size_t objects;           /**< retained objects */
    size_t self_bytes;        /**< its own bytes */
    int root_kind;            /**< an rcy_root_kind_t */
    rcy_object_t *dominator;  /**< a new reference to its immediate dominator, or NULL */
} rcy_retainer_t;

/** The largest retainers; release with rcy_retainers_release. */
typedef struct rcy_retainers_s {
    rcy_retainer_t *items;
    size_t len;
    rcy_runtime_t *rt;
} rcy_retainers_t;

/**
 * Fills out with the n objects (0: 10) that retain the most bytes, most
 * first (ties: heap order), the static singletons left out. A retainer's
 * dominator retains at least as much, so a chain's head comes before its
 * links. Returns 0, RCY_EINVAL, RCY_ESTATE or RCY_ENOMEM (out empty).
 */
RCY_API int rcy_largest_retainers(rcy_runtime_t *rt, size_t n, rcy_retainers_t *out);

/** Releases the rows' references (which may run finalizers) and frees them. NULL is ignored. */
RCY_API void rcy_retainers_release(rcy_retainers_t *r);

/**
 * Prints rcy_largest_retainers as a table (type, retained bytes, retained
 * objects, own bytes, description, why it is a root, and its allocation
 * site when one was recorded) to out, or through
 * the output hook when out is NULL. Runs describe slots and the output
 * hook (the rows hold their objects meanwhile). Returns as
 * rcy_largest_retainers.
 */
RCY_API int rcy_show_largest_retainers(rcy_runtime_t *rt, size_t n, FILE *out);

/** "root", "gc.garbage", "held from outside", "unreachable", or "" (static strings). */
RCY_API const char *rcy_retainer_root_kind_name(int kind);

/* -- Allocation sites and stable object ids -- */

/*
 * Where was this allocated? Compile the code whose allocations you want to
 * see with RCY_TRACE_SITES defined before including recycle.h: the
 * allocation calls (rcy_new, rcy_new_var, rcy_list_new, rcy_list_new_from,
 * rcy_dict_new, rcy_tuple_new, rcy_instance_new) become macros that pass
 * their __FILE__ and __LINE__ to rcy_record_site. Then rcy_sites_start
 * records, for every such container allocated (or 1 in `sample`), its
 * site, and optionally a backtrace from a hook (glibc's backtrace fits).
 * Without RCY_TRACE_SITES nothing changes: the library's allocation paths
 * are the same code with or without tracing (docs/design.md, "Allocation
 * sites and object ids"). The site is kept in a side table keyed by the
 * object, not in its header, and forgotten when the object dies; it is
 * shown by the census by site, the graphs (an "at file:line" line), the
 * chain paths, the snapshots, the heap dump and the report.
 *
 * Stable ids: rcy_object_id gives an object a serial number (from 1) that
 * it keeps until it dies and that no other object ever gets, unlike its
 * address, which the allocator reuses. The snapshots and the heap dump
 * give one to every object they see.
 */

/** A backtrace hook: fills frames[0..max) with return addresses, returns how many (glibc's backtrace). */
typedef int (*rcy_backtrace_fn)(void **frames, int max);

/** Options of rcy_sites_start; start from rcy_sites_options_init. */
typedef struct rcy_sites_options_s {
    size_t size;                /**< sizeof(rcy_sites_options_t), set by rcy_sites_options_init */
    unsigned sample;            /**< record 1 allocation in `sample` on average (random); 0 or 1: all; default 1 */
    rcy_backtrace_fn backtrace; /**< NULL (default): the file:line tag only */
    int max_frames;             /**< frames kept per site, at most 64; default 8 */
} rcy_sites_options_t;

/** Fills opts with the defaults (every allocation, no backtrace) and its size field. */
RCY_API void rcy_sites_options_init(rcy_sites_options_t *opts);

/**
 * Starts (or restarts with new options) recording allocation sites. The
 * backtrace hook runs inside the allocation call that is recorded; it may
 * not use the runtime. opts NULL means the defaults. Returns 0, RCY_EINVAL
 * (also: opts' size field is not sizeof(rcy_sites_options_t)) or RCY_ENOMEM.
 */
RCY_API int rcy_sites_start(rcy_runtime_t *rt, const rcy_sites_options_t *opts);

/**
 * Stops recording; every object forgets its site (the census by site
 * becomes empty; the site names stay valid for the runtime's life). Ids
 * are kept. Returns 0 or RCY_EINVAL.
 */
RCY_API int rcy_sites_stop(rcy_runtime_t *rt);

/** Nonzero while sites are recorded. */
RCY_API int rcy_sites_is_tracing(const rcy_runtime_t *rt);

/**
 * Records obj's allocation site (what the RCY_TRACE_SITES macros call;
 * file must outlive the runtime, as __FILE__ does) when recording is on and
 * the sampling picks this call; returns obj (NULL stays NULL). Never fails:
 * without memory the object goes unrecorded. Runs the backtrace hook.
 */
RCY_API rcy_object_t *rcy_record_site(rcy_object_t *obj, const char *file, int line);

/** obj's allocation site as "file:line" (borrowed, valid for the runtime's life), or NULL if none was recorded. */
RCY_API const char *rcy_object_site(const rcy_object_t *obj);

/**
 * Copies up to max frames of obj's recorded backtrace into frames; returns
 * the number of frames recorded (0: none), or RCY_EINVAL.
 */
RCY_API int rcy_object_backtrace(const rcy_object_t *obj, void **frames, int max);

/**
 * obj's stable id (from 1), given now if it had none: it stays the same
 * until obj dies and is never given to another object. 0 (with RCY_ENOMEM)
 * when memory runs out, or for NULL. Allocates; runs no user code.
 */
RCY_API uint64_t rcy_object_id(rcy_object_t *obj);

/**
 * The census by allocation site (tracemalloc's statistics('lineno'), over
 * live objects): one row per "file:line" (its name), with the live objects
 * recorded there and their bytes as they were allocated (an instance that
 * grew since is counted at its first size), most bytes first (ties: most objects,
 * then name), cut to limit rows (0: all). Objects allocated while
 * recording was off, or not picked by the sampling, are not in any row.
 * O(number of sites). Returns 0, RCY_EINVAL or RCY_ENOMEM. Release with
 * rcy_typestats_release.
 */
RCY_API int rcy_census_by_site(rcy_runtime_t *rt, size_t limit, rcy_typestats_t *out);

/** Prints rcy_census_by_site as "file:line count bytes" rows to out or through the output hook. */
RCY_API int rcy_census_show_by_site(rcy_runtime_t *rt, size_t limit, FILE *out);

/**
 * A growth tracker by allocation site: rcy_growth and rcy_show_growth on
 * it report the sites ("file:line") whose live objects grew, as they
 * report types. NULL with RCY_ENOMEM or RCY_EINVAL.
 */
RCY_API rcy_growth_t *rcy_growth_new_by_site(rcy_runtime_t *rt);

/* -- Snapshots: what changed between two moments -- */

/**
 * A snapshot of the heap: for every object the heap walk sees (tracked
 * objects and the untracked ones they reach, the static singletons left
 * out), its stable id, type, allocation site, bytes and retained size. It
 * holds no references: keep it as long as you like (it must be freed
 * before its runtime is destroyed).
 */
typedef struct rcy_snapshot_s rcy_snapshot_t;

/**
 * Takes a snapshot: one heap walk, the dominator tree, and a stable id for
 * every object that had none (see rcy_object_id). Runs no collection and
 * no user code. NULL with RCY_EINVAL, RCY_ESTATE (during a collection or
 * another heap walk) or RCY_ENOMEM.
 */
RCY_API rcy_snapshot_t *rcy_snapshot_take(rcy_runtime_t *rt);

/** Frees a snapshot. NULL is ignored. */
RCY_API void rcy_snapshot_free(rcy_snapshot_t *s);

/** The objects in a snapshot, and their bytes. */
RCY_API size_t rcy_snapshot_len(const rcy_snapshot_t *s);
RCY_API size_t rcy_snapshot_bytes(const rcy_snapshot_t *s);

/** An object in both snapshots whose retained size grew. */
typedef struct rcy_retainer_growth_s {
    uint64_t id;            /**< its stable id: rcy_object_from_id finds it while it lives */
    const char *type_name;  /**< borrowed from the type */
    const char *site;       /**< its allocation site, or NULL */
    size_t bytes_before, bytes_after; /**< retained bytes */
    intptr_t delta;         /**< bytes_after - bytes_before (> 0) */
    size_t objects_before, objects_after; /**< retained objects */
} rcy_retainer_growth_t;

/**
 * The difference between two snapshots. The rows (rcy_typestat_t: a name,
 * a count, bytes) are sorted by bytes, most first; a site row's name is
 * "file:line", or "(site not recorded)".
 */
typedef struct rcy_snapshot_diff_s {
    rcy_typestat_t *new_by_type;  /**< objects in `after` only, by type name */
    size_t n_new_by_type;
    rcy_typestat_t *new_by_site;  /**< the same, by allocation site */
    size_t n_new_by_site;
    rcy_typestat_t *died_by_type; /**< objects in `before` only (they died), by type name */
    size_t n_died_by_type;
    rcy_retainer_growth_t *grown; /**< the retainers whose retained bytes grew most, most first */
    size_t n_grown;
    size_t new_objects, new_bytes, died_objects, died_bytes; /**< totals, before any limit */
    rcy_runtime_t *rt;
} rcy_snapshot_diff_t;

/**
 * Compares two snapshots of one runtime by stable id (not by address,
 * which is reused): objects created since `before` (by type and by site),
 * objects that died, and the objects in both whose retained size grew.
 * Each list is cut to limit rows (0: all). Returns 0, RCY_EINVAL,
 * RCY_ERUNTIME (two runtimes) or RCY_ENOMEM (out empty). Release out with
 * rcy_snapshot_diff_release.
 */
RCY_API int rcy_snapshot_diff(const rcy_snapshot_t *before, const rcy_snapshot_t *after, size_t limit,
                      rcy_snapshot_diff_t *out);

/** Frees a difference's rows. NULL is ignored. */
RCY_API void rcy_snapshot_diff_release(rcy_snapshot_diff_t *d);

/** Prints a difference (totals, new by type and by site, died, grown retainers) to out or through the output hook. */
RCY_API int rcy_snapshot_diff_show(const rcy_snapshot_diff_t *d, FILE *out);

/**
 * A new reference to the live object with this stable id, or NULL (it
 * died, or no object had that id). O(objects with an id).
 */
RCY_API rcy_object_t *rcy_object_from_id(rcy_runtime_t *rt, uint64_t id);

/* -- The heap dump and the HTML report -- */

/**
 * Writes the whole object graph to path in the documented heap-dump format
 * (docs/heap-dump-format.md: JSON Lines; a header, then one record per
 * type, allocation site, object and edge): every object with its stable
 * id, type, size, reference count, external count, site, root name,
 * immediate dominator and retained size, and every edge with its label.
 * Gives every object a stable id. Runs describe slots (the dump holds a
 * reference to every object meanwhile); no collection. Returns 0,
 * RCY_EINVAL, RCY_ESTATE (the file cannot be written, or during a
 * collection or another heap walk) or RCY_ENOMEM.
 */
RCY_API int rcy_heap_dump(rcy_runtime_t *rt, const char *path);

/**
 * Writes one self-contained HTML file (no network, no external scripts or
 * styles) to path: the type table, the largest retainers, the dominator
 * tree to expand, and for any object in it the shortest chain of
 * references from a root, with allocation sites when recorded. Large heaps
 * are cut to their largest retainers (and the chains and dominators that
 * lead to them); the page says how many objects it shows. Runs describe
 * slots as rcy_heap_dump; returns as rcy_heap_dump.
 */
RCY_API int rcy_heap_report(rcy_runtime_t *rt, const char *path);

#ifdef RCY_TRACE_SITES
/* The allocation calls, with their call site. A name in parentheses,
   (rcy_list_new)(rt), calls the function itself. */
#define rcy_new(type) rcy_record_site(rcy_new(type), __FILE__, __LINE__)
#define rcy_new_var(type, nitems) rcy_record_site(rcy_new_var((type), (nitems)), __FILE__, __LINE__)
#define rcy_list_new(rt) rcy_record_site(rcy_list_new(rt), __FILE__, __LINE__)
#define rcy_list_new_from(rt, n, items) rcy_record_site(rcy_list_new_from((rt), (n), (items)), __FILE__, __LINE__)
#define rcy_dict_new(rt) rcy_record_site(rcy_dict_new(rt), __FILE__, __LINE__)
#define rcy_tuple_new(rt, n, items) rcy_record_site(rcy_tuple_new((rt), (n), (items)), __FILE__, __LINE__)
#define rcy_instance_new(cls) rcy_record_site(rcy_instance_new(cls), __FILE__, __LINE__)
#endif

/* -- The runtime's own memory, and giving memory back -- */

/** What the runtime holds, in its own terms and in the allocator's. */
typedef struct rcy_runtime_memory_s {
    size_t size;             /**< sizeof(rcy_runtime_memory_t), set by rcy_runtime_memory_init */
    size_t objects;          /**< live objects (rcy_runtime_live_objects) */
    size_t object_bytes;     /**< their bytes, GC headers included, private buffers not */
    size_t tracked;          /**< containers tracked by the collector (all generations and the permanent one) */
    size_t freelist_objects; /**< dead objects kept by the free lists (rcy_freelists_size) */
    size_t freelist_bytes;   /**< their bytes */
    size_t quarantined;      /**< freed objects held in the poisoning quarantine */
    /** Process-wide figures of the C allocator (glibc's mallinfo2; 0 elsewhere). */
    size_t malloc_in_use;    /**< bytes handed out by malloc (uordblks + hblkhd) */
    size_t malloc_free;      /**< bytes malloc keeps free for reuse (fordblks) */
    /** Since 4 December 2026 (a caller whose size field ends before it gets the fields before it). */
    size_t collector_bytes;  /**< the collector's own working arrays: the young collections' (which a full
                                  collection gives back to what the young collections need, rcy_memory_trim
                                  down to 16 KiB) and an incremental pass's (freed as it ends) */
} rcy_runtime_memory_t;

/** Zeroes *out and sets its size field. NULL is ignored. */
RCY_API void rcy_runtime_memory_init(rcy_runtime_memory_t *out);

/**
 * Fills *out, which rcy_runtime_memory_init prepared (its size field is
 * kept). Walks the generation lists. Returns 0, RCY_EINVAL (also for a size
 * field that is neither sizeof(rcy_runtime_memory_t) nor the size the
 * struct had before collector_bytes, offsetof(rcy_runtime_memory_t,
 * collector_bytes), whose fields alone are then written: *out untouched),
 * or RCY_ESTATE inside a heap walk (from a traverse slot; see
 * rcy_traverse_fn).
 */
RCY_API int rcy_runtime_memory(const rcy_runtime_t *rt, rcy_runtime_memory_t *out);

/**
 * Gives free memory back to the system: empties the built-in free lists
 * (as a full collection does), shrinks the young collections' working
 * arrays to their first size (a full collection shrinks them to what the
 * young collections since needed; neither from inside a collection),
 * unmaps the small-object allocator's spare
 * arenas (up to four empty arenas, 4 to 8 MiB, kept mapped for reuse), then
 * asks the C allocator to return its free pages (glibc's malloc_trim(0)). Runs
 * no collection and no user code. Returns 1 if memory was returned, 0 if
 * not, or RCY_EINVAL.
 */
RCY_API int rcy_memory_trim(rcy_runtime_t *rt);

/* ---- Memory figures ----------------------------------------------------- */

/** Memory figures of the calling process, in bytes (Linux /proc). */
typedef struct rcy_process_memory_s {
    size_t size;     /**< sizeof(rcy_process_memory_t), set by rcy_process_memory_init */
    size_t rss;      /**< resident set size */
    size_t uss;      /**< unique set size: Private_Clean + Private_Dirty (psutil's uss) */
    size_t pss;      /**< proportional set size */
    size_t swap;     /**< swapped out */
    size_t peak_rss; /**< highest rss so far (VmHWM); 0 if unknown */
} rcy_process_memory_t;

/** Zeroes *out and sets its size field. NULL is ignored. */
RCY_API void rcy_process_memory_init(rcy_process_memory_t *out);

/**
 * Fills *out, which rcy_process_memory_init prepared (its size field is
 * kept), from /proc/self/smaps_rollup (or /proc/self/smaps on older
 * kernels) and /proc/self/status: the figures psutil's memory_full_info()
 * reports, so "USS" means what the seeds print. Needs no runtime and never
 * allocates through one. Returns 0, RCY_EINVAL for NULL or a size field that
 * is not sizeof(rcy_process_memory_t) (*out untouched), or RCY_ESTATE when
 * /proc is unavailable (*out is zeroed).
 */
RCY_API int rcy_process_memory(rcy_process_memory_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_H */
