/*
 * The heap snapshot behind the leak-debugging tools, with its reverse index
 * (the referrers of every object, built in one pass rather than one heap
 * walk per step as gc.get_referrers-based tools do), and what is computed
 * on it: exact external reference counts, leaking objects, back-reference
 * and forward chains (breadth first), and chain paths. Also the registry of
 * named roots. See tools.h and docs/design.md ("Leak-debugging tools").
 */
#include "heaptools.h"

#include "types/types.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Output ---------------------------------------------------------- */

void rcyi_out(rcy_runtime_t *rt, FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (out != NULL) {
        vfprintf(out, fmt, ap);
    } else {
        char small[1024];
        va_list ap2;
        va_copy(ap2, ap);
        int n = vsnprintf(small, sizeof small, fmt, ap);
        if (n >= (int)sizeof small) {
            char *big = malloc((size_t)n + 1);
            if (big != NULL) {
                vsnprintf(big, (size_t)n + 1, fmt, ap2);
                rcy_runtime_print(rt, big);
                free(big);
            } else {
                rcy_runtime_print(rt, small);
            }
        } else if (n > 0) {
            rcy_runtime_print(rt, small);
        }
        va_end(ap2);
    }
    va_end(ap);
}

/* ---- The snapshot ---------------------------------------------------- */

bool rcyi_is_static_singleton(const rcy_runtime_t *rt, const rcy_object_t *o)
{
    const char *b = (const char *)rt->builtins;
    const char *p = (const char *)o;
    return b != NULL && p >= b && p < b + sizeof(rcyi_builtins_t);
}

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

#if defined(__GNUC__) || defined(__clang__)
#define TOOL_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
#define TOOL_PREFETCH_W(p) __builtin_prefetch((const void *)(p), 1, 3)
#else
#define TOOL_PREFETCH(p) ((void)(p))
#define TOOL_PREFETCH_W(p) ((void)(p))
#endif

/* How far ahead the walk prefetches the objects it is about to read. */
#define PREFETCH_DISTANCE 12
/* Children are numbered in batches of about this many edges, so that each
   one's header can be prefetched before it is read. */
#define RESOLVE_BATCH 2048

/* While the walk runs, a tracked container's header holds its node:
   next = node << 2 | RCYI_NEXT_INCR (the incremental pass, which uses the
   same tag, has been given up first, so every tagged header is ours). */
static inline uintptr_t node_tag(uint32_t i) { return ((uintptr_t)i << 2) | RCYI_NEXT_INCR; }

/* ---- The map of untracked objects ---- */

static const rcyi_heap_slot_t *map_slot(const rcyi_heap_t *h, const rcy_object_t *o)
{
    if (h->map == NULL)
        return NULL;
    for (size_t i = hash_ptr(o) & h->map_mask;; i = (i + 1) & h->map_mask) {
        const rcyi_heap_slot_t *s = &h->map[i];
        if (s->obj == o)
            return s;
        if (s->obj == NULL)
            return NULL;
    }
}

static void map_put(rcyi_heap_slot_t *map, size_t mask, const rcy_object_t *o, uint32_t node)
{
    size_t i = hash_ptr(o) & mask;
    while (map[i].obj != NULL)
        i = (i + 1) & mask;
    map[i].obj = o;
    map[i].node = node;
}

/* Room for len entries at a load of at most one half. */
static int map_reserve(rcyi_heap_t *h, size_t len)
{
    if (h->map != NULL && len * 2 <= h->map_mask + 1)
        return 0;
    size_t cap = h->map ? (h->map_mask + 1) * 2 : 1024;
    while (len * 2 > cap)
        cap *= 2;
    rcyi_heap_slot_t *map = rcyi_malloc_array(h->rt, cap, sizeof *map);
    if (map == NULL)
        return RCY_ENOMEM;
    memset(map, 0, cap * sizeof *map);
    if (h->map != NULL) {
        for (size_t i = 0; i <= h->map_mask; i++) {
            if (h->map[i].obj != NULL)
                map_put(map, cap - 1, h->map[i].obj, h->map[i].node);
        }
    }
    rcyi_free(h->rt, h->map);
    h->map = map;
    h->map_mask = cap - 1;
    return 0;
}

uint32_t rcyi_heap_find(const rcyi_heap_t *h, const rcy_object_t *o)
{
    const rcyi_heap_slot_t *s = map_slot(h, o);
    if (s != NULL)
        return s->node;
    if (h->map_len == h->n || !rcyi_is_gc(o) || rcyi_as_gc(o)->next == 0)
        return RCYI_NO_NODE; /* every node is in the map, or o is untracked */
    for (uint32_t i = 0; i < h->n_tracked; i++) {
        if (h->objs[i] == o)
            return i;
    }
    return RCYI_NO_NODE;
}

int rcyi_heap_map_all(rcyi_heap_t *h)
{
    if (map_reserve(h, h->n) < 0)
        return RCY_ENOMEM;
    for (uint32_t i = 0; i < h->n_tracked; i++)
        map_put(h->map, h->map_mask, h->objs[i], i);
    h->map_len = h->n;
    return 0;
}

