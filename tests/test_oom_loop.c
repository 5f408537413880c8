/*
 * Allocation failures, SQLite style: for each constructor and mutator of
 * the public API, fail its 1st allocation, then its 2nd, 3rd, ... until
 * the call succeeds. Each failure must return NULL (rcy_last_error
 * RCY_ENOMEM) or RCY_ENOMEM, leave every object as it was, leak nothing,
 * and leave a heap that collects and tears down cleanly. Two modes, as in
 * SQLite's test_malloc.c: transient (only the Nth allocation fails) and
 * persistent (the Nth and every later one fail), each with automatic
 * collection off and with a collection at every container allocation
 * (threshold0 = 1, a garbage cycle with a finalizer waiting: then only
 * the fixture's contents are compared, as the collection itself changes
 * the heap).
 *
 * test_oom.c covers runtime and type creation, rcy_new/rcy_new_var,
 * rcy_immortalize, gc callbacks and the gc introspection calls; this file
 * covers the rest: weak references and registrations, the built-in types,
 * classes and instances, weak maps and the leak-debugging tools.
 *
 * Every attempt runs in a fresh runtime with the same fixture, so a failure
 * at allocation N is independent of the earlier attempts.
 */
#include "harness.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- An allocator that fails on demand ------------------------------- */

typedef struct fail_s {
    long calls;     /* malloc and realloc calls */
    long fail_at;   /* 0: never; else the call number that fails ... */
    bool sticky;    /* ... and every later one */
    long failures;
    long live;      /* blocks handed out and not freed */
} fail_t;

static bool fail_now(fail_t *f)
{
    f->calls++;
    bool fail = f->fail_at > 0 && (f->calls == f->fail_at || (f->sticky && f->calls > f->fail_at));
    if (fail)
        f->failures++;
    return fail;
}

static void *fail_malloc(void *ctx, size_t size)
{
    fail_t *f = ctx;
    if (fail_now(f))
        return NULL;
    void *p = malloc(size);
    f->live += p != NULL;
    return p;
}

static void *fail_realloc(void *ctx, void *ptr, size_t size)
{
    fail_t *f = ctx;
    if (fail_now(f))
        return NULL;
    void *p = realloc(ptr, size);
    f->live += p != NULL && ptr == NULL;
    return p;
}

static void fail_free(void *ctx, void *ptr)
{
    fail_t *f = ctx;
    f->live -= ptr != NULL;
    free(ptr);
}

/* ---- The fixture ------------------------------------------------------- */

typedef struct node_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *weaklist;
} node_t;

static int node_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((node_t *)self)->a);
    return 0;
}

static int node_clear(rcy_object_t *self)
{
    RCY_CLEAR(((node_t *)self)->a);
    return 0;
}

static int finalizer_runs;
static int allocating_finalizer(rcy_object_t *self)
{
    (void)self;
    finalizer_runs++;
    /* Finalizers allocate too: these may fail as well. */
    rcy_object_t *s = rcy_str_new(rcy_object_runtime(self), "made by a finalizer");
    rcy_xdecref(s);
    return 0;
}

enum { F_N1, F_N2, F_L0, F_L4, F_L8, F_D0, F_D5, F_D10, F_T, F_C, F_I0, F_I1, F_WV, F_WK, F_S, F_COUNT };

typedef struct env_s {
    rcy_runtime_t *rt;
    fail_t fa;
    capture_t cap;
    rcy_type_t *node_type, *fin_type;
    rcy_object_t *f[F_COUNT]; /* the fixture, one reference each */
    rcy_object_t *out;        /* what a constructor returned */
    rcy_objarray_t arr;
    rcy_typestats_t stats;
    rcy_growth_t *growth;
    bool root_added;
} env_t;

static rcy_object_t *str(env_t *e, const char *s)
{
    rcy_object_t *o = rcy_str_new(e->rt, s);
    if (o == NULL)
        abort();
    return o;
}

static rcy_object_t *int_(env_t *e, int64_t v)
{
    rcy_object_t *o = rcy_int_new(e->rt, v);
    if (o == NULL)
        abort();
    return o;
}

static void dict_fill(env_t *e, rcy_object_t *d, int n)
{
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        rcy_object_t *key = str(e, k), *v = int_(e, 1000 + i);
        CHECK_EQ(rcy_dict_set(d, key, v), 0);
        rcy_decref(key);
        rcy_decref(v);
    }
}

