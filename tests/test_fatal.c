/* Heap corruption is caught and reported with the object's type name and
   address, and then the process aborts, in release builds too: a decref
   that takes a count below zero, a decref of a freed object (with
   poisoning on, which also keeps the freed memory in quarantine so that
   AddressSanitizer does not see a use-after-free first), a finalizer that
   releases a reference it does not own, and a traverse that reports more
   references than the reference count.

   Each case runs in a forked child (fatal_child.h) whose output (through
   the default stderr hook, redirected, or through a custom hook) goes to a
   pipe. The child first writes the line "ADDR <%p of the object>" to the
   same pipe; the parent checks that the child died of SIGABRT and that the
   message names "<Type ADDR>". test_freed.c covers freed objects of every
   kind, poisoning on and off. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "fatal_child.h"
#include "node.h"

/* ---- The cases (each runs in the child) ------------------------------- */

/* A non-container whose dealloc slot releases the object itself: the count
   is 0 while dealloc runs, so that decref takes it below zero, on an object
   that is not freed yet. */
static void selfish_dealloc(rcy_object_t *self) { rcy_decref(self); }

static void case_below_zero(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 0);
    rcy_type_spec_t spec = {0};
    spec.name = "Selfish";
    spec.basicsize = sizeof(rcy_object_t);
    spec.dealloc = selfish_dealloc;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    rcy_object_t *o = rcy_new(t);
    announce(o);
    rcy_decref(o); /* count 1 -> 0: dealloc, which decrefs again */
}

TEST(test_decref_below_zero)
{
    result_t res;
    run_child(case_below_zero, HOOK_STDERR, &res);
    check_fatal(&res, "Selfish", "decref took the reference count below zero");
    run_child(case_below_zero, HOOK_PIPE, &res);
    check_fatal(&res, "Selfish", "decref took the reference count below zero");
}

/* Creates an object, frees it and releases it once more. Poisoning is
   forced on, so this is caught in release builds too. */
static void case_double_decref(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_type_t *t = node_type_new(rt, "Victim");
    node_t *n = node_new(t, 1);
    announce(n);
    rcy_decref(OB(n)); /* frees it */
    if (rcy_runtime_live_objects(rt) != 0)
        _exit(4);
    rcy_decref(OB(n)); /* the bug */
}

/* The same with a non-container, and with a freed object reached through a
   stale pointer held by a container (a missing incref). */
static void case_missing_incref(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_type_spec_t spec = {0};
    spec.name = "Leaf";
    spec.basicsize = sizeof(rcy_object_t) + 16;
    rcy_type_t *leaf_type = rcy_type_new(rt, &spec);
    rcy_type_t *node_type = node_type_new(rt, "Holder");
    rcy_object_t *leaf = rcy_new(leaf_type);
    node_t *holder = node_new(node_type, 0);
    holder->a = leaf; /* the bug: stored without rcy_incref */
    announce(leaf);
    rcy_decref(leaf);         /* frees the leaf: holder->a dangles */
    rcy_decref(OB(holder));   /* its clear releases the freed leaf */
}

TEST(test_decref_of_freed_object)
{
    result_t res;
    run_child(case_double_decref, HOOK_STDERR, &res);
    check_fatal(&res, "Victim", "decref of a freed object");
    run_child(case_double_decref, HOOK_PIPE, &res);
    check_fatal(&res, "Victim", "decref of a freed object");
    run_child(case_missing_incref, HOOK_PIPE, &res);
    check_fatal(&res, "Leaf", "decref of a freed object");
}

/* A container whose finalizer releases the object itself: the finalizer
   runs with a temporary reference, its decref frees the object, and the
   runtime notices after the finalizer returns. Needs poisoning, which
   keeps the freed object readable and in quarantine. */
static int selfish_finalize(rcy_object_t *self)
{
    rcy_decref(self);
    return 0;
}

static void case_finalizer_overrelease(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_type_spec_t spec = {0};
    spec.name = "Finicky";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.finalize = selfish_finalize;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    rcy_object_t *o = rcy_new(t);
    announce(o);
    rcy_decref(o);
}

TEST(test_finalizer_releases_what_it_does_not_own)
{
    result_t res;
    run_child(case_finalizer_overrelease, HOOK_PIPE, &res);
    check_fatal(&res, "Finicky", "the finalizer released a reference it did not own");
}

/* A container whose traverse visits its one child twice while holding a
   single reference to it: the collector's subtract_refs would take the
   child's gc_refs below zero. */
static int twice_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    node_t *n = (node_t *)self;
    RCY_VISIT(n->a);
    RCY_VISIT(n->a); /* the bug: one reference, reported twice */
    return 0;
}

