/* Recursion bounded by the stack actually used: on threads with small
   stacks (16, 32 and 64 KiB, as PTHREAD_STACK_MIN permits) hashing,
   equality, dict keys and reprs of 5,000-deep tuples, lists and dicts fail
   cleanly with RCY_EDEPTH (or write "..."), describe slots that describe
   each other stop, and deep deallocation cascades whose slots have large
   frames are deferred by the trashcan, as are 150,000-link chains whose
   finalizers release the next link (containers and not, on the main
   thread too); a deferred finalizer may resurrect, a collection at the
   trashcan's depth sees CPython's order, and the callbacks of a finalizer
   at the last level run. Every object is freed. Nesting below the level
   cap that the main thread handles fails on a 32 KiB stack, so the stack
   check, not the level count, is what fires there. */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "fatal_child.h"
#include "node.h"

#include <limits.h>
#include <stdbool.h>
#include <pthread.h>
#include <unistd.h>

#define DEEP 5000
#define BELOW_CAP 900 /* under the 1,000-level cap of equality and hashing */

/* Two equal nests, depth levels deep, of one kind: tuples (k 0), lists
   (1) or dicts ({1: inner}, 2), around the int 1. */
static void make_nests(rcy_runtime_t *rt, int kind, int depth, rcy_object_t **x, rcy_object_t **y)
{
    rcy_object_t *one = rcy_int_new(rt, 1);
    rcy_object_t *t[2] = {rcy_newref(one), rcy_newref(one)};
    for (int i = 0; i < depth; i++) {
        for (int k = 0; k < 2; k++) {
            rcy_object_t *o;
            if (kind == 0) {
                o = rcy_tuple_new(rt, 1, &t[k]);
            } else if (kind == 1) {
                o = rcy_list_new(rt);
                CHECK_EQ(rcy_list_append(o, t[k]), 0);
            } else {
                o = rcy_dict_new(rt);
                CHECK_EQ(rcy_dict_set(o, one, t[k]), 0);
            }
            CHECK(o != NULL);
            rcy_decref(t[k]);
            t[k] = o;
        }
    }
    rcy_decref(one);
    *x = t[0];
    *y = t[1];
}

/* The parentheses of a repr balance, and it was cut short with "...". */
static int balanced(const char *s, char open, char close)
{
    int depth = 0;
    for (; *s; s++) {
        if (*s == open)
            depth++;
        else if (*s == close && --depth < 0)
            return 0;
    }
    return depth == 0;
}

/* ---- Deep built-in structures on a small stack ------------------------ */

typedef struct deep_s {
    size_t stack;
    int kind;
} deep_t;

static char repr_buf[200000];

static void *deep_main(void *arg)
{
    deep_t *job = arg;
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *x, *y;
    make_nests(rt, job->kind, DEEP, &x, &y);
    int64_t h = 0;
    if (job->kind == 0) {
        CHECK_EQ(rcy_hash(x, &h), RCY_EDEPTH);
        CHECK_EQ(rcy_last_error(rt), RCY_EDEPTH);
        /* A dict refuses such a key, unchanged, for each use. */
        rcy_object_t *d = rcy_dict_new(rt), *one = rcy_int_new(rt, 1);
        CHECK_EQ(rcy_dict_set(d, x, one), RCY_EDEPTH);
        CHECK_EQ(rcy_dict_len(d), 0);
        CHECK(rcy_dict_get(d, x) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EDEPTH);
        CHECK_EQ(rcy_dict_del(d, x), RCY_EDEPTH);
        rcy_decref(one);
        rcy_decref(d);
    } else {
        CHECK_EQ(rcy_hash(x, &h), RCY_EHASH); /* unhashable before any depth */
    }
    CHECK_EQ(rcy_equal(x, y), RCY_EDEPTH);
    CHECK_EQ(rcy_equal(x, x), 1); /* identity needs no recursion */
    /* The repr stops at the nesting the stack allows. */
    int n = rcy_describe(x, repr_buf, sizeof repr_buf);
    CHECK(n > 0 && (size_t)n < sizeof repr_buf);
    const char *opens = "([{", *closes = ")]}";
    char open = opens[job->kind], close = closes[job->kind];
    const char *starts[] = {"(((((", "[[[[[", "{1: {1: {1: "};
    CHECK(strncmp(repr_buf, starts[job->kind], strlen(starts[job->kind])) == 0);
    const char *text = repr_buf;
    CHECK_STR_CONTAINS(text, "...");
    CHECK(balanced(repr_buf, open, close));
    /* Nesting that the main thread handles (test_below_cap_main_thread)
       exceeds this stack: the stack check fails it, not the level cap. */
    if (job->stack <= 32 * 1024) {
        rcy_object_t *u, *v;
        make_nests(rt, job->kind, BELOW_CAP, &u, &v);
        if (job->kind == 0)
            CHECK_EQ(rcy_hash(u, &h), RCY_EDEPTH);
        CHECK_EQ(rcy_equal(u, v), RCY_EDEPTH);
        rcy_decref(u);
        rcy_decref(v);
    }
    /* The 5,000-deep nests are freed on this stack too (the trashcan). */
    rcy_decref(x);
    rcy_decref(y);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
    return NULL;
}