static void list_fill(env_t *e, rcy_object_t *l, int n)
{
    for (int i = 0; i < n; i++) {
        rcy_object_t *v = int_(e, 2000 + i);
        CHECK_EQ(rcy_list_append(l, v), 0);
        rcy_decref(v);
    }
}

static int noop_cb(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    return 0;
}

static int noop_fin(void *arg)
{
    (void)arg;
    return 0;
}

static void setup(env_t *e, bool gc_every_alloc)
{
    memset(e, 0, sizeof *e);
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.allocator.malloc_fn = fail_malloc;
    cfg.allocator.realloc_fn = fail_realloc;
    cfg.allocator.free_fn = fail_free;
    cfg.allocator.ctx = &e->fa;
    cfg.output = capture_output;
    cfg.output_arg = &e->cap;
    cfg.threshold0 = 0; /* the fixture is built without collections */
    e->rt = rcy_runtime_new(&cfg);
    if (e->rt == NULL)
        abort();
    rcy_type_spec_t spec = {0};
    spec.name = "Node";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.weaklistoffset = offsetof(node_t, weaklist);
    e->node_type = rcy_type_new(e->rt, &spec);
    spec.name = "Fin";
    spec.finalize = allocating_finalizer;
    e->fin_type = rcy_type_new(e->rt, &spec);
    rcy_runtime_t *rt = e->rt;
    rcy_object_t **f = e->f;
    f[F_N1] = rcy_new(e->node_type);
    f[F_N2] = rcy_new(e->node_type);
    f[F_L0] = rcy_list_new(rt);
    f[F_L4] = rcy_list_new(rt);
    list_fill(e, f[F_L4], 4);
    f[F_L8] = rcy_list_new(rt);
    list_fill(e, f[F_L8], 8);
    f[F_D0] = rcy_dict_new(rt);
    f[F_D5] = rcy_dict_new(rt);
    dict_fill(e, f[F_D5], 5);
    f[F_D10] = rcy_dict_new(rt);
    dict_fill(e, f[F_D10], 10);
    rcy_object_t *two = int_(e, 2);
    rcy_object_t *items[2] = {f[F_N1], two};
    f[F_T] = rcy_tuple_new(rt, 2, items);
    rcy_decref(two);
    f[F_C] = rcy_class_new(rt, "C", NULL);
    f[F_I0] = rcy_instance_new(f[F_C]);
    f[F_I1] = rcy_instance_new(f[F_C]);
    rcy_object_t *one = int_(e, 1);
    CHECK_EQ(rcy_setattr(f[F_I1], "a", one), 0);
    f[F_WV] = rcy_weakvaluedict_new(rt);
    f[F_WK] = rcy_weakkeydict_new(rt);
    rcy_object_t *k = str(e, "k");
    CHECK_EQ(rcy_weakmap_set(f[F_WV], k, f[F_N1]), 0);
    CHECK_EQ(rcy_weakmap_set(f[F_WK], f[F_N1], one), 0);
    rcy_decref(k);
    rcy_decref(one);
    f[F_S] = str(e, "a str");
    for (int i = 0; i < F_COUNT; i++)
        if (f[i] == NULL)
            abort();
    if (gc_every_alloc) {
        /* Garbage with a finalizer that allocates, for the collections
           that allocations will now trigger. */
        rcy_object_t *x = rcy_new(e->fin_type), *y = rcy_new(e->fin_type);
        RCY_XSETREF(((node_t *)x)->a, y);
        RCY_XSETREF(((node_t *)y)->a, x);
        rcy_decref(x);
        rcy_decref(y);
        rcy_gc_set_threshold(rt, 1, 10, 10);
    }
}