static void case_traverse_too_many(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 0);
    rcy_type_spec_t spec = {0};
    spec.name = "Stutter";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = twice_traverse;
    spec.clear = node_clear;
    rcy_type_t *stutter = rcy_type_new(rt, &spec);
    rcy_type_t *node_type = node_type_new(rt, "Child");
    node_t *parent = (node_t *)rcy_new(stutter);
    node_t *child = node_new(node_type, 0);
    node_set_a(parent, child);
    rcy_decref(OB(child)); /* the parent holds the only reference */
    announce(child);
    rcy_gc_collect(rt, 2);
}

TEST(test_traverse_reports_too_many)
{
    result_t res;
    run_child(case_traverse_too_many, HOOK_STDERR, &res);
    check_fatal(&res, "Child", "traverse reports more references");
    run_child(case_traverse_too_many, HOOK_PIPE, &res);
    check_fatal(&res, "Child", "traverse reports more references");
}

/* The checks do not fire on correct code: the same shapes without the bugs
   run to completion in a child, which exits normally. */
static void case_correct(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_type_t *t = node_type_new(rt, "Fine");
    node_t *parent = node_new(t, 0), *child = node_new(t, 1);
    node_set_a(parent, child);
    node_set_b(parent, child); /* two references, two visits: fine */
    rcy_decref(OB(child));
    rcy_gc_collect(rt, 2);
    rcy_decref(OB(parent));
    size_t live = rcy_runtime_live_objects(rt);
    rcy_runtime_destroy(rt);
    _exit(live == 0 ? 0 : 5);
}

TEST(test_no_false_alarm)
{
    result_t res;
    run_child(case_correct, HOOK_PIPE, &res);
    CHECK(WIFEXITED(res.status));
    CHECK_EQ(WEXITSTATUS(res.status), 0);
    CHECK(strstr(res.out, "fatal") == NULL);
}

/* A legacy finalizer that releases the object itself (the same bug as
   case_finalizer_overrelease, in the legacy slot). */
static void case_legacy_overrelease(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_type_spec_t spec = {0};
    spec.name = "OldStyle";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.legacy_del = selfish_finalize;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    rcy_object_t *o = rcy_new(t);
    announce(o);
    rcy_decref(o);
}

TEST(test_legacy_finalizer_releases_what_it_does_not_own)
{
    result_t res;
    run_child(case_legacy_overrelease, HOOK_PIPE, &res);
    check_fatal(&res, "OldStyle", "the legacy finalizer released a reference it did not own");
}

/* A dealloc slot that tracks its object again: the object is freed while
   the collector still lists it, and the next collection meets it first
   (it is alone in generation 0). Needs poisoning, which keeps the freed
   object recognisable. */
static void zombie_dealloc(rcy_object_t *self)
{
    node_clear(self);
    rcy_gc_track(self); /* the bug */
}

static void case_freed_but_tracked(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_type_spec_t spec = {0};
    spec.name = "Zombie";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = zombie_dealloc;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    rcy_gc_collect(rt, 2); /* generation 0 empty */
    rcy_object_t *o = rcy_new(t);
    announce(o);
    rcy_decref(o);
    rcy_gc_collect(rt, 0);
}

/* A container holding a stale pointer to a freed container (a missing
   incref), met by a young collection and by a full one: the freed object
   is in no generation, only the traverse reaches it. */
static int traverse_gen = 0;
static void case_traverse_reaches_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, 1);
    rcy_gc_disable(rt); /* the holder stays in generation 0 (GC-stress build too) */
    rcy_type_t *t = node_type_new(rt, "Holder");
    rcy_type_t *u = node_type_new(rt, "Gone");
    node_t *holder = node_new(t, 0);
    node_t *gone = node_new(u, 1);
    holder->a = OB(gone); /* the bug: stored without rcy_incref */
    announce(gone);
    rcy_decref(OB(gone));
    rcy_gc_collect(rt, traverse_gen);
}

TEST(test_traverse_reaches_freed_object)
{
    result_t res;
    for (traverse_gen = 0; traverse_gen <= 2; traverse_gen += 2) { /* young, and full */
        run_child(case_traverse_reaches_freed, HOOK_PIPE, &res);
        check_fatal(&res, "Gone", "traverse reports a freed object");
    }
}

TEST(test_freed_object_still_tracked)
{
    result_t res;
    run_child(case_freed_but_tracked, HOOK_STDERR, &res);
    check_fatal(&res, "Zombie", "a freed object is still tracked by the collector");
}

int main(void)
{
    RUN(test_decref_below_zero);
    RUN(test_decref_of_freed_object);
    RUN(test_finalizer_releases_what_it_does_not_own);
    RUN(test_legacy_finalizer_releases_what_it_does_not_own);
    RUN(test_traverse_reports_too_many);
    RUN(test_freed_object_still_tracked);
    RUN(test_traverse_reaches_freed_object);
    RUN(test_no_false_alarm);
    return harness_summary();
}
