/*
 * Retained sizes: the dominator tree of the heap (heapy's domisize, the
 * "retained size" of Java and JavaScript heap profilers). Object d
 * dominates object o when every path from the roots to o passes through
 * d; what d retains is everything it dominates, itself included: what
 * would be freed if the references to d went away. The tree is computed
 * over the snapshot's compressed rows (tools.h): a depth-first numbering,
 * the semidominators by Lengauer and Tarjan's sweep with balanced links,
 * then the immediate dominators by semi-NCA, or by Lengauer and Tarjan's
 * buckets when its climbs run past their budget; see heaptools.h for the
 * roots and the numbering, docs/design.md ("Retained sizes") for why.
 */
#include "heaptools.h"

#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define DOM_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
#define DOM_PREFETCH_W(p) __builtin_prefetch((const void *)(p), 1, 3)
#else
#define DOM_PREFETCH(p) ((void)(p))
#define DOM_PREFETCH_W(p) ((void)(p))
#endif

/* How far ahead the passes over the edges prefetch what an edge leads to. */
#define AHEAD 16
/* The successors whose records the search prefetches on entering a node. */
#define DFS_AHEAD 8

void rcyi_domtree_free(rcy_runtime_t *rt, rcyi_domtree_t *d)
{
    rcyi_free(rt, d->num);
    rcyi_free(rt, d->vertex);
    rcyi_free(rt, d->tree);
    rcyi_free(rt, d->root_kind);
    memset(d, 0, sizeof *d);
}

/* Lengauer and Tarjan's label of a vertex, by preorder number: the vertex
   of least semidominator on its compressed path in the forest, and that
   vertex's semidominator, kept beside it so that EVAL's compression reads
   only the path's own vertices. */
typedef struct lt_label_s {
    uint32_t label, lsemi;
} lt_label_t;

/* A depth-first search's frame: the node's next edge in its row and the
   row's end, its first two successors while not yet examined, and the
   node's preorder number (its node, in the search over unreached nodes). */
typedef struct lt_frame_s {
    uint32_t pos, end, v;
    uint32_t s0, s1;
} lt_frame_t;

/* A node's record during the first search: where its edges begin (its
   end is the next record's begin, mostly in the same cache line), its
   preorder number, and its first two successors, so that looking at a
   successor costs one line, and entering a node with at most two
   successors (most of a heap) needs no load from its row.
   The search also sorts every edge out for the semidominators, as it
   meets it (from the vertex numbered v, to a record it has just read): an
   edge from a vertex numbered before its target counts only as the least
   such (pmin: the virtual root, 1, for a root; the parent otherwise, or
   less); the others are kept as late edges, grouped by target
   afterwards. No pass over the edges by target is needed. */
typedef struct lt_rec_s {
    uint32_t start, num;
    uint32_t pmin;   /* its least predecessor numbered before it (below) */
    uint32_t s0, s1; /* its first two successors (RCYI_NO_NODE: none) */
} lt_rec_t;

/* An edge the search found from a vertex numbered after its target: the
   semidominators' sweep EVALs it. */
typedef struct lt_late_s {
    uint32_t dst, src; /* preorder numbers, src > dst */
} lt_late_t;

/* The scratch of one computation. */
typedef struct lt_s {
    /* By preorder number: the ancestor in the forest of linked vertices
       (alone in its array: EVAL's climb reads only it, a dependent load a
       step, from the array that is likeliest to be cached), the labels,
       the semidominators. */
    uint32_t *anc;
    lt_label_t *lab;
    uint32_t *semi;
    uint32_t *child, *size; /* the balanced LINK's (Lengauer and Tarjan's sophisticated version) */
    uint32_t *parent; /* by preorder number: the search tree's parent */
    uint32_t *bucket_head, *bucket_next;
    uint32_t *path;      /* EVAL's ancestor path */
    lt_frame_t *frames;  /* the searches' stack */
    lt_rec_t *rec;       /* the first search's records, by node (h->n + 2) */
    uint32_t *roots;     /* the virtual root's successors */
    uint32_t n_roots;
    lt_late_t *late;      /* the late edges, in the order found */
    size_t n_late, cap_late;
    uint32_t *pmin;       /* by preorder number: rec's pmin */
    uint32_t *late_start; /* by preorder number: late_src[late_start[w] .. late_start[w+1]) */
    uint32_t *late_src;   /* the late edges' sources */
    uint32_t *order;      /* unreached nodes by finishing time */
    uint8_t *mark;
} lt_t;

