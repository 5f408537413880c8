/*
 * fuzz_graph: a libFuzzer target for the cycle collector, finalizers and
 * weak references, checked against a shadow model.
 *
 * The input is decoded into graph operations: create objects (containers
 * with no finalizer, a PEP 442 finalizer, a legacy finalizer or both, and
 * non-container leaves with a finalizer), link and unlink them, hold and
 * drop them in root slots, weak references with and without callbacks,
 * finalize registrations, gc callbacks, explicit collections, thresholds
 * and debug flags, freeze, the garbage list, introspection. Every
 * finalizer and callback runs a small program taken from the input: it may
 * resurrect its object, link or unlink edges, drop roots, allocate objects
 * and cycles, create weak references (also to objects being collected),
 * collect from inside a collection, or fail.
 *
 * The model knows every reference the program made (roots, edges, the
 * garbage list, the registry of finalize registrations, the references
 * the runtime holds while a finalizer or a weak-reference callback runs),
 * so it keeps every object's expected reference count. Deaths are seen by
 * the types' dealloc slots, which record them in the model; the harness
 * never touches an object the model knows to be freed. Checked:
 *
 * - after every operation: each live object's reference count and edges
 *   equal the model's, no reference leads to a freed object, per-type and
 *   per-runtime live counts, weak references alive exactly while their
 *   referent is (and rcy_weakref_get returns it), rcy_gc_is_finalized,
 *   the garbage list, and that every tracked object is one the model knows;
 * - at the start of every collection (a gc callback registered last), the
 *   model predicts the unreachable set from the generations being
 *   collected (rcy_gc_get_objects), the part of it that legacy finalizers
 *   keep, and which weak-reference callbacks must run; at its end (a gc
 *   callback registered first) it checks that every finalizer of the
 *   garbage ran once and before anything was cleared, that callbacks ran
 *   exactly for the non-garbage weak references to the garbage, that
 *   nothing unreachable survived except what finalizers resurrected or
 *   legacy finalizers hold, that the garbage list grew by exactly the
 *   legacy objects (everything, with DEBUG_SAVEALL), and the reported
 *   counts;
 * - in every slot: a container's finalizer runs at most once, a clear
 *   happens only to garbage, a freed object had no references left;
 * - "collect until quiet" operations and the end of every input: after
 *   collections find nothing more, every live object is reachable;
 *   teardown then frees every object exactly once and reports no leak.
 *
 * The library is built with RCY_DEBUG, so the collector also validates
 * the generation lists (links, flags, counts) after every collection.
 *
 * Incremental mode (RCY_GC_MODE=incremental in the environment, with
 * RCY_GC_INCR_STEP=N for steps of N work units; ctest fuzz_replay_incremental
 * replays the corpus so): passes over the oldest generation run in steps
 * inside the automatic collections, interleaved with the operations, and
 * operation 20 also moves a reference from one node's slot to another's by
 * plain stores, no count changing (what defeats a write barrier), or gives
 * the pass idle time (rcy_gc_incr_step, to its end or for up to 60 us). Explicit
 * collections are predicted and checked as above (they run no step); the
 * automatic ones are not predicted (a step may collect any old garbage):
 * the model adopts their outcome (the garbage list, weak references the
 * collector cleared) and everything else is checked as always: after every
 * operation every count and edge equals the model's and no reference
 * leads to a freed object (a live object freed by a step is caught there,
 * or by ASan), and at the end every live object is reachable and teardown
 * frees each once. The check that every tracked object is known runs every
 * eighth operation only (rcy_gc_get_objects gives a pass up).
 *
 * Build and run: `make fuzz FUZZ_SECONDS=600` (clang with libFuzzer, ASan
 * and UBSan). fuzz/replay.c runs the seed corpus without libFuzzer.
 */
#include "recycle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXOBJ 160 /* objects per input (model ids 1..MAXOBJ-1) */
#define NSLOTS 3   /* reference slots of a container node */
#define NROOTS 6   /* strong root slots */
#define NRES 6     /* slots finalizers resurrect into */
#define NWEAK 4    /* slots holding weak references */
#define NFREG 3    /* slots holding finalize registrations */
#define NTMP 16    /* temporary references held by the harness */
#define NGCCB 3    /* user gc callbacks */
#define MAXDEPTH 5 /* nesting of finalizers and callbacks that act */
#define QUIET_PASSES 40

/* ---- The objects --------------------------------------------------------- */

typedef struct fnode_s {
    rcy_object_t ob;
    rcy_object_t *slot[NSLOTS];
    rcy_object_t *weaklist;
    int id;
} fnode_t;

typedef struct fleaf_s {
    rcy_object_t ob;
    rcy_object_t *weaklist;
    int id;
} fleaf_t;

enum type_e { T_PLAIN, T_FIN, T_LEGACY, T_BOTH, T_LEAF, T_NTYPES };
enum kind_e { K_NONE, K_NODE, K_LEAF, K_WEAKREF, K_FINREG };
enum state_e { S_UNUSED, S_ALIVE, S_DEAD };

static bool type_has_finalizer(int t) { return t == T_FIN || t == T_BOTH || t == T_LEAF; }
static bool type_has_legacy(int t) { return t == T_LEGACY || t == T_BOTH; }

/* ---- The model ----------------------------------------------------------- */

typedef struct mobj_s {
    int kind, type, state;
    rcy_object_t *ptr;     /* valid while S_ALIVE */
    int slot[NSLOTS];      /* nodes: target ids, 0 for none */
    long refs;             /* expected reference count */
    uint8_t act, arg;      /* the program of its finalizer or callback */
    int fin_calls, legacy_calls, cb_calls, deaths, resurrections;
    int running;           /* its finalizer runs on refcount death */
    int garb;              /* occurrences in the garbage list */
    /* Weak references and registrations. */
    int referent;          /* 0 once cleared */
    bool has_cb, registered, atexit;
    bool pinned, pin_gc;   /* a pending callback holds a reference */
    long created_gc;       /* collection number it was created in, or 0 */
    /* The current collection. */
    bool young, u0, lh;
    int fin_at_start;
    bool died_in_gc; /* went through deallocation during the collection */
    bool called_in_gc; /* a weak reference the collection called back */
} mobj_t;

enum ctx_e { CTX_FIN, CTX_LEGACY, CTX_WEAKCB, CTX_GCCB };

static struct fuzz_s {
    rcy_runtime_t *rt;
    rcy_type_t *types[T_NTYPES];
    rcy_type_t *weakref_type;
    mobj_t o[MAXOBJ];
    int nobj;
    int roots[NROOTS], res[NRES], weak[NWEAK], freg[NFREG];
    int tmp[NTMP], ntmp;
    struct {
        bool used;
        uint8_t phase, act, arg;
    } gccb[NGCCB];

    /* Collections. */
    bool rt_collecting; /* between the first START and the last STOP callback */
    bool in_gc;         /* between the prediction and the check */
    long gc_seq;
    int gen;
    size_t young_count;
    size_t garbage_count; /* the prediction's unreachable set */
    bool saveall;
    bool dirty;       /* user code removed a reference the prediction relied on */
    bool any_removal; /* user code removed any reference during the collection */
    bool cleared_in_gc, fin_in_gc;
    long freed_by_cb;
    bool relaxed; /* the garbage list is being released: counts lag the model */
    /* Incremental mode: automatic collections are not predicted (see the
       top); explicit: the harness's own rcy_gc_collect calls in progress. */
    bool incr, unchecked;
    int explicit_gc;
    size_t nops;
    intptr_t last_result;
    bool last_result_valid;

    int depth;
    int in_finalize_call;
    bool checks; /* off during teardown */
    bool tearing_down;
    bool quiet;    /* user gc callbacks do nothing */
    bool no_store; /* user code stores nothing in the harness's slots */

    /* Allocation failures. */
    long alloc_calls;
    int fail_every;
    bool fail_ok;

    bool leak_reported;
    long output_bytes, errors;

    const uint8_t *data;
    size_t size, pos;
} F;

static bool tracing;

/* Prints the model (when tracing). */
static void dump_model(void)
{
    for (int id = 1; id < F.nobj; id++) {
        const struct mobj_s *m = &F.o[id];
        if (m->state != S_ALIVE)
            continue;
        fprintf(stderr, "  [%d] kind %d type %d refs %ld actual %ld slots %d %d %d referent %d garb %d%s%s\n", id,
                m->kind, m->type, m->refs, (long)rcy_getrefcount(m->ptr), m->slot[0], m->slot[1], m->slot[2],
                m->referent, m->garb, m->registered ? " registered" : "", m->pinned ? " pinned" : "");
    }
    fprintf(stderr, "  roots");
    for (int i = 0; i < NROOTS; i++)
        fprintf(stderr, " %d", F.roots[i]);
    fprintf(stderr, " res");
    for (int i = 0; i < NRES; i++)
        fprintf(stderr, " %d", F.res[i]);
    fprintf(stderr, " weak");
    for (int i = 0; i < NWEAK; i++)
        fprintf(stderr, " %d", F.weak[i]);
    fprintf(stderr, " freg");
    for (int i = 0; i < NFREG; i++)
        fprintf(stderr, " %d", F.freg[i]);
    fprintf(stderr, "\n");
}

static void fuzz_fail(const char *what, int id)
{
    if (tracing)
        dump_model();
    fprintf(stderr, "fuzz_graph: model mismatch: %s (object %d", what, id);
    if (id > 0 && id < MAXOBJ)
        fprintf(stderr, ", kind %d type %d refs %ld", F.o[id].kind, F.o[id].type, F.o[id].refs);
    fprintf(stderr, ")\n");
    abort();
}

#define REQUIRE(cond, what, id)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(what, id);                                                                   \
    } while (0)

#define TRACE(...)                                                                                 \
    do {                                                                                           \
        if (tracing)                                                                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)

static unsigned byte(void) { return F.pos < F.size ? F.data[F.pos++] : 0; }

