/* Teardown and runtime configuration (issue 12): immortal objects that
   refer to each other (cycles included) are released exactly once and
   never used after being freed; teardown is bounded by the work it does
   (finalizers that keep making garbage, finalize callbacks that keep
   registering new ones) and reports what was left; configurations that
   cannot be honoured are refused (poison values, a quarantine whose size
   overflows); the default error hook passes messages of any length; sizes
   that overflow are refused; a reference count that would pass
   RCY_REFCNT_MAX saturates and is reported.

   Every runtime here allocates through a counting hook that keeps a list
   of its blocks, so that a test proves that teardown gave every block back
   (or, where leaking is the point, frees the blocks left itself). */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h"

#include <stdalign.h>
#include <stdint.h>

/* ---- An allocator that keeps a list of its blocks ---------------------- */

typedef union block_u {
    struct {
        union block_u *prev, *next;
    } link;
    max_align_t align;
} block_t;

typedef struct blocks_s {
    block_t head;
    long n;
} blocks_t;

static void blocks_link(blocks_t *bs, block_t *b)
{
    b->link.prev = &bs->head;
    b->link.next = bs->head.link.next;
    bs->head.link.next->link.prev = b;
    bs->head.link.next = b;
    bs->n++;
}

static void blocks_unlink(blocks_t *bs, block_t *b)
{
    b->link.prev->link.next = b->link.next;
    b->link.next->link.prev = b->link.prev;
    bs->n--;
}

static void *blocks_malloc(void *ctx, size_t size)
{
    if (size > SIZE_MAX - sizeof(block_t))
        return NULL;
    block_t *b = malloc(sizeof(block_t) + size);
    if (b == NULL)
        return NULL;
    blocks_link(ctx, b);
    return b + 1;
}

static void *blocks_realloc(void *ctx, void *ptr, size_t size)
{
    if (ptr == NULL)
        return blocks_malloc(ctx, size);
    if (size > SIZE_MAX - sizeof(block_t))
        return NULL;
    block_t *b = (block_t *)ptr - 1;
    blocks_unlink(ctx, b);
    block_t *nb = realloc(b, sizeof(block_t) + size);
    if (nb == NULL) {
        blocks_link(ctx, b);
        return NULL;
    }
    blocks_link(ctx, nb);
    return nb + 1;
}

static void blocks_free(void *ctx, void *ptr)
{
    if (ptr == NULL)
        return;
    block_t *b = (block_t *)ptr - 1;
    blocks_unlink(ctx, b);
    free(b);
}

/* Frees the blocks left; returns how many there were. */
static long blocks_free_all(blocks_t *bs)
{
    long n = bs->n;
    while (bs->head.link.next != &bs->head) {
        block_t *b = bs->head.link.next;
        blocks_unlink(bs, b);
        free(b);
    }
    return n;
}

/* The poison setting of counted_runtime's runtimes: main runs the
   immortal tests with poisoning on and off (off, freed blocks go straight
   back to the allocator, so that AddressSanitizer sees every use of one). */
static int counted_poison = -1;

/* A runtime allocating through bs, its output captured in cap. */
static rcy_runtime_t *counted_runtime(blocks_t *bs, capture_t *cap)
{
    bs->head.link.prev = bs->head.link.next = &bs->head;
    bs->n = 0;
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.allocator.malloc_fn = blocks_malloc;
    cfg.allocator.realloc_fn = blocks_realloc;
    cfg.allocator.free_fn = blocks_free;
    cfg.allocator.ctx = bs;
    cfg.output = capture_output;
    cfg.output_arg = cap;
    cfg.poison = counted_poison;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "cannot create a runtime\n");
        exit(2);
    }
    return rt;
}

/* Destroys rt and checks that it gave every block back, reporting nothing
   (no leak, no stop). */
static void destroy_clean(rcy_runtime_t *rt, blocks_t *bs, capture_t *cap)
{
    rcy_runtime_destroy(rt);
    CHECK(cap->text == NULL || strstr(cap->text, "still alive") == NULL);
    CHECK(cap->text == NULL || strstr(cap->text, "teardown stopped") == NULL);
    CHECK_EQ(blocks_free_all(bs), 0);
}

