/*
 * How much C stack the current thread has left: the bounds of its stack,
 * found once per thread (pthread_getattr_np), behind the cheap check that
 * the recursive operations make before each level (rcyi_stack_low in
 * internal.h). CPython 3.14 bounds its C recursion the same way
 * (_Py_InitializeRecursionLimits, _Py_ReachedRecursionLimitWithMargin), as
 * quickjs-ng does (js_check_stack_overflow).
 */
#include "internal.h"

#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#define RCYI_HAVE_STACK_BOUNDS 1
#endif

/* The sanitizers, as gcc and clang tell. */
#if defined(__SANITIZE_ADDRESS__)
#define RCYI_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define RCYI_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCYI_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RCYI_TSAN 1
#endif
#endif

RCYI_FUNC RCYI_TLS rcyi_stack_t rcyi_stack_tls;

#ifdef RCYI_HAVE_STACK_BOUNDS
/* The lowest usable address of the current thread's stack and its size
   (from there up to the top), or false when they cannot be found. */
static bool stack_bounds(uintptr_t *bottom, uintptr_t *size)
{
#if defined(__APPLE__)
    pthread_t self = pthread_self();
    uintptr_t top = (uintptr_t)pthread_get_stackaddr_np(self);
    size_t n = pthread_get_stacksize_np(self);
    if (top == 0 || n == 0 || n > top)
        return false;
    *bottom = top - n;
    *size = n;
    return true;
#else
    /* glibc and musl: the stack's lowest address (above the guard pages)
       and size, for the main thread from its rlimit and mappings. */
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return false;
    void *addr = NULL;
    size_t n = 0;
    int err = pthread_attr_getstack(&attr, &addr, &n);
    pthread_attr_destroy(&attr);
    if (err != 0 || addr == NULL || n == 0 || (uintptr_t)addr > UINTPTR_MAX - n)
        return false;
    *bottom = (uintptr_t)addr;
    *size = n;
    return true;
#endif
}
#endif

/* The stack kept free below the deepest check: what one level of a
   recursive operation and the leaf calls it makes between two checks need
   (the error path; vsnprintf and strtod in a float's repr take 3.5 KiB
   under AddressSanitizer; a describe slot). A quarter of the stack (as
   much as is left below the thread's first check), at least 8 KiB and at most 16 KiB (32 KiB under AddressSanitizer, whose
   redzones make frames two to three times larger), so that a 32 KiB
   thread still nests some dozens of levels and fails cleanly; under
   ThreadSanitizer, which fails when a thread uses more than about half its
   stack (as CPython notes), at least half. */
#ifdef RCYI_ASAN
#define STACK_MARGIN ((uintptr_t)32 * 1024)
#else
#define STACK_MARGIN ((uintptr_t)16 * 1024)
#endif
#define STACK_MARGIN_FLOOR ((uintptr_t)8 * 1024)

static uintptr_t stack_margin(uintptr_t size)
{
#ifdef RCYI_TSAN
    uintptr_t share = size / 2;
    return share > STACK_MARGIN ? share : STACK_MARGIN;
#else
    uintptr_t m = size / 4 < STACK_MARGIN ? size / 4 : STACK_MARGIN;
    return m < STACK_MARGIN_FLOOR ? STACK_MARGIN_FLOOR : m;
#endif
}

/* Finds the thread's bounds the first time; then here is outside the
   fast path's range: either below the limit (true) or not on the thread's
   own stack at all (a signal handler's alternate stack, a coroutine's
   stack: false, the operations' level caps still apply). */
bool rcyi_stack_low_slow(uintptr_t here)
{
    rcyi_stack_t *s = &rcyi_stack_tls;
    if (s->span == 0) {
        uintptr_t bottom = 0, size = 0;
        bool known = false;
#ifdef RCYI_HAVE_STACK_BOUNDS
        known = stack_bounds(&bottom, &size);
#endif
        /* The margin is sized from the stack left below the first check:
           the size glibc reports includes the static TLS block it carves
           from the top of a thread's stack (a few KiB; most of a small
           stack under ThreadSanitizer). */
        uintptr_t left = here >= bottom && here - bottom < size ? here - bottom : size;
        uintptr_t margin = known ? stack_margin(left) : 0;
        if (!known || margin >= size) {
            /* Unknown bounds: the fast path never finds the stack low. */
            s->bottom = 0;
            s->limit = 0;
            s->span = UINTPTR_MAX;
            return false;
        }
        s->bottom = bottom;
        s->limit = bottom + margin;
        s->span = size - margin;
        if (here - s->limit < s->span)
            return false;
    }
    return here >= s->bottom && here < s->limit;
}
