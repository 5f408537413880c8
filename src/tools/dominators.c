/*
 * Retained sizes: the dominator tree of the heap (heapy's domisize, the
 * "retained size" of Java and JavaScript heap profilers). Object d
 * dominates object o when every path from the roots to o passes through
 * d; what d retains is everything it dominates, itself included: what
 * would be freed if the references to d went away. The tree is computed
 * with Lengauer and Tarjan's algorithm over the snapshot of tools.h; see
 * heaptools.h for the roots and the numbering.
 */
#include "heaptools.h"

#include <stdlib.h>
#include <string.h>

void rcyi_domtree_free(rcy_runtime_t *rt, rcyi_domtree_t *d)
{
    rcyi_free(rt, d->num);
    rcyi_free(rt, d->vertex);
    rcyi_free(rt, d->idom);
    rcyi_free(rt, d->bytes);
    rcyi_free(rt, d->objects);
    rcyi_free(rt, d->root_kind);
    memset(d, 0, sizeof *d);
}

/* The scratch of one computation, indexed by preorder number (0: none). */
typedef struct lt_s {
    uint32_t *parent, *semi, *label, *ancestor, *bucket_head, *bucket_next, *stack;
    uint32_t *roots; /* the virtual root's successors */
    uint32_t n_roots;
    size_t *stack_pos; /* DFS: the next edge of each node on the stack */
    uint32_t *succ;    /* the edges' destinations, as h->edges (4 bytes an edge, not 40) */
    size_t *pred_start; /* by preorder number: pred[pred_start[w] .. pred_start[w+1]) */
    uint32_t *pred;     /* the predecessors' preorder numbers (1 for the virtual root) */
} lt_t;

/* EVAL with path compression (Lengauer and Tarjan's COMPRESS), with an
   explicit stack instead of recursion. */
static uint32_t lt_eval(lt_t *t, uint32_t v)
{
    uint32_t *anc = t->ancestor, *label = t->label, *semi = t->semi;
    if (anc[v] == 0)
        return v;
    if (anc[anc[v]] != 0) {
        uint32_t top = 0;
        for (uint32_t x = v; anc[anc[x]] != 0; x = anc[x])
            t->stack[top++] = x;
        while (top > 0) {
            uint32_t y = t->stack[--top];
            uint32_t a = anc[y];
            if (semi[label[a]] < semi[label[y]])
                label[y] = label[a];
            anc[y] = anc[a];
        }
    }
    return label[v];
}

static uint32_t succ_count(const rcyi_heap_t *h, const lt_t *t, uint32_t node)
{
    return node == h->n ? t->n_roots : (uint32_t)(h->out_start[node + 1] - h->out_start[node]);
}

static uint32_t succ_at(const rcyi_heap_t *h, const lt_t *t, uint32_t node, size_t k)
{
    return node == h->n ? t->roots[k] : t->succ[h->out_start[node] + k];
}

/* Depth-first preorder from node `start` (already numbered), iteratively.
   Returns the next free number. */
static uint32_t lt_dfs(const rcyi_heap_t *h, rcyi_domtree_t *d, lt_t *t, uint32_t start, uint32_t next)
{
    uint32_t top = 0;
    t->stack[top] = start;
    t->stack_pos[top] = 0;
    top++;
    while (top > 0) {
        uint32_t v = t->stack[top - 1];
        size_t k = t->stack_pos[top - 1];
        if (k == succ_count(h, t, v)) {
            top--;
            continue;
        }
        t->stack_pos[top - 1] = k + 1;
        uint32_t w = succ_at(h, t, v, k);
        if (d->num[w] != 0)
            continue;
        d->num[w] = next;
        d->vertex[next] = w;
        t->parent[next] = d->num[v];
        next++;
        t->stack[top] = w;
        t->stack_pos[top] = 0;
        top++;
    }
    return next;
}

