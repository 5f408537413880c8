/* Several runtimes on several threads at once: each thread owns one
   runtime and builds graphs full of cycles in it, collects them explicitly
   and automatically, checks its own counts, and ends with zero live
   objects. Runtimes share no mutable state, so this is race-free; `make
   test-tsan` runs it under ThreadSanitizer to prove it. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "node.h" /* for OB() */

#include <pthread.h>
#include <stdint.h>

#define NTHREADS 4
#define ROUNDS 40
#define RING 50   /* nodes per garbage ring */
#define RINGS 20  /* rings per round */
#define KEPT 100  /* nodes kept alive across a round */

/* A node with two references and a finalizer that counts, per runtime,
   through a pointer to the thread's own state. */
typedef struct worker_s worker_t;

typedef struct tnode_s {
    rcy_object_t ob;
    rcy_object_t *a;
    rcy_object_t *b;
    worker_t *owner;
    long value;
} tnode_t;

struct worker_s {
    int id;
    uint32_t rng;
    rcy_runtime_t *rt;
    rcy_type_t *type;
    long finalized;   /* finalizer calls seen */
    long callbacks;   /* collection callbacks seen (start + stop) */
    long collected;   /* objects reported collected by explicit collections */
    long auto_stops;  /* stop callbacks not caused by our explicit calls */
    int explicit_collection;
    capture_t out;
    int failures;     /* checks that failed in this thread */
};

static int tnode_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    tnode_t *n = (tnode_t *)self;
    RCY_VISIT(n->a);
    RCY_VISIT(n->b);
    return 0;
}

static int tnode_clear(rcy_object_t *self)
{
    tnode_t *n = (tnode_t *)self;
    RCY_CLEAR(n->a);
    RCY_CLEAR(n->b);
    return 0;
}

static int tnode_finalize(rcy_object_t *self)
{
    tnode_t *n = (tnode_t *)self;
    n->owner->finalized++;
    return 0;
}

static int on_collect(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    worker_t *w = arg;
    (void)info;
    if (rt != w->rt)
        w->failures++;
    w->callbacks++;
    if (phase == RCY_GC_STOP && !w->explicit_collection)
        w->auto_stops++;
    return 0;
}

/* Thread-local checks: the harness's counters are shared, so a thread
   counts its own failures and the main thread reports them. */
#define TCHECK(w, cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (w)->failures++;                                                                       \
            fprintf(stderr, "thread %d: %s:%d: CHECK failed: %s\n", (w)->id, __FILE__, __LINE__, #cond); \
        }                                                                                          \
    } while (0)

static uint32_t next_rand(worker_t *w)
{
    w->rng = w->rng * 1664525u + 1013904223u;
    return w->rng >> 8;
}

static tnode_t *tnode_new(worker_t *w, long value)
{
    tnode_t *n = (tnode_t *)rcy_new(w->type);
    if (n != NULL) {
        n->owner = w;
        n->value = value;
    }
    return n;
}

static void set_ref(rcy_object_t **field, tnode_t *v) { RCY_XSETREF(*field, (rcy_object_t *)v); }