/* ---- Nodes ---- */

/* Room for want nodes (and their out_start entries). */
static int nodes_reserve(rcyi_heap_t *h, size_t want)
{
    if (want <= h->cap)
        return 0;
    /* Node numbers stay below UINT32_MAX - 1: RCYI_NO_NODE, and the
       dominator tree's virtual root is node n. */
    if (want > UINT32_MAX - 2)
        return RCY_ENOMEM;
    size_t cap = h->cap ? (size_t)h->cap * 2 : 1024;
    if (cap < want)
        cap = want;
    if (cap > UINT32_MAX - 2)
        cap = UINT32_MAX - 2;
    rcy_object_t **objs = rcyi_realloc_array(h->rt, h->objs, cap, sizeof *objs);
    if (objs == NULL)
        return RCY_ENOMEM;
    h->objs = objs;
    if (h->what & RCYI_HEAP_EDGES) {
        uint32_t *out = rcyi_realloc_array(h->rt, h->out_start, cap + 1, sizeof *out);
        if (out == NULL)
            return RCY_ENOMEM;
        h->out_start = out;
    }
    h->cap = (uint32_t)cap;
    return 0;
}

/* The node of an object the map numbers, added if new. */
static uint32_t map_node(rcyi_heap_t *h, rcy_object_t *o)
{
    const rcyi_heap_slot_t *s = map_slot(h, o);
    if (s != NULL)
        return s->node;
    if (map_reserve(h, h->map_len + 1) < 0 || nodes_reserve(h, (size_t)h->n + 1) < 0)
        return RCYI_NO_NODE;
    map_put(h->map, h->map_mask, o, h->n);
    h->map_len++;
    h->objs[h->n] = o;
    return h->n++;
}

/* The node of o during the walk, added if new (RCYI_NO_NODE: out of
   memory). A tracked container's header says; the map numbers the rest. */
static inline uint32_t node_of(rcyi_heap_t *h, rcy_object_t *o)
{
    if (rcyi_is_gc(o)) {
        uintptr_t next = rcyi_as_gc(o)->next;
        if (next & RCYI_NEXT_INCR)
            return (uint32_t)(next >> 2);
        if (RCY_UNLIKELY(next != 0))
            rcyi_fatal(o, "a tracked object on no generation list during a heap walk (a traverse slot tracked it?)");
    }
    return map_node(h, o);
}

/* ---- The walk ---- */

/* A generation list numbered by the walk: its nodes are [start, end), and
   after is what the last one's next held. */
typedef struct walk_seg_s {
    rcy_gc_head_t *head;
    uint32_t start, end;
    uintptr_t after;
} walk_seg_t;

typedef struct build_ctx_s {
    rcyi_heap_t *h;
    /* The children visited and not yet numbered: edges n_edges, ... */
    rcy_object_t **pend;
    rcyi_edge_arg_t *pend_arg; /* with labels */
    uint8_t *pend_kind;
    size_t n_pend, cap_pend;
    bool labels;
    /* The container being traversed. */
    bool src_is_dict;
    unsigned parity;
    rcy_object_t *pending_key;
    walk_seg_t seg[RCY_NUM_GENERATIONS + 1];
    int n_seg;
} build_ctx_t;

static int pend_grow(build_ctx_t *c)
{
    rcy_runtime_t *rt = c->h->rt;
    size_t cap = c->cap_pend * 2;
    rcy_object_t **pend = rcyi_realloc_array(rt, c->pend, cap, sizeof *pend);
    if (pend == NULL)
        return RCY_ENOMEM;
    c->pend = pend;
    if (c->labels) {
        rcyi_edge_arg_t *arg = rcyi_realloc_array(rt, c->pend_arg, cap, sizeof *arg);
        if (arg == NULL)
            return RCY_ENOMEM;
        c->pend_arg = arg;
        uint8_t *kind = rcyi_realloc_array(rt, c->pend_kind, cap, 1);
        if (kind == NULL)
            return RCY_ENOMEM;
        c->pend_kind = kind;
    }
    c->cap_pend = cap;
    return 0;
}

static int visit_build(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    build_ctx_t *c = arg;
    if (RCY_UNLIKELY(c->n_pend == c->cap_pend) && pend_grow(c) < 0)
        return RCY_ENOMEM;
    size_t k = c->n_pend++;
    c->pend[k] = child;
    if (!c->labels)
        return 0;
    rcyi_edge_arg_t a;
    uint8_t kind;
    if (c->src_is_dict) {
        /* A dict visits each entry's key, then its value. */
        if ((c->parity++ & 1) == 0) {
            kind = RCYI_EDGE_DICT_KEY;
            a.key = NULL;
            c->pending_key = child;
        } else {
            kind = RCYI_EDGE_DICT_VALUE;
            a.key = c->pending_key;
        }
    } else if (index >= 0) {
        kind = RCYI_EDGE_INDEX;
        a.index = index;
    } else {
        kind = RCYI_EDGE_FIELD;
        a.label = label;
    }
    c->pend_kind[k] = kind;
    c->pend_arg[k] = a;
    return 0;
}

