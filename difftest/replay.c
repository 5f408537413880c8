/*
 * The replayer of the differential tests: runs an object-graph program
 * (difftest/README.md, "The program format") through recycle and prints,
 * after every step, the record that difftest/twin.py prints for the same
 * program run in CPython. The two records must be identical.
 *
 *   replay [-d] [-v] [FILE]     (stdin when FILE is absent or "-")
 *
 * -d  emulates CPython 3.12+'s deferred automatic collection: there, an
 *     allocation that takes count0 over threshold0 only schedules a
 *     collection, which runs at the next eval-breaker check, after the new
 *     object was tracked (so it is part of that collection and survives
 *     into the next generation), whereas CPython <= 3.11 and recycle
 *     collect inside the allocation, before tracking. With -d every program
 *     allocation runs with automatic collection off; afterwards, if count0
 *     is over threshold0, a scratch container is allocated and released,
 *     which lets recycle's own trigger pick and run the collection (the
 *     generation choice, the 25 % rule and the counters stay recycle's).
 * -v  prints the program's lines on stderr as they run.
 *
 * Exit status: 0 when the program ran and the runtime ended with zero live
 * objects; 1 on a leak or a malformed program; 2 on a usage error.
 */
#include "recycle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NROOTS 12
#define MAXSLOTS 3

/* ---- The classes (the same table as CLASSES in twin.py) ---------------- */

enum fin_kind { FIN_NONE, FIN_LOG, FIN_RESURRECT, FIN_SUICIDE, FIN_DROP, FIN_ALLOC };
enum legacy_kind { LEG_NONE, LEG_LOG, LEG_RESURRECT };

typedef struct class_info_s {
    const char *name;
    int nslots;
    enum fin_kind fin;
    enum legacy_kind legacy;
} class_info_t;

static const class_info_t classes[] = {
    {"A", 2, FIN_NONE, LEG_NONE},      /* 0: plain */
    {"B", 3, FIN_NONE, LEG_NONE},      /* 1: plain, three slots */
    {"F", 2, FIN_LOG, LEG_NONE},       /* 2: __del__ */
    {"R", 2, FIN_RESURRECT, LEG_NONE}, /* 3: __del__ stores self in survivors */
    {"K", 2, FIN_SUICIDE, LEG_NONE},   /* 4: __del__ clears its own slots */
    {"D", 2, FIN_DROP, LEG_NONE},      /* 5: __del__ drops root label % NROOTS */
    {"L", 2, FIN_NONE, LEG_LOG},       /* 6: legacy finalizer (tp_del) */
    {"M", 2, FIN_NONE, LEG_RESURRECT}, /* 7: tp_del resurrecting on its first two calls */
    {"N", 2, FIN_LOG, LEG_LOG},        /* 8: both */
    {"G", 2, FIN_ALLOC, LEG_NONE},     /* 9: __del__ creates an A into survivors (may collect) */
};
#define NCLASSES ((int)(sizeof classes / sizeof classes[0]))

typedef struct pobj_s {
    rcy_object_t ob;
    rcy_object_t *slot[MAXSLOTS];
    rcy_object_t *weaklist;
    long label;
    int cls;
    int legacy_calls;
} pobj_t;

/* ---- State ------------------------------------------------------------ */

static rcy_runtime_t *rt;
static rcy_type_t *types[NCLASSES];
static rcy_type_t *scratch_type; /* -d: the container that fires a pending collection */
/* The twin creates a weak reference by calling weakref.ref(obj, callback):
   CPython builds an argument tuple, a tracked container that refers to obj,
   before allocating the weak reference. Up to 3.11 an automatic collection
   run by that allocation sees the tuple in generation 0: it survives (it is
   referenced from the C stack) and is counted in long_lived_pending (a
   generation-1 collection) or long_lived_total (a full one), which decide
   the 25 % rule later. The replayer tracks this object, holding obj, for the
   duration of each weak-reference allocation (not with -d: in 3.12+ the
   collection runs after the call, when the tuple is gone). It is made
   before the program runs and is untracked otherwise; tracking does not
   touch the counts, as taking a tuple from CPython's free list does not. */
