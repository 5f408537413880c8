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

uint32_t rcyi_heap_find(const rcyi_heap_t *h, const rcy_object_t *o)
{
    if (h->map == NULL)
        return RCYI_NO_NODE;
    for (size_t i = hash_ptr(o) & h->map_mask;; i = (i + 1) & h->map_mask) {
        uint32_t v = h->map[i];
        if (v == 0)
            return RCYI_NO_NODE;
        if (h->objs[v - 1] == o)
            return v - 1;
    }
}

static int map_grow(rcyi_heap_t *h)
{
    size_t cap = h->map ? (h->map_mask + 1) * 2 : 1024;
    uint32_t *map = rcyi_malloc_array(h->rt, cap, sizeof *map);
    if (map == NULL)
        return RCY_ENOMEM;
    memset(map, 0, cap * sizeof *map);
    for (uint32_t k = 0; k < h->n; k++) {
        size_t i = hash_ptr(h->objs[k]) & (cap - 1);
        while (map[i] != 0)
            i = (i + 1) & (cap - 1);
        map[i] = k + 1;
    }
    rcyi_free(h->rt, h->map);
    h->map = map;
    h->map_mask = cap - 1;
    return 0;
}

/* The node of o, added if new. RCYI_NO_NODE when memory runs out. */
static uint32_t add_node(rcyi_heap_t *h, rcy_object_t *o)
{
    uint32_t found = rcyi_heap_find(h, o);
    if (found != RCYI_NO_NODE)
        return found;
    if (h->map == NULL || ((size_t)h->n + 1) * 2 > h->map_mask + 1) {
        if (map_grow(h) < 0)
            return RCYI_NO_NODE;
    }
    if (h->n == h->cap) {
        if (h->cap >= UINT32_MAX / 2)
            return RCYI_NO_NODE;
        uint32_t cap = h->cap ? h->cap * 2 : 1024;
        rcy_object_t **objs = rcyi_realloc_array(h->rt, h->objs, cap, sizeof *objs);
        if (objs == NULL)
            return RCYI_NO_NODE;
        h->objs = objs;
        h->cap = cap;
    }
    size_t i = hash_ptr(o) & h->map_mask;
    while (h->map[i] != 0)
        i = (i + 1) & h->map_mask;
    h->objs[h->n] = o;
    h->map[i] = h->n + 1;
    return h->n++;
}

typedef struct build_ctx_s {
    rcyi_heap_t *h;
    uint32_t src;
    bool src_is_dict;
    unsigned parity;
    rcy_object_t *pending_key;
} build_ctx_t;

static int visit_build(rcy_object_t *child, const char *label, intptr_t index, void *arg)
{
    build_ctx_t *c = arg;
    rcyi_heap_t *h = c->h;
    uint32_t dst = add_node(h, child);
    if (dst == RCYI_NO_NODE)
        return RCY_ENOMEM;
    if (!h->with_edges)
        return 0;
    if (h->n_edges == h->cap_edges) {
        size_t cap = h->cap_edges ? h->cap_edges * 2 : 4096;
        if (cap > UINT32_MAX)
            return RCY_ENOMEM;
        rcyi_edge_t *edges = rcyi_realloc_array(h->rt, h->edges, cap, sizeof *edges);
        if (edges == NULL)
            return RCY_ENOMEM;
        h->edges = edges;
        h->cap_edges = cap;
    }
    rcyi_edge_t *e = &h->edges[h->n_edges++];
    e->src = c->src;
    e->dst = dst;
    e->index = index;
    e->label = label;
    e->key = NULL;
    if (c->src_is_dict) {
        /* A dict visits each entry's key, then its value. */
        if ((c->parity++ & 1) == 0) {
            e->kind = RCYI_EDGE_DICT_KEY;
            c->pending_key = child;
        } else {
            e->kind = RCYI_EDGE_DICT_VALUE;
            e->key = c->pending_key;
        }
    } else {
        e->kind = index >= 0 ? RCYI_EDGE_INDEX : RCYI_EDGE_FIELD;
    }
    return 0;
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
    rcyi_free(rt, h->edges);
    rcyi_free(rt, h->out_start);
    rcyi_free(rt, h->in_start);
    rcyi_free(rt, h->in_edges);
    rcyi_free(rt, h->table_refs);
    rcyi_free(rt, h->root);
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

static int add_list(rcyi_heap_t *h, rcy_gc_head_t *head)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(head); g != head; g = rcyi_gc_next(g)) {
        if (add_node(h, rcyi_from_gc(g)) == RCYI_NO_NODE)
            return RCY_ENOMEM;
    }
    return 0;
}