/* ---- Types ------------------------------------------------------------- */

/* A node type whose slots count their calls. */
static int finalize_calls, dealloc_calls;

static void counting_dealloc(rcy_object_t *self)
{
    dealloc_calls++;
    node_clear(self);
}

static rcy_type_t *counting_type(rcy_runtime_t *rt, const char *name, rcy_finalize_fn fin)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = counting_dealloc;
    spec.finalize = fin;
    return rcy_type_new(rt, &spec);
}

/* A node with a weak-reference list. */
typedef struct wnode_s {
    node_t n;
    rcy_object_t *weaklist;
} wnode_t;

static rcy_type_t *weak_type(rcy_runtime_t *rt, const char *name, rcy_finalize_fn fin)
{
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(wnode_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.dealloc = counting_dealloc;
    spec.finalize = fin;
    spec.weaklistoffset = offsetof(wnode_t, weaklist);
    return rcy_type_new(rt, &spec);
}

/* A non-container that holds one reference (a box): it may not form
   cycles by itself, but it may hold a container that does. */
typedef struct box_s {
    rcy_object_t ob;
    rcy_object_t *item;
} box_t;

static void box_dealloc(rcy_object_t *self)
{
    dealloc_calls++;
    RCY_CLEAR(((box_t *)self)->item);
}

static rcy_type_t *box_type(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Box";
    spec.basicsize = sizeof(box_t);
    spec.dealloc = box_dealloc;
    return rcy_type_new(rt, &spec);
}

static void counts_reset(void)
{
    finalize_calls = 0;
    dealloc_calls = 0;
}

/* ---- Immortal objects that refer to each other ------------------------- */

TEST(test_immortal_list_holding_itself)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_object_t *l = rcy_list_new(rt);
    CHECK_EQ(rcy_list_append(l, l), 0);
    CHECK_EQ(rcy_immortalize(l), 0);
    CHECK_EQ(rcy_list_append(l, l), 0); /* and once more, uncounted */
    destroy_clean(rt, &bs, &cap);
    capture_free(&cap);
}

TEST(test_immortal_dict_holding_immortal_str)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *k = rcy_str_new(rt, "None");
    CHECK_EQ(rcy_immortalize(d), 0);
    CHECK_EQ(rcy_dict_set(d, k, k), 0); /* two counted references to k */
    CHECK_EQ(rcy_immortalize(k), 0);    /* then k's count is forgotten */
    rcy_object_t *v = rcy_str_new(rt, "value");
    CHECK_EQ(rcy_dict_set(d, v, k), 0); /* one more, uncounted */
    rcy_decref(v);
    destroy_clean(rt, &bs, &cap);
    capture_free(&cap);
}

TEST(test_immortal_class_holding_its_instance)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_object_t *cls = rcy_class_new(rt, "NoneType", NULL);
    rcy_object_t *none = rcy_instance_new(cls);
    CHECK_EQ(rcy_setattr(cls, "instance", none), 0);
    CHECK_EQ(rcy_setattr(none, "me", none), 0);
    CHECK_EQ(rcy_immortalize(cls), 0);
    CHECK_EQ(rcy_immortalize(none), 0);
    destroy_clean(rt, &bs, &cap);
    capture_free(&cap);
}

static int weak_callbacks;

static int note_weak_callback(rcy_object_t *wr, void *arg)
{
    (void)arg;
    CHECK(rcy_weakref_get(wr) == NULL); /* cleared before it is called */
    weak_callbacks++;
    return 0;
}

static int fin_count(rcy_object_t *self)
{
    (void)self;
    finalize_calls++;
    return 0;
}

/* A graph of immortals and mortals referring to each other in every way:
   two immortal nodes in a cycle, each holding a mortal child that refers
   back to both, an immortal box (a non-container) holding one of them and
   held by the other, weak references with callbacks to both. Each
   finalizer runs once, each dealloc slot once, each callback once. */
