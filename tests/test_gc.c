/* The cycle collector and the gc-module API, checked against CPython's
   observable behaviour: the scenarios of Lib/test/test_gc.py (GCTests,
   GCCallbackTests, GCTogglingTests) and of small python3 scripts (3.11.7 and
   3.13.0) whose results are quoted beside the tests that encode them.

   Most tests turn automatic collection off first, as CPython's
   GCCallbackTests.setUp does, so that generations, counts, statistics and
   callbacks only move when the test collects. The few tests that are about
   automatic collection itself (exact trigger points) are skipped in the
   GC-stress build, which collects on every container allocation; the test
   detects that build at run time (it cannot see the library's macros). */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"
#include "node.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- Deaths: a dealloc slot that records the dying node's value ------- */

#define MAX_DEATHS 4096
static long deaths[MAX_DEATHS];
static int n_deaths;
static int legacy_del_calls;

static void deaths_reset(void)
{
    n_deaths = 0;
    legacy_del_calls = 0;
}

/* How many times a node with this value died (0 or 1 when all is well). */
static int died(long value)
{
    int n = 0;
    for (int i = 0; i < n_deaths; i++)
        n += deaths[i] == value;
    return n;
}

static void record_dealloc(rcy_object_t *self)
{
    node_t *n = (node_t *)self;
    if (n_deaths < MAX_DEATHS)
        deaths[n_deaths++] = n->value;
    node_clear(self);
}

static int legacy_del(rcy_object_t *self)
{
    (void)self;
    legacy_del_calls++;
    return 0;
}

/* A node type whose deaths are recorded; finalize, legacy_del and clear are
   optional (clear defaults to node_clear). */
static rcy_type_t *make_type(rcy_runtime_t *rt, const char *name, rcy_finalize_fn finalize, rcy_finalize_fn legacy,
                             rcy_clear_fn clear)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = clear != NULL ? clear : node_clear;
    spec.finalize = finalize;
    spec.legacy_del = legacy;
    spec.dealloc = record_dealloc;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    if (t == NULL) {
        fprintf(stderr, "cannot create type %s\n", name);
        exit(2);
    }
    return t;
}

static rcy_type_t *rnode_type(rcy_runtime_t *rt) { return make_type(rt, "RNode", NULL, NULL, NULL); }
static rcy_type_t *legacy_type(rcy_runtime_t *rt) { return make_type(rt, "Legacy", NULL, legacy_del, NULL); }

/* A non-container type (CPython's atomic objects: ints, strings). */
typedef struct atom_s {
    rcy_object_t ob;
    long value;
} atom_t;

static rcy_type_t *atom_type(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Atom";
    spec.basicsize = sizeof(atom_t);
    return rcy_type_new(rt, &spec);
}

/* ---- Runtimes -------------------------------------------------------- */

static void capture_error(void *arg, const char *message)
{
    capture_output(arg, message);
    size_t n = strlen(message);
    if (n == 0 || message[n - 1] != '\n')
        capture_output(arg, "\n");
}

/* A runtime with default thresholds, output and errors captured (when
   given), and automatic collection off. */
static rcy_runtime_t *gc_runtime(capture_t *out, capture_t *err)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    if (out != NULL) {
        cfg.output = capture_output;
        cfg.output_arg = out;
    }
    if (err != NULL) {
        cfg.error = capture_error;
        cfg.error_arg = err;
    }
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "cannot create a runtime\n");
        exit(2);
    }
    rcy_gc_disable(rt);
    deaths_reset();
    return rt;
}

#define CHECK_COUNTS(rt, c0, c1, c2)                                                                                   \
    do {                                                                                                               \
        int counts_[3] = {-1, -1, -1};                                                                                 \
        CHECK_EQ(rcy_gc_get_count((rt), counts_), 0);                                                                  \
        CHECK_EQ(counts_[0], (c0));                                                                                    \
        CHECK_EQ(counts_[1], (c1));                                                                                    \
        CHECK_EQ(counts_[2], (c2));                                                                                    \
    } while (0)

/* The generation (0..2) that holds o according to rcy_gc_get_objects, -1
   when none does (untracked or frozen), -3 when several do. */
static int gen_of(rcy_runtime_t *rt, const void *o)
{
    int found = -1;
    for (int g = 0; g < RCY_GC_GENERATIONS; g++) {
        rcy_objarray_t arr = {0};
        if (rcy_gc_get_objects(rt, g, &arr) != 0)
            return -2;
        for (size_t i = 0; i < arr.len; i++) {
            if (arr.items[i] == (const rcy_object_t *)o)
                found = found == -1 ? g : -3;
        }
        rcy_objarray_release(&arr);
    }
    return found;
}

static size_t gen_size(rcy_runtime_t *rt, int g)
{
    rcy_objarray_t arr = {0};
    if (rcy_gc_get_objects(rt, g, &arr) != 0)
        return (size_t)-1;
    size_t n = arr.len;
    rcy_objarray_release(&arr);
    return n;
}

static int arr_contains(const rcy_objarray_t *arr, const void *o)
{
    int n = 0;
    for (size_t i = 0; i < arr->len; i++)
        n += arr->items[i] == (const rcy_object_t *)o;
    return n;
}

/* A self-referencing node (CPython's `l = []; l.append(l)`); the caller
   owns the returned reference. */
static node_t *self_cycle(rcy_type_t *t, long value)
{
    node_t *n = node_new(t, value);
    node_set_a(n, n);
    return n;
}

/* Two nodes referring to each other, both released: cyclic trash. */
static void make_trash_pair(rcy_type_t *t, long va, long vb)
{
    node_t *x = node_new(t, va), *y = node_new(t, vb);
    node_set_a(x, y);
    node_set_a(y, x);
    rcy_decref(OB(x));
    rcy_decref(OB(y));
}

/* Empties the garbage list and breaks the links of what it held, so that
   uncollectable cycles die by reference counting (what Python code does
   with `for o in gc.garbage: o.partner = None; del gc.garbage[:]`). */
static void break_garbage(rcy_runtime_t *rt)
{
    rcy_object_t *items[64];
    size_t n = rcy_gc_garbage_len(rt);
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        items[i] = rcy_newref(rcy_gc_garbage_get(rt, i));
    rcy_gc_garbage_clear(rt);
    for (size_t i = 0; i < n; i++) {
        node_set_a((node_t *)items[i], NULL);
        node_set_b((node_t *)items[i], NULL);
    }
    for (size_t i = 0; i < n; i++)
        rcy_decref(items[i]);
}

/* ---- Collection callbacks ---------------------------------------------- */

/* Counts collections (for stress detection and trigger-point tests). */
typedef struct probe_s {
    int starts;
    int last_gen;
    intptr_t last_collected, last_candidates;
    int per_gen[RCY_GC_GENERATIONS];
} probe_t;

static int probe_cb(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    probe_t *p = arg;
    if (phase == RCY_GC_START) {
        p->starts++;
        p->last_gen = info->generation;
        if (info->generation >= 0 && info->generation < RCY_GC_GENERATIONS)
            p->per_gen[info->generation]++;
    } else {
        p->last_collected = info->collected;
        p->last_candidates = info->candidates;
    }
    return 0;
}

/* Records every call in a global event log, with options. */
typedef struct recorder_s {
    int id;
    int fail; /* value returned (nonzero: an error) */
    int nest; /* calls rcy_gc_collect and keeps its result */
    intptr_t nested[2];
    int remove_at_start; /* removes itself at its first "start" */
    int cleanup;         /* at "stop", breaks and empties the garbage list */
} recorder_t;

typedef struct event_s {
    int id;
    rcy_gc_phase_t phase;
    rcy_gc_info_t info;
    int counts[3];
} event_t;

#define MAX_EVENTS 512
static event_t events[MAX_EVENTS];
static int n_events;

static int record_cb(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    recorder_t *r = arg;
    if (n_events < MAX_EVENTS) {
        event_t *e = &events[n_events++];
        e->id = r->id;
        e->phase = phase;
        e->info = *info;
        rcy_gc_get_count(rt, e->counts);
    }
    if (r->nest)
        r->nested[phase] = rcy_gc_collect(rt, 2);
    if (r->remove_at_start && phase == RCY_GC_START) {
        r->remove_at_start = 0;
        rcy_gc_callback_remove(rt, record_cb, arg);
    }
    if (r->cleanup && phase == RCY_GC_STOP)
        break_garbage(rt);
    return r->fail;
}

#define SKIP_IN_STRESS_BUILD()                                                                                         \
    do {                                                                                                               \
        if (HARNESS_GC_STRESS) {                                                                                            \
            fprintf(stderr, "skip %s: exact trigger points do not hold in the GC-stress build\n", harness_current);    \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

/* ---- Output helpers -------------------------------------------------- */

/* Copies line n (0-based, without its '\n') of text into buf; returns 0
   when there is no such line. */
static int get_line(const char *text, int n, char *buf, size_t size)
{
    const char *p = text != NULL ? text : "";
    for (int i = 0; i < n; i++) {
        p = strchr(p, '\n');
        if (p == NULL)
            return 0;
        p++;
    }
    if (*p == '\0')
        return 0;
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len >= size)
        len = size - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 1;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; p != NULL && *p; p++)
        n += *p == '\n';
    return n;
}

static int count_substr(const char *text, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = text; p != NULL && (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

/* "gc: done, U unreachable, N uncollectable, X.XXXXs elapsed": parses U
   and N and checks that the time has exactly four decimals. */
static int parse_done_line(const char *line, long *unreachable, long *uncollectable)
{
    double secs = -1;
    char tail[32] = "";
    if (sscanf(line, "gc: done, %ld unreachable, %ld uncollectable, %lfs %31s", unreachable, uncollectable, &secs,
               tail) != 4)
        return 0;
    if (strcmp(tail, "elapsed") != 0 || secs < 0)
        return 0;
    const char *p = strstr(line, "uncollectable, ");
    if (p == NULL)
        return 0;
    p += strlen("uncollectable, ");
    int before = 0, after = 0;
    while (*p >= '0' && *p <= '9') {
        p++;
        before++;
    }
    if (*p++ != '.')
        return 0;
    while (*p >= '0' && *p <= '9') {
        p++;
        after++;
    }
    return before >= 1 && after == 4 && strcmp(p, "s elapsed") == 0;
}

/* ---- enable / disable / isenabled ------------------------------------ */

TEST(test_enable_disable)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_gc_isenabled(rt), 1); /* on by default */
    CHECK_EQ(rcy_gc_disable(rt), 1);   /* the previous state, as PyGC_Disable */
    CHECK_EQ(rcy_gc_isenabled(rt), 0);
    CHECK_EQ(rcy_gc_disable(rt), 0);
    CHECK_EQ(rcy_gc_enable(rt), 0);
    CHECK_EQ(rcy_gc_isenabled(rt), 1);
    CHECK_EQ(rcy_gc_enable(rt), 1);
    CHECK_EQ(rcy_gc_isenabled(rt), 1);
    CHECK_EQ(rcy_gc_enable(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_gc_disable(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_gc_isenabled(NULL), RCY_EINVAL);
    test_runtime_end(rt);
}

/* ---- collect --------------------------------------------------------- */

/* CPython test_list / test_tuple: a self-referencing object gives 1, a
   two-object cycle 2, nothing 0; everything unreachable is counted, also
   what hangs off a cycle. ValueError("invalid generation") for -1 and 3. */
TEST(test_collect_return_values)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);

    node_t *l = self_cycle(t, 1);
    rcy_decref(OB(l));
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(died(1), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    make_trash_pair(t, 2, 3);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(2) + died(3), 2);

    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);

    /* A self-cycle holding a chain of two: three unreachable objects. */
    node_t *c = self_cycle(t, 4), *d = node_new(t, 5), *e = node_new(t, 6);
    node_set_b(c, d);
    node_set_a(d, e);
    rcy_decref(OB(c));
    rcy_decref(OB(d));
    rcy_decref(OB(e));
    CHECK_EQ(rcy_gc_collect(rt, 0), 3);
    CHECK_EQ(died(4) + died(5) + died(6), 3);

    CHECK_EQ(rcy_gc_collect(rt, -1), RCY_EINVAL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(rcy_gc_collect(rt, 3), RCY_EINVAL);
    CHECK_EQ(rcy_gc_collect(NULL, 2), RCY_EINVAL);
    CHECK_EQ(rcy_gc_collect(NULL, 0), RCY_EINVAL);
    test_runtime_end(rt);
}

/* CPython test_get_objects_generations and test_collect_generations: a new
   object is in generation 0; each collect(g) moves the survivors of
   generations 0..g into g+1 (2 stays in 2); collect(g) bumps count[g+1]
   and zeroes count[0..g]. Python 3.11 and 3.13 (the test's own numbers):
     gc.collect(); x = []; gc.collect(0) -> get_count()[1:] == (1, 0)
     gc.collect(1) -> (0, 1); gc.collect(2) -> (0, 0) */