static mobj_t *M(int id) { return &F.o[id]; }
static bool alive(int id) { return id > 0 && F.o[id].state == S_ALIVE; }
static rcy_object_t *P(int id) { return id > 0 ? F.o[id].ptr : NULL; }
static bool is_garbage_now(int id) { return F.in_gc && id > 0 && F.o[id].u0 && !F.o[id].lh; }

/* The harness's collections (predicted and checked in both modes). */
static intptr_t explicit_collect(int gen)
{
    F.explicit_gc++;
    intptr_t r = rcy_gc_collect(F.rt, gen);
    F.explicit_gc--;
    return r;
}

/* ---- Model references -------------------------------------------------- */

static void mref(int id)
{
    if (id > 0)
        M(id)->refs++;
}

/* A modelled reference to id goes away; the real decref follows. Weak
   references and registrations run no code when they die: the model marks
   them dead at once. */
static void munref(int id)
{
    if (id <= 0)
        return;
    mobj_t *m = M(id);
    if (!F.checks && (m->state != S_ALIVE || m->refs <= 0))
        return; /* teardown: the runtime releases references the model does not see */
    REQUIRE(m->state == S_ALIVE, "releasing a reference to a dead object", id);
    REQUIRE(m->refs > 0, "model reference count below zero", id);
    m->refs--;
    if (m->refs == 0 && (m->kind == K_WEAKREF || m->kind == K_FINREG)) {
        m->state = S_DEAD;
        m->ptr = NULL;
        m->died_in_gc |= F.in_gc;
    }
}

/* User code removed a reference from src (0: a harness slot) to target. */
static void note_removal(int src, int target)
{
    if (!F.in_gc || target <= 0)
        return;
    F.any_removal = true;
    if (src == 0 || !is_garbage_now(src) || !is_garbage_now(target))
        F.dirty = true;
}

static void hold(int id)
{
    REQUIRE(F.ntmp < NTMP, "too many temporary references", id);
    F.tmp[F.ntmp++] = id;
    mref(id);
    rcy_incref(P(id));
}

static void release_hold(void)
{
    int id = F.tmp[--F.ntmp];
    rcy_object_t *p = P(id);
    munref(id);
    rcy_decref(p);
}

/* A harness slot (root, resurrection, weak, registration) takes id. */
static void slot_set(int *slot, int id)
{
    int old = *slot;
    if (old == id)
        return;
    rcy_object_t *oldp = P(old);
    if (id > 0) {
        mref(id);
        rcy_incref(P(id));
    }
    *slot = id;
    if (old > 0) {
        note_removal(0, old);
        munref(old);
        rcy_decref(oldp);
    }
}

/* src->slot[k] = dst (dst may be 0). */
static void node_set(int src, int k, int dst)
{
    mobj_t *m = M(src);
    fnode_t *n = (fnode_t *)m->ptr;
    int old = m->slot[k];
    if (old == dst)
        return;
    rcy_object_t *oldp = n->slot[k];
    REQUIRE(oldp == P(old), "node slot differs from the model", src);
    if (dst > 0) {
        mref(dst);
        rcy_incref(P(dst));
    }
    m->slot[k] = dst;
    n->slot[k] = P(dst);
    if (old > 0) {
        note_removal(src, old);
        munref(old);
        rcy_decref(oldp);
    }
}

/* ---- Reachability -------------------------------------------------------- */

static unsigned char mark[MAXOBJ];
static int queue[MAXOBJ];
static int qlen;

static void seed(int id)
{
    if (alive(id) && !mark[id]) {
        mark[id] = 1;
        queue[qlen++] = id;
    }
}

static void propagate(void)
{
    for (int i = 0; i < qlen; i++) {
        mobj_t *m = M(queue[i]);
        if (m->kind == K_NODE)
            for (int k = 0; k < NSLOTS; k++)
                seed(m->slot[k]);
    }
}

/* Marks what the program can reach legitimately: everything reachable from
   its slots, the garbage list and live registrations, plus self and what
   self reaches. */
static void reach_from_harness(int self)
{
    memset(mark, 0, sizeof mark);
    qlen = 0;
    for (int i = 0; i < NROOTS; i++)
        seed(F.roots[i]);
    for (int i = 0; i < NRES; i++)
        seed(F.res[i]);
    for (int i = 0; i < NWEAK; i++)
        seed(F.weak[i]);
    for (int i = 0; i < NFREG; i++)
        seed(F.freg[i]);
    for (int i = 0; i < F.ntmp; i++)
        seed(F.tmp[i]);
    /* (Teardown empties the garbage list behind the model's back.) */
    for (int id = 1; id < F.nobj; id++) {
        if (alive(id) && ((M(id)->garb > 0 && F.checks) || (M(id)->kind == K_FINREG && M(id)->registered)))
            seed(id);
    }
    seed(self);
    propagate();
}

/* The k-th marked object satisfying the filter, or 0. */
enum pick_e { PICK_ANY, PICK_NODE, PICK_WEAKREFABLE };

static bool pick_ok(int id, int filter)
{
    int kind = M(id)->kind;
    if (filter == PICK_NODE)
        return kind == K_NODE;
    if (filter == PICK_WEAKREFABLE)
        return kind == K_NODE || kind == K_LEAF;
    return true;
}

static int pick_marked(unsigned k, int filter)
{
    int n = 0;
    for (int id = 1; id < F.nobj; id++)
        if (mark[id] && pick_ok(id, filter))
            n++;
    if (n == 0)
        return 0;
    k %= (unsigned)n;
    for (int id = 1; id < F.nobj; id++)
        if (mark[id] && pick_ok(id, filter) && k-- == 0)
            return id;
    return 0;
}

/* At top level any live object may be used (unreachable ones included:
   using one is a resurrection the collector must handle). */
static int pick_alive(unsigned k, int filter)
{
    memset(mark, 0, sizeof mark);
    for (int id = 1; id < F.nobj; id++)
        mark[id] = alive(id);
    return pick_marked(k, filter);
}

/* ---- Allocation and output hooks --------------------------------------- */

static bool should_fail(void)
{
    F.alloc_calls++;
    return F.fail_every > 0 && F.fail_ok && !F.rt_collecting && F.alloc_calls % F.fail_every == 0;
}

static void *fz_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return should_fail() ? NULL : malloc(size);
}

static void *fz_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return should_fail() ? NULL : realloc(ptr, size);
}

static void fz_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static void fz_output(void *arg, const char *text)
{
    (void)arg;
    F.output_bytes += (long)strlen(text);
    if (strstr(text, "still alive") != NULL)
        F.leak_reported = true;
    if (getenv("FUZZ_GRAPH_VERBOSE") != NULL)
        fputs(text, stderr);
}

static void fz_error(void *arg, const char *message)
{
    (void)arg;
    F.errors++;
    if (getenv("FUZZ_GRAPH_VERBOSE") != NULL)
        fprintf(stderr, "%s\n", message);
}

/* ---- Creating objects ---------------------------------------------------- */

/* Creates an object; the harness holds the new reference as a temporary
   (release_hold releases it). Returns its id, or 0. */
static int new_object(int type, uint8_t act, uint8_t arg)
{
    if (F.nobj >= MAXOBJ || F.ntmp >= NTMP)
        return 0;
    int id = F.nobj++;
    rcy_object_t *o = rcy_new(F.types[type]);
    if (o == NULL) {
        REQUIRE(rcy_last_error(F.rt) == RCY_ENOMEM, "rcy_new failed without RCY_ENOMEM", id);
        return 0;
    }
    TRACE("  new %d type %d act %u arg %u%s\n", id, type, act, arg, F.in_gc ? " (in gc)" : "");
    mobj_t *m = M(id);
    memset(m, 0, sizeof *m);
    m->kind = type == T_LEAF ? K_LEAF : K_NODE;
    m->type = type;
    m->state = S_ALIVE;
    m->ptr = o;
    m->act = act;
    m->arg = arg;
    if (type == T_LEAF)
        ((fleaf_t *)o)->id = id;
    else
        ((fnode_t *)o)->id = id;
    F.tmp[F.ntmp++] = id;
    m->refs = 1;
    return id;
}

static int weak_callback(rcy_object_t *wr, void *arg);
static int finalize_callback(void *arg);

/* Creates a weak reference to target (held by the harness as a temporary,
   as the API requires across an allocation); the result is also a
   temporary. Returns its id, or 0. */
static int new_weakref(int target, bool with_cb, uint8_t act, uint8_t arg)
{
    if (F.nobj >= MAXOBJ || F.ntmp + 2 > NTMP || !alive(target))
        return 0;
    int id = F.nobj++;
    hold(target);
    rcy_object_t *w = rcy_weakref_new(P(target), with_cb ? weak_callback : NULL, (void *)(intptr_t)id);
    if (w == NULL) {
        REQUIRE(rcy_last_error(F.rt) == RCY_ENOMEM, "rcy_weakref_new failed without RCY_ENOMEM", id);
        release_hold();
        return 0;
    }
    REQUIRE(alive(target), "weak reference created to an object that died during the call", target);
    if (F.weakref_type == NULL)
        F.weakref_type = rcy_type(w);
    int result = id;
    if (!with_cb) {
        /* The callback-less weak reference is shared. */
        for (int other = 1; other < F.nobj; other++) {
            if (alive(other) && M(other)->ptr == w) {
                REQUIRE(M(other)->kind == K_WEAKREF && !M(other)->has_cb && M(other)->referent == target,
                        "rcy_weakref_new returned an unrelated object", other);
                M(other)->refs++;
                result = other;
                break;
            }
        }
    }
    if (result == id) {
        TRACE("  weakref %d -> %d cb %d%s\n", id, target, with_cb, F.in_gc ? " (in gc)" : "");
        mobj_t *m = M(id);
        memset(m, 0, sizeof *m);
        m->kind = K_WEAKREF;
        m->state = S_ALIVE;
        m->ptr = w;
        m->refs = 1;
        m->referent = target;
        m->has_cb = with_cb;
        m->act = act;
        m->arg = arg;
        m->created_gc = F.in_gc ? F.gc_seq : 0;
    }
    /* Release the target only now: it may die, and call back. */
    release_hold();
    F.tmp[F.ntmp++] = result;
    return result;
}