TEST(test_immortal_graph_released_once)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_type_t *t = weak_type(rt, "Pillar", fin_count);
    rcy_type_t *m = counting_type(rt, "Mortal", fin_count);
    rcy_type_t *bt = box_type(rt);
    counts_reset();
    weak_callbacks = 0;
    wnode_t *a = (wnode_t *)rcy_new(t), *b = (wnode_t *)rcy_new(t);
    node_set_a(&a->n, b);
    node_set_a(&b->n, a);
    node_t *ca = node_new(m, 1), *cb = node_new(m, 2);
    node_set_a(ca, a);
    node_set_b(ca, b);
    node_set_a(cb, b);
    node_set_b(cb, a);
    node_set_b(&a->n, ca);
    node_set_b(&b->n, cb);
    box_t *box = (box_t *)rcy_new(bt);
    box->item = rcy_newref(OB(a));
    rcy_object_t *wa = rcy_weakref_new(OB(a), note_weak_callback, NULL);
    rcy_object_t *wb = rcy_weakref_new(OB(b), note_weak_callback, NULL);
    CHECK_EQ(rcy_immortalize(OB(a)), 0);
    CHECK_EQ(rcy_immortalize(OB(box)), 0);
    CHECK_EQ(rcy_immortalize(OB(b)), 0);
    /* The box is held by b (a reference taken while it is immortal). */
    rcy_object_t *old = b->n.a;
    b->n.a = rcy_newref(OB(box));
    rcy_decref(old);
    CHECK_EQ(rcy_immortalize(wa), 0); /* the weak references too */
    rcy_decref(OB(ca));
    rcy_decref(OB(cb));
    rcy_decref(wb); /* only the runtime's immortals keep things alive now */
    CHECK_EQ(rcy_gc_collect(rt, 2), 0);
    CHECK_EQ(finalize_calls, 0);

    rcy_runtime_destroy(rt);
    CHECK_EQ(finalize_calls, 4); /* a, b, ca, cb */
    CHECK_EQ(dealloc_calls, 5);  /* and the box */
    CHECK_EQ(weak_callbacks, 1); /* wa's (wb died with its last reference) */
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    CHECK_EQ(blocks_free_all(&bs), 0);
    capture_free(&cap);
}

/* A finalizer that makes its garbage peer immortal: the peer leaves the
   garbage, holding the finalized object, which stays alive with it. */
static int fin_immortalize_peer(rcy_object_t *self)
{
    node_t *n = (node_t *)self;
    if (++finalize_calls == 1) /* the first finalizer only */
        CHECK_EQ(rcy_immortalize(n->a), 0);
    return 0;
}

TEST(test_finalizer_immortalizes_garbage_peer)
{
    for (int explicit_collect = 0; explicit_collect < 2; explicit_collect++) {
        blocks_t bs;
        capture_t cap = {0};
        rcy_runtime_t *rt = counted_runtime(&bs, &cap);
        rcy_type_t *t = counting_type(rt, "Peer", fin_immortalize_peer);
        counts_reset();
        node_t *a = node_new(t, 1), *b = node_new(t, 2);
        node_set_a(a, b);
        node_set_a(b, a);
        rcy_decref(OB(a));
        rcy_decref(OB(b));
        if (explicit_collect) {
            CHECK_EQ(rcy_gc_collect(rt, 2), 0); /* nothing freed: all resurrected */
            CHECK(rcy_is_immortal(OB(a)) != rcy_is_immortal(OB(b)));
            CHECK_EQ(rcy_runtime_live_objects(rt), 2);
        }
        rcy_runtime_destroy(rt);
        CHECK_EQ(dealloc_calls, 2);
        CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
        CHECK_EQ(blocks_free_all(&bs), 0);
        capture_free(&cap);
    }
}

/* A finalizer run by a refcount death that makes its own object immortal:
   the object is resurrected with the immortal count (the temporary
   reference of the call is not taken off it), and released at teardown. */
