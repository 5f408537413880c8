/* Heap validation: rcy_gc_validate on healthy heaps of every kind of
   object (it reports nothing and changes nothing), its refusal while a
   collection runs, and the inconsistencies it reports through the output
   hook, naming the object, without aborting: a traverse reporting a
   reference twice, an extra decref, a traverse reaching a freed object or
   an object of another runtime, a freed object left tracked. And the
   library's debug level 3, which validates the whole heap before every
   collection and at teardown (RCY_TEST_DEBUG_LEVEL: tests/CMakeLists.txt). */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RCY_TEST_DEBUG_LEVEL
#define RCY_TEST_DEBUG_LEVEL 0
#endif

/* "<Type ADDR>" as the library prints it. */
static void object_text(char *buf, size_t size, const char *type_name, const void *o)
{
    snprintf(buf, size, "<%s %p>", type_name, o);
}

/* ---- A healthy heap ----------------------------------------------------- */

static rcy_runtime_t *probe_rt;
static int probe_failures;
static int probe_calls;

/* A node whose deallocation validates the heap: in a long chain, the
   deeper deallocations are deferred on the trash list meanwhile. */
static void probe_dealloc(rcy_object_t *self)
{
    probe_calls++;
    if (rcy_gc_validate(probe_rt) != 0)
        probe_failures++;
    node_clear(self);
}

static int weakref_callback(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (*(int *)arg)++;
    return 0;
}

TEST(test_healthy_heap_validates)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_t *nt = node_type_new(rt, "Node");
    CHECK_EQ(rcy_gc_validate(rt), 0);

    /* Built-in containers (lists and tuples take the collector's
       shortcut), atoms, a dict, class instances in a cycle, node cycles. */
    rcy_object_t *list = rcy_list_new(rt);
    for (int i = 0; i < 50; i++) {
        rcy_object_t *n = rcy_int_new(rt, i * 1000003);
        rcy_object_t *s = rcy_str_new(rt, "item");
        rcy_object_t *pair[2] = {n, s};
        rcy_object_t *t = rcy_tuple_new(rt, 2, pair);
        CHECK_EQ(rcy_list_append(list, t), 0);
        rcy_decref(t);
        rcy_decref(s);
        rcy_decref(n);
    }
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *key = rcy_str_new(rt, "list");
    CHECK_EQ(rcy_dict_set(d, key, list), 0);
    rcy_object_t *cls = rcy_class_new(rt, "Thing", NULL);
    rcy_object_t *x = rcy_instance_new(cls);
    rcy_object_t *y = rcy_instance_new(cls);
    CHECK_EQ(rcy_setattr(x, "peer", y), 0);
    CHECK_EQ(rcy_setattr(y, "peer", x), 0);
    CHECK_EQ(rcy_setattr(x, "dict", d), 0);
    node_t *a = node_new(nt, 1), *b = node_new(nt, 2);
    node_set_a(a, b);
    node_set_a(b, a);
    node_set_b(a, list);
    int called = 0;
    rcy_object_t *wr = rcy_weakref_new(x, weakref_callback, &called);
    CHECK(wr != NULL);
    CHECK_EQ(rcy_gc_validate(rt), 0);

    /* Survivors in every generation, a frozen part. */
    rcy_gc_collect(rt, 0);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_gc_collect(rt, 1);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_gc_freeze(rt), 0);
    node_t *young = node_new(nt, 3);
    node_set_a(young, a);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    CHECK_EQ(rcy_gc_unfreeze(rt), 0);

    /* Garbage kept with DEBUG_SAVEALL. */
    rcy_gc_set_debug(rt, RCY_DEBUG_SAVEALL);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    rcy_decref(OB(young));
    CHECK_EQ(rcy_gc_collect(rt, 2), 2); /* a and b; young died by refcount */
    CHECK_EQ(rcy_gc_garbage_len(rt), 2);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_gc_set_debug(rt, 0);
    rcy_gc_garbage_clear(rt);
    CHECK_EQ(rcy_gc_validate(rt), 0);

    /* A chain deeper than the trashcan's limit whose deallocations validate
       the heap while later ones wait on the trash list. */
    rcy_type_spec_t spec = {0};
    spec.name = "Probe";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = probe_dealloc;
    rcy_type_t *pt = rcy_type_new(rt, &spec);
    probe_rt = rt;
    probe_failures = probe_calls = 0;
    node_t *head = node_new(pt, 0);
    node_t *tail = head;
    for (int i = 1; i < 200; i++) {
        node_t *next = node_new(pt, i);
        node_set_a(tail, next);
        rcy_decref(OB(next));
        tail = next;
    }
    rcy_decref(OB(head));
    CHECK_EQ(probe_calls, 200);
    CHECK_EQ(probe_failures, 0);
    /* The same with objects that are not containers: the trash list runs
       through their count fields, as tagged links. Each link also holds a
       leaf, so that several deferred objects wait at once. */
    rcy_type_spec_t aspec = {0};
    aspec.name = "AtomProbe";
    aspec.basicsize = sizeof(node_t);
    aspec.dealloc = probe_dealloc;
    rcy_type_t *at = rcy_type_new(rt, &aspec);
    probe_failures = probe_calls = 0;
    head = node_new(at, 0);
    tail = head;
    for (int i = 1; i < 200; i++) {
        node_t *next = node_new(at, i), *leaf = node_new(at, -i);
        node_set_a(tail, next);
        node_set_b(tail, leaf);
        rcy_decref(OB(next));
        rcy_decref(OB(leaf));
        tail = next;
    }
    rcy_decref(OB(head));
    CHECK_EQ(probe_calls, 399);
    CHECK_EQ(probe_failures, 0);

    rcy_decref(x);
    rcy_decref(y);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(called, 1);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_decref(wr);
    rcy_decref(cls);
    rcy_decref(key);
    rcy_decref(d);
    rcy_decref(list);
    /* Validation printed nothing. */
    CHECK_EQ(cap.len, 0);
    test_runtime_end(rt);
    capture_free(&cap);
}

