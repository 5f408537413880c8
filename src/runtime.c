/*
 * Runtime lifecycle: configuration, creation, the live runtimes, and
 * teardown. The hooks' use (allocation, output, errors) is in support.c.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Allocation hooks ------------------------------------------------ */

static void *libc_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}
static void *libc_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}
static void libc_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/* ---- The pending error (docs/design.md, Errors) ------------------------ */

/* rt->release_error_value: a discarded error value's release, reached
   from every layer through the pointer (support.c's rcyi_err_discard). */
static void release_error_value(rcy_object_t *value) { rcy_decref(value); }

/* Replaces the pending error by (code, a copy of message, value). */
static int error_set(rcy_runtime_t *rt, int code, const char *message, rcy_object_t *value)
{
    char *copy = NULL;
    if (message != NULL) {
        size_t n = strlen(message);
        copy = rcyi_malloc(rt, n + 1); /* on failure: the code alone */
        if (copy != NULL)
            memcpy(copy, message, n + 1);
    }
    char *old_message = rt->error_message;
    rcy_object_t *old_value = rt->error_value;
    rt->last_error = code;
    rt->error_seq++;
    rt->error_detail_seq = rt->error_seq;
    rt->error_message = copy;
    rt->error_value = rcy_xnewref(value);
    rcyi_err_discard(rt, old_message, old_value); /* last: it may run a finalizer */
    return code;
}

int rcy_error_set(rcy_runtime_t *rt, int code, const char *message)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (code >= 0)
        return RCY_EINVAL;
    return error_set(rt, code, message, NULL);
}

int rcy_error_set_value(rcy_runtime_t *rt, int code, const char *message, rcy_object_t *value)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (code >= 0)
        return RCY_EINVAL;
    if (value != NULL) {
        rcyi_check_live(value);
        if (!rcyi_same_runtime(value, rt))
            return RCY_ERUNTIME;
    }
    return error_set(rt, code, message, value);
}

const char *rcy_error_message(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return rcyi_error_detail(rt);
}

rcy_object_t *rcy_error_value(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    return rt->error_detail_seq == rt->error_seq ? rt->error_value : NULL;
}

void rcy_error_clear(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return;
    RCYI_CHECK_RT(rt);
    char *m = rt->error_message;
    rcy_object_t *v = rt->error_value;
    rt->last_error = 0;
    rt->error_message = NULL;
    rt->error_value = NULL;
    rt->error_seq++;
    rcyi_err_discard(rt, m, v);
}

void rcy_error_fetch(rcy_runtime_t *rt, rcy_error_state_t *state)
{
    if (state == NULL)
        return;
    memset(state, 0, sizeof *state);
    if (rt == NULL)
        return;
    RCYI_CHECK_RT(rt);
    bool detail = rt->error_detail_seq == rt->error_seq;
    char *m = rt->error_message;
    rcy_object_t *v = rt->error_value;
    state->code = rt->last_error;
    rt->last_error = 0;
    rt->error_message = NULL;
    rt->error_value = NULL;
    rt->error_seq++;
    if (detail) {
        state->message = m;
        state->value = v;
    } else {
        rcyi_err_discard(rt, m, v); /* stale: a library failure came after them */
    }
}

void rcy_error_restore(rcy_runtime_t *rt, rcy_error_state_t *state)
{
    if (rt == NULL || state == NULL)
        return;
    RCYI_CHECK_RT(rt);
    rcyi_errsave_t s = {state->code, true, state->message, state->value};
    memset(state, 0, sizeof *state);
    rcyi_err_restore(rt, &s);
}

/* ---- Live runtimes ---------------------------------------------------- */

/* Every live runtime, in a process-wide list threaded through the runtimes
   (live_next) under a mutex: rcy_runtime_destroy finds out whether its
   argument is alive without reading it, so that destroying a runtime twice
   (or a pointer that never was one) is reported instead of reading freed
   memory. Creation and destruction only: no other call takes the lock. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static rcy_runtime_t *live_head;

static void live_add(rcy_runtime_t *rt)
{
    pthread_mutex_lock(&live_lock);
    rt->live_next = live_head;
    live_head = rt;
    pthread_mutex_unlock(&live_lock);
}

static void live_remove(rcy_runtime_t *rt)
{
    pthread_mutex_lock(&live_lock);
    for (rcy_runtime_t **p = &live_head; *p != NULL; p = &(*p)->live_next) {
        if (*p == rt) {
            *p = rt->live_next;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

/* What of rt's own code is running, for rcy_runtime_destroy's refusal:
   the callback frames innermost first, then the walks, deallocations,
   collection and teardown under way. Empty when nothing runs. Sets
   *in_hook when the output or error hook is among them. */