static int build(rcy_runtime_t *rt, rcyi_heap_t *h, rcy_object_t *const *extra, size_t n_extra)
{
    for (int i = 0; i < RCY_NUM_GENERATIONS; i++) {
        if (add_list(h, &rt->gens[i].head) < 0)
            return RCY_ENOMEM;
    }
    if (add_list(h, &rt->permanent) < 0)
        return RCY_ENOMEM;
    for (size_t i = 0; i < n_extra; i++) {
        if (add_node(h, extra[i]) == RCYI_NO_NODE)
            return RCY_ENOMEM;
    }
    if (h->with_edges) {
        for (size_t i = 0; i < rt->n_roots; i++) {
            if (add_node(h, rt->roots[i].obj) == RCYI_NO_NODE)
                return RCY_ENOMEM;
        }
        for (size_t i = 0; i < rt->garbage.len; i++) {
            if (add_node(h, rt->garbage.items[i]) == RCYI_NO_NODE)
                return RCY_ENOMEM;
        }
    }
    /* Nodes found along the way are appended and reached by this loop in
       turn: every container is traversed once. */
    rcy_type_t *dict_type = rt->builtins->dict_type;
    for (uint32_t i = 0; i < h->n; i++) {
        rcy_object_t *o = h->objs[i];
        if (!rcyi_is_gc(o))
            continue;
        build_ctx_t c = {h, i, o->type == dict_type, 0, NULL};
        if (o->type->traverse(o, visit_build, &c) != 0)
            return RCY_ENOMEM;
    }
    if (!h->with_edges)
        return 0;
    h->out_start = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *h->out_start);
    h->table_refs = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *h->table_refs);
    h->root = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *h->root);
    if (h->out_start == NULL || h->table_refs == NULL || h->root == NULL)
        return RCY_ENOMEM;
    size_t e = 0;
    for (uint32_t i = 0; i <= h->n; i++) {
        while (e < h->n_edges && h->edges[e].src < i)
            e++;
        h->out_start[i] = e;
    }
    memset(h->table_refs, 0, ((size_t)h->n + 1) * sizeof *h->table_refs);
    for (uint32_t i = 0; i <= h->n; i++)
        h->root[i] = -1;
    for (size_t i = 0; i < rt->n_roots; i++) {
        uint32_t k = rcyi_heap_find(h, rt->roots[i].obj);
        h->table_refs[k]++;
        h->root[k] = (int32_t)i;
    }
    for (size_t i = 0; i < rt->garbage.len; i++)
        h->table_refs[rcyi_heap_find(h, rt->garbage.items[i])]++;
    return 0;
}

