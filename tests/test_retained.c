/* Retained sizes (the dominator tree): known shapes, random graphs checked
   against the definition (d dominates x when x is unreachable from the
   roots without passing through d), deep chains, and the largest
   retainers. */
#include "harness.h"
#include "node.h"

#include <stdint.h>

static size_t node_bytes(rcy_type_t *t)
{
    node_t *n = node_new(t, 0);
    size_t b = rcy_type_live_bytes(t) / rcy_type_live_objects(t);
    rcy_decref(OB(n));
    return b;
}

TEST(chain_and_diamond)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    size_t nb = node_bytes(t);
    /* root -> a -> b -> c, and a diamond a -> d1, a -> d2 (via b), d1 -> e, d2 -> e */
    node_t *root = node_new(t, 0), *a = node_new(t, 1), *b = node_new(t, 2), *c = node_new(t, 3);
    CHECK_EQ(rcy_root_add(OB(root), "globals"), 0);
    node_set_a(root, a);
    node_set_a(a, b);
    node_set_a(b, c);
    node_t *e = node_new(t, 5);
    node_set_b(a, e); /* a -> e directly, and b -> e */
    node_set_b(b, e);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    rcy_decref(OB(c));
    rcy_decref(OB(e));
    rcy_decref(OB(root));
    /* Borrowed pointers from here: only the registry holds root. */
    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(OB(a), &r), 0);
    CHECK_EQ(r.objects, 4); /* a, b, c, e */
    CHECK_EQ(r.bytes, 4 * nb);
    CHECK_EQ(r.self_bytes, nb);
    CHECK(r.dominator == OB(root));
    CHECK(!r.is_root);
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(OB(b), &r), 0);
    CHECK_EQ(r.objects, 2); /* b, c: e is reached from a too */
    CHECK(r.dominator == OB(a));
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(OB(e), &r), 0);
    CHECK_EQ(r.objects, 1);
    CHECK(r.dominator == OB(a));
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(OB(root), &r), 0);
    CHECK_EQ(r.objects, 5);
    CHECK(r.is_root);
    CHECK(r.dominator == NULL);

    /* A C variable holding b makes it a root: a no longer retains it. */
    rcy_object_t *held = rcy_newref(OB(b));
    CHECK_EQ(rcy_retained_size(OB(a), &r), 0);
    CHECK_EQ(r.objects, 1);
    rcy_xdecref(r.dominator);
    CHECK_EQ(rcy_retained_size(held, &r), 0);
    CHECK(r.is_root);
    CHECK_EQ(r.objects, 2);
    rcy_decref(held);

    /* The largest retainers: root, a, b, ... */
    rcy_retainers_t top;
    CHECK_EQ(rcy_largest_retainers(rt, 3, &top), 0);
    CHECK_EQ(top.len, 3);
    if (top.len == 3) {
        CHECK(top.items[0].obj == OB(root));
        CHECK_EQ(top.items[0].root_kind, RCY_ROOT_KIND_REGISTERED);
        CHECK(top.items[1].obj == OB(a));
        CHECK(top.items[1].dominator == OB(root));
        CHECK(top.items[2].obj == OB(b));
        CHECK_EQ(top.items[2].bytes, 2 * nb);
        CHECK(strcmp(top.items[0].type_name, "Node") == 0);
    }
    rcy_retainers_release(&top);
    CHECK_EQ(top.len, 0);
    CHECK_EQ(rcy_root_remove(OB(root)), 0);
    test_runtime_end(rt);
}

TEST(cyclic_garbage_is_its_own_root)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *x = node_new(t, 1), *y = node_new(t, 2), *z = node_new(t, 3);
    node_set_a(x, y);
    node_set_a(y, x);
    node_set_b(y, z);
    rcy_decref(OB(z));
    rcy_decref(OB(y));
    rcy_object_t *bx = OB(x);
    rcy_decref(OB(x)); /* garbage now, until a collection */
    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(bx, &r), 0);
    CHECK(r.is_root);
    CHECK_EQ(r.objects, 3);
    rcy_retainers_t top;
    CHECK_EQ(rcy_largest_retainers(rt, 1, &top), 0);
    CHECK(top.len == 1 && top.items[0].root_kind == RCY_ROOT_KIND_UNREACHED && top.items[0].objects == 3);
    rcy_retainers_release(&top);
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    test_runtime_end(rt);
}

/* A random graph of list_t nodes (3 slots each) under one registered root;
   every node is reached through a tree edge from an earlier node. */
#define RG_N 60
#define RG_K 3

static unsigned long rg_state;
static unsigned rg_next(void)
{
    rg_state = rg_state * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(rg_state >> 33);
}

/* Reachable from node 0 without passing through `removed` (-1: none). */
static int rg_reach(const int adj[RG_N][RG_K], int removed, char *seen)
{
    int stack[RG_N], top = 0, count = 0;
    memset(seen, 0, RG_N);
    if (removed == 0)
        return 0;
    stack[top++] = 0;
    seen[0] = 1;
    while (top > 0) {
        int v = stack[--top];
        count++;
        for (int k = 0; k < RG_K; k++) {
            int w = adj[v][k];
            if (w < 0 || w == removed || seen[w])
                continue;
            seen[w] = 1;
            stack[top++] = w;
        }
    }
    return count;
}

