/*
 * Regressions found by the fuzz target (fuzz/fuzz_graph.c), one test per
 * bug, each reduced to the smallest program that showed it. The comment
 * above each test says what was wrong.
 */
#include "harness.h"

#include <stddef.h>

/* A container with one reference slot, a weak-reference list, and slots
   whose behaviour the test chooses through function pointers. */
typedef struct rnode_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *b;
    rcy_object_t *weaklist;
} rnode_t;

static int rnode_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((rnode_t *)self)->a);
    RCY_VISIT(((rnode_t *)self)->b);
    return 0;
}

static int rnode_clear(rcy_object_t *self)
{
    RCY_CLEAR(((rnode_t *)self)->a);
    RCY_CLEAR(((rnode_t *)self)->b);
    return 0;
}

static int deallocs;
static void rnode_dealloc(rcy_object_t *self)
{
    deallocs++;
    rnode_clear(self);
}

static rcy_type_t *rnode_type(rcy_runtime_t *rt, const char *name, rcy_finalize_fn finalize,
                              rcy_finalize_fn legacy_del)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(rnode_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = rnode_traverse;
    spec.clear = rnode_clear;
    spec.dealloc = rnode_dealloc;
    spec.finalize = finalize;
    spec.legacy_del = legacy_del;
    spec.weaklistoffset = offsetof(rnode_t, weaklist);
    return rcy_type_new(rt, &spec);
}

static rcy_object_t *rnode_new(rcy_type_t *t, rcy_object_t *a)
{
    rnode_t *n = (rnode_t *)rcy_new(t);
    RCY_XSETREF(n->a, a);
    return &n->ob;
}

/* Makes a two-node cycle of type t and drops it (garbage). */
static void make_garbage_cycle(rcy_type_t *t)
{
    rcy_object_t *x = rnode_new(t, NULL);
    rcy_object_t *y = rnode_new(t, x);
    RCY_XSETREF(((rnode_t *)x)->a, y);
    rcy_decref(x);
    rcy_decref(y);
}

static int calls;
static int count_call(void *arg)
{
    (void)arg;
    calls++;
    return 0;
}

/* Bug: a finalize registration that a finalizer makes, during teardown's
   collections, for an object of the garbage being collected is cleared
   without its callback (GH-91636: no code may see that garbage) and was
   then left in the registry for good: teardown reported it as a leaked
   "weakref" object. Teardown now drops what the registry still holds
   after its last collection (CPython's finalize never runs in late
   shutdown either). */
static int register_on_self(rcy_object_t *self)
{
    rcy_object_t *f = rcy_finalize_register(self, count_call, NULL);
    CHECK(f != NULL);
    rcy_xdecref(f);
    return 0;
}

TEST(test_registration_made_during_teardown_is_not_a_leak)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_t *t = rnode_type(rt, "Registers", register_on_self, NULL);
    calls = 0;
    rcy_object_t *o = rnode_new(t, NULL);
    RCY_XSETREF(((rnode_t *)o)->a, o); /* a self-cycle, garbage at teardown */
    rcy_decref(o);
    rcy_runtime_destroy(rt);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    CHECK_EQ(calls, 0); /* cleared with its referent: it never runs */
    capture_free(&cap);

    /* The same during an ordinary collection: the registration stays
       registered (as CPython's does) and runs at exit. */
    rt = test_runtime(&cap);
    t = rnode_type(rt, "Registers", register_on_self, NULL);
    o = rnode_new(t, NULL);
    RCY_XSETREF(((rnode_t *)o)->a, o);
    rcy_decref(o);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(calls, 0);
    rcy_runtime_destroy(rt);
    CHECK_EQ(calls, 1);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
}

/* Bug: a weak reference that a legacy finalizer made to its own dying
   object (on refcount death, after the object's weak references had been
   cleared) was never cleared: once the object was freed it still answered
   "alive", and rcy_weakref_get returned freed memory. Such references are
   now cleared without callbacks after the legacy finalizer, as CPython's
   subtype_dealloc does. */
static rcy_object_t *late_wr;
static int late_callbacks;
static int late_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    late_callbacks++;
    return 0;
}

static int legacy_makes_weakref(rcy_object_t *self)
{
    late_wr = rcy_weakref_new(self, late_callback, NULL);
    CHECK(late_wr != NULL);
    return 0;
}