static void lt_free(rcy_runtime_t *rt, lt_t *t)
{
    rcyi_free(rt, t->parent);
    rcyi_free(rt, t->semi);
    rcyi_free(rt, t->label);
    rcyi_free(rt, t->ancestor);
    rcyi_free(rt, t->bucket_head);
    rcyi_free(rt, t->bucket_next);
    rcyi_free(rt, t->stack);
    rcyi_free(rt, t->stack_pos);
    rcyi_free(rt, t->roots);
    rcyi_free(rt, t->succ);
    rcyi_free(rt, t->pred_start);
    rcyi_free(rt, t->pred);
}

int rcyi_domtree_build(const rcyi_heap_t *h, rcyi_domtree_t *d)
{
    rcy_runtime_t *rt = h->rt;
    memset(d, 0, sizeof *d);
    d->h = h;
    lt_t t;
    memset(&t, 0, sizeof t);
    size_t nv = (size_t)h->n + 2; /* numbers 1 .. h->n + 1 */
    d->num = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *d->num);
    d->vertex = rcyi_malloc_array(rt, nv, sizeof *d->vertex);
    d->idom = rcyi_malloc_array(rt, nv, sizeof *d->idom);
    d->root_kind = rcyi_malloc_array(rt, (size_t)h->n + 1, 1);
    t.parent = rcyi_malloc_array(rt, nv, sizeof *t.parent);
    t.semi = rcyi_malloc_array(rt, nv, sizeof *t.semi);
    t.label = rcyi_malloc_array(rt, nv, sizeof *t.label);
    t.ancestor = rcyi_malloc_array(rt, nv, sizeof *t.ancestor);
    t.bucket_head = rcyi_malloc_array(rt, nv, sizeof *t.bucket_head);
    t.bucket_next = rcyi_malloc_array(rt, nv, sizeof *t.bucket_next);
    t.stack = rcyi_malloc_array(rt, nv, sizeof *t.stack);
    t.stack_pos = rcyi_malloc_array(rt, nv, sizeof *t.stack_pos);
    t.roots = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *t.roots);
    t.succ = rcyi_malloc_array(rt, h->n_edges ? h->n_edges : 1, sizeof *t.succ);
    if (d->num == NULL || d->vertex == NULL || d->idom == NULL || d->root_kind == NULL || t.parent == NULL ||
        t.semi == NULL || t.label == NULL || t.ancestor == NULL || t.bucket_head == NULL || t.bucket_next == NULL ||
        t.stack == NULL || t.stack_pos == NULL || t.roots == NULL || t.succ == NULL)
        goto nomem;
    for (size_t e = 0; e < h->n_edges; e++)
        t.succ[e] = h->edges[e].dst;
    memset(d->num, 0, ((size_t)h->n + 1) * sizeof *d->num);
    memset(d->root_kind, 0, (size_t)h->n + 1);

    /* The roots, registered ones first (in registration order), then the
       garbage list, then what is held from outside, in heap order. */
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->root[i] >= 0)
            d->root_kind[i] = RCYI_DOM_REGISTERED;
    }
    for (size_t r = 0; r < rt->n_roots; r++)
        t.roots[t.n_roots++] = rcyi_heap_find(h, rt->roots[r].obj);
    for (uint32_t i = 0; i < h->n; i++) {
        if (d->root_kind[i] == RCYI_DOM_NOT_ROOT && h->table_refs[i] > 0) {
            d->root_kind[i] = RCYI_DOM_GARBAGE;
            t.roots[t.n_roots++] = i;
        }
    }
    for (uint32_t i = 0; i < h->n; i++) {
        if (d->root_kind[i] == RCYI_DOM_NOT_ROOT && rcyi_heap_external(h, i) > 0) { /* immortals too */
            d->root_kind[i] = RCYI_DOM_EXTERNAL;
            t.roots[t.n_roots++] = i;
        }
    }
    uint32_t vroot = h->n;
    d->num[vroot] = 1;
    d->vertex[1] = vroot;
    t.parent[1] = 0;
    uint32_t next = lt_dfs(h, d, &t, vroot, 2);
    /* What none of the roots reach starts a tree of its own. */
    for (uint32_t i = 0; i < h->n; i++) {
        if (d->num[i] != 0)
            continue;
        d->root_kind[i] = RCYI_DOM_UNREACHED;
        t.roots[t.n_roots++] = i;
        d->num[i] = next;
        d->vertex[next] = i;
        t.parent[next] = 1;
        next = lt_dfs(h, d, &t, i, next + 1);
    }
    uint32_t n = next - 1; /* every node is numbered: n == h->n + 1 */
    d->n_nums = n;
    rcyi_free(rt, t.succ);
    t.succ = NULL;
    rcyi_free(rt, t.stack_pos);
    t.stack_pos = NULL;

    /* The predecessors by preorder number, for the backward sweep to read
       in order: the virtual root (number 1) first for a root. */
    t.pred_start = rcyi_malloc_array(rt, (size_t)n + 2, sizeof *t.pred_start);
    t.pred = rcyi_malloc_array(rt, h->n_edges + t.n_roots + 1, sizeof *t.pred);
    if (t.pred_start == NULL || t.pred == NULL)
        goto nomem;
    {
        size_t at = 0;
        t.pred_start[0] = t.pred_start[1] = t.pred_start[2] = 0;
        for (uint32_t w = 2; w <= n; w++) {
            uint32_t node = d->vertex[w];
            if (d->root_kind[node] != RCYI_DOM_NOT_ROOT)
                t.pred[at++] = 1;
            for (size_t k = h->in_start[node]; k < h->in_start[node + 1]; k++)
                t.pred[at++] = d->num[h->edges[h->in_edges[k]].src];
            t.pred_start[w + 1] = at;
        }
    }

    for (uint32_t k = 0; k <= n; k++) {
        t.semi[k] = k;
        t.label[k] = k;
        t.ancestor[k] = 0;
        t.bucket_head[k] = 0;
        d->idom[k] = 0;
    }
    for (uint32_t w = n; w >= 2; w--) {
        /* Semidominator: from the predecessors (the virtual root for a root). */
        for (size_t k = t.pred_start[w]; k < t.pred_start[w + 1]; k++) {
            uint32_t u = lt_eval(&t, t.pred[k]);
            if (t.semi[u] < t.semi[w])
                t.semi[w] = t.semi[u];
        }
        t.bucket_next[w] = t.bucket_head[t.semi[w]];
        t.bucket_head[t.semi[w]] = w;
        uint32_t p = t.parent[w];
        t.ancestor[w] = p; /* LINK(parent, w) */
        for (uint32_t v = t.bucket_head[p]; v != 0; v = t.bucket_next[v]) {
            uint32_t u = lt_eval(&t, v);
            d->idom[v] = t.semi[u] < t.semi[v] ? u : p;
        }
        t.bucket_head[p] = 0;
    }
    for (uint32_t w = 2; w <= n; w++) {
        if (d->idom[w] != t.semi[w])
            d->idom[w] = d->idom[d->idom[w]];
    }
    d->idom[1] = 0;
    lt_free(rt, &t);
    memset(&t, 0, sizeof t);

    /* Retained sizes: a backward sweep adds every vertex to its
       immediate dominator, which has a smaller number. */
    d->bytes = rcyi_malloc_array(rt, (size_t)n + 1, sizeof *d->bytes);
    d->objects = rcyi_malloc_array(rt, (size_t)n + 1, sizeof *d->objects);
    if (d->bytes == NULL || d->objects == NULL)
        goto nomem;
    d->bytes[0] = 0;
    d->objects[0] = 0;
    d->bytes[1] = 0;
    d->objects[1] = 0;
    for (uint32_t w = 2; w <= n; w++) {
        d->bytes[w] = rcyi_object_size(h->objs[d->vertex[w]]);
        d->objects[w] = 1;
    }
    for (uint32_t w = n; w >= 2; w--) {
        d->bytes[d->idom[w]] += d->bytes[w];
        d->objects[d->idom[w]] += d->objects[w];
    }
    return 0;