TEST(test_collect_generations)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_gc_collect(rt, 2);

    node_t *l = self_cycle(t, 1);
    CHECK_EQ(gen_of(rt, l), 0);
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    CHECK_EQ(gen_of(rt, l), 1);
    CHECK_COUNTS(rt, 0, 1, 0);
    CHECK_EQ(rcy_gc_collect(rt, 1), 0);
    CHECK_EQ(gen_of(rt, l), 2);
    CHECK_COUNTS(rt, 0, 0, 1);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(gen_of(rt, l), 2);
    CHECK_COUNTS(rt, 0, 0, 0);

    /* collect(g) collects g and every younger generation, nothing older:
       a cycle in each generation, promoted while still referenced, then
       all released together. */
    node_t *g2a = node_new(t, 30), *g2b = node_new(t, 31);
    node_set_a(g2a, g2b);
    node_set_a(g2b, g2a);
    rcy_gc_collect(rt, 1); /* -> generation 2 */
    node_t *g1a = node_new(t, 32), *g1b = node_new(t, 33);
    node_set_a(g1a, g1b);
    node_set_a(g1b, g1a);
    rcy_gc_collect(rt, 0); /* -> generation 1 */
    node_t *g0a = node_new(t, 34), *g0b = node_new(t, 35);
    node_set_a(g0a, g0b);
    node_set_a(g0b, g0a);
    node_t *young = node_new(t, 36); /* a survivor of generation 0 */
    CHECK_EQ(gen_of(rt, g2a), 2);
    CHECK_EQ(gen_of(rt, g1a), 1);
    CHECK_EQ(gen_of(rt, g0a), 0);
    node_t *all[] = {g2a, g2b, g1a, g1b, g0a, g0b};
    for (int i = 0; i < 6; i++)
        rcy_decref(OB(all[i]));
    n_deaths = 0;
    CHECK_EQ(rcy_gc_collect(rt, 1), 4); /* generations 0 and 1 */
    CHECK_EQ(died(32) + died(33) + died(34) + died(35), 4);
    CHECK_EQ(died(30) + died(31), 0); /* generation 2 is untouched */
    CHECK_EQ(gen_of(rt, young), 2);   /* survivors of collect(1) go to 2 */
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(30) + died(31), 2);

    rcy_decref(OB(young));
    rcy_decref(OB(l));
    test_runtime_end(rt);
}

/* ---- get_count ------------------------------------------------------- */

/* count[0] is container allocations minus deallocations since the last
   collection, never below 0 (PyObject_GC_Del decrements only when > 0:
   python3 3.11 `gc.collect(0); del keep` leaves count[0] at 0); count[g]
   (g >= 1) is the number of collections of g-1 since the last one of g.
   Non-containers are not counted (CPython test_get_count: allocating a
   list raises count[0]). */
TEST(test_get_count)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *at = atom_type(rt);
    rcy_gc_collect(rt, 2);
    CHECK_COUNTS(rt, 0, 0, 0);
    node_t *a = node_new(t, 1), *b = node_new(t, 2), *c = node_new(t, 3);
    CHECK_COUNTS(rt, 3, 0, 0);
    rcy_decref(OB(c));
    CHECK_COUNTS(rt, 2, 0, 0);
    rcy_object_t *x = rcy_new(at);
    CHECK(x != NULL);
    CHECK_COUNTS(rt, 2, 0, 0);
    rcy_decref(x);
    CHECK_COUNTS(rt, 2, 0, 0);
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    CHECK_COUNTS(rt, 0, 1, 0);
    rcy_decref(OB(b)); /* a survivor dies: count[0] stays at 0 */
    CHECK_COUNTS(rt, 0, 1, 0);
    rcy_gc_collect(rt, 0);
    rcy_gc_collect(rt, 0);
    CHECK_COUNTS(rt, 0, 3, 0);
    rcy_gc_collect(rt, 1);
    CHECK_COUNTS(rt, 0, 0, 1);
    rcy_gc_collect(rt, 0);
    CHECK_COUNTS(rt, 0, 1, 1);
    rcy_gc_collect(rt, 1);
    CHECK_COUNTS(rt, 0, 0, 2);
    rcy_gc_collect(rt, 2);
    CHECK_COUNTS(rt, 0, 0, 0);
    int counts[3];
    CHECK_EQ(rcy_gc_get_count(NULL, counts), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_count(rt, NULL), RCY_EINVAL);
    rcy_decref(OB(a));
    test_runtime_end(rt);
}

/* Free lists and count[0], as python3 3.11 (and 3.12, 3.13) show them:

     gc.disable(); gc.collect()
     ts = [(x, i) for i in range(100)]; del ts   # (101, 0, 0): no decrement
     keep = [(x, i) for i in range(50)]          # (102, 0, 0): reuse not counted
     del keep                                    # still no decrement
     gc.collect()                                # (0, 0, 0), free lists cleared

   (CPython's figures include the comprehension's list.) An object taken
   from a free list is not an allocation for the collector, and one kept by
   a free list is not a deallocation; the count goes down when the memory
   really goes, here when a full collection empties the free lists. Without
   free lists (sanitizer builds, poisoning runtimes) every container counts
   both ways. */
TEST(test_get_count_free_lists)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    int fl = rcy_freelists_enabled(rt);
    rcy_object_t *x = rcy_int_new(rt, 1000);
    rcy_object_t *objs[100];
    rcy_gc_collect(rt, 2);
    CHECK_COUNTS(rt, 0, 0, 0);
    for (int kind = 0; kind < 3; kind++) { /* tuples, lists, dicts */
        rcy_object_t *key = rcy_str_new(rt, "a");
        rcy_object_t *pair[2] = {x, x};
        int n = kind == 0 ? 100 : 80; /* the list and dict free lists keep 80 */
        for (int i = 0; i < n; i++)
            objs[i] = kind == 0 ? rcy_tuple_new(rt, 2, pair) : kind == 1 ? rcy_list_new_from(rt, 2, pair) : rcy_dict_new(rt);
        if (kind == 2)
            for (int i = 0; i < n; i++)
                CHECK_EQ(rcy_dict_set(objs[i], key, x), 0);
        CHECK_COUNTS(rt, n, 0, 0);
        for (int i = 0; i < n; i++)
            rcy_decref(objs[i]);
        CHECK_COUNTS(rt, fl ? n : 0, 0, 0);
        for (int i = 0; i < 50; i++)
            objs[i] = kind == 0 ? rcy_tuple_new(rt, 2, pair) : kind == 1 ? rcy_list_new_from(rt, 2, pair) : rcy_dict_new(rt);
        CHECK_COUNTS(rt, fl ? n : 50, 0, 0);
        for (int i = 0; i < 50; i++)
            rcy_decref(objs[i]);
        CHECK_COUNTS(rt, fl ? n : 0, 0, 0);
        rcy_decref(key);
        rcy_gc_collect(rt, 2); /* empties the free lists */
        CHECK_COUNTS(rt, 0, 0, 0);
        /* Emptying the free lists (rcy_memory_trim, no collection) lowers
           count[0] as their memory goes: n objects counted, 3 of them
           taken back off the free lists, the other n - 3 freed. */
        for (int i = 0; i < n; i++)
            objs[i] = kind == 0 ? rcy_tuple_new(rt, 2, pair) : kind == 1 ? rcy_list_new_from(rt, 2, pair) : rcy_dict_new(rt);
        for (int i = 0; i < n; i++)
            rcy_decref(objs[i]);
        for (int i = 0; i < 3; i++)
            objs[i] = kind == 0 ? rcy_tuple_new(rt, 2, pair) : kind == 1 ? rcy_list_new_from(rt, 2, pair) : rcy_dict_new(rt);
        CHECK_COUNTS(rt, fl ? n : 3, 0, 0);
        CHECK(rcy_memory_trim(rt) >= 0);
        CHECK_COUNTS(rt, 3, 0, 0);
        for (int i = 0; i < 3; i++)
            rcy_decref(objs[i]);
        CHECK_COUNTS(rt, fl ? 3 : 0, 0, 0);
        rcy_gc_collect(rt, 2);
        CHECK_COUNTS(rt, 0, 0, 0);
    }
    rcy_decref(x);
    test_runtime_end(rt);
}

/* ---- thresholds ------------------------------------------------------ */

TEST(test_thresholds)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    int th[3] = {0, 0, 0};
    CHECK_EQ(rcy_gc_get_threshold(rt, th), 0);
    CHECK_EQ(th[0], 700);
    CHECK_EQ(th[1], 10);
    CHECK_EQ(th[2], 10);
    CHECK_EQ(rcy_gc_set_threshold(rt, 5, 6, 7), 0);
    rcy_gc_get_threshold(rt, th);
    CHECK_EQ(th[0], 5);
    CHECK_EQ(th[1], 6);
    CHECK_EQ(th[2], 7);
    /* Negative values are refused and nothing changes. (CPython 3.11
       accepts gc.set_threshold(-1): recycle deliberately does not.) */
    CHECK_EQ(rcy_gc_set_threshold(rt, -1, 1, 1), RCY_EINVAL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(rcy_gc_set_threshold(rt, 1, -1, 1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_set_threshold(rt, 1, 1, -5), RCY_EINVAL);
    rcy_gc_get_threshold(rt, th);
    CHECK_EQ(th[0], 5);
    CHECK_EQ(th[1], 6);
    CHECK_EQ(th[2], 7);
    CHECK_EQ(rcy_gc_set_threshold(rt, 0, 0, 0), 0);
    rcy_gc_get_threshold(rt, th);
    CHECK_EQ(th[0] + th[1] + th[2], 0);
    CHECK_EQ(rcy_gc_set_threshold(NULL, 1, 1, 1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_threshold(NULL, th), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_threshold(rt, NULL), RCY_EINVAL);
    test_runtime_end(rt);

    /* The same thresholds from the configuration. */
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.threshold0 = 100;
    cfg.threshold1 = 2;
    cfg.threshold2 = 3;
    rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);
    rcy_gc_get_threshold(rt, th);
    CHECK_EQ(th[0], 100);
    CHECK_EQ(th[1], 2);
    CHECK_EQ(th[2], 3);
    test_runtime_end(rt);
    cfg.threshold1 = -1;
    CHECK(rcy_runtime_new(&cfg) == NULL);
}

/* threshold0 == 0 turns automatic collection off (gc.set_threshold(0));
   restoring a threshold lets the next allocation collect, since the
   count kept growing meanwhile. */
TEST(test_threshold_zero_disables)
{
    SKIP_IN_STRESS_BUILD();
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_gc_collect(rt, 2);
    probe_t p = {0};
    rcy_gc_callback_add(rt, probe_cb, &p);
    rcy_gc_enable(rt);
    CHECK_EQ(rcy_gc_set_threshold(rt, 0, 10, 10), 0);
    enum { N = 5000 };
    node_t **keep = malloc(N * sizeof *keep);
    for (int i = 0; i < N; i++)
        keep[i] = node_new(t, i);
    CHECK_EQ(p.starts, 0);
    CHECK_COUNTS(rt, N, 0, 0);
    CHECK_EQ(rcy_gc_set_threshold(rt, 700, 10, 10), 0);
    node_t *last = node_new(t, N);
    CHECK_EQ(p.starts, 1);
    CHECK_EQ(p.last_gen, 0);
    CHECK_EQ(p.last_candidates, N);
    CHECK_COUNTS(rt, 0, 1, 0);
    rcy_gc_disable(rt);
    for (int i = 0; i < N; i++)
        rcy_decref(OB(keep[i]));
    free(keep);
    rcy_decref(OB(last));
    test_runtime_end(rt);
}

/* ---- automatic collection -------------------------------------------- */

/* With the default thresholds (700, 10, 10) the 701st container
   allocation since the last collection collects generation 0, before the
   new object is tracked: it is alone in generation 0 afterwards. python3
   3.11 and 3.13 (thresholds set to 700): count (700, 0, 0) -> allocate ->
   (0, 1, 0). */
TEST(test_automatic_collection_default_thresholds)
{
    SKIP_IN_STRESS_BUILD();
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_gc_collect(rt, 2);
    probe_t p = {0};
    rcy_gc_callback_add(rt, probe_cb, &p);
    rcy_gc_enable(rt);
    make_trash_pair(t, -1, -2); /* two allocations */
    node_t *keep[698];
    for (int i = 0; i < 698; i++)
        keep[i] = node_new(t, i);
    CHECK_EQ(p.starts, 0);
    CHECK_COUNTS(rt, 700, 0, 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 700);
    node_t *n701 = node_new(t, 701);
    CHECK_EQ(p.starts, 1);
    CHECK_EQ(p.last_gen, 0);
    CHECK_EQ(p.last_collected, 2);
    CHECK_EQ(p.last_candidates, 700);
    CHECK_EQ(died(-1) + died(-2), 2);
    CHECK_COUNTS(rt, 0, 1, 0);
    CHECK_EQ(gen_size(rt, 0), 1);
    CHECK_EQ(gen_of(rt, n701), 0);
    CHECK_EQ(gen_size(rt, 1), 698);
    rcy_gc_disable(rt);
    for (int i = 0; i < 698; i++)
        rcy_decref(OB(keep[i]));
    rcy_decref(OB(n701));
    test_runtime_end(rt);
}

/* CPython GCTogglingTests.test_indirect_calls_with_gc_disabled: allocating
   containers eventually collects a piece of cyclic trash (the "detector");
   with the collector disabled, 10000 allocations never do. */
TEST(test_indirect_calls_with_gc_disabled)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_gc_collect(rt, 2);
    rcy_gc_enable(rt);
    enum { N = 10001 };
    node_t **junk = malloc(N * sizeof *junk);
    int njunk = 0;

    node_t *detector = self_cycle(t, -7);
    rcy_decref(OB(detector));
    int i = 0;
    while (!died(-7)) {
        i++;
        if (i > 10000)
            break;
        junk[njunk++] = node_new(t, i);
    }
    CHECK(i <= 10000); /* "gc didn't happen after 10000 iterations" */
    if (!HARNESS_GC_STRESS)
        CHECK_EQ(i, 700); /* the detector and 700 more: 701 allocations */
    else
        CHECK_EQ(i, 1);
    for (int k = 0; k < njunk; k++)
        rcy_decref(OB(junk[k]));
    njunk = 0;

    CHECK_EQ(rcy_gc_disable(rt), 1);
    detector = self_cycle(t, -8);
    rcy_decref(OB(detector));
    i = 0;
    while (!died(-8)) {
        i++;
        if (i > 10000)
            break;
        junk[njunk++] = node_new(t, i);
    }
    CHECK_EQ(i, 10001);
    int counts[3];
    rcy_gc_get_count(rt, counts);
    CHECK(counts[0] > 700);
    CHECK_EQ(rcy_gc_collect(rt, 0), 1); /* explicit collection still works */
    CHECK_EQ(died(-8), 1);
    for (int k = 0; k < njunk; k++)
        rcy_decref(OB(junk[k]));
    free(junk);
    test_runtime_end(rt);
}