/* Numbers the pending children (their headers prefetched a few ahead),
   which appends the untracked ones, and records their edges. */
static int resolve(build_ctx_t *c)
{
    rcyi_heap_t *h = c->h;
    size_t np = c->n_pend;
    if (np == 0)
        return 0;
    bool edges = (h->what & RCYI_HEAP_EDGES) != 0;
    if (edges && h->n_edges + np > h->cap_edges) {
        if (h->n_edges + np > UINT32_MAX)
            return RCY_ENOMEM;
        size_t cap = h->cap_edges ? h->cap_edges * 2 : 4096;
        while (cap < h->n_edges + np)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        uint32_t *dst = rcyi_realloc_array(h->rt, h->dst, cap, sizeof *dst);
        if (dst == NULL)
            return RCY_ENOMEM;
        h->dst = dst;
        if (c->labels) {
            uint8_t *kind = rcyi_realloc_array(h->rt, h->edge_kind, cap, 1);
            if (kind == NULL)
                return RCY_ENOMEM;
            h->edge_kind = kind;
            rcyi_edge_arg_t *arg = rcyi_realloc_array(h->rt, h->edge_arg, cap, sizeof *arg);
            if (arg == NULL)
                return RCY_ENOMEM;
            h->edge_arg = arg;
        }
        h->cap_edges = cap;
    }
    rcy_object_t **pend = c->pend;
    for (size_t k = 0; k < np && k < PREFETCH_DISTANCE; k++)
        TOOL_PREFETCH(rcyi_as_gc(pend[k]));
    for (size_t k = 0; k < np; k++) {
        if (k + PREFETCH_DISTANCE < np)
            TOOL_PREFETCH(rcyi_as_gc(pend[k + PREFETCH_DISTANCE]));
        uint32_t node = node_of(h, pend[k]);
        if (node == RCYI_NO_NODE)
            return RCY_ENOMEM;
        if (edges)
            h->dst[h->n_edges + k] = node;
    }
    if (c->labels) {
        memcpy(h->edge_kind + h->n_edges, c->pend_kind, np);
        memcpy(h->edge_arg + h->n_edges, c->pend_arg, np * sizeof *c->pend_arg);
    }
    if (edges)
        h->n_edges += np;
    c->n_pend = 0;
    return 0;
}

/* Numbers the tracked objects of one generation list, in list order. */
static int number_list(build_ctx_t *c, rcy_gc_head_t *head)
{
    rcyi_heap_t *h = c->h;
    walk_seg_t *seg = &c->seg[c->n_seg++];
    seg->head = head;
    seg->start = seg->end = h->n;
    seg->after = 0;
    for (rcy_gc_head_t *g = rcyi_gc_next(head); g != head;) {
        if (h->n == h->cap && nodes_reserve(h, (size_t)h->n + 1) < 0)
            return RCY_ENOMEM;
        uintptr_t next = g->next;
        h->objs[h->n] = rcyi_from_gc(g);
        g->next = node_tag(h->n);
        h->n++;
        seg->end = h->n;
        seg->after = next;
        g = (rcy_gc_head_t *)next;
    }
    return 0;
}

/* Gives every numbered header its list pointer back, and checks that the
   lists are as the walk found them: a traverse slot that tracked,
   untracked or allocated a container meanwhile would have broken them. */
static void restore_headers(build_ctx_t *c)
{
    rcyi_heap_t *h = c->h;
    for (int s = 0; s < c->n_seg; s++) {
        const walk_seg_t *seg = &c->seg[s];
        if (seg->end == seg->start)
            continue;
        for (uint32_t k = seg->start; k + 1 < seg->end; k++) {
            rcy_gc_head_t *g = rcyi_as_gc(h->objs[k]), *next = rcyi_as_gc(h->objs[k + 1]);
            g->next = (uintptr_t)next;
            if (RCY_UNLIKELY(rcyi_gc_prev(next) != g))
                rcyi_fatal(h->objs[k + 1], "the generation lists changed during a heap walk");
        }
        rcy_gc_head_t *last = rcyi_as_gc(h->objs[seg->end - 1]);
        last->next = seg->after;
        if (RCY_UNLIKELY(seg->after == (uintptr_t)seg->head && (rcy_gc_head_t *)seg->head->prev != last))
            rcyi_fatal(h->objs[seg->end - 1], "the generation lists changed during a heap walk");
    }
    c->n_seg = 0;
}

