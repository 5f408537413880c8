/*
 * fuzz_api: a libFuzzer target for the whole public API, over several
 * runtimes at once. fuzz_graph.c checks the collector against an exact
 * model of one graph of user types; this target drives everything else:
 * ints, floats, strs (from fuzzed bytes), tuples, lists, dicts, classes
 * and their instances (with PEP 442 and legacy finalizers that run small
 * programs), weak references, weak-value and weak-key maps, finalize
 * registrations, C functions and calls (callable callbacks and
 * registrations among them), the gc-module calls, the mode switched at
 * any moment, external bytes, the heap tools of retained sizes, snapshots,
 * dumps and allocation sites, the pending error's value, lookups by new
 * reference (dict, tuple, attributes), tuple slices and contains, packing
 * (borrowed and stolen, with NULLs and foreign objects), attributes by str
 * object, weak maps cleared, the _ex forms of weak references and finalize
 * registrations (their release hooks counted: exactly once, after the call),
 * interning with a length, the leak tools (census, typestats,
 * growth, by_type, roots, external counts, leaking objects, chains and
 * their formatting, the DOT writer into memory), equality, hashing and
 * reprs, and misuse that must fail cleanly: wrong types, bad indexes,
 * NULLs, unhashable keys, invalid UTF-8, tools called from inside a
 * collection, and objects of one runtime handed to another.
 *
 * The harness holds its objects in slots (each a strong reference of one
 * runtime). The shadow model is cheap: what each call must have done is
 * checked right after it (a list grew by one and holds the item where it
 * was inserted, a dict maps the key to the value, a str holds the bytes
 * exactly when they are well-formed UTF-8, a failed call changed nothing),
 * plus invariants between operations (a weak reference to an object a slot
 * still holds is alive and returns it, the census sums to the live
 * objects, every slot's object is found by by_type, external counts cover
 * the slots, the heap validates), and at the end: every PEP 442 finalizer ran exactly once,
 * every finalize registration was called at most once and exactly once
 * unless detached or excluded from exit, and teardown leaves no object
 * alive. The allocator fails on demand (never inside collections or user
 * code), so every ENOMEM path must leave things unchanged.
 *
 * Build and run: `make fuzz-api` (clang, libFuzzer, ASan, UBSan); replay
 * with `$(FUZZ_DIR)/fuzz_api FILE` (FUZZ_API_TRACE=1 prints the steps).
 * fuzz/replay.c runs the seed corpus fuzz/corpus-api in every build.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "recycle.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NRT 3       /* runtimes */
#define NSLOT 24    /* harness slots */
#define MAXID 512   /* instance ids per runtime */
#define MAXREG 256  /* finalize registrations per input */
#define MAXWEX 256  /* weak references with a release hook per input */
#define MAXOPS 1500 /* operations per input */
#define MAXDEPTH 3  /* nesting of finalizers that act */

/* ---- State ------------------------------------------------------------ */

typedef struct slot_s {
    rcy_object_t *o; /* a strong reference, or NULL */
    int rt;          /* its runtime's index */
    unsigned serial; /* bumped on every store: tells a held object from a reused address */
    /* Weak references: the referent's slot and serial when created. */
    int ref_slot;
    unsigned ref_serial;
    int reg; /* finalize registrations: their number, else -1 */
} slot_t;

typedef struct frt_s {
    rcy_runtime_t *rt;
    rcy_object_t *cls[3];  /* plain, PEP 442 finalizer, legacy finalizer */
    uint8_t fin_prog[3];   /* what their finalizers do */
    rcy_object_t *res;     /* the list finalizers resurrect into */
    rcy_growth_t *growth;
    int fail_every;
    long alloc_calls;
    int collecting; /* between the START and STOP callbacks */
    int ninst;      /* instance ids handed out */
    unsigned char fin_calls[MAXID], legacy_calls[MAXID], resurrected[MAXID];
    bool has_fin[MAXID]; /* instance of the PEP 442 class */
    long output_bytes;
    rcy_snapshot_t *snap; /* op_heap's last snapshot, freed before teardown */
    size_t external;      /* bytes charged (rcy_gc_charge_external) and not released */
} frt_t;

static struct fuzz_s {
    frt_t r[NRT];
    slot_t s[NSLOT];
    unsigned serial;
    struct {
        bool used, detached, atexit;
        bool ex, released; /* made by rcy_finalize_register_ex; its release hook ran */
        int calls;
    } reg[MAXREG];
    int nreg;
    int detaching; /* 1 + the registration rcy_finalize_detach is detaching, else 0 */
    struct {
        bool called, released; /* rcy_weakref_new_ex: its callback, then its release hook */
    } wex[MAXWEX];
    int nwex;
    int depth;
    bool fail_ok; /* allocations may fail (top-level operations only) */
    bool tearing_down;
    bool leak_reported;
    const uint8_t *data;
    size_t size, pos;
} F;

static bool tracing;

#define TRACE(...)                                                                                 \
    do {                                                                                           \
        if (tracing)                                                                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)

static void fuzz_fail(const char *what, const char *expr, int line)
{
    fprintf(stderr, "fuzz_api: check failed at line %d: %s (%s)\n", line, what, expr);
    abort();
}

#define REQUIRE(cond, what)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(what, #cond, __LINE__);                                                      \
    } while (0)

/* A call that may allocate returned r: success (0) or a clean ENOMEM. */
#define REQUIRE_OK(r, what) REQUIRE((r) == 0 || (r) == RCY_ENOMEM, what)

static unsigned byte(void) { return F.pos < F.size ? F.data[F.pos++] : 0; }
static unsigned word(void) { return byte() | (byte() << 8); }

/* ---- Allocation and output hooks -------------------------------------- */

static void *fz_malloc(void *ctx, size_t size)
{
    frt_t *r = ctx;
    r->alloc_calls++;
    if (F.fail_ok && r->fail_every > 0 && !r->collecting && r->alloc_calls % r->fail_every == 0)
        return NULL;
    return malloc(size);
}

static void *fz_realloc(void *ctx, void *ptr, size_t size)
{
    frt_t *r = ctx;
    r->alloc_calls++;
    if (F.fail_ok && r->fail_every > 0 && !r->collecting && r->alloc_calls % r->fail_every == 0)
        return NULL;
    return realloc(ptr, size);
}

static void fz_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static void fz_output(void *arg, const char *text)
{
    frt_t *r = arg;
    r->output_bytes += (long)strlen(text);
    if (F.tearing_down && strstr(text, "still alive") != NULL)
        F.leak_reported = true;
    if (getenv("FUZZ_API_VERBOSE") != NULL)
        fputs(text, stderr);
}

static void fz_error(void *arg, const char *message)
{
    fz_output(arg, message);
}

/* Runs user-visible code with allocation failures off (finalizers,
   callbacks and collections must not see injected failures: their errors
   cannot be returned). */
#define NO_FAIL_BEGIN bool fail_ok_saved_ = F.fail_ok; F.fail_ok = false
#define NO_FAIL_END F.fail_ok = fail_ok_saved_

/* ---- Slots ------------------------------------------------------------ */

/* Stores a new reference o (of runtime k) into slot i, releasing the old. */
static void slot_take(int i, rcy_object_t *o, int k)
{
    slot_t *s = &F.s[i];
    rcy_object_t *old = s->o;
    s->o = o;
    s->rt = k;
    s->serial = ++F.serial;
    s->ref_slot = -1;
    s->reg = -1;
    rcy_xdecref(old);
}

static void slot_clear(int i) { slot_take(i, NULL, 0); }

/* Stores the new weak reference wr to slot ti's object (runtime k) into
   the slot the next byte chooses, remembering its referent; the slot of
   the referent itself is not taken: wr is released at once. Returns
   whether wr was stored. */
static bool weakref_to_slot(rcy_object_t *wr, int ti, int k)
{
    int si = (int)(byte() % NSLOT);
    unsigned ser = F.s[ti].serial;
    if (si == ti) {
        rcy_decref(wr);
        return false;
    }
    slot_take(si, wr, k);
    F.s[si].ref_slot = ti;
    F.s[si].ref_serial = ser;
    return true;
}

/* Stores the new finalize registration f, number n, into the slot the
   next byte chooses. */
static void registration_to_slot(rcy_object_t *f, int n, int k)
{
    int si = (int)(byte() % NSLOT);
    slot_take(si, f, k);
    F.s[si].reg = n;
}

/* The slot chosen by b, or -1 if it is empty. */
static int pick(unsigned b)
{
    int i = (int)(b % NSLOT);
    return F.s[i].o != NULL ? i : -1;
}

/* A used slot of runtime k (starting from b), or -1. */
static int pick_rt(unsigned b, int k)
{
    for (int n = 0; n < NSLOT; n++) {
        int i = (int)((b + (unsigned)n) % NSLOT);
        if (F.s[i].o != NULL && F.s[i].rt == k)
            return i;
    }
    return -1;
}

static int pick_where(unsigned b, int (*pred)(const rcy_object_t *))
{
    for (int n = 0; n < NSLOT; n++) {
        int i = (int)((b + (unsigned)n) % NSLOT);
        if (F.s[i].o != NULL && pred(F.s[i].o))
            return i;
    }
    return -1;
}

static rcy_runtime_t *RT(int k) { return F.r[k].rt; }

/* The objects that support weak references: instances, classes and C
   functions. */
static bool weakable(const rcy_object_t *o) { return rcy_is_instance(o) || rcy_is_class(o) || rcy_is_cfunction(o); }

/* ---- UTF-8, as the library must judge it -------------------------------- */

static bool utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* ---- Finalizers and callbacks ------------------------------------------- */

static int gc_callback(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)info;
    frt_t *r = arg;
    REQUIRE(r->rt == rt || r->rt == NULL, "gc callback of another runtime");
    if (phase == RCY_GC_START) {
        REQUIRE(!r->collecting, "collections nest");
        r->collecting = 1;
    } else {
        REQUIRE(r->collecting, "a collection stopped without starting");
        r->collecting = 0;
    }
    return 0;
}

static int instance_id(rcy_object_t *self)
{
    rcy_object_t *v = rcy_getattr(self, "__fz_id");
    int64_t id;
    if (v == NULL || rcy_int_value(v, &id) != 0 || id < 0 || id >= MAXID)
        return -1;
    return (int)id;
}

/* The program of a finalizer: bits of prog. */
static int run_finalizer(frt_t *r, rcy_object_t *self, uint8_t prog, bool legacy)
{
    int id = instance_id(self);
    if (F.depth >= MAXDEPTH)
        return 0;
    F.depth++;
    NO_FAIL_BEGIN;
    int ret = 0;
    TRACE("    %s of instance %d (prog %u)%s\n", legacy ? "legacy finalizer" : "finalizer", id, prog,
          r->collecting ? " in a collection" : "");
    if ((prog & 1) && id >= 0 && !r->resurrected[id] && r->res != NULL && !F.tearing_down) {
        r->resurrected[id] = 1;
        REQUIRE(rcy_list_append(r->res, self) == 0, "resurrection failed");
    }
    if (prog & 2) { /* a new garbage cycle */
        rcy_object_t *l = rcy_list_new(r->rt);
        if (l != NULL) {
            REQUIRE(rcy_list_append(l, l) == 0, "self-append failed");
            rcy_decref(l);
        }
    }
    if (prog & 4) { /* a collection (nested ones return 0) */
        bool nested = r->collecting;
        intptr_t n = rcy_gc_collect(r->rt, (prog >> 5) % 3);
        REQUIRE(n >= 0, "collect from a finalizer failed");
        if (nested)
            REQUIRE(n == 0, "a nested collection did something");
        if (prog & 128) {
            int done = rcy_gc_incr_step(r->rt, 0);
            REQUIRE(done == 0 || done == 1, "incr_step from a finalizer failed");
            if (nested)
                REQUIRE(done == 0, "an idle step inside a collection did something");
        }
    }
    if (prog & 8) { /* the heap-walking tools refuse to run during a collection */
        rcy_objarray_t a = {0};
        int rc = rcy_census_by_type(r->rt, "list", &a);
        /* (With no list alive there is nothing to walk: an empty answer.) */
        if (r->collecting)
            REQUIRE(rc == RCY_ESTATE || (rc == 0 && a.len == 0), "by_type ran inside a collection");
        else if (F.tearing_down) /* teardown's collections call no gc callbacks */
            REQUIRE(rc == 0 || rc == RCY_ESTATE, "by_type in teardown");
        else
            REQUIRE_OK(rc, "by_type failed in a finalizer");
        if (rc == 0)
            rcy_objarray_release(&a);
        if (r->res != NULL)
            REQUIRE(rcy_census_count(r->rt, "list") >= 1, "the census misses the resurrection list");
        /* So do validation and snapshots (the lists are the collection's).
           (Outside one they would walk the heap at every death of a chain:
           check_all validates after each operation instead.) */
        if (r->collecting) {
            REQUIRE(rcy_gc_validate(r->rt) == RCY_ESTATE, "validation ran inside a collection");
            REQUIRE(rcy_snapshot_take(r->rt) == NULL && rcy_last_error(r->rt) == RCY_ESTATE,
                    "a snapshot was taken inside a collection");
        }
    }
    if (prog & 16)
        ret = -1; /* an error, reported through the hook */
    NO_FAIL_END;
    F.depth--;
    return ret;
}

static int class_finalize(rcy_object_t *self, void *arg)
{
    frt_t *r = arg;
    int id = instance_id(self);
    if (id >= 0) {
        REQUIRE(r->fin_calls[id] == 0, "a PEP 442 finalizer ran twice");
        r->fin_calls[id]++;
    }
    return run_finalizer(r, self, r->fin_prog[1], false);
}

static int class_legacy(rcy_object_t *self, void *arg)
{
    frt_t *r = arg;
    int id = instance_id(self);
    if (id >= 0 && r->legacy_calls[id] < 255)
        r->legacy_calls[id]++;
    return run_finalizer(r, self, r->fin_prog[2], true);
}

static int finalize_cb(void *arg)
{
    int k = (int)(intptr_t)arg;
    REQUIRE(k >= 0 && k < F.nreg && F.reg[k].used, "finalize callback with an unknown argument");
    REQUIRE(!F.reg[k].detached, "a detached registration was called");
    F.reg[k].calls++;
    REQUIRE(F.reg[k].calls == 1, "a finalize registration was called twice");
    TRACE("    finalize callback %d\n", k);
    return 0;
}

/* The release hook of a registration made by rcy_finalize_register_ex
   (arg as finalize_cb's): once, after its call, or when it is detached
   or dropped unrun at teardown. */
static void reg_release(void *arg)
{
    int k = (int)(intptr_t)arg;
    REQUIRE(k >= 0 && k < F.nreg && F.reg[k].used && F.reg[k].ex, "a release hook with an unknown argument");
    REQUIRE(!F.reg[k].released, "a registration's release hook ran twice");
    REQUIRE(F.reg[k].calls == 1 || F.detaching == k + 1 || F.tearing_down,
            "a registration's release hook ran before its call, detach or teardown");
    F.reg[k].released = true;
    TRACE("    release hook of registration %d\n", k);
}

/* The callback and release hook of a weak reference made by
   rcy_weakref_new_ex: arg is its index in F.wex. The callback runs at
   most once and before the release hook, which runs exactly once. */