static int new_registration(int target, uint8_t act, uint8_t arg)
{
    if (F.nobj >= MAXOBJ || F.ntmp + 2 > NTMP || !alive(target))
        return 0;
    int id = F.nobj++;
    hold(target);
    rcy_object_t *f = rcy_finalize_register(P(target), finalize_callback, (void *)(intptr_t)id);
    if (f == NULL) {
        REQUIRE(rcy_last_error(F.rt) == RCY_ENOMEM, "rcy_finalize_register failed without RCY_ENOMEM", id);
        release_hold();
        return 0;
    }
    if (F.weakref_type == NULL)
        F.weakref_type = rcy_type(f);
    TRACE("  registration %d -> %d%s\n", id, target, F.in_gc ? " (in gc)" : "");
    mobj_t *m = M(id);
    memset(m, 0, sizeof *m);
    m->kind = K_FINREG;
    m->state = S_ALIVE;
    m->ptr = f;
    m->refs = 2; /* ours and the registry's */
    m->referent = target;
    m->registered = true;
    m->atexit = true;
    m->act = act;
    m->arg = arg;
    m->created_gc = F.in_gc ? F.gc_seq : 0;
    release_hold(); /* the target may die now, and call back */
    F.tmp[F.ntmp++] = id;
    return id;
}

static int first_empty(const int *slots, int n)
{
    for (int i = 0; i < n; i++)
        if (slots[i] == 0)
            return i;
    return -1;
}

/* ---- What finalizers and callbacks do ------------------------------------ */

static uint8_t derive(uint8_t x, int salt) { return (uint8_t)(x * 37u + 11u * (unsigned)salt + 5u); }

/* Runs the program (act, arg) of user code. self is the object whose
   finalizer runs (0 for callbacks). Returns the user code's result. */
static int run_action(int self, uint8_t act, uint8_t arg, int ctx)
{
    if (F.depth >= MAXDEPTH)
        return 0;
    F.depth++;
    int ret = 0;
    bool self_node = self > 0 && M(self)->kind == K_NODE;
    TRACE("  %*saction %d of %d (ctx %d)\n", 2 * F.depth, "", act % 14, self, ctx);
    switch (act % 14) {
    case 0:
        break;
    case 1: /* resurrect self */
    case 10: { /* resurrect something self reaches */
        int target = self;
        if (act % 14 == 10)
            target = self_node ? M(self)->slot[arg % NSLOTS] : 0;
        int r = first_empty(F.res, NRES);
        if (!F.no_store && target > 0 && (ctx == CTX_FIN || ctx == CTX_LEGACY) && r >= 0 &&
            M(target)->resurrections == 0) {
            M(target)->resurrections++;
            slot_set(&F.res[r], target);
        }
        break;
    }
    case 2: /* self.slot[k] = something it can reach */
        if (self_node) {
            reach_from_harness(self);
            int target = (arg & 3) == 3 ? 0 : pick_marked(arg >> 2, PICK_ANY);
            if (F.no_store)
                target = 0;
            node_set(self, arg % NSLOTS, target);
        }
        break;
    case 3: /* self.slot[k] = NULL */
        if (self_node)
            node_set(self, arg % NSLOTS, 0);
        break;
    case 4: /* drop a root */
        slot_set(&F.roots[arg % NROOTS], 0);
        break;
    case 5: { /* collect, possibly from inside a collection */
        bool nested = F.rt_collecting;
        intptr_t r = explicit_collect((int)(arg % 3));
        if (nested)
            REQUIRE(r == 0, "a collection nested in another one did not return 0", self);
        REQUIRE(r >= 0, "rcy_gc_collect failed", self);
        break;
    }
    case 6: { /* allocate an object, keep it in a root or in self */
        int id = new_object(arg % T_NTYPES, derive(act, 1), derive(arg, 2));
        if (id == 0)
            break;
        int r = first_empty(F.roots, NROOTS);
        if (!F.no_store) {
            if (r >= 0 && (arg & 8))
                slot_set(&F.roots[r], id);
            else if (self_node && M(self)->slot[(arg >> 4) % NSLOTS] == 0)
                node_set(self, (arg >> 4) % NSLOTS, id);
        }
        release_hold();
        break;
    }
    case 7: { /* create a weak reference: to self, or to something reachable */
        int target = self;
        if (target == 0 || (arg & 1)) {
            reach_from_harness(self);
            target = pick_marked(arg >> 2, PICK_WEAKREFABLE);
        }
        if (target == 0 || M(target)->kind == K_WEAKREF || M(target)->kind == K_FINREG)
            break;
        int w = new_weakref(target, (arg & 2) != 0, derive(act, 3), derive(arg, 4));
        if (w == 0)
            break;
        int slot = first_empty(F.weak, NWEAK);
        if (!F.no_store && slot >= 0)
            slot_set(&F.weak[slot], w);
        release_hold();
        break;
    }
    case 8: /* a new garbage cycle */
        if (ctx != CTX_GCCB) {
            int a = new_object(T_PLAIN + (arg % 4), derive(act, 5), derive(arg, 6));
            if (a == 0)
                break;
            int b = new_object(T_PLAIN + ((arg >> 2) % 4), derive(act, 7), derive(arg, 8));
            if (b != 0) {
                node_set(a, 0, b);
                node_set(b, 0, a);
                release_hold();
            }
            release_hold();
        }
        break;
    case 9: /* report an error */
        ret = -1;
        break;
    case 11: /* a root takes something reachable */
        if (!F.no_store) {
            reach_from_harness(self);
            slot_set(&F.roots[arg % NROOTS], pick_marked(arg >> 3, PICK_ANY));
        }
        break;
    case 12: { /* take a census (a collection may be running) */
        rcy_objarray_t a = {0};
        int r = rcy_gc_get_objects(F.rt, arg % 4 == 3 ? -1 : (int)(arg % 4), &a);
        REQUIRE(r == 0 || r == RCY_ENOMEM, "rcy_gc_get_objects failed", self);
        rcy_objarray_release(&a);
        break;
    }
    case 13: /* register a finalizer on self or something reachable */
        if (ctx == CTX_FIN || ctx == CTX_GCCB || ctx == CTX_WEAKCB) {
            reach_from_harness(self);
            int target = pick_marked(arg, PICK_WEAKREFABLE);
            if (target == 0)
                break;
            int f = new_registration(target, derive(act, 9), derive(arg, 10));
            if (f == 0)
                break;
            int slot = first_empty(F.freg, NFREG);
            if (!F.no_store && slot >= 0 && (arg & 16))
                slot_set(&F.freg[slot], f);
            release_hold();
        }
        break;
    }
    F.depth--;
    return ret;
}

/* ---- Slots of the fuzzed types -------------------------------------------- */

static int node_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    fnode_t *n = (fnode_t *)self;
    for (int k = 0; k < NSLOTS; k++)
        RCY_VISIT_ITEM(n->slot[k], k);
    return 0;
}

/* Releases a node's slots, the model first (so that a death the release
   causes finds the model already updated). */
static void release_slots(int id)
{
    mobj_t *m = M(id);
    fnode_t *n = (fnode_t *)m->ptr;
    for (int k = 0; k < NSLOTS; k++) {
        int t = m->slot[k];
        rcy_object_t *tp = n->slot[k];
        REQUIRE(tp == P(t), "node slot differs from the model when released", id);
        m->slot[k] = 0;
        n->slot[k] = NULL;
        if (t > 0) {
            munref(t);
            rcy_decref(tp);
        }
    }
}

/* The object R dies (or a legacy finalizer is about to run): its weak
   references are cleared by now, and every one that wanted its callback
   has had it. */
static void weakrefs_cleared(int r)
{
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *w = M(id);
        if (!alive(id) || (w->kind != K_WEAKREF && w->kind != K_FINREG) || w->referent != r)
            continue;
        bool wanted = w->kind == K_WEAKREF ? w->has_cb && w->cb_calls == 0 : w->registered;
        /* GH-91636: references created during this collection to its final
           garbage are cleared without callbacks. */
        bool exempt = F.in_gc && w->created_gc == F.gc_seq;
        if (F.checks && wanted && !exempt)
            fuzz_fail("a weak reference wanting a callback was not called when its referent died", id);
        if (F.checks && rcy_weakref_is_alive(w->ptr))
            fuzz_fail("a weak reference to a dead object is still alive", id);
        w->referent = 0;
    }
}

static int node_clear(rcy_object_t *self)
{
    int id = ((fnode_t *)self)->id;
    mobj_t *m = M(id);
    REQUIRE(alive(id) && m->ptr == self, "clear of an object the model thinks dead", id);
    if (F.checks) {
        REQUIRE(F.in_gc && is_garbage_now(id), "the collector cleared an object that is not garbage", id);
        REQUIRE(!F.saveall, "the collector cleared an object under DEBUG_SAVEALL", id);
        if (type_has_finalizer(m->type))
            REQUIRE(m->fin_calls > 0, "a garbage object was cleared before its finalizer ran", id);
        F.cleared_in_gc = true;
    }
    release_slots(id);
    return 0;
}

static void object_dies(int id, rcy_object_t *self)
{
    mobj_t *m = M(id);
    REQUIRE(m->state == S_ALIVE && m->ptr == self, "dealloc of an object the model thinks dead", id);
    if (F.checks)
        REQUIRE(m->refs == 0, "an object was freed while references to it remain (reachable object freed)", id);
    REQUIRE(m->running == 0, "an object was freed while its finalizer runs", id);
    /* Also when the trashcan deferred its death (deferred_whole): the
       finalizer runs when the trash drains, before the object is freed. */
    if (F.checks && !F.tearing_down && type_has_finalizer(m->type))
        REQUIRE(m->fin_calls > 0, "an object with a finalizer was freed without its finalizer running", id);
    TRACE("  dies %d%s\n", id, F.in_gc ? " (in gc)" : "");
    m->died_in_gc |= F.in_gc;
    weakrefs_cleared(id);
    m->deaths++;
}