/* Builds a ring of len nodes with random chords, and drops it: garbage. */
static void make_garbage_ring(worker_t *w, int len)
{
    tnode_t *nodes[RING];
    for (int i = 0; i < len; i++)
        nodes[i] = tnode_new(w, i);
    for (int i = 0; i < len; i++) {
        set_ref(&nodes[i]->a, nodes[(i + 1) % len]);
        if (next_rand(w) % 3 == 0)
            set_ref(&nodes[i]->b, nodes[next_rand(w) % (uint32_t)len]);
    }
    for (int i = 0; i < len; i++)
        rcy_decref(OB(nodes[i]));
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    /* Different thresholds per thread, all small: automatic collections of
       every generation happen often. */
    cfg.threshold0 = 100 + 50 * w->id;
    cfg.threshold1 = 5;
    cfg.threshold2 = 5;
    cfg.output = capture_output;
    cfg.output_arg = &w->out;
    w->rt = rcy_runtime_new(&cfg);
    if (w->rt == NULL) {
        w->failures++;
        return NULL;
    }
    rcy_type_spec_t spec = {0};
    spec.name = "TNode";
    spec.basicsize = sizeof(tnode_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = tnode_traverse;
    spec.clear = tnode_clear;
    spec.finalize = tnode_finalize;
    w->type = rcy_type_new(w->rt, &spec);
    TCHECK(w, w->type != NULL);
    TCHECK(w, rcy_gc_callback_add(w->rt, on_collect, w) == 0);

    /* A structure kept alive through the rounds: a doubly linked ring. */
    tnode_t *kept[KEPT];
    for (int i = 0; i < KEPT; i++)
        kept[i] = tnode_new(w, 1000 + i);
    for (int i = 0; i < KEPT; i++) {
        set_ref(&kept[i]->a, kept[(i + 1) % KEPT]);
        set_ref(&kept[i]->b, kept[(i + KEPT - 1) % KEPT]);
    }
    tnode_t *root = (tnode_t *)rcy_newref(OB(kept[0]));
    for (int i = 0; i < KEPT; i++)
        rcy_decref(OB(kept[i]));

    long garbage_made = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int r = 0; r < RINGS; r++) {
            int len = 2 + (int)(next_rand(w) % (RING - 1));
            make_garbage_ring(w, len);
            garbage_made += len;
        }
        /* Every few rounds, an explicit full collection frees whatever
           the automatic ones left; then only the kept ring is alive. */
        if (round % 4 == 3) {
            w->explicit_collection = 1;
            intptr_t found = rcy_gc_collect(w->rt, round % 8 == 3 ? 2 : 1);
            w->explicit_collection = 0;
            TCHECK(w, found >= 0);
            w->collected += found;
            if (round % 8 == 3) {
                rcy_gc_collect(w->rt, 2);
                TCHECK(w, rcy_runtime_live_objects(w->rt) == KEPT);
            }
        }
        TCHECK(w, rcy_runtime_live_objects(w->rt) >= KEPT);
        TCHECK(w, rcy_getrefcount(OB(root)) == 3); /* root, and kept[1], kept[KEPT-1] */
        TCHECK(w, rcy_type_live_objects(w->type) == rcy_runtime_live_objects(w->rt));
    }

    /* Everything made and dropped was finalized exactly once. */
    w->explicit_collection = 1;
    rcy_gc_collect(w->rt, 2);
    TCHECK(w, rcy_runtime_live_objects(w->rt) == KEPT);
    TCHECK(w, w->finalized == garbage_made);
    rcy_gc_stats_t stats[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(stats);
    rcy_gc_get_stats(w->rt, stats);
    TCHECK(w, stats[0].collections > 0);
    TCHECK(w, stats[1].collections > 0);
    TCHECK(w, stats[2].collections > 0);
    TCHECK(w, stats[0].collected + stats[1].collected + stats[2].collected == garbage_made);
    TCHECK(w, w->auto_stops > 0); /* automatic collections ran */
    TCHECK(w, w->callbacks % 2 == 0);

    /* Drop the kept ring: a cycle, freed by the collector. */
    rcy_decref(OB(root));
    TCHECK(w, rcy_runtime_live_objects(w->rt) == KEPT);
    TCHECK(w, rcy_gc_collect(w->rt, 2) == KEPT);
    TCHECK(w, rcy_runtime_live_objects(w->rt) == 0);
    TCHECK(w, w->finalized == garbage_made + KEPT);
    rcy_runtime_destroy(w->rt);
    TCHECK(w, w->out.text == NULL || strstr(w->out.text, "still alive") == NULL);
    return NULL;
}

TEST(test_runtimes_on_threads)
{
    worker_t workers[NTHREADS];
    pthread_t threads[NTHREADS];
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < NTHREADS; i++) {
        workers[i].id = i;
        workers[i].rng = 12345u + 777u * (uint32_t)i;
        CHECK_EQ(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        CHECK_EQ(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < NTHREADS; i++) {
        CHECK_EQ(workers[i].failures, 0);
        CHECK(workers[i].finalized > 0);
        capture_free(&workers[i].out);
    }
}

/* The same work twice on one thread, one runtime after the other, gives the
   same counts as on separate threads: the runtimes are independent. */
TEST(test_same_results_sequentially)
{
    worker_t a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.id = b.id = 1;
    a.rng = b.rng = 42;
    worker_main(&a);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, worker_main, &b), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(a.failures, 0);
    CHECK_EQ(b.failures, 0);
    CHECK_EQ(a.finalized, b.finalized);
    CHECK_EQ(a.callbacks, b.callbacks);
    CHECK_EQ(a.auto_stops, b.auto_stops);
    capture_free(&a.out);
    capture_free(&b.out);
}

int main(void)
{
    RUN(test_runtimes_on_threads);
    RUN(test_same_results_sequentially);
    return harness_summary();
}