/* EVAL with path compression (Lengauer and Tarjan's COMPRESS), with an
   explicit stack instead of recursion: the vertex of least semidominator
   on x's path in the forest, and in *ls its semidominator. */
static void lt_compress(lt_t *t, uint32_t x)
{
    uint32_t *anc = t->anc;
    lt_label_t *lab = t->lab;
    /* Up the path, the labels prefetched as the climb finds them. */
    uint32_t top = 0;
    for (uint32_t y = x; anc[anc[y]] != 0; y = anc[y]) {
        DOM_PREFETCH_W(&lab[y]);
        t->path[top++] = y;
    }
    while (top > 0) {
        uint32_t y = t->path[--top];
        uint32_t ay = anc[y];
        if (lab[ay].lsemi < lab[y].lsemi)
            lab[y] = lab[ay];
        anc[y] = anc[ay];
    }
}

/* EVAL over a forest of simple LINKs (ancestor = parent). */
static uint32_t lt_eval(lt_t *t, uint32_t x, uint32_t *ls)
{
    uint32_t a = t->anc[x];
    if (a == 0) {
        *ls = t->semi[x];
        return x;
    }
    if (t->anc[a] != 0)
        lt_compress(t, x);
    *ls = t->lab[x].lsemi;
    return t->lab[x].label;
}

/* EVAL over a forest of balanced LINKs, whose roots' labels count. */
static uint32_t lt_eval_balanced(lt_t *t, uint32_t x, uint32_t *ls)
{
    uint32_t *anc = t->anc;
    lt_label_t *lab = t->lab;
    if (anc[x] == 0) {
        *ls = lab[x].lsemi;
        return lab[x].label;
    }
    if (anc[anc[x]] != 0)
        lt_compress(t, x);
    uint32_t a = anc[x];
    if (lab[a].lsemi >= lab[x].lsemi) {
        *ls = lab[x].lsemi;
        return lab[x].label;
    }
    *ls = lab[a].lsemi;
    return lab[a].label;
}

/* LINK(v, w) keeping the forest's trees balanced (Lengauer and Tarjan's
   sophisticated version), so that EVAL's paths stay short. */
static void lt_link_balanced(lt_t *t, uint32_t v, uint32_t w)
{
    uint32_t *anc = t->anc, *child = t->child, *size = t->size;
    lt_label_t *lab = t->lab;
    uint32_t s = w;
    while (lab[w].lsemi < lab[child[s]].lsemi) {
        uint32_t cs = child[s];
        if ((uint64_t)size[s] + size[child[cs]] >= 2 * (uint64_t)size[cs]) {
            anc[cs] = s;
            child[s] = child[cs];
        } else {
            size[cs] = size[s];
            anc[s] = cs;
            s = cs;
        }
    }
    lab[s] = lab[w];
    size[v] += size[w];
    if ((uint64_t)size[v] < 2 * (uint64_t)size[w]) {
        uint32_t tmp = s;
        s = child[v];
        child[v] = tmp;
    }
    while (s != 0) {
        anc[s] = v;
        s = child[s];
    }
}

/* Enters node w (numbered v): its frame, its successors' records
   prefetched. */
static inline void lt_enter(const uint32_t *dst, lt_rec_t *rec, lt_frame_t *fr, uint32_t w, uint32_t v)
{
    uint32_t b = rec[w].start, e = rec[w + 1].start, deg = e - b;
    fr->pos = b + (deg < 2 ? deg : 2);
    fr->end = e;
    fr->v = v;
    fr->s0 = rec[w].s0;
    fr->s1 = rec[w].s1;
    if (fr->s0 != RCYI_NO_NODE)
        DOM_PREFETCH_W(&rec[fr->s0]);
    if (fr->s1 != RCYI_NO_NODE)
        DOM_PREFETCH_W(&rec[fr->s1]);
    for (uint32_t k = fr->pos; k < e && k < b + DFS_AHEAD; k++)
        DOM_PREFETCH_W(&rec[dst[k]]);
}

