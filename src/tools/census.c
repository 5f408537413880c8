/*
 * The census (objgraph's count, typestats, most_common_types,
 * show_most_common_types, by_type) and growth (growth, show_growth).
 *
 * Counts come from the per-type counters that allocation and freeing keep
 * (rcyi_type_live: rcy_type_t.held_objects / held_bytes, less what the
 * free lists keep), so a census costs O(number of
 * types), not a heap walk, and sees untracked objects (ints, strs) that
 * objgraph cannot. Types that share a name are counted together, as
 * objgraph's shortnames do. Only by_type walks the heap (tools.h).
 */
#include "heaptools.h"

#include <stdlib.h>
#include <string.h>

/* ---- Counting -------------------------------------------------------- */

static void count_name(const rcy_runtime_t *rt, const char *name, size_t *count, size_t *bytes)
{
    *count = *bytes = 0;
    if (rt == NULL || name == NULL)
        return;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type) {
        if (strcmp(t->name, name) == 0) {
            size_t tb;
            *count += rcyi_type_live(t, &tb);
            *bytes += tb;
        }
    }
}

size_t rcy_census_count(const rcy_runtime_t *rt, const char *type_name)
{
    if (rt != NULL)
        RCYI_CHECK_RT(rt);
    size_t count, bytes;
    count_name(rt, type_name, &count, &bytes);
    return count;
}

size_t rcy_census_bytes(const rcy_runtime_t *rt, const char *type_name)
{
    if (rt != NULL)
        RCYI_CHECK_RT(rt);
    size_t count, bytes;
    count_name(rt, type_name, &count, &bytes);
    return bytes;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const rcy_typestat_t *)a)->name, ((const rcy_typestat_t *)b)->name);
}

size_t rcyi_typestats_merge(rcy_typestat_t *rows, size_t n)
{
    qsort(rows, n, sizeof *rows, by_name);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && strcmp(rows[m - 1].name, rows[i].name) == 0) {
            rows[m - 1].count += rows[i].count;
            rows[m - 1].bytes += rows[i].bytes;
        } else {
            rows[m++] = rows[i];
        }
    }
    return m;
}

static int by_count(const void *a, const void *b)
{
    const rcy_typestat_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Every type name with its totals (live ones only unless all_names), sorted
   by name. */
static int collect_stats(rcy_runtime_t *rt, rcy_typestats_t *out, bool all_names)
{
    out->items = NULL;
    out->len = 0;
    out->rt = rt;
    size_t ntypes = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type)
        ntypes++;
    rcy_typestat_t *rows = rcyi_malloc_array(rt, ntypes ? ntypes : 1, sizeof *rows);
    if (rows == NULL)
        return RCY_ENOMEM;
    size_t n = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type) {
        size_t bytes, live = rcyi_type_live(t, &bytes);
        if (live == 0 && !all_names)
            continue;
        rows[n].name = t->name;
        rows[n].count = live;
        rows[n].bytes = bytes;
        n++;
    }
    /* Merge the rows of types that share a name. */
    out->items = rows;
    out->len = rcyi_typestats_merge(rows, n);
    return 0;
}

int rcy_census_typestats(rcy_runtime_t *rt, rcy_typestats_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    return collect_stats(rt, out, false);
}

int rcy_census_most_common_types(rcy_runtime_t *rt, size_t limit, rcy_typestats_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    int err = collect_stats(rt, out, false);
    if (err < 0)
        return err;
    qsort(out->items, out->len, sizeof *out->items, by_count);
    if (limit > 0 && out->len > limit)
        out->len = limit;
    return 0;
}

void rcy_typestats_release(rcy_typestats_t *s)
{
    if (s == NULL || s->rt == NULL)
        return;
    RCYI_CHECK_RT(s->rt);
    rcyi_free(s->rt, s->items);
    s->items = NULL;
    s->len = 0;
}

