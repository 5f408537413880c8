/* Re-entrancy and runtime handles.

   rcy_runtime_destroy called from inside the runtime's own code (a
   finalizer, a weak-reference or finalize callback, a gc callback, a
   legacy finalizer, a traverse, dealloc, clear or describe slot, the
   output or error hook, or teardown itself) is refused: the process aborts
   with a message naming the runtime and what runs. So is a second destroy
   of the same runtime, and any call given a destroyed runtime. Those cases
   run in a forked child (the pattern of test_fatal.c): the child writes
   "ADDR <runtime>" and "OBJ <object>" first, the parent checks SIGABRT and
   the message.

   Heap walks (the collector's traversal, get_objects, get_referents,
   get_referrers, the leak tools, chain_format) mark the runtime busy: a
   traverse slot or a tool's callback that collects, freezes, tracks or
   walks meanwhile is refused (collections return 0, the others
   RCY_ESTATE) instead of corrupting the walk. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Running a case in a child ----------------------------------------- */

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

static void pipe_output(void *arg, const char *text) { write_all(*(int *)arg, text, strlen(text)); }

static void announce(const char *tag, const void *p)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%s %p\n", tag, p);
    write_all(child_fd, line, (size_t)n);
}

static rcy_runtime_t *child_rt; /* the runtime the case destroys */

static rcy_runtime_t *child_runtime(void)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = pipe_output;
    cfg.output_arg = &child_fd;
    child_rt = rcy_runtime_new(&cfg);
    if (child_rt == NULL)
        _exit(3);
    announce("ADDR", child_rt);
    return child_rt;
}

typedef struct result_s {
    int status;
    char out[8192];
} result_t;

static void run_child(void (*fn)(void), result_t *res)
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
        write_all(child_fd, "NO ABORT\n", 9);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fds[0], res->out + len, sizeof res->out - 1 - len);
        if (r <= 0 || (len += (size_t)r) == sizeof res->out - 1)
            break;
    }
    res->out[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &res->status, 0) < 0) {
    }
}

/* The pointer the child announced with tag, as %p prints it. */
static void announced(const result_t *res, const char *tag, char *buf, size_t size)
{
    char key[16];
    snprintf(key, sizeof key, "%s ", tag);
    const char *p = strstr(res->out, key);
    size_t i = 0;
    if (p != NULL)
        for (p += strlen(key); *p && *p != '\n' && i < size - 1; p++)
            buf[i++] = *p;
    buf[i] = '\0';
}

/* The child aborted with a fatal error naming "runtime <ADDR>" and, when
   obj_type is not NULL, "<obj_type OBJ>", with each of the texts. */
static void check_abort(const result_t *res, const char *obj_type, const char *text1, const char *text2)
{
    if (getenv("RCY_TEST_VERBOSE") != NULL)
        fprintf(stderr, "child output:\n%s", res->out);
    CHECK(WIFSIGNALED(res->status) && WTERMSIG(res->status) == SIGABRT);
    char addr[32], expected[96];
    announced(res, "ADDR", addr, sizeof addr);
    snprintf(expected, sizeof expected, "runtime <%s>", addr);
    CHECK_STR_CONTAINS(res->out, "recycle: fatal error: ");
    CHECK_STR_CONTAINS(res->out, expected);
    if (obj_type != NULL) {
        char obj[32];
        announced(res, "OBJ", obj, sizeof obj);
        snprintf(expected, sizeof expected, "<%s %s>", obj_type, obj);
        CHECK_STR_CONTAINS(res->out, expected);
    }
    CHECK_STR_CONTAINS(res->out, text1);
    if (text2 != NULL)
        CHECK_STR_CONTAINS(res->out, text2);
    CHECK_STR_CONTAINS(res->out, "aborting");
    CHECK(strstr(res->out, "NO ABORT") == NULL);
    CHECK(strstr(res->out, "AddressSanitizer") == NULL);
}

#define REFUSED "rcy_runtime_destroy called from inside the runtime's own code"

/* ---- Destroy from inside a callback or slot ----------------------------- */