static int fin_immortalize_self(rcy_object_t *self)
{
    finalize_calls++;
    CHECK_EQ(rcy_immortalize(self), 0);
    return 0;
}

static int legacy_immortalize_self(rcy_object_t *self)
{
    finalize_calls++;
    if (!rcy_is_immortal(self))
        CHECK_EQ(rcy_immortalize(self), 0);
    return 0;
}

TEST(test_finalizer_immortalizes_itself)
{
    for (int legacy = 0; legacy < 2; legacy++) {
        blocks_t bs;
        capture_t cap = {0};
        rcy_runtime_t *rt = counted_runtime(&bs, &cap);
        rcy_type_spec_t spec = {0};
        spec.name = legacy ? "LegacySelfish" : "Selfish";
        spec.basicsize = sizeof(node_t);
        spec.flags = RCY_TPFLAGS_GC;
        spec.traverse = node_traverse;
        spec.clear = node_clear;
        spec.dealloc = counting_dealloc;
        if (legacy)
            spec.legacy_del = legacy_immortalize_self;
        else
            spec.finalize = fin_immortalize_self;
        rcy_type_t *t = rcy_type_new(rt, &spec);
        counts_reset();
        node_t *n = node_new(t, 1);
        rcy_decref(OB(n));
        CHECK_EQ(finalize_calls, 1);
        CHECK(rcy_is_immortal(OB(n)));
        CHECK_EQ(rcy_getrefcount(OB(n)), RCY_REFCNT_IMMORTAL);
        CHECK(!rcy_gc_is_tracked(OB(n)));
        rcy_incref(OB(n));
        rcy_decref(OB(n));
        rcy_decref(OB(n));
        CHECK_EQ(rcy_runtime_live_objects(rt), 1);
        destroy_clean(rt, &bs, &cap);
        CHECK(cap.text == NULL || strstr(cap.text, "overflow") == NULL);
        CHECK_EQ(dealloc_calls, 1);
        capture_free(&cap);
    }
}

/* A dealloc slot cannot make its dying object immortal: it is freed all
   the same. */
static int dying_immortalize_result;

static void dealloc_immortalize_self(rcy_object_t *self)
{
    dealloc_calls++;
    dying_immortalize_result = rcy_immortalize(self);
}

TEST(test_dying_object_not_immortalized)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_type_spec_t spec = {0};
    spec.name = "Dying";
    spec.basicsize = sizeof(node_t);
    spec.dealloc = dealloc_immortalize_self;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    counts_reset();
    dying_immortalize_result = 0;
    rcy_decref(rcy_new(t));
    CHECK_EQ(dealloc_calls, 1);
    CHECK_EQ(dying_immortalize_result, RCY_ESTATE);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    destroy_clean(rt, &bs, &cap);
    CHECK_EQ(dealloc_calls, 1);
    capture_free(&cap);
}

/* While teardown releases the immortals, code it runs can make none
   immortal, nor track one of those being released. */
static rcy_object_t *late_candidate;
static int late_immortalize_result, late_track_result;

static int fin_try_immortalize(rcy_object_t *self)
{
    finalize_calls++;
    late_immortalize_result = rcy_immortalize(late_candidate);
    late_track_result = rcy_gc_track(self);
    return 0;
}

TEST(test_no_new_immortals_while_releasing)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_type_t *t = counting_type(rt, "Late", fin_try_immortalize);
    rcy_type_t *plain = node_type_new(rt, "Plain");
    counts_reset();
    node_t *keeper = node_new(t, 1);
    node_t *candidate = node_new(plain, 2);
    node_set_a(keeper, candidate);
    late_candidate = OB(candidate);
    rcy_decref(OB(candidate));
    late_immortalize_result = late_track_result = 0;
    CHECK_EQ(rcy_immortalize(OB(keeper)), 0);
    destroy_clean(rt, &bs, &cap);
    CHECK_EQ(finalize_calls, 1);
    CHECK_EQ(late_immortalize_result, RCY_ESTATE);
    CHECK_EQ(late_track_result, RCY_ESTATE);
    capture_free(&cap);
}