/* Everything observable about the fixture, as text. */
static void fixture_text(env_t *e, char *buf, size_t size, bool counts)
{
    size_t len = 0;
    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (len < size)                                                                            \
            len += (size_t)snprintf(buf + len, size - len, __VA_ARGS__);                           \
    } while (0)
    for (int i = 0; i < F_COUNT; i++) {
        rcy_object_t *o = e->f[i];
        char d[600];
        rcy_describe(o, d, sizeof d);
        ADD("%d: %s refcnt %ld weakrefs %zu tracked %d\n", i, d, (long)rcy_getrefcount(o), rcy_weakref_count(o),
            rcy_gc_is_tracked(o));
        if (rcy_is_instance(o) || rcy_is_class(o)) {
            static const char *const names[] = {"a", "b", "x"};
            for (int k = 0; k < 3; k++) {
                rcy_object_t *v = rcy_getattr(o, names[k]);
                if (v != NULL) {
                    rcy_describe(v, d, sizeof d);
                    ADD("  .%s = %s\n", names[k], d);
                }
            }
        }
        if (rcy_is_weakmap(o)) {
            intptr_t pos = 0;
            rcy_object_t *key, *value;
            ADD("  len %ld:", (long)rcy_weakmap_len(o));
            while (rcy_weakmap_next(o, &pos, &key, &value) == 1) {
                char kd[64], vd[64];
                rcy_describe(key, kd, sizeof kd);
                rcy_describe(value, vd, sizeof vd);
                ADD(" %s=%s", kd, vd);
                rcy_decref(key);
                rcy_decref(value);
            }
            ADD("\n");
        }
    }
    ADD("root %s garbage %zu\n", rcy_root_name(e->f[F_N1]) ? rcy_root_name(e->f[F_N1]) : "-",
        rcy_gc_garbage_len(e->rt));
    /* (Not the allocator's blocks: pools and arenas keep freed memory for
       reuse. That nothing leaks is checked once the runtime is gone.) */
    if (counts)
        ADD("live %zu bytes %zu\n", rcy_runtime_live_objects(e->rt), rcy_runtime_live_bytes(e->rt));
#undef ADD
}

/* Releases what a call made, then the fixture; tears the runtime down.
   Returns false if teardown reported a leak or blocks were left. */
static bool teardown(env_t *e)
{
    e->fa.fail_at = 0;
    rcy_xdecref(e->out);
    rcy_objarray_release(&e->arr);
    rcy_typestats_release(&e->stats);
    rcy_growth_free(e->growth);
    if (e->root_added)
        CHECK_EQ(rcy_root_remove(e->f[F_N1]), 0);
    for (int i = 0; i < F_COUNT; i++)
        rcy_xdecref(e->f[i]);
    rcy_gc_collect(e->rt, 2);
    bool ok = rcy_runtime_live_objects(e->rt) == 0;
    rcy_runtime_destroy(e->rt);
    ok = ok && e->fa.live == 0 && (e->cap.text == NULL || strstr(e->cap.text, "still alive") == NULL);
    capture_free(&e->cap);
    return ok;
}

/* ---- The calls ----------------------------------------------------------- */

/* A call returns 0 on success or the error code; constructors store their
   result in e->out. */
typedef struct case_s {
    const char *name;
    int (*call)(env_t *e);
    bool (*done)(env_t *e); /* the effect, after success */
} case_t;

static int ctor(env_t *e, rcy_object_t *o)
{
    e->out = o;
    return o != NULL ? 0 : rcy_last_error(e->rt);
}

static int c_weakref_cb(env_t *e) { return ctor(e, rcy_weakref_new(e->f[F_N2], noop_cb, NULL)); }
static bool d_weakref_cb(env_t *e) { return rcy_weakref_is_alive(e->out) && rcy_weakref_count(e->f[F_N2]) == 1; }
static int c_weakref_basic(env_t *e) { return ctor(e, rcy_weakref_new(e->f[F_N2], NULL, NULL)); }
static int c_weakref_to_instance(env_t *e) { return ctor(e, rcy_weakref_new(e->f[F_I0], noop_cb, NULL)); }
static bool d_weakref_to_instance(env_t *e) { return rcy_weakref_count(e->f[F_I0]) == 1; }
static int c_finalize_register(env_t *e) { return ctor(e, rcy_finalize_register(e->f[F_N2], noop_fin, NULL)); }
static bool d_finalize_register(env_t *e) { return rcy_finalize_alive(e->out); }

static int c_int(env_t *e) { return ctor(e, rcy_int_new(e->rt, 123456789)); }
static bool d_int(env_t *e)
{
    int64_t v = 0;
    return rcy_int_value(e->out, &v) == 0 && v == 123456789;
}
static int c_float(env_t *e) { return ctor(e, rcy_float_new(e->rt, 2.5)); }
static bool d_float(env_t *e)
{
    double v = 0;
    return rcy_float_value(e->out, &v) == 0 && v == 2.5;
}
static int c_str(env_t *e) { return ctor(e, rcy_str_new(e->rt, "a string long enough to be interesting")); }
static bool d_str(env_t *e) { return strcmp(rcy_str_data(e->out), "a string long enough to be interesting") == 0; }
static int c_str_len(env_t *e) { return ctor(e, rcy_str_new_len(e->rt, "a\0b", 3)); }
static bool d_str_len(env_t *e) { return rcy_str_len(e->out) == 3; }