static int fin_destroy(rcy_object_t *self)
{
    (void)self;
    rcy_runtime_destroy(child_rt);
    return 0;
}

static rcy_type_t *slot_type(rcy_runtime_t *rt, const char *name, rcy_type_spec_t *spec)
{
    spec->name = name;
    spec->basicsize = sizeof(node_t);
    spec->flags = RCY_TPFLAGS_GC;
    if (spec->traverse == NULL)
        spec->traverse = node_traverse;
    if (spec->clear == NULL)
        spec->clear = node_clear;
    return rcy_type_new(rt, spec);
}

/* A self-cycle of a fresh object of t, left to the collector. */
static node_t *garbage_cycle(rcy_type_t *t)
{
    node_t *n = node_new(t, 0);
    node_set_a(n, n);
    announce("OBJ", n);
    rcy_decref(OB(n));
    return n;
}

static void case_finalizer_refcount(void)
{
    rcy_type_spec_t spec = {0};
    spec.finalize = fin_destroy;
    rcy_type_t *t = slot_type(child_runtime(), "Closer", &spec);
    node_t *n = node_new(t, 0);
    announce("OBJ", n);
    rcy_decref(OB(n));
}

static void case_finalizer_collection(void)
{
    rcy_type_spec_t spec = {0};
    spec.finalize = fin_destroy;
    garbage_cycle(slot_type(child_runtime(), "Closer", &spec));
    rcy_gc_collect(child_rt, 2);
}

static void case_legacy_finalizer(void)
{
    rcy_type_spec_t spec = {0};
    spec.legacy_del = fin_destroy;
    rcy_type_t *t = slot_type(child_runtime(), "OldStyle", &spec);
    node_t *n = node_new(t, 0);
    announce("OBJ", n);
    rcy_decref(OB(n));
}

static void dealloc_destroy(rcy_object_t *self)
{
    node_clear(self);
    rcy_runtime_destroy(child_rt);
}

static void case_dealloc(void)
{
    rcy_type_spec_t spec = {0};
    spec.dealloc = dealloc_destroy;
    rcy_type_t *t = slot_type(child_runtime(), "Dropper", &spec);
    rcy_decref(OB(node_new(t, 0)));
}

static int clear_destroy(rcy_object_t *self)
{
    node_clear(self);
    rcy_runtime_destroy(child_rt);
    return 0;
}

static void case_clear(void)
{
    rcy_type_spec_t spec = {0};
    spec.clear = clear_destroy;
    garbage_cycle(slot_type(child_runtime(), "Clearer", &spec));
    rcy_gc_collect(child_rt, 2);
}

static int traverse_destroy(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcy_runtime_destroy(child_rt);
    return node_traverse(self, visit, arg);
}

static void case_traverse_collection(void)
{
    rcy_type_spec_t spec = {0};
    spec.traverse = traverse_destroy;
    rcy_type_t *t = slot_type(child_runtime(), "Walker", &spec);
    node_new(t, 0); /* kept: the collection traverses it */
    rcy_gc_collect(child_rt, 2);
}

static void case_traverse_referrers(void)
{
    rcy_type_spec_t spec = {0};
    spec.traverse = traverse_destroy;
    rcy_type_t *t = slot_type(child_runtime(), "Walker", &spec);
    rcy_object_t *o = OB(node_new(t, 0));
    rcy_objarray_t out = {0};
    rcy_gc_get_referrers(child_rt, &o, 1, &out);
}

static int describe_destroy(rcy_object_t *self, char *buf, size_t size)
{
    (void)self;
    rcy_runtime_destroy(child_rt);
    return snprintf(buf, size, "never");
}

static void case_describe(void)
{
    rcy_type_spec_t spec = {0};
    spec.describe = describe_destroy;
    rcy_type_t *t = slot_type(child_runtime(), "Teller", &spec);
    node_t *n = node_new(t, 0);
    announce("OBJ", n);
    char buf[64];
    rcy_describe(OB(n), buf, sizeof buf);
}

static int weakref_destroy(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    rcy_runtime_destroy(child_rt);
    return 0;
}