/* Runs fn(arg) on a new thread with a stack of size bytes (the checks
   counted once it has ended: the harness's counters are not atomic). */
static void run_on_stack(size_t size, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    CHECK_EQ(pthread_attr_init(&attr), 0);
    CHECK_EQ(pthread_attr_setstacksize(&attr, size), 0);
    pthread_t th;
    int created = pthread_create(&th, &attr, fn, arg);
    int joined = created == 0 ? pthread_join(th, NULL) : -1;
    CHECK_EQ(created, 0);
    CHECK_EQ(joined, 0);
    pthread_attr_destroy(&attr);
}

/* ThreadSanitizer needs half of a thread's stack for itself (the library
   keeps that much free under it): the stacks are four times larger there. */
#if defined(__SANITIZE_THREAD__)
#define STACK_SCALE 4
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STACK_SCALE 4
#endif
#endif
#ifndef STACK_SCALE
#define STACK_SCALE 1
#endif

/* The small stacks the system allows. */
static int small_stacks(size_t out[3])
{
    long min = sysconf(_SC_THREAD_STACK_MIN);
    if (min < PTHREAD_STACK_MIN)
        min = PTHREAD_STACK_MIN;
    size_t sizes[3] = {STACK_SCALE * 16 * 1024, STACK_SCALE * 32 * 1024, STACK_SCALE * 64 * 1024};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (sizes[i] >= (size_t)min)
            out[n++] = sizes[i];
    }
    return n;
}

TEST(test_deep_nesting_small_stacks)
{
    size_t sizes[3];
    int n = small_stacks(sizes);
    CHECK(n >= 2); /* 32 and 64 KiB at least */
    for (int i = 0; i < n; i++) {
        for (int kind = 0; kind < 3; kind++) {
            deep_t job = {sizes[i], kind};
            run_on_stack(sizes[i], deep_main, &job);
        }
    }
}

/* On the main thread's stack the same nesting works; past the level cap
   it fails (CPython: RecursionError), whatever the stack. */
TEST(test_below_cap_main_thread)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    for (int kind = 0; kind < 3; kind++) {
        rcy_object_t *u, *v;
        make_nests(rt, kind, BELOW_CAP, &u, &v);
        int64_t h;
        if (kind == 0) {
            CHECK_EQ(rcy_hash(u, &h), 0);
            int64_t h2;
            CHECK_EQ(rcy_hash(v, &h2), 0);
            CHECK_EQ(h, h2);
            rcy_object_t *d = rcy_dict_new(rt);
            CHECK_EQ(rcy_dict_set(d, u, u), 0);
            CHECK(rcy_dict_get(d, v) == u);
            rcy_decref(d);
        }
        CHECK_EQ(rcy_equal(u, v), 1);
        rcy_decref(u);
        rcy_decref(v);
        make_nests(rt, kind, DEEP, &u, &v);
        if (kind == 0)
            CHECK_EQ(rcy_hash(u, &h), RCY_EDEPTH);
        CHECK_EQ(rcy_equal(u, v), RCY_EDEPTH);
        rcy_decref(u);
        rcy_decref(v);
    }
    CHECK(strcmp(rcy_strerror(RCY_EDEPTH), "nesting too deep for the stack") == 0);
    test_runtime_end(rt);
}

