/*
 * The HTML heap report: one self-contained file (report_page.h holds its
 * style and script) with the heap's data embedded as JSON. It shows the
 * largest retainers (at most REPORT_OBJECTS), the dominators that lead to
 * them (so the tree is connected) and the shortest chain of references
 * from a root to each of them (a breadth-first search from all roots at
 * once), cut at REPORT_CHAIN_OBJECTS more objects.
 */
#include "heaptools.h"

#include "report_page.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_OBJECTS 2000
#define REPORT_CHAIN_OBJECTS 4000

typedef struct report_s {
    rcyi_dump_t dp;
    uint32_t *bfs_edge; /* node -> the edge it was reached by, RCYI_NO_NODE for a root */
    uint8_t *shown;     /* node -> 0, 1 (in the tree), 2 (on a chain only) */
    uint32_t *list;     /* shown nodes */
    size_t n_list;
    uint32_t *top;
    int n_top;
} report_t;

static int bfs(rcy_runtime_t *rt, report_t *r)
{
    const rcyi_heap_t *h = &r->dp.h;
    const rcyi_domtree_t *d = &r->dp.d;
    uint32_t *queue = rcyi_malloc_array(rt, h->n ? h->n : 1, sizeof *queue);
    uint8_t *seen = rcyi_malloc_array(rt, h->n ? h->n : 1, 1);
    if (queue == NULL || seen == NULL) {
        rcyi_free(rt, queue);
        rcyi_free(rt, seen);
        return RCY_ENOMEM;
    }
    memset(seen, 0, h->n);
    size_t head = 0, tail = 0;
    /* Registered roots first, then the others, as the dominator tree's. */
    for (int kind = RCYI_DOM_REGISTERED; kind <= RCYI_DOM_UNREACHED; kind++) {
        for (uint32_t i = 0; i < h->n; i++) {
            if (d->root_kind[i] == kind && !seen[i]) {
                seen[i] = 1;
                r->bfs_edge[i] = RCYI_NO_NODE;
                queue[tail++] = i;
            }
        }
    }
    while (head < tail) {
        uint32_t v = queue[head++];
        for (size_t e = h->out_start[v]; e < h->out_start[v + 1]; e++) {
            uint32_t w = h->dst[e];
            if (seen[w])
                continue;
            seen[w] = 1;
            r->bfs_edge[w] = (uint32_t)e;
            queue[tail++] = w;
        }
    }
    rcyi_free(rt, queue);
    rcyi_free(rt, seen);
    return 0;
}

static bool show(report_t *r, uint32_t i, uint8_t how)
{
    if (r->shown[i] != 0) {
        if (how == 1)
            r->shown[i] = 1;
        return false;
    }
    r->shown[i] = how;
    r->list[r->n_list++] = i;
    return true;
}

static int choose(rcy_runtime_t *rt, report_t *r)
{
    const rcyi_heap_t *h = &r->dp.h;
    const rcyi_domtree_t *d = &r->dp.d;
    size_t want = h->n < REPORT_OBJECTS ? h->n : REPORT_OBJECTS;
    r->top = rcyi_malloc_array(rt, want ? want : 1, sizeof *r->top);
    r->shown = rcyi_malloc_array(rt, h->n ? h->n : 1, 1);
    r->list = rcyi_malloc_array(rt, want * 2 + REPORT_CHAIN_OBJECTS + 1, sizeof *r->list);
    r->bfs_edge = rcyi_malloc_array(rt, h->n ? h->n : 1, sizeof *r->bfs_edge);
    if (r->top == NULL || r->shown == NULL || r->list == NULL || r->bfs_edge == NULL)
        return RCY_ENOMEM;
    memset(r->shown, 0, h->n);
    int n_top = rcyi_domtree_top(rt, d, want, r->top);
    if (n_top < 0)
        return n_top;
    r->n_top = n_top;
    if (bfs(rt, r) < 0)
        return RCY_ENOMEM;
    /* The largest retainers and their dominators: a dominator retains at
       least as much as what it dominates, so it is mostly among them
       already; the walk up stops at the first one shown. */
    for (int k = 0; k < n_top; k++) {
        for (uint32_t i = r->top[k]; i != h->n && r->n_list < want * 2; i = rcyi_domtree_idom(d, i)) {
            if (!show(r, i, 1))
                break;
        }
    }
    /* Their chains, within the budget. */
    size_t budget = r->n_list + REPORT_CHAIN_OBJECTS;
    size_t end = r->n_list;
    for (size_t k = 0; k < end && r->n_list < budget; k++) {
        for (uint32_t i = r->list[k]; r->bfs_edge[i] != RCYI_NO_NODE && r->n_list < budget;) {
            i = rcyi_heap_edge_src(h, r->bfs_edge[i]);
            if (!show(r, i, 2))
                break;
        }
    }
    return 0;
}

