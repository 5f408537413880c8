/*
 * Heap snapshots and their differences (objgraph's get_new_ids done with
 * identities that are not reused, tracemalloc's compare_to over objects,
 * and what neither gives: whose retained size grew). A snapshot is one
 * record per object of the heap walk (id, type, site, bytes, retained
 * bytes and objects), sorted by id; it holds no references, so it may be
 * kept across anything. Two snapshots compare by merging on the id: the
 * ids only in the later one are new objects, those only in the earlier one
 * died, the others may have grown.
 */
#include "heaptools.h"

#include <stdlib.h>
#include <string.h>

typedef struct snap_rec_s {
    uint64_t id;
    const char *type_name; /* borrowed from the type: lives as long as the runtime */
    const char *site;      /* borrowed from the side table's sites (same), or NULL */
    uint64_t retained;
    size_t bytes;
    uint32_t retained_objects;
} snap_rec_t;

struct rcy_snapshot_s {
    rcy_runtime_t *rt;
    snap_rec_t *recs; /* sorted by id */
    size_t len;
    size_t bytes;
};

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const snap_rec_t *)a)->id, y = ((const snap_rec_t *)b)->id;
    return x < y ? -1 : x > y;
}

rcy_snapshot_t *rcy_snapshot_take(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    rcy_snapshot_t *s = rcyi_malloc(rt, sizeof *s);
    if (s == NULL)
        return NULL;
    memset(s, 0, sizeof *s);
    s->rt = rt;
    rcyi_heap_t h;
    rcyi_domtree_t d;
    if (rcyi_domtree_snapshot(rt, &h, &d, NULL, 0, RCYI_HEAP_EDGES, "rcy_snapshot_take") < 0) {
        rcyi_free(rt, s);
        return NULL;
    }
    s->recs = rcyi_malloc_array(rt, h.n ? h.n : 1, sizeof *s->recs);
    if (s->recs == NULL)
        goto nomem;
    for (uint32_t i = 0; i < h.n; i++) {
        const rcy_object_t *o = h.objs[i];
        if (rcyi_is_static_singleton(rt, o))
            continue;
        snap_rec_t *r = &s->recs[s->len];
        r->id = rcyi_object_id(rt, o);
        if (r->id == 0)
            goto nomem;
        const rcyi_site_t *site = rcyi_object_site(rt, o);
        r->type_name = o->type->name;
        r->site = site != NULL ? site->name : NULL;
        r->bytes = rcyi_object_size(o);
        r->retained = rcyi_domtree_bytes(&d, i);
        r->retained_objects = rcyi_domtree_objects(&d, i);
        s->bytes += r->bytes;
        s->len++;
    }
    rcyi_domtree_free(rt, &d);
    rcyi_heap_free(&h);
    if (s->len > 1)
        qsort(s->recs, s->len, sizeof *s->recs, by_id);
    return s;
nomem:
    rcyi_domtree_free(rt, &d);
    rcyi_heap_free(&h);
    rcyi_free(rt, s->recs);
    rcyi_free(rt, s);
    rcyi_set_error(rt, RCY_ENOMEM);
    return NULL;
}

void rcy_snapshot_free(rcy_snapshot_t *s)
{
    if (s == NULL)
        return;
    RCYI_CHECK_RT(s->rt);
    rcyi_free(s->rt, s->recs);
    rcyi_free(s->rt, s);
}

size_t rcy_snapshot_len(const rcy_snapshot_t *s) { return s ? s->len : 0; }
size_t rcy_snapshot_bytes(const rcy_snapshot_t *s) { return s ? s->bytes : 0; }

/* ---- Differences -------------------------------------------------------- */

/* Rows keyed by name, accumulated in a small open-addressing table. */
typedef struct rows_s {
    rcy_typestat_t *items;
    size_t len, cap;
} rows_t;