/* Two objects referencing each other leak while the collector is
   disabled, however many containers are allocated; an explicit
   collection returns 2. */
TEST(test_disabled_cycle_leaks_until_collect)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    make_trash_pair(t, 1, 2);
    enum { N = 3000 };
    node_t **keep = malloc(N * sizeof *keep);
    for (int i = 0; i < N; i++)
        keep[i] = node_new(t, 100 + i);
    for (int i = 0; i < N; i++)
        rcy_decref(OB(keep[i]));
    free(keep);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    CHECK_EQ(died(1) + died(2), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(1) + died(2), 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* Allocates `steps` nodes one at a time, all kept alive, on a runtime whose
   oldest generation holds `long_lived` nodes after a full collection, with
   thresholds (t0, t1, t2). Records every automatic collection in out (at
   most max) and, when hist is given, the counts after every step
   (hist[0] = before the first). Returns the number of collections. */
typedef struct transition_s {
    int step;
    int before[3], after[3];
    int gen;
    intptr_t candidates;
} transition_t;

static int run_allocation_trace(int long_lived, int t0, int t1, int t2, int steps, transition_t *out, int max,
                                int (*hist)[3])
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t **keep = malloc((size_t)(long_lived + steps) * sizeof *keep);
    for (int i = 0; i < long_lived; i++)
        keep[i] = node_new(t, i);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* long_lived_total = long_lived */
    CHECK_EQ(rcy_gc_set_threshold(rt, t0, t1, t2), 0);
    probe_t p = {0};
    rcy_gc_callback_add(rt, probe_cb, &p);
    rcy_gc_enable(rt);
    int n = 0;
    int before[3], after[3];
    rcy_gc_get_count(rt, before);
    if (hist != NULL)
        memcpy(hist[0], before, sizeof before);
    for (int i = 1; i <= steps; i++) {
        int s = p.starts;
        keep[long_lived + i - 1] = node_new(t, long_lived + i);
        rcy_gc_get_count(rt, after);
        if (hist != NULL)
            memcpy(hist[i], after, sizeof after);
        if (p.starts != s) {
            CHECK_EQ(p.starts, s + 1);
            if (n < max) {
                out[n].step = i;
                memcpy(out[n].before, before, sizeof before);
                memcpy(out[n].after, after, sizeof after);
                out[n].gen = p.last_gen;
                out[n].candidates = p.last_candidates;
            }
            n++;
        }
        memcpy(before, after, sizeof after);
    }
    rcy_gc_disable(rt);
    for (int i = 0; i < long_lived + steps; i++)
        rcy_decref(OB(keep[i]));
    free(keep);
    rcy_gc_callback_remove(rt, probe_cb, &p);
    test_runtime_end(rt);
    return n;
}

#define CHECK_TRIPLE(v, a, b, c)                                                                                       \
    do {                                                                                                               \
        CHECK_EQ((v)[0], (a));                                                                                         \
        CHECK_EQ((v)[1], (b));                                                                                         \
        CHECK_EQ((v)[2], (c));                                                                                         \
    } while (0)

/* The counter walk-through of the seeds (002), checked against real
   CPython. Automatic collection happens when count0 > threshold0, strictly
   (every CPython from 2.7 to 3.13: `generations[0].count > threshold`), and
   the generation collected is the oldest g whose count[g] > threshold[g].
   python3 3.11.7 and 3.13.0, thresholds (700, 10, 10), one kept container
   per step, all transitions where count0 drops:
       (700, 0, 0) -> (0, 1, 0)   ...   (700, 3, 0) -> (0, 4, 0)
       (700, 10, 0) -> (0, 11, 0)       (700, 11, 0) -> (0, 0, 1)
       (700, 11, 10) -> (0, 0, 11)      (700, 0, 11) -> (0, 0, 0)
   (Python's first collection comes one step early: the interpreter makes
   one container of its own before the loop.)
   The seeds' narrative says "(699,3,0) -> (700,3,0) runs collect(0) and
   resets to (0,4,0)", "(699,9,0) -> (700,9,0) runs collect(1) -> (0,0,1)"
   and "(699,9,9) -> (700,9,9) runs collect(2) -> (0,0,0)": each is one
   off. Mapped onto what really happens: from (699,3,0) two allocations
   bring (0,4,0) (the first gives (700,3,0), no collection); from (699,9,0)
   two allocations bring (0,10,0), a generation-0 collection, since
   count1 = 9 is not > 10, and the generation-1 collection only comes from
   (700,11,0); from (699,9,9) two allocations bring (0,10,9), and the first
   full collection comes from (700,0,11). */
TEST(test_counter_walkthrough)
{
    SKIP_IN_STRESS_BUILD();
    enum { STEPS = 701 * 134 };
    int(*hist)[3] = malloc((STEPS + 1) * sizeof *hist);
    transition_t tr[200];
    int n = run_allocation_trace(0, 700, 10, 10, STEPS, tr, 200, hist);
    CHECK_EQ(n, 134);
    int gens[3] = {0, 0, 0};
    for (int k = 0; k < n && k < 200; k++) {
        int j = k + 1; /* the j-th automatic collection */
        CHECK_EQ(tr[k].step, 701 * j);
        int expect = j == 133 ? 2 : (j % 12 == 0 && j < 133 ? 1 : 0);
        CHECK_EQ(tr[k].gen, expect);
        CHECK_EQ(tr[k].before[0], 700);
        CHECK_EQ(tr[k].after[0], 0);
        gens[tr[k].gen]++;
    }
    CHECK_EQ(gens[0], 122);
    CHECK_EQ(gens[1], 11);
    CHECK_EQ(gens[2], 1);
    CHECK_TRIPLE(hist[700], 700, 0, 0);
    CHECK_TRIPLE(hist[701], 0, 1, 0);
    /* Seeds line 1. */
    CHECK_TRIPLE(hist[2802], 699, 3, 0);
    CHECK_TRIPLE(hist[2803], 700, 3, 0);
    CHECK_TRIPLE(hist[2804], 0, 4, 0);
    /* Seeds line 2. */
    CHECK_TRIPLE(hist[7008], 699, 9, 0);
    CHECK_TRIPLE(hist[7009], 700, 9, 0);
    CHECK_TRIPLE(hist[7010], 0, 10, 0);
    CHECK_TRIPLE(hist[7710], 700, 10, 0);
    CHECK_TRIPLE(hist[7711], 0, 11, 0);
    CHECK_TRIPLE(hist[8411], 700, 11, 0);
    CHECK_TRIPLE(hist[8412], 0, 0, 1);
    /* Seeds line 3. */
    CHECK_TRIPLE(hist[82716], 699, 9, 9);
    CHECK_TRIPLE(hist[82717], 700, 9, 9);
    CHECK_TRIPLE(hist[82718], 0, 10, 9);
    CHECK_TRIPLE(hist[92531], 700, 11, 10);
    CHECK_TRIPLE(hist[92532], 0, 0, 11);
    CHECK_TRIPLE(hist[93232], 700, 0, 11);
    CHECK_TRIPLE(hist[93233], 0, 0, 0);
    free(hist);
}

/* The long-lived 25 % rule (bpo-4074): a full collection waits, even when
   count2 > threshold2, until the objects promoted into generation 2 since
   the last full collection (long_lived_pending) reach a quarter of those
   that survived it (long_lived_total); meanwhile the next younger
   generation that qualifies is collected.

   python3 script (3.11.7; 3.13.0 gives the same numbers one step later):
       class N: __slots__ = ('a', 'b')
       gc.disable(); gc.collect(); keep = [None] * 100000; gc.freeze()
       for i in range(K): keep[i] = N()
       gc.set_threshold(10, 2, 2); gc.collect()      # total = K
       gc.enable(); then keep[k] = N() per step, watching gc.get_count()
   K = 1000 (total/4 = 250), collections of generation 1 and 2:
       39 (10,3,0)->(0,0,1)   83 (10,3,1)->(0,0,2)  127 (10,3,2)->(0,0,3)
      171 (10,3,3)->(0,0,4)  215 (10,3,4)->(0,0,5)  259 (10,3,5)->(0,0,6)
      270 (10,0,6)->(0,0,0) gen 2
      313 (10,3,0)->(0,0,1) ... 621 (10,3,7)->(0,0,8)
      632 (10,0,8)->(0,0,0) gen 2
   and at 138 (10,0,3)->(0,1,3): count2 = 3 > 2 but only a generation-0
   collection. K = 100 (total/4 = 25): the full collection comes at the
   first chance, 138 (10,0,3)->(0,0,0), and again at 280 (10,0,3).
   CPython's steps are 5 lower than recycle's (the interpreter's own
   containers made before the loop) and one more lower after each full
   collection (which empties the tuple free list, so the next get_count()
   allocates a tuple): the same sequence. Here, exactly: generation-0
   collections every 11 steps (count0 reaches 11 > 10, and each collects 11
   objects: the one allocated at the previous collection and 10 more),
   generation 1 every 44, pending grows by 43 then 44 per generation-1
   collection; the first full collection needs pending >= 250: after the
   6th (pending 263), at step 275, with count2 = 6; then long_lived_total =
   1274 (1274 / 4 = 318), the next needs 8 generation-1 collections (pending
   352) and comes at step 638 with count2 = 8. */
TEST(test_long_lived_rule)
{
    SKIP_IN_STRESS_BUILD();
    static const struct {
        int step, gen, b[3], a[3];
    } expect[] = {
        {44, 1, {10, 3, 0}, {0, 0, 1}},  {88, 1, {10, 3, 1}, {0, 0, 2}},  {132, 1, {10, 3, 2}, {0, 0, 3}},
        {176, 1, {10, 3, 3}, {0, 0, 4}}, {220, 1, {10, 3, 4}, {0, 0, 5}}, {264, 1, {10, 3, 5}, {0, 0, 6}},
        {275, 2, {10, 0, 6}, {0, 0, 0}}, {319, 1, {10, 3, 0}, {0, 0, 1}}, {363, 1, {10, 3, 1}, {0, 0, 2}},
        {407, 1, {10, 3, 2}, {0, 0, 3}}, {451, 1, {10, 3, 3}, {0, 0, 4}}, {495, 1, {10, 3, 4}, {0, 0, 5}},
        {539, 1, {10, 3, 5}, {0, 0, 6}}, {583, 1, {10, 3, 6}, {0, 0, 7}}, {627, 1, {10, 3, 7}, {0, 0, 8}},
        {638, 2, {10, 0, 8}, {0, 0, 0}}, {682, 1, {10, 3, 0}, {0, 0, 1}},
    };
    enum { STEPS = 700, MAXT = 100 };
    transition_t tr[MAXT];
    int n = run_allocation_trace(1000, 10, 2, 2, STEPS, tr, MAXT, NULL);
    CHECK_EQ(n, STEPS / 11);
    size_t e = 0;
    for (int k = 0; k < n && k < MAXT; k++) {
        CHECK_EQ(tr[k].step, 11 * (k + 1));
        CHECK_EQ(tr[k].before[0], 10);
        CHECK_EQ(tr[k].after[0], 0);
        if (tr[k].gen == 0)
            continue;
        if (e >= sizeof expect / sizeof expect[0]) {
            CHECK(!"more collections of generations 1 and 2 than CPython");
            break;
        }
        CHECK_EQ(tr[k].step, expect[e].step);
        CHECK_EQ(tr[k].gen, expect[e].gen);
        CHECK_TRIPLE(tr[k].before, expect[e].b[0], expect[e].b[1], expect[e].b[2]);
        CHECK_TRIPLE(tr[k].after, expect[e].a[0], expect[e].a[1], expect[e].a[2]);
        if (tr[k].gen == 2) /* everything tracked: K + (step - 1) */
            CHECK_EQ(tr[k].candidates, 1000 + tr[k].step - 1);
        e++;
    }
    CHECK_EQ(e, sizeof expect / sizeof expect[0]);
    /* Step 143: count2 = 3 > threshold2, but 131 pending < 1000 / 4: only
       generation 0 is collected. */
    CHECK_EQ(tr[12].step, 143);
    CHECK_EQ(tr[12].gen, 0);
    CHECK_TRIPLE(tr[12].before, 10, 0, 3);
    CHECK_TRIPLE(tr[12].after, 0, 1, 3);

    /* K = 100: 43 pending >= 25 at once, the full collection comes at the
       first chance (step 143), then at 286. */
    n = run_allocation_trace(100, 10, 2, 2, 300, tr, MAXT, NULL);
    CHECK_EQ(n, 300 / 11);
    int full = 0;
    for (int k = 0; k < n && k < MAXT; k++) {
        if (tr[k].gen != 2)
            continue;
        CHECK_EQ(tr[k].step, full == 0 ? 143 : 286);
        CHECK_TRIPLE(tr[k].before, 10, 0, 3);
        CHECK_TRIPLE(tr[k].after, 0, 0, 0);
        full++;
    }
    CHECK_EQ(full, 2);
}

