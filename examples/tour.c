/*
 * The tour: the seeds' scenarios, run with recycle, step by step.
 *
 *   1. Reference counting: objects die the moment their last reference goes.
 *   2. Cycles leak under reference counting; the collector frees them.
 *   3. The seeds' six-node graph: what is unreachable from the root.
 *   4. The generation counters and automatic collection.
 *   5. Finalizers in cycles (Python 3.4+), legacy finalizers and garbage.
 *   6. Weak references break cycles.
 *   7. objgraph for C: show_refs / show_backrefs of two lists in a cycle.
 *   8. show_most_common_types and show_growth around a leaking loop.
 *   9. The leak hunt: collect, count, find_backref_chain, fix with weakrefs.
 *  10. Memory figures: RSS/USS/PSS, the runtime's own, trim.
 *
 * Run it with `make demo`. The graphs of 7 and 9 are written to the
 * directory given as the first argument, by default tour-graphs/ in the
 * build directory (TOUR_GRAPH_DIR, set by CMake): PNG images when
 * Graphviz's dot is installed, else their DOT text.
 */
#define _POSIX_C_SOURCE 200809L /* mkdir */

#include "recycle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#ifndef TOUR_GRAPH_DIR
#define TOUR_GRAPH_DIR "tour-graphs"
#endif

/* Where the graphs go (main sets it). */
static const char *graph_dir = TOUR_GRAPH_DIR;

/* dir/name.png in buf. */
static const char *graph_file(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s.png", graph_dir, name);
    return buf;
}

/* The seeds' ClassA: prints when born and when it dies (its __del__). */
static int class_a_del(rcy_object_t *self, void *arg)
{
    (void)arg;
    printf("object del,id:%p\n", (void *)self);
    return 0;
}

/* T2 of the seeds, with a pre-3.4 (legacy) __del__. */
static int t2_legacy_del(rcy_object_t *self, void *arg)
{
    (void)arg;
    printf("  legacy __del__ of %p\n", (void *)self);
    return 0;
}

/* The graph's nodes say when they are freed. */
static int node_del(rcy_object_t *self, void *arg)
{
    (void)arg;
    rcy_object_t *name = rcy_getattr(self, "name");
    printf("  freed %s\n", name != NULL ? rcy_str_data(name) : "?");
    return 0;
}

static rcy_object_t *born(rcy_object_t *cls)
{
    rcy_object_t *o = rcy_instance_new(cls);
    printf("object born,id:%p\n", (void *)o);
    return o;
}

static void print_count(rcy_runtime_t *rt, const char *when)
{
    int c[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, c);
    printf("  %-28s get_count() = (%d, %d, %d)\n", when, c[0], c[1], c[2]);
}

static void heading(const char *title) { printf("\n==== %s ====\n", title); }

/* ---- 1. Reference counting ------------------------------------------- */