/* ---- describe slots that describe each other -------------------------- */

/* A node describes itself with the description of its a (through
   rcy_describe): a node whose a is itself recurses until the stack is
   low, then rcy_describe writes the plain "<Node 0x...>". */
static int node_describe(rcy_object_t *self, char *buf, size_t size)
{
    char inner[160];
    node_t *n = (node_t *)self;
    rcy_describe(n->a, inner, sizeof inner);
    return snprintf(buf, size, "<Node %s>", inner);
}

static void *describe_main(void *arg)
{
    (void)arg;
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Node";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.describe = node_describe;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    node_t *n = node_new(t, 0);
    node_set_a(n, n); /* n describes itself, for ever */
    char buf[160];
    int len = rcy_describe(OB(n), buf, sizeof buf);
    CHECK(len > 0);
    CHECK(strncmp(buf, "<Node <Node ", 12) == 0);
    /* In a list, it ends as well (the list's repr calls the slot). */
    rcy_object_t *l = rcy_list_new(rt);
    rcy_list_append(l, OB(n));
    len = rcy_describe(l, buf, sizeof buf);
    CHECK(len > 0);
    CHECK(strncmp(buf, "[<Node <Node ", 13) == 0);
    rcy_decref(l);
    rcy_decref(OB(n));
    test_runtime_end(rt);
    return NULL;
}

TEST(test_describe_recursion_bounded)
{
    size_t sizes[3];
    int n = small_stacks(sizes);
    for (int i = 0; i < n; i++)
        run_on_stack(sizes[i], describe_main, NULL);
    describe_main(NULL); /* and on the main thread's 8 MiB */
}

/* ---- deallocation cascades with large frames --------------------------- */

/* A dealloc slot with a kilobyte frame: the trashcan's 50 levels of such
   deallocations need more than a 32 KiB stack has. */
static void big_frame_dealloc(rcy_object_t *self)
{
    volatile char pad[1024];
    node_t *n = (node_t *)self;
    pad[0] = (char)n->value;
    pad[sizeof pad - 1] = pad[0];
    RCY_CLEAR(n->a);
    RCY_CLEAR(n->b);
}

static void *dealloc_main(void *arg)
{
    (void)arg;
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "BigFrame";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = big_frame_dealloc;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    node_t *head = node_new(t, 0);
    for (long i = 1; i < DEEP; i++) {
        node_t *n = node_new(t, i);
        node_set_a(n, head);
        rcy_decref(OB(head));
        head = n;
    }
    CHECK_EQ(rcy_type_live_objects(t), DEEP);
    rcy_decref(OB(head));
    CHECK_EQ(rcy_type_live_objects(t), 0);
    test_runtime_end(rt);
    return NULL;
}

TEST(test_dealloc_cascade_small_stacks)
{
    size_t sizes[3];
    int n = small_stacks(sizes);
    for (int i = 0; i < n; i++)
        run_on_stack(sizes[i], dealloc_main, NULL);
}

/* ---- chains whose finalizers release the next link ---------------------- */

/* A link of a chain, a container (FinLink) or not (FinAtom), whose PEP 442
   finalizer releases the next link (Python's `__del__: self.next = None`):
   every link's death then begins inside the previous one's finalizer. The
   trashcan defers such a death whole, finalizer included, once they nest
   too deep, as CPython's does. */
typedef struct fin_link_s {
    rcy_object_t ob;
    rcy_object_t *next;
    long index;
} fin_link_t;

static int fin_link_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((fin_link_t *)self)->next);
    return 0;
}

static int fin_link_clear(rcy_object_t *self)
{
    RCY_CLEAR(((fin_link_t *)self)->next);
    return 0;
}

static void fin_link_dealloc(rcy_object_t *self) { RCY_CLEAR(((fin_link_t *)self)->next); }

static unsigned char *fin_runs; /* finalizer calls per link index */
static long fin_total, fin_twice, fin_untracked;
static bool fin_validate;      /* validate the heap in some finalizers */
static long fin_validate_failed, fin_validated;

