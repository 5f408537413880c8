/*
 * A small test harness: TEST(name) functions registered in main with RUN(),
 * CHECK/CHECK_EQ assertions that record failures and go on, and helpers that
 * make a runtime whose output is captured and that prove, at the end of each
 * test, that the runtime holds zero live objects.
 */
#ifndef RCY_TEST_HARNESS_H
#define RCY_TEST_HARNESS_H

#include "recycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 in the GC-stress build (make test-stress, RCY_GC_STRESS: a collection
   at every container allocation; tests/CMakeLists.txt defines
   RCY_TEST_GC_STRESS), else 0. A test whose scenario depends on exactly
   when automatic collections run must still assert the right thing there. */
#ifdef RCY_TEST_GC_STRESS
#define HARNESS_GC_STRESS 1
#else
#define HARNESS_GC_STRESS 0
#endif

/* 1 when AddressSanitizer instruments the test (GCC defines
   __SANITIZE_ADDRESS__, clang answers __has_feature), else 0: ASan
   replaces malloc, so glibc's malloc statistics stay at 0. */
#if defined(__SANITIZE_ADDRESS__)
#define HARNESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARNESS_ASAN 1
#endif
#endif
#ifndef HARNESS_ASAN
#define HARNESS_ASAN 0
#endif

/* RCY_TEST_SCALE in the environment, a number in (0, 1] (default 1),
   scales down the tests that build millions of objects, for slow runs:
   make test-valgrind sets 0.01. Returns n scaled, and at least min. */
static inline long harness_scaled(long n, long min)
{
    static double scale = -1.0;
    if (scale < 0.0) {
        const char *env = getenv("RCY_TEST_SCALE");
        char *end = NULL;
        scale = env != NULL ? strtod(env, &end) : 1.0;
        if (env != NULL && (end == env || *end != '\0' || !(scale > 0.0 && scale <= 1.0)))
            scale = 1.0;
    }
    long s = (long)((double)n * scale);
    return s < min ? min : s;
}

/* Nonzero when the program runs under Valgrind (which preloads its own
   malloc: glibc's malloc statistics then stay at 0, as under ASan). */
static inline int harness_under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

static int harness_failures;
static int harness_checks;
static const char *harness_current;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        harness_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            harness_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, harness_current, #cond); \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long harness_a_ = (long long)(a), harness_b_ = (long long)(b);                        \
        harness_checks++;                                                                          \
        if (harness_a_ != harness_b_) {                                                            \
            harness_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, __LINE__, \
                    harness_current, #a, harness_a_, #b, harness_b_);                              \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        harness_checks++;                                                                          \
        if ((hay) == NULL || strstr((hay), (needle)) == NULL) {                                    \
            harness_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s: expected to find \"%s\" in:\n%s\n", __FILE__, __LINE__,    \
                    harness_current, (needle), (hay) ? (hay) : "(null)");                          \
        }                                                                                          \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                                  \
    do {                                                                                           \
        harness_current = #name;                                                                   \
        int harness_before_ = harness_failures;                                                    \
        name();                                                                                    \
        fprintf(stderr, "%s %s\n", harness_failures == harness_before_ ? "ok  " : "FAIL", #name);  \
    } while (0)

static inline int harness_summary(void)
{
    fprintf(stderr, "%d checks, %d failures\n", harness_checks, harness_failures);
    return harness_failures == 0 ? 0 : 1;
}

/* Captured output of a runtime. */
typedef struct capture_s {
    char *text;
    size_t len, cap;
} capture_t;

static inline void capture_output(void *arg, const char *text)
{
    capture_t *c = arg;
    size_t n = strlen(text);
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *t = realloc(c->text, cap);
        if (t == NULL)
            abort();
        c->text = t;
        c->cap = cap;
    }
    memcpy(c->text + c->len, text, n + 1);
    c->len += n;
}

static inline void capture_reset(capture_t *c)
{
    if (c->text)
        c->text[0] = '\0';
    c->len = 0;
}

static inline void capture_free(capture_t *c)
{
    free(c->text);
    c->text = NULL;
    c->len = c->cap = 0;
}

/* A runtime with default thresholds whose output (and errors) go to cap. */
static inline rcy_runtime_t *test_runtime(capture_t *cap)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    if (cap != NULL) {
        cfg.output = capture_output;
        cfg.output_arg = cap;
    }
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "cannot create a runtime\n");
        exit(2);
    }
    return rt;
}

/* Ends a test: no object may be alive once the test dropped its references
   and everything collectable was collected. */
static inline void test_runtime_end(rcy_runtime_t *rt)
{
    rcy_gc_collect(rt, 2);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    rcy_runtime_destroy(rt);
}

#endif