static void node_dealloc(rcy_object_t *self)
{
    int id = ((fnode_t *)self)->id;
    object_dies(id, self);
    release_slots(id);
    M(id)->state = S_DEAD;
    M(id)->ptr = NULL;
}

static void leaf_dealloc(rcy_object_t *self)
{
    int id = ((fleaf_t *)self)->id;
    object_dies(id, self);
    M(id)->state = S_DEAD;
    M(id)->ptr = NULL;
}

static int object_id(rcy_object_t *self)
{
    return self->type == F.types[T_LEAF] ? ((fleaf_t *)self)->id : ((fnode_t *)self)->id;
}

static int any_finalize(rcy_object_t *self)
{
    int id = object_id(self);
    mobj_t *m = M(id);
    REQUIRE(alive(id) && m->ptr == self, "finalizer called on an object the model thinks dead", id);
    if (m->kind == K_NODE) {
        REQUIRE(m->fin_calls == 0, "a container's finalizer ran twice", id);
        REQUIRE(rcy_gc_is_finalized(self), "finalizer runs but the object is not marked finalized", id);
    }
    m->fin_calls++;
    /* On refcount death the runtime lends the object one reference for the
       call; in a collection the collector holds one beside the others. */
    bool death = rcy_getrefcount(self) == 1;
    if (F.checks) {
        REQUIRE(death == (m->refs == 0), "finalizer: the count disagrees with the model", id);
        if (death) {
            REQUIRE(rcy_getrefcount(self) == 1, "finalizer on refcount death without its temporary reference", id);
        } else {
            REQUIRE(is_garbage_now(id), "the collector finalized an object that is not garbage", id);
            REQUIRE(!F.cleared_in_gc, "a finalizer ran after the collector started clearing (PEP 442)", id);
            REQUIRE(rcy_getrefcount(self) == m->refs + 1, "finalizer in a collection: unexpected count", id);
            F.fin_in_gc = true;
        }
    }
    if (death) {
        m->running++;
        m->refs++;
        m->died_in_gc |= F.in_gc;
    }
    TRACE("  finalizer of %d%s\n", id, death ? " (refcount death)" : "");
    int ret = run_action(id, m->act, m->arg, CTX_FIN);
    if (death) {
        m->running--;
        m->refs--;
    }
    return ret;
}

static int any_legacy(rcy_object_t *self)
{
    int id = object_id(self);
    mobj_t *m = M(id);
    REQUIRE(alive(id) && m->ptr == self, "legacy finalizer called on an object the model thinks dead", id);
    if (F.checks) {
        REQUIRE(m->refs == 0, "a legacy finalizer ran on an object that is still referenced", id);
        REQUIRE(rcy_getrefcount(self) == 1, "legacy finalizer without its temporary reference", id);
    }
    weakrefs_cleared(id);
    m->died_in_gc |= F.in_gc;
    m->legacy_calls++;
    TRACE("  legacy finalizer of %d\n", id);
    m->running++;
    m->refs++;
    int ret = run_action(id, derive(m->act, 20), m->arg, CTX_LEGACY);
    m->running--;
    m->refs--;
    if (m->refs == 0) {
        /* Not resurrected: weak references it made to itself are cleared
           without callbacks (CPython's subtype_dealloc). */
        for (int w = 1; w < F.nobj; w++)
            if (alive(w) && (M(w)->kind == K_WEAKREF || M(w)->kind == K_FINREG) && M(w)->referent == id)
                M(w)->referent = 0;
    }
    return ret;
}

/* ---- Weak-reference and registration callbacks ---------------------------- */

static bool wants_call(const mobj_t *w)
{
    return w->kind == K_FINREG ? w->registered : (w->has_cb && w->referent != 0);
}

static int on_callback(int id, rcy_object_t *wr)
{
    mobj_t *m = M(id);
    REQUIRE(id > 0 && id < F.nobj, "callback with an unknown argument", id);
    if (m->state != S_ALIVE) {
        /* Teardown keeps no exact counts (the runtime holds references the
           model does not follow there). */
        REQUIRE(!F.checks, "callback of a weak reference the model thinks dead", id);
        return run_action(0, m->act, m->arg, CTX_WEAKCB);
    }
    REQUIRE(wr == NULL || wr == m->ptr, "callback received the wrong weak reference", id);
    REQUIRE(m->cb_calls == 0, "a weak-reference callback ran twice", id);
    m->cb_calls++;
    TRACE("  callback %d (referent %d)%s\n", id, m->referent, m->pinned ? " pinned" : "");
    bool was_registered = m->kind == K_FINREG && m->registered;
    if (F.checks) {
        if (m->pinned) {
            if (m->pin_gc)
                REQUIRE(!F.fin_in_gc, "a weak-reference callback ran after finalizers of the garbage", id);
        } else if (F.in_finalize_call == id) {
            m->referent = 0;
        } else {
            /* The first callback of a refcount death: the referent's weak
               references are all cleared now, and those that want their
               callback are held until it runs. */
            int r = m->referent;
            REQUIRE(r > 0, "callback of a weak reference that was already cleared", id);
            REQUIRE(alive(r) && M(r)->refs == 0, "callback while the referent is still referenced", r);
            for (int w = 1; w < F.nobj; w++) {
                mobj_t *x = M(w);
                if (!alive(w) || (x->kind != K_WEAKREF && x->kind != K_FINREG) || x->referent != r)
                    continue;
                if (wants_call(x)) {
                    x->pinned = true;
                    x->refs++;
                }
                x->referent = 0;
            }
            REQUIRE(m->pinned, "callback of a weak reference that did not want one", id);
        }
        if (m->kind == K_WEAKREF) {
            REQUIRE(!rcy_weakref_is_alive(wr), "callback called before its weak reference was cleared", id);
            REQUIRE(rcy_weakref_get(wr) == NULL, "rcy_weakref_get of a cleared weak reference", id);
        } else {
            REQUIRE(!rcy_finalize_alive(m->ptr), "registration still alive inside its callback", id);
        }
    }
    m->registered = false;
    int ret = run_action(0, m->act, m->arg, CTX_WEAKCB);
    /* After the callback returns, the runtime drops the registry's
       reference and then the pending one. */
    if (was_registered)
        munref(id);
    if (m->pinned) {
        m->pinned = false;
        bool gc = m->pin_gc;
        m->pin_gc = false;
        m->called_in_gc |= gc;
        if (gc && m->refs == 1)
            F.freed_by_cb++;
        munref(id);
    }
    return ret;
}

static int weak_callback(rcy_object_t *wr, void *arg) { return on_callback((int)(intptr_t)arg, wr); }
static int finalize_callback(void *arg) { return on_callback((int)(intptr_t)arg, NULL); }

/* ---- Collections: prediction and check ------------------------------------ */

/* The model id of a tracked object, or 0. */
static int id_of(rcy_object_t *p)
{
    for (int t = 0; t < T_NTYPES; t++) {
        if (p->type == F.types[t]) {
            int id = t == T_LEAF ? ((fleaf_t *)p)->id : ((fnode_t *)p)->id;
            return alive(id) && M(id)->ptr == p ? id : 0;
        }
    }
    for (int id = 1; id < F.nobj; id++)
        if (alive(id) && M(id)->ptr == p)
            return id;
    return 0;
}

static long gc_refs[MAXOBJ];
static unsigned char trash_mark[MAXOBJ]; /* held or reached by the trashcan at a collection's end */

static void predict(int gen)
{
    F.gc_seq++;
    TRACE("  collection %ld of generation %d\n", F.gc_seq, gen);
    F.gen = gen;
    F.dirty = F.any_removal = F.cleared_in_gc = F.fin_in_gc = false;
    F.freed_by_cb = 0;
    F.saveall = (rcy_gc_get_debug(F.rt) & RCY_DEBUG_SAVEALL) != 0;
    F.young_count = 0;
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        m->young = m->u0 = m->lh = m->died_in_gc = m->called_in_gc = false;
        m->fin_at_start = m->fin_calls;
    }
    /* The generations collected, as the runtime sees them. */
    bool fail_ok = F.fail_ok;
    F.fail_ok = false;
    for (int g = 0; g <= gen; g++) {
        rcy_objarray_t a = {0};
        REQUIRE(rcy_gc_get_objects(F.rt, g, &a) == 0, "rcy_gc_get_objects failed in a gc callback", g);
        for (size_t i = 0; i < a.len; i++) {
            int id = id_of(a.items[i]);
            if (id == 0) {
                /* Only while the garbage list is released: an entry the
                   model already counts as gone. */
                REQUIRE(F.relaxed, "the collector tracks an object the model does not know", 0);
                F.young_count++;
                continue;
            }
            REQUIRE(!M(id)->young, "an object is tracked twice", id);
            M(id)->young = true;
            gc_refs[id] = rcy_getrefcount(a.items[i]) - 1;
            if (!F.relaxed)
                REQUIRE(gc_refs[id] == M(id)->refs, "reference count differs from the model (collection start)", id);
            F.young_count++;
        }
        rcy_objarray_release(&a);
    }
    F.fail_ok = fail_ok;
    /* Trial deletion over the model's edges. */
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        if (m->young && m->kind == K_NODE)
            for (int k = 0; k < NSLOTS; k++)
                if (m->slot[k] > 0 && M(m->slot[k])->young)
                    gc_refs[m->slot[k]]--;
    }
    memset(mark, 0, sizeof mark);
    qlen = 0;
    for (int id = 1; id < F.nobj; id++) {
        if (M(id)->young) {
            REQUIRE(gc_refs[id] >= 0, "more internal references than the count", id);
            if (gc_refs[id] > 0)
                seed(id);
        }
    }
    for (int i = 0; i < qlen; i++) {
        mobj_t *m = M(queue[i]);
        if (m->kind == K_NODE)
            for (int k = 0; k < NSLOTS; k++)
                if (m->slot[k] > 0 && M(m->slot[k])->young)
                    seed(m->slot[k]);
    }
    F.garbage_count = 0;
    for (int id = 1; id < F.nobj; id++) {
        M(id)->u0 = M(id)->young && !mark[id];
        F.garbage_count += M(id)->u0;
    }
    /* What legacy finalizers keep: they and all they reach in the garbage. */
    memset(mark, 0, sizeof mark);
    qlen = 0;
    for (int id = 1; id < F.nobj; id++)
        if (M(id)->u0 && M(id)->kind == K_NODE && type_has_legacy(M(id)->type))
            seed(id);
    for (int i = 0; i < qlen; i++) {
        mobj_t *m = M(queue[i]);
        if (m->kind == K_NODE)
            for (int k = 0; k < NSLOTS; k++)
                if (m->slot[k] > 0 && M(m->slot[k])->u0)
                    seed(m->slot[k]);
    }
    for (int id = 1; id < F.nobj; id++)
        M(id)->lh = mark[id] != 0;
    if (tracing) {
        dump_model();
        fprintf(stderr, "  garbage:");
        for (int id = 1; id < F.nobj; id++)
            if (M(id)->u0)
                fprintf(stderr, " %d%s", id, M(id)->lh ? "(kept)" : "");
        fprintf(stderr, "\n");
    }
    /* Weak references: cleared when they or their referent are garbage;
       called back when only the referent is. */
    F.in_gc = true;
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *w = M(id);
        if (!alive(id) || (w->kind != K_WEAKREF && w->kind != K_FINREG))
            continue;
        bool w_garbage = is_garbage_now(id);
        bool r_garbage = w->referent > 0 && is_garbage_now(w->referent);
        if (r_garbage && !w_garbage && wants_call(w)) {
            w->pinned = w->pin_gc = true;
            w->refs++;
        }
        if (r_garbage || w_garbage)
            w->referent = 0;
    }
}