TEST(test_weakref_made_by_legacy_finalizer_is_cleared)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = rnode_type(rt, "LegacyWeak", NULL, legacy_makes_weakref);
    late_callbacks = 0;
    deallocs = 0;
    rcy_object_t *o = rnode_new(t, NULL);
    rcy_decref(o); /* the legacy finalizer runs, then o is freed */
    CHECK_EQ(deallocs, 1);
    CHECK(late_wr != NULL);
    CHECK(!rcy_weakref_is_alive(late_wr));
    CHECK(rcy_weakref_get(late_wr) == NULL);
    CHECK_EQ(late_callbacks, 0);
    rcy_decref(late_wr);
    late_wr = NULL;

    test_runtime_end(rt);
}

/* Bug: teardown collected until a collection found nothing. A collection
   whose garbage all dies by reference counting while its finalizers run
   (a finalizer breaks the cycle) finds nothing, yet those finalizers may
   have made new garbage: teardown stopped there and reported that
   garbage as leaked objects. It now goes on while a pass leaves new
   objects in generation 0. */
static rcy_type_t *plain_type, *breaker_type;
static int breaker_budget; /* breakers that still make a new breaker cycle */

/* A cycle x <-> y, where x's finalizer breaks it. */
static void make_breaker_cycle(void)
{
    rcy_object_t *x = rnode_new(breaker_type, NULL);
    rcy_object_t *y = rnode_new(plain_type, x);
    RCY_XSETREF(((rnode_t *)x)->a, y);
    rcy_decref(x);
    rcy_decref(y);
}

static int breaks_cycle_and_makes_garbage(rcy_object_t *self)
{
    if (breaker_budget > 0) {
        breaker_budget--;
        make_breaker_cycle();
    } else {
        make_garbage_cycle(plain_type);
    }
    RCY_CLEAR(((rnode_t *)self)->a); /* its peer dies by reference counting */
    return 0;
}

static void breaker_types(rcy_runtime_t *rt)
{
    plain_type = rnode_type(rt, "Plain", NULL, NULL);
    breaker_type = rnode_type(rt, "Breaker", breaks_cycle_and_makes_garbage, NULL);
}

TEST(test_teardown_collects_garbage_made_while_garbage_died)
{
    /* In an ordinary collection: it finds nothing left to clear (CPython
       counts the same way), and the new cycle waits for the next one. */
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_gc_disable(rt);
    breaker_types(rt);
    breaker_budget = 0;
    make_breaker_cycle();
    deallocs = 0;
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(deallocs, 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    test_runtime_end(rt);

    /* At teardown, where each breaker cycle makes the next one (teardown
       collects until quiet twice: before and after emptying garbage, so
       it takes three): all are freed, nothing is reported. */
    capture_t cap = {0};
    rt = test_runtime(&cap);
    breaker_types(rt);
    breaker_budget = 2;
    make_breaker_cycle();
    deallocs = 0;
    rcy_runtime_destroy(rt);
    CHECK_EQ(deallocs, 3 * 2 + 2);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
}

/* Bug (the same loop, found again by fuzzing): a pass whose garbage all
   died by refcount during its finalizers, and that made nothing new, may
   still have released the last outside reference to an old cycle (here a
   finalizer drops a C global). Teardown stopped there and reported that
   cycle as leaked; quiet now also means that the pass freed nothing. */
#define RELEASERS 3
static rcy_object_t *held[RELEASERS]; /* C globals holding old cycles */
static int next_release;

static int releases_next_and_breaks(rcy_object_t *self)
{
    if (next_release < RELEASERS) {
        int k = next_release++;
        RCY_CLEAR(held[k]);
    }
    RCY_CLEAR(((rnode_t *)self)->a); /* its own cycle dies by refcount */
    return 0;
}

/* x <-> y, x's finalizer releasing the next held cycle; returns x. */
static rcy_object_t *make_releaser(rcy_type_t *releaser, rcy_type_t *plain)
{
    rcy_object_t *x = rnode_new(releaser, NULL);
    rcy_object_t *y = rnode_new(plain, x);
    RCY_XSETREF(((rnode_t *)x)->a, y);
    rcy_decref(y);
    return x;
}

TEST(test_teardown_collects_cycles_released_while_garbage_died)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_t *plain = rnode_type(rt, "Plain", NULL, NULL);
    rcy_type_t *releaser = rnode_type(rt, "Releaser", releases_next_and_breaks, NULL);
    next_release = 0;
    for (int i = 0; i < RELEASERS; i++)
        held[i] = make_releaser(releaser, plain);
    rcy_gc_collect(rt, 2); /* they are old now */
    rcy_decref(make_releaser(releaser, plain)); /* garbage, which starts it */
    deallocs = 0;
    rcy_runtime_destroy(rt);
    CHECK_EQ(next_release, RELEASERS);
    CHECK_EQ(deallocs, 2 * (RELEASERS + 1));
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
}

