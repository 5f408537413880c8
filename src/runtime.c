/*
 * Runtime lifecycle, configuration, allocation hooks, output and error hooks,
 * and teardown.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rcy_version(void) { return "0.1.0"; }

const char *rcy_strerror(int code)
{
    switch (code) {
    case RCY_OK: return "success";
    case RCY_ENOMEM: return "out of memory";
    case RCY_EINVAL: return "invalid argument";
    case RCY_ETYPE: return "wrong object type";
    case RCY_EINDEX: return "index out of range";
    case RCY_EKEY: return "key not found";
    case RCY_EHASH: return "unhashable object";
    case RCY_ESTATE: return "operation not allowed in the current state";
    case RCY_ECALLBACK: return "a callback reported an error";
    case RCY_ERUNTIME: return "the objects belong to different runtimes";
    case RCY_EDEPTH: return "nesting too deep for the stack";
    case RCY_ECORRUPT: return "heap validation found an inconsistency (reported through the output hook)";
    default: return "unknown error";
    }
}

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

void *rcyi_malloc(rcy_runtime_t *rt, size_t size)
{
    void *p = rt->alloc.malloc_fn(rt->alloc.ctx, size ? size : 1);
    if (p == NULL)
        rcyi_set_error(rt, RCY_ENOMEM);
    return p;
}

void *rcyi_realloc(rcy_runtime_t *rt, void *ptr, size_t size)
{
    void *p = rt->alloc.realloc_fn(rt->alloc.ctx, ptr, size ? size : 1);
    if (p == NULL)
        rcyi_set_error(rt, RCY_ENOMEM);
    return p;
}

void rcyi_free(rcy_runtime_t *rt, void *ptr)
{
    if (ptr != NULL)
        rt->alloc.free_fn(rt->alloc.ctx, ptr);
}

int rcyi_set_error(rcy_runtime_t *rt, int code)
{
    rt->last_error = code;
    return code;
}

int rcy_last_error(const rcy_runtime_t *rt) { return rt ? rt->last_error : RCY_EINVAL; }

/* ---- Output ---------------------------------------------------------- */

static void stderr_output(void *arg, const char *text)
{
    (void)arg;
    fputs(text, stderr);
    fflush(stderr);
}

static void default_error(void *arg, const char *message)
{
    rcy_runtime_t *rt = arg;
    size_t n = strlen(message);
    if (n > 0 && message[n - 1] == '\n') {
        rt->output(rt->output_arg, message);
    } else {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s\n", message);
        rt->output(rt->output_arg, buf);
    }
}

void rcy_runtime_print(rcy_runtime_t *rt, const char *text)
{
    if (rt != NULL && text != NULL)
        rt->output(rt->output_arg, text);
}