/* A container whose refcount death, during the collection (its last
   reference released by a finalizer, or by the clearing of the garbage),
   came deeper than the trashcan's limit: deferred whole, before its
   finalizers, as CPython's subtype_dealloc defers it (PyObject_GC_UnTrack,
   then Py_TRASHCAN_BEGIN before tp_finalize and tp_del). It left the
   collection untracked, its count 0: the collection neither finalizes it
   nor keeps it for a legacy finalizer (it is on no list of the
   collection), its finalizers run when the trash drains (a refcount
   death: object_dies checks that they ran), and what it references
   counts as referenced from outside the garbage (not IN_SET below). */
static bool deferred_death(int id)
{
    mobj_t *m = M(id);
    return alive(id) && m->kind == K_NODE && m->refs == 0 && m->running == 0 && rcy_getrefcount(m->ptr) == 0 &&
           !rcy_gc_is_tracked(m->ptr);
}

/* Whether the library cleared weak reference w to r. A referent whose
   whole death waits in the trash (deferred_death) keeps the weak
   references it had, and they read as dead meanwhile (rcy_weakref_get
   returns NULL for a count of 0, as CPython's do): its list tells. Those
   made during the collection are cleared together or not at all: all
   when r died in the clearing (it was final garbage when they were
   cleared, GH-91636), none when it died during the finalizers (it had
   left the collection by then). */
static bool reads_cleared(int w, int r)
{
    if (deferred_death(r))
        return rcy_weakref_count(M(r)->ptr) == 0;
    return !rcy_weakref_is_alive(M(w)->ptr);
}

static void check_collection(const rcy_gc_info_t *info)
{
    REQUIRE(info->generation == F.gen, "gc callbacks disagree on the generation", F.gen);
    REQUIRE((size_t)info->candidates == F.young_count, "candidates differ from the generations' sizes", 0);
    size_t garbage_gone = 0;
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        REQUIRE(!m->pin_gc, "a weak reference to the garbage did not get its callback", id);
        if (!m->u0 || m->lh)
            continue;
        if (m->kind == K_NODE && type_has_finalizer(m->type) && !deferred_death(id))
            REQUIRE(m->fin_calls > 0, "a finalizer of the garbage did not run (PEP 442)", id);
    }

    /* The garbage list now. */
    static int actual[MAXOBJ];
    memset(actual, 0, sizeof actual);
    for (size_t i = 0; i < rcy_gc_garbage_len(F.rt); i++) {
        int id = id_of(rcy_gc_garbage_get(F.rt, i));
        REQUIRE(id > 0, "the garbage list holds an object the model does not know", 0);
        actual[id]++;
    }

    /* What legacy finalizers keep stays, untouched, and their objects go
       to garbage (all of it with DEBUG_SAVEALL). A kept object only
       referenced from the collected garbage dies by reference counting
       when that is cleared (CPython alike): it is no longer kept, also
       when the trashcan defers that death (deferred_death). */
    size_t kept = 0;
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        if (!m->lh)
            continue;
        /* A weak reference the collection called back leaves for the old
           generation after its callback (CPython's handle_weakrefs). */
        if (m->died_in_gc || m->called_in_gc || deferred_death(id)) {
            REQUIRE(actual[id] == m->garb, "an object no longer kept went to garbage", id);
            continue;
        }
        kept++;
        REQUIRE(alive(id), "an object kept by a legacy finalizer was freed", id);
        REQUIRE(m->fin_calls == m->fin_at_start, "an object kept by a legacy finalizer was finalized", id);
        int expect = m->garb + ((F.saveall || (m->kind == K_NODE && type_has_legacy(m->type))) ? 1 : 0);
        REQUIRE(actual[id] == expect, "garbage list differs for a legacy-held object", id);
    }
    REQUIRE((size_t)info->uncollectable == kept, "uncollectable differs from what legacy finalizers keep", 0);
    for (int id = 1; id < F.nobj; id++)
        if (!M(id)->u0 && alive(id))
            REQUIRE(actual[id] == M(id)->garb, "garbage list grew by an object that was not garbage", id);

    if (!F.dirty) {
        /* Survivors among the garbage must be referenced from outside it
           (resurrected), or saved in garbage under DEBUG_SAVEALL. An object
           that died by refcount during the collection and came back left
           the collection: it counts as outside. So does one the trashcan
           holds (count 0; a collection inside a deep deallocation): it is
           freed when the trash is emptied, which the checks after the
           operation see. */
#define IN_SET(x) (is_garbage_now(x) && alive(x) && !M(x)->died_in_gc && rcy_getrefcount(M(x)->ptr) > 0)
        for (int id = 1; id < F.nobj; id++)
            if (IN_SET(id))
                gc_refs[id] = rcy_getrefcount(M(id)->ptr) - (actual[id] - M(id)->garb);
        for (int id = 1; id < F.nobj; id++) {
            mobj_t *m = M(id);
            if (IN_SET(id) && m->kind == K_NODE)
                for (int k = 0; k < NSLOTS; k++)
                    if (IN_SET(m->slot[k]))
                        gc_refs[m->slot[k]]--;
        }
        /* What the trashcan holds (count 0: the collection ran inside a
           deep deallocation), and what that reaches in the garbage: freed
           when the trash drains, so not survivors; but the model cannot
           tell whether they were final garbage (their deaths came in the
           clearing) or left the collection before the weak references
           were cleared (a death during the finalizers, deferred: what it
           still references counted as resurrected). */
        memset(mark, 0, sizeof mark);
        qlen = 0;
        for (int id = 1; id < F.nobj; id++)
            if (is_garbage_now(id) && alive(id) && !M(id)->died_in_gc && rcy_getrefcount(M(id)->ptr) == 0)
                seed(id);
        for (int i = 0; i < qlen; i++) {
            mobj_t *m = M(queue[i]);
            if (m->kind == K_NODE)
                for (int k = 0; k < NSLOTS; k++)
                    if (is_garbage_now(m->slot[k]))
                        seed(m->slot[k]);
        }
        memcpy(trash_mark, mark, sizeof mark);
        memset(mark, 0, sizeof mark);
        qlen = 0;
        for (int id = 1; id < F.nobj; id++)
            if ((IN_SET(id) && gc_refs[id] > 0) || (is_garbage_now(id) && alive(id) && !IN_SET(id)))
                seed(id);
#undef IN_SET
        for (int i = 0; i < qlen; i++) {
            mobj_t *m = M(queue[i]);
            if (m->kind == K_NODE)
                for (int k = 0; k < NSLOTS; k++)
                    if (is_garbage_now(m->slot[k]))
                        seed(m->slot[k]);
        }
        size_t gone = 0;
        bool in_trash = false;
        for (int id = 1; id < F.nobj; id++)
            in_trash |= is_garbage_now(id) && alive(id) && rcy_getrefcount(M(id)->ptr) == 0;
        for (int id = 1; id < F.nobj; id++) {
            mobj_t *m = M(id);
            if (!is_garbage_now(id))
                continue;
            if (!alive(id)) {
                gone++;
                continue;
            }
            if (mark[id])
                continue; /* resurrected */
            if (m->died_in_gc)
                continue; /* died by refcount during the collection and came back: it left the collection
                             for generation 0 (CPython's subtype_dealloc), a later one decides */
            if (!F.saveall)
                fuzz_fail("an unreachable object survived the collection", id);
            REQUIRE(actual[id] == m->garb + 1, "DEBUG_SAVEALL did not save an unreachable object", id);
            gone++;
        }
        garbage_gone = gone;
        /* GH-91636: references finalizers made to the final garbage were
           cleared without callbacks, also when DEBUG_SAVEALL keeps it. For
           what the trash holds or reaches (see above) the model adopts the
           library's answer: a registration cleared so is not called when
           the trash drains (the fuzz case of issue 12). */
        for (int w = 1; w < F.nobj; w++) {
            mobj_t *x = M(w);
            int r = x->referent;
            if (!alive(w) || (x->kind != K_WEAKREF && x->kind != K_FINREG) || x->created_gc != F.gc_seq ||
                !is_garbage_now(r) || !alive(r))
                continue;
            if (!mark[r]) {
                REQUIRE(!rcy_weakref_is_alive(x->ptr), "a weak reference to the final garbage was not cleared", w);
                x->referent = 0;
            } else if (trash_mark[r] && reads_cleared(w, r)) {
                x->referent = 0;
            }
        }
        if (!F.any_removal && !in_trash)
            REQUIRE(info->collected == (intptr_t)garbage_gone + F.freed_by_cb, "collected count differs", 0);
    }
    if (F.dirty) {
        /* Which of them were final garbage is not known: adopt. */
        for (int w = 1; w < F.nobj; w++) {
            mobj_t *x = M(w);
            if (alive(w) && (x->kind == K_WEAKREF || x->kind == K_FINREG) && x->created_gc == F.gc_seq &&
                is_garbage_now(x->referent) && alive(x->referent) && reads_cleared(w, x->referent))
                x->referent = 0;
        }
    }
    /* Adopt the garbage list (the runtime holds a reference per entry). */
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        if (actual[id] != m->garb) {
            REQUIRE(alive(id), "the garbage list holds a dead object", id);
            m->refs += actual[id] - m->garb;
            m->garb = actual[id];
        }
    }
    F.last_result = info->collected + info->uncollectable;
    F.last_result_valid = true;
    for (int id = 1; id < F.nobj; id++)
        M(id)->young = M(id)->u0 = M(id)->lh = false;
}