/* Bug: teardown's last phase empties garbage and collects treating legacy
   finalizers as ordinary objects, but only in its own collections: a
   collection that user code ran in that phase (here the finalizer of an
   object garbage kept, running on refcount death when garbage is emptied)
   put new legacy cycles back into garbage, which was never emptied again,
   and teardown reported them as leaked. Every collection of that phase now
   clears legacy cycles. */
static rcy_type_t *legacy_type;
static int legacy_noop(rcy_object_t *self)
{
    (void)self;
    return 0;
}

static int makes_cycle_and_collects(rcy_object_t *self)
{
    make_garbage_cycle(legacy_type);
    rcy_gc_collect(rcy_object_runtime(self), 2);
    return 0;
}

TEST(test_collection_in_last_teardown_phase_keeps_no_legacy_cycle)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_gc_disable(rt);
    legacy_type = rnode_type(rt, "Legacy", NULL, legacy_noop);
    /* Kept by garbage for its legacy finalizer, so never finalized: its
       PEP 442 finalizer runs when garbage releases it. */
    rcy_type_t *trigger = rnode_type(rt, "Trigger", makes_cycle_and_collects, legacy_noop);
    deallocs = 0;
    /* A legacy self-cycle goes to garbage; then its cycle is broken
       (gc.garbage[0].a = None): garbage holds its only reference. */
    rcy_object_t *l = rnode_new(trigger, NULL);
    RCY_XSETREF(((rnode_t *)l)->a, l);
    rcy_decref(l);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(rcy_gc_garbage_len(rt), 1);
    CHECK(rcy_gc_garbage_get(rt, 0) == l);
    RCY_CLEAR(((rnode_t *)l)->a);
    CHECK_EQ(rcy_getrefcount(l), 1);
    CHECK_EQ(deallocs, 0);
    /* Teardown releases l: its finalizer makes a legacy cycle and
       collects; that cycle is freed as well. */
    rcy_runtime_destroy(rt);
    CHECK_EQ(deallocs, 3);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
}

/* Bug: teardown's last phase is documented to clear the cycles that
   legacy finalizers kept without calling those finalizers, but each
   object's legacy finalizer still ran on its refcount death, after its
   peers had been cleared (what keeping them was meant to prevent), and
   could resurrect it into a leak report. */
static int legacy_calls;
static int count_legacy(rcy_object_t *self)
{
    (void)self;
    legacy_calls++;
    return 0;
}

TEST(test_teardown_clears_legacy_cycles_without_their_finalizers)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_t *t = rnode_type(rt, "OldStyle", NULL, count_legacy);
    legacy_calls = 0;
    deallocs = 0;
    make_garbage_cycle(t);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_gc_garbage_len(rt), 2);
    rcy_runtime_destroy(rt);
    CHECK_EQ(legacy_calls, 0);
    CHECK_EQ(deallocs, 2);
    CHECK_STR_CONTAINS(cap.text, "gc: 2 uncollectable objects at shutdown");
    CHECK(strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);

    /* Before teardown, a legacy finalizer runs on every refcount death. */
    rt = test_runtime(NULL);
    t = rnode_type(rt, "OldStyle", NULL, count_legacy);
    rcy_object_t *o = rnode_new(t, NULL);
    rcy_decref(o);
    CHECK_EQ(legacy_calls, 1);
    test_runtime_end(rt);
}

/* Not a library bug (fuzz-crash-min15.bin of issue 12, fixed in the
   model): a collection that runs inside a deep deallocation, under the
   trashcan's limit, finds a garbage cycle whose finalizer registers a
   finalize callback on its peer. The peer is final garbage, so the
   registration is cleared without its callback (GH-91636: no code may see
   that garbage) before anything is cleared; clearing then releases the
   peer's last reference, deep enough that its deallocation is deferred to
   the trash, which drains after the collection. Its death must not call
   the callback either; the registration stays registered (as CPython's
   finalize stays in its registry) and runs at exit. */