static rcy_type_t *weakable_type(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Weakable";
    spec.basicsize = sizeof(node_t) + sizeof(rcy_object_t *);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.weaklistoffset = sizeof(node_t);
    return rcy_type_new(rt, &spec);
}

static void case_weakref_refcount(void)
{
    rcy_type_t *t = weakable_type(child_runtime());
    node_t *n = node_new(t, 0);
    rcy_object_t *wr = rcy_weakref_new(OB(n), weakref_destroy, NULL);
    announce("OBJ", wr);
    rcy_decref(OB(n));
}

static void case_weakref_collection(void)
{
    rcy_type_t *t = weakable_type(child_runtime());
    node_t *n = node_new(t, 0);
    node_set_a(n, n);
    rcy_object_t *wr = rcy_weakref_new(OB(n), weakref_destroy, NULL);
    announce("OBJ", wr);
    rcy_decref(OB(n));
    rcy_gc_collect(child_rt, 2);
}

static int finalize_cb_destroy(void *arg)
{
    (void)arg;
    rcy_runtime_destroy(child_rt);
    return 0;
}

static void case_finalize_callback(void)
{
    rcy_type_t *t = weakable_type(child_runtime());
    node_t *n = node_new(t, 0);
    rcy_object_t *f = rcy_finalize_register(OB(n), finalize_cb_destroy, NULL);
    announce("OBJ", f);
    rcy_decref(OB(n));
}

static int gc_callback_destroy(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)phase;
    (void)info;
    (void)arg;
    rcy_runtime_destroy(rt);
    return 0;
}

static void case_gc_callback(void)
{
    rcy_gc_callback_add(child_runtime(), gc_callback_destroy, NULL);
    rcy_gc_collect(child_rt, 0);
}

static void hook_destroy(void *arg, const char *text)
{
    (void)arg;
    (void)text;
    rcy_runtime_destroy(child_rt);
}

static int fin_fails(rcy_object_t *self)
{
    (void)self;
    return -1;
}

/* A failing finalizer is reported through the error hook, which destroys. */
static void case_error_hook(void)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.error = hook_destroy;
    child_rt = rcy_runtime_new(&cfg);
    announce("ADDR", child_rt);
    rcy_type_spec_t spec = {0};
    spec.finalize = fin_fails;
    rcy_type_t *t = slot_type(child_rt, "Failing", &spec);
    rcy_decref(OB(node_new(t, 0)));
}

static void case_output_hook(void)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = hook_destroy;
    child_rt = rcy_runtime_new(&cfg);
    announce("ADDR", child_rt);
    rcy_runtime_print(child_rt, "hello\n");
}

/* A finalizer that teardown runs destroys again. */
static void case_during_teardown(void)
{
    rcy_type_spec_t spec = {0};
    spec.finalize = fin_destroy;
    garbage_cycle(slot_type(child_runtime(), "Closer", &spec));
    rcy_runtime_destroy(child_rt);
}

TEST(test_destroy_inside_callbacks_is_refused)
{
    result_t res;
    run_child(case_finalizer_refcount, &res);
    check_abort(&res, "Closer", REFUSED, "a finalizer of");
    run_child(case_finalizer_collection, &res);
    check_abort(&res, "Closer", "a finalizer of", "a collection");
    run_child(case_legacy_finalizer, &res);
    check_abort(&res, "OldStyle", REFUSED, "a legacy finalizer of");
    run_child(case_dealloc, &res);
    check_abort(&res, NULL, REFUSED, "a deallocation (a dealloc or clear slot)");
    run_child(case_clear, &res);
    check_abort(&res, NULL, REFUSED, "a collection");
    run_child(case_traverse_collection, &res);
    check_abort(&res, NULL, REFUSED, "a heap walk by the collector; a collection");
    run_child(case_traverse_referrers, &res);
    check_abort(&res, NULL, REFUSED, "[a heap walk by rcy_gc_get_referrers]");
    run_child(case_describe, &res);
    check_abort(&res, "Teller", REFUSED, "a describe slot of");
    run_child(case_weakref_refcount, &res);
    check_abort(&res, "weakref", REFUSED, "a weakref callback of");
    run_child(case_weakref_collection, &res);
    check_abort(&res, "weakref", "a weakref callback of", "a collection");
    run_child(case_finalize_callback, &res);
    check_abort(&res, "weakref", REFUSED, "a finalize callback of");
    run_child(case_gc_callback, &res);
    check_abort(&res, NULL, REFUSED, "[a gc callback; a collection]");
    run_child(case_error_hook, &res);
    check_abort(&res, NULL, REFUSED, "the error hook");
    run_child(case_output_hook, &res);
    check_abort(&res, NULL, REFUSED, "the output hook");
    run_child(case_during_teardown, &res);
    check_abort(&res, "Closer", "a finalizer of", "; a collection; rcy_runtime_destroy (its teardown)]");
}