nomem:
    lt_free(rt, &t);
    rcyi_domtree_free(rt, d);
    return RCY_ENOMEM;
}

int rcyi_domtree_snapshot(rcy_runtime_t *rt, rcyi_heap_t *h, rcyi_domtree_t *d, rcy_object_t *const *extra,
                          size_t n_extra, const char *walk)
{
    memset(d, 0, sizeof *d);
    int err = rcyi_heap_build(rt, h, extra, n_extra, true, walk);
    if (err < 0)
        return err;
    if (rcyi_heap_index_referrers(h) < 0 || rcyi_domtree_build(h, d) < 0) {
        rcyi_heap_free(h);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    return 0;
}

/* ---- Top N ----------------------------------------------------------- */

/* a before b in the top list: more bytes, or as many and an earlier node. */
static bool top_before(const rcyi_domtree_t *d, uint32_t a, uint32_t b)
{
    uint64_t x = rcyi_domtree_bytes(d, a), y = rcyi_domtree_bytes(d, b);
    return x != y ? x > y : a < b;
}

/* A min-heap (by top_before) of the best n so far, then sorted. */
static void sift_down(const rcyi_domtree_t *d, uint32_t *heap, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && top_before(d, heap[m], heap[l]))
            m = l;
        if (r < len && top_before(d, heap[m], heap[r]))
            m = r;
        if (m == i)
            return;
        uint32_t tmp = heap[i];
        heap[i] = heap[m];
        heap[m] = tmp;
        i = m;
    }
}