static void describe_busy(const rcy_runtime_t *rt, char *buf, size_t size, bool *in_hook)
{
    size_t len = 0;
    buf[0] = '\0';
    *in_hook = false;
#define BUSY_ADD(...)                                                                                                  \
    do {                                                                                                               \
        if (len < size) {                                                                                              \
            int n_ = snprintf(buf + len, size - len, "%s", len ? "; " : "");                                          \
            len += n_ > 0 ? (size_t)n_ : 0;                                                                            \
        }                                                                                                              \
        if (len < size) {                                                                                              \
            int n_ = snprintf(buf + len, size - len, __VA_ARGS__);                                                     \
            len += n_ > 0 ? (size_t)n_ : 0;                                                                            \
        }                                                                                                              \
    } while (0)
    for (const rcyi_running_t *f = rt->running; f != NULL; f = f->up) {
        if (f->what == rcyi_output_hook || f->what == rcyi_error_hook)
            *in_hook = true;
        if (f->obj != NULL)
            BUSY_ADD("%s of <%s %p>", f->what, f->obj->type->name, (const void *)f->obj);
        else
            BUSY_ADD("%s", f->what);
    }
    for (const struct rcyi_legacy_frame_s *f = rt->legacy_running; f != NULL; f = f->up)
        BUSY_ADD("a legacy finalizer of <%s %p>", f->o->type->name, (const void *)f->o);
    if (rt->walk != NULL)
        BUSY_ADD("a heap walk by %s", rt->walk);
    if (rt->dealloc_depth > 0)
        BUSY_ADD("a deallocation (a dealloc or clear slot)");
    if (rt->collecting)
        BUSY_ADD("a collection");
    if (rt->destroying)
        BUSY_ADD("rcy_runtime_destroy (its teardown)");
#undef BUSY_ADD
}

/* ---- Lifecycle ------------------------------------------------------- */

void rcy_config_init(rcy_config_t *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->threshold0 = 700;
    cfg->threshold1 = 10;
    cfg->threshold2 = 10;
    cfg->poison = -1;
    cfg->quarantine = 1024;
    cfg->huge_pages = -1;
}

