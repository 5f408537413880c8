/*
 * Internals of the heap tools of issue 18, on top of the snapshot of
 * tools.h: the dominator tree (dominators.c), the side table of stable
 * object ids and allocation sites (sites.c), and what the snapshots, the
 * heap dump and the report (snapshot.c, heapdump.c, report.c) share.
 * docs/design.md ("Retained sizes", "Allocation sites and object ids").
 */
#ifndef RCY_HEAPTOOLS_H
#define RCY_HEAPTOOLS_H

#include "tools.h"

/* ---- Dominator tree (dominators.c) ------------------------------------

   Computed on a snapshot with edges and its reverse index. The graph has
   one virtual root (node h->n) whose successors are the roots of the heap:
   the registered roots, the garbage list's entries, and the objects held
   from outside the heap (external count > 0), in that order; every node
   the search from those does not reach (cyclic garbage awaiting a
   collection, an object only a borrowed pointer reaches) becomes a root of
   its own afterwards, sources of what is left first (dominators.c), so
   that every node is in the tree.
   On the snapshot's compressed rows, iterative throughout (a heap may be a
   chain of ten million links): nodes are numbered in depth-first preorder
   (1 is the virtual root), the semidominators come from Lengauer and
   Tarjan's backward sweep with balanced links, the immediate dominators
   from semi-NCA, or from Lengauer and Tarjan's buckets when semi-NCA's
   climbs pass n + m steps (O(m log n) either way). A node's immediate
   dominator has a smaller number, so sizes add up in one backward sweep. */

/* Why a node is a successor of the virtual root. */
enum {
    RCYI_DOM_NOT_ROOT = 0,
    RCYI_DOM_REGISTERED = 1, /* rcy_root_add */
    RCYI_DOM_GARBAGE = 2,    /* on the gc.garbage list */
    RCYI_DOM_EXTERNAL = 3,   /* held from outside the heap */
    RCYI_DOM_UNREACHED = 4   /* reached from none of those */
};

/* One vertex of the tree, by preorder number. */
typedef struct rcyi_domnode_s {
    uint64_t bytes;   /* retained bytes */
    uint32_t objects; /* retained objects */
    uint32_t idom;    /* its immediate dominator's number (0 for the root) */
} rcyi_domnode_t;

typedef struct rcyi_domtree_s {
    const rcyi_heap_t *h;
    uint32_t n_nums;   /* numbered vertices, the virtual root included (h->n + 1) */
    uint32_t *num;     /* node (0..h->n, h->n the virtual root) -> preorder number */
    uint32_t *vertex;  /* preorder number -> node */
    rcyi_domnode_t *tree; /* preorder number -> its sizes and dominator */
    uint8_t *root_kind; /* node -> RCYI_DOM_* */
} rcyi_domtree_t;

/* Computes the tree. h must have edges and the in-degrees. 0 or
   RCY_ENOMEM (d freed). Runs no user code. */
RCYI_FUNC int rcyi_domtree_build(const rcyi_heap_t *h, rcyi_domtree_t *d);
RCYI_FUNC void rcyi_domtree_free(rcy_runtime_t *rt, rcyi_domtree_t *d);
/* A node's immediate dominator (a node, h->n for the virtual root). */
static inline uint32_t rcyi_domtree_idom(const rcyi_domtree_t *d, uint32_t node)
{
    return d->vertex[d->tree[d->num[node]].idom];
}
static inline uint64_t rcyi_domtree_bytes(const rcyi_domtree_t *d, uint32_t node) { return d->tree[d->num[node]].bytes; }
static inline uint32_t rcyi_domtree_objects(const rcyi_domtree_t *d, uint32_t node)
{
    return d->tree[d->num[node]].objects;
}
/* The nodes with the most retained bytes (ties: earlier node first), the
   virtual root left out: at most n of them in out[], largest first.
   Returns how many, or RCY_ENOMEM. */
RCYI_FUNC int rcyi_domtree_top(rcy_runtime_t *rt, const rcyi_domtree_t *d, size_t n, uint32_t *out);
/* Builds a snapshot with edges (and their labels when what has
   RCYI_HEAP_LABELS) and its in-degrees, and its tree. 0, RCY_ENOMEM or
   RCY_ESTATE (h and d freed). */
RCYI_FUNC int rcyi_domtree_snapshot(rcy_runtime_t *rt, rcyi_heap_t *h, rcyi_domtree_t *d, rcy_object_t *const *extra,
                                    size_t n_extra, unsigned what, const char *walk);