static int c_tuple3(env_t *e)
{
    rcy_object_t *items[3] = {e->f[F_N1], e->f[F_S], e->f[F_L4]};
    return ctor(e, rcy_tuple_new(e->rt, 3, items));
}
static bool d_tuple3(env_t *e) { return rcy_tuple_len(e->out) == 3 && rcy_tuple_get(e->out, 2) == e->f[F_L4]; }
static int c_tuple25(env_t *e)
{
    rcy_object_t *items[25];
    for (int i = 0; i < 25; i++)
        items[i] = e->f[i % F_COUNT];
    return ctor(e, rcy_tuple_new(e->rt, 25, items));
}
static bool d_tuple25(env_t *e) { return rcy_tuple_len(e->out) == 25; }

static int c_list_new(env_t *e) { return ctor(e, rcy_list_new(e->rt)); }
static bool d_list_new(env_t *e) { return rcy_list_len(e->out) == 0; }
static int c_append0(env_t *e) { return rcy_list_append(e->f[F_L0], e->f[F_N2]); }
static bool d_append0(env_t *e) { return rcy_list_len(e->f[F_L0]) == 1 && rcy_list_get(e->f[F_L0], 0) == e->f[F_N2]; }
static int c_append4(env_t *e) { return rcy_list_append(e->f[F_L4], e->f[F_N2]); }
static bool d_append4(env_t *e) { return rcy_list_len(e->f[F_L4]) == 5 && rcy_list_get(e->f[F_L4], 4) == e->f[F_N2]; }
static int c_append8(env_t *e) { return rcy_list_append(e->f[F_L8], e->f[F_N2]); }
static bool d_append8(env_t *e) { return rcy_list_len(e->f[F_L8]) == 9; }
static int c_insert8(env_t *e) { return rcy_list_insert(e->f[F_L8], 0, e->f[F_N2]); }
static bool d_insert8(env_t *e) { return rcy_list_len(e->f[F_L8]) == 9 && rcy_list_get(e->f[F_L8], 0) == e->f[F_N2]; }
static int c_insert0(env_t *e) { return rcy_list_insert(e->f[F_L0], 5, e->f[F_N2]); }

static int c_dict_new(env_t *e) { return ctor(e, rcy_dict_new(e->rt)); }
static bool d_dict_new(env_t *e) { return rcy_dict_len(e->out) == 0; }
static int dict_set_new_key(env_t *e, int which)
{
    rcy_object_t *key = rcy_str_new(e->rt, "new key"); /* may fail too */
    if (key == NULL)
        return rcy_last_error(e->rt);
    int r = rcy_dict_set(e->f[which], key, e->f[F_N2]);
    rcy_decref(key);
    return r;
}
static int c_dict_set0(env_t *e) { return dict_set_new_key(e, F_D0); }
static int c_dict_set5(env_t *e) { return dict_set_new_key(e, F_D5); }
static int c_dict_set10(env_t *e) { return dict_set_new_key(e, F_D10); }
static bool dict_has_new_key(env_t *e, int which, intptr_t len)
{
    rcy_object_t *key = rcy_str_new(e->rt, "new key");
    bool ok = rcy_dict_get(e->f[which], key) == e->f[F_N2] && rcy_dict_len(e->f[which]) == len;
    rcy_decref(key);
    return ok;
}
static bool d_dict_set0(env_t *e) { return dict_has_new_key(e, F_D0, 1); }
static bool d_dict_set5(env_t *e) { return dict_has_new_key(e, F_D5, 6); }
static bool d_dict_set10(env_t *e) { return dict_has_new_key(e, F_D10, 11); }
static int c_dict_set_tuple_key(env_t *e)
{
    rcy_object_t *items[2] = {e->f[F_S], e->f[F_S]};
    rcy_object_t *key = rcy_tuple_new(e->rt, 2, items);
    if (key == NULL)
        return rcy_last_error(e->rt);
    int r = rcy_dict_set(e->f[F_D5], key, e->f[F_N2]);
    rcy_decref(key);
    return r;
}
static bool d_dict_set_tuple_key(env_t *e) { return rcy_dict_len(e->f[F_D5]) == 6; }
static int c_dict_replace(env_t *e)
{
    rcy_object_t *key = rcy_str_new(e->rt, "k3");
    if (key == NULL)
        return rcy_last_error(e->rt);
    int r = rcy_dict_set(e->f[F_D5], key, e->f[F_N2]);
    rcy_decref(key);
    return r;
}
static bool d_dict_replace(env_t *e) { return rcy_dict_len(e->f[F_D5]) == 5; }