rcy_runtime_t *rcy_runtime_new(const rcy_config_t *cfg)
{
    rcy_config_t defaults;
    if (cfg == NULL) {
        rcy_config_init(&defaults);
        cfg = &defaults;
    }
    if (!RCYI_SIZE_OK(cfg))
        return NULL;
    if (cfg->threshold0 < 0 || cfg->threshold1 < 0 || cfg->threshold2 < 0 || !rcyi_gc_debug_flags_valid(cfg->debug_flags))
        return NULL;
    /* poison: -1, 0 or 1 only; the quarantine's ring of pointers must have
       a size that fits in a size_t (it is allocated only when poisoning,
       but a value that cannot be honoured is refused either way). */
    size_t quarantine_bytes;
    if (cfg->poison < -1 || cfg->poison > 1 || !rcyi_size_mul(cfg->quarantine, sizeof(void *), &quarantine_bytes))
        return NULL;
    if (cfg->huge_pages < -1 || cfg->huge_pages > 1)
        return NULL;
    const rcy_allocator_t *a = &cfg->allocator;
    bool any = a->malloc_fn || a->realloc_fn || a->free_fn;
    bool all = a->malloc_fn && a->realloc_fn && a->free_fn;
    if (any && !all)
        return NULL;
    rcy_allocator_t alloc = all ? *a : (rcy_allocator_t){libc_malloc, libc_realloc, libc_free, NULL};

    rcy_runtime_t *rt = alloc.malloc_fn(alloc.ctx, sizeof *rt);
    if (rt == NULL)
        return NULL;
    memset(rt, 0, sizeof *rt);
    rt->alloc = alloc;
    rt->magic = RCYI_RUNTIME_MAGIC;
    rt->output = cfg->output ? cfg->output : rcyi_stderr_output;
    rt->output_arg = cfg->output ? cfg->output_arg : NULL;
    rt->error = cfg->error ? cfg->error : rcyi_default_error;
    rt->error_arg = cfg->error ? cfg->error_arg : rt;

    /* RCY_POISON=0 or 1 in the environment decides for a configuration
       that leaves it to the build (-1): the GC-stress suite runs once with
       poisoning off, so that AddressSanitizer sees every free. */
    int poison = cfg->poison;
    const char *poison_env = getenv("RCY_POISON");
    if (poison < 0 && poison_env != NULL && (strcmp(poison_env, "0") == 0 || strcmp(poison_env, "1") == 0))
        poison = poison_env[0] - '0';
#if RCY_DEBUG >= 1
    rt->poison = poison != 0;
#else
    rt->poison = poison > 0;
#endif
    if (rt->poison && cfg->quarantine > 0) {
        rt->quarantine = alloc.malloc_fn(alloc.ctx, quarantine_bytes);
        if (rt->quarantine == NULL) {
            alloc.free_fn(alloc.ctx, rt);
            return NULL;
        }
        rt->quarantine_cap = cfg->quarantine;
    }
    /* RCY_HUGE_PAGES=0 or 1 decides for a configuration that leaves it to
       the environment (-1), as RCY_POISON does for poisoning. */
    int huge = cfg->huge_pages;
    const char *huge_env = getenv("RCY_HUGE_PAGES");
    if (huge < 0 && huge_env != NULL && (strcmp(huge_env, "0") == 0 || strcmp(huge_env, "1") == 0))
        huge = huge_env[0] - '0';
    rt->huge_pages = huge > 0;
    if (rcyi_pool_wanted(rt, !all) && rcyi_pool_init(rt) < 0) {
        alloc.free_fn(alloc.ctx, rt->quarantine);
        alloc.free_fn(alloc.ctx, rt);
        return NULL;
    }
    rt->release_error_value = release_error_value;
    live_add(rt); /* from here on, a failure is undone by rcy_runtime_destroy */
    if (rcyi_gc_init(rt, cfg) < 0 || rcyi_builtins_init(rt) < 0) {
        rcy_runtime_destroy(rt);
        return NULL;
    }
    if (rcyi_weakref_init(rt) < 0) {
        rcy_runtime_destroy(rt);
        return NULL;
    }
    /* Weak references are callable (wr() is the referent or None): the
       slot lives with the built-in types, above the weakref layer. */
    rt->weakref_type->call = rcyi_weakref_call;
    return rt;
}

size_t rcy_runtime_live_objects(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return 0;
    RCYI_CHECK_RT(rt);
    return rcyi_live_objects(rt, NULL);
}

size_t rcy_runtime_live_bytes(const rcy_runtime_t *rt)
{
    size_t bytes = 0;
    if (rt != NULL) {
        RCYI_CHECK_RT(rt);
        rcyi_live_objects(rt, &bytes);
    }
    return bytes;
}

/* Reports the objects still alive after teardown's collections: references
   someone forgot to release. Types are listed oldest first. */
static void report_survivors(rcy_runtime_t *rt)
{
    size_t live = rcyi_live_objects(rt, NULL);
    if (live == 0)
        return;
    rcyi_printf(rt, "recycle: %zu object%s still alive at runtime teardown (leaked references):\n", live,
                live == 1 ? "" : "s");
    rcyi_print_live_types(rt);
}

/* The check at the top of rcy_runtime_destroy: rt must be a live runtime
   (looked up without reading it) none of whose code is running; then it
   is marked as being destroyed. Otherwise reports and aborts. */
