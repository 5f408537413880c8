/* Heap corruption is caught and reported with the object's type name and
   address, and then the process aborts, in release builds too: a decref
   that takes a count below zero, a decref of a freed object (with
   poisoning on, which also keeps the freed memory in quarantine so that
   AddressSanitizer does not see a use-after-free first), a finalizer that
   releases a reference it does not own, and a traverse that reports more
   references than the reference count.

   Each case runs in a forked child whose output (through the default
   stderr hook, redirected, or through a custom hook) goes to a pipe. The
   child first writes the line "ADDR <%p of the object>" to the same pipe;
   the parent checks that the child died of SIGABRT and that the message
   names "<Type ADDR>". */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Running a case in a child ----------------------------------------- */

static int child_fd = -1; /* the write end of the pipe, in the child */

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

/* An output hook that writes to the pipe directly. */
static void pipe_output(void *arg, const char *text)
{
    write_all(*(int *)arg, text, strlen(text));
}

/* Called by the child: tells the parent which object the report must name. */
static void announce(const void *o)
{
    char line[64];
    int n = snprintf(line, sizeof line, "ADDR %p\n", o);
    write_all(child_fd, line, (size_t)n);
}

/* How the child's runtime reports. */
enum hook_e { HOOK_STDERR, HOOK_PIPE };

static rcy_runtime_t *child_runtime(enum hook_e hook, int poison)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    if (hook == HOOK_PIPE) {
        cfg.output = pipe_output;
        cfg.output_arg = &child_fd;
    }
    cfg.poison = poison;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL)
        _exit(3);
    return rt;
}

typedef struct result_s {
    int status;
    char out[8192];
} result_t;

/* Forks, runs fn(hook) in the child with stderr redirected to the pipe, and
   collects the child's output and exit status. */
static void run_child(void (*fn)(enum hook_e), enum hook_e hook, result_t *res)
{
    int fds[2];
    memset(res, 0, sizeof *res);
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        child_fd = fds[1];
        dup2(fds[1], STDERR_FILENO);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* abort quickly, leave no core file */
        fn(hook);
        write_all(child_fd, "NO ABORT\n", 9);
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
}

/* Checks that the child aborted and named "<type_name ADDR>" after
   announcing ADDR, with the given text in the message. */
static void check_fatal(const result_t *res, const char *type_name, const char *what)
{
    if (getenv("RCY_TEST_VERBOSE") != NULL)
        fprintf(stderr, "child output:\n%s", res->out);
    CHECK(WIFSIGNALED(res->status));
    if (WIFSIGNALED(res->status))
        CHECK_EQ(WTERMSIG(res->status), SIGABRT);
    const char *addr = strstr(res->out, "ADDR ");
    CHECK(addr != NULL);
    if (addr == NULL) {
        fprintf(stderr, "child output:\n%s\n", res->out);
        return;
    }
    char ptr[32] = {0};
    size_t i = 0;
    for (const char *p = addr + 5; *p && *p != '\n' && i < sizeof ptr - 1; p++)
        ptr[i++] = *p;
    char expected[128];
    snprintf(expected, sizeof expected, "<%s %s>", type_name, ptr);
    CHECK_STR_CONTAINS(res->out, "recycle: fatal error: ");
    CHECK_STR_CONTAINS(res->out, expected);
    CHECK_STR_CONTAINS(res->out, what);
    CHECK_STR_CONTAINS(res->out, "aborting");
    CHECK(strstr(res->out, "NO ABORT") == NULL);
}

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