static void free_report(rcy_runtime_t *rt, report_t *r)
{
    rcyi_free(rt, r->bfs_edge);
    rcyi_free(rt, r->shown);
    rcyi_free(rt, r->list);
    rcyi_free(rt, r->top);
    rcyi_dump_finish(rt, &r->dp);
}

/* Type rows: census figures and the walk's, merged by name. */
static int write_types(rcy_runtime_t *rt, FILE *f, const report_t *r)
{
    const rcyi_heap_t *h = &r->dp.h;
    const rcyi_types_t *ti = &r->dp.ti;
    size_t *count = rcyi_malloc_array(rt, ti->n ? ti->n * 2 : 2, sizeof *count);
    if (count == NULL)
        return RCY_ENOMEM;
    size_t *bytes = count + ti->n;
    memset(count, 0, ti->n * 2 * sizeof *count);
    for (uint32_t i = 0; i < h->n; i++) {
        if (rcyi_is_static_singleton(rt, h->objs[i]))
            continue;
        size_t k = rcyi_types_find(ti, h->objs[i]->type);
        count[k]++;
        bytes[k] += rcyi_object_size(h->objs[i]);
    }
    fputs("\"types\":[", f);
    bool first = true;
    for (size_t k = 0; k < ti->n; k++) {
        const rcy_type_t *t = ti->types[k];
        /* the first type of each name carries the name's totals */
        bool earlier = false;
        for (size_t j = 0; j < k && !earlier; j++)
            earlier = strcmp(ti->types[j]->name, t->name) == 0;
        if (earlier)
            continue;
        size_t live = 0, live_bytes = 0, walk = 0, walk_bytes = 0;
        for (size_t j = k; j < ti->n; j++) {
            if (strcmp(ti->types[j]->name, t->name) != 0)
                continue;
            size_t tb;
            live += rcyi_type_live(ti->types[j], &tb);
            live_bytes += tb;
            walk += count[j];
            walk_bytes += bytes[j];
        }
        if (live == 0 && walk == 0)
            continue;
        fputs(first ? "[" : ",[", f);
        first = false;
        rcyi_json_string(f, t->name, true);
        fprintf(f, ",%zu,%zu,%zu,%zu]", live, live_bytes, walk, walk_bytes);
    }
    fputs("]", f);
    rcyi_free(rt, count);
    return 0;
}