/* Immortal heap objects live until teardown (so this runtime cannot end
   with zero live objects). */
/* A finalizer that validates the heap, run while teardown releases the
   immortal objects (they hold a huge mortal count then). */
static rcy_runtime_t *checker_rt;
static int checker_results[4], checker_calls;

static int checker_finalize(rcy_object_t *self)
{
    (void)self;
    if (checker_calls < 4)
        checker_results[checker_calls] = rcy_gc_validate(checker_rt);
    checker_calls++;
    return 0;
}

TEST(test_heap_validates_while_immortals_are_released)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Checker";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.finalize = checker_finalize;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    checker_rt = rt;
    checker_calls = 0;
    rcy_object_t *forever = rcy_list_new(rt);
    node_t *c = node_new(t, 1);
    CHECK_EQ(rcy_list_append(forever, OB(c)), 0);
    rcy_decref(OB(c));
    CHECK_EQ(rcy_immortalize(forever), 0);
    rcy_runtime_destroy(rt); /* the list's release frees c: its finalizer validates */
    CHECK_EQ(checker_calls, 1);
    CHECK_EQ(checker_results[0], 0);
}

TEST(test_heap_with_immortals_validates)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_object_t *forever = rcy_list_new(rt);
    rcy_object_t *s = rcy_str_new(rt, "kept");
    CHECK_EQ(rcy_list_append(forever, s), 0);
    /* s first: teardown releases them newest first, the list before s. */
    CHECK_EQ(rcy_immortalize(s), 0);
    CHECK_EQ(rcy_immortalize(forever), 0);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    CHECK_EQ(cap.len, 0);
    rcy_runtime_destroy(rt);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    capture_free(&cap);
}