/* ---- debug flags ----------------------------------------------------- */

TEST(test_debug_flags)
{
    CHECK_EQ(RCY_DEBUG_STATS, 1);
    CHECK_EQ(RCY_DEBUG_COLLECTABLE, 2);
    CHECK_EQ(RCY_DEBUG_UNCOLLECTABLE, 4);
    CHECK_EQ(RCY_DEBUG_SAVEALL, 32);
    CHECK_EQ(RCY_DEBUG_LEAK, 38);
    CHECK_EQ(RCY_DEBUG_LEAK, RCY_DEBUG_COLLECTABLE | RCY_DEBUG_UNCOLLECTABLE | RCY_DEBUG_SAVEALL);
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    CHECK_EQ(rcy_gc_get_debug(rt), 0);
    CHECK_EQ(rcy_gc_set_debug(rt, RCY_DEBUG_STATS), 0);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_STATS);
    CHECK_EQ(rcy_gc_set_debug(rt, RCY_DEBUG_LEAK | RCY_DEBUG_STATS), 0);
    CHECK_EQ(rcy_gc_get_debug(rt), 39);
    /* Not RCY_DEBUG_* values: refused, nothing changed. */
    CHECK_EQ(rcy_gc_set_debug(rt, 8), RCY_EINVAL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(rcy_gc_set_debug(rt, 16), RCY_EINVAL);
    CHECK_EQ(rcy_gc_set_debug(rt, 64 | RCY_DEBUG_STATS), RCY_EINVAL);
    CHECK_EQ(rcy_gc_set_debug(rt, -1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_debug(rt), 39);
    CHECK_EQ(rcy_gc_set_debug(rt, 0), 0);
    CHECK_EQ(rcy_gc_get_debug(rt), 0);
    CHECK_EQ(rcy_gc_set_debug(NULL, 0), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_debug(NULL), RCY_EINVAL);
    test_runtime_end(rt);

    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.debug_flags = RCY_DEBUG_UNCOLLECTABLE;
    rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_UNCOLLECTABLE);
    test_runtime_end(rt);
}

/* RCY_GC_DEBUG in the environment, read when a runtime is created,
   overrides the configured flags; a value that is not a number or not a
   set of RCY_DEBUG_* flags is ignored. */
TEST(test_gc_debug_environment)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.debug_flags = RCY_DEBUG_COLLECTABLE;
    capture_t out = {0};
    cfg.output = capture_output;
    cfg.output_arg = &out;

    setenv("RCY_GC_DEBUG", "1", 1);
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_STATS);
    rcy_gc_collect(rt, 2);
    CHECK_STR_CONTAINS(out.text, "gc: collecting generation 2...\n");
    rcy_gc_set_debug(rt, 0);
    test_runtime_end(rt);

    setenv("RCY_GC_DEBUG", "0x26", 1);
    rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_LEAK);
    rcy_gc_set_debug(rt, 0);
    test_runtime_end(rt);

    /* Every combination set_debug accepts, STATS with LEAK too (this one
       was refused before: the check was `flags <= RCY_DEBUG_LEAK`, which
       also let the non-flag 8 through). */
    setenv("RCY_GC_DEBUG", "39", 1);
    rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_LEAK | RCY_DEBUG_STATS);
    rcy_gc_set_debug(rt, 0);
    test_runtime_end(rt);

    setenv("RCY_GC_DEBUG", "0", 1);
    rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), 0);
    test_runtime_end(rt);

    static const char *const ignored[] = {"junk", "1x", "-1", "8", "16", "40", "64", ""};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        setenv("RCY_GC_DEBUG", ignored[i], 1);
        rt = rcy_runtime_new(&cfg);
        CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_COLLECTABLE);
        rcy_gc_set_debug(rt, 0);
        test_runtime_end(rt);
    }
    unsetenv("RCY_GC_DEBUG");
    rt = rcy_runtime_new(&cfg);
    CHECK_EQ(rcy_gc_get_debug(rt), RCY_DEBUG_COLLECTABLE);
    rcy_gc_set_debug(rt, 0);
    test_runtime_end(rt);
    capture_free(&out);
}

/* DEBUG_STATS prints CPython's four lines, in CPython's format
   ("%d...", " %zd" per generation, "%.4fs elapsed"). python3 3.11.7, with
   N and L __slots__ classes, L having a tp_del:
       gc.disable(); gc.collect(); gc.freeze()   # the interpreter's objects
       f = [N() for _ in range(4)]; gc.freeze()  # four more (and the list)
       g2 = N(); gc.collect(1); g1a = N(); g1b = N(); gc.collect(0)
       k3 = N(); t = N(); t.a = t; l = L(); l.a = l; del t, l
       gc.set_debug(gc.DEBUG_STATS); gc.collect(2)
   printed
       gc: collecting generation 2...
       gc: objects in each generation: 3 2 1
       gc: objects in permanent generation: 11541
       gc: done, 2 unreachable, 1 uncollectable, 0.0000s elapsed
   and returned 2; the permanent generation holds the interpreter's
   objects too, here it holds just the four. */
