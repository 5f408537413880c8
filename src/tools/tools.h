/*
 * Internals shared by the leak-debugging tools (src/tools/): the heap
 * snapshot that by_type, the chains, the external counts and the graphs
 * are computed on. One pass over every tracked object (all generations and
 * the permanent one) and the untracked objects they reach collects the
 * objects, and every edge with its label, into flat arrays allocated
 * through the runtime's allocator; a hash map from object pointer to index
 * and, on demand, a reverse index (referrers of every object) come with it.
 * The snapshot holds no references: it is valid until the heap changes, so
 * a tool frees it before it runs anything that may change the heap.
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

typedef struct rcyi_edge_s {
    uint32_t src, dst;
    uint32_t kind;
    intptr_t index;     /* RCYI_EDGE_INDEX */
    const char *label;  /* RCYI_EDGE_FIELD: as given to visit (may be NULL) */
    rcy_object_t *key;  /* RCYI_EDGE_DICT_VALUE: the key */
} rcyi_edge_t;

typedef struct rcyi_heap_s {
    rcy_runtime_t *rt;
    rcy_object_t **objs; /* the nodes */
    uint32_t n, cap;
    uint32_t *map; /* open addressing: node index + 1, 0 empty */
    size_t map_mask;
    rcyi_edge_t *edges; /* grouped by src, in traverse order */
    size_t n_edges, cap_edges;
    size_t *out_start; /* edges of node i: [out_start[i], out_start[i+1]) */
    /* Reverse index (rcyi_heap_index_referrers): the edges into node i
       are in_edges[in_start[i] .. in_start[i+1]), in src order. */
    size_t *in_start;
    uint32_t *in_edges;
    /* References into node i from the runtime's tables (roots, garbage),
       and its index in the root registry (-1 when it is no root). */
    uint32_t *table_refs;
    int32_t *root;
    bool with_edges;
    bool held; /* rcyi_heap_hold: the snapshot holds a reference to every node */
} rcyi_heap_t;

#define RCYI_NO_NODE UINT32_MAX

/* census.c: sorts rows by name and merges the rows that share one (types
   of one name, allocation sites that differ only by their backtrace),
   adding their counts and bytes; returns how many rows are left. */
RCYI_FUNC size_t rcyi_typestats_merge(rcy_typestat_t *rows, size_t n);

/* Builds the snapshot: the tracked objects, extra[0..n_extra) (objects a
   tool starts from, which may be untracked), and every object they reach
   through untracked containers. With edges, records every edge and the
   references from the runtime's tables. The snapshot is a heap walk named
   walk (rcyi_walk_begin) from here until rcyi_heap_free: the tool's
   callbacks may not collect, freeze or walk meanwhile. Returns 0 or
   RCY_ENOMEM (h freed), RCY_ESTATE during a collection or another walk. */
RCYI_FUNC int rcyi_heap_build(rcy_runtime_t *rt, rcyi_heap_t *h, rcy_object_t *const *extra, size_t n_extra,
                              bool with_edges, const char *walk);
/* Builds the reverse index. 0 or RCY_ENOMEM (the snapshot stays usable). */
RCYI_FUNC int rcyi_heap_index_referrers(rcyi_heap_t *h);
/* Makes the snapshot hold a reference to every node until rcyi_heap_free,
   for the tools that run user code over it (predicates, filters, describe
   slots, the output hook): no borrowed reference is held across user code,
   so a callback that releases references frees nothing under the walk.
   rcyi_heap_external leaves the snapshot's own references out. */
RCYI_FUNC void rcyi_heap_hold(rcyi_heap_t *h);
/* Frees the snapshot and ends its walk; then, for a held snapshot, releases
   its references (last node first), which may run finalizers. */
RCYI_FUNC void rcyi_heap_free(rcyi_heap_t *h);
/* The node of o, or RCYI_NO_NODE. */
RCYI_FUNC uint32_t rcyi_heap_find(const rcyi_heap_t *h, const rcy_object_t *o);
/* References to node i from outside the heap (needs the reverse index). */
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