static int fin_link_finalize(rcy_object_t *self)
{
    fin_link_t *l = (fin_link_t *)self;
    if (fin_runs[l->index]++ != 0)
        fin_twice++;
    fin_total++;
    /* CPython's subtype_dealloc tracks a container for its finalizer,
       also when the trashcan deferred its death. */
    if (rcy_type_is_gc(self->type) && !rcy_gc_is_tracked(self))
        fin_untracked++;
    RCY_CLEAR(l->next);
    /* Every 49th link releases the next at the trashcan's limit (the
       drain starts each run of nested deaths one level down): the heap,
       with that link's death deferred whole on the trash list, is sound. */
    if (fin_validate && l->index % 49 == 0 && l->index < 1000) {
        fin_validated++;
        if (rcy_gc_validate(rcy_object_runtime(self)) != 0)
            fin_validate_failed++;
    }
    return 0;
}

static rcy_type_t *fin_link_type(rcy_runtime_t *rt, bool container)
{
    rcy_type_spec_t spec = {0};
    spec.name = container ? "FinLink" : "FinAtom";
    spec.basicsize = sizeof(fin_link_t);
    spec.finalize = fin_link_finalize;
    if (container) {
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = fin_link_traverse;
        spec.clear = fin_link_clear;
    } else {
        spec.dealloc = fin_link_dealloc;
    }
    return rcy_type_new(rt, &spec);
}

#define FIN_CHAIN 150000

/* Builds a chain of n links of t (index 0 the head) and drops it. */
static void fin_chain_drop(rcy_type_t *t, long n)
{
    fin_link_t *next = NULL;
    for (long i = n; i-- > 0;) {
        fin_link_t *l = (fin_link_t *)rcy_new(t);
        if (l == NULL) {
            CHECK(l != NULL);
            return;
        }
        l->index = i;
        l->next = (rcy_object_t *)next; /* the reference new gave */
        next = l;
    }
    CHECK_EQ(rcy_type_live_objects(t), n);
    rcy_decref(&next->ob);
}

static void *fin_chain_main(void *arg)
{
    bool container = arg != NULL;
    long n = harness_scaled(FIN_CHAIN, 1000);
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = fin_link_type(rt, container);
    fin_runs = calloc((size_t)n, 1);
    CHECK(fin_runs != NULL);
    if (fin_runs == NULL)
        return NULL;
    fin_total = fin_twice = fin_untracked = 0;
    fin_chain_drop(t, n);
    CHECK_EQ(rcy_type_live_objects(t), 0);
    CHECK_EQ(fin_total, n);
    CHECK_EQ(fin_twice, 0);
    CHECK_EQ(fin_untracked, 0);
    long missing = 0;
    for (long i = 0; i < n; i++)
        missing += fin_runs[i] == 0;
    CHECK_EQ(missing, 0);
    free(fin_runs);
    fin_runs = NULL;
    test_runtime_end(rt);
    return NULL;
}

TEST(test_finalizer_chain_main_thread)
{
    fin_validate = true;
    fin_validated = fin_validate_failed = 0;
    fin_chain_main((void *)1); /* containers */
    fin_chain_main(NULL);      /* non-containers */
    fin_validate = false;
    CHECK(fin_validated > 0);
    CHECK_EQ(fin_validate_failed, 0);
}

TEST(test_finalizer_chain_small_stacks)
{
    size_t sizes[3];
    int n = small_stacks(sizes);
    for (int i = 0; i < n; i++) {
        run_on_stack(sizes[i], fin_chain_main, (void *)1);
        run_on_stack(sizes[i], fin_chain_main, NULL);
    }
}

/* A finalizer whose death was deferred may resurrect its object: it stays,
   tracked and finalized, and a collection frees it later (its finalizer
   does not run again, PEP 442). */
static fin_link_t *fin_saved;
static long fin_save_index;

static int fin_link_finalize_saving(rcy_object_t *self)
{
    fin_link_t *l = (fin_link_t *)self;
    if (l->index == fin_save_index) {
        fin_total++;
        if (!rcy_gc_is_tracked(self))
            fin_untracked++;
        rcy_incref(self);
        fin_saved = l;
        return 0;
    }
    return fin_link_finalize(self);
}