/* ---- Stable ids and allocation sites (sites.c) ------------------------

   A side table keyed by object address: no header word. An object gets an
   entry when it is given a stable id (a snapshot, a dump, rcy_object_id)
   or its allocation site is recorded (rcy_record_site); its type's
   on_death slot is then wrapped (type->untraced_on_death keeps the slot),
   so that the entry is forgotten when the object dies, before its address
   can be reused. Types none of whose objects has an entry keep their own
   slot: nothing changes on their paths. */

typedef struct rcyi_site_s {
    const char *file; /* the caller's __FILE__ (a string literal) */
    int line;
    uint32_t n_frames;
    void **frames;    /* the backtrace hook's frames, or NULL */
    char *name;       /* "file:line" */
    size_t live, live_bytes, allocated;
} rcyi_site_t;

typedef struct rcyi_trace_entry_s {
    const rcy_object_t *obj; /* NULL: an empty slot */
    uint64_t id;             /* 0: none yet */
    uint32_t site;           /* index + 1 in sites, 0: unknown */
    uint32_t bytes;          /* with a site: the object's bytes when recorded (its site's census) */
} rcyi_trace_entry_t;

typedef struct rcyi_trace_s {
    rcyi_trace_entry_t *map; /* open addressing, linear probing */
    size_t mask, len;
    uint64_t next_id;
    rcyi_site_t *sites;
    uint32_t n_sites, cap_sites;
    uint32_t *site_map; /* index + 1, 0 empty */
    size_t site_mask;
    bool sites_on;
    unsigned sample;
    uint64_t countdown, rng;
    rcy_backtrace_fn backtrace;
    int max_frames;
} rcyi_trace_t;

/* The side table, created on first use (NULL with RCY_ENOMEM). */
RCYI_FUNC rcyi_trace_t *rcyi_trace_get(rcy_runtime_t *rt);
/* o's stable id, given now if it had none (0: out of memory). */
RCYI_FUNC uint64_t rcyi_object_id(rcy_runtime_t *rt, const rcy_object_t *o);
/* o's id, or 0 if it has none. */
RCYI_FUNC uint64_t rcyi_object_id_peek(const rcy_runtime_t *rt, const rcy_object_t *o);
/* Census rows by site name ("file:line": sites that differ only by their
   frames are merged), live ones only unless all_names, sorted by name. */
RCYI_FUNC int rcyi_site_stats(rcy_runtime_t *rt, rcy_typestats_t *out, bool all_names);
/* o's allocation site, or NULL. */
RCYI_FUNC const rcyi_site_t *rcyi_object_site(const rcy_runtime_t *rt, const rcy_object_t *o);

/* ---- The heap dump's records (heapdump.c), shared with the report ------ */

/* Writes text as a JSON string: quotes, backslashes and control characters
   escaped, bytes that are not UTF-8 replaced by U+FFFD; for_html also
   escapes <, > and & (inside a <script> element). */
RCYI_FUNC void rcyi_json_string(FILE *f, const char *text, bool for_html);

/* The runtime's types, sorted by address, for their index in a dump. */
typedef struct rcyi_types_s {
    const rcy_type_t **types;
    size_t n;
} rcyi_types_t;
RCYI_FUNC int rcyi_types_index(rcy_runtime_t *rt, rcyi_types_t *ti);
RCYI_FUNC size_t rcyi_types_find(const rcyi_types_t *ti, const rcy_type_t *t);
static inline bool rcyi_is_gc_type(const rcy_type_t *t) { return (t->flags & RCY_TPFLAGS_GC) != 0; }

/* A dump's model: the snapshot (held: describe slots run while it is
   written), its dominator tree, the types' index; every object has an id. */
typedef struct rcyi_dump_s {
    rcyi_heap_t h;
    rcyi_domtree_t d;
    rcyi_types_t ti;
} rcyi_dump_t;
RCYI_FUNC int rcyi_dump_prepare(rcy_runtime_t *rt, rcyi_dump_t *dp, const char *walk);
RCYI_FUNC void rcyi_dump_finish(rcy_runtime_t *rt, rcyi_dump_t *dp);
/* One record each, without the newline (docs/heap-dump-format.md). */
RCYI_FUNC void rcyi_dump_type(FILE *f, const rcyi_types_t *ti, size_t k, bool for_html);
RCYI_FUNC void rcyi_dump_site(FILE *f, const rcyi_trace_t *tr, uint32_t k, bool for_html);
RCYI_FUNC void rcyi_dump_object(FILE *f, const rcyi_heap_t *h, const rcyi_domtree_t *d, const rcyi_types_t *ti,
                                uint32_t i, bool for_html);
RCYI_FUNC void rcyi_dump_edge(FILE *f, const rcyi_heap_t *h, uint32_t src, size_t e, bool for_html);
RCYI_FUNC const char *rcyi_root_kind_json(int kind);

#endif /* RCY_HEAPTOOLS_H */