/* The runtime's tables' references (roots, garbage) as sorted (node, count). */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int table_refs(rcy_runtime_t *rt, rcyi_heap_t *h)
{
    size_t n = rt->n_roots + rt->garbage.len;
    h->root_nodes = rcyi_malloc_array(rt, rt->n_roots ? rt->n_roots : 1, sizeof *h->root_nodes);
    h->table_node = rcyi_malloc_array(rt, n ? n : 1, sizeof *h->table_node);
    h->table_count = rcyi_malloc_array(rt, n ? n : 1, sizeof *h->table_count);
    if (h->root_nodes == NULL || h->table_node == NULL || h->table_count == NULL)
        return RCY_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < rt->n_roots; i++) {
        uint32_t node = node_of(h, rt->roots[i].obj); /* numbered already */
        h->root_nodes[i] = node;
        h->flags[node] |= RCYI_NODE_ROOT | RCYI_NODE_TABLE;
        h->table_node[k++] = node;
    }
    h->n_root_nodes = rt->n_roots;
    for (size_t i = 0; i < rt->garbage.len; i++) {
        uint32_t node = node_of(h, rt->garbage.items[i]);
        h->flags[node] |= RCYI_NODE_TABLE;
        h->table_node[k++] = node;
    }
    if (k > 1)
        qsort(h->table_node, k, sizeof *h->table_node, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && h->table_node[m - 1] == h->table_node[i]) {
            h->table_count[m - 1]++;
        } else {
            h->table_node[m] = h->table_node[i];
            h->table_count[m++] = 1;
        }
    }
    h->n_table = m;
    return 0;
}

static int build(rcy_runtime_t *rt, build_ctx_t *c, rcy_object_t *const *extra, size_t n_extra)
{
    rcyi_heap_t *h = c->h;
    /* The tracked objects number at most the live objects of the
       containers' types: one array from the start, grown only past it. */
    size_t bound = n_extra + rt->n_roots + rt->garbage.len + 64;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type) {
        if (t->flags & RCY_TPFLAGS_GC)
            bound += rcyi_type_live(t, NULL);
    }
    if (bound > UINT32_MAX - 2)
        bound = UINT32_MAX - 2;
    if (nodes_reserve(h, bound) < 0)
        return RCY_ENOMEM;
    c->cap_pend = RESOLVE_BATCH * 2;
    c->pend = rcyi_malloc_array(rt, c->cap_pend, sizeof *c->pend);
    if (c->pend == NULL)
        return RCY_ENOMEM;
    if (c->labels) {
        c->pend_arg = rcyi_malloc_array(rt, c->cap_pend, sizeof *c->pend_arg);
        c->pend_kind = rcyi_malloc_array(rt, c->cap_pend, 1);
        if (c->pend_arg == NULL || c->pend_kind == NULL)
            return RCY_ENOMEM;
    }
    h->extra_nodes = rcyi_malloc_array(rt, n_extra ? n_extra : 1, sizeof *h->extra_nodes);
    if (h->extra_nodes == NULL)
        return RCY_ENOMEM;
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++) {
        if (number_list(c, &rt->gens[i].head) < 0)
            return RCY_ENOMEM;
    }
    if (number_list(c, &rt->permanent) < 0)
        return RCY_ENOMEM;
    h->n_tracked = h->n;
    for (size_t i = 0; i < n_extra; i++) {
        if ((h->extra_nodes[i] = node_of(h, extra[i])) == RCYI_NO_NODE)
            return RCY_ENOMEM;
    }
    h->n_extra = n_extra;
    bool edges = (h->what & RCYI_HEAP_EDGES) != 0;
    if (edges) {
        for (size_t i = 0; i < rt->n_roots; i++) {
            if (node_of(h, rt->roots[i].obj) == RCYI_NO_NODE)
                return RCY_ENOMEM;
        }
        for (size_t i = 0; i < rt->garbage.len; i++) {
            if (node_of(h, rt->garbage.items[i]) == RCYI_NO_NODE)
                return RCY_ENOMEM;
        }
    }
    /* Every node is traversed once, in order; the children found are
       numbered a batch at a time, which appends the untracked ones for this
       loop to reach in turn. */
    rcy_type_t *dict_type = rt->builtins->dict_type;
    uint32_t i = 0;
    for (;;) {
        while (i < h->n && c->n_pend < RESOLVE_BATCH) {
            if (i + PREFETCH_DISTANCE < h->n)
                TOOL_PREFETCH(h->objs[i + PREFETCH_DISTANCE]);
            rcy_object_t *o = h->objs[i];
            if (edges)
                h->out_start[i] = (uint32_t)(h->n_edges + c->n_pend);
            i++;
            if (!rcyi_is_gc(o))
                continue;
            c->src_is_dict = o->type == dict_type;
            c->parity = 0;
            c->pending_key = NULL;
            if (o->type->traverse(o, visit_build, c) != 0)
                return RCY_ENOMEM;
        }
        if (c->n_pend == 0)
            break; /* every node traversed, every child numbered */
        if (resolve(c) < 0)
            return RCY_ENOMEM;
    }
    if (!edges)
        return 0;
    h->out_start[h->n] = (uint32_t)h->n_edges;
    h->flags = rcyi_malloc_array(rt, (size_t)h->n + 1, 1);
    if (h->flags == NULL)
        return RCY_ENOMEM;
    memset(h->flags, 0, (size_t)h->n + 1);
    return table_refs(rt, h);
}