static void destroy_begin(rcy_runtime_t *rt)
{
    pthread_mutex_lock(&live_lock);
    rcy_runtime_t *p = live_head;
    while (p != NULL && p != rt)
        p = p->live_next;
    pthread_mutex_unlock(&live_lock);
    if (p == NULL) {
        fprintf(stderr,
                "recycle: fatal error: rcy_runtime_destroy called with a pointer that is not a live runtime: "
                "runtime <%p>\n"
                "recycle: it was destroyed already (or never created); aborting\n",
                (void *)rt);
        fflush(stderr);
        abort();
    }
    char busy[400];
    bool in_hook;
    describe_busy(rt, busy, sizeof busy, &in_hook);
    if (busy[0] == '\0') {
        rt->destroying = true;
        return;
    }
    char msg[600];
    snprintf(msg, sizeof msg,
             "recycle: fatal error: rcy_runtime_destroy called from inside the runtime's own code [%s]: "
             "runtime <%p>\n"
             "recycle: a runtime can be destroyed only when none of its callbacks or slots is running; aborting\n",
             busy, (void *)rt);
    /* Through the output hook, as rcyi_fatal reports, unless a hook is
       what called: then straight to stderr. */
    if (in_hook)
        fputs(msg, stderr);
    else
        rt->output(rt->output_arg, msg);
    fflush(stderr);
    abort();
}

/* The work teardown may do (rt->teardown_budget): its finalize callbacks,
   and the objects its collections find unreachable, each at most
   TEARDOWN_MIN_WORK plus TEARDOWN_WORK_PER_OBJECT per object alive when it
   starts. A heap whose finalizers make no garbage needs at most one unit per
   object; finalizers that keep making garbage (or keep registering finalize
   callbacks) spend the rest and are then stopped, with a report, instead of
   running for ever. */
#define TEARDOWN_MIN_WORK ((size_t)100000)
#define TEARDOWN_WORK_PER_OBJECT ((size_t)4)

static size_t teardown_budget(const rcy_runtime_t *rt)
{
    size_t budget;
    if (!rcyi_size_mul(rcyi_live_objects(rt, NULL), TEARDOWN_WORK_PER_OBJECT, &budget) ||
        !rcyi_size_add(budget, TEARDOWN_MIN_WORK, &budget))
        budget = SIZE_MAX;
    return budget;
}

void rcy_runtime_destroy(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return;
    destroy_begin(rt);
    RCYI_VALIDATE_HEAP(rt, "at teardown");
    rt->teardown_budget = teardown_budget(rt);
    /* Like CPython's atexit: live finalize registrations run first. */
    rcyi_finalize_atexit(rt);
    rcyi_roots_release(rt);
    /* The pending error's value is a reference the runtime holds, like a
       root's: released before the collections (its message at the end). */
    if (rt->error_value != NULL) {
        rcy_object_t *v = rt->error_value;
        rt->error_value = NULL;
        rcy_decref(v);
    }
    rt->tearing_down = true;
    rcyi_gc_collect_shutdown(rt);
    if (rt->n_immortals > 0) {
        /* Their slots run, then what they left is collected while all of
           their memory is still there, then it is freed. */
        rcyi_release_immortals(rt);
        rcyi_gc_collect_shutdown(rt);
        rcyi_free_immortals(rt);
    }
    /* Registrations made by finalizers during these collections can no
       longer run: drop them unrun (CPython's finalize during late
       shutdown); the registry's references are not leaks. */
    rcyi_finalize_drop_all(rt);
    rcyi_trace_fini(rt);
    RCYI_VALIDATE_HEAP(rt, "after teardown's collections");
    report_survivors(rt);
    rcyi_gc_fini(rt);
    if (rt->clear_freelists != NULL)
        rt->clear_freelists(rt);
    rcyi_builtins_fini(rt);
    rcyi_free(rt, rt->error_message);
    rt->error_message = NULL;
    rcyi_quarantine_flush(rt);
    rcyi_free(rt, rt->immortals);
    rcyi_free(rt, rt->quarantine);
    rcyi_pool_fini(rt);
    /* Survivors keep pointing at their types; leaking the types with them
       would only hide the report above, so the types go as well. */
    rcy_type_t *t = rt->types;
    while (t != NULL) {
        rcy_type_t *next = t->next_type;
        rcyi_free(rt, t->name);
        rcyi_free(rt, t);
        t = next;
    }
    rcy_allocator_t alloc = rt->alloc;
    live_remove(rt);
    rt->magic = RCYI_RUNTIME_DEAD; /* what later calls with the handle find (rcyi_check_runtime) */
    alloc.free_fn(alloc.ctx, rt);
}
