/*
 * The seeds' memory scenarios, written with recycle's built-in types, with
 * the process memory (USS, as psutil's memory_full_info().uss) printed
 * before and after as the seeds print it:
 *
 *   1. a list of 10,000,000 ints made inside a function is freed when the
 *      function returns (its local reference dies);
 *   2. made global, it stays;
 *   3. returned to the caller, it stays;
 *   4. two such lists referencing each other stay after the function
 *      returns, and go with an explicit collection;
 *   5. del, then collect.
 *
 * Then the seeds' reference-count walk-throughs: the number 11 (a
 * binding, a call argument, a container slot, each changing the count) and
 * an empty list passed to a function and bound to seven names.
 *
 * recycle frees an object the moment its count reaches zero. Ints and
 * floats live in 256 KiB arenas that go back to the system as soon as all
 * their objects are dead, as CPython's arenas do, so USS falls as in the
 * seeds. (In a build without free lists, or with poisoning, they are plain
 * malloc blocks, which glibc keeps for reuse rather than returning.)
 *
 * Usage: memory_tour [N]   (N ints per list; default 10,000,000)
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */

#include "recycle.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static rcy_runtime_t *rt;
static long n_items = 10000000;

/* def show_memory_info(hint): ... print('{} memory used: {} MB'.format(hint, uss / 1024 / 1024)) */
static void show_memory_info(const char *hint)
{
    rcy_process_memory_t m;
    rcy_process_memory_init(&m);
    if (rcy_process_memory(&m) == 0)
        printf("%s memory used: %.2f MB\n", hint, (double)m.uss / 1024.0 / 1024.0);
    else
        printf("%s memory used: unknown (no /proc)\n", hint);
}

static void die(const char *what)
{
    fprintf(stderr, "memory_tour: %s: %s\n", what, rcy_strerror(rcy_last_error(rt)));
    exit(1);
}

/* [i for i in range(N)]: a new reference to a list of N ints. */
static rcy_object_t *int_list(void)
{
    rcy_object_t *a = rcy_list_new(rt);
    if (a == NULL)
        die("list");
    for (long i = 0; i < n_items; i++) {
        rcy_object_t *x = rcy_int_new(rt, i);
        if (x == NULL || rcy_list_append(a, x) < 0)
            die("append");
        rcy_decref(x);
    }
    return a;
}

static void heading(const char *text) { printf("\n== %s\n", text); }

/* ---- 1. A local list dies with its function --------------------------- */

static void func_local(void)
{
    show_memory_info("initial");
    rcy_object_t *a = int_list();
    show_memory_info("after a created");
    rcy_decref(a); /* the function returns: its local reference goes */
}

/* ---- 2. A global list stays ------------------------------------------ */

static rcy_object_t *global_a;

static void func_global(void)
{
    show_memory_info("initial");
    global_a = int_list(); /* global a */
    show_memory_info("after a created");
}

/* ---- 3. A returned list stays ----------------------------------------- */

static rcy_object_t *func_return(void)
{
    show_memory_info("initial");
    rcy_object_t *a = int_list();
    show_memory_info("after a created");
    return a; /* the caller gets the reference */
}

/* ---- 4. Two lists in a cycle stay until collected --------------------- */

static void func_cycle(void)
{
    show_memory_info("initial");
    rcy_object_t *a = int_list();
    rcy_object_t *b = int_list();
    show_memory_info("after a, b created");
    rcy_list_append(a, b); /* a.append(b) */
    rcy_list_append(b, a); /* b.append(a) */
    rcy_decref(a);         /* the locals go ... */
    rcy_decref(b);         /* ... but each list keeps the other alive */
}

/* ---- The reference-count walk-throughs -------------------------------- */

/* def func(c): print('in func function', sys.getrefcount(c) - 1) */
static void func(rcy_object_t *c) { printf("in func function %" PRIdPTR "\n", rcy_getrefcount(c)); }