/* to[r]: the model's weak references and registrations to object r
   (MAXOBJ entries). */
static void count_weak_to(size_t *to)
{
    memset(to, 0, MAXOBJ * sizeof *to);
    for (int w = 1; w < F.nobj; w++)
        if (alive(w) && (M(w)->kind == K_WEAKREF || M(w)->kind == K_FINREG) && M(w)->referent > 0)
            to[M(w)->referent]++;
}

/* After an automatic collection of incremental mode (not predicted): the
   model adopts what the collector decided, the rest is checked as always. */
static void adopt_unchecked(void)
{
    static int actual[MAXOBJ];
    memset(actual, 0, sizeof actual);
    for (size_t i = 0; i < rcy_gc_garbage_len(F.rt); i++) {
        int id = id_of(rcy_gc_garbage_get(F.rt, i));
        REQUIRE(id > 0, "the garbage list holds an object the model does not know", 0);
        actual[id]++;
    }
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        if (actual[id] != m->garb) {
            REQUIRE(alive(id), "the garbage list holds a dead object", id);
            m->refs += actual[id] - m->garb;
            m->garb = actual[id];
        }
        /* Weak references the collector cleared (those to resurrected
           garbage, those finalizers made to the final garbage), and
           registrations whose callback ran (on_callback leaves the model's
           referent to this adoption). A registration is no weak reference
           to rcy_weakref_is_alive: rcy_finalize_alive tells for it. */
        if (alive(id) && m->referent > 0 &&
            ((m->kind == K_WEAKREF && !rcy_weakref_is_alive(m->ptr)) ||
             (m->kind == K_FINREG && !rcy_finalize_alive(m->ptr))))
            m->referent = 0;
    }
    /* A registration that finalizers made to the final garbage is cleared
       without its callback and stays registered (finalize.alive, as in
       CPython): only its referent's weak-reference count tells. Those
       cleared are the oldest of the referent's (the clearing happens at
       one point of the collection: a registration made after it, by code
       that ran later in the same collection, keeps its referent). */
    static size_t expected[MAXOBJ];
    count_weak_to(expected);
    for (int w = 1; w < F.nobj; w++) {
        mobj_t *x = M(w);
        int r = x->referent;
        if (!alive(w) || x->kind != K_FINREG || r <= 0 || !alive(r) ||
            (M(r)->kind != K_NODE && M(r)->kind != K_LEAF) || rcy_weakref_count(M(r)->ptr) >= expected[r])
            continue;
        expected[r]--;
        x->referent = 0;
    }
}

/* rcy_gc_incr_step: its pass's regions may free old garbage and run code,
   as an automatic collection's step does, so the model adopts its outcome
   as after one (not predicted: the step is inside no collection's
   callbacks unless it completes the pass, and then those adopt). */
static void idle_step(size_t max_us)
{
    bool checked = F.checks;
    if (checked) {
        F.unchecked = true;
        F.checks = false;
    }
    int r = rcy_gc_incr_step(F.rt, max_us);
    TRACE("  idle step of %zu us: %d\n", max_us, r);
    REQUIRE(r == 0 || r == 1, "rcy_gc_incr_step failed", 0);
    if (checked && F.unchecked) {
        adopt_unchecked();
        F.unchecked = false;
        F.checks = true;
    }
}

/* The first callback (registered first): starts and checks a collection. */
static int gc_first(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    (void)arg;
    if (phase == RCY_GC_START) {
        REQUIRE(!F.rt_collecting, "collections nest", 0);
        F.rt_collecting = true;
    } else if (F.in_gc) {
        if (F.checks)
            check_collection(info);
        F.in_gc = false;
    } else if (F.unchecked) {
        adopt_unchecked();
        F.unchecked = false;
        F.checks = true;
    }
    return 0;
}

/* The last callback (kept last): predicts, and ends a collection. */
static int gc_last(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    (void)arg;
    if (phase == RCY_GC_START) {
        if (F.checks && F.incr && F.explicit_gc == 0) {
            /* Incremental mode's automatic collections: not predicted. */
            F.unchecked = true;
            F.checks = false;
        } else if (F.checks) {
            predict(info->generation);
        }
    } else {
        F.rt_collecting = false;
    }
    return 0;
}

static int gc_user(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    (void)info;
    int k = (int)(intptr_t)arg;
    if (F.quiet || (int)F.gccb[k].phase != (int)phase)
        return 0;
    uint8_t act = F.gccb[k].act;
    /* No new cycles from gc callbacks: collections must reach a quiet state. */
    if (act % 14 == 8)
        act = 0;
    return run_action(0, act, F.gccb[k].arg, CTX_GCCB);
}

/* ---- Checks between operations --------------------------------------------- */

static void check_heap(void)
{
    size_t live = 0, tracked = 0, per_type[T_NTYPES] = {0}, weak_live = 0;
    static size_t weakrefs_to[MAXOBJ];
    REQUIRE(F.ntmp == 0 && F.depth == 0 && !F.rt_collecting && !F.in_gc, "harness state leaked", 0);
    count_weak_to(weakrefs_to);
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        if (m->state != S_ALIVE)
            continue;
        live++;
        REQUIRE(m->refs > 0, "an unreferenced object is alive between operations", id);
        REQUIRE(m->running == 0 && !m->pinned, "model state leaked", id);
        REQUIRE(rcy_getrefcount(m->ptr) == m->refs, "reference count differs from the model", id);
        switch (m->kind) {
        case K_NODE: {
            fnode_t *n = (fnode_t *)m->ptr;
            per_type[m->type]++;
            tracked++;
            for (int k = 0; k < NSLOTS; k++) {
                REQUIRE(m->slot[k] == 0 || alive(m->slot[k]), "a reference leads to a freed object", id);
                REQUIRE(n->slot[k] == P(m->slot[k]), "node slot differs from the model", id);
            }
            REQUIRE(rcy_gc_is_finalized(m->ptr) == (m->fin_calls > 0), "is_finalized differs from the model", id);
            REQUIRE(rcy_gc_is_tracked(m->ptr), "a container is not tracked", id);
            break;
        }
        case K_LEAF:
            per_type[T_LEAF]++;
            REQUIRE(!rcy_gc_is_tracked(m->ptr), "a non-container is tracked", id);
            break;
        case K_WEAKREF:
        case K_FINREG: {
            weak_live++;
            tracked++;
            if (m->kind == K_FINREG)
                REQUIRE(rcy_finalize_alive(m->ptr) == m->registered, "finalize.alive differs", id);
            REQUIRE(rcy_weakref_is_alive(m->ptr) == (m->referent > 0), "weak reference liveness differs", id);
            if (m->referent > 0) {
                REQUIRE(alive(m->referent), "a weak reference leads to a freed object", id);
                rcy_object_t *got = rcy_weakref_get(m->ptr);
                REQUIRE(got == P(m->referent), "rcy_weakref_get returned the wrong object", id);
                rcy_decref(got);
            }
            break;
        }
        default:
            fuzz_fail("unknown kind", id);
        }
        if (m->kind == K_NODE || m->kind == K_LEAF)
            REQUIRE(rcy_weakref_count(m->ptr) == weakrefs_to[id], "weak reference count differs", id);
    }
    REQUIRE(rcy_runtime_live_objects(F.rt) == live, "live objects differ from the model", (int)live);
    for (int t = 0; t < T_NTYPES; t++)
        REQUIRE(rcy_type_live_objects(F.types[t]) == per_type[t], "per-type live objects differ", t);
    if (F.weakref_type != NULL)
        REQUIRE(rcy_type_live_objects(F.weakref_type) == weak_live, "live weak references differ", 0);
    size_t ng = 0;
    for (int id = 1; id < F.nobj; id++)
        ng += alive(id) ? (size_t)M(id)->garb : 0;
    REQUIRE(rcy_gc_garbage_len(F.rt) == ng, "garbage list length differs", (int)ng);
    for (size_t i = 0; i < rcy_gc_garbage_len(F.rt); i++) {
        int id = id_of(rcy_gc_garbage_get(F.rt, i));
        REQUIRE(id > 0 && M(id)->garb > 0, "the garbage list holds an unexpected object", id);
    }
    /* Every tracked object is known (in incremental mode every eighth
       operation: the walk gives a pass up). */
    if (F.incr && F.nops % 8 != 0)
        return;
    rcy_objarray_t a = {0};
    bool fail_ok = F.fail_ok;
    F.fail_ok = false;
    REQUIRE(rcy_gc_get_objects(F.rt, -1, &a) == 0, "rcy_gc_get_objects failed", 0);
    F.fail_ok = fail_ok;
    for (size_t i = 0; i < a.len; i++)
        REQUIRE(id_of(a.items[i]) > 0, "a tracked object unknown to the model", 0);
    REQUIRE(a.len + rcy_gc_get_freeze_count(F.rt) == tracked, "tracked objects differ from the model", (int)a.len);
    rcy_objarray_release(&a);
}