TEST(test_validate_arguments)
{
    CHECK_EQ(rcy_gc_validate(NULL), RCY_EINVAL);
    CHECK_STR_CONTAINS(rcy_strerror(RCY_ECORRUPT), "heap validation found an inconsistency");
    CHECK(RCY_ECORRUPT != RCY_EDEPTH && RCY_ECORRUPT < 0);
}

/* ---- Refused while a collection runs ------------------------------------ */

static int seen_start = 1, seen_stop = 1;

static int validating_callback(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)info;
    (void)arg;
    int r = rcy_gc_validate(rt);
    if (phase == RCY_GC_START)
        seen_start = r;
    else
        seen_stop = r;
    return 0;
}

static int finalizer_result = 1;
static rcy_runtime_t *finalizer_rt;

static int validating_finalizer(rcy_object_t *self)
{
    (void)self;
    finalizer_result = rcy_gc_validate(finalizer_rt);
    return 0;
}

TEST(test_validate_refused_during_collection)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_gc_callback_add(rt, validating_callback, NULL), 0);
    rcy_gc_collect(rt, 0);
    CHECK_EQ(seen_start, RCY_ESTATE);
    CHECK_EQ(seen_stop, RCY_ESTATE);
    /* The callbacks' failures stayed inside them: the pending error is
       restored around every callback (rcy_last_error). */
    CHECK_EQ(rcy_last_error(rt), 0);
    CHECK_EQ(rcy_gc_callback_remove(rt, validating_callback, NULL), 0);

    rcy_type_spec_t spec = {0};
    spec.name = "Finalized";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.finalize = validating_finalizer;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    finalizer_rt = rt;

    /* A finalizer run by a collection: refused. */
    node_t *a = node_new(t, 1);
    node_set_a(a, a);
    rcy_decref(OB(a));
    finalizer_result = 1;
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(finalizer_result, RCY_ESTATE);

    /* The same finalizer on a refcount death, outside any collection. */
    rcy_gc_disable(rt); /* the GC-stress build too */
    finalizer_result = 1;
    rcy_decref(OB(node_new(t, 2)));
    CHECK_EQ(finalizer_result, 0);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    test_runtime_end(rt);
}

/* ---- Inconsistencies reported ------------------------------------------- */

/* A node whose traverse reports its `a` reference twice while twice_on. */
static int twice_on;

static int twice_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    node_t *n = (node_t *)self;
    RCY_VISIT(n->a);
    if (twice_on)
        RCY_VISIT(n->a);
    RCY_VISIT(n->b);
    return 0;
}