static rcy_object_t *deep_registration;
static rcy_type_t *deep_collector_type;
static int registers_on_peer(rcy_object_t *self)
{
    rcy_object_t *peer = ((rnode_t *)self)->a;
    CHECK(peer != NULL && deep_registration == NULL);
    deep_registration = rcy_finalize_register(peer, count_call, NULL);
    CHECK(deep_registration != NULL);
    return 0;
}

static int collects_once(rcy_object_t *self)
{
    static int done;
    if (!done) {
        done = 1;
        CHECK_EQ(rcy_gc_collect(rcy_object_runtime(self), 2), 2);
        /* Only the 49 nodes above have begun their deallocation: a and b
           wait in the trash. */
        CHECK_EQ(deallocs, 49);
        CHECK_EQ(calls, 0);
        CHECK(!rcy_weakref_is_alive(deep_registration));
    }
    return 0;
}

TEST(test_registration_on_final_garbage_freed_through_the_trash)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_gc_disable(rt);
    rcy_type_t *plain = rnode_type(rt, "Plain", NULL, NULL);
    rcy_type_t *registers = rnode_type(rt, "Registers", registers_on_peer, NULL);
    deep_collector_type = rnode_type(rt, "Collector", collects_once, NULL);
    calls = 0;
    deallocs = 0;
    /* The garbage: a <-> b, a's finalizer registering on b. */
    rcy_object_t *b = rnode_new(plain, NULL);
    rcy_object_t *a = rnode_new(registers, b);
    RCY_XSETREF(((rnode_t *)b)->a, a);
    rcy_decref(a);
    rcy_decref(b);
    /* A chain of 70 nodes whose 50th collects in its finalizer: it dies
       49 deep, its finalizer is the 50th level, the trashcan's limit, so
       the collection runs there, and what dies in it is deferred. (The
       51st would be deferred itself, finalizer included, as in CPython,
       and collect from the drain.) */
    rcy_object_t *head = NULL;
    for (int i = 70; i >= 1; i--) {
        rcy_object_t *n = rnode_new(i == 50 ? deep_collector_type : plain, head);
        rcy_xdecref(head);
        head = n;
    }
    rcy_decref(head); /* the chain dies, collecting on the way */
    CHECK_EQ(deallocs, 70 + 2);
    CHECK_EQ(calls, 0);
    CHECK(deep_registration != NULL);
    CHECK(!rcy_weakref_is_alive(deep_registration));
    CHECK(rcy_finalize_alive(deep_registration));
    rcy_decref(deep_registration);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1); /* the registration, which the registry holds */
    rcy_runtime_destroy(rt);                   /* the registry runs it at exit */
    CHECK_EQ(calls, 1);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
    deep_registration = NULL;
}

/* Bug (fuzz_api): when the key of a weak-key map died, the callback that
   removes its entry released the entry's value while it held the map only
   as a borrowed pointer; a value that held the last reference to the map
   freed it, and the callback went on to delete from the freed map's dicts.
   The callback now holds the map, and removes the weak reference's entry
   before the value's, so that code run by the value's release sees the
   entry gone. */
TEST(test_weakkey_entry_whose_value_holds_the_map)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Key", NULL);
    rcy_object_t *key = rcy_instance_new(cls);
    rcy_object_t *map = rcy_weakkeydict_new(rt);
    rcy_object_t *value = rcy_list_new_from(rt, 1, &map); /* the value holds the map */
    CHECK_EQ(rcy_weakmap_set(map, key, value), 0);
    CHECK_EQ(rcy_weakmap_len(map), 1);
    rcy_decref(value);
    rcy_decref(map); /* the map lives through its own value: map -> value -> map */
    CHECK_EQ(rcy_getrefcount(map), 1);
    rcy_decref(key); /* the entry goes, its value with it, and the map with that */
    CHECK_EQ(rcy_census_count(rt, "weakmap"), 0);
    CHECK_EQ(rcy_census_count(rt, "list"), 0);
    rcy_decref(cls);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_registration_made_during_teardown_is_not_a_leak);
    RUN(test_weakref_made_by_legacy_finalizer_is_cleared);
    RUN(test_teardown_collects_garbage_made_while_garbage_died);
    RUN(test_teardown_collects_cycles_released_while_garbage_died);
    RUN(test_collection_in_last_teardown_phase_keeps_no_legacy_cycle);
    RUN(test_teardown_clears_legacy_cycles_without_their_finalizers);
    RUN(test_registration_on_final_garbage_freed_through_the_trash);
    RUN(test_weakkey_entry_whose_value_holds_the_map);
    return harness_summary();
}