TEST(random_graphs_match_the_definition)
{
    for (unsigned seed = 1; seed <= 25; seed++) {
        rg_state = seed;
        rcy_runtime_t *rt = test_runtime(NULL);
        rcy_type_t *lt = list_type_new(rt);
        int adj[RG_N][RG_K];
        list_t *nodes[RG_N];
        for (int i = 0; i < RG_N; i++) {
            nodes[i] = (list_t *)rcy_new_var(lt, RG_K);
            for (int k = 0; k < RG_K; k++)
                adj[i][k] = -1;
        }
        /* The tree edges: a binary heap's (slots 0 and 1), with a
           random parent for a third of the nodes. */
        int children[RG_N] = {0};
        for (int i = 1; i < RG_N; i++) {
            int p = (i - 1) / 2;
            if (rg_next() % 3 == 0) {
                int q = (int)(rg_next() % (unsigned)i);
                if (children[q] < 2)
                    p = q;
            }
            if (children[p] == 2)
                p = (i - 1) / 2;
            while (children[p] == 2)
                p++; /* some node before i has a free slot */
            adj[p][children[p]++] = i;
        }
        for (int i = 0; i < RG_N; i++) {
            for (int k = 0; k < RG_K; k++) {
                if (adj[i][k] < 0 && rg_next() % 3 == 0)
                    adj[i][k] = (int)(rg_next() % RG_N);
                if (adj[i][k] >= 0)
                    nodes[i]->items[k] = rcy_newref(OB(nodes[adj[i][k]]));
            }
        }
        CHECK_EQ(rcy_root_add(OB(nodes[0]), "root"), 0);
        for (int i = 0; i < RG_N; i++)
            rcy_decref(OB(nodes[i]));
        size_t nb = rcy_type_live_bytes(lt) / RG_N;
        char seen[RG_N];
        int total = rg_reach(adj, -1, seen);
        CHECK_EQ(total, RG_N);
        int retained[RG_N];
        char dominated[RG_N][RG_N]; /* dominated[d][x]: d dominates x */
        for (int d = 0; d < RG_N; d++) {
            retained[d] = total - rg_reach(adj, d, seen);
            for (int x = 0; x < RG_N; x++)
                dominated[d][x] = !seen[x];
        }
        for (int x = 0; x < RG_N; x++) {
            rcy_retained_t r;
            rcy_retained_init(&r);
            CHECK_EQ(rcy_retained_size(OB(nodes[x]), &r), 0);
            CHECK_EQ(r.objects, (size_t)retained[x]);
            CHECK_EQ(r.bytes, (size_t)retained[x] * nb);
            /* The immediate dominator: the strict dominator retaining least. */
            int idom = -1;
            for (int d = 0; d < RG_N; d++) {
                if (d != x && dominated[d][x] && (idom < 0 || retained[d] < retained[idom]))
                    idom = d;
            }
            CHECK(r.dominator == (idom < 0 ? NULL : OB(nodes[idom])));
            rcy_xdecref(r.dominator);
        }
        CHECK_EQ(rcy_root_remove(OB(nodes[0])), 0);
        test_runtime_end(rt);
    }
}

TEST(deep_chain_without_recursion)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Link");
    long n = harness_scaled(300000, 1000);
    node_t *head = node_new(t, 0), *tail = head;
    for (long i = 1; i < n; i++) {
        node_t *next = node_new(t, i);
        node_set_a(tail, next);
        rcy_decref(OB(next));
        tail = next;
    }
    rcy_retained_t r;
    rcy_retained_init(&r);
    CHECK_EQ(rcy_retained_size(OB(head), &r), 0);
    CHECK_EQ(r.objects, (size_t)n);
    CHECK(r.is_root);
    CHECK_EQ(rcy_retained_size(OB(tail), &r), 0);
    CHECK_EQ(r.objects, 1);
    CHECK(r.dominator != NULL);
    rcy_xdecref(r.dominator);
    rcy_decref(OB(head));
    test_runtime_end(rt);
}

TEST(show_largest_retainers_prints_rows)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_object_t *globals = rcy_dict_new(rt);
    CHECK_EQ(rcy_root_add(globals, "globals"), 0);
    rcy_object_t *cache = rcy_list_new(rt);
    for (int i = 0; i < 10; i++) {
        rcy_object_t *d = rcy_dict_new(rt);
        rcy_list_append(cache, d);
        rcy_decref(d);
    }
    rcy_object_t *key = rcy_str_new(rt, "cache");
    rcy_dict_set(globals, key, cache);
    rcy_decref(key);
    rcy_decref(cache);
    CHECK_EQ(rcy_show_largest_retainers(rt, 2, NULL), 0);
    CHECK_STR_CONTAINS(cap.text, "retained");
    CHECK_STR_CONTAINS(cap.text, "dict");
    CHECK_STR_CONTAINS(cap.text, "(root)");
    CHECK_STR_CONTAINS(cap.text, "list");
    CHECK_EQ(rcy_largest_retainers(NULL, 1, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_retained_size(NULL, NULL), RCY_EINVAL);
    rcy_retained_t bad;
    memset(&bad, 0, sizeof bad); /* no size: refused */
    CHECK_EQ(rcy_retained_size(globals, &bad), RCY_EINVAL);
    CHECK_EQ(rcy_root_remove(globals), 0);
    rcy_decref(globals);
    test_runtime_end(rt);
    capture_free(&cap);
}

int main(void)
{
    RUN(chain_and_diamond);
    RUN(cyclic_garbage_is_its_own_root);
    RUN(random_graphs_match_the_definition);
    RUN(deep_chain_without_recursion);
    RUN(show_largest_retainers_prints_rows);
    return harness_summary();
}