TEST(test_traverse_reporting_twice_is_reported)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_spec_t spec = {0};
    spec.name = "Twice";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = twice_traverse;
    spec.clear = node_clear;
    rcy_type_t *tt = rcy_type_new(rt, &spec);
    rcy_type_t *nt = node_type_new(rt, "Target");
    node_t *holder = node_new(tt, 0);
    node_t *target = node_new(nt, 1);
    node_set_a(holder, target);
    rcy_decref(OB(target)); /* the holder's is its only reference */
    CHECK_EQ(rcy_gc_validate(rt), 0);

    twice_on = 1; /* the bug; nothing allocates until it is undone */
    CHECK_EQ(rcy_gc_validate(rt), RCY_ECORRUPT);
    CHECK_EQ(rcy_last_error(rt), RCY_ECORRUPT);
    twice_on = 0;
    char expected[160], by[160];
    object_text(expected, sizeof expected, "Target", target);
    object_text(by, sizeof by, "Twice", holder);
    CHECK_STR_CONTAINS(cap.text, "recycle: heap validation: traverse reports more references to this object "
                                 "than its reference count");
    CHECK_STR_CONTAINS(cap.text, expected);
    CHECK_STR_CONTAINS(cap.text, by);
    CHECK(strstr(cap.text, "fatal") == NULL);

    /* The heap was left as it was: it validates, and collects. */
    capture_reset(&cap);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(rcy_getrefcount(OB(target)), 1);
    rcy_decref(OB(holder));
    CHECK_EQ(cap.len, 0);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(test_extra_decref_is_reported)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_t *nt = node_type_new(rt, "Node");
    rcy_type_t *xt = node_type_new(rt, "Shared");
    node_t *h1 = node_new(nt, 1), *h2 = node_new(nt, 2);
    node_t *x = node_new(xt, 3);
    node_set_a(h1, x);
    node_set_a(h2, x);
    rcy_decref(OB(x)); /* held by h1 and h2 */
    rcy_gc_collect(rt, 2); /* all three in the oldest generation */

    rcy_decref(OB(x)); /* the bug: one decref too many, the count is 1 */
    CHECK_EQ(rcy_gc_validate(rt), RCY_ECORRUPT);
    char expected[160];
    object_text(expected, sizeof expected, "Shared", x);
    CHECK_STR_CONTAINS(cap.text, "refcount is too small");
    CHECK_STR_CONTAINS(cap.text, expected);
    /* A young collection does not look at the oldest generation. */
    if (RCY_TEST_DEBUG_LEVEL < 3)
        CHECK_EQ(rcy_gc_collect(rt, 0), 0);
    rcy_incref(OB(x)); /* undone */
    capture_reset(&cap);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_decref(OB(h1));
    rcy_decref(OB(h2));
    CHECK_EQ(cap.len, 0);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(test_freed_object_reached_by_traverse_is_reported)
{
    capture_t cap = {0};
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = capture_output;
    cfg.output_arg = &cap;
    cfg.poison = 1; /* the freed leaf stays recognisable, in quarantine */
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    rcy_type_spec_t spec = {0};
    spec.name = "Leaf";
    spec.basicsize = sizeof(rcy_object_t) + 16;
    rcy_type_t *lt = rcy_type_new(rt, &spec);
    rcy_type_t *ht = node_type_new(rt, "Holder");
    rcy_object_t *leaf = rcy_new(lt);
    node_t *holder = node_new(ht, 0);
    holder->a = leaf; /* the bug: stored without rcy_incref */
    rcy_decref(leaf); /* freed */
    CHECK_EQ(rcy_gc_validate(rt), RCY_ECORRUPT);
    char expected[160], by[160];
    object_text(expected, sizeof expected, "Leaf", leaf);
    object_text(by, sizeof by, "Holder", holder);
    CHECK_STR_CONTAINS(cap.text, "recycle: heap validation: traverse reports a freed object (a missing incref)");
    CHECK_STR_CONTAINS(cap.text, expected);
    CHECK_STR_CONTAINS(cap.text, by);
    holder->a = NULL; /* undone */
    capture_reset(&cap);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_decref(OB(holder));
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(test_object_of_another_runtime_is_reported)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_runtime_t *other = test_runtime(NULL);
    rcy_type_t *ht = node_type_new(rt, "Holder");
    rcy_type_t *ft = node_type_new(other, "Foreign");
    node_t *holder = node_new(ht, 0);
    node_t *foreign = node_new(ft, 1);
    holder->a = OB(foreign); /* the bug: a reference across runtimes */
    CHECK_EQ(rcy_gc_validate(rt), RCY_ECORRUPT);
    char expected[160];
    snprintf(expected, sizeof expected, "<? %p>", (void *)foreign);
    CHECK_STR_CONTAINS(cap.text, "traverse reports an object that is not of this runtime");
    CHECK_STR_CONTAINS(cap.text, expected);
    CHECK_EQ(rcy_gc_validate(other), 0);
    holder->a = NULL; /* undone */
    capture_reset(&cap);
    CHECK_EQ(rcy_gc_validate(rt), 0);
    rcy_decref(OB(holder));
    rcy_decref(OB(foreign));
    test_runtime_end(other);
    test_runtime_end(rt);
    capture_free(&cap);
}