/* ---- Destroyed runtimes -------------------------------------------------- */

static void case_destroy_twice(void)
{
    rcy_runtime_destroy(child_runtime());
    rcy_runtime_destroy(child_rt);
}

static void case_destroy_not_a_runtime(void)
{
    static long not_a_runtime[64];
    child_rt = (rcy_runtime_t *)(void *)not_a_runtime;
    announce("ADDR", child_rt);
    rcy_runtime_destroy(child_rt);
}

static void case_collect_after_destroy(void)
{
    rcy_runtime_destroy(child_runtime());
    rcy_gc_collect(child_rt, 2);
}

static void case_new_after_destroy(void)
{
    rcy_runtime_destroy(child_runtime());
    rcy_list_new(child_rt);
}

TEST(test_destroyed_runtime_is_recognised)
{
    result_t res;
    run_child(case_destroy_twice, &res);
    check_abort(&res, NULL, "rcy_runtime_destroy called with a pointer that is not a live runtime",
                "destroyed already");
    run_child(case_destroy_not_a_runtime, &res);
    check_abort(&res, NULL, "not a live runtime", NULL);
    run_child(case_collect_after_destroy, &res);
    check_abort(&res, NULL, "rcy_gc_collect called with a destroyed runtime", "used after rcy_runtime_destroy");
    run_child(case_new_after_destroy, &res);
    check_abort(&res, NULL, "rcy_list_new called with a destroyed runtime", NULL);
}

/* Destroying another runtime from a callback is fine; so is creating and
   destroying runtimes in any order. */
static rcy_runtime_t *other_rt;

static int fin_destroy_other(rcy_object_t *self)
{
    (void)self;
    rcy_runtime_destroy(other_rt);
    other_rt = NULL;
    return 0;
}

TEST(test_destroy_other_runtime_from_callback)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL), *c = test_runtime(NULL);
    other_rt = b;
    rcy_type_spec_t spec = {0};
    spec.finalize = fin_destroy_other;
    rcy_type_t *t = slot_type(a, "Closer", &spec);
    rcy_decref(OB(node_new(t, 0)));
    CHECK(other_rt == NULL);
    rcy_runtime_destroy(c);
    test_runtime_end(a);
}

/* ---- Walks refuse what would disturb them -------------------------------- */

/* What a probing traverse saw, once armed. */
static struct probe_s {
    rcy_runtime_t *rt;
    int armed;
    intptr_t collect;
    int freeze, unfreeze, objects, referrers, referents, by_type, memory, track, untrack, garbage_clear;
    rcy_object_t *victim;    /* tracked, for untrack */
    rcy_object_t *untracked; /* for track */
} probe;

static void run_probes(void)
{
    rcy_runtime_t *rt = probe.rt;
    rcy_objarray_t arr = {0};
    rcy_runtime_memory_t mem;
    rcy_runtime_memory_init(&mem);
    probe.armed = 0;
    probe.collect = rcy_gc_collect(rt, 2);
    probe.freeze = rcy_gc_freeze(rt);
    probe.unfreeze = rcy_gc_unfreeze(rt);
    probe.objects = rcy_gc_get_objects(rt, -1, &arr);
    rcy_objarray_release(&arr);
    probe.referrers = rcy_gc_get_referrers(rt, &probe.victim, 1, &arr);
    rcy_objarray_release(&arr);
    probe.referents = rcy_gc_get_referents(rt, &probe.victim, 1, &arr);
    rcy_objarray_release(&arr);
    probe.by_type = rcy_census_by_type(rt, "Victim", &arr);
    rcy_objarray_release(&arr);
    probe.memory = rcy_runtime_memory(rt, &mem);
    probe.untrack = rcy_gc_untrack(probe.victim);
    probe.track = rcy_gc_track(probe.untracked);
    probe.garbage_clear = (int)rcy_gc_garbage_clear(rt);
}