static int weak_cb_ex(rcy_object_t *wr, void *arg)
{
    int i = (int)(intptr_t)arg;
    REQUIRE(i >= 0 && i < F.nwex, "a weak-reference callback with an unknown argument");
    REQUIRE(!F.wex[i].called && !F.wex[i].released, "a weak-reference callback ran twice or after its release");
    REQUIRE(!rcy_weakref_is_alive(wr), "a weak-reference callback before its reference was cleared");
    F.wex[i].called = true;
    TRACE("    weak-reference callback %d (with a release hook)\n", i);
    return 0;
}

static void weak_release(void *arg)
{
    int i = (int)(intptr_t)arg;
    REQUIRE(i >= 0 && i < F.nwex, "a weak reference's release hook with an unknown argument");
    REQUIRE(!F.wex[i].released, "a weak reference's release hook ran twice");
    F.wex[i].released = true;
    TRACE("    release hook of weak reference %d\n", i);
}

/* A weak-reference callback; arg is its program. */
static int weak_cb(rcy_object_t *wr, void *arg)
{
    unsigned prog = (unsigned)(uintptr_t)arg;
    REQUIRE(!rcy_weakref_is_alive(wr), "a weak-reference callback before its reference was cleared");
    REQUIRE(rcy_weakref_get(wr) == NULL, "a cleared weak reference returned an object");
    rcy_runtime_t *rt = rcy_object_runtime(wr);
    if (F.depth >= MAXDEPTH)
        return 0;
    F.depth++;
    NO_FAIL_BEGIN;
    TRACE("    weak-reference callback (prog %u)\n", prog);
    if (prog & 1) /* a collection from a callback (CPython's test_callback_gcs) */
        REQUIRE(rcy_gc_collect(rt, (int)(prog >> 4) % 3) >= 0, "collect from a weak-reference callback");
    if (prog & 2) { /* new garbage */
        rcy_object_t *l = rcy_list_new(rt);
        if (l != NULL) {
            REQUIRE(rcy_list_append(l, l) == 0, "self-append failed");
            rcy_decref(l);
        }
    }
    NO_FAIL_END;
    F.depth--;
    return (prog & 4) ? -1 : 0;
}

/* ---- C functions --------------------------------------------------------- */

/* The harness's C functions, by kind (make_cfunction): each returns what
   the model expects of it (call_expect), and needs a runtime to make
   anything, its bound object's or its first argument's. */
#define FZ_ERROR (RCY_ECORRUPT - 7) /* a program's own error code */

static rcy_runtime_t *cf_runtime(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    return self != NULL ? rcy_object_runtime(self) : nargs > 0 ? rcy_object_runtime(args[0]) : NULL;
}

/* 0: its first argument, else its bound object, else NULL without an error. */
static rcy_object_t *cf_first(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    return nargs > 0 ? rcy_newref(args[0]) : rcy_xnewref(self);
}

/* 1: a tuple of its arguments (NULL with ENOMEM when that fails). */
static rcy_object_t *cf_tuple(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    rcy_runtime_t *rt = cf_runtime(self, args, nargs);
    return rt != NULL ? rcy_tuple_new(rt, (intptr_t)nargs, args) : NULL;
}

/* 2: fails with the program's own error. */
static rcy_object_t *cf_fail(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    rcy_runtime_t *rt = cf_runtime(self, args, nargs);
    if (rt != NULL)
        REQUIRE(rcy_error_set(rt, FZ_ERROR, "fuzz: a C function failed") == FZ_ERROR, "error_set");
    return NULL;
}

/* 3: a collection inside the call (none nested deeper than finalizers
   go), then as cf_first. */
static rcy_object_t *cf_collect(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    rcy_runtime_t *rt = cf_runtime(self, args, nargs);
    if (rt != NULL && F.depth < MAXDEPTH) {
        F.depth++;
        NO_FAIL_BEGIN;
        REQUIRE(rcy_gc_collect(rt, (int)(nargs % 3)) >= 0, "collect from a C function");
        NO_FAIL_END;
        F.depth--;
    }
    return cf_first(self, args, nargs);
}

/* 4: calls its first argument with the others (fewer each time: the
   nesting ends). */
static rcy_object_t *cf_call(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    (void)self;
    return nargs > 0 ? rcy_call(args[0], args + 1, nargs - 1) : NULL;
}

static const rcy_cfunction_fn cf_kinds[] = {cf_first, cf_tuple, cf_fail, cf_collect, cf_call};
#define NCF ((unsigned)(sizeof cf_kinds / sizeof cf_kinds[0]))

static int cf_kind(const rcy_object_t *f)
{
    rcy_cfunction_fn fn = rcy_cfunction_function(f);
    for (unsigned i = 0; i < NCF; i++)
        if (cf_kinds[i] == fn)
            return (int)i;
    return -1;
}

/* A finalize registration's callable (op_weak): bound to the int of its
   registration, counted as finalize_cb counts the C form. */
static rcy_object_t *cf_registration(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    int64_t n;
    REQUIRE(self != NULL && rcy_int_value(self, &n) == 0, "a registration's callable lost its index");
    REQUIRE(nargs <= 2, "a registration's callable got arguments it was not given");
    for (size_t i = 0; i < nargs; i++)
        REQUIRE(args[i] != NULL && rcy_getrefcount(args[i]) >= 1, "a registration's argument is gone");
    REQUIRE(finalize_cb((void *)(intptr_t)n) == 0, "finalize_cb");
    return rcy_none(rcy_object_runtime(self));
}

/* Calls f (of kind `kind`, bound to self) with args, and checks the result
   against what the kind does. */
static void call_expect(rcy_runtime_t *rt, rcy_object_t *f, int kind, rcy_object_t *self, rcy_object_t *const *args,
                        size_t nargs)
{
    rcy_error_clear(rt);
    rcy_object_t *r = rcy_call(f, args, nargs);
    int e = r == NULL ? rcy_last_error(rt) : 0;
    bool has_rt = self != NULL || nargs > 0;
    TRACE("  call of a kind-%d C function with %zu arguments: %p (error %d)\n", kind, nargs, (void *)r, e);
    switch (kind) {
    case 0:
    case 3:
        if (nargs > 0)
            REQUIRE(r == args[0], "a C function did not return its first argument");
        else if (self != NULL)
            REQUIRE(r == self, "a C function did not return its bound object");
        else
            REQUIRE(r == NULL && e == RCY_ECALLBACK, "NULL without an error is not RCY_ECALLBACK");
        break;
    case 1:
        if (!has_rt) {
            REQUIRE(r == NULL && e == RCY_ECALLBACK, "NULL without an error is not RCY_ECALLBACK");
        } else if (r == NULL) {
            REQUIRE(e == RCY_ENOMEM, "a tuple of the arguments failed without ENOMEM");
        } else {
            REQUIRE(rcy_is_tuple(r) && rcy_tuple_len(r) == (intptr_t)nargs, "the arguments' tuple");
            for (size_t i = 0; i < nargs; i++)
                REQUIRE(rcy_tuple_get(r, (intptr_t)i) == args[i], "the arguments' tuple holds other items");
        }
        break;
    case 2:
        REQUIRE(r == NULL && e == (has_rt ? FZ_ERROR : RCY_ECALLBACK), "a failing C function's error");
        break;
    default: /* whatever the call of its first argument gave */
        REQUIRE(r != NULL || e < 0, "a call failed without an error");
        break;
    }
    rcy_xdecref(r);
    rcy_error_clear(rt);
}

/* ---- Checks -------------------------------------------------------------- */

/* The DOT text is one digraph, with balanced quotes and braces. */
static void check_dot(const char *text, size_t len)
{
    REQUIRE(len > 10 && strncmp(text, "digraph", 7) == 0, "DOT output does not start with digraph");
    REQUIRE(strlen(text) == len, "DOT output holds a NUL byte");
    bool in_str = false;
    int braces = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\') {
                REQUIRE(i + 1 < len, "DOT output ends in an escape");
                i++;
            } else if (c == '"') {
                in_str = false;
            } else {
                REQUIRE(c != '\n' && c != '\r', "a raw newline inside a DOT string");
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{') {
            braces++;
        } else if (c == '}') {
            braces--;
            REQUIRE(braces >= 0, "unbalanced braces in DOT output");
        }
    }
    REQUIRE(!in_str, "an unterminated string in DOT output");
    REQUIRE(braces == 0, "unbalanced braces in DOT output");
}

static int graph_filter(rcy_object_t *o, void *arg)
{
    unsigned b = (unsigned)(uintptr_t)arg;
    return !(b & 1) || !rcy_is_int(o);
}

static int graph_highlight(rcy_object_t *o, void *arg)
{
    (void)arg;
    return rcy_is_str(o);
}

/* Writes a str's own text (quotes, backslashes, newlines and all): the
   writer must escape it. */
static int graph_info(rcy_object_t *o, char *buf, size_t size, void *arg)
{
    (void)arg;
    const char *t = rcy_is_str(o) ? rcy_str_data(o) : "\"info\\\n";
    return snprintf(buf, size, "%s", t);
}

static int chain_to_str(rcy_object_t *o, intptr_t external, void *arg)
{
    (void)external;
    (void)arg;
    return rcy_is_str(o);
}

/* Weak references to objects a slot still holds are alive. */
static void check_weakrefs(void)
{
    for (int i = 0; i < NSLOT; i++) {
        slot_t *s = &F.s[i];
        if (s->o == NULL || s->ref_slot < 0 || !rcy_is_weakref(s->o))
            continue;
        rcy_object_t *got = rcy_weakref_get(s->o);
        slot_t *t = &F.s[s->ref_slot];
        if (t->o != NULL && t->serial == s->ref_serial) {
            REQUIRE(got == t->o, "a weak reference to a held object is dead or wrong");
            REQUIRE(rcy_weakref_is_alive(s->o), "is_alive disagrees with get");
        }
        rcy_xdecref(got);
    }
}

static void check_runtime(int k)
{
    frt_t *r = &F.r[k];
    REQUIRE(!r->collecting, "a collection is still running between operations");
    NO_FAIL_BEGIN;
    rcy_typestats_t ts;
    REQUIRE(rcy_census_typestats(r->rt, &ts) == 0, "typestats failed");
    size_t sum = 0, bytes = 0;
    for (size_t i = 0; i < ts.len; i++) {
        sum += ts.items[i].count;
        bytes += ts.items[i].bytes;
        REQUIRE(rcy_census_count(r->rt, ts.items[i].name) == ts.items[i].count, "census count differs from typestats");
        if (i > 0)
            REQUIRE(strcmp(ts.items[i - 1].name, ts.items[i].name) < 0, "typestats not sorted by name");
    }
    REQUIRE(sum == rcy_runtime_live_objects(r->rt), "the census does not sum to the live objects");
    REQUIRE(bytes == rcy_runtime_live_bytes(r->rt), "the census does not sum to the live bytes");
    rcy_typestats_release(&ts);
    rcy_runtime_memory_t mem;
    rcy_runtime_memory_init(&mem);
    REQUIRE(rcy_runtime_memory(r->rt, &mem) == 0, "runtime_memory failed");
    REQUIRE(mem.objects == rcy_runtime_live_objects(r->rt), "runtime_memory objects differ");
    /* The whole heap, after every operation (what a heap walk numbered in
       the headers must have been restored). */
    REQUIRE(rcy_gc_validate(r->rt) == 0, "heap validation failed between operations");
    /* Every distinct mortal object a slot holds is live (and counted). */
    size_t held = 0;
    for (int i = 0; i < NSLOT; i++) {
        rcy_object_t *o = F.s[i].o;
        if (o == NULL || F.s[i].rt != k || rcy_is_immortal(o))
            continue;
        bool first = true;
        for (int j = 0; j < i; j++)
            first &= F.s[j].o != o;
        held += first;
    }
    REQUIRE(rcy_runtime_live_objects(r->rt) >= held + 3 + (r->res != NULL), "live objects below what the harness holds");
    NO_FAIL_END;
}

static void check_all(void)
{
    for (int i = 0; i < NSLOT; i++) {
        slot_t *s = &F.s[i];
        if (s->o == NULL)
            continue;
        REQUIRE(rcy_getrefcount(s->o) >= 1, "a held object has no references");
        REQUIRE(rcy_object_runtime(s->o) == RT(s->rt), "an object changed runtime");
    }
    check_weakrefs();
    for (int k = 0; k < NRT; k++)
        check_runtime(k);
}

/* ---- Operations ------------------------------------------------------------ */

static rcy_object_t *new_instance(int k, int c)
{
    frt_t *r = &F.r[k];
    rcy_object_t *o = rcy_instance_new(r->cls[c]);
    if (o == NULL) {
        REQUIRE(rcy_last_error(r->rt) == RCY_ENOMEM, "instance_new failed without ENOMEM");
        return NULL;
    }
    if (r->ninst < MAXID) {
        int id = r->ninst;
        rcy_object_t *v = rcy_int_new(r->rt, id);
        if (v != NULL) {
            int rc = rcy_setattr(o, "__fz_id", v);
            REQUIRE_OK(rc, "setattr of the id failed");
            if (rc == 0) {
                r->ninst++;
                r->has_fin[id] = c == 1;
            }
            rcy_decref(v);
        }
    }
    return o;
}

/* What rcy_cfunction_new_named accepts as a name (rcy_type_new's rule). */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    const uint8_t *p = (const uint8_t *)name;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7F || (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F))
            return false;
    return n > 0 && utf8_ok(p, n);
}

/* A C function of runtime k (make_value): a kind, a name from the input
   (bad ones refused), perhaps bound to a slot's object (one of another
   runtime refused), then called a few times with slots' objects. */
static rcy_object_t *make_cfunction(int k, unsigned b)
{
    rcy_runtime_t *rt = RT(k);
    int kind = (int)((b >> 5) % NCF);
    unsigned w = byte();
    char name[8] = {0};
    bool named = !(w & 1);
    if (named) {
        size_t n = byte() % 6;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)byte();
    }
    rcy_object_t *self = NULL;
    if (w & 2) {
        int si = pick(byte());
        self = si >= 0 ? F.s[si].o : NULL;
    }
    bool good = !named || name_ok(name), foreign = self != NULL && rcy_object_runtime(self) != rt;
    rcy_object_t *f = rcy_cfunction_new_named(rt, named ? name : NULL, cf_kinds[kind], self);
    TRACE("  C function of kind %d, %s name, %s: %p\n", kind, named ? (good ? "a good" : "a bad") : "no",
          self == NULL ? "unbound" : foreign ? "bound across runtimes" : "bound", (void *)f);
    if (f == NULL) {
        int e = rcy_last_error(rt);
        REQUIRE(!good ? e == RCY_EINVAL : foreign ? e == RCY_ERUNTIME : e == RCY_ENOMEM, "cfunction_new error");
        return NULL;
    }
    REQUIRE(good && !foreign, "a bad name or a foreign object accepted");
    REQUIRE(rcy_is_callable(f) && rcy_is_cfunction(f) && rcy_cfunction_self(f) == self, "a C function's self");
    REQUIRE(cf_kind(f) == kind, "a C function's function");
    const char *got = rcy_cfunction_name(f);
    REQUIRE(named ? got != NULL && got != name && strcmp(got, name) == 0 : got == NULL, "a C function's name");
    char buf[96];
    REQUIRE(rcy_describe(f, buf, sizeof buf) >= 0, "describe of a C function");
    REQUIRE(strncmp(buf, self == NULL ? "<built-in function " : "<built-in method ", self == NULL ? 19 : 17) == 0,
            "a C function's description");
    for (unsigned c = 0, ncalls = (w >> 2) & 3; c < ncalls; c++) {
        rcy_object_t *args[3];
        size_t nargs = byte() % 4;
        for (size_t i = 0; i < nargs; i++) {
            int ai = pick_rt(byte(), k);
            args[i] = ai >= 0 ? F.s[ai].o : f;
        }
        call_expect(rt, f, kind, self, args, nargs);
    }
    return f;
}