static int cmp_site_bytes(const void *a, const void *b)
{
    const rcy_typestat_t *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int write_sites(rcy_runtime_t *rt, FILE *f)
{
    rcy_typestats_t s;
    if (rcyi_site_stats(rt, &s, false) < 0)
        return RCY_ENOMEM;
    qsort(s.items, s.len, sizeof *s.items, cmp_site_bytes);
    fputs("\"sites\":[", f);
    for (size_t i = 0; i < s.len; i++) {
        fputs(i ? ",[" : "[", f);
        rcyi_json_string(f, s.items[i].name, true);
        fprintf(f, ",%zu,%zu]", s.items[i].count, s.items[i].bytes);
    }
    fputs("]", f);
    rcy_typestats_release(&s);
    return 0;
}

static void write_object(FILE *f, const report_t *r, uint32_t i)
{
    const rcyi_heap_t *h = &r->dp.h;
    const rcyi_domtree_t *d = &r->dp.d;
    rcy_runtime_t *rt = h->rt;
    rcy_object_t *o = h->objs[i];
    fprintf(f, "[%" PRIu32 ",%" PRIu64 ",", i, rcyi_object_id_peek(rt, o));
    rcyi_json_string(f, o->type->name, true);
    fprintf(f, ",%zu,", rcyi_object_size(o));
    char desc[128];
    rcy_describe(o, desc, sizeof desc); /* user code: the snapshot is held */
    rcyi_json_string(f, desc, true);
    const rcyi_site_t *site = rcyi_object_site(rt, o);
    fputc(',', f);
    if (site != NULL)
        rcyi_json_string(f, site->name, true);
    else
        fputs("null", f);
    const char *root = rcyi_heap_is_root(h, i) ? rcyi_root_name(rt, o) : NULL;
    fputc(',', f);
    if (root != NULL)
        rcyi_json_string(f, root, true);
    else
        fputs("null", f);
    const char *kind = rcyi_root_kind_json(d->root_kind[i]);
    if (kind != NULL)
        fprintf(f, ",\"%s\"", kind);
    else
        fputs(",null", f);
    uint32_t dom = rcyi_domtree_idom(d, i);
    fprintf(f, ",%" PRId64 ",%" PRIu64 ",%" PRIu32, dom == h->n ? (int64_t)-1 : (int64_t)dom, rcyi_domtree_bytes(d, i),
            rcyi_domtree_objects(d, i));
    uint32_t e = r->bfs_edge[i];
    char label[160] = "";
    uint32_t from = e != RCYI_NO_NODE ? rcyi_heap_edge_src(h, e) : RCYI_NO_NODE;
    if (e != RCYI_NO_NODE) {
        rcyi_edge_t edge = rcyi_heap_edge(h, from, e);
        rcyi_edge_label(&edge, RCYI_LABEL_PATH, label, sizeof label);
    }
    fprintf(f, ",%" PRId64 ",", e == RCYI_NO_NODE ? (int64_t)-1 : (int64_t)from);
    rcyi_json_string(f, label, true);
    if (rcy_is_immortal(o))
        fputs(",\"immortal\"", f);
    else
        fprintf(f, ",%td", (ptrdiff_t)rcyi_heap_external(h, i));
    fprintf(f, ",%d]", r->shown[i] == 1 ? 1 : 0);
}

int rcy_heap_report(rcy_runtime_t *rt, const char *path)
{
    if (rt == NULL || path == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    report_t r;
    memset(&r, 0, sizeof r);
    int err = rcyi_dump_prepare(rt, &r.dp, "rcy_heap_report");
    if (err < 0)
        return err;
    if (choose(rt, &r) < 0) {
        free_report(rt, &r);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        free_report(rt, &r);
        return rcyi_set_error(rt, RCY_ESTATE);
    }
    const rcyi_heap_t *h = &r.dp.h;
    size_t bytes = 0, roots = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        bytes += rcyi_object_size(h->objs[i]);
        roots += r.dp.d.root_kind[i] != RCYI_DOM_NOT_ROOT;
    }
    fputs(report_head, f);
    fputs("<body data-status=\"loading\">\n<header><h1>recycle heap report</h1><p id=\"summary\">"
          "This report needs JavaScript (inline, no network).</p></header>\n"
          "<main><div>\n"
          "<section><h2>Largest retainers</h2><div class=\"scroll\" id=\"retainers\"></div></section>\n"
          "<section><h2>Dominator tree</h2><p class=\"more\">Each object retains what only it keeps alive; "
          "click \u25b8 to expand, an object to see its chain.</p><div id=\"tree\"></div></section>\n"
          "<section><h2>Types</h2><div class=\"scroll\" id=\"types\"></div></section>\n"
          "</div><div>\n"
          "<section><input id=\"search\" placeholder=\"find: #id, type or site, then Enter\"></section>\n"
          "<section id=\"object\"></section>\n"
          "<section><h2>Allocation sites</h2><div class=\"scroll\" id=\"sites\"></div></section>\n"
          "<section><div id=\"errors\"></div></section>\n"
          "</div></main>\n",
          f);
    fputs("<script id=\"heap-data\" type=\"application/json\">{", f);
    fprintf(f, "\"summary\":{\"objects\":%" PRIu32 ",\"bytes\":%zu,\"edges\":%zu,\"shown\":%zu,\"roots\":%zu},", h->n,
            bytes, h->n_edges, r.n_list, roots);
    if (write_types(rt, f, &r) < 0 || (fputc(',', f), write_sites(rt, f)) < 0) {
        fclose(f);
        free_report(rt, &r);
        return rcyi_set_error(rt, RCY_ENOMEM);
    }
    fputs(",\"top\":[", f);
    int n_top = r.n_top < 50 ? r.n_top : 50;
    for (int k = 0; k < n_top; k++)
        fprintf(f, "%s%" PRIu32, k ? "," : "", r.top[k]);
    fputs("],\"objects\":[", f);
    for (size_t k = 0; k < r.n_list; k++) {
        if (k)
            fputs(",\n", f);
        write_object(f, &r, r.list[k]);
    }
    fputs("]}</script>\n", f);
    fputs(report_script, f);
    fputs("</body>\n</html>\n", f);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0)
        failed = true;
    free_report(rt, &r);
    return failed ? rcyi_set_error(rt, RCY_ESTATE) : 0;
}