static int c_class_new(env_t *e)
{
    static const rcy_class_spec_t spec = {NULL, NULL, NULL};
    return ctor(e, rcy_class_new(e->rt, "AClassWithALongerName", &spec));
}
static bool d_class_new(env_t *e) { return rcy_is_class(e->out) && rcy_class_instance_type(e->out) != NULL; }
static int c_instance_new(env_t *e) { return ctor(e, rcy_instance_new(e->f[F_C])); }
static bool d_instance_new(env_t *e) { return rcy_instance_class(e->out) == e->f[F_C]; }
static int c_setattr_first(env_t *e) { return rcy_setattr(e->f[F_I0], "a", e->f[F_N2]); }
static bool d_setattr_first(env_t *e) { return rcy_getattr(e->f[F_I0], "a") == e->f[F_N2]; }
static int c_setattr_new(env_t *e) { return rcy_setattr(e->f[F_I1], "b", e->f[F_N2]); }
static bool d_setattr_new(env_t *e) { return rcy_getattr(e->f[F_I1], "b") == e->f[F_N2]; }
static int c_setattr_replace(env_t *e) { return rcy_setattr(e->f[F_I1], "a", e->f[F_N2]); }
static bool d_setattr_replace(env_t *e) { return rcy_getattr(e->f[F_I1], "a") == e->f[F_N2]; }
static int c_setattr_class(env_t *e) { return rcy_setattr(e->f[F_C], "x", e->f[F_N2]); }
static bool d_setattr_class(env_t *e) { return rcy_getattr(e->f[F_I0], "x") == e->f[F_N2]; }
static int c_setattr_str(env_t *e)
{
    rcy_object_t *name = rcy_str_new(e->rt, "fresh");
    if (name == NULL)
        return rcy_last_error(e->rt);
    int r = rcy_setattr_str(e->f[F_I1], name, e->f[F_N2]);
    rcy_decref(name);
    return r;
}
static bool d_setattr_str(env_t *e) { return rcy_getattr(e->f[F_I1], "fresh") == e->f[F_N2]; }
static int c_instance_dict(env_t *e)
{
    rcy_object_t *d = rcy_instance_dict(e->f[F_I1]);
    if (d == NULL)
        return rcy_last_error(e->rt);
    rcy_decref(d);
    return 0;
}
static bool d_instance_dict(env_t *e)
{
    rcy_object_t *d = rcy_instance_dict(e->f[F_I1]);
    bool ok = d != NULL && rcy_dict_len(d) == 1 && rcy_getattr(e->f[F_I1], "a") != NULL;
    rcy_xdecref(d);
    return ok;
}
static int c_str_intern(env_t *e) { return rcy_str_intern(e->rt, "a name never seen") != NULL ? 0 : rcy_last_error(e->rt); }
static bool d_str_intern(env_t *e) { return rcy_str_is_interned(rcy_str_intern(e->rt, "a name never seen")) == 1; }

static int c_weakvaluedict(env_t *e) { return ctor(e, rcy_weakvaluedict_new(e->rt)); }
static int c_weakkeydict(env_t *e) { return ctor(e, rcy_weakkeydict_new(e->rt)); }
static bool d_weakmap_new(env_t *e) { return rcy_is_weakmap(e->out) && rcy_weakmap_len(e->out) == 0; }
static int c_wv_set(env_t *e)
{
    rcy_object_t *key = rcy_str_new(e->rt, "k2");
    if (key == NULL)
        return rcy_last_error(e->rt);
    int r = rcy_weakmap_set(e->f[F_WV], key, e->f[F_N2]);
    rcy_decref(key);
    return r;
}
static bool d_wv_set(env_t *e) { return rcy_weakmap_len(e->f[F_WV]) == 2; }
static int c_wk_set(env_t *e) { return rcy_weakmap_set(e->f[F_WK], e->f[F_N2], e->f[F_S]); }
static bool d_wk_set(env_t *e) { return rcy_weakmap_len(e->f[F_WK]) == 2; }
static int c_wk_replace(env_t *e) { return rcy_weakmap_set(e->f[F_WK], e->f[F_N1], e->f[F_S]); }
static bool d_wk_replace(env_t *e) { return rcy_weakmap_len(e->f[F_WK]) == 1; }