/* A finalizer that runs after an immortal list was released (its object
   dies when an older immortal is released) and stores a new object in
   that list: the list is cleared again before it is freed. */
static rcy_object_t *refill_target;

static int fin_refill(rcy_object_t *self)
{
    (void)self;
    finalize_calls++;
    rcy_object_t *s = rcy_str_new(rcy_object_runtime(refill_target), "late");
    CHECK_EQ(rcy_list_append(refill_target, s), 0);
    rcy_decref(s);
    return 0;
}

TEST(test_released_immortal_refilled)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_type_t *t = counting_type(rt, "Refiller", fin_refill);
    counts_reset();
    rcy_object_t *older = rcy_list_new(rt);
    node_t *m = node_new(t, 1);
    CHECK_EQ(rcy_list_append(older, OB(m)), 0);
    rcy_decref(OB(m));
    refill_target = rcy_list_new(rt);
    CHECK_EQ(rcy_immortalize(older), 0);
    CHECK_EQ(rcy_immortalize(refill_target), 0); /* newer: released first */
    destroy_clean(rt, &bs, &cap);
    CHECK_EQ(finalize_calls, 1);
    capture_free(&cap);
}

/* ---- Teardown bounded by work ------------------------------------------ */

static rcy_type_t *breeder_type;
static long breeder_calls;
static int breeder_cycle_len; /* objects in the cycle each call leaves */
static long breeder_limit;    /* calls that breed; 0: all of them */

/* Leaves a new cycle of its own type behind, whose finalizer does the same. */
static int fin_breed(rcy_object_t *self)
{
    (void)self;
    breeder_calls++;
    if (breeder_limit != 0 && breeder_calls > breeder_limit)
        return 0;
    node_t *first = node_new(breeder_type, 0), *n = first;
    for (int i = 1; i < breeder_cycle_len; i++) {
        node_t *next = node_new(breeder_type, i);
        node_set_a(n, next);
        rcy_decref(OB(next));
        n = next;
    }
    node_set_a(n, first);
    rcy_decref(OB(first));
    return 0;
}

static void breed_and_destroy(int cycle_len, long limit, capture_t *cap, blocks_t *bs)
{
    rcy_runtime_t *rt = counted_runtime(bs, cap);
    breeder_type = counting_type(rt, "Record", fin_breed);
    breeder_calls = 0;
    breeder_cycle_len = cycle_len;
    breeder_limit = limit;
    node_t *n = node_new(breeder_type, 0);
    node_set_a(n, n);
    rcy_decref(OB(n));
    rcy_runtime_destroy(rt);
}

TEST(test_teardown_stops_doubling_garbage)
{
    /* Two objects per call: the garbage doubles at every pass. */
    blocks_t bs;
    capture_t cap = {0};
    breed_and_destroy(2, 0, &cap, &bs);
    CHECK_STR_CONTAINS(cap.text, "recycle: teardown stopped running finalizers and callbacks after ");
    CHECK_STR_CONTAINS(cap.text, "they keep making garbage");
    CHECK_STR_CONTAINS(cap.text, "recycle:   Record: ");
    CHECK_STR_CONTAINS(cap.text, "freed without running finalizers");
    CHECK(cap.text != NULL && strstr(cap.text, "still alive") == NULL);
    /* Bounded by the budget (100,000 units for this small heap), not by
       2^100 calls; and everything was freed. */
    CHECK(breeder_calls > 1000 && breeder_calls < 1000000);
    CHECK_EQ(blocks_free_all(&bs), 0);
    capture_free(&cap);
}

TEST(test_teardown_stops_endless_garbage)
{
    /* One object per call: linear, stopped by the pass bound. */
    blocks_t bs;
    capture_t cap = {0};
    breed_and_destroy(1, 0, &cap, &bs);
    CHECK_STR_CONTAINS(cap.text,
                       "recycle: teardown stopped running finalizers and callbacks after 100 collection passes");
    CHECK_STR_CONTAINS(cap.text, "recycle:   Record: 1 (");
    CHECK(breeder_calls > 50 && breeder_calls < 1000);
    CHECK_EQ(blocks_free_all(&bs), 0);
    capture_free(&cap);
}