void rcyi_heap_free(rcyi_heap_t *h)
{
    rcy_runtime_t *rt = h->rt;
    if (rt == NULL)
        return;
    rcy_object_t **objs = h->objs;
    uint32_t n = h->n;
    bool held = h->held;
    rcyi_walk_end(rt);
    rcyi_free(rt, h->map);
    rcyi_free(rt, h->out_start);
    rcyi_free(rt, h->dst);
    rcyi_free(rt, h->edge_kind);
    rcyi_free(rt, h->edge_arg);
    rcyi_free(rt, h->in_start);
    rcyi_free(rt, h->in_src);
    rcyi_free(rt, h->in_edge);
    rcyi_free(rt, h->flags);
    rcyi_free(rt, h->table_node);
    rcyi_free(rt, h->table_count);
    rcyi_free(rt, h->root_nodes);
    rcyi_free(rt, h->extra_nodes);
    memset(h, 0, sizeof *h);
    /* After the walk ended: the releases may run finalizers, which may use
       the tools again. */
    if (held) {
        while (n > 0)
            rcy_decref(objs[--n]);
    }
    rcyi_free(rt, objs);
}

void rcyi_heap_hold(rcyi_heap_t *h)
{
    if (h->held)
        return;
    for (uint32_t i = 0; i < h->n; i++)
        rcy_incref(h->objs[i]);
    h->held = true;
}

int rcyi_heap_build(rcy_runtime_t *rt, rcyi_heap_t *h, rcy_object_t *const *extra, size_t n_extra, unsigned what,
                    const char *walk)
{
    memset(h, 0, sizeof *h);
    if (rt->collecting || !rcyi_walk_begin(rt, walk))
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_incr_abort(rt); /* every tracked object on the lists, no header tagged */
    h->rt = rt; /* the walk ends with rcyi_heap_free */
    if (what & RCYI_HEAP_LABELS)
        what |= RCYI_HEAP_EDGES;
    h->what = what;
    build_ctx_t c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.labels = (what & RCYI_HEAP_LABELS) != 0;
    int err = build(rt, &c, extra, n_extra);
    restore_headers(&c); /* on every path */
    rcyi_free(rt, c.pend);
    rcyi_free(rt, c.pend_arg);
    rcyi_free(rt, c.pend_kind);
    if (err < 0) {
        rcyi_heap_free(h);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    return 0;
}

int rcyi_heap_count_referrers(rcyi_heap_t *h)
{
    if (h->in_start != NULL)
        return 0;
    rcy_runtime_t *rt = h->rt;
    uint32_t *in = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *in);
    if (in == NULL)
        return RCY_ENOMEM;
    memset(in, 0, ((size_t)h->n + 1) * sizeof *in);
    const uint32_t *dst = h->dst;
    size_t m = h->n_edges;
    for (size_t e = 0; e < m; e++) {
        if (e + 4 * PREFETCH_DISTANCE < m)
            TOOL_PREFETCH_W(&in[dst[e + 4 * PREFETCH_DISTANCE] + 1]);
        in[dst[e] + 1]++;
    }
    for (uint32_t i = 0; i < h->n; i++)
        in[i + 1] += in[i];
    h->in_start = in;
    return 0;
}

int rcyi_heap_index_referrers(rcyi_heap_t *h)
{
    rcy_runtime_t *rt = h->rt;
    if (h->in_src != NULL)
        return 0;
    if (rcyi_heap_count_referrers(h) < 0)
        return RCY_ENOMEM;
    bool labels = (h->what & RCYI_HEAP_LABELS) != 0;
    size_t m = h->n_edges ? h->n_edges : 1;
    uint32_t *src = rcyi_malloc_array(rt, m, sizeof *src);
    uint32_t *eid = labels ? rcyi_malloc_array(rt, m, sizeof *eid) : NULL;
    if (src == NULL || (labels && eid == NULL)) {
        rcyi_free(rt, src);
        rcyi_free(rt, eid);
        return RCY_ENOMEM;
    }
    /* A counting sort of the edges by destination; stable, so each node's
       referrers come in heap order. in_start[d] is advanced while filling,
       then shifted back. */
    uint32_t *in = h->in_start;
    for (uint32_t i = 0; i < h->n; i++) {
        for (uint32_t e = h->out_start[i]; e < h->out_start[i + 1]; e++) {
            uint32_t at = in[h->dst[e]]++;
            src[at] = i;
            if (labels)
                eid[at] = e;
        }
    }
    for (uint32_t i = h->n; i > 0; i--)
        in[i] = in[i - 1];
    in[0] = 0;
    h->in_src = src;
    h->in_edge = eid;
    return 0;
}