/* ---- RCY_POISON ------------------------------------------------------------ */

/* Whether a runtime made with poison = cfg_poison under RCY_POISON = env
   (NULL: unset) has free lists, which exist only in runtimes that do not
   poison (and in builds that have them). */
static int freelists_with(const char *env, int cfg_poison)
{
    if (env != NULL)
        setenv("RCY_POISON", env, 1);
    else
        unsetenv("RCY_POISON");
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = cfg_poison;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    int r = rcy_freelists_enabled(rt);
    rcy_runtime_destroy(rt);
    return r;
}

/* RCY_POISON=0 or 1 decides poisoning when the configuration leaves it to
   the build (-1); an explicit configuration wins; other values are
   ignored. Observable through the free lists, in builds that have them
   (not the sanitizer builds). */
TEST(test_poison_environment_override)
{
    const char *saved = getenv("RCY_POISON");
    char copy[16] = "";
    if (saved != NULL)
        snprintf(copy, sizeof copy, "%s", saved);
    if (freelists_with(NULL, 0)) { /* free lists compiled in */
        CHECK_EQ(freelists_with("1", -1), 0);
        CHECK_EQ(freelists_with("0", -1), 1);
        CHECK_EQ(freelists_with("1", 0), 1);
        CHECK_EQ(freelists_with("0", 1), 0);
        int build_default = freelists_with(NULL, -1);
        CHECK_EQ(build_default, RCY_TEST_DEBUG_LEVEL >= 1 ? 0 : 1);
        CHECK_EQ(freelists_with("yes", -1), build_default);
        CHECK_EQ(freelists_with("", -1), build_default);
    } else {
        CHECK_EQ(freelists_with("0", -1), 0);
    }
    if (saved != NULL)
        setenv("RCY_POISON", copy, 1);
    else
        unsetenv("RCY_POISON");
}

/* ---- Cases that leave the heap corrupt, in a child ----------------------- */

typedef struct child_result_s {
    int status;
    char out[8192];
} child_result_t;

static int child_fd = -1;

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void pipe_output(void *arg, const char *text)
{
    (void)arg;
    write_all(child_fd, text, strlen(text));
}

static rcy_runtime_t *child_runtime(void)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = pipe_output;
    cfg.poison = 1;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL)
        _exit(3);
    return rt;
}

/* Writes "WORD <p>\n" to the parent. */
static void child_say(const char *word, const void *p)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%s %p\n", word, p);
    write_all(child_fd, line, (size_t)n);
}

/* Forks and runs fn in the child, collecting what it writes and how it
   ended (it prints "DONE" if fn returns). */
static void run_child(void (*fn)(void), child_result_t *res)
{
    int fds[2];
    memset(res, 0, sizeof *res);
    if (pipe(fds) != 0)
        exit(2);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        exit(2);
    if (pid == 0) {
        close(fds[0]);
        child_fd = fds[1];
        dup2(fds[1], STDERR_FILENO);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        fn();
        write_all(child_fd, "DONE\n", 5);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fds[0], res->out + len, sizeof res->out - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == sizeof res->out - 1)
            break;
    }
    res->out[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &res->status, 0) < 0) {
    }
    if (getenv("RCY_TEST_VERBOSE") != NULL)
        fprintf(stderr, "child output:\n%s", res->out);
}

static void zombie_dealloc(rcy_object_t *self)
{
    node_clear(self);
    rcy_gc_track(self); /* the bug: the object is freed while tracked */
}

static void case_freed_but_tracked(void)
{
    rcy_runtime_t *rt = child_runtime();
    rcy_gc_disable(rt);
    rcy_type_spec_t spec = {0};
    spec.name = "Zombie";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = zombie_dealloc;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    rcy_object_t *o = rcy_new(t);
    child_say("ADDR", o);
    rcy_decref(o);
    child_say("RESULT", (void *)(intptr_t)rcy_gc_validate(rt));
    /* The runtime is left as it is: it is corrupt. */
}