TEST(test_debug_stats_output)
{
    capture_t out = {0};
    rcy_runtime_t *rt = gc_runtime(&out, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *lt = legacy_type(rt);
    node_t *frozen[4];
    for (int i = 0; i < 4; i++)
        frozen[i] = node_new(t, 100 + i);
    rcy_gc_freeze(rt);
    node_t *g2 = node_new(t, 1);
    rcy_gc_collect(rt, 1);
    node_t *g1a = node_new(t, 2), *g1b = node_new(t, 3);
    rcy_gc_collect(rt, 0);
    node_t *k3 = node_new(t, 4);
    node_t *tr = self_cycle(t, 5);
    node_t *lg = self_cycle(lt, 6);
    rcy_decref(OB(tr));
    rcy_decref(OB(lg));

    capture_reset(&out);
    CHECK_EQ(rcy_gc_set_debug(rt, RCY_DEBUG_STATS), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    char line[256];
    int a = -1, b = -1, c = -1, p = -1;
    long unreachable = -1, uncollectable = -1;
    CHECK_EQ(count_lines(out.text), 4);
    CHECK(get_line(out.text, 0, line, sizeof line) && strcmp(line, "gc: collecting generation 2...") == 0);
    CHECK(get_line(out.text, 1, line, sizeof line) &&
          sscanf(line, "gc: objects in each generation: %d %d %d", &a, &b, &c) == 3);
    CHECK_EQ(a, 3);
    CHECK_EQ(b, 2);
    CHECK_EQ(c, 1);
    char expect[64];
    snprintf(expect, sizeof expect, "gc: objects in each generation: %d %d %d", a, b, c);
    CHECK_EQ(strcmp(line, expect), 0);
    CHECK(get_line(out.text, 2, line, sizeof line) && sscanf(line, "gc: objects in permanent generation: %d", &p) == 1);
    CHECK_EQ(p, 4);
    CHECK_EQ(strcmp(line, "gc: objects in permanent generation: 4"), 0);
    CHECK(get_line(out.text, 3, line, sizeof line) && parse_done_line(line, &unreachable, &uncollectable));
    CHECK_EQ(unreachable, 2);
    CHECK_EQ(uncollectable, 1);

    /* Survivors, and the uncollectable object, are now in generation 2. */
    capture_reset(&out);
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    CHECK_EQ(count_lines(out.text), 4);
    CHECK(get_line(out.text, 0, line, sizeof line) && strcmp(line, "gc: collecting generation 0...") == 0);
    CHECK(get_line(out.text, 1, line, sizeof line) && strcmp(line, "gc: objects in each generation: 0 0 5") == 0);
    CHECK(get_line(out.text, 2, line, sizeof line) && strcmp(line, "gc: objects in permanent generation: 4") == 0);
    CHECK(get_line(out.text, 3, line, sizeof line) && parse_done_line(line, &unreachable, &uncollectable));
    CHECK_EQ(unreachable, 0);
    CHECK_EQ(uncollectable, 0);
    rcy_gc_set_debug(rt, 0);

    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    CHECK(rcy_gc_garbage_get(rt, 0) == OB(lg));
    break_garbage(rt);
    CHECK_EQ(died(6), 1);
    rcy_gc_unfreeze(rt);
    for (int i = 0; i < 4; i++)
        rcy_decref(OB(frozen[i]));
    rcy_decref(OB(g2));
    rcy_decref(OB(g1a));
    rcy_decref(OB(g1b));
    rcy_decref(OB(k3));
    test_runtime_end(rt);
    capture_free(&out);
}

/* Legacy finalizers (CPython handle_legacy_finalizers): an unreachable
   object with a legacy_del slot and everything reachable from it are
   uncollectable, but only the legacy objects go to garbage; a plain cycle
   beside them is collected. python3 3.11.7 / 3.13.0 with __slots__ classes
   (L has a tp_del): l.a = p; p.a = l; l.b = q; q.a = q; x.a = y; y.a = x;
   with DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_STATS:
       gc: collectable <N 0x...>          (x and y)
       gc: collectable <N 0x...>
       gc: uncollectable <L 0x...>        (l, then p and q)
       gc: uncollectable <N 0x...>
       gc: uncollectable <N 0x...>
       gc: done, 5 unreachable, 3 uncollectable, 0.0013s elapsed
   collect() -> 5, gc.garbage == [l], get_stats()[2] collected +2,
   uncollectable +3; after `l.a = l.b = None; del gc.garbage[:]` the next
   collect() returns 1 (q's self-cycle). */
TEST(test_legacy_reachable_uncollectable)
{
    capture_t out = {0};
    rcy_runtime_t *rt = gc_runtime(&out, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *lt = legacy_type(rt);
    rcy_gc_collect(rt, 2);
    rcy_gc_stats_t before[3], after[3];
    rcy_gc_stats_init(before);
    rcy_gc_stats_init(after);
    rcy_gc_get_stats(rt, before);

    node_t *l = node_new(lt, 1), *p = node_new(t, 2), *q = node_new(t, 3);
    node_t *x = node_new(t, 4), *y = node_new(t, 5);
    node_set_a(l, p);
    node_set_a(p, l);
    node_set_b(l, q);
    node_set_a(q, q);
    node_set_a(x, y);
    node_set_a(y, x);
    node_t *all[] = {l, p, q, x, y};
    for (int i = 0; i < 5; i++)
        rcy_decref(OB(all[i]));

    capture_reset(&out);
    rcy_gc_set_debug(rt, RCY_DEBUG_COLLECTABLE | RCY_DEBUG_UNCOLLECTABLE);
    CHECK_EQ(rcy_gc_collect(rt, 2), 5);
    rcy_gc_set_debug(rt, 0);
    char expect[128];
    const char *col_x, *col_y, *unc_l, *unc_p, *unc_q;
    snprintf(expect, sizeof expect, "gc: collectable <RNode %p>\n", (void *)x);
    col_x = strstr(out.text, expect);
    CHECK_EQ(count_substr(out.text, expect), 1);
    snprintf(expect, sizeof expect, "gc: collectable <RNode %p>\n", (void *)y);
    col_y = strstr(out.text, expect);
    CHECK_EQ(count_substr(out.text, expect), 1);
    snprintf(expect, sizeof expect, "gc: uncollectable <Legacy %p>\n", (void *)l);
    unc_l = strstr(out.text, expect);
    CHECK_EQ(count_substr(out.text, expect), 1);
    snprintf(expect, sizeof expect, "gc: uncollectable <RNode %p>\n", (void *)p);
    unc_p = strstr(out.text, expect);
    CHECK_EQ(count_substr(out.text, expect), 1);
    snprintf(expect, sizeof expect, "gc: uncollectable <RNode %p>\n", (void *)q);
    unc_q = strstr(out.text, expect);
    CHECK_EQ(count_substr(out.text, expect), 1);
    CHECK_EQ(count_lines(out.text), 5);
    CHECK_EQ(count_substr(out.text, "gc: collectable <"), 2);
    CHECK_EQ(count_substr(out.text, "gc: uncollectable <"), 3);
    /* Collectable lines come before the uncollectable ones, the legacy
       object first among those (CPython's order). */
    CHECK(col_x && col_y && unc_l && unc_p && unc_q);
    if (col_x && col_y && unc_l && unc_p && unc_q) {
        CHECK(col_x < unc_l && col_y < unc_l);
        CHECK(unc_l < unc_p && unc_l < unc_q);
    }

    CHECK_EQ(died(4) + died(5), 2);
    CHECK_EQ(died(1) + died(2) + died(3), 0);
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    CHECK(rcy_gc_garbage_get(rt, 0) == OB(l));
    CHECK(rcy_gc_garbage_get(rt, 1) == NULL);
    CHECK_EQ(legacy_del_calls, 0); /* the collector never calls legacy_del */
    CHECK_EQ(gen_of(rt, l), 2);
    CHECK_EQ(gen_of(rt, p), 2);
    CHECK_EQ(gen_of(rt, q), 2);
    rcy_gc_get_stats(rt, after);
    CHECK_EQ(after[2].collections, before[2].collections + 1);
    CHECK_EQ(after[2].collected, before[2].collected + 2);
    CHECK_EQ(after[2].uncollectable, before[2].uncollectable + 3);

    /* Still uncollectable on the next collection; garbage gets l again
       only if it was removed. */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* l is referenced by garbage */
    rcy_object_t *lo = rcy_newref(rcy_gc_garbage_get(rt, 0));
    CHECK_EQ(rcy_gc_garbage_clear(rt), 1);
    node_set_a((node_t *)lo, NULL);
    node_set_b((node_t *)lo, NULL);
    rcy_decref(lo); /* l and p die by reference counting */
    CHECK_EQ(died(1) + died(2), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1); /* q's self-cycle */
    CHECK_EQ(died(3), 1);
    test_runtime_end(rt);
    capture_free(&out);
}

/* CPython test_legacy_finalizer: a legacy object in a cycle shows up in
   garbage; a normal cycle beside it is collected; collect() counts both. */
TEST(test_legacy_finalizer)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *lt = legacy_type(rt);
    node_t *a = self_cycle(lt, 1);
    node_t *b = self_cycle(t, 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(2), 1);
    CHECK_EQ(died(1), 0);
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    CHECK(rcy_gc_garbage_get(rt, 0) == OB(a));
    CHECK(rcy_type(rcy_gc_garbage_get(rt, 0)) == lt);
    CHECK_EQ(rcy_gc_garbage_len(NULL), 0);
    CHECK(rcy_gc_garbage_get(NULL, 0) == NULL);
    CHECK_EQ(rcy_gc_garbage_clear(NULL), RCY_EINVAL);
    /* Released from garbage, it is uncollectable again on the next
       collection, and back in garbage. */
    CHECK_EQ(rcy_gc_garbage_clear(rt), 1);
    CHECK_EQ(rcy_gc_garbage_len(rt), 0);
    CHECK_EQ(died(1), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    break_garbage(rt); /* `del obj.a; gc.garbage.remove(obj)` */
    CHECK_EQ(died(1), 1);
    test_runtime_end(rt);
}

/* rcy_gc_garbage_clear releases the entries last first, as
   gc.garbage.clear() (list_clear) does: python3 3.8-3.13, four objects
   with __del__ in gc.garbage print "del 3; del 2; del 1; del 0". */
TEST(test_garbage_clear_order)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_gc_set_debug(rt, RCY_DEBUG_SAVEALL);
    for (long v = 1; v <= 4; v++)
        rcy_decref(OB(self_cycle(t, v)));
    CHECK_EQ(rcy_gc_collect(rt, 2), 4);
    rcy_gc_set_debug(rt, 0);
    CHECK_EQ(rcy_gc_garbage_len(rt), 4);
    long order[4];
    for (size_t i = 0; i < 4; i++) {
        node_t *n = (node_t *)rcy_gc_garbage_get(rt, i);
        order[i] = n->value;
        node_set_a(n, NULL); /* now held by garbage alone */
    }
    deaths_reset();
    CHECK_EQ(rcy_gc_garbage_clear(rt), 4);
    CHECK_EQ(n_deaths, 4);
    for (int i = 0; i < 4 && i < n_deaths; i++)
        CHECK_EQ(deaths[i], order[3 - i]);
    test_runtime_end(rt);
}

/* DEBUG_SAVEALL (CPython test_saveall): unreachable objects go to garbage
   instead of being cleared, and garbage holds references to them; python3
   3.11.7: `L = []; L.append(L); del L; gc.set_debug(gc.DEBUG_SAVEALL)`
   collect() -> 1, garbage == [L]; after `del gc.garbage[:]` with SAVEALL
   off, collect() -> 1. With a legacy object in the cycle every object of
   it goes to garbage: collect() -> 2, garbage == [l2, p2]. Finalizers
   still run. */
static int fin_calls;
static int count_finalize(rcy_object_t *self)
{
    (void)self;
    fin_calls++;
    return 0;
}

TEST(test_saveall)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *lt = legacy_type(rt);
    rcy_type_t *ft = make_type(rt, "Fin", count_finalize, NULL, NULL);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_gc_garbage_len(rt), 0);

    node_t *s = self_cycle(t, 1);
    rcy_decref(OB(s));
    CHECK_EQ(rcy_gc_set_debug(rt, RCY_DEBUG_SAVEALL), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    CHECK(rcy_gc_garbage_get(rt, 0) == OB(s));
    CHECK_EQ(rcy_getrefcount(OB(s)), 2); /* its own, and garbage's */
    CHECK(s->a == OB(s));                /* not cleared */
    CHECK_EQ(died(1), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* garbage keeps it reachable */
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    rcy_gc_set_debug(rt, 0);
    CHECK_EQ(rcy_gc_garbage_clear(rt), 1);
    CHECK_EQ(died(1), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(died(1), 1);

    /* Legacy cycle under SAVEALL: everything uncollectable goes in. */
    node_t *l2 = node_new(lt, 2), *p2 = node_new(t, 3);
    node_set_a(l2, p2);
    node_set_a(p2, l2);
    rcy_decref(OB(l2));
    rcy_decref(OB(p2));
    rcy_gc_set_debug(rt, RCY_DEBUG_SAVEALL);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    rcy_gc_set_debug(rt, 0);
    CHECK_EQ(rcy_gc_garbage_len(rt), 2);
    CHECK(rcy_gc_garbage_get(rt, 0) == OB(l2));
    CHECK(rcy_gc_garbage_get(rt, 1) == OB(p2));
    break_garbage(rt);
    CHECK_EQ(died(2) + died(3), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);

    /* Finalizers run under SAVEALL, once. */
    fin_calls = 0;
    make_trash_pair(ft, 4, 5);
    rcy_gc_set_debug(rt, RCY_DEBUG_SAVEALL);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(fin_calls, 2);
    CHECK_EQ(rcy_gc_garbage_len(rt), 2);
    CHECK(rcy_gc_is_finalized(rcy_gc_garbage_get(rt, 0)));
    rcy_gc_set_debug(rt, 0);
    rcy_gc_garbage_clear(rt);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(fin_calls, 2);
    CHECK_EQ(died(4) + died(5), 2);
    test_runtime_end(rt);
}

/* ---- teardown with uncollectable garbage --------------------------------- */

typedef struct counting_alloc_s {
    long live;
} counting_alloc_t;

static void *ca_malloc(void *ctx, size_t size)
{
    void *p = malloc(size);
    if (p != NULL)
        ((counting_alloc_t *)ctx)->live++;
    return p;
}

static void *ca_realloc(void *ctx, void *ptr, size_t size)
{
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        ((counting_alloc_t *)ctx)->live++;
    return p;
}

static void ca_free(void *ctx, void *ptr)
{
    if (ptr != NULL) {
        ((counting_alloc_t *)ctx)->live--;
        free(ptr);
    }
}

/* CPython test_garbage_at_shutdown: x = X('first'); x.x = x;
   x.y = X('second'); del x (X has a tp_del); then gc.set_debug(flags) and
   exit. python3 3.11.7 -Wd prints, for flags 0:
     ResourceWarning: gc: 2 uncollectable objects at shutdown; use
       gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them
   for DEBUG_UNCOLLECTABLE: "gc: uncollectable <X 0x...>" twice (the
   shutdown collection), then "ResourceWarning: gc: 2 uncollectable objects
   at shutdown" and the garbage listed; for DEBUG_SAVEALL nothing. The
   runtime still frees everything: no object survives, every allocation is
   given back. */
TEST(test_garbage_at_shutdown)
{
    static const int flags[] = {0, RCY_DEBUG_UNCOLLECTABLE, RCY_DEBUG_SAVEALL};
    for (int f = 0; f < 3; f++) {
        counting_alloc_t ca = {0};
        capture_t out = {0};
        rcy_config_t cfg;
        rcy_config_init(&cfg);
        cfg.output = capture_output;
        cfg.output_arg = &out;
        cfg.allocator.malloc_fn = ca_malloc;
        cfg.allocator.realloc_fn = ca_realloc;
        cfg.allocator.free_fn = ca_free;
        cfg.allocator.ctx = &ca;
        rcy_runtime_t *rt = rcy_runtime_new(&cfg);
        CHECK(rt != NULL);
        rcy_gc_disable(rt);
        deaths_reset();
        rcy_type_t *lt = legacy_type(rt);
        node_t *first = self_cycle(lt, 1);
        node_t *second = node_new(lt, 2);
        node_set_b(first, second);
        rcy_decref(OB(second));
        rcy_decref(OB(first));
        CHECK_EQ(rcy_gc_set_debug(rt, flags[f]), 0);
        CHECK(ca.live > 0);
        rcy_runtime_destroy(rt);

        char a1[128], a2[128];
        switch (flags[f]) {
        case 0:
            CHECK_EQ(count_substr(out.text, "ResourceWarning: gc: 2 uncollectable objects at shutdown; use "
                                            "rcy_gc_set_debug(rt, RCY_DEBUG_UNCOLLECTABLE) to list them\n"),
                     1);
            CHECK_EQ(count_substr(out.text, "<Legacy"), 0);
            break;
        case RCY_DEBUG_UNCOLLECTABLE:
            snprintf(a1, sizeof a1, "gc: uncollectable <Legacy %p>\n", (void *)first);
            snprintf(a2, sizeof a2, "gc: uncollectable <Legacy %p>\n", (void *)second);
            CHECK_EQ(count_substr(out.text, a1), 1);
            CHECK_EQ(count_substr(out.text, a2), 1);
            CHECK_EQ(count_substr(out.text, "ResourceWarning: gc: 2 uncollectable objects at shutdown\n"), 1);
            CHECK_EQ(count_substr(out.text, "; use"), 0);
            snprintf(a1, sizeof a1, "      <Legacy %p>\n", (void *)first);
            snprintf(a2, sizeof a2, "      <Legacy %p>\n", (void *)second);
            CHECK_EQ(count_substr(out.text, a1), 1);
            CHECK_EQ(count_substr(out.text, a2), 1);
            break;
        default:
            CHECK_EQ(count_substr(out.text, "uncollectable objects at shutdown"), 0);
            break;
        }
        CHECK_EQ(count_substr(out.text, "still alive"), 0);
        CHECK_EQ(died(1), 1);
        CHECK_EQ(died(2), 1);
        CHECK_EQ(ca.live, 0);
        capture_free(&out);
    }
}

/* ---- get_objects ----------------------------------------------------- */

TEST(test_get_objects)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *at = atom_type(rt);
    rcy_objarray_t arr = {0};
    CHECK_EQ(rcy_gc_get_objects(rt, -1, &arr), 0);
    CHECK_EQ(arr.len, 0);
    rcy_objarray_release(&arr);

    node_t *a = node_new(t, 1);
    rcy_gc_collect(rt, 1); /* a -> generation 2 */
    node_t *b = node_new(t, 2);
    rcy_gc_collect(rt, 0); /* b -> generation 1 */
    node_t *c = self_cycle(t, 3), *u = node_new(t, 4);
    rcy_object_t *atom = rcy_new(at);
    rcy_gc_untrack(OB(u));

    CHECK_EQ(rcy_gc_get_objects(rt, -1, &arr), 0);
    CHECK_EQ(arr.len, 3);
    CHECK_EQ(arr_contains(&arr, a) + arr_contains(&arr, b) + arr_contains(&arr, c), 3);
    CHECK_EQ(arr_contains(&arr, u) + arr_contains(&arr, atom), 0);
    CHECK_EQ(rcy_getrefcount(OB(a)), 2); /* new references */
    CHECK_EQ(rcy_getrefcount(OB(c)), 3);
    rcy_objarray_release(&arr);
    CHECK_EQ(arr.len, 0);
    CHECK_EQ(rcy_getrefcount(OB(a)), 1);
    rcy_objarray_release(&arr); /* twice is harmless */

    static const int expect_len[3] = {1, 1, 1};
    const void *expect_obj[3] = {c, b, a};
    for (int g = 0; g < 3; g++) {
        CHECK_EQ(rcy_gc_get_objects(rt, g, &arr), 0);
        CHECK_EQ(arr.len, expect_len[g]);
        CHECK_EQ(arr_contains(&arr, expect_obj[g]), 1);
        rcy_objarray_release(&arr);
    }
    static const int bad[] = {3, -2, 100, -100};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(rcy_gc_get_objects(rt, bad[i], &arr), RCY_EINVAL);
        CHECK_EQ(arr.len, 0);
        CHECK(arr.items == NULL);
        rcy_objarray_release(&arr);
    }
    CHECK_EQ(rcy_gc_get_objects(NULL, 0, &arr), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_objects(rt, 0, NULL), RCY_EINVAL);

    /* Frozen objects are not listed. */
    rcy_gc_freeze(rt);
    CHECK_EQ(gen_size(rt, -1), 0);
    rcy_gc_unfreeze(rt);
    CHECK_EQ(gen_size(rt, 2), 3);

    rcy_gc_track(OB(u));
    rcy_decref(OB(u));
    rcy_decref(atom);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    rcy_decref(OB(c));
    test_runtime_end(rt);
}

/* ---- get_referents / get_referrers ----------------------------------- */

/* CPython test_get_referents: what each argument's traverse visits; atomic
   arguments give nothing (`gc.get_referents(1, 'a', 4.3)` == []). */
TEST(test_get_referents)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *at = atom_type(rt);
    node_t *n = node_new(t, 1), *c1 = node_new(t, 2), *c2 = node_new(t, 3), *empty = node_new(t, 4);
    rcy_object_t *atom = rcy_new(at);
    node_set_a(n, c1);
    node_set_b(n, c2);
    node_set_a(c1, atom);

    rcy_objarray_t arr = {0};
    rcy_object_t *args1[] = {OB(n)};
    CHECK_EQ(rcy_gc_get_referents(rt, args1, 1, &arr), 0);
    CHECK_EQ(arr.len, 2);
    if (arr.len == 2) {
        CHECK(arr.items[0] == OB(c1));
        CHECK(arr.items[1] == OB(c2));
    }
    CHECK_EQ(rcy_getrefcount(OB(c1)), 3); /* test, n->a, the array */
    rcy_objarray_release(&arr);
    CHECK_EQ(rcy_getrefcount(OB(c1)), 2);

    /* Several arguments: their referents in order; a non-container child
       is reported like any other. */
    rcy_object_t *args2[] = {OB(c1), OB(n), OB(empty)};
    CHECK_EQ(rcy_gc_get_referents(rt, args2, 3, &arr), 0);
    CHECK_EQ(arr.len, 3);
    if (arr.len == 3) {
        CHECK(arr.items[0] == atom);
        CHECK(arr.items[1] == OB(c1));
        CHECK(arr.items[2] == OB(c2));
    }
    rcy_objarray_release(&arr);

    /* Non-containers contribute nothing. */
    rcy_object_t *args3[] = {atom, atom};
    CHECK_EQ(rcy_gc_get_referents(rt, args3, 2, &arr), 0);
    CHECK_EQ(arr.len, 0);
    rcy_objarray_release(&arr);
    CHECK_EQ(rcy_gc_get_referents(rt, NULL, 0, &arr), 0);
    CHECK_EQ(arr.len, 0);
    rcy_objarray_release(&arr);

    rcy_object_t *args4[] = {OB(n), NULL};
    CHECK_EQ(rcy_gc_get_referents(rt, args4, 2, &arr), RCY_EINVAL);
    CHECK_EQ(arr.len, 0);
    CHECK_EQ(rcy_getrefcount(OB(c1)), 2);
    CHECK_EQ(rcy_gc_get_referents(rt, NULL, 1, &arr), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_referents(NULL, args1, 1, &arr), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_referents(rt, args1, 1, NULL), RCY_EINVAL);

    rcy_decref(atom);
    rcy_decref(OB(n));
    rcy_decref(OB(c1));
    rcy_decref(OB(c2));
    rcy_decref(OB(empty));
    test_runtime_end(rt);
}