uint32_t rcyi_heap_edge_src(const rcyi_heap_t *h, size_t e)
{
    /* The last node whose edges start at or before e, and which has edges. */
    uint32_t lo = 0, hi = h->n; /* out_start[lo] <= e < out_start[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->out_start[mid] <= e)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

rcyi_edge_t rcyi_heap_edge(const rcyi_heap_t *h, uint32_t src, size_t e)
{
    rcyi_edge_t out = {src, h->dst[e], RCYI_EDGE_FIELD, -1, NULL, NULL};
    if (h->edge_kind == NULL)
        return out;
    out.kind = h->edge_kind[e];
    switch (out.kind) {
    case RCYI_EDGE_INDEX: out.index = h->edge_arg[e].index; break;
    case RCYI_EDGE_DICT_VALUE: out.key = h->edge_arg[e].key; break;
    case RCYI_EDGE_FIELD: out.label = h->edge_arg[e].label; break;
    default: break;
    }
    return out;
}

uint32_t rcyi_heap_table_refs(const rcyi_heap_t *h, uint32_t i)
{
    if (!(h->flags[i] & RCYI_NODE_TABLE))
        return 0;
    size_t lo = 0, hi = h->n_table;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->table_node[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->n_table && h->table_node[lo] == i ? h->table_count[lo] : 0;
}

intptr_t rcyi_heap_external(const rcyi_heap_t *h, uint32_t i)
{
    const rcy_object_t *o = h->objs[i];
    if (rcy_is_immortal(o))
        return RCY_REFCNT_IMMORTAL;
    intptr_t internal = (intptr_t)rcyi_heap_in_degree(h, i);
    return o->refcnt - internal - (intptr_t)rcyi_heap_table_refs(h, i) - (h->held ? 1 : 0);
}

/* ---- Labels ---------------------------------------------------------- */

const char *rcyi_field_name(const char *label)
{
    if (label == NULL)
        return NULL;
    const char *arrow = strstr(label, "->");
    if (arrow != NULL && arrow[2] != '\0')
        return arrow + 2;
    /* "s.field" (a struct held by value) */
    const char *p = label;
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_') {
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')
            p++;
        if (*p == '.' && p[1] != '\0')
            return p + 1;
    }
    return label;
}

static bool is_identifier(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* The str key's text when it is an identifier, else NULL. */
static const char *identifier_key(const rcy_object_t *key)
{
    if (key == NULL || !rcyi_is_str(key))
        return NULL;
    const rcyi_str_t *s = (const rcyi_str_t *)key;
    return is_identifier(s->data, (size_t)s->ob.size) ? s->data : NULL;
}

static int key_repr(rcy_object_t *key, char *buf, size_t size)
{
    char tmp[48];
    rcy_describe(key, tmp, sizeof tmp);
    if (strlen(tmp) == sizeof tmp - 1)
        memcpy(tmp + sizeof tmp - 4, "...", 4);
    return snprintf(buf, size, "[%s]", tmp);
}

int rcyi_edge_label(const rcyi_edge_t *e, rcyi_label_style_t style, char *buf, size_t size)
{
    switch (e->kind) {
    case RCYI_EDGE_INDEX: return snprintf(buf, size, "[%td]", (ptrdiff_t)e->index);
    case RCYI_EDGE_DICT_KEY: return snprintf(buf, size, style == RCYI_LABEL_DOT ? "key" : ".<key>");
    case RCYI_EDGE_DICT_VALUE: {
        const char *id = identifier_key(e->key);
        if (id != NULL && style == RCYI_LABEL_DOT)
            return snprintf(buf, size, "%s", id);
        return key_repr(e->key, buf, size);
    }
    default: {
        const char *f = rcyi_field_name(e->label);
        return snprintf(buf, size, style == RCYI_LABEL_DOT ? "%s" : ".%s", f != NULL ? f : "?");
    }
    }
}

/* ---- External counts and leaking objects ------------------------------ */

intptr_t rcy_external_refcount(rcy_object_t *obj)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    if (rcy_is_immortal(obj))
        return RCY_REFCNT_IMMORTAL;
    rcyi_heap_t h;
    int err = rcyi_heap_build(rt, &h, &obj, 1, RCYI_HEAP_EDGES, "rcy_external_refcount");
    if (err < 0)
        return err;
    if (rcyi_heap_count_referrers(&h) < 0) {
        rcyi_heap_free(&h);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    intptr_t ext = rcyi_heap_external(&h, h.extra_nodes[0]);
    rcyi_heap_free(&h);
    return ext;
}

int rcy_get_leaking_objects(rcy_runtime_t *rt, rcy_objarray_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rcyi_objarray_start(rt, out) < 0)
        return RCY_EINVAL;
    rcyi_heap_t h;
    int err = rcyi_heap_build(rt, &h, NULL, 0, RCYI_HEAP_EDGES, "rcy_get_leaking_objects");
    if (err < 0)
        return err;
    if (rcyi_heap_count_referrers(&h) < 0)
        goto nomem;
    for (uint32_t i = 0; i < h.n_tracked; i++) { /* the tracked objects */
        rcy_object_t *o = h.objs[i];
        if (rcyi_heap_in_degree(&h, i) != 0 || (h.flags[i] & RCYI_NODE_TABLE))
            continue;
        if (rcyi_objarray_append(out, o) < 0)
            goto nomem;
    }
    rcyi_heap_free(&h);
    return 0;
nomem:
    rcyi_heap_free(&h);
    rcy_objarray_release(out);
    out->rt = rt;
    return rcyi_set_error(rt, RCY_ENOMEM);
}