int rcyi_domtree_top(rcy_runtime_t *rt, const rcyi_domtree_t *d, size_t n, uint32_t *out)
{
    (void)rt;
    const rcyi_heap_t *h = d->h;
    size_t len = 0;
    if (n == 0)
        return 0;
    /* heap[0] is the worst of the best: the one every better node evicts. */
    for (uint32_t i = 0; i < h->n; i++) {
        if (rcyi_is_static_singleton(h->rt, h->objs[i]))
            continue;
        if (len < n) {
            /* sift up */
            size_t k = len++;
            out[k] = i;
            while (k > 0 && top_before(d, out[(k - 1) / 2], out[k])) {
                uint32_t tmp = out[k];
                out[k] = out[(k - 1) / 2];
                out[(k - 1) / 2] = tmp;
                k = (k - 1) / 2;
            }
        } else if (top_before(d, i, out[0])) {
            out[0] = i;
            sift_down(d, out, len, 0);
        }
    }
    /* Heap sort: the worst goes last. */
    for (size_t end = len; end > 1; end--) {
        uint32_t tmp = out[0];
        out[0] = out[end - 1];
        out[end - 1] = tmp;
        sift_down(d, out, end - 1, 0);
    }
    return (int)len;
}

/* ---- Public calls ---------------------------------------------------- */

void rcy_retained_init(rcy_retained_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
}

int rcy_retained_size(rcy_object_t *obj, rcy_retained_t *out)
{
    if (obj == NULL || out == NULL || !RCYI_SIZE_OK(out))
        return RCY_EINVAL;
    rcyi_check_live(obj);
    rcy_retained_init(out);
    rcy_runtime_t *rt = obj->type->rt;
    rcyi_heap_t h;
    rcyi_domtree_t d;
    int err = rcyi_domtree_snapshot(rt, &h, &d, &obj, 1, "rcy_retained_size");
    if (err < 0)
        return err;
    uint32_t i = rcyi_heap_find(&h, obj);
    out->bytes = (size_t)rcyi_domtree_bytes(&d, i);
    out->objects = rcyi_domtree_objects(&d, i);
    out->self_bytes = rcyi_object_size(obj);
    uint32_t dom = rcyi_domtree_idom(&d, i);
    out->dominator = dom == h.n ? NULL : h.objs[dom];
    out->is_root = d.root_kind[i] != RCYI_DOM_NOT_ROOT;
    rcyi_domtree_free(rt, &d);
    rcyi_heap_free(&h);
    if (out->dominator != NULL)
        rcy_incref(out->dominator);
    return 0;
}

