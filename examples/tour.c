/*
 * The tour: the seeds' scenarios, run with recycle, step by step.
 *
 *   1. Reference counting: objects die the moment their last reference goes.
 *   2. Cycles leak under reference counting; the collector frees them.
 *   3. The seeds' six-node graph: what is unreachable from the root.
 *   4. The generation counters and automatic collection.
 *   5. Finalizers in cycles (Python 3.4+), legacy finalizers and garbage.
 *   6. Weak references break cycles.
 *
 * Run it with `make demo`.
 */
#include "recycle.h"

#include <stdio.h>
#include <string.h>

/* ClassA of the seeds: prints when born and when it dies (__del__). */
typedef struct obj_s {
    rcy_object_t ob;
    rcy_object_t *t;       /* the seeds' attribute t */
    rcy_object_t *child;
    rcy_object_t *weaklist;
    char name;
} obj_t;

static int obj_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    obj_t *o = (obj_t *)self;
    RCY_VISIT(o->t);
    RCY_VISIT(o->child);
    return 0;
}

static int obj_clear(rcy_object_t *self)
{
    obj_t *o = (obj_t *)self;
    RCY_CLEAR(o->t);
    RCY_CLEAR(o->child);
    return 0;
}

static int class_a_del(rcy_object_t *self)
{
    printf("object del,id:%p\n", (void *)self);
    return 0;
}

static void dealloc_named(rcy_object_t *self)
{
    obj_t *o = (obj_t *)self;
    if (o->name)
        printf("  freed %c\n", o->name);
    obj_clear(self);
}

static int legacy_del(rcy_object_t *self)
{
    printf("  legacy __del__ of %p\n", (void *)self);
    return 0;
}