TEST(test_get_referrers)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    node_t *target = node_new(t, 1), *other = node_new(t, 2);
    node_t *r1 = node_new(t, 3), *r2 = node_new(t, 4), *r3 = node_new(t, 5), *none = node_new(t, 6);
    node_set_a(r1, target);
    node_set_a(r2, target);
    node_set_b(r2, target); /* twice: listed once */
    node_set_b(r3, other);
    node_set_a(none, none);
    rcy_gc_collect(rt, 0); /* referrers in several generations */
    node_t *r4 = node_new(t, 7);
    node_set_a(r4, target);

    rcy_objarray_t arr = {0};
    rcy_object_t *objs[] = {OB(target)};
    CHECK_EQ(rcy_gc_get_referrers(rt, objs, 1, &arr), 0);
    CHECK_EQ(arr.len, 3);
    CHECK_EQ(arr_contains(&arr, r1), 1);
    CHECK_EQ(arr_contains(&arr, r2), 1);
    CHECK_EQ(arr_contains(&arr, r4), 1);
    rcy_objarray_release(&arr);

    rcy_object_t *objs2[] = {OB(target), OB(other), OB(none)};
    CHECK_EQ(rcy_gc_get_referrers(rt, objs2, 3, &arr), 0);
    CHECK_EQ(arr.len, 5);
    CHECK_EQ(arr_contains(&arr, r3), 1);
    CHECK_EQ(arr_contains(&arr, none), 1); /* it refers to itself */
    rcy_objarray_release(&arr);

    /* Untracked and frozen referrers are not found. */
    rcy_gc_untrack(OB(r1));
    rcy_gc_collect(rt, 2);
    node_t *young = node_new(t, 8);
    node_set_a(young, target);
    rcy_gc_freeze(rt); /* r2, r4 and young frozen */
    CHECK_EQ(rcy_gc_get_referrers(rt, objs, 1, &arr), 0);
    CHECK_EQ(arr.len, 0);
    rcy_objarray_release(&arr);
    rcy_gc_unfreeze(rt);
    rcy_gc_track(OB(r1));
    CHECK_EQ(rcy_gc_get_referrers(rt, objs, 1, &arr), 0);
    CHECK_EQ(arr.len, 4);
    rcy_objarray_release(&arr);

    CHECK_EQ(rcy_gc_get_referrers(rt, NULL, 0, &arr), 0);
    CHECK_EQ(arr.len, 0);
    rcy_objarray_release(&arr);
    CHECK_EQ(rcy_gc_get_referrers(rt, NULL, 1, &arr), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_referrers(NULL, objs, 1, &arr), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_referrers(rt, objs, 1, NULL), RCY_EINVAL);

    node_t *all[] = {target, other, r1, r2, r3, r4, none, young};
    for (int i = 0; i < 8; i++)
        rcy_decref(OB(all[i]));
    test_runtime_end(rt);
}

/* ---- is_tracked / track / untrack / is_finalized --------------------- */

TEST(test_is_tracked)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *at = atom_type(rt);
    node_t *n = self_cycle(t, 1);
    rcy_object_t *atom = rcy_new(at);
    CHECK_EQ(rcy_gc_is_tracked(OB(n)), 1);
    CHECK_EQ(rcy_gc_is_tracked(atom), 0);
    CHECK_EQ(rcy_gc_is_tracked(NULL), 0);
    CHECK_EQ(rcy_gc_track(OB(n)), RCY_ESTATE);
    CHECK_EQ(rcy_gc_track(atom), RCY_ETYPE);
    CHECK_EQ(rcy_gc_track(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_gc_untrack(OB(n)), 0);
    CHECK_EQ(rcy_gc_is_tracked(OB(n)), 0);
    CHECK_EQ(rcy_gc_untrack(OB(n)), 0); /* no-op */
    CHECK_EQ(rcy_gc_untrack(atom), 0);
    CHECK_EQ(rcy_gc_untrack(NULL), RCY_EINVAL);
    /* The collector does not see an untracked cycle. */
    rcy_decref(OB(n));
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(died(1), 0);
    CHECK_EQ(rcy_gc_track(OB(n)), 0);
    CHECK_EQ(rcy_gc_is_tracked(OB(n)), 1);
    CHECK_EQ(gen_of(rt, n), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(died(1), 1);
    rcy_decref(atom);
    test_runtime_end(rt);
}

/* CPython test_is_finalized: a finalizer that resurrects its object
   ("Lazarus"); afterwards is_finalized is true and the finalizer never
   runs again. */
static rcy_object_t *lazarus_storage;
static int lazarus_calls;
static int lazarus_finalize(rcy_object_t *self)
{
    lazarus_calls++;
    lazarus_storage = rcy_newref(self);
    return 0;
}

TEST(test_is_finalized)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *lz = make_type(rt, "Lazarus", lazarus_finalize, NULL, NULL);
    rcy_type_t *at = atom_type(rt);
    rcy_object_t *atom = rcy_new(at);
    CHECK_EQ(rcy_gc_is_finalized(atom), 0);
    CHECK_EQ(rcy_gc_is_finalized(NULL), 0);
    lazarus_calls = 0;
    node_t *l = node_new(lz, 1);
    CHECK_EQ(rcy_gc_is_finalized(OB(l)), 0);
    rcy_decref(OB(l));
    CHECK_EQ(lazarus_calls, 1);
    CHECK_EQ(died(1), 0);
    rcy_gc_collect(rt, 2);
    l = (node_t *)lazarus_storage;
    lazarus_storage = NULL;
    CHECK(l != NULL);
    CHECK_EQ(rcy_gc_is_finalized(OB(l)), 1);
    rcy_decref(OB(l));
    CHECK_EQ(lazarus_calls, 1);
    CHECK_EQ(died(1), 1);
    rcy_decref(atom);
    test_runtime_end(rt);
}

/* ---- freeze ---------------------------------------------------------- */

/* ---- Generation 1's list order under the hints ----------------------- */

/* A generation-1 collection walks generation 1 with the help of the
   addresses its objects had when generation-0 collections promoted them
   (gc.c, record_hints): objects freed since leave stale hints (whose
   blocks new objects reuse), others are out of place (an object the scan
   moved back from unreachable), untracked and tracked again, or moved away
   by freeze. Whatever the hints, the collection must see generation 1 and
   0 in list order: with every survivor referenced from outside, its
   survivors are appended to generation 2 in exactly that order, and the
   garbage (self-cycles) is what the two lists held of it. */
#define HINTS_HELD 4096