/* The next successor of the frame to examine, or RCYI_NO_NODE. */
static inline uint32_t lt_next(const uint32_t *dst, lt_rec_t *rec, lt_frame_t *fr)
{
    uint32_t w = fr->s0;
    if (w != RCYI_NO_NODE) {
        fr->s0 = RCYI_NO_NODE;
        return w;
    }
    w = fr->s1;
    if (w != RCYI_NO_NODE) {
        fr->s1 = RCYI_NO_NODE;
        return w;
    }
    if (fr->pos == fr->end)
        return RCYI_NO_NODE;
    if (fr->pos + DFS_AHEAD < fr->end)
        DOM_PREFETCH_W(&rec[dst[fr->pos + DFS_AHEAD]]); /* a long row */
    return dst[fr->pos++];
}

/* Depth-first preorder from node `start` (already numbered), iteratively,
   over the compressed rows. On entering a node, the records of its
   successors are prefetched. Returns the next free number, or 0 when
   memory runs out. */
static int late_grow(rcy_runtime_t *rt, lt_t *t)
{
    size_t cap = t->cap_late ? t->cap_late * 2 : 4096;
    lt_late_t *late = rcyi_realloc_array(rt, t->late, cap, sizeof *late);
    if (late == NULL)
        return RCY_ENOMEM;
    t->late = late;
    t->cap_late = cap;
    return 0;
}

static uint32_t lt_dfs(const rcyi_heap_t *h, rcyi_domtree_t *d, lt_t *t, uint32_t start, uint32_t next)
{
    const uint32_t *dst = h->dst;
    lt_rec_t *rec = t->rec;
    uint32_t *vertex = d->vertex;
    lt_frame_t *f = t->frames;
    uint32_t top = 0;
    lt_enter(dst, rec, &f[top++], start, rec[start].num);
    while (top > 0) {
        lt_frame_t *fr = &f[top - 1];
        uint32_t w = lt_next(dst, rec, fr);
        if (w == RCYI_NO_NODE) {
            top--;
            continue;
        }
        lt_rec_t *r = &rec[w];
        if (r->num != 0) {
            if (fr->v < r->num) {
                if (fr->v < r->pmin)
                    r->pmin = fr->v;
            } else if (fr->v > r->num) { /* not a self-reference */
                if (t->n_late == t->cap_late && late_grow(h->rt, t) < 0)
                    return 0;
                t->late[t->n_late++] = (lt_late_t){r->num, fr->v};
            }
            continue;
        }
        r->num = next;
        if (fr->v < r->pmin)
            r->pmin = fr->v; /* the parent, unless the virtual root */
        vertex[next] = w;
        t->parent[next] = fr->v;
        lt_enter(dst, rec, &f[top++], w, next);
        next++;
    }
    return next;
}

/* The nodes no root reaches, in increasing finishing time of a depth-first
   search over them (Kosaraju's first pass). Returns how many. */
static uint32_t unreached_order(const rcyi_heap_t *h, lt_t *t)
{
    const uint32_t *dst = h->dst;
    lt_rec_t *rec = t->rec;
    uint8_t *mark = t->mark;
    lt_frame_t *f = t->frames;
    uint32_t n_order = 0;
    memset(mark, 0, h->n);
    for (uint32_t i = 0; i < h->n; i++) {
        if (rec[i].num != 0 || mark[i])
            continue;
        uint32_t top = 0;
        mark[i] = 1;
        lt_enter(dst, rec, &f[top++], i, i);
        while (top > 0) {
            lt_frame_t *fr = &f[top - 1];
            uint32_t w = lt_next(dst, rec, fr);
            if (w == RCYI_NO_NODE) {
                t->order[n_order++] = fr->v;
                top--;
                continue;
            }
            if (rec[w].num != 0 || mark[w])
                continue;
            mark[w] = 1;
            lt_enter(dst, rec, &f[top++], w, w);
        }
    }
    return n_order;
}