/* Names are padded to the widest (at most 60 columns), as objgraph does. */
static int pad(int w, const char *name)
{
    size_t len = strlen(name);
    return len > (size_t)w ? (len > 60 ? 60 : (int)len) : w;
}

int rcy_census_show_most_common_types(rcy_runtime_t *rt, size_t limit, FILE *out)
{
    rcy_typestats_t s;
    int err = rcy_census_most_common_types(rt, limit, &s);
    if (err < 0)
        return err;
    int w = 0;
    for (size_t i = 0; i < s.len; i++)
        w = pad(w, s.items[i].name);
    for (size_t i = 0; i < s.len; i++)
        rcyi_out(rt, out, "%-*s %9zu %12zu bytes\n", w, s.items[i].name, s.items[i].count, s.items[i].bytes);
    rcy_typestats_release(&s);
    return 0;
}

/* ---- by_type --------------------------------------------------------- */

int rcy_census_by_type(rcy_runtime_t *rt, const char *type_name, rcy_objarray_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    if (rcyi_objarray_start(rt, out) < 0)
        return RCY_EINVAL;
    if (type_name == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    size_t count, bytes;
    count_name(rt, type_name, &count, &bytes);
    if (count == 0)
        return 0;
    rcyi_heap_t h;
    int err = rcyi_heap_build(rt, &h, NULL, 0, 0, "rcy_census_by_type");
    if (err < 0)
        return err;
    for (uint32_t i = 0; i < h.n && out->len < count; i++) {
        rcy_object_t *o = h.objs[i];
        if (strcmp(o->type->name, type_name) != 0 || rcyi_is_static_singleton(rt, o))
            continue;
        if (rcyi_objarray_append(out, o) < 0) {
            rcyi_heap_free(&h);
            rcy_objarray_release(out);
            out->rt = rt;
            return rcyi_set_error(rt, RCY_ENOMEM);
        }
    }
    rcyi_heap_free(&h);
    return 0;
}

/* ---- Growth ---------------------------------------------------------- */

typedef struct growth_entry_s {
    const char *name; /* borrowed from a type: lives as long as the runtime */
    size_t last_count, last_bytes, peak;
} growth_entry_t;

struct rcy_growth_s {
    rcy_runtime_t *rt;
    bool by_site; /* rows by allocation site instead of type name */
    growth_entry_t *entries; /* sorted by name */
    size_t len;
};

rcy_growth_t *rcy_growth_new(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    rcy_growth_t *g = rcyi_malloc(rt, sizeof *g);
    if (g == NULL)
        return NULL;
    g->rt = rt;
    g->by_site = false;
    g->entries = NULL;
    g->len = 0;
    return g;
}

rcy_growth_t *rcy_growth_new_by_site(rcy_runtime_t *rt)
{
    rcy_growth_t *g = rcy_growth_new(rt);
    if (g != NULL)
        g->by_site = true;
    return g;
}

void rcy_growth_free(rcy_growth_t *g)
{
    if (g == NULL)
        return;
    RCYI_CHECK_RT(g->rt);
    rcyi_free(g->rt, g->entries);
    rcyi_free(g->rt, g);
}

void rcy_growth_options_init(rcy_growth_options_t *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->limit = 10;
    opts->collect = 1;
    opts->since = RCY_GROWTH_SINCE_PEAK;
}

static const growth_entry_t *find_entry(const rcy_growth_t *g, const char *name)
{
    size_t lo = 0, hi = g->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(g->entries[mid].name, name);
        if (c == 0)
            return &g->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cmp_delta_peak(const rcy_growth_row_t *x, const rcy_growth_row_t *y)
{
    if (x->delta_peak != y->delta_peak)
        return x->delta_peak > y->delta_peak ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_delta_last(const rcy_growth_row_t *x, const rcy_growth_row_t *y)
{
    if (x->delta != y->delta)
        return x->delta > y->delta ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int qsort_peak(const void *a, const void *b) { return cmp_delta_peak(a, b); }
static int qsort_last(const void *a, const void *b) { return cmp_delta_last(a, b); }

int rcy_growth(rcy_growth_t *g, const rcy_growth_options_t *opts, rcy_growth_report_t *out)
{
    if (g == NULL || out == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = g->rt;
    RCYI_CHECK_RT(rt);
    out->items = NULL;
    out->len = 0;
    out->rt = rt;
    rcy_growth_options_t defaults;
    if (opts == NULL) {
        rcy_growth_options_init(&defaults);
        opts = &defaults;
    }
    if (!RCYI_SIZE_OK(opts))
        return rcyi_set_error(rt, RCY_EINVAL);
    if (opts->since != RCY_GROWTH_SINCE_PEAK && opts->since != RCY_GROWTH_SINCE_LAST)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (opts->collect)
        rcy_gc_collect(rt, RCY_NUM_GENERATIONS - 1);

    /* Every name, dead ones too, so that a type that dropped to zero
       starts again from zero next time. */
    rcy_typestats_t now;
    if ((g->by_site ? rcyi_site_stats(rt, &now, true) : collect_stats(rt, &now, true)) < 0)
        return RCY_ENOMEM;
    rcy_growth_row_t *rows = rcyi_malloc_array(rt, now.len ? now.len : 1, sizeof *rows);
    growth_entry_t *entries = rcyi_malloc_array(rt, now.len ? now.len : 1, sizeof *entries);
    if (rows == NULL || entries == NULL) {
        rcyi_free(rt, rows);
        rcyi_free(rt, entries);
        rcy_typestats_release(&now);
        return RCY_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < now.len; i++) {
        const rcy_typestat_t *s = &now.items[i];
        const growth_entry_t *old = find_entry(g, s->name);
        size_t last = old ? old->last_count : 0, last_bytes = old ? old->last_bytes : 0, peak = old ? old->peak : 0;
        rcy_growth_row_t r;
        r.name = s->name;
        r.count = s->count;
        r.delta = (intptr_t)s->count - (intptr_t)last;
        r.delta_peak = (intptr_t)s->count - (intptr_t)peak;
        r.bytes = s->bytes;
        r.bytes_delta = (intptr_t)s->bytes - (intptr_t)last_bytes;
        if (opts->since == RCY_GROWTH_SINCE_LAST ? r.delta > 0 : r.delta_peak > 0)
            rows[n++] = r;
        entries[i].name = s->name;
        entries[i].last_count = s->count;
        entries[i].last_bytes = s->bytes;
        entries[i].peak = s->count > peak ? s->count : peak;
    }
    qsort(rows, n, sizeof *rows, opts->since == RCY_GROWTH_SINCE_LAST ? qsort_last : qsort_peak);
    if (opts->limit > 0 && n > opts->limit)
        n = opts->limit;
    rcyi_free(rt, g->entries);
    g->entries = entries;
    g->len = now.len;
    rcy_typestats_release(&now);
    out->items = rows;
    out->len = n;
    return 0;
}

void rcy_growth_report_release(rcy_growth_report_t *r)
{
    if (r == NULL || r->rt == NULL)
        return;
    RCYI_CHECK_RT(r->rt);
    rcyi_free(r->rt, r->items);
    r->items = NULL;
    r->len = 0;
}

int rcy_show_growth(rcy_growth_t *g, const rcy_growth_options_t *opts, FILE *out)
{
    rcy_growth_report_t r;
    int err = rcy_growth(g, opts, &r);
    if (err < 0)
        return err;
    int w = 0;
    for (size_t i = 0; i < r.len; i++)
        w = pad(w, r.items[i].name);
    for (size_t i = 0; i < r.len; i++)
        rcyi_out(g->rt, out, "%-*s %9zu %+9td %+9td\n", w, r.items[i].name, r.items[i].count,
                 (ptrdiff_t)r.items[i].delta, (ptrdiff_t)r.items[i].delta_peak);
    rcy_growth_report_release(&r);
    return 0;
}