/* A new atom or container of runtime k, chosen by b; NULL if the
   allocation failed (checked). */
static rcy_object_t *make_value(int k, unsigned b)
{
    rcy_runtime_t *rt = RT(k);
    rcy_object_t *o = NULL;
    switch (b % 8) {
    case 0: {
        int64_t v = (int64_t)(int16_t)word() * ((b & 8) ? 100003 : 1), got;
        o = rcy_int_new(rt, v);
        if (o != NULL)
            REQUIRE(rcy_int_value(o, &got) == 0 && got == v && rcy_is_int(o), "int value");
        break;
    }
    case 1: {
        unsigned w = word();
        double d = (b & 8) ? (double)w / 7.0 : (w == 0 ? NAN : (w == 1 ? INFINITY : (double)(int)w)), got;
        o = rcy_float_new(rt, d);
        if (o != NULL) {
            REQUIRE(rcy_float_value(o, &got) == 0 && rcy_is_float(o), "float value");
            REQUIRE(isnan(d) ? isnan(got) : got == d, "float value differs");
        }
        break;
    }
    case 2:
    case 3: { /* a str from the input's bytes */
        size_t n = byte() % 12;
        uint8_t buf[16] = {0};
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)byte();
        o = rcy_str_new_len(rt, (const char *)buf, n);
        if (!utf8_ok(buf, n)) {
            REQUIRE(o == NULL && rcy_last_error(rt) == RCY_EINVAL, "ill-formed UTF-8 accepted as a str");
            return NULL;
        }
        if (o != NULL) {
            REQUIRE(rcy_str_len(o) == (intptr_t)n, "str length");
            REQUIRE(memcmp(rcy_str_data(o), buf, n) == 0 && rcy_str_data(o)[n] == '\0', "str data");
            bool has_nul = memchr(buf, 0, n) != NULL;
            if (!has_nul) {
                char z[16];
                memcpy(z, buf, n);
                z[n] = '\0';
                rcy_object_t *o2 = rcy_str_new(rt, z);
                if (o2 != NULL) {
                    REQUIRE(rcy_equal(o, o2) == 1, "equal strs differ");
                    int64_t h1, h2;
                    REQUIRE(rcy_hash(o, &h1) == 0 && rcy_hash(o2, &h2) == 0 && h1 == h2, "equal strs hash apart");
                    rcy_decref(o2);
                }
            }
        }
        break;
    }
    case 4:
        /* (A quarter of them C functions: their own checks.) */
        if (((b >> 3) & 3) == 3)
            return make_cfunction(k, b);
        o = rcy_list_new(rt);
        break;
    case 5: o = rcy_dict_new(rt); break;
    case 6:
        o = new_instance(k, (int)((b >> 3) % 3));
        TRACE("  new instance of class %u in runtime %d: %p\n", (b >> 3) % 3, k, (void *)o);
        return o;
    default: o = (b & 8) ? rcy_weakvaluedict_new(rt) : rcy_weakkeydict_new(rt); break;
    }
    if (o == NULL)
        REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "a constructor failed without ENOMEM");
    TRACE("  new value %u in runtime %d: %p\n", b % 8, k, (void *)o);
    return o;
}

static void op_tuple(int k)
{
    intptr_t n = (intptr_t)(byte() % 6);
    rcy_object_t *items[6];
    for (intptr_t i = 0; i < n; i++) {
        int j = pick_rt(byte(), k);
        if (j < 0)
            return;
        items[i] = F.s[j].o;
    }
    rcy_object_t *t = rcy_tuple_new(RT(k), n, items);
    if (t == NULL) {
        REQUIRE(rcy_last_error(RT(k)) == RCY_ENOMEM, "tuple_new failed without ENOMEM");
        return;
    }
    REQUIRE(rcy_tuple_len(t) == n, "tuple length");
    for (intptr_t i = 0; i < n; i++) {
        REQUIRE(rcy_tuple_get(t, i) == items[i], "tuple item");
        REQUIRE(rcy_tuple_get(t, i - n) == items[i], "tuple item from the end");
    }
    REQUIRE(rcy_tuple_get(t, n) == NULL && rcy_last_error(RT(k)) == RCY_EINDEX, "tuple index past the end");
    REQUIRE(rcy_tuple_get(t, -n - 1) == NULL && rcy_last_error(RT(k)) == RCY_EINDEX, "tuple index before the start");
    slot_take((int)(byte() % NSLOT), t, k);
}

static bool too_wide(const rcy_object_t *o);

/* Python's slice [a:b] of a sequence of len items: its first index in
   *lo, its length returned (negative bounds from the end, clamped). */
static intptr_t slice_bounds(intptr_t len, intptr_t a, intptr_t b, intptr_t *lo)
{
    intptr_t l = a < 0 ? (a + len < 0 ? 0 : a + len) : (a > len ? len : a);
    intptr_t h = b < 0 ? (b + len < 0 ? 0 : b + len) : (b > len ? len : b);
    *lo = l;
    return h > l ? h - l : 0;
}

/* The newer list calls (issue 14): new-reference getters, contains, the
   bulk operations, clear and pack, each checked against the list as it was
   (item and l are held by slots; nothing here runs user code before the
   checks but clear and the final releases). */
static void op_list_more(int k, rcy_object_t *l, intptr_t len, rcy_object_t *item, intptr_t idx, unsigned w)
{
    rcy_runtime_t *rt = RT(k);
    switch (w % 6) {
    case 0: { /* get_ref agrees with get, and records nothing when absent */
        bool in = idx >= -len && idx < len;
        rcy_object_t *expect = in ? rcy_list_get(l, idx) : NULL;
        int before = rcy_last_error(rt);
        rcy_object_t *out = (rcy_object_t *)&out;
        int rc = rcy_list_get_ref(l, idx, &out);
        REQUIRE(rc == (in ? 1 : 0) && out == expect, "list_get_ref disagrees with list_get");
        if (!in)
            REQUIRE(rcy_last_error(rt) == before, "list_get_ref recorded an absent index");
        if (in)
            REQUIRE(rcy_list_item_fast(l, in && idx < 0 ? idx + len : idx) == expect, "list_item_fast");
        rcy_xdecref(out);
        break;
    }
    case 1: /* contains: an item stored is found (ints, strs and user types compare without user code) */
        if (item != NULL && !too_wide(l) && !too_wide(item) && rcy_list_append(l, item) == 0) {
            int rc = rcy_list_contains(l, item);
            REQUIRE(rc == 1 || rc == RCY_EDEPTH, "list_contains misses an item it holds");
        }
        break;
    case 2: { /* slice and to_tuple hold the same items */
        intptr_t a = (intptr_t)(int8_t)byte();
        rcy_object_t *sl = rcy_list_slice(l, a, idx);
        if (sl == NULL) {
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "list_slice failed without ENOMEM");
            break;
        }
        intptr_t lo, n = slice_bounds(len, a, idx, &lo);
        REQUIRE(rcy_list_size_fast(sl) == n, "list_slice length");
        for (intptr_t i = 0; i < n; i++)
            REQUIRE(rcy_list_item_fast(sl, i) == rcy_list_item_fast(l, lo + i), "list_slice item");
        rcy_object_t *t = rcy_list_to_tuple(sl);
        if (t == NULL) {
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "list_to_tuple failed without ENOMEM");
        } else {
            REQUIRE(rcy_tuple_size_fast(t) == n, "list_to_tuple length");
            for (intptr_t i = 0; i < n; i++)
                REQUIRE(rcy_tuple_item_fast(t, i) == rcy_list_item_fast(sl, i), "list_to_tuple item");
            slot_take((int)(byte() % NSLOT), t, k);
        }
        slot_take((int)(byte() % NSLOT), sl, k);
        break;
    }
    case 3: { /* extend by a list or tuple of the runtime, itself included */
        int j = pick_rt(byte(), k);
        rcy_object_t *seq = j >= 0 ? F.s[j].o : NULL;
        if (seq == NULL || !(rcy_is_list(seq) || rcy_is_tuple(seq)) || too_wide(seq))
            break;
        intptr_t n = rcy_is_list(seq) ? rcy_list_size_fast(seq) : rcy_tuple_size_fast(seq);
        if (len + n > 4096)
            break;
        int rc = rcy_list_extend(l, seq);
        REQUIRE_OK(rc, "list_extend");
        REQUIRE(rcy_list_len(l) == len + (rc == 0 ? n : 0), "list_extend length");
        break;
    }
    case 4: { /* pack: borrowed, then stolen */
        if (item == NULL)
            break;
        rcy_object_t *t = rcy_tuple_pack(rt, 2, item, l);
        if (t == NULL) {
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "tuple_pack failed without ENOMEM");
            break;
        }
        REQUIRE(rcy_tuple_item_fast(t, 0) == item && rcy_tuple_item_fast(t, 1) == l, "tuple_pack items");
        rcy_object_t *nl = rcy_list_pack_steal(rt, 2, rcy_newref(item), t); /* t stolen */
        if (nl == NULL)
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "list_pack_steal failed without ENOMEM");
        else
            slot_take((int)(byte() % NSLOT), nl, k);
        break;
    }
    default: /* clear: empty afterwards unless a finalizer filled it again */
        REQUIRE(rcy_list_clear(l) == 0, "list_clear");
        break;
    }
}

static void op_list(int k)
{
    int li = pick_where(byte(), rcy_is_list);
    unsigned w = byte();
    if (li < 0 || F.s[li].rt != k)
        return;
    rcy_object_t *l = F.s[li].o;
    intptr_t len = rcy_list_len(l);
    REQUIRE(len >= 0, "list_len failed");
    int j = pick_rt(byte(), k);
    rcy_object_t *item = j >= 0 ? F.s[j].o : NULL;
    intptr_t idx = (intptr_t)(int8_t)byte();
    switch (w % 6) {
    case 0:
        if (item != NULL) {
            int rc = rcy_list_append(l, item);
            REQUIRE_OK(rc, "append");
            REQUIRE(rcy_list_len(l) == len + (rc == 0), "append changed the length wrongly");
            if (rc == 0)
                REQUIRE(rcy_list_get(l, -1) == item, "append stored elsewhere");
        }
        break;
    case 1:
        if (item != NULL) {
            int rc = rcy_list_insert(l, idx, item);
            REQUIRE_OK(rc, "insert");
            REQUIRE(rcy_list_len(l) == len + (rc == 0), "insert changed the length wrongly");
            if (rc == 0) {
                intptr_t at = idx < 0 ? (idx + len < 0 ? 0 : idx + len) : (idx > len ? len : idx);
                REQUIRE(rcy_list_get(l, at) == item, "insert stored elsewhere");
            }
        }
        break;
    case 2:
        if (item != NULL) {
            bool in = idx >= -len && idx < len;
            int rc = rcy_list_set(l, idx, item);
            REQUIRE(in ? rc == 0 : rc == RCY_EINDEX, "list_set result");
            REQUIRE(rcy_list_len(l) == len, "list_set changed the length");
            if (in)
                REQUIRE(rcy_list_get(l, idx) == item, "list_set stored elsewhere");
        }
        break;
    case 3: {
        bool in = idx >= -len && idx < len;
        rcy_object_t *expect = in ? rcy_list_get(l, idx) : NULL;
        rcy_object_t *got = rcy_list_pop(l, idx);
        REQUIRE(got == expect, "list_pop returned the wrong item");
        if (!in)
            REQUIRE(rcy_last_error(RT(k)) == RCY_EINDEX, "list_pop out of range without EINDEX");
        REQUIRE(rcy_list_len(l) == len - in, "list_pop changed the length wrongly");
        rcy_xdecref(got);
        break;
    }
    case 4: { /* a list from several items */
        intptr_t n = (intptr_t)(byte() % 4);
        rcy_object_t *items[4];
        for (intptr_t i = 0; i < n; i++)
            items[i] = item;
        if (item == NULL)
            n = 0;
        rcy_object_t *nl = rcy_list_new_from(RT(k), n, items);
        if (nl == NULL) {
            REQUIRE(rcy_last_error(RT(k)) == RCY_ENOMEM, "list_new_from failed without ENOMEM");
            break;
        }
        REQUIRE(rcy_list_len(nl) == n, "list_new_from length");
        slot_take((int)(byte() % NSLOT), nl, k);
        break;
    }
    default:
        if ((w >> 3) % 2 == 0) { /* get out of range */
            if (idx >= len || idx < -len)
                REQUIRE(rcy_list_get(l, idx) == NULL && rcy_last_error(RT(k)) == RCY_EINDEX, "list_get out of range");
            else
                REQUIRE(rcy_list_get(l, idx) != NULL, "list_get in range");
            break;
        }
        op_list_more(k, l, len, item, idx, w >> 4);
        break;
    }
}

/* The number of paths from o through tuples, lists and dicts (what
   equality, hashing and reprs visit, as CPython's do: a shared item is
   visited once per path), counted until it passes budget; below depth
   limit items count as leaves (deep chains are linear). Tuples that share
   one nested tuple n times at each of d levels have n^d paths: comparing
   them is correct but takes exponential time (two inputs ran past libFuzzer's
   timeout), so op_compare leaves such graphs alone. */
static long paths_within(const rcy_object_t *o, long budget, int limit)
{
    long n = 1;
    if (limit == 0 || budget <= 0)
        return n;
    if (rcy_is_tuple(o) || rcy_is_list(o)) {
        int tuple = rcy_is_tuple(o);
        intptr_t len = tuple ? rcy_tuple_len(o) : rcy_list_len(o);
        for (intptr_t i = 0; i < len && n <= budget; i++) {
            const rcy_object_t *item = tuple ? rcy_tuple_get(o, i) : rcy_list_get(o, i);
            if (item != NULL)
                n += paths_within(item, budget - n, limit - 1);
        }
    } else if (rcy_is_dict(o)) {
        intptr_t pos = 0;
        rcy_object_t *key, *value;
        while (n <= budget && rcy_dict_next(o, &pos, &key, &value) == 1) {
            n += paths_within(key, budget - n, limit - 1);
            n += paths_within(value, budget - n, limit - 1);
        }
    }
    return n;
}

enum { COMPARE_PATHS = 20000, COMPARE_DEPTH = 200 };

/* Whether hashing or comparing o would visit more than COMPARE_PATHS
   paths (as dict keys are hashed and compared). */
static bool too_wide(const rcy_object_t *o)
{
    return paths_within(o, COMPARE_PATHS, COMPARE_DEPTH) > COMPARE_PATHS;
}