static uint32_t hints_rand(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* The pointers of generation g in list order (no references kept). */
static size_t hints_snapshot(rcy_runtime_t *rt, int g, const void **out, size_t at, size_t cap)
{
    rcy_objarray_t arr = {0};
    CHECK_EQ(rcy_gc_get_objects(rt, g, &arr), 0);
    CHECK(at + arr.len <= cap);
    for (size_t i = 0; i < arr.len; i++)
        out[at + i] = arr.items[i];
    size_t n = arr.len;
    rcy_objarray_release(&arr);
    return at + n;
}

static void hints_check_young_collection(rcy_runtime_t *rt)
{
    enum { CAP = 3 * HINTS_HELD + 4096 };
    static const void *before[CAP], *young[CAP], *after[CAP];
    static unsigned char garbage[CAP];
    size_t n2 = hints_snapshot(rt, 2, before, 0, CAP);
    size_t ny = hints_snapshot(rt, 1, young, 0, CAP);
    ny = hints_snapshot(rt, 0, young, ny, CAP);
    intptr_t expected = 0;
    for (size_t i = 0; i < ny; i++) {
        garbage[i] = ((const node_t *)young[i])->value < 0; /* a self-cycle */
        expected += garbage[i];
    }
    CHECK_EQ(rcy_gc_collect(rt, 1), expected);
    size_t na = hints_snapshot(rt, 2, after, 0, CAP);
    CHECK_EQ(na, n2 + ny - (size_t)expected);
    CHECK_EQ(gen_size(rt, 1), 0);
    CHECK_EQ(gen_size(rt, 0), 0);
    size_t k = 0;
    for (size_t i = 0; i < n2; i++)
        CHECK(after[k++] == before[i]);
    for (size_t i = 0; i < ny; i++)
        if (!garbage[i])
            CHECK(after[k++] == young[i]);
}

TEST(test_generation1_order_under_hints)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = node_type_new(rt, "HintNode");
    CHECK(t != NULL);
    static node_t *held[HINTS_HELD];
    size_t nheld = 0;
    node_t *referents[32], *doomed[64];
    uint32_t seed = 20261202;
    long value = 0;
    int young_collections = 0;
    for (int round = 0; round < 400; round++) {
        /* New objects: held ones, self-cycles, and referents allocated
           before their only referrer (the next generation-0 collection
           moves them back from unreachable: out of place in the hints). */
        size_t nref = 0;
        int batch = (int)(hints_rand(&seed) % (round % 9 == 0 ? 1500 : 120));
        size_t ndoomed = 0;
        for (int i = 0; i < batch && nheld + nref + 2 < HINTS_HELD; i++) {
            uint32_t r = hints_rand(&seed) % 16;
            node_t *x = node_new(t, value++);
            CHECK(x != NULL);
            if (r == 0 && ndoomed < 64) {
                x->value = -1;
                node_set_a(x, x);
                doomed[ndoomed++] = x; /* dropped once in generation 1 */
            } else if (r == 1 && nref < 32) {
                node_t *y = node_new(t, value++);
                CHECK(y != NULL);
                node_set_a(y, x);
                referents[nref++] = x; /* borrowed until adopted below */
                rcy_decref(OB(x));
                held[nheld++] = y;
            } else {
                held[nheld++] = x;
            }
        }
        uint32_t op = hints_rand(&seed) % 8;
        if (op == 0 && nheld > 0) {
            /* Untrack one held object; op 1 tracks one again (it goes to
               generation 0). */
            rcy_gc_untrack(OB(held[hints_rand(&seed) % nheld]));
        } else if (op == 1 && nheld > 0) {
            node_t *x = held[hints_rand(&seed) % nheld];
            if (!rcy_gc_is_tracked(OB(x)))
                rcy_gc_track(OB(x));
        } else if (op == 2 && round % 5 == 0) {
            CHECK_EQ(rcy_gc_freeze(rt), 0);
            CHECK_EQ(rcy_gc_unfreeze(rt), 0);
        }
        CHECK_EQ(rcy_gc_collect(rt, 0), 0);
        young_collections++;
        for (size_t i = 0; i < ndoomed; i++)
            rcy_decref(OB(doomed[i]));
        for (size_t i = 0; i < nref; i++) {
            rcy_incref(OB(referents[i]));
            held[nheld++] = referents[i];
        }
        /* Deaths: a run of held objects (up to 80, or 400: longer than
           the hints' window), anywhere or among the last 1,000 (in
           generation 1 more often), not those another object still refers
           to, whose blocks the next objects reuse. */
        if (nheld > 0 && hints_rand(&seed) % 2 == 0) {
            size_t recent = nheld < 1000 ? nheld : 1000;
            size_t at = round % 2 ? hints_rand(&seed) % nheld : nheld - 1 - hints_rand(&seed) % recent;
            size_t run = 1 + hints_rand(&seed) % (round % 4 == 0 ? 400 : 80);
            size_t w = at;
            for (size_t i = at; i < nheld; i++) {
                node_t *x = held[i];
                if (i < at + run && rcy_getrefcount(OB(x)) == 1) {
                    node_set_a(x, NULL);
                    rcy_decref(OB(x));
                } else {
                    held[w++] = x;
                }
            }
            nheld = w;
        }
        if (young_collections % 7 == 0)
            hints_check_young_collection(rt);
    }
    hints_check_young_collection(rt);
    for (size_t i = 0; i < nheld; i++) {
        node_set_a(held[i], NULL);
        rcy_decref(OB(held[i]));
    }
    /* What is left: the self-cycles that freeze and unfreeze moved to
       generation 2 before a generation-1 collection saw them. */
    CHECK(rcy_gc_collect(rt, 2) > 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

/* CPython test_freeze and test_traverse_frozen_objects: frozen objects are
   ignored by collections (a frozen cycle is not collected), but a young
   cycle that refers to a frozen object is collected, and a young object
   that a frozen one refers to survives. */
TEST(test_freeze)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    CHECK_EQ(rcy_gc_get_freeze_count(rt), 0);
    make_trash_pair(t, 1, 2);
    node_t *f = node_new(t, 3);
    CHECK_COUNTS(rt, 3, 0, 0);
    CHECK_EQ(rcy_gc_freeze(rt), 0);
    CHECK_EQ(rcy_gc_get_freeze_count(rt), 3);
    CHECK_COUNTS(rt, 0, 0, 0);
    CHECK_EQ(gen_size(rt, -1), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(died(1) + died(2), 0);
    CHECK_EQ(rcy_runtime_live_objects(rt), 3);

    /* A frozen object's young referent survives; a young cycle referring
       to a frozen object is collected and the frozen object is untouched. */
    node_t *y = node_new(t, 4);
    node_set_a(f, y);
    rcy_decref(OB(y));
    node_t *c1 = node_new(t, 5), *c2 = node_new(t, 6);
    node_set_a(c1, c2);
    node_set_a(c2, c1);
    node_set_b(c1, f);
    rcy_decref(OB(c1));
    rcy_decref(OB(c2));
    CHECK_EQ(rcy_getrefcount(OB(f)), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(5) + died(6), 2);
    CHECK_EQ(died(4), 0);
    CHECK_EQ(rcy_getrefcount(OB(f)), 1);
    CHECK_EQ(rcy_gc_get_freeze_count(rt), 3);
    CHECK_EQ(gen_of(rt, y), 2);

    /* Freezing again adds to the permanent generation. */
    CHECK_EQ(rcy_gc_freeze(rt), 0);
    CHECK_EQ(rcy_gc_get_freeze_count(rt), 4);
    CHECK_EQ(rcy_gc_unfreeze(rt), 0);
    CHECK_EQ(rcy_gc_get_freeze_count(rt), 0);
    CHECK_EQ(gen_size(rt, 2), 4); /* into the oldest generation */
    CHECK_EQ(gen_size(rt, 0), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(1) + died(2), 2);

    CHECK_EQ(rcy_gc_freeze(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_gc_unfreeze(NULL), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_freeze_count(NULL), 0);
    rcy_decref(OB(f));
    test_runtime_end(rt);
}

/* ---- get_stats ------------------------------------------------------- */

/* CPython test_get_stats: collect(0) bumps only generation 0's
   collections, collect(2) only generation 2's; collected, uncollectable
   and candidates (3.15's addition) add up per collection. */
TEST(test_get_stats)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *lt = legacy_type(rt);
    rcy_gc_stats_t old[3], now[3];
    rcy_gc_stats_init(old);
    rcy_gc_stats_init(now);
    CHECK_EQ(rcy_gc_get_stats(rt, old), 0);
    for (int g = 0; g < 3; g++) {
        CHECK_EQ(old[g].collections, 0);
        CHECK_EQ(old[g].collected, 0);
        CHECK_EQ(old[g].uncollectable, 0);
        CHECK_EQ(old[g].candidates, 0);
        CHECK(old[g].duration == 0.0);
    }
    node_t *k = node_new(t, 1);
    make_trash_pair(t, 2, 3);
    CHECK_EQ(rcy_gc_collect(rt, 0), 2);
    rcy_gc_get_stats(rt, now);
    CHECK_EQ(now[0].collections, 1);
    CHECK_EQ(now[0].collected, 2);
    CHECK_EQ(now[0].uncollectable, 0);
    CHECK_EQ(now[0].candidates, 3);
    CHECK(now[0].duration >= 0.0);
    for (int g = 1; g < 3; g++) {
        CHECK_EQ(now[g].collections, 0);
        CHECK_EQ(now[g].collected, 0);
        CHECK_EQ(now[g].candidates, 0);
    }

    node_t *l = self_cycle(lt, 4);
    rcy_decref(OB(l));
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    rcy_gc_get_stats(rt, old);
    CHECK_EQ(old[0].collections, 1); /* unchanged */
    CHECK_EQ(old[0].candidates, 3);
    CHECK_EQ(old[1].collections, 0);
    CHECK_EQ(old[2].collections, 1);
    CHECK_EQ(old[2].collected, 0);
    CHECK_EQ(old[2].uncollectable, 1);
    CHECK_EQ(old[2].candidates, 2); /* k and l */
    CHECK(old[2].duration >= 0.0);

    CHECK_EQ(rcy_gc_collect(rt, 1), 0);
    rcy_gc_get_stats(rt, now);
    CHECK_EQ(now[1].collections, 1);
    CHECK_EQ(now[1].candidates, 0); /* generations 0 and 1 are empty */
    CHECK_EQ(now[2].collections, 1);
    CHECK_EQ(rcy_gc_get_stats(NULL, now), RCY_EINVAL);
    CHECK_EQ(rcy_gc_get_stats(rt, NULL), RCY_EINVAL);
    break_garbage(rt);
    rcy_decref(OB(k));
    test_runtime_end(rt);
}

/* ---- callbacks ------------------------------------------------------- */

/* CPython GCCallbackTests.test_collect / test_collect_generation: every
   callback gets "start" and "stop" once per collection, in registration
   order, "start" with zeros; the info names the collected generation.
   "start" comes before anything changes, "stop" after: python3 3.11.7,
   gc.get_count() in a callback around gc.collect(0) shows (4, 0, 0) at
   start and (0, 1, 0) at stop (CPython's own info dicts count too). */
TEST(test_callbacks)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    recorder_t r1 = {1, 0, 0, {0, 0}, 0, 0}, r2 = {2, 0, 0, {0, 0}, 0, 0};
    CHECK_EQ(rcy_gc_callback_add(rt, record_cb, &r1), 0);
    CHECK_EQ(rcy_gc_callback_add(rt, record_cb, &r2), 0);
    node_t *keep = node_new(t, 1);
    node_t *s = self_cycle(t, 2);
    rcy_decref(OB(s));
    n_events = 0;
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(n_events, 4);
    static const int ids[4] = {1, 2, 1, 2};
    static const rcy_gc_phase_t phases[4] = {RCY_GC_START, RCY_GC_START, RCY_GC_STOP, RCY_GC_STOP};
    for (int i = 0; i < 4 && i < n_events; i++) {
        CHECK_EQ(events[i].id, ids[i]);
        CHECK_EQ(events[i].phase, phases[i]);
        CHECK_EQ(events[i].info.generation, 2);
        if (phases[i] == RCY_GC_START) {
            CHECK_EQ(events[i].info.collected, 0);
            CHECK_EQ(events[i].info.uncollectable, 0);
            CHECK_EQ(events[i].info.candidates, 0);
            CHECK(events[i].info.duration == 0.0);
            CHECK_TRIPLE(events[i].counts, 2, 0, 0); /* before anything */
        } else {
            CHECK_EQ(events[i].info.collected, 1);
            CHECK_EQ(events[i].info.uncollectable, 0);
            CHECK_EQ(events[i].info.candidates, 2);
            CHECK(events[i].info.duration >= 0.0);
            CHECK_TRIPLE(events[i].counts, 0, 0, 0);
        }
    }
    for (int g = 0; g < 3; g++) {
        n_events = 0;
        CHECK_EQ(rcy_gc_collect(rt, g), 0);
        CHECK_EQ(n_events, 4);
        for (int i = 0; i < n_events; i++)
            CHECK_EQ(events[i].info.generation, g);
    }

    /* The teardown collection calls no callbacks. */
    s = self_cycle(t, 3);
    rcy_decref(OB(s));
    rcy_decref(OB(keep));
    n_events = 0;
    rcy_runtime_destroy(rt);
    CHECK_EQ(n_events, 0);
    CHECK_EQ(died(3), 1);
    CHECK_EQ(died(1), 1);
}

/* CPython GCCallbackTests.test_collect_garbage: two pairs of uncollectable
   objects (legacy finalizers, partners of each other) and a self-cycle:
   stop info collected=1, uncollectable=4, garbage holds the four. Then,
   with garbage emptied but one of them still referenced (the test's loop
   variable `e` keeps one pair alive), the next collection finds the other
   pair again: collected=0, uncollectable=2, and a callback that empties
   garbage and breaks the pairs at "stop" leaves garbage empty. python3
   3.11.7 prints exactly that from the unmodified test (and
   uncollectable=4 when `e` is deleted first). */
static void make_uncollectable_pair(rcy_type_t *lt, long v)
{
    node_t *a = node_new(lt, v), *b = node_new(lt, v + 1);
    node_set_a(a, b); /* self.partner */
    node_set_a(b, a);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
}

TEST(test_callback_collect_garbage)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *lt = legacy_type(rt);
    recorder_t r1 = {1, 0, 0, {0, 0}, 0, 0}, r2 = {2, 0, 0, {0, 0}, 0, 0};
    rcy_gc_callback_add(rt, record_cb, &r1);
    rcy_gc_callback_add(rt, record_cb, &r2);
    rcy_gc_collect(rt, 2); /* preclean */
    make_uncollectable_pair(lt, 10);
    make_uncollectable_pair(lt, 20);
    node_t *c = self_cycle(t, 666);
    rcy_decref(OB(c));
    n_events = 0;
    CHECK_EQ(rcy_gc_collect(rt, 2), 5);
    int stops = 0;
    for (int i = 0; i < n_events; i++) {
        if (events[i].phase != RCY_GC_STOP)
            continue;
        stops++;
        CHECK_EQ(events[i].info.collected, 1);
        CHECK_EQ(events[i].info.uncollectable, 4);
    }
    CHECK_EQ(stops, 2);
    CHECK_EQ(rcy_gc_garbage_len(rt), 4);
    for (size_t i = 0; i < rcy_gc_garbage_len(rt); i++)
        CHECK(rcy_type(rcy_gc_garbage_get(rt, i)) == lt);
    CHECK_EQ(died(666), 1);

    rcy_object_t *e = rcy_newref(rcy_gc_garbage_get(rt, 3));
    r2.cleanup = 1;
    n_events = 0;
    CHECK_EQ(rcy_gc_garbage_clear(rt), 4);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    stops = 0;
    for (int i = 0; i < n_events; i++) {
        if (events[i].phase != RCY_GC_STOP)
            continue;
        stops++;
        CHECK_EQ(events[i].info.collected, 0);
        CHECK_EQ(events[i].info.uncollectable, 2);
    }
    CHECK_EQ(stops, 2);
    CHECK_EQ(rcy_gc_garbage_len(rt), 0);
    CHECK_EQ(n_deaths, 3); /* 666 and the pair the callback broke */
    CHECK_EQ(died(((node_t *)e)->value), 0);

    r2.cleanup = 0;
    rcy_decref(e);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_gc_garbage_len(rt), 2);
    break_garbage(rt);
    CHECK_EQ(n_deaths, 5);
    test_runtime_end(rt);
}

