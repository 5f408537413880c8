/*
 * Internals shared by the leak-debugging tools (src/tools/): the heap
 * snapshot that by_type, the chains, the external counts and the graphs
 * are computed on. One pass over every tracked object (all generations and
 * the permanent one) and the untracked objects they reach collects the
 * objects, and, on demand, every edge (and its label) into flat arrays
 * allocated through the runtime's allocator: the containers' headers hold
 * their node numbers while the walk runs, a hash map numbers the untracked
 * non-containers, and a reverse index (referrers of every object) comes on
 * demand. The snapshot holds no references: it is valid until the heap
 * changes, so a tool frees it before it runs anything that may change the
 * heap.
 */
#ifndef RCY_TOOLS_H
#define RCY_TOOLS_H

#include "internal.h"

/* What an edge is, for its label. */
typedef enum rcyi_edge_kind_e {
    RCYI_EDGE_FIELD = 0, /* a labelled (or unlabelled) field */
    RCYI_EDGE_INDEX,     /* item `index` of a sequence */
    RCYI_EDGE_DICT_KEY,  /* a dict's reference to one of its keys */
    RCYI_EDGE_DICT_VALUE /* a dict's reference to the value of `key` */
} rcyi_edge_kind_t;

/* One edge with its label, as the label functions take it (a value built
   from the snapshot's arrays by rcyi_heap_edge, or by a traverse). */
typedef struct rcyi_edge_s {
    uint32_t src, dst;
    uint32_t kind;
    intptr_t index;     /* RCYI_EDGE_INDEX */
    const char *label;  /* RCYI_EDGE_FIELD: as given to visit (may be NULL) */
    rcy_object_t *key;  /* RCYI_EDGE_DICT_VALUE: the key */
} rcyi_edge_t;

/* What a snapshot records of an edge's label (RCYI_HEAP_LABELS): one word,
   read according to the edge's kind. */
typedef union rcyi_edge_arg_u {
    intptr_t index;    /* RCYI_EDGE_INDEX */
    const char *label; /* RCYI_EDGE_FIELD */
    rcy_object_t *key; /* RCYI_EDGE_DICT_VALUE (NULL for a key edge) */
} rcyi_edge_arg_t;

/* A slot of the map of untracked non-containers: the object and its node. */
typedef struct rcyi_heap_slot_s {
    const rcy_object_t *obj; /* NULL: empty */
    uint32_t node;
} rcyi_heap_slot_t;

/* What rcyi_heap_build records besides the nodes. */
enum {
    RCYI_HEAP_EDGES = 1,  /* the edges (CSR by source) and the runtime's tables' references */
    RCYI_HEAP_LABELS = 2  /* also every edge's label (implies RCYI_HEAP_EDGES) */
};

/* A node's flags (h->flags). */
enum {
    RCYI_NODE_ROOT = 1, /* a registered root (rcy_root_add) */
    RCYI_NODE_TABLE = 2 /* referred to by the runtime's tables (roots, garbage): h->table */
};

/* The heap snapshot. Nodes: objs[0, n_tracked) are the tracked objects in
   the order of the generation lists (0, 1, 2, the permanent one); after
   them come the extra objects, the roots and the garbage list's entries
   that were not tracked, then the untracked objects found by traversing,
   in the order they were found. Edges (with RCYI_HEAP_EDGES) are compressed
   rows by source: node i's edges are e in [out_start[i], out_start[i+1]),
   in traverse order, to dst[e]. docs/design.md, "Leak-debugging tools". */
typedef struct rcyi_heap_s {
    rcy_runtime_t *rt;
    rcy_object_t **objs; /* the nodes */
    uint32_t n, cap;
    uint32_t n_tracked;
    /* The untracked non-containers reached (open addressing): containers
       are found through their headers while the walk runs. */
    rcyi_heap_slot_t *map;
    size_t map_mask, map_len;
    uint32_t *out_start; /* n + 1 */
    uint32_t *dst;       /* n_edges */
    size_t n_edges, cap_edges;
    uint8_t *edge_kind;        /* RCYI_HEAP_LABELS: per edge, rcyi_edge_kind_t */
    rcyi_edge_arg_t *edge_arg; /* RCYI_HEAP_LABELS: per edge */
    /* In-degrees (rcyi_heap_count_referrers): the edges into node i number
       in_start[i+1] - in_start[i]. With the reverse index
       (rcyi_heap_index_referrers) they are in_src[in_start[i] ..
       in_start[i+1]) (their sources, in source order) and, with labels,
       in_edge[...] (their edge numbers). */
    uint32_t *in_start;
    uint32_t *in_src;
    uint32_t *in_edge;
    /* Per node, RCYI_NODE_* (with edges). */
    uint8_t *flags;
    /* References from the runtime's tables (roots, garbage) to the nodes
       flagged RCYI_NODE_TABLE: (node, count), sorted by node. */
    uint32_t *table_node, *table_count;
    size_t n_table;
    /* The registered roots' nodes, in registration order (with edges), and
       the extra objects' nodes, in the order given. */
    uint32_t *root_nodes;
    size_t n_root_nodes;
    uint32_t *extra_nodes;
    size_t n_extra;
    unsigned what; /* RCYI_HEAP_* */
    bool held; /* rcyi_heap_hold: the snapshot holds a reference to every node */
} rcyi_heap_t;