/* Collects until a full collection finds nothing unreachable (then it ran
   no finalizer or callback; its result is no guide: garbage that all died
   by refcount during its finalizers, or was resurrected, counts 0, yet the
   finalizers may have made garbage or released an old cycle), then
   everything alive must be reachable from the harness. */
static bool collect_until_quiet(void)
{
    rcy_gc_unfreeze(F.rt);
    F.quiet = true; /* gc callbacks could drop references after the last pass */
    int pass;
    for (pass = 0; pass < QUIET_PASSES; pass++) {
        intptr_t r = explicit_collect(2);
        REQUIRE(r >= 0, "rcy_gc_collect failed", 0);
        TRACE("  quiet pass %d found %ld, %zu unreachable\n", pass, (long)r, F.garbage_count);
        if (F.garbage_count == 0)
            break;
    }
    F.quiet = false;
    if (pass == QUIET_PASSES)
        return false; /* user code keeps making garbage; nothing to conclude */
    reach_from_harness(0);
    for (int id = 1; id < F.nobj; id++)
        if (alive(id) && !mark[id])
            fuzz_fail("an unreachable object survived a quiet collection", id);
    return true;
}

static void introspect(int id)
{
    rcy_object_t *p = P(id);
    rcy_objarray_t a = {0};
    bool fail_ok = F.fail_ok;
    F.fail_ok = false;
    REQUIRE(rcy_gc_get_referents(F.rt, &p, 1, &a) == 0, "rcy_gc_get_referents failed", id);
    size_t expect = 0;
    if (M(id)->kind == K_NODE)
        for (int k = 0; k < NSLOTS; k++)
            if (M(id)->slot[k] > 0) {
                expect++;
                bool found = false;
                for (size_t i = 0; i < a.len; i++)
                    found |= a.items[i] == P(M(id)->slot[k]);
                REQUIRE(found, "a referent is missing from rcy_gc_get_referents", id);
            }
    REQUIRE(a.len == expect, "rcy_gc_get_referents count differs", id);
    rcy_objarray_release(&a);
    if (rcy_gc_get_freeze_count(F.rt) == 0) {
        REQUIRE(rcy_gc_get_referrers(F.rt, &p, 1, &a) == 0, "rcy_gc_get_referrers failed", id);
        size_t n = 0;
        for (int src = 1; src < F.nobj; src++) {
            mobj_t *m = M(src);
            if (!alive(src) || m->kind != K_NODE)
                continue;
            bool refers = false;
            for (int k = 0; k < NSLOTS; k++)
                refers |= m->slot[k] == id;
            if (refers) {
                n++;
                bool found = false;
                for (size_t i = 0; i < a.len; i++)
                    found |= a.items[i] == m->ptr;
                REQUIRE(found, "a referrer is missing from rcy_gc_get_referrers", src);
            }
        }
        REQUIRE(a.len == n, "rcy_gc_get_referrers count differs", id);
        rcy_objarray_release(&a);
    }
    F.fail_ok = fail_ok;
}

/* ---- Setup and teardown --------------------------------------------------- */