static void lt_free(rcy_runtime_t *rt, lt_t *t)
{
    rcyi_free(rt, t->anc);
    rcyi_free(rt, t->lab);
    rcyi_free(rt, t->semi);
    rcyi_free(rt, t->child);
    rcyi_free(rt, t->size);
    rcyi_free(rt, t->parent);
    rcyi_free(rt, t->bucket_head);
    rcyi_free(rt, t->bucket_next);
    rcyi_free(rt, t->path);
    rcyi_free(rt, t->frames);
    rcyi_free(rt, t->rec);
    rcyi_free(rt, t->roots);
    rcyi_free(rt, t->late);
    rcyi_free(rt, t->pmin);
    rcyi_free(rt, t->late_start);
    rcyi_free(rt, t->late_src);
    rcyi_free(rt, t->order);
    rcyi_free(rt, t->mark);
    memset(t, 0, sizeof *t);
}

/* The least early predecessors by number, and the late edges grouped by
   target number (a counting sort of the late edges only). */
static int lt_late_index(const rcyi_heap_t *h, const rcyi_domtree_t *d, lt_t *t, uint32_t n)
{
    rcy_runtime_t *rt = h->rt;
    t->pmin = rcyi_malloc_array(rt, (size_t)n + 2, sizeof *t->pmin);
    t->late_start = rcyi_malloc_array(rt, (size_t)n + 2, sizeof *t->late_start);
    t->late_src = rcyi_malloc_array(rt, t->n_late ? t->n_late : 1, sizeof *t->late_src);
    if (t->pmin == NULL || t->late_start == NULL || t->late_src == NULL)
        return RCY_ENOMEM;
    for (uint32_t i = 0; i < h->n; i++) {
        if (i + AHEAD < h->n)
            DOM_PREFETCH_W(&t->pmin[d->num[i + AHEAD]]);
        t->pmin[d->num[i]] = t->rec[i].pmin;
    }
    uint32_t *ls = t->late_start;
    memset(ls, 0, ((size_t)n + 2) * sizeof *ls);
    for (size_t k = 0; k < t->n_late; k++)
        ls[t->late[k].dst + 1]++;
    for (uint32_t w = 0; w <= n; w++)
        ls[w + 1] += ls[w];
    /* Filled at ls[w]++, then shifted back. */
    for (size_t k = 0; k < t->n_late; k++)
        t->late_src[ls[t->late[k].dst]++] = t->late[k].src;
    for (uint32_t w = n + 1; w > 0; w--)
        ls[w] = ls[w - 1];
    ls[0] = 0;
    return 0;
}

/* The semidominators, in one backward sweep over the preorder, each vertex
   linked to its parent once it has its own (Lengauer and Tarjan's steps 2
   and the LINKs). */
static void lt_semidominators(lt_t *t, uint32_t n)
{
    uint32_t *anc = t->anc, *semi = t->semi;
    lt_label_t *lab = t->lab;
    for (uint32_t k = 0; k <= n; k++) {
        semi[k] = k;
        lab[k] = (lt_label_t){k, k};
        anc[k] = 0;
        t->child[k] = 0;
        t->size[k] = 1;
    }
    t->size[0] = 0; /* vertex 0: the balanced LINK's sentinel, semi 0 */
    const uint32_t *late = t->late_src, *ls = t->late_start;
    for (uint32_t w = n; w >= 2; w--) {
        /* The least predecessor numbered before w (never linked yet: EVAL
           would return it, and its semidominator is itself), then EVAL of
           the late edges' sources, a few ahead prefetched. */
        uint32_t sw = t->pmin[w];
        for (uint32_t k = ls[w + 1]; k > ls[w]; k--) {
            if (k > AHEAD)
                DOM_PREFETCH(&anc[late[k - 1 - AHEAD]]);
            uint32_t lsemi;
            lt_eval_balanced(t, late[k - 1], &lsemi);
            if (lsemi < sw)
                sw = lsemi;
        }
        semi[w] = sw;
        lab[w].lsemi = sw; /* its label is itself */
        lt_link_balanced(t, t->parent[w], w);
    }
}

/* Semi-NCA (Georgiadis and Tarjan): in preorder, a vertex's immediate
   dominator is the nearest common ancestor, in the tree built so far, of
   its parent and its semidominator: climb from the parent while above the
   semidominator. Mostly a step or none a vertex; but a climb can be long
   (a long path each of whose vertices dominates the next, and many
   vertices below it with a semidominator above it), so the climbs have a
   budget of `budget` steps in all: false when it runs out. */