static const char *root_kind_name(int kind)
{
    switch (kind) {
    case RCYI_DOM_REGISTERED: return "root";
    case RCYI_DOM_GARBAGE: return "gc.garbage";
    case RCYI_DOM_EXTERNAL: return "held from outside";
    case RCYI_DOM_UNREACHED: return "unreachable";
    default: return "";
    }
}

const char *rcy_retainer_root_kind_name(int kind) { return root_kind_name(kind); }

int rcy_largest_retainers(rcy_runtime_t *rt, size_t n, rcy_retainers_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    out->items = NULL;
    out->len = 0;
    out->rt = rt;
    if (n == 0)
        n = 10;
    rcyi_heap_t h;
    rcyi_domtree_t d;
    int err = rcyi_domtree_snapshot(rt, &h, &d, NULL, 0, "rcy_largest_retainers");
    if (err < 0)
        return err;
    if (n > h.n)
        n = h.n;
    uint32_t *top = rcyi_malloc_array(rt, n ? n : 1, sizeof *top);
    rcy_retainer_t *rows = rcyi_malloc_array(rt, n ? n : 1, sizeof *rows);
    if (top == NULL || rows == NULL) {
        rcyi_free(rt, top);
        rcyi_free(rt, rows);
        rcyi_domtree_free(rt, &d);
        rcyi_heap_free(&h);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    int len = rcyi_domtree_top(rt, &d, n, top);
    for (int k = 0; k < len; k++) {
        uint32_t i = top[k];
        rcy_object_t *o = h.objs[i];
        rows[k].obj = o;
        rows[k].type_name = o->type->name;
        rows[k].bytes = (size_t)rcyi_domtree_bytes(&d, i);
        rows[k].objects = rcyi_domtree_objects(&d, i);
        rows[k].self_bytes = rcyi_object_size(o);
        rows[k].root_kind = d.root_kind[i];
        uint32_t dom = rcyi_domtree_idom(&d, i);
        rows[k].dominator = dom == h.n ? NULL : h.objs[dom];
    }
    rcyi_free(rt, top);
    rcyi_domtree_free(rt, &d);
    rcyi_heap_free(&h);
    /* New references once the walk is over. */
    for (int k = 0; k < len; k++) {
        rcy_incref(rows[k].obj);
        if (rows[k].dominator != NULL)
            rcy_incref(rows[k].dominator);
    }
    out->items = rows;
    out->len = (size_t)len;
    return 0;
}

void rcy_retainers_release(rcy_retainers_t *r)
{
    if (r == NULL || r->rt == NULL)
        return;
    RCYI_CHECK_RT(r->rt);
    rcy_retainer_t *items = r->items;
    size_t len = r->len;
    r->items = NULL;
    r->len = 0;
    while (len > 0) {
        len--;
        rcy_object_t *o = items[len].obj, *dom = items[len].dominator;
        rcy_decref(o);
        if (dom != NULL)
            rcy_decref(dom);
    }
    rcyi_free(r->rt, items);
}

int rcy_show_largest_retainers(rcy_runtime_t *rt, size_t n, FILE *out)
{
    rcy_retainers_t r;
    int err = rcy_largest_retainers(rt, n, &r);
    if (err < 0)
        return err;
    int w = 4;
    for (size_t i = 0; i < r.len; i++) {
        size_t len = strlen(r.items[i].type_name);
        if (len > (size_t)w)
            w = len > 40 ? 40 : (int)len;
    }
    rcyi_out(rt, out, "%-*s %12s %9s %10s  %s\n", w, "type", "retained", "objects", "self", "object");
    for (size_t i = 0; i < r.len; i++) {
        const rcy_retainer_t *row = &r.items[i];
        char desc[80];
        rcy_describe(row->obj, desc, sizeof desc); /* user code: the rows hold their objects */
        const char *kind = root_kind_name(row->root_kind);
        rcyi_out(rt, out, "%-*s %12zu %9zu %10zu  %s%s%s%s\n", w, row->type_name, row->bytes, row->objects,
                 row->self_bytes, desc, *kind ? " (" : "", kind, *kind ? ")" : "");
    }
    rcy_retainers_release(&r);
    return 0;
}