#define RCYI_NO_NODE UINT32_MAX

/* census.c: sorts rows by name and merges the rows that share one (types
   of one name, allocation sites that differ only by their backtrace),
   adding their counts and bytes; returns how many rows are left. */
RCYI_FUNC size_t rcyi_typestats_merge(rcy_typestat_t *rows, size_t n);

/* Builds the snapshot: the tracked objects, extra[0..n_extra) (objects a
   tool starts from, which may be untracked), and every object they reach
   through untracked containers. With RCYI_HEAP_EDGES, records every edge
   and the references from the runtime's tables; with RCYI_HEAP_LABELS,
   their labels too. While it runs, the headers of the containers hold
   their node numbers (tagged RCYI_NEXT_INCR), and they are restored
   exactly before it returns, on every path; a traverse slot that tracks,
   untracks or allocates meanwhile is reported as fatal. The snapshot is a
   heap walk named walk (rcyi_walk_begin) from here until rcyi_heap_free:
   the tool's callbacks may not collect, freeze or walk meanwhile. Returns
   0 or RCY_ENOMEM (h freed), RCY_ESTATE during a collection or another
   walk. */
RCYI_FUNC int rcyi_heap_build(rcy_runtime_t *rt, rcyi_heap_t *h, rcy_object_t *const *extra, size_t n_extra,
                              unsigned what, const char *walk);
/* The in-degrees (in_start), which rcyi_heap_external needs. 0 or
   RCY_ENOMEM (the snapshot stays usable). */
RCYI_FUNC int rcyi_heap_count_referrers(rcyi_heap_t *h);
/* The reverse index (in_start, in_src, and in_edge for a snapshot with
   labels). 0 or RCY_ENOMEM (the snapshot stays usable). */
RCYI_FUNC int rcyi_heap_index_referrers(rcyi_heap_t *h);
/* A map of every node, for tools that look many objects up after the
   build (rcyi_heap_find is then one probe for any object). 0 or RCY_ENOMEM. */
RCYI_FUNC int rcyi_heap_map_all(rcyi_heap_t *h);
/* Makes the snapshot hold a reference to every node until rcyi_heap_free,
   for the tools that run user code over it (predicates, filters, describe
   slots, the output hook): no borrowed reference is held across user code,
   so a callback that releases references frees nothing under the walk.
   rcyi_heap_external leaves the snapshot's own references out. */
RCYI_FUNC void rcyi_heap_hold(rcyi_heap_t *h);
/* Frees the snapshot and ends its walk; then, for a held snapshot, releases
   its references (last node first), which may run finalizers. */
RCYI_FUNC void rcyi_heap_free(rcyi_heap_t *h);
/* The node of o, or RCYI_NO_NODE. One probe for an untracked object (or
   any after rcyi_heap_map_all); a tracked one is searched for among the
   tracked nodes, so tools look their starting points up in extra_nodes. */
RCYI_FUNC uint32_t rcyi_heap_find(const rcyi_heap_t *h, const rcy_object_t *o);
/* The source of edge e (a binary search of out_start). */
RCYI_FUNC uint32_t rcyi_heap_edge_src(const rcyi_heap_t *h, size_t e);
/* Edge e of node src with its label (a snapshot with labels). */
RCYI_FUNC rcyi_edge_t rcyi_heap_edge(const rcyi_heap_t *h, uint32_t src, size_t e);
/* References to node i from the runtime's tables (roots, garbage). */
RCYI_FUNC uint32_t rcyi_heap_table_refs(const rcyi_heap_t *h, uint32_t i);
/* Node i is a registered root. */
static inline bool rcyi_heap_is_root(const rcyi_heap_t *h, uint32_t i) { return (h->flags[i] & RCYI_NODE_ROOT) != 0; }
/* Node i's in-degree (needs rcyi_heap_count_referrers). */
static inline uint32_t rcyi_heap_in_degree(const rcyi_heap_t *h, uint32_t i)
{
    return h->in_start[i + 1] - h->in_start[i];
}
/* References to node i from outside the heap (needs the in-degrees). */
RCYI_FUNC intptr_t rcyi_heap_external(const rcyi_heap_t *h, uint32_t i);
/* True for the built-in immortal singletons (small ints, the empty tuple),
   which no census counts. */
RCYI_FUNC bool rcyi_is_static_singleton(const rcy_runtime_t *rt, const rcy_object_t *o);

/* Labels. DOT style: "[2]", "name", "[42]", "key", "next". Path style:
   "[2]", "['name']", "[42]", ".next". Returns the length (snprintf). */
typedef enum rcyi_label_style_e { RCYI_LABEL_DOT, RCYI_LABEL_PATH } rcyi_label_style_t;
RCYI_FUNC int rcyi_edge_label(const rcyi_edge_t *e, rcyi_label_style_t style, char *buf, size_t size);
/* The field part of a visit label: "self->next" gives "next". */
RCYI_FUNC const char *rcyi_field_name(const char *label);

/* Output either to a stream or through the runtime's output hook. */
RCYI_FUNC void rcyi_out(rcy_runtime_t *rt, FILE *out, const char *fmt, ...) RCY_PRINTF(3, 4);

#endif /* RCY_TOOLS_H */