/* ---- Chains ---------------------------------------------------------- */

#define DEFAULT_CHAIN_DEPTH 20

static int find_chain(rcy_object_t *obj, rcy_chain_predicate_fn pred, void *arg, int max_depth, bool backwards,
                      rcy_objarray_t *out)
{
    rcy_runtime_t *rt = obj->type->rt;
    if (rcyi_objarray_start(rt, out) < 0)
        return RCY_EINVAL;
    if (max_depth < 0)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (max_depth == 0)
        max_depth = DEFAULT_CHAIN_DEPTH;
    rcyi_heap_t h;
    int err = rcyi_heap_build(rt, &h, &obj, 1, RCYI_HEAP_EDGES,
                              backwards ? "rcy_find_backref_chain" : "rcy_find_ref_chain");
    if (err < 0)
        return err;
    if (pred != NULL)
        rcyi_heap_hold(&h); /* pred is user code */
    uint32_t *parent = NULL, *queue = NULL;
    int32_t *depth = NULL;
    if ((backwards ? rcyi_heap_index_referrers(&h) : rcyi_heap_count_referrers(&h)) < 0)
        goto nomem;
    parent = rcyi_malloc_array(rt, (size_t)h.n, sizeof *parent);
    queue = rcyi_malloc_array(rt, (size_t)h.n, sizeof *queue);
    depth = rcyi_malloc_array(rt, (size_t)h.n, sizeof *depth);
    if (parent == NULL || queue == NULL || depth == NULL)
        goto nomem;
    for (uint32_t i = 0; i < h.n; i++)
        depth[i] = -1;
    uint32_t start = h.extra_nodes[0];
    uint32_t found = RCYI_NO_NODE, held_outside = RCYI_NO_NODE;
    size_t qhead = 0, qtail = 0;
    queue[qtail++] = start;
    depth[start] = 0;
    parent[start] = RCYI_NO_NODE;
    while (qhead < qtail) {
        uint32_t i = queue[qhead++];
        if (pred != NULL) {
            int r = pred(h.objs[i], rcyi_heap_external(&h, i), arg);
            if (r > 0) {
                found = i;
                break;
            }
            if (r < 0 && i != start)
                continue;
        } else {
            /* Registered roots first; failing those, the nearest object held
               from outside the heap (not obj: the caller holds it). */
            if (rcyi_heap_is_root(&h, i)) {
                found = i;
                break;
            }
            if (i != start && held_outside == RCYI_NO_NODE && rcyi_heap_external(&h, i) > 0)
                held_outside = i;
        }
        if (depth[i] >= max_depth)
            continue;
        size_t lo = backwards ? h.in_start[i] : h.out_start[i];
        size_t hi = backwards ? h.in_start[i + 1] : h.out_start[i + 1];
        const uint32_t *to = backwards ? h.in_src : h.dst;
        for (size_t k = lo; k < hi; k++) {
            uint32_t next = to[k];
            if (depth[next] >= 0)
                continue;
            depth[next] = depth[i] + 1;
            parent[next] = i;
            queue[qtail++] = next;
        }
    }
    if (found == RCYI_NO_NODE && pred == NULL)
        found = held_outside;
    int result = found != RCYI_NO_NODE;
    if (!result)
        found = start;
    /* parent links lead from found back to start. Backwards, that is the
       chain's order ([root, ..., obj]); forwards it is reversed. */
    size_t len = 0;
    for (uint32_t i = found; i != RCYI_NO_NODE; i = parent[i])
        queue[len++] = i;
    for (size_t k = 0; k < len; k++) {
        uint32_t i = backwards ? queue[k] : queue[len - 1 - k];
        if (rcyi_objarray_append(out, h.objs[i]) < 0)
            goto nomem;
    }
    rcyi_free(rt, parent);
    rcyi_free(rt, queue);
    rcyi_free(rt, depth);
    rcyi_heap_free(&h);
    return result;
nomem:
    rcyi_free(rt, parent);
    rcyi_free(rt, queue);
    rcyi_free(rt, depth);
    rcyi_heap_free(&h);
    rcy_objarray_release(out);
    out->rt = rt;
    return rcyi_set_error(rt, RCY_ENOMEM);
}

int rcy_find_backref_chain(rcy_object_t *obj, rcy_chain_predicate_fn is_root, void *arg, int max_depth,
                           rcy_objarray_t *out)
{
    if (obj == NULL || out == NULL)
        return RCY_EINVAL;
    rcyi_check_live(obj);
    return find_chain(obj, is_root, arg, max_depth, true, out);
}

int rcy_find_ref_chain(rcy_object_t *obj, rcy_chain_predicate_fn predicate, void *arg, int max_depth,
                       rcy_objarray_t *out)
{
    if (obj == NULL || out == NULL)
        return RCY_EINVAL;
    rcyi_check_live(obj);
    if (predicate == NULL) {
        rcyi_objarray_start(obj->type->rt, out);
        return rcyi_set_error(obj->type->rt, RCY_EINVAL);
    }
    return find_chain(obj, predicate, arg, max_depth, false, out);
}