static int c_root_add(env_t *e)
{
    int r = rcy_root_add(e->f[F_N1], "the first node");
    e->root_added = r == 0;
    return r;
}
static bool d_root_add(env_t *e) { return strcmp(rcy_root_name(e->f[F_N1]), "the first node") == 0; }
static int c_growth_new(env_t *e)
{
    e->growth = rcy_growth_new(e->rt);
    return e->growth != NULL ? 0 : rcy_last_error(e->rt);
}
static bool d_growth_new(env_t *e) { return e->growth != NULL; }
static int c_typestats(env_t *e) { return rcy_census_typestats(e->rt, &e->stats); }
static bool d_typestats(env_t *e) { return e->stats.len > 0; }
static int c_by_type(env_t *e) { return rcy_census_by_type(e->rt, "Node", &e->arr); }
static bool d_by_type(env_t *e) { return e->arr.len == 2; }
static int c_leaking(env_t *e) { return rcy_get_leaking_objects(e->rt, &e->arr); }
static bool d_leaking(env_t *e) { return e->arr.len > 0; }
static int c_backref_chain(env_t *e)
{
    int r = rcy_find_backref_chain(e->f[F_N1], NULL, NULL, 0, &e->arr);
    return r < 0 ? r : 0;
}
static bool d_backref_chain(env_t *e) { return e->arr.len >= 1; }
static int c_external_refcount(env_t *e)
{
    intptr_t r = rcy_external_refcount(e->f[F_N1]);
    return r < 0 ? (int)r : 0;
}
static bool d_external_refcount(env_t *e) { return rcy_external_refcount(e->f[F_N1]) == 1; }

static const case_t cases[] = {
    {"rcy_weakref_new (callback)", c_weakref_cb, d_weakref_cb},
    {"rcy_weakref_new (no callback)", c_weakref_basic, d_weakref_cb},
    {"rcy_weakref_new (instance)", c_weakref_to_instance, d_weakref_to_instance},
    {"rcy_finalize_register", c_finalize_register, d_finalize_register},
    {"rcy_int_new", c_int, d_int},
    {"rcy_float_new", c_float, d_float},
    {"rcy_str_new", c_str, d_str},
    {"rcy_str_new_len", c_str_len, d_str_len},
    {"rcy_tuple_new (3)", c_tuple3, d_tuple3},
    {"rcy_tuple_new (25)", c_tuple25, d_tuple25},
    {"rcy_list_new", c_list_new, d_list_new},
    {"rcy_list_append (empty)", c_append0, d_append0},
    {"rcy_list_append (4 items)", c_append4, d_append4},
    {"rcy_list_append (8 items)", c_append8, d_append8},
    {"rcy_list_insert (8 items)", c_insert8, d_insert8},
    {"rcy_list_insert (empty)", c_insert0, d_append0},
    {"rcy_dict_new", c_dict_new, d_dict_new},
    {"rcy_dict_set (empty)", c_dict_set0, d_dict_set0},
    {"rcy_dict_set (5 keys)", c_dict_set5, d_dict_set5},
    {"rcy_dict_set (10 keys)", c_dict_set10, d_dict_set10},
    {"rcy_dict_set (tuple key)", c_dict_set_tuple_key, d_dict_set_tuple_key},
    {"rcy_dict_set (replace)", c_dict_replace, d_dict_replace},
    {"rcy_class_new", c_class_new, d_class_new},
    {"rcy_instance_new", c_instance_new, d_instance_new},
    {"rcy_setattr (first attribute)", c_setattr_first, d_setattr_first},
    {"rcy_setattr (new attribute)", c_setattr_new, d_setattr_new},
    {"rcy_setattr (replace)", c_setattr_replace, d_setattr_replace},
    {"rcy_setattr (class)", c_setattr_class, d_setattr_class},
    {"rcy_setattr_str (new name)", c_setattr_str, d_setattr_str},
    {"rcy_instance_dict", c_instance_dict, d_instance_dict},
    {"rcy_str_intern", c_str_intern, d_str_intern},
    {"rcy_weakvaluedict_new", c_weakvaluedict, d_weakmap_new},
    {"rcy_weakkeydict_new", c_weakkeydict, d_weakmap_new},
    {"rcy_weakmap_set (weak values)", c_wv_set, d_wv_set},
    {"rcy_weakmap_set (weak keys)", c_wk_set, d_wk_set},
    {"rcy_weakmap_set (replace)", c_wk_replace, d_wk_replace},
    {"rcy_root_add", c_root_add, d_root_add},
    {"rcy_growth_new", c_growth_new, d_growth_new},
    {"rcy_census_typestats", c_typestats, d_typestats},
    {"rcy_census_by_type", c_by_type, d_by_type},
    {"rcy_get_leaking_objects", c_leaking, d_leaking},
    {"rcy_find_backref_chain", c_backref_chain, d_backref_chain},
    {"rcy_external_refcount", c_external_refcount, d_external_refcount},
};