TEST(test_freed_object_still_tracked_is_reported)
{
    child_result_t res;
    run_child(case_freed_but_tracked, &res);
    CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
    char addr[32] = "", expected[160], result[64];
    const char *a = strstr(res.out, "ADDR ");
    CHECK(a != NULL && sscanf(a, "ADDR %31s", addr) == 1);
    snprintf(expected, sizeof expected, "recycle: heap validation: a freed object is still tracked by the collector: "
                                         "object <Zombie %s>", addr);
    CHECK_STR_CONTAINS(res.out, expected);
    snprintf(result, sizeof result, "RESULT %p", (void *)(intptr_t)RCY_ECORRUPT);
    CHECK_STR_CONTAINS(res.out, result);
    CHECK_STR_CONTAINS(res.out, "DONE");
}

/* An extra decref in the oldest generation, then a young collection or a
   teardown. */
static int corrupt_then_destroy;

static void case_corrupt_old_generation(void)
{
    rcy_runtime_t *rt = child_runtime();
    rcy_type_t *nt = node_type_new(rt, "Node");
    rcy_type_t *xt = node_type_new(rt, "Shared");
    node_t *h1 = node_new(nt, 1), *h2 = node_new(nt, 2);
    node_t *x = node_new(xt, 3);
    node_set_a(h1, x);
    node_set_a(h2, x);
    rcy_decref(OB(x));
    rcy_gc_collect(rt, 2);
    child_say("ADDR", x);
    rcy_decref(OB(x)); /* the bug */
    if (corrupt_then_destroy)
        rcy_runtime_destroy(rt);
    else
        rcy_gc_collect(rt, 0);
}

TEST(test_debug_level_3_validates_every_collection)
{
    child_result_t res;
    for (corrupt_then_destroy = 0; corrupt_then_destroy <= 1; corrupt_then_destroy++) {
        run_child(case_corrupt_old_generation, &res);
        char addr[32] = "", expected[160];
        const char *a = strstr(res.out, "ADDR ");
        CHECK(a != NULL && sscanf(a, "ADDR %31s", addr) == 1);
        snprintf(expected, sizeof expected, "<Shared %s>", addr);
        if (RCY_TEST_DEBUG_LEVEL >= 3) {
            /* Found before the collection (or teardown) starts. */
            CHECK(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGABRT);
            CHECK_STR_CONTAINS(res.out, corrupt_then_destroy ? "recycle: fatal error: heap validation at teardown: "
                                                             : "recycle: fatal error: heap validation before a "
                                                               "collection: ");
            CHECK_STR_CONTAINS(res.out, "refcount is too small");
            CHECK_STR_CONTAINS(res.out, expected);
        } else if (corrupt_then_destroy) {
            /* Teardown's full collection finds it. */
            CHECK(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGABRT);
            CHECK_STR_CONTAINS(res.out, "refcount is too small");
            CHECK_STR_CONTAINS(res.out, expected);
        } else {
            /* A young collection does not look at the oldest generation. */
            CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
            CHECK_STR_CONTAINS(res.out, "DONE");
            CHECK(strstr(res.out, "fatal") == NULL);
        }
    }
}

int main(void)
{
    RUN(test_healthy_heap_validates);
    RUN(test_heap_with_immortals_validates);
    RUN(test_heap_validates_while_immortals_are_released);
    RUN(test_validate_arguments);
    RUN(test_validate_refused_during_collection);
    RUN(test_traverse_reporting_twice_is_reported);
    RUN(test_extra_decref_is_reported);
    RUN(test_freed_object_reached_by_traverse_is_reported);
    RUN(test_object_of_another_runtime_is_reported);
    RUN(test_poison_environment_override);
    RUN(test_freed_object_still_tracked_is_reported);
    RUN(test_debug_level_3_validates_every_collection);
    return harness_summary();
}