TEST(test_teardown_runs_bounded_garbage_making)
{
    /* Finalizers that make garbage for a while (here 2,000 calls, the
       garbage doubling at first) are all run: no stop, nothing left. */
    blocks_t bs;
    capture_t cap = {0};
    breed_and_destroy(2, 2000, &cap, &bs);
    CHECK(cap.text == NULL || strstr(cap.text, "teardown stopped") == NULL);
    CHECK(cap.text == NULL || strstr(cap.text, "still alive") == NULL);
    CHECK_EQ(breeder_calls, 1 + 2 * 2000); /* every object made gets its call */
    CHECK_EQ(blocks_free_all(&bs), 0);
    capture_free(&cap);
}

/* A weak-reference callback that leaves a new cycle behind, with a new
   weak reference (with the same callback) to it kept outside the garbage,
   in an immortal list: stopped as finalizers are. */
static rcy_type_t *wbreeder_type;
static rcy_object_t *wbreeder_keep;
static long wbreeder_calls;

static int callback_breed(rcy_object_t *wr, void *arg)
{
    (void)wr;
    (void)arg;
    wbreeder_calls++;
    wnode_t *a = (wnode_t *)rcy_new(wbreeder_type), *b = (wnode_t *)rcy_new(wbreeder_type);
    node_set_a(&a->n, b);
    node_set_a(&b->n, a);
    rcy_object_t *w = rcy_weakref_new(OB(a), callback_breed, NULL);
    CHECK_EQ(rcy_list_append(wbreeder_keep, w), 0);
    rcy_decref(w);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    return 0;
}

TEST(test_teardown_stops_endless_callbacks)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    wbreeder_type = weak_type(rt, "Echo", NULL);
    wbreeder_keep = rcy_list_new(rt);
    CHECK_EQ(rcy_immortalize(wbreeder_keep), 0);
    wbreeder_calls = 0;
    callback_breed(NULL, NULL);
    rcy_runtime_destroy(rt);
    CHECK_STR_CONTAINS(cap.text, "recycle: teardown stopped running finalizers and callbacks after 100 collection");
    CHECK_STR_CONTAINS(cap.text, "recycle:   Echo: 2 (");
    CHECK(wbreeder_calls > 50 && wbreeder_calls < 1000);
    CHECK(strstr(cap.text, "still alive") == NULL);
    CHECK_EQ(blocks_free_all(&bs), 0);
    capture_free(&cap);
}

/* ---- Finalize registrations at exit ------------------------------------ */

static rcy_object_t *exit_target;
static long exit_calls;
static long exit_reregister; /* calls that register a new one; -1: all */

static int exit_callback(void *arg)
{
    (void)arg;
    exit_calls++;
    if (exit_reregister < 0 || exit_calls <= exit_reregister) {
        rcy_object_t *f = rcy_finalize_register(exit_target, exit_callback, NULL);
        CHECK(f != NULL);
        rcy_xdecref(f);
    }
    return 0;
}

static void run_exit_registrations(long reregister, capture_t *cap, blocks_t *bs)
{
    rcy_runtime_t *rt = counted_runtime(bs, cap);
    rcy_type_t *t = weak_type(rt, "Target", NULL);
    exit_target = rcy_new(t); /* alive at teardown: leaked on purpose */
    exit_calls = 0;
    exit_reregister = reregister;
    rcy_object_t *f = rcy_finalize_register(exit_target, exit_callback, NULL);
    rcy_decref(f);
    rcy_runtime_destroy(rt);
}