/* A callback that fails is reported through the error hook ("Exception
   ignored while calling GC callback", CPython 3.14's wording; 3.11-3.13
   say "Exception ignored in: <function ...>") and the collection goes on,
   the next callbacks too. python3 3.11.7: gc.callbacks = [bad, cb3];
   gc.collect() returns normally and cb3 sees start and stop. */
TEST(test_callback_error)
{
    capture_t out = {0}, err = {0};
    rcy_runtime_t *rt = gc_runtime(&out, &err);
    rcy_type_t *t = rnode_type(rt);
    recorder_t bad = {1, 1, 0, {0, 0}, 0, 0}, good = {2, 0, 0, {0, 0}, 0, 0};
    rcy_gc_callback_add(rt, record_cb, &bad);
    rcy_gc_callback_add(rt, record_cb, &good);
    node_t *s = self_cycle(t, 1);
    rcy_decref(OB(s));
    n_events = 0;
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(died(1), 1);
    CHECK_EQ(n_events, 4);
    CHECK_EQ(count_substr(err.text, "Exception ignored while calling GC callback"), 2);
    CHECK_STR_CONTAINS(err.text, "start");
    CHECK_STR_CONTAINS(err.text, "stop");
    CHECK_EQ(count_lines(err.text), 2);
    CHECK_EQ(count_substr(out.text, "Exception ignored"), 0);
    rcy_gc_callback_remove(rt, record_cb, &bad);
    rcy_gc_callback_remove(rt, record_cb, &good);
    test_runtime_end(rt);
    capture_free(&out);
    capture_free(&err);

    /* Without an error hook the report goes to the output hook. */
    capture_t out2 = {0};
    rt = test_runtime(&out2);
    rcy_gc_callback_add(rt, record_cb, &bad);
    rcy_gc_collect(rt, 0);
    CHECK_EQ(count_substr(out2.text, "Exception ignored while calling GC callback"), 2);
    rcy_gc_callback_remove(rt, record_cb, &bad);
    test_runtime_end(rt);
    capture_free(&out2);
}

/* callback_add / callback_remove. Removal during a call behaves like
   removing from CPython's list while it is iterated by index: python3
   3.11.7 with gc.callbacks = [cb1, cb2, cb3] where cb1 removes itself at
   "start" logs [cb1 start, cb3 start, cb2 stop, cb3 stop]. */
TEST(test_callback_remove)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    recorder_t r1 = {1, 0, 0, {0, 0}, 0, 0}, r2 = {2, 0, 0, {0, 0}, 0, 0}, r3 = {3, 0, 0, {0, 0}, 0, 0};
    CHECK_EQ(rcy_gc_callback_add(rt, NULL, &r1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_callback_add(NULL, record_cb, &r1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_callback_remove(rt, NULL, &r1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_callback_remove(NULL, record_cb, &r1), RCY_EINVAL);
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r1), RCY_EKEY);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);

    CHECK_EQ(rcy_gc_callback_add(rt, record_cb, &r1), 0);
    CHECK_EQ(rcy_gc_callback_add(rt, record_cb, &r1), 0); /* twice: called twice */
    n_events = 0;
    rcy_gc_collect(rt, 0);
    CHECK_EQ(n_events, 4);
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r2), RCY_EKEY); /* other arg */
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r1), 0);
    n_events = 0;
    rcy_gc_collect(rt, 0);
    CHECK_EQ(n_events, 2);
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r1), 0);
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r1), RCY_EKEY);
    n_events = 0;
    rcy_gc_collect(rt, 0);
    CHECK_EQ(n_events, 0);

    r1.remove_at_start = 1;
    rcy_gc_callback_add(rt, record_cb, &r1);
    rcy_gc_callback_add(rt, record_cb, &r2);
    rcy_gc_callback_add(rt, record_cb, &r3);
    n_events = 0;
    rcy_gc_collect(rt, 2);
    static const int ids[4] = {1, 3, 2, 3};
    static const rcy_gc_phase_t phases[4] = {RCY_GC_START, RCY_GC_START, RCY_GC_STOP, RCY_GC_STOP};
    CHECK_EQ(n_events, 4);
    for (int i = 0; i < 4 && i < n_events; i++) {
        CHECK_EQ(events[i].id, ids[i]);
        CHECK_EQ(events[i].phase, phases[i]);
    }
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r1), RCY_EKEY);
    n_events = 0;
    rcy_gc_collect(rt, 2);
    CHECK_EQ(n_events, 4);
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r2), 0);
    CHECK_EQ(rcy_gc_callback_remove(rt, record_cb, &r3), 0);
    test_runtime_end(rt);
}

/* ---- collections never nest ----------------------------------------- */

static intptr_t nested_results[8];
static int n_nested;

static int nesting_finalize(rcy_object_t *self)
{
    if (n_nested < 8)
        nested_results[n_nested++] = rcy_gc_collect(rcy_object_runtime(self), 2);
    return 0;
}

static int nesting_clear(rcy_object_t *self)
{
    if (n_nested < 8)
        nested_results[n_nested++] = rcy_gc_collect(rcy_object_runtime(self), 0);
    return node_clear(self);
}

/* A collection started from inside a collection (a callback, a finalizer,
   a clear slot) returns 0 at once (python3 3.11.7: gc.collect() in a
   callback returns 0 at start and stop). */
TEST(test_collections_never_nest)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    rcy_type_t *ft = make_type(rt, "NestFin", nesting_finalize, NULL, NULL);
    rcy_type_t *ct = make_type(rt, "NestClear", NULL, NULL, nesting_clear);

    recorder_t r = {1, 0, 1, {-1, -1}, 0, 0};
    rcy_gc_callback_add(rt, record_cb, &r);
    make_trash_pair(t, 1, 2);
    n_events = 0;
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(r.nested[RCY_GC_START], 0);
    CHECK_EQ(r.nested[RCY_GC_STOP], 0);
    CHECK_EQ(n_events, 2); /* the nested calls did not collect */
    rcy_gc_callback_remove(rt, record_cb, &r);

    n_nested = 0;
    make_trash_pair(ft, 3, 4);
    make_trash_pair(t, 5, 6);
    CHECK_EQ(rcy_gc_collect(rt, 2), 4);
    CHECK_EQ(n_nested, 2);
    CHECK_EQ(nested_results[0], 0);
    CHECK_EQ(nested_results[1], 0);
    CHECK_EQ(died(3) + died(4) + died(5) + died(6), 4);

    n_nested = 0;
    make_trash_pair(ct, 7, 8);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK(n_nested >= 1);
    for (int i = 0; i < n_nested; i++)
        CHECK_EQ(nested_results[i], 0);
    CHECK_EQ(died(7) + died(8), 2);
    test_runtime_end(rt);
}

/* ---- graph scenarios ------------------------------------------------- */

/* The seeds' (001) reachability example: A->B->E, A->C->E, B->A, D->F,
   F->D, with the root A held: the collector frees exactly D and F (the
   seed's DFS prints {D, F} as unreachable). */
TEST(test_seeds_six_nodes)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);
    enum { A, B, C, D, E, F };
    node_t *n[6];
    for (int i = 0; i < 6; i++)
        n[i] = node_new(t, 'A' + i);
    node_set_a(n[A], n[B]);
    node_set_b(n[A], n[C]);
    node_set_a(n[B], n[E]);
    node_set_b(n[B], n[A]);
    node_set_a(n[C], n[E]);
    node_set_a(n[D], n[F]);
    node_set_a(n[F], n[D]);
    for (int i = B; i <= F; i++)
        rcy_decref(OB(n[i]));
    CHECK_EQ(rcy_runtime_live_objects(rt), 6);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(n_deaths, 2);
    CHECK_EQ(died('D'), 1);
    CHECK_EQ(died('F'), 1);
    CHECK_EQ(rcy_runtime_live_objects(rt), 4);
    /* The survivors are intact. */
    node_t *b = (node_t *)n[A]->a, *c = (node_t *)n[A]->b;
    CHECK(b == n[B] && c == n[C]);
    CHECK(b->a == OB(n[E]) && b->b == OB(n[A]) && c->a == OB(n[E]));
    CHECK_EQ(b->value, 'B');
    CHECK_EQ(c->value, 'C');
    CHECK_EQ(((node_t *)c->a)->value, 'E');
    CHECK_EQ(rcy_getrefcount(OB(n[E])), 2);
    /* Dropping the root leaves A <-> B and what they reach: 4 more. */
    rcy_decref(OB(n[A]));
    CHECK_EQ(rcy_gc_collect(rt, 2), 4);
    CHECK_EQ(died('A') + died('B') + died('C') + died('E'), 4);
    test_runtime_end(rt);
}

/* Objects reachable from outside the collected generations survive, and
   what lies outside them is never touched:
   - a young cycle hanging off an old object survives a young collection
     while its referrer lives (the reference comes from outside);
   - old cyclic trash keeps its young referent alive through a young
     collection; a full collection frees all three;
   - young trash referring to an old object is collected; the old object
     is untouched. */
TEST(test_older_generation_referrers)
{
    rcy_runtime_t *rt = gc_runtime(NULL, NULL);
    rcy_type_t *t = rnode_type(rt);

    node_t *o = node_new(t, 1);
    rcy_gc_collect(rt, 2); /* o in generation 2 */
    node_t *x = node_new(t, 2), *y = node_new(t, 3);
    node_set_a(x, y);
    node_set_a(y, x);
    node_set_a(o, x);
    rcy_decref(OB(x));
    rcy_decref(OB(y));
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    CHECK_EQ(rcy_gc_collect(rt, 1), 0);
    CHECK_EQ(died(2) + died(3), 0);
    CHECK_EQ(gen_of(rt, x), 2);
    rcy_decref(OB(o)); /* o dies; x <-> y is now trash */
    CHECK_EQ(died(1), 1);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(died(2) + died(3), 2);

    /* Old trash, young referent. */
    node_t *o1 = node_new(t, 10), *o2 = node_new(t, 11);
    node_set_a(o1, o2);
    node_set_a(o2, o1);
    rcy_gc_collect(rt, 1); /* -> generation 2 */
    node_t *yy = node_new(t, 12);
    node_set_b(o1, yy);
    rcy_decref(OB(yy));
    rcy_decref(OB(o1));
    rcy_decref(OB(o2));
    CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    CHECK_EQ(rcy_gc_collect(rt, 1), 0);
    CHECK_EQ(died(10) + died(11) + died(12), 0);
    CHECK_EQ(gen_of(rt, yy), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    CHECK_EQ(died(10) + died(11) + died(12), 3);

    /* Young trash, old referent. */
    node_t *k = node_new(t, 20);
    rcy_gc_collect(rt, 2);
    node_t *t1 = node_new(t, 21), *t2 = node_new(t, 22);
    node_set_a(t1, t2);
    node_set_a(t2, t1);
    node_set_b(t1, k);
    rcy_decref(OB(t1));
    rcy_decref(OB(t2));
    CHECK_EQ(rcy_getrefcount(OB(k)), 2);
    CHECK_EQ(rcy_gc_collect(rt, 0), 2);
    CHECK_EQ(died(21) + died(22), 2);
    CHECK_EQ(died(20), 0);
    CHECK_EQ(rcy_getrefcount(OB(k)), 1);
    CHECK_EQ(gen_of(rt, k), 2);
    CHECK_EQ(k->value, 20);
    rcy_decref(OB(k));
    test_runtime_end(rt);
}

int main(void)
{
    if (HARNESS_GC_STRESS)
        fprintf(stderr, "GC-stress build detected: every container allocation collects\n");
    RUN(test_enable_disable);
    RUN(test_collect_return_values);
    RUN(test_collect_generations);
    RUN(test_get_count);
    RUN(test_get_count_free_lists);
    RUN(test_garbage_clear_order);
    RUN(test_thresholds);
    RUN(test_threshold_zero_disables);
    RUN(test_automatic_collection_default_thresholds);
    RUN(test_indirect_calls_with_gc_disabled);
    RUN(test_disabled_cycle_leaks_until_collect);
    RUN(test_counter_walkthrough);
    RUN(test_long_lived_rule);
    RUN(test_debug_flags);
    RUN(test_gc_debug_environment);
    RUN(test_debug_stats_output);
    RUN(test_legacy_reachable_uncollectable);
    RUN(test_legacy_finalizer);
    RUN(test_saveall);
    RUN(test_garbage_at_shutdown);
    RUN(test_get_objects);
    RUN(test_get_referents);
    RUN(test_get_referrers);
    RUN(test_is_tracked);
    RUN(test_is_finalized);
    RUN(test_freeze);
    RUN(test_generation1_order_under_hints);
    RUN(test_get_stats);
    RUN(test_callbacks);
    RUN(test_callback_collect_garbage);
    RUN(test_callback_error);
    RUN(test_callback_remove);
    RUN(test_collections_never_nest);
    RUN(test_seeds_six_nodes);
    RUN(test_older_generation_referrers);
    return harness_summary();
}