static int probing_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    if (probe.armed)
        run_probes();
    return node_traverse(self, visit, arg);
}

static void check_refused(const char *when)
{
    fprintf(stderr, "  (probes inside %s)\n", when);
    CHECK_EQ(probe.armed, 0);
    CHECK_EQ(probe.collect, 0);
    CHECK_EQ(probe.freeze, RCY_ESTATE);
    CHECK_EQ(probe.unfreeze, RCY_ESTATE);
    CHECK_EQ(probe.objects, RCY_ESTATE);
    CHECK_EQ(probe.referrers, RCY_ESTATE);
    CHECK_EQ(probe.referents, RCY_ESTATE);
    CHECK_EQ(probe.by_type, RCY_ESTATE);
    CHECK_EQ(probe.memory, RCY_ESTATE);
    CHECK_EQ(probe.untrack, RCY_ESTATE);
    CHECK_EQ(probe.track, RCY_ESTATE);
    CHECK_EQ(probe.garbage_clear, RCY_ESTATE);
    CHECK(rcy_gc_is_tracked(probe.victim));
    CHECK(!rcy_gc_is_tracked(probe.untracked));
}

static int keep_all(rcy_object_t *o, void *arg)
{
    (void)o;
    (void)arg;
    return 1;
}

TEST(test_traverse_inside_walks_is_refused)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.traverse = probing_traverse;
    rcy_type_t *reentrant = slot_type(rt, "Reentrant", &spec);
    rcy_type_t *victim_type = node_type_new(rt, "Victim");
    memset(&probe, 0, sizeof probe);
    probe.rt = rt;
    node_t *x = node_new(reentrant, 0);
    node_t *v = node_new(victim_type, 0);
    node_set_a(x, v);
    probe.victim = OB(v);
    node_t *u = node_new(victim_type, 0);
    rcy_gc_untrack(OB(u));
    probe.untracked = OB(u);
    for (int i = 0; i < 3; i++) /* cycles a nested collection would free under the walk */
        garbage_cycle(victim_type);
    rcy_object_t *xo = OB(x);
    rcy_objarray_t arr = {0};

    probe.armed = 1;
    CHECK_EQ(rcy_gc_get_referrers(rt, &xo, 1, &arr), 0);
    rcy_objarray_release(&arr);
    check_refused("rcy_gc_get_referrers");

    probe.armed = 1;
    CHECK_EQ(rcy_gc_get_referents(rt, &xo, 1, &arr), 0);
    CHECK_EQ(arr.len, 1);
    rcy_objarray_release(&arr);
    check_refused("rcy_gc_get_referents");

    probe.armed = 1;
    CHECK_EQ(rcy_census_by_type(rt, "Reentrant", &arr), 0);
    CHECK_EQ(arr.len, 1);
    rcy_objarray_release(&arr);
    check_refused("rcy_census_by_type");

    probe.armed = 1;
    CHECK_EQ(rcy_get_leaking_objects(rt, &arr), 0);
    rcy_objarray_release(&arr);
    check_refused("rcy_get_leaking_objects");

    probe.armed = 1;
    CHECK_EQ(rcy_external_refcount(xo), 1);
    check_refused("rcy_external_refcount");

    probe.armed = 1;
    CHECK_EQ(rcy_find_backref_chain(OB(v), NULL, NULL, 0, &arr), 1);
    check_refused("rcy_find_backref_chain");
    probe.armed = 1;
    char path[256];
    CHECK(rcy_chain_format(&arr, path, sizeof path) > 0);
    check_refused("rcy_chain_format");
    rcy_objarray_release(&arr);

    FILE *sink = tmpfile();
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.output = sink;
    opts.filter = keep_all;
    probe.armed = 1;
    CHECK_EQ(rcy_show_refs(&xo, 1, &opts), 0);
    check_refused("rcy_show_refs");
    fclose(sink);

    /* The collector's own traversal: x is alive, v and the cycles too until
       this collection (whose traverse of x is refused a nested one). The
       walks above let no collection free the cycles. */
    size_t cycles = rcy_census_count(rt, "Victim") - 2; /* 3, fewer in the GC-stress build */
    CHECK(cycles == 3 || HARNESS_GC_STRESS);
    probe.armed = 1;
    CHECK_EQ(rcy_gc_collect(rt, 2), cycles);
    check_refused("a collection");

    rcy_decref(xo);
    rcy_decref(OB(v));
    rcy_decref(OB(u));
    test_runtime_end(rt);
}