static void op_dict(int k)
{
    int di = pick_where(byte(), rcy_is_dict);
    unsigned w = byte();
    if (di < 0 || F.s[di].rt != k)
        return;
    rcy_object_t *d = F.s[di].o;
    rcy_runtime_t *rt = RT(k);
    intptr_t len = rcy_dict_len(d);
    REQUIRE(len >= 0, "dict_len failed");
    int ki = pick_rt(byte(), k), vi = pick_rt(byte(), k);
    if (ki < 0 || vi < 0)
        return;
    rcy_object_t *key = F.s[ki].o, *value = F.s[vi].o;
    if (too_wide(key))
        return;
    int64_t h;
    int hr = rcy_hash(key, &h);
    REQUIRE(hr == 0 || hr == RCY_EHASH || hr == RCY_ESTATE || hr == RCY_EDEPTH, "hash result");
    if (w % 3 == 0) {
        rcy_object_t *had = hr == 0 ? rcy_dict_get(d, key) : NULL;
        int rc = rcy_dict_set(d, key, value);
        if (hr == RCY_EHASH) {
            REQUIRE(rc == RCY_EHASH, "an unhashable key was accepted");
        } else if (hr == 0) {
            REQUIRE_OK(rc, "dict_set");
            REQUIRE(rcy_dict_len(d) == len + (rc == 0 && had == NULL), "dict_set changed the length wrongly");
            if (rc == 0)
                REQUIRE(rcy_dict_get(d, key) == value, "dict_set stored another value");
        }
        if (rc != 0)
            REQUIRE(rcy_dict_len(d) == len, "a failed dict_set changed the dict");
    } else if (w % 3 == 1) {
        rcy_object_t *had = hr == 0 ? rcy_dict_get(d, key) : NULL;
        int rc = rcy_dict_del(d, key);
        if (hr == 0) {
            REQUIRE(had != NULL ? rc == 0 : rc == RCY_EKEY, "dict_del result");
            REQUIRE(rcy_dict_len(d) == len - (had != NULL), "dict_del changed the length wrongly");
            REQUIRE(rcy_dict_get(d, key) == NULL && rcy_last_error(rt) == RCY_EKEY, "dict_del left the key");
        } else {
            REQUIRE(rc < 0, "dict_del of an unhashable key succeeded");
        }
    } else {
        intptr_t pos = 0, n = 0;
        rcy_object_t *kk, *vv;
        int rc;
        while ((rc = rcy_dict_next(d, &pos, &kk, &vv)) == 1) {
            REQUIRE(kk != NULL && vv != NULL, "dict_next gave NULL");
            REQUIRE(rcy_dict_get(d, kk) == vv, "dict_next disagrees with get");
            n++;
        }
        REQUIRE(rc == 0 && n == len, "dict_next count differs from dict_len");
    }
}

static void op_attr(int k)
{
    int oi = pick_where(byte(), rcy_is_instance);
    unsigned w = byte();
    static const char *const names[4] = {"a", "b", "next", "x\"y\\z\n"};
    const char *name = names[w % 4];
    if (oi < 0 || F.s[oi].rt != k)
        return;
    rcy_object_t *o = F.s[oi].o;
    if ((w >> 2) & 1)
        o = rcy_instance_class(o); /* class attributes */
    REQUIRE(o != NULL, "instance_class");
    int vi = pick_rt(byte(), k);
    TRACE("  attr %u of %p (%s), value slot %d\n", (w >> 3) % 3, (void *)o, name, vi);
    switch ((w >> 3) % 3) {
    case 0:
        if (vi >= 0) {
            int rc = rcy_setattr(o, name, F.s[vi].o);
            REQUIRE_OK(rc, "setattr");
            if (rc == 0) {
                REQUIRE(rcy_getattr(o, name) == F.s[vi].o, "getattr after setattr");
                /* The str-object form sees the same attribute through the
                   interned name (a str of another runtime sees nothing). */
                rcy_object_t *key = rcy_str_intern(RT(k), name);
                REQUIRE(key != NULL || rcy_last_error(RT(k)) == RCY_ENOMEM, "str_intern failed without ENOMEM");
                if (key != NULL)
                    REQUIRE(rcy_getattr_str(o, key) == F.s[vi].o, "getattr_str after setattr");
                /* Now and then the instance's dict: the attribute moves
                   there and stays visible. */
                if ((w & 0x80) && rcy_is_instance(o)) {
                    rcy_object_t *d = rcy_instance_dict(o);
                    REQUIRE(d != NULL || rcy_last_error(RT(k)) == RCY_ENOMEM, "instance_dict failed without ENOMEM");
                    if (d != NULL) {
                        REQUIRE(rcy_is_dict(d) && rcy_instance_dict(o) == d, "instance_dict is one dict");
                        rcy_decref(d);
                        rcy_decref(d);
                        REQUIRE(rcy_getattr(o, name) == F.s[vi].o, "getattr after instance_dict");
                    }
                }
            }
        }
        break;
    case 1: {
        rcy_object_t *before = rcy_getattr(o, name);
        int rc = rcy_delattr(o, name);
        REQUIRE(rc == 0 || rc == RCY_EKEY, "delattr result");
        if (rc == RCY_EKEY)
            REQUIRE(rcy_getattr(o, name) == before, "a failed delattr changed the attribute");
        if (rc == 0 && rcy_is_instance(o)) {
            rcy_object_t *from_class = rcy_getattr(rcy_instance_class(o), name);
            REQUIRE(rcy_getattr(o, name) == from_class, "after delattr an instance sees its class's attribute");
        }
        break;
    }
    default: /* misuse */
        REQUIRE(rcy_setattr(o, "bad\xff", o) == RCY_EINVAL, "setattr with an invalid name");
        REQUIRE(rcy_setattr(o, NULL, o) == RCY_EINVAL, "setattr with a NULL name");
        REQUIRE(rcy_getattr(o, "no such attribute") == NULL && rcy_last_error(RT(k)) == RCY_EKEY, "getattr missing");
        REQUIRE(rcy_delattr(o, "no such attribute") == RCY_EKEY, "delattr missing");
        break;
    }
}

static void op_weak(int k)
{
    unsigned w = byte();
    rcy_runtime_t *rt = RT(k);
    if (w % 4 == 0) { /* a weak reference */
        int ti = pick_rt(byte(), k);
        if (ti < 0)
            return;
        rcy_object_t *t = F.s[ti].o;
        bool can = weakable(t);
        /* With bit 7, a slot's C function as the callback, if there is one
           (of any runtime: another's is refused). */
        int ci = (w & 4) && (w & 0x80) ? pick_where(w, rcy_is_cfunction) : -1;
        rcy_object_t *wr = ci >= 0 ? rcy_weakref_new_callable(t, F.s[ci].o)
                                   : rcy_weakref_new(t, (w & 4) ? weak_cb : NULL, (void *)(uintptr_t)(w >> 3));
        if (wr == NULL) {
            int e = rcy_last_error(rt);
            if (ci >= 0 && F.s[ci].rt != k)
                REQUIRE(e == RCY_ERUNTIME || e == RCY_ETYPE || e == RCY_ENOMEM, "weakref_new_callable error");
            else
                REQUIRE(can ? e == RCY_ENOMEM : (e == RCY_ETYPE || e == RCY_ENOMEM), "weakref_new error");
            return;
        }
        REQUIRE(ci < 0 || F.s[ci].rt == k, "a callback of another runtime accepted");
        if (ci >= 0)
            TRACE("  weak reference with a kind-%d C function as callback\n", cf_kind(F.s[ci].o));
        REQUIRE(rcy_weakref_count(t) >= 1, "weakref_count");
        (void)weakref_to_slot(wr, ti, k);
    } else if (w % 4 == 1) { /* a weak map operation */
        int mi = pick_where(byte(), rcy_is_weakmap);
        if (mi < 0 || F.s[mi].rt != k)
            return;
        rcy_object_t *m = F.s[mi].o;
        int ki = pick_rt(byte(), k), vi = pick_rt(byte(), k);
        if (ki < 0 || vi < 0)
            return;
        rcy_object_t *key = F.s[ki].o, *value = F.s[vi].o;
        if (too_wide(key) || too_wide(value))
            return;
        intptr_t len = rcy_weakmap_len(m);
        REQUIRE(len >= 0, "weakmap_len");
        switch ((w >> 2) % 5) {
        case 0: {
            int rc = rcy_weakmap_set(m, key, value);
            REQUIRE(rc == 0 || rc == RCY_ENOMEM || rc == RCY_ETYPE || rc == RCY_EHASH || rc == RCY_ESTATE ||
                        rc == RCY_EDEPTH,
                    "weakmap_set result");
            if (rc == 0) {
                /* (A get may fail for memory: a weak-key map allocates the
                   key's identity to look it up.) */
                rcy_object_t *got = rcy_weakmap_get(m, key);
                REQUIRE(got == value || (got == NULL && rcy_last_error(RT(k)) == RCY_ENOMEM), "weakmap_get after set");
                rcy_xdecref(got);
            }
            break;
        }
        case 1: {
            rcy_object_t *got = rcy_weakmap_get(m, key);
            bool unknown = got == NULL && rcy_last_error(RT(k)) == RCY_ENOMEM; /* the get failed for memory */
            int rc = rcy_weakmap_del(m, key);
            REQUIRE(unknown || (got != NULL ? (rc == 0 || rc == RCY_ENOMEM) : rc < 0), "weakmap_del result");
            if (rc == 0) {
                rcy_object_t *again = rcy_weakmap_get(m, key);
                REQUIRE(again == NULL, "weakmap_del left the key");
            }
            rcy_xdecref(got);
            break;
        }
        case 2: {
            intptr_t pos = 0, n = 0;
            rcy_object_t *kk, *vv;
            int rc;
            while ((rc = rcy_weakmap_next(m, &pos, &kk, &vv)) == 1) {
                n++;
                rcy_decref(kk);
                rcy_decref(vv);
            }
            REQUIRE(rc == 0 && n <= len, "weakmap_next");
            break;
        }
        case 3: { /* an entry whose weak side dies at once */
            rcy_object_t *fresh = new_instance(k, (int)((w >> 4) % 3));
            if (fresh == NULL)
                break;
            bool values = rcy_weakmap_set(m, key, fresh) == 0; /* a weak-value map takes it as value... */
            bool keys = !values && rcy_weakmap_set(m, fresh, value) == 0; /* ...a weak-key map as key */
            intptr_t with = rcy_weakmap_len(m);
            REQUIRE(with >= 0 && with <= len + 1, "weakmap_len after set");
            TRACE("  weak map entry of a fresh instance (%s)\n", values ? "value" : keys ? "key" : "refused");
            /* (An instance with a finalizer may resurrect itself.) */
            bool gone = rcy_getrefcount(fresh) == 1 && (w >> 4) % 3 == 0;
            rcy_decref(fresh); /* dies now, unless a finalizer resurrects it */
            if (gone && (values || keys)) {
                REQUIRE(rcy_weakmap_len(m) <= with - 1, "an entry outlived its weakly held object");
                if (values) {
                    rcy_object_t *got = rcy_weakmap_get(m, key);
                    REQUIRE(got == NULL && (rcy_last_error(rt) == RCY_EKEY || rcy_last_error(rt) == RCY_ENOMEM),
                            "a dead value is still mapped");
                }
            }
            break;
        }
        default: { /* misuse; a negative position is an error (0, the end, before the fix) */
            intptr_t pos = -5;
            rcy_object_t *kk = NULL, *vv = NULL;
            int rc = rcy_weakmap_next(m, &pos, &kk, &vv);
            REQUIRE(rc == 0 || rc == RCY_EINVAL, "weakmap_next with a negative position");
            REQUIRE(rcy_weakmap_set(m, NULL, value) == RCY_EINVAL, "weakmap_set NULL key");
            REQUIRE(rcy_weakmap_len(NULL) == RCY_EINVAL, "weakmap_len NULL");
            break;
        }
        }
    } else { /* finalize registrations */
        int ti = pick_rt(byte(), k);
        if (ti < 0)
            return;
        rcy_object_t *t = F.s[ti].o;
        if (w % 4 == 2 && F.nreg < MAXREG) {
            int n = F.nreg;
            rcy_object_t *f;
            if (w & 0x80) {
                /* A callable registration: a C function bound to its
                   index, with up to two atoms as arguments (never the
                   object itself, which would then never die). */
                NO_FAIL_BEGIN;
                rcy_object_t *idx = rcy_int_new(rt, n);
                rcy_object_t *cf = rcy_cfunction_new_named(rt, "fz_finalize", cf_registration, idx);
                rcy_object_t *args[2] = {idx, rcy_none(rt)};
                NO_FAIL_END;
                REQUIRE(idx != NULL && cf != NULL, "a registration's callable");
                f = rcy_finalize_register_callable(t, cf, args, (w >> 3) % 3);
                TRACE("  callable finalize registration %d with %u arguments: %p\n", n, (w >> 3) % 3, (void *)f);
                rcy_decref(cf);
                rcy_decref(idx);
            } else {
                f = rcy_finalize_register(t, finalize_cb, (void *)(intptr_t)n);
            }
            if (f == NULL) {
                int e = rcy_last_error(rt);
                REQUIRE(e == RCY_ENOMEM || (e == RCY_ETYPE && !weakable(t)),
                        "finalize_register error");
                return;
            }
            F.nreg++;
            F.reg[n].used = true;
            F.reg[n].atexit = true;
            REQUIRE(rcy_finalize_alive(f), "a new registration is not alive");
            registration_to_slot(f, n, k);
        } else {
            int fi = -1;
            for (int i = 0; i < NSLOT && fi < 0; i++)
                if (F.s[(ti + i) % NSLOT].reg >= 0 && F.s[(ti + i) % NSLOT].o != NULL)
                    fi = (ti + i) % NSLOT;
            if (fi < 0) {
                if (!rcy_is_weakref(t))
                    REQUIRE(rcy_finalize_call(t) == RCY_EINVAL, "finalize_call of a non-registration");
                return;
            }
            rcy_object_t *f = F.s[fi].o;
            int n = F.s[fi].reg;
            bool pending = F.reg[n].calls == 0 && !F.reg[n].detached;
            REQUIRE(rcy_finalize_alive(f) == pending, "finalize_alive differs from the model");
            switch ((w >> 2) % 3) {
            case 0: {
                int rc = rcy_finalize_call(f);
                REQUIRE(rc == (pending ? 1 : 0), "finalize_call result");
                break;
            }
            case 1: {
                F.detaching = n + 1; /* (an ex registration's release hook runs inside) */
                int rc = rcy_finalize_detach(f);
                F.detaching = 0;
                REQUIRE(rc == (pending ? 1 : 0), "finalize_detach result");
                if (rc == 1)
                    F.reg[n].detached = true;
                break;
            }
            default:
                F.reg[n].atexit = (w >> 4) & 1;
                REQUIRE(rcy_finalize_set_atexit(f, F.reg[n].atexit) == 0, "set_atexit");
                break;
            }
            REQUIRE(!rcy_finalize_alive(f) || F.reg[n].calls == 0, "a called registration is alive");
        }
    }
}