TEST(test_finalizer_chain_deferred_resurrection)
{
    long n = 1000; /* far past the trashcan's 50 levels */
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "FinLinkSaving";
    spec.basicsize = sizeof(fin_link_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = fin_link_traverse;
    spec.clear = fin_link_clear;
    spec.finalize = fin_link_finalize_saving;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    fin_runs = calloc((size_t)n, 1);
    CHECK(fin_runs != NULL);
    if (fin_runs == NULL)
        return;
    fin_total = fin_twice = fin_untracked = 0;
    fin_saved = NULL;
    fin_save_index = n - 1; /* the last link: its death is deferred */
    fin_chain_drop(t, n);
    CHECK_EQ(fin_total, n);
    CHECK_EQ(fin_untracked, 0);
    CHECK(fin_saved != NULL);
    CHECK_EQ(rcy_type_live_objects(t), 1);
    if (fin_saved != NULL) {
        rcy_object_t *o = &fin_saved->ob;
        CHECK_EQ(rcy_getrefcount(o), 1);
        CHECK(rcy_gc_is_tracked(o));
        CHECK(rcy_gc_is_finalized(o));
        /* Into a cycle of its own, then garbage. */
        fin_saved->next = o;
        rcy_incref(o);
        fin_saved = NULL;
        rcy_decref(o);
        CHECK_EQ(rcy_type_live_objects(t), 1);
        CHECK_EQ(rcy_gc_collect(rt, 2), 1);
        CHECK_EQ(fin_total, n); /* not finalized twice */
    }
    CHECK_EQ(rcy_type_live_objects(t), 0);
    free(fin_runs);
    fin_runs = NULL;
    test_runtime_end(rt);
}

/* CPython's order (python3 3.11): at the 50th nesting of finalizer-driven
   deaths, a collection runs inside the finalizer; the finalizer of one
   garbage object (X) releases the last reference to another (Z), whose
   death is then deferred by the trashcan: it leaves the collection
   untracked, and its finalizer runs once the trash drains, after the
   collection returned, which collects nothing (the deferred Z still holds
   X). One level less, Z's finalizer runs inside the collection; one more,
   the last link itself is deferred and the collection runs shallow. */
enum { EV_X = 1, EV_Z, EV_COLLECTED };
static int fin_events[8], fin_nevents;
static rcy_type_t *fin_xz_type;
static intptr_t fin_collected;

static void fin_event(int e)
{
    if (fin_nevents < 8)
        fin_events[fin_nevents] = e;
    fin_nevents++;
}

/* X (index -1) releases Z, Z (index -2) only notes its call; a link
   releases the next, and the last link runs the collection. */
static int fin_xz_finalize(rcy_object_t *self)
{
    fin_link_t *l = (fin_link_t *)self;
    if (l->index == -1) {
        fin_event(EV_X);
        RCY_CLEAR(l->next);
    } else if (l->index == -2) {
        fin_event(EV_Z);
    } else if (l->next != NULL) {
        RCY_CLEAR(l->next);
    } else {
        fin_link_t *x = (fin_link_t *)rcy_new(fin_xz_type);
        fin_link_t *z = (fin_link_t *)rcy_new(fin_xz_type);
        CHECK(x != NULL && z != NULL);
        if (x == NULL || z == NULL)
            return 0;
        x->index = -1;
        z->index = -2;
        x->next = &z->ob; /* x -> z -> x, unreachable: each holds the */
        z->next = &x->ob; /* reference rcy_new gave for the other */
        fin_collected = rcy_gc_collect(rcy_object_runtime(self), 0);
        fin_event(EV_COLLECTED);
    }
    return 0;
}

TEST(test_finalizer_chain_collection_at_depth)
{
    static const struct {
        long links;
        int events[3];
    } cases[] = {
        {49, {EV_X, EV_Z, EV_COLLECTED}},
        {50, {EV_X, EV_COLLECTED, EV_Z}},
        {51, {EV_X, EV_Z, EV_COLLECTED}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rcy_runtime_t *rt = test_runtime(NULL);
        rcy_gc_disable(rt);
        rcy_type_spec_t spec = {0};
        spec.name = "FinXZ";
        spec.basicsize = sizeof(fin_link_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = fin_link_traverse;
        spec.clear = fin_link_clear;
        spec.finalize = fin_xz_finalize;
        fin_xz_type = rcy_type_new(rt, &spec);
        fin_nevents = 0;
        fin_collected = -1;
        fin_chain_drop(fin_xz_type, cases[c].links);
        CHECK_EQ(fin_nevents, 3);
        for (int i = 0; i < 3; i++)
            CHECK_EQ(fin_events[i], cases[c].events[i]);
        CHECK_EQ(fin_collected, 0);
        CHECK_EQ(rcy_type_live_objects(fin_xz_type), 0);
        test_runtime_end(rt);
    }
}

/* A finalizer that runs 49 deaths deep (the trashcan's last level) counts
   as the 50th: the callbacks of the weak references to its object, which
   come after it, are not the finalizer's and run before the outermost
   decref returns (they are not left waiting for a drain that never comes). */
typedef struct fin_weak_s {
    rcy_object_t ob;
    rcy_object_t *next;
    long index;
    struct rcyi_weakref_s *weaklist;
} fin_weak_t;

static long fin_weak_finalized, fin_weak_called;

static int fin_weak_finalize(rcy_object_t *self)
{
    (void)self;
    fin_weak_finalized++;
    return 0;
}

static int fin_weak_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    fin_weak_called++;
    return 0;
}

TEST(test_finalizer_at_trash_depth_weakref_callback)
{
    for (long depth = 45; depth <= 55; depth++) {
        rcy_runtime_t *rt = test_runtime(NULL);
        rcy_type_t *plain = node_type_new(rt, "Plain");
        rcy_type_spec_t spec = {0};
        spec.name = "FinWeak";
        spec.basicsize = sizeof(fin_weak_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = fin_link_traverse;
        spec.clear = fin_link_clear;
        spec.finalize = fin_weak_finalize;
        spec.weaklistoffset = offsetof(fin_weak_t, weaklist);
        rcy_type_t *t = rcy_type_new(rt, &spec);
        rcy_object_t *w = rcy_new(t);
        rcy_object_t *wr = rcy_weakref_new(w, fin_weak_callback, NULL);
        CHECK(w != NULL && wr != NULL);
        node_t *head = NULL;
        rcy_object_t *inner = w; /* a chain of depth plain nodes around w */
        for (long i = 0; i < depth; i++) {
            head = node_new(plain, i);
            head->a = inner; /* the reference new gave */
            inner = OB(head);
        }
        fin_weak_finalized = fin_weak_called = 0;
        rcy_decref(inner);
        CHECK_EQ(fin_weak_finalized, 1);
        CHECK_EQ(fin_weak_called, 1);
        CHECK_EQ(rcy_type_live_objects(t), 0);
        CHECK_EQ(rcy_type_live_objects(plain), 0);
        rcy_decref(wr);
        test_runtime_end(rt);
    }
}

/* While its whole death waits on the trash list, an object's weak
   references are still set (they are cleared after its finalizer, which
   has not run): they return NULL meanwhile, as CPython's return None for
   an object whose count is 0, instead of reviving it on the list. Each
   link's finalizer asks for the next link after releasing it; the 50th
   link's death is deferred then. */
static rcy_object_t **chain_wrs;
static long chain_len, chain_revived, chain_alive;

static int fin_weak_chain_finalize(rcy_object_t *self)
{
    fin_weak_t *l = (fin_weak_t *)self;
    fin_total++;
    RCY_CLEAR(l->next);
    long k = l->index + 1;
    if (k < chain_len) {
        rcy_object_t *o = rcy_weakref_get(chain_wrs[k]);
        if (o != NULL) {
            chain_revived++;
            rcy_decref(o);
        }
        chain_alive += rcy_weakref_is_alive(chain_wrs[k]) != 0;
    }
    return 0;
}

TEST(test_weakref_to_deferred_death)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "FinWeakChain";
    spec.basicsize = sizeof(fin_weak_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = fin_link_traverse;
    spec.clear = fin_link_clear;
    spec.finalize = fin_weak_chain_finalize;
    spec.weaklistoffset = offsetof(fin_weak_t, weaklist);
    rcy_type_t *t = rcy_type_new(rt, &spec);
    chain_len = 200;
    rcy_object_t *wrs[200];
    chain_wrs = wrs;
    fin_weak_t *next = NULL;
    for (long i = chain_len; i-- > 0;) {
        fin_weak_t *l = (fin_weak_t *)rcy_new(t);
        CHECK(l != NULL);
        if (l == NULL)
            return;
        l->index = i;
        l->next = (rcy_object_t *)next;
        wrs[i] = rcy_weakref_new(OB(l), NULL, NULL);
        CHECK(wrs[i] != NULL);
        next = l;
    }
    fin_total = chain_revived = chain_alive = 0;
    rcy_decref(OB(next));
    CHECK_EQ(fin_total, chain_len);
    CHECK_EQ(chain_revived, 0);
    CHECK_EQ(chain_alive, 0);
    CHECK_EQ(rcy_type_live_objects(t), 0);
    for (long i = 0; i < chain_len; i++) {
        CHECK(!rcy_weakref_is_alive(wrs[i]));
        rcy_decref(wrs[i]);
    }
    chain_wrs = NULL;
    test_runtime_end(rt);
}

/* The one chain the trashcan cannot defer: non-containers with weak
   references (their deaths cannot wait in the trash). On a small stack it
   ends in a clear fatal report naming the object, not an overflow. */
typedef struct wlink_s {
    rcy_object_t ob;
    rcy_object_t *next;
    rcy_object_t *weaklist;
} wlink_t;

static void wlink_dealloc(rcy_object_t *self) { RCY_CLEAR(((wlink_t *)self)->next); }
static int wlink_finalize(rcy_object_t *self)
{
    RCY_CLEAR(((wlink_t *)self)->next);
    return 0;
}

static void *wlink_chain_main(void *arg)
{
    (void)arg;
    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "WeakLink";
    spec.basicsize = sizeof(wlink_t);
    spec.finalize = wlink_finalize;
    spec.dealloc = wlink_dealloc;
    spec.weaklistoffset = offsetof(wlink_t, weaklist);
    rcy_type_t *t = rcy_type_new(rt, &spec);
    enum { N = 20000 };
    static rcy_object_t *refs[N];
    wlink_t *next = NULL;
    for (int i = N; i-- > 0;) {
        wlink_t *l = (wlink_t *)rcy_new(t);
        l->next = (rcy_object_t *)next;
        refs[i] = rcy_weakref_new(&l->ob, NULL, NULL);
        next = l;
    }
    if (refs[0] == NULL)
        _exit(5);
    rcy_decref(&next->ob);
    _exit(0); /* reached only if the chain fitted */
}

static void wlink_child(enum hook_e hook)
{
    (void)hook;
    /* A quarter of the thread's stack is kept free: 64 KiB cannot hold
       20,000 nested finalizer calls. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)64 * 1024 * STACK_SCALE);
    pthread_t th;
    if (pthread_create(&th, &attr, wlink_chain_main, NULL) != 0)
        _exit(4);
    pthread_join(th, NULL);
}

TEST(test_weakref_atom_finalizer_chain_fails_cleanly)
{
    result_t res;
    run_child(wlink_child, HOOK_STDERR, &res);
    CHECK(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGABRT);
    CHECK_STR_CONTAINS(res.out, "recycle: fatal error: finalizers nest too deep for the thread's stack: object <WeakLink 0x");
    CHECK(strstr(res.out, "NO ABORT") == NULL);
}

int main(void)
{
    RUN(test_deep_nesting_small_stacks);
    RUN(test_below_cap_main_thread);
    RUN(test_describe_recursion_bounded);
    RUN(test_dealloc_cascade_small_stacks);
    RUN(test_finalizer_chain_main_thread);
    RUN(test_finalizer_chain_small_stacks);
    RUN(test_finalizer_chain_deferred_resurrection);
    RUN(test_finalizer_chain_collection_at_depth);
    RUN(test_finalizer_at_trash_depth_weakref_callback);
    RUN(test_weakref_to_deferred_death);
    RUN(test_weakref_atom_finalizer_chain_fails_cleanly);
    return harness_summary();
}