static void f1(rcy_object_t *class_a)
{
    rcy_object_t *c1 = born(class_a);
    rcy_decref(c1); /* del c1: the count reaches 0, __del__ runs now */
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

static void tour_refcount(rcy_runtime_t *rt, rcy_object_t *class_a)
{
    heading("1. Reference counting frees at once");
    f1(class_a);
    printf("  ClassA instances alive after f1(): %zu\n", rcy_type_live_objects(rcy_class_instance_type(class_a)));

    rcy_object_t *a = rcy_list_new(rt); /* a = [] */
    show_count("a = []", a);
    rcy_object_t *b = rcy_newref(a); /* b = a */
    show_count("b = a", a);
    func(a);
    show_count("after func(a)", a);
    rcy_object_t *list1 = rcy_list_new(rt);
    rcy_list_append(list1, a); /* list1 = [a, a] */
    rcy_list_append(list1, a);
    show_count("list1 = [a, a]", a);
    RCY_CLEAR(b); /* del b */
    show_count("del b", a);
    rcy_decref(list1); /* del list1 */
    show_count("del list1", a);
    rcy_decref(a);
    printf("  lists alive now: %zu\n", rcy_type_live_objects(rcy_list_type(rt)));
}

/* ---- 2. Cycles ------------------------------------------------------- */

static void f2(rcy_object_t *class_a)
{
    rcy_object_t *c1 = born(class_a), *c2 = born(class_a);
    rcy_setattr(c1, "t", c2); /* c1.t = c2 */
    rcy_setattr(c2, "t", c1); /* c2.t = c1 */
    rcy_decref(c1);           /* del c1 */
    rcy_decref(c2);           /* del c2 */
}

static void tour_cycles(rcy_runtime_t *rt, rcy_object_t *class_a)
{
    heading("2. A cycle leaks under reference counting; the collector frees it");
    rcy_gc_disable(rt);
    f2(class_a);
    printf("  gc disabled: after f2() %zu instances are still alive (nothing printed 'del')\n",
           rcy_type_live_objects(rcy_class_instance_type(class_a)));
    rcy_gc_set_debug(rt, RCY_DEBUG_STATS);
    intptr_t n = rcy_gc_collect(rt, 2);
    rcy_gc_set_debug(rt, 0);
    printf("  gc.collect() returned %ld (as CPython 3.11+); instances alive: %zu\n", (long)n,
           rcy_type_live_objects(rcy_class_instance_type(class_a)));
    rcy_gc_enable(rt);
}

/* ---- 3. The six-node graph ------------------------------------------- */

static void tour_graph(rcy_runtime_t *rt)
{
    heading("3. The seeds' graph: A->B->E, A->C->E, B->A, D->F, F->D; root A");
    rcy_class_spec_t spec = {node_del, NULL, NULL};
    rcy_object_t *graph = rcy_class_new(rt, "Graph", &spec);
    rcy_object_t *n[6];
    for (int i = 0; i < 6; i++) {
        char name[2] = {(char)('A' + i), 0};
        rcy_object_t *s = rcy_str_new(rt, name);
        n[i] = rcy_instance_new(graph);
        rcy_setattr(n[i], "name", s);
        rcy_setattr(n[i], "nodes", rcy_list_new(rt));
        rcy_decref(rcy_getattr(n[i], "nodes")); /* the instance holds it now */
        rcy_decref(s);
    }
    enum { A, B, C, D, E, F };
    int edges[][2] = {{A, B}, {A, C}, {B, A}, {B, E}, {C, E}, {D, F}, {F, D}};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        rcy_list_append(rcy_getattr(n[edges[i][0]], "nodes"), n[edges[i][1]]);
    for (int i = 1; i < 6; i++)
        rcy_decref(n[i]); /* only A is held (the root) */
    intptr_t found = rcy_gc_collect(rt, 2);
    printf("  collect() found %ld unreachable objects: D and F with their node lists; A, B, C, E live on\n",
           (long)found);
    rcy_decref(n[A]); /* A <-> B is a cycle too */
    printf("  root dropped; collect() found %ld more\n", (long)rcy_gc_collect(rt, 2));
    rcy_decref(graph);
}

/* ---- 4. Counters ----------------------------------------------------- */

static void tour_counters(rcy_runtime_t *rt)
{
    heading("4. Generation counters with thresholds (700, 10, 10)");
    rcy_gc_collect(rt, 2);
    print_count(rt, "after collect():");
    rcy_object_t *keep[701];
    for (int i = 0; i < 700; i++)
        keep[i] = rcy_list_new(rt);
    print_count(rt, "700 lists later:");
    keep[700] = rcy_list_new(rt);
    print_count(rt, "one more (count0 > 700):");
    printf("  the 701st allocation ran collect(0): survivors moved to generation 1\n");
    for (int i = 0; i < 701; i++)
        rcy_decref(keep[i]);
    print_count(rt, "all released:");
}

/* ---- 5. Finalizers --------------------------------------------------- */

static void tour_finalizers(rcy_runtime_t *rt, rcy_object_t *class_a)
{
    heading("5. Finalizers in a cycle are collectable (Python 3.4+)");
    f2(class_a);
    printf("  collect() = %ld\n", (long)rcy_gc_collect(rt, 2));

    heading("5b. A legacy finalizer in a cycle: uncollectable, kept in garbage");
    rcy_class_spec_t spec = {NULL, t2_legacy_del, NULL};
    rcy_object_t *t2 = rcy_class_new(rt, "T2", &spec);
    rcy_gc_set_debug(rt, RCY_DEBUG_UNCOLLECTABLE);
    rcy_object_t *a = rcy_instance_new(t2), *b = rcy_instance_new(t2);
    rcy_setattr(a, "child", b);  /* a.child = b */
    rcy_setattr(b, "parent", a); /* b.parent = a */
    rcy_decref(a);
    rcy_decref(b);
    intptr_t found = rcy_gc_collect(rt, 2);
    printf("  collect() = %ld, len(garbage) = %zu\n", (long)found, rcy_gc_garbage_len(rt));
    rcy_gc_set_debug(rt, 0);
    /* Break the cycle by hand, as the seeds advise, then let it go. */
    for (size_t i = 0; i < rcy_gc_garbage_len(rt); i++)
        rcy_delattr(rcy_gc_garbage_get(rt, i), "child");
    rcy_gc_garbage_clear(rt);
    printf("  cycle broken by hand, garbage cleared: T2 instances alive %zu\n",
           rcy_type_live_objects(rcy_class_instance_type(t2)));
    rcy_decref(t2);
}

/* ---- 6. Weak references ---------------------------------------------- */

static int went_away(rcy_object_t *wr, void *arg)
{
    (void)wr;
    printf("  weakref callback: %s went away\n", (const char *)arg);
    return 0;
}

static void tour_weakref(rcy_runtime_t *rt, rcy_object_t *class_a)
{
    heading("6. A weak reference breaks a cycle");
    rcy_object_t *parent = born(class_a), *child = born(class_a);
    rcy_setattr(parent, "child", child);
    /* The child points back to its parent weakly: no cycle. */
    rcy_object_t *back = rcy_weakref_new(parent, went_away, "parent");
    rcy_setattr(child, "parent", back);
    rcy_decref(back);
    rcy_decref(child);
    rcy_gc_disable(rt);
    rcy_decref(parent); /* freed at once: no collector needed */
    rcy_gc_enable(rt);
    printf("  ClassA instances alive: %zu (the collector was disabled)\n",
           rcy_type_live_objects(rcy_class_instance_type(class_a)));
}

static void set_global(rcy_object_t *globals, const char *name, rcy_object_t *value)
{
    rcy_object_t *key = rcy_str_new(rcy_object_runtime(globals), name);
    rcy_dict_set(globals, key, value);
    rcy_decref(key);
}

static rcy_object_t *int_list(rcy_runtime_t *rt, int first, int n)
{
    rcy_object_t *l = rcy_list_new(rt);
    for (int i = 0; i < n; i++) {
        rcy_object_t *x = rcy_int_new(rt, first + i);
        rcy_list_append(l, x);
        rcy_decref(x);
    }
    return l;
}

static void tour_show_refs(rcy_runtime_t *rt, rcy_object_t *globals)
{
    heading("7. show_refs and show_backrefs: two lists that reference each other");
    printf("  a = [1, 2, 3]; b = [4, 5, 6]; a.append(b); b.append(a)\n");
    rcy_object_t *a = int_list(rt, 1, 3), *b = int_list(rt, 4, 3);
    rcy_list_append(a, b);
    rcy_list_append(b, a);
    set_global(globals, "a", a); /* module globals, as in the seeds' script */
    set_global(globals, "b", b);
    rcy_decref(a);
    rcy_decref(b);

    /* objgraph.show_refs([a], filename='show_refs.png'): a DOT file, and a
       PNG made with Graphviz's dot when it is installed; the paths are
       printed. */
    char path[512], file[512];
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.path_out = path;
    opts.path_out_size = sizeof path;
    opts.filename = graph_file(file, sizeof file, "show_refs");
    int r = rcy_show_refs(&a, 1, &opts);
    printf("  show_refs([a]) -> %s%s\n", r >= 0 ? path : "(failed)",
           r == 1 ? " (DOT only: Graphviz's dot is not installed)" : "");
    opts.filename = graph_file(file, sizeof file, "show_backrefs");
    r = rcy_show_backrefs(&a, 1, &opts);
    printf("  show_backrefs([a]) -> %s%s\n", r >= 0 ? path : "(failed)", r == 1 ? " (DOT only)" : "");

    /* The same graph as text: every edge is labelled. */
    printf("  the DOT text of show_refs([a], max_depth=1):\n");
    opts.max_depth = 1;
    opts.output = stdout;
    opts.filename = NULL;
    opts.path_out = NULL;
    rcy_show_refs(&a, 1, &opts);
}

/* ---- 8. Census and growth around a leaking loop ----------------------- */

static void handle_request(rcy_object_t *session_cls, rcy_object_t *cache, int i)
{
    rcy_object_t *s = rcy_instance_new(session_cls);
    rcy_object_t *id = rcy_int_new(rcy_object_runtime(s), 1000 + i);
    rcy_setattr(s, "id", id);
    rcy_decref(id);
    rcy_list_append(cache, s); /* the bug: every session is cached forever */
    rcy_decref(s);
}

static void tour_growth(rcy_runtime_t *rt, rcy_object_t *globals, rcy_object_t *session_cls)
{
    heading("8. show_most_common_types and show_growth around a leaking loop");
    rcy_object_t *cache = rcy_list_new(rt);
    set_global(globals, "cache", cache);
    rcy_decref(cache);
    rcy_growth_t *growth = rcy_growth_new(rt);
    printf("  show_growth() before the loop (the first call reports everything):\n");
    rcy_show_growth(growth, NULL, stdout);
    for (int i = 0; i < 100; i++)
        handle_request(session_cls, cache, i);
    printf("  show_most_common_types(limit=5) after 100 requests (count, bytes):\n");
    rcy_census_show_most_common_types(rt, 5, stdout);
    printf("  show_growth() (count, since the last call, over the peak):\n");
    rcy_show_growth(growth, NULL, stdout);
    for (int i = 100; i < 150; i++)
        handle_request(session_cls, cache, i);
    printf("  50 more requests; show_growth():\n");
    rcy_show_growth(growth, NULL, stdout);
    rcy_growth_free(growth);
}

/* ---- 9. The seeds' leak hunt ------------------------------------------ */

static void tour_leak_hunt(rcy_runtime_t *rt, rcy_object_t *globals)
{
    heading("9. Hunting the leak: collect, count, find the holder, fix");
    size_t before = rcy_census_count(rt, "Session");
    rcy_gc_collect(rt, 2);
    size_t after = rcy_census_count(rt, "Session");
    printf("  count('Session') = %zu; after gc.collect(): %zu -> %s\n", before, after,
           after < before ? "collected" : "the count does not fall: a leak");

    /* Why is a session alive? by_type, then find_backref_chain. */
    rcy_objarray_t sessions = {0}, chain = {0};
    rcy_census_by_type(rt, "Session", &sessions);
    rcy_object_t *one = rcy_newref(sessions.items[sessions.len / 2]);
    rcy_objarray_release(&sessions);
    rcy_find_backref_chain(one, NULL, NULL, 0, &chain);
    char text[256];
    rcy_chain_format(&chain, text, sizeof text);
    printf("  find_backref_chain(a Session from by_type): %s\n", text);
    char path[512], file[512];
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.path_out = path;
    opts.path_out_size = sizeof path;
    opts.filename = graph_file(file, sizeof file, "show_chain");
    int r = rcy_show_chain(&chain, 1, 1, &opts);
    if (r >= 0)
        printf("  show_chain -> %s%s\n", path, r == 1 ? " (DOT only)" : "");
    rcy_objarray_release(&chain);
    printf("  external references to it (held by C, not by the heap): %ld\n", (long)rcy_external_refcount(one));
    rcy_decref(one);

    /* A forgotten C variable: get_leaking_objects finds what only C holds. */
    rcy_object_t *forgotten = rcy_list_new(rt);
    rcy_objarray_t leaking = {0};
    rcy_get_leaking_objects(rt, &leaking);
    for (size_t i = 0; i < leaking.len; i++) {
        if (leaking.items[i] == forgotten)
            printf("  get_leaking_objects() finds the list held only by a C variable "
                   "(external references: %ld, the array's own one included)\n",
                   (long)rcy_external_refcount(forgotten));
    }
    rcy_objarray_release(&leaking);
    rcy_decref(forgotten);

    /* The fix: the cache keeps weak references (or is cleared). */
    rcy_object_t *key = rcy_str_new(rt, "cache");
    rcy_object_t *cache = rcy_dict_get(globals, key);
    rcy_object_t *weak = rcy_list_new(rt);
    for (intptr_t i = 0; i < rcy_list_len(cache); i++) {
        rcy_object_t *wr = rcy_weakref_new(rcy_list_get(cache, i), NULL, NULL);
        rcy_list_append(weak, wr);
        rcy_decref(wr);
    }
    rcy_dict_set(globals, key, weak); /* cache = [weakref.ref(s) for s in cache] */
    rcy_decref(weak);
    rcy_decref(key);
    rcy_gc_collect(rt, 2);
    printf("  cache made of weak references: count('Session') = %zu\n", rcy_census_count(rt, "Session"));
}

/* ---- 10. Memory figures --------------------------------------------- */

static void tour_memory(rcy_runtime_t *rt)
{
    heading("10. Memory figures: the process, the runtime, trim");
    rcy_process_memory_t pm;
    rcy_process_memory_init(&pm);
    if (rcy_process_memory(&pm) == 0)
        printf("  process: rss %.1f MiB, uss %.1f MiB, pss %.1f MiB, peak rss %.1f MiB\n", pm.rss / 1048576.0,
               pm.uss / 1048576.0, pm.pss / 1048576.0, pm.peak_rss / 1048576.0);
    rcy_runtime_memory_t m;
    rcy_runtime_memory_init(&m);
    rcy_runtime_memory(rt, &m);
    printf("  runtime: %zu objects (%zu bytes), %zu tracked, free lists %zu objects (%zu bytes), collector's arrays "
           "%zu bytes\n",
           m.objects, m.object_bytes, m.tracked, m.freelist_objects, m.freelist_bytes, m.collector_bytes);
    int trimmed = rcy_memory_trim(rt);
    rcy_runtime_memory(rt, &m);
    printf("  trim: free lists emptied (%zu left), malloc_trim %s\n", m.freelist_objects,
           trimmed == 1 ? "returned memory to the system" : "had nothing to return");
}

/* The runtime's output (gc debug lines) goes to stdout, in order with ours. */
static void to_stdout(void *arg, const char *text)
{
    (void)arg;
    fputs(text, stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        graph_dir = argv[1];
    if (mkdir(graph_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "tour: cannot create %s: %s\n", graph_dir, strerror(errno));
        return 1;
    }
    printf("The graphs of sections 7 and 9 go to %s/ (PNG with Graphviz's dot, else DOT text).\n", graph_dir);
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = to_stdout;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL)
        return 1;
    rcy_class_spec_t class_a_spec = {class_a_del, NULL, NULL};
    rcy_object_t *class_a = rcy_class_new(rt, "ClassA", &class_a_spec);

    tour_refcount(rt, class_a);
    tour_cycles(rt, class_a);
    tour_graph(rt);
    tour_counters(rt);
    tour_finalizers(rt, class_a);
    tour_weakref(rt, class_a);
    rcy_decref(class_a);

    /* Leak-debugging tools (objgraph for C): a module's globals as a root. */
    rcy_object_t *globals = rcy_dict_new(rt);
    rcy_root_add(globals, "globals");
    rcy_object_t *session_cls = rcy_class_new(rt, "Session", NULL);
    tour_show_refs(rt, globals);
    tour_growth(rt, globals, session_cls);
    tour_leak_hunt(rt, globals);
    tour_memory(rt);
    rcy_root_remove(globals);
    rcy_decref(globals);
    rcy_decref(session_cls);
    rcy_gc_collect(rt, 2);

    printf("\nlive objects at the end: %zu\n", rcy_runtime_live_objects(rt));
    rcy_runtime_destroy(rt);
    return 0;
}