TEST(test_exit_registrations_made_at_exit_run)
{
    /* As CPython's finalize._exitfunc: a registration made by a callback
       that runs at exit runs too (python3: a finalize() created inside an
       atexit-run finalize callback is called before the interpreter ends). */
    blocks_t bs;
    capture_t cap = {0};
    run_exit_registrations(3, &cap, &bs);
    CHECK_EQ(exit_calls, 4);
    CHECK(cap.text == NULL || strstr(cap.text, "teardown stopped") == NULL);
    CHECK_STR_CONTAINS(cap.text, "recycle:   Target: 1 (");
    CHECK(blocks_free_all(&bs) >= 1); /* the target, leaked on purpose */
    capture_free(&cap);
}

TEST(test_exit_registration_reregistering_for_ever)
{
    /* One that registers itself again every time would never end (CPython
       loops for ever): teardown stops it within its budget and says so. */
    blocks_t bs;
    capture_t cap = {0};
    run_exit_registrations(-1, &cap, &bs);
    CHECK_STR_CONTAINS(cap.text, "recycle: teardown stopped running finalize callbacks after ");
    CHECK_STR_CONTAINS(cap.text, "1 registrations are dropped without running");
    CHECK(exit_calls >= 100000 && exit_calls < 1000000);
    CHECK(blocks_free_all(&bs) >= 1);
    capture_free(&cap);
}

/* ---- Configuration ------------------------------------------------------ */

TEST(test_poison_values)
{
    rcy_config_t cfg;
    int bad[] = {7, 2, -2, 100, -100};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcy_config_init(&cfg);
        cfg.poison = bad[i];
        CHECK(rcy_runtime_new(&cfg) == NULL);
    }
    for (int p = -1; p <= 1; p++) {
        rcy_config_init(&cfg);
        cfg.poison = p;
        rcy_runtime_t *rt = rcy_runtime_new(&cfg);
        CHECK(rt != NULL);
        if (rt != NULL)
            test_runtime_end(rt);
    }
}

TEST(test_quarantine_size_overflow)
{
    /* quarantine * sizeof(void *) wraps: refused, poisoning on or off. */
    size_t wraps[] = {SIZE_MAX / sizeof(void *) + 2, SIZE_MAX / sizeof(void *) + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof wraps / sizeof wraps[0]; i++) {
        for (int p = 0; p <= 1; p++) {
            rcy_config_t cfg;
            rcy_config_init(&cfg);
            cfg.poison = p;
            cfg.quarantine = wraps[i];
            CHECK(rcy_runtime_new(&cfg) == NULL);
        }
    }
    /* A small quarantine works, and is really used. */
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = 1;
    cfg.quarantine = 2;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    CHECK(rt != NULL);
    for (int i = 0; i < 8; i++)
        rcy_decref(rcy_list_new(rt));
    rcy_runtime_memory_t mem;
    rcy_runtime_memory_init(&mem);
    CHECK_EQ(rcy_runtime_memory(rt, &mem), 0);
    CHECK_EQ(mem.quarantined, 2);
    test_runtime_end(rt);
}

/* ---- The default error hook --------------------------------------------- */

static int failing_clear(rcy_object_t *self)
{
    node_clear(self);
    return -1;
}

