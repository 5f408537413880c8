/*
 * What every layer uses: the version string, allocation through the
 * runtime's hooks, the error code, output and error reporting through the
 * runtime's hooks, and the fatal reports of heap corruption and of a
 * runtime used after it was destroyed; the check of UTF-8 text and of type
 * names.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RCYI_STR(x) #x
#define RCYI_XSTR(x) RCYI_STR(x)

const char *rcy_version(void)
{
    return RCYI_XSTR(RCY_VERSION_MAJOR) "." RCYI_XSTR(RCY_VERSION_MINOR) "." RCYI_XSTR(RCY_VERSION_PATCH);
}

const char *rcy_strerror(int code)
{
    switch (code) {
    case RCY_OK: return "success";
    case RCY_ENOMEM: return "out of memory";
    case RCY_EINVAL:
        return "invalid argument (NULL, out of range, or a struct whose size field was not set by its init "
               "function, such as rcy_config_init, for this version of recycle.h)";
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

/* ---- Allocation through the hooks ------------------------------------ */

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

void *rcyi_malloc_array(rcy_runtime_t *rt, size_t n, size_t elem)
{
    size_t size;
    if (!rcyi_size_mul(n, elem, &size)) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    return rcyi_malloc(rt, size);
}

void *rcyi_realloc_array(rcy_runtime_t *rt, void *ptr, size_t n, size_t elem)
{
    size_t size;
    if (!rcyi_size_mul(n, elem, &size)) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    return rcyi_realloc(rt, ptr, size);
}

void *rcyi_array_grow(rcy_runtime_t *rt, void *items, size_t *cap, size_t first, size_t elem)
{
    size_t next = rcyi_grow_cap(*cap, first, elem);
    void *grown = next != 0 ? rcyi_realloc_array(rt, items, next, elem) : NULL;
    if (grown == NULL) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    *cap = next;
    return grown;
}

void rcyi_free(rcy_runtime_t *rt, void *ptr)
{
    if (ptr != NULL)
        rt->alloc.free_fn(rt->alloc.ctx, ptr);
}

int rcyi_set_error(rcy_runtime_t *rt, int code)
{
    rt->last_error = code;
    rt->error_seq++; /* a message or value set before no longer applies */
    return code;
}

void rcyi_err_discard(rcy_runtime_t *rt, char *message, rcy_object_t *value)
{
    rcyi_free(rt, message);
    if (value != NULL)
        rt->release_error_value(value); /* may run a finalizer (object.c, above this layer) */
}

int rcy_last_error(const rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    return rt->last_error;
}

/* ---- Output ---------------------------------------------------------- */

void rcyi_stderr_output(void *arg, const char *text)
{
    (void)arg;
    fputs(text, stderr);
    fflush(stderr);
}

const char rcyi_output_hook[] = "the output hook", rcyi_error_hook[] = "the error hook";

/* The hooks are user code: they run in a callback frame. */
static void call_output(rcy_runtime_t *rt, const char *text)
{
    rcyi_running_t f;
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es);
    rcyi_enter(rt, &f, rcyi_output_hook, NULL);
    rt->output(rt->output_arg, text);
    rcyi_leave(rt, &f);
    rcyi_err_restore(rt, &es);
}

static void call_error(rcy_runtime_t *rt, const char *text)
{
    rcyi_running_t f;
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es);
    rcyi_enter(rt, &f, rcyi_error_hook, NULL);
    rt->error(rt->error_arg, text);
    rcyi_leave(rt, &f);
    rcyi_err_restore(rt, &es);
}

/* Forwards an error message to the output hook as one line, whatever its
   length: the message and its newline in one call (copied on the stack, or
   with plain malloc when long, so that an injected allocation failure
   cannot lose it), or, when even that copy fails, the message and then the
   newline, in two calls. */
void rcyi_default_error(void *arg, const char *message)
{
    rcy_runtime_t *rt = arg;
    size_t n = strlen(message);
    if (n > 0 && message[n - 1] == '\n') {
        call_output(rt, message);
        return;
    }
    char small[512];
    char *line = n + 2 <= sizeof small ? small : (n < SIZE_MAX - 1 ? malloc(n + 2) : NULL);
    if (line == NULL) {
        call_output(rt, message);
        call_output(rt, "\n");
        return;
    }
    memcpy(line, message, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    call_output(rt, line);
    if (line != small)
        free(line);
}

void rcy_runtime_print(rcy_runtime_t *rt, const char *text)
{
    if (rt == NULL)
        return;
    RCYI_CHECK_RT(rt);
    if (text != NULL)
        call_output(rt, text);
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
        call_error(rt, text);
    else
        call_output(rt, text);
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
    rcyi_fatal_because(o, what, "a missing incref or an extra decref");
}

void rcyi_fatal_because(const rcy_object_t *o, const char *what, const char *cause)
{
    /* The object may be freed: read only its type pointer, which poisoning
       keeps intact, and the type's runtime, which outlives every object. */
    const rcy_type_t *type = o->type;
    rcy_runtime_t *rt = type ? type->rt : NULL;
    char buf[512];
    snprintf(buf, sizeof buf,
             "recycle: fatal error: %s: object <%s %p>\n"
             "recycle: the heap is corrupt (%s); aborting\n",
             what, type && type->name ? type->name : "?", (const void *)o, cause);
    if (rt != NULL && rt->output != NULL)
        rt->output(rt->output_arg, buf);
    else
        fputs(buf, stderr);
    fflush(stderr);
    abort();
}

void rcyi_fatal_runtime(const rcy_runtime_t *rt, const char *fn)
{
    /* Nothing of rt is read but its magic, and under AddressSanitizer not
       even that while its block is freed. */
    bool dead;
#ifdef RCYI_ASAN
    dead = __asan_address_is_poisoned(&rt->magic) || rt->magic == RCYI_RUNTIME_DEAD;
#else
    dead = rt->magic == RCYI_RUNTIME_DEAD;
#endif
    fprintf(stderr,
            "recycle: fatal error: %s called with %s: runtime <%p>\n"
            "recycle: a runtime handle was used after rcy_runtime_destroy (or was never one); aborting\n",
            fn, dead ? "a destroyed runtime" : "a pointer that is not a live runtime", (const void *)rt);
    fflush(stderr);
    abort();
}

/* ---- Text ------------------------------------------------------------ */

bool rcyi_utf8_valid(const char *s, size_t n)
{
    if (n == 0)
        return true;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t len;
        unsigned min, cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, min = 0x10000, cp = c & 0x07;
        } else {
            return false; /* a continuation byte, or C0, C1, F5..FF */
        }
        if ((size_t)(end - p) < len)
            return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false; /* overlong, out of range, or a surrogate */
        p += len;
    }
    return true;
}

bool rcyi_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    size_t n = strlen(name);
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7F)
            return false; /* C0 controls (newline, tab, escape...) and DEL */
        if (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
            return false; /* C1 controls, U+0080..U+009F */
    }
    return rcyi_utf8_valid(name, n);
}