/* Equality, hashing, reprs. */
static void op_compare(int k)
{
    int a = pick_rt(byte(), k), b = pick_rt(byte(), k);
    unsigned size = byte() % 40;
    if (a < 0 || b < 0)
        return;
    rcy_object_t *x = F.s[a].o, *y = F.s[b].o;
    if (too_wide(x) || too_wide(y))
        return;
    int e1 = rcy_equal(x, y), e2 = rcy_equal(y, x);
    REQUIRE(e1 == 1 || e1 == 0 || e1 == RCY_ESTATE || e1 == RCY_EDEPTH, "equal result");
    if (e1 >= 0 && e2 >= 0)
        REQUIRE(e1 == e2, "equality is not symmetric");
    int64_t h1, h2;
    int r1 = rcy_hash(x, &h1), r2 = rcy_hash(y, &h2);
    if (e1 == 1 && r1 == 0 && r2 == 0)
        REQUIRE(h1 == h2, "equal objects hash differently");
    /* A repr into a buffer of exactly `size` bytes (ASan sees an overflow). */
    char *buf = size ? malloc(size) : NULL;
    int n = rcy_describe(x, buf, size);
    REQUIRE(n >= 0, "describe failed");
    if (size > 0) {
        REQUIRE(memchr(buf, 0, size) != NULL, "describe did not terminate its output");
        REQUIRE(strlen(buf) <= (size_t)n, "describe's length");
    }
    free(buf);
}

/* The leak tools. */
static void op_tools(int k)
{
    frt_t *r = &F.r[k];
    rcy_runtime_t *rt = r->rt;
    unsigned w = byte();
    int oi = pick_rt(byte(), k);
    TRACE("  tools %u on runtime %d, slot %d\n", w % 8, k, oi);
    switch (w % 8) {
    case 0: { /* by_type finds every held object of the type that is tracked */
        if (oi < 0)
            return;
        rcy_object_t *o = F.s[oi].o;
        const char *name = rcy_type_name(rcy_type(o));
        rcy_objarray_t a = {0};
        int rc = rcy_census_by_type(rt, name, &a);
        REQUIRE_OK(rc, "by_type");
        if (rc == 0) {
            bool found = false;
            for (size_t i = 0; i < a.len; i++) {
                found |= a.items[i] == o;
                REQUIRE(strcmp(rcy_type_name(rcy_type(a.items[i])), name) == 0, "by_type returned another type");
            }
            REQUIRE(a.len <= rcy_census_count(rt, name), "by_type found more than the census counts");
            if (rcy_gc_is_tracked(o))
                REQUIRE(found, "by_type missed a tracked object");
            rcy_objarray_release(&a);
        }
        break;
    }
    case 1: { /* external references cover the slots */
        if (oi < 0)
            return;
        rcy_object_t *o = F.s[oi].o;
        intptr_t held = 0;
        for (int i = 0; i < NSLOT; i++)
            held += F.s[i].o == o;
        intptr_t ext = rcy_external_refcount(o);
        REQUIRE(ext >= held || ext == RCY_ENOMEM, "external refcount below the harness's references");
        REQUIRE(ext <= rcy_getrefcount(o) || ext == RCY_ENOMEM, "external refcount above the count");
        break;
    }
    case 2: { /* chains, their text and their graph */
        if (oi < 0)
            return;
        rcy_object_t *o = F.s[oi].o;
        rcy_objarray_t chain = {0};
        int depth = (int)(byte() % 6);
        if (!(w & 8))
            REQUIRE(rcy_find_ref_chain(o, NULL, NULL, depth, &chain) == RCY_EINVAL, "find_ref_chain without a predicate");
        int rc = (w & 8) ? rcy_find_backref_chain(o, NULL, NULL, depth, &chain)
                         : rcy_find_ref_chain(o, chain_to_str, NULL, depth, &chain);
        REQUIRE(rc == 0 || rc == 1 || rc == RCY_ENOMEM, "find_backref_chain");
        if (rc < 0)
            return;
        if (w & 8)
            REQUIRE(chain.len >= 1 && chain.items[chain.len - 1] == o, "a chain does not end at its object");
        else
            REQUIRE(chain.len >= 1 && chain.items[0] == o && (rc == 0 || rcy_is_str(chain.items[chain.len - 1])),
                    "a forward chain does not start at its object or end at a match");
        size_t size = 1 + byte() % 64;
        char *buf = malloc(size);
        int n = rcy_chain_format(&chain, buf, size);
        REQUIRE(n >= 0 || n == RCY_ENOMEM, "chain_format");
        if (n >= 0)
            REQUIRE(strlen(buf) == ((size_t)n < size ? (size_t)n : size - 1), "chain_format's length");
        free(buf);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f != NULL) {
            rcy_graph_options_t opts;
            rcy_graph_options_init(&opts);
            opts.output = f;
            opts.extra_info = graph_info;
            opts.refcounts = (w >> 4) & 1;
            int g = rcy_show_chain(&chain, 1, (w & 8) != 0, &opts);
            fclose(f);
            REQUIRE(g == 0 || g == RCY_ENOMEM, "show_chain");
            if (g == 0)
                check_dot(text, len);
            free(text);
        }
        rcy_objarray_release(&chain);
        break;
    }
    case 3: { /* graphs of references, into memory */
        rcy_object_t *objs[3];
        size_t n = 0;
        for (int i = 0; i < 3; i++) {
            int j = pick_rt(byte(), k);
            if (j >= 0)
                objs[n++] = F.s[j].o;
        }
        if (n == 0)
            return;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f == NULL)
            return;
        rcy_graph_options_t opts;
        rcy_graph_options_init(&opts);
        opts.output = f;
        opts.max_depth = (int)(byte() % 5);
        opts.too_many = 1 + (int)(byte() % 12);
        opts.filter = graph_filter;
        opts.highlight = graph_highlight;
        opts.extra_info = (w & 16) ? graph_info : NULL;
        opts.arg = (void *)(uintptr_t)w;
        opts.refcounts = (w >> 5) & 1;
        opts.extra_ignore = objs + n - 1;
        opts.n_extra_ignore = (w >> 6) & 1;
        int g = (w & 8) ? rcy_show_backrefs(objs, n, &opts) : rcy_show_refs(objs, n, &opts);
        fclose(f);
        REQUIRE(g == 0 || g == RCY_ENOMEM, "show_refs / show_backrefs");
        if (g == 0)
            check_dot(text, len);
        free(text);
        break;
    }
    case 4: { /* leaking objects, roots */
        rcy_objarray_t a = {0};
        int rc = rcy_get_leaking_objects(rt, &a);
        REQUIRE_OK(rc, "get_leaking_objects");
        if (rc == 0) {
            for (size_t i = 0; i < a.len; i++)
                REQUIRE(rcy_gc_is_tracked(a.items[i]), "an untracked leaking object");
            rcy_objarray_release(&a);
        }
        if (oi >= 0) {
            rcy_object_t *o = F.s[oi].o;
            if (rcy_root_name(o) != NULL) {
                REQUIRE(rcy_root_add(o, "again") == RCY_ESTATE, "root_add twice");
                REQUIRE(rcy_root_remove(o) == 0, "root_remove");
                REQUIRE(rcy_root_name(o) == NULL, "root_name after remove");
            } else {
                REQUIRE(rcy_root_remove(o) == RCY_EKEY, "root_remove of a non-root");
                int ra = rcy_root_add(o, (w & 8) ? "module \"m\"\n" : "globals");
                REQUIRE_OK(ra, "root_add");
                if (ra == 0)
                    REQUIRE(rcy_root_name(o) != NULL, "root_name after add");
            }
        }
        break;
    }
    case 5: { /* growth */
        rcy_growth_options_t opts;
        rcy_growth_options_init(&opts);
        opts.collect = (w >> 3) & 1;
        opts.limit = (w >> 4) % 4;
        opts.since = (w >> 6) & 1 ? RCY_GROWTH_SINCE_LAST : RCY_GROWTH_SINCE_PEAK;
        rcy_growth_report_t rep;
        if (w & 128) {
            char *text = NULL;
            size_t tlen = 0;
            FILE *f = open_memstream(&text, &tlen);
            if (f == NULL)
                return;
            int rc = rcy_show_growth(r->growth, &opts, f);
            fclose(f);
            free(text);
            REQUIRE_OK(rc, "show_growth");
            return;
        }
        int rc = rcy_growth(r->growth, &opts, &rep);
        REQUIRE_OK(rc, "growth");
        if (rc == 0) {
            REQUIRE(opts.limit == 0 || rep.len <= opts.limit, "growth rows over the limit");
            for (size_t i = 0; i < rep.len; i++)
                REQUIRE(rep.items[i].count == rcy_census_count(rt, rep.items[i].name), "growth count");
            rcy_growth_report_release(&rep);
        }
        break;
    }
    case 6: { /* census printing into memory */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f == NULL)
            return;
        int rc = rcy_census_show_most_common_types(rt, (w >> 3) % 5, f);
        fclose(f);
        REQUIRE_OK(rc, "show_most_common_types");
        free(text);
        rcy_typestats_t ts;
        rc = rcy_census_most_common_types(rt, (w >> 3) % 5, &ts);
        REQUIRE_OK(rc, "most_common_types");
        if (rc == 0) {
            for (size_t i = 1; i < ts.len; i++)
                REQUIRE(ts.items[i - 1].count >= ts.items[i].count, "most_common_types not sorted by count");
            rcy_typestats_release(&ts);
        }
        break;
    }
    default: { /* introspection */
        if (oi < 0)
            return;
        rcy_object_t *o = F.s[oi].o;
        rcy_objarray_t a = {0};
        int rc = (w & 8) ? rcy_gc_get_referrers(rt, &o, 1, &a) : rcy_gc_get_referents(rt, &o, 1, &a);
        REQUIRE_OK(rc, "get_referrers / get_referents");
        if (rc == 0)
            rcy_objarray_release(&a);
        break;
    }
    }
}

/* The gc module. */
static void op_heap(int k);

static void op_gc(int k)
{
    rcy_runtime_t *rt = RT(k);
    unsigned w = byte();
    switch (w % 8) {
    case 0:
    case 1: {
        if (w % 8 == 1 && (w & 128)) {
            /* Idle time for incremental mode's pass: to its end, or a few
               microseconds (nothing in compat mode). */
            int done = rcy_gc_incr_step(rt, (w >> 3) % 4 == 0 ? 0 : 5 * ((w >> 3) % 16));
            REQUIRE(done == 0 || done == 1, "incr_step failed");
            REQUIRE(done == 0 || rcy_gc_get_mode(rt) == RCY_GC_INCREMENTAL, "an idle step did something in compat mode");
            break;
        }
        intptr_t n = rcy_gc_collect(rt, (int)((w >> 3) % 3));
        REQUIRE(n >= 0, "collect failed");
        break;
    }
    case 2: {
        int t0 = (int)(byte() % 12);
        REQUIRE(rcy_gc_set_threshold(rt, t0, 1 + (int)(w >> 3) % 4, 1 + (int)(w >> 5) % 4) == 0, "set_threshold");
        int th[RCY_GC_GENERATIONS];
        REQUIRE(rcy_gc_get_threshold(rt, th) == 0 && th[0] == t0, "get_threshold");
        break;
    }
    case 3:
        if ((w & 0xF0) == 0xF0) {
            op_heap(k);
        } else if (w & 8) {
            REQUIRE(rcy_gc_freeze(rt) == 0, "freeze");
            REQUIRE(rcy_gc_get_freeze_count(rt) > 0, "nothing frozen");
        } else {
            REQUIRE(rcy_gc_unfreeze(rt) == 0 && rcy_gc_get_freeze_count(rt) == 0, "unfreeze");
        }
        break;
    case 4: {
        size_t len = rcy_gc_garbage_len(rt);
        for (size_t i = 0; i < len; i++)
            REQUIRE(rcy_gc_garbage_get(rt, i) != NULL, "garbage_get in range");
        REQUIRE(rcy_gc_garbage_get(rt, len) == NULL, "garbage_get past the end");
        intptr_t n = rcy_gc_garbage_clear(rt);
        REQUIRE(n >= 0 && rcy_gc_garbage_len(rt) == 0, "garbage_clear");
        break;
    }
    case 5: { /* switches and statistics */
        static const int flags[4] = {0, RCY_DEBUG_SAVEALL, RCY_DEBUG_STATS, RCY_DEBUG_COLLECTABLE | RCY_DEBUG_UNCOLLECTABLE};
        REQUIRE(rcy_gc_set_debug(rt, flags[(w >> 3) % 4]) == 0, "set_debug");
        if (w & 32)
            rcy_gc_disable(rt);
        else
            rcy_gc_enable(rt);
        rcy_gc_stats_t st[RCY_GC_GENERATIONS];
        rcy_gc_stats_init(st);
        REQUIRE(rcy_gc_get_stats(rt, st) == 0, "get_stats");
        int counts[RCY_GC_GENERATIONS];
        REQUIRE(rcy_gc_get_count(rt, counts) == 0, "get_count");
        break;
    }
    case 6: { /* objects of a generation, each tracked */
        rcy_objarray_t a = {0};
        int g = (int)((w >> 3) % 4) - 1;
        int rc = rcy_gc_get_objects(rt, g, &a);
        REQUIRE_OK(rc, "get_objects");
        if (rc == 0) {
            for (size_t i = 0; i < a.len; i++)
                REQUIRE(rcy_gc_is_tracked(a.items[i]) && rcy_object_runtime(a.items[i]) == rt, "get_objects");
            rcy_objarray_release(&a);
        }
        REQUIRE(rcy_gc_get_objects(rt, 3, &a) == RCY_EINVAL, "get_objects of generation 3");
        break;
    }
    default: {
        {
            /* Trim gives the collector's arrays back (an incremental
               pass's stay until it ends); a second trim has nothing more. */
            rcy_runtime_memory_t m0, m1;
            rcy_runtime_memory_init(&m0);
            rcy_runtime_memory_init(&m1);
            REQUIRE(rcy_runtime_memory(rt, &m0) == 0, "runtime_memory");
            REQUIRE(rcy_memory_trim(rt) >= 0, "memory_trim");
            REQUIRE(rcy_runtime_memory(rt, &m1) == 0, "runtime_memory");
            REQUIRE(m1.collector_bytes <= m0.collector_bytes, "memory_trim grew the collector's arrays");
            REQUIRE(rcy_memory_trim(rt) >= 0, "memory_trim");
            REQUIRE(rcy_runtime_memory(rt, &m0) == 0, "runtime_memory");
            REQUIRE(m0.collector_bytes == m1.collector_bytes, "a second memory_trim changed the collector's arrays");
        }
        int oi = pick_rt(byte(), k);
        if (oi < 0)
            break;
        rcy_object_t *o = F.s[oi].o;
        rcy_type_t *t = rcy_type(o);
        REQUIRE(rcy_type_runtime(t) == rt, "type_runtime");
        REQUIRE(rcy_type_live_objects(t) >= 1 || rcy_is_immortal(o), "type_live_objects");
        REQUIRE(rcy_census_bytes(rt, rcy_type_name(t)) >= rcy_type_live_bytes(t), "census_bytes");
        if (rcy_is_instance(o) && rcy_instance_class(o) == F.r[k].cls[1]) {
            int id = instance_id(o);
            if (id >= 0)
                REQUIRE(rcy_gc_is_finalized(o) == (F.r[k].fin_calls[id] > 0), "is_finalized differs from the calls");
        }
        if (rcy_type_is_gc(t) && !rcy_is_immortal(o) && (w & 8)) {
            /* Untracked for a moment (a collection in between could not
               see a cycle through it: none can run here). */
            bool tracked = rcy_gc_is_tracked(o);
            REQUIRE(rcy_gc_untrack(o) == 0 && !rcy_gc_is_tracked(o), "untrack");
            REQUIRE(rcy_gc_track(o) == 0 && rcy_gc_is_tracked(o), "track");
            REQUIRE(rcy_gc_track(o) == RCY_ESTATE, "track twice");
            if (!tracked)
                REQUIRE(rcy_gc_untrack(o) == 0, "untrack again");
        } else if (!rcy_type_is_gc(t) && !rcy_is_immortal(o) && (w & 16)) {
            /* Immortal atoms (no cycles possible): released at teardown. */
            int rc = rcy_immortalize(o);
            REQUIRE_OK(rc, "immortalize");
            if (rc == 0)
                REQUIRE(rcy_is_immortal(o) && rcy_immortalize(o) == RCY_EINVAL, "immortalize twice");
        }
        break;
    }
    }
}