RCY_PRINTF(3, 0) static void vformat_to(rcy_runtime_t *rt, bool as_error, const char *fmt, va_list ap)
{
    char small[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    char *text = small;
    char *big = NULL;
    if (n >= (int)sizeof small) {
        /* Long lines are rare (a long repr of garbage); use plain malloc so
           that an injected allocation failure cannot lose the message. */
        big = malloc((size_t)n + 1);
        if (big != NULL) {
            vsnprintf(big, (size_t)n + 1, fmt, ap2);
            text = big;
        }
    }
    va_end(ap2);
    if (as_error)
        rt->error(rt->error_arg, text);
    else
        rt->output(rt->output_arg, text);
    free(big);
}

void rcyi_printf(rcy_runtime_t *rt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_to(rt, false, fmt, ap);
    va_end(ap);
}

void rcyi_report_error(rcy_runtime_t *rt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_to(rt, true, fmt, ap);
    va_end(ap);
}

void rcyi_fatal(const rcy_object_t *o, const char *what)
{
    /* The object may be freed: read only its type pointer, which poisoning
       keeps intact, and the type's runtime, which outlives every object. */
    const rcy_type_t *type = o->type;
    rcy_runtime_t *rt = type ? type->rt : NULL;
    char buf[512];
    snprintf(buf, sizeof buf,
             "recycle: fatal error: %s: object <%s %p>\n"
             "recycle: the heap is corrupt (a missing incref or an extra decref); aborting\n",
             what, type && type->name ? type->name : "?", (const void *)o);
    if (rt != NULL && rt->output != NULL)
        rt->output(rt->output_arg, buf);
    else
        fputs(buf, stderr);
    fflush(stderr);
    abort();
}

/* ---- Lifecycle ------------------------------------------------------- */

void rcy_config_init(rcy_config_t *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->threshold0 = 700;
    cfg->threshold1 = 10;
    cfg->threshold2 = 10;
    cfg->poison = -1;
    cfg->quarantine = 1024;
}

rcy_runtime_t *rcy_runtime_new(const rcy_config_t *cfg)
{
    rcy_config_t defaults;
    if (cfg == NULL) {
        rcy_config_init(&defaults);
        cfg = &defaults;
    }
    if (cfg->threshold0 < 0 || cfg->threshold1 < 0 || cfg->threshold2 < 0 || !rcyi_gc_debug_flags_valid(cfg->debug_flags))
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
    rt->output = cfg->output ? cfg->output : stderr_output;
    rt->output_arg = cfg->output ? cfg->output_arg : NULL;
    rt->error = cfg->error ? cfg->error : default_error;
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
        rt->quarantine = alloc.malloc_fn(alloc.ctx, cfg->quarantine * sizeof(void *));
        if (rt->quarantine == NULL) {
            alloc.free_fn(alloc.ctx, rt);
            return NULL;
        }
        rt->quarantine_cap = cfg->quarantine;
    }
    if (rcyi_pool_wanted(rt, !all) && rcyi_pool_init(rt) < 0) {
        alloc.free_fn(alloc.ctx, rt->quarantine);
        alloc.free_fn(alloc.ctx, rt);
        return NULL;
    }
    rcyi_gc_init(rt, cfg);
    if (rcyi_builtins_init(rt) < 0) {
        rcy_runtime_destroy(rt);
        return NULL;
    }
    if (rcyi_weakref_init(rt) < 0) {
        rcy_runtime_destroy(rt);
        return NULL;
    }
    return rt;
}

size_t rcyi_live_objects(const rcy_runtime_t *rt, size_t *bytes)
{
    size_t n = 0, b = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type) {
        n += t->live_objects;
        b += t->live_bytes;
    }
    if (bytes != NULL)
        *bytes = b;
    return n;
}

size_t rcy_runtime_live_objects(const rcy_runtime_t *rt) { return rt ? rcyi_live_objects(rt, NULL) : 0; }

size_t rcy_runtime_live_bytes(const rcy_runtime_t *rt)
{
    size_t bytes = 0;
    if (rt != NULL)
        rcyi_live_objects(rt, &bytes);
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
    /* The type list is newest first; print it reversed without allocating. */
    size_t ntypes = 0;
    for (rcy_type_t *t = rt->types; t; t = t->next_type)
        ntypes++;
    for (size_t i = ntypes; i > 0; i--) {
        rcy_type_t *t = rt->types;
        for (size_t k = 1; k < i; k++)
            t = t->next_type;
        if (t->live_objects > 0)
            rcyi_printf(rt, "recycle:   %s: %zu (%zu bytes)\n", t->name, t->live_objects, t->live_bytes);
    }
}

void rcy_runtime_destroy(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return;
    RCYI_VALIDATE_HEAP(rt, "at teardown");
    /* Like CPython's atexit: live finalize registrations run first. */
    rcyi_finalize_atexit(rt);
    rcyi_roots_release(rt);
    rt->tearing_down = true;
    rcyi_gc_collect_shutdown(rt);
    if (rt->n_immortals > 0) {
        rcyi_release_immortals(rt);
        rcyi_gc_collect_shutdown(rt);
    }
    /* Registrations made by finalizers during these collections can no
       longer run: drop them unrun (CPython's finalize during late
       shutdown); the registry's references are not leaks. */
    rcyi_finalize_drop_all(rt);
    RCYI_VALIDATE_HEAP(rt, "after teardown's collections");
    report_survivors(rt);
    rcyi_gc_fini(rt);
    if (rt->clear_freelists != NULL)
        rt->clear_freelists(rt);
    rcyi_builtins_fini(rt);
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
    alloc.free_fn(alloc.ctx, rt);
}