static rcy_type_t *make_type(int t)
{
    static const char *const names[T_NTYPES] = {"Plain", "Fin", "Legacy", "Both", "Leaf"};
    rcy_type_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.name = names[t];
    if (t == T_LEAF) {
        spec.basicsize = sizeof(fleaf_t);
        spec.weaklistoffset = offsetof(fleaf_t, weaklist);
        spec.dealloc = leaf_dealloc;
    } else {
        spec.basicsize = sizeof(fnode_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = node_traverse;
        spec.clear = node_clear;
        spec.dealloc = node_dealloc;
        spec.weaklistoffset = offsetof(fnode_t, weaklist);
    }
    if (type_has_finalizer(t))
        spec.finalize = any_finalize;
    if (type_has_legacy(t))
        spec.legacy_del = any_legacy;
    return rcy_type_new(F.rt, &spec);
}

static bool setup(void)
{
    unsigned c0 = byte(), c1 = byte();
    static const int t0s[8] = {0, 1, 2, 3, 5, 8, 13, 700};
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = (int)(c0 & 1);
    cfg.quarantine = 16;
    cfg.threshold0 = t0s[(c0 >> 1) & 7];
    cfg.threshold1 = 1 + (int)((c0 >> 4) & 3) * 3;
    cfg.threshold2 = 1 + (int)(c0 >> 6) * 3;
    cfg.output = fz_output;
    cfg.error = fz_error;
    cfg.allocator.malloc_fn = fz_malloc;
    cfg.allocator.realloc_fn = fz_realloc;
    cfg.allocator.free_fn = fz_free;
    F.rt = rcy_runtime_new(&cfg);
    if (F.rt == NULL)
        return false;
    for (int t = 0; t < T_NTYPES; t++) {
        F.types[t] = make_type(t);
        if (F.types[t] == NULL)
            return false;
    }
    if (rcy_gc_callback_add(F.rt, gc_first, NULL) < 0 || rcy_gc_callback_add(F.rt, gc_last, NULL) < 0)
        return false;
    F.fail_every = c1 >= 224 ? 3 + (int)(c1 % 29) : 0;
    F.incr = rcy_gc_get_mode(F.rt) == RCY_GC_INCREMENTAL;
    F.nobj = 1;
    F.checks = true;
    F.fail_ok = true;
    return true;
}

static bool any_slot_used(void)
{
    for (int i = 0; i < NROOTS; i++)
        if (F.roots[i])
            return true;
    for (int i = 0; i < NRES; i++)
        if (F.res[i])
            return true;
    for (int i = 0; i < NWEAK; i++)
        if (F.weak[i])
            return true;
    for (int i = 0; i < NFREG; i++)
        if (F.freg[i])
            return true;
    return false;
}

static void release_all_slots(void)
{
    for (int pass = 0; pass < 20 && any_slot_used(); pass++) {
        for (int i = 0; i < NROOTS; i++)
            slot_set(&F.roots[i], 0);
        for (int i = 0; i < NRES; i++)
            slot_set(&F.res[i], 0);
        for (int i = 0; i < NWEAK; i++)
            slot_set(&F.weak[i], 0);
        for (int i = 0; i < NFREG; i++)
            slot_set(&F.freg[i], 0);
    }
}

static void finish(void)
{
    TRACE("finish\n");
    if (F.incr && getenv("FUZZ_GRAPH_STATS") != NULL) {
        /* How much of incremental mode the input exercised (stderr). */
        rcy_gc_incr_stats_t is;
        rcy_gc_incr_stats_init(&is);
        rcy_gc_get_incr_stats(F.rt, &is);
        fprintf(stderr, "fuzz_graph: passes %llu of %llu started (%llu given up, %llu backstops), %llu steps\n",
                (unsigned long long)is.passes, (unsigned long long)is.passes_started,
                (unsigned long long)is.aborted, (unsigned long long)is.backstops, (unsigned long long)is.steps);
    }
    F.fail_every = 0;
    /* Finalizers run by the collections may store into slots again: the
       second pass forbids it. */
    for (int pass = 0; pass < 2; pass++) {
        release_all_slots();
        bool quiet = collect_until_quiet();
        if (quiet && !any_slot_used())
            break;
        F.no_store = true;
    }
    REQUIRE(!any_slot_used(), "slots still used at the end", 0);
    check_heap();

    bool atexit_pending[MAXOBJ] = {false};
    for (int id = 1; id < F.nobj; id++)
        atexit_pending[id] = alive(id) && M(id)->kind == K_FINREG && M(id)->registered && M(id)->atexit;
    F.checks = false;
    F.tearing_down = F.no_store = true;
    rcy_runtime_destroy(F.rt);
    F.rt = NULL;
    REQUIRE(!F.leak_reported, "teardown reported objects still alive", 0);
    for (int id = 1; id < F.nobj; id++) {
        mobj_t *m = M(id);
        if (m->kind == K_NODE || m->kind == K_LEAF)
            REQUIRE(m->deaths == 1, "an object was not freed exactly once by teardown", id);
        if (m->kind == K_NODE)
            REQUIRE(m->fin_calls <= 1, "a container's finalizer ran twice", id);
        if (m->kind == K_WEAKREF || m->kind == K_FINREG)
            REQUIRE(m->cb_calls <= 1, "a callback ran twice", id);
        if (atexit_pending[id])
            REQUIRE(m->cb_calls == 1, "a registration did not run at teardown", id);
    }
}

/* Re-registers gc_last so that it stays the last callback. */
static void keep_gc_last_last(void)
{
    bool fail_ok = F.fail_ok;
    F.fail_ok = false;
    REQUIRE(rcy_gc_callback_remove(F.rt, gc_last, NULL) == 0, "gc_last was not registered", 0);
    REQUIRE(rcy_gc_callback_add(F.rt, gc_last, NULL) == 0, "cannot register gc_last", 0);
    F.fail_ok = fail_ok;
}

/* ---- Operations -------------------------------------------------------------- */

static int pick_or_none(unsigned b, int filter) { return (b & 7) == 7 ? 0 : pick_alive(b >> 3, filter); }

#define NOPS 22

static void op(unsigned code)
{
    switch (code % NOPS) {
    case 0:
    case 1: { /* a new object in a root */
        unsigned t = byte(), a = byte(), g = byte(), r = byte();
        int id = new_object((int)(t % T_NTYPES), (uint8_t)a, (uint8_t)g);
        if (id > 0) {
            slot_set(&F.roots[r % NROOTS], id);
            release_hold();
        }
        break;
    }
    case 2:
    case 3: { /* link */
        unsigned s = byte(), k = byte(), d = byte();
        int src = pick_alive(s, PICK_NODE);
        if (src > 0) {
            int dst = pick_or_none(d, PICK_ANY);
            node_set(src, (int)(k % NSLOTS), dst);
        }
        break;
    }
    case 4: { /* unlink */
        unsigned s = byte(), k = byte();
        int src = pick_alive(s, PICK_NODE);
        if (src > 0)
            node_set(src, (int)(k % NSLOTS), 0);
        break;
    }
    case 5: { /* root */
        unsigned r = byte(), b = byte();
        slot_set(&F.roots[r % NROOTS], pick_or_none(b, PICK_ANY));
        break;
    }
    case 6: /* drop a resurrected object */
        slot_set(&F.res[byte() % NRES], 0);
        break;
    case 7: { /* explicit collection */
        int gen = (int)(byte() % 3);
        F.last_result_valid = false;
        intptr_t r = explicit_collect(gen);
        REQUIRE(r >= 0, "rcy_gc_collect failed", gen);
        REQUIRE(F.last_result_valid && r == F.last_result, "rcy_gc_collect result differs from its callback", gen);
        break;
    }
    case 8: { /* weak reference */
        unsigned t = byte(), c = byte(), a = byte(), g = byte();
        int target = pick_alive(t, PICK_WEAKREFABLE);
        if (target > 0) {
            int w = new_weakref(target, (c & 1) != 0, (uint8_t)a, (uint8_t)g);
            if (w > 0) {
                slot_set(&F.weak[(c >> 1) % NWEAK], w);
                release_hold();
            }
        }
        break;
    }
    case 9: { /* finalize registration */
        unsigned t = byte(), a = byte(), g = byte(), s = byte();
        int target = pick_alive(t, PICK_WEAKREFABLE);
        if (target > 0) {
            int f = new_registration(target, (uint8_t)a, (uint8_t)g);
            if (f > 0) {
                if (s % (NFREG + 1) < NFREG)
                    slot_set(&F.freg[s % (NFREG + 1)], f);
                release_hold();
            }
        }
        break;
    }
    case 10: { /* call, detach, atexit */
        unsigned s = byte(), w = byte();
        int f = F.freg[s % NFREG];
        if (f == 0)
            break;
        mobj_t *m = M(f);
        if (w % 3 == 0) {
            bool was = m->registered;
            mref(f); /* rcy_finalize_call holds it while it runs */
            F.in_finalize_call = f;
            int r = rcy_finalize_call(m->ptr);
            F.in_finalize_call = 0;
            munref(f);
            REQUIRE(r == (was ? 1 : 0), "rcy_finalize_call result", f);
            REQUIRE(!was || m->cb_calls == 1, "rcy_finalize_call did not call", f);
        } else if (w % 3 == 1) {
            bool was = m->registered;
            int r = rcy_finalize_detach(m->ptr);
            REQUIRE(r == (was ? 1 : 0), "rcy_finalize_detach result", f);
            if (was) {
                m->registered = false;
                m->referent = 0;
                munref(f);
            }
        } else {
            m->atexit = (w >> 2) & 1;
            REQUIRE(rcy_finalize_set_atexit(m->ptr, m->atexit) == 0, "rcy_finalize_set_atexit", f);
        }
        break;
    }
    case 11: { /* gc callbacks */
        unsigned k = byte() % NGCCB, p = byte(), a = byte(), g = byte();
        bool fail_ok = F.fail_ok;
        F.fail_ok = false;
        if (F.gccb[k].used) {
            REQUIRE(rcy_gc_callback_remove(F.rt, gc_user, (void *)(intptr_t)k) == 0, "callback remove", (int)k);
            F.gccb[k].used = false;
        } else {
            F.gccb[k].phase = (uint8_t)(p & 1);
            F.gccb[k].act = (uint8_t)a;
            F.gccb[k].arg = (uint8_t)g;
            REQUIRE(rcy_gc_callback_add(F.rt, gc_user, (void *)(intptr_t)k) == 0, "callback add", (int)k);
            F.gccb[k].used = true;
            keep_gc_last_last();
        }
        F.fail_ok = fail_ok;
        break;
    }
    case 12: { /* switches */
        unsigned w = byte(), v = byte();
        static const int debug_flags[8] = {0, RCY_DEBUG_STATS, RCY_DEBUG_COLLECTABLE, RCY_DEBUG_UNCOLLECTABLE,
                                           RCY_DEBUG_SAVEALL, RCY_DEBUG_LEAK, RCY_DEBUG_LEAK | RCY_DEBUG_STATS, 0};
        switch (w % 4) {
        case 0: rcy_gc_enable(F.rt); break;
        case 1: rcy_gc_disable(F.rt); break;
        case 2: REQUIRE(rcy_gc_set_threshold(F.rt, (int)(v % 9), 1 + (int)(v % 5), 1 + (int)(v % 7)) == 0, "threshold", 0); break;
        default: REQUIRE(rcy_gc_set_debug(F.rt, debug_flags[v % 8]) == 0, "set_debug", 0); break;
        }
        break;
    }
    case 13:
        if (byte() & 1)
            rcy_gc_freeze(F.rt);
        else
            rcy_gc_unfreeze(F.rt);
        break;
    case 14: { /* gc.garbage.clear() */
        /* The runtime releases the entries one by one, running code in
           between: counts lag the model until it returns. */
        intptr_t n = 0;
        for (int id = 1; id < F.nobj; id++) {
            if (alive(id) && M(id)->garb > 0) {
                n += M(id)->garb;
                M(id)->refs -= M(id)->garb - 1;
                M(id)->garb = 0;
                munref(id);
            }
        }
        F.relaxed = true;
        intptr_t r = rcy_gc_garbage_clear(F.rt);
        F.relaxed = false;
        REQUIRE(r == n, "rcy_gc_garbage_clear count", (int)n);
        break;
    }
    case 15:
        (void)collect_until_quiet();
        break;
    case 16: { /* a cycle of nodes, perhaps held */
        unsigned n = 2 + byte() % 4, t = byte(), h = byte();
        int ids[5] = {0};
        unsigned made = 0;
        for (unsigned i = 0; i < n; i++) {
            ids[i] = new_object((int)((t >> i) % 4), (uint8_t)(t + i), (uint8_t)(h * (i + 1)));
            if (ids[i] == 0)
                break;
            made++;
        }
        for (unsigned i = 0; i + 1 < made; i++)
            node_set(ids[i], (int)(i % NSLOTS), ids[i + 1]);
        if (made > 1)
            node_set(ids[made - 1], 2, ids[0]);
        if (made > 0 && (h & 1))
            slot_set(&F.roots[(h >> 1) % NROOTS], ids[0]);
        while (made-- > 0)
            release_hold();
        break;
    }
    case 17: { /* drop weak slots */
        unsigned s = byte();
        if (s & 1)
            slot_set(&F.weak[(s >> 1) % NWEAK], 0);
        else
            slot_set(&F.freg[(s >> 1) % NFREG], 0);
        break;
    }
    case 18: { /* introspection */
        int id = pick_alive(byte(), PICK_ANY);
        if (id > 0)
            introspect(id);
        break;
    }
    case 19: { /* a weak reference in a node slot (it can become garbage) */
        unsigned s = byte(), k = byte();
        int src = pick_alive(s, PICK_NODE);
        int w = F.weak[k % NWEAK];
        if (src > 0 && w > 0)
            node_set(src, (int)((k >> 2) % NSLOTS), w);
        break;
    }
    case 21: { /* a chain deeper than the trashcan's limit, held by a root */
        unsigned n = 52 + byte() % 12, t = byte(), r = byte();
        int head = new_object((int)(t % 4), (uint8_t)t, (uint8_t)r);
        if (head == 0)
            break;
        slot_set(&F.roots[r % NROOTS], head);
        int prev = head;
        release_hold();
        for (unsigned i = 1; i < n && alive(prev); i++) {
            int id = new_object((int)((t >> (i % 5)) % 4 == 2 ? 0 : (t >> (i % 5)) % 4), (uint8_t)(t + i),
                                (uint8_t)(r + i));
            if (id == 0)
                break;
            if (alive(prev)) /* a collection in the allocation may have run code that freed it */
                node_set(prev, 0, id);
            release_hold();
            prev = id;
        }
        TRACE("  chain from %d to %d%s\n", head, prev, alive(head) ? "" : " (head died)");
        if ((r & 16) && alive(prev) && alive(head))
            node_set(prev, 1, head); /* one long cycle */
        break;
    }
    default: { /* move a root into a node slot and back: shuffle */
        unsigned r = byte(), k = byte();
        int src = pick_alive(k, PICK_NODE);
        if (F.incr && (r & 64)) {
            /* A reference moved between two nodes' slots by plain stores,
               no count changing (a pop from one list stolen into
               another): invisible to any barrier on counts. */
            int dst = pick_alive(r >> 3, PICK_NODE);
            int ks = (int)(k % NSLOTS), kd = (int)((r >> 1) % NSLOTS);
            if (src > 0 && dst > 0 && M(src)->slot[ks] > 0 && M(dst)->slot[kd] == 0) {
                fnode_t *a = (fnode_t *)M(src)->ptr, *b = (fnode_t *)M(dst)->ptr;
                b->slot[kd] = a->slot[ks];
                a->slot[ks] = NULL;
                M(dst)->slot[kd] = M(src)->slot[ks];
                M(src)->slot[ks] = 0;
                TRACE("  raw move %d.%d -> %d.%d\n", src, ks, dst, kd);
            }
            break;
        }
        if (F.incr && (r & 128)) {
            idle_step(k % 4 == 0 ? 0 : k % 61); /* the program's idle time given to the pass */
            break;
        }
        if (src > 0 && F.roots[r % NROOTS] > 0)
            node_set(src, (int)(r % NSLOTS), F.roots[r % NROOTS]);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&F, 0, sizeof F);
    F.data = data;
    F.size = size;
    if (!setup()) {
        /* Only an allocation failure (none are injected here) could fail. */
        fuzz_fail("cannot set up a runtime", 0);
    }
    tracing = getenv("FUZZ_GRAPH_TRACE") != NULL;
    size_t ops = 0;
    while (F.pos < F.size && ops < 4000) {
        unsigned code = byte();
        TRACE("op %u\n", code % NOPS);
        op(code);
        ops++;
        F.nops = ops;
        check_heap();
    }
    finish();
    return 0;
}