#define NCASES (sizeof cases / sizeof cases[0])
#define TEXT 16384

/* Fails allocation 1, 2, ... of c until it succeeds. Returns how many
   allocations the successful call made at most (the attempts that failed). */
static long run_case(const case_t *c, bool sticky, bool gc)
{
    static char before[TEXT], after[TEXT];
    long n;
    for (n = 1; n < 10000; n++) {
        env_t e;
        setup(&e, gc);
        fixture_text(&e, before, sizeof before, !gc);
        e.fa.fail_at = e.fa.calls + n;
        e.fa.failures = 0;
        e.fa.sticky = sticky;
        int r = c->call(&e);
        long failures = e.fa.failures;
        e.fa.fail_at = 0;
        if (r == 0) {
            /* Success: possibly despite a failure the call could recover
               from, and then with the right effect all the same. */
            if (!c->done(&e)) {
                fprintf(stderr, "  %s: wrong effect after success at attempt %ld\n", c->name, n);
                CHECK(false);
            }
            CHECK(teardown(&e));
            return n - 1;
        }
        if (r != RCY_ENOMEM || failures == 0) {
            fprintf(stderr, "  %s: attempt %ld returned %d (%s) with %ld failures\n", c->name, n, r,
                    rcy_strerror(r), failures);
            CHECK(false);
        }
        CHECK_EQ(rcy_last_error(e.rt), RCY_ENOMEM);
        /* Nothing changed, nothing leaked (with collections on, those
           collections may have freed the garbage: compare the fixture). */
        fixture_text(&e, after, sizeof after, !gc);
        if (strcmp(before, after) != 0) {
            fprintf(stderr, "  %s (%s, gc %s): attempt %ld changed the heap:\n--- before\n%s--- after\n%s", c->name,
                    sticky ? "persistent" : "transient", gc ? "on" : "off", n, before, after);
            CHECK(false);
        }
        /* The heap is sound: a full collection (validating the lists in
           debug builds) keeps the fixture as it is. */
        CHECK(rcy_gc_collect(e.rt, 2) >= 0);
        fixture_text(&e, after, sizeof after, !gc);
        if (strcmp(before, after) != 0) {
            fprintf(stderr, "  %s: attempt %ld: a collection after the failure changed the heap\n", c->name, n);
            CHECK(false);
        }
        if (!teardown(&e)) {
            fprintf(stderr, "  %s: attempt %ld leaked\n", c->name, n);
            CHECK(false);
        }
    }
    fprintf(stderr, "  %s: never succeeded\n", c->name);
    CHECK(false);
    return n;
}

TEST(test_fail_each_allocation_transient)
{
    for (size_t i = 0; i < NCASES; i++) {
        long a = run_case(&cases[i], false, false);
        long b = run_case(&cases[i], false, true);
        if (getenv("RCY_TEST_VERBOSE"))
            fprintf(stderr, "  %-34s %ld allocations (%ld with collections)\n", cases[i].name, a, b);
    }
}

TEST(test_fail_each_allocation_persistent)
{
    for (size_t i = 0; i < NCASES; i++) {
        run_case(&cases[i], true, false);
        run_case(&cases[i], true, true);
    }
}

int main(void)
{
    RUN(test_fail_each_allocation_transient);
    RUN(test_fail_each_allocation_persistent);
    return harness_summary();
}