/* The tools' callbacks run inside the walk too: a collection they ask for
   is refused (0) and the walk goes on. */
static intptr_t pred_collect;

static int collecting_pred(rcy_object_t *obj, intptr_t external, void *arg)
{
    (void)obj;
    (void)external;
    pred_collect = rcy_gc_collect((rcy_runtime_t *)arg, 2);
    return 0;
}

static int collecting_filter(rcy_object_t *obj, void *arg)
{
    (void)obj;
    pred_collect = rcy_gc_collect((rcy_runtime_t *)arg, 2);
    return 1;
}

TEST(test_tool_callbacks_inside_walk)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "N");
    node_t *a = node_new(t, 0), *b = node_new(t, 0);
    node_set_a(a, b);
    garbage_cycle(t);
    rcy_objarray_t arr = {0};
    pred_collect = -1;
    CHECK_EQ(rcy_find_ref_chain(OB(a), collecting_pred, rt, 0, &arr), 0);
    rcy_objarray_release(&arr);
    CHECK_EQ(pred_collect, 0);
    FILE *sink = tmpfile();
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.output = sink;
    opts.filter = collecting_filter;
    opts.arg = rt;
    pred_collect = -1;
    rcy_object_t *ao = OB(a);
    CHECK_EQ(rcy_show_refs(&ao, 1, &opts), 0);
    CHECK_EQ(pred_collect, 0);
    fclose(sink);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1); /* the cycle, once no walk runs */
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    test_runtime_end(rt);
}

/* Outside the walks, a finalizer run by a collection may still freeze,
   unfreeze and look at the heap, as in CPython (gc.freeze() and
   gc.get_objects() work in __del__). */
static int fin_status[3];

static int fin_freezes(rcy_object_t *self)
{
    rcy_runtime_t *rt = rcy_object_runtime(self);
    rcy_objarray_t arr = {0};
    fin_status[0] = rcy_gc_freeze(rt);
    fin_status[1] = rcy_gc_unfreeze(rt);
    fin_status[2] = rcy_gc_get_objects(rt, -1, &arr);
    rcy_objarray_release(&arr);
    return 0;
}

TEST(test_finalizer_may_freeze)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.finalize = fin_freezes;
    rcy_type_t *t = slot_type(rt, "Freezer", &spec);
    node_t *keep = node_new(t, 0);
    node_t *n = node_new(t, 0);
    node_set_a(n, n);
    rcy_decref(OB(n));
    memset(fin_status, -1, sizeof fin_status);
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK_EQ(fin_status[0], 0);
    CHECK_EQ(fin_status[1], 0);
    CHECK_EQ(fin_status[2], 0);
    CHECK_EQ(rcy_gc_get_freeze_count(rt), 0);
    CHECK(rcy_gc_is_tracked(OB(keep)));
    rcy_decref(OB(keep));
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_destroy_inside_callbacks_is_refused);
    RUN(test_destroyed_runtime_is_recognised);
    RUN(test_destroy_other_runtime_from_callback);
    RUN(test_traverse_inside_walks_is_refused);
    RUN(test_tool_callbacks_inside_walk);
    RUN(test_finalizer_may_freeze);
    return harness_summary();
}