static bool snca_idoms(const lt_t *t, rcyi_domnode_t *tree, uint32_t n, uint64_t budget)
{
    uint64_t steps = 0;
    tree[0].idom = tree[1].idom = 0;
    for (uint32_t w = 2; w <= n; w++) {
        uint32_t x = t->parent[w], sw = t->semi[w];
        while (x > sw) {
            x = tree[x].idom;
            if (++steps > budget)
                return false;
        }
        tree[w].idom = x;
    }
    return true;
}

/* Lengauer and Tarjan's steps 3 and 4 from the semidominators: the
   backward sweep again, linking as the first one did, each vertex put in
   its semidominator's bucket and the parent's bucket emptied after the
   LINK. O(m log n) whatever the graph. */
static void lt_idoms(lt_t *t, rcyi_domnode_t *tree, uint32_t n)
{
    uint32_t *anc = t->anc, *semi = t->semi;
    lt_label_t *lab = t->lab;
    for (uint32_t k = 0; k <= n; k++) {
        lab[k] = (lt_label_t){k, semi[k]};
        anc[k] = 0;
        t->bucket_head[k] = 0;
        tree[k].idom = 0;
    }
    for (uint32_t w = n; w >= 2; w--) {
        uint32_t sw = semi[w], p = t->parent[w];
        if (sw == p) {
            tree[w].idom = p; /* its own bucket's entry would give it its parent */
        } else {
            t->bucket_next[w] = t->bucket_head[sw];
            t->bucket_head[sw] = w;
        }
        anc[w] = p; /* LINK(parent, w) */
        for (uint32_t x = t->bucket_head[p]; x != 0; x = t->bucket_next[x]) {
            uint32_t ls, u = lt_eval(t, x, &ls);
            tree[x].idom = ls < semi[x] ? u : p;
        }
        t->bucket_head[p] = 0;
    }
    for (uint32_t w = 2; w <= n; w++) {
        if (tree[w].idom != semi[w])
            tree[w].idom = tree[tree[w].idom].idom;
    }
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
    d->root_kind = rcyi_malloc_array(rt, (size_t)h->n + 1, 1);
    t.parent = rcyi_malloc_array(rt, nv, sizeof *t.parent);
    t.frames = rcyi_malloc_array(rt, nv, sizeof *t.frames);
    t.roots = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *t.roots);
    t.rec = rcyi_malloc_array(rt, (size_t)h->n + 2, sizeof *t.rec);
    if (d->num == NULL || d->vertex == NULL || d->root_kind == NULL || t.parent == NULL ||
        t.frames == NULL || t.roots == NULL || t.rec == NULL)
        goto nomem;
    for (uint32_t i = 0; i < h->n; i++) {
        uint32_t b = h->out_start[i], deg = h->out_start[i + 1] - b;
        t.rec[i] = (lt_rec_t){b, 0, UINT32_MAX, deg > 0 ? h->dst[b] : RCYI_NO_NODE,
                              deg > 1 ? h->dst[b + 1] : RCYI_NO_NODE};
    }
    /* The virtual root has no row; the last record ends the last row. */
    t.rec[h->n] = t.rec[h->n + 1] = (lt_rec_t){(uint32_t)h->n_edges, 0, UINT32_MAX, RCYI_NO_NODE, RCYI_NO_NODE};
    memset(d->root_kind, 0, (size_t)h->n + 1);

    /* The roots, registered ones first (in registration order), then the
       garbage list, then what is held from outside, in heap order. */
    for (size_t r = 0; r < h->n_root_nodes; r++) {
        d->root_kind[h->root_nodes[r]] = RCYI_DOM_REGISTERED;
        t.roots[t.n_roots++] = h->root_nodes[r];
    }
    for (size_t k = 0; k < h->n_table; k++) {
        uint32_t i = h->table_node[k];
        if (d->root_kind[i] == RCYI_DOM_NOT_ROOT) {
            d->root_kind[i] = RCYI_DOM_GARBAGE;
            t.roots[t.n_roots++] = i;
        }
    }
    for (uint32_t i = 0; i < h->n; i++) {
        if (i + AHEAD < h->n)
            DOM_PREFETCH(h->objs[i + AHEAD]);
        if (d->root_kind[i] == RCYI_DOM_NOT_ROOT && rcyi_heap_external(h, i) > 0) { /* immortals too */
            d->root_kind[i] = RCYI_DOM_EXTERNAL;
            t.roots[t.n_roots++] = i;
        }
    }
    for (uint32_t r = 0; r < t.n_roots; r++)
        t.rec[t.roots[r]].pmin = 1; /* the virtual root is a predecessor */
    /* Depth-first from the virtual root: its successors in that order. */
    uint32_t vroot = h->n;
    t.rec[vroot].num = 1;
    d->vertex[1] = vroot;
    t.parent[1] = 0;
    uint32_t next = 2;
    for (uint32_t r = 0; r < t.n_roots; r++) {
        uint32_t i = t.roots[r];
        if (t.rec[i].num != 0)
            continue;
        t.rec[i].num = next;
        d->vertex[next] = i;
        t.parent[next] = 1;
        if ((next = lt_dfs(h, d, &t, i, next + 1)) == 0)
            goto nomem;
    }
    /* What none of the roots reach starts trees of its own. The starts are
       taken in decreasing finishing time of a depth-first search over the
       unreached nodes (Kosaraju's first pass): each is then in a source
       component of what is left, so that an object below a garbage cycle
       is never made a root before the cycle that holds it. */
    if (next - 1 < (uint32_t)h->n + 1) {
        t.order = rcyi_malloc_array(rt, h->n, sizeof *t.order);
        t.mark = rcyi_malloc_array(rt, h->n, 1);
        if (t.order == NULL || t.mark == NULL)
            goto nomem;
        for (uint32_t o = unreached_order(h, &t); o > 0; o--) {
            uint32_t i = t.order[o - 1];
            if (t.rec[i].num != 0)
                continue;
            d->root_kind[i] = RCYI_DOM_UNREACHED;
            t.roots[t.n_roots++] = i;
            t.rec[i].num = next;
            t.rec[i].pmin = 1;
            d->vertex[next] = i;
            t.parent[next] = 1;
            if ((next = lt_dfs(h, d, &t, i, next + 1)) == 0)
                goto nomem;
        }
        rcyi_free(rt, t.order);
        rcyi_free(rt, t.mark);
        t.order = NULL;
        t.mark = NULL;
    }
    uint32_t n = next - 1; /* every node is numbered: n == h->n + 1 */
    d->n_nums = n;
    for (uint32_t i = 0; i <= h->n; i++)
        d->num[i] = t.rec[i].num;
    rcyi_free(rt, t.frames);
    rcyi_free(rt, t.roots);
    t.frames = NULL;
    t.roots = NULL;
    if (lt_late_index(h, d, &t, n) < 0)
        goto nomem;
    rcyi_free(rt, t.rec);
    rcyi_free(rt, t.late);
    t.rec = NULL;
    t.late = NULL;
    t.path = rcyi_malloc_array(rt, nv, sizeof *t.path);
    t.anc = rcyi_malloc_array(rt, nv, sizeof *t.anc);
    t.lab = rcyi_malloc_array(rt, nv, sizeof *t.lab);
    t.semi = rcyi_malloc_array(rt, nv, sizeof *t.semi);
    t.child = rcyi_malloc_array(rt, nv, sizeof *t.child);
    t.size = rcyi_malloc_array(rt, nv, sizeof *t.size);
    if (t.path == NULL || t.anc == NULL || t.lab == NULL || t.semi == NULL || t.child == NULL || t.size == NULL)
        goto nomem;
    lt_semidominators(&t, n);
    /* The forest goes before the tree comes: less memory at the peak. */