static pobj_t *argtuple;
static rcy_object_t *roots[NROOTS];
static rcy_object_t **survivors;
static size_t n_survivors, cap_survivors;
static long next_obj = 1, next_wr = 1;
static int deferred;
/* -F: no record after each step; one record at the end, after a final
   full collection, with everything that does not depend on when automatic
   collections ran, each list sorted (run.py --incremental compares compat
   and incremental mode so). -i N: incremental mode, N work units a step. */
static int final_only;
static long incr_step;
/* 0 while a collection may run (inside every program allocation and every
   collect): class G's finalizer allocates only when it is 1 (twin.py,
   fin_alloc, says why). */
static int armed = 1;

/* Weak references have no room for a label: a table maps addresses to
   labels, newest entry first (a freed address may be reused). */
typedef struct wrlabel_s {
    const rcy_object_t *wr;
    long label;
} wrlabel_t;
static wrlabel_t *wrlabels;
static size_t n_wrlabels, cap_wrlabels;

/* Output text of the current step's events, and of the whole record. */
typedef struct buf_s {
    char *s;
    size_t len, cap;
} buf_t;
static buf_t events, out, captured;

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void die(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "replay: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL)
        die("out of memory");
    return q;
}

static void bputs(buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

/* Appends formatted text of at most 255 bytes (labels and numbers). */
static void bprintf(buf_t *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void bprintf(buf_t *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    bputs(b, tmp);
}

static void capture_output(void *arg, const char *text)
{
    (void)arg;
    bputs(&captured, text);
}

/* ---- Labels ----------------------------------------------------------- */

static int is_pobj(const rcy_object_t *o)
{
    for (int i = 0; i < NCLASSES; i++)
        if (o->type == types[i])
            return 1;
    return 0;
}

static void wr_label_set(const rcy_object_t *wr, long label)
{
    if (n_wrlabels == cap_wrlabels) {
        cap_wrlabels = cap_wrlabels ? cap_wrlabels * 2 : 64;
        wrlabels = xrealloc(wrlabels, cap_wrlabels * sizeof *wrlabels);
    }
    wrlabels[n_wrlabels].wr = wr;
    wrlabels[n_wrlabels].label = label;
    n_wrlabels++;
}

static long wr_label(const rcy_object_t *wr)
{
    for (size_t i = n_wrlabels; i-- > 0;)
        if (wrlabels[i].wr == wr)
            return wrlabels[i].label;
    die("weak reference %p has no label", (const void *)wr);
    return 0;
}

/* "o7", "w3" or "-". */
static void label_of(const rcy_object_t *o, char *buf, size_t size)
{
    if (o == NULL)
        snprintf(buf, size, "-");
    else if (rcy_is_weakref(o))
        snprintf(buf, size, "w%ld", wr_label(o));
    else if (is_pobj(o))
        snprintf(buf, size, "o%ld", ((const pobj_t *)o)->label);
    else if (rcy_is_cfunction(o))
        snprintf(buf, size, "?method"); /* the twin's bound method o.cb */
    else
        snprintf(buf, size, "?%s", rcy_type_name(rcy_type(o)));
}

static void event(const char *kind, const rcy_object_t *o)
{
    char l[32];
    label_of(o, l, sizeof l);
    bprintf(&events, " %s:%s", kind, l);
}

/* ---- Roots and survivors ---------------------------------------------- */

/* roots[r] = v (a new reference is taken; the old value is released after
   the store, as Python's assignment does). */
static void root_set(int r, rcy_object_t *v)
{
    rcy_object_t *old = roots[r];
    rcy_xincref(v);
    roots[r] = v;
    rcy_xdecref(old);
}

static void survivors_append(rcy_object_t *o)
{
    if (n_survivors == cap_survivors) {
        cap_survivors = cap_survivors ? cap_survivors * 2 : 16;
        survivors = xrealloc(survivors, cap_survivors * sizeof *survivors);
    }
    survivors[n_survivors++] = rcy_newref(o);
}

/* Releases the first n survivors in order (each release may append more),
   then removes them. */
static void survivors_release(void)
{
    size_t n = n_survivors;
    for (size_t i = 0; i < n; i++) {
        rcy_object_t *o = survivors[i];
        survivors[i] = NULL;
        rcy_decref(o);
    }
    if (n_survivors > n)
        memmove(survivors, survivors + n, (n_survivors - n) * sizeof *survivors);
    n_survivors -= n;
}

/* ---- Slots of the program's classes ------------------------------------ */

static int pobj_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    pobj_t *p = (pobj_t *)self;
    for (int i = 0; i < classes[p->cls].nslots; i++)
        RCY_VISIT(p->slot[i]);
    return 0;
}

static int pobj_clear(rcy_object_t *self)
{
    pobj_t *p = (pobj_t *)self;
    for (int i = 0; i < classes[p->cls].nslots; i++)
        RCY_CLEAR(p->slot[i]);
    return 0;
}

static int pobj_finalize(rcy_object_t *self)
{
    pobj_t *p = (pobj_t *)self;
    event("fin", self);
    switch (classes[p->cls].fin) {
    case FIN_RESURRECT:
        survivors_append(self);
        break;
    case FIN_SUICIDE:
        for (int i = 0; i < classes[p->cls].nslots; i++)
            RCY_CLEAR(p->slot[i]);
        break;
    case FIN_DROP:
        root_set((int)(p->label % NROOTS), NULL);
        break;
    case FIN_ALLOC: {
        /* The allocation may run an automatic collection, while self is
           being deallocated. */
        if (!armed)
            break;
        armed = 0;
        pobj_t *n = (pobj_t *)rcy_new(types[0]);
        armed = 1;
        if (n == NULL)
            die("out of memory");
        n->cls = 0;
        n->label = next_obj++;
        survivors_append(&n->ob);
        rcy_decref(&n->ob);
        break;
    }
    default:
        break;
    }
    return 0;
}

static int pobj_legacy_del(rcy_object_t *self)
{
    pobj_t *p = (pobj_t *)self;
    event("del", self);
    if (classes[p->cls].legacy == LEG_RESURRECT && ++p->legacy_calls <= 2)
        survivors_append(self);
    return 0;
}

static int scratch_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static int scratch_clear(rcy_object_t *self)
{
    (void)self;
    return 0;
}

static void make_types(void)
{
    for (int i = 0; i < NCLASSES; i++) {
        rcy_type_spec_t spec;
        memset(&spec, 0, sizeof spec);
        spec.name = classes[i].name;
        spec.basicsize = sizeof(pobj_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = pobj_traverse;
        spec.clear = pobj_clear;
        spec.finalize = classes[i].fin != FIN_NONE ? pobj_finalize : NULL;
        spec.legacy_del = classes[i].legacy != LEG_NONE ? pobj_legacy_del : NULL;
        spec.weaklistoffset = offsetof(pobj_t, weaklist);
        types[i] = rcy_type_new(rt, &spec);
        if (types[i] == NULL)
            die("cannot create type %s", classes[i].name);
    }
    rcy_type_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.name = "scratch";
    spec.basicsize = sizeof(rcy_object_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = scratch_traverse;
    spec.clear = scratch_clear;
    scratch_type = rcy_type_new(rt, &spec);
    if (scratch_type == NULL)
        die("cannot create the scratch type");
    /* The argument tuple: an object of class A, used with one slot. Making
       it counted an allocation: freezing the (otherwise empty) heap resets
       the counts. */
    argtuple = (pobj_t *)rcy_new(types[0]);
    if (argtuple == NULL)
        die("cannot create the argument tuple");
    rcy_gc_untrack(&argtuple->ob);
    rcy_gc_freeze(rt);
}

/* ---- Weak-reference callbacks ------------------------------------------ */

static int wr_callback(rcy_object_t *wr, void *arg)
{
    event("cb", wr);
    if ((intptr_t)arg == 2)
        root_set((int)(wr_label(wr) % NROOTS), NULL);
    return 0;
}

/* ---- Allocation (with the -d emulation) --------------------------------- */

static void alloc_begin(int *was_enabled)
{
    armed = 0;
    *was_enabled = deferred && rcy_gc_isenabled(rt) == 1;
    if (*was_enabled)
        rcy_gc_disable(rt);
}

/* CPython 3.12+: the collection scheduled by the allocation runs now, with
   the new object tracked. */
static void alloc_end(int was_enabled)
{
    if (!was_enabled) {
        armed = 1;
        return;
    }
    rcy_gc_enable(rt);
    int count[RCY_GC_GENERATIONS], thr[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, count);
    rcy_gc_get_threshold(rt, thr);
    if (thr[0] != 0 && count[0] > thr[0]) {
        rcy_object_t *s = rcy_new(scratch_type);
        if (s == NULL)
            die("out of memory");
        rcy_decref(s);
    }
    armed = 1;
}

/* ---- The record --------------------------------------------------------- */

static void print_objects(const char *head, rcy_objarray_t *a)
{
    bputs(&out, head);
    for (size_t i = 0; i < a->len; i++) {
        char l[32];
        label_of(a->items[i], l, sizeof l);
        bprintf(&out, " %s", l);
    }
    bputs(&out, "\n");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Prints head and the space-separated words of text, sorted. */
static void print_sorted(const char *head, const char *text)
{
    const char *src = text ? text : "";
    char *copy = malloc(strlen(src) + 1);
    if (copy == NULL)
        die("out of memory");
    strcpy(copy, src);
    size_t n = 0, cap = 16;
    char **w = malloc(cap * sizeof *w);
    for (char *t = strtok(copy, " "); t != NULL; t = strtok(NULL, " ")) {
        if (n == cap)
            w = realloc(w, (cap *= 2) * sizeof *w);
        if (w == NULL)
            die("out of memory");
        w[n++] = t;
    }
    qsort(w, n, sizeof *w, cmp_str);
    bputs(&out, head);
    for (size_t i = 0; i < n; i++)
        bprintf(&out, " %s", w[i]);
    bputs(&out, "\n");
    free(w);
    free(copy);
}

static void labels_of(buf_t *b, rcy_object_t *const *objs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char l[32];
        label_of(objs[i], l, sizeof l);
        bprintf(b, " %s", l);
    }
}

/* -F's record: after a final rcy_gc_collect(rt, 2). */
static void print_final_record(void)
{
    intptr_t ret = rcy_gc_collect(rt, 2);
    (void)ret; /* how much is left for it depends on the mode */
    print_sorted("ev", events.s);
    buf_t b = {0};
    bputs(&b, "");
    rcy_objarray_t a = {0};
    if (rcy_gc_get_objects(rt, -1, &a) != 0)
        die("get_objects failed");
    labels_of(&b, a.items, a.len);
    rcy_objarray_release(&a);
    print_sorted("live", b.s);
    b.len = 0;
    b.s[0] = '\0';
    for (size_t i = 0; i < rcy_gc_garbage_len(rt); i++) {
        rcy_object_t *g = rcy_gc_garbage_get(rt, i);
        labels_of(&b, &g, 1);
    }
    print_sorted("garbage", b.s);
    b.len = 0;
    b.s[0] = '\0';
    labels_of(&b, survivors, n_survivors);
    print_sorted("surv", b.s);
    free(b.s);
    bputs(&out, "roots");
    for (int r = 0; r < NROOTS; r++) {
        if (roots[r] == NULL)
            continue;
        char l[32];
        label_of(roots[r], l, sizeof l);
        bprintf(&out, " %d=%s", r, l);
        if (rcy_is_weakref(roots[r])) {
            rcy_object_t *ref = rcy_weakref_get(roots[r]);
            label_of(ref, l, sizeof l);
            bprintf(&out, ">%s", l);
            rcy_xdecref(ref);
        }
    }
    bputs(&out, "\n");
    fputs(out.s, stdout);
    out.len = 0;
    out.s[0] = '\0';
}

static void print_record(long step, const char *line, int has_ret, intptr_t ret)
{
    if (final_only)
        return; /* events accumulate for print_final_record */
    bprintf(&out, "@%ld ", step);
    bputs(&out, line);
    bputs(&out, "\n");
    bputs(&out, "ev");
    bputs(&out, events.s ? events.s : "");
    bputs(&out, "\n");
    events.len = 0;
    if (events.s)
        events.s[0] = '\0';
    if (has_ret)
        bprintf(&out, "ret %ld\n", (long)ret);
    for (int g = 0; g < RCY_GC_GENERATIONS; g++) {
        rcy_objarray_t a = {0};
        if (rcy_gc_get_objects(rt, g, &a) != 0)
            die("get_objects failed");
        char head[8];
        snprintf(head, sizeof head, "g%d", g);
        print_objects(head, &a);
        rcy_objarray_release(&a);
    }
    bprintf(&out, "frozen %zu\n", rcy_gc_get_freeze_count(rt));
    bputs(&out, "garbage");
    for (size_t i = 0; i < rcy_gc_garbage_len(rt); i++) {
        char l[32];
        label_of(rcy_gc_garbage_get(rt, i), l, sizeof l);
        bprintf(&out, " %s", l);
    }
    bputs(&out, "\nsurv");
    for (size_t i = 0; i < n_survivors; i++) {
        char l[32];
        label_of(survivors[i], l, sizeof l);
        bprintf(&out, " %s", l);
    }
    bputs(&out, "\nroots");
    for (int r = 0; r < NROOTS; r++) {
        if (roots[r] == NULL)
            continue;
        char l[32];
        label_of(roots[r], l, sizeof l);
        bprintf(&out, " %d=%s", r, l);
        if (rcy_is_weakref(roots[r])) {
            rcy_object_t *ref = rcy_weakref_get(roots[r]);
            label_of(ref, l, sizeof l);
            bprintf(&out, ">%s", l);
            rcy_xdecref(ref);
        }
    }
    int c[RCY_GC_GENERATIONS];
    rcy_gc_get_count(rt, c);
    bprintf(&out, "\ncount %d %d %d\n", c[0], c[1], c[2]);
    rcy_gc_stats_t st[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(st);
    rcy_gc_get_stats(rt, st);
    bputs(&out, "stats");
    for (int g = 0; g < RCY_GC_GENERATIONS; g++)
        bprintf(&out, " %ld/%ld/%ld", (long)st[g].collections, (long)st[g].collected, (long)st[g].uncollectable);
    bputs(&out, "\n");
    fputs(out.s, stdout);
    out.len = 0;
    out.s[0] = '\0';
}

/* ---- The operations ------------------------------------------------------ */

static pobj_t *as_pobj(rcy_object_t *o) { return o != NULL && is_pobj(o) ? (pobj_t *)o : NULL; }

static int valid_root(long r) { return r >= 0 && r < NROOTS; }

/* new R K: root R is released, then an object of class K is created and
   stored in root R. */
static void op_new(long r, long k)
{
    if (!valid_root(r) || k < 0 || k >= NCLASSES)
        return;
    root_set((int)r, NULL);
    int was;
    alloc_begin(&was);
    pobj_t *p = (pobj_t *)rcy_new(types[k]);
    if (p == NULL)
        die("out of memory");
    p->cls = (int)k;
    alloc_end(was);
    /* Labelled after any collection the allocation ran, as in the twin
       (finalizers run by it may have labelled objects of their own). */
    p->label = next_obj++;
    /* Root R is empty: finalizers and callbacks only ever clear roots. */
    roots[r] = &p->ob;
}

/* set R S V: slot S of the object in root R = the value of root V (V < 0:
   None). The object and the value are held for the duration of the store,
   and released in that order afterwards (as the twin's locals are). */
static void op_set(long r, long s, long v)
{
    if (!valid_root(r) || (v >= 0 && !valid_root(v)))
        return;
    pobj_t *p = as_pobj(roots[r]);
    if (p == NULL || s < 0 || s >= classes[p->cls].nslots)
        return;
    rcy_incref(&p->ob);
    rcy_object_t *val = v >= 0 ? rcy_xnewref(roots[v]) : NULL;
    RCY_XSETREF(p->slot[s], val);
    rcy_xdecref(val);
    rcy_decref(&p->ob);
}

/* get R V S: root R = slot S of the object in root V (held meanwhile). */
static void op_get(long r, long v, long s)
{
    if (!valid_root(r) || !valid_root(v))
        return;
    pobj_t *p = as_pobj(roots[v]);
    if (p == NULL || s < 0 || s >= classes[p->cls].nslots)
        return;
    rcy_incref(&p->ob);
    rcy_object_t *val = rcy_xnewref(p->slot[s]);
    root_set((int)r, val);
    rcy_xdecref(val);
    rcy_decref(&p->ob);
}

static void op_mov(long r, long v)
{
    if (!valid_root(r) || !valid_root(v))
        return;
    rcy_object_t *val = rcy_xnewref(roots[v]);
    root_set((int)r, val);
    rcy_xdecref(val);
}

static void op_drop(long r)
{
    if (valid_root(r))
        root_set((int)r, NULL);
}

/* The twin's bound method o.cb as a weak-reference callback: a C function
   bound to the referent (a callable callback, traversed), which logs. */
static rcy_object_t *method_cb(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    (void)self;
    if (nargs == 1)
        event("cb", args[0]);
    return rcy_none(rt);
}

/* weak R V C: root R = a weak reference to the object in root V, with no
   callback (C = 0: the shared basic reference), a logging callback (1),
   one that also drops root label % NROOTS (2), or the referent's own bound
   method o.cb (3: weakref.ref(o, o.cb), a callback that holds the referent,
   so the object lives as long as the weak reference, and a cycle through
   it is collected). Root R is released first, while the target is held. */
static void op_weak(long r, long v, long c)
{
    if (!valid_root(r) || !valid_root(v) || c < 0 || c > 3)
        return;
    pobj_t *p = as_pobj(roots[v]);
    if (p == NULL)
        return;
    rcy_incref(&p->ob);
    root_set((int)r, NULL);
    int was;
    alloc_begin(&was);
    /* o.cb is evaluated before the call: the method object is allocated
       (a tracked container) before the argument tuple and the reference. */
    rcy_object_t *method = NULL;
    if (c == 3) {
        method = rcy_cfunction_new(rt, method_cb, &p->ob);
        if (method == NULL)
            die("cfunction_new failed: %s", rcy_strerror(rcy_last_error(rt)));
    }
    if (!deferred) {
        RCY_XSETREF(argtuple->slot[0], &p->ob);
        RCY_XSETREF(argtuple->slot[1], method);
        rcy_gc_track(&argtuple->ob);
    }
    rcy_object_t *wr = method != NULL ? rcy_weakref_new_callable(&p->ob, method)
                                      : rcy_weakref_new(&p->ob, c ? wr_callback : NULL, (void *)(intptr_t)c);
    if (wr == NULL)
        die("weakref_new failed: %s", rcy_strerror(rcy_last_error(rt)));
    if (!deferred) {
        rcy_gc_untrack(&argtuple->ob);
        RCY_CLEAR(argtuple->slot[0]);
        RCY_CLEAR(argtuple->slot[1]);
    }
    rcy_xdecref(method); /* the weak reference holds it */
    if (rcy_getrefcount(wr) == 1)
        wr_label_set(wr, next_wr++);
    alloc_end(was);
    roots[r] = wr;
    rcy_decref(&p->ob);
}

/* deref R V: root R = the referent of the weak reference in root V. */
static void op_deref(long r, long v)
{
    if (!valid_root(r) || !valid_root(v) || roots[v] == NULL || !rcy_is_weakref(roots[v]))
        return;
    rcy_object_t *w = rcy_newref(roots[v]);
    rcy_object_t *val = rcy_weakref_get(w);
    root_set((int)r, val);
    rcy_xdecref(val);
    rcy_decref(w);
}

/* ---- Main ------------------------------------------------------------- */

/* Splits off the next whitespace-separated token of *p (NULL at the end). */
static char *next_token(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    if (*s == '\0')
        return NULL;
    char *t = s;
    while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
        s++;
    if (*s != '\0')
        *s++ = '\0';
    *p = s;
    return t;
}

/* Parses "name arg...": integer arguments, "-" standing for -1 (None). */
static int parse(char *line, char **name, long *arg, int max)
{
    int n = 0;
    *name = next_token(&line);
    if (*name == NULL)
        return -1;
    char *t;
    while ((t = next_token(&line)) != NULL) {
        if (n == max)
            return -2;
        if (strcmp(t, "-") == 0) {
            arg[n++] = -1;
            continue;
        }
        char *end;
        arg[n++] = strtol(t, &end, 10);
        if (*end != '\0')
            return -2;
    }
    return n;
}

static void run_line(char *text, long step)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", text);
    char *name;
    long a[4] = {0, 0, 0, 0};
    int n = parse(copy, &name, a, 4);
    if (n < 0)
        die("step %ld: malformed line: %s", step, text);
    int has_ret = 0;
    intptr_t ret = 0;
#define NEED(k)                                                                                    \
    do {                                                                                           \
        if (n != (k))                                                                              \
            die("step %ld: %s takes %d arguments", step, name, k);                                 \
    } while (0)
    if (strcmp(name, "threshold") == 0) {
        NEED(3);
        if (rcy_gc_set_threshold(rt, (int)a[0], (int)a[1], (int)a[2]) != 0)
            die("step %ld: bad thresholds", step);
    } else if (strcmp(name, "enable") == 0) {
        NEED(0);
        rcy_gc_enable(rt);
    } else if (strcmp(name, "disable") == 0) {
        NEED(0);
        rcy_gc_disable(rt);
    } else if (strcmp(name, "new") == 0) {
        NEED(2);
        op_new(a[0], a[1]);
    } else if (strcmp(name, "set") == 0) {
        NEED(3);
        op_set(a[0], a[1], a[2]);
    } else if (strcmp(name, "get") == 0) {
        NEED(3);
        op_get(a[0], a[1], a[2]);
    } else if (strcmp(name, "mov") == 0) {
        NEED(2);
        op_mov(a[0], a[1]);
    } else if (strcmp(name, "drop") == 0) {
        NEED(1);
        op_drop(a[0]);
    } else if (strcmp(name, "weak") == 0) {
        NEED(3);
        op_weak(a[0], a[1], a[2]);
    } else if (strcmp(name, "deref") == 0) {
        NEED(2);
        op_deref(a[0], a[1]);
    } else if (strcmp(name, "collect") == 0) {
        NEED(1);
        if (a[0] < 0 || a[0] > 2)
            die("step %ld: bad generation", step);
        has_ret = 1;
        armed = 0;
        ret = rcy_gc_collect(rt, (int)a[0]);
        armed = 1;
    } else if (strcmp(name, "idle") == 0) {
        /* rcy_gc_incr_step: nothing in compat mode (CPython has no such
           call: the twin does nothing); in incremental mode a pass in
           progress or due runs for a[0] us (0: to its end). Its result is
           not recorded (it depends on the mode). */
        NEED(1);
        if (a[0] < 0)
            die("step %ld: bad idle time", step);
        armed = 0;
        (void)rcy_gc_incr_step(rt, (size_t)a[0]);
        armed = 1;
    } else if (strcmp(name, "freeze") == 0) {
        NEED(0);
        rcy_gc_freeze(rt);
    } else if (strcmp(name, "saveall") == 0) {
        NEED(1);
        rcy_gc_set_debug(rt, a[0] ? RCY_DEBUG_SAVEALL : 0);
    } else if (strcmp(name, "gcclear") == 0) {
        NEED(0);
        rcy_gc_garbage_clear(rt);
    } else if (strcmp(name, "unsurvive") == 0) {
        NEED(0);
        survivors_release();
    } else {
        die("step %ld: unknown operation %s", step, name);
    }
#undef NEED
    /* The record names the operation as written, whitespace normalized. */
    char norm[512];
    norm[0] = '\0';
    snprintf(copy, sizeof copy, "%s", text);
    char *rest = copy;
    for (char *t = next_token(&rest); t != NULL; t = next_token(&rest)) {
        if (norm[0])
            strncat(norm, " ", sizeof norm - strlen(norm) - 1);
        strncat(norm, t, sizeof norm - strlen(norm) - 1);
    }
    print_record(step, norm, has_ret, ret);
}

/* Releases everything the program holds and collects until nothing is
   left (before the teardown, whose collections would run class G's
   finalizer, which stores into the survivors). Cycles kept by legacy finalizers are broken here, slot by slot, so
   that their objects die by reference counting (running their legacy
   finalizers, which may resurrect them once or twice more). */
static void finish(void)
{
    rcy_gc_set_debug(rt, 0);
    rcy_decref(&argtuple->ob);
    for (int r = 0; r < NROOTS; r++)
        root_set(r, NULL);
    for (int round = 0; round < 100; round++) {
        rcy_gc_unfreeze(rt);
        survivors_release();
        for (size_t i = 0; i < rcy_gc_garbage_len(rt); i++) {
            pobj_t *p = as_pobj(rcy_gc_garbage_get(rt, i));
            if (p != NULL)
                pobj_clear(&p->ob);
        }
        rcy_gc_garbage_clear(rt);
        /* A collection may leave collectable garbage for the next one (a
           cycle reachable from an uncollectable object that died while the
           collection ran): go on until one finds nothing. */
        intptr_t found = rcy_gc_collect(rt, 2);
        if (found == 0 && n_survivors == 0 && rcy_gc_garbage_len(rt) == 0)
            break;
    }
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-d") == 0)
            deferred = 1;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "-F") == 0)
            final_only = 1;
        else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            incr_step = strtol(argv[++i], NULL, 10);
        else if (path == NULL)
            path = argv[i];
        else {
            fprintf(stderr, "usage: replay [-d] [-v] [-F] [-i STEP] [FILE]\n");
            return 2;
        }
    }
    FILE *f = stdin;
    if (path != NULL && strcmp(path, "-") != 0) {
        f = fopen(path, "r");
        if (f == NULL) {
            perror(path);
            return 2;
        }
    }

    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.output = capture_output;
    if (incr_step > 0) {
        cfg.gc_mode = RCY_GC_INCREMENTAL;
        cfg.incr_step_work = (size_t)incr_step;
    }
    rt = rcy_runtime_new(&cfg);
    if (rt == NULL)
        die("cannot create a runtime");
    /* Both sides start from CPython's classic defaults, enabled. */
    rcy_gc_set_threshold(rt, 700, 10, 10);
    make_types();
    bputs(&events, "");
    bputs(&out, "");

    char line[512];
    long step = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        if (verbose)
            fprintf(stderr, "%s", p);
        run_line(p, ++step);
        fflush(stdout);
    }
    if (f != stdin)
        fclose(f);

    if (final_only && getenv("REPLAY_INCR_STATS") != NULL) {
        /* How much of incremental mode the program exercised (stderr). */
        rcy_gc_incr_stats_t is;
        rcy_gc_incr_stats_init(&is);
        rcy_gc_get_incr_stats(rt, &is);
        fprintf(stderr, "replay: passes %llu (started %llu, given up %llu, backstops %llu), steps %llu (idle %llu)\n",
                (unsigned long long)is.passes, (unsigned long long)is.passes_started,
                (unsigned long long)is.aborted, (unsigned long long)is.backstops, (unsigned long long)is.steps,
                (unsigned long long)is.idle_steps);
    }
    if (final_only)
        print_final_record();
    finish();
    rcy_runtime_destroy(rt);
    free(survivors);
    free(wrlabels);
    free(events.s);
    free(out.s);
    int status = 0;
    if (captured.s != NULL && strstr(captured.s, "still alive") != NULL) {
        fprintf(stderr, "replay: the runtime did not end empty:\n%s", captured.s);
        status = 1;
    }
    free(captured.s);
    return status;
}