static int rows_add(rcy_runtime_t *rt, rows_t *r, const char *name, size_t bytes)
{
    /* Names are the types' and sites' own pointers, but two types may share
       a name: compare the text. Linear in the rows, which are few (types,
       sites); a hash would pay off only past thousands of them. */
    for (size_t i = r->len; i > 0; i--) {
        if (r->items[i - 1].name == name || strcmp(r->items[i - 1].name, name) == 0) {
            r->items[i - 1].count++;
            r->items[i - 1].bytes += bytes;
            return 0;
        }
    }
    if (r->len == r->cap) {
        rcy_typestat_t *items = rcyi_array_grow(rt, r->items, &r->cap, 16, sizeof *items);
        if (items == NULL)
            return RCY_ENOMEM;
        r->items = items;
    }
    r->items[r->len].name = name;
    r->items[r->len].count = 1;
    r->items[r->len].bytes = bytes;
    r->len++;
    return 0;
}

static int by_bytes(const void *a, const void *b)
{
    const rcy_typestat_t *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int by_growth(const void *a, const void *b)
{
    const rcy_retainer_growth_t *x = a, *y = b;
    if (x->delta != y->delta)
        return x->delta > y->delta ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void finish_rows(rows_t *r, size_t limit, rcy_typestat_t **items, size_t *len)
{
    if (r->len > 1)
        qsort(r->items, r->len, sizeof *r->items, by_bytes);
    *items = r->items;
    *len = limit > 0 && r->len > limit ? limit : r->len;
}

void rcy_snapshot_diff_release(rcy_snapshot_diff_t *d)
{
    if (d == NULL || d->rt == NULL)
        return;
    rcyi_free(d->rt, d->new_by_type);
    rcyi_free(d->rt, d->new_by_site);
    rcyi_free(d->rt, d->died_by_type);
    rcyi_free(d->rt, d->grown);
    rcy_runtime_t *rt = d->rt;
    memset(d, 0, sizeof *d);
    d->rt = rt;
}

#define UNKNOWN_SITE "(site not recorded)"

int rcy_snapshot_diff(const rcy_snapshot_t *before, const rcy_snapshot_t *after, size_t limit,
                      rcy_snapshot_diff_t *out)
{
    if (before == NULL || after == NULL || out == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = before->rt;
    RCYI_CHECK_RT(rt);
    memset(out, 0, sizeof *out);
    out->rt = rt;
    if (after->rt != rt)
        return rcyi_set_error(rt, RCY_ERUNTIME);
    rows_t new_type = {0}, new_site = {0}, died = {0};
    size_t n_grown = 0, cap_grown = 0;
    rcy_retainer_growth_t *grown = NULL;
    size_t i = 0, j = 0;
    while (i < before->len || j < after->len) {
        const snap_rec_t *b = i < before->len ? &before->recs[i] : NULL;
        const snap_rec_t *a = j < after->len ? &after->recs[j] : NULL;
        if (a == NULL || (b != NULL && b->id < a->id)) {
            if (rows_add(rt, &died, b->type_name, b->bytes) < 0)
                goto nomem;
            out->died_objects++;
            out->died_bytes += b->bytes;
            i++;
        } else if (b == NULL || a->id < b->id) {
            if (rows_add(rt, &new_type, a->type_name, a->bytes) < 0 ||
                rows_add(rt, &new_site, a->site != NULL ? a->site : UNKNOWN_SITE, a->bytes) < 0)
                goto nomem;
            out->new_objects++;
            out->new_bytes += a->bytes;
            j++;
        } else {
            if (a->retained > b->retained) {
                if (n_grown == cap_grown) {
                    rcy_retainer_growth_t *g = rcyi_array_grow(rt, grown, &cap_grown, 64, sizeof *g);
                    if (g == NULL)
                        goto nomem;
                    grown = g;
                }
                rcy_retainer_growth_t *g = &grown[n_grown++];
                g->id = a->id;
                g->type_name = a->type_name;
                g->site = a->site;
                g->bytes_before = (size_t)b->retained;
                g->bytes_after = (size_t)a->retained;
                g->delta = (intptr_t)(a->retained - b->retained);
                g->objects_before = b->retained_objects;
                g->objects_after = a->retained_objects;
            }
            i++;
            j++;
        }
    }
    finish_rows(&new_type, limit, &out->new_by_type, &out->n_new_by_type);
    finish_rows(&new_site, limit, &out->new_by_site, &out->n_new_by_site);
    finish_rows(&died, limit, &out->died_by_type, &out->n_died_by_type);
    if (n_grown > 0)
        qsort(grown, n_grown, sizeof *grown, by_growth);
    out->grown = grown;
    out->n_grown = limit > 0 && n_grown > limit ? limit : n_grown;
    return 0;
nomem:
    rcyi_free(rt, new_type.items);
    rcyi_free(rt, new_site.items);
    rcyi_free(rt, died.items);
    rcyi_free(rt, grown);
    memset(out, 0, sizeof *out);
    out->rt = rt;
    return rcyi_set_error(rt, RCY_ENOMEM);
}

static void show_rows(rcy_runtime_t *rt, FILE *out, const char *title, const rcy_typestat_t *rows, size_t n)
{
    rcyi_out(rt, out, "%s\n", title);
    int w = 4;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(rows[i].name);
        if (len > (size_t)w)
            w = len > 60 ? 60 : (int)len;
    }
    for (size_t i = 0; i < n; i++)
        rcyi_out(rt, out, "  %-*s %+9zd %+12zd bytes\n", w, rows[i].name, (ptrdiff_t)rows[i].count,
                 (ptrdiff_t)rows[i].bytes);
}

int rcy_snapshot_diff_show(const rcy_snapshot_diff_t *d, FILE *out)
{
    if (d == NULL || d->rt == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = d->rt;
    RCYI_CHECK_RT(rt);
    rcyi_out(rt, out, "new objects: %zu (%zu bytes); died: %zu (%zu bytes)\n", d->new_objects, d->new_bytes,
             d->died_objects, d->died_bytes);
    show_rows(rt, out, "new by type:", d->new_by_type, d->n_new_by_type);
    show_rows(rt, out, "new by site:", d->new_by_site, d->n_new_by_site);
    /* Died rows are counts of deaths: shown negative. */
    rcyi_out(rt, out, "died by type:\n");
    for (size_t i = 0; i < d->n_died_by_type; i++)
        rcyi_out(rt, out, "  %-20s %9zd %12zd bytes\n", d->died_by_type[i].name, -(ptrdiff_t)d->died_by_type[i].count,
                 -(ptrdiff_t)d->died_by_type[i].bytes);
    rcyi_out(rt, out, "retainers that grew most:\n");
    for (size_t i = 0; i < d->n_grown; i++) {
        const rcy_retainer_growth_t *g = &d->grown[i];
        rcyi_out(rt, out, "  #%llu %-16s %12zu -> %12zu bytes (%+td), %zu -> %zu objects%s%s\n",
                 (unsigned long long)g->id, g->type_name, g->bytes_before, g->bytes_after, (ptrdiff_t)g->delta,
                 g->objects_before, g->objects_after, g->site ? " at " : "", g->site ? g->site : "");
    }
    return 0;
}

rcy_object_t *rcy_object_from_id(rcy_runtime_t *rt, uint64_t id)
{
    if (rt == NULL || id == 0)
        return NULL;
    RCYI_CHECK_RT(rt);
    const rcyi_trace_t *t = rt->trace;
    if (t == NULL || t->map == NULL)
        return NULL;
    for (size_t i = 0; i <= t->mask; i++) {
        if (t->map[i].obj != NULL && t->map[i].id == id)
            return rcy_newref((rcy_object_t *)(uintptr_t)t->map[i].obj);
    }
    return NULL;
}