#define DROP(p) (rcyi_free(rt, (p)), (p) = NULL)
    DROP(t.path);
    DROP(t.anc);
    DROP(t.lab);
    DROP(t.child);
    DROP(t.size);
    DROP(t.pmin);
    DROP(t.late_start);
    DROP(t.late_src);
#undef DROP
    d->tree = rcyi_malloc_array(rt, nv, sizeof *d->tree);
    if (d->tree == NULL)
        goto nomem;
    if (!snca_idoms(&t, d->tree, n, (uint64_t)n + h->n_edges + t.n_roots)) {
        /* Quadratic ground for the climbs: Lengauer and Tarjan's buckets,
           on a forest of their own. */
        t.path = rcyi_malloc_array(rt, nv, sizeof *t.path);
        t.anc = rcyi_malloc_array(rt, nv, sizeof *t.anc);
        t.lab = rcyi_malloc_array(rt, nv, sizeof *t.lab);
        t.bucket_head = rcyi_malloc_array(rt, nv, sizeof *t.bucket_head);
        t.bucket_next = rcyi_malloc_array(rt, nv, sizeof *t.bucket_next);
        if (t.path == NULL || t.anc == NULL || t.lab == NULL || t.bucket_head == NULL || t.bucket_next == NULL)
            goto nomem;
        lt_idoms(&t, d->tree, n);
    }
    rcyi_domnode_t *tree = d->tree;
    tree[1].idom = 0;
    lt_free(rt, &t);

    /* Retained sizes: each object's own, written in heap order (the
       objects are read in the order they were walked), then a backward
       sweep adds every vertex to its immediate dominator, which has a
       smaller number. */
    tree[0].bytes = tree[1].bytes = 0;
    tree[0].objects = tree[1].objects = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        if (i + AHEAD < h->n) {
            DOM_PREFETCH(h->objs[i + AHEAD]);
            DOM_PREFETCH_W(&tree[d->num[i + AHEAD]]);
        }
        rcyi_domnode_t *x = &tree[d->num[i]];
        x->bytes = rcyi_object_size(h->objs[i]);
        x->objects = 1;
    }
    for (uint32_t w = n; w >= 2; w--) {
        if (w > 2 + AHEAD)
            DOM_PREFETCH_W(&tree[tree[w - AHEAD].idom]);
        rcyi_domnode_t *p = &tree[tree[w].idom];
        p->bytes += tree[w].bytes;
        p->objects += tree[w].objects;
    }
    return 0;