static void refcount_walkthrough(void)
{
    heading("the reference count of 11 (seed: sys.getrefcount(11) - 1 at each step)");
    rcy_object_t *eleven = rcy_int_new(rt, 11);
    printf("rcy_getrefcount(11) = %" PRIdPTR " (RCY_REFCNT_IMMORTAL), before and after anything\n",
           rcy_getrefcount(eleven));
    printf("11 is in the small-int cache (-5..256): one immortal object per runtime whose count never\n"
           "changes -- as in CPython 3.12+ (PEP 683), where the seed's numbers (140, 141, ...) would all\n"
           "print the same huge value. So the walk-through below uses 1000000, which is not cached.\n"
           "rcy_getrefcount(x) is the true count, the seed's sys.getrefcount(x) - 1.\n\n");

    /* The literal lives in the code's constants (CPython's co_consts): that
       is the reference the count starts from. */
    rcy_object_t *big = rcy_int_new(rt, 1000000);
    rcy_object_t *twelve = rcy_int_new(rt, 12), *fourteen = rcy_int_new(rt, 14);
    rcy_object_t *consts = rcy_tuple_new(rt, 1, &big);
    rcy_decref(big);
    rcy_object_t *x = rcy_tuple_get(consts, 0); /* borrowed: the literal */
    printf("init %" PRIdPTR "   (held by the code's constants)\n", rcy_getrefcount(x));

    rcy_object_t *a = rcy_newref(x); /* a = 1000000 */
    printf("after a=1000000 %" PRIdPTR "\n", rcy_getrefcount(x));
    rcy_object_t *b = rcy_newref(a); /* b = a */
    printf("after b=a %" PRIdPTR "\n", rcy_getrefcount(x));
    func(a);
    printf("   (a C callee borrows its argument: no change; CPython adds two during the call,\n"
           "    the caller's stack slot and the parameter, hence the seed's +2)\n");
    printf("after func(a) %" PRIdPTR "\n", rcy_getrefcount(x));
    rcy_object_t *items[3] = {a, twelve, fourteen};
    rcy_object_t *list1 = rcy_list_new(rt); /* list1 = [a, 12, 14] */
    for (int i = 0; i < 3; i++)
        rcy_list_append(list1, items[i]);
    printf("after list1=[a,12,14] %" PRIdPTR "\n", rcy_getrefcount(x));
    RCY_SETREF(a, twelve); /* a = 12 */
    printf("after a=12 %" PRIdPTR "\n", rcy_getrefcount(x));
    RCY_CLEAR(a); /* del a (it named 12 by then) */
    printf("after del a %" PRIdPTR "\n", rcy_getrefcount(x));
    RCY_CLEAR(b); /* del b */
    printf("after del b %" PRIdPTR "\n", rcy_getrefcount(x));
    RCY_CLEAR(list1); /* del list1 */
    printf("after del list1 %" PRIdPTR "\n", rcy_getrefcount(x));
    rcy_decref(consts);

    heading("the reference count of a list (seed: a = []; func(a); b = a; c = b; ...)");
    rcy_object_t *la = rcy_list_new(rt); /* a = [] */
    printf("%" PRIdPTR "   (the seed prints 2: a, and getrefcount's own argument)\n", rcy_getrefcount(la));
    func(la);
    printf("%" PRIdPTR "   (back after the call)\n", rcy_getrefcount(la));
    rcy_object_t *lb = rcy_newref(la); /* b = a */
    printf("%" PRIdPTR "   (b = a)\n", rcy_getrefcount(la));
    rcy_object_t *lc = rcy_newref(lb), *ld = rcy_newref(lb), *le = rcy_newref(lc); /* c = b; d = b; e = c */
    rcy_object_t *lf = rcy_newref(le), *lg = rcy_newref(ld);                       /* f = e; g = d */
    printf("%" PRIdPTR "   (a, b, c, d, e, f, g: seven names, one object; the seed prints 8)\n", rcy_getrefcount(la));
    rcy_object_t *names[] = {la, lb, lc, ld, le, lf, lg};
    for (int i = 0; i < 7; i++)
        rcy_decref(names[i]);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        char *end;
        n_items = strtol(argv[1], &end, 10);
        if (n_items < 0 || *end != '\0' || argc > 2) {
            fprintf(stderr, "usage: memory_tour [N]\n");
            return 2;
        }
    }
    double t0 = seconds();
    rt = rcy_runtime_new(NULL);
    if (rt == NULL) {
        fprintf(stderr, "memory_tour: cannot create a runtime\n");
        return 1;
    }
    printf("recycle %s: the seeds' memory scenarios with lists of %ld ints.\n", rcy_version(), n_items);
    printf("Memory is the process's USS (Private_Clean + Private_Dirty of /proc/self/smaps_rollup).\n");
    if (!rcy_freelists_enabled(rt))
        printf("(Free lists and int arenas are off in this build: freed ints go back to malloc,\n"
               "which keeps them for reuse, so USS will not fall as in the seeds.)\n");

    heading("1. a = [i for i in range(N)] inside a function, freed when it returns");
    func_local();
    show_memory_info("finished");

    heading("2. global a: the list outlives the function");
    func_global();
    show_memory_info("finished");
    RCY_CLEAR(global_a); /* del a, before the next scenario */

    heading("3. a = func(): the returned list stays with the caller");
    rcy_object_t *a = func_return();
    show_memory_info("finished");
    rcy_decref(a);

    heading("4. a.append(b); b.append(a): the cycle outlives the function");
    func_cycle();
    show_memory_info("finished");
    intptr_t found = rcy_gc_collect(rt, 2); /* gc.collect() */
    printf("gc.collect() found %" PRIdPTR " unreachable objects (the two lists; ints are not tracked)\n", found);
    show_memory_info("after gc.collect()");

    heading("5. del a; gc.collect()");
    show_memory_info("initial");
    a = int_list();
    show_memory_info("after a created");
    rcy_decref(a); /* del a */
    rcy_gc_collect(rt, 2);
    show_memory_info("finish");

    refcount_walkthrough();

    printf("\nlive objects at the end: %zu\n", rcy_runtime_live_objects(rt));
    rcy_runtime_destroy(rt);
    printf("(%.2f s)\n", seconds() - t0);
    return 0;
}