/* ---- Chain paths ----------------------------------------------------- */

typedef struct edge_of_ctx_s {
    rcy_object_t *target;
    bool is_dict;
    unsigned parity;
    rcy_object_t *pending_key;
    rcyi_edge_t edge;
} edge_of_ctx_t;

static int visit_edge_of(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    edge_of_ctx_t *c = arg;
    rcyi_edge_t e = {0, 0, RCYI_EDGE_FIELD, index, label, NULL};
    if (c->is_dict) {
        if ((c->parity++ & 1) == 0) {
            e.kind = RCYI_EDGE_DICT_KEY;
            c->pending_key = child;
        } else {
            e.kind = RCYI_EDGE_DICT_VALUE;
            e.key = c->pending_key;
        }
    } else if (index >= 0) {
        e.kind = RCYI_EDGE_INDEX;
    }
    if (child != c->target)
        return 0;
    /* A dict value is a better name than the same object as a key. */
    c->edge = e;
    return e.kind == RCYI_EDGE_DICT_KEY ? 0 : 1;
}

/* The first edge from a to b (a dict's value edge before its key edge);
   false when a does not refer to b. */
static bool edge_of(rcy_object_t *a, rcy_object_t *b, rcyi_edge_t *out)
{
    if (!rcyi_is_gc(a))
        return false;
    edge_of_ctx_t c;
    memset(&c, 0, sizeof c);
    c.target = b;
    c.is_dict = rcyi_is_dict(a);
    c.edge.kind = UINT32_MAX;
    a->type->traverse(a, visit_edge_of, &c);
    *out = c.edge;
    return c.edge.kind != UINT32_MAX;
}

typedef struct sbuf_s {
    char *buf;
    size_t size, len;
} sbuf_t;

static void sb_add(sbuf_t *s, const char *text)
{
    size_t n = strlen(text);
    if (s->len < s->size) {
        size_t room = s->size - s->len - 1;
        memcpy(s->buf + s->len, text, n < room ? n : room);
        s->buf[s->len + (n < room ? n : room)] = '\0';
    }
    /* The whole length saturates instead of wrapping (a path longer than
       INT_MAX is reported as INT_MAX: see rcy_chain_format). */
    s->len = s->len > SIZE_MAX - n ? SIZE_MAX : s->len + n;
}

int rcy_chain_format(const rcy_objarray_t *chain, char *buf, size_t size)
{
    if (chain == NULL || (buf == NULL && size > 0) || (chain->len > 0 && chain->items == NULL))
        return RCY_EINVAL;
    for (size_t k = 0; k < chain->len; k++) {
        if (chain->items[k] == NULL)
            return RCY_EINVAL;
    }
    sbuf_t s = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0';
    if (chain->len == 0)
        return 0;
    rcy_object_t *first = chain->items[0];
    rcy_runtime_t *rt = first->type->rt;
    RCYI_CHECK_RT(rt);
    /* The edges are found with traverse slots, and keys described: a walk. */
    if (!rcyi_walk_begin(rt, "rcy_chain_format"))
        return rcyi_set_error(rt, RCY_ESTATE);
    const char *name = rcyi_root_name(rt, first);
    char tmp[160];
    if (name != NULL)
        snprintf(tmp, sizeof tmp, "%s", name);
    else
        snprintf(tmp, sizeof tmp, "<%s %p>", first->type->name, (void *)first);
    sb_add(&s, tmp);
    for (size_t k = 0; k + 1 < chain->len; k++) {
        rcyi_edge_t e;
        if (!edge_of(chain->items[k], chain->items[k + 1], &e)) {
            sb_add(&s, " -> ?");
            continue;
        }
        /* inst.__dict__['name'] reads inst.name */
        rcyi_edge_t e2;
        if (e.kind == RCYI_EDGE_FIELD && e.label != NULL && strcmp(e.label, "__dict__") == 0 &&
            k + 2 < chain->len && edge_of(chain->items[k + 1], chain->items[k + 2], &e2) &&
            e2.kind == RCYI_EDGE_DICT_VALUE && identifier_key(e2.key) != NULL) {
            sb_add(&s, ".");
            sb_add(&s, identifier_key(e2.key));
            k++;
            continue;
        }
        rcyi_edge_label(&e, RCYI_LABEL_PATH, tmp, sizeof tmp);
        sb_add(&s, tmp);
    }
    /* The allocation sites recorded along the chain (heaptools.h). */
    bool any_site = false;
    for (size_t k = 0; k < chain->len; k++) {
        const rcyi_site_t *site = rcyi_object_site(rt, chain->items[k]);
        if (site == NULL)
            continue;
        sb_add(&s, any_site ? ", " : "  (allocated: ");
        sb_add(&s, chain->items[k]->type->name);
        sb_add(&s, " at ");
        sb_add(&s, site->name);
        any_site = true;
    }
    if (any_site)
        sb_add(&s, ")");
    rcyi_walk_end(rt);
    return s.len > INT_MAX ? INT_MAX : (int)s.len;
}