static rcy_type_t *make_type(rcy_runtime_t *rt, const char *name, rcy_finalize_fn fin, rcy_finalize_fn legacy,
                             rcy_dealloc_fn dealloc)
{
    rcy_type_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.name = name;
    spec.basicsize = sizeof(obj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = obj_traverse;
    spec.clear = obj_clear;
    spec.finalize = fin;
    spec.legacy_del = legacy;
    spec.dealloc = dealloc;
    spec.weaklistoffset = offsetof(obj_t, weaklist);
    return rcy_type_new(rt, &spec);
}

static obj_t *born(rcy_type_t *t)
{
    obj_t *o = (obj_t *)rcy_new(t);
    printf("object born,id:%p\n", (void *)o);
    return o;
}

static void set(rcy_object_t **field, void *value) { RCY_XSETREF(*field, (rcy_object_t *)value); }

static void print_count(rcy_runtime_t *rt, const char *when)
{
    int c[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, c);
    printf("  %-28s get_count() = (%d, %d, %d)\n", when, c[0], c[1], c[2]);
}

static void heading(const char *title) { printf("\n==== %s ====\n", title); }

/* ---- 1. Reference counting ------------------------------------------- */

static void f1(rcy_type_t *class_a)
{
    obj_t *c1 = born(class_a);
    rcy_decref(&c1->ob); /* del c1: the count reaches 0, __del__ runs now */
}

static void show_count(const char *what, rcy_object_t *o)
{
    printf("  %-26s rcy_getrefcount = %ld   (sys.getrefcount would say %ld)\n", what, (long)rcy_getrefcount(o),
           (long)rcy_getrefcount(o) + 1);
}

static void func(rcy_object_t *c)
{
    rcy_incref(c); /* the callee's own reference, as a Python frame holds one */
    show_count("in func(a)", c);
    rcy_decref(c);
}

static void tour_refcount(rcy_runtime_t *rt, rcy_type_t *class_a, rcy_type_t *plain)
{
    heading("1. Reference counting frees at once");
    f1(class_a);
    printf("  live objects after f1(): %zu\n", rcy_runtime_live_objects(rt));

    rcy_object_t *a = rcy_new(plain); /* a = [] */
    show_count("a = []", a);
    rcy_object_t *b = rcy_newref(a); /* b = a */
    show_count("b = a", a);
    func(a);
    show_count("after func(a)", a);
    obj_t *holder = (obj_t *)rcy_new(plain);
    set(&holder->t, a); /* list1 = [a] */
    show_count("stored in a container", a);
    RCY_CLEAR(b); /* del b */
    show_count("del b", a);
    rcy_decref(&holder->ob); /* del list1 */
    show_count("container released", a);
    rcy_decref(a);
    printf("  live objects now: %zu\n", rcy_runtime_live_objects(rt));
}

/* ---- 2. Cycles ------------------------------------------------------- */

static void f2(rcy_type_t *class_a)
{
    obj_t *c1 = born(class_a), *c2 = born(class_a);
    set(&c1->t, c2); /* c1.t = c2 */
    set(&c2->t, c1); /* c2.t = c1 */
    rcy_decref(&c1->ob); /* del c1 */
    rcy_decref(&c2->ob); /* del c2 */
}

static void tour_cycles(rcy_runtime_t *rt, rcy_type_t *class_a)
{
    heading("2. A cycle leaks under reference counting; the collector frees it");
    rcy_gc_disable(rt);
    f2(class_a);
    printf("  gc disabled: after f2() %zu objects are still alive (nothing printed 'del')\n",
           rcy_runtime_live_objects(rt));
    rcy_gc_set_debug(rt, RCY_DEBUG_STATS);
    intptr_t n = rcy_gc_collect(rt, 2);
    rcy_gc_set_debug(rt, 0);
    printf("  gc.collect() returned %ld; live objects: %zu\n", (long)n, rcy_runtime_live_objects(rt));
    rcy_gc_enable(rt);
}

/* ---- 3. The six-node graph ------------------------------------------- */

static void tour_graph(rcy_runtime_t *rt, rcy_type_t *named)
{
    heading("3. The seeds' graph: A->B->E, A->C->E, B->A, D->F, F->D; root A");
    obj_t *n[6];
    for (int i = 0; i < 6; i++) {
        n[i] = (obj_t *)rcy_new(named);
        n[i]->name = (char)('A' + i);
    }
    enum { A, B, C, D, E, F };
    set(&n[A]->t, n[B]);
    set(&n[A]->child, n[C]);
    set(&n[B]->t, n[E]);
    set(&n[B]->child, n[A]);
    set(&n[C]->t, n[E]);
    set(&n[D]->t, n[F]);
    set(&n[F]->t, n[D]);
    for (int i = 1; i < 6; i++)
        rcy_decref(&n[i]->ob); /* only A is held (the root) */
    intptr_t found = rcy_gc_collect(rt, 2);
    printf("  collect() found %ld unreachable objects (D and F); A, B, C, E live on\n", (long)found);
    rcy_decref(&n[A]->ob); /* A <-> B is a cycle too */
    printf("  root dropped; collect() found %ld more\n", (long)rcy_gc_collect(rt, 2));
}

/* ---- 4. Counters ----------------------------------------------------- */

static void tour_counters(rcy_runtime_t *rt, rcy_type_t *plain)
{
    heading("4. Generation counters with thresholds (700, 10, 10)");
    rcy_gc_collect(rt, 2);
    print_count(rt, "after collect():");
    rcy_object_t *keep[800];
    for (int i = 0; i < 700; i++)
        keep[i] = rcy_new(plain);
    print_count(rt, "700 containers later:");
    keep[700] = rcy_new(plain);
    print_count(rt, "one more (count0 > 700):");
    printf("  the 701st allocation ran collect(0): survivors moved to generation 1\n");
    for (int i = 0; i < 701; i++)
        rcy_decref(keep[i]);
    print_count(rt, "all released:");
}

/* ---- 5. Finalizers --------------------------------------------------- */

static void tour_finalizers(rcy_runtime_t *rt, rcy_type_t *class_a, rcy_type_t *t2)
{
    heading("5. Finalizers in a cycle are collectable (Python 3.4+)");
    f2(class_a);
    printf("  collect() = %ld\n", (long)rcy_gc_collect(rt, 2));

    heading("5b. A legacy finalizer in a cycle: uncollectable, kept in garbage");
    rcy_gc_set_debug(rt, RCY_DEBUG_UNCOLLECTABLE);
    obj_t *a = (obj_t *)rcy_new(t2), *b = (obj_t *)rcy_new(t2);
    set(&a->child, b); /* a.child = b */
    set(&b->t, a);     /* b.parent = a */
    rcy_decref(&a->ob);
    rcy_decref(&b->ob);
    intptr_t found = rcy_gc_collect(rt, 2);
    printf("  collect() = %ld, len(garbage) = %zu\n", (long)found, rcy_gc_garbage_len(rt));
    rcy_gc_set_debug(rt, 0);
    /* Break the cycle by hand, as the seeds advise, then let it go. */
    RCY_CLEAR(((obj_t *)rcy_gc_garbage_get(rt, 0))->child);
    rcy_gc_garbage_clear(rt);
    printf("  cycle broken by hand, garbage cleared: live objects %zu\n", rcy_runtime_live_objects(rt));
}

/* ---- 6. Weak references ---------------------------------------------- */

static int went_away(rcy_object_t *wr, void *arg)
{
    (void)wr;
    printf("  weakref callback: %s went away\n", (const char *)arg);
    return 0;
}

static void tour_weakref(rcy_runtime_t *rt, rcy_type_t *class_a)
{
    heading("6. A weak reference breaks a cycle");
    obj_t *parent = born(class_a), *child = born(class_a);
    set(&parent->child, child);
    /* The child points back to its parent weakly: no cycle. */
    rcy_object_t *back = rcy_weakref_new(&parent->ob, went_away, "parent");
    set(&child->t, back);
    rcy_decref(back);
    rcy_decref(&child->ob);
    rcy_gc_disable(rt);
    rcy_decref(&parent->ob); /* freed at once: no collector needed */
    rcy_gc_enable(rt);
    printf("  live objects: %zu (the collector was disabled)\n", rcy_runtime_live_objects(rt));
}

/* The runtime's output (gc debug lines) goes to stdout, in order with ours. */
static void to_stdout(void *arg, const char *text)
{
    (void)arg;
    fputs(text, stdout);
}

int main(void)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = to_stdout;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL)
        return 1;
    rcy_type_t *class_a = make_type(rt, "ClassA", class_a_del, NULL, NULL);
    rcy_type_t *plain = make_type(rt, "list", NULL, NULL, NULL);
    rcy_type_t *named = make_type(rt, "Graph", NULL, NULL, dealloc_named);
    rcy_type_t *t2 = make_type(rt, "T2", NULL, legacy_del, NULL);

    tour_refcount(rt, class_a, plain);
    tour_cycles(rt, class_a);
    tour_graph(rt, named);
    tour_counters(rt, plain);
    tour_finalizers(rt, class_a, t2);
    tour_weakref(rt, class_a);

    printf("\nlive objects at the end: %zu\n", rcy_runtime_live_objects(rt));
    rcy_runtime_destroy(rt);
    return 0;
}