/* Calls that must fail cleanly: wrong types, bad indexes, NULLs. */
static void op_misuse(int k)
{
    rcy_runtime_t *rt = RT(k);
    unsigned w = byte();
    int oi = pick_rt(byte(), k);
    rcy_object_t *o = oi >= 0 ? F.s[oi].o : NULL;
    switch (w % 6) {
    case 0:
        REQUIRE(rcy_list_len(NULL) == RCY_EINVAL && rcy_dict_len(NULL) == RCY_EINVAL, "len of NULL");
        REQUIRE(rcy_tuple_len(NULL) == RCY_EINVAL && rcy_str_len(NULL) == RCY_EINVAL, "len of NULL");
        REQUIRE(rcy_list_append(NULL, o) == RCY_EINVAL, "append to NULL");
        REQUIRE(rcy_weakref_get(NULL) == NULL && !rcy_weakref_is_alive(NULL), "weakref of NULL");
        REQUIRE(rcy_equal(NULL, o) == RCY_EINVAL, "equal with NULL");
        REQUIRE(rcy_str_new(rt, NULL) == NULL && rcy_last_error(rt) == RCY_EINVAL, "str of NULL");
        REQUIRE(rcy_gc_collect(rt, 3) == RCY_EINVAL && rcy_gc_collect(rt, -1) == RCY_EINVAL, "collect of generation 3");
        REQUIRE(rcy_gc_set_threshold(rt, -1, 1, 1) == RCY_EINVAL, "negative threshold");
        REQUIRE(rcy_gc_set_debug(rt, 8) == RCY_EINVAL, "debug flag 8");
        REQUIRE(rcy_tuple_new(rt, -1, NULL) == NULL && rcy_last_error(rt) == RCY_EINVAL, "tuple of -1 items");
        REQUIRE(rcy_finalize_register(o, NULL, NULL) == NULL, "finalize_register without a callback");
        for (int e = 0; e >= -12; e--)
            REQUIRE(rcy_strerror(e) != NULL && rcy_strerror(e)[0] != '\0', "strerror");
        REQUIRE(rcy_gc_isenabled(rt) >= 0 && rcy_gc_get_debug(rt) >= 0, "gc switches");
        REQUIRE(rcy_gc_callback_remove(rt, gc_callback, NULL) == RCY_EKEY, "callback_remove of an unknown callback");
        break;
    case 1: /* a wrong type for each container call */
        if (o == NULL)
            break;
        if (!rcy_is_list(o)) {
            REQUIRE(rcy_list_append(o, o) == RCY_ETYPE, "append to a non-list");
            REQUIRE(rcy_list_len(o) == RCY_ETYPE, "list_len of a non-list");
            REQUIRE(rcy_list_get(o, 0) == NULL && rcy_last_error(rt) == RCY_ETYPE, "list_get of a non-list");
            REQUIRE(rcy_list_pop(o, 0) == NULL && rcy_last_error(rt) == RCY_ETYPE, "list_pop of a non-list");
        }
        if (!rcy_is_dict(o)) {
            REQUIRE(rcy_dict_set(o, o, o) == RCY_ETYPE, "dict_set of a non-dict");
            REQUIRE(rcy_dict_len(o) == RCY_ETYPE, "dict_len of a non-dict");
            intptr_t pos = 0;
            REQUIRE(rcy_dict_next(o, &pos, NULL, NULL) == RCY_ETYPE, "dict_next of a non-dict");
        }
        if (!rcy_is_tuple(o))
            REQUIRE(rcy_tuple_get(o, 0) == NULL && rcy_last_error(rt) == RCY_ETYPE, "tuple_get of a non-tuple");
        if (!rcy_is_str(o))
            REQUIRE(rcy_str_data(o) == NULL && rcy_str_len(o) == RCY_ETYPE, "str of a non-str");
        if (!rcy_is_int(o)) {
            int64_t v;
            REQUIRE(rcy_int_value(o, &v) == RCY_ETYPE, "int_value of a non-int");
        }
        if (!rcy_is_class(o))
            REQUIRE(rcy_instance_new(o) == NULL && rcy_last_error(rt) == RCY_ETYPE, "instance of a non-class");
        if (!rcy_is_instance(o) && !rcy_is_class(o))
            REQUIRE(rcy_setattr(o, "a", o) == RCY_ETYPE, "setattr on an object without attributes");
        if (!weakable(o))
            REQUIRE(rcy_weakref_new(o, NULL, NULL) == NULL && rcy_last_error(rt) == RCY_ETYPE, "weakref to an atom");
        if (!rcy_is_weakmap(o))
            REQUIRE(rcy_weakmap_set(o, o, o) == RCY_EINVAL, "weakmap_set of a non-map");
        if (!rcy_is_weakref(o))
            REQUIRE(rcy_finalize_call(o) == RCY_EINVAL && rcy_finalize_detach(o) == RCY_EINVAL, "finalize_call");
        break;
    case 2: { /* unhashable keys */
        int di = pick_where(byte(), rcy_is_dict);
        if (di < 0 || F.s[di].rt != k)
            break;
        rcy_object_t *d = F.s[di].o;
        intptr_t len = rcy_dict_len(d);
        REQUIRE(rcy_dict_set(d, d, d) == RCY_EHASH, "a dict as a key");
        REQUIRE(rcy_dict_get(d, d) == NULL && rcy_last_error(rt) == RCY_EHASH, "dict_get with a dict key");
        REQUIRE(rcy_dict_len(d) == len, "a refused key changed the dict");
        int64_t h;
        REQUIRE(rcy_hash(d, &h) == RCY_EHASH, "hash of a dict");
        break;
    }
    case 3: { /* NULL items */
        rcy_object_t *items[2] = {o, NULL};
        if (o == NULL)
            break;
        REQUIRE(rcy_tuple_new(rt, 2, items) == NULL && rcy_last_error(rt) == RCY_EINVAL, "tuple with a NULL item");
        REQUIRE(rcy_list_new_from(rt, 2, items) == NULL && rcy_last_error(rt) == RCY_EINVAL, "list with a NULL item");
        int li = pick_where(byte(), rcy_is_list);
        if (li >= 0) {
            intptr_t len = rcy_list_len(F.s[li].o);
            REQUIRE(rcy_list_append(F.s[li].o, NULL) == RCY_EINVAL, "append NULL");
            REQUIRE(rcy_list_insert(F.s[li].o, 0, NULL) == RCY_EINVAL, "insert NULL");
            REQUIRE(rcy_list_len(F.s[li].o) == len, "a refused item changed the list");
        }
        break;
    }
    case 4: { /* types and classes from bad specs */
        rcy_type_spec_t spec;
        memset(&spec, 0, sizeof spec);
        spec.name = (w & 8) ? "Bad" : NULL;
        spec.basicsize = (w & 16) ? 4 : sizeof(rcy_object_t) + 8;
        spec.weaklistoffset = (w & 32) ? 1000 : 0; /* past the object */
        spec.flags = (w & 64) ? RCY_TPFLAGS_GC : 0; /* GC without traverse and clear */
        bool bad = spec.name == NULL || spec.basicsize < sizeof(rcy_object_t) || spec.weaklistoffset != 0 ||
                   spec.flags != 0;
        rcy_type_t *t = rcy_type_new(rt, &spec);
        if (bad)
            REQUIRE(t == NULL && rcy_last_error(rt) == RCY_EINVAL, "an invalid type spec was accepted");
        REQUIRE(rcy_class_new(rt, NULL, NULL) == NULL && rcy_last_error(rt) == RCY_EINVAL, "class without a name");
        REQUIRE(rcy_class_new(rt, "bad\xc0\x80", NULL) == NULL && rcy_last_error(rt) == RCY_EINVAL,
                "class with an ill-formed name");
        rcy_class_spec_t cs = {class_finalize, class_legacy, &F.r[k]};
        REQUIRE(rcy_class_new(rt, "Both", &cs) == NULL && rcy_last_error(rt) == RCY_EINVAL,
                "class with both finalizers");
        break;
    }
    default: { /* objects of another runtime (RCY_ERUNTIME once the cross-runtime checks are in) */
        int k2 = (k + 1 + (int)((w >> 3) & 1)) % NRT;
        int fi = pick_rt(byte(), k2);
        int li = pick_where(byte(), rcy_is_list);
        if (fi < 0 || li < 0 || F.s[li].rt != k)
            break;
        rcy_object_t *l = F.s[li].o, *foreign = F.s[fi].o;
        intptr_t len = rcy_list_len(l);
        int rc = rcy_list_append(l, foreign);
        REQUIRE(rc == RCY_ERUNTIME || rc == 0 || rc == RCY_ENOMEM, "append of a foreign object");
        if (rc == 0) {
            /* Before the checks: undo it at once (no call in between can
               collect), so that no graph spans two runtimes. */
            rcy_object_t *back = rcy_list_pop(l, -1);
            REQUIRE(back == foreign, "the foreign item moved");
            rcy_decref(back);
        }
        REQUIRE(rcy_list_len(l) == len, "a refused foreign item changed the list");
        break;
    }
    }
}

/* A chain deeper than the trashcan's limit (lists, tuples or instances
   through an attribute), and the recursive operations over it. */
static void op_deep(int k)
{
    rcy_runtime_t *rt = RT(k);
    unsigned w = byte();
    int n = 40 + (int)(byte() % 4) * 60;
    rcy_object_t *head = rcy_int_new(rt, 7);
    if (head == NULL)
        return;
    for (int i = 0; i < n && head != NULL; i++) {
        rcy_object_t *next = NULL;
        switch (w % 3) {
        case 0: next = rcy_list_new_from(rt, 1, &head); break;
        case 1: next = rcy_tuple_new(rt, 1, &head); break;
        default:
            next = new_instance(k, (int)((w >> 2) % 3));
            if (next != NULL) {
                int rc = rcy_setattr(next, "next", head);
                REQUIRE_OK(rc, "setattr in a deep chain");
                if (rc != 0) /* (checked first: the release runs a finalizer, which sets other errors) */
                    RCY_CLEAR(next);
                if (next == NULL)
                    break;
            } else {
                REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "a deep chain failed without ENOMEM");
            }
            break;
        }
        if (next == NULL && w % 3 != 2)
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "a deep chain failed without ENOMEM");
        rcy_decref(head);
        head = next;
    }
    if (head == NULL)
        return;
    NO_FAIL_BEGIN;
    int64_t h;
    int hr = rcy_hash(head, &h);
    REQUIRE(w % 3 == 0 ? hr == RCY_EHASH : (hr == 0 || hr == RCY_ESTATE || hr == RCY_EDEPTH), "hash of a deep chain");
    REQUIRE(rcy_equal(head, head) == 1, "a deep chain differs from itself");
    char buf[64];
    REQUIRE(rcy_describe(head, buf, sizeof buf) >= 0, "repr of a deep chain");
    NO_FAIL_END;
    if ((w >> 4) & 1) { /* a cycle through the chain's end: the collector frees it */
        int j = pick_rt(byte(), k);
        if (j >= 0 && rcy_is_list(head))
            REQUIRE_OK(rcy_list_append(head, F.s[j].o), "append to a deep chain");
    }
    slot_take((int)(byte() % NSLOT), head, k);
}

/* Writes into memory what out-taking printers write; the text is checked
   to be one NUL-free string and dropped. */
#define PRINT_INTO_MEMORY(call, what)                                                              \
    do {                                                                                           \
        char *text_ = NULL;                                                                        \
        size_t len_ = 0;                                                                           \
        FILE *f_ = open_memstream(&text_, &len_);                                                  \
        if (f_ != NULL) {                                                                          \
            int rc_ = (call);                                                                      \
            fclose(f_);                                                                            \
            REQUIRE_OK(rc_, what);                                                                 \
            REQUIRE(text_ == NULL || strlen(text_) == len_, what " wrote a NUL byte");             \
            free(text_);                                                                           \
        }                                                                                          \
    } while (0)

/* Issue 18's heap tools (retained sizes, largest retainers, snapshots and
   their differences, stable ids, the heap dump and report, allocation
   sites), heap validation, the collector's mode switched at any moment,
   external bytes, and the pending error's value. Every heap walk numbers
   the containers in their headers and must restore them: check_all's
   validation after the operation sees any it did not. */