nomem:
    lt_free(rt, &t);
    rcyi_domtree_free(rt, d);
    return RCY_ENOMEM;
}

int rcyi_domtree_snapshot(rcy_runtime_t *rt, rcyi_heap_t *h, rcyi_domtree_t *d, rcy_object_t *const *extra,
                          size_t n_extra, unsigned what, const char *walk)
{
    memset(d, 0, sizeof *d);
    int err = rcyi_heap_build(rt, h, extra, n_extra, what | RCYI_HEAP_EDGES, walk);
    if (err < 0)
        return err;
    if (rcyi_heap_count_referrers(h) < 0 || rcyi_domtree_build(h, d) < 0) {
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
    /* heap[0] is the worst of the best: the one every better node evicts.
       The vertices are read in preorder (the tree's own order, not the
       nodes'): the result does not depend on the order, as top_before is a
       strict total order, and a node is looked at only when it would
       enter. */
    for (uint32_t w = 2; w <= d->n_nums; w++) {
        uint32_t i = d->vertex[w];
        if (len == n) {
            uint32_t worst = out[0];
            uint64_t x = d->tree[w].bytes, y = rcyi_domtree_bytes(d, worst);
            if (x < y || (x == y && i > worst))
                continue;
        }
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
        } else {
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
    int err = rcyi_domtree_snapshot(rt, &h, &d, &obj, 1, RCYI_HEAP_EDGES, "rcy_retained_size");
    if (err < 0)
        return err;
    uint32_t i = h.extra_nodes[0];
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
    int err = rcyi_domtree_snapshot(rt, &h, &d, NULL, 0, RCYI_HEAP_EDGES, "rcy_largest_retainers");
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
        const rcyi_site_t *site = rcyi_object_site(rt, row->obj);
        rcyi_out(rt, out, "%-*s %12zu %9zu %10zu  %s%s%s%s%s%s\n", w, row->type_name, row->bytes, row->objects,
                 row->self_bytes, desc, *kind ? " (" : "", kind, *kind ? ")" : "", site ? " at " : "",
                 site ? site->name : "");
    }
    rcy_retainers_release(&r);
    return 0;
}