TEST(test_default_error_hook_long_message)
{
    /* The error hook's default forwards to the output hook: a message of
       any length arrives whole, with its newline (it was cut at 1 KiB). */
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    char name[5001];
    memset(name, 'N', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    rcy_type_spec_t spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = failing_clear;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    node_t *a = node_new(t, 1);
    node_set_a(a, a);
    rcy_decref(OB(a));
    CHECK_EQ(rcy_gc_collect(rt, 2), 1);
    CHECK(cap.text != NULL && strstr(cap.text, "Exception ignored in tp_clear of NNNN") != NULL);
    /* The describe text is cut to its own buffer; the type name is whole,
       and the line ends with its newline. */
    char head[5100];
    snprintf(head, sizeof head, "Exception ignored in tp_clear of %s: ", name);
    CHECK(cap.text != NULL && strncmp(cap.text, head, strlen(head)) == 0);
    CHECK(cap.len > 0 && cap.text[cap.len - 1] == '\n');
    CHECK(strchr(cap.text, '\n') == cap.text + cap.len - 1); /* one line */
    test_runtime_end(rt);
    capture_free(&cap);
}

/* ---- Sizes -------------------------------------------------------------- */

TEST(test_impossible_sizes)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *one = rcy_str_new(rt, "x");
    rcy_object_t *items[1] = {one};
    /* n pointers cannot exist: refused before the array is read. */
    CHECK(rcy_tuple_new(rt, INTPTR_MAX, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK(rcy_tuple_new(rt, INTPTR_MAX / (intptr_t)sizeof(void *) + 1, items) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    /* A variable-size type whose block would not fit in a size_t. */
    rcy_type_t *lt = list_type_new(rt);
    CHECK(rcy_new_var(lt, INTPTR_MAX) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    rcy_decref(one);
    test_runtime_end(rt);
}

/* ---- Reference count overflow ------------------------------------------- */

TEST(test_refcount_saturates)
{
    blocks_t bs;
    capture_t cap = {0};
    rcy_runtime_t *rt = counted_runtime(&bs, &cap);
    rcy_type_t *t = node_type_new(rt, "Popular");
    node_t *n = node_new(t, 1);
    /* As if RCY_REFCNT_MAX - 1 references were held (2^29 - 2 on a 32-bit
       target, where that is reachable). */
    OB(n)->refcnt = RCY_REFCNT_MAX - 1;
    rcy_incref(OB(n));
    CHECK_EQ(rcy_getrefcount(OB(n)), RCY_REFCNT_MAX);
    CHECK(!rcy_is_immortal(OB(n)));
    CHECK(cap.text == NULL || strstr(cap.text, "overflow") == NULL);
    rcy_incref(OB(n)); /* one too many: saturates, reported */
    CHECK(rcy_is_immortal(OB(n)));
    CHECK_EQ(rcy_getrefcount(OB(n)), RCY_REFCNT_IMMORTAL);
    char expected[128];
    snprintf(expected, sizeof expected, "reference count overflow: object <Popular %p>", (void *)n);
    CHECK_STR_CONTAINS(cap.text, expected);
    /* It never drops back (decref does nothing), so it is never freed by
       references released later, which would not match the count. */
    for (int i = 0; i < 10; i++)
        rcy_decref(OB(n));
    CHECK_EQ(rcy_getrefcount(OB(n)), RCY_REFCNT_IMMORTAL);
    rcy_incref(OB(n)); /* no second report */
    CHECK(strstr(strstr(cap.text, "overflow") + 1, "overflow") == NULL);
    /* Teardown reports it as alive; its memory is left (and freed here). */
    rcy_runtime_destroy(rt);
    CHECK_STR_CONTAINS(cap.text, "recycle:   Popular: 1 (");
    CHECK(blocks_free_all(&bs) >= 1);
    capture_free(&cap);
}

int main(void)
{
    for (counted_poison = -1; counted_poison <= 0; counted_poison++) {
        RUN(test_immortal_list_holding_itself);
        RUN(test_immortal_dict_holding_immortal_str);
        RUN(test_immortal_class_holding_its_instance);
        RUN(test_immortal_graph_released_once);
        RUN(test_finalizer_immortalizes_garbage_peer);
        RUN(test_finalizer_immortalizes_itself);
        RUN(test_dying_object_not_immortalized);
        RUN(test_no_new_immortals_while_releasing);
        RUN(test_released_immortal_refilled);
    }
    counted_poison = -1;
    RUN(test_teardown_stops_doubling_garbage);
    RUN(test_teardown_stops_endless_garbage);
    RUN(test_teardown_runs_bounded_garbage_making);
    RUN(test_teardown_stops_endless_callbacks);
    RUN(test_exit_registrations_made_at_exit_run);
    RUN(test_exit_registration_reregistering_for_ever);
    RUN(test_poison_values);
    RUN(test_quarantine_size_overflow);
    RUN(test_default_error_hook_long_message);
    RUN(test_impossible_sizes);
    RUN(test_refcount_saturates);
    return harness_summary();
}