int rcyi_heap_build(rcy_runtime_t *rt, rcyi_heap_t *h, rcy_object_t *const *extra, size_t n_extra, bool with_edges,
                    const char *walk)
{
    memset(h, 0, sizeof *h);
    if (rt->collecting || !rcyi_walk_begin(rt, walk))
        return rcyi_set_error(rt, RCY_ESTATE);
    rcyi_incr_abort(rt); /* every tracked object on the lists */
    h->rt = rt; /* the walk ends with rcyi_heap_free */
    h->with_edges = with_edges;
    if (build(rt, h, extra, n_extra) < 0) {
        rcyi_heap_free(h);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    return 0;
}

int rcyi_heap_index_referrers(rcyi_heap_t *h)
{
    rcy_runtime_t *rt = h->rt;
    h->in_start = rcyi_malloc_array(rt, (size_t)h->n + 1, sizeof *h->in_start);
    h->in_edges = rcyi_malloc_array(rt, h->n_edges ? h->n_edges : 1, sizeof *h->in_edges);
    if (h->in_start == NULL || h->in_edges == NULL)
        return RCY_ENOMEM;
    /* Counting sort of the edges by destination; stable, so each node's
       referrers come in heap order. */
    memset(h->in_start, 0, ((size_t)h->n + 1) * sizeof *h->in_start);
    for (size_t e = 0; e < h->n_edges; e++)
        h->in_start[h->edges[e].dst + 1]++;
    for (uint32_t i = 0; i < h->n; i++)
        h->in_start[i + 1] += h->in_start[i];
    for (size_t e = 0; e < h->n_edges; e++) {
        uint32_t d = h->edges[e].dst;
        /* in_start[d] is advanced while filling, then shifted back below. */
        h->in_edges[h->in_start[d]++] = (uint32_t)e;
    }
    for (uint32_t i = h->n; i > 0; i--)
        h->in_start[i] = h->in_start[i - 1];
    h->in_start[0] = 0;
    return 0;
}

intptr_t rcyi_heap_external(const rcyi_heap_t *h, uint32_t i)
{
    const rcy_object_t *o = h->objs[i];
    if (rcy_is_immortal(o))
        return RCY_REFCNT_IMMORTAL;
    intptr_t internal = (intptr_t)(h->in_start[i + 1] - h->in_start[i]);
    return o->refcnt - internal - (intptr_t)h->table_refs[i] - (h->held ? 1 : 0);
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
    int err = rcyi_heap_build(rt, &h, &obj, 1, true, "rcy_external_refcount");
    if (err < 0)
        return err;
    if (rcyi_heap_index_referrers(&h) < 0) {
        rcyi_heap_free(&h);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    intptr_t ext = rcyi_heap_external(&h, rcyi_heap_find(&h, obj));
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
    int err = rcyi_heap_build(rt, &h, NULL, 0, true, "rcy_get_leaking_objects");
    if (err < 0)
        return err;
    if (rcyi_heap_index_referrers(&h) < 0)
        goto nomem;
    for (uint32_t i = 0; i < h.n; i++) {
        rcy_object_t *o = h.objs[i];
        if (!rcyi_is_gc(o) || rcyi_as_gc(o)->next == 0)
            continue; /* untracked */
        if (h.in_start[i + 1] != h.in_start[i] || h.table_refs[i] != 0)
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
    int err = rcyi_heap_build(rt, &h, &obj, 1, true, backwards ? "rcy_find_backref_chain" : "rcy_find_ref_chain");
    if (err < 0)
        return err;
    if (pred != NULL)
        rcyi_heap_hold(&h); /* pred is user code */
    uint32_t *parent = NULL, *queue = NULL;
    int32_t *depth = NULL;
    if (rcyi_heap_index_referrers(&h) < 0)
        goto nomem;
    parent = rcyi_malloc_array(rt, (size_t)h.n, sizeof *parent);
    queue = rcyi_malloc_array(rt, (size_t)h.n, sizeof *queue);
    depth = rcyi_malloc_array(rt, (size_t)h.n, sizeof *depth);
    if (parent == NULL || queue == NULL || depth == NULL)
        goto nomem;
    for (uint32_t i = 0; i < h.n; i++)
        depth[i] = -1;
    uint32_t start = rcyi_heap_find(&h, obj);
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
            if (h.root[i] >= 0) {
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
        for (size_t k = lo; k < hi; k++) {
            const rcyi_edge_t *e = backwards ? &h.edges[h.in_edges[k]] : &h.edges[k];
            uint32_t next = backwards ? e->src : e->dst;
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