static void op_heap(int k)
{
    frt_t *r = &F.r[k];
    rcy_runtime_t *rt = r->rt;
    unsigned w = byte();
    int oi = pick_rt(byte(), k);
    rcy_object_t *o = oi >= 0 ? F.s[oi].o : NULL;
    TRACE("  heap %u on runtime %d, slot %d\n", w % 8, k, oi);
    switch (w % 8) {
    case 0: { /* the mode, switched now (a pass in progress is given up) */
        rcy_gc_mode_t m = (w >> 3) & 1 ? RCY_GC_INCREMENTAL : RCY_GC_COMPAT;
        REQUIRE(rcy_gc_set_mode(rt, m) == 0 && rcy_gc_get_mode(rt) == m, "set_mode");
        REQUIRE(rcy_gc_set_mode(rt, (rcy_gc_mode_t)7) == RCY_EINVAL && rcy_gc_get_mode(rt) == m, "set_mode 7");
        if ((w >> 4) & 1) {
            int done = rcy_gc_incr_step(rt, 5 * ((w >> 5) % 8));
            REQUIRE(done == 0 || (done == 1 && m == RCY_GC_INCREMENTAL), "incr_step after set_mode");
        }
        break;
    }
    case 1: { /* external bytes: charged, released, never below zero */
        if (o == NULL)
            return;
        size_t bytes = (size_t)word() << ((w >> 3) % 8);
        if ((w >> 6) & 1 || r->external == 0) {
            REQUIRE(rcy_gc_charge_external(o, bytes) == 0, "charge_external");
            r->external += bytes;
        } else {
            REQUIRE(rcy_gc_release_external(o, r->external + 1) == RCY_EINVAL, "released more than charged");
            size_t part = bytes % (r->external + 1);
            REQUIRE(rcy_gc_release_external(o, part) == 0, "release_external");
            r->external -= part;
        }
        REQUIRE(rcy_gc_charge_external(NULL, 1) == RCY_EINVAL, "charge_external NULL");
        break;
    }
    case 2: /* the whole heap is consistent */
        REQUIRE(rcy_gc_validate(rt) == 0, "heap validation failed");
        break;
    case 3: { /* one object's retained size */
        if (o == NULL)
            return;
        rcy_retained_t ret;
        rcy_retained_init(&ret);
        int rc = rcy_retained_size(o, &ret);
        REQUIRE(rc == 0 || rc == RCY_ENOMEM || (rc == RCY_EINVAL && rcy_is_immortal(o)), "retained_size");
        if (rc == 0) {
            REQUIRE(ret.objects >= 1 && ret.bytes >= ret.self_bytes, "retained size below the object's own");
            REQUIRE(ret.is_root && ret.dominator == NULL, "an object the harness holds is no root");
        }
        rcy_xdecref(ret.dominator);
        rcy_retained_t bad;
        rcy_retained_init(&bad);
        bad.size = 1;
        REQUIRE(rcy_retained_size(o, &bad) == RCY_EINVAL, "retained_size with a wrong size field");
        break;
    }
    case 4: { /* the largest retainers, and their table */
        size_t n = byte() % 5;
        rcy_retainers_t rs;
        int rc = rcy_largest_retainers(rt, n, &rs);
        REQUIRE_OK(rc, "largest_retainers");
        if (rc == 0) {
            REQUIRE(rs.len <= (n ? n : 10), "more retainers than asked for");
            for (size_t i = 0; i < rs.len; i++) {
                rcy_retainer_t *x = &rs.items[i];
                REQUIRE(x->obj != NULL && rcy_object_runtime(x->obj) == rt, "a retainer of another runtime");
                REQUIRE(x->objects >= 1 && x->bytes >= x->self_bytes, "a retainer below its own size");
                REQUIRE(i == 0 || rs.items[i - 1].bytes >= x->bytes, "retainers not sorted by bytes");
                REQUIRE(strcmp(x->type_name, rcy_type_name(rcy_type(x->obj))) == 0, "a retainer's type name");
                REQUIRE(rcy_retainer_root_kind_name(x->root_kind) != NULL, "root kind name");
            }
            rcy_retainers_release(&rs);
        }
        PRINT_INTO_MEMORY(rcy_show_largest_retainers(rt, n, f_), "show_largest_retainers");
        break;
    }
    case 5: { /* snapshots, their difference, stable ids */
        if (o != NULL) {
            uint64_t id = rcy_object_id(o);
            REQUIRE(id != 0 || rcy_last_error(rt) == RCY_ENOMEM, "object_id failed without ENOMEM");
            if (id != 0) {
                REQUIRE(rcy_object_id(o) == id, "an object's id changed");
                rcy_object_t *back = rcy_object_from_id(rt, id);
                REQUIRE(back == o, "object_from_id did not find a live object");
                rcy_decref(back);
            }
        }
        rcy_snapshot_t *now = rcy_snapshot_take(rt);
        if (now == NULL) {
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "snapshot_take failed without ENOMEM");
            break;
        }
        REQUIRE(rcy_snapshot_len(now) >= 1 && rcy_snapshot_bytes(now) >= rcy_snapshot_len(now), "an empty snapshot");
        if (r->snap != NULL) {
            rcy_snapshot_diff_t d;
            size_t limit = byte() % 4;
            int rc = rcy_snapshot_diff(r->snap, now, limit, &d);
            REQUIRE_OK(rc, "snapshot_diff");
            if (rc == 0) {
                size_t nn = 0;
                for (size_t i = 0; i < d.n_new_by_type; i++)
                    nn += d.new_by_type[i].count;
                REQUIRE(limit != 0 ? nn <= d.new_objects : nn == d.new_objects, "new objects by type do not sum");
                REQUIRE(limit == 0 || d.n_grown <= limit, "more grown retainers than the limit");
                for (size_t i = 0; i < d.n_grown; i++)
                    REQUIRE(d.grown[i].delta > 0 && d.grown[i].bytes_after > d.grown[i].bytes_before, "a grown row");
                PRINT_INTO_MEMORY(rcy_snapshot_diff_show(&d, f_), "snapshot_diff_show");
                rcy_snapshot_diff_release(&d);
            }
        }
        if ((w >> 3) & 1) {
            rcy_snapshot_free(now);
        } else {
            rcy_snapshot_free(r->snap);
            r->snap = now;
        }
        break;
    }
    case 6: { /* the heap dump and the report (into /dev/null: the whole
                 writer runs), the census by site */
        int rc = (w >> 3) & 1 ? rcy_heap_report(rt, "/dev/null") : rcy_heap_dump(rt, "/dev/null");
        REQUIRE_OK(rc, "heap dump or report");
        rc = rcy_heap_dump(rt, "/nonexistent-dir/x"); /* (the walk comes first: it may fail for memory) */
        REQUIRE(rc == RCY_ESTATE || rc == RCY_ENOMEM, "a dump into no file");
        rcy_typestats_t ts;
        rc = rcy_census_by_site(rt, (w >> 4) % 3, &ts);
        REQUIRE_OK(rc, "census_by_site");
        if (rc == 0) {
            for (size_t i = 1; i < ts.len; i++)
                REQUIRE(ts.items[i - 1].bytes >= ts.items[i].bytes, "census by site not sorted by bytes");
            rcy_typestats_release(&ts);
        }
        PRINT_INTO_MEMORY(rcy_census_show_by_site(rt, 0, f_), "census_show_by_site");
        break;
    }
    default: {
        if ((w >> 3) & 1) { /* allocation sites: on and off, one recorded by hand */
            if (rcy_sites_is_tracing(rt)) {
                REQUIRE(rcy_sites_stop(rt) == 0 && !rcy_sites_is_tracing(rt), "sites_stop");
                if (o != NULL)
                    REQUIRE(rcy_object_site(o) == NULL, "a site outlived its recording");
            } else {
                rcy_sites_options_t opts;
                rcy_sites_options_init(&opts);
                opts.sample = (w >> 4) % 3;
                int rc = rcy_sites_start(rt, &opts);
                REQUIRE_OK(rc, "sites_start");
                REQUIRE(rc != 0 || rcy_sites_is_tracing(rt), "sites_start did not start");
                if (rc == 0 && o != NULL) {
                    REQUIRE(rcy_record_site(o, "fuzz_api.c", 7) == o, "record_site");
                    const char *site = rcy_object_site(o);
                    REQUIRE(site == NULL || strchr(site, ':') != NULL, "a site without a line");
                }
            }
        } else { /* the pending error's value, fetched and restored */
            if (o == NULL)
                return;
            NO_FAIL_BEGIN;
            REQUIRE(rcy_error_set_value(rt, FZ_ERROR, "fuzz: with a value", o) == FZ_ERROR, "error_set_value");
            REQUIRE(rcy_error_value(rt) == o && rcy_last_error(rt) == FZ_ERROR, "error_value");
            rcy_error_state_t st;
            rcy_error_fetch(rt, &st);
            REQUIRE(rcy_last_error(rt) == 0 && rcy_error_value(rt) == NULL, "error_fetch left an error");
            rcy_error_restore(rt, &st);
            REQUIRE(rcy_error_value(rt) == o && rcy_last_error(rt) == FZ_ERROR, "error_restore");
            REQUIRE(rcy_error_message(rt) != NULL && strcmp(rcy_error_message(rt), "fuzz: with a value") == 0,
                    "error_message");
            int other = pick_rt(byte(), (k + 1) % NRT);
            if (other >= 0)
                REQUIRE(rcy_error_set_value(rt, FZ_ERROR, NULL, F.s[other].o) == RCY_ERUNTIME &&
                            rcy_error_value(rt) == o,
                        "an error value of another runtime");
            rcy_error_clear(rt);
            NO_FAIL_END;
        }
        break;
    }
    }
}

/* ---- The rest of the API ------------------------------------------------ */

/* rcy_tuple_pack_steal (which 0), rcy_list_pack (1) or rcy_list_pack_steal
   (2) of the n (0-3) items it[] (the steal forms get new references). */
static rcy_object_t *pack_call(rcy_runtime_t *rt, int which, int n, rcy_object_t *const *it)
{
    rcy_object_t *(*f)(rcy_runtime_t *, intptr_t, ...) =
        which == 0 ? rcy_tuple_pack_steal : which == 1 ? rcy_list_pack : rcy_list_pack_steal;
    rcy_object_t *a[3] = {NULL, NULL, NULL};
    for (int i = 0; i < n; i++)
        a[i] = which == 1 ? it[i] : rcy_xnewref(it[i]);
    switch (n) {
    case 0: return f(rt, 0);
    case 1: return f(rt, 1, a[0]);
    case 2: return f(rt, 2, a[0], a[1]);
    default: return f(rt, 3, a[0], a[1], a[2]);
    }
}

/* Attributes by str object (rcy_setattr_str and its two friends) beside
   rcy_hasattr and rcy_getattr_ref, with the name interned, a fresh str, a
   str of another runtime, or not a str at all. */
static void op_attr_str(int k, unsigned w)
{
    int oi = pick_where(byte(), rcy_is_instance);
    if (oi < 0 || F.s[oi].rt != k)
        return;
    rcy_runtime_t *rt = RT(k);
    static const char *const names[3] = {"a", "b", "next"};
    const char *cname = names[(w >> 3) % 3];
    rcy_object_t *o = F.s[oi].o;
    if ((w >> 5) & 1)
        o = rcy_instance_class(o);
    int vi = pick_rt(byte(), k);
    unsigned form = byte() % 4;
    rcy_object_t *name = form == 0   ? rcy_str_intern(rt, cname)
                         : form == 1 ? rcy_str_new(rt, cname)
                         : form == 2 ? rcy_str_new(RT((k + 1) % NRT), cname)
                                     : rcy_int_new(rt, 7);
    if (name == NULL) {
        REQUIRE(rcy_last_error(form == 2 ? RT((k + 1) % NRT) : rt) == RCY_ENOMEM, "a name failed without ENOMEM");
        return;
    }
    TRACE("  attr_str %u of %p (%s, name form %u), value slot %d\n", (w >> 6) % 3, (void *)o, cname, form, vi);
    rcy_object_t *before = rcy_getattr(o, cname); /* borrowed: compared only before anything runs */
    REQUIRE(rcy_hasattr(o, cname) == (before != NULL), "hasattr disagrees with getattr");
    rcy_object_t *out = (rcy_object_t *)&out;
    int last = rcy_last_error(rt);
    int rc = rcy_getattr_ref(o, cname, &out);
    REQUIRE(rc == (before != NULL) && out == before, "getattr_ref disagrees with getattr");
    if (rc == 0)
        REQUIRE(rcy_last_error(rt) == last, "getattr_ref recorded an absent attribute");
    rcy_xdecref(out);
    switch ((w >> 6) % 3) {
    case 0:
        if (vi < 0)
            break;
        rc = rcy_setattr_str(o, name, F.s[vi].o);
        if (form == 2) {
            REQUIRE(rc == RCY_ERUNTIME && rcy_getattr(o, cname) == before, "setattr_str with another runtime's name");
        } else if (form == 3) {
            REQUIRE(rc == RCY_ETYPE && rcy_getattr(o, cname) == before, "setattr_str with a name not a str");
        } else {
            REQUIRE_OK(rc, "setattr_str");
            if (rc == 0) {
                REQUIRE(rcy_getattr(o, cname) == F.s[vi].o, "getattr after setattr_str");
                REQUIRE(rcy_hasattr(o, cname) == 1, "hasattr after setattr_str");
                rc = rcy_getattr_ref(o, cname, &out);
                REQUIRE(rc == 1 && out == F.s[vi].o, "getattr_ref after setattr_str");
                rcy_decref(out);
            }
        }
        break;
    case 1: {
        rcy_object_t *got = rcy_getattr_str(o, name);
        if (form >= 2)
            REQUIRE(got == NULL && rcy_last_error(rt) == (form == 2 ? RCY_EKEY : RCY_ETYPE),
                    "getattr_str with another runtime's name or one not a str");
        else
            REQUIRE(got == before && (got != NULL || rcy_last_error(rt) == RCY_EKEY), "getattr_str disagrees with getattr");
        break;
    }
    default:
        rc = rcy_delattr_str(o, name);
        if (form >= 2) {
            REQUIRE(rc == (form == 2 ? RCY_EKEY : RCY_ETYPE), "delattr_str with another runtime's name or one not a str");
            REQUIRE(rcy_getattr(o, cname) == before, "a refused delattr_str changed the attribute");
        } else {
            REQUIRE(rc == 0 || rc == RCY_EKEY, "delattr_str result");
            if (rc == RCY_EKEY)
                REQUIRE(rcy_getattr(o, cname) == before, "a failed delattr_str changed the attribute");
            if (rc == 0 && rcy_is_instance(o))
                REQUIRE(rcy_getattr(o, cname) == rcy_getattr(rcy_instance_class(o), cname),
                        "after delattr_str an instance sees its class's attribute");
        }
        break;
    }
    rcy_decref(name);
}

/* The calls no other operation makes: dict and tuple lookups by new
   reference, tuple slices, packing, attributes by str object, clearing a
   weak map, the _ex forms of weak references and finalize registrations
   (with release hooks the model counts), interning with a length, and
   the small queries. */
static void op_more(int k)
{
    rcy_runtime_t *rt = RT(k);
    unsigned w = byte();
    TRACE("  more %u\n", w % 8);
    switch (w % 8) {
    case 0: { /* d[key] by new reference, and `key in d` */
        int di = pick_where(byte(), rcy_is_dict);
        int ki = pick_rt(byte(), k);
        if (di < 0 || F.s[di].rt != k || ki < 0 || too_wide(F.s[ki].o))
            return;
        rcy_object_t *d = F.s[di].o, *key = F.s[ki].o;
        int64_t h;
        int hr = rcy_hash(key, &h);
        rcy_object_t *expect = hr == 0 ? rcy_dict_get(d, key) : NULL;
        bool known = hr == 0 && (expect != NULL || rcy_last_error(rt) == RCY_EKEY);
        int last = rcy_last_error(rt);
        rcy_object_t *out = (rcy_object_t *)&out;
        int rc = rcy_dict_get_ref(d, key, &out);
        if (known) {
            REQUIRE(rc == (expect != NULL) && out == expect, "dict_get_ref disagrees with dict_get");
            if (rc == 0)
                REQUIRE(rcy_last_error(rt) == last, "dict_get_ref recorded an absent key");
            REQUIRE(rcy_dict_contains(d, key) == rc, "dict_contains disagrees with dict_get_ref");
        } else {
            REQUIRE(rc < 0 && out == NULL, "dict_get_ref of a key that cannot be looked up");
            REQUIRE(hr == 0 || rc == hr, "dict_get_ref's error differs from the hash's");
            REQUIRE(rcy_dict_contains(d, key) < 0, "dict_contains of a key that cannot be looked up");
        }
        rcy_xdecref(out);
        break;
    }
    case 1: { /* tuple items by new reference, contains, slices */
        int ti = pick_where(byte(), rcy_is_tuple);
        if (ti < 0)
            return;
        k = F.s[ti].rt;
        rt = RT(k);
        rcy_object_t *t = F.s[ti].o;
        intptr_t len = rcy_tuple_len(t), idx = (intptr_t)(int8_t)byte(), a = (intptr_t)(int8_t)byte();
        bool in = idx >= -len && idx < len;
        rcy_object_t *expect = in ? rcy_tuple_get(t, idx) : NULL;
        int last = rcy_last_error(rt);
        rcy_object_t *out = (rcy_object_t *)&out;
        int rc = rcy_tuple_get_ref(t, idx, &out);
        REQUIRE(rc == (in ? 1 : 0) && out == expect, "tuple_get_ref disagrees with tuple_get");
        if (!in)
            REQUIRE(rcy_last_error(rt) == last, "tuple_get_ref recorded an absent index");
        rcy_xdecref(out);
        if (in && !too_wide(t)) {
            rc = rcy_tuple_contains(t, expect);
            REQUIRE(rc == 1 || rc == RCY_EDEPTH, "tuple_contains misses an item it holds");
        }
        rcy_object_t *sl = rcy_tuple_slice(t, a, idx);
        if (sl == NULL) {
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "tuple_slice failed without ENOMEM");
            break;
        }
        intptr_t lo, n = slice_bounds(len, a, idx, &lo);
        REQUIRE(rcy_tuple_len(sl) == n, "tuple_slice length");
        if (n == len)
            REQUIRE(sl == t, "the whole slice of a tuple is not the tuple");
        for (intptr_t i = 0; i < n; i++)
            REQUIRE(rcy_tuple_item_fast(sl, i) == rcy_tuple_item_fast(t, lo + i), "tuple_slice item");
        slot_take((int)(byte() % NSLOT), sl, k);
        break;
    }
    case 2: { /* packing: borrowed and stolen, with NULLs and objects of other runtimes */
        int which = (int)((w >> 3) % 3), n = (int)((w >> 5) % 4);
        rcy_object_t *it[3] = {NULL, NULL, NULL};
        bool null_arg = false, foreign = false;
        for (int i = 0; i < n; i++) {
            unsigned b = byte();
            int j = (b & 0x80) ? pick(b) : pick_rt(b, k);
            it[i] = j >= 0 ? F.s[j].o : NULL;
            null_arg |= it[i] == NULL;
            foreign |= it[i] != NULL && F.s[j].rt != k;
        }
        rcy_object_t *p = pack_call(rt, which, n, it);
        TRACE("  pack %d of %d items%s%s: %p\n", which, n, null_arg ? ", a NULL" : "", foreign ? ", foreign" : "",
              (void *)p);
        if (p == NULL) {
            int e = rcy_last_error(rt);
            REQUIRE(null_arg ? e == RCY_EINVAL : foreign ? (e == RCY_ERUNTIME || e == RCY_ENOMEM) : e == RCY_ENOMEM,
                    "pack error");
            break;
        }
        REQUIRE(!null_arg && !foreign, "pack accepted a NULL or another runtime's object");
        bool list = which != 0;
        REQUIRE(list ? rcy_list_len(p) == n : rcy_tuple_len(p) == n, "pack length");
        for (int i = 0; i < n; i++)
            REQUIRE((list ? rcy_list_item_fast(p, i) : rcy_tuple_item_fast(p, i)) == it[i], "pack item");
        slot_take((int)(byte() % NSLOT), p, k);
        break;
    }
    case 3:
        op_attr_str(k, w);
        break;
    case 4: { /* a weak map cleared */
        int mi = pick_where(byte(), rcy_is_weakmap);
        if (mi < 0)
            return;
        rcy_object_t *m = F.s[mi].o;
        REQUIRE(rcy_weakmap_clear(m) == 0, "weakmap_clear");
        REQUIRE(rcy_weakmap_len(m) == 0, "a cleared weak map has entries");
        REQUIRE(rcy_weakmap_clear(NULL) == RCY_EINVAL, "weakmap_clear NULL");
        break;
    }
    case 5: { /* a weak reference with a release hook */
        int ti = pick_rt(byte(), k);
        if (ti < 0 || F.nwex >= MAXWEX)
            return;
        rcy_object_t *t = F.s[ti].o;
        int i = F.nwex;
        if ((w >> 3) & 1) { /* no callback: refused, the hook not run */
            REQUIRE(rcy_weakref_new_ex(t, NULL, (void *)(intptr_t)i, weak_release) == NULL &&
                        rcy_last_error(rt) == RCY_EINVAL,
                    "weakref_new_ex without a callback");
            REQUIRE(!F.wex[i].released, "a refused weakref_new_ex ran its hook");
            return;
        }
        rcy_object_t *wr = rcy_weakref_new_ex(t, weak_cb_ex, (void *)(intptr_t)i, weak_release);
        if (wr == NULL) {
            int e = rcy_last_error(rt);
            REQUIRE(weakable(t) ? e == RCY_ENOMEM : (e == RCY_ETYPE || e == RCY_ENOMEM), "weakref_new_ex error");
            REQUIRE(!F.wex[i].released, "a failed weakref_new_ex ran its hook");
            return;
        }
        F.nwex++;
        TRACE("  weak reference %d with a release hook: %p\n", i, (void *)wr);
        if (!weakref_to_slot(wr, ti, k))
            REQUIRE(F.wex[i].released, "a weak reference died without its release hook");
        break;
    }
    case 6: { /* a finalize registration with a release hook */
        int ti = pick_rt(byte(), k);
        if (ti < 0 || F.nreg >= MAXREG)
            return;
        rcy_object_t *t = F.s[ti].o;
        int n = F.nreg;
        bool hook = ((w >> 3) & 1) == 0;
        rcy_object_t *f = rcy_finalize_register_ex(t, finalize_cb, (void *)(intptr_t)n, hook ? reg_release : NULL);
        if (f == NULL) {
            int e = rcy_last_error(rt);
            REQUIRE(e == RCY_ENOMEM || (e == RCY_ETYPE && !weakable(t)), "finalize_register_ex error");
            return;
        }
        F.nreg++;
        F.reg[n].used = true;
        F.reg[n].atexit = true;
        F.reg[n].ex = hook;
        TRACE("  finalize registration %d%s: %p\n", n, hook ? " with a release hook" : "", (void *)f);
        REQUIRE(rcy_finalize_alive(f), "a new registration is not alive");
        registration_to_slot(f, n, k);
        break;
    }
    default: { /* interning with a length, and the small queries */
        char buf[8];
        size_t len = byte() % 8;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)byte();
        rcy_object_t *s = rcy_str_intern_len(rt, buf, len);
        if (!utf8_ok((const uint8_t *)buf, len)) {
            REQUIRE(s == NULL && rcy_last_error(rt) == RCY_EINVAL, "str_intern_len of invalid UTF-8");
        } else if (s == NULL) {
            REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "str_intern_len failed without ENOMEM");
        } else {
            REQUIRE(rcy_str_is_interned(s) == 1, "an interned str is not interned");
            REQUIRE(rcy_str_intern_len(rt, buf, len) == s, "the same text interned twice gave two strs");
            rcy_object_t *fresh = rcy_str_new_len(rt, buf, len);
            if (fresh != NULL) {
                REQUIRE(rcy_equal(fresh, s) == 1, "a str differs from its interned twin");
                REQUIRE(fresh == s || rcy_str_is_interned(fresh) == 0, "a fresh str says it is interned");
                rcy_decref(fresh);
            }
            rcy_decref(s); /* (harmless: interned strs are immortal) */
        }
        REQUIRE(rcy_str_intern_len(rt, NULL, 1) == NULL && rcy_last_error(rt) == RCY_EINVAL, "str_intern_len NULL");
        REQUIRE(rcy_str_is_interned(NULL) == 0, "str_is_interned NULL");
        int fl = rcy_freelists_enabled(rt);
        REQUIRE(fl == 0 || fl == 1, "freelists_enabled");
        REQUIRE(fl == 1 || rcy_freelists_size(rt) == 0, "free lists hold objects while not in use");
        int j = pick_rt(byte(), k);
        if (j >= 0) {
            REQUIRE(rcy_str_is_interned(F.s[j].o) == (rcy_is_str(F.s[j].o) ? rcy_str_is_interned(F.s[j].o) : 0),
                    "str_is_interned of an object not a str");
            void *frames[8];
            int nf = rcy_object_backtrace(F.s[j].o, frames, 8);
            REQUIRE(nf >= 0 && nf <= 8, "object_backtrace");
        }
        REQUIRE(rcy_object_backtrace(NULL, NULL, 0) == RCY_EINVAL, "object_backtrace NULL");
        REQUIRE(rcy_type_new_sized(rt, NULL, 1) == NULL && rcy_last_error(rt) == RCY_EINVAL,
                "type_new_sized with an unknown spec size");
        REQUIRE(rcy_class_new_sized(rt, "X", NULL, 1) == NULL && rcy_last_error(rt) == RCY_EINVAL,
                "class_new_sized with an unknown spec size");
        if ((w >> 3) & 1) { /* growth by allocation site */
            rcy_growth_t *g = rcy_growth_new_by_site(rt);
            if (g == NULL) {
                REQUIRE(rcy_last_error(rt) == RCY_ENOMEM, "growth_new_by_site failed without ENOMEM");
                break;
            }
            rcy_growth_options_t opts;
            rcy_growth_options_init(&opts);
            opts.limit = (w >> 4) % 4;
            for (int round = 0; round < 2; round++) {
                rcy_growth_report_t rep;
                int rc = rcy_growth(g, &opts, &rep);
                REQUIRE_OK(rc, "growth by site");
                if (rc != 0)
                    continue;
                REQUIRE(opts.limit == 0 || rep.len <= opts.limit, "growth rows over the limit");
                for (size_t i = 0; i < rep.len; i++)
                    REQUIRE(rep.items[i].name != NULL && strchr(rep.items[i].name, ':') != NULL,
                            "a growth row by site is not file:line");
                rcy_growth_report_release(&rep);
                opts.since = RCY_GROWTH_SINCE_LAST;
            }
            rcy_growth_free(g);
        }
        break;
    }
    }
}

static void op(unsigned code)
{
    int k = (int)(byte() % NRT);
    switch (code % 15) {
    case 0:
    case 1:
    case 2: {
        rcy_object_t *o = make_value(k, byte());
        if (o != NULL) {
            int i = (int)(byte() % NSLOT);
            TRACE("  into slot %d\n", i);
            slot_take(i, o, k);
        }
        break;
    }
    case 3: op_tuple(k); break;
    case 4:
    case 5: op_list(k); break;
    case 6: op_dict(k); break;
    case 7: op_attr(k); break;
    case 8:
    case 9: op_weak(k); break;
    case 10: op_compare(k); break;
    case 11: op_tools(k); break;
    case 12: op_gc(k); break;
    case 13: op_deep(k); break;
    default: {
        unsigned w = byte();
        if (w % 4 == 0) {
            /* Argument errors, not allocation failures: some calls
               allocate before they check (either error is clean). */
            NO_FAIL_BEGIN;
            op_misuse(k);
            NO_FAIL_END;
        } else if (w % 4 == 1) { /* drop a slot */
            int i = pick(byte());
            if (i >= 0)
                slot_clear(i);
        } else if (w % 4 == 2) { /* copy a slot */
            int i = pick(byte()), j = (int)(byte() % NSLOT);
            if (i >= 0 && i != j) {
                rcy_object_t *o = rcy_newref(F.s[i].o);
                int rt = F.s[i].rt;
                slot_take(j, o, rt);
            }
        } else if ((w >> 2) & 1) { /* (half of what dropped the resurrected list) */
            op_heap(k);
        } else if ((w >> 3) & 1) { /* (half of the rest) */
            op_more(k);
        } else { /* drop the resurrected */
            frt_t *r = &F.r[k];
            rcy_object_t *l = rcy_list_new(r->rt);
            if (l != NULL) {
                rcy_object_t *old = r->res;
                r->res = l;
                rcy_decref(old);
            }
        }
        break;
    }
    }
}

/* ---- Setup and teardown ------------------------------------------------------ */

static bool setup_runtime(int k)
{
    frt_t *r = &F.r[k];
    unsigned c0 = byte(), c1 = byte(), c2 = byte();
    static const int t0s[8] = {0, 1, 2, 5, 13, 50, 100, 700};
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = (int)(c0 & 1);
    cfg.quarantine = (c0 & 2) ? 4 : 64;
    cfg.threshold0 = t0s[(c0 >> 2) & 7];
    cfg.threshold1 = 1 + (int)((c0 >> 5) & 3);
    cfg.threshold2 = 1 + (int)(c0 >> 7) * 5;
    cfg.output = fz_output;
    cfg.output_arg = r;
    cfg.error = fz_error;
    cfg.error_arg = r;
    cfg.allocator.malloc_fn = fz_malloc;
    cfg.allocator.realloc_fn = fz_realloc;
    cfg.allocator.free_fn = fz_free;
    cfg.allocator.ctx = r;
    r->rt = rcy_runtime_new(&cfg);
    if (r->rt == NULL)
        return false;
    if (rcy_gc_callback_add(r->rt, gc_callback, r) != 0)
        return false;
    static const char *const names[3] = {"Plain", "Finalized", "Legacy"};
    for (int c = 0; c < 3; c++) {
        rcy_class_spec_t cs = {c == 1 ? class_finalize : NULL, c == 2 ? class_legacy : NULL, r};
        r->cls[c] = rcy_class_new(r->rt, names[c], &cs);
        if (r->cls[c] == NULL)
            return false;
        r->fin_prog[c] = (uint8_t)(c == 2 ? c2 & ~4u : c2 >> 1); /* legacy finalizers do not collect */
    }
    r->res = rcy_list_new(r->rt);
    r->growth = rcy_growth_new(r->rt);
    r->fail_every = c1 >= 200 ? 5 + (int)(c1 % 41) : 0;
    return r->res != NULL && r->growth != NULL;
}

static void teardown(void)
{
    TRACE("teardown\n");
    F.fail_ok = false;
    for (int i = 0; i < NSLOT; i++)
        slot_clear(i);
    for (int k = 0; k < NRT; k++) {
        frt_t *r = &F.r[k];
        if (r->rt == NULL)
            continue;
        rcy_object_t *res = r->res;
        r->res = NULL; /* first: finalizers run by its release must not append to it */
        rcy_xdecref(res);
        for (int c = 0; c < 3; c++)
            rcy_xdecref(r->cls[c]);
        rcy_growth_free(r->growth);
        rcy_snapshot_free(r->snap); /* before its runtime */
        r->snap = NULL;
        F.tearing_down = true;
        rcy_runtime_destroy(r->rt);
        F.tearing_down = false;
        r->rt = NULL;
        REQUIRE(!F.leak_reported, "teardown reported objects still alive");
        for (int id = 0; id < r->ninst; id++)
            if (r->has_fin[id])
                REQUIRE(r->fin_calls[id] == 1, "a PEP 442 finalizer did not run exactly once");
    }
    for (int n = 0; n < F.nreg; n++) {
        REQUIRE(F.reg[n].calls <= 1, "a registration was called twice");
        if (!F.reg[n].detached && F.reg[n].atexit)
            REQUIRE(F.reg[n].calls == 1, "a registration was neither called nor detached");
        if (F.reg[n].ex)
            REQUIRE(F.reg[n].released, "a registration's release hook never ran");
    }
    for (int i = 0; i < F.nwex; i++)
        REQUIRE(F.wex[i].released, "a weak reference's release hook never ran");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&F, 0, sizeof F);
    for (int i = 0; i < NSLOT; i++) {
        F.s[i].ref_slot = -1;
        F.s[i].reg = -1;
    }
    F.data = data;
    F.size = size;
    tracing = getenv("FUZZ_API_TRACE") != NULL;
    for (int k = 0; k < NRT; k++)
        if (!setup_runtime(k))
            fuzz_fail("cannot set up a runtime", "setup", __LINE__);
    size_t ops = 0;
    while (F.pos < F.size && ops < MAXOPS) {
        unsigned code = byte();
        TRACE("op %u at %zu\n", code % 15, F.pos);
        F.fail_ok = true;
        op(code);
        F.fail_ok = false;
        ops++;
        check_all();
    }
    teardown();
    return 0;
}
